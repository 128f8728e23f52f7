/* sipcx SIP messages: zero-copy parse, header index, checks and printing (RFC 3261 7, 8.2, 18.3, 20). */
#ifndef SIPCX_MSG_H
#define SIPCX_MSG_H

#include <sipcx/base.h>
#include <sipcx/header.h>
#include <sipcx/uri.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most header lines one message may have; more gives -E2BIG. */
#define SIPCX_MSG_MAX_HDRS 128
/** Largest message (start line to end of body) accepted; larger gives -EMSGSIZE. */
#define SIPCX_MSG_MAX_SIZE 65535
/** Bytes of struct sipcx_msg's private part (the index and the parse cache). */
#define SIPCX_MSG_PRIVATE_SIZE 1152

/** Request methods; SIPCX_METHOD_OTHER for any other token (its text is in method_str). */
enum sipcx_method {
	SIPCX_METHOD_OTHER = 0,
	SIPCX_METHOD_INVITE,
	SIPCX_METHOD_ACK,
	SIPCX_METHOD_BYE,
	SIPCX_METHOD_CANCEL,
	SIPCX_METHOD_OPTIONS,
	SIPCX_METHOD_REGISTER,
	SIPCX_METHOD_PRACK,
	SIPCX_METHOD_SUBSCRIBE,
	SIPCX_METHOD_NOTIFY,
	SIPCX_METHOD_PUBLISH,
	SIPCX_METHOD_INFO,
	SIPCX_METHOD_REFER,
	SIPCX_METHOD_MESSAGE,
	SIPCX_METHOD_UPDATE,
	SIPCX_METHOD__COUNT
};

/**
 * Well-known headers. Names are matched case-insensitively (RFC 3261 7.3.1)
 * and compact forms map to the same id: i Call-ID, m Contact,
 * e Content-Encoding, l Content-Length, c Content-Type, f From, s Subject,
 * k Supported, t To, v Via, o Event, u Allow-Events, r Refer-To,
 * b Referred-By, x Session-Expires, y Identity.
 */
enum sipcx_hdr_id {
	SIPCX_HDR_OTHER = 0, /**< not in this list: kept opaque, look up by name */
	SIPCX_HDR_ACCEPT,
	SIPCX_HDR_ACCEPT_ENCODING,
	SIPCX_HDR_ACCEPT_LANGUAGE,
	SIPCX_HDR_ALERT_INFO,
	SIPCX_HDR_ALLOW,
	SIPCX_HDR_ALLOW_EVENTS,
	SIPCX_HDR_AUTHENTICATION_INFO,
	SIPCX_HDR_AUTHORIZATION,
	SIPCX_HDR_CALL_ID,
	SIPCX_HDR_CALL_INFO,
	SIPCX_HDR_CONTACT,
	SIPCX_HDR_CONTENT_DISPOSITION,
	SIPCX_HDR_CONTENT_ENCODING,
	SIPCX_HDR_CONTENT_LANGUAGE,
	SIPCX_HDR_CONTENT_LENGTH,
	SIPCX_HDR_CONTENT_TYPE,
	SIPCX_HDR_CSEQ,
	SIPCX_HDR_DATE,
	SIPCX_HDR_ERROR_INFO,
	SIPCX_HDR_EVENT,
	SIPCX_HDR_EXPIRES,
	SIPCX_HDR_FROM,
	SIPCX_HDR_IDENTITY,
	SIPCX_HDR_IN_REPLY_TO,
	SIPCX_HDR_MAX_FORWARDS,
	SIPCX_HDR_MIME_VERSION,
	SIPCX_HDR_MIN_EXPIRES,
	SIPCX_HDR_MIN_SE,
	SIPCX_HDR_ORGANIZATION,
	SIPCX_HDR_P_ASSERTED_IDENTITY,
	SIPCX_HDR_P_PREFERRED_IDENTITY,
	SIPCX_HDR_PATH,
	SIPCX_HDR_PRIORITY,
	SIPCX_HDR_PRIVACY,
	SIPCX_HDR_PROXY_AUTHENTICATE,
	SIPCX_HDR_PROXY_AUTHORIZATION,
	SIPCX_HDR_PROXY_REQUIRE,
	SIPCX_HDR_RACK,
	SIPCX_HDR_REASON,
	SIPCX_HDR_RECORD_ROUTE,
	SIPCX_HDR_REFER_SUB,
	SIPCX_HDR_REFER_TO,
	SIPCX_HDR_REFERRED_BY,
	SIPCX_HDR_REPLACES,
	SIPCX_HDR_REPLY_TO,
	SIPCX_HDR_REQUIRE,
	SIPCX_HDR_RETRY_AFTER,
	SIPCX_HDR_ROUTE,
	SIPCX_HDR_RSEQ,
	SIPCX_HDR_SERVER,
	SIPCX_HDR_SERVICE_ROUTE,
	SIPCX_HDR_SESSION_EXPIRES,
	SIPCX_HDR_SIP_ETAG,
	SIPCX_HDR_SIP_IF_MATCH,
	SIPCX_HDR_SUBJECT,
	SIPCX_HDR_SUBSCRIPTION_STATE,
	SIPCX_HDR_SUPPORTED,
	SIPCX_HDR_TIMESTAMP,
	SIPCX_HDR_TO,
	SIPCX_HDR_UNSUPPORTED,
	SIPCX_HDR_USER_AGENT,
	SIPCX_HDR_VIA,
	SIPCX_HDR_WARNING,
	SIPCX_HDR_WWW_AUTHENTICATE,
	SIPCX_HDR__COUNT
};

/**
 * One header line. In a parsed message: name as written (may be compact,
 * e.g. "v"), value trimmed of surrounding whitespace. A folded value keeps
 * its CRLF + whitespace continuation bytes inside the slice (zero-copy);
 * the header.h parsers treat them as whitespace.
 * As input to the print functions: an empty name prints sipcx_hdr_name(id).
 */
struct sipcx_hdr {
	enum sipcx_hdr_id id;
	struct sipcx_str name;
	struct sipcx_str value;
};

/** sipcx_msg_parse() flags. */
enum {
	/**
	 * Byte stream (TCP/TLS): skip CRLF keep-alives before the start line,
	 * frame by Content-Length (required), return -EAGAIN when the message
	 * is not complete yet. Without it: one datagram (UDP), where a missing
	 * Content-Length means the body is the rest of the datagram and octets
	 * past Content-Length are ignored (RFC 3261 18.3).
	 */
	SIPCX_MSG_STREAM = 1u << 0,
};

/** Iterator over the comma-separated values of every header line with one id. */
struct sipcx_msg_iter {
	size_t idx;            /* private */
	struct sipcx_str rest; /* private */
};
/* clang-format off */
#define SIPCX_MSG_ITER_INIT { 0, { NULL, 0 } }
/* clang-format on */

/**
 * A parsed message. Every slice points into the parsed bytes, which must
 * outlive the struct (sipcx_msg_new()/sipcx_msg_dup() keep their own copy).
 * Read the public fields directly; the header values that a stack reads on
 * every message are parsed on first use by the accessors below and cached
 * in the private part. The accessors take a const message and fill that
 * cache: a message is used by one thread at a time.
 */
struct sipcx_msg {
	bool request;                /**< request (else response) */
	enum sipcx_method method;    /**< request: the method; response: SIPCX_METHOD_OTHER */
	struct sipcx_str method_str; /**< request: method token as written (case-sensitive) */
	struct sipcx_str ruri;       /**< request: Request-URI text */
	uint16_t status;             /**< response: 100..999 (sipcx_msg_check() drops > 699) */
	struct sipcx_str reason;     /**< response: reason phrase, may be empty */
	struct sipcx_str version;    /**< as written; any SIP/x.y parses, the check answers 505 */
	struct sipcx_str start_line; /**< without its CRLF */
	struct sipcx_str raw;        /**< the whole message: start line to end of body */
	struct sipcx_str body;       /**< empty when none */
	size_t hdr_count;            /**< entries used in hdrs */
	struct sipcx_hdr hdrs[SIPCX_MSG_MAX_HDRS]; /**< every header line, in order */

	/*
	 * Why the last sipcx_msg_parse() into this struct failed (err 0 after
	 * a success). After a failure past the start line, the fields above
	 * hold what was parsed, so sipcx_msg_check() can still answer 400/513.
	 */
	int err;              /**< the error returned, or 0 */
	size_t err_offset;    /**< byte offset of the problem from the start of buf */
	const char *err_what; /**< short static text, e.g. "bad Content-Length" */

	/**
	 * Private: the header index and the values parsed on first use,
	 * behind the accessors below. Its layout is not part of the API
	 * (it changes between versions); only its size is.
	 */
	union {
		unsigned char bytes[SIPCX_MSG_PRIVATE_SIZE];
		uint64_t align_;
		void *align_p_;
	} sipcx__private;
};

/**
 * Parse one message from buf (len bytes) into m, without allocating and
 * without writing buf or reading past len. m is caller-provided (it may be
 * on the stack, never one from sipcx_msg_new()); its previous content is
 * overwritten.
 * Returns the bytes consumed (> 0: skipped CRLFs + start line + headers +
 * body; with a datagram, trailing octets past Content-Length are not
 * counted), or:
 *  -EAGAIN   stream only: the message is not complete (also for CRLFs only)
 *  -EBADMSG  malformed: bad start line, header line, Content-Length
 *            (non-numeric, negative, > 2^32-1, conflicting values), body
 *            shorter than Content-Length in a datagram, no Content-Length
 *            on a stream, no empty line after the headers in a datagram
 *  -EMSGSIZE the message is larger than SIPCX_MSG_MAX_SIZE
 *  -E2BIG    more than SIPCX_MSG_MAX_HDRS header lines
 *  -EINVAL   m NULL, or buf NULL with len > 0 (NULL with 0 is empty)
 * On failure m->err, m->err_offset and m->err_what say what and where; a
 * request whose request line is bad (RFC 4475 3.1.2.8-10) still has its
 * headers indexed, so sipcx_msg_check() can answer it 400.
 * A stream transport must close the connection after -EBADMSG, -EMSGSIZE
 * or -E2BIG: the framing is lost.
 */
SIPCX_API int sipcx_msg_parse(struct sipcx_msg *m, const char *buf, size_t len, unsigned flags);

/**
 * Number of CR and LF bytes at the start of buf: stream keep-alives
 * (RFC 5626 4.4.1 "CRLFCRLF" ping) a transport may want to see or drop.
 */
SIPCX_API size_t sipcx_msg_skip_crlf(const char *buf, size_t len);

/**
 * Parse like sipcx_msg_parse() into a new refcounted message that holds its
 * own copy of the message bytes, in one allocation. On success *out gets
 * the message (refcount 1) and the bytes consumed are returned; on failure
 * *out is untouched and the sipcx_msg_parse() error or -ENOMEM is returned.
 * A datagram longer than SIPCX_MSG_MAX_SIZE gives -EMSGSIZE before
 * anything is allocated; the temporary parse is on the stack.
 * A server that wants to answer a malformed request parses on the stack
 * with sipcx_msg_parse(), runs sipcx_msg_check() and keeps it with
 * sipcx_msg_dup().
 */
SIPCX_API int sipcx_msg_new(struct sipcx_msg **out, const char *buf, size_t len, unsigned flags);

/**
 * Copy a parsed message (successfully or not; caller-owned or not) with its
 * bytes into a new refcounted message. Returns 0, -EINVAL (no message was
 * parsed into m), -ENOMEM; *out untouched on failure.
 */
SIPCX_API int sipcx_msg_dup(struct sipcx_msg **out, const struct sipcx_msg *m);

/** Take a reference to a message from sipcx_msg_new()/dup(). Returns m. NULL gives NULL. */
SIPCX_API struct sipcx_msg *sipcx_msg_ref(struct sipcx_msg *m);
/**
 * Drop a reference; the last one frees the message. NULL is accepted; a
 * caller-owned message (parsed into your own struct) is left alone.
 */
SIPCX_API void sipcx_msg_unref(struct sipcx_msg *m);

/*
 * Header index. O(1) per id; by name for the rest.
 */

/** First header line with this id, or NULL. id SIPCX_HDR_OTHER gives NULL. */
SIPCX_API const struct sipcx_hdr *sipcx_msg_hdr(const struct sipcx_msg *m, enum sipcx_hdr_id id);
/**
 * Next header line with the same id as prev (prev from this message), or
 * NULL. For SIPCX_HDR_OTHER, the next one with the same name (case-insensitive).
 */
SIPCX_API const struct sipcx_hdr *sipcx_msg_hdr_next(const struct sipcx_msg *m,
                                                     const struct sipcx_hdr *prev);
/**
 * First header line named name (NUL-terminated, case-insensitive; a
 * well-known name or compact form also finds the other forms), or NULL.
 */
SIPCX_API const struct sipcx_hdr *sipcx_msg_hdr_by_name(const struct sipcx_msg *m,
                                                        const char *name);
/** Number of header lines with this id (0 for SIPCX_HDR_OTHER). */
SIPCX_API unsigned sipcx_msg_hdr_count(const struct sipcx_msg *m, enum sipcx_hdr_id id);

/**
 * Next value of the header lines with id (Via, Contact, Route, Allow,
 * Supported, ...), in order, split with sipcx_hdr_split(). it starts as
 * SIPCX_MSG_ITER_INIT. Returns 1 and *value, 0 at the end, -EBADMSG on an
 * unterminated quote or '<' (iteration stops: the calls after it return 0).
 */
SIPCX_API int sipcx_msg_value_next(const struct sipcx_msg *m, enum sipcx_hdr_id id,
                                   struct sipcx_msg_iter *it, struct sipcx_str *value);
/**
 * Next Contact value parsed into *out (zero-copy into the message).
 * Returns 1, 0 at the end, -EBADMSG for a malformed value (iteration
 * may continue past it).
 */
SIPCX_API int sipcx_msg_contact_next(const struct sipcx_msg *m, struct sipcx_msg_iter *it,
                                     struct sipcx_addr *out);

/*
 * Cached accessors: each parses its header on first use and remembers the
 * result. A pointer result is valid as long as the message; NULL means the
 * header is absent or malformed (sipcx_msg_check() tells which).
 */

/** Request-URI parsed (requests only). */
SIPCX_API const struct sipcx_uri *sipcx_msg_ruri(const struct sipcx_msg *m);
/** Top Via: the first value of the first Via header line. */
SIPCX_API const struct sipcx_via *sipcx_msg_via(const struct sipcx_msg *m);
/** From, with its tag. */
SIPCX_API const struct sipcx_addr *sipcx_msg_from(const struct sipcx_msg *m);
/** To, with its tag (empty when none). */
SIPCX_API const struct sipcx_addr *sipcx_msg_to(const struct sipcx_msg *m);
/** First Contact value. */
SIPCX_API const struct sipcx_addr *sipcx_msg_contact(const struct sipcx_msg *m);
/** CSeq number and method. */
SIPCX_API const struct sipcx_cseq *sipcx_msg_cseq(const struct sipcx_msg *m);
/** The CSeq method as an enum (OTHER when unknown, absent or malformed). */
SIPCX_API enum sipcx_method sipcx_msg_cseq_method(const struct sipcx_msg *m);
/** Call-ID value (trimmed); the empty slice when absent. */
SIPCX_API struct sipcx_str sipcx_msg_call_id(const struct sipcx_msg *m);
/** Content-Type value with its parameters; the empty slice when absent. */
SIPCX_API struct sipcx_str sipcx_msg_content_type(const struct sipcx_msg *m);
/**
 * Max-Forwards (0..255). Returns 0 and *out, -ENOENT when absent (RFC 2543
 * peers: use 70), -EBADMSG when not a number, -ERANGE when > 255.
 */
SIPCX_API int sipcx_msg_max_forwards(const struct sipcx_msg *m, uint32_t *out);
/** Expires (0..2^32-1). Returns 0, -ENOENT, -EBADMSG, or -ERANGE when too large. */
SIPCX_API int sipcx_msg_expires(const struct sipcx_msg *m, uint32_t *out);
/** Content-Length as framed. Returns 0 and *out, or -ENOENT when absent. */
SIPCX_API int sipcx_msg_content_length(const struct sipcx_msg *m, size_t *out);

/*
 * Checks: is an incoming message fit for the stack, and if not, what the
 * RFC says to do with it.
 */

enum sipcx_msg_action {
	SIPCX_MSG_ACCEPT = 0, /**< process it */
	SIPCX_MSG_REJECT,     /**< a request: answer status + reason (never an ACK), then drop */
	SIPCX_MSG_DROP,       /**< discard silently (responses, ACKs, unanswerable garbage) */
};

struct sipcx_msg_verdict {
	enum sipcx_msg_action action;
	uint16_t status;    /**< REJECT: 400, 416, 505, 513; else 0 */
	const char *reason; /**< REJECT: reason phrase, e.g. "Bad CSeq" (static); else NULL */
	size_t offset;      /**< where the problem is (from the start of the parsed buf) */
	const char *what;   /**< short static text of the problem; NULL when ACCEPT */
};

/** sipcx_msg_check() flags. */
enum {
	/**
	 * Apply the UAC rule of RFC 3261 8.1.3.3: drop a response with more
	 * than one Via value.
	 */
	SIPCX_MSG_CHECK_UA = 1u << 0,
};

/**
 * Judge a message after sipcx_msg_parse() (also after a failed parse: it
 * uses m->err). Requests need To, From, Call-ID, CSeq and Via (Max-Forwards
 * may be absent), one each of the single-valued ones, a CSeq method equal
 * to the request method, CSeq <= 2^31-1, Max-Forwards <= 255, SIP/2.0
 * (else 505), a sip/sips/tel Request-URI without headers (unknown scheme:
 * 416), parseable From, To, Via and Contact values; a message too large
 * gives 513. Anything wrong with a response, or a status > 699, drops it.
 * Returns v->action (v may be NULL).
 */
SIPCX_API enum sipcx_msg_action sipcx_msg_check(const struct sipcx_msg *m, unsigned flags,
                                                struct sipcx_msg_verdict *v);

/*
 * Names.
 */

/** Map a header name (any case, long or compact form) to its id; OTHER when unknown. */
SIPCX_API enum sipcx_hdr_id sipcx_hdr_lookup(const char *name, size_t len);
/** Canonical name of an id ("Call-ID", "CSeq", "WWW-Authenticate"); "" for OTHER. */
SIPCX_API const char *sipcx_hdr_name(enum sipcx_hdr_id id);
/** Map a method token (case-sensitive, RFC 3261 7.1) to its enum; OTHER when unknown. */
SIPCX_API enum sipcx_method sipcx_method_lookup(struct sipcx_str s);
/** Method name ("INVITE"); "" for OTHER. */
SIPCX_API const char *sipcx_method_name(enum sipcx_method method);
/** Default reason phrase of a status code ("OK", "Not Found"); "" when unknown. */
SIPCX_API const char *sipcx_msg_reason_phrase(uint16_t status);

/*
 * Printing. Each appends one message to b (existing content kept). Header
 * values are printed byte-exact; a value may contain line folds (CRLF
 * followed by SP/HTAB) but no other CR or LF. Content-Length is automatic:
 * a Content-Length in hdrs gets the body's length at its place (extra ones
 * are dropped), else "Content-Length: N" is added after the last header.
 * Return 0, -EINVAL (bad method token, R-URI with whitespace, status not
 * 100..699, header name not a token, CR/LF injection), or -ENOMEM (b's
 * sticky error). On error b may hold a partial message: reset b->len.
 */

/** "METHOD ruri SIP/2.0", hdrs in order, body. hdrs may be NULL when n is 0. */
SIPCX_API int sipcx_msg_print_request(struct sipcx_buf *b, struct sipcx_str method,
                                      struct sipcx_str ruri, const struct sipcx_hdr *hdrs, size_t n,
                                      struct sipcx_str body);
/** "SIP/2.0 status reason"; reason.p NULL gives sipcx_msg_reason_phrase(status). */
SIPCX_API int sipcx_msg_print_response(struct sipcx_buf *b, uint16_t status,
                                       struct sipcx_str reason, const struct sipcx_hdr *hdrs,
                                       size_t n, struct sipcx_str body);
/**
 * Re-print a parsed message: its start line (SIP version as written), all
 * its headers as written, its body. -EINVAL when m did not parse or its
 * status is over 699.
 */
SIPCX_API int sipcx_msg_print(struct sipcx_buf *b, const struct sipcx_msg *m);
/**
 * A response to req (RFC 3261 8.2.6): copies every Via, From, To, Call-ID
 * and CSeq as bytes (and Timestamp into a 100), adds ";tag=to_tag" to To
 * when to_tag is not empty and To has no tag yet, then hdrs and body.
 * reason.p NULL gives the default phrase. -EINVAL when req is not a
 * request. Works on a request whose parse failed after its headers (to
 * answer 400/513).
 */
SIPCX_API int sipcx_msg_print_reply(struct sipcx_buf *b, const struct sipcx_msg *req,
                                    uint16_t status, struct sipcx_str reason,
                                    struct sipcx_str to_tag, const struct sipcx_hdr *hdrs, size_t n,
                                    struct sipcx_str body);

#ifdef __cplusplus
}
#endif
#endif
