/* sipcx options: OPTIONS ping / keep-alive probe of a SIP peer (RFC 3261 11). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <sipcx/sipcx.h>
#include <sipcx/trace.h>
#include <sipcx/ua.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: sipcx options [OPTIONS] URI\n"
	    "Send OPTIONS to URI and print the status line and round-trip time.\n\n"
	    "  --transport udp|tcp  transport (default: the URI's, else udp)\n"
	    "  --timeout DUR        give up on a ping after DUR (default: Timer F, 64*T1)\n"
	    "  --count N            send N pings (default 1)\n"
	    "  --interval DUR       time from one ping to the next (default 1s)\n"
	    "  --t1 DUR             RFC 3261 T1, the retransmit base (default 500ms)\n"
	    "  --dst ADDR           send to ADDR instead of the URI's host (udp:1.2.3.4:5060)\n"
	    "  --listen ADDRS       local addresses (default: udp and tcp, any address, port 0)\n"
	    "  -v, --verbose        library log on stderr\n"
	    "  --trace              every SIP message on stderr (also SIP_DEBUG=1)\n"
	    "  -h, --help           this text\n\n"
	    "DUR is a number with an optional unit: 250ms, 1.5s, 2 (seconds).\n"
	    "Exit: 0 every ping got a 2xx; 1 a failure status or transport error;\n"
	    "      2 usage error; 3 no final response in time (timeout).\n");
}

/* The outcome of the ping in flight; callbacks for older pings are ignored. */
struct ping {
	uv_mutex_t lock;
	uv_cond_t cond;
	unsigned seq;
	bool done;
	int err;
	uint16_t status;
	char line[256];
	uint64_t t_end;
};

struct ping_arg {
	struct ping *p;
	unsigned seq;
};

static void on_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	struct ping_arg *pa = arg;
	struct ping *p = pa->p;
	uint64_t now = sipcx_now_us();
	bool final = err || resp->status >= 200;
	uv_mutex_lock(&p->lock);
	if (pa->seq == p->seq && !p->done && final) {
		p->done = true;
		p->err = err;
		p->t_end = now;
		if (resp) {
			p->status = resp->status;
			snprintf(p->line, sizeof(p->line), "%.*s", SIPCX_STR_FMT(resp->start_line));
		}
		uv_cond_broadcast(&p->cond);
	}
	uv_mutex_unlock(&p->lock);
	if (final)
		free(pa);
}

/* Wait for p->done until the absolute time deadline_us (UINT64_MAX: no limit). */
static bool wait_done(struct ping *p, uint64_t deadline_us)
{
	uv_mutex_lock(&p->lock);
	while (!p->done) {
		if (deadline_us == UINT64_MAX) {
			uv_cond_wait(&p->cond, &p->lock);
			continue;
		}
		uint64_t now = sipcx_now_us();
		if (now >= deadline_us)
			break;
		uv_cond_timedwait(&p->cond, &p->lock, (deadline_us - now) * 1000u);
	}
	bool done = p->done;
	uv_mutex_unlock(&p->lock);
	return done;
}

static void sleep_until(struct ping *p, uint64_t t_us)
{
	uv_mutex_lock(&p->lock);
	for (uint64_t now; (now = sipcx_now_us()) < t_us;)
		uv_cond_timedwait(&p->cond, &p->lock, (t_us - now) * 1000u);
	uv_mutex_unlock(&p->lock);
}

static int bad(const char *what, const char *arg)
{
	return cli_usage("options", what, arg);
}

int cmd_options(int argc, char **argv)
{
	enum { O_TRANSPORT = 256, O_TIMEOUT, O_COUNT, O_INTERVAL, O_T1, O_DST, O_LISTEN, O_TRACE };
	static const struct option longs[] = {
		{ "transport", required_argument, NULL, O_TRANSPORT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "count", required_argument, NULL, O_COUNT },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "t1", required_argument, NULL, O_T1 },
		{ "dst", required_argument, NULL, O_DST },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "trace", no_argument, NULL, O_TRACE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum sipcx_tp_proto transport = SIPCX_TP_NONE;
	uint64_t timeout_us = 0, interval_us = 1000000, t1_us = 0;
	unsigned long count = 1;
	const char *dst = NULL, *listen = NULL;
	bool verbose = false, trace = false;
	if (cli_env_flag("SIP_DEBUG"))
		trace = true;

	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, ":vh", longs, NULL)) != -1) {
		char *end;
		switch (c) {
		case O_TRANSPORT:
			transport = sipcx_tp_lookup(sipcx_str_c(optarg));
			if (transport == SIPCX_TP_NONE)
				return bad("--transport must be udp or tcp, not", optarg);
			break;
		case O_TIMEOUT:
			if (cli_duration_us(optarg, &timeout_us) || timeout_us == 0)
				return bad("bad --timeout", optarg);
			break;
		case O_INTERVAL:
			if (cli_duration_us(optarg, &interval_us))
				return bad("bad --interval", optarg);
			break;
		case O_T1:
			if (cli_duration_us(optarg, &t1_us) || t1_us < 1000 || t1_us > 60000000)
				return bad("bad --t1 (1ms to 60s)", optarg);
			break;
		case O_COUNT:
			errno = 0;
			count = strtoul(optarg, &end, 10);
			if (*optarg == '-' || *end || end == optarg || errno || count == 0 ||
			    count > 1000000000ul)
				return bad("bad --count (a number from 1)", optarg);
			break;
		case O_DST:
			dst = optarg;
			break;
		case O_LISTEN:
			listen = optarg;
			break;
		case O_TRACE:
			trace = true;
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
	if (optind != argc - 1)
		return bad(optind >= argc ? "missing URI" : "expected one URI, got more", NULL);
	const char *uri = argv[optind];

	struct sipcx_uri u;
	if (sipcx_uri_parse(&u, sipcx_str_c(uri)) != 0 ||
	    (u.scheme != SIPCX_URI_SIP && u.scheme != SIPCX_URI_SIPS))
		return bad("not a sip: URI:", uri);
	if (u.scheme == SIPCX_URI_SIPS)
		return bad("sips (TLS) is not supported yet:", uri);
	struct sipcx_tp_addr dst_addr;
	if (dst && sipcx_tp_addr_parse(&dst_addr, dst) != 0)
		return bad("bad --dst (e.g. udp:127.0.0.1:5060)", dst);

	/* Listen where the target is reachable: its address family, UDP and TCP. */
	bool v6 = dst ? dst_addr.sa.sa.sa_family == AF_INET6 : u.host_ipv6;
	char listen_buf[128];
	if (!listen) {
		snprintf(listen_buf, sizeof(listen_buf),
		         v6 ? "udp:[::]:0 tcp:[::]:0" : "udp:0.0.0.0:0 tcp:0.0.0.0:0");
		listen = listen_buf;
	}
	cli_diagnostics(verbose, trace);

	struct sipcx_ua *ua;
	struct sipcx_ua_opts uo = { .listen = listen, .t1_ms = (uint32_t)(t1_us / 1000) };
	int r = sipcx_ua_new(&ua, &uo);
	if (r) {
		if (r == -EINVAL)
			return bad("bad --listen", listen);
		fprintf(stderr, "sipcx options: cannot listen on %s: %s\n", listen,
		        sipcx_strerror(r));
		return CLI_EXIT_FAIL;
	}

	struct ping p;
	memset(&p, 0, sizeof(p));
	uv_mutex_init(&p.lock);
	uv_cond_init(&p.cond);
	unsigned long ok = 0, failed = 0, timeouts = 0;
	uint64_t rtt_min = UINT64_MAX, rtt_max = 0, rtt_sum = 0;
	int exit_code = CLI_EXIT_OK;
	uint64_t t_first = sipcx_now_us();

	for (unsigned long i = 0; i < count; i++) {
		if (i)
			sleep_until(&p, t_first + i * interval_us);
		struct ping_arg *pa = malloc(sizeof(*pa));
		if (!pa) {
			exit_code = CLI_EXIT_FAIL;
			break;
		}
		uv_mutex_lock(&p.lock);
		p.seq++;
		p.done = false;
		p.status = 0;
		p.err = 0;
		p.line[0] = '\0';
		pa->p = &p;
		pa->seq = p.seq;
		uv_mutex_unlock(&p.lock);

		struct sipcx_ua_req_opts ro = {
			.method = "OPTIONS",
			.uri = uri,
			.dst = dst,
			.transport = transport,
			.cseq = (uint32_t)(i + 1),
			.hdrs = (const struct sipcx_hdr[]){ { SIPCX_HDR_ACCEPT, SIPCX_STR_NULL,
			                                      SIPCX_STR("application/sdp") } },
			.nhdrs = 1,
		};
		uint64_t t0 = sipcx_now_us();
		r = sipcx_ua_request(ua, &ro, on_resp, pa);
		if (r) {
			free(pa);
			if (r == -EINVAL || r == -EPROTONOSUPPORT) {
				fprintf(stderr, "sipcx options: cannot send to %s: %s\n", uri,
				        sipcx_strerror(r));
				exit_code = CLI_EXIT_USAGE;
				break;
			}
			printf("error: %s\n", sipcx_strerror(r));
			failed++;
			exit_code = CLI_EXIT_FAIL;
			continue;
		}
		bool done = wait_done(&p, timeout_us ? t0 + timeout_us : UINT64_MAX);
		uv_mutex_lock(&p.lock);
		if (!done) {
			p.seq++; /* a late answer to this ping is ignored */
			uv_mutex_unlock(&p.lock);
			printf("timeout: no final response in %.0f ms\n", (double)timeout_us / 1e3);
			timeouts++;
			exit_code = CLI_EXIT_TIMEOUT;
		} else if (p.err == -ETIMEDOUT) {
			uv_mutex_unlock(&p.lock);
			printf("timeout: no final response (Timer F, %.0f ms)\n",
			       (double)(sipcx_now_us() - t0) / 1e3);
			timeouts++;
			exit_code = CLI_EXIT_TIMEOUT;
		} else if (p.err) {
			int err = p.err;
			uv_mutex_unlock(&p.lock);
			printf("error: %s\n", sipcx_strerror(err));
			failed++;
			if (exit_code == CLI_EXIT_OK)
				exit_code = CLI_EXIT_FAIL;
		} else {
			uint64_t rtt = p.t_end - t0;
			uint16_t status = p.status;
			char line[256];
			memcpy(line, p.line, sizeof(line));
			uv_mutex_unlock(&p.lock);
			printf("%s  rtt %.3f ms\n", line, (double)rtt / 1e3);
			rtt_min = rtt < rtt_min ? rtt : rtt_min;
			rtt_max = rtt > rtt_max ? rtt : rtt_max;
			rtt_sum += rtt;
			if (status >= 200 && status < 300) {
				ok++;
			} else {
				failed++;
				if (exit_code == CLI_EXIT_OK)
					exit_code = CLI_EXIT_FAIL;
			}
		}
		fflush(stdout);
	}
	sipcx_ua_free(ua);
	if (count > 1) {
		unsigned long answered = ok + failed;
		printf("--- %s: %lu sent, %lu 2xx, %lu failed, %lu timed out", uri, count, ok,
		       failed, timeouts);
		if (rtt_sum && answered)
			printf("; rtt min/avg/max %.3f/%.3f/%.3f ms", (double)rtt_min / 1e3,
			       (double)rtt_sum / 1e3 / (double)answered, (double)rtt_max / 1e3);
		printf("\n");
	}
	uv_mutex_destroy(&p.lock);
	uv_cond_destroy(&p.cond);
	sipcx_trace_set(NULL, NULL);
	return exit_code;
}
