/* Unit tests of the ua engine in-process: two UAs on loopback, OPTIONS, 405/501/483/482/400, handlers, timeouts. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <uv.h>

#include "testutil.h"
#include <sipcx/phone.h>
#include <sipcx/ua.h>

/* ---- waiting for callbacks on the loop thread, bounded ---- */

struct result {
	uv_mutex_t lock;
	uv_cond_t cond;
	int calls;
	int finals;
	int err;
	uint16_t status[8];
	char last[4096];
	struct sipcx_ua_srv *srv;
	int requests;
	char req_method[32];
};

static void result_init(struct result *r)
{
	memset(r, 0, sizeof(*r));
	uv_mutex_init(&r->lock);
	uv_cond_init(&r->cond);
}

static void result_fini(struct result *r)
{
	uv_mutex_destroy(&r->lock);
	uv_cond_destroy(&r->cond);
}

static void on_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	struct result *r = arg;
	uv_mutex_lock(&r->lock);
	if (r->calls < 8)
		r->status[r->calls] = resp ? resp->status : 0;
	r->calls++;
	if (err || resp->status >= 200)
		r->finals++;
	r->err = err;
	if (resp)
		snprintf(r->last, sizeof(r->last), "%.*s", SIPCX_STR_FMT(resp->raw));
	uv_cond_broadcast(&r->cond);
	uv_mutex_unlock(&r->lock);
}

/* Wait until *field >= want, at most 10 s. */
static bool wait_for(struct result *r, int *field, int want)
{
	uint64_t deadline = uv_hrtime() + 10000000000ull;
	uv_mutex_lock(&r->lock);
	while (*field < want) {
		uint64_t now = uv_hrtime();
		if (now >= deadline)
			break;
		uv_cond_timedwait(&r->cond, &r->lock, deadline - now);
	}
	bool ok = *field >= want;
	uv_mutex_unlock(&r->lock);
	return ok;
}

static struct sipcx_ua *ua_on(const char *listen, uint32_t t1_ms)
{
	struct sipcx_ua *ua = NULL;
	struct sipcx_ua_opts o = { .listen = listen, .t1_ms = t1_ms };
	assert_int_equal(sipcx_ua_new(&ua, &o), 0);
	assert_non_null(ua);
	return ua;
}

/* "sip:127.0.0.1:PORT" of the i-th bound address. */
static void uri_of(struct sipcx_ua *ua, size_t i, char *out, size_t n, const char *params)
{
	struct sipcx_tp_addr a;
	char hp[SIPCX_ADDRSTRLEN];
	assert_int_equal(sipcx_ua_bound(ua, i, &a), 0);
	assert_true(sipcx_sa_print(&a.sa.sa, hp, sizeof(hp)) > 0);
	snprintf(out, n, "sip:%s%s", hp, params ? params : "");
}

static void send_and_wait(struct sipcx_ua *a, const struct sipcx_ua_req_opts *o, struct result *r)
{
	assert_int_equal(sipcx_ua_request(a, o, on_resp, r), 0);
	assert_true(wait_for(r, &r->finals, 1));
}

/* A header line value from a printed message (first match), or NULL. */
static const char *hdr_line(const char *msg, const char *name, char *out, size_t n)
{
	char key[64];
	snprintf(key, sizeof(key), "\r\n%s: ", name);
	const char *p = strstr(msg, key);
	if (!p)
		return NULL;
	p += strlen(key);
	size_t len = strcspn(p, "\r\n");
	snprintf(out, n, "%.*s", (int)len, p);
	return out;
}

static void test_options_200(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0", 0);
	char uri[128], v[256];
	struct result r;
	result_init(&r);
	uri_of(b, 0, uri, sizeof(uri), NULL);
	struct sipcx_ua_req_opts o = { .method = "OPTIONS", .uri = uri };
	send_and_wait(a, &o, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status[0], 200);
	assert_non_null(hdr_line(r.last, "Allow", v, sizeof(v)));
	assert_non_null(strstr(v, "OPTIONS"));
	assert_non_null(hdr_line(r.last, "Accept", v, sizeof(v)));
	assert_string_equal(v, "application/sdp");
	assert_non_null(strstr(r.last, "\r\nSupported:"));
	assert_non_null(hdr_line(r.last, "Server", v, sizeof(v)));
	assert_non_null(strstr(v, "sipcx/"));
	/* RFC 3581: our Via asked rport, B filled it with our port. */
	struct sipcx_tp_addr la;
	assert_int_equal(sipcx_ua_bound(a, 0, &la), 0);
	char want[64];
	snprintf(want, sizeof(want), ";rport=%u", sipcx_sa_port(&la.sa.sa));
	assert_non_null(hdr_line(r.last, "Via", v, sizeof(v)));
	assert_non_null(strstr(v, want));
	assert_non_null(strstr(v, ";branch=z9hG4bK"));
	/* The To of a response to an out-of-dialog request carries B's tag. */
	assert_non_null(hdr_line(r.last, "To", v, sizeof(v)));
	assert_non_null(strstr(v, ";tag="));

	struct sipcx_ua_stats st;
	sipcx_ua_stats(b, &st);
	assert_int_equal(st.rx_requests, 1);
	assert_int_equal(st.stateless_responses, 1);
	sipcx_ua_free(a);
	sipcx_ua_free(b);
	result_fini(&r);
}

static void test_501_405(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0", 0);
	char uri[128], v[256];
	struct result r;
	uri_of(b, 0, uri, sizeof(uri), NULL);

	result_init(&r);
	struct sipcx_ua_req_opts o = { .method = "FOOBAR", .uri = uri };
	send_and_wait(a, &o, &r);
	assert_int_equal(r.status[0], 501);
	assert_non_null(hdr_line(r.last, "Allow", v, sizeof(v)));
	assert_non_null(strstr(v, "OPTIONS"));
	result_fini(&r);

	/* Known but not handled: 405 with Allow. */
	result_init(&r);
	o.method = "MESSAGE";
	send_and_wait(a, &o, &r);
	assert_int_equal(r.status[0], 405);
	assert_non_null(hdr_line(r.last, "Allow", v, sizeof(v)));
	assert_null(strstr(v, "MESSAGE"));
	result_fini(&r);
	sipcx_ua_free(a);
	sipcx_ua_free(b);
}

/* ---- handlers ---- */

static void on_message_202(struct sipcx_ua_srv *srv, const struct sipcx_msg *req, void *arg)
{
	struct result *r = arg;
	static const struct sipcx_hdr x[] = { { SIPCX_HDR_OTHER, SIPCX_STR("X-Seen"),
		                                SIPCX_STR("yes") } };
	uv_mutex_lock(&r->lock);
	r->requests++;
	snprintf(r->req_method, sizeof(r->req_method), "%.*s", SIPCX_STR_FMT(req->method_str));
	uv_mutex_unlock(&r->lock);
	assert_int_equal(sipcx_ua_respond(srv, 202, NULL, x, 1, "text/plain", SIPCX_STR("ok")), 0);
}

static void on_keep(struct sipcx_ua_srv *srv, const struct sipcx_msg *req, void *arg)
{
	struct result *r = arg;
	(void)req;
	uv_mutex_lock(&r->lock);
	r->srv = srv;
	r->requests++;
	uv_cond_broadcast(&r->cond);
	uv_mutex_unlock(&r->lock);
}

/* The limits of an exposed UA: 420 for an unknown Require, 503 + Retry-After past max_txns. */
static void test_require_and_txn_cap(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *b = NULL;
	struct sipcx_ua_opts bo = { .listen = "udp:127.0.0.1:0", .max_txns = 1 };
	assert_int_equal(sipcx_ua_new(&b, &bo), 0);
	struct result held, r1, r2, r3;
	result_init(&held);
	result_init(&r1);
	result_init(&r2);
	result_init(&r3);
	char uri[128], v[256];
	uri_of(b, 0, uri, sizeof(uri), NULL);
	/* RFC 3261 8.2.2.3: OPTIONS answered by the engine, Require: foo -> 420 Unsupported: foo. */
	struct sipcx_hdr req = { SIPCX_HDR_REQUIRE, SIPCX_STR_NULL, SIPCX_STR("foo") };
	struct sipcx_ua_req_opts o = { .method = "OPTIONS", .uri = uri, .hdrs = &req, .nhdrs = 1 };
	send_and_wait(a, &o, &r1);
	assert_int_equal(r1.status[0], 420);
	assert_non_null(hdr_line(r1.last, "Unsupported", v, sizeof(v)));
	assert_string_equal(v, "foo");
	/* One MESSAGE held unanswered fills the cap: the next gets 503 with Retry-After. */
	assert_int_equal(sipcx_ua_handle(b, "MESSAGE", 0, on_keep, &held), 0);
	o = (struct sipcx_ua_req_opts){ .method = "MESSAGE", .uri = uri };
	assert_int_equal(sipcx_ua_request(a, &o, on_resp, &r2), 0);
	assert_true(wait_for(&held, &held.requests, 1));
	send_and_wait(a, &o, &r3);
	assert_int_equal(r3.status[0], 503);
	assert_non_null(hdr_line(r3.last, "Retry-After", v, sizeof(v)));
	struct sipcx_ua_stats st;
	sipcx_ua_stats(b, &st);
	assert_int_equal(st.txn_refused, 1);
	assert_int_equal(sipcx_ua_respond(held.srv, 200, NULL, NULL, 0, NULL, SIPCX_STR_NULL), 0);
	assert_true(wait_for(&r2, &r2.finals, 1));
	assert_int_equal(r2.status[0], 200);
	sipcx_ua_free(a);
	sipcx_ua_free(b);
	result_fini(&held);
	result_fini(&r1);
	result_fini(&r2);
	result_fini(&r3);
}

static void test_handlers(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0", 0);
	char uri[128], v[256];
	struct result r, h;
	uri_of(b, 0, uri, sizeof(uri), NULL);

	result_init(&h);
	assert_int_equal(sipcx_ua_handle(b, "MESSAGE", 0, on_message_202, &h), 0);
	assert_int_equal(sipcx_ua_handle(b, "ACK", 0, on_message_202, &h), -EINVAL);
	assert_int_equal(sipcx_ua_handle(b, "BAD METHOD", 0, on_message_202, &h), -EINVAL);
	result_init(&r);
	struct sipcx_ua_req_opts o = { .method = "MESSAGE",
		                       .uri = uri,
		                       .content_type = "text/plain",
		                       .body = SIPCX_STR("hello") };
	send_and_wait(a, &o, &r);
	assert_int_equal(r.status[0], 202);
	assert_int_equal(h.requests, 1);
	assert_string_equal(h.req_method, "MESSAGE");
	assert_non_null(hdr_line(r.last, "X-Seen", v, sizeof(v)));
	assert_non_null(hdr_line(r.last, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, "text/plain");
	assert_non_null(strstr(r.last, "\r\n\r\nok"));
	result_fini(&r);

	/* Allow now lists MESSAGE. */
	result_init(&r);
	o = (struct sipcx_ua_req_opts){ .method = "OPTIONS", .uri = uri };
	send_and_wait(a, &o, &r);
	assert_non_null(hdr_line(r.last, "Allow", v, sizeof(v)));
	assert_non_null(strstr(v, "MESSAGE"));
	result_fini(&r);

	/* A handler that answers later, from this (user) thread. */
	struct result k;
	result_init(&k);
	assert_int_equal(sipcx_ua_handle(b, "MESSAGE", 0, on_keep, &k), 0);
	result_init(&r);
	o = (struct sipcx_ua_req_opts){ .method = "MESSAGE", .uri = uri };
	assert_int_equal(sipcx_ua_request(a, &o, on_resp, &r), 0);
	assert_true(wait_for(&k, &k.requests, 1));
	struct sipcx_tp_addr src;
	assert_int_equal(sipcx_ua_respond(k.srv, 99, NULL, NULL, 0, NULL, SIPCX_STR_NULL), -EINVAL);
	assert_int_equal(sipcx_ua_respond(k.srv, 180, NULL, NULL, 0, NULL, SIPCX_STR_NULL), 0);
	assert_true(wait_for(&r, &r.calls, 1));
	assert_int_equal(sipcx_ua_respond(k.srv, 200, "Fine", NULL, 0, NULL, SIPCX_STR_NULL), 0);
	assert_true(wait_for(&r, &r.finals, 1));
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.status[0], 180);
	assert_int_equal(r.status[1], 200);
	assert_non_null(strstr(r.last, "SIP/2.0 200 Fine\r\n"));
	(void)src;
	result_fini(&r);

	/* Removing the handler: 405 again. */
	assert_int_equal(sipcx_ua_handle(b, "MESSAGE", 0, NULL, NULL), 0);
	result_init(&r);
	send_and_wait(a, &o, &r);
	assert_int_equal(r.status[0], 405);
	result_fini(&r);
	sipcx_ua_free(a);
	sipcx_ua_free(b);
	result_fini(&h);
	result_fini(&k);
}

static void test_invite_100_then_486(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0", 0);
	char uri[128], v[256];
	struct result r, k;
	uri_of(b, 0, uri, sizeof(uri), NULL);
	result_init(&k);
	result_init(&r);
	assert_int_equal(sipcx_ua_handle(b, "INVITE", 0, on_keep, &k), 0);
	struct sipcx_ua_req_opts o = { .method = "INVITE", .uri = uri };
	assert_int_equal(sipcx_ua_request(a, &o, on_resp, &r), 0);
	/* The engine says 100 Trying before the handler has answered anything. */
	assert_true(wait_for(&r, &r.calls, 1));
	assert_int_equal(r.status[0], 100);
	assert_true(wait_for(&k, &k.requests, 1));
	assert_int_equal(sipcx_ua_respond(k.srv, 486, NULL, NULL, 0, NULL, SIPCX_STR_NULL), 0);
	assert_true(wait_for(&r, &r.finals, 1));
	assert_int_equal(r.status[1], 486);
	assert_non_null(hdr_line(r.last, "To", v, sizeof(v)));
	assert_non_null(strstr(v, ";tag="));
	sipcx_ua_free(a);
	sipcx_ua_free(b);
	result_fini(&r);
	result_fini(&k);
}

/* ---- raw peers: crafted requests, a silent server, a server sending garbage ---- */

static int raw_udp(int family, struct sipcx_tp_addr *bound)
{
	int fd = socket(family, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sipcx_tp_addr a;
	assert_int_equal(sipcx_tp_addr_parse(&a, family == AF_INET6 ? "[::1]:0" : "127.0.0.1:0"),
	                 0);
	assert_int_equal(bind(fd, &a.sa.sa, (socklen_t)sipcx_sa_len(&a.sa.sa)), 0);
	socklen_t len = sizeof(a.sa);
	assert_int_equal(getsockname(fd, &a.sa.sa, &len), 0);
	/* Every wait is bounded. */
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bound)
		*bound = a;
	return fd;
}

static void raw_send(int fd, struct sipcx_ua *to, const char *text)
{
	struct sipcx_tp_addr b;
	assert_int_equal(sipcx_ua_bound(to, 0, &b), 0);
	assert_int_equal(
	    sendto(fd, text, strlen(text), 0, &b.sa.sa, (socklen_t)sipcx_sa_len(&b.sa.sa)),
	    (ssize_t)strlen(text));
}

static ssize_t raw_recv(int fd, char *buf, size_t n, union sipcx_sa *from)
{
	socklen_t len = sizeof(*from);
	ssize_t r = recvfrom(fd, buf, n - 1, 0, &from->sa, &len);
	buf[r > 0 ? r : 0] = '\0';
	return r;
}

#define REQ(method, branch, callid, extra)                                   \
	method " sip:b@127.0.0.1 SIP/2.0\r\n"                                \
	       "Via: SIP/2.0/UDP 127.0.0.1:9;rport;branch=" branch "\r\n"    \
	       "From: <sip:x@127.0.0.1>;tag=ft\r\nTo: <sip:b@127.0.0.1>\r\n" \
	       "Call-ID: " callid "\r\nCSeq: 7 " method "\r\n" extra "Content-Length: 0\r\n\r\n"

static void test_raw_requests(void **state)
{
	(void)state;
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_tp_addr me;
	int fd = raw_udp(AF_INET, &me);
	char buf[4096];
	union sipcx_sa from;

	/* Max-Forwards 0: 483, sent back to the source port (rport), not to port 9. */
	raw_send(fd, b, REQ("OPTIONS", "z9hG4bKmf0", "mf0", "Max-Forwards: 0\r\n"));
	assert_true(raw_recv(fd, buf, sizeof(buf), &from) > 0);
	assert_memory_equal(buf, "SIP/2.0 483 ", 12);
	char want[64];
	snprintf(want, sizeof(want), ";rport=%u\r\n", sipcx_sa_port(&me.sa.sa));
	assert_non_null(strstr(buf, want));

	/* Malformed: CSeq method differs from the request method: 400. */
	raw_send(
	    fd, b,
	    "OPTIONS sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bKbad\r\n"
	    "From: <sip:x@127.0.0.1>;tag=ft\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: bad\r\n"
	    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	assert_true(raw_recv(fd, buf, sizeof(buf), &from) > 0);
	assert_memory_equal(buf, "SIP/2.0 400 ", 12);
	/* Wrong version: 505. */
	raw_send(
	    fd, b,
	    "OPTIONS sip:b@127.0.0.1 SIP/7.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bKv7\r\n"
	    "From: <sip:x@127.0.0.1>;tag=ft\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: v7\r\n"
	    "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	assert_true(raw_recv(fd, buf, sizeof(buf), &from) > 0);
	assert_memory_equal(buf, "SIP/2.0 505 ", 12);

	/* Merged request (8.2.2.2): same From tag, Call-ID, CSeq, another branch: 482. */
	struct result k;
	result_init(&k);
	assert_int_equal(sipcx_ua_handle(b, "MESSAGE", 0, on_keep, &k), 0);
	raw_send(fd, b, REQ("MESSAGE", "z9hG4bKm1", "merge", ""));
	assert_true(wait_for(&k, &k.requests, 1));
	raw_send(fd, b, REQ("MESSAGE", "z9hG4bKm2", "merge", ""));
	assert_true(raw_recv(fd, buf, sizeof(buf), &from) > 0);
	assert_memory_equal(buf, "SIP/2.0 482 ", 12);
	assert_non_null(strstr(buf, "branch=z9hG4bKm2"));
	/* A retransmission of the first is absorbed by its transaction, not a new request. */
	raw_send(fd, b, REQ("MESSAGE", "z9hG4bKm1", "merge", ""));
	assert_int_equal(sipcx_ua_respond(k.srv, 200, NULL, NULL, 0, NULL, SIPCX_STR_NULL), 0);
	assert_true(raw_recv(fd, buf, sizeof(buf), &from) > 0);
	assert_memory_equal(buf, "SIP/2.0 200 ", 12);
	assert_int_equal(k.requests, 1);
	/* ...and after the answer, a retransmission gets the same 200 again. */
	raw_send(fd, b, REQ("MESSAGE", "z9hG4bKm1", "merge", ""));
	char again[4096];
	assert_true(raw_recv(fd, again, sizeof(again), &from) > 0);
	assert_string_equal(again, buf);

	/* CANCEL without its request: 481. */
	raw_send(fd, b, REQ("CANCEL", "z9hG4bKnone", "nocancel", ""));
	assert_true(raw_recv(fd, buf, sizeof(buf), &from) > 0);
	assert_memory_equal(buf, "SIP/2.0 481 ", 12);

	/* Garbage gets no answer and does no harm: OPTIONS still works after it. */
	raw_send(fd, b, "\x01\x02 not sip at all\r\n\r\n");
	raw_send(fd, b, "SIP/2.0 200 OK\r\nVia: x\r\n\r\n");
	raw_send(fd, b, REQ("OPTIONS", "z9hG4bKafter", "after", ""));
	assert_true(raw_recv(fd, buf, sizeof(buf), &from) > 0);
	assert_memory_equal(buf, "SIP/2.0 200 ", 12);
	assert_non_null(strstr(buf, "Call-ID: after\r\n"));
	close(fd);
	sipcx_ua_free(b);
	result_fini(&k);
}

static void test_timeout_and_bad_responses(void **state)
{
	(void)state;
	/* T1 10 ms: Timer F = 64*T1 = 640 ms. */
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0", 10);
	struct sipcx_tp_addr silent;
	int fd = raw_udp(AF_INET, &silent);
	char uri[128], hp[SIPCX_ADDRSTRLEN], buf[4096];
	assert_true(sipcx_sa_print(&silent.sa.sa, hp, sizeof(hp)) > 0);
	snprintf(uri, sizeof(uri), "sip:%s", hp);
	struct result r;
	result_init(&r);
	struct sipcx_ua_req_opts o = { .method = "OPTIONS", .uri = uri };
	uint64_t t0 = uv_hrtime();
	send_and_wait(a, &o, &r);
	assert_int_equal(r.err, -ETIMEDOUT);
	assert_int_equal(r.calls, 1);
	assert_true(uv_hrtime() - t0 >= 600000000ull);
	/* Timer E retransmitted the request meanwhile. */
	union sipcx_sa from;
	int n = 0;
	struct timeval tv = { .tv_usec = 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (raw_recv(fd, buf, sizeof(buf), &from) > 0)
		n++;
	assert_true(n >= 3);
	result_fini(&r);

	/* A peer answering garbage, a response with two Vias, then a good 200: only the 200 counts. */
	tv.tv_sec = 5;
	tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	result_init(&r);
	assert_int_equal(sipcx_ua_request(a, &o, on_resp, &r), 0);
	assert_true(raw_recv(fd, buf, sizeof(buf), &from) > 0);
	char via[256], callid[128], fromh[256], to[256];
	assert_non_null(hdr_line(buf, "Via", via, sizeof(via)));
	assert_non_null(hdr_line(buf, "Call-ID", callid, sizeof(callid)));
	assert_non_null(hdr_line(buf, "From", fromh, sizeof(fromh)));
	assert_non_null(hdr_line(buf, "To", to, sizeof(to)));
	char resp[2048];
	const char *junk[] = { "SIP/2.0 2000 OK\r\n\r\n", "SIP/2.0 200 OK\r\nVia: ;;;\r\n\r\n",
		               "\r\n\r\n", "SIP/2.0 200" };
	for (size_t i = 0; i < 4; i++)
		sendto(fd, junk[i], strlen(junk[i]), 0, &from.sa,
		       (socklen_t)sipcx_sa_len(&from.sa));
	snprintf(resp, sizeof(resp),
	         "SIP/2.0 200 OK\r\nVia: %s\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKx\r\n"
	         "From: %s\r\nTo: %s;tag=t1\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\n"
	         "Content-Length: 0\r\n\r\n",
	         via, fromh, to, callid);
	sendto(fd, resp, strlen(resp), 0, &from.sa, (socklen_t)sipcx_sa_len(&from.sa));
	snprintf(resp, sizeof(resp),
	         "SIP/2.0 204 Fine\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=t1\r\nCall-ID: %s\r\n"
	         "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	         via, fromh, to, callid);
	sendto(fd, resp, strlen(resp), 0, &from.sa, (socklen_t)sipcx_sa_len(&from.sa));
	assert_true(wait_for(&r, &r.finals, 1));
	assert_int_equal(r.err, 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status[0], 204);
	struct sipcx_ua_stats st;
	sipcx_ua_stats(a, &st);
	assert_true(st.rx_dropped >= 4);
	close(fd);
	sipcx_ua_free(a);
	result_fini(&r);
}

static void test_tcp_and_ipv6(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0 tcp:127.0.0.1:0", 0);
	struct sipcx_ua *b = ua_on("tcp:127.0.0.1:0, udp:127.0.0.1:0", 0);
	char uri[128];
	struct result r;
	result_init(&r);
	uri_of(b, 0, uri, sizeof(uri), ";transport=tcp");
	struct sipcx_ua_req_opts o = { .method = "OPTIONS", .uri = uri };
	send_and_wait(a, &o, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.status[0], 200);
	assert_non_null(strstr(r.last, "SIP/2.0/TCP "));
	result_fini(&r);
	/* The transport override and the dst override. */
	result_init(&r);
	uri_of(b, 1, uri, sizeof(uri), NULL);
	struct sipcx_tp_addr bt;
	char dst[SIPCX_ADDRSTRLEN];
	assert_int_equal(sipcx_ua_bound(b, 0, &bt), 0);
	assert_true(sipcx_tp_addr_print(&bt, dst, sizeof(dst)) > 0);
	o.uri = uri;
	o.dst = dst;
	send_and_wait(a, &o, &r);
	assert_int_equal(r.status[0], 200);
	assert_non_null(strstr(r.last, "SIP/2.0/TCP "));
	result_fini(&r);
	/* sips is not supported; a transport we do not listen on is refused at once. */
	o.dst = NULL;
	o.uri = "sips:127.0.0.1:5061";
	assert_int_equal(sipcx_ua_request(a, &o, on_resp, &r), -EPROTONOSUPPORT);
	o.uri = "sip:[::1]:5060";
	assert_int_equal(sipcx_ua_request(a, &o, on_resp, &r), -EPROTONOSUPPORT);
	o.uri = "not a uri";
	assert_int_equal(sipcx_ua_request(a, &o, on_resp, &r), -EINVAL);
	o.uri = uri;
	o.method = "ACK";
	assert_int_equal(sipcx_ua_request(a, &o, on_resp, &r), -EINVAL);
	sipcx_ua_free(a);
	sipcx_ua_free(b);

	/* IPv6 loopback, when the machine has it. */
	struct sipcx_ua *c = NULL, *d = NULL;
	struct sipcx_ua_opts lo6 = { .listen = "udp:[::1]:0 tcp:[::1]:0" };
	if (sipcx_ua_new(&c, &lo6) != 0)
		skip();
	assert_int_equal(sipcx_ua_new(&d, &lo6), 0);
	for (size_t i = 0; i < 2; i++) {
		result_init(&r);
		uri_of(d, i, uri, sizeof(uri), i ? ";transport=tcp" : NULL);
		o = (struct sipcx_ua_req_opts){ .method = "OPTIONS", .uri = uri };
		send_and_wait(c, &o, &r);
		assert_int_equal(r.status[0], 200);
		assert_non_null(strstr(r.last, "[::1]"));
		result_fini(&r);
	}
	sipcx_ua_free(c);
	sipcx_ua_free(d);
}

static void test_lifecycle(void **state)
{
	(void)state;
	struct sipcx_ua *a = NULL;
	struct sipcx_ua_opts bad = { .listen = "udp:nowhere:5060" };
	assert_int_equal(sipcx_ua_new(&a, &bad), -EINVAL);
	assert_null(a);
	bad.listen = " , ";
	assert_int_equal(sipcx_ua_new(&a, &bad), -EINVAL);
	/* "": an engine without SIP sockets (media only); requests cannot go anywhere. */
	struct sipcx_ua_opts none = { .listen = "" };
	assert_int_equal(sipcx_ua_new(&a, &none), 0);
	struct sipcx_tp_addr nb;
	assert_int_equal(sipcx_ua_bound(a, 0, &nb), -ENOENT);
	struct sipcx_ua_req_opts to_none = { .method = "OPTIONS", .uri = "sip:127.0.0.1:9" };
	assert_int_equal(sipcx_ua_request(a, &to_none, on_resp, NULL), -EPROTONOSUPPORT);
	sipcx_ua_free(a);
	/* Same port twice: the bind error comes back synchronously. */
	a = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_tp_addr ba;
	char spec[80];
	assert_int_equal(sipcx_ua_bound(a, 0, &ba), 0);
	assert_int_equal(sipcx_ua_bound(a, 1, &ba), -ENOENT);
	assert_true(sipcx_tp_addr_print(&ba, spec, sizeof(spec)) > 0);
	struct sipcx_ua *b = NULL;
	struct sipcx_ua_opts same = { .listen = spec };
	assert_int_equal(sipcx_ua_new(&b, &same), -EADDRINUSE);
	assert_null(b);

	/* Freed with a request in flight: its callback hears SIPCX_ECLOSED once. */
	struct sipcx_tp_addr silent;
	int fd = raw_udp(AF_INET, &silent);
	char uri[128], hp[SIPCX_ADDRSTRLEN];
	assert_true(sipcx_sa_print(&silent.sa.sa, hp, sizeof(hp)) > 0);
	snprintf(uri, sizeof(uri), "sip:%s", hp);
	struct result r;
	result_init(&r);
	struct sipcx_ua_req_opts o = { .method = "OPTIONS", .uri = uri };
	assert_int_equal(sipcx_ua_request(a, &o, on_resp, &r), 0);
	char buf[2048];
	union sipcx_sa from;
	assert_true(raw_recv(fd, buf, sizeof(buf), &from) > 0);
	sipcx_ua_free(a);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, SIPCX_ECLOSED);
	result_fini(&r);
	close(fd);
	sipcx_ua_free(NULL);
}

/* ---- RFC 3261 18.1.1: large requests over TCP ---- */

static void on_message_src(struct sipcx_ua_srv *srv, const struct sipcx_msg *req, void *arg)
{
	struct result *r = arg;
	struct sipcx_tp_addr src;
	(void)req;
	assert_int_equal(sipcx_ua_srv_source(srv, &src), 0);
	uv_mutex_lock(&r->lock);
	r->requests++;
	snprintf(r->req_method, sizeof(r->req_method), "%s", sipcx_tp_name(src.proto));
	uv_mutex_unlock(&r->lock);
	assert_int_equal(sipcx_ua_respond(srv, 200, NULL, NULL, 0, NULL, SIPCX_STR_NULL), 0);
}

/* A UA on UDP and TCP with the same port, as a SIP server usually is. */
static struct sipcx_ua *ua_udp_tcp_same_port(void)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		struct sipcx_tp_addr probe;
		int fd = raw_udp(AF_INET, &probe);
		close(fd);
		char spec[96];
		unsigned port = sipcx_sa_port(&probe.sa.sa);
		snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u tcp:127.0.0.1:%u", port, port);
		struct sipcx_ua *ua = NULL;
		struct sipcx_ua_opts o = { .listen = spec };
		if (sipcx_ua_new(&ua, &o) == 0)
			return ua;
	}
	fail_msg("no port free for both UDP and TCP");
	return NULL;
}

static void test_large_request_goes_tcp(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0 tcp:127.0.0.1:0", 0);
	struct sipcx_ua *b = ua_udp_tcp_same_port();
	struct result h, r;
	char uri[128], body[1500];
	memset(body, 'x', sizeof(body));
	result_init(&h);
	assert_int_equal(sipcx_ua_handle(b, "MESSAGE", 0, on_message_src, &h), 0);
	uri_of(b, 0, uri, sizeof(uri), NULL);
	struct sipcx_ua_req_opts o = { .method = "MESSAGE",
		                       .uri = uri,
		                       .content_type = "text/plain",
		                       .body = { body, sizeof(body) } };
	result_init(&r);
	send_and_wait(a, &o, &r);
	assert_int_equal(r.status[0], 200);
	assert_string_equal(h.req_method, "TCP");
	result_fini(&r);
	/* A short one stays on UDP; so does a long one whose transport was asked for. */
	o.body.len = 100;
	result_init(&r);
	send_and_wait(a, &o, &r);
	assert_string_equal(h.req_method, "UDP");
	result_fini(&r);
	o.body.len = sizeof(body);
	o.transport = SIPCX_TP_UDP;
	result_init(&r);
	send_and_wait(a, &o, &r);
	assert_int_equal(r.status[0], 200);
	assert_string_equal(h.req_method, "UDP");
	assert_int_equal(h.requests, 3);
	result_fini(&r);
	sipcx_ua_free(a);
	sipcx_ua_free(b);
	result_fini(&h);
}

/* Many user threads sending at once: every request gets its one final answer. */
struct burst {
	struct sipcx_ua *a;
	const char *uri;
	struct result r;
};

static void burst_thread(void *arg)
{
	struct burst *bt = arg;
	struct sipcx_ua_req_opts o = { .method = "OPTIONS", .uri = bt->uri };
	for (int i = 0; i < 50; i++)
		assert_int_equal(sipcx_ua_request(bt->a, &o, on_resp, &bt->r), 0);
}

static void test_threads(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0", 0);
	char uri[128];
	uri_of(b, 0, uri, sizeof(uri), NULL);
	struct burst bt[4];
	uv_thread_t th[4];
	for (int i = 0; i < 4; i++) {
		bt[i].a = a;
		bt[i].uri = uri;
		result_init(&bt[i].r);
		assert_int_equal(uv_thread_create(&th[i], burst_thread, &bt[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		uv_thread_join(&th[i]);
		assert_true(wait_for(&bt[i].r, &bt[i].r.finals, 50));
		assert_int_equal(bt[i].r.calls, 50);
		assert_int_equal(bt[i].r.err, 0);
		result_fini(&bt[i].r);
	}
	sipcx_ua_free(a);
	sipcx_ua_free(b);
}

/* ---- several UAs on one address (SO_REUSEPORT) ---- */

/* "UDP:127.0.0.1:P TCP:127.0.0.1:Q": every bound address of ua, as a listen string. */
static void listen_of(struct sipcx_ua *ua, char *out, size_t n)
{
	size_t len = 0;
	struct sipcx_tp_addr a;
	out[0] = '\0';
	for (size_t i = 0; sipcx_ua_bound(ua, i, &a) == 0; i++) {
		if (len)
			out[len++] = ' ';
		int w = sipcx_tp_addr_print(&a, out + len, n - len);
		assert_true(w > 0);
		len += (size_t)w;
	}
}

static void test_reuse_port(void **state)
{
	(void)state;
	struct sipcx_ua *a = NULL, *b = NULL, *c = NULL;
	struct sipcx_ua_opts o = { .listen = "udp:127.0.0.1:0 tcp:127.0.0.1:0",
		                   .reuse_port = true };
	assert_int_equal(sipcx_ua_new(&a, &o), 0);
	char spec[256];
	listen_of(a, spec, sizeof(spec));
	/* The same addresses again: with reuse_port on both, yes; without, the port is taken. */
	o.listen = spec;
	assert_int_equal(sipcx_ua_new(&b, &o), 0);
	struct sipcx_tp_addr ba, bb;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(sipcx_ua_bound(a, i, &ba), 0);
		assert_int_equal(sipcx_ua_bound(b, i, &bb), 0);
		assert_int_equal(ba.proto, bb.proto);
		assert_true(sipcx_sa_equal(&ba.sa.sa, &bb.sa.sa));
	}
	o.reuse_port = false;
	assert_int_equal(sipcx_ua_new(&c, &o), -EADDRINUSE);
	assert_null(c);
	/* Requests to the shared address are answered, over UDP and TCP, by one UA or the other. */
	struct sipcx_ua *cl = ua_on("udp:127.0.0.1:0 tcp:127.0.0.1:0", 0);
	char uri[128];
	const char *params[] = { NULL, ";transport=tcp" };
	for (size_t i = 0; i < 2; i++) {
		uri_of(a, i, uri, sizeof(uri), params[i]);
		struct result r;
		result_init(&r);
		struct sipcx_ua_req_opts q = { .method = "OPTIONS", .uri = uri };
		send_and_wait(cl, &q, &r);
		assert_int_equal(r.err, 0);
		assert_int_equal(r.status[0], 200);
		result_fini(&r);
	}
	struct sipcx_ua_stats sa, sb;
	sipcx_ua_stats(a, &sa);
	sipcx_ua_stats(b, &sb);
	assert_int_equal(sa.rx_requests + sb.rx_requests, 2);
	sipcx_ua_free(cl);
	sipcx_ua_free(b);
	sipcx_ua_free(a);
}

/* ---- a callback never runs inside the call that started it ---- */

struct inside {
	struct sipcx_ua *ua;
	const char *uri;
	bool in_call;   /* loop thread: inside sipcx_ua_request() */
	bool cb_inside; /* the callback ran while in_call */
	int r;
	struct result res;
	int deadlk; /* a blocking phone call made on the loop thread */
	struct sipcx_phone *ph;
};

static void inside_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	struct inside *in = arg;
	if (in->in_call)
		in->cb_inside = true;
	on_resp(err, resp, &in->res);
}

static void request_on_loop(void *arg)
{
	struct inside *in = arg;
	/* A body past the 64 KiB message limit: the transaction cannot start. */
	static char big[70000];
	memset(big, 'x', sizeof(big));
	struct sipcx_ua_req_opts o = { .method = "MESSAGE",
		                       .uri = in->uri,
		                       .content_type = "text/plain",
		                       .body = { big, sizeof(big) } };
	in->in_call = true;
	in->r = sipcx_ua_request(in->ua, &o, inside_resp, in);
	in->in_call = false;
	struct sipcx_ua_req_opts ping = { .method = "OPTIONS", .uri = in->uri };
	in->deadlk = sipcx_phone_request(in->ph, NULL, &ping, NULL);
}

static void test_callback_after_return(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0 tcp:127.0.0.1:0", 0);
	char uri[128];
	uri_of(a, 1, uri, sizeof(uri), ";transport=tcp");
	struct inside in = { .ua = a, .uri = uri };
	result_init(&in.res);
	assert_int_equal(sipcx_phone_new(&in.ph, a, NULL), 0);
	assert_int_equal(sipcx_ua_call(a, request_on_loop, &in), 0);
	assert_int_equal(in.r, 0); /* accepted: the outcome comes as a callback */
	assert_true(wait_for(&in.res, &in.res.finals, 1));
	assert_false(in.cb_inside);
	assert_int_equal(in.res.err, -EMSGSIZE);
	assert_int_equal(in.res.calls, 1);
	/* The blocking API refuses to wait on the loop it would wait for. */
	assert_int_equal(in.deadlk, -EDEADLK);
	sipcx_phone_free(in.ph);
	sipcx_ua_free(a);
	result_fini(&in.res);
}

/* ---- the phone's blocking request ---- */

static void test_phone_request(void **state)
{
	(void)state;
	struct sipcx_ua *a = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_ua *b = ua_on("udp:127.0.0.1:0", 0);
	struct sipcx_phone *ph = NULL;
	assert_int_equal(sipcx_phone_new(&ph, a, NULL), 0);
	assert_ptr_equal(sipcx_phone_ua(ph), a);
	char uri[128];
	uri_of(b, 0, uri, sizeof(uri), NULL);
	struct sipcx_ua_req_opts o = { .method = "OPTIONS", .uri = uri };
	struct sipcx_phone_response res = { .want_msg = true };
	assert_int_equal(sipcx_phone_request(ph, NULL, &o, &res), 0);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.reason, "OK");
	assert_non_null(res.msg);
	assert_non_null(sipcx_msg_hdr(res.msg, SIPCX_HDR_ALLOW));
	assert_true(res.rtt_us > 0);
	sipcx_msg_unref(res.msg);

	/* A silent peer: the context's deadline ends the wait, not Timer F. */
	struct sipcx_tp_addr silent;
	int fd = raw_udp(AF_INET, &silent);
	char suri[128], hp[SIPCX_ADDRSTRLEN];
	assert_true(sipcx_sa_print(&silent.sa.sa, hp, sizeof(hp)) > 0);
	snprintf(suri, sizeof(suri), "sip:%s", hp);
	struct sipcx_ua_req_opts so = { .method = "OPTIONS", .uri = suri };
	struct sipcx_ctx *ctx = sipcx_ctx_timeout(NULL, 200);
	uint64_t t0 = sipcx_now_us();
	assert_int_equal(sipcx_phone_request(ph, ctx, &so, &res), -ETIMEDOUT);
	assert_true(sipcx_now_us() - t0 < 5000000u);
	assert_int_equal(res.status, 0);
	assert_null(res.msg);
	sipcx_ctx_free(ctx);
	/* Cancelled before: nothing is sent. */
	ctx = sipcx_ctx_timeout(NULL, 0);
	sipcx_ctx_cancel(ctx);
	assert_int_equal(sipcx_phone_request(ph, ctx, &so, NULL), -ECANCELED);
	sipcx_ctx_free(ctx);
	/* A request the engine refuses comes back as its error. */
	struct sipcx_ua_req_opts ack = { .method = "ACK", .uri = uri };
	assert_int_equal(sipcx_phone_request(ph, NULL, &ack, NULL), -EINVAL);
	assert_int_equal(sipcx_phone_request(NULL, NULL, &o, NULL), -EINVAL);
	close(fd);
	sipcx_phone_free(ph);
	sipcx_ua_free(a); /* the timed-out transaction is still running: it ends here */
	sipcx_ua_free(b);
}

/* A UDP socket on loopback that reads nothing: a DNS server that never answers. */
static int mute_server(char *out, size_t n)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(out, n, "127.0.0.1:%u", ntohs(a.sin_port));
	return fd;
}

struct on_loop_req {
	struct sipcx_ua *ua;
	struct result *r;
	int rc, calls_after;
};

static void name_request_on_loop(void *arg)
{
	struct on_loop_req *q = arg;
	struct sipcx_ua_req_opts o = { .method = "OPTIONS", .uri = "sip:nowhere.invalid" };
	q->rc = sipcx_ua_request(q->ua, &o, on_resp, q->r);
	uv_mutex_lock(&q->r->lock);
	q->calls_after = q->r->calls;
	uv_mutex_unlock(&q->r->lock);
}

/* RFC 3263 on the loop: a bad server list, a name that does not resolve, a look-up cut by sipcx_ua_free(). */
static void test_request_by_name(void **state)
{
	(void)state;
	struct sipcx_ua *ua = NULL;
	struct sipcx_ua_opts uo = { .listen = "udp:127.0.0.1:0", .dns_servers = "not-an-ip" };
	assert_int_equal(sipcx_ua_new(&ua, &uo), -EINVAL);
	assert_null(ua);

	/* Nothing listens on the server's port (closed at once): SIPCX_ERESOLVE, through cb. */
	char server[32];
	close(mute_server(server, sizeof(server)));
	uo.dns_servers = server;
	assert_int_equal(sipcx_ua_new(&ua, &uo), 0);
	struct result r;
	result_init(&r);
	struct on_loop_req q = { .ua = ua, .r = &r };
	assert_int_equal(sipcx_ua_call(ua, name_request_on_loop, &q), 0);
	assert_int_equal(q.rc, 0);
	assert_int_equal(q.calls_after, 0); /* never inside the call that started it */
	assert_true(wait_for(&r, &r.finals, 1));
	assert_int_equal(r.err, SIPCX_ERESOLVE);
	assert_int_equal(r.calls, 1);
	/* A transport that is not listened on is known at once. */
	struct sipcx_ua_req_opts o = { .method = "OPTIONS",
		                       .uri = "sip:nowhere.invalid;transport=tcp" };
	assert_int_equal(sipcx_ua_request(ua, &o, on_resp, &r), -EPROTONOSUPPORT);
	sipcx_ua_free(ua);
	result_fini(&r);

	/* A server that never answers: the UA goes away during the look-up, cb gets SIPCX_ECLOSED. */
	int fd = mute_server(server, sizeof(server));
	assert_int_equal(sipcx_ua_new(&ua, &uo), 0);
	result_init(&r);
	o = (struct sipcx_ua_req_opts){ .method = "OPTIONS", .uri = "sip:nowhere.invalid" };
	assert_int_equal(sipcx_ua_request(ua, &o, on_resp, &r), 0);
	char buf[512];
	assert_true(recv(fd, buf, sizeof(buf), 0) > 12); /* the NAPTR query came */
	sipcx_ua_free(ua);
	assert_int_equal(r.finals, 1);
	assert_int_equal(r.err, SIPCX_ECLOSED);
	result_fini(&r);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_200),
		cmocka_unit_test(test_501_405),
		cmocka_unit_test(test_handlers),
		cmocka_unit_test(test_invite_100_then_486),
		cmocka_unit_test(test_raw_requests),
		cmocka_unit_test(test_timeout_and_bad_responses),
		cmocka_unit_test(test_tcp_and_ipv6),
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_large_request_goes_tcp),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_callback_after_return),
		cmocka_unit_test(test_phone_request),
		cmocka_unit_test(test_require_and_txn_cap),
		cmocka_unit_test(test_reuse_port),
		cmocka_unit_test(test_request_by_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
