/* base: growable byte buffer with a sticky allocation error. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base.h"

void sipcx_buf_init(struct sipcx_buf *b)
{
	memset(b, 0, sizeof(*b));
}

int sipcx_buf_reserve(struct sipcx_buf *b, size_t n)
{
	if (b->err)
		return b->err;
	/* +1 keeps room for the NUL that sipcx_buf_detach() adds. */
	if (n >= SIZE_MAX / 2 - b->len) {
		b->err = -ENOMEM;
		return b->err;
	}
	if (b->len + n + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *p = sipcx_realloc(b->p, cap);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void sipcx_buf_append(struct sipcx_buf *b, const void *p, size_t n)
{
	if (n == 0 || sipcx_buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sipcx_buf_append_str(struct sipcx_buf *b, struct sipcx_str s)
{
	sipcx_buf_append(b, s.p, s.len);
}

void sipcx_buf_puts(struct sipcx_buf *b, const char *s)
{
	sipcx_buf_append(b, s, strlen(s));
}

void sipcx_buf_vprintf(struct sipcx_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->err = b->err ? b->err : -EINVAL;
		return;
	}
	if (sipcx_buf_reserve(b, (size_t)n))
		return;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void sipcx_buf_printf(struct sipcx_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sipcx_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

int sipcx_buf_err(const struct sipcx_buf *b)
{
	return b->err;
}

void sipcx_buf_free(struct sipcx_buf *b)
{
	sipcx_free(b->p);
	sipcx_buf_init(b);
}

char *sipcx_buf_detach(struct sipcx_buf *b, size_t *len)
{
	if (b->err || sipcx_buf_reserve(b, 0)) {
		sipcx_buf_free(b);
		return NULL;
	}
	char *p = b->p;
	p[b->len] = '\0';
	if (len)
		*len = b->len;
	sipcx_buf_init(b);
	return p;
}
