/* sipcx CLI: what every command shows of itself: --trace, --pcap, --hep, --ladder, --mermaid, --json event lines, --junit. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sipcx/base.h>
#include <sipcx/call.h>
#include <sipcx/hep.h>
#include <sipcx/ladder.h>
#include <sipcx/media.h>
#include <sipcx/msg.h>
#include <sipcx/pcap.h>
#include <sipcx/rtp.h>
#include <sipcx/trace.h>

#include "cli.h"

static struct {
	const char *cmd;
	bool trace, json;
	const char *mermaid_path, *junit_path, *pcap_path;
	struct sipcx_pcap *pcap;
	struct sipcx_hep *hep;
	struct sipcx_ladder *ladder;
	bool ladder_print;
	uint64_t t0;
	pthread_mutex_t out;
	/* JUnit test cases, written at the end */
	struct sipcx_buf junit;
	unsigned junit_tests, junit_failures;
	double junit_time;
} obs = { .out = PTHREAD_MUTEX_INITIALIZER };

static void fanout(const struct sipcx_trace_event *ev, void *arg)
{
	(void)arg;
	if (obs.trace && ev->kind == SIPCX_TRACE_SIP)
		sipcx_trace_file(ev, stderr);
	if (obs.pcap)
		sipcx_pcap_write(obs.pcap, ev);
	if (obs.hep && ev->kind == SIPCX_TRACE_SIP)
		sipcx_hep_trace(ev, obs.hep);
	if (obs.ladder)
		sipcx_ladder_add(obs.ladder, ev);
}

int cli_observe_start(const char *cmd, const struct cli_common *c)
{
	obs.cmd = cmd;
	obs.t0 = sipcx_now_us();
	obs.trace = c->trace;
	obs.json = c->json;
	if (c->verbose)
		sipcx_log_set(sipcx_log_stderr, SIPCX_LOG_DEBUG, NULL);
	if (c->hep) {
		int r = sipcx_hep_open(c->hep, &obs.hep);
		if (r == -EINVAL)
			return cli_usage(cmd, "bad --hep (udp:HOST:PORT[;id=N][;password=P])",
			                 c->hep);
		if (r) {
			fprintf(stderr, "sipcx %s: --hep %s: %s\n", cmd, c->hep, sipcx_strerror(r));
			return CLI_EXIT_USAGE;
		}
	}
	if (c->pcap) {
		int r = sipcx_pcap_open(c->pcap, &obs.pcap);
		if (r) {
			fprintf(stderr, "sipcx %s: cannot write --pcap %s: %s\n", cmd, c->pcap,
			        sipcx_strerror(r));
			return CLI_EXIT_USAGE;
		}
		obs.pcap_path = c->pcap;
	}
	if ((c->ladder || c->mermaid) && sipcx_ladder_new(&obs.ladder) != 0) {
		fprintf(stderr, "sipcx %s: out of memory\n", cmd);
		return CLI_EXIT_FAIL;
	}
	obs.ladder_print = c->ladder;
	obs.mermaid_path = c->mermaid;
	obs.junit_path = c->junit;
	sipcx_buf_init(&obs.junit);
	unsigned kinds = SIPCX_TRACE_SIP;
	if (obs.pcap || obs.ladder)
		kinds |= SIPCX_TRACE_RTP | SIPCX_TRACE_RTCP;
	if (obs.trace || obs.pcap || obs.hep || obs.ladder) {
		sipcx_trace_set_kinds(kinds);
		sipcx_trace_set(fanout, NULL);
	}
	return -1;
}

static bool write_file(const char *what, const char *path, const struct sipcx_buf *b)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fwrite(b->p, 1, b->len, f) == b->len;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok)
		fprintf(stderr, "sipcx %s: cannot write %s %s: %s\n", obs.cmd, what, path,
		        strerror(errno));
	return ok;
}

int cli_observe_end(int exit_code)
{
	sipcx_trace_set(NULL, NULL);
	sipcx_trace_set_kinds(0);
	int rc = exit_code;
	if (obs.pcap && sipcx_pcap_close(obs.pcap) != 0) {
		fprintf(stderr, "sipcx %s: --pcap %s: write failed\n", obs.cmd, obs.pcap_path);
		if (rc == CLI_EXIT_OK)
			rc = CLI_EXIT_FAIL;
	}
	obs.pcap = NULL;
	if (obs.hep) {
		uint64_t sent = 0, failed = 0;
		sipcx_hep_counts(obs.hep, &sent, &failed);
		if (failed)
			fprintf(stderr, "sipcx %s: --hep: %llu of %llu packets not sent\n", obs.cmd,
			        (unsigned long long)failed, (unsigned long long)(sent + failed));
		sipcx_hep_close(obs.hep);
		obs.hep = NULL;
	}
	if (obs.ladder) {
		struct sipcx_buf b;
		if (obs.ladder_print) {
			/* with --json, stdout holds JSON lines only: the drawing goes to stderr */
			sipcx_buf_init(&b);
			if (sipcx_ladder_ascii(obs.ladder, &b) == 0) {
				FILE *f = obs.json ? stderr : stdout;
				fwrite(b.p, 1, b.len, f);
				fflush(f);
			}
			sipcx_buf_free(&b);
		}
		if (obs.mermaid_path) {
			sipcx_buf_init(&b);
			if (sipcx_ladder_mermaid(obs.ladder, &b) != 0 ||
			    !write_file("--mermaid", obs.mermaid_path, &b))
				rc = rc == CLI_EXIT_OK ? CLI_EXIT_FAIL : rc;
			sipcx_buf_free(&b);
		}
		sipcx_ladder_free(obs.ladder);
		obs.ladder = NULL;
	}
	if (obs.junit_path) {
		struct sipcx_buf b;
		sipcx_buf_init(&b);
		sipcx_buf_printf(&b,
		                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		                 "<testsuites tests=\"%u\" failures=\"%u\" time=\"%.3f\">\n"
		                 "  <testsuite name=\"sipcx %s\" tests=\"%u\" failures=\"%u\" "
		                 "errors=\"0\" time=\"%.3f\">\n",
		                 obs.junit_tests, obs.junit_failures, obs.junit_time, obs.cmd,
		                 obs.junit_tests, obs.junit_failures, obs.junit_time);
		sipcx_buf_append(&b, obs.junit.p, obs.junit.len);
		sipcx_buf_puts(&b, "  </testsuite>\n</testsuites>\n");
		if (sipcx_buf_err(&b) || !write_file("--junit", obs.junit_path, &b))
			rc = rc == CLI_EXIT_OK ? CLI_EXIT_FAIL : rc;
		sipcx_buf_free(&b);
	}
	sipcx_buf_free(&obs.junit);
	return rc;
}

bool cli_json_on(void)
{
	return obs.json;
}

double cli_since(void)
{
	return (double)(sipcx_now_us() - obs.t0) / 1e6;
}

/* ------------------------------------------------------------ JSON lines -- */

static void json_escaped(struct sipcx_buf *b, const char *s, size_t n)
{
	sipcx_buf_append(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			sipcx_buf_append(b, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			sipcx_buf_printf(b, "\\u%04x", c);
		} else {
			sipcx_buf_append(b, s + i, 1);
		}
	}
	sipcx_buf_append(b, "\"", 1);
}

void cli_json_begin(struct cli_json *j, const char *event)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	sipcx_buf_init(&j->b);
	sipcx_buf_puts(&j->b, "{\"event\":");
	json_escaped(&j->b, event, strlen(event));
	sipcx_buf_printf(&j->b, ",\"ts\":%lld.%03ld,\"t\":%.6f", (long long)ts.tv_sec,
	                 ts.tv_nsec / 1000000, cli_since());
}

static void key(struct cli_json *j, const char *k)
{
	sipcx_buf_append(&j->b, ",", 1);
	json_escaped(&j->b, k, strlen(k));
	sipcx_buf_append(&j->b, ":", 1);
}

void cli_json_str(struct cli_json *j, const char *k, const char *v)
{
	key(j, k);
	json_escaped(&j->b, v ? v : "", v ? strlen(v) : 0);
}

void cli_json_strn(struct cli_json *j, const char *k, const char *v, size_t n)
{
	key(j, k);
	json_escaped(&j->b, v ? v : "", v ? n : 0);
}

void cli_json_int(struct cli_json *j, const char *k, long long v)
{
	key(j, k);
	sipcx_buf_printf(&j->b, "%lld", v);
}

void cli_json_num(struct cli_json *j, const char *k, double v, int decimals)
{
	key(j, k);
	sipcx_buf_printf(&j->b, "%.*f", decimals, v);
}

void cli_json_bool(struct cli_json *j, const char *k, bool v)
{
	key(j, k);
	sipcx_buf_puts(&j->b, v ? "true" : "false");
}

void cli_json_raw(struct cli_json *j, const char *k, const char *fmt, ...)
{
	key(j, k);
	va_list ap;
	va_start(ap, fmt);
	sipcx_buf_vprintf(&j->b, fmt, ap);
	va_end(ap);
}

void cli_json_end(struct cli_json *j)
{
	sipcx_buf_puts(&j->b, "}\n");
	if (sipcx_buf_err(&j->b) == 0) {
		pthread_mutex_lock(&obs.out);
		fwrite(j->b.p, 1, j->b.len, stdout);
		fflush(stdout);
		pthread_mutex_unlock(&obs.out);
	}
	sipcx_buf_free(&j->b);
}

/* -------------------------------------------------------- call events -- */

static const char *call_event_name(enum sipcx_call_event_type t)
{
	switch (t) {
	case SIPCX_CALL_EV_RINGING:
		return "ringing";
	case SIPCX_CALL_EV_ANSWERED:
		return "answered";
	case SIPCX_CALL_EV_ESTABLISHED:
		return "established";
	case SIPCX_CALL_EV_MEDIA:
		return "media";
	case SIPCX_CALL_EV_ENDED:
		return "hangup";
	case SIPCX_CALL_EV_RTCP:
		return "rtcp";
	case SIPCX_CALL_EV_DTMF:
		return "dtmf";
	case SIPCX_CALL_EV_TRANSFER:
		return "transfer";
	case SIPCX_CALL_EV_REPLACED:
		return "replaced";
	}
	return "call-event";
}

void cli_json_call_event(unsigned idx, struct sipcx_call *call, const struct sipcx_call_event *ev)
{
	struct sipcx_call_info in;
	sipcx_call_info(call, &in);
	struct cli_json j;
	cli_json_begin(&j, call_event_name(ev->type));
	cli_json_int(&j, "call", idx);
	cli_json_str(&j, "call_id", in.call_id);
	cli_json_str(&j, "direction", in.outgoing ? "out" : "in");
	cli_json_str(&j, "remote", in.remote_uri);
	switch (ev->type) {
	case SIPCX_CALL_EV_RINGING:
		if (ev->msg) {
			cli_json_int(&j, "status", ev->msg->status);
			cli_json_strn(&j, "reason", ev->msg->reason.p, ev->msg->reason.len);
		}
		break;
	case SIPCX_CALL_EV_ANSWERED:
		cli_json_int(&j, "status", in.status);
		cli_json_str(&j, "reason", in.reason);
		cli_json_str(&j, "codec", in.codec);
		cli_json_int(&j, "pt", in.pt);
		cli_json_str(&j, "remote_media", in.remote_media);
		cli_json_int(&j, "local_port", in.local_port);
		cli_json_str(&j, "local_tag", in.local_tag);
		cli_json_str(&j, "remote_tag", in.remote_tag);
		break;
	case SIPCX_CALL_EV_MEDIA:
		cli_json_bool(&j, "remote_hold", in.remote_hold);
		cli_json_bool(&j, "local_hold", in.local_hold);
		cli_json_str(&j, "remote_media", in.remote_media);
		if (ev->msg && !ev->msg->request) {
			cli_json_int(&j, "status",
			             ev->msg->status); /* the answer to our re-INVITE */
			cli_json_strn(&j, "reason", ev->msg->reason.p, ev->msg->reason.len);
		}
		break;
	case SIPCX_CALL_EV_ENDED:
		cli_json_str(&j, "side", sipcx_call_end_name(in.ended_by));
		cli_json_int(&j, "status", in.status);
		cli_json_str(&j, "reason", in.reason);
		cli_json_str(&j, "end_reason", in.end_reason);
		if (in.err)
			cli_json_str(&j, "error", sipcx_strerror(in.err));
		break;
	case SIPCX_CALL_EV_RTCP: {
		struct sipcx_media_stats st;
		struct cli_quality q;
		sipcx_call_stats(call, &st);
		cli_call_quality(&st, &q);
		cli_json_raw(&j, "rtp",
		             "{\"tx\":%llu,\"rx\":%llu,\"lost\":%lld,\"loss_pct\":%.2f,"
		             "\"jitter_ms\":%.3f,\"rtt_ms\":%.3f}",
		             (unsigned long long)st.tx_packets, (unsigned long long)st.rx_packets,
		             (long long)st.lost, q.loss_pct, q.jitter_ms, q.rtt_ms);
		if (st.have_remote_report)
			cli_json_raw(&j, "peer",
			             "{\"loss_pct\":%.2f,\"lost\":%d,\"jitter_ms\":%.3f}",
			             100.0 * st.remote_fraction_lost / 256.0, st.remote_lost,
			             (double)st.remote_jitter_us / 1e3);
		cli_json_num(&j, "mos", q.mos, 2);
		break;
	}
	case SIPCX_CALL_EV_DTMF: {
		char d[2] = { ev->dtmf, 0 };
		cli_json_str(&j, "digit", d);
		cli_json_int(&j, "duration_ms", ev->dtmf_ms);
		cli_json_str(&j, "via", ev->dtmf_mode == SIPCX_DTMF_INFO ? "info" : "rfc4733");
		cli_json_str(&j, "received", in.dtmf_rx);
		break;
	}
	case SIPCX_CALL_EV_TRANSFER:
		if (cli_our_transfer(ev)) {
			cli_json_str(&j, "role", "transferor");
			cli_json_str(&j, "transfer_to", in.transfer_to);
			cli_json_int(&j, "status", in.transfer_result);
		} else {
			cli_json_str(&j, "role", "transferee");
			cli_json_str(&j, "refer_to", in.refer_to);
			if (!ev->msg)
				cli_json_int(&j, "status", in.transfer_status);
		}
		break;
	case SIPCX_CALL_EV_REPLACED: {
		struct sipcx_call *x = sipcx_call_transfer(call);
		struct sipcx_call_info nin = { 0 };
		sipcx_call_info(x, &nin);
		cli_json_str(&j, "by", nin.remote_uri);
		cli_json_str(&j, "by_call_id", nin.call_id);
		sipcx_call_unref(x);
		break;
	}
	case SIPCX_CALL_EV_ESTABLISHED:
		if (in.replaces[0])
			cli_json_str(&j, "replaces", in.replaces);
		break;
	}
	cli_json_end(&j);
}

void cli_call_quality(const struct sipcx_media_stats *st, struct cli_quality *q)
{
	memset(q, 0, sizeof(*q));
	q->loss_pct = st->expected && st->lost > 0 ? 100.0 * (double)st->lost / st->expected : 0;
	q->jitter_ms = (double)st->jitter_us / 1e3;
	q->rtt_ms = st->rtt_count        ? (double)st->rtt_avg_us / 1e3
	            : st->echo_rtt_count ? (double)st->echo_rtt_us / 1e3
	                                 : 0;
	q->mos = sipcx_rtp_mos(q->loss_pct, q->rtt_ms, q->jitter_ms);
}

void cli_json_call_summary(unsigned idx, const struct sipcx_call_info *in,
                           const struct sipcx_media_stats *st, int err, int exit_code,
                           const char *extra_key, const char *extra_json)
{
	struct cli_quality q;
	cli_call_quality(st, &q);
	double setup = in->answered_us ? (double)(in->answered_us - in->start_us) / 1e3 : 0;
	double talk =
	    in->answered_us && in->ended_us ? (double)(in->ended_us - in->answered_us) / 1e6 : 0;
	struct cli_json j;
	cli_json_begin(&j, "call");
	cli_json_int(&j, "call", idx);
	cli_json_str(&j, "call_id", in->call_id);
	cli_json_str(&j, "direction", in->outgoing ? "out" : "in");
	cli_json_str(&j, "remote", in->remote_uri);
	cli_json_int(&j, "status", in->status);
	cli_json_str(&j, "reason", in->reason);
	cli_json_bool(&j, "answered", in->answered_us != 0);
	cli_json_num(&j, "setup_ms", setup, 1);
	cli_json_num(&j, "duration_s", talk, 3);
	cli_json_str(&j, "ended_by", sipcx_call_end_name(in->ended_by));
	cli_json_str(&j, "end_reason", in->end_reason);
	cli_json_str(&j, "error", err ? sipcx_strerror(err) : "");
	cli_json_str(&j, "codec", in->codec);
	cli_json_raw(&j, "rtp",
	             "{\"tx\":%llu,\"rx\":%llu,\"lost\":%lld,\"loss_pct\":%.2f,\"jitter_ms\":%.3f,"
	             "\"rtt_ms\":%.3f,\"rtcp_tx\":%llu,\"rtcp_rx\":%llu,\"rtcp_mux\":%s,"
	             "\"rtcp_rx_mux\":%llu}",
	             (unsigned long long)st->tx_packets, (unsigned long long)st->rx_packets,
	             (long long)st->lost, q.loss_pct, q.jitter_ms, q.rtt_ms,
	             (unsigned long long)st->rtcp_tx, (unsigned long long)st->rtcp_rx,
	             st->rtcp_mux ? "true" : "false", (unsigned long long)st->rtcp_rx_mux);
	if (in->answered_us && st->rx_packets) /* an estimate of what was heard: none, none */
		cli_json_num(&j, "mos", q.mos, 2);
	if (in->srtp[0] || st->srtp_auth_fail || st->srtp_replay)
		cli_json_raw(&j, "srtp", "{\"suite\":\"%s\",\"auth_fail\":%llu,\"replay\":%llu}",
		             in->srtp, (unsigned long long)st->srtp_auth_fail,
		             (unsigned long long)st->srtp_replay);
	if (in->tone_total_ms)
		cli_json_raw(&j, "tone", "{\"longest_ms\":%u,\"total_ms\":%u}", in->tone_ms,
		             in->tone_total_ms);
	if (in->dtmf_rx[0])
		cli_json_str(&j, "dtmf", in->dtmf_rx);
	if (in->pracks)
		cli_json_int(&j, "pracks", in->pracks);
	if (in->session_expires)
		cli_json_raw(&j, "session_timer",
		             "{\"expires_s\":%u,\"refresher\":\"%s\",\"refreshes\":%u}",
		             in->session_expires, in->refresher ? "us" : "peer", in->refreshes);
	if (extra_key && extra_json)
		cli_json_raw(&j, extra_key, "%s", extra_json);
	cli_json_int(&j, "exit", exit_code);
	cli_json_end(&j);
}

/* ------------------------------------------------------------- JUnit -- */

static void xml_escaped(struct sipcx_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			sipcx_buf_puts(b, "&amp;");
			break;
		case '<':
			sipcx_buf_puts(b, "&lt;");
			break;
		case '>':
			sipcx_buf_puts(b, "&gt;");
			break;
		case '"':
			sipcx_buf_puts(b, "&quot;");
			break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
				sipcx_buf_puts(b, "?");
			else
				sipcx_buf_append(b, s, 1);
		}
	}
}

void cli_junit_case(const char *name, double time_s, const char *failure)
{
	if (!obs.junit_path)
		return;
	pthread_mutex_lock(&obs.out);
	obs.junit_tests++;
	obs.junit_time += time_s;
	sipcx_buf_puts(&obs.junit, "    <testcase classname=\"sipcx.");
	xml_escaped(&obs.junit, obs.cmd);
	sipcx_buf_puts(&obs.junit, "\" name=\"");
	xml_escaped(&obs.junit, name);
	sipcx_buf_printf(&obs.junit, "\" time=\"%.3f\"", time_s);
	if (failure) {
		obs.junit_failures++;
		sipcx_buf_puts(&obs.junit, ">\n      <failure message=\"");
		xml_escaped(&obs.junit, failure);
		sipcx_buf_puts(&obs.junit, "\"/>\n    </testcase>\n");
	} else {
		sipcx_buf_puts(&obs.junit, "/>\n");
	}
	pthread_mutex_unlock(&obs.out);
}

bool cli_our_transfer(const struct sipcx_call_event *ev)
{
	/* ours ends with the final NOTIFY or the REFER's failure; the peer's with its REFER or NULL */
	return ev->msg && !(ev->msg->request && ev->msg->method == SIPCX_METHOD_REFER);
}
