/* Unit tests of the WebSocket layer (RFC 6455, RFC 7118): the handshake parser, a client and a server session in memory, then ws: on loopback sockets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "testutil.h"
#include "transport/transport.h"
#include <sipcx/embed.h>

static const char REQ[] = "GET /sip HTTP/1.1\r\n"
                          "Host: 127.0.0.1:8080\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: keep-alive, Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Origin: http://example.com\r\n"
                          "Sec-WebSocket-Protocol: chat, sip\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "\r\n";

static void test_accept_key(void **state)
{
	(void)state;
	char out[29];
	/* RFC 6455 1.3's example. */
	sipcx__ws_accept_key(sipcx_str_c("dGhlIHNhbXBsZSBub25jZQ=="), out);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_http_parse(void **state)
{
	(void)state;
	struct sipcx__ws_http h;
	size_t n = strlen(REQ);
	assert_int_equal(sipcx__ws_http_parse(&h, REQ, n), (int)n);
	assert_true(h.request);
	assert_true(sipcx_str_ieq_c(h.method, "GET"));
	assert_true(sipcx_str_ieq_c(h.path, "/sip"));
	assert_true(sipcx_str_ieq_c(h.key, "dGhlIHNhbXBsZSBub25jZQ=="));
	assert_true(sipcx_str_ieq_c(h.version, "13"));
	assert_true(h.upgrade_ws && h.conn_upgrade && h.proto_sip);
	/* Every prefix is partial, never an error. */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sipcx__ws_http_parse(&h, REQ, i), -EAGAIN);
	/* What follows the blank line is not the handshake's. */
	char more[sizeof(REQ) + 8];
	snprintf(more, sizeof(more), "%s\x81\x05", REQ);
	assert_int_equal(sipcx__ws_http_parse(&h, more, strlen(more)), (int)n);

	static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n"
	                           "Connection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n"
	                           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
	assert_int_equal(sipcx__ws_http_parse(&h, resp, strlen(resp)), (int)strlen(resp));
	assert_false(h.request);
	assert_int_equal(h.status, 101);
	assert_true(sipcx_str_ieq_c(h.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
	assert_true(h.proto_sip);
	static const char r404[] = "HTTP/1.1 404\r\n\r\n";
	assert_int_equal(sipcx__ws_http_parse(&h, r404, strlen(r404)), (int)strlen(r404));
	assert_int_equal(h.status, 404);

	static const char *const bad[] = {
		"GET / HTTP/1.0\r\n\r\n",
		"GET /  HTTP/1.1\r\n\r\n",
		"get / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\n folded: x\r\n\r\n",
		"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
		"GET / HTTP/1.1\r\nName : v\r\n\r\n",
		"GET / HTTP/1.1\r\nA: b\nc\r\n\r\n",
		"HTTP/1.1 10x OK\r\n\r\n",
		"HTTP/1.1 101OK\r\n\r\n",
		"\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(sipcx__ws_http_parse(&h, bad[i], strlen(bad[i])), -EBADMSG);

	/* No end within the bound: too large, whatever comes later. */
	char *big = malloc(SIPCX__WS_HDR_MAX + 64);
	assert_non_null(big);
	memset(big, 'a', SIPCX__WS_HDR_MAX + 64);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(sipcx__ws_http_parse(&h, big, SIPCX__WS_HDR_MAX - 1), -EAGAIN);
	assert_int_equal(sipcx__ws_http_parse(&h, big, SIPCX__WS_HDR_MAX + 64), -EMSGSIZE);
	free(big);
}

/* ---- a client and a server session against each other, in memory ---- */

struct side {
	struct sipcx__ws w;
	int nmsg;
	char last[2048];
	size_t last_len;
};

static int got_msg(const char *data, size_t len, void *arg)
{
	struct side *s = arg;
	s->nmsg++;
	assert_true(len < sizeof(s->last));
	memcpy(s->last, data, len);
	s->last_len = len;
	return 0;
}

/* What from has for to, step bytes per feed (0: all at once). Returns to's last feed result. */
static int move(struct side *from, struct side *to, size_t step)
{
	struct sipcx_buf b = from->w.out;
	sipcx_buf_init(&from->w.out);
	int r = 0;
	size_t n = step ? step : b.len;
	for (size_t off = 0; off < b.len && r == 0; off += n) {
		size_t k = b.len - off < n ? b.len - off : n;
		r = sipcx__ws_feed(&to->w, b.p + off, k, got_msg, to);
	}
	sipcx_buf_free(&b);
	return r;
}

static void pair_up(struct side *c, struct side *s, size_t step)
{
	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	assert_int_equal(sipcx__ws_start(&c->w, false, 4096), 0);
	assert_int_equal(sipcx__ws_start(&s->w, true, 4096), 0);
	assert_int_equal(sipcx__ws_connect(&c->w, "127.0.0.1:5066", "/"), 0);
	assert_false(c->w.up);
	assert_int_equal(move(c, s, step), 0);
	assert_true(s->w.up);
	assert_non_null(strstr(s->w.out.p, "HTTP/1.1 101 "));
	assert_non_null(strstr(s->w.out.p, "Sec-WebSocket-Protocol: sip\r\n"));
	assert_int_equal(move(s, c, step), 0);
	assert_true(c->w.up);
}

static void pair_down(struct side *c, struct side *s)
{
	sipcx__ws_end(&c->w);
	sipcx__ws_end(&s->w);
}

static const char OPTS[] =
    "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS abc.invalid;branch=z9hG4bK1\r\n"
    "CSeq: 1 OPTIONS\r\nCall-ID: a\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\n\r\n";

static void test_session(void **state)
{
	(void)state;
	static const size_t steps[] = { 0, 1, 7 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
		struct side c, s;
		pair_up(&c, &s, steps[i]);
		/* One message per frame both ways; the client's are masked, wslay checks that. */
		assert_int_equal(sipcx__ws_write(&c.w, OPTS, strlen(OPTS)), 0);
		assert_int_equal(sipcx__ws_write(&c.w, OPTS, 10), 0);
		assert_int_equal(move(&c, &s, steps[i]), 0);
		assert_int_equal(s.nmsg, 2);
		assert_int_equal(s.last_len, 10);
		assert_int_equal(sipcx__ws_write(&s.w, OPTS, strlen(OPTS)), 0);
		assert_int_equal(move(&s, &c, steps[i]), 0);
		assert_int_equal(c.nmsg, 1);
		assert_memory_equal(c.last, OPTS, strlen(OPTS));
		pair_down(&c, &s);
	}
}

/* A masked client frame (RFC 6455 5.2) of opcode op into b. */
static void client_frame(struct sipcx_buf *b, uint8_t op, const char *payload, size_t n)
{
	uint8_t h[8] = { (uint8_t)(0x80 | op), (uint8_t)(0x80 | n), 1, 2, 3, 4 };
	assert_true(n < 126);
	sipcx_buf_append(b, h, 6);
	for (size_t i = 0; i < n; i++) {
		char x = (char)(payload[i] ^ h[2 + i % 4]);
		sipcx_buf_append(b, &x, 1);
	}
}

static void test_control(void **state)
{
	(void)state;
	struct side c, s;
	pair_up(&c, &s, 0);
	/* A ping gets its pong, with the same payload. */
	struct sipcx_buf f;
	sipcx_buf_init(&f);
	client_frame(&f, 0x9, "hi", 2);
	s.w.out.len = 0;
	assert_int_equal(sipcx__ws_feed(&s.w, f.p, f.len, got_msg, &s), 0);
	assert_int_equal(s.w.out.len, 4);
	assert_memory_equal(s.w.out.p, "\x8a\x02hi", 4);
	/* A close is answered with a close, and the session ends. */
	f.len = 0;
	client_frame(&f, 0x8, "\x03\xe8", 2);
	s.w.out.len = 0;
	assert_int_equal(sipcx__ws_feed(&s.w, f.p, f.len, got_msg, &s), 1);
	assert_true(s.w.out.len >= 2);
	assert_int_equal((uint8_t)s.w.out.p[0], 0x88);
	assert_int_equal(sipcx__ws_write(&s.w, OPTS, 4), -EPIPE);
	assert_int_equal(s.nmsg, 0);
	pair_down(&c, &s);

	/* A message over the limit: closed with 1009. */
	pair_up(&c, &s, 0);
	char *big = calloc(1, 5000);
	assert_non_null(big);
	assert_int_equal(sipcx__ws_write(&c.w, big, 5000), 0);
	s.w.out.len = 0;
	assert_int_equal(move(&c, &s, 0), 1);
	assert_int_equal(s.nmsg, 0);
	assert_memory_equal(s.w.out.p, "\x88\x02\x03\xf1", 4);
	free(big);
	pair_down(&c, &s);

	/* An unmasked frame from a client: a protocol error (1002). */
	pair_up(&c, &s, 0);
	s.w.out.len = 0;
	assert_int_equal(sipcx__ws_feed(&s.w, "\x81\x02hi", 4, got_msg, &s), 1);
	assert_memory_equal(s.w.out.p, "\x88\x02\x03\xea", 4);
	pair_down(&c, &s);
	sipcx_buf_free(&f);
}

/* A request the server refuses: the status it answers with, and the session ends. */
static void refused(const char *req, const char *status)
{
	struct sipcx__ws w;
	assert_int_equal(sipcx__ws_start(&w, true, 4096), 0);
	struct side dummy = { 0 };
	assert_int_equal(sipcx__ws_feed(&w, req, strlen(req), got_msg, &dummy), 1);
	assert_false(w.up);
	assert_non_null(w.out.p);
	assert_int_equal(strncmp(w.out.p, status, strlen(status)), 0);
	assert_int_equal(sipcx__ws_write(&w, "x", 1), -EPIPE);
	sipcx__ws_end(&w);
}

static void test_refused(void **state)
{
	(void)state;
	char req[1024];
	/* RFC 7118: no "sip" subprotocol, no business here. */
	snprintf(req, sizeof(req), "%s", REQ);
	memcpy(strstr(req, "chat, sip"), "chat, xyz", 9);
	refused(req, "HTTP/1.1 400 ");
	refused("POST / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405 ");
	snprintf(req, sizeof(req), "%s", REQ);
	memcpy(strstr(req, "Version: 13"), "Version: 12", 11);
	refused(req, "HTTP/1.1 426 ");
	snprintf(req, sizeof(req), "%s", REQ);
	memcpy(strstr(req, "dGhlIHNh"), "dGhl!HNh", 8);
	refused(req, "HTTP/1.1 400 ");
	refused("INVITE sip:a@b SIP/2.0\r\n\r\n", "HTTP/1.1 400 ");

	/* A client whose server answers anything but a good 101: SIPCX_EWS. */
	static const char *const answers[] = {
		"HTTP/1.1 404 Not Found\r\n\r\n",
		("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"),
		"garbage\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(answers) / sizeof(*answers); i++) {
		struct sipcx__ws w;
		struct side dummy = { 0 };
		assert_int_equal(sipcx__ws_start(&w, false, 4096), 0);
		assert_int_equal(sipcx__ws_connect(&w, "h", "/"), 0);
		assert_int_equal(
		    sipcx__ws_feed(&w, answers[i], strlen(answers[i]), got_msg, &dummy), SIPCX_EWS);
		assert_false(w.up);
		sipcx__ws_end(&w);
	}
}

/* ---- on sockets: ws: on the transport's TCP connections ---- */

static void test_sockets(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct tu_end srv, cli;
	tu_end_open(&srv, &loop, (struct sipcx_transport_opts){ 0 });
	/* The client's idle close is 1 ms: neither its upgrade (which has its own deadline) nor
	 * its WebSocket once up is cut by it. */
	tu_end_open(&cli, &loop, (struct sipcx_transport_opts){ .tcp_idle_ms = 1 });
	struct sipcx_tp_addr la, at;
	assert_int_equal(sipcx_tp_addr_parse(&la, "ws:127.0.0.1:0"), 0);
	assert_int_equal(sipcx_transport_listen(srv.tp, &la, &at), 0);
	assert_int_equal(at.proto, SIPCX_TP_WS);

	/* Both wait for the upgrade, then go as two frames on one connection. */
	assert_int_equal(sipcx_transport_send(cli.tp, &at, 0, OPTS, strlen(OPTS)), 0);
	assert_int_equal(sipcx_transport_send(cli.tp, &at, 0, OPTS, strlen(OPTS)), 0);
	assert_true(tu_turn_until(&loop, &srv.nrecv, 2));
	assert_int_equal(srv.proto, SIPCX_TP_WS);
	assert_string_equal(srv.last, OPTS);
	assert_int_equal(sipcx_transport_conn_count(cli.tp), 1);
	assert_int_equal(sipcx_transport_conn_count(srv.tp), 1);
	/* A bad message loses no framing: answered or dropped, the connection stays. */
	assert_int_equal(sipcx_transport_send(cli.tp, &at, 0, "BAD\r\n\r\n", 7), 0);
	assert_true(tu_turn_until(&loop, &srv.nbad, 1));
	const char *ans = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(sipcx_transport_send(srv.tp, &at, srv.conn, ans, strlen(ans)), 0);
	assert_true(tu_turn_until(&loop, &cli.nrecv, 1));
	assert_string_equal(cli.last, ans);
	assert_int_equal(cli.proto, SIPCX_TP_WS);
	assert_int_equal(sipcx_transport_conn_count(srv.tp), 1);
	assert_int_equal(cli.nerr, 0);
	int never = 0;
	assert_false(tu_turn_until_ms(&loop, &never, 1, 300));
	assert_int_equal(sipcx_transport_conn_count(cli.tp), 1);
	assert_int_equal(sipcx_transport_conn_count(srv.tp), 1);
	assert_int_equal(sipcx_transport_send(srv.tp, &at, srv.conn, ans, strlen(ans)), 0);
	assert_true(tu_turn_until(&loop, &cli.nrecv, 2));

	sipcx_transport_free(srv.tp);
	sipcx_transport_free(cli.tp);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* A server that takes the connection and never answers the upgrade: the handshake deadline. */
static void test_handshake_deadline(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	union sipcx_sa sa;
	assert_int_equal(sipcx_sa_set(&sa, sipcx_str_c("127.0.0.1"), 0), 0);
	assert_int_equal(bind(fd, &sa.sa, sizeof(sa.in)), 0);
	assert_int_equal(listen(fd, 4), 0);
	socklen_t len = sizeof(sa);
	assert_int_equal(getsockname(fd, &sa.sa, &len), 0);

	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct tu_end cli;
	tu_end_open(&cli, &loop, (struct sipcx_transport_opts){ .tls_handshake_ms = 200 });
	struct sipcx_tp_addr to = { .proto = SIPCX_TP_WS, .sa = sa };
	uint64_t t0 = uv_now(&loop);
	assert_int_equal(sipcx_transport_send(cli.tp, &to, 0, OPTS, strlen(OPTS)), 0);
	assert_true(tu_turn_until(&loop, &cli.nerr, 1));
	assert_int_equal(cli.last_err, -ETIMEDOUT);
	assert_int_equal(cli.err_proto, SIPCX_TP_WS);
	assert_true(uv_now(&loop) - t0 >= 150);
	assert_int_equal(sipcx_transport_conn_count(cli.tp), 0);
	sipcx_transport_free(cli.tp);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	close(fd);
}

static void test_addr(void **state)
{
	(void)state;
	struct sipcx_tp_addr a;
	char buf[64];
	assert_int_equal(sipcx_tp_addr_parse(&a, "ws:127.0.0.1"), 0);
	assert_int_equal(a.proto, SIPCX_TP_WS);
	assert_int_equal(sipcx_sa_port(&a.sa.sa), 80);
	assert_int_equal(sipcx_tp_addr_parse(&a, "wss:[::1]"), 0);
	assert_int_equal(a.proto, SIPCX_TP_WSS);
	assert_int_equal(sipcx_sa_port(&a.sa.sa), 443);
	assert_true(sipcx_tp_addr_print(&a, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "wss:[::1]:443");
	assert_string_equal(sipcx_tp_name(SIPCX_TP_WS), "WS");
	assert_int_equal(sipcx_tp_lookup(sipcx_str_c("WSS")), SIPCX_TP_WSS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_key),
		cmocka_unit_test(test_http_parse),
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_sockets),
		cmocka_unit_test(test_handshake_deadline),
		cmocka_unit_test(test_addr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
