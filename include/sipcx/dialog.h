/* sipcx dialogs: state, identity, route set, remote target and CSeq of a dialog; in-dialog requests (RFC 3261 12, 13.2.2.4). */
#ifndef SIPCX_DIALOG_H
#define SIPCX_DIALOG_H

#include <sipcx/base.h>
#include <sipcx/msg.h>
#include <sipcx/uri.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A dialog does no I/O and reads no clock: it is made from parsed
 * messages, updated by the messages the UA feeds it, and prints the
 * requests the UA sends in it. Matching a message to its dialog is the
 * UA's, with the hash and match functions below.
 *
 * Memory: a dialog keeps copies of the strings it needs (Call-ID, tags,
 * local and remote URI, remote target, route set) after its struct, in
 * one allocation. When a later message brings a remote target or route
 * set that does not fit where the old one was, they move to a second
 * allocation. Limits, refused before anything is allocated or changed:
 * at most SIPCX_DIALOG_MAX_ROUTES route set entries (-E2BIG) and
 * SIPCX_DIALOG_MAX_BYTES bytes of kept strings in all (-EMSGSIZE).
 *
 * Strings returned by the accessors point into the dialog: valid while
 * it lives, the remote target and route entries only until the next
 * sipcx_dialog_recv_response() or sipcx_dialog_recv_request().
 * Nothing here is thread-safe: one thread per dialog.
 */

/** Most entries in a route set (Record-Route values). */
#define SIPCX_DIALOG_MAX_ROUTES 16
/** Most bytes of strings a dialog keeps. */
#define SIPCX_DIALOG_MAX_BYTES 4096

enum sipcx_dialog_state {
	SIPCX_DIALOG_EARLY = 0, /**< from a 101-199 with a To tag (12.1) */
	SIPCX_DIALOG_CONFIRMED, /**< a 2xx was sent or received */
	SIPCX_DIALOG_TERMINATED,
};

struct sipcx_dialog;

/**
 * Create a UAC dialog (RFC 3261 12.1.2) from the request we sent (req,
 * parsed: the INVITE) and a response to it that carries a To tag (resp):
 * a 101-199 gives an early dialog, a 2xx a confirmed one.
 * The dialog gets: the Call-ID; the From tag of req as local tag and the
 * To tag of resp as remote tag; the From and To values of req, as
 * written (display name and other header parameters kept, the tag
 * parameter removed), as local and remote URI; the Contact URI of resp
 * as remote target (a 1xx without Contact: no target until one comes);
 * the Record-Route URIs of resp, in reverse order, as route set; the
 * CSeq number of req as local CSeq (remote CSeq unset). The dialog is
 * secure when the Request-URI of req is a sips URI.
 * Both messages are borrowed: nothing points into them afterwards.
 * Returns 0 and *out (free it with sipcx_dialog_free()), or, *out
 * untouched:
 *  -EINVAL   a NULL argument; req not a request (or an ACK, CANCEL or
 *            BYE, which create no dialog) or resp not a response; status
 *            100 or >= 300; resp without a To tag; resp not a response to
 *            req (Call-ID, From tag, CSeq number or method differ)
 *  -EBADMSG  no Call-ID, From tag or CSeq; a malformed From, To, Contact
 *            or Record-Route (a Record-Route value must be a name-addr);
 *            a From or To "*"; a tag that is not a token; a Contact or
 *            Record-Route URI that is not sip/sips; a 2xx without Contact
 *  -E2BIG    more than SIPCX_DIALOG_MAX_ROUTES Record-Route values
 *  -EMSGSIZE more than SIPCX_DIALOG_MAX_BYTES of strings to keep
 *  -ENOMEM
 */
SIPCX_API int sipcx_dialog_new_uac(struct sipcx_dialog **out, const struct sipcx_msg *req,
                                   const struct sipcx_msg *resp);

/**
 * Create a UAS dialog (RFC 3261 12.1.1) from the dialog-creating request
 * received (req, e.g. an INVITE without To tag), with local_tag, the To
 * tag we put in our responses (a token, copied).
 * The dialog gets: the Call-ID; local_tag; the From tag of req as remote
 * tag (may be empty: RFC 2543 peers); the To value of req as local URI
 * and its From value (tag removed) as remote URI; the Contact URI of req
 * as remote target (required); the Record-Route URIs of req, in order, as
 * route set; the CSeq number of req as remote CSeq. The local CSeq starts
 * unset (0): the first request this side sends has CSeq 1. Secure when
 * the Request-URI of req is sips (the UA accepts sips only over TLS).
 * The state is early, or confirmed when confirmed is true (a dialog made
 * as the 2xx is sent).
 * req is borrowed. Returns 0 and *out, or, *out untouched:
 *  -EINVAL   a NULL argument; req not a request, or an ACK, CANCEL or
 *            BYE; req's To has a tag already; local_tag empty or not a token
 *  -EBADMSG  no Call-ID or CSeq; a malformed From, To, Contact or
 *            Record-Route; a From or To "*"; a From tag that is not a
 *            token; no Contact; a Contact or Record-Route URI that is not
 *            sip/sips
 *  -E2BIG, -EMSGSIZE, -ENOMEM as for sipcx_dialog_new_uac()
 */
SIPCX_API int sipcx_dialog_new_uas(struct sipcx_dialog **out, const struct sipcx_msg *req,
                                   struct sipcx_str local_tag, bool confirmed);

/** Free a dialog in any state. NULL is accepted. */
SIPCX_API void sipcx_dialog_free(struct sipcx_dialog *d);

/*
 * Accessors. d may be NULL: the state is then TERMINATED, strings are
 * empty, numbers 0 and flags false.
 */

SIPCX_API enum sipcx_dialog_state sipcx_dialog_state(const struct sipcx_dialog *d);
/** "early", "confirmed", "terminated" (never NULL). */
SIPCX_API const char *sipcx_dialog_state_name(enum sipcx_dialog_state s);
SIPCX_API struct sipcx_str sipcx_dialog_call_id(const struct sipcx_dialog *d);
SIPCX_API struct sipcx_str sipcx_dialog_local_tag(const struct sipcx_dialog *d);
/** The remote tag; empty for a UAS dialog with an RFC 2543 peer. */
SIPCX_API struct sipcx_str sipcx_dialog_remote_tag(const struct sipcx_dialog *d);
/** The local URI: the From value of our requests without its tag, e.g. "Alice <sip:a@x>". */
SIPCX_API struct sipcx_str sipcx_dialog_local_uri(const struct sipcx_dialog *d);
/** The remote URI: the To value of our requests without its tag. */
SIPCX_API struct sipcx_str sipcx_dialog_remote_uri(const struct sipcx_dialog *d);
/** The remote target URI (no angle brackets); empty while a UAC early dialog has none. */
SIPCX_API struct sipcx_str sipcx_dialog_remote_target(const struct sipcx_dialog *d);
/** The last local CSeq number used; 0 when this side has sent nothing yet (UAS). */
SIPCX_API uint32_t sipcx_dialog_local_cseq(const struct sipcx_dialog *d);
/** The highest remote CSeq number seen; 0 when unset (see has_remote_cseq). */
SIPCX_API uint32_t sipcx_dialog_remote_cseq(const struct sipcx_dialog *d);
/** Whether a remote CSeq was seen (a UAC dialog has none until its peer sends a request). */
SIPCX_API bool sipcx_dialog_has_remote_cseq(const struct sipcx_dialog *d);
/** Entries in the route set (0..SIPCX_DIALOG_MAX_ROUTES). */
SIPCX_API size_t sipcx_dialog_route_count(const struct sipcx_dialog *d);
/**
 * The i-th entry of the route set, in the order requests carry it, as a
 * name-addr "<uri>" (the URI with all its parameters; the display name
 * and header parameters of the Record-Route value are not kept). Empty
 * when i is out of range.
 */
SIPCX_API struct sipcx_str sipcx_dialog_route(const struct sipcx_dialog *d, size_t i);
/** The secure flag (12.1.1, 12.1.2). */
SIPCX_API bool sipcx_dialog_secure(const struct sipcx_dialog *d);
/** True for a dialog made by sipcx_dialog_new_uac(). */
SIPCX_API bool sipcx_dialog_is_uac(const struct sipcx_dialog *d);

/*
 * State changes the UA decides. NULL is accepted (nothing happens).
 */

/** Early -> confirmed (a UAS sends its 2xx). Other states: no change. */
SIPCX_API void sipcx_dialog_confirm(struct sipcx_dialog *d);
/**
 * Any state -> terminated: a BYE sent or received, a non-2xx final
 * response ending an early dialog, a timeout. Only an ACK or a BYE can be
 * printed in a terminated dialog afterwards (see
 * sipcx_dialog_print_request()); the recv functions refuse it.
 */
SIPCX_API void sipcx_dialog_terminate(struct sipcx_dialog *d);

/**
 * Feed a response to a request of this dialog (it must match: Call-ID,
 * From tag = local tag, To tag = remote tag, else -EINVAL).
 *  - 1xx to the dialog-creating request (UAC, early dialog): its Contact,
 *    when present, becomes the remote target. The route set of an early
 *    dialog stays the one of the response that created it.
 *  - 2xx to the dialog-creating request while early: the dialog is
 *    confirmed, and its route set and remote target are recomputed from
 *    the 2xx (RFC 3261 13.2.2.4; Contact required).
 *  - any other 2xx to a target refresh request (INVITE, UPDATE,
 *    SUBSCRIBE, NOTIFY, REFER): its Contact, when present, replaces the
 *    remote target (12.2.1.2).
 *  - 481 or 408 to any request terminates the dialog (12.2.1.2); a
 *    300-699 to the dialog-creating request while early terminates it
 *    (12.3). Other non-2xx and 100 change nothing.
 * resp is borrowed. Returns 0, or with d unchanged: -EINVAL (NULL, a
 * request, d terminated, resp not of this dialog), -EBADMSG (no CSeq; a
 * malformed Contact or Record-Route, or not sip/sips; a dialog-confirming
 * 2xx without Contact), -E2BIG, -EMSGSIZE, -ENOMEM.
 */
SIPCX_API int sipcx_dialog_recv_response(struct sipcx_dialog *d, const struct sipcx_msg *resp);

/**
 * Feed a request received in this dialog (RFC 3261 12.2.2); the UA found
 * the dialog with sipcx_dialog_match_request(). *status gets 0 to accept
 * it, or the status to answer it with, and then nothing changed:
 *  - ACK and CANCEL are accepted as they are (their CSeq is the one of
 *    the request they belong to).
 *  - Any other request: a CSeq number lower than the remote CSeq gets
 *    500 (out of order). An equal one is accepted and changes nothing (a
 *    retransmission, absorbed by the transaction layer, or a request
 *    sent again: the remote CSeq never goes backwards). A higher one, or
 *    any one while the remote CSeq is unset, becomes the remote CSeq.
 *    No parseable CSeq: 400.
 *  - A target refresh request (INVITE, UPDATE, SUBSCRIBE, NOTIFY, REFER:
 *    RFC 3261 12.2.2, RFC 3311, RFC 6665 4.1, RFC 3515) with a usable
 *    Contact (parseable, sip/sips, within the size limit) replaces the
 *    remote target; without one the old target stays.
 * req is borrowed. Returns 0 and *status, -EINVAL (a NULL argument, a
 * response, d terminated), -ENOMEM (d unchanged: answer 500).
 */
SIPCX_API int sipcx_dialog_recv_request(struct sipcx_dialog *d, const struct sipcx_msg *req,
                                        uint16_t *status);

/*
 * Matching. A dialog is identified by Call-ID, local tag and remote tag
 * (RFC 3261 12), compared byte for byte. A terminated dialog still
 * matches (the UA may have to ACK a late 2xx in it). NULL gives false.
 */

/** req is a request with d's Call-ID, To tag = local tag, From tag = remote tag. */
SIPCX_API bool sipcx_dialog_match_request(const struct sipcx_dialog *d,
                                          const struct sipcx_msg *req);
/** resp is a response with d's Call-ID, From tag = local tag, To tag = remote tag. */
SIPCX_API bool sipcx_dialog_match_response(const struct sipcx_dialog *d,
                                           const struct sipcx_msg *resp);
/**
 * The key a UA's dialog table is hashed by: Call-ID and local tag only, so
 * that the forks of one request (same Call-ID and local tag, different
 * remote tags) share a chain and the match functions tell them apart.
 */
SIPCX_API uint32_t sipcx_dialog_key_hash(struct sipcx_str call_id, struct sipcx_str local_tag);
/** sipcx_dialog_key_hash() of d's Call-ID and local tag; 0 for NULL. */
SIPCX_API uint32_t sipcx_dialog_hash(const struct sipcx_dialog *d);
/**
 * The key hash of a received message: a request by its Call-ID and To tag,
 * a response by its Call-ID and From tag. Returns 0 and *out, -EINVAL
 * (a NULL argument, no Call-ID, or no such tag: a request outside any
 * dialog).
 */
SIPCX_API int sipcx_dialog_msg_hash(const struct sipcx_msg *m, uint32_t *out);

/** A request to print in a dialog. Slices are borrowed for the call. */
struct sipcx_dialog_req {
	/** "BYE", "INVITE", "ACK", "INFO", any token of at most 32 bytes; required */
	const char *method;
	/**
	 * 0: the next local CSeq (the last one + 1, stored). Required for ACK
	 * (the INVITE's number) and CANCEL (the cancelled request's), which
	 * never change the local CSeq. Non-zero for another method: used as
	 * is, and the local CSeq becomes it when higher.
	 */
	uint32_t cseq;
	struct sipcx_str via;          /**< the whole Via value (sent-by, branch); required */
	struct sipcx_str contact;      /**< Contact value, e.g. "<sip:a@10.0.0.1>"; empty: none */
	const struct sipcx_hdr *hdrs;  /**< extra headers after ours (credentials, Reason, ...) */
	size_t nhdrs;                  /**< entries in hdrs */
	struct sipcx_str content_type; /**< required when body is not empty */
	struct sipcx_str body;         /**< empty: none */
	uint32_t max_forwards;         /**< 0: 70; at most 255 */
	struct sipcx_str user_agent;   /**< empty: no User-Agent */
};

/**
 * Append an in-dialog request to b (RFC 3261 12.2.1.1), printed with
 * sipcx_msg_print_request(): Request-URI and one Route header line from
 * the route set and remote target, then Via, Max-Forwards, Route, From
 * (local URI;tag=local tag), To (remote URI;tag=remote tag, no tag when
 * the remote tag is empty), Call-ID, CSeq "N METHOD", Contact,
 * User-Agent, the extra headers, Content-Type, Content-Length, body.
 * Routing: with an empty route set the Request-URI is the remote target.
 * When the first route URI has an lr parameter (loose routing) the
 * Request-URI is the remote target and Route is the route set. Otherwise
 * (strict routing) the Request-URI is the first route URI and Route is
 * the rest of the route set followed by the remote target. A URI placed
 * in the Request-URI loses what RFC 3261 19.1.1 table 1 does not allow
 * there: its method parameter and its headers.
 * ACK and BYE can be printed in a terminated dialog (an ACK for a late
 * 2xx, a BYE after it, or sent again with credentials); other methods
 * cannot.
 * Returns 0, or with d unchanged (the CSeq is not consumed) and b as it
 * was: -EINVAL (a NULL argument; method not a token or longer than 32;
 * no via; ACK or CANCEL without cseq; max_forwards over 255; a body
 * without content_type; d terminated and the method neither ACK nor
 * BYE; a value sipcx_msg_print_request() refuses), -ENOENT (no remote
 * target yet), -ERANGE (the CSeq would pass 2^31-1), -E2BIG (more extra
 * headers than a message may have), -ENOMEM.
 */
SIPCX_API int sipcx_dialog_print_request(struct sipcx_dialog *d, struct sipcx_buf *b,
                                         const struct sipcx_dialog_req *r);

/**
 * Where an in-dialog request goes first (RFC 3261 8.1.2, 12.2.1.1): the
 * first route URI when the route set is not empty, else the remote
 * target, parsed into *out. Its slices point into d (valid while d lives
 * and its route set and remote target do not change). The UA resolves it
 * (host, port, transport parameter; RFC 3263).
 * Returns 0, -EINVAL (a NULL argument), -ENOENT (no route and no remote
 * target yet).
 */
SIPCX_API int sipcx_dialog_next_hop(const struct sipcx_dialog *d, struct sipcx_uri *out);

#ifdef __cplusplus
}
#endif
#endif
