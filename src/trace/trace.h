/* trace: private hook used by the transports to report each message on the wire. */
#ifndef SIPCX__TRACE_H
#define SIPCX__TRACE_H

#include <sipcx/trace.h>

extern sipcx_trace_cb *sipcx__trace_cb;
extern unsigned sipcx__trace_kinds;

void sipcx__trace_emit(enum sipcx_trace_kind kind, enum sipcx_trace_dir dir, const char *transport,
                       const struct sockaddr *src, const struct sockaddr *dst, const char *data,
                       size_t len);

/* One branch when tracing is off: no clock read, no formatting. */
#define SIPCX_TRACE(dir, tp, src, dst, data, len)                                             \
	do {                                                                                  \
		if (sipcx__trace_cb)                                                          \
			sipcx__trace_emit(SIPCX_TRACE_SIP, (dir), (tp), (src), (dst), (data), \
			                  (len));                                             \
	} while (0)

/* The media sessions' packets: one test of a word when their kind is not traced. */
#define SIPCX_TRACE_MEDIA(kind, dir, src, dst, data, len)                                     \
	do {                                                                                  \
		if (sipcx__trace_cb && (sipcx__trace_kinds & (unsigned)(kind)))               \
			sipcx__trace_emit((kind), (dir), "UDP", (src), (dst), (data), (len)); \
	} while (0)

#endif
