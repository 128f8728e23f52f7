/* sipcx CLI: subcommand table and shared exit codes (docs/cli.md). */
#ifndef SIPCX_CLI_H
#define SIPCX_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Exit codes shared by every subcommand. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,    /* the job failed: bad message, failure status, ... */
	CLI_EXIT_USAGE = 2,   /* bad argument or environment value */
	CLI_EXIT_TIMEOUT = 3, /* no answer in time (a probe's timeout, Timer B/F) */
	CLI_EXIT_AUTH = 4,    /* credentials refused (sipcx register) */
};

struct cli_cmd {
	const char *name;
	const char *help;
	int (*run)(int argc, char **argv);
};

/* One clear line on stderr ("sipcx CMD: what 'arg'"); returns CLI_EXIT_USAGE. arg may be NULL. */
int cli_usage(const char *cmd, const char *what, const char *arg);
/* "250ms", "1.5s", "2" (seconds), "800us" -> microseconds. 0, -EINVAL or -ERANGE. */
int cli_duration_us(const char *s, uint64_t *us);
/* A whole decimal number in [min, max]: no sign, no space. 0 or -EINVAL. */
int cli_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);
/* An environment switch such as SIP_DEBUG=1: set, not empty, not "0". */
bool cli_env_flag(const char *name);
/* -v: the library log on stderr; --trace / SIP_DEBUG=1: every SIP message on stderr. */
void cli_diagnostics(bool verbose, bool trace);
struct sipcx_ctx;
/* SIGINT and SIGTERM cancel ctx from now on; NULL restores the default actions. */
void cli_cancel_on_signals(struct sipcx_ctx *ctx);

int cmd_options(int argc, char **argv);
int cmd_parse(int argc, char **argv);
int cmd_register(int argc, char **argv);
int cmd_registrar(int argc, char **argv);
int cmd_rtp(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
