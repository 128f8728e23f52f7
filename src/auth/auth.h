/* auth: private helpers shared by the digest math, the client and the server (RFC 7616). */
#ifndef SIPCX__AUTH_H
#define SIPCX__AUTH_H

#include <openssl/evp.h>

#include <sipcx/auth.h>

#include "base/base.h"

/* One reusable hash context: EVP_MD_CTX_new() per hash would cost an allocation each time. */
struct sipcx__digest {
	EVP_MD_CTX *md;
};

/* Returns 0 or -ENOMEM. */
int sipcx__digest_init(struct sipcx__digest *d);
void sipcx__digest_fini(struct sipcx__digest *d);
/* The fetched (cached) EVP_MD of alg's hash, NULL when OpenSSL lacks it. */
const EVP_MD *sipcx__digest_md(enum sipcx_auth_alg alg);
/* The fetched HMAC, NULL when unavailable. */
EVP_MAC *sipcx__digest_hmac(void);
/* Lowercase hex of H(parts[0] ":" parts[1] ":" ...) into hex (hexlen + NUL). 0 or -errno. */
int sipcx__digest_hash(struct sipcx__digest *d, enum sipcx_auth_alg alg,
                       const struct sipcx_str *parts, size_t n, char *hex);
/* The request-digest of in into hex (hexlen + NUL). 0 or -errno. */
int sipcx__digest_response(struct sipcx__digest *d, const struct sipcx_auth_digest_input *in,
                           char *hex);

/* Strength rank for choosing among challenges: higher is stronger. */
int sipcx__auth_alg_rank(enum sipcx_auth_alg alg);
/* Is tok one of the comma-separated tokens of list (case-insensitive)? */
bool sipcx__auth_list_has(struct sipcx_str list, const char *tok);
/* Remove quoted-pair backslashes of a quoted-string's content into out (s.len bytes). */
size_t sipcx__auth_unquote(struct sipcx_str s, char *out);
/* Append s as a quoted-string: '"' and '\' escaped. */
void sipcx__auth_put_quoted(struct sipcx_buf *b, struct sipcx_str s);
/* Does s hold CR, LF or NUL (which would break or truncate a header)? */
bool sipcx__auth_has_ctl(struct sipcx_str s);

#endif
