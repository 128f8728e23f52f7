/* Unit tests of the transaction layer in virtual time: ICT, NICT, IST, NIST, matching, the table, memory per transaction (RFC 3261 17, RFC 6026). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <sipcx/msg.h>
#include <sipcx/txn.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MS 1000ull
#define SEC 1000000ull
/* Virtual time starts far from zero so that "now + 0" and "never" stay distinct. */
#define T0 (1000 * SEC)

static const char invite_text[] =
    "INVITE sip:bob@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKup\r\n"
    "Via: SIP/2.0/UDP 10.0.0.8;branch=z9hG4bKup2\r\n"
    "Max-Forwards: 70\r\n"
    "Route: <sip:p1.example.com;lr>\r\n"
    "Route: <sip:p2.example.com;lr>, <sip:p3.example.com;lr>\r\n"
    "To: Bob <sip:bob@example.com>\r\n"
    "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@10.0.0.1>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

static const char options_text[] = "OPTIONS sip:bob@example.com SIP/2.0\r\n"
                                   "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKopt1\r\n"
                                   "Max-Forwards: 70\r\n"
                                   "To: <sip:bob@example.com>\r\n"
                                   "From: <sip:alice@example.com>;tag=77\r\n"
                                   "Call-ID: opt-1@10.0.0.1\r\n"
                                   "CSeq: 2 OPTIONS\r\n"
                                   "Content-Length: 0\r\n"
                                   "\r\n";

/* An RFC 2543 peer: no magic cookie in the branch (here: no branch at all). */
static const char invite_2543_text[] = "INVITE sip:carol@example.org SIP/2.0\r\n"
                                       "Via: SIP/2.0/UDP old.example.org:5060\r\n"
                                       "To: <sip:carol@example.org>\r\n"
                                       "From: <sip:dave@example.org>;tag=d1\r\n"
                                       "Call-ID: 2543-call@old.example.org\r\n"
                                       "CSeq: 7 INVITE\r\n"
                                       "Content-Length: 0\r\n"
                                       "\r\n";

/*
 * Helpers.
 */

static struct sipcx_msg *parse(const char *p, size_t len)
{
	struct sipcx_msg *m = NULL;
	int r = sipcx_msg_new(&m, p, len, 0);
	assert_true(r > 0);
	assert_non_null(m);
	return m;
}

static struct sipcx_msg *parse_c(const char *s)
{
	return parse(s, strlen(s));
}

static struct sipcx_msg *parse_send(const struct sipcx_txn_send *s)
{
	return parse(s->p, s->len);
}

/* A NUL-terminated copy of a slice (malloc'd). */
static char *dupz(struct sipcx_str x)
{
	char *s = malloc(x.len + 1);
	assert_non_null(s);
	memcpy(s, x.p, x.len);
	s[x.len] = '\0';
	return s;
}

/* text with the first occurrence of each pairs[2i] replaced by pairs[2i+1], parsed. */
static struct sipcx_msg *parse_edit_list(const char *text, size_t n, const char *const *pairs)
{
	char *s = dupz(sipcx_str_c(text));
	for (size_t i = 0; i < n; i++) {
		const char *from = pairs[2 * i], *to = pairs[2 * i + 1];
		char *at = strstr(s, from);
		if (!at)
			fail_msg("\"%s\" not found", from);
		size_t pre = (size_t)(at - s), len = strlen(s) - strlen(from) + strlen(to);
		char *e = malloc(len + 1);
		assert_non_null(e);
		memcpy(e, s, pre);
		memcpy(e + pre, to, strlen(to));
		strcpy(e + pre + strlen(to), at + strlen(from));
		free(s);
		s = e;
	}
	struct sipcx_msg *m = parse(s, strlen(s));
	free(s);
	return m;
}
#define parse_edit(text, ...)                                                                 \
	parse_edit_list((text), sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *) / 2, \
	                (const char *const[]){ __VA_ARGS__ })

/* The same for a parsed message's bytes. */
static struct sipcx_msg *edit_msg(const struct sipcx_msg *m, const char *from, const char *to)
{
	char *s = dupz(m->raw);
	struct sipcx_msg *r = parse_edit(s, from, to);
	free(s);
	return r;
}

static void assert_str(struct sipcx_str s, const char *want)
{
	if (s.len != strlen(want) || memcmp(s.p, want, s.len) != 0)
		fail_msg("got \"%.*s\", want \"%s\"", SIPCX_STR_FMT(s), want);
}

static void assert_same(struct sipcx_str a, struct sipcx_str b)
{
	if (!sipcx_str_eq(a, b))
		fail_msg("\"%.*s\" != \"%.*s\"", SIPCX_STR_FMT(a), SIPCX_STR_FMT(b));
}

static struct sipcx_str hval(const struct sipcx_msg *m, enum sipcx_hdr_id id)
{
	const struct sipcx_hdr *h = sipcx_msg_hdr(m, id);
	assert_non_null(h);
	return h->value;
}

/* A response to req as a UAS prints it, in a malloc'd buffer. */
static char *reply_bytes(const struct sipcx_msg *req, uint16_t status, const char *tag, size_t *len)
{
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_msg_print_reply(&b, req, status, SIPCX_STR_NULL, sipcx_str_c(tag),
	                                       NULL, 0, SIPCX_STR_NULL),
	                 0);
	char *p = sipcx_buf_detach(&b, len);
	assert_non_null(p);
	return p;
}

/* The same response, parsed (what a client transaction receives). */
static struct sipcx_msg *reply(const struct sipcx_msg *req, uint16_t status, const char *tag)
{
	size_t len;
	char *p = reply_bytes(req, status, tag, &len);
	struct sipcx_msg *m = parse(p, len);
	sipcx_free(p);
	return m;
}

static void assert_quiet(const struct sipcx_txn_out *o)
{
	assert_int_equal(o->nsend, 0);
	assert_int_equal(o->nev, 0);
}

static void assert_events(const struct sipcx_txn_out *o, size_t n, ...)
{
	va_list ap;
	va_start(ap, n);
	assert_int_equal(o->nev, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(o->ev[i].type, va_arg(ap, int));
	va_end(ap);
}

/* Tick one microsecond early (nothing) and then on time. */
static void tick_at(struct sipcx_txn *t, uint64_t when, struct sipcx_txn_out *o)
{
	assert_int_equal(sipcx_txn_deadline(t), when);
	assert_int_equal(sipcx_txn_tick(t, when - 1, o), 0);
	assert_quiet(o);
	assert_int_equal(o->deadline, when);
	assert_int_equal(sipcx_txn_tick(t, when, o), 0);
}

static struct sipcx_txn *client(const char *text, unsigned flags, struct sipcx_txn_out *o)
{
	struct sipcx_txn *t = NULL;
	struct sipcx_txn_opts opts = { .flags = flags };
	assert_int_equal(sipcx_txn_client_new(&t, text, strlen(text), &opts, T0, o), 0);
	assert_non_null(t);
	assert_int_equal(o->nsend, 1);
	assert_int_equal(o->send[0].kind, SIPCX_TXN_SEND_REQUEST);
	assert_false(o->send[0].retransmission);
	return t;
}

static struct sipcx_txn *server(const struct sipcx_msg *req, unsigned flags, uint64_t now,
                                struct sipcx_txn_out *o)
{
	struct sipcx_txn *t = NULL;
	struct sipcx_txn_opts opts = { .flags = flags };
	assert_int_equal(sipcx_txn_server_new(&t, req, &opts, now, o), 0);
	assert_non_null(t);
	assert_true(o->nev >= 1);
	assert_int_equal(o->ev[0].type, SIPCX_TXN_EV_REQUEST);
	assert_ptr_equal(o->ev[0].msg, sipcx_txn_request(t));
	return t;
}

/* The TU answers req through t. */
static void respond_req(struct sipcx_txn *t, const struct sipcx_msg *req, uint16_t status,
                        const char *tag, uint64_t now, struct sipcx_txn_out *o)
{
	size_t len;
	char *p = reply_bytes(req, status, tag, &len);
	assert_int_equal(sipcx_txn_respond(t, p, len, now, o), 0);
	sipcx_free(p);
	/* A final response sent: the request copy is gone, the keys stay. */
	if (status >= 200)
		assert_null(sipcx_txn_request(t));
}

/* The TU answers the transaction's own copy of the request (before the final response). */
static void respond(struct sipcx_txn *t, uint16_t status, const char *tag, uint64_t now,
                    struct sipcx_txn_out *o)
{
	assert_non_null(sipcx_txn_request(t));
	respond_req(t, sipcx_txn_request(t), status, tag, now, o);
}

static void assert_response_sent(const struct sipcx_txn_out *o, size_t i, uint16_t status,
                                 bool retx)
{
	assert_true(o->nsend > i);
	assert_int_equal(o->send[i].kind, SIPCX_TXN_SEND_RESPONSE);
	assert_int_equal(o->send[i].status, status);
	assert_int_equal(o->send[i].retransmission, retx);
	struct sipcx_msg *m = parse_send(&o->send[i]);
	assert_false(m->request);
	assert_int_equal(m->status, status);
	sipcx_msg_unref(m);
}

/*
 * INVITE client transaction (17.1.1).
 */

static void test_ict_timer_a_b(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn *t = client(invite_text, 0, &o);
	assert_int_equal(sipcx_txn_kind(t), SIPCX_TXN_ICT);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_CALLING);
	assert_int_equal(o.nev, 0);
	assert_int_equal(o.deadline, T0 + 500 * MS);

	/* The request as sent: the bytes given, parsed back. */
	struct sipcx_msg *sent = parse_send(&o.send[0]);
	assert_int_equal(sent->method, SIPCX_METHOD_INVITE);
	assert_str(sipcx_msg_via(sent)->branch, "z9hG4bK776asdhds");
	assert_str(sent->body, "v=0\n");
	assert_int_equal(o.send[0].len, strlen(invite_text));
	assert_memory_equal(o.send[0].p, invite_text, o.send[0].len);
	sipcx_msg_unref(sent);
	assert_str(sipcx_txn_branch(t), "z9hG4bK776asdhds");

	/* Timer A: 500 ms, 1 s, 2 s, 4 s, 8 s, 16 s. */
	const uint64_t at[] = { 500 * MS, 1500 * MS, 3500 * MS, 7500 * MS, 15500 * MS, 31500 * MS };
	for (size_t i = 0; i < N_ELEMS(at); i++) {
		tick_at(t, T0 + at[i], &o);
		assert_int_equal(o.nsend, 1);
		assert_int_equal(o.nev, 0);
		assert_int_equal(o.send[0].kind, SIPCX_TXN_SEND_REQUEST);
		assert_true(o.send[0].retransmission);
		assert_int_equal(o.send[0].len, strlen(invite_text));
		assert_memory_equal(o.send[0].p, invite_text, o.send[0].len);
		if (i + 1 < N_ELEMS(at))
			assert_int_equal(o.deadline, T0 + at[i + 1]);
	}
	/* Timer B (64*T1 = 32 s) comes before the next A (63.5 s). */
	assert_int_equal(o.deadline, T0 + 32 * SEC);
	tick_at(t, T0 + 32 * SEC, &o);
	assert_int_equal(o.nsend, 0);
	assert_events(&o, 2, SIPCX_TXN_EV_TIMEOUT, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.ev[0].err, -ETIMEDOUT);
	assert_null(o.ev[0].msg);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_TERMINATED);

	/* Nothing after: no timer, and a late response is absorbed. */
	assert_int_equal(sipcx_txn_tick(t, T0 + 100 * SEC, &o), 0);
	assert_quiet(&o);
	struct sipcx_msg *r = reply(sipcx_txn_request(t), 200, "x");
	assert_int_equal(sipcx_txn_recv(t, r, T0 + 101 * SEC, &o), 0);
	assert_quiet(&o);
	sipcx_msg_unref(r);
	sipcx_txn_free(t);
}

static void test_ict_late_tick_no_burst(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn *t = client(invite_text, 0, &o);
	/* A caller 10 s late: A was due at 0.5, 1.5, 3.5, 7.5 s; one resend, schedule kept. */
	assert_int_equal(sipcx_txn_tick(t, T0 + 10 * SEC, &o), 0);
	assert_int_equal(o.nsend, 1);
	assert_true(o.send[0].retransmission);
	assert_int_equal(o.deadline, T0 + 15500 * MS);
	/* 40 s late: B has fired, no resend before the timeout. */
	assert_int_equal(sipcx_txn_tick(t, T0 + 40 * SEC, &o), 0);
	assert_int_equal(o.nsend, 0);
	assert_events(&o, 2, SIPCX_TXN_EV_TIMEOUT, SIPCX_TXN_EV_TERMINATED);
	sipcx_txn_free(t);
}

static void test_ict_1xx_stops_a(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn *t = client(invite_text, 0, &o);
	tick_at(t, T0 + 500 * MS, &o);
	assert_int_equal(o.nsend, 1);

	struct sipcx_msg *r100 = reply(sipcx_txn_request(t), 100, "");
	assert_int_equal(sipcx_txn_recv(t, r100, T0 + 700 * MS, &o), 0);
	assert_int_equal(o.nsend, 0);
	assert_events(&o, 1, SIPCX_TXN_EV_RESPONSE);
	assert_ptr_equal(o.ev[0].msg, r100);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_PROCEEDING);
	/* Neither A nor B in Proceeding: the TU decides (CANCEL). */
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	assert_int_equal(sipcx_txn_tick(t, T0 + 60 * SEC, &o), 0);
	assert_quiet(&o);

	/* Every further 1xx goes to the TU. */
	struct sipcx_msg *r180 = reply(sipcx_txn_request(t), 180, "b1");
	assert_int_equal(sipcx_txn_recv(t, r180, T0 + 61 * SEC, &o), 0);
	assert_events(&o, 1, SIPCX_TXN_EV_RESPONSE);
	assert_int_equal(sipcx_txn_status(t), 180);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_PROCEEDING);
	sipcx_msg_unref(r100);
	sipcx_msg_unref(r180);
	sipcx_txn_free(t);
}

/* RFC 3261 17.1.1.3, field by field. */
static void check_ack(const struct sipcx_txn_send *s, const struct sipcx_msg *resp)
{
	assert_int_equal(s->kind, SIPCX_TXN_SEND_ACK);
	struct sipcx_msg *ack = parse_send(s);
	struct sipcx_msg *inv = parse_c(invite_text);
	assert_true(ack->request);
	assert_int_equal(ack->method, SIPCX_METHOD_ACK);
	assert_str(ack->ruri, "sip:bob@example.com");
	/* One Via, equal to the INVITE's top Via (same branch). */
	assert_int_equal(sipcx_msg_hdr_count(ack, SIPCX_HDR_VIA), 1);
	assert_str(hval(ack, SIPCX_HDR_VIA),
	           "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport");
	assert_str(sipcx_msg_via(ack)->branch, "z9hG4bK776asdhds");
	/* The INVITE's Route headers, in order. */
	assert_int_equal(sipcx_msg_hdr_count(ack, SIPCX_HDR_ROUTE), 2);
	const struct sipcx_hdr *rt = sipcx_msg_hdr(ack, SIPCX_HDR_ROUTE);
	assert_str(rt->value, "<sip:p1.example.com;lr>");
	rt = sipcx_msg_hdr_next(ack, rt);
	assert_str(rt->value, "<sip:p2.example.com;lr>, <sip:p3.example.com;lr>");
	/* From and Call-ID of the request, To of the response (with its tag). */
	assert_same(hval(ack, SIPCX_HDR_FROM), hval(inv, SIPCX_HDR_FROM));
	assert_same(hval(ack, SIPCX_HDR_CALL_ID), hval(inv, SIPCX_HDR_CALL_ID));
	assert_same(hval(ack, SIPCX_HDR_TO), hval(resp, SIPCX_HDR_TO));
	assert_str(sipcx_msg_to(ack)->tag, "bobtag");
	/* CSeq number of the INVITE, method ACK. */
	assert_int_equal(sipcx_msg_cseq(ack)->num, 314159);
	assert_int_equal(sipcx_msg_cseq_method(ack), SIPCX_METHOD_ACK);
	uint32_t mf = 0;
	assert_int_equal(sipcx_msg_max_forwards(ack, &mf), 0);
	assert_int_equal(mf, 70);
	assert_int_equal(ack->body.len, 0);
	assert_null(sipcx_msg_hdr(ack, SIPCX_HDR_CONTACT));
	assert_null(sipcx_msg_hdr(ack, SIPCX_HDR_CONTENT_TYPE));
	struct sipcx_msg_verdict v;
	assert_int_equal(sipcx_msg_check(ack, 0, &v), SIPCX_MSG_ACCEPT);
	sipcx_msg_unref(inv);
	sipcx_msg_unref(ack);
}

static void test_ict_non2xx_ack_timer_d(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn *t = client(invite_text, 0, &o);
	struct sipcx_msg *r486 = reply(sipcx_txn_request(t), 486, "bobtag");
	struct sipcx_msg *r180 = reply(sipcx_txn_request(t), 180, "bobtag");

	/* Before Timer A's first firing (500 ms): the only send is the ACK. */
	uint64_t now = T0 + 400 * MS;
	assert_int_equal(sipcx_txn_recv(t, r486, now, &o), 0);
	assert_int_equal(o.nsend, 1);
	assert_false(o.send[0].retransmission);
	check_ack(&o.send[0], r486);
	char *ack1 = malloc(o.send[0].len);
	size_t ack1_len = o.send[0].len;
	memcpy(ack1, o.send[0].p, ack1_len);
	assert_events(&o, 1, SIPCX_TXN_EV_RESPONSE);
	assert_ptr_equal(o.ev[0].msg, r486);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_COMPLETED);
	assert_int_equal(sipcx_txn_status(t), 486);
	/* The request is gone (the ACK is what may be sent again); the keys match. */
	assert_null(sipcx_txn_request(t));
	assert_true(sipcx_txn_match(t, r486));
	assert_str(sipcx_txn_branch(t), "z9hG4bK776asdhds");
	/* Timer D: 32 s on UDP; A and B are off. */
	assert_int_equal(o.deadline, now + 32 * SEC);

	/* The 486 again (our ACK was lost): the same ACK again, no second event. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sipcx_txn_recv(t, r486, now + (uint64_t)(i + 1) * SEC, &o), 0);
		assert_int_equal(o.nev, 0);
		assert_int_equal(o.nsend, 1);
		assert_int_equal(o.send[0].kind, SIPCX_TXN_SEND_ACK);
		assert_true(o.send[0].retransmission);
		assert_int_equal(o.send[0].len, ack1_len);
		assert_memory_equal(o.send[0].p, ack1, ack1_len);
		assert_int_equal(o.deadline, now + 32 * SEC);
	}
	/* A 1xx or 2xx now is absorbed. */
	assert_int_equal(sipcx_txn_recv(t, r180, now + 5 * SEC, &o), 0);
	assert_quiet(&o);

	tick_at(t, now + 32 * SEC, &o);
	assert_int_equal(o.nsend, 0);
	assert_events(&o, 1, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	free(ack1);
	sipcx_msg_unref(r180);
	sipcx_msg_unref(r486);
	sipcx_txn_free(t);
}

static void test_ict_2xx_accepted_timer_m(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn *t = client(invite_text, 0, &o);
	struct sipcx_msg *r1 = reply(sipcx_txn_request(t), 200, "fork1");
	struct sipcx_msg *r2 = reply(sipcx_txn_request(t), 200, "fork2");
	struct sipcx_msg *r4 = reply(sipcx_txn_request(t), 404, "fork3");

	uint64_t now = T0 + 400 * MS;
	assert_int_equal(sipcx_txn_recv(t, r1, now, &o), 0);
	/* No ACK from the transaction for a 2xx: that is the TU's (13.2.2.4). */
	assert_int_equal(o.nsend, 0);
	assert_events(&o, 1, SIPCX_TXN_EV_RESPONSE);
	assert_ptr_equal(o.ev[0].msg, r1);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_ACCEPTED);
	assert_int_equal(o.deadline, now + 32 * SEC); /* Timer M = 64*T1 */

	/* RFC 6026: another 2xx (a fork) goes to the TU too; its retransmission as well. */
	assert_int_equal(sipcx_txn_recv(t, r2, now + SEC, &o), 0);
	assert_events(&o, 1, SIPCX_TXN_EV_RESPONSE);
	assert_ptr_equal(o.ev[0].msg, r2);
	assert_int_equal(o.nsend, 0);
	assert_int_equal(sipcx_txn_recv(t, r1, now + 2 * SEC, &o), 0);
	assert_events(&o, 1, SIPCX_TXN_EV_RESPONSE);
	/* A non-2xx in Accepted is absorbed. */
	assert_int_equal(sipcx_txn_recv(t, r4, now + 3 * SEC, &o), 0);
	assert_quiet(&o);
	assert_int_equal(o.deadline, now + 32 * SEC);

	tick_at(t, now + 32 * SEC, &o);
	assert_events(&o, 1, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.nsend, 0);
	sipcx_msg_unref(r1);
	sipcx_msg_unref(r2);
	sipcx_msg_unref(r4);
	sipcx_txn_free(t);
}

static void test_ict_cancel_sent_gives_up(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn *t = client(invite_text, SIPCX_TXN_RELIABLE, &o);
	struct sipcx_msg *r180 = reply(sipcx_txn_request(t), 180, "b");
	assert_int_equal(sipcx_txn_recv(t, r180, T0 + SEC, &o), 0);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	/* 9.1: no final response 64*T1 after the CANCEL: the INVITE is given up. */
	assert_int_equal(sipcx_txn_cancel_sent(t, T0 + 10 * SEC, &o), 0);
	assert_quiet(&o);
	assert_int_equal(o.deadline, T0 + 42 * SEC);
	/* Once: a second call does not move it. */
	assert_int_equal(sipcx_txn_cancel_sent(t, T0 + 11 * SEC, &o), 0);
	assert_int_equal(o.deadline, T0 + 42 * SEC);
	/* More 1xx keep it. */
	assert_int_equal(sipcx_txn_recv(t, r180, T0 + 12 * SEC, &o), 0);
	assert_events(&o, 1, SIPCX_TXN_EV_RESPONSE);
	assert_int_equal(o.deadline, T0 + 42 * SEC);
	tick_at(t, T0 + 42 * SEC, &o);
	assert_events(&o, 2, SIPCX_TXN_EV_TIMEOUT, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.nsend, 0);
	sipcx_txn_free(t);

	/* In Calling, Timer B (earlier) stays; a CANCEL then a 1xx keeps the 9.1 limit. */
	t = client(invite_text, 0, &o);
	assert_int_equal(sipcx_txn_cancel_sent(t, T0 + 100 * MS, &o), 0);
	assert_int_equal(o.deadline, T0 + 500 * MS);
	assert_int_equal(sipcx_txn_recv(t, r180, T0 + 200 * MS, &o), 0);
	assert_int_equal(o.deadline, T0 + 32100 * MS);
	/* The 487 ends it normally. */
	struct sipcx_msg *r487 = reply(sipcx_txn_request(t), 487, "b");
	assert_int_equal(sipcx_txn_recv(t, r487, T0 + 300 * MS, &o), 0);
	assert_events(&o, 1, SIPCX_TXN_EV_RESPONSE);
	assert_int_equal(o.deadline, T0 + 32300 * MS); /* Timer D */
	/* Not for other kinds. */
	struct sipcx_txn *n = client(options_text, 0, &o);
	assert_int_equal(sipcx_txn_cancel_sent(n, T0, &o), -EINVAL);
	sipcx_txn_free(n);
	sipcx_msg_unref(r487);
	sipcx_msg_unref(r180);
	sipcx_txn_free(t);
}

static void test_ict_reliable(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn *t = client(invite_text, SIPCX_TXN_RELIABLE, &o);
	/* No Timer A: the first deadline is Timer B. */
	assert_int_equal(o.deadline, T0 + 32 * SEC);
	for (uint64_t ms = 500; ms < 32000; ms += 500) {
		assert_int_equal(sipcx_txn_tick(t, T0 + ms * MS, &o), 0);
		assert_quiet(&o);
	}
	tick_at(t, T0 + 32 * SEC, &o);
	assert_int_equal(o.nsend, 0);
	assert_events(&o, 2, SIPCX_TXN_EV_TIMEOUT, SIPCX_TXN_EV_TERMINATED);
	sipcx_txn_free(t);

	/* A non-2xx: ACK, response to the TU, Timer D = 0: terminated at once. */
	t = client(invite_text, SIPCX_TXN_RELIABLE, &o);
	struct sipcx_msg *r = reply(sipcx_txn_request(t), 503, "bobtag");
	assert_int_equal(sipcx_txn_recv(t, r, T0 + SEC, &o), 0);
	assert_int_equal(o.nsend, 1);
	check_ack(&o.send[0], r);
	assert_events(&o, 2, SIPCX_TXN_EV_RESPONSE, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_TERMINATED);
	sipcx_msg_unref(r);
	sipcx_txn_free(t);
}

static void test_ict_custom_timers(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn *t = NULL;
	struct sipcx_txn_opts opts = { .t1_us = 100 * MS, .t2_us = 1 * SEC, .t4_us = 2 * SEC };
	assert_int_equal(sipcx_txn_client_new(&t, invite_text, strlen(invite_text), &opts, T0, &o),
	                 0);
	assert_int_equal(o.deadline, T0 + 100 * MS);
	tick_at(t, T0 + 100 * MS, &o);
	assert_int_equal(o.deadline, T0 + 300 * MS);
	/* Timer D is at least 32 s even with a small T1. */
	struct sipcx_msg *r = reply(sipcx_txn_request(t), 600, "t");
	assert_int_equal(sipcx_txn_recv(t, r, T0 + SEC, &o), 0);
	assert_int_equal(o.deadline, T0 + 33 * SEC);
	sipcx_msg_unref(r);
	sipcx_txn_free(t);

	/* A large T1 makes B 64*T1 and D 64*T1 too. */
	opts = (struct sipcx_txn_opts){ .t1_us = 1 * SEC };
	assert_int_equal(sipcx_txn_client_new(&t, invite_text, strlen(invite_text), &opts, T0, &o),
	                 0);
	r = reply(sipcx_txn_request(t), 100, "");
	assert_int_equal(sipcx_txn_recv(t, r, T0 + 10 * MS, &o), 0);
	sipcx_msg_unref(r);
	r = reply(sipcx_txn_request(t), 480, "t");
	assert_int_equal(sipcx_txn_recv(t, r, T0 + SEC, &o), 0);
	assert_int_equal(o.deadline, T0 + 65 * SEC);
	sipcx_msg_unref(r);
	sipcx_txn_free(t);
}

/*
 * Non-INVITE client transaction (17.1.2).
 */

static void test_nict_timer_e_f(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn *t = client(options_text, 0, &o);
	assert_int_equal(sipcx_txn_kind(t), SIPCX_TXN_NICT);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_TRYING);
	assert_int_equal(o.deadline, T0 + 500 * MS);
	/* Intervals 500, 1000, 2000, 4000, then T2 = 4000 each time. */
	const uint64_t ival[] = { 500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000 };
	uint64_t at = 0;
	for (size_t i = 0; i < N_ELEMS(ival); i++) {
		at += ival[i] * MS;
		tick_at(t, T0 + at, &o);
		assert_int_equal(o.nsend, 1);
		assert_int_equal(o.nev, 0);
		assert_true(o.send[0].retransmission);
		struct sipcx_msg *m = parse_send(&o.send[0]);
		assert_int_equal(m->method, SIPCX_METHOD_OPTIONS);
		assert_str(sipcx_msg_via(m)->branch, "z9hG4bKopt1");
		sipcx_msg_unref(m);
	}
	assert_int_equal(at, 31500 * MS);
	/* Timer F at 64*T1 = 32 s, before the next E at 35.5 s. */
	tick_at(t, T0 + 32 * SEC, &o);
	assert_int_equal(o.nsend, 0);
	assert_events(&o, 2, SIPCX_TXN_EV_TIMEOUT, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.ev[0].err, -ETIMEDOUT);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	sipcx_txn_free(t);
}

static void test_nict_proceeding_t2_timer_k(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn *t = client(options_text, 0, &o);
	struct sipcx_msg *r100 = reply(sipcx_txn_request(t), 100, "");
	/* A 1xx at 200 ms: the pending E (500 ms) stays, then every T2. */
	assert_int_equal(sipcx_txn_recv(t, r100, T0 + 200 * MS, &o), 0);
	assert_events(&o, 1, SIPCX_TXN_EV_RESPONSE);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_PROCEEDING);
	assert_int_equal(o.deadline, T0 + 500 * MS);
	uint64_t at = 500 * MS;
	for (int i = 0; i < 6; i++) {
		tick_at(t, T0 + at, &o);
		assert_int_equal(o.nsend, 1);
		assert_true(o.send[0].retransmission);
		at += 4 * SEC;
		assert_int_equal(o.deadline, T0 + at);
	}
	/* Timer F still runs in Proceeding: after 24.5 s the last E was at 20.5 s. */
	assert_int_equal(at, 24500 * MS);

	struct sipcx_msg *r200 = reply(sipcx_txn_request(t), 200, "b");
	uint64_t now = T0 + 22 * SEC;
	assert_int_equal(sipcx_txn_recv(t, r200, now, &o), 0);
	assert_events(&o, 1, SIPCX_TXN_EV_RESPONSE);
	assert_ptr_equal(o.ev[0].msg, r200);
	assert_int_equal(o.nsend, 0);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_COMPLETED);
	/* Timer K = T4 = 5 s; retransmitted final responses absorbed meanwhile. */
	assert_int_equal(o.deadline, now + 5 * SEC);
	assert_int_equal(sipcx_txn_recv(t, r200, now + SEC, &o), 0);
	assert_quiet(&o);
	tick_at(t, now + 5 * SEC, &o);
	assert_events(&o, 1, SIPCX_TXN_EV_TERMINATED);
	sipcx_msg_unref(r100);
	sipcx_msg_unref(r200);
	sipcx_txn_free(t);
}

static void test_nict_f_in_proceeding_and_reliable(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn *t = client(options_text, SIPCX_TXN_RELIABLE, &o);
	assert_int_equal(o.deadline, T0 + 32 * SEC); /* no E */
	struct sipcx_msg *r = reply(sipcx_txn_request(t), 183, "b");
	assert_int_equal(sipcx_txn_recv(t, r, T0 + SEC, &o), 0);
	assert_int_equal(o.deadline, T0 + 32 * SEC);
	tick_at(t, T0 + 32 * SEC, &o);
	assert_events(&o, 2, SIPCX_TXN_EV_TIMEOUT, SIPCX_TXN_EV_TERMINATED);
	sipcx_msg_unref(r);
	sipcx_txn_free(t);

	/* Reliable: Timer K = 0. */
	t = client(options_text, SIPCX_TXN_RELIABLE, &o);
	r = reply(sipcx_txn_request(t), 404, "b");
	assert_int_equal(sipcx_txn_recv(t, r, T0 + SEC, &o), 0);
	assert_events(&o, 2, SIPCX_TXN_EV_RESPONSE, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.nsend, 0);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	sipcx_msg_unref(r);
	sipcx_txn_free(t);
}

/*
 * INVITE server transaction (17.2.1).
 */

static void test_ist_100_after_200ms_and_retransmissions(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_msg *inv = parse_c(invite_text);
	struct sipcx_txn *t = server(inv, 0, T0, &o);
	assert_int_equal(sipcx_txn_kind(t), SIPCX_TXN_IST);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_PROCEEDING);
	assert_int_equal(o.nsend, 0);
	assert_int_equal(o.nev, 1);
	assert_int_equal(o.deadline, T0 + 200 * MS);

	/* The TU was silent for 200 ms: the transaction sends 100 Trying. */
	tick_at(t, T0 + 200 * MS, &o);
	assert_int_equal(o.nev, 0);
	assert_response_sent(&o, 0, 100, false);
	struct sipcx_msg *m = parse_send(&o.send[0]);
	assert_int_equal(sipcx_msg_hdr_count(m, SIPCX_HDR_VIA), 2);
	assert_same(hval(m, SIPCX_HDR_VIA), hval(inv, SIPCX_HDR_VIA));
	assert_int_equal(sipcx_msg_to(m)->tag.len, 0); /* no tag in a 100 */
	assert_same(hval(m, SIPCX_HDR_CALL_ID), hval(inv, SIPCX_HDR_CALL_ID));
	assert_int_equal(sipcx_msg_cseq(m)->num, 314159);
	assert_int_equal(sipcx_msg_cseq_method(m), SIPCX_METHOD_INVITE);
	sipcx_msg_unref(m);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);

	/* A retransmitted INVITE gets the last provisional again. */
	assert_int_equal(sipcx_txn_recv(t, inv, T0 + 500 * MS, &o), 0);
	assert_int_equal(o.nev, 0);
	assert_int_equal(o.nsend, 1);
	assert_response_sent(&o, 0, 100, true);

	respond(t, 180, "alice-uas", T0 + SEC, &o);
	assert_int_equal(o.nev, 0);
	assert_response_sent(&o, 0, 180, false);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_PROCEEDING);
	assert_int_equal(sipcx_txn_recv(t, inv, T0 + 1500 * MS, &o), 0);
	assert_response_sent(&o, 0, 180, true);
	m = parse_send(&o.send[0]);
	assert_str(sipcx_msg_to(m)->tag, "alice-uas");
	sipcx_msg_unref(m);

	sipcx_msg_unref(inv);
	sipcx_txn_free(t);
}

static void test_ist_100_flags(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_msg *inv = parse_c(invite_text);
	/* At once when the TU asks. */
	struct sipcx_txn *t = server(inv, SIPCX_TXN_100_NOW, T0, &o);
	assert_int_equal(o.nsend, 1);
	assert_response_sent(&o, 0, 100, false);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	sipcx_txn_free(t);
	/* Never. */
	t = server(inv, SIPCX_TXN_100_NEVER, T0, &o);
	assert_int_equal(o.nsend, 0);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	assert_int_equal(sipcx_txn_recv(t, inv, T0 + SEC, &o), 0);
	assert_quiet(&o); /* nothing to resend yet */
	sipcx_txn_free(t);
	/* The TU answers within 200 ms: no 100. */
	t = server(inv, 0, T0, &o);
	respond(t, 180, "x", T0 + 150 * MS, &o);
	assert_response_sent(&o, 0, 180, false);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	assert_int_equal(sipcx_txn_tick(t, T0 + SEC, &o), 0);
	assert_quiet(&o);
	sipcx_txn_free(t);
	sipcx_msg_unref(inv);
}

static void test_ist_timer_g_h(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_msg *inv = parse_c(invite_text);
	struct sipcx_txn *t = server(inv, SIPCX_TXN_100_NEVER, T0, &o);
	uint64_t now = T0 + SEC;
	respond(t, 486, "uas", now, &o);
	assert_response_sent(&o, 0, 486, false);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_COMPLETED);
	assert_int_equal(o.deadline, now + 500 * MS);
	/* Timer G: T1 doubling up to T2. */
	const uint64_t ival[] = { 500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000 };
	uint64_t at = 0;
	for (size_t i = 0; i < N_ELEMS(ival); i++) {
		at += ival[i] * MS;
		tick_at(t, now + at, &o);
		assert_int_equal(o.nev, 0);
		assert_int_equal(o.nsend, 1);
		assert_response_sent(&o, 0, 486, true);
	}
	/* Timer H = 64*T1 after the response: no ACK, tell the TU. */
	tick_at(t, now + 32 * SEC, &o);
	assert_int_equal(o.nsend, 0);
	assert_events(&o, 2, SIPCX_TXN_EV_TIMEOUT, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.ev[0].err, -ETIMEDOUT);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	sipcx_msg_unref(inv);
	sipcx_txn_free(t);
}

static void test_ist_ack_confirmed_timer_i(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_msg *inv = parse_c(invite_text);
	struct sipcx_txn *t = server(inv, SIPCX_TXN_100_NOW, T0, &o);
	uint64_t now = T0 + SEC;
	respond(t, 404, "uas", now, &o);
	/* A retransmitted INVITE in Completed: the final response again. */
	assert_int_equal(sipcx_txn_recv(t, inv, now + 100 * MS, &o), 0);
	assert_int_equal(o.nev, 0);
	assert_response_sent(&o, 0, 404, true);

	/* The ACK the client transaction builds for it. */
	struct sipcx_txn_out co;
	struct sipcx_txn *c = client(invite_text, 0, &co);
	struct sipcx_msg *r404 = parse(o.send[0].p, o.send[0].len);
	assert_int_equal(sipcx_txn_recv(c, r404, T0 + 100 * MS, &co), 0);
	struct sipcx_msg *ack = parse_send(&co.send[0]);
	assert_true(sipcx_txn_match(t, ack));

	assert_int_equal(sipcx_txn_recv(t, ack, now + 200 * MS, &o), 0);
	assert_quiet(&o);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_CONFIRMED);
	/* Timer I = T4; G and H are off; ACK retransmissions are absorbed. */
	assert_int_equal(o.deadline, now + 200 * MS + 5 * SEC);
	assert_int_equal(sipcx_txn_recv(t, ack, now + 300 * MS, &o), 0);
	assert_quiet(&o);
	assert_int_equal(sipcx_txn_recv(t, inv, now + 400 * MS, &o), 0);
	assert_quiet(&o);
	tick_at(t, now + 200 * MS + 5 * SEC, &o);
	assert_events(&o, 1, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.nsend, 0);

	sipcx_msg_unref(ack);
	sipcx_msg_unref(r404);
	sipcx_txn_free(c);
	sipcx_msg_unref(inv);
	sipcx_txn_free(t);
}

static void test_ist_reliable(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_msg *inv = parse_c(invite_text);
	struct sipcx_msg *ack =
	    parse_edit(invite_text, "INVITE sip", "ACK sip", "314159 INVITE", "314159 ACK");
	struct sipcx_txn *t = server(inv, SIPCX_TXN_RELIABLE | SIPCX_TXN_100_NEVER, T0, &o);
	respond(t, 603, "uas", T0 + SEC, &o);
	/* No Timer G: the next deadline is H. */
	assert_int_equal(o.deadline, T0 + 33 * SEC);
	assert_int_equal(sipcx_txn_recv(t, ack, T0 + 2 * SEC, &o), 0);
	/* Timer I = 0. */
	assert_events(&o, 1, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	sipcx_msg_unref(ack);
	sipcx_msg_unref(inv);
	sipcx_txn_free(t);
}

static void test_ist_2xx_accepted_timer_l(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_msg *inv = parse_c(invite_text);
	/* The ACK of a 2xx: a new branch, found by the dialog layer and fed here. */
	struct sipcx_msg *ack = parse_edit(
	    invite_text,
	    "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds",
	    "ACK sip:bob@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnewack",
	    "314159 INVITE", "314159 ACK");
	struct sipcx_txn *t = server(inv, SIPCX_TXN_100_NEVER, T0, &o);
	assert_false(sipcx_txn_match(t, ack));
	uint64_t now = T0 + SEC;
	respond(t, 200, "uas", now, &o);
	assert_response_sent(&o, 0, 200, false);
	assert_int_equal(o.nev, 0);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_ACCEPTED);
	assert_int_equal(o.deadline, now + 500 * MS);
	/* Retransmitted INVITEs are absorbed in Accepted. */
	assert_int_equal(sipcx_txn_recv(t, inv, now + 100 * MS, &o), 0);
	assert_quiet(&o);
	/* 2xx resends for the TU (13.3.1.4): 0.5, 1.5, 3.5, 7.5 s. */
	const uint64_t at[] = { 500 * MS, 1500 * MS, 3500 * MS, 7500 * MS };
	for (size_t i = 0; i < N_ELEMS(at); i++) {
		tick_at(t, now + at[i], &o);
		assert_response_sent(&o, 0, 200, true);
		assert_int_equal(o.nev, 0);
	}
	/* A non-2xx cannot follow a 2xx. */
	size_t len;
	char *p = reply_bytes(inv, 500, "uas", &len);
	assert_int_equal(sipcx_txn_respond(t, p, len, now + 8 * SEC, &o), -EPROTO);
	sipcx_free(p);

	/* The ACK: to the TU, resends stop, Timer L stays. */
	assert_int_equal(sipcx_txn_recv(t, ack, now + 9 * SEC, &o), 0);
	assert_events(&o, 1, SIPCX_TXN_EV_ACK);
	assert_ptr_equal(o.ev[0].msg, ack);
	assert_int_equal(o.nsend, 0);
	assert_int_equal(o.deadline, now + 32 * SEC);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_ACCEPTED);
	tick_at(t, now + 32 * SEC, &o);
	assert_events(&o, 1, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.nsend, 0);
	sipcx_txn_free(t);

	/* No ACK at all: resends until Timer L, which reports a timeout. */
	t = server(inv, SIPCX_TXN_100_NEVER, T0, &o);
	respond(t, 200, "uas", now, &o);
	size_t resends = 0;
	while (sipcx_txn_state(t) != SIPCX_TXN_TERMINATED) {
		uint64_t d = sipcx_txn_deadline(t);
		assert_true(d <= now + 32 * SEC);
		assert_int_equal(sipcx_txn_tick(t, d, &o), 0);
		resends += o.nsend;
	}
	assert_int_equal(resends, 10); /* 0.5 1.5 3.5 7.5 11.5 ... 31.5 */
	assert_events(&o, 2, SIPCX_TXN_EV_TIMEOUT, SIPCX_TXN_EV_TERMINATED);
	sipcx_txn_free(t);

	/* On TCP too: 2xx reliability is end to end (13.3.1.4), a proxy may use UDP on. */
	t = server(inv, SIPCX_TXN_100_NEVER | SIPCX_TXN_RELIABLE, T0, &o);
	respond(t, 200, "uas", now, &o);
	assert_int_equal(o.deadline, now + 500 * MS);
	tick_at(t, now + 500 * MS, &o);
	assert_response_sent(&o, 0, 200, true);
	sipcx_txn_free(t);

	/* SIPCX_TXN_TU_2XX: the TU resends; more 2xx pass; Timer L is quiet. */
	t = server(inv, SIPCX_TXN_100_NEVER | SIPCX_TXN_TU_2XX | SIPCX_TXN_RELIABLE, T0, &o);
	respond(t, 200, "uas", now, &o);
	assert_int_equal(o.deadline, now + 32 * SEC);
	respond_req(t, inv, 200, "uas", now + SEC, &o);
	assert_response_sent(&o, 0, 200, false);
	tick_at(t, now + 32 * SEC, &o);
	assert_events(&o, 1, SIPCX_TXN_EV_TERMINATED);
	sipcx_txn_free(t);

	sipcx_msg_unref(ack);
	sipcx_msg_unref(inv);
}

/*
 * Non-INVITE server transaction (17.2.2).
 */

static void test_nist(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_msg *req = parse_c(options_text);
	struct sipcx_txn *t = server(req, 0, T0, &o);
	assert_int_equal(sipcx_txn_kind(t), SIPCX_TXN_NIST);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_TRYING);
	assert_int_equal(o.nsend, 0);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	/* Trying: a retransmission has no answer yet. */
	assert_int_equal(sipcx_txn_recv(t, req, T0 + 500 * MS, &o), 0);
	assert_quiet(&o);

	respond(t, 100, "", T0 + 600 * MS, &o);
	assert_response_sent(&o, 0, 100, false);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_PROCEEDING);
	assert_int_equal(sipcx_txn_recv(t, req, T0 + 1500 * MS, &o), 0);
	assert_response_sent(&o, 0, 100, true);

	uint64_t now = T0 + 2 * SEC;
	respond(t, 200, "uas", now, &o);
	assert_response_sent(&o, 0, 200, false);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_COMPLETED);
	assert_int_equal(o.deadline, now + 32 * SEC); /* Timer J = 64*T1 */
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(sipcx_txn_recv(t, req, now + (uint64_t)i * SEC, &o), 0);
		assert_int_equal(o.nev, 0);
		assert_response_sent(&o, 0, 200, true);
		struct sipcx_msg *m = parse_send(&o.send[0]);
		assert_str(sipcx_msg_to(m)->tag, "uas");
		assert_int_equal(sipcx_msg_cseq_method(m), SIPCX_METHOD_OPTIONS);
		sipcx_msg_unref(m);
	}
	/* One final response only. */
	size_t len;
	char *p = reply_bytes(req, 404, "uas", &len);
	assert_int_equal(sipcx_txn_respond(t, p, len, now + 4 * SEC, &o), -EPROTO);
	assert_quiet(&o);
	sipcx_free(p);

	tick_at(t, now + 32 * SEC, &o);
	assert_events(&o, 1, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.nsend, 0);
	sipcx_txn_free(t);

	/* Reliable: Timer J = 0. */
	t = server(req, SIPCX_TXN_RELIABLE, T0, &o);
	respond(t, 200, "uas", T0, &o);
	assert_response_sent(&o, 0, 200, false);
	assert_events(&o, 1, SIPCX_TXN_EV_TERMINATED);
	sipcx_txn_free(t);
	sipcx_msg_unref(req);
}

/*
 * CANCEL (9.1, 9.2): building it, matching it, 200 to it and 487 to the INVITE.
 */

static void test_cancel_build_and_487(void **state)
{
	(void)state;
	struct sipcx_txn_out o, so;
	struct sipcx_txn *ict = client(invite_text, 0, &o);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_txn_print_cancel(&b, ict), 0);
	struct sipcx_msg *cancel = parse(b.p, b.len);
	struct sipcx_msg *inv = parse_c(invite_text);
	assert_int_equal(cancel->method, SIPCX_METHOD_CANCEL);
	assert_same(cancel->ruri, inv->ruri);
	assert_int_equal(sipcx_msg_hdr_count(cancel, SIPCX_HDR_VIA), 1);
	assert_str(hval(cancel, SIPCX_HDR_VIA),
	           "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport");
	assert_int_equal(sipcx_msg_hdr_count(cancel, SIPCX_HDR_ROUTE), 2);
	assert_same(hval(cancel, SIPCX_HDR_FROM), hval(inv, SIPCX_HDR_FROM));
	assert_same(hval(cancel, SIPCX_HDR_TO), hval(inv, SIPCX_HDR_TO));
	assert_same(hval(cancel, SIPCX_HDR_CALL_ID), hval(inv, SIPCX_HDR_CALL_ID));
	assert_int_equal(sipcx_msg_cseq(cancel)->num, 314159);
	assert_int_equal(sipcx_msg_cseq_method(cancel), SIPCX_METHOD_CANCEL);
	assert_int_equal(cancel->body.len, 0);
	struct sipcx_msg_verdict v;
	assert_int_equal(sipcx_msg_check(cancel, 0, &v), SIPCX_MSG_ACCEPT);

	/* Only an ICT can build a CANCEL. */
	struct sipcx_txn *nict = client(options_text, 0, &o);
	size_t before = b.len;
	assert_int_equal(sipcx_txn_print_cancel(&b, nict), -EINVAL);
	assert_int_equal(b.len, before);
	sipcx_txn_free(nict);

	/* The CANCEL's own NICT: a response to it does not match the INVITE. */
	struct sipcx_txn *cct = NULL;
	assert_int_equal(sipcx_txn_client_new(&cct, b.p, b.len, NULL, T0 + SEC, &o), 0);
	assert_int_equal(sipcx_txn_kind(cct), SIPCX_TXN_NICT);
	struct sipcx_txn_table *tab;
	assert_int_equal(sipcx_txn_table_new(&tab), 0);
	assert_int_equal(sipcx_txn_table_add(tab, ict), 0);
	assert_int_equal(sipcx_txn_table_add(tab, cct), 0);

	/* The server side: the INVITE's IST and the CANCEL's NIST. */
	struct sipcx_txn *ist = server(inv, SIPCX_TXN_100_NOW, T0, &so);
	assert_int_equal(sipcx_txn_table_add(tab, ist), 0);
	assert_null(sipcx_txn_table_match(tab, cancel)); /* CANCEL has no transaction yet */
	assert_ptr_equal(sipcx_txn_table_find_cancelled(tab, cancel), ist);
	assert_true(sipcx_txn_match_cancel(ist, cancel));
	assert_false(sipcx_txn_match(ist, cancel));
	struct sipcx_txn *nist = server(cancel, 0, T0 + SEC, &so);
	assert_int_equal(sipcx_txn_table_add(tab, nist), 0);
	assert_ptr_equal(sipcx_txn_table_match(tab, cancel), nist);
	assert_ptr_equal(sipcx_txn_table_match(tab, inv), ist);
	assert_ptr_equal(sipcx_txn_table_find_cancelled(tab, cancel), ist);
	/* The CANCEL's NIST cancels nothing itself. */
	assert_false(sipcx_txn_match_cancel(nist, cancel));

	/* 200 to the CANCEL, 487 to the INVITE. */
	respond(nist, 200, "uas", T0 + SEC, &so);
	struct sipcx_msg *c200 = parse_send(&so.send[0]);
	respond(ist, 487, "uas", T0 + SEC, &so);
	assert_response_sent(&so, 0, 487, false);
	assert_int_equal(sipcx_txn_state(ist), SIPCX_TXN_COMPLETED);
	struct sipcx_msg *r487 = parse_send(&so.send[0]);
	assert_int_equal(sipcx_msg_cseq_method(r487), SIPCX_METHOD_INVITE);

	/* Client side: each response finds its own transaction. */
	assert_ptr_equal(sipcx_txn_table_match(tab, c200), cct);
	assert_ptr_equal(sipcx_txn_table_match(tab, r487), ict);
	assert_false(sipcx_txn_match(ict, c200));
	assert_false(sipcx_txn_match(cct, r487));
	assert_int_equal(sipcx_txn_recv(cct, c200, T0 + SEC, &o), 0);
	assert_events(&o, 1, SIPCX_TXN_EV_RESPONSE);
	/* The ICT has been waiting since T0: Timer A resends first. */
	assert_int_equal(sipcx_txn_recv(ict, r487, T0 + SEC, &o), 0);
	assert_int_equal(o.nsend, 2);
	assert_int_equal(o.send[0].kind, SIPCX_TXN_SEND_REQUEST);
	assert_true(o.send[0].retransmission);
	/* Its bytes stay valid for this output although the 487 released the request. */
	assert_int_equal(o.send[0].len, strlen(invite_text));
	assert_memory_equal(o.send[0].p, invite_text, o.send[0].len);
	assert_int_equal(o.send[1].kind, SIPCX_TXN_SEND_ACK);
	assert_events(&o, 1, SIPCX_TXN_EV_RESPONSE);
	struct sipcx_msg *ack = parse_send(&o.send[1]);
	/* The ACK for the 487 finds the IST and confirms it. */
	assert_ptr_equal(sipcx_txn_table_match(tab, ack), ist);
	assert_int_equal(sipcx_txn_recv(ist, ack, T0 + SEC, &so), 0);
	assert_int_equal(sipcx_txn_state(ist), SIPCX_TXN_CONFIRMED);

	assert_int_equal(sipcx_txn_table_count(tab), 4);
	sipcx_txn_free(ist);
	assert_int_equal(sipcx_txn_table_count(tab), 3);
	assert_null(sipcx_txn_table_match(tab, ack));
	sipcx_msg_unref(ack);
	sipcx_msg_unref(r487);
	sipcx_msg_unref(c200);
	sipcx_txn_free(nist);
	sipcx_txn_free(cct);
	sipcx_txn_table_free(tab);
	sipcx_txn_free(ict); /* after its table: it was unlinked */
	sipcx_msg_unref(inv);
	sipcx_msg_unref(cancel);
	sipcx_buf_free(&b);
}

/*
 * Matching (17.1.3, 17.2.3).
 */

static void test_match_client(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn *t = client(invite_text, 0, &o);
	struct sipcx_msg *ok = reply(sipcx_txn_request(t), 180, "a");
	assert_true(sipcx_txn_match(t, ok));
	uint32_t h = 0;
	assert_int_equal(sipcx_txn_msg_hash(ok, &h), 0);
	assert_int_equal(h, sipcx_txn_hash(t));
	/* Another branch, another CSeq method: no. */
	struct sipcx_msg *m = edit_msg(ok, "branch=z9hG4bK776asdhds", "branch=z9hG4bK776asdhdX");
	assert_false(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	m = edit_msg(ok, "314159 INVITE", "314159 CANCEL");
	assert_false(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	/* The branch is compared byte-exact, the sent-by is not looked at (17.1.3). */
	m = edit_msg(ok, "10.0.0.1:5060", "192.0.2.7:5070");
	assert_true(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	/* A request never matches a client transaction. */
	m = parse_c(invite_text);
	assert_false(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	sipcx_msg_unref(ok);
	sipcx_txn_free(t);
}

static void test_match_server(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_msg *inv = parse_c(invite_text);
	struct sipcx_txn *t = server(inv, SIPCX_TXN_100_NEVER, T0, &o);
	uint32_t h = 0;
	assert_int_equal(sipcx_txn_msg_hash(inv, &h), 0);
	assert_int_equal(h, sipcx_txn_hash(t));
	assert_true(sipcx_txn_match(t, inv));

	/* Same branch, other sent-by (host or port): another transaction. */
	struct sipcx_msg *m =
	    parse_edit(invite_text, "10.0.0.1:5060;branch", "10.0.0.2:5060;branch");
	assert_false(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	m = parse_edit(invite_text, "10.0.0.1:5060;branch", "10.0.0.1:5062;branch");
	assert_false(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	/* Host case does not matter. */
	struct sipcx_msg *mi = parse_edit(options_text, "10.0.0.1:5060", "Host.Example:5060");
	struct sipcx_txn *ti = server(mi, 0, T0, &o);
	sipcx_msg_unref(mi);
	mi = parse_edit(options_text, "10.0.0.1:5060", "host.example:5060");
	assert_true(sipcx_txn_match(ti, mi));
	sipcx_msg_unref(mi);
	sipcx_txn_free(ti);
	/* Same branch, other method: no (but ACK matches its INVITE). */
	m = parse_edit(invite_text, "INVITE sip:bob@example.com", "OPTIONS sip:bob@example.com");
	assert_false(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	m = parse_edit(invite_text, "INVITE sip:bob@example.com", "ACK sip:bob@example.com",
	               "314159 INVITE", "314159 ACK");
	assert_true(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	/* A response never matches a server transaction. */
	m = reply(inv, 200, "x");
	assert_false(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	/* An ACK does not match a NIST. */
	struct sipcx_msg *opt = parse_c(options_text);
	struct sipcx_txn *nt = server(opt, 0, T0, &o);
	m = parse_edit(options_text, "OPTIONS sip", "ACK sip", "2 OPTIONS", "2 ACK");
	assert_false(sipcx_txn_match(nt, m));
	assert_int_equal(sipcx_txn_recv(nt, m, T0, &o), -EINVAL);
	sipcx_msg_unref(m);
	sipcx_txn_free(nt);
	sipcx_msg_unref(opt);
	/* Terminated transactions match nothing. */
	assert_int_equal(sipcx_txn_transport_error(t, -EPIPE, T0, &o), 0);
	assert_false(sipcx_txn_match(t, inv));
	sipcx_txn_free(t);
	sipcx_msg_unref(inv);
}

static void test_match_rfc2543(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_msg *inv = parse_c(invite_2543_text);
	struct sipcx_txn *t = server(inv, SIPCX_TXN_100_NEVER, T0, &o);
	struct sipcx_txn_table *tab;
	assert_int_equal(sipcx_txn_table_new(&tab), 0);
	assert_int_equal(sipcx_txn_table_add(tab, t), 0);
	assert_int_equal(sipcx_txn_table_add(tab, t), -EEXIST);
	uint32_t h;
	assert_int_equal(sipcx_txn_msg_hash(inv, &h), 0);
	assert_int_equal(h, sipcx_txn_hash(t));

	/* A retransmission matches; any field changed does not. */
	assert_ptr_equal(sipcx_txn_table_match(tab, inv), t);
	static const char *const edits[][2] = {
		{ "CSeq: 7 INVITE", "CSeq: 8 INVITE" },
		{ "tag=d1", "tag=d2" },
		{ "2543-call@", "2543-calm@" },
		{ "INVITE sip:carol@example.org", "INVITE sip:carol@example.net" },
		{ "old.example.org:5060\r\n", "old.example.org:5061\r\n" },
		{ "old.example.org:5060\r\n", "old.example.org:5060;received=192.0.2.1\r\n" },
		{ "To: <sip:carol@example.org>", "To: <sip:carol@example.org>;tag=zz" },
	};
	for (size_t i = 0; i < N_ELEMS(edits); i++) {
		struct sipcx_msg *m = parse_edit(invite_2543_text, edits[i][0], edits[i][1]);
		if (sipcx_txn_match(t, m))
			fail_msg("edit %zu matched", i);
		sipcx_msg_unref(m);
	}
	/* An equivalent Request-URI (19.1.4: host case) still matches. */
	struct sipcx_msg *m = parse_edit(invite_2543_text, "INVITE sip:carol@example.org",
	                                 "INVITE sip:carol@EXAMPLE.org");
	assert_true(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	/* A cookie branch never matches a 2543 transaction. */
	m = parse_edit(invite_2543_text, "old.example.org:5060\r\n",
	               "old.example.org:5060;branch=z9hG4bKx\r\n");
	assert_false(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);

	/* The ACK matches by the To tag of the final response sent. */
	struct sipcx_msg *ack_early =
	    parse_edit(invite_2543_text, "INVITE sip:carol@example.org SIP/2.0",
	               "ACK sip:carol@example.org SIP/2.0");
	assert_null(sipcx_txn_table_match(tab, ack_early)); /* nothing sent yet */
	sipcx_msg_unref(ack_early);
	respond(t, 404, "srvtag", T0 + SEC, &o);
	const char *ack_text = "ACK sip:carol@example.org SIP/2.0\r\n"
	                       "Via: SIP/2.0/UDP old.example.org:5060\r\n"
	                       "To: <sip:carol@example.org>;tag=srvtag\r\n"
	                       "From: <sip:dave@example.org>;tag=d1\r\n"
	                       "Call-ID: 2543-call@old.example.org\r\n"
	                       "CSeq: 7 ACK\r\n"
	                       "Content-Length: 0\r\n"
	                       "\r\n";
	struct sipcx_msg *ack = parse_c(ack_text);
	assert_int_equal(sipcx_txn_msg_hash(ack, &h), 0);
	assert_int_equal(h, sipcx_txn_hash(t));
	assert_ptr_equal(sipcx_txn_table_match(tab, ack), t);
	struct sipcx_msg *bad_ack = parse_edit(ack_text, "tag=srvtag", "tag=other");
	assert_null(sipcx_txn_table_match(tab, bad_ack));
	sipcx_msg_unref(bad_ack);
	/* The INVITE with no To tag still matches after the response. */
	assert_ptr_equal(sipcx_txn_table_match(tab, inv), t);

	/* A 2543 CANCEL: its own transaction; it finds the INVITE by 2543 rules. */
	struct sipcx_msg *cancel = parse_edit(invite_2543_text, "CSeq: 7 INVITE", "CSeq: 7 CANCEL",
	                                      "INVITE sip", "CANCEL sip");
	assert_null(sipcx_txn_table_match(tab, cancel));
	assert_ptr_equal(sipcx_txn_table_find_cancelled(tab, cancel), t);

	assert_int_equal(sipcx_txn_recv(t, ack, T0 + 2 * SEC, &o), 0);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_CONFIRMED);
	sipcx_msg_unref(cancel);
	sipcx_msg_unref(ack);
	sipcx_txn_table_free(tab);
	sipcx_txn_free(t);
	sipcx_msg_unref(inv);
}

static void test_table_many(void **state)
{
	(void)state;
	enum { N = 1000 };
	struct sipcx_txn_table *tab;
	assert_int_equal(sipcx_txn_table_new(&tab), 0);
	struct sipcx_txn **ts = calloc(N, sizeof(*ts));
	char branches[N][SIPCX_TXN_BRANCH_SIZE];
	struct sipcx_txn_out o;
	for (int i = 0; i < N; i++) {
		sipcx_txn_gen_branch(branches[i]);
		char text[512];
		snprintf(
		    text, sizeof(text),
		    "OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=%s\r\n"
		    "To: <sip:x@example.com>\r\nFrom: <sip:y@example.com>;tag=f\r\n"
		    "Call-ID: c%d\r\nCSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n",
		    branches[i], i, i + 1);
		assert_int_equal(sipcx_txn_client_new(&ts[i], text, strlen(text), NULL, T0, &o), 0);
		assert_int_equal(sipcx_txn_table_add(tab, ts[i]), 0);
	}
	assert_int_equal(sipcx_txn_table_count(tab), N);
	/* Every response finds its own transaction. */
	for (int i = 0; i < N; i++) {
		struct sipcx_msg *r = reply(sipcx_txn_request(ts[i]), 200, "t");
		assert_ptr_equal(sipcx_txn_table_match(tab, r), ts[i]);
		sipcx_msg_unref(r);
	}
	/* Iteration visits each once. */
	size_t seen = 0;
	for (struct sipcx_txn *t = sipcx_txn_table_next(tab, NULL); t;
	     t = sipcx_txn_table_next(tab, t))
		seen++;
	assert_int_equal(seen, N);
	/* Remove half by free, the rest by emptying. */
	for (int i = 0; i < N; i += 2)
		sipcx_txn_free(ts[i]);
	assert_int_equal(sipcx_txn_table_count(tab), N / 2);
	struct sipcx_txn *t;
	while ((t = sipcx_txn_table_next(tab, NULL)))
		sipcx_txn_free(t);
	assert_int_equal(sipcx_txn_table_count(tab), 0);
	sipcx_txn_table_free(tab);
	free(ts);
}

/* An OPTIONS as a load generator sends it (SIPp's uac_options.xml), number i. */
static int load_options(char *out, size_t n, int i)
{
	return snprintf(out, n,
	                "OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\n"
	                "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-%d-0;rport\r\n"
	                "Max-Forwards: 70\r\n"
	                "From: <sip:ping@127.0.0.1:5061>;tag=4242SIPpTag00%d\r\n"
	                "To: <sip:127.0.0.1:5060>\r\n"
	                "Call-ID: %d-4242@127.0.0.1\r\n"
	                "CSeq: 1 OPTIONS\r\n"
	                "Accept: application/sdp\r\n"
	                "Content-Length: 0\r\n\r\n",
	                i, i, i);
}

/*
 * Growing moves chains a few buckets at a time: every operation in
 * between (match, merge lookup, removal, iteration) must see each
 * transaction exactly once, in whichever bucket generation it is.
 */
/* Iterate tab: each transaction of ts (NULL: removed) comes exactly once. */
static void check_iteration(struct sipcx_txn_table *tab, struct sipcx_txn **ts, unsigned char *seen,
                            int n)
{
	memset(seen, 0, (size_t)n);
	size_t count = 0;
	for (struct sipcx_txn *t = sipcx_txn_table_next(tab, NULL); t;
	     t = sipcx_txn_table_next(tab, t)) {
		unsigned char *mark = sipcx_txn_user(t);
		assert_int_equal(*mark, 0);
		*mark = 1;
		count++;
	}
	assert_int_equal(count, sipcx_txn_table_count(tab));
	for (int i = 0; i < n; i++)
		assert_int_equal(seen[i], ts[i] != NULL);
}

static void test_table_growth_in_steps(void **state)
{
	(void)state;
	/*
	 * 2048 fills 2048 buckets: the next insert doubles them, and the 100
	 * after it move 400 of the 2048 old ones (4 per insert). So what
	 * follows runs with both generations live.
	 */
	enum { N = 2048 + 1 + 100 };
	struct sipcx_txn_table *tab;
	assert_int_equal(sipcx_txn_table_new(&tab), 0);
	struct sipcx_txn **ts = calloc(N, sizeof(*ts));
	struct sipcx_msg **reqs = calloc(N, sizeof(*reqs));
	unsigned char *seen = calloc(N, 1);
	assert_non_null(ts);
	assert_non_null(reqs);
	assert_non_null(seen);
	struct sipcx_txn_out o;
	char text[1024];
	for (int i = 0; i < N; i++) {
		load_options(text, sizeof(text), i);
		reqs[i] = parse_c(text);
		assert_int_equal(sipcx_txn_server_new(&ts[i], reqs[i], NULL, T0, &o), 0);
		sipcx_txn_set_user(ts[i], &seen[i]);
		assert_int_equal(sipcx_txn_table_add(tab, ts[i]), 0);
		/* After each insert (a move may be under way), some earlier ones are still found. */
		for (int j = i; j >= 0; j -= 257)
			assert_ptr_equal(sipcx_txn_table_match(tab, reqs[j]), ts[j]);
		if (i % 2)
			respond(ts[i], 200, "t", T0, &o); /* half Completed, their requests gone */
	}
	for (int i = 0; i < N; i++) {
		assert_ptr_equal(sipcx_txn_table_match(tab, reqs[i]), ts[i]);
		/* The same request by another path: merged, found by its merge key. */
		struct sipcx_msg *m = edit_msg(reqs[i], "branch=z9hG4bK-", "branch=z9hG4bKx-");
		assert_ptr_equal(sipcx_txn_table_find_merged(tab, m), ts[i]);
		sipcx_msg_unref(m);
	}
	check_iteration(tab, ts, seen, N);
	/* Remove a third (each removal moves buckets too, to the end of the move). */
	for (int i = 0; i < N; i += 3) {
		sipcx_txn_free(ts[i]);
		ts[i] = NULL;
		if (i % 300 == 0)
			check_iteration(tab, ts, seen, N);
	}
	check_iteration(tab, ts, seen, N);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(sipcx_txn_table_match(tab, reqs[i]), ts[i]);
	/* Empty it through the iterator, as the ua does at shutdown. */
	struct sipcx_txn *t;
	while ((t = sipcx_txn_table_next(tab, NULL)))
		sipcx_txn_free(t);
	assert_int_equal(sipcx_txn_table_count(tab), 0);
	sipcx_txn_table_free(tab);
	for (int i = 0; i < N; i++)
		sipcx_msg_unref(reqs[i]);
	free(seen);
	free(reqs);
	free(ts);
}

static void test_branch(void **state)
{
	(void)state;
	char a[SIPCX_TXN_BRANCH_SIZE], b[SIPCX_TXN_BRANCH_SIZE];
	sipcx_txn_gen_branch(a);
	sipcx_txn_gen_branch(b);
	assert_int_equal(strlen(a), SIPCX_TXN_BRANCH_SIZE - 1);
	assert_memory_equal(a, "z9hG4bK", 7);
	for (size_t i = 7; i < strlen(a); i++)
		assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'z'));
	assert_string_not_equal(a, b);
}

/*
 * Transport errors (17.1.4, 17.2.4) and bad input.
 */

static void test_transport_error(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn *t = client(invite_text, 0, &o);
	assert_int_equal(sipcx_txn_transport_error(t, -ECONNREFUSED, T0, &o), 0);
	assert_int_equal(o.nsend, 0);
	assert_events(&o, 2, SIPCX_TXN_EV_TRANSPORT_ERROR, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.ev[0].err, -ECONNREFUSED);
	assert_int_equal(o.deadline, SIPCX_TXN_NEVER);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_TERMINATED);
	/* Once only. */
	assert_int_equal(sipcx_txn_transport_error(t, -ECONNREFUSED, T0, &o), 0);
	assert_quiet(&o);
	sipcx_txn_free(t);

	t = client(options_text, 0, &o);
	assert_int_equal(sipcx_txn_tick(t, T0 + 500 * MS, &o), 0);
	assert_int_equal(sipcx_txn_transport_error(t, -EHOSTUNREACH, T0 + 500 * MS, &o), 0);
	assert_events(&o, 2, SIPCX_TXN_EV_TRANSPORT_ERROR, SIPCX_TXN_EV_TERMINATED);
	assert_int_equal(o.ev[0].err, -EHOSTUNREACH);
	sipcx_txn_free(t);

	struct sipcx_msg *inv = parse_c(invite_text);
	t = server(inv, SIPCX_TXN_100_NEVER, T0, &o);
	respond(t, 486, "x", T0, &o);
	assert_int_equal(sipcx_txn_transport_error(t, -EPIPE, T0, &o), 0);
	assert_events(&o, 2, SIPCX_TXN_EV_TRANSPORT_ERROR, SIPCX_TXN_EV_TERMINATED);
	/* Nothing more to say after that. */
	assert_int_equal(sipcx_txn_respond(t, "SIP/2.0 486 Busy\r\n\r\n", 20, T0, &o), -EPROTO);
	assert_int_equal(sipcx_txn_tick(t, T0 + 100 * SEC, &o), 0);
	assert_quiet(&o);
	sipcx_txn_free(t);
	sipcx_msg_unref(inv);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	static char sentinel;
	struct sipcx_txn *const untouched = (struct sipcx_txn *)(void *)&sentinel;
	struct sipcx_txn *t = untouched; /* must stay untouched on failure */
	assert_int_equal(sipcx_txn_client_new(&t, "garbage", 7, NULL, T0, &o), -EBADMSG);
	assert_ptr_equal(t, untouched);
	assert_int_equal(sipcx_txn_client_new(&t, NULL, 0, NULL, T0, &o), -EINVAL);
	assert_int_equal(sipcx_txn_client_new(&t, invite_text, strlen(invite_text), NULL, T0, NULL),
	                 -EINVAL);
	/* ACK never makes a transaction; a request without branch is refused. */
	struct sipcx_msg *ack =
	    parse_edit(invite_text, "INVITE sip", "ACK sip", "314159 INVITE", "314159 ACK");
	assert_int_equal(sipcx_txn_client_new(&t, ack->raw.p, ack->raw.len, NULL, T0, &o), -EINVAL);
	assert_int_equal(sipcx_txn_server_new(&t, ack, NULL, T0, &o), -EINVAL);
	sipcx_msg_unref(ack);
	struct sipcx_msg *nob = parse_edit(options_text, ";branch=z9hG4bKopt1", "");
	assert_int_equal(sipcx_txn_client_new(&t, nob->raw.p, nob->raw.len, NULL, T0, &o), -EINVAL);
	sipcx_msg_unref(nob);
	struct sipcx_msg *resp = parse_c("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	                                 "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(sipcx_txn_client_new(&t, resp->raw.p, resp->raw.len, NULL, T0, &o),
	                 -EINVAL);
	assert_int_equal(sipcx_txn_server_new(&t, resp, NULL, T0, &o), -EINVAL);
	assert_ptr_equal(t, untouched);

	/* Wrong direction or wrong status line. */
	t = client(options_text, 0, &o);
	struct sipcx_msg *req = parse_c(options_text);
	assert_int_equal(sipcx_txn_recv(t, req, T0, &o), -EINVAL);
	assert_int_equal(sipcx_txn_respond(t, "SIP/2.0 200 OK\r\n\r\n", 18, T0, &o), -EINVAL);
	sipcx_txn_free(t);
	t = server(req, 0, T0, &o);
	assert_int_equal(sipcx_txn_recv(t, resp, T0, &o), -EINVAL);
	static const char *const bad[] = { "HTTP/1.1 200 OK\r\n\r\n", "SIP/2.0 99 x\r\n\r\n",
		                           "SIP/2.0 700 x\r\n\r\n", "SIP/2.0 2x0 x\r\n\r\n",
		                           "SIP/2.0 200" };
	for (size_t i = 0; i < N_ELEMS(bad); i++)
		assert_int_equal(sipcx_txn_respond(t, bad[i], strlen(bad[i]), T0, &o), -EINVAL);
	assert_int_equal(sipcx_txn_state(t), SIPCX_TXN_TRYING);
	/* A message of the wrong method. */
	struct sipcx_msg *inv = parse_c(invite_text);
	assert_int_equal(sipcx_txn_recv(t, inv, T0, &o), -EINVAL);
	sipcx_txn_free(t);
	/* Matching never crashes on NULL or headerless messages. */
	assert_false(sipcx_txn_match(NULL, inv));
	uint32_t h;
	assert_int_equal(sipcx_txn_msg_hash(NULL, &h), -EINVAL);
	struct sipcx_msg *novia = parse_c("SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\n");
	assert_int_equal(sipcx_txn_msg_hash(novia, &h), -EBADMSG);
	struct sipcx_txn_table *tab;
	assert_int_equal(sipcx_txn_table_new(&tab), 0);
	assert_null(sipcx_txn_table_match(tab, novia));
	assert_null(sipcx_txn_table_find_cancelled(tab, novia));
	assert_null(sipcx_txn_table_next(tab, NULL));
	sipcx_txn_table_free(tab);
	sipcx_msg_unref(novia);
	sipcx_txn_free(NULL);
	sipcx_txn_table_free(NULL);
	assert_string_equal(sipcx_txn_state_name(SIPCX_TXN_ACCEPTED), "Accepted");
	sipcx_msg_unref(inv);
	sipcx_msg_unref(req);
	sipcx_msg_unref(resp);
}

/*
 * A late caller: timers that were due come first in the output, then the
 * input's own sends. When the input replaces the bytes a due timer just
 * sent (the final response releases the request; the TU's final response
 * replaces the automatic 100), those bytes stay valid for that output.
 */
static void test_late_input_keeps_sent_bytes(void **state)
{
	(void)state;
	struct sipcx_txn_out o;

	/* NICT: Timer E due, then the 200: the retransmission and its bytes, then the event. */
	struct sipcx_txn *c = client(options_text, 0, &o);
	struct sipcx_msg *creq = parse_c(options_text);
	struct sipcx_msg *r200 = reply(creq, 200, "b");
	assert_int_equal(sipcx_txn_recv(c, r200, T0 + 600 * MS, &o), 0);
	assert_int_equal(o.nsend, 1);
	assert_true(o.send[0].retransmission);
	assert_int_equal(o.send[0].len, strlen(options_text));
	assert_memory_equal(o.send[0].p, options_text, o.send[0].len);
	assert_events(&o, 1, SIPCX_TXN_EV_RESPONSE);
	assert_null(sipcx_txn_request(c));
	/* The next input frees them; Timer K ends it. */
	assert_int_equal(sipcx_txn_tick(c, T0 + 700 * MS, &o), 0);
	assert_quiet(&o);
	assert_int_equal(sipcx_txn_tick(c, T0 + 600 * MS + 5 * SEC, &o), 0);
	assert_events(&o, 1, SIPCX_TXN_EV_TERMINATED);
	sipcx_txn_free(c);

	/* ICT answered 2xx late: Timer A's resend stays readable. */
	c = client(invite_text, 0, &o);
	struct sipcx_msg *inv = parse_c(invite_text);
	struct sipcx_msg *i200 = reply(inv, 200, "b");
	assert_int_equal(sipcx_txn_recv(c, i200, T0 + 600 * MS, &o), 0);
	assert_int_equal(o.nsend, 1);
	assert_memory_equal(o.send[0].p, invite_text, strlen(invite_text));
	assert_int_equal(sipcx_txn_state(c), SIPCX_TXN_ACCEPTED);
	sipcx_txn_free(c); /* with the stale bytes: no leak */

	/* IST: the 100 was due at 200 ms; the TU answers 486 at 300 ms. */
	struct sipcx_txn *t = server(inv, 0, T0, &o);
	size_t len;
	char *p = reply_bytes(inv, 486, "uas", &len);
	assert_int_equal(sipcx_txn_respond(t, p, len, T0 + 300 * MS, &o), 0);
	assert_int_equal(o.nsend, 2);
	assert_response_sent(&o, 0, 100, false); /* parses the 100's bytes */
	assert_response_sent(&o, 1, 486, false);
	assert_memory_equal(o.send[1].p, p, len);
	sipcx_free(p);
	sipcx_txn_free(t);

	sipcx_msg_unref(i200);
	sipcx_msg_unref(inv);
	sipcx_msg_unref(r200);
	sipcx_msg_unref(creq);
}

/*
 * What a transaction keeps once its request is gone (17.2.2: Completed
 * lasts Timer J, 32 s on UDP): the keys and the last response, nothing
 * else.
 */

/* A byte-counting allocator: each block carries its size in a header. */
#define MEM_HDR 16
static size_t mem_bytes;
static long mem_blocks, mem_allocs;

static void *mem_malloc(size_t size, void *arg)
{
	(void)arg;
	unsigned char *p = malloc(MEM_HDR + size);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	mem_bytes += size;
	mem_blocks++;
	mem_allocs++;
	return p + MEM_HDR;
}

static void mem_free(void *ptr, void *arg)
{
	(void)arg;
	if (!ptr)
		return;
	unsigned char *p = (unsigned char *)ptr - MEM_HDR;
	size_t size;
	memcpy(&size, p, sizeof(size));
	mem_bytes -= size;
	mem_blocks--;
	free(p);
}

static void *mem_realloc(void *ptr, size_t size, void *arg)
{
	if (!ptr)
		return mem_malloc(size, arg);
	unsigned char *p = (unsigned char *)ptr - MEM_HDR;
	size_t old;
	memcpy(&old, p, sizeof(old));
	unsigned char *n = realloc(p, MEM_HDR + size);
	if (!n)
		return NULL;
	memcpy(n, &size, sizeof(size));
	mem_bytes = mem_bytes - old + size;
	mem_allocs++;
	return n + MEM_HDR;
}

static void mem_install(void)
{
	static const struct sipcx_allocator a = { mem_malloc, mem_realloc, mem_free, NULL };
	mem_bytes = 0;
	mem_blocks = mem_allocs = 0;
	sipcx_allocator_set(&a);
}

/* The 200 the ua gives it: 8.2.6 plus Server, Contact, Allow, Accept; received/rport. */
static size_t load_reply(struct sipcx_buf *b, const struct sipcx_msg *req)
{
	static const struct sipcx_hdr ours[] = {
		{ SIPCX_HDR_SERVER, { NULL, 0 }, { "sipcx/0.1.0", 11 } },
		{ SIPCX_HDR_CONTACT, { NULL, 0 }, { "<sip:sipcx@127.0.0.1:5060>", 26 } },
		{ SIPCX_HDR_ALLOW, { NULL, 0 }, { "OPTIONS", 7 } },
		{ SIPCX_HDR_ACCEPT, { NULL, 0 }, { "application/sdp", 15 } },
	};
	b->len = 0;
	assert_int_equal(sipcx_msg_print_reply(b, req, 200, SIPCX_STR_NULL,
	                                       SIPCX_STR("9a8b7c6d5e4f"), ours, N_ELEMS(ours),
	                                       SIPCX_STR_NULL),
	                 0);
	return b->len;
}

static void test_memory_per_completed_nist(void **state)
{
	(void)state;
	enum { N = 10000 };
	struct sipcx_txn **ts = calloc(N, sizeof(*ts));
	static struct sipcx_msg req; /* 6 KB: not on the stack */
	char text[1024];
	struct sipcx_buf b;
	struct sipcx_txn_out o;
	sipcx_buf_init(&b);
	assert_non_null(ts);

	mem_install();
	struct sipcx_txn_table *tab;
	assert_int_equal(sipcx_txn_table_new(&tab), 0);
	/* Every reply is built in b before the count starts: b is the TU's, not ours. */
	assert_true(load_options(text, sizeof(text), N) > 0);
	assert_true(sipcx_msg_parse(&req, text, strlen(text), 0) > 0);
	size_t resp_max = load_reply(&b, &req) + 16;
	assert_int_equal(sipcx_buf_reserve(&b, resp_max), 0);
	size_t bytes0 = mem_bytes;
	long blocks0 = mem_blocks, allocs0 = mem_allocs;

	size_t resp_total = 0;
	for (int i = 0; i < N; i++) {
		int n = load_options(text, sizeof(text), i);
		assert_true(sipcx_msg_parse(&req, text, (size_t)n, 0) > 0);
		assert_int_equal(sipcx_txn_server_new(&ts[i], &req, NULL, T0, &o), 0);
		assert_int_equal(sipcx_txn_table_add(tab, ts[i]), 0);
		size_t len = load_reply(&b, &req);
		resp_total += len;
		assert_int_equal(sipcx_txn_respond(ts[i], b.p, len, T0, &o), 0);
		assert_int_equal(sipcx_txn_state(ts[i]), SIPCX_TXN_COMPLETED);
	}
	size_t per = (mem_bytes - bytes0) / N, resp = resp_total / N;
	long blocks = mem_blocks - blocks0, allocs = mem_allocs - allocs0;
	print_message("%d completed NISTs: %zu bytes each (response %zu bytes), "
	              "%.2f blocks each, %.2f allocations per transaction\n",
	              N, per, resp, (double)blocks / N, (double)allocs / N);
	/*
	 * The bound is the property: the response, the keys (here about 80
	 * bytes), the struct and a share of the table, well under one copy
	 * of the request (struct sipcx_msg alone is several KB).
	 */
	assert_true(per <= resp + 512);
	assert_true(per < sizeof(struct sipcx_msg) / 4);
	/* Two blocks per transaction (itself with its keys, its response) and the table's. */
	assert_true(blocks <= 2 * N + 1);
	/* Three allocations each: the request copy, the transaction, the response. */
	assert_true(allocs <= 3 * N + 16);

	/* Each still matches its retransmission and answers it with its own bytes. */
	for (int i = 0; i < N; i += 997) {
		int n = load_options(text, sizeof(text), i);
		assert_true(sipcx_msg_parse(&req, text, (size_t)n, 0) > 0);
		assert_ptr_equal(sipcx_txn_table_match(tab, &req), ts[i]);
		assert_int_equal(sipcx_txn_recv(ts[i], &req, T0 + SEC, &o), 0);
		assert_int_equal(o.nsend, 1);
		assert_true(o.send[0].retransmission);
		size_t len = load_reply(&b, &req);
		assert_int_equal(o.send[0].len, len);
		assert_memory_equal(o.send[0].p, b.p, len);
	}
	for (int i = 0; i < N; i++)
		sipcx_txn_free(ts[i]);
	sipcx_txn_table_free(tab);
	assert_int_equal(mem_blocks, blocks0 - 2); /* the table and its buckets are gone too */
	sipcx_buf_free(&b); /* from the counting allocator: freed through it */
	assert_int_equal(mem_blocks, 0);
	sipcx_allocator_set(NULL);
	free(ts);
}

/* The request copy is released at the final response; the keys do its work afterwards. */
static void test_released_request(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_txn_table *tab;
	assert_int_equal(sipcx_txn_table_new(&tab), 0);

	/* NIST: the bytes of the final response, again, for every retransmission. */
	struct sipcx_msg *req = parse_c(options_text);
	struct sipcx_txn *t = server(req, 0, T0, &o);
	assert_int_equal(sipcx_txn_table_add(tab, t), 0);
	size_t len;
	char *p = reply_bytes(req, 200, "uas", &len);
	assert_int_equal(sipcx_txn_respond(t, p, len, T0, &o), 0);
	assert_null(sipcx_txn_request(t));
	assert_str(sipcx_txn_branch(t), "z9hG4bKopt1");
	sipcx_msg_unref(req); /* nothing of the caller's message is kept either */
	struct sipcx_msg *again = parse_c(options_text);
	assert_ptr_equal(sipcx_txn_table_match(tab, again), t);
	assert_int_equal(sipcx_txn_recv(t, again, T0 + 5 * SEC, &o), 0);
	assert_int_equal(o.nsend, 1);
	assert_true(o.send[0].retransmission);
	assert_int_equal(o.send[0].len, len);
	assert_memory_equal(o.send[0].p, p, len);
	/* Another sent-by or method with the same branch is still another transaction. */
	struct sipcx_msg *m = parse_edit(options_text, "10.0.0.1:5060", "10.0.0.1:5070");
	assert_false(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	m = parse_edit(options_text, "OPTIONS sip", "INFO sip", "2 OPTIONS", "2 INFO");
	assert_false(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	/* 8.2.2.2: the same From tag, Call-ID and CSeq on another branch is merged... */
	m = parse_edit(options_text, "z9hG4bKopt1", "z9hG4bKopt2");
	assert_ptr_equal(sipcx_txn_table_find_merged(tab, m), t);
	sipcx_msg_unref(m);
	/* ...not the retransmission itself, nor a request with a To tag or another CSeq. */
	assert_null(sipcx_txn_table_find_merged(tab, again));
	m = parse_edit(options_text, "z9hG4bKopt1", "z9hG4bKopt2", "To: <sip:bob@example.com>",
	               "To: <sip:bob@example.com>;tag=x");
	assert_null(sipcx_txn_table_find_merged(tab, m));
	sipcx_msg_unref(m);
	m = parse_edit(options_text, "z9hG4bKopt1", "z9hG4bKopt2", "2 OPTIONS", "3 OPTIONS");
	assert_null(sipcx_txn_table_find_merged(tab, m));
	sipcx_msg_unref(m);
	m = parse_edit(options_text, "z9hG4bKopt1", "z9hG4bKopt2", "tag=77", "tag=78");
	assert_null(sipcx_txn_table_find_merged(tab, m));
	sipcx_msg_unref(m);
	sipcx_msg_unref(again);
	sipcx_free(p);
	sipcx_txn_free(t);

	/* An unknown method: its token is a key too. */
	static const char *const other[] = { "OPTIONS sip", "FOO sip", "2 OPTIONS", "2 FOO" };
	req = parse_edit_list(options_text, 2, other);
	t = server(req, 0, T0, &o);
	respond(t, 501, "uas", T0, &o);
	assert_true(sipcx_txn_match(t, req));
	m = parse_edit(options_text, "OPTIONS sip", "FOX sip", "2 OPTIONS", "2 FOX");
	assert_false(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	sipcx_txn_free(t);
	sipcx_msg_unref(req);

	/* RFC 2543 NIST: matched by its old keys once the request is gone. */
	static const char *const old[] = { ";branch=z9hG4bKopt1", ";branch=old1" };
	req = parse_edit_list(options_text, 1, old);
	t = server(req, 0, T0, &o);
	assert_int_equal(sipcx_txn_table_add(tab, t), 0);
	p = reply_bytes(req, 404, "uas", &len);
	assert_int_equal(sipcx_txn_respond(t, p, len, T0, &o), 0);
	assert_null(sipcx_txn_request(t));
	assert_str(sipcx_txn_branch(t), "old1");
	assert_ptr_equal(sipcx_txn_table_match(tab, req), t);
	assert_int_equal(sipcx_txn_recv(t, req, T0 + SEC, &o), 0);
	assert_int_equal(o.nsend, 1);
	assert_memory_equal(o.send[0].p, p, len);
	static const char *const edits[][2] = {
		{ "2 OPTIONS", "3 OPTIONS" },
		{ "tag=77", "tag=78" },
		{ "opt-1@", "opt-2@" },
		{ "OPTIONS sip:bob@example.com", "OPTIONS sip:bob@example.net" },
		{ "10.0.0.1:5060", "10.0.0.1:5061" },
		{ "SIP/2.0/UDP", "SIP/2.0/TCP" },
		{ "branch=old1", "branch=old2" },
		{ "To: <sip:bob@example.com>", "To: <sip:bob@example.com>;tag=zz" },
	};
	char *old_text = dupz(req->raw);
	for (size_t i = 0; i < N_ELEMS(edits); i++) {
		m = parse_edit(old_text, edits[i][0], edits[i][1]);
		if (sipcx_txn_match(t, m))
			fail_msg("edit %zu matched", i);
		sipcx_msg_unref(m);
	}
	/* 19.1.4: an equal Request-URI written otherwise still matches. */
	m = parse_edit(old_text, "OPTIONS sip:bob@example.com", "OPTIONS sip:bob@EXAMPLE.com");
	assert_true(sipcx_txn_match(t, m));
	sipcx_msg_unref(m);
	free(old_text);
	sipcx_free(p);
	sipcx_txn_free(t);
	sipcx_msg_unref(req);

	/* Clients: the request bytes go with the final response; matching goes on. */
	struct sipcx_txn *c = client(options_text, 0, &o);
	struct sipcx_msg *creq = parse_c(options_text);
	struct sipcx_msg *r200 = reply(creq, 200, "b");
	assert_non_null(sipcx_txn_request(c));
	assert_int_equal(sipcx_txn_recv(c, r200, T0 + 100 * MS, &o), 0);
	assert_null(sipcx_txn_request(c));
	assert_true(sipcx_txn_match(c, r200));
	assert_int_equal(sipcx_txn_recv(c, r200, T0 + 200 * MS, &o), 0);
	assert_quiet(&o); /* Completed absorbs the retransmission (Timer K) */
	assert_str(sipcx_txn_branch(c), "z9hG4bKopt1");
	sipcx_txn_free(c);
	sipcx_msg_unref(r200);
	sipcx_msg_unref(creq);

	sipcx_txn_table_free(tab);
}

/*
 * Out of memory: every allocation fails in turn; each failure returns
 * -ENOMEM, changes nothing and leaks nothing.
 */

/* Run op with the nth allocation failing, n = 1, 2, ... until it succeeds. */
#define OOM_SWEEP(r, op, on_fail)                           \
	for (long n_ = 1;; n_++) {                          \
		long live_ = tu_alloc_live();               \
		tu_alloc_fail_at(n_);                       \
		(r) = (op);                                 \
		int failed_ = tu_alloc_failed();            \
		tu_alloc_fail_at(0);                        \
		if ((r) != -ENOMEM)                         \
			break;                              \
		assert_true(failed_);                       \
		on_fail; /* may release a partial output */ \
		assert_int_equal(tu_alloc_live(), live_);   \
		assert_true(n_ < 50);                       \
	}

static void test_oom(void **state)
{
	(void)state;
	struct sipcx_txn_out o;
	struct sipcx_msg *inv = parse_c(invite_text);
	struct sipcx_msg *inv2543 = parse_c(invite_2543_text);
	tu_alloc_install();
	long live = tu_alloc_live();
	int r;

	struct sipcx_txn *c = NULL;
	OOM_SWEEP(r, sipcx_txn_client_new(&c, invite_text, strlen(invite_text), NULL, T0, &o),
	          assert_null(c));
	assert_int_equal(r, 0);
	/* The client keeps its request as bytes: a CANCEL parses them on the stack. */
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	OOM_SWEEP(r, sipcx_txn_print_cancel(&b, c), sipcx_buf_free(&b));
	assert_int_equal(r, 0);
	sipcx_buf_free(&b);
	struct sipcx_msg *resp = reply(inv, 486, "t");
	/* Building the ACK fails: nothing changes, the 486 retransmission retries. */
	OOM_SWEEP(r, sipcx_txn_recv(c, resp, T0 + 100 * MS, &o), {
		assert_int_equal(sipcx_txn_state(c), SIPCX_TXN_CALLING);
		assert_quiet(&o);
	});
	assert_int_equal(r, 0);
	assert_int_equal(sipcx_txn_state(c), SIPCX_TXN_COMPLETED);
	assert_int_equal(o.nsend, 1);
	/* After the final response the request is gone: nothing to cancel. */
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_txn_print_cancel(&b, c), -EINVAL);
	assert_int_equal(b.len, 0);
	sipcx_buf_free(&b);
	/* The parsed view of sipcx_txn_request(): made on demand, fails cleanly. */
	sipcx_txn_free(c);
	assert_int_equal(sipcx_txn_client_new(&c, invite_text, strlen(invite_text), NULL, T0, &o),
	                 0);
	tu_alloc_fail_at(1);
	assert_null(sipcx_txn_request(c));
	tu_alloc_fail_at(0);
	assert_non_null(sipcx_txn_request(c));
	sipcx_msg_unref(resp);
	sipcx_txn_free(c);

	struct sipcx_txn *s = NULL;
	struct sipcx_txn_opts now100 = { .flags = SIPCX_TXN_100_NOW };
	OOM_SWEEP(r, sipcx_txn_server_new(&s, inv, &now100, T0, &o), assert_null(s));
	assert_int_equal(r, 0);
	size_t len;
	char *p = reply_bytes(inv, 486, "t", &len);
	OOM_SWEEP(r, sipcx_txn_respond(s, p, len, T0, &o),
	          assert_int_equal(sipcx_txn_state(s), SIPCX_TXN_PROCEEDING));
	assert_int_equal(r, 0);
	assert_int_equal(sipcx_txn_state(s), SIPCX_TXN_COMPLETED);
	sipcx_free(p);
	sipcx_txn_free(s);

	/* The delayed 100: without memory it is skipped, the transaction goes on. */
	s = NULL;
	assert_int_equal(sipcx_txn_server_new(&s, inv, NULL, T0, &o), 0);
	tu_alloc_fail_at(1);
	assert_int_equal(sipcx_txn_tick(s, T0 + 200 * MS, &o), 0);
	tu_alloc_fail_at(0);
	assert_quiet(&o);
	assert_int_equal(sipcx_txn_state(s), SIPCX_TXN_PROCEEDING);
	sipcx_txn_free(s);

	/* RFC 2543 peer: the response's To tag is kept too. */
	s = NULL;
	OOM_SWEEP(r, sipcx_txn_server_new(&s, inv2543, NULL, T0, &o), assert_null(s));
	assert_int_equal(r, 0);
	p = reply_bytes(inv2543, 404, "t", &len);
	OOM_SWEEP(r, sipcx_txn_respond(s, p, len, T0, &o),
	          assert_int_equal(sipcx_txn_state(s), SIPCX_TXN_PROCEEDING));
	assert_int_equal(r, 0);
	assert_int_equal(sipcx_txn_state(s), SIPCX_TXN_COMPLETED);
	sipcx_free(p);
	sipcx_txn_free(s);

	struct sipcx_txn_table *tab = NULL;
	OOM_SWEEP(r, sipcx_txn_table_new(&tab), assert_null(tab));
	assert_int_equal(r, 0);
	/* Growing the table fails: the transactions go in anyway. */
	struct sipcx_txn *ts[80];
	for (int i = 0; i < 80; i++) {
		char text[400];
		snprintf(
		    text, sizeof(text),
		    "OPTIONS sip:x@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK%d\r\n"
		    "To: <sip:x@h>\r\nFrom: <sip:y@h>;tag=f\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		    i);
		assert_int_equal(sipcx_txn_client_new(&ts[i], text, strlen(text), NULL, T0, &o), 0);
		tu_alloc_fail_at(1);
		assert_int_equal(sipcx_txn_table_add(tab, ts[i]), 0);
		tu_alloc_fail_at(0);
	}
	assert_int_equal(sipcx_txn_table_count(tab), 80);
	for (int i = 0; i < 80; i++) {
		resp = reply(sipcx_txn_request(ts[i]), 200, "t");
		assert_ptr_equal(sipcx_txn_table_match(tab, resp), ts[i]);
		sipcx_msg_unref(resp);
		sipcx_txn_free(ts[i]);
	}
	sipcx_txn_table_free(tab);

	assert_int_equal(tu_alloc_live(), live);
	tu_alloc_uninstall();
	sipcx_msg_unref(inv2543);
	sipcx_msg_unref(inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ict_timer_a_b),
		cmocka_unit_test(test_ict_late_tick_no_burst),
		cmocka_unit_test(test_ict_1xx_stops_a),
		cmocka_unit_test(test_ict_non2xx_ack_timer_d),
		cmocka_unit_test(test_ict_2xx_accepted_timer_m),
		cmocka_unit_test(test_ict_cancel_sent_gives_up),
		cmocka_unit_test(test_ict_reliable),
		cmocka_unit_test(test_ict_custom_timers),
		cmocka_unit_test(test_nict_timer_e_f),
		cmocka_unit_test(test_nict_proceeding_t2_timer_k),
		cmocka_unit_test(test_nict_f_in_proceeding_and_reliable),
		cmocka_unit_test(test_ist_100_after_200ms_and_retransmissions),
		cmocka_unit_test(test_ist_100_flags),
		cmocka_unit_test(test_ist_timer_g_h),
		cmocka_unit_test(test_ist_ack_confirmed_timer_i),
		cmocka_unit_test(test_ist_reliable),
		cmocka_unit_test(test_ist_2xx_accepted_timer_l),
		cmocka_unit_test(test_nist),
		cmocka_unit_test(test_cancel_build_and_487),
		cmocka_unit_test(test_match_client),
		cmocka_unit_test(test_match_server),
		cmocka_unit_test(test_match_rfc2543),
		cmocka_unit_test(test_table_many),
		cmocka_unit_test(test_table_growth_in_steps),
		cmocka_unit_test(test_branch),
		cmocka_unit_test(test_transport_error),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_late_input_keeps_sent_bytes),
		cmocka_unit_test(test_memory_per_completed_nist),
		cmocka_unit_test(test_released_request),
		cmocka_unit_test(test_oom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
