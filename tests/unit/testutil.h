/* Shared helpers for the unit tests: files, data paths, a failing allocator. */
#ifndef SIPCX_TESTUTIL_H
#define SIPCX_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sipcx/base.h>

/** Read a whole file into a malloc'd buffer of exactly its size (NULL if absent). */
char *tu_read_file(const char *path, size_t *len);
/** Path of tests/data/<name> (static buffer). */
const char *tu_data_path(const char *name);
/** The RFC 4475 corpus directory, or NULL when it is absent. */
const char *tu_rfc4475_dir(void);

/*
 * Allocation accounting through sipcx_allocator_set(): tu_alloc_install()
 * counts allocations; tu_alloc_fail_at(n) makes the nth allocation from now
 * (1-based) fail, 0 disables. tu_alloc_live() is allocations not yet freed.
 */
void tu_alloc_install(void);
void tu_alloc_uninstall(void);
void tu_alloc_fail_at(long n);
long tu_alloc_count(void);
long tu_alloc_live(void);
/** True when the failure set by tu_alloc_fail_at() has been injected. */
int tu_alloc_failed(void);

#endif
