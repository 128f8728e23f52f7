/* phone: the one blocking primitive: run an operation on the engine's loop and wait for it, bounded by a context. */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "phone/phone.h"
#include "ua/ua.h"

int sipcx__op_init(struct phone_op *op, struct sipcx_ua *ua)
{
	op->ua = ua;
	op->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (op->efd < 0)
		return -errno;
	op->refs = 1;
	op->done = 0;
	op->result = 0;
	op->cancelled = false;
	return 0;
}

void sipcx__op_put(struct phone_op *op)
{
	if (__atomic_sub_fetch(&op->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	close(op->efd);
	if (op->release)
		op->release(op);
}

void sipcx__op_done(struct phone_op *op, int result)
{
	if (__atomic_load_n(&op->done, __ATOMIC_ACQUIRE))
		return;
	op->result = result;
	__atomic_store_n(&op->done, 1, __ATOMIC_RELEASE);
	uint64_t one = 1;
	ssize_t w = write(op->efd, &one, sizeof(one));
	(void)w;           /* a full counter is still readable */
	sipcx__op_put(op); /* the loop's reference */
}

bool sipcx__op_is_done(const struct phone_op *op)
{
	return __atomic_load_n(&op->done, __ATOMIC_ACQUIRE) != 0;
}

static void start_on_loop(void *arg)
{
	struct phone_op *op = arg;
	op->start(op);
}

static void cancel_on_loop(void *arg)
{
	struct phone_op *op = arg;
	if (sipcx__op_is_done(op) || op->cancelled)
		return;
	op->cancelled = true;
	if (op->cancel)
		op->cancel(op, op->cancel_err);
}

void sipcx__op_arm(struct phone_op *op)
{
	__atomic_add_fetch(&op->refs, 1, __ATOMIC_ACQ_REL); /* the loop's, until done */
}

int sipcx__op_wait(struct phone_op *op, struct sipcx_ctx *ctx)
{
	int err = sipcx__ctx_wait_fd(ctx, op->efd);
	/* The acquire load comes first, even when the eventfd fired: it is what makes the
	 * result written on the loop visible here (an eventfd orders nothing for the compiler). */
	if (sipcx__op_is_done(op) || !err)
		return op->result;
	/* The caller's context ended first: the operation winds down on the loop. */
	op->cancel_err = err;
	if (sipcx_ua_call(op->ua, cancel_on_loop, op) != 0)
		return SIPCX_ECLOSED;
	return err;
}

int sipcx__op_run(struct phone_op *op, struct sipcx_ctx *ctx)
{
	struct sipcx_ua *ua = op->ua;
	/* Waiting on the loop thread would wait for ourselves. */
	if (sipcx__ua_on_loop(ua))
		return -EDEADLK;
	int err = sipcx_ctx_err(ctx);
	if (err)
		return err;
	sipcx__op_arm(op);
	err = sipcx_ua_call(ua, start_on_loop, op);
	if (err) {
		sipcx__op_put(op); /* start never ran: nor will done */
		return err;
	}
	return sipcx__op_wait(op, ctx);
}
