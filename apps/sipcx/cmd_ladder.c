/* sipcx ladder: draw the SIP (and RTP/RTCP) of a capture file as a ladder or a Mermaid diagram. */
#include <errno.h>
#include <stdio.h>

#include <sipcx/base.h>
#include <sipcx/ladder.h>
#include <sipcx/pcap.h>

#include "cli.h"

static void usage(FILE *f)
{
	fputs(
	    "usage: sipcx ladder [--mermaid] [--sip-only] FILE.pcap\n"
	    "Draw the SIP messages of a capture (tcpdump -w, tshark -w, sipcx --pcap) as an\n"
	    "ASCII ladder, one column per address; RTP and RTCP streams as one counted arrow.\n\n"
	    "  --mermaid            print a Mermaid sequenceDiagram instead\n"
	    "  --sip-only           leave RTP and RTCP out\n"
	    "  -h, --help           this text\n\n"
	    "Reads classic pcap (not pcapng: tshark -F pcap -w); Ethernet, Linux cooked, raw IP.\n"
	    "Exit: 0 drawn; 1 the file cannot be read or is not a pcap; 2 usage error.\n",
	    f);
}

struct ladder_run {
	struct sipcx_ladder *l;
	bool sip_only;
};

static void on_packet(const struct sipcx_trace_event *ev, void *arg)
{
	struct ladder_run *r = arg;
	if (r->sip_only && ev->kind != SIPCX_TRACE_SIP)
		return;
	sipcx_ladder_add(r->l, ev);
}

int cmd_ladder(int argc, char **argv)
{
	bool mermaid = false, sip_only = false;
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG("mermaid", &mermaid),
		CLI_OPT_FLAG("sip-only", &sip_only),
		CLI_OPT_END,
	};
	int argi, rc = cli_parse("ladder", argc, argv, opts, NULL, usage, &argi);
	if (rc >= 0)
		return rc;
	if (argi != argc - 1)
		return cli_usage(
		    "ladder", argi >= argc ? "missing FILE" : "expected one FILE, got more", NULL);
	const char *path = argv[argi];
	struct ladder_run r = { .sip_only = sip_only };
	if (sipcx_ladder_new(&r.l) != 0) {
		fprintf(stderr, "sipcx ladder: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	int n = sipcx_pcap_read(path, on_packet, &r);
	if (n < 0) {
		fprintf(stderr, "sipcx ladder: %s: %s\n", path,
		        n == -EINVAL ? "not a pcap capture (or a damaged one)" : sipcx_strerror(n));
		sipcx_ladder_free(r.l);
		return CLI_EXIT_FAIL;
	}
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	int err = mermaid ? sipcx_ladder_mermaid(r.l, &b) : sipcx_ladder_ascii(r.l, &b);
	if (err == 0)
		fwrite(b.p, 1, b.len, stdout);
	sipcx_buf_free(&b);
	sipcx_ladder_free(r.l);
	if (err) {
		fprintf(stderr, "sipcx ladder: %s\n", sipcx_strerror(err));
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}
