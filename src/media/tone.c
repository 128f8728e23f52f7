/* media/tone.c: sine tone generator for test streams, G.711-encoded (ITU-T G.711, RFC 3551 4.5.14). */
#include <errno.h>
#include <math.h>

#include <sipcx/g711.h>

#include "media/media.h"

#define TWO_PI 6.283185307179586

int sipcx_media_tone_init(struct sipcx_media_tone *t, unsigned hz, unsigned amp, uint32_t rate)
{
	if (!t || rate == 0 || hz == 0 || hz > rate / 2 || amp > 32767)
		return -EINVAL;
	t->phase = 0;
	t->step = TWO_PI * hz / rate;
	t->amp = amp;
	return 0;
}

void sipcx_media_tone_pcm(struct sipcx_media_tone *t, int16_t *out, size_t n)
{
	/* sin() once a buffer, not once a sample: from the exact value at the buffer's start the
	 * next samples come by rotating (cos, sin) by the step, a rounding error of about
	 * n * 1e-16 at the end of a buffer (1920 samples at most), far under one PCM unit */
	double c = cos(t->phase), s = sin(t->phase);
	double rc = cos(t->step), rs = sin(t->step);
	for (size_t i = 0; i < n; i++) {
		double v = t->amp * s; /* |v| <= 32767: rounded half away from zero */
		out[i] = (int16_t)(v < 0 ? v - 0.5 : v + 0.5);
		double c1 = c * rc - s * rs;
		s = s * rc + c * rs;
		c = c1;
	}
	/* keep the phase small so the next buffer starts exact over hours */
	t->phase = fmod(t->phase + t->step * (double)n, TWO_PI);
}

void sipcx_media_tone_g711(struct sipcx_media_tone *t, int pt, uint8_t *out, size_t n)
{
	int16_t pcm[1920];
	if (n > 1920)
		n = 1920;
	sipcx_media_tone_pcm(t, pcm, n);
	if (pt == 8)
		sipcx_g711_alaw_encode_buf(out, pcm, n);
	else
		sipcx_g711_ulaw_encode_buf(out, pcm, n);
}
