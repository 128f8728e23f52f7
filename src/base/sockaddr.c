/* base: socket addresses: IPv4/IPv6 literals, ports, comparison, text (one copy for transport, media and trace). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sipcx/sockaddr.h>

#include "base.h"

/* Callers' sockaddrs may be less aligned than the union (recvmmsg name buffers): copy. */
static union sipcx_sa load(const struct sockaddr *sa)
{
	union sipcx_sa u;
	memset(&u, 0, sizeof(u));
	if (sa)
		memcpy(&u, sa, sipcx_sa_len(sa));
	return u;
}

int sipcx_sa_set(union sipcx_sa *sa, struct sipcx_str host, uint16_t port)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (!sa || !host.p)
		return -EINVAL;
	if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']') {
		host.p++;
		host.len -= 2;
	}
	if (host.len == 0 || host.len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, host.p, host.len);
	tmp[host.len] = '\0';
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, tmp, &sa->in.sin_addr) == 1) {
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, &sa->in6.sin6_addr) == 1) {
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = htons(port);
		return 0;
	}
	return -EINVAL;
}

uint16_t sipcx_sa_port(const struct sockaddr *sa)
{
	if (!sa)
		return 0;
	union sipcx_sa u = load(sa);
	if (sa->sa_family == AF_INET)
		return ntohs(u.in.sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(u.in6.sin6_port);
	return 0;
}

void sipcx_sa_set_port(union sipcx_sa *sa, uint16_t port)
{
	if (sa->sa.sa_family == AF_INET)
		sa->in.sin_port = htons(port);
	else if (sa->sa.sa_family == AF_INET6)
		sa->in6.sin6_port = htons(port);
}

size_t sipcx_sa_len(const struct sockaddr *sa)
{
	if (sa && sa->sa_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (sa && sa->sa_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

bool sipcx_sa_equal_host(const struct sockaddr *a, const struct sockaddr *b)
{
	if (!a || !b || a->sa_family != b->sa_family)
		return false;
	union sipcx_sa x = load(a), y = load(b);
	if (a->sa_family == AF_INET)
		return x.in.sin_addr.s_addr == y.in.sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return !memcmp(&x.in6.sin6_addr, &y.in6.sin6_addr, sizeof(struct in6_addr)) &&
		       x.in6.sin6_scope_id == y.in6.sin6_scope_id;
	return false;
}

bool sipcx_sa_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	return sipcx_sa_equal_host(a, b) && sipcx_sa_port(a) == sipcx_sa_port(b);
}

bool sipcx_sa_is_any(const struct sockaddr *sa)
{
	if (!sa)
		return false;
	union sipcx_sa u = load(sa);
	if (sa->sa_family == AF_INET)
		return u.in.sin_addr.s_addr == htonl(INADDR_ANY);
	if (sa->sa_family == AF_INET6)
		return !memcmp(&u.in6.sin6_addr, &in6addr_any, sizeof(struct in6_addr));
	return false;
}

int sipcx_sa_host(const struct sockaddr *sa, char *buf, size_t n)
{
	char tmp[INET6_ADDRSTRLEN];

	if (!sa || !buf)
		return -EINVAL;
	union sipcx_sa u = load(sa);
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &u.in.sin_addr, tmp, sizeof(tmp));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &u.in6.sin6_addr, tmp, sizeof(tmp));
	else
		return -EAFNOSUPPORT;
	size_t len = strlen(tmp);
	if (len >= n)
		return -ENOSPC;
	memcpy(buf, tmp, len + 1);
	return (int)len;
}

int sipcx_sa_print(const struct sockaddr *sa, char *buf, size_t n)
{
	char host[INET6_ADDRSTRLEN];
	int r = sipcx_sa_host(sa, host, sizeof(host));
	if (r < 0)
		return r;
	r = snprintf(buf, n, sa->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
	             sipcx_sa_port(sa));
	return (r < 0 || (size_t)r >= n) ? -ENOSPC : r;
}
