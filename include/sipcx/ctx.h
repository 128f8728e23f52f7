/* sipcx contexts: a deadline and an async-signal-safe cancel that bound every blocking call (Go's context). */
#ifndef SIPCX_CTX_H
#define SIPCX_CTX_H

#include <sipcx/base.h>

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

#ifdef __cplusplus
}
#endif
#endif
