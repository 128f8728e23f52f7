/* Unit tests of the Goertzel tone detector: tones, mixes, silence, noise, G.711, levels, run lengths. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <sipcx/dsp.h>
#include <sipcx/g711.h>
#include <sipcx/media.h>

#define RATE 8000
#define BLOCK 160 /* 20 ms */
#define NS (RATE * 2)

static int16_t pcm[NS];
static const unsigned probe[] = { 440, 1000, 1400, 2000 };

static void tone(int16_t *out, size_t n, unsigned hz, unsigned amp)
{
	struct sipcx_media_tone t;
	assert_int_equal(sipcx_media_tone_init(&t, hz, amp, RATE), 0);
	sipcx_media_tone_pcm(&t, out, n);
}

/* A fixed-seed LCG (Numerical Recipes constants): uniform in [-amp, amp]. */
static uint32_t lcg_state;
static int16_t noise_sample(unsigned amp)
{
	lcg_state = lcg_state * 1664525u + 1013904223u;
	return (int16_t)((int32_t)(lcg_state >> 16) % (2 * (int32_t)amp + 1) - (int32_t)amp);
}

static void detect(struct sipcx_tone_detect *d, const int16_t *in, size_t n)
{
	assert_int_equal(sipcx_tone_detect_init(d, probe, 4, RATE, BLOCK), 0);
	assert_int_equal(sipcx_tone_detect_feed(d, in, n), (int)(n / BLOCK));
}

static void test_pure_tone(void **state)
{
	(void)state;
	struct sipcx_tone_detect d;
	tone(pcm, NS, 1000, 10000);
	detect(&d, pcm, NS);
	assert_true(sipcx_tone_detect_heard(&d, 1000, 1900));
	assert_false(sipcx_tone_detect_heard(&d, 440, 0));
	assert_false(sipcx_tone_detect_heard(&d, 1400, 0));
	assert_false(sipcx_tone_detect_heard(&d, 2000, 0));
	struct sipcx_tone_counts c;
	assert_int_equal(sipcx_tone_detect_counts(&d, 1000, &c), 0);
	assert_int_equal(c.blocks, NS / BLOCK);
	assert_int_equal(c.present, NS / BLOCK);
	assert_int_equal(c.longest, NS / BLOCK);
	assert_int_equal(c.run, NS / BLOCK);
	assert_int_equal(sipcx_tone_detect_counts(&d, 440, &c), 0);
	assert_int_equal(c.present, 0);
	assert_int_equal(c.longest, 0);
	/* off-bin frequencies too (k = N f / rate not whole): 1010 Hz is 1000's neighbour */
	const unsigned odd[] = { 697, 1209, 1010, 1100 };
	tone(pcm, NS, 697, 8000);
	assert_int_equal(sipcx_tone_detect_init(&d, odd, 4, RATE, 205), 0);
	sipcx_tone_detect_feed(&d, pcm, NS);
	assert_true(sipcx_tone_detect_heard(&d, 697, 1500));
	assert_false(sipcx_tone_detect_heard(&d, 1209, 0));
	assert_false(sipcx_tone_detect_heard(&d, 1100, 0));
}

/*
 * Parseval's scaling: with the rule "P(f) >= 0.4 * E * N / 2", a sine that
 * carries 60% of a block's energy is present and one that carries 25% is
 * not. A factor of two wrong either way would flip one of them.
 */
static void test_energy_share(void **state)
{
	(void)state;
	struct sipcx_tone_detect d;
	/* uniform noise in [-a, a] has mean square a^2 / 3; a sine of peak A has A^2 / 2 */
	const double sine_ms = 4000.0 * 4000.0 / 2;
	for (int k = 0; k < 2; k++) {
		double share = k == 0 ? 0.6 : 0.25;
		double noise_ms = sine_ms * (1 - share) / share;
		unsigned a = (unsigned)lrint(sqrt(3 * noise_ms));
		tone(pcm, NS, 1000, 4000);
		lcg_state = 12345;
		for (size_t i = 0; i < NS; i++)
			pcm[i] = (int16_t)(pcm[i] + noise_sample(a));
		/* long blocks (100 ms): the noise's own share at 1000 Hz, about 2/N, stays small */
		assert_int_equal(sipcx_tone_detect_init(&d, probe, 4, RATE, 800), 0);
		assert_int_equal(sipcx_tone_detect_feed(&d, pcm, NS), NS / 800);
		struct sipcx_tone_counts c;
		assert_int_equal(sipcx_tone_detect_counts(&d, 1000, &c), 0);
		if (k == 0)
			assert_int_equal(c.present, c.blocks);
		else
			assert_int_equal(c.present, 0);
	}
	/* a sine alone is a share of 1: at any level above the floor */
	tone(pcm, NS, 1000, 32000);
	detect(&d, pcm, NS);
	assert_true(sipcx_tone_detect_heard(&d, 1000, 1900));
}

static void test_silence_and_noise(void **state)
{
	(void)state;
	struct sipcx_tone_detect d;
	memset(pcm, 0, sizeof(pcm));
	detect(&d, pcm, NS);
	for (size_t i = 0; i < 4; i++)
		assert_false(sipcx_tone_detect_heard(&d, probe[i], 0));
	lcg_state = 1;
	for (size_t i = 0; i < NS; i++)
		pcm[i] = noise_sample(20000);
	detect(&d, pcm, NS);
	for (size_t i = 0; i < 4; i++) {
		struct sipcx_tone_counts c;
		assert_int_equal(sipcx_tone_detect_counts(&d, probe[i], &c), 0);
		assert_int_equal(c.present, 0);
		assert_int_equal(c.blocks, NS / BLOCK);
	}
}

static void test_mix(void **state)
{
	(void)state;
	struct sipcx_tone_detect d;
	static int16_t b[NS];
	tone(pcm, NS, 440, 8000);
	tone(b, NS, 1000, 8000);
	for (size_t i = 0; i < NS; i++)
		pcm[i] = (int16_t)(pcm[i] + b[i]);
	detect(&d, pcm, NS);
	assert_true(sipcx_tone_detect_heard(&d, 440, 1900));
	assert_true(sipcx_tone_detect_heard(&d, 1000, 1900));
	assert_false(sipcx_tone_detect_heard(&d, 1400, 0));
	assert_false(sipcx_tone_detect_heard(&d, 2000, 0));
	/* three at equal level: 33% each, under the 40% rule */
	tone(b, NS, 2000, 8000);
	for (size_t i = 0; i < NS; i++)
		pcm[i] = (int16_t)(pcm[i] + b[i]);
	detect(&d, pcm, NS);
	assert_false(sipcx_tone_detect_heard(&d, 440, 0));
	assert_false(sipcx_tone_detect_heard(&d, 1000, 0));
	assert_false(sipcx_tone_detect_heard(&d, 2000, 0));
}

static void g711_round_trip(int16_t *p, size_t n, int alaw)
{
	uint8_t codes[NS];
	if (alaw) {
		sipcx_g711_alaw_encode_buf(codes, p, n);
		sipcx_g711_alaw_decode_buf(p, codes, n);
	} else {
		sipcx_g711_ulaw_encode_buf(codes, p, n);
		sipcx_g711_ulaw_decode_buf(p, codes, n);
	}
}

static void test_g711_and_levels(void **state)
{
	(void)state;
	struct sipcx_tone_detect d;
	/* 0 dBm0 is a sine of peak 22270; -30 dBm0 is 704, -40 is 223 */
	const unsigned heard_amp[] = { 22270, 704, 223 };
	for (int law = 0; law < 3; law++) {
		for (size_t k = 0; k < 3; k++) {
			tone(pcm, NS, 1000, heard_amp[k]);
			if (law)
				g711_round_trip(pcm, NS, law == 2);
			detect(&d, pcm, NS);
			assert_true(sipcx_tone_detect_heard(&d, 1000, 1900));
			assert_false(sipcx_tone_detect_heard(&d, 440, 0));
			assert_false(sipcx_tone_detect_heard(&d, 2000, 0));
		}
		/* -51 dBm0: below the floor (-45 dBm0), not a tone however pure */
		tone(pcm, NS, 1000, 62);
		if (law)
			g711_round_trip(pcm, NS, law == 2);
		detect(&d, pcm, NS);
		assert_false(sipcx_tone_detect_heard(&d, 1000, 0));
	}
}

static void test_run_length(void **state)
{
	(void)state;
	struct sipcx_tone_detect d;
	/* 100 ms of silence, 300 ms of tone, 200 ms of silence, then 100 ms of tone; at offsets 0 and 80 */
	for (size_t shift = 0; shift <= 80; shift += 80) {
		memset(pcm, 0, sizeof(pcm));
		tone(pcm + 800 + shift, 2400, 1000, 10000);
		tone(pcm + 800 + shift + 4000, 800, 1000, 10000);
		detect(&d, pcm, 6400);
		assert_true(sipcx_tone_detect_heard(&d, 1000, 200));
		assert_true(sipcx_tone_detect_heard(&d, 1000, 280));
		assert_false(sipcx_tone_detect_heard(&d, 1000, 400));
		struct sipcx_tone_counts c;
		assert_int_equal(sipcx_tone_detect_counts(&d, 1000, &c), 0);
		assert_int_equal(c.blocks, 40);
		assert_in_range(c.longest, 14, 16);
		assert_in_range(c.present, 19, 22);
		assert_int_equal(c.run, 0); /* ends in silence */
	}
	/* samples fed one at a time judge the same blocks */
	struct sipcx_tone_detect e;
	assert_int_equal(sipcx_tone_detect_init(&e, probe, 4, RATE, BLOCK), 0);
	int blocks = 0;
	for (size_t i = 0; i < 6400; i++)
		blocks += sipcx_tone_detect_feed(&e, pcm + i, 1);
	assert_int_equal(blocks, 40);
	assert_int_equal(e.longest[1], d.longest[1]);
	assert_int_equal(e.present[1], d.present[1]);
	assert_int_equal(sipcx_tone_detect_feed(&e, pcm, 159), 0);
	assert_int_equal(sipcx_tone_detect_feed(&e, pcm, 1), 1);
}

static void test_bad_args(void **state)
{
	(void)state;
	struct sipcx_tone_detect d;
	unsigned nine[9] = { 100, 200, 300, 400, 500, 600, 700, 800, 900 };
	unsigned f = 1000;
	assert_int_equal(sipcx_tone_detect_init(NULL, &f, 1, RATE, BLOCK), -EINVAL);
	assert_int_equal(sipcx_tone_detect_init(&d, NULL, 1, RATE, BLOCK), -EINVAL);
	assert_int_equal(sipcx_tone_detect_init(&d, &f, 0, RATE, BLOCK), -EINVAL);
	assert_int_equal(sipcx_tone_detect_init(&d, nine, 9, RATE, BLOCK), -EINVAL);
	assert_int_equal(sipcx_tone_detect_init(&d, nine, 8, RATE, BLOCK), 0);
	assert_int_equal(sipcx_tone_detect_init(&d, &f, 1, 0, BLOCK), -EINVAL);
	assert_int_equal(sipcx_tone_detect_init(&d, &f, 1, RATE, 0), -EINVAL);
	assert_int_equal(sipcx_tone_detect_init(&d, &f, 1, RATE, RATE + 1), -EINVAL);
	unsigned hi = 4000, zero = 0, dup[2] = { 1000, 1000 };
	assert_int_equal(sipcx_tone_detect_init(&d, &hi, 1, RATE, BLOCK), -EINVAL);
	assert_int_equal(sipcx_tone_detect_init(&d, &zero, 1, RATE, BLOCK), -EINVAL);
	assert_int_equal(sipcx_tone_detect_init(&d, dup, 2, RATE, BLOCK), -EINVAL);
	assert_int_equal(sipcx_tone_detect_init(&d, &f, 1, RATE, BLOCK), 0);
	assert_int_equal(sipcx_tone_detect_feed(NULL, pcm, 1), -EINVAL);
	assert_int_equal(sipcx_tone_detect_feed(&d, NULL, 1), -EINVAL);
	assert_int_equal(sipcx_tone_detect_feed(&d, NULL, 0), 0);
	struct sipcx_tone_counts c;
	assert_int_equal(sipcx_tone_detect_counts(NULL, 1000, &c), -EINVAL);
	assert_int_equal(sipcx_tone_detect_counts(&d, 1000, NULL), -EINVAL);
	assert_int_equal(sipcx_tone_detect_counts(&d, 440, &c), -ENOENT);
	assert_false(sipcx_tone_detect_heard(NULL, 1000, 0));
	assert_false(sipcx_tone_detect_heard(&d, 440, 0));
	assert_false(sipcx_tone_detect_heard(&d, 1000, 0)); /* nothing fed yet */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pure_tone),         cmocka_unit_test(test_energy_share),
		cmocka_unit_test(test_silence_and_noise), cmocka_unit_test(test_mix),
		cmocka_unit_test(test_g711_and_levels),   cmocka_unit_test(test_run_length),
		cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
