/* transport: TCP, TLS and WebSocket listeners and connections: reuse per peer, framing, keep-alives, idle close (RFC 3261 18.3, 26.2, RFC 7118). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "transport/transport.h"
#include "trace/trace.h"

struct sipcx__tcp_listener {
	uv_tcp_t h;
	struct sipcx_transport *tp;
	struct sipcx__tcp_listener *next;
	union sipcx_sa local;
	enum sipcx_tp_proto proto; /* TCP, TLS, WS or WSS */
};

struct sipcx__conn {
	uv_tcp_t h;
	uv_timer_t idle;
	uv_connect_t creq;
	uv_shutdown_t sreq;
	struct sipcx_transport *tp;
	struct sipcx__conn *next, **pprev;
	uint64_t id;
	union sipcx_sa local, remote;
	enum sipcx_tp_proto proto; /* TCP, TLS, WS or WSS */
	bool connected;            /* the TCP connection is up */
	bool closing;
	struct sipcx__tls *tls; /* TLS, WSS: the session; writes wait in pending until it is up */
	struct sipcx__ws *ws;  /* WS, WSS: the WebSocket above TCP or TLS, up after its handshake */
	char *tls_name;        /* ours: the name the server's certificate must carry, the WS Host */
	uint16_t alias_port;   /* accepted: the port the peer's Via ;alias names (RFC 5923) */
	uint64_t tls_deadline; /* uv_now() by which the TLS and WebSocket handshakes must end */
	uint64_t partial_ms;   /* uv_now() when the unfinished message began; 0: none */
	int open_handles;
	struct sipcx_buf pending; /* written before the connection was up */
	size_t *pending_lens;     /* message lengths in pending, traced once connected */
	size_t npending;
	struct sipcx__stream stream;
};

struct tcp_write_req {
	uv_write_t req;
	char data[];
};

static void listener_closed(uv_handle_t *h)
{
	struct sipcx__tcp_listener *l = h->data;
	struct sipcx_transport *tp = l->tp;
	sipcx_free(l);
	sipcx__tp_handle_closed(tp);
}

static void conn_handle_closed(uv_handle_t *h)
{
	struct sipcx__conn *c = h->data;
	struct sipcx_transport *tp = c->tp;
	if (--c->open_handles > 0)
		return;
	sipcx_buf_free(&c->pending);
	sipcx_free(c->pending_lens);
	sipcx__stream_reset(&c->stream);
	sipcx__tls_end(c->tls);
	sipcx_free(c->tls);
	sipcx__ws_end(c->ws);
	sipcx_free(c->ws);
	sipcx_free(c->tls_name);
	sipcx_free(c);
	sipcx__tp_handle_closed(tp);
}

/* Unlink and close now; pending writes are cancelled by libuv. */
static void conn_close(struct sipcx__conn *c)
{
	if (c->pprev) {
		*c->pprev = c->next;
		if (c->next)
			c->next->pprev = c->pprev;
		c->pprev = NULL;
		c->next = NULL;
		c->tp->nconns--;
	}
	c->closing = true;
	if (!uv_is_closing((uv_handle_t *)&c->h))
		uv_close((uv_handle_t *)&c->h, conn_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&c->idle))
		uv_close((uv_handle_t *)&c->idle, conn_handle_closed);
}

static void conn_fail(struct sipcx__conn *c, int err)
{
	struct sipcx_transport *tp = c->tp;
	union sipcx_sa remote = c->remote;
	uint64_t id = c->id;
	enum sipcx_tp_proto proto = c->proto;
	conn_close(c);
	if (tp->opts.error && !tp->closing)
		tp->opts.error(err, proto, &remote.sa, id, tp->opts.arg);
}

static void shutdown_done(uv_shutdown_t *req, int status)
{
	(void)status;
	conn_close(req->data);
}

/* Close once every queued write has gone out (after answering a bad message). */
static void conn_close_after_writes(struct sipcx__conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_read_stop((uv_stream_t *)&c->h);
	c->sreq.data = c;
	if (!c->connected || uv_shutdown(&c->sreq, (uv_stream_t *)&c->h, shutdown_done) != 0)
		conn_close(c);
}

/* Writes can go out: TCP up, and the TLS and WebSocket handshakes done when there are. */
static bool conn_ready(const struct sipcx__conn *c)
{
	return c->connected && (!c->tls || c->tls->up) && (!c->ws || c->ws->up);
}

static bool is_tls(enum sipcx_tp_proto p)
{
	return p == SIPCX_TP_TLS || p == SIPCX_TP_WSS;
}

static bool is_ws(enum sipcx_tp_proto p)
{
	return p == SIPCX_TP_WS || p == SIPCX_TP_WSS;
}

/* A handshake (TLS, WebSocket) under way, or the TCP connect before ours: its deadline holds. */
static bool conn_shaking(const struct sipcx__conn *c)
{
	return (c->tls && !c->tls->up) || (c->ws && !c->ws->up) ||
	       (!c->connected && (is_tls(c->proto) || is_ws(c->proto)));
}

static void idle_expired(uv_timer_t *t)
{
	struct sipcx__conn *c = t->data;
	if (conn_shaking(c)) {
		char host[SIPCX_ADDRSTRLEN];
		if (sipcx_sa_print(&c->remote.sa, host, sizeof(host)) < 0)
			host[0] = '\0';
		SIPCX_WARN("%s: handshake with %s not finished in %u ms",
		           (c->tls ? !c->tls->up : is_tls(c->proto)) ? "tls" : "ws", host,
		           c->tp->opts.tls_handshake_ms);
		conn_fail(c, -ETIMEDOUT);
		return;
	}
	if (c->partial_ms)
		SIPCX_WARN("tcp: closing connection %llu: a message not finished in %u ms",
		           (unsigned long long)c->id, c->tp->opts.tcp_msg_timeout_ms);
	else
		SIPCX_DEBUG("tcp: closing idle connection %llu", (unsigned long long)c->id);
	conn_close(c);
}

/*
 * The connection's one timer: idle close, or, while a message is coming
 * in, the deadline for the rest of it: a header trickled a byte at a time
 * (slowloris) would otherwise renew the idle timer forever. A WebSocket
 * we opened is never idle-closed: nobody can connect to a WebSocket
 * client, so it is the only way a server reaches us (RFC 7118 5, a
 * registration's incoming calls); the server closes it, or we at exit.
 */
/* ms, or less when the deadline end (loop time) comes sooner (0 once it is past). */
static uint64_t until(uint64_t ms, uint64_t end, uint64_t now)
{
	uint64_t left = end > now ? end - now : 0;
	return left < ms ? left : ms;
}

static void touch(struct sipcx__conn *c)
{
	if (c->closing)
		return;
	/* a WebSocket we opened is the only way back to us: never idle-closed */
	bool keep = c->ws && !c->ws->server && c->ws->up;
	/* a handshake is bounded by its own deadline, not by the idle time: an idle time
	 * shorter than a slow TLS or WebSocket handshake would cut it, named as its timeout */
	bool shaking = conn_shaking(c);
	uint64_t ms = keep || shaking ? UINT64_MAX : c->tp->opts.tcp_idle_ms,
	         now = uv_now(c->tp->loop);
	if (c->partial_ms)
		ms = until(ms, c->partial_ms + c->tp->opts.tcp_msg_timeout_ms, now);
	if (shaking)
		ms = until(ms, c->tls_deadline, now);
	if (ms == UINT64_MAX)
		uv_timer_stop(&c->idle);
	else
		uv_timer_start(&c->idle, idle_expired, ms, 0);
}

static struct sipcx__conn *conn_new(struct sipcx_transport *tp, enum sipcx_tp_proto proto)
{
	struct sipcx__conn *c = sipcx_calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->tp = tp;
	c->proto = proto;
	sipcx_buf_init(&c->pending);
	sipcx__stream_init(&c->stream);
	uv_tcp_init(tp->loop, &c->h);
	uv_timer_init(tp->loop, &c->idle);
	c->h.data = c;
	c->idle.data = c;
	c->open_handles = 2;
	tp->handles++;
	c->id = tp->next_conn_id++;
	/* Linked first: a connection just made is the likeliest to be used. */
	c->next = tp->conns;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &tp->conns;
	tp->conns = c;
	tp->nconns++;
	return c;
}

static void write_done(uv_write_t *req, int status)
{
	struct sipcx__conn *c = req->handle->data;
	sipcx_free(req);
	if (status < 0 && status != UV_ECANCELED && !c->closing)
		conn_fail(c, status);
}

/* Bytes to the socket as they are (TCP, or TLS records). */
static int sock_write(struct sipcx__conn *c, const char *data, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)(uintptr_t)data, (unsigned)len);
	int r = uv_try_write((uv_stream_t *)&c->h, &b, 1);
	if (r == UV_EAGAIN || r == UV_ENOSYS)
		r = 0;
	else if (r < 0)
		return r;
	size_t done = (size_t)r;
	if (done == len)
		return 0;
	struct tcp_write_req *q = sipcx_malloc(sizeof(*q) + len - done);
	if (!q)
		return -ENOMEM;
	memcpy(q->data, data + done, len - done);
	b = uv_buf_init(q->data, (unsigned)(len - done));
	r = uv_write(&q->req, (uv_stream_t *)&c->h, &b, 1, write_done);
	if (r) {
		sipcx_free(q);
		return r;
	}
	return 0;
}

/* What the TLS session has for the peer (handshake records, alerts, data) to the socket. */
static int tls_flush(struct sipcx__conn *c)
{
	struct sipcx_buf *w = &c->tp->tls_wbuf;
	w->len = 0;
	int r = sipcx__tls_drain(c->tls, w);
	if (!r && w->len)
		r = sock_write(c, w->p, w->len);
	w->len = 0;
	/* One large write need not keep its memory. */
	if (w->cap > 4 * SIPCX__TLS_RBUF)
		sipcx_buf_free(w);
	return r;
}

/* Bytes to the peer below the WebSocket: encrypted first on TLS. */
static int tls_write(struct sipcx__conn *c, const char *data, size_t len)
{
	if (!c->tls)
		return sock_write(c, data, len);
	int r = sipcx__tls_write(c->tls, data, len);
	return r ? r : tls_flush(c);
}

/* What the WebSocket has for the peer (handshake, frames, pongs, close) on its way down. */
static int ws_flush(struct sipcx__conn *c)
{
	struct sipcx_buf *o = &c->ws->out;
	int r = o->len ? tls_write(c, o->p, o->len) : 0;
	o->len = 0;
	if (o->cap > 4 * SIPCX__TLS_RBUF)
		sipcx_buf_free(o);
	return r;
}

/* One message to the peer: a WebSocket frame on WS, encrypted on TLS. */
static int conn_write(struct sipcx__conn *c, const char *data, size_t len)
{
	if (!c->ws)
		return tls_write(c, data, len);
	int r = sipcx__ws_write(c->ws, data, len);
	int w = ws_flush(c);
	return r ? r : w;
}

/*
 * RFC 5923: a peer whose Via carries ";alias" (ours over TLS do) may be
 * reached at its sent-by port over this connection, so a request to the
 * Contact of a phone that listens without a certificate (a caller hung up
 * on by the callee) takes the connection it opened. The sent-by host must
 * be the connection's own address; no client certificate is asked (RFC
 * 5923 6 would want one: this is a test tool's trade-off, TLS and
 * WebSocket only: a WebSocket client cannot be connected to at all).
 */
static void note_alias(struct sipcx__conn *c, const struct sipcx_msg *m)
{
	const struct sipcx_via *via = m->request ? sipcx_msg_via(m) : NULL;
	struct sipcx_str v;
	union sipcx_sa sa;
	if (via && via->port && sipcx_param_get(via->params, "alias", &v) &&
	    sipcx_sa_set(&sa, via->host, via->port) == 0 &&
	    sipcx_sa_equal_host(&sa.sa, &c->remote.sa))
		c->alias_port = via->port;
}

/* The connection for dst: its remote address, or (TLS) its peer's alias. */
/* name: for TLS, the name dst's certificate is checked against (a connection verified for
 * another name at the same address is not that server's). */
static bool conn_reaches(const struct sipcx__conn *c, const struct sipcx_tp_addr *dst,
                         const char *name)
{
	if (c->closing || c->proto != dst->proto || (c->tls_name && strcmp(c->tls_name, name)))
		return false;
	if (sipcx_sa_equal(&c->remote.sa, &dst->sa.sa))
		return true;
	return c->alias_port && c->alias_port == sipcx_sa_port(&dst->sa.sa) &&
	       sipcx_sa_equal_host(&c->remote.sa, &dst->sa.sa);
}

struct feed_ctx {
	struct sipcx__conn *c;
	bool stop;
};

static int on_frame(enum sipcx__stream_ev ev, struct sipcx_msg *m, const char *data, size_t len,
                    void *arg)
{
	struct feed_ctx *fc = arg;
	struct sipcx__conn *c = fc->c;
	struct sipcx_transport *tp = c->tp;

	if (ev == SIPCX__STREAM_PING) {
		/* RFC 5626 3.5.1: a CRLFCRLF ping gets a CRLF pong. */
		if (conn_write(c, "\r\n", 2) < 0)
			fc->stop = true;
		return fc->stop;
	}
	SIPCX_TRACE(SIPCX_TRACE_RECV, sipcx_tp_name(c->proto), &c->remote.sa, &c->local.sa, data,
	            len);
	if (ev == SIPCX__STREAM_MSG && !c->creq.data && (c->tls || c->ws) && !c->alias_port)
		note_alias(c, m);
	struct sipcx_tp_pkt pkt = {
		.proto = c->proto,
		.local = &c->local.sa,
		.remote = &c->remote.sa,
		.conn = c->id,
		.data = data,
		.len = len,
		.msg = m,
		.err = ev == SIPCX__STREAM_BAD ? (m->err ? m->err : -EBADMSG) : 0,
	};
	/* Closing after the callback, so an answer (400/513) still goes out. */
	tp->opts.recv(&pkt, tp->opts.arg);
	/* A bad message over WebSocket loses no framing: the next frame is the next message. */
	if ((ev == SIPCX__STREAM_BAD && !c->ws) || tp->closing || c->closing) {
		fc->stop = true;
		if (!tp->closing)
			conn_close_after_writes(c);
	}
	return fc->stop;
}

static void tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sipcx__conn *c = h->data;
	(void)suggested;
	if (c->tls || c->ws) {
		/* Cipher or frame bytes: one scratch buffer, decoded before the next read. */
		struct sipcx_transport *tp = c->tp;
		if (!tp->tls_rbuf)
			tp->tls_rbuf = sipcx_malloc(SIPCX__TLS_RBUF);
		buf->base = tp->tls_rbuf;
		buf->len = tp->tls_rbuf ? SIPCX__TLS_RBUF : 0;
		return;
	}
	/* Read straight into the framing buffer: no second copy. */
	if (sipcx_buf_reserve(&c->stream.buf, 65536)) {
		buf->base = NULL;
		buf->len = 0;
		return;
	}
	buf->base = c->stream.buf.p + c->stream.buf.len;
	buf->len = c->stream.buf.cap - c->stream.buf.len - 1;
}

static int flush_pending(struct sipcx__conn *c)
{
	if (!c->pending.len)
		return 0;
	/* A stream takes them in one write; WebSocket frames one message each. */
	int r = c->ws ? 0 : conn_write(c, c->pending.p, c->pending.len);
	/* Traced now that the local address is known. */
	size_t off = 0;
	for (size_t i = 0; !r && i < c->npending; i++) {
		if (c->ws && (r = conn_write(c, c->pending.p + off, c->pending_lens[i])) != 0)
			break;
		SIPCX_TRACE(SIPCX_TRACE_SEND, sipcx_tp_name(c->proto), &c->local.sa, &c->remote.sa,
		            c->pending.p + off, c->pending_lens[i]);
		off += c->pending_lens[i];
	}
	sipcx_buf_free(&c->pending);
	sipcx_free(c->pending_lens);
	c->pending_lens = NULL;
	c->npending = 0;
	return r;
}

/*
 * TCP, and TLS when there is one, are up: a WebSocket client asks for the
 * upgrade (Host: the name it was given, else the address; path "/"), any
 * other connection sends what waited.
 */
static int lower_up(struct sipcx__conn *c)
{
	if (!c->ws)
		return flush_pending(c);
	if (c->ws->server)
		return 0;
	/* Host (RFC 7230 5.4): the server's name and port, else its address and port. */
	char host[300];
	uint16_t port = sipcx_sa_port(&c->remote.sa);
	struct in6_addr a6;
	const char *name = c->tls_name;
	if (name && *name && inet_pton(AF_INET, name, &a6) != 1 &&
	    inet_pton(AF_INET6, name, &a6) != 1)
		snprintf(host, sizeof(host), "%s:%u", name, port);
	else if (sipcx_sa_print(&c->remote.sa, host, sizeof(host)) < 0)
		host[0] = '\0';
	int r = sipcx__ws_connect(c->ws, host, "/");
	return r ? r : ws_flush(c);
}

/* A whole message out of a WebSocket frame: parsed as a datagram is (Content-Length optional). */
static int on_ws_msg(const char *data, size_t len, void *arg)
{
	struct feed_ctx *fc = arg;
	struct sipcx__conn *c = fc->c;
	if (sipcx_msg_skip_crlf(data, len) == len)
		return 0; /* a keep-alive, as over UDP */
	int r = sipcx_msg_parse(&c->tp->msg, data, len, 0);
	return on_frame(r < 0 ? SIPCX__STREAM_BAD : SIPCX__STREAM_MSG, &c->tp->msg, data, len, fc);
}

/*
 * Plain bytes (from TCP, or decrypted) into the WebSocket: its handshake,
 * then messages. Returns 0, or -1 when the connection is closing or closed.
 */
static int ws_read(struct sipcx__conn *c, const char *p, size_t n, struct feed_ctx *fc)
{
	bool was_up = c->ws->up;
	int r = sipcx__ws_feed(c->ws, p, n, on_ws_msg, fc);
	int w = c->closing ? 0 : ws_flush(c);
	if (c->closing)
		return -1;
	if (!r && w)
		r = w;
	if (r < 0) {
		conn_fail(c, r);
		return -1;
	}
	if (r == 1) {
		/* A close frame (answered), bad framing, or a refused handshake (its answer sent). */
		conn_close_after_writes(c);
		return -1;
	}
	if (!was_up && c->ws->up) {
		SIPCX_DEBUG("ws: connection %llu up", (unsigned long long)c->id);
		touch(c);
		if ((r = flush_pending(c)) != 0) {
			conn_fail(c, r);
			return -1;
		}
	}
	return 0;
}

/*
 * Cipher bytes from the socket: answer the handshake, and append what
 * decrypts to the framing buffer. Returns 0; 1 after the peer's
 * close_notify (what decrypted before it is still to be framed, then the
 * connection closes); -1 when the connection failed (closed already).
 */
static int tls_read(struct sipcx__conn *c, const char *p, size_t n)
{
	bool was_up = c->tls->up;
	int r = sipcx__tls_feed(c->tls, p, n, &c->stream.buf);
	/* Even a failed handshake has its alert to send. */
	int w = tls_flush(c);
	if (r == 1)
		return 1; /* the peer closed: what came before its close_notify is still framed */
	if (!r)
		r = w;
	if (!r && !was_up && c->tls->up) {
		SIPCX_DEBUG("tls: connection %llu up (%s)", (unsigned long long)c->id,
		            sipcx__tls_version(c->tls));
		touch(c);
		r = lower_up(c);
	}
	if (r) {
		conn_fail(c, r);
		return -1;
	}
	return 0;
}

static void tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct sipcx__conn *c = s->data;
	struct sipcx_transport *tp = c->tp;
	(void)buf;

	if (nread == 0)
		return;
	if (nread < 0) {
		if (nread == UV_EOF)
			conn_close(c);
		else
			conn_fail(c, (int)nread);
		return;
	}
	touch(c);
	bool peer_closed = false;
	if (c->tls) {
		int t = tls_read(c, buf->base, (size_t)nread);
		if (t < 0)
			return;
		peer_closed = t == 1;
	}
	struct feed_ctx fc = { c, false };
	if (c->ws) {
		/* Over TLS the plaintext collected in the stream buffer; over TCP it is the read. */
		const char *p = c->tls ? c->stream.buf.p : buf->base;
		size_t n = c->tls ? c->stream.buf.len : (size_t)nread;
		int w = n ? ws_read(c, p, n, &fc) : 0;
		c->stream.buf.len = 0;
		if (!w && peer_closed && !c->closing)
			conn_close(c);
		return;
	}
	if (!c->tls) {
		/* The bytes are already in place (tcp_alloc): account for them, feed nothing new. */
		c->stream.buf.len += (size_t)nread;
		c->stream.buf.p[c->stream.buf.len] = '\0';
	}
	int r = sipcx__stream_feed(&c->stream, NULL, 0, &tp->msg, on_frame, &fc);
	if (r < 0 && !c->closing)
		conn_fail(c, r);
	if (peer_closed && !c->closing)
		conn_close(c);
	if (c->closing)
		return;
	/* A message left unfinished starts (or keeps) its deadline. */
	bool partial = sipcx__stream_pending(&c->stream) != 0;
	if (partial != (c->partial_ms != 0)) {
		c->partial_ms = partial ? uv_now(tp->loop) | 1 : 0;
		touch(c);
	}
}

static int conn_start_read(struct sipcx__conn *c)
{
	uv_tcp_nodelay(&c->h, 1);
	int len = sizeof(c->local);
	uv_tcp_getsockname(&c->h, &c->local.sa, &len);
	int r = 0;
	bool server = !c->creq.data; /* accepted */
	if (is_tls(c->proto)) {
		struct ssl_ctx_st *ctx;
		r = sipcx__tls_ctx(c->tp, server, &ctx);
		if (!r && !(c->tls = sipcx_malloc(sizeof(*c->tls))))
			r = -ENOMEM;
		if (!r && (r = sipcx__tls_start(c->tls, ctx, server,
		                                server || !c->tls_name ? "" : c->tls_name)) != 0) {
			sipcx_free(c->tls);
			c->tls = NULL;
		}
		if (!r && !server && !(r = sipcx__tls_handshake(c->tls)))
			r = tls_flush(c); /* the ClientHello */
		c->tls_deadline = uv_now(c->tp->loop) + c->tp->opts.tls_handshake_ms;
	}
	if (!r && is_ws(c->proto)) {
		if (!(c->ws = sipcx_malloc(sizeof(*c->ws))))
			r = -ENOMEM;
		else if ((r = sipcx__ws_start(c->ws, server, SIPCX_MSG_MAX_SIZE)) != 0) {
			sipcx_free(c->ws);
			c->ws = NULL;
		}
		c->tls_deadline = uv_now(c->tp->loop) + c->tp->opts.tls_handshake_ms;
	}
	touch(c);
	return r ? r : uv_read_start((uv_stream_t *)&c->h, tcp_alloc, tcp_read);
}

static void on_accept(uv_stream_t *server, int status)
{
	struct sipcx__tcp_listener *l = server->data;
	struct sipcx_transport *tp = l->tp;

	if (status < 0 || tp->closing) {
		/* EMFILE/ENFILE: libuv accepts and closes the connection (its reserve descriptor). */
		uint64_t n = status < 0 && !tp->closing ? ++tp->accept_errors : 0;
		if (n && (n & (n - 1)) == 0)
			SIPCX_WARN("tcp: cannot accept a connection: %s (%llu so far)%s",
			           uv_strerror(status), (unsigned long long)tp->accept_errors,
			           status == UV_EMFILE || status == UV_ENFILE
			               ? ": out of descriptors (RLIMIT_NOFILE)"
			               : "");
		return;
	}
	struct sipcx__conn *c = conn_new(tp, l->proto);
	if (!c) {
		/* Take it off the backlog anyway, or the listener spins. */
		uv_tcp_t tmp;
		uv_tcp_init(tp->loop, &tmp);
		uv_accept(server, (uv_stream_t *)&tmp);
		uv_close((uv_handle_t *)&tmp, NULL);
		return;
	}
	if (uv_accept(server, (uv_stream_t *)&c->h) != 0) {
		conn_close(c);
		return;
	}
	int len = sizeof(c->remote);
	uv_tcp_getpeername(&c->h, &c->remote.sa, &len);
	/* One source cannot hold every descriptor: past its share, close at once. */
	unsigned same = 0;
	for (struct sipcx__conn *o = tp->conns; o; o = o->next)
		same += o != c && !o->closing && sipcx_sa_equal_host(&o->remote.sa, &c->remote.sa);
	if (same >= tp->opts.tcp_max_per_source) {
		char host[SIPCX_ADDRSTRLEN];
		if (sipcx_sa_host(&c->remote.sa, host, sizeof(host)) < 0)
			host[0] = '\0';
		SIPCX_WARN("tcp: %s has %u connections (the limit): refused", host, same);
		conn_close(c);
		return;
	}
	c->connected = true;
	int r = conn_start_read(c);
	if (r) {
		if (c->proto != SIPCX_TP_TCP)
			SIPCX_DEBUG("%s: cannot accept connection %llu: %s", c->tls ? "tls" : "ws",
			            (unsigned long long)c->id, sipcx_strerror(r));
		conn_close(c);
	}
}

static void on_connect(uv_connect_t *req, int status)
{
	struct sipcx__conn *c = req->data;
	if (c->closing)
		return;
	if (status < 0) {
		conn_fail(c, status);
		return;
	}
	c->connected = true;
	int r = conn_start_read(c);
	/* TLS: the pending messages wait for the handshake (tls_read()); WS: for its own. */
	if (!r && !c->tls)
		r = lower_up(c);
	if (r)
		conn_fail(c, r);
}

int sipcx__tp_tcp_listen(struct sipcx_transport *tp, const struct sipcx_tp_addr *addr,
                         union sipcx_sa *bound)
{
	if (is_tls(addr->proto) && tp->opts.tls_cert) {
		/* The certificate loads now, so a bad one fails the listen, not each accept. */
		struct ssl_ctx_st *ctx;
		int r = sipcx__tls_ctx(tp, true, &ctx);
		if (r)
			return r;
	}
	struct sipcx__tcp_listener *l = sipcx_calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->tp = tp;
	l->proto = addr->proto;
	/* The socket made now (not at bind), so SO_REUSEPORT can go on before bind. */
	int r = uv_tcp_init_ex(tp->loop, &l->h, addr->sa.sa.sa_family);
	if (r) {
		sipcx_free(l);
		return r;
	}
	l->h.data = l;
	tp->handles++;
	if (tp->opts.reuse_port)
		r = sipcx__tp_reuse_port((uv_handle_t *)&l->h);
	if (!r)
		r = uv_tcp_bind(&l->h, &addr->sa.sa,
		                addr->sa.sa.sa_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
	if (!r)
		r = uv_listen((uv_stream_t *)&l->h, 128, on_accept);
	int len = sizeof(l->local);
	if (!r)
		r = uv_tcp_getsockname(&l->h, &l->local.sa, &len);
	if (r) {
		uv_close((uv_handle_t *)&l->h, listener_closed);
		return r;
	}
	l->next = tp->tcpl;
	tp->tcpl = l;
	*bound = l->local;
	return 0;
}

int sipcx__tp_tcp_send(struct sipcx_transport *tp, const struct sipcx_tp_addr *to, uint64_t conn,
                       const void *data, size_t len)
{
	struct sipcx__conn *c = NULL;
	const union sipcx_sa *dst = &to->sa;
	char name[256] = "";
	if (to->proto != SIPCX_TP_TCP)
		sipcx__tls_name_of(tp, dst, name, sizeof(name));

	/* RFC 3261 18.2.2: the connection the request came on, while it is open... */
	if (conn) {
		for (c = tp->conns; c && (c->id != conn || c->closing); c = c->next)
			;
	}
	/* ...else any open connection with the peer (18.1.1: reuse), else a new one. */
	if (!c) {
		if (!sipcx_sa_len(&dst->sa))
			return -EINVAL;
		for (c = tp->conns; c && !conn_reaches(c, to, name); c = c->next)
			;
		/*
		 * RFC 7118 5.2: ";transport=ws" names secure WebSockets too (kamailio's
		 * Record-Route over wss says ws): an open wss connection to the peer serves.
		 */
		struct sipcx_tp_addr wss = { SIPCX_TP_WSS, *dst };
		for (struct sipcx__conn *o = tp->conns; !c && o && to->proto == SIPCX_TP_WS;
		     o = o->next)
			if (conn_reaches(o, &wss, name))
				c = o;
	}
	if (!c) {
		c = conn_new(tp, to->proto);
		if (c && to->proto != SIPCX_TP_TCP && !(c->tls_name = sipcx_strdup(name))) {
			conn_close(c);
			c = NULL;
		}
		if (!c)
			return -ENOMEM;
		c->remote = *dst;
		c->creq.data = c;
		/* TLS or WebSocket: connect and handshake within one deadline (renewed once
		 * connected, for the handshake) */
		c->tls_deadline = uv_now(tp->loop) + tp->opts.tls_handshake_ms;
		int r = uv_tcp_connect(&c->creq, &c->h, &dst->sa, on_connect);
		if (r) {
			conn_close(c);
			return r;
		}
	}
	if (conn_ready(c)) {
		int r = conn_write(c, data, len);
		if (r)
			return r;
		SIPCX_TRACE(SIPCX_TRACE_SEND, sipcx_tp_name(c->proto), &c->local.sa, &c->remote.sa,
		            data, len);
	} else {
		size_t *lens = sipcx_realloc(c->pending_lens, (c->npending + 1) * sizeof(*lens));
		if (!lens)
			return -ENOMEM;
		c->pending_lens = lens;
		sipcx_buf_append(&c->pending, data, len);
		if (sipcx_buf_err(&c->pending))
			return -ENOMEM;
		lens[c->npending++] = len;
	}
	touch(c);
	return 0;
}

void sipcx__tp_tcp_close_all(struct sipcx_transport *tp)
{
	for (struct sipcx__tcp_listener *l = tp->tcpl, *next; l; l = next) {
		next = l->next;
		uv_close((uv_handle_t *)&l->h, listener_closed);
	}
	tp->tcpl = NULL;
	while (tp->conns)
		conn_close(tp->conns);
}
