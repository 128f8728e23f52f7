/* media: private helpers shared by the media session files (addresses, port pairs, thread-safe I/O). */
#ifndef SIPCX__MEDIA_H
#define SIPCX__MEDIA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <sipcx/media.h>
#include <sipcx/sockaddr.h>

/** An IPv4 or IPv6 socket address. */
union sipcx__maddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/*
 * A session that lives on an engine's loop (ua/media.c): how a call from
 * another thread reaches that loop, and whom to tell when the session
 * goes. Sessions made on a caller's own loop (sipcx_media_new_loop())
 * have none: every call is the loop thread's.
 */
struct sipcx__media_owner {
	bool (*on_loop)(void *ctx);                            /* is this the loop thread? */
	int (*call)(void *ctx, void (*fn)(void *), void *arg); /* run fn there and wait */
	void (*freed)(void *ctx); /* loop thread: the session is gone */
	void *ctx;
};

struct uv_loop_s;
/* sipcx_media_new_loop() with an owner (NULL: none). */
int sipcx__media_new(struct sipcx_media **out, struct uv_loop_s *loop,
                     const struct sipcx_media_opts *opts, const struct sipcx__media_owner *owner);

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

/*
 * The largest datagram the session takes in or sends from a queue: one
 * receive buffer of this size serves every session of a loop thread.
 */
#define SIPCX__MEDIA_MAX_PKT 8192

/*
 * A packet kind of the send queue besides SIPCX_MEDIA_Q_RTP/RTCP: a payload
 * for the session to put behind its own header, stored after a prefix of
 * the RTP timestamp (4 bytes, host order) and the marker (1 byte).
 */
enum { SIPCX__MEDIA_Q_PAYLOAD = 2 };
#define SIPCX__MEDIA_PAYLOAD_PREFIX 5

/**
 * Append pre (plen bytes) then data (len bytes) as one packet, waiting for
 * room up to timeout_ms (0: do not wait, negative: forever) instead of
 * dropping the oldest. Any thread. Returns 0, -EMSGSIZE, SIPCX_ECLOSED,
 * -EAGAIN (full and timeout_ms 0), -ETIMEDOUT (still full at the deadline).
 */
int sipcx__media_queue_put(struct sipcx_media_queue *q, int kind, const void *pre, size_t plen,
                           const void *data, size_t len, int timeout_ms);

/** Threads blocked in sipcx_media_queue_pop() or sipcx__media_queue_put() now (for tests). */
unsigned sipcx__media_queue_waiters(struct sipcx_media_queue *q);

/*
 * The thread-safe side of a session (io.c): the receive queues user threads
 * read, and the send queue the loop drains from a uv_async_t. It is
 * refcounted apart from the session: the session holds one reference until
 * its async handle is closed, and every call of a user thread holds one
 * while it runs, so a reader woken by the session's free returns safely.
 */
struct sipcx__media_io;

/** Allocate it (queues of cap packets of at most max_len bytes). Returns 0 or -ENOMEM. */
int sipcx__media_io_new(struct sipcx__media_io **out, unsigned cap, size_t max_len);

/** Start its uv_async_t on loop, sending for m. Returns 0 or a libuv error. */
int sipcx__media_io_attach(struct sipcx__media_io *io, struct uv_loop_s *loop,
                           struct sipcx_media *m);

/** Free one that was never attached. */
void sipcx__media_io_destroy(struct sipcx__media_io *io);

/**
 * Loop thread, from sipcx_media_free(): close it (waking every user
 * thread), send what is still queued, close the async handle. The memory
 * goes when the last user thread has left.
 */
void sipcx__media_io_shutdown(struct sipcx__media_io *io);

/** Loop thread: queue a received packet (SIPCX_MEDIA_Q_RTP or _RTCP) for the readers. */
void sipcx__media_io_rx(struct sipcx__media_io *io, int kind, const void *data, size_t len);

/** Counters for sipcx_media_stats(): posts refused as the send queue was full; received packets lost. */
void sipcx__media_io_counters(struct sipcx__media_io *io, uint64_t *tx_full, uint64_t *rx_dropped);

/** The session's io, NULL when opts.io_queue was 0 (set once in sipcx_media_new). */
struct sipcx__media_io *sipcx__media_io_of(const struct sipcx_media *m);

/**
 * Loop thread: send one packet a user thread posted, counting it like the
 * loop-thread functions do, and as tx_dropped when it cannot go out.
 */
void sipcx__media_send_posted(struct sipcx_media *m, int kind, const uint8_t *data, size_t len);

/**
 * Take a reference on m's io as a call of a user thread does while it runs
 * (NULL without io); sipcx__media_io_release() drops it. For tests: the
 * memory must outlive the session while one is held.
 */
struct sipcx__media_io *sipcx__media_io_hold(struct sipcx_media *m);
void sipcx__media_io_release(struct sipcx__media_io *io);

/** Threads blocked in a read or a post of m's thread-safe I/O now (for tests). */
unsigned sipcx__media_io_waiters(const struct sipcx_media *m);

#endif
