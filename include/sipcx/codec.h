/* sipcx codec: the audio codecs of a media session, G.711, G.722 and Opus, to and from 8 kHz PCM (RFC 3551 4.5, RFC 7587). */
#ifndef SIPCX_CODEC_H
#define SIPCX_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <sipcx/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What a session plays, records, generates and listens to is 16-bit mono PCM
 * at 8 kHz (SIPCX_CODEC_PCM_RATE), whatever the codec on the wire; each codec
 * converts on its own side: G.722 in its 8 kHz mode (ITU-T G.722 with the
 * lower sub-band only: a valid wideband stream with nothing above 4 kHz, and
 * of a received one the 0-4 kHz band), Opus with its encoder and decoder at
 * an 8 kHz API rate (libopus resamples; RTP timestamps stay at 48 kHz). The
 * RTP timestamp advances `clock` per second, which is not the codec's own
 * audio rate for G.722 (8000 against 16000: RFC 3551 4.5.2) nor for Opus
 * (48000 whatever the audio bandwidth: RFC 7587 4.1).
 */

#define SIPCX_CODEC_PCM_RATE 8000u /**< the rate of the PCM on our side of every codec */
/** Room for up to 40 ms of any codec here (G.711, G.722: 8 bytes a ms; Opus fewer). */
#define SIPCX_CODEC_MAX_PAYLOAD 400

/** Opus as we offer it (RFC 7587): its dynamic payload type and our a=fmtp. */
#define SIPCX_CODEC_OPUS_PT 111
#define SIPCX_CODEC_OPUS_FMTP "minptime=10;useinbandfec=1"

/** A codec the media layer can run, as it appears in SDP. */
struct sipcx_codec_desc {
	const char *name;  /**< encoding name of a=rtpmap: "PCMU", "PCMA", "G722", "opus" */
	int pt;            /**< static payload type, or the dynamic one we offer (opus: 111) */
	uint32_t clock;    /**< RTP clock rate of a=rtpmap (G.722: 8000; opus: 48000) */
	uint32_t rate;     /**< the codec's own audio rate (G.722: 16000; opus: 48000) */
	unsigned channels; /**< channels of a=rtpmap (opus: always 2, RFC 7587 7) */
	const char *fmtp;  /**< our a=fmtp parameters, or NULL */
};

/**
 * The codec called name (ASCII case-insensitive: "pcmu", "PCMA", "g722",
 * "OPUS"), or NULL when the media layer has none of that name. The
 * description is static.
 */
SIPCX_API const struct sipcx_codec_desc *sipcx_codec_find(const char *name);

/** The i-th codec we can run (in our default preference order), NULL past the last. */
SIPCX_API const struct sipcx_codec_desc *sipcx_codec_at(size_t i);

/** What a codec state is made for: sipcx_codec_new()'s dirs. */
enum {
	SIPCX_CODEC_ENCODE = 1,
	SIPCX_CODEC_DECODE = 2,
};

/** An encoder and/or decoder of one stream (opaque; one thread at a time). */
struct sipcx_codec;

/**
 * Make the state of codec name for dirs (SIPCX_CODEC_ENCODE, _DECODE or
 * both: an Opus encoder takes about 43 KB, its decoder 18 KB, the others a
 * few hundred bytes). *out is untouched on failure. Returns 0, -EINVAL (NULL
 * out, no dirs), SIPCX_ENOCODEC (no such codec), -ENOMEM.
 */
SIPCX_API int sipcx_codec_new(struct sipcx_codec **out, const char *name, unsigned dirs);

/** Free it; NULL is a no-op. */
SIPCX_API void sipcx_codec_free(struct sipcx_codec *c);

/** Its description (never NULL for a codec made by sipcx_codec_new()). */
SIPCX_API const struct sipcx_codec_desc *sipcx_codec_desc_of(const struct sipcx_codec *c);

/**
 * Encode n samples at 8 kHz (one packet's worth: n * 1000 / 8000 ms; Opus
 * takes 2.5, 5, 10, 20, 40 or 60 ms) into at most size bytes at out.
 * Returns the payload's length, -EINVAL (NULL, not made to encode, an n the
 * codec cannot frame), -EMSGSIZE (size too small), or -EIO (the codec
 * failed).
 */
SIPCX_API int sipcx_codec_encode(struct sipcx_codec *c, const int16_t *pcm, size_t n, uint8_t *out,
                                 size_t size);

/**
 * Decode one RTP payload into at most max samples at 8 kHz at pcm. Returns
 * the number of samples, -EINVAL (NULL, not made to decode), -EMSGSIZE (max
 * too small for the payload's duration), -EBADMSG (not a valid payload).
 */
SIPCX_API int sipcx_codec_decode(struct sipcx_codec *c, const uint8_t *payload, size_t len,
                                 int16_t *pcm, size_t max);

/**
 * Fill n samples (8 kHz) of a packet that was lost just before payload (the
 * next packet that came): Opus recovers them from the next packet's in-band
 * FEC when it carries some (RFC 7587 3.1.2) and else conceals them; the
 * other codecs write silence. payload may be NULL (no next packet yet).
 * Returns n, or -EINVAL.
 */
SIPCX_API int sipcx_codec_conceal(struct sipcx_codec *c, const uint8_t *payload, size_t len,
                                  int16_t *pcm, size_t n);

/**
 * Timestamp units of n samples at 8 kHz for a codec of RTP clock rate clock
 * (n for G.711 and G.722, 6 n for Opus); and the reverse.
 */
static inline uint32_t sipcx_codec_ts_of(uint32_t clock, uint64_t n)
{
	return (uint32_t)(n * clock / SIPCX_CODEC_PCM_RATE);
}
static inline uint64_t sipcx_codec_samples_of(uint32_t clock, uint32_t ts)
{
	return clock ? (uint64_t)ts * SIPCX_CODEC_PCM_RATE / clock : ts;
}

#ifdef __cplusplus
}
#endif
#endif
