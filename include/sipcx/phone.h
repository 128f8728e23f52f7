/* sipcx phone: the blocking API over the async engine (register now; dial and answer later) and cancellation contexts. */
#ifndef SIPCX_PHONE_H
#define SIPCX_PHONE_H

#include <sipcx/base.h>
#include <sipcx/ctx.h>
#include <sipcx/reg.h>
#include <sipcx/ua.h>

#ifdef __cplusplus
extern "C" {
#endif

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
