/* ua: private state of the engine, shared by the loop, client and server files (RFC 3261 8, 17). */
#ifndef SIPCX__UA_H
#define SIPCX__UA_H

#include <string.h>

#include <uv.h>

#include <sipcx/txn.h>
#include <sipcx/ua.h>

#include "base/base.h"
#include "ua/wheel.h"

/* The reply scratch buffer is kept between responses up to this capacity. */
#define UA_SCRATCH_KEEP 8192u

/* The loop is the only writer of ua->stats and other threads read them
 * (sipcx_ua_stats): relaxed atomic loads and stores, which on common CPUs are plain
 * moves, so counting costs no locked instruction and no reader sees a torn value. */
#define UA_STAT_ADD(ua, f, n)                                                                     \
	__atomic_store_n(&(ua)->stats.f, __atomic_load_n(&(ua)->stats.f, __ATOMIC_RELAXED) + (n), \
	                 __ATOMIC_RELAXED)
#define UA_STAT_SUB(ua, f, n)                                                                     \
	__atomic_store_n(&(ua)->stats.f, __atomic_load_n(&(ua)->stats.f, __ATOMIC_RELAXED) - (n), \
	                 __ATOMIC_RELAXED)

struct sipcx_ua;
struct sipcx__dns;

/*
 * A transport address as a transaction keeps it for its lifetime: IPv4 or
 * IPv6 only (what the transports speak), without the 100 bytes of
 * sockaddr_storage padding that struct sipcx_tp_addr carries.
 */
struct ua_addr {
	enum sipcx_tp_proto proto;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} sa;
};

static inline void ua_addr_set(struct ua_addr *a, const struct sipcx_tp_addr *from)
{
	size_t n = sipcx_sa_len(&from->sa.sa);
	memset(a, 0, sizeof(*a));
	a->proto = from->proto;
	memcpy(&a->sa, &from->sa, n < sizeof(a->sa) ? n : sizeof(a->sa));
}

static inline void ua_addr_get(const struct ua_addr *a, struct sipcx_tp_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->proto = a->proto;
	memcpy(&out->sa, &a->sa, sizeof(a->sa));
}

struct ua_txn;

/*
 * What a call (call.c) wants to hear from its transactions beyond the
 * response callback: a server transaction's ACK (EV_ACK) and its Timer H/L
 * or transport error (EV_TIMEOUT, EV_TRANSPORT_ERROR); a CANCEL matching a
 * server INVITE (the hook answers it: 487); the transaction being freed.
 */
struct ua_txn_hooks {
	void (*event)(struct ua_txn *ut, const struct sipcx_txn_event *ev, void *arg);
	void (*cancelled)(struct ua_txn *ut, const struct sipcx_msg *cancel, void *arg);
	void (*gone)(struct ua_txn *ut, void *arg);
};

/* A transaction with its timer and where its messages go. */
struct ua_txn {
	struct sipcx_ua *ua;
	struct sipcx_txn *t;
	struct ua_txn *next, **pprev; /* ua->txns */
	/* Its deadline in ua->timers (wheel.h), in ms of sipcx_now_us(). */
	struct sipcx__wheel_entry tm;
	struct ua_addr dst; /* client: the next hop; server: where responses go */
	uint64_t conn;      /* server over TCP: the request's connection */
	bool client;
	bool dead;    /* terminated: freed when its output has been handled */
	bool all_2xx; /* client INVITE: every 2xx reaches cb, not only the first final */
	const struct ua_txn_hooks *hooks;
	void *hook_arg;
	/* client */
	sipcx_ua_resp_cb *cb;
	void *arg;
	bool finished; /* the callback had its last call */
	/* server */
	struct sipcx_ua_srv *srv; /* until the final response */
};

struct sipcx_ua_srv {
	struct sipcx_ua *ua;
	struct ua_txn *ut; /* NULL: stateless, or the transaction ended early */
	const struct sipcx_msg *req;
	struct sipcx_tp_addr src;
	struct sipcx_tp_addr dst;
	uint64_t conn;
	const char *via_extra; /* ";received=...;rport=..." for the top Via */
	const char *to_tag;
	bool stateless;
	bool final_sent;
	struct sipcx_ua_srv *next, **pprev; /* ua->srvs (stateful only) */
	/* Stateful: what via_extra and to_tag point to, until the final response. */
	char via_buf[96];
	char tag_buf[16];
};

struct ua_handler {
	char *method; /* for OTHER methods */
	enum sipcx_method id;
	unsigned flags;
	sipcx_ua_req_cb *cb;
	void *arg;
	struct ua_handler *next;
};

enum ua_job_type {
	UA_JOB_REQUEST,
	UA_JOB_RESPOND,
	UA_JOB_HANDLE,
	UA_JOB_CALL,
	UA_JOB_POST, /* fn(arg) on a later turn; nobody waits (sipcx__ua_post()) */
};

/* Where and how a request came in, and the Via additions its responses need. */
struct ua_origin {
	struct sipcx_tp_addr src;
	struct sipcx_tp_addr dst; /* where responses go */
	uint64_t conn;
	char via_extra[96];
	char to_tag[24];
};

/*
 * A stateless proxy in front of the handlers (proxy.c). req sees every
 * request that no server transaction took (ACK and CANCEL included); resp
 * sees every response with more than one Via. Each returns true when it
 * took the message.
 */
struct ua_proxy {
	bool (*req)(struct sipcx_ua *ua, const struct sipcx_tp_pkt *pkt, const struct ua_origin *og,
	            void *arg);
	bool (*resp)(struct sipcx_ua *ua, const struct sipcx_tp_pkt *pkt, void *arg);
	void *arg;
};

/*
 * Something living on the loop (a registration's timer) that must let go
 * before the loop stops: close() runs on the loop thread when the UA
 * shuts down, before pending requests get SIPCX_ECLOSED.
 */
struct ua_closer {
	void (*close)(void *arg);
	void *arg;
	struct ua_closer *next, **pprev;
};

struct ua_job {
	struct ua_job *next;
	enum ua_job_type type;
	/* synchronous jobs: the caller waits for done */
	bool sync;
	bool done;
	int result;
	/* REQUEST: owned bytes */
	char *bytes;
	size_t len;
	struct sipcx_tp_addr dst;
	sipcx_ua_resp_cb *cb;
	void *arg;
	/* RESPOND (borrowed from the waiting caller) */
	struct sipcx_ua_srv *srv;
	uint16_t status;
	const char *reason;
	const struct sipcx_hdr *hdrs;
	size_t nhdrs;
	const char *content_type;
	struct sipcx_str body;
	/* HANDLE */
	const char *method;
	unsigned flags;
	sipcx_ua_req_cb *hcb;
	/* CALL */
	sipcx_ua_fn *fn;
};

/* The wheel of every deadline (wheel.h) on one libuv timer. Loop thread only. */
struct ua_timers {
	uv_timer_t uv;
	uint64_t armed_ms; /* the uv timer fires at this ms; SIPCX__WHEEL_NEVER: stopped */
	struct sipcx__wheel w;
};

struct sipcx_ua {
	uv_loop_t loop;
	uv_thread_t thread;
	uv_thread_t loop_tid;
	bool loop_tid_set;
	uv_async_t wake;
	uv_mutex_t lock;
	uv_cond_t cond;
	struct ua_job *q_head, *q_tail; /* under lock */
	bool stopping;                  /* under lock */

	struct sipcx_transport *tp;
	struct sipcx_tp_addr *bound;
	size_t nbound;
	struct sipcx_txn_table *table;
	struct ua_timers timers;
	struct ua_txn *txns;
	struct sipcx_ua_srv *srvs;
	struct sipcx_buf scratch; /* loop thread: responses are built here, then copied or sent */
	struct sipcx_buf via_scratch; /* loop thread: the top Via with received/rport */
	/* Loop thread: our Contact for 2xx to the last destination address (see contact_for()). */
	struct {
		enum sipcx_tp_proto proto;
		bool sips;          /* for a sips request: "<sips:...>" */
		union sipcx_sa dst; /* port ignored */
		uint64_t until_us;
		char value[SIPCX_ADDRSTRLEN + 64];
	} contact;
	struct ua_handler *handlers;
	char allow[256];
	char *user_agent;
	char *user;
	struct sipcx_txn_opts topts;
	struct sipcx_ua_stats stats; /* written by the loop only, with UA_STAT_ADD/SUB */
	struct ua_proxy proxy;       /* loop thread only */
	struct ua_closer *closers;   /* loop thread only */
	struct ua_calls *calls; /* loop thread: calls and their dialogs (call.c), NULL until used */
	bool closed;            /* loop thread: shutting down, send nothing new */
	/* Limits and extensions (server.c): loop thread. */
	uint64_t max_txns;      /* live transactions before 503; 0: no cap */
	char supported[64];     /* option tags we support (Require, Supported of OPTIONS) */
	struct sipcx__dns *dns; /* RFC 3263 resolver (dns.c): loop thread */
};

/* ua.c */
bool sipcx__ua_on_loop(const struct sipcx_ua *ua);
/*
 * Give e (fire set by its owner) the deadline at_us (sipcx_now_us() time;
 * UINT64_MAX: none) on the UA's timer wheel, rounded up to the ms. Loop thread.
 */
void sipcx__ua_timer_set(struct sipcx_ua *ua, struct sipcx__wheel_entry *e, uint64_t at_us);
int sipcx__ua_submit(struct sipcx_ua *ua, struct ua_job *job);
void sipcx__ua_txn_apply(struct ua_txn *ut, struct sipcx_txn_out *o);
/*
 * The ua's state of a new transaction t, created with opts.user_size =
 * sizeof(struct ua_txn): it lives in t's user area (one allocation), is
 * linked in ua->txns, and is freed with t.
 */
struct ua_txn *sipcx__ua_txn_init(struct sipcx_ua *ua, struct sipcx_txn *t);
/* Our address for messages to dst (Via, Contact), printed "host:port" with brackets for IPv6. */
int sipcx__ua_local(struct sipcx_ua *ua, const struct sipcx_tp_addr *dst, char *hostport, size_t n,
                    char *host, size_t hn);

/*
 * Run fn(arg) on the loop thread on a later turn, without waiting (any
 * thread, the loop's included). Returns 0, -ENOMEM, SIPCX_ECLOSED (the UA
 * is shutting down: fn will not run).
 */
int sipcx__ua_post(struct sipcx_ua *ua, sipcx_ua_fn *fn, void *arg);

/* Register or remove a closer (loop thread). */
void sipcx__ua_closer_add(struct sipcx_ua *ua, struct ua_closer *c);
void sipcx__ua_closer_del(struct ua_closer *c);

/*
 * reg.c, for the phone layer's blocking calls (loop thread unless said).
 * watch: fn runs after every state change (after the user's callback) and
 * when an unregistration finishes; one watcher, NULL removes it.
 * close_begin/close_end: sipcx_reg_free() in two halves, so a waiter can
 * wait in between for close_done (the answer to Expires: 0, or giving up).
 */
struct sipcx_reg;
void sipcx__reg_watch(struct sipcx_reg *reg, void (*fn)(struct sipcx_reg *, void *), void *arg);
void sipcx__reg_close_begin(struct sipcx_reg *reg);
bool sipcx__reg_close_done(struct sipcx_reg *reg); /* any thread */
void sipcx__reg_close_end(struct sipcx_reg *reg);
uint32_t sipcx__reg_unregister_timeout_ms(const struct sipcx_reg *reg); /* any thread */
struct sipcx_ua *sipcx__reg_ua(const struct sipcx_reg *reg);            /* any thread */

/* client.c */
/* Whether ua listens on proto for family (0: any family). */
bool sipcx__ua_listening(const struct sipcx_ua *ua, enum sipcx_tp_proto proto, int family);
/*
 * Where a request for the URI u goes (RFC 3261 8.1.2, 18.1.1): its
 * ;transport= (or force when not SIPCX_TP_NONE), its numeric host, its
 * port. A host name is never resolved here (-EAGAIN): the caller locates
 * it on the loop (sipcx__dns_locate(); in a dialog, call_hop.c).
 */
int sipcx__ua_uri_dst(const struct sipcx_uri *u, enum sipcx_tp_proto force,
                      struct sipcx_tp_addr *dst);
/* "SIP/2.0/UDP host:port;rport;branch=BRANCH" of ours for a request to dst. */
int sipcx__ua_via(struct sipcx_ua *ua, const struct sipcx_tp_addr *dst, const char *branch,
                  char *out, size_t n);
/*
 * Our Contact for messages to dst: "<sip:USER@host:port>" (";transport=tcp"
 * over TCP, ";transport=tls" over TLS), "<sips:USER@host:port>" when sips
 * (RFC 3261 8.1.1.8, 12.1.1: the request was for a sips URI).
 */
int sipcx__ua_contact(struct sipcx_ua *ua, const struct sipcx_tp_addr *dst, const char *user,
                      bool sips, char *out, size_t n);

/* A connection-oriented transport (TCP, TLS, WS, WSS): reliable, with connections to reuse. */
static inline bool sipcx__ua_stream(enum sipcx_tp_proto p)
{
	return p == SIPCX_TP_TCP || p == SIPCX_TP_TLS || p == SIPCX_TP_WS || p == SIPCX_TP_WSS;
}

/* The ;transport= parameter our sip: URIs carry over p ("" for UDP). */
static inline const char *sipcx__ua_tp_param(enum sipcx_tp_proto p)
{
	switch (p) {
	case SIPCX_TP_TCP:
		return ";transport=tcp";
	case SIPCX_TP_TLS:
		return ";transport=tls";
	case SIPCX_TP_WS:
	case SIPCX_TP_WSS:
		return ";transport=ws"; /* RFC 7118 5.2: for secure WebSockets too */
	default:
		return "";
	}
}

/*
 * The port a URI without one means (RFC 3261 19.1.2): 5061 for sips or TLS;
 * WebSocket: HTTP's 80 and 443 (RFC 7118 names none; sipgo does the same).
 */
static inline uint16_t sipcx__ua_default_port(enum sipcx_tp_proto p)
{
	return p == SIPCX_TP_TLS ? 5061 : p == SIPCX_TP_WS ? 80 : p == SIPCX_TP_WSS ? 443 : 5060;
}
/* The request bytes of o to dst with this branch, From tag and Call-ID (RFC 3261 8.1.1), appended to b. */
int sipcx__ua_build_request(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o,
                            const struct sipcx_tp_addr *dst, const char *branch, const char *tag,
                            const char *callid, struct sipcx_buf *b);
/*
 * Loop thread: start a client transaction for ready request bytes (with
 * our top Via) to dst, and send them now. Returns the transaction, or NULL
 * and *err (cb never called: a failed first send is an error here). The
 * callback runs for the responses as sipcx_ua_request()'s does.
 */
struct ua_txn *sipcx__ua_client_send(struct sipcx_ua *ua, const char *bytes, size_t len,
                                     const struct sipcx_tp_addr *dst, sipcx_ua_resp_cb *cb,
                                     void *arg, int *err);
/*
 * The bytes of o for dst (RFC 3261 8.1.1), moved to TCP when over 1300
 * bytes on UDP and the transport was not forced (18.1.1: dst->proto changes).
 */
int sipcx__ua_build_for(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o,
                        struct sipcx_tp_addr *dst, bool forced, const char *branch, const char *tag,
                        const char *callid, struct sipcx_buf *b);
/*
 * failover.c: sipcx_ua_request() for a URI whose host is a name: o is
 * copied, the targets are located on the loop (RFC 3263, dns.c) and tried
 * in turn (4.3: a transport error, a timeout or a 503 moves to the next, in
 * a new transaction). Any thread; cb as sipcx_ua_request()'s, a lookup
 * that fails gives SIPCX_ERESOLVE there.
 */
int sipcx__ua_request_located(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o,
                              sipcx_ua_resp_cb *cb, void *arg);
/* o goes to a host name (no dst, a sip/sips URI whose host is not an IP): RFC 3263 on the loop. */
bool sipcx__ua_by_name(const struct sipcx_ua_req_opts *o);
/*
 * For such a request, before its lookup: the transport it will use (the
 * URI's or forced; UDP when neither) and a loopback address of a family we
 * listen on, to print what depends on them (a registration's Contact).
 * Returns 0, -EINVAL, -EPROTONOSUPPORT.
 */
int sipcx__ua_name_hop(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o,
                       struct sipcx_tp_addr *dst);
/* The next hop of a request (RFC 3261 8.1.2, 18.1.1); forced: the transport was chosen. */
int sipcx__ua_next_hop(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o,
                       struct sipcx_tp_addr *dst, bool *forced);
void sipcx__ua_client_start(struct sipcx_ua *ua, struct ua_job *job);
void sipcx__ua_client_close_all(struct sipcx_ua *ua);

/* call.c: an in-dialog request (To tag) for one of our calls; true when taken. */
bool sipcx__calls_dispatch(struct sipcx_ua *ua, const struct ua_origin *og,
                           const struct sipcx_msg *m);
/* The option tags the calls do (a Require of theirs is not refused, our INVITE says Supported). */
#define SIPCX__CALL_TAGS "replaces"
/* All the option tags of calls (RFC 3891, RFC 3262, RFC 4028): our Supported, OPTIONS' too. */
#define SIPCX__CALL_TAGS_ALL SIPCX__CALL_TAGS ", 100rel, timer"
/* call.c: the option tags the calls add to OPTIONS' Supported ("" without calls). */
const char *sipcx__calls_supported(const struct sipcx_ua *ua);
/* call_in.c: an initial INVITE no handler takes; true when a listener took it (or it replaces a call). */
bool sipcx__call_incoming(struct sipcx_ua *ua, const struct ua_origin *og,
                          const struct sipcx_msg *m);
/* call.c: the methods the calls answer, for Allow ("" when not listening). */
bool sipcx__calls_listening(const struct sipcx_ua *ua);
/* Loop thread: the calls not over yet; with end, each is ended first (sipcx_call_end(), reason). */
size_t sipcx__calls_end_all(struct sipcx_ua *ua, const char *reason, bool end);
/* call_prack.c: an INVITE the calls would take Requires tag: do they support it (100rel, timer)? */
bool sipcx__calls_supports(const struct sipcx_ua *ua, const struct sipcx_msg *m,
                           struct sipcx_str tag);

/* server.c */
void sipcx__ua_recv(const struct sipcx_tp_pkt *pkt, void *arg);
void sipcx__ua_tp_error(int err, enum sipcx_tp_proto proto, const struct sockaddr *remote,
                        uint64_t conn, void *arg);
int sipcx__ua_do_respond(struct sipcx_ua_srv *srv, uint16_t status, const char *reason,
                         const struct sipcx_hdr *hdrs, size_t nhdrs, const char *content_type,
                         struct sipcx_str body);
int sipcx__ua_do_handle(struct sipcx_ua *ua, const char *method, unsigned flags,
                        sipcx_ua_req_cb *cb, void *arg);
void sipcx__ua_server_txn_gone(struct ua_txn *ut);
void sipcx__ua_server_close_all(struct sipcx_ua *ua);
void sipcx__ua_allow_update(struct sipcx_ua *ua);
/*
 * Loop thread: a server transaction for the request m described by og,
 * answered through the returned srv (INVITE: 100 Trying sent already), as a
 * handler's request is. NULL when it could not be made: an answer went
 * instead (500 without memory, 503 past the cap on live transactions).
 */
struct sipcx_ua_srv *sipcx__ua_serve(struct sipcx_ua *ua, const struct ua_origin *og,
                                     const struct sipcx_msg *m);
/* A response sent once, without transaction, to a request described by og. */
void sipcx__ua_reply(struct sipcx_ua *ua, const struct ua_origin *og, const struct sipcx_msg *m,
                     uint16_t status, const char *reason, const struct sipcx_hdr *hdrs,
                     size_t nhdrs);

#endif
