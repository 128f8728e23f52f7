/* media/send.c: the send side of a session: RTP and RTCP out, the ptime clock of the built-in handlers (RFC 3550 5.1, RFC 3551 4.5). */
#include <errno.h>
#include <string.h>

#include "base/base.h"
#include "media/media.h"
#include "trace/trace.h"

#define TX_BURST 10 /* packets sent at once to catch up after a late timer */

static unsigned samples_per_packet(const struct sipcx_media *m)
{
	return (unsigned)((uint64_t)m->clock * m->ptime_ms / 1000u);
}

int sipcx__media_send_on(struct sipcx_media *m, struct sipcx__media_sock *h, const void *data,
                         size_t len, const struct sockaddr *to)
{
	if (m->srtp && !(data = sipcx__media_srtp_out(m, h, data, &len))) {
		m->st.tx_dropped++;
		return -EINVAL;
	}
	socklen_t tolen =
	    to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	/* a full socket buffer drops the packet (RTP is not queued): EAGAIN is counted */
	if (sendto(h->fd, data, len, MSG_DONTWAIT, to, tolen) < 0) {
		m->st.tx_dropped++;
		return -errno;
	}
	if (sipcx__trace_cb)
		sipcx__media_trace_pkt(m, h, true, to, data, len);
	if (sipcx__media_logging(m))
		sipcx__media_log_pkt(m, "send", to, sipcx__media_is_rtcp(m, h, data, len), data,
		                     len);
	return 0;
}

/* The RTCP destination: the RTCP peer, else the RTP peer's address (RFC 5761) or one port up. */
const struct sockaddr *sipcx__media_rtcp_dest(struct sipcx_media *m, union sipcx__maddr *tmp)
{
	if (m->rtcp_peer.has_cur)
		return &m->rtcp_peer.cur.sa;
	if (!m->rtp_peer.has_cur)
		return NULL;
	if (m->rtcp_mux)
		return &m->rtp_peer.cur.sa;
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
	int rc = sipcx__media_send_on(m, &m->rtp, data, len, to);
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
	if (!to && !(to = sipcx__media_rtcp_dest(m, &tmp)))
		return -ENOTCONN;
	int rc = sipcx__media_send_on(m, sipcx__media_rtcp_h(m), data, len, to);
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
	 * (no peer yet) is counted, as a socket error already is by sipcx__media_send_on().
	 */
	if (rc == -ENOTCONN || rc == -EINVAL || rc == -EMSGSIZE)
		m->st.tx_dropped++;
}

/* ------------------------------------------------ RFC 4733 sending -- */

bool sipcx__media_dtmf_step(struct sipcx_media *m, uint64_t now)
{
	if (!m->dtmf_on) {
		if (m->dtmf_qpos >= m->dtmf_qlen)
			return false;
		if (now + 1000u < m->dtmf_next_us)
			return !sipcx__media_makes_audio(
			    m); /* in the gap: audio goes on, or nothing */
		int code = sipcx_rtp_event_from_char(m->dtmf_q[m->dtmf_qpos++]);
		uint32_t spp = (uint32_t)samples_per_packet(m);
		uint32_t dur = (uint32_t)((uint64_t)m->clock * m->dtmf_dur_ms / 1000u);
		if (code < 0 ||
		    sipcx_rtp_event_tx_start(&m->dtmf_tx, (uint8_t)code, m->dtmf_vol, m->ts,
		                             dur > 65535 ? 65535 : dur, spp) != 0)
			return false;
		m->dtmf_on = true;
	}
	struct sipcx_rtp_event ev;
	bool marker = false;
	uint32_t ts = 0;
	if (sipcx_rtp_event_tx_next(&m->dtmf_tx, &ev, &marker, &ts) != 1) {
		m->dtmf_on = false;
		m->dtmf_next_us = now + (uint64_t)m->dtmf_gap_ms * 1000u;
		if (m->dtmf_qpos >= m->dtmf_qlen)
			m->dtmf_qpos = m->dtmf_qlen = 0;
		return !sipcx__media_makes_audio(m) && m->dtmf_qlen;
	}
	uint8_t payload[4], buf[SIPCX_RTP_HDR_MIN + 4];
	struct sipcx_rtp_pkt pkt = { .marker = marker,
		                     .pt = (uint8_t)m->dtmf_pt,
		                     .seq = m->seq,
		                     .ts = ts,
		                     .ssrc = m->snd.ssrc,
		                     .payload = payload,
		                     .payload_len = 4 };
	if (sipcx_rtp_event_build(&ev, payload, sizeof(payload)) != 4)
		return true;
	int blen = sipcx_rtp_build(&pkt, buf, sizeof(buf));
	if (blen < 0 || !m->rtp_peer.has_cur)
		return true;
	m->seq++; /* every packet its own number, the repeated ends too (2.5.1.6) */
	if (sipcx__media_send_on(m, &m->rtp, buf, (size_t)blen, &m->rtp_peer.cur.sa) == 0) {
		m->st.tx_packets++;
		m->st.tx_bytes += 4;
		sipcx_rtp_sender_sent(&m->snd, ts, 4, now);
	}
	return true;
}

struct dtmf_hop {
	const char *digits;
	const struct sipcx_dtmf_opts *o;
};

static void dtmf_hop(void *arg)
{
	struct sipcx__media_hop *h = arg;
	const struct dtmf_hop *d = h->p1;
	h->r = sipcx_media_send_dtmf(h->m, d->digits, d->o);
}

int sipcx_media_send_dtmf(struct sipcx_media *m, const char *digits,
                          const struct sipcx_dtmf_opts *o)
{
	if (sipcx__media_off_loop(m)) {
		struct dtmf_hop d = { digits, o };
		struct sipcx__media_hop h = { .p1 = &d };
		return sipcx__media_hop(m, dtmf_hop, &h);
	}
	static const struct sipcx_dtmf_opts defaults = { 0 };
	if (!o)
		o = &defaults;
	if (!m || m->closing || !digits || !*digits || o->duration_ms > 5000 ||
	    (o->duration_ms && o->duration_ms < 40) || o->gap_ms > 5000 || o->delay_ms > 60000 ||
	    o->volume > 63)
		return -EINVAL;
	size_t n = strlen(digits);
	for (size_t i = 0; i < n; i++)
		if (sipcx_rtp_event_from_char(digits[i]) < 0)
			return -EINVAL;
	if (m->dtmf_pt < 0)
		return -ENOTSUP;
	if (!m->rtp_peer.has_cur || m->recvonly)
		return -ENOTCONN; /* no peer yet, or on hold: nothing may be sent */
	if (m->dtmf_qlen + n > sizeof(m->dtmf_q))
		return -ENOSPC;
	memcpy(m->dtmf_q + m->dtmf_qlen, digits, n);
	m->dtmf_qlen = (uint8_t)(m->dtmf_qlen + n);
	m->dtmf_dur_ms = (uint16_t)(o->duration_ms ? o->duration_ms : 100);
	m->dtmf_gap_ms = (uint16_t)(o->gap_ms ? o->gap_ms : 100);
	m->dtmf_vol = (uint8_t)(o->volume ? o->volume : 10);
	uint64_t now = sipcx_now_us(), at = now + (uint64_t)o->delay_ms * 1000u;
	if (!m->dtmf_on && at > m->dtmf_next_us)
		m->dtmf_next_us = at;
	/* the clock carries the events; without audio of its own it runs for them alone */
	if (m->started && !m->tx_running)
		sipcx__media_tx_start(m, now);
	return 0;
}

/* One packet of the ptime clock. Returns 0, or negative to stop the clock. */
static int tx_one(struct sipcx_media *m, uint64_t now)
{
	if ((m->dtmf_on || m->dtmf_qpos < m->dtmf_qlen) && sipcx__media_dtmf_step(m, now)) {
		m->ts += (uint32_t)samples_per_packet(m); /* the media clock goes on */
		return 0;
	}
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
	case SIPCX_MEDIA_TONE:
	case SIPCX_MEDIA_PLAY:
		len = sipcx__media_audio_out(m, payload, sizeof(buf) - SIPCX_RTP_HDR_MIN);
		if (len < 0)
			len = 0; /* no encoder (memory), or a ptime the codec cannot frame */
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
	if (sipcx__media_send_on(m, &m->rtp, buf, (size_t)blen, &m->rtp_peer.cur.sa) == 0) {
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

void sipcx__media_tx_start(struct sipcx_media *m, uint64_t now)
{
	m->tx_running = true;
	m->tx_next_us = now;
	uv_timer_start(&m->tx_timer, tx_cb, 0, 0);
}

void sipcx__media_tx_stop(struct sipcx_media *m)
{
	m->tx_running = false;
	uv_timer_stop(&m->tx_timer);
}
