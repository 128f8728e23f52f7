/* sipcx ladder: the messages of a run (from the wire trace or a capture) drawn as an ASCII ladder or a Mermaid sequence diagram. */
#ifndef SIPCX_LADDER_H
#define SIPCX_LADDER_H

#include <stddef.h>

#include <sipcx/base.h>
#include <sipcx/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A recorder of trace events. Each SIP message becomes one arrow between
 * two columns (one column per address, in the order they first appear)
 * labelled with its method or status ("INVITE (SDP)", "180 Ringing");
 * each RTP or RTCP stream (one direction between two addresses) becomes one
 * arrow at its first packet with a running count ("RTP x250 (pt 0)").
 * When the same process both sends and receives a message (a call to
 * itself), the received copy is not drawn twice. At most
 * SIPCX_LADDER_MAX_ROWS arrows and SIPCX_LADDER_MAX_COLS columns are kept;
 * what does not fit is counted and said at the end. Thread-safe.
 */
struct sipcx_ladder;

#define SIPCX_LADDER_MAX_ROWS 10000
#define SIPCX_LADDER_MAX_COLS 12

/** 0, -EINVAL or -ENOMEM. */
SIPCX_API int sipcx_ladder_new(struct sipcx_ladder **out);

/** Record one event (SIP, RTP or RTCP; anything else is ignored). */
SIPCX_API void sipcx_ladder_add(struct sipcx_ladder *l, const struct sipcx_trace_event *ev);

/** The trace hook adapter: arg is the struct sipcx_ladder *. */
SIPCX_API void sipcx_ladder_trace(const struct sipcx_trace_event *ev, void *arg);

/** Arrows recorded so far. */
SIPCX_API size_t sipcx_ladder_rows(struct sipcx_ladder *l);

/**
 * Append the ASCII ladder to b: a header line with the addresses, then one
 * line per arrow with its time relative to the first message:
 *
 *                 127.0.0.1:5070        127.0.0.1:5080
 *     0.000000          |------INVITE (SDP)--->|
 *     0.000312          |<----100 Trying-------|
 *
 * Returns 0, -EINVAL or -ENOMEM (b's sticky error).
 */
SIPCX_API int sipcx_ladder_ascii(struct sipcx_ladder *l, struct sipcx_buf *b);

/**
 * Append a Mermaid sequenceDiagram: one participant per address, requests
 * as solid arrows, responses and media as dashed ones, in time order.
 */
SIPCX_API int sipcx_ladder_mermaid(struct sipcx_ladder *l, struct sipcx_buf *b);

SIPCX_API void sipcx_ladder_free(struct sipcx_ladder *l);

#ifdef __cplusplus
}
#endif
#endif
