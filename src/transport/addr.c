/* transport: socket addresses, "udp:host:port" strings, Via received/rport (RFC 3261 18.2, RFC 3581). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "transport/transport.h"

const char *sipcx_tp_name(enum sipcx_tp_proto proto)
{
	switch (proto) {
	case SIPCX_TP_UDP:
		return "UDP";
	case SIPCX_TP_TCP:
		return "TCP";
	case SIPCX_TP_TLS:
		return "TLS";
	case SIPCX_TP_WS:
		return "WS";
	case SIPCX_TP_WSS:
		return "WSS";
	default:
		return "";
	}
}

bool sipcx__tp_name_is_stream(const char *name)
{
	if (!name)
		return false;
	enum sipcx_tp_proto p = sipcx_tp_lookup(sipcx_str_c(name));
	return p == SIPCX_TP_TCP || p == SIPCX_TP_TLS || p == SIPCX_TP_WS || p == SIPCX_TP_WSS;
}

enum sipcx_tp_proto sipcx_tp_lookup(struct sipcx_str name)
{
	if (sipcx_str_ieq_c(name, "udp"))
		return SIPCX_TP_UDP;
	if (sipcx_str_ieq_c(name, "tcp"))
		return SIPCX_TP_TCP;
	if (sipcx_str_ieq_c(name, "tls"))
		return SIPCX_TP_TLS;
	if (sipcx_str_ieq_c(name, "ws"))
		return SIPCX_TP_WS;
	if (sipcx_str_ieq_c(name, "wss"))
		return SIPCX_TP_WSS;
	return SIPCX_TP_NONE;
}

int sipcx_tp_addr_parse(struct sipcx_tp_addr *a, const char *s)
{
	if (!a || !s)
		return -EINVAL;
	struct sipcx_str rest = sipcx_str_c(s);
	a->proto = SIPCX_TP_UDP;
	const char *colon = memchr(rest.p, ':', rest.len);
	/* A scheme is a leading "udp:" / "tcp:" / "tls:"; "[::1]" and "1.2.3.4:5" have none. */
	if (colon && rest.p[0] != '[') {
		enum sipcx_tp_proto p =
		    sipcx_tp_lookup((struct sipcx_str){ rest.p, (size_t)(colon - rest.p) });
		if (p != SIPCX_TP_NONE) {
			a->proto = p;
			rest.p = colon + 1;
			rest.len -= (size_t)(colon - s) + 1;
		}
	}
	struct sipcx_str host = rest;
	/* RFC 3261 19.1.2; WebSocket: HTTP's ports (RFC 7118 names none; sipgo's choice). */
	uint64_t port = a->proto == SIPCX_TP_TLS   ? 5061
	                : a->proto == SIPCX_TP_WS  ? 80
	                : a->proto == SIPCX_TP_WSS ? 443
	                                           : 5060;
	const char *pc = NULL;
	if (rest.len && rest.p[0] == '[') {
		const char *rb = memchr(rest.p, ']', rest.len);
		if (!rb)
			return -EINVAL;
		host.len = (size_t)(rb - rest.p) + 1;
		if (host.len < rest.len) {
			if (rb[1] != ':')
				return -EINVAL;
			pc = rb + 1;
		}
	} else {
		pc = memchr(rest.p, ':', rest.len);
		/* More than one colon without brackets: a bare IPv6 address. */
		if (pc && memchr(pc + 1, ':', rest.len - (size_t)(pc + 1 - rest.p)))
			pc = NULL;
		if (pc)
			host.len = (size_t)(pc - rest.p);
	}
	if (pc) {
		struct sipcx_str ps = { pc + 1, rest.len - (size_t)(pc + 1 - rest.p) };
		if (sipcx_str_to_u64(ps, 65535, &port))
			return -EINVAL;
	}
	return sipcx_sa_set(&a->sa, host, (uint16_t)port);
}

int sipcx_tp_addr_print(const struct sipcx_tp_addr *a, char *buf, size_t n)
{
	char tmp[SIPCX_ADDRSTRLEN];
	if (!a || !buf || a->proto == SIPCX_TP_NONE)
		return -EINVAL;
	int r = sipcx_sa_print(&a->sa.sa, tmp, sizeof(tmp));
	if (r < 0)
		return r;
	char scheme[4];
	const char *name = sipcx_tp_name(a->proto);
	size_t i = 0;
	for (; name[i] && i < sizeof(scheme) - 1; i++)
		scheme[i] = (char)(name[i] - 'A' + 'a');
	scheme[i] = '\0';
	r = snprintf(buf, n, "%s:%s", i ? scheme : "udp", tmp);
	return (r < 0 || (size_t)r >= n) ? -ENOSPC : r;
}

int sipcx_tp_via_received(const struct sipcx_via *via, const struct sockaddr *src, char *out,
                          size_t n)
{
	char host[INET6_ADDRSTRLEN];
	union sipcx_sa sent_by;
	int r;

	if (!via || !src || !out || n == 0)
		return -EINVAL;
	if (src->sa_family != AF_INET && src->sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	/*
	 * RFC 3261 18.2.1: received when sent-by is a name or another address
	 * (compared as addresses, so "::1" equals "0:0::1"); RFC 3581 4: always
	 * with rport, and rport gets the source port.
	 */
	bool same =
	    sipcx_sa_set(&sent_by, via->host, 0) == 0 && sipcx_sa_equal_host(&sent_by.sa, src);
	bool want_received = !same || via->rport == 0;
	out[0] = '\0';
	size_t len = 0;
	if (want_received && via->received.len == 0) {
		/* The address as text only when it goes in (a peer that says where it is costs nothing). */
		r = sipcx_sa_host(src, host, sizeof(host));
		if (r < 0)
			return r;
		r = snprintf(out, n, ";received=%s", host);
		if (r < 0 || (size_t)r >= n)
			return -ENOSPC;
		len = (size_t)r;
	}
	if (via->rport == 0) {
		r = snprintf(out + len, n - len, ";rport=%u", sipcx_sa_port(src));
		if (r < 0 || (size_t)r >= n - len)
			return -ENOSPC;
		len += (size_t)r;
	}
	return (int)len;
}

int sipcx_tp_via_apply(const struct sipcx_via *via, const char *extra, struct sipcx_buf *b)
{
	struct sipcx_str raw = via->raw;
	const char *cut = NULL, *cut_end = NULL;
	if (via->rport == 0 && strstr(extra, ";rport=")) {
		/* Find the empty rport among the params: [';' .. next ';') goes. */
		struct sipcx_str rest = via->params, name, value;
		const char *at = rest.p;
		while (sipcx_param_next(&rest, &name, &value) == 1) {
			if (sipcx_str_ieq_c(name, "rport") && value.len == 0) {
				cut = at;
				cut_end = rest.p;
				break;
			}
			at = rest.p;
		}
	}
	if (cut && cut >= raw.p && cut_end <= raw.p + raw.len) {
		sipcx_buf_append(b, raw.p, (size_t)(cut - raw.p));
		sipcx_buf_append(b, cut_end, (size_t)(raw.p + raw.len - cut_end));
	} else {
		sipcx_buf_append_str(b, raw);
	}
	sipcx_buf_puts(b, extra);
	return sipcx_buf_err(b);
}

int sipcx_tp_response_dst(const struct sipcx_via *via, enum sipcx_tp_proto proto,
                          const struct sockaddr *src, union sipcx_sa *dst)
{
	if (!via || !src || !dst || !sipcx_sa_len(src))
		return -EINVAL;
	uint16_t port = via->port ? via->port : proto == SIPCX_TP_TLS ? 5061 : 5060;
	/* RFC 3261 18.2.2: maddr first (numeric only: no resolver here). */
	if (via->maddr.len && sipcx_sa_set(dst, via->maddr, port) == 0)
		return 0;
	memcpy(dst, src, sipcx_sa_len(src));
	/*
	 * received is always the source address (we add it whenever sent-by
	 * differs), so answer there; RFC 3581 4: to the source port too.
	 */
	if (!(proto == SIPCX_TP_UDP && via->rport >= 0))
		sipcx_sa_set_port(dst, port);
	return 0;
}
