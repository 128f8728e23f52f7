/* sipcx registrar: an embedded registrar with digest auth and a record-routing stateless proxy, for demos and tests (RFC 3261 10.3, 16.11). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/phone.h>
#include <sipcx/reg.h>
#include <sipcx/sipcx.h>
#include <sipcx/trace.h>
#include <sipcx/ua.h>

#include "cli.h"

#define MAX_USERS 64

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: sipcx registrar [OPTIONS]\n"
	    "A registrar with digest authentication that also routes requests to its\n"
	    "registered users (a small record-routing stateless proxy). Runs until\n"
	    "SIGINT/SIGTERM or --duration.\n\n"
	    "  --listen ADDRS          where to listen (default udp:127.0.0.1:5060 tcp:127.0.0.1:5060)\n"
	    "  --user NAME:PASSWORD    a user (repeat); without users anyone registers, unauthenticated\n"
	    "  --realm REALM           digest realm (default: the first listen address)\n"
	    "  --domain DOMAIN         a domain served besides the listen addresses and the realm (repeat)\n"
	    "  --algorithm LIST        digest algorithms offered, in this order, from md5,\n"
	    "                          sha-256, sha-512-256 (and -sess forms; default md5)\n"
	    "  --min-expires S         shortest expiry accepted, else 423 (default 60)\n"
	    "  --max-expires S         longest expiry granted (default 3600)\n"
	    "  --default-expires S     expiry when the REGISTER has none (default 3600)\n"
	    "  --max-bindings N        bindings per user (default 10)\n"
	    "  --upstream ADDR         forward requests for other domains there (default: 403)\n"
	    "  --auth-calls            calls from our users need their password (407)\n"
	    "  --max-auth-failures N   failed passwords from one address before a lockout (default 10)\n"
	    "  --auth-window DUR       ...counted within DUR (default 60s)\n"
	    "  --lockout DUR           first lockout, doubled each time (default 60s)\n"
	    "  --lockout-max DUR       longest lockout (default 1h)\n"
	    "  --max-transactions N    live transactions before 503 + Retry-After (default 20000)\n"
	    "  --udp-rcvbuf BYTES      UDP receive buffer (default 4194304)\n"
	    "  --tcp-max-per-source N  TCP connections from one address at once (default 64)\n"
	    "  --tcp-message-timeout DUR  a message begun on TCP must end within DUR (default 10s)\n"
	    "  --tcp-idle DUR          close a TCP connection idle for DUR (default 120s)\n"
	    "  --duration DUR          stop after DUR (default: at a signal)\n"
	    "  -q, --quiet             no event lines\n"
	    "  -v, --verbose           library log on stderr (warnings are always shown)\n"
	    "  --trace                 every SIP message on stderr (also SIP_DEBUG=1)\n"
	    "  -h, --help              this text\n\n"
	    "Exit: 0 stopped; 1 cannot listen; 2 usage error.\n");
}

static int bad(const char *what, const char *arg)
{
	return cli_usage("registrar", what, arg);
}

static struct sipcx_ctx *g_sig;
static uint64_t g_t0;

static void on_event(const struct sipcx_registrar_event *ev, void *arg)
{
	(void)arg;
	double t = (double)(sipcx_now_us() - g_t0) / 1e6;
	switch (ev->type) {
	case SIPCX_REGISTRAR_BOUND:
	case SIPCX_REGISTRAR_REFRESHED:
		printf("+%.3fs %s %s %s expires %u s from %s (CSeq %u)\n", t,
		       ev->type == SIPCX_REGISTRAR_BOUND ? "bound" : "refreshed", ev->user,
		       ev->contact, ev->expires_s, ev->source, ev->cseq);
		break;
	case SIPCX_REGISTRAR_REMOVED:
		printf("+%.3fs removed %s %s from %s (CSeq %u)\n", t, ev->user, ev->contact,
		       ev->source, ev->cseq);
		break;
	case SIPCX_REGISTRAR_EXPIRED:
		printf("+%.3fs expired %s %s\n", t, ev->user, ev->contact);
		break;
	case SIPCX_REGISTRAR_AUTH_FAILED:
		printf("+%.3fs auth failed %s from %s\n", t, ev->user, ev->source);
		break;
	case SIPCX_REGISTRAR_REJECTED:
		printf("+%.3fs rejected %s from %s: %u\n", t, ev->user, ev->source, ev->status);
		break;
	case SIPCX_REGISTRAR_ROUTED:
		printf("+%.3fs routed %s from %s -> %s\n", t, ev->method, ev->source, ev->contact);
		break;
	case SIPCX_REGISTRAR_LIMITED:
		printf("+%.3fs limited %s (%s from %s)\n", t, ev->detail, ev->method, ev->source);
		break;
	}
	fflush(stdout);
}

/* "md5,sha-256": the algorithms in the order given (each once). */
static int parse_algs(const char *s, enum sipcx_auth_alg *out, size_t max, size_t *n)
{
	char buf[128];
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*n = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		enum sipcx_auth_alg a;
		if (sipcx_auth_alg_parse(sipcx_str_c(tok), &a) != 0 || !*tok || *n == max)
			return -EINVAL;
		out[(*n)++] = a;
	}
	return *n ? 0 : -EINVAL;
}

int cmd_registrar(int argc, char **argv)
{
	enum {
		O_LISTEN = 256,
		O_USER,
		O_REALM,
		O_ALG,
		O_MIN,
		O_MAX,
		O_DEF,
		O_DURATION,
		O_TRACE,
		O_DOMAIN,
		O_UPSTREAM,
		O_AUTH_CALLS,
		O_MAX_FAIL,
		O_AUTH_WINDOW,
		O_LOCKOUT,
		O_LOCKOUT_MAX,
		O_MAX_TXNS,
		O_RCVBUF,
		O_TCP_PER_SOURCE,
		O_TCP_MSG,
		O_TCP_IDLE,
		O_MAX_BINDINGS,
	};
	static const struct option longs[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "user", required_argument, NULL, O_USER },
		{ "realm", required_argument, NULL, O_REALM },
		{ "algorithm", required_argument, NULL, O_ALG },
		{ "min-expires", required_argument, NULL, O_MIN },
		{ "max-expires", required_argument, NULL, O_MAX },
		{ "default-expires", required_argument, NULL, O_DEF },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "domain", required_argument, NULL, O_DOMAIN },
		{ "upstream", required_argument, NULL, O_UPSTREAM },
		{ "auth-calls", no_argument, NULL, O_AUTH_CALLS },
		{ "max-auth-failures", required_argument, NULL, O_MAX_FAIL },
		{ "auth-window", required_argument, NULL, O_AUTH_WINDOW },
		{ "lockout", required_argument, NULL, O_LOCKOUT },
		{ "lockout-max", required_argument, NULL, O_LOCKOUT_MAX },
		{ "max-transactions", required_argument, NULL, O_MAX_TXNS },
		{ "udp-rcvbuf", required_argument, NULL, O_RCVBUF },
		{ "tcp-max-per-source", required_argument, NULL, O_TCP_PER_SOURCE },
		{ "tcp-message-timeout", required_argument, NULL, O_TCP_MSG },
		{ "tcp-idle", required_argument, NULL, O_TCP_IDLE },
		{ "max-bindings", required_argument, NULL, O_MAX_BINDINGS },
		{ "trace", no_argument, NULL, O_TRACE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = "udp:127.0.0.1:5060 tcp:127.0.0.1:5060";
	struct sipcx_registrar_user users[MAX_USERS];
	char *names[MAX_USERS];
	size_t nusers = 0;
	struct sipcx_registrar_opts ro = { 0 };
	const char *domains[MAX_USERS];
	size_t ndomains = 0;
	enum sipcx_auth_alg algs[8];
	size_t nalgs = 0;
	uint64_t us;
	struct sipcx_ua_opts uo = { .user = "registrar", .max_txns = 20000 };
	uint64_t duration_us = 0;
	unsigned long v;
	bool verbose = false, trace = cli_env_flag("SIP_DEBUG"), quiet = false;
	int exit_code = CLI_EXIT_OK;

	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, ":qvh", longs, NULL)) != -1) {
		switch (c) {
		case O_LISTEN:
			listen = optarg;
			break;
		case O_USER: {
			const char *colon = strchr(optarg, ':');
			if (!colon || colon == optarg || nusers == MAX_USERS) {
				exit_code = bad("--user must be NAME:PASSWORD", optarg);
				goto out;
			}
			names[nusers] = strndup(optarg, (size_t)(colon - optarg));
			if (!names[nusers]) {
				exit_code = CLI_EXIT_FAIL;
				goto out;
			}
			users[nusers].name = names[nusers];
			users[nusers].password = colon + 1;
			nusers++;
			break;
		}
		case O_REALM:
			ro.realm = optarg;
			break;
		case O_ALG:
			if (parse_algs(optarg, algs, sizeof(algs) / sizeof(algs[0]), &nalgs)) {
				exit_code = bad(
				    "--algorithm takes md5, sha-256, sha-512-256 (comma-separated), not",
				    optarg);
				goto out;
			}
			break;
		case O_MIN:
		case O_MAX:
		case O_DEF:
			if (cli_ulong(optarg, 1, 0x7fffffffUL, &v)) {
				exit_code = bad("bad expiry (seconds, from 1)", optarg);
				goto out;
			}
			if (c == O_MIN)
				ro.min_expires_s = (uint32_t)v;
			else if (c == O_MAX)
				ro.max_expires_s = (uint32_t)v;
			else
				ro.default_expires_s = (uint32_t)v;
			break;
		case O_DURATION:
			if (cli_duration_us(optarg, &duration_us)) {
				exit_code = bad("bad --duration", optarg);
				goto out;
			}
			break;
		case O_TRACE:
			trace = true;
			break;
		case O_DOMAIN:
			if (ndomains == MAX_USERS || !*optarg) {
				exit_code = bad("too many --domain, or an empty one", optarg);
				goto out;
			}
			domains[ndomains++] = optarg;
			break;
		case O_UPSTREAM: {
			struct sipcx_tp_addr ta;
			if (sipcx_tp_addr_parse(&ta, optarg)) {
				exit_code =
				    bad("--upstream takes udp:IP:PORT or tcp:IP:PORT, not", optarg);
				goto out;
			}
			ro.upstream = optarg;
			break;
		}
		case O_AUTH_CALLS:
			ro.auth_calls = true;
			break;
		case O_MAX_FAIL:
		case O_MAX_TXNS:
		case O_RCVBUF:
		case O_TCP_PER_SOURCE:
		case O_MAX_BINDINGS:
			if (cli_ulong(optarg, 1, 0x7fffffffUL, &v)) {
				exit_code = bad("bad number (from 1)", optarg);
				goto out;
			}
			if (c == O_MAX_FAIL)
				ro.max_auth_failures = (unsigned)v;
			else if (c == O_MAX_TXNS)
				uo.max_txns = (uint32_t)v;
			else if (c == O_RCVBUF)
				uo.udp_rcvbuf = (uint32_t)v;
			else if (c == O_TCP_PER_SOURCE)
				uo.tcp_max_per_source = (uint32_t)v;
			else
				ro.max_bindings = (unsigned)v;
			break;
		case O_AUTH_WINDOW:
		case O_LOCKOUT:
		case O_LOCKOUT_MAX:
		case O_TCP_MSG:
		case O_TCP_IDLE:
			if (cli_duration_us(optarg, &us) || us < 1000 || us / 1000 > 0x7fffffffu) {
				exit_code = bad("bad duration", optarg);
				goto out;
			}
			if (c == O_AUTH_WINDOW)
				ro.auth_window_s = (uint32_t)((us + 999999) / 1000000);
			else if (c == O_LOCKOUT)
				ro.lockout_s = (uint32_t)((us + 999999) / 1000000);
			else if (c == O_LOCKOUT_MAX)
				ro.lockout_max_s = (uint32_t)((us + 999999) / 1000000);
			else if (c == O_TCP_MSG)
				uo.tcp_msg_timeout_ms = (uint32_t)(us / 1000);
			else
				uo.tcp_idle_ms = (uint32_t)(us / 1000);
			break;
		case 'q':
			quiet = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			goto out;
		case ':':
			exit_code = bad("this option needs a value:", argv[optind - 1]);
			goto out;
		default:
			exit_code = bad("unknown option", argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc) {
		exit_code = bad("unexpected argument", argv[optind]);
		goto out;
	}
	cli_diagnostics(verbose, trace);
	/* An exposed server says when a limit acts (lockout, caps, slow connections). */
	if (!verbose)
		sipcx_log_set(sipcx_log_stderr, SIPCX_LOG_WARN, NULL);

	struct sipcx_ua *ua = NULL;
	struct sipcx_registrar *reg = NULL;
	struct sipcx_ctx *dur = NULL;
	uo.listen = listen;
	int r = sipcx_ua_new(&ua, &uo);
	if (r) {
		if (r == -EINVAL)
			exit_code = bad("bad --listen", listen);
		else {
			fprintf(stderr, "sipcx registrar: cannot listen on %s: %s\n", listen,
			        sipcx_strerror(r));
			exit_code = CLI_EXIT_FAIL;
		}
		goto out;
	}
	ro.users = users;
	ro.nusers = nusers;
	ro.domains = domains;
	ro.ndomains = ndomains;
	ro.alg_order = algs;
	ro.nalg_order = nalgs;
	ro.cb = quiet ? NULL : on_event;
	g_t0 = sipcx_now_us();
	r = sipcx_registrar_new(&reg, ua, &ro);
	if (!r)
		r = sipcx_ctx_new(&g_sig, NULL, 0);
	if (!r)
		r = sipcx_ctx_new(&dur, g_sig, duration_us / 1000);
	if (r) {
		if (r == -EINVAL)
			exit_code =
			    bad("inconsistent options (--min-expires above --max-expires?)", NULL);
		else {
			fprintf(stderr, "sipcx registrar: %s\n", sipcx_strerror(r));
			exit_code = CLI_EXIT_FAIL;
		}
	} else {
		cli_cancel_on_signals(g_sig);
		printf("listening on");
		struct sipcx_tp_addr a;
		char ab[SIPCX_ADDRSTRLEN + 8];
		for (size_t i = 0; sipcx_ua_bound(ua, i, &a) == 0; i++)
			if (sipcx_tp_addr_print(&a, ab, sizeof(ab)) > 0)
				printf(" %s", ab);
		printf(", %zu user%s%s\n", nusers, nusers == 1 ? "" : "s",
		       nusers ? "" : " (open: no authentication)");
		fflush(stdout);
		sipcx_ctx_wait(dur);
		cli_cancel_on_signals(NULL);
	}
	sipcx_registrar_free(reg);
	sipcx_ua_free(ua);
	sipcx_ctx_free(dur);
	sipcx_ctx_free(g_sig);
	g_sig = NULL;
	sipcx_trace_set(NULL, NULL);
	sipcx_log_set(NULL, SIPCX_LOG_ERROR, NULL);
out:
	for (size_t i = 0; i < nusers; i++)
		free(names[i]);
	return exit_code;
}
