/* Unit tests of the SDP layer: RFC 4566 parse/print, RFC 3264 offer/answer for audio. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <sipcx/sdp.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* tests/data/sdp/<name> */
static const char *data_path(const char *name)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "sdp/%s", name);
	return tu_data_path(rel);
}

/* A parsed description with its input kept alive in an exact-size heap buffer. */
struct vec {
	char *buf;
	size_t len;
	struct sipcx_sdp *sdp;
	int rc;
};

static struct vec vec_mem(const char *p, size_t len)
{
	struct vec v = { NULL, len, NULL, 0 };
	/* Exact size, so ASan flags a read one past the end. */
	v.buf = malloc(len ? len : 1);
	assert_non_null(v.buf);
	if (len)
		memcpy(v.buf, p, len);
	v.sdp = malloc(sizeof(*v.sdp));
	assert_non_null(v.sdp);
	v.rc = sipcx_sdp_parse(v.sdp, (struct sipcx_str){ v.buf, len });
	return v;
}

static struct vec vec_str(const char *s)
{
	return vec_mem(s, strlen(s));
}

static struct vec vec_file(const char *name)
{
	size_t len = 0;
	char *data = tu_read_file(data_path(name), &len);
	if (!data)
		fail_msg("missing test vector %s", name);
	struct vec v = vec_mem(data, len);
	free(data);
	return v;
}

static void vec_free(struct vec *v)
{
	free(v->buf);
	free(v->sdp);
	v->buf = NULL;
	v->sdp = NULL;
}

static void assert_str(struct sipcx_str s, const char *want)
{
	if (!s.p)
		fail_msg("slice absent, wanted \"%s\"", want);
	if (s.len != strlen(want) || memcmp(s.p, want, s.len) != 0)
		fail_msg("got \"%.*s\", wanted \"%s\"", SIPCX_STR_FMT(s), want);
}

static const char *const vectors[] = {
	"rfc3264_10_1_offer.sdp",
	"rfc3264_10_1_answer.sdp",
	"rfc3264_10_1_reoffer.sdp",
	"rfc3264_10_1_reanswer.sdp",
	"rfc3264_10_2_offer.sdp",
	"rfc3264_10_2_answer.sdp",
	"rfc3264_10_2_reoffer.sdp",
	"rfc3264_10_2_reanswer.sdp",
	"rfc4566_5.sdp",
	"phone_crlf.sdp",
	"phone_lf.sdp",
	"phone_no_final_newline.sdp",
	"phone_lf_no_final_newline.sdp",
	"ipv6.sdp",
	"hold_sendonly.sdp",
	"hold_rfc2543.sdp",
	"multi_media.sdp",
};

/* ---- parsing -------------------------------------------------------------------------- */

static void test_parse_rfc4566(void **state)
{
	(void)state;
	struct vec v = vec_file("rfc4566_5.sdp");
	assert_int_equal(v.rc, 0);
	const struct sipcx_sdp *s = v.sdp;
	assert_str(s->origin.username, "jdoe");
	assert_true(s->origin.id == 2890844526u);
	assert_true(s->origin.version == 2890842807u);
	assert_str(s->origin.addr.addr, "10.47.16.5");
	assert_int_equal(s->origin.addr.family, 4);
	assert_str(s->name, "SDP Seminar");
	assert_str(s->info, "A Seminar on the session description protocol");
	assert_str(s->uri, "http://www.example.com/seminars/sdp.pdf");
	assert_int_equal(s->nemail, 1);
	assert_str(s->email[0], "j.doe@example.com (Jane Doe)");
	assert_int_equal(s->nphone, 0);
	assert_true(s->conn.present);
	assert_str(s->conn.nettype, "IN");
	assert_str(s->conn.addrtype, "IP4");
	assert_str(s->conn.addr, "224.2.17.12");
	assert_str(s->conn.suffix, "/127");
	assert_true(s->conn.is_ip);
	assert_false(s->conn.is_null);
	assert_int_equal(s->ntime, 1);
	assert_true(s->time[0].start == 2873397496u);
	assert_true(s->time[0].stop == 2873404696u);
	assert_int_equal(s->nattr, 1);
	assert_str(s->attr[0].name, "recvonly");
	assert_null(s->attr[0].value.p);
	assert_int_equal(s->dir, SIPCX_SDP_RECVONLY);
	assert_null(s->key.p);
	assert_null(s->zone.p);

	assert_int_equal(s->nmedia, 2);
	const struct sipcx_sdp_media *a = &s->media[0], *vd = &s->media[1];
	assert_str(a->type, "audio");
	assert_int_equal(a->port, 49170);
	assert_str(a->proto, "RTP/AVP");
	assert_true(a->rtp);
	assert_int_equal(a->nfmt, 1);
	assert_str(a->fmt[0], "0");
	/* The session-level direction applies to media without their own. */
	assert_int_equal(a->dir, SIPCX_SDP_RECVONLY);
	assert_true(a->dir_explicit);
	assert_ptr_equal(sipcx_sdp_media_conn(s, 0), &s->conn);
	assert_null(sipcx_sdp_media_conn(s, 2));

	assert_str(vd->type, "video");
	assert_int_equal(vd->port, 51372);
	assert_str(vd->fmt[0], "99");
	struct sipcx_sdp_format f;
	assert_int_equal(sipcx_sdp_media_format(vd, 0, &f), 0);
	assert_int_equal(f.pt, 99);
	assert_true(f.known);
	assert_str(f.name, "h263-1998");
	assert_int_equal(f.clock, 90000);
	assert_int_equal(f.channels, 1);
	assert_null(f.fmtp.p);
	/* Static payload type 0 without a=rtpmap: the RFC 3551 table. */
	assert_int_equal(sipcx_sdp_media_format(a, 0, &f), 0);
	assert_str(f.name, "PCMU");
	assert_int_equal(f.clock, 8000);
	assert_int_equal(sipcx_sdp_media_format(a, 1, &f), -EINVAL);
	vec_free(&v);
}

static void test_parse_rfc3264(void **state)
{
	(void)state;
	struct vec v = vec_file("rfc3264_10_1_offer.sdp");
	assert_int_equal(v.rc, 0);
	const struct sipcx_sdp *s = v.sdp;
	/* RFC 3264 writes an empty s=: present and empty. */
	assert_non_null(s->name.p);
	assert_int_equal(s->name.len, 0);
	assert_str(s->conn.addr, "host.anywhere.com");
	assert_false(s->conn.is_ip);
	assert_int_equal(s->conn.family, 4);
	assert_int_equal(s->nmedia, 3);
	assert_int_equal(s->media[1].port, 51372);
	assert_str(s->media[2].fmt[0], "32");
	assert_int_equal(s->media[0].dir, SIPCX_SDP_SENDRECV);
	assert_false(s->media[0].dir_explicit);
	vec_free(&v);

	v = vec_file("rfc3264_10_1_reoffer.sdp");
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.sdp->nmedia, 4);
	assert_int_equal(v.sdp->media[1].port, 0);
	assert_int_equal(v.sdp->media[1].nattr, 0);
	assert_int_equal(v.sdp->media[3].dir, SIPCX_SDP_RECVONLY);
	assert_int_equal(v.sdp->media[0].dir, SIPCX_SDP_SENDRECV);
	assert_true(v.sdp->origin.version == 2890844731u);
	vec_free(&v);

	v = vec_file("rfc3264_10_2_offer.sdp");
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.sdp->media[0].nfmt, 3);
	assert_int_equal(v.sdp->media[0].dir, SIPCX_SDP_INACTIVE);
	struct sipcx_sdp_format f;
	assert_int_equal(sipcx_sdp_media_format(&v.sdp->media[0], 2, &f), 0);
	assert_int_equal(f.pt, 18);
	assert_str(f.name, "G729");
	vec_free(&v);

	for (size_t i = 0; i < 8; i++) {
		v = vec_file(vectors[i]);
		if (v.rc != 0)
			fail_msg("%s: %d", vectors[i], v.rc);
		vec_free(&v);
	}
}

/* The same offer with CRLF, LF, and without a final line end: one meaning. */
static void test_line_endings(void **state)
{
	(void)state;
	static const char *const files[] = { "phone_crlf.sdp", "phone_lf.sdp",
		                             "phone_no_final_newline.sdp",
		                             "phone_lf_no_final_newline.sdp" };
	struct sipcx_buf first;
	sipcx_buf_init(&first);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct vec v = vec_file(files[i]);
		assert_int_equal(v.rc, 0);
		const struct sipcx_sdp_media *m = &v.sdp->media[0];
		assert_int_equal(v.sdp->nmedia, 1);
		assert_int_equal(m->nattr, 7);
		/* The last line counts even without its line end. */
		assert_str(m->attr[6].name, "sendrecv");
		assert_true(m->dir_explicit);
		assert_int_equal(m->ptime, 30);
		assert_int_equal(m->rtcp_port, 40005);
		assert_str(m->rtcp_conn.addr, "192.0.2.11");
		struct sipcx_buf b;
		sipcx_buf_init(&b);
		assert_int_equal(sipcx_sdp_print(v.sdp, &b), 0);
		if (i == 0)
			first = b;
		else {
			assert_int_equal(b.len, first.len);
			assert_memory_equal(b.p, first.p, b.len);
			sipcx_buf_free(&b);
		}
		vec_free(&v);
	}
	sipcx_buf_free(&first);

	/* A last line that changes the meaning: a=sendonly without CRLF is not lost. */
	struct vec v = vec_str("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	                       "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly");
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.sdp->media[0].dir, SIPCX_SDP_SENDONLY);
	vec_free(&v);
	v = vec_str(
	    "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nm=audio 4000 RTP/AVP 0\nc=IN IP4 192.0.2.1");
	assert_int_equal(v.rc, 0);
	assert_str(sipcx_sdp_media_conn(v.sdp, 0)->addr, "192.0.2.1");
	vec_free(&v);
	/* Blank lines (a body followed by an extra CRLF) carry nothing. */
	v = vec_str("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n\r\nt=0 0\r\n\r\n");
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.sdp->ntime, 1);
	vec_free(&v);
}

static void test_ipv6(void **state)
{
	(void)state;
	struct vec v = vec_file("ipv6.sdp");
	assert_int_equal(v.rc, 0);
	const struct sipcx_sdp *s = v.sdp;
	assert_int_equal(s->conn.family, 6);
	assert_true(s->conn.is_ip);
	assert_str(s->conn.addr, "2001:db8::10");
	assert_int_equal(s->origin.addr.family, 6);
	/* Media level wins over session level. */
	const struct sipcx_sdp_conn *c = sipcx_sdp_media_conn(s, 0);
	assert_ptr_equal(c, &s->media[0].conn);
	assert_str(c->addr, "2001:db8::20");
	assert_int_equal(c->family, 6);
	const struct sipcx_sdp_media *m = &s->media[0];
	assert_true(m->rtcp_mux);
	assert_str(m->mid, "audio0");
	assert_int_equal(m->maxptime, 40);
	assert_int_equal(m->ptime, 0);
	assert_int_equal(m->rtcp_port, 0);
	struct sipcx_sdp_format f;
	assert_int_equal(sipcx_sdp_media_format(m, 1, &f), 0);
	assert_int_equal(f.pt, 101);
	assert_str(f.name, "telephone-event");
	assert_str(f.fmtp, "0-16");
	struct sipcx_str val;
	assert_true(sipcx_sdp_media_attr(m, "MID", &val));
	assert_str(val, "audio0");
	assert_true(sipcx_sdp_media_attr(m, "rtcp-mux", &val));
	assert_null(val.p);
	assert_false(sipcx_sdp_media_attr(m, "rtcp", NULL));
	assert_false(sipcx_sdp_session_attr(s, "mid", NULL));
	vec_free(&v);

	v = vec_str("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::\r\nt=0 0\r\n"
	            "m=audio 4000 RTP/AVP 0\r\na=rtcp:4001 IN IP6 ::ffff:192.0.2.1\r\n");
	assert_int_equal(v.rc, 0);
	assert_true(v.sdp->conn.is_null);
	assert_int_equal(v.sdp->media[0].rtcp_port, 4001);
	assert_str(v.sdp->media[0].rtcp_conn.addr, "::ffff:192.0.2.1");
	vec_free(&v);
}

/* Attributes are text: unknown ones are kept, malformed known ones are not digested. */
static void test_attributes(void **state)
{
	(void)state;
	struct vec v = vec_str("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\na=tool:x y:z\r\n"
	                       "m=audio 4000 RTP/AVP 0 96\r\nc=IN IP4 192.0.2.1\r\n"
	                       "a=x-custom:  spaced value \r\na=ptime:abc\r\na=rtcp:70000\r\n"
	                       "a=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\n"
	                       "a=empty:\r\na=flag\r\na=inactive\r\na=sendrecv\r\n");
	assert_int_equal(v.rc, 0);
	const struct sipcx_sdp *s = v.sdp;
	struct sipcx_str val;
	assert_true(sipcx_sdp_session_attr(s, "tool", &val));
	assert_str(val, "x y:z");
	const struct sipcx_sdp_media *m = &s->media[0];
	assert_int_equal(m->nattr, 9);
	assert_true(sipcx_sdp_media_attr(m, "x-custom", &val));
	assert_str(val, "  spaced value ");
	assert_true(sipcx_sdp_media_attr(m, "empty", &val));
	assert_non_null(val.p);
	assert_int_equal(val.len, 0);
	assert_int_equal(m->ptime, 0);
	assert_int_equal(m->rtcp_port, 0);
	/* The last direction attribute wins. */
	assert_int_equal(m->dir, SIPCX_SDP_SENDRECV);
	struct sipcx_sdp_format f;
	assert_int_equal(sipcx_sdp_media_format(m, 1, &f), 0);
	assert_str(f.name, "opus");
	assert_int_equal(f.clock, 48000);
	assert_int_equal(f.channels, 2);
	assert_str(f.fmtp, "useinbandfec=1");
	vec_free(&v);

	/* Non-RTP formats are tokens; a disabled stream may list none. */
	v = vec_str("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	            "m=image 6002 udptl t38\r\nm=audio 0 RTP/AVP\r\nm=video 5000/2 RTP/AVP 31\r\n");
	assert_int_equal(v.rc, 0);
	assert_false(v.sdp->media[0].rtp);
	assert_str(v.sdp->media[0].fmt[0], "t38");
	assert_int_equal(sipcx_sdp_media_format(&v.sdp->media[0], 0, &f), -EINVAL);
	assert_int_equal(v.sdp->media[1].nfmt, 0);
	assert_int_equal(v.sdp->media[2].port, 5000);
	assert_int_equal(v.sdp->media[2].nports, 2);
	vec_free(&v);

	assert_string_equal(sipcx_sdp_dir_name(SIPCX_SDP_SENDONLY), "sendonly");
	assert_string_equal(sipcx_sdp_dir_name(SIPCX_SDP_RECVONLY), "recvonly");
	assert_string_equal(sipcx_sdp_dir_name(SIPCX_SDP_INACTIVE), "inactive");
	assert_string_equal(sipcx_sdp_dir_name(SIPCX_SDP_SENDRECV), "sendrecv");
}

#define HEAD "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"

static void test_parse_bad(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int err;
	} cases[] = {
		{ "", -EBADMSG },
		{ "\r\n\r\n", -EBADMSG },
		{ "o=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n", -EBADMSG },          /* no v= */
		{ "v=1\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n", -EBADMSG },   /* version */
		{ "v=0\r\ns=-\r\nt=0 0\r\n", -EBADMSG },                      /* no o= */
		{ "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nt=0 0\r\n", -EBADMSG }, /* no s= */
		{ "v=0\r\nv=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n", -EBADMSG },
		{ HEAD "o=- 1 1 IN IP4 192.0.2.1\r\n", -EBADMSG },
		{ HEAD "s=again\r\n", -EBADMSG },
		{ "v=0\r\no=- 1 x IN IP4 192.0.2.1\r\ns=-\r\n", -EBADMSG },
		{ "v=0\r\no=- 1 99999999999999999999 IN IP4 192.0.2.1\r\ns=-\r\n", -EBADMSG },
		{ "v=0\r\no=- 1 1 IN IP4\r\ns=-\r\n", -EBADMSG },
		{ HEAD "m=audio 65536 RTP/AVP 0\r\n", -EBADMSG },
		{ HEAD "m=audio 99999999999 RTP/AVP 0\r\n", -EBADMSG },
		{ HEAD "m=audio -1 RTP/AVP 0\r\n", -EBADMSG },
		{ HEAD "m=audio 4000/0 RTP/AVP 0\r\n", -EBADMSG },
		{ HEAD "m=audio 4000 RTP/AVP\r\n", -EBADMSG },
		{ HEAD "m=audio 4000 RTP/AVP 128\r\n", -EBADMSG },
		{ HEAD "m=audio 4000 RTP/AVP PCMU\r\n", -EBADMSG },
		{ HEAD "m=audio 4000\r\n", -EBADMSG },
		{ HEAD "c=IN IP4 300.1.1.1\r\n", -EBADMSG },
		{ HEAD "c=IN IP4 1.2.3\r\n", -EBADMSG },
		{ HEAD "c=IN IP4 1.2.3.4.5\r\n", -EBADMSG },
		{ HEAD "c=IN IP4 2001:db8::1\r\n", -EBADMSG },
		{ HEAD "c=IN IP6 2001:db8:::1\r\n", -EBADMSG },
		{ HEAD "c=IN IP6 1.2.3.4\r\n", -EBADMSG },
		{ HEAD "c=IN IP4\r\n", -EBADMSG },
		{ HEAD "c=IN IP4 1.2.3.4 extra\r\n", -EBADMSG },
		{ HEAD "c=IN IP4 bad!host\r\n", -EBADMSG },
		{ HEAD "c=IN IP4 224.2.1.1/ttl\r\n", -EBADMSG },
		{ HEAD "c=IN IP4 224.2.1.1/1/2/3\r\n", -EBADMSG },
		{ HEAD "c=IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4\r\n", -EBADMSG },
		{ HEAD "x=unknown\r\n", -EBADMSG },
		{ HEAD "m=audio 4000 RTP/AVP 0\r\nt=0 0\r\n", -EBADMSG },
		{ HEAD "m=audio 4000 RTP/AVP 0\r\ns=late\r\n", -EBADMSG },
		{ HEAD "m=audio 4000 RTP/AVP 0\r\ni=a\r\ni=b\r\n", -EBADMSG },
		{ HEAD "not a line\r\n", -EBADMSG },
		{ HEAD "a\r\n", -EBADMSG },
		{ HEAD "a =x\r\n", -EBADMSG },
		{ HEAD "a=\r\n", -EBADMSG },
		{ HEAD "a=:value\r\n", -EBADMSG },
		{ HEAD "a=bad name\r\n", -EBADMSG },
		{ HEAD "r=7d 1h 0 25h\r\n", -EBADMSG },
		{ HEAD "t=now 0\r\n", -EBADMSG },
		{ HEAD "t=0\r\n", -EBADMSG },
		{ HEAD "b=AS64\r\n", -EBADMSG },
		{ HEAD "u=a\r\nu=b\r\n", -EBADMSG },
		{ HEAD "a=x\ry\r\n", -EBADMSG },
		{ "v=0\r\nm=audio 4000 RTP/AVP 0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n",
		  -EBADMSG },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vec v = vec_str(cases[i].text);
		if (v.rc != cases[i].err)
			fail_msg("case %zu \"%s\": got %d, want %d", i, cases[i].text, v.rc,
			         cases[i].err);
		vec_free(&v);
	}

	/* A NUL inside a line. */
	static const char nul[] = HEAD "i=a\0b\r\n";
	struct vec v = vec_mem(nul, sizeof(nul) - 1);
	assert_int_equal(v.rc, -EBADMSG);
	vec_free(&v);

	struct sipcx_sdp *s = malloc(sizeof(*s));
	assert_non_null(s);
	assert_int_equal(sipcx_sdp_parse(NULL, SIPCX_STR("v=0")), -EINVAL);
	assert_int_equal(sipcx_sdp_parse(s, (struct sipcx_str){ NULL, 3 }), -EINVAL);
	assert_int_equal(sipcx_sdp_parse(s, SIPCX_STR_NULL), -EBADMSG);
	free(s);
}

/* Past a bound: SIPCX_ELIMIT, never a write past an array. */
static void test_parse_limits(void **state)
{
	(void)state;
	struct sipcx_buf b;
	struct vec v;

	sipcx_buf_init(&b);
	sipcx_buf_puts(&b, HEAD "c=IN IP4 192.0.2.1\r\n");
	for (int i = 0; i < SIPCX_SDP_MAX_MEDIA; i++)
		sipcx_buf_printf(&b, "m=audio %d RTP/AVP 0\r\n", 4000 + 2 * i);
	v = vec_mem(b.p, b.len);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.sdp->nmedia, SIPCX_SDP_MAX_MEDIA);
	vec_free(&v);
	sipcx_buf_puts(&b, "m=audio 5000 RTP/AVP 0\r\n");
	v = vec_mem(b.p, b.len);
	assert_int_equal(v.rc, SIPCX_ELIMIT);
	vec_free(&v);
	sipcx_buf_free(&b);

	sipcx_buf_puts(&b, HEAD "m=audio 4000 RTP/AVP");
	for (int i = 0; i < SIPCX_SDP_MAX_FMTS; i++)
		sipcx_buf_printf(&b, " %d", 96 + i);
	v = vec_mem(b.p, b.len);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.sdp->media[0].nfmt, SIPCX_SDP_MAX_FMTS);
	vec_free(&v);
	sipcx_buf_puts(&b, " 0");
	v = vec_mem(b.p, b.len);
	assert_int_equal(v.rc, SIPCX_ELIMIT);
	vec_free(&v);
	sipcx_buf_free(&b);

	for (int level = 0; level < 2; level++) {
		sipcx_buf_puts(&b, HEAD);
		if (level)
			sipcx_buf_puts(&b, "m=audio 4000 RTP/AVP 0\r\n");
		for (int i = 0; i < SIPCX_SDP_MAX_ATTRS; i++)
			sipcx_buf_printf(&b, "a=x%d\r\n", i);
		v = vec_mem(b.p, b.len);
		assert_int_equal(v.rc, 0);
		vec_free(&v);
		sipcx_buf_puts(&b, "a=one-more\r\n");
		v = vec_mem(b.p, b.len);
		assert_int_equal(v.rc, SIPCX_ELIMIT);
		vec_free(&v);
		sipcx_buf_free(&b);
	}

	sipcx_buf_puts(&b, HEAD);
	for (int i = 0; i <= SIPCX_SDP_MAX_LINES; i++)
		sipcx_buf_puts(&b, "b=AS:64\r\n");
	v = vec_mem(b.p, b.len);
	assert_int_equal(v.rc, SIPCX_ELIMIT);
	vec_free(&v);
	sipcx_buf_free(&b);
}

/* Every prefix of every vector, in an exact-size buffer: an answer, never a crash. */
static void test_truncations(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		size_t len = 0;
		char *data = tu_read_file(data_path(vectors[i]), &len);
		assert_non_null(data);
		for (size_t n = 0; n <= len; n++) {
			struct vec v = vec_mem(data, n);
			assert_true(v.rc == 0 || v.rc == -EBADMSG);
			if (n == len)
				assert_int_equal(v.rc, 0);
			vec_free(&v);
		}
		free(data);
	}
}

static void test_parse_no_alloc(void **state)
{
	(void)state;
	tu_alloc_install();
	struct vec v = vec_file("multi_media.sdp");
	assert_int_equal(v.rc, 0);
	assert_int_equal(tu_alloc_count(), 0);
	vec_free(&v);
	tu_alloc_uninstall();
}

/* ---- printing ------------------------------------------------------------------------- */

static void assert_same_slice(struct sipcx_str a, struct sipcx_str b)
{
	assert_int_equal(a.p == NULL, b.p == NULL);
	assert_int_equal(a.len, b.len);
	if (a.len)
		assert_memory_equal(a.p, b.p, a.len);
}

static void assert_same_conn(const struct sipcx_sdp_conn *a, const struct sipcx_sdp_conn *b)
{
	assert_int_equal(a->present, b->present);
	if (!a->present)
		return;
	assert_same_slice(a->nettype, b->nettype);
	assert_same_slice(a->addrtype, b->addrtype);
	assert_same_slice(a->addr, b->addr);
	assert_int_equal(a->suffix.len, b->suffix.len);
	assert_int_equal(a->family, b->family);
	assert_int_equal(a->is_ip, b->is_ip);
	assert_int_equal(a->is_null, b->is_null);
}

static void assert_same_sdp(const struct sipcx_sdp *a, const struct sipcx_sdp *b)
{
	assert_same_slice(a->origin.username, b->origin.username);
	assert_true(a->origin.id == b->origin.id);
	assert_true(a->origin.version == b->origin.version);
	assert_same_slice(a->origin.addr.addr, b->origin.addr.addr);
	assert_same_slice(a->name, b->name);
	assert_same_slice(a->info, b->info);
	assert_same_slice(a->uri, b->uri);
	assert_int_equal(a->nemail, b->nemail);
	assert_int_equal(a->nphone, b->nphone);
	assert_same_conn(&a->conn, &b->conn);
	assert_int_equal(a->nbw, b->nbw);
	assert_int_equal(a->ntime, b->ntime);
	for (unsigned i = 0; i < a->ntime; i++) {
		assert_true(a->time[i].start == b->time[i].start);
		assert_int_equal(a->time[i].nrepeat, b->time[i].nrepeat);
	}
	assert_same_slice(a->zone, b->zone);
	assert_same_slice(a->key, b->key);
	assert_int_equal(a->nattr, b->nattr);
	for (unsigned i = 0; i < a->nattr; i++) {
		assert_same_slice(a->attr[i].name, b->attr[i].name);
		assert_same_slice(a->attr[i].value, b->attr[i].value);
	}
	assert_int_equal(a->nmedia, b->nmedia);
	for (unsigned i = 0; i < a->nmedia; i++) {
		const struct sipcx_sdp_media *x = &a->media[i], *y = &b->media[i];
		assert_same_slice(x->type, y->type);
		assert_int_equal(x->port, y->port);
		assert_int_equal(x->nports, y->nports);
		assert_same_slice(x->proto, y->proto);
		assert_int_equal(x->nfmt, y->nfmt);
		for (unsigned k = 0; k < x->nfmt; k++)
			assert_same_slice(x->fmt[k], y->fmt[k]);
		assert_same_slice(x->info, y->info);
		assert_same_conn(&x->conn, &y->conn);
		assert_int_equal(x->nbw, y->nbw);
		assert_same_slice(x->key, y->key);
		assert_int_equal(x->nattr, y->nattr);
		for (unsigned k = 0; k < x->nattr; k++) {
			assert_same_slice(x->attr[k].name, y->attr[k].name);
			assert_same_slice(x->attr[k].value, y->attr[k].value);
		}
		assert_int_equal(x->dir, y->dir);
		assert_int_equal(x->ptime, y->ptime);
		assert_int_equal(x->rtcp_port, y->rtcp_port);
		assert_int_equal(x->rtcp_mux, y->rtcp_mux);
	}
}

static bool ends_crlf(const char *p, size_t len)
{
	return len >= 2 && p[len - 2] == '\r' && p[len - 1] == '\n';
}

static void test_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		struct vec v1 = vec_file(vectors[i]);
		assert_int_equal(v1.rc, 0);
		struct sipcx_buf p1, p2;
		sipcx_buf_init(&p1);
		sipcx_buf_init(&p2);
		assert_int_equal(sipcx_sdp_print(v1.sdp, &p1), 0);
		struct vec v2 = vec_mem(p1.p, p1.len);
		assert_int_equal(v2.rc, 0);
		assert_same_sdp(v1.sdp, v2.sdp);
		assert_int_equal(sipcx_sdp_print(v2.sdp, &p2), 0);
		assert_int_equal(p1.len, p2.len);
		assert_memory_equal(p1.p, p2.p, p1.len);
		/* Vectors already in canonical form with CRLF come back byte for byte. */
		if (ends_crlf(v1.buf, v1.len) && !memmem(v1.buf, v1.len, "\n\n", 2) &&
		    memmem(v1.buf, v1.len, "\r\n", 2)) {
			if (p1.len != v1.len || memcmp(p1.p, v1.buf, p1.len) != 0)
				fail_msg("%s printed differently:\n%.*s", vectors[i], (int)p1.len,
				         p1.p);
		}
		sipcx_buf_free(&p1);
		sipcx_buf_free(&p2);
		vec_free(&v1);
		vec_free(&v2);
	}

	/* Fields out of order, runs of spaces: printed in RFC 4566 order with single spaces. */
	struct vec v = vec_str("v=0\no=jdoe  1 2 IN IP4 10.0.0.1\ns=x\nt=0 0\nc=IN IP4 10.0.0.1\n"
	                       "a=tool:t\nk=clear:k\nz=1 -1h\nr=7d 1h 0 25h\np=+1 555\ne=a@b\n"
	                       "b=CT:100\nu=http://x\ni=info\n"
	                       "m=audio  4000  RTP/AVP  0 8\na=ptime:20\nk=prompt\nb=AS:64\n"
	                       "c=IN IP4 10.0.0.2\ni=m-info\n");
	assert_int_equal(v.rc, 0);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_sdp_print(v.sdp, &b), 0);
	static const char want[] = "v=0\r\no=jdoe 1 2 IN IP4 10.0.0.1\r\ns=x\r\ni=info\r\n"
	                           "u=http://x\r\ne=a@b\r\np=+1 555\r\nc=IN IP4 10.0.0.1\r\n"
	                           "b=CT:100\r\nt=0 0\r\nr=7d 1h 0 25h\r\nz=1 -1h\r\nk=clear:k\r\n"
	                           "a=tool:t\r\nm=audio 4000 RTP/AVP 0 8\r\ni=m-info\r\n"
	                           "c=IN IP4 10.0.0.2\r\nb=AS:64\r\nk=prompt\r\na=ptime:20\r\n";
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_memory_equal(b.p, want, b.len);
	sipcx_buf_free(&b);
	vec_free(&v);
}

/* ---- offer/answer --------------------------------------------------------------------- */

static const struct sipcx_sdp_local local_default = { .addr = "192.0.2.1", .port = 4000 };

/* Build our offer, check it parses, return it parsed. */
static struct vec make_offer(struct sipcx_sdp_session *sess, const struct sipcx_sdp_local *l)
{
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_sdp_offer(sess, l, &b), 0);
	struct vec v = vec_mem(b.p, b.len);
	assert_int_equal(v.rc, 0);
	sipcx_buf_free(&b);
	return v;
}

static void test_offer_default(void **state)
{
	(void)state;
	struct sipcx_sdp_session sess;
	sipcx_sdp_session_init(&sess);
	assert_true(sess.id < (1ULL << 62));
	assert_true(sess.version == sess.id);

	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_sdp_offer(&sess, &local_default, &b), 0);
	char want[1024];
	snprintf(want, sizeof(want),
	         "v=0\r\no=- %llu %llu IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	         "t=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
	         "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
	         "a=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
	         (unsigned long long)sess.id, (unsigned long long)sess.id);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.p, want, b.len);
	sipcx_buf_free(&b);

	/* IPv6, our own codec list, ptime, RFC 3605 rtcp, username, direction. */
	static const struct sipcx_sdp_codec codecs[] = {
		{ 8, "PCMA", 8000, 0, NULL },
		{ 96, "telephone-event", 8000, 1, "0-15" },
		{ 97, "L16", 8000, 2, NULL },
	};
	struct sipcx_sdp_local l = { .addr = "2001:db8::1",
		                     .port = 5006,
		                     .rtcp_port = 5009,
		                     .dir = SIPCX_SDP_RECVONLY,
		                     .ptime = 30,
		                     .codecs = codecs,
		                     .ncodecs = 3,
		                     .username = "alice" };
	struct vec v = make_offer(&sess, &l);
	const struct sipcx_sdp *s = v.sdp;
	assert_str(s->origin.username, "alice");
	assert_int_equal(s->origin.addr.family, 4); /* o= keeps the first address (RFC 3264 8) */
	assert_str(s->origin.addr.addr, "192.0.2.1");
	assert_str(s->conn.addrtype, "IP6");
	assert_str(s->conn.addr, "2001:db8::1");
	assert_int_equal(s->nmedia, 1);
	const struct sipcx_sdp_media *m = &s->media[0];
	assert_int_equal(m->port, 5006);
	assert_int_equal(m->nfmt, 3);
	assert_str(m->fmt[0], "8");
	assert_str(m->fmt[1], "96");
	assert_str(m->fmt[2], "97");
	assert_int_equal(m->ptime, 30);
	assert_int_equal(m->rtcp_port, 5009);
	assert_int_equal(m->dir, SIPCX_SDP_RECVONLY);
	struct sipcx_sdp_format f;
	assert_int_equal(sipcx_sdp_media_format(m, 1, &f), 0);
	assert_str(f.name, "telephone-event");
	assert_str(f.fmtp, "0-15");
	assert_int_equal(sipcx_sdp_media_format(m, 2, &f), 0);
	assert_int_equal(f.channels, 2);
	vec_free(&v);
}

/* RFC 3264 8: same o= line, version + 1 when the SDP changed, same version when not. */
static void test_offer_version(void **state)
{
	(void)state;
	struct sipcx_sdp_session sess;
	sipcx_sdp_session_init(&sess);
	uint64_t id = sess.id, v0 = sess.version;
	struct sipcx_sdp_local l = local_default;

	struct vec a = make_offer(&sess, &l);
	assert_true(a.sdp->origin.id == id);
	assert_true(a.sdp->origin.version == v0);
	struct vec b = make_offer(&sess, &l); /* refresh: unchanged */
	assert_true(b.sdp->origin.version == v0);
	l.dir = SIPCX_SDP_SENDONLY; /* hold */
	struct vec c = make_offer(&sess, &l);
	assert_true(c.sdp->origin.id == id);
	assert_true(c.sdp->origin.version == v0 + 1);
	assert_int_equal(c.sdp->media[0].dir, SIPCX_SDP_SENDONLY);
	/* No 0.0.0.0 unless asked: a=sendonly is the RFC 3264 hold. */
	assert_false(c.sdp->conn.is_null);
	l.dir = SIPCX_SDP_SENDRECV; /* resume */
	struct vec d = make_offer(&sess, &l);
	assert_true(d.sdp->origin.version == v0 + 2);
	assert_true(sess.version == v0 + 2);
	/* Hold the RFC 2543 way, for old peers. */
	l.dir = SIPCX_SDP_INACTIVE;
	l.hold_null_addr = true;
	struct vec e = make_offer(&sess, &l);
	assert_true(e.sdp->origin.version == v0 + 3);
	assert_true(e.sdp->conn.is_null);
	assert_str(e.sdp->origin.addr.addr, "192.0.2.1");
	vec_free(&a);
	vec_free(&b);
	vec_free(&c);
	vec_free(&d);
	vec_free(&e);
}

static void test_offer_bad_local(void **state)
{
	(void)state;
	static const struct sipcx_sdp_codec only_te[] = { { 101, "telephone-event", 8000, 1,
		                                            NULL } };
	static const struct sipcx_sdp_codec bad_pt[] = { { 128, "PCMU", 8000, 1, NULL } };
	static const struct sipcx_sdp_codec dup_pt[] = { { 0, "PCMU", 8000, 1, NULL },
		                                         { 0, "PCMA", 8000, 1, NULL } };
	static const struct sipcx_sdp_codec bad_name[] = { { 0, "PC MU", 8000, 1, NULL } };
	static const struct sipcx_sdp_codec slash_name[] = { { 0, "PCMU/8000", 8000, 1, NULL } };
	static const struct sipcx_sdp_codec no_clock[] = { { 0, "PCMU", 0, 1, NULL } };
	static const struct sipcx_sdp_codec bad_fmtp[] = { { 0, "PCMU", 8000, 1, "a\r\nb" } };
	const struct {
		struct sipcx_sdp_local l;
	} cases[] = {
		{ { .addr = NULL, .port = 4000 } },
		{ { .addr = "0.0.0.0", .port = 4000 } },
		{ { .addr = "::", .port = 4000 } },
		{ { .addr = "host.example.com", .port = 4000 } },
		{ { .addr = "192.0.2.1", .port = 0 } },
		{ { .addr = "192.0.2.1", .port = 4000, .dir = (enum sipcx_sdp_dir)7 } },
		{ { .addr = "192.0.2.1", .port = 4000, .codecs = only_te, .ncodecs = 1 } },
		{ { .addr = "192.0.2.1", .port = 4000, .codecs = bad_pt, .ncodecs = 1 } },
		{ { .addr = "192.0.2.1", .port = 4000, .codecs = dup_pt, .ncodecs = 2 } },
		{ { .addr = "192.0.2.1", .port = 4000, .codecs = bad_name, .ncodecs = 1 } },
		{ { .addr = "192.0.2.1", .port = 4000, .codecs = slash_name, .ncodecs = 1 } },
		{ { .addr = "192.0.2.1", .port = 4000, .codecs = no_clock, .ncodecs = 1 } },
		{ { .addr = "192.0.2.1", .port = 4000, .codecs = bad_fmtp, .ncodecs = 1 } },
		{ { .addr = "192.0.2.1", .port = 4000, .codecs = dup_pt, .ncodecs = 0 } },
		{ { .addr = "192.0.2.1", .port = 4000, .username = "a b" } },
		{ { .addr = "192.0.2.1", .port = 4000, .username = "" } },
	};
	struct sipcx_sdp_session sess;
	sipcx_sdp_session_init(&sess);
	uint64_t v0 = sess.version;
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int rc = sipcx_sdp_offer(&sess, &cases[i].l, &b);
		if (rc != -EINVAL)
			fail_msg("case %zu: got %d", i, rc);
		assert_int_equal(b.len, 0);
	}
	assert_int_equal(sipcx_sdp_offer(&sess, NULL, &b), -EINVAL);
	assert_int_equal(sipcx_sdp_offer(NULL, &local_default, &b), -EINVAL);
	assert_int_equal(sipcx_sdp_offer(&sess, &local_default, NULL), -EINVAL);
	assert_true(sess.version == v0);
	assert_false(sess.built);
	sipcx_buf_free(&b);
}

/* Answer offer_text with l; the answer is parsed back into *ans. Returns the error. */
static int answer(const char *offer_text, const struct sipcx_sdp_local *l, struct vec *ans,
                  struct sipcx_sdp_result *res)
{
	struct sipcx_sdp_session sess;
	sipcx_sdp_session_init(&sess);
	struct vec off = vec_str(offer_text);
	assert_int_equal(off.rc, 0);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	memset(res, 0x5a, sizeof(*res));
	int rc = sipcx_sdp_answer(&sess, l, off.sdp, &b, res);
	if (rc == 0) {
		*ans = vec_mem(b.p, b.len);
		assert_int_equal(ans->rc, 0);
		/* RFC 3264 6: one m= line per offered one, same order and media. */
		assert_int_equal(ans->sdp->nmedia, off.sdp->nmedia);
		for (unsigned i = 0; i < off.sdp->nmedia; i++) {
			assert_same_slice(ans->sdp->media[i].type, off.sdp->media[i].type);
			assert_same_slice(ans->sdp->media[i].proto, off.sdp->media[i].proto);
		}
		/* Never 0.0.0.0 in an answer unless we hold the RFC 2543 way. */
		if (!l->hold_null_addr)
			assert_null(memmem(b.p, b.len, "0.0.0.0", 7));
	} else {
		assert_int_equal(b.len, 0);
		ans->buf = NULL;
		ans->sdp = NULL;
	}
	sipcx_buf_free(&b);
	vec_free(&off);
	return rc;
}

#define OFFER_HEAD "v=0\r\no=- 5 5 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"

static void test_answer_codecs(void **state)
{
	(void)state;
	static const struct sipcx_sdp_codec pcma_only[] = { { 8, "PCMA", 8000, 1, NULL } };
	static const struct {
		const char *media; /* m= and a= lines of the offer */
		bool local_order;
		const struct sipcx_sdp_codec *codecs;
		size_t ncodecs;
		int err;
		const char *fmts; /* expected answer formats */
		int pt;
		const char *codec;
		int dtmf;
	} cases[] = {
		{ "m=audio 7000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n", false,
		  NULL, 0, 0, "0 8 101", 0, "PCMU", 101 },
		{ "m=audio 7000 RTP/AVP 8 0\r\n", false, NULL, 0, 0, "8 0", 8, "PCMA", -1 },
		{ "m=audio 7000 RTP/AVP 8 0\r\n", true, NULL, 0, 0, "0 8", 0, "PCMU", -1 },
		{ "m=audio 7000 RTP/AVP 18 0\r\n", false, NULL, 0, 0, "0", 0, "PCMU", -1 },
		{ "m=audio 7000 RTP/AVP 18 4 3\r\n", false, NULL, 0, SIPCX_ENOCODEC, NULL, 0, NULL,
		  0 },
		/* telephone-event alone is no audio codec */
		{ "m=audio 7000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n", false, NULL,
		  0, SIPCX_ENOCODEC, NULL, 0, NULL, 0 },
		/* dynamic numbers are the offerer's */
		{ "m=audio 7000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n"
		  "a=fmtp:96 0-15\r\n",
		  false, NULL, 0, 0, "0 96", 0, "PCMU", 96 },
		{ "m=audio 7000 RTP/AVP 97 0\r\na=rtpmap:97 PCMA/8000\r\n", false, NULL, 0, 0,
		  "97 0", 97, "PCMA", -1 },
		{ "m=audio 7000 RTP/AVP 100\r\na=rtpmap:100 pcmu/8000\r\n", false, NULL, 0, 0,
		  "100", 100, "PCMU", -1 },
		/* the rtpmap wins over the static table */
		{ "m=audio 7000 RTP/AVP 0\r\na=rtpmap:0 PCMU/16000\r\n", false, NULL, 0,
		  SIPCX_ENOCODEC, NULL, 0, NULL, 0 },
		/* a dynamic type without rtpmap means nothing */
		{ "m=audio 7000 RTP/AVP 96\r\n", false, NULL, 0, SIPCX_ENOCODEC, NULL, 0, NULL, 0 },
		/* telephone-event at another clock than the codec is left out */
		{ "m=audio 7000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/48000\r\n", false,
		  NULL, 0, 0, "0", 0, "PCMU", -1 },
		/* the same codec twice: once */
		{ "m=audio 7000 RTP/AVP 0 98\r\na=rtpmap:98 PCMU/8000\r\n", false, NULL, 0, 0, "0",
		  0, "PCMU", -1 },
		{ "m=audio 7000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n", false,
		  pcma_only, 1, 0, "8", 8, "PCMA", -1 },
		{ "m=audio 7000 RTP/AVP 0\r\n", false, pcma_only, 1, SIPCX_ENOCODEC, NULL, 0, NULL,
		  0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char text[1024];
		snprintf(text, sizeof(text), OFFER_HEAD "%s", cases[i].media);
		struct sipcx_sdp_local l = local_default;
		l.answer_local_order = cases[i].local_order;
		l.codecs = cases[i].codecs;
		l.ncodecs = cases[i].ncodecs;
		struct vec ans;
		struct sipcx_sdp_result res;
		int rc = answer(text, &l, &ans, &res);
		if (rc != cases[i].err)
			fail_msg("case %zu: got %d, want %d", i, rc, cases[i].err);
		if (rc)
			continue;
		const struct sipcx_sdp_media *m = &ans.sdp->media[0];
		char got[256] = "";
		for (unsigned k = 0; k < m->nfmt; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%.*s",
			         k ? " " : "", SIPCX_STR_FMT(m->fmt[k]));
		if (strcmp(got, cases[i].fmts) != 0)
			fail_msg("case %zu: answer formats \"%s\", want \"%s\"", i, got,
			         cases[i].fmts);
		assert_int_equal(m->port, 4000);
		assert_int_equal(res.pt, cases[i].pt);
		assert_string_equal(res.codec, cases[i].codec);
		assert_int_equal(res.clock, 8000);
		assert_int_equal(res.channels, 1);
		assert_int_equal(res.dtmf_pt, cases[i].dtmf);
		/* Every answered format carries an rtpmap naming our codec. */
		for (unsigned k = 0; k < m->nfmt; k++) {
			struct sipcx_sdp_format f;
			assert_int_equal(sipcx_sdp_media_format(m, k, &f), 0);
			assert_true(f.known);
			assert_int_equal(f.clock, 8000);
			if (f.pt == cases[i].dtmf) {
				assert_str(f.name, "telephone-event");
				assert_str(f.fmtp, "0-16");
			}
		}
		assert_int_equal(res.media_index, 0);
		assert_string_equal(res.addr, "198.51.100.7");
		assert_int_equal(res.family, 4);
		assert_true(res.addr_is_ip);
		assert_int_equal(res.rtp_port, 7000);
		assert_int_equal(res.rtcp_port, 7001);
		assert_string_equal(res.rtcp_addr, "198.51.100.7");
		assert_int_equal(res.ptime, 20);
		vec_free(&ans);
	}
}

/* The answer's a=ptime: ours when set, else the offer's (up to 200 ms), else 20. */
static void test_answer_ptime(void **state)
{
	(void)state;
	static const struct {
		const char *attr; /* the offer's ptime line, or "" */
		unsigned ours;
		unsigned answered; /* our answer's a=ptime */
		unsigned sent;     /* res.ptime: what we send */
	} cases[] = {
		{ "", 0, 20, 20 },
		{ "a=ptime:100\r\n", 0, 100, 100 },
		{ "a=ptime:200\r\n", 0, 200, 200 },
		{ "a=ptime:240\r\n", 0, 20, 240 }, /* beyond a session's packet: ours is 20 */
		{ "a=ptime:100\r\n", 30, 30, 100 },
		{ "", 40, 40, 40 },
		{ "a=maxptime:10\r\n", 0, 20, 10 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char text[512];
		snprintf(text, sizeof(text), OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\n%s",
		         cases[i].attr);
		struct sipcx_sdp_local l = local_default;
		l.ptime = cases[i].ours;
		struct vec ans;
		struct sipcx_sdp_result res;
		assert_int_equal(answer(text, &l, &ans, &res), 0);
		if (ans.sdp->media[0].ptime != cases[i].answered || res.ptime != cases[i].sent)
			fail_msg("case %zu: answered a=ptime:%u sending %u, want %u and %u", i,
			         ans.sdp->media[0].ptime, res.ptime, cases[i].answered,
			         cases[i].sent);
		vec_free(&ans);
	}
}

/* RFC 3264 6.1 direction table, offer x our wish, derived by hand. */
static void test_answer_directions(void **state)
{
	(void)state;
	static const char *const offer_attr[] = { "a=sendrecv\r\n", "a=sendonly\r\n",
		                                  "a=recvonly\r\n", "a=inactive\r\n", "" };
	static const enum sipcx_sdp_dir offer_dir[] = { SIPCX_SDP_SENDRECV, SIPCX_SDP_SENDONLY,
		                                        SIPCX_SDP_RECVONLY, SIPCX_SDP_INACTIVE,
		                                        SIPCX_SDP_SENDRECV };
#define SR SIPCX_SDP_SENDRECV
#define SO SIPCX_SDP_SENDONLY
#define RO SIPCX_SDP_RECVONLY
#define IN SIPCX_SDP_INACTIVE
	/* rows: offer direction; columns: our configured direction */
	static const enum sipcx_sdp_dir want[5][4] = {
		{ SR, SO, RO, IN }, /* offer sendrecv: ours */
		{ RO, IN, RO, IN }, /* offer sendonly: we may only receive */
		{ SO, SO, IN, IN }, /* offer recvonly: we may only send */
		{ IN, IN, IN, IN }, /* offer inactive */
		{ SR, SO, RO, IN }, /* no attribute = sendrecv */
	};
#undef SR
#undef SO
#undef RO
#undef IN
	for (int o = 0; o < 5; o++) {
		for (int d = 0; d < 4; d++) {
			char text[512];
			snprintf(text, sizeof(text), OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\n%s",
			         offer_attr[o]);
			struct sipcx_sdp_local l = local_default;
			l.dir = (enum sipcx_sdp_dir)d;
			struct vec ans;
			struct sipcx_sdp_result res;
			assert_int_equal(answer(text, &l, &ans, &res), 0);
			enum sipcx_sdp_dir w = want[o][d];
			if (ans.sdp->media[0].dir != w || res.dir != w)
				fail_msg("offer %s, ours %s: answer %s, want %s",
				         sipcx_sdp_dir_name(offer_dir[o]),
				         sipcx_sdp_dir_name((enum sipcx_sdp_dir)d),
				         sipcx_sdp_dir_name(ans.sdp->media[0].dir),
				         sipcx_sdp_dir_name(w));
			assert_true(ans.sdp->media[0].dir_explicit);
			assert_int_equal(res.local_send,
			                 w == SIPCX_SDP_SENDRECV || w == SIPCX_SDP_SENDONLY);
			assert_int_equal(res.local_recv,
			                 w == SIPCX_SDP_SENDRECV || w == SIPCX_SDP_RECVONLY);
			assert_int_equal(res.on_hold, offer_dir[o] == SIPCX_SDP_SENDONLY ||
			                                  offer_dir[o] == SIPCX_SDP_INACTIVE);
			assert_false(ans.sdp->conn.is_null);
			vec_free(&ans);
		}
	}

	/* A session-level direction is the offer's direction too. */
	struct vec ans;
	struct sipcx_sdp_result res;
	assert_int_equal(answer(OFFER_HEAD "a=sendonly\r\nm=audio 7000 RTP/AVP 0\r\n",
	                        &local_default, &ans, &res),
	                 0);
	assert_int_equal(ans.sdp->media[0].dir, SIPCX_SDP_RECVONLY);
	assert_true(res.on_hold);
	vec_free(&ans);
}

static void test_answer_hold(void **state)
{
	(void)state;
	struct vec ans;
	struct sipcx_sdp_result res;

	/* RFC 2543 hold: c=0.0.0.0 and no direction. */
	size_t len = 0;
	char *text = tu_read_file(data_path("hold_rfc2543.sdp"), &len);
	assert_non_null(text);
	char *z = malloc(len + 1);
	assert_non_null(z);
	memcpy(z, text, len);
	z[len] = '\0';
	free(text);
	assert_int_equal(answer(z, &local_default, &ans, &res), 0);
	assert_true(res.on_hold);
	assert_false(res.local_send);
	assert_true(res.local_recv);
	assert_int_equal(res.dir, SIPCX_SDP_RECVONLY);
	assert_int_equal(ans.sdp->media[0].dir, SIPCX_SDP_RECVONLY);
	assert_str(ans.sdp->conn.addr, "192.0.2.1");
	assert_string_equal(res.addr, "0.0.0.0");
	vec_free(&ans);
	free(z);

	/* Media-level 0.0.0.0 under a real session address, and IPv6 "::". */
	assert_int_equal(answer(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n",
	                        &local_default, &ans, &res),
	                 0);
	assert_true(res.on_hold);
	assert_int_equal(res.dir, SIPCX_SDP_RECVONLY);
	vec_free(&ans);
	assert_int_equal(answer("v=0\r\no=- 1 1 IN IP6 2001:db8::7\r\ns=-\r\nc=IN IP6 ::\r\n"
	                        "m=audio 7000 RTP/AVP 0\r\na=sendrecv\r\n",
	                        &local_default, &ans, &res),
	                 0);
	assert_true(res.on_hold);
	assert_int_equal(res.family, 6);
	assert_false(res.local_send);
	vec_free(&ans);
	/* RFC 3264 hold with a=sendonly. */
	text = tu_read_file(data_path("hold_sendonly.sdp"), &len);
	assert_non_null(text);
	z = malloc(len + 1);
	assert_non_null(z);
	memcpy(z, text, len);
	z[len] = '\0';
	free(text);
	assert_int_equal(answer(z, &local_default, &ans, &res), 0);
	assert_true(res.on_hold);
	assert_int_equal(ans.sdp->media[0].dir, SIPCX_SDP_RECVONLY);
	assert_false(ans.sdp->conn.is_null);
	vec_free(&ans);
	free(z);

	/* We hold the old way: 0.0.0.0 only when we do not receive. */
	struct sipcx_sdp_local l = local_default;
	l.hold_null_addr = true;
	l.dir = SIPCX_SDP_INACTIVE;
	assert_int_equal(answer(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\n", &l, &ans, &res), 0);
	assert_true(ans.sdp->conn.is_null);
	assert_int_equal(ans.sdp->media[0].dir, SIPCX_SDP_INACTIVE);
	vec_free(&ans);
	l.dir = SIPCX_SDP_SENDRECV;
	assert_int_equal(answer(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\n", &l, &ans, &res), 0);
	assert_false(ans.sdp->conn.is_null);
	assert_str(ans.sdp->conn.addr, "192.0.2.1");
	vec_free(&ans);
}

static char *file_z(const char *name)
{
	size_t len = 0;
	char *text = tu_read_file(data_path(name), &len);
	assert_non_null(text);
	char *z = malloc(len + 1);
	assert_non_null(z);
	memcpy(z, text, len);
	z[len] = '\0';
	free(text);
	return z;
}

static void test_answer_media_lines(void **state)
{
	(void)state;
	struct vec ans;
	struct sipcx_sdp_result res;

	/* video, T.38, SRTP audio, RTP/AVP audio, a second RTP/AVP audio */
	char *z = file_z("multi_media.sdp");
	assert_int_equal(answer(z, &local_default, &ans, &res), 0);
	const struct sipcx_sdp *s = ans.sdp;
	assert_int_equal(s->media[0].port, 0);
	assert_str(s->media[0].fmt[0], "96");
	assert_int_equal(s->media[1].port, 0);
	assert_str(s->media[1].fmt[0], "t38");
	assert_int_equal(s->media[2].port, 0);
	assert_int_equal(s->media[3].port, 4000);
	assert_int_equal(s->media[3].nfmt, 2);
	assert_int_equal(s->media[4].port, 0);
	for (unsigned i = 0; i < s->nmedia; i++)
		if (i != 3)
			assert_int_equal(s->media[i].nattr, 0);
	assert_int_equal(res.media_index, 3);
	assert_int_equal(res.rtp_port, 6006);
	vec_free(&ans);
	free(z);

	/* RFC 3264 10.1: audio accepted with PCMU, both video streams refused. */
	z = file_z("rfc3264_10_1_offer.sdp");
	assert_int_equal(answer(z, &local_default, &ans, &res), 0);
	s = ans.sdp;
	assert_int_equal(s->media[0].port, 4000);
	assert_int_equal(s->media[0].nfmt, 1);
	assert_str(s->media[0].fmt[0], "0");
	assert_int_equal(s->media[1].port, 0);
	assert_str(s->media[1].fmt[0], "31");
	assert_int_equal(s->media[2].port, 0);
	assert_str(s->media[2].fmt[0], "32");
	assert_string_equal(res.addr, "host.anywhere.com");
	assert_false(res.addr_is_ip);
	assert_int_equal(res.rtp_port, 49170);
	assert_int_equal(res.rtcp_port, 49171);
	assert_int_equal(res.pt, 0);
	assert_int_equal(res.dir, SIPCX_SDP_SENDRECV);
	vec_free(&ans);
	free(z);

	/* Bob's re-offer: first audio kept, the telephone-events-only audio refused. */
	z = file_z("rfc3264_10_1_reoffer.sdp");
	assert_int_equal(answer(z, &local_default, &ans, &res), 0);
	s = ans.sdp;
	assert_int_equal(s->nmedia, 4);
	assert_int_equal(s->media[0].port, 4000);
	assert_int_equal(s->media[1].port, 0);
	assert_int_equal(s->media[2].port, 0);
	assert_int_equal(s->media[3].port, 0);
	assert_str(s->media[3].fmt[0], "110");
	assert_int_equal(res.rtp_port, 65422);
	vec_free(&ans);
	free(z);

	/* RFC 3264 10.2: inactive offer of 0 4 18. */
	z = file_z("rfc3264_10_2_offer.sdp");
	assert_int_equal(answer(z, &local_default, &ans, &res), 0);
	assert_int_equal(ans.sdp->media[0].nfmt, 1);
	assert_int_equal(ans.sdp->media[0].dir, SIPCX_SDP_INACTIVE);
	assert_false(res.local_send);
	assert_false(res.local_recv);
	vec_free(&ans);
	/* Bob's codecs: PCMU and G.723 -> the answer of the RFC, "0 4" inactive. */
	static const struct sipcx_sdp_codec bob[] = { { 0, "PCMU", 8000, 1, NULL },
		                                      { 4, "G723", 8000, 1, NULL } };
	struct sipcx_sdp_local l = local_default;
	l.codecs = bob;
	l.ncodecs = 2;
	assert_int_equal(answer(z, &l, &ans, &res), 0);
	struct vec rfc = vec_file("rfc3264_10_2_answer.sdp");
	assert_int_equal(rfc.rc, 0);
	assert_int_equal(ans.sdp->media[0].nfmt, rfc.sdp->media[0].nfmt);
	for (unsigned k = 0; k < rfc.sdp->media[0].nfmt; k++)
		assert_same_slice(ans.sdp->media[0].fmt[k], rfc.sdp->media[0].fmt[k]);
	assert_int_equal(ans.sdp->media[0].dir, rfc.sdp->media[0].dir);
	vec_free(&rfc);
	vec_free(&ans);
	free(z);
	/* Alice's re-offer with G.723 only: refused by default, accepted by Bob's list. */
	z = file_z("rfc3264_10_2_reoffer.sdp");
	assert_int_equal(answer(z, &local_default, &ans, &res), SIPCX_ENOCODEC);
	assert_int_equal(answer(z, &l, &ans, &res), 0);
	assert_str(ans.sdp->media[0].fmt[0], "4");
	assert_int_equal(ans.sdp->media[0].dir, SIPCX_SDP_SENDRECV);
	assert_string_equal(res.codec, "G723");
	vec_free(&ans);
	free(z);
}

static void test_answer_refused(void **state)
{
	(void)state;
	static const char *const offers[] = {
		OFFER_HEAD "m=video 7000 RTP/AVP 31\r\n",
		OFFER_HEAD "m=audio 0 RTP/AVP 0\r\n",
		OFFER_HEAD "m=audio 7000 RTP/SAVP 0\r\n",
		OFFER_HEAD "m=audio 7000 RTP/AVPF 0\r\n",
		OFFER_HEAD "m=image 7000 udptl t38\r\n",
		"v=0\r\no=- 5 5 IN IP4 198.51.100.7\r\ns=-\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n",
		OFFER_HEAD,
		"v=0\r\no=- 5 5 IN IP4 198.51.100.7\r\ns=-\r\nc=ATM NSAP x\r\nm=audio 7000 RTP/AVP 0\r\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(offers); i++) {
		struct vec ans;
		struct sipcx_sdp_result res;
		int rc = answer(offers[i], &local_default, &ans, &res);
		if (rc != SIPCX_ENOCODEC)
			fail_msg("offer %zu: got %d", i, rc);
	}
	struct sipcx_sdp_session sess;
	sipcx_sdp_session_init(&sess);
	struct vec off = vec_str(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\n");
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_sdp_answer(&sess, &local_default, NULL, &b, NULL), -EINVAL);
	assert_int_equal(sipcx_sdp_answer(NULL, &local_default, off.sdp, &b, NULL), -EINVAL);
	assert_int_equal(sipcx_sdp_answer(&sess, NULL, off.sdp, &b, NULL), -EINVAL);
	/* res is optional */
	assert_int_equal(sipcx_sdp_answer(&sess, &local_default, off.sdp, &b, NULL), 0);
	assert_true(b.len > 0);
	sipcx_buf_free(&b);
	vec_free(&off);
}

/* Offer, answer, re-offer in one session: one o= line, versions in sequence. */
static void test_session_sequence(void **state)
{
	(void)state;
	struct sipcx_sdp_session sess;
	sipcx_sdp_session_init(&sess);
	uint64_t v0 = sess.version;
	struct vec off = vec_str(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\n");
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_sdp_answer(&sess, &local_default, off.sdp, &b, NULL), 0);
	struct vec a1 = vec_mem(b.p, b.len);
	sipcx_buf_free(&b);
	assert_true(a1.sdp->origin.version == v0);
	/* The same offer again (a session refresh): same answer, same version. */
	assert_int_equal(sipcx_sdp_answer(&sess, &local_default, off.sdp, &b, NULL), 0);
	struct vec a2 = vec_mem(b.p, b.len);
	sipcx_buf_free(&b);
	assert_true(a2.sdp->origin.version == v0);
	/* Our re-offer differs from the answer: version + 1. */
	struct vec o3 = make_offer(&sess, &local_default);
	assert_true(o3.sdp->origin.version == v0 + 1);
	assert_true(o3.sdp->origin.id == a1.sdp->origin.id);
	vec_free(&off);
	vec_free(&a1);
	vec_free(&a2);
	vec_free(&o3);
}

static int process(const char *text, const struct sipcx_sdp_local *l, struct sipcx_sdp_result *res)
{
	struct vec v = vec_str(text);
	assert_int_equal(v.rc, 0);
	memset(res, 0x5a, sizeof(*res));
	int rc = sipcx_sdp_process_answer(l, v.sdp, res);
	vec_free(&v);
	return rc;
}

static void test_process_answer(void **state)
{
	(void)state;
	struct sipcx_sdp_result res;

	char *z = file_z("rfc3264_10_1_answer.sdp");
	assert_int_equal(process(z, &local_default, &res), 0);
	assert_int_equal(res.media_index, 0);
	assert_int_equal(res.pt, 0);
	assert_string_equal(res.codec, "PCMU");
	assert_int_equal(res.clock, 8000);
	assert_string_equal(res.addr, "host.example.com");
	assert_false(res.addr_is_ip);
	assert_int_equal(res.family, 4);
	assert_int_equal(res.rtp_port, 49920);
	assert_int_equal(res.rtcp_port, 49921);
	assert_int_equal(res.dtmf_pt, -1);
	assert_int_equal(res.ptime, 20);
	assert_true(res.local_send);
	assert_true(res.local_recv);
	assert_false(res.on_hold);
	free(z);

	/* The answerer's order wins; its numbering for DTMF; its ptime; RFC 3605 RTCP. */
	z = file_z("phone_no_final_newline.sdp");
	assert_int_equal(process(z, &local_default, &res), 0);
	assert_int_equal(res.pt, 8);
	assert_string_equal(res.codec, "PCMA");
	assert_int_equal(res.dtmf_pt, 96);
	assert_int_equal(res.ptime, 30);
	assert_string_equal(res.addr, "192.0.2.10");
	assert_true(res.addr_is_ip);
	assert_int_equal(res.rtp_port, 40000);
	assert_int_equal(res.rtcp_port, 40005);
	assert_string_equal(res.rtcp_addr, "192.0.2.11");
	free(z);

	z = file_z("ipv6.sdp");
	assert_int_equal(process(z, &local_default, &res), 0);
	assert_int_equal(res.family, 6);
	assert_string_equal(res.addr, "2001:db8::20");
	assert_int_equal(res.dtmf_pt, 101);
	assert_int_equal(res.ptime, 20); /* a=maxptime:40 allows our 20 */
	free(z);
	/* No a=ptime and a=maxptime below ours: the limit. */
	assert_int_equal(
	    process(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\na=maxptime:10\r\n", &local_default, &res),
	    0);
	assert_int_equal(res.ptime, 10);

	static const struct {
		const char *media;
		int err;
		enum sipcx_sdp_dir dir;
		bool hold;
	} cases[] = {
		{ "m=audio 7000 RTP/AVP 0\r\na=recvonly\r\n", 0, SIPCX_SDP_SENDONLY, false },
		{ "m=audio 7000 RTP/AVP 0\r\na=sendonly\r\n", 0, SIPCX_SDP_RECVONLY, true },
		{ "m=audio 7000 RTP/AVP 0\r\na=inactive\r\n", 0, SIPCX_SDP_INACTIVE, true },
		{ "m=audio 7000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n", 0, SIPCX_SDP_RECVONLY, true },
		{ "m=audio 0 RTP/AVP 0\r\n", SIPCX_ENOCODEC, SIPCX_SDP_SENDRECV, false },
		{ "m=audio 7000 RTP/AVP 18\r\n", SIPCX_ENOCODEC, SIPCX_SDP_SENDRECV, false },
		{ "m=video 7000 RTP/AVP 31\r\nm=audio 7002 RTP/AVP 0\r\n", SIPCX_ENOCODEC,
		  SIPCX_SDP_SENDRECV, false },
		{ "", SIPCX_ENOCODEC, SIPCX_SDP_SENDRECV, false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char text[512];
		snprintf(text, sizeof(text), OFFER_HEAD "%s", cases[i].media);
		int rc = process(text, &local_default, &res);
		if (rc != cases[i].err)
			fail_msg("case %zu: got %d, want %d", i, rc, cases[i].err);
		if (rc)
			continue;
		assert_int_equal(res.dir, cases[i].dir);
		assert_int_equal(res.on_hold, cases[i].hold);
	}
	/* Our own hold: we offered sendonly, the peer answers recvonly. */
	struct sipcx_sdp_local l = local_default;
	l.dir = SIPCX_SDP_SENDONLY;
	assert_int_equal(process(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\na=recvonly\r\n", &l, &res),
	                 0);
	assert_true(res.local_send);
	assert_false(res.local_recv);
	assert_false(res.on_hold);
	assert_int_equal(process(OFFER_HEAD "m=audio 65535 RTP/AVP 0\r\n", &l, &res), 0);
	assert_int_equal(res.rtcp_port, 0);

	struct vec v = vec_str(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\n");
	assert_int_equal(sipcx_sdp_process_answer(NULL, v.sdp, &res), -EINVAL);
	assert_int_equal(sipcx_sdp_process_answer(&local_default, NULL, &res), -EINVAL);
	assert_int_equal(sipcx_sdp_process_answer(&local_default, v.sdp, NULL), -EINVAL);
	vec_free(&v);
}

/* Our offer answered by our answerer, and that answer read back: both ends agree. */
static void test_loopback(void **state)
{
	(void)state;
	struct sipcx_sdp_session alice, bob;
	sipcx_sdp_session_init(&alice);
	sipcx_sdp_session_init(&bob);
	static const struct sipcx_sdp_codec bob_codecs[] = {
		{ 8, "PCMA", 8000, 1, NULL },
		{ 96, "telephone-event", 8000, 1, "0-16" },
	};
	struct sipcx_sdp_local la = { .addr = "192.0.2.1", .port = 4000 };
	struct sipcx_sdp_local lb = {
		.addr = "2001:db8::2", .port = 5000, .ptime = 40, .codecs = bob_codecs, .ncodecs = 2
	};
	struct vec off = make_offer(&alice, &la);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	struct sipcx_sdp_result rb, ra;
	assert_int_equal(sipcx_sdp_answer(&bob, &lb, off.sdp, &b, &rb), 0);
	struct vec ans = vec_mem(b.p, b.len);
	assert_int_equal(ans.rc, 0);
	assert_int_equal(sipcx_sdp_process_answer(&la, ans.sdp, &ra), 0);
	/* Both send PCMA as 8 and DTMF as Alice's 101. */
	assert_int_equal(rb.pt, 8);
	assert_int_equal(ra.pt, 8);
	assert_int_equal(rb.dtmf_pt, 101);
	assert_int_equal(ra.dtmf_pt, 101);
	assert_string_equal(rb.addr, "192.0.2.1");
	assert_int_equal(rb.rtp_port, 4000);
	assert_string_equal(ra.addr, "2001:db8::2");
	assert_int_equal(ra.family, 6);
	assert_int_equal(ra.rtp_port, 5000);
	/* Each sends at the ptime the other asked for. */
	assert_int_equal(rb.ptime, 20);
	assert_int_equal(ra.ptime, 40);
	sipcx_buf_free(&b);
	vec_free(&off);
	vec_free(&ans);
}

/* RFC 5761 rtcp-mux and RFC 8858 rtcp-mux-only, offered and answered both ways. */
static void test_rtcp_mux(void **state)
{
	(void)state;
	struct sipcx_sdp_session alice, bob;
	sipcx_sdp_session_init(&alice);
	sipcx_sdp_session_init(&bob);
	struct sipcx_sdp_local la = { .addr = "192.0.2.1", .port = 4000, .rtcp_mux = true };
	struct sipcx_sdp_local lb = { .addr = "192.0.2.2", .port = 5000, .rtcp_mux = true };

	/* Offered and taken: both ends multiplex, RTCP goes to the RTP address and port. */
	struct vec off = make_offer(&alice, &la);
	assert_true(off.sdp->media[0].rtcp_mux);
	assert_false(off.sdp->media[0].rtcp_mux_only);
	assert_true(sipcx_sdp_wants_rtcp_mux(off.sdp));
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	struct sipcx_sdp_result rb, ra;
	assert_int_equal(sipcx_sdp_answer(&bob, &lb, off.sdp, &b, &rb), 0);
	struct vec ans = vec_mem(b.p, b.len);
	assert_int_equal(ans.rc, 0);
	assert_true(ans.sdp->media[0].rtcp_mux);
	assert_null(memmem(b.p, b.len, "a=rtcp:", 7));
	assert_null(memmem(b.p, b.len, "mux-only", 8)); /* RFC 8858: never in an answer */
	assert_true(rb.rtcp_mux);
	assert_int_equal(rb.rtcp_port, 4000);
	assert_string_equal(rb.rtcp_addr, "192.0.2.1");
	assert_int_equal(sipcx_sdp_process_answer(&la, ans.sdp, &ra), 0);
	assert_true(ra.rtcp_mux);
	assert_int_equal(ra.rtcp_port, 5000);
	sipcx_buf_free(&b);
	vec_free(&ans);

	/* The answerer does not multiplex: no a=rtcp-mux, RTCP on the next port. */
	lb.rtcp_mux = false;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_sdp_answer(&bob, &lb, off.sdp, &b, &rb), 0);
	ans = vec_mem(b.p, b.len);
	assert_false(ans.sdp->media[0].rtcp_mux);
	assert_false(rb.rtcp_mux);
	assert_int_equal(rb.rtcp_port, 4001);
	assert_int_equal(sipcx_sdp_process_answer(&la, ans.sdp, &ra), 0);
	assert_false(ra.rtcp_mux);
	assert_int_equal(ra.rtcp_port, 5001);
	sipcx_buf_free(&b);
	vec_free(&ans);
	vec_free(&off);

	/* RFC 8035: no a=rtcp-mux in the offer, none in the answer, whatever ours says. */
	lb.rtcp_mux = true;
	struct vec plain;
	assert_int_equal(answer(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\n", &lb, &plain, &rb), 0);
	assert_false(plain.sdp->media[0].rtcp_mux);
	assert_false(rb.rtcp_mux);
	assert_int_equal(rb.rtcp_port, 7001);
	vec_free(&plain);
	/* An answer with a=rtcp-mux to an offer without it is not taken as mux. */
	la.rtcp_mux = false;
	assert_int_equal(process(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\na=rtcp-mux\r\n", &la, &ra),
	                 0);
	assert_false(ra.rtcp_mux);
	assert_int_equal(ra.rtcp_port, 7001);

	/* RFC 8858: mux-only offered with our one port, a=rtcp:PORT left out (it is the RTP one). */
	struct sipcx_sdp_local lo = { .addr = "192.0.2.1",
		                      .port = 4000,
		                      .rtcp_port = 4000,
		                      .rtcp_mux = true,
		                      .rtcp_mux_only = true };
	off = make_offer(&alice, &lo);
	assert_true(off.sdp->media[0].rtcp_mux);
	assert_true(off.sdp->media[0].rtcp_mux_only);
	assert_int_equal(off.sdp->media[0].rtcp_port, 0);
	/* ... refused by an answerer that may not multiplex, taken by one that may */
	lb.rtcp_mux = false;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_sdp_answer(&bob, &lb, off.sdp, &b, &rb), SIPCX_ENOCODEC);
	assert_int_equal(b.len, 0);
	lb.rtcp_mux = true;
	assert_int_equal(sipcx_sdp_answer(&bob, &lb, off.sdp, &b, &rb), 0);
	assert_true(rb.rtcp_mux);
	sipcx_buf_free(&b);
	vec_free(&off);
	/* mux-only alone means mux too; without rtcp_mux it is a bad local config */
	assert_int_equal(
	    answer(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\na=rtcp-mux-only\r\n", &lb, &plain, &rb),
	    0);
	assert_true(rb.rtcp_mux);
	assert_int_equal(rb.rtcp_port, 7000);
	vec_free(&plain);
	lo.rtcp_mux = false;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_sdp_offer(&alice, &lo, &b), -EINVAL);
	/* One port and a peer that will not multiplex: a=rtcp names the RTP port (RFC 3605). */
	lo.rtcp_mux = true;
	struct vec nomux = vec_str(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\n");
	assert_int_equal(sipcx_sdp_answer(&bob, &lo, nomux.sdp, &b, &rb), 0);
	assert_non_null(memmem(b.p, b.len, "a=rtcp:4000\r\n", 13));
	assert_null(memmem(b.p, b.len, "a=rtcp-mux", 10));
	assert_false(rb.rtcp_mux);
	sipcx_buf_free(&b);
	vec_free(&nomux);

	/* Which stream an answerer binds for: the first audio RTP one with a port. */
	struct vec w = vec_str(OFFER_HEAD "m=audio 0 RTP/AVP 0\r\nm=audio 7000 RTP/AVP 0\r\n"
	                                  "a=rtcp-mux\r\n");
	assert_true(sipcx_sdp_wants_rtcp_mux(w.sdp));
	vec_free(&w);
	w = vec_str(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\nm=audio 7002 RTP/AVP 0\r\n"
	                       "a=rtcp-mux\r\n");
	assert_false(sipcx_sdp_wants_rtcp_mux(w.sdp));
	vec_free(&w);
	assert_false(sipcx_sdp_wants_rtcp_mux(NULL));
}

/* Fail each allocation in turn: -ENOMEM, nothing leaked, session untouched. */
static void test_oom(void **state)
{
	(void)state;
	struct vec off = vec_file("multi_media.sdp");
	assert_int_equal(off.rc, 0);
	tu_alloc_install();
	for (int op = 0; op < 3; op++) {
		int ok = 0;
		for (long n = 1; n < 100 && !ok; n++) {
			struct sipcx_sdp_session sess;
			sipcx_sdp_session_init(&sess);
			struct sipcx_sdp_session before = sess;
			struct sipcx_buf b;
			sipcx_buf_init(&b);
			tu_alloc_fail_at(n);
			int rc;
			if (op == 0)
				rc = sipcx_sdp_offer(&sess, &local_default, &b);
			else if (op == 1)
				rc = sipcx_sdp_answer(&sess, &local_default, off.sdp, &b, NULL);
			else
				rc = sipcx_sdp_print(off.sdp, &b);
			if (tu_alloc_failed()) {
				assert_int_equal(rc, -ENOMEM);
				assert_true(sess.version == before.version);
				assert_int_equal(sess.built, before.built);
			} else {
				assert_int_equal(rc, 0);
				assert_true(b.len > 0);
				ok = 1;
			}
			sipcx_buf_free(&b);
			tu_alloc_fail_at(0);
			assert_int_equal(tu_alloc_live(), 0);
		}
		assert_true(ok);
	}
	tu_alloc_uninstall();
	vec_free(&off);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_rfc4566),
		cmocka_unit_test(test_parse_rfc3264),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_parse_no_alloc),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_offer_default),
		cmocka_unit_test(test_offer_version),
		cmocka_unit_test(test_offer_bad_local),
		cmocka_unit_test(test_answer_codecs),
		cmocka_unit_test(test_answer_ptime),
		cmocka_unit_test(test_answer_directions),
		cmocka_unit_test(test_answer_hold),
		cmocka_unit_test(test_answer_media_lines),
		cmocka_unit_test(test_answer_refused),
		cmocka_unit_test(test_session_sequence),
		cmocka_unit_test(test_process_answer),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_rtcp_mux),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
