/* media/g711.c: ITU-T G.711 A-law and mu-law companding, after the Sun Microsystems / CCITT reference code. */
#include <sipcx/g711.h>

#define SIGN_BIT 0x80
#define QUANT_MASK 0x0f
#define SEG_SHIFT 4
#define SEG_MASK 0x70
#define ULAW_BIAS 0x84 /* 132: shifts every mu-law segment end to a power of two */
#define ULAW_CLIP 8159 /* largest 14-bit magnitude before the bias */

/*
 * The segment of a magnitude: the reference code searches a table of the eight segments'
 * upper ends (2^first - 1, doubling: first = 5 for 13-bit A-law, 6 for 14-bit mu-law);
 * the same answer is how many bits the magnitude has beyond first (8: past the last).
 */
static inline int segment(int val, int first)
{
	int bits = val > 0 ? 32 - __builtin_clz((unsigned)val) : 0;
	int seg = bits - first;
	return seg < 0 ? 0 : seg > 8 ? 8 : seg;
}

uint8_t sipcx_g711_alaw_encode(int16_t pcm)
{
	int val = pcm >> 3; /* A-law works on 13 bits */
	int mask;
	if (val >= 0) {
		mask =
		    0xd5; /* sign bit set, and the even bits inverted (G.711 transmission rule) */
	} else {
		mask = 0x55;
		val = -val - 1; /* one's complement magnitude: -1 and 0 share the smallest step */
	}
	int seg = segment(val, 5);
	if (seg >= 8)
		return (uint8_t)(0x7f ^ mask);
	int aval = seg << SEG_SHIFT;
	aval |= (seg < 2 ? val >> 1 : val >> seg) & QUANT_MASK;
	return (uint8_t)(aval ^ mask);
}

int16_t sipcx_g711_alaw_decode(uint8_t code)
{
	int a = code ^ 0x55;
	int t = (a & QUANT_MASK) << 4;
	int seg = (a & SEG_MASK) >> SEG_SHIFT;
	/* decode to the middle of the quantisation step */
	if (seg == 0)
		t += 8;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((a & SIGN_BIT) ? t : -t);
}

uint8_t sipcx_g711_ulaw_encode(int16_t pcm)
{
	int val = pcm >> 2; /* mu-law works on 14 bits */
	int mask;
	if (val < 0) {
		val = -val;
		mask = 0x7f;
	} else {
		mask = 0xff; /* codes are sent inverted: 0xff is +0 */
	}
	if (val > ULAW_CLIP)
		val = ULAW_CLIP;
	val += ULAW_BIAS >> 2;
	int seg = segment(val, 6);
	if (seg >= 8)
		return (uint8_t)(0x7f ^ mask);
	int uval = (seg << 4) | ((val >> (seg + 1)) & QUANT_MASK);
	return (uint8_t)(uval ^ mask);
}

int16_t sipcx_g711_ulaw_decode(uint8_t code)
{
	int u = ~code & 0xff;
	int t = ((u & QUANT_MASK) << 3) + ULAW_BIAS;
	t <<= (u & SEG_MASK) >> SEG_SHIFT;
	return (int16_t)((u & SIGN_BIT) ? ULAW_BIAS - t : t - ULAW_BIAS);
}

void sipcx_g711_ulaw_encode_buf(uint8_t *out, const int16_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = sipcx_g711_ulaw_encode(in[i]);
}

void sipcx_g711_ulaw_decode_buf(int16_t *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = sipcx_g711_ulaw_decode(in[i]);
}

void sipcx_g711_alaw_encode_buf(uint8_t *out, const int16_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = sipcx_g711_alaw_encode(in[i]);
}

void sipcx_g711_alaw_decode_buf(int16_t *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = sipcx_g711_alaw_decode(in[i]);
}
