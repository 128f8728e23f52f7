/* Unit tests of G.711 (ITU-T G.711): known code values, the full code round trip, quantisation error. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <sipcx/g711.h>

static void test_ulaw_known(void **state)
{
	(void)state;
	/* codes are sent inverted: 0xFF is +0 and 0x7F is -0 */
	assert_int_equal(sipcx_g711_ulaw_decode(0xff), 0);
	assert_int_equal(sipcx_g711_ulaw_decode(0x7f), 0);
	assert_int_equal(sipcx_g711_ulaw_encode(0), 0xff);
	/* the ends of the scale: 8031 in 14 bits is 32124 in 16 */
	assert_int_equal(sipcx_g711_ulaw_decode(0x80), 32124);
	assert_int_equal(sipcx_g711_ulaw_decode(0x00), -32124);
	assert_int_equal(sipcx_g711_ulaw_encode(32767), 0x80);
	assert_int_equal(sipcx_g711_ulaw_encode(-32768), 0x00);
	/* segment 7, step 1024: 0x01 = ~0xfe: (14 * 8 + 132) << 7 - 132 = 31100 */
	assert_int_equal(sipcx_g711_ulaw_decode(0x01), -31100);
	assert_int_equal(sipcx_g711_ulaw_decode(0x81), 31100);
	/* segment 6: 0x10 = ~0xef: (15 * 8 + 132) << 6 - 132 = 15996 */
	assert_int_equal(sipcx_g711_ulaw_decode(0x10), -15996);
	/* segment 0, step 8: 0xfe = ~0x01: 8 + 132 - 132 = 8 */
	assert_int_equal(sipcx_g711_ulaw_decode(0xfe), 8);
	assert_int_equal(sipcx_g711_ulaw_decode(0x7e), -8);
	assert_int_equal(sipcx_g711_ulaw_decode(0xf0), 120); /* ~0x0f: 15 * 8 + 132 - 132 */
	/* above 32635 (8159 * 4 + 3) everything clips to the top code */
	assert_int_equal(sipcx_g711_ulaw_encode(32636), 0x80);
	assert_int_equal(sipcx_g711_ulaw_encode(-32636), 0x00);
	/* 4 (14-bit 1) is the first sample of code 0xFE; 3 still encodes +0 */
	assert_int_equal(sipcx_g711_ulaw_encode(4), 0xfe);
	assert_int_equal(sipcx_g711_ulaw_encode(3), 0xff);
}

static void test_alaw_known(void **state)
{
	(void)state;
	/* even bits inverted: 0xD5 is the smallest positive step, 0x55 its negative */
	assert_int_equal(sipcx_g711_alaw_decode(0xd5), 8);
	assert_int_equal(sipcx_g711_alaw_decode(0x55), -8);
	assert_int_equal(sipcx_g711_alaw_encode(0), 0xd5);
	assert_int_equal(sipcx_g711_alaw_encode(-1), 0x55); /* one's complement: -1 is "-0" */
	assert_int_equal(sipcx_g711_alaw_encode(8), 0xd5);
	assert_int_equal(sipcx_g711_alaw_encode(16), 0xd4); /* 13-bit 2: quant 1 -> 0x01 ^ 0xd5 */
	/* the ends: 0xAA = 0xff ^ 0x55: (15 << 4 + 0x108) << 6 = 32256 */
	assert_int_equal(sipcx_g711_alaw_decode(0xaa), 32256);
	assert_int_equal(sipcx_g711_alaw_decode(0x2a), -32256);
	assert_int_equal(sipcx_g711_alaw_encode(32767), 0xaa);
	assert_int_equal(sipcx_g711_alaw_encode(-32768), 0x2a);
	/* 0x00 = 0x55 ^ 0x55: segment 5, quant 5: (5 << 4 + 0x108) << 4 = 5504 */
	assert_int_equal(sipcx_g711_alaw_decode(0x00), -5504);
	assert_int_equal(sipcx_g711_alaw_decode(0x80), 5504);
	assert_int_equal(sipcx_g711_alaw_decode(0x01), -5248); /* 0x54: seg 5, quant 4 */
	/* segment 1 decodes to the middle of its 16-wide step: 0xc5 = 0x10 ^ 0xd5 -> 0x108 */
	assert_int_equal(sipcx_g711_alaw_decode(0xc5), 264);
}

static void test_code_round_trip(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		uint8_t code = (uint8_t)c;
		assert_int_equal(sipcx_g711_alaw_encode(sipcx_g711_alaw_decode(code)), code);
		/* mu-law's negative zero has no linear value of its own: it comes back as +0 */
		uint8_t want = code == 0x7f ? 0xff : code;
		assert_int_equal(sipcx_g711_ulaw_encode(sipcx_g711_ulaw_decode(code)), want);
		/* sign symmetry: the sign bit mirrors the value */
		assert_int_equal(sipcx_g711_alaw_decode(code ^ 0x80),
		                 -sipcx_g711_alaw_decode(code));
		assert_int_equal(sipcx_g711_ulaw_decode(code ^ 0x80),
		                 -sipcx_g711_ulaw_decode(code));
	}
}

static void test_sample_round_trip(void **state)
{
	(void)state;
	/*
	 * Every 16-bit sample: the decoded value is within half a step plus the
	 * bits dropped (2 for mu-law, 3 for A-law). A step is at most 1/16 of the
	 * segment's lower end, which bounds the error by |x| / 32 + 16; mu-law's
	 * clipping above 32635 stays inside the same bound. Decoding is monotonic.
	 */
	int prev_u = -32768, prev_a = -32768;
	for (int x = -32768; x <= 32767; x++) {
		int16_t s = (int16_t)x;
		int u = sipcx_g711_ulaw_decode(sipcx_g711_ulaw_encode(s));
		int a = sipcx_g711_alaw_decode(sipcx_g711_alaw_encode(s));
		int bound = abs(x) / 32 + 16;
		if (abs(u - x) > bound || abs(a - x) > bound)
			fail_msg("x=%d: mu-law %d, A-law %d, bound %d", x, u, a, bound);
		assert_true(u >= prev_u);
		assert_true(a >= prev_a);
		prev_u = u;
		prev_a = a;
	}
}

static void test_buffers(void **state)
{
	(void)state;
	int16_t pcm[320], back[320];
	uint8_t codes[320];
	for (int i = 0; i < 320; i++)
		pcm[i] = (int16_t)((i - 160) * 203);
	sipcx_g711_ulaw_encode_buf(codes, pcm, 320);
	sipcx_g711_ulaw_decode_buf(back, codes, 320);
	for (int i = 0; i < 320; i++) {
		assert_int_equal(codes[i], sipcx_g711_ulaw_encode(pcm[i]));
		assert_int_equal(back[i], sipcx_g711_ulaw_decode(codes[i]));
	}
	sipcx_g711_alaw_encode_buf(codes, pcm, 320);
	sipcx_g711_alaw_decode_buf(back, codes, 320);
	for (int i = 0; i < 320; i++) {
		assert_int_equal(codes[i], sipcx_g711_alaw_encode(pcm[i]));
		assert_int_equal(back[i], sipcx_g711_alaw_decode(codes[i]));
	}
	/* silence is 0xFF in PCMU and 0xD5 in PCMA */
	memset(pcm, 0, sizeof(pcm));
	sipcx_g711_ulaw_encode_buf(codes, pcm, 160);
	for (int i = 0; i < 160; i++)
		assert_int_equal(codes[i], 0xff);
	sipcx_g711_alaw_encode_buf(codes, pcm, 160);
	for (int i = 0; i < 160; i++)
		assert_int_equal(codes[i], 0xd5);
	/* n == 0 touches nothing */
	sipcx_g711_ulaw_encode_buf(NULL, NULL, 0);
	sipcx_g711_alaw_decode_buf(NULL, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ulaw_known),      cmocka_unit_test(test_alaw_known),
		cmocka_unit_test(test_code_round_trip), cmocka_unit_test(test_sample_round_trip),
		cmocka_unit_test(test_buffers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
