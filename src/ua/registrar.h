/* ua: private interface between the embedded registrar and its stateless proxy (RFC 3261 10.3, 16). */
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

struct binding {
	char *uri;
	char *call_id;
	uint32_t cseq;
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
	struct user *next;
};

struct sipcx_registrar {
	struct sipcx_ua *ua;
	struct sipcx_auth_server *auth; /* NULL: anyone registers */
	char *realm;
	struct user *users;
	unsigned nopen; /* users created by an open registrar */
	uint32_t min_s, max_s, def_s;
	unsigned max_bindings;
	unsigned algs;
	sipcx_registrar_cb *cb;
	void *arg;
	struct ua_closer closer;
	uint64_t key; /* salt of our branch hashes */
	bool attached;
};

/* registrar.c: an event to the application's callback (req, src may be NULL). */
void sipcx__registrar_emit(struct sipcx_registrar *r, enum sipcx_registrar_event_type type,
                           const char *user, const char *contact, const char *method,
                           const struct sipcx_tp_addr *src, uint32_t expires, uint16_t status,
                           const struct sipcx_msg *req);
struct user *sipcx__registrar_user_find(struct sipcx_registrar *r, struct sipcx_str name);
/* Remove (and report) the bindings of u expired at now. */
void sipcx__registrar_prune(struct sipcx_registrar *r, struct user *u, uint64_t now);

/* proxy.c: the struct ua_proxy hooks, arg the registrar. */
bool sipcx__proxy_req(struct sipcx_ua *ua, const struct sipcx_tp_pkt *pkt,
                      const struct ua_origin *og, void *arg);
bool sipcx__proxy_resp(struct sipcx_ua *ua, const struct sipcx_tp_pkt *pkt, void *arg);

#endif
