/* ua: private interface between the embedded registrar, its stateless proxy and its lockout (RFC 3261 10.3, 16). */
#ifndef SIPCX__REGISTRAR_H
#define SIPCX__REGISTRAR_H

#include <sipcx/auth.h>
#include <sipcx/reg.h>

#include "ua/ua.h"

#define REGISTRAR_MAX_CONTACTS 32
/* Users an open registrar (no --user) creates on demand, at most. */
#define REGISTRAR_MAX_OPEN_USERS 10000
/* Our Via branches: the cookie, then capitals, which sipcx_txn_gen_branch() never writes. */
#define PROXY_BRANCH "z9hG4bKSXP"
/* The parameter of our Record-Route URIs that proves we added them (see sipcx__proxy_rr_token()). */
#define PROXY_RR_PARAM "sxr"
/* The parameter of our Record-Route URIs naming the TCP connection of that side (a flow). */
#define PROXY_RR_FLOW "sxf"

struct binding {
	char *uri;
	char *call_id;
	char *params;   /* the Contact's parameters but expires, echoed in the 200; "" when none */
	char *path;     /* RFC 3327: the Path values, in order, as a Route set; NULL when none */
	char *instance; /* RFC 5626: +sip.instance; NULL when none */
	uint32_t reg_id;
	uint32_t cseq;
	uint64_t req_hash;   /* of the REGISTER that set it: its retransmission is answered again */
	uint64_t expires_us; /* sipcx_now_us() time */
	uint64_t updated_us;
	struct sipcx_tp_addr source;
	uint64_t conn;
	struct binding *next;
};

struct user {
	char *name;
	char *password; /* NULL: open registrar */
	struct binding *bindings;
	unsigned n;
	struct user *next; /* in its bucket of the user table */
	uint32_t hash;
};

/*
 * Per-source digest failure throttling (lockout.c): after max failures
 * from one IP address within window, that address is refused for a
 * lockout that doubles each time, up to a ceiling. A fixed table: a flood
 * of sources evicts the oldest entries, never grows memory.
 */
struct lockout_entry {
	union sipcx_sa ip; /* port 0 */
	uint64_t window_start_ms, locked_until_ms, last_ms;
	uint32_t failures;
	uint8_t level; /* lockouts so far: the next one lasts base << level */
	bool used;
};

struct lockout {
	struct lockout_entry *t; /* LOCKOUT_SLOTS entries, allocated on the first failure */
	unsigned max;
	uint64_t window_ms, base_ms, max_ms;
};

struct sipcx_registrar {
	struct sipcx_ua *ua;
	struct sipcx_auth_server *auth; /* NULL: anyone registers */
	char *realm;
	char **domains; /* served besides our addresses and the realm */
	size_t ndomains;
	struct user **users; /* the user table: buckets by name, a power of two of them */
	uint32_t users_mask;
	size_t nusers;
	unsigned nopen;         /* users created by an open registrar */
	uint64_t full_swept_us; /* when a new name at the cap last swept the table */
	uint32_t min_s, max_s, def_s;
	unsigned max_bindings;
	unsigned algs;
	enum sipcx_auth_alg alg_order[8]; /* challenges, in this order */
	size_t nalg;
	struct sipcx_tp_addr upstream; /* proto SIPCX_TP_NONE: none */
	bool auth_calls;
	struct lockout lock;
	uv_timer_t *expiry; /* fires at the earliest binding expiry */
	uint64_t expiry_at_us;
	sipcx_registrar_cb *cb;
	void *arg;
	struct ua_closer closer;
	uint64_t key; /* salt of our branch hashes and Record-Route tokens */
	bool attached;
	/* requests waiting for their next hop's name to be located (proxy.c), at most PROXY_MAX_WAITS */
	struct proxy_wait *waits;
	unsigned nwaits;
};

/* registrar.c: an event to the application's callback (req, src may be NULL). */
void sipcx__registrar_emit(struct sipcx_registrar *r, enum sipcx_registrar_event_type type,
                           const char *user, const char *contact, const char *method,
                           const struct sipcx_tp_addr *src, uint32_t expires, uint16_t status,
                           const struct sipcx_msg *req);
/* The REGISTER handler (stateless; the registrar fuzz target calls it too). */
void sipcx__registrar_on_register(struct sipcx_ua_srv *srv, const struct sipcx_msg *req, void *arg);
/* A LIMITED event: detail says which limit acted and on whom. */
void sipcx__registrar_limited(struct sipcx_registrar *r, const struct sipcx_tp_addr *src,
                              const struct sipcx_msg *req, const char *detail);
struct user *sipcx__registrar_user_find(struct sipcx_registrar *r, struct sipcx_str name);
/* Remove (and report) the bindings of u expired at now. */
void sipcx__registrar_prune(struct sipcx_registrar *r, struct user *u, uint64_t now);
/* Is host one of the domains we serve (our addresses, the realm, --domain), any port? */
bool sipcx__registrar_serves(struct sipcx_registrar *r, struct sipcx_str host);
/*
 * Is a verdict a password guess (counted for the lockout)? Only a digest on
 * a nonce of ours with a wrong password or an unknown user: a nonce of a
 * previous run (a restart) or of another server is not a guess.
 */
static inline bool sipcx__registrar_guess(const struct sipcx_auth_result *res)
{
	return res->verdict == SIPCX_AUTH_BAD && res->username.len && res->reason &&
	       (!strcmp(res->reason, "wrong response (password)") ||
	        !strcmp(res->reason, "unknown user"));
}

/* Digest secret lookup for sipcx_auth_server_verify(), arg the registrar. */
int sipcx__registrar_secret(struct sipcx_str username, struct sipcx_str realm,
                            enum sipcx_auth_alg alg, bool userhash,
                            struct sipcx_auth_secret *secret, void *arg);
/*
 * Append one challenge header per algorithm, in the configured order, to
 * hdrs (at most 8) with their values in b: WWW-Authenticate, or
 * Proxy-Authenticate when proxy. Returns how many, 0 on failure.
 */
size_t sipcx__registrar_challenges(struct sipcx_registrar *r, bool proxy, bool stale,
                                   struct sipcx_buf *b, struct sipcx_hdr *hdrs);

/* Requests of the proxy waiting at once for DNS (RFC 3263) at most: more get 503. */
#define PROXY_MAX_WAITS 64

/* proxy.c: the struct ua_proxy hooks, arg the registrar. */
bool sipcx__proxy_req(struct sipcx_ua *ua, const struct sipcx_tp_pkt *pkt,
                      const struct ua_origin *og, void *arg);
bool sipcx__proxy_resp(struct sipcx_ua *ua, const struct sipcx_tp_pkt *pkt, void *arg);
/* The registrar detaches (loop thread): waiting requests are dropped once their look-ups end. */
void sipcx__proxy_forget(struct sipcx_registrar *r);

/* lockout.c */
void sipcx__lockout_init(struct lockout *l, unsigned max, uint32_t window_s, uint32_t base_s,
                         uint32_t max_s);
void sipcx__lockout_free(struct lockout *l);
/* Milliseconds src stays locked out (0: not locked). */
uint64_t sipcx__lockout_left(struct lockout *l, const struct sipcx_tp_addr *src, uint64_t now_ms);
/* Count a failure from src; returns the lockout it started, in ms (0: none started). */
uint64_t sipcx__lockout_fail(struct lockout *l, const struct sipcx_tp_addr *src, uint64_t now_ms);

#endif
