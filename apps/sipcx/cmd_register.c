/* sipcx register: register with a registrar, stay registered and refreshing, unregister at the end (RFC 3261 10.2). */
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

/* Interrupted (SIGINT/SIGTERM) before the first answer: the shell's 128 + SIGINT. */
#define REG_EXIT_INTERRUPTED 130

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: sipcx register [OPTIONS] [URI]\n"
	    "Register with the registrar at URI, stay registered (refreshing at half the\n"
	    "granted expiry) until SIGINT/SIGTERM or --duration, then unregister.\n\n"
	    "  URI                  registrar, e.g. sip:127.0.0.1:5060 (default: $SIP_SERVER)\n"
	    "  --username USER      digest user and AoR user (default: $SIP_USERNAME)\n"
	    "  --password PASS      digest password (default: $SIP_PASSWORD)\n"
	    "  --realm REALM        answer only challenges of REALM\n"
	    "  --aor URI            address-of-record (default: sip:USER@registrar host)\n"
	    "  --expiry SECONDS     expiry asked (default 3600)\n"
	    "  --transport udp|tcp|tls|ws|wss  transport (default: the URI's: sips or ;transport=, else udp)\n"
	    "  --duration DUR       stay registered for DUR, then unregister (default: until a signal)\n"
	    "  --unregister         remove every binding of the AoR (Contact: *) and exit\n"
	    "  --timeout DUR        wait at most DUR for the registrar (to register, to unregister)\n"
	    "  --retry DUR          first delay before retrying a failed refresh (default 1s)\n"
	    "  --t1 DUR             RFC 3261 T1, the retransmit base (default 500ms)\n"
	    "  --dst ADDR           send to ADDR instead of the URI's host (udp:1.2.3.4:5060)\n"
	    "  --listen ADDRS       local addresses (default: udp and tcp, any address, port 0)\n"
	    "  --no-nat             keep the Contact whatever the registrar saw (received/rport)\n" CLI_TLS_HELP
	        CLI_DNS_HELP CLI_COMMON_HELP "  -h, --help           this text\n\n"
	    "DUR is a number with an optional unit: 250ms, 1.5s, 2 (seconds).\n"
	    "Exit: 0 registered (and unregistered at the end); 1 rejected (a failure status)\n"
	    "      or a transport error; 2 usage error; 3 timeout; 4 authentication failed;\n"
	    "      130 interrupted before the registrar answered.\n");
}

static int bad(const char *what, const char *arg)
{
	return cli_usage("register", what, arg);
}

/* The context every wait hangs on; SIGINT/SIGTERM cancel it (cli_cancel_on_signals). */
static struct sipcx_ctx *g_sig;
static uint64_t g_t0;
static const char *g_aor;
static enum sipcx_reg_state g_prev = SIPCX_REG_REGISTERING; /* loop thread only */

/* Why a REGISTER failed, in words. */
static void why(const struct sipcx_reg_info *in, char *out, size_t n)
{
	if (in->err == SIPCX_EAUTH || (in->detail[0] && (in->status == 401 || in->status == 407)))
		snprintf(out, n, "authentication failed (%u %s%s%s)", in->status, in->reason,
		         in->detail[0] ? ": " : "", in->detail);
	else if (in->status >= 300)
		snprintf(out, n, "%u %s", in->status, in->reason);
	else if (in->err == -ETIMEDOUT)
		snprintf(out, n, "timeout (no final response)");
	else
		snprintf(out, n, "%s", sipcx_strerror(in->err));
}

/* The same states as JSON lines (docs/json.md). */
static void on_state_json(const struct sipcx_reg_info *in, double next)
{
	const char *ev = NULL;
	switch (in->state) {
	case SIPCX_REG_REGISTERED:
		ev = in->refreshes == 0               ? "registered"
		     : g_prev != SIPCX_REG_REGISTERED ? "recovered"
		                                      : "refreshed";
		break;
	case SIPCX_REG_FAILING:
		ev = "failing";
		break;
	case SIPCX_REG_FAILED:
		ev = "failed";
		break;
	case SIPCX_REG_UNREGISTERING:
		ev = "unregistering";
		break;
	case SIPCX_REG_UNREGISTERED:
		ev = in->err ? "unregister-failed" : "unregistered";
		break;
	default:
		return;
	}
	struct cli_json j;
	cli_json_begin(&j, ev);
	cli_json_str(&j, "aor", g_aor);
	cli_json_str(&j, "contact", in->contact);
	if (in->state == SIPCX_REG_REGISTERED) {
		cli_json_int(&j, "expires", in->expires_s);
		cli_json_int(&j, "requested", in->requested_s);
		cli_json_num(&j, "refresh_in_s", next, 1);
		cli_json_int(&j, "refreshes", in->refreshes);
		cli_json_bool(&j, "nat", in->nat);
	}
	if (in->status) {
		cli_json_int(&j, "status", in->status);
		cli_json_str(&j, "reason", in->reason);
	}
	if (in->err && in->state != SIPCX_REG_REGISTERED) {
		char w[200];
		why(in, w, sizeof(w));
		cli_json_str(&j, "error", w);
	}
	if (in->state == SIPCX_REG_FAILING) {
		cli_json_int(&j, "failures", in->failures);
		cli_json_num(&j, "retry_in_s", next, 1);
	}
	cli_json_end(&j);
}

static void on_state(const struct sipcx_reg_info *in, void *arg)
{
	(void)arg;
	double t = (double)(sipcx_now_us() - g_t0) / 1e6;
	double next =
	    in->next_us > sipcx_now_us() ? (double)(in->next_us - sipcx_now_us()) / 1e6 : 0;
	char w[200];
	if (cli_json_on()) {
		on_state_json(in, next);
		g_prev = in->state;
		return;
	}
	switch (in->state) {
	case SIPCX_REG_REGISTERED:
		if (in->refreshes == 0 || g_prev != SIPCX_REG_REGISTERED)
			printf("+%.3fs %s %s at %s, expires %u s (asked %u), refresh in %.1f s%s\n",
			       t, in->refreshes ? "recovered" : "registered", g_aor, in->contact,
			       in->expires_s, in->requested_s, next,
			       in->nat ? " (Contact rewritten: NAT)" : "");
		else
			printf("+%.3fs refreshed %s, expires %u s, refresh in %.1f s\n", t, g_aor,
			       in->expires_s, next);
		break;
	case SIPCX_REG_FAILING:
		why(in, w, sizeof(w));
		printf("+%.3fs failing: %s (attempt %u failed, retry in %.1f s)\n", t, w,
		       in->failures, next);
		break;
	case SIPCX_REG_FAILED:
		why(in, w, sizeof(w));
		printf("+%.3fs failed: %s\n", t, w);
		break;
	case SIPCX_REG_UNREGISTERING:
		printf("+%.3fs unregistering %s (Expires: 0)\n", t, in->contact);
		break;
	case SIPCX_REG_UNREGISTERED:
		if (in->err) {
			why(in, w, sizeof(w));
			printf("+%.3fs unregister failed: %s\n", t, w);
		} else {
			printf("+%.3fs unregistered %s\n", t, g_aor);
		}
		break;
	default:
		break;
	}
	g_prev = in->state;
	fflush(stdout);
}

static int exit_for(int err)
{
	if (err == SIPCX_EAUTH)
		return CLI_EXIT_AUTH;
	if (err == -ETIMEDOUT)
		return CLI_EXIT_TIMEOUT;
	if (err == -ECANCELED)
		return REG_EXIT_INTERRUPTED;
	return CLI_EXIT_FAIL;
}

int cmd_register(int argc, char **argv)
{
	const char *username = getenv("SIP_USERNAME"), *password = getenv("SIP_PASSWORD");
	const char *realm = NULL, *aor = NULL, *dst = NULL, *listen = NULL;
	struct cli_tls tls = { 0 };
	const char *dns_server = NULL;
	enum sipcx_tp_proto transport = SIPCX_TP_NONE;
	unsigned long expiry = 3600;
	uint64_t duration_us = 0, timeout_us = 0, retry_us = 0, t1_us = 0;
	bool unregister = false, no_nat = false;
	if (username && !*username)
		username = NULL;
	struct cli_common cc;
	const struct cli_opt opts[] = {
		CLI_OPT_STR("username", &username),
		CLI_OPT_STR("password", &password),
		CLI_OPT_STR("realm", &realm),
		CLI_OPT_STR("aor", &aor),
		CLI_OPT_UINT("expiry", &expiry, "bad --expiry (seconds, from 1)", 1, 0x7fffffffUL),
		CLI_OPT_PROTO("transport", &transport),
		CLI_OPT_DUR("duration", &duration_us, "bad --duration", 0, 0),
		CLI_OPT_FLAG("unregister", &unregister),
		CLI_OPT_DUR("timeout", &timeout_us, "bad --timeout", 1000, 0),
		CLI_OPT_DUR("retry", &retry_us, "bad --retry (1ms to 1h)", 1000, 3600000000ull),
		CLI_OPT_DUR("t1", &t1_us, "bad --t1 (1ms to 60s)", 1000, 60000000),
		CLI_OPT_STR("dst", &dst),
		CLI_OPT_STR("listen", &listen),
		CLI_TLS_OPTS(&tls),
		CLI_DNS_OPT(&dns_server),
		CLI_OPT_FLAG("no-nat", &no_nat),
		CLI_OPT_END,
	};
	int argi, rc = cli_parse("register", argc, argv, opts, &cc, usage, &argi);
	if (rc >= 0)
		return rc;
	if (argi < argc - 1)
		return bad("expected one URI, got more", NULL);
	const char *server = argi == argc - 1 ? argv[argi] : getenv("SIP_SERVER");
	if (!server || !*server)
		return bad("missing URI (or set SIP_SERVER)", NULL);
	/* SIP_SERVER may be a bare host:port. */
	char uri[512];
	snprintf(uri, sizeof(uri), "%s%s",
	         strncmp(server, "sip:", 4) && strncmp(server, "sips:", 5) ? "sip:" : "", server);
	struct sipcx_uri u;
	if (sipcx_uri_parse(&u, sipcx_str_c(uri)) != 0 ||
	    (u.scheme != SIPCX_URI_SIP && u.scheme != SIPCX_URI_SIPS))
		return bad("not a sip: URI:", server);
	if (password && !username)
		return bad("--password without --username", NULL);
	struct sipcx_tp_addr dst_addr;
	if (dst && sipcx_tp_addr_parse(&dst_addr, dst) != 0)
		return bad("bad --dst (e.g. udp:127.0.0.1:5060)", dst);

	bool v6 = dst ? dst_addr.sa.sa.sa_family == AF_INET6 : u.host_ipv6;
	char listen_buf[128];
	if (!listen) {
		snprintf(listen_buf, sizeof(listen_buf), "%s",
		         cli_client_listen(v6, cli_uri_tls(uri, transport) ||
		                                   (dst && (dst_addr.proto == SIPCX_TP_TLS ||
		                                            dst_addr.proto == SIPCX_TP_WSS))));
		listen = listen_buf;
	}
	struct sipcx_ua_opts uo = { .listen = listen, .t1_ms = (uint32_t)(t1_us / 1000) };
	if ((rc = cli_tls_apply("register", &tls, listen, false, &uo)) >= 0)
		return rc;
	if ((rc = cli_dns_apply("register", dns_server, &uo)) >= 0)
		return rc;
	char aor_buf[600];
	if (!aor) {
		snprintf(aor_buf, sizeof(aor_buf), "sip:%s@%s%.*s%s", username ? username : "sipcx",
		         u.host_ipv6 ? "[" : "", SIPCX_STR_FMT(u.host), u.host_ipv6 ? "]" : "");
		aor = aor_buf;
	}
	g_aor = aor;
	rc = cli_observe_start("register", &cc);
	if (rc >= 0)
		return rc;

	struct sipcx_ua *ua = NULL;
	struct sipcx_phone *phone = NULL;
	struct sipcx_ctx *first = NULL, *dur = NULL;
	int exit_code = CLI_EXIT_OK;
	if (username)
		uo.user = username;
	int r = sipcx_ua_new(&ua, &uo);
	if (r) {
		if (r == -EINVAL)
			return bad("bad --listen", listen);
		fprintf(stderr, "sipcx register: cannot listen on %s: %s\n", listen,
		        sipcx_strerror(r));
		return CLI_EXIT_FAIL;
	}
	r = sipcx_ctx_new(&g_sig, NULL, 0);
	if (!r)
		r = sipcx_ctx_new(&first, g_sig, timeout_us / 1000);
	if (!r)
		r = sipcx_phone_new(&phone, ua, NULL);
	if (r) {
		fprintf(stderr, "sipcx register: %s\n", sipcx_strerror(r));
		exit_code = CLI_EXIT_FAIL;
		goto out;
	}
	cli_cancel_on_signals(g_sig);

	g_t0 = sipcx_now_us();
	struct sipcx_reg_opts ro = {
		.registrar = uri,
		.aor = aor,
		.username = username,
		.password = username ? (password ? password : "") : NULL,
		.realm = realm,
		.dst = dst,
		.transport = transport,
		.expires_s = (uint32_t)expiry,
		.retry_min_ms = (uint32_t)(retry_us / 1000),
		.flags =
		    (unregister ? SIPCX_REG_UNREGISTER_ALL : 0) | (no_nat ? SIPCX_REG_NO_NAT : 0),
		.cb = on_state,
	};
	struct sipcx_reg *reg = NULL;
	struct sipcx_reg_info info;
	r = sipcx_phone_register(phone, first, &ro, &reg, &info);
	char fail[240] = "";
	if (r && info.state == SIPCX_REG_FAILED)
		why(&info, fail, sizeof(fail));
	else if (r)
		snprintf(fail, sizeof(fail), "%s", sipcx_strerror(r));
	char tc[300];
	snprintf(tc, sizeof(tc), "register %s", g_aor);
	cli_junit_case(tc, (double)(sipcx_now_us() - g_t0) / 1e6, r ? fail : NULL);
	if (r && cc.json) {
		struct cli_json j;
		cli_json_begin(&j, r == -ECANCELED   ? "interrupted"
		                   : r == -ETIMEDOUT ? "timeout"
		                                     : "error");
		cli_json_str(&j, "aor", g_aor);
		cli_json_str(&j, "error", fail);
		cli_json_end(&j);
	} else if (r == -ECANCELED) {
		printf("+%.3fs interrupted before the registrar answered\n",
		       (double)(sipcx_now_us() - g_t0) / 1e6);
	} else if (r == -ETIMEDOUT && info.state == SIPCX_REG_REGISTERING) {
		printf("+%.3fs timeout: no answer in %.0f ms\n",
		       (double)(sipcx_now_us() - g_t0) / 1e6, (double)timeout_us / 1e3);
	}
	if (r == SIPCX_ERESOLVE)
		fprintf(stderr, "sipcx register: cannot resolve %.*s\n", SIPCX_STR_FMT(u.host));
	else if (r && r != -ECANCELED &&
	         !(r == -ETIMEDOUT && info.state == SIPCX_REG_REGISTERING) &&
	         info.state != SIPCX_REG_FAILED)
		fprintf(stderr, "sipcx register: %s: %s\n", uri, sipcx_strerror(r));
	if (r) {
		if (r == -EPROTONOSUPPORT && info.state != SIPCX_REG_FAILED)
			r = -EINVAL;
		exit_code = r == -EINVAL ? CLI_EXIT_USAGE : exit_for(r);
		fflush(stdout);
		goto out;
	}
	if (unregister) {
		sipcx_reg_free(reg);
		goto out;
	}
	r = sipcx_ctx_new(&dur, g_sig, duration_us / 1000);
	if (!r)
		sipcx_ctx_wait(dur);
	sipcx_reg_info(reg, &info);
	if (info.state == SIPCX_REG_FAILING)
		exit_code = exit_for(info.err ? info.err : SIPCX_ESTATUS);
	/*
	 * Unregister, also after a signal (not a child of g_sig), waiting for
	 * the answer no longer than --timeout (else the registration's 5 s).
	 */
	struct sipcx_ctx *bye = sipcx_ctx_timeout(NULL, timeout_us / 1000);
	sipcx_phone_unregister(phone, bye, reg, NULL);
	sipcx_ctx_free(bye);
out:
	sipcx_ctx_free(dur);
	sipcx_ctx_free(first);
	sipcx_phone_free(phone);
	sipcx_ua_free(ua);
	cli_cancel_on_signals(NULL);
	sipcx_ctx_free(g_sig);
	g_sig = NULL;
	if (cc.json) {
		struct cli_json j;
		cli_json_begin(&j, "summary");
		cli_json_str(&j, "aor", g_aor ? g_aor : "");
		cli_json_int(&j, "exit", exit_code);
		cli_json_end(&j);
	}
	return exit_code;
}
