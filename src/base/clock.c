/* base: monotonic clock and random tokens. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base.h"

uint64_t sipcx_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int sipcx_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Tokens come from a per-thread pool of random bytes refilled 240 at a
 * time: a tag, branch or Call-ID costs a few table lookups, not a
 * getrandom() system call each (the engine draws one per request and per
 * response under load). RFC 3261 19.3: tags must be cryptographically
 * random; the bytes are the kernel's CSPRNG output either way.
 */
static _Thread_local struct {
	unsigned char buf[240];
	size_t left;
} pool;

static void fallback_bytes(unsigned char *p, size_t n, const void *salt)
{
	/* No getrandom: still unique enough for tags (not for nonces). */
	uint64_t x = sipcx_now_us() ^ (uintptr_t)salt ^ (uintptr_t)&pool;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
}

/* n bytes from the pool into out (each handed out once), refilled from the kernel. */
static void pool_take(unsigned char *out, size_t n)
{
	for (size_t done = 0; done < n;) {
		if (!pool.left) {
			if (sipcx_random_bytes(pool.buf, sizeof(pool.buf)) != 0)
				fallback_bytes(pool.buf, sizeof(pool.buf), out);
			pool.left = sizeof(pool.buf);
		}
		size_t chunk = n - done < pool.left ? n - done : pool.left;
		unsigned char *r = pool.buf + sizeof(pool.buf) - pool.left;
		memcpy(out + done, r, chunk);
		/* Used bytes are not left behind for whoever reads this memory next. */
		memset(r, 0, chunk);
		pool.left -= chunk;
		done += chunk;
	}
}

void sipcx__random_pool(void *out, size_t n)
{
	pool_take(out, n);
}

void sipcx_random_token(char *out, size_t n)
{
	static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	pool_take((unsigned char *)out, n);
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[(unsigned char)out[i] % 36];
	out[n] = '\0';
}
