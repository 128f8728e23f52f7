/* sipcx digest authentication: client answers to 401/407 and a stateless server (RFC 3261 22, RFC 7616, RFC 8760). */
#ifndef SIPCX_AUTH_H
#define SIPCX_AUTH_H

#include <sipcx/base.h>
#include <sipcx/msg.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Nothing here does I/O or reads a clock: time comes in as an argument and
 * randomness through sipcx_random_bytes() or a callback you give. Objects
 * are used by one thread at a time.
 */

/** Digest algorithms (RFC 7616 3.2, RFC 8760 2). */
enum sipcx_auth_alg {
	SIPCX_AUTH_MD5 = 0,
	SIPCX_AUTH_MD5_SESS,
	SIPCX_AUTH_SHA256,
	SIPCX_AUTH_SHA256_SESS,
	SIPCX_AUTH_SHA512_256, /**< FIPS 180-4 SHA-512/256 (its own IV, not a truncated SHA-512) */
	SIPCX_AUTH_SHA512_256_SESS,
	SIPCX_AUTH_ALG__COUNT
};

/** Quality of protection (RFC 7616 3.4.3). */
enum sipcx_auth_qop {
	SIPCX_AUTH_QOP_NONE = 0, /**< RFC 2069 compatibility: no qop, nc, cnonce */
	SIPCX_AUTH_QOP_AUTH,
	SIPCX_AUTH_QOP_AUTH_INT, /**< the body is hashed into HA2 */
};

/** Longest hex digest (SHA-256, SHA-512/256); buffers take one more byte for the NUL. */
#define SIPCX_AUTH_HEX_MAX 64
/** Most realms a client caches, and so most header values one call produces. */
#define SIPCX_AUTH_MAX_HDRS 8
/** Longest cnonce a cnonce callback may write (without its NUL). */
#define SIPCX_AUTH_CNONCE_MAX 64

/**
 * Map an algorithm token ("MD5", "sha-256-sess", case-insensitive) to its
 * enum. An empty slice is MD5 (RFC 7616 3.3: the default). Returns 0, or
 * -ENOTSUP for any other token (never a silent fallback to MD5).
 */
SIPCX_API int sipcx_auth_alg_parse(struct sipcx_str s, enum sipcx_auth_alg *out);
/** Canonical token of an algorithm ("SHA-512-256-sess"); "" when out of range. */
SIPCX_API const char *sipcx_auth_alg_name(enum sipcx_auth_alg alg);
/** Length of the algorithm's hex digest (32 or 64); 0 when out of range. */
SIPCX_API size_t sipcx_auth_alg_hexlen(enum sipcx_auth_alg alg);

/*
 * Digest math (RFC 7616 3.4.1-3.4.3, RFC 2617 3.2.2). Every input is the
 * unquoted value (no quotes, no quoted-pairs).
 */
struct sipcx_auth_digest_input {
	enum sipcx_auth_alg alg;
	enum sipcx_auth_qop qop;
	struct sipcx_str username, realm, password;
	/**
	 * Hex H(username:realm:password) of alg's hash (lowercase), used
	 * instead of the password when not empty (see sipcx_auth_ha1()).
	 * For -sess the nonce and cnonce are folded in on top of it.
	 */
	struct sipcx_str ha1;
	struct sipcx_str nonce;
	struct sipcx_str cnonce; /**< ignored with QOP_NONE unless alg is -sess */
	struct sipcx_str nc;     /**< 8 hex digits; ignored with QOP_NONE */
	struct sipcx_str method, uri;
	struct sipcx_str body; /**< hashed with QOP_AUTH_INT only */
};

/**
 * The request-digest ("response" parameter) as lowercase hex into out
 * (sipcx_auth_alg_hexlen() characters and a NUL). Returns 0, -EINVAL
 * (NULL argument, alg or qop out of range, ha1 of the wrong length),
 * -ENOTSUP (OpenSSL lacks the hash, e.g. MD5 in FIPS mode), -ENOMEM.
 */
SIPCX_API int sipcx_auth_digest_response(const struct sipcx_auth_digest_input *in,
                                         char out[SIPCX_AUTH_HEX_MAX + 1]);
/**
 * H(username:realm:password) in lowercase hex: what a user database stores
 * instead of the password (the same value serves alg and alg-sess).
 * Errors as sipcx_auth_digest_response().
 */
SIPCX_API int sipcx_auth_ha1(enum sipcx_auth_alg alg, struct sipcx_str username,
                             struct sipcx_str realm, struct sipcx_str password,
                             char out[SIPCX_AUTH_HEX_MAX + 1]);
/**
 * RFC 7616 3.4.4 userhash: H(username:realm) in lowercase hex.
 * Errors as sipcx_auth_digest_response().
 */
SIPCX_API int sipcx_auth_userhash(enum sipcx_auth_alg alg, struct sipcx_str username,
                                  struct sipcx_str realm, char out[SIPCX_AUTH_HEX_MAX + 1]);

/*
 * Client: answers WWW-Authenticate (401) with Authorization and
 * Proxy-Authenticate (407) with Proxy-Authorization, and caches what it
 * learnt per realm so later requests carry credentials up front.
 */
struct sipcx_auth_client;

/**
 * Writes a fresh client nonce, NUL-terminated, into out (size bytes, at
 * least SIPCX_AUTH_CNONCE_MAX + 1). It must be 1 to SIPCX_AUTH_CNONCE_MAX
 * visible ASCII characters without '"' or '\'. Returns 0 or a negative
 * error, which the calling function returns.
 */
typedef int sipcx_auth_cnonce_cb(char *out, size_t size, void *arg);

struct sipcx_auth_client_opts {
	/** cnonce source; NULL: 16 bytes of sipcx_random_bytes() in hex. */
	sipcx_auth_cnonce_cb *cnonce;
	void *cnonce_arg;
};

/**
 * The state of one request chain: a request and the re-sends of it that
 * answer its challenges. Zero it (SIPCX_AUTH_CHAIN_INIT) for every new
 * request (a REGISTER refresh, a new INVITE or BYE) and pass the same one
 * for each 401/407 that request receives: it is how the client knows that
 * the credentials it already gave for a realm were refused.
 */
struct sipcx_auth_chain {
	uint32_t id[SIPCX_AUTH_MAX_HDRS];   /* private: realm cache entries answered */
	uint8_t stale[SIPCX_AUTH_MAX_HDRS]; /* private: stale re-sends used per entry */
	uint8_t n;                          /* private */
};
#define SIPCX_AUTH_CHAIN_INIT   \
	{                       \
		{ 0 }, { 0 }, 0 \
	}

/**
 * Create a client. opts may be NULL (defaults). On success *out gets the
 * client; on failure *out is untouched. Returns 0, -EINVAL, -ENOMEM.
 */
SIPCX_API int sipcx_auth_client_new(struct sipcx_auth_client **out,
                                    const struct sipcx_auth_client_opts *opts);
/** Free a client (NULL accepted). Passwords are wiped from memory first. */
SIPCX_API void sipcx_auth_client_free(struct sipcx_auth_client *c);

/**
 * Set the username and password used for realm (NUL-terminated strings,
 * copied; NULL realm: every realm without credentials of its own). Setting
 * a realm again replaces its credentials. Returns 0, -EINVAL (c, username
 * or password NULL; CR or LF in username or realm), SIPCX_ELIMIT (more
 * than SIPCX_AUTH_MAX_HDRS realms), -ENOMEM.
 */
SIPCX_API int sipcx_auth_client_set_credentials(struct sipcx_auth_client *c, const char *realm,
                                                const char *username, const char *password);

/**
 * Answer the challenges of a 401/407 response resp to a request sent with
 * method, ruri (the Request-URI as sent) and body (used for auth-int; may
 * be empty). Every WWW-Authenticate and Proxy-Authenticate header of resp
 * is read; per realm the strongest supported algorithm is chosen
 * (SHA-512-256 > SHA-256 > MD5, plain before -sess), qop auth before
 * auth-int, no qop answered RFC 2069 style; challenges in another scheme,
 * with an unknown algorithm or qop, or malformed, are skipped.
 *
 * On success *hdrs gets *n (>= 1) headers to add to the re-sent request
 * (id SIPCX_HDR_AUTHORIZATION or SIPCX_HDR_PROXY_AUTHORIZATION, name set,
 * value "Digest ..."), one per realm answered. They point into memory of
 * the client, valid until the next call with this client or its free.
 * The re-sent request must drop the credentials of the previous one.
 *
 * chain (see struct sipcx_auth_chain) decides when to give up: a realm
 * answered before in this chain and challenged again without stale=true
 * means its credentials were refused; with stale=true it is answered once
 * more with the new nonce (not counted as a failure), a second stale
 * challenge in a row is a failure.
 *
 * Credentials sent pre-emptively (sipcx_auth_client_authorize()) do not
 * count as an answer: a 401 to them is answered once more. nc restarts at
 * 00000001 for a new nonce and goes on for a nonce seen before; every
 * header gets a fresh cnonce. For -sess algorithms the session HA1 is
 * computed per request with that request's cnonce (RFC 7616 3.4.2).
 *
 * Returns 0; SIPCX_EAUTH (credentials refused, or none set for any realm
 * challenged); -EPROTO (no usable challenge: none, another scheme only, an
 * unknown algorithm or qop only, malformed); -EINVAL (NULL argument, empty
 * method or ruri, CR or LF in them, a cnonce breaking the callback rules);
 * -ENOMEM; or the cnonce callback's error. On failure *hdrs and *n are
 * untouched and sipcx_auth_client_reason() says why.
 */
SIPCX_API int sipcx_auth_client_respond(struct sipcx_auth_client *c, struct sipcx_auth_chain *chain,
                                        const struct sipcx_msg *resp, struct sipcx_str method,
                                        struct sipcx_str ruri, struct sipcx_str body,
                                        const struct sipcx_hdr **hdrs, size_t *n);

/**
 * Pre-emptive credentials for a new request: one header per cached realm
 * (nonce reused with the next nc and a fresh cnonce), so a REGISTER
 * refresh or a BYE through a proxy need not be challenged again. *n may be
 * 0 (nothing cached yet). Lifetime of *hdrs as sipcx_auth_client_respond().
 * Returns 0, -EINVAL, -ENOMEM or the cnonce callback's error.
 */
SIPCX_API int sipcx_auth_client_authorize(struct sipcx_auth_client *c, struct sipcx_str method,
                                          struct sipcx_str ruri, struct sipcx_str body,
                                          const struct sipcx_hdr **hdrs, size_t *n);

/** Why the last call failed, for a log line or an error message (never NULL, "" after success). */
SIPCX_API const char *sipcx_auth_client_reason(const struct sipcx_auth_client *c);

/*
 * Server: challenges with a nonce that carries its own time and an HMAC,
 * nonce = base64url(time (8 bytes) || random (8) || HMAC-SHA256(key, time
 * || random || algorithm || realm)[0..16)), so any nonce it issued can be
 * checked without a table. A small bounded table remembers the highest nc
 * seen per nonce to refuse replays.
 */
struct sipcx_auth_server;

struct sipcx_auth_server_opts {
	const char *realm;   /**< required; copied */
	const void *key;     /**< HMAC key (copied); NULL: 32 random bytes */
	size_t key_len;      /**< bytes of key (>= 16 when key is set) */
	uint32_t lifetime_s; /**< nonce lifetime; 0: 300 s */
	unsigned nc_slots;   /**< nonces remembered for replay checks; 0: 1024 */
	bool auth_int;       /**< offer qop="auth,auth-int" instead of "auth" */
	bool userhash;       /**< ask clients for userhash=true (RFC 7616 3.4.4) */
	/** Bit (1u << alg) per algorithm accepted in credentials; 0: all. */
	unsigned algs;
	/** Nonce randomness; NULL: sipcx_random_bytes(). Returns 0 or an error. */
	int (*random)(void *buf, size_t n, void *arg);
	void *random_arg;
};

/**
 * Create a server. Returns 0, -EINVAL (no realm, a realm with CR or LF, a
 * key shorter than 16 bytes), -ENOTSUP (no HMAC-SHA256 in OpenSSL),
 * -ENOMEM, or the random source's error. *out untouched on failure.
 */
SIPCX_API int sipcx_auth_server_new(struct sipcx_auth_server **out,
                                    const struct sipcx_auth_server_opts *opts);
/** Free a server (NULL accepted). The key is wiped first. */
SIPCX_API void sipcx_auth_server_free(struct sipcx_auth_server *s);

/**
 * Append one challenge value to value_out ("Digest realm=..., nonce=...,
 * algorithm=..., qop=..." and ", stale=true" when stale), for a
 * WWW-Authenticate or Proxy-Authenticate header. now_s is the current time
 * in seconds on any clock that the same server's verify calls use.
 * RFC 8760 3: to offer several algorithms, add one header per algorithm,
 * strongest first. Returns 0, -EINVAL (alg not accepted by this server),
 * -ENOMEM, or the random source's error.
 */
SIPCX_API int sipcx_auth_server_challenge(struct sipcx_auth_server *s, uint64_t now_s,
                                          enum sipcx_auth_alg alg, bool stale,
                                          struct sipcx_buf *value_out);

/** Secret of one user, filled by the lookup callback. */
struct sipcx_auth_secret {
	struct sipcx_str password; /**< the password, or */
	struct sipcx_str ha1;      /**< its hex H(user:realm:password) for alg (sipcx_auth_ha1()) */
	struct sipcx_str username; /**< userhash only, with a password: the real username */
};

/**
 * Find the secret of username in realm for alg. With userhash, username is
 * H(user:realm) (RFC 7616 3.4.4) and the callback must resolve it. Fill
 * secret (its slices must stay valid until the verify call returns) and
 * return 0, or -ENOENT for an unknown user, or another negative error that
 * the verify call returns.
 */
typedef int sipcx_auth_lookup_cb(struct sipcx_str username, struct sipcx_str realm,
                                 enum sipcx_auth_alg alg, bool userhash,
                                 struct sipcx_auth_secret *secret, void *arg);

enum sipcx_auth_verdict {
	/** Credentials valid: serve the request. */
	SIPCX_AUTH_OK = 0,
	/** No credentials for this realm: challenge. */
	SIPCX_AUTH_MISSING,
	/**
	 * Right password, but the nonce expired, nc was replayed, or the
	 * nonce dropped out of the nc table: challenge with stale=true.
	 */
	SIPCX_AUTH_STALE,
	/** Wrong password, unknown user, forged nonce, malformed: challenge again (or 403). */
	SIPCX_AUTH_BAD,
};

struct sipcx_auth_result {
	enum sipcx_auth_verdict verdict;
	/** Algorithm of the credentials (MD5 when none): re-challenge with it. */
	enum sipcx_auth_alg alg;
	/** As sent, quoted-pairs kept (a slice of the credentials); empty when none. */
	struct sipcx_str username;
	bool userhash;      /**< username is H(user:realm) */
	const char *reason; /**< static text, e.g. "nonce expired" */
};

/**
 * Check the credentials of request req for this server's realm: the first
 * Digest Authorization header (proxy false) or Proxy-Authorization header
 * (proxy true) with this realm, against req's method, Request-URI (the
 * credentials' uri must equal it) and body (auth-int). now_s as in
 * sipcx_auth_server_challenge(). The verdict is in *res; its username
 * points into req. A valid digest on an expired nonce, or with an nc not
 * above the highest seen for that nonce, is STALE; a nonce this server did
 * not issue (other key, other realm, other algorithm, altered) is BAD.
 * The nc table is updated only by credentials that pass every check.
 * Returns 0 (look at res->verdict), -EINVAL (NULL argument, req not a
 * request), -ENOTSUP or -ENOMEM (OpenSSL failed), or the lookup
 * callback's error other than -ENOENT.
 */
SIPCX_API int sipcx_auth_server_verify(struct sipcx_auth_server *s, uint64_t now_s,
                                       const struct sipcx_msg *req, bool proxy,
                                       sipcx_auth_lookup_cb *lookup, void *arg,
                                       struct sipcx_auth_result *res);

/**
 * The same check on parts: one credentials value (what follows
 * "Authorization:"), the request's method, Request-URI and body.
 * A value in another scheme or for another realm is MISSING.
 */
SIPCX_API int sipcx_auth_server_check(struct sipcx_auth_server *s, uint64_t now_s,
                                      struct sipcx_str value, struct sipcx_str method,
                                      struct sipcx_str ruri, struct sipcx_str body,
                                      sipcx_auth_lookup_cb *lookup, void *arg,
                                      struct sipcx_auth_result *res);

#ifdef __cplusplus
}
#endif
#endif
