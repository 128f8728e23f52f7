/* sipcx embedding: the constructors for programs that run their own libuv loop instead of a sipcx_ua's thread. */
#ifndef SIPCX_EMBED_H
#define SIPCX_EMBED_H

#include <sipcx/base.h>
#include <sipcx/media.h>
#include <sipcx/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Most programs never need this header: a struct sipcx_ua runs its own loop
 * thread, and sipcx_media_new() puts a media session on it. A program that
 * already has a libuv loop (its own event-driven server, a test harness)
 * can run the transports and media sessions on that loop instead. Then
 * every function on those objects is called on the loop's thread, and the
 * loop must run (uv_run) for the close callbacks to release their memory.
 */
struct uv_loop_s;

/**
 * sipcx_media_new() on the caller's loop: the same options, errors and
 * session, but no engine behind it. Every function of the session is then
 * the loop thread's, except those its documentation marks "Any thread"
 * (the thread-safe I/O, port and ssrc). Returns as sipcx_media_new(), and
 * -EINVAL for a NULL loop.
 */
SIPCX_API int sipcx_media_new_loop(struct sipcx_media **out, struct uv_loop_s *loop,
                                   const struct sipcx_media_opts *opts);

/**
 * Create a transport set on loop (what a struct sipcx_ua makes for
 * itself). opts is copied. Returns 0, -EINVAL (no recv callback), -ENOMEM;
 * *out untouched on failure.
 */
SIPCX_API int sipcx_transport_new(struct sipcx_transport **out, struct uv_loop_s *loop,
                                  const struct sipcx_transport_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
