/* Unit tests of SRTP: a=crypto parse/print and offer/answer with keys (RFC 4568), the libsrtp2 contexts and media sessions that protect every packet (RFC 3711). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "testutil.h"

#include "media/media.h"
#include <sipcx/embed.h>
#include <sipcx/sdp.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------ a=crypto lines -- */

static int parse(const char *value, struct sipcx_sdp_crypto *c)
{
	return sipcx_sdp_crypto_parse(c, sipcx_str_c(value));
}

static void test_crypto_parse(void **state)
{
	(void)state;
	struct sipcx_sdp_crypto c;

	/* RFC 4568 4: the lifetime is taken and ignored. */
	assert_int_equal(
	    parse("1 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20",
	          &c),
	    0);
	assert_int_equal(c.tag, 1);
	assert_int_equal(c.suite, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_32);
	assert_memory_equal(c.key, "70x", 3); /* "NzB4" is base64 of "70x" */
	assert_int_equal(c.key[29], 'c');
	assert_int_equal(parse("999999999\tAES_CM_128_HMAC_SHA1_80  "
	                       "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
	                       &c),
	                 0);
	assert_int_equal(c.tag, 999999999);
	assert_int_equal(c.suite, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80);
	/* RFC 7714 12: 16 + 12 bytes, with or without the padding. */
	assert_int_equal(
	    parse("3 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==", &c), 0);
	assert_int_equal(c.suite, SIPCX_SRTP_AEAD_AES_128_GCM);
	assert_int_equal(c.key[27], 27);
	assert_int_equal(
	    parse("3 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw", &c), 0);

	static const struct {
		const char *value;
		int err;
	} bad[] = {
		/* well formed, not for us */
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4",
		  -ENOTSUP },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4",
		  -ENOTSUP },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR;"
		  "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		  -ENOTSUP },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR "
		  "UNENCRYPTED_SRTP",
		  -ENOTSUP },
		{ "1 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		  -ENOTSUP },
		{ "1 AES_CM_128_HMAC_SHA1_80 uri:https://example.com/key", -ENOTSUP },
		/* malformed */
		{ "", -EBADMSG },
		{ "1", -EBADMSG },
		{ "1 AES_CM_128_HMAC_SHA1_80", -EBADMSG },
		{ "x AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		  -EBADMSG },
		{ "1234567890 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		  -EBADMSG },
		{ "0 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", 0 },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaV",
		  -EBADMSG },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBRAAAA",
		  -EBADMSG },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB!",
		  -EBADMSG },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^x",
		  -EBADMSG },
		{ "1 AES_CM_128_HMAC_SHA1_80 PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", -EBADMSG },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc = parse(bad[i].value, &c);
		if (rc != bad[i].err)
			fail_msg("case %zu (%s): got %d, want %d", i, bad[i].value, rc, bad[i].err);
	}
	assert_int_equal(sipcx_sdp_crypto_parse(NULL, sipcx_str_c("1")), -EINVAL);

	/* Every prefix of a good line parses or fails cleanly, reading only its bytes. */
	const char *good =
	    "7 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
	for (size_t n = 0; n <= strlen(good); n++) {
		char *copy = malloc(n ? n : 1);
		memcpy(copy, good, n);
		int rc = sipcx_sdp_crypto_parse(&c, (struct sipcx_str){ copy, n });
		assert_true(n == strlen(good) ? rc == 0 : rc < 0);
		free(copy);
	}
}

static void test_crypto_print(void **state)
{
	(void)state;
	for (unsigned s = 1; s <= SIPCX_SRTP_NSUITES; s++) {
		struct sipcx_sdp_crypto c = { .tag = 42, .suite = (enum sipcx_srtp_suite)s }, back;
		for (size_t i = 0; i < sizeof(c.key); i++)
			c.key[i] = (uint8_t)(i * 37 + s);
		struct sipcx_buf b;
		sipcx_buf_init(&b);
		assert_int_equal(sipcx_sdp_crypto_print(&c, &b), 0);
		char want[64];
		snprintf(want, sizeof(want), "42 %s inline:", sipcx_srtp_suite_name(c.suite));
		assert_true(b.len > strlen(want) && !memcmp(b.p, want, strlen(want)));
		assert_int_equal(sipcx_sdp_crypto_parse(&back, (struct sipcx_str){ b.p, b.len }),
		                 0);
		assert_int_equal(back.tag, 42);
		assert_int_equal(back.suite, c.suite);
		assert_memory_equal(back.key, c.key, sipcx_srtp_key_len(c.suite));
		sipcx_buf_free(&b);
	}
	assert_int_equal(sipcx_srtp_key_len(SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80), 30);
	assert_int_equal(sipcx_srtp_key_len(SIPCX_SRTP_AEAD_AES_128_GCM), 28);
	assert_int_equal(sipcx_srtp_key_len(SIPCX_SRTP_NONE), 0);
	assert_string_equal(sipcx_srtp_suite_name((enum sipcx_srtp_suite)99), "");
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	struct sipcx_sdp_crypto c = { .tag = 1000000000,
		                      .suite = SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80 };
	assert_int_equal(sipcx_sdp_crypto_print(&c, &b), -EINVAL);
	c.tag = 1;
	c.suite = SIPCX_SRTP_NONE;
	assert_int_equal(sipcx_sdp_crypto_print(&c, &b), -EINVAL);
	assert_int_equal(b.len, 0);
	sipcx_buf_free(&b);
}

/* ------------------------------------------------ offer/answer with keys -- */

static struct sipcx_sdp sdp_off, sdp_ans; /* about 52 KB each */

/* Keys for each suite, all bytes = seed + suite, tags 1.. in the order given. */
static void keys_of(struct sipcx_sdp_crypto *k, const enum sipcx_srtp_suite *suites, size_t n,
                    uint8_t seed)
{
	for (size_t i = 0; i < n; i++) {
		k[i] = (struct sipcx_sdp_crypto){ .tag = (uint32_t)(i + 1), .suite = suites[i] };
		memset(k[i].key, seed + suites[i], sizeof(k[i].key));
	}
}

static const enum sipcx_srtp_suite all_suites[] = {
	SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80,
	SIPCX_SRTP_AES_CM_128_HMAC_SHA1_32,
	SIPCX_SRTP_AEAD_AES_128_GCM,
};

/* A side at addr:port, optional SRTP, with keys k (3) for every suite from seed. */
static struct sipcx_sdp_local side(const char *addr, uint16_t port, struct sipcx_sdp_crypto *k,
                                   uint8_t seed)
{
	keys_of(k, all_suites, 3, seed);
	return (struct sipcx_sdp_local){ .addr = addr, .port = port, .crypto = k, .ncrypto = 3 };
}

/*
 * Alice (mode ma) offers to Bob (mode mb); Bob answers; Alice reads the answer.
 * Returns Bob's answer result (0 or SIPCX_ENOCODEC: 488) and fills both results.
 */
static int offer_answer(enum sipcx_srtp_mode ma, enum sipcx_srtp_mode mb,
                        struct sipcx_sdp_result *ra, struct sipcx_sdp_result *rb, char *offer,
                        size_t offer_size)
{
	struct sipcx_sdp_crypto ka[3], kb[3];
	struct sipcx_sdp_local la = side("192.0.2.1", 4000, ka, 0x10);
	struct sipcx_sdp_local lb = side("192.0.2.2", 5000, kb, 0x40);
	la.srtp = ma;
	lb.srtp = mb;
	struct sipcx_sdp_session sa, sb;
	sipcx_sdp_session_init(&sa);
	sipcx_sdp_session_init(&sb);
	struct sipcx_buf o, a;
	sipcx_buf_init(&o);
	sipcx_buf_init(&a);
	assert_int_equal(sipcx_sdp_offer(&sa, &la, &o), 0);
	snprintf(offer, offer_size, "%.*s", (int)o.len, o.p);
	assert_int_equal(sipcx_sdp_parse(&sdp_off, (struct sipcx_str){ o.p, o.len }), 0);
	int rc = sipcx_sdp_answer(&sb, &lb, &sdp_off, &a, rb);
	if (rc == 0) {
		assert_int_equal(sipcx_sdp_parse(&sdp_ans, (struct sipcx_str){ a.p, a.len }), 0);
		assert_int_equal(sipcx_sdp_process_answer(&la, &sdp_ans, ra), 0);
		/* the answer keeps the offer's transport */
		assert_true(sipcx_str_ieq_c(sdp_ans.media[0].proto,
		                            ma == SIPCX_SRTP_MANDATORY ? "RTP/SAVP" : "RTP/AVP"));
	}
	sipcx_buf_free(&o);
	sipcx_buf_free(&a);
	return rc;
}

static void test_offer_answer_modes(void **state)
{
	(void)state;
	static const struct {
		enum sipcx_srtp_mode a, b;
		int rc;
		bool srtp;
	} cases[] = {
		{ SIPCX_SRTP_OPTIONAL, SIPCX_SRTP_OPTIONAL, 0, true },
		{ SIPCX_SRTP_OPTIONAL, SIPCX_SRTP_MANDATORY, 0, true },
		{ SIPCX_SRTP_OPTIONAL, SIPCX_SRTP_OFF, 0, false },
		{ SIPCX_SRTP_MANDATORY, SIPCX_SRTP_OPTIONAL, 0, true },
		{ SIPCX_SRTP_MANDATORY, SIPCX_SRTP_MANDATORY, 0, true },
		{ SIPCX_SRTP_MANDATORY, SIPCX_SRTP_OFF, SIPCX_ENOCODEC, false },
		{ SIPCX_SRTP_OFF, SIPCX_SRTP_OPTIONAL, 0, false },
		{ SIPCX_SRTP_OFF, SIPCX_SRTP_MANDATORY, SIPCX_ENOCODEC, false },
		{ SIPCX_SRTP_OFF, SIPCX_SRTP_OFF, 0, false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sipcx_sdp_result ra, rb;
		char offer[2048];
		int rc = offer_answer(cases[i].a, cases[i].b, &ra, &rb, offer, sizeof(offer));
		if (rc != cases[i].rc)
			fail_msg("case %zu: got %d, want %d", i, rc, cases[i].rc);
		assert_int_equal(strstr(offer, "a=crypto:") != NULL, cases[i].a != SIPCX_SRTP_OFF);
		assert_int_equal(strstr(offer, "RTP/SAVP") != NULL,
		                 cases[i].a == SIPCX_SRTP_MANDATORY);
		if (rc)
			continue;
		if (!cases[i].srtp) {
			assert_int_equal(ra.srtp, SIPCX_SRTP_NONE);
			assert_int_equal(rb.srtp, SIPCX_SRTP_NONE);
			continue;
		}
		/* The offerer's first suite; each sends with its own key, receives with the other's. */
		assert_int_equal(ra.srtp, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80);
		assert_int_equal(rb.srtp, ra.srtp);
		assert_memory_equal(ra.srtp_tx_key, rb.srtp_rx_key, SIPCX_SRTP_KEY_MAX);
		assert_memory_equal(rb.srtp_tx_key, ra.srtp_rx_key, SIPCX_SRTP_KEY_MAX);
		assert_int_equal(ra.srtp_tx_key[0], 0x10 + SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80);
		assert_int_equal(rb.srtp_tx_key[0], 0x40 + SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80);
	}
}

static int answer_text(const char *offer, const struct sipcx_sdp_local *l, struct sipcx_buf *out,
                       struct sipcx_sdp_result *res)
{
	struct sipcx_sdp_session s;
	sipcx_sdp_session_init(&s);
	assert_int_equal(sipcx_sdp_parse(&sdp_off, sipcx_str_c(offer)), 0);
	return sipcx_sdp_answer(&s, l, &sdp_off, out, res);
}

#define HEAD "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"

static void test_answer_picks(void **state)
{
	(void)state;
	struct sipcx_sdp_crypto kb[3];
	struct sipcx_sdp_local lb = side("192.0.2.2", 5000, kb, 0x40);
	struct sipcx_sdp_result res;
	struct sipcx_buf b;

	/* The offer's order wins, a line we cannot use is skipped, its tag is kept. */
	sipcx_buf_init(&b);
	assert_int_equal(answer_text(HEAD
	                             "m=audio 7000 RTP/SAVP 0\r\n"
	                             "a=crypto:9 AES_CM_128_HMAC_SHA1_80 "
	                             "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4\r\n"
	                             "a=crypto:5 AEAD_AES_128_GCM "
	                             "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==\r\n"
	                             "a=crypto:6 AES_CM_128_HMAC_SHA1_32 "
	                             "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj\r\n",
	                             &lb, &b, &res),
	                 0);
	assert_int_equal(res.srtp, SIPCX_SRTP_AEAD_AES_128_GCM);
	assert_int_equal(res.srtp_rx_key[27], 27);
	assert_int_equal(res.srtp_tx_key[0], 0x40 + SIPCX_SRTP_AEAD_AES_128_GCM);
	assert_non_null(memmem(b.p, b.len, "m=audio 5000 RTP/SAVP 0\r\n", 25));
	assert_non_null(memmem(b.p, b.len, "a=crypto:5 AEAD_AES_128_GCM inline:", 35));
	assert_null(memmem(b.p, b.len, "a=crypto:6", 10));
	sipcx_buf_free(&b);

	/* RTP/SAVP with no usable key: refused, even when optional. */
	sipcx_buf_init(&b);
	assert_int_equal(answer_text(HEAD "m=audio 7000 RTP/SAVP 0\r\n"
	                                  "a=crypto:1 F8_128_HMAC_SHA1_80 "
	                                  "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n",
	                             &lb, &b, &res),
	                 SIPCX_ENOCODEC);
	assert_int_equal(b.len, 0);
	/* A plain offer while mandatory: refused; a second m= line with a key is taken. */
	lb.srtp = SIPCX_SRTP_MANDATORY;
	assert_int_equal(answer_text(HEAD "m=audio 7000 RTP/AVP 0\r\n", &lb, &b, &res),
	                 SIPCX_ENOCODEC);
	assert_int_equal(answer_text(HEAD "m=audio 7000 RTP/AVP 0\r\n"
	                                  "m=audio 7002 RTP/SAVP 8\r\n"
	                                  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
	                                  "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n",
	                             &lb, &b, &res),
	                 0);
	assert_int_equal(res.media_index, 1);
	assert_int_equal(res.srtp, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80);
	sipcx_buf_free(&b);

	/* Our config: mandatory without keys, two keys for one suite, a bad tag. */
	sipcx_buf_init(&b);
	struct sipcx_sdp_session s;
	sipcx_sdp_session_init(&s);
	struct sipcx_sdp_local bad = { .addr = "192.0.2.2", .port = 5000 };
	bad.srtp = SIPCX_SRTP_MANDATORY;
	assert_int_equal(sipcx_sdp_offer(&s, &bad, &b), -EINVAL);
	struct sipcx_sdp_crypto two[2];
	keys_of(two, all_suites, 2, 1);
	two[1].suite = two[0].suite;
	bad = (struct sipcx_sdp_local){
		.addr = "192.0.2.2", .port = 5000, .crypto = two, .ncrypto = 2
	};
	assert_int_equal(sipcx_sdp_offer(&s, &bad, &b), -EINVAL);
	keys_of(two, all_suites, 2, 1);
	two[1].tag = 1000000000;
	assert_int_equal(sipcx_sdp_offer(&s, &bad, &b), -EINVAL);
	bad.srtp = (enum sipcx_srtp_mode)7;
	assert_int_equal(sipcx_sdp_offer(&s, &bad, &b), -EINVAL);
	assert_int_equal(b.len, 0);
	sipcx_buf_free(&b);
}

/* sipcx_sdp_process_answer() of an answer with one a=crypto line "TAG SUITE" (a fixed key). */
static int process_crypto(const struct sipcx_sdp_local *l, const char *tag_suite,
                          struct sipcx_sdp_result *res)
{
	char text[512];
	snprintf(text, sizeof(text),
	         HEAD "m=audio 7000 RTP/SAVP 0\r\na=crypto:%s "
	              "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n",
	         tag_suite);
	assert_int_equal(sipcx_sdp_parse(&sdp_ans, sipcx_str_c(text)), 0);
	return sipcx_sdp_process_answer(l, &sdp_ans, res);
}

static void test_process_answer_keys(void **state)
{
	(void)state;
	struct sipcx_sdp_crypto ka[3];
	struct sipcx_sdp_local la = side("192.0.2.1", 4000, ka, 0x10);
	struct sipcx_sdp_result res;

	/* A plain answer to our best-effort offer: plain RTP. */
	assert_int_equal(sipcx_sdp_parse(&sdp_ans, sipcx_str_c(HEAD "m=audio 7000 RTP/AVP 0\r\n")),
	                 0);
	assert_int_equal(sipcx_sdp_process_answer(&la, &sdp_ans, &res), 0);
	assert_int_equal(res.srtp, SIPCX_SRTP_NONE);
	/* ... and while mandatory: we cannot go on. */
	la.srtp = SIPCX_SRTP_MANDATORY;
	assert_int_equal(sipcx_sdp_process_answer(&la, &sdp_ans, &res), SIPCX_ENOCODEC);
	/* An answer must take one of our lines: tag 2 is our _32, not _80. */
	assert_int_equal(process_crypto(&la, "2 AES_CM_128_HMAC_SHA1_80", &res), SIPCX_ENOCODEC);
	la.srtp = SIPCX_SRTP_OPTIONAL;
	assert_int_equal(process_crypto(&la, "2 AES_CM_128_HMAC_SHA1_80", &res), SIPCX_ENOCODEC);
	assert_int_equal(process_crypto(&la, "2 AES_CM_128_HMAC_SHA1_32", &res), 0);
	assert_int_equal(res.srtp, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(res.srtp_tx_key[0], 0x10 + SIPCX_SRTP_AES_CM_128_HMAC_SHA1_32);
	/* Off: the answer's line is not ours to take. */
	la.srtp = SIPCX_SRTP_OFF;
	assert_int_equal(process_crypto(&la, "2 AES_CM_128_HMAC_SHA1_32", &res), SIPCX_ENOCODEC);
}

/* ------------------------------------------------------ libsrtp contexts -- */

static size_t rtp_packet(uint8_t *buf, uint16_t seq, uint8_t fill)
{
	struct sipcx_rtp_pkt p = { .pt = 0, .seq = seq, .ts = seq * 160u, .ssrc = 0xCAFE };
	uint8_t payload[160];
	memset(payload, fill, sizeof(payload));
	p.payload = payload;
	p.payload_len = sizeof(payload);
	int n = sipcx_rtp_build(&p, buf, 300);
	assert_int_equal(n, 172);
	return (size_t)n;
}

static void test_contexts(void **state)
{
	(void)state;
	static const size_t tag_len[] = { 0, 10, 4, 16 };
	uint8_t k1[SIPCX_SRTP_KEY_MAX], k2[SIPCX_SRTP_KEY_MAX], k3[SIPCX_SRTP_KEY_MAX];
	memset(k1, 1, sizeof(k1));
	memset(k2, 2, sizeof(k2));
	memset(k3, 3, sizeof(k3));
	for (unsigned s = 1; s <= SIPCX_SRTP_NSUITES; s++) {
		enum sipcx_srtp_suite suite = (enum sipcx_srtp_suite)s;
		struct sipcx__srtp *a = NULL, *b = NULL, *wrong = NULL;
		assert_int_equal(sipcx__srtp_new(&a, suite, k1, k2), 0);
		assert_int_equal(sipcx__srtp_new(&b, suite, k2, k1), 0);
		assert_int_equal(sipcx__srtp_new(&wrong, suite, k2, k3), 0);
		assert_true(sipcx__srtp_same(a, suite, k1, k2));
		assert_false(sipcx__srtp_same(a, suite, k2, k1));

		uint8_t buf[512], plain[512], copy[512];
		for (uint16_t seq = 1; seq <= 3; seq++) {
			size_t len = rtp_packet(buf, seq, 0xFF);
			memcpy(plain, buf, len);
			size_t n = len;
			assert_int_equal(sipcx__srtp_protect(a, false, buf, &n, sizeof(buf)), 0);
			/* the header stays clear, the payload does not, the tag is added */
			assert_int_equal(n, len + tag_len[s]);
			assert_memory_equal(buf, plain, 12);
			assert_memory_not_equal(buf + 12, plain + 12, 160);
			memcpy(copy, buf, n);
			size_t cn = n;
			/* the wrong key: authentication fails, nothing comes out */
			assert_int_equal(sipcx__srtp_unprotect(wrong, false, copy, &cn), -EBADMSG);
			assert_int_equal(sipcx__srtp_unprotect(b, false, buf, &n), 0);
			assert_int_equal(n, len);
			assert_memory_equal(buf, plain, len);
			/* the same packet again is a replay */
			memcpy(buf, copy, cn);
			n = cn;
			assert_int_equal(sipcx__srtp_unprotect(b, false, buf, &n), -EALREADY);
		}
		/* one bit changed fails authentication */
		size_t n = rtp_packet(buf, 10, 0x11);
		assert_int_equal(sipcx__srtp_protect(a, false, buf, &n, sizeof(buf)), 0);
		buf[20] ^= 1;
		assert_int_equal(sipcx__srtp_unprotect(b, false, buf, &n), -EBADMSG);
		/* our own index again: libsrtp will not reuse the key stream */
		n = rtp_packet(buf, 10, 0x11);
		assert_int_equal(sipcx__srtp_protect(a, false, buf, &n, sizeof(buf)), -EALREADY);
		n = rtp_packet(buf, 11, 0x11);
		assert_int_equal(sipcx__srtp_protect(a, false, buf, &n, 100), -EMSGSIZE);

		/* SRTCP: an RR with its E flag and index, then the tag (RFC 3711 3.4) */
		uint8_t rr[8] = { 0x80, 201, 0, 1, 0, 0, 0xCA, 0xFE };
		memcpy(buf, rr, sizeof(rr));
		n = sizeof(rr);
		assert_int_equal(sipcx__srtp_protect(b, true, buf, &n, sizeof(buf)), 0);
		assert_int_equal(n, sizeof(rr) + 4 + (s == SIPCX_SRTP_AEAD_AES_128_GCM ? 16 : 10));
		memcpy(copy, buf, n);
		size_t cn = n;
		assert_int_equal(sipcx__srtp_unprotect(a, true, buf, &n), 0);
		assert_memory_equal(buf, rr, sizeof(rr));
		assert_int_equal(sipcx__srtp_unprotect(wrong, true, copy, &cn), -EBADMSG);

		sipcx__srtp_free(a);
		sipcx__srtp_free(b);
		sipcx__srtp_free(wrong);
	}
	struct sipcx__srtp *x = NULL;
	assert_int_equal(sipcx__srtp_new(&x, SIPCX_SRTP_NONE, k1, k2), -EINVAL);
	assert_null(x);
	sipcx__srtp_free(NULL);
}

/* ------------------------------------------- media sessions over SRTP -- */

struct seen {
	unsigned rtp, rtcp;
	size_t payload_len;
	uint8_t payload[200];
};

static void on_rtp(struct sipcx_media *m, const struct sipcx_rtp_pkt *pkt, const uint8_t *data,
                   size_t len, const struct sockaddr *from, void *arg)
{
	(void)m, (void)data, (void)len, (void)from;
	struct seen *s = arg;
	s->rtp++;
	s->payload_len =
	    pkt->payload_len < sizeof(s->payload) ? pkt->payload_len : sizeof(s->payload);
	memcpy(s->payload, pkt->payload, s->payload_len);
}

static void on_rtcp(struct sipcx_media *m, const uint8_t *data, size_t len,
                    const struct sockaddr *from, void *arg)
{
	(void)m, (void)data, (void)len, (void)from;
	((struct seen *)arg)->rtcp++;
}

static void tick(uv_timer_t *t)
{
	(void)t;
}

/* Run the loop until *counter reaches want, 10 s at most (valgrind, a busy machine). */
static bool run_for(uv_loop_t *loop, const unsigned *counter, unsigned want)
{
	uv_timer_t t;
	uv_timer_init(loop, &t);
	uv_timer_start(&t, tick, 10, 10);
	uint64_t end = sipcx_now_us() + 10000000u;
	while (*counter < want && sipcx_now_us() < end)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return *counter >= want;
}

static struct sipcx_media *session(uv_loop_t *loop, struct seen *s, enum sipcx_media_handler h)
{
	/* a range of its own: a load test elsewhere on the machine may hold the default one */
	struct sipcx_media_opts o = { .local_addr = "127.0.0.1",
		                      .port_min = 24000,
		                      .port_max = 27999,
		                      .handler = h,
		                      .codec = "PCMU",
		                      .on_rtp = on_rtp,
		                      .on_rtcp = on_rtcp,
		                      .arg = s };
	struct sipcx_media *m = NULL;
	assert_int_equal(sipcx_media_new_loop(&m, loop, &o), 0);
	return m;
}

/* What the negotiation would give m: send to peer, with keys tx (ours) and rx (the peer's). */
static void apply(struct sipcx_media *m, const struct sipcx_media *peer,
                  enum sipcx_srtp_suite suite, uint8_t tx, uint8_t rx)
{
	struct sipcx_sdp_result r = { .family = 4,
		                      .addr_is_ip = true,
		                      .addr = "127.0.0.1",
		                      .rtp_port = sipcx_media_port(peer),
		                      .pt = 0,
		                      .codec = "PCMU",
		                      .clock = 8000,
		                      .dtmf_pt = -1,
		                      .ptime = 20,
		                      .local_send = true,
		                      .local_recv = true,
		                      .srtp = suite };
	r.rtcp_port = (uint16_t)(r.rtp_port + 1);
	memset(r.srtp_tx_key, tx, sizeof(r.srtp_tx_key));
	memset(r.srtp_rx_key, rx, sizeof(r.srtp_rx_key));
	assert_int_equal(sipcx_media_apply_sdp(m, &r), 0);
	assert_int_equal(sipcx_media_start(m), 0);
}

static struct sipcx_media_stats stats_of(const struct sipcx_media *m)
{
	struct sipcx_media_stats st;
	sipcx_media_stats(m, &st);
	return st;
}

/* Silence (PCMU 0xFF) through an echo over SRTP; a plain listener sees only ciphertext. */
static void test_session_echo(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct seen sa = { 0 }, se = { 0 }, sp = { 0 };
	struct sipcx_media *a = session(&loop, &sa, SIPCX_MEDIA_SILENCE);
	struct sipcx_media *e = session(&loop, &se, SIPCX_MEDIA_ECHO);
	struct sipcx_media *plain = session(&loop, &sp, SIPCX_MEDIA_NONE);
	apply(a, e, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80, 0xA1, 0xE1);
	apply(e, a, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80, 0xE1, 0xA1);
	assert_true(run_for(&loop, &sa.rtp, 5));
	/* our silence came back decrypted, through the echo's own key */
	assert_int_equal(sa.payload_len, 160);
	for (size_t i = 0; i < 160; i++)
		assert_int_equal(sa.payload[i], 0xFF);
	assert_true(stats_of(e).rx_packets >= 5);
	assert_int_equal(stats_of(e).srtp_auth_fail, 0);
	/* SRTCP both ways */
	assert_int_equal(sipcx_media_send_rtcp(a), 0);
	assert_true(run_for(&loop, &se.rtcp, 1));
	/* The echo takes a new key (a re-INVITE): a keeps its own and takes the new one in. */
	apply(e, a, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80, 0xE3, 0xA1);
	apply(a, e, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80, 0xA1, 0xE3);
	unsigned before = sa.rtp;
	assert_true(run_for(&loop, &sa.rtp, before + 5));
	assert_int_equal(sa.payload[0], 0xFF);
	assert_int_equal(stats_of(e).srtp_replay, 0);

	/* The same to a session without keys: 10 bytes more, and not silence. (From a sender
	 * of its own: echoes still on their way would latch a back to the echo.) */
	struct seen sb = { 0 };
	struct sipcx_media *b = session(&loop, &sb, SIPCX_MEDIA_SILENCE);
	apply(b, plain, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80, 0xA1, 0xE1);
	apply(plain, b, SIPCX_SRTP_NONE, 0, 0);
	assert_true(run_for(&loop, &sp.rtp, 3));
	assert_int_equal(sp.payload_len, 170);
	unsigned ff = 0;
	for (size_t i = 0; i < 160; i++)
		ff += sp.payload[i] == 0xFF;
	assert_true(ff < 16);

	sipcx_media_free(a);
	sipcx_media_free(b);
	sipcx_media_free(e);
	sipcx_media_free(plain);
	for (int i = 0; i < 100 && uv_loop_alive(&loop); i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* A sender whose key is not the one the receiver was given: counted, dropped, never echoed. */
static void test_session_wrong_key(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct seen sa = { 0 }, se = { 0 };
	struct sipcx_media *a = session(&loop, &sa, SIPCX_MEDIA_SILENCE);
	struct sipcx_media *e = session(&loop, &se, SIPCX_MEDIA_ECHO);
	apply(a, e, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80, 0xA1, 0xE1);
	apply(e, a, SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80, 0xE1, 0x55);
	struct sipcx_media_stats st = { 0 };
	uint64_t end = sipcx_now_us() + 10000000u;
	while (st.srtp_auth_fail < 10 && sipcx_now_us() < end) {
		uv_run(&loop, UV_RUN_ONCE);
		st = stats_of(e);
	}
	assert_true(st.srtp_auth_fail >= 10);
	assert_int_equal(st.rx_packets, 0);
	assert_int_equal(st.tx_packets, 0); /* nothing echoed */
	assert_int_equal(se.rtp, 0);
	assert_int_equal(sa.rtp, 0);
	/* SRTCP with the wrong key is dropped too */
	uint64_t before = stats_of(e).srtp_auth_fail;
	assert_int_equal(sipcx_media_send_rtcp(a), 0);
	st = stats_of(e);
	end = sipcx_now_us() + 10000000u;
	while (st.srtp_auth_fail == before && sipcx_now_us() < end) {
		uv_run(&loop, UV_RUN_ONCE);
		st = stats_of(e);
	}
	assert_true(st.srtp_auth_fail > before);
	assert_int_equal(se.rtcp, 0);
	assert_int_equal(st.rtcp_rx, 0);
	sipcx_media_free(a);
	sipcx_media_free(e);
	for (int i = 0; i < 100 && uv_loop_alive(&loop); i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crypto_parse),
		cmocka_unit_test(test_crypto_print),
		cmocka_unit_test(test_offer_answer_modes),
		cmocka_unit_test(test_answer_picks),
		cmocka_unit_test(test_process_answer_keys),
		cmocka_unit_test(test_contexts),
		cmocka_unit_test(test_session_echo),
		cmocka_unit_test(test_session_wrong_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
