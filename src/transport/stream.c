/* transport: stream framing by Content-Length and CRLF keep-alives (RFC 3261 18.3, RFC 5626 3.5.1). */
#include <errno.h>
#include <string.h>

#include "transport/transport.h"

void sipcx__stream_init(struct sipcx__stream *s)
{
	memset(s, 0, sizeof(*s));
	sipcx_buf_init(&s->buf);
}

void sipcx__stream_reset(struct sipcx__stream *s)
{
	sipcx_buf_free(&s->buf);
	sipcx__stream_init(s);
}

size_t sipcx__stream_pending(const struct sipcx__stream *s)
{
	return s->buf.len - s->off;
}

int sipcx__stream_feed(struct sipcx__stream *s, const char *p, size_t n, struct sipcx_msg *m,
                       sipcx__stream_cb *cb, void *arg)
{
	static const char ping[] = "\r\n\r\n";

	/* Messages of the previous feed were valid until now: compact. */
	if (s->off) {
		memmove(s->buf.p, s->buf.p + s->off, s->buf.len - s->off);
		s->buf.len -= s->off;
		s->off = 0;
	}
	if (n) {
		sipcx_buf_append(&s->buf, p, n);
		if (sipcx_buf_err(&s->buf))
			return -ENOMEM;
	}
	while (s->off < s->buf.len) {
		const char *d = s->buf.p + s->off;
		size_t avail = s->buf.len - s->off;

		/*
		 * Between messages: CRLFCRLF is a ping, a lone CRLF a pong
		 * (RFC 5626 3.5.1); both are otherwise ignored (RFC 3261 7.5).
		 * Matched byte by byte so a ping split across reads counts.
		 */
		if (d[0] == '\r' || d[0] == '\n') {
			if (d[0] == ping[s->crlf])
				s->crlf++;
			else
				s->crlf = d[0] == '\r' ? 1 : 0;
			s->off++;
			if (s->crlf == 4) {
				s->crlf = 0;
				if (cb(SIPCX__STREAM_PING, NULL, NULL, 0, arg))
					return 1;
			}
			continue;
		}
		s->crlf = 0;
		int r = sipcx_msg_parse(m, d, avail, SIPCX_MSG_STREAM);
		if (r == -EAGAIN)
			break;
		if (r < 0) {
			/* Framing is lost: nothing after this can be trusted. */
			cb(SIPCX__STREAM_BAD, m, d, m->raw.len ? m->raw.len : avail, arg);
			s->off = s->buf.len;
			return 1;
		}
		s->off += (size_t)r;
		if (cb(SIPCX__STREAM_MSG, m, d, (size_t)r, arg))
			return 1;
	}
	return 0;
}
