/* sipcx SDP: parse and print (RFC 4566), offer/answer for audio (RFC 3264, RFC 3605, RFC 4733). */
#ifndef SIPCX_SDP_H
#define SIPCX_SDP_H

#include <sipcx/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Parsing
 * -------
 * sipcx_sdp_parse() fills a caller-provided struct sipcx_sdp and never
 * allocates. Every slice in it points into the input, which must outlive the
 * struct; the parser never writes the input and never reads past its length.
 * The struct is large (about 52 KB): keep it on the heap or a big stack.
 *
 * A slice with p == NULL is "absent"; p != NULL with len 0 is "present and
 * empty" (e.g. "s=" or "a=fmtp:").
 *
 * Strict where interoperability needs it: v=0 first, one o= and one s=,
 * numeric o= session id/version, t= times, port <= 65535, a valid c= address
 * (IPv4 dotted quad, IPv6, or a host name), RTP formats 0..127, no unknown
 * type letter (RFC 4566 5), no NUL or bare CR. Lenient where senders differ:
 * CRLF or LF line ends, a last line with or without its line end, empty
 * lines, runs of spaces between fields, session-level fields in any order
 * before the first m=, no t= line. Attribute values are free text: a
 * malformed a=ptime or a=rtcp is kept as text and simply not digested.
 */

#define SIPCX_SDP_MAX_MEDIA 16 /**< m= lines per description */
#define SIPCX_SDP_MAX_FMTS 32  /**< formats per m= line */
#define SIPCX_SDP_MAX_ATTRS 64 /**< a= lines per level (session, each media) */
#define SIPCX_SDP_MAX_LINES 8  /**< e=, p=, b=, t= lines per level; r= per t= */

/** Media direction (RFC 3264 5.1, RFC 4566 6). */
enum sipcx_sdp_dir {
	SIPCX_SDP_SENDRECV = 0,
	SIPCX_SDP_SENDONLY,
	SIPCX_SDP_RECVONLY,
	SIPCX_SDP_INACTIVE,
};

/** An a= line: "a=name" (value.p == NULL) or "a=name:value" (value may be empty). */
struct sipcx_sdp_attr {
	struct sipcx_str name;
	struct sipcx_str value;
};

/** A c= line (or the address part of a=rtcp). */
struct sipcx_sdp_conn {
	struct sipcx_str nettype;  /**< "IN" */
	struct sipcx_str addrtype; /**< "IP4", "IP6" or another token */
	struct sipcx_str addr;     /**< the address without "/ttl/num" */
	struct sipcx_str suffix;   /**< multicast "/127" or "/127/3", or empty */
	uint8_t family;            /**< 4 or 6 for IN IP4/IP6, else 0 */
	bool present;              /**< the line was there */
	bool is_ip;                /**< addr is an IP literal (else a host name) */
	bool is_null;              /**< 0.0.0.0 or :: (RFC 3264 8.4, RFC 2543 hold) */
};

/** The o= line. */
struct sipcx_sdp_origin {
	struct sipcx_str username;
	struct sipcx_str sess_id;      /**< digits, as written */
	struct sipcx_str sess_version; /**< digits, as written */
	uint64_t id;
	uint64_t version;
	struct sipcx_sdp_conn addr; /**< nettype, addrtype, unicast-address */
};

/** A t= line with its r= lines. */
struct sipcx_sdp_time {
	uint64_t start;
	uint64_t stop;
	struct sipcx_str start_str;
	struct sipcx_str stop_str;
	struct sipcx_str repeat[SIPCX_SDP_MAX_LINES]; /**< r= values, as written */
	unsigned nrepeat;
};

/** One m= section. */
struct sipcx_sdp_media {
	struct sipcx_str type;  /**< "audio", "video", "image", ... */
	uint16_t port;          /**< 0: stream rejected or disabled */
	uint32_t nports;        /**< from "port/n", 0 when absent */
	struct sipcx_str proto; /**< "RTP/AVP", "udptl", ... */
	bool rtp;               /**< proto is RTP-based: formats are payload types */
	struct sipcx_str fmt[SIPCX_SDP_MAX_FMTS];
	unsigned nfmt;
	struct sipcx_str info;      /**< i=, or absent */
	struct sipcx_sdp_conn conn; /**< media-level c= (see sipcx_sdp_media_conn()) */
	struct sipcx_str bw[SIPCX_SDP_MAX_LINES]; /**< b= values, e.g. "AS:64" */
	unsigned nbw;
	struct sipcx_str key;                            /**< k=, or absent */
	struct sipcx_sdp_attr attr[SIPCX_SDP_MAX_ATTRS]; /**< every a= line, in order */
	unsigned nattr;

	/* Digested attributes (they also stay in attr[]). */
	enum sipcx_sdp_dir dir;          /**< media level, else session level, else sendrecv */
	bool dir_explicit;               /**< a direction attribute at media or session level */
	unsigned ptime;                  /**< a=ptime in ms, 0 when absent or malformed */
	unsigned maxptime;               /**< a=maxptime in ms, 0 when absent or malformed */
	uint16_t rtcp_port;              /**< RFC 3605 a=rtcp port, 0 when absent or malformed */
	struct sipcx_sdp_conn rtcp_conn; /**< a=rtcp address, present when given */
	bool rtcp_mux;                   /**< a=rtcp-mux (RFC 5761) */
	bool rtcp_mux_only;              /**< a=rtcp-mux-only (RFC 8858): no separate RTCP port */
	struct sipcx_str mid;            /**< a=mid value, or absent */
};

/** A parsed session description. Fill it with sipcx_sdp_parse(). */
struct sipcx_sdp {
	struct sipcx_sdp_origin origin;
	struct sipcx_str name; /**< s= (may be empty) */
	struct sipcx_str info; /**< i=, or absent */
	struct sipcx_str uri;  /**< u=, or absent */
	struct sipcx_str email[SIPCX_SDP_MAX_LINES];
	unsigned nemail;
	struct sipcx_str phone[SIPCX_SDP_MAX_LINES];
	unsigned nphone;
	struct sipcx_sdp_conn conn; /**< session-level c= */
	struct sipcx_str bw[SIPCX_SDP_MAX_LINES];
	unsigned nbw;
	struct sipcx_sdp_time time[SIPCX_SDP_MAX_LINES];
	unsigned ntime;
	struct sipcx_str zone; /**< z=, or absent */
	struct sipcx_str key;  /**< k=, or absent */
	struct sipcx_sdp_attr attr[SIPCX_SDP_MAX_ATTRS];
	unsigned nattr;
	enum sipcx_sdp_dir dir; /**< session-level direction, sendrecv when none */
	bool dir_explicit;
	struct sipcx_sdp_media media[SIPCX_SDP_MAX_MEDIA];
	unsigned nmedia;
};

/**
 * Parse a session description (RFC 4566) from in.
 * sdp is filled on success and undefined on failure; slices point into in.
 * Returns 0, -EINVAL when sdp is NULL or in.p is NULL with a length,
 * -EBADMSG for a malformed description, SIPCX_ELIMIT when a bound above
 * (SIPCX_SDP_MAX_*) is exceeded. Never allocates.
 */
SIPCX_API int sipcx_sdp_parse(struct sipcx_sdp *sdp, struct sipcx_str in);

/**
 * Append sdp as text with CRLF line ends, fields in the RFC 4566 order
 * (v o s i u e p c b t r z k a, then each m= with i c b k a). Attributes and
 * free-text fields are copied as parsed, so parse -> print -> parse gives the
 * same struct. Returns 0 or the buffer's error (-ENOMEM); on error out keeps
 * its sticky error (see struct sipcx_buf).
 */
SIPCX_API int sipcx_sdp_print(const struct sipcx_sdp *sdp, struct sipcx_buf *out);

/**
 * The connection of media i: its own c= when present (media level wins),
 * else the session c=, else NULL. NULL when i is out of range.
 */
SIPCX_API const struct sipcx_sdp_conn *sipcx_sdp_media_conn(const struct sipcx_sdp *sdp,
                                                            unsigned i);

/**
 * Find the first attribute called name (ASCII case-insensitive) among the
 * media's a= lines; value gets its value (p == NULL for a flag). value may
 * be NULL. m may be NULL (not found).
 */
SIPCX_API bool sipcx_sdp_media_attr(const struct sipcx_sdp_media *m, const char *name,
                                    struct sipcx_str *value);
/** The same for the session-level a= lines. */
SIPCX_API bool sipcx_sdp_session_attr(const struct sipcx_sdp *sdp, const char *name,
                                      struct sipcx_str *value);

/** An RTP format described by a=rtpmap, a=fmtp or the RFC 3551 static table. */
struct sipcx_sdp_format {
	int pt;                /**< payload type 0..127 */
	struct sipcx_str name; /**< encoding name, empty when unknown */
	uint32_t clock;        /**< clock rate, 0 when unknown */
	unsigned channels;     /**< 1 unless the rtpmap says otherwise */
	struct sipcx_str fmtp; /**< a=fmtp parameters, or absent */
	bool known;            /**< name and clock are known (rtpmap or static) */
};

/**
 * Describe format i of an RTP media: a=rtpmap wins, then the RFC 3551
 * static payload table (0 PCMU/8000, 8 PCMA/8000, ...). Slices point into
 * the parsed input. Returns 0, -EINVAL when m is not RTP or i is out of range.
 */
SIPCX_API int sipcx_sdp_media_format(const struct sipcx_sdp_media *m, unsigned i,
                                     struct sipcx_sdp_format *out);

/** "sendrecv", "sendonly", "recvonly", "inactive" (never NULL). */
SIPCX_API const char *sipcx_sdp_dir_name(enum sipcx_sdp_dir dir);

/*
 * Keys for SRTP in SDP (RFC 4568 SDES)
 * ------------------------------------
 * An a=crypto line offers or answers one master key for one crypto suite:
 * "a=crypto:TAG SUITE inline:BASE64(key || salt)[|lifetime]". The answer
 * keeps the tag of the offered line it takes and carries the answerer's own
 * key: each side protects what it sends with its key and unprotects with the
 * peer's. Pure: parse and print never allocate.
 */

/** The crypto suites we speak (libsrtp2 policies). */
enum sipcx_srtp_suite {
	SIPCX_SRTP_NONE = 0,                /**< plain RTP */
	SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80, /**< RFC 4568 6.2.1, 10-byte tag */
	SIPCX_SRTP_AES_CM_128_HMAC_SHA1_32, /**< RFC 4568 6.2.2, 4-byte tag on RTP */
	SIPCX_SRTP_AEAD_AES_128_GCM,        /**< RFC 7714 12, 16-byte tag */
};
#define SIPCX_SRTP_NSUITES 3  /**< suites above NONE */
#define SIPCX_SRTP_KEY_MAX 30 /**< master key + salt of the largest suite */

/** Whether a call uses SRTP (the CLI's --srtp, as pjsua's --use-srtp). */
enum sipcx_srtp_mode {
	/** Offer RTP/AVP with a=crypto lines (best effort) and use SRTP when the answer has one;
	 *  answering, take RTP/SAVP offers with a usable key and plain ones. */
	SIPCX_SRTP_OPTIONAL = 0,
	/** No a=crypto offered; an RTP/SAVP offer is refused (488). */
	SIPCX_SRTP_OFF,
	/** Offer RTP/SAVP with a=crypto lines; an offer or answer without a usable key: 488. */
	SIPCX_SRTP_MANDATORY,
};

/** One a=crypto line (RFC 4568 9.1), with one inline key and no MKI. */
struct sipcx_sdp_crypto {
	uint32_t tag;                    /**< 0..999999999 (RFC 4568 9.1: 1*9DIGIT) */
	enum sipcx_srtp_suite suite;     /**< NONE: a suite we do not know */
	uint8_t key[SIPCX_SRTP_KEY_MAX]; /**< master key then master salt */
};

/** "AES_CM_128_HMAC_SHA1_80", ... as in SDP; "" for NONE or an unknown value. */
SIPCX_API const char *sipcx_srtp_suite_name(enum sipcx_srtp_suite s);

/** Master key + salt bytes of s: 30 for the AES_CM suites, 28 for AEAD_AES_128_GCM; 0: NONE. */
SIPCX_API size_t sipcx_srtp_key_len(enum sipcx_srtp_suite s);

/**
 * Parse the value of an a=crypto attribute (what follows "crypto:").
 * Returns 0 (usable: a known suite, one inline key of its length, an
 * optional lifetime), -ENOTSUP (well formed but not for us: an unknown
 * suite, several keys, an MKI, session parameters such as
 * UNENCRYPTED_SRTP), -EBADMSG (malformed), -EINVAL (c NULL). c is filled
 * only on 0. Never allocates; reads only value.
 */
SIPCX_API int sipcx_sdp_crypto_parse(struct sipcx_sdp_crypto *c, struct sipcx_str value);

/**
 * Append the value of c as an a=crypto attribute ("TAG SUITE inline:KEY",
 * no "a=crypto:" and no line end). Returns 0, -EINVAL (a tag above
 * 999999999, suite NONE), or the buffer's error.
 */
SIPCX_API int sipcx_sdp_crypto_print(const struct sipcx_sdp_crypto *c, struct sipcx_buf *out);

/*
 * Offer/answer for audio (RFC 3264)
 * ---------------------------------
 * One audio stream, RTP/AVP, G.711 and RFC 4733 telephone-event by default.
 * The functions below build text into a struct sipcx_buf and report the
 * negotiated media in a struct sipcx_sdp_result. They do no I/O.
 */

/** A codec we can send and receive. telephone-event is recognised by name. */
struct sipcx_sdp_codec {
	int pt;            /**< 0..127; a dynamic one (96..127) is only our preference */
	const char *name;  /**< encoding name, e.g. "PCMU" (at most 31 bytes) */
	uint32_t clock;    /**< clock rate, e.g. 8000 */
	unsigned channels; /**< 0 or 1: mono */
	const char *fmtp;  /**< a=fmtp parameters or NULL, e.g. "0-16" */
};

/**
 * The defaults used when sipcx_sdp_local.codecs is NULL, in preference
 * order: PCMU/8000 (0), PCMA/8000 (8), telephone-event/8000 (101, "0-16").
 */
SIPCX_API extern const struct sipcx_sdp_codec sipcx_sdp_default_codecs[3];

/**
 * What sipcx_sdp_answer() accepts when sipcx_sdp_local.codecs is NULL: every
 * codec the media layer runs (sipcx/codec.h), G.711 first: PCMU/8000 (0),
 * PCMA/8000 (8), G722/8000 (9), opus/48000/2 (111, fmtp
 * "minptime=10;useinbandfec=1"), telephone-event/8000 (101) and
 * telephone-event/48000 (110, for opus). The answer keeps the offer's order
 * and numbers, so a G.711 offer is answered as with the defaults above.
 */
SIPCX_API extern const struct sipcx_sdp_codec sipcx_sdp_answer_codecs[6];

/**
 * Our side of the media. A zero-initialised struct plus addr and port is a
 * valid configuration. The struct and its strings are only read during the
 * call they are passed to.
 */
struct sipcx_sdp_local {
	/**
	 * Our IP literal for o= and c= (IPv4 or IPv6). Never 0.0.0.0 or ::
	 * (a wildcard bind address is not an address a peer can send to): the
	 * caller passes the address of the interface that reaches the peer.
	 */
	const char *addr;
	uint16_t port;          /**< our RTP port (not 0) */
	uint16_t rtcp_port;     /**< 0: port + 1 (no a=rtcp); else sent as RFC 3605 a=rtcp */
	enum sipcx_sdp_dir dir; /**< what we want; SENDONLY or INACTIVE to hold */
	unsigned
	    ptime; /**< packet time in ms we want to receive; 0: 20 (an answer: the offer's, up to 200) */
	/** preference order; NULL: sipcx_sdp_default_codecs in an offer (and to read its
	 *  answer), sipcx_sdp_answer_codecs in an answer */
	const struct sipcx_sdp_codec *codecs;
	size_t ncodecs;       /**< at most SIPCX_SDP_MAX_FMTS */
	const char *username; /**< o= username; NULL: "-" */
	/**
	 * SRTP (RFC 4568): the mode, and our keys in preference order, one per
	 * suite (at most SIPCX_SRTP_NSUITES). An offer carries each as an
	 * a=crypto line with its tag; an answer takes the first offered line
	 * whose suite we have a key for and answers with that key. No keys: no
	 * SRTP, whatever the mode (MANDATORY without keys is -EINVAL).
	 */
	enum sipcx_srtp_mode srtp;
	const struct sipcx_sdp_crypto *crypto;
	size_t ncrypto;
	/**
	 * Hold the RFC 2543 way as well: when our direction does not receive
	 * (sendonly, inactive), write c=0.0.0.0 in what we send (IPv4 only).
	 * For old peers that ignore a=sendonly. Off by default.
	 */
	bool hold_null_addr;
	/**
	 * Answer in our codec preference order instead of the offer's.
	 * Default off: RFC 3264 6.1 recommends keeping the offer's order, and
	 * the offerer's first choice is then the codec used.
	 */
	bool answer_local_order;
	/**
	 * RTP and RTCP on one port (RFC 5761). An offer carries a=rtcp-mux (our
	 * RTCP port stays usable until the answer accepts it); an answer carries
	 * it when the offer did (RFC 8035) and res->rtcp_mux says so. Off: an
	 * offer has none, and an offer with a=rtcp-mux-only is not accepted
	 * (RFC 8858 4.2).
	 */
	bool rtcp_mux;
	/**
	 * We have no RTCP port of our own (RFC 8858): an offer also carries
	 * a=rtcp-mux-only; where an SDP of ours does not multiplex (a peer's
	 * later offer without a=rtcp-mux), set rtcp_port to port so that a=rtcp
	 * tells the peer to send its RTCP to our RTP port. Needs rtcp_mux.
	 */
	bool rtcp_mux_only;
};

/**
 * Our SDP origin across a dialog: o= session id and version (RFC 3264 5, 8).
 * Value type owned by the caller (e.g. inside the call); initialise once with
 * sipcx_sdp_session_init() and pass to every offer and answer of the dialog.
 */
struct sipcx_sdp_session {
	uint64_t id;      /**< o= sess-id, random, below 2^62 */
	uint64_t version; /**< o= sess-version of the last SDP built */
	/* Internal: what the last SDP was, to bump the version only on change. */
	uint64_t last_hash;
	bool built;
	char origin_addr[48];
};

/** Give s a random session id and an initial version (equal to the id, as in RFC 3264 10). */
SIPCX_API void sipcx_sdp_session_init(struct sipcx_sdp_session *s);

/** The media a negotiation agreed on, for the media layer. Self-contained (no pointers). */
struct sipcx_sdp_result {
	unsigned media_index; /**< which m= line of the remote SDP carries the audio */
	uint8_t family;       /**< 4 or 6: address type of the remote c= */
	bool addr_is_ip;      /**< false: addr is a host name the caller must resolve */
	char addr[256];       /**< remote RTP address, NUL-terminated */
	uint16_t rtp_port;    /**< remote RTP port */
	char rtcp_addr[256];  /**< remote RTCP address (a=rtcp address, else addr) */
	uint16_t rtcp_port;   /**< a=rtcp port, else rtp_port + 1; 0 when none fits */
	/** RTP and RTCP share one port both ways (RFC 5761): both offered and answered
	 *  a=rtcp-mux. rtcp_addr and rtcp_port are then the RTP ones. */
	bool rtcp_mux;
	int pt;         /**< codec payload type to send with (the peer's numbering) */
	char codec[32]; /**< codec name as in our config, e.g. "PCMU" */
	uint32_t clock; /**< codec clock rate */
	unsigned channels;
	int dtmf_pt; /**< telephone-event payload type, -1 when not agreed */
	/** SRTP agreed (NONE: plain RTP): ours protects what we send, the peer's what we get. */
	enum sipcx_srtp_suite srtp;
	uint8_t srtp_tx_key[SIPCX_SRTP_KEY_MAX];
	uint8_t srtp_rx_key[SIPCX_SRTP_KEY_MAX];
	unsigned
	    ptime; /**< ms per packet to send: the peer's a=ptime, else ours capped by its a=maxptime */
	enum sipcx_sdp_dir dir; /**< the direction of our side */
	bool local_send;        /**< we send RTP */
	bool local_recv;        /**< we expect RTP */
	/**
	 * The peer said it will not receive: its direction is sendonly or
	 * inactive, or its address is 0.0.0.0 / :: (RFC 2543 hold).
	 */
	bool on_hold;
};

/**
 * Build an offer for one audio stream: v=0, o= (session id, version), s=-,
 * c=, t=0 0, m=audio port RTP/AVP fmts (RTP/SAVP when SRTP is mandatory),
 * a=rtpmap for each codec, a=fmtp where set, an a=crypto line per key of
 * local->crypto (unless SRTP is off), a=ptime, a=rtcp when local->rtcp_port
 * is set (and is not the RTP port of a multiplexed stream), a=rtcp-mux (and
 * a=rtcp-mux-only) when local asks, a direction attribute.
 * The o= version grows by one whenever the text differs from the last SDP
 * built with sess, and stays the same for an identical SDP (a session
 * refresh), as RFC 3264 8 allows. Appends to out (CRLF line ends).
 * Returns 0, -EINVAL for a bad local config (NULL, no or bad address,
 * wildcard address, port 0, bad codec), -ENOMEM. On failure sess is unchanged.
 */
SIPCX_API int sipcx_sdp_offer(struct sipcx_sdp_session *sess, const struct sipcx_sdp_local *local,
                              struct sipcx_buf *out);

/**
 * Answer a parsed offer (RFC 3264 6). For each m= line of the offer, in order:
 * the first audio RTP/AVP stream (or RTP/SAVP with an a=crypto line we have a
 * key for; see local->srtp for what each mode takes) with a port, a
 * connection address and a codec in common is accepted, its transport kept
 * and, with SRTP, one a=crypto line answered (res->srtp, the keys); every other line is answered with port 0
 * (same media, proto and formats), so the answer has the same m= count.
 * Accepted formats: the common codecs in the offer's order (or ours, see
 * answer_local_order) with the offer's payload numbers (dynamic ones such as
 * telephone-event 96 kept), plus telephone-event when both sides have it.
 * Direction: the offer's mirrored (sendonly -> recvonly, recvonly ->
 * sendonly, inactive -> inactive, sendrecv -> ours) and limited by ours; an
 * offer address of 0.0.0.0 (RFC 2543 hold) means we must not send. Our
 * address is never 0.0.0.0 unless hold_null_addr asks for it while we do not
 * receive. RTCP multiplexing (RFC 5761): a=rtcp-mux is answered when the
 * offer has it and local->rtcp_mux is set; a stream with a=rtcp-mux-only is
 * not accepted without local->rtcp_mux (RFC 8858). res (may be NULL) gets
 * the negotiated media.
 * Returns 0, -EINVAL (bad arguments or local config), SIPCX_ENOCODEC when no
 * audio stream can be accepted (answer 488), -ENOMEM. On failure nothing is
 * appended and sess is unchanged.
 */
SIPCX_API int sipcx_sdp_answer(struct sipcx_sdp_session *sess, const struct sipcx_sdp_local *local,
                               const struct sipcx_sdp *offer, struct sipcx_buf *out,
                               struct sipcx_sdp_result *res);

/**
 * Whether an offer asks for RTP and RTCP on one port: its first audio RTP
 * stream with a port carries a=rtcp-mux (or a=rtcp-mux-only). For an
 * answerer that binds its sockets before it answers: one socket will do.
 * NULL: false.
 */
SIPCX_API bool sipcx_sdp_wants_rtcp_mux(const struct sipcx_sdp *offer);

/**
 * Read the answer to an offer we built with local (the same config): the
 * first m= line must be audio with a port. The codec is the first format of
 * the answer we also have; dtmf_pt the answer's telephone-event; address,
 * RTCP, ptime and direction from the answer.
 * Returns 0, -EINVAL (bad arguments), SIPCX_ENOCODEC when the answer
 * rejected the stream or holds no codec of ours.
 */
SIPCX_API int sipcx_sdp_process_answer(const struct sipcx_sdp_local *local,
                                       const struct sipcx_sdp *answer,
                                       struct sipcx_sdp_result *res);

#ifdef __cplusplus
}
#endif
#endif
