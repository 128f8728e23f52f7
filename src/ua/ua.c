/* ua: the engine's loop thread, job queue from user threads, deadlines, and transactions' output (RFC 3261 17). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <sipcx/embed.h>

#include "ua/dns.h"
#include "ua/ua.h"

bool sipcx__ua_on_loop(const struct sipcx_ua *ua)
{
	uv_thread_t self = uv_thread_self();
	/* Set once by the loop thread; other threads only need to see "not me". */
	return __atomic_load_n(&ua->loop_tid_set, __ATOMIC_ACQUIRE) &&
	       uv_thread_equal(&self, &ua->loop_tid);
}

/* ---- deadlines: the wheel (wheel.h) on one libuv timer ---- */

static void timers_fired(uv_timer_t *h);

/* Set the libuv timer for ms (relative to the loop's clock: never early by it). */
static void timers_arm(struct sipcx_ua *ua, uint64_t ms)
{
	struct ua_timers *t = &ua->timers;
	if (ms == t->armed_ms)
		return;
	t->armed_ms = ms;
	if (ms == SIPCX__WHEEL_NEVER) {
		uv_timer_stop(&t->uv);
		return;
	}
	uint64_t loop_now = uv_now(&ua->loop);
	uv_timer_start(&t->uv, timers_fired, ms > loop_now ? ms - loop_now : 0, 0);
}

void sipcx__ua_timer_set(struct sipcx_ua *ua, struct sipcx__wheel_entry *e, uint64_t at_us)
{
	/* Rounded up: a timer never fires before its deadline. */
	uint64_t due = at_us >= UINT64_MAX - 999 ? SIPCX__WHEEL_NEVER : (at_us + 999) / 1000;
	if (!sipcx__wheel_set(&ua->timers.w, e, due, sipcx_now_us() / 1000))
		return;
	if (due < ua->timers.armed_ms)
		timers_arm(ua, due < ua->timers.w.now_ms ? ua->timers.w.now_ms : due);
}

static void timers_fired(uv_timer_t *h)
{
	struct sipcx_ua *ua = h->data;
	ua->timers.armed_ms = SIPCX__WHEEL_NEVER;
	sipcx__wheel_run(&ua->timers.w, sipcx_now_us() / 1000);
	timers_arm(ua, sipcx__wheel_next(&ua->timers.w));
}

/* A transaction's deadline: tick it. */
static void txn_due(struct sipcx__wheel_entry *e)
{
	struct ua_txn *ut = (struct ua_txn *)(void *)((char *)e - offsetof(struct ua_txn, tm));
	struct sipcx_txn_out o;
	sipcx_txn_tick(ut->t, sipcx_now_us(), &o);
	sipcx__ua_txn_apply(ut, &o);
}

/* Set up the timers on the loop (before the loop thread starts). */
static void timers_init(struct sipcx_ua *ua)
{
	struct ua_timers *t = &ua->timers;
	uv_timer_init(&ua->loop, &t->uv);
	t->uv.data = ua;
	sipcx__wheel_init(&t->w, sipcx_now_us() / 1000);
	t->armed_ms = SIPCX__WHEEL_NEVER;
}

/* ---- transactions: output, lifetime ---- */

static void ut_free(struct ua_txn *ut)
{
	struct sipcx_ua *ua = ut->ua;
	if (ut->pprev) {
		*ut->pprev = ut->next;
		if (ut->next)
			ut->next->pprev = ut->pprev;
		ut->pprev = NULL;
	}
	sipcx__wheel_remove(&ua->timers.w, &ut->tm);
	if (!ut->client)
		sipcx__ua_server_txn_gone(ut);
	if (ut->hooks && ut->hooks->gone)
		ut->hooks->gone(ut, ut->hook_arg);
	UA_STAT_SUB(ua, txn_live, 1);
	sipcx_txn_free(ut->t); /* ut lives in its block: last */
}

struct ua_txn *sipcx__ua_txn_init(struct sipcx_ua *ua, struct sipcx_txn *t)
{
	struct ua_txn *ut = sipcx_txn_user_area(t);
	ut->ua = ua;
	ut->t = t;
	ut->tm.fire = txn_due;
	sipcx_txn_set_user(t, ut);
	ut->next = ua->txns;
	if (ut->next)
		ut->next->pprev = &ut->next;
	ut->pprev = &ua->txns;
	ua->txns = ut;
	UA_STAT_ADD(ua, txn_live, 1);
	return ut;
}

/* Client: the callback's last call. */
static void ut_finish(struct ua_txn *ut, int err, const struct sipcx_msg *resp)
{
	if (ut->finished || !ut->cb)
		return;
	ut->finished = true;
	ut->cb(err, resp, ut->arg);
}

void sipcx__ua_txn_apply(struct ua_txn *ut, struct sipcx_txn_out *o)
{
	struct sipcx_ua *ua = ut->ua;
	int send_err = 0;
	struct sipcx_tp_addr dst;

	if (o->nsend)
		ua_addr_get(&ut->dst, &dst);
	for (size_t i = 0; i < o->nsend; i++) {
		const struct sipcx_txn_send *s = &o->send[i];
		int r = sipcx_transport_send(ua->tp, &dst, ut->conn, s->p, s->len);
		if (s->kind == SIPCX_TXN_SEND_RESPONSE)
			UA_STAT_ADD(ua, tx_responses, 1);
		else
			UA_STAT_ADD(ua, tx_requests, 1);
		if (s->retransmission)
			UA_STAT_ADD(ua, retransmissions, 1);
		if (r < 0 && !send_err)
			send_err = r;
	}
	for (size_t i = 0; i < o->nev; i++) {
		const struct sipcx_txn_event *ev = &o->ev[i];
		switch (ev->type) {
		case SIPCX_TXN_EV_RESPONSE:
			if (ut->client && !ut->finished) {
				if (ev->msg->status >= 200)
					ut_finish(ut, 0, ev->msg);
				else if (ut->cb)
					ut->cb(0, ev->msg, ut->arg);
			} else if (ut->client && ut->all_2xx && ut->cb) {
				/* RFC 6026: every later 2xx to an INVITE (each may be a new dialog). */
				ut->cb(0, ev->msg, ut->arg);
			}
			break;
		case SIPCX_TXN_EV_TIMEOUT:
		case SIPCX_TXN_EV_TRANSPORT_ERROR:
			if (ut->client)
				ut_finish(ut, ev->err ? ev->err : -ETIMEDOUT, NULL);
			else if (ut->hooks && ut->hooks->event)
				ut->hooks->event(ut, ev, ut->hook_arg);
			break;
		case SIPCX_TXN_EV_ACK:
			if (ut->hooks && ut->hooks->event)
				ut->hooks->event(ut, ev, ut->hook_arg);
			break;
		case SIPCX_TXN_EV_TERMINATED:
			ut->dead = true;
			break;
		default:
			/* REQUEST is dispatched by the server code. */
			break;
		}
	}
	if (send_err && !ut->dead) {
		/* RFC 3261 17.1.4 / 17.2.4: a transport failure ends the transaction. */
		struct sipcx_txn_out o2;
		sipcx_txn_transport_error(ut->t, send_err, sipcx_now_us(), &o2);
		sipcx__ua_txn_apply(ut, &o2);
		return;
	}
	if (ut->dead) {
		ut_free(ut);
		return;
	}
	sipcx__ua_timer_set(ua, &ut->tm, o->deadline);
}

static void close_all_txns(struct sipcx_ua *ua)
{
	sipcx__ua_client_close_all(ua);
	while (ua->txns) {
		struct ua_txn *ut = ua->txns;
		ut->dead = true;
		ut_free(ut);
	}
}

/* ---- the job queue ---- */

static void job_run(struct sipcx_ua *ua, struct ua_job *job)
{
	switch (job->type) {
	case UA_JOB_REQUEST:
		sipcx__ua_client_start(ua, job);
		return; /* freed by the client code */
	case UA_JOB_RESPOND:
		job->result = sipcx__ua_do_respond(job->srv, job->status, job->reason, job->hdrs,
		                                   job->nhdrs, job->content_type, job->body);
		break;
	case UA_JOB_HANDLE:
		job->result = sipcx__ua_do_handle(ua, job->method, job->flags, job->hcb, job->arg);
		break;
	case UA_JOB_CALL:
		job->fn(job->arg);
		job->result = 0;
		break;
	case UA_JOB_POST:
		job->fn(job->arg);
		sipcx_free(job);
		return;
	}
}

static void job_done(struct sipcx_ua *ua, struct ua_job *job, int result, bool ran)
{
	if (!ran)
		job->result = result;
	if (job->sync) {
		uv_mutex_lock(&ua->lock);
		job->done = true;
		uv_cond_broadcast(&ua->cond);
		uv_mutex_unlock(&ua->lock);
	}
}

static void drain(struct sipcx_ua *ua, bool stopping)
{
	for (;;) {
		uv_mutex_lock(&ua->lock);
		struct ua_job *job = ua->q_head;
		if (job) {
			ua->q_head = job->next;
			if (!ua->q_head)
				ua->q_tail = NULL;
		}
		uv_mutex_unlock(&ua->lock);
		if (!job)
			return;
		if (stopping) {
			if (job->type == UA_JOB_REQUEST) {
				/* Accepted by sipcx_ua_request(): its callback is owed. */
				job->cb(SIPCX_ECLOSED, NULL, job->arg);
				sipcx_free(job->bytes);
				sipcx_free(job);
				continue;
			}
			if (job->type == UA_JOB_POST) {
				job_run(
				    ua,
				    job); /* accepted: it runs, as its UA closes (and frees it) */
				continue;
			}
			job_done(ua, job, SIPCX_ECLOSED, false);
			continue;
		}
		bool sync = job->sync;
		job_run(ua, job); /* POST and REQUEST jobs are freed there */
		if (sync)
			job_done(ua, job, 0, true);
	}
}

static void on_wake(uv_async_t *a)
{
	struct sipcx_ua *ua = a->data;
	uv_mutex_lock(&ua->lock);
	bool stopping = ua->stopping;
	uv_mutex_unlock(&ua->lock);
	drain(ua, false);
	if (!stopping)
		return;
	/* Shut down: every handle closes, then uv_run() returns in the thread. */
	drain(ua, true);
	ua->closed = true;
	while (ua->closers) {
		struct ua_closer *c = ua->closers;
		sipcx__ua_closer_del(c);
		c->close(c->arg);
	}
	ua->proxy = (struct ua_proxy){ 0 };
	close_all_txns(ua);
	sipcx__ua_server_close_all(ua);
	sipcx_transport_free(ua->tp);
	ua->tp = NULL;
	uv_close((uv_handle_t *)&ua->timers.uv, NULL);
	uv_close((uv_handle_t *)&ua->wake, NULL);
}

int sipcx__ua_submit(struct sipcx_ua *ua, struct ua_job *job)
{
	job->next = NULL;
	uv_mutex_lock(&ua->lock);
	if (ua->stopping) {
		uv_mutex_unlock(&ua->lock);
		return SIPCX_ECLOSED;
	}
	if (ua->q_tail)
		ua->q_tail->next = job;
	else
		ua->q_head = job;
	ua->q_tail = job;
	uv_async_send(&ua->wake);
	if (job->sync) {
		while (!job->done)
			uv_cond_wait(&ua->cond, &ua->lock);
	}
	uv_mutex_unlock(&ua->lock);
	return 0;
}

int sipcx_ua_call(struct sipcx_ua *ua, sipcx_ua_fn *fn, void *arg)
{
	if (!ua || !fn)
		return -EINVAL;
	if (sipcx__ua_on_loop(ua)) {
		fn(arg);
		return 0;
	}
	struct ua_job job = { .type = UA_JOB_CALL, .sync = true, .fn = fn, .arg = arg };
	int r = sipcx__ua_submit(ua, &job);
	return r ? r : job.result;
}

int sipcx__ua_post(struct sipcx_ua *ua, sipcx_ua_fn *fn, void *arg)
{
	struct ua_job *job = sipcx_calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	job->type = UA_JOB_POST;
	job->fn = fn;
	job->arg = arg;
	int r = sipcx__ua_submit(ua, job);
	if (r)
		sipcx_free(job);
	return r;
}

void sipcx__ua_closer_add(struct sipcx_ua *ua, struct ua_closer *c)
{
	c->next = ua->closers;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &ua->closers;
	ua->closers = c;
}

void sipcx__ua_closer_del(struct ua_closer *c)
{
	if (!c->pprev)
		return;
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	c->pprev = NULL;
	c->next = NULL;
}

static void loop_main(void *arg)
{
	struct sipcx_ua *ua = arg;
	ua->loop_tid = uv_thread_self();
	__atomic_store_n(&ua->loop_tid_set, true, __ATOMIC_RELEASE);
	uv_run(&ua->loop, UV_RUN_DEFAULT);
}

/* ---- life cycle ---- */

static int listen_all(struct sipcx_ua *ua, const char *spec)
{
	char tok[128];
	const char *p = spec;
	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t n = strcspn(p, " ,\t");
		if (n >= sizeof(tok))
			return -EINVAL;
		memcpy(tok, p, n);
		tok[n] = '\0';
		p += n;
		struct sipcx_tp_addr a, b;
		int r = sipcx_tp_addr_parse(&a, tok);
		if (r)
			return r;
		r = sipcx_transport_listen(ua->tp, &a, &b);
		if (r)
			return r;
		struct sipcx_tp_addr *nb = sipcx_realloc(ua->bound, (ua->nbound + 1) * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		ua->bound = nb;
		nb[ua->nbound++] = b;
	}
	/* Only "" asks for no listener; a list of separators is a mistake. */
	return ua->nbound || !*spec ? 0 : -EINVAL;
}

static void ua_destroy(struct sipcx_ua *ua)
{
	for (struct ua_handler *h = ua->handlers, *next; h; h = next) {
		next = h->next;
		sipcx_free(h->method);
		sipcx_free(h);
	}
	sipcx_txn_table_free(ua->table);
	sipcx_buf_free(&ua->scratch);
	sipcx_buf_free(&ua->via_scratch);
	sipcx_free(ua->bound);
	sipcx_free(ua->user_agent);
	sipcx_free(ua->user);
	uv_mutex_destroy(&ua->lock);
	uv_cond_destroy(&ua->cond);
	sipcx_free(ua);
}

int sipcx_ua_new(struct sipcx_ua **out, const struct sipcx_ua_opts *opts)
{
	static const struct sipcx_ua_opts defaults = { 0 };
	if (!out)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	struct sipcx_ua *ua = sipcx_calloc(1, sizeof(*ua));
	if (!ua)
		return -ENOMEM;
	if (uv_mutex_init(&ua->lock)) {
		sipcx_free(ua);
		return -ENOMEM;
	}
	if (uv_cond_init(&ua->cond)) {
		uv_mutex_destroy(&ua->lock);
		sipcx_free(ua);
		return -ENOMEM;
	}
	int r = uv_loop_init(&ua->loop);
	if (r) {
		uv_mutex_destroy(&ua->lock);
		uv_cond_destroy(&ua->cond);
		sipcx_free(ua);
		return r;
	}
	char ua_name[64];
	snprintf(ua_name, sizeof(ua_name), "sipcx/%s", sipcx_version());
	ua->user_agent = sipcx_strdup(opts->user_agent ? opts->user_agent : ua_name);
	ua->user = sipcx_strdup(opts->user ? opts->user : "sipcx");
	ua->topts.t1_us = (uint64_t)opts->t1_ms * 1000u;
	ua->topts.t2_us = (uint64_t)opts->t2_ms * 1000u;
	ua->topts.t4_us = (uint64_t)opts->t4_ms * 1000u;
	struct sipcx_transport_opts to = {
		.recv = sipcx__ua_recv,
		.error = sipcx__ua_tp_error,
		.arg = ua,
		.tcp_idle_ms = opts->tcp_idle_ms,
		.udp_rcvbuf = opts->udp_rcvbuf,
		.tcp_max_per_source = opts->tcp_max_per_source,
		.tcp_msg_timeout_ms = opts->tcp_msg_timeout_ms,
		.reuse_port = opts->reuse_port,
		.tls_ca = opts->tls_ca,
		.tls_cert = opts->tls_cert,
		.tls_key = opts->tls_key,
		.tls_insecure = opts->tls_insecure,
	};
	ua->max_txns = opts->max_txns;
	r = (!ua->user_agent || !ua->user) ? -ENOMEM : 0;
	if (!r)
		r = sipcx_txn_table_new(&ua->table);
	if (!r)
		r = sipcx_transport_new(&ua->tp, &ua->loop, &to);
	if (!r)
		r = listen_all(ua, opts->listen ? opts->listen : "udp:0.0.0.0:0");
	if (!r)
		r = sipcx__dns_new(ua, opts->dns_servers);
	if (!r)
		r = uv_async_init(&ua->loop, &ua->wake, on_wake);
	if (!r) {
		ua->wake.data = ua;
		timers_init(ua);
		sipcx__ua_allow_update(ua);
		r = uv_thread_create(&ua->thread, loop_main, ua);
		if (r) {
			uv_close((uv_handle_t *)&ua->timers.uv, NULL);
			uv_close((uv_handle_t *)&ua->wake, NULL);
		}
	}
	if (r) {
		sipcx__dns_close(ua);
		sipcx_transport_free(ua->tp);
		uv_run(&ua->loop, UV_RUN_DEFAULT);
		uv_loop_close(&ua->loop);
		ua_destroy(ua);
		return r;
	}
	*out = ua;
	return 0;
}

void sipcx_ua_free(struct sipcx_ua *ua)
{
	if (!ua)
		return;
	uv_mutex_lock(&ua->lock);
	ua->stopping = true;
	uv_async_send(&ua->wake);
	uv_mutex_unlock(&ua->lock);
	uv_thread_join(&ua->thread);
	uv_loop_close(&ua->loop);
	ua_destroy(ua);
}

int sipcx_ua_bound(const struct sipcx_ua *ua, size_t i, struct sipcx_tp_addr *out)
{
	if (!ua || !out)
		return -EINVAL;
	if (i >= ua->nbound)
		return -ENOENT;
	*out = ua->bound[i];
	return 0;
}

void sipcx_ua_stats(const struct sipcx_ua *ua, struct sipcx_ua_stats *out)
{
	if (!ua || !out)
		return;
	/* Any thread: each counter is read whole; together they are a near, not exact, snapshot. */
	const struct sipcx_ua_stats *s = &ua->stats;
#define UA_STAT_GET(f) out->f = __atomic_load_n(&s->f, __ATOMIC_RELAXED)
	UA_STAT_GET(rx_requests);
	UA_STAT_GET(rx_responses);
	UA_STAT_GET(rx_dropped);
	UA_STAT_GET(tx_requests);
	UA_STAT_GET(tx_responses);
	UA_STAT_GET(stateless_responses);
	UA_STAT_GET(txn_live);
	UA_STAT_GET(txn_refused);
	UA_STAT_GET(retransmissions);
	UA_STAT_GET(calls_busy);
#undef UA_STAT_GET
	_Static_assert(sizeof(*s) == 10 * sizeof(uint64_t),
	               "a new counter needs its UA_STAT_GET line");
}

int sipcx__ua_local(struct sipcx_ua *ua, const struct sipcx_tp_addr *dst, char *hostport, size_t n,
                    char *host, size_t hn)
{
	union sipcx_sa local;
	/* Reads only listen state, fixed before the loop started: any thread. */
	int r = sipcx_transport_local(ua->tp, dst, &local);
	if (r)
		return r;
	char h[SIPCX_ADDRSTRLEN];
	r = sipcx_sa_host(&local.sa, h, sizeof(h));
	if (r < 0)
		return r;
	if (host) {
		r = snprintf(host, hn, local.sa.sa_family == AF_INET6 ? "[%s]" : "%s", h);
		if (r < 0 || (size_t)r >= hn)
			return -ENOSPC;
	}
	r = sipcx_sa_print(&local.sa, hostport, n);
	return r < 0 ? r : 0;
}
