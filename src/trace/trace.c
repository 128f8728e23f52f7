/* trace: the wire-trace hook and its readable formatter (a SIP_DEBUG-style message dump). */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sipcx/rtp.h>
#include <sipcx/sockaddr.h>

#include "base/base.h"
#include "trace/trace.h"

sipcx_trace_cb *sipcx__trace_cb;
unsigned sipcx__trace_kinds = SIPCX_TRACE_SIP;
static void *trace_arg;

void sipcx_trace_set(sipcx_trace_cb *cb, void *arg)
{
	sipcx__trace_cb = cb;
	trace_arg = arg;
}

void sipcx_trace_set_kinds(unsigned kinds)
{
	kinds &= SIPCX_TRACE_SIP | SIPCX_TRACE_RTP | SIPCX_TRACE_RTCP;
	sipcx__trace_kinds = kinds ? kinds : SIPCX_TRACE_SIP;
}

/*
 * A socket bound to the wildcard address sends from the address its route
 * picks. The trace shows that one: the kernel is asked once per destination
 * host (connecting a UDP socket sends nothing), and the answer kept.
 */
#define ROUTES 8
static struct {
	pthread_mutex_t lock;
	union sipcx_sa dst[ROUTES], src[ROUTES];
	unsigned next;
} routes = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool route_src(const struct sockaddr *dst, const struct sockaddr *bound, union sipcx_sa *out)
{
	size_t len = sipcx_sa_len(dst);
	if (!len || dst->sa_family != bound->sa_family || sipcx_sa_is_any(dst))
		return false;
	bool found = false;
	pthread_mutex_lock(&routes.lock);
	for (unsigned i = 0; i < ROUTES && !found; i++)
		if (routes.dst[i].sa.sa_family && sipcx_sa_equal_host(&routes.dst[i].sa, dst)) {
			*out = routes.src[i];
			found = true;
		}
	pthread_mutex_unlock(&routes.lock);
	if (!found) {
		int fd = socket(dst->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		socklen_t sl = sizeof(*out);
		found = fd >= 0 && connect(fd, dst, (socklen_t)len) == 0 &&
		        getsockname(fd, &out->sa, &sl) == 0;
		if (fd >= 0)
			close(fd);
		if (!found)
			return false;
		pthread_mutex_lock(&routes.lock);
		unsigned i = routes.next++ % ROUTES;
		memset(&routes.dst[i], 0, sizeof(routes.dst[i]));
		memcpy(&routes.dst[i], dst, len);
		routes.src[i] = *out;
		pthread_mutex_unlock(&routes.lock);
	}
	sipcx_sa_set_port(out, sipcx_sa_port(bound));
	return true;
}

void sipcx__trace_emit(enum sipcx_trace_kind kind, enum sipcx_trace_dir dir, const char *transport,
                       const struct sockaddr *src, const struct sockaddr *dst, const char *data,
                       size_t len)
{
	sipcx_trace_cb *cb = sipcx__trace_cb;
	struct timespec ts;

	if (!cb || !(sipcx__trace_kinds & (unsigned)kind))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	union sipcx_sa self;
	if (dir == SIPCX_TRACE_SEND && src && dst && sipcx_sa_is_any(src) &&
	    route_src(dst, src, &self))
		src = &self.sa;
	else if (dir == SIPCX_TRACE_RECV && src && dst && sipcx_sa_is_any(dst) &&
	         route_src(src, dst, &self))
		dst = &self.sa;
	struct sipcx_trace_event ev = {
		.dir = dir,
		.transport = transport,
		.src = src,
		.dst = dst,
		.time_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u,
		.data = data,
		.len = len,
		.kind = kind,
	};
	cb(&ev, trace_arg);
}

/* "1.2.3.4:5060" or "[::1]:5060"; "?" for anything else. */
static void put_addr(struct sipcx_buf *b, const struct sockaddr *sa)
{
	char text[SIPCX_ADDRSTRLEN];
	sipcx_buf_puts(b, sipcx_sa_print(sa, text, sizeof(text)) > 0 ? text : "?");
}

static bool is_text(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 && c != '\r' && c != '\n' && c != '\t')
			return false;
		if (c == 0x7f)
			return false;
	}
	return true;
}

/* Append text with CRLF (and lone CR) shown as LF; ends with exactly one LF. */
static void put_lines(struct sipcx_buf *b, const char *p, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\r')
			continue;
		sipcx_buf_append(b, p + start, i - start);
		if (i + 1 >= n || p[i + 1] != '\n')
			sipcx_buf_append(b, "\n", 1);
		start = i + 1;
	}
	sipcx_buf_append(b, p + start, n - start);
	if (b->len == 0 || b->p[b->len - 1] != '\n')
		sipcx_buf_append(b, "\n", 1);
}

int sipcx_trace_format(struct sipcx_buf *b, const struct sipcx_trace_event *ev)
{
	if (!b || !ev)
		return -EINVAL;
	time_t sec = (time_t)(ev->time_us / 1000000u);
	struct tm tm;
	localtime_r(&sec, &tm);
	bool media = ev->kind == SIPCX_TRACE_RTP || ev->kind == SIPCX_TRACE_RTCP;
	sipcx_buf_printf(b, "--- %02d:%02d:%02d.%06u %s %s%zu bytes %s ", tm.tm_hour, tm.tm_min,
	                 tm.tm_sec, (unsigned)(ev->time_us % 1000000u),
	                 ev->dir == SIPCX_TRACE_SEND ? "SEND" : "RECV",
	                 !media                        ? ""
	                 : ev->kind == SIPCX_TRACE_RTP ? "RTP "
	                                               : "RTCP ",
	                 ev->len, ev->transport ? ev->transport : "?");
	put_addr(b, ev->src);
	sipcx_buf_puts(b, " -> ");
	put_addr(b, ev->dst);
	if (media) {
		char line[400] = "";
		struct sipcx_rtp_pkt pkt;
		if (!ev->data)
			snprintf(line, sizeof(line), "no data");
		else if (ev->kind == SIPCX_TRACE_RTCP)
			sipcx_rtcp_snprint(line, sizeof(line), ev->data, ev->len);
		else if (sipcx_rtp_parse(&pkt, ev->data, ev->len) == 0)
			sipcx_rtp_snprint(line, sizeof(line), &pkt);
		else
			snprintf(line, sizeof(line), "not RTP");
		sipcx_buf_printf(b, ": %s\n", line);
		return sipcx_buf_err(b);
	}
	sipcx_buf_puts(b, "\n");

	const char *p = ev->data ? ev->data : "";
	size_t n = ev->data ? ev->len : 0;
	/* Headers always print; a body that is not text is summarised. */
	const char *end = memmem(p, n, "\r\n\r\n", 4);
	size_t head = end ? (size_t)(end - p) + 4 : n;
	put_lines(b, p, head);
	if (head < n) {
		if (is_text(p + head, n - head))
			put_lines(b, p + head, n - head);
		else
			sipcx_buf_printf(b, "[%zu bytes of binary body]\n", n - head);
	}
	sipcx_buf_puts(b, "--- end\n");
	return sipcx_buf_err(b);
}

void sipcx_trace_file(const struct sipcx_trace_event *ev, void *arg)
{
	FILE *f = arg ? arg : stderr;
	struct sipcx_buf b;

	sipcx_buf_init(&b);
	if (sipcx_trace_format(&b, ev) == 0) {
		fwrite(b.p, 1, b.len, f);
		fflush(f);
	}
	sipcx_buf_free(&b);
}
