/* transport: private types shared by the UDP, TCP and stream-framing files (RFC 3261 18). */
#ifndef SIPCX__TRANSPORT_H
#define SIPCX__TRANSPORT_H

#include <uv.h>

#include <sipcx/embed.h>
#include <sipcx/transport.h>

#include "base/base.h"

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
};

void sipcx__tp_handle_closed(struct sipcx_transport *tp);
/* SO_REUSEPORT on a handle whose socket exists and is not bound yet. */
int sipcx__tp_reuse_port(uv_handle_t *h);
int sipcx__tp_tcp_listen(struct sipcx_transport *tp, const struct sipcx_tp_addr *addr,
                         union sipcx_sa *bound);
int sipcx__tp_tcp_send(struct sipcx_transport *tp, const union sipcx_sa *dst, uint64_t conn,
                       const void *data, size_t len);
void sipcx__tp_tcp_close_all(struct sipcx_transport *tp);

#endif
