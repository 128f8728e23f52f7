/* sipcx rtp: RTP/RTCP packets (RFC 3550 5-6), reception statistics (RFC 3550 A), RFC 4733 events. */
#ifndef SIPCX_RTP_H
#define SIPCX_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sipcx/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Everything here is pure: bytes and times in, bytes and numbers out. No
 * function allocates, does I/O or keeps global state, so a media session can
 * call them per datagram on its loop thread. Parsed structs point into the
 * caller's datagram: they are valid while those bytes are.
 *
 * Times: "now_us" is a monotonic clock in microseconds (sipcx_now_us());
 * "wall_us" is the wall clock in microseconds since 1970 (CLOCK_REALTIME),
 * used only where RFC 3550 wants an NTP timestamp.
 */

/* ---------------------------------------------------------------- RTP -- */

#define SIPCX_RTP_VERSION 2
#define SIPCX_RTP_HDR_MIN 12 /**< fixed header, no CSRC, no extension */
#define SIPCX_RTP_MAX_CSRC 15

/**
 * One RTP packet (RFC 3550 5.1): the parser's output and the builder's input.
 * Slices (ext, payload) point into the parsed datagram.
 */
struct sipcx_rtp_pkt {
	bool marker;
	uint8_t pt; /**< payload type, 0..127 */
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t cc; /**< number of CSRCs in csrc[] */
	uint32_t csrc[SIPCX_RTP_MAX_CSRC];
	bool ext;             /**< X bit: a header extension follows the CSRCs (5.3.1) */
	uint16_t ext_profile; /**< the extension's "defined by profile" word */
	const uint8_t *ext_data;
	size_t ext_len; /**< extension data in bytes, a multiple of 4 */
	const uint8_t *payload;
	size_t payload_len; /**< without padding */
	uint8_t pad_len;    /**< padding bytes including the count byte; 0 = P bit clear */
};

/**
 * Parse one RTP datagram of len bytes. The whole struct is overwritten;
 * slices point into data, which is never written.
 * Checks: version 2, the CSRC list, the header extension and its length
 * word, and the padding count (at least 1, at most the bytes after the
 * header; a padding-only packet is accepted, as senders probe with them).
 * Returns 0, -EINVAL when pkt or data is NULL, -EBADMSG for a malformed packet.
 */
SIPCX_API int sipcx_rtp_parse(struct sipcx_rtp_pkt *pkt, const void *data, size_t len);

/** Bytes the header of pkt takes: 12 + 4*cc (+ 4 + ext_len when pkt->ext). */
SIPCX_API size_t sipcx_rtp_hdr_size(const struct sipcx_rtp_pkt *pkt);

/**
 * Write pkt into buf: header, CSRCs, extension, then payload_len bytes from
 * pkt->payload (which may already sit at buf + sipcx_rtp_hdr_size(pkt), for
 * encoding in place; NULL writes nothing there), then pad_len bytes of
 * padding (zeros ending with the count) with the P bit set.
 * Returns the packet length, -EINVAL for a bad field (pt > 127, cc > 15,
 * ext_len not a multiple of 4 or over 262140, NULL pointers), -ENOSPC when
 * size is too small (buf is then unspecified).
 */
SIPCX_API int sipcx_rtp_build(const struct sipcx_rtp_pkt *pkt, void *buf, size_t size);

/**
 * RFC 5761 4: whether a datagram on a muxed RTP/RTCP port is RTCP (second
 * byte 192..223, i.e. RTCP packet types 192..223). False for short input.
 */
SIPCX_API bool sipcx_rtp_is_rtcp(const void *data, size_t len);

/**
 * One line for RTP_DEBUG logs: "RTP pt=0 seq=7 ts=160 ssrc=0x1234abcd M len=160".
 * Writes at most size bytes with a NUL (snprintf rules); returns the length
 * the full line needs.
 */
SIPCX_API int sipcx_rtp_snprint(char *buf, size_t size, const struct sipcx_rtp_pkt *pkt);

/* --------------------------------------------------------------- RTCP -- */

enum sipcx_rtcp_type {
	SIPCX_RTCP_SR = 200,
	SIPCX_RTCP_RR = 201,
	SIPCX_RTCP_SDES = 202,
	SIPCX_RTCP_BYE = 203,
	SIPCX_RTCP_APP = 204,
};

/** SDES item types (RFC 3550 6.5). */
enum sipcx_sdes_type {
	SIPCX_SDES_END = 0,
	SIPCX_SDES_CNAME = 1,
	SIPCX_SDES_NAME = 2,
	SIPCX_SDES_EMAIL = 3,
	SIPCX_SDES_PHONE = 4,
	SIPCX_SDES_LOC = 5,
	SIPCX_SDES_TOOL = 6,
	SIPCX_SDES_NOTE = 7,
	SIPCX_SDES_PRIV = 8,
};

#define SIPCX_RTCP_MAX_COUNT 31 /**< a 5-bit count field */

/** One packet of a compound RTCP packet, any type (unknown types are kept). */
struct sipcx_rtcp_pkt {
	uint8_t pt;      /**< packet type, e.g. SIPCX_RTCP_SR */
	uint8_t count;   /**< the 5-bit RC / SC / subtype field */
	uint8_t pad_len; /**< padding bytes including the count byte; 0 = P clear */
	const uint8_t *data;
	size_t len; /**< the whole packet: 4 * (length + 1) */
	const uint8_t *body;
	size_t body_len; /**< after the 4-byte header, without padding */
};

/** Iterator over a compound packet; fields are private. */
struct sipcx_rtcp_iter {
	const uint8_t *p;
	size_t len;
	size_t off;
	unsigned idx;
	unsigned flags;
};

/**
 * RFC 3550 6.1 / A.2 validity checks on top of the length checks: the first
 * packet is an SR or RR without padding, and only the last packet may be
 * padded. Leave it off to accept reduced-size RTCP (RFC 5506).
 */
#define SIPCX_RTCP_STRICT 0x1u

/** Start iterating over len bytes at data (borrowed, never written). */
SIPCX_API void sipcx_rtcp_iter_init(struct sipcx_rtcp_iter *it, const void *data, size_t len,
                                    unsigned flags);

/**
 * Next packet of the compound. Every packet must be version 2 and its
 * length word must fit what is left; the lengths must add up to the whole
 * datagram; a padding count must be at least 1 and fit the packet.
 * Returns 1 with *pkt filled, 0 after the last packet, -EBADMSG on the
 * first malformed packet (and on every call after it).
 */
SIPCX_API int sipcx_rtcp_iter_next(struct sipcx_rtcp_iter *it, struct sipcx_rtcp_pkt *pkt);

/**
 * Walk a whole compound packet (headers only, as the iterator does).
 * Returns the number of packets (>= 1), -EBADMSG when malformed or empty.
 */
SIPCX_API int sipcx_rtcp_validate(const void *data, size_t len, unsigned flags);

/** A reception report block (RFC 3550 6.4.1). */
struct sipcx_rtcp_rb {
	uint32_t ssrc;    /**< the source this block is about */
	uint8_t fraction; /**< fraction lost since the last report, /256 */
	int32_t lost;     /**< cumulative lost, signed 24 bits */
	uint32_t ext_seq; /**< extended highest sequence number received */
	uint32_t jitter;  /**< interarrival jitter, timestamp units */
	uint32_t lsr;     /**< middle 32 bits of the last SR's NTP time, 0 = none */
	uint32_t dlsr;    /**< delay since that SR, 1/65536 s */
};

/** The sender info of an SR (RFC 3550 6.4.1). */
struct sipcx_rtcp_sender_info {
	uint64_t ntp; /**< 32.32 fixed point seconds since 1900 */
	uint32_t rtp_ts;
	uint32_t packets;
	uint32_t octets;
};

/** An SR or RR. */
struct sipcx_rtcp_report {
	uint32_t ssrc; /**< the reporter */
	bool is_sr;
	struct sipcx_rtcp_sender_info si; /**< SR only, zero for an RR */
	uint8_t rc;
	struct sipcx_rtcp_rb rb[SIPCX_RTCP_MAX_COUNT];
	const uint8_t *ext; /**< profile-specific extension after the blocks */
	size_t ext_len;
};

/**
 * Parse an SR or RR packet from the iterator. Returns 0, -EINVAL when pkt is
 * another type, -EBADMSG when the blocks do not fit the packet length.
 */
SIPCX_API int sipcx_rtcp_report_parse(const struct sipcx_rtcp_pkt *pkt,
                                      struct sipcx_rtcp_report *r);

/** One SDES item; text points into the packet. */
struct sipcx_rtcp_sdes_item {
	uint32_t ssrc;         /**< the chunk's SSRC/CSRC */
	uint8_t type;          /**< enum sipcx_sdes_type or another value */
	struct sipcx_str text; /**< at most 255 bytes, not NUL-terminated */
};

/** A validated SDES packet being walked; fields are private. */
struct sipcx_rtcp_sdes {
	const uint8_t *p;
	size_t len;
	size_t off;
	uint8_t sc;
	uint8_t chunk;
	bool in_chunk;
	uint32_t ssrc;
};

/**
 * Validate an SDES packet (RFC 3550 6.5): SC chunks, each an SSRC then items
 * that fit, ended by a null item and padded to 32 bits, nothing after.
 * Returns 0 and prepares sdes for sipcx_rtcp_sdes_next(), -EINVAL for another
 * packet type, -EBADMSG when malformed.
 */
SIPCX_API int sipcx_rtcp_sdes_parse(const struct sipcx_rtcp_pkt *pkt, struct sipcx_rtcp_sdes *sdes);

/** Next item of the SDES packet: 1 with *item filled, 0 after the last. */
SIPCX_API int sipcx_rtcp_sdes_next(struct sipcx_rtcp_sdes *sdes, struct sipcx_rtcp_sdes_item *item);

/** A BYE (RFC 3550 6.6). */
struct sipcx_rtcp_bye {
	uint8_t sc;
	uint32_t ssrc[SIPCX_RTCP_MAX_COUNT];
	bool has_reason;
	struct sipcx_str reason; /**< points into the packet */
};

/** Parse a BYE. Returns 0, -EINVAL for another type, -EBADMSG when malformed. */
SIPCX_API int sipcx_rtcp_bye_parse(const struct sipcx_rtcp_pkt *pkt, struct sipcx_rtcp_bye *bye);

/** An APP packet (RFC 3550 6.7). */
struct sipcx_rtcp_app {
	uint8_t subtype;
	uint32_t ssrc;
	char name[4]; /**< four ASCII characters, not NUL-terminated */
	const uint8_t *data;
	size_t len; /**< application data, a multiple of 4 in valid packets */
};

/** Parse an APP. Returns 0, -EINVAL for another type, -EBADMSG when shorter than 8 bytes. */
SIPCX_API int sipcx_rtcp_app_parse(const struct sipcx_rtcp_pkt *pkt, struct sipcx_rtcp_app *app);

/**
 * Summary of a compound packet for RTP_DEBUG logs, one "RTCP SR ssrc=...;"
 * part per packet. snprintf rules; returns the length the full text needs.
 */
SIPCX_API int sipcx_rtcp_snprint(char *buf, size_t size, const void *data, size_t len);

/**
 * Builds a compound RTCP packet into a caller buffer. An error is sticky:
 * later writes do nothing and sipcx_rtcp_writer_finish() returns it.
 * Fields are private.
 */
struct sipcx_rtcp_writer {
	uint8_t *buf;
	size_t size;
	size_t len;
	size_t last; /**< offset of the last packet written */
	int err;
};

/** Write into buf (size bytes, borrowed until finished). */
SIPCX_API void sipcx_rtcp_writer_init(struct sipcx_rtcp_writer *w, void *buf, size_t size);

/**
 * Append an SR (si not NULL) or RR (si NULL) from ssrc with n report blocks
 * (rb may be NULL when n is 0). Returns 0, -EINVAL when n > 31, -ENOSPC.
 */
SIPCX_API int sipcx_rtcp_write_report(struct sipcx_rtcp_writer *w, uint32_t ssrc,
                                      const struct sipcx_rtcp_sender_info *si,
                                      const struct sipcx_rtcp_rb *rb, unsigned n);

/**
 * Append an SDES packet of one chunk for ssrc with n items (their ssrc field
 * is ignored), null-terminated and padded to 32 bits.
 * Returns 0, -EINVAL for an item of type 0 or longer than 255 bytes, -ENOSPC.
 */
SIPCX_API int sipcx_rtcp_write_sdes(struct sipcx_rtcp_writer *w, uint32_t ssrc,
                                    const struct sipcx_rtcp_sdes_item *items, unsigned n);

/** Append an SDES packet with only a CNAME item (RFC 3550 6.5.1). Errors as above. */
SIPCX_API int sipcx_rtcp_write_cname(struct sipcx_rtcp_writer *w, uint32_t ssrc,
                                     struct sipcx_str cname);

/**
 * Append a BYE for n sources (1..31) with an optional reason (empty slice:
 * none; at most 255 bytes). Returns 0, -EINVAL, -ENOSPC.
 */
SIPCX_API int sipcx_rtcp_write_bye(struct sipcx_rtcp_writer *w, const uint32_t *ssrc, unsigned n,
                                   struct sipcx_str reason);

/**
 * Append an APP packet; len must be a multiple of 4 and name four bytes.
 * Returns 0, -EINVAL, -ENOSPC.
 */
SIPCX_API int sipcx_rtcp_write_app(struct sipcx_rtcp_writer *w, uint8_t subtype, uint32_t ssrc,
                                   const char name[4], const void *data, size_t len);

/**
 * Finish: when align > 4 (a power of two, e.g. 16 for a block cipher),
 * pad the last packet so the compound length is a multiple of align, with
 * its P bit and length word updated (RFC 3550 6.4.1). align 0 or 4 adds
 * nothing. Returns the compound length, or the first error.
 */
SIPCX_API int sipcx_rtcp_writer_finish(struct sipcx_rtcp_writer *w, unsigned align);

/* ------------------------------------------------------------- time -- */

/** NTP timestamp (32.32 since 1900) of a wall-clock time in µs since 1970. */
SIPCX_API uint64_t sipcx_rtp_ntp_from_us(uint64_t wall_us);
/** Wall-clock µs since 1970 of an NTP timestamp (rounded down; before 1970 gives 0). */
SIPCX_API uint64_t sipcx_rtp_ntp_to_us(uint64_t ntp);
/** The middle 32 bits of an NTP timestamp (16.16), as LSR and RTT use. */
SIPCX_API uint32_t sipcx_rtp_ntp_mid(uint64_t ntp);
/** A time in µs expressed in units of a clock_rate Hz clock, modulo 2^32. */
SIPCX_API uint32_t sipcx_rtp_clock_units(uint64_t us, uint32_t clock_rate);

/* -------------------------------------------------------- statistics -- */

/** What sipcx_rtp_source_update() made of a packet (RFC 3550 A.1). */
enum sipcx_rtp_seq {
	SIPCX_RTP_SEQ_OK = 0,        /**< valid and counted (late and duplicate too) */
	SIPCX_RTP_SEQ_RESTART = 1,   /**< valid: the sender restarted, counters reset */
	SIPCX_RTP_SEQ_PROBATION = 2, /**< not yet MIN_SEQUENTIAL in a row: not counted */
	SIPCX_RTP_SEQ_BAD = 3,       /**< a jump past MAX_DROPOUT or too old: not counted */
};

/* RFC 3550 A.1 constants. */
#define SIPCX_RTP_MAX_DROPOUT 3000
#define SIPCX_RTP_MAX_MISORDER 100
#define SIPCX_RTP_MIN_SEQUENTIAL 2

/**
 * Reception state of one remote source (RFC 3550 A.1, A.3, A.8). The
 * caller owns it (no allocation); fields are readable, written only
 * through the functions below.
 */
struct sipcx_rtp_source {
	uint32_t ssrc;
	bool started; /**< a first packet has been seen */
	/* RFC 3550 A.1 */
	uint16_t max_seq;
	uint32_t cycles; /**< shifted count of sequence number wraps */
	uint32_t base_seq;
	uint32_t bad_seq;
	uint32_t probation;
	uint32_t received; /**< valid packets, late and duplicate ones included */
	uint32_t expected_prior;
	uint32_t received_prior;
	/* RFC 3550 A.8 */
	bool have_transit;
	uint32_t transit;
	uint64_t jitter_q4; /**< jitter * 16, timestamp units */
	/* beyond A.1, for people who test networks */
	uint64_t octets;     /**< payload bytes of counted packets */
	uint32_t duplicates; /**< counted packets seen before (within 64) */
	uint32_t late;       /**< counted packets older than the highest */
	uint32_t restarts;
	uint64_t window; /**< bit i: ext max - i received */
	/* last SR from this source, for LSR/DLSR */
	bool have_sr;
	uint32_t lsr;
	uint64_t lsr_us;
	struct sipcx_rtcp_sender_info last_sr;
};

/** Reset s for source ssrc; the first packet starts its probation. */
SIPCX_API void sipcx_rtp_source_init(struct sipcx_rtp_source *s, uint32_t ssrc);

/**
 * Account one received packet (RFC 3550 A.1 update_seq, A.8 jitter).
 * arrival is the arrival time in timestamp units (sipcx_rtp_clock_units(now_us,
 * rate)); octets the payload length. Jitter is updated for valid packets only.
 */
SIPCX_API enum sipcx_rtp_seq sipcx_rtp_source_update(struct sipcx_rtp_source *s, uint16_t seq,
                                                     uint32_t ts, uint32_t arrival, size_t octets);

/** Extended highest sequence number received (cycles + max_seq). */
SIPCX_API uint32_t sipcx_rtp_source_ext_max(const struct sipcx_rtp_source *s);
/** Packets expected since the base (A.3). 0 before the source is valid. */
SIPCX_API uint32_t sipcx_rtp_source_expected(const struct sipcx_rtp_source *s);
/** Cumulative packets lost (A.3), unclamped: negative with duplicates. */
SIPCX_API int64_t sipcx_rtp_source_lost(const struct sipcx_rtp_source *s);
/** Interarrival jitter in timestamp units (A.8). */
SIPCX_API uint32_t sipcx_rtp_source_jitter(const struct sipcx_rtp_source *s);

/** Remember an SR from this source that arrived at now_us (for LSR and DLSR). */
SIPCX_API void sipcx_rtp_source_sr(struct sipcx_rtp_source *s,
                                   const struct sipcx_rtcp_sender_info *si, uint64_t now_us);

/**
 * Fill a report block about s for an SR/RR sent at now_us, and start a new
 * report interval (A.3: fraction lost is for the interval). Cumulative loss
 * is clamped to the signed 24-bit field; lsr/dlsr are 0 without an SR.
 */
SIPCX_API void sipcx_rtp_source_report(struct sipcx_rtp_source *s, uint64_t now_us,
                                       struct sipcx_rtcp_rb *rb);

/** Sending state of our stream, and what the peer reports about it. */
struct sipcx_rtp_sender {
	uint32_t ssrc;
	uint32_t clock_rate;
	uint32_t packets; /**< SR sender's packet count */
	uint32_t octets;  /**< SR sender's octet count (payload only) */
	bool sent;
	uint32_t last_ts;
	uint64_t last_us;
	/* from report blocks about ssrc (RFC 3550 6.4.1) */
	uint32_t reports;
	struct sipcx_rtcp_rb remote; /**< the last block about us */
	uint32_t rtt_count;
	uint32_t rtt_us; /**< last round-trip time */
	uint32_t rtt_min_us;
	uint32_t rtt_max_us;
	uint64_t rtt_sum_us;
};

/** Reset s for our source ssrc with a clock_rate Hz timestamp clock. */
SIPCX_API void sipcx_rtp_sender_init(struct sipcx_rtp_sender *s, uint32_t ssrc,
                                     uint32_t clock_rate);
/** Account one sent packet with timestamp ts and payload_len bytes at now_us. */
SIPCX_API void sipcx_rtp_sender_sent(struct sipcx_rtp_sender *s, uint32_t ts, size_t payload_len,
                                     uint64_t now_us);
/**
 * Sender info for an SR sent now: NTP from wall_us, and the RTP timestamp of
 * the same instant extrapolated from the last packet sent (RFC 3550 6.4.1).
 */
SIPCX_API void sipcx_rtp_sender_info(const struct sipcx_rtp_sender *s, uint64_t now_us,
                                     uint64_t wall_us, struct sipcx_rtcp_sender_info *si);

/**
 * RFC 3550 6.4.1: round-trip time A - LSR - DLSR, all 16.16 seconds, from a
 * block received when the wall clock said arrival_ntp_mid.
 * Returns 0 with *rtt (16.16 seconds), -ENODATA when lsr is 0 (no SR yet),
 * -ERANGE when the result would be negative (clocks stepped).
 */
SIPCX_API int sipcx_rtcp_rtt(uint32_t arrival_ntp_mid, uint32_t lsr, uint32_t dlsr, uint32_t *rtt);

/**
 * Take a report block received at wall_us. Blocks about other sources
 * are ignored (-ENOENT). Otherwise records the peer's view (loss, jitter)
 * and, when the block echoes one of our SRs, the round-trip time.
 * Returns 0 (RTT updated), -ENODATA (no RTT in it), -ERANGE, -ENOENT.
 */
SIPCX_API int sipcx_rtp_sender_rb(struct sipcx_rtp_sender *s, const struct sipcx_rtcp_rb *rb,
                                  uint64_t wall_us);

/* ---------------------------------------------- RFC 4733 events -- */

/** DTMF event codes (RFC 4733 3.2): 0-9, then these. */
enum {
	SIPCX_EVENT_STAR = 10,
	SIPCX_EVENT_POUND = 11,
	SIPCX_EVENT_A = 12,
	SIPCX_EVENT_D = 15,
	SIPCX_EVENT_FLASH = 16,
};

/** One telephone-event payload (RFC 4733 2.3). */
struct sipcx_rtp_event {
	uint8_t event;
	bool end;          /**< E bit */
	bool reserved;     /**< R bit: senders clear it, receivers ignore it */
	uint8_t volume;    /**< power level in -dBm0, 0..63 */
	uint16_t duration; /**< timestamp units since the event began */
};

/**
 * Parse the first 4 bytes of a telephone-event payload (more bytes are
 * ignored). Returns 0, -EINVAL for NULL, -EBADMSG when shorter than 4.
 */
SIPCX_API int sipcx_rtp_event_parse(struct sipcx_rtp_event *ev, const void *payload, size_t len);

/** Write ev as 4 bytes. Returns 4, -EINVAL (NULL, volume > 63), -ENOSPC. */
SIPCX_API int sipcx_rtp_event_build(const struct sipcx_rtp_event *ev, void *buf, size_t size);

/** "0".."9", "*", "#", "A".."D", "flash" for codes 0..16; NULL otherwise. */
SIPCX_API const char *sipcx_rtp_event_name(unsigned event);

/** Event code for one of 0-9 * # A-D (a-d too) and '!' for flash; -EINVAL otherwise. */
SIPCX_API int sipcx_rtp_event_from_char(char c);

/** The other way: '0'-'9', '*', '#', 'A'-'D', '!' for codes 0..16; 0 for any other code. */
SIPCX_API char sipcx_rtp_event_char(unsigned event);

/**
 * The digit of a SIP INFO body: application/dtmf-relay ("Signal=5" and
 * "Duration=160" lines, as PBXs send them; Signal 10 and 11 read as * and #)
 * or application/dtmf (the digit alone). content_type is the header's value
 * (parameters allowed). *digit: '0'-'9', '*', '#', 'A'-'D' or '!' (flash);
 * *ms: the Duration (0 when absent; at most 100000). Returns 0, -ENOENT (no
 * digit in it: another content type, no Signal, a bad value), -EINVAL (NULL).
 */
SIPCX_API int sipcx_dtmf_info_parse(struct sipcx_str content_type, struct sipcx_str body,
                                    char *digit, unsigned *ms);

/**
 * Sends one event as RFC 4733 2.5.1 says: every step (ptime) a packet with
 * the event's start timestamp and the growing duration, the first with the
 * marker bit; the last one with the E bit, sent three times. Fields are private.
 */
struct sipcx_rtp_event_tx {
	uint8_t event;
	uint8_t volume;
	uint32_t ts;
	uint32_t duration;
	uint32_t step;
	uint32_t elapsed;
	unsigned sent;
	unsigned ends;
};

/**
 * Prepare to send event (0..255) at volume (0..63) beginning at timestamp ts,
 * lasting duration units (1..65535), one packet every step units.
 * Returns 0 or -EINVAL.
 */
SIPCX_API int sipcx_rtp_event_tx_start(struct sipcx_rtp_event_tx *tx, uint8_t event, uint8_t volume,
                                       uint32_t ts, uint32_t duration, uint32_t step);

/**
 * The next packet, to send one step after the previous one: fills *ev (the
 * payload), *marker and *ts (for the RTP header; the caller increments the
 * sequence number for every packet, ends included, 2.5.1.6).
 * Returns 1 with a packet, 0 when the event has been sent completely.
 */
SIPCX_API int sipcx_rtp_event_tx_next(struct sipcx_rtp_event_tx *tx, struct sipcx_rtp_event *ev,
                                      bool *marker, uint32_t *ts);

/** Receives events from one source: each reported once. Fields are private. */
struct sipcx_rtp_event_rx {
	bool active; /**< an event has been seen */
	bool ended;
	uint8_t event;
	uint32_t ts;
};

/** Flags returned by sipcx_rtp_event_rx_input(). */
#define SIPCX_RTP_EVENT_BEGIN 0x1 /**< first packet seen of a new event: report it */
#define SIPCX_RTP_EVENT_END 0x2   /**< first end packet of the event: duration final */

SIPCX_API void sipcx_rtp_event_rx_init(struct sipcx_rtp_event_rx *rx);

/**
 * Feed one telephone-event payload carried with RTP timestamp ts. An event
 * is new when its timestamp is newer than the last one's (a lost first
 * packet or a missing marker does not matter); updates and repeated end
 * packets of the same event, and late packets of older events, give 0.
 * Returns a mix of SIPCX_RTP_EVENT_BEGIN and SIPCX_RTP_EVENT_END (both when
 * only an end packet arrived), 0, or -EINVAL for NULL.
 */
SIPCX_API int sipcx_rtp_event_rx_input(struct sipcx_rtp_event_rx *rx, uint32_t ts,
                                       const struct sipcx_rtp_event *ev);

/**
 * A listening-quality estimate (MOS, 1.0 to 4.5) from the ITU-T G.107
 * E-model with G.711's defaults (Ie 0, Bpl 25.1: a receiver that conceals
 * lost packets; random loss), the one-way delay taken as half the round
 * trip plus a jitter buffer of twice the jitter plus 20 ms of packetisation
 * (Cole and Rosenbluth's simplification of the delay impairment):
 *
 *     R = 93.2 - Id(d) - 95 * P / (P + 25.1),   MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)
 *
 * loss_pct 0 to 100 (clamped), rtt_ms and jitter_ms from 0 (negative: 0).
 * An estimate for comparing runs, not a measured score.
 */
SIPCX_API double sipcx_rtp_mos(double loss_pct, double rtt_ms, double jitter_ms);

#ifdef __cplusplus
}
#endif
#endif
