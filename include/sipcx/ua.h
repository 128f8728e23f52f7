/* sipcx ua: the asynchronous SIP engine: one libuv loop thread, transports, transactions, dispatch (RFC 3261 8, 17, 18). */
#ifndef SIPCX_UA_H
#define SIPCX_UA_H

#include <sipcx/base.h>
#include <sipcx/msg.h>
#include <sipcx/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A user agent: its own event loop on a thread it starts, the sockets it
 * listens on, the transaction table; media sessions made with
 * sipcx_media_new() run on the same loop. Every callback runs on that loop
 * thread and must not block. The functions below may be called from any
 * thread unless said otherwise; from another thread they are queued to the
 * loop and wait for it where they return a result.
 *
 * A callback never runs inside the call that started it: as in libuv, an
 * outcome known at once (an error while starting a transaction, a send
 * that fails) is delivered on a later turn of the loop, after the call
 * has returned, also when the call is made on the loop thread. If a
 * function that takes a callback fails, the callback is never called.
 */
struct sipcx_ua;

struct sipcx_ua_opts {
	/**
	 * Where to listen: one or more transport addresses separated by
	 * spaces or commas, e.g. "udp:127.0.0.1:5060 tcp:127.0.0.1:5060
	 * tls:127.0.0.1:5061" (TLS: with tls_cert and tls_key to accept
	 * connections; without, its address is only what Via and Contact say).
	 * Numeric IPs; port 0 takes an ephemeral port (see sipcx_ua_bound()).
	 * NULL: "udp:0.0.0.0:0". "": no SIP socket at all (an engine for
	 * media sessions only: requests then fail with -EPROTONOSUPPORT).
	 */
	const char *listen;
	/** User-Agent and Server header value; NULL: "sipcx/VERSION". */
	const char *user_agent;
	/** User part of our Contact and default From; NULL: "sipcx". */
	const char *user;
	/** Transaction timers in ms; 0: RFC 3261 defaults (500, 4000, 5000). */
	uint32_t t1_ms, t2_ms, t4_ms;
	/** Close a TCP connection idle this long; 0: 120000. */
	uint32_t tcp_idle_ms;
	/*
	 * Limits for a UA exposed to the network (each 0: the default).
	 */
	/**
	 * Live transactions at most; a request that would start one more is
	 * answered 503 with Retry-After, statelessly, unless it is inside a
	 * dialog (a To tag: the BYE of a call that is up). 0: no cap.
	 */
	uint32_t max_txns;
	/** UDP receive buffer in bytes (bursts wait there); 0: 4 MiB. */
	uint32_t udp_rcvbuf;
	/** TCP connections accepted from one IP address at once; 0: 64. */
	uint32_t tcp_max_per_source;
	/** A TCP message must arrive whole within this once begun (slowloris); 0: 10000 ms. */
	uint32_t tcp_msg_timeout_ms;
	/**
	 * SO_REUSEPORT on the UDP sockets and TCP listeners: several UAs (each
	 * its own loop thread) listen on the same addresses, and the kernel
	 * spreads the traffic over them by a hash of the peer's address and
	 * port. Every UA on the address must set it. A call lives on the UA
	 * that took its INVITE: a peer that sends the rest of a dialog from
	 * another address or port (another connection) reaches another UA,
	 * which answers 481 (docs/design.md, "Several loops").
	 */
	bool reuse_port;
	/*
	 * TLS (sips: URIs, ;transport=tls, "tls:HOST:PORT" listeners; see
	 * struct sipcx_transport_opts): the CA to verify servers with (NULL:
	 * the system store), our certificate and key (a TLS listener needs
	 * them; a client sends them when asked), and no verification at all.
	 */
	const char *tls_ca, *tls_cert, *tls_key;
	bool tls_insecure;
	/**
	 * DNS servers for RFC 3263 lookups of host names (NAPTR, SRV, A,
	 * AAAA, asked on the UA's loop without blocking it):
	 * "IP:PORT[,IP:PORT...]" ("127.0.0.1:5353", "[::1]:53"). NULL: those
	 * of /etc/resolv.conf. A bad list: sipcx_ua_new() gives -EINVAL.
	 */
	const char *dns_servers;
};

/**
 * Create a UA: parse and bind every listen address (errors are returned
 * here, synchronously), then start its loop thread. opts may be NULL.
 * Returns 0 and *out, -EINVAL (bad listen string), a bind error
 * (-EADDRINUSE, -EADDRNOTAVAIL, ...), SIPCX_ETLSCONF (a TLS certificate or
 * key that does not load), -ENOMEM; *out untouched on failure.
 */
SIPCX_API int sipcx_ua_new(struct sipcx_ua **out, const struct sipcx_ua_opts *opts);

/**
 * Stop the loop thread and free everything. Requests still waiting get
 * their callback once more with SIPCX_ECLOSED (on the loop thread, before
 * this returns); server requests not answered are dropped. Must not be
 * called from the loop thread. NULL is accepted.
 */
SIPCX_API void sipcx_ua_free(struct sipcx_ua *ua);

/**
 * The i-th bound listen address, in the order of opts.listen, with the
 * real port for port 0. Returns 0, -ENOENT past the end, -EINVAL.
 */
SIPCX_API int sipcx_ua_bound(const struct sipcx_ua *ua, size_t i, struct sipcx_tp_addr *out);

/*
 * Client side.
 */

struct sipcx_ua_req_opts {
	const char *method; /**< required: "OPTIONS", "MESSAGE", ... (ACK and CANCEL refused) */
	/**
	 * required: Request-URI, "sip:bob@127.0.0.1:5070", "sip:[::1]:5080;transport=tcp".
	 * Without dst, the request goes to its host: a numeric one at its
	 * port (default 5060, 5061 for TLS) over its ;transport= (default
	 * UDP); a host name is located on the loop (RFC 3263: NAPTR, SRV,
	 * A/AAAA; sipcx_ua_opts.dns_servers) and its targets are tried in
	 * turn, a new transaction each, after a transport error, a Timer F
	 * timeout or a 503 (RFC 3263 4.3).
	 */
	const char *uri;
	/** Send here instead ("tcp:127.0.0.1:5060"): an outbound proxy. NULL: by the URI. */
	const char *dst;
	/** Force a transport over the URI's ;transport= (SIPCX_TP_NONE: no). */
	enum sipcx_tp_proto transport;
	/** To value; NULL: "<uri>". */
	const char *to;
	/** From value without tag; NULL: "<sip:USER@LOCAL-ADDRESS>". */
	const char *from;
	/** Extra headers (copied), printed after ours. */
	const struct sipcx_hdr *hdrs;
	size_t nhdrs;
	/** Content-Type of body (required when body is not empty). */
	const char *content_type;
	struct sipcx_str body;
	/** CSeq number; 0: 1. */
	uint32_t cseq;
	/**
	 * Call-ID; NULL: a new one. A registration keeps one Call-ID for all
	 * its REGISTERs (RFC 3261 10.2.4).
	 */
	const char *call_id;
	/** From tag; NULL: a new one. */
	const char *from_tag;
	/**
	 * Contact value, printed as given ("<sip:alice@192.0.2.1:5060>",
	 * "*"); NULL: ours, "<sip:USER@LOCAL-ADDRESS>"; "": no Contact.
	 */
	const char *contact;
};

/**
 * Responses of one request. err 0: resp is a response (1xx, then one
 * final; valid during the call only: sipcx_msg_dup() to keep it). err < 0:
 * no final response will come, resp is NULL: -ETIMEDOUT (Timer B/F),
 * a transport error (-ECONNREFUSED, SIPCX_ETLS, SIPCX_ETLS_VERIFY - n, ...),
 * SIPCX_ECLOSED (UA freed).
 * After a final response or an error the callback is not called again.
 */
typedef void sipcx_ua_resp_cb(int err, const struct sipcx_msg *resp, void *arg);

/**
 * Build and send a request in a new client transaction (RFC 3261 8.1.1):
 * Via with our sent-by, rport and a new z9hG4bK branch; Max-Forwards 70;
 * From with a new tag; To; a new Call-ID; CSeq; Contact; User-Agent;
 * Content-Type and Content-Length. A request over 1300 bytes whose
 * transport was not chosen (dst, transport, ;transport=) goes over TCP
 * when the UA listens on TCP (RFC 3261 18.1.1). Every string in o is
 * copied before this returns. cb (required) runs on the loop thread.
 * Returns 0 (cb will be called), -EINVAL (missing or bad field,
 * ACK/CANCEL), -EPROTONOSUPPORT (a transport not listened on; sips and
 * ;transport=tls need a "tls:" listener),
 * -EHOSTUNREACH (no address our sockets reach), -ENOMEM, SIPCX_ECLOSED;
 * on error cb is never called. A host name that does not resolve (or has
 * no address of a family we listen on) gives SIPCX_ERESOLVE through cb.
 */
SIPCX_API int sipcx_ua_request(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o,
                               sipcx_ua_resp_cb *cb, void *arg);

/** A function run on the loop thread (sipcx_ua_call()). */
typedef void sipcx_ua_fn(void *arg);

/**
 * Run fn(arg) on the loop thread and wait until it has returned; called on
 * the loop thread (inside a callback), fn runs at once. This is how code
 * built on the engine (registrations, the phone API) touches its loop
 * state from user threads. Returns 0 (fn ran), -EINVAL (NULL ua or fn),
 * SIPCX_ECLOSED (the UA is shutting down: fn did not run).
 */
SIPCX_API int sipcx_ua_call(struct sipcx_ua *ua, sipcx_ua_fn *fn, void *arg);

/*
 * Server side.
 */

/** A received request waiting for its response. */
struct sipcx_ua_srv;

/**
 * A request for a registered method. req is valid until the final
 * response (stateless handler: during the call only). The handler answers
 * with sipcx_ua_respond(), now or later, from any thread.
 */
typedef void sipcx_ua_req_cb(struct sipcx_ua_srv *srv, const struct sipcx_msg *req, void *arg);

/** sipcx_ua_handle() flags. */
enum {
	/**
	 * Answer without a server transaction: the response is sent once,
	 * a retransmitted request calls the handler again. For cheap,
	 * idempotent requests (OPTIONS pings); the response must be given
	 * inside the handler.
	 */
	SIPCX_UA_STATELESS = 1u << 0,
};

/**
 * Handle requests of method (case-sensitive: "INVITE", "MESSAGE", any
 * token) with cb (NULL removes the handler). Without a handler: OPTIONS is
 * answered 200 with Allow, Accept and Supported (statelessly); any other
 * known method 405, an unknown one 501, both with Allow (RFC 3261 8.2.1).
 * INVITE gets an automatic 100 Trying. The change is in effect when this
 * returns. Returns 0, -EINVAL, -ENOMEM, SIPCX_ECLOSED.
 */
SIPCX_API int sipcx_ua_handle(struct sipcx_ua *ua, const char *method, unsigned flags,
                              sipcx_ua_req_cb *cb, void *arg);

/**
 * Answer a request given to a handler (RFC 3261 8.2.6): copies Via (with
 * received/rport, RFC 3581), From, To (adding our tag), Call-ID and CSeq;
 * adds our Contact for 2xx (not to a REGISTER, whose Contacts are its
 * bindings, nor when hdrs has a Contact), Server, then hdrs and body (Content-Type
 * content_type when body is not empty). reason NULL: the default phrase.
 * A 1xx may be followed by more responses; after a final response srv is
 * freed: do not use it again. Arguments are copied.
 * Returns 0, -EINVAL (status not 100..699, NULL srv, bad header),
 * -EPROTO (a final response was already sent), -ENOMEM, SIPCX_ECLOSED.
 */
SIPCX_API int sipcx_ua_respond(struct sipcx_ua_srv *srv, uint16_t status, const char *reason,
                               const struct sipcx_hdr *hdrs, size_t nhdrs, const char *content_type,
                               struct sipcx_str body);

/** Where the request came from (transport, source address). Loop thread only. */
SIPCX_API int sipcx_ua_srv_source(const struct sipcx_ua_srv *srv, struct sipcx_tp_addr *out);

/** Counters, for tests and benchmarks: any thread, no lock; each counter is read whole, together they are approximate. */
struct sipcx_ua_stats {
	uint64_t rx_requests, rx_responses, rx_dropped;
	uint64_t tx_requests, tx_responses;
	uint64_t stateless_responses;
	uint64_t txn_live;
	uint64_t txn_refused; /**< requests answered 503 at the max_txns cap */
	uint64_t
	    retransmissions; /**< requests and responses sent again by their transaction's timers */
	uint64_t calls_busy; /**< INVITEs answered 486 at the listener's max_calls (no call made) */
};
SIPCX_API void sipcx_ua_stats(const struct sipcx_ua *ua, struct sipcx_ua_stats *out);

#ifdef __cplusplus
}
#endif
#endif
