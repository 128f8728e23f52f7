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
	    "  --algorithm LIST        digest algorithms offered, strongest first, from md5,\n"
	    "                          sha-256, sha-512-256 (default md5)\n"
	    "  --min-expires S         shortest expiry accepted, else 423 (default 60)\n"
	    "  --max-expires S         longest expiry granted (default 3600)\n"
	    "  --default-expires S     expiry when the REGISTER has none (default 3600)\n"
	    "  --duration DUR          stop after DUR (default: at a signal)\n"
	    "  -q, --quiet             no event lines\n"
	    "  -v, --verbose           library log on stderr\n"
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
	}
	fflush(stdout);
}

static int parse_algs(const char *s, unsigned *out)
{
	char buf[128];
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	unsigned algs = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		enum sipcx_auth_alg a;
		if (sipcx_auth_alg_parse(sipcx_str_c(tok), &a) != 0 || !*tok)
			return -EINVAL;
		algs |= 1u << a;
	}
	if (!algs)
		return -EINVAL;
	*out = algs;
	return 0;
}

int cmd_registrar(int argc, char **argv)
{
	enum { O_LISTEN = 256, O_USER, O_REALM, O_ALG, O_MIN, O_MAX, O_DEF, O_DURATION, O_TRACE };
	static const struct option longs[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "user", required_argument, NULL, O_USER },
		{ "realm", required_argument, NULL, O_REALM },
		{ "algorithm", required_argument, NULL, O_ALG },
		{ "min-expires", required_argument, NULL, O_MIN },
		{ "max-expires", required_argument, NULL, O_MAX },
		{ "default-expires", required_argument, NULL, O_DEF },
		{ "duration", required_argument, NULL, O_DURATION },
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
			if (parse_algs(optarg, &ro.algs)) {
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

	struct sipcx_ua *ua = NULL;
	struct sipcx_registrar *reg = NULL;
	struct sipcx_ctx *dur = NULL;
	struct sipcx_ua_opts uo = { .listen = listen, .user = "registrar" };
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
out:
	for (size_t i = 0; i < nusers; i++)
		free(names[i]);
	return exit_code;
}
