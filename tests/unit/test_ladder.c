/* Unit tests: the ladder recorder and its ASCII and Mermaid drawings. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <sipcx/ladder.h>
#include <sipcx/rtp.h>
#include <sipcx/sockaddr.h>

#include "testutil.h"

static union sipcx_sa addr(const char *ip, uint16_t port)
{
	union sipcx_sa sa;
	assert_int_equal(sipcx_sa_set(&sa, sipcx_str_c(ip), port), 0);
	return sa;
}

static void add(struct sipcx_ladder *l, enum sipcx_trace_kind kind, enum sipcx_trace_dir dir,
                const union sipcx_sa *src, const union sipcx_sa *dst, uint64_t t, const char *data,
                size_t len)
{
	struct sipcx_trace_event ev = { .dir = dir,
		                        .transport = "UDP",
		                        .src = &src->sa,
		                        .dst = &dst->sa,
		                        .time_us = t,
		                        .data = data,
		                        .len = len,
		                        .kind = kind };
	sipcx_ladder_trace(&ev, l);
}

#define INVITE                                                                                     \
	"INVITE sip:bob@127.0.0.1:5080 SIP/2.0\r\nCall-ID: x\r\nContent-Type: application/sdp\r\n" \
	"Content-Length: 4\r\n\r\nv=0\n"
#define TRYING "SIP/2.0 100 Trying\r\nCall-ID: x\r\n\r\n"
#define OK "SIP/2.0 200 OK\r\nCall-ID: x\r\nContent-Type: application/sdp\r\n\r\nv=0\n"
#define ACK "ACK sip:bob@127.0.0.1:5080 SIP/2.0\r\nCall-ID: x\r\n\r\n"
#define BYE "BYE sip:bob@127.0.0.1:5080 SIP/2.0\r\nCall-ID: x\r\n\r\n"
#define OK_BYE "SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n"

static void call(struct sipcx_ladder *l)
{
	union sipcx_sa a = addr("127.0.0.1", 5070), b = addr("127.0.0.1", 5080);
	union sipcx_sa ma = addr("127.0.0.1", 20000), mb = addr("127.0.0.1", 30000);
	uint64_t t = 1700000000000000ull;
	add(l, SIPCX_TRACE_SIP, SIPCX_TRACE_SEND, &a, &b, t, INVITE, strlen(INVITE));
	/* the same process receives what it sent (a call to itself): drawn once */
	add(l, SIPCX_TRACE_SIP, SIPCX_TRACE_RECV, &a, &b, t + 10, INVITE, strlen(INVITE));
	add(l, SIPCX_TRACE_SIP, SIPCX_TRACE_RECV, &b, &a, t + 312, TRYING, strlen(TRYING));
	add(l, SIPCX_TRACE_SIP, SIPCX_TRACE_RECV, &b, &a, t + 1000, OK, strlen(OK));
	add(l, SIPCX_TRACE_SIP, SIPCX_TRACE_SEND, &a, &b, t + 1200, ACK, strlen(ACK));
	uint8_t pkt[172];
	struct sipcx_rtp_pkt p = { .pt = 8, .ssrc = 1, .payload = pkt + 12, .payload_len = 160 };
	memset(pkt, 0xd5, sizeof(pkt));
	for (unsigned i = 0; i < 3; i++) {
		p.seq = (uint16_t)i;
		assert_int_equal(sipcx_rtp_build(&p, pkt, sizeof(pkt)), (int)sizeof(pkt));
		add(l, SIPCX_TRACE_RTP, SIPCX_TRACE_SEND, &ma, &mb, t + 2000 + i * 20000,
		    (const char *)pkt, sizeof(pkt));
	}
	p.seq = 0;
	assert_int_equal(sipcx_rtp_build(&p, pkt, sizeof(pkt)), (int)sizeof(pkt));
	add(l, SIPCX_TRACE_RTP, SIPCX_TRACE_RECV, &mb, &ma, t + 2500, (const char *)pkt,
	    sizeof(pkt));
	add(l, SIPCX_TRACE_SIP, SIPCX_TRACE_SEND, &a, &b, t + 2000000, BYE, strlen(BYE));
	add(l, SIPCX_TRACE_SIP, SIPCX_TRACE_RECV, &b, &a, t + 2000400, OK_BYE, strlen(OK_BYE));
	/* not SIP: ignored */
	add(l, SIPCX_TRACE_SIP, SIPCX_TRACE_RECV, &b, &a, t + 2000500, "\r\n\r\n", 4);
}

static void test_ascii(void **state)
{
	(void)state;
	struct sipcx_ladder *l = NULL;
	assert_int_equal(sipcx_ladder_new(&l), 0);
	call(l);
	assert_int_equal(sipcx_ladder_rows(l), 8);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_ladder_ascii(l, &b), 0);
	const char *want =
	    "                127.0.0.1:5070          127.0.0.1:5080          127.0.0.1:20000"
	    "         127.0.0.1:30000\n"
	    "  0.000000             |-----INVITE (SDP)----->|                       |"
	    "                       |\n"
	    "  0.000312             |<-----100 Trying-------|                       |"
	    "                       |\n"
	    "  0.001000             |<----200 OK (SDP)------|                       |"
	    "                       |\n"
	    "  0.001200             |----------ACK--------->|                       |"
	    "                       |\n"
	    "  0.002000             |                       |                       |"
	    "~~~~~RTP x3 (pt 8)~~~~>|\n"
	    "  0.002500             |                       |                       |"
	    "<~~~~RTP x1 (pt 8)~~~~~|\n"
	    "  2.000000             |----------BYE--------->|                       |"
	    "                       |\n"
	    "  2.000400             |<-------200 OK---------|                       |"
	    "                       |\n";
	if (strcmp(b.p, want) != 0)
		fprintf(stderr, "got:\n%s\nwant:\n%s\n", b.p, want);
	assert_string_equal(b.p, want);
	sipcx_buf_free(&b);
	sipcx_ladder_free(l);
}

static void test_mermaid(void **state)
{
	(void)state;
	struct sipcx_ladder *l = NULL;
	assert_int_equal(sipcx_ladder_new(&l), 0);
	call(l);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_ladder_mermaid(l, &b), 0);
	const char *want = "sequenceDiagram\n"
	                   "    autonumber\n"
	                   "    participant P0 as 127.0.0.1:5070\n"
	                   "    participant P1 as 127.0.0.1:5080\n"
	                   "    participant P2 as 127.0.0.1:20000\n"
	                   "    participant P3 as 127.0.0.1:30000\n"
	                   "    P0->>P1: INVITE (SDP)\n"
	                   "    P1-->>P0: 100 Trying\n"
	                   "    P1-->>P0: 200 OK (SDP)\n"
	                   "    P0->>P1: ACK\n"
	                   "    P2-->>P3: RTP x3 (pt 8)\n"
	                   "    P3-->>P2: RTP x1 (pt 8)\n"
	                   "    P0->>P1: BYE\n"
	                   "    P1-->>P0: 200 OK\n";
	if (strcmp(b.p, want) != 0)
		fprintf(stderr, "got:\n%s\nwant:\n%s\n", b.p, want);
	assert_string_equal(b.p, want);
	sipcx_buf_free(&b);
	sipcx_ladder_free(l);
}

/* Bounded: past the column limit messages are counted, not drawn; no arguments, no crash. */
static void test_limits(void **state)
{
	(void)state;
	struct sipcx_ladder *l = NULL;
	assert_int_equal(sipcx_ladder_new(&l), 0);
	union sipcx_sa a = addr("::1", 5060);
	for (unsigned i = 0; i < SIPCX_LADDER_MAX_COLS + 3; i++) {
		union sipcx_sa d = addr("::1", (uint16_t)(6000 + i));
		add(l, SIPCX_TRACE_SIP, SIPCX_TRACE_SEND, &a, &d, i, BYE, strlen(BYE));
	}
	assert_int_equal(sipcx_ladder_rows(l), SIPCX_LADDER_MAX_COLS - 1);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_ladder_ascii(l, &b), 0);
	assert_non_null(strstr(b.p, "(4 more messages not drawn)\n"));
	assert_non_null(strstr(b.p, "[::1]:5060"));
	sipcx_buf_free(&b);
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_ladder_mermaid(l, &b), 0);
	assert_non_null(strstr(b.p, "participant P0 as [::1]:5060\n"));
	assert_non_null(strstr(b.p, "Note over P0: 4 more messages not drawn\n"));
	sipcx_buf_free(&b);
	assert_int_equal(sipcx_ladder_ascii(NULL, &b), -EINVAL);
	assert_int_equal(sipcx_ladder_new(NULL), -EINVAL);
	sipcx_ladder_add(NULL, NULL);
	sipcx_ladder_add(l, NULL);
	sipcx_ladder_free(l);
	sipcx_ladder_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii),
		cmocka_unit_test(test_mermaid),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
