/* txn: matching messages to transactions, branches, and the transaction table (RFC 3261 17.1.3, 17.2.3, 9.2). */
#include <errno.h>
#include <string.h>

#include "txn/txn.h"

#define TABLE_MIN_BUCKETS 64u

struct sipcx_txn_table {
	struct sipcx_txn **b;
	size_t nb; /* a power of two */
	size_t count;
};

bool sipcx__txn_has_cookie(struct sipcx_str branch)
{
	return branch.len >= 7 && memcmp(branch.p, SIPCX_TXN_COOKIE, 7) == 0;
}

/* FNV-1a: short keys, no seed needed (the branch is random already). */
uint32_t sipcx__txn_hash_str(uint32_t h, struct sipcx_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.p[i];
		h *= 16777619u;
	}
	return h;
}

uint32_t sipcx__txn_hash_2543(const struct sipcx_msg *m)
{
	/* Fields equal in an INVITE, its ACK and its CANCEL (the To tag and method are not). */
	uint32_t h = sipcx__txn_hash_str(SIPCX__TXN_HASH_INIT, sipcx_msg_call_id(m));
	const struct sipcx_cseq *c = sipcx_msg_cseq(m);
	uint32_t num = c ? c->num : 0;
	for (int i = 0; i < 4; i++) {
		h ^= (num >> (8 * i)) & 0xffu;
		h *= 16777619u;
	}
	return h;
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
		*hash = sipcx__txn_hash_str(SIPCX__TXN_HASH_INIT, via->branch);
		return 0;
	}
	if (!sipcx_msg_cseq(m))
		return -EBADMSG;
	*hash = sipcx__txn_hash_2543(m);
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

static bool same_method(const struct sipcx_txn *t, const struct sipcx_msg *m)
{
	if (t->method != SIPCX_METHOD_OTHER || m->method != SIPCX_METHOD_OTHER)
		return t->method == m->method;
	return sipcx_str_eq(t->method_str, m->method_str);
}

/* 17.1.3 rule 2: the CSeq method of the response is the method of the request. */
static bool cseq_method_is(const struct sipcx_txn *t, const struct sipcx_msg *m)
{
	const struct sipcx_cseq *c = sipcx_msg_cseq(m);
	if (!c)
		return false;
	if (t->method != SIPCX_METHOD_OTHER)
		return sipcx_msg_cseq_method(m) == t->method;
	return sipcx_str_eq(c->method, t->method_str);
}

/* 17.2.3: the sent-by (host and port) of two top Vias. */
static bool same_sent_by(const struct sipcx_via *a, const struct sipcx_via *b)
{
	return a->port == b->port && sipcx_str_ieq(a->host, b->host);
}

static bool same_via_2543(const struct sipcx_via *a, const struct sipcx_via *b)
{
	return same_sent_by(a, b) && sipcx_str_ieq(a->transport, b->transport) &&
	       sipcx_str_ieq(a->params, b->params);
}

static struct sipcx_str tag_of(const struct sipcx_addr *a)
{
	return a ? a->tag : SIPCX_STR_NULL;
}

static bool same_ruri(const struct sipcx_msg *a, const struct sipcx_msg *b)
{
	const struct sipcx_uri *ua = sipcx_msg_ruri(a), *ub = sipcx_msg_ruri(b);
	if (ua && ub)
		return sipcx_uri_equal(ua, ub);
	return sipcx_str_eq(a->ruri, b->ruri);
}

enum match_2543 { M_SAME_METHOD, M_ACK, M_CANCEL };

/*
 * 17.2.3, RFC 2543 peers: Request-URI, From tag, Call-ID, CSeq number and
 * top Via as in the request that made t; the To tag as in it too, except
 * for the ACK (the To tag of our response) and the method as in it, except
 * for the ACK (of an INVITE) and a CANCEL looking for its request (9.2).
 */
static bool match_2543(const struct sipcx_txn *t, const struct sipcx_msg *m, enum match_2543 how)
{
	const struct sipcx_msg *r = t->req;
	const struct sipcx_cseq *cm = sipcx_msg_cseq(m), *cr = sipcx_msg_cseq(r);
	const struct sipcx_via *vm = sipcx_msg_via(m), *vr = sipcx_msg_via(r);
	if (!cm || !cr || !vm || !vr || cm->num != cr->num)
		return false;
	if (!sipcx_str_eq(sipcx_msg_call_id(m), sipcx_msg_call_id(r)) ||
	    !sipcx_str_eq(tag_of(sipcx_msg_from(m)), tag_of(sipcx_msg_from(r))) ||
	    !same_via_2543(vm, vr) || !same_ruri(m, r))
		return false;
	struct sipcx_str to_tag = tag_of(sipcx_msg_to(m));
	switch (how) {
	case M_ACK:
		return t->method == SIPCX_METHOD_INVITE && t->resp_tag &&
		       sipcx_str_eq(to_tag, (struct sipcx_str){ t->resp_tag, t->resp_tag_len });
	case M_CANCEL:
		return sipcx_str_eq(to_tag, tag_of(sipcx_msg_to(r)));
	case M_SAME_METHOD:
	default:
		return same_method(t, m) && sipcx_str_eq(to_tag, tag_of(sipcx_msg_to(r)));
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
		return via->branch.len && sipcx_str_eq(via->branch, t->branch) &&
		       cseq_method_is(t, m);
	bool ack = m->method == SIPCX_METHOD_ACK;
	if (t->rfc2543) {
		if (sipcx__txn_has_cookie(via->branch))
			return false;
		return match_2543(t, m, ack ? M_ACK : M_SAME_METHOD);
	}
	const struct sipcx_via *tv = sipcx_msg_via(t->req);
	if (!tv || !sipcx_str_eq(via->branch, t->branch) || !same_sent_by(via, tv))
		return false;
	return ack ? t->method == SIPCX_METHOD_INVITE : same_method(t, m);
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
	const struct sipcx_via *tv = sipcx_msg_via(t->req);
	return tv && sipcx_str_eq(via->branch, t->branch) && same_sent_by(via, tv);
}

/*
 * The table.
 */

int sipcx_txn_table_new(struct sipcx_txn_table **out)
{
	if (!out)
		return -EINVAL;
	struct sipcx_txn_table *tab = sipcx_calloc(1, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	tab->b = sipcx_calloc(TABLE_MIN_BUCKETS, sizeof(tab->b[0]));
	if (!tab->b) {
		sipcx_free(tab);
		return -ENOMEM;
	}
	tab->nb = TABLE_MIN_BUCKETS;
	*out = tab;
	return 0;
}

void sipcx_txn_table_free(struct sipcx_txn_table *tab)
{
	if (!tab)
		return;
	for (size_t i = 0; i < tab->nb; i++) {
		struct sipcx_txn *t = tab->b[i];
		while (t) {
			struct sipcx_txn *next = t->next;
			t->tab = NULL;
			t->next = NULL;
			t = next;
		}
	}
	sipcx_free(tab->b);
	sipcx_free(tab);
}

static void grow(struct sipcx_txn_table *tab)
{
	size_t nb = tab->nb * 2;
	struct sipcx_txn **b = sipcx_calloc(nb, sizeof(b[0]));
	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < tab->nb; i++) {
		struct sipcx_txn *t = tab->b[i];
		while (t) {
			struct sipcx_txn *next = t->next;
			size_t k = t->hash & (nb - 1);
			t->next = b[k];
			b[k] = t;
			t = next;
		}
	}
	sipcx_free(tab->b);
	tab->b = b;
	tab->nb = nb;
}

int sipcx_txn_table_add(struct sipcx_txn_table *tab, struct sipcx_txn *t)
{
	if (!tab || !t)
		return -EINVAL;
	if (t->tab)
		return -EEXIST;
	if (tab->count >= tab->nb && tab->nb <= SIZE_MAX / 2 / sizeof(tab->b[0]))
		grow(tab);
	size_t k = t->hash & (tab->nb - 1);
	t->next = tab->b[k];
	tab->b[k] = t;
	t->tab = tab;
	tab->count++;
	return 0;
}

void sipcx_txn_table_remove(struct sipcx_txn *t)
{
	if (!t || !t->tab)
		return;
	struct sipcx_txn_table *tab = t->tab;
	for (struct sipcx_txn **pp = &tab->b[t->hash & (tab->nb - 1)]; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			tab->count--;
			break;
		}
	}
	t->tab = NULL;
	t->next = NULL;
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
	for (struct sipcx_txn *t = tab->b[h & (tab->nb - 1)]; t; t = t->next)
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
	for (struct sipcx_txn *t = tab->b[h & (tab->nb - 1)]; t; t = t->next)
		if (t->hash == h && sipcx_txn_match_cancel(t, cancel))
			return t;
	return NULL;
}

struct sipcx_txn *sipcx_txn_table_next(const struct sipcx_txn_table *tab,
                                       const struct sipcx_txn *prev)
{
	if (!tab)
		return NULL;
	size_t i = 0;
	if (prev) {
		if (prev->tab != tab)
			return NULL;
		if (prev->next)
			return prev->next;
		i = (prev->hash & (tab->nb - 1)) + 1;
	}
	for (; i < tab->nb; i++)
		if (tab->b[i])
			return tab->b[i];
	return NULL;
}
