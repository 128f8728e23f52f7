/* sipcx: the command-line tool; dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include <sipcx/base.h>

#include "cli.h"

static const struct cli_cmd cmds[] = {
	{ "answer", "answer incoming calls (ring, answer or reject, echo RTP)", cmd_answer },
	{ "dial", "place a call, stay in it, hang up; check an RTP echo", cmd_dial },
	{ "echo", "an echo service: answer every call and send its RTP back", cmd_echo },
	{ "ladder", "draw the SIP of a capture file as a ladder or a Mermaid diagram", cmd_ladder },
	{ "load", "place calls (or registrations) at a rate, with media; measure them", cmd_load },
	{ "options", "OPTIONS ping / keep-alive probe of a SIP peer", cmd_options },
	{ "parse", "judge and summarise one SIP message", cmd_parse },
	{ "register", "register with a registrar and stay registered", cmd_register },
	{ "registrar", "embedded registrar + proxy for demos and tests", cmd_registrar },
	{ "rtp", "RTP echo and probe: check a media path without SIP", cmd_rtp },
	{ "version", "print the version", cmd_version },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: sipcx COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(
	    f,
	    "\nsipcx COMMAND --help shows the options of a command; sipcx --version the version.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cli_observe_end(cmds[i].run(argc - 1, argv + 1));
	fprintf(stderr, "sipcx: unknown command '%s' (try sipcx --help)\n", argv[1]);
	return CLI_EXIT_USAGE;
}

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("sipcx %s\n", sipcx_version());
	return 0;
}
