/* rtp/dtmf.c: RFC 4733 telephone-event payload (2.3), its sender (2.5.1) and receiver (2.5.2), DTMF codes (3.2). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "rtp/rtp.h"

int sipcx_rtp_event_parse(struct sipcx_rtp_event *ev, const void *payload, size_t len)
{
	if (!ev || !payload)
		return -EINVAL;
	if (len < 4)
		return -EBADMSG;
	const uint8_t *p = payload;
	ev->event = p[0];
	ev->end = p[1] & 0x80;
	ev->reserved = p[1] & 0x40;
	ev->volume = p[1] & 0x3f;
	ev->duration = sipcx__rd16(p + 2);
	return 0;
}

int sipcx_rtp_event_build(const struct sipcx_rtp_event *ev, void *buf, size_t size)
{
	if (!ev || !buf || ev->volume > 63)
		return -EINVAL;
	if (size < 4)
		return -ENOSPC;
	uint8_t *p = buf;
	p[0] = ev->event;
	/* 2.3: R is reserved, "MUST be zero" on sending whatever the struct says */
	p[1] = (uint8_t)((ev->end ? 0x80 : 0) | ev->volume);
	sipcx__wr16(p + 2, ev->duration);
	return 4;
}

static const char *const names[] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#", "A", "B", "C", "D", "flash",
};

const char *sipcx_rtp_event_name(unsigned event)
{
	return event < SIPCX_ARRAY_SIZE(names) ? names[event] : NULL;
}

char sipcx_rtp_event_char(unsigned event)
{
	static const char chars[] = "0123456789*#ABCD!";
	return event < sizeof(chars) - 1 ? chars[event] : 0;
}

int sipcx_rtp_event_from_char(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	switch (c) {
	case '*':
		return SIPCX_EVENT_STAR;
	case '#':
		return SIPCX_EVENT_POUND;
	case '!':
		return SIPCX_EVENT_FLASH;
	default:
		break;
	}
	char u = (c >= 'a' && c <= 'd') ? (char)(c - 32) : c;
	if (u >= 'A' && u <= 'D')
		return SIPCX_EVENT_A + (u - 'A');
	return -EINVAL;
}

int sipcx_rtp_event_tx_start(struct sipcx_rtp_event_tx *tx, uint8_t event, uint8_t volume,
                             uint32_t ts, uint32_t duration, uint32_t step)
{
	/* one segment only: 2.5.1.3's long events (> 0xffff units) are not needed for digits */
	if (!tx || volume > 63 || duration == 0 || duration > 0xffff || step == 0)
		return -EINVAL;
	memset(tx, 0, sizeof(*tx));
	tx->event = event;
	tx->volume = volume;
	tx->ts = ts;
	tx->duration = duration;
	tx->step = step;
	return 0;
}

int sipcx_rtp_event_tx_next(struct sipcx_rtp_event_tx *tx, struct sipcx_rtp_event *ev, bool *marker,
                            uint32_t *ts)
{
	/* 2.5.1.4: the final packet goes out three times, at the update interval */
	if (tx->ends >= 3)
		return 0;
	if (tx->elapsed < tx->duration)
		tx->elapsed =
		    tx->duration - tx->elapsed > tx->step ? tx->elapsed + tx->step : tx->duration;
	memset(ev, 0, sizeof(*ev));
	ev->event = tx->event;
	ev->volume = tx->volume;
	/* 2.5.1.2: every packet of the event carries its start timestamp, duration grows */
	ev->duration = (uint16_t)tx->elapsed;
	ev->end = tx->elapsed == tx->duration;
	if (ev->end)
		tx->ends++;
	/* 2.5.1.2: the marker bit flags the first packet of an event only */
	*marker = tx->sent == 0;
	*ts = tx->ts;
	tx->sent++;
	return 1;
}

void sipcx_rtp_event_rx_init(struct sipcx_rtp_event_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

int sipcx_rtp_event_rx_input(struct sipcx_rtp_event_rx *rx, uint32_t ts,
                             const struct sipcx_rtp_event *ev)
{
	if (!rx || !ev)
		return -EINVAL;
	/*
	 * 2.5.2: the timestamp names the event, not the marker bit, which may
	 * have been lost with the first packet. Serial arithmetic tells a newer
	 * event from a late repeat of an older one.
	 */
	if (!rx->active || (int32_t)(ts - rx->ts) > 0) {
		rx->active = true;
		rx->ts = ts;
		rx->event = ev->event;
		rx->ended = ev->end;
		return SIPCX_RTP_EVENT_BEGIN | (ev->end ? SIPCX_RTP_EVENT_END : 0);
	}
	if (ts != rx->ts)
		return 0;
	if (ev->end && !rx->ended) {
		rx->ended = true;
		return SIPCX_RTP_EVENT_END;
	}
	return 0;
}

/* A key or value with the blanks around it taken off. */
static struct sipcx_str trimmed(const char *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return (struct sipcx_str){ p, n };
}

int sipcx_dtmf_info_parse(struct sipcx_str ct, struct sipcx_str b, char *digit, unsigned *ms)
{
	if (!digit || !ms || (!ct.p && ct.len) || (!b.p && b.len))
		return -EINVAL;
	char d = 0;
	unsigned dur = 0;
	if (ct.len >= 22 && !strncasecmp(ct.p, "application/dtmf-relay", 22)) {
		for (size_t i = 0; i < b.len;) {
			size_t e = i;
			while (e < b.len && b.p[e] != '\n' && b.p[e] != '\r')
				e++;
			const char *eq = memchr(b.p + i, '=', e - i);
			if (eq) {
				struct sipcx_str k = trimmed(b.p + i, (size_t)(eq - (b.p + i)));
				struct sipcx_str v = trimmed(eq + 1, (size_t)(b.p + e - (eq + 1)));
				if (k.len == 6 && !strncasecmp(k.p, "Signal", 6) && v.len >= 1)
					d = v.len == 2 && v.p[0] == '1' && v.p[1] == '0'   ? '*'
					    : v.len == 2 && v.p[0] == '1' && v.p[1] == '1' ? '#'
					    : v.len == 1                                   ? v.p[0]
					                                                   : 0;
				else if (k.len == 8 && !strncasecmp(k.p, "Duration", 8))
					for (size_t j = 0; j < v.len && v.p[j] >= '0' &&
					                   v.p[j] <= '9' && dur < 100000;
					     j++)
						dur = dur * 10 + (unsigned)(v.p[j] - '0');
			}
			i = e + 1;
		}
	} else if (ct.len >= 16 && !strncasecmp(ct.p, "application/dtmf", 16) &&
	           (ct.len == 16 || ct.p[16] == ';' || ct.p[16] == ' ')) {
		struct sipcx_str v = trimmed(b.p, b.len);
		while (v.len && (v.p[v.len - 1] == '\r' || v.p[v.len - 1] == '\n'))
			v.len--;
		if (v.len == 1)
			d = v.p[0];
	}
	if (d >= 'a' && d <= 'd')
		d = (char)(d - 'a' + 'A');
	if (!d || sipcx_rtp_event_from_char(d) < 0)
		return -ENOENT;
	*digit = d;
	*ms = dur > 100000 ? 100000 : dur;
	return 0;
}
