/* sipcx URIs: sip, sips (RFC 3261 19.1), tel (RFC 3966), their parameters and comparison. */
#ifndef SIPCX_URI_H
#define SIPCX_URI_H

#include <sipcx/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every parser here is zero-copy and allocation-free: results are slices
 * into the input, which must outlive them. Parsers never write their input
 * and never read past its length. They return 0 or -EBADMSG; the output
 * struct is then unspecified (but safe to read). All pointers must be
 * non-NULL; an empty input slice may have a NULL p.
 * Slices are raw: %-escapes stay escaped (see sipcx_uri_unescape()), quoted
 * strings have their quotes removed but quoted-pairs kept. An absent part is
 * an empty slice whose p points into the input (never NULL after success).
 */

enum sipcx_uri_scheme {
	SIPCX_URI_SIP = 0,
	SIPCX_URI_SIPS,
	SIPCX_URI_TEL,
	SIPCX_URI_OTHER, /**< absolute URI, kept opaque (raw + scheme only) */
};

struct sipcx_uri {
	enum sipcx_uri_scheme scheme;
	struct sipcx_str scheme_str; /**< as written, e.g. "SIP" */
	struct sipcx_str user;       /**< escaped; tel: the number; empty when none */
	struct sipcx_str password;   /**< escaped; empty when none */
	struct sipcx_str host;       /**< IPv6 without the brackets */
	bool host_ipv6;
	bool has_user;            /**< an '@' was present (user may still be empty); tel: true */
	uint16_t port;            /**< 0 when absent */
	struct sipcx_str params;  /**< ";a=b;lr" with the leading ';', or empty */
	struct sipcx_str headers; /**< "x=y&z=w" after '?', or empty */
	struct sipcx_str raw;     /**< the whole URI */
};

/**
 * Parse a URI (sip, sips, tel, or any absolute URI kept opaque). The whole
 * slice must be the URI: LWS, '<', '>', '"' or a bad %-escape anywhere is
 * -EBADMSG (RFC 4475 lwsruri, ltgtruri), as is a port over 65535.
 */
SIPCX_API int sipcx_uri_parse(struct sipcx_uri *u, struct sipcx_str s);
/**
 * Decode %HH escapes of s into out (outsz bytes). A %00 is data: the result
 * is a byte string of *outlen bytes, not NUL-terminated. Not recursive
 * ("%25%41" gives "%A"). Returns 0, -EBADMSG on a bad escape, -ENOSPC.
 */
SIPCX_API int sipcx_uri_unescape(struct sipcx_str s, char *out, size_t outsz, size_t *outlen);
/**
 * Escape s for a URI header value (RFC 3261 25.1 hvalue): every byte but the
 * unreserved ones becomes %HH, so ';', '=', '@' and '&' survive inside
 * "?Replaces=...". Writes *outlen bytes (not NUL-terminated). 0 or -ENOSPC.
 */
SIPCX_API int sipcx_uri_escape(struct sipcx_str s, char *out, size_t outsz, size_t *outlen);
/**
 * The URI header called name (case-insensitive) of u ("?Replaces=x&Subject=y"):
 * true and its value, still escaped (sipcx_uri_unescape() it); false when absent.
 */
SIPCX_API bool sipcx_uri_header(const struct sipcx_uri *u, const char *name,
                                struct sipcx_str *value);
/** URI parameter lookup by case-insensitive name; see sipcx_param_get(). */
SIPCX_API bool sipcx_uri_param(const struct sipcx_uri *u, const char *name,
                               struct sipcx_str *value);
/**
 * RFC 3261 19.1.4 comparison of two sip/sips URIs (escapes decoded, user
 * case-sensitive, host and params case-insensitive, the listed params must
 * match when present in both, user/ttl/method/maddr/transport when in one;
 * an escaped reserved character is not its literal; headers must match as a
 * set). tel (RFC 3966 4): visual separators ignored, parameters must match as
 * a set. Other schemes: case-insensitive byte compare of raw.
 */
SIPCX_API bool sipcx_uri_equal(const struct sipcx_uri *a, const struct sipcx_uri *b);

/*
 * Generic ";name=value" parameters. params is ";a=b;c;d=\"q\"" (leading ';'
 * optional, whitespace around ';' and '=' allowed).
 */
/** Find a parameter by case-insensitive name; value gets "" for a flag. Quotes removed. */
SIPCX_API bool sipcx_param_get(struct sipcx_str params, const char *name, struct sipcx_str *value);
/**
 * Iterate: returns 1 and the next name/value (value empty for a flag, quotes
 * removed), 0 at the end, -EBADMSG on a malformed parameter. *rest advances.
 */
SIPCX_API int sipcx_param_next(struct sipcx_str *rest, struct sipcx_str *name,
                               struct sipcx_str *value);

#ifdef __cplusplus
}
#endif
#endif
