/* sipcx answer and sipcx echo: answer incoming calls (ring, answer or reject, echo RTP), optionally registered first (RFC 3261 13.3, 10.2). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/sipcx.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: sipcx answer [OPTIONS]\n"
	    "       sipcx echo [OPTIONS]   (answer --echo, every call, until a signal)\n"
	    "Answer incoming calls: 100, 180 for the ring time, 200 with the SDP answer, ACK,\n"
	    "RTP, BYE; or reject them with a status. The line 'listening on ...' (after the\n"
	    "registration, when asked) says calls are taken from then on, and where.\n\n"
	    "  --listen ADDRS       where to listen (default udp:0.0.0.0:5060); port 0: any;\n"
	    "                       several: \"tls:127.0.0.1:5061 udp:127.0.0.1:5060\"; WebSocket\n"
	    "                       (RFC 7118): ws:HOST:PORT, wss:HOST:PORT (with --tls-cert)\n"
	    "  --register URI       register first (digest on 401/407), unregister at the end\n"
	    "  --username USER      digest user and AoR user (default: $SIP_USERNAME)\n"
	    "  --password PASS      digest password (default: $SIP_PASSWORD)\n"
	    "  --expiry SECONDS     registration expiry asked (default 3600)\n"
	    "  --ringtime DUR       ring this long (180) before answering (default 0: at once)\n"
	    "  --code N             reject every call with status N (486, 603, ...)\n"
	    "  --echo               send every RTP packet back to where it came from\n"
	    "  --tone HZ            send a tone instead (in the call's codec, every 20 ms)\n"
	    "  --no-media           signalling only: the SDP answer names one shared discard\n"
	    "                       port, a call opens no RTP socket (100,000 calls fit)\n"
	    "  --shared-echo        echo on one port pair per loop for every call (as SIPp's\n"
	    "                       -rtp_echo), not a socket per call: packets in batches, only\n"
	    "                       to the addresses of live calls; no RTP statistics per call\n"
	    "  --codec LIST         what we accept, in preference order: pcmu, pcma, g722, opus\n"
	    "                       (default: all of them, in the offer's order)\n"
	    "  --header 'N: v'      an extra header of our responses (repeatable)\n"
	    "  --max-calls N        calls at once; the next INVITE gets 486 (default 64)\n"
	    "  --max-txns N         live transactions at most; past them a request gets 503\n"
	    "                       with Retry-After (default 262144, about 1 KiB each)\n"
	    "  --threads N          N loops (threads), one UA each on the same addresses\n"
	    "                       (SO_REUSEPORT): the kernel hashes each peer's address and\n"
	    "                       port to one of them, so one peer's calls go to one loop;\n"
	    "                       --max-calls and --max-txns are split (default 1)\n"
	    "  --hangup DUR         hang up each call this long after it is up (default: never)\n"
	    "  --count N            exit 0 once N calls have been answered and ended (a call\n"
	    "                       replaced by another, RFC 3891, counts as its successor)\n"
	    "  --duration DUR       stop after DUR (default: until --count, or a signal)\n"
	    "  --rtp-ports MIN-MAX  the RTP port range (default 10000-20000: 5,000 calls)\n" CLI_DTMF_HELP
	        CLI_AUDIO_HELP CLI_EXT_HELP
	    "  --no-refer           refuse a caller's REFER (603); else the target is called\n"
	    "  --early-media        ring with 183 and the SDP: the media starts before the 200\n"
	    "  --transfer-to URI    transfer each caller there (REFER) once the call is up\n"
	    "  --transfer-after DUR after this long (default 1s); the call ends when it worked\n"
	    "  --attended           call --transfer-to first (the consultation, with --username\n"
	    "                       and --password), then REFER with Replaces naming that call\n"
	    "  -q, --quiet          no line per call event (under load)\n" CLI_DNS_HELP CLI_TLS_HELP
	        CLI_COMMON_HELP "  -h, --help           this text\n\n"
	    "At the end (--count, --duration, a signal) each call still up is hung up (BYE;\n"
	    "487 to one still ringing) and its answer awaited, 5 s at most (a second signal:\n"
	    "no more); then the registration is removed. The summary comes last: the counts,\n"
	    "the setup time (INVITE to 2xx, ring time included), RTP loss, jitter and MOS\n"
	    "percentiles of the answered calls (docs/cli-answer.md).\n"
	    "Exit: 0 after --count calls, --duration or SIGINT/SIGTERM; 1 cannot listen or\n"
	    "      register, or a call missed its --expect-dtmf; 2 usage error; 4 registration\n"
	    "      refused (authentication).\n");
}

static int bad(const char *what, const char *arg)
{
	return cli_usage("answer", what, arg);
}

/* The run, shared with the event callback (loop thread). */
struct answer_run {
	struct sipcx_ctx *sig, *done, *hurry;
	bool quiet;
	uint64_t t0;
	unsigned long count;
	uint32_t hangup_ms;
	bool json;
	struct cli_incall ic; /* DTMF, audio, transfers */
	struct sipcx_dtmf_opts dtmf_o;
	const char *cmd;
	/* loop threads (--threads: several) */
	_Atomic unsigned long seen, answered, ended, failed, rejected, nofile;
	/* what the ended calls measured (enum measure), taken once a call under slock */
	pthread_mutex_t slock;
	struct cli_stats *stats;
	unsigned long by_status[700]; /* calls not answered, by the final status we sent */
	uint64_t rtp_tx, rtp_rx;
	pthread_mutex_t nlock; /* nums */
	/* calls made for a caller's REFER: hung up (BYE) when answer stops */
	pthread_mutex_t xlock;
	struct sipcx_call *xfers[64];
	size_t nxfers;
	/* --attended: a thread per transfer (the consultation call blocks), joined at the end */
	struct sipcx_phone *phone;
	struct sipcx_dial_opts consult_o;
	pthread_t consults[64];
	size_t nconsults;
	unsigned long consult_failed; /* under xlock */
	/* each call's number, by its handle (JSON lines and JUnit name calls by number) */
	struct {
		const struct sipcx_call *call;
		unsigned long idx;
	} nums[256];
};

static unsigned long call_num(struct answer_run *r, const struct sipcx_call *call, bool drop)
{
	unsigned long n = 0; /* more calls at once than remembered: no number */
	pthread_mutex_lock(&r->nlock);
	for (size_t i = 0; i < sizeof(r->nums) / sizeof(r->nums[0]); i++)
		if (r->nums[i].call == call) {
			n = r->nums[i].idx;
			if (drop)
				r->nums[i].call = NULL;
			break;
		}
	pthread_mutex_unlock(&r->nlock);
	return n;
}

static void call_summary(struct answer_run *r, struct sipcx_call *call, unsigned long idx)
{
	struct sipcx_call_info in;
	struct sipcx_media_stats st;
	sipcx_call_info(call, &in);
	sipcx_call_stats(call, &st);
	bool failed = in.err && in.err != SIPCX_ESTATUS && in.ended_by != SIPCX_CALL_END_REMOTE;
	char name[320], why[320];
	snprintf(name, sizeof(name), "call %lu from %s", idx, in.remote_uri);
	if (!cli_incall_met(&r->ic, &in, why, sizeof(why)))
		failed = true; /* why says what was expected */
	else
		snprintf(why, sizeof(why), "%s", failed ? sipcx_strerror(in.err) : "");
	cli_junit_case(name,
	               in.ended_us > in.start_us ? (double)(in.ended_us - in.start_us) / 1e6 : 0,
	               failed ? why : NULL);
	if (r->json)
		cli_json_call_summary((unsigned)idx, &in, &st, in.err,
		                      failed ? CLI_EXIT_FAIL : CLI_EXIT_OK, NULL, NULL);
}

/* The measures of the summary, each over the answered calls (the last three: with media). */
enum measure { M_SETUP, M_LOSS, M_JITTER, M_MOS, M_N };

/*
 * An ended call's measures into the run's (its loop thread). One lock a call, at its end: the
 * loops share one collector, and nothing is taken on the per-message path.
 */
static void collect(struct answer_run *r, struct sipcx_call *call, const struct sipcx_call_info *in)
{
	struct sipcx_media_stats st;
	struct cli_quality q;
	sipcx_call_stats(call, &st);
	cli_call_quality(&st, &q);
	bool media = in->answered_us && (st.tx_packets || st.rx_packets);
	pthread_mutex_lock(&r->slock);
	r->rtp_tx += st.tx_packets;
	r->rtp_rx += st.rx_packets;
	if (in->answered_us) {
		/* the INVITE received to our 2xx: the ring time (--ringtime) is in it */
		cli_stats_add(r->stats, M_SETUP, (double)(in->answered_us - in->start_us) / 1e3);
		if (media) {
			cli_stats_add(r->stats, M_LOSS, q.loss_pct);
			cli_stats_add(r->stats, M_JITTER, q.jitter_ms);
			if (st.rx_packets)
				cli_stats_add(r->stats, M_MOS, q.mos);
		}
	} else if (in->status >= 300 && in->status < 700) {
		r->by_status[in->status]++;
	}
	pthread_mutex_unlock(&r->slock);
}

static double since(const struct answer_run *r)
{
	return (double)(sipcx_now_us() - r->t0) / 1e6;
}

struct consult_job {
	struct answer_run *r;
	struct sipcx_call *call; /* a reference */
};

/* --attended, for one call: the consultation, the REFER with Replaces, the consultation's end. */
static void *consult_main(void *arg)
{
	struct consult_job *j = arg;
	struct answer_run *r = j->r;
	struct sipcx_call *consult = NULL;
	struct sipcx_call_info in, cin;
	const char *what;
	int e = cli_attended(r->phone, r->done, j->call, &r->ic, &r->consult_o, 0, &consult, &what);
	sipcx_call_info(j->call, &in);
	if (e && e != 1) {
		fprintf(stderr, "sipcx answer: %s: cannot %s: %s\n", in.remote_uri, what,
		        sipcx_strerror(e));
		pthread_mutex_lock(&r->xlock);
		r->consult_failed++;
		pthread_mutex_unlock(&r->xlock);
	}
	if (consult) {
		sipcx_call_info(consult, &cin);
		if (!r->quiet && !r->json) {
			printf("+%.3fs consultation call to %s answered, Call-ID %s\n", since(r),
			       r->ic.transfer_to, cin.call_id);
			fflush(stdout);
		}
		struct sipcx_ctx *ending = sipcx_ctx_timeout(r->hurry, 5000);
		cli_consult_end(ending, consult, &cin);
		sipcx_ctx_free(ending);
		if (!r->quiet && !r->json) {
			printf("+%.3fs consultation call ended by %s%s%s\n", since(r),
			       sipcx_call_end_name(cin.ended_by),
			       cin.end_reason[0] ? ", reason " : "", cin.end_reason);
			fflush(stdout);
		}
	}
	sipcx_call_unref(j->call);
	free(j);
	return NULL;
}

/* Start --attended for call (loop thread: the consultation is made on a thread of its own). */
static void consult_start(struct answer_run *r, struct sipcx_call *call)
{
	struct consult_job *j = malloc(sizeof(*j));
	bool ok = false;
	pthread_mutex_lock(&r->xlock);
	if (j && r->nconsults < sizeof(r->consults) / sizeof(r->consults[0])) {
		*j = (struct consult_job){ r, sipcx_call_ref(call) };
		ok = pthread_create(&r->consults[r->nconsults], NULL, consult_main, j) == 0;
		if (ok)
			r->nconsults++;
		else
			sipcx_call_unref(call);
	}
	if (!ok)
		r->consult_failed++;
	pthread_mutex_unlock(&r->xlock);
	if (!ok) {
		fprintf(stderr, "sipcx answer: cannot start the attended transfer\n");
		free(j);
	}
}

/* Calls are numbered in the order they come: the number rides in the call's info (its Call-ID). */
static void on_event(struct sipcx_call *call, const struct sipcx_call_event *ev, void *arg)
{
	struct answer_run *r = arg;
	if (ev->type == SIPCX_CALL_EV_TRANSFER && !ev->msg) {
		/* a caller's REFER was followed: that call is ours to end */
		struct sipcx_call *x = sipcx_call_transfer(call);
		pthread_mutex_lock(&r->xlock);
		if (x && r->nxfers < sizeof(r->xfers) / sizeof(r->xfers[0]))
			r->xfers[r->nxfers++] = x;
		else
			sipcx_call_free(x);
		pthread_mutex_unlock(&r->xlock);
	}
	if (ev->type == SIPCX_CALL_EV_ESTABLISHED && r->ic.dtmf) {
		int e = sipcx_call_send_dtmf(call, r->ic.dtmf,
		                             (enum sipcx_dtmf_mode)r->ic.dtmf_mode, &r->dtmf_o);
		if (e) {
			fprintf(
			    stderr, "sipcx answer: cannot send the DTMF: %s%s\n", sipcx_strerror(e),
			    e == -ENOTSUP ? " (the peer took no telephone-event: --dtmf-mode info)"
			                  : "");
			r->failed++;
		}
	}
	if (ev->type == SIPCX_CALL_EV_ESTABLISHED && r->ic.transfer_to && r->ic.attended) {
		consult_start(r, call);
	} else if (ev->type == SIPCX_CALL_EV_ESTABLISHED && r->ic.transfer_to) {
		int e = sipcx_call_refer(call, r->ic.transfer_to, cli_ms(r->ic.transfer_after_us));
		if (e) {
			fprintf(stderr, "sipcx answer: cannot transfer: %s\n", sipcx_strerror(e));
			r->failed++;
		}
	}
	if (ev->type == SIPCX_CALL_EV_ANSWERED)
		r->answered++;
	if (ev->type == SIPCX_CALL_EV_ENDED) {
		/* the digits, the tone, the transfer this run expects of each call */
		struct sipcx_call_info in;
		char why[320];
		sipcx_call_info(call, &in);
		if (!cli_incall_met(&r->ic, &in, why, sizeof(why)))
			r->failed++;
		if (!in.answered_us)
			r->rejected++;
		collect(r, call, &in);
		if (cli_nofile_error(in.err)) { /* 503 sent: no descriptor for its RTP */
			r->nofile++;
			cli_nofile_reached(r->cmd);
		}
	}
	if (r->quiet) {
		/* Only what --count needs: the number of answered calls that ended. */
		if (ev->type == SIPCX_CALL_EV_ENDED && r->count) {
			struct sipcx_call_info in;
			sipcx_call_info(call, &in);
			if (in.answered_us && !in.replaced && ++r->ended >= r->count)
				sipcx_ctx_cancel(r->done);
		}
		return;
	}
	if (r->json) {
		unsigned long idx = call_num(r, call, ev->type == SIPCX_CALL_EV_ENDED);
		cli_json_call_event((unsigned)idx, call, ev);
		if (ev->type == SIPCX_CALL_EV_ENDED) {
			call_summary(r, call, idx);
			struct sipcx_call_info in;
			sipcx_call_info(call, &in);
			if (in.answered_us && !in.replaced && ++r->ended >= r->count && r->count)
				sipcx_ctx_cancel(r->done);
		}
		return;
	}
	struct sipcx_call_info in;
	sipcx_call_info(call, &in);
	switch (ev->type) {
	case SIPCX_CALL_EV_RINGING:
		printf("+%.3fs ringing %s (Call-ID %s)\n", since(r), in.remote_uri, in.call_id);
		break;
	case SIPCX_CALL_EV_ANSWERED:
		printf("+%.3fs answered %s: 200 OK, %s/%u pt %d, media to %s\n", since(r),
		       in.remote_uri, in.codec, in.clock, in.pt, in.remote_media);
		break;
	case SIPCX_CALL_EV_RTCP:
		break; /* the numbers come in the ended line */
	case SIPCX_CALL_EV_TRANSFER:
		if (cli_our_transfer(ev))
			printf("+%.3fs transferred %s to %s: %u\n", since(r), in.remote_uri,
			       in.transfer_to, in.transfer_result);
		else if (ev->msg)
			printf("+%.3fs transferred by %s (REFER) to %s\n", since(r), in.remote_uri,
			       in.refer_to);
		else
			printf("+%.3fs transfer to %s: %u\n", since(r), in.refer_to,
			       in.transfer_status);
		break;
	case SIPCX_CALL_EV_REPLACED: {
		struct sipcx_call *x = sipcx_call_transfer(call);
		struct sipcx_call_info nin = { 0 };
		sipcx_call_info(x, &nin);
		printf("+%.3fs call with %s replaced (INVITE with Replaces) by %s\n", since(r),
		       in.remote_uri, nin.remote_uri);
		sipcx_call_unref(x);
		break;
	}
	case SIPCX_CALL_EV_DTMF:
		printf("+%.3fs dtmf %c from %s (%u ms, %s)\n", since(r), ev->dtmf, in.remote_uri,
		       ev->dtmf_ms, ev->dtmf_mode == SIPCX_DTMF_INFO ? "info" : "rfc4733");
		break;
	case SIPCX_CALL_EV_ESTABLISHED:
		printf("+%.3fs established (ACK) %s%s%s\n", since(r), in.remote_uri,
		       in.replaces[0] ? ", replacing Call-ID " : "", in.replaces);
		break;
	case SIPCX_CALL_EV_MEDIA:
		printf("+%.3fs media changed by %s: %s, to %s\n", since(r), in.remote_uri,
		       in.remote_hold ? "on hold" : "active", in.remote_media);
		break;
	case SIPCX_CALL_EV_ENDED: {
		struct sipcx_media_stats st;
		sipcx_call_stats(call, &st);
		double talk = in.answered_us ? (double)(in.ended_us - in.answered_us) / 1e6 : 0;
		if (in.answered_us)
			printf("+%.3fs ended %s by %s after %.3f s%s%s; rtp rx %llu tx %llu lost "
			       "%lld\n",
			       since(r), in.remote_uri, sipcx_call_end_name(in.ended_by), talk,
			       in.end_reason[0] ? ", reason " : "", in.end_reason,
			       (unsigned long long)st.rx_packets, (unsigned long long)st.tx_packets,
			       (long long)st.lost);
		else
			printf("+%.3fs %s %s: %u %s (%s)\n", since(r),
			       in.ended_by == SIPCX_CALL_END_REMOTE ? "cancelled" : "rejected",
			       in.remote_uri, in.status, in.reason,
			       sipcx_call_end_name(in.ended_by));
		char prefix[32];
		snprintf(prefix, sizeof(prefix), "+%.3fs", since(r));
		cli_incall_print(&r->ic, &in, prefix);
		cli_srtp_print(&in, &st, prefix);
		call_summary(r, call, call_num(r, call, true));
		if (in.answered_us && !in.replaced && ++r->ended >= r->count && r->count)
			sipcx_ctx_cancel(r->done);
		break;
	}
	}
	fflush(stdout);
}

static int on_call(struct sipcx_call *call, const struct sipcx_msg *req, void *arg)
{
	struct answer_run *r = arg;
	const struct sipcx_addr *from = sipcx_msg_from(req);
	unsigned long seen = ++r->seen;
	if (r->quiet)
		return SIPCX_CALL_DEFAULT;
	pthread_mutex_lock(&r->nlock);
	for (size_t i = 0; i < sizeof(r->nums) / sizeof(r->nums[0]); i++)
		if (!r->nums[i].call) {
			r->nums[i].call = call;
			r->nums[i].idx = seen;
			break;
		}
	pthread_mutex_unlock(&r->nlock);
	if (r->json) {
		struct cli_json j;
		cli_json_begin(&j, "incoming");
		cli_json_int(&j, "call", (long long)seen);
		cli_json_strn(&j, "from", from ? from->raw.p : "", from ? from->raw.len : 0);
		cli_json_strn(&j, "request", req->start_line.p, req->start_line.len);
		cli_json_end(&j);
		return SIPCX_CALL_DEFAULT;
	}
	printf("+%.3fs incoming call %lu from %.*s\n", since(r), seen,
	       from ? (int)from->raw.len : 0, from ? from->raw.p : "");
	fflush(stdout);
	return SIPCX_CALL_DEFAULT;
}

/*
 * --threads: UAs 1..n-1 listen where UA 0 does (its ports: a port 0 is
 * resolved), each on its own loop thread, SO_REUSEPORT on every one.
 */
static int more_uas(struct sipcx_ua **uas, unsigned long n, struct sipcx_ua_opts *uo, char *spec,
                    size_t size)
{
	size_t len = 0;
	struct sipcx_tp_addr a;
	for (size_t i = 0; sipcx_ua_bound(uas[0], i, &a) == 0; i++) {
		if (len + 2 >= size)
			return -ENOSPC;
		if (len)
			spec[len++] = ' ';
		int w = sipcx_tp_addr_print(&a, spec + len, size - len);
		if (w < 0 || (size_t)w >= size - len)
			return -ENOSPC;
		len += (size_t)w;
	}
	uo->listen = spec;
	for (unsigned long i = 1; i < n; i++) {
		int r = sipcx_ua_new(&uas[i], uo);
		if (r)
			return r;
	}
	return 0;
}

/* "486:3 487:1": the calls not answered, by status (JSON: {"486":3,"487":1}). */
static void status_list(const struct answer_run *r, struct sipcx_buf *b, bool json)
{
	for (unsigned s = 300; s < 700; s++)
		if (r->by_status[s])
			sipcx_buf_printf(b, json ? "%s\"%u\":%lu" : "%s%u:%lu",
			                 b->len > (json ? 1 : 0) ? (json ? "," : " ") : "", s,
			                 r->by_status[s]);
}

/* The run's counts and measures, every loop together (after the loops stopped): the last line. */
static void summary(struct answer_run *r, uint64_t refused, uint64_t busy, int exit_code)
{
	struct cli_pct setup = cli_stats_pct(r->stats, M_SETUP),
	               loss = cli_stats_pct(r->stats, M_LOSS),
	               jit = cli_stats_pct(r->stats, M_JITTER),
	               mos = cli_stats_pct(r->stats, M_MOS);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	if (r->json) {
		struct cli_json j;
		cli_json_begin(&j, "summary");
		cli_json_raw(&j, "calls", "%lu", (unsigned long)r->seen);
		cli_json_raw(&j, "answered", "%lu", (unsigned long)r->answered);
		cli_json_raw(&j, "unanswered", "%lu", (unsigned long)r->rejected);
		cli_json_raw(&j, "failed", "%lu", (unsigned long)r->failed);
		cli_json_raw(&j, "refused_txns", "%llu", (unsigned long long)refused);
		cli_json_raw(&j, "refused_fds", "%lu", (unsigned long)r->nofile);
		cli_json_raw(&j, "refused_busy", "%llu", (unsigned long long)busy);
		sipcx_buf_append(&b, "{", 1);
		status_list(r, &b, true);
		sipcx_buf_append(&b, "}", 1);
		cli_json_raw(&j, "unanswered_by_status", "%.*s", (int)b.len, b.p);
		cli_json_pct(&j, "setup_ms", &setup, false);
		cli_json_raw(&j, "rtp", "{\"tx\":%llu,\"rx\":%llu}", (unsigned long long)r->rtp_tx,
		             (unsigned long long)r->rtp_rx);
		cli_json_pct(&j, "loss_pct", &loss, false);
		cli_json_pct(&j, "jitter_ms", &jit, false);
		cli_json_pct(&j, "mos", &mos, true);
		cli_json_int(&j, "exit", exit_code);
		cli_json_end(&j);
		sipcx_buf_free(&b);
		return;
	}
	printf("--- answer: %lu calls taken, %lu answered, %lu not answered, %lu failed; 503: %llu "
	       "at the transaction cap, %lu out of descriptors; 486: %llu at --max-calls\n",
	       (unsigned long)r->seen, (unsigned long)r->answered, (unsigned long)r->rejected,
	       (unsigned long)r->failed, (unsigned long long)refused, (unsigned long)r->nofile,
	       (unsigned long long)busy);
	status_list(r, &b, false);
	if (b.len)
		printf("%-18s %.*s\n", "not answered by", (int)b.len, b.p);
	sipcx_buf_free(&b);
	cli_text_pct("setup time", &setup, "ms (INVITE received to 2xx sent, ring time included)",
	             false);
	if (setup.n)
		printf("%-18s sent %llu  received %llu packets\n", "rtp",
		       (unsigned long long)r->rtp_tx, (unsigned long long)r->rtp_rx);
	cli_text_pct("loss", &loss, "%", false);
	cli_text_pct("jitter", &jit, "ms", false);
	cli_text_pct("MOS", &mos, "", true);
}

static int run(int argc, char **argv, bool echo_cmd)
{
	const char *username = getenv("SIP_USERNAME"), *password = getenv("SIP_PASSWORD");
	const char *listen = "udp:0.0.0.0:5060", *registrar = NULL, *dns_server = NULL;
	unsigned long expiry = 3600, code = 0, max_calls = 64, count = 0, tone = 0;
	unsigned long threads = 1, max_txns = 262144;
	uint64_t ringtime_us = 0, duration_us = 0, hangup_us = 0;
	bool echo = echo_cmd, quiet = false, no_media = false, shared_echo = false;
	bool early = false;
	struct cli_incall ic;
	cli_incall_init(&ic);
	struct cli_ports ports = { 0, 0 };
	struct cli_headers hs = { 0 };
	struct cli_codecs cs = { 0 };
	struct cli_tls tls = { 0 };
	if (username && !*username)
		username = NULL;
	struct cli_common cc;
	const struct cli_opt opts[] = {
		CLI_OPT_STR("listen", &listen),
		CLI_OPT_STR("register", &registrar),
		CLI_OPT_STR("username", &username),
		CLI_OPT_STR("password", &password),
		CLI_OPT_UINT("expiry", &expiry, "bad --expiry (seconds, from 1)", 1, 0x7fffffffUL),
		CLI_OPT_DUR("ringtime", &ringtime_us, "bad --ringtime", 0, 0),
		CLI_OPT_UINT("code", &code, "bad --code (a status 300 to 699)", 300, 699),
		CLI_OPT_FLAG("echo", &echo),
		CLI_OPT_FLAG("no-media", &no_media),
		CLI_OPT_FLAG("shared-echo", &shared_echo),
		CLI_OPT_UINT("tone", &tone, "bad --tone (1 to 3999 Hz)", 1, 3999),
		CLI_OPT_FN("codec", &cs, cli_parse_codecs, CLI_CODEC_ERR),
		CLI_OPT_FN("header", &hs, cli_parse_header,
		           "bad --header (\"Name: value\", at most 16)"),
		CLI_OPT_UINT("max-calls", &max_calls, "bad --max-calls (1 to 100000)", 1, 100000),
		CLI_OPT_UINT("max-txns", &max_txns, "bad --max-txns (1 to 16777216)", 1, 1ul << 24),
		CLI_OPT_UINT("threads", &threads, "bad --threads (1 to 64)", 1, 64),
		CLI_OPT_DUR("hangup", &hangup_us, "bad --hangup", 1000, 0),
		CLI_OPT_UINT("count", &count, "bad --count (a number from 1)", 1, 0),
		CLI_OPT_DUR("duration", &duration_us, "bad --duration", 1000, 0),
		CLI_OPT_FN("rtp-ports", &ports, cli_parse_ports,
		           "bad --rtp-ports (MIN-MAX, 1024 to 65534)"),
		CLI_INCALL_OPTS(&ic),
		CLI_OPT_FLAG("early-media", &early),
		CLI_TLS_OPTS(&tls),
		CLI_DNS_OPT(&dns_server),
		{ .name = "quiet", .short_name = 'q', .kind = CLI_FLAG, .dst = &quiet },
		CLI_OPT_END,
	};
	const char *cmd = echo_cmd ? "echo" : "answer";
	int argi, rc = cli_parse(cmd, argc, argv, opts, &cc, usage, &argi);
	if (rc >= 0)
		return rc;
	if (argi != argc)
		return cli_usage(cmd, "no argument expected here:", argv[argi]);
	if (ic.play && (echo || tone))
		return bad("--play-file, --echo and --tone choose what is sent: one", NULL);
	if ((rc = cli_incall_check(cmd, &ic)) >= 0)
		return rc;
	if (echo && tone)
		return bad("--echo and --tone both", NULL);
	if (no_media && (echo || tone || ic.play || ic.rec || ic.expect_tone))
		return bad("--no-media opens no RTP socket: no --echo, --tone, --play-file, "
		           "--rec-file or --expect-tone with it",
		           NULL);
	if (shared_echo && (no_media || tone || ic.play || ic.rec || ic.expect_tone))
		return bad(
		    "--shared-echo echoes on the loop's one port pair: no --no-media, --tone, "
		    "--play-file, --rec-file or --expect-tone with it",
		    NULL);
	if (shared_echo)
		echo = true;
	if (password && !username)
		return bad("--password without --username", NULL);
	char reg_uri[512];
	if (registrar) {
		snprintf(reg_uri, sizeof(reg_uri), "%s%s",
		         strncmp(registrar, "sip:", 4) && strncmp(registrar, "sips:", 5) ? "sip:"
		                                                                         : "",
		         registrar);
		struct sipcx_uri u;
		if (sipcx_uri_parse(&u, sipcx_str_c(reg_uri)) != 0 ||
		    (u.scheme != SIPCX_URI_SIP && u.scheme != SIPCX_URI_SIPS))
			return bad("bad --register (a sip: or sips: URI or host:port)", registrar);
		registrar = reg_uri;
	}
	rc = cli_observe_start(cmd, &cc);
	if (rc >= 0)
		return rc;

	/* Two sockets a call (RTP, RTCP): more descriptors than the usual 1024. */
	cli_raise_nofile(max_calls * 2 + 256 + threads * 16);
	struct sipcx_ua *uas[64] = { NULL };
	struct sipcx_ua_opts uo = {
		.listen = listen,
		.user = username,
		.max_txns = (uint32_t)((max_txns + threads - 1) / threads),
		.reuse_port = threads > 1,
	};
	if ((rc = cli_tls_apply(cmd, &tls, listen, true, &uo)) >= 0 ||
	    (rc = cli_dns_apply(cmd, dns_server, &uo)) >= 0)
		return rc;
	int r = sipcx_ua_new(&uas[0], &uo);
	if (r) {
		if (r == -EINVAL)
			return bad("bad --listen", listen);
		fprintf(stderr, "sipcx %s: cannot listen on %s: %s\n", cmd, listen,
		        sipcx_strerror(r));
		return CLI_EXIT_FAIL;
	}
	struct sipcx_ua *ua = uas[0]; /* the one that registers */
	char spec[1024];              /* their listen addresses */
	if (threads > 1 && (r = more_uas(uas, threads, &uo, spec, sizeof(spec))) != 0) {
		fprintf(stderr, "sipcx %s: --threads %lu: cannot listen on %s again: %s\n", cmd,
		        threads, uo.listen, sipcx_strerror(r));
		for (unsigned long i = 0; i < threads; i++)
			sipcx_ua_free(uas[i]);
		return CLI_EXIT_FAIL;
	}
	struct answer_run ar = {
		.t0 = sipcx_now_us(),
		.count = count,
		.hangup_ms = cli_ms(hangup_us),
		.quiet = quiet,
		.json = cc.json,
		.ic = ic,
		.dtmf_o = cli_incall_dtmf(&ic),
		.cmd = cmd,
	};
	pthread_mutex_init(&ar.xlock, NULL);
	pthread_mutex_init(&ar.nlock, NULL);
	pthread_mutex_init(&ar.slock, NULL);
	struct sipcx_phone *phone = NULL;
	struct sipcx_reg *reg = NULL;
	int exit_code = CLI_EXIT_OK;
	if (cli_stats_new(&ar.stats, M_N) || sipcx_ctx_new(&ar.sig, NULL, 0) ||
	    sipcx_ctx_new(&ar.hurry, NULL, 0) ||
	    sipcx_ctx_new(&ar.done, ar.sig, duration_us / 1000) ||
	    sipcx_phone_new(&phone, ua, NULL)) {
		fprintf(stderr, "sipcx %s: out of memory\n", cmd);
		exit_code = CLI_EXIT_FAIL;
		goto out;
	}
	ar.phone = phone;
	cli_cancel_on_signals(ar.sig);
	cli_hurry_on_signals(ar.hurry);
	if (registrar) {
		struct sipcx_reg_opts ro = {
			.registrar = registrar,
			.username = username,
			.password = username ? (password ? password : "") : NULL,
			.expires_s = (uint32_t)expiry,
		};
		struct sipcx_reg_info ri;
		r = sipcx_phone_register(phone, ar.done, &ro, &reg, &ri);
		if (r) {
			if (ar.json) {
				struct cli_json j;
				cli_json_begin(&j, "register-failed");
				cli_json_str(&j, "error", sipcx_strerror(r));
				cli_json_int(&j, "status", ri.status);
				cli_json_str(&j, "reason", ri.reason);
				cli_json_end(&j);
			} else {
				printf("registration failed: %s%s%u %s\n", sipcx_strerror(r),
				       ri.status ? ", " : "", ri.status, ri.reason);
			}
			cli_junit_case("register", cli_since(), sipcx_strerror(r));
			exit_code = r == SIPCX_EAUTH  ? CLI_EXIT_AUTH
			            : r == -ECANCELED ? CLI_EXIT_OK
			                              : CLI_EXIT_FAIL;
			goto out;
		}
		cli_junit_case("register", cli_since(), NULL);
		if (ar.json) {
			struct cli_json j;
			cli_json_begin(&j, "registered");
			cli_json_str(&j, "contact", ri.contact);
			cli_json_int(&j, "expires", ri.expires_s);
			cli_json_end(&j);
		} else {
			printf("+%.3fs registered %s, expires %u s\n", since(&ar), ri.contact,
			       ri.expires_s);
			fflush(stdout);
		}
	}
	struct sipcx_hdr hdrs[CLI_MAX_HEADERS];
	struct sipcx_sdp_codec codecs[8];
	struct sipcx_answer_opts ao = {
		.ringtime_ms = cli_ms(ringtime_us),
		.answer_code = (uint16_t)code,
		.on_call = on_call,
		.on_call_arg = &ar,
		.hdrs = hdrs,
		.nhdrs = cli_headers_get(&hs, hdrs),
		.max_calls = (unsigned)((max_calls + threads - 1) / threads), /* each UA's share */
		.hangup_ms = ar.hangup_ms,
		.refuse_refer = ic.no_refer,
		.early_media = early,
		.media = {
			.codecs = codecs,
			.ncodecs = cli_codecs_get(&cs, codecs),
			.handler = echo ? SIPCX_MEDIA_ECHO : tone ? SIPCX_MEDIA_TONE : SIPCX_MEDIA_NONE,
			.tone_hz = (unsigned)tone,
			.port_min = ports.min,
			.port_max = ports.max,
			.debug = cli_env_flag("RTP_DEBUG"),
			.sdp_only = no_media || shared_echo,
		},
		.cb = on_event,
		.arg = &ar,
	};
	cli_incall_ext(&ic, &ao.ext);
	cli_incall_media(&ic, &ao.media); /* a file to play, to record, a tone to hear */
	/* --attended: the consultation as we answer, with our credentials (a proxy may challenge) */
	ar.consult_o = (struct sipcx_dial_opts){
		.username = username,
		.password = username ? (password ? password : "") : NULL,
		.media = ao.media,
		.ext = ao.ext,
	};
	for (unsigned long i = 0; i < threads && !r; i++)
		r = sipcx_call_listen(uas[i], &ao); /* the same policy on every loop */
	if (r) {
		fprintf(stderr, "sipcx %s: %s\n", cmd, sipcx_strerror(r));
		exit_code = CLI_EXIT_FAIL;
		goto out;
	}
	/* Readiness: calls are taken from now on; where (port 0 resolved). */
	for (size_t i = 0;; i++) {
		struct sipcx_tp_addr a;
		char text[SIPCX_ADDRSTRLEN + 8];
		if (sipcx_ua_bound(ua, i, &a) != 0 ||
		    sipcx_tp_addr_print(&a, text, sizeof(text)) < 0)
			break;
		for (char *p = text; *p && *p != ':'; p++)
			*p = (char)(*p | 0x20); /* "udp:..." as --listen writes it */
		if (ar.json) {
			struct cli_json j;
			cli_json_begin(&j, "listening");
			cli_json_str(&j, "address", text);
			cli_json_end(&j);
		} else {
			printf("listening on %s\n", text);
		}
	}
	fflush(stdout);

	sipcx_ctx_wait(ar.done);
	for (unsigned long i = 0; i < threads; i++)
		sipcx_call_listen(uas[i], NULL);
	/* Calls still up are hung up (BYE, 487 while ringing), their answers awaited a while. */
	struct sipcx_ctx *ending = sipcx_ctx_timeout(ar.hurry, 5000);
	int unanswered = !ending;
	for (unsigned long i = 0; i < threads && ending; i++)
		unanswered |= sipcx_call_hangup_all(uas[i], ending, NULL) != 0;
	if (unanswered)
		fprintf(stderr, "sipcx %s: calls still up at the end: not all hangups answered\n",
		        cmd);
	sipcx_ctx_free(ending);
out:
	pthread_mutex_lock(&ar.xlock);
	size_t nc = ar.nconsults;
	ar.nconsults = 0;
	pthread_mutex_unlock(&ar.xlock);
	for (size_t i = 0; i < nc; i++)
		pthread_join(ar.consults[i], NULL);
	cli_cancel_on_signals(NULL);
	pthread_mutex_lock(&ar.xlock);
	size_t nx = ar.nxfers;
	ar.nxfers = 0;
	pthread_mutex_unlock(&ar.xlock);
	for (size_t i = 0; i < nx; i++) {
		sipcx_call_hangup(ar.xfers[i], NULL); /* BYE, and its answer */
		sipcx_call_free(ar.xfers[i]);
	}
	if (reg) {
		struct sipcx_ctx *bye = sipcx_ctx_timeout(NULL, 5000);
		sipcx_phone_unregister(phone, bye, reg, NULL);
		sipcx_ctx_free(bye);
		if (ar.json) {
			struct cli_json j;
			cli_json_begin(&j, "unregistered");
			cli_json_end(&j);
		} else {
			printf("+%.3fs unregistered\n", since(&ar));
		}
	}
	sipcx_phone_free(phone);
	uint64_t refused = 0, busy = 0; /* 503 at the transaction cap, 486 at --max-calls */
	for (unsigned long i = 0; i < threads; i++) {
		struct sipcx_ua_stats st;
		sipcx_ua_stats(uas[i], &st);
		refused += st.txn_refused;
		busy += st.calls_busy;
	}
	for (unsigned long i = 0; i < threads; i++)
		sipcx_ua_free(uas[i]); /* calls still up end here */
	/* a call that did not meet its DTMF expectation (or could not send its DTMF) */
	if ((ar.failed || ar.consult_failed) && exit_code == CLI_EXIT_OK)
		exit_code = CLI_EXIT_FAIL;
	summary(&ar, refused, busy, exit_code);
	cli_stats_free(ar.stats);
	sipcx_ctx_free(ar.done);
	sipcx_ctx_free(ar.sig);
	sipcx_ctx_free(ar.hurry);
	fflush(stdout);
	return exit_code;
}

int cmd_answer(int argc, char **argv)
{
	return run(argc, argv, false);
}

int cmd_echo(int argc, char **argv)
{
	return run(argc, argv, true);
}
