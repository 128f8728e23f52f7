/* auth: digest math, HA1 / HA2 / request-digest for MD5, SHA-256, SHA-512-256 (RFC 7616 3.4, RFC 2617 3.2.2). */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"

static const char *const alg_names[SIPCX_AUTH_ALG__COUNT] = {
	"MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess",
};

/*
 * Fetched once for the process: an implicit fetch (EVP_md5() and friends
 * through EVP_DigestInit) looks the provider up on every init, about twice
 * the cost of a digest this short.
 */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *fetched_md[3]; /* MD5, SHA-256, SHA-512/256 */
static EVP_MAC *fetched_hmac;

static void fetch_all(void)
{
	fetched_md[0] = EVP_MD_fetch(NULL, "MD5", NULL);
	fetched_md[1] = EVP_MD_fetch(NULL, "SHA256", NULL);
	fetched_md[2] = EVP_MD_fetch(NULL, "SHA512-256", NULL);
	fetched_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

const EVP_MD *sipcx__digest_md(enum sipcx_auth_alg alg)
{
	if ((unsigned)alg >= SIPCX_AUTH_ALG__COUNT)
		return NULL;
	pthread_once(&fetch_once, fetch_all);
	return fetched_md[(unsigned)alg / 2];
}

EVP_MAC *sipcx__digest_hmac(void)
{
	pthread_once(&fetch_once, fetch_all);
	return fetched_hmac;
}

static bool is_sess(enum sipcx_auth_alg alg)
{
	return ((unsigned)alg & 1u) != 0;
}

int sipcx_auth_alg_parse(struct sipcx_str s, enum sipcx_auth_alg *out)
{
	if (!out)
		return -EINVAL;
	if (s.len == 0) {
		*out = SIPCX_AUTH_MD5;
		return 0;
	}
	for (unsigned i = 0; i < SIPCX_AUTH_ALG__COUNT; i++) {
		if (sipcx_str_ieq_c(s, alg_names[i])) {
			*out = (enum sipcx_auth_alg)i;
			return 0;
		}
	}
	return -ENOTSUP;
}

const char *sipcx_auth_alg_name(enum sipcx_auth_alg alg)
{
	return (unsigned)alg < SIPCX_AUTH_ALG__COUNT ? alg_names[alg] : "";
}

size_t sipcx_auth_alg_hexlen(enum sipcx_auth_alg alg)
{
	if ((unsigned)alg >= SIPCX_AUTH_ALG__COUNT)
		return 0;
	return (unsigned)alg < SIPCX_AUTH_SHA256 ? 32 : 64;
}

int sipcx__auth_alg_rank(enum sipcx_auth_alg alg)
{
	/* The hash decides; between alg and alg-sess the plain one is the more widely implemented. */
	return (int)((unsigned)alg / 2) * 2 + (is_sess(alg) ? 0 : 1);
}

int sipcx__digest_init(struct sipcx__digest *d)
{
	d->md = EVP_MD_CTX_new();
	return d->md ? 0 : -ENOMEM;
}

void sipcx__digest_fini(struct sipcx__digest *d)
{
	EVP_MD_CTX_free(d->md);
	d->md = NULL;
}

static void to_hex(const unsigned char *bin, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 15];
	}
	hex[2 * n] = '\0';
}

int sipcx__digest_hash(struct sipcx__digest *d, enum sipcx_auth_alg alg,
                       const struct sipcx_str *parts, size_t n, char *hex)
{
	const EVP_MD *md = sipcx__digest_md(alg);
	if (!md)
		return (unsigned)alg < SIPCX_AUTH_ALG__COUNT ? -ENOTSUP : -EINVAL;
	if (EVP_DigestInit_ex2(d->md, md, NULL) != 1)
		return -ENOTSUP;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && EVP_DigestUpdate(d->md, ":", 1) != 1)
			return -ENOMEM;
		if (parts[i].len > 0 && EVP_DigestUpdate(d->md, parts[i].p, parts[i].len) != 1)
			return -ENOMEM;
	}
	unsigned char bin[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(d->md, bin, &len) != 1 || len * 2 != sipcx_auth_alg_hexlen(alg))
		return -ENOMEM;
	to_hex(bin, len, hex);
	return 0;
}

int sipcx__digest_response(struct sipcx__digest *d, const struct sipcx_auth_digest_input *in,
                           char *hex)
{
	size_t hl = sipcx_auth_alg_hexlen(in->alg);
	if (hl == 0 || (unsigned)in->qop > SIPCX_AUTH_QOP_AUTH_INT)
		return -EINVAL;
	if (in->ha1.len != 0 && in->ha1.len != hl)
		return -EINVAL;

	char ha1[SIPCX_AUTH_HEX_MAX + 1], ha2[SIPCX_AUTH_HEX_MAX + 1],
	    hbody[SIPCX_AUTH_HEX_MAX + 1];
	int err;
	/* RFC 7616 3.4.2: A1 = username:realm:passwd, or for -sess H(that):nonce:cnonce */
	if (in->ha1.len) {
		/* Stored HA1 may be in any case; the hash input is lowercase hex. */
		for (size_t i = 0; i < hl; i++)
			ha1[i] = sipcx__lower(in->ha1.p[i]);
		ha1[hl] = '\0';
	} else {
		struct sipcx_str a1[3] = { in->username, in->realm, in->password };
		if ((err = sipcx__digest_hash(d, in->alg, a1, 3, ha1)) != 0)
			return err;
	}
	if (is_sess(in->alg)) {
		struct sipcx_str s[3] = { { ha1, hl }, in->nonce, in->cnonce };
		if ((err = sipcx__digest_hash(d, in->alg, s, 3, ha1)) != 0)
			return err;
	}
	/* RFC 7616 3.4.3: A2 = method:uri, for auth-int method:uri:H(body) */
	if (in->qop == SIPCX_AUTH_QOP_AUTH_INT) {
		if ((err = sipcx__digest_hash(d, in->alg, &in->body, 1, hbody)) != 0)
			return err;
		struct sipcx_str a2[3] = { in->method, in->uri, { hbody, hl } };
		err = sipcx__digest_hash(d, in->alg, a2, 3, ha2);
	} else {
		struct sipcx_str a2[2] = { in->method, in->uri };
		err = sipcx__digest_hash(d, in->alg, a2, 2, ha2);
	}
	if (err)
		return err;
	if (in->qop == SIPCX_AUTH_QOP_NONE) {
		/* RFC 2069: H(HA1:nonce:HA2) */
		struct sipcx_str r[3] = { { ha1, hl }, in->nonce, { ha2, hl } };
		err = sipcx__digest_hash(d, in->alg, r, 3, hex);
	} else {
		struct sipcx_str qop =
		    in->qop == SIPCX_AUTH_QOP_AUTH ? SIPCX_STR("auth") : SIPCX_STR("auth-int");
		struct sipcx_str r[6] = { { ha1, hl }, in->nonce, in->nc,
			                  in->cnonce,  qop,       { ha2, hl } };
		err = sipcx__digest_hash(d, in->alg, r, 6, hex);
	}
	OPENSSL_cleanse(ha1, sizeof(ha1));
	return err;
}

int sipcx_auth_digest_response(const struct sipcx_auth_digest_input *in,
                               char out[SIPCX_AUTH_HEX_MAX + 1])
{
	if (!in || !out)
		return -EINVAL;
	struct sipcx__digest d;
	if (sipcx__digest_init(&d) != 0)
		return -ENOMEM;
	int err = sipcx__digest_response(&d, in, out);
	sipcx__digest_fini(&d);
	return err;
}

int sipcx_auth_ha1(enum sipcx_auth_alg alg, struct sipcx_str username, struct sipcx_str realm,
                   struct sipcx_str password, char out[SIPCX_AUTH_HEX_MAX + 1])
{
	if (!out)
		return -EINVAL;
	struct sipcx__digest d;
	if (sipcx__digest_init(&d) != 0)
		return -ENOMEM;
	struct sipcx_str p[3] = { username, realm, password };
	int err = sipcx__digest_hash(&d, alg, p, 3, out);
	sipcx__digest_fini(&d);
	return err;
}

int sipcx_auth_userhash(enum sipcx_auth_alg alg, struct sipcx_str username, struct sipcx_str realm,
                        char out[SIPCX_AUTH_HEX_MAX + 1])
{
	if (!out)
		return -EINVAL;
	struct sipcx__digest d;
	if (sipcx__digest_init(&d) != 0)
		return -ENOMEM;
	struct sipcx_str p[2] = { username, realm };
	int err = sipcx__digest_hash(&d, alg, p, 2, out);
	sipcx__digest_fini(&d);
	return err;
}

/*
 * Small text helpers shared by client and server.
 */

bool sipcx__auth_list_has(struct sipcx_str list, const char *tok)
{
	size_t i = 0;
	while (i < list.len) {
		size_t j = i;
		while (j < list.len && list.p[j] != ',')
			j++;
		struct sipcx_str item = sipcx_str_trim((struct sipcx_str){ list.p + i, j - i });
		if (sipcx_str_ieq_c(item, tok))
			return true;
		i = j + 1;
	}
	return false;
}

size_t sipcx__auth_unquote(struct sipcx_str s, char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '\\' && i + 1 < s.len)
			i++;
		out[n++] = s.p[i];
	}
	return n;
}

void sipcx__auth_put_quoted(struct sipcx_buf *b, struct sipcx_str s)
{
	sipcx_buf_append(b, "\"", 1);
	if (s.len == 0) {
		sipcx_buf_append(b, "\"", 1);
		return;
	}
	size_t run = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '"' || s.p[i] == '\\') {
			sipcx_buf_append(b, s.p + run, i - run);
			sipcx_buf_append(b, "\\", 1);
			run = i;
		}
	}
	sipcx_buf_append(b, s.p + run, s.len - run);
	sipcx_buf_append(b, "\"", 1);
}

bool sipcx__auth_has_ctl(struct sipcx_str s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == '\r' || s.p[i] == '\n' || s.p[i] == '\0')
			return true;
	return false;
}
