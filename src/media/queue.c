/* media/queue.c: bounded thread-safe packet queue between the loop thread and user threads. */
#include <errno.h>
#include <string.h>

#include <uv.h>

#include "base/base.h"
#include "media/media.h"

struct sipcx_media_queue {
	uv_mutex_t lock;
	uv_cond_t cond;  /* a packet arrived, or closed */
	uv_cond_t space; /* a packet left, or closed */
	unsigned cap;
	unsigned head; /* oldest */
	unsigned count;
	unsigned waiters; /* threads blocked in pop or put */
	bool closed;
	uint64_t dropped;
	size_t max_len;
	uint16_t *len;
	uint8_t *kind;
	uint8_t *data; /* cap slots of max_len bytes */
};

int sipcx_media_queue_new(struct sipcx_media_queue **out, unsigned cap, size_t max_len)
{
	if (!out || cap == 0 || cap > 65536 || max_len == 0 || max_len > 65535)
		return -EINVAL;
	struct sipcx_media_queue *q = sipcx_calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->cap = cap;
	q->max_len = max_len;
	q->len = sipcx_calloc(cap, sizeof(*q->len));
	q->kind = sipcx_calloc(cap, sizeof(*q->kind));
	q->data = sipcx_malloc((size_t)cap * max_len);
	if (!q->len || !q->kind || !q->data)
		goto oom;
	if (uv_mutex_init(&q->lock))
		goto oom;
	if (uv_cond_init(&q->cond)) {
		uv_mutex_destroy(&q->lock);
		goto oom;
	}
	if (uv_cond_init(&q->space)) {
		uv_cond_destroy(&q->cond);
		uv_mutex_destroy(&q->lock);
		goto oom;
	}
	*out = q;
	return 0;
oom:
	sipcx_free(q->len);
	sipcx_free(q->kind);
	sipcx_free(q->data);
	sipcx_free(q);
	return -ENOMEM;
}

void sipcx_media_queue_free(struct sipcx_media_queue *q)
{
	if (!q)
		return;
	uv_cond_destroy(&q->space);
	uv_cond_destroy(&q->cond);
	uv_mutex_destroy(&q->lock);
	sipcx_free(q->len);
	sipcx_free(q->kind);
	sipcx_free(q->data);
	sipcx_free(q);
}

/* Append pre then data as one packet into the free slot; the lock is held and a slot is free. */
static void store(struct sipcx_media_queue *q, int kind, const void *pre, size_t plen,
                  const void *data, size_t len)
{
	unsigned slot = (q->head + q->count) % q->cap;
	uint8_t *p = q->data + (size_t)slot * q->max_len;
	if (plen)
		memcpy(p, pre, plen);
	if (len)
		memcpy(p + plen, data, len);
	q->len[slot] = (uint16_t)(plen + len);
	q->kind[slot] = (uint8_t)kind;
	q->count++;
	uv_cond_signal(&q->cond);
}

int sipcx_media_queue_push(struct sipcx_media_queue *q, int kind, const void *data, size_t len)
{
	if (!q || (!data && len))
		return -EINVAL;
	if (len > q->max_len)
		return -EMSGSIZE;
	uv_mutex_lock(&q->lock);
	if (q->closed) {
		uv_mutex_unlock(&q->lock);
		return SIPCX_ECLOSED;
	}
	if (q->count == q->cap) {
		/* a slow reader loses the oldest packet; the loop never waits */
		q->head = (q->head + 1) % q->cap;
		q->count--;
		q->dropped++;
	}
	store(q, kind, NULL, 0, data, len);
	uv_mutex_unlock(&q->lock);
	return 0;
}

int sipcx__media_queue_put(struct sipcx_media_queue *q, int kind, const void *pre, size_t plen,
                           const void *data, size_t len, int timeout_ms)
{
	if (!q || (!pre && plen) || (!data && len))
		return -EINVAL;
	if (plen + len > q->max_len)
		return -EMSGSIZE;
	uint64_t deadline = timeout_ms > 0 ? uv_hrtime() + (uint64_t)timeout_ms * 1000000u : 0;
	uv_mutex_lock(&q->lock);
	for (;;) {
		if (q->closed) {
			uv_mutex_unlock(&q->lock);
			return SIPCX_ECLOSED;
		}
		if (q->count < q->cap)
			break;
		if (timeout_ms == 0) {
			uv_mutex_unlock(&q->lock);
			return -EAGAIN;
		}
		uint64_t now = uv_hrtime();
		if (timeout_ms > 0 && now >= deadline) {
			uv_mutex_unlock(&q->lock);
			return -ETIMEDOUT;
		}
		q->waiters++;
		if (timeout_ms < 0)
			uv_cond_wait(&q->space, &q->lock);
		else
			uv_cond_timedwait(&q->space, &q->lock, deadline - now);
		q->waiters--;
	}
	store(q, kind, pre, plen, data, len);
	uv_mutex_unlock(&q->lock);
	return 0;
}

int sipcx_media_queue_pop(struct sipcx_media_queue *q, void *buf, size_t size, int *kind,
                          int timeout_ms)
{
	if (!q || (!buf && size))
		return -EINVAL;
	uint64_t deadline = timeout_ms > 0 ? uv_hrtime() + (uint64_t)timeout_ms * 1000000u : 0;
	uv_mutex_lock(&q->lock);
	while (q->count == 0 && !q->closed) {
		if (timeout_ms == 0) {
			uv_mutex_unlock(&q->lock);
			return -EAGAIN;
		}
		q->waiters++;
		if (timeout_ms < 0) {
			uv_cond_wait(&q->cond, &q->lock);
		} else {
			/* the deadline is re-checked against the clock: never an early -ETIMEDOUT */
			uint64_t now = uv_hrtime();
			if (now >= deadline) {
				q->waiters--;
				uv_mutex_unlock(&q->lock);
				return -ETIMEDOUT;
			}
			uv_cond_timedwait(&q->cond, &q->lock, deadline - now);
		}
		q->waiters--;
	}
	if (q->count == 0) {
		uv_mutex_unlock(&q->lock);
		return SIPCX_ECLOSED;
	}
	unsigned slot = q->head;
	size_t len = q->len[slot];
	if (len > size) {
		uv_mutex_unlock(&q->lock);
		return -EMSGSIZE;
	}
	if (len)
		memcpy(buf, q->data + (size_t)slot * q->max_len, len);
	if (kind)
		*kind = q->kind[slot];
	q->head = (q->head + 1) % q->cap;
	q->count--;
	uv_cond_signal(&q->space);
	uv_mutex_unlock(&q->lock);
	return (int)len;
}

void sipcx_media_queue_close(struct sipcx_media_queue *q)
{
	if (!q)
		return;
	uv_mutex_lock(&q->lock);
	q->closed = true;
	uv_cond_broadcast(&q->cond);
	uv_cond_broadcast(&q->space);
	uv_mutex_unlock(&q->lock);
}

uint64_t sipcx_media_queue_dropped(struct sipcx_media_queue *q)
{
	if (!q)
		return 0;
	uv_mutex_lock(&q->lock);
	uint64_t d = q->dropped;
	uv_mutex_unlock(&q->lock);
	return d;
}

unsigned sipcx__media_queue_waiters(struct sipcx_media_queue *q)
{
	uv_mutex_lock(&q->lock);
	unsigned n = q->waiters;
	uv_mutex_unlock(&q->lock);
	return n;
}
