/* sipcx dsp: a tone detector (Goertzel) over blocks of 16-bit PCM, to check what a call carries. */
#ifndef SIPCX_DSP_H
#define SIPCX_DSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sipcx/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The detector cuts the samples into blocks (160 samples: 20 ms at 8 kHz;
 * 205 is the classic DTMF block) and, for each block and each frequency
 * asked, computes the Goertzel power P(f) = |X(f)|^2, the block's DFT at
 * exactly f (not rounded to a bin). A tone is present in the block when
 *
 *   - P(f) >= SIPCX_TONE_FRACTION * E * N / 2, where E = sum x^2 is the
 *     block's energy and N its length: by Parseval a pure sine at f gives
 *     P(f) = E * N / 2 (half the energy in +f, half in -f), so the rule
 *     reads "at least 40% of the block's energy is at f"; and
 *   - E / N >= SIPCX_TONE_FLOOR (a mean square: a sine of peak amplitude
 *     125, about -45 dBm0 in G.711's scale where 0 dBm0 is a peak of
 *     22270), so silence and faint noise are never tones.
 *
 * What follows from the rule:
 *   - White noise puts about 2/N of its energy at any f: never a tone.
 *   - Two tones at equal level put 50% each at their frequencies: both
 *     are heard (440 + 1000 Hz, 350 + 440 Hz dial tone, DTMF pairs). Three
 *     at equal level (33% each) are not, nor a tone under louder speech.
 *   - The resolution is about rate / N Hz (50 Hz for 160 samples at 8 kHz):
 *     a tone that far from f counts as f. Ask for frequencies at least
 *     2 * rate / N apart to tell them apart.
 *   - Blocks are not aligned with the tone: a tone of D ms is present in
 *     at least floor(D / block_ms) - 1 whole blocks.
 */

#define SIPCX_TONE_MAX 8        /**< frequencies per detector */
#define SIPCX_TONE_FRACTION 0.4 /**< share of the block's energy at f */
#define SIPCX_TONE_FLOOR 7800.0 /**< minimum mean square of a block */

/** A tone detector. All fields are private: use the functions below. */
struct sipcx_tone_detect {
	uint32_t rate;
	unsigned block;
	size_t nhz;
	unsigned hz[SIPCX_TONE_MAX];
	double coef[SIPCX_TONE_MAX];
	double s1[SIPCX_TONE_MAX], s2[SIPCX_TONE_MAX];
	double energy;
	unsigned fill;
	uint64_t blocks;
	uint64_t present[SIPCX_TONE_MAX];
	uint64_t run[SIPCX_TONE_MAX];
	uint64_t longest[SIPCX_TONE_MAX];
};

/** What the detector saw of one frequency. */
struct sipcx_tone_counts {
	uint64_t blocks;  /**< complete blocks fed */
	uint64_t present; /**< blocks where the tone was present */
	uint64_t longest; /**< longest run of consecutive present blocks */
	uint64_t run;     /**< present blocks since the last absent one */
};

/**
 * Set up d (caller-owned, no allocation; no free needed) to look for nhz
 * frequencies (1..SIPCX_TONE_MAX, each 1..rate/2 - 1 Hz, distinct) in
 * blocks of block samples (16..rate) of a rate Hz signal. Returns 0 or
 * -EINVAL (d untouched).
 */
SIPCX_API int sipcx_tone_detect_init(struct sipcx_tone_detect *d, const unsigned *hz, size_t nhz,
                                     uint32_t rate, unsigned block);

/**
 * Feed n samples (pcm may be NULL only with n 0). Samples are kept across
 * calls until a block is complete; each complete block is judged by the
 * rule above. Returns the number of blocks completed by this call, or
 * -EINVAL.
 */
SIPCX_API int sipcx_tone_detect_feed(struct sipcx_tone_detect *d, const int16_t *pcm, size_t n);

/**
 * True when hz (one of the frequencies given to init) was present in a run
 * of consecutive blocks lasting at least min_ms. False for a frequency
 * not asked for, or NULL.
 */
SIPCX_API bool sipcx_tone_detect_heard(const struct sipcx_tone_detect *d, unsigned hz,
                                       unsigned min_ms);

/** The counts for hz. Returns 0, -ENOENT (hz not asked for) or -EINVAL (NULL). */
SIPCX_API int sipcx_tone_detect_counts(const struct sipcx_tone_detect *d, unsigned hz,
                                       struct sipcx_tone_counts *out);

#ifdef __cplusplus
}
#endif
#endif
