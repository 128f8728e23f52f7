/* bench_rtp_echo: RTP packets per second through the media echo handler on one core, and memory per session. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include <sipcx/embed.h>
#include <sipcx/media.h>

/* ---------------------------------------------------- counting allocator -- */

struct hdr {
	size_t size;
	size_t pad; /* keeps the user pointer 16-byte aligned */
};
static size_t live_bytes, live_blocks, peak_bytes;

static void *c_malloc(size_t size, void *arg)
{
	(void)arg;
	struct hdr *h = malloc(sizeof(*h) + size);
	if (!h)
		return NULL;
	h->size = size;
	live_bytes += size;
	live_blocks++;
	if (live_bytes > peak_bytes)
		peak_bytes = live_bytes;
	return h + 1;
}

static void c_free(void *p, void *arg)
{
	(void)arg;
	if (!p)
		return;
	struct hdr *h = (struct hdr *)p - 1;
	live_bytes -= h->size;
	live_blocks--;
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
	live_bytes = live_bytes - old + size;
	if (live_bytes > peak_bytes)
		peak_bytes = live_bytes;
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

static void drain_loop(uv_loop_t *loop)
{
	for (int i = 0; i < 1000 && uv_loop_alive(loop); i++)
		uv_run(loop, UV_RUN_NOWAIT);
}

/* ------------------------------------------------------------- memory -- */

static int bench_memory(unsigned n)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * n + 64) {
		n = (unsigned)((rl.rlim_cur - 64) / 2);
		printf("memory: fd limit %lu: measuring %u sessions\n", (unsigned long)rl.rlim_cur,
		       n);
	}
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct sipcx_media **ms = calloc(n, sizeof(*ms));
	if (!ms)
		return 1;
	struct sipcx_allocator a = { c_malloc, c_realloc, c_free, NULL };
	sipcx_allocator_set(&a);
	size_t bytes0 = live_bytes, blocks0 = live_blocks;
	long rss0 = rss_kb();
	unsigned made = 0;
	for (unsigned i = 0; i < n; i++) {
		struct sipcx_media_opts o = { .local_addr = "127.0.0.1",
			                      .remote_addr = "127.0.0.1",
			                      .remote_port = 9,
			                      .handler = SIPCX_MEDIA_ECHO };
		int err = sipcx_media_new_loop(&ms[i], &loop, &o);
		if (err == 0)
			err = sipcx_media_start(ms[i]);
		if (err) {
			printf("memory: session %u: %s\n", i, sipcx_strerror(err));
			break;
		}
		made++;
	}
	uv_run(&loop, UV_RUN_NOWAIT);
	size_t bytes = live_bytes - bytes0, blocks = live_blocks - blocks0;
	long rss1 = rss_kb();
	printf("memory: %u sessions (started, RTP+RTCP sockets each)\n", made);
	if (made) {
		printf("  sipcx allocator: %zu bytes in %zu blocks = %.0f bytes/session\n", bytes,
		       blocks, (double)bytes / made);
		printf("  RSS: +%ld KiB = %.0f bytes/session (user space; kernel socket buffers "
		       "excluded)\n",
		       rss1 - rss0, (double)(rss1 - rss0) * 1024.0 / made);
	}
	for (unsigned i = 0; i < made; i++)
		sipcx_media_free(ms[i]);
	drain_loop(&loop);
	printf("  after free: %zu bytes live\n", live_bytes - bytes0);
	sipcx_allocator_set(NULL);
	uv_loop_close(&loop);
	free(ms);
	return live_bytes == bytes0 ? 0 : 1;
}

/* ------------------------------------------------------ packets/second -- */

#define BATCH 32
#define WINDOW 256 /* packets in flight: below what loopback socket buffers hold */

static int bench_pps(unsigned long total)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct sipcx_media *echo = NULL;
	struct sipcx_media_opts o = { .local_addr = "127.0.0.1",
		                      .handler = SIPCX_MEDIA_ECHO,
		                      .latch = SIPCX_MEDIA_LATCH_ANY,
		                      .rtcp_off = true };
	int err = sipcx_media_new_loop(&echo, &loop, &o);
	if (err == 0)
		err = sipcx_media_start(echo);
	if (err) {
		fprintf(stderr, "echo session: %s\n", sipcx_strerror(err));
		return 1;
	}
	/* the blaster: a plain socket with sendmmsg/recvmmsg, so the echo is what is measured */
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in self = { .sin_family = AF_INET };
	self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&self, sizeof(self)) < 0)
		return 1;
	struct sockaddr_in dst = self;
	dst.sin_port = htons(sipcx_media_port(echo));

	uint8_t pkts[BATCH][172];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint8_t rbuf[BATCH][2048];
	struct mmsghdr rmsgs[BATCH];
	struct iovec riov[BATCH];
	uint8_t payload[160];
	memset(payload, 0xFF, sizeof(payload));
	uint16_t seq = 1;
	unsigned long sent = 0, got = 0;
	uint64_t t0 = uv_hrtime();
	unsigned spins = 0;
	while (got < total && spins < 1000000) {
		if (sent - got + BATCH <= WINDOW && sent < total) {
			for (int i = 0; i < BATCH; i++) {
				struct sipcx_rtp_pkt p = { .pt = 0,
					                   .seq = seq,
					                   .ts = seq * 160u,
					                   .ssrc = 0x12345678,
					                   .payload = payload,
					                   .payload_len = sizeof(payload) };
				seq++;
				sipcx_rtp_build(&p, pkts[i], sizeof(pkts[i]));
				iov[i] = (struct iovec){ pkts[i], 172 };
				msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &dst,
					                                 .msg_namelen = sizeof(dst),
					                                 .msg_iov = &iov[i],
					                                 .msg_iovlen = 1 } };
			}
			int n = sendmmsg(fd, msgs, BATCH, 0);
			if (n > 0)
				sent += (unsigned long)n;
		}
		uv_run(&loop, UV_RUN_NOWAIT); /* the echo session reads and answers */
		for (int i = 0; i < BATCH; i++) {
			riov[i] = (struct iovec){ rbuf[i], sizeof(rbuf[i]) };
			rmsgs[i] =
			    (struct mmsghdr){ .msg_hdr = { .msg_iov = &riov[i], .msg_iovlen = 1 } };
		}
		int n = recvmmsg(fd, rmsgs, BATCH, MSG_DONTWAIT, NULL);
		if (n > 0) {
			got += (unsigned long)n;
			spins = 0;
		} else {
			spins++;
		}
	}
	double secs = (double)(uv_hrtime() - t0) / 1e9;
	struct sipcx_media_stats st;
	sipcx_media_stats(echo, &st);
	printf("echo: %lu packets of 172 bytes sent, %lu echoed, in %.3f s (one thread: blaster + "
	       "echo)\n",
	       sent, got, secs);
	printf("  %.0f packets/s through the echo session (rx %llu, tx %llu, dropped %llu, "
	       "lost %lld)\n",
	       (double)got / secs, (unsigned long long)st.rx_packets,
	       (unsigned long long)st.tx_packets, (unsigned long long)st.tx_dropped,
	       (long long)st.lost);
	close(fd);
	sipcx_media_free(echo);
	drain_loop(&loop);
	uv_loop_close(&loop);
	return got == total ? 0 : 1;
}

int main(int argc, char **argv)
{
	unsigned long total = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
	unsigned sessions = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1000;
	int rc = bench_pps(total ? total : 1);
	rc |= bench_memory(sessions ? sessions : 1);
	return rc;
}
