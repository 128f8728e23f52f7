/* media/session.c: an RTP/RTCP media session: life cycle, negotiated peer and latching, receiving (RFC 3550 6.2, 8, A.1; RFC 4961 symmetric RTP). */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "base/base.h"
#include "media/media.h"
#include "trace/trace.h"

#include <sipcx/embed.h>
#include <sipcx/codec.h>

/*
 * One batch of receive buffers per thread: a socket's datagrams are read with
 * one recvmmsg() and handled before the next read, so a session costs no
 * buffer of its own. A batch shorter than RX_BATCH means the socket is
 * drained: no read more to learn EAGAIN (what libuv's uv_udp_t does, a
 * system call wasted per packet when each socket gets one every 20 ms).
 */
#define RX_BATCH 8
#define RX_ROUNDS 4 /* full batches read in a row from one socket before the others' turn */
struct rx_batch {
	uint8_t buf[RX_BATCH][SIPCX__MEDIA_MAX_PKT];
	union sipcx__maddr from[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct mmsghdr msg[RX_BATCH];
};
/* Allocated by a thread's first read, freed when it exits: a thread of the host program that
 * never reads media pays nothing (a static thread-local of 66 KiB would be in every thread). */
static _Thread_local struct rx_batch *rx_tls;
static pthread_key_t rx_key;
static pthread_once_t rx_once = PTHREAD_ONCE_INIT;

static void rx_key_make(void)
{
	(void)pthread_key_create(&rx_key, sipcx_free);
}

static struct rx_batch *rx_get(void)
{
	if (!rx_tls && (rx_tls = sipcx_malloc(sizeof(*rx_tls))) != NULL) {
		pthread_once(&rx_once, rx_key_make);
		pthread_setspecific(rx_key, rx_tls);
		struct rx_batch *b = rx_tls;
		for (int i = 0; i < RX_BATCH; i++) {
			b->iov[i] = (struct iovec){ b->buf[i], sizeof(b->buf[i]) };
			b->msg[i].msg_hdr = (struct msghdr){ .msg_name = &b->from[i],
				                             .msg_iov = &b->iov[i],
				                             .msg_iovlen = 1 };
		}
	}
	return rx_tls;
}

int sipcx__media_hop(struct sipcx_media *m, void (*fn)(void *), struct sipcx__media_hop *h)
{
	h->m = m;
	int r = m->owner.call(m->owner.ctx, fn, h);
	return r ? r : h->r;
}

static void on_close(uv_handle_t *h)
{
	struct sipcx_media *m = h->data;
	/* the RTCP socket may close alone (multiplexing agreed): the session lives on */
	if (--m->pending_close == 0 && m->closing) {
		sipcx__media_codec_free(m);
		sipcx__srtp_free(m->srtp);
		sipcx_free(m);
	}
}

/* Close the RTCP socket (never opened, or closed already: nothing to do). */
static void close_rtcp(struct sipcx_media *m)
{
	if (!m->rtcp_sock)
		return;
	m->rtcp_sock = false;
	m->pending_close++;
	uv_close((uv_handle_t *)&m->rtcp.h, on_close); /* stops the watcher: the fd may go */
	close(m->rtcp.fd);
	m->rtcp.fd = -1;
}

/* Close the session's handles; the last close frees it (RTCP's, when it is still closing). */
static void close_handles(struct sipcx_media *m)
{
	uv_handle_t *hs[3] = { (uv_handle_t *)&m->rtp.h, (uv_handle_t *)&m->tx_timer,
		               (uv_handle_t *)&m->ctl_timer };
	m->closing = true;
	close_rtcp(m);
	m->pending_close = (uint8_t)(m->pending_close + 3);
	for (int i = 0; i < 3; i++)
		uv_close(hs[i], on_close);
	close(m->rtp.fd);
	m->rtp.fd = -1;
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

/* ------------------------------------------------------------ latching -- */

/* Whether to take a packet from `from`: 0 yes, 1 yes and cur changed, -1 no. */
static int peer_accept(struct sipcx_media *m, struct sipcx__media_peer *p,
                       const struct sockaddr *from)
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

static void rx_active(struct sipcx_media *m, uint64_t now)
{
	m->last_rx_us = now;
	if (m->timed_out) {
		m->timed_out = false;
		sipcx__media_emit(m, SIPCX_MEDIA_EV_RESUMED, false, NULL, 0);
		sipcx__media_ctl_arm(m);
	}
}

static void rtcp_input(struct sipcx_media *m, struct sipcx__media_sock *h,
                       struct sipcx__media_peer *peer, const uint8_t *data, size_t len,
                       const struct sockaddr *from, uint64_t now)
{
	if (sipcx_rtcp_validate(data, len, 0) < 0) {
		m->st.rx_malformed++;
		if (sipcx__media_logging(m))
			sipcx__media_log_pkt(m, "recv malformed RTCP from", from, true, data, len);
		return;
	}
	int acc = peer_accept(m, peer, from);
	if (sipcx__media_logging(m))
		sipcx__media_log_pkt(m, acc < 0 ? "ignore (stranger)" : "recv", from, true, data,
		                     len);
	if (acc < 0) {
		m->st.rx_ignored++;
		return;
	}
	if (acc > 0 && peer == &m->rtcp_peer) {
		sipcx__media_emit(m, SIPCX_MEDIA_EV_LATCH, true, &peer->cur.sa, 0);
		if (m->closing)
			return;
	}
	m->st.rtcp_rx++;
	if (h != &m->rtcp)
		m->st.rtcp_rx_mux++;
	if (m->handler == SIPCX_MEDIA_ECHO && m->echo_rtcp &&
	    sipcx__media_send_on(m, h, data, len, from) == 0)
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
				for (unsigned i = 0; r.is_sr && i < SIPCX__MEDIA_SR_HISTORY; i++) {
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
					wall = sipcx__media_wall_us();
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
	sipcx__media_emit(m, SIPCX_MEDIA_EV_RTCP, true, from, 0);
	if (m->closing)
		return;
	if (bye) {
		sipcx__media_emit(m, SIPCX_MEDIA_EV_BYE, true, from, 0);
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
		if (sipcx__media_logging(m))
			sipcx__media_log_pkt(m, "recv malformed from", from, false, data, len);
		return;
	}
	int acc = peer_accept(m, &m->rtp_peer, from);
	if (sipcx__media_logging(m))
		sipcx__media_log_pkt(m, acc < 0 ? "ignore (stranger)" : "recv", from, false, data,
		                     len);
	if (acc < 0) {
		m->st.rx_ignored++;
		return;
	}
	if (acc > 0) {
		sipcx__media_emit(m, SIPCX_MEDIA_EV_LATCH, false, &m->rtp_peer.cur.sa, 0);
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
	if ((m->record || m->detect) && pkt.pt == m->pt && m->codec)
		sipcx__media_audio_in(m, &pkt);
	if (m->handler == SIPCX_MEDIA_ECHO && !m->recvonly &&
	    sipcx__media_send_on(m, &m->rtp, data, len, from) == 0) {
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

/* One datagram received on h, at now (the time of its batch). */
static void on_datagram(struct sipcx_media *m, struct sipcx__media_sock *h, uint8_t *buf,
                        size_t len, const struct sockaddr *from, uint64_t now)
{
	const uint8_t *data = buf;
	if (sipcx__trace_cb) /* one load when nothing traces */
		sipcx__media_trace_pkt(m, h, false, from, data, len);
	if (m->srtp && !sipcx__media_srtp_in(m, h, buf, &len))
		return;
	if (h == &m->rtcp)
		rtcp_input(m, h, &m->rtcp_peer, data, len, from, now);
	else if (sipcx_rtp_is_rtcp(data, len)) /* RFC 5761 4: RTCP on the RTP port */
		/* one socket but a separate RTCP peer (it would not multiplex): its own latch */
		rtcp_input(m, h,
		           !m->rtcp_sock && m->rtcp_peer.has_neg ? &m->rtcp_peer : &m->rtp_peer,
		           data, len, from, now);
	else
		rtp_input(m, data, len, from, now);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)events;
	struct sipcx_media *m = p->data;
	struct sipcx__media_sock *h = p == &m->rtcp.h ? &m->rtcp : &m->rtp;
	if (m->closing)
		return;
	if (status < 0) {
		sipcx__media_emit(m, SIPCX_MEDIA_EV_ERROR, h == &m->rtcp, NULL, status);
		return;
	}
	struct rx_batch *b = rx_get();
	if (!b) { /* no memory to read into: drop what waits, so the poll does not spin */
		while (recv(h->fd, NULL, 0, MSG_DONTWAIT) >= 0)
			m->st.rx_malformed++;
		sipcx__media_emit(m, SIPCX_MEDIA_EV_ERROR, h == &m->rtcp, NULL, -ENOMEM);
		return;
	}
	for (int round = 0; round < RX_ROUNDS; round++) {
		/* the headers point into the batch once for all; the kernel writes back only
		 * the address lengths, flags and byte counts */
		for (int i = 0; i < RX_BATCH; i++)
			b->msg[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
		int n = recvmmsg(h->fd, b->msg, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				sipcx__media_emit(m, SIPCX_MEDIA_EV_ERROR, h == &m->rtcp, NULL,
				                  -errno);
			return;
		}
		/* one clock read a batch: the datagrams of a batch arrived together */
		uint64_t now = sipcx_now_us();
		for (int i = 0; i < n; i++) {
			if (b->msg[i].msg_hdr.msg_flags & MSG_TRUNC)
				m->st.rx_malformed++;
			else
				on_datagram(m, h, b->buf[i], b->msg[i].msg_len, &b->from[i].sa,
				            now);
			if (m->closing || h->fd < 0)
				return; /* a callback freed the session, or closed this socket */
		}
		if (n < RX_BATCH)
			return; /* drained: the poll says when more comes */
	}
}

/* ----------------------------------------------------------- lifecycle -- */

static void free_hop(void *arg)
{
	sipcx_media_free(((struct sipcx__media_hop *)arg)->m);
}

void sipcx_media_free(struct sipcx_media *m)
{
	if (sipcx__media_off_loop(m)) {
		struct sipcx__media_hop h = { 0 };
		sipcx__media_hop(m, free_hop, &h);
		return;
	}
	if (!m || m->closing)
		return;
	if (m->owner.freed)
		m->owner.freed(m->owner.ctx);
	/* wake the user threads, and send what they posted before the BYE */
	if (m->io)
		sipcx__media_io_shutdown(m->io);
	/* RFC 3550 6.3.7: a participant that sent neither RTP nor RTCP sends no BYE. */
	if (m->started && !m->rtcp_off && (m->st.tx_packets || m->st.rtcp_tx))
		sipcx__media_send_bye(m);
	close_handles(m);
}

static void peer_set(struct sipcx__media_peer *p, const union sipcx__maddr *a)
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
	/* RFC 5761: multiplexed, RTCP goes where RTP goes (no RTCP peer of its own) */
	if (rtcp_port == 0 && port < 65535 && !m->rtcp_mux)
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
	struct sipcx__media_hop *h = arg;
	h->r = set_remote2(h->m, h->addr, h->port, NULL, h->rtcp_port);
}

int sipcx_media_set_remote(struct sipcx_media *m, const char *addr, uint16_t port,
                           uint16_t rtcp_port)
{
	if (sipcx__media_off_loop(m)) {
		struct sipcx__media_hop h = { .addr = addr, .port = port, .rtcp_port = rtcp_port };
		return sipcx__media_hop(m, set_remote_hop, &h);
	}
	return set_remote2(m, addr, port, NULL, rtcp_port);
}

static void apply_sdp_hop(void *arg)
{
	struct sipcx__media_hop *h = arg;
	h->r = sipcx_media_apply_sdp(h->m, h->p1);
}

int sipcx_media_apply_sdp(struct sipcx_media *m, const struct sipcx_sdp_result *res)
{
	if (sipcx__media_off_loop(m)) {
		struct sipcx__media_hop h = { .p1 = res };
		return sipcx__media_hop(m, apply_sdp_hop, &h);
	}
	if (!m || !res || !res->addr_is_ip || res->rtp_port == 0 || res->pt < 0 || res->pt > 127)
		return -EINVAL;
	if (res->ptime > SIPCX__MEDIA_MAX_PTIME_MS || (res->clock && res->clock > 192000))
		return -EINVAL;
	const struct sipcx_codec_desc *codec = m->codec;
	/* The keys before the address: a failed SRTP set-up leaves the peer where it was. */
	int err = sipcx__media_codec_set(m, res->codec[0] ? res->codec : NULL, res->pt);
	if (!err)
		err = sipcx__media_srtp_apply(m, res);
	if (!err)
		err = set_remote2(m, res->addr, res->rtp_port,
		                  res->rtcp_addr[0] ? res->rtcp_addr : NULL, res->rtcp_port);
	if (err) {
		sipcx__media_codec_set(m, codec ? codec->name : NULL, -1);
		return err;
	}
	if (res->rtcp_port == 0 || res->rtcp_mux)
		peer_set(&m->rtcp_peer, NULL);
	/* RFC 5761 5.1.1: the answer took a=rtcp-mux: the RTCP port we offered goes */
	m->rtcp_mux = res->rtcp_mux || !m->rtcp_sock;
	if (res->rtcp_mux)
		close_rtcp(m);
	m->pt = (uint8_t)res->pt;
	if (res->clock && res->clock != m->clock) {
		m->clock = res->clock;
		m->snd.clock_rate = res->clock;
	}
	if (res->ptime)
		m->ptime_ms = sipcx__media_codec_ptime(m, res->ptime);
	m->dtmf_pt = (int8_t)(res->dtmf_pt >= 0 && res->dtmf_pt <= 127 ? res->dtmf_pt : -1);
	bool was_recvonly = m->recvonly;
	m->recvonly = !res->local_send;
	if (m->started && was_recvonly && !m->recvonly && !m->tx_running &&
	    sipcx__media_makes_audio(m)) {
		sipcx__media_tx_start(m, sipcx_now_us());
	} else if (m->recvonly && m->tx_running) {
		sipcx__media_tx_stop(m);
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
	if (opts->handler > SIPCX_MEDIA_PLAY || opts->latch > SIPCX_MEDIA_LATCH_ANY ||
	    (opts->handler == SIPCX_MEDIA_USER && !opts->fill) ||
	    (opts->handler == SIPCX_MEDIA_PLAY && !opts->play) || opts->pt < 0 || opts->pt > 127 ||
	    opts->ptime > SIPCX__MEDIA_MAX_PTIME_MS || opts->clock > 192000 ||
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
	m->rtcp_ms = opts->rtcp_interval_ms ? opts->rtcp_interval_ms : SIPCX__MEDIA_RTCP_MS;
	m->rtcp_off = opts->rtcp_off;
	m->rtcp_mux = opts->rtcp_mux;
	m->inactivity_ms = opts->inactivity_ms;
	m->recvonly = opts->recvonly;
	m->echo_rtcp = opts->echo_rtcp;
	m->debug = opts->debug;
	m->on_event = opts->on_event;
	m->on_rtp = opts->on_rtp;
	m->on_rtcp = opts->on_rtcp;
	m->fill = opts->fill;
	m->play = opts->play;
	m->play_loop = opts->play_loop;
	m->record = opts->record;
	m->detect = opts->detect;
	m->log = opts->log;
	m->arg = opts->arg;
	m->rxq = opts->rx_queue;
	m->tone_hz = (uint16_t)(opts->tone_hz ? opts->tone_hz : 440);
	int err =
	    opts->tone_hz > 20000 ? -EINVAL : sipcx__media_codec_set(m, opts->codec, opts->pt);
	/* the tone is made at the PCM rate of our side of every codec */
	if (err == 0)
		err = sipcx_media_tone_init(&m->tone, m->tone_hz, 8000, SIPCX_CODEC_PCM_RATE);
	if (err == 0 && opts->remote_addr)
		err = sipcx_media_set_remote(m, opts->remote_addr, opts->remote_port,
		                             opts->remote_rtcp_port);
	if (err) {
		sipcx_free(m);
		return err;
	}

	/* random SSRC, first sequence number and timestamp (RFC 3550 5.1, 8.1) */
	uint32_t r[3];
	sipcx__random_pool(r, sizeof(r));
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

	int fd_rtp, fd_rtcp = -1;
	err = sipcx__media_bind_pair(&la, opts->port, opts->port_min, opts->port_max, &fd_rtp,
	                             opts->rtcp_mux ? NULL : &fd_rtcp, &m->port);
	if (err) {
		sipcx__media_io_destroy(m->io);
		sipcx_free(m);
		return err;
	}
	m->local = la;
	uv_loop_t *l = loop;
	/* none of these allocate; once initialised, every handle is closed through the loop */
	m->rtp.fd = fd_rtp;
	m->rtcp.fd = -1;
	if ((err = uv_poll_init(l, &m->rtp.h, fd_rtp)) != 0) {
		close(fd_rtp);
		if (fd_rtcp >= 0)
			close(fd_rtcp);
		sipcx__media_io_destroy(m->io);
		sipcx_free(m);
		return err;
	}
	uv_timer_init(l, &m->tx_timer);
	uv_timer_init(l, &m->ctl_timer);
	m->rtp.h.data = m->rtcp.h.data = m->tx_timer.data = m->ctl_timer.data = m;
	if (fd_rtcp >= 0 && (err = uv_poll_init(l, &m->rtcp.h, fd_rtcp)) != 0)
		close(fd_rtcp);
	else if (fd_rtcp >= 0)
		m->rtcp.fd = fd_rtcp;
	m->rtcp_sock = m->rtcp.fd >= 0;
	if (err == 0 && m->io)
		err = sipcx__media_io_attach(m->io, l, m);
	if (err) {
		sipcx__media_io_destroy(m->io); /* never attached: nothing else to close */
		m->io = NULL;
		close_handles(m);
		return err;
	}
	*out = m;
	return 0;
}

static void send_rtcp_hop(void *arg)
{
	struct sipcx__media_hop *h = arg;
	h->r = sipcx_media_send_rtcp(h->m);
}

int sipcx_media_send_rtcp(struct sipcx_media *m)
{
	if (sipcx__media_off_loop(m)) {
		struct sipcx__media_hop h = { 0 };
		return sipcx__media_hop(m, send_rtcp_hop, &h);
	}
	if (!m || m->closing)
		return -EINVAL;
	return sipcx__media_report_now(m);
}

static void start_hop(void *arg)
{
	struct sipcx__media_hop *h = arg;
	h->r = sipcx_media_start(h->m);
}

int sipcx_media_start(struct sipcx_media *m)
{
	if (sipcx__media_off_loop(m)) {
		struct sipcx__media_hop h = { 0 };
		return sipcx__media_hop(m, start_hop, &h);
	}
	if (!m || m->closing)
		return -EINVAL;
	if (m->started)
		return 0;
	int err = uv_poll_start(&m->rtp.h, UV_READABLE, on_poll);
	if (err == 0 && m->rtcp_sock)
		err = uv_poll_start(&m->rtcp.h, UV_READABLE, on_poll);
	if (err) {
		uv_poll_stop(&m->rtp.h);
		return err;
	}
	m->started = true;
	uint64_t now = sipcx_now_us();
	m->last_rx_us = now;
	/* RFC 3550 6.2: the first report comes after half an interval */
	m->rtcp_next_us = now + sipcx__media_rtcp_interval_us(m) / 2;
	if (!m->recvonly && sipcx__media_makes_audio(m))
		sipcx__media_tx_start(m, now);
	sipcx__media_ctl_arm(m);
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

static void stats_hop(void *arg)
{
	struct sipcx__media_hop *h = arg;
	sipcx_media_stats(h->m, h->out);
}

void sipcx_media_stats(const struct sipcx_media *m, struct sipcx_media_stats *st)
{
	if (st && sipcx__media_off_loop(m)) {
		/* The session itself is not changed: the hop only reads it on its thread. */
		struct sipcx__media_hop h = { .out = st };
		if (sipcx__media_hop((struct sipcx_media *)(uintptr_t)m, stats_hop, &h) == 0)
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
	st->rtcp_mux = !m->rtcp_sock;
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
