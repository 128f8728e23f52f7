/* sipcx HEP: traced SIP sent to a Homer (HEP3/EEP v3) capture server over UDP. */
#ifndef SIPCX_HEP_H
#define SIPCX_HEP_H

#include <sipcx/base.h>
#include <sipcx/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Append ev to b as one HEP3 packet: the "HEP3" magic, the total length,
 * then chunks of vendor 0: 1 IP family, 2 IP protocol (17 or 6), 3/4 IPv4
 * or 5/6 IPv6 source and destination, 7/8 ports, 9/10 time (seconds and
 * microseconds), 11 protocol type (1 SIP, 4 RTP, 5 RTCP, the payload as it
 * was on the wire), 12 capture agent id, 14 auth key when password is not
 * NULL, 15 the payload, 17 the correlation id.
 *
 * correlation_id NULL means the Call-ID of a SIP payload ("Call-ID:" or
 * "i:"), and no chunk 17 when it has none (or the event is not SIP).
 * Returns 0, -EINVAL (NULL argument, src and dst not of one IP family, or
 * a packet that would not fit HEP3's 16-bit length) or -ENOMEM (b's sticky
 * error). On error b may hold a partial packet past its old length.
 */
SIPCX_API int sipcx_hep_encode(struct sipcx_buf *b, const struct sipcx_trace_event *ev,
                               uint32_t capture_id, const char *password,
                               const char *correlation_id);

/** A HEP sender: a UDP socket connected to a collector (opaque). */
struct sipcx_hep;

/**
 * Open a sender from spec "udp:HOST:PORT[;id=N][;password=P]": HOST is an
 * IPv4 literal, an [IPv6] literal or a name resolved once with
 * getaddrinfo() on the calling thread; PORT 1-65535; id the 32-bit capture
 * agent id (default 0); password the HEP auth key (chunk 14). The socket is
 * non-blocking and connected. On failure *out is untouched.
 * Returns 0, -EINVAL (spec does not parse exactly), SIPCX_ERESOLVE (the
 * name does not resolve), -ENOMEM or -errno of socket()/connect().
 */
SIPCX_API int sipcx_hep_open(const char *spec, struct sipcx_hep **out);

/**
 * Trace hook adapter for sipcx_trace_set(): arg is the struct sipcx_hep *.
 * SIP events are encoded and sent in one datagram each; RTP and RTCP events
 * are ignored. A send that fails (including a full socket buffer) is
 * counted, never retried, never logged. Never blocks; thread-safe.
 */
SIPCX_API void sipcx_hep_trace(const struct sipcx_trace_event *ev, void *arg);

/** Datagrams sent and failed so far (either pointer may be NULL). */
SIPCX_API void sipcx_hep_counts(const struct sipcx_hep *h, uint64_t *sent, uint64_t *failed);

/** Close the socket and free h. NULL is a no-op. */
SIPCX_API void sipcx_hep_close(struct sipcx_hep *h);

#ifdef __cplusplus
}
#endif
#endif
