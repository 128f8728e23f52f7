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

/*
 * What a transaction keeps of its request once the request itself is gone:
 * copies of the matching keys in the transaction's own allocation (after
 * the struct), each a 16-bit offset and length. Every key is a different
 * part of one message of at most SIPCX_MSG_MAX_SIZE (65535) bytes, so all
 * of them together fit 16 bits too.
 */
enum sipcx__txn_key {
	SIPCX__K_BRANCH = 0, /* top Via branch (2543: a part of PARAMS) */
	SIPCX__K_METHOD,     /* method token, only for SIPCX_METHOD_OTHER */
	SIPCX__K_HOST,       /* server: top Via sent-by host */
	SIPCX__K_CALL_ID,    /* server: Call-ID (2543 matching, 8.2.2.2 merges) */
	SIPCX__K_FROM_TAG,   /* server: From tag (idem) */
	SIPCX__K_RURI,       /* server, RFC 2543 peers: Request-URI */
	SIPCX__K_TO_TAG,     /* server, RFC 2543 peers: the request's To tag */
	SIPCX__K_TRANSPORT,  /* server, RFC 2543 peers: top Via transport */
	SIPCX__K_PARAMS,     /* server, RFC 2543 peers: top Via parameters */
	SIPCX__K__COUNT
};

struct sipcx__txn_slice {
	uint16_t off, len;
};

struct sipcx_txn {
	/* What a table walks, first: one cache line per transaction in a chain. */
	struct sipcx_txn *next;  /* chain in the table's bucket */
	struct sipcx_txn *mnext; /* server: chain in the table's merge-key bucket */
	uint32_t hash;
	uint32_t mhash; /* server: hash of the 8.2.2.2 merge key (Call-ID, From tag, CSeq) */

	enum sipcx_txn_kind kind;
	enum sipcx_txn_state state;
	enum sipcx_method method;
	unsigned flags;
	uint32_t cseq;     /* server: CSeq number */
	uint16_t status;   /* last response received (client) or sent (server) */
	uint16_t via_port; /* server: top Via sent-by port, 0 when absent */
	bool rfc2543;      /* the branch lacks the magic cookie: match by 2543 rules */
	bool acked;        /* IST in Accepted: the 2xx was acknowledged */
	struct sipcx__txn_slice key[SIPCX__K__COUNT];
	/* IST, RFC 2543 peers: the To tag of the last final response, inside out_p (ACK matching). */
	struct sipcx__txn_slice resp_tag;

	uint64_t t1, t2, t4;
	uint64_t tm[SIPCX__TM__COUNT]; /* absolute deadlines, SIPCX_TXN_NEVER when off */
	uint64_t retx_ival;            /* the interval the next RETX firing schedules */
	uint64_t cancel_at;            /* ICT: 9.1 give-up time after a CANCEL, or never */

	/*
	 * Server: the request copy, from creation to the final response.
	 * Client: the request parsed for sipcx_txn_request() (on demand),
	 * dropped with the request bytes.
	 */
	struct sipcx_msg *req;
	/*
	 * Client: the request bytes until a final response, then the ICT's
	 * ACK (non-2xx) or nothing. Server: the last response sent.
	 */
	char *out_p;
	size_t out_len;
	/*
	 * Bytes out_p held before this input replaced them, when this
	 * input's output still points to them (a late caller: Timer A sent
	 * the request, then its final response came). Freed at the next
	 * input or with t. One input replaces out_p once at most.
	 */
	char *stale;

	void *user;
	uint32_t user_off;           /* offset of the caller's area (opts.user_size), 0: none */
	struct sipcx_txn_table *tab; /* the table t is in, or NULL */
	char keys[];                 /* the bytes of key[] */
};

/* A key of t as a slice (empty when absent). */
static inline struct sipcx_str sipcx__txn_key(const struct sipcx_txn *t, enum sipcx__txn_key k)
{
	return (struct sipcx_str){ t->keys + t->key[k].off, t->key[k].len };
}

/* Output helpers (txn.c). */
/* Start an input: o emptied, deadline of t; what the last input left in stale is freed. */
void sipcx__txn_out_reset(struct sipcx_txn_out *o, struct sipcx_txn *t);
void sipcx__txn_send(struct sipcx_txn_out *o, enum sipcx_txn_send_kind kind, bool retx,
                     uint16_t status, const char *p, size_t len);
void sipcx__txn_event(struct sipcx_txn_out *o, enum sipcx_txn_ev_type type,
                      const struct sipcx_msg *msg, int err);
/* Enter Terminated: timers off, SIPCX_TXN_EV_TERMINATED. */
void sipcx__txn_terminate(struct sipcx_txn *t, struct sipcx_txn_out *o);
/* Fire every timer due at or before now, in order. */
void sipcx__txn_run(struct sipcx_txn *t, uint64_t now, struct sipcx_txn_out *o);
/*
 * Common constructor part: one allocation for the struct, nkeys key bytes
 * and the caller's opts->user_size bytes; options and timers set, every
 * key empty. NULL without memory or for an absurd user_size.
 */
struct sipcx_txn *sipcx__txn_alloc(size_t nkeys, const struct sipcx_txn_opts *opts);
/* Append a copy of s as key k (the caller sized the allocation for it). */
void sipcx__txn_key_set(struct sipcx_txn *t, size_t *used, enum sipcx__txn_key k,
                        struct sipcx_str s);
/*
 * Make p (len bytes, from sipcx_malloc, NULL: none) the outgoing bytes;
 * the old ones are freed, or kept in stale while o points to them.
 */
void sipcx__txn_set_out(struct sipcx_txn *t, char *p, size_t len, const struct sipcx_txn_out *o);
/* sipcx__txn_set_out() with a copy of p (-ENOMEM: unchanged). */
int sipcx__txn_store(struct sipcx_txn *t, const char *p, size_t len, const struct sipcx_txn_out *o);
/* Drop the request (copy, bytes, parsed view): the transaction has what it needs. */
void sipcx__txn_release(struct sipcx_txn *t);

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
/* The method of m is the method of t's request. */
bool sipcx__txn_same_method(const struct sipcx_txn *t, const struct sipcx_msg *m);
/* Hash of a top Via branch (every client transaction, servers with the cookie). */
uint32_t sipcx__txn_hash_branch(struct sipcx_str branch);
/* Hash of a request without the cookie: Call-ID and CSeq number. */
uint32_t sipcx__txn_hash_2543(struct sipcx_str call_id, uint32_t cseq);
/* Hash of the 8.2.2.2 merge key: Call-ID, From tag, CSeq number. */
uint32_t sipcx__txn_hash_merge(struct sipcx_str call_id, struct sipcx_str from_tag, uint32_t cseq);

#endif
