/* txn: what every transaction shares: options, outputs, the timer loop, accessors (RFC 3261 17). */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "txn/txn.h"

void sipcx__txn_out_reset(struct sipcx_txn_out *o, struct sipcx_txn *t)
{
	if (t && t->stale) {
		sipcx_free(t->stale);
		t->stale = NULL;
	}
	o->nsend = 0;
	o->nev = 0;
	o->deadline = t ? sipcx_txn_deadline(t) : SIPCX_TXN_NEVER;
}

void sipcx__txn_send(struct sipcx_txn_out *o, enum sipcx_txn_send_kind kind, bool retx,
                     uint16_t status, const char *p, size_t len)
{
	/* The machines never produce more than two sends per input: a full array is a bug. */
	if (o->nsend >= SIPCX_TXN_OUT_MAX) {
		SIPCX_ERROR("txn: output full, send dropped");
		return;
	}
	o->send[o->nsend++] = (struct sipcx_txn_send){
		.kind = kind, .retransmission = retx, .status = status, .p = p, .len = len
	};
}

void sipcx__txn_event(struct sipcx_txn_out *o, enum sipcx_txn_ev_type type,
                      const struct sipcx_msg *msg, int err)
{
	if (o->nev >= SIPCX_TXN_OUT_MAX) {
		SIPCX_ERROR("txn: output full, event dropped");
		return;
	}
	o->ev[o->nev++] = (struct sipcx_txn_event){ .type = type, .msg = msg, .err = err };
}

void sipcx__txn_terminate(struct sipcx_txn *t, struct sipcx_txn_out *o)
{
	if (t->state == SIPCX_TXN_TERMINATED)
		return;
	t->state = SIPCX_TXN_TERMINATED;
	for (size_t i = 0; i < SIPCX__TM__COUNT; i++)
		t->tm[i] = SIPCX_TXN_NEVER;
	sipcx__txn_event(o, SIPCX_TXN_EV_TERMINATED, NULL, 0);
}

void sipcx__txn_retx_next(struct sipcx_txn *t, uint64_t due, uint64_t now, uint64_t cap)
{
	uint64_t ival = t->retx_ival;
	do {
		ival = ival >= cap / 2 ? cap : ival * 2;
		due = due > SIPCX_TXN_NEVER - ival ? SIPCX_TXN_NEVER - 1 : due + ival;
	} while (due <= now && due < SIPCX_TXN_NEVER - 1);
	t->retx_ival = ival;
	t->tm[SIPCX__TM_RETX] = due;
}

void sipcx__txn_run(struct sipcx_txn *t, uint64_t now, struct sipcx_txn_out *o)
{
	while (t->state != SIPCX_TXN_TERMINATED) {
		/*
		 * Of the timers due, the lowest slot first: a caller that comes
		 * late to a due timeout (B, F, H) or end (D, I, J, K, L, M) gets
		 * it without a pointless last retransmission before it. Due
		 * timers of one slot kind never depend on each other's order.
		 */
		size_t which = SIPCX__TM__COUNT;
		for (size_t i = 0; i < SIPCX__TM__COUNT && which == SIPCX__TM__COUNT; i++)
			if (t->tm[i] != SIPCX_TXN_NEVER && t->tm[i] <= now)
				which = i;
		if (which == SIPCX__TM__COUNT)
			return;
		uint64_t due = t->tm[which];
		t->tm[which] = SIPCX_TXN_NEVER;
		if (t->kind == SIPCX_TXN_ICT || t->kind == SIPCX_TXN_NICT)
			sipcx__txn_client_timer(t, which, due, now, o);
		else
			sipcx__txn_server_timer(t, which, due, now, o);
	}
}

static uint64_t opt_or(uint64_t v, uint64_t def)
{
	return v ? v : def;
}

struct sipcx_txn *sipcx__txn_alloc(size_t nkeys, const struct sipcx_txn_opts *opts)
{
	const struct sipcx_txn_opts def = { 0 };
	if (!opts)
		opts = &def;
	/* The caller's area after the keys, aligned for anything it may hold. */
	const size_t align = _Alignof(max_align_t);
	size_t user_off = 0, size = sizeof(struct sipcx_txn) + nkeys;
	if (opts->user_size) {
		user_off = (size + align - 1) / align * align;
		if (opts->user_size > UINT32_MAX - user_off)
			return NULL;
		size = user_off + opts->user_size;
	}
	struct sipcx_txn *t = sipcx_malloc(size);
	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	if (user_off)
		memset((char *)t + user_off, 0, opts->user_size);
	t->user_off = (uint32_t)user_off;
	t->flags = opts->flags;
	t->t1 = opt_or(opts->t1_us, SIPCX_TXN_T1_US);
	t->t2 = opt_or(opts->t2_us, SIPCX_TXN_T2_US);
	t->t4 = opt_or(opts->t4_us, SIPCX_TXN_T4_US);
	for (size_t i = 0; i < SIPCX__TM__COUNT; i++)
		t->tm[i] = SIPCX_TXN_NEVER;
	t->cancel_at = SIPCX_TXN_NEVER;
	return t;
}

void sipcx__txn_key_set(struct sipcx_txn *t, size_t *used, enum sipcx__txn_key k,
                        struct sipcx_str s)
{
	if (s.len)
		memcpy(t->keys + *used, s.p, s.len);
	t->key[k] = (struct sipcx__txn_slice){ (uint16_t)*used, (uint16_t)s.len };
	*used += s.len;
}

void sipcx__txn_set_out(struct sipcx_txn *t, char *p, size_t len, const struct sipcx_txn_out *o)
{
	char *old = t->out_p;
	bool sent = false;
	for (size_t i = 0; old && o && i < o->nsend; i++)
		sent |= o->send[i].p == old;
	if (sent) {
		/* Never two in one input (see stale); were it so, the older one is not in o. */
		sipcx_free(t->stale);
		t->stale = old;
	} else {
		sipcx_free(old);
	}
	t->out_p = p;
	t->out_len = p ? len : 0;
}

int sipcx__txn_store(struct sipcx_txn *t, const char *p, size_t len, const struct sipcx_txn_out *o)
{
	char *copy = sipcx_malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, p, len);
	sipcx__txn_set_out(t, copy, len, o);
	return 0;
}

void sipcx__txn_release(struct sipcx_txn *t)
{
	sipcx_msg_unref(t->req);
	t->req = NULL;
}

void sipcx_txn_free(struct sipcx_txn *t)
{
	if (!t)
		return;
	sipcx_txn_table_remove(t);
	sipcx_msg_unref(t->req);
	sipcx_free(t->out_p);
	sipcx_free(t->stale);
	sipcx_free(t);
}

static bool is_client(const struct sipcx_txn *t)
{
	return t->kind == SIPCX_TXN_ICT || t->kind == SIPCX_TXN_NICT;
}

int sipcx_txn_recv(struct sipcx_txn *t, const struct sipcx_msg *m, uint64_t now,
                   struct sipcx_txn_out *o)
{
	if (!o)
		return -EINVAL;
	sipcx__txn_out_reset(o, t);
	if (!t || !m || m->request == is_client(t))
		return -EINVAL;
	/* A late caller: the timers that were due come first (Timer B before a late 1xx). */
	sipcx__txn_run(t, now, o);
	int r = 0;
	if (t->state != SIPCX_TXN_TERMINATED)
		r = is_client(t) ? sipcx__txn_client_recv(t, m, now, o)
		                 : sipcx__txn_server_recv(t, m, now, o);
	sipcx__txn_run(t, now, o);
	o->deadline = sipcx_txn_deadline(t);
	return r;
}

int sipcx_txn_tick(struct sipcx_txn *t, uint64_t now, struct sipcx_txn_out *o)
{
	if (!o)
		return -EINVAL;
	sipcx__txn_out_reset(o, t);
	if (!t)
		return -EINVAL;
	sipcx__txn_run(t, now, o);
	o->deadline = sipcx_txn_deadline(t);
	return 0;
}

int sipcx_txn_transport_error(struct sipcx_txn *t, int err, uint64_t now, struct sipcx_txn_out *o)
{
	(void)now;
	if (!o)
		return -EINVAL;
	sipcx__txn_out_reset(o, t);
	if (!t)
		return -EINVAL;
	if (t->state != SIPCX_TXN_TERMINATED) {
		/* RFC 3261 17.1.4, 17.2.4: inform the TU, then Terminated. */
		sipcx__txn_event(o, SIPCX_TXN_EV_TRANSPORT_ERROR, NULL, err < 0 ? err : -EIO);
		sipcx__txn_terminate(t, o);
	}
	o->deadline = SIPCX_TXN_NEVER;
	return 0;
}

uint64_t sipcx_txn_deadline(const struct sipcx_txn *t)
{
	uint64_t d = SIPCX_TXN_NEVER;
	if (!t)
		return d;
	for (size_t i = 0; i < SIPCX__TM__COUNT; i++)
		if (t->tm[i] < d)
			d = t->tm[i];
	return d;
}

enum sipcx_txn_kind sipcx_txn_kind(const struct sipcx_txn *t)
{
	return t->kind;
}

enum sipcx_txn_state sipcx_txn_state(const struct sipcx_txn *t)
{
	return t ? t->state : SIPCX_TXN_TERMINATED;
}

const char *sipcx_txn_state_name(enum sipcx_txn_state s)
{
	static const char *const names[] = {
		[SIPCX_TXN_CALLING] = "Calling",       [SIPCX_TXN_TRYING] = "Trying",
		[SIPCX_TXN_PROCEEDING] = "Proceeding", [SIPCX_TXN_COMPLETED] = "Completed",
		[SIPCX_TXN_CONFIRMED] = "Confirmed",   [SIPCX_TXN_ACCEPTED] = "Accepted",
		[SIPCX_TXN_TERMINATED] = "Terminated",
	};
	if ((unsigned)s >= SIPCX_ARRAY_SIZE(names))
		return "?";
	return names[s];
}

const struct sipcx_msg *sipcx_txn_request(const struct sipcx_txn *t)
{
	if (!t)
		return NULL;
	bool client = t->kind == SIPCX_TXN_ICT || t->kind == SIPCX_TXN_NICT;
	/*
	 * A client keeps only its request's bytes until the final response;
	 * the parsed view is made on first use, like a message's cache (one
	 * thread at a time, see sipcx_msg).
	 */
	if (client && !t->req && t->out_p && t->status < 200) {
		struct sipcx_txn *w = (struct sipcx_txn *)(uintptr_t)t;
		if (sipcx_msg_new(&w->req, t->out_p, t->out_len, 0) < 0)
			w->req = NULL;
	}
	return t->req;
}

uint16_t sipcx_txn_status(const struct sipcx_txn *t)
{
	return t ? t->status : 0;
}

struct sipcx_str sipcx_txn_branch(const struct sipcx_txn *t)
{
	return t ? sipcx__txn_key(t, SIPCX__K_BRANCH) : SIPCX_STR_NULL;
}

void sipcx_txn_set_user(struct sipcx_txn *t, void *user)
{
	if (t)
		t->user = user;
}

void *sipcx_txn_user(const struct sipcx_txn *t)
{
	return t ? t->user : NULL;
}

void *sipcx_txn_user_area(const struct sipcx_txn *t)
{
	return t && t->user_off ? (char *)(uintptr_t)t + t->user_off : NULL;
}
