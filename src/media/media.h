/* media: private helpers shared by the media session files (addresses, port pairs, thread-safe I/O). */
#ifndef SIPCX__MEDIA_H
#define SIPCX__MEDIA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <uv.h>

#include <sipcx/media.h>
#include <sipcx/sockaddr.h>

/** An IPv4 or IPv6 socket address. */
union sipcx__maddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/*
 * A session that lives on an engine's loop (ua/media.c): how a call from
 * another thread reaches that loop, and whom to tell when the session
 * goes. Sessions made on a caller's own loop (sipcx_media_new_loop())
 * have none: every call is the loop thread's.
 */
struct sipcx__media_owner {
	bool (*on_loop)(void *ctx);                            /* is this the loop thread? */
	int (*call)(void *ctx, void (*fn)(void *), void *arg); /* run fn there and wait */
	void (*freed)(void *ctx); /* loop thread: the session is gone */
	void *ctx;
};

struct uv_loop_s;
/* sipcx_media_new_loop() with an owner (NULL: none). */
int sipcx__media_new(struct sipcx_media **out, struct uv_loop_s *loop,
                     const struct sipcx_media_opts *opts, const struct sipcx__media_owner *owner);

#define SIPCX__MEDIA_PORT_MIN 10000
#define SIPCX__MEDIA_PORT_MAX 20000

/**
 * Parse an IP literal (IPv4, or IPv6 without brackets) with port into a.
 * When family is AF_INET6 an IPv4 literal becomes ::ffff:a.b.c.d so that an
 * IPv6 (dual-stack) socket can send to it. family 0 keeps the literal's own.
 * Returns 0 or -EINVAL.
 */
int sipcx__maddr_parse(union sipcx__maddr *a, const char *ip, uint16_t port, int family);

/** Copy a socket address (IPv4 or IPv6), mapping IPv4 as above. Returns 0 or -EINVAL. */
int sipcx__maddr_set(union sipcx__maddr *a, const struct sockaddr *sa, int family);

/**
 * Bind two UDP sockets on local's address: RTP on an even port and RTCP on
 * the port above it. With port != 0 exactly port and port + 1; otherwise
 * the first free pair of [min, max] (0/0: the default range), starting
 * after the pair the last call took. Pairs with either port in use are
 * skipped. fd_rtcp NULL (RTCP multiplexed, RFC 5761): the RTP socket only,
 * on the even port of a pair. Returns 0 with the descriptors and *got set,
 * -EINVAL (bad range), -EADDRINUSE (no free pair), or another socket error.
 */
int sipcx__media_bind_pair(const union sipcx__maddr *local, uint16_t port, uint16_t min,
                           uint16_t max, int *fd_rtp, int *fd_rtcp, uint16_t *got);

/*
 * The reflector (reflect.c): a socket pair that returns each RTP and RTCP
 * datagram to its sender if a live call allowed that sender's address, in
 * batches (recvmmsg, sendmmsg). The echo of the UA's sdp_only calls. The
 * descriptors stay the caller's: free the reflector (on the loop thread)
 * before closing them. allow/forget count references per address.
 */
struct sipcx__reflect;
struct sipcx__reflect_stats {
	uint64_t rx, tx, dropped;
};
int sipcx__reflect_new(struct sipcx__reflect **out, uv_loop_t *loop, int fd_rtp, int fd_rtcp);
void sipcx__reflect_free(struct sipcx__reflect *r);
int sipcx__reflect_allow(struct sipcx__reflect *r, const struct sockaddr *sa);
void sipcx__reflect_forget(struct sipcx__reflect *r, const struct sockaddr *sa);
void sipcx__reflect_stats(const struct sipcx__reflect *r, struct sipcx__reflect_stats *st);

/*
 * The largest datagram the session takes in or sends from a queue: one
 * receive buffer of this size serves every session of a loop thread.
 */
#define SIPCX__MEDIA_MAX_PKT 8192

/*
 * A packet kind of the send queue besides SIPCX_MEDIA_Q_RTP/RTCP: a payload
 * for the session to put behind its own header, stored after a prefix of
 * the RTP timestamp (4 bytes, host order) and the marker (1 byte).
 */
enum { SIPCX__MEDIA_Q_PAYLOAD = 2 };
#define SIPCX__MEDIA_PAYLOAD_PREFIX 5

/**
 * Append pre (plen bytes) then data (len bytes) as one packet, waiting for
 * room up to timeout_ms (0: do not wait, negative: forever) instead of
 * dropping the oldest. Any thread. Returns 0, -EMSGSIZE, SIPCX_ECLOSED,
 * -EAGAIN (full and timeout_ms 0), -ETIMEDOUT (still full at the deadline).
 */
int sipcx__media_queue_put(struct sipcx_media_queue *q, int kind, const void *pre, size_t plen,
                           const void *data, size_t len, int timeout_ms);

/** Threads blocked in sipcx_media_queue_pop() or sipcx__media_queue_put() now (for tests). */
unsigned sipcx__media_queue_waiters(struct sipcx_media_queue *q);

/*
 * The thread-safe side of a session (io.c): the receive queues user threads
 * read, and the send queue the loop drains from a uv_async_t. It is
 * refcounted apart from the session: the session holds one reference until
 * its async handle is closed, and every call of a user thread holds one
 * while it runs, so a reader woken by the session's free returns safely.
 */
struct sipcx__media_io;

/** Allocate it (queues of cap packets of at most max_len bytes). Returns 0 or -ENOMEM. */
int sipcx__media_io_new(struct sipcx__media_io **out, unsigned cap, size_t max_len);

/** Start its uv_async_t on loop, sending for m. Returns 0 or a libuv error. */
int sipcx__media_io_attach(struct sipcx__media_io *io, struct uv_loop_s *loop,
                           struct sipcx_media *m);

/** Free one that was never attached. */
void sipcx__media_io_destroy(struct sipcx__media_io *io);

/**
 * Loop thread, from sipcx_media_free(): close it (waking every user
 * thread), send what is still queued, close the async handle. The memory
 * goes when the last user thread has left.
 */
void sipcx__media_io_shutdown(struct sipcx__media_io *io);

/** Loop thread: queue a received packet (SIPCX_MEDIA_Q_RTP or _RTCP) for the readers. */
void sipcx__media_io_rx(struct sipcx__media_io *io, int kind, const void *data, size_t len);

/*
 * User threads, on an io held with sipcx__media_io_hold() (it may outlive
 * its session: then posts fail with SIPCX_ECLOSED and reads drain what is
 * left, then -ECANCELED). As sipcx_media_post_*() and sipcx_media_read_*().
 */
int sipcx__media_io_post(struct sipcx__media_io *io, int kind, const void *pre, size_t plen,
                         const void *data, size_t len, int timeout_ms);
int sipcx__media_io_read(struct sipcx__media_io *io, bool rtcp, void *buf, size_t size,
                         int timeout_ms);

/** Counters for sipcx_media_stats(): posts refused as the send queue was full; received packets lost. */
void sipcx__media_io_counters(struct sipcx__media_io *io, uint64_t *tx_full, uint64_t *rx_dropped);

/**
 * Loop thread: send one packet a user thread posted, counting it like the
 * loop-thread functions do, and as tx_dropped when it cannot go out.
 */
void sipcx__media_send_posted(struct sipcx_media *m, int kind, const uint8_t *data, size_t len);

/**
 * Take a reference on m's io as a call of a user thread does while it runs
 * (NULL without io); sipcx__media_io_release() drops it. For tests: the
 * memory must outlive the session while one is held.
 */
struct sipcx__media_io *sipcx__media_io_hold(struct sipcx_media *m);
void sipcx__media_io_release(struct sipcx__media_io *io);

/** Threads blocked in a read or a post of m's thread-safe I/O now (for tests). */
unsigned sipcx__media_io_waiters(const struct sipcx_media *m);

/* ------------------------------------------ the session (session.c) -- */

#define SIPCX__MEDIA_RTCP_MS 5000u /* default mean RTCP interval */
#define SIPCX__MEDIA_MAX_PTIME_MS 200u
#define SIPCX__MEDIA_SR_HISTORY 4 /* our last SRs, to recognise them when an echo reflects them */

struct sipcx__media_peer {
	union sipcx__maddr neg; /* negotiated (SDP) */
	union sipcx__maddr cur; /* where we send */
	bool has_neg;
	bool has_cur;
	bool seen_neg; /* a packet came from the negotiated address */
	bool latched;  /* cur was learnt from a stranger */
};

/*
 * One UDP socket of a session: the descriptor, watched by a uv_poll_t. Not a
 * uv_udp_t: libuv reads a datagram per recvmsg() and then once more until
 * EAGAIN, a wasted system call for each packet of a socket that gets one every
 * 20 ms; the session reads with recvmmsg() and stops at a short batch.
 */
struct sipcx__media_sock {
	uv_poll_t h;
	int fd;
};

struct sipcx__media_sr {
	uint32_t mid;
	uint64_t us;
};

struct sipcx_media {
	struct sipcx__media_sock rtp;
	struct sipcx__media_sock rtcp;
	uv_timer_t tx_timer;
	uv_timer_t ctl_timer;

	union sipcx__maddr local; /* the bound RTP address (RTCP: port + 1), for the wire trace */
	int family;
	uint16_t port;
	uint8_t pending_close;
	bool rtcp_sock; /* the RTCP socket is open (none: RTCP multiplexed on the RTP one) */
	bool rtcp_mux;  /* RFC 5761: RTCP goes to the RTP peer unless an RTCP peer is set */
	bool closing;
	bool started;
	bool tx_running;
	bool timed_out;
	bool have_src;
	bool recvonly;
	bool echo_rtcp;
	bool rtcp_off;
	bool debug;
	uint8_t handler;
	uint8_t latch;
	uint8_t pt;
	int8_t dtmf_pt;
	uint16_t tone_hz;

	uint32_t clock;
	uint32_t ptime_ms;
	uint32_t rtcp_ms;
	uint32_t inactivity_ms;

	sipcx_media_event_cb *on_event;
	sipcx_media_rtp_cb *on_rtp;
	sipcx_media_rtcp_cb *on_rtcp;
	sipcx_media_fill_cb *fill;
	sipcx_media_log_cb *log;
	void *arg;
	struct sipcx_media_queue *rxq;
	struct sipcx__media_io *io;      /* thread-safe I/O, or NULL */
	struct sipcx__media_owner owner; /* a session on an engine's loop; zeroed: none */

	struct sipcx__media_peer rtp_peer;
	struct sipcx__media_peer rtcp_peer;

	/* sending */
	uint16_t seq;
	bool marker_next;
	uint32_t ts;
	uint64_t tx_next_us;
	struct sipcx_media_tone tone;
	struct sipcx_rtp_sender snd;

	/* RFC 4733 sending (send.c): the digits waiting, the event on the wire */
	struct sipcx_rtp_event_tx dtmf_tx;
	char dtmf_q[64];
	uint8_t dtmf_qlen, dtmf_qpos;
	bool dtmf_on; /* an event is being sent */
	uint8_t dtmf_vol;
	uint16_t dtmf_dur_ms, dtmf_gap_ms;
	uint64_t dtmf_next_us; /* the next digit starts no earlier */

	/* the negotiated codec (NULL: one we cannot run) and its states, made when first used */
	const struct sipcx_codec_desc *codec;
	struct sipcx_codec *enc, *dec;
	/* SIPCX_MEDIA_TONE in G.711 with a whole number of periods a packet: every packet is
	 * the same, encoded once (for tone_codec, tone_frame_len bytes; NULL: not cached) */
	uint8_t *tone_frame;
	uint16_t tone_frame_len;
	const struct sipcx_codec_desc *tone_codec;

	/* files and the tone detector (not owned): see sipcx_media_opts */
	struct sipcx_wav *play, *record;
	struct sipcx_tone_detect *detect;
	bool play_loop;
	bool rec_started;
	uint32_t rec_next_ts; /* the RTP timestamp the recording has reached */

	/* receiving */
	struct sipcx_rtp_source src;
	uint64_t last_rx_us;
	struct sipcx_rtp_event_rx dtmf;

	/* RTCP */
	uint64_t rtcp_next_us;
	uint64_t report_prev_us; /* the report before the last one (RFC 3550 6.4: we_sent) */
	uint64_t report_last_us;
	struct sipcx__media_sr sr[SIPCX__MEDIA_SR_HISTORY];
	uint8_t sr_pos;

	struct sipcx_media_stats st;
	char cname[64];
	struct sipcx__srtp *srtp; /* keys negotiated: every packet is protected (srtp.c), or NULL */
};

/* Wall-clock time (for RTCP's NTP timestamps), in microseconds. */
static inline uint64_t sipcx__media_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A session on an engine's loop, called from another thread: the call goes to the loop. */
static inline bool sipcx__media_off_loop(const struct sipcx_media *m)
{
	return m && m->owner.call && !m->owner.on_loop(m->owner.ctx);
}

/* One call forwarded to the loop: the function, its arguments, its result. */
struct sipcx__media_hop {
	struct sipcx_media *m;
	const void *p1;
	const char *addr;
	uint16_t port, rtcp_port;
	void *out;
	int r;
};
/* Run fn(h) on the session's loop and wait; its result (or the engine's error). */
int sipcx__media_hop(struct sipcx_media *m, void (*fn)(void *), struct sipcx__media_hop *h);

/* The session's io, NULL when opts.io_queue was 0 (set once when it is made). */
static inline struct sipcx__media_io *sipcx__media_io_of(const struct sipcx_media *m)
{
	return m->io;
}

/* ------------------------------------ events and debug lines (log.c) -- */

/* RTP/RTCP debug lines wanted (opts.log, or debug with the library log at debug level). */
bool sipcx__media_logging(const struct sipcx_media *m);
/* Hand a packet to the wire trace (when RTP or RTCP is traced); h is the socket it used. */
void sipcx__media_trace_pkt(struct sipcx_media *m, struct sipcx__media_sock *h, bool send,
                            const struct sockaddr *peer, const void *data, size_t len);
void sipcx__media_log_pkt(struct sipcx_media *m, const char *what, const struct sockaddr *peer,
                          bool rtcp, const void *data, size_t len);
/* Report an event to opts.on_event. */
void sipcx__media_emit(struct sipcx_media *m, enum sipcx_media_event_type type, bool rtcp,
                       const struct sockaddr *addr, int err);

/* ------------------------------------------ the send clock (send.c) -- */

/* Send one datagram on h (the RTP or the RTCP socket), counted and logged: 0 or -errno. */
int sipcx__media_send_on(struct sipcx_media *m, struct sipcx__media_sock *h, const void *data,
                         size_t len, const struct sockaddr *to);
/*
 * A datagram on h is RTCP: the RTCP socket's, or RTCP multiplexed on the RTP
 * one (RFC 5761 4), told apart per packet by its second byte.
 */
static inline bool sipcx__media_is_rtcp(const struct sipcx_media *m,
                                        const struct sipcx__media_sock *h, const void *data,
                                        size_t len)
{
	return h == &m->rtcp || sipcx_rtp_is_rtcp(data, len);
}
/* No RTCP socket: RTCP is multiplexed on the RTP one (RFC 5761). */
static inline bool sipcx__media_one_socket(const struct sipcx_media *m)
{
	return m && !m->rtcp_sock;
}
/* The socket RTCP goes out on: the RTCP one, or the RTP one when there is none. */
static inline struct sipcx__media_sock *sipcx__media_rtcp_h(struct sipcx_media *m)
{
	return m->rtcp_sock ? &m->rtcp : &m->rtp;
}
/* Where RTCP goes: the RTCP peer, else the RTP peer (multiplexed) or one port up; NULL when unknown. */
const struct sockaddr *sipcx__media_rtcp_dest(struct sipcx_media *m, union sipcx__maddr *tmp);
/* Start the ptime clock of the built-in handlers now; stop it. */
void sipcx__media_tx_start(struct sipcx_media *m, uint64_t now);
/* The clock makes audio itself (silence, tone, file, fill); echo and none only run it for DTMF. */
static inline bool sipcx__media_makes_audio(const struct sipcx_media *m)
{
	return m->handler >= SIPCX_MEDIA_SILENCE;
}
/* One ptime step of the RFC 4733 sender: true when it took the step (sent or waits in a gap). */
bool sipcx__media_dtmf_step(struct sipcx_media *m, uint64_t now);
void sipcx__media_tx_stop(struct sipcx_media *m);

/* ----------------------------------- audio through a codec (audio.c) -- */

/*
 * Take the codec called name (NULL: the static payload type pt's); an
 * unknown one is SIPCX_ENOCODEC when a built-in handler must make audio.
 */
int sipcx__media_codec_set(struct sipcx_media *m, const char *name, int pt);
/* The ptime to send: the one asked, or 20 ms when the codec cannot frame it (Opus: 5-60 ms). */
unsigned sipcx__media_codec_ptime(const struct sipcx_media *m, unsigned ptime);
/* Free the codec's states (when the session goes, or the codec changes). */
void sipcx__media_codec_free(struct sipcx_media *m);
/* The payload of one ptime of SILENCE, TONE or PLAY, encoded: its length, or negative. */
int sipcx__media_audio_out(struct sipcx_media *m, uint8_t *payload, size_t size);
/* A received packet of the codec's payload type: decoded into the recording and the detector. */
void sipcx__media_audio_in(struct sipcx_media *m, const struct sipcx_rtp_pkt *pkt);

/* -------------------------------------------------- SRTP (srtp.c) -- */

/*
 * SRTP and SRTCP contexts for one session: what we send protected with our
 * key, what we receive unprotected with the peer's (RFC 3711). libsrtp2 is
 * initialised once per process, on the first use.
 */
struct sipcx__srtp;
/* Both directions of suite with the two master keys (key || salt). 0, -EINVAL, -ENOMEM, -ENOTSUP. */
int sipcx__srtp_new(struct sipcx__srtp **out, enum sipcx_srtp_suite suite, const uint8_t *tx_key,
                    const uint8_t *rx_key);
void sipcx__srtp_free(struct sipcx__srtp *s);
/* s (may be NULL) was made with these keys. */
bool sipcx__srtp_same(const struct sipcx__srtp *s, enum sipcx_srtp_suite suite,
                      const uint8_t *tx_key, const uint8_t *rx_key);
/* Protect the packet in buf (len bytes, room for cap) in place: 0, -EMSGSIZE, -EALREADY
 * (an index used already), -EINVAL. */
int sipcx__srtp_protect(struct sipcx__srtp *s, bool rtcp, uint8_t *buf, size_t *len, size_t cap);
/* Check and decrypt in place: 0, -EBADMSG (authentication failed), -EALREADY (a replay),
 * -EINVAL (not SRTP: too short, unknown key). */
int sipcx__srtp_unprotect(struct sipcx__srtp *s, bool rtcp, uint8_t *buf, size_t *len);

/* The keys of res on m (none: plain RTP again); the same keys keep the contexts. */
int sipcx__media_srtp_apply(struct sipcx_media *m, const struct sipcx_sdp_result *res);
/* The protected copy of a datagram for h (*len updated), NULL when it cannot be protected. */
const void *sipcx__media_srtp_out(struct sipcx_media *m, struct sipcx__media_sock *h,
                                  const void *data, size_t *len);
/* Unprotect a received datagram in place; false (counted) when it must be dropped. */
bool sipcx__media_srtp_in(struct sipcx_media *m, struct sipcx__media_sock *h, uint8_t *data,
                          size_t *len);

/* ------------------------------------- RTCP and timeouts (report.c) -- */

/* RFC 3550 6.3.1: a report interval randomised to 0.5-1.5 times the mean. */
uint32_t sipcx__media_rtcp_interval_us(struct sipcx_media *m);
/* Send a report (SR or RR with SDES CNAME) now: sipcx_media_send_rtcp() on the loop. */
int sipcx__media_report_now(struct sipcx_media *m);
/* Arm the control timer: the next report, or the inactivity timeout. */
void sipcx__media_ctl_arm(struct sipcx_media *m);
/* A last report with an RTCP BYE (RFC 3550 6.6), when the peer is known. */
void sipcx__media_send_bye(struct sipcx_media *m);

#endif
