/* media/audio.c: a session's audio through the negotiated codec: what the built-in handlers send, what is heard, recorded and detected (RFC 3551 4.5, RFC 7587). */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include <sipcx/codec.h>
#include <sipcx/dsp.h>
#include <sipcx/wav.h>

#include "base/base.h"
#include "media/media.h"

#define PCM_MAX 1920 /* 240 ms at 8 kHz: more than the longest packet we make or decode */

int sipcx__media_codec_set(struct sipcx_media *m, const char *name, int pt)
{
	const struct sipcx_codec_desc *d = NULL;
	if (name)
		d = sipcx_codec_find(name);
	else if (pt == 0 || pt == 8 || pt == 9) /* RFC 3551 6: the static ones we run */
		d = sipcx_codec_find(pt == 0 ? "PCMU" : pt == 8 ? "PCMA" : "G722");
	if (!d && (m->handler == SIPCX_MEDIA_SILENCE || m->handler == SIPCX_MEDIA_TONE ||
	           m->handler == SIPCX_MEDIA_PLAY))
		return SIPCX_ENOCODEC;
	if (d != m->codec) {
		/* the states are made again, for the new codec, when first needed */
		sipcx__media_codec_free(m);
		m->codec = d;
	}
	return 0;
}

unsigned sipcx__media_codec_ptime(const struct sipcx_media *m, unsigned ptime)
{
	/* RFC 4566 6: a=ptime is a wish; an Opus packet is one frame of 2.5 to 60 ms here */
	if (m->codec && !strcmp(m->codec->name, "opus") && ptime != 5 && ptime != 10 &&
	    ptime != 20 && ptime != 40 && ptime != 60)
		return 20;
	return ptime;
}

void sipcx__media_codec_free(struct sipcx_media *m)
{
	sipcx_codec_free(m->enc);
	sipcx_codec_free(m->dec);
	m->enc = m->dec = NULL;
	sipcx_free(m->tone_frame);
	m->tone_frame = NULL;
}

/*
 * The tone in G.711, a whole number of its periods a packet (1000 Hz in 20 ms: 20): each packet
 * starts at the phase the last one did, and G.711 has no state, so each packet is the first
 * one again. Kept after the first is encoded; a sine at another frequency, a stateful codec or
 * a packet of another size makes it anew or not at all.
 */
static bool tone_repeats(const struct sipcx_media *m, size_t n)
{
	if (!m->codec || (strcasecmp(m->codec->name, "PCMU") && strcasecmp(m->codec->name, "PCMA")))
		return false;
	double periods = m->tone.step * (double)n / 6.283185307179586;
	return fabs(periods - nearbyint(periods)) < 1e-9 && fabs(m->tone.phase) < 1e-9;
}

static int tone_out(struct sipcx_media *m, struct sipcx_codec *enc, int16_t *pcm, size_t n,
                    uint8_t *payload, size_t size)
{
	if (m->tone_frame && m->tone_codec == m->codec && m->tone_frame_len == n && n <= size) {
		memcpy(payload, m->tone_frame, n);
		return (int)n;
	}
	bool keep = tone_repeats(m, n);
	sipcx_media_tone_pcm(&m->tone, pcm, n);
	int r = sipcx_codec_encode(enc, pcm, n, payload, size);
	if (keep && r == (int)n) { /* n <= PCM_MAX: a uint16_t holds it */
		uint8_t *f = sipcx_realloc(m->tone_frame, n);
		if (f) { /* without memory the next packet is encoded again */
			memcpy(f, payload, n);
			m->tone_frame = f;
			m->tone_frame_len = (uint16_t)n;
			m->tone_codec = m->codec;
			m->tone.phase = 0; /* a whole number of periods: exactly where it began */
		}
	}
	return r;
}

/* The encoder or decoder of the session's codec, made on first use; NULL when it cannot be. */
static struct sipcx_codec *state(struct sipcx_media *m, struct sipcx_codec **c, unsigned dir)
{
	if (!*c && m->codec && sipcx_codec_new(c, m->codec->name, dir) != 0)
		*c = NULL;
	return *c;
}

int sipcx__media_audio_out(struct sipcx_media *m, uint8_t *payload, size_t size)
{
	int16_t pcm[PCM_MAX];
	size_t n = (size_t)SIPCX_CODEC_PCM_RATE * m->ptime_ms / 1000u;
	struct sipcx_codec *enc = state(m, &m->enc, SIPCX_CODEC_ENCODE);
	if (!enc || n > PCM_MAX)
		return -EINVAL;
	switch (m->handler) {
	case SIPCX_MEDIA_TONE:
		return tone_out(m, enc, pcm, n, payload, size);
	case SIPCX_MEDIA_PLAY: {
		size_t got = sipcx_wav_read(m->play, pcm, n);
		if (got < n && m->play_loop) {
			sipcx_wav_rewind(m->play);
			got += sipcx_wav_read(m->play, pcm + got, n - got);
		}
		if (got < n)
			memset(pcm + got, 0, (n - got) * sizeof(pcm[0])); /* the end: silence */
		break;
	}
	default:
		memset(pcm, 0, n * sizeof(pcm[0]));
		break;
	}
	return sipcx_codec_encode(enc, pcm, n, payload, size);
}

/* Write the time from the recording's end to a packet at ts: what the codec makes of a loss. */
static void record_gap(struct sipcx_media *m, struct sipcx_codec *dec, uint32_t ts,
                       const struct sipcx_rtp_pkt *pkt)
{
	uint32_t ahead = ts - m->rec_next_ts;
	if (ahead == 0 || ahead > 2u * m->clock)
		return; /* nothing lost, or a new start */
	size_t gap = (size_t)sipcx_codec_samples_of(m->clock, ahead);
	int16_t pcm[PCM_MAX];
	/* one lost packet: the next one may carry it (Opus FEC); a longer gap is silence */
	if (gap <= PCM_MAX &&
	    sipcx_codec_conceal(dec, pkt->payload, pkt->payload_len, pcm, gap) > 0) {
		sipcx_wav_write(m->record, pcm, gap);
		return;
	}
	memset(pcm, 0, sizeof(pcm));
	while (gap) {
		size_t k = gap < PCM_MAX ? gap : PCM_MAX;
		sipcx_wav_write(m->record, pcm, k);
		gap -= k;
	}
}

/*
 * The peer's audio, decoded: into the recording with the time of lost or late
 * packets kept (by the RTP timestamps; at most 2 s at once, a jump beyond is a
 * new start), and into the tone detector.
 */
void sipcx__media_audio_in(struct sipcx_media *m, const struct sipcx_rtp_pkt *pkt)
{
	int16_t pcm[PCM_MAX];
	struct sipcx_codec *dec = state(m, &m->dec, SIPCX_CODEC_DECODE);
	if (!dec)
		return;
	size_t len = pkt->payload_len;
	if (m->codec->clock == SIPCX_CODEC_PCM_RATE && len > PCM_MAX)
		len =
		    PCM_MAX; /* G.711, G.722: a sample a byte; the rest of a huge packet is lost */
	int n = sipcx_codec_decode(dec, pkt->payload, len, pcm, PCM_MAX);
	if (n <= 0)
		return;
	if (m->detect)
		sipcx_tone_detect_feed(m->detect, pcm, (size_t)n);
	if (!m->record)
		return;
	if (m->rec_started && pkt->ts - m->rec_next_ts >= 0x80000000u)
		return; /* late or repeated: its time is written already */
	if (m->rec_started)
		record_gap(m, dec, pkt->ts, pkt);
	sipcx_wav_write(m->record, pcm, (size_t)n);
	m->rec_started = true;
	m->rec_next_ts = pkt->ts + sipcx_codec_ts_of(m->clock, (uint64_t)n);
}
