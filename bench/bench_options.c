/* bench_options: a sipcx engine that answers OPTIONS (RFC 3261 11.2), the target of bench_options.sh and the peer tests. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sipcx/trace.h>
#include <sipcx/ua.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bench_options [--listen ADDRS] [--duration SECONDS] [--stateful] [--mem]\n"
	        "                     [--trace]\n"
	        "Answers OPTIONS until SIGINT/SIGTERM or the duration; prints each bound\n"
	        "address as 'listening udp:IP:PORT', and the counters at exit.\n"
	        "--stateful answers through a server transaction (a handler) instead of\n"
	        "the engine's stateless OPTIONS reply.\n"
	        "--mem counts the library's heap (a counting allocator) and prints at exit\n"
	        "the bytes held per live transaction (in Completed: Timer J, 32 s).\n");
}

/*
 * --mem: every allocation of the library carries its size in a header; the
 * counters are atomic (the loop thread allocates, main reads).
 */
#define MEM_HDR 16
static size_t mem_bytes;
static long mem_blocks, mem_allocs;

static void *mem_malloc(size_t size, void *arg)
{
	(void)arg;
	unsigned char *p = malloc(MEM_HDR + size);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	__atomic_add_fetch(&mem_bytes, size, __ATOMIC_RELAXED);
	__atomic_add_fetch(&mem_blocks, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&mem_allocs, 1, __ATOMIC_RELAXED);
	return p + MEM_HDR;
}

static void mem_free(void *ptr, void *arg)
{
	(void)arg;
	if (!ptr)
		return;
	unsigned char *p = (unsigned char *)ptr - MEM_HDR;
	size_t size;
	memcpy(&size, p, sizeof(size));
	__atomic_sub_fetch(&mem_bytes, size, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&mem_blocks, 1, __ATOMIC_RELAXED);
	free(p);
}

static void *mem_realloc(void *ptr, size_t size, void *arg)
{
	if (!ptr)
		return mem_malloc(size, arg);
	unsigned char *p = (unsigned char *)ptr - MEM_HDR;
	size_t old;
	memcpy(&old, p, sizeof(old));
	unsigned char *n = realloc(p, MEM_HDR + size);
	if (!n)
		return NULL;
	memcpy(n, &size, sizeof(size));
	__atomic_add_fetch(&mem_allocs, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&mem_bytes, size, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&mem_bytes, old, __ATOMIC_RELAXED);
	return n + MEM_HDR;
}

static void on_options(struct sipcx_ua_srv *srv, const struct sipcx_msg *req, void *arg)
{
	static const struct sipcx_hdr allow[] = {
		{ SIPCX_HDR_ALLOW, { NULL, 0 }, { "OPTIONS", 7 } },
		{ SIPCX_HDR_ACCEPT, { NULL, 0 }, { "application/sdp", 15 } },
	};
	(void)req;
	(void)arg;
	sipcx_ua_respond(srv, 200, NULL, allow, 2, NULL, SIPCX_STR_NULL);
}

int main(int argc, char **argv)
{
	const char *listen = "udp:127.0.0.1:0";
	double duration = 0;
	int stateful = 0, mem = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			listen = argv[++i];
		} else if (!strcmp(argv[i], "--duration") && i + 1 < argc) {
			duration = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--stateful")) {
			stateful = 1;
		} else if (!strcmp(argv[i], "--mem")) {
			mem = 1;
		} else if (!strcmp(argv[i], "--trace")) {
			sipcx_trace_set(sipcx_trace_file, stderr);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "bench_options: bad argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	/* Blocked before the loop thread starts, so only sigtimedwait() below takes them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	static const struct sipcx_allocator counting = { mem_malloc, mem_realloc, mem_free, NULL };
	if (mem)
		sipcx_allocator_set(&counting);
	struct sipcx_ua *ua;
	int r = sipcx_ua_new(&ua, &(struct sipcx_ua_opts){ .listen = listen });
	if (r) {
		fprintf(stderr, "bench_options: cannot listen on %s: %s\n", listen,
		        sipcx_strerror(r));
		return 1;
	}
	if (stateful && (r = sipcx_ua_handle(ua, "OPTIONS", 0, on_options, NULL)) != 0) {
		fprintf(stderr, "bench_options: %s\n", sipcx_strerror(r));
		sipcx_ua_free(ua);
		return 1;
	}
	struct sipcx_tp_addr a;
	char buf[SIPCX_ADDRSTRLEN];
	for (size_t i = 0; sipcx_ua_bound(ua, i, &a) == 0; i++) {
		sipcx_tp_addr_print(&a, buf, sizeof(buf));
		printf("listening %s\n", buf);
	}
	fflush(stdout);
	size_t idle_bytes = __atomic_load_n(&mem_bytes, __ATOMIC_RELAXED);
	long idle_blocks = __atomic_load_n(&mem_blocks, __ATOMIC_RELAXED);
	long idle_allocs = __atomic_load_n(&mem_allocs, __ATOMIC_RELAXED);

	struct timespec ts = { .tv_sec = (time_t)duration,
		               .tv_nsec = (long)((duration - (double)(time_t)duration) * 1e9) };
	do {
		r = duration > 0 ? sigtimedwait(&set, NULL, &ts) : sigwaitinfo(&set, NULL);
	} while (r < 0 && errno == EINTR);

	struct sipcx_ua_stats st;
	sipcx_ua_stats(ua, &st);
	if (mem) {
		size_t bytes = __atomic_load_n(&mem_bytes, __ATOMIC_RELAXED) - idle_bytes;
		long blocks = __atomic_load_n(&mem_blocks, __ATOMIC_RELAXED) - idle_blocks;
		long allocs = __atomic_load_n(&mem_allocs, __ATOMIC_RELAXED) - idle_allocs;
		unsigned long long n = (unsigned long long)st.txn_live;
		printf("memory %zu bytes in %ld blocks for %llu live transactions: %llu bytes, "
		       "%.2f blocks each; %.2f allocations per request\n",
		       bytes, blocks, n, n ? (unsigned long long)bytes / n : 0ull,
		       n ? (double)blocks / (double)n : 0.0,
		       st.rx_requests ? (double)allocs / (double)st.rx_requests : 0.0);
	}
	sipcx_ua_free(ua);
	printf("requests %llu responses %llu stateless %llu dropped %llu\n",
	       (unsigned long long)st.rx_requests, (unsigned long long)st.tx_responses,
	       (unsigned long long)st.stateless_responses, (unsigned long long)st.rx_dropped);
	return 0;
}
