/* sipcx media: RTP/RTCP sessions on libuv (RFC 3550 6.2 reporting, RFC 3551 G.711 and G.722, RFC 7587 Opus, symmetric RTP). */
#ifndef SIPCX_MEDIA_H
#define SIPCX_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sipcx/base.h>
#include <sipcx/rtp.h>
#include <sipcx/sdp.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A media session owns one RTP socket on an even port and one RTCP socket on
 * the port above it, and runs on the loop thread of a struct sipcx_ua (the
 * one that carries the call's signalling), made with sipcx_media_new().
 * Every callback runs on that thread and must not block.
 *
 * Threads: sipcx_media_new(), _free(), _start(), _set_remote(),
 * _apply_sdp(), _stats() and _send_rtcp() may be called from any thread
 * (from another thread they run on the UA's loop and wait for it); the
 * packet functions sipcx_media_send(), _write_rtp() and _write_rtcp() are
 * the loop thread's (in a callback, or through sipcx_ua_call()): other
 * threads use the thread-safe I/O below (sipcx_media_post_rtp(), ...).
 * Functions marked "Any thread" are that. A session made on a loop of the
 * caller's own (sipcx_media_new_loop() in sipcx/embed.h) is driven from
 * that loop's thread only, but for the "Any thread" functions.
 *
 * Life: sipcx_media_new() binds the sockets (so the port can go into an SDP
 * offer), sipcx_media_set_remote() / sipcx_media_apply_sdp() say where the
 * peer is, sipcx_media_start() starts receiving, the send clock, RTCP
 * reports and the inactivity timer, sipcx_media_free() closes it (memory is
 * returned once the loop has run the close callbacks).
 *
 * Who is the peer (symmetric RTP, RFC 4961, without the RTP bleed): packets
 * from the negotiated address are always accepted. With the default
 * SIPCX_MEDIA_LATCH_FIRST, a packet from another address is accepted, and
 * becomes where we send (a NAT rewrote the peer's source), only while no
 * packet from the negotiated address has been seen and no other stranger
 * has been latched; later strangers are dropped and counted in rx_ignored.
 * RTP and RTCP latch separately.
 */

struct sipcx_media;
struct sipcx_media_queue;
struct sockaddr;
struct sipcx_ua;

/** How the peer's source address is learnt. */
enum sipcx_media_latch {
	SIPCX_MEDIA_LATCH_FIRST = 0, /**< default: the rule above */
	SIPCX_MEDIA_LATCH_OFF,       /**< accept only the negotiated address */
	SIPCX_MEDIA_LATCH_ANY, /**< follow every new source (an echo service; open to RTP bleed) */
};

/** What the session sends by itself. */
enum sipcx_media_handler {
	SIPCX_MEDIA_NONE = 0, /**< nothing: user code sends with sipcx_media_write_rtp() */
	SIPCX_MEDIA_ECHO,     /**< every accepted RTP packet back to its source, unchanged */
	SIPCX_MEDIA_SILENCE,  /**< silence every ptime, in the negotiated codec */
	SIPCX_MEDIA_TONE,     /**< a sine tone (tone_hz) every ptime */
	SIPCX_MEDIA_USER,     /**< the fill callback's payload every ptime */
	SIPCX_MEDIA_PLAY,     /**< opts.play's audio (a WAV file), encoded every ptime */
};

struct sipcx_wav;
struct sipcx_tone_detect;

/** Events reported through sipcx_media_opts.on_event. */
enum sipcx_media_event_type {
	SIPCX_MEDIA_EV_TIMEOUT = 1, /**< no RTP accepted for inactivity_ms */
	SIPCX_MEDIA_EV_RESUMED,     /**< RTP accepted again after a timeout */
	SIPCX_MEDIA_EV_LATCH,       /**< we now send to addr (RTP, or RTCP when rtcp is set) */
	SIPCX_MEDIA_EV_RTCP,        /**< a valid RTCP packet from the peer was taken in */
	SIPCX_MEDIA_EV_BYE,         /**< the peer sent an RTCP BYE */
	SIPCX_MEDIA_EV_ERROR,       /**< a socket error (err); the session keeps going */
	SIPCX_MEDIA_EV_DTMF,        /**< an RFC 4733 event from the peer (dtmf_pt) */
};

/** One event; addr is valid during the callback only. */
struct sipcx_media_event {
	enum sipcx_media_event_type type;
	bool rtcp;                   /**< LATCH: about the RTCP socket */
	const struct sockaddr *addr; /**< LATCH: the new destination */
	int err;                     /**< ERROR: a negative error */
	uint8_t dtmf;           /**< DTMF: event code (0-9, 10 '*', 11 '#', 12-15 A-D, 16 flash) */
	bool dtmf_begin;        /**< DTMF: first packet of the event seen */
	bool dtmf_end;          /**< DTMF: its end seen; dtmf_duration is final */
	uint16_t dtmf_duration; /**< DTMF: in timestamp units */
};

typedef void sipcx_media_event_cb(struct sipcx_media *m, const struct sipcx_media_event *ev,
                                  void *arg);

/**
 * An accepted RTP packet: pkt is parsed, data/len are the whole datagram,
 * from its source. All valid during the callback only.
 */
typedef void sipcx_media_rtp_cb(struct sipcx_media *m, const struct sipcx_rtp_pkt *pkt,
                                const uint8_t *data, size_t len, const struct sockaddr *from,
                                void *arg);

/** An accepted, valid compound RTCP packet (after the session took its reports in). */
typedef void sipcx_media_rtcp_cb(struct sipcx_media *m, const uint8_t *data, size_t len,
                                 const struct sockaddr *from, void *arg);

/**
 * SIPCX_MEDIA_USER: the payload of the next packet of the ptime clock. pkt
 * holds the header that will be sent (ssrc, seq, ts, pt, marker); the
 * callback may change pt and marker. samples is the packet's duration in
 * timestamp units (clock * ptime / 1000: the byte count of a G.711 payload).
 * Write at most size bytes at payload and return their number; 0 sends
 * nothing this tick (the timestamp still advances); a negative value stops
 * the clock.
 */
typedef int sipcx_media_fill_cb(struct sipcx_media *m, struct sipcx_rtp_pkt *pkt, unsigned samples,
                                uint8_t *payload, size_t size, void *arg);

/** A line of RTP/RTCP debug output (RTP_DEBUG=1 in the apps). */
typedef void sipcx_media_log_cb(struct sipcx_media *m, const char *line, void *arg);

/**
 * Session options. A zeroed struct is valid: any local address, a port from
 * 10000-20000, PCMU at 8000 Hz, 20 ms, no handler, RTCP every ~5 s, no
 * inactivity timeout, LATCH_FIRST. Strings are copied; nothing is kept.
 */
struct sipcx_media_opts {
	/** Local IP literal to bind ("0.0.0.0", "::", "127.0.0.1"); NULL: the remote's
	 *  family's wildcard, else 0.0.0.0. The family of the session follows it. */
	const char *local_addr;
	uint16_t port; /**< exact RTP port (RTCP port + 1); 0: from the range */
	/** One socket (RFC 5761): RTCP is sent and received on the RTP port, no
	 *  RTCP port is bound, and RTCP goes to the peer's RTP address unless a
	 *  remote RTCP port is given. With SDP, the answerer's choice when the
	 *  offer has a=rtcp-mux; an offerer binds both and lets
	 *  sipcx_media_apply_sdp() close the RTCP socket once the answer agrees. */
	bool rtcp_mux;
	uint16_t port_min; /**< range, inclusive; 0/0: 10000-20000 */
	uint16_t port_max;

	const char *remote_addr;   /**< peer IP literal, or NULL (set later, or latch) */
	uint16_t remote_port;      /**< peer RTP port */
	uint16_t remote_rtcp_port; /**< 0: remote_port + 1 */

	int pt; /**< payload type we send; 0 = PCMU (use 8 for PCMA) */
	/** The codec of the built-in handlers, a name of sipcx/codec.h ("PCMU", "PCMA",
	 *  "G722", "opus"); NULL: from pt (0 PCMU, 8 PCMA, 9 G722). Their audio is made
	 *  at 8 kHz and encoded (sipcx/codec.h says how each codec converts). */
	const char *codec;
	uint32_t clock; /**< RTP clock rate; 0: 8000 */
	unsigned ptime; /**< ms per packet; 0: 20 */
	int dtmf_pt;    /**< telephone-event pt received as SIPCX_MEDIA_EV_DTMF; 0 or -1: none */
	bool recvonly;  /**< do not send RTP (hold, or an SDP direction without send) */

	enum sipcx_media_handler handler;
	unsigned tone_hz; /**< SIPCX_MEDIA_TONE: frequency; 0: 440 */
	bool echo_rtcp;   /**< SIPCX_MEDIA_ECHO: also reflect RTCP to its source */
	/** SIPCX_MEDIA_PLAY: the file (sipcx_wav_open_read(): 8 kHz samples); at its end
	 *  silence, or again from its start with play_loop. Not owned: it must outlive the
	 *  session (until sipcx_media_free() returns). */
	struct sipcx_wav *play;
	bool play_loop;
	/** What the peer sends in the negotiated codec, decoded to 8 kHz: written to record
	 *  (sipcx_wav_open_write() at 8000 Hz; a lost or late packet's time as silence, gaps
	 *  up to 2 s, so the file keeps the call's timing) and fed to detect. Not owned. */
	struct sipcx_wav *record;
	struct sipcx_tone_detect *detect;

	enum sipcx_media_latch latch;
	uint32_t rtcp_interval_ms; /**< mean report interval, randomised 0.5-1.5x; 0: 5000 */
	bool rtcp_off;             /**< send no reports (still receives RTCP) */
	const char *cname;         /**< SDES CNAME (at most 63 bytes); NULL: random */
	uint32_t inactivity_ms;    /**< SIPCX_MEDIA_EV_TIMEOUT after this much silence; 0: off */

	sipcx_media_event_cb *on_event;
	sipcx_media_rtp_cb *on_rtp;
	sipcx_media_rtcp_cb *on_rtcp;
	sipcx_media_fill_cb *fill;
	/** RTP/RTCP debug lines; with log NULL and debug true they go to the
	 *  library log hook (sipcx_log_set) at SIPCX_LOG_DEBUG. */
	sipcx_media_log_cb *log;
	bool debug;
	void *arg; /**< passed to every callback */
	/** Packets received are also pushed here (not owned; must outlive the
	 *  session), for a reader on another thread. */
	struct sipcx_media_queue *rx_queue;
	/** Thread-safe I/O (sipcx_media_read_rtp(), sipcx_media_post_rtp() and the
	 *  others of "Thread-safe I/O" below): how many packets its receive-RTP
	 *  queue and its send queue each hold (its receive-RTCP queue holds
	 *  min(io_queue, 32)), at most 65536. 0: off, those functions return
	 *  -ENOTSUP. The queues take about (2 * io_queue + 32) * io_max_len bytes. */
	unsigned io_queue;
	/** The largest packet, RTP header included, the thread-safe I/O carries
	 *  (12..8192); 0: 1500. Longer received packets are dropped for the
	 *  readers (and counted in io_rx_dropped). */
	uint16_t io_max_len;
};

/**
 * Create a session on ua's loop and bind its sockets: the exact port (and
 * +1) or the first free even pair of the range, starting after the pair the
 * previous session of the process took (so parallel sessions do not race
 * for the same ports). opts may be NULL. Any thread. Free every session
 * before its UA; one still open when the UA is freed is closed with it
 * (its pointer is then dead). *out is untouched on failure.
 * Returns 0, -EINVAL (NULL ua or out, a bad address, port or range,
 * unknown codec), -EADDRINUSE (no free pair), -ENOMEM, SIPCX_ECLOSED (the
 * UA is shutting down), or a socket error.
 */
SIPCX_API int sipcx_media_new(struct sipcx_media **out, struct sipcx_ua *ua,
                              const struct sipcx_media_opts *opts);

/**
 * Close the session: close its thread-safe I/O (waking user threads) and
 * send what they posted, stop everything, send an RTCP BYE when reports
 * are on and the peer is known, and close the sockets. The memory is freed
 * by the loop once the sockets are closed. No callback runs after this
 * returns. NULL is a no-op. See "Who may call what when" below for threads
 * still using the thread-safe I/O.
 */
SIPCX_API void sipcx_media_free(struct sipcx_media *m);

/**
 * Set (or change, e.g. after a re-INVITE) the negotiated peer: addr an IP
 * literal of the session's family (an IPv4 one on an IPv6 session is
 * mapped), rtcp_port 0 for port + 1 (a session with one socket: the RTP
 * port, multiplexed). The latch state starts anew.
 * Returns 0 or -EINVAL.
 */
SIPCX_API int sipcx_media_set_remote(struct sipcx_media *m, const char *addr, uint16_t port,
                                     uint16_t rtcp_port);

/**
 * Take what SDP offer/answer agreed: remote address and ports, payload
 * type, codec (a name of sipcx/codec.h drives the built-in handlers and the
 * decoding for record and detect), clock, ptime,
 * telephone-event payload type, and whether we send (res->local_send).
 * RTCP multiplexed (res->rtcp_mux, RFC 5761): RTCP goes on the RTP socket to
 * the peer's RTP address, and the RTCP socket, when there is one, is
 * closed; once closed it stays so (a later result without rtcp_mux sends
 * RTCP from the RTP socket to the peer's RTCP port).
 * Call before sipcx_media_start() or at any time to change them.
 * Returns 0, -EINVAL (NULL, a host name rather than an IP, port 0),
 * SIPCX_ENOCODEC (a codec the built-in handlers cannot produce while one
 * of them is selected).
 */
SIPCX_API int sipcx_media_apply_sdp(struct sipcx_media *m, const struct sipcx_sdp_result *res);

/** Start receiving, the send clock, RTCP reports and the inactivity timer. Returns 0 or a socket error. */
SIPCX_API int sipcx_media_start(struct sipcx_media *m);

/** Our RTP port (RTCP is one above). Any thread (fixed at creation). */
SIPCX_API uint16_t sipcx_media_port(const struct sipcx_media *m);
/** Our SSRC (random). Any thread (fixed at creation). */
SIPCX_API uint32_t sipcx_media_ssrc(const struct sipcx_media *m);

/**
 * Send one RTP packet of ours: header from the session (our ssrc, the next
 * sequence number, pt, marker), timestamp ts, payload of len bytes.
 * Returns 0, -EINVAL, -ENOTCONN (no peer yet), -EMSGSIZE, -EAGAIN (socket
 * buffer full: dropped), or a socket error.
 */
SIPCX_API int sipcx_media_send(struct sipcx_media *m, uint32_t ts, bool marker, const void *payload,
                               size_t len);

/**
 * Send a ready RTP datagram as it is (sipgox WriteRTP) to the peer, or to
 * `to` when not NULL. Packets with our ssrc count in our SR.
 * Returns 0, -EINVAL (not RTP), -ENOTCONN, -EAGAIN, or a socket error.
 */
SIPCX_API int sipcx_media_write_rtp(struct sipcx_media *m, const void *data, size_t len,
                                    const struct sockaddr *to);

/** Send a ready RTCP datagram on the RTCP socket to the peer (or `to`). Errors as above. */
SIPCX_API int sipcx_media_write_rtcp(struct sipcx_media *m, const void *data, size_t len,
                                     const struct sockaddr *to);

/** Send an RTCP report (SR or RR, with SDES CNAME) now, outside the timer. Returns 0 or an error as above. */
SIPCX_API int sipcx_media_send_rtcp(struct sipcx_media *m);

/** How sipcx_media_send_dtmf() sends (0 fields: the defaults). */
struct sipcx_dtmf_opts {
	unsigned duration_ms; /**< each digit's tone; 0: 100 (40..5000) */
	unsigned gap_ms;      /**< silence between digits; 0: 100 (at most 5000) */
	unsigned delay_ms;    /**< before the first digit (at most 60000) */
	unsigned volume;      /**< power level, -dBm0 (RFC 4733 2.3.4); 0: 10 (at most 63) */
};

/**
 * Queue digits (0-9 * # A-D, '!' for flash; at most 64 waiting) to send as
 * RFC 4733 telephone-events with the negotiated payload type: for each
 * digit a packet every ptime with the event's start timestamp and its
 * growing duration, the first with the marker bit, the end packet three
 * times (2.5.1), all in the stream's sequence numbers and SSRC. Audio of
 * the built-in handlers pauses during an event and resumes in the gap; the
 * media clock goes on, so timestamps stay true. Returns 0 (queued), -EINVAL
 * (a bad digit or option), -ENOTSUP (no telephone-event was negotiated),
 * -ENOSPC (the queue is full), -ENOTCONN (no peer yet). Any thread.
 */
SIPCX_API int sipcx_media_send_dtmf(struct sipcx_media *m, const char *digits,
                                    const struct sipcx_dtmf_opts *o);

/** Per-session counters, from sipcx_media_stats(). */
struct sipcx_media_stats {
	uint32_t ssrc;         /**< ours */
	uint32_t remote_ssrc;  /**< the last source we received from (0: none) */
	uint64_t tx_packets;   /**< RTP packets sent (echoed ones too) */
	uint64_t tx_bytes;     /**< RTP payload bytes sent */
	uint64_t tx_dropped;   /**< not sent: socket buffer full, or an error */
	uint64_t rx_packets;   /**< RTP packets accepted */
	uint64_t rx_bytes;     /**< RTP payload bytes accepted */
	uint64_t rx_ignored;   /**< RTP and RTCP packets from a stranger (latch rules) */
	uint64_t rx_malformed; /**< datagrams that are not RTP (or not valid RTCP) */
	/* SRTP (keys negotiated by SDES): packets dropped, never played nor echoed */
	uint64_t srtp_auth_fail; /**< SRTP/SRTCP packets whose authentication failed */
	uint64_t srtp_replay;    /**< SRTP/SRTCP packets seen already (RFC 3711 3.3.2) */
	/* RFC 3550 A.1/A.3/A.8 about the current remote source */
	uint32_t expected; /**< packets expected from the sequence numbers */
	int64_t lost;      /**< expected - received; negative with duplicates */
	uint32_t duplicates;
	uint32_t late;         /**< out of order */
	uint32_t seq_restarts; /**< sequence or SSRC restarts of the peer */
	uint32_t jitter_us;    /**< interarrival jitter */
	/* RTCP */
	uint64_t rtcp_tx;
	uint64_t rtcp_rx;
	uint64_t rtcp_rx_mux; /**< of rtcp_rx, those that came on the RTP port (RFC 5761) */
	bool rtcp_mux;        /**< one socket: no RTCP port of ours, RTCP on the RTP one */
	uint32_t rtt_count;   /**< RTTs from report blocks about us (LSR/DLSR) */
	uint32_t rtt_us;      /**< the last one */
	uint32_t rtt_min_us;
	uint32_t rtt_max_us;
	uint32_t rtt_avg_us;
	uint32_t echo_rtt_count;      /**< our own SRs reflected back (an echo peer) */
	uint32_t echo_rtt_us;         /**< the last such round trip */
	bool have_remote_report;      /**< the peer reported on our stream: */
	uint8_t remote_fraction_lost; /**< its last fraction lost, /256 */
	int32_t remote_lost;          /**< its cumulative lost */
	uint32_t remote_jitter_us;    /**< its jitter */
	bool timed_out;               /**< inactive now (after SIPCX_MEDIA_EV_TIMEOUT) */
	/* thread-safe I/O (opts.io_queue); packets posted and then sent count
	 * above like any other (tx_packets, tx_bytes, our SR), and those the loop
	 * could not send (no peer yet, socket buffer full) in tx_dropped */
	uint64_t io_tx_full;    /**< posts refused as the send queue stayed full */
	uint64_t io_rx_dropped; /**< received packets the readers lost: queue full (the
	                             oldest goes), or longer than io_max_len */
};

/** Copy the counters into *st. */
SIPCX_API void sipcx_media_stats(const struct sipcx_media *m, struct sipcx_media_stats *st);

/* ------------------------------------------------- thread-safe I/O -- */

/*
 * The ReadRTP/WriteRTP of sipgox, for user threads, on a session created
 * with opts.io_queue > 0. Writes are posted: copied into the session's
 * bounded send queue, which the loop thread drains (woken at once)
 * and sends in order, with the same counting as sipcx_media_write_rtp() and
 * sipcx_media_send(), so our RTCP SR reports them. When the send queue is
 * full a post waits for room up to its timeout_ms (0: not at all, negative:
 * forever), then fails (-EAGAIN when timeout_ms was 0, else -ETIMEDOUT,
 * counted in io_tx_full): nothing already queued is dropped, the caller
 * decides. Reads take the packets the session accepted (after the latch
 * rules), oldest first; a reader that falls io_queue packets behind loses
 * the oldest (counted in io_rx_dropped), as the loop never waits.
 *
 * Timeouts are in milliseconds: 0 polls, negative waits forever; a timeout
 * never ends before its time.
 *
 * Who may call what when:
 * - Any thread may call the functions of this section from the return of
 *   sipcx_media_new() until sipcx_media_free() is called.
 * - sipcx_media_close() (any thread) ends the thread-safe I/O but not the
 *   session: every blocked reader and writer wakes up, later posts fail with
 *   SIPCX_ECLOSED, reads return what was queued and then -ECANCELED; what
 *   was posted before the close is still sent. sipcx_media_free() closes too.
 * - A thread still inside one of these calls when sipcx_media_free() runs
 *   is safe: it wakes up and returns (-ECANCELED, SIPCX_ECLOSED), and the
 *   memory it uses is released after it. A call that begins after
 *   sipcx_media_free() uses freed memory: to end a session with reader
 *   threads, call sipcx_media_close() (or let them see -ECANCELED), make
 *   sure they will not call again (join them, or a flag), then free the
 *   session.
 */

/**
 * Post a ready RTP datagram (sipgox WriteRTP): the loop sends it as
 * sipcx_media_write_rtp(m, data, len, NULL) would. The bytes are copied.
 * Any thread. Returns 0 (queued), -EINVAL (NULL, not RTP), -ENOTSUP (no
 * io_queue), -EMSGSIZE (longer than io_max_len), SIPCX_ECLOSED, -EAGAIN /
 * -ETIMEDOUT (send queue full).
 */
SIPCX_API int sipcx_media_post_rtp(struct sipcx_media *m, const void *data, size_t len,
                                   int timeout_ms);

/**
 * Post a payload for the session to send behind its own header, as
 * sipcx_media_send(m, ts, marker, payload, len) would: our SSRC, the next
 * sequence number (assigned when the loop sends it, so posts from several
 * threads still get consecutive numbers), the session's payload type.
 * Any thread. Returns as sipcx_media_post_rtp(); -EMSGSIZE when 12 + len
 * exceeds io_max_len.
 */
SIPCX_API int sipcx_media_post_payload(struct sipcx_media *m, uint32_t ts, bool marker,
                                       const void *payload, size_t len, int timeout_ms);

/**
 * Post a ready RTCP datagram (at least 4 bytes; not validated, as with
 * sipcx_media_write_rtcp()) for the RTCP socket, to the peer.
 * Any thread. Returns as sipcx_media_post_rtp().
 */
SIPCX_API int sipcx_media_post_rtcp(struct sipcx_media *m, const void *data, size_t len,
                                    int timeout_ms);

/**
 * Take the oldest accepted RTP packet (the whole datagram: parse it with
 * sipcx_rtp_parse()) into buf, waiting up to timeout_ms. Any thread; several
 * readers may share a session (each packet goes to one of them).
 * Returns its length, -EINVAL, -ENOTSUP (no io_queue), -EAGAIN (timeout_ms
 * 0 and nothing queued), -ETIMEDOUT, -EMSGSIZE (buf smaller than the packet:
 * it stays queued; a buf of io_max_len bytes always fits), -ECANCELED
 * (closed, and nothing left).
 */
SIPCX_API int sipcx_media_read_rtp(struct sipcx_media *m, void *buf, size_t size, int timeout_ms);

/** The same for the next accepted, valid compound RTCP packet (after the session took its reports in). */
SIPCX_API int sipcx_media_read_rtcp(struct sipcx_media *m, void *buf, size_t size, int timeout_ms);

/**
 * Close the thread-safe I/O (see above): wakes every blocked reader
 * (-ECANCELED) and writer (SIPCX_ECLOSED); later posts fail. The session
 * itself goes on until sipcx_media_free(). Any thread; again is a no-op;
 * NULL, or a session without io_queue, is a no-op.
 */
SIPCX_API void sipcx_media_close(struct sipcx_media *m);

/* ------------------------------------------------------------ tone -- */

/** A sine generator (phase accumulator); fields are private. */
struct sipcx_media_tone {
	double phase;
	double step;
	double amp;
};

/** Start a tone of hz (1..rate/2) at amplitude amp (0..32767) for a rate Hz clock. Returns 0 or -EINVAL. */
SIPCX_API int sipcx_media_tone_init(struct sipcx_media_tone *t, unsigned hz, unsigned amp,
                                    uint32_t rate);
/** The next n samples. */
SIPCX_API void sipcx_media_tone_pcm(struct sipcx_media_tone *t, int16_t *out, size_t n);
/** The next n samples G.711-encoded (pt 0: mu-law, 8: A-law); n at most 1920. */
SIPCX_API void sipcx_media_tone_g711(struct sipcx_media_tone *t, int pt, uint8_t *out, size_t n);

/* ----------------------------------------------------------- queue -- */

/*
 * A bounded, thread-safe packet queue for a reader on another thread (the
 * blocking ReadRTP of the phone API): the session pushes accepted packets
 * on the loop thread, a user thread pops them with a timeout. When full the
 * oldest packet is dropped (a slow reader must not stall the loop). It is
 * owned by the caller, independently of the session, so closing one side
 * never leaves the other with a dangling pointer: close the queue to wake
 * readers, free the session, then free the queue. A session's own
 * thread-safe I/O (opts.io_queue, above) is built on these queues.
 */

/** Packet kinds in a queue. */
enum { SIPCX_MEDIA_Q_RTP = 0, SIPCX_MEDIA_Q_RTCP = 1 };

/**
 * A queue of at most cap packets (1..65536) of at most max_len bytes each
 * (1..65535): cap * max_len bytes are allocated at once.
 * Returns 0, -EINVAL, -ENOMEM.
 */
SIPCX_API int sipcx_media_queue_new(struct sipcx_media_queue **out, unsigned cap, size_t max_len);

/** Free the queue; no thread may be using it. NULL is a no-op. */
SIPCX_API void sipcx_media_queue_free(struct sipcx_media_queue *q);

/**
 * Append a packet (kind SIPCX_MEDIA_Q_*), dropping the oldest when full.
 * Any thread. Returns 0, -EMSGSIZE (longer than max_len: not queued),
 * SIPCX_ECLOSED.
 */
SIPCX_API int sipcx_media_queue_push(struct sipcx_media_queue *q, int kind, const void *data,
                                     size_t len);

/**
 * Take the oldest packet into buf, waiting up to timeout_ms (0: do not wait,
 * negative: forever). Any thread. Returns its length (*kind set when not
 * NULL), -ETIMEDOUT (-EAGAIN when timeout_ms is 0), -EMSGSIZE (buf too
 * small: the packet stays queued), SIPCX_ECLOSED (closed and empty).
 */
SIPCX_API int sipcx_media_queue_pop(struct sipcx_media_queue *q, void *buf, size_t size, int *kind,
                                    int timeout_ms);

/** Close: pushes fail, waiting readers wake up and drain what is left. Any thread. */
SIPCX_API void sipcx_media_queue_close(struct sipcx_media_queue *q);

/** Packets dropped because the queue was full. */
SIPCX_API uint64_t sipcx_media_queue_dropped(struct sipcx_media_queue *q);

#ifdef __cplusplus
}
#endif
#endif
