/* auth: digest client, answers to 401/407 and pre-emptive credentials (RFC 3261 22.2-22.3, RFC 7616 3.4, RFC 8760). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"

/* Longest challenge values we keep; a longer one makes its challenge unusable. */
#define REALM_MAX 256
#define NONCE_MAX 512
#define OPAQUE_MAX 512
/* Challenges looked at in one response (RFC 8760 servers send one per algorithm). */
#define CANDS_MAX 16

struct cred {
	char *realm; /* NULL: any realm */
	char *user;
	char *pass;
	size_t user_len, pass_len;
};

/* What we learnt from the last challenge of one realm (and header kind). */
struct entry {
	uint32_t id; /* 0: free slot */
	uint64_t used;
	bool proxy;
	bool userhash;
	enum sipcx_auth_alg alg;
	enum sipcx_auth_qop qop;
	uint32_t nc;
	char *mem; /* one allocation behind the slices below */
	struct sipcx_str realm_raw, realm, nonce_raw, nonce, opaque_raw;
	bool has_opaque;
};

struct sipcx_auth_client {
	sipcx_auth_cnonce_cb *cnonce;
	void *cnonce_arg;
	struct cred creds[SIPCX_AUTH_MAX_HDRS];
	size_t ncreds;
	struct entry entries[SIPCX_AUTH_MAX_HDRS];
	uint32_t next_id;
	uint64_t tick;
	struct sipcx__digest dg;
	struct sipcx_buf out;
	struct sipcx_hdr hdrs[SIPCX_AUTH_MAX_HDRS];
	char reason[200];
};

/* One usable challenge of the response. */
struct cand {
	bool proxy;
	enum sipcx_auth_alg alg;
	enum sipcx_auth_qop qop;
	struct sipcx_digest_params d;
};

/* One realm to answer: the chosen challenge and its credentials. */
struct answer {
	const struct cand *cand;
	const struct cred *cred;
	struct entry *entry; /* existing entry, or NULL */
	char *mem;           /* new strings for the entry */
	size_t realm_len, nonce_len;
};

static void set_reason(struct sipcx_auth_client *c, const char *fmt, ...) SIPCX_PRINTF(2, 3);
static void set_reason(struct sipcx_auth_client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	SIPCX_DEBUG("auth client: %s", c->reason);
}

static int default_cnonce(char *out, size_t size, void *arg)
{
	(void)arg;
	unsigned char rnd[16];
	static const char digits[] = "0123456789abcdef";
	if (size < 2 * sizeof(rnd) + 1)
		return -EINVAL;
	int err = sipcx_random_bytes(rnd, sizeof(rnd));
	if (err)
		return err;
	for (size_t i = 0; i < sizeof(rnd); i++) {
		out[2 * i] = digits[rnd[i] >> 4];
		out[2 * i + 1] = digits[rnd[i] & 15];
	}
	out[2 * sizeof(rnd)] = '\0';
	return 0;
}

int sipcx_auth_client_new(struct sipcx_auth_client **out, const struct sipcx_auth_client_opts *opts)
{
	if (!out)
		return -EINVAL;
	struct sipcx_auth_client *c = sipcx_calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (sipcx__digest_init(&c->dg) != 0) {
		sipcx_free(c);
		return -ENOMEM;
	}
	c->cnonce = opts && opts->cnonce ? opts->cnonce : default_cnonce;
	c->cnonce_arg = opts && opts->cnonce ? opts->cnonce_arg : NULL;
	c->next_id = 1;
	sipcx_buf_init(&c->out);
	*out = c;
	return 0;
}

static void cred_clear(struct cred *cr)
{
	if (cr->pass)
		OPENSSL_cleanse(cr->pass, cr->pass_len);
	sipcx_free(cr->realm);
	sipcx_free(cr->user);
	sipcx_free(cr->pass);
	memset(cr, 0, sizeof(*cr));
}

void sipcx_auth_client_free(struct sipcx_auth_client *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ncreds; i++)
		cred_clear(&c->creds[i]);
	for (size_t i = 0; i < SIPCX_AUTH_MAX_HDRS; i++)
		sipcx_free(c->entries[i].mem);
	sipcx__digest_fini(&c->dg);
	sipcx_buf_free(&c->out);
	sipcx_free(c);
}

const char *sipcx_auth_client_reason(const struct sipcx_auth_client *c)
{
	return c ? c->reason : "";
}

static bool cstr_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int sipcx_auth_client_set_credentials(struct sipcx_auth_client *c, const char *realm,
                                      const char *username, const char *password)
{
	if (!c || !username || !password)
		return -EINVAL;
	if (sipcx__auth_has_ctl(sipcx_str_c(username)) ||
	    (realm && sipcx__auth_has_ctl(sipcx_str_c(realm))))
		return -EINVAL;
	struct cred n = { 0 };
	n.user = sipcx_strdup(username);
	n.pass = sipcx_strdup(password);
	n.realm = realm ? sipcx_strdup(realm) : NULL;
	if (!n.user || !n.pass || (realm && !n.realm)) {
		cred_clear(&n);
		return -ENOMEM;
	}
	n.user_len = strlen(n.user);
	n.pass_len = strlen(n.pass);
	for (size_t i = 0; i < c->ncreds; i++) {
		if (cstr_eq(c->creds[i].realm, realm)) {
			cred_clear(&c->creds[i]);
			c->creds[i] = n;
			return 0;
		}
	}
	if (c->ncreds == SIPCX_AUTH_MAX_HDRS) {
		cred_clear(&n);
		return SIPCX_ELIMIT;
	}
	c->creds[c->ncreds++] = n;
	return 0;
}

static const struct cred *find_cred(const struct sipcx_auth_client *c, struct sipcx_str realm)
{
	const struct cred *any = NULL;
	for (size_t i = 0; i < c->ncreds; i++) {
		const struct cred *cr = &c->creds[i];
		if (!cr->realm)
			any = cr;
		else if (sipcx_str_eq(sipcx_str_c(cr->realm), realm))
			return cr;
	}
	return any;
}

static struct entry *find_entry(struct sipcx_auth_client *c, bool proxy, struct sipcx_str realm_raw)
{
	for (size_t i = 0; i < SIPCX_AUTH_MAX_HDRS; i++) {
		struct entry *e = &c->entries[i];
		if (e->id && e->proxy == proxy && sipcx_str_eq(e->realm_raw, realm_raw))
			return e;
	}
	return NULL;
}

static int chain_find(const struct sipcx_auth_chain *ch, uint32_t id)
{
	for (int i = 0; i < ch->n && i < SIPCX_AUTH_MAX_HDRS; i++)
		if (ch->id[i] == id)
			return i;
	return -1;
}

/* Is s a value we can keep and echo: short enough, no CR/LF/NUL? */
static bool value_ok(struct sipcx_str s, size_t max)
{
	return s.len <= max && !sipcx__auth_has_ctl(s);
}

/*
 * Turn one challenge header value into a candidate, or say why not.
 * Returns 1 usable, 0 skipped (reason noted in *why).
 */
static int read_challenge(struct sipcx_str value, bool proxy, struct cand *out, const char **why,
                          struct sipcx_str *bad_alg)
{
	struct cand k = { .proxy = proxy };
	if (sipcx_digest_params_parse(&k.d, value) != 0) {
		*why = "malformed challenge";
		return 0;
	}
	if (!sipcx_str_ieq_c(k.d.scheme, "Digest")) {
		*why = "challenge not in the Digest scheme";
		return 0;
	}
	if (k.d.nonce.len == 0 || !value_ok(k.d.realm, REALM_MAX) ||
	    !value_ok(k.d.nonce, NONCE_MAX) || !value_ok(k.d.opaque, OPAQUE_MAX)) {
		*why = "challenge without nonce, or with an unusable realm, nonce or opaque";
		return 0;
	}
	if (sipcx_auth_alg_parse(sipcx_str_trim(k.d.algorithm), &k.alg) != 0) {
		*bad_alg = k.d.algorithm;
		*why = NULL;
		return 0;
	}
	if (k.d.qop.len == 0)
		k.qop = SIPCX_AUTH_QOP_NONE;
	else if (sipcx__auth_list_has(k.d.qop, "auth"))
		k.qop = SIPCX_AUTH_QOP_AUTH;
	else if (sipcx__auth_list_has(k.d.qop, "auth-int"))
		k.qop = SIPCX_AUTH_QOP_AUTH_INT;
	else {
		*why = "challenge with no supported qop";
		return 0;
	}
	*out = k;
	return 1;
}

static bool cnonce_ok(const char *s)
{
	size_t n = strnlen(s, SIPCX_AUTH_CNONCE_MAX + 1);
	if (n == 0 || n > SIPCX_AUTH_CNONCE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

/* Append one "Digest ..." value for entry e with credentials cr to c->out. */
static int print_value(struct sipcx_auth_client *c, struct entry *e, const struct cred *cr,
                       struct sipcx_str method, struct sipcx_str ruri, struct sipcx_str body)
{
	char cnonce[SIPCX_AUTH_CNONCE_MAX + 1] = "";
	char nc[9] = "";
	char resp[SIPCX_AUTH_HEX_MAX + 1], uhash[SIPCX_AUTH_HEX_MAX + 1];
	bool sess = ((unsigned)e->alg & 1u) != 0;
	int err;

	if (e->qop != SIPCX_AUTH_QOP_NONE || sess) {
		if ((err = c->cnonce(cnonce, sizeof(cnonce), c->cnonce_arg)) != 0) {
			set_reason(c, "cnonce source failed (%d)", err);
			return err;
		}
		if (!cnonce_ok(cnonce)) {
			set_reason(c, "cnonce source gave an unusable cnonce");
			return -EINVAL;
		}
	}
	if (e->qop != SIPCX_AUTH_QOP_NONE) {
		/* RFC 7616 3.4: nc counts the requests sent with this nonce, from 1. */
		e->nc++;
		snprintf(nc, sizeof(nc), "%08x", (unsigned)e->nc);
	}
	struct sipcx_auth_digest_input in = {
		.alg = e->alg,
		.qop = e->qop,
		.username = { cr->user, cr->user_len },
		.realm = e->realm,
		.password = { cr->pass, cr->pass_len },
		.nonce = e->nonce,
		.cnonce = sipcx_str_c(cnonce),
		.nc = sipcx_str_c(nc),
		.method = method,
		.uri = ruri,
		.body = body,
	};
	if ((err = sipcx__digest_response(&c->dg, &in, resp)) != 0) {
		set_reason(c, "digest %s failed (%d)", sipcx_auth_alg_name(e->alg), err);
		return err;
	}
	struct sipcx_str user = in.username;
	if (e->userhash) {
		struct sipcx_str p[2] = { in.username, e->realm };
		if ((err = sipcx__digest_hash(&c->dg, e->alg, p, 2, uhash)) != 0)
			return err;
		user = sipcx_str_c(uhash);
	}

	struct sipcx_buf *b = &c->out;
	/* RFC 7616 3.4: algorithm, qop and nc are tokens, the rest quoted. */
	sipcx_buf_puts(b, "Digest username=");
	sipcx__auth_put_quoted(b, user);
	sipcx_buf_printf(b, ", realm=\"%.*s\", nonce=\"%.*s\", uri=", SIPCX_STR_FMT(e->realm_raw),
	                 SIPCX_STR_FMT(e->nonce_raw));
	sipcx__auth_put_quoted(b, ruri);
	sipcx_buf_printf(b, ", response=\"%s\", algorithm=%s", resp, sipcx_auth_alg_name(e->alg));
	if (cnonce[0])
		sipcx_buf_printf(b, ", cnonce=\"%s\"", cnonce);
	if (e->qop != SIPCX_AUTH_QOP_NONE)
		sipcx_buf_printf(b, ", qop=%s, nc=%s",
		                 e->qop == SIPCX_AUTH_QOP_AUTH ? "auth" : "auth-int", nc);
	if (e->has_opaque)
		sipcx_buf_printf(b, ", opaque=\"%.*s\"", SIPCX_STR_FMT(e->opaque_raw));
	if (e->userhash)
		sipcx_buf_puts(b, ", userhash=true");
	sipcx_buf_append(b, "\0", 1); /* separates values; hdrs slices exclude it */
	return sipcx_buf_err(b);
}

static void out_reset(struct sipcx_auth_client *c)
{
	if (c->out.err) {
		/* The buffer's error is sticky: start a fresh one. */
		sipcx_buf_free(&c->out);
		sipcx_buf_init(&c->out);
	}
	c->out.len = 0;
}

/* Point c->hdrs at the n NUL-separated values in c->out. */
static void out_index(struct sipcx_auth_client *c, const bool *proxy, size_t n)
{
	const char *p = c->out.p;
	for (size_t i = 0; i < n; i++) {
		enum sipcx_hdr_id id =
		    proxy[i] ? SIPCX_HDR_PROXY_AUTHORIZATION : SIPCX_HDR_AUTHORIZATION;
		size_t len = strlen(p);
		c->hdrs[i].id = id;
		c->hdrs[i].name = sipcx_str_c(sipcx_hdr_name(id));
		c->hdrs[i].value = (struct sipcx_str){ p, len };
		p += len + 1;
	}
}

/* Strings of an entry in one allocation: realm raw and unquoted, nonce raw and unquoted, opaque raw. */
static char *entry_mem(const struct cand *k, size_t *realm_len, size_t *nonce_len)
{
	const struct sipcx_digest_params *d = &k->d;
	char *m = sipcx_malloc(2 * d->realm.len + 2 * d->nonce.len + d->opaque.len + 1);
	if (!m)
		return NULL;
	char *p = m;
	memcpy(p, d->realm.p, d->realm.len);
	p += d->realm.len;
	*realm_len = sipcx__auth_unquote(d->realm, p);
	p += d->realm.len;
	memcpy(p, d->nonce.p, d->nonce.len);
	p += d->nonce.len;
	*nonce_len = sipcx__auth_unquote(d->nonce, p);
	p += d->nonce.len;
	memcpy(p, d->opaque.p, d->opaque.len);
	return m;
}

static void entry_install(struct entry *e, const struct cand *k, char *mem, size_t realm_len,
                          size_t nonce_len)
{
	const struct sipcx_digest_params *d = &k->d;
	char *p = mem;
	struct sipcx_str realm_raw = { p, d->realm.len };
	struct sipcx_str realm = { p + d->realm.len, realm_len };
	p += 2 * d->realm.len;
	struct sipcx_str nonce_raw = { p, d->nonce.len };
	struct sipcx_str nonce = { p + d->nonce.len, nonce_len };
	p += 2 * d->nonce.len;
	/* RFC 7616 3.4: a new nonce starts its count again. */
	if (!e->mem || !sipcx_str_eq(e->nonce_raw, nonce_raw))
		e->nc = 0;
	sipcx_free(e->mem);
	e->mem = mem;
	e->realm_raw = realm_raw;
	e->realm = realm;
	e->nonce_raw = nonce_raw;
	e->nonce = nonce;
	e->opaque_raw = (struct sipcx_str){ p, d->opaque.len };
	/* An empty opaque (absent or "") carries nothing to echo. */
	e->has_opaque = d->opaque.len > 0;
	e->proxy = k->proxy;
	e->alg = k->alg;
	e->qop = k->qop;
	e->userhash = sipcx_str_ieq_c(d->userhash, "true");
}

static struct entry *entry_slot(struct sipcx_auth_client *c)
{
	struct entry *best = NULL;
	for (size_t i = 0; i < SIPCX_AUTH_MAX_HDRS; i++) {
		struct entry *e = &c->entries[i];
		if (!e->id)
			return e;
		/* Evict the least recently used entry not touched by this call. */
		if (e->used != c->tick && (!best || e->used < best->used))
			best = e;
	}
	return best;
}

int sipcx_auth_client_respond(struct sipcx_auth_client *c, struct sipcx_auth_chain *chain,
                              const struct sipcx_msg *resp, struct sipcx_str method,
                              struct sipcx_str ruri, struct sipcx_str body,
                              const struct sipcx_hdr **hdrs, size_t *n)
{
	if (!c || !chain || !resp || !hdrs || !n || method.len == 0 || ruri.len == 0 ||
	    sipcx__auth_has_ctl(method) || sipcx__auth_has_ctl(ruri)) {
		if (c)
			set_reason(c, "invalid argument");
		return -EINVAL;
	}
	c->reason[0] = '\0';

	/* 1. Every usable challenge of both kinds. */
	struct cand cands[CANDS_MAX];
	size_t ncand = 0, seen = 0;
	const char *why = NULL;
	struct sipcx_str bad_alg = SIPCX_STR_NULL;
	static const enum sipcx_hdr_id kinds[2] = { SIPCX_HDR_WWW_AUTHENTICATE,
		                                    SIPCX_HDR_PROXY_AUTHENTICATE };
	for (int k = 0; k < 2; k++) {
		for (const struct sipcx_hdr *h = sipcx_msg_hdr(resp, kinds[k]);
		     h && ncand < CANDS_MAX; h = sipcx_msg_hdr_next(resp, h)) {
			seen++;
			const char *w = NULL;
			struct sipcx_str ba = SIPCX_STR_NULL;
			if (read_challenge(h->value, k == 1, &cands[ncand], &w, &ba))
				ncand++;
			else if (ba.p)
				bad_alg = ba;
			else
				why = w;
		}
	}
	if (ncand == 0) {
		if (seen == 0)
			set_reason(c, "no WWW-Authenticate or Proxy-Authenticate header");
		else if (bad_alg.p)
			set_reason(c, "unsupported digest algorithm \"%.*s\"",
			           (int)(bad_alg.len > 40 ? 40 : bad_alg.len), bad_alg.p);
		else
			set_reason(c, "no usable challenge: %s", why ? why : "?");
		return -EPROTO;
	}

	/* 2. Per (kind, realm) the strongest algorithm. */
	struct answer ans[SIPCX_AUTH_MAX_HDRS];
	size_t na = 0;
	for (size_t i = 0; i < ncand; i++) {
		size_t j;
		for (j = 0; j < na; j++) {
			const struct cand *o = ans[j].cand;
			if (o->proxy == cands[i].proxy &&
			    sipcx_str_eq(o->d.realm, cands[i].d.realm))
				break;
		}
		if (j < na) {
			if (sipcx__auth_alg_rank(cands[i].alg) >
			    sipcx__auth_alg_rank(ans[j].cand->alg))
				ans[j].cand = &cands[i];
		} else if (na < SIPCX_AUTH_MAX_HDRS) {
			ans[na++] = (struct answer){ .cand = &cands[i] };
		}
	}

	/* 3. Credentials and the give-up rule, before anything changes. */
	size_t nok = 0;
	bool nocred = false;
	char realm[REALM_MAX];
	for (size_t i = 0; i < na; i++) {
		const struct cand *k = ans[i].cand;
		struct sipcx_str r = { realm, sipcx__auth_unquote(k->d.realm, realm) };
		ans[i].cred = find_cred(c, r);
		if (!ans[i].cred) {
			nocred = true;
			set_reason(c, "no credentials for realm \"%.*s\"",
			           (int)(r.len > 64 ? 64 : r.len), r.p);
			continue;
		}
		ans[i].entry = find_entry(c, k->proxy, k->d.realm);
		int slot = ans[i].entry ? chain_find(chain, ans[i].entry->id) : -1;
		if (slot >= 0 && (!k->d.stale || chain->stale[slot] >= 1)) {
			set_reason(c, "%s for realm \"%.*s\" refused",
			           k->d.stale ? "credentials (stale twice)" : "credentials",
			           (int)(r.len > 64 ? 64 : r.len), r.p);
			return SIPCX_EAUTH;
		}
		ans[nok++] = ans[i];
	}
	if (nok == 0) {
		if (!nocred)
			set_reason(c, "no usable challenge");
		return nocred ? SIPCX_EAUTH : -EPROTO;
	}

	/* 4. Allocate the new entry strings, then commit. */
	for (size_t i = 0; i < nok; i++) {
		ans[i].mem = entry_mem(ans[i].cand, &ans[i].realm_len, &ans[i].nonce_len);
		if (!ans[i].mem) {
			for (size_t j = 0; j < i; j++)
				sipcx_free(ans[j].mem);
			set_reason(c, "out of memory");
			return -ENOMEM;
		}
	}
	c->tick++;
	for (size_t i = 0; i < nok; i++)
		if (ans[i].entry)
			ans[i].entry->used = c->tick;
	bool proxy[SIPCX_AUTH_MAX_HDRS];
	for (size_t i = 0; i < nok; i++) {
		struct entry *e = ans[i].entry;
		if (!e) {
			e = entry_slot(c); /* never NULL: nok <= slots */
			sipcx_free(e->mem);
			memset(e, 0, sizeof(*e));
			e->id = c->next_id++;
			if (c->next_id == 0)
				c->next_id = 1;
			ans[i].entry = e;
		}
		e->used = c->tick;
		entry_install(e, ans[i].cand, ans[i].mem, ans[i].realm_len, ans[i].nonce_len);
		proxy[i] = e->proxy;
	}

	/* 5. Print. */
	out_reset(c);
	for (size_t i = 0; i < nok; i++) {
		int err = print_value(c, ans[i].entry, ans[i].cred, method, ruri, body);
		if (err) {
			if (err == -ENOMEM)
				set_reason(c, "out of memory");
			return err;
		}
	}
	out_index(c, proxy, nok);

	/* 6. Remember what this chain answered. */
	for (size_t i = 0; i < nok; i++) {
		int slot = chain_find(chain, ans[i].entry->id);
		if (slot >= 0) {
			chain->stale[slot]++;
		} else if (chain->n < SIPCX_AUTH_MAX_HDRS) {
			chain->id[chain->n] = ans[i].entry->id;
			chain->stale[chain->n] = 0;
			chain->n++;
		}
	}
	c->reason[0] = '\0'; /* a realm skipped for lack of credentials is not a failure */
	*hdrs = c->hdrs;
	*n = nok;
	return 0;
}

int sipcx_auth_client_authorize(struct sipcx_auth_client *c, struct sipcx_str method,
                                struct sipcx_str ruri, struct sipcx_str body,
                                const struct sipcx_hdr **hdrs, size_t *n)
{
	if (!c || !hdrs || !n || method.len == 0 || ruri.len == 0 || sipcx__auth_has_ctl(method) ||
	    sipcx__auth_has_ctl(ruri)) {
		if (c)
			set_reason(c, "invalid argument");
		return -EINVAL;
	}
	c->reason[0] = '\0';
	/* In creation order, so the headers come out in a stable order. */
	struct entry *list[SIPCX_AUTH_MAX_HDRS];
	const struct cred *creds[SIPCX_AUTH_MAX_HDRS];
	size_t cnt = 0;
	for (size_t i = 0; i < SIPCX_AUTH_MAX_HDRS; i++) {
		struct entry *e = &c->entries[i];
		const struct cred *cr = e->id ? find_cred(c, e->realm) : NULL;
		if (!cr)
			continue;
		size_t j = cnt;
		while (j > 0 && list[j - 1]->id > e->id) {
			list[j] = list[j - 1];
			creds[j] = creds[j - 1];
			j--;
		}
		list[j] = e;
		creds[j] = cr;
		cnt++;
	}
	out_reset(c);
	bool proxy[SIPCX_AUTH_MAX_HDRS];
	for (size_t i = 0; i < cnt; i++) {
		int err = print_value(c, list[i], creds[i], method, ruri, body);
		if (err) {
			if (err == -ENOMEM)
				set_reason(c, "out of memory");
			return err;
		}
		proxy[i] = list[i]->proxy;
	}
	out_index(c, proxy, cnt);
	*hdrs = c->hdrs;
	*n = cnt;
	return 0;
}
