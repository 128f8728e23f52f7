/* media/port.c: RTP/RTCP port pairs from a range (RFC 3550 11: RTP even, RTCP + 1) and the session's socket addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "media/media.h"

int sipcx__maddr_set(union sipcx__maddr *a, const struct sockaddr *sa, int family)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET && family == AF_INET6) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = in->sin_port;
		a->in6.sin6_addr.s6_addr[10] = 0xff;
		a->in6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&a->in6.sin6_addr.s6_addr[12], &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && family == AF_INET)
		return -EINVAL;
	if (sa->sa_family == AF_INET)
		memcpy(&a->in, sa, sizeof(a->in));
	else if (sa->sa_family == AF_INET6)
		memcpy(&a->in6, sa, sizeof(a->in6));
	else
		return -EINVAL;
	return 0;
}

int sipcx__maddr_parse(union sipcx__maddr *a, const char *ip, uint16_t port, int family)
{
	union sipcx_sa tmp;
	/* An IP literal only: a bracketed IPv6 belongs in a URI, not here. */
	if (!ip || *ip == '[' || sipcx_sa_set(&tmp, sipcx_str_c(ip), port) != 0)
		return -EINVAL;
	return sipcx__maddr_set(a, &tmp.sa, family);
}

/* Bind one non-blocking UDP socket; returns the descriptor or a negative errno. */
static int bind_one(const union sipcx__maddr *local, uint16_t port)
{
	union sipcx__maddr a = *local;
	socklen_t len;
	if (a.sa.sa_family == AF_INET) {
		a.in.sin_port = htons(port);
		len = sizeof(a.in);
	} else {
		a.in6.sin6_port = htons(port);
		len = sizeof(a.in6);
	}
	int fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* No SO_REUSEADDR before bind: a port another socket holds must fail here. */
	if (bind(fd, &a.sa, len) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int bind_exact(const union sipcx__maddr *local, uint16_t port, int *fd_rtp, int *fd_rtcp)
{
	int a = bind_one(local, port);
	if (a < 0)
		return a;
	if (!fd_rtcp) { /* multiplexed: no RTCP port */
		*fd_rtp = a;
		return 0;
	}
	int b = bind_one(local, (uint16_t)(port + 1));
	if (b < 0) {
		close(a);
		return b;
	}
	*fd_rtp = a;
	*fd_rtcp = b;
	return 0;
}

/*
 * Index of the pair the next allocation tries first, shared by every
 * session of the process (and every range: it is taken modulo the range's
 * pair count). Seeded randomly so two processes started together do not
 * walk the same ports; racing updates are harmless, as bind() is the judge.
 */
static atomic_uint cursor;
static atomic_bool cursor_seeded;

int sipcx__media_bind_pair(const union sipcx__maddr *local, uint16_t port, uint16_t min,
                           uint16_t max, int *fd_rtp, int *fd_rtcp, uint16_t *got)
{
	if (port) {
		if (port == 65535 && fd_rtcp)
			return -EINVAL;
		int err = bind_exact(local, port, fd_rtp, fd_rtcp);
		if (err == 0)
			*got = port;
		return err;
	}
	if (min == 0 && max == 0) {
		min = SIPCX__MEDIA_PORT_MIN;
		max = SIPCX__MEDIA_PORT_MAX;
	}
	unsigned first = (min + 1u) & ~1u; /* the first even port */
	if (min == 0 || max < first + 1u)
		return -EINVAL;
	unsigned npairs = (max - 1u - first) / 2u + 1u; /* even p with p + 1 <= max */

	if (!atomic_exchange(&cursor_seeded, true)) {
		unsigned r = 0;
		if (sipcx_random_bytes(&r, sizeof(r)) == 0)
			atomic_fetch_add(&cursor, r & 0xffffu);
	}
	unsigned start = atomic_fetch_add(&cursor, 1u);
	for (unsigned i = 0; i < npairs; i++) {
		unsigned idx = (start + i) % npairs;
		uint16_t p = (uint16_t)(first + 2u * idx);
		int err = bind_exact(local, p, fd_rtp, fd_rtcp);
		if (err == 0) {
			/* the next session starts after this pair, not at one we skipped */
			atomic_store(&cursor, start + i + 1u);
			*got = p;
			return 0;
		}
		if (err != -EADDRINUSE && err != -EACCES)
			return err;
		SIPCX_DEBUG("media: port pair %u/%u in use, skipped", p, p + 1u);
	}
	return -EADDRINUSE;
}
