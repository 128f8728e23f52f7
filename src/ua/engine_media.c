/* ua: media sessions on the engine's loop thread, so a call keeps its dialog, SDP and media on one thread. */
#include <errno.h>

#include <sipcx/media.h>

#include "media/media.h"
#include "ua/ua.h"

/*
 * What the UA keeps for each of its sessions: the closer that frees the
 * session when the UA shuts down, and the way back to the UA's loop for
 * the session's calls from other threads.
 */
struct ua_media {
	struct sipcx_ua *ua;
	struct ua_closer closer;
	struct sipcx_media *m;
};

static bool um_on_loop(void *ctx)
{
	return sipcx__ua_on_loop(((struct ua_media *)ctx)->ua);
}

static int um_call(void *ctx, void (*fn)(void *), void *arg)
{
	return sipcx_ua_call(((struct ua_media *)ctx)->ua, fn, arg);
}

/* Loop thread, from sipcx_media_free(): the session is gone. */
static void um_freed(void *ctx)
{
	struct ua_media *um = ctx;
	sipcx__ua_closer_del(&um->closer);
	sipcx_free(um);
}

/* The UA shuts down with the session still open: it closes with the loop. */
static void um_close(void *arg)
{
	sipcx_media_free(((struct ua_media *)arg)->m);
}

struct new_args {
	struct sipcx_ua *ua;
	const struct sipcx_media_opts *opts;
	struct sipcx_media *m;
	int r;
};

static void new_on_loop(void *arg)
{
	struct new_args *a = arg;
	if (a->ua->closed) {
		a->r = SIPCX_ECLOSED;
		return;
	}
	struct ua_media *um = sipcx_calloc(1, sizeof(*um));
	if (!um) {
		a->r = -ENOMEM;
		return;
	}
	um->ua = a->ua;
	struct sipcx__media_owner owner = {
		.on_loop = um_on_loop,
		.call = um_call,
		.freed = um_freed,
		.ctx = um,
	};
	a->r = sipcx__media_new(&um->m, &a->ua->loop, a->opts, &owner);
	if (a->r) {
		sipcx_free(um);
		return;
	}
	um->closer = (struct ua_closer){ .close = um_close, .arg = um };
	sipcx__ua_closer_add(a->ua, &um->closer);
	a->m = um->m;
}

int sipcx_media_new(struct sipcx_media **out, struct sipcx_ua *ua,
                    const struct sipcx_media_opts *opts)
{
	if (!out || !ua)
		return -EINVAL;
	struct new_args a = { .ua = ua, .opts = opts };
	int r = sipcx_ua_call(ua, new_on_loop, &a);
	if (r == 0)
		r = a.r;
	if (r == 0)
		*out = a.m;
	return r;
}
