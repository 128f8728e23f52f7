/* sipcx phone: the blocking API over the async engine (register now; dial and answer later) and cancellation contexts. */
#ifndef SIPCX_PHONE_H
#define SIPCX_PHONE_H

#include <sipcx/base.h>
#include <sipcx/reg.h>
#include <sipcx/ua.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Contexts, as Go's: a deadline and a cancel flag that bound every blocking
 * call. A child context is done when its parent is. sipcx_ctx_cancel() is
 * async-signal-safe, so a SIGINT handler can end a call that is waiting.
 */
struct sipcx_ctx;

/**
 * A new context, done timeout_ms from now (0: no deadline of its own), or
 * when cancelled, or when parent (may be NULL) is done. The parent must
 * outlive it. Returns 0 and *out, -EINVAL (out NULL), -ENOMEM, or the
 * eventfd() error; *out untouched on failure.
 */
SIPCX_API int sipcx_ctx_new(struct sipcx_ctx **out, struct sipcx_ctx *parent, uint64_t timeout_ms);

/** sipcx_ctx_new() for expressions: the context, or NULL on failure. */
SIPCX_API struct sipcx_ctx *sipcx_ctx_timeout(struct sipcx_ctx *parent, uint64_t timeout_ms);

/**
 * Cancel ctx and its children. Async-signal-safe (an atomic store and a
 * write() to an eventfd); any thread; idempotent. NULL is ignored.
 */
SIPCX_API void sipcx_ctx_cancel(struct sipcx_ctx *ctx);

/**
 * Why ctx is done: 0 (not done), -ECANCELED, -ETIMEDOUT (its deadline or an
 * ancestor's passed). NULL gives 0 (a NULL context is never done).
 */
SIPCX_API int sipcx_ctx_err(const struct sipcx_ctx *ctx);

/** The earliest deadline of ctx and its ancestors, sipcx_now_us() time; UINT64_MAX: none. */
SIPCX_API uint64_t sipcx_ctx_deadline_us(const struct sipcx_ctx *ctx);

/**
 * Block until ctx is done and return sipcx_ctx_err(). A context with no
 * deadline waits for a cancel. ctx NULL: -EINVAL (it would never return).
 */
SIPCX_API int sipcx_ctx_wait(struct sipcx_ctx *ctx);

/** A file descriptor that is readable once ctx (not its parent) is cancelled; -1 for NULL. */
SIPCX_API int sipcx_ctx_fd(const struct sipcx_ctx *ctx);

/** Free a context (NULL accepted). Its children must be freed first. */
SIPCX_API void sipcx_ctx_free(struct sipcx_ctx *ctx);

/*
 * The phone: blocking calls for any user thread, on top of one UA.
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

/** Free a phone (NULL accepted). Registrations it made live on: free them yourself. */
SIPCX_API void sipcx_phone_free(struct sipcx_phone *phone);

/**
 * Register and block until the first answer: the REGISTER -> 401 ->
 * REGISTER with credentials -> 200 flow of sipcx_reg_new(), with opts as
 * there (opts->cb, when set, also sees every change, on the loop thread).
 * With SIPCX_REG_RETRY_FIRST it blocks until registered or ctx is done.
 * With SIPCX_REG_UNREGISTER_ALL it blocks until the bindings are removed.
 *
 * Returns 0 and *out (registered, refreshing by itself until
 * sipcx_reg_free(), which unregisters). On failure *out is untouched, the
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

#ifdef __cplusplus
}
#endif
#endif
