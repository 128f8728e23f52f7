/* media/log.c: what a session tells the outside: its events (opts.on_event) and RTP/RTCP debug lines (RTP_DEBUG). */
#include <stdio.h>

#include <sipcx/sockaddr.h>

#include "base/base.h"
#include "media/media.h"
#include "trace/trace.h"

bool sipcx__media_logging(const struct sipcx_media *m)
{
	return m->log || (m->debug && sipcx__log_cb && sipcx__log_level >= SIPCX_LOG_DEBUG);
}

void sipcx__media_trace_pkt(struct sipcx_media *m, struct sipcx__media_sock *h, bool send,
                            const struct sockaddr *peer, const void *data, size_t len)
{
	if (!sipcx__trace_cb)
		return;
	bool rtcp = sipcx__media_is_rtcp(m, h, data, len);
	enum sipcx_trace_kind kind = rtcp ? SIPCX_TRACE_RTCP : SIPCX_TRACE_RTP;
	if (!(sipcx__trace_kinds & (unsigned)kind))
		return;
	union sipcx__maddr self = m->local;
	uint16_t port = (uint16_t)(m->port + (h == &m->rtcp));
	if (self.sa.sa_family == AF_INET)
		self.in.sin_port = htons(port);
	else
		self.in6.sin6_port = htons(port);
	enum sipcx_trace_dir dir = send ? SIPCX_TRACE_SEND : SIPCX_TRACE_RECV;
	SIPCX_TRACE_MEDIA(kind, dir, send ? &self.sa : peer, send ? peer : &self.sa, data, len);
}

static void log_line(struct sipcx_media *m, const char *line)
{
	if (m->log)
		m->log(m, line, m->arg);
	else
		SIPCX_DEBUG("%s", line);
}

void sipcx__media_log_pkt(struct sipcx_media *m, const char *what, const struct sockaddr *peer,
                          bool rtcp, const void *data, size_t len)
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

void sipcx__media_emit(struct sipcx_media *m, enum sipcx_media_event_type type, bool rtcp,
                       const struct sockaddr *addr, int err)
{
	if (!m->on_event)
		return;
	struct sipcx_media_event ev = { .type = type, .rtcp = rtcp, .addr = addr, .err = err };
	m->on_event(m, &ev, m->arg);
}
