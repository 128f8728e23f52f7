/* sipcx transports: UDP, TCP, TLS and WebSocket on libuv, stream framing, rport/received (RFC 3261 18, 26.2, RFC 3581). */
#ifndef SIPCX_TRANSPORT_H
#define SIPCX_TRANSPORT_H

#include <sipcx/base.h>
#include <sipcx/msg.h>
#include <sipcx/sockaddr.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sipcx_tp_proto {
	SIPCX_TP_NONE = 0,
	SIPCX_TP_UDP,
	SIPCX_TP_TCP,
	SIPCX_TP_TLS, /**< TLS 1.2+ over TCP (OpenSSL): Via SIP/2.0/TLS, sips: URIs */
	SIPCX_TP_WS,  /**< WebSocket over TCP (RFC 7118): Via SIP/2.0/WS, ;transport=ws */
	SIPCX_TP_WSS, /**< WebSocket over TLS (RFC 7118): Via SIP/2.0/WSS, ;transport=wss */
};

/** A transport address: protocol + socket address ("udp:127.0.0.1:5060"). */
struct sipcx_tp_addr {
	enum sipcx_tp_proto proto;
	union sipcx_sa sa;
};

/** "UDP", "TCP", "TLS", "WS", "WSS"; "" for anything else. */
SIPCX_API const char *sipcx_tp_name(enum sipcx_tp_proto proto);
/** Map "udp"/"tcp"/"tls"/"ws"/"wss" (any case, as in a Via or ;transport=) to the enum; SIPCX_TP_NONE when unknown. */
SIPCX_API enum sipcx_tp_proto sipcx_tp_lookup(struct sipcx_str name);

/**
 * Parse "udp:127.0.0.1:5060", "tcp:[::1]:0", "tls:127.0.0.1:5061",
 * "ws:127.0.0.1:8080", "wss:...", "127.0.0.1" (UDP, port 5060; TLS: 5061;
 * WS: 80; WSS: 443), "[::1]:5070" into *a. The host must be a numeric IP literal. Returns 0 or
 * -EINVAL (*a then undefined).
 */
SIPCX_API int sipcx_tp_addr_parse(struct sipcx_tp_addr *a, const char *s);
/** "udp:[::1]:5060" into buf. Returns the length, -EINVAL or -ENOSPC. */
SIPCX_API int sipcx_tp_addr_print(const struct sipcx_tp_addr *a, char *buf, size_t n);

/*
 * RFC 3581 and RFC 3261 18.2: server side of Via.
 */

/**
 * The parameters a server appends to the top Via of a request it received
 * from src (RFC 3261 18.2.1, RFC 3581 4): ";received=IP" when the sent-by
 * host is not src's address or when rport was asked, and ";rport=PORT" when
 * the Via has an empty rport. Writes them NUL-terminated into out (n bytes;
 * SIPCX_ADDRSTRLEN + 32 always suffices). Returns the length (0: nothing to
 * add), -EINVAL or -ENOSPC.
 */
SIPCX_API int sipcx_tp_via_received(const struct sipcx_via *via, const struct sockaddr *src,
                                    char *out, size_t n);

/**
 * Append to b the top Via value as a server returns or forwards it: via->raw
 * with extra (from sipcx_tp_via_received()) after it, and, when extra fills
 * rport, the empty ";rport" of via->raw dropped so the Via carries one rport
 * (RFC 3581 4: the server sets the parameter's value). Returns 0 or -ENOMEM.
 */
SIPCX_API int sipcx_tp_via_apply(const struct sipcx_via *via, const char *extra,
                                 struct sipcx_buf *b);

/**
 * Where a response to a request received from src with top Via via goes
 * (RFC 3261 18.2.2, RFC 3581 4), when not on the connection the request came
 * on: maddr (numeric) and the sent-by port; else src's address with the
 * source port when rport was asked (UDP only), the sent-by port otherwise
 * (5060 when absent). Returns 0 or -EINVAL.
 */
SIPCX_API int sipcx_tp_response_dst(const struct sipcx_via *via, enum sipcx_tp_proto proto,
                                    const struct sockaddr *src, union sipcx_sa *dst);

/*
 * The transport set: UDP sockets and TCP listeners and connections on one
 * event loop (a struct sipcx_ua makes its own; sipcx_transport_new() in
 * sipcx/embed.h makes one on a loop of the caller's). Every function must be called on the loop's thread, except
 * sipcx_transport_bound() and sipcx_transport_local(), which read only the
 * listen state and may be called from any thread once the listening is
 * done (no sipcx_transport_listen() running).
 */
struct sipcx_transport;

/** A received message, valid during the callback only. */
struct sipcx_tp_pkt {
	enum sipcx_tp_proto proto;
	const struct sockaddr *local;  /**< our address it arrived on */
	const struct sockaddr *remote; /**< the source address */
	uint64_t conn;    /**< TCP: connection id, for answers on the same one; UDP: 0 */
	const char *data; /**< the message bytes */
	size_t len;
	/**
	 * The message parsed into storage of the transport (copy with
	 * sipcx_msg_dup() to keep it). When err < 0 the parse failed
	 * (msg->err says why): a request may still be answered as
	 * sipcx_msg_check() says; on TCP the connection then closes once
	 * pending writes are done.
	 */
	struct sipcx_msg *msg;
	int err;
};

typedef void sipcx_tp_recv_cb(const struct sipcx_tp_pkt *pkt, void *arg);
/**
 * A TCP connection to remote failed (connect refused, reset) or closed while
 * data was waiting to be written: messages sent to it are lost. err is a
 * negative errno.
 */
typedef void sipcx_tp_error_cb(int err, enum sipcx_tp_proto proto, const struct sockaddr *remote,
                               uint64_t conn, void *arg);

struct sipcx_transport_opts {
	sipcx_tp_recv_cb *recv;   /**< required */
	sipcx_tp_error_cb *error; /**< optional */
	void *arg;                /**< passed to both */
	uint32_t tcp_idle_ms;     /**< close a TCP connection idle this long; 0: 120000 */
	unsigned udp_batch;       /**< datagrams per recvmmsg() call; 0: 8; 1: plain recvmsg */
	/** UDP receive buffer (SO_RCVBUF, forced when allowed); 0: 4 MiB. */
	uint32_t udp_rcvbuf;
	/** Connections accepted from one IP address at once, more are closed; 0: 64. */
	uint32_t tcp_max_per_source;
	/** A message begun on a connection must end within this (slowloris), else it closes; 0: 10000. */
	uint32_t tcp_msg_timeout_ms;
	/**
	 * SO_REUSEPORT on the UDP sockets and TCP listeners before bind: several
	 * transports (one per loop thread) may listen on the same address, and
	 * the kernel spreads datagrams and connections over them by a hash of
	 * the peer's address and port (one peer's socket: always the same one).
	 */
	bool reuse_port;
	/*
	 * TLS (RFC 3261 26.2). A client verifies the server's certificate
	 * chain and that it names the address it connected to, unless
	 * tls_insecure; a server needs tls_cert and tls_key (else connections
	 * to a TLS listener are closed at once, its address serving only for
	 * Via and Contact). The server's files are read by
	 * sipcx_transport_listen() (a bad one fails it), the client's when the
	 * first TLS connection is made.
	 */
	/** CA certificates to verify servers with: a PEM file or a hashed directory; NULL: the system store. */
	const char *tls_ca;
	/** Our certificate chain (PEM): a server's, and a client's when a server asks. */
	const char *tls_cert;
	/** Its private key (PEM); NULL: in tls_cert. */
	const char *tls_key;
	/** Do not verify the server's certificate (tests only). */
	bool tls_insecure;
	/** A TLS handshake must end within this once the connection is up; 0: 10000 ms. */
	uint32_t tls_handshake_ms;
};

/**
 * Start listening on addr (UDP: bind and receive; TCP: bind and accept).
 * Port 0 takes an ephemeral port; *bound (may be NULL) gets the address
 * really bound. An IPv6 socket is IPv6-only, so [::] and 0.0.0.0 can share
 * a port. Returns 0 or a negative errno (-EADDRINUSE, -EINVAL, ...).
 */
SIPCX_API int sipcx_transport_listen(struct sipcx_transport *tp, const struct sipcx_tp_addr *addr,
                                     struct sipcx_tp_addr *bound);

/** The i-th bound listen address (in listen order). Returns 0 or -ENOENT past the end. */
SIPCX_API int sipcx_transport_bound(const struct sipcx_transport *tp, size_t i,
                                    struct sipcx_tp_addr *out);

/**
 * The address to advertise (Via sent-by, Contact) for messages to dst: the
 * address of the first listener with dst's protocol and family; a wildcard
 * listener gives the local address the kernel routes dst from (its port
 * kept). Returns 0, -EAFNOSUPPORT (no such listener) or a socket error.
 */
SIPCX_API int sipcx_transport_local(struct sipcx_transport *tp, const struct sipcx_tp_addr *dst,
                                    union sipcx_sa *local);

/**
 * Send one message. UDP: from the first listener of dst's family. TCP, TLS: on
 * connection conn when it is non-zero and still open, else on an open
 * connection with dst, else on a new connection to dst (data is queued
 * until it is up; a failure is reported through the error callback). data
 * is copied when it cannot be written at once. Returns 0, -EAFNOSUPPORT (no
 * UDP socket for the family), -EMSGSIZE (UDP datagram too
 * large), -ENOMEM, or a socket error. TCP and TLS need no listener to send. A TLS connection
 * to an address checks the certificate for that IP address, or for the name
 * given with sipcx_transport_tls_name(); a failed check reaches the error
 * callback as SIPCX_ETLS_VERIFY - n, a failed handshake as SIPCX_ETLS.
 */
SIPCX_API int sipcx_transport_send(struct sipcx_transport *tp, const struct sipcx_tp_addr *dst,
                                   uint64_t conn, const void *data, size_t len);

/**
 * The host name a new TLS connection to dst is for: the server's
 * certificate must name it, and it goes in the TLS SNI (RFC 5922 7, RFC
 * 6066 3). Without one, the certificate must name dst's IP address. The
 * last 64 names are kept. Any thread. Returns 0, -EINVAL, -ENOMEM.
 */
SIPCX_API int sipcx_transport_tls_name(struct sipcx_transport *tp, const union sipcx_sa *dst,
                                       const char *name);

/** Open TCP and TLS connections (accepted or connected, not yet closed). */
SIPCX_API size_t sipcx_transport_conn_count(const struct sipcx_transport *tp);

/**
 * Close every socket and free the set. Memory is released by libuv close
 * callbacks: run the loop (uv_run) until it has no more handles. NULL is
 * accepted. No callback runs after this call.
 */
SIPCX_API void sipcx_transport_free(struct sipcx_transport *tp);

#ifdef __cplusplus
}
#endif
#endif
