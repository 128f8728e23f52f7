/* phone: cancellation contexts: a deadline and an async-signal-safe cancel flag with an eventfd (Go's context). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sipcx/phone.h>

#include "phone/phone.h"

/* Ancestors looked at by a wait; deeper ones still count through sipcx_ctx_err(). */
#define CTX_POLL_DEPTH 15

struct sipcx_ctx {
	struct sipcx_ctx *parent;
	uint64_t deadline_us; /* UINT64_MAX: none of its own */
	int fd;
	int cancelled; /* atomic */
};

int sipcx_ctx_new(struct sipcx_ctx **out, struct sipcx_ctx *parent, uint64_t timeout_ms)
{
	if (!out)
		return -EINVAL;
	struct sipcx_ctx *c = sipcx_calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->fd < 0) {
		int e = -errno;
		sipcx_free(c);
		return e;
	}
	c->parent = parent;
	c->deadline_us = timeout_ms ? sipcx_now_us() + timeout_ms * 1000u : UINT64_MAX;
	*out = c;
	return 0;
}

struct sipcx_ctx *sipcx_ctx_timeout(struct sipcx_ctx *parent, uint64_t timeout_ms)
{
	struct sipcx_ctx *c = NULL;
	return sipcx_ctx_new(&c, parent, timeout_ms) == 0 ? c : NULL;
}

void sipcx_ctx_cancel(struct sipcx_ctx *ctx)
{
	if (!ctx)
		return;
	__atomic_store_n(&ctx->cancelled, 1, __ATOMIC_SEQ_CST);
	uint64_t one = 1;
	/* The counter stays non-zero (nobody reads it): the fd stays readable. */
	ssize_t w = write(ctx->fd, &one, sizeof(one));
	(void)w;
}

uint64_t sipcx_ctx_deadline_us(const struct sipcx_ctx *ctx)
{
	uint64_t d = UINT64_MAX;
	for (; ctx; ctx = ctx->parent)
		if (ctx->deadline_us < d)
			d = ctx->deadline_us;
	return d;
}

int sipcx_ctx_err(const struct sipcx_ctx *ctx)
{
	for (const struct sipcx_ctx *c = ctx; c; c = c->parent)
		if (__atomic_load_n(&c->cancelled, __ATOMIC_SEQ_CST))
			return -ECANCELED;
	uint64_t d = sipcx_ctx_deadline_us(ctx);
	if (d != UINT64_MAX && sipcx_now_us() >= d)
		return -ETIMEDOUT;
	return 0;
}

int sipcx_ctx_fd(const struct sipcx_ctx *ctx)
{
	return ctx ? ctx->fd : -1;
}

void sipcx_ctx_free(struct sipcx_ctx *ctx)
{
	if (!ctx)
		return;
	close(ctx->fd);
	sipcx_free(ctx);
}

int sipcx__ctx_wait_fd(struct sipcx_ctx *ctx, int fd)
{
	for (;;) {
		int e = sipcx_ctx_err(ctx);
		if (e)
			return e;
		struct pollfd p[CTX_POLL_DEPTH + 1];
		nfds_t n = 0;
		if (fd >= 0)
			p[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		for (struct sipcx_ctx *c = ctx; c && n < CTX_POLL_DEPTH + 1; c = c->parent)
			p[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
		uint64_t d = sipcx_ctx_deadline_us(ctx);
		int timeout = -1;
		if (d != UINT64_MAX) {
			uint64_t now = sipcx_now_us();
			uint64_t ms = d > now ? (d - now + 999u) / 1000u : 0;
			timeout = ms > INT32_MAX ? INT32_MAX : (int)ms;
		} else if (ctx && ctx->parent && n == CTX_POLL_DEPTH + 1) {
			timeout = 1000; /* ancestors not polled: look again now and then */
		}
		int r = poll(p, n, timeout);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && fd >= 0 && (p[0].revents & (POLLIN | POLLERR | POLLHUP)))
			return 0;
	}
}

int sipcx_ctx_wait(struct sipcx_ctx *ctx)
{
	if (!ctx)
		return -EINVAL;
	return sipcx__ctx_wait_fd(ctx, -1);
}
