/* Unit tests of calls in-process: two UAs on loopback dial and answer each other (INVITE, 180, 200, ACK, RTP, BYE, CANCEL, rejections, late offer, forks of the API). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "testutil.h"
#include <sipcx/call.h>
#include <sipcx/phone.h>
#include <sipcx/reg.h>
#include <sipcx/ua.h>

#define WAIT_MS 10000

static struct sipcx_ua *ua_on(const char *listen)
{
	struct sipcx_ua *ua = NULL;
	struct sipcx_ua_opts o = { .listen = listen, .t1_ms = 100 };
	assert_int_equal(sipcx_ua_new(&ua, &o), 0);
	return ua;
}

static void uri_of(struct sipcx_ua *ua, const char *user, char *out, size_t n)
{
	struct sipcx_tp_addr a;
	char hp[SIPCX_ADDRSTRLEN];
	assert_int_equal(sipcx_ua_bound(ua, 0, &a), 0);
	assert_true(sipcx_sa_print(&a.sa.sa, hp, sizeof(hp)) > 0);
	snprintf(out, n, "sip:%s@%s", user, hp);
}

/* Events seen on the loop thread, counted by type (bounded waits on the test thread). */
struct seen {
	uv_mutex_t lock;
	uv_cond_t cond;
	int n[16];               /* by event type */
	struct sipcx_call *last; /* the last call seen (a reference) */
};

static void seen_init(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	uv_mutex_init(&s->lock);
	uv_cond_init(&s->cond);
}

static void seen_fini(struct seen *s)
{
	sipcx_call_unref(s->last);
	uv_mutex_destroy(&s->lock);
	uv_cond_destroy(&s->cond);
}

static void on_event(struct sipcx_call *call, const struct sipcx_call_event *ev, void *arg)
{
	struct seen *s = arg;
	uv_mutex_lock(&s->lock);
	s->n[ev->type]++;
	if (s->last != call) {
		sipcx_call_unref(s->last);
		s->last = sipcx_call_ref(call);
	}
	uv_cond_broadcast(&s->cond);
	uv_mutex_unlock(&s->lock);
}

static bool wait_seen(struct seen *s, enum sipcx_call_event_type t, int want)
{
	uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
	uv_mutex_lock(&s->lock);
	while (s->n[t] < want) {
		uint64_t now = uv_hrtime();
		if (now >= deadline)
			break;
		uv_cond_timedwait(&s->cond, &s->lock, deadline - now);
	}
	bool ok = s->n[t] >= want;
	uv_mutex_unlock(&s->lock);
	return ok;
}

static struct sipcx_call *last_call(struct seen *s)
{
	uv_mutex_lock(&s->lock);
	struct sipcx_call *c = sipcx_call_ref(s->last);
	uv_mutex_unlock(&s->lock);
	return c;
}

/* Two UAs on loopback: a answers with ao (its events in sa), b dials through a phone (sb). */
struct pair {
	struct sipcx_ua *a, *b;
	struct seen sa, sb;
	struct sipcx_phone *pb;
	char uri[128]; /* a's */
};

static void pair_up(struct pair *p, struct sipcx_answer_opts *ao)
{
	p->a = ua_on("udp:127.0.0.1:0");
	p->b = ua_on("udp:127.0.0.1:0");
	seen_init(&p->sa);
	seen_init(&p->sb);
	ao->cb = on_event;
	ao->arg = &p->sa;
	assert_int_equal(sipcx_call_listen(p->a, ao), 0);
	p->pb = NULL;
	assert_int_equal(sipcx_phone_new(&p->pb, p->b, NULL), 0);
	uri_of(p->a, "alice", p->uri, sizeof(p->uri));
}

static void pair_down(struct pair *p)
{
	sipcx_phone_free(p->pb);
	sipcx_ua_free(p->b);
	sipcx_ua_free(p->a);
	seen_fini(&p->sa);
	seen_fini(&p->sb);
}

/* b dials a with ext (silence sent); the outcome's info in *info, the call (NULL: none). */
static struct sipcx_call *pair_dial(struct pair *p, const struct sipcx_call_ext *ext,
                                    struct sipcx_call_info *info)
{
	struct sipcx_dial_opts dopts = {
		.media = { .handler = SIPCX_MEDIA_SILENCE, .local_addr = "127.0.0.1" },
		.ext = *ext,
		.cb = on_event,
		.arg = &p->sb,
		.info = info,
	};
	struct sipcx_call *call = NULL;
	struct sipcx_ctx *ctx = sipcx_ctx_timeout(NULL, WAIT_MS);
	sipcx_phone_dial(p->pb, ctx, p->uri, &dopts, &call);
	sipcx_ctx_free(ctx);
	return call;
}

/* A full call: 180 for a ring time, 200, ACK, RTP both ways through an echo, BYE from the caller. */
static void test_call_echo_and_bye(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0");
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0");
	struct seen sa, sb;
	seen_init(&sa);
	seen_init(&sb);
	struct sipcx_answer_opts ao = {
		.ringtime_ms = 100,
		.media = { .handler = SIPCX_MEDIA_ECHO, .local_addr = "127.0.0.1" },
		.cb = on_event,
		.arg = &sa,
	};
	assert_int_equal(sipcx_call_listen(a, &ao), 0);
	struct sipcx_phone *pb = NULL;
	assert_int_equal(sipcx_phone_new(&pb, b, NULL), 0);
	char uri[128];
	uri_of(a, "alice", uri, sizeof(uri));
	struct sipcx_call_info info;
	struct sipcx_dial_opts dopts = {
		.media = { .io_queue = 32, .local_addr = "127.0.0.1" },
		.cb = on_event,
		.arg = &sb,
		.info = &info,
	};
	struct sipcx_call *call = NULL;
	struct sipcx_ctx *ctx = sipcx_ctx_timeout(NULL, WAIT_MS);
	assert_int_equal(sipcx_phone_dial(pb, ctx, uri, &dopts, &call), 0);
	sipcx_ctx_free(ctx);
	assert_non_null(call);
	assert_int_equal(info.state, SIPCX_CALL_ESTABLISHED);
	assert_int_equal(info.status, 200);
	assert_true(info.outgoing);
	assert_string_equal(info.codec, "PCMU");
	assert_int_equal(info.pt, 0);
	assert_true(info.ringing_us > 0 && info.answered_us >= info.ringing_us);
	/* The ring time: the 200 cannot leave before the INVITE was sent and 100 ms went by.
	 * (Measured from the start: when the 180 is read depends on the scheduler.) */
	assert_true(info.answered_us - info.start_us >= 99000); /* timers have ms grain */
	assert_true(wait_seen(&sb, SIPCX_CALL_EV_RINGING, 1));
	assert_true(wait_seen(&sa, SIPCX_CALL_EV_ESTABLISHED, 1));
	/* RTP through the echo: what we write comes back. */
	uint8_t pkt[12 + 160], back[1500];
	struct sipcx_rtp_pkt p = { .pt = 0,
		                   .seq = 1,
		                   .ts = 160,
		                   .ssrc = 0x1234,
		                   .payload = pkt + 12,
		                   .payload_len = 160 };
	memset(pkt + 12, 0x5a, 160);
	assert_int_equal(sipcx_rtp_build(&p, pkt, sizeof(pkt)), (int)sizeof(pkt));
	for (int i = 0; i < 5; i++) {
		/* each its own sequence number: SRTP (on by default) drops a repeated index */
		p.seq = (uint16_t)(1 + i);
		assert_int_equal(sipcx_rtp_build(&p, pkt, sizeof(pkt)), (int)sizeof(pkt));
		assert_int_equal(sipcx_call_write_rtp(call, pkt, sizeof(pkt), 1000), 0);
	}
	for (int i = 0; i < 5; i++)
		assert_int_equal(sipcx_call_read_rtp(call, back, sizeof(back), 5000),
		                 (int)sizeof(pkt));
	assert_memory_equal(back + 12, pkt + 12, 160);
	struct sipcx_media_stats st;
	assert_int_equal(sipcx_call_stats(call, &st), 0);
	assert_int_equal(st.rx_packets, 5);
	/* The callee's side. */
	struct sipcx_call *in = last_call(&sa);
	struct sipcx_call_info ii;
	sipcx_call_info(in, &ii);
	assert_false(ii.outgoing);
	assert_int_equal(ii.state, SIPCX_CALL_ESTABLISHED);
	assert_string_equal(ii.call_id, info.call_id);
	assert_string_equal(ii.local_tag, info.remote_tag);
	assert_string_equal(ii.remote_tag, info.local_tag);
	/* Hang up: BYE, 200; both sides end and say who ended it. */
	assert_int_equal(sipcx_call_hangup(call, "test over"), 0);
	sipcx_call_info(call, &info);
	assert_int_equal(info.state, SIPCX_CALL_ENDED);
	assert_int_equal(info.ended_by, SIPCX_CALL_END_LOCAL);
	assert_true(wait_seen(&sa, SIPCX_CALL_EV_ENDED, 1));
	sipcx_call_info(in, &ii);
	assert_int_equal(ii.ended_by, SIPCX_CALL_END_REMOTE);
	assert_non_null(strstr(ii.end_reason, "test over"));
	assert_int_equal(sipcx_call_hangup(call, NULL), 0); /* over already */
	assert_int_equal(sipcx_call_read_rtp(call, back, sizeof(back), 0), -ECANCELED);
	sipcx_call_unref(in);
	sipcx_call_free(call);
	sipcx_phone_free(pb);
	sipcx_ua_free(b);
	sipcx_ua_free(a);
	seen_fini(&sa);
	seen_fini(&sb);
}

/* DTMF both ways: RFC 4733 events and SIP INFO, seen as events and in the info, in order. */
static void test_dtmf(void **state)
{
	(void)state;
	struct sipcx_answer_opts ao = {
		.media = { .local_addr = "127.0.0.1" },
	};
	struct pair p;
	pair_up(&p, &ao);
	struct sipcx_dial_opts dopts = {
		.media = { .handler = SIPCX_MEDIA_SILENCE, .local_addr = "127.0.0.1" },
		.cb = on_event,
		.arg = &p.sb,
	};
	struct sipcx_call *call = NULL;
	struct sipcx_ctx *ctx = sipcx_ctx_timeout(NULL, WAIT_MS);
	assert_int_equal(sipcx_phone_dial(p.pb, ctx, p.uri, &dopts, &call), 0);
	sipcx_ctx_free(ctx);
	assert_true(wait_seen(&p.sa, SIPCX_CALL_EV_ESTABLISHED, 1));

	assert_int_equal(sipcx_call_send_dtmf(call, "1x", SIPCX_DTMF_RFC4733, NULL), -EINVAL);
	assert_int_equal(sipcx_call_send_dtmf(call, "1", 7, NULL), -EINVAL);
	struct sipcx_dtmf_opts o = { .duration_ms = 40, .gap_ms = 40 };
	assert_int_equal(sipcx_call_send_dtmf(call, "12", SIPCX_DTMF_RFC4733, &o), 0);
	assert_true(wait_seen(&p.sa, SIPCX_CALL_EV_DTMF, 2));
	assert_int_equal(sipcx_call_send_dtmf(call, "#", SIPCX_DTMF_INFO, &o), 0);
	assert_true(wait_seen(&p.sa, SIPCX_CALL_EV_DTMF, 3));
	struct sipcx_call *in = last_call(&p.sa);
	struct sipcx_call_info ii, info;
	sipcx_call_info(in, &ii);
	assert_string_equal(ii.dtmf_rx, "12#");
	/* and back, by INFO from the answering side */
	assert_int_equal(sipcx_call_send_dtmf(in, "5", SIPCX_DTMF_INFO, NULL), 0);
	assert_true(wait_seen(&p.sb, SIPCX_CALL_EV_DTMF, 1));
	sipcx_call_info(call, &info);
	assert_string_equal(info.dtmf_rx, "5");

	assert_int_equal(sipcx_call_hangup(call, NULL), 0);
	assert_true(wait_seen(&p.sa, SIPCX_CALL_EV_ENDED, 1));
	assert_int_equal(sipcx_call_send_dtmf(call, "1", SIPCX_DTMF_INFO, NULL), -ENOTCONN);
	sipcx_call_unref(in);
	sipcx_call_free(call);
	pair_down(&p);
}

/* Hold and resume by re-INVITE: both sides see it, the answer is taken, errors are clear. */
static void test_hold(void **state)
{
	(void)state;
	struct sipcx_answer_opts ao = {
		.media = { .handler = SIPCX_MEDIA_ECHO, .local_addr = "127.0.0.1" },
	};
	struct pair p;
	pair_up(&p, &ao);
	struct sipcx_dial_opts dopts = {
		.media = { .handler = SIPCX_MEDIA_SILENCE, .local_addr = "127.0.0.1" },
		.cb = on_event,
		.arg = &p.sb,
	};
	struct sipcx_call *call = NULL;
	struct sipcx_ctx *ctx = sipcx_ctx_timeout(NULL, WAIT_MS);
	assert_int_equal(sipcx_phone_dial(p.pb, ctx, p.uri, &dopts, &call), 0);
	sipcx_ctx_free(ctx);
	assert_true(wait_seen(&p.sa, SIPCX_CALL_EV_ESTABLISHED, 1));
	assert_int_equal(sipcx_call_hold(NULL, true, false), -EINVAL);

	assert_int_equal(sipcx_call_hold(call, true, false), 0);
	assert_true(wait_seen(&p.sb, SIPCX_CALL_EV_MEDIA, 1));
	assert_true(wait_seen(&p.sa, SIPCX_CALL_EV_MEDIA, 1));
	struct sipcx_call *in = last_call(&p.sa);
	struct sipcx_call_info info, ii;
	sipcx_call_info(call, &info);
	sipcx_call_info(in, &ii);
	assert_true(info.local_hold);
	assert_false(info.remote_hold); /* their answer is recvonly: we are not held */
	assert_true(ii.remote_hold);
	assert_int_equal(info.reinvites, 1);

	assert_int_equal(sipcx_call_hold(call, false, false), 0);
	assert_true(wait_seen(&p.sb, SIPCX_CALL_EV_MEDIA, 2));
	assert_true(wait_seen(&p.sa, SIPCX_CALL_EV_MEDIA, 2));
	sipcx_call_info(call, &info);
	sipcx_call_info(in, &ii);
	assert_false(info.local_hold);
	assert_false(ii.remote_hold);

	assert_int_equal(sipcx_call_hangup(call, NULL), 0);
	assert_int_equal(sipcx_call_hold(call, true, false), -ENOTCONN);
	sipcx_call_unref(in);
	sipcx_call_free(call);
	pair_down(&p);
}

/* Poll a call's snapshot until ok(info) (nothing is told for a refresh or a PRACK). */
static bool wait_info(struct sipcx_call *c, bool (*ok)(const struct sipcx_call_info *))
{
	struct sipcx_call_info in;
	for (int i = 0; i < WAIT_MS / 20; i++) {
		sipcx_call_info(c, &in);
		if (ok(&in))
			return true;
		uv_sleep(20);
	}
	return false;
}

static bool refreshed_twice(const struct sipcx_call_info *in)
{
	return in->refreshes >= 2;
}

/* RFC 3262: a reliable 183 with SDP, PRACKed, then the 2xx; 420 and 421 as configured. */
static void test_100rel(void **state)
{
	(void)state;
	struct sipcx_answer_opts ao = {
		.ringtime_ms = 300,
		.early_media = true,
		.media = { .handler = SIPCX_MEDIA_ECHO, .local_addr = "127.0.0.1" },
		.ext = { .rel100 = SIPCX_100REL_REQUIRED },
	};
	struct pair p;
	pair_up(&p, &ao);
	struct sipcx_call_info info, ii;
	struct sipcx_call_ext ext = { 0 }; /* 100rel supported */
	struct sipcx_call *call = pair_dial(&p, &ext, &info);
	assert_non_null(call);
	assert_int_equal(info.state, SIPCX_CALL_ESTABLISHED);
	assert_true(info.early_media);
	assert_int_equal(info.pracks, 1);
	assert_true(wait_seen(&p.sa, SIPCX_CALL_EV_ESTABLISHED, 1));
	struct sipcx_call *in = last_call(&p.sa);
	sipcx_call_info(in, &ii);
	assert_int_equal(ii.pracks, 1);
	/* an UPDATE with an offer in the call (RFC 3311) */
	assert_int_equal(sipcx_call_update(call, true), 0);
	assert_true(wait_seen(&p.sb, SIPCX_CALL_EV_MEDIA, 1));
	assert_true(wait_seen(&p.sa, SIPCX_CALL_EV_MEDIA, 1));
	sipcx_call_info(call, &info);
	assert_int_equal(info.reinvites, 1);
	assert_int_equal(sipcx_call_hangup(call, NULL), 0);
	assert_int_equal(sipcx_call_update(call, false), -ENOTCONN);
	sipcx_call_unref(in);
	sipcx_call_free(call);

	/* a callee without 100rel refuses Require: 100rel with 420 */
	ao.ext.rel100 = SIPCX_100REL_OFF;
	assert_int_equal(sipcx_call_listen(p.a, &ao), 0);
	ext.rel100 = SIPCX_100REL_REQUIRED;
	sipcx_call_free(pair_dial(&p, &ext, &info));
	assert_int_equal(info.status, 420);
	/* one that requires it refuses a caller without it with 421 */
	ao.ext.rel100 = SIPCX_100REL_REQUIRED;
	assert_int_equal(sipcx_call_listen(p.a, &ao), 0);
	ext.rel100 = SIPCX_100REL_OFF;
	sipcx_call_free(pair_dial(&p, &ext, &info));
	assert_int_equal(info.status, 421);

	pair_down(&p);
}

/* RFC 4028: 422 and a retry with the larger Min-SE, refreshes by UPDATE (the caller's) and by
 * re-INVITE (the callee's), at half the interval. */
static void test_session_timer(void **state)
{
	(void)state;
	struct sipcx_answer_opts ao = {
		.media = { .handler = SIPCX_MEDIA_ECHO, .local_addr = "127.0.0.1" },
		.ext = { .min_se = 3 },
	};
	struct pair p;
	pair_up(&p, &ao);
	struct sipcx_call_info info, ii;
	struct sipcx_call_ext ext = { .session_expires = 2,
		                      .min_se = 1,
		                      .refresher = SIPCX_REFRESHER_UAC,
		                      .refresh_method = SIPCX_REFRESH_UPDATE };
	struct sipcx_call *call = pair_dial(&p, &ext, &info);
	assert_non_null(call);
	assert_int_equal(info.state, SIPCX_CALL_ESTABLISHED);
	assert_int_equal(info.session_expires, 3); /* 2 got 422 with Min-SE 3 */
	assert_true(info.refresher);
	assert_true(wait_seen(&p.sa, SIPCX_CALL_EV_ESTABLISHED, 1));
	struct sipcx_call *in = last_call(&p.sa);
	assert_true(wait_info(call, refreshed_twice));
	assert_true(wait_info(in, refreshed_twice));
	sipcx_call_info(in, &ii);
	assert_int_equal(ii.session_expires, 3);
	assert_false(ii.refresher);
	assert_int_equal(ii.state, SIPCX_CALL_ESTABLISHED);
	assert_int_equal(sipcx_call_hangup(call, NULL), 0);
	sipcx_call_unref(in);
	sipcx_call_free(call);

	/* the callee refreshes, by re-INVITE */
	ao.ext.min_se = 1;
	assert_int_equal(sipcx_call_listen(p.a, &ao), 0);
	ext.refresher = SIPCX_REFRESHER_UAS;
	call = pair_dial(&p, &ext, &info);
	assert_non_null(call);
	assert_int_equal(info.session_expires, 2);
	assert_false(info.refresher);
	assert_true(wait_seen(&p.sa, SIPCX_CALL_EV_ESTABLISHED, 2));
	in = last_call(&p.sa);
	assert_true(wait_info(in, refreshed_twice));
	assert_true(wait_info(call, refreshed_twice));
	sipcx_call_info(in, &ii);
	assert_true(ii.refresher);
	assert_int_equal(ii.reinvites, 0); /* refreshes are not media changes */
	assert_int_equal(sipcx_call_hangup(call, NULL), 0);
	sipcx_call_unref(in);
	sipcx_call_free(call);

	pair_down(&p);
}

/* The callee hangs up; rejections come back as a status; a ring timeout sends CANCEL. */
static void test_reject_cancel_remote_bye(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0");
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0");
	struct sipcx_phone *pa = NULL, *pb = NULL;
	assert_int_equal(sipcx_phone_new(&pa, a, NULL), 0);
	assert_int_equal(sipcx_phone_new(&pb, b, NULL), 0);
	char uri[128];
	uri_of(a, "alice", uri, sizeof(uri));
	struct sipcx_call_info info;
	struct sipcx_dial_opts d = { .media = { .local_addr = "127.0.0.1" }, .info = &info };
	struct sipcx_call *call = NULL;

	/* Nobody listens: 405 from the UA. */
	assert_int_equal(sipcx_phone_dial(pb, NULL, uri, &d, &call), SIPCX_ESTATUS);
	assert_int_equal(info.status, 405);
	assert_int_equal(info.ended_by, SIPCX_CALL_END_REMOTE);

	/* Busy. */
	struct sipcx_answer_opts busy = { .answer_code = 486 };
	assert_int_equal(sipcx_call_listen(a, &busy), 0);
	assert_int_equal(sipcx_phone_dial(pb, NULL, uri, &d, &call), SIPCX_ESTATUS);
	assert_int_equal(info.status, 486);

	/* Ringing forever: the ring timeout cancels (CANCEL, 200, 487). */
	struct seen sa;
	seen_init(&sa);
	struct sipcx_answer_opts ring = { .ringtime_ms = 60000, .cb = on_event, .arg = &sa };
	assert_int_equal(sipcx_call_listen(a, &ring), 0);
	d.ring_timeout_ms = 200;
	uint64_t t0 = sipcx_now_us();
	assert_int_equal(sipcx_phone_dial(pb, NULL, uri, &d, &call), -ETIMEDOUT);
	assert_int_equal(info.status, 487);
	assert_int_equal(info.ended_by, SIPCX_CALL_END_LOCAL);
	assert_true(sipcx_now_us() - t0 < 5000000u);
	assert_true(wait_seen(&sa, SIPCX_CALL_EV_ENDED, 1));
	struct sipcx_call *in = last_call(&sa);
	struct sipcx_call_info ii;
	sipcx_call_info(in, &ii);
	assert_int_equal(ii.status, 487);
	assert_int_equal(ii.ended_by, SIPCX_CALL_END_REMOTE);
	sipcx_call_unref(in);

	/* The caller's context ends while ringing: CANCEL, -ETIMEDOUT at once. */
	d.ring_timeout_ms = 0;
	struct sipcx_ctx *ctx = sipcx_ctx_timeout(NULL, 300);
	assert_int_equal(sipcx_phone_dial(pb, ctx, uri, &d, &call), -ETIMEDOUT);
	sipcx_ctx_free(ctx);
	assert_true(wait_seen(&sa, SIPCX_CALL_EV_ENDED, 2));

	/* Answered at once; the callee hangs up. */
	struct sipcx_answer_opts now = { .cb = on_event, .arg = &sa };
	assert_int_equal(sipcx_call_listen(a, &now), 0);
	assert_int_equal(sipcx_phone_dial(pb, NULL, uri, &d, &call), 0);
	assert_true(wait_seen(&sa, SIPCX_CALL_EV_ESTABLISHED, 1));
	in = last_call(&sa);
	assert_int_equal(sipcx_call_hangup(in, NULL), 0);
	assert_int_equal(sipcx_call_wait(call, NULL), 0);
	sipcx_call_info(call, &info);
	assert_int_equal(info.ended_by, SIPCX_CALL_END_REMOTE);
	sipcx_call_unref(in);
	sipcx_call_free(call);

	sipcx_phone_free(pa);
	sipcx_phone_free(pb);
	sipcx_ua_free(b);
	sipcx_ua_free(a);
	seen_fini(&sa);
}

/* Late offer both ways, and the blocking answer on another thread. */
struct answerer {
	struct sipcx_phone *phone;
	struct sipcx_answer_opts opts;
	struct sipcx_call *call;
	int r;
};

static void *answer_main(void *arg)
{
	struct answerer *an = arg;
	struct sipcx_ctx *ctx = sipcx_ctx_timeout(NULL, WAIT_MS);
	an->r = sipcx_phone_answer(an->phone, ctx, &an->opts, &an->call);
	sipcx_ctx_free(ctx);
	return NULL;
}

static void test_late_offer_and_phone_answer(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0");
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0");
	struct answerer an = { .opts = { .ringtime_ms = 50,
		                         .media = { .handler = SIPCX_MEDIA_ECHO } } };
	assert_int_equal(sipcx_phone_new(&an.phone, a, NULL), 0);
	/* Ready before anyone dials: the answering is set up, calls are kept for the waiter. */
	assert_int_equal(sipcx_phone_listen(an.phone, NULL, &an.opts), 0);
	assert_int_equal(sipcx_phone_listen(an.phone, NULL, NULL), 0); /* again: nothing to do */
	struct sipcx_ctx *brief = sipcx_ctx_timeout(NULL, 1);
	struct sipcx_call *none = NULL;
	assert_int_equal(sipcx_phone_answer(an.phone, brief, NULL, &none), -ETIMEDOUT);
	assert_null(none);
	sipcx_ctx_free(brief);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, answer_main, &an), 0);
	struct sipcx_phone *pb = NULL;
	assert_int_equal(sipcx_phone_new(&pb, b, NULL), 0);
	char uri[128];
	uri_of(a, "alice", uri, sizeof(uri));
	struct sipcx_call_info info;
	struct sipcx_dial_opts d = { .late_offer = true, .info = &info };
	struct sipcx_call *call = NULL;
	/* Listening already: whether the thread waits yet or not, the call is kept for it. */
	int r = sipcx_phone_dial(pb, NULL, uri, &d, &call);
	assert_int_equal(r, 0);
	assert_string_equal(info.codec, "PCMU");
	pthread_join(t, NULL);
	assert_int_equal(an.r, 0);
	struct sipcx_call_info ii;
	sipcx_call_info(an.call, &ii);
	assert_int_equal(ii.state, SIPCX_CALL_ESTABLISHED);
	assert_string_equal(ii.codec, "PCMU");
	assert_string_equal(ii.call_id, info.call_id);
	assert_int_equal(sipcx_call_hangup(call, NULL), 0);
	assert_int_equal(sipcx_call_wait(an.call, NULL), 0);
	sipcx_call_free(an.call);
	sipcx_call_free(call);
	assert_int_equal(sipcx_phone_close(an.phone, NULL), 0);
	sipcx_phone_free(an.phone);
	sipcx_phone_free(pb);
	sipcx_ua_free(b);
	sipcx_ua_free(a);
}

/* max_calls: the next INVITE gets 486 (calls_busy); an unknown dialog gets 481; the UA closing ends calls. */
static void test_limits_and_close(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0");
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0");
	struct sipcx_phone *pb = NULL;
	assert_int_equal(sipcx_phone_new(&pb, b, NULL), 0);
	struct sipcx_answer_opts one = { .max_calls = 1 };
	assert_int_equal(sipcx_call_listen(a, &one), 0);
	char uri[128];
	uri_of(a, "alice", uri, sizeof(uri));
	struct sipcx_call_info info;
	struct sipcx_dial_opts d = { .info = &info };
	struct sipcx_call *c1 = NULL, *c2 = NULL;
	assert_int_equal(sipcx_phone_dial(pb, NULL, uri, &d, &c1), 0);
	assert_int_equal(sipcx_phone_dial(pb, NULL, uri, &d, &c2), SIPCX_ESTATUS);
	assert_int_equal(info.status, 486);
	struct sipcx_ua_stats st;
	sipcx_ua_stats(a, &st); /* counted there, no call made */
	assert_int_equal(st.calls_busy, 1);
	/* A BYE for a dialog nobody has. */
	struct sipcx_phone_response res = { 0 };
	struct sipcx_ua_req_opts bye = { .method = "BYE",
		                         .uri = uri,
		                         .to = "<sip:alice@127.0.0.1>;tag=nosuch" };
	assert_int_equal(sipcx_phone_request(pb, NULL, &bye, &res), 0);
	assert_int_equal(res.status, 481);
	/* The callee's UA goes: its call ends (nothing sent); ours stays up until we hang up. */
	sipcx_ua_free(a);
	assert_int_equal(sipcx_call_hangup(c1, NULL), 0);
	sipcx_call_info(c1, &info);
	assert_int_equal(info.state, SIPCX_CALL_ENDED);
	sipcx_call_free(c1);
	/* Bad arguments. */
	assert_int_equal(sipcx_phone_dial(pb, NULL, "mailto:x", NULL, &c2), -EINVAL);
	assert_int_equal(sipcx_phone_dial(pb, NULL, "sips:x@127.0.0.1", NULL, &c2),
	                 -EPROTONOSUPPORT);
	assert_int_equal(sipcx_call_dial(b, NULL, NULL, &c2), -EINVAL);
	assert_int_equal(sipcx_call_listen(b, &(struct sipcx_answer_opts){ .answer_code = 150 }),
	                 -EINVAL);
	/* A call still up when its UA is freed ends with SIPCX_ECLOSED. */
	struct sipcx_ua *c = ua_on("udp:127.0.0.1:0");
	assert_int_equal(sipcx_call_listen(c, &(struct sipcx_answer_opts){ 0 }), 0);
	uri_of(c, "carol", uri, sizeof(uri));
	assert_int_equal(sipcx_phone_dial(pb, NULL, uri, &d, &c2), 0);
	sipcx_phone_free(pb);
	sipcx_ua_free(b);
	sipcx_call_info(c2, &info);
	assert_int_equal(info.state, SIPCX_CALL_ENDED);
	assert_int_equal(info.err, SIPCX_ECLOSED);
	sipcx_call_free(c2);
	sipcx_ua_free(c);
}

/* ua answers every call (ringing ringtime_ms first), its events counted in s. */
static void listen_seen(struct sipcx_ua *ua, struct seen *s, uint32_t ringtime_ms)
{
	seen_init(s);
	struct sipcx_answer_opts o = { .ringtime_ms = ringtime_ms,
		                       .media = { .local_addr = "127.0.0.1" },
		                       .cb = on_event,
		                       .arg = s };
	assert_int_equal(sipcx_call_listen(ua, &o), 0);
}

/* Transfers with the blocking call: blind (REFER), then attended (REFER with Replaces). */
static void test_transfers(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0"); /* the transferor */
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0"); /* the transferee */
	struct sipcx_ua *c = ua_on("udp:127.0.0.1:0"); /* the target */
	struct seen sb, sc;
	listen_seen(b, &sb, 0);
	listen_seen(c, &sc, 50);
	struct sipcx_phone *pa = NULL;
	assert_int_equal(sipcx_phone_new(&pa, a, NULL), 0);
	char ub[128], uc[128];
	uri_of(b, "bob", ub, sizeof(ub));
	uri_of(c, "carol", uc, sizeof(uc));
	struct sipcx_dial_opts d = { .media = { .local_addr = "127.0.0.1" } };

	/* Blind: A-B, then B is sent to C; A's call ends once C answered B. */
	struct sipcx_call *ab = NULL, *ac = NULL;
	assert_int_equal(sipcx_phone_dial(pa, NULL, ub, &d, &ab), 0);
	assert_int_equal(sipcx_phone_transfer(ab, NULL, "mailto:x", NULL), -EINVAL);
	assert_int_equal(sipcx_phone_transfer(ab, NULL, NULL, ab), -EINVAL);
	assert_int_equal(sipcx_phone_transfer(ab, NULL, uc, NULL), 0);
	struct sipcx_call_info in;
	sipcx_call_info(ab, &in);
	assert_int_equal(in.transfer_result, 200);
	assert_int_equal(sipcx_call_wait(ab, NULL), 0);
	sipcx_call_info(ab, &in);
	assert_int_equal(in.ended_by, SIPCX_CALL_END_LOCAL);
	assert_true(wait_seen(&sc, SIPCX_CALL_EV_ESTABLISHED, 1));
	assert_true(wait_seen(&sb, SIPCX_CALL_EV_TRANSFER, 2)); /* calling, then 200 */
	struct sipcx_call *bold = last_call(&sb), *bc = sipcx_call_transfer(bold);
	assert_non_null(bc);
	sipcx_call_info(bold, &in);
	assert_int_equal(in.transfer_status, 200);
	assert_int_equal(sipcx_call_hangup(bc, NULL), 0);
	sipcx_call_free(bc);
	sipcx_call_unref(bold);
	sipcx_call_free(ab);

	/* Attended: A-B and A-C (the consultation), then B takes the consultation's place. */
	assert_int_equal(sipcx_phone_dial(pa, NULL, ub, &d, &ab), 0);
	assert_int_equal(sipcx_phone_dial(pa, NULL, uc, &d, &ac), 0);
	assert_true(wait_seen(&sc, SIPCX_CALL_EV_ESTABLISHED, 2));
	struct sipcx_call_info ci;
	sipcx_call_info(ac, &ci);
	assert_int_equal(sipcx_phone_transfer(ab, NULL, NULL, ac), 0);
	/* C hangs the consultation up: replaced. */
	assert_int_equal(sipcx_call_wait(ac, NULL), 0);
	sipcx_call_info(ac, &in);
	assert_int_equal(in.ended_by, SIPCX_CALL_END_REMOTE);
	assert_non_null(strstr(in.end_reason, "replaced"));
	assert_int_equal(sipcx_call_wait(ab, NULL), 0);
	assert_true(wait_seen(&sc, SIPCX_CALL_EV_REPLACED, 1));
	assert_true(wait_seen(&sc, SIPCX_CALL_EV_ESTABLISHED, 3));
	/* C's new call names the one it replaced; it rang no more (no ringing event for it). */
	assert_true(wait_seen(&sc, SIPCX_CALL_EV_ENDED, 2)); /* the blind one, the consultation */
	struct sipcx_call *cnew = last_call(&sc);
	sipcx_call_info(cnew, &in);
	if (in.replaced) { /* the consultation's end came last: the new call is its successor */
		struct sipcx_call *succ = sipcx_call_transfer(cnew);
		sipcx_call_unref(cnew);
		cnew = succ;
		sipcx_call_info(cnew, &in);
	}
	assert_string_equal(in.replaces, ci.call_id);
	assert_int_equal(in.state, SIPCX_CALL_ESTABLISHED);
	uv_mutex_lock(&sc.lock);
	assert_int_equal(sc.n[SIPCX_CALL_EV_RINGING], 2); /* the blind call and the consultation */
	uv_mutex_unlock(&sc.lock);
	/* A call that is not up cannot be transferred, nor named. */
	assert_int_equal(sipcx_phone_transfer(ab, NULL, uc, NULL), -ENOTCONN);
	assert_int_equal(sipcx_call_refer_replaces(ab, ac, 0), -ENOTCONN);
	assert_int_equal(sipcx_call_hangup(cnew, NULL), 0);
	sipcx_call_unref(cnew);
	sipcx_call_free(ac);
	sipcx_call_free(ab);
	sipcx_phone_free(pa);
	sipcx_ua_free(c);
	sipcx_ua_free(b);
	sipcx_ua_free(a);
	seen_fini(&sb);
	seen_fini(&sc);
}

/*
 * Attended, with the consultation through a record-routing proxy (the
 * embedded registrar): the Refer-To is the target's address-of-record at
 * the proxy, not its Contact (RFC 5589 7.2), so the transferee's INVITE
 * with Replaces reaches the target through the proxy too.
 */
static void test_transfer_attended_proxied(void **state)
{
	(void)state;
	struct sipcx_ua *p = ua_on("udp:127.0.0.1:0"); /* registrar and proxy */
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0");
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0");
	struct sipcx_ua *c = ua_on("udp:127.0.0.1:0");
	struct sipcx_registrar *reg = NULL;
	assert_int_equal(sipcx_registrar_new(&reg, p, NULL), 0);
	struct seen sb, sc;
	listen_seen(b, &sb, 0);
	listen_seen(c, &sc, 0);
	char pu[128], ub[128], carol[200];
	uri_of(p, "x", pu, sizeof(pu));
	snprintf(pu, sizeof(pu), "%s", strchr(pu, '@') + 1);
	char ruri[200];
	snprintf(ruri, sizeof(ruri), "sip:%s", pu);
	snprintf(carol, sizeof(carol), "sip:carol@%s", pu);
	uri_of(b, "bob", ub, sizeof(ub));
	struct sipcx_phone *pc = NULL, *pa = NULL;
	assert_int_equal(sipcx_phone_new(&pc, c, NULL), 0);
	assert_int_equal(sipcx_phone_new(&pa, a, NULL), 0);
	struct sipcx_reg *rc = NULL;
	struct sipcx_reg_opts ro = { .registrar = ruri, .aor = carol, .expires_s = 60 };
	assert_int_equal(sipcx_phone_register(pc, NULL, &ro, &rc, NULL), 0);

	struct sipcx_dial_opts d = { .media = { .local_addr = "127.0.0.1" } };
	struct sipcx_call *ab = NULL, *ac = NULL;
	assert_int_equal(sipcx_phone_dial(pa, NULL, ub, &d, &ab), 0);
	assert_int_equal(sipcx_phone_dial(pa, NULL, carol, &d, &ac), 0);
	assert_int_equal(sipcx_phone_transfer(ab, NULL, NULL, ac), 0);
	struct sipcx_call_info in;
	sipcx_call_info(ab, &in);
	assert_int_equal(in.transfer_result, 200);
	assert_string_equal(in.transfer_to, carol); /* the AoR at the proxy, not the Contact */
	assert_int_equal(sipcx_call_wait(ac, NULL), 0);
	sipcx_call_info(ac, &in);
	assert_int_equal(in.ended_by, SIPCX_CALL_END_REMOTE);
	assert_non_null(strstr(in.end_reason, "replaced"));
	assert_true(wait_seen(&sc, SIPCX_CALL_EV_REPLACED, 1));
	assert_true(wait_seen(&sb, SIPCX_CALL_EV_TRANSFER, 2));
	struct sipcx_call *bold = last_call(&sb), *bc = sipcx_call_transfer(bold);
	assert_non_null(bc);
	sipcx_call_info(bc, &in);
	assert_int_equal(in.state, SIPCX_CALL_ESTABLISHED);
	assert_int_equal(sipcx_call_hangup(bc, NULL), 0);
	sipcx_call_free(bc);
	sipcx_call_unref(bold);
	assert_int_equal(sipcx_call_wait(ab, NULL), 0);
	sipcx_call_free(ac);
	sipcx_call_free(ab);
	sipcx_phone_unregister(pc, NULL, rc, NULL);
	sipcx_phone_free(pa);
	sipcx_phone_free(pc);
	sipcx_registrar_free(reg);
	sipcx_ua_free(c);
	sipcx_ua_free(b);
	sipcx_ua_free(a);
	sipcx_ua_free(p);
	seen_fini(&sb);
	seen_fini(&sc);
}

/* OPTIONS to a UA that takes calls: Supported names what its calls do (one definition). */
static void test_options_supported(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0");
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0");
	struct seen sb;
	listen_seen(b, &sb, 0);
	struct sipcx_phone *pa = NULL;
	assert_int_equal(sipcx_phone_new(&pa, a, NULL), 0);
	char ub[128];
	uri_of(b, "bob", ub, sizeof(ub));
	struct sipcx_ua_req_opts o = { .method = "OPTIONS", .uri = ub };
	struct sipcx_phone_response resp = { .want_msg = true };
	assert_int_equal(sipcx_phone_request(pa, NULL, &o, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_non_null(resp.msg);
	const struct sipcx_hdr *h = sipcx_msg_hdr(resp.msg, SIPCX_HDR_SUPPORTED);
	assert_non_null(h);
	char v[64];
	snprintf(v, sizeof(v), "%.*s", SIPCX_STR_FMT(h->value));
	assert_string_equal(v, "replaces, 100rel, timer");
	sipcx_msg_unref(resp.msg);
	sipcx_phone_free(pa);
	sipcx_ua_free(b);
	sipcx_ua_free(a);
	seen_fini(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_echo_and_bye),
		cmocka_unit_test(test_dtmf),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_100rel),
		cmocka_unit_test(test_session_timer),
		cmocka_unit_test(test_reject_cancel_remote_bye),
		cmocka_unit_test(test_late_offer_and_phone_answer),
		cmocka_unit_test(test_limits_and_close),
		cmocka_unit_test(test_transfers),
		cmocka_unit_test(test_transfer_attended_proxied),
		cmocka_unit_test(test_options_supported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
