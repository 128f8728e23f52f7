/* sipcx CLI: argument and environment parsing shared by every subcommand. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sipcx/codec.h>
#include <sipcx/msg.h>
#include <sipcx/phone.h>
#include <sipcx/sdp.h>
#include <sipcx/transport.h>
#include <sipcx/trace.h>
#include <sipcx/ua.h>
#include <sipcx/uri.h>

#include "cli.h"

int cli_usage(const char *cmd, const char *what, const char *arg)
{
	fprintf(stderr, "sipcx %s: %s%s%s%s (try sipcx %s --help)\n", cmd, what, arg ? " '" : "",
	        arg ? arg : "", arg ? "'" : "", cmd);
	return CLI_EXIT_USAGE;
}

int cli_duration_us(const char *s, uint64_t *us)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !(v >= 0)) /* !(v >= 0) also refuses NaN */
		return -EINVAL;
	double mult = 1e6;
	if (!strcmp(end, "ms"))
		mult = 1e3;
	else if (!strcmp(end, "us"))
		mult = 1;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	if (v * mult > 86400e6 * 365)
		return -ERANGE;
	*us = (uint64_t)(v * mult + 0.5);
	return 0;
}

int cli_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*s == '-' || *s == '+' || *s == ' ' || *s == '\0' || *end || errno || v < min ||
	    v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

bool cli_env_flag(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0;
}

static struct sipcx_ctx *volatile signal_ctx, *volatile signal_hurry;
static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
	(void)sig;
	if (signals_seen++)
		sipcx_ctx_cancel(signal_hurry); /* async-signal-safe; NULL ignored */
	sipcx_ctx_cancel(signal_ctx);
}

void cli_hurry_on_signals(struct sipcx_ctx *ctx)
{
	signal_hurry = ctx;
}

void cli_cancel_on_signals(struct sipcx_ctx *ctx)
{
	signal_ctx = ctx;
	if (!ctx) {
		signal_hurry = NULL;
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		return;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* One value for opt; 0 or -EINVAL. */
static int take(const struct cli_opt *o, const char *arg)
{
	switch (o->kind) {
	case CLI_FLAG:
		*(bool *)o->dst = true;
		return 0;
	case CLI_STR:
		*(const char **)o->dst = arg;
		return 0;
	case CLI_DUR: {
		uint64_t us;
		if (cli_duration_us(arg, &us) || us < o->min || (o->max && us > o->max))
			return -EINVAL;
		*(uint64_t *)o->dst = us;
		return 0;
	}
	case CLI_UINT: {
		unsigned long v;
		if (cli_ulong(arg, (unsigned long)o->min,
		              o->max ? (unsigned long)o->max : ULONG_MAX, &v))
			return -EINVAL;
		*(unsigned long *)o->dst = v;
		return 0;
	}
	case CLI_PROTO: {
		enum sipcx_tp_proto p = sipcx_tp_lookup(sipcx_str_c(arg));
		if (p == SIPCX_TP_NONE)
			return -EINVAL;
		*(enum sipcx_tp_proto *)o->dst = p;
		return 0;
	}
	case CLI_PCT: {
		char *end;
		errno = 0;
		double v = strtod(arg, &end);
		if (end == arg || *end || errno || !(v >= 0 && v <= 100))
			return -EINVAL;
		*(double *)o->dst = v;
		return 0;
	}
	case CLI_FN:
		return o->fn(arg, o->dst);
	}
	return -EINVAL;
}

enum {
	OPT_VERBOSE = 'v',
	OPT_HELP = 'h',
	OPT_TRACE = 1000,
	OPT_JSON,
	OPT_LADDER,
	OPT_PCAP,
	OPT_HEP,
	OPT_MERMAID,
	OPT_JUNIT,
	OPT_BASE = 2000
};

int cli_parse(const char *cmd, int argc, char **argv, const struct cli_opt *opts,
              struct cli_common *common, void (*usage)(FILE *), int *argi)
{
	size_t n = 0;
	while (opts && opts[n].name)
		n++;
	struct option *longs = calloc(n + 10, sizeof(*longs));
	char shorts[64] = ":h";
	size_t ns = 2;
	if (!longs) {
		fprintf(stderr, "sipcx %s: out of memory\n", cmd);
		return CLI_EXIT_FAIL;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool arg = opts[i].kind != CLI_FLAG;
		longs[k++] = (struct option){ opts[i].name, arg ? required_argument : no_argument,
			                      NULL, OPT_BASE + (int)i };
		if (opts[i].short_name && ns + 3 < sizeof(shorts)) {
			shorts[ns++] = (char)opts[i].short_name;
			if (arg)
				shorts[ns++] = ':';
		}
	}
	longs[k++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	if (common) {
		longs[k++] = (struct option){ "verbose", no_argument, NULL, OPT_VERBOSE };
		longs[k++] = (struct option){ "trace", no_argument, NULL, OPT_TRACE };
		longs[k++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
		longs[k++] = (struct option){ "ladder", no_argument, NULL, OPT_LADDER };
		longs[k++] = (struct option){ "pcap", required_argument, NULL, OPT_PCAP };
		longs[k++] = (struct option){ "hep", required_argument, NULL, OPT_HEP };
		longs[k++] = (struct option){ "mermaid", required_argument, NULL, OPT_MERMAID };
		longs[k++] = (struct option){ "junit", required_argument, NULL, OPT_JUNIT };
		shorts[ns++] = 'v';
		*common = (struct cli_common){ .trace = cli_env_flag("SIP_DEBUG") };
	}
	shorts[ns] = '\0';

	int rc = -1;
	opterr = 0;
	optind = 1;
	int c;
	while (rc < 0 && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (c >= OPT_BASE && c < OPT_BASE + (int)n) {
			const struct cli_opt *o = &opts[c - OPT_BASE];
			if (take(o, optarg))
				rc = cli_usage(cmd, o->bad ? o->bad : "bad value for an option",
				               optarg);
			continue;
		}
		/* A short name maps to its table entry. */
		bool found = false;
		for (size_t i = 0; i < n && !found; i++) {
			if (opts[i].short_name && c == opts[i].short_name) {
				found = true;
				if (take(&opts[i], optarg))
					rc = cli_usage(cmd,
					               opts[i].bad ? opts[i].bad
					                           : "bad value for an option",
					               optarg);
			}
		}
		if (found)
			continue;
		switch (c) {
		case OPT_HELP:
			usage(stdout);
			rc = CLI_EXIT_OK;
			break;
		case OPT_VERBOSE:
			common->verbose = true;
			break;
		case OPT_TRACE:
			common->trace = true;
			break;
		case OPT_JSON:
			common->json = true;
			break;
		case OPT_LADDER:
			common->ladder = true;
			break;
		case OPT_PCAP:
		case OPT_HEP:
		case OPT_MERMAID:
		case OPT_JUNIT:
			if (!*optarg) {
				rc = cli_usage(cmd, "this option needs a value:", argv[optind - 1]);
				break;
			}
			*(c == OPT_PCAP      ? &common->pcap
			  : c == OPT_HEP     ? &common->hep
			  : c == OPT_MERMAID ? &common->mermaid
			                     : &common->junit) = optarg;
			break;
		case ':':
			rc = cli_usage(cmd, "this option needs a value:", argv[optind - 1]);
			break;
		default:
			rc = cli_usage(cmd, "unknown option", argv[optind - 1]);
			break;
		}
	}
	free(longs);
	*argi = optind;
	return rc;
}

int cli_parse_header(const char *arg, void *dst)
{
	struct cli_headers *hs = dst;
	const char *colon = strchr(arg, ':');
	if (hs->n >= CLI_MAX_HEADERS || !colon || colon == arg || strpbrk(arg, "\r\n"))
		return -EINVAL;
	size_t nlen = (size_t)(colon - arg);
	for (size_t i = 0; i < nlen; i++)
		if (arg[i] == ' ' || arg[i] == '\t')
			return -EINVAL; /* a header name is a token */
	const char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	hs->h[hs->n].id = sipcx_hdr_lookup(arg, nlen);
	hs->h[hs->n].name = arg;
	hs->h[hs->n].name_len = nlen;
	hs->h[hs->n].value = v;
	hs->h[hs->n].value_len = strlen(v);
	hs->n++;
	return 0;
}

size_t cli_headers_get(const struct cli_headers *in, struct sipcx_hdr *out)
{
	for (size_t i = 0; i < in->n; i++)
		out[i] = (struct sipcx_hdr){ (enum sipcx_hdr_id)in->h[i].id,
			                     { in->h[i].name, in->h[i].name_len },
			                     { in->h[i].value, in->h[i].value_len } };
	return in->n;
}

int cli_parse_codecs(const char *arg, void *dst)
{
	struct cli_codecs *cs = dst;
	cs->n = 0;
	const char *p = arg;
	while (*p) {
		char name[16];
		size_t len = strcspn(p, ",");
		if (len == 0 || len >= sizeof(name) || cs->n >= CLI_CODEC_MAX)
			return -EINVAL;
		memcpy(name, p, len);
		name[len] = '\0';
		const struct sipcx_codec_desc *d = sipcx_codec_find(name);
		if (!d)
			return -EINVAL;
		for (size_t i = 0; i < cs->n; i++)
			if (cs->c[i] == d)
				return -EINVAL;
		cs->c[cs->n++] = d;
		p += len;
		if (*p == ',')
			p++;
	}
	return cs->n ? 0 : -EINVAL;
}

size_t cli_codecs_get(const struct cli_codecs *in, struct sipcx_sdp_codec *out)
{
	if (!in->n)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < in->n; i++)
		out[n++] = (struct sipcx_sdp_codec){ .pt = in->c[i]->pt,
			                             .name = in->c[i]->name,
			                             .clock = in->c[i]->clock,
			                             .channels = in->c[i]->channels,
			                             .fmtp = in->c[i]->fmtp };
	/* RFC 4733 2.1: telephone-event at the clock of the audio it goes with */
	static const uint32_t clocks[] = { 8000, 48000 };
	static const int te_pt[] = { 101, 110 };
	for (size_t k = 0; k < 2; k++) {
		bool used = false;
		for (size_t i = 0; i < in->n; i++)
			used |= in->c[i]->clock == clocks[k];
		if (used)
			out[n++] = (struct sipcx_sdp_codec){ .pt = te_pt[k],
				                             .name = "telephone-event",
				                             .clock = clocks[k],
				                             .fmtp = "0-16" };
	}
	return n;
}

uint32_t cli_ms(uint64_t us)
{
	uint64_t ms = (us + 999) / 1000;
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

int cli_parse_ports(const char *s, void *dst)
{
	struct cli_ports *pr = dst;
	unsigned long lo, hi;
	char a[16], b[16];
	const char *dash = strchr(s, '-');
	if (!dash || (size_t)(dash - s) >= sizeof(a) || strlen(dash + 1) >= sizeof(b))
		return -EINVAL;
	memcpy(a, s, (size_t)(dash - s));
	a[dash - s] = '\0';
	snprintf(b, sizeof(b), "%s", dash + 1);
	if (cli_ulong(a, 1024, 65534, &lo) || cli_ulong(b, 1024, 65535, &hi) || lo + 1 > hi)
		return -EINVAL;
	pr->min = (uint16_t)lo;
	pr->max = (uint16_t)hi;
	return 0;
}

static int tls_file(const char *cmd, const char *opt, const char *path)
{
	if (path && access(path, R_OK) != 0) {
		fprintf(stderr, "sipcx %s: cannot read %s '%s': %s\n", cmd, opt, path,
		        strerror(errno));
		return CLI_EXIT_USAGE;
	}
	return -1;
}

int cli_tls_apply(const char *cmd, const struct cli_tls *t, const char *listen, bool need_cert,
                  struct sipcx_ua_opts *uo)
{
	int rc;
	if ((rc = tls_file(cmd, "--tls-ca", t->ca)) >= 0 ||
	    (rc = tls_file(cmd, "--tls-cert", t->cert)) >= 0 ||
	    (rc = tls_file(cmd, "--tls-key", t->key)) >= 0)
		return rc;
	if (t->key && !t->cert)
		return cli_usage(cmd, "--tls-key without --tls-cert", NULL);
	if (need_cert && !t->cert && listen &&
	    (strcasestr(listen, "tls:") || strcasestr(listen, "wss:")))
		return cli_usage(cmd,
		                 strcasestr(listen, "tls:")
		                     ? "a tls: listener needs --tls-cert (and --tls-key):"
		                     : "a wss: listener needs --tls-cert (and --tls-key):",
		                 listen);
	if (t->insecure)
		fprintf(
		    stderr,
		    "sipcx %s: WARNING: --tls-insecure: TLS servers are NOT verified; anyone on "
		    "the path can read and change this traffic\n",
		    cmd);
	uo->tls_ca = t->ca;
	uo->tls_cert = t->cert;
	uo->tls_key = t->key;
	uo->tls_insecure = t->insecure;
	return -1;
}

int cli_dns_apply(const char *cmd, const char *server, struct sipcx_ua_opts *uo)
{
	if (!server)
		return -1;
	char buf[80];
	struct sipcx_tp_addr a;
	int n = snprintf(buf, sizeof(buf), "udp:%s", server);
	if (n < 0 || (size_t)n >= sizeof(buf) || sipcx_tp_addr_parse(&a, buf) != 0 ||
	    !sipcx_sa_port(&a.sa.sa))
		return cli_usage(cmd, "bad --dns-server (IP:PORT, e.g. 127.0.0.1:53):", server);
	uo->dns_servers = server;
	return -1;
}

bool cli_uri_tls(const char *uri, int transport)
{
	if (transport == SIPCX_TP_TLS || transport == SIPCX_TP_WSS)
		return true;
	struct sipcx_uri u;
	struct sipcx_str tp;
	if (sipcx_uri_parse(&u, sipcx_str_c(uri)) != 0)
		return false;
	return u.scheme == SIPCX_URI_SIPS ||
	       (sipcx_uri_param(&u, "transport", &tp) &&
	        (sipcx_str_ieq_c(tp, "tls") || sipcx_str_ieq_c(tp, "wss")));
}

const char *cli_client_listen(bool v6, bool tls)
{
	/* ws: (wss: with TLS) listens only to stand in Via and Contact: a server answers over
	 * the connection we open (RFC 7118 5, Via ;alias). */
	if (tls)
		return v6 ? "udp:[::]:0 tcp:[::]:0 ws:[::]:0 tls:[::]:0 wss:[::]:0"
		          : "udp:0.0.0.0:0 tcp:0.0.0.0:0 ws:0.0.0.0:0 tls:0.0.0.0:0 wss:0.0.0.0:0";
	return v6 ? "udp:[::]:0 tcp:[::]:0 ws:[::]:0" : "udp:0.0.0.0:0 tcp:0.0.0.0:0 ws:0.0.0.0:0";
}
