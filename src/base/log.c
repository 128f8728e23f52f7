/* base: the logging hook. */
#include <stdio.h>

#include "base.h"

sipcx_log_cb *sipcx__log_cb;
enum sipcx_log_level sipcx__log_level = SIPCX_LOG_INFO;
static void *log_arg;

void sipcx_log_set(sipcx_log_cb *cb, enum sipcx_log_level max_level, void *arg)
{
	sipcx__log_cb = cb;
	sipcx__log_level = max_level;
	log_arg = arg;
}

void sipcx__log(enum sipcx_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!sipcx__log_cb || level > sipcx__log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sipcx__log_cb(level, line, log_arg);
}

void sipcx_log_stderr(enum sipcx_log_level level, const char *msg, void *arg)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	(void)arg;
	fprintf(stderr, "sipcx %s: %s\n", names[level <= SIPCX_LOG_DEBUG ? level : 3], msg);
}
