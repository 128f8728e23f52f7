/* Unit tests of the SIP message core: parse (datagram and stream), header index, cache, check, print. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/msg.h>

#include "msg/msg.h" /* sipcx__mc() */
#include "testutil.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* What each vector in tests/data must give, written from the files by hand. */
struct vec {
	const char *file;
	bool request;
	enum sipcx_method method;
	uint16_t status;
	size_t hdrs;
	const char *call_id;
	uint32_t cseq;
	const char *cseq_method;
	int vias;
	const char *via_host;
	const char *via_branch;
	const char *from_tag;
	const char *to_tag;
	size_t body;
	bool byte_exact; /* print(parse(x)) == x */
};

static const struct vec vecs[] = {
	{ "msg_invite_sdp.sip", true, SIPCX_METHOD_INVITE, 0, 14,
	  "3848276298220188511@atlanta.example.com", 31862, "INVITE", 2,
	  "proxy.atlanta.example.com", "z9hG4bK2d4790.1", "9fxced76sl", "", 238, true },
	{ "msg_200_sdp.sip", false, SIPCX_METHOD_OTHER, 200, 11,
	  "3848276298220188511@atlanta.example.com", 31862, "INVITE", 2,
	  "proxy.atlanta.example.com", "z9hG4bK2d4790.1", "9fxced76sl", "8321234356", 199, true },
	{ "msg_register_auth.sip", true, SIPCX_METHOD_REGISTER, 0, 11,
	  "1j9FpLxk3uxtm8tn@biloxi.example.com", 2, "REGISTER", 1, "192.0.2.20", "z9hG4bKnashds7",
	  "a73kszlfl", "", 0, true },
	{ "msg_401.sip", false, SIPCX_METHOD_OTHER, 401, 8, "1j9FpLxk3uxtm8tn@biloxi.example.com",
	  1, "REGISTER", 1, "192.0.2.20", "z9hG4bKnashds7", "a73kszlfl", "2493k59kd", 0, true },
	{ "msg_bye.sip", true, SIPCX_METHOD_BYE, 0, 8, "3848276298220188511@atlanta.example.com", 1,
	  "BYE", 1, "192.0.2.20", "z9hG4bKnashds10", "8321234356", "9fxced76sl", 0, true },
	{ "msg_options.sip", true, SIPCX_METHOD_OPTIONS, 0, 9, "a84b4c76e66710", 63104, "OPTIONS",
	  1, "pc33.atlanta.example.com", "z9hG4bKhjhs8ass877", "1928301774", "", 0, true },
	{ "msg_folded_resp.sip", false, SIPCX_METHOD_OTHER, 180, 8,
	  "3848276298220188511@atlanta.example.com", 31862, "INVITE", 1, "192.0.2.10",
	  "z9hG4bK74bf9", "9fxced76sl", "8321234356", 0, false },
	{ "msg_compact.sip", true, SIPCX_METHOD_MESSAGE, 0, 17, "asd88asd77a@1.2.3.4", 1, "MESSAGE",
	  1, "user1pc.domain.example.com", "z9hG4bK776sgdkse", "49583", "", 18, true },
	{ "msg_ipv6.sip", true, SIPCX_METHOD_INVITE, 0, 9, "SSG9559905523997077@[2001:db8::10]", 8,
	  "INVITE", 1, "2001:db8::10", "z9hG4bKas6d9", "81x2", "", 98, true },
};

static char *load(const char *name, size_t *len)
{
	char *b = tu_read_file(tu_data_path(name), len);
	if (!b)
		fail_msg("cannot read %s", tu_data_path(name));
	return b;
}

/* An exact-size heap copy, so ASan catches a read one past the end. */
static char *exact(const char *p, size_t n)
{
	char *b = malloc(n ? n : 1);
	assert_non_null(b);
	if (n)
		memcpy(b, p, n);
	return b;
}

static void assert_str(struct sipcx_str s, const char *want)
{
	if (s.len != strlen(want) || (s.len && memcmp(s.p, want, s.len) != 0))
		fail_msg("got '%.*s', want '%s'", SIPCX_STR_FMT(s), want);
}

static int count_values(const struct sipcx_msg *m, enum sipcx_hdr_id id)
{
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_str v;
	int n = 0, r;
	while ((r = sipcx_msg_value_next(m, id, &it, &v)) == 1)
		n++;
	assert_int_equal(r, 0);
	return n;
}

static void check_vec(const struct vec *t, const struct sipcx_msg *m, size_t len)
{
	assert_int_equal(m->err, 0);
	assert_int_equal(m->request, t->request);
	assert_int_equal(m->method, t->method);
	assert_int_equal(m->status, t->status);
	assert_int_equal(m->hdr_count, t->hdrs);
	assert_int_equal(m->body.len, t->body);
	assert_int_equal(m->raw.len, len);
	assert_str(m->version, "SIP/2.0");
	assert_str(sipcx_msg_call_id(m), t->call_id);
	const struct sipcx_cseq *c = sipcx_msg_cseq(m);
	assert_non_null(c);
	assert_int_equal(c->num, t->cseq);
	assert_str(c->method, t->cseq_method);
	assert_int_equal(sipcx_msg_cseq_method(m),
	                 sipcx_method_lookup(sipcx_str_c(t->cseq_method)));
	assert_int_equal(count_values(m, SIPCX_HDR_VIA), t->vias);
	const struct sipcx_via *via = sipcx_msg_via(m);
	assert_non_null(via);
	assert_str(via->host, t->via_host);
	assert_str(via->branch, t->via_branch);
	const struct sipcx_addr *from = sipcx_msg_from(m), *to = sipcx_msg_to(m);
	assert_non_null(from);
	assert_non_null(to);
	assert_str(from->tag, t->from_tag);
	assert_str(to->tag, t->to_tag);
	/* Cached: the second call returns the same object. */
	assert_ptr_equal(sipcx_msg_via(m), via);
	assert_ptr_equal(sipcx_msg_from(m), from);
	size_t cl = 99;
	assert_int_equal(sipcx_msg_content_length(m, &cl), 0);
	assert_int_equal(cl, t->body);
	if (t->request) {
		assert_non_null(sipcx_msg_ruri(m));
		uint32_t mf = 0;
		assert_int_equal(sipcx_msg_max_forwards(m, &mf), 0);
		assert_true(mf == 69 || mf == 70);
	}
	struct sipcx_msg_verdict v;
	assert_int_equal(sipcx_msg_check(m, 0, &v), SIPCX_MSG_ACCEPT);
	assert_null(v.what);
}

static void test_vectors_datagram(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		size_t len;
		char *b = load(vecs[i].file, &len);
		struct sipcx_msg m;
		int n = sipcx_msg_parse(&m, b, len, 0);
		if (n != (int)len)
			fail_msg("%s: parse gave %d (%s at %zu)", vecs[i].file, n,
			         m.err_what ? m.err_what : "-", m.err_offset);
		check_vec(&vecs[i], &m, len);
		/* The same through the stream parser. */
		assert_int_equal(sipcx_msg_parse(&m, b, len, SIPCX_MSG_STREAM), (int)len);
		check_vec(&vecs[i], &m, len);
		free(b);
	}
}

/* Every prefix is "need more" on a stream and an error (never a success) as a datagram. */
static void test_vectors_every_split(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		size_t len;
		char *b = load(vecs[i].file, &len);
		struct sipcx_msg m;
		for (size_t k = 0; k < len; k++) {
			char *p = exact(b, k);
			int r = sipcx_msg_parse(&m, p, k, SIPCX_MSG_STREAM);
			if (r != -EAGAIN)
				fail_msg("%s: stream prefix %zu gave %d", vecs[i].file, k, r);
			r = sipcx_msg_parse(&m, p, k, 0);
			if (r >= 0 || r == -EAGAIN)
				fail_msg("%s: datagram prefix %zu gave %d", vecs[i].file, k, r);
			free(p);
		}
		char *p = exact(b, len);
		assert_int_equal(sipcx_msg_parse(&m, p, len, SIPCX_MSG_STREAM), (int)len);
		check_vec(&vecs[i], &m, len);
		free(p);
		free(b);
	}
}

/* Two messages back to back on a stream, CRLF keep-alives around them. */
static void test_stream_two_messages(void **state)
{
	(void)state;
	size_t l1, l2;
	char *a = load("msg_invite_sdp.sip", &l1);
	char *b = load("msg_bye.sip", &l2);
	struct sipcx_buf s;
	sipcx_buf_init(&s);
	sipcx_buf_puts(&s, "\r\n\r\n");
	sipcx_buf_append(&s, a, l1);
	sipcx_buf_puts(&s, "\r\n");
	sipcx_buf_append(&s, b, l2);
	sipcx_buf_puts(&s, "\r\n\r\n");
	assert_int_equal(sipcx_buf_err(&s), 0);

	char *p = exact(s.p, s.len);
	size_t off = 0;
	struct sipcx_msg m;
	int n = sipcx_msg_parse(&m, p + off, s.len - off, SIPCX_MSG_STREAM);
	assert_int_equal(n, 4 + (int)l1);
	assert_int_equal(m.method, SIPCX_METHOD_INVITE);
	assert_int_equal(m.body.len, 238);
	assert_int_equal(sipcx__mc(&m)->raw_off, 4);
	off += (size_t)n;
	n = sipcx_msg_parse(&m, p + off, s.len - off, SIPCX_MSG_STREAM);
	assert_int_equal(n, 2 + (int)l2);
	assert_int_equal(m.method, SIPCX_METHOD_BYE);
	off += (size_t)n;
	/* Only keep-alives left: need more, and the transport can see them. */
	assert_int_equal(sipcx_msg_parse(&m, p + off, s.len - off, SIPCX_MSG_STREAM), -EAGAIN);
	assert_int_equal(sipcx_msg_skip_crlf(p + off, s.len - off), 4);
	assert_int_equal(off + 4, s.len);

	/* Fed one byte at a time, the stream yields the same two messages. */
	int got = 0;
	size_t have = 0, used = 0;
	while (have < s.len) {
		have++;
		char *q = exact(p + used, have - used);
		n = sipcx_msg_parse(&m, q, have - used, SIPCX_MSG_STREAM);
		if (n > 0) {
			got++;
			assert_int_equal(m.method,
			                 got == 1 ? SIPCX_METHOD_INVITE : SIPCX_METHOD_BYE);
			used += (size_t)n;
		} else {
			assert_int_equal(n, -EAGAIN);
		}
		free(q);
	}
	assert_int_equal(got, 2);
	free(p);
	sipcx_buf_free(&s);
	free(a);
	free(b);
}

static void test_compact_forms(void **state)
{
	(void)state;
	size_t len;
	char *b = load("msg_compact.sip", &len);
	struct sipcx_msg m;
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	static const struct {
		const char *name;
		enum sipcx_hdr_id id;
		const char *value;
	} want[] = {
		{ "v", SIPCX_HDR_VIA,
		  "SIP/2.0/TCP user1pc.domain.example.com;branch=z9hG4bK776sgdkse" },
		{ "f", SIPCX_HDR_FROM, "sip:user1@domain.example.com;tag=49583" },
		{ "t", SIPCX_HDR_TO, "sip:user2@domain.example.com" },
		{ "i", SIPCX_HDR_CALL_ID, "asd88asd77a@1.2.3.4" },
		{ "m", SIPCX_HDR_CONTACT, "<sip:user1@user1pc.domain.example.com>" },
		{ "k", SIPCX_HDR_SUPPORTED, "path, gruu" },
		{ "s", SIPCX_HDR_SUBJECT, "Hello" },
		{ "o", SIPCX_HDR_EVENT, "presence" },
		{ "u", SIPCX_HDR_ALLOW_EVENTS, "presence, refer" },
		{ "r", SIPCX_HDR_REFER_TO, "<sip:carol@chicago.example.com>" },
		{ "b", SIPCX_HDR_REFERRED_BY, "<sip:alice@atlanta.example.com>" },
		{ "x", SIPCX_HDR_SESSION_EXPIRES, "1800;refresher=uac" },
		{ "e", SIPCX_HDR_CONTENT_ENCODING, "identity" },
		{ "c", SIPCX_HDR_CONTENT_TYPE, "text/plain" },
		{ "l", SIPCX_HDR_CONTENT_LENGTH, "18" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct sipcx_hdr *h = sipcx_msg_hdr(&m, want[i].id);
		assert_non_null(h);
		assert_str(h->name, want[i].name);
		assert_str(h->value, want[i].value);
		/* Looking up by the long name finds the compact line, and the reverse. */
		assert_ptr_equal(sipcx_msg_hdr_by_name(&m, sipcx_hdr_name(want[i].id)), h);
		assert_ptr_equal(sipcx_msg_hdr_by_name(&m, want[i].name), h);
	}
	assert_int_equal(sipcx_hdr_lookup("y", 1), SIPCX_HDR_IDENTITY);
	assert_int_equal(sipcx_hdr_lookup("Y", 1), SIPCX_HDR_IDENTITY);
	assert_int_equal(sipcx_hdr_lookup("a", 1), SIPCX_HDR_OTHER);
	assert_int_equal(sipcx_hdr_lookup("?", 1), SIPCX_HDR_OTHER);
	assert_str(m.body, "Watson, come here.");
	assert_str(sipcx_msg_content_type(&m), "text/plain");
	assert_int_equal(count_values(&m, SIPCX_HDR_SUPPORTED), 2);
	free(b);
}

static void test_folded(void **state)
{
	(void)state;
	size_t len;
	char *b = load("msg_folded_resp.sip", &len);
	struct sipcx_msg m;
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	assert_int_equal(m.status, 180);
	assert_str(m.reason, "Ringing");
	const struct sipcx_hdr *h = sipcx_msg_hdr(&m, SIPCX_HDR_VIA);
	assert_str(h->value, "SIP/2.0/UDP 192.0.2.10:5060\r\n  ;branch=z9hG4bK74bf9;rport=5060");
	assert_int_equal(sipcx_msg_via(&m)->port, 5060);
	assert_int_equal(sipcx_msg_via(&m)->rport, 5060);
	assert_str(sipcx_msg_to(&m)->uri.user, "bob");
	assert_str(sipcx_msg_to(&m)->display, "Bob");
	assert_int_equal(count_values(&m, SIPCX_HDR_ALLOW), 4);
	const struct sipcx_hdr *x = sipcx_msg_hdr_by_name(&m, "x-empty");
	assert_non_null(x);
	assert_int_equal(x->id, SIPCX_HDR_OTHER);
	assert_int_equal(x->value.len, 0);
	assert_non_null(x->value.p);
	/* Bare LF line ends are accepted too, and give the same message. */
	char *lf = malloc(len);
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (b[i] != '\r')
			lf[n++] = b[i];
	struct sipcx_msg m2;
	assert_int_equal(sipcx_msg_parse(&m2, lf, n, 0), (int)n);
	assert_int_equal(m2.hdr_count, m.hdr_count);
	assert_int_equal(sipcx_msg_cseq(&m2)->num, 31862);
	assert_str(sipcx_msg_from(&m2)->tag, "9fxced76sl");
	free(lf);
	free(b);
}

static void test_ipv6(void **state)
{
	(void)state;
	size_t len;
	char *b = load("msg_ipv6.sip", &len);
	struct sipcx_msg m;
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	const struct sipcx_uri *u = sipcx_msg_ruri(&m);
	assert_non_null(u);
	assert_true(u->host_ipv6);
	assert_str(u->host, "2001:db8::20");
	assert_int_equal(u->port, 5062);
	const struct sipcx_via *v = sipcx_msg_via(&m);
	assert_true(v->host_ipv6);
	assert_int_equal(v->port, 5060);
	assert_int_equal(v->rport, 0);
	const struct sipcx_addr *c = sipcx_msg_contact(&m);
	assert_non_null(c);
	assert_str(c->uri.host, "2001:db8::10");
	free(b);
}

static void test_names(void **state)
{
	(void)state;
	/* Every canonical name maps back to its id, in any case. */
	for (int id = 1; id < SIPCX_HDR__COUNT; id++) {
		const char *n = sipcx_hdr_name((enum sipcx_hdr_id)id);
		assert_true(strlen(n) > 1);
		assert_int_equal(sipcx_hdr_lookup(n, strlen(n)), id);
		char up[64], low[64];
		size_t k = strlen(n);
		for (size_t i = 0; i <= k; i++) {
			up[i] = (char)(n[i] >= 'a' && n[i] <= 'z' ? n[i] - 32 : n[i]);
			low[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] + 32 : n[i]);
		}
		assert_int_equal(sipcx_hdr_lookup(up, k), id);
		assert_int_equal(sipcx_hdr_lookup(low, k), id);
		/* One letter off is another (unknown) header. */
		low[k - 1] = low[k - 1] == 'x' ? 'y' : 'x';
		assert_int_not_equal(sipcx_hdr_lookup(low, k), id);
	}
	assert_string_equal(sipcx_hdr_name(SIPCX_HDR_CALL_ID), "Call-ID");
	assert_string_equal(sipcx_hdr_name(SIPCX_HDR_CSEQ), "CSeq");
	assert_string_equal(sipcx_hdr_name(SIPCX_HDR_WWW_AUTHENTICATE), "WWW-Authenticate");
	assert_string_equal(sipcx_hdr_name(SIPCX_HDR_OTHER), "");
	assert_string_equal(sipcx_hdr_name(SIPCX_HDR__COUNT), "");
	assert_int_equal(sipcx_hdr_lookup("X-Foo", 5), SIPCX_HDR_OTHER);
	assert_int_equal(sipcx_hdr_lookup("C%6Fntact", 9), SIPCX_HDR_OTHER);
	assert_int_equal(sipcx_hdr_lookup("Call-IDx", 7), SIPCX_HDR_CALL_ID);
	assert_int_equal(sipcx_hdr_lookup(NULL, 0), SIPCX_HDR_OTHER);
	assert_int_equal(sipcx_hdr_lookup("Call\rID", 7), SIPCX_HDR_OTHER);

	for (int i = 1; i < SIPCX_METHOD__COUNT; i++) {
		const char *n = sipcx_method_name((enum sipcx_method)i);
		assert_int_equal(sipcx_method_lookup(sipcx_str_c(n)), i);
	}
	/* Methods are case-sensitive; RE%47IST%45R is not REGISTER (RFC 4475 3.1.1.5). */
	assert_int_equal(sipcx_method_lookup(SIPCX_STR("invite")), SIPCX_METHOD_OTHER);
	assert_int_equal(sipcx_method_lookup(SIPCX_STR("RE%47IST%45R")), SIPCX_METHOD_OTHER);
	assert_int_equal(sipcx_method_lookup(SIPCX_STR("INVITF")), SIPCX_METHOD_OTHER);
	assert_string_equal(sipcx_method_name(SIPCX_METHOD_OTHER), "");
	assert_string_equal(sipcx_msg_reason_phrase(200), "OK");
	assert_string_equal(sipcx_msg_reason_phrase(481), "Call/Transaction Does Not Exist");
	assert_string_equal(sipcx_msg_reason_phrase(299), "");
}

#define MSG_HEAD                                          \
	"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx1\r\n" \
	"To: <sip:b@example.com>\r\n"                     \
	"From: <sip:a@example.com>;tag=1\r\n"             \
	"Call-ID: c1\r\n"

static int parse_str(struct sipcx_msg *m, const char *s, unsigned flags)
{
	/* The message is parsed from an exact-size copy; slices are not used after free. */
	static char *keep;
	free(keep);
	keep = exact(s, strlen(s));
	return sipcx_msg_parse(m, keep, strlen(s), flags);
}

static void test_integers(void **state)
{
	(void)state;
	struct sipcx_msg m;
	struct sipcx_msg_verdict v;
	/* 4294967328 is an error, not 32 (wrap-around). */
	assert_int_equal(parse_str(&m,
	                           "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                           "CSeq: 1 OPTIONS\r\nContent-Length: 4294967328\r\n\r\n",
	                           0),
	                 -EBADMSG);
	assert_string_equal(m.err_what, "bad Content-Length");
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_int_equal(v.status, 400);
	assert_string_equal(v.reason, "Bad Content-Length");
	/* Inside 32 bits but over the size limit: 513. */
	assert_int_equal(parse_str(&m,
	                           "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                           "CSeq: 1 OPTIONS\r\nContent-Length: 4294967295\r\n\r\n",
	                           SIPCX_MSG_STREAM),
	                 -EMSGSIZE);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_int_equal(v.status, 513);
	assert_int_equal(parse_str(&m,
	                           "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                           "CSeq: 1 OPTIONS\r\nContent-Length: -1\r\n\r\n",
	                           0),
	                 -EBADMSG);
	assert_int_equal(parse_str(&m,
	                           "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                           "CSeq: 1 OPTIONS\r\nContent-Length: five\r\n\r\n",
	                           SIPCX_MSG_STREAM),
	                 -EBADMSG);

	/* CSeq: 2^31-1 is the largest (RFC 3261 8.1.1.5). */
	assert_true(parse_str(&m,
	                      "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                      "CSeq: 2147483647 OPTIONS\r\nl: 0\r\n\r\n",
	                      0) > 0);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_ACCEPT);
	assert_int_equal(sipcx_msg_cseq(&m)->num, 2147483647u);
	const char *big = "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                  "CSeq: 2147483648 OPTIONS\r\nl: 0\r\n\r\n";
	assert_true(parse_str(&m, big, 0) > 0);
	assert_null(sipcx_msg_cseq(&m));
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_int_equal(v.status, 400);
	assert_string_equal(v.reason, "Bad CSeq");
	assert_int_equal(v.offset, (size_t)(strstr(big, "2147483648") - big));

	/* Max-Forwards 0..255, leading zeros fine; absent means "use 70". */
	uint32_t u = 0;
	assert_true(parse_str(&m,
	                      "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                      "CSeq: 1 OPTIONS\r\nMax-Forwards: 000255\r\nExpires: 4294967295\r\n"
	                      "l: 0\r\n\r\n",
	                      0) > 0);
	assert_int_equal(sipcx_msg_max_forwards(&m, &u), 0);
	assert_int_equal(u, 255);
	assert_int_equal(sipcx_msg_expires(&m, &u), 0);
	assert_int_equal(u, 4294967295u);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_ACCEPT);
	assert_true(parse_str(&m,
	                      "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                      "CSeq: 1 OPTIONS\r\nMax-Forwards: 256\r\nExpires: 4294967296\r\n"
	                      "l: 0\r\n\r\n",
	                      0) > 0);
	assert_int_equal(sipcx_msg_max_forwards(&m, &u), -ERANGE);
	assert_int_equal(sipcx_msg_expires(&m, &u), -ERANGE);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_string_equal(v.reason, "Bad Max-Forwards");
	assert_true(parse_str(&m,
	                      "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                      "CSeq: 1 OPTIONS\r\nMax-Forwards: 7a\r\nl: 0\r\n\r\n",
	                      0) > 0);
	assert_int_equal(sipcx_msg_max_forwards(&m, &u), -EBADMSG);
	assert_int_equal(sipcx_msg_expires(&m, &u), -ENOENT);
	assert_true(parse_str(&m,
	                      "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                      "CSeq: 1 OPTIONS\r\nl: 0\r\n\r\n",
	                      0) > 0);
	assert_int_equal(sipcx_msg_max_forwards(&m, &u), -ENOENT);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_ACCEPT);

	/* Status codes are exactly 3 digits. */
	assert_int_equal(parse_str(&m, "SIP/2.0 2000 OK\r\n\r\n", 0), -EBADMSG);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_DROP);
	assert_int_equal(parse_str(&m, "SIP/2.0 099 Low\r\n\r\n", 0), -EBADMSG);
	assert_int_equal(parse_str(&m, "SIP/2.0 20 OK\r\n\r\n", 0), -EBADMSG);
}

static void test_size_limits(void **state)
{
	(void)state;
	struct sipcx_msg m;
	struct sipcx_msg_verdict v;
	/* A datagram over the limit: -EMSGSIZE, and sipcx_msg_new allocates nothing. */
	size_t big = SIPCX_MSG_MAX_SIZE + 100;
	char *b = malloc(big);
	const char *head = "MESSAGE sip:b@example.com SIP/2.0\r\n" MSG_HEAD "CSeq: 1 MESSAGE\r\n"
	                   "Content-Type: text/plain\r\n\r\n";
	size_t hl = strlen(head);
	memcpy(b, head, hl);
	memset(b + hl, 'x', big - hl);
	assert_int_equal(sipcx_msg_parse(&m, b, big, 0), -EMSGSIZE);
	/* The headers were indexed: the sender can be told 513. */
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_int_equal(v.status, 513);
	assert_string_equal(v.reason, "Message Too Large");
	tu_alloc_install();
	struct sipcx_msg *hm = NULL;
	assert_int_equal(sipcx_msg_new(&hm, b, big, 0), -EMSGSIZE);
	assert_null(hm);
	assert_int_equal(tu_alloc_count(), 0);
	tu_alloc_uninstall();

	/* A stream that never ends its headers stops at the limit instead of buffering. */
	memset(b, 'a', big);
	memcpy(b, "OPTIONS sip:b@example.com SIP/2.0\r\nX-Long: ", 43);
	assert_int_equal(sipcx_msg_parse(&m, b, SIPCX_MSG_MAX_SIZE - 1, SIPCX_MSG_STREAM), -EAGAIN);
	assert_int_equal(sipcx_msg_parse(&m, b, big, SIPCX_MSG_STREAM), -EMSGSIZE);
	assert_int_equal(m.err_offset, SIPCX_MSG_MAX_SIZE);
	free(b);

	/* Content-Length larger than the limit is refused at once, before the body arrives. */
	assert_int_equal(parse_str(&m,
	                           "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                           "CSeq: 1 OPTIONS\r\nContent-Length: 65535\r\n\r\n",
	                           SIPCX_MSG_STREAM),
	                 -EMSGSIZE);

	/* 128 header lines are fine, 129 are not. */
	struct sipcx_buf s;
	sipcx_buf_init(&s);
	sipcx_buf_puts(&s, "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD "CSeq: 1 OPTIONS\r\n");
	for (int i = 0; i < SIPCX_MSG_MAX_HDRS - 6; i++)
		sipcx_buf_printf(&s, "X-H%d: %d\r\n", i, i);
	size_t mark = s.len;
	sipcx_buf_puts(&s, "l: 0\r\n\r\n");
	assert_int_equal(parse_str(&m, s.p, 0), (int)s.len);
	assert_int_equal(m.hdr_count, SIPCX_MSG_MAX_HDRS);
	s.len = mark;
	sipcx_buf_puts(&s, "X-One-More: 1\r\nl: 0\r\n\r\n");
	assert_int_equal(parse_str(&m, s.p, 0), -E2BIG);
	assert_int_equal(m.err_offset, mark + 15);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_int_equal(v.status, 513);
	sipcx_buf_free(&s);
}

static void test_framing(void **state)
{
	(void)state;
	struct sipcx_msg m;
	struct sipcx_msg_verdict v;
	const char *nocl = "INVITE sip:b@example.com SIP/2.0\r\n" MSG_HEAD "CSeq: 1 INVITE\r\n"
	                   "Content-Type: text/plain\r\n\r\nhello";
	/* Datagram: no Content-Length, the body is the rest (RFC 2543 peers). */
	assert_int_equal(parse_str(&m, nocl, 0), (int)strlen(nocl));
	assert_str(m.body, "hello");
	size_t cl;
	assert_int_equal(sipcx_msg_content_length(&m, &cl), -ENOENT);
	/* Stream: no Content-Length is a framing error. */
	assert_int_equal(parse_str(&m, nocl, SIPCX_MSG_STREAM), -EBADMSG);
	assert_string_equal(m.err_what, "no Content-Length on a stream");

	/* Datagram: octets after Content-Length are ignored (RFC 3261 18.3). */
	const char *trail = "INVITE sip:b@example.com SIP/2.0\r\n" MSG_HEAD "CSeq: 1 INVITE\r\n"
	                    "Content-Length: 3\r\n\r\nabcGARBAGE";
	assert_int_equal(parse_str(&m, trail, 0), (int)strlen(trail) - 7);
	assert_str(m.body, "abc");
	/* Datagram shorter than Content-Length: 400 (RFC 3261 18.3). */
	const char *shortb = "INVITE sip:b@example.com SIP/2.0\r\n" MSG_HEAD "CSeq: 1 INVITE\r\n"
	                     "Content-Length: 30\r\n\r\nabc";
	assert_int_equal(parse_str(&m, shortb, 0), -EBADMSG);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_int_equal(v.status, 400);
	assert_int_equal(parse_str(&m, shortb, SIPCX_MSG_STREAM), -EAGAIN);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_DROP);

	/* Conflicting Content-Length values: framing error; equal duplicates: check says 400. */
	const char *conf = "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD "CSeq: 1 OPTIONS\r\n"
	                   "Content-Length: 3\r\nl: 2\r\n\r\nabc";
	assert_int_equal(parse_str(&m, conf, SIPCX_MSG_STREAM), -EBADMSG);
	assert_string_equal(m.err_what, "conflicting Content-Length values");
	assert_int_equal(m.err_offset, (size_t)(strstr(conf, "l: 2") - conf) + 3);
	const char *dup = "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD "CSeq: 1 OPTIONS\r\n"
	                  "Content-Length: 3\r\nl: 3\r\n\r\nabc";
	assert_int_equal(parse_str(&m, dup, SIPCX_MSG_STREAM), (int)strlen(dup));
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_string_equal(v.reason, "Duplicate Content-Length");

	/* A datagram of CRLFs only is no message; a stream waits. */
	assert_int_equal(parse_str(&m, "\r\n\r\n", 0), -EBADMSG);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_DROP);
	assert_int_equal(parse_str(&m, "\r\n\r\n", SIPCX_MSG_STREAM), -EAGAIN);
	assert_int_equal(sipcx_msg_parse(&m, NULL, 0, SIPCX_MSG_STREAM), -EAGAIN);
	assert_int_equal(sipcx_msg_parse(&m, NULL, 5, 0), -EINVAL);
	assert_int_equal(sipcx_msg_parse(NULL, "x", 1, 0), -EINVAL);
}

static void test_bad_lines(void **state)
{
	(void)state;
	struct sipcx_msg m;
	struct sipcx_msg_verdict v;
	static const struct {
		const char *msg;
		const char *at; /* where err_offset must point */
		const char *what;
	} bad[] = {
		{ "INVITE  sip:b@example.com SIP/2.0\r\n\r\n",
		  " sip:", "whitespace or control in Request-URI" },
		{ "INVITE sip:b@example.com SIP/2.0 \r\n\r\n", " \r\n",
		  "space at the end of the request line" },
		{ "INVITE sip:b@example.com\r\n\r\n", "sip:", "request line needs 3 parts" },
		{ "INVITE sip:b@example.com SIP/2\r\n\r\n", "SIP/2\r", "bad SIP version" },
		{ "INV(TE sip:b@example.com SIP/2.0\r\n\r\n", "(", "method is not a token" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\nVia SIP/2.0/UDP h\r\n\r\n", "SIP/2.0/UDP h",
		  "no ':' after header name" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n Via: x\r\n\r\n", " Via",
		  "bad header name" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD "Fo@o: 1\r\n\r\n", "@o",
		  "no ':' after header name" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD "\rX\r\n\r\n", "\rX",
		  "CR without LF" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(parse_str(&m, bad[i].msg, 0), -EBADMSG);
		assert_string_equal(m.err_what, bad[i].what);
		assert_int_equal(m.err_offset,
		                 (size_t)(strstr(bad[i].msg, bad[i].at) - bad[i].msg));
		/* The stream parser sees the same errors. */
		assert_int_equal(parse_str(&m, bad[i].msg, SIPCX_MSG_STREAM), -EBADMSG);
	}
	/* A broken header after a Via: the request can still be answered 400. */
	assert_int_equal(parse_str(&m, bad[7].msg, 0), -EBADMSG);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_int_equal(v.status, 400);
	assert_string_equal(v.reason, "Malformed Header");
	assert_string_equal(v.what, "no ':' after header name");
	/* Before any Via: nobody to answer. */
	assert_int_equal(parse_str(&m, bad[6].msg, 0), -EBADMSG);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_DROP);
	/* Datagram without the empty line after the headers. */
	assert_int_equal(parse_str(&m, "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD, 0),
	                 -EBADMSG);
	assert_string_equal(m.err_what, "no empty line after the headers");
	assert_int_equal(
	    parse_str(&m, "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD, SIPCX_MSG_STREAM),
	    -EAGAIN);
	/* NUL bytes are data, not string ends. */
	const char nul[] = "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                   "CSeq: 1 OPTIONS\r\nX-Nul: a\0b\r\nl: 2\r\n\r\n\0\0";
	char *p = exact(nul, sizeof(nul) - 1);
	assert_int_equal(sipcx_msg_parse(&m, p, sizeof(nul) - 1, SIPCX_MSG_STREAM),
	                 (int)sizeof(nul) - 1);
	assert_int_equal(sipcx_msg_hdr_by_name(&m, "X-Nul")->value.len, 3);
	assert_int_equal(m.body.len, 2);
	free(p);
}

static void test_check(void **state)
{
	(void)state;
	struct sipcx_msg m;
	struct sipcx_msg_verdict v;
	static const struct {
		const char *msg;
		enum sipcx_msg_action action;
		uint16_t status;
		const char *reason;
		const char *at; /* expected offset, NULL: not checked */
	} cases[] = {
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD "CSeq: 1 INVITE\r\nl: 0\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Bad CSeq", "INVITE\r\nl" },
		/* method case matters: "options" is another method than OPTIONS */
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 options\r\nl: 0\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Bad CSeq", NULL },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		  "From: <sip:a@example.com>;tag=1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Missing To", NULL },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		  "To: <sip:b@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Missing From", NULL },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		  "To: <sip:b@example.com>\r\nFrom: <sip:a@example.com>\r\nCSeq: 1 OPTIONS\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Missing Call-ID", NULL },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD "l: 0\r\n\r\n", SIPCX_MSG_REJECT,
		  400, "Missing CSeq", NULL },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "i: c2\r\nCSeq: 1 OPTIONS\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Duplicate Call-ID", "i: c2" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\nMax-Forwards: 1\r\nMax-Forwards: 1\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Duplicate Max-Forwards", "Max-Forwards: 1\r\n\r\n" },
		{ "OPTIONS sip:b@example.com SIP/3.0\r\n" MSG_HEAD "CSeq: 1 OPTIONS\r\n\r\n",
		  SIPCX_MSG_REJECT, 505, "Version Not Supported", "SIP/3.0" },
		{ "OPTIONS mailto:b@example.com SIP/2.0\r\n" MSG_HEAD "CSeq: 1 OPTIONS\r\n\r\n",
		  SIPCX_MSG_REJECT, 416, "Unsupported URI Scheme", "mailto" },
		{ "OPTIONS tel:+15551234 SIP/2.0\r\n" MSG_HEAD "CSeq: 1 OPTIONS\r\n\r\n",
		  SIPCX_MSG_ACCEPT, 0, NULL, NULL },
		{ "OPTIONS sip:b@example.com?Subject=x SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Bad Request-URI", NULL },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\nTo: <sip:b@example.com>\r\n"
		  "From: <sip:a@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		  SIPCX_MSG_DROP, 0, NULL, NULL },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\nContact: sip:a@h?Route=x\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Bad Contact", "sip:a@h?" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\nContact: <sip:a@h?Route=x>, <sip:c@d>\r\n\r\n",
		  SIPCX_MSG_ACCEPT, 0, NULL, NULL },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\nCall-ID: a b\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Duplicate Call-ID", NULL },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		  "To: <sip:b@example.com>\r\nFrom: <sip:a@example.com>\r\nCall-ID: a b\r\n"
		  "CSeq: 1 OPTIONS\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Bad Call-ID", "a b" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		  "To: \"B <sip:b@example.com>\r\nFrom: <sip:a@example.com>\r\nCall-ID: ab\r\n"
		  "CSeq: 1 OPTIONS\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Bad To", "\"B" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;;branch=z9hG4bK1\r\n"
		  "To: <sip:b@example.com>\r\nFrom: <sip:a@example.com>\r\nCall-ID: ab\r\n"
		  "CSeq: 1 OPTIONS\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Bad Via", "SIP/2.0/UDP h;;" },
		/* Smuggling: a bare CR (a line end to some stacks) or a control byte in a header. */
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\nSubject: hi\rVia: SIP/2.0/UDP evil;branch=z9hG4bKe\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Control Character In Header", "\rVia: SIP/2.0/UDP evil" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\nSubject: hi\r\r\nX: 1\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Control Character In Header", "\r\r\nX" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\nSubject: a\abell\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Control Character In Header", "\abell" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\nSubject: a\x7f\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Control Character In Header", "\x7f" },
		/* HTAB, folds, UTF-8 and quoted-pairs of control bytes (RFC 4475 3.1.1.2) are fine. */
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\nSubject: a\tb\r\n  c\r\n\td \xc3\xa9\r\n"
		  "X-N: \"q\\\a\\\x7f\"\r\n\r\n",
		  SIPCX_MSG_ACCEPT, 0, NULL, NULL },
		/* A response with a control byte in a header is dropped. */
		{ "SIP/2.0 200 OK\r\n" MSG_HEAD "CSeq: 1 INVITE\r\nX: \rY: 1\r\nl: 0\r\n\r\n",
		  SIPCX_MSG_DROP, 0, NULL, NULL },
		/* Route, Record-Route, Path: name-addr (or addr-spec) lists only. */
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\nRoute: garbage here\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Bad Route", "garbage here" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\nRecord-Route: <sip:p1;lr>, <garbage>\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Bad Route", "<garbage>" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\nPath: <sip:p1;lr> x\r\n\r\n",
		  SIPCX_MSG_REJECT, 400, "Bad Route", "<sip:p1;lr> x" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
		  "CSeq: 1 OPTIONS\r\nRoute: \"P, one\" <sip:p1.example.com;lr>;x=1, "
		  "<sip:[2001:db8::1]:5070;lr>\r\nRoute: sip:p3.example.com;lr\r\n"
		  "Record-Route: <sip:p4;lr>\r\nPath: P5 <sip:p5;lr;ob>\r\n\r\n",
		  SIPCX_MSG_ACCEPT, 0, NULL, NULL },
		/* An ACK is never answered, even when bad. */
		{ "ACK sip:b@example.com SIP/2.0\r\n" MSG_HEAD "CSeq: 1 INVITE\r\nl: 0\r\n\r\n",
		  SIPCX_MSG_DROP, 0, NULL, NULL },
		{ "ACK sip:b@example.com SIP/2.0\r\n" MSG_HEAD "CSeq: 1 ACK\r\nl: 0\r\n\r\n",
		  SIPCX_MSG_ACCEPT, 0, NULL, NULL },
		{ "CANCEL sip:b@example.com SIP/2.0\r\n" MSG_HEAD "CSeq: 1 CANCEL\r\nl: 0\r\n\r\n",
		  SIPCX_MSG_ACCEPT, 0, NULL, NULL },
		/* Responses: anything wrong drops them. */
		{ "SIP/2.0 700 Huge\r\n" MSG_HEAD "CSeq: 1 INVITE\r\nl: 0\r\n\r\n", SIPCX_MSG_DROP,
		  0, NULL, NULL },
		{ "SIP/2.0 200 OK\r\n" MSG_HEAD "l: 0\r\n\r\n", SIPCX_MSG_DROP, 0, NULL, NULL },
		{ "SIP/2.1 200 OK\r\n" MSG_HEAD "CSeq: 1 INVITE\r\nl: 0\r\n\r\n", SIPCX_MSG_DROP, 0,
		  NULL, NULL },
		{ "SIP/2.0 200 OK\r\n" MSG_HEAD "CSeq: 1 INVITE\r\nl: 0\r\n\r\n", SIPCX_MSG_ACCEPT,
		  0, NULL, NULL },
		{ "SIP/2.0 100\r\n" MSG_HEAD "CSeq: 1 INVITE\r\nl: 0\r\n\r\n", SIPCX_MSG_ACCEPT, 0,
		  NULL, NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *s = cases[i].msg;
		int n = parse_str(&m, s, 0);
		if (n != (int)strlen(s))
			fail_msg("case %zu: parse %d %s", i, n, m.err_what ? m.err_what : "");
		enum sipcx_msg_action a = sipcx_msg_check(&m, 0, &v);
		if (a != cases[i].action)
			fail_msg("case %zu: action %d (%s), want %d", i, a, v.what ? v.what : "-",
			         cases[i].action);
		assert_int_equal(v.action, a);
		assert_int_equal(v.status, cases[i].status);
		if (cases[i].reason)
			assert_string_equal(v.reason, cases[i].reason);
		if (a != SIPCX_MSG_ACCEPT)
			assert_non_null(v.what);
		if (cases[i].at)
			assert_int_equal(v.offset, (size_t)(strstr(s, cases[i].at) - s));
		assert_int_equal(sipcx_msg_check(&m, 0, NULL), a);
	}
	/* A NUL in a header value (it would cut the value short for a C stack): 400. */
	static const char nul[] = "OPTIONS sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                          "CSeq: 1 OPTIONS\r\nSubject: a\0b\r\n\r\n";
	char *nulc = exact(nul, sizeof(nul) - 1);
	assert_int_equal(sipcx_msg_parse(&m, nulc, sizeof(nul) - 1, 0), (int)sizeof(nul) - 1);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_int_equal(v.status, 400);
	assert_int_equal(v.offset, (size_t)((const char *)memchr(nul, 0, sizeof(nul) - 1) - nul));
	free(nulc);
	/* The UA rule of RFC 3261 8.1.3.3: a response with two Vias is dropped by a UAC. */
	const char *two = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b\r\n"
	                  "To: <sip:b@example.com>;tag=2\r\nFrom: <sip:a@example.com>;tag=1\r\n"
	                  "Call-ID: c\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n";
	assert_int_equal(parse_str(&m, two, 0), (int)strlen(two));
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_ACCEPT);
	assert_int_equal(sipcx_msg_check(&m, SIPCX_MSG_CHECK_UA, &v), SIPCX_MSG_DROP);
	assert_int_equal(sipcx_msg_check(NULL, 0, &v), SIPCX_MSG_DROP);
}

static void test_index(void **state)
{
	(void)state;
	const char *s = "INVITE sip:b@example.com SIP/2.0\r\n"
	                "Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\n"
	                "X-A: 1\r\n"
	                "v: SIP/2.0/UDP c;branch=z9hG4bK3\r\n"
	                "x-a: 2\r\n"
	                "To: <sip:b@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\n"
	                "Call-ID: c\r\nCSeq: 1 INVITE\r\n"
	                "Contact: \"A, B\" <sip:a@h1>;q=0.5, <sip:a@h2>\r\nm: <sip:a@h3>\r\n"
	                "Route: <sip:p1;lr>,<sip:p2;lr>\r\n\r\n";
	struct sipcx_msg m;
	assert_int_equal(parse_str(&m, s, 0), (int)strlen(s));
	assert_int_equal(sipcx_msg_hdr_count(&m, SIPCX_HDR_VIA), 2);
	assert_int_equal(sipcx_msg_hdr_count(&m, SIPCX_HDR_OTHER), 0);
	const struct sipcx_hdr *h = sipcx_msg_hdr(&m, SIPCX_HDR_VIA);
	assert_ptr_equal(h, &m.hdrs[0]);
	h = sipcx_msg_hdr_next(&m, h);
	assert_ptr_equal(h, &m.hdrs[2]);
	assert_null(sipcx_msg_hdr_next(&m, h));
	h = sipcx_msg_hdr_by_name(&m, "X-a");
	assert_ptr_equal(h, &m.hdrs[1]);
	assert_ptr_equal(sipcx_msg_hdr_next(&m, h), &m.hdrs[3]);
	assert_null(sipcx_msg_hdr_by_name(&m, "X-B"));
	assert_null(sipcx_msg_hdr(&m, SIPCX_HDR_OTHER));
	assert_null(sipcx_msg_hdr(&m, SIPCX_HDR_EXPIRES));
	assert_null(sipcx_msg_hdr_next(&m, NULL));

	/* Values across lines, in order. */
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_str val;
	const char *hosts[] = { "a", "b", "c" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sipcx_msg_value_next(&m, SIPCX_HDR_VIA, &it, &val), 1);
		struct sipcx_via via;
		assert_int_equal(sipcx_via_parse(&via, val), 0);
		assert_str(via.host, hosts[i]);
	}
	assert_int_equal(sipcx_msg_value_next(&m, SIPCX_HDR_VIA, &it, &val), 0);
	assert_int_equal(sipcx_msg_value_next(&m, SIPCX_HDR_VIA, &it, &val), 0);
	assert_int_equal(count_values(&m, SIPCX_HDR_ROUTE), 2);
	assert_int_equal(count_values(&m, SIPCX_HDR_EXPIRES), 0);

	it = (struct sipcx_msg_iter)SIPCX_MSG_ITER_INIT;
	struct sipcx_addr c;
	const char *chosts[] = { "h1", "h2", "h3" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sipcx_msg_contact_next(&m, &it, &c), 1);
		assert_str(c.uri.host, chosts[i]);
	}
	assert_str(c.uri.user, "a");
	assert_int_equal(sipcx_msg_contact_next(&m, &it, &c), 0);
	assert_str(sipcx_msg_contact(&m)->display, "A, B");
	assert_int_equal(sipcx_msg_check(&m, 0, NULL), SIPCX_MSG_ACCEPT);
}

/*
 * Header names as the parser meets them: every known name in three cases,
 * one letter off, and as the last line of an exact-size buffer (where a
 * name may be shorter than the word the lookup loads).
 */
static void test_names_in_messages(void **state)
{
	(void)state;
	char buf[128], name[32];
	struct sipcx_msg m;
	for (int id = 1; id < SIPCX_HDR__COUNT; id++) {
		const char *n = sipcx_hdr_name((enum sipcx_hdr_id)id);
		size_t k = strlen(n);
		for (int form = 0; form < 4; form++) {
			for (size_t i = 0; i <= k; i++) {
				char c = n[i];
				if (form == 0 && c >= 'a' && c <= 'z')
					c = (char)(c - 32);
				if (form == 1 && c >= 'A' && c <= 'Z')
					c = (char)(c + 32);
				name[i] = c;
			}
			if (form == 3) /* one letter off: an unknown header */
				name[k / 2] = name[k / 2] == 'q' ? 'w' : 'q';
			enum sipcx_hdr_id want =
			    form == 3 ? SIPCX_HDR_OTHER : (enum sipcx_hdr_id)id;
			/* With a value, and empty at the very end of the buffer. */
			for (int empty = 0; empty < 2; empty++) {
				if (empty && want == SIPCX_HDR_CONTENT_LENGTH)
					continue; /* an empty Content-Length is a framing error */
				int len = snprintf(buf, sizeof(buf),
				                   "OPTIONS sip:a@b SIP/2.0\r\n%s:%s\r\n\r\n", name,
				                   empty ? "" : " 0");
				assert_int_equal(parse_str(&m, buf, 0), len);
				assert_int_equal(m.hdr_count, 1);
				if (m.hdrs[0].id != want)
					fail_msg("'%s' parsed as %d, want %d", name, m.hdrs[0].id,
					         want);
				assert_int_equal(sipcx_msg_hdr_count(&m, want), want ? 1 : 0);
			}
		}
	}
	/* Names that are no known name but share a length and letters with one. */
	static const char *const others[] = { "Tx",
		                              "Vib",
		                              "Cseq2",
		                              "Contacts",
		                              "Kontact",
		                              "Reply-Tx",
		                              "Refer-Tp",
		                              "P-Preferred-Identitx",
		                              "WWW-Authenticatd" };
	for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
		int len = snprintf(buf, sizeof(buf), "OPTIONS sip:a@b SIP/2.0\r\n%s: 1\r\n\r\n",
		                   others[i]);
		assert_int_equal(parse_str(&m, buf, 0), len);
		assert_int_equal(m.hdrs[0].id, SIPCX_HDR_OTHER);
	}
}

#define CHECK_HEAD                                                                     \
	"To: <sip:b@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: c\r\n" \
	"CSeq: 1 OPTIONS\r\n"

/* The Contact list: the first value comes from the cache, the others follow it. */
static void test_contact_cache(void **state)
{
	(void)state;
	struct sipcx_msg m;
	struct sipcx_msg_iter it;
	struct sipcx_addr c;
	const char *s = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n" CHECK_HEAD
	                "Contact: \"A, B\" <sip:a@h1>;q=0.5 , <sip:a@h2>\r\n"
	                "Contact: sip:a@h3;expires=60\r\n\r\n";
	const char *hosts[] = { "h1", "h2", "h3" };
	for (int order = 0; order < 2; order++) {
		assert_int_equal(parse_str(&m, s, 0), (int)strlen(s));
		if (order == 1) /* the cache filled first */
			assert_str(sipcx_msg_contact(&m)->uri.host, "h1");
		for (int pass = 0; pass < 2;
		     pass++) { /* twice: the iteration leaves the cache as is */
			it = (struct sipcx_msg_iter)SIPCX_MSG_ITER_INIT;
			for (int i = 0; i < 3; i++) {
				assert_int_equal(sipcx_msg_contact_next(&m, &it, &c), 1);
				assert_str(c.uri.host, hosts[i]);
			}
			assert_int_equal(sipcx_msg_contact_next(&m, &it, &c), 0);
		}
		assert_str(sipcx_msg_contact(&m)->display, "A, B");
		assert_str(sipcx_msg_contact(&m)->params, ";q=0.5");
		assert_int_equal(sipcx_msg_check(&m, 0, NULL), SIPCX_MSG_ACCEPT);
	}

	/* A bad first value: -EBADMSG, then the iteration goes on. */
	s = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n" CHECK_HEAD
	    "Contact: <sip:a@h1> x, <sip:a@h2>\r\n\r\n";
	assert_int_equal(parse_str(&m, s, 0), (int)strlen(s));
	it = (struct sipcx_msg_iter)SIPCX_MSG_ITER_INIT;
	assert_int_equal(sipcx_msg_contact_next(&m, &it, &c), -EBADMSG);
	assert_int_equal(sipcx_msg_contact_next(&m, &it, &c), 1);
	assert_str(c.uri.host, "h2");
	assert_int_equal(sipcx_msg_contact_next(&m, &it, &c), 0);
	assert_null(sipcx_msg_contact(&m));
	struct sipcx_msg_verdict v;
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_string_equal(v.reason, "Bad Contact");
	assert_int_equal(v.offset, (size_t)(strstr(s, "<sip:a@h1> x") - s));

	/* A bad later value is reported where it is. */
	s = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n" CHECK_HEAD
	    "Contact: <sip:a@h1>\r\nm: <sip:a@h2>, sip:a@h3?x=1\r\n\r\n";
	assert_int_equal(parse_str(&m, s, 0), (int)strlen(s));
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_string_equal(v.reason, "Bad Contact");
	assert_int_equal(v.offset, (size_t)(strstr(s, "sip:a@h3?") - s));

	/* An unbalanced '<' ends the iteration. */
	s = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n" CHECK_HEAD
	    "Contact: <sip:a@h1\r\n\r\n";
	assert_int_equal(parse_str(&m, s, 0), (int)strlen(s));
	it = (struct sipcx_msg_iter)SIPCX_MSG_ITER_INIT;
	assert_int_equal(sipcx_msg_contact_next(&m, &it, &c), -EBADMSG);
	assert_int_equal(sipcx_msg_contact_next(&m, &it, &c), 0); /* not the error forever */
	assert_int_equal(sipcx_msg_contact_next(&m, &it, &c), 0);
	it = (struct sipcx_msg_iter)SIPCX_MSG_ITER_INIT;
	struct sipcx_str val;
	assert_int_equal(sipcx_msg_value_next(&m, SIPCX_HDR_CONTACT, &it, &val), -EBADMSG);
	assert_int_equal(sipcx_msg_value_next(&m, SIPCX_HDR_CONTACT, &it, &val), 0);
	assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
	assert_string_equal(v.reason, "Bad Contact");

	/* Contact: * alone is fine (RFC 3261 10.2.2). */
	s = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n" CHECK_HEAD
	    "Contact: *\r\n\r\n";
	assert_int_equal(parse_str(&m, s, 0), (int)strlen(s));
	it = (struct sipcx_msg_iter)SIPCX_MSG_ITER_INIT;
	assert_int_equal(sipcx_msg_contact_next(&m, &it, &c), 1);
	assert_true(c.star);
	assert_int_equal(sipcx_msg_check(&m, 0, NULL), SIPCX_MSG_ACCEPT);
	/* The heap copy parses again from its own bytes. */
	struct sipcx_msg *d = NULL;
	assert_int_equal(sipcx_msg_dup(&d, &m), 0);
	it = (struct sipcx_msg_iter)SIPCX_MSG_ITER_INIT;
	assert_int_equal(sipcx_msg_contact_next(d, &it, &c), 1);
	assert_true(c.star);
	assert_true(c.raw.p >= d->raw.p && c.raw.p < d->raw.p + d->raw.len);
	sipcx_msg_unref(d);
}

/* Every Via value is judged, and a bad one is reported at its place. */
static void test_check_vias(void **state)
{
	(void)state;
	static const struct {
		const char *vias;   /* the Via lines */
		const char *bad_at; /* NULL: accepted; else where the offset points */
		int n;              /* values, for the UA rule (a response with 2+ is dropped) */
	} cases[] = {
		{ "Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b\r\nv: SIP/2.0/TCP c:5061\r\n",
		  NULL, 3 },
		{ "Via: SIP/2.0/UDP a;x=\"1,2\", SIP/2.0/UDP b\r\n", NULL, 2 },
		{ "Via: SIP/2.0/UDP a\r\nVia: ,SIP/2.0/UDP b,,\r\n", NULL, 2 },
		{ "Via: SIP/2.0/UDP a, SIP/2.0/UDP b;;\r\n", "SIP/2.0/UDP b;;", 0 },
		{ "Via: SIP/2.0/UDP a\r\nVia: SIP/2.0/UDP b c\r\n", "SIP/2.0/UDP b c", 0 },
		/* RFC 4475 badinv01: the others first, so the ";" after the top one */
		{ "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n", ";,,", 0 },
		/* Both bad: the lower one is reported, the top one after it. */
		{ "Via: SIP/2.0/UDP a;, SIP/2.0/UDP b;;\r\n", "SIP/2.0/UDP b;;", 0 },
		{ "Via: SIP/2.0/UDP a;\r\nVia: SIP/2.0/UDP b\r\n", "SIP/2.0/UDP a;", 0 },
		/* A line that cannot be split is reported at the top value. */
		{ "Via: SIP/2.0/UDP a, SIP/2.0/UDP \"b\r\n", "SIP/2.0/UDP a,", 0 },
		/* An empty first line: no top Via. */
		{ "Via: \r\nVia: SIP/2.0/UDP b\r\n", "\nVia: SIP/2.0/UDP b", 0 },
	};
	struct sipcx_msg m;
	struct sipcx_msg_verdict v;
	char buf[512];
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		for (int resp = 0; resp < 2; resp++) {
			int len = snprintf(buf, sizeof(buf), "%s%s" CHECK_HEAD "\r\n",
			                   resp ? "SIP/2.0 200 OK\r\n"
			                        : "OPTIONS sip:b@example.com SIP/2.0\r\n",
			                   cases[i].vias);
			assert_int_equal(parse_str(&m, buf, 0), len);
			enum sipcx_msg_action a = sipcx_msg_check(&m, 0, &v);
			if (!cases[i].bad_at) {
				assert_int_equal(a, SIPCX_MSG_ACCEPT);
				assert_int_equal(sipcx_msg_check(&m, SIPCX_MSG_CHECK_UA, &v),
				                 resp && cases[i].n > 1 ? SIPCX_MSG_DROP
				                                        : SIPCX_MSG_ACCEPT);
				continue;
			}
			assert_int_equal(a, resp ? SIPCX_MSG_DROP : SIPCX_MSG_REJECT);
			assert_string_equal(v.what, "malformed Via");
			if (!resp)
				assert_string_equal(v.reason, "Bad Via");
			const char *at = strstr(buf, cases[i].bad_at);
			assert_non_null(at);
			if (v.offset != (size_t)(at - buf))
				fail_msg("case %zu: offset %zu, want %td", i, v.offset, at - buf);
		}
	}
}

static void test_heap(void **state)
{
	(void)state;
	size_t len;
	char *b = load("msg_invite_sdp.sip", &len);
	tu_alloc_install();
	struct sipcx_msg *m = NULL;
	assert_int_equal(sipcx_msg_new(&m, b, len, 0), (int)len);
	assert_non_null(m);
	/* The message owns a copy: the input can go. */
	char *copy = exact(b, len);
	memset(b, 'Z', len);
	check_vec(&vecs[0], m, len);
	assert_true(m->raw.p < b || m->raw.p >= b + len);
	assert_memory_equal(m->raw.p, copy, len);
	assert_ptr_equal(sipcx_msg_ref(m), m);
	sipcx_msg_unref(m);
	assert_int_equal(tu_alloc_live(), 1);
	sipcx_msg_unref(m);
	assert_int_equal(tu_alloc_live(), 0);
	sipcx_msg_unref(NULL);
	assert_null(sipcx_msg_ref(NULL));

	/* Errors leave *out alone. */
	m = NULL;
	assert_int_equal(sipcx_msg_new(&m, "garbage\r\n\r\n", 11, 0), -EBADMSG);
	assert_int_equal(sipcx_msg_new(&m, copy, len - 1, SIPCX_MSG_STREAM), -EAGAIN);
	assert_null(m);
	assert_int_equal(tu_alloc_live(), 0);

	/* Stream: only the message is kept, not what follows. */
	assert_int_equal(sipcx_msg_new(&m, copy, len, SIPCX_MSG_STREAM), (int)len);
	assert_int_equal(m->raw.len, len);
	sipcx_msg_unref(m);

	/* A failed parse can be kept to answer it: dup copies what was indexed. */
	struct sipcx_msg st;
	const char *bad = "INVITE sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                  "CSeq: 1 INVITE\r\nContent-Length: 99\r\n\r\nshort";
	assert_int_equal(parse_str(&st, bad, 0), -EBADMSG);
	m = NULL;
	assert_int_equal(sipcx_msg_dup(&m, &st), 0);
	struct sipcx_msg_verdict v;
	assert_int_equal(sipcx_msg_check(m, 0, &v), SIPCX_MSG_REJECT);
	assert_int_equal(v.status, 400);
	assert_int_equal(v.offset, strlen(bad));
	assert_str(sipcx_msg_call_id(m), "c1");
	assert_str(sipcx_msg_from(m)->tag, "1");
	sipcx_msg_unref(m);

	/* A caller-owned message is not freed by unref. */
	assert_int_equal(
	    parse_str(&st, "SIP/2.0 200 OK\r\n" MSG_HEAD "CSeq: 1 INVITE\r\nl: 0\r\n\r\n", 0) > 0,
	    1);
	sipcx_msg_unref(&st);
	assert_int_equal(st.status, 200);
	assert_int_equal(tu_alloc_live(), 0);
	assert_int_equal(sipcx_msg_dup(&m, NULL), -EINVAL);
	tu_alloc_uninstall();
	free(copy);
	free(b);
}

/* Fail each allocation in turn: -ENOMEM and nothing leaked. */
static void test_oom(void **state)
{
	(void)state;
	size_t len;
	char *b = load("msg_200_sdp.sip", &len);
	tu_alloc_install();
	bool done = false;
	for (long i = 1; i < 50 && !done; i++) {
		tu_alloc_fail_at(i);
		struct sipcx_msg *m = NULL;
		int r = sipcx_msg_new(&m, b, len, 0);
		if (tu_alloc_failed()) {
			assert_int_equal(r, -ENOMEM);
			assert_null(m);
		} else {
			assert_int_equal(r, (int)len);
			assert_int_equal(m->status, 200);
			sipcx_msg_unref(m);
			done = true;
		}
		assert_int_equal(tu_alloc_live(), 0);
	}
	assert_true(done);

	/* Printing into a buffer that cannot grow: -ENOMEM. */
	struct sipcx_msg pm;
	assert_int_equal(sipcx_msg_parse(&pm, b, len, 0), (int)len);
	done = false;
	for (long i = 1; i < 50 && !done; i++) {
		struct sipcx_buf out;
		sipcx_buf_init(&out);
		tu_alloc_fail_at(i);
		int r = sipcx_msg_print(&out, &pm);
		if (tu_alloc_failed()) {
			assert_int_equal(r, -ENOMEM);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(out.len, len);
			done = true;
		}
		sipcx_buf_free(&out);
		assert_int_equal(tu_alloc_live(), 0);
	}
	assert_true(done);
	tu_alloc_uninstall();
	free(b);
}

static void assert_same_msg(const struct sipcx_msg *a, const struct sipcx_msg *b)
{
	assert_int_equal(a->request, b->request);
	assert_int_equal(a->method, b->method);
	assert_true(sipcx_str_eq(a->method_str, b->method_str));
	assert_true(sipcx_str_eq(a->ruri, b->ruri));
	assert_int_equal(a->status, b->status);
	assert_true(sipcx_str_eq(a->reason, b->reason));
	assert_int_equal(a->hdr_count, b->hdr_count);
	for (size_t i = 0; i < a->hdr_count; i++) {
		assert_int_equal(a->hdrs[i].id, b->hdrs[i].id);
		assert_true(sipcx_str_eq(a->hdrs[i].name, b->hdrs[i].name));
		assert_true(sipcx_str_eq(a->hdrs[i].value, b->hdrs[i].value));
	}
	assert_true(sipcx_str_eq(a->body, b->body));
}

static void test_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		size_t len;
		char *b = load(vecs[i].file, &len);
		struct sipcx_msg m, m2;
		assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
		struct sipcx_buf out;
		sipcx_buf_init(&out);
		assert_int_equal(sipcx_msg_print(&out, &m), 0);
		if (vecs[i].byte_exact) {
			assert_int_equal(out.len, len);
			assert_memory_equal(out.p, b, len);
		}
		assert_int_equal(sipcx_msg_parse(&m2, out.p, out.len, SIPCX_MSG_STREAM),
		                 (int)out.len);
		assert_same_msg(&m, &m2);
		sipcx_buf_free(&out);
		free(b);
	}
}

static void test_print_build(void **state)
{
	(void)state;
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	struct sipcx_hdr h[] = {
		{ SIPCX_HDR_VIA, SIPCX_STR_NULL,
		  SIPCX_STR("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1") },
		{ SIPCX_HDR_MAX_FORWARDS, SIPCX_STR_NULL, SIPCX_STR("70") },
		{ SIPCX_HDR_TO, SIPCX_STR_NULL, SIPCX_STR("<sip:b@example.com>") },
		{ SIPCX_HDR_FROM, SIPCX_STR_NULL, SIPCX_STR("<sip:a@example.com>;tag=1") },
		{ SIPCX_HDR_CALL_ID, SIPCX_STR_NULL, SIPCX_STR("c1") },
		{ SIPCX_HDR_CSEQ, SIPCX_STR_NULL, SIPCX_STR("1 MESSAGE") },
		{ SIPCX_HDR_OTHER, SIPCX_STR("X-Thing"), SIPCX_STR("a\r\n b") },
		{ SIPCX_HDR_CONTENT_TYPE, SIPCX_STR_NULL, SIPCX_STR("text/plain") },
	};
	const char *want = "MESSAGE sip:b@example.com SIP/2.0\r\n"
	                   "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
	                   "Max-Forwards: 70\r\n"
	                   "To: <sip:b@example.com>\r\n"
	                   "From: <sip:a@example.com>;tag=1\r\n"
	                   "Call-ID: c1\r\n"
	                   "CSeq: 1 MESSAGE\r\n"
	                   "X-Thing: a\r\n b\r\n"
	                   "Content-Type: text/plain\r\n"
	                   "Content-Length: 5\r\n"
	                   "\r\n"
	                   "hello";
	assert_int_equal(sipcx_msg_print_request(&b, SIPCX_STR("MESSAGE"),
	                                         SIPCX_STR("sip:b@example.com"), h, ARRAY_SIZE(h),
	                                         SIPCX_STR("hello")),
	                 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.p, want, b.len);
	struct sipcx_msg m;
	assert_int_equal(sipcx_msg_parse(&m, b.p, b.len, SIPCX_MSG_STREAM), (int)b.len);
	assert_int_equal(sipcx_msg_check(&m, 0, NULL), SIPCX_MSG_ACCEPT);
	assert_str(m.body, "hello");

	/* A given Content-Length is rewritten in place, extra ones dropped. */
	b.len = 0;
	struct sipcx_hdr h2[] = {
		{ SIPCX_HDR_OTHER, SIPCX_STR("l"), SIPCX_STR("999") },
		{ SIPCX_HDR_CONTENT_LENGTH, SIPCX_STR_NULL, SIPCX_STR("1") },
		{ SIPCX_HDR_OTHER, SIPCX_STR("Server"), SIPCX_STR("x") },
	};
	assert_int_equal(
	    sipcx_msg_print_response(&b, 486, (struct sipcx_str){ NULL, 0 }, h2, 3, SIPCX_STR_NULL),
	    0);
	want = "SIP/2.0 486 Busy Here\r\nl: 0\r\nServer: x\r\n\r\n";
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.p, want, b.len);
	/* An explicitly empty reason stays empty (RFC 4475 3.1.1.13). */
	b.len = 0;
	assert_int_equal(sipcx_msg_print_response(&b, 100, SIPCX_STR(""), NULL, 0, SIPCX_STR_NULL),
	                 0);
	want = "SIP/2.0 100 \r\nContent-Length: 0\r\n\r\n";
	assert_memory_equal(b.p, want, strlen(want));

	/* Refused: injection and bad parts. */
	struct sipcx_hdr inj = { SIPCX_HDR_OTHER, SIPCX_STR("X-A"), SIPCX_STR("a\r\nVia: evil") };
	b.len = 0;
	assert_int_equal(sipcx_msg_print_request(&b, SIPCX_STR("INFO"), SIPCX_STR("sip:x"), &inj, 1,
	                                         SIPCX_STR_NULL),
	                 -EINVAL);
	struct sipcx_hdr inj2 = { SIPCX_HDR_OTHER, SIPCX_STR("X-A"), SIPCX_STR("a\rb") };
	assert_int_equal(sipcx_msg_print_request(&b, SIPCX_STR("INFO"), SIPCX_STR("sip:x"), &inj2,
	                                         1, SIPCX_STR_NULL),
	                 -EINVAL);
	struct sipcx_hdr noname = { SIPCX_HDR_OTHER, SIPCX_STR_NULL, SIPCX_STR("x") };
	assert_int_equal(sipcx_msg_print_request(&b, SIPCX_STR("INFO"), SIPCX_STR("sip:x"), &noname,
	                                         1, SIPCX_STR_NULL),
	                 -EINVAL);
	struct sipcx_hdr badname = { SIPCX_HDR_OTHER, SIPCX_STR("X A"), SIPCX_STR("x") };
	assert_int_equal(sipcx_msg_print_request(&b, SIPCX_STR("INFO"), SIPCX_STR("sip:x"),
	                                         &badname, 1, SIPCX_STR_NULL),
	                 -EINVAL);
	assert_int_equal(sipcx_msg_print_request(&b, SIPCX_STR("IN FO"), SIPCX_STR("sip:x"), NULL,
	                                         0, SIPCX_STR_NULL),
	                 -EINVAL);
	assert_int_equal(sipcx_msg_print_request(&b, SIPCX_STR("INFO"), SIPCX_STR("sip:x y"), NULL,
	                                         0, SIPCX_STR_NULL),
	                 -EINVAL);
	assert_int_equal(sipcx_msg_print_response(&b, 99, SIPCX_STR("x"), NULL, 0, SIPCX_STR_NULL),
	                 -EINVAL);
	assert_int_equal(sipcx_msg_print_response(&b, 700, SIPCX_STR("x"), NULL, 0, SIPCX_STR_NULL),
	                 -EINVAL);
	assert_int_equal(
	    sipcx_msg_print_response(&b, 200, SIPCX_STR("O\nK"), NULL, 0, SIPCX_STR_NULL), -EINVAL);
	sipcx_buf_free(&b);
}

static void test_print_reply(void **state)
{
	(void)state;
	size_t len;
	char *in = load("msg_invite_sdp.sip", &len);
	struct sipcx_msg req;
	assert_int_equal(sipcx_msg_parse(&req, in, len, 0), (int)len);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	struct sipcx_hdr extra[] = {
		{ SIPCX_HDR_CONTACT, SIPCX_STR_NULL, SIPCX_STR("<sip:bob@192.0.2.20>") },
	};
	assert_int_equal(sipcx_msg_print_reply(&b, &req, 180, (struct sipcx_str){ NULL, 0 },
	                                       SIPCX_STR("t0g"), extra, 1, SIPCX_STR_NULL),
	                 0);
	const char *want =
	    "SIP/2.0 180 Ringing\r\n"
	    "Via: SIP/2.0/UDP proxy.atlanta.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.1\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport=5060\r\n"
	    "From: \"Alice A.\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
	    "To: Bob <sip:bob@biloxi.example.com>;tag=t0g\r\n"
	    "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
	    "CSeq: 31862 INVITE\r\n"
	    "Contact: <sip:bob@192.0.2.20>\r\n"
	    "Content-Length: 0\r\n"
	    "\r\n";
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.p, want, b.len);
	struct sipcx_msg resp;
	assert_int_equal(sipcx_msg_parse(&resp, b.p, b.len, SIPCX_MSG_STREAM), (int)b.len);
	assert_int_equal(sipcx_msg_check(&resp, 0, NULL), SIPCX_MSG_ACCEPT);
	assert_str(sipcx_msg_to(&resp)->tag, "t0g");
	assert_str(sipcx_msg_via(&resp)->branch, "z9hG4bK2d4790.1");
	free(in);

	/* In-dialog (To has a tag): no second tag. 100 echoes Timestamp. */
	const char *bye =
	    "BYE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK5\r\n"
	    "f: <sip:a@example.com>;tag=1\r\ni: c9\r\nCSeq: 2 BYE\r\nTimestamp: 54\r\n"
	    "t: <sip:b@example.com>;tag=xyz\r\n\r\n";
	assert_int_equal(parse_str(&req, bye, 0), (int)strlen(bye));
	b.len = 0;
	assert_int_equal(sipcx_msg_print_reply(&b, &req, 100, SIPCX_STR("Trying"), SIPCX_STR("new"),
	                                       NULL, 0, SIPCX_STR_NULL),
	                 0);
	assert_int_equal(parse_str(&resp, b.p, SIPCX_MSG_STREAM), (int)b.len);
	assert_true(strstr(b.p, "To: <sip:b@example.com>;tag=xyz\r\n") != NULL);
	assert_true(strstr(b.p, "Timestamp: 54\r\n") != NULL);
	assert_null(strstr(b.p, "tag=new"));

	/* A 400 to a request whose parse failed after its headers. */
	const char *bad = "INVITE sip:b@example.com SIP/2.0\r\n" MSG_HEAD
	                  "CSeq: 1 INVITE\r\nContent-Length: -4\r\n\r\n";
	assert_int_equal(parse_str(&req, bad, 0), -EBADMSG);
	struct sipcx_msg_verdict v;
	assert_int_equal(sipcx_msg_check(&req, 0, &v), SIPCX_MSG_REJECT);
	b.len = 0;
	assert_int_equal(sipcx_msg_print_reply(&b, &req, v.status, sipcx_str_c(v.reason),
	                                       SIPCX_STR("x1"), NULL, 0, SIPCX_STR_NULL),
	                 0);
	want = "SIP/2.0 400 Bad Content-Length\r\n"
	       "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx1\r\n"
	       "From: <sip:a@example.com>;tag=1\r\n"
	       "To: <sip:b@example.com>;tag=x1\r\n"
	       "Call-ID: c1\r\n"
	       "CSeq: 1 INVITE\r\n"
	       "Content-Length: 0\r\n\r\n";
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.p, want, b.len);
	/* Not a request: refused. */
	assert_int_equal(sipcx_msg_print_reply(&b, &resp, 200, SIPCX_STR_NULL, SIPCX_STR_NULL, NULL,
	                                       0, SIPCX_STR_NULL),
	                 -EINVAL);
	assert_int_equal(sipcx_msg_print_reply(&b, NULL, 200, SIPCX_STR_NULL, SIPCX_STR_NULL, NULL,
	                                       0, SIPCX_STR_NULL),
	                 -EINVAL);
	sipcx_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_datagram),
		cmocka_unit_test(test_vectors_every_split),
		cmocka_unit_test(test_stream_two_messages),
		cmocka_unit_test(test_compact_forms),
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_names_in_messages),
		cmocka_unit_test(test_contact_cache),
		cmocka_unit_test(test_check_vias),
		cmocka_unit_test(test_heap),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_print_build),
		cmocka_unit_test(test_print_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
