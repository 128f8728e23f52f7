/* sipcx calls: one call object for both directions: INVITE client and server, dialogs, media, BYE and CANCEL (RFC 3261 13-15, RFC 3264, RFC 6026). */
#ifndef SIPCX_CALL_H
#define SIPCX_CALL_H

#include <sipcx/base.h>
#include <sipcx/media.h>
#include <sipcx/msg.h>
#include <sipcx/reg.h>
#include <sipcx/sdp.h>
#include <sipcx/transport.h>
#include <sipcx/ua.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A call: one INVITE dialog with its media session, on the loop thread of a
 * struct sipcx_ua. Outgoing calls start with sipcx_call_dial(); incoming ones
 * are answered by the policy given to sipcx_call_listen(). Both are the same
 * object, and the same functions apply to both.
 *
 * This is the asynchronous level: functions return at once and the call's
 * events come through a callback on the loop thread. The blocking level
 * (sipcx_phone_dial(), sipcx_phone_answer(), sipcx_call_wait(), in
 * sipcx/phone.h) is built on it. A callback never runs inside the call
 * that started it.
 *
 * Lifetime: a call is reference-counted. The engine holds it while it
 * lives (until SIPCX_CALL_EV_ENDED has been delivered); sipcx_call_dial()
 * gives the caller a reference; an event callback may take one with
 * sipcx_call_ref() to keep the call past the callback. sipcx_call_free()
 * hangs up when the call is not over yet and drops a reference.
 */
struct sipcx_call;

enum sipcx_call_state {
	SIPCX_CALL_CALLING = 0, /**< out: INVITE sent; in: INVITE received, not answered yet */
	SIPCX_CALL_RINGING,     /**< out: 180/183 received; in: 180 sent */
	SIPCX_CALL_CONNECTING,  /**< in: 2xx sent, its ACK not received yet */
	SIPCX_CALL_ESTABLISHED, /**< the dialog is confirmed: out: ACK sent; in: ACK received */
	SIPCX_CALL_ENDED,       /**< over: see ended_by, status, err */
};

/** Name of a state: "calling", "ringing", ... ("" when out of range). */
SIPCX_API const char *sipcx_call_state_name(enum sipcx_call_state state);

/** Who ended a call. */
enum sipcx_call_end {
	SIPCX_CALL_END_NONE = 0, /**< not ended */
	SIPCX_CALL_END_LOCAL,    /**< we hung up, cancelled or rejected */
	SIPCX_CALL_END_REMOTE,   /**< the peer: BYE, CANCEL, or a failure status to our INVITE */
	SIPCX_CALL_END_ERROR, /**< no answer in time, no ACK, a transport error, the UA closing */
};

/** Name of an end: "none", "local", "remote", "error". */
SIPCX_API const char *sipcx_call_end_name(enum sipcx_call_end end);

/** A snapshot of a call (sipcx_call_info()). Strings are NUL-terminated, truncated to fit. */
struct sipcx_call_info {
	enum sipcx_call_state state;
	bool outgoing;
	/** The final status of the INVITE: received (out) or sent (in); 0 while none. */
	uint16_t status;
	char reason[96];
	enum sipcx_call_end ended_by;
	/**
	 * Why the call ended, as an error: 0 (a BYE, a rejection: see status),
	 * SIPCX_ESTATUS (a failure status), -ETIMEDOUT (no final response, ring
	 * timeout, no ACK), -ECANCELED (cancelled), SIPCX_EAUTH (credentials
	 * refused), SIPCX_ENOCODEC (no common codec), a transport error,
	 * SIPCX_ECLOSED (the UA shut down).
	 */
	int err;
	/**
	 * The Reason header (RFC 3326) of the BYE or CANCEL that ended the call:
	 * the peer's, or ours (the reason given to sipcx_call_end(), or the library's when it
	 * hangs up on an error, e.g. SIP;cause=488 for a 2xx without an SDP
	 * answer); "" when there was none.
	 */
	char end_reason[128];
	char call_id[128];
	char local_tag[64];
	char remote_tag[64];
	char local_uri[256]; /**< our name-addr (From of an outgoing call, To of an incoming one) */
	char remote_uri[256]; /**< the peer's name-addr */
	/** The negotiated media: codec, payload type, clock, telephone-event pt (-1: none). */
	char codec[32];
	int pt;
	uint32_t clock;
	int dtmf_pt;
	char remote_media[64]; /**< "127.0.0.1:16000", where our RTP goes; "" before SDP */
	char srtp[32]; /**< the SRTP suite in use, e.g. "AES_CM_128_HMAC_SHA1_80"; "": plain */
	uint16_t local_port;  /**< our RTP port */
	bool remote_hold;     /**< the peer put us on hold (sendonly, inactive, 0.0.0.0) */
	bool local_hold;      /**< we put the peer on hold (sipcx_call_hold(), answered 2xx) */
	bool early_media;     /**< out: a 183 with SDP started the media before the answer */
	unsigned reinvites;   /**< re-INVITEs and UPDATEs with SDP answered */
	uint64_t start_us;    /**< sipcx_now_us() of the INVITE sent or received */
	uint64_t ringing_us;  /**< of the first 180/183 (0: none) */
	uint64_t answered_us; /**< of the 2xx (0: none) */
	uint64_t ended_us;    /**< of the end (0: not ended) */
	char dtmf_rx[65];     /**< the digits received so far, in order (the first 64) */
	/** media.detect_hz: its longest unbroken run heard, and how long it was heard in all (ms). */
	unsigned tone_ms, tone_total_ms;
	/** The peer REFERred us (RFC 3515): the target called, and that call's final status
	 *  (0 while none; sipcx_call_transfer() gives the call). */
	char refer_to[256];
	uint16_t transfer_status;
	/** We transferred the peer (sipcx_call_refer()): the target, and the final status
	 *  its NOTIFYs reported (0 while none; a failure of the REFER itself: its status). */
	char transfer_to[256];
	uint16_t transfer_result;
	/** An INVITE with Replaces took this call's place (the REPLACED event). */
	bool replaced;
	/** in: this call came with Replaces: the Call-ID of the call it took over ("" when not). */
	char replaces[128];
	/** RFC 3262: reliable provisional responses PRACKed (out: PRACKs we sent; in: PRACKs
	 *  of ours answered 200). */
	unsigned pracks;
	/** RFC 4028: the session interval in force (s; 0: no session timer), whether we are
	 *  the refresher, and the refreshes done so far (ours answered 2xx, or the peer's). */
	uint32_t session_expires;
	bool refresher;
	unsigned refreshes;
};

/** Events, on the loop thread. */
enum sipcx_call_event_type {
	SIPCX_CALL_EV_RINGING = 1, /**< out: a 180/183 (msg); in: we sent 180 */
	SIPCX_CALL_EV_ANSWERED,    /**< out: 2xx received and ACKed; in: 2xx sent */
	SIPCX_CALL_EV_ESTABLISHED, /**< the dialog is confirmed (in: the ACK came) */
	SIPCX_CALL_EV_MEDIA,       /**< a re-INVITE/UPDATE changed the media (hold, address) */
	SIPCX_CALL_EV_ENDED,       /**< the last event of a call */
	SIPCX_CALL_EV_RTCP, /**< an RTCP report from the peer was taken in: sipcx_call_stats() has it */
	SIPCX_CALL_EV_DTMF, /**< a digit from the peer (RFC 4733 event ended, or SIP INFO): dtmf */
	/** A transfer: the peer transferred us (REFER): msg is the REFER when the target is
	 *  being called, NULL when its final status is known (info.refer_to,
	 *  info.transfer_status); or ours is over (sipcx_call_refer()): msg is the final
	 *  NOTIFY or the REFER's failure response (info.transfer_to, info.transfer_result). */
	SIPCX_CALL_EV_TRANSFER,
	/** An INVITE with Replaces (RFC 3891) took this call's place and was answered: this call
	 *  ends now (BYE, or CANCEL while early); sipcx_call_transfer() gives the new call. */
	SIPCX_CALL_EV_REPLACED,
};

/** How DTMF goes (sipcx_call_send_dtmf()) or came (the DTMF event). */
enum sipcx_dtmf_mode {
	SIPCX_DTMF_RFC4733 = 0, /**< telephone-events in the RTP stream (RFC 4733) */
	SIPCX_DTMF_INFO, /**< SIP INFO, application/dtmf-relay (or application/dtmf received) */
};

struct sipcx_call_event {
	enum sipcx_call_event_type type;
	/** The message behind the event (a response, a BYE, an INFO), or NULL; valid during the callback. */
	const struct sipcx_msg *msg;
	/** DTMF: the digit ('0'-'9', '*', '#', 'A'-'D', '!' for flash), how long, and how it came. */
	char dtmf;
	unsigned dtmf_ms;
	enum sipcx_dtmf_mode dtmf_mode;
};

/** A call's events; must not block. sipcx_call_ref() keeps call past the callback. */
typedef void sipcx_call_cb(struct sipcx_call *call, const struct sipcx_call_event *ev, void *arg);

/** Media of a call (both directions). A zeroed struct: PCMU, PCMA, telephone-event, no handler. */
struct sipcx_call_media {
	/** Codecs in preference order; NULL: sipcx_sdp_default_codecs. Copied. */
	const struct sipcx_sdp_codec *codecs;
	size_t ncodecs;
	/** What the session sends by itself (SIPCX_MEDIA_ECHO for an echo service). */
	enum sipcx_media_handler handler;
	unsigned tone_hz;            /**< SIPCX_MEDIA_TONE: frequency; 0: 440 */
	const char *local_addr;      /**< RTP bind address (IP literal); NULL: the wildcard */
	uint16_t port_min, port_max; /**< RTP port range; 0/0: 10000-20000 */
	/**
	 * Packets each way the thread-safe I/O holds (sipcx_call_read_rtp(),
	 * sipcx_call_write_rtp()); 0: none (those return -ENOTSUP). 32 is
	 * plenty for a reader that keeps up with 20 ms packets.
	 */
	unsigned io_queue;
	/** No RTP for this long ends nothing but is reported in the stats; 0: off. */
	uint32_t inactivity_ms;
	/** RTP/RTCP debug lines through the library log (RTP_DEBUG=1 in the apps). */
	bool debug;
	/** SIPCX_MEDIA_PLAY: what the call sends, from this WAV file (PCM 16-bit mono, any
	 *  rate: resampled to 8 kHz); at its end silence, or again with play_loop. */
	const char *play_file;
	bool play_loop;
	/** What the peer sends, decoded, into this WAV file (8 kHz PCM 16-bit mono; lost
	 *  packets as silence); each call writes it anew. */
	const char *record_file;
	/** Listen for this tone (Hz) in what the peer sends: sipcx_call_info().tone_ms. */
	unsigned detect_hz;
	/**
	 * SRTP with keys in the SDP (RFC 4568 SDES; enum sipcx_srtp_mode): OPTIONAL (0,
	 * the default) offers keys in RTP/AVP and takes SRTP or plain offers; MANDATORY
	 * offers RTP/SAVP and refuses (488) what has no usable key; OFF neither offers
	 * nor takes keys (an RTP/SAVP offer gets 488). Each call draws fresh keys.
	 */
	enum sipcx_srtp_mode srtp;
	/**
	 * Signalling only: the SDP is offered and answered as usual, but the call opens no
	 * RTP socket of its own. Its SDP names a port of the UA's one discard pair (bound
	 * from port_min/port_max by the first such call, kept until the UA is freed), where
	 * whatever arrives is dropped unread; nothing is sent, the stats stay zero, and
	 * DTMF, the RTP I/O, play, record and detect are unavailable. For signalling load
	 * (sipcx load --no-media): a call costs no descriptor.
	 * With handler SIPCX_MEDIA_ECHO the SDP names the UA's one echo pair instead (bound
	 * the same way): what arrives there comes back to its sender, read and written in
	 * batches, if a live echo call named the sender's address (its signalling peer or
	 * its SDP's c=); SIPp's -rtp_echo, with no statistics per call.
	 */
	bool sdp_only;
	/**
	 * No RTP/RTCP multiplexing (RFC 5761). By default an offer carries
	 * a=rtcp-mux (its RTCP port is closed once the answer takes it) and an
	 * offer with a=rtcp-mux is answered with it on one socket, RTCP and RTP
	 * on the same port. Set for a peer that breaks on it: two ports, and an
	 * offer with a=rtcp-mux-only (RFC 8858) gets 488.
	 */
	bool no_rtcp_mux;
	/**
	 * Packet time in ms (RFC 4566 a=ptime), 10 to 200: what our offer or answer asks
	 * for, and what we send unless the peer asks for its own. 0: 20 in an offer; an
	 * answer takes the offer's.
	 */
	unsigned ptime;
};

/** Reliable provisional responses (RFC 3262), for sipcx_call_ext.rel100. */
enum sipcx_100rel {
	/** Out: Supported: 100rel, and each reliable 18x is PRACKed. In: 18x are sent reliably
	 *  when the INVITE Requires 100rel (as pjsua and baresip do by default). */
	SIPCX_100REL_SUPPORTED = 0,
	/** Out: Require: 100rel. In: 18x are sent reliably (Require: 100rel, RSeq); an INVITE
	 *  that does not support 100rel gets 421 Extension Required. */
	SIPCX_100REL_REQUIRED,
	/** Not offered; a reliable 18x is taken as an unreliable one; an INVITE that Requires
	 *  100rel gets 420 Bad Extension. */
	SIPCX_100REL_OFF,
};

/** How a session refresh of ours goes (RFC 4028 7.4, 9). */
enum sipcx_refresh_method {
	SIPCX_REFRESH_INVITE = 0, /**< a re-INVITE with the same SDP */
	SIPCX_REFRESH_UPDATE,     /**< an UPDATE without SDP (RFC 3311) */
};

/**
 * The SIP extensions of a call (both directions): 100rel and PRACK (RFC
 * 3262), session timers (RFC 4028; Supported: timer is always offered, and
 * a peer's Session-Expires always honoured). A zeroed struct: 100rel
 * supported, no session interval asked, Min-SE 90.
 */
struct sipcx_call_ext {
	enum sipcx_100rel rel100;
	/**
	 * Session interval (s). Out: the INVITE's Session-Expires. In: the most we
	 * grant (a longer one asked is lowered to it, not below the request's
	 * Min-SE), and the interval given to an INVITE without Session-Expires.
	 * 0: none asked (a peer's is honoured).
	 */
	uint32_t session_expires;
	/**
	 * The smallest interval we accept (Min-SE, s): in: a Session-Expires below it
	 * gets 422 with it; out: sent as Min-SE. 0: 90 (the RFC 4028 floor), or
	 * session_expires when that is smaller. Values below 90 break RFC 4028 4
	 * and are for tests with short intervals.
	 */
	uint32_t min_se;
	/** Who refreshes, asked (out) or chosen (in, when the UAC leaves it open);
	 *  NONE: out: the UAS decides; in: the UAC when it supports timer, else us. */
	enum sipcx_refresher refresher;
	/** How our refreshes go. */
	enum sipcx_refresh_method refresh_method;
};

/** Options of an outgoing call (sipcx_call_dial(), sipcx_phone_dial()). Strings are copied. */
struct sipcx_dial_opts {
	/** Digest credentials answering 401/407 (once per challenge); NULL username: none. */
	const char *username;
	const char *password;
	const char *realm; /**< answer only this realm's challenges; NULL: any */
	/** From value without tag ("\"Alice\" <sip:alice@example.com>"); NULL: sip:USER@our-address. */
	const char *from;
	/** To value; NULL: "<uri>". */
	const char *to;
	/** Extra headers of the INVITE (copied). */
	const struct sipcx_hdr *hdrs;
	size_t nhdrs;
	/** Force a transport over the URI's ;transport= (SIPCX_TP_NONE: no). */
	enum sipcx_tp_proto transport;
	/** Send the INVITE to this outbound proxy ("udp:10.0.0.1:5060") instead of the URI's host. */
	const char *proxy;
	/**
	 * Once a 1xx came, give up (CANCEL) when no final response follows in
	 * this long; 0: no limit (but the blocking call's context).
	 */
	uint32_t ring_timeout_ms;
	/** Late offer: an INVITE without SDP; the offer comes in the 2xx, our answer in the ACK. */
	bool late_offer;
	/** A REFER from the peer gets 603 Decline (else it is followed: sipcx_call_transfer()). */
	bool refuse_refer;
	/** Hang up (BYE) this long after the call is answered; 0: never (the caller hangs up). */
	uint32_t hangup_ms;
	struct sipcx_call_media media;
	/** 100rel and session timers. */
	struct sipcx_call_ext ext;
	/** Events of the call (may be NULL). */
	sipcx_call_cb *cb;
	void *arg;
	/** Out, may be NULL: sipcx_phone_dial() fills it with the call's state when it returns (success or not). */
	struct sipcx_call_info *info;
};

/**
 * Place a call to uri (sip: URI, or sips: over TLS). The INVITE goes out
 * on the loop's next turn; the outcome comes through o->cb (RINGING,
 * ANSWERED and ESTABLISHED, or ENDED with the status or error in
 * sipcx_call_info(): a TLS server that fails verification ends it with
 * SIPCX_ETLS_VERIFY - n). A host name is located first, on the loop (RFC
 * 3263, as sipcx_ua_request()): a name that does not resolve ends the call
 * with SIPCX_ERESOLVE; a refused connection, Timer B or a 503 (without an
 * early dialog) sends the INVITE to the next target.
 * Any thread. Returns 0 and *out (the caller's reference); -EINVAL (a bad
 * URI or option), -EPROTONOSUPPORT, -EHOSTUNREACH (as
 * sipcx_ua_request()), -EADDRINUSE (no free RTP port), -ENOMEM, SIPCX_ECLOSED; *out untouched
 * and no callback on failure.
 */
SIPCX_API int sipcx_call_dial(struct sipcx_ua *ua, const char *uri, const struct sipcx_dial_opts *o,
                              struct sipcx_call **out);

/** What a listener's on_call hook decides for an incoming call. */
enum {
	SIPCX_CALL_DEFAULT = 0, /**< as the listener's options say */
	SIPCX_CALL_ACCEPT = 200 /**< answer it (after the ring time) */
	                        /* any status 300..699: reject the call with it */
};

/**
 * An incoming INVITE, before anything but 100 Trying was sent (loop
 * thread; must not block). req is the INVITE (its headers: From, To,
 * custom ones), valid during the call. Returns SIPCX_CALL_DEFAULT,
 * SIPCX_CALL_ACCEPT, or a status 300..699 to reject with.
 */
typedef int sipcx_call_on_call(struct sipcx_call *call, const struct sipcx_msg *req, void *arg);

/** How incoming calls are answered (sipcx_call_listen(), sipcx_phone_answer()). Copied. */
struct sipcx_answer_opts {
	/** Ring this long (180 Ringing) before the 2xx; 0: answer at once (after 100 only). */
	uint32_t ringtime_ms;
	/** 0 or 200: answer; 300..699: reject every call with this status (486, 603, ...). */
	uint16_t answer_code;
	/** Reason phrase of a rejection; NULL: the default one. */
	const char *answer_reason;
	/** Decides per call (may be NULL). */
	sipcx_call_on_call *on_call;
	void *on_call_arg;
	/** Extra headers of our responses (copied). */
	const struct sipcx_hdr *hdrs;
	size_t nhdrs;
	/** Calls at once (ringing or up); the next INVITE gets 486 Busy Here. 0: 64. */
	unsigned max_calls;
	/** Hang up (BYE) each call this long after it is up; 0: never (the caller hangs up). */
	uint32_t hangup_ms;
	/** A REFER from a caller gets 603 Decline (else it is followed: sipcx_call_transfer()). */
	bool refuse_refer;
	/** Early media: ring with 183 Session Progress carrying the SDP answer (the media flows
	 *  from then on) instead of 180; an INVITE without SDP still gets 180. */
	bool early_media;
	struct sipcx_call_media media;
	/** 100rel and session timers of every incoming call. */
	struct sipcx_call_ext ext;
	/** Events of every incoming call (may be NULL): the call comes with each. */
	sipcx_call_cb *cb;
	void *arg;
	/*
	 * Register first (sipcx_phone_answer() only): the registrar's URI
	 * (NULL: no registration), digest credentials, the expiry asked (the
	 * refresh follows the one granted), the address-of-record (NULL:
	 * sip:USERNAME@registrar host).
	 */
	const char *registrar;
	const char *username;
	const char *password;
	uint32_t expiry_s;
	const char *aor;
	/** The registration's state changes (may be NULL): registered, refreshed, failing... */
	sipcx_reg_cb *reg_cb;
	void *reg_arg;
};

/**
 * Answer incoming calls on ua with o (replacing an earlier policy; calls
 * already in progress keep theirs): INVITE gets 100, then as decided 180
 * for the ring time and 200 with the SDP answer (or an offer, for an
 * INVITE without SDP), re-sent until the ACK; no ACK in 64*T1: BYE. A
 * CANCEL while ringing: 200 and 487. Any thread. Returns 0, -EINVAL,
 * -ENOMEM, SIPCX_ECLOSED. o NULL: stop answering (a new INVITE then gets
 * 405, as on a UA that never listened; calls in progress go on).
 */
SIPCX_API int sipcx_call_listen(struct sipcx_ua *ua, const struct sipcx_answer_opts *o);

/** Take a reference. Returns call. Any thread. */
SIPCX_API struct sipcx_call *sipcx_call_ref(struct sipcx_call *call);
/** Drop a reference (the last one frees the call, which must be over by then). Any thread. */
SIPCX_API void sipcx_call_unref(struct sipcx_call *call);

/**
 * End the call, without waiting: BYE when a dialog is confirmed (or the
 * 2xx is out), CANCEL for an outgoing call still ringing (or as soon as a
 * 1xx allows it), a rejection (reason's status: 603 Decline by default)
 * for an incoming one not answered yet. reason (may be NULL) goes in a
 * Reason header: "SIP;cause=200;text=\"done\"" or plain text, which
 * becomes Q.850 cause 16 (normal clearing). Any thread. Returns 0,
 * -EALREADY (ending or ended), -EINVAL, -ENOMEM, SIPCX_ECLOSED.
 */
SIPCX_API int sipcx_call_end(struct sipcx_call *call, const char *reason);

/** Copy the call's state into *out. Any thread. Returns 0 or -EINVAL. */
SIPCX_API int sipcx_call_info(struct sipcx_call *call, struct sipcx_call_info *out);

/** The media counters of the call (zeroed before the media exists). Any thread. Returns 0 or -EINVAL. */
SIPCX_API int sipcx_call_stats(struct sipcx_call *call, struct sipcx_media_stats *out);

/**
 * The call's media session (NULL before it exists, and after the call
 * ended): for the media functions (loop thread for the packet ones).
 * Valid while the call lives and is not over.
 */
SIPCX_API struct sipcx_media *sipcx_call_media(struct sipcx_call *call);

/*
 * RTP and RTCP from any thread (sipgox ReadRTP/WriteRTP), through the
 * media's thread-safe I/O (media.io_queue > 0): timeouts in ms, 0 polls,
 * negative waits forever. They return as sipcx_media_read_rtp() and
 * sipcx_media_post_rtp(): the length read, 0 written; -ENOTSUP without
 * io_queue, -ENOTCONN before the media exists, -ECANCELED once the call
 * ended and nothing is left. With SRTP the session protects what is written
 * and reads give what it unprotected; a packet written again with a sequence
 * number already sent cannot be protected (counted in tx_dropped).
 */
SIPCX_API int sipcx_call_read_rtp(struct sipcx_call *call, void *buf, size_t size, int timeout_ms);
SIPCX_API int sipcx_call_write_rtp(struct sipcx_call *call, const void *data, size_t len,
                                   int timeout_ms);
SIPCX_API int sipcx_call_read_rtcp(struct sipcx_call *call, void *buf, size_t size, int timeout_ms);
SIPCX_API int sipcx_call_write_rtcp(struct sipcx_call *call, const void *data, size_t len,
                                    int timeout_ms);

/**
 * Send digits (0-9 * # A-D, '!' flash; at most 64 at once) to the peer:
 * RFC 4733 events in the call's RTP (telephone-event must have been
 * negotiated: -ENOTSUP otherwise), or one SIP INFO per digit with an
 * application/dtmf-relay body ("Signal=5\r\nDuration=100\r\n"), each once
 * the previous one was answered and its duration and the gap have passed.
 * o (NULL: defaults) sets each digit's duration, the gap between digits and
 * a delay before the first. Returns
 * once the digits are queued: 0, -EINVAL (a bad digit or option),
 * -ENOTCONN (the call is not up), -ENOSPC (too many waiting), -ENOTSUP.
 * Any thread.
 */
SIPCX_API int sipcx_call_send_dtmf(struct sipcx_call *call, const char *digits,
                                   enum sipcx_dtmf_mode mode, const struct sipcx_dtmf_opts *o);

/**
 * Put the peer on hold, or take it off: a re-INVITE offering sendonly (we
 * may go on sending, the peer stops), inactive (neither sends) or, for
 * hold false, sendrecv again (RFC 3264 8.4). Returns once the re-INVITE is
 * sent: 0, -ENOTCONN (the call is not up), -EBUSY (an INVITE of ours or of
 * the peer is not finished yet), -EINVAL. The 2xx's answer moves the media
 * and sets sipcx_call_info().local_hold, then SIPCX_CALL_EV_MEDIA; a
 * failure (491, 488, a timeout) leaves the media as it was and is told as
 * SIPCX_CALL_EV_MEDIA with the status in the event's msg. Any thread.
 */
SIPCX_API int sipcx_call_hold(struct sipcx_call *call, bool hold, bool inactive);

/**
 * Send an UPDATE in the call (RFC 3311): without SDP (offer false) it
 * refreshes the session (RFC 4028) and changes nothing else; with offer
 * it carries a new SDP offer (the current hold state), whose answer in
 * the 2xx moves the media. A session timer's Session-Expires goes with
 * it, and the 2xx's restarts the timer. Returns once it is sent: 0,
 * -ENOTCONN (the call is not up), -EBUSY (an offer of ours or of the peer
 * is not answered yet, RFC 3311 5.1), -EINVAL. The outcome comes as
 * SIPCX_CALL_EV_MEDIA with the response in the event's msg (a 491 or
 * another failure leaves the media as it was; 481 or a timeout ends the
 * call). Any thread.
 */
SIPCX_API int sipcx_call_update(struct sipcx_call *call, bool offer);

/**
 * The call a REFER of the peer made (RFC 3515), or the call that replaced
 * this one (SIPCX_CALL_EV_REPLACED): a new reference, NULL when there was
 * none. A REFER in a call that is up is answered 202 (unless refuse_refer:
 * 603), the Refer-To target (a sip: URI; of its URI headers only Replaces
 * is taken: it goes in the INVITE with Require: replaces, an attended
 * transfer) is called with the same media
 * options and the Referred-By header, and its progress goes back to the
 * transferor as NOTIFYs (Event: refer, message/sipfrag: 100 Trying, 180,
 * then the final status with Subscription-State terminated). The old call
 * tells it as SIPCX_CALL_EV_TRANSFER (when the target is called, and when
 * its final status is known); the new call is the owner's to follow
 * (sipcx_call_wait(), sipcx_call_hangup()). The old call stays up: the
 * transferor ends it (RFC 5589). Any thread.
 */
SIPCX_API struct sipcx_call *sipcx_call_transfer(struct sipcx_call *call);

/**
 * Transfer the peer to target (a sip: URI; RFC 3515, blind transfer as RFC
 * 5589 shows it): after delay_ms a REFER with Refer-To and Referred-By (our
 * URI) goes in the dialog; its 202 starts the implicit subscription, whose
 * NOTIFYs (message/sipfrag) are answered 200 and followed to the final
 * status. A 2xx there: the transfer worked and the call is hung up (BYE,
 * Reason "transferred"). Then, or when the REFER fails, SIPCX_CALL_EV_TRANSFER
 * with info.transfer_result. Returns once it is scheduled: 0, -EINVAL (not
 * a sip: URI), -ENOTCONN (the call is not up), -EBUSY (a transfer is on).
 * Any thread.
 */
SIPCX_API int sipcx_call_refer(struct sipcx_call *call, const char *target, uint32_t delay_ms);

/**
 * Attended transfer (RFC 5589 7): transfer the peer of call to the peer of
 * target_call, a call of the same UA that is up (the consultation): the
 * REFER's Refer-To is target_call's remote Contact (its remote URI, the
 * target's address-of-record, when proxies record-routed target_call and
 * the Contact is not a GRUU: RFC 5589 7.2) with ?Replaces=<its Call-ID,
 * tags> (RFC 3891), so the transferee's INVITE takes the place of
 * target_call at the target, which hangs target_call up (BYE). Otherwise
 * as sipcx_call_refer(): NOTIFYs followed, call hung up on success,
 * SIPCX_CALL_EV_TRANSFER with info.transfer_result (transfer_to is that
 * URI without the Replaces). -EINVAL: not two calls of one UA; -ENOTCONN: one
 * of them is not up; -EBUSY. Any thread.
 *
 * Receiving one: an INVITE with Replaces that names a call of ours (to-tag
 * our tag, from-tag the peer's) is answered at once (no ringing, the
 * listener's on_call still asked; taken even when not listening, with the
 * replaced call's options) and the replaced call gets
 * SIPCX_CALL_EV_REPLACED, then BYE (CANCEL while early). No such dialog:
 * 481; early-only and confirmed: 486; an early dialog we did not make: 481;
 * a call already ending: 603 (RFC 3891 3).
 */
SIPCX_API int sipcx_call_refer_replaces(struct sipcx_call *call, struct sipcx_call *target_call,
                                        uint32_t delay_ms);

/**
 * Hang up if the call is not over (sipcx_call_end(), without waiting) and
 * drop the caller's reference. NULL is accepted.
 */
SIPCX_API void sipcx_call_free(struct sipcx_call *call);

/** The UA of a call. */
SIPCX_API struct sipcx_ua *sipcx_call_ua(const struct sipcx_call *call);

#ifdef __cplusplus
}
#endif
#endif
