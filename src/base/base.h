/* base: private helpers shared by every layer. */
#ifndef SIPCX__BASE_H
#define SIPCX__BASE_H

#include <sipcx/base.h>

extern sipcx_log_cb *sipcx__log_cb;
extern enum sipcx_log_level sipcx__log_level;

void sipcx__log(enum sipcx_log_level level, const char *fmt, ...) SIPCX_PRINTF(2, 3);

/* Cheap check first, so disabled logging costs one branch and no formatting. */
#define SIPCX_LOG(level, ...)                                     \
	do {                                                      \
		if (sipcx__log_cb && (level) <= sipcx__log_level) \
			sipcx__log((level), __VA_ARGS__);         \
	} while (0)
#define SIPCX_DEBUG(...) SIPCX_LOG(SIPCX_LOG_DEBUG, __VA_ARGS__)
#define SIPCX_INFO(...) SIPCX_LOG(SIPCX_LOG_INFO, __VA_ARGS__)
#define SIPCX_WARN(...) SIPCX_LOG(SIPCX_LOG_WARN, __VA_ARGS__)
#define SIPCX_ERROR(...) SIPCX_LOG(SIPCX_LOG_ERROR, __VA_ARGS__)

#define SIPCX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline char sipcx__lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

#endif
