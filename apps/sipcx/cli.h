/* sipcx CLI: subcommand table and shared exit codes (docs/cli.md). */
#ifndef SIPCX_CLI_H
#define SIPCX_CLI_H

#define SIPCX_VERSION_STRING "0.1.0"

/* Exit codes shared by every subcommand. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,    /* the job failed: bad message, failure status, ... */
	CLI_EXIT_USAGE = 2,   /* bad argument or environment value */
	CLI_EXIT_TIMEOUT = 3, /* no answer in time (a probe's timeout, Timer B/F) */
};

struct cli_cmd {
	const char *name;
	const char *help;
	int (*run)(int argc, char **argv);
};

int cmd_options(int argc, char **argv);
int cmd_parse(int argc, char **argv);
int cmd_rtp(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
