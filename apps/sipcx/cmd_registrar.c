/* sipcx registrar: an embedded registrar with digest auth and a record-routing stateless proxy, for demos and tests (RFC 3261 10.3, 16.11). */
#include <errno.h>
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
	    "  --listen ADDRS          where to listen (default udp:127.0.0.1:5060 tcp:127.0.0.1:5060;\n"
	    "                          tls:HOST:PORT with --tls-cert; WebSocket: ws:HOST:PORT,\n"
	    "                          wss:HOST:PORT with --tls-cert)\n"
	    "  --user NAME:PASSWORD    a user (repeat); without users anyone registers, unauthenticated\n"
	    "  --users FILE            users from a file, one NAME;PASSWORD a line (SIPp -inf style,\n"
	    "                          a first line SEQUENTIAL skipped), beside --user\n"
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
	    "  -q, --quiet             no event lines\n" CLI_DNS_HELP CLI_TLS_HELP CLI_COMMON_HELP
	    "  -h, --help              this text\n\n"
	    "Exit: 0 stopped; 1 cannot listen; 2 usage error.\n");
}

static int bad(const char *what, const char *arg)
{
	return cli_usage("registrar", what, arg);
}

static struct sipcx_ctx *g_sig;
static uint64_t g_t0;

static const char *event_name(const struct sipcx_registrar_event *ev)
{
	switch (ev->type) {
	case SIPCX_REGISTRAR_BOUND:
		return "bound";
	case SIPCX_REGISTRAR_REFRESHED:
		return "refreshed";
	case SIPCX_REGISTRAR_REMOVED:
		return "removed";
	case SIPCX_REGISTRAR_EXPIRED:
		return "expired";
	case SIPCX_REGISTRAR_AUTH_FAILED:
		return "auth-failed";
	case SIPCX_REGISTRAR_REJECTED:
		return "rejected";
	case SIPCX_REGISTRAR_ROUTED:
		return "routed";
	case SIPCX_REGISTRAR_LIMITED:
		return "limited";
	}
	return "registrar-event";
}

static void on_event_json(const struct sipcx_registrar_event *ev)
{
	struct cli_json j;
	cli_json_begin(&j, event_name(ev));
	if (ev->user && *ev->user)
		cli_json_str(&j, "user", ev->user);
	if (ev->contact)
		cli_json_str(&j, ev->type == SIPCX_REGISTRAR_ROUTED ? "target" : "contact",
		             ev->contact);
	if (ev->source)
		cli_json_str(&j, "source", ev->source);
	if (ev->method)
		cli_json_str(&j, "method", ev->method);
	if (ev->detail && *ev->detail)
		cli_json_str(&j, "detail", ev->detail);
	if (ev->type == SIPCX_REGISTRAR_BOUND || ev->type == SIPCX_REGISTRAR_REFRESHED)
		cli_json_int(&j, "expires", ev->expires_s);
	if (ev->cseq)
		cli_json_int(&j, "cseq", ev->cseq);
	if (ev->status)
		cli_json_int(&j, "status", ev->status);
	cli_json_end(&j);
}

static void on_event(const struct sipcx_registrar_event *ev, void *arg)
{
	(void)arg;
	double t = (double)(sipcx_now_us() - g_t0) / 1e6;
	if (cli_json_on()) {
		on_event_json(ev);
		return;
	}
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

/* --user NAME:PASSWORD, repeatable. */
struct users {
	size_t n;
	struct sipcx_registrar_user u[MAX_USERS];
	char *names[MAX_USERS];
};

static int parse_user(const char *arg, void *dst)
{
	struct users *us = dst;
	const char *colon = strchr(arg, ':');
	if (!colon || colon == arg || us->n == MAX_USERS)
		return -EINVAL;
	char *name = strndup(arg, (size_t)(colon - arg));
	if (!name)
		return -ENOMEM;
	us->names[us->n] = name;
	us->u[us->n].name = name;
	us->u[us->n].password = colon + 1;
	us->n++;
	return 0;
}

/* --domain DOMAIN, repeatable. */
struct domains {
	size_t n;
	const char *d[MAX_USERS];
};

static int parse_domain(const char *arg, void *dst)
{
	struct domains *ds = dst;
	if (!*arg || ds->n == MAX_USERS)
		return -EINVAL;
	ds->d[ds->n++] = arg;
	return 0;
}

/* --algorithm md5,sha-256: the algorithms in the order given. */
struct algs {
	size_t n;
	enum sipcx_auth_alg a[8];
};

static int parse_algs(const char *arg, void *dst)
{
	struct algs *as = dst;
	char buf[128];
	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	as->n = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		enum sipcx_auth_alg a;
		if (sipcx_auth_alg_parse(sipcx_str_c(tok), &a) != 0 ||
		    as->n == sizeof(as->a) / sizeof(as->a[0]))
			return -EINVAL;
		as->a[as->n++] = a;
	}
	return as->n ? 0 : -EINVAL;
}

/* --upstream udp:IP:PORT: checked here, kept as given. */
static int parse_upstream(const char *arg, void *dst)
{
	struct sipcx_tp_addr ta;
	if (sipcx_tp_addr_parse(&ta, arg))
		return -EINVAL;
	*(const char **)dst = arg;
	return 0;
}

/* Whole seconds, rounded up; 0 (the library's default) when not given. */
static uint32_t secs(uint64_t us)
{
	return (uint32_t)((us + 999999) / 1000000);
}

int cmd_registrar(int argc, char **argv)
{
	const char *listen = "udp:127.0.0.1:5060 tcp:127.0.0.1:5060";
	struct cli_tls tls = { 0 };
	struct users users = { 0 };
	const char *users_file = NULL;
	struct cli_account *acc = NULL;
	size_t nacc = 0;
	struct sipcx_registrar_user *every = NULL;
	struct domains domains = { 0 };
	struct algs algs = { 0 };
	struct sipcx_registrar_opts ro = { 0 };
	unsigned long min_exp = 0, max_exp = 0, def_exp = 0, max_fail = 0, max_txns = 20000,
	              rcvbuf = 0, tcp_per_source = 0, max_bindings = 0;
	uint64_t duration_us = 0, window_us = 0, lockout_us = 0, lockout_max_us = 0, tcp_msg_us = 0,
	         tcp_idle_us = 0;
	bool quiet = false;
	const char *dns_server = NULL;
	struct cli_common cc;
	const uint64_t max_dur = 0x7fffffffULL * 1000; /* milliseconds held in 32 bits */
	const struct cli_opt opts[] = {
		CLI_OPT_STR("listen", &listen),
		CLI_TLS_OPTS(&tls),
		CLI_OPT_FN("user", &users, parse_user, "--user must be NAME:PASSWORD (64 at most)"),
		CLI_OPT_STR("users", &users_file),
		CLI_OPT_STR("realm", &ro.realm),
		CLI_OPT_FN("domain", &domains, parse_domain,
		           "too many --domain (64 at most), or an empty one"),
		CLI_OPT_FN("algorithm", &algs, parse_algs,
		           "--algorithm takes md5, sha-256, sha-512-256 (comma-separated), not"),
		CLI_OPT_UINT("min-expires", &min_exp, "bad --min-expires (seconds, from 1)", 1,
		             0x7fffffffUL),
		CLI_OPT_UINT("max-expires", &max_exp, "bad --max-expires (seconds, from 1)", 1,
		             0x7fffffffUL),
		CLI_OPT_UINT("default-expires", &def_exp, "bad --default-expires (seconds, from 1)",
		             1, 0x7fffffffUL),
		CLI_OPT_UINT("max-bindings", &max_bindings, "bad --max-bindings (from 1)", 1,
		             0x7fffffffUL),
		CLI_OPT_FN("upstream", &ro.upstream, parse_upstream,
		           "--upstream takes udp:IP:PORT or tcp:IP:PORT, not"),
		CLI_OPT_FLAG("auth-calls", &ro.auth_calls),
		CLI_OPT_UINT("max-auth-failures", &max_fail, "bad --max-auth-failures (from 1)", 1,
		             0x7fffffffUL),
		CLI_OPT_DUR("auth-window", &window_us, "bad --auth-window", 1000, max_dur),
		CLI_OPT_DUR("lockout", &lockout_us, "bad --lockout", 1000, max_dur),
		CLI_OPT_DUR("lockout-max", &lockout_max_us, "bad --lockout-max", 1000, max_dur),
		CLI_OPT_UINT("max-transactions", &max_txns, "bad --max-transactions (from 1)", 1,
		             0x7fffffffUL),
		CLI_OPT_UINT("udp-rcvbuf", &rcvbuf, "bad --udp-rcvbuf (bytes, from 1)", 1,
		             0x7fffffffUL),
		CLI_OPT_UINT("tcp-max-per-source", &tcp_per_source,
		             "bad --tcp-max-per-source (from 1)", 1, 0x7fffffffUL),
		CLI_OPT_DUR("tcp-message-timeout", &tcp_msg_us, "bad --tcp-message-timeout", 1000,
		            max_dur),
		CLI_OPT_DUR("tcp-idle", &tcp_idle_us, "bad --tcp-idle", 1000, max_dur),
		CLI_OPT_DUR("duration", &duration_us, "bad --duration", 0, 0),
		{ .name = "quiet", .short_name = 'q', .kind = CLI_FLAG, .dst = &quiet },
		CLI_DNS_OPT(&dns_server),
		CLI_OPT_END,
	};
	int argi;
	int exit_code = cli_parse("registrar", argc, argv, opts, &cc, usage, &argi);
	if (exit_code >= 0)
		goto out;
	exit_code = CLI_EXIT_OK;
	if (argi != argc) {
		exit_code = bad("unexpected argument", argv[argi]);
		goto out;
	}
	if (users_file) {
		exit_code = cli_accounts_read("registrar", "--users", users_file, &acc, &nacc);
		if (exit_code >= 0)
			goto out;
		exit_code = CLI_EXIT_OK;
		every = calloc(users.n + nacc, sizeof(*every));
		if (!every) {
			fprintf(stderr, "sipcx registrar: %s\n", sipcx_strerror(-ENOMEM));
			exit_code = CLI_EXIT_FAIL;
			goto out;
		}
		memcpy(every, users.u, users.n * sizeof(*every));
		for (size_t i = 0; i < nacc; i++)
			every[users.n + i] =
			    (struct sipcx_registrar_user){ acc[i].user, acc[i].password };
	}
	bool verbose = cc.verbose;
	ro.min_expires_s = (uint32_t)min_exp;
	ro.max_expires_s = (uint32_t)max_exp;
	ro.default_expires_s = (uint32_t)def_exp;
	ro.max_bindings = (unsigned)max_bindings;
	ro.max_auth_failures = (unsigned)max_fail;
	ro.auth_window_s = secs(window_us);
	ro.lockout_s = secs(lockout_us);
	ro.lockout_max_s = secs(lockout_max_us);
	struct sipcx_ua_opts uo = {
		.user = "registrar",
		.max_txns = (uint32_t)max_txns,
		.udp_rcvbuf = (uint32_t)rcvbuf,
		.tcp_max_per_source = (uint32_t)tcp_per_source,
		.tcp_msg_timeout_ms = (uint32_t)(tcp_msg_us / 1000),
		.tcp_idle_ms = (uint32_t)(tcp_idle_us / 1000),
	};
	exit_code = cli_observe_start("registrar", &cc);
	if (exit_code >= 0)
		goto out;
	exit_code = CLI_EXIT_OK;
	/* An exposed server says when a limit acts (lockout, caps, slow connections). */
	if (!verbose)
		sipcx_log_set(sipcx_log_stderr, SIPCX_LOG_WARN, NULL);

	struct sipcx_ua *ua = NULL;
	struct sipcx_registrar *reg = NULL;
	struct sipcx_ctx *dur = NULL;
	uo.listen = listen;
	if ((exit_code = cli_tls_apply("registrar", &tls, listen, true, &uo)) >= 0 ||
	    (exit_code = cli_dns_apply("registrar", dns_server, &uo)) >= 0)
		goto out;
	exit_code = CLI_EXIT_OK;
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
	ro.users = every ? every : users.u;
	ro.nusers = users.n + nacc;
	ro.domains = domains.d;
	ro.ndomains = domains.n;
	ro.alg_order = algs.a;
	ro.nalg_order = algs.n;
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
		struct sipcx_tp_addr a;
		char ab[SIPCX_ADDRSTRLEN + 8];
		if (cc.json) {
			struct sipcx_buf all;
			sipcx_buf_init(&all);
			for (size_t i = 0; sipcx_ua_bound(ua, i, &a) == 0; i++)
				if (sipcx_tp_addr_print(&a, ab, sizeof(ab)) > 0)
					sipcx_buf_printf(&all, "%s%s", i ? " " : "", ab);
			struct cli_json j;
			cli_json_begin(&j, "listening");
			cli_json_str(&j, "address", sipcx_buf_err(&all) || !all.p ? "" : all.p);
			cli_json_int(&j, "users", (long long)ro.nusers);
			cli_json_end(&j);
			sipcx_buf_free(&all);
		} else {
			printf("listening on");
			for (size_t i = 0; sipcx_ua_bound(ua, i, &a) == 0; i++)
				if (sipcx_tp_addr_print(&a, ab, sizeof(ab)) > 0)
					printf(" %s", ab);
			printf(", %zu user%s%s\n", ro.nusers, ro.nusers == 1 ? "" : "s",
			       ro.nusers ? "" : " (open: no authentication)");
			fflush(stdout);
		}
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
	for (size_t i = 0; i < users.n; i++)
		free(users.names[i]);
	free(every);
	cli_accounts_free(acc, nacc);
	return exit_code;
}
