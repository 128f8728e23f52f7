/* sipcx transactions: ICT, NICT, IST, NIST as pure state machines (RFC 3261 17, RFC 6026). */
#ifndef SIPCX_TXN_H
#define SIPCX_TXN_H

#include <sipcx/base.h>
#include <sipcx/msg.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A transaction does no I/O and reads no clock. Every input carries "now",
 * an absolute time in microseconds on any monotonic clock the caller keeps
 * (sipcx_now_us() in the ua); every input fills a struct sipcx_txn_out with
 * the messages to send, the events for the transaction user (TU) and the
 * next deadline. The caller sends the messages in order, handles the
 * events, and calls sipcx_txn_tick() when the deadline comes.
 *
 * Inputs: sipcx_txn_client_new() / sipcx_txn_server_new() (the request),
 * sipcx_txn_recv() (a response for a client, a request retransmission or
 * ACK for a server), sipcx_txn_respond() (the TU's response, servers),
 * sipcx_txn_tick() (time passed), sipcx_txn_transport_error() (a send
 * failed), sipcx_txn_cancel_sent() (ICT: the TU sent a CANCEL). Before and
 * after each input, timers due at or before "now" fire. A caller that comes
 * late gets a due timeout (B, F, H, L) or end (D, I, J, K, M) without a
 * last retransmission before it, and a retransmission timer overdue by
 * several periods retransmits once and keeps its schedule. Deadlines are
 * exact: tick at o->deadline, not later, and the schedule is the RFC's.
 *
 * Lifetime: after SIPCX_TXN_EV_TERMINATED the caller frees the transaction
 * (sipcx_txn_free() also removes it from its table); until then it must
 * keep ticking it. Nothing here is thread-safe: one thread per transaction.
 *
 * Memory: a transaction keeps its request only while it may need it: a
 * server transaction until its final response is sent, a client one until
 * a final response is received. From then on (Completed, Confirmed,
 * Accepted: up to 32 s on UDP) it holds one allocation with its matching
 * keys (branch, sent-by, method; Call-ID, tags, CSeq, Request-URI and top
 * Via for RFC 2543 peers) and one with the last bytes it may have to send
 * again (the final response, or an ICT's ACK): a few hundred bytes.
 *
 * Matching a message to its transaction (RFC 3261 17.1.3, 17.2.3) is done
 * by the hash + match functions below, or by struct sipcx_txn_table, a hash
 * table of transactions kept here so the ua does not have to.
 */

/** No deadline. */
#define SIPCX_TXN_NEVER UINT64_MAX

/** RFC 3261 17.1.1.1 defaults, in microseconds. */
#define SIPCX_TXN_T1_US 500000u
#define SIPCX_TXN_T2_US 4000000u
#define SIPCX_TXN_T4_US 5000000u

/** The magic cookie that starts an RFC 3261 branch (8.1.1.7). */
#define SIPCX_TXN_COOKIE "z9hG4bK"
/** Bytes for sipcx_txn_gen_branch(): cookie + 24 random characters + NUL. */
#define SIPCX_TXN_BRANCH_SIZE 32

enum sipcx_txn_kind {
	SIPCX_TXN_ICT = 0, /**< INVITE client transaction (17.1.1) */
	SIPCX_TXN_NICT,    /**< non-INVITE client transaction (17.1.2) */
	SIPCX_TXN_IST,     /**< INVITE server transaction (17.2.1) */
	SIPCX_TXN_NIST,    /**< non-INVITE server transaction (17.2.2) */
};

enum sipcx_txn_state {
	SIPCX_TXN_CALLING = 0, /**< ICT: request sent, nothing received */
	SIPCX_TXN_TRYING,      /**< NICT: request sent; NIST: request received, nothing sent */
	SIPCX_TXN_PROCEEDING,  /**< a provisional response seen (IST: initial state) */
	SIPCX_TXN_COMPLETED,   /**< a final response (non-2xx for INVITE) seen */
	SIPCX_TXN_CONFIRMED,   /**< IST: ACK received for a non-2xx */
	SIPCX_TXN_ACCEPTED,    /**< INVITE: 2xx seen (RFC 6026) */
	SIPCX_TXN_TERMINATED,  /**< over: remove it from its table and free it */
};

/** sipcx_txn_opts flags. */
enum {
	/**
	 * Reliable transport (TCP, TLS): no request or response
	 * retransmissions (A, E, G off) and timers D, I, J, K are zero.
	 */
	SIPCX_TXN_RELIABLE = 1u << 0,
	/** IST: send "100 Trying" at once (the TU will not answer within 200 ms). */
	SIPCX_TXN_100_NOW = 1u << 1,
	/**
	 * IST: never send "100 Trying" (the TU answers within 200 ms). Without
	 * this flag and without SIPCX_TXN_100_NOW, the IST sends a 100 when
	 * 200 ms pass with no response from the TU (17.2.1).
	 */
	SIPCX_TXN_100_NEVER = 1u << 2,
	/**
	 * IST: the TU retransmits its 2xx itself (RFC 3261 13.3.1.4) by calling
	 * sipcx_txn_respond() again in Accepted. Without this flag the IST does
	 * it for the TU: the 2xx is resent at T1, 2*T1, ... capped at T2 until
	 * the ACK is fed with sipcx_txn_recv(), and Timer L reports
	 * SIPCX_TXN_EV_TIMEOUT when no ACK came (the TU should send BYE).
	 * These resends happen on reliable transports too: 2xx reliability is
	 * end to end, and a proxy further on may use UDP.
	 */
	SIPCX_TXN_TU_2XX = 1u << 3,
};

/**
 * Transaction options. A zeroed struct (or NULL) gives the defaults:
 * T1 500 ms, T2 4 s, T4 5 s, unreliable transport.
 */
struct sipcx_txn_opts {
	uint64_t t1_us; /**< RTT estimate; 0: SIPCX_TXN_T1_US */
	uint64_t t2_us; /**< longest retransmit interval for non-INVITE and responses; 0: default */
	uint64_t t4_us; /**< longest time a message stays in the network; 0: default */
	unsigned flags; /**< SIPCX_TXN_RELIABLE, SIPCX_TXN_100_NOW, ... */
	/**
	 * Bytes the transaction reserves after itself for the caller's own
	 * per-transaction state (zeroed, aligned for any type), see
	 * sipcx_txn_user_area(): one allocation for both. 0: none.
	 */
	size_t user_size;
};

/** What a struct sipcx_txn_send carries. */
enum sipcx_txn_send_kind {
	SIPCX_TXN_SEND_REQUEST = 0, /**< the client's request (first send or retransmission) */
	SIPCX_TXN_SEND_ACK,         /**< ICT: the ACK for a non-2xx final response */
	SIPCX_TXN_SEND_RESPONSE,    /**< a server's response */
};

/**
 * One message to hand to the transport. A request or ACK goes where the
 * request went; a response goes by the request's top Via (RFC 3261 18.2.2).
 * p is owned by the transaction and stays valid until the next call on it
 * (or its free): copy it for an asynchronous send.
 */
struct sipcx_txn_send {
	enum sipcx_txn_send_kind kind;
	bool retransmission; /**< a resend of bytes already sent */
	uint16_t status;     /**< responses: the status code; else 0 */
	const char *p;
	size_t len;
};

enum sipcx_txn_ev_type {
	/** server: the request that created the transaction (msg: the transaction's copy) */
	SIPCX_TXN_EV_REQUEST = 0,
	/**
	 * client: a response for the TU (msg: the caller's message given to
	 * sipcx_txn_recv()). Every 1xx, the first final response, and for
	 * INVITE every further 2xx (RFC 6026: each may open another dialog).
	 */
	SIPCX_TXN_EV_RESPONSE,
	/** IST in Accepted: an ACK fed with sipcx_txn_recv() (msg: that ACK). */
	SIPCX_TXN_EV_ACK,
	/**
	 * err -ETIMEDOUT. Client: Timer B or F, no final response; or 64*T1
	 * after sipcx_txn_cancel_sent() without one. IST: Timer H (no ACK for a
	 * non-2xx) or Timer L (no ACK for the 2xx the IST was retransmitting).
	 */
	SIPCX_TXN_EV_TIMEOUT,
	/** err: the error given to sipcx_txn_transport_error() (17.1.4, 17.2.4). */
	SIPCX_TXN_EV_TRANSPORT_ERROR,
	/** The transaction reached Terminated: always the last event it gives. */
	SIPCX_TXN_EV_TERMINATED,
};

struct sipcx_txn_event {
	enum sipcx_txn_ev_type type;
	const struct sipcx_msg *msg; /**< see the types; NULL for the others */
	int err;                     /**< TIMEOUT, TRANSPORT_ERROR: negative; else 0 */
};

/** Most sends or events one input can produce. */
#define SIPCX_TXN_OUT_MAX 4

/**
 * The output of one input. Each function that takes it resets it first.
 * Handle it even when the function fails: timers that were due before the
 * refused input may have fired (their sends and events are in it).
 */
struct sipcx_txn_out {
	size_t nsend;
	struct sipcx_txn_send send[SIPCX_TXN_OUT_MAX];
	size_t nev;
	struct sipcx_txn_event ev[SIPCX_TXN_OUT_MAX];
	uint64_t deadline; /**< absolute us of the next sipcx_txn_tick(), or SIPCX_TXN_NEVER */
};

struct sipcx_txn;

/**
 * Start a client transaction for the request in req (len bytes, a whole
 * message as printed by sipcx_msg_print_request()), which the transaction
 * parses and copies (the bytes, until a final response comes): req can be
 * reused at once. INVITE gives an ICT, any other method but ACK a NICT.
 * The request must have a top Via with a branch (see
 * sipcx_txn_gen_branch()), From, To, Call-ID and CSeq.
 * o gets the request to send, and the deadline (Timer A/E and B/F).
 * opts may be NULL (defaults).
 * Returns 0 and *out, or the parse error (-EBADMSG, ...), -EINVAL (NULL
 * argument, ACK, missing branch or header), -ENOMEM; *out untouched then.
 */
SIPCX_API int sipcx_txn_client_new(struct sipcx_txn **out, const char *req, size_t len,
                                   const struct sipcx_txn_opts *opts, uint64_t now,
                                   struct sipcx_txn_out *o);

/**
 * Start a server transaction for a received request that matched no
 * transaction (see sipcx_txn_table_match()) and passed sipcx_msg_check().
 * The request is copied (sipcx_msg_dup()): req can be freed at once. The
 * copy (sipcx_txn_request(), the msg of SIPCX_TXN_EV_REQUEST) lives until
 * the final response is given to sipcx_txn_respond().
 * INVITE gives an IST, any other method but ACK (an ACK never creates a
 * transaction: pass it to the dialog layer) a NIST. o gets the event
 * SIPCX_TXN_EV_REQUEST, and for an IST with SIPCX_TXN_100_NOW the 100.
 * Returns 0 and *out, -EINVAL (NULL argument, response, ACK, no top Via or
 * CSeq), -ENOMEM; *out untouched then.
 */
SIPCX_API int sipcx_txn_server_new(struct sipcx_txn **out, const struct sipcx_msg *req,
                                   const struct sipcx_txn_opts *opts, uint64_t now,
                                   struct sipcx_txn_out *o);

/** Free a transaction in any state, removing it from its table. NULL is accepted. */
SIPCX_API void sipcx_txn_free(struct sipcx_txn *t);

/**
 * Feed a received message that matched this transaction. A client takes
 * responses: a 1xx or the first final response become SIPCX_TXN_EV_RESPONSE,
 * a retransmitted non-2xx final response makes an ICT resend its ACK. A
 * server takes its request's retransmissions (answered with the last
 * response sent, if any) and, for an IST, the ACK: in Completed it moves
 * to Confirmed; in Accepted it is SIPCX_TXN_EV_ACK and stops the 2xx
 * retransmissions. The ACK for a 2xx has its own branch and matches no
 * transaction: the dialog layer finds the IST and feeds the ACK here.
 * Anything the state does not expect is absorbed (no output).
 * m is borrowed: events point to it, valid as long as the caller keeps m.
 * Returns 0, -EINVAL (NULL argument, a request to a client or a response
 * to a server, a method that is neither the transaction's nor an ACK to
 * an IST), -ENOMEM (building the ACK failed: nothing changed, the peer's
 * retransmission will retry).
 */
SIPCX_API int sipcx_txn_recv(struct sipcx_txn *t, const struct sipcx_msg *m, uint64_t now,
                             struct sipcx_txn_out *o);

/**
 * Send the TU's response through a server transaction. resp is a whole
 * response message (len bytes, e.g. from sipcx_msg_print_reply()), copied.
 * A 1xx in Trying/Proceeding is sent (Proceeding). A final response moves
 * a NIST or IST to Completed (Timer J; Timers G and H), a 2xx moves an IST
 * to Accepted (Timer L, 2xx retransmissions unless SIPCX_TXN_TU_2XX); in
 * Accepted further 2xx are sent (RFC 6026 7.1). A 487 after a CANCEL is an
 * ordinary final response.
 * Returns 0, -EINVAL (NULL argument, client transaction, not a "SIP/2.0
 * NNN" status line, status not 100..699), -EPROTO (the state takes no
 * such response: after a final response, or a non-2xx in Accepted),
 * -ENOMEM; nothing changed on error.
 */
SIPCX_API int sipcx_txn_respond(struct sipcx_txn *t, const char *resp, size_t len, uint64_t now,
                                struct sipcx_txn_out *o);

/** Fire the timers due at or before now. Returns 0, -EINVAL for a NULL argument. */
SIPCX_API int sipcx_txn_tick(struct sipcx_txn *t, uint64_t now, struct sipcx_txn_out *o);

/**
 * The transport could not send a message of this transaction (err: its
 * negative error). The transaction reports SIPCX_TXN_EV_TRANSPORT_ERROR
 * with err and terminates (RFC 3261 17.1.4, 17.2.4); a terminated one
 * gives nothing. Returns 0, -EINVAL for a NULL argument.
 */
SIPCX_API int sipcx_txn_transport_error(struct sipcx_txn *t, int err, uint64_t now,
                                        struct sipcx_txn_out *o);

/** Next deadline (absolute us), SIPCX_TXN_NEVER when none. */
SIPCX_API uint64_t sipcx_txn_deadline(const struct sipcx_txn *t);
/** The kind (t not NULL). */
SIPCX_API enum sipcx_txn_kind sipcx_txn_kind(const struct sipcx_txn *t);
/** The state; Terminated for NULL. */
SIPCX_API enum sipcx_txn_state sipcx_txn_state(const struct sipcx_txn *t);
/** "Calling", "Proceeding", ... (never NULL). */
SIPCX_API const char *sipcx_txn_state_name(enum sipcx_txn_state s);
/**
 * The request that created the transaction (owned by it), while the
 * transaction keeps it: a server transaction until sipcx_txn_respond()
 * took its final response, a client one until a final response came in
 * (a client parses its request bytes on the first call: NULL without
 * memory). NULL after that, and for NULL t.
 */
SIPCX_API const struct sipcx_msg *sipcx_txn_request(const struct sipcx_txn *t);
/**
 * Client: status of the last response received; server: of the last
 * response sent; 0 when none.
 */
SIPCX_API uint16_t sipcx_txn_status(const struct sipcx_txn *t);
/** The branch of the request's top Via (a copy owned by t, valid as long as t). */
SIPCX_API struct sipcx_str sipcx_txn_branch(const struct sipcx_txn *t);
/** An opaque pointer for the caller (e.g. its call or source address); NULL at first. */
SIPCX_API void sipcx_txn_set_user(struct sipcx_txn *t, void *user);
SIPCX_API void *sipcx_txn_user(const struct sipcx_txn *t);
/**
 * The opts.user_size bytes reserved for the caller at creation, owned by
 * t (freed by sipcx_txn_free()); NULL when none or t is NULL.
 */
SIPCX_API void *sipcx_txn_user_area(const struct sipcx_txn *t);

/**
 * Append a CANCEL for the request of an ICT to b (RFC 3261 9.1): same
 * Request-URI, Call-ID, From, To (no tag unless the INVITE had one) and
 * CSeq number, CSeq method CANCEL, one Via equal to the INVITE's top Via
 * (same branch), the INVITE's Route headers, Max-Forwards 70. The TU sends
 * it with its own NICT (sipcx_txn_client_new()); it should wait for a
 * provisional response first (9.1), see sipcx_txn_state().
 * Returns 0, -EINVAL (NULL argument, not an ICT, or a final response came:
 * nothing to cancel, the request is gone), -ENOMEM.
 */
SIPCX_API int sipcx_txn_print_cancel(struct sipcx_buf *b, const struct sipcx_txn *t);

/**
 * Tell an ICT that the TU sent a CANCEL for its request. RFC 3261 9.1: when
 * no final response comes within 64*T1 of it, the INVITE counts as
 * cancelled: the ICT reports SIPCX_TXN_EV_TIMEOUT and terminates (in
 * Proceeding nothing else would end it). Other states: no effect.
 * o gets the new deadline. Returns 0, -EINVAL (NULL argument, not an ICT).
 */
SIPCX_API int sipcx_txn_cancel_sent(struct sipcx_txn *t, uint64_t now, struct sipcx_txn_out *o);

/**
 * Write a new branch "z9hG4bK" + 24 random characters [0-9a-z] and a NUL
 * into out (SIPCX_TXN_BRANCH_SIZE bytes), unique enough to name a
 * transaction across space and time (8.1.1.7).
 */
SIPCX_API void sipcx_txn_gen_branch(char out[SIPCX_TXN_BRANCH_SIZE]);

/*
 * Matching (RFC 3261 17.1.3, 17.2.3). A response belongs to the client
 * transaction with the same top Via branch and CSeq method (a response to
 * a CANCEL does not match the INVITE). A request belongs to the server
 * transaction with the same top Via branch, sent-by and method (ACK
 * matches its INVITE); when the branch lacks the magic cookie (RFC 2543
 * peers), by Request-URI, To tag, From tag, Call-ID, CSeq and top Via,
 * the ACK by the To tag of the response sent. The hash of a message is
 * equal to the hash of every transaction it can match: a table keyed by
 * it needs only sipcx_txn_match() within a bucket.
 */

/**
 * Hash of the matching key of a received message: the top Via branch, or
 * for a request without the cookie the Call-ID and CSeq number.
 * Returns 0 and *hash, -EINVAL (NULL argument), -EBADMSG (no top Via,
 * branch or CSeq that matching needs).
 */
SIPCX_API int sipcx_txn_msg_hash(const struct sipcx_msg *m, uint32_t *hash);
/** Hash of a transaction, equal to sipcx_txn_msg_hash() of its messages. */
SIPCX_API uint32_t sipcx_txn_hash(const struct sipcx_txn *t);
/**
 * Does m belong to t: a response to a client transaction, a request
 * (retransmission, or ACK to an IST) to a server transaction. False for
 * NULL arguments or a terminated transaction.
 */
SIPCX_API bool sipcx_txn_match(const struct sipcx_txn *t, const struct sipcx_msg *m);
/**
 * Is t the server transaction that the received CANCEL cancels (RFC 3261
 * 9.2: match as if the CANCEL had the method of t, t not a CANCEL).
 */
SIPCX_API bool sipcx_txn_match_cancel(const struct sipcx_txn *t, const struct sipcx_msg *cancel);

/**
 * A chained hash table of transactions, keyed by sipcx_txn_hash(). It does
 * not own them: sipcx_txn_free() removes a transaction from its table, and
 * sipcx_txn_table_free() unlinks all that remain without freeing them.
 */
struct sipcx_txn_table;

/** Returns 0 and *out, -EINVAL, -ENOMEM (*out untouched). */
SIPCX_API int sipcx_txn_table_new(struct sipcx_txn_table **out);
/** Free the table (NULL accepted); the transactions left in it are unlinked, not freed. */
SIPCX_API void sipcx_txn_table_free(struct sipcx_txn_table *tab);
/**
 * Insert t. Returns 0, -EINVAL (NULL argument), -EEXIST (t is already in
 * a table). The table grows to keep about one transaction per bucket; when
 * growing fails for lack of memory, t is inserted anyway (longer chains).
 */
SIPCX_API int sipcx_txn_table_add(struct sipcx_txn_table *tab, struct sipcx_txn *t);
/** Remove t from its table, if any. NULL accepted. */
SIPCX_API void sipcx_txn_table_remove(struct sipcx_txn *t);
/** Number of transactions in the table. */
SIPCX_API size_t sipcx_txn_table_count(const struct sipcx_txn_table *tab);
/**
 * The transaction a received message belongs to (see sipcx_txn_match()):
 * a client one for a response, a server one for a request; NULL when none
 * (a request: create a server transaction, unless it is an ACK; a
 * response: pass it to the dialog layer or drop it, 17.1.3).
 * Terminated transactions match nothing.
 */
SIPCX_API struct sipcx_txn *sipcx_txn_table_match(const struct sipcx_txn_table *tab,
                                                  const struct sipcx_msg *m);
/**
 * The server transaction a received CANCEL cancels, or NULL (answer the
 * CANCEL 481). The CANCEL itself gets its own NIST; the TU answers it 200
 * and the INVITE 487 (RFC 3261 9.2).
 */
SIPCX_API struct sipcx_txn *sipcx_txn_table_find_cancelled(const struct sipcx_txn_table *tab,
                                                           const struct sipcx_msg *cancel);
/**
 * RFC 3261 8.2.2.2 merged requests: a live server transaction of the table
 * whose request had the From tag, Call-ID and CSeq (number and method) of
 * m, a request without To tag that does not match it (call this when
 * sipcx_txn_table_match() found nothing). The UAS answers m 482 (Loop
 * Detected). NULL when none, when m has a To tag or lacks From or CSeq.
 * Server transactions are indexed by that key too: O(1) on average.
 */
SIPCX_API struct sipcx_txn *sipcx_txn_table_find_merged(const struct sipcx_txn_table *tab,
                                                        const struct sipcx_msg *m);
/**
 * Iterate: the transaction after prev (NULL: the first), or NULL at the
 * end. prev must still be in the table. To empty it:
 * while ((t = sipcx_txn_table_next(tab, NULL))) sipcx_txn_free(t);
 */
SIPCX_API struct sipcx_txn *sipcx_txn_table_next(const struct sipcx_txn_table *tab,
                                                 const struct sipcx_txn *prev);

#ifdef __cplusplus
}
#endif
#endif
