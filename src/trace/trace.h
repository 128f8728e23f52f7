/* trace: private hook used by the transports to report each message on the wire. */
#ifndef SIPCX__TRACE_H
#define SIPCX__TRACE_H

#include <sipcx/trace.h>

extern sipcx_trace_cb *sipcx__trace_cb;

void sipcx__trace_emit(enum sipcx_trace_dir dir, const char *transport, const struct sockaddr *src,
                       const struct sockaddr *dst, const char *data, size_t len);

/* One branch when tracing is off: no clock read, no formatting. */
#define SIPCX_TRACE(dir, tp, src, dst, data, len)                                    \
	do {                                                                         \
		if (sipcx__trace_cb)                                                 \
			sipcx__trace_emit((dir), (tp), (src), (dst), (data), (len)); \
	} while (0)

#endif
