/* Unit tests of the codec table (G.711, G.722, Opus at 8 kHz) and of its codecs in SDP offer/answer (RFC 3551, RFC 7587). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "testutil.h"

#include <sipcx/codec.h>
#include <sipcx/dsp.h>
#include <sipcx/media.h>
#include <sipcx/sdp.h>
#include <sipcx/embed.h>
#include <sipcx/wav.h>

static const char *const names[] = { "PCMU", "PCMA", "G722", "opus" };

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < 4; i++) {
		const struct sipcx_codec_desc *d = sipcx_codec_at(i);
		assert_non_null(d);
		assert_string_equal(d->name, names[i]);
		assert_ptr_equal(sipcx_codec_find(names[i]), d);
	}
	assert_null(sipcx_codec_at(4));
	assert_ptr_equal(sipcx_codec_find("g722"), sipcx_codec_find("G722"));
	assert_ptr_equal(sipcx_codec_find("OPUS"), sipcx_codec_find("opus"));
	assert_null(sipcx_codec_find("AMR"));
	assert_null(sipcx_codec_find(NULL));
	/* RFC 3551 4.5.2: G.722's RTP clock is 8000 though it samples at 16 kHz */
	const struct sipcx_codec_desc *g = sipcx_codec_find("G722");
	assert_int_equal(g->pt, 9);
	assert_int_equal(g->clock, 8000);
	assert_int_equal(g->rate, 16000);
	/* RFC 7587 7: opus/48000/2 whatever is sent */
	const struct sipcx_codec_desc *o = sipcx_codec_find("opus");
	assert_int_equal(o->clock, 48000);
	assert_int_equal(o->channels, 2);
	assert_true(o->pt >= 96 && o->pt <= 127);
	/* the SDP layer's answer list says the same */
	assert_string_equal(sipcx_sdp_answer_codecs[3].name, "opus");
	assert_string_equal(sipcx_sdp_answer_codecs[3].fmtp, o->fmtp);
	assert_int_equal(sipcx_sdp_answer_codecs[3].pt, o->pt);
	assert_int_equal(sipcx_sdp_answer_codecs[2].pt, 9);
	/* timestamps: 20 ms */
	assert_int_equal(sipcx_codec_ts_of(o->clock, 160), 960);
	assert_int_equal(sipcx_codec_ts_of(g->clock, 160), 160);
	assert_int_equal(sipcx_codec_samples_of(o->clock, 960), 160);
}

static void test_bad_args(void **state)
{
	(void)state;
	struct sipcx_codec *c = (struct sipcx_codec *)(uintptr_t)1;
	assert_int_equal(sipcx_codec_new(&c, "AMR", SIPCX_CODEC_ENCODE), SIPCX_ENOCODEC);
	assert_int_equal(sipcx_codec_new(&c, "opus", 0), -EINVAL);
	assert_int_equal(sipcx_codec_new(NULL, "opus", SIPCX_CODEC_ENCODE), -EINVAL);
	assert_ptr_equal(c, (struct sipcx_codec *)(uintptr_t)1); /* untouched */
	sipcx_codec_free(NULL);

	int16_t pcm[480] = { 0 };
	uint8_t out[400];
	assert_int_equal(sipcx_codec_new(&c, "opus", SIPCX_CODEC_ENCODE), 0);
	/* 30 ms is not an Opus frame (RFC 6716 2.1.4) */
	assert_int_equal(sipcx_codec_encode(c, pcm, 240, out, sizeof(out)), -EINVAL);
	assert_true(sipcx_codec_encode(c, pcm, 160, out, sizeof(out)) > 0);
	/* made to encode only */
	assert_int_equal(sipcx_codec_decode(c, out, 3, pcm, 480), -EINVAL);
	sipcx_codec_free(c);

	assert_int_equal(sipcx_codec_new(&c, "G722", SIPCX_CODEC_DECODE), 0);
	assert_int_equal(sipcx_codec_encode(c, pcm, 160, out, sizeof(out)), -EINVAL);
	assert_int_equal(sipcx_codec_decode(c, out, 160, pcm, 100), -EMSGSIZE);
	sipcx_codec_free(c);

	assert_int_equal(sipcx_codec_new(&c, "opus", SIPCX_CODEC_DECODE), 0);
	assert_int_equal(sipcx_codec_decode(c, out, 0, pcm, 480), -EBADMSG);
	sipcx_codec_free(c);

	/* G.711 has no state: the directions asked for still hold, each law its own */
	assert_int_equal(sipcx_codec_new(&c, "PCMU", SIPCX_CODEC_ENCODE), 0);
	assert_int_equal(sipcx_codec_encode(c, pcm, 2, out, sizeof(out)), 2);
	assert_int_equal(out[0], 0xff); /* mu-law 0 */
	assert_int_equal(sipcx_codec_encode(c, pcm, 2, out, 1), -EMSGSIZE);
	assert_int_equal(sipcx_codec_decode(c, out, 2, pcm, 480), -EINVAL);
	assert_int_equal(sipcx_codec_conceal(c, NULL, 0, pcm, 160), -EINVAL);
	sipcx_codec_free(c);
	assert_int_equal(sipcx_codec_new(&c, "PCMA", SIPCX_CODEC_DECODE), 0);
	assert_int_equal(sipcx_codec_encode(c, pcm, 2, out, sizeof(out)), -EINVAL);
	out[0] = 0xd5; /* A-law 0 (+8 on decoding) */
	assert_int_equal(sipcx_codec_decode(c, out, 1, pcm, 480), 1);
	assert_int_equal(pcm[0], 8);
	assert_int_equal(sipcx_codec_conceal(c, NULL, 0, pcm, 160), 160);
	sipcx_codec_free(c);
}

/*
 * Two seconds of a tone through a codec's encoder and a second state's
 * decoder, heard by the Goertzel detector at 8 kHz.
 */
static void round_trip(const char *name, unsigned hz, struct sipcx_tone_detect *d, size_t *bytes)
{
	struct sipcx_codec *enc = NULL, *dec = NULL;
	assert_int_equal(sipcx_codec_new(&enc, name, SIPCX_CODEC_ENCODE), 0);
	assert_int_equal(sipcx_codec_new(&dec, name, SIPCX_CODEC_DECODE), 0);
	struct sipcx_media_tone t;
	assert_int_equal(sipcx_media_tone_init(&t, hz, 8000, SIPCX_CODEC_PCM_RATE), 0);
	static const unsigned want[] = { 1000 };
	assert_int_equal(sipcx_tone_detect_init(d, want, 1, 8000, 160), 0);
	*bytes = 0;
	for (int i = 0; i < 100; i++) {
		int16_t pcm[160], back[480];
		uint8_t pl[SIPCX_CODEC_MAX_PAYLOAD];
		sipcx_media_tone_pcm(&t, pcm, 160);
		int n = sipcx_codec_encode(enc, pcm, 160, pl, sizeof(pl));
		assert_true(n > 0);
		*bytes += (size_t)n;
		int k = sipcx_codec_decode(dec, pl, (size_t)n, back, 480);
		assert_int_equal(k, 160);
		sipcx_tone_detect_feed(d, back, (size_t)k);
	}
	sipcx_codec_free(enc);
	sipcx_codec_free(dec);
}

static void test_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct sipcx_tone_detect d;
		size_t bytes;
		round_trip(names[i], 1000, &d, &bytes);
		/* a codec's start-up (Opus's look-ahead) may cost the first blocks */
		assert_true(sipcx_tone_detect_heard(&d, 1000, 1800));
		if (i < 3)
			assert_int_equal(bytes, 100 * 160); /* 64 kbit/s, a byte an 8 kHz sample */
		else
			assert_true(bytes < 100 * 160 / 2);
		round_trip(names[i], 700, &d, &bytes);
		assert_false(sipcx_tone_detect_heard(&d, 1000, 100));
	}
}

static void test_conceal(void **state)
{
	(void)state;
	struct sipcx_codec *enc = NULL, *dec = NULL;
	int16_t pcm[160], back[480];
	uint8_t pl[SIPCX_CODEC_MAX_PAYLOAD];
	/* G.722: silence in the gap */
	assert_int_equal(sipcx_codec_new(&dec, "G722", SIPCX_CODEC_DECODE), 0);
	memset(back, 0x55, sizeof(back));
	assert_int_equal(sipcx_codec_conceal(dec, NULL, 0, back, 160), 160);
	for (int i = 0; i < 160; i++)
		assert_int_equal(back[i], 0);
	sipcx_codec_free(dec);
	/* Opus: a lost frame from the next one (FEC or concealment): n samples, not silence */
	assert_int_equal(sipcx_codec_new(&enc, "opus", SIPCX_CODEC_ENCODE), 0);
	assert_int_equal(sipcx_codec_new(&dec, "opus", SIPCX_CODEC_DECODE), 0);
	struct sipcx_media_tone t;
	sipcx_media_tone_init(&t, 440, 8000, SIPCX_CODEC_PCM_RATE);
	int n = 0;
	for (int i = 0; i < 10; i++) {
		sipcx_media_tone_pcm(&t, pcm, 160);
		n = sipcx_codec_encode(enc, pcm, 160, pl, sizeof(pl));
		assert_true(n > 0);
		if (i < 8)
			assert_int_equal(sipcx_codec_decode(dec, pl, (size_t)n, back, 480), 160);
	}
	/* packet 8 lost, 9 came */
	assert_int_equal(sipcx_codec_conceal(dec, pl, (size_t)n, back, 160), 160);
	long energy = 0;
	for (int i = 0; i < 160; i++)
		energy += labs((long)back[i]);
	assert_true(energy > 0);
	assert_int_equal(sipcx_codec_decode(dec, pl, (size_t)n, back, 480), 160);
	sipcx_codec_free(enc);
	sipcx_codec_free(dec);
}

/* ------------------------------------------- a session's audio in opus -- */

static bool received(uv_loop_t *loop, struct sipcx_media *m, uint64_t n)
{
	uint64_t deadline = sipcx_now_us() + 5000000u;
	struct sipcx_media_stats st;
	for (;;) {
		sipcx_media_stats(m, &st);
		if (st.rx_packets >= n || sipcx_now_us() > deadline)
			return st.rx_packets >= n;
		uv_run(loop, UV_RUN_NOWAIT);
	}
}

/*
 * Opus packets (timestamps 960 apart) into a session that records and
 * listens: the recording keeps the stream's time at 8 kHz, a lost packet's
 * too (concealed, or silence for a longer gap), and the tone is heard.
 */
static void test_session_opus(void **state)
{
	(void)state;
	enum { PKTS = 50 };
	uv_loop_t loop;
	uv_loop_init(&loop);
	char path[] = "/tmp/sipcx-test-codec-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct sipcx_wav *rec = NULL;
	assert_int_equal(sipcx_wav_open_write(path, 8000, &rec), 0);
	struct sipcx_tone_detect det;
	static const unsigned hz[] = { 1000 };
	assert_int_equal(sipcx_tone_detect_init(&det, hz, 1, 8000, 160), 0);
	struct sipcx_media_opts ro = { .local_addr = "127.0.0.1",
		                       .pt = 111,
		                       .codec = "opus",
		                       .clock = 48000,
		                       .record = rec,
		                       .detect = &det,
		                       .rtcp_off = true },
	                        so = { .local_addr = "127.0.0.1", .pt = 111, .rtcp_off = true };
	struct sipcx_media *mr = NULL, *ms = NULL;
	assert_int_equal(sipcx_media_new_loop(&mr, &loop, &ro), 0);
	assert_int_equal(sipcx_media_new_loop(&ms, &loop, &so), 0);
	assert_int_equal(sipcx_media_set_remote(ms, "127.0.0.1", sipcx_media_port(mr), 0), 0);
	assert_int_equal(sipcx_media_start(mr), 0);

	struct sipcx_codec *enc = NULL;
	assert_int_equal(sipcx_codec_new(&enc, "opus", SIPCX_CODEC_ENCODE), 0);
	struct sipcx_media_tone t;
	sipcx_media_tone_init(&t, 1000, 8000, SIPCX_CODEC_PCM_RATE);
	uint32_t ts = 123456789u;
	unsigned sent = 0;
	for (unsigned i = 0; i < PKTS; i++, ts += 960) {
		int16_t pcm[160];
		uint8_t pl[SIPCX_CODEC_MAX_PAYLOAD];
		sipcx_media_tone_pcm(&t, pcm, 160);
		int n = sipcx_codec_encode(enc, pcm, 160, pl, sizeof(pl));
		assert_true(n > 0);
		if (i == 10 || (i >= 20 && i < 25))
			continue; /* lost: one packet, then five */
		assert_int_equal(sipcx_media_send(ms, ts, i == 0, pl, (size_t)n), 0);
		sent++;
		/* one at a time: in order, and no socket buffer in the way */
		assert_true(received(&loop, mr, sent));
	}
	sipcx_codec_free(enc);
	sipcx_media_free(ms);
	sipcx_media_free(mr);
	for (int i = 0; i < 100 && uv_loop_alive(&loop); i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(sipcx_wav_close_write(rec), 0);

	/* every packet's 20 ms at 8 kHz, the lost ones too */
	struct sipcx_wav *back = NULL;
	assert_int_equal(sipcx_wav_open_read(path, &back), 0);
	int16_t all[PKTS * 160 + 160];
	assert_int_equal(sipcx_wav_read(back, all, sizeof(all) / sizeof(all[0])), PKTS * 160);
	sipcx_wav_close(back);
	unlink(path);
	/* the one lost packet is concealed from its neighbours (not silence) */
	long sum = 0;
	for (unsigned k = 10 * 160; k < 11 * 160; k++)
		sum += labs((long)all[k]);
	assert_true(sum > 0);
	/* the five lost in a row are silence; 44 packets of tone are heard */
	for (unsigned k = 20 * 160; k < 25 * 160; k++)
		assert_int_equal(all[k], 0);
	assert_true(sipcx_tone_detect_heard(&det, 1000, 300));
	struct sipcx_tone_counts c;
	assert_int_equal(sipcx_tone_detect_counts(&det, 1000, &c), 0);
	assert_int_equal(c.blocks, PKTS - 6);
}

/* What a receiving session saw: timestamps and the steps between them. */
struct seen {
	unsigned n;
	uint32_t last_ts, step;
	bool steady;
};

static void on_rtp(struct sipcx_media *m, const struct sipcx_rtp_pkt *pkt, const uint8_t *data,
                   size_t len, const struct sockaddr *from, void *arg)
{
	(void)m, (void)data, (void)len, (void)from;
	struct seen *s = arg;
	if (s->n == 1)
		s->step = pkt->ts - s->last_ts;
	else if (s->n > 1 && pkt->ts - s->last_ts != s->step)
		s->steady = false;
	s->last_ts = pkt->ts;
	s->n++;
}

/*
 * The tone handler in Opus, the peer asking a=ptime:30 (not an Opus frame):
 * packets of 20 ms, timestamps 960 apart; the same with G.722 keeps 30 ms (240).
 */
static void test_session_tone_ptime(void **state)
{
	(void)state;
	static const struct {
		const char *codec;
		int pt;
		uint32_t clock, step;
	} cases[] = { { "opus", 111, 48000, 960 }, { "G722", 9, 8000, 240 } };
	for (size_t i = 0; i < 2; i++) {
		uv_loop_t loop;
		uv_loop_init(&loop);
		struct seen seen = { .steady = true };
		struct sipcx_media_opts ro = { .local_addr = "127.0.0.1",
			                       .on_rtp = on_rtp,
			                       .arg = &seen,
			                       .rtcp_off = true },
		                        so = { .local_addr = "127.0.0.1",
			                       .handler = SIPCX_MEDIA_TONE,
			                       .tone_hz = 1000,
			                       .rtcp_off = true };
		struct sipcx_media *mr = NULL, *ms = NULL;
		assert_int_equal(sipcx_media_new_loop(&mr, &loop, &ro), 0);
		assert_int_equal(sipcx_media_new_loop(&ms, &loop, &so), 0);
		struct sipcx_sdp_result res = { .addr_is_ip = true,
			                        .addr = "127.0.0.1",
			                        .rtp_port = sipcx_media_port(mr),
			                        .pt = cases[i].pt,
			                        .clock = cases[i].clock,
			                        .dtmf_pt = -1,
			                        .ptime = 30,
			                        .local_send = true };
		snprintf(res.codec, sizeof(res.codec), "%s", cases[i].codec);
		assert_int_equal(sipcx_media_apply_sdp(ms, &res), 0);
		assert_int_equal(sipcx_media_start(mr), 0);
		assert_int_equal(sipcx_media_start(ms), 0);
		assert_true(received(&loop, mr, 6));
		sipcx_media_free(ms);
		sipcx_media_free(mr);
		for (int k = 0; k < 100 && uv_loop_alive(&loop); k++)
			uv_run(&loop, UV_RUN_NOWAIT);
		assert_int_equal(uv_loop_close(&loop), 0);
		assert_true(seen.steady);
		assert_int_equal(seen.step, cases[i].step);
	}
}

/* ---------------------------------------------- offer/answer of codecs -- */

/* Our default answer to an offer of the media lines media (after its v=, o=, s=, c=, t=). */
static int answer_of(const char *media, char *out, size_t cap, struct sipcx_sdp_result *res)
{
	static struct sipcx_sdp offer;
	char text[1024];
	snprintf(text, sizeof(text),
	         "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n%s",
	         media);
	assert_int_equal(sipcx_sdp_parse(&offer, sipcx_str_c(text)), 0);
	struct sipcx_sdp_session sess;
	sipcx_sdp_session_init(&sess);
	struct sipcx_sdp_local l = { .addr = "127.0.0.1", .port = 4000 };
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	int r = sipcx_sdp_answer(&sess, &l, &offer, &b, res);
	snprintf(out, cap, "%.*s", (int)b.len, b.p ? b.p : "");
	sipcx_buf_free(&b);
	return r;
}

static void test_sdp_default_answer(void **state)
{
	(void)state;
	static const struct {
		const char *offer;
		const char *codec; /* NULL: no answer (488) */
		int pt, dtmf_pt;
		uint32_t clock;
		const char *has[2]; /* in the answer */
	} cases[] = {
		/* baresip's opus offer: its numbers, our fmtp, DTMF at 48 kHz */
		{ "m=audio 5000 RTP/AVP 116 101\r\na=rtpmap:116 opus/48000/2\r\n"
		  "a=fmtp:116 stereo=1;sprop-stereo=1\r\na=rtpmap:101 telephone-event/48000\r\n",
		  "opus",
		  116,
		  101,
		  48000,
		  { "m=audio 4000 RTP/AVP 116 101\r\n",
		    "a=rtpmap:116 opus/48000/2\r\na=fmtp:116 minptime=10;useinbandfec=1\r\n" } },
		/* G.722 first, then G.711: the offer's order, the static numbers */
		{ "m=audio 5000 RTP/AVP 9 0 101\r\na=rtpmap:101 telephone-event/8000\r\n",
		  "G722",
		  9,
		  101,
		  8000,
		  { "m=audio 4000 RTP/AVP 9 0 101\r\n", "a=rtpmap:9 G722/8000\r\n" } },
		/* a G.711 offer: answered as with the G.711 defaults */
		{ "m=audio 5000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n",
		  "PCMU",
		  0,
		  101,
		  8000,
		  { "m=audio 4000 RTP/AVP 0 8 101\r\n", "a=rtpmap:0 PCMU/8000\r\n" } },
		/* opus with telephone-event/8000 only: no DTMF (RFC 4733 2.1: the audio's clock) */
		{ "m=audio 5000 RTP/AVP 111 101\r\na=rtpmap:111 opus/48000/2\r\n"
		  "a=rtpmap:101 telephone-event/8000\r\n",
		  "opus",
		  111,
		  -1,
		  48000,
		  { "m=audio 4000 RTP/AVP 111\r\n", "a=rtpmap:111 opus/48000/2\r\n" } },
		/* opus must say /2 (RFC 7587 7): a mono rtpmap is another format */
		{ "m=audio 5000 RTP/AVP 111\r\na=rtpmap:111 opus/48000\r\n", NULL, 0, 0, 0, { 0 } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char ans[2048];
		struct sipcx_sdp_result res;
		int r = answer_of(cases[i].offer, ans, sizeof(ans), &res);
		if (!cases[i].codec) {
			assert_int_equal(r, SIPCX_ENOCODEC);
			continue;
		}
		assert_int_equal(r, 0);
		assert_string_equal(res.codec, cases[i].codec);
		assert_int_equal(res.pt, cases[i].pt);
		assert_int_equal(res.clock, cases[i].clock);
		assert_int_equal(res.dtmf_pt, cases[i].dtmf_pt);
		for (size_t k = 0; k < 2; k++)
			assert_non_null(strstr(ans, cases[i].has[k]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_conceal),
		cmocka_unit_test(test_session_opus),
		cmocka_unit_test(test_session_tone_ptime),
		cmocka_unit_test(test_sdp_default_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
