/* phone: the blocking phone API on one UA: register (RFC 3261 10.2), unregister, any request; each one operation on the engine's loop. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sipcx/phone.h>

#include "phone/phone.h"
#include "ua/ua.h"

struct sipcx_phone {
	struct sipcx_ua *ua;
	struct sipcx_phone_opts opts;
	pthread_mutex_t lock; /* the answering service's set-up and close */
	struct phone_answer *answer;
};

int sipcx_phone_new(struct sipcx_phone **out, struct sipcx_ua *ua,
                    const struct sipcx_phone_opts *opts)
{
	if (!out || !ua)
		return -EINVAL;
	struct sipcx_phone *p = sipcx_calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ua = ua;
	if (opts)
		p->opts = *opts;
	p->answer = sipcx__phone_answer_new(ua);
	if (!p->answer || pthread_mutex_init(&p->lock, NULL) != 0) {
		sipcx__phone_answer_free(p->answer);
		sipcx_free(p);
		return -ENOMEM;
	}
	*out = p;
	return 0;
}

int sipcx_phone_answer(struct sipcx_phone *phone, struct sipcx_ctx *ctx,
                       const struct sipcx_answer_opts *opts, struct sipcx_call **out)
{
	if (!phone || !out)
		return -EINVAL;
	int err = sipcx_ctx_err(ctx);
	if (err)
		return err;
	/* The first call sets the service up (register, listen); the others find it running. */
	pthread_mutex_lock(&phone->lock);
	err = sipcx__phone_answer_setup(phone->answer, phone, ctx, opts);
	pthread_mutex_unlock(&phone->lock);
	return err ? err : sipcx__phone_answer_wait(phone->answer, ctx, out);
}

int sipcx_phone_listen(struct sipcx_phone *phone, struct sipcx_ctx *ctx,
                       const struct sipcx_answer_opts *opts)
{
	if (!phone)
		return -EINVAL;
	int err = sipcx_ctx_err(ctx);
	if (err)
		return err;
	pthread_mutex_lock(&phone->lock);
	err = sipcx__phone_answer_setup(phone->answer, phone, ctx, opts);
	pthread_mutex_unlock(&phone->lock);
	return err;
}

int sipcx_phone_close(struct sipcx_phone *phone, struct sipcx_ctx *ctx)
{
	if (!phone)
		return -EINVAL;
	pthread_mutex_lock(&phone->lock);
	int err = sipcx__phone_answer_close(phone->answer, phone, ctx);
	pthread_mutex_unlock(&phone->lock);
	return err;
}

void sipcx_phone_free(struct sipcx_phone *phone)
{
	if (!phone)
		return;
	struct sipcx_ctx *bound = sipcx_ctx_timeout(NULL, 5000);
	sipcx_phone_close(phone, bound);
	sipcx_ctx_free(bound);
	sipcx__phone_answer_free(phone->answer);
	pthread_mutex_destroy(&phone->lock);
	sipcx_free(phone);
}

struct sipcx_ua *sipcx_phone_ua(const struct sipcx_phone *phone)
{
	return phone ? phone->ua : NULL;
}

/* ---- register: wait for the first answer ---- */

struct reg_op {
	struct phone_op op;
	struct sipcx_reg *reg;
	unsigned flags;
};

/* Is the first answer in? *err gets the outcome when it is. */
static bool settled(const struct sipcx_reg_info *info, unsigned flags, int *err)
{
	switch (info->state) {
	case SIPCX_REG_REGISTERED:
		*err = 0;
		return true;
	case SIPCX_REG_UNREGISTERED:
		*err = (flags & SIPCX_REG_UNREGISTER_ALL) ? 0 : SIPCX_ECLOSED;
		return true;
	case SIPCX_REG_FAILED:
		*err = info->err ? info->err : SIPCX_ESTATUS;
		return true;
	default:
		/* REGISTERING; FAILING only with SIPCX_REG_RETRY_FIRST: wait for a 2xx. */
		return false;
	}
}

static void reg_check(struct sipcx_reg *reg, void *arg)
{
	struct reg_op *ro = arg;
	struct sipcx_reg_info now;
	int err;
	sipcx_reg_info(reg, &now);
	if (settled(&now, ro->flags, &err)) {
		sipcx__reg_watch(reg, NULL, NULL);
		sipcx__op_done(&ro->op, err);
	} else if (sipcx__reg_close_done(reg)) {
		/* The UA shut down under it. */
		sipcx__reg_watch(reg, NULL, NULL);
		sipcx__op_done(&ro->op, SIPCX_ECLOSED);
	}
}

static void reg_start(struct phone_op *op)
{
	struct reg_op *ro = (struct reg_op *)op;
	sipcx__reg_watch(ro->reg, reg_check, ro);
	reg_check(ro->reg, ro); /* the answer may be in already */
}

static void reg_cancel(struct phone_op *op, int err)
{
	struct reg_op *ro = (struct reg_op *)op;
	sipcx__reg_watch(ro->reg, NULL, NULL);
	sipcx__op_done(op, err);
}

static void op_free(struct phone_op *op)
{
	sipcx_free(op);
}

int sipcx_phone_register(struct sipcx_phone *phone, struct sipcx_ctx *ctx,
                         const struct sipcx_reg_opts *opts, struct sipcx_reg **out,
                         struct sipcx_reg_info *info)
{
	if (!phone || !opts || !out)
		return -EINVAL;
	int err = sipcx_ctx_err(ctx);
	if (err)
		return err;
	/* On the heap: after a cancel the loop may hold it a little longer than we do. */
	struct reg_op *ro = sipcx_calloc(1, sizeof(*ro));
	if (!ro)
		return -ENOMEM;
	ro->op.start = reg_start;
	ro->op.cancel = reg_cancel;
	ro->op.release = op_free;
	ro->flags = opts->flags;
	err = sipcx__op_init(&ro->op, phone->ua);
	if (err) {
		sipcx_free(ro);
		return err;
	}
	struct sipcx_reg *reg = NULL;
	err = sipcx_reg_new(&reg, phone->ua, opts);
	if (!err) {
		ro->reg = reg;
		err = sipcx__op_run(&ro->op, ctx);
		if (info)
			sipcx_reg_info(reg, info);
		if (err)
			sipcx_reg_free(reg); /* also drops a watcher a shut-down UA left */
		else
			*out = reg;
	}
	sipcx__op_put(&ro->op);
	return err;
}

/* ---- unregister: Expires: 0 and its answer ---- */

struct unreg_op {
	struct phone_op op;
	struct sipcx_reg *reg;
};

static void unreg_check(struct sipcx_reg *reg, void *arg)
{
	struct unreg_op *uo = arg;
	if (sipcx__reg_close_done(reg)) {
		struct sipcx_reg_info in;
		sipcx_reg_info(reg, &in);
		sipcx__reg_watch(reg, NULL, NULL);
		sipcx__op_done(&uo->op, in.err);
	}
}

static void unreg_start(struct phone_op *op)
{
	struct unreg_op *uo = (struct unreg_op *)op;
	sipcx__reg_watch(uo->reg, unreg_check, uo);
	sipcx__reg_close_begin(uo->reg);
	unreg_check(uo->reg, uo);
}

static void unreg_cancel(struct phone_op *op, int err)
{
	struct unreg_op *uo = (struct unreg_op *)op;
	sipcx__reg_watch(uo->reg, NULL, NULL);
	sipcx__op_done(op, err);
}

static void unreg_end(void *arg)
{
	sipcx__reg_close_end(arg);
}

int sipcx_phone_unregister(struct sipcx_phone *phone, struct sipcx_ctx *ctx, struct sipcx_reg *reg,
                           struct sipcx_reg_info *info)
{
	if (!reg)
		return 0;
	if (!phone || sipcx__reg_ua(reg) != phone->ua) {
		sipcx_reg_free(reg);
		return -EINVAL;
	}
	struct sipcx_ctx *bound = NULL;
	struct unreg_op *uo = sipcx_calloc(1, sizeof(*uo));
	int err = uo ? sipcx_ctx_new(&bound, ctx, sipcx__reg_unregister_timeout_ms(reg)) : -ENOMEM;
	if (!err) {
		uo->op.start = unreg_start;
		uo->op.cancel = unreg_cancel;
		uo->op.release = op_free;
		uo->reg = reg;
		err = sipcx__op_init(&uo->op, phone->ua);
	}
	if (err) {
		sipcx_ctx_free(bound);
		sipcx_free(uo);
		sipcx_reg_free(reg);
		return err;
	}
	err = sipcx__op_run(&uo->op, bound);
	if (info)
		sipcx_reg_info(reg, info);
	/* What is left (an answer that never came) finishes on the loop. */
	if (sipcx_ua_call(phone->ua, unreg_end, reg) != 0)
		sipcx_reg_free(reg); /* the UA is shutting down: let go as the async level does */
	sipcx__op_put(&uo->op);
	sipcx_ctx_free(bound);
	return err;
}

/* ---- any request: the final response ---- */

struct req_op {
	struct phone_op op;
	const struct sipcx_ua_req_opts *o; /* the caller's, until start returns */
	uint64_t t0;
	uint16_t status;
	char reason[128];
	uint64_t rtt_us;
	struct sipcx_msg *msg;
	bool want_msg;
};

static void req_release(struct phone_op *op)
{
	struct req_op *rq = (struct req_op *)op;
	sipcx_msg_unref(rq->msg);
	sipcx_free(rq);
}

static void req_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	struct req_op *rq = arg;
	if (!err && resp->status < 200)
		return; /* RFC 3261 8.1.3.2: a provisional response is not the answer */
	if (!err) {
		rq->status = resp->status;
		rq->rtt_us = sipcx_now_us() - rq->t0;
		snprintf(rq->reason, sizeof(rq->reason), "%.*s", SIPCX_STR_FMT(resp->reason));
		if (rq->want_msg && !rq->op.cancelled && sipcx_msg_dup(&rq->msg, resp) != 0)
			rq->msg = NULL;
	}
	sipcx__op_done(&rq->op, err);
}

static void req_start(struct phone_op *op)
{
	struct req_op *rq = (struct req_op *)op;
	rq->t0 = sipcx_now_us();
	int err = sipcx_ua_request(op->ua, rq->o, req_resp, rq);
	rq->o = NULL;
	if (err)
		sipcx__op_done(op, err);
}

int sipcx_phone_request(struct sipcx_phone *phone, struct sipcx_ctx *ctx,
                        const struct sipcx_ua_req_opts *o, struct sipcx_phone_response *out)
{
	if (!phone || !o)
		return -EINVAL;
	bool want_msg = out && out->want_msg;
	if (out) {
		memset(out, 0, sizeof(*out));
		out->want_msg = want_msg;
	}
	struct req_op *rq = sipcx_calloc(1, sizeof(*rq));
	if (!rq)
		return -ENOMEM;
	rq->op.start = req_start;
	rq->op.release = req_release;
	rq->o = o;
	rq->want_msg = want_msg;
	int err = sipcx__op_init(&rq->op, phone->ua);
	if (err) {
		sipcx_free(rq);
		return err;
	}
	err = sipcx__op_run(&rq->op, ctx);
	if (sipcx__op_is_done(&rq->op) && out) {
		out->status = rq->status;
		out->rtt_us = rq->rtt_us;
		memcpy(out->reason, rq->reason, sizeof(out->reason));
		out->msg = rq->msg;
		rq->msg = NULL;
	}
	sipcx__op_put(&rq->op);
	return err;
}
