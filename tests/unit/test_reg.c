/* Unit tests of registration in-process: client <-> embedded registrar on loopback, scripted registrars, the proxy, contexts, the phone. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "testutil.h"
#include <sipcx/phone.h>
#include <sipcx/reg.h>
#include <sipcx/ua.h>

#include "base/base.h"

#define WAIT_MS 10000
#define MAX_EV 64

/* ---- recording callbacks (loop thread) and bounded waits (test thread) ---- */

struct rec {
	uv_mutex_t lock;
	uv_cond_t cond;
	int n;
	struct sipcx_reg_info ev[MAX_EV];
	uint64_t at[MAX_EV]; /* sipcx_now_us() when the callback ran */
	/* registrar events */
	int rn;
	enum sipcx_registrar_event_type rtype[MAX_EV];
	uint32_t rcseq[MAX_EV];
	uint32_t rexp[MAX_EV];
	char rcallid[MAX_EV][64];
	char rcontact[MAX_EV][128];
	char rmethod[MAX_EV][16];
};

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	uv_mutex_init(&r->lock);
	uv_cond_init(&r->cond);
}

static void rec_fini(struct rec *r)
{
	uv_mutex_destroy(&r->lock);
	uv_cond_destroy(&r->cond);
}

static void on_reg(const struct sipcx_reg_info *info, void *arg)
{
	struct rec *r = arg;
	uv_mutex_lock(&r->lock);
	if (r->n < MAX_EV) {
		r->ev[r->n] = *info;
		r->at[r->n] = sipcx_now_us();
		r->n++;
	}
	uv_cond_broadcast(&r->cond);
	uv_mutex_unlock(&r->lock);
}

static void on_registrar(const struct sipcx_registrar_event *ev, void *arg)
{
	struct rec *r = arg;
	uv_mutex_lock(&r->lock);
	if (r->rn < MAX_EV) {
		int i = r->rn++;
		r->rtype[i] = ev->type;
		r->rcseq[i] = ev->cseq;
		r->rexp[i] = ev->expires_s;
		snprintf(r->rcallid[i], sizeof(r->rcallid[i]), "%s", ev->call_id);
		snprintf(r->rcontact[i], sizeof(r->rcontact[i]), "%s", ev->contact);
		snprintf(r->rmethod[i], sizeof(r->rmethod[i]), "%s", ev->method);
	}
	uv_cond_broadcast(&r->cond);
	uv_mutex_unlock(&r->lock);
}

static int count_state(struct rec *r, int st)
{
	int c = 0;
	for (int i = 0; i < r->n; i++)
		c += (int)r->ev[i].state == st;
	return c;
}

static int count_rtype(struct rec *r, int t)
{
	int c = 0;
	for (int i = 0; i < r->rn; i++)
		c += (int)r->rtype[i] == t;
	return c;
}

/* Wait until count(r, what) >= want, bounded by WAIT_MS; the callbacks broadcast. */
static bool wait_count(struct rec *r, int (*count)(struct rec *, int), int what, int want)
{
	uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
	uv_mutex_lock(&r->lock);
	while (count(r, what) < want) {
		uint64_t now = uv_hrtime();
		if (now >= deadline)
			break;
		uv_cond_timedwait(&r->cond, &r->lock, deadline - now);
	}
	bool ok = count(r, what) >= want;
	uv_mutex_unlock(&r->lock);
	return ok;
}

static bool wait_state(struct rec *r, enum sipcx_reg_state st, int want)
{
	return wait_count(r, count_state, (int)st, want);
}

static bool wait_rtype(struct rec *r, enum sipcx_registrar_event_type t, int want)
{
	return wait_count(r, count_rtype, (int)t, want);
}

/* Counts for the test thread (under the lock the callbacks take). */
static int n_state(struct rec *r, enum sipcx_reg_state st)
{
	uv_mutex_lock(&r->lock);
	int c = count_state(r, st);
	uv_mutex_unlock(&r->lock);
	return c;
}

static int n_rtype(struct rec *r, enum sipcx_registrar_event_type t)
{
	uv_mutex_lock(&r->lock);
	int c = count_rtype(r, t);
	uv_mutex_unlock(&r->lock);
	return c;
}

/* The last event with state st (copied), false when none. */
static bool last_state(struct rec *r, enum sipcx_reg_state st, struct sipcx_reg_info *out,
                       uint64_t *at)
{
	bool found = false;
	uv_mutex_lock(&r->lock);
	for (int i = r->n - 1; i >= 0 && !found; i--) {
		if (r->ev[i].state == st) {
			*out = r->ev[i];
			if (at)
				*at = r->at[i];
			found = true;
		}
	}
	uv_mutex_unlock(&r->lock);
	return found;
}

/* ---- set-ups ---- */

static struct sipcx_ua *ua_on(const char *listen, uint32_t t1_ms)
{
	struct sipcx_ua *ua = NULL;
	struct sipcx_ua_opts o = { .listen = listen, .t1_ms = t1_ms };
	assert_int_equal(sipcx_ua_new(&ua, &o), 0);
	return ua;
}

static void uri_of(struct sipcx_ua *ua, size_t i, char *out, size_t n, const char *user,
                   const char *params)
{
	struct sipcx_tp_addr a;
	char hp[SIPCX_ADDRSTRLEN];
	assert_int_equal(sipcx_ua_bound(ua, i, &a), 0);
	assert_true(sipcx_sa_print(&a.sa.sa, hp, sizeof(hp)) > 0);
	snprintf(out, n, "sip:%s%s%s%s", user ? user : "", user ? "@" : "", hp,
	         params ? params : "");
}

static const struct sipcx_registrar_user users[] = {
	{ "alice", "secret" },
	{ "bob", "bobpw" },
	{ "carol", "carolpw" },
};

static struct sipcx_registrar *registrar_on(struct sipcx_ua *ua, struct rec *rr, uint32_t min,
                                            uint32_t max)
{
	struct sipcx_registrar *r = NULL;
	struct sipcx_registrar_opts o = {
		.users = users,
		.nusers = SIPCX_ARRAY_SIZE(users),
		.min_expires_s = min,
		.max_expires_s = max,
		.cb = on_registrar,
		.arg = rr,
	};
	assert_int_equal(sipcx_registrar_new(&r, ua, &o), 0);
	return r;
}

/*
 * The registrations of a test and their UAs, so unreg() can unregister
 * through the blocking phone call (the async sipcx_reg_free() never waits).
 */
static struct {
	struct sipcx_reg *reg;
	struct sipcx_ua *ua;
} tracked[16];

static void track(struct sipcx_reg *reg, struct sipcx_ua *ua)
{
	for (size_t i = 0; i < sizeof(tracked) / sizeof(tracked[0]); i++)
		if (!tracked[i].reg) {
			tracked[i].reg = reg;
			tracked[i].ua = ua;
			return;
		}
	fail_msg("more than 16 registrations in one test");
}

/* Unregister and wait for the registrar's answer (bounded by unregister_timeout_ms). */
static void unreg(struct sipcx_reg *reg)
{
	for (size_t i = 0; i < sizeof(tracked) / sizeof(tracked[0]); i++) {
		if (tracked[i].reg != reg)
			continue;
		struct sipcx_phone *ph = NULL;
		assert_int_equal(sipcx_phone_new(&ph, tracked[i].ua, NULL), 0);
		sipcx_phone_unregister(ph, NULL, reg, NULL);
		sipcx_phone_free(ph);
		tracked[i].reg = NULL;
		return;
	}
	fail_msg("unreg() of an untracked registration");
}

static struct sipcx_reg *reg_start(struct sipcx_ua *ua, const char *registrar, const char *user,
                                   const char *pw, uint32_t expires, unsigned flags,
                                   struct rec *rec)
{
	struct sipcx_reg *reg = NULL;
	struct sipcx_reg_opts o = {
		.registrar = registrar,
		.username = user,
		.password = pw,
		.expires_s = expires,
		.flags = flags,
		.retry_min_ms = 100,
		.retry_max_ms = 400,
		.unregister_timeout_ms = 3000,
		.cb = on_reg,
		.arg = rec,
	};
	assert_int_equal(sipcx_reg_new(&reg, ua, &o), 0);
	track(reg, ua);
	return reg;
}

/* Send one request from ua and check the final status (bounded wait). */
struct final {
	uv_mutex_t lock;
	uv_cond_t cond;
	int status;
};

static void on_final(int err, const struct sipcx_msg *resp, void *arg)
{
	struct final *f = arg;
	if (!err && resp->status < 200)
		return;
	uv_mutex_lock(&f->lock);
	f->status = err ? err : resp->status;
	uv_cond_broadcast(&f->cond);
	uv_mutex_unlock(&f->lock);
}

static void status_of(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o, int want)
{
	struct final f = { .status = 0 };
	uv_mutex_init(&f.lock);
	uv_cond_init(&f.cond);
	assert_int_equal(sipcx_ua_request(ua, o, on_final, &f), 0);
	uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
	uv_mutex_lock(&f.lock);
	while (!f.status && uv_hrtime() < deadline)
		uv_cond_timedwait(&f.cond, &f.lock, 10000000u);
	int got = f.status;
	uv_mutex_unlock(&f.lock);
	assert_int_equal(got, want);
	uv_mutex_destroy(&f.lock);
	uv_cond_destroy(&f.cond);
}

/* ---- client <-> embedded registrar ---- */

static void test_401_then_200_and_unregister(void **state)
{
	(void)state;
	struct rec rr, rc;
	rec_init(&rr);
	rec_init(&rc);
	struct sipcx_ua *srv = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *cli = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_registrar *r = registrar_on(srv, &rr, 0, 0);
	char ruri[128];
	uri_of(srv, 0, ruri, sizeof(ruri), NULL, NULL);

	struct sipcx_reg *reg = reg_start(cli, ruri, "alice", "secret", 120, 0, &rc);
	assert_true(wait_state(&rc, SIPCX_REG_REGISTERED, 1));
	struct sipcx_reg_info in;
	assert_int_equal(sipcx_reg_info(reg, &in), 0);
	assert_int_equal(in.state, SIPCX_REG_REGISTERED);
	assert_int_equal(in.status, 200);
	assert_int_equal(in.registers, 2); /* REGISTER -> 401 -> REGISTER with digest -> 200 */
	assert_int_equal(in.cseq, 2);
	assert_int_equal(in.expires_s, 120);
	assert_int_equal(in.err, 0);
	assert_false(in.nat);
	/* The registrar holds exactly our Contact, from our Call-ID and the second CSeq. */
	struct sipcx_registrar_binding b[4];
	size_t n = 0;
	assert_int_equal(sipcx_registrar_bindings(r, "alice", b, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(b[0].contact, in.contact);
	assert_string_equal(b[0].call_id, in.call_id);
	assert_int_equal(b[0].cseq, 2);
	assert_true(b[0].expires_s >= 119 && b[0].expires_s <= 120);
	assert_int_equal(sipcx_registrar_bindings(r, "nobody", b, 4, &n), -ENOENT);

	/* Free unregisters: Expires: 0, same Call-ID, next CSeq; the binding is gone. */
	unreg(reg);
	assert_true(wait_rtype(&rr, SIPCX_REGISTRAR_REMOVED, 1));
	assert_int_equal(sipcx_registrar_bindings(r, "alice", b, 4, &n), 0);
	assert_int_equal(n, 0);
	uv_mutex_lock(&rr.lock);
	int last = rr.rn - 1;
	assert_int_equal(rr.rtype[last], SIPCX_REGISTRAR_REMOVED);
	assert_int_equal(rr.rcseq[last], 3);
	assert_string_equal(rr.rcallid[last], in.call_id);
	uv_mutex_unlock(&rr.lock);
	assert_int_equal(n_state(&rc, SIPCX_REG_UNREGISTERED), 1);

	sipcx_registrar_free(r);
	sipcx_ua_free(cli);
	sipcx_ua_free(srv);
	rec_fini(&rr);
	rec_fini(&rc);
}

static void test_wrong_password(void **state)
{
	(void)state;
	struct rec rr, rc;
	rec_init(&rr);
	rec_init(&rc);
	struct sipcx_ua *srv = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *cli = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_registrar *r = registrar_on(srv, &rr, 0, 0);
	char ruri[128];
	uri_of(srv, 0, ruri, sizeof(ruri), NULL, NULL);

	struct sipcx_reg *reg = reg_start(cli, ruri, "alice", "wrong", 120, 0, &rc);
	assert_true(wait_state(&rc, SIPCX_REG_FAILED, 1));
	struct sipcx_reg_info in;
	sipcx_reg_info(reg, &in);
	assert_int_equal(in.err, SIPCX_EAUTH);
	assert_int_equal(in.status, 401);
	assert_int_equal(in.registers, 2); /* exactly one retry with credentials */
	assert_int_equal(n_rtype(&rr, SIPCX_REGISTRAR_AUTH_FAILED), 1);
	unreg(reg);
	/* Nothing was bound: nothing to unregister. */
	assert_int_equal(n_rtype(&rr, SIPCX_REGISTRAR_REMOVED), 0);

	/* No credentials at all: the challenge fails at once. */
	rec_fini(&rc);
	rec_init(&rc);
	reg = reg_start(cli, ruri, NULL, NULL, 120, 0, &rc);
	assert_true(wait_state(&rc, SIPCX_REG_FAILED, 1));
	sipcx_reg_info(reg, &in);
	assert_int_equal(in.err, SIPCX_EAUTH);
	assert_int_equal(in.registers, 1);
	unreg(reg);

	sipcx_registrar_free(r);
	sipcx_ua_free(cli);
	sipcx_ua_free(srv);
	rec_fini(&rr);
	rec_fini(&rc);
}

static void test_423_min_expires(void **state)
{
	(void)state;
	struct rec rr, rc;
	rec_init(&rr);
	rec_init(&rc);
	struct sipcx_ua *srv = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *cli = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_registrar *r = registrar_on(srv, &rr, 30, 600);
	char ruri[128];
	uri_of(srv, 0, ruri, sizeof(ruri), NULL, NULL);

	struct sipcx_reg *reg = reg_start(cli, ruri, "alice", "secret", 10, 0, &rc);
	assert_true(wait_state(&rc, SIPCX_REG_REGISTERED, 1));
	struct sipcx_reg_info in;
	sipcx_reg_info(reg, &in);
	/* 401, then 423 Min-Expires: 30, then 200 for 30 s. */
	assert_int_equal(in.registers, 3);
	assert_int_equal(in.requested_s, 30);
	assert_int_equal(in.expires_s, 30);
	assert_int_equal(n_rtype(&rr, SIPCX_REGISTRAR_REJECTED), 1);
	assert_int_equal(n_state(&rc, SIPCX_REG_FAILING), 0);
	unreg(reg);
	sipcx_registrar_free(r);
	sipcx_ua_free(cli);
	sipcx_ua_free(srv);
	rec_fini(&rr);
	rec_fini(&rc);
}

static void test_refresh_at_half_granted(void **state)
{
	(void)state;
	struct rec rr, rc;
	rec_init(&rr);
	rec_init(&rc);
	struct sipcx_ua *srv = ua_on("udp:127.0.0.1:0 tcp:127.0.0.1:0", 0);
	struct sipcx_ua *cli = ua_on("udp:127.0.0.1:0 tcp:127.0.0.1:0", 0);
	/* The registrar grants at most 2 s of the 3600 asked. */
	struct sipcx_registrar *r = registrar_on(srv, &rr, 1, 2);
	char ruri[128];
	uri_of(srv, 1, ruri, sizeof(ruri), NULL, ";transport=tcp");

	struct sipcx_reg *reg = reg_start(cli, ruri, "alice", "secret", 3600, 0, &rc);
	assert_true(wait_state(&rc, SIPCX_REG_REGISTERED, 1));
	struct sipcx_reg_info first = { 0 };
	uint64_t at1;
	assert_true(last_state(&rc, SIPCX_REG_REGISTERED, &first, &at1));
	assert_int_equal(first.expires_s, 2);
	assert_int_equal(first.requested_s, 3600);
	assert_non_null(strstr(first.contact, ";transport=tcp"));
	/* Scheduled at half of what was granted: 1 s after the 200 (not 1800 s). */
	assert_true(first.next_us >= first.registered_us + 999000u);
	assert_true(first.next_us <= first.registered_us + 1001000u);

	/* Two refreshes happen, each after about a second, without a new challenge. */
	assert_true(wait_state(&rc, SIPCX_REG_REGISTERED, 3));
	struct sipcx_reg_info third = { 0 };
	assert_true(last_state(&rc, SIPCX_REG_REGISTERED, &third, NULL));
	assert_int_equal(third.refreshes, 2);
	assert_int_equal(third.registers,
	                 4); /* 2 for the first, 1 per refresh (credentials up front) */
	assert_true(third.registered_us - first.registered_us >= 1900000u);
	uv_mutex_lock(&rc.lock);
	for (int i = 1; i < rc.n; i++)
		if (rc.ev[i].state == SIPCX_REG_REGISTERED &&
		    rc.ev[i - 1].state == SIPCX_REG_REGISTERED)
			assert_true(rc.ev[i].registered_us - rc.ev[i - 1].registered_us >= 990000u);
	uv_mutex_unlock(&rc.lock);

	/* Same Call-ID, increasing CSeq at the registrar. */
	uv_mutex_lock(&rr.lock);
	uint32_t prev = 0;
	int seen = 0;
	for (int i = 0; i < rr.rn; i++) {
		if (rr.rtype[i] != SIPCX_REGISTRAR_BOUND &&
		    rr.rtype[i] != SIPCX_REGISTRAR_REFRESHED)
			continue;
		assert_string_equal(rr.rcallid[i], first.call_id);
		assert_true(rr.rcseq[i] > prev);
		assert_int_equal(rr.rexp[i], 2);
		prev = rr.rcseq[i];
		seen++;
	}
	uv_mutex_unlock(&rr.lock);
	assert_true(seen >= 3);
	struct sipcx_registrar_binding b[2];
	size_t n;
	assert_int_equal(sipcx_registrar_bindings(r, "alice", b, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(b[0].source.proto, SIPCX_TP_TCP);

	unreg(reg);
	assert_int_equal(sipcx_registrar_bindings(r, "alice", b, 2, &n), 0);
	assert_int_equal(n, 0);
	sipcx_registrar_free(r);
	sipcx_ua_free(cli);
	sipcx_ua_free(srv);
	rec_fini(&rr);
	rec_fini(&rc);
}

/*
 * A NAT in miniature: datagrams from the client to the relay's inside
 * socket leave through its outside socket (another port) to the registrar,
 * and the answers go back the same way. The registrar sees the outside
 * port, not the client's Contact, and says so with rport (RFC 3581).
 */
struct relay {
	int in, out; /* sockets on 127.0.0.1 */
	uint16_t in_port, out_port;
	struct sockaddr_in server, client;
	bool have_client;
	volatile bool stop;
	pthread_t thread;
};

static uint16_t bound_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

static int udp_loopback(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	static char buf[65536];
	while (!r->stop) {
		struct pollfd p[2] = { { .fd = r->in, .events = POLLIN },
			               { .fd = r->out, .events = POLLIN } };
		if (poll(p, 2, 50) <= 0)
			continue; /* the stop flag is looked at every 50 ms */
		if (p[0].revents & POLLIN) {
			socklen_t len = sizeof(r->client);
			ssize_t n = recvfrom(r->in, buf, sizeof(buf), 0,
			                     (struct sockaddr *)&r->client, &len);
			r->have_client = n > 0;
			if (n > 0)
				sendto(r->out, buf, (size_t)n, 0, (struct sockaddr *)&r->server,
				       sizeof(r->server));
		}
		if (p[1].revents & POLLIN) {
			ssize_t n = recv(r->out, buf, sizeof(buf), 0);
			if (n > 0 && r->have_client)
				sendto(r->in, buf, (size_t)n, 0, (struct sockaddr *)&r->client,
				       sizeof(r->client));
		}
	}
	return NULL;
}

static void relay_start(struct relay *r, uint16_t server_port)
{
	memset(r, 0, sizeof(*r));
	r->in = udp_loopback();
	r->out = udp_loopback();
	r->in_port = bound_port(r->in);
	r->out_port = bound_port(r->out);
	r->server.sin_family = AF_INET;
	r->server.sin_port = htons(server_port);
	r->server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(pthread_create(&r->thread, NULL, relay_main, r), 0);
}

static void relay_stop(struct relay *r)
{
	r->stop = true;
	pthread_join(r->thread, NULL);
	close(r->in);
	close(r->out);
}

static void test_nat_contact_rewrite(void **state)
{
	(void)state;
	struct rec rr, rc;
	rec_init(&rr);
	rec_init(&rc);
	struct sipcx_ua *srv = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *cli = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_registrar *r = registrar_on(srv, &rr, 0, 0);
	struct sipcx_tp_addr sa;
	assert_int_equal(sipcx_ua_bound(srv, 0, &sa), 0);
	/* The client reaches the registrar through the relay: seen from its outside port. */
	struct relay nat;
	relay_start(&nat, sipcx_sa_port(&sa.sa.sa));
	char ruri[128], want[128];
	snprintf(ruri, sizeof(ruri), "sip:127.0.0.1:%u", nat.in_port);
	snprintf(want, sizeof(want), "sip:alice@127.0.0.1:%u", nat.out_port);

	struct sipcx_reg *reg = reg_start(cli, ruri, "alice", "secret", 300, 0, &rc);
	assert_true(wait_state(&rc, SIPCX_REG_REGISTERED, 1));
	struct sipcx_reg_info in;
	sipcx_reg_info(reg, &in);
	assert_true(in.nat);
	assert_string_equal(in.contact, want);
	assert_int_equal(in.registers, 3); /* 401, 200 (NAT seen), 200 with the new Contact */
	/* Only the rewritten Contact is bound: the old one went in the same REGISTER. */
	struct sipcx_registrar_binding b[4];
	size_t n;
	assert_int_equal(sipcx_registrar_bindings(r, "alice", b, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(b[0].contact, want);
	assert_int_equal(n_rtype(&rr, SIPCX_REGISTRAR_BOUND), 2);
	assert_int_equal(n_rtype(&rr, SIPCX_REGISTRAR_REMOVED), 1);
	unreg(reg);
	assert_int_equal(sipcx_registrar_bindings(r, "alice", b, 4, &n), 0);
	assert_int_equal(n, 0);

	/* SIPCX_REG_NO_NAT keeps the Contact. */
	rec_fini(&rc);
	rec_init(&rc);
	reg = reg_start(cli, ruri, "alice", "secret", 300, SIPCX_REG_NO_NAT, &rc);
	assert_true(wait_state(&rc, SIPCX_REG_REGISTERED, 1));
	sipcx_reg_info(reg, &in);
	assert_false(in.nat);
	assert_non_null(strstr(in.contact, "@127.0.0.1:"));
	unreg(reg);

	relay_stop(&nat);
	sipcx_registrar_free(r);
	sipcx_ua_free(cli);
	sipcx_ua_free(srv);
	rec_fini(&rr);
	rec_fini(&rc);
}

/* ---- a scripted registrar: one answer per REGISTER, in order ---- */

struct step {
	uint16_t status;
	int contact_expires; /* 200: expires param on our Contact; -1: our Contact not listed */
	int expires_hdr;     /* 200: Expires header; -1: none */
	int retry_after;     /* failure: Retry-After; -1: none */
	bool provisional;    /* send 100 first and let the test send the final answer */
};

struct script {
	uv_mutex_t lock;
	uv_cond_t cond;
	const struct step *steps;
	int nsteps, n;
	uint32_t cseq[MAX_EV];
	char callid[MAX_EV][64];
	char expires[MAX_EV][16];
	struct sipcx_ua_srv *held; /* the request waiting after its 100 */
	char held_contact[256];
};

/* Our Contact URI from a REGISTER (between < and >). */
static void contact_uri(const struct sipcx_msg *req, char *out, size_t n)
{
	const struct sipcx_addr *c = sipcx_msg_contact(req);
	snprintf(out, n, "%.*s", c ? (int)c->uri.raw.len : 0, c ? c->uri.raw.p : "");
}

static void answer_step(struct sipcx_ua_srv *srv, const struct step *st, const char *contact)
{
	char c[512], e[32], ra[32];
	struct sipcx_hdr h[3];
	size_t n = 0;
	if (st->status < 300) {
		if (st->contact_expires >= 0) {
			/* Several bindings, ours in the middle with its own expiry. */
			snprintf(c, sizeof(c),
			         "<sip:other@192.0.2.1:5060>;expires=999, <%s>;expires=%d, "
			         "<sip:third@192.0.2.2>;expires=5",
			         contact, st->contact_expires);
			h[n++] =
			    (struct sipcx_hdr){ SIPCX_HDR_CONTACT, SIPCX_STR_NULL, sipcx_str_c(c) };
		}
		if (st->expires_hdr >= 0) {
			snprintf(e, sizeof(e), "%d", st->expires_hdr);
			h[n++] =
			    (struct sipcx_hdr){ SIPCX_HDR_EXPIRES, SIPCX_STR_NULL, sipcx_str_c(e) };
		}
	} else if (st->retry_after >= 0) {
		snprintf(ra, sizeof(ra), "%d", st->retry_after);
		h[n++] =
		    (struct sipcx_hdr){ SIPCX_HDR_RETRY_AFTER, SIPCX_STR_NULL, sipcx_str_c(ra) };
	}
	assert_int_equal(sipcx_ua_respond(srv, st->status, NULL, h, n, NULL, SIPCX_STR_NULL), 0);
}

static void on_scripted(struct sipcx_ua_srv *srv, const struct sipcx_msg *req, void *arg)
{
	struct script *s = arg;
	char contact[256];
	contact_uri(req, contact, sizeof(contact));
	uv_mutex_lock(&s->lock);
	int i = s->n++;
	if (i < MAX_EV) {
		const struct sipcx_cseq *cs = sipcx_msg_cseq(req);
		s->cseq[i] = cs ? cs->num : 0;
		snprintf(s->callid[i], sizeof(s->callid[i]), "%.*s",
		         SIPCX_STR_FMT(sipcx_msg_call_id(req)));
		const struct sipcx_hdr *e = sipcx_msg_hdr(req, SIPCX_HDR_EXPIRES);
		snprintf(s->expires[i], sizeof(s->expires[i]), "%.*s", e ? (int)e->value.len : 0,
		         e ? e->value.p : "");
	}
	const struct step *st = i < s->nsteps ? &s->steps[i] : NULL;
	uv_cond_broadcast(&s->cond);
	uv_mutex_unlock(&s->lock);
	if (!st) {
		sipcx_ua_respond(srv, 200, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		return;
	}
	if (st->provisional) {
		sipcx_ua_respond(srv, 100, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		uv_mutex_lock(&s->lock);
		s->held = srv;
		snprintf(s->held_contact, sizeof(s->held_contact), "%s", contact);
		uv_cond_broadcast(&s->cond);
		uv_mutex_unlock(&s->lock);
		return;
	}
	answer_step(srv, st, contact);
}

static struct sipcx_ua *scripted_on(struct script *s, const struct step *steps, int n)
{
	memset(s, 0, sizeof(*s));
	uv_mutex_init(&s->lock);
	uv_cond_init(&s->cond);
	s->steps = steps;
	s->nsteps = n;
	struct sipcx_ua *ua = ua_on("udp:127.0.0.1:0", 0);
	assert_int_equal(sipcx_ua_handle(ua, "REGISTER", 0, on_scripted, s), 0);
	return ua;
}

static void script_fini(struct script *s)
{
	uv_mutex_destroy(&s->lock);
	uv_cond_destroy(&s->cond);
}

static void test_backoff_retry_after_recovery(void **state)
{
	(void)state;
	static const struct step steps[] = {
		{ 200, 2, -1, -1, false },  /* registered for 2 s: refresh at 1 s */
		{ 503, -1, -1, -1, false }, /* refresh fails: retry after 100 ms */
		{ 500, -1, -1, -1, false }, /* again: 200 ms */
		{ 503, -1, -1, 1, false },  /* Retry-After: 1 -> 1000 ms */
		{ 408, -1, -1, -1,
		  false }, /* the backoff goes on where it was: 400 ms (the ceiling) */
		{ 200, 60, -1, -1, false }, /* recovered */
	};
	struct script s;
	struct rec rc;
	rec_init(&rc);
	struct sipcx_ua *srv = scripted_on(&s, steps, SIPCX_ARRAY_SIZE(steps));
	struct sipcx_ua *cli = ua_on("udp:127.0.0.1:0", 0);
	char ruri[128];
	uri_of(srv, 0, ruri, sizeof(ruri), NULL, NULL);
	struct sipcx_reg *reg = reg_start(cli, ruri, NULL, NULL, 600, 0, &rc);
	assert_true(wait_state(&rc, SIPCX_REG_REGISTERED, 2));

	static const uint64_t want_ms[] = { 100, 200, 1000, 400 };
	uv_mutex_lock(&rc.lock);
	int k = 0;
	for (int i = 0; i < rc.n; i++) {
		if (rc.ev[i].state != SIPCX_REG_FAILING)
			continue;
		assert_true(k < 4);
		assert_int_equal(rc.ev[i].failures, k + 1);
		assert_int_equal(rc.ev[i].err, SIPCX_ESTATUS);
		assert_int_equal(rc.ev[i].status, steps[k + 1].status);
		/* The retry is scheduled right before the callback: delay within 20 ms of the rule. */
		uint64_t delay = rc.ev[i].next_us - rc.at[i];
		assert_true(delay <= want_ms[k] * 1000u);
		assert_true(delay + 20000u >= want_ms[k] * 1000u);
		k++;
	}
	assert_int_equal(k, 4);
	struct sipcx_reg_info last = rc.ev[rc.n - 1];
	uv_mutex_unlock(&rc.lock);
	assert_int_equal(last.state, SIPCX_REG_REGISTERED);
	assert_int_equal(last.failures, 0);
	assert_int_equal(last.expires_s, 60);
	assert_int_equal(last.err, 0);

	/* One Call-ID, CSeq up by one each time, the requested expiry each time. */
	uv_mutex_lock(&s.lock);
	assert_int_equal(s.n, 6);
	for (int i = 0; i < s.n; i++) {
		assert_string_equal(s.callid[i], s.callid[0]);
		assert_int_equal(s.cseq[i], (uint32_t)i + 1);
		assert_string_equal(s.expires[i], "600");
	}
	uv_mutex_unlock(&s.lock);

	unreg(reg);
	uv_mutex_lock(&s.lock);
	assert_int_equal(s.n, 7);
	assert_string_equal(s.expires[6], "0");
	assert_int_equal(s.cseq[6], 7);
	uv_mutex_unlock(&s.lock);
	sipcx_ua_free(cli);
	sipcx_ua_free(srv);
	script_fini(&s);
	rec_fini(&rc);
}

static void test_provisional_and_granted_expiry(void **state)
{
	(void)state;
	static const struct step steps[] = {
		{ 200, 37, 100, -1, true }, /* 100 first; ours says 37 among three bindings */
		{ 200, -1, -1, -1, false }, /* the unregistration */
		{ 200, -1, 55, -1, false }, /* our Contact not listed: the Expires header */
	};
	struct script s;
	struct rec rc;
	rec_init(&rc);
	struct sipcx_ua *srv = scripted_on(&s, steps, SIPCX_ARRAY_SIZE(steps));
	struct sipcx_ua *cli = ua_on("udp:127.0.0.1:0", 0);
	char ruri[128];
	uri_of(srv, 0, ruri, sizeof(ruri), NULL, NULL);
	struct sipcx_reg *reg = reg_start(cli, ruri, NULL, NULL, 3600, 0, &rc);

	/*
	 * Wait for the 100 to reach the client (it is not final) and for the
	 * server to have kept its transaction: the server's loop keeps it after
	 * it sent the 100, so the client may see the 100 first.
	 */
	uint64_t deadline = sipcx_now_us() + (uint64_t)WAIT_MS * 1000u;
	struct sipcx_ua_stats st = { 0 };
	bool kept = false;
	while ((st.rx_responses < 1 || !kept) && sipcx_now_us() < deadline) {
		uv_mutex_lock(&s.lock);
		if (!s.held)
			uv_cond_timedwait(&s.cond, &s.lock, 10000000u);
		kept = s.held != NULL;
		uv_mutex_unlock(&s.lock);
		sipcx_ua_stats(cli, &st);
	}
	assert_int_equal(st.rx_responses, 1);
	struct sipcx_reg_info in;
	sipcx_reg_info(reg, &in);
	assert_int_equal(in.state, SIPCX_REG_REGISTERING);
	uv_mutex_lock(&rc.lock);
	assert_int_equal(rc.n, 0);
	uv_mutex_unlock(&rc.lock);
	uv_mutex_lock(&s.lock);
	struct sipcx_ua_srv *held = s.held;
	char contact[256];
	memcpy(contact, s.held_contact, sizeof(contact));
	uv_mutex_unlock(&s.lock);
	assert_non_null(held);
	answer_step(held, &steps[0], contact);

	assert_true(wait_state(&rc, SIPCX_REG_REGISTERED, 1));
	sipcx_reg_info(reg, &in);
	assert_int_equal(in.expires_s, 37);
	assert_string_equal(in.contact, contact);
	unreg(reg);

	/* A second registration (the script's next step) reads the Expires header. */
	rec_fini(&rc);
	rec_init(&rc);
	reg = reg_start(cli, ruri, NULL, NULL, 3600, SIPCX_REG_NO_NAT, &rc);
	assert_true(wait_state(&rc, SIPCX_REG_REGISTERED, 1));
	sipcx_reg_info(reg, &in);
	assert_int_equal(in.expires_s, 55);
	unreg(reg);
	sipcx_ua_free(cli);
	sipcx_ua_free(srv);
	script_fini(&s);
	rec_fini(&rc);
}

/* A registrar behind a proxy that challenges with 407 (Proxy-Authenticate). */
struct p407 {
	struct sipcx_auth_server *s;
	int challenged, accepted;
};

static int lookup_pw(struct sipcx_str username, struct sipcx_str realm, enum sipcx_auth_alg alg,
                     bool userhash, struct sipcx_auth_secret *secret, void *arg)
{
	(void)realm;
	(void)alg;
	(void)userhash;
	(void)arg;
	if (!sipcx_str_eq(username, SIPCX_STR("dave")))
		return -ENOENT;
	secret->password = SIPCX_STR("davepw");
	return 0;
}

static void on_407(struct sipcx_ua_srv *srv, const struct sipcx_msg *req, void *arg)
{
	struct p407 *p = arg;
	struct sipcx_auth_result res;
	uint64_t now = sipcx_now_us() / 1000000u;
	assert_int_equal(sipcx_auth_server_verify(p->s, now, req, true, lookup_pw, NULL, &res), 0);
	if (res.verdict == SIPCX_AUTH_OK) {
		p->accepted++;
		char c[300];
		const struct sipcx_addr *a = sipcx_msg_contact(req);
		snprintf(c, sizeof(c), "<%.*s>;expires=45", SIPCX_STR_FMT(a->uri.raw));
		struct sipcx_hdr h = { SIPCX_HDR_CONTACT, SIPCX_STR_NULL, sipcx_str_c(c) };
		sipcx_ua_respond(srv, 200, NULL, &h, 1, NULL, SIPCX_STR_NULL);
		return;
	}
	p->challenged++;
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_auth_server_challenge(p->s, now, SIPCX_AUTH_MD5, false, &b), 0);
	struct sipcx_hdr h = { SIPCX_HDR_PROXY_AUTHENTICATE, SIPCX_STR_NULL, { b.p, b.len } };
	sipcx_ua_respond(srv, 407, NULL, &h, 1, NULL, SIPCX_STR_NULL);
	sipcx_buf_free(&b);
}

static void test_407_on_register(void **state)
{
	(void)state;
	struct p407 p = { 0 };
	struct sipcx_auth_server_opts ao = { .realm = "proxy.test" };
	assert_int_equal(sipcx_auth_server_new(&p.s, &ao), 0);
	struct rec rc;
	rec_init(&rc);
	struct sipcx_ua *srv = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *cli = ua_on("udp:127.0.0.1:0", 0);
	assert_int_equal(sipcx_ua_handle(srv, "REGISTER", 0, on_407, &p), 0);
	char ruri[128];
	uri_of(srv, 0, ruri, sizeof(ruri), NULL, NULL);
	struct sipcx_reg *reg = reg_start(cli, ruri, "dave", "davepw", 300, 0, &rc);
	assert_true(wait_state(&rc, SIPCX_REG_REGISTERED, 1));
	struct sipcx_reg_info in;
	sipcx_reg_info(reg, &in);
	assert_int_equal(in.registers, 2); /* 407, then Proxy-Authorization and 200 */
	assert_int_equal(in.expires_s, 45);
	unreg(reg); /* the unregister carries the credentials up front */
	sipcx_ua_free(cli);
	sipcx_ua_free(srv);
	assert_int_equal(p.challenged, 1);
	assert_int_equal(p.accepted, 2);
	sipcx_auth_server_free(p.s);
	rec_fini(&rc);
}

static void test_first_failure_and_retry_first(void **state)
{
	(void)state;
	struct rec rc;
	rec_init(&rc);
	/* A port nobody answers on: a UA that is freed at once leaves its port closed. */
	struct sipcx_ua *gone = ua_on("udp:127.0.0.1:0", 0);
	char ruri[128];
	uri_of(gone, 0, ruri, sizeof(ruri), NULL, NULL);
	sipcx_ua_free(gone);
	struct sipcx_ua *cli = ua_on("udp:127.0.0.1:0", 5); /* T1 5 ms: Timer F 320 ms */

	struct sipcx_reg *reg = reg_start(cli, ruri, "alice", "secret", 60, 0, &rc);
	assert_true(wait_state(&rc, SIPCX_REG_FAILED, 1));
	struct sipcx_reg_info in;
	sipcx_reg_info(reg, &in);
	assert_int_equal(in.err, -ETIMEDOUT);
	assert_int_equal(in.status, 0);
	assert_int_equal(in.next_us, 0);
	unreg(reg);

	/* RETRY_FIRST: failing, retried, never FAILED. */
	rec_fini(&rc);
	rec_init(&rc);
	reg = reg_start(cli, ruri, "alice", "secret", 60, SIPCX_REG_RETRY_FIRST, &rc);
	assert_true(wait_state(&rc, SIPCX_REG_FAILING, 2));
	sipcx_reg_info(reg, &in);
	assert_int_equal(n_state(&rc, SIPCX_REG_FAILED), 0);
	assert_true(in.registers >= 2);
	unreg(reg);
	sipcx_ua_free(cli);
	rec_fini(&rc);
}

static void test_unregister_all_and_star_rules(void **state)
{
	(void)state;
	struct rec rr, r1, r2, r3;
	rec_init(&rr);
	rec_init(&r1);
	rec_init(&r2);
	rec_init(&r3);
	struct sipcx_ua *srv = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *c1 = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *c2 = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_registrar *r = registrar_on(srv, &rr, 0, 0);
	char ruri[128];
	uri_of(srv, 0, ruri, sizeof(ruri), NULL, NULL);
	struct sipcx_reg *a = reg_start(c1, ruri, "bob", "bobpw", 300, 0, &r1);
	struct sipcx_reg *b = reg_start(c2, ruri, "bob", "bobpw", 300, 0, &r2);
	assert_true(wait_state(&r1, SIPCX_REG_REGISTERED, 1));
	assert_true(wait_state(&r2, SIPCX_REG_REGISTERED, 1));
	struct sipcx_registrar_binding bb[4];
	size_t n;
	assert_int_equal(sipcx_registrar_bindings(r, "bob", bb, 4, &n), 0);
	assert_int_equal(n, 2);

	/* Through the phone: Contact: * with Expires: 0 removes both. */
	struct sipcx_phone *ph;
	assert_int_equal(sipcx_phone_new(&ph, c1, NULL), 0);
	struct sipcx_reg_opts o = { .registrar = ruri,
		                    .username = "bob",
		                    .password = "bobpw",
		                    .flags = SIPCX_REG_UNREGISTER_ALL,
		                    .cb = on_reg,
		                    .arg = &r3 };
	struct sipcx_reg *all = NULL;
	struct sipcx_reg_info in;
	assert_int_equal(sipcx_phone_register(ph, NULL, &o, &all, &in), 0);
	track(all, c1);
	assert_int_equal(in.state, SIPCX_REG_UNREGISTERED);
	assert_int_equal(in.status, 200);
	assert_int_equal(sipcx_registrar_bindings(r, "bob", bb, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(n_rtype(&rr, SIPCX_REGISTRAR_REMOVED), 2);
	unreg(all);
	sipcx_phone_free(ph);

	/* RFC 3261 10.3: "*" only with Expires: 0, else 400 and nothing removed. */
	struct sipcx_reg *again = reg_start(c1, ruri, "bob", "bobpw", 300, 0, &r1);
	assert_true(wait_state(&r1, SIPCX_REG_REGISTERED, 2));
	struct sipcx_ua_req_opts star = {
		.method = "REGISTER",
		.uri = ruri,
		.to = "<sip:bob@127.0.0.1>",
		.from = "<sip:bob@127.0.0.1>",
		.contact = "*",
		.hdrs = (const struct sipcx_hdr[]){ { SIPCX_HDR_EXPIRES, SIPCX_STR_NULL,
		                                      SIPCX_STR("30") } },
		.nhdrs = 1,
	};
	sipcx_registrar_free(r);
	struct sipcx_registrar_opts open = { .cb = on_registrar, .arg = &rr };
	assert_int_equal(sipcx_registrar_new(&r, srv, &open), 0);
	status_of(c2, &star, 400);
	star.hdrs = NULL;
	star.nhdrs = 0; /* no Expires at all: also 400 */
	status_of(c2, &star, 400);
	unreg(again);
	unreg(a);
	unreg(b);
	sipcx_registrar_free(r);
	sipcx_ua_free(c1);
	sipcx_ua_free(c2);
	sipcx_ua_free(srv);
	rec_fini(&rr);
	rec_fini(&r1);
	rec_fini(&r2);
	rec_fini(&r3);
}

/* ---- the proxy ---- */

struct inbox {
	uv_mutex_t lock;
	uv_cond_t cond;
	int n;
	char last[4096];
	uint16_t answer;
};

static void on_inbox(struct sipcx_ua_srv *srv, const struct sipcx_msg *req, void *arg)
{
	struct inbox *ib = arg;
	uv_mutex_lock(&ib->lock);
	ib->n++;
	snprintf(ib->last, sizeof(ib->last), "%.*s", SIPCX_STR_FMT(req->raw));
	uint16_t st = ib->answer;
	uv_cond_broadcast(&ib->cond);
	uv_mutex_unlock(&ib->lock);
	sipcx_ua_respond(srv, st, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
}

struct answer {
	uv_mutex_t lock;
	uv_cond_t cond;
	bool done;
	int err;
	uint16_t status;
	char raw[4096];
};

static void on_answer(int err, const struct sipcx_msg *resp, void *arg)
{
	struct answer *a = arg;
	if (!err && resp->status < 200)
		return;
	uv_mutex_lock(&a->lock);
	a->done = true;
	a->err = err;
	a->status = resp ? resp->status : 0;
	if (resp)
		snprintf(a->raw, sizeof(a->raw), "%.*s", SIPCX_STR_FMT(resp->raw));
	uv_cond_broadcast(&a->cond);
	uv_mutex_unlock(&a->lock);
}

static void request_and_wait(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o,
                             struct answer *a)
{
	memset(a, 0, sizeof(*a));
	uv_mutex_init(&a->lock);
	uv_cond_init(&a->cond);
	assert_int_equal(sipcx_ua_request(ua, o, on_answer, a), 0);
	uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
	uv_mutex_lock(&a->lock);
	while (!a->done && uv_hrtime() < deadline)
		uv_cond_timedwait(&a->cond, &a->lock, 10000000u);
	uv_mutex_unlock(&a->lock);
	assert_true(a->done);
	uv_mutex_destroy(&a->lock);
	uv_cond_destroy(&a->cond);
}

static int count_lines(const char *msg, const char *prefix)
{
	int c = 0;
	size_t pl = strlen(prefix);
	for (const char *p = msg; p && *p; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL)
		if (!strncmp(p, prefix, pl))
			c++;
	return c;
}

/* The value of the first header called name in a raw message, NUL-terminated. */
static void header_of(const char *raw, const char *name, char *out, size_t n)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\r\n%s: ", name);
	const char *p = strstr(raw, pat);
	assert_non_null(p);
	p += strlen(pat);
	const char *e = strstr(p, "\r\n");
	assert_non_null(e);
	assert_true((size_t)(e - p) < n);
	snprintf(out, n, "%.*s", (int)(e - p), p);
}

static void test_proxy_routes_to_binding(void **state)
{
	(void)state;
	struct rec rr, rb;
	rec_init(&rr);
	rec_init(&rb);
	struct sipcx_ua *srv = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *bob = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *alice = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_registrar *r = registrar_on(srv, &rr, 0, 0);
	struct inbox ib = { .answer = 200 };
	uv_mutex_init(&ib.lock);
	uv_cond_init(&ib.cond);
	assert_int_equal(sipcx_ua_handle(bob, "MESSAGE", 0, on_inbox, &ib), 0);
	assert_int_equal(sipcx_ua_handle(bob, "INVITE", 0, on_inbox, &ib), 0);
	char ruri[128], target[128], me[128];
	uri_of(srv, 0, ruri, sizeof(ruri), NULL, NULL);
	uri_of(srv, 0, target, sizeof(target), "bob", NULL);
	uri_of(srv, 0, me, sizeof(me), NULL, ";lr");
	struct sipcx_reg *reg = reg_start(bob, ruri, "bob", "bobpw", 300, 0, &rb);
	assert_true(wait_state(&rb, SIPCX_REG_REGISTERED, 1));
	struct sipcx_reg_info in;
	sipcx_reg_info(reg, &in);

	/* MESSAGE to bob at the registrar reaches bob's Contact, and the 200 comes back. */
	struct answer a;
	struct sipcx_ua_req_opts o = { .method = "MESSAGE",
		                       .uri = target,
		                       .content_type = "text/plain",
		                       .body = SIPCX_STR("hi") };
	request_and_wait(alice, &o, &a);
	assert_int_equal(a.err, 0);
	assert_int_equal(a.status, 200);
	assert_int_equal(count_lines(a.raw, "Via:"), 1); /* the proxy's Via was taken off */
	uv_mutex_lock(&ib.lock);
	assert_int_equal(ib.n, 1);
	char want[300];
	snprintf(want, sizeof(want), "MESSAGE %s SIP/2.0\r\n", in.contact);
	assert_memory_equal(ib.last, want, strlen(want));
	assert_int_equal(count_lines(ib.last, "Via:"), 2);
	assert_non_null(strstr(ib.last, ";branch=z9hG4bKSXP"));
	assert_non_null(strstr(ib.last, "\r\nMax-Forwards: 69\r\n"));
	assert_non_null(strstr(ib.last, ";rport=")); /* RFC 3581 on the caller's Via */
	assert_null(strstr(ib.last, "Record-Route:"));
	uv_mutex_unlock(&ib.lock);
	assert_true(wait_rtype(&rr, SIPCX_REGISTRAR_ROUTED, 1));

	/* INVITE: record-routed; bob's 486 comes back to alice. */
	uv_mutex_lock(&ib.lock);
	ib.answer = 486;
	uv_mutex_unlock(&ib.lock);
	o = (struct sipcx_ua_req_opts){ .method = "INVITE", .uri = target };
	request_and_wait(alice, &o, &a);
	assert_int_equal(a.status, 486);
	uv_mutex_lock(&ib.lock);
	assert_int_equal(ib.n, 2);
	char rr_want[160];
	/* Our Record-Route carries the token that proves it ours (;sxr=, a hash of the Call-ID). */
	snprintf(rr_want, sizeof(rr_want), "\r\nRecord-Route: <%s;sxr=", me);
	assert_non_null(strstr(ib.last, rr_want));
	char route[160], call_id[128];
	header_of(ib.last, "Record-Route", route, sizeof(route));
	header_of(ib.last, "Call-ID", call_id, sizeof(call_id));
	uv_mutex_unlock(&ib.lock);

	/* In a dialog: Route to the proxy, R-URI bob's Contact: the Route entry is removed. */
	uv_mutex_lock(&ib.lock);
	ib.answer = 200;
	uv_mutex_unlock(&ib.lock);
	o = (struct sipcx_ua_req_opts){
		.method = "MESSAGE",
		.uri = in.contact,
		.dst = NULL,
		.to = "<sip:bob@example.com>;tag=abc",
		.call_id = call_id,
		.hdrs = (const struct sipcx_hdr[]){ { SIPCX_HDR_ROUTE, SIPCX_STR_NULL,
		                                      sipcx_str_c(route) } },
		.nhdrs = 1
	};
	char dst[64];
	struct sipcx_tp_addr sa;
	sipcx_ua_bound(srv, 0, &sa);
	sipcx_tp_addr_print(&sa, dst, sizeof(dst));
	o.dst = dst;
	request_and_wait(alice, &o, &a);
	assert_int_equal(a.status, 200);
	/* No open relay: our address in a Route without our token, or no Route at all, goes nowhere. */
	char forged[160];
	snprintf(forged, sizeof(forged), "<%s>", me);
	struct sipcx_hdr fh = { SIPCX_HDR_ROUTE, SIPCX_STR_NULL, sipcx_str_c(forged) };
	o.hdrs = &fh;
	request_and_wait(alice, &o, &a);
	assert_int_equal(a.status, 403);
	o.call_id = NULL;
	request_and_wait(alice, &o, &a);
	assert_int_equal(a.status, 403);
	o.nhdrs = 0;
	request_and_wait(alice, &o, &a);
	assert_int_equal(a.status, 404);
	o.to = NULL; /* outside a dialog, to a foreign host: relaying denied */
	request_and_wait(alice, &o, &a);
	assert_int_equal(a.status, 403);
	uv_mutex_lock(&ib.lock);
	assert_int_equal(ib.n, 3);
	assert_null(strstr(ib.last, "\r\nRoute:"));
	assert_int_equal(count_lines(ib.last, "Via:"), 2);
	uv_mutex_unlock(&ib.lock);

	/* Known user without binding or unknown: the same 404 (no enumeration); the registrar itself: the UA's 200. */
	char carol[128], nobody[128];
	uri_of(srv, 0, carol, sizeof(carol), "carol", NULL);
	uri_of(srv, 0, nobody, sizeof(nobody), "nobody", NULL);
	o = (struct sipcx_ua_req_opts){ .method = "OPTIONS", .uri = carol };
	request_and_wait(alice, &o, &a);
	assert_int_equal(a.status, 404);
	o.uri = nobody;
	request_and_wait(alice, &o, &a);
	assert_int_equal(a.status, 404);
	o.uri = ruri;
	request_and_wait(alice, &o, &a);
	assert_int_equal(a.status, 200);
	unreg(reg);
	/* Unregistered: bob is now unavailable. */
	o = (struct sipcx_ua_req_opts){ .method = "OPTIONS", .uri = target };
	request_and_wait(alice, &o, &a);
	assert_int_equal(a.status, 404);

	sipcx_registrar_free(r);
	sipcx_ua_free(alice);
	sipcx_ua_free(bob);
	sipcx_ua_free(srv);
	uv_mutex_destroy(&ib.lock);
	uv_cond_destroy(&ib.cond);
	rec_fini(&rr);
	rec_fini(&rb);
}

/* A registrar on a wildcard address knows 127.0.0.1 as itself and record-routes with it. */
static void test_proxy_wildcard_listener(void **state)
{
	(void)state;
	struct rec rr, rb;
	rec_init(&rr);
	rec_init(&rb);
	struct sipcx_ua *srv = ua_on("udp:0.0.0.0:0", 0);
	struct sipcx_ua *bob = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *alice = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_registrar *r = registrar_on(srv, &rr, 0, 0);
	struct inbox ib = { .answer = 486 };
	uv_mutex_init(&ib.lock);
	uv_cond_init(&ib.cond);
	assert_int_equal(sipcx_ua_handle(bob, "INVITE", 0, on_inbox, &ib), 0);
	struct sipcx_tp_addr a;
	assert_int_equal(sipcx_ua_bound(srv, 0, &a), 0);
	unsigned port = sipcx_sa_port(&a.sa.sa);
	char ruri[64], target[64], rr_want[96];
	snprintf(ruri, sizeof(ruri), "sip:127.0.0.1:%u", port);
	snprintf(target, sizeof(target), "sip:bob@127.0.0.1:%u", port);
	snprintf(rr_want, sizeof(rr_want), "\r\nRecord-Route: <sip:127.0.0.1:%u;lr;sxr=", port);
	struct sipcx_reg *reg = reg_start(bob, ruri, "bob", "bobpw", 300, 0, &rb);
	assert_true(wait_state(&rb, SIPCX_REG_REGISTERED, 1));

	struct answer ans;
	struct sipcx_ua_req_opts o = { .method = "INVITE", .uri = target };
	request_and_wait(alice, &o, &ans);
	assert_int_equal(ans.status, 486);
	uv_mutex_lock(&ib.lock);
	assert_int_equal(ib.n, 1);
	assert_non_null(strstr(ib.last, rr_want));
	uv_mutex_unlock(&ib.lock);

	unreg(reg);
	sipcx_registrar_free(r);
	sipcx_ua_free(alice);
	sipcx_ua_free(bob);
	sipcx_ua_free(srv);
	uv_mutex_destroy(&ib.lock);
	uv_cond_destroy(&ib.cond);
	rec_fini(&rr);
	rec_fini(&rb);
}

/* ---- contexts and the phone ---- */

static void *cancel_later(void *arg)
{
	struct sipcx_ctx *ctx = arg;
	/*
	 * Not a synchronisation: the cancel may land before or during the
	 * blocking call under test, and either way that call must end with
	 * -ECANCELED. The delay only makes "during" the likely case.
	 */
	usleep(50000);
	sipcx_ctx_cancel(ctx);
	return NULL;
}

static void test_ctx(void **state)
{
	(void)state;
	struct sipcx_ctx *root = NULL, *child = NULL;
	assert_int_equal(sipcx_ctx_new(&root, NULL, 0), 0);
	assert_int_equal(sipcx_ctx_new(&child, root, 0), 0);
	assert_int_equal(sipcx_ctx_err(root), 0);
	assert_int_equal(sipcx_ctx_deadline_us(child), UINT64_MAX);
	assert_int_equal(sipcx_ctx_err(NULL), 0);
	assert_int_equal(sipcx_ctx_wait(NULL), -EINVAL);
	/* Cancelling the parent ends the child's wait. */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, cancel_later, root), 0);
	assert_int_equal(sipcx_ctx_wait(child), -ECANCELED);
	pthread_join(t, NULL);
	assert_int_equal(sipcx_ctx_err(child), -ECANCELED);
	assert_int_equal(sipcx_ctx_err(root), -ECANCELED);
	sipcx_ctx_cancel(root); /* idempotent */
	sipcx_ctx_free(child);
	sipcx_ctx_free(root);

	/* A deadline: the earliest of the chain. */
	struct sipcx_ctx *d = sipcx_ctx_timeout(NULL, 30);
	assert_non_null(d);
	struct sipcx_ctx *late = sipcx_ctx_timeout(d, 60000);
	assert_non_null(late);
	assert_true(sipcx_ctx_deadline_us(late) == sipcx_ctx_deadline_us(d));
	uint64_t t0 = sipcx_now_us();
	assert_int_equal(sipcx_ctx_wait(late), -ETIMEDOUT);
	assert_true(sipcx_now_us() - t0 >= 25000u);
	assert_int_equal(sipcx_ctx_err(d), -ETIMEDOUT);
	sipcx_ctx_free(late);
	sipcx_ctx_free(d);
	sipcx_ctx_free(NULL);
	sipcx_ctx_cancel(NULL);
	assert_int_equal(sipcx_ctx_new(NULL, NULL, 0), -EINVAL);
}

static void test_phone_register(void **state)
{
	(void)state;
	struct rec rr;
	rec_init(&rr);
	struct sipcx_ua *srv = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *cli = ua_on("udp:127.0.0.1:0", 5);
	struct sipcx_registrar *r = registrar_on(srv, &rr, 0, 0);
	char ruri[128];
	uri_of(srv, 0, ruri, sizeof(ruri), NULL, NULL);
	struct sipcx_phone *ph = NULL;
	assert_int_equal(sipcx_phone_new(&ph, cli, NULL), 0);

	/* Blocks until the 200: registered when it returns. */
	struct sipcx_reg_opts o = {
		.registrar = ruri, .username = "carol", .password = "carolpw", .expires_s = 90
	};
	struct sipcx_reg *reg = NULL;
	struct sipcx_reg_info in;
	assert_int_equal(sipcx_phone_register(ph, NULL, &o, &reg, &in), 0);
	assert_non_null(reg);
	track(reg, cli);
	assert_int_equal(in.state, SIPCX_REG_REGISTERED);
	assert_int_equal(in.expires_s, 90);
	struct sipcx_registrar_binding b[2];
	size_t n;
	assert_int_equal(sipcx_registrar_bindings(r, "carol", b, 2, &n), 0);
	assert_int_equal(n, 1);
	unreg(reg);
	assert_int_equal(sipcx_registrar_bindings(r, "carol", b, 2, &n), 0);
	assert_int_equal(n, 0);

	/* Wrong password: SIPCX_EAUTH, the status in info, nothing returned. */
	o.password = "nope";
	reg = NULL;
	assert_int_equal(sipcx_phone_register(ph, NULL, &o, &reg, &in), SIPCX_EAUTH);
	assert_null(reg);
	assert_int_equal(in.status, 401);
	assert_int_equal(in.registers, 2);

	/* A registrar that never answers, retried: the context's deadline ends the wait. */
	struct sipcx_ua *gone = ua_on("udp:127.0.0.1:0", 0);
	char dead[128];
	uri_of(gone, 0, dead, sizeof(dead), NULL, NULL);
	sipcx_ua_free(gone);
	o = (struct sipcx_reg_opts){ .registrar = dead,
		                     .flags = SIPCX_REG_RETRY_FIRST,
		                     .retry_min_ms = 50,
		                     .unregister_timeout_ms = 200 };
	struct sipcx_ctx *ctx = sipcx_ctx_timeout(NULL, 300);
	assert_int_equal(sipcx_phone_register(ph, ctx, &o, &reg, &in), -ETIMEDOUT);
	assert_null(reg);
	sipcx_ctx_free(ctx);

	/* Cancelled from another thread. */
	assert_int_equal(sipcx_ctx_new(&ctx, NULL, 0), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, cancel_later, ctx), 0);
	assert_int_equal(sipcx_phone_register(ph, ctx, &o, &reg, &in), -ECANCELED);
	pthread_join(t, NULL);
	assert_null(reg);
	/* Already done: returns at once without sending anything. */
	assert_int_equal(sipcx_phone_register(ph, ctx, &o, &reg, NULL), -ECANCELED);
	sipcx_ctx_free(ctx);

	assert_int_equal(sipcx_phone_register(NULL, NULL, &o, &reg, NULL), -EINVAL);
	o.registrar = "mailto:x@y";
	assert_int_equal(sipcx_phone_register(ph, NULL, &o, &reg, NULL), -EINVAL);
	sipcx_phone_free(ph);
	sipcx_registrar_free(r);
	sipcx_ua_free(cli);
	sipcx_ua_free(srv);
	rec_fini(&rr);
}

static void test_bad_args(void **state)
{
	(void)state;
	struct sipcx_ua *ua = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_reg *reg = (struct sipcx_reg *)&reg;
	struct sipcx_reg_opts o = { .registrar = NULL };
	assert_int_equal(sipcx_reg_new(&reg, ua, &o), -EINVAL);
	o.registrar = "sip:127.0.0.1:5060";
	o.password = "pw"; /* a password without username */
	assert_int_equal(sipcx_reg_new(&reg, ua, &o), -EINVAL);
	o.password = NULL;
	o.username = "al\r\nice";
	assert_int_equal(sipcx_reg_new(&reg, ua, &o), -EINVAL);
	o.username = "alice";
	o.registrar = "sips:127.0.0.1";
	assert_int_equal(sipcx_reg_new(&reg, ua, &o), -EPROTONOSUPPORT);
	o.registrar = "sip:127.0.0.1;transport=tcp"; /* the UA has no TCP */
	assert_int_equal(sipcx_reg_new(&reg, ua, &o), -EPROTONOSUPPORT);
	o.registrar = "sip:127.0.0.1";
	o.aor = "not a uri";
	assert_int_equal(sipcx_reg_new(&reg, ua, &o), -EINVAL);
	assert_ptr_equal(reg, (struct sipcx_reg *)&reg); /* untouched */
	assert_int_equal(sipcx_reg_info(NULL, NULL), -EINVAL);
	sipcx_reg_free(NULL);
	assert_string_equal(sipcx_reg_state_name(SIPCX_REG_FAILING), "failing");
	assert_string_equal(sipcx_reg_state_name((enum sipcx_reg_state)42), "");

	struct sipcx_registrar *r = NULL;
	struct sipcx_registrar_user bad[] = { { "a@b", "x" } };
	struct sipcx_registrar_opts ro = { .users = bad, .nusers = 1 };
	assert_int_equal(sipcx_registrar_new(&r, ua, &ro), -EINVAL);
	ro = (struct sipcx_registrar_opts){ .min_expires_s = 100, .max_expires_s = 10 };
	assert_int_equal(sipcx_registrar_new(&r, ua, &ro), -EINVAL);
	assert_int_equal(sipcx_registrar_new(&r, ua, NULL), 0);
	struct sipcx_registrar *r2 = NULL;
	assert_int_equal(sipcx_registrar_new(&r2, ua, NULL), -EEXIST);
	sipcx_registrar_free(r);
	sipcx_registrar_free(NULL);
	sipcx_ua_free(ua);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_401_then_200_and_unregister),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_423_min_expires),
		cmocka_unit_test(test_refresh_at_half_granted),
		cmocka_unit_test(test_nat_contact_rewrite),
		cmocka_unit_test(test_backoff_retry_after_recovery),
		cmocka_unit_test(test_provisional_and_granted_expiry),
		cmocka_unit_test(test_407_on_register),
		cmocka_unit_test(test_first_failure_and_retry_first),
		cmocka_unit_test(test_unregister_all_and_star_rules),
		cmocka_unit_test(test_proxy_routes_to_binding),
		cmocka_unit_test(test_proxy_wildcard_listener),
		cmocka_unit_test(test_ctx),
		cmocka_unit_test(test_phone_register),
		cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
