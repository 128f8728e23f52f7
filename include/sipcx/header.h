/* sipcx header values: name-addr (From, To, Contact, Route), Via, CSeq, digest parameters, multi-value splitting (RFC 3261 20, 25). */
#ifndef SIPCX_HEADER_H
#define SIPCX_HEADER_H

#include <sipcx/base.h>
#include <sipcx/uri.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Like the URI parsers, every parser here is zero-copy and allocation-free: results are slices
 * into the input, which must outlive them. Parsers never write their input
 * and never read past its length. They return 0 or -EBADMSG; the output
 * struct is then unspecified (but safe to read). All pointers must be
 * non-NULL; an empty input slice may have a NULL p.
 * Slices are raw: %-escapes stay escaped (see sipcx_uri_unescape()), quoted
 * strings have their quotes removed but quoted-pairs kept. An absent part is
 * an empty slice whose p points into the input (never NULL after success).
 */

/**
 * Split a multi-value header (Via, Contact, Route, Allow, ...): returns 1 and
 * the next trimmed element, 0 at the end, -EBADMSG on an unterminated quote
 * or '<'. Commas inside quotes or <...> do not split. Empty elements skipped.
 */
SIPCX_API int sipcx_hdr_split(struct sipcx_str *rest, struct sipcx_str *item);

/** name-addr or addr-spec with header parameters (From, To, Contact, Route, Refer-To, ...). */
struct sipcx_addr {
	struct sipcx_str display; /**< without quotes, quoted-pairs kept; empty when none */
	struct sipcx_uri uri;
	struct sipcx_str params; /**< header params after the URI (";tag=x;expires=60") */
	struct sipcx_str tag;    /**< value of the tag param, empty when none */
	bool star;               /**< Contact: * */
	bool angle;              /**< the URI was in <> */
	struct sipcx_str raw;
};
/**
 * Parse one name-addr / addr-spec. In addr-spec form (no <>), params after
 * the URI belong to the header, not the URI (RFC 3261 20.10), and a URI with
 * ',' or '?' there is -EBADMSG (RFC 4475 regbadct). A lone "*" sets star.
 * Also -EBADMSG: an unbalanced quote, '<' without '>', LWS inside <>
 * (RFC 4475 badaspec), an unquoted display name that is not tokens
 * (RFC 4475 baddn), a malformed header parameter.
 */
SIPCX_API int sipcx_addr_parse(struct sipcx_addr *a, struct sipcx_str s);

/** One via-parm (RFC 3261 20.42, RFC 3581). */
struct sipcx_via {
	struct sipcx_str protocol;  /**< "SIP/2.0" as written (LWS around '/' kept) */
	struct sipcx_str transport; /**< "UDP", "TCP", ... */
	struct sipcx_str host;      /**< IPv6 without brackets */
	bool host_ipv6;
	uint16_t port; /**< 0 when absent */
	struct sipcx_str branch, received, maddr;
	int32_t rport;           /**< -1 absent, 0 present without value, else the port */
	int32_t ttl;             /**< -1 absent */
	struct sipcx_str params; /**< all params with the leading ';' */
	struct sipcx_str raw;
};
/**
 * Parse one via-parm (split a Via header with sipcx_hdr_split() first).
 * LWS around '/' and ':' is allowed; -EBADMSG for a port or rport over
 * 65535, a ttl over 255, a branch/received/maddr without value, a
 * malformed parameter.
 */
SIPCX_API int sipcx_via_parse(struct sipcx_via *v, struct sipcx_str s);

struct sipcx_cseq {
	uint32_t num; /**< 0 .. 2^31-1 (RFC 3261 8.1.1.5) */
	struct sipcx_str method;
};
/** Parse "1*DIGIT LWS method". -EBADMSG when the number is 2^31 or more. */
SIPCX_API int sipcx_cseq_parse(struct sipcx_cseq *c, struct sipcx_str s);

/** RAck (RFC 3262 7.2): the RSeq and the CSeq of the reliable provisional response acknowledged. */
struct sipcx_rack {
	uint32_t rseq; /**< 1 .. 2^31-1 */
	uint32_t cseq; /**< 0 .. 2^31-1 */
	struct sipcx_str method;
};
/** Parse "response-num LWS CSeq-num LWS Method". -EBADMSG when a number is out of range. */
SIPCX_API int sipcx_rack_parse(struct sipcx_rack *r, struct sipcx_str s);

/** Who refreshes a session (RFC 4028 refresher parameter). */
enum sipcx_refresher {
	SIPCX_REFRESHER_NONE = 0, /**< no refresher parameter */
	SIPCX_REFRESHER_UAC,
	SIPCX_REFRESHER_UAS,
};

/** Session-Expires or Min-SE (RFC 4028 4, 5): delta-seconds *(;param). */
struct sipcx_session_expires {
	uint32_t delta; /**< seconds, 1 .. 2^32-1 */
	enum sipcx_refresher refresher;
	struct sipcx_str params; /**< all params with the leading ';' */
};
/**
 * Parse a Session-Expires (or Min-SE, whose refresher stays NONE) value.
 * -EBADMSG: no number, 0, a number over 2^32-1, a malformed parameter, a
 * refresher other than uac/uas, or refresher given twice.
 */
SIPCX_API int sipcx_session_expires_parse(struct sipcx_session_expires *se, struct sipcx_str s);

/** Digest challenge or credentials (RFC 3261 22.4, RFC 7616, RFC 8760). */
struct sipcx_digest_params {
	struct sipcx_str scheme; /**< "Digest" (any scheme is parsed, only Digest used) */
	struct sipcx_str realm, nonce, opaque, algorithm, qop, domain;
	struct sipcx_str username, uri, response, cnonce, nc, userhash;
	bool stale;              /**< stale=true (any case) */
	struct sipcx_str params; /**< all parameters (or a token68), for anything not listed */
};
/**
 * Parse a WWW-/Proxy-Authenticate or (Proxy-)Authorization value: the scheme
 * token, LWS, then comma-separated auth-params (quoted values unquoted,
 * quoted-pairs kept). -EBADMSG on an unterminated quote, a parameter without
 * '=', or a listed parameter given twice.
 */
SIPCX_API int sipcx_digest_params_parse(struct sipcx_digest_params *d, struct sipcx_str s);

/** A Replaces value (RFC 3891 6.1): the dialog an INVITE takes the place of. */
struct sipcx_replaces {
	struct sipcx_str call_id;
	/** The tags as the receiver of the INVITE sees them: to-tag is its local tag. */
	struct sipcx_str to_tag, from_tag;
	bool early_only; /**< early-only: replace only a dialog that is not confirmed yet */
};
/**
 * Parse "callid;to-tag=a;from-tag=b[;early-only]". -EBADMSG when the Call-ID
 * is empty or has LWS inside, a tag is missing, empty or given twice, or a
 * parameter is malformed; other parameters are skipped.
 */
SIPCX_API int sipcx_replaces_parse(struct sipcx_replaces *r, struct sipcx_str s);

#ifdef __cplusplus
}
#endif
#endif
