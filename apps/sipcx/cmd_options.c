/* sipcx options: OPTIONS ping / keep-alive probe of a SIP peer (RFC 3261 11). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/phone.h>
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
	    "  --transport udp|tcp|tls|ws|wss  transport (default: the URI's: sips or ;transport=, else udp)\n"
	    "  --timeout DUR        give up on a ping after DUR (default: Timer F, 64*T1)\n"
	    "  --count N            send N pings (default 1)\n"
	    "  --interval DUR       time from one ping to the next (default 1s)\n"
	    "  --t1 DUR             RFC 3261 T1, the retransmit base (default 500ms)\n"
	    "  --dst ADDR           send to ADDR instead of the URI's host (udp:1.2.3.4:5060)\n"
	    "  --listen ADDRS       local addresses (default: udp and tcp, any address, port 0)\n" CLI_TLS_HELP
	        CLI_DNS_HELP CLI_COMMON_HELP "  -h, --help           this text\n\n"
	    "DUR is a number with an optional unit: 250ms, 1.5s, 2 (seconds).\n"
	    "Exit: 0 every ping got a 2xx; 1 a failure status or transport error;\n"
	    "      2 usage error; 3 no final response in time (timeout).\n");
}

static int bad(const char *what, const char *arg)
{
	return cli_usage("options", what, arg);
}

int cmd_options(int argc, char **argv)
{
	enum sipcx_tp_proto transport = SIPCX_TP_NONE;
	uint64_t timeout_us = 0, interval_us = 1000000, t1_us = 0;
	unsigned long count = 1;
	const char *dst = NULL, *listen = NULL;
	struct cli_tls tls = { 0 };
	const char *dns_server = NULL;
	struct cli_common cc;
	const struct cli_opt opts[] = {
		CLI_OPT_PROTO("transport", &transport),
		CLI_OPT_DUR("timeout", &timeout_us, "bad --timeout", 1, 0),
		CLI_OPT_DUR("interval", &interval_us, "bad --interval", 0, 0),
		CLI_OPT_DUR("t1", &t1_us, "bad --t1 (1ms to 60s)", 1000, 60000000),
		CLI_OPT_UINT("count", &count, "bad --count (a number from 1)", 1, 1000000000),
		CLI_OPT_STR("dst", &dst),
		CLI_OPT_STR("listen", &listen),
		CLI_TLS_OPTS(&tls),
		CLI_DNS_OPT(&dns_server),
		CLI_OPT_END,
	};

	int argi, rc = cli_parse("options", argc, argv, opts, &cc, usage, &argi);
	if (rc >= 0)
		return rc;
	if (argi != argc - 1)
		return bad(argi >= argc ? "missing URI" : "expected one URI, got more", NULL);
	const char *uri = argv[argi];

	struct sipcx_uri u;
	if (sipcx_uri_parse(&u, sipcx_str_c(uri)) != 0 ||
	    (u.scheme != SIPCX_URI_SIP && u.scheme != SIPCX_URI_SIPS))
		return bad("not a sip: URI:", uri);
	struct sipcx_tp_addr dst_addr;
	if (dst && sipcx_tp_addr_parse(&dst_addr, dst) != 0)
		return bad("bad --dst (e.g. udp:127.0.0.1:5060)", dst);

	/* Listen where the target is reachable: its address family, UDP and TCP. */
	bool v6 = dst ? dst_addr.sa.sa.sa_family == AF_INET6 : u.host_ipv6;
	if (!listen)
		listen = cli_client_listen(v6, cli_uri_tls(uri, transport) ||
		                                   (dst && (dst_addr.proto == SIPCX_TP_TLS ||
		                                            dst_addr.proto == SIPCX_TP_WSS)));
	struct sipcx_ua_opts uo = { .listen = listen, .t1_ms = (uint32_t)(t1_us / 1000) };
	if ((rc = cli_tls_apply("options", &tls, listen, false, &uo)) >= 0)
		return rc;
	if ((rc = cli_dns_apply("options", dns_server, &uo)) >= 0)
		return rc;
	rc = cli_observe_start("options", &cc);
	if (rc >= 0)
		return rc;

	struct sipcx_ua *ua;
	int r = sipcx_ua_new(&ua, &uo);
	if (r) {
		if (r == -EINVAL)
			return bad("bad --listen", listen);
		fprintf(stderr, "sipcx options: cannot listen on %s: %s\n", listen,
		        sipcx_strerror(r));
		return CLI_EXIT_FAIL;
	}
	struct sipcx_phone *phone = NULL;
	struct sipcx_ctx *sig = NULL;
	r = sipcx_phone_new(&phone, ua, NULL);
	if (!r)
		r = sipcx_ctx_new(&sig, NULL, 0);
	if (r) {
		fprintf(stderr, "sipcx options: %s\n", sipcx_strerror(r));
		sipcx_phone_free(phone);
		sipcx_ua_free(ua);
		return CLI_EXIT_FAIL;
	}
	cli_cancel_on_signals(sig);

	unsigned long ok = 0, failed = 0, timeouts = 0, sent = 0;
	uint64_t rtt_min = UINT64_MAX, rtt_max = 0, rtt_sum = 0;
	int exit_code = CLI_EXIT_OK;
	uint64_t t_first = sipcx_now_us();
	for (unsigned long i = 0; i < count && !sipcx_ctx_err(sig); i++) {
		if (i) {
			/* The next ping is due interval after the first one's start. */
			uint64_t now = sipcx_now_us(), due = t_first + i * interval_us;
			struct sipcx_ctx *gap =
			    sipcx_ctx_timeout(sig, due > now ? (due - now + 999) / 1000 : 0);
			if (gap && due > now)
				sipcx_ctx_wait(gap);
			sipcx_ctx_free(gap);
			if (sipcx_ctx_err(sig))
				break;
		}
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
		struct sipcx_ctx *ping = NULL;
		if (sipcx_ctx_new(&ping, sig, timeout_us ? (timeout_us + 999) / 1000 : 0)) {
			exit_code = CLI_EXIT_FAIL;
			break;
		}
		uint64_t t0 = sipcx_now_us();
		struct sipcx_phone_response res = { .want_msg = true };
		r = sipcx_phone_request(phone, ping, &ro, &res);
		bool expired =
		    r == -ETIMEDOUT && sipcx_ctx_err(ping) == -ETIMEDOUT && !sipcx_ctx_err(sig);
		sipcx_ctx_free(ping);
		sent++;
		if (r == -EINVAL || r == -EPROTONOSUPPORT || r == -EHOSTUNREACH ||
		    r == SIPCX_ERESOLVE) {
			fprintf(stderr, "sipcx options: cannot send to %s: %s\n", uri,
			        sipcx_strerror(r));
			exit_code = r == -EHOSTUNREACH || r == SIPCX_ERESOLVE ? CLI_EXIT_FAIL
			                                                      : CLI_EXIT_USAGE;
			break;
		}
		if (r == -ECANCELED) {
			sent--;
			break;
		}
		char tc[300];
		snprintf(tc, sizeof(tc), "OPTIONS %lu to %s", i + 1, uri);
		if (cc.json) {
			struct cli_json j;
			cli_json_begin(&j, r == 0            ? "response"
			                   : r == -ETIMEDOUT ? "timeout"
			                                     : "error");
			cli_json_int(&j, "seq", (long long)(i + 1));
			cli_json_str(&j, "uri", uri);
			if (r == 0) {
				cli_json_int(&j, "status", res.status);
				cli_json_strn(&j, "reason", res.msg ? res.msg->reason.p : "",
				              res.msg ? res.msg->reason.len : 0);
				cli_json_num(&j, "rtt_ms", (double)res.rtt_us / 1e3, 3);
			} else {
				cli_json_str(&j, "error", sipcx_strerror(r));
			}
			cli_json_end(&j);
		}
		if (r == 0 && res.status >= 200 && res.status < 300) {
			cli_junit_case(tc, (double)res.rtt_us / 1e6, NULL);
		} else {
			char why[160];
			if (r == 0)
				snprintf(why, sizeof(why), "%.*s",
				         res.msg ? (int)res.msg->start_line.len : 0,
				         res.msg ? res.msg->start_line.p : "");
			else
				snprintf(why, sizeof(why), "%s", sipcx_strerror(r));
			cli_junit_case(tc, (double)(sipcx_now_us() - t0) / 1e6, why);
		}
		if (expired && timeout_us) {
			if (!cc.json)
				printf("timeout: no final response in %.0f ms\n",
				       (double)timeout_us / 1e3);
			timeouts++;
			exit_code = CLI_EXIT_TIMEOUT;
		} else if (r == -ETIMEDOUT) {
			if (!cc.json)
				printf("timeout: no final response (Timer F, %.0f ms)\n",
				       (double)(sipcx_now_us() - t0) / 1e3);
			timeouts++;
			exit_code = CLI_EXIT_TIMEOUT;
		} else if (r) {
			if (!cc.json)
				printf("error: %s\n", sipcx_strerror(r));
			failed++;
			if (exit_code == CLI_EXIT_OK)
				exit_code = CLI_EXIT_FAIL;
		} else {
			if (!cc.json)
				printf("%.*s  rtt %.3f ms\n",
				       res.msg ? (int)res.msg->start_line.len : 0,
				       res.msg ? res.msg->start_line.p : "",
				       (double)res.rtt_us / 1e3);
			rtt_min = res.rtt_us < rtt_min ? res.rtt_us : rtt_min;
			rtt_max = res.rtt_us > rtt_max ? res.rtt_us : rtt_max;
			rtt_sum += res.rtt_us;
			if (res.status >= 200 && res.status < 300) {
				ok++;
			} else {
				failed++;
				if (exit_code == CLI_EXIT_OK)
					exit_code = CLI_EXIT_FAIL;
			}
		}
		sipcx_msg_unref(res.msg);
		fflush(stdout);
	}
	cli_cancel_on_signals(NULL);
	sipcx_phone_free(phone);
	sipcx_ua_free(ua);
	sipcx_ctx_free(sig);
	if (cc.json) {
		unsigned long answered = ok + failed;
		struct cli_json j;
		cli_json_begin(&j, "summary");
		cli_json_str(&j, "uri", uri);
		cli_json_raw(&j, "sent", "%lu", sent);
		cli_json_raw(&j, "ok", "%lu", ok);
		cli_json_raw(&j, "failed", "%lu", failed);
		cli_json_raw(&j, "timeouts", "%lu", timeouts);
		if (rtt_sum && answered)
			cli_json_raw(&j, "rtt_ms", "{\"min\":%.3f,\"avg\":%.3f,\"max\":%.3f}",
			             (double)rtt_min / 1e3,
			             (double)rtt_sum / 1e3 / (double)answered,
			             (double)rtt_max / 1e3);
		cli_json_int(&j, "exit", exit_code);
		cli_json_end(&j);
	} else if (count > 1) {
		unsigned long answered = ok + failed;
		printf("--- %s: %lu sent, %lu 2xx, %lu failed, %lu timed out", uri, sent, ok,
		       failed, timeouts);
		if (rtt_sum && answered)
			printf("; rtt min/avg/max %.3f/%.3f/%.3f ms", (double)rtt_min / 1e3,
			       (double)rtt_sum / 1e3 / (double)answered, (double)rtt_max / 1e3);
		printf("\n");
	}
	return exit_code;
}
