/* Fuzz target: SDP parse (RFC 4566), print round trip, answering the input as an RFC 3264 offer, a=crypto keys (RFC 4568). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/sdp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Static: the parsed struct is about 52 KB. */
static struct sipcx_sdp sdp, again;

static void check(int cond)
{
	if (!cond)
		abort();
}

static void answer_input(const struct sipcx_sdp *offer, const struct sipcx_sdp_local *l)
{
	struct sipcx_sdp_session sess;
	struct sipcx_sdp_result res;
	struct sipcx_buf b;

	sipcx_sdp_session_init(&sess);
	sipcx_buf_init(&b);
	int rc = sipcx_sdp_answer(&sess, l, offer, &b, &res);
	check(rc == 0 || rc == SIPCX_ENOCODEC || rc == -ENOMEM);
	if (rc == 0) {
		/* Our answer parses, keeps the m= count, and never says 0.0.0.0 unasked. */
		check(sipcx_sdp_parse(&again, (struct sipcx_str){ b.p, b.len }) == 0);
		check(again.nmedia == offer->nmedia);
		check(res.media_index < offer->nmedia);
		check(again.media[res.media_index].port == l->port);
		check(!again.conn.is_null);
		check(res.pt >= 0 && res.pt <= 127);
		check(strlen(res.addr) < sizeof(res.addr));
		/* SRTP only with our keys, and then with a key line in the answer. */
		check(res.srtp == SIPCX_SRTP_NONE || l->ncrypto);
		check(res.srtp == SIPCX_SRTP_NONE || memmem(b.p, b.len, "a=crypto:", 9));
		check(l->srtp != SIPCX_SRTP_MANDATORY || res.srtp != SIPCX_SRTP_NONE);
	} else {
		check(b.len == 0);
	}
	sipcx_buf_free(&b);
}

/* Every a=crypto value of m: what parses prints back to the same key. */
static void crypto_lines(const struct sipcx_sdp_media *m)
{
	for (unsigned i = 0; i < m->nattr; i++) {
		struct sipcx_sdp_crypto c, back;
		if (!sipcx_str_ieq_c(m->attr[i].name, "crypto"))
			continue;
		int rc = sipcx_sdp_crypto_parse(&c, m->attr[i].value);
		check(rc == 0 || rc == -EBADMSG || rc == -ENOTSUP ||
		      (rc == -EINVAL && !m->attr[i].value.p));
		if (rc)
			continue;
		struct sipcx_buf b;
		sipcx_buf_init(&b);
		check(sipcx_sdp_crypto_print(&c, &b) == 0);
		check(sipcx_sdp_crypto_parse(&back, (struct sipcx_str){ b.p, b.len }) == 0);
		check(back.tag == c.tag && back.suite == c.suite &&
		      memcmp(back.key, c.key, sipcx_srtp_key_len(c.suite)) == 0);
		sipcx_buf_free(&b);
	}
}

/* Keys for every suite, as a call has them. */
static const struct sipcx_sdp_crypto keys[SIPCX_SRTP_NSUITES] = {
	{ 1, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80, { 1 } },
	{ 2, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_32, { 2 } },
	{ 3, SIPCX_SRTP_AEAD_AES_128_GCM, { 3 } },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipcx_str in = { (const char *)data, size };
	if (sipcx_sdp_parse(&sdp, in) != 0)
		return 0;

	/* print(parse(x)) is a fixed point: printing what it parses gives the same text. */
	struct sipcx_buf p1, p2;
	sipcx_buf_init(&p1);
	sipcx_buf_init(&p2);
	check(sipcx_sdp_print(&sdp, &p1) == 0);
	check(sipcx_sdp_parse(&again, (struct sipcx_str){ p1.p, p1.len }) == 0);
	check(sipcx_sdp_print(&again, &p2) == 0);
	check(p1.len == p2.len && memcmp(p1.p, p2.p, p1.len) == 0);
	sipcx_buf_free(&p1);
	sipcx_buf_free(&p2);

	for (unsigned i = 0; i < sdp.nmedia; i++) {
		struct sipcx_sdp_format f;
		for (unsigned k = 0; k < sdp.media[i].nfmt; k++)
			if (sipcx_sdp_media_format(&sdp.media[i], k, &f) == 0)
				check(f.pt >= 0 && f.pt <= 127);
		(void)sipcx_sdp_media_conn(&sdp, i);
		crypto_lines(&sdp.media[i]);
	}

	struct sipcx_sdp_local l = { .addr = "192.0.2.1", .port = 4000 };
	answer_input(&sdp, &l);
	struct sipcx_sdp_local l6 = { .addr = "2001:db8::1",
		                      .port = 5000,
		                      .dir = SIPCX_SDP_SENDONLY,
		                      .answer_local_order = true };
	answer_input(&sdp, &l6);

	struct sipcx_sdp_local ls = {
		.addr = "192.0.2.1", .port = 4000, .crypto = keys, .ncrypto = 3
	};
	answer_input(&sdp, &ls);
	ls.srtp = SIPCX_SRTP_MANDATORY;
	answer_input(&sdp, &ls);

	struct sipcx_sdp_result res;
	int rc = sipcx_sdp_process_answer(&l, &sdp, &res);
	check(rc == 0 || rc == SIPCX_ENOCODEC);
	check(rc != 0 || res.srtp == SIPCX_SRTP_NONE);
	rc = sipcx_sdp_process_answer(&ls, &sdp, &res);
	check(rc == 0 || rc == SIPCX_ENOCODEC);
	check(rc != 0 || (res.srtp != SIPCX_SRTP_NONE && res.srtp <= SIPCX_SRTP_NSUITES));
	return 0;
}
