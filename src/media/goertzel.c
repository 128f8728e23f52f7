/* media/goertzel.c: tone detection by the Goertzel algorithm (a single DFT term per frequency), block by block. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <sipcx/dsp.h>

#define TWO_PI 6.283185307179586

int sipcx_tone_detect_init(struct sipcx_tone_detect *d, const unsigned *hz, size_t nhz,
                           uint32_t rate, unsigned block)
{
	if (!d || !hz || nhz == 0 || nhz > SIPCX_TONE_MAX || rate == 0 || block < 16 ||
	    block > rate)
		return -EINVAL;
	for (size_t i = 0; i < nhz; i++) {
		if (hz[i] == 0 || hz[i] >= rate / 2)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (hz[j] == hz[i])
				return -EINVAL;
	}
	memset(d, 0, sizeof(*d));
	d->rate = rate;
	d->block = block;
	d->nhz = nhz;
	for (size_t i = 0; i < nhz; i++) {
		d->hz[i] = hz[i];
		/* the DFT at exactly hz, not at the nearest bin: k = N hz / rate need not be whole */
		d->coef[i] = 2.0 * cos(TWO_PI * hz[i] / rate);
	}
	return 0;
}

static void judge(struct sipcx_tone_detect *d)
{
	double n = d->block;
	bool loud = d->energy / n >= SIPCX_TONE_FLOOR;
	for (size_t i = 0; i < d->nhz; i++) {
		double s1 = d->s1[i], s2 = d->s2[i];
		/* |X(f)|^2 from the last two states of the recurrence */
		double power = s1 * s1 + s2 * s2 - d->coef[i] * s1 * s2;
		/* Parseval: a pure sine at f has |X(f)|^2 = E N / 2 */
		bool on = loud && power >= SIPCX_TONE_FRACTION * d->energy * n / 2;
		if (on) {
			d->present[i]++;
			if (++d->run[i] > d->longest[i])
				d->longest[i] = d->run[i];
		} else {
			d->run[i] = 0;
		}
		d->s1[i] = d->s2[i] = 0;
	}
	d->energy = 0;
	d->fill = 0;
	d->blocks++;
}

int sipcx_tone_detect_feed(struct sipcx_tone_detect *d, const int16_t *pcm, size_t n)
{
	if (!d || d->block == 0 || (!pcm && n))
		return -EINVAL;
	int done = 0;
	size_t k = 0;
	while (k < n) {
		/* up to the end of the block: each frequency's recurrence runs over the run of
		 * samples in registers, and the energy in one pass of its own */
		size_t run = d->block - d->fill;
		if (run > n - k)
			run = n - k;
		const int16_t *x = pcm + k;
		double e = 0;
		for (size_t j = 0; j < run; j++)
			e += (double)x[j] * x[j];
		d->energy += e;
		for (size_t i = 0; i < d->nhz; i++) {
			double c = d->coef[i], c2 = c * c - 1, s1 = d->s1[i], s2 = d->s2[i];
			size_t j = 0;
			/* two samples a step, both from the same two states: s[n+1] = x[n+1] + c x[n] +
			 * (c^2 - 1) s[n-1] - c s[n-2], so the recurrence's chain of dependent
			 * operations is half as long (the same values, to rounding) */
			for (; j + 1 < run; j += 2) {
				double a = x[j] + c * s1 - s2;
				double b = x[j + 1] + c * x[j] + c2 * s1 - c * s2;
				s2 = a;
				s1 = b;
			}
			for (; j < run; j++) {
				double s0 = x[j] + c * s1 - s2;
				s2 = s1;
				s1 = s0;
			}
			d->s1[i] = s1;
			d->s2[i] = s2;
		}
		k += run;
		d->fill += (unsigned)run;
		if (d->fill == d->block) {
			judge(d);
			if (done < INT32_MAX)
				done++;
		}
	}
	return done;
}

static int find(const struct sipcx_tone_detect *d, unsigned hz)
{
	for (size_t i = 0; i < d->nhz && i < SIPCX_TONE_MAX; i++)
		if (d->hz[i] == hz)
			return (int)i;
	return -1;
}

bool sipcx_tone_detect_heard(const struct sipcx_tone_detect *d, unsigned hz, unsigned min_ms)
{
	if (!d || d->rate == 0)
		return false;
	int i = find(d, hz);
	if (i < 0)
		return false;
	/* run length in ms, without rounding up: longest * block / rate >= min_ms / 1000 */
	return d->longest[i] > 0 && d->longest[i] * d->block * 1000 >= (uint64_t)min_ms * d->rate;
}

int sipcx_tone_detect_counts(const struct sipcx_tone_detect *d, unsigned hz,
                             struct sipcx_tone_counts *out)
{
	if (!d || !out)
		return -EINVAL;
	int i = find(d, hz);
	if (i < 0)
		return -ENOENT;
	out->blocks = d->blocks;
	out->present = d->present[i];
	out->longest = d->longest[i];
	out->run = d->run[i];
	return 0;
}
