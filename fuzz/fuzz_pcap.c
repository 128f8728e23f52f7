/* Fuzz target: the pcap reader (classic pcap, every link type it knows, IPv4/IPv6, UDP/TCP, SIP/RTP/RTCP classification) and the ladder drawn from what it finds (sipcx ladder FILE). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <sipcx/ladder.h>
#include <sipcx/pcap.h>
#include <string.h>

#define CHECK(cond)                                                                             \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "fuzz_pcap.c:%d: CHECK(%s) failed\n", __LINE__, #cond); \
			abort();                                                                \
		}                                                                               \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
	const uint8_t *p;
	size_t n;
	int events;
	struct sipcx_ladder *ladder;
};

/* Every event points into the capture, and its bytes are read (so ASan sees any overrun). */
static void on_event(const struct sipcx_trace_event *ev, void *arg)
{
	struct span *s = arg;
	const uint8_t *d = (const uint8_t *)ev->data;
	CHECK(d >= s->p && ev->len <= s->n && d + ev->len <= s->p + s->n);
	CHECK(ev->kind == SIPCX_TRACE_SIP || ev->kind == SIPCX_TRACE_RTP ||
	      ev->kind == SIPCX_TRACE_RTCP);
	CHECK(ev->dir == SIPCX_TRACE_RECV);
	CHECK(ev->transport && ev->src && ev->dst);
	CHECK(ev->src->sa_family == ev->dst->sa_family);
	CHECK(ev->src->sa_family == AF_INET || ev->src->sa_family == AF_INET6);
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < ev->len; i++)
		sink ^= d[i];
	(void)sink;
	s->events++;
	sipcx_ladder_add(s->ladder, ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span s = { data, size, 0, NULL };
	CHECK(sipcx_ladder_new(&s.ladder) == 0);
	int r = sipcx_pcap_parse(data, size, on_event, &s);
	CHECK(r == -EINVAL || r == s.events);
	/* the drawings of whatever was found: bounded, printable, one line per row */
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	CHECK(sipcx_ladder_ascii(s.ladder, &b) == 0);
	CHECK(b.len > 0 && b.p[b.len - 1] == '\n' && memchr(b.p, '\r', b.len) == NULL);
	sipcx_buf_free(&b);
	sipcx_buf_init(&b);
	CHECK(sipcx_ladder_mermaid(s.ladder, &b) == 0);
	CHECK(memchr(b.p, ';', b.len) == NULL && memchr(b.p, '#', b.len) == NULL);
	sipcx_buf_free(&b);
	sipcx_ladder_free(s.ladder);
	return 0;
}
