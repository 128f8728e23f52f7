/* phone: private helpers shared by the blocking API's files: the wait primitive and context waits. */
#ifndef SIPCX__PHONE_H
#define SIPCX__PHONE_H

#include <sipcx/call.h>
#include <sipcx/phone.h>

#include "base/base.h"

/*
 * Wait until fd is readable (returns 0) or ctx is done (its error). fd -1:
 * only ctx. ctx NULL: only fd. Interrupted system calls are retried.
 */
int sipcx__ctx_wait_fd(struct sipcx_ctx *ctx, int fd);

/*
 * The one blocking primitive of the phone: an operation started on the
 * engine's loop thread and finished there (sipcx__op_done()), while the
 * calling thread waits for it, bounded by a context. The async engine never
 * blocks; every blocking call of the phone (register, unregister, request,
 * dial, answer, hangup...) is one of these.
 *
 * The operation is shared by the waiting thread and the loop, and freed
 * (release) by whichever lets go last: a waiter whose context ends first
 * returns at once, after asking the loop to cancel (cancel runs on the loop,
 * and must lead to sipcx__op_done() in due time, e.g. after a CANCEL's
 * answer or at once); the loop keeps the operation until it is done.
 *
 * Embed it first in a struct of the operation's own state
 * (struct dial { struct phone_op op; ... }), set start (required), cancel
 * and release, then sipcx__op_init(), sipcx__op_run(), read the results,
 * sipcx__op_put(). The results written on the loop may be read only when
 * run returned the operation's own result (it is done); after a context
 * error the loop may still be writing them.
 */
struct phone_op {
	struct sipcx_ua *ua;
	void (*start)(struct phone_op *op);           /* loop thread: begin */
	void (*cancel)(struct phone_op *op, int err); /* loop thread: the waiter gave up (err) */
	void (*release)(struct phone_op *op);         /* any thread: last reference gone */
	/* private */
	int refs;       /* atomic */
	int done;       /* atomic */
	int result;     /* written before done */
	int cancel_err; /* given to cancel */
	bool cancelled; /* loop thread */
	int efd;        /* readable once done */
};

/* Set up op (one reference: the caller's). Returns 0 or the eventfd() error. */
int sipcx__op_init(struct phone_op *op, struct sipcx_ua *ua);
/*
 * The two halves of sipcx__op_run() for work started elsewhere (a call
 * whose events will finish the op): arm takes the loop's reference first,
 * so sipcx__op_done() may come at any time after it; wait then waits as run
 * does (start is not used). A start that fails before the loop got the op
 * calls sipcx__op_done() itself, from the calling thread.
 */
void sipcx__op_arm(struct phone_op *op);
int sipcx__op_wait(struct phone_op *op, struct sipcx_ctx *ctx);
/*
 * Run op: start() on the loop, then wait until it is done (returns its
 * result) or ctx is done (returns ctx's error; cancel() is then run on the
 * loop unless the operation is done). -EDEADLK on the loop thread and ctx's
 * error when it is done already (nothing runs), SIPCX_ECLOSED when the UA
 * is shutting down. The caller keeps its reference: sipcx__op_put() it.
 */
int sipcx__op_run(struct phone_op *op, struct sipcx_ctx *ctx);
/* Drop a reference; the last one closes the fd and calls release. */
void sipcx__op_put(struct phone_op *op);
/* Loop thread: the operation finished with result (0 or a negative error). Only the first call counts. */
void sipcx__op_done(struct phone_op *op, int result);
/* Has sipcx__op_done() been called (any thread)? */
bool sipcx__op_is_done(const struct phone_op *op);

/* call.c: the answering service of a phone (its listener, registration and queue). */
struct phone_answer;
struct phone_answer *sipcx__phone_answer_new(struct sipcx_ua *ua);
/* Register and listen, once (the phone's lock held); then wait for an established call. */
int sipcx__phone_answer_setup(struct phone_answer *svc, struct sipcx_phone *phone,
                              struct sipcx_ctx *ctx, const struct sipcx_answer_opts *opts);
int sipcx__phone_answer_wait(struct phone_answer *svc, struct sipcx_ctx *ctx,
                             struct sipcx_call **out);
int sipcx__phone_answer_close(struct phone_answer *svc, struct sipcx_phone *phone,
                              struct sipcx_ctx *ctx);
void sipcx__phone_answer_free(struct phone_answer *svc);
struct sipcx_reg *sipcx__phone_answer_reg(const struct phone_answer *svc);

#endif
