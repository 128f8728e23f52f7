/* RFC 4475 torture messages through the parser and the check, one expectation per file from the RFC text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/msg.h>

#include "msg/msg.h" /* sipcx__mc() */
#include "testutil.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum how {
	ACCEPT,       /* parses; the check accepts it */
	PARSE_REJECT, /* sipcx_msg_parse() fails; the check answers status */
	CHECK_REJECT, /* parses; the check answers status */
	PARSE_DROP,   /* sipcx_msg_parse() fails; the check drops it silently */
	CHECK_DROP,   /* parses; the check drops it silently */
};

struct expect {
	const char *file;
	const char *class; /* the manifest's 4th column, to catch a table out of step */
	enum how how;
	uint16_t status;
	const char *reason; /* the reason phrase of the check, NULL: not asserted */
	const char *why;    /* the RFC's required behaviour, in short */
};

static const struct expect table[] = {
	/* 3.1.1 valid messages */
	{ "wsinv.dat", "valid", ACCEPT, 0, NULL, "LWS, folding, compact forms: well-formed" },
	{ "intmeth.dat", "valid", ACCEPT, 0, NULL,
	  "unknown method with odd token chars (501 is the UA's)" },
	{ "esc01.dat", "valid", ACCEPT, 0, NULL, "% escapes in URIs" },
	{ "escnull.dat", "valid", ACCEPT, 0, NULL, "%00 in URIs: no C-string truncation" },
	{ "esc02.dat", "valid", ACCEPT, 0, NULL,
	  "RE%47IST%45R is an unknown method (501 is the UA's)" },
	{ "lwsdisp.dat", "valid", ACCEPT, 0, NULL, "no LWS between display name and <" },
	{ "longreq.dat", "valid", ACCEPT, 0, NULL, "long values, no fixed buffers" },
	{ "dblreq.dat", "valid", ACCEPT, 0, NULL, "trailing octets after Content-Length ignored" },
	{ "semiuri.dat", "valid", ACCEPT, 0, NULL, "';' in the user part" },
	{ "transports.dat", "valid", ACCEPT, 0, NULL, "unknown transports in Via" },
	{ "mpart01.dat", "valid", ACCEPT, 0, NULL, "binary body framed by Content-Length" },
	{ "unreason.dat", "valid", ACCEPT, 0, NULL, "UTF-8 reason phrase" },
	{ "noreason.dat", "valid", ACCEPT, 0, NULL, "empty reason phrase" },
	/* 3.1.2 invalid messages */
	{ "badinv01.dat", "invalid", CHECK_REJECT, 400, "Bad Via", "extra ';' ',' in Via: 400" },
	{ "clerr.dat", "invalid", PARSE_REJECT, 400, "Bad Content-Length",
	  "UDP: Content-Length larger than the message: 400" },
	{ "ncl.dat", "invalid", PARSE_REJECT, 400, "Bad Content-Length",
	  "negative Content-Length: 400" },
	{ "scalar02.dat", "invalid", CHECK_REJECT, 400, "Bad CSeq", "CSeq > 2^32-1: 400" },
	{ "scalarlg.dat", "invalid", CHECK_DROP, 0, NULL, "response with CSeq > 2^32-1: discard" },
	{ "quotbal.dat", "invalid", CHECK_REJECT, 400, "Bad To", "unterminated quote: 400" },
	{ "ltgtruri.dat", "invalid", CHECK_REJECT, 400, "Bad Request-URI",
	  "<> around the R-URI: 400" },
	{ "lwsruri.dat", "invalid", PARSE_REJECT, 400, "Bad Request-URI", "LWS in the R-URI: 400" },
	{ "lwsstart.dat", "invalid", PARSE_REJECT, 400, "Bad Request-URI",
	  "several SP in the request line: 400 acceptable" },
	{ "trws.dat", "invalid", PARSE_REJECT, 400, "Bad Request Line",
	  "SP at the end of the request line: 400 acceptable" },
	{ "escruri.dat", "invalid", CHECK_REJECT, 400, "Bad Request-URI",
	  "escaped headers in the R-URI: 400 acceptable" },
	/* The RFC lets an element that does not use Date ignore it; a phone does not. */
	{ "baddate.dat", "invalid", ACCEPT, 0, NULL,
	  "bad Date: reject only if Date matters, else ignore" },
	{ "regbadct.dat", "invalid", CHECK_REJECT, 400, "Bad Contact",
	  "URI with '?' not in <>: 400 reasonable" },
	{ "badaspec.dat", "invalid", CHECK_REJECT, 400, "Bad To",
	  "spaces inside <>: 400 reasonable" },
	/* The archive bytes have no empty line after the headers: malformed as a datagram. */
	{ "baddn.dat", "invalid", PARSE_REJECT, 400, NULL, "non-token display name: 400" },
	{ "badvers.dat", "invalid", CHECK_REJECT, 505, "Version Not Supported", "SIP/7.0: 505" },
	{ "mismatch01.dat", "invalid", CHECK_REJECT, 400, "Bad CSeq", "CSeq method mismatch: 400" },
	/* 501 (preferred) is the UA's answer to the unknown method; 400 is acceptable. */
	{ "mismatch02.dat", "invalid", CHECK_REJECT, 400, "Bad CSeq",
	  "unknown method, CSeq mismatch: 501 or 400" },
	{ "bigcode.dat", "invalid", PARSE_DROP, 0, NULL, "status code > 699: drop" },
	/* 3.2, 3.3: well-formed but semantically odd */
	{ "badbranch.dat", "semantic (parse-valid)", ACCEPT, 0, NULL,
	  "branch 'z9hG4bK' alone: 400 or RFC 2543 matching (we match)" },
	{ "insuf.dat", "semantic (parse-valid)", CHECK_REJECT, 400, "Missing To",
	  "no Call-ID, From, To: 400" },
	{ "unkscm.dat", "semantic (parse-valid)", CHECK_REJECT, 416, "Unsupported URI Scheme",
	  "unknown R-URI scheme: 416" },
	{ "novelsc.dat", "semantic (parse-valid)", CHECK_REJECT, 416, "Unsupported URI Scheme",
	  "soap.beep: is never meaningful to a phone: 416" },
	{ "unksm2.dat", "semantic (parse-valid)", ACCEPT, 0, NULL,
	  "unknown schemes in To/From/Contact: proxy processes it" },
	{ "bext01.dat", "semantic (parse-valid)", ACCEPT, 0, NULL, "420 is the UAS's (Require)" },
	{ "invut.dat", "semantic (parse-valid)", ACCEPT, 0, NULL,
	  "415 is the UA's (Content-Type)" },
	{ "regaut01.dat", "semantic (parse-valid)", ACCEPT, 0, NULL,
	  "unknown auth scheme: registrar's" },
	{ "multi01.dat", "semantic (invalid)", CHECK_REJECT, 400, "Duplicate To",
	  "several To/From/Call-ID/CSeq: 400" },
	{ "mcl01.dat", "semantic (invalid)", PARSE_REJECT, 400, "Bad Content-Length",
	  "conflicting Content-Length: framing error" },
	{ "bcast.dat", "semantic (parse-valid)", ACCEPT, 0, NULL,
	  "UA discards (two Vias, RFC 3261 8.1.3.3: SIPCX_MSG_CHECK_UA)" },
	{ "zeromf.dat", "valid", ACCEPT, 0, NULL, "Max-Forwards 0 is legal for a UA" },
	{ "cparam01.dat", "valid", ACCEPT, 0, NULL, "contact param, not URI param" },
	{ "cparam02.dat", "valid", ACCEPT, 0, NULL, "URI param" },
	{ "regescrt.dat", "valid", ACCEPT, 0, NULL, "escaped Route inside the contact URI" },
	{ "sdp01.dat", "semantic (parse-valid)", ACCEPT, 0, NULL, "406 is the UA's (Accept)" },
	{ "inv2543.dat", "valid (backward-compat)", ACCEPT, 0, NULL,
	  "RFC 2543: no branch, tag, Content-Length, Max-Forwards" },
	/*
	 * No RFC text. Not well-formed whatever the manifest's note says: the
	 * request line has no SIP version and "Foobar roobar" has no ':'. No
	 * Via either, so there is nobody to answer.
	 */
	{ "test.dat", "unreferenced", PARSE_DROP, 0, NULL, "no version, header without ':'" },
};

static const char *dir;

static int setup(void **state)
{
	(void)state;
	dir = tu_rfc4475_dir();
	return 0;
}

static char *load(const char *name, size_t *len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	char *b = tu_read_file(path, len);
	if (!b)
		fail_msg("cannot read %s", path);
	return b;
}

static void skip_if_absent(void)
{
	if (!dir) {
		const char *env = getenv("SIPCX_RFC4475_DIR");
		printf("skipped: RFC 4475 corpus not found at %s (set SIPCX_RFC4475_DIR)\n",
		       env ? env : "(SIPCX_RFC4475_DIR unset)");
		skip();
	}
}

static const struct expect *find(const char *file)
{
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (strcmp(table[i].file, file) == 0)
			return &table[i];
	return NULL;
}

static void check_one(const struct expect *e)
{
	size_t len;
	char *b = load(e->file, &len);
	struct sipcx_msg m;
	struct sipcx_msg_verdict v;
	/* RFC 4475 messages are datagrams unless the text says otherwise. */
	int n = sipcx_msg_parse(&m, b, len, 0);
	enum sipcx_msg_action a = sipcx_msg_check(&m, 0, &v);
	bool parsed = n > 0;
	bool want_parse = e->how == ACCEPT || e->how == CHECK_REJECT || e->how == CHECK_DROP;
	if (parsed != want_parse)
		fail_msg("%s: parse gave %d (%s at %zu); RFC: %s", e->file, n,
		         m.err_what ? m.err_what : "ok", m.err_offset, e->why);
	enum sipcx_msg_action want = e->how == ACCEPT ? SIPCX_MSG_ACCEPT
	                             : (e->how == PARSE_REJECT || e->how == CHECK_REJECT)
	                                 ? SIPCX_MSG_REJECT
	                                 : SIPCX_MSG_DROP;
	if (a != want || v.status != e->status ||
	    (e->reason && (!v.reason || strcmp(v.reason, e->reason) != 0)))
		fail_msg("%s: check gave %d %u %s (%s at %zu); want %d %u %s; RFC: %s", e->file, a,
		         v.status, v.reason ? v.reason : "-", v.what ? v.what : "-", v.offset, want,
		         e->status, e->reason ? e->reason : "-", e->why);
	if (a != SIPCX_MSG_ACCEPT) {
		assert_non_null(v.what);
		assert_true(v.offset <= len);
	}
	/* A rejected request can be answered from what was parsed. */
	if (a == SIPCX_MSG_REJECT) {
		struct sipcx_buf out;
		sipcx_buf_init(&out);
		assert_int_equal(sipcx_msg_print_reply(&out, &m, v.status, sipcx_str_c(v.reason),
		                                       SIPCX_STR("t1"), NULL, 0, SIPCX_STR_NULL),
		                 0);
		struct sipcx_msg r;
		assert_int_equal(sipcx_msg_parse(&r, out.p, out.len, SIPCX_MSG_STREAM),
		                 (int)out.len);
		assert_int_equal(r.status, v.status);
		sipcx_buf_free(&out);
	}
	/* Whatever parses prints back to something that parses to the same. */
	if (parsed) {
		struct sipcx_buf out;
		sipcx_buf_init(&out);
		assert_int_equal(sipcx_msg_print(&out, &m), 0);
		struct sipcx_msg r;
		assert_int_equal(sipcx_msg_parse(&r, out.p, out.len, SIPCX_MSG_STREAM),
		                 (int)out.len);
		/* Printing adds the Content-Length a datagram may lack. */
		size_t cl;
		bool had_cl = sipcx_msg_content_length(&m, &cl) == 0;
		assert_int_equal(r.hdr_count, m.hdr_count + (had_cl ? 0 : 1));
		assert_int_equal(r.body.len, m.body.len);
		struct sipcx_msg_verdict v2;
		if (sipcx_msg_check(&r, 0, &v2) != a)
			fail_msg("%s: printed copy gave %d (%s)", e->file, v2.action,
			         v2.what ? v2.what : "-");
		sipcx_buf_free(&out);
	}
	/* Over a stream, every prefix waits or fails; never a message made of a prefix. */
	for (size_t k = 0; k < len; k++) {
		char *p = malloc(k ? k : 1);
		memcpy(p, b, k);
		int r = sipcx_msg_parse(&m, p, k, SIPCX_MSG_STREAM);
		if (r > 0 && (size_t)r > k)
			fail_msg("%s: stream prefix %zu consumed %d", e->file, k, r);
		if (r > 0 && n > 0 && sipcx__mc(&m)->has_clen && r != n)
			fail_msg("%s: stream prefix %zu gave a message of %d bytes", e->file, k, r);
		free(p);
	}
	free(b);
}

/* Every file of the manifest has an expectation here, with the manifest's class. */
static void test_manifest(void **state)
{
	(void)state;
	skip_if_absent();
	char path[4096];
	snprintf(path, sizeof(path), "%s/MANIFEST.tsv", dir);
	size_t len;
	char *mf = tu_read_file(path, &len);
	assert_non_null(mf);
	char *text = malloc(len + 1);
	memcpy(text, mf, len);
	text[len] = '\0';
	free(mf);
	size_t rows = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "file\t", 5) == 0)
			continue;
		char *cols[5] = { 0 };
		char *c = line;
		for (int i = 0; i < 5 && c; i++) {
			cols[i] = c;
			c = strchr(c, '\t');
			if (c)
				*c++ = '\0';
		}
		assert_non_null(cols[4]);
		const struct expect *e = find(cols[0]);
		if (!e)
			fail_msg("%s (%s, %s) has no expectation in the table", cols[0], cols[1],
			         cols[3]);
		if (strcmp(e->class, cols[3]) != 0)
			fail_msg("%s: manifest class '%s', table '%s'", cols[0], cols[3], e->class);
		check_one(e);
		rows++;
	}
	assert_int_equal(rows, ARRAY_SIZE(table));
	free(text);
}

/* What the RFC text says about particular fields, beyond the verdict. */
static void test_details(void **state)
{
	(void)state;
	skip_if_absent();
	size_t len;
	struct sipcx_msg m;
	struct sipcx_msg_verdict v;
	uint32_t u;

	char *b = load("wsinv.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	assert_int_equal(sipcx_msg_cseq(&m)->num, 9);
	assert_int_equal(sipcx_msg_cseq_method(&m), SIPCX_METHOD_INVITE);
	assert_int_equal(sipcx_msg_max_forwards(&m, &u), 0);
	assert_int_equal(u, 68);
	assert_memory_equal(sipcx_msg_to(&m)->tag.p, "1918181833n", 11);
	assert_memory_equal(sipcx_msg_from(&m)->tag.p, "98asjd8", 7);
	assert_int_equal(sipcx_msg_hdr_count(&m, SIPCX_HDR_VIA), 2);
	assert_memory_equal(sipcx_msg_via(&m)->branch.p, "390skdjuw", 9);
	const struct sipcx_hdr *h = sipcx_msg_hdr_by_name(&m, "UnknownHeaderWithUnusualValue");
	assert_non_null(h);
	assert_int_equal(h->value.len, 8);
	assert_memory_equal(h->value.p, ";;,,;;,;", 8);
	h = sipcx_msg_hdr(&m, SIPCX_HDR_SUBJECT);
	assert_non_null(h);
	assert_int_equal(h->value.len, 0);
	assert_int_equal(m.body.len, 150);
	free(b);

	b = load("intmeth.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	assert_int_equal(m.method, SIPCX_METHOD_OTHER);
	const char *meth = "!interesting-Method0123456789_*+`.%indeed'~";
	assert_int_equal(m.method_str.len, strlen(meth));
	assert_memory_equal(m.method_str.p, meth, strlen(meth));
	free(b);

	b = load("esc02.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	assert_int_equal(m.method, SIPCX_METHOD_OTHER);
	assert_int_equal(sipcx_msg_hdr_count(&m, SIPCX_HDR_CONTACT), 2);
	assert_non_null(sipcx_msg_hdr_by_name(&m, "C%6Fntact"));
	free(b);

	/* Only the REGISTER is processed; the INVITE after it is never seen. */
	b = load("dblreq.dat", &len);
	int n = sipcx_msg_parse(&m, b, len, 0);
	assert_true(n > 0 && (size_t)n < len);
	assert_int_equal(m.method, SIPCX_METHOD_REGISTER);
	assert_int_equal(m.body.len, 0);
	free(b);

	b = load("mpart01.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, SIPCX_MSG_STREAM), (int)len);
	size_t cl;
	assert_int_equal(sipcx_msg_content_length(&m, &cl), 0);
	assert_int_equal(cl, m.body.len);
	assert_non_null(memchr(m.body.p, '\0', m.body.len));
	free(b);

	b = load("noreason.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	assert_int_equal(m.status, 100);
	assert_int_equal(m.reason.len, 0);
	free(b);

	b = load("transports.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_str val;
	int vias = 0;
	while (sipcx_msg_value_next(&m, SIPCX_HDR_VIA, &it, &val) == 1)
		vias++;
	assert_int_equal(vias, 5);
	free(b);

	/* Over a stream the message is incomplete: wait for more (the transport times out). */
	b = load("clerr.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, SIPCX_MSG_STREAM), -EAGAIN);
	free(b);

	/* Over a stream, conflicting Content-Length is a framing error: close. */
	b = load("mcl01.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, SIPCX_MSG_STREAM), -EBADMSG);
	free(b);

	b = load("bcast.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	assert_int_equal(sipcx_msg_check(&m, SIPCX_MSG_CHECK_UA, &v), SIPCX_MSG_DROP);
	free(b);

	b = load("zeromf.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	assert_int_equal(sipcx_msg_max_forwards(&m, &u), 0);
	assert_int_equal(u, 0);
	free(b);

	/* Max-Forwards 300 and a huge Expires are out of range, not wrapped. */
	b = load("scalar02.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	assert_int_equal(sipcx_msg_max_forwards(&m, &u), -ERANGE);
	assert_int_equal(sipcx_msg_expires(&m, &u), -ERANGE);
	assert_null(sipcx_msg_cseq(&m));
	free(b);

	b = load("badbranch.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	assert_int_equal(sipcx_msg_via(&m)->branch.len, 7);
	free(b);

	b = load("inv2543.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	assert_int_equal(sipcx_msg_content_length(&m, &cl), -ENOENT);
	assert_true(m.body.len > 0);
	assert_int_equal(sipcx_msg_max_forwards(&m, &u), -ENOENT);
	assert_int_equal(sipcx_msg_from(&m)->tag.len, 0);
	assert_int_equal(sipcx_msg_parse(&m, b, len, SIPCX_MSG_STREAM), -EBADMSG);
	free(b);

	/* cparam01: the param after an addr-spec is the header's; cparam02: the URI's. */
	b = load("cparam01.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	struct sipcx_str pv;
	assert_true(sipcx_param_get(sipcx_msg_contact(&m)->params, "unknownparam", &pv));
	assert_false(sipcx_uri_param(&sipcx_msg_contact(&m)->uri, "unknownparam", &pv));
	free(b);
	b = load("cparam02.dat", &len);
	assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
	assert_true(sipcx_uri_param(&sipcx_msg_contact(&m)->uri, "unknownparam", &pv));
	free(b);

	/* baddn with its header section terminated: the display name is still bad. */
	char path[4096];
	snprintf(path, sizeof(path), "%s/variants/baddn.terminated.dat", dir);
	b = tu_read_file(path, &len);
	if (b) {
		assert_int_equal(sipcx_msg_parse(&m, b, len, 0), (int)len);
		assert_int_equal(sipcx_msg_check(&m, 0, &v), SIPCX_MSG_REJECT);
		assert_int_equal(v.status, 400);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_details),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
