/* Unit tests of media sessions on loopback: exchange and stats, latching, inactivity, ports, queue. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include <sipcx/g711.h>
#include <sipcx/media.h>

#include "testutil.h"

/* ------------------------------------------------------------ helpers -- */

static void tick_cb(uv_timer_t *t)
{
	(void)t;
}

/*
 * Run the loop until cond(arg) holds or timeout_ms pass. A repeating tick
 * keeps uv_run(UV_RUN_ONCE) from blocking past the deadline. Returns cond.
 */
static bool run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg, unsigned timeout_ms)
{
	uv_timer_t tick;
	uv_timer_init(loop, &tick);
	uv_timer_start(&tick, tick_cb, 5, 5);
	uint64_t deadline = sipcx_now_us() + (uint64_t)timeout_ms * 1000u;
	bool ok;
	while (!(ok = cond(arg)) && sipcx_now_us() < deadline)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return ok;
}

/* Free the sessions, let the loop run their close callbacks, and check nothing is left. */
static void finish_loop(uv_loop_t *loop)
{
	for (int i = 0; i < 100 && uv_loop_alive(loop); i++)
		uv_run(loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(loop), 0);
}

/* What a session saw, through its callbacks. */
struct obs {
	struct sipcx_media *m;
	unsigned rtp;
	unsigned rtcp;
	unsigned seq_breaks;
	bool have_seq;
	uint16_t last_seq;
	uint32_t last_ssrc;
	uint8_t last_pt;
	uint8_t payload[512];
	size_t payload_len;
	unsigned ev[16];
	struct sockaddr_storage latch_addr;
	int dtmf_event;
	unsigned dtmf_begin, dtmf_end;
	bool free_on_timeout;
	/* USER handler */
	unsigned to_send;
	unsigned sent;
	struct sipcx_media_tone tone;
};

static void obs_rtp(struct sipcx_media *m, const struct sipcx_rtp_pkt *pkt, const uint8_t *data,
                    size_t len, const struct sockaddr *from, void *arg)
{
	(void)m;
	(void)data;
	(void)len;
	(void)from;
	struct obs *o = arg;
	if (o->have_seq && pkt->seq != (uint16_t)(o->last_seq + 1))
		o->seq_breaks++;
	o->have_seq = true;
	o->last_seq = pkt->seq;
	o->last_ssrc = pkt->ssrc;
	o->last_pt = pkt->pt;
	o->payload_len =
	    pkt->payload_len < sizeof(o->payload) ? pkt->payload_len : sizeof(o->payload);
	memcpy(o->payload, pkt->payload, o->payload_len);
	o->rtp++;
}

static void obs_rtcp(struct sipcx_media *m, const uint8_t *data, size_t len,
                     const struct sockaddr *from, void *arg)
{
	(void)m;
	(void)data;
	(void)len;
	(void)from;
	((struct obs *)arg)->rtcp++;
}

static void obs_event(struct sipcx_media *m, const struct sipcx_media_event *ev, void *arg)
{
	struct obs *o = arg;
	o->ev[ev->type]++;
	if (ev->type == SIPCX_MEDIA_EV_LATCH && !ev->rtcp)
		memcpy(&o->latch_addr, ev->addr,
		       ev->addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
		                                      : sizeof(struct sockaddr_in6));
	if (ev->type == SIPCX_MEDIA_EV_DTMF) {
		o->dtmf_event = ev->dtmf;
		o->dtmf_begin += ev->dtmf_begin;
		o->dtmf_end += ev->dtmf_end;
	}
	if (ev->type == SIPCX_MEDIA_EV_TIMEOUT && o->free_on_timeout) {
		sipcx_media_free(m); /* from inside a callback: must be safe */
		o->m = NULL;
	}
}

static int obs_fill(struct sipcx_media *m, struct sipcx_rtp_pkt *pkt, unsigned samples,
                    uint8_t *payload, size_t size, void *arg)
{
	(void)m;
	struct obs *o = arg;
	if (o->sent == o->to_send)
		return -1;
	o->sent++;
	assert_int_equal(samples, 8); /* 1 ms at 8 kHz */
	size_t n = samples < size ? samples : size;
	sipcx_media_tone_g711(&o->tone, pkt->pt, payload, n);
	return (int)n;
}

static struct sipcx_media_opts obs_opts(struct obs *o)
{
	return (struct sipcx_media_opts){ .local_addr = "127.0.0.1",
		                          .on_rtp = obs_rtp,
		                          .on_rtcp = obs_rtcp,
		                          .on_event = obs_event,
		                          .arg = o,
		                          .rtcp_off = true };
}

static struct sipcx_media *new_session(uv_loop_t *loop, struct obs *o,
                                       const struct sipcx_media_opts *opts)
{
	struct sipcx_media *m = NULL;
	int err = sipcx_media_new(&m, loop, opts);
	assert_int_equal(err, 0);
	assert_non_null(m);
	o->m = m;
	assert_int_equal(sipcx_media_start(m), 0);
	return m;
}

static void set_remote(struct sipcx_media *m, const struct sipcx_media *peer)
{
	assert_int_equal(sipcx_media_set_remote(m, "127.0.0.1", sipcx_media_port(peer), 0), 0);
}

/* A plain UDP socket on 127.0.0.1: a stranger, or a port blocker. */
static int udp_socket(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static void udp_send_rtp(int fd, uint16_t port, uint32_t ssrc, uint16_t seq)
{
	uint8_t buf[64];
	uint8_t pl[20] = { 0 };
	struct sipcx_rtp_pkt p = { .pt = 0,
		                   .seq = seq,
		                   .ts = seq * 160u,
		                   .ssrc = ssrc,
		                   .payload = pl,
		                   .payload_len = sizeof(pl) };
	int n = sipcx_rtp_build(&p, buf, sizeof(buf));
	assert_true(n > 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&a, sizeof(a)), n);
}

static uint16_t sock_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

static struct sipcx_media_stats stats(const struct sipcx_media *m)
{
	struct sipcx_media_stats st;
	sipcx_media_stats(m, &st);
	return st;
}

/* conditions for run_until */
struct want {
	struct obs *o;
	unsigned n;
	struct sipcx_media *m;
};
static bool got_rtp(void *arg)
{
	struct want *w = arg;
	return w->o->rtp >= w->n;
}
static bool got_rtcp(void *arg)
{
	struct want *w = arg;
	return w->o->rtcp >= w->n;
}
static bool got_ignored(void *arg)
{
	struct want *w = arg;
	return stats(w->m).rx_ignored >= w->n;
}
static bool got_timeout(void *arg)
{
	return ((struct obs *)arg)->ev[SIPCX_MEDIA_EV_TIMEOUT] > 0;
}
static bool got_resumed(void *arg)
{
	return ((struct obs *)arg)->ev[SIPCX_MEDIA_EV_RESUMED] > 0;
}
static bool got_rtt(void *arg)
{
	struct want *w = arg;
	return stats(w->m).rtt_count >= w->n;
}
static bool got_echo_rtt(void *arg)
{
	struct want *w = arg;
	return stats(w->m).echo_rtt_count >= w->n;
}
static bool got_dtmf_end(void *arg)
{
	return ((struct obs *)arg)->dtmf_end > 0;
}

/* -------------------------------------------------------------- tests -- */

/* Two sessions send each other 1000 packets on their ptime clocks: no loss, in order, small jitter, RTT. */
static void test_exchange_1000(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs a = { .to_send = 1000 }, b = { .to_send = 1000 };
	sipcx_media_tone_init(&a.tone, 440, 8000, 8000);
	sipcx_media_tone_init(&b.tone, 1000, 8000, 8000);
	struct sipcx_media_opts oa = obs_opts(&a), ob = obs_opts(&b);
	oa.handler = ob.handler = SIPCX_MEDIA_USER;
	oa.fill = ob.fill = obs_fill;
	oa.ptime = ob.ptime = 1;
	struct sipcx_media *ma = NULL, *mb = NULL;
	assert_int_equal(sipcx_media_new(&ma, &loop, &oa), 0);
	assert_int_equal(sipcx_media_new(&mb, &loop, &ob), 0);
	set_remote(ma, mb);
	set_remote(mb, ma);
	assert_int_equal(sipcx_media_start(ma), 0);
	assert_int_equal(sipcx_media_start(mb), 0);

	struct want wa = { &a, 1000, NULL }, wb = { &b, 1000, NULL };
	assert_true(run_until(&loop, got_rtp, &wa, 30000));
	assert_true(run_until(&loop, got_rtp, &wb, 30000));
	assert_int_equal(a.sent, 1000);
	assert_int_equal(b.sent, 1000);

	struct sipcx_media_stats sa = stats(ma), sb = stats(mb);
	assert_int_equal(sa.tx_packets, 1000);
	assert_int_equal(sa.tx_bytes, 8000);
	assert_int_equal(sa.rx_packets, 1000);
	assert_int_equal(sa.rx_bytes, 8000);
	assert_int_equal(sb.rx_packets, 1000);
	/* RFC 3550 A.1: the first packet is on probation, the 999 after it are counted */
	assert_int_equal(sa.expected, 999);
	assert_int_equal(sb.expected, 999);
	assert_int_equal(sa.lost, 0);
	assert_int_equal(sb.lost, 0);
	assert_int_equal(sa.duplicates + sa.late + sb.duplicates + sb.late, 0);
	assert_int_equal(a.seq_breaks + b.seq_breaks, 0);
	assert_int_equal(sa.remote_ssrc, sipcx_media_ssrc(mb));
	assert_int_equal(sb.remote_ssrc, sipcx_media_ssrc(ma));
	assert_int_equal(sa.rx_ignored + sa.rx_malformed, 0);
	/* paced by a 1 ms clock on loopback: far below a packet time of variation */
	assert_true(sa.jitter_us < 5000);
	assert_true(sb.jitter_us < 5000);

	/* RTT: A's SR reaches B, B's report block about A echoes its LSR with DLSR. */
	assert_int_equal(stats(ma).rtt_count, 0);
	assert_int_equal(sipcx_media_send_rtcp(ma), 0);
	struct want rb = { &b, 1, NULL };
	assert_true(run_until(&loop, got_rtcp, &rb, 5000));
	assert_int_equal(sipcx_media_send_rtcp(mb), 0);
	struct want ra = { NULL, 1, ma };
	assert_true(run_until(&loop, got_rtt, &ra, 5000));
	sa = stats(ma);
	assert_true(sa.rtt_count >= 1);
	assert_true(sa.rtt_us < 1000000);
	assert_true(sa.have_remote_report);
	assert_int_equal(sa.remote_lost, 0);
	assert_int_equal(sa.rtcp_tx, 1);
	assert_int_equal(stats(mb).rtcp_rx, 1);

	sipcx_media_free(ma);
	sipcx_media_free(mb);
	finish_loop(&loop);
}

/* The periodic RTCP timer sends reports by itself, and a BYE on close. */
static void test_rtcp_timer_and_bye(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs a = { 0 }, b = { 0 };
	struct sipcx_media_opts oa = obs_opts(&a), ob = obs_opts(&b);
	oa.rtcp_off = false;
	oa.rtcp_interval_ms = 40;
	oa.handler = SIPCX_MEDIA_SILENCE;
	oa.ptime = 10;
	struct sipcx_media *mb = new_session(&loop, &b, &ob);
	oa.remote_addr = "127.0.0.1";
	oa.remote_port = sipcx_media_port(mb);
	struct sipcx_media *ma = new_session(&loop, &a, &oa);
	set_remote(mb, ma);
	struct want w = { &b, 3, NULL };
	assert_true(run_until(&loop, got_rtcp, &w, 5000));
	assert_int_equal(b.ev[SIPCX_MEDIA_EV_BYE], 0);
	/* silence: every payload byte is the mu-law zero */
	assert_true(b.rtp > 0);
	assert_int_equal(b.payload_len, 80);
	for (size_t i = 0; i < b.payload_len; i++)
		assert_int_equal(b.payload[i], 0xFF);
	unsigned before = b.rtcp;
	sipcx_media_free(ma);
	w.n = before + 1;
	assert_true(run_until(&loop, got_rtcp, &w, 5000));
	assert_int_equal(b.ev[SIPCX_MEDIA_EV_BYE], 1);
	sipcx_media_free(mb);
	finish_loop(&loop);
}

/* Symmetric RTP: a stranger latches before the negotiated source speaks; after, it is ignored. */
static void test_latch_before_negotiated(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs m = { 0 }, n = { 0 }, s = { 0 };
	struct sipcx_media_opts om = obs_opts(&m), on = obs_opts(&n), os = obs_opts(&s);
	struct sipcx_media *mn = new_session(&loop, &n, &on); /* the negotiated peer */
	struct sipcx_media *ms = new_session(&loop, &s, &os); /* a stranger (behind a NAT?) */
	struct sipcx_media *mm = new_session(&loop, &m, &om);
	set_remote(mm, mn);
	set_remote(mn, mm);
	set_remote(ms, mm);

	/* before anything from the negotiated address, the stranger is taken */
	assert_int_equal(sipcx_media_send(ms, 160, true, "abcd", 4), 0);
	struct want w = { &m, 1, NULL };
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	assert_int_equal(m.ev[SIPCX_MEDIA_EV_LATCH], 1);
	assert_int_equal(ntohs(((struct sockaddr_in *)&m.latch_addr)->sin_port),
	                 sipcx_media_port(ms));
	/* and we now send to it */
	assert_int_equal(sipcx_media_send(mm, 160, true, "x", 1), 0);
	struct want ws = { &s, 1, NULL };
	assert_true(run_until(&loop, got_rtp, &ws, 5000));
	assert_int_equal(n.rtp, 0);

	/* the negotiated peer speaks: it is accepted and becomes the destination */
	assert_int_equal(sipcx_media_send(mn, 160, true, "efgh", 4), 0);
	w.n = 2;
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	assert_int_equal(m.ev[SIPCX_MEDIA_EV_LATCH], 2);
	assert_int_equal(sipcx_media_send(mm, 320, false, "y", 1), 0);
	struct want wn = { &n, 1, NULL };
	assert_true(run_until(&loop, got_rtp, &wn, 5000));

	/* from now on the stranger is ignored (no RTP bleed) */
	assert_int_equal(sipcx_media_send(ms, 320, false, "ijkl", 4), 0);
	struct want wi = { NULL, 1, mm };
	assert_true(run_until(&loop, got_ignored, &wi, 5000));
	assert_int_equal(m.rtp, 2);
	assert_int_equal(stats(mm).rx_packets, 2);
	assert_int_equal(m.ev[SIPCX_MEDIA_EV_LATCH], 2);

	sipcx_media_free(mm);
	sipcx_media_free(mn);
	sipcx_media_free(ms);
	finish_loop(&loop);
}

/* Negotiated source first: strangers are never taken. A second stranger cannot steal a latch either. */
static void test_latch_after_negotiated(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs m = { 0 }, n = { 0 }, m2 = { 0 };
	struct sipcx_media_opts om = obs_opts(&m), on = obs_opts(&n), om2 = obs_opts(&m2);
	struct sipcx_media *mn = new_session(&loop, &n, &on);
	struct sipcx_media *mm = new_session(&loop, &m, &om);
	set_remote(mm, mn);
	set_remote(mn, mm);
	int stranger = udp_socket(0), other = udp_socket(0);
	assert_true(stranger >= 0 && other >= 0);

	assert_int_equal(sipcx_media_send(mn, 160, true, "abcd", 4), 0);
	struct want w = { &m, 1, NULL };
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	assert_int_equal(m.ev[SIPCX_MEDIA_EV_LATCH], 0); /* it was already the destination */
	udp_send_rtp(stranger, sipcx_media_port(mm), 0x5555, 1);
	struct want wi = { NULL, 1, mm };
	assert_true(run_until(&loop, got_ignored, &wi, 5000));
	assert_int_equal(m.rtp, 1);
	assert_int_equal(m.ev[SIPCX_MEDIA_EV_LATCH], 0);

	/* no negotiated address at all: the first stranger latches, a second one is ignored */
	struct sipcx_media *mm2 = new_session(&loop, &m2, &om2);
	udp_send_rtp(stranger, sipcx_media_port(mm2), 0x6666, 10);
	struct want w2 = { &m2, 1, NULL };
	assert_true(run_until(&loop, got_rtp, &w2, 5000));
	assert_int_equal(ntohs(((struct sockaddr_in *)&m2.latch_addr)->sin_port),
	                 sock_port(stranger));
	udp_send_rtp(other, sipcx_media_port(mm2), 0x7777, 20);
	struct want wi2 = { NULL, 1, mm2 };
	assert_true(run_until(&loop, got_ignored, &wi2, 5000));
	udp_send_rtp(stranger, sipcx_media_port(mm2), 0x6666, 11);
	w2.n = 2;
	assert_true(run_until(&loop, got_rtp, &w2, 5000));
	assert_int_equal(m2.last_ssrc, 0x6666);
	assert_int_equal(stats(mm2).rx_ignored, 1);

	close(stranger);
	close(other);
	sipcx_media_free(mm);
	sipcx_media_free(mn);
	sipcx_media_free(mm2);
	finish_loop(&loop);
}

/* LATCH_OFF takes only the negotiated address; LATCH_ANY follows every source. */
static void test_latch_modes(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs off = { 0 }, any = { 0 };
	struct sipcx_media_opts oo = obs_opts(&off), oa = obs_opts(&any);
	oo.latch = SIPCX_MEDIA_LATCH_OFF;
	oo.remote_addr = "127.0.0.1";
	oo.remote_port = 9; /* nobody */
	oa.latch = SIPCX_MEDIA_LATCH_ANY;
	struct sipcx_media *mo = new_session(&loop, &off, &oo);
	struct sipcx_media *ma = new_session(&loop, &any, &oa);
	int s1 = udp_socket(0), s2 = udp_socket(0);
	udp_send_rtp(s1, sipcx_media_port(mo), 1, 1);
	struct want wi = { NULL, 1, mo };
	assert_true(run_until(&loop, got_ignored, &wi, 5000));
	assert_int_equal(off.rtp, 0);

	udp_send_rtp(s1, sipcx_media_port(ma), 1, 1);
	struct want w = { &any, 1, NULL };
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	udp_send_rtp(s2, sipcx_media_port(ma), 2, 1);
	w.n = 2;
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	assert_int_equal(any.ev[SIPCX_MEDIA_EV_LATCH], 2);
	assert_int_equal(ntohs(((struct sockaddr_in *)&any.latch_addr)->sin_port), sock_port(s2));
	assert_int_equal(stats(ma).rx_ignored, 0);
	close(s1);
	close(s2);
	sipcx_media_free(mo);
	sipcx_media_free(ma);
	finish_loop(&loop);
}

/* No RTP for inactivity_ms: one TIMEOUT event (never early); RTP again: RESUMED. */
static void test_inactivity(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs m = { 0 }, p = { 0 };
	struct sipcx_media_opts om = obs_opts(&m), op = obs_opts(&p);
	om.inactivity_ms = 150;
	uint64_t t0 = sipcx_now_us();
	struct sipcx_media *mm = new_session(&loop, &m, &om);
	struct sipcx_media *mp = new_session(&loop, &p, &op);
	set_remote(mp, mm);
	assert_true(run_until(&loop, got_timeout, &m, 5000));
	assert_true(sipcx_now_us() - t0 >= 150000);
	assert_int_equal(m.ev[SIPCX_MEDIA_EV_TIMEOUT], 1);
	assert_true(stats(mm).timed_out);
	assert_int_equal(sipcx_media_send(mp, 0, true, "a", 1), 0);
	assert_true(run_until(&loop, got_resumed, &m, 5000));
	assert_false(stats(mm).timed_out);
	/* silence again: a second timeout, and this time the callback frees the session */
	m.free_on_timeout = true;
	m.ev[SIPCX_MEDIA_EV_TIMEOUT] = 0;
	assert_true(run_until(&loop, got_timeout, &m, 5000));
	assert_null(m.m);
	sipcx_media_free(mp);
	finish_loop(&loop);
}

/* Ports: even, RTCP one above, the next session starts after the last pair, pairs in use are skipped. */
static void test_ports(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	/* a small range of our own, away from the default one and the kernel's, per process */
	uint16_t min = (uint16_t)(61000 + (getpid() % 200) * 20); /* above the ephemeral ports */
	uint16_t max = (uint16_t)(min + 9);                       /* pairs min, +2, +4, +6, +8 */
	struct sipcx_media_opts o = { .local_addr = "127.0.0.1", .port_min = min, .port_max = max };
	struct sipcx_media *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	assert_int_equal(sipcx_media_new(&a, &loop, &o), 0);
	uint16_t pa = sipcx_media_port(a);
	assert_true(pa >= min && pa + 1 <= max);
	assert_int_equal(pa % 2, 0);
	/* RTCP is bound on pa + 1 */
	assert_int_equal(udp_socket((uint16_t)(pa + 1)), -EADDRINUSE);
	assert_int_equal(udp_socket(pa), -EADDRINUSE);

	/* rotating: the next pair, wrapping around the range */
#define NEXT(p) ((uint16_t)((p) + 2 > max - 1 ? min : (p) + 2))
	assert_int_equal(sipcx_media_new(&b, &loop, &o), 0);
	uint16_t pb = sipcx_media_port(b);
	assert_int_equal(pb, NEXT(pa));
	/* the pair after b has its RTCP port taken: skipped */
	int blocker = udp_socket((uint16_t)(NEXT(pb) + 1));
	assert_true(blocker >= 0);
	assert_int_equal(sipcx_media_new(&c, &loop, &o), 0);
	assert_int_equal(sipcx_media_port(c), NEXT(NEXT(pb)));
	/* one pair left (the blocked one is not free): d gets the last, then the range is full */
	assert_int_equal(sipcx_media_new(&d, &loop, &o), 0);
	assert_int_equal(sipcx_media_port(d), NEXT(NEXT(NEXT(pb))));
	struct sipcx_media *e = (struct sipcx_media *)&o;
	assert_int_equal(sipcx_media_new(&e, &loop, &o), -EADDRINUSE);
	assert_ptr_equal(e, (struct sipcx_media *)&o); /* untouched on failure */
	close(blocker);

	/* an exact port, and the same port again */
	uint16_t exact = NEXT(pb);
	struct sipcx_media_opts ox = { .local_addr = "127.0.0.1", .port = exact };
	struct sipcx_media *x = NULL, *y = NULL;
	assert_int_equal(sipcx_media_new(&x, &loop, &ox), 0);
	assert_int_equal(sipcx_media_port(x), exact);
	assert_int_equal(sipcx_media_new(&y, &loop, &ox), -EADDRINUSE);

	/* bad ranges and arguments */
	struct sipcx_media_opts bad = { .port_min = 20001, .port_max = 20001 };
	assert_int_equal(sipcx_media_new(&y, &loop, &bad), -EINVAL);
	bad = (struct sipcx_media_opts){ .port_min = 20010, .port_max = 20000 };
	assert_int_equal(sipcx_media_new(&y, &loop, &bad), -EINVAL);
	bad = (struct sipcx_media_opts){ .port = 65535 };
	assert_int_equal(sipcx_media_new(&y, &loop, &bad), -EINVAL);
	bad = (struct sipcx_media_opts){ .local_addr = "localhost" };
	assert_int_equal(sipcx_media_new(&y, &loop, &bad), -EINVAL);
	bad = (struct sipcx_media_opts){ .handler = SIPCX_MEDIA_USER };
	assert_int_equal(sipcx_media_new(&y, &loop, &bad), -EINVAL);
	bad = (struct sipcx_media_opts){ .handler = SIPCX_MEDIA_TONE, .pt = 18 };
	assert_int_equal(sipcx_media_new(&y, &loop, &bad), SIPCX_ENOCODEC);
	assert_int_equal(sipcx_media_new(NULL, &loop, NULL), -EINVAL);
	assert_int_equal(sipcx_media_new(&y, NULL, NULL), -EINVAL);
	assert_null(y);

	sipcx_media_free(a);
	sipcx_media_free(b);
	sipcx_media_free(c);
	sipcx_media_free(d);
	sipcx_media_free(x);
	sipcx_media_free(NULL);
	finish_loop(&loop);
}

/* The default range is 10000-20000 with even ports. */
static void test_default_range(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct sipcx_media *m = NULL;
	assert_int_equal(sipcx_media_new(&m, &loop, NULL), 0);
	uint16_t p = sipcx_media_port(m);
	assert_true(p >= 10000 && p < 20000);
	assert_int_equal(p % 2, 0);
	sipcx_media_free(m);
	finish_loop(&loop);
}

/* The echo handler sends every packet back to its source; reflected RTCP gives the echo RTT. */
static void test_echo(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs a = { 0 }, e = { 0 };
	struct sipcx_media_opts oa = obs_opts(&a), oe = obs_opts(&e);
	oe.handler = SIPCX_MEDIA_ECHO;
	oe.echo_rtcp = true;
	oe.latch = SIPCX_MEDIA_LATCH_ANY;
	struct sipcx_media *me = new_session(&loop, &e, &oe);
	struct sipcx_media *ma = new_session(&loop, &a, &oa);
	set_remote(ma, me);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(sipcx_media_send(ma, i * 160u, i == 0, "0123456789", 10), 0);
	struct want w = { &a, 10, NULL };
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	assert_int_equal(a.last_ssrc, sipcx_media_ssrc(ma)); /* our own packets came back */
	assert_int_equal(a.payload_len, 10);
	assert_memory_equal(a.payload, "0123456789", 10);
	assert_int_equal(a.seq_breaks, 0);
	assert_int_equal(stats(me).tx_packets, 10);
	assert_int_equal(stats(me).rx_packets, 10);
	assert_int_equal(sipcx_media_send_rtcp(ma), 0);
	struct want wr = { NULL, 1, ma };
	assert_true(run_until(&loop, got_echo_rtt, &wr, 5000));
	assert_true(stats(ma).echo_rtt_us < 1000000);
	assert_int_equal(stats(ma).rtt_count, 0); /* a reflection is not a report about us */
	sipcx_media_free(ma);
	sipcx_media_free(me);
	finish_loop(&loop);
}

/* PCMA silence and a tone, from the built-in handlers, on a 20 ms clock. */
static void test_tone_pcma(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs r = { 0 }, t = { 0 };
	struct sipcx_media_opts orx = obs_opts(&r), otx = obs_opts(&t);
	struct sipcx_media *mr = new_session(&loop, &r, &orx);
	otx.handler = SIPCX_MEDIA_TONE;
	otx.codec = "PCMA";
	otx.pt = 8;
	otx.tone_hz = 1000;
	otx.remote_addr = "127.0.0.1";
	otx.remote_port = sipcx_media_port(mr);
	struct sipcx_media *mt = new_session(&loop, &t, &otx);
	struct want w = { &r, 3, NULL };
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	assert_int_equal(r.last_pt, 8);
	assert_int_equal(r.payload_len, 160);
	/* a 1 kHz tone at 8 kHz repeats every 8 samples, and is not silence */
	int16_t pcm[160];
	sipcx_g711_alaw_decode_buf(pcm, r.payload, 160);
	int16_t peak = 0;
	for (int i = 0; i < 160; i++) {
		if (pcm[i] > peak)
			peak = pcm[i];
		if (i >= 8)
			assert_int_equal(pcm[i], pcm[i - 8]);
	}
	assert_true(peak > 4000);
	sipcx_media_free(mt);
	sipcx_media_free(mr);
	finish_loop(&loop);
}

/* An SDP negotiation result configures the peer, codec, ptime and direction. */
static void test_apply_sdp(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs r = { 0 }, t = { 0 };
	struct sipcx_media_opts orx = obs_opts(&r), otx = obs_opts(&t);
	orx.dtmf_pt = 101;
	struct sipcx_media *mr = new_session(&loop, &r, &orx);
	otx.handler = SIPCX_MEDIA_SILENCE;
	struct sipcx_media *mt = NULL;
	assert_int_equal(sipcx_media_new(&mt, &loop, &otx), 0);
	struct sipcx_sdp_result res = { .family = 4,
		                        .addr_is_ip = true,
		                        .addr = "127.0.0.1",
		                        .rtp_port = sipcx_media_port(mr),
		                        .pt = 8,
		                        .codec = "PCMA",
		                        .clock = 8000,
		                        .dtmf_pt = 101,
		                        .ptime = 30,
		                        .local_send = true,
		                        .local_recv = true };
	res.rtcp_port = (uint16_t)(res.rtp_port + 1);
	struct sipcx_sdp_result bad = res;
	bad.addr_is_ip = false;
	assert_int_equal(sipcx_media_apply_sdp(mt, &bad), -EINVAL);
	bad = res;
	snprintf(bad.codec, sizeof(bad.codec), "opus");
	bad.pt = 111;
	assert_int_equal(sipcx_media_apply_sdp(mt, &bad), SIPCX_ENOCODEC);
	assert_int_equal(sipcx_media_apply_sdp(mt, &res), 0);
	assert_int_equal(sipcx_media_start(mt), 0);
	struct want w = { &r, 2, NULL };
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	assert_int_equal(r.last_pt, 8);
	assert_int_equal(r.payload_len, 240); /* 30 ms */
	assert_int_equal(r.payload[0], 0xD5);

	/* hold: a result that does not send stops the clock */
	res.local_send = false;
	assert_int_equal(sipcx_media_apply_sdp(mt, &res), 0);
	uint64_t sent = stats(mt).tx_packets;
	struct want none = { &r, 1000, NULL };
	run_until(&loop, got_rtp, &none, 100);
	assert_int_equal(stats(mt).tx_packets, sent);

	/* RFC 4733 events on the negotiated telephone-event type */
	struct sipcx_rtp_event_tx tx;
	assert_int_equal(sipcx_rtp_event_tx_start(&tx, 5, 10, 4000, 800, 160), 0);
	struct sipcx_rtp_event ev;
	bool marker;
	uint32_t ts;
	uint8_t buf[64], pl[4];
	uint16_t seq = 100;
	while (sipcx_rtp_event_tx_next(&tx, &ev, &marker, &ts) == 1) {
		assert_int_equal(sipcx_rtp_event_build(&ev, pl, sizeof(pl)), 4);
		struct sipcx_rtp_pkt p = { .marker = marker,
			                   .pt = 101,
			                   .seq = seq++,
			                   .ts = ts,
			                   .ssrc = 42,
			                   .payload = pl,
			                   .payload_len = 4 };
		int n = sipcx_rtp_build(&p, buf, sizeof(buf));
		assert_int_equal(sipcx_media_write_rtp(mt, buf, (size_t)n, NULL), 0);
	}
	assert_true(run_until(&loop, got_dtmf_end, &r, 5000));
	assert_int_equal(r.dtmf_event, 5);
	assert_int_equal(r.dtmf_begin, 1);
	assert_int_equal(r.dtmf_end, 1);

	sipcx_media_free(mt);
	sipcx_media_free(mr);
	finish_loop(&loop);
}

/* IPv6 on ::1, when the host has it. */
static void test_ipv6(void **state)
{
	(void)state;
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bool have = fd >= 0 && bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0;
	if (fd >= 0)
		close(fd);
	if (!have)
		skip();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs a = { 0 }, b = { 0 };
	struct sipcx_media_opts oa = obs_opts(&a), ob = obs_opts(&b);
	oa.local_addr = ob.local_addr = "::1";
	struct sipcx_media *ma = new_session(&loop, &a, &oa);
	struct sipcx_media *mb = new_session(&loop, &b, &ob);
	assert_int_equal(sipcx_media_set_remote(ma, "::1", sipcx_media_port(mb), 0), 0);
	assert_int_equal(sipcx_media_set_remote(mb, "::1", sipcx_media_port(ma), 0), 0);
	assert_int_equal(sipcx_media_set_remote(ma, "127.0.0.1", 5000, 0), 0); /* mapped */
	assert_int_equal(sipcx_media_set_remote(ma, "::1", sipcx_media_port(mb), 0), 0);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(sipcx_media_send(ma, i * 160u, false, "v6", 2), 0);
	struct want w = { &b, 5, NULL };
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	assert_int_equal(sipcx_media_send_rtcp(ma), 0);
	struct want wr = { &b, 1, NULL };
	assert_true(run_until(&loop, got_rtcp, &wr, 5000));
	assert_int_equal(stats(mb).rx_ignored, 0);
	/* an IPv4 session cannot take an IPv6 peer */
	struct sipcx_media *m4 = NULL;
	struct sipcx_media_opts o4 = { .local_addr = "127.0.0.1" };
	assert_int_equal(sipcx_media_new(&m4, &loop, &o4), 0);
	assert_int_equal(sipcx_media_set_remote(m4, "::1", 5000, 0), -EINVAL);
	sipcx_media_free(m4);
	sipcx_media_free(ma);
	sipcx_media_free(mb);
	finish_loop(&loop);
}

/* Malformed datagrams are counted and dropped; the session keeps serving. */
static void test_malformed(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs m = { 0 };
	struct sipcx_media_opts om = obs_opts(&m);
	struct sipcx_media *mm = new_session(&loop, &m, &om);
	/* no peer yet: nowhere to send; not RTP: refused */
	assert_int_equal(sipcx_media_send(mm, 0, false, "a", 1), -ENOTCONN);
	assert_int_equal(sipcx_media_send_rtcp(mm), -ENOTCONN);
	static const uint8_t v1[12] = { 0x40 };
	assert_int_equal(sipcx_media_write_rtp(mm, v1, sizeof(v1), NULL), -EINVAL);
	assert_int_equal(stats(mm).tx_packets + stats(mm).tx_dropped, 0);
	int s = udp_socket(0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(sipcx_media_port(mm)) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct sockaddr_in c = a;
	c.sin_port = htons((uint16_t)(sipcx_media_port(mm) + 1));
	assert_int_equal(sendto(s, "\x40\x00", 2, 0, (struct sockaddr *)&a, sizeof(a)), 2);
	assert_int_equal(sendto(s, "\x80\xc8\x00\x09", 4, 0, (struct sockaddr *)&c, sizeof(c)), 4);
	udp_send_rtp(s, sipcx_media_port(mm), 9, 9);
	struct want w = { &m, 1, NULL };
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	assert_int_equal(stats(mm).rx_malformed, 2);
	close(s);
	sipcx_media_free(mm);
	finish_loop(&loop);
}

/* RTP_DEBUG lines reach the media log callback. */
static unsigned log_lines;
static char log_last[256];
static void count_log(struct sipcx_media *m, const char *line, void *arg)
{
	(void)m;
	(void)arg;
	log_lines++;
	snprintf(log_last, sizeof(log_last), "%s", line);
}

static void test_debug_log(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs a = { 0 }, b = { 0 };
	struct sipcx_media_opts oa = obs_opts(&a), ob = obs_opts(&b);
	ob.log = count_log;
	struct sipcx_media *ma = new_session(&loop, &a, &oa);
	struct sipcx_media *mb = new_session(&loop, &b, &ob);
	set_remote(ma, mb);
	log_lines = 0;
	assert_int_equal(sipcx_media_send(ma, 0, true, "zz", 2), 0);
	struct want w = { &b, 1, NULL };
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	assert_int_equal(log_lines, 1);
	assert_non_null(strstr(log_last, "recv 127.0.0.1:"));
	assert_non_null(strstr(log_last, "seq="));
	sipcx_media_free(ma);
	sipcx_media_free(mb);
	finish_loop(&loop);
}

/* Allocation failure: -ENOMEM, nothing leaked; every successful session frees all it took. */
static void test_oom(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	tu_alloc_install();
	struct sipcx_media *m = NULL;
	tu_alloc_fail_at(1);
	assert_int_equal(sipcx_media_new(&m, &loop, NULL), -ENOMEM);
	assert_true(tu_alloc_failed());
	assert_null(m);
	tu_alloc_fail_at(0);
	assert_int_equal(sipcx_media_new(&m, &loop, NULL), 0);
	assert_int_equal(sipcx_media_start(m), 0);
	assert_true(tu_alloc_live() >= 1);
	sipcx_media_free(m);
	finish_loop(&loop);
	assert_int_equal(tu_alloc_live(), 0);
	struct sipcx_media_queue *q = NULL;
	for (long i = 1; i <= 4; i++) {
		tu_alloc_fail_at(i);
		int err = sipcx_media_queue_new(&q, 4, 100);
		if (err == 0) {
			sipcx_media_queue_free(q);
			break;
		}
		assert_int_equal(err, -ENOMEM);
		assert_int_equal(tu_alloc_live(), 0);
	}
	tu_alloc_uninstall();
}

/* The thread-safe queue: order, drop-oldest, sizes, timeouts, close wakes a reader. */
struct reader {
	struct sipcx_media_queue *q;
	int rc;
};
static void reader_main(void *arg)
{
	struct reader *r = arg;
	char buf[16];
	r->rc = sipcx_media_queue_pop(r->q, buf, sizeof(buf), NULL, -1);
}

static void test_queue(void **state)
{
	(void)state;
	struct sipcx_media_queue *q = NULL;
	assert_int_equal(sipcx_media_queue_new(&q, 0, 10), -EINVAL);
	assert_int_equal(sipcx_media_queue_new(&q, 3, 0), -EINVAL);
	assert_int_equal(sipcx_media_queue_new(&q, 3, 8), 0);
	char buf[16];
	int kind = -1;
	assert_int_equal(sipcx_media_queue_pop(q, buf, sizeof(buf), &kind, 0), -EAGAIN);
	assert_int_equal(sipcx_media_queue_pop(q, buf, sizeof(buf), &kind, 20), -ETIMEDOUT);
	assert_int_equal(sipcx_media_queue_push(q, SIPCX_MEDIA_Q_RTP, "123456789", 9), -EMSGSIZE);
	assert_int_equal(sipcx_media_queue_push(q, SIPCX_MEDIA_Q_RTP, "a", 1), 0);
	assert_int_equal(sipcx_media_queue_push(q, SIPCX_MEDIA_Q_RTCP, "bb", 2), 0);
	assert_int_equal(sipcx_media_queue_push(q, SIPCX_MEDIA_Q_RTP, "ccc", 3), 0);
	assert_int_equal(sipcx_media_queue_push(q, SIPCX_MEDIA_Q_RTP, "dddd", 4),
	                 0); /* drops "a" */
	assert_int_equal(sipcx_media_queue_dropped(q), 1);
	assert_int_equal(sipcx_media_queue_pop(q, buf, 1, &kind, 0), -EMSGSIZE);
	assert_int_equal(sipcx_media_queue_pop(q, buf, sizeof(buf), &kind, 0), 2);
	assert_int_equal(kind, SIPCX_MEDIA_Q_RTCP);
	assert_memory_equal(buf, "bb", 2);
	assert_int_equal(sipcx_media_queue_pop(q, buf, sizeof(buf), &kind, -1), 3);
	assert_int_equal(kind, SIPCX_MEDIA_Q_RTP);
	assert_int_equal(sipcx_media_queue_pop(q, buf, sizeof(buf), NULL, 0), 4);
	assert_memory_equal(buf, "dddd", 4);

	/* a reader blocked without a deadline wakes up on close */
	struct reader r = { q, 0 };
	uv_thread_t th;
	assert_int_equal(uv_thread_create(&th, reader_main, &r), 0);
	sipcx_media_queue_close(q);
	assert_int_equal(uv_thread_join(&th), 0);
	assert_int_equal(r.rc, SIPCX_ECLOSED);
	assert_int_equal(sipcx_media_queue_push(q, 0, "x", 1), SIPCX_ECLOSED);
	sipcx_media_queue_free(q);
	sipcx_media_queue_free(NULL);
}

/* A session feeds the queue; a reader on another thread gets the packets. */
struct qreader {
	struct sipcx_media_queue *q;
	unsigned got;
	unsigned rtcp;
};
static void qreader_main(void *arg)
{
	struct qreader *r = arg;
	uint8_t buf[2048];
	int kind;
	for (;;) {
		int n = sipcx_media_queue_pop(r->q, buf, sizeof(buf), &kind, 10000);
		if (n < 0)
			break;
		struct sipcx_rtp_pkt p;
		if (kind == SIPCX_MEDIA_Q_RTP && sipcx_rtp_parse(&p, buf, (size_t)n) == 0)
			r->got++;
		else if (kind == SIPCX_MEDIA_Q_RTCP)
			r->rtcp++;
	}
}

static void test_queue_session(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct sipcx_media_queue *q = NULL;
	assert_int_equal(sipcx_media_queue_new(&q, 64, 1500), 0);
	struct obs a = { 0 }, b = { 0 };
	struct sipcx_media_opts oa = obs_opts(&a), ob = obs_opts(&b);
	ob.rx_queue = q;
	struct sipcx_media *ma = new_session(&loop, &a, &oa);
	struct sipcx_media *mb = new_session(&loop, &b, &ob);
	set_remote(ma, mb);
	struct qreader r = { q, 0, 0 };
	uv_thread_t th;
	assert_int_equal(uv_thread_create(&th, qreader_main, &r), 0);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(sipcx_media_send(ma, i * 160u, false, "q", 1), 0);
	assert_int_equal(sipcx_media_send_rtcp(ma), 0);
	struct want w = { &b, 20, NULL };
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	struct want wr = { &b, 1, NULL };
	assert_true(run_until(&loop, got_rtcp, &wr, 5000));
	sipcx_media_free(mb);
	sipcx_media_free(ma);
	finish_loop(&loop);
	sipcx_media_queue_close(q);
	assert_int_equal(uv_thread_join(&th), 0);
	assert_int_equal(r.got, 20);
	assert_int_equal(r.rtcp, 1);
	sipcx_media_queue_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exchange_1000),
		cmocka_unit_test(test_rtcp_timer_and_bye),
		cmocka_unit_test(test_latch_before_negotiated),
		cmocka_unit_test(test_latch_after_negotiated),
		cmocka_unit_test(test_latch_modes),
		cmocka_unit_test(test_inactivity),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_default_range),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_tone_pcma),
		cmocka_unit_test(test_apply_sdp),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_debug_log),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_queue_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
