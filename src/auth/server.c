/* auth: digest server, stateless HMAC nonces, verification, stale and nc replay (RFC 3261 22.4, RFC 7616 3.3-3.5). */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include "auth.h"

#define DEFAULT_LIFETIME 300
#define DEFAULT_SLOTS 1024
#define MAX_SLOTS (1u << 20)
/* A nonce minted "in the future" by at most this much is still fresh (clock steps). */
#define FUTURE_SKEW 5

/* Nonce bytes: time (8, big-endian) || random (8) || truncated HMAC (16). */
#define NONCE_TS 8
#define NONCE_RND 8
#define NONCE_MAC 16
#define NONCE_RAW (NONCE_TS + NONCE_RND + NONCE_MAC)
#define NONCE_B64 43 /* base64url of 32 bytes, no padding */

/* Longest username / cnonce / uri the server handles from credentials. */
#define FIELD_MAX 512

/* Highest nc seen for one nonce; chained in a hash bucket, reused oldest first. */
struct nc_slot {
	uint8_t key[NONCE_TS + NONCE_RND];
	uint32_t hash;
	uint32_t nc;   /* 0: free */
	uint32_t next; /* 1 + index of the next slot in the bucket, 0: end */
};

struct sipcx_auth_server {
	char *realm;
	size_t realm_len;
	unsigned char *key;
	size_t key_len;
	EVP_MAC_CTX *mac;
	struct sipcx__digest dg;
	uint32_t lifetime;
	bool auth_int;
	bool userhash;
	unsigned algs;
	int (*random)(void *buf, size_t n, void *arg);
	void *random_arg;
	struct nc_slot *slots;
	uint32_t nslots, ring;
	uint32_t *buckets; /* 1 + slot index, 0: empty */
	uint32_t mask;
};

static int default_random(void *buf, size_t n, void *arg)
{
	(void)arg;
	return sipcx_random_bytes(buf, n);
}

void sipcx_auth_server_free(struct sipcx_auth_server *s)
{
	if (!s)
		return;
	if (s->key)
		OPENSSL_cleanse(s->key, s->key_len);
	EVP_MAC_CTX_free(s->mac);
	sipcx__digest_fini(&s->dg);
	sipcx_free(s->key);
	sipcx_free(s->realm);
	sipcx_free(s->slots);
	sipcx_free(s->buckets);
	sipcx_free(s);
}

int sipcx_auth_server_new(struct sipcx_auth_server **out, const struct sipcx_auth_server_opts *opts)
{
	if (!out || !opts || !opts->realm || !opts->realm[0] ||
	    sipcx__auth_has_ctl(sipcx_str_c(opts->realm)))
		return -EINVAL;
	if (opts->key && opts->key_len < 16)
		return -EINVAL;
	if (opts->nc_slots > MAX_SLOTS)
		return -EINVAL;
	EVP_MAC *hmac = sipcx__digest_hmac();
	if (!hmac)
		return -ENOTSUP;

	struct sipcx_auth_server *s = sipcx_calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lifetime = opts->lifetime_s ? opts->lifetime_s : DEFAULT_LIFETIME;
	s->auth_int = opts->auth_int;
	s->userhash = opts->userhash;
	s->algs = opts->algs & ((1u << SIPCX_AUTH_ALG__COUNT) - 1);
	if (!s->algs)
		s->algs = (1u << SIPCX_AUTH_ALG__COUNT) - 1;
	s->random = opts->random ? opts->random : default_random;
	s->random_arg = opts->random ? opts->random_arg : NULL;
	s->nslots = opts->nc_slots ? opts->nc_slots : DEFAULT_SLOTS;
	uint32_t nb = 1;
	while (nb < s->nslots)
		nb <<= 1;
	s->mask = nb - 1;

	int err = -ENOMEM;
	s->realm = sipcx_strdup(opts->realm);
	s->key_len = opts->key ? opts->key_len : 32;
	s->key = sipcx_malloc(s->key_len);
	s->slots = sipcx_calloc(s->nslots, sizeof(*s->slots));
	s->buckets = sipcx_calloc(nb, sizeof(*s->buckets));
	if (!s->realm || !s->key || !s->slots || !s->buckets)
		goto fail;
	s->realm_len = strlen(s->realm);
	if (opts->key)
		memcpy(s->key, opts->key, s->key_len);
	else if ((err = s->random(s->key, s->key_len, s->random_arg)) != 0)
		goto fail;

	err = -ENOMEM;
	if (sipcx__digest_init(&s->dg) != 0)
		goto fail;
	s->mac = EVP_MAC_CTX_new(hmac);
	if (!s->mac)
		goto fail;
	char digest[] = "SHA256";
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	/* The key is set once; each nonce re-inits the context with it (EVP_MAC_init with NULL key). */
	if (EVP_MAC_init(s->mac, s->key, s->key_len, params) != 1) {
		err = -ENOTSUP;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	sipcx_auth_server_free(s);
	return err;
}

/* Decode exactly one nonce (43 characters, canonical) into raw. */
static bool nonce_decode(struct sipcx_str s, uint8_t raw[NONCE_RAW])
{
	return s.len == NONCE_B64 && sipcx__b64_decode(sipcx__b64_url, s, raw, NONCE_RAW);
}

/* HMAC over time || random || algorithm || ':' || realm, truncated. */
static int nonce_mac(struct sipcx_auth_server *s, const uint8_t *head, enum sipcx_auth_alg alg,
                     uint8_t mac[NONCE_MAC])
{
	unsigned char full[EVP_MAX_MD_SIZE];
	size_t len = 0;
	const char *an = sipcx_auth_alg_name(alg);
	if (EVP_MAC_init(s->mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(s->mac, head, NONCE_TS + NONCE_RND) != 1 ||
	    EVP_MAC_update(s->mac, (const unsigned char *)an, strlen(an)) != 1 ||
	    EVP_MAC_update(s->mac, (const unsigned char *)":", 1) != 1 ||
	    EVP_MAC_update(s->mac, (const unsigned char *)s->realm, s->realm_len) != 1 ||
	    EVP_MAC_final(s->mac, full, &len, sizeof(full)) != 1 || len < NONCE_MAC)
		return -ENOMEM;
	memcpy(mac, full, NONCE_MAC);
	return 0;
}

static bool alg_ok(const struct sipcx_auth_server *s, enum sipcx_auth_alg alg)
{
	return (unsigned)alg < SIPCX_AUTH_ALG__COUNT && (s->algs & (1u << alg)) != 0;
}

int sipcx_auth_server_challenge(struct sipcx_auth_server *s, uint64_t now_s,
                                enum sipcx_auth_alg alg, bool stale, struct sipcx_buf *value_out)
{
	if (!s || !value_out || !alg_ok(s, alg))
		return -EINVAL;
	if (!sipcx__digest_md(alg))
		return -ENOTSUP;
	uint8_t raw[NONCE_RAW];
	for (int i = 0; i < NONCE_TS; i++)
		raw[i] = (uint8_t)(now_s >> (8 * (NONCE_TS - 1 - i)));
	int err = s->random(raw + NONCE_TS, NONCE_RND, s->random_arg);
	if (err)
		return err;
	if ((err = nonce_mac(s, raw, alg, raw + NONCE_TS + NONCE_RND)) != 0)
		return err;
	char nonce[NONCE_B64 + 1];
	sipcx__b64_encode(sipcx__b64_url, false, raw, NONCE_RAW, nonce);

	sipcx_buf_puts(value_out, "Digest realm=");
	sipcx__auth_put_quoted(value_out, (struct sipcx_str){ s->realm, s->realm_len });
	sipcx_buf_printf(value_out, ", nonce=\"%s\", algorithm=%s, qop=\"%s\"%s%s", nonce,
	                 sipcx_auth_alg_name(alg), s->auth_int ? "auth,auth-int" : "auth",
	                 s->userhash ? ", userhash=true" : "", stale ? ", stale=true" : "");
	return sipcx_buf_err(value_out);
}

static struct nc_slot *nc_find(struct sipcx_auth_server *s, const uint8_t *key, uint32_t hash)
{
	for (uint32_t i = s->buckets[hash & s->mask]; i; i = s->slots[i - 1].next) {
		struct nc_slot *sl = &s->slots[i - 1];
		if (sl->hash == hash && memcmp(sl->key, key, sizeof(sl->key)) == 0)
			return sl;
	}
	return NULL;
}

/* Take the oldest slot (bounded memory: the table never grows) for a new nonce. */
static void nc_insert(struct sipcx_auth_server *s, const uint8_t *key, uint32_t hash, uint32_t nc)
{
	uint32_t idx = s->ring;
	s->ring = (s->ring + 1) % s->nslots;
	struct nc_slot *sl = &s->slots[idx];
	if (sl->nc) {
		uint32_t *pp = &s->buckets[sl->hash & s->mask];
		while (*pp && *pp != idx + 1)
			pp = &s->slots[*pp - 1].next;
		if (*pp)
			*pp = sl->next;
	}
	memcpy(sl->key, key, sizeof(sl->key));
	sl->hash = hash;
	sl->nc = nc;
	sl->next = s->buckets[hash & s->mask];
	s->buckets[hash & s->mask] = idx + 1;
}

static int verdict(struct sipcx_auth_result *res, enum sipcx_auth_verdict v, const char *why)
{
	res->verdict = v;
	res->reason = why;
	SIPCX_DEBUG("auth server: %s", why);
	return 0;
}

static bool parse_nc(struct sipcx_str s, uint32_t *out)
{
	if (s.len != 8)
		return false;
	uint32_t v = 0;
	for (size_t i = 0; i < 8; i++) {
		char c = sipcx__lower(s.p[i]);
		int d = (c >= '0' && c <= '9')   ? c - '0'
		        : (c >= 'a' && c <= 'f') ? c - 'a' + 10
		                                 : -1;
		if (d < 0)
			return false;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return v != 0;
}

static bool uri_matches(struct sipcx_str a, struct sipcx_str b)
{
	if (sipcx_str_eq(a, b))
		return true;
	struct sipcx_uri ua, ub;
	return sipcx_uri_parse(&ua, a) == 0 && sipcx_uri_parse(&ub, b) == 0 &&
	       sipcx_uri_equal(&ua, &ub);
}

int sipcx_auth_server_check(struct sipcx_auth_server *s, uint64_t now_s, struct sipcx_str value,
                            struct sipcx_str method, struct sipcx_str ruri, struct sipcx_str body,
                            sipcx_auth_lookup_cb *lookup, void *arg, struct sipcx_auth_result *res)
{
	if (!s || !lookup || !res)
		return -EINVAL;
	*res = (struct sipcx_auth_result){ .verdict = SIPCX_AUTH_MISSING,
		                           .alg = SIPCX_AUTH_MD5,
		                           .username = SIPCX_STR_NULL,
		                           .reason = "" };
	struct sipcx_digest_params d;
	if (sipcx_digest_params_parse(&d, value) != 0)
		return verdict(res, SIPCX_AUTH_BAD, "malformed credentials");
	if (!sipcx_str_ieq_c(d.scheme, "Digest"))
		return verdict(res, SIPCX_AUTH_MISSING, "credentials not in the Digest scheme");
	char realm[FIELD_MAX];
	if (d.realm.len > sizeof(realm) ||
	    !sipcx_str_eq((struct sipcx_str){ realm, sipcx__auth_unquote(d.realm, realm) },
	                  (struct sipcx_str){ s->realm, s->realm_len }))
		return verdict(res, SIPCX_AUTH_MISSING, "credentials for another realm");

	enum sipcx_auth_alg alg;
	if (sipcx_auth_alg_parse(sipcx_str_trim(d.algorithm), &alg) != 0)
		return verdict(res, SIPCX_AUTH_BAD, "unsupported algorithm");
	res->alg = alg;
	res->username = d.username;
	res->userhash = sipcx_str_ieq_c(d.userhash, "true");
	if (!alg_ok(s, alg))
		return verdict(res, SIPCX_AUTH_BAD, "algorithm not accepted");

	/* Authentic nonce: issued by us for this realm and algorithm. */
	uint8_t raw[NONCE_RAW], mac[NONCE_MAC];
	if (!nonce_decode(d.nonce, raw))
		return verdict(res, SIPCX_AUTH_BAD, "nonce not issued by this server");
	int err = nonce_mac(s, raw, alg, mac);
	if (err)
		return err;
	if (CRYPTO_memcmp(mac, raw + NONCE_TS + NONCE_RND, NONCE_MAC) != 0)
		return verdict(res, SIPCX_AUTH_BAD, "nonce not issued by this server");

	/* RFC 7616 3.4: qop is required; our challenges always offer it. */
	enum sipcx_auth_qop qop;
	if (sipcx_str_ieq_c(d.qop, "auth"))
		qop = SIPCX_AUTH_QOP_AUTH;
	else if (sipcx_str_ieq_c(d.qop, "auth-int"))
		qop = SIPCX_AUTH_QOP_AUTH_INT;
	else
		return verdict(res, SIPCX_AUTH_BAD, "qop missing or unsupported");
	uint32_t nc;
	if (!parse_nc(d.nc, &nc))
		return verdict(res, SIPCX_AUTH_BAD, "bad nc");
	char cnonce[FIELD_MAX], uri[FIELD_MAX], user[FIELD_MAX];
	if (d.cnonce.len == 0 || d.cnonce.len > sizeof(cnonce) || d.uri.len > sizeof(uri) ||
	    d.username.len == 0 || d.username.len > sizeof(user))
		return verdict(res, SIPCX_AUTH_BAD, "missing or oversized username, cnonce or uri");
	struct sipcx_str cn = { cnonce, sipcx__auth_unquote(d.cnonce, cnonce) };
	struct sipcx_str du = { uri, sipcx__auth_unquote(d.uri, uri) };
	struct sipcx_str un = { user, sipcx__auth_unquote(d.username, user) };
	/* RFC 2617 3.2.2.5: the digest-uri must name the resource of the request. */
	if (!uri_matches(du, ruri))
		return verdict(res, SIPCX_AUTH_BAD, "uri does not match the Request-URI");
	size_t hl = sipcx_auth_alg_hexlen(alg);
	if (d.response.len != hl)
		return verdict(res, SIPCX_AUTH_BAD, "malformed response");

	struct sipcx_auth_secret sec = { SIPCX_STR_NULL, SIPCX_STR_NULL, SIPCX_STR_NULL };
	err =
	    lookup(un, (struct sipcx_str){ s->realm, s->realm_len }, alg, res->userhash, &sec, arg);
	if (err == -ENOENT)
		return verdict(res, SIPCX_AUTH_BAD, "unknown user");
	if (err)
		return err;
	if (sec.ha1.len ? sec.ha1.len != hl : (res->userhash && sec.username.len == 0))
		return verdict(res, SIPCX_AUTH_BAD, "lookup gave an unusable secret");

	struct sipcx_auth_digest_input in = {
		.alg = alg,
		.qop = qop,
		.username = res->userhash ? sec.username : un,
		.realm = { s->realm, s->realm_len },
		.password = sec.password,
		.ha1 = sec.ha1,
		.nonce = d.nonce,
		.cnonce = cn,
		.nc = d.nc,
		.method = method,
		.uri = du,
		.body = body,
	};
	char want[SIPCX_AUTH_HEX_MAX + 1], got[SIPCX_AUTH_HEX_MAX + 1];
	if ((err = sipcx__digest_response(&s->dg, &in, want)) != 0)
		return err;
	for (size_t i = 0; i < hl; i++)
		got[i] = sipcx__lower(d.response.p[i]);
	if (CRYPTO_memcmp(want, got, hl) != 0)
		return verdict(res, SIPCX_AUTH_BAD, "wrong response (password)");

	/* The digest is right: anything left is about freshness, so stale=true is due. */
	uint64_t ts = 0;
	for (int i = 0; i < NONCE_TS; i++)
		ts = ts << 8 | raw[i];
	if (ts > now_s + FUTURE_SKEW || now_s - (ts > now_s ? now_s : ts) > s->lifetime)
		return verdict(res, SIPCX_AUTH_STALE, "nonce expired");
	uint32_t hash;
	memcpy(&hash, mac, sizeof(hash));
	struct nc_slot *sl = nc_find(s, raw, hash);
	if (sl) {
		if (nc <= sl->nc)
			return verdict(res, SIPCX_AUTH_STALE, "nc replayed");
		sl->nc = nc;
	} else if (nc == 1) {
		nc_insert(s, raw, hash, nc);
	} else {
		/* Forgotten (evicted) nonce: its history is gone, so demand a new one. */
		return verdict(res, SIPCX_AUTH_STALE, "nonce no longer tracked");
	}
	return verdict(res, SIPCX_AUTH_OK, "ok");
}

int sipcx_auth_server_verify(struct sipcx_auth_server *s, uint64_t now_s,
                             const struct sipcx_msg *req, bool proxy, sipcx_auth_lookup_cb *lookup,
                             void *arg, struct sipcx_auth_result *res)
{
	if (!s || !req || !req->request || !lookup || !res)
		return -EINVAL;
	*res = (struct sipcx_auth_result){ .verdict = SIPCX_AUTH_MISSING,
		                           .alg = SIPCX_AUTH_MD5,
		                           .username = SIPCX_STR_NULL,
		                           .reason = "no credentials" };
	enum sipcx_hdr_id id = proxy ? SIPCX_HDR_PROXY_AUTHORIZATION : SIPCX_HDR_AUTHORIZATION;
	for (const struct sipcx_hdr *h = sipcx_msg_hdr(req, id); h;
	     h = sipcx_msg_hdr_next(req, h)) {
		int err = sipcx_auth_server_check(s, now_s, h->value, req->method_str, req->ruri,
		                                  req->body, lookup, arg, res);
		if (err || res->verdict != SIPCX_AUTH_MISSING)
			return err;
	}
	if (res->verdict == SIPCX_AUTH_MISSING)
		res->reason = "no credentials for this realm";
	return 0;
}
