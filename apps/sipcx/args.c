/* sipcx CLI: argument and environment parsing shared by every subcommand. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
