/* bench_call_mem: memory and descriptors per concurrent call of an answering engine (sipcx answer --echo in-process). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <dirent.h>
#include <pthread.h>

#include <sipcx/sipcx.h>

/*
 * usage: bench_call_mem PORT N [RTP_MIN RTP_MAX]
 * Answers calls on udp:127.0.0.1:PORT with RTP echo (a generator such as
 * SIPp places them and holds them: bench/bench_call_mem.sh), and once N
 * calls are up at once prints the heap (a counting allocator: every byte
 * the library holds), the RSS and the descriptors per call.
 */

/* ------------------------------------------- counting allocator (threads) -- */

struct hdr {
	size_t size;
	size_t pad; /* keeps the user pointer 16-byte aligned */
};
static atomic_size_t live_bytes, live_blocks;

static void *c_malloc(size_t size, void *arg)
{
	(void)arg;
	struct hdr *h = malloc(sizeof(*h) + size);
	if (!h)
		return NULL;
	h->size = size;
	atomic_fetch_add(&live_bytes, size);
	atomic_fetch_add(&live_blocks, 1);
	return h + 1;
}

static void c_free(void *p, void *arg)
{
	(void)arg;
	if (!p)
		return;
	struct hdr *h = (struct hdr *)p - 1;
	atomic_fetch_sub(&live_bytes, h->size);
	atomic_fetch_sub(&live_blocks, 1);
	free(h);
}

static void *c_realloc(void *p, size_t size, void *arg)
{
	if (!p)
		return c_malloc(size, arg);
	struct hdr *h = (struct hdr *)p - 1;
	size_t old = h->size;
	struct hdr *n = realloc(h, sizeof(*n) + size);
	if (!n)
		return NULL;
	n->size = size;
	atomic_fetch_add(&live_bytes, size);
	atomic_fetch_sub(&live_bytes, old);
	return n + 1;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, resident = 0;
	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static long fds(void)
{
	long n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", "..", and the one opendir uses */
}

/* ------------------------------------------------------------ the calls -- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long up, ended;

static void on_event(struct sipcx_call *call, const struct sipcx_call_event *ev, void *arg)
{
	(void)call;
	(void)arg;
	pthread_mutex_lock(&lock);
	if (ev->type == SIPCX_CALL_EV_ESTABLISHED)
		up++;
	else if (ev->type == SIPCX_CALL_EV_ENDED)
		ended++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: %s PORT N [RTP_MIN RTP_MAX]\n", argv[0]);
		return 2;
	}
	long n = atol(argv[2]);
	struct rlimit rl = { (rlim_t)n * 2 + 512, (rlim_t)n * 2 + 512 };
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	static const struct sipcx_allocator counting = { c_malloc, c_realloc, c_free, NULL };
	sipcx_allocator_set(&counting);
	char listen[64];
	snprintf(listen, sizeof(listen), "udp:127.0.0.1:%s", argv[1]);
	struct sipcx_ua *ua;
	if (sipcx_ua_new(&ua, &(struct sipcx_ua_opts){ .listen = listen })) {
		fprintf(stderr, "bench_call_mem: cannot listen on %s\n", listen);
		return 1;
	}
	struct sipcx_answer_opts ao = {
		.max_calls = (unsigned)n + 100,
		.media = { .handler = SIPCX_MEDIA_ECHO,
		           .local_addr = "127.0.0.1",
		           .port_min = (uint16_t)(argc == 5 ? atoi(argv[3]) : 10000),
		           .port_max = (uint16_t)(argc == 5 ? atoi(argv[4]) : 60000) },
		.cb = on_event,
	};
	if (sipcx_call_listen(ua, &ao)) {
		fprintf(stderr, "bench_call_mem: cannot listen for calls\n");
		return 1;
	}
	size_t b0 = atomic_load(&live_bytes), k0 = atomic_load(&live_blocks);
	long r0 = rss_kb(), f0 = fds();
	printf("listening on %s; waiting for %ld calls up at once\n", listen, n);
	fflush(stdout);
	uint64_t deadline = sipcx_now_us() + 300000000u;
	pthread_mutex_lock(&lock);
	long max_up = 0;
	while (up - ended < n && sipcx_now_us() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&cond, &lock, &ts);
		if (up - ended > max_up)
			max_up = up - ended;
	}
	long live = up - ended;
	pthread_mutex_unlock(&lock);
	size_t b1 = atomic_load(&live_bytes), k1 = atomic_load(&live_blocks);
	long r1 = rss_kb(), f1 = fds();
	if (live <= 0) {
		printf("no call came up\n");
		return 1;
	}
	printf("%ld calls up at once (echoing RTP)\n", live);
	printf("  heap: %zu bytes in %zu blocks = %.0f bytes and %.1f blocks per call\n", b1 - b0,
	       k1 - k0, (double)(b1 - b0) / (double)live, (double)(k1 - k0) / (double)live);
	printf(
	    "  RSS: +%ld KiB = %.0f bytes per call (user space; kernel socket buffers excluded)\n",
	    r1 - r0, (double)(r1 - r0) * 1024.0 / (double)live);
	printf("  descriptors: +%ld = %.2f per call\n", f1 - f0, (double)(f1 - f0) / (double)live);
	fflush(stdout);
	sipcx_ua_free(ua); /* every call ends with it */
	printf("after the UA is freed: %zu bytes live\n", atomic_load(&live_bytes));
	return 0;
}
