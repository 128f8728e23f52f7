/* txn: matching messages to transactions, branches, and the transaction table (RFC 3261 17.1.3, 17.2.3, 9.2). */
#include <errno.h>
#include <string.h>

#include "txn/txn.h"

#define TABLE_MIN_BUCKETS 64u

/* One generation of buckets: b by sipcx_txn_hash(), mb by merge key; one allocation. */
struct sipcx__txn_buckets {
	struct sipcx_txn **b;
	struct sipcx_txn **mb; /* server transactions only (8.2.2.2) */
	size_t nb;             /* chains in each; a power of two, 0 when none */
};

struct sipcx_txn_table {
	struct sipcx__txn_buckets cur;
	struct sipcx__txn_buckets old; /* being moved into cur, or none */
	size_t moved;                  /* old buckets [0, moved) are moved (empty) */
	size_t count;
};

bool sipcx__txn_has_cookie(struct sipcx_str branch)
{
	return branch.len >= 7 && memcmp(branch.p, SIPCX_TXN_COOKIE, 7) == 0;
}

uint32_t sipcx__txn_hash_branch(struct sipcx_str branch)
{
	return sipcx__hash_mix(sipcx__fnv32_str(SIPCX__FNV32_INIT, branch));
}

uint32_t sipcx__txn_hash_2543(struct sipcx_str call_id, uint32_t cseq)
{
	/* Fields equal in an INVITE, its ACK and its CANCEL (the To tag and method are not). */
	return sipcx__hash_mix(
	    sipcx__fnv32_u32(sipcx__fnv32_str(SIPCX__FNV32_INIT, call_id), cseq));
}

uint32_t sipcx__txn_hash_merge(struct sipcx_str call_id, struct sipcx_str from_tag, uint32_t cseq)
{
	uint32_t h = sipcx__fnv32_str(SIPCX__FNV32_INIT, call_id);
	h = sipcx__fnv32_str(h ^ 0x5bd1e995u, from_tag);
	return sipcx__hash_mix(sipcx__fnv32_u32(h, cseq));
}

void sipcx_txn_gen_branch(char out[SIPCX_TXN_BRANCH_SIZE])
{
	memcpy(out, SIPCX_TXN_COOKIE, 7);
	sipcx_random_token(out + 7, SIPCX_TXN_BRANCH_SIZE - 8);
}

int sipcx_txn_msg_hash(const struct sipcx_msg *m, uint32_t *hash)
{
	if (!m || !hash)
		return -EINVAL;
	const struct sipcx_via *via = sipcx_msg_via(m);
	if (!via)
		return -EBADMSG;
	/* Client transactions are always keyed by branch: we generate it. */
	if (!m->request || sipcx__txn_has_cookie(via->branch)) {
		if (via->branch.len == 0)
			return -EBADMSG;
		*hash = sipcx__txn_hash_branch(via->branch);
		return 0;
	}
	const struct sipcx_cseq *c = sipcx_msg_cseq(m);
	if (!c)
		return -EBADMSG;
	*hash = sipcx__txn_hash_2543(sipcx_msg_call_id(m), c->num);
	return 0;
}

uint32_t sipcx_txn_hash(const struct sipcx_txn *t)
{
	return t ? t->hash : 0;
}

static bool is_client(const struct sipcx_txn *t)
{
	return t->kind == SIPCX_TXN_ICT || t->kind == SIPCX_TXN_NICT;
}

bool sipcx__txn_same_method(const struct sipcx_txn *t, const struct sipcx_msg *m)
{
	if (t->method != SIPCX_METHOD_OTHER || m->method != SIPCX_METHOD_OTHER)
		return t->method == m->method;
	return sipcx_str_eq(sipcx__txn_key(t, SIPCX__K_METHOD), m->method_str);
}

/* 17.1.3 rule 2: the CSeq method of the response is the method of the request. */
static bool cseq_method_is(const struct sipcx_txn *t, const struct sipcx_msg *m)
{
	const struct sipcx_cseq *c = sipcx_msg_cseq(m);
	if (!c)
		return false;
	if (t->method != SIPCX_METHOD_OTHER)
		return sipcx_msg_cseq_method(m) == t->method;
	return sipcx_str_eq(c->method, sipcx__txn_key(t, SIPCX__K_METHOD));
}

/* 17.2.3: the sent-by (host and port) of the top Via, as in the request of t. */
static bool same_sent_by(const struct sipcx_txn *t, const struct sipcx_via *v)
{
	return v->port == t->via_port && sipcx_str_ieq(v->host, sipcx__txn_key(t, SIPCX__K_HOST));
}

static bool same_via_2543(const struct sipcx_txn *t, const struct sipcx_via *v)
{
	return same_sent_by(t, v) &&
	       sipcx_str_ieq(v->transport, sipcx__txn_key(t, SIPCX__K_TRANSPORT)) &&
	       sipcx_str_ieq(v->params, sipcx__txn_key(t, SIPCX__K_PARAMS));
}

static struct sipcx_str tag_of(const struct sipcx_addr *a)
{
	return a ? a->tag : SIPCX_STR_NULL;
}

/* Request-URIs compare by 19.1.4 when both parse, else byte by byte. */
static bool same_ruri(const struct sipcx_txn *t, const struct sipcx_msg *m)
{
	struct sipcx_str kept = sipcx__txn_key(t, SIPCX__K_RURI);
	struct sipcx_uri u;
	const struct sipcx_uri *um = sipcx_msg_ruri(m);
	if (um && sipcx_uri_parse(&u, kept) == 0)
		return sipcx_uri_equal(&u, um);
	return sipcx_str_eq(kept, m->ruri);
}

enum match_2543 { M_SAME_METHOD, M_ACK, M_CANCEL };

/*
 * 17.2.3, RFC 2543 peers: Request-URI, From tag, Call-ID, CSeq number and
 * top Via as in the request that made t; the To tag as in it too, except
 * for the ACK (the To tag of our final response) and the method as in it,
 * except for the ACK (of an INVITE) and a CANCEL looking for its request
 * (9.2). All from the keys: the request itself may be gone.
 */
static bool match_2543(const struct sipcx_txn *t, const struct sipcx_msg *m, enum match_2543 how)
{
	const struct sipcx_cseq *cm = sipcx_msg_cseq(m);
	const struct sipcx_via *vm = sipcx_msg_via(m);
	if (!cm || !vm || cm->num != t->cseq)
		return false;
	if (!sipcx_str_eq(sipcx_msg_call_id(m), sipcx__txn_key(t, SIPCX__K_CALL_ID)) ||
	    !sipcx_str_eq(tag_of(sipcx_msg_from(m)), sipcx__txn_key(t, SIPCX__K_FROM_TAG)) ||
	    !same_via_2543(t, vm) || !same_ruri(t, m))
		return false;
	struct sipcx_str to_tag = tag_of(sipcx_msg_to(m));
	switch (how) {
	case M_ACK:
		/* The last final response sent is in out_p, its To tag at resp_tag. */
		return t->method == SIPCX_METHOD_INVITE && t->status >= 200 && t->out_p &&
		       sipcx_str_eq(to_tag, (struct sipcx_str){ t->out_p + t->resp_tag.off,
		                                                t->resp_tag.len });
	case M_CANCEL:
		return sipcx_str_eq(to_tag, sipcx__txn_key(t, SIPCX__K_TO_TAG));
	case M_SAME_METHOD:
	default:
		return sipcx__txn_same_method(t, m) &&
		       sipcx_str_eq(to_tag, sipcx__txn_key(t, SIPCX__K_TO_TAG));
	}
}

bool sipcx_txn_match(const struct sipcx_txn *t, const struct sipcx_msg *m)
{
	if (!t || !m || t->state == SIPCX_TXN_TERMINATED || m->request == is_client(t))
		return false;
	const struct sipcx_via *via = sipcx_msg_via(m);
	if (!via)
		return false;
	if (is_client(t))
		return via->branch.len && sipcx_str_eq(via->branch, sipcx_txn_branch(t)) &&
		       cseq_method_is(t, m);
	bool ack = m->method == SIPCX_METHOD_ACK;
	if (t->rfc2543) {
		if (sipcx__txn_has_cookie(via->branch))
			return false;
		return match_2543(t, m, ack ? M_ACK : M_SAME_METHOD);
	}
	if (!sipcx_str_eq(via->branch, sipcx_txn_branch(t)) || !same_sent_by(t, via))
		return false;
	return ack ? t->method == SIPCX_METHOD_INVITE : sipcx__txn_same_method(t, m);
}

bool sipcx_txn_match_cancel(const struct sipcx_txn *t, const struct sipcx_msg *cancel)
{
	if (!t || !cancel || !cancel->request || cancel->method != SIPCX_METHOD_CANCEL ||
	    is_client(t) || t->state == SIPCX_TXN_TERMINATED || t->method == SIPCX_METHOD_CANCEL)
		return false;
	const struct sipcx_via *via = sipcx_msg_via(cancel);
	if (!via)
		return false;
	if (t->rfc2543)
		return !sipcx__txn_has_cookie(via->branch) && match_2543(t, cancel, M_CANCEL);
	return sipcx_str_eq(via->branch, sipcx_txn_branch(t)) && same_sent_by(t, via);
}

/*
 * The table: two chained indexes of the same transactions, with one
 * bucket count. b: every transaction by sipcx_txn_hash(); mb: server
 * transactions by their 8.2.2.2 merge key, so that a new request finds a
 * transaction it merges with in O(1) however many are live.
 *
 * Growing moves the chains a few buckets per insert or removal instead of
 * all at once: at half a million transactions a whole rehash stops the
 * loop for tens of milliseconds, long enough for a UDP socket buffer to
 * overflow. While old buckets remain, a transaction lives in its old
 * bucket until that bucket moves, in the new one after: each key has one
 * chain to look in.
 */

/* Buckets moved per insert or removal: the move ends long before the next growth. */
#define MOVE_STEP 4u

static bool in_old(const struct sipcx_txn_table *tab, uint32_t h)
{
	return tab->old.nb && (h & (tab->old.nb - 1)) >= tab->moved;
}

static struct sipcx_txn **chain(const struct sipcx_txn_table *tab, uint32_t h)
{
	const struct sipcx__txn_buckets *g = in_old(tab, h) ? &tab->old : &tab->cur;
	return &g->b[h & (g->nb - 1)];
}

static struct sipcx_txn **mchain(const struct sipcx_txn_table *tab, uint32_t mh)
{
	const struct sipcx__txn_buckets *g = in_old(tab, mh) ? &tab->old : &tab->cur;
	return &g->mb[mh & (g->nb - 1)];
}

/*
 * nb chains of each index in one allocation (b, then mb). Buckets that
 * receive moved chains are not zeroed here but when their old bucket
 * moves (move_some()): zeroing megabytes at once would fault in every
 * page in one go, the pause the incremental move is there to avoid.
 */
static int buckets_alloc(struct sipcx__txn_buckets *g, size_t nb, bool zero)
{
	struct sipcx_txn **b =
	    zero ? sipcx_calloc(2 * nb, sizeof(b[0])) : sipcx_malloc(2 * nb * sizeof(b[0]));
	if (!b)
		return -ENOMEM;
	g->b = b;
	g->mb = b + nb;
	g->nb = nb;
	return 0;
}

int sipcx_txn_table_new(struct sipcx_txn_table **out)
{
	if (!out)
		return -EINVAL;
	struct sipcx_txn_table *tab = sipcx_calloc(1, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	if (buckets_alloc(&tab->cur, TABLE_MIN_BUCKETS, true) < 0) {
		sipcx_free(tab);
		return -ENOMEM;
	}
	*out = tab;
	return 0;
}

/* Current bucket k holds chains (it was zeroed): its old bucket, if any, has moved. */
static bool cur_valid(const struct sipcx_txn_table *tab, size_t k)
{
	return !tab->old.nb || (k & (tab->old.nb - 1)) < tab->moved;
}

static void unlink_all(const struct sipcx_txn_table *tab, const struct sipcx__txn_buckets *g,
                       size_t from)
{
	for (size_t i = from; i < g->nb; i++) {
		if (g == &tab->cur && !cur_valid(tab, i))
			continue;
		struct sipcx_txn *t = g->b[i];
		while (t) {
			struct sipcx_txn *next = t->next;
			t->tab = NULL;
			t->next = NULL;
			t->mnext = NULL;
			t = next;
		}
	}
}

void sipcx_txn_table_free(struct sipcx_txn_table *tab)
{
	if (!tab)
		return;
	unlink_all(tab, &tab->cur, 0);
	if (tab->old.nb)
		unlink_all(tab, &tab->old, tab->moved);
	sipcx_free(tab->cur.b);
	sipcx_free(tab->old.b);
	sipcx_free(tab);
}

/* Move up to n old buckets (both indexes) into the current ones. */
static void move_some(struct sipcx_txn_table *tab, size_t n)
{
	struct sipcx__txn_buckets *o = &tab->old, *c = &tab->cur;
	for (; n && tab->moved < o->nb; n--, tab->moved++) {
		/* The new buckets that take old bucket i: i + j * old.nb (twice as many: two). */
		for (size_t k = tab->moved; k < c->nb; k += o->nb)
			c->b[k] = c->mb[k] = NULL;
		for (struct sipcx_txn *t = o->b[tab->moved], *next; t; t = next) {
			next = t->next;
			size_t k = t->hash & (c->nb - 1);
			t->next = c->b[k];
			c->b[k] = t;
		}
		for (struct sipcx_txn *t = o->mb[tab->moved], *next; t; t = next) {
			next = t->mnext;
			size_t k = t->mhash & (c->nb - 1);
			t->mnext = c->mb[k];
			c->mb[k] = t;
		}
		o->b[tab->moved] = o->mb[tab->moved] = NULL;
	}
	if (o->nb && tab->moved == o->nb) {
		sipcx_free(o->b);
		*o = (struct sipcx__txn_buckets){ 0 };
		tab->moved = 0;
	}
}

/*
 * Double the buckets; the chains follow MOVE_STEP buckets at a time.
 * Amortised O(1) per insert with no pause; the table never shrinks (a
 * load that came once may come again).
 */
static void grow(struct sipcx_txn_table *tab)
{
	if (tab->old.nb)
		move_some(tab, SIZE_MAX); /* the last move is not over: finish it first */
	struct sipcx__txn_buckets g;
	if (tab->cur.nb > SIZE_MAX / 4 / sizeof(g.b[0]) ||
	    buckets_alloc(&g, tab->cur.nb * 2, false) < 0)
		return; /* longer chains, still correct */
	tab->old = tab->cur;
	tab->cur = g;
	tab->moved = 0;
}

int sipcx_txn_table_add(struct sipcx_txn_table *tab, struct sipcx_txn *t)
{
	if (!tab || !t)
		return -EINVAL;
	if (t->tab)
		return -EEXIST;
	if (tab->count >= tab->cur.nb)
		grow(tab);
	move_some(tab, MOVE_STEP);
	struct sipcx_txn **head = chain(tab, t->hash);
	t->next = *head;
	*head = t;
	if (!is_client(t)) {
		head = mchain(tab, t->mhash);
		t->mnext = *head;
		*head = t;
	}
	t->tab = tab;
	tab->count++;
	return 0;
}

void sipcx_txn_table_remove(struct sipcx_txn *t)
{
	if (!t || !t->tab)
		return;
	struct sipcx_txn_table *tab = t->tab;
	for (struct sipcx_txn **pp = chain(tab, t->hash); *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			tab->count--;
			break;
		}
	}
	if (!is_client(t)) {
		struct sipcx_txn **pp = mchain(tab, t->mhash);
		while (*pp && *pp != t)
			pp = &(*pp)->mnext;
		if (*pp)
			*pp = t->mnext;
	}
	t->tab = NULL;
	t->next = NULL;
	t->mnext = NULL;
	move_some(tab, MOVE_STEP);
}

size_t sipcx_txn_table_count(const struct sipcx_txn_table *tab)
{
	return tab ? tab->count : 0;
}

struct sipcx_txn *sipcx_txn_table_match(const struct sipcx_txn_table *tab,
                                        const struct sipcx_msg *m)
{
	uint32_t h;
	if (!tab || sipcx_txn_msg_hash(m, &h) < 0)
		return NULL;
	for (struct sipcx_txn *t = *chain(tab, h); t; t = t->next)
		if (t->hash == h && sipcx_txn_match(t, m))
			return t;
	return NULL;
}

struct sipcx_txn *sipcx_txn_table_find_cancelled(const struct sipcx_txn_table *tab,
                                                 const struct sipcx_msg *cancel)
{
	uint32_t h;
	if (!tab || sipcx_txn_msg_hash(cancel, &h) < 0)
		return NULL;
	for (struct sipcx_txn *t = *chain(tab, h); t; t = t->next)
		if (t->hash == h && sipcx_txn_match_cancel(t, cancel))
			return t;
	return NULL;
}

struct sipcx_txn *sipcx_txn_table_find_merged(const struct sipcx_txn_table *tab,
                                              const struct sipcx_msg *m)
{
	if (!tab || !m || !m->request)
		return NULL;
	const struct sipcx_addr *to = sipcx_msg_to(m), *from = sipcx_msg_from(m);
	const struct sipcx_cseq *c = sipcx_msg_cseq(m);
	if (!to || to->tag.len || !from || !c)
		return NULL;
	struct sipcx_str call_id = sipcx_msg_call_id(m);
	uint32_t h = sipcx__txn_hash_merge(call_id, from->tag, c->num);
	for (struct sipcx_txn *t = *mchain(tab, h); t; t = t->mnext) {
		if (t->mhash != h || t->cseq != c->num || t->state == SIPCX_TXN_TERMINATED ||
		    !cseq_method_is(t, m) ||
		    !sipcx_str_eq(from->tag, sipcx__txn_key(t, SIPCX__K_FROM_TAG)) ||
		    !sipcx_str_eq(call_id, sipcx__txn_key(t, SIPCX__K_CALL_ID)))
			continue;
		if (!sipcx_txn_match(t, m))
			return t;
	}
	return NULL;
}

/* The first chain head at or after bucket i of g (up to its end), or NULL. */
static struct sipcx_txn *first_from(const struct sipcx_txn_table *tab,
                                    const struct sipcx__txn_buckets *g, size_t i)
{
	for (; i < g->nb; i++)
		if ((g != &tab->cur || cur_valid(tab, i)) && g->b[i])
			return g->b[i];
	return NULL;
}

struct sipcx_txn *sipcx_txn_table_next(const struct sipcx_txn_table *tab,
                                       const struct sipcx_txn *prev)
{
	if (!tab)
		return NULL;
	/* The current buckets in order, then the old ones not moved yet. */
	struct sipcx_txn *t;
	if (prev) {
		if (prev->tab != tab)
			return NULL;
		if (prev->next)
			return prev->next;
		if (in_old(tab, prev->hash))
			return first_from(tab, &tab->old, (prev->hash & (tab->old.nb - 1)) + 1);
		t = first_from(tab, &tab->cur, (prev->hash & (tab->cur.nb - 1)) + 1);
	} else {
		t = first_from(tab, &tab->cur, 0);
	}
	if (!t && tab->old.nb)
		t = first_from(tab, &tab->old, tab->moved);
	return t;
}
