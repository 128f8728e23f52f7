/* media/io.c: RTP/RTCP read and write for user threads, sent by the loop thread (RFC 3550 6.4.1 counts). */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include <uv.h>

#include "base/base.h"
#include "media/media.h"

/*
 * Posted packets the async callback sends before it lets the loop poll
 * again: below the 32 datagrams libuv reads per socket wake-up, so a peer
 * session on the same loop keeps up and its socket buffer does not overflow.
 */
#define TX_BATCH 16
/* The received-RTCP queue: a report every few seconds needs little room. */
#define RTCP_CAP 32u

struct sipcx__media_io {
	uv_async_t async;
	atomic_uint refs; /* the session's (until async is closed) + calls running */
	uv_mutex_t lock;  /* closed, and uv_async_send against uv_close */
	bool closed;
	bool attached;
	struct sipcx_media *m; /* loop thread only */
	struct sipcx_media_queue *rtp;
	struct sipcx_media_queue *rtcp;
	struct sipcx_media_queue *tx;
	size_t max_len;
	atomic_uint_least64_t tx_full;
	atomic_uint_least64_t rx_big; /* received, longer than a slot */
};

static void io_free(struct sipcx__media_io *io)
{
	sipcx_media_queue_free(io->rtp);
	sipcx_media_queue_free(io->rtcp);
	sipcx_media_queue_free(io->tx);
	uv_mutex_destroy(&io->lock);
	sipcx_free(io);
}

static void io_ref(struct sipcx__media_io *io)
{
	atomic_fetch_add(&io->refs, 1u);
}

static void io_unref(struct sipcx__media_io *io)
{
	if (atomic_fetch_sub(&io->refs, 1u) == 1u)
		io_free(io);
}

int sipcx__media_io_new(struct sipcx__media_io **out, unsigned cap, size_t max_len)
{
	struct sipcx__media_io *io = sipcx_calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	int err = sipcx_media_queue_new(&io->rtp, cap, max_len);
	if (err == 0)
		err = sipcx_media_queue_new(&io->rtcp, cap < RTCP_CAP ? cap : RTCP_CAP, max_len);
	if (err == 0)
		err = sipcx_media_queue_new(&io->tx, cap, max_len);
	if (err == 0 && uv_mutex_init(&io->lock) != 0)
		err = -ENOMEM;
	if (err) {
		sipcx_media_queue_free(io->rtp);
		sipcx_media_queue_free(io->rtcp);
		sipcx_media_queue_free(io->tx);
		sipcx_free(io);
		return err;
	}
	io->max_len = max_len;
	atomic_init(&io->refs, 1u);
	atomic_init(&io->tx_full, 0u);
	atomic_init(&io->rx_big, 0u);
	*out = io;
	return 0;
}

void sipcx__media_io_destroy(struct sipcx__media_io *io)
{
	if (io)
		io_free(io);
}

/* Send up to max posted packets; with more left, come back after the loop has polled. */
static void drain(struct sipcx__media_io *io, unsigned max)
{
	uint8_t buf[SIPCX__MEDIA_MAX_PKT];
	for (unsigned i = 0; i < max; i++) {
		int kind;
		int n = sipcx_media_queue_pop(io->tx, buf, sizeof(buf), &kind, 0);
		if (n < 0)
			return; /* empty, or closed and empty */
		sipcx__media_send_posted(io->m, kind, buf, (size_t)n);
	}
	uv_async_send(&io->async);
}

static void on_async(uv_async_t *a)
{
	drain(a->data, TX_BATCH);
}

int sipcx__media_io_attach(struct sipcx__media_io *io, struct uv_loop_s *loop,
                           struct sipcx_media *m)
{
	int err = uv_async_init(loop, &io->async, on_async);
	if (err)
		return err;
	io->async.data = io;
	io->m = m;
	io->attached = true;
	/* like the session's other handles before start: no reason by itself to keep uv_run going */
	uv_unref((uv_handle_t *)&io->async);
	return 0;
}

/* Close: later posts fail, readers and writers wake; what is queued stays to be drained. */
static void io_close(struct sipcx__media_io *io, bool wake_loop)
{
	uv_mutex_lock(&io->lock);
	bool was = io->closed;
	io->closed = true;
	/* a user thread's close: let the loop send what was posted before it */
	if (!was && wake_loop && io->attached)
		uv_async_send(&io->async);
	uv_mutex_unlock(&io->lock);
	if (was)
		return;
	sipcx_media_queue_close(io->rtp);
	sipcx_media_queue_close(io->rtcp);
	sipcx_media_queue_close(io->tx);
}

static void on_async_closed(uv_handle_t *h)
{
	io_unref(h->data);
}

void sipcx__media_io_shutdown(struct sipcx__media_io *io)
{
	io_close(io, false);
	drain(io, UINT32_MAX);
	uv_close((uv_handle_t *)&io->async, on_async_closed);
}

void sipcx__media_io_rx(struct sipcx__media_io *io, int kind, const void *data, size_t len)
{
	struct sipcx_media_queue *q = kind == SIPCX_MEDIA_Q_RTCP ? io->rtcp : io->rtp;
	/* a full queue drops its oldest packet: a slow reader must not stall the loop */
	if (sipcx_media_queue_push(q, kind, data, len) == -EMSGSIZE)
		atomic_fetch_add(&io->rx_big, 1u);
}

void sipcx__media_io_counters(struct sipcx__media_io *io, uint64_t *tx_full, uint64_t *rx_dropped)
{
	*tx_full = atomic_load(&io->tx_full);
	*rx_dropped = sipcx_media_queue_dropped(io->rtp) + sipcx_media_queue_dropped(io->rtcp) +
	              atomic_load(&io->rx_big);
}

struct sipcx__media_io *sipcx__media_io_hold(struct sipcx_media *m)
{
	struct sipcx__media_io *io = sipcx__media_io_of(m);
	if (io)
		io_ref(io);
	return io;
}

void sipcx__media_io_release(struct sipcx__media_io *io)
{
	if (io)
		io_unref(io);
}

unsigned sipcx__media_io_waiters(const struct sipcx_media *m)
{
	struct sipcx__media_io *io = sipcx__media_io_of(m);
	if (!io)
		return 0;
	return sipcx__media_queue_waiters(io->rtp) + sipcx__media_queue_waiters(io->rtcp) +
	       sipcx__media_queue_waiters(io->tx);
}

/* ------------------------------------------------------ user threads -- */

int sipcx__media_io_post(struct sipcx__media_io *io, int kind, const void *pre, size_t plen,
                         const void *data, size_t len, int timeout_ms)
{
	if (!io)
		return -ENOTSUP;
	io_ref(io);
	int err = sipcx__media_queue_put(io->tx, kind, pre, plen, data, len, timeout_ms);
	if (err == -EAGAIN || err == -ETIMEDOUT)
		atomic_fetch_add(&io->tx_full, 1u);
	if (err == 0) {
		/* under the lock: never a uv_async_send after the loop's uv_close */
		uv_mutex_lock(&io->lock);
		if (!io->closed)
			uv_async_send(&io->async);
		uv_mutex_unlock(&io->lock);
	}
	io_unref(io);
	return err;
}

int sipcx_media_post_rtp(struct sipcx_media *m, const void *data, size_t len, int timeout_ms)
{
	struct sipcx_rtp_pkt pkt;
	if (!m || !data || sipcx_rtp_parse(&pkt, data, len) < 0)
		return -EINVAL;
	return sipcx__media_io_post(sipcx__media_io_of(m), SIPCX_MEDIA_Q_RTP, NULL, 0, data, len,
	                            timeout_ms);
}

int sipcx_media_post_payload(struct sipcx_media *m, uint32_t ts, bool marker, const void *payload,
                             size_t len, int timeout_ms)
{
	if (!m || (!payload && len))
		return -EINVAL;
	uint8_t pre[SIPCX__MEDIA_PAYLOAD_PREFIX];
	memcpy(pre, &ts, 4);
	pre[4] = marker;
	struct sipcx__media_io *io = sipcx__media_io_of(m);
	/* io_max_len bounds the packet the loop builds, header included, not only the slot */
	if (io && len + SIPCX_RTP_HDR_MIN > io->max_len)
		return -EMSGSIZE;
	return sipcx__media_io_post(io, SIPCX__MEDIA_Q_PAYLOAD, pre, sizeof(pre), payload, len,
	                            timeout_ms);
}

int sipcx_media_post_rtcp(struct sipcx_media *m, const void *data, size_t len, int timeout_ms)
{
	if (!m || !data || len < 4)
		return -EINVAL;
	return sipcx__media_io_post(sipcx__media_io_of(m), SIPCX_MEDIA_Q_RTCP, NULL, 0, data, len,
	                            timeout_ms);
}

int sipcx__media_io_read(struct sipcx__media_io *io, bool rtcp, void *buf, size_t size,
                         int timeout_ms)
{
	if (!buf && size)
		return -EINVAL;
	if (!io)
		return -ENOTSUP;
	io_ref(io);
	int n = sipcx_media_queue_pop(rtcp ? io->rtcp : io->rtp, buf, size, NULL, timeout_ms);
	io_unref(io);
	return n == SIPCX_ECLOSED ? -ECANCELED : n;
}

int sipcx_media_read_rtp(struct sipcx_media *m, void *buf, size_t size, int timeout_ms)
{
	return m ? sipcx__media_io_read(sipcx__media_io_of(m), false, buf, size, timeout_ms)
	         : -EINVAL;
}

int sipcx_media_read_rtcp(struct sipcx_media *m, void *buf, size_t size, int timeout_ms)
{
	return m ? sipcx__media_io_read(sipcx__media_io_of(m), true, buf, size, timeout_ms)
	         : -EINVAL;
}

void sipcx_media_close(struct sipcx_media *m)
{
	struct sipcx__media_io *io = m ? sipcx__media_io_of(m) : NULL;
	if (!io)
		return;
	io_ref(io);
	io_close(io, true);
	io_unref(io);
}
