/* media/codec.c: the codec table of the media layer: G.711 (RFC 3551 4.5.14), G.722 through spandsp (RFC 3551 4.5.2), Opus through libopus (RFC 7587), each to and from 8 kHz PCM. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <opus.h>
#include <spandsp/telephony.h>
#include <spandsp/g722.h>
#include <spandsp/private/g722.h>

#include <sipcx/codec.h>
#include <sipcx/g711.h>

#include "base/base.h"

#define OPUS_MAX_FRAME 480 /* 60 ms at 8 kHz: the longest Opus frame (RFC 6716 2.1.4) */

/*
 * A codec: each direction's state is allocated (enc_size, dec_size bytes)
 * and set up (enc_init, dec_init) by sipcx_codec_new(), then handed to
 * encode and decode as st; a stateless codec has no size functions and
 * gets st NULL.
 */
struct codec_impl {
	struct sipcx_codec_desc d;
	size_t (*enc_size)(void);
	size_t (*dec_size)(void);
	int (*enc_init)(void *st);
	int (*dec_init)(void *st);
	int (*encode)(void *st, const int16_t *pcm, size_t n, uint8_t *out, size_t size);
	int (*decode)(void *st, const uint8_t *in, size_t len, int16_t *pcm, size_t max);
};

struct sipcx_codec {
	const struct codec_impl *impl;
	unsigned dirs;   /* SIPCX_CODEC_ENCODE, _DECODE: the directions set up */
	void *enc, *dec; /* their states (NULL when stateless) */
};

/* ----------------------------------------------------------------- G.711 -- */

/* Stateless: one byte a sample each way, one function pair per law. */
static int ulaw_encode(void *st, const int16_t *pcm, size_t n, uint8_t *out, size_t size)
{
	(void)st;
	if (n > size)
		return -EMSGSIZE;
	sipcx_g711_ulaw_encode_buf(out, pcm, n);
	return (int)n;
}

static int ulaw_decode(void *st, const uint8_t *in, size_t len, int16_t *pcm, size_t max)
{
	(void)st;
	if (len > max)
		return -EMSGSIZE;
	sipcx_g711_ulaw_decode_buf(pcm, in, len);
	return (int)len;
}

static int alaw_encode(void *st, const int16_t *pcm, size_t n, uint8_t *out, size_t size)
{
	(void)st;
	if (n > size)
		return -EMSGSIZE;
	sipcx_g711_alaw_encode_buf(out, pcm, n);
	return (int)n;
}

static int alaw_decode(void *st, const uint8_t *in, size_t len, int16_t *pcm, size_t max)
{
	(void)st;
	if (len > max)
		return -EMSGSIZE;
	sipcx_g711_alaw_decode_buf(pcm, in, len);
	return (int)len;
}

/* ----------------------------------------------------------------- G.722 -- */

/*
 * spandsp's 8 kHz mode: the encoder takes 8 kHz samples as the lower
 * sub-band (the upper one silent), the decoder gives the lower sub-band
 * only, each byte one 8 kHz sample; at 64 kbit/s.
 */
static size_t g722_enc_size(void)
{
	return sizeof(g722_encode_state_t);
}

static size_t g722_dec_size(void)
{
	return sizeof(g722_decode_state_t);
}

static int g722_enc_init(void *st)
{
	return g722_encode_init(st, 64000, G722_SAMPLE_RATE_8000) ? 0 : -EINVAL;
}

static int g722_dec_init(void *st)
{
	return g722_decode_init(st, 64000, G722_SAMPLE_RATE_8000) ? 0 : -EINVAL;
}

static int g722_enc(void *st, const int16_t *pcm, size_t n, uint8_t *out, size_t size)
{
	if (n > size || n > 65536)
		return -EMSGSIZE;
	return g722_encode(st, out, pcm, (int)n);
}

static int g722_dec(void *st, const uint8_t *in, size_t len, int16_t *pcm, size_t max)
{
	if (len > max)
		return -EMSGSIZE;
	return g722_decode(st, pcm, in, (int)len);
}

/* ------------------------------------------------------------------ Opus -- */

static size_t opus_enc_size(void)
{
	return (size_t)opus_encoder_get_size(1);
}

static size_t opus_dec_size(void)
{
	return (size_t)opus_decoder_get_size(1);
}

static int opus_enc_init(void *st)
{
	/* mono at 8 kHz: all our side has; the /2 of the rtpmap is only the RTP format (RFC 7587 7) */
	if (opus_encoder_init(st, SIPCX_CODEC_PCM_RATE, 1, OPUS_APPLICATION_VOIP) != OPUS_OK)
		return -EINVAL;
	opus_encoder_ctl((OpusEncoder *)st, OPUS_SET_COMPLEXITY(5));
	return 0;
}

static int opus_dec_init(void *st)
{
	/* a stereo stream is mixed down to mono by the decoder */
	return opus_decoder_init(st, SIPCX_CODEC_PCM_RATE, 1) == OPUS_OK ? 0 : -EINVAL;
}

static int opus_enc(void *st, const int16_t *pcm, size_t n, uint8_t *out, size_t size)
{
	/* RFC 6716 2.1.4: 2.5, 5, 10, 20, 40 or 60 ms */
	if (n != 20 && n != 40 && n != 80 && n != 160 && n != 320 && n != 480)
		return -EINVAL;
	int r = opus_encode(st, pcm, (int)n, out, (opus_int32)(size > 4000 ? 4000 : size));
	if (r == OPUS_BUFFER_TOO_SMALL)
		return -EMSGSIZE;
	return r < 0 ? -EIO : r;
}

static int opus_dec(void *st, const uint8_t *in, size_t len, int16_t *pcm, size_t max)
{
	if (len == 0 || len > 1275 * 6)
		return -EBADMSG;
	int n = opus_decoder_get_nb_samples(st, in, (opus_int32)len);
	if (n < 0)
		return -EBADMSG;
	if ((size_t)n > max)
		return -EMSGSIZE;
	int r = opus_decode(st, in, (opus_int32)len, pcm, n, 0);
	return r < 0 ? -EBADMSG : r;
}

/* ----------------------------------------------------------------- table -- */

static const struct codec_impl codecs[] = {
	{ { "PCMU", 0, 8000, 8000, 1, NULL }, NULL, NULL, NULL, NULL, ulaw_encode, ulaw_decode },
	{ { "PCMA", 8, 8000, 8000, 1, NULL }, NULL, NULL, NULL, NULL, alaw_encode, alaw_decode },
	{ { "G722", 9, 8000, 16000, 1, NULL },
	  g722_enc_size,
	  g722_dec_size,
	  g722_enc_init,
	  g722_dec_init,
	  g722_enc,
	  g722_dec },
	{ { "opus", SIPCX_CODEC_OPUS_PT, 48000, 48000, 2, SIPCX_CODEC_OPUS_FMTP },
	  opus_enc_size,
	  opus_dec_size,
	  opus_enc_init,
	  opus_dec_init,
	  opus_enc,
	  opus_dec },
};

static const struct codec_impl *impl_of(const char *name)
{
	for (size_t i = 0; name && i < SIPCX_ARRAY_SIZE(codecs); i++)
		if (!strcasecmp(codecs[i].d.name, name))
			return &codecs[i];
	return NULL;
}

const struct sipcx_codec_desc *sipcx_codec_find(const char *name)
{
	const struct codec_impl *im = impl_of(name);
	return im ? &im->d : NULL;
}

const struct sipcx_codec_desc *sipcx_codec_at(size_t i)
{
	return i < SIPCX_ARRAY_SIZE(codecs) ? &codecs[i].d : NULL;
}

/* One direction's state, allocated and set up; NULL for a stateless codec. */
static int state_new(void **st, size_t (*size)(void), int (*init)(void *))
{
	*st = NULL;
	if (!size)
		return 0;
	void *p = sipcx_calloc(1, size());
	if (!p)
		return -ENOMEM;
	int r = init(p);
	if (r) {
		sipcx_free(p);
		return r;
	}
	*st = p;
	return 0;
}

int sipcx_codec_new(struct sipcx_codec **out, const char *name, unsigned dirs)
{
	if (!out || !(dirs & (SIPCX_CODEC_ENCODE | SIPCX_CODEC_DECODE)))
		return -EINVAL;
	const struct codec_impl *im = impl_of(name);
	if (!im)
		return SIPCX_ENOCODEC;
	struct sipcx_codec *c = sipcx_calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->impl = im;
	c->dirs = dirs & (SIPCX_CODEC_ENCODE | SIPCX_CODEC_DECODE);
	int r = 0;
	if (dirs & SIPCX_CODEC_ENCODE)
		r = state_new(&c->enc, im->enc_size, im->enc_init);
	if (!r && (dirs & SIPCX_CODEC_DECODE))
		r = state_new(&c->dec, im->dec_size, im->dec_init);
	if (r) {
		sipcx_codec_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void sipcx_codec_free(struct sipcx_codec *c)
{
	if (!c)
		return;
	sipcx_free(c->enc);
	sipcx_free(c->dec);
	sipcx_free(c);
}

const struct sipcx_codec_desc *sipcx_codec_desc_of(const struct sipcx_codec *c)
{
	return c ? &c->impl->d : NULL;
}

int sipcx_codec_encode(struct sipcx_codec *c, const int16_t *pcm, size_t n, uint8_t *out,
                       size_t size)
{
	if (!c || !(c->dirs & SIPCX_CODEC_ENCODE) || (n && (!pcm || !out)))
		return -EINVAL;
	return c->impl->encode(c->enc, pcm, n, out, size);
}

int sipcx_codec_decode(struct sipcx_codec *c, const uint8_t *payload, size_t len, int16_t *pcm,
                       size_t max)
{
	if (!c || !(c->dirs & SIPCX_CODEC_DECODE) || (len && !payload) || !pcm)
		return -EINVAL;
	return c->impl->decode(c->dec, payload, len, pcm, max);
}

int sipcx_codec_conceal(struct sipcx_codec *c, const uint8_t *payload, size_t len, int16_t *pcm,
                        size_t n)
{
	if (!c || !(c->dirs & SIPCX_CODEC_DECODE) || !pcm || n > 65536)
		return -EINVAL;
	if (c->impl->decode == opus_dec && n <= OPUS_MAX_FRAME && n % 20 == 0) {
		/* RFC 7587 3.1.2: the previous frame from the next packet's FEC, else PLC */
		int r = opus_decode(c->dec, payload && len ? payload : NULL, (opus_int32)len, pcm,
		                    (int)n, payload && len ? 1 : 0);
		if (r == (int)n)
			return r;
	}
	memset(pcm, 0, n * sizeof(*pcm));
	return (int)n;
}
