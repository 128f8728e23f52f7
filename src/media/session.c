/* media/session.c: an RTP/RTCP media session on libuv (RFC 3550 6.2/6.3 reports, RFC 4961 symmetric RTP). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "base/base.h"
#include "media/media.h"

#include <sipcx/embed.h>

#define DEFAULT_RTCP_MS 5000u
#define MAX_PTIME_MS 200u
#define TX_BURST 10  /* packets sent at once to catch up after a late timer */
#define SR_HISTORY 4 /* our last SRs, to recognise them when an echo reflects them */
/*
 * One receive buffer per thread: libuv calls alloc, recvmsg and the receive
 * callback in turn (no recvmmsg), so the bytes are consumed before the next
 * datagram, and a session costs no buffer of its own.
 */
#define RX_BUF SIPCX__MEDIA_MAX_PKT

enum law { LAW_NONE = 0, LAW_ULAW, LAW_ALAW };

struct peer {
	union sipcx__maddr neg; /* negotiated (SDP) */
	union sipcx__maddr cur; /* where we send */
	bool has_neg;
	bool has_cur;
	bool seen_neg; /* a packet came from the negotiated address */
	bool latched;  /* cur was learnt from a stranger */
};

struct sr_sent {
	uint32_t mid;
	uint64_t us;
};

struct sipcx_media {
	uv_udp_t rtp;
	uv_udp_t rtcp;
	uv_timer_t tx_timer;
	uv_timer_t ctl_timer;

	int family;
	uint16_t port;
	uint8_t pending_close;
	bool closing;
	bool started;
	bool tx_running;
	bool timed_out;
	bool have_src;
	bool recvonly;
	bool echo_rtcp;
	bool rtcp_off;
	bool debug;
	uint8_t handler;
	uint8_t latch;
	uint8_t law;
	uint8_t pt;
	int8_t dtmf_pt;
	uint16_t tone_hz;

	uint32_t clock;
	uint32_t ptime_ms;
	uint32_t rtcp_ms;
	uint32_t inactivity_ms;

	sipcx_media_event_cb *on_event;
	sipcx_media_rtp_cb *on_rtp;
	sipcx_media_rtcp_cb *on_rtcp;
	sipcx_media_fill_cb *fill;
	sipcx_media_log_cb *log;
	void *arg;
	struct sipcx_media_queue *rxq;
	struct sipcx__media_io *io;      /* thread-safe I/O, or NULL */
	struct sipcx__media_owner owner; /* a session on an engine's loop; zeroed: none */

	struct peer rtp_peer;
	struct peer rtcp_peer;

	/* sending */
	uint16_t seq;
	bool marker_next;
	uint32_t ts;
	uint64_t tx_next_us;
	struct sipcx_media_tone tone;
	struct sipcx_rtp_sender snd;

	/* receiving */
	struct sipcx_rtp_source src;
	uint64_t last_rx_us;
	struct sipcx_rtp_event_rx dtmf;

	/* RTCP */
	uint64_t rtcp_next_us;
	uint64_t report_prev_us; /* the report before the last one (RFC 3550 6.4: we_sent) */
	uint64_t report_last_us;
	struct sr_sent sr[SR_HISTORY];
	uint8_t sr_pos;

	struct sipcx_media_stats st;
	char cname[64];
};

static _Thread_local uint8_t rx_buf[RX_BUF];

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static unsigned samples_per_packet(const struct sipcx_media *m)
{
	return (unsigned)((uint64_t)m->clock * m->ptime_ms / 1000u);
}

/*
 * A session on an engine's loop may be driven from any thread: the calls
 * below then run on that loop (and wait for it). A session on the caller's
 * own loop is driven from that loop's thread only.
 */
static bool off_loop(const struct sipcx_media *m)
{
	return m && m->owner.call && !m->owner.on_loop(m->owner.ctx);
}

/* One call forwarded to the loop: the function, its arguments, its result. */
struct hop {
	struct sipcx_media *m;
	const void *p1;
	const char *addr;
	uint16_t port, rtcp_port;
	void *out;
	int r;
};

static int run_on_loop(struct sipcx_media *m, void (*fn)(void *), struct hop *h)
{
	h->m = m;
	int r = m->owner.call(m->owner.ctx, fn, h);
	return r ? r : h->r;
}

static void on_close(uv_handle_t *h)
{
	struct sipcx_media *m = h->data;
	if (--m->pending_close == 0)
		sipcx_free(m);
}

static void close_handles(struct sipcx_media *m, int n)
{
	uv_handle_t *hs[4] = { (uv_handle_t *)&m->rtp, (uv_handle_t *)&m->rtcp,
		               (uv_handle_t *)&m->tx_timer, (uv_handle_t *)&m->ctl_timer };
	m->closing = true;
	m->pending_close = (uint8_t)n;
	for (int i = 0; i < n; i++)
		uv_close(hs[i], on_close);
}

/* ------------------------------------------------------------ logging -- */

static bool logging(const struct sipcx_media *m)
{
	return m->log || (m->debug && sipcx__log_cb && sipcx__log_level >= SIPCX_LOG_DEBUG);
}

static void log_line(struct sipcx_media *m, const char *line)
{
	if (m->log)
		m->log(m, line, m->arg);
	else
		SIPCX_DEBUG("%s", line);
}

static void log_pkt(struct sipcx_media *m, const char *what, const struct sockaddr *peer, bool rtcp,
                    const void *data, size_t len)
{
	char addr[SIPCX_ADDRSTRLEN] = "?", line[512];
	sipcx_sa_print(peer, addr, sizeof(addr));
	int n = snprintf(line, sizeof(line), "media %u: %s %s ", m->port, what, addr);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	if (rtcp) {
		sipcx_rtcp_snprint(line + n, sizeof(line) - (size_t)n, data, len);
	} else {
		struct sipcx_rtp_pkt pkt;
		if (sipcx_rtp_parse(&pkt, data, len) == 0)
			sipcx_rtp_snprint(line + n, sizeof(line) - (size_t)n, &pkt);
		else
			snprintf(line + n, sizeof(line) - (size_t)n, "%zu bytes (not RTP)", len);
	}
	log_line(m, line);
}

static void emit(struct sipcx_media *m, enum sipcx_media_event_type type, bool rtcp,
                 const struct sockaddr *addr, int err)
{
	if (!m->on_event)
		return;
	struct sipcx_media_event ev = { .type = type, .rtcp = rtcp, .addr = addr, .err = err };
	m->on_event(m, &ev, m->arg);
}

/* RFC 4733 2.5.2: report each event once when it begins and once when it ends. */
static void dtmf_input(struct sipcx_media *m, const struct sipcx_rtp_pkt *pkt)
{
	struct sipcx_rtp_event e;
	if (sipcx_rtp_event_parse(&e, pkt->payload, pkt->payload_len) < 0)
		return;
	int f = sipcx_rtp_event_rx_input(&m->dtmf, pkt->ts, &e);
	if (f <= 0 || !m->on_event)
		return;
	struct sipcx_media_event ev = { .type = SIPCX_MEDIA_EV_DTMF,
		                        .dtmf = e.event,
		                        .dtmf_begin = (f & SIPCX_RTP_EVENT_BEGIN) != 0,
		                        .dtmf_end = (f & SIPCX_RTP_EVENT_END) != 0,
		                        .dtmf_duration = e.duration };
	m->on_event(m, &ev, m->arg);
}

/* ------------------------------------------------------------ sending -- */

static int send_on(struct sipcx_media *m, uv_udp_t *h, const void *data, size_t len,
                   const struct sockaddr *to)
{
	uv_buf_t b = uv_buf_init((char *)(uintptr_t)data, (unsigned)len);
	int rc = uv_udp_try_send(h, &b, 1, to);
	if (rc < 0) {
		m->st.tx_dropped++;
		return rc;
	}
	if (logging(m))
		log_pkt(m, "send", to, h == &m->rtcp, data, len);
	return 0;
}

/* The RTCP destination: the RTCP peer, else the RTP peer's address one port up. */
static const struct sockaddr *rtcp_dest(struct sipcx_media *m, union sipcx__maddr *tmp)
{
	if (m->rtcp_peer.has_cur)
		return &m->rtcp_peer.cur.sa;
	if (!m->rtp_peer.has_cur)
		return NULL;
	*tmp = m->rtp_peer.cur;
	uint16_t p = sipcx_sa_port(&tmp->sa);
	if (p == 65535)
		return NULL;
	if (tmp->sa.sa_family == AF_INET)
		tmp->in.sin_port = htons((uint16_t)(p + 1));
	else
		tmp->in6.sin6_port = htons((uint16_t)(p + 1));
	return &tmp->sa;
}

int sipcx_media_write_rtp(struct sipcx_media *m, const void *data, size_t len,
                          const struct sockaddr *to)
{
	struct sipcx_rtp_pkt pkt;
	if (!m || !data || m->closing || sipcx_rtp_parse(&pkt, data, len) < 0)
		return -EINVAL;
	if (!to) {
		if (!m->rtp_peer.has_cur)
			return -ENOTCONN;
		to = &m->rtp_peer.cur.sa;
	}
	int rc = send_on(m, &m->rtp, data, len, to);
	if (rc == 0) {
		/* ours count in our SR; others (relayed, echoed) only in the session's counters */
		m->st.tx_packets++;
		m->st.tx_bytes += pkt.payload_len;
		if (pkt.ssrc == m->snd.ssrc)
			sipcx_rtp_sender_sent(&m->snd, pkt.ts, pkt.payload_len, sipcx_now_us());
	}
	return rc;
}

int sipcx_media_write_rtcp(struct sipcx_media *m, const void *data, size_t len,
                           const struct sockaddr *to)
{
	if (!m || !data || m->closing || len < 4)
		return -EINVAL;
	union sipcx__maddr tmp;
	if (!to && !(to = rtcp_dest(m, &tmp)))
		return -ENOTCONN;
	int rc = send_on(m, &m->rtcp, data, len, to);
	if (rc == 0)
		m->st.rtcp_tx++;
	return rc;
}

int sipcx_media_send(struct sipcx_media *m, uint32_t ts, bool marker, const void *payload,
                     size_t len)
{
	uint8_t buf[SIPCX__MEDIA_MAX_PKT];
	if (!m || (!payload && len))
		return -EINVAL;
	if (len > sizeof(buf) - SIPCX_RTP_HDR_MIN)
		return -EMSGSIZE;
	if (!m->rtp_peer.has_cur)
		return -ENOTCONN;
	struct sipcx_rtp_pkt pkt = { .marker = marker,
		                     .pt = m->pt,
		                     .seq = m->seq,
		                     .ts = ts,
		                     .ssrc = m->snd.ssrc,
		                     .payload = payload,
		                     .payload_len = len };
	int n = sipcx_rtp_build(&pkt, buf, sizeof(buf));
	if (n < 0)
		return n;
	int rc = sipcx_media_write_rtp(m, buf, (size_t)n, NULL);
	if (rc == 0)
		m->seq++;
	return rc;
}

void sipcx__media_send_posted(struct sipcx_media *m, int kind, const uint8_t *data, size_t len)
{
	int rc;
	if (kind == SIPCX__MEDIA_Q_PAYLOAD) {
		uint32_t ts;
		memcpy(&ts, data, 4);
		rc = sipcx_media_send(m, ts, data[4] != 0, data + SIPCX__MEDIA_PAYLOAD_PREFIX,
		                      len - SIPCX__MEDIA_PAYLOAD_PREFIX);
	} else if (kind == SIPCX_MEDIA_Q_RTCP) {
		rc = sipcx_media_write_rtcp(m, data, len, NULL);
	} else {
		rc = sipcx_media_write_rtp(m, data, len, NULL);
	}
	/*
	 * The poster was told 0 (queued) long ago: a packet that cannot go out
	 * (no peer yet) is counted, as a socket error already is by send_on().
	 */
	if (rc == -ENOTCONN || rc == -EINVAL || rc == -EMSGSIZE)
		m->st.tx_dropped++;
}

/* One packet of the ptime clock. Returns 0, or negative to stop the clock. */
static int tx_one(struct sipcx_media *m, uint64_t now)
{
	uint8_t buf[SIPCX_RTP_HDR_MIN + 1600];
	uint8_t *payload = buf + SIPCX_RTP_HDR_MIN;
	size_t n = samples_per_packet(m);
	if (n > 1600)
		n = 1600;
	struct sipcx_rtp_pkt pkt = { .marker = m->marker_next,
		                     .pt = m->pt,
		                     .seq = m->seq,
		                     .ts = m->ts,
		                     .ssrc = m->snd.ssrc };
	int len;
	switch (m->handler) {
	case SIPCX_MEDIA_SILENCE:
		/* G.711 codes of a zero sample: 0xFF mu-law, 0xD5 A-law */
		memset(payload, m->law == LAW_ALAW ? 0xD5 : 0xFF, n);
		len = (int)n;
		break;
	case SIPCX_MEDIA_TONE:
		sipcx_media_tone_g711(&m->tone, m->law == LAW_ALAW ? 8 : 0, payload, n);
		len = (int)n;
		break;
	case SIPCX_MEDIA_USER:
		len =
		    m->fill(m, &pkt, (unsigned)n, payload, sizeof(buf) - SIPCX_RTP_HDR_MIN, m->arg);
		if (len < 0 || m->closing)
			return -1;
		if ((size_t)len > sizeof(buf) - SIPCX_RTP_HDR_MIN)
			len = (int)(sizeof(buf) - SIPCX_RTP_HDR_MIN);
		break;
	default:
		return -1;
	}
	m->ts += (uint32_t)samples_per_packet(m);
	if (len == 0 || !m->rtp_peer.has_cur)
		return 0;
	pkt.ssrc = m->snd.ssrc;
	pkt.cc = 0;
	pkt.ext = false;
	pkt.pad_len = 0;
	pkt.payload = payload;
	pkt.payload_len = (size_t)len;
	int blen = sipcx_rtp_build(&pkt, buf, sizeof(buf));
	if (blen < 0)
		return 0;
	m->seq++;
	m->marker_next = false;
	if (send_on(m, &m->rtp, buf, (size_t)blen, &m->rtp_peer.cur.sa) == 0) {
		m->st.tx_packets++;
		m->st.tx_bytes += (size_t)len;
		sipcx_rtp_sender_sent(&m->snd, pkt.ts, (size_t)len, now);
	}
	return 0;
}

static void tx_cb(uv_timer_t *t)
{
	struct sipcx_media *m = t->data;
	uint64_t now = sipcx_now_us();
	uint64_t step = (uint64_t)m->ptime_ms * 1000u;
	/* absolute schedule: the timer's own lateness does not accumulate */
	for (int i = 0; i < TX_BURST && !m->closing && m->tx_next_us <= now + 1000u; i++) {
		if (tx_one(m, now) < 0) {
			m->tx_running = false;
			if (!m->closing)
				uv_timer_stop(&m->tx_timer);
			return;
		}
		m->tx_next_us += step;
	}
	if (m->closing)
		return; /* a callback freed the session */
	if (m->tx_next_us + step * TX_BURST < now)
		m->tx_next_us = now + step; /* stalled for long: resume, do not burst */
	uv_update_time(t->loop);
	uint64_t ms = m->tx_next_us > now ? (m->tx_next_us - now) / 1000u : 0;
	uv_timer_start(t, tx_cb, ms, 0);
}

/* -------------------------------------------------------------- RTCP -- */

static uint32_t rtcp_interval_us(struct sipcx_media *m)
{
	/* RFC 3550 6.3.1: randomised to 0.5-1.5 times the interval, against synchronisation */
	uint16_t r = 0;
	sipcx_random_bytes(&r, sizeof(r));
	uint64_t base = (uint64_t)m->rtcp_ms * 1000u;
	return (uint32_t)(base / 2 + base * r / 65536u);
}

static int build_report(struct sipcx_media *m, uint8_t *buf, size_t size, uint64_t now)
{
	struct sipcx_rtcp_writer w;
	sipcx_rtcp_writer_init(&w, buf, size);
	struct sipcx_rtcp_rb rb;
	unsigned n = 0;
	if (m->have_src && m->src.started) {
		sipcx_rtp_source_report(&m->src, now, &rb);
		n = 1;
	}
	/* RFC 3550 6.4: an SR when we sent RTP since the report before the last */
	bool we_sent =
	    m->snd.sent && (m->report_prev_us == 0 || m->snd.last_us >= m->report_prev_us);
	if (we_sent) {
		struct sipcx_rtcp_sender_info si;
		sipcx_rtp_sender_info(&m->snd, now, wall_us(), &si);
		sipcx_rtcp_write_report(&w, m->snd.ssrc, &si, n ? &rb : NULL, n);
		m->sr[m->sr_pos].mid = sipcx_rtp_ntp_mid(si.ntp);
		m->sr[m->sr_pos].us = now;
		m->sr_pos = (uint8_t)((m->sr_pos + 1) % SR_HISTORY);
	} else {
		sipcx_rtcp_write_report(&w, m->snd.ssrc, NULL, n ? &rb : NULL, n);
	}
	sipcx_rtcp_write_cname(&w, m->snd.ssrc, sipcx_str_c(m->cname));
	return sipcx_rtcp_writer_finish(&w, 0);
}

static void send_rtcp_hop(void *arg)
{
	struct hop *h = arg;
	h->r = sipcx_media_send_rtcp(h->m);
}

int sipcx_media_send_rtcp(struct sipcx_media *m)
{
	if (off_loop(m)) {
		struct hop h = { 0 };
		return run_on_loop(m, send_rtcp_hop, &h);
	}
	if (!m || m->closing)
		return -EINVAL;
	union sipcx__maddr tmp;
	const struct sockaddr *to = rtcp_dest(m, &tmp);
	if (!to)
		return -ENOTCONN;
	uint8_t buf[256];
	uint64_t now = sipcx_now_us();
	int len = build_report(m, buf, sizeof(buf), now);
	if (len < 0)
		return len;
	m->report_prev_us = m->report_last_us;
	m->report_last_us = now;
	return sipcx_media_write_rtcp(m, buf, (size_t)len, to);
}

static void send_bye(struct sipcx_media *m)
{
	union sipcx__maddr tmp;
	const struct sockaddr *to = rtcp_dest(m, &tmp);
	if (!to)
		return;
	uint8_t buf[256];
	uint64_t now = sipcx_now_us();
	int len = build_report(m, buf, sizeof(buf), now);
	if (len < 0)
		return;
	struct sipcx_rtcp_writer w;
	sipcx_rtcp_writer_init(&w, buf + len, sizeof(buf) - (size_t)len);
	sipcx_rtcp_write_bye(&w, &m->snd.ssrc, 1, SIPCX_STR_NULL);
	int blen = sipcx_rtcp_writer_finish(&w, 0);
	if (blen < 0)
		return;
	if (send_on(m, &m->rtcp, buf, (size_t)(len + blen), to) == 0)
		m->st.rtcp_tx++;
}

static void ctl_cb(uv_timer_t *t);

static void ctl_arm(struct sipcx_media *m)
{
	if (m->closing || !m->started)
		return;
	uint64_t now = sipcx_now_us();
	uint64_t due = UINT64_MAX;
	if (!m->rtcp_off)
		due = m->rtcp_next_us;
	if (m->inactivity_ms && !m->timed_out) {
		uint64_t d = m->last_rx_us + (uint64_t)m->inactivity_ms * 1000u;
		if (d < due)
			due = d;
	}
	if (due == UINT64_MAX) {
		uv_timer_stop(&m->ctl_timer);
		return;
	}
	uv_update_time(m->ctl_timer.loop);
	/* rounded up: the callback re-checks against the clock and re-arms if early */
	uint64_t ms = due > now ? (due - now + 999u) / 1000u : 0;
	uv_timer_start(&m->ctl_timer, ctl_cb, ms, 0);
}

static void ctl_cb(uv_timer_t *t)
{
	struct sipcx_media *m = t->data;
	uint64_t now = sipcx_now_us();
	if (!m->rtcp_off && now >= m->rtcp_next_us) {
		sipcx_media_send_rtcp(m);
		m->rtcp_next_us = now + rtcp_interval_us(m);
	}
	if (m->inactivity_ms && !m->timed_out &&
	    now >= m->last_rx_us + (uint64_t)m->inactivity_ms * 1000u) {
		m->timed_out = true;
		emit(m, SIPCX_MEDIA_EV_TIMEOUT, false, NULL, 0);
		if (m->closing)
			return;
	}
	ctl_arm(m);
}

/* ------------------------------------------------------------ latching -- */

/* Whether to take a packet from `from`: 0 yes, 1 yes and cur changed, -1 no. */
static int peer_accept(struct sipcx_media *m, struct peer *p, const struct sockaddr *from)
{
	if (p->has_neg && sipcx_sa_equal(&p->neg.sa, from)) {
		bool changed = !p->seen_neg && (!p->has_cur || !sipcx_sa_equal(&p->cur.sa, from));
		p->seen_neg = true;
		p->latched = false;
		p->cur = p->neg;
		p->has_cur = true;
		return changed ? 1 : 0;
	}
	if (p->has_cur && sipcx_sa_equal(&p->cur.sa, from))
		return 0;
	switch (m->latch) {
	case SIPCX_MEDIA_LATCH_OFF:
		return -1;
	case SIPCX_MEDIA_LATCH_FIRST:
		/* RTP bleed: once the negotiated peer spoke, or a stranger was taken, no one else */
		if (p->seen_neg || p->latched)
			return -1;
		break;
	default:
		break;
	}
	if (sipcx__maddr_set(&p->cur, from, m->family) < 0)
		return -1;
	p->has_cur = true;
	p->latched = true;
	return 1;
}

/* ----------------------------------------------------------- receiving -- */

static void rx_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	buf->base = (char *)rx_buf;
	buf->len = sizeof(rx_buf);
}

static void rx_active(struct sipcx_media *m, uint64_t now)
{
	m->last_rx_us = now;
	if (m->timed_out) {
		m->timed_out = false;
		emit(m, SIPCX_MEDIA_EV_RESUMED, false, NULL, 0);
		ctl_arm(m);
	}
}

static void rtcp_input(struct sipcx_media *m, uv_udp_t *h, struct peer *peer, const uint8_t *data,
                       size_t len, const struct sockaddr *from, uint64_t now)
{
	if (sipcx_rtcp_validate(data, len, 0) < 0) {
		m->st.rx_malformed++;
		if (logging(m))
			log_pkt(m, "recv malformed RTCP from", from, true, data, len);
		return;
	}
	int acc = peer_accept(m, peer, from);
	if (logging(m))
		log_pkt(m, acc < 0 ? "ignore (stranger)" : "recv", from, true, data, len);
	if (acc < 0) {
		m->st.rx_ignored++;
		return;
	}
	if (acc > 0 && peer == &m->rtcp_peer) {
		emit(m, SIPCX_MEDIA_EV_LATCH, true, &peer->cur.sa, 0);
		if (m->closing)
			return;
	}
	m->st.rtcp_rx++;
	if (m->handler == SIPCX_MEDIA_ECHO && m->echo_rtcp && send_on(m, h, data, len, from) == 0)
		m->st.rtcp_tx++;

	uint64_t wall = 0;
	bool bye = false;
	struct sipcx_rtcp_iter it;
	struct sipcx_rtcp_pkt p;
	sipcx_rtcp_iter_init(&it, data, len, 0);
	while (sipcx_rtcp_iter_next(&it, &p) == 1) {
		if (p.pt == SIPCX_RTCP_SR || p.pt == SIPCX_RTCP_RR) {
			struct sipcx_rtcp_report r;
			if (sipcx_rtcp_report_parse(&p, &r) < 0)
				continue;
			if (r.ssrc == m->snd.ssrc) {
				/* our own report came back: an echo peer reflects RTCP */
				uint32_t mid = sipcx_rtp_ntp_mid(r.si.ntp);
				for (unsigned i = 0; r.is_sr && i < SR_HISTORY; i++) {
					if (m->sr[i].us && m->sr[i].mid == mid) {
						m->st.echo_rtt_us = (uint32_t)(now - m->sr[i].us);
						m->st.echo_rtt_count++;
						m->sr[i].us = 0;
					}
				}
				continue;
			}
			if (r.is_sr && m->have_src && m->src.ssrc == r.ssrc)
				sipcx_rtp_source_sr(&m->src, &r.si, now);
			for (unsigned i = 0; i < r.rc; i++) {
				if (!wall)
					wall = wall_us();
				if (sipcx_rtp_sender_rb(&m->snd, &r.rb[i], wall) != -ENOENT)
					m->st.have_remote_report = true;
			}
		} else if (p.pt == SIPCX_RTCP_BYE) {
			struct sipcx_rtcp_bye b;
			if (sipcx_rtcp_bye_parse(&p, &b) == 0)
				for (unsigned i = 0; i < b.sc; i++)
					if (b.ssrc[i] != m->snd.ssrc)
						bye = true;
		}
	}
	if (m->rxq)
		sipcx_media_queue_push(m->rxq, SIPCX_MEDIA_Q_RTCP, data, len);
	if (m->io)
		sipcx__media_io_rx(m->io, SIPCX_MEDIA_Q_RTCP, data, len);
	emit(m, SIPCX_MEDIA_EV_RTCP, true, from, 0);
	if (m->closing)
		return;
	if (bye) {
		emit(m, SIPCX_MEDIA_EV_BYE, true, from, 0);
		if (m->closing)
			return;
	}
	if (m->on_rtcp)
		m->on_rtcp(m, data, len, from, m->arg);
}

static void rtp_input(struct sipcx_media *m, const uint8_t *data, size_t len,
                      const struct sockaddr *from, uint64_t now)
{
	struct sipcx_rtp_pkt pkt;
	if (sipcx_rtp_parse(&pkt, data, len) < 0) {
		m->st.rx_malformed++;
		if (logging(m))
			log_pkt(m, "recv malformed from", from, false, data, len);
		return;
	}
	int acc = peer_accept(m, &m->rtp_peer, from);
	if (logging(m))
		log_pkt(m, acc < 0 ? "ignore (stranger)" : "recv", from, false, data, len);
	if (acc < 0) {
		m->st.rx_ignored++;
		return;
	}
	if (acc > 0) {
		emit(m, SIPCX_MEDIA_EV_LATCH, false, &m->rtp_peer.cur.sa, 0);
		if (m->closing)
			return;
	}
	rx_active(m, now);
	if (m->closing)
		return;
	if (!m->have_src || m->src.ssrc != pkt.ssrc) {
		if (m->have_src && m->src.started)
			m->st.seq_restarts++;
		sipcx_rtp_source_init(&m->src, pkt.ssrc);
		m->have_src = true;
	}
	uint32_t restarts = m->src.restarts;
	sipcx_rtp_source_update(&m->src, pkt.seq, pkt.ts, sipcx_rtp_clock_units(now, m->clock),
	                        pkt.payload_len);
	m->st.seq_restarts += m->src.restarts - restarts;
	m->st.rx_packets++;
	m->st.rx_bytes += pkt.payload_len;

	if (m->dtmf_pt >= 0 && pkt.pt == (uint8_t)m->dtmf_pt) {
		dtmf_input(m, &pkt);
		if (m->closing)
			return;
	}
	if (m->handler == SIPCX_MEDIA_ECHO && !m->recvonly &&
	    send_on(m, &m->rtp, data, len, from) == 0) {
		m->st.tx_packets++;
		m->st.tx_bytes += pkt.payload_len;
	}
	if (m->rxq)
		sipcx_media_queue_push(m->rxq, SIPCX_MEDIA_Q_RTP, data, len);
	if (m->io)
		sipcx__media_io_rx(m->io, SIPCX_MEDIA_Q_RTP, data, len);
	if (m->on_rtp)
		m->on_rtp(m, &pkt, data, len, from, m->arg);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags)
{
	struct sipcx_media *m = h->data;
	if (m->closing)
		return;
	if (nread < 0) {
		emit(m, SIPCX_MEDIA_EV_ERROR, h == &m->rtcp, NULL, (int)nread);
		return;
	}
	if (!from)
		return; /* nothing more to read */
	if (flags & UV_UDP_PARTIAL) {
		m->st.rx_malformed++;
		return;
	}
	const uint8_t *data = (const uint8_t *)buf->base;
	size_t len = (size_t)nread;
	uint64_t now = sipcx_now_us();
	if (h == &m->rtcp)
		rtcp_input(m, h, &m->rtcp_peer, data, len, from, now);
	else if (sipcx_rtp_is_rtcp(data, len)) /* RFC 5761 4: RTCP on the RTP port */
		rtcp_input(m, h, &m->rtp_peer, data, len, from, now);
	else
		rtp_input(m, data, len, from, now);
}

/* ----------------------------------------------------------- lifecycle -- */

static void free_hop(void *arg)
{
	sipcx_media_free(((struct hop *)arg)->m);
}

void sipcx_media_free(struct sipcx_media *m)
{
	if (off_loop(m)) {
		struct hop h = { 0 };
		run_on_loop(m, free_hop, &h);
		return;
	}
	if (!m || m->closing)
		return;
	if (m->owner.freed)
		m->owner.freed(m->owner.ctx);
	/* wake the user threads, and send what they posted before the BYE */
	if (m->io)
		sipcx__media_io_shutdown(m->io);
	if (m->started && !m->rtcp_off)
		send_bye(m);
	close_handles(m, 4);
}

static int set_law(struct sipcx_media *m, const char *codec, int pt)
{
	if (codec) {
		if (!strcasecmp(codec, "PCMU"))
			m->law = LAW_ULAW;
		else if (!strcasecmp(codec, "PCMA"))
			m->law = LAW_ALAW;
		else
			m->law = LAW_NONE;
	} else {
		m->law = pt == 0 ? LAW_ULAW : pt == 8 ? LAW_ALAW : LAW_NONE;
	}
	if (m->law == LAW_NONE &&
	    (m->handler == SIPCX_MEDIA_SILENCE || m->handler == SIPCX_MEDIA_TONE))
		return SIPCX_ENOCODEC;
	return 0;
}

static void peer_set(struct peer *p, const union sipcx__maddr *a)
{
	memset(p, 0, sizeof(*p));
	if (!a)
		return;
	p->neg = *a;
	p->cur = *a;
	p->has_neg = true;
	p->has_cur = true;
}

static int set_remote2(struct sipcx_media *m, const char *addr, uint16_t port,
                       const char *rtcp_addr, uint16_t rtcp_port)
{
	union sipcx__maddr a, b;
	if (!m || port == 0 || sipcx__maddr_parse(&a, addr, port, m->family) < 0)
		return -EINVAL;
	if (rtcp_port == 0 && port < 65535)
		rtcp_port = (uint16_t)(port + 1);
	bool has_rtcp = rtcp_port != 0;
	if (has_rtcp &&
	    sipcx__maddr_parse(&b, rtcp_addr ? rtcp_addr : addr, rtcp_port, m->family) < 0)
		return -EINVAL;
	peer_set(&m->rtp_peer, &a);
	peer_set(&m->rtcp_peer, has_rtcp ? &b : NULL);
	return 0;
}

static void set_remote_hop(void *arg)
{
	struct hop *h = arg;
	h->r = set_remote2(h->m, h->addr, h->port, NULL, h->rtcp_port);
}

int sipcx_media_set_remote(struct sipcx_media *m, const char *addr, uint16_t port,
                           uint16_t rtcp_port)
{
	if (off_loop(m)) {
		struct hop h = { .addr = addr, .port = port, .rtcp_port = rtcp_port };
		return run_on_loop(m, set_remote_hop, &h);
	}
	return set_remote2(m, addr, port, NULL, rtcp_port);
}

static void apply_sdp_hop(void *arg)
{
	struct hop *h = arg;
	h->r = sipcx_media_apply_sdp(h->m, h->p1);
}

int sipcx_media_apply_sdp(struct sipcx_media *m, const struct sipcx_sdp_result *res)
{
	if (off_loop(m)) {
		struct hop h = { .p1 = res };
		return run_on_loop(m, apply_sdp_hop, &h);
	}
	if (!m || !res || !res->addr_is_ip || res->rtp_port == 0 || res->pt < 0 || res->pt > 127)
		return -EINVAL;
	if (res->ptime > MAX_PTIME_MS || (res->clock && res->clock > 192000))
		return -EINVAL;
	uint8_t law = m->law;
	int err = set_law(m, res->codec[0] ? res->codec : NULL, res->pt);
	if (err) {
		m->law = law;
		return err;
	}
	err = set_remote2(m, res->addr, res->rtp_port, res->rtcp_addr[0] ? res->rtcp_addr : NULL,
	                  res->rtcp_port);
	if (err) {
		m->law = law;
		return err;
	}
	if (res->rtcp_port == 0)
		peer_set(&m->rtcp_peer, NULL);
	m->pt = (uint8_t)res->pt;
	if (res->clock && res->clock != m->clock) {
		m->clock = res->clock;
		m->snd.clock_rate = res->clock;
		sipcx_media_tone_init(&m->tone, m->tone_hz, 8000, m->clock);
	}
	if (res->ptime)
		m->ptime_ms = res->ptime;
	m->dtmf_pt = (int8_t)(res->dtmf_pt >= 0 && res->dtmf_pt <= 127 ? res->dtmf_pt : -1);
	bool was_recvonly = m->recvonly;
	m->recvonly = !res->local_send;
	if (m->started && was_recvonly && !m->recvonly && !m->tx_running &&
	    m->handler >= SIPCX_MEDIA_SILENCE) {
		m->tx_running = true;
		m->tx_next_us = sipcx_now_us();
		uv_timer_start(&m->tx_timer, tx_cb, 0, 0);
	} else if (m->recvonly && m->tx_running) {
		m->tx_running = false;
		uv_timer_stop(&m->tx_timer);
	}
	return 0;
}

int sipcx_media_new_loop(struct sipcx_media **out, struct uv_loop_s *loop,
                         const struct sipcx_media_opts *opts)
{
	return sipcx__media_new(out, loop, opts, NULL);
}

int sipcx__media_new(struct sipcx_media **out, struct uv_loop_s *loop,
                     const struct sipcx_media_opts *opts, const struct sipcx__media_owner *owner)
{
	static const struct sipcx_media_opts defaults = { 0 };
	if (!out || !loop)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	if (opts->handler > SIPCX_MEDIA_USER || opts->latch > SIPCX_MEDIA_LATCH_ANY ||
	    (opts->handler == SIPCX_MEDIA_USER && !opts->fill) || opts->pt < 0 || opts->pt > 127 ||
	    opts->ptime > MAX_PTIME_MS || opts->clock > 192000 ||
	    (opts->cname && strlen(opts->cname) > 63) || opts->io_queue > 65536 ||
	    opts->io_max_len > SIPCX__MEDIA_MAX_PKT ||
	    (opts->io_max_len && opts->io_max_len < SIPCX_RTP_HDR_MIN) ||
	    (opts->port_min && opts->port_max && opts->port_min > opts->port_max))
		return -EINVAL;

	/* the session's family follows the local address, else the remote's */
	const char *local = opts->local_addr;
	if (!local)
		local = opts->remote_addr && strchr(opts->remote_addr, ':') ? "::" : "0.0.0.0";
	union sipcx__maddr la;
	if (sipcx__maddr_parse(&la, local, 0, 0) < 0)
		return -EINVAL;

	struct sipcx_media *m = sipcx_calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->family = la.sa.sa_family;
	if (owner)
		m->owner = *owner;
	m->handler = (uint8_t)opts->handler;
	m->latch = (uint8_t)opts->latch;
	m->pt = (uint8_t)opts->pt;
	m->dtmf_pt = (int8_t)(opts->dtmf_pt > 0 && opts->dtmf_pt <= 127 ? opts->dtmf_pt : -1);
	m->clock = opts->clock ? opts->clock : 8000;
	m->ptime_ms = opts->ptime ? opts->ptime : 20;
	m->rtcp_ms = opts->rtcp_interval_ms ? opts->rtcp_interval_ms : DEFAULT_RTCP_MS;
	m->rtcp_off = opts->rtcp_off;
	m->inactivity_ms = opts->inactivity_ms;
	m->recvonly = opts->recvonly;
	m->echo_rtcp = opts->echo_rtcp;
	m->debug = opts->debug;
	m->on_event = opts->on_event;
	m->on_rtp = opts->on_rtp;
	m->on_rtcp = opts->on_rtcp;
	m->fill = opts->fill;
	m->log = opts->log;
	m->arg = opts->arg;
	m->rxq = opts->rx_queue;
	m->tone_hz = (uint16_t)(opts->tone_hz ? opts->tone_hz : 440);
	int err = opts->tone_hz > 20000 ? -EINVAL : set_law(m, opts->codec, opts->pt);
	if (err == 0)
		err = sipcx_media_tone_init(&m->tone, m->tone_hz, 8000, m->clock);
	if (err == 0 && opts->remote_addr)
		err = sipcx_media_set_remote(m, opts->remote_addr, opts->remote_port,
		                             opts->remote_rtcp_port);
	if (err) {
		sipcx_free(m);
		return err;
	}

	/* random SSRC, first sequence number and timestamp (RFC 3550 5.1, 8.1) */
	uint32_t r[3];
	if ((err = sipcx_random_bytes(r, sizeof(r))) < 0) {
		sipcx_free(m);
		return err;
	}
	sipcx_rtp_sender_init(&m->snd, r[0], m->clock);
	m->seq = (uint16_t)r[1];
	m->ts = r[2];
	m->marker_next = true;
	sipcx_rtp_event_rx_init(&m->dtmf);
	if (opts->cname)
		snprintf(m->cname, sizeof(m->cname), "%s", opts->cname);
	else {
		char tok[17];
		sipcx_random_token(tok, 16);
		snprintf(m->cname, sizeof(m->cname), "sipcx-%s", tok);
	}

	if (opts->io_queue &&
	    (err = sipcx__media_io_new(&m->io, opts->io_queue,
	                               opts->io_max_len ? opts->io_max_len : 1500u)) < 0) {
		sipcx_free(m);
		return err;
	}

	int fd_rtp, fd_rtcp;
	err = sipcx__media_bind_pair(&la, opts->port, opts->port_min, opts->port_max, &fd_rtp,
	                             &fd_rtcp, &m->port);
	if (err) {
		sipcx__media_io_destroy(m->io);
		sipcx_free(m);
		return err;
	}
	uv_loop_t *l = loop;
	/* none of these allocate; once initialised, every handle is closed through the loop */
	uv_udp_init(l, &m->rtp);
	uv_udp_init(l, &m->rtcp);
	uv_timer_init(l, &m->tx_timer);
	uv_timer_init(l, &m->ctl_timer);
	m->rtp.data = m->rtcp.data = m->tx_timer.data = m->ctl_timer.data = m;
	err = uv_udp_open(&m->rtp, fd_rtp);
	if (err == 0)
		fd_rtp = -1;
	if (err == 0 && (err = uv_udp_open(&m->rtcp, fd_rtcp)) == 0)
		fd_rtcp = -1;
	if (err == 0 && m->io)
		err = sipcx__media_io_attach(m->io, l, m);
	if (err) {
		if (fd_rtp >= 0)
			close(fd_rtp);
		if (fd_rtcp >= 0)
			close(fd_rtcp);
		sipcx__media_io_destroy(m->io); /* never attached: nothing else to close */
		m->io = NULL;
		close_handles(m, 4);
		return err;
	}
	*out = m;
	return 0;
}

static void start_hop(void *arg)
{
	struct hop *h = arg;
	h->r = sipcx_media_start(h->m);
}

int sipcx_media_start(struct sipcx_media *m)
{
	if (off_loop(m)) {
		struct hop h = { 0 };
		return run_on_loop(m, start_hop, &h);
	}
	if (!m || m->closing)
		return -EINVAL;
	if (m->started)
		return 0;
	int err = uv_udp_recv_start(&m->rtp, rx_alloc, on_recv);
	if (err == 0)
		err = uv_udp_recv_start(&m->rtcp, rx_alloc, on_recv);
	if (err) {
		uv_udp_recv_stop(&m->rtp);
		return err;
	}
	m->started = true;
	uint64_t now = sipcx_now_us();
	m->last_rx_us = now;
	/* RFC 3550 6.2: the first report comes after half an interval */
	m->rtcp_next_us = now + rtcp_interval_us(m) / 2;
	if (!m->recvonly && m->handler >= SIPCX_MEDIA_SILENCE) {
		m->tx_running = true;
		m->tx_next_us = now;
		uv_timer_start(&m->tx_timer, tx_cb, 0, 0);
	}
	ctl_arm(m);
	return 0;
}

uint16_t sipcx_media_port(const struct sipcx_media *m)
{
	return m ? m->port : 0;
}

uint32_t sipcx_media_ssrc(const struct sipcx_media *m)
{
	return m ? m->snd.ssrc : 0;
}

struct sipcx__media_io *sipcx__media_io_of(const struct sipcx_media *m)
{
	return m->io;
}

static void stats_hop(void *arg)
{
	struct hop *h = arg;
	sipcx_media_stats(h->m, h->out);
}

void sipcx_media_stats(const struct sipcx_media *m, struct sipcx_media_stats *st)
{
	if (st && off_loop(m)) {
		/* The session itself is not changed: the hop only reads it on its thread. */
		struct hop h = { .out = st };
		if (run_on_loop((struct sipcx_media *)(uintptr_t)m, stats_hop, &h) == 0)
			return;
	}
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!m)
		return;
	*st = m->st;
	st->ssrc = m->snd.ssrc;
	st->timed_out = m->timed_out;
	if (m->have_src) {
		st->remote_ssrc = m->src.ssrc;
		st->expected = sipcx_rtp_source_expected(&m->src);
		st->lost = sipcx_rtp_source_lost(&m->src);
		st->duplicates = m->src.duplicates;
		st->late = m->src.late;
		st->jitter_us =
		    (uint32_t)((uint64_t)sipcx_rtp_source_jitter(&m->src) * 1000000u / m->clock);
	}
	st->rtt_count = m->snd.rtt_count;
	if (m->snd.rtt_count) {
		st->rtt_us = m->snd.rtt_us;
		st->rtt_min_us = m->snd.rtt_min_us;
		st->rtt_max_us = m->snd.rtt_max_us;
		st->rtt_avg_us = (uint32_t)(m->snd.rtt_sum_us / m->snd.rtt_count);
	}
	if (m->io)
		sipcx__media_io_counters(m->io, &st->io_tx_full, &st->io_rx_dropped);
	if (m->st.have_remote_report) {
		st->remote_fraction_lost = m->snd.remote.fraction;
		st->remote_lost = m->snd.remote.lost;
		st->remote_jitter_us =
		    (uint32_t)((uint64_t)m->snd.remote.jitter * 1000000u / m->clock);
	}
}
