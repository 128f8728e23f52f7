/* sipcx wire trace: a hook that sees every SIP message (and, when asked, every RTP/RTCP packet) sent or received, and a readable formatter. */
#ifndef SIPCX_TRACE_H
#define SIPCX_TRACE_H

#include <stdio.h>
#include <sys/socket.h>

#include <sipcx/base.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sipcx_trace_dir {
	SIPCX_TRACE_RECV = 0, /**< a message came in */
	SIPCX_TRACE_SEND = 1, /**< a message went out (handed to the kernel) */
};

/** What a traced packet carries; also the bits of sipcx_trace_set_kinds(). */
enum sipcx_trace_kind {
	SIPCX_TRACE_SIP = 1,  /**< a SIP message (every transport) */
	SIPCX_TRACE_RTP = 2,  /**< an RTP packet of a media session */
	SIPCX_TRACE_RTCP = 4, /**< an RTCP packet (or compound) of a media session */
};

/**
 * One message on the wire. Every pointer is valid during the callback
 * only. For a stream (TCP) a received event is one framed message, not one
 * read; keep-alive CRLFs are not traced.
 */
struct sipcx_trace_event {
	enum sipcx_trace_dir dir;
	const char *transport;      /**< "UDP", "TCP" */
	const struct sockaddr *src; /**< sender (our socket for SEND); never NULL */
	const struct sockaddr *dst; /**< receiver (our socket for RECV); never NULL */
	uint64_t time_us;           /**< wall clock, microseconds since the Unix epoch */
	const char *data;           /**< the message bytes, not NUL-terminated */
	size_t len;
	enum sipcx_trace_kind kind; /**< SIP, RTP or RTCP */
};

typedef void sipcx_trace_cb(const struct sipcx_trace_event *ev, void *arg);

/**
 * Set the process-wide trace hook (NULL disables it). The callback runs on
 * the thread that does the I/O (a UA's loop thread) and must not block.
 * Not synchronised: set it before starting UAs, or while none runs.
 */
SIPCX_API void sipcx_trace_set(sipcx_trace_cb *cb, void *arg);

/**
 * Choose what the hook sees: an OR of enum sipcx_trace_kind bits (default
 * SIPCX_TRACE_SIP; 0 is taken as the default). RTP and RTCP are traced as
 * they leave or arrive on a media session's sockets, malformed packets
 * included. Same threading rule as sipcx_trace_set().
 */
SIPCX_API void sipcx_trace_set_kinds(unsigned kinds);

/**
 * Append a readable block for ev to b, in the spirit of pjsua's level-4
 * log and sipgo's SIP_DEBUG:
 *
 *     --- 10:12:13.123456 SEND 455 bytes UDP 127.0.0.1:5060 -> 127.0.0.1:5080
 *     OPTIONS sip:127.0.0.1:5080 SIP/2.0
 *     ...
 *     --- end
 *
 * Line ends are printed as LF; a body that is not text is summarised. An
 * RTP or RTCP event is one line: "--- TIME SEND RTP 172 bytes UDP a -> b"
 * followed by the packet's summary (pt, seq, ts, ssrc, or the RTCP types).
 * Returns 0, -EINVAL (NULL argument) or -ENOMEM (b's sticky error).
 */
SIPCX_API int sipcx_trace_format(struct sipcx_buf *b, const struct sipcx_trace_event *ev);

/**
 * A ready-made hook: formats ev with sipcx_trace_format() and writes it in
 * one fwrite() to arg (a FILE *), or to stderr when arg is NULL.
 */
SIPCX_API void sipcx_trace_file(const struct sipcx_trace_event *ev, void *arg);

#ifdef __cplusplus
}
#endif
#endif
