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
/* The next run of non-space bytes of rest into tok (spaces and tabs between); false at the end. */
bool sipcx__sdp_next_tok(struct sipcx_str *rest, struct sipcx_str *tok);

/*
 * SRTP keys in offer/answer (crypto.c, RFC 4568 7): what negotiate.c asks of
 * the a=crypto lines. A pick is the peer's line taken and our key for its
 * suite (ours NULL: plain RTP).
 */
struct sipcx__sdp_srtp_pick {
	struct sipcx_sdp_crypto peer;
	const struct sipcx_sdp_crypto *ours;
};
/* The srtp fields of a local config are sound: 0 or -EINVAL. */
int sipcx__sdp_srtp_check(const struct sipcx_sdp_local *l);
/* The transport of our offer: RTP/SAVP when SRTP is mandatory, else RTP/AVP. */
const char *sipcx__sdp_srtp_proto(const struct sipcx_sdp_local *l);
/* Our keys as a=crypto lines (none when off or without keys). */
void sipcx__sdp_srtp_offer_lines(struct sipcx_buf *b, const struct sipcx_sdp_local *l);
/* Answering: may offered media m be taken under our mode (RTP/AVP or RTP/SAVP), with pick. */
bool sipcx__sdp_srtp_accept(const struct sipcx_sdp_local *l, const struct sipcx_sdp_media *m,
                            struct sipcx__sdp_srtp_pick *pick);
/* The a=crypto line of our answer for pick (nothing for plain RTP). */
void sipcx__sdp_srtp_answer_line(struct sipcx_buf *b, const struct sipcx__sdp_srtp_pick *pick);
/* Reading an answer to our offer: the key it took; SIPCX_ENOCODEC when we cannot go on. */
int sipcx__sdp_srtp_process(const struct sipcx_sdp_local *l, const struct sipcx_sdp_media *m,
                            struct sipcx__sdp_srtp_pick *pick);
/* The pick into a result (after everything else of it is filled). */
void sipcx__sdp_srtp_result(const struct sipcx__sdp_srtp_pick *pick, struct sipcx_sdp_result *res);

#endif
