/* phone: the blocking calls: dial until answered, answer until a call is up (registering first), wait for the end, hang up, transfer until the final NOTIFY (RFC 3261 13, 15; RFC 3515). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sipcx/call.h>
#include <sipcx/phone.h>

#include "phone/phone.h"
#include "ua/call.h"

static void op_free(struct phone_op *op)
{
	sipcx_free(op);
}

/* ---- dial: until the call is up or over ---- */

struct dial_op {
	struct phone_op op;
	struct sipcx_call *call;
};

/* Between the call's events and the user's callback, for as long as the call lives. */
struct dial_watch {
	struct dial_op *op; /* the waiting dial, until it is done */
	sipcx_call_cb *cb;
	void *arg;
};

static void dial_watch_cb(struct sipcx_call *call, const struct sipcx_call_event *ev, void *arg)
{
	struct dial_watch *w = arg;
	if (w->cb)
		w->cb(call, ev, w->arg);
	if (w->op && (ev->type == SIPCX_CALL_EV_ESTABLISHED || ev->type == SIPCX_CALL_EV_ENDED)) {
		struct sipcx_call_info in;
		sipcx_call_info(call, &in);
		int r =
		    ev->type == SIPCX_CALL_EV_ESTABLISHED ? 0 : (in.err ? in.err : SIPCX_ESTATUS);
		struct dial_op *op = w->op;
		w->op = NULL;
		sipcx__op_done(&op->op, r);
	}
	if (ev->type == SIPCX_CALL_EV_ENDED)
		sipcx_free(w); /* the last event */
}

static void dial_cancel(struct phone_op *op, int err)
{
	struct dial_op *d = (struct dial_op *)op;
	/* The context ended before the answer: CANCEL (or BYE), and return at once. */
	struct dial_watch *w = d->call->cfg->arg;
	if (w->op == d)
		w->op = NULL;
	sipcx_call_end(d->call, NULL);
	sipcx__op_done(op, err);
}

int sipcx_phone_dial(struct sipcx_phone *phone, struct sipcx_ctx *ctx, const char *uri,
                     const struct sipcx_dial_opts *opts, struct sipcx_call **out)
{
	static const struct sipcx_dial_opts defaults = { 0 };
	if (!phone || !uri || !out)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	struct sipcx_ua *ua = sipcx_phone_ua(phone);
	if (sipcx__ua_on_loop(ua))
		return -EDEADLK;
	int err = sipcx_ctx_err(ctx);
	if (err)
		return err;
	struct dial_op *d = sipcx_calloc(1, sizeof(*d));
	struct dial_watch *w = sipcx_calloc(1, sizeof(*w));
	if (!d || !w || (err = sipcx__op_init(&d->op, ua)) != 0) {
		sipcx_free(d);
		sipcx_free(w);
		return err ? err : -ENOMEM;
	}
	d->op.cancel = dial_cancel;
	d->op.release = op_free;
	w->op = d;
	w->cb = opts->cb;
	w->arg = opts->arg;
	struct sipcx_dial_opts o = *opts;
	o.cb = dial_watch_cb;
	o.arg = w;
	sipcx__op_arm(&d->op);
	err = sipcx_call_dial(ua, uri, &o, &d->call);
	if (err) {
		sipcx_free(w);               /* no event will come */
		sipcx__op_done(&d->op, err); /* the loop's reference, never used */
		sipcx__op_put(&d->op);
		return err;
	}
	struct sipcx_call *call = d->call;
	err = sipcx__op_wait(&d->op, ctx);
	sipcx__op_put(&d->op);
	if (opts->info)
		sipcx_call_info(call, opts->info);
	if (err) {
		sipcx_call_free(call); /* ends it if the context did (CANCEL went out already) */
		return err;
	}
	*out = call;
	return 0;
}

/* ---- waiting for the end, hanging up ---- */

struct end_op {
	struct phone_op op;
	struct sipcx_call *call;
	struct call_waiter w;
};

static void end_reached(struct call_waiter *w)
{
	struct end_op *e = (struct end_op *)(void *)((char *)w - offsetof(struct end_op, w));
	sipcx__op_done(&e->op, 0);
}

static void end_start(struct phone_op *op)
{
	struct end_op *e = (struct end_op *)op;
	if (sipcx__call_is_over(e->call))
		sipcx__op_done(op, 0);
	else
		sipcx__call_waiter_add(e->call, &e->w);
}

static void end_cancel(struct phone_op *op, int err)
{
	struct end_op *e = (struct end_op *)op;
	sipcx__call_waiter_del(&e->w);
	sipcx__op_done(op, err);
}

static void end_release(struct phone_op *op)
{
	struct end_op *e = (struct end_op *)op;
	sipcx_call_unref(e->call);
	sipcx_free(e);
}

int sipcx_call_wait(struct sipcx_call *call, struct sipcx_ctx *ctx)
{
	if (!call)
		return -EINVAL;
	struct end_op *e = sipcx_calloc(1, sizeof(*e));
	int err = e ? sipcx__op_init(&e->op, sipcx_call_ua(call)) : -ENOMEM;
	if (err) {
		sipcx_free(e);
		return err;
	}
	e->op.start = end_start;
	e->op.cancel = end_cancel;
	e->op.release = end_release;
	e->w.fn = end_reached;
	e->call = sipcx_call_ref(call);
	err = sipcx__op_run(&e->op, ctx);
	sipcx__op_put(&e->op);
	return err;
}

int sipcx_call_hangup(struct sipcx_call *call, const char *reason)
{
	if (!call)
		return -EINVAL;
	int err = sipcx_call_end(call, reason);
	if (err && err != -EALREADY)
		return err;
	if (sipcx__ua_on_loop(sipcx_call_ua(call)))
		return 0; /* a callback may not wait: the end comes as an event */
	/* Bounded by the BYE's (or CANCEL's) transaction: 64*T1 at most. */
	err = sipcx_call_wait(call, NULL);
	return err == SIPCX_ECLOSED ? 0 : err;
}

struct end_all {
	struct sipcx_ua *ua;
	const char *reason;
	bool end;
	size_t live;
};

static void end_all_on_loop(void *arg)
{
	struct end_all *a = arg;
	a->live = sipcx__calls_end_all(a->ua, a->reason, a->end);
}

int sipcx_call_hangup_all(struct sipcx_ua *ua, struct sipcx_ctx *ctx, const char *reason)
{
	if (!ua)
		return -EINVAL;
	if (sipcx__ua_on_loop(ua))
		return -EDEADLK;
	struct end_all a = { ua, reason, true, 0 };
	if (sipcx_ua_call(ua, end_all_on_loop, &a) != 0)
		return 0; /* closed: no calls left */
	a.end = false;
	/* The ends run on the loop; their BYE transactions say when: looked at every 20 ms. */
	while (a.live) {
		struct sipcx_ctx *tick = sipcx_ctx_timeout(ctx, 20);
		if (!tick)
			return -ENOMEM;
		sipcx_ctx_wait(tick);
		sipcx_ctx_free(tick);
		int r = sipcx_ctx_err(ctx);
		if (r)
			return r;
		if (sipcx_ua_call(ua, end_all_on_loop, &a) != 0)
			return 0;
	}
	return 0;
}

/* ---- transfer: until our REFER's final NOTIFY ---- */

struct xfer_op {
	struct phone_op op;
	struct sipcx_call *call, *with;
	char target[256];
	struct call_waiter w_refer, w_end;
};

static int xfer_result(struct sipcx_call *c)
{
	struct sipcx_call_info in;
	sipcx_call_info(c, &in);
	return !in.transfer_result ? -ENOTCONN : in.transfer_result / 100 == 2 ? 0 : SIPCX_ESTATUS;
}

static void xfer_refer_done(struct call_waiter *w)
{
	struct xfer_op *x =
	    (struct xfer_op *)(void *)((char *)w - offsetof(struct xfer_op, w_refer));
	sipcx__call_waiter_del(&x->w_end);
	sipcx__op_done(&x->op, xfer_result(x->call));
}

static void xfer_call_ended(struct call_waiter *w)
{
	struct xfer_op *x = (struct xfer_op *)(void *)((char *)w - offsetof(struct xfer_op, w_end));
	if (x->call->refer_waiter == &x->w_refer)
		x->call->refer_waiter = NULL;
	sipcx__op_done(&x->op, xfer_result(x->call));
}

static void xfer_start(struct phone_op *op)
{
	struct xfer_op *x = (struct xfer_op *)op;
	int r = sipcx__call_refer_start(x->call, x->with ? NULL : x->target, x->with, 0);
	if (r) {
		sipcx__op_done(op, r);
		return;
	}
	x->w_refer.fn = xfer_refer_done;
	x->w_end.fn = xfer_call_ended;
	x->call->refer_waiter = &x->w_refer;
	sipcx__call_waiter_add(x->call, &x->w_end);
}

static void xfer_cancel(struct phone_op *op, int err)
{
	struct xfer_op *x = (struct xfer_op *)op;
	if (x->call->refer_waiter == &x->w_refer)
		x->call->refer_waiter = NULL;
	sipcx__call_waiter_del(&x->w_end);
	sipcx__op_done(op, err);
}

static void xfer_release(struct phone_op *op)
{
	struct xfer_op *x = (struct xfer_op *)op;
	sipcx_call_unref(x->call);
	sipcx_call_unref(x->with);
	sipcx_free(x);
}

int sipcx_phone_transfer(struct sipcx_call *call, struct sipcx_ctx *ctx, const char *target,
                         struct sipcx_call *consultation)
{
	if (!call || (!consultation && !sipcx__call_refer_target_ok(target)) ||
	    (consultation && (target || consultation == call ||
	                      sipcx_call_ua(consultation) != sipcx_call_ua(call))))
		return -EINVAL;
	struct xfer_op *x = sipcx_calloc(1, sizeof(*x));
	int err = x ? sipcx__op_init(&x->op, sipcx_call_ua(call)) : -ENOMEM;
	if (err) {
		sipcx_free(x);
		return err;
	}
	x->op.start = xfer_start;
	x->op.cancel = xfer_cancel;
	x->op.release = xfer_release;
	x->call = sipcx_call_ref(call);
	x->with = sipcx_call_ref(consultation);
	if (target)
		snprintf(x->target, sizeof(x->target), "%s", target);
	err = sipcx__op_run(&x->op, ctx);
	sipcx__op_put(&x->op);
	return err;
}

/* ---- answer: a listener that hands established calls to waiting threads ---- */

#define ANSWER_QUEUE 64

struct answer_op {
	struct phone_op op;
	struct phone_answer *svc;
	struct answer_op *next, **pprev; /* the service's waiters */
	struct sipcx_call *call;         /* the result */
};

/*
 * The phone's answering service (loop thread but where said). Shared by the
 * phone and every listener config that names it (their calls may outlive
 * the phone): freed with the last reference.
 */
struct phone_answer {
	struct sipcx_ua *ua;
	int refs;          /* atomic */
	bool closed;       /* loop thread: no more events reach the user, no call is kept */
	sipcx_call_cb *cb; /* the user's */
	void *arg;
	struct sipcx_call *ready[ANSWER_QUEUE]; /* up, not taken yet (a reference each) */
	unsigned nready;
	struct answer_op *waiters;
	struct sipcx_reg *reg; /* user thread */
	bool on;               /* user thread */
};

static void waiter_unlink(struct answer_op *a)
{
	if (!a->pprev)
		return;
	*a->pprev = a->next;
	if (a->next)
		a->next->pprev = a->pprev;
	a->pprev = NULL;
}

static void svc_put(void *arg)
{
	struct phone_answer *svc = arg;
	if (__atomic_sub_fetch(&svc->refs, 1, __ATOMIC_ACQ_REL) == 0)
		sipcx_free(svc);
}

static void answer_cb(struct sipcx_call *call, const struct sipcx_call_event *ev, void *arg)
{
	struct phone_answer *svc = arg;
	if (svc->closed)
		return; /* a call of a closed phone: it lives on by itself */
	if (svc->cb)
		svc->cb(call, ev, svc->arg);
	if (ev->type == SIPCX_CALL_EV_ESTABLISHED) {
		/* The oldest waiter takes it, else it waits for one (bounded: the oldest goes). */
		struct answer_op *a = svc->waiters;
		if (a) {
			while (a->next)
				a = a->next;
			waiter_unlink(a);
			a->call = sipcx_call_ref(call);
			sipcx__op_done(&a->op, 0);
		} else if (svc->nready < ANSWER_QUEUE) {
			svc->ready[svc->nready++] = sipcx_call_ref(call);
		}
	} else if (ev->type == SIPCX_CALL_EV_ENDED) {
		for (unsigned i = 0; i < svc->nready; i++) {
			if (svc->ready[i] != call)
				continue;
			sipcx_call_unref(call);
			memmove(&svc->ready[i], &svc->ready[i + 1],
			        (svc->nready - i - 1) * sizeof(svc->ready[0]));
			svc->nready--;
			break;
		}
	}
}

static void answer_start(struct phone_op *op)
{
	struct answer_op *a = (struct answer_op *)op;
	struct phone_answer *svc = a->svc;
	if (svc->nready) {
		a->call = svc->ready[0]; /* its reference moves to the caller */
		memmove(&svc->ready[0], &svc->ready[1], (svc->nready - 1) * sizeof(svc->ready[0]));
		svc->nready--;
		sipcx__op_done(op, 0);
		return;
	}
	a->next = svc->waiters;
	if (a->next)
		a->next->pprev = &a->next;
	a->pprev = &svc->waiters;
	svc->waiters = a;
}

static void answer_cancel(struct phone_op *op, int err)
{
	struct answer_op *a = (struct answer_op *)op;
	waiter_unlink(a);
	sipcx__op_done(op, err);
}

static void answer_release(struct phone_op *op)
{
	struct answer_op *a = (struct answer_op *)op;
	sipcx_call_unref(a->call); /* a call never taken */
	sipcx_free(a);
}

struct phone_answer *sipcx__phone_answer_new(struct sipcx_ua *ua)
{
	struct phone_answer *svc = sipcx_calloc(1, sizeof(*svc));
	if (svc) {
		svc->ua = ua;
		svc->refs = 1; /* the phone's */
	}
	return svc;
}

static void drop_ready(void *arg)
{
	struct phone_answer *svc = arg;
	svc->closed = true;
	svc->cb = NULL;
	for (unsigned i = 0; i < svc->nready; i++) {
		sipcx_call_end(svc->ready[i], NULL);
		sipcx_call_unref(svc->ready[i]);
	}
	svc->nready = 0;
	/* Waiters are woken as the calls they would have had are gone. */
	while (svc->waiters) {
		struct answer_op *a = svc->waiters;
		waiter_unlink(a);
		sipcx__op_done(&a->op, SIPCX_ECLOSED);
	}
}

int sipcx__phone_answer_close(struct phone_answer *svc, struct sipcx_phone *phone,
                              struct sipcx_ctx *ctx)
{
	if (!svc || !svc->on)
		return 0;
	svc->on = false;
	sipcx_call_listen(svc->ua, NULL);
	sipcx_ua_call(svc->ua, drop_ready, svc);
	int err = 0;
	if (svc->reg) {
		err = sipcx_phone_unregister(phone, ctx, svc->reg, NULL);
		svc->reg = NULL;
	}
	return err;
}

void sipcx__phone_answer_free(struct phone_answer *svc)
{
	if (svc)
		svc_put(svc);
}

static void reopen(void *arg)
{
	((struct phone_answer *)arg)->closed = false;
}

int sipcx__phone_answer_setup(struct phone_answer *svc, struct sipcx_phone *phone,
                              struct sipcx_ctx *ctx, const struct sipcx_answer_opts *opts)
{
	static const struct sipcx_answer_opts defaults = { 0 };
	if (svc->on)
		return 0;
	if (sipcx__ua_on_loop(svc->ua))
		return -EDEADLK;
	if (!opts)
		opts = &defaults;
	int err;
	/* Register first (the seed's flow): bound by ctx like the wait for a call. */
	if (opts->registrar) {
		struct sipcx_reg_opts ro = {
			.registrar = opts->registrar,
			.aor = opts->aor,
			.username = opts->username,
			.password = opts->username ? (opts->password ? opts->password : "") : NULL,
			.expires_s = opts->expiry_s,
			.cb = opts->reg_cb,
			.arg = opts->reg_arg,
		};
		err = sipcx_phone_register(phone, ctx, &ro, &svc->reg, NULL);
		if (err)
			return err;
	}
	struct sipcx_answer_opts o = *opts;
	sipcx_ua_call(svc->ua, reopen, svc);
	svc->cb = opts->cb;
	svc->arg = opts->arg;
	o.cb = answer_cb;
	o.arg = svc;
	__atomic_add_fetch(&svc->refs, 1, __ATOMIC_ACQ_REL); /* the listener config's */
	err = sipcx__call_listen(svc->ua, &o, svc_put);
	if (err)
		svc_put(svc);
	if (err) {
		if (svc->reg)
			sipcx_phone_unregister(phone, NULL, svc->reg, NULL);
		svc->reg = NULL;
		return err;
	}
	svc->on = true;
	return 0;
}

int sipcx__phone_answer_wait(struct phone_answer *svc, struct sipcx_ctx *ctx,
                             struct sipcx_call **out)
{
	struct answer_op *a = sipcx_calloc(1, sizeof(*a));
	int err = a ? sipcx__op_init(&a->op, svc->ua) : -ENOMEM;
	if (err) {
		sipcx_free(a);
		return err;
	}
	a->svc = svc;
	a->op.start = answer_start;
	a->op.cancel = answer_cancel;
	a->op.release = answer_release;
	err = sipcx__op_run(&a->op, ctx);
	if (!err) {
		*out = a->call;
		a->call = NULL;
	}
	sipcx__op_put(&a->op);
	return err;
}

struct sipcx_reg *sipcx__phone_answer_reg(const struct phone_answer *svc)
{
	return svc ? svc->reg : NULL;
}
