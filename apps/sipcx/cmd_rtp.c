/* sipcx rtp: media without signalling: an RTP/RTCP echo and a probe that measures it (RFC 3550). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <sipcx/media.h>

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
	    "  --rtcp-interval S    mean RTCP report interval (default 5 for echo, 1 for probe)\n"
	    "  -v, --verbose        library log on stderr\n"
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

/* "1.5", "500ms", "2s" -> milliseconds. */
static int parse_secs(const char *s, uint64_t *ms)
{
	uint64_t us;
	int err = cli_duration_us(s, &us);
	if (err == 0)
		*ms = us / 1000;
	return err;
}

/* "1.2.3.4:5", "[::1]:5" -> ip (NUL-terminated) and port. */
static int parse_hostport(const char *s, char *ip, size_t size, uint16_t *port)
{
	const char *colon;
	const char *h = s;
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
	if (hl == 0 || hl >= size)
		return -EINVAL;
	memcpy(ip, h, hl);
	ip[hl] = '\0';
	unsigned long p;
	if (cli_ulong(colon + 1, 0, 65534, &p))
		return -EINVAL;
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;
	if (uv_ip4_addr(ip, 0, &a4) && uv_ip6_addr(ip, 0, &a6))
		return -EINVAL; /* an IP literal, no name lookup */
	*port = (uint16_t)p;
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

/* ---------------------------------------------------------------- echo -- */

struct run {
	uv_loop_t loop;
	uv_signal_t sigint;
	uv_signal_t sigterm;
	uv_timer_t timer;
	struct sipcx_media *m;
	bool stop;
	int sig;
	/* probe */
	unsigned long count;
	unsigned long sent;
	unsigned long received;
	unsigned long duplicates;
	unsigned long out_of_order;
	unsigned long foreign;
	uint32_t highest;
	bool have_highest;
	uint32_t ext_seq;  /* extended seq of the last packet sent */
	uint64_t *sent_us; /* by seq & 0xffff */
	uint8_t *pending;
	uint64_t rtt_min, rtt_max, rtt_sum;
	uint64_t t_first, t_last, t_last_echo;
	uint64_t timeout_us;
	int pt;
	struct sipcx_media_tone tone;
	bool final_sr;
	uint64_t echo_rtt_before;
};

static void on_signal(uv_signal_t *s, int signum)
{
	struct run *r = s->data;
	r->stop = true;
	r->sig = signum;
}

static void close_all(struct run *r)
{
	sipcx_media_free(r->m);
	r->m = NULL;
	uv_close((uv_handle_t *)&r->sigint, NULL);
	uv_close((uv_handle_t *)&r->sigterm, NULL);
	uv_close((uv_handle_t *)&r->timer, NULL);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	uv_loop_close(&r->loop);
}

static void setup_loop(struct run *r)
{
	uv_loop_init(&r->loop);
	uv_signal_init(&r->loop, &r->sigint);
	uv_signal_init(&r->loop, &r->sigterm);
	uv_timer_init(&r->loop, &r->timer);
	r->sigint.data = r->sigterm.data = r->timer.data = r;
	uv_signal_start(&r->sigint, on_signal, SIGINT);
	uv_signal_start(&r->sigterm, on_signal, SIGTERM);
}

static void echo_stop_cb(uv_timer_t *t)
{
	((struct run *)t->data)->stop = true;
}

static int cmd_echo(int argc, char **argv)
{
	enum { O_LISTEN = 256, O_DURATION, O_RTCP_INTERVAL, O_NO_RTCP };
	static const struct option longs[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "rtcp-interval", required_argument, NULL, O_RTCP_INTERVAL },
		{ "no-rtcp", no_argument, NULL, O_NO_RTCP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char ip[64] = "0.0.0.0";
	uint16_t port = 0;
	uint64_t duration_ms = 0, rtcp_ms = 5000;
	bool no_rtcp = false, verbose = false;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, ":vh", longs, NULL)) != -1) {
		switch (c) {
		case O_LISTEN:
			if (parse_hostport(optarg, ip, sizeof(ip), &port))
				return bad(
				    "bad --listen (an IP and a port: 0.0.0.0:16000, [::]:16000)",
				    optarg);
			break;
		case O_DURATION:
			if (parse_secs(optarg, &duration_ms) || duration_ms == 0)
				return bad("bad --duration (seconds)", optarg);
			break;
		case O_RTCP_INTERVAL:
			if (parse_secs(optarg, &rtcp_ms) || rtcp_ms < 10 || rtcp_ms > 3600000)
				return bad("bad --rtcp-interval (0.01 to 3600 seconds)", optarg);
			break;
		case O_NO_RTCP:
			no_rtcp = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		case ':':
			return bad("this option needs a value:", argv[optind - 1]);
		default:
			return bad("unknown option", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return bad("echo takes no argument here:", argv[optind]);
	if (verbose)
		sipcx_log_set(sipcx_log_stderr, SIPCX_LOG_DEBUG, NULL);

	struct run r;
	memset(&r, 0, sizeof(r));
	setup_loop(&r);
	struct sipcx_media_opts o = {
		.local_addr = ip,
		.port = port,
		.handler = SIPCX_MEDIA_ECHO,
		.echo_rtcp = true,
		.latch = SIPCX_MEDIA_LATCH_ANY, /* answer every source: it is a service */
		.rtcp_off = no_rtcp,
		.rtcp_interval_ms = (uint32_t)rtcp_ms,
		.log = rtp_debug() ? log_stderr : NULL,
	};
	int err = sipcx_media_new(&r.m, &r.loop, &o);
	if (err == 0)
		err = sipcx_media_start(r.m);
	if (err) {
		fprintf(stderr, "sipcx rtp: cannot listen on %s%s%s:%u: %s\n",
		        strchr(ip, ':') ? "[" : "", ip, strchr(ip, ':') ? "]" : "", port,
		        sipcx_strerror(err));
		close_all(&r);
		return err == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
	}
	uint16_t p = sipcx_media_port(r.m);
	printf("listening on %s%s%s:%u (RTCP %u)\n", strchr(ip, ':') ? "[" : "", ip,
	       strchr(ip, ':') ? "]" : "", p, p + 1u);
	fflush(stdout);
	if (duration_ms)
		uv_timer_start(&r.timer, echo_stop_cb, duration_ms, 0);
	while (!r.stop && uv_run(&r.loop, UV_RUN_ONCE))
		;
	struct sipcx_media_stats st;
	sipcx_media_stats(r.m, &st);
	printf("echoed: %llu RTP packets (%llu bytes), %llu RTCP packets\n",
	       (unsigned long long)st.tx_packets, (unsigned long long)st.tx_bytes,
	       (unsigned long long)st.rtcp_rx);
	close_all(&r);
	return CLI_EXIT_OK;
}

/* --------------------------------------------------------------- probe -- */

static void probe_rtp(struct sipcx_media *m, const struct sipcx_rtp_pkt *pkt, const uint8_t *data,
                      size_t len, const struct sockaddr *from, void *arg)
{
	(void)data;
	(void)len;
	(void)from;
	struct run *r = arg;
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
	r->received++;
	r->t_last_echo = now;
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
}

static void probe_tick(uv_timer_t *t)
{
	struct run *r = t->data;
	uint64_t now = sipcx_now_us();
	if (r->stop)
		return;
	if (r->received == 0 && r->sent && now - r->t_first >= r->timeout_us) {
		r->stop = true; /* nothing came back: no point in sending on */
		return;
	}
	if (r->sent < r->count)
		return;
	bool all = r->received == r->sent;
	if (!r->final_sr && (all || now - r->t_last >= r->timeout_us)) {
		/* one last report, so a reflecting peer gives a round trip of RTCP too */
		struct sipcx_media_stats st;
		sipcx_media_stats(r->m, &st);
		r->echo_rtt_before = st.echo_rtt_count;
		sipcx_media_send_rtcp(r->m);
		r->final_sr = true;
		r->t_last_echo = now;
		return;
	}
	if (r->final_sr) {
		struct sipcx_media_stats st;
		sipcx_media_stats(r->m, &st);
		bool reflected = st.echo_rtt_count > r->echo_rtt_before;
		/* a peer that reflected RTCP before gets a moment to reflect the last SR */
		uint64_t grace = st.echo_rtt_count ? 300000u : 0;
		if (grace > r->timeout_us)
			grace = r->timeout_us;
		if ((all && (reflected || now - r->t_last_echo >= grace)) ||
		    now - r->t_last >= r->timeout_us)
			r->stop = true;
	}
}

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

/* The tone, and what is needed to match its echo: send time and pending flag by seq. */
static int tone_fill(struct sipcx_media *m, struct sipcx_rtp_pkt *pkt, unsigned samples,
                     uint8_t *payload, size_t size, void *arg)
{
	(void)m;
	struct run *r = arg;
	if (r->stop || r->sent >= r->count)
		return -1;
	if (samples > size)
		samples = (unsigned)size;
	sipcx_media_tone_g711(&r->tone, r->pt, payload, samples);
	uint64_t now = sipcx_now_us();
	if (r->sent == 0) {
		r->t_first = now;
		r->ext_seq = pkt->seq;
	}
	r->ext_seq = r->ext_seq + (uint16_t)(pkt->seq - (uint16_t)r->ext_seq);
	r->sent_us[pkt->seq] = now;
	r->pending[pkt->seq] = 1;
	r->sent++;
	r->t_last = now;
	return (int)samples;
}

static int cmd_probe(int argc, char **argv)
{
	enum {
		O_COUNT = 256,
		O_PTIME,
		O_CODEC,
		O_LOCAL,
		O_TIMEOUT,
		O_MAX_LOSS,
		O_TONE,
		O_RTCP_INTERVAL
	};
	static const struct option longs[] = {
		{ "count", required_argument, NULL, O_COUNT },
		{ "ptime", required_argument, NULL, O_PTIME },
		{ "codec", required_argument, NULL, O_CODEC },
		{ "local", required_argument, NULL, O_LOCAL },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "max-loss", required_argument, NULL, O_MAX_LOSS },
		{ "tone", required_argument, NULL, O_TONE },
		{ "rtcp-interval", required_argument, NULL, O_RTCP_INTERVAL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long count = 100, ptime = 20, tone = 440;
	int pt = 0;
	char lip[64] = "";
	uint16_t lport = 0;
	uint64_t timeout_ms = 2000, rtcp_ms = 1000;
	double max_loss = 0;
	bool verbose = false;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, ":vh", longs, NULL)) != -1) {
		char *end;
		switch (c) {
		case O_COUNT:
			if (cli_ulong(optarg, 1, 10000000, &count))
				return bad("bad --count (1 to 10000000)", optarg);
			break;
		case O_PTIME:
			if (cli_ulong(optarg, 1, 200, &ptime))
				return bad("bad --ptime (1 to 200 ms)", optarg);
			break;
		case O_CODEC:
			if (!strcasecmp(optarg, "pcmu"))
				pt = 0;
			else if (!strcasecmp(optarg, "pcma"))
				pt = 8;
			else
				return bad("--codec must be pcmu or pcma, not", optarg);
			break;
		case O_LOCAL:
			if (parse_hostport(optarg, lip, sizeof(lip), &lport))
				return bad("bad --local (an IP and a port: 0.0.0.0:0, [::1]:17000)",
				           optarg);
			break;
		case O_TIMEOUT:
			if (parse_secs(optarg, &timeout_ms) || timeout_ms == 0)
				return bad("bad --timeout (seconds)", optarg);
			break;
		case O_MAX_LOSS:
			errno = 0;
			max_loss = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(max_loss >= 0 && max_loss <= 100))
				return bad("bad --max-loss (a percentage, 0 to 100)", optarg);
			break;
		case O_TONE:
			if (cli_ulong(optarg, 1, 3999, &tone))
				return bad("bad --tone (1 to 3999 Hz)", optarg);
			break;
		case O_RTCP_INTERVAL:
			if (parse_secs(optarg, &rtcp_ms) || rtcp_ms < 10 || rtcp_ms > 3600000)
				return bad("bad --rtcp-interval (0.01 to 3600 seconds)", optarg);
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		case ':':
			return bad("this option needs a value:", argv[optind - 1]);
		default:
			return bad("unknown option", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad("probe needs the echo's ADDR:PORT", NULL);
	if (optind + 1 != argc)
		return bad("expected one ADDR:PORT, got more:", argv[optind + 1]);
	char rip[64];
	uint16_t rport;
	if (parse_hostport(argv[optind], rip, sizeof(rip), &rport) || rport == 0)
		return bad("bad target (an IP and a port: 127.0.0.1:16000, [::1]:16000)",
		           argv[optind]);
	bool v6 = strchr(rip, ':') != NULL;
	if (!lip[0])
		snprintf(lip, sizeof(lip), "%s", v6 ? "::" : "0.0.0.0");
	if (v6 != (strchr(lip, ':') != NULL) && !(strchr(lip, ':') && !strcmp(lip, "::")))
		return bad("--local and the target are of different IP families:", lip);
	if (verbose)
		sipcx_log_set(sipcx_log_stderr, SIPCX_LOG_DEBUG, NULL);

	struct run *r = calloc(1, sizeof(*r));
	if (!r)
		return CLI_EXIT_FAIL;
	r->sent_us = calloc(65536, sizeof(*r->sent_us));
	r->pending = calloc(65536, 1);
	if (!r->sent_us || !r->pending) {
		free(r->sent_us);
		free(r->pending);
		free(r);
		return CLI_EXIT_FAIL;
	}
	r->count = count;
	r->pt = pt;
	r->timeout_us = timeout_ms * 1000u;
	r->rtt_min = UINT64_MAX;
	sipcx_media_tone_init(&r->tone, (unsigned)tone, 8000, 8000);
	setup_loop(r);
	struct sipcx_media_opts o = {
		.local_addr = lip,
		.port = lport,
		.remote_addr = rip,
		.remote_port = rport,
		.pt = pt,
		.ptime = (unsigned)ptime,
		.handler = SIPCX_MEDIA_USER,
		.fill = tone_fill,
		.on_rtp = probe_rtp,
		.arg = r,
		.rtcp_interval_ms = (uint32_t)rtcp_ms,
		.log = rtp_debug() ? log_stderr : NULL,
	};
	int err = sipcx_media_new(&r->m, &r->loop, &o);
	if (err) {
		fprintf(stderr, "sipcx rtp: cannot bind %s:%u: %s\n", lip, lport,
		        sipcx_strerror(err));
		close_all(r);
		free(r->sent_us);
		free(r->pending);
		free(r);
		return err == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
	}
	err = sipcx_media_start(r->m);
	if (err) {
		fprintf(stderr, "sipcx rtp: cannot start: %s\n", sipcx_strerror(err));
		close_all(r);
		free(r->sent_us);
		free(r->pending);
		free(r);
		return CLI_EXIT_FAIL;
	}
	uv_timer_start(&r->timer, probe_tick, 10, 10);
	printf("probe: %s%s%s:%u from port %u, %lu packets %s/8000 ptime %lu ms\n", v6 ? "[" : "",
	       rip, v6 ? "]" : "", rport, sipcx_media_port(r->m), count, pt ? "PCMA" : "PCMU",
	       ptime);
	fflush(stdout);
	while (!r->stop && uv_run(&r->loop, UV_RUN_ONCE))
		;

	struct sipcx_media_stats st;
	sipcx_media_stats(r->m, &st);
	unsigned long lost = r->sent - r->received;
	double loss = r->sent ? 100.0 * (double)lost / (double)r->sent : 0;
	printf("sent: %lu packets, %llu bytes\n", r->sent, (unsigned long long)st.tx_bytes);
	printf("received: %lu packets\n", r->received);
	printf("lost: %lu (%.2f%%)\n", lost, loss);
	printf("duplicates: %lu\nout_of_order: %lu\n", r->duplicates, r->out_of_order);
	if (r->foreign)
		printf("foreign: %lu packets of another SSRC (not an echo)\n", r->foreign);
	if (r->received) {
		printf("jitter: %.3f ms\n", ms(st.jitter_us));
		printf("rtt: min %.3f / avg %.3f / max %.3f ms (RTP, %lu echoes)\n", ms(r->rtt_min),
		       (double)r->rtt_sum / (double)r->received / 1000.0, ms(r->rtt_max),
		       r->received);
	}
	if (st.rtt_count)
		printf("rtcp_rtt: %.3f ms (min %.3f / avg %.3f / max %.3f, %u peer reports)\n",
		       ms(st.rtt_us), ms(st.rtt_min_us), ms(st.rtt_avg_us), ms(st.rtt_max_us),
		       st.rtt_count);
	if (st.echo_rtt_count)
		printf("rtcp_echo_rtt: %.3f ms (%u of our reports reflected)\n", ms(st.echo_rtt_us),
		       st.echo_rtt_count);
	if (!st.rtcp_rx)
		printf("rtcp: the peer sent no RTCP\n");
	else if (st.have_remote_report)
		printf("rtcp_peer_view: %.2f%% lost, %d cumulative, jitter %.3f ms\n",
		       100.0 * st.remote_fraction_lost / 256.0, st.remote_lost,
		       ms(st.remote_jitter_us));

	int rc;
	if (r->received == 0) {
		printf("result: TIMEOUT nothing came back\n");
		rc = CLI_EXIT_TIMEOUT;
	} else if (loss > max_loss + 1e-9) {
		printf("result: FAIL loss %.2f%% above %.2f%%\n", loss, max_loss);
		rc = CLI_EXIT_FAIL;
	} else {
		printf("result: OK\n");
		rc = CLI_EXIT_OK;
	}
	if (r->sig)
		printf("interrupted by signal %d\n", r->sig);
	close_all(r);
	free(r->sent_us);
	free(r->pending);
	free(r);
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
		return cmd_echo(argc - 1, argv + 1);
	if (!strcmp(argv[1], "probe"))
		return cmd_probe(argc - 1, argv + 1);
	return bad("unknown rtp command (echo or probe)", argv[1]);
}
