/* Unit tests of the transports: addresses, Via received/rport, stream framing, UDP and TCP on loopback. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "testutil.h"
#include "transport/transport.h"
#include <sipcx/embed.h>
#include <sipcx/trace.h>

/* ---- addresses ---- */

static void test_addr_parse(void **state)
{
	(void)state;
	struct sipcx_tp_addr a;
	char buf[SIPCX_ADDRSTRLEN];

	assert_int_equal(sipcx_tp_addr_parse(&a, "udp:127.0.0.1:5060"), 0);
	assert_int_equal(a.proto, SIPCX_TP_UDP);
	assert_int_equal(a.sa.sa.sa_family, AF_INET);
	assert_int_equal(sipcx_sa_port(&a.sa.sa), 5060);
	assert_int_equal(sipcx_tp_addr_print(&a, buf, sizeof(buf)), 18);
	assert_string_equal(buf, "udp:127.0.0.1:5060");

	assert_int_equal(sipcx_tp_addr_parse(&a, "TCP:[::1]:0"), 0);
	assert_int_equal(a.proto, SIPCX_TP_TCP);
	assert_int_equal(a.sa.sa.sa_family, AF_INET6);
	assert_int_equal(sipcx_sa_port(&a.sa.sa), 0);
	assert_true(sipcx_tp_addr_print(&a, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "tcp:[::1]:0");

	/* Defaults: UDP, port 5060; a bare IPv6 address needs no brackets. */
	assert_int_equal(sipcx_tp_addr_parse(&a, "10.1.2.3"), 0);
	assert_int_equal(a.proto, SIPCX_TP_UDP);
	assert_int_equal(sipcx_sa_port(&a.sa.sa), 5060);
	assert_int_equal(sipcx_tp_addr_parse(&a, "[::1]:5070"), 0);
	assert_int_equal(sipcx_sa_port(&a.sa.sa), 5070);
	assert_int_equal(sipcx_tp_addr_parse(&a, "::1"), 0);
	assert_int_equal(a.sa.sa.sa_family, AF_INET6);
	assert_int_equal(sipcx_sa_port(&a.sa.sa), 5060);
	assert_int_equal(sipcx_sa_print(&a.sa.sa, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "[::1]:5060");
	assert_int_equal(sipcx_sa_print(&a.sa.sa, buf, 5), -ENOSPC);

	static const char *const bad[] = {
		"",
		"udp:",
		"udp:example.com:5060",
		"udp:127.0.0.1:70000",
		"sctp:127.0.0.1:5",
		"[::1",
		"[::1]x",
		"udp:127.0.0.1:",
		"udp:1.2.3.4:-1",
		"tcp:[::1]:5:6",
		"127.0.0.1:50a",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sipcx_tp_addr_parse(&a, bad[i]), -EINVAL);
	assert_int_equal(sipcx_tp_addr_parse(NULL, "1.2.3.4"), -EINVAL);
	assert_int_equal(sipcx_tp_addr_parse(&a, NULL), -EINVAL);

	union sipcx_sa x, y;
	assert_int_equal(sipcx_sa_set(&x, SIPCX_STR("0:0::1"), 5), 0);
	assert_int_equal(sipcx_sa_set(&y, SIPCX_STR("[::1]"), 5), 0);
	assert_true(sipcx_sa_equal(&x.sa, &y.sa));
	sipcx_sa_set_port(&y, 6);
	assert_false(sipcx_sa_equal(&x.sa, &y.sa));
	assert_true(sipcx_sa_equal_host(&x.sa, &y.sa));
	assert_false(sipcx_sa_is_any(&x.sa));
	assert_int_equal(sipcx_sa_set(&x, SIPCX_STR("0.0.0.0"), 0), 0);
	assert_true(sipcx_sa_is_any(&x.sa));
	assert_int_equal(sipcx_tp_lookup(SIPCX_STR("Tcp")), SIPCX_TP_TCP);
	assert_int_equal(sipcx_tp_lookup(SIPCX_STR("TLS")), SIPCX_TP_TLS);
	assert_int_equal(sipcx_tp_lookup(SIPCX_STR("sctp")), SIPCX_TP_NONE);
	assert_string_equal(sipcx_tp_name(SIPCX_TP_UDP), "UDP");
	assert_string_equal(sipcx_tp_name(SIPCX_TP_TLS), "TLS");
	/* what rides on a TCP stream (pcap and HEP write TLS as TCP) */
	assert_true(sipcx__tp_name_is_stream("TCP"));
	assert_true(sipcx__tp_name_is_stream("tls"));
	assert_false(sipcx__tp_name_is_stream("UDP"));
	assert_false(sipcx__tp_name_is_stream(""));
	assert_false(sipcx__tp_name_is_stream(NULL));
	/* TLS: port 5061 by default (RFC 3261 19.1.2). */
	assert_int_equal(sipcx_tp_addr_parse(&a, "tls:127.0.0.1"), 0);
	assert_int_equal(a.proto, SIPCX_TP_TLS);
	assert_int_equal(sipcx_sa_port(&a.sa.sa), 5061);
	assert_true(sipcx_tp_addr_print(&a, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "tls:127.0.0.1:5061");
}

/* ---- RFC 3581 / 18.2 ---- */

static struct sipcx_via via_of(const char *s)
{
	struct sipcx_via v;
	assert_int_equal(sipcx_via_parse(&v, sipcx_str_c(s)), 0);
	return v;
}

static void test_via_received(void **state)
{
	(void)state;
	union sipcx_sa src, dst;
	char out[SIPCX_ADDRSTRLEN + 32];
	assert_int_equal(sipcx_sa_set(&src, SIPCX_STR("192.0.2.7"), 4000), 0);

	/* RFC 3581 4: rport asked: received always, rport filled with the source port. */
	struct sipcx_via v = via_of("SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bK1");
	assert_int_equal(sipcx_tp_via_received(&v, &src.sa, out, sizeof(out)),
	                 (int)strlen(";received=192.0.2.7;rport=4000"));
	assert_string_equal(out, ";received=192.0.2.7;rport=4000");
	/* The empty rport is replaced, not repeated. */
	struct sipcx_buf fixed;
	sipcx_buf_init(&fixed);
	assert_int_equal(sipcx_tp_via_apply(&v, out, &fixed), 0);
	assert_string_equal(
	    fixed.p, "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=192.0.2.7;rport=4000");
	struct sipcx_via back = via_of(fixed.p);
	assert_int_equal(back.rport, 4000);
	sipcx_buf_free(&fixed);
	assert_int_equal(sipcx_tp_response_dst(&v, SIPCX_TP_UDP, &src.sa, &dst), 0);
	assert_true(sipcx_sa_equal(&dst.sa, &src.sa));
	/* Over TCP rport means nothing: a new connection goes to the sent-by port. */
	assert_int_equal(sipcx_tp_response_dst(&v, SIPCX_TP_TCP, &src.sa, &dst), 0);
	assert_true(sipcx_sa_equal_host(&dst.sa, &src.sa));
	assert_int_equal(sipcx_sa_port(&dst.sa), 5060);

	/* RFC 3261 18.2.1: sent-by equal to the source: nothing to add. */
	v = via_of("SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK2");
	assert_int_equal(sipcx_tp_via_received(&v, &src.sa, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* 18.2.2: no rport: the sent-by port, at the source address. */
	assert_int_equal(sipcx_tp_response_dst(&v, SIPCX_TP_UDP, &src.sa, &dst), 0);
	assert_int_equal(sipcx_sa_port(&dst.sa), 5070);
	assert_true(sipcx_sa_equal_host(&dst.sa, &src.sa));

	/* A host name as sent-by: received; the default port is 5060. */
	v = via_of("SIP/2.0/UDP pc33.example.com;branch=z9hG4bK3");
	assert_int_equal(sipcx_tp_via_received(&v, &src.sa, out, sizeof(out)),
	                 (int)strlen(";received=192.0.2.7"));
	assert_string_equal(out, ";received=192.0.2.7");
	assert_int_equal(sipcx_tp_response_dst(&v, SIPCX_TP_UDP, &src.sa, &dst), 0);
	assert_int_equal(sipcx_sa_port(&dst.sa), 5060);

	/* maddr wins (18.2.2). */
	v = via_of("SIP/2.0/UDP 10.0.0.1:5062;maddr=239.1.1.1;branch=z9hG4bK4");
	assert_int_equal(sipcx_tp_response_dst(&v, SIPCX_TP_UDP, &src.sa, &dst), 0);
	assert_int_equal(sipcx_sa_port(&dst.sa), 5062);
	assert_int_equal(ntohl(dst.in.sin_addr.s_addr), 0xef010101u);

	/* IPv6 source. */
	assert_int_equal(sipcx_sa_set(&src, SIPCX_STR("::1"), 4001), 0);
	v = via_of("SIP/2.0/TCP [::1]:5060;rport;branch=z9hG4bK5");
	assert_int_equal(sipcx_tp_via_received(&v, &src.sa, out, sizeof(out)),
	                 (int)strlen(";received=::1;rport=4001"));
	assert_string_equal(out, ";received=::1;rport=4001");
	assert_int_equal(sipcx_tp_via_received(&v, &src.sa, out, 10), -ENOSPC);
	assert_int_equal(sipcx_tp_via_received(NULL, &src.sa, out, sizeof(out)), -EINVAL);
}

/* ---- stream framing ---- */

struct frames {
	int n;
	enum sipcx__stream_ev ev[16];
	size_t len[16];
	int err[16];
	char method[16][16];
};

static int collect(enum sipcx__stream_ev ev, struct sipcx_msg *m, const char *data, size_t len,
                   void *arg)
{
	struct frames *f = arg;
	(void)data;
	assert_true(f->n < 16);
	f->ev[f->n] = ev;
	f->len[f->n] = len;
	f->err[f->n] = m ? m->err : 0;
	f->method[f->n][0] = '\0';
	if (ev == SIPCX__STREAM_MSG && m->request)
		snprintf(f->method[f->n], sizeof(f->method[0]), "%.*s",
		         SIPCX_STR_FMT(m->method_str));
	f->n++;
	return 0;
}

#define OPT1                                                                                     \
	"OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKa\r\n" \
	"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: c1\r\n"              \
	"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
#define MSG2                                                                                     \
	"MESSAGE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKb\r\n" \
	"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: c2\r\n"              \
	"CSeq: 2 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\n"                    \
	"Content-Length: 5\r\n\r\nhello"

/* Every split of a stream with two messages and a ping gives the same frames. */
static void test_stream_splits(void **state)
{
	(void)state;
	static const char wire[] = OPT1 "\r\n\r\n" MSG2 "\r\n";
	size_t n = sizeof(wire) - 1;
	static struct sipcx_msg m;

	for (size_t cut = 0; cut <= n; cut++) {
		struct sipcx__stream s;
		struct frames f = { 0 };
		sipcx__stream_init(&s);
		assert_int_equal(sipcx__stream_feed(&s, wire, cut, &m, collect, &f), 0);
		assert_int_equal(sipcx__stream_feed(&s, wire + cut, n - cut, &m, collect, &f), 0);
		assert_int_equal(f.n, 3);
		assert_int_equal(f.ev[0], SIPCX__STREAM_MSG);
		assert_int_equal(f.len[0], strlen(OPT1));
		assert_string_equal(f.method[0], "OPTIONS");
		assert_int_equal(f.ev[1], SIPCX__STREAM_PING);
		assert_int_equal(f.ev[2], SIPCX__STREAM_MSG);
		assert_int_equal(f.len[2], strlen(MSG2));
		assert_string_equal(f.method[2], "MESSAGE");
		/* The trailing CRLF is a pong: consumed, nothing pending. */
		assert_int_equal(sipcx__stream_pending(&s), 0);
		sipcx__stream_reset(&s);
	}

	/* One byte per read. */
	struct sipcx__stream s;
	struct frames f = { 0 };
	sipcx__stream_init(&s);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sipcx__stream_feed(&s, wire + i, 1, &m, collect, &f), 0);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.ev[1], SIPCX__STREAM_PING);
	sipcx__stream_reset(&s);
}

static void test_stream_two_in_one_read(void **state)
{
	(void)state;
	static const char wire[] = OPT1 MSG2 OPT1;
	static struct sipcx_msg m;
	struct sipcx__stream s;
	struct frames f = { 0 };

	sipcx__stream_init(&s);
	/* The last message is cut: it waits for the rest. */
	assert_int_equal(sipcx__stream_feed(&s, wire, sizeof(wire) - 10, &m, collect, &f), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.method[0], "OPTIONS");
	assert_string_equal(f.method[1], "MESSAGE");
	assert_int_equal(sipcx__stream_pending(&s), strlen(OPT1) - 9);
	assert_int_equal(sipcx__stream_feed(&s, wire + sizeof(wire) - 10, 9, &m, collect, &f), 0);
	assert_int_equal(f.n, 3);
	assert_string_equal(f.method[2], "OPTIONS");
	assert_int_equal(sipcx__stream_pending(&s), 0);
	sipcx__stream_reset(&s);

	/* Keep-alives only: CRLFCRLF twice gives two pings, no message. */
	f.n = 0;
	sipcx__stream_init(&s);
	assert_int_equal(sipcx__stream_feed(&s, "\r\n\r\n\r\n", 6, &m, collect, &f), 0);
	assert_int_equal(sipcx__stream_feed(&s, "\r\n", 2, &m, collect, &f), 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.ev[0], SIPCX__STREAM_PING);
	assert_int_equal(f.ev[1], SIPCX__STREAM_PING);
	sipcx__stream_reset(&s);
}

static void test_stream_bad(void **state)
{
	(void)state;
	static struct sipcx_msg m;
	struct sipcx__stream s;
	struct frames f = { 0 };
	struct sipcx_msg_verdict v;

	/* Larger than the limit by Content-Length: known once the headers end. */
	static const char big[] =
	    "MESSAGE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKc\r\n"
	    "From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: c3\r\n"
	    "CSeq: 3 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: 70000\r\n\r\nxx";
	sipcx__stream_init(&s);
	assert_int_equal(sipcx__stream_feed(&s, big, sizeof(big) - 1, &m, collect, &f), 1);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.ev[0], SIPCX__STREAM_BAD);
	assert_int_equal(f.err[0], -EMSGSIZE);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_int_equal(v.status, 513);
	sipcx__stream_reset(&s);

	/* Headers that never end: cut at the size limit, never buffered beyond it. */
	f.n = 0;
	sipcx__stream_init(&s);
	static const char start[] = "MESSAGE sip:a@127.0.0.1 SIP/2.0\r\n";
	assert_int_equal(sipcx__stream_feed(&s, start, sizeof(start) - 1, &m, collect, &f), 0);
	char line[1000];
	memset(line, 'a', sizeof(line));
	memcpy(line, "X-Pad: ", 7);
	line[998] = '\r';
	line[999] = '\n';
	int r = 0;
	for (int i = 0; i < 100 && r == 0; i++)
		r = sipcx__stream_feed(&s, line, sizeof(line), &m, collect, &f);
	assert_int_equal(r, 1);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.ev[0], SIPCX__STREAM_BAD);
	assert_true(f.err[0] == -EMSGSIZE || f.err[0] == -E2BIG);
	sipcx__stream_reset(&s);

	/* No Content-Length on a stream: framing is lost. */
	f.n = 0;
	sipcx__stream_init(&s);
	static const char nocl[] = "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nCall-ID: x\r\n\r\n";
	assert_int_equal(sipcx__stream_feed(&s, nocl, sizeof(nocl) - 1, &m, collect, &f), 1);
	assert_int_equal(f.ev[0], SIPCX__STREAM_BAD);
	assert_int_equal(f.err[0], -EBADMSG);
	sipcx__stream_reset(&s);
}

/* ---- sockets on loopback ---- */

struct peer {
	struct sipcx_transport *tp;
	int nrecv;
	int nerr;
	int last_err;
	int last_parse_err;
	uint64_t last_conn;
	enum sipcx_tp_proto last_proto;
	union sipcx_sa last_remote;
	char last[2048];
	size_t last_len;
	bool answer_bad; /* answer a malformed request as sipcx_msg_check() says */
};

static void peer_recv(const struct sipcx_tp_pkt *pkt, void *arg)
{
	struct peer *p = arg;
	p->nrecv++;
	p->last_proto = pkt->proto;
	p->last_conn = pkt->conn;
	p->last_parse_err = pkt->err;
	memcpy(&p->last_remote, pkt->remote, sipcx_sa_len(pkt->remote));
	p->last_len = pkt->len < sizeof(p->last) ? pkt->len : sizeof(p->last);
	memcpy(p->last, pkt->data, p->last_len);
	if (pkt->err && p->answer_bad) {
		struct sipcx_msg_verdict v;
		if (sipcx_msg_check(pkt->msg, 0, &v) == SIPCX_MSG_REJECT) {
			struct sipcx_buf b;
			sipcx_buf_init(&b);
			assert_int_equal(
			    sipcx_msg_print_reply(&b, pkt->msg, v.status, sipcx_str_c(v.reason),
			                          SIPCX_STR_NULL, NULL, 0, SIPCX_STR_NULL),
			    0);
			struct sipcx_tp_addr dst = { .proto = pkt->proto };
			memcpy(&dst.sa, pkt->remote, sipcx_sa_len(pkt->remote));
			assert_int_equal(sipcx_transport_send(p->tp, &dst, pkt->conn, b.p, b.len),
			                 0);
			sipcx_buf_free(&b);
		}
	}
}

static void peer_error(int err, enum sipcx_tp_proto proto, const struct sockaddr *remote,
                       uint64_t conn, void *arg)
{
	struct peer *p = arg;
	(void)proto;
	(void)remote;
	(void)conn;
	p->nerr++;
	p->last_err = err;
}

static void peer_open(struct peer *p, uv_loop_t *loop, uint32_t idle_ms)
{
	memset(p, 0, sizeof(*p));
	struct sipcx_transport_opts o = {
		.recv = peer_recv, .error = peer_error, .arg = p, .tcp_idle_ms = idle_ms
	};
	assert_int_equal(sipcx_transport_new(&p->tp, loop, &o), 0);
}

static void on_deadline(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Run the loop until *cond becomes true or 5 s pass (a bound, not a wait). */
static bool run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg)
{
	uv_timer_t t;
	bool expired = false;
	uv_timer_init(loop, &t);
	t.data = &expired;
	uv_timer_start(&t, on_deadline, 5000, 0);
	while (!cond(arg) && !expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return cond(arg);
}

struct want {
	struct peer *p;
	int nrecv;
	int nerr;
	size_t nconns;
	bool conns;
};

static bool got(void *arg)
{
	struct want *w = arg;
	if (w->conns)
		return sipcx_transport_conn_count(w->p->tp) == w->nconns;
	return w->p->nrecv >= w->nrecv && w->p->nerr >= w->nerr;
}

static void close_loop(uv_loop_t *loop)
{
	/* Every handle must be closed by now: uv_loop_close says so. */
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void test_udp_loopback(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer a, b;
	struct sipcx_tp_addr la, lb, any;

	uv_loop_init(&loop);
	peer_open(&a, &loop, 0);
	peer_open(&b, &loop, 0);
	assert_int_equal(sipcx_tp_addr_parse(&la, "udp:127.0.0.1:0"), 0);
	assert_int_equal(sipcx_transport_listen(a.tp, &la, &la), 0);
	assert_true(sipcx_sa_port(&la.sa.sa) != 0);
	assert_int_equal(sipcx_tp_addr_parse(&lb, "udp:0.0.0.0:0"), 0);
	assert_int_equal(sipcx_transport_listen(b.tp, &lb, &lb), 0);
	struct sipcx_tp_addr got_bound;
	assert_int_equal(sipcx_transport_bound(b.tp, 0, &got_bound), 0);
	assert_true(sipcx_sa_equal(&got_bound.sa.sa, &lb.sa.sa));
	assert_int_equal(sipcx_transport_bound(b.tp, 1, &got_bound), -ENOENT);
	/* The same port twice: taken. */
	assert_int_equal(sipcx_transport_listen(b.tp, &la, NULL), -EADDRINUSE);

	/* A wildcard listener advertises the routed address, with its port. */
	struct sipcx_tp_addr to_a = la;
	union sipcx_sa adv;
	assert_int_equal(sipcx_transport_local(b.tp, &to_a, &adv), 0);
	assert_int_equal(ntohl(adv.in.sin_addr.s_addr), 0x7f000001u);
	assert_int_equal(sipcx_sa_port(&adv.sa), sipcx_sa_port(&lb.sa.sa));
	any = to_a;
	any.proto = SIPCX_TP_TCP;
	assert_int_equal(sipcx_transport_local(b.tp, &any, &adv), -EAFNOSUPPORT);

	/* A batch of datagrams (recvmmsg) in one go: all arrive, parsed. */
	for (int i = 0; i < 12; i++)
		assert_int_equal(sipcx_transport_send(b.tp, &to_a, 0, OPT1, strlen(OPT1)), 0);
	struct want w = { .p = &a, .nrecv = 12 };
	assert_true(run_until(&loop, got, &w));
	assert_int_equal(a.last_proto, SIPCX_TP_UDP);
	assert_int_equal(a.last_parse_err, 0);
	assert_int_equal(a.last_len, strlen(OPT1));
	assert_int_equal(sipcx_sa_port(&a.last_remote.sa), sipcx_sa_port(&lb.sa.sa));

	/* A CRLF keep-alive datagram is no message; a malformed one is passed up. */
	assert_int_equal(sipcx_transport_send(b.tp, &to_a, 0, "\r\n\r\n", 4), 0);
	assert_int_equal(sipcx_transport_send(b.tp, &to_a, 0, "garbage\r\n\r\n", 11), 0);
	w.nrecv = 13;
	assert_true(run_until(&loop, got, &w));
	assert_int_equal(a.nrecv, 13);
	assert_int_equal(a.last_parse_err, -EBADMSG);

	/* No IPv6 socket: no way to send there. */
	struct sipcx_tp_addr v6;
	assert_int_equal(sipcx_tp_addr_parse(&v6, "udp:[::1]:5060"), 0);
	assert_int_equal(sipcx_transport_send(b.tp, &v6, 0, "x", 1), -EAFNOSUPPORT);

	sipcx_transport_free(a.tp);
	sipcx_transport_free(b.tp);
	close_loop(&loop);
}

static void test_udp_ipv6(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer a, b;
	struct sipcx_tp_addr la, lb;

	uv_loop_init(&loop);
	peer_open(&a, &loop, 0);
	peer_open(&b, &loop, 0);
	assert_int_equal(sipcx_tp_addr_parse(&la, "udp:[::1]:0"), 0);
	int r = sipcx_transport_listen(a.tp, &la, &la);
	if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT) {
		sipcx_transport_free(a.tp);
		sipcx_transport_free(b.tp);
		close_loop(&loop);
		skip();
	}
	assert_int_equal(r, 0);
	assert_int_equal(sipcx_tp_addr_parse(&lb, "udp:[::]:0"), 0);
	assert_int_equal(sipcx_transport_listen(b.tp, &lb, &lb), 0);
	assert_int_equal(sipcx_transport_send(b.tp, &la, 0, OPT1, strlen(OPT1)), 0);
	struct want w = { .p = &a, .nrecv = 1 };
	assert_true(run_until(&loop, got, &w));
	assert_int_equal(a.last_remote.sa.sa_family, AF_INET6);
	sipcx_transport_free(a.tp);
	sipcx_transport_free(b.tp);
	close_loop(&loop);
}

static void test_tcp_reuse_and_reply(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer a, b;
	struct sipcx_tp_addr la;

	uv_loop_init(&loop);
	peer_open(&a, &loop, 0);
	peer_open(&b, &loop, 0);
	assert_int_equal(sipcx_tp_addr_parse(&la, "tcp:127.0.0.1:0"), 0);
	assert_int_equal(sipcx_transport_listen(a.tp, &la, &la), 0);

	/* Two messages before the connection is up: one connection, both arrive in order. */
	assert_int_equal(sipcx_transport_send(b.tp, &la, 0, OPT1, strlen(OPT1)), 0);
	assert_int_equal(sipcx_transport_send(b.tp, &la, 0, MSG2, strlen(MSG2)), 0);
	assert_int_equal(sipcx_transport_conn_count(b.tp), 1);
	struct want w = { .p = &a, .nrecv = 2 };
	assert_true(run_until(&loop, got, &w));
	assert_int_equal(a.last_proto, SIPCX_TP_TCP);
	assert_true(a.last_conn != 0);
	assert_int_equal(a.last_len, strlen(MSG2));
	assert_memory_equal(a.last, MSG2, strlen(MSG2));
	assert_int_equal(sipcx_transport_conn_count(a.tp), 1);

	/* The answer goes back on the same connection (18.2.2), not a new one. */
	struct sipcx_tp_addr back = { .proto = SIPCX_TP_TCP, .sa = a.last_remote };
	assert_int_equal(sipcx_transport_send(a.tp, &back, a.last_conn, OPT1, strlen(OPT1)), 0);
	w.p = &b;
	w.nrecv = 1;
	assert_true(run_until(&loop, got, &w));
	assert_int_equal(sipcx_transport_conn_count(a.tp), 1);
	assert_int_equal(sipcx_transport_conn_count(b.tp), 1);

	/* A third message reuses the connection. */
	assert_int_equal(sipcx_transport_send(b.tp, &la, 0, OPT1, strlen(OPT1)), 0);
	w.p = &a;
	w.nrecv = 3;
	assert_true(run_until(&loop, got, &w));
	assert_int_equal(sipcx_transport_conn_count(b.tp), 1);

	sipcx_transport_free(a.tp);
	sipcx_transport_free(b.tp);
	close_loop(&loop);
}

static void test_tcp_refused(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer b;
	struct sipcx_tp_addr dst;

	/* A port that was free a moment ago: nothing listens there. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	union sipcx_sa sa;
	assert_int_equal(sipcx_sa_set(&sa, SIPCX_STR("127.0.0.1"), 0), 0);
	assert_int_equal(bind(fd, &sa.sa, sizeof(sa.in)), 0);
	socklen_t len = sizeof(sa);
	assert_int_equal(getsockname(fd, &sa.sa, &len), 0);
	close(fd);

	uv_loop_init(&loop);
	peer_open(&b, &loop, 0);
	dst.proto = SIPCX_TP_TCP;
	dst.sa = sa;
	assert_int_equal(sipcx_transport_send(b.tp, &dst, 0, OPT1, strlen(OPT1)), 0);
	struct want w = { .p = &b, .nerr = 1 };
	assert_true(run_until(&loop, got, &w));
	assert_int_equal(b.last_err, -ECONNREFUSED);
	assert_int_equal(sipcx_transport_conn_count(b.tp), 0);
	sipcx_transport_free(b.tp);
	close_loop(&loop);
}

/* A raw client: what a byte stream from an arbitrary peer does to the server. */
static int raw_connect(const struct sipcx_tp_addr *to)
{
	int fd = socket(to->sa.sa.sa_family, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, &to->sa.sa, (socklen_t)sipcx_sa_len(&to->sa.sa)), 0);
	return fd;
}

struct raw_read {
	int fd;
	char buf[4096];
	size_t len;
	bool eof;
	const char *want; /* stop when this text has been read */
};

static bool raw_readable(void *arg)
{
	struct raw_read *r = arg;
	ssize_t n = -1;
	while (r->len < sizeof(r->buf) - 1 &&
	       (n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len, MSG_DONTWAIT)) > 0)
		r->len += (size_t)n;
	if (n == 0)
		r->eof = true;
	r->buf[r->len] = '\0';
	if (r->want)
		return strstr(r->buf, r->want) != NULL;
	return r->eof;
}

static void test_tcp_keepalive_and_split(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer a;
	struct sipcx_tp_addr la;

	uv_loop_init(&loop);
	peer_open(&a, &loop, 0);
	assert_int_equal(sipcx_tp_addr_parse(&la, "tcp:127.0.0.1:0"), 0);
	assert_int_equal(sipcx_transport_listen(a.tp, &la, &la), 0);
	int fd = raw_connect(&la);

	/* A message in two writes, each processed before the next is sent. */
	size_t half = strlen(OPT1) / 2;
	assert_int_equal(send(fd, OPT1, half, 0), (ssize_t)half);
	struct want conn1 = { .p = &a, .conns = true, .nconns = 1 };
	assert_true(run_until(&loop, got, &conn1));
	for (int i = 0; i < 5; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(a.nrecv, 0);
	assert_int_equal(send(fd, &OPT1[half], strlen(OPT1) - half, 0),
	                 (ssize_t)(strlen(OPT1) - half));
	struct want w = { .p = &a, .nrecv = 1 };
	assert_true(run_until(&loop, got, &w));
	assert_int_equal(a.last_len, strlen(OPT1));

	/* RFC 5626 ping: CRLFCRLF is answered with CRLF, and is not a message. */
	assert_int_equal(send(fd, "\r\n\r\n", 4, 0), 4);
	struct raw_read rr = { .fd = fd, .want = "\r\n" };
	assert_true(run_until(&loop, raw_readable, &rr));
	assert_int_equal(rr.len, 2);
	assert_int_equal(a.nrecv, 1);

	/* Two messages in one write. */
	static const char two[] = MSG2 OPT1;
	assert_int_equal(send(fd, two, sizeof(two) - 1, 0), (ssize_t)(sizeof(two) - 1));
	w.nrecv = 3;
	assert_true(run_until(&loop, got, &w));
	assert_int_equal(a.last_len, strlen(OPT1));
	close(fd);
	sipcx_transport_free(a.tp);
	close_loop(&loop);
}

static void test_tcp_oversized_513(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer a;
	struct sipcx_tp_addr la;

	uv_loop_init(&loop);
	peer_open(&a, &loop, 0);
	a.answer_bad = true;
	assert_int_equal(sipcx_tp_addr_parse(&la, "tcp:127.0.0.1:0"), 0);
	assert_int_equal(sipcx_transport_listen(a.tp, &la, &la), 0);
	int fd = raw_connect(&la);
	static const char big[] =
	    "MESSAGE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKc\r\n"
	    "From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: c3\r\n"
	    "CSeq: 3 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: 70000\r\n\r\nxx";
	assert_int_equal(send(fd, big, sizeof(big) - 1, 0), (ssize_t)(sizeof(big) - 1));
	/* The server answers 513 on the connection, then closes it (framing is lost). */
	struct raw_read rr = { .fd = fd };
	assert_true(run_until(&loop, raw_readable, &rr));
	assert_true(rr.eof);
	assert_non_null(strstr(rr.buf, "SIP/2.0 513 "));
	assert_non_null(strstr(rr.buf, "Call-ID: c3\r\n"));
	assert_int_equal(a.last_parse_err, -EMSGSIZE);
	struct want w = { .p = &a, .conns = true, .nconns = 0 };
	assert_true(run_until(&loop, got, &w));
	close(fd);
	sipcx_transport_free(a.tp);
	close_loop(&loop);
}

static void test_tcp_idle_close(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer a;
	struct sipcx_tp_addr la;

	uv_loop_init(&loop);
	peer_open(&a, &loop, 30);
	assert_int_equal(sipcx_tp_addr_parse(&la, "tcp:127.0.0.1:0"), 0);
	assert_int_equal(sipcx_transport_listen(a.tp, &la, &la), 0);
	int fd = raw_connect(&la);
	struct want w = { .p = &a, .conns = true, .nconns = 1 };
	assert_true(run_until(&loop, got, &w));
	/* Nothing is sent: the server closes after its idle time. */
	struct raw_read rr = { .fd = fd };
	assert_true(run_until(&loop, raw_readable, &rr));
	assert_true(rr.eof);
	assert_int_equal(sipcx_transport_conn_count(a.tp), 0);
	close(fd);
	sipcx_transport_free(a.tp);
	close_loop(&loop);
}

/* Limits of a server: a message begun must end in time (slowloris); connections per source. */
static void test_tcp_limits(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer a;
	struct sipcx_tp_addr la;

	uv_loop_init(&loop);
	memset(&a, 0, sizeof(a));
	struct sipcx_transport_opts o = { .recv = peer_recv,
		                          .error = peer_error,
		                          .arg = &a,
		                          .tcp_idle_ms = 60000,
		                          .tcp_msg_timeout_ms = 50,
		                          .tcp_max_per_source = 2 };
	assert_int_equal(sipcx_transport_new(&a.tp, &loop, &o), 0);
	assert_int_equal(sipcx_tp_addr_parse(&la, "tcp:127.0.0.1:0"), 0);
	assert_int_equal(sipcx_transport_listen(a.tp, &la, &la), 0);
	/* Half a message: cut off after 50 ms, though the idle time is a minute. */
	int fd = raw_connect(&la);
	static const char part[] = "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1";
	assert_int_equal(send(fd, part, sizeof(part) - 1, 0), (ssize_t)sizeof(part) - 1);
	uint64_t t0 = uv_hrtime();
	struct raw_read rr = { .fd = fd };
	assert_true(run_until(&loop, raw_readable, &rr));
	assert_true(rr.eof);
	assert_true(uv_hrtime() - t0 < 5000000000ull);
	assert_int_equal(a.nrecv, 0);
	close(fd);
	/* Two connections from 127.0.0.1 stay; a third is closed at once. */
	int f1 = raw_connect(&la), f2 = raw_connect(&la);
	struct want w = { .p = &a, .conns = true, .nconns = 2 };
	assert_true(run_until(&loop, got, &w));
	int f3 = raw_connect(&la);
	struct raw_read r3 = { .fd = f3 };
	assert_true(run_until(&loop, raw_readable, &r3));
	assert_true(r3.eof);
	assert_int_equal(sipcx_transport_conn_count(a.tp), 2);
	close(f1);
	close(f2);
	close(f3);
	sipcx_transport_free(a.tp);
	close_loop(&loop);
}

static void test_free_with_traffic(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer a, b;
	struct sipcx_tp_addr la, lt;

	/* Freed with a connection being set up and datagrams in flight: no leak, no callback. */
	uv_loop_init(&loop);
	peer_open(&a, &loop, 0);
	peer_open(&b, &loop, 0);
	assert_int_equal(sipcx_tp_addr_parse(&la, "udp:127.0.0.1:0"), 0);
	assert_int_equal(sipcx_transport_listen(a.tp, &la, &la), 0);
	assert_int_equal(sipcx_tp_addr_parse(&lt, "tcp:127.0.0.1:0"), 0);
	assert_int_equal(sipcx_transport_listen(a.tp, &lt, &lt), 0);
	assert_int_equal(sipcx_transport_listen(b.tp, &la, NULL) == 0 ? 1 : 0, 0);
	struct sipcx_tp_addr lb;
	assert_int_equal(sipcx_tp_addr_parse(&lb, "udp:127.0.0.1:0"), 0);
	assert_int_equal(sipcx_transport_listen(b.tp, &lb, &lb), 0);
	assert_int_equal(sipcx_transport_send(b.tp, &la, 0, OPT1, strlen(OPT1)), 0);
	assert_int_equal(sipcx_transport_send(b.tp, &lt, 0, OPT1, strlen(OPT1)), 0);
	sipcx_transport_free(b.tp);
	sipcx_transport_free(a.tp);
	close_loop(&loop);
	assert_int_equal(b.nerr, 0);
}

/* ---- wire trace ---- */

struct traced {
	int n[2];
	char text[4096];
};

static void trace_cb(const struct sipcx_trace_event *ev, void *arg)
{
	struct traced *t = arg;
	t->n[ev->dir]++;
	if (ev->dir == SIPCX_TRACE_RECV) {
		struct sipcx_buf b;
		sipcx_buf_init(&b);
		assert_int_equal(sipcx_trace_format(&b, ev), 0);
		snprintf(t->text, sizeof(t->text), "%s", b.p);
		sipcx_buf_free(&b);
	}
}

static void test_trace(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer a, b;
	struct sipcx_tp_addr la, lb;
	struct traced t = { { 0, 0 }, "" };

	sipcx_trace_set(trace_cb, &t);
	uv_loop_init(&loop);
	peer_open(&a, &loop, 0);
	peer_open(&b, &loop, 0);
	assert_int_equal(sipcx_tp_addr_parse(&la, "udp:127.0.0.1:0"), 0);
	assert_int_equal(sipcx_transport_listen(a.tp, &la, &la), 0);
	assert_int_equal(sipcx_tp_addr_parse(&lb, "udp:127.0.0.1:0"), 0);
	assert_int_equal(sipcx_transport_listen(b.tp, &lb, &lb), 0);
	assert_int_equal(sipcx_transport_send(b.tp, &la, 0, MSG2, strlen(MSG2)), 0);
	struct want w = { .p = &a, .nrecv = 1 };
	assert_true(run_until(&loop, got, &w));
	sipcx_trace_set(NULL, NULL);
	assert_int_equal(t.n[SIPCX_TRACE_SEND], 1);
	assert_int_equal(t.n[SIPCX_TRACE_RECV], 1);

	/* "--- HH:MM:SS.uuuuuu RECV N bytes UDP src -> dst", the message with LF ends, "--- end". */
	char src[SIPCX_ADDRSTRLEN], dst[SIPCX_ADDRSTRLEN], head[256];
	assert_true(sipcx_sa_print(&lb.sa.sa, src, sizeof(src)) > 0);
	assert_true(sipcx_sa_print(&la.sa.sa, dst, sizeof(dst)) > 0);
	snprintf(head, sizeof(head), " RECV %zu bytes UDP %s -> %s\n", strlen(MSG2), src, dst);
	assert_memory_equal(t.text, "--- ", 4);
	assert_int_equal(t.text[6], ':');
	assert_non_null(strstr(t.text, head));
	assert_non_null(strstr(t.text, "\nMESSAGE sip:a@127.0.0.1 SIP/2.0\nVia: "));
	assert_non_null(strstr(t.text, "Content-Length: 5\n\nhello\n--- end\n"));
	assert_null(strchr(t.text, '\r'));

	/* A binary body is summarised, not dumped. */
	struct sipcx_buf fb;
	sipcx_buf_init(&fb);
	struct sipcx_trace_event ev = { .dir = SIPCX_TRACE_SEND,
		                        .transport = "TCP",
		                        .src = &lb.sa.sa,
		                        .dst = &la.sa.sa,
		                        .data = "MESSAGE x SIP/2.0\r\n\r\n\x01\x02\x00",
		                        .len = 24 };
	assert_int_equal(sipcx_trace_format(&fb, &ev), 0);
	assert_non_null(strstr(fb.p, "[3 bytes of binary body]\n--- end\n"));
	assert_non_null(strstr(fb.p, " SEND 24 bytes TCP "));
	sipcx_buf_free(&fb);
	assert_int_equal(sipcx_trace_format(NULL, &ev), -EINVAL);

	sipcx_transport_free(a.tp);
	sipcx_transport_free(b.tp);
	close_loop(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_via_received),
		cmocka_unit_test(test_stream_splits),
		cmocka_unit_test(test_stream_two_in_one_read),
		cmocka_unit_test(test_stream_bad),
		cmocka_unit_test(test_udp_loopback),
		cmocka_unit_test(test_udp_ipv6),
		cmocka_unit_test(test_tcp_reuse_and_reply),
		cmocka_unit_test(test_tcp_refused),
		cmocka_unit_test(test_tcp_keepalive_and_split),
		cmocka_unit_test(test_tcp_oversized_513),
		cmocka_unit_test(test_tcp_idle_close),
		cmocka_unit_test(test_tcp_limits),
		cmocka_unit_test(test_free_with_traffic),
		cmocka_unit_test(test_trace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
