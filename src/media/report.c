/* media/report.c: RTCP reports on their randomised schedule, SR/RR with SDES CNAME, BYE, and the inactivity timeout (RFC 3550 6.2-6.4, 6.6). */
#include <errno.h>

#include "base/base.h"
#include "media/media.h"

uint32_t sipcx__media_rtcp_interval_us(struct sipcx_media *m)
{
	/* RFC 3550 6.3.1: randomised to 0.5-1.5 times the interval, against synchronisation */
	uint16_t r = 0;
	sipcx__random_pool(&r, sizeof(r));
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
		sipcx_rtp_sender_info(&m->snd, now, sipcx__media_wall_us(), &si);
		sipcx_rtcp_write_report(&w, m->snd.ssrc, &si, n ? &rb : NULL, n);
		m->sr[m->sr_pos].mid = sipcx_rtp_ntp_mid(si.ntp);
		m->sr[m->sr_pos].us = now;
		m->sr_pos = (uint8_t)((m->sr_pos + 1) % SIPCX__MEDIA_SR_HISTORY);
	} else {
		sipcx_rtcp_write_report(&w, m->snd.ssrc, NULL, n ? &rb : NULL, n);
	}
	sipcx_rtcp_write_cname(&w, m->snd.ssrc, sipcx_str_c(m->cname));
	return sipcx_rtcp_writer_finish(&w, 0);
}

int sipcx__media_report_now(struct sipcx_media *m)
{
	union sipcx__maddr tmp;
	const struct sockaddr *to = sipcx__media_rtcp_dest(m, &tmp);
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

void sipcx__media_send_bye(struct sipcx_media *m)
{
	union sipcx__maddr tmp;
	const struct sockaddr *to = sipcx__media_rtcp_dest(m, &tmp);
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
	if (sipcx__media_send_on(m, sipcx__media_rtcp_h(m), buf, (size_t)(len + blen), to) == 0)
		m->st.rtcp_tx++;
}

static void ctl_cb(uv_timer_t *t);

void sipcx__media_ctl_arm(struct sipcx_media *m)
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
		sipcx__media_report_now(m);
		m->rtcp_next_us = now + sipcx__media_rtcp_interval_us(m);
	}
	if (m->inactivity_ms && !m->timed_out &&
	    now >= m->last_rx_us + (uint64_t)m->inactivity_ms * 1000u) {
		m->timed_out = true;
		sipcx__media_emit(m, SIPCX_MEDIA_EV_TIMEOUT, false, NULL, 0);
		if (m->closing)
			return;
	}
	sipcx__media_ctl_arm(m);
}
