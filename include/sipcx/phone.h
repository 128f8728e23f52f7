/* sipcx phone: the blocking API over the async engine: register, unregister, any request (dial and answer next), each bounded by a context. */
#ifndef SIPCX_PHONE_H
#define SIPCX_PHONE_H

#include <sipcx/base.h>
#include <sipcx/call.h>
#include <sipcx/ctx.h>
#include <sipcx/reg.h>
#include <sipcx/ua.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The phone: blocking calls for any user thread, on top of one UA (the
 * curl "easy" API over the "multi" engine). Each call starts its work on
 * the UA's loop thread and waits for it, bounded by a context (struct
 * sipcx_ctx: a deadline, and a cancel a signal handler may fire); when the
 * context ends first the call returns its error (-ETIMEDOUT, -ECANCELED)
 * at once and the work winds down on the loop (a transaction runs out, a
 * CANCEL is sent). A NULL context never ends. Called on the UA's loop
 * thread (inside a callback) they would wait for themselves: they return
 * -EDEADLK there. Several threads may use one phone at once.
 */
struct sipcx_phone;

struct sipcx_phone_opts {
	/** None yet: 0. */
	unsigned flags;
};

/**
 * A phone on ua (which must outlive it). opts may be NULL. Returns 0 and
 * *out, -EINVAL, -ENOMEM; *out untouched on failure.
 */
SIPCX_API int sipcx_phone_new(struct sipcx_phone **out, struct sipcx_ua *ua,
                              const struct sipcx_phone_opts *opts);

/**
 * Close the phone's answering (sipcx_phone_answer()): stop taking calls
 * (calls already up, and handed out, go on: hang them up yourself),
 * hang up the calls that were up but not handed out yet, and unregister
 * the registration answer made, waiting for the registrar's answer no
 * longer than ctx. Any thread but the loop's. Returns 0, or the
 * unregistration's error (see sipcx_phone_unregister()).
 */
SIPCX_API int sipcx_phone_close(struct sipcx_phone *phone, struct sipcx_ctx *ctx);

/**
 * Free a phone (NULL accepted): sipcx_phone_close() first (bounded by 5 s).
 * Registrations made with sipcx_phone_register() live on: free them yourself.
 */
SIPCX_API void sipcx_phone_free(struct sipcx_phone *phone);

/** The UA of a phone (NULL for NULL). */
SIPCX_API struct sipcx_ua *sipcx_phone_ua(const struct sipcx_phone *phone);

/**
 * Register and block until the first answer: the REGISTER -> 401 ->
 * REGISTER with credentials -> 200 flow of sipcx_reg_new(), with opts as
 * there (opts->cb, when set, also sees every change, on the loop thread).
 * With SIPCX_REG_RETRY_FIRST it blocks until registered or ctx is done.
 * With SIPCX_REG_UNREGISTER_ALL it blocks until the bindings are removed.
 *
 * Returns 0 and *out (registered, refreshing by itself until
 * sipcx_phone_unregister() or sipcx_reg_free()). On failure *out is untouched, the
 * registration is freed, and: SIPCX_EAUTH (credentials refused after one
 * retry, or a challenge without credentials), SIPCX_ESTATUS (a failure
 * status), -ETIMEDOUT (no final response, or ctx's deadline), -ECANCELED
 * (ctx cancelled), -EPROTO, a transport error, or a sipcx_reg_new() error.
 * info (may be NULL) gets the last state in both cases: status, reason,
 * granted expiry. ctx NULL: no limit but the transaction timeout.
 */
SIPCX_API int sipcx_phone_register(struct sipcx_phone *phone, struct sipcx_ctx *ctx,
                                   const struct sipcx_reg_opts *opts, struct sipcx_reg **out,
                                   struct sipcx_reg_info *info);

/**
 * Unregister and free reg (from sipcx_phone_register() or sipcx_reg_new()
 * on this phone's UA): REGISTER with "Expires: 0" for its Contact when a
 * binding may exist, and wait for the final answer, at most the
 * registration's unregister_timeout_ms, and no longer than ctx. reg is
 * gone when this returns, whatever the outcome (what is left finishes on
 * the loop). info (may be NULL) gets the last state (UNREGISTERED, with
 * err and status of the answer). Returns 0 (the registrar removed the
 * binding, or none existed), the registration's error (SIPCX_ESTATUS,
 * SIPCX_EAUTH, -ETIMEDOUT: no answer), ctx's error, -EINVAL (reg of
 * another UA: freed anyway), -EDEADLK. reg NULL: 0.
 */
SIPCX_API int sipcx_phone_unregister(struct sipcx_phone *phone, struct sipcx_ctx *ctx,
                                     struct sipcx_reg *reg, struct sipcx_reg_info *info);

/** The answer to sipcx_phone_request(). */
struct sipcx_phone_response {
	/** in: also keep the final response in msg. */
	bool want_msg;
	uint16_t status;  /**< the final status; 0 when none came */
	char reason[128]; /**< its reason phrase */
	uint64_t rtt_us;  /**< from the request sent to its final response */
	/** The final response (sipcx_msg_unref() it), with want_msg; else NULL. */
	struct sipcx_msg *msg;
};

/**
 * Send a request (as sipcx_ua_request(): OPTIONS, MESSAGE, INFO, ...) and
 * wait for its final response. Returns 0 when a final response came, any
 * status (out->status tells; a SIP status is never an error), or:
 * -ETIMEDOUT (Timer F: no final response, or ctx's deadline), -ECANCELED
 * (ctx), a transport error, a sipcx_ua_request() error, -EDEADLK. out may
 * be NULL.
 */
SIPCX_API int sipcx_phone_request(struct sipcx_phone *phone, struct sipcx_ctx *ctx,
                                  const struct sipcx_ua_req_opts *o,
                                  struct sipcx_phone_response *out);

/*
 * Calls, blocking (sipgox's Dial and Answer). The call they return is the
 * object of sipcx/call.h: read and write its RTP with sipcx_call_read_rtp()
 * and sipcx_call_write_rtp(), look at it with sipcx_call_info() and
 * sipcx_call_stats(), end it with sipcx_call_hangup(), release it with
 * sipcx_call_free().
 */

/**
 * Call uri and block until the call is up (2xx received, ACK sent), or
 * over, or ctx is done. opts may be NULL (see struct sipcx_dial_opts: digest
 * credentials, From, headers, codecs, transport, outbound proxy, ring
 * timeout, late offer; opts->cb sees every event of the call, on the loop
 * thread; opts->info gets the call's state when this returns).
 * Returns 0 and *out (the caller's: sipcx_call_free() it); on failure *out
 * is untouched, the call is gone, and: SIPCX_ESTATUS (a failure status:
 * 486, 603... in info), SIPCX_EAUTH (credentials refused, or a challenge
 * without credentials), -ETIMEDOUT (no final response, the ring timeout,
 * or ctx's deadline: CANCEL is sent), -ECANCELED (ctx cancelled: CANCEL is
 * sent once a 1xx allows it), SIPCX_ENOCODEC, -EPROTO (a 2xx without the
 * SDP answer: ACKed, then BYE), a transport error, or a sipcx_call_dial()
 * error; -EDEADLK on the loop thread.
 */
SIPCX_API int sipcx_phone_dial(struct sipcx_phone *phone, struct sipcx_ctx *ctx, const char *uri,
                               const struct sipcx_dial_opts *opts, struct sipcx_call **out);

/**
 * Block until an incoming call is up (our 2xx ACKed) or ctx is done, and
 * return it in *out (the caller's: sipcx_call_free() it). The first call on
 * a phone sets its answering up with opts: a registration first when
 * opts->registrar is set (REGISTER, 401, digest, 200; refreshed at half
 * the expiry the registrar grants), then a listener (sipcx_call_listen():
 * ring time, answer code, on_call, headers, codecs, max_calls, media); the
 * later calls wait for the next call and ignore opts. Calls that come up
 * while no thread waits are kept (up to 64) for the next sipcx_phone_answer().
 * sipcx_phone_close() undoes it all. Several threads may wait at once.
 * Returns 0, ctx's error (-ECANCELED, -ETIMEDOUT; the phone keeps
 * answering), a registration error (sipcx_phone_register()), a
 * sipcx_call_listen() error, SIPCX_ECLOSED (closed meanwhile), -EDEADLK.
 */
SIPCX_API int sipcx_phone_answer(struct sipcx_phone *phone, struct sipcx_ctx *ctx,
                                 const struct sipcx_answer_opts *opts, struct sipcx_call **out);

/**
 * Set the phone's answering up now (what the first sipcx_phone_answer()
 * does: register when opts->registrar is set, then listen), and return once
 * calls can come: a readiness point, so a test dials only once the answerer
 * listens (its address: sipcx_ua_bound()). Calls that come up before
 * sipcx_phone_answer() waits are kept for it. Again on a phone that
 * answers already: 0, opts ignored. Returns 0, ctx's error, a registration
 * or sipcx_call_listen() error, -EDEADLK on the loop thread.
 */
SIPCX_API int sipcx_phone_listen(struct sipcx_phone *phone, struct sipcx_ctx *ctx,
                                 const struct sipcx_answer_opts *opts);

/**
 * Block until call is over (sipgox's dialog Done) or ctx is done. Returns 0
 * (over: see sipcx_call_info() for who ended it and why), ctx's error,
 * -EINVAL, -EDEADLK on the loop thread.
 */
SIPCX_API int sipcx_call_wait(struct sipcx_call *call, struct sipcx_ctx *ctx);

/**
 * Hang up and wait until the call is over: BYE (and its answer) on an
 * established call, CANCEL (and the 487) on an outgoing one still ringing,
 * 487 to an incoming one not answered; reason as in sipcx_call_end(). On
 * the loop thread it does not wait (the end comes as an event). Returns 0
 * (also when the call was over already), -EINVAL, SIPCX_ECLOSED.
 */
SIPCX_API int sipcx_call_hangup(struct sipcx_call *call, const char *reason);

/**
 * Hang up every call of ua that is not over (each as sipcx_call_hangup():
 * BYE on an established call, CANCEL on an outgoing one still ringing, 487
 * to an incoming one not answered; reason as in sipcx_call_end()) and
 * wait until they are all over, or ctx is done (the rest end with the UA,
 * nothing more sent): what a program does before it exits with calls up.
 * Returns 0, ctx's error, -EINVAL, -ENOMEM, -EDEADLK on the loop thread.
 */
SIPCX_API int sipcx_call_hangup_all(struct sipcx_ua *ua, struct sipcx_ctx *ctx, const char *reason);

/**
 * Transfer the peer of call and wait for the outcome (RFC 3515, RFC 5589):
 * blind to target (a sip: URI; consultation NULL), or attended
 * (target NULL) to the peer of consultation, a call of the same UA that is
 * up, whose place the transferee's INVITE takes (Replaces, RFC 3891; see
 * sipcx_call_refer() and sipcx_call_refer_replaces()). Blocks until the
 * final NOTIFY (or the REFER's failure), or until call ends, or ctx is
 * done. Returns 0: the transfer worked (the final NOTIFY said 2xx; call is
 * then hung up, sipcx_call_wait() for it); SIPCX_ESTATUS: the REFER was
 * refused or the target did not answer (sipcx_call_info().transfer_result
 * has the status); -ENOTCONN: a call is not up, or it ended before the
 * outcome; -EBUSY: a transfer is on; -EINVAL; ctx's error (the REFER goes
 * on: its outcome still comes as SIPCX_CALL_EV_TRANSFER); -EDEADLK on the
 * loop thread.
 */
SIPCX_API int sipcx_phone_transfer(struct sipcx_call *call, struct sipcx_ctx *ctx,
                                   const char *target, struct sipcx_call *consultation);

#ifdef __cplusplus
}
#endif
#endif
