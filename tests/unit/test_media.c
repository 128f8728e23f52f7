/* Unit tests of media sessions on loopback: exchange and stats, latching, inactivity, ports, queue, user-thread I/O. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include <sipcx/g711.h>
#include <sipcx/embed.h>
#include <sipcx/media.h>
#include <sipcx/sockaddr.h>
#include <sipcx/trace.h>
#include <sipcx/ua.h>

#include "media/media.h"
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
	char digits[16];         /* each event's digit once its end came */
	unsigned dtmf_dur[16];   /* and its duration (timestamp units) */
	unsigned pt101, markers; /* telephone-event packets, and those with the marker */
	uint32_t ev_ts;          /* the last event packet's timestamp */
	unsigned ev_ts_changes;
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
	if (pkt->pt == 101) {
		if (o->pt101 && pkt->ts != o->ev_ts)
			o->ev_ts_changes++;
		o->ev_ts = pkt->ts;
		o->pt101++;
		o->markers += pkt->marker;
	}
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
		if (ev->dtmf_end && o->dtmf_end < sizeof(o->digits) - 1) {
			const char *name = sipcx_rtp_event_name(ev->dtmf);
			o->dtmf_dur[o->dtmf_end] = ev->dtmf_duration;
			o->digits[o->dtmf_end] = name ? name[0] : '?';
		}
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
	int err = sipcx_media_new_loop(&m, loop, opts);
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
	assert_int_equal(sipcx_media_new_loop(&ma, &loop, &oa), 0);
	assert_int_equal(sipcx_media_new_loop(&mb, &loop, &ob), 0);
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
	assert_int_equal(sipcx_media_new_loop(&a, &loop, &o), 0);
	uint16_t pa = sipcx_media_port(a);
	assert_true(pa >= min && pa + 1 <= max);
	assert_int_equal(pa % 2, 0);
	/* RTCP is bound on pa + 1 */
	assert_int_equal(udp_socket((uint16_t)(pa + 1)), -EADDRINUSE);
	assert_int_equal(udp_socket(pa), -EADDRINUSE);

	/* rotating: the next pair, wrapping around the range */
#define NEXT(p) ((uint16_t)((p) + 2 > max - 1 ? min : (p) + 2))
	assert_int_equal(sipcx_media_new_loop(&b, &loop, &o), 0);
	uint16_t pb = sipcx_media_port(b);
	assert_int_equal(pb, NEXT(pa));
	/* the pair after b has its RTCP port taken: skipped */
	int blocker = udp_socket((uint16_t)(NEXT(pb) + 1));
	assert_true(blocker >= 0);
	assert_int_equal(sipcx_media_new_loop(&c, &loop, &o), 0);
	assert_int_equal(sipcx_media_port(c), NEXT(NEXT(pb)));
	/* one pair left (the blocked one is not free): d gets the last, then the range is full */
	assert_int_equal(sipcx_media_new_loop(&d, &loop, &o), 0);
	assert_int_equal(sipcx_media_port(d), NEXT(NEXT(NEXT(pb))));
	struct sipcx_media *e = (struct sipcx_media *)&o;
	assert_int_equal(sipcx_media_new_loop(&e, &loop, &o), -EADDRINUSE);
	assert_ptr_equal(e, (struct sipcx_media *)&o); /* untouched on failure */
	close(blocker);

	/* an exact port, and the same port again */
	uint16_t exact = NEXT(pb);
	struct sipcx_media_opts ox = { .local_addr = "127.0.0.1", .port = exact };
	struct sipcx_media *x = NULL, *y = NULL;
	assert_int_equal(sipcx_media_new_loop(&x, &loop, &ox), 0);
	assert_int_equal(sipcx_media_port(x), exact);
	assert_int_equal(sipcx_media_new_loop(&y, &loop, &ox), -EADDRINUSE);

	/* bad ranges and arguments */
	struct sipcx_media_opts bad = { .port_min = 20001, .port_max = 20001 };
	assert_int_equal(sipcx_media_new_loop(&y, &loop, &bad), -EINVAL);
	bad = (struct sipcx_media_opts){ .port_min = 20010, .port_max = 20000 };
	assert_int_equal(sipcx_media_new_loop(&y, &loop, &bad), -EINVAL);
	bad = (struct sipcx_media_opts){ .port = 65535 };
	assert_int_equal(sipcx_media_new_loop(&y, &loop, &bad), -EINVAL);
	bad = (struct sipcx_media_opts){ .local_addr = "localhost" };
	assert_int_equal(sipcx_media_new_loop(&y, &loop, &bad), -EINVAL);
	bad = (struct sipcx_media_opts){ .handler = SIPCX_MEDIA_USER };
	assert_int_equal(sipcx_media_new_loop(&y, &loop, &bad), -EINVAL);
	bad = (struct sipcx_media_opts){ .handler = SIPCX_MEDIA_TONE, .pt = 18 };
	assert_int_equal(sipcx_media_new_loop(&y, &loop, &bad), SIPCX_ENOCODEC);
	assert_int_equal(sipcx_media_new_loop(NULL, &loop, NULL), -EINVAL);
	assert_int_equal(sipcx_media_new_loop(&y, NULL, NULL), -EINVAL);
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
	assert_int_equal(sipcx_media_new_loop(&m, &loop, NULL), 0);
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
	assert_int_equal(sipcx_media_new_loop(&mt, &loop, &otx), 0);
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
	snprintf(bad.codec, sizeof(bad.codec), "AMR");
	bad.pt = 96;
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

/* RFC 5761: one socket and RTCP on the RTP port; an offerer's RTCP socket closed once mux is agreed. */
static void test_rtcp_mux(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs a = { 0 }, b = { 0 };
	struct sipcx_media_opts oa = obs_opts(&a), ob = obs_opts(&b);
	oa.rtcp_mux = true; /* the answerer: no RTCP port at all */
	struct sipcx_media *ma = new_session(&loop, &a, &oa);
	struct sipcx_media *mb = new_session(&loop, &b, &ob); /* the offerer: both */
	uint16_t pa = sipcx_media_port(ma);
	/* the RTCP port of a stays free: a plain socket can take it */
	int fd = udp_socket((uint16_t)(pa + 1));
	assert_true(fd >= 0);
	close(fd);
	assert_true(stats(ma).rtcp_mux);
	assert_false(stats(mb).rtcp_mux);
	/* a's peer without an RTCP port: RTCP goes to b's RTP port */
	set_remote(ma, mb);
	struct sipcx_sdp_result res = { .family = 4,
		                        .addr_is_ip = true,
		                        .addr = "127.0.0.1",
		                        .rtp_port = pa,
		                        .rtcp_addr = "127.0.0.1",
		                        .rtcp_port = pa,
		                        .rtcp_mux = true,
		                        .pt = 0,
		                        .codec = "PCMU",
		                        .clock = 8000,
		                        .dtmf_pt = -1,
		                        .local_send = true,
		                        .local_recv = true };
	assert_int_equal(sipcx_media_apply_sdp(mb, &res), 0);
	assert_true(stats(mb).rtcp_mux);
	/* once its close has run, b's RTCP port is free again */
	uint16_t pb = sipcx_media_port(mb);
	for (int i = 0; i < 10; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	fd = udp_socket((uint16_t)(pb + 1));
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(sipcx_media_send_rtcp(ma), 0);
	struct want wb = { &b, 1, NULL };
	assert_true(run_until(&loop, got_rtcp, &wb, 5000));
	assert_int_equal(sipcx_media_send_rtcp(mb), 0);
	struct want wa = { &a, 1, NULL };
	assert_true(run_until(&loop, got_rtcp, &wa, 5000));
	struct sipcx_media_stats sa = stats(ma), sb = stats(mb);
	assert_int_equal(sa.rtcp_rx, 1);
	assert_int_equal(sa.rtcp_rx_mux, 1);
	assert_int_equal(sb.rtcp_rx_mux, 1);
	assert_int_equal(sa.rtcp_tx, 1);
	assert_int_equal(sb.rtcp_tx, 1);
	/* the same result again: nothing left to close */
	assert_int_equal(sipcx_media_apply_sdp(mb, &res), 0);
	/* a later answer without mux: RTCP from the RTP socket to the peer's RTCP port */
	res.rtcp_mux = false;
	res.rtcp_port = (uint16_t)(pa + 1);
	assert_int_equal(sipcx_media_apply_sdp(mb, &res), 0);
	assert_true(stats(mb).rtcp_mux);
	fd = udp_socket((uint16_t)(pa + 1));
	assert_true(fd >= 0);
	assert_int_equal(sipcx_media_send_rtcp(mb), 0);
	uint8_t buf[512];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	assert_true(n > 8);
	assert_true(sipcx_rtp_is_rtcp(buf, (size_t)n));
	assert_int_equal(ntohs(from.sin_port), pb);
	close(fd);

	sipcx_media_free(ma);
	sipcx_media_free(mb);
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
	assert_int_equal(sipcx_media_new_loop(&m4, &loop, &o4), 0);
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

/* The wire trace sees RTP and RTCP only when asked, with the session's addresses. */
struct media_traced {
	unsigned rtp[2], rtcp[2], other;
	uint16_t rtp_src_port, rtcp_src_port;
	char line[512];
};

static void media_trace_cb(const struct sipcx_trace_event *ev, void *arg)
{
	struct media_traced *t = arg;
	if (ev->kind == SIPCX_TRACE_RTP) {
		t->rtp[ev->dir]++;
		if (ev->dir == SIPCX_TRACE_SEND)
			t->rtp_src_port = sipcx_sa_port(ev->src);
		struct sipcx_buf b;
		sipcx_buf_init(&b);
		assert_int_equal(sipcx_trace_format(&b, ev), 0);
		snprintf(t->line, sizeof(t->line), "%s", b.p);
		sipcx_buf_free(&b);
	} else if (ev->kind == SIPCX_TRACE_RTCP) {
		t->rtcp[ev->dir]++;
		if (ev->dir == SIPCX_TRACE_SEND)
			t->rtcp_src_port = sipcx_sa_port(ev->src);
	} else {
		t->other++;
	}
}

static void test_trace_media(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs a = { 0 }, b = { 0 };
	struct sipcx_media_opts oa = obs_opts(&a), ob = obs_opts(&b);
	struct sipcx_media *ma = new_session(&loop, &a, &oa);
	struct sipcx_media *mb = new_session(&loop, &b, &ob);
	set_remote(ma, mb);
	struct media_traced t = { 0 };

	/* SIP only by default: the packet is not seen */
	sipcx_trace_set(media_trace_cb, &t);
	assert_int_equal(sipcx_media_send(ma, 0, true, "zz", 2), 0);
	struct want w = { &b, 1, NULL };
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	assert_int_equal(t.rtp[0] + t.rtp[1] + t.rtcp[0] + t.rtcp[1] + t.other, 0);

	sipcx_trace_set_kinds(SIPCX_TRACE_SIP | SIPCX_TRACE_RTP | SIPCX_TRACE_RTCP);
	assert_int_equal(sipcx_media_send(ma, 160, false, "zz", 2), 0);
	struct want w2 = { &b, 2, NULL };
	assert_true(run_until(&loop, got_rtp, &w2, 5000));
	assert_int_equal(sipcx_media_send_rtcp(ma), 0);
	struct want w3 = { &b, 1, NULL };
	assert_true(run_until(&loop, got_rtcp, &w3, 5000));
	sipcx_trace_set(NULL, NULL);
	sipcx_trace_set_kinds(0);

	assert_int_equal(t.rtp[SIPCX_TRACE_SEND], 1);
	assert_int_equal(t.rtp[SIPCX_TRACE_RECV], 1);
	assert_int_equal(t.rtcp[SIPCX_TRACE_SEND], 1);
	assert_int_equal(t.rtcp[SIPCX_TRACE_RECV], 1);
	assert_int_equal(t.other, 0);
	assert_int_equal(t.rtp_src_port, sipcx_media_port(ma));
	assert_int_equal(t.rtcp_src_port, sipcx_media_port(ma) + 1);
	/* "--- HH:MM:SS.uuuuuu RECV RTP 14 bytes UDP 127.0.0.1:P -> 127.0.0.1:Q: pt=..." */
	assert_non_null(strstr(t.line, " RECV RTP 14 bytes UDP 127.0.0.1:"));
	assert_non_null(strstr(t.line, "seq="));
	sipcx_media_free(ma);
	sipcx_media_free(mb);
	finish_loop(&loop);
}

static bool got_two_digits(void *arg)
{
	return ((struct obs *)arg)->dtmf_end >= 2;
}

/* RFC 4733 sending: events with the marker, one timestamp each, the ends three times, the
 * stream's sequence numbers; the clock runs for them alone when there is no audio. */
static void test_send_dtmf(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs r = { 0 }, t = { 0 }, n = { 0 };
	struct sipcx_media_opts orx = obs_opts(&r), otx = obs_opts(&t), onone = obs_opts(&n);
	orx.dtmf_pt = 101;
	otx.dtmf_pt = 101;
	struct sipcx_media *mr = new_session(&loop, &r, &orx);
	struct sipcx_media *mt = new_session(&loop, &t, &otx);
	struct sipcx_media *mn = new_session(&loop, &n, &onone);

	/* no telephone-event, bad digits, a full queue, no peer yet */
	assert_int_equal(sipcx_media_send_dtmf(mt, "1", NULL), -ENOTCONN);
	set_remote(mt, mr);
	set_remote(mn, mr);
	assert_int_equal(sipcx_media_send_dtmf(mn, "1", NULL), -ENOTSUP);
	assert_int_equal(sipcx_media_send_dtmf(mt, "1x", NULL), -EINVAL);
	assert_int_equal(sipcx_media_send_dtmf(mt, "", NULL), -EINVAL);
	struct sipcx_dtmf_opts bad = { .duration_ms = 10 };
	assert_int_equal(sipcx_media_send_dtmf(mt, "1", &bad), -EINVAL);
	char many[66];
	memset(many, '5', 65);
	many[65] = '\0';
	assert_int_equal(sipcx_media_send_dtmf(mt, many, NULL), -ENOSPC);
	assert_int_equal(stats(mt).tx_packets, 0);

	/* no audio handler: the clock runs for the two digits, then stops */
	struct sipcx_dtmf_opts o = { .duration_ms = 60, .gap_ms = 40 };
	assert_int_equal(sipcx_media_send_dtmf(mt, "1#", &o), 0);
	assert_true(run_until(&loop, got_two_digits, &r, 5000));
	assert_string_equal(r.digits, "1#");
	assert_int_equal(r.dtmf_dur[0], 480); /* 60 ms at 8 kHz */
	assert_int_equal(r.dtmf_dur[1], 480);
	assert_int_equal(r.dtmf_begin, 2);
	assert_int_equal(r.markers, 2);
	assert_int_equal(r.ev_ts_changes, 1); /* one timestamp per event */
	assert_int_equal(r.seq_breaks, 0);
	assert_int_equal(r.last_ssrc, sipcx_media_ssrc(mt));
	struct want all = { &r, 2 * (3 + 2), NULL }; /* per digit: 3 updates, 2 more ends */
	assert_true(run_until(&loop, got_rtp, &all, 5000));
	uint64_t sent = stats(mt).tx_packets;
	assert_int_equal(sent, 10);
	struct want none = { &r, 1000, NULL };
	run_until(&loop, got_rtp, &none, 100);
	assert_int_equal(stats(mt).tx_packets, sent); /* the clock stopped */
	assert_int_equal(r.pt101, 10);

	sipcx_media_free(mn);
	sipcx_media_free(mt);
	sipcx_media_free(mr);
	finish_loop(&loop);
}

/* With a silence stream: audio pauses for the event, resumes after, one sequence space. */
static void test_send_dtmf_in_audio(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs r = { 0 }, t = { 0 };
	struct sipcx_media_opts orx = obs_opts(&r), otx = obs_opts(&t);
	orx.dtmf_pt = 101;
	otx.dtmf_pt = 101;
	otx.handler = SIPCX_MEDIA_SILENCE;
	otx.codec = "PCMU";
	struct sipcx_media *mr = new_session(&loop, &r, &orx);
	struct sipcx_media *mt = NULL;
	assert_int_equal(sipcx_media_new_loop(&mt, &loop, &otx), 0);
	set_remote(mt, mr);
	assert_int_equal(sipcx_media_start(mt), 0);
	struct want w = { &r, 3, NULL };
	assert_true(run_until(&loop, got_rtp, &w, 5000));
	struct sipcx_dtmf_opts o = { .duration_ms = 40, .gap_ms = 40, .delay_ms = 20 };
	assert_int_equal(sipcx_media_send_dtmf(mt, "9", &o), 0);
	assert_true(run_until(&loop, got_dtmf_end, &r, 5000));
	unsigned before = r.rtp;
	struct want more = { &r, before + 5, NULL };
	assert_true(run_until(&loop, got_rtp, &more, 5000));
	assert_int_equal(r.last_pt, 0); /* audio again */
	assert_int_equal(r.digits[0], '9');
	assert_int_equal(r.dtmf_dur[0], 320);
	assert_int_equal(r.seq_breaks, 0);
	assert_int_equal(r.markers, 1);
	sipcx_media_free(mt);
	sipcx_media_free(mr);
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
	assert_int_equal(sipcx_media_new_loop(&m, &loop, NULL), -ENOMEM);
	assert_true(tu_alloc_failed());
	assert_null(m);
	tu_alloc_fail_at(0);
	assert_int_equal(sipcx_media_new_loop(&m, &loop, NULL), 0);
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

/* ------------------------------------------ thread-safe I/O (io_queue) -- */

/*
 * A loop on a thread of its own, as the ua engine runs one. lt_call() runs
 * a function on it and returns once it has run (uv_async_t + a done flag
 * under a mutex): the test's thread is a user thread.
 */
struct lt {
	uv_loop_t loop;
	uv_thread_t th;
	uv_async_t async;
	uv_mutex_t mu;
	uv_cond_t cv;
	void (*fn)(void *);
	void *arg;
	bool done;
};

static void lt_async(uv_async_t *a)
{
	struct lt *t = a->data;
	uv_mutex_lock(&t->mu);
	void (*fn)(void *) = t->fn;
	void *arg = t->arg;
	uv_mutex_unlock(&t->mu);
	if (!fn)
		return;
	fn(arg);
	uv_mutex_lock(&t->mu);
	t->fn = NULL;
	t->done = true;
	uv_cond_signal(&t->cv);
	uv_mutex_unlock(&t->mu);
}

static void lt_main(void *arg)
{
	struct lt *t = arg;
	uv_run(&t->loop, UV_RUN_DEFAULT);
}

/* Set up the loop; sessions may be created on it before lt_run() starts its thread. */
static void lt_init(struct lt *t)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(uv_loop_init(&t->loop), 0);
	assert_int_equal(uv_async_init(&t->loop, &t->async, lt_async), 0);
	t->async.data = t;
	assert_int_equal(uv_mutex_init(&t->mu), 0);
	assert_int_equal(uv_cond_init(&t->cv), 0);
}

static void lt_run(struct lt *t)
{
	assert_int_equal(uv_thread_create(&t->th, lt_main, t), 0);
}

static void lt_call(struct lt *t, void (*fn)(void *), void *arg)
{
	uv_mutex_lock(&t->mu);
	t->fn = fn;
	t->arg = arg;
	t->done = false;
	uv_mutex_unlock(&t->mu);
	uv_async_send(&t->async);
	uv_mutex_lock(&t->mu);
	while (!t->done)
		uv_cond_wait(&t->cv, &t->mu);
	uv_mutex_unlock(&t->mu);
}

static void lt_quit_fn(void *arg)
{
	struct lt *t = arg;
	uv_close((uv_handle_t *)&t->async, NULL);
}

/* Close the control handle (the sessions were freed before), join, and check the loop is empty. */
static void lt_finish(struct lt *t)
{
	lt_call(t, lt_quit_fn, t);
	assert_int_equal(uv_thread_join(&t->th), 0);
	assert_int_equal(uv_loop_close(&t->loop), 0);
	uv_cond_destroy(&t->cv);
	uv_mutex_destroy(&t->mu);
}

static void free_fn(void *arg)
{
	sipcx_media_free(arg);
}

struct stats_req {
	struct sipcx_media *m;
	struct sipcx_media_stats st;
};
static void stats_fn(void *arg)
{
	struct stats_req *r = arg;
	sipcx_media_stats(r->m, &r->st);
}
static struct sipcx_media_stats lt_stats(struct lt *t, struct sipcx_media *m)
{
	struct stats_req r = { .m = m };
	lt_call(t, stats_fn, &r);
	return r.st;
}

static void send_rtcp_fn(void *arg)
{
	sipcx_media_send_rtcp(arg); /* checked by the reader: the SR arrives */
}

/* A started session on 127.0.0.1 with thread-safe I/O, on loop. */
static struct sipcx_media *io_session(uv_loop_t *loop, unsigned io_queue)
{
	struct sipcx_media_opts o = { .local_addr = "127.0.0.1",
		                      .rtcp_off = true,
		                      .io_queue = io_queue };
	struct sipcx_media *m = NULL;
	assert_int_equal(sipcx_media_new_loop(&m, loop, &o), 0);
	assert_int_equal(sipcx_media_start(m), 0);
	return m;
}

/* Wait (yielding, bounded) until n threads are blocked in m's reads or posts. */
static bool wait_blocked(const struct sipcx_media *m, unsigned n)
{
	uint64_t deadline = sipcx_now_us() + 10000000u;
	while (sipcx__media_io_waiters(m) < n) {
		if (sipcx_now_us() > deadline)
			return false;
		sched_yield();
	}
	return true;
}

/* The SR sender info of the first packet of an RTCP compound, if it is an SR from ssrc. */
static bool parse_sr(const uint8_t *buf, size_t len, uint32_t ssrc, struct sipcx_rtcp_report *r)
{
	struct sipcx_rtcp_iter it;
	struct sipcx_rtcp_pkt p;
	sipcx_rtcp_iter_init(&it, buf, len, 0);
	return sipcx_rtcp_iter_next(&it, &p) == 1 && sipcx_rtcp_report_parse(&p, r) == 0 &&
	       r->is_sr && r->ssrc == ssrc;
}

#define IO_N 500
#define IO_TS0 1000u
#define IO_PL 160

static void io_payload(uint8_t *pl, unsigned i)
{
	for (unsigned j = 0; j < IO_PL; j++)
		pl[j] = (uint8_t)(i * 7u + j);
}

struct io_writer {
	struct sipcx_media *m;
	uint32_t ssrc;
	int err; /* the first failure */
	unsigned sent;
	uint8_t rtcp[128];
	int rtcp_len;
};

static void payload_writer(void *arg)
{
	struct io_writer *w = arg;
	uint8_t pl[IO_PL];
	for (unsigned i = 0; i < IO_N && !w->err; i++) {
		io_payload(pl, i);
		w->err =
		    sipcx_media_post_payload(w->m, IO_TS0 + i * 160u, i == 0, pl, sizeof(pl), -1);
		if (!w->err)
			w->sent++;
	}
	/* then an RTCP compound of our own: RR + SDES */
	struct sipcx_rtcp_writer rw;
	sipcx_rtcp_writer_init(&rw, w->rtcp, sizeof(w->rtcp));
	sipcx_rtcp_write_report(&rw, w->ssrc, NULL, NULL, 0);
	sipcx_rtcp_write_cname(&rw, w->ssrc, sipcx_str_c("user-thread@example.org"));
	w->rtcp_len = sipcx_rtcp_writer_finish(&rw, 0);
	if (!w->err && w->rtcp_len > 0)
		w->err = sipcx_media_post_rtcp(w->m, w->rtcp, (size_t)w->rtcp_len, 1000);
}

struct io_reader {
	struct sipcx_media *m;
	uint32_t ssrc;
	int err;
	unsigned got;
	unsigned seq_breaks, bad_ts, bad_marker, bad_payload, bad_ssrc;
	uint8_t rtcp[1500];
	int rtcp_len;
};

static void rtp_reader(void *arg)
{
	struct io_reader *r = arg;
	uint8_t buf[1500], want[IO_PL];
	uint16_t prev = 0;
	for (unsigned i = 0; i < IO_N; i++) {
		int n = sipcx_media_read_rtp(r->m, buf, sizeof(buf), 10000);
		if (n < 0) {
			r->err = n;
			return;
		}
		struct sipcx_rtp_pkt p;
		if (sipcx_rtp_parse(&p, buf, (size_t)n) < 0) {
			r->err = -EBADMSG;
			return;
		}
		r->got++;
		r->bad_ssrc += p.ssrc != r->ssrc;
		r->seq_breaks += i > 0 && p.seq != (uint16_t)(prev + 1);
		prev = p.seq;
		r->bad_ts += p.ts != IO_TS0 + i * 160u;
		r->bad_marker += p.marker != (i == 0);
		io_payload(want, i);
		r->bad_payload += p.payload_len != IO_PL || memcmp(p.payload, want, IO_PL) != 0;
	}
}

static void rtcp_reader(void *arg)
{
	struct io_reader *r = arg;
	r->rtcp_len = sipcx_media_read_rtcp(r->m, r->rtcp, sizeof(r->rtcp), 10000);
}

/*
 * A user thread posts 500 payloads (ts, marker) and an RTCP packet into A;
 * two other threads read them from B: order, payload, sequence, and A's SR
 * counts every posted packet.
 */
static void test_io_exchange(void **state)
{
	(void)state;
	struct lt t;
	lt_init(&t);
	struct sipcx_media *a = io_session(&t.loop, 64);
	struct sipcx_media *b = io_session(&t.loop, 1024); /* room for all: the reader may lag */
	set_remote(a, b);
	set_remote(b, a);
	lt_run(&t);

	struct io_writer w = { .m = a, .ssrc = 0x5eed };
	struct io_reader r = { .m = b, .ssrc = sipcx_media_ssrc(a) };
	struct io_reader rc = { .m = b };
	uv_thread_t tw, tr, trc;
	assert_int_equal(uv_thread_create(&tr, rtp_reader, &r), 0);
	assert_int_equal(uv_thread_create(&trc, rtcp_reader, &rc), 0);
	assert_int_equal(uv_thread_create(&tw, payload_writer, &w), 0);
	assert_int_equal(uv_thread_join(&tw), 0);
	assert_int_equal(uv_thread_join(&tr), 0);
	assert_int_equal(uv_thread_join(&trc), 0);

	assert_int_equal(w.err, 0);
	assert_int_equal(w.sent, IO_N);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.got, IO_N);
	assert_int_equal(r.bad_ssrc, 0);
	assert_int_equal(r.seq_breaks, 0);
	assert_int_equal(r.bad_ts, 0);
	assert_int_equal(r.bad_marker, 0);
	assert_int_equal(r.bad_payload, 0);
	assert_true(w.rtcp_len > 0);
	assert_int_equal(rc.rtcp_len, w.rtcp_len);
	assert_memory_equal(rc.rtcp, w.rtcp, (size_t)w.rtcp_len);

	/* the posted packets count in A's SR (RFC 3550 6.4.1 sender's packet and octet counts) */
	lt_call(&t, send_rtcp_fn, a);
	uint8_t buf[1500];
	int n = sipcx_media_read_rtcp(b, buf, sizeof(buf), 10000);
	assert_true(n > 0);
	struct sipcx_rtcp_report sr;
	assert_true(parse_sr(buf, (size_t)n, sipcx_media_ssrc(a), &sr));
	assert_int_equal(sr.si.packets, IO_N);
	assert_int_equal(sr.si.octets, IO_N * IO_PL);

	struct sipcx_media_stats sa = lt_stats(&t, a), sb = lt_stats(&t, b);
	assert_int_equal(sa.tx_packets, IO_N);
	assert_int_equal(sa.tx_bytes, IO_N * IO_PL);
	assert_int_equal(sa.tx_dropped, 0);
	assert_int_equal(sa.rtcp_tx, 2);
	assert_int_equal(sa.io_tx_full, 0); /* the writer waited for room instead */
	assert_int_equal(sb.rx_packets, IO_N);
	assert_int_equal(sb.rtcp_rx, 2);
	assert_int_equal(sb.lost, 0);
	assert_int_equal(sb.io_rx_dropped, 0);
	assert_int_equal(sipcx_media_read_rtp(b, buf, sizeof(buf), 0), -EAGAIN);

	lt_call(&t, free_fn, a);
	lt_call(&t, free_fn, b);
	lt_finish(&t);
}

struct blocked {
	struct sipcx_media *m;
	bool rtcp;
	int rc;
};
static void blocked_reader(void *arg)
{
	struct blocked *b = arg;
	uint8_t buf[1500];
	b->rc = b->rtcp ? sipcx_media_read_rtcp(b->m, buf, sizeof(buf), -1)
	                : sipcx_media_read_rtp(b->m, buf, sizeof(buf), -1);
}

/* Read timeouts; close wakes readers blocked forever; posts after close fail; free wakes a reader too. */
static void test_io_timeout_close(void **state)
{
	(void)state;
	struct lt t;
	lt_init(&t);
	struct sipcx_media *m = io_session(&t.loop, 8);
	struct sipcx_media *n = io_session(&t.loop, 8);
	lt_run(&t);
	uint8_t buf[1500];

	assert_int_equal(sipcx_media_read_rtp(m, buf, sizeof(buf), 0), -EAGAIN);
	assert_int_equal(sipcx_media_read_rtp(m, NULL, 10, 0), -EINVAL);
	assert_int_equal(sipcx_media_read_rtp(NULL, buf, sizeof(buf), 0), -EINVAL);
	uint64_t t0 = uv_hrtime();
	assert_int_equal(sipcx_media_read_rtp(m, buf, sizeof(buf), 50), -ETIMEDOUT);
	assert_true(uv_hrtime() - t0 >= 50000000u); /* not early */
	t0 = uv_hrtime();
	assert_int_equal(sipcx_media_read_rtcp(m, buf, sizeof(buf), 30), -ETIMEDOUT);
	assert_true(uv_hrtime() - t0 >= 30000000u);

	/* two readers blocked forever, woken by a close from this (user) thread */
	struct blocked b1 = { m, false, 0 }, b2 = { m, true, 0 };
	uv_thread_t t1, t2;
	assert_int_equal(uv_thread_create(&t1, blocked_reader, &b1), 0);
	assert_int_equal(uv_thread_create(&t2, blocked_reader, &b2), 0);
	assert_true(wait_blocked(m, 2));
	sipcx_media_close(m);
	assert_int_equal(uv_thread_join(&t1), 0);
	assert_int_equal(uv_thread_join(&t2), 0);
	assert_int_equal(b1.rc, -ECANCELED);
	assert_int_equal(b2.rc, -ECANCELED);

	/* after close: every post fails, reads end at once */
	uint8_t pkt[64];
	struct sipcx_rtp_pkt p = { .pt = 0,
		                   .seq = 1,
		                   .ts = 160,
		                   .ssrc = 7,
		                   .payload = (const uint8_t *)"x",
		                   .payload_len = 1 };
	int len = sipcx_rtp_build(&p, pkt, sizeof(pkt));
	assert_true(len > 0);
	assert_int_equal(sipcx_media_post_rtp(m, pkt, (size_t)len, 0), SIPCX_ECLOSED);
	assert_int_equal(sipcx_media_post_payload(m, 0, false, "x", 1, -1), SIPCX_ECLOSED);
	assert_int_equal(sipcx_media_post_rtcp(m, "\x80\xc9\x00\x01\0\0\0\1", 8, 0), SIPCX_ECLOSED);
	assert_int_equal(sipcx_media_read_rtp(m, buf, sizeof(buf), -1), -ECANCELED);
	assert_int_equal(sipcx_media_read_rtcp(m, buf, sizeof(buf), 0), -ECANCELED);
	sipcx_media_close(m); /* again: nothing */
	sipcx_media_close(NULL);

	/* a reader blocked when the loop frees the session wakes up and returns safely */
	struct blocked b3 = { n, false, 0 };
	uv_thread_t t3;
	assert_int_equal(uv_thread_create(&t3, blocked_reader, &b3), 0);
	assert_true(wait_blocked(n, 1));
	lt_call(&t, free_fn, n);
	assert_int_equal(uv_thread_join(&t3), 0);
	assert_int_equal(b3.rc, -ECANCELED);

	/* a session without io_queue has no thread-safe I/O */
	struct sipcx_media *plain = NULL;
	struct sipcx_media_opts o = { .local_addr = "127.0.0.1" };
	assert_int_equal(sipcx_media_new_loop(&plain, &t.loop, &o),
	                 0); /* the loop does not run it yet */
	assert_int_equal(sipcx_media_read_rtp(plain, buf, sizeof(buf), 0), -ENOTSUP);
	assert_int_equal(sipcx_media_post_rtp(plain, pkt, (size_t)len, 0), -ENOTSUP);
	assert_int_equal(sipcx_media_post_payload(plain, 0, false, "x", 1, 0), -ENOTSUP);
	sipcx_media_close(plain);
	o.io_queue = 65537;
	struct sipcx_media *bad = NULL;
	assert_int_equal(sipcx_media_new_loop(&bad, &t.loop, &o), -EINVAL);
	o.io_queue = 4;
	o.io_max_len = 8;
	assert_int_equal(sipcx_media_new_loop(&bad, &t.loop, &o), -EINVAL);
	assert_null(bad);

	lt_call(&t, free_fn, plain);
	lt_call(&t, free_fn, m);
	lt_finish(&t);
}

struct blocked_writer {
	struct sipcx_media *m;
	int rc;
};
static void blocked_post(void *arg)
{
	struct blocked_writer *w = arg;
	w->rc = sipcx_media_post_payload(w->m, 480, false, "w", 1, -1);
}

/*
 * A full send queue (the loop is not running): posts fail with -EAGAIN or
 * -ETIMEDOUT and are counted, a writer waiting for room wakes on close;
 * the session goes on after close, and free sends what was posted.
 * A full read queue drops its oldest packets.
 */
static void test_io_full(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct obs ob = { 0 };
	struct sipcx_media_opts o = obs_opts(&ob);
	o.io_queue = 2;
	struct sipcx_media *b = new_session(&loop, &ob, &o);
	struct sipcx_media *a = io_session(&loop, 2);
	set_remote(a, b);
	set_remote(b, a);

	assert_int_equal(sipcx_media_post_payload(a, 0, true, "p0", 2, 0), 0);
	assert_int_equal(sipcx_media_post_payload(a, 160, false, "p1", 2, 0), 0);
	assert_int_equal(sipcx_media_post_payload(a, 320, false, "p2", 2, 0), -EAGAIN);
	uint64_t t0 = uv_hrtime();
	assert_int_equal(sipcx_media_post_payload(a, 320, false, "p2", 2, 30), -ETIMEDOUT);
	assert_true(uv_hrtime() - t0 >= 30000000u);
	/* too long for a slot: refused before queueing */
	static uint8_t big[1600];
	assert_int_equal(sipcx_media_post_payload(a, 0, false, big, 1500 - 11, 0), -EMSGSIZE);
	assert_int_equal(sipcx_media_post_rtcp(a, big, 3, 0), -EINVAL);
	assert_int_equal(sipcx_media_post_rtp(a, "not rtp", 7, 0), -EINVAL);

	struct blocked_writer w = { a, 0 };
	uv_thread_t tw;
	assert_int_equal(uv_thread_create(&tw, blocked_post, &w), 0);
	assert_true(wait_blocked(a, 1));
	sipcx_media_close(a);
	assert_int_equal(uv_thread_join(&tw), 0);
	assert_int_equal(w.rc, SIPCX_ECLOSED);
	assert_int_equal(stats(a).io_tx_full, 2);

	/* closing the I/O does not end the session: the loop thread still sends */
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(sipcx_media_send(a, 1000 + i, false, "dd", 2), 0);
	/* free sends the two posted packets after those */
	uint32_t ssrc = sipcx_media_ssrc(a);
	sipcx_media_free(a);
	struct want wb = { &ob, 5, NULL };
	assert_true(run_until(&loop, got_rtp, &wb, 5000));
	assert_int_equal(ob.seq_breaks, 0);
	assert_int_equal(ob.last_ssrc, ssrc);

	/* B's read queue holds 2: the three oldest were dropped, the posted two remain */
	assert_int_equal(stats(b).io_rx_dropped, 3);
	uint8_t buf[1500];
	struct sipcx_rtp_pkt p;
	int n = sipcx_media_read_rtp(b, buf, sizeof(buf), 0);
	assert_int_equal(sipcx_rtp_parse(&p, buf, (size_t)n), 0);
	assert_int_equal(p.ts, 0);
	assert_true(p.marker);
	assert_memory_equal(p.payload, "p0", 2);
	assert_int_equal(sipcx_media_read_rtp(b, buf, 4, 0), -EMSGSIZE); /* stays queued */
	n = sipcx_media_read_rtp(b, buf, sizeof(buf), 0);
	assert_int_equal(sipcx_rtp_parse(&p, buf, (size_t)n), 0);
	assert_int_equal(p.ts, 160);
	assert_memory_equal(p.payload, "p1", 2);
	assert_int_equal(sipcx_media_read_rtp(b, buf, sizeof(buf), 0), -EAGAIN);
	sipcx_media_free(b);
	finish_loop(&loop);
}

#define W_N 200
struct mwriter {
	struct sipcx_media *m;
	uint8_t id;
	int err;
};

/* Writers 0 and 1 post payloads (the session's header); 2 and 3 post whole packets of their own SSRC. */
static void multi_writer(void *arg)
{
	struct mwriter *w = arg;
	for (uint32_t i = 0; i < W_N && !w->err; i++) {
		uint8_t pl[5] = { w->id };
		memcpy(pl + 1, &i, 4);
		if (w->id < 2) {
			w->err =
			    sipcx_media_post_payload(w->m, i * 160u, false, pl, sizeof(pl), -1);
		} else {
			uint8_t pkt[64];
			struct sipcx_rtp_pkt p = { .pt = 0,
				                   .seq = (uint16_t)i,
				                   .ts = i * 160u,
				                   .ssrc = 0x1000u + w->id,
				                   .payload = pl,
				                   .payload_len = sizeof(pl) };
			int n = sipcx_rtp_build(&p, pkt, sizeof(pkt));
			w->err = n < 0 ? n : sipcx_media_post_rtp(w->m, pkt, (size_t)n, -1);
		}
	}
}

struct mreader {
	struct sipcx_media *m;
	uint32_t ssrc;
	int err;
	unsigned got, bad;
	uint32_t next[4];
	bool have_seq;
	uint16_t seq;
};
static void multi_reader(void *arg)
{
	struct mreader *r = arg;
	uint8_t buf[1500];
	for (unsigned k = 0; k < 4 * W_N; k++) {
		int n = sipcx_media_read_rtp(r->m, buf, sizeof(buf), 10000);
		struct sipcx_rtp_pkt p;
		if (n < 0 || sipcx_rtp_parse(&p, buf, (size_t)n) < 0 || p.payload_len != 5 ||
		    p.payload[0] > 3) {
			r->err = n < 0 ? n : -EBADMSG;
			return;
		}
		r->got++;
		uint8_t id = p.payload[0];
		uint32_t i;
		memcpy(&i, p.payload + 1, 4);
		/* each writer's packets arrive in the order it posted them */
		r->bad += i != r->next[id];
		r->next[id] = i + 1;
		if (id < 2) {
			/* the session numbers posted payloads consecutively, whoever posted */
			r->bad += p.ssrc != r->ssrc;
			r->bad += r->have_seq && p.seq != (uint16_t)(r->seq + 1);
			r->have_seq = true;
			r->seq = p.seq;
		} else {
			r->bad += p.ssrc != 0x1000u + id || p.seq != (uint16_t)i;
		}
	}
}

/* Four writer threads at once into one session (a small send queue, so they wait for room). */
static void test_io_writers4(void **state)
{
	(void)state;
	struct lt t;
	lt_init(&t);
	struct sipcx_media *a = io_session(&t.loop, 16);
	struct sipcx_media *b = io_session(&t.loop, 1024);
	set_remote(a, b);
	set_remote(b, a);
	lt_run(&t);

	struct mreader r = { .m = b, .ssrc = sipcx_media_ssrc(a) };
	uv_thread_t tr, tw[4];
	struct mwriter w[4];
	assert_int_equal(uv_thread_create(&tr, multi_reader, &r), 0);
	for (uint8_t i = 0; i < 4; i++) {
		w[i] = (struct mwriter){ a, i, 0 };
		assert_int_equal(uv_thread_create(&tw[i], multi_writer, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(uv_thread_join(&tw[i]), 0);
		assert_int_equal(w[i].err, 0);
	}
	assert_int_equal(uv_thread_join(&tr), 0);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.got, 4 * W_N);
	assert_int_equal(r.bad, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r.next[i], W_N);

	/* our SR counts only the packets of our SSRC: the payloads of writers 0 and 1 */
	lt_call(&t, send_rtcp_fn, a);
	uint8_t buf[1500];
	int n = sipcx_media_read_rtcp(b, buf, sizeof(buf), 10000);
	assert_true(n > 0);
	struct sipcx_rtcp_report sr;
	assert_true(parse_sr(buf, (size_t)n, sipcx_media_ssrc(a), &sr));
	assert_int_equal(sr.si.packets, 2 * W_N);
	assert_int_equal(sr.si.octets, 2 * W_N * 5);
	struct sipcx_media_stats sa = lt_stats(&t, a);
	assert_int_equal(sa.tx_packets, 4 * W_N);
	assert_int_equal(sa.tx_dropped, 0);
	assert_int_equal(lt_stats(&t, b).io_rx_dropped, 0);

	lt_call(&t, free_fn, a);
	lt_call(&t, free_fn, b);
	lt_finish(&t);
}

/* Every allocation of a session with thread-safe I/O fails in turn: -ENOMEM, nothing leaked. */
static void test_io_oom(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	tu_alloc_install();
	struct sipcx_media_opts o = { .local_addr = "127.0.0.1", .io_queue = 4 };
	struct sipcx_media *m = NULL;
	long i;
	for (i = 1; i < 100; i++) {
		tu_alloc_fail_at(i);
		int err = sipcx_media_new_loop(&m, &loop, &o);
		if (err == 0)
			break;
		assert_int_equal(err, -ENOMEM);
		assert_null(m);
		for (int k = 0; k < 10 && uv_loop_alive(&loop); k++)
			uv_run(&loop, UV_RUN_NOWAIT);
		assert_int_equal(tu_alloc_live(), 0);
	}
	/* the session, its io, and three queues of four allocations each */
	assert_true(i >= 1 + 1 + 3 * 4 + 1);
	tu_alloc_fail_at(0);
	assert_non_null(m);
	assert_int_equal(sipcx_media_start(m), 0);
	assert_int_equal(sipcx_media_post_payload(m, 0, false, "x", 1, 0),
	                 0); /* no peer: dropped */
	sipcx_media_free(m);
	finish_loop(&loop);
	assert_int_equal(tu_alloc_live(), 0);
	tu_alloc_uninstall();
}

/*
 * The io of a session outlives it while a user thread's call is still in it
 * (held here as such a call holds it), and goes with the last one out.
 */
static void test_io_lifetime(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	tu_alloc_install();
	struct sipcx_media_opts o = { .local_addr = "127.0.0.1", .io_queue = 4 };
	struct sipcx_media *m = NULL;
	assert_int_equal(sipcx_media_new_loop(&m, &loop, &o), 0);
	long with_io = tu_alloc_live();
	struct sipcx__media_io *io = sipcx__media_io_hold(m);
	assert_non_null(io);
	sipcx_media_free(m);
	finish_loop(&loop); /* every handle closed, the session's memory returned */
	long left = tu_alloc_live();
	assert_true(left > 0 && left < with_io); /* the io and its queues only */
	sipcx__media_io_release(io);
	assert_int_equal(tu_alloc_live(), 0);
	tu_alloc_uninstall();
}

/*
 * Sessions on an engine's loop (sipcx_media_new() with a UA): created,
 * driven and freed from this thread while they run on the UA's thread; the
 * thread-safe I/O carries the packets; a session still open when its UA is
 * freed is closed with it.
 */
static void test_on_ua_loop(void **state)
{
	(void)state;
	struct sipcx_ua *ua = NULL;
	struct sipcx_ua_opts uo = { .listen = "" };
	assert_int_equal(sipcx_ua_new(&ua, &uo), 0);
	struct sipcx_media_opts oe = {
		.local_addr = "127.0.0.1",
		.handler = SIPCX_MEDIA_ECHO,
		.latch = SIPCX_MEDIA_LATCH_ANY,
	};
	struct sipcx_media *echo = NULL, *talk = NULL;
	assert_int_equal(sipcx_media_new(&echo, ua, &oe), 0);
	assert_int_equal(sipcx_media_start(echo), 0);
	struct sipcx_media_opts ot = { .local_addr = "127.0.0.1", .io_queue = 64 };
	assert_int_equal(sipcx_media_new(&talk, ua, &ot), 0);
	assert_int_equal(sipcx_media_set_remote(talk, "127.0.0.1", sipcx_media_port(echo), 0), 0);
	assert_int_equal(sipcx_media_start(talk), 0);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(sipcx_media_post_payload(talk, i * 160u, i == 0, "abcd", 4, 1000),
		                 0);
	uint8_t buf[1500];
	for (unsigned i = 0; i < 5; i++) {
		int n = sipcx_media_read_rtp(talk, buf, sizeof(buf), 5000);
		assert_int_equal(n, 12 + 4);
		assert_memory_equal(buf + 12, "abcd", 4);
	}
	struct sipcx_media_stats st;
	sipcx_media_stats(echo, &st);
	assert_int_equal(st.rx_packets, 5);
	assert_int_equal(st.tx_packets, 5);
	sipcx_media_stats(talk, &st);
	assert_int_equal(st.tx_packets, 5);
	assert_int_equal(st.rx_packets, 5);
	assert_int_equal(sipcx_media_send_rtcp(talk), 0);
	/* A re-negotiation from this thread, as a re-INVITE would do. */
	struct sipcx_sdp_result res = { .addr_is_ip = true,
		                        .rtp_port = sipcx_media_port(echo),
		                        .pt = 8,
		                        .local_send = true,
		                        .dtmf_pt = -1 };
	snprintf(res.addr, sizeof(res.addr), "127.0.0.1");
	assert_int_equal(sipcx_media_apply_sdp(talk, &res), 0);
	sipcx_media_free(talk);
	assert_int_equal(sipcx_media_new(NULL, ua, NULL), -EINVAL);
	assert_int_equal(sipcx_media_new(&talk, NULL, NULL), -EINVAL);
	sipcx_ua_free(ua); /* echo is still open: the UA closes it */
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
		cmocka_unit_test(test_rtcp_mux),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_debug_log),
		cmocka_unit_test(test_trace_media),
		cmocka_unit_test(test_send_dtmf),
		cmocka_unit_test(test_send_dtmf_in_audio),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_queue_session),
		cmocka_unit_test(test_io_exchange),
		cmocka_unit_test(test_io_timeout_close),
		cmocka_unit_test(test_io_full),
		cmocka_unit_test(test_io_writers4),
		cmocka_unit_test(test_io_oom),
		cmocka_unit_test(test_io_lifetime),
		cmocka_unit_test(test_on_ua_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
