/* sipcx dial: place calls, stay in them, hang up; check that the RTP comes back from an echo (RFC 3261 13, RFC 3550). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/sipcx.h>

#include "cli.h"

/* Interrupted (SIGINT/SIGTERM): the shell's 128 + SIGINT. */
#define DIAL_EXIT_INTERRUPTED 130
#define MAX_PARALLEL 256

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: sipcx dial [OPTIONS] URI\n"
	    "Call URI (INVITE with SDP), wait for the answer, stay in the call, hang up (BYE).\n\n"
	    "  --username USER      digest user answering 401/407 (default: $SIP_USERNAME)\n"
	    "  --password PASS      digest password (default: $SIP_PASSWORD)\n"
	    "  --from VALUE         From, e.g. '\"Alice\" <sip:alice@example.com>'\n"
	    "  --header 'N: v'      an extra header of the INVITE (repeatable)\n"
	    "  --codec LIST         what we offer, in preference order: pcmu, pcma, g722, opus\n"
	    "                       (default: pcmu,pcma)\n"
	    "  --transport udp|tcp|tls|ws|wss  transport (default: the URI's: sips or ;transport=, else udp)\n"
	    "  --proxy ADDR         send the INVITE to this outbound proxy (udp:10.0.0.1:5060)\n"
	    "  --late-offer         an INVITE without SDP: the offer comes in the 2xx\n"
	    "  --timeout DUR        no answer this long after the INVITE: CANCEL (exit 3)\n"
	    "  --ring-timeout DUR   no answer this long after it started ringing: CANCEL (exit 3)\n"
	    "  --duration DUR       stay in the call this long, then hang up\n"
	    "                       (default: until the other side hangs up, or SIGINT)\n"
	    "  --tone HZ            send a tone of HZ every 20 ms (default: silence)\n"
	    "  --no-rtp             send no RTP (what arrives is still counted)\n"
	    "  --echo-check         send a tone in the call's codec every 20 ms and check it comes\n"
	    "                       back unchanged\n"
	    "                       (the peer echoes RTP: sipcx echo, SIPp -rtp_echo)\n"
	    "  --max-loss PCT       echo check: packets that may not come back (default 0)\n"
	    "  --count N            place N calls (default 1)\n"
	    "  --rate N             calls started per second (default 1)\n"
	    "  --listen ADDRS       local addresses (default: udp and tcp, any address, port 0)\n" CLI_DTMF_HELP
	        CLI_AUDIO_HELP CLI_EXT_HELP
	    "  --hold-after DUR     put the peer on hold (re-INVITE, sendonly) after DUR\n"
	    "  --hold-for DUR       and resume (sendrecv) after this long (default 1s)\n"
	    "  --hold-inactive      hold with a=inactive (neither side sends)\n"
	    "  --no-refer           refuse a REFER from the peer (603); else the target is called\n"
	    "  --transfer-to URI    transfer the peer there (REFER); the call ends when it worked\n"
	    "  --transfer-after DUR after this long in the call (default 1s)\n"
	    "  --attended           call --transfer-to first, then REFER with Replaces naming\n"
	    "                       that call (attended transfer)\n" CLI_TLS_HELP CLI_DNS_HELP
	        CLI_COMMON_HELP "  -h, --help           this text\n\n"
	    "DUR is a number with an optional unit: 250ms, 1.5s, 2 (seconds).\n"
	    "Exit: 0 every call was answered (and its echo came back, and its --expect-dtmf\n"
	    "      digits); 1 a failure status, a missing digit,\n"
	    "      a failed echo check or a transport error; 2 usage error; 3 no answer in\n"
	    "      time; 4 authentication failed; 130 interrupted (SIGINT/SIGTERM) before the\n"
	    "      answer, or while waiting for the answer to the BYE (a second signal, or\n"
	    "      one during the hangup: the wait is cut short).\n");
}

static int bad(const char *what, const char *arg)
{
	return cli_usage("dial", what, arg);
}

struct dial_cfg {
	const char *uri;
	struct sipcx_phone *phone;
	struct sipcx_ctx *sig;
	struct sipcx_ctx *hurry; /* a second signal: no more waiting for the BYE's answer */
	struct sipcx_dial_opts opts;
	uint64_t timeout_us, duration_us;
	bool echo_check, json;
	double max_loss;
	const struct cli_incall *ic; /* DTMF, audio, transfers */
	struct sipcx_dtmf_opts dtmf_o;
	uint64_t hold_after_us, hold_for_us;
	bool hold_inactive;
	uint64_t t0;
	pthread_mutex_t out; /* one call's lines at a time */
};

/* What one call did. */
struct dial_result {
	unsigned idx;
	int err;
	struct sipcx_call_info info;
	struct sipcx_media_stats st;
	/* echo check */
	bool echo_ran;
	unsigned long sent, received, mismatched, foreign;
	uint64_t rtt_min, rtt_max, rtt_sum;
	bool dtmf_failed;
	bool step_failed;
	bool hurried; /* the wait for the end of a call was cut short by a signal */
	int exit_code;
	struct sipcx_call *consult; /* --attended: the call to the target */
};

static double since(const struct dial_cfg *d)
{
	return (double)(sipcx_now_us() - d->t0) / 1e6;
}

/* The run, for the event callback (one dial per process). */
static struct dial_cfg *g_dial;

static void on_event(struct sipcx_call *call, const struct sipcx_call_event *ev, void *arg)
{
	struct dial_result *res = arg;
	struct dial_cfg *d = g_dial;
	if (ev->type == SIPCX_CALL_EV_MEDIA && ev->msg && ev->msg->status >= 300)
		res->step_failed = true;
	if (d->json) {
		cli_json_call_event(res->idx, call, ev);
		return;
	}
	if (ev->type == SIPCX_CALL_EV_DTMF) {
		pthread_mutex_lock(&d->out);
		printf("+%.3fs call %u: dtmf %c (%u ms, %s)\n", since(d), res->idx, ev->dtmf,
		       ev->dtmf_ms, ev->dtmf_mode == SIPCX_DTMF_INFO ? "info" : "rfc4733");
		fflush(stdout);
		pthread_mutex_unlock(&d->out);
		return;
	}
	if (ev->type == SIPCX_CALL_EV_TRANSFER) {
		struct sipcx_call_info in;
		sipcx_call_info(call, &in);
		pthread_mutex_lock(&d->out);
		if (cli_our_transfer(ev))
			printf("+%.3fs call %u: transfer to %s: %u\n", since(d), res->idx,
			       in.transfer_to, in.transfer_result);
		else if (ev->msg)
			printf("+%.3fs call %u: REFER: calling %s\n", since(d), res->idx,
			       in.refer_to);
		else
			printf("+%.3fs call %u: %s answered %u\n", since(d), res->idx, in.refer_to,
			       in.transfer_status);
		fflush(stdout);
		pthread_mutex_unlock(&d->out);
		return;
	}
	if (ev->type == SIPCX_CALL_EV_MEDIA) {
		struct sipcx_call_info in;
		sipcx_call_info(call, &in);
		pthread_mutex_lock(&d->out);
		if (ev->msg && ev->msg->status >= 300)
			printf("+%.3fs call %u: re-INVITE refused: %u %.*s\n", since(d), res->idx,
			       ev->msg->status, SIPCX_STR_FMT(ev->msg->reason));
		else
			printf("+%.3fs call %u: %s%s, media to %s\n", since(d), res->idx,
			       in.local_hold ? "on hold" : "resumed",
			       in.remote_hold ? " (the peer holds too)" : "", in.remote_media);
		fflush(stdout);
		pthread_mutex_unlock(&d->out);
		return;
	}
	if (ev->type != SIPCX_CALL_EV_RINGING)
		return;
	pthread_mutex_lock(&d->out);
	if (ev->type == SIPCX_CALL_EV_RINGING && ev->msg)
		printf("+%.3fs call %u: %.*s\n", since(d), res->idx,
		       SIPCX_STR_FMT(ev->msg->start_line));
	fflush(stdout);
	pthread_mutex_unlock(&d->out);
}

/*
 * The echo UAC: a tone in the negotiated codec every 20 ms with our own
 * sequence numbers; each packet that comes back is matched by its number and
 * compared byte for byte (an echo sends the payload back as it came).
 */
static void echo_check(struct dial_cfg *d, struct sipcx_call *call, struct dial_result *res)
{
	enum { PTIME_US = 20000, SAMPLES = 160, SLOTS = 65536, MAXP = 320 };
	uint64_t *sent_at = calloc(SLOTS, sizeof(*sent_at));
	uint16_t *plen = calloc(SLOTS, sizeof(*plen));
	uint8_t(*payload)[MAXP] = calloc(SLOTS, MAXP);
	struct sipcx_codec *codec = NULL;
	res->echo_ran = true; /* sent 0: a failed check */
	if (!sent_at || !plen || !payload ||
	    sipcx_codec_new(&codec, res->info.codec, SIPCX_CODEC_ENCODE) != 0) {
		free(sent_at);
		free(plen);
		free(payload);
		return;
	}
	res->rtt_min = UINT64_MAX;
	int pt = res->info.pt >= 0 ? res->info.pt : 0;
	uint32_t step = sipcx_codec_ts_of(sipcx_codec_desc_of(codec)->clock, SAMPLES);
	struct sipcx_media *m = sipcx_call_media(call);
	uint32_t ssrc = m ? sipcx_media_ssrc(m) : 0x51c0ec40u;
	struct sipcx_media_tone tone;
	sipcx_media_tone_init(&tone, 1000, 8000, SIPCX_CODEC_PCM_RATE);
	uint16_t seq = 0;
	uint32_t ts = 0;
	uint64_t start = sipcx_now_us(), next = start;
	uint64_t stop = start + (d->duration_us ? d->duration_us : 2000000u);
	uint64_t drain_until = UINT64_MAX;
	uint8_t pkt[12 + MAXP], back[1500];
	int16_t pcm[SAMPLES];
	for (;;) {
		uint64_t now = sipcx_now_us();
		if (sipcx_ctx_err(d->sig))
			break;
		if (now < stop && now >= next) {
			sipcx_media_tone_pcm(&tone, pcm, SAMPLES);
			int len = sipcx_codec_encode(codec, pcm, SAMPLES, pkt + 12, MAXP);
			struct sipcx_rtp_pkt p = { .marker = seq == 0,
				                   .pt = (uint8_t)pt,
				                   .seq = seq,
				                   .ts = ts,
				                   .ssrc = ssrc,
				                   .payload = pkt + 12,
				                   .payload_len = len > 0 ? (size_t)len : 0 };
			if (len > 0 && sipcx_rtp_build(&p, pkt, sizeof(pkt)) > 0 &&
			    sipcx_call_write_rtp(call, pkt, 12 + (size_t)len, 0) == 0) {
				sent_at[seq] = now;
				plen[seq] = (uint16_t)len;
				memcpy(payload[seq], pkt + 12, (size_t)len);
				res->sent++;
			}
			seq++;
			ts += step;
			next += PTIME_US;
			continue;
		}
		if (now >= stop && drain_until == UINT64_MAX)
			drain_until = now + 500000u; /* the last echoes are on their way */
		if (now >= drain_until || (now >= stop && res->received >= res->sent))
			break;
		uint64_t until = now < stop ? next : drain_until;
		int wait_ms = until > now ? (int)((until - now + 999) / 1000) : 0;
		int n = sipcx_call_read_rtp(call, back, sizeof(back), wait_ms);
		if (n == -ECANCELED)
			break; /* the call ended */
		struct sipcx_rtp_pkt rp;
		if (n <= 0 || sipcx_rtp_parse(&rp, back, (size_t)n) != 0)
			continue;
		if (rp.ssrc != ssrc || !sent_at[rp.seq]) {
			res->foreign++; /* not our packet: the peer talks instead of echoing */
			continue;
		}
		uint64_t rtt = sipcx_now_us() - sent_at[rp.seq];
		if (rp.pt != pt || rp.payload_len != plen[rp.seq] ||
		    memcmp(rp.payload, payload[rp.seq], plen[rp.seq]) != 0)
			res->mismatched++;
		sent_at[rp.seq] = 0; /* a duplicate is not counted twice */
		res->received++;
		res->rtt_sum += rtt;
		if (rtt < res->rtt_min)
			res->rtt_min = rtt;
		if (rtt > res->rtt_max)
			res->rtt_max = rtt;
	}
	sipcx_codec_free(codec);
	free(sent_at);
	free(plen);
	free(payload);
}

/* An answered call ended by an error of its own (not a status): a next hop that does not resolve... */
static bool ended_failed(const struct sipcx_call_info *in)
{
	return in->ended_by == SIPCX_CALL_END_ERROR && in->err && in->err != SIPCX_ESTATUS;
}

static int exit_of(int err, const struct sipcx_call_info *in)
{
	if (!err)
		return CLI_EXIT_OK;
	if (err == SIPCX_EAUTH)
		return CLI_EXIT_AUTH;
	if (err == -ETIMEDOUT || (in->status == 487 && in->ended_by == SIPCX_CALL_END_LOCAL))
		return CLI_EXIT_TIMEOUT;
	if (err == -ECANCELED)
		return DIAL_EXIT_INTERRUPTED;
	return CLI_EXIT_FAIL;
}

static void report(struct dial_cfg *d, struct dial_result *r)
{
	const struct sipcx_call_info *in = &r->info;
	double setup = in->answered_us ? (double)(in->answered_us - in->start_us) / 1e3 : 0;
	double talk =
	    in->answered_us && in->ended_us ? (double)(in->ended_us - in->answered_us) / 1e6 : 0;
	double loss = r->sent ? 100.0 * (double)(r->sent - r->received) / (double)r->sent : 0;
	char failure[320] = "";
	if (r->exit_code != CLI_EXIT_OK) {
		if (!cli_incall_met(d->ic, in, failure, sizeof(failure)))
			; /* failure says what was expected */
		else if (r->dtmf_failed)
			snprintf(failure, sizeof(failure), "the DTMF could not be sent");
		else if (r->step_failed)
			snprintf(failure, sizeof(failure),
			         "a hold, resume or transfer was refused");
		else if (ended_failed(in))
			snprintf(failure, sizeof(failure), "ended by error: %s",
			         sipcx_strerror(in->err));
		else if (r->echo_ran && in->answered_us)
			snprintf(failure, sizeof(failure),
			         "echo check failed: %lu sent, %lu back, %lu changed", r->sent,
			         r->received, r->mismatched);
		else
			snprintf(failure, sizeof(failure), "%s%s%.0u%s%s",
			         r->err && r->err != SIPCX_ESTATUS ? sipcx_strerror(r->err) : "",
			         r->err && r->err != SIPCX_ESTATUS && in->status ? ": " : "",
			         in->status, in->status ? " " : "", in->reason);
	}
	char name[300];
	snprintf(name, sizeof(name), "call %u to %s", r->idx, d->uri);
	cli_junit_case(
	    name, in->ended_us > in->start_us ? (double)(in->ended_us - in->start_us) / 1e6 : 0,
	    r->exit_code != CLI_EXIT_OK ? failure : NULL);
	if (d->json) {
		char echo[256] = "";
		if (r->echo_ran)
			snprintf(
			    echo, sizeof(echo),
			    "{\"sent\":%lu,\"received\":%lu,\"loss_pct\":%.2f,\"mismatched\":%lu,"
			    "\"rtt_avg_ms\":%.3f,\"rtt_max_ms\":%.3f}",
			    r->sent, r->received, loss, r->mismatched,
			    r->received ? (double)r->rtt_sum / (double)r->received / 1e3 : 0,
			    (double)r->rtt_max / 1e3);
		cli_json_call_summary(r->idx, in, &r->st, r->err, r->exit_code,
		                      r->echo_ran ? "echo" : NULL, r->echo_ran ? echo : NULL);
		return;
	}
	pthread_mutex_lock(&d->out);
	if (!in->answered_us) {
		/* "%.0u": no status when none came (a transport or TLS error). */
		printf("+%.3fs call %u: not answered: %s%s%.0u%s%s\n", since(d), r->idx,
		       r->err && r->err != SIPCX_ESTATUS ? sipcx_strerror(r->err) : "",
		       r->err && r->err != SIPCX_ESTATUS && in->status ? ", " : "", in->status,
		       in->status ? " " : "", in->reason);
	} else {
		bool failed = ended_failed(in) && !in->end_reason[0]; /* a reason says it already */
		printf(
		    "+%.3fs call %u: ended by %s after %.3f s%s%s%s%s; setup %.1f ms, %s, rtp tx %llu "
		    "rx %llu lost %lld jitter %.3f ms\n",
		    since(d), r->idx, sipcx_call_end_name(in->ended_by), talk,
		    in->end_reason[0] ? ", reason " : "", in->end_reason, failed ? ": " : "",
		    failed ? sipcx_strerror(in->err) : "", setup,
		    in->codec[0] ? in->codec : "no codec", (unsigned long long)r->st.tx_packets,
		    (unsigned long long)r->st.rx_packets, (long long)r->st.lost,
		    (double)r->st.jitter_us / 1e3);
		if (in->refer_to[0])
			printf("+%.3fs call %u: transferred (REFER) to %s: %u %s\n", since(d),
			       r->idx, in->refer_to, in->transfer_status,
			       in->transfer_status ? sipcx_msg_reason_phrase(in->transfer_status)
			                           : "no answer");
		char prefix[48];
		snprintf(prefix, sizeof(prefix), "+%.3fs call %u:", since(d), r->idx);
		cli_incall_print(d->ic, in, prefix);
		cli_srtp_print(in, &r->st, prefix);
		if (r->echo_ran)
			printf("+%.3fs call %u: echo %s: %lu sent, %lu back (%.2f%% lost), %lu "
			       "changed, rtt avg %.3f ms max %.3f ms\n",
			       since(d), r->idx, r->exit_code == CLI_EXIT_OK ? "ok" : "FAILED",
			       r->sent, r->received, loss, r->mismatched,
			       r->received ? (double)r->rtt_sum / (double)r->received / 1e3 : 0,
			       (double)r->rtt_max / 1e3);
	}
	fflush(stdout);
	pthread_mutex_unlock(&d->out);
}

/* Wait in the call for ms (0: until it ends); false once the call is over or a signal came. */
static bool stay(struct dial_cfg *d, struct sipcx_call *call, uint64_t ms)
{
	return cli_stay(d->sig, call, ms);
}

/*
 * Hang up and wait for the end (the answer to the BYE): cut short by a signal, the first
 * when the hangup did not come from one, else the second (d->hurry). true when cut short.
 */
static bool hangup(struct dial_cfg *d, struct sipcx_call *call)
{
	struct sipcx_ctx *w = sipcx_ctx_err(d->sig) ? d->hurry : d->sig;
	int r = cli_hangup(call, w);
	return r == -ECANCELED || (r && sipcx_ctx_err(d->hurry));
}

/*
 * --transfer-to: blind (a REFER after --transfer-after), or --attended: after
 * --transfer-after a call to the target, and once it is answered a REFER with
 * Replaces naming it. false: the call ended meanwhile.
 */
static bool transfer(struct dial_cfg *d, struct sipcx_call *call, struct dial_result *res)
{
	int r = 0;
	const char *what = "transfer";
	if (!d->ic->attended) {
		r = sipcx_call_refer(call, d->ic->transfer_to, cli_ms(d->ic->transfer_after_us));
	} else {
		r = cli_attended(d->phone, d->sig, call, d->ic, &d->opts, d->timeout_us / 1000,
		                 &res->consult, &what);
		if (r == 1)
			return false;
		if (res->consult && !d->json) {
			struct sipcx_call_info in;
			sipcx_call_info(res->consult, &in);
			pthread_mutex_lock(&d->out);
			printf("+%.3fs call %u: consultation call to %s answered, Call-ID %s\n",
			       since(d), res->idx, d->ic->transfer_to, in.call_id);
			fflush(stdout);
			pthread_mutex_unlock(&d->out);
		}
	}
	if (r) {
		pthread_mutex_lock(&d->out);
		fprintf(stderr, "sipcx dial: call %u: cannot %s: %s\n", res->idx, what,
		        sipcx_strerror(r));
		pthread_mutex_unlock(&d->out);
		res->step_failed = true;
	}
	return true;
}

/* --attended: the consultation call ends when the target takes the transferee (BYE, replaced). */
static void consult_end(struct dial_cfg *d, struct dial_result *res)
{
	if (!res->consult)
		return;
	struct sipcx_call_info in;
	cli_consult_end(sipcx_ctx_err(d->sig) ? d->hurry : d->sig, res->consult, &in);
	res->consult = NULL;
	if (d->json)
		return;
	pthread_mutex_lock(&d->out);
	printf("+%.3fs call %u: consultation call ended by %s%s%s\n", since(d), res->idx,
	       sipcx_call_end_name(in.ended_by), in.end_reason[0] ? ", reason " : "",
	       in.end_reason);
	fflush(stdout);
	pthread_mutex_unlock(&d->out);
}

/* The call's time: --duration, with --hold-after/--hold-for a hold (re-INVITE) and a resume in it. */
static void talk(struct dial_cfg *d, struct sipcx_call *call, struct dial_result *res)
{
	uint64_t total = d->duration_us / 1000, start = sipcx_now_us();
	if (d->ic->transfer_to && !transfer(d, call, res))
		return;
	if (!d->hold_after_us || (total && d->hold_after_us / 1000 >= total)) {
		stay(d, call, total);
		return;
	}
	if (!stay(d, call, d->hold_after_us / 1000))
		return;
	int r = sipcx_call_hold(call, true, d->hold_inactive);
	if (r) {
		pthread_mutex_lock(&d->out);
		fprintf(stderr, "sipcx dial: call %u: cannot put on hold: %s\n", res->idx,
		        sipcx_strerror(r));
		pthread_mutex_unlock(&d->out);
		res->step_failed = true;
	} else {
		if (!stay(d, call, d->hold_for_us / 1000))
			return;
		if ((r = sipcx_call_hold(call, false, false)) != 0) {
			pthread_mutex_lock(&d->out);
			fprintf(stderr, "sipcx dial: call %u: cannot resume: %s\n", res->idx,
			        sipcx_strerror(r));
			pthread_mutex_unlock(&d->out);
			res->step_failed = true;
		}
	}
	uint64_t spent = (sipcx_now_us() - start) / 1000;
	if (!total)
		stay(d, call, 0);
	else if (spent < total)
		stay(d, call, total - spent);
}

static void one_call(struct dial_cfg *d, struct dial_result *res)
{
	struct sipcx_ctx *ring = NULL;
	sipcx_ctx_new(&ring, d->sig, d->timeout_us / 1000);
	struct sipcx_dial_opts o = d->opts;
	o.cb = on_event;
	o.arg = res;
	o.info = &res->info;
	struct sipcx_call *call = NULL;
	if (d->json) {
		struct cli_json j;
		cli_json_begin(&j, "calling");
		cli_json_int(&j, "call", res->idx);
		cli_json_str(&j, "uri", d->uri);
		cli_json_end(&j);
	}
	res->err = sipcx_phone_dial(d->phone, ring, d->uri, &o, &call);
	sipcx_ctx_free(ring);
	if (res->err) {
		res->exit_code = exit_of(res->err, &res->info);
		report(d, res);
		return;
	}
	if (!d->json) {
		pthread_mutex_lock(&d->out);
		printf("+%.3fs call %u: answered %u %s, %s/%u pt %d, media to %s\n", since(d),
		       res->idx, res->info.status, res->info.reason, res->info.codec,
		       res->info.clock, res->info.pt, res->info.remote_media);
		fflush(stdout);
		pthread_mutex_unlock(&d->out);
	}
	if (d->ic->dtmf) {
		int r = sipcx_call_send_dtmf(call, d->ic->dtmf,
		                             (enum sipcx_dtmf_mode)d->ic->dtmf_mode, &d->dtmf_o);
		if (r) {
			pthread_mutex_lock(&d->out);
			fprintf(stderr, "sipcx dial: call %u: cannot send the DTMF: %s%s\n",
			        res->idx, sipcx_strerror(r),
			        r == -ENOTSUP
			            ? " (the peer took no telephone-event: --dtmf-mode info)"
			            : "");
			pthread_mutex_unlock(&d->out);
			res->dtmf_failed = true;
		}
	}
	if (d->echo_check) {
		echo_check(d, call, res);
	} else {
		talk(d, call, res);
	}
	res->hurried = hangup(d, call);
	consult_end(d, res);
	/* Transferred (the peer's REFER): the new call for the rest of the time, then BYE. */
	struct sipcx_call *xfer = sipcx_call_transfer(call);
	if (xfer) {
		uint64_t spent = (sipcx_now_us() - res->info.answered_us) / 1000;
		if (!d->duration_us)
			stay(d, xfer, 0);
		else if (spent < d->duration_us / 1000)
			stay(d, xfer, d->duration_us / 1000 - spent);
		res->hurried |= hangup(d, xfer);
		sipcx_call_free(xfer);
	}
	sipcx_call_info(call, &res->info);
	sipcx_call_stats(call, &res->st);
	sipcx_call_free(call);
	char why[320];
	res->exit_code = res->dtmf_failed || res->step_failed || ended_failed(&res->info) ||
	                         !cli_incall_met(d->ic, &res->info, why, sizeof(why))
	                     ? CLI_EXIT_FAIL
	                     : CLI_EXIT_OK;
	if (res->hurried && res->exit_code == CLI_EXIT_OK)
		res->exit_code = DIAL_EXIT_INTERRUPTED;
	if (res->echo_ran) {
		double loss = res->sent
		                  ? 100.0 * (double)(res->sent - res->received) / (double)res->sent
		                  : 100;
		if (!res->received || res->mismatched || loss > d->max_loss + 1e-9)
			res->exit_code = CLI_EXIT_FAIL;
	}
	report(d, res);
}

struct worker {
	pthread_t t;
	struct dial_cfg *d;
	struct dial_result res;
	bool started;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	one_call(w->d, &w->res);
	return NULL;
}

int cmd_dial(int argc, char **argv)
{
	const char *username = getenv("SIP_USERNAME"), *password = getenv("SIP_PASSWORD");
	const char *from = NULL, *proxy = NULL, *listen = NULL;
	enum sipcx_tp_proto transport = SIPCX_TP_NONE;
	uint64_t timeout_us = 0, ring_us = 0, duration_us = 0;
	unsigned long count = 1, rate = 1;
	bool echo_check = false, late = false, no_rtp = false;
	unsigned long tone = 0;
	bool hold_inactive = false;
	uint64_t hold_after_us = 0, hold_for_us = 1000000;
	struct cli_incall ic;
	cli_incall_init(&ic);
	double max_loss = 0;
	struct cli_headers hs = { 0 };
	struct cli_codecs cs = { 0 };
	struct cli_tls tls = { 0 };
	const char *dns_server = NULL;
	if (username && !*username)
		username = NULL;
	struct cli_common cc;
	const struct cli_opt opts[] = {
		CLI_OPT_STR("username", &username),
		CLI_OPT_STR("password", &password),
		CLI_OPT_STR("from", &from),
		CLI_OPT_FN("header", &hs, cli_parse_header,
		           "bad --header (\"Name: value\", at most 16)"),
		CLI_OPT_FN("codec", &cs, cli_parse_codecs, CLI_CODEC_ERR),
		CLI_OPT_PROTO("transport", &transport),
		CLI_OPT_STR("proxy", &proxy),
		CLI_OPT_FLAG("late-offer", &late),
		CLI_OPT_DUR("timeout", &timeout_us, "bad --timeout", 1000, 0),
		CLI_OPT_DUR("ring-timeout", &ring_us, "bad --ring-timeout", 1000, 0),
		CLI_OPT_DUR("duration", &duration_us, "bad --duration", 0, 0),
		CLI_OPT_FLAG("echo-check", &echo_check),
		CLI_OPT_UINT("tone", &tone, "bad --tone (1 to 3999 Hz)", 1, 3999),
		CLI_OPT_FLAG("no-rtp", &no_rtp),
		CLI_OPT_PCT("max-loss", &max_loss, "bad --max-loss (a percentage, 0 to 100)"),
		CLI_OPT_UINT("count", &count, "bad --count (1 to 100000)", 1, 100000),
		CLI_OPT_UINT("rate", &rate, "bad --rate (calls per second, 1 to 10000)", 1, 10000),
		CLI_OPT_STR("listen", &listen),
		CLI_INCALL_OPTS(&ic),
		CLI_OPT_DUR("hold-after", &hold_after_us, "bad --hold-after", 1000, 0),
		CLI_OPT_DUR("hold-for", &hold_for_us, "bad --hold-for", 1000, 0),
		CLI_OPT_FLAG("hold-inactive", &hold_inactive),
		CLI_TLS_OPTS(&tls),
		CLI_DNS_OPT(&dns_server),
		CLI_OPT_END,
	};
	int argi, rc = cli_parse("dial", argc, argv, opts, &cc, usage, &argi);
	if (rc >= 0)
		return rc;
	if (argi != argc - 1)
		return bad(argi >= argc ? "missing URI" : "expected one URI, got more", NULL);
	const char *uri = argv[argi];
	struct sipcx_uri u;
	if (sipcx_uri_parse(&u, sipcx_str_c(uri)) != 0 ||
	    (u.scheme != SIPCX_URI_SIP && u.scheme != SIPCX_URI_SIPS))
		return bad("not a sip: URI:", uri);
	if (password && !username)
		return bad("--password without --username", NULL);
	if (echo_check && (tone || no_rtp))
		return bad("--echo-check sends its own packets: no --tone or --no-rtp with it",
		           NULL);
	if ((echo_check || tone || no_rtp) && ic.play)
		return bad(
		    "--play-file, --tone, --no-rtp and --echo-check choose what is sent: one",
		    NULL);
	if ((rc = cli_incall_check("dial", &ic)) >= 0)
		return rc;
	if (echo_check && ic.dtmf && ic.dtmf_mode == SIPCX_DTMF_RFC4733)
		return bad("--echo-check owns the RTP stream: send --dtmf with --dtmf-mode info",
		           NULL);
	struct sipcx_tp_addr pa;
	if (proxy && sipcx_tp_addr_parse(&pa, proxy) != 0)
		return bad("bad --proxy (e.g. udp:127.0.0.1:5060)", proxy);
	bool v6 = proxy ? pa.sa.sa.sa_family == AF_INET6 : u.host_ipv6;
	if (!listen)
		listen = cli_client_listen(
		    v6, cli_uri_tls(uri, transport) ||
		            (proxy && (pa.proto == SIPCX_TP_TLS || pa.proto == SIPCX_TP_WSS)));
	struct sipcx_ua_opts uo = { .listen = listen, .user = username };
	if ((rc = cli_tls_apply("dial", &tls, listen, false, &uo)) >= 0)
		return rc;
	if ((rc = cli_dns_apply("dial", dns_server, &uo)) >= 0)
		return rc;
	rc = cli_observe_start("dial", &cc);
	if (rc >= 0)
		return rc;

	struct sipcx_ua *ua = NULL;
	int r = sipcx_ua_new(&ua, &uo);
	if (r) {
		if (r == -EINVAL)
			return bad("bad --listen", listen);
		fprintf(stderr, "sipcx dial: cannot listen on %s: %s\n", listen, sipcx_strerror(r));
		return CLI_EXIT_FAIL;
	}
	struct sipcx_hdr hdrs[CLI_MAX_HEADERS];
	struct sipcx_sdp_codec codecs[8];
	struct dial_cfg d = {
		.uri = uri,
		.timeout_us = timeout_us,
		.duration_us = duration_us,
		.echo_check = echo_check,
		.json = cc.json,
		.ic = &ic,
		.dtmf_o = cli_incall_dtmf(&ic),
		.hold_after_us = hold_after_us,
		.hold_for_us = hold_for_us,
		.hold_inactive = hold_inactive,
		.max_loss = max_loss,
		.t0 = sipcx_now_us(),
		.opts = {
			.username = username,
			.password = username ? (password ? password : "") : NULL,
			.from = from,
			.hdrs = hdrs,
			.nhdrs = cli_headers_get(&hs, hdrs),
			.transport = transport,
			.proxy = proxy,
			.ring_timeout_ms = cli_ms(ring_us),
			.late_offer = late,
			.refuse_refer = ic.no_refer,
			.media = {
				.codecs = codecs,
				.ncodecs = cli_codecs_get(&cs, codecs),
				.io_queue = echo_check ? 64 : 0,
				/* a phone sends while it is in a call: silence, a tone, or the check's packets */
				.handler = echo_check || no_rtp ? SIPCX_MEDIA_NONE
				           : tone                 ? SIPCX_MEDIA_TONE
				                                  : SIPCX_MEDIA_SILENCE,
				.tone_hz = (unsigned)tone,
				.debug = cli_env_flag("RTP_DEBUG"),
			},
		},
	};
	cli_incall_ext(&ic, &d.opts.ext);
	cli_incall_media(&ic, &d.opts.media); /* a file to play, to record, a tone to hear */
	pthread_mutex_init(&d.out, NULL);
	g_dial = &d;
	struct worker *w = calloc(count, sizeof(*w));
	if (!w || sipcx_phone_new(&d.phone, ua, NULL) || sipcx_ctx_new(&d.sig, NULL, 0) ||
	    sipcx_ctx_new(&d.hurry, NULL, 0)) {
		fprintf(stderr, "sipcx dial: out of memory\n");
		free(w);
		sipcx_phone_free(d.phone);
		sipcx_ua_free(ua);
		sipcx_ctx_free(d.sig);
		return CLI_EXIT_FAIL;
	}
	cli_cancel_on_signals(d.sig);
	cli_hurry_on_signals(d.hurry);
	/* Calls start at --rate; at most MAX_PARALLEL run at once. */
	unsigned long started = 0, joined = 0;
	for (unsigned long i = 0; i < count && !sipcx_ctx_err(d.sig); i++) {
		if (i - joined >= MAX_PARALLEL)
			pthread_join(w[joined++].t, NULL);
		uint64_t due = d.t0 + i * 1000000u / rate, now = sipcx_now_us();
		if (due > now) {
			struct sipcx_ctx *gap = sipcx_ctx_timeout(d.sig, (due - now + 999) / 1000);
			if (gap)
				sipcx_ctx_wait(gap);
			sipcx_ctx_free(gap);
			if (sipcx_ctx_err(d.sig))
				break;
		}
		w[i].d = &d;
		w[i].res.idx = (unsigned)i + 1;
		if (count == 1) {
			one_call(&d, &w[i].res); /* no thread for one call */
			w[i].started = false;
			started++;
			joined++;
			continue;
		}
		if (pthread_create(&w[i].t, NULL, worker_main, &w[i]) != 0)
			break;
		w[i].started = true;
		started++;
	}
	for (unsigned long i = joined; i < started; i++)
		if (w[i].started)
			pthread_join(w[i].t, NULL);
	unsigned long answered = 0, failed = 0;
	int exit_code = CLI_EXIT_OK;
	for (unsigned long i = 0; i < started; i++) {
		if (w[i].res.info.answered_us)
			answered++;
		if (w[i].res.exit_code != CLI_EXIT_OK) {
			failed++;
			if (exit_code == CLI_EXIT_OK)
				exit_code = w[i].res.exit_code;
		}
	}
	if (sipcx_ctx_err(d.sig) && exit_code == CLI_EXIT_OK && started < count)
		exit_code = DIAL_EXIT_INTERRUPTED;
	if (cc.json) {
		struct cli_json j;
		cli_json_begin(&j, "summary");
		cli_json_str(&j, "uri", uri);
		cli_json_raw(&j, "attempted", "%lu", started);
		cli_json_raw(&j, "answered", "%lu", answered);
		cli_json_raw(&j, "failed", "%lu", failed);
		cli_json_int(&j, "exit", exit_code);
		cli_json_end(&j);
	} else if (count > 1)
		printf("--- %s: %lu calls, %lu answered, %lu failed\n", uri, started, answered,
		       failed);
	cli_cancel_on_signals(NULL);
	sipcx_phone_free(d.phone);
	sipcx_ua_free(ua);
	sipcx_ctx_free(d.sig);
	sipcx_ctx_free(d.hurry);
	pthread_mutex_destroy(&d.out);
	free(w);
	return exit_code;
}
