/* ua: private state of calls, shared by the call core, the INVITE client (call_out.c) and server (call_in.c) (RFC 3261 12-15). */
#ifndef SIPCX__CALL_H
#define SIPCX__CALL_H

#include <sipcx/auth.h>
#include <sipcx/call.h>
#include <sipcx/dialog.h>
#include <sipcx/sdp.h>

#include "ua/dns.h"
#include "ua/ua.h"

/*
 * The options of a call, copied once: an outgoing call has its own; the
 * incoming calls of one listener share the listener's (refcounted, loop
 * thread).
 */
#define CALL_MAX_CODECS 8

struct call_cfg {
	unsigned refs; /* atomic */
	/* media */
	struct sipcx_sdp_codec codecs[CALL_MAX_CODECS];
	char codec_name[CALL_MAX_CODECS][32];
	char codec_fmtp[CALL_MAX_CODECS][64];
	size_t ncodecs; /* 0: the defaults */
	enum sipcx_media_handler handler;
	unsigned tone_hz;
	unsigned ptime; /* ms; 0: 20 (an answer: the offer's) */
	char *local_addr;
	uint16_t port_min, port_max;
	unsigned io_queue;
	uint32_t inactivity_ms;
	bool debug;
	char *play_file, *record_file;
	bool play_loop;
	unsigned detect_hz;
	enum sipcx_srtp_mode srtp;
	bool sdp_only;             /* no RTP socket: the SDP names the UA's discard pair */
	bool rtcp_mux;             /* RFC 5761: offer it, take it */
	bool refuse_refer;         /* a REFER gets 603 */
	bool early_media;          /* in: 183 with the SDP answer while ringing */
	struct sipcx_call_ext ext; /* 100rel, session timers (min_se resolved) */
	/* extra headers (INVITE, or our responses) */
	struct sipcx_hdr *hdrs;
	size_t nhdrs;
	char *hdr_mem;
	sipcx_call_cb *cb;
	void *arg;
	void (*release)(void *arg); /* when the last call using cb/arg is gone (the phone's) */
	/* outgoing */
	char *uri, *from, *to, *username, *password, *realm;
	enum sipcx_tp_proto transport;
	uint32_t ring_timeout_ms;
	bool late_offer;
	/* incoming */
	uint32_t ringtime_ms;
	uint16_t answer_code;
	char *answer_reason;
	sipcx_call_on_call *on_call;
	void *on_call_arg;
	unsigned max_calls;
	uint32_t hangup_ms;
};

/* One dialog of a call (a call has one, or several early ones while forked). */
struct call_hop_job;

struct call_dlg {
	struct sipcx_dialog *d;
	struct sipcx_call *call;
	struct call_dlg *hnext; /* chain in the UA's dialog table */
	uint32_t hash;
	bool linked;
	/* outgoing, confirmed: our ACK to its 2xx, re-sent for every 2xx retransmission */
	char *ack;
	size_t ack_len;
	struct sipcx_tp_addr ack_dst;
	/* outgoing, early: the RSeq of the last reliable 18x taken (RFC 3262 4), 0: none */
	uint32_t rseq;
	/* incoming over a stream: where the INVITE came from, for a peer that cannot be
	 * reached at its Contact (RFC 7118 5.2: a WebSocket client's is in .invalid) */
	struct sipcx_tp_addr flow;
	/*
	 * Its next hop by host name (call_hop.c, RFC 3263): the hop last
	 * located ("" none), its address or the error, and the look-up under
	 * way with the requests waiting for it.
	 */
	char hop_key[SIPCX__DNS_KEY];
	struct sipcx_tp_addr hop_dst;
	int hop_err;
	struct call_hop_job *hop_job;
	bool released; /* freed when hop_job ends (sipcx__call_dlg_release()) */
};

enum call_timer {
	CT_NONE = 0,
	CT_RING,   /* out: the ring timeout after a 1xx */
	CT_ANSWER, /* in: the ring time is over: answer */
	CT_HANGUP, /* the call has been up for hangup_ms (the listener's, or the dial's) */
};

#define CALL_MAX_FORKS 4

/* Someone on the loop waiting for a call to end (the phone's sipcx_call_wait()). */
struct call_waiter {
	struct call_waiter *next, **pprev;
	void (*fn)(struct call_waiter *w);
};

struct sipcx_call {
	struct sipcx_ua *ua;
	int refs; /* atomic */
	struct call_cfg *cfg;
	bool outgoing;

	/* the snapshot other threads read (sipcx_call_info()) */
	uv_mutex_t lock;
	struct sipcx_call_info info;
	struct sipcx_media_stats last_stats; /* taken when the media goes */
	struct sipcx__media_io *io;          /* held for user threads, may outlive the media */

	/* loop thread */
	enum sipcx_call_state state;
	bool ending;                            /* a BYE or CANCEL is on its way */
	bool ended;                             /* ENDED was delivered */
	bool engine_ref;                        /* the engine's reference is held */
	bool bye_after_ack;                     /* in: hang up once the ACK comes */
	bool counted;                           /* in: counted in the listener's live calls */
	bool silent;                            /* never started: no events */
	struct call_dlg *dlg;                   /* the dialog: early, then confirmed */
	struct call_dlg *forks[CALL_MAX_FORKS]; /* out: other early dialogs */
	unsigned nforks;
	struct sipcx_media *media;
	uint16_t sdp_port; /* sdp_only: the port our SDP names (the UA's discard or echo pair) */
	/* sdp_only echo: the addresses it let the UA's reflector answer ([0] its signalling
	 * peer, [1] its SDP's c=; bit i of echo_set when held), forgotten when the call ends */
	union sipcx_sa echo_ok[2];
	unsigned echo_set;
	int echo_family;                 /* the reflector's index (0: IPv4, 1: IPv6), -1: none */
	struct sipcx_wav *play, *record; /* the media's files, closed once it is freed */
	struct sipcx_tone_detect *detect;
	struct sipcx_sdp_session sdp;
	struct sipcx_sdp_crypto keys[SIPCX_SRTP_NSUITES]; /* our SRTP keys, one per suite */
	unsigned nkeys;
	char local_ip[48];    /* our address for SDP: the interface toward the signalling peer */
	char end_reason[256]; /* the Reason value of our BYE/CANCEL */
	struct sipcx__wheel_entry timer;
	enum call_timer timer_kind;
	struct sipcx_call *next, **pprev; /* the UA's live calls */
	struct call_waiter *waiters;      /* run when the call ends */

	struct sipcx_call
	    *xfer; /* the call a REFER of the peer made, or that replaced this one (a reference) */
	struct sipcx_call
	    *replaces; /* in: the call this one takes the place of (RFC 3891), until answered */
	/* our REFER (call_refer.c): the target, pending until the final NOTIFY */
	bool refer_out;
	char refer_target[512]; /* with ?Replaces= for an attended transfer */
	struct sipcx__wheel_entry refer_timer;
	struct call_waiter *refer_waiter; /* run once our REFER's outcome is known (the phone's) */

	/* our re-INVITE (hold, unhold): its transaction, its CSeq, its ACK kept for 2xx resends */
	struct ua_txn *reinv;
	uint32_t reinv_cseq;
	bool reinv_hold;
	bool reinv_refresh; /* sent by the session timer */
	char *reinv_ack;
	size_t reinv_ack_len;
	bool reinv_ack_wait; /* its ACK waits for the next hop's look-up (call_hop.c) */
	struct sipcx_tp_addr reinv_ack_dst;

	/* 100rel (call_prack.c), in: our 18x are reliable; the last one's RSeq, PRACK awaited */
	bool rel;
	bool rel_wait;      /* its PRACK has not come */
	bool rel_sdp;       /* it carried SDP: a 2xx waits for its PRACK (RFC 3262 3) */
	bool answer_wanted; /* the ring time is over, the 2xx waits for that PRACK */
	uint16_t rel_status;
	uint32_t rseq, rel_cseq; /* RSeq, and the INVITE's CSeq its RAck names */
	uint32_t rel_ms;         /* the next retransmission interval */
	uint64_t rel_end_us;     /* 64*T1 after the first send: give up */
	struct sipcx__wheel_entry rel_timer;

	/* Session timer (call_session.c, RFC 4028): the interval, who refreshes, its deadline */
	uint32_t se, min_se;
	bool se_ours;         /* we refresh */
	bool peer_timer;      /* the peer supports timer (Supported or Require in its INVITE/2xx) */
	unsigned se_tries;    /* out: INVITEs retried after a 422 */
	bool se_bye;          /* the timer's next firing is the expiry: BYE */
	bool se_by_invite;    /* the peer refused our UPDATE (405/501): refresh by re-INVITE */
	uint64_t se_start_us; /* the last refresh */
	struct sipcx__wheel_entry se_timer;
	/* our UPDATE (sipcx_call_update(), or a refresh): its transaction, an offer in it */
	struct ua_txn *upd;
	bool upd_offer;
	bool upd_refresh; /* sent by the session timer, not by the user */

	/* DTMF by SIP INFO (call.c): the digits waiting, one INFO at a time */
	char info_q[64];
	uint8_t info_qlen, info_qpos;
	bool info_busy; /* an INFO waits for its answer */
	uint16_t info_dur_ms, info_gap_ms;
	struct sipcx__wheel_entry info_timer;

	/* outgoing */
	struct ua_txn *ict; /* the INVITE client transaction, until it is freed */
	struct sipcx_tp_addr dst;
	/* A target by host name: RFC 3263 targets (dst is targets[itarget]), tried in turn (4.3). */
	struct sipcx_tp_addr *targets;
	uint8_t ntargets, itarget;
	struct sipcx_auth_client *auth;
	struct sipcx_auth_chain chain;
	char call_id[32];
	char from_tag[20];
	uint32_t cseq;
	char *invite; /* the INVITE as sent (for dialogs, CANCEL, auth) */
	size_t invite_len;
	char *offer; /* our SDP offer, NULL for a late offer */
	size_t offer_len;
	struct sipcx_hdr
	    auth_hdrs[SIPCX_AUTH_MAX_HDRS]; /* credentials of the INVITE, for its ACK */
	size_t nauth;
	char *auth_mem;
	bool got_1xx;
	bool cancel_wanted;
	bool cancel_sent;
	bool answered;     /* a 2xx came */
	bool early_answer; /* late offer: a reliable 18x's offer was answered in our PRACK */

	/* incoming */
	struct sipcx_ua_srv *srv; /* the INVITE, until its final response */
	struct ua_txn *ist;  /* an INVITE server transaction awaiting its ACK (or a re-INVITE's) */
	bool offered_in_2xx; /* our 2xx carried the offer: the answer comes in the ACK */
	char *answer;        /* our SDP for the 2xx */
	size_t answer_len;
};

/* The calls of one UA: the dialog table, the listener, the live calls (loop thread). */
struct ua_calls {
	struct call_dlg **tab;
	size_t mask;
	size_t ndlg;
	struct sipcx_call *live;
	struct call_cfg *listen; /* incoming calls' policy; NULL: not answering */
	unsigned incoming;       /* live incoming calls */
	struct sipcx_sdp *sdp;   /* parse scratch */
	struct sipcx_msg *msg;   /* parse scratch (our own INVITE) */
	/* The discard pair of sdp_only calls, per family (0: IPv4, 1: IPv6): bound by the
	 * first such call, never read (the kernel drops what fills its buffer); -1 / 0: none. */
	int sink_fd[2][2];
	uint16_t sink_port[2];
	/* The shared echo of sdp_only echo calls, per family: a pair under a reflector that
	 * returns what the calls' peers send; bound by the first such call. */
	int echo_fd[2][2];
	uint16_t echo_port[2];
	struct sipcx__reflect *echo[2];
	struct ua_closer closer;
};

/* call.c */
struct ua_calls *sipcx__calls_get(struct sipcx_ua *ua);
struct sipcx_call *sipcx__call_new(struct sipcx_ua *ua, struct call_cfg *cfg, bool outgoing);
/* A new config (one reference) with copies of the media options and the headers; NULL: -ENOMEM or *err. */
struct call_cfg *sipcx__call_cfg_new(const struct sipcx_call_media *m, const struct sipcx_hdr *hdrs,
                                     size_t nhdrs, int *err);
void sipcx__call_cfg_put(struct call_cfg *cfg);
/* *dst = a copy of s (NULL stays NULL); false without memory. */
bool sipcx__call_strdup(char **dst, const char *s);
struct call_dlg *sipcx__call_dlg_add(struct sipcx_call *c, struct sipcx_dialog *d);
void sipcx__call_dlg_free(struct call_dlg *cd);
/* Free cd now, or (out of the dialog table at once) once the requests waiting for its next hop went. */
void sipcx__call_dlg_release(struct call_dlg *cd);
struct call_dlg *sipcx__call_dlg_find(struct sipcx_call *c, struct sipcx_str remote_tag);
/* The dialog of any call of ua with this Call-ID and tags (Replaces, RFC 3891 3); NULL: none. */
struct call_dlg *sipcx__calls_find_dialog(struct sipcx_ua *ua, struct sipcx_str call_id,
                                          struct sipcx_str local_tag, struct sipcx_str remote_tag);
void sipcx__call_event(struct sipcx_call *c, enum sipcx_call_event_type type,
                       const struct sipcx_msg *msg);
void sipcx__call_set_state(struct sipcx_call *c, enum sipcx_call_state st);
/* The dialog's Call-ID, tags and URIs into the snapshot. */
void sipcx__call_info_dialog(struct sipcx_call *c, const struct sipcx_dialog *d);
/* The call is over: ENDED, media and dialogs released, the engine's reference dropped. */
void sipcx__call_ended(struct sipcx_call *c, enum sipcx_call_end by, int err, uint16_t status,
                       const char *reason, const struct sipcx_msg *why);
void sipcx__call_timer(struct sipcx_call *c, enum call_timer kind, uint32_t ms);
/* Loop thread: w->fn runs when c ends (c not ended yet); remove it before that with _del. */
void sipcx__call_waiter_add(struct sipcx_call *c, struct call_waiter *w);
void sipcx__call_waiter_del(struct call_waiter *w);
bool sipcx__call_is_over(const struct sipcx_call *c); /* loop thread */
/* Media: make the session (bound, not started), and our address for SDP toward dst. */
/* The call's media session, bound toward that peer; one socket when mux (RFC 5761 multiplexing). */
int sipcx__call_media_new(struct sipcx_call *c, const struct sipcx_tp_addr *toward, bool mux);
/* Draw the call's SRTP keys (call_srtp.c), none when its SRTP is off: 0 or the error. */
int sipcx__call_srtp_keys(struct sipcx_call *c);
/* Wipe them (the call goes). */
void sipcx__call_srtp_forget(struct sipcx_call *c);
/* SDP: parse the body of m (NULL when it has none or is not SDP). */
const struct sipcx_sdp *sipcx__call_sdp_of(struct sipcx_call *c, const struct sipcx_msg *m);
/* Our offer into b; the answer to offer into b; an answer to our offer: each applies to the media. */
int sipcx__call_sdp_offer(struct sipcx_call *c, enum sipcx_sdp_dir dir, struct sipcx_buf *b);
int sipcx__call_sdp_answer(struct sipcx_call *c, const struct sipcx_sdp *offer,
                           struct sipcx_buf *b);
int sipcx__call_sdp_process(struct sipcx_call *c, const struct sipcx_sdp *answer);
/* A REFER in the dialog (call_refer.c): 202, NOTIFYs, the new call. */
void sipcx__call_refer_in(struct sipcx_call *c, struct sipcx_ua_srv *srv,
                          const struct sipcx_msg *m);
/*
 * Loop thread: our REFER to target, or (with set) an attended one naming that call, after
 * delay_ms (sipcx_call_refer(), sipcx_call_refer_replaces()). 0, -ENOTCONN, -EBUSY.
 */
int sipcx__call_refer_start(struct sipcx_call *c, const char *target, struct sipcx_call *with,
                            uint32_t delay_ms);
/* A REFER target we send: a sip:/sips: URI that fits, nothing to break the header. */
bool sipcx__call_refer_target_ok(const char *target);
/* A NOTIFY in the dialog: ours if a REFER of ours waits for it (true: answered here). */
bool sipcx__call_refer_notify(struct sipcx_call *c, struct sipcx_ua_srv *srv,
                              const struct sipcx_msg *m);
/* A digit from the peer: kept in the info, told to the owner (loop thread). */
void sipcx__call_dtmf(struct sipcx_call *c, char digit, unsigned ms, enum sipcx_dtmf_mode mode,
                      const struct sipcx_msg *msg);
/* call_hop.c: requests inside a dialog (RFC 3261 12.2.1.1), their next hop located (RFC 3263) */
/* An ACK printed for dst: b's bytes are the hook's to take (sipcx_buf_detach) and send. */
typedef int call_ack_fn(struct sipcx_call *c, struct call_dlg *cd, struct sipcx_buf *b,
                        const struct sipcx_tp_addr *dst);
/* A request's client transaction has started (its callback is cb). */
typedef void call_sent_fn(struct sipcx_call *c, struct call_dlg *cd, struct ua_txn *ut);
/* An in-dialog request: the caller's strings, copied when it has to wait. */
struct call_req {
	const char *method;
	uint32_t cseq; /* 0: the dialog's next */
	const struct sipcx_hdr *hdrs;
	size_t nhdrs;
	const char *ctype; /* with a body */
	struct sipcx_str body;
	sipcx_ua_resp_cb *cb; /* not an ACK: its responses (an error when it cannot go) */
	void *arg;
	/* not an ACK, optional: the call's own state (dropped, cb never run, once the call is over) */
	call_sent_fn *sent;
	call_ack_fn *ack; /* an ACK (no transaction) */
};
/*
 * Send rq on cd: at once when its next hop (first Route, else the remote
 * target) is numeric or located already; else once the UA's resolver has
 * located it (RFC 3263 4), on a later loop turn, in the order asked. A
 * request that waits and then cannot go gets cb(err) (an ACK: the call
 * ends). Returns 0 (sent, or waiting), or an error known now (cb not run).
 */
int sipcx__call_out(struct sipcx_call *c, struct call_dlg *cd, const struct call_req *rq);
/* Send an in-dialog request on cd (BYE, INFO, NOTIFY, REFER, PRACK); cb gets its responses. */
int sipcx__call_request(struct sipcx_call *c, struct call_dlg *cd, const char *method,
                        const struct sipcx_hdr *hdrs, size_t nhdrs, const char *ctype,
                        struct sipcx_str body, sipcx_ua_resp_cb *cb, void *arg);
/* An ACK hook's common part: b's bytes kept in *ack (for the 2xx's retransmissions), sent to dst. */
int sipcx__call_ack_keep(struct sipcx_call *c, struct sipcx_buf *b, const struct sipcx_tp_addr *dst,
                         char **ack, size_t *len, struct sipcx_tp_addr *ack_dst);
/* Requests of the call's dialog wait for its next hop's look-up (no new offer meanwhile). */
bool sipcx__call_hop_busy(const struct sipcx_call *c);
/* cd goes: a look-up under way fails its waiting requests (SIPCX_ECLOSED) when it ends. */
void sipcx__call_hop_forget(struct call_dlg *cd);
/* Send BYE on the confirmed dialog and end the call when it is answered. */
void sipcx__call_bye(struct sipcx_call *c, enum sipcx_call_end by, int err);
/* The Reason header for our BYE/CANCEL from the user's text (RFC 3326). */
void sipcx__call_reason(struct sipcx_call *c, const char *text);

/* A response of ours to srv (call_in.c): extra headers more, SDP body (may be empty). */
int sipcx__call_respond(struct sipcx_call *c, struct sipcx_ua_srv *srv, uint16_t status,
                        const char *reason, struct sipcx_str body, const struct sipcx_hdr *more,
                        size_t nmore);
/* Answer the INVITE with a failure status and end the call (call_in.c). */
void sipcx__call_reject(struct sipcx_call *c, uint16_t status, const char *reason,
                        const struct sipcx_hdr *more, size_t nmore, enum sipcx_call_end by,
                        int err);
/* Is the call up (confirmed, with media, not ending)? */
bool sipcx__call_is_up(const struct sipcx_call *c);
/* The call can offer and answer SDP: it has its media, or is sdp_only with its port. */
static inline bool sipcx__call_has_sdp(const struct sipcx_call *c)
{
	return c->media || c->sdp_port;
}
/* Does an offer of ours (re-INVITE, UPDATE) wait for its answer? */
bool sipcx__call_offer_out(const struct sipcx_call *c);
/* Our re-INVITE or UPDATE failed (RFC 3261 14.1): timer: the session timer's, else told as
 * SIPCX_CALL_EV_MEDIA; 481, 408 or no response end the call. */
void sipcx__call_refresh_failed(struct sipcx_call *c, bool timer, int err,
                                const struct sipcx_msg *resp);
/* Our re-INVITE (hold, unhold, a session refresh) offering dir (call.c): 0 or an error. */
int sipcx__call_reinvite(struct sipcx_call *c, enum sipcx_sdp_dir dir, bool hold);

/* call_prack.c: 100rel (RFC 3262) */
/* The option tags of our Supported header ("100rel, timer" or "timer"). */
const char *sipcx__call_supported(const struct call_cfg *cfg);
/* Does m carry tag in its header id (Supported, Require)? */
bool sipcx__call_has_tag(const struct sipcx_msg *m, enum sipcx_hdr_id id, const char *tag);
/* The engine's Require check: does a listening call layer support tag (ua.h)? */
/* In: decide whether our 18x are reliable; false when the INVITE was refused (421). */
bool sipcx__call_rel_check(struct sipcx_call *c, const struct sipcx_msg *inv);
/* In: send our 18x (reliably when decided: Require, RSeq, re-sent until its PRACK). */
int sipcx__call_provisional(struct sipcx_call *c, uint16_t status, struct sipcx_str sdp);
/* In: the ring time is over: true when the 2xx must wait for the PRACK of an 18x with SDP. */
bool sipcx__call_rel_defer(struct sipcx_call *c);
/* A PRACK in the dialog (in: ours to answer). */
void sipcx__call_prack_in(struct sipcx_call *c, struct sipcx_ua_srv *srv,
                          const struct sipcx_msg *m);
/* Out: a 1xx on cd: false when it is a reliable one seen already or out of order (dropped); a new reliable one is PRACKed. */
bool sipcx__call_prack_out(struct sipcx_call *c, struct call_dlg *cd, const struct sipcx_msg *resp);

/* call_session.c: session timers (RFC 4028) and our UPDATE (RFC 3311) */
/* The options of a call's extensions into cfg, checked (-EINVAL) and Min-SE resolved. */
int sipcx__call_ext_set(struct call_cfg *cfg, const struct sipcx_call_ext *e);
/* Session-Expires and Min-SE of a request of ours (the INVITE, a refresh) into h (at most 2,
 * their values in buf); how many (0: no session timer). */
size_t sipcx__call_se_request_hdrs(struct sipcx_call *c, struct sipcx_hdr *h, char buf[64]);
/* Supported, and a session timer's Session-Expires and Min-SE, of a re-INVITE or UPDATE of
 * ours (RFC 4028 7.4, 9) into h (at most 3); how many. */
size_t sipcx__call_refresh_hdrs(struct sipcx_call *c, struct sipcx_hdr *h, char buf[64]);
/* Session-Expires (and Require: timer) of our 2xx into h (at most 2); how many (0: no timer). */
size_t sipcx__call_se_response_hdrs(struct sipcx_call *c, struct sipcx_hdr *h, char buf[64]);
/* In: the Session-Expires of a request answered on srv (the INVITE when initial, a re-INVITE,
 * an UPDATE): false when it was refused (422 with our Min-SE, 400). */
bool sipcx__call_se_check(struct sipcx_call *c, struct sipcx_ua_srv *srv,
                          const struct sipcx_msg *req, bool initial);
/* Out: a 422 to the INVITE: true when it goes again with the larger Min-SE. */
bool sipcx__call_se_retry(struct sipcx_call *c, const struct sipcx_msg *resp);
/* The 2xx of our INVITE (refresh false) or of a refresh: its Session-Expires sets the timer. */
void sipcx__call_se_response(struct sipcx_call *c, const struct sipcx_msg *resp, bool refresh);
/* (Re)start the session timer from now; refresh: count one refresh (none without a timer). */
void sipcx__call_se_arm(struct sipcx_call *c, bool refresh);
/* A refresh of ours failed with status (0: no response): retry or let the session expire. */
void sipcx__call_se_failed(struct sipcx_call *c, uint16_t status);

/* call_out.c */
int sipcx__call_out_start(struct sipcx_call *c);
void sipcx__call_out_end(struct sipcx_call *c); /* hang up an outgoing call (loop thread) */
void sipcx__call_out_timer(struct sipcx_call *c);
void sipcx__call_out_release(struct sipcx_call *c);

/* call_in.c */
/* sipcx_call_listen() with release(o->arg) called once no call uses o->cb any more. */
int sipcx__call_listen(struct sipcx_ua *ua, const struct sipcx_answer_opts *o,
                       void (*release)(void *arg));
/* An initial INVITE with no handler for it: take it when listening. */
bool sipcx__call_incoming(struct sipcx_ua *ua, const struct ua_origin *og,
                          const struct sipcx_msg *m);
void sipcx__call_in_end(struct sipcx_call *c); /* hang up an incoming call (loop thread) */
void sipcx__call_in_timer(struct sipcx_call *c, enum call_timer kind);
void sipcx__call_in_release(struct sipcx_call *c);
/* An in-dialog request for c: BYE, re-INVITE, UPDATE, ACK, INFO, OPTIONS... */
void sipcx__call_in_dialog(struct sipcx_call *c, struct call_dlg *cd, const struct ua_origin *og,
                           const struct sipcx_msg *m);

#endif
