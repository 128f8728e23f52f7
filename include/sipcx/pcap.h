/* sipcx pcap: write traced packets to a classic pcap file that Wireshark opens, and read SIP, RTP and RTCP back out of a capture. */
#ifndef SIPCX_PCAP_H
#define SIPCX_PCAP_H

#include <sipcx/base.h>
#include <sipcx/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A pcap file being written (opaque). */
struct sipcx_pcap;

/**
 * Create or truncate path and write a classic pcap file header
 * (LINKTYPE_ETHERNET, microsecond timestamps, snaplen 65535). On success
 * *out owns the open file until sipcx_pcap_close(); on failure *out is
 * untouched. Returns 0, -EINVAL (NULL argument), -ENOMEM or -errno of
 * fopen()/fwrite().
 */
SIPCX_API int sipcx_pcap_open(const char *path, struct sipcx_pcap **out);

/**
 * Append ev as one Ethernet frame: locally administered MACs made from the
 * IP addresses, an IPv4 or IPv6 header, then UDP, or TCP when ev->transport
 * is "TCP". Every checksum is computed. A TCP 4-tuple seen for the first
 * time is opened with a synthetic SYN, SYN-ACK and ACK (the first sender is
 * taken as the client); then each segment carries PSH|ACK, a sequence number
 * that advances by the payload length and the reverse direction's next
 * sequence number as its ACK, so Wireshark reassembles SIP over TCP. Up to
 * 256 flows are tracked; the least recently used is forgotten (and opened
 * again when seen). Payloads longer than 65535 bytes minus the headers are
 * truncated (record caplen < len). Thread-safe: hooks run on any UA loop
 * thread; no allocation per packet.
 * Returns 0, -EINVAL (NULL, no data, or src and dst not of one IP family;
 * nothing is written) or the sticky -errno of the file once a write failed.
 */
SIPCX_API int sipcx_pcap_write(struct sipcx_pcap *p, const struct sipcx_trace_event *ev);

/** Trace hook adapter for sipcx_trace_set(): arg is the struct sipcx_pcap *. */
SIPCX_API void sipcx_pcap_trace(const struct sipcx_trace_event *ev, void *arg);

/**
 * Flush, close and free p. Returns the first error seen (a failed write,
 * flush or close), 0 when everything reached the file. NULL is a no-op
 * returning 0.
 */
SIPCX_API int sipcx_pcap_close(struct sipcx_pcap *p);

/**
 * Read a capture held in memory: classic pcap in either byte order, with
 * microsecond or nanosecond timestamps, link types Ethernet (with at most
 * one 802.1Q tag), Linux cooked SLL and SLL2, raw IP (101, 228, 229) and
 * BSD null/loopback (0, 108); IPv4 (fragments skipped) and IPv6 (hop-by-hop,
 * routing and destination options headers skipped; a fragment header skips
 * the packet); UDP and TCP.
 *
 * For each payload cb is called with an event of kind SIP when the payload
 * starts like a SIP request or status line, else RTCP when
 * sipcx_rtp_is_rtcp() holds and the compound validates, else RTP when
 * sipcx_rtp_parse() accepts it; anything else is skipped. Events carry
 * dir SIPCX_TRACE_RECV, transport "UDP" or "TCP", the packet's addresses and
 * time_us from the record. A TCP segment is split into the complete SIP
 * messages it holds (by Content-Length); an incomplete tail is skipped:
 * there is no reassembly across segments.
 *
 * data is never written and never read out of bounds; the event's pointers
 * are valid during the callback only. Returns the number of events
 * delivered, or -EINVAL when data is not a pcap, a record is malformed
 * (caplen over 256 KiB) or an argument is NULL. A truncated last record
 * ends the read.
 */
SIPCX_API int sipcx_pcap_parse(const void *data, size_t len, sipcx_trace_cb *cb, void *arg);

/**
 * sipcx_pcap_parse() on the whole file at path. Returns the same, -EFBIG
 * for a file over 1 GiB, -ENOMEM, or -errno of opening or reading it.
 */
SIPCX_API int sipcx_pcap_read(const char *path, sipcx_trace_cb *cb, void *arg);

#ifdef __cplusplus
}
#endif
#endif
