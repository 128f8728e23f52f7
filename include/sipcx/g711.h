/* sipcx g711: ITU-T G.711 mu-law (PCMU) and A-law (PCMA) encode and decode of 16-bit linear PCM. */
#ifndef SIPCX_G711_H
#define SIPCX_G711_H

#include <stddef.h>
#include <stdint.h>

#include <sipcx/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Pure functions on samples: no state, no allocation. Linear samples are
 * signed 16-bit; mu-law uses the top 14 bits and A-law the top 13, as in the
 * classic Sun/CCITT reference code, so decode(encode(x)) is x rounded to the
 * segment's step. encode(decode(c)) == c for every A-law code and for every
 * mu-law code except 0x7F, the "negative zero", which decodes to 0 like 0xFF
 * and so encodes back as 0xFF.
 */

/** mu-law code of a linear sample (magnitudes above 32635 clip to the top segment). */
SIPCX_API uint8_t sipcx_g711_ulaw_encode(int16_t pcm);
/** Linear sample of a mu-law code: -32124..32124. */
SIPCX_API int16_t sipcx_g711_ulaw_decode(uint8_t code);
/** A-law code of a linear sample (even bits inverted, as sent on the wire). */
SIPCX_API uint8_t sipcx_g711_alaw_encode(int16_t pcm);
/** Linear sample of an A-law code: -32256..32256. */
SIPCX_API int16_t sipcx_g711_alaw_decode(uint8_t code);

/** Encode n samples from in to n codes in out (may not overlap). NULL only with n == 0. */
SIPCX_API void sipcx_g711_ulaw_encode_buf(uint8_t *out, const int16_t *in, size_t n);
/** Decode n codes from in to n samples in out (may not overlap). */
SIPCX_API void sipcx_g711_ulaw_decode_buf(int16_t *out, const uint8_t *in, size_t n);
SIPCX_API void sipcx_g711_alaw_encode_buf(uint8_t *out, const int16_t *in, size_t n);
SIPCX_API void sipcx_g711_alaw_decode_buf(int16_t *out, const uint8_t *in, size_t n);

#ifdef __cplusplus
}
#endif
#endif
