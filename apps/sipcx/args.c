/* sipcx CLI: argument and environment parsing shared by every subcommand. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/phone.h>
#include <sipcx/trace.h>

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

void cli_diagnostics(bool verbose, bool trace)
{
	if (verbose)
		sipcx_log_set(sipcx_log_stderr, SIPCX_LOG_DEBUG, NULL);
	if (trace)
		sipcx_trace_set(sipcx_trace_file, stderr);
}

static struct sipcx_ctx *volatile signal_ctx;

static void on_signal(int sig)
{
	(void)sig;
	sipcx_ctx_cancel(signal_ctx); /* async-signal-safe */
}

void cli_cancel_on_signals(struct sipcx_ctx *ctx)
{
	signal_ctx = ctx;
	if (!ctx) {
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
