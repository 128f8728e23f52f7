/* Unit tests of the dialog layer: UAC and UAS dialogs, route sets, targets, CSeq, in-dialog requests, matching, limits, memory (RFC 3261 12). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <sipcx/dialog.h>
#include <sipcx/msg.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Alice calls Bob through p1 (hers) and p2 (his), both record-routing; the
 * 2xx also passed p3, which joined after the 180 (RFC 3665 3.2 style).
 */
#define CALL_ID "a84b4c76e66710@pc33.atlanta.example.com"
#define ALICE_FROM "From: \"Alice A.\" <sip:alice@atlanta.example.com>;tag=1928301774;x-from=2\r\n"
#define BOB_TO "To: Bob <sip:bob@biloxi.example.com>;x-to=1"
#define VIA_ALICE "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n"

/* The INVITE Alice's UA sent. */
static const char invite_sent[] =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n" VIA_ALICE "Max-Forwards: 70\r\n"
    "Route: <sip:p1.atlanta.example.com;lr>\r\n" BOB_TO "\r\n" ALICE_FROM "Call-ID: " CALL_ID "\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char ringing[] =
    "SIP/2.0 180 Ringing\r\n" VIA_ALICE "Record-Route: <sip:p2.biloxi.example.com;lr>\r\n"
    "Record-Route: <sip:p1.atlanta.example.com;lr>\r\n" BOB_TO ";tag=a6c85cf\r\n" ALICE_FROM
    "Call-ID: " CALL_ID "\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:bob@192.0.2.4>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char ok_invite[] =
    "SIP/2.0 200 OK\r\n" VIA_ALICE
    "Record-Route: <sip:p3.biloxi.example.com;lr>, \"p2\" <sip:p2.biloxi.example.com;lr;ftag=x>;hp=1\r\n"
    "Record-Route: <sip:p1.atlanta.example.com;lr>\r\n" BOB_TO ";tag=a6c85cf\r\n" ALICE_FROM
    "Call-ID: " CALL_ID "\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:bob@192.0.2.5;transport=tcp>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

/* The same INVITE as Bob's UA receives it. */
static const char invite_recv[] =
    "INVITE sip:bob@192.0.2.4 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP p2.biloxi.example.com;branch=z9hG4bK4b43c2ff8.1\r\n"
    "Via: SIP/2.0/UDP p1.atlanta.example.com;branch=z9hG4bK77ef4c2312983.1\r\n" VIA_ALICE
    "Max-Forwards: 68\r\n"
    "Record-Route: <sip:p2.biloxi.example.com;lr>, <sip:p1.atlanta.example.com;lr>\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: " CALL_ID "\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

/* A request from Alice inside Bob's dialog (the To tag is Bob's). */
static const char info_recv[] =
    "INFO sip:bob@192.0.2.4 SIP/2.0\r\n" VIA_ALICE "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=b0b\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: " CALL_ID "\r\n"
    "CSeq: 314160 INFO\r\n"
    "Contact: <sip:alice@192.0.2.99>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const struct sipcx_str bob_tag = { "b0b", 3 };

/* Where *out must stay untouched: a pointer value never dereferenced. */
static char sentinel_byte;
#define UNTOUCHED ((struct sipcx_dialog *)(void *)&sentinel_byte)

/*
 * Helpers.
 */

static struct sipcx_msg *parse(const char *p, size_t len)
{
	struct sipcx_msg *m = NULL;
	int r = sipcx_msg_new(&m, p, len, 0);
	if (r <= 0)
		fail_msg("parse failed: %d\n%.*s", r, (int)len, p);
	return m;
}

static struct sipcx_msg *parse_c(const char *s)
{
	return parse(s, strlen(s));
}

/* s with the first occurrence of each pairs[2i] replaced by pairs[2i+1], parsed. */
static struct sipcx_msg *parse_edit_list(const char *text, size_t n, const char *const *pairs)
{
	char *s = strdup(text);
	assert_non_null(s);
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

static void assert_str(struct sipcx_str s, const char *want)
{
	if (s.len != strlen(want) || (s.len && memcmp(s.p, want, s.len) != 0))
		fail_msg("got \"%.*s\", want \"%s\"", SIPCX_STR_FMT(s), want);
}

static struct sipcx_str hval(const struct sipcx_msg *m, enum sipcx_hdr_id id)
{
	const struct sipcx_hdr *h = sipcx_msg_hdr(m, id);
	if (!h)
		fail_msg("no %s header", sipcx_hdr_name(id));
	return h->value;
}

/* A request to print: Bob's or Alice's UA, with its own Via and Contact. */
static struct sipcx_dialog_req req_of(const char *method, uint32_t cseq)
{
	return (struct sipcx_dialog_req){
		.method = method,
		.cseq = cseq,
		.via = SIPCX_STR("SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKdlg1"),
		.contact = SIPCX_STR("<sip:me@192.0.2.4:5060>"),
	};
}

/*
 * Print r in d, parse the bytes back and judge them as a receiving UA
 * would: they must parse whole and pass sipcx_msg_check().
 */
static struct sipcx_msg *print_req(struct sipcx_dialog *d, const struct sipcx_dialog_req *r)
{
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	int err = sipcx_dialog_print_request(d, &b, r);
	if (err != 0)
		fail_msg("print %s: %d", r->method, err);
	struct sipcx_msg *m = parse(b.p, b.len);
	assert_int_equal((size_t)m->raw.len, b.len);
	struct sipcx_msg_verdict v;
	if (sipcx_msg_check(m, 0, &v) != SIPCX_MSG_ACCEPT)
		fail_msg("printed request refused (%s):\n%.*s", v.what, (int)b.len, b.p);
	sipcx_buf_free(&b);
	return m;
}

static uint32_t cseq_of(const struct sipcx_msg *m)
{
	const struct sipcx_cseq *c = sipcx_msg_cseq(m);
	assert_non_null(c);
	return c->num;
}

static struct sipcx_dialog *uac_from(const char *resp_text)
{
	struct sipcx_msg *req = parse_c(invite_sent), *resp = parse_c(resp_text);
	struct sipcx_dialog *d = NULL;
	assert_int_equal(sipcx_dialog_new_uac(&d, req, resp), 0);
	sipcx_msg_unref(resp);
	sipcx_msg_unref(req);
	return d;
}

static struct sipcx_dialog *uas_from(const char *req_text, bool confirmed)
{
	struct sipcx_msg *req = parse_c(req_text);
	struct sipcx_dialog *d = NULL;
	assert_int_equal(sipcx_dialog_new_uas(&d, req, bob_tag, confirmed), 0);
	sipcx_msg_unref(req);
	return d;
}

/*
 * UAC.
 */

/* 12.1.2 from a 180, then 13.2.2.4: the 2xx confirms and brings its own route set and target. */
static void test_uac_early_then_confirmed(void **state)
{
	(void)state;
	struct sipcx_dialog *d = uac_from(ringing);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_EARLY);
	assert_true(sipcx_dialog_is_uac(d));
	assert_false(sipcx_dialog_secure(d));
	assert_str(sipcx_dialog_call_id(d), CALL_ID);
	assert_str(sipcx_dialog_local_tag(d), "1928301774");
	assert_str(sipcx_dialog_remote_tag(d), "a6c85cf");
	/* As written, display name and other parameters kept, the tag taken out. */
	assert_str(sipcx_dialog_local_uri(d),
	           "\"Alice A.\" <sip:alice@atlanta.example.com>;x-from=2");
	assert_str(sipcx_dialog_remote_uri(d), "Bob <sip:bob@biloxi.example.com>;x-to=1");
	assert_str(sipcx_dialog_remote_target(d), "sip:bob@192.0.2.4");
	/* Record-Route read backwards: the proxy nearest to us first. */
	assert_int_equal(sipcx_dialog_route_count(d), 2);
	assert_str(sipcx_dialog_route(d, 0), "<sip:p1.atlanta.example.com;lr>");
	assert_str(sipcx_dialog_route(d, 1), "<sip:p2.biloxi.example.com;lr>");
	assert_str(sipcx_dialog_route(d, 2), "");
	assert_int_equal(sipcx_dialog_local_cseq(d), 314159);
	assert_false(sipcx_dialog_has_remote_cseq(d));
	assert_int_equal(sipcx_dialog_remote_cseq(d), 0);

	/* A later 1xx with another Contact moves the target, not the route set. */
	struct sipcx_msg *r183 = parse_edit(ringing, "180 Ringing", "183 Session Progress",
	                                    "Record-Route: <sip:p2.biloxi.example.com;lr>\r\n", "",
	                                    "192.0.2.4", "192.0.2.44");
	assert_int_equal(sipcx_dialog_recv_response(d, r183), 0);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_EARLY);
	assert_str(sipcx_dialog_remote_target(d), "sip:bob@192.0.2.44");
	assert_int_equal(sipcx_dialog_route_count(d), 2);
	sipcx_msg_unref(r183);

	struct sipcx_msg *ok = parse_c(ok_invite);
	assert_int_equal(sipcx_dialog_recv_response(d, ok), 0);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_CONFIRMED);
	assert_str(sipcx_dialog_remote_target(d), "sip:bob@192.0.2.5;transport=tcp");
	/* Replaced by the 2xx's; only the URIs are kept (no display name, no header params). */
	assert_int_equal(sipcx_dialog_route_count(d), 3);
	assert_str(sipcx_dialog_route(d, 0), "<sip:p1.atlanta.example.com;lr>");
	assert_str(sipcx_dialog_route(d, 1), "<sip:p2.biloxi.example.com;lr;ftag=x>");
	assert_str(sipcx_dialog_route(d, 2), "<sip:p3.biloxi.example.com;lr>");
	/* A retransmission of the 2xx changes nothing. */
	assert_int_equal(sipcx_dialog_recv_response(d, ok), 0);
	assert_int_equal(sipcx_dialog_route_count(d), 3);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_CONFIRMED);
	sipcx_msg_unref(ok);

	/* The dialog's requests follow the new route set. */
	struct sipcx_dialog_req r = req_of("BYE", 0);
	struct sipcx_msg *bye = print_req(d, &r);
	assert_str(bye->ruri, "sip:bob@192.0.2.5;transport=tcp");
	assert_str(hval(bye, SIPCX_HDR_ROUTE), "<sip:p1.atlanta.example.com;lr>, "
	                                       "<sip:p2.biloxi.example.com;lr;ftag=x>, "
	                                       "<sip:p3.biloxi.example.com;lr>");
	assert_int_equal(cseq_of(bye), 314160);
	sipcx_msg_unref(bye);
	sipcx_dialog_free(d);
}

/* A 2xx straight away: confirmed at once. A sips Request-URI makes it secure. */
static void test_uac_from_2xx_and_secure(void **state)
{
	(void)state;
	struct sipcx_dialog *d = uac_from(ok_invite);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_CONFIRMED);
	assert_int_equal(sipcx_dialog_route_count(d), 3);
	assert_str(sipcx_dialog_route(d, 0), "<sip:p1.atlanta.example.com;lr>");
	sipcx_dialog_free(d);

	struct sipcx_msg *req = parse_edit(invite_sent, "INVITE sip:", "INVITE sips:");
	struct sipcx_msg *resp = parse_c(ok_invite);
	assert_int_equal(sipcx_dialog_new_uac(&d, req, resp), 0);
	assert_true(sipcx_dialog_secure(d));
	sipcx_dialog_free(d);
	sipcx_msg_unref(resp);
	sipcx_msg_unref(req);
}

/* A 1xx without Contact: no target until one comes; nothing to print or route to before. */
static void test_uac_1xx_without_contact(void **state)
{
	(void)state;
	struct sipcx_msg *req = parse_c(invite_sent);
	struct sipcx_msg *r183 =
	    parse_edit(ringing, "Contact: <sip:bob@192.0.2.4>\r\n", "",
	               "Record-Route: <sip:p2.biloxi.example.com;lr>\r\n", "",
	               "Record-Route: <sip:p1.atlanta.example.com;lr>\r\n", "");
	struct sipcx_dialog *d = NULL;
	assert_int_equal(sipcx_dialog_new_uac(&d, req, r183), 0);
	assert_str(sipcx_dialog_remote_target(d), "");
	struct sipcx_uri hop;
	assert_int_equal(sipcx_dialog_next_hop(d, &hop), -ENOENT);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	struct sipcx_dialog_req r = req_of("PRACK", 0);
	assert_int_equal(sipcx_dialog_print_request(d, &b, &r), -ENOENT);
	assert_int_equal(b.len, 0);
	assert_int_equal(sipcx_dialog_local_cseq(d), 314159);

	/* A 1xx with a Contact gives the target. */
	struct sipcx_msg *r180 = parse_c(ringing);
	assert_int_equal(sipcx_dialog_recv_response(d, r180), 0);
	assert_str(sipcx_dialog_remote_target(d), "sip:bob@192.0.2.4");
	assert_int_equal(sipcx_dialog_route_count(d), 0);
	assert_int_equal(sipcx_dialog_next_hop(d, &hop), 0);
	assert_str(hop.host, "192.0.2.4");

	/* A 2xx without Contact cannot confirm it: refused, nothing changed. */
	struct sipcx_msg *ok =
	    parse_edit(ok_invite, "Contact: <sip:bob@192.0.2.5;transport=tcp>\r\n", "");
	assert_int_equal(sipcx_dialog_recv_response(d, ok), -EBADMSG);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_EARLY);
	assert_int_equal(sipcx_dialog_route_count(d), 0);
	/* Nor create one. */
	struct sipcx_dialog *d2 = UNTOUCHED;
	assert_int_equal(sipcx_dialog_new_uac(&d2, req, ok), -EBADMSG);
	assert_ptr_equal(d2, UNTOUCHED);

	sipcx_msg_unref(ok);
	sipcx_msg_unref(r180);
	sipcx_msg_unref(r183);
	sipcx_msg_unref(req);
	sipcx_dialog_free(d);
}

/*
 * UAS.
 */

static void test_uas_create(void **state)
{
	(void)state;
	struct sipcx_dialog *d = uas_from(invite_recv, false);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_EARLY);
	assert_false(sipcx_dialog_is_uac(d));
	assert_str(sipcx_dialog_call_id(d), CALL_ID);
	assert_str(sipcx_dialog_local_tag(d), "b0b");
	assert_str(sipcx_dialog_remote_tag(d), "1928301774");
	assert_str(sipcx_dialog_local_uri(d), "Bob <sip:bob@biloxi.example.com>");
	assert_str(sipcx_dialog_remote_uri(d), "Alice <sip:alice@atlanta.example.com>");
	assert_str(sipcx_dialog_remote_target(d), "sip:alice@pc33.atlanta.example.com");
	/* Record-Route in order for the UAS. */
	assert_int_equal(sipcx_dialog_route_count(d), 2);
	assert_str(sipcx_dialog_route(d, 0), "<sip:p2.biloxi.example.com;lr>");
	assert_str(sipcx_dialog_route(d, 1), "<sip:p1.atlanta.example.com;lr>");
	assert_true(sipcx_dialog_has_remote_cseq(d));
	assert_int_equal(sipcx_dialog_remote_cseq(d), 314159);
	assert_int_equal(sipcx_dialog_local_cseq(d), 0);

	sipcx_dialog_confirm(d);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_CONFIRMED);
	sipcx_dialog_confirm(d);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_CONFIRMED);

	/* The first request Bob sends has CSeq 1; From is Bob with his tag, To is Alice with hers. */
	struct sipcx_dialog_req r = req_of("BYE", 0);
	struct sipcx_msg *bye = print_req(d, &r);
	assert_int_equal(cseq_of(bye), 1);
	assert_int_equal(sipcx_dialog_local_cseq(d), 1);
	assert_str(bye->ruri, "sip:alice@pc33.atlanta.example.com");
	assert_str(hval(bye, SIPCX_HDR_ROUTE),
	           "<sip:p2.biloxi.example.com;lr>, <sip:p1.atlanta.example.com;lr>");
	assert_str(hval(bye, SIPCX_HDR_FROM), "Bob <sip:bob@biloxi.example.com>;tag=b0b");
	assert_str(hval(bye, SIPCX_HDR_TO), "Alice <sip:alice@atlanta.example.com>;tag=1928301774");
	sipcx_msg_unref(bye);
	sipcx_dialog_free(d);

	d = uas_from(invite_recv, true);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_CONFIRMED);
	sipcx_dialog_terminate(d);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_TERMINATED);
	sipcx_dialog_confirm(d); /* no way back */
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_TERMINATED);
	sipcx_dialog_free(d);
}

/* Record-Route: reversed for the UAC, in order for the UAS, over several lines and values. */
static void test_record_route_order(void **state)
{
	(void)state;
	static const char *const rr_from = "Record-Route: <sip:p2.biloxi.example.com;lr>\r\n"
	                                   "Record-Route: <sip:p1.atlanta.example.com;lr>\r\n";
	static const char *const rr_to =
	    "Record-Route: <sip:r1.example.com;lr>, <sip:r2.example.com;lr>\r\n"
	    "Record-Route: <sip:r3.example.com;lr>\r\n"
	    "Record-Route: <sip:r4.example.com;lr>, <sip:r5.example.com;lr>\r\n";
	struct sipcx_msg *req = parse_c(invite_sent);
	struct sipcx_msg *resp = parse_edit(ringing, rr_from, rr_to);
	struct sipcx_dialog *d;
	assert_int_equal(sipcx_dialog_new_uac(&d, req, resp), 0);
	assert_int_equal(sipcx_dialog_route_count(d), 5);
	char want[64];
	for (size_t i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "<sip:r%zu.example.com;lr>", 5 - i);
		assert_str(sipcx_dialog_route(d, i), want);
	}
	sipcx_dialog_free(d);
	sipcx_msg_unref(resp);

	struct sipcx_msg *inv = parse_edit(invite_recv,
	                                   "Record-Route: <sip:p2.biloxi.example.com;lr>, "
	                                   "<sip:p1.atlanta.example.com;lr>\r\n",
	                                   rr_to);
	assert_int_equal(sipcx_dialog_new_uas(&d, inv, bob_tag, false), 0);
	assert_int_equal(sipcx_dialog_route_count(d), 5);
	for (size_t i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "<sip:r%zu.example.com;lr>", i + 1);
		assert_str(sipcx_dialog_route(d, i), want);
	}
	sipcx_dialog_free(d);
	sipcx_msg_unref(inv);
	sipcx_msg_unref(req);
}

/* RFC 2543 peer: no From tag. The remote tag is empty and our To carries none. */
static void test_uas_rfc2543_peer(void **state)
{
	(void)state;
	struct sipcx_msg *inv =
	    parse_edit(invite_recv, "<sip:alice@atlanta.example.com>;tag=1928301774",
	               "<sip:alice@atlanta.example.com>",
	               "Record-Route: <sip:p2.biloxi.example.com;lr>, "
	               "<sip:p1.atlanta.example.com;lr>\r\n",
	               "");
	struct sipcx_dialog *d;
	assert_int_equal(sipcx_dialog_new_uas(&d, inv, bob_tag, true), 0);
	assert_str(sipcx_dialog_remote_tag(d), "");
	assert_str(sipcx_dialog_remote_uri(d), "Alice <sip:alice@atlanta.example.com>");
	struct sipcx_dialog_req r = req_of("BYE", 0);
	struct sipcx_msg *bye = print_req(d, &r);
	assert_str(hval(bye, SIPCX_HDR_TO), "Alice <sip:alice@atlanta.example.com>");
	assert_int_equal(sipcx_msg_to(bye)->tag.len, 0);
	assert_null(sipcx_msg_hdr(bye, SIPCX_HDR_ROUTE));
	sipcx_msg_unref(bye);

	/* Its requests have no From tag either, and match. */
	struct sipcx_msg *info =
	    parse_edit(info_recv, "<sip:alice@atlanta.example.com>;tag=1928301774",
	               "<sip:alice@atlanta.example.com>");
	assert_true(sipcx_dialog_match_request(d, info));
	sipcx_msg_unref(info);
	sipcx_dialog_free(d);
	sipcx_msg_unref(inv);
}

/* Display names, parameters, LWS and addr-spec forms survive; the tag is the dialog's. */
static void test_from_to_kept_tag_replaced(void **state)
{
	(void)state;
	struct sipcx_msg *inv = parse_edit(
	    invite_recv, "To: Bob <sip:bob@biloxi.example.com>",
	    "To: \"Bob, the \\\"builder\\\"\" <sip:bob@biloxi.example.com;user=ip> ;x=1 ;y",
	    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
	    "From: sip:alice@atlanta.example.com ;tag=1928301774 ; z=\"q r\"");
	struct sipcx_dialog *d;
	assert_int_equal(sipcx_dialog_new_uas(&d, inv, bob_tag, true), 0);
	assert_str(sipcx_dialog_local_uri(d),
	           "\"Bob, the \\\"builder\\\"\" <sip:bob@biloxi.example.com;user=ip>;x=1;y");
	assert_str(sipcx_dialog_remote_uri(d), "sip:alice@atlanta.example.com; z=\"q r\"");
	struct sipcx_dialog_req r = req_of("INFO", 0);
	struct sipcx_msg *info = print_req(d, &r);
	const struct sipcx_addr *from = sipcx_msg_from(info), *to = sipcx_msg_to(info);
	assert_non_null(from);
	assert_non_null(to);
	assert_str(from->display, "Bob, the \\\"builder\\\"");
	assert_str(from->uri.params, ";user=ip");
	assert_str(from->tag, "b0b");
	assert_str(from->params, ";x=1;y;tag=b0b");
	assert_false(to->angle);
	assert_str(to->tag, "1928301774");
	struct sipcx_str z;
	assert_true(sipcx_param_get(to->params, "z", &z));
	assert_str(z, "q r");
	sipcx_msg_unref(info);
	sipcx_dialog_free(d);
	sipcx_msg_unref(inv);
}

/*
 * Target refresh.
 */

/* UAS: a re-INVITE or UPDATE with a Contact moves the target (12.2.2); an INFO does not. */
static void test_target_refresh_uas(void **state)
{
	(void)state;
	struct sipcx_dialog *d = uas_from(invite_recv, true);
	uint16_t status = 1;

	struct sipcx_msg *info = parse_c(info_recv);
	assert_true(sipcx_dialog_match_request(d, info));
	assert_int_equal(sipcx_dialog_recv_request(d, info, &status), 0);
	assert_int_equal(status, 0);
	assert_str(sipcx_dialog_remote_target(d), "sip:alice@pc33.atlanta.example.com");
	assert_int_equal(sipcx_dialog_remote_cseq(d), 314160);

	struct sipcx_msg *reinv =
	    parse_edit(info_recv, "INFO sip", "INVITE sip", "314160 INFO", "314161 INVITE");
	assert_int_equal(sipcx_dialog_recv_request(d, reinv, &status), 0);
	assert_int_equal(status, 0);
	assert_str(sipcx_dialog_remote_target(d), "sip:alice@192.0.2.99");
	assert_int_equal(sipcx_dialog_remote_cseq(d), 314161);
	/* Routes stay. */
	assert_int_equal(sipcx_dialog_route_count(d), 2);

	/* The next BYE goes to the new target. */
	struct sipcx_dialog_req r = req_of("BYE", 0);
	struct sipcx_msg *bye = print_req(d, &r);
	assert_str(bye->ruri, "sip:alice@192.0.2.99");
	sipcx_msg_unref(bye);

	/* UPDATE too; one without Contact, or with one we cannot use, keeps the target. */
	struct sipcx_msg *upd = parse_edit(info_recv, "INFO sip", "UPDATE sip", "314160 INFO",
	                                   "314162 UPDATE", "192.0.2.99", "[2001:db8::9]:5062");
	assert_int_equal(sipcx_dialog_recv_request(d, upd, &status), 0);
	assert_str(sipcx_dialog_remote_target(d), "sip:alice@[2001:db8::9]:5062");
	struct sipcx_msg *upd2 =
	    parse_edit(info_recv, "INFO sip", "UPDATE sip", "314160 INFO", "314163 UPDATE",
	               "Contact: <sip:alice@192.0.2.99>\r\n", "");
	assert_int_equal(sipcx_dialog_recv_request(d, upd2, &status), 0);
	assert_int_equal(status, 0);
	assert_str(sipcx_dialog_remote_target(d), "sip:alice@[2001:db8::9]:5062");
	struct sipcx_msg *upd3 =
	    parse_edit(info_recv, "INFO sip", "UPDATE sip", "314160 INFO", "314164 UPDATE",
	               "<sip:alice@192.0.2.99>", "<tel:+15550100>");
	assert_int_equal(sipcx_dialog_recv_request(d, upd3, &status), 0);
	assert_int_equal(status, 0);
	assert_str(sipcx_dialog_remote_target(d), "sip:alice@[2001:db8::9]:5062");
	assert_int_equal(sipcx_dialog_remote_cseq(d), 314164);

	sipcx_msg_unref(upd3);
	sipcx_msg_unref(upd2);
	sipcx_msg_unref(upd);
	sipcx_msg_unref(reinv);
	sipcx_msg_unref(info);
	sipcx_dialog_free(d);
}

/* UAC: the 2xx to our re-INVITE brings the new target (12.2.1.2); a 2xx to an INFO does not. */
static void test_target_refresh_uac(void **state)
{
	(void)state;
	struct sipcx_dialog *d = uac_from(ok_invite);
	struct sipcx_dialog_req r = req_of("INVITE", 0);
	struct sipcx_msg *reinv = print_req(d, &r);
	assert_int_equal(cseq_of(reinv), 314160);
	sipcx_msg_unref(reinv);

	/* A 2xx to an INFO with a Contact: not a target refresh. */
	struct sipcx_msg *ok_info = parse_edit(ok_invite, "314159 INVITE", "314161 INFO",
	                                       "192.0.2.5;transport=tcp", "192.0.2.77");
	r = req_of("INFO", 0);
	struct sipcx_msg *info = print_req(d, &r);
	sipcx_msg_unref(info);
	assert_int_equal(sipcx_dialog_recv_response(d, ok_info), 0);
	assert_str(sipcx_dialog_remote_target(d), "sip:bob@192.0.2.5;transport=tcp");

	struct sipcx_msg *ok_re =
	    parse_edit(ok_invite, "314159 INVITE", "314160 INVITE", "192.0.2.5;transport=tcp",
	               "192.0.2.6", "<sip:p3.biloxi.example.com;lr>, ", "");
	assert_int_equal(sipcx_dialog_recv_response(d, ok_re), 0);
	assert_str(sipcx_dialog_remote_target(d), "sip:bob@192.0.2.6");
	/* The route set of a confirmed dialog never changes (12.2.1.2). */
	assert_int_equal(sipcx_dialog_route_count(d), 3);
	/* A failure of a re-INVITE leaves the dialog (12.2.1.2: only 481 and 408 end it). */
	struct sipcx_msg *busy =
	    parse_edit(ok_invite, "200 OK", "486 Busy Here", "314159 INVITE", "314160 INVITE");
	assert_int_equal(sipcx_dialog_recv_response(d, busy), 0);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_CONFIRMED);

	/* The UAC's first request from the peer sets the remote CSeq. */
	uint16_t status = 1;
	struct sipcx_msg *bye_in =
	    parse_c("BYE sip:alice@pc33.atlanta.example.com SIP/2.0\r\n"
	            "Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKb1\r\n"
	            "From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
	            "To: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	            "Call-ID: " CALL_ID "\r\n"
	            "CSeq: 7 BYE\r\n"
	            "Content-Length: 0\r\n\r\n");
	assert_true(sipcx_dialog_match_request(d, bye_in));
	assert_int_equal(sipcx_dialog_recv_request(d, bye_in, &status), 0);
	assert_int_equal(status, 0);
	assert_true(sipcx_dialog_has_remote_cseq(d));
	assert_int_equal(sipcx_dialog_remote_cseq(d), 7);

	sipcx_msg_unref(bye_in);
	sipcx_msg_unref(busy);
	sipcx_msg_unref(ok_re);
	sipcx_msg_unref(ok_info);
	sipcx_dialog_free(d);
}

/*
 * CSeq.
 */

static struct sipcx_msg *info_with_cseq(const char *method, uint32_t n, const char *contact)
{
	char cseq[64], line[64];
	snprintf(line, sizeof(line), "%s sip", method);
	snprintf(cseq, sizeof(cseq), "%u %s", n, method);
	return parse_edit(info_recv, "INFO sip", line, "314160 INFO", cseq, "192.0.2.99", contact);
}

/* 12.2.2: lower gets 500 and changes nothing, equal is accepted in place, higher moves. */
static void test_remote_cseq(void **state)
{
	(void)state;
	struct sipcx_dialog *d = uas_from(invite_recv, true);
	uint16_t status;
	struct sipcx_msg *m;

	m = info_with_cseq("INFO", 314158, "192.0.2.98");
	assert_int_equal(sipcx_dialog_recv_request(d, m, &status), 0);
	assert_int_equal(status, 500);
	assert_int_equal(sipcx_dialog_remote_cseq(d), 314159);
	sipcx_msg_unref(m);
	/* An out-of-order re-INVITE does not refresh the target either. */
	m = info_with_cseq("INVITE", 314100, "192.0.2.98");
	assert_int_equal(sipcx_dialog_recv_request(d, m, &status), 0);
	assert_int_equal(status, 500);
	assert_str(sipcx_dialog_remote_target(d), "sip:alice@pc33.atlanta.example.com");
	sipcx_msg_unref(m);

	m = info_with_cseq("INFO", 314159, "192.0.2.98");
	assert_int_equal(sipcx_dialog_recv_request(d, m, &status), 0);
	assert_int_equal(status, 0);
	assert_int_equal(sipcx_dialog_remote_cseq(d), 314159);
	sipcx_msg_unref(m);

	m = info_with_cseq("INFO", 314170, "192.0.2.98");
	assert_int_equal(sipcx_dialog_recv_request(d, m, &status), 0);
	assert_int_equal(status, 0);
	assert_int_equal(sipcx_dialog_remote_cseq(d), 314170);
	sipcx_msg_unref(m);

	/* ACK and CANCEL carry an older number: accepted, nothing moves. */
	m = info_with_cseq("ACK", 314159, "192.0.2.98");
	assert_int_equal(sipcx_dialog_recv_request(d, m, &status), 0);
	assert_int_equal(status, 0);
	assert_int_equal(sipcx_dialog_remote_cseq(d), 314170);
	sipcx_msg_unref(m);
	m = info_with_cseq("CANCEL", 3, "192.0.2.98");
	assert_int_equal(sipcx_dialog_recv_request(d, m, &status), 0);
	assert_int_equal(status, 0);
	sipcx_msg_unref(m);

	/* No parseable CSeq: 400. */
	m = parse_edit(info_recv, "CSeq: 314160 INFO", "CSeq: x INFO");
	assert_int_equal(sipcx_dialog_recv_request(d, m, &status), 0);
	assert_int_equal(status, 400);
	assert_int_equal(sipcx_dialog_remote_cseq(d), 314170);
	sipcx_msg_unref(m);

	/* Refused: a response, NULL, a terminated dialog. */
	struct sipcx_msg *resp = parse_c(ringing);
	assert_int_equal(sipcx_dialog_recv_request(d, resp, &status), -EINVAL);
	assert_int_equal(sipcx_dialog_recv_request(NULL, resp, &status), -EINVAL);
	m = info_with_cseq("INFO", 314171, "192.0.2.98");
	assert_int_equal(sipcx_dialog_recv_request(d, m, NULL), -EINVAL);
	sipcx_dialog_terminate(d);
	assert_int_equal(sipcx_dialog_recv_request(d, m, &status), -EINVAL);
	assert_int_equal(sipcx_dialog_remote_cseq(d), 314170);
	sipcx_msg_unref(m);
	sipcx_msg_unref(resp);
	sipcx_dialog_free(d);
}

/* 12.2.1.1: +1 per request; ACK takes the INVITE's number and never counts. */
static void test_local_cseq(void **state)
{
	(void)state;
	struct sipcx_dialog *d = uac_from(ok_invite);
	struct sipcx_dialog_req r = req_of("ACK", 314159);
	struct sipcx_msg *m = print_req(d, &r);
	assert_int_equal(cseq_of(m), 314159);
	assert_str(sipcx_msg_cseq(m)->method, "ACK");
	assert_int_equal(sipcx_dialog_local_cseq(d), 314159);
	sipcx_msg_unref(m);

	for (int i = 0; i < 2; i++) {
		r = req_of("INFO", 0);
		m = print_req(d, &r);
		assert_int_equal(cseq_of(m), 314160 + i);
		sipcx_msg_unref(m);
	}
	r = req_of("BYE", 0);
	m = print_req(d, &r);
	assert_int_equal(cseq_of(m), 314159 + 3);
	sipcx_msg_unref(m);
	/* ACK of a later re-INVITE: its number, still no count. */
	r = req_of("ACK", 314161);
	m = print_req(d, &r);
	assert_int_equal(cseq_of(m), 314161);
	sipcx_msg_unref(m);
	assert_int_equal(sipcx_dialog_local_cseq(d), 314162);
	/* Not even with a number above the count (CANCEL neither). */
	r = req_of("ACK", 314170);
	m = print_req(d, &r);
	sipcx_msg_unref(m);
	r = req_of("CANCEL", 314171);
	m = print_req(d, &r);
	sipcx_msg_unref(m);
	assert_int_equal(sipcx_dialog_local_cseq(d), 314162);

	/* ACK and CANCEL need their number. */
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	r = req_of("ACK", 0);
	assert_int_equal(sipcx_dialog_print_request(d, &b, &r), -EINVAL);
	r = req_of("CANCEL", 0);
	assert_int_equal(sipcx_dialog_print_request(d, &b, &r), -EINVAL);
	assert_int_equal(b.len, 0);

	/* An explicit number for another method is used, and the count follows it up. */
	r = req_of("OPTIONS", 314200);
	m = print_req(d, &r);
	assert_int_equal(cseq_of(m), 314200);
	sipcx_msg_unref(m);
	assert_int_equal(sipcx_dialog_local_cseq(d), 314200);
	r = req_of("OPTIONS", 5);
	m = print_req(d, &r);
	assert_int_equal(cseq_of(m), 5);
	sipcx_msg_unref(m);
	assert_int_equal(sipcx_dialog_local_cseq(d), 314200);
	r = req_of("OPTIONS", 0x80000000u);
	assert_int_equal(sipcx_dialog_print_request(d, &b, &r), -ERANGE);
	sipcx_dialog_free(d);

	/* The count stops at 2^31-1 (RFC 3261 8.1.1.5). */
	struct sipcx_msg *req = parse_edit(invite_sent, "314159 INVITE", "2147483647 INVITE");
	struct sipcx_msg *resp = parse_edit(ok_invite, "314159 INVITE", "2147483647 INVITE");
	assert_int_equal(sipcx_dialog_new_uac(&d, req, resp), 0);
	r = req_of("BYE", 0);
	assert_int_equal(sipcx_dialog_print_request(d, &b, &r), -ERANGE);
	assert_int_equal(b.len, 0);
	assert_int_equal(sipcx_dialog_local_cseq(d), 2147483647u);
	r = req_of("ACK", 2147483647u);
	m = print_req(d, &r);
	sipcx_msg_unref(m);
	sipcx_dialog_free(d);
	sipcx_msg_unref(resp);
	sipcx_msg_unref(req);
	sipcx_buf_free(&b);
}

/*
 * Printing.
 */

/* Loose routing and every field of the printed request, read back from its bytes. */
static void test_print_loose(void **state)
{
	(void)state;
	struct sipcx_dialog *d = uac_from(ok_invite);
	static const struct sipcx_hdr extra[] = {
		{ SIPCX_HDR_REASON, { NULL, 0 }, { "Q.850;cause=16", 14 } },
		{ SIPCX_HDR_OTHER, { "X-Call", 6 }, { "42", 2 } },
	};
	struct sipcx_dialog_req r = req_of("INFO", 0);
	r.hdrs = extra;
	r.nhdrs = N_ELEMS(extra);
	r.user_agent = SIPCX_STR("sipcx-test");
	r.content_type = SIPCX_STR("application/dtmf-relay");
	r.body = SIPCX_STR("Signal=5\r\nDuration=160\r\n");
	r.max_forwards = 20;

	struct sipcx_buf b;
	sipcx_buf_init(&b);
	sipcx_buf_puts(&b, "kept"); /* appended after what b holds */
	assert_int_equal(sipcx_dialog_print_request(d, &b, &r), 0);
	assert_memory_equal(b.p, "kept", 4);
	struct sipcx_msg *m = parse(b.p + 4, b.len - 4);
	assert_int_equal(sipcx_msg_check(m, 0, NULL), SIPCX_MSG_ACCEPT);
	sipcx_buf_free(&b);

	assert_int_equal(m->method, SIPCX_METHOD_INFO);
	assert_str(m->ruri, "sip:bob@192.0.2.5;transport=tcp");
	assert_int_equal(sipcx_msg_hdr_count(m, SIPCX_HDR_ROUTE), 1);
	assert_str(hval(m, SIPCX_HDR_ROUTE), "<sip:p1.atlanta.example.com;lr>, "
	                                     "<sip:p2.biloxi.example.com;lr;ftag=x>, "
	                                     "<sip:p3.biloxi.example.com;lr>");
	assert_str(hval(m, SIPCX_HDR_VIA), "SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKdlg1");
	assert_str(hval(m, SIPCX_HDR_MAX_FORWARDS), "20");
	assert_str(hval(m, SIPCX_HDR_FROM),
	           "\"Alice A.\" <sip:alice@atlanta.example.com>;x-from=2;tag=1928301774");
	assert_str(hval(m, SIPCX_HDR_TO), "Bob <sip:bob@biloxi.example.com>;x-to=1;tag=a6c85cf");
	assert_str(hval(m, SIPCX_HDR_CALL_ID), CALL_ID);
	assert_str(hval(m, SIPCX_HDR_CSEQ), "314160 INFO");
	assert_str(hval(m, SIPCX_HDR_CONTACT), "<sip:me@192.0.2.4:5060>");
	assert_str(hval(m, SIPCX_HDR_USER_AGENT), "sipcx-test");
	assert_str(hval(m, SIPCX_HDR_REASON), "Q.850;cause=16");
	assert_str(sipcx_msg_hdr_by_name(m, "X-Call")->value, "42");
	assert_str(sipcx_msg_content_type(m), "application/dtmf-relay");
	assert_str(m->body, "Signal=5\r\nDuration=160\r\n");
	/* The order: ours, the extra ones, then Content-Type and Content-Length. */
	static const enum sipcx_hdr_id order[] = {
		SIPCX_HDR_VIA,
		SIPCX_HDR_MAX_FORWARDS,
		SIPCX_HDR_ROUTE,
		SIPCX_HDR_FROM,
		SIPCX_HDR_TO,
		SIPCX_HDR_CALL_ID,
		SIPCX_HDR_CSEQ,
		SIPCX_HDR_CONTACT,
		SIPCX_HDR_USER_AGENT,
		SIPCX_HDR_REASON,
		SIPCX_HDR_OTHER,
		SIPCX_HDR_CONTENT_TYPE,
		SIPCX_HDR_CONTENT_LENGTH,
	};
	assert_int_equal(m->hdr_count, N_ELEMS(order));
	for (size_t i = 0; i < N_ELEMS(order); i++)
		assert_int_equal(m->hdrs[i].id, order[i]);
	sipcx_msg_unref(m);

	/* Without the optional parts: no Contact, User-Agent, Content-Type; Max-Forwards 70. */
	r = (struct sipcx_dialog_req){ .method = "BYE",
		                       .via = SIPCX_STR("SIP/2.0/TCP h;branch=z9hG4bKb"),
		                       .content_type = SIPCX_STR("text/plain") };
	m = print_req(d, &r);
	assert_null(sipcx_msg_hdr(m, SIPCX_HDR_CONTACT));
	assert_null(sipcx_msg_hdr(m, SIPCX_HDR_USER_AGENT));
	assert_null(sipcx_msg_hdr(m, SIPCX_HDR_CONTENT_TYPE));
	assert_str(hval(m, SIPCX_HDR_MAX_FORWARDS), "70");
	assert_str(hval(m, SIPCX_HDR_CONTENT_LENGTH), "0");
	sipcx_msg_unref(m);
	sipcx_dialog_free(d);
}

/* No route set: the Request-URI is the target, without what a Request-URI may not hold. */
static void test_print_no_routes(void **state)
{
	(void)state;
	struct sipcx_msg *inv = parse_edit(
	    invite_recv,
	    "Record-Route: <sip:p2.biloxi.example.com;lr>, <sip:p1.atlanta.example.com;lr>\r\n", "",
	    "Contact: <sip:alice@pc33.atlanta.example.com>",
	    "Contact: \"A\" <sip:alice@pc33.atlanta.example.com:5070;transport=udp;method=BYE;ob?Subject=x&Y=z>;expires=60");
	struct sipcx_dialog *d;
	assert_int_equal(sipcx_dialog_new_uas(&d, inv, bob_tag, true), 0);
	assert_str(
	    sipcx_dialog_remote_target(d),
	    "sip:alice@pc33.atlanta.example.com:5070;transport=udp;method=BYE;ob?Subject=x&Y=z");
	struct sipcx_dialog_req r = req_of("BYE", 0);
	struct sipcx_msg *m = print_req(d, &r);
	assert_str(m->ruri, "sip:alice@pc33.atlanta.example.com:5070;transport=udp;ob");
	assert_null(sipcx_msg_hdr(m, SIPCX_HDR_ROUTE));
	sipcx_msg_unref(m);
	struct sipcx_uri hop;
	assert_int_equal(sipcx_dialog_next_hop(d, &hop), 0);
	assert_str(hop.host, "pc33.atlanta.example.com");
	assert_int_equal(hop.port, 5070);
	struct sipcx_str tp;
	assert_true(sipcx_uri_param(&hop, "transport", &tp));
	assert_str(tp, "udp");
	sipcx_dialog_free(d);
	sipcx_msg_unref(inv);

	/* An IPv6 target keeps its brackets and port. */
	inv = parse_edit(
	    invite_recv,
	    "Record-Route: <sip:p2.biloxi.example.com;lr>, <sip:p1.atlanta.example.com;lr>\r\n", "",
	    "<sip:alice@pc33.atlanta.example.com>", "<sip:alice@[2001:db8::1]:5080;method=X>");
	assert_int_equal(sipcx_dialog_new_uas(&d, inv, bob_tag, true), 0);
	m = print_req(d, &r);
	assert_str(m->ruri, "sip:alice@[2001:db8::1]:5080");
	sipcx_msg_unref(m);
	sipcx_dialog_free(d);
	sipcx_msg_unref(inv);
}

/*
 * Strict routing (12.2.1.1, 16.12.1.2): the first route without lr goes
 * into the Request-URI, stripped of method and headers; the target goes
 * last in Route.
 */
static void test_print_strict(void **state)
{
	(void)state;
	struct sipcx_msg *inv = parse_edit(
	    invite_recv,
	    "Record-Route: <sip:p2.biloxi.example.com;lr>, <sip:p1.atlanta.example.com;lr>\r\n",
	    "Record-Route: <sip:strict.example.com;maddr=192.0.2.9;method=INVITE?X-Y=z>, "
	    "<sip:p1.atlanta.example.com;lr>, <sips:p0.example.com>\r\n");
	struct sipcx_dialog *d;
	assert_int_equal(sipcx_dialog_new_uas(&d, inv, bob_tag, true), 0);
	struct sipcx_dialog_req r = req_of("BYE", 0);
	struct sipcx_msg *m = print_req(d, &r);
	assert_str(m->ruri, "sip:strict.example.com;maddr=192.0.2.9");
	assert_str(hval(m, SIPCX_HDR_ROUTE),
	           "<sip:p1.atlanta.example.com;lr>, <sips:p0.example.com>, "
	           "<sip:alice@pc33.atlanta.example.com>");
	/* The last Route is the remote target. */
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_str v, last = SIPCX_STR_NULL;
	while (sipcx_msg_value_next(m, SIPCX_HDR_ROUTE, &it, &v) == 1)
		last = v;
	assert_str(last, "<sip:alice@pc33.atlanta.example.com>");
	sipcx_msg_unref(m);
	/* The next hop is the strict router. */
	struct sipcx_uri hop;
	assert_int_equal(sipcx_dialog_next_hop(d, &hop), 0);
	assert_str(hop.host, "strict.example.com");
	assert_true(sipcx_uri_param(&hop, "maddr", NULL));
	sipcx_dialog_free(d);
	sipcx_msg_unref(inv);

	/* One strict route: Route is the target alone. */
	inv = parse_edit(
	    invite_recv,
	    "Record-Route: <sip:p2.biloxi.example.com;lr>, <sip:p1.atlanta.example.com;lr>\r\n",
	    "Record-Route: <sip:strict.example.com>\r\n");
	assert_int_equal(sipcx_dialog_new_uas(&d, inv, bob_tag, true), 0);
	m = print_req(d, &r);
	assert_str(m->ruri, "sip:strict.example.com");
	assert_str(hval(m, SIPCX_HDR_ROUTE), "<sip:alice@pc33.atlanta.example.com>");
	sipcx_msg_unref(m);
	sipcx_dialog_free(d);
	sipcx_msg_unref(inv);

	/* A UAC reads the route set backwards: the strict router it must see first is the last RR. */
	struct sipcx_msg *req = parse_c(invite_sent);
	struct sipcx_msg *resp =
	    parse_edit(ringing, "<sip:p1.atlanta.example.com;lr>", "<sip:p1.atlanta.example.com>");
	assert_int_equal(sipcx_dialog_new_uac(&d, req, resp), 0);
	r = req_of("PRACK", 0);
	m = print_req(d, &r);
	assert_str(m->ruri, "sip:p1.atlanta.example.com");
	assert_str(hval(m, SIPCX_HDR_ROUTE), "<sip:p2.biloxi.example.com;lr>, <sip:bob@192.0.2.4>");
	sipcx_msg_unref(m);
	sipcx_dialog_free(d);
	sipcx_msg_unref(resp);
	sipcx_msg_unref(req);
}

static void test_print_errors(void **state)
{
	(void)state;
	struct sipcx_dialog *d = uac_from(ok_invite);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	sipcx_buf_puts(&b, "x");
	struct sipcx_dialog_req r;
	struct sipcx_hdr bad_hdr = { SIPCX_HDR_OTHER, SIPCX_STR("X-Evil"),
		                     SIPCX_STR("a\r\nInjected: yes") };
	struct sipcx_hdr many[SIPCX_MSG_MAX_HDRS];
	for (size_t i = 0; i < N_ELEMS(many); i++)
		many[i] = (struct sipcx_hdr){ SIPCX_HDR_OTHER, SIPCX_STR("X-N"), SIPCX_STR("1") };

	struct {
		const char *what;
		int err;
	} cases[] = {
		{ "no method", -EINVAL }, { "bad method", -EINVAL },  { "long method", -EINVAL },
		{ "no via", -EINVAL },    { "max-fwd", -EINVAL },     { "body no type", -EINVAL },
		{ "hdrs NULL", -EINVAL }, { "injection", -EINVAL },   { "too many", -E2BIG },
		{ "bad slice", -EINVAL }, { "absurd count", -E2BIG },
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		r = req_of("INFO", 0);
		switch (i) {
		case 0:
			r.method = NULL;
			break;
		case 1:
			r.method = "IN FO";
			break;
		case 2:
			r.method = "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG"; /* 33 */
			break;
		case 3:
			r.via = SIPCX_STR_NULL;
			break;
		case 4:
			r.max_forwards = 256;
			break;
		case 5:
			r.body = SIPCX_STR("x");
			break;
		case 6:
			r.nhdrs = 1;
			break;
		case 7:
			r.hdrs = &bad_hdr;
			r.nhdrs = 1;
			break;
		case 8:
			r.hdrs = many;
			r.nhdrs = SIPCX_MSG_MAX_HDRS - 10;
			break;
		case 9:
			r.contact = (struct sipcx_str){ NULL, 3 };
			break;
		case 10:
			r.hdrs = many;
			r.nhdrs = SIZE_MAX;
			break;
		}
		int err = sipcx_dialog_print_request(d, &b, &r);
		if (err != cases[i].err)
			fail_msg("%s: %d, want %d", cases[i].what, err, cases[i].err);
		/* b as it was, the CSeq not consumed. */
		assert_int_equal(b.len, 1);
		assert_int_equal(sipcx_dialog_local_cseq(d), 314159);
	}
	/* 32 bytes is fine; so are extra headers up to the message's limit. */
	r = req_of("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF", 0);
	struct sipcx_msg *m = print_req(d, &r);
	sipcx_msg_unref(m);
	r = req_of("INFO", 0);
	r.hdrs = many;
	r.nhdrs = SIPCX_MSG_MAX_HDRS - 11;
	m = print_req(d, &r);
	sipcx_msg_unref(m);
	assert_int_equal(sipcx_dialog_print_request(NULL, &b, &r), -EINVAL);
	assert_int_equal(sipcx_dialog_print_request(d, NULL, &r), -EINVAL);
	assert_int_equal(sipcx_dialog_print_request(d, &b, NULL), -EINVAL);
	sipcx_buf_free(&b);
	sipcx_dialog_free(d);
}

/* Terminated: ACK and BYE can still go; nothing else, and nothing comes in. */
static void test_terminated(void **state)
{
	(void)state;
	struct sipcx_dialog *d = uac_from(ok_invite);
	sipcx_dialog_terminate(d);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_TERMINATED);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	struct sipcx_dialog_req r = req_of("INFO", 0);
	assert_int_equal(sipcx_dialog_print_request(d, &b, &r), -EINVAL);
	r = req_of("INVITE", 0);
	assert_int_equal(sipcx_dialog_print_request(d, &b, &r), -EINVAL);
	assert_int_equal(b.len, 0);
	r = req_of("ACK", 314159);
	struct sipcx_msg *m = print_req(d, &r);
	sipcx_msg_unref(m);
	r = req_of("BYE", 0);
	m = print_req(d, &r);
	assert_int_equal(cseq_of(m), 314160);
	sipcx_msg_unref(m);
	/* Still matched (a late 2xx must find it to be ACKed), but not fed. */
	struct sipcx_msg *ok = parse_c(ok_invite);
	assert_true(sipcx_dialog_match_response(d, ok));
	assert_int_equal(sipcx_dialog_recv_response(d, ok), -EINVAL);
	sipcx_msg_unref(ok);
	sipcx_buf_free(&b);
	sipcx_dialog_free(d);
}

/* The responses that end a dialog (12.2.1.2, 12.3) and those that do not. */
static void test_recv_response_ends(void **state)
{
	(void)state;
	struct {
		const char *status;
		const char *cseq;
		bool early;
		enum sipcx_dialog_state want;
	} cases[] = {
		{ "487 Request Terminated", "314159 INVITE", true, SIPCX_DIALOG_TERMINATED },
		{ "603 Decline", "314159 INVITE", true, SIPCX_DIALOG_TERMINATED },
		{ "302 Moved", "314159 INVITE", true, SIPCX_DIALOG_TERMINATED },
		{ "481 No Dialog", "314160 INFO", false, SIPCX_DIALOG_TERMINATED },
		{ "408 Request Timeout", "314160 INFO", false, SIPCX_DIALOG_TERMINATED },
		{ "481 No Dialog", "314160 PRACK", true, SIPCX_DIALOG_TERMINATED },
		{ "500 Oops", "314160 INFO", false, SIPCX_DIALOG_CONFIRMED },
		{ "491 Pending", "314160 INVITE", false, SIPCX_DIALOG_CONFIRMED },
		{ "480 Unavailable", "314160 PRACK", true, SIPCX_DIALOG_EARLY },
		/* A 200 to a PRACK or UPDATE does not confirm an early dialog. */
		{ "200 OK", "314160 PRACK", true, SIPCX_DIALOG_EARLY },
		{ "200 OK", "314160 UPDATE", true, SIPCX_DIALOG_EARLY },
		/* Nor does the 200 to a CANCEL, with the INVITE's number and tags. */
		{ "200 OK", "314159 CANCEL", true, SIPCX_DIALOG_EARLY },
		/* A 100 with the tags changes nothing. */
		{ "100 Trying", "314159 INVITE", true, SIPCX_DIALOG_EARLY },
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct sipcx_dialog *d = uac_from(cases[i].early ? ringing : ok_invite);
		struct sipcx_msg *m = parse_edit(ok_invite, "200 OK", cases[i].status,
		                                 "314159 INVITE", cases[i].cseq);
		assert_int_equal(sipcx_dialog_recv_response(d, m), 0);
		if (sipcx_dialog_state(d) != cases[i].want)
			fail_msg("%s to %s: %s", cases[i].status, cases[i].cseq,
			         sipcx_dialog_state_name(sipcx_dialog_state(d)));
		if (cases[i].want == SIPCX_DIALOG_EARLY)
			assert_int_equal(sipcx_dialog_route_count(d), 2);
		sipcx_msg_unref(m);
		sipcx_dialog_free(d);
	}
	/* The 200 to an UPDATE in the early dialog refreshes the target (RFC 3311). */
	struct sipcx_dialog *d = uac_from(ringing);
	struct sipcx_msg *m = parse_edit(ok_invite, "314159 INVITE", "314160 UPDATE");
	assert_int_equal(sipcx_dialog_recv_response(d, m), 0);
	assert_str(sipcx_dialog_remote_target(d), "sip:bob@192.0.2.5;transport=tcp");
	sipcx_msg_unref(m);

	/* Responses of another dialog, requests, NULL: refused, nothing changes. */
	struct sipcx_msg *other = parse_edit(ok_invite, ";tag=a6c85cf", ";tag=other");
	assert_int_equal(sipcx_dialog_recv_response(d, other), -EINVAL);
	sipcx_msg_unref(other);
	other = parse_edit(ok_invite, "Call-ID: a84b", "Call-ID: b84b");
	assert_int_equal(sipcx_dialog_recv_response(d, other), -EINVAL);
	sipcx_msg_unref(other);
	other = parse_edit(ok_invite, "tag=1928301774", "tag=1928301775");
	assert_int_equal(sipcx_dialog_recv_response(d, other), -EINVAL);
	sipcx_msg_unref(other);
	other = parse_c(invite_sent);
	assert_int_equal(sipcx_dialog_recv_response(d, other), -EINVAL);
	sipcx_msg_unref(other);
	other = parse_c(ok_invite);
	assert_int_equal(sipcx_dialog_recv_response(NULL, other), -EINVAL);
	sipcx_msg_unref(other);
	assert_int_equal(sipcx_dialog_recv_response(d, NULL), -EINVAL);
	/* A 2xx whose Contact or Record-Route is unusable: refused, the dialog unchanged. */
	struct sipcx_msg *bad =
	    parse_edit(ok_invite, "<sip:bob@192.0.2.5;transport=tcp>", "<sip:bob@192.0.2.5");
	assert_int_equal(sipcx_dialog_recv_response(d, bad), -EBADMSG);
	sipcx_msg_unref(bad);
	bad =
	    parse_edit(ok_invite, "<sip:p3.biloxi.example.com;lr>", "sip:p3.biloxi.example.com;lr");
	assert_int_equal(sipcx_dialog_recv_response(d, bad), -EBADMSG);
	sipcx_msg_unref(bad);
	bad = parse_edit(ok_invite, "CSeq: 314159 INVITE", "CSeq: INVITE");
	assert_int_equal(sipcx_dialog_recv_response(d, bad), -EBADMSG);
	sipcx_msg_unref(bad);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_EARLY);
	assert_int_equal(sipcx_dialog_route_count(d), 2);
	assert_str(sipcx_dialog_route(d, 0), "<sip:p1.atlanta.example.com;lr>");
	sipcx_dialog_free(d);
}

/*
 * Matching and forks.
 */

/* Two 2xx with different To tags: two dialogs, each matching only its own messages. */
static void test_forking(void **state)
{
	(void)state;
	struct sipcx_msg *req = parse_c(invite_sent);
	struct sipcx_msg *ok1 = parse_c(ok_invite);
	struct sipcx_msg *ok2 = parse_edit(ok_invite, ";tag=a6c85cf", ";tag=fork2",
	                                   "192.0.2.5;transport=tcp", "198.51.100.7");
	struct sipcx_dialog *d1, *d2;
	assert_int_equal(sipcx_dialog_new_uac(&d1, req, ok1), 0);
	assert_int_equal(sipcx_dialog_new_uac(&d2, req, ok2), 0);
	assert_str(sipcx_dialog_remote_tag(d2), "fork2");
	assert_str(sipcx_dialog_remote_target(d2), "sip:bob@198.51.100.7");

	assert_true(sipcx_dialog_match_response(d1, ok1));
	assert_false(sipcx_dialog_match_response(d1, ok2));
	assert_true(sipcx_dialog_match_response(d2, ok2));
	assert_false(sipcx_dialog_match_response(d2, ok1));
	/* Each gets only its own retransmissions. */
	assert_int_equal(sipcx_dialog_recv_response(d1, ok2), -EINVAL);
	assert_int_equal(sipcx_dialog_recv_response(d2, ok2), 0);
	/* A request is not a response, and the other way round. */
	assert_false(sipcx_dialog_match_request(d1, ok1));
	assert_false(sipcx_dialog_match_response(d1, req));

	/* The table key: equal for forks, and the key of their messages. */
	uint32_t h1 = sipcx_dialog_hash(d1), h2 = sipcx_dialog_hash(d2), hm;
	assert_int_equal(h1, h2);
	assert_int_equal(h1, sipcx_dialog_key_hash(SIPCX_STR(CALL_ID), SIPCX_STR("1928301774")));
	assert_int_equal(sipcx_dialog_msg_hash(ok2, &hm), 0);
	assert_int_equal(hm, h1);
	assert_true(h1 != sipcx_dialog_key_hash(SIPCX_STR(CALL_ID), SIPCX_STR("1928301775")));
	assert_true(h1 != sipcx_dialog_key_hash(SIPCX_STR("x" CALL_ID), SIPCX_STR("1928301774")));
	assert_true(sipcx_dialog_key_hash(SIPCX_STR("ab"), SIPCX_STR("c")) !=
	            sipcx_dialog_key_hash(SIPCX_STR("a"), SIPCX_STR("bc")));

	/* A BYE from fork 2 (its To tag is ours) matches d2 only. */
	struct sipcx_msg *bye =
	    parse_c("BYE sip:alice@pc33.atlanta.example.com SIP/2.0\r\n"
	            "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKf2\r\n"
	            "From: Bob <sip:bob@biloxi.example.com>;tag=fork2\r\n"
	            "To: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	            "Call-ID: " CALL_ID "\r\n"
	            "CSeq: 1 BYE\r\n"
	            "Content-Length: 0\r\n\r\n");
	assert_true(sipcx_dialog_match_request(d2, bye));
	assert_false(sipcx_dialog_match_request(d1, bye));
	assert_int_equal(sipcx_dialog_msg_hash(bye, &hm), 0);
	assert_int_equal(hm, h1);

	/* A request outside any dialog has no key; NULLs give nothing. */
	assert_int_equal(sipcx_dialog_msg_hash(req, &hm), -EINVAL);
	assert_int_equal(sipcx_dialog_msg_hash(NULL, &hm), -EINVAL);
	assert_int_equal(sipcx_dialog_msg_hash(bye, NULL), -EINVAL);
	assert_false(sipcx_dialog_match_request(NULL, bye));
	assert_false(sipcx_dialog_match_request(d2, NULL));
	assert_false(sipcx_dialog_match_response(NULL, ok1));
	assert_int_equal(sipcx_dialog_hash(NULL), 0);

	/* The UAS side keys by the same pair. */
	struct sipcx_dialog *u = uas_from(invite_recv, true);
	assert_int_equal(sipcx_dialog_hash(u), sipcx_dialog_key_hash(SIPCX_STR(CALL_ID), bob_tag));
	struct sipcx_msg *info = parse_c(info_recv);
	assert_int_equal(sipcx_dialog_msg_hash(info, &hm), 0);
	assert_int_equal(hm, sipcx_dialog_hash(u));
	sipcx_msg_unref(info);
	sipcx_dialog_free(u);

	sipcx_msg_unref(bye);
	sipcx_dialog_free(d2);
	sipcx_dialog_free(d1);
	sipcx_msg_unref(ok2);
	sipcx_msg_unref(ok1);
	sipcx_msg_unref(req);
}

/*
 * Creation errors and hostile input.
 */

static void test_new_errors(void **state)
{
	(void)state;
	struct sipcx_msg *req = parse_c(invite_sent), *ok = parse_c(ok_invite);
	struct sipcx_dialog *d = NULL, *const untouched = UNTOUCHED;
	struct {
		const char *from, *to;
		bool edit_req;
		int err;
	} uac[] = {
		{ "200 OK", "100 Trying", false, -EINVAL },
		{ "200 OK", "300 Multiple Choices", false, -EINVAL },
		{ "200 OK", "486 Busy Here", false, -EINVAL },
		{ ";tag=a6c85cf", "", false, -EINVAL },
		{ "Call-ID: a84b", "Call-ID: a84c", false, -EINVAL },
		{ "tag=1928301774", "tag=1928301775", false, -EINVAL },
		{ "CSeq: 314159 INVITE", "CSeq: 314158 INVITE", false, -EINVAL },
		{ "CSeq: 314159 INVITE", "CSeq: 314159 CANCEL", false, -EINVAL },
		{ "<sip:bob@192.0.2.5;transport=tcp>", "<tel:+15550100>", false, -EBADMSG },
		{ "<sip:bob@192.0.2.5;transport=tcp>", "*", false, -EBADMSG },
		{ "<sip:bob@192.0.2.5;transport=tcp>", "<sip:bob@192.0.2.5", false, -EBADMSG },
		{ ";tag=a6c85cf", ";tag=\"a b\"", false, -EBADMSG },
		{ "<sip:p3.biloxi.example.com;lr>", "<http://p3.biloxi.example.com>", false,
		  -EBADMSG },
		{ "<sip:p3.biloxi.example.com;lr>", "<sip:p3.biloxi.example.com;lr", false,
		  -EBADMSG },
		{ "<sip:p3.biloxi.example.com;lr>", "\"p3", false, -EBADMSG },
		{ "<sip:p3.biloxi.example.com;lr>", "garbage here", false, -EBADMSG },
		{ "INVITE sip:", "ACK sip:", true, -EINVAL },
		{ "Call-ID: " CALL_ID "\r\n", "", true, -EBADMSG },
		{ "From: \"Alice A.\"", "From: <sip:x@y>, \"Alice A.\"", true, -EBADMSG },
	};
	for (size_t i = 0; i < N_ELEMS(uac); i++) {
		struct sipcx_msg *q = req, *s = ok;
		if (uac[i].edit_req)
			q = parse_edit(invite_sent, uac[i].from, uac[i].to);
		else
			s = parse_edit(ok_invite, uac[i].from, uac[i].to);
		d = untouched;
		int err = sipcx_dialog_new_uac(&d, q, s);
		if (err != uac[i].err)
			fail_msg("uac case %zu (%s): %d, want %d", i, uac[i].to, err, uac[i].err);
		assert_ptr_equal(d, untouched);
		if (q != req)
			sipcx_msg_unref(q);
		if (s != ok)
			sipcx_msg_unref(s);
	}
	assert_int_equal(sipcx_dialog_new_uac(NULL, req, ok), -EINVAL);
	assert_int_equal(sipcx_dialog_new_uac(&d, NULL, ok), -EINVAL);
	assert_int_equal(sipcx_dialog_new_uac(&d, req, NULL), -EINVAL);
	assert_int_equal(sipcx_dialog_new_uac(&d, ok, req), -EINVAL);

	struct sipcx_msg *inv = parse_c(invite_recv);
	struct {
		const char *from, *to;
		int err;
	} uas[] = {
		{ "Contact: <sip:alice@pc33.atlanta.example.com>\r\n", "", -EBADMSG },
		{ "<sip:alice@pc33.atlanta.example.com>", "<mailto:alice@atlanta.example.com>",
		  -EBADMSG },
		{ "To: Bob <sip:bob@biloxi.example.com>",
		  "To: Bob <sip:bob@biloxi.example.com>;tag=t", -EINVAL },
		{ "tag=1928301774", "tag=1928:301774", -EBADMSG },
		{ "INVITE sip:", "CANCEL sip:", -EINVAL },
		{ "INVITE sip:", "BYE sip:", -EINVAL },
		{ "CSeq: 314159 INVITE", "CSeq: 2147483648 INVITE", -EBADMSG },
		{ "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774", "From: *",
		  -EBADMSG },
		{ "<sip:p2.biloxi.example.com;lr>", "sip:p2.biloxi.example.com", -EBADMSG },
	};
	for (size_t i = 0; i < N_ELEMS(uas); i++) {
		struct sipcx_msg *q = parse_edit(invite_recv, uas[i].from, uas[i].to);
		d = untouched;
		int err = sipcx_dialog_new_uas(&d, q, bob_tag, false);
		if (err != uas[i].err)
			fail_msg("uas case %zu (%s): %d, want %d", i, uas[i].to, err, uas[i].err);
		assert_ptr_equal(d, untouched);
		sipcx_msg_unref(q);
	}
	d = untouched;
	assert_int_equal(sipcx_dialog_new_uas(&d, inv, SIPCX_STR_NULL, false), -EINVAL);
	assert_int_equal(sipcx_dialog_new_uas(&d, inv, SIPCX_STR("a b"), false), -EINVAL);
	assert_int_equal(sipcx_dialog_new_uas(&d, ok, bob_tag, false), -EINVAL);
	assert_int_equal(sipcx_dialog_new_uas(&d, NULL, bob_tag, false), -EINVAL);
	assert_int_equal(sipcx_dialog_new_uas(NULL, inv, bob_tag, false), -EINVAL);
	assert_ptr_equal(d, untouched);

	sipcx_msg_unref(inv);
	sipcx_msg_unref(ok);
	sipcx_msg_unref(req);
}

/* A malloc'd string: head, then n items, then tail. An item is pre, i (when numbered), post. */
static char *repeat(const char *head, const char *pre, int n, bool numbered, const char *post,
                    const char *tail)
{
	size_t cap =
	    strlen(head) + strlen(tail) + (size_t)n * (strlen(pre) + strlen(post) + 12) + 1;
	char *s = malloc(cap);
	assert_non_null(s);
	size_t len = (size_t)snprintf(s, cap, "%s", head);
	for (int i = 0; i < n; i++) {
		if (numbered)
			len += (size_t)snprintf(s + len, cap - len, "%s%d%s", pre, i, post);
		else
			len += (size_t)snprintf(s + len, cap - len, "%s%s", pre, post);
	}
	snprintf(s + len, cap - len, "%s", tail);
	return s;
}

/* n Record-Route values in one INVITE received, as one line: the first, then pre i post. */
static struct sipcx_msg *invite_with_routes(int n, const char *pre, const char *post)
{
	char *rr = repeat("Record-Route: <sip:r.example.com;lr>", pre, n - 1, true, post, "\r\n");
	struct sipcx_msg *m = parse_edit(
	    invite_recv,
	    "Record-Route: <sip:p2.biloxi.example.com;lr>, <sip:p1.atlanta.example.com;lr>\r\n",
	    rr);
	free(rr);
	return m;
}

static void test_limits(void **state)
{
	(void)state;
	struct sipcx_dialog *d = NULL;
	/* 16 routes: fine, and printed. 17 or 1000: -E2BIG. */
	struct sipcx_msg *m = invite_with_routes(16, ", <sip:r", ".example.com;lr>");
	assert_int_equal(sipcx_dialog_new_uas(&d, m, bob_tag, true), 0);
	assert_int_equal(sipcx_dialog_route_count(d), SIPCX_DIALOG_MAX_ROUTES);
	assert_str(sipcx_dialog_route(d, 15), "<sip:r14.example.com;lr>");
	struct sipcx_dialog_req r = req_of("BYE", 0);
	struct sipcx_msg *bye = print_req(d, &r);
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_str v;
	int n = 0;
	while (sipcx_msg_value_next(bye, SIPCX_HDR_ROUTE, &it, &v) == 1)
		n++;
	assert_int_equal(n, 16);
	sipcx_msg_unref(bye);
	sipcx_dialog_free(d);
	sipcx_msg_unref(m);
	d = NULL;
	m = invite_with_routes(17, ", <sip:r", ".example.com;lr>");
	assert_int_equal(sipcx_dialog_new_uas(&d, m, bob_tag, true), -E2BIG);
	assert_null(d);
	sipcx_msg_unref(m);
	m = invite_with_routes(1000, ",<sip:r", ">");
	assert_int_equal(sipcx_dialog_new_uas(&d, m, bob_tag, true), -E2BIG);
	sipcx_msg_unref(m);

	/* A UAC's response with 17 routes, over several lines. */
	struct sipcx_msg *req = parse_c(invite_sent);
	char *rr = repeat("", "Record-Route: <sip:x", 17, true, ".example.com;lr>\r\n", "");
	struct sipcx_msg *resp =
	    parse_edit(ok_invite, "Record-Route: <sip:p1.atlanta.example.com;lr>\r\n", rr);
	free(rr);
	assert_int_equal(sipcx_dialog_new_uac(&d, req, resp), -E2BIG);
	/* ...and as the 2xx that would confirm an early dialog: refused, nothing changes. */
	struct sipcx_dialog *early = uac_from(ringing);
	assert_int_equal(sipcx_dialog_recv_response(early, resp), -E2BIG);
	assert_int_equal(sipcx_dialog_state(early), SIPCX_DIALOG_EARLY);
	assert_int_equal(sipcx_dialog_route_count(early), 2);
	sipcx_msg_unref(resp);

	/* Strings: 4 KiB in all. A 5000-byte display name, a 4000-byte Contact: -EMSGSIZE. */
	char *big =
	    repeat("From: \"", "abcdefghij", 500, false, "", "\" <sip:alice@atlanta.example.com>");
	m = parse_edit(invite_recv, "From: Alice <sip:alice@atlanta.example.com>", big);
	free(big);
	assert_int_equal(sipcx_dialog_new_uas(&d, m, bob_tag, true), -EMSGSIZE);
	sipcx_msg_unref(m);
	big = repeat("<sip:", "abcdefghij", 400, false, "", "@192.0.2.5>");
	struct sipcx_msg *ok = parse_edit(ok_invite, "<sip:bob@192.0.2.5;transport=tcp>", big);
	assert_int_equal(sipcx_dialog_new_uac(&d, req, ok), -EMSGSIZE);
	assert_int_equal(sipcx_dialog_recv_response(early, ok), -EMSGSIZE);
	assert_int_equal(sipcx_dialog_state(early), SIPCX_DIALOG_EARLY);
	assert_str(sipcx_dialog_remote_target(early), "sip:bob@192.0.2.4");
	sipcx_msg_unref(ok);
	/* A re-INVITE with it: accepted, the old target kept. */
	struct sipcx_dialog *u = uas_from(invite_recv, true);
	m = parse_edit(info_recv, "INFO sip", "INVITE sip", "314160 INFO", "314160 INVITE",
	               "<sip:alice@192.0.2.99>", big);
	free(big);
	uint16_t status = 1;
	assert_int_equal(sipcx_dialog_recv_request(u, m, &status), 0);
	assert_int_equal(status, 0);
	assert_str(sipcx_dialog_remote_target(u), "sip:alice@pc33.atlanta.example.com");
	assert_int_equal(sipcx_dialog_remote_cseq(u), 314160);
	sipcx_msg_unref(m);
	/* Just under the limit works, and prints. */
	big = repeat("<sip:", "abcdefghij", 300, false, "", "@192.0.2.5>");
	m = parse_edit(info_recv, "INFO sip", "INVITE sip", "314160 INFO", "314161 INVITE",
	               "<sip:alice@192.0.2.99>", big);
	free(big);
	assert_int_equal(sipcx_dialog_recv_request(u, m, &status), 0);
	assert_int_equal(sipcx_dialog_remote_target(u).len, 4 + 3000 + 10);
	bye = print_req(u, &r);
	assert_int_equal(bye->ruri.len, 4 + 3000 + 10);
	sipcx_msg_unref(bye);
	sipcx_msg_unref(m);

	sipcx_dialog_free(u);
	sipcx_dialog_free(early);
	sipcx_msg_unref(req);
}

/* NULL everywhere it is allowed. */
static void test_null(void **state)
{
	(void)state;
	assert_int_equal(sipcx_dialog_state(NULL), SIPCX_DIALOG_TERMINATED);
	assert_string_equal(sipcx_dialog_state_name(SIPCX_DIALOG_EARLY), "early");
	assert_string_equal(sipcx_dialog_state_name(SIPCX_DIALOG_CONFIRMED), "confirmed");
	assert_string_equal(sipcx_dialog_state_name(SIPCX_DIALOG_TERMINATED), "terminated");
	assert_string_equal(sipcx_dialog_state_name((enum sipcx_dialog_state)9), "unknown");
	assert_int_equal(sipcx_dialog_call_id(NULL).len, 0);
	assert_int_equal(sipcx_dialog_local_tag(NULL).len, 0);
	assert_int_equal(sipcx_dialog_remote_tag(NULL).len, 0);
	assert_int_equal(sipcx_dialog_local_uri(NULL).len, 0);
	assert_int_equal(sipcx_dialog_remote_uri(NULL).len, 0);
	assert_int_equal(sipcx_dialog_remote_target(NULL).len, 0);
	assert_int_equal(sipcx_dialog_local_cseq(NULL), 0);
	assert_int_equal(sipcx_dialog_remote_cseq(NULL), 0);
	assert_false(sipcx_dialog_has_remote_cseq(NULL));
	assert_int_equal(sipcx_dialog_route_count(NULL), 0);
	assert_int_equal(sipcx_dialog_route(NULL, 0).len, 0);
	assert_false(sipcx_dialog_secure(NULL));
	assert_false(sipcx_dialog_is_uac(NULL));
	struct sipcx_uri u;
	assert_int_equal(sipcx_dialog_next_hop(NULL, &u), -EINVAL);
	sipcx_dialog_confirm(NULL);
	sipcx_dialog_terminate(NULL);
	sipcx_dialog_free(NULL);
	struct sipcx_dialog *d = uac_from(ringing);
	assert_int_equal(sipcx_dialog_next_hop(d, NULL), -EINVAL);
	struct sipcx_uri hop;
	assert_int_equal(sipcx_dialog_next_hop(d, &hop), 0);
	assert_str(hop.raw, "sip:p1.atlanta.example.com;lr");
	sipcx_dialog_free(d);
}

/*
 * Memory.
 */

/* A byte-counting allocator: each block carries its size in a header. */
#define MEM_HDR 16
static size_t mem_bytes;
static long mem_blocks;

static void *mem_malloc(size_t size, void *arg)
{
	(void)arg;
	unsigned char *p = malloc(MEM_HDR + size);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	mem_bytes += size;
	mem_blocks++;
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
	void *n = mem_malloc(size, arg);
	if (n && ptr) {
		size_t old;
		memcpy(&old, (unsigned char *)ptr - MEM_HDR, sizeof(old));
		memcpy(n, ptr, old < size ? old : size);
		mem_free(ptr, arg);
	}
	return n;
}

/*
 * A dialog is one block of well under 1 KiB for a call through two
 * proxies; a target that outgrows its place moves to a second block, one
 * that fits stays where it is.
 */
static void test_memory(void **state)
{
	(void)state;
	struct sipcx_msg *inv = parse_c(invite_recv);
	static const struct sipcx_allocator a = { mem_malloc, mem_realloc, mem_free, NULL };
	sipcx_allocator_set(&a);
	mem_bytes = 0;
	mem_blocks = 0;
	struct sipcx_dialog *d;
	assert_int_equal(sipcx_dialog_new_uas(&d, inv, bob_tag, true), 0);
	print_message("dialog through two proxies: %zu bytes in %ld block\n", mem_bytes,
	              mem_blocks);
	assert_int_equal(mem_blocks, 1);
	assert_true(mem_bytes < 512);

	uint16_t status;
	/* Shorter targets than the first: in place, no allocation. */
	struct sipcx_msg *m = info_with_cseq("INVITE", 314160, "192.0.2.98");
	assert_int_equal(sipcx_dialog_recv_request(d, m, &status), 0);
	sipcx_msg_unref(m);
	assert_int_equal(mem_blocks, 1);
	m = info_with_cseq("INVITE", 314161, "192.0.2.1");
	assert_int_equal(sipcx_dialog_recv_request(d, m, &status), 0);
	sipcx_msg_unref(m);
	assert_int_equal(mem_blocks, 1);
	assert_str(sipcx_dialog_remote_target(d), "sip:alice@192.0.2.1");
	m = info_with_cseq("INVITE", 314162, "a-much-longer-host-name.example.com:5070");
	size_t before = mem_bytes;
	long blocks = mem_blocks;
	assert_int_equal(sipcx_dialog_recv_request(d, m, &status), 0);
	assert_int_equal(mem_blocks, blocks + 1);
	assert_true(mem_bytes > before);
	assert_str(sipcx_dialog_remote_target(d),
	           "sip:alice@a-much-longer-host-name.example.com:5070");
	/* The routes moved with it. */
	assert_str(sipcx_dialog_route(d, 1), "<sip:p1.atlanta.example.com;lr>");
	/* Growing again: the old second block is released. */
	sipcx_msg_unref(m);
	m = info_with_cseq("INVITE", 314163, "an-even-much-longer-host-name.example.com:5070");
	blocks = mem_blocks;
	assert_int_equal(sipcx_dialog_recv_request(d, m, &status), 0);
	assert_int_equal(mem_blocks, blocks);
	sipcx_msg_unref(m);
	sipcx_dialog_free(d);
	assert_int_equal(mem_blocks, 0);
	assert_int_equal(mem_bytes, 0);
	sipcx_allocator_set(NULL);
	sipcx_msg_unref(inv);
}

/*
 * Out of memory: every allocation fails in turn; each failure returns
 * -ENOMEM, changes nothing and leaks nothing.
 */

/* Run op with the nth allocation failing, n = 1, 2, ... until it succeeds. */
#define OOM_SWEEP(r, op, on_fail)                         \
	for (long n_ = 1;; n_++) {                        \
		long live_ = tu_alloc_live();             \
		tu_alloc_fail_at(n_);                     \
		(r) = (op);                               \
		int failed_ = tu_alloc_failed();          \
		tu_alloc_fail_at(0);                      \
		if ((r) != -ENOMEM)                       \
			break;                            \
		assert_true(failed_);                     \
		on_fail;                                  \
		assert_int_equal(tu_alloc_live(), live_); \
		assert_true(n_ < 20);                     \
	}

static void test_oom(void **state)
{
	(void)state;
	struct sipcx_msg *req = parse_c(invite_sent), *r180 = parse_c(ringing);
	struct sipcx_msg *ok = parse_c(ok_invite), *inv = parse_c(invite_recv);
	struct sipcx_msg *reinv =
	    info_with_cseq("INVITE", 314161, "a-much-longer-host-name.example.com");
	tu_alloc_install();
	long live = tu_alloc_live();
	int r;
	struct sipcx_dialog *d = NULL, *u = NULL;

	OOM_SWEEP(r, sipcx_dialog_new_uac(&d, req, r180), assert_null(d));
	assert_int_equal(r, 0);
	/* The 2xx with more routes outgrows the 180's place. */
	OOM_SWEEP(r, sipcx_dialog_recv_response(d, ok), {
		assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_EARLY);
		assert_int_equal(sipcx_dialog_route_count(d), 2);
		assert_str(sipcx_dialog_remote_target(d), "sip:bob@192.0.2.4");
	});
	assert_int_equal(r, 0);
	assert_int_equal(sipcx_dialog_state(d), SIPCX_DIALOG_CONFIRMED);

	OOM_SWEEP(r, sipcx_dialog_new_uas(&u, inv, bob_tag, false), assert_null(u));
	assert_int_equal(r, 0);
	uint16_t status = 7;
	OOM_SWEEP(r, sipcx_dialog_recv_request(u, reinv, &status), {
		assert_int_equal(sipcx_dialog_remote_cseq(u), 314159);
		assert_str(sipcx_dialog_remote_target(u), "sip:alice@pc33.atlanta.example.com");
	});
	assert_int_equal(r, 0);
	assert_int_equal(status, 0);
	assert_int_equal(sipcx_dialog_remote_cseq(u), 314161);

	struct sipcx_dialog_req q = req_of("BYE", 0);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	OOM_SWEEP(r, sipcx_dialog_print_request(d, &b, &q), {
		assert_int_equal(sipcx_dialog_local_cseq(d), 314159);
		sipcx_buf_free(&b);
		sipcx_buf_init(&b);
	});
	assert_int_equal(r, 0);
	assert_int_equal(sipcx_dialog_local_cseq(d), 314160);
	sipcx_buf_free(&b);

	sipcx_dialog_free(u);
	sipcx_dialog_free(d);
	assert_int_equal(tu_alloc_live(), live);
	tu_alloc_uninstall();
	sipcx_msg_unref(reinv);
	sipcx_msg_unref(inv);
	sipcx_msg_unref(ok);
	sipcx_msg_unref(r180);
	sipcx_msg_unref(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uac_early_then_confirmed),
		cmocka_unit_test(test_uac_from_2xx_and_secure),
		cmocka_unit_test(test_uac_1xx_without_contact),
		cmocka_unit_test(test_uas_create),
		cmocka_unit_test(test_record_route_order),
		cmocka_unit_test(test_uas_rfc2543_peer),
		cmocka_unit_test(test_from_to_kept_tag_replaced),
		cmocka_unit_test(test_target_refresh_uas),
		cmocka_unit_test(test_target_refresh_uac),
		cmocka_unit_test(test_remote_cseq),
		cmocka_unit_test(test_local_cseq),
		cmocka_unit_test(test_print_loose),
		cmocka_unit_test(test_print_no_routes),
		cmocka_unit_test(test_print_strict),
		cmocka_unit_test(test_print_errors),
		cmocka_unit_test(test_terminated),
		cmocka_unit_test(test_recv_response_ends),
		cmocka_unit_test(test_forking),
		cmocka_unit_test(test_new_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_oom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
