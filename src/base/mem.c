/* base: the replaceable allocator. */
#include <stdlib.h>
#include <string.h>

#include "base.h"

static void *libc_malloc(size_t size, void *arg)
{
	(void)arg;
	return malloc(size);
}

static void *libc_realloc(void *ptr, size_t size, void *arg)
{
	(void)arg;
	return realloc(ptr, size);
}

static void libc_free(void *ptr, void *arg)
{
	(void)arg;
	free(ptr);
}

static struct sipcx_allocator alloc = { libc_malloc, libc_realloc, libc_free, NULL };

void sipcx_allocator_set(const struct sipcx_allocator *a)
{
	if (a)
		alloc = *a;
	else
		alloc = (struct sipcx_allocator){ libc_malloc, libc_realloc, libc_free, NULL };
}

void *sipcx_malloc(size_t size)
{
	return alloc.malloc(size ? size : 1, alloc.arg);
}

void *sipcx_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	void *p = sipcx_malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *sipcx_realloc(void *ptr, size_t size)
{
	return alloc.realloc(ptr, size ? size : 1, alloc.arg);
}

void sipcx_free(void *ptr)
{
	if (ptr)
		alloc.free(ptr, alloc.arg);
}

char *sipcx_strdup(const char *s)
{
	return s ? sipcx_str_dup(sipcx_str_c(s)) : NULL;
}
