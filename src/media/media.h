/* media: private helpers shared by the media session files (addresses, port pairs). */
#ifndef SIPCX__MEDIA_H
#define SIPCX__MEDIA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <sipcx/media.h>

/** An IPv4 or IPv6 socket address. */
union sipcx__maddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

#define SIPCX__MEDIA_PORT_MIN 10000
#define SIPCX__MEDIA_PORT_MAX 20000

/**
 * Parse an IP literal (IPv4, or IPv6 without brackets) with port into a.
 * When family is AF_INET6 an IPv4 literal becomes ::ffff:a.b.c.d so that an
 * IPv6 (dual-stack) socket can send to it. family 0 keeps the literal's own.
 * Returns 0 or -EINVAL.
 */
int sipcx__maddr_parse(union sipcx__maddr *a, const char *ip, uint16_t port, int family);

/** Copy a socket address (IPv4 or IPv6), mapping IPv4 as above. Returns 0 or -EINVAL. */
int sipcx__maddr_set(union sipcx__maddr *a, const struct sockaddr *sa, int family);

/** Same family, address and port. */
bool sipcx__maddr_eq(const union sipcx__maddr *a, const struct sockaddr *b);

/** "1.2.3.4:5" or "[::1]:5" into buf (NUL-terminated, truncated to size). */
void sipcx__maddr_fmt(const struct sockaddr *sa, char *buf, size_t size);

/** The port of a socket address (host order). */
uint16_t sipcx__maddr_port(const struct sockaddr *sa);

/**
 * Bind two UDP sockets on local's address: RTP on an even port and RTCP on
 * the port above it. With port != 0 exactly port and port + 1; otherwise
 * the first free pair of [min, max] (0/0: the default range), starting
 * after the pair the last call took. Pairs with either port in use are
 * skipped. Returns 0 with both descriptors and *got set, -EINVAL (bad
 * range), -EADDRINUSE (no free pair), or another socket error.
 */
int sipcx__media_bind_pair(const union sipcx__maddr *local, uint16_t port, uint16_t min,
                           uint16_t max, int *fd_rtp, int *fd_rtcp, uint16_t *got);

#endif
