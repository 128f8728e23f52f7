/* Shared helpers for the unit tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "testutil.h"

static void stop_loop(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

bool tu_turn_until(uv_loop_t *loop, const int *count, int n)
{
	return tu_turn_until_ms(loop, count, n, 5000);
}

bool tu_turn_until_ms(uv_loop_t *loop, const int *count, int n, unsigned ms)
{
	bool late = false;
	uv_timer_t t;
	uv_timer_init(loop, &t);
	t.data = &late;
	uv_timer_start(&t, stop_loop, ms, 0);
	while (*count < n && !late)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return *count >= n;
}

static void end_recv(const struct sipcx_tp_pkt *pkt, void *arg)
{
	struct tu_end *e = arg;
	if (pkt->err) {
		e->nbad++;
		return;
	}
	e->nrecv++;
	e->proto = pkt->proto;
	e->conn = pkt->conn;
	snprintf(e->last, sizeof(e->last), "%.*s", (int)pkt->len, pkt->data);
}

static void end_error(int err, enum sipcx_tp_proto proto, const struct sockaddr *remote,
                      uint64_t conn, void *arg)
{
	struct tu_end *e = arg;
	(void)remote;
	(void)conn;
	e->nerr++;
	e->last_err = err;
	e->err_proto = proto;
}

void tu_end_open(struct tu_end *e, struct uv_loop_s *loop, struct sipcx_transport_opts o)
{
	memset(e, 0, sizeof(*e));
	o.recv = end_recv;
	o.error = end_error;
	o.arg = e;
	assert_int_equal(sipcx_transport_new(&e->tp, loop, &o), 0);
}

char *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0) {
		fclose(f);
		return NULL;
	}
	long n = ftell(f);
	rewind(f);
	char *buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		*len = (size_t)(n > 0 ? n : 0);
	return buf;
}

const char *tu_data_path(const char *name)
{
	static char path[4096];
	const char *dir = getenv("SIPCX_TEST_DATA");
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data", name);
	return path;
}

const char *tu_rfc4475_dir(void)
{
	static char path[4096];
	const char *dir = getenv("SIPCX_RFC4475_DIR");
	if (!dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/MANIFEST.tsv", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	fclose(f);
	return dir;
}

static long n_alloc, n_live, fail_at;
static int failed;

static void *t_malloc(size_t size, void *arg)
{
	(void)arg;
	n_alloc++;
	if (fail_at > 0 && --fail_at == 0) {
		failed = 1;
		return NULL;
	}
	void *p = malloc(size);
	if (p)
		n_live++;
	return p;
}

static void *t_realloc(void *ptr, size_t size, void *arg)
{
	(void)arg;
	n_alloc++;
	if (fail_at > 0 && --fail_at == 0) {
		failed = 1;
		return NULL;
	}
	void *p = realloc(ptr, size);
	if (p && !ptr)
		n_live++;
	return p;
}

static void t_free(void *ptr, void *arg)
{
	(void)arg;
	if (ptr)
		n_live--;
	free(ptr);
}

void tu_alloc_install(void)
{
	static const struct sipcx_allocator a = { t_malloc, t_realloc, t_free, NULL };
	n_alloc = n_live = fail_at = 0;
	failed = 0;
	sipcx_allocator_set(&a);
}

void tu_alloc_uninstall(void)
{
	sipcx_allocator_set(NULL);
}

void tu_alloc_fail_at(long n)
{
	fail_at = n;
	failed = 0;
}

long tu_alloc_count(void)
{
	return n_alloc;
}

long tu_alloc_live(void)
{
	return n_live;
}

int tu_alloc_failed(void)
{
	return failed;
}
