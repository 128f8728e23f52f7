/* transport: the transport set and its UDP sockets with recvmmsg batches (RFC 3261 18.1, 18.2). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/transport.h"
#include "trace/trace.h"

/* libuv hands recvmmsg() one 64 KiB slot per datagram (UV__UDP_DGRAM_MAXSIZE). */
#define UDP_SLOT (64 * 1024)
#define UDP_MAX_BATCH 20

struct sipcx__udp {
	uv_udp_t h;
	struct sipcx_transport *tp;
	struct sipcx__udp *next;
	union sipcx_sa local;
	char *rbuf; /* batch * UDP_SLOT bytes, reused: messages are handled before the next read */
	size_t rbuf_len;
};

int sipcx__tp_reuse_port(uv_handle_t *h)
{
	uv_os_fd_t fd;
	int one = 1, r = uv_fileno(h, &fd);
	if (r)
		return r;
	return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == 0 ? 0 : -errno;
}

static void tp_destroy(struct sipcx_transport *tp)
{
	sipcx__tls_ctx_free(tp);
	sipcx_free(tp->tls_rbuf);
	sipcx_buf_free(&tp->tls_wbuf);
	sipcx_free(tp->tls_names);
	uv_mutex_destroy(&tp->tls_names_lock);
	sipcx_free(tp->bound);
	sipcx_free(tp);
}

void sipcx__tp_handle_closed(struct sipcx_transport *tp)
{
	if (--tp->handles == 0 && tp->closing)
		tp_destroy(tp);
}

int sipcx_transport_new(struct sipcx_transport **out, struct uv_loop_s *loop,
                        const struct sipcx_transport_opts *opts)
{
	if (!out || !loop || !opts || !opts->recv)
		return -EINVAL;
	struct sipcx_transport *tp = sipcx_calloc(1, sizeof(*tp));
	if (!tp)
		return -ENOMEM;
	tp->loop = loop;
	tp->opts = *opts;
	if (!tp->opts.tcp_idle_ms)
		tp->opts.tcp_idle_ms = 120000;
	if (!tp->opts.udp_batch)
		tp->opts.udp_batch = 8;
	if (tp->opts.udp_batch > UDP_MAX_BATCH)
		tp->opts.udp_batch = UDP_MAX_BATCH;
	if (!tp->opts.udp_rcvbuf)
		tp->opts.udp_rcvbuf = 4u << 20;
	if (!tp->opts.tcp_max_per_source)
		tp->opts.tcp_max_per_source = 64;
	if (!tp->opts.tcp_msg_timeout_ms)
		tp->opts.tcp_msg_timeout_ms = 10000;
	if (!tp->opts.tls_handshake_ms)
		tp->opts.tls_handshake_ms = 10000;
	if (uv_mutex_init(&tp->tls_names_lock)) {
		sipcx_free(tp);
		return -ENOMEM;
	}
	sipcx_buf_init(&tp->tls_wbuf);
	tp->next_conn_id = 1;
	*out = tp;
	return 0;
}

static void udp_closed(uv_handle_t *h)
{
	struct sipcx__udp *u = h->data;
	struct sipcx_transport *tp = u->tp;
	sipcx_free(u->rbuf);
	sipcx_free(u);
	sipcx__tp_handle_closed(tp);
}

void sipcx_transport_free(struct sipcx_transport *tp)
{
	if (!tp || tp->closing)
		return;
	tp->closing = true;
	for (struct sipcx__udp *u = tp->udp, *next; u; u = next) {
		next = u->next;
		uv_close((uv_handle_t *)&u->h, udp_closed);
	}
	tp->udp = NULL;
	sipcx__tp_tcp_close_all(tp);
	if (tp->handles == 0)
		tp_destroy(tp);
}

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sipcx__udp *u = h->data;
	(void)suggested;
	buf->base = u->rbuf;
	buf->len = u->rbuf_len;
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                     unsigned flags)
{
	struct sipcx__udp *u = h->data;
	struct sipcx_transport *tp = u->tp;
	(void)flags;

	/* nread 0 with no address: nothing more to read, or the end of a batch. */
	if (nread <= 0 || !addr || tp->closing)
		return;
	/* RFC 3261 7.5 / RFC 5626: keep-alive CRLFs over UDP carry no message. */
	size_t skip = sipcx_msg_skip_crlf(buf->base, (size_t)nread);
	if (skip == (size_t)nread)
		return;
	SIPCX_TRACE(SIPCX_TRACE_RECV, "UDP", addr, &u->local.sa, buf->base, (size_t)nread);
	int r = sipcx_msg_parse(&tp->msg, buf->base, (size_t)nread, 0);
	struct sipcx_tp_pkt pkt = {
		.proto = SIPCX_TP_UDP,
		.local = &u->local.sa,
		.remote = addr,
		.data = buf->base + skip,
		.len = (size_t)nread - skip,
		.msg = &tp->msg,
		.err = r < 0 ? r : 0,
	};
	tp->opts.recv(&pkt, tp->opts.arg);
}

static int add_bound(struct sipcx_transport *tp, enum sipcx_tp_proto proto,
                     const union sipcx_sa *sa)
{
	struct sipcx_tp_addr *b = sipcx_realloc(tp->bound, (tp->nbound + 1) * sizeof(*b));
	if (!b)
		return -ENOMEM;
	tp->bound = b;
	b[tp->nbound].proto = proto;
	b[tp->nbound].sa = *sa;
	tp->nbound++;
	return 0;
}

/*
 * A burst of datagrams waits in the socket's receive buffer while the loop
 * works: the kernel default (about 200 KiB) drops a sipsak or SIPp burst.
 * SO_RCVBUFFORCE passes rmem_max when we may (CAP_NET_ADMIN), else
 * SO_RCVBUF gets what rmem_max allows.
 */
static void udp_rcvbuf(struct sipcx__udp *u, uint32_t want)
{
	uv_os_fd_t fd;
	if (uv_fileno((uv_handle_t *)&u->h, &fd) != 0)
		return;
	int v = want > INT32_MAX / 2 ? INT32_MAX / 2 : (int)want;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	int got = 0;
	socklen_t len = sizeof(got);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0)
		SIPCX_DEBUG("udp: receive buffer %d bytes (asked %u)", got, want);
}

static int udp_listen(struct sipcx_transport *tp, const struct sipcx_tp_addr *addr,
                      union sipcx_sa *bound)
{
	struct sipcx__udp *u = sipcx_calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	unsigned batch = tp->opts.udp_batch;
	u->rbuf_len = (size_t)batch * UDP_SLOT;
	u->rbuf = sipcx_malloc(u->rbuf_len);
	if (!u->rbuf) {
		sipcx_free(u);
		return -ENOMEM;
	}
	u->tp = tp;
	unsigned flags = addr->sa.sa.sa_family;
	if (batch > 1)
		flags |= UV_UDP_RECVMMSG;
	int r = uv_udp_init_ex(tp->loop, &u->h, flags);
	if (r) {
		sipcx_free(u->rbuf);
		sipcx_free(u);
		return r;
	}
	u->h.data = u;
	tp->handles++;
	if (tp->opts.reuse_port)
		r = sipcx__tp_reuse_port((uv_handle_t *)&u->h);
	if (!r)
		r = uv_udp_bind(&u->h, &addr->sa.sa,
		                addr->sa.sa.sa_family == AF_INET6 ? UV_UDP_IPV6ONLY : 0);
	int len = sizeof(u->local);
	if (!r)
		r = uv_udp_getsockname(&u->h, &u->local.sa, &len);
	if (!r)
		udp_rcvbuf(u, tp->opts.udp_rcvbuf);
	if (!r)
		r = add_bound(tp, SIPCX_TP_UDP, &u->local);
	if (!r)
		r = uv_udp_recv_start(&u->h, udp_alloc, udp_recv);
	if (r) {
		uv_close((uv_handle_t *)&u->h, udp_closed);
		return r;
	}
	/* Appended: the first listener of a family is the default sender. */
	struct sipcx__udp **pp = &tp->udp;
	while (*pp)
		pp = &(*pp)->next;
	*pp = u;
	*bound = u->local;
	return 0;
}

int sipcx_transport_listen(struct sipcx_transport *tp, const struct sipcx_tp_addr *addr,
                           struct sipcx_tp_addr *bound)
{
	union sipcx_sa sa;
	int r;

	if (!tp || !addr || tp->closing || !sipcx_sa_len(&addr->sa.sa))
		return -EINVAL;
	if (addr->proto == SIPCX_TP_UDP)
		r = udp_listen(tp, addr, &sa);
	else if (addr->proto >= SIPCX_TP_TCP && addr->proto <= SIPCX_TP_WSS)
		r = sipcx__tp_tcp_listen(tp, addr, &sa);
	else
		return -EPROTONOSUPPORT;
	if (r)
		return r;
	if (addr->proto != SIPCX_TP_UDP && (r = add_bound(tp, addr->proto, &sa)) != 0)
		return r;
	if (bound) {
		bound->proto = addr->proto;
		bound->sa = sa;
	}
	return 0;
}

int sipcx_transport_bound(const struct sipcx_transport *tp, size_t i, struct sipcx_tp_addr *out)
{
	if (!tp || !out)
		return -EINVAL;
	if (i >= tp->nbound)
		return -ENOENT;
	*out = tp->bound[i];
	return 0;
}

size_t sipcx_transport_conn_count(const struct sipcx_transport *tp)
{
	return tp ? tp->nconns : 0;
}

/* The local address the kernel would send from to reach dst (no packet is sent). */
static int route_lookup(const union sipcx_sa *dst, union sipcx_sa *out)
{
	int fd = socket(dst->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int r = 0;
	socklen_t len = sizeof(*out);
	if (connect(fd, &dst->sa, (socklen_t)sipcx_sa_len(&dst->sa)) < 0 ||
	    getsockname(fd, &out->sa, &len) < 0)
		r = -errno;
	close(fd);
	return r;
}

/*
 * The kernel's choice of source address for dst. Asking costs four system calls (socket,
 * connect, getsockname, close), and every request, Contact and SDP of a call asks: the
 * answers are kept a second, per thread (callers run on loops and user threads alike), for
 * the few peers a thread talks to. A route that changes is seen within the second.
 */
#define ROUTE_CACHE 8
#define ROUTE_CACHE_US 1000000u
static int route_local(const union sipcx_sa *dst, union sipcx_sa *out)
{
	static _Thread_local struct {
		union sipcx_sa dst, local;
		uint64_t at;
	} cache[ROUTE_CACHE];
	static _Thread_local unsigned next;
	uint64_t now = sipcx_now_us();
	for (unsigned i = 0; i < ROUTE_CACHE; i++) {
		if (cache[i].at && now - cache[i].at < ROUTE_CACHE_US &&
		    sipcx_sa_equal_host(&cache[i].dst.sa, &dst->sa)) {
			*out = cache[i].local;
			return 0;
		}
	}
	int r = route_lookup(dst, out);
	if (r == 0) {
		unsigned i = next++ % ROUTE_CACHE;
		cache[i].dst = *dst;
		cache[i].local = *out;
		cache[i].at = now ? now : 1;
	}
	return r;
}

int sipcx_transport_local(struct sipcx_transport *tp, const struct sipcx_tp_addr *dst,
                          union sipcx_sa *local)
{
	if (!tp || !dst || !local)
		return -EINVAL;
	int family = dst->sa.sa.sa_family;
	for (size_t i = 0; i < tp->nbound; i++) {
		const struct sipcx_tp_addr *b = &tp->bound[i];
		if (b->proto != dst->proto || b->sa.sa.sa_family != family)
			continue;
		if (!sipcx_sa_is_any(&b->sa.sa)) {
			*local = b->sa;
			return 0;
		}
		union sipcx_sa routed;
		int r = route_local(&dst->sa, &routed);
		if (r)
			return r;
		sipcx_sa_set_port(&routed, sipcx_sa_port(&b->sa.sa));
		*local = routed;
		return 0;
	}
	return -EAFNOSUPPORT;
}

struct udp_send_req {
	uv_udp_send_t req;
	char data[];
};

static void udp_sent(uv_udp_send_t *req, int status)
{
	(void)status; /* a lost datagram is what UDP does: the transaction layer retransmits */
	sipcx_free(req);
}

static int udp_send(struct sipcx_transport *tp, const union sipcx_sa *dst, const void *data,
                    size_t len)
{
	struct sipcx__udp *u = tp->udp;
	while (u && u->local.sa.sa_family != dst->sa.sa_family)
		u = u->next;
	if (!u)
		return -EAFNOSUPPORT;
	if (len > UDP_SLOT - 1)
		return -EMSGSIZE;
	uv_buf_t b = uv_buf_init((char *)(uintptr_t)data, (unsigned)len);
	int r = uv_udp_try_send(&u->h, &b, 1, &dst->sa);
	if (r == -EAGAIN) {
		/* The socket buffer is full or a send is queued: keep order, copy. */
		struct udp_send_req *q = sipcx_malloc(sizeof(*q) + len);
		if (!q)
			return -ENOMEM;
		memcpy(q->data, data, len);
		b = uv_buf_init(q->data, (unsigned)len);
		r = uv_udp_send(&q->req, &u->h, &b, 1, &dst->sa, udp_sent);
		if (r) {
			sipcx_free(q);
			return r;
		}
	} else if (r < 0) {
		return r;
	}
	SIPCX_TRACE(SIPCX_TRACE_SEND, "UDP", &u->local.sa, &dst->sa, data, len);
	return 0;
}

int sipcx_transport_send(struct sipcx_transport *tp, const struct sipcx_tp_addr *dst, uint64_t conn,
                         const void *data, size_t len)
{
	if (!tp || !dst || (!data && len) || tp->closing)
		return -EINVAL;
	if (dst->proto == SIPCX_TP_UDP) {
		if (!sipcx_sa_len(&dst->sa.sa))
			return -EINVAL;
		return udp_send(tp, &dst->sa, data, len);
	}
	if (dst->proto >= SIPCX_TP_TCP && dst->proto <= SIPCX_TP_WSS)
		return sipcx__tp_tcp_send(tp, dst, conn, data, len);
	return -EPROTONOSUPPORT;
}
