/* sipcx rtp: media without signalling: an RTP/RTCP echo and a probe that measures it (RFC 3550). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sipcx/ctx.h>
#include <sipcx/media.h>
#include <sipcx/sockaddr.h>
#include <sipcx/ua.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: sipcx rtp echo [--listen ADDR:PORT] [--duration S] [OPTIONS]\n"
	    "       sipcx rtp probe ADDR:PORT [--count N] [--ptime MS] [--codec pcmu|pcma]\n"
	    "                       [--local ADDR:PORT] [--timeout S] [--max-loss PCT] [OPTIONS]\n"
	    "Check an RTP path (a NAT, a firewall, an SBC, a media relay) without SIP.\n\n"
	    "echo: send back every RTP packet (and RTCP on port+1) to where it came from.\n"
	    "  --listen ADDR:PORT   where to listen (default 0.0.0.0, a port from 10000-20000);\n"
	    "                       the first line printed says which\n"
	    "  --duration S         stop after S seconds (default: until SIGINT/SIGTERM)\n"
	    "  --no-rtcp            send no receiver reports of our own\n\n"
	    "probe: send a G.711 tone to ADDR:PORT with RTCP and check the echo.\n"
	    "  --count N            packets to send (default 100)\n"
	    "  --ptime MS           milliseconds per packet (default 20)\n"
	    "  --codec pcmu|pcma    payload (default pcmu)\n"
	    "  --local ADDR:PORT    local address (default: any, a port from 10000-20000)\n"
	    "  --timeout S          wait this long for echoes after the last packet, and\n"
	    "                       give up when nothing came back S after the first (default 2)\n"
	    "  --max-loss PCT       accept up to PCT %% loss (default 0: the echo must be complete)\n"
	    "  --tone HZ            tone frequency (default 440)\n\n"
	    "both:\n"
	    "  --rtcp-interval S    mean RTCP report interval (default 5 for echo, 1 for probe)\n" CLI_COMMON_HELP
	    "  -h, --help           this text\n"
	    "RTP_DEBUG=1 prints every RTP and RTCP packet on stderr.\n\n"
	    "Exit (probe): 0 every packet came back (or loss within --max-loss); 1 loss above\n"
	    "      the limit, or an error; 2 usage error; 3 nothing came back (timeout).\n"
	    "Exit (echo): 0 after --duration or a signal; 1 an error; 2 usage error.\n");
}

/* One clear line on stderr, and the usage exit code. */
static int bad(const char *what, const char *arg)
{
	return cli_usage("rtp", what, arg);
}

/* An RTP address: "1.2.3.4:5", "[::1]:5" (an IP literal, no name lookup). */
struct hostport {
	char ip[64];
	uint16_t port;
};

static int parse_hostport(const char *s, void *dst)
{
	struct hostport *hp = dst;
	const char *colon, *h = s;
	size_t hl;
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL; /* IPv6 needs brackets */
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(hp->ip))
		return -EINVAL;
	memcpy(hp->ip, h, hl);
	hp->ip[hl] = '\0';
	unsigned long p;
	union sipcx_sa sa;
	if (cli_ulong(colon + 1, 0, 65534, &p) || sipcx_sa_set(&sa, sipcx_str_c(hp->ip), 0))
		return -EINVAL;
	hp->port = (uint16_t)p;
	return 0;
}

static int parse_codec(const char *s, void *dst)
{
	if (!strcasecmp(s, "pcmu"))
		*(int *)dst = 0;
	else if (!strcasecmp(s, "pcma"))
		*(int *)dst = 8;
	else
		return -EINVAL;
	return 0;
}

static void log_stderr(struct sipcx_media *m, const char *line, void *arg)
{
	(void)m;
	(void)arg;
	fprintf(stderr, "%s\n", line);
}

static bool rtp_debug(void)
{
	return cli_env_flag("RTP_DEBUG");
}

static const char *br(const char *ip, bool open)
{
	return strchr(ip, ':') ? (open ? "[" : "]") : "";
}

/*
 * The engine the media runs on: a UA without SIP sockets. Its loop thread
 * runs the session and its callbacks; this thread waits on contexts
 * (SIGINT/SIGTERM cancel sig).
 */
static int engine_start(struct sipcx_ua **ua, struct sipcx_ctx **sig)
{
	struct sipcx_ua_opts uo = { .listen = "" };
	int err = sipcx_ua_new(ua, &uo);
	if (!err && (err = sipcx_ctx_new(sig, NULL, 0)) != 0) {
		sipcx_ua_free(*ua);
		*ua = NULL;
	}
	if (err)
		fprintf(stderr, "sipcx rtp: %s\n", sipcx_strerror(err));
	else
		cli_cancel_on_signals(*sig);
	return err;
}

static void engine_stop(struct sipcx_ua *ua, struct sipcx_ctx *sig)
{
	cli_cancel_on_signals(NULL);
	sipcx_ua_free(ua);
	sipcx_ctx_free(sig);
}

/* ---------------------------------------------------------------- echo -- */

static int rtp_echo(int argc, char **argv)
{
	struct hostport at = { "0.0.0.0", 0 };
	uint64_t duration_us = 0, rtcp_us = 5000000;
	bool no_rtcp = false;
	struct cli_common cc;
	const struct cli_opt opts[] = {
		CLI_OPT_FN("listen", &at, parse_hostport,
		           "bad --listen (an IP and a port: 0.0.0.0:16000, [::]:16000)"),
		CLI_OPT_DUR("duration", &duration_us, "bad --duration (seconds)", 1000, 0),
		CLI_OPT_DUR("rtcp-interval", &rtcp_us, "bad --rtcp-interval (0.01 to 3600 seconds)",
		            10000, 3600000000ull),
		CLI_OPT_FLAG("no-rtcp", &no_rtcp),
		CLI_OPT_END,
	};
	int argi, rc = cli_parse("rtp", argc, argv, opts, &cc, usage, &argi);
	if (rc >= 0)
		return rc;
	if (argi != argc)
		return bad("echo takes no argument here:", argv[argi]);
	rc = cli_observe_start("rtp", &cc);
	if (rc >= 0)
		return rc;

	struct sipcx_ua *ua;
	struct sipcx_ctx *sig, *dur = NULL;
	if (engine_start(&ua, &sig))
		return CLI_EXIT_FAIL;
	struct sipcx_media_opts o = {
		.local_addr = at.ip,
		.port = at.port,
		.handler = SIPCX_MEDIA_ECHO,
		.echo_rtcp = true,
		.latch = SIPCX_MEDIA_LATCH_ANY, /* answer every source: it is a service */
		.rtcp_off = no_rtcp,
		.rtcp_interval_ms = (uint32_t)(rtcp_us / 1000),
		.log = rtp_debug() ? log_stderr : NULL,
	};
	struct sipcx_media *m = NULL;
	int err = sipcx_media_new(&m, ua, &o);
	if (err == 0)
		err = sipcx_media_start(m);
	if (err) {
		fprintf(stderr, "sipcx rtp: cannot listen on %s%s%s:%u: %s\n", br(at.ip, 1), at.ip,
		        br(at.ip, 0), at.port, sipcx_strerror(err));
		sipcx_media_free(m);
		engine_stop(ua, sig);
		return err == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
	}
	uint16_t p = sipcx_media_port(m);
	if (cc.json) {
		char addr[80];
		snprintf(addr, sizeof(addr), "%s%s%s:%u", br(at.ip, 1), at.ip, br(at.ip, 0), p);
		struct cli_json j;
		cli_json_begin(&j, "listening");
		cli_json_str(&j, "address", addr);
		cli_json_int(&j, "rtcp_port", p + 1u);
		cli_json_end(&j);
	} else {
		printf("listening on %s%s%s:%u (RTCP %u)\n", br(at.ip, 1), at.ip, br(at.ip, 0), p,
		       p + 1u);
		fflush(stdout);
	}
	if (sipcx_ctx_new(&dur, sig, duration_us / 1000) == 0)
		sipcx_ctx_wait(dur);
	struct sipcx_media_stats st;
	sipcx_media_stats(m, &st);
	/* Nothing malformed goes back (RFC 3550 A.1, A.2: each packet of a compound). */
	if (cc.json) {
		struct cli_json j;
		cli_json_begin(&j, "summary");
		cli_json_raw(&j, "echoed", "{\"rtp\":%llu,\"bytes\":%llu,\"rtcp\":%llu}",
		             (unsigned long long)st.tx_packets, (unsigned long long)st.tx_bytes,
		             (unsigned long long)st.rtcp_tx);
		cli_json_raw(&j, "dropped", "{\"malformed\":%llu,\"other_source\":%llu}",
		             (unsigned long long)st.rx_malformed,
		             (unsigned long long)st.rx_ignored);
		cli_json_int(&j, "exit", 0);
		cli_json_end(&j);
	} else
		printf(
		    "echoed: %llu RTP packets (%llu bytes), %llu RTCP packets; dropped: %llu malformed, "
		    "%llu from another source\n",
		    (unsigned long long)st.tx_packets, (unsigned long long)st.tx_bytes,
		    (unsigned long long)st.rtcp_tx, (unsigned long long)st.rx_malformed,
		    (unsigned long long)st.rx_ignored);
	sipcx_media_free(m);
	sipcx_ctx_free(dur);
	engine_stop(ua, sig);
	return CLI_EXIT_OK;
}

/* --------------------------------------------------------------- probe -- */

/*
 * The probe's state. The counters are written on the engine's loop thread
 * (the fill and RTP callbacks) and read here: atomics. The send times and
 * pending flags are the loop's alone.
 */
struct probe {
	unsigned long count;
	unsigned long sent, received; /* atomic */
	unsigned long duplicates, out_of_order, foreign;
	uint32_t highest;
	bool have_highest;
	uint32_t ext_seq;  /* extended seq of the last packet sent */
	uint64_t *sent_us; /* by seq & 0xffff */
	uint8_t *pending;
	uint64_t rtt_min, rtt_max, rtt_sum;
	uint64_t t_first, t_last; /* atomic */
	int pt;
	int stop; /* atomic: the main thread has had enough */
	struct sipcx_media_tone tone;
	/* cancelled (as events) from the loop: the first echo, every echo in, an RTCP packet */
	struct sipcx_ctx *first_echo, *all_in, *rtcp_seen;
	/* every rtcp_seen used, freed once the session (and its callbacks) is gone */
	struct sipcx_ctx *seen[8];
	unsigned nseen;
};

static unsigned long ld(const unsigned long *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void probe_rtp(struct sipcx_media *m, const struct sipcx_rtp_pkt *pkt, const uint8_t *data,
                      size_t len, const struct sockaddr *from, void *arg)
{
	(void)data;
	(void)len;
	(void)from;
	struct probe *r = arg;
	if (pkt->ssrc != sipcx_media_ssrc(m)) {
		r->foreign++; /* the peer sends a stream of its own rather than echoing ours */
		return;
	}
	uint64_t now = sipcx_now_us();
	uint16_t s = pkt->seq;
	if (!r->pending[s]) {
		r->duplicates++;
		return;
	}
	r->pending[s] = 0;
	unsigned long got = __atomic_add_fetch(&r->received, 1, __ATOMIC_ACQ_REL);
	uint64_t rtt = now - r->sent_us[s];
	if (rtt < r->rtt_min)
		r->rtt_min = rtt;
	if (rtt > r->rtt_max)
		r->rtt_max = rtt;
	r->rtt_sum += rtt;
	/* extend the sequence number around what we sent last */
	uint32_t ext = r->ext_seq - (uint16_t)((uint16_t)r->ext_seq - s);
	if (r->have_highest && ext < r->highest)
		r->out_of_order++;
	else
		r->highest = ext;
	r->have_highest = true;
	sipcx_ctx_cancel(r->first_echo);
	if (got == r->count)
		sipcx_ctx_cancel(r->all_in);
}

static void probe_event(struct sipcx_media *m, const struct sipcx_media_event *ev, void *arg)
{
	(void)m;
	struct probe *r = arg;
	if (ev->type == SIPCX_MEDIA_EV_RTCP)
		sipcx_ctx_cancel(__atomic_load_n(&r->rtcp_seen, __ATOMIC_ACQUIRE));
}

/* The tone, and what is needed to match its echo: send time and pending flag by seq. */
static int tone_fill(struct sipcx_media *m, struct sipcx_rtp_pkt *pkt, unsigned samples,
                     uint8_t *payload, size_t size, void *arg)
{
	(void)m;
	struct probe *r = arg;
	if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE) || r->sent >= r->count)
		return -1;
	if (samples > size)
		samples = (unsigned)size;
	sipcx_media_tone_g711(&r->tone, r->pt, payload, samples);
	uint64_t now = sipcx_now_us();
	if (r->sent == 0) {
		__atomic_store_n(&r->t_first, now, __ATOMIC_RELEASE);
		r->ext_seq = pkt->seq;
	}
	r->ext_seq = r->ext_seq + (uint16_t)(pkt->seq - (uint16_t)r->ext_seq);
	r->sent_us[pkt->seq] = now;
	r->pending[pkt->seq] = 1;
	__atomic_store_n(&r->t_last, now, __ATOMIC_RELEASE);
	__atomic_add_fetch(&r->sent, 1, __ATOMIC_ACQ_REL);
	return (int)samples;
}

/* Wait for ev (a context cancelled from the loop) at most ms; true when it came. */
static bool wait_event(struct sipcx_ctx *ev, uint64_t ms)
{
	struct sipcx_ctx *w = sipcx_ctx_timeout(ev, ms ? ms : 1);
	int err = w ? sipcx_ctx_wait(w) : -ENOMEM;
	sipcx_ctx_free(w);
	return err == -ECANCELED && sipcx_ctx_err(ev) == -ECANCELED;
}

/* Send, and wait for the echoes: until all are back, or timeout after the first or the last packet. */
static void probe_run(struct probe *r, struct sipcx_media *m, struct sipcx_ctx *sig,
                      uint64_t timeout_ms, unsigned long ptime)
{
	/* Nothing back timeout after the first packet: no point in sending on. */
	uint64_t first_wait = timeout_ms + 100; /* the first packet leaves at once */
	if (!wait_event(r->first_echo, first_wait) && ld(&r->received) == 0)
		return;
	/* Then until every echo is in, or timeout after the last packet. */
	for (;;) {
		if (sipcx_ctx_err(sig) || ld(&r->received) == r->count)
			break;
		uint64_t now = sipcx_now_us(), due;
		if (ld(&r->sent) < r->count)
			due = now + (r->count - ld(&r->sent)) * ptime * 1000u + timeout_ms * 1000u;
		else
			due = __atomic_load_n(&r->t_last, __ATOMIC_ACQUIRE) + timeout_ms * 1000u;
		if (now >= due)
			break;
		wait_event(r->all_in, (due - now + 999) / 1000);
	}
	if (sipcx_ctx_err(sig))
		return;
	/* One last report, so a reflecting peer gives a round trip of RTCP too. */
	struct sipcx_media_stats st;
	sipcx_media_stats(m, &st);
	if (st.echo_rtt_count == 0)
		return; /* the peer does not reflect RTCP: nothing to wait for */
	/* A peer that reflected RTCP before gets a moment to reflect the last SR. */
	uint32_t before = st.echo_rtt_count;
	uint64_t until = sipcx_now_us() + (timeout_ms < 300 ? timeout_ms : 300) * 1000u;
	bool sent = false;
	while (r->nseen < sizeof(r->seen) / sizeof(r->seen[0])) {
		struct sipcx_ctx *seen = NULL;
		if (sipcx_ctx_new(&seen, sig, 0) != 0)
			break;
		r->seen[r->nseen++] = seen;
		__atomic_store_n(&r->rtcp_seen, seen, __ATOMIC_RELEASE);
		if (!sent) {
			sipcx_media_send_rtcp(m);
			sent = true;
		}
		uint64_t now = sipcx_now_us();
		if (now >= until)
			break;
		wait_event(seen, (until - now + 999) / 1000);
		sipcx_media_stats(m, &st);
		/* The reflection, or another RTCP packet: then wait on with a new event. */
		if (st.echo_rtt_count > before || sipcx_ctx_err(sig) || sipcx_now_us() >= until)
			break;
	}
}

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

static void probe_report(const struct probe *r, const struct sipcx_media_stats *st)
{
	unsigned long lost = r->sent - r->received;
	double loss = r->sent ? 100.0 * (double)lost / (double)r->sent : 0;
	printf("sent: %lu packets, %llu bytes\n", r->sent, (unsigned long long)st->tx_bytes);
	printf("received: %lu packets\n", r->received);
	printf("lost: %lu (%.2f%%)\n", lost, loss);
	printf("duplicates: %lu\nout_of_order: %lu\n", r->duplicates, r->out_of_order);
	if (r->foreign)
		printf("foreign: %lu packets of another SSRC (not an echo)\n", r->foreign);
	if (r->received) {
		printf("jitter: %.3f ms\n", ms(st->jitter_us));
		printf("rtt: min %.3f / avg %.3f / max %.3f ms (RTP, %lu echoes)\n", ms(r->rtt_min),
		       (double)r->rtt_sum / (double)r->received / 1000.0, ms(r->rtt_max),
		       r->received);
	}
	if (st->rtt_count)
		printf("rtcp_rtt: %.3f ms (min %.3f / avg %.3f / max %.3f, %u peer reports)\n",
		       ms(st->rtt_us), ms(st->rtt_min_us), ms(st->rtt_avg_us), ms(st->rtt_max_us),
		       st->rtt_count);
	if (st->echo_rtt_count)
		printf("rtcp_echo_rtt: %.3f ms (%u of our reports reflected)\n",
		       ms(st->echo_rtt_us), st->echo_rtt_count);
	if (!st->rtcp_rx)
		printf("rtcp: the peer sent no RTCP\n");
	else if (st->have_remote_report)
		printf("rtcp_peer_view: %.2f%% lost, %d cumulative, jitter %.3f ms\n",
		       100.0 * st->remote_fraction_lost / 256.0, st->remote_lost,
		       ms(st->remote_jitter_us));
}

static int rtp_probe(int argc, char **argv)
{
	unsigned long count = 100, ptime = 20, tone = 440;
	int pt = 0;
	struct hostport local = { "", 0 }, target;
	uint64_t timeout_us = 2000000, rtcp_us = 1000000;
	double max_loss = 0;
	struct cli_common cc;
	const struct cli_opt opts[] = {
		CLI_OPT_UINT("count", &count, "bad --count (1 to 10000000)", 1, 10000000),
		CLI_OPT_UINT("ptime", &ptime, "bad --ptime (1 to 200 ms)", 1, 200),
		CLI_OPT_FN("codec", &pt, parse_codec, "--codec must be pcmu or pcma, not"),
		CLI_OPT_FN("local", &local, parse_hostport,
		           "bad --local (an IP and a port: 0.0.0.0:0, [::1]:17000)"),
		CLI_OPT_DUR("timeout", &timeout_us, "bad --timeout (seconds)", 1000, 0),
		CLI_OPT_PCT("max-loss", &max_loss, "bad --max-loss (a percentage, 0 to 100)"),
		CLI_OPT_UINT("tone", &tone, "bad --tone (1 to 3999 Hz)", 1, 3999),
		CLI_OPT_DUR("rtcp-interval", &rtcp_us, "bad --rtcp-interval (0.01 to 3600 seconds)",
		            10000, 3600000000ull),
		CLI_OPT_END,
	};
	int argi, rc = cli_parse("rtp", argc, argv, opts, &cc, usage, &argi);
	if (rc >= 0)
		return rc;
	if (argi >= argc)
		return bad("probe needs the echo's ADDR:PORT", NULL);
	if (argi + 1 != argc)
		return bad("expected one ADDR:PORT, got more:", argv[argi + 1]);
	if (parse_hostport(argv[argi], &target) || target.port == 0)
		return bad("bad target (an IP and a port: 127.0.0.1:16000, [::1]:16000)",
		           argv[argi]);
	bool v6 = strchr(target.ip, ':') != NULL;
	if (!local.ip[0])
		snprintf(local.ip, sizeof(local.ip), "%s", v6 ? "::" : "0.0.0.0");
	if (v6 != (strchr(local.ip, ':') != NULL))
		return bad("--local and the target are of different IP families:", local.ip);
	rc = cli_observe_start("rtp", &cc);
	if (rc >= 0)
		return rc;

	struct probe *r = calloc(1, sizeof(*r));
	if (r) {
		r->sent_us = calloc(65536, sizeof(*r->sent_us));
		r->pending = calloc(65536, 1);
	}
	struct sipcx_ua *ua = NULL;
	struct sipcx_ctx *sig = NULL;
	if (!r || !r->sent_us || !r->pending || engine_start(&ua, &sig) ||
	    sipcx_ctx_new(&r->first_echo, sig, 0) || sipcx_ctx_new(&r->all_in, sig, 0)) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	r->count = count;
	r->pt = pt;
	r->rtt_min = UINT64_MAX;
	sipcx_media_tone_init(&r->tone, (unsigned)tone, 8000, 8000);
	struct sipcx_media_opts o = {
		.local_addr = local.ip,
		.port = local.port,
		.remote_addr = target.ip,
		.remote_port = target.port,
		.pt = pt,
		.ptime = (unsigned)ptime,
		.handler = SIPCX_MEDIA_USER,
		.fill = tone_fill,
		.on_rtp = probe_rtp,
		.on_event = probe_event,
		.arg = r,
		.rtcp_interval_ms = (uint32_t)(rtcp_us / 1000),
		.log = rtp_debug() ? log_stderr : NULL,
	};
	struct sipcx_media *m = NULL;
	int err = sipcx_media_new(&m, ua, &o);
	if (err) {
		fprintf(stderr, "sipcx rtp: cannot bind %s:%u: %s\n", local.ip, local.port,
		        sipcx_strerror(err));
		rc = err == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
		goto out;
	}
	if (!cc.json) {
		printf("probe: %s%s%s:%u from port %u, %lu packets %s/8000 ptime %lu ms\n",
		       br(target.ip, 1), target.ip, br(target.ip, 0), target.port,
		       sipcx_media_port(m), count, pt ? "PCMA" : "PCMU", ptime);
		fflush(stdout);
	}
	err = sipcx_media_start(m);
	if (err) {
		fprintf(stderr, "sipcx rtp: cannot start: %s\n", sipcx_strerror(err));
		sipcx_media_free(m);
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	probe_run(r, m, sig, timeout_us / 1000, ptime);
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	struct sipcx_media_stats st;
	sipcx_media_stats(m, &st);
	sipcx_media_free(m); /* after this no callback runs: r is ours alone */
	unsigned long lost = r->sent - r->received;
	double loss = r->sent ? 100.0 * (double)lost / (double)r->sent : 0;
	const char *verdict = r->received == 0 ? "TIMEOUT" : loss > max_loss + 1e-9 ? "FAIL" : "OK";
	rc = r->received == 0         ? CLI_EXIT_TIMEOUT
	     : loss > max_loss + 1e-9 ? CLI_EXIT_FAIL
	                              : CLI_EXIT_OK;
	if (cc.json) {
		struct cli_json j;
		cli_json_begin(&j, "summary");
		cli_json_raw(&j, "sent", "%lu", r->sent);
		cli_json_raw(&j, "received", "%lu", r->received);
		cli_json_num(&j, "loss_pct", loss, 2);
		cli_json_raw(&j, "duplicates", "%lu", r->duplicates);
		cli_json_raw(&j, "out_of_order", "%lu", r->out_of_order);
		cli_json_raw(&j, "foreign", "%lu", r->foreign);
		cli_json_num(&j, "jitter_ms", ms(st.jitter_us), 3);
		if (r->received)
			cli_json_raw(&j, "rtt_ms", "{\"min\":%.3f,\"avg\":%.3f,\"max\":%.3f}",
			             ms(r->rtt_min),
			             (double)r->rtt_sum / (double)r->received / 1000.0,
			             ms(r->rtt_max));
		cli_json_num(
		    &j, "mos",
		    sipcx_rtp_mos(
		        loss, r->received ? (double)r->rtt_sum / (double)r->received / 1000.0 : 0,
		        ms(st.jitter_us)),
		    2);
		cli_json_str(&j, "result", verdict);
		cli_json_int(&j, "exit", rc);
		cli_json_end(&j);
	} else {
		probe_report(r, &st);
		if (rc == CLI_EXIT_TIMEOUT)
			printf("result: TIMEOUT nothing came back\n");
		else if (rc == CLI_EXIT_FAIL)
			printf("result: FAIL loss %.2f%% above %.2f%%\n", loss, max_loss);
		else
			printf("result: OK\n");
	}
	{
		char tc[120];
		char why[120];
		snprintf(tc, sizeof(tc), "probe %s:%u", target.ip, target.port);
		snprintf(why, sizeof(why), "%s: %lu of %lu packets came back", verdict, r->received,
		         r->sent);
		cli_junit_case(tc, (double)(r->sent) * (double)ptime / 1000.0,
		               rc == CLI_EXIT_OK ? NULL : why);
	}
	if (sipcx_ctx_err(sig) == -ECANCELED)
		printf("interrupted by a signal\n");
out:
	if (r) {
		for (unsigned i = 0; i < r->nseen; i++)
			sipcx_ctx_free(r->seen[i]);
		sipcx_ctx_free(r->all_in);
		sipcx_ctx_free(r->first_echo);
		free(r->sent_us);
		free(r->pending);
	}
	free(r);
	if (ua)
		engine_stop(ua, sig);
	return rc;
}

int cmd_rtp(int argc, char **argv)
{
	if (argc < 2)
		return bad("missing command: echo or probe", NULL);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "echo"))
		return rtp_echo(argc - 1, argv + 1);
	if (!strcmp(argv[1], "probe"))
		return rtp_probe(argc - 1, argv + 1);
	return bad("unknown rtp command (echo or probe)", argv[1]);
}
