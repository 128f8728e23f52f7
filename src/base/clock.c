/* base: monotonic clock and random tokens. */
#include <errno.h>
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

void sipcx_random_token(char *out, size_t n)
{
	static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[64];

	for (size_t done = 0; done < n;) {
		size_t chunk = n - done < sizeof(rnd) ? n - done : sizeof(rnd);
		if (sipcx_random_bytes(rnd, chunk) != 0) {
			/* No getrandom: still unique enough for tags (not for nonces). */
			uint64_t x = sipcx_now_us() ^ (uintptr_t)out;
			for (size_t i = 0; i < chunk; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				rnd[i] = (unsigned char)x;
			}
		}
		for (size_t i = 0; i < chunk; i++)
			out[done + i] = alphabet[rnd[i] % 36];
		done += chunk;
	}
	out[n] = '\0';
}
