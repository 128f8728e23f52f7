/* sdp: private helpers shared by the SDP parser, printer and offer/answer (RFC 4566, RFC 3264). */
#ifndef SIPCX__SDP_H
#define SIPCX__SDP_H

#include <sipcx/sdp.h>

#include "base/base.h"

/** Static payload types of RFC 3551 tables 4 and 5 (name NULL when unassigned). */
struct sipcx__sdp_static {
	const char *name;
	uint32_t clock;
	unsigned channels;
};
const struct sipcx__sdp_static *sipcx__sdp_static_pt(int pt);

/**
 * Classify an address of a c= line or a=rtcp for addrtype "IP4"/"IP6":
 * fills family, is_ip and is_null. Returns 0, or -EBADMSG for a malformed
 * literal (a dotted quad out of range, a bad IPv6, IPv6 under IP4, a host
 * name with characters outside RFC 4566's FQDN set).
 */
int sipcx__sdp_classify_addr(struct sipcx_sdp_conn *c);

/** True when s is an IPv4 or IPv6 literal; *family gets 4 or 6. */
bool sipcx__sdp_ip_literal(struct sipcx_str s, uint8_t *family, bool *is_null);

/** Parse a decimal number 0..max filling s. */
bool sipcx__sdp_num(struct sipcx_str s, uint64_t max, uint64_t *out);

#endif
