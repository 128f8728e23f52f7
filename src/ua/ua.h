/* ua: private state of the engine, shared by the loop, client and server files (RFC 3261 8, 17). */
#ifndef SIPCX__UA_H
#define SIPCX__UA_H

#include <string.h>

#include <uv.h>

#include <sipcx/txn.h>
#include <sipcx/ua.h>

#include "base/base.h"

/* The reply scratch buffer is kept between responses up to this capacity. */
#define UA_SCRATCH_KEEP 8192u

struct sipcx_ua;

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

/* A transaction with its timer and where its messages go. */
struct ua_txn {
	struct sipcx_ua *ua;
	struct sipcx_txn *t;
	struct ua_txn *next, **pprev; /* ua->txns */
	/* Its place in ua->wheel (ua.c): the deadline, in ms of sipcx_now_us(). */
	uint64_t due_ms;
	struct ua_txn *tnext, **tpprev;
	uint8_t wlevel; /* UA_WHEEL_OFF, _L0, _L1, _FIRING */
	uint8_t wslot;
	struct ua_addr dst; /* client: the next hop; server: where responses go */
	uint64_t conn;      /* server over TCP: the request's connection */
	bool client;
	bool dead; /* terminated: freed when its output has been handled */
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

/*
 * The timers of every transaction on one libuv timer: a two-level wheel
 * (the kernel's timer wheel in small). Level 0 has a slot per ms of the
 * current 256 ms block, level 1 a slot per 256 ms block (65 s a turn; a
 * later deadline waits its turn in its slot). Setting, moving and
 * removing a deadline is O(1), and a transaction carries 26 bytes of
 * timer instead of a uv_timer_t (152 bytes) in libuv's heap, whose every
 * insert and removal walks log2(n) nodes: at half a million
 * transactions (32 s of Timer J under load) those walks took over a tenth
 * of the loop's time. Loop thread only.
 */
#define UA_WHEEL_BITS 8u
#define UA_WHEEL_SLOTS (1u << UA_WHEEL_BITS)
_Static_assert(UA_WHEEL_SLOTS <= 256, "struct ua_txn keeps its slot in 8 bits");
enum { UA_WHEEL_OFF = 0, UA_WHEEL_L0, UA_WHEEL_L1, UA_WHEEL_FIRING };

struct ua_wheel {
	uv_timer_t uv;
	uint64_t now_ms;   /* every deadline before this ms has fired */
	uint64_t armed_ms; /* the uv timer fires at this ms; UINT64_MAX: stopped */
	struct ua_txn *l0[UA_WHEEL_SLOTS], *l1[UA_WHEEL_SLOTS];
	uint64_t bits0[UA_WHEEL_SLOTS / 64], bits1[UA_WHEEL_SLOTS / 64]; /* non-empty slots */
	struct ua_txn *firing;                                           /* due now, being run */
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
	struct ua_wheel wheel;
	struct ua_txn *txns;
	struct sipcx_ua_srv *srvs;
	struct sipcx_buf scratch; /* loop thread: responses are built here, then copied or sent */
	struct sipcx_buf via_scratch; /* loop thread: the top Via with received/rport */
	/* Loop thread: our Contact for 2xx to the last destination address (see contact_for()). */
	struct {
		enum sipcx_tp_proto proto;
		union sipcx_sa dst; /* port ignored */
		uint64_t until_us;
		char value[SIPCX_ADDRSTRLEN + 64];
	} contact;
	struct ua_handler *handlers;
	char allow[256];
	char *user_agent;
	char *user;
	struct sipcx_txn_opts topts;
	struct sipcx_ua_stats stats;
	struct ua_proxy proxy;     /* loop thread only */
	struct ua_closer *closers; /* loop thread only */
	bool closed;               /* loop thread: shutting down, send nothing new */
	/* Limits and extensions (server.c): loop thread. */
	uint64_t max_txns;  /* live transactions before 503; 0: no cap */
	char supported[64]; /* option tags we support (Require, Supported of OPTIONS) */
};

/* ua.c */
bool sipcx__ua_on_loop(const struct sipcx_ua *ua);
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

/* Register or remove a closer (loop thread). */
void sipcx__ua_closer_add(struct sipcx_ua *ua, struct ua_closer *c);
void sipcx__ua_closer_del(struct ua_closer *c);

/* reg.c: an eventfd readable after every state change of reg (for the phone layer). */
struct sipcx_reg;
int sipcx__reg_fd(struct sipcx_reg *reg);

/* client.c */
/* The next hop of a request (RFC 3261 8.1.2, 18.1.1); forced: the transport was chosen. */
int sipcx__ua_next_hop(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o,
                       struct sipcx_tp_addr *dst, bool *forced);
void sipcx__ua_client_start(struct sipcx_ua *ua, struct ua_job *job);
void sipcx__ua_client_close_all(struct sipcx_ua *ua);

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
/* A response sent once, without transaction, to a request described by og. */
void sipcx__ua_reply(struct sipcx_ua *ua, const struct ua_origin *og, const struct sipcx_msg *m,
                     uint16_t status, const char *reason, const struct sipcx_hdr *hdrs,
                     size_t nhdrs);

#endif
