/* transport: private types shared by the UDP, TCP and stream-framing files (RFC 3261 18). */
#ifndef SIPCX__TRANSPORT_H
#define SIPCX__TRANSPORT_H

#include <uv.h>

#include <sipcx/embed.h>
#include <sipcx/transport.h>

#include "base/base.h"

/*
 * Whether a transport name (sipcx_tp_name(), as trace events carry it; any
 * case) rides on a TCP stream: "TCP" and "TLS" (traced decrypted). NULL:
 * false.
 */
bool sipcx__tp_name_is_stream(const char *name);

/*
 * Stream framing (RFC 3261 18.3): bytes in, whole messages out. Pure: no
 * I/O, so the unit tests feed it every split of a byte stream.
 */
struct sipcx__stream {
	struct sipcx_buf buf; /* unconsumed bytes */
	size_t off;           /* start of the unconsumed bytes in buf */
	uint8_t crlf;         /* keep-alive state: CR/LF bytes matched of "\r\n\r\n" */
};

enum sipcx__stream_ev {
	SIPCX__STREAM_MSG,  /* a message: m parsed, data/len its bytes */
	SIPCX__STREAM_PING, /* "\r\n\r\n" keep-alive ping (RFC 5626 3.5.1): answer "\r\n" */
	SIPCX__STREAM_BAD,  /* unframeable input: m->err says why; the caller closes */
};

/*
 * Called for each event; m points into the stream's buffer until the next
 * feed. Return non-zero to stop feeding (e.g. the connection is closing).
 */
typedef int sipcx__stream_cb(enum sipcx__stream_ev ev, struct sipcx_msg *m, const char *data,
                             size_t len, void *arg);

void sipcx__stream_init(struct sipcx__stream *s);
void sipcx__stream_reset(struct sipcx__stream *s);
/*
 * Append n bytes and emit every complete message. Returns 0, 1 when the
 * callback stopped it or framing was lost (after a SIPCX__STREAM_BAD), or
 * -ENOMEM.
 */
int sipcx__stream_feed(struct sipcx__stream *s, const char *p, size_t n, struct sipcx_msg *m,
                       sipcx__stream_cb *cb, void *arg);
/* Bytes held for an incomplete message. */
size_t sipcx__stream_pending(const struct sipcx__stream *s);

/*
 * TLS on a stream connection (tls.c): OpenSSL with two memory BIOs, so the
 * engine sees only bytes: cipher bytes read from the socket go in with
 * sipcx__tls_feed(), what it wants sent (handshake records, encrypted
 * writes, alerts) comes out of sipcx__tls_drain(). No I/O: the unit tests
 * run a client and a server against each other in memory.
 */
struct ssl_ctx_st;
struct ssl_st;
struct sipcx__tls {
	struct ssl_st *ssl;
	bool server;
	bool up; /* handshake done */
	int err; /* the first fatal error, kept */
};

/* The span of X509_V_ERR_* codes carried in SIPCX_ETLS_VERIFY - code. */
#define SIPCX_ETLS_VERIFY_SPAN 1000

/*
 * The transport's client or server context, made on first use from its
 * options (a server needs tls_cert). Returns 0, SIPCX_ETLSCONF (a file
 * that does not load: logged), -ENOMEM.
 */
int sipcx__tls_ctx(struct sipcx_transport *tp, bool server, struct ssl_ctx_st **out);
void sipcx__tls_ctx_free(struct sipcx_transport *tp);
/*
 * A session on ctx; a client checks the peer's certificate against name
 * (a host name, with SNI, or an IP literal) when the context verifies.
 * 0, -ENOMEM, -EINVAL.
 */
int sipcx__tls_start(struct sipcx__tls *t, struct ssl_ctx_st *ctx, bool server, const char *name);
void sipcx__tls_end(struct sipcx__tls *t);
/* Drive the handshake (a client's first call produces its ClientHello). 0 or an error. */
int sipcx__tls_handshake(struct sipcx__tls *t);
/*
 * Cipher bytes in; the plaintext they complete is appended to plain.
 * Returns 0, 1 (the peer closed the session: close_notify), -ENOMEM,
 * SIPCX_ETLS (handshake or record failure: logged) or SIPCX_ETLS_VERIFY - n
 * (the peer's certificate failed verification with X509_V_ERR n).
 */
int sipcx__tls_feed(struct sipcx__tls *t, const void *p, size_t n, struct sipcx_buf *plain);
/* Encrypt n bytes (after the handshake). 0, -ENOTCONN (not up yet), or an error. */
int sipcx__tls_write(struct sipcx__tls *t, const void *p, size_t n);
/* Move the cipher bytes waiting to be sent to out. 0 or -ENOMEM. */
int sipcx__tls_drain(struct sipcx__tls *t, struct sipcx_buf *out);
/* "TLSv1.3", for the log. */
const char *sipcx__tls_version(const struct sipcx__tls *t);

/*
 * WebSocket (RFC 6455) carrying SIP (RFC 7118) on a stream connection
 * (ws.c): the HTTP/1.1 Upgrade handshake, then wslay's frames, one SIP
 * message per text or binary message. No I/O, like TLS: bytes from the peer
 * go in with sipcx__ws_feed(), bytes for the peer collect in out.
 */
#define SIPCX__WS_HDR_MAX 8192 /* the handshake's bytes, request or response */

/* A parsed handshake: slices into the parsed bytes. */
struct sipcx__ws_http {
	bool request;
	uint16_t status;          /* response */
	struct sipcx_str method;  /* request */
	struct sipcx_str path;    /* request */
	struct sipcx_str key;     /* Sec-WebSocket-Key */
	struct sipcx_str accept;  /* Sec-WebSocket-Accept */
	struct sipcx_str version; /* Sec-WebSocket-Version */
	bool upgrade_ws;          /* Upgrade: websocket */
	bool conn_upgrade;        /* Connection: upgrade */
	bool proto_sip;           /* Sec-WebSocket-Protocol lists (or, answered, is) "sip" */
	bool proto_any;           /* a Sec-WebSocket-Protocol line was there */
};

/*
 * Parse a handshake head (request or status line, headers, blank line),
 * never allocating. Returns the bytes it takes, -EAGAIN (not all there
 * yet), -EMSGSIZE (no end within SIPCX__WS_HDR_MAX) or -EBADMSG.
 */
int sipcx__ws_http_parse(struct sipcx__ws_http *h, const char *p, size_t n);
/* Sec-WebSocket-Accept for key (RFC 6455 4.2.2: base64 of SHA-1 of key + GUID), 29 bytes with the NUL. */
void sipcx__ws_accept_key(struct sipcx_str key, char out[29]);

struct wslay_event_context;
typedef int sipcx__ws_msg_cb(const char *data, size_t len, void *arg);
struct sipcx__ws {
	struct wslay_event_context *ctx;
	bool server;
	bool up;              /* handshake done */
	bool asked;           /* client: the GET is out */
	bool stop;            /* the message callback asked to stop */
	int err;              /* the first fatal error, kept */
	char key[25];         /* client: the Sec-WebSocket-Key sent */
	struct sipcx_buf hs;  /* handshake bytes received so far */
	struct sipcx_buf out; /* bytes for the peer: the caller sends and empties it */
	const char *rp;       /* during a feed: frame bytes not yet read by wslay */
	size_t rn;
	sipcx__ws_msg_cb *cb;
	void *arg;
};

/* A client or server session; messages up to max_msg bytes. 0 or -ENOMEM. */
int sipcx__ws_start(struct sipcx__ws *w, bool server, size_t max_msg);
void sipcx__ws_end(struct sipcx__ws *w);
/* Client: the Upgrade request for host (the Host header) and path into out. 0 or -ENOMEM. */
int sipcx__ws_connect(struct sipcx__ws *w, const char *host, const char *path);
/*
 * Bytes from the peer: the handshake, then frames; cb gets each text or
 * binary message (data valid during the call; a non-zero return stops the
 * feed). Pings are answered, a close frame answered. Returns 0; 1 when the
 * session ended (a close frame either way, a refused handshake: the answer
 * is in out, to send before closing); -ENOMEM; SIPCX_EWS (a handshake
 * refused by the server or broken: logged).
 */
int sipcx__ws_feed(struct sipcx__ws *w, const char *p, size_t n, sipcx__ws_msg_cb *cb, void *arg);
/* One message as one text frame into out (after the handshake). 0, -ENOTCONN, -ENOMEM, -EPIPE. */
int sipcx__ws_write(struct sipcx__ws *w, const char *p, size_t n);

struct sipcx__udp;
struct sipcx__tcp_listener;
struct sipcx__conn;

struct sipcx_transport {
	uv_loop_t *loop;
	struct sipcx_transport_opts opts;
	struct sipcx__udp *udp;           /* list, in listen order */
	struct sipcx__tcp_listener *tcpl; /* list */
	struct sipcx__conn *conns;        /* list of TCP connections */
	struct sipcx_tp_addr *bound;      /* every listen address, in order */
	size_t nbound;
	uint64_t next_conn_id;
	size_t nconns;
	uint64_t accept_errors; /* failed accepts (EMFILE, ...), warned at powers of two */
	unsigned handles;       /* open libuv handles: the set is freed when it drops to 0 */
	bool closing;
	struct sipcx_msg msg; /* parse storage, reused for each message */
	/* TLS (tls.c): contexts made on first use, and scratch for the cipher bytes. */
	struct ssl_ctx_st *tls_client, *tls_server;
	char *tls_rbuf;            /* one read of cipher bytes (TLS_RBUF), decrypted at once */
	struct sipcx_buf tls_wbuf; /* cipher bytes on their way to the socket */
	/* sipcx_transport_tls_name(): the host names of addresses, any thread. */
	uv_mutex_t tls_names_lock;
	struct sipcx__tls_name *tls_names; /* SIPCX__TLS_NAMES, a ring */
	unsigned tls_names_next;
};

#define SIPCX__TLS_NAMES 64
struct sipcx__tls_name {
	union sipcx_sa sa;
	char name[256];
};
/* The name set for dst into out (n bytes), else dst's IP address as text. */
void sipcx__tls_name_of(struct sipcx_transport *tp, const union sipcx_sa *dst, char *out, size_t n);

#define SIPCX__TLS_RBUF 65536

void sipcx__tp_handle_closed(struct sipcx_transport *tp);
/* SO_REUSEPORT on a handle whose socket exists and is not bound yet. */
int sipcx__tp_reuse_port(uv_handle_t *h);
/* TCP, TLS, WS, WSS (addr->proto / dst->proto): the same connections, TLS and WebSocket on top. */
int sipcx__tp_tcp_listen(struct sipcx_transport *tp, const struct sipcx_tp_addr *addr,
                         union sipcx_sa *bound);
int sipcx__tp_tcp_send(struct sipcx_transport *tp, const struct sipcx_tp_addr *dst, uint64_t conn,
                       const void *data, size_t len);
void sipcx__tp_tcp_close_all(struct sipcx_transport *tp);

#endif
