/* Shared helpers for the unit tests: files, data paths, a failing allocator. */
#ifndef SIPCX_TESTUTIL_H
#define SIPCX_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sipcx/base.h>
#include <sipcx/embed.h>
#include <sipcx/transport.h>

struct uv_loop_s;
/** Turn loop until *count reaches n, for 5 s at most; true when it did. */
bool tu_turn_until(struct uv_loop_s *loop, const int *count, int n);
/** The same for ms milliseconds at most. */
bool tu_turn_until_ms(struct uv_loop_s *loop, const int *count, int n, unsigned ms);

/** One end of a transport test: what its transport received and the errors it reported. */
struct tu_end {
	struct sipcx_transport *tp;
	int nrecv, nbad, nerr; /* messages, unparsable ones, error callbacks */
	int last_err;
	enum sipcx_tp_proto proto, err_proto; /* of the last message, of the last error */
	uint64_t conn;
	char last[1024]; /* the last message, cut to fit */
};
/** A transport on loop with options o (recv, error and arg set here) for e. */
void tu_end_open(struct tu_end *e, struct uv_loop_s *loop, struct sipcx_transport_opts o);

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
