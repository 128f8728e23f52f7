/* trace: HEP3 (Homer's Extensible Encapsulation Protocol v3) encoding, and a UDP sender to a capture server fed by the trace hook. */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sipcx/hep.h>
#include <sipcx/sockaddr.h>

#include "base/base.h"
#include "transport/transport.h"

/* HEP3 chunk types of vendor 0 (the generic chunks). */
enum {
	HEP_IP_FAMILY = 1,
	HEP_IP_PROTO = 2,
	HEP_IP4_SRC = 3,
	HEP_IP4_DST = 4,
	HEP_IP6_SRC = 5,
	HEP_IP6_DST = 6,
	HEP_SRC_PORT = 7,
	HEP_DST_PORT = 8,
	HEP_TS_SEC = 9,
	HEP_TS_USEC = 10,
	HEP_PROTO_TYPE = 11,
	HEP_CAPTURE_ID = 12,
	HEP_AUTH_KEY = 14,
	HEP_PAYLOAD = 15,
	HEP_CORRELATION_ID = 17,
};

/* Protocol types (chunk 11). */
enum {
	HEP_PT_SIP = 1,
	HEP_PT_RTP = 4,
	HEP_PT_RTCP = 5,
};

#define HEP_CHUNK_HDR 6

static void chunk(struct sipcx_buf *b, uint16_t type, const void *data, size_t len)
{
	uint8_t h[HEP_CHUNK_HDR] = { 0,
		                     0,
		                     (uint8_t)(type >> 8),
		                     (uint8_t)type,
		                     (uint8_t)((len + HEP_CHUNK_HDR) >> 8),
		                     (uint8_t)(len + HEP_CHUNK_HDR) };
	sipcx_buf_append(b, h, sizeof(h));
	sipcx_buf_append(b, data, len);
}

static void chunk8(struct sipcx_buf *b, uint16_t type, uint8_t v)
{
	chunk(b, type, &v, 1);
}

static void chunk16(struct sipcx_buf *b, uint16_t type, uint16_t v)
{
	uint8_t d[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	chunk(b, type, d, sizeof(d));
}

static void chunk32(struct sipcx_buf *b, uint16_t type, uint32_t v)
{
	uint8_t d[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	chunk(b, type, d, sizeof(d));
}

/* The Call-ID (RFC 3261 20.8, compact form "i") of a SIP message's header block. */
static struct sipcx_str call_id(const char *p, size_t n)
{
	const char *end = memmem(p, n, "\r\n\r\n", 4);
	size_t head = end ? (size_t)(end - p) + 2 : n;
	size_t i = 0;
	/* The start line is no header. */
	while (i < head && p[i] != '\n')
		i++;
	i++;
	while (i < head) {
		size_t e = i;
		while (e < head && p[e] != '\n')
			e++;
		struct sipcx_str line = { p + i, e - i };
		const char *colon = memchr(line.p, ':', line.len);
		if (colon) {
			struct sipcx_str name =
			    sipcx_str_trim((struct sipcx_str){ line.p, (size_t)(colon - line.p) });
			if (sipcx_str_ieq_c(name, "Call-ID") || sipcx_str_ieq_c(name, "i")) {
				struct sipcx_str v = sipcx_str_trim((struct sipcx_str){
				    colon + 1, line.len - (size_t)(colon - line.p) - 1 });
				if (v.len)
					return v;
			}
		}
		i = e + 1;
	}
	return SIPCX_STR_NULL;
}

int sipcx_hep_encode(struct sipcx_buf *b, const struct sipcx_trace_event *ev, uint32_t capture_id,
                     const char *password, const char *correlation_id)
{
	if (!b || !ev || !ev->src || !ev->dst || (!ev->data && ev->len))
		return -EINVAL;
	int fam = ev->src->sa_family;
	if ((fam != AF_INET && fam != AF_INET6) || ev->dst->sa_family != fam)
		return -EINVAL;
	const char *data = ev->data ? ev->data : "";
	struct sipcx_str corr = SIPCX_STR_NULL;
	if (correlation_id)
		corr = sipcx_str_c(correlation_id);
	else if (ev->kind == SIPCX_TRACE_SIP)
		corr = call_id(data, ev->len);
	size_t plen = password ? strlen(password) : 0;
	size_t alen = fam == AF_INET ? 4 : 16;
	/* Every chunk is announced so the 16-bit total length can be checked first. */
	size_t total = 6 + (HEP_CHUNK_HDR * 10 + 1 + 1 + 2 * alen + 2 + 2 + 4 + 4 + 1 + 4) +
	               (password ? HEP_CHUNK_HDR + plen : 0) + HEP_CHUNK_HDR + ev->len +
	               (corr.len ? HEP_CHUNK_HDR + corr.len : 0);
	if (total > 0xffff)
		return -EINVAL;

	uint8_t h[6] = { 'H', 'E', 'P', '3', (uint8_t)(total >> 8), (uint8_t)total };
	size_t start = b->len;
	sipcx_buf_append(b, h, sizeof(h));
	chunk8(b, HEP_IP_FAMILY, fam == AF_INET ? 2 : 10);
	chunk8(b, HEP_IP_PROTO, sipcx__tp_name_is_stream(ev->transport) ? 6 : 17);
	if (fam == AF_INET) {
		const struct sockaddr_in *s = (const void *)ev->src, *d = (const void *)ev->dst;
		chunk(b, HEP_IP4_SRC, &s->sin_addr, 4);
		chunk(b, HEP_IP4_DST, &d->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *s = (const void *)ev->src, *d = (const void *)ev->dst;
		chunk(b, HEP_IP6_SRC, &s->sin6_addr, 16);
		chunk(b, HEP_IP6_DST, &d->sin6_addr, 16);
	}
	chunk16(b, HEP_SRC_PORT, sipcx_sa_port(ev->src));
	chunk16(b, HEP_DST_PORT, sipcx_sa_port(ev->dst));
	chunk32(b, HEP_TS_SEC, (uint32_t)(ev->time_us / 1000000u));
	chunk32(b, HEP_TS_USEC, (uint32_t)(ev->time_us % 1000000u));
	chunk8(b, HEP_PROTO_TYPE,
	       ev->kind == SIPCX_TRACE_RTP    ? HEP_PT_RTP
	       : ev->kind == SIPCX_TRACE_RTCP ? HEP_PT_RTCP
	                                      : HEP_PT_SIP);
	chunk32(b, HEP_CAPTURE_ID, capture_id);
	if (password)
		chunk(b, HEP_AUTH_KEY, password, plen);
	chunk(b, HEP_PAYLOAD, data, ev->len);
	if (corr.len)
		chunk(b, HEP_CORRELATION_ID, corr.p, corr.len);
	if (sipcx_buf_err(b))
		return sipcx_buf_err(b);
	return b->len - start == total ? 0 : -EINVAL;
}

/* ------------------------------------------------------------ sender -- */

struct sipcx_hep {
	int fd;
	uint32_t id;
	char *password;
	pthread_mutex_t lock; /* guards buf */
	struct sipcx_buf buf;
	_Atomic uint64_t sent, failed;
};

struct spec {
	struct sipcx_str host;
	uint16_t port;
	uint32_t id;
	struct sipcx_str password;
	bool has_password;
};

/* "udp:HOST:PORT[;id=N][;password=P]", each parameter at most once. */
static int spec_parse(const char *s, struct spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	if (strncmp(s, "udp:", 4) != 0)
		return -EINVAL;
	const char *p = s + 4;
	const char *end = p + strlen(p);
	const char *semi = memchr(p, ';', (size_t)(end - p));
	const char *addr_end = semi ? semi : end;
	const char *colon;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(addr_end - p));
		if (!rb || rb + 1 >= addr_end || rb[1] != ':')
			return -EINVAL;
		sp->host = (struct sipcx_str){ p, (size_t)(rb + 1 - p) };
		colon = rb + 1;
	} else {
		colon = memchr(p, ':', (size_t)(addr_end - p));
		if (!colon)
			return -EINVAL;
		sp->host = (struct sipcx_str){ p, (size_t)(colon - p) };
	}
	if (sp->host.len == 0)
		return -EINVAL;
	uint64_t v;
	if (sipcx_str_to_u64((struct sipcx_str){ colon + 1, (size_t)(addr_end - colon - 1) }, 65535,
	                     &v) != 0 ||
	    v == 0)
		return -EINVAL;
	sp->port = (uint16_t)v;
	bool has_id = false;
	for (p = addr_end; p < end;) {
		p++; /* the ';' */
		const char *q = memchr(p, ';', (size_t)(end - p));
		if (!q)
			q = end;
		struct sipcx_str param = { p, (size_t)(q - p) };
		if (param.len > 3 && memcmp(p, "id=", 3) == 0 && !has_id) {
			if (sipcx_str_to_u64((struct sipcx_str){ p + 3, param.len - 3 }, UINT32_MAX,
			                     &v) != 0)
				return -EINVAL;
			sp->id = (uint32_t)v;
			has_id = true;
		} else if (param.len > 9 && memcmp(p, "password=", 9) == 0 && !sp->has_password) {
			sp->password = (struct sipcx_str){ p + 9, param.len - 9 };
			sp->has_password = true;
		} else {
			return -EINVAL;
		}
		p = q;
	}
	return 0;
}

static int resolve(struct sipcx_str host, uint16_t port, union sipcx_sa *out)
{
	if (sipcx_sa_set(out, host, port) == 0)
		return 0;
	char name[256];
	/* A bracketed host is an IPv6 literal or nothing. */
	if (host.p[0] == '[' || host.len >= sizeof(name))
		return -EINVAL;
	memcpy(name, host.p, host.len);
	name[host.len] = '\0';
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res = NULL;
	if (getaddrinfo(name, NULL, &hints, &res) != 0 || !res)
		return SIPCX_ERESOLVE;
	int r = SIPCX_ERESOLVE;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
		    ai->ai_addrlen <= sizeof(*out)) {
			memset(out, 0, sizeof(*out));
			memcpy(out, ai->ai_addr, ai->ai_addrlen);
			sipcx_sa_set_port(out, port);
			r = 0;
			break;
		}
	}
	freeaddrinfo(res);
	return r;
}

int sipcx_hep_open(const char *spec, struct sipcx_hep **out)
{
	struct spec sp;
	union sipcx_sa sa;
	if (!spec || !out || spec_parse(spec, &sp) != 0)
		return -EINVAL;
	int r = resolve(sp.host, sp.port, &sa);
	if (r)
		return r;
	struct sipcx_hep *h = sipcx_calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (sp.has_password && !(h->password = sipcx_str_dup(sp.password))) {
		sipcx_free(h);
		return -ENOMEM;
	}
	h->id = sp.id;
	h->fd = socket(sa.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || connect(h->fd, &sa.sa, (socklen_t)sipcx_sa_len(&sa.sa)) != 0) {
		r = -errno;
		if (h->fd >= 0)
			close(h->fd);
		sipcx_free(h->password);
		sipcx_free(h);
		return r;
	}
	sipcx_buf_init(&h->buf);
	pthread_mutex_init(&h->lock, NULL);
	atomic_init(&h->sent, 0);
	atomic_init(&h->failed, 0);
	*out = h;
	return 0;
}

void sipcx_hep_trace(const struct sipcx_trace_event *ev, void *arg)
{
	struct sipcx_hep *h = arg;
	if (!h || !ev || ev->kind != SIPCX_TRACE_SIP)
		return;
	pthread_mutex_lock(&h->lock);
	/* One buffer, reused: it grows to the largest message once. */
	h->buf.len = 0;
	bool ok =
	    sipcx_hep_encode(&h->buf, ev, h->id, h->password, NULL) == 0 &&
	    send(h->fd, h->buf.p, h->buf.len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)h->buf.len;
	if (h->buf.err) {
		/* An allocation failure is sticky in a sipcx_buf: start afresh next time. */
		sipcx_buf_free(&h->buf);
	}
	pthread_mutex_unlock(&h->lock);
	atomic_fetch_add(ok ? &h->sent : &h->failed, 1);
}

void sipcx_hep_counts(const struct sipcx_hep *h, uint64_t *sent, uint64_t *failed)
{
	if (sent)
		*sent = h ? atomic_load(&h->sent) : 0;
	if (failed)
		*failed = h ? atomic_load(&h->failed) : 0;
}

void sipcx_hep_close(struct sipcx_hep *h)
{
	if (!h)
		return;
	close(h->fd);
	pthread_mutex_destroy(&h->lock);
	sipcx_buf_free(&h->buf);
	sipcx_free(h->password);
	sipcx_free(h);
}
