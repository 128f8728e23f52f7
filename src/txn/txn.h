/* txn: private state of a transaction, shared by the client, server and matching code (RFC 3261 17). */
#ifndef SIPCX__TXN_H
#define SIPCX__TXN_H

#include <sipcx/txn.h>

#include "base/base.h"

/* Timer slots; which RFC timer a slot is depends on the kind and state. */
enum sipcx__txn_timer {
	SIPCX__TM_END = 0, /* D, K, I, J, L, M: leave for Terminated */
	SIPCX__TM_FAIL,    /* B, F, H: give up and tell the TU */
	SIPCX__TM_RETX,    /* A, E, G and the 2xx resends of 13.3.1.4 */
	SIPCX__TM_100,     /* IST: 100 Trying when the TU is silent for 200 ms */
	SIPCX__TM__COUNT
};

struct sipcx_txn {
	enum sipcx_txn_kind kind;
	enum sipcx_txn_state state;
	unsigned flags;
	uint64_t t1, t2, t4;
	bool rfc2543; /* the branch lacks the magic cookie: match by 2543 rules */
	bool acked;   /* IST in Accepted: the 2xx was acknowledged */

	struct sipcx_msg *req; /* owned copy of the request */
	enum sipcx_method method;
	struct sipcx_str method_str; /* into req */
	struct sipcx_str branch;     /* into req */
	uint32_t hash;
	uint16_t status; /* last response received (client) or sent (server) */

	uint64_t tm[SIPCX__TM__COUNT]; /* absolute deadlines, SIPCX_TXN_NEVER when off */
	uint64_t retx_ival;            /* the interval the next RETX firing schedules */
	uint64_t cancel_at;            /* ICT: 9.1 give-up time after a CANCEL, or never */

	/* Client: the ICT's ACK. Server: the last response sent. */
	char *out_p;
	size_t out_len;
	/* IST, RFC 2543 peers: the To tag of the last final response (ACK matching). */
	char *resp_tag;
	size_t resp_tag_len;

	void *user;
	struct sipcx_txn_table *tab; /* the table t is in, or NULL */
	struct sipcx_txn *next;      /* chain in the table's bucket */
};

/* Output helpers (txn.c). */
void sipcx__txn_out_reset(struct sipcx_txn_out *o, const struct sipcx_txn *t);
void sipcx__txn_send(struct sipcx_txn_out *o, enum sipcx_txn_send_kind kind, bool retx,
                     uint16_t status, const char *p, size_t len);
void sipcx__txn_event(struct sipcx_txn_out *o, enum sipcx_txn_ev_type type,
                      const struct sipcx_msg *msg, int err);
/* Enter Terminated: timers off, SIPCX_TXN_EV_TERMINATED. */
void sipcx__txn_terminate(struct sipcx_txn *t, struct sipcx_txn_out *o);
/* Fire every timer due at or before now, in order. */
void sipcx__txn_run(struct sipcx_txn *t, uint64_t now, struct sipcx_txn_out *o);
/* Common constructor part: options, timers off, branch, hash. Takes req. */
struct sipcx_txn *sipcx__txn_alloc(struct sipcx_msg *req, const struct sipcx_txn_opts *opts);
/* Replace the stored outgoing bytes with a copy of p (-ENOMEM: unchanged). */
int sipcx__txn_store(struct sipcx_txn *t, const char *p, size_t len);

/* Timer handlers: the slot has been cleared; due is when it was set to fire. */
void sipcx__txn_client_timer(struct sipcx_txn *t, enum sipcx__txn_timer which, uint64_t due,
                             uint64_t now, struct sipcx_txn_out *o);
void sipcx__txn_server_timer(struct sipcx_txn *t, enum sipcx__txn_timer which, uint64_t due,
                             uint64_t now, struct sipcx_txn_out *o);
int sipcx__txn_client_recv(struct sipcx_txn *t, const struct sipcx_msg *m, uint64_t now,
                           struct sipcx_txn_out *o);
int sipcx__txn_server_recv(struct sipcx_txn *t, const struct sipcx_msg *m, uint64_t now,
                           struct sipcx_txn_out *o);

/*
 * Schedule the next firing of a retransmission timer that was due at
 * `due`: the interval grows by next_ival() until the deadline passes now,
 * so a late caller gets one resend, not a burst.
 */
void sipcx__txn_retx_next(struct sipcx_txn *t, uint64_t due, uint64_t now, uint64_t cap);

/* Matching (match.c). */
bool sipcx__txn_has_cookie(struct sipcx_str branch);
uint32_t sipcx__txn_hash_str(uint32_t h, struct sipcx_str s);
#define SIPCX__TXN_HASH_INIT 2166136261u
/* Hash of a request without the cookie: Call-ID and CSeq number. */
uint32_t sipcx__txn_hash_2543(const struct sipcx_msg *m);

#endif
