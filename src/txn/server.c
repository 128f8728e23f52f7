/* txn: INVITE and non-INVITE server transactions (RFC 3261 17.2, 13.3.1.4, RFC 6026 7.1). */
#include <errno.h>
#include <string.h>

#include "txn/txn.h"

/* RFC 3261 17.2.1: a 100 unless the TU answers within 200 ms. */
#define TRYING_DELAY_US 200000u

static bool reliable(const struct sipcx_txn *t)
{
	return (t->flags & SIPCX_TXN_RELIABLE) != 0;
}

/* "SIP/2.0 NNN" then SP or the end of the line: the status of a response to send. */
static int status_of(const char *p, size_t len, uint16_t *status)
{
	if (len < 12 || !sipcx_str_ieq(SIPCX_STR("SIP/2.0 "), (struct sipcx_str){ p, 8 }))
		return -EINVAL;
	unsigned v = 0;
	for (size_t i = 8; i < 11; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if ((p[11] != ' ' && p[11] != '\r' && p[11] != '\n') || v < 100 || v > 699)
		return -EINVAL;
	*status = (uint16_t)v;
	return 0;
}

/* The 17.2.1 "100 Trying": 8.2.6 without a To tag (downgraded to SHOULD NOT there). */
static int build_100(struct sipcx_txn *t, const struct sipcx_txn_out *o)
{
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	int r = sipcx_msg_print_reply(&b, t->req, 100, SIPCX_STR_NULL, SIPCX_STR_NULL, NULL, 0,
	                              SIPCX_STR_NULL);
	if (r < 0) {
		sipcx_buf_free(&b);
		return r;
	}
	size_t len;
	char *p = sipcx_buf_detach(&b, &len);
	if (!p)
		return -ENOMEM;
	sipcx__txn_set_out(t, p, len, o);
	t->status = 100;
	return 0;
}

int sipcx_txn_server_new(struct sipcx_txn **out, const struct sipcx_msg *req,
                         const struct sipcx_txn_opts *opts, uint64_t now, struct sipcx_txn_out *o)
{
	if (!o)
		return -EINVAL;
	sipcx__txn_out_reset(o, NULL);
	if (!out || !req || !req->request || req->method == SIPCX_METHOD_ACK ||
	    !sipcx_msg_via(req) || !sipcx_msg_cseq(req))
		return -EINVAL;
	const struct sipcx_via *via = sipcx_msg_via(req);
	const struct sipcx_addr *from = sipcx_msg_from(req), *to = sipcx_msg_to(req);
	uint32_t cseq = sipcx_msg_cseq(req)->num;
	bool rfc2543 = !sipcx__txn_has_cookie(via->branch);

	/*
	 * The keys the transaction matches by once the request is gone
	 * (17.2.3), and the 8.2.2.2 merge key. A 2543 branch lies inside
	 * the Via parameters kept whole: it is not copied twice.
	 */
	struct sipcx_str k[SIPCX__K__COUNT] = { 0 };
	k[SIPCX__K_HOST] = via->host;
	k[SIPCX__K_CALL_ID] = sipcx_msg_call_id(req);
	k[SIPCX__K_FROM_TAG] = from ? from->tag : SIPCX_STR_NULL;
	if (req->method == SIPCX_METHOD_OTHER)
		k[SIPCX__K_METHOD] = req->method_str;
	bool branch_in_params = false;
	if (rfc2543) {
		k[SIPCX__K_RURI] = req->ruri;
		k[SIPCX__K_TO_TAG] = to ? to->tag : SIPCX_STR_NULL;
		k[SIPCX__K_TRANSPORT] = via->transport;
		k[SIPCX__K_PARAMS] = via->params;
		branch_in_params =
		    via->branch.len && via->params.len && via->branch.p >= via->params.p &&
		    via->branch.p + via->branch.len <= via->params.p + via->params.len;
	}
	if (!branch_in_params)
		k[SIPCX__K_BRANCH] = via->branch;
	size_t nkeys = 0;
	for (size_t i = 0; i < SIPCX__K__COUNT; i++)
		nkeys += k[i].len;
	/* Disjoint parts of one message of at most SIPCX_MSG_MAX_SIZE bytes: never more. */
	if (nkeys > UINT16_MAX)
		return -EINVAL;

	struct sipcx_msg *m;
	int r = sipcx_msg_dup(&m, req);
	if (r < 0)
		return r;
	struct sipcx_txn *t = sipcx__txn_alloc(nkeys, opts);
	if (!t) {
		sipcx_msg_unref(m);
		return -ENOMEM;
	}
	size_t used = 0;
	for (size_t i = 0; i < SIPCX__K__COUNT; i++)
		sipcx__txn_key_set(t, &used, (enum sipcx__txn_key)i, k[i]);
	if (branch_in_params)
		t->key[SIPCX__K_BRANCH] = (struct sipcx__txn_slice){
			(uint16_t)(t->key[SIPCX__K_PARAMS].off + (via->branch.p - via->params.p)),
			(uint16_t)via->branch.len
		};
	t->req = m;
	t->method = req->method;
	t->rfc2543 = rfc2543;
	t->cseq = cseq;
	t->via_port = via->port;
	t->hash = rfc2543 ? sipcx__txn_hash_2543(k[SIPCX__K_CALL_ID], cseq)
	                  : sipcx__txn_hash_branch(via->branch);
	t->mhash = sipcx__txn_hash_merge(k[SIPCX__K_CALL_ID], k[SIPCX__K_FROM_TAG], cseq);
	if (req->method == SIPCX_METHOD_INVITE) {
		t->kind = SIPCX_TXN_IST;
		t->state = SIPCX_TXN_PROCEEDING;
		if (t->flags & SIPCX_TXN_100_NOW) {
			if ((r = build_100(t, o)) < 0) {
				sipcx_txn_free(t);
				return r;
			}
		} else if (!(t->flags & SIPCX_TXN_100_NEVER)) {
			t->tm[SIPCX__TM_100] = now + TRYING_DELAY_US;
		}
	} else {
		t->kind = SIPCX_TXN_NIST;
		t->state = SIPCX_TXN_TRYING;
	}
	sipcx__txn_event(o, SIPCX_TXN_EV_REQUEST, t->req, 0);
	if (t->out_p)
		sipcx__txn_send(o, SIPCX_TXN_SEND_RESPONSE, false, 100, t->out_p, t->out_len);
	o->deadline = sipcx_txn_deadline(t);
	*out = t;
	return 0;
}

/* Resend the last response, if any (a request retransmission, Timer G, a 2xx resend). */
static void resend(struct sipcx_txn *t, struct sipcx_txn_out *o)
{
	if (t->out_p)
		sipcx__txn_send(o, SIPCX_TXN_SEND_RESPONSE, true, t->status, t->out_p, t->out_len);
}

int sipcx__txn_server_recv(struct sipcx_txn *t, const struct sipcx_msg *m, uint64_t now,
                           struct sipcx_txn_out *o)
{
	bool ack = m->method == SIPCX_METHOD_ACK;
	if (ack ? t->kind != SIPCX_TXN_IST : !sipcx__txn_same_method(t, m))
		return -EINVAL;
	if (ack) {
		if (t->state == SIPCX_TXN_COMPLETED) {
			/* 17.2.1: Confirmed absorbs ACK retransmissions for Timer I. */
			t->state = SIPCX_TXN_CONFIRMED;
			t->tm[SIPCX__TM_RETX] = t->tm[SIPCX__TM_FAIL] = SIPCX_TXN_NEVER;
			t->tm[SIPCX__TM_END] = now + (reliable(t) ? 0 : t->t4);
		} else if (t->state == SIPCX_TXN_ACCEPTED) {
			/* RFC 6026 7.1: the ACK of a 2xx goes to the TU; it ends our 2xx resends. */
			t->acked = true;
			t->tm[SIPCX__TM_RETX] = SIPCX_TXN_NEVER;
			sipcx__txn_event(o, SIPCX_TXN_EV_ACK, m, 0);
		}
		return 0;
	}
	/*
	 * A retransmitted request gets the last response (17.2.1, 17.2.2):
	 * in Proceeding the last provisional, in Completed the final. Accepted
	 * absorbs INVITEs (RFC 6026 7.1: the 2xx resends are timer driven);
	 * Trying and Confirmed have nothing to say.
	 */
	if (t->state == SIPCX_TXN_PROCEEDING || t->state == SIPCX_TXN_COMPLETED)
		resend(t, o);
	return 0;
}

/*
 * Where the To tag of a final response is in its bytes, for the RFC 2543
 * ACK match (17.2.3). The response is the TU's: parsed on the stack.
 */
static int tag_of(const char *p, size_t len, size_t *off, size_t *tag_len)
{
	struct sipcx_msg m;
	if (sipcx_msg_parse(&m, p, len, 0) < 0)
		return -EINVAL;
	const struct sipcx_addr *to = sipcx_msg_to(&m);
	*off = to && to->tag.len ? (size_t)(to->tag.p - p) : 0;
	*tag_len = to ? to->tag.len : 0;
	return 0;
}

/*
 * Store the response (and for RFC 2543 peers where its To tag is): all or
 * nothing. A final response ends the need for the request: what matching
 * needs is in the keys.
 */
static int keep(struct sipcx_txn *t, const char *p, size_t len, uint16_t st,
                const struct sipcx_txn_out *o)
{
	size_t tag_off = 0, tag_len = 0;
	if (t->rfc2543 && st >= 200) {
		int r = tag_of(p, len, &tag_off, &tag_len);
		if (r < 0)
			return r;
		if (tag_off + tag_len > UINT16_MAX)
			tag_off = tag_len = 0; /* no ACK can match it: only the TU's odd reply */
	}
	int r = sipcx__txn_store(t, p, len, o);
	if (r < 0)
		return r;
	if (t->rfc2543 && st >= 200)
		t->resp_tag = (struct sipcx__txn_slice){ (uint16_t)tag_off, (uint16_t)tag_len };
	t->status = st;
	if (st >= 200)
		sipcx__txn_release(t);
	return 0;
}

static int ist_respond(struct sipcx_txn *t, const char *p, size_t len, uint16_t st, uint64_t now,
                       struct sipcx_txn_out *o)
{
	if (t->state == SIPCX_TXN_ACCEPTED) {
		/* RFC 6026 7.1: more 2xx from the TU are sent; nothing else is. */
		if (st < 200 || st >= 300)
			return -EPROTO;
		int r = keep(t, p, len, st, o);
		if (r < 0)
			return r;
		sipcx__txn_send(o, SIPCX_TXN_SEND_RESPONSE, false, st, t->out_p, t->out_len);
		return 0;
	}
	if (t->state != SIPCX_TXN_PROCEEDING)
		return -EPROTO;
	int r = keep(t, p, len, st, o);
	if (r < 0)
		return r;
	t->tm[SIPCX__TM_100] = SIPCX_TXN_NEVER; /* the TU spoke: no automatic 100 */
	if (st >= 300) {
		t->state = SIPCX_TXN_COMPLETED;
		/* Timer G (unreliable only) resends the final response; Timer H waits for the ACK. */
		if (!reliable(t)) {
			t->retx_ival = t->t1;
			t->tm[SIPCX__TM_RETX] = now + t->t1;
		}
		t->tm[SIPCX__TM_FAIL] = now + 64 * t->t1;
	} else if (st >= 200) {
		t->state = SIPCX_TXN_ACCEPTED;
		t->acked = false;
		t->tm[SIPCX__TM_END] = now + 64 * t->t1; /* Timer L */
		/*
		 * 13.3.1.4, on behalf of the TU: resend the 2xx at T1, 2*T1 ...
		 * capped at T2 until the ACK; on any transport (end-to-end).
		 */
		if (!(t->flags & SIPCX_TXN_TU_2XX)) {
			t->retx_ival = t->t1;
			t->tm[SIPCX__TM_RETX] = now + t->t1;
		}
	}
	sipcx__txn_send(o, SIPCX_TXN_SEND_RESPONSE, false, st, t->out_p, t->out_len);
	return 0;
}

static int nist_respond(struct sipcx_txn *t, const char *p, size_t len, uint16_t st, uint64_t now,
                        struct sipcx_txn_out *o)
{
	if (t->state != SIPCX_TXN_TRYING && t->state != SIPCX_TXN_PROCEEDING)
		return -EPROTO;
	int r = keep(t, p, len, st, o);
	if (r < 0)
		return r;
	if (st >= 200) {
		t->state = SIPCX_TXN_COMPLETED;
		t->tm[SIPCX__TM_END] = now + (reliable(t) ? 0 : 64 * t->t1); /* Timer J */
	} else {
		t->state = SIPCX_TXN_PROCEEDING;
	}
	sipcx__txn_send(o, SIPCX_TXN_SEND_RESPONSE, false, st, t->out_p, t->out_len);
	return 0;
}

int sipcx_txn_respond(struct sipcx_txn *t, const char *resp, size_t len, uint64_t now,
                      struct sipcx_txn_out *o)
{
	if (!o)
		return -EINVAL;
	sipcx__txn_out_reset(o, t);
	if (!t || !resp || t->kind == SIPCX_TXN_ICT || t->kind == SIPCX_TXN_NICT)
		return -EINVAL;
	uint16_t st;
	if (status_of(resp, len, &st) < 0)
		return -EINVAL;
	sipcx__txn_run(t, now, o);
	int r = t->kind == SIPCX_TXN_IST ? ist_respond(t, resp, len, st, now, o)
	                                 : nist_respond(t, resp, len, st, now, o);
	sipcx__txn_run(t, now, o);
	o->deadline = sipcx_txn_deadline(t);
	return r;
}

void sipcx__txn_server_timer(struct sipcx_txn *t, enum sipcx__txn_timer which, uint64_t due,
                             uint64_t now, struct sipcx_txn_out *o)
{
	switch (which) {
	case SIPCX__TM_100:
		/* Best effort: without memory the INVITE retransmission will ask again. */
		if (build_100(t, o) == 0)
			sipcx__txn_send(o, SIPCX_TXN_SEND_RESPONSE, false, 100, t->out_p,
			                t->out_len);
		else
			SIPCX_DEBUG("txn: no memory for 100 Trying");
		break;
	case SIPCX__TM_RETX:
		/* Timer G in Completed, the 2xx resends in Accepted: both double up to T2. */
		resend(t, o);
		sipcx__txn_retx_next(t, due, now, t->t2);
		break;
	case SIPCX__TM_FAIL:
		/* Timer H: the ACK never came (17.2.1). */
		sipcx__txn_event(o, SIPCX_TXN_EV_TIMEOUT, NULL, -ETIMEDOUT);
		sipcx__txn_terminate(t, o);
		break;
	case SIPCX__TM_END:
	default:
		/* Timer I, J, L. L after 2xx resends without an ACK: the TU should BYE (13.3.1.4). */
		if (t->state == SIPCX_TXN_ACCEPTED && !(t->flags & SIPCX_TXN_TU_2XX) && !t->acked)
			sipcx__txn_event(o, SIPCX_TXN_EV_TIMEOUT, NULL, -ETIMEDOUT);
		sipcx__txn_terminate(t, o);
		break;
	}
}
