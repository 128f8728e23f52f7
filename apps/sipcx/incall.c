/* sipcx CLI: what a call does once it is up, the same for dial and answer: DTMF, audio files, the tone check, transfers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sipcx/call.h>
#include <sipcx/ctx.h>
#include <sipcx/phone.h>
#include <sipcx/rtp.h>
#include <sipcx/uri.h>
#include <sipcx/wav.h>

#include "cli.h"

void cli_incall_init(struct cli_incall *x)
{
	*x = (struct cli_incall){ .dtmf_mode = SIPCX_DTMF_RFC4733,
		                  .dtmf_delay_us = 500000,
		                  .dtmf_dur_us = 100000,
		                  .transfer_after_us = 1000000 };
}

/* ------------------------------------------------------------- DTMF -- */

int cli_parse_dtmf_mode(const char *arg, void *dst)
{
	int *mode = dst;
	if (!strcmp(arg, "rfc4733") || !strcmp(arg, "rfc2833"))
		*mode = SIPCX_DTMF_RFC4733;
	else if (!strcmp(arg, "info"))
		*mode = SIPCX_DTMF_INFO;
	else
		return -EINVAL;
	return 0;
}

int cli_parse_digits(const char *arg, void *dst)
{
	const char **out = dst;
	size_t n = strlen(arg);
	if (n == 0 || n > 64)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (sipcx_rtp_event_from_char(arg[i]) < 0)
			return -EINVAL;
	*out = arg;
	return 0;
}

bool cli_dtmf_matches(const char *want, const char *got)
{
	if (!want)
		return true;
	/* the expected digits, in order, one after the other; a/b/c/d as A-D */
	char w[65], g[65];
	size_t i;
	for (i = 0; want[i] && i < 64; i++)
		w[i] = (char)(want[i] >= 'a' && want[i] <= 'd' ? want[i] - 32 : want[i]);
	w[i] = 0;
	for (i = 0; got[i] && i < 64; i++)
		g[i] = (char)(got[i] >= 'a' && got[i] <= 'd' ? got[i] - 32 : got[i]);
	g[i] = 0;
	return strstr(g, w) != NULL;
}

/* --------------------------------------------- 100rel, session timers -- */

/* arg as the index of one of names, into *(int *)dst. */
static int parse_word(const char *arg, void *dst, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(arg, names[i])) {
			*(int *)dst = (int)i;
			return 0;
		}
	}
	return -EINVAL;
}

int cli_parse_100rel(const char *arg, void *dst)
{
	static const char *const names[] = { [SIPCX_100REL_SUPPORTED] = "supported",
		                             [SIPCX_100REL_REQUIRED] = "required",
		                             [SIPCX_100REL_OFF] = "off" };
	return parse_word(arg, dst, names, sizeof(names) / sizeof(names[0]));
}

int cli_parse_refresher(const char *arg, void *dst)
{
	static const char *const names[] = { [SIPCX_REFRESHER_NONE] = "",
		                             [SIPCX_REFRESHER_UAC] = "uac",
		                             [SIPCX_REFRESHER_UAS] = "uas" };
	return *arg ? parse_word(arg, dst, names, sizeof(names) / sizeof(names[0])) : -EINVAL;
}

int cli_parse_refresh_method(const char *arg, void *dst)
{
	static const char *const names[] = {
		[SIPCX_REFRESH_INVITE] = "invite", [SIPCX_REFRESH_UPDATE] = "update"
	};
	return parse_word(arg, dst, names, sizeof(names) / sizeof(names[0]));
}

int cli_parse_srtp(const char *arg, void *dst)
{
	static const char *const names[] = { [SIPCX_SRTP_OPTIONAL] = "optional",
		                             [SIPCX_SRTP_OFF] = "off",
		                             [SIPCX_SRTP_MANDATORY] = "mandatory" };
	return parse_word(arg, dst, names, sizeof(names) / sizeof(names[0]));
}

void cli_srtp_print(const struct sipcx_call_info *in, const struct sipcx_media_stats *st,
                    const char *prefix)
{
	if (in->answered_us && (in->srtp[0] || st->srtp_auth_fail || st->srtp_replay))
		printf("%s srtp: %s, %llu auth failures, %llu replays dropped\n", prefix,
		       in->srtp[0] ? in->srtp : "off", (unsigned long long)st->srtp_auth_fail,
		       (unsigned long long)st->srtp_replay);
}

void cli_incall_ext(const struct cli_incall *x, struct sipcx_call_ext *e)
{
	*e = (struct sipcx_call_ext){ .rel100 = (enum sipcx_100rel)x->rel100,
		                      .session_expires = (uint32_t)x->session_expires,
		                      .min_se = (uint32_t)x->min_se,
		                      .refresher = (enum sipcx_refresher)x->refresher,
		                      .refresh_method =
		                          (enum sipcx_refresh_method)x->refresh_method };
}

/* --------------------------------------------------------- audio files -- */

int cli_check_audio(const char *cmd, const char *play, const char *rec)
{
	struct sipcx_wav *w = NULL;
	int r;
	if (play && (r = sipcx_wav_open_read(play, &w)) != 0) {
		fprintf(stderr, "sipcx %s: cannot play --play-file %s: %s\n", cmd, play,
		        r == -ENOTSUP  ? "not PCM 16-bit mono (docs/audio.md)"
		        : r == -EINVAL ? "not a WAV file"
		                       : sipcx_strerror(r));
		return CLI_EXIT_USAGE;
	}
	sipcx_wav_close(w);
	w = NULL;
	if (rec && ((r = sipcx_wav_open_write(rec, 8000, &w)) != 0 ||
	            (r = sipcx_wav_close_write(w)) != 0)) {
		fprintf(stderr, "sipcx %s: cannot write --rec-file %s: %s\n", cmd, rec,
		        sipcx_strerror(r));
		return CLI_EXIT_USAGE;
	}
	return -1;
}

bool cli_tone_ok(unsigned hz, const struct sipcx_call_info *in)
{
	return !hz || in->tone_ms >= CLI_TONE_MIN_MS;
}

int cli_incall_check(const char *cmd, const struct cli_incall *x)
{
	struct sipcx_uri u;
	if (x->transfer_to && (sipcx_uri_parse(&u, sipcx_str_c(x->transfer_to)) != 0 ||
	                       (u.scheme != SIPCX_URI_SIP && u.scheme != SIPCX_URI_SIPS)))
		return cli_usage(cmd, "bad --transfer-to (a sip: URI)", x->transfer_to);
	if (x->attended && !x->transfer_to)
		return cli_usage(cmd, "--attended without --transfer-to", NULL);
	if (x->loop && !x->play)
		return cli_usage(cmd, "--loop without --play-file", NULL);
	if (x->session_expires && x->min_se && x->session_expires < x->min_se)
		return cli_usage(cmd, "--session-expires below --min-se", NULL);
	return cli_check_audio(cmd, x->play, x->rec);
}

struct sipcx_dtmf_opts cli_incall_dtmf(const struct cli_incall *x)
{
	return (struct sipcx_dtmf_opts){ .duration_ms = cli_ms(x->dtmf_dur_us),
		                         .gap_ms = cli_ms(x->dtmf_dur_us),
		                         .delay_ms = cli_ms(x->dtmf_delay_us) };
}

void cli_incall_media(const struct cli_incall *x, struct sipcx_call_media *m)
{
	if (x->play)
		m->handler = SIPCX_MEDIA_PLAY;
	m->play_file = x->play;
	m->play_loop = x->loop;
	m->record_file = x->rec;
	m->detect_hz = (unsigned)x->expect_tone;
	m->srtp = (enum sipcx_srtp_mode)x->srtp;
	m->no_rtcp_mux = x->no_rtcp_mux;
}

bool cli_incall_met(const struct cli_incall *x, const struct sipcx_call_info *in, char *why,
                    size_t n)
{
	if (!in->answered_us || in->replaced)
		return true; /* nothing could be expected of a call that never was, or was handed on */
	if (!cli_dtmf_matches(x->expect_dtmf, in->dtmf_rx))
		snprintf(why, n, "expected DTMF %s, received \"%s\"", x->expect_dtmf, in->dtmf_rx);
	else if (!cli_tone_ok((unsigned)x->expect_tone, in))
		snprintf(why, n, "tone %lu Hz not heard (longest %u ms)", x->expect_tone,
		         in->tone_ms);
	else if (x->transfer_to && in->transfer_result / 100 != 2)
		snprintf(why, n, "transfer to %.200s failed: %u", x->transfer_to,
		         in->transfer_result);
	else if (in->refer_to[0] && in->transfer_status / 100 != 2)
		snprintf(why, n, "transferred to %.200s, not answered: %u", in->refer_to,
		         in->transfer_status);
	else
		return true;
	return false;
}

void cli_incall_print(const struct cli_incall *x, const struct sipcx_call_info *in,
                      const char *prefix)
{
	if (!in->answered_us || in->replaced)
		return;
	if (in->pracks)
		printf("%s 100rel: %u reliable 18x PRACKed\n", prefix, in->pracks);
	if (in->session_expires)
		printf("%s session timer: %u s, refreshed by %s, %u refreshes\n", prefix,
		       in->session_expires, in->refresher ? "us" : "the peer", in->refreshes);
	if (x->transfer_to)
		printf("%s transfer to %s %s: %u\n", prefix, x->transfer_to,
		       in->transfer_result / 100 == 2 ? "done" : "FAILED", in->transfer_result);
	if (x->expect_tone)
		printf("%s tone %lu Hz %s: longest %.2f s, %.2f s in all\n", prefix, x->expect_tone,
		       cli_tone_ok((unsigned)x->expect_tone, in) ? "heard" : "NOT heard",
		       in->tone_ms / 1e3, in->tone_total_ms / 1e3);
	if (x->expect_dtmf)
		printf("%s dtmf %s: expected %s, received \"%s\"\n", prefix,
		       cli_dtmf_matches(x->expect_dtmf, in->dtmf_rx) ? "ok" : "FAILED",
		       x->expect_dtmf, in->dtmf_rx);
}

/* ----------------------------------------------------------- transfers -- */

bool cli_stay(struct sipcx_ctx *ctx, struct sipcx_call *call, uint64_t ms)
{
	struct sipcx_ctx *t = NULL;
	if (sipcx_ctx_new(&t, ctx, ms) != 0)
		return false;
	int r = sipcx_call_wait(call, t);
	sipcx_ctx_free(t);
	return r == -ETIMEDOUT && !sipcx_ctx_err(ctx);
}

int cli_hangup(struct sipcx_call *call, struct sipcx_ctx *ctx)
{
	if (!ctx)
		return sipcx_call_hangup(call, NULL);
	int r = sipcx_call_end(call, NULL);
	if (r && r != -EALREADY)
		return r;
	r = sipcx_call_wait(call, ctx);
	return r == SIPCX_ECLOSED ? 0 : r;
}

int cli_attended(struct sipcx_phone *ph, struct sipcx_ctx *ctx, struct sipcx_call *call,
                 const struct cli_incall *x, const struct sipcx_dial_opts *o, uint64_t timeout_ms,
                 struct sipcx_call **consult, const char **what)
{
	*consult = NULL;
	*what = "call the transfer target";
	if (x->transfer_after_us >= 1000 && !cli_stay(ctx, call, x->transfer_after_us / 1000))
		return 1;
	struct sipcx_ctx *ring = NULL;
	struct sipcx_dial_opts co = *o;
	co.to = NULL;
	int r = sipcx_ctx_new(&ring, ctx, timeout_ms);
	if (!r)
		r = sipcx_phone_dial(ph, ring, x->transfer_to, &co, consult);
	sipcx_ctx_free(ring);
	if (r)
		return sipcx_ctx_err(ctx) ? 1 : r;
	*what = "transfer";
	return sipcx_call_refer_replaces(call, *consult, 0);
}

void cli_consult_end(struct sipcx_ctx *ctx, struct sipcx_call *consult, struct sipcx_call_info *in)
{
	cli_stay(ctx, consult, 2000);
	cli_hangup(consult, ctx);
	sipcx_call_info(consult, in);
	sipcx_call_free(consult);
}
