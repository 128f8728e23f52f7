/* txn: INVITE and non-INVITE client transactions, the ACK for non-2xx and CANCEL (RFC 3261 17.1, 9.1, RFC 6026 7.2). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "txn/txn.h"

/* RFC 3261 17.1.1.2: Timer D is "at least 32 seconds" on unreliable transports. */
#define TIMER_D_MIN_US 32000000u

static bool reliable(const struct sipcx_txn *t)
{
	return (t->flags & SIPCX_TXN_RELIABLE) != 0;
}

static void timers_off(struct sipcx_txn *t)
{
	for (size_t i = 0; i < SIPCX__TM__COUNT; i++)
		t->tm[i] = SIPCX_TXN_NEVER;
}

/*
 * A request derived from the INVITE: ACK for a non-2xx (17.1.1.3) or CANCEL
 * (9.1). Both keep the Request-URI, the top Via only (same branch), From,
 * Call-ID, the CSeq number and the Route headers; the ACK takes To from
 * the response (with its tag), the CANCEL from the request.
 */
static int print_derived(struct sipcx_buf *b, const struct sipcx_msg *req, const char *method,
                         const struct sipcx_hdr *to)
{
	const struct sipcx_via *via = sipcx_msg_via(req);
	const struct sipcx_cseq *cseq = sipcx_msg_cseq(req);
	const struct sipcx_hdr *from = sipcx_msg_hdr(req, SIPCX_HDR_FROM);
	const struct sipcx_hdr *callid = sipcx_msg_hdr(req, SIPCX_HDR_CALL_ID);
	if (!via || !cseq || !from || !callid || !to)
		return -EINVAL;

	char cseq_val[32];
	int n = snprintf(cseq_val, sizeof(cseq_val), "%u %s", (unsigned)cseq->num, method);
	struct sipcx_hdr hdrs[SIPCX_MSG_MAX_HDRS + 6];
	size_t k = 0;
	hdrs[k++] = (struct sipcx_hdr){ .id = SIPCX_HDR_VIA, .value = via->raw };
	hdrs[k++] = (struct sipcx_hdr){ .id = SIPCX_HDR_MAX_FORWARDS, .value = SIPCX_STR("70") };
	for (const struct sipcx_hdr *h = sipcx_msg_hdr(req, SIPCX_HDR_ROUTE); h;
	     h = sipcx_msg_hdr_next(req, h))
		hdrs[k++] = (struct sipcx_hdr){ .id = SIPCX_HDR_ROUTE, .value = h->value };
	hdrs[k++] = (struct sipcx_hdr){ .id = SIPCX_HDR_FROM, .value = from->value };
	hdrs[k++] = (struct sipcx_hdr){ .id = SIPCX_HDR_TO, .value = to->value };
	hdrs[k++] = (struct sipcx_hdr){ .id = SIPCX_HDR_CALL_ID, .value = callid->value };
	hdrs[k++] = (struct sipcx_hdr){ .id = SIPCX_HDR_CSEQ, .value = { cseq_val, (size_t)n } };
	return sipcx_msg_print_request(b, sipcx_str_c(method), req->ruri, hdrs, k, SIPCX_STR_NULL);
}

/* The request bytes are kept until a final response (out_p, status below 200). */
static bool has_request(const struct sipcx_txn *t)
{
	return t->out_p && t->status < 200;
}

/* The request parsed: the view sipcx_txn_request() made, or a parse of its bytes into tmp. */
static const struct sipcx_msg *request_of(const struct sipcx_txn *t, struct sipcx_msg *tmp)
{
	if (t->req)
		return t->req;
	if (!has_request(t) || sipcx_msg_parse(tmp, t->out_p, t->out_len, 0) < 0)
		return NULL;
	return tmp;
}

/*
 * A final response came: the request (bytes and parsed view) is not needed
 * any more; ack (NULL: none) takes the place of its bytes. A retransmission
 * of them in o (a late caller) keeps them until the next input.
 */
static void drop_request(struct sipcx_txn *t, char *ack, size_t ack_len,
                         const struct sipcx_txn_out *o)
{
	sipcx__txn_set_out(t, ack, ack_len, o);
	sipcx__txn_release(t);
}

/* Build the ACK and put it in place of the request bytes. */
static int build_ack(struct sipcx_txn *t, const struct sipcx_msg *resp,
                     const struct sipcx_txn_out *o)
{
	struct sipcx_msg tmp;
	const struct sipcx_msg *req = request_of(t, &tmp);
	if (!req)
		return -EINVAL;
	const struct sipcx_hdr *to = sipcx_msg_hdr(resp, SIPCX_HDR_TO);
	if (!to) /* a response without To fails sipcx_msg_check(); keep the request's */
		to = sipcx_msg_hdr(req, SIPCX_HDR_TO);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	int r = print_derived(&b, req, "ACK", to);
	if (r < 0) {
		sipcx_buf_free(&b);
		return r;
	}
	size_t len;
	char *p = sipcx_buf_detach(&b, &len);
	if (!p)
		return -ENOMEM;
	drop_request(t, p, len, o);
	return 0;
}

int sipcx_txn_print_cancel(struct sipcx_buf *b, const struct sipcx_txn *t)
{
	if (!b || !t || t->kind != SIPCX_TXN_ICT)
		return -EINVAL;
	struct sipcx_msg tmp;
	const struct sipcx_msg *req = request_of(t, &tmp);
	if (!req)
		return -EINVAL; /* a final response came: nothing to cancel */
	size_t start = b->len;
	int r = print_derived(b, req, "CANCEL", sipcx_msg_hdr(req, SIPCX_HDR_TO));
	if (r < 0 && !sipcx_buf_err(b))
		b->len = start;
	return r;
}

int sipcx_txn_client_new(struct sipcx_txn **out, const char *req, size_t len,
                         const struct sipcx_txn_opts *opts, uint64_t now, struct sipcx_txn_out *o)
{
	if (!o)
		return -EINVAL;
	sipcx__txn_out_reset(o, NULL);
	if (!out || !req)
		return -EINVAL;
	/*
	 * Parsed on the stack: the transaction keeps the bytes (to resend
	 * them) and its matching keys, and parses again only to build an ACK
	 * or a CANCEL.
	 */
	struct sipcx_msg m;
	int r = sipcx_msg_parse(&m, req, len, 0);
	if (r < 0)
		return r;
	const struct sipcx_via *via = sipcx_msg_via(&m);
	if (!m.request || m.method == SIPCX_METHOD_ACK || !via || via->branch.len == 0 ||
	    !sipcx_msg_cseq(&m) || !sipcx_msg_from(&m) || !sipcx_msg_to(&m) ||
	    sipcx_msg_call_id(&m).len == 0)
		return -EINVAL;
	struct sipcx_str method = m.method == SIPCX_METHOD_OTHER ? m.method_str : SIPCX_STR_NULL;
	struct sipcx_txn *t = sipcx__txn_alloc(via->branch.len + method.len, opts);
	if (!t)
		return -ENOMEM;
	if ((r = sipcx__txn_store(t, m.raw.p, m.raw.len, NULL)) < 0) {
		sipcx_txn_free(t);
		return r;
	}
	size_t used = 0;
	sipcx__txn_key_set(t, &used, SIPCX__K_BRANCH, via->branch);
	sipcx__txn_key_set(t, &used, SIPCX__K_METHOD, method);
	t->method = m.method;
	t->rfc2543 = !sipcx__txn_has_cookie(via->branch);
	t->hash = sipcx__txn_hash_branch(via->branch);
	if (m.method == SIPCX_METHOD_INVITE) {
		t->kind = SIPCX_TXN_ICT;
		t->state = SIPCX_TXN_CALLING;
	} else {
		t->kind = SIPCX_TXN_NICT;
		t->state = SIPCX_TXN_TRYING;
	}
	/* 17.1.1.2 Timer A / 17.1.2.2 Timer E: retransmissions on unreliable transports only. */
	if (!reliable(t)) {
		t->retx_ival = t->t1;
		t->tm[SIPCX__TM_RETX] = now + t->t1;
	}
	/* Timer B / Timer F: 64*T1 on any transport. */
	t->tm[SIPCX__TM_FAIL] = now + 64 * t->t1;
	sipcx__txn_send(o, SIPCX_TXN_SEND_REQUEST, false, 0, t->out_p, t->out_len);
	o->deadline = sipcx_txn_deadline(t);
	*out = t;
	return 0;
}

static int ict_recv(struct sipcx_txn *t, const struct sipcx_msg *m, uint64_t now,
                    struct sipcx_txn_out *o)
{
	uint16_t st = m->status;
	switch (t->state) {
	case SIPCX_TXN_CALLING:
	case SIPCX_TXN_PROCEEDING:
		if (st >= 300) {
			/* 17.1.1.3: the ACK first, so that nothing changes when it cannot be built. */
			int r = build_ack(t, m, o);
			if (r < 0)
				return r;
			timers_off(t);
			t->state = SIPCX_TXN_COMPLETED;
			t->tm[SIPCX__TM_END] =
			    now + (reliable(t) ? 0
			                       : (64 * t->t1 > TIMER_D_MIN_US ? 64 * t->t1
			                                                      : TIMER_D_MIN_US));
			sipcx__txn_send(o, SIPCX_TXN_SEND_ACK, false, 0, t->out_p, t->out_len);
		} else if (st >= 200) {
			/* RFC 6026 7.2: Accepted absorbs nothing but passes each 2xx; Timer M. */
			drop_request(t, NULL, 0, o);
			timers_off(t);
			t->state = SIPCX_TXN_ACCEPTED;
			t->tm[SIPCX__TM_END] = now + 64 * t->t1;
		} else {
			/*
			 * 17.1.1.2: a 1xx stops Timer A; Timer B only guards
			 * Calling. A CANCEL sent still limits the wait (9.1).
			 */
			timers_off(t);
			t->state = SIPCX_TXN_PROCEEDING;
			t->tm[SIPCX__TM_FAIL] = t->cancel_at;
		}
		t->status = st;
		sipcx__txn_event(o, SIPCX_TXN_EV_RESPONSE, m, 0);
		return 0;
	case SIPCX_TXN_COMPLETED:
		/* A retransmitted final response: our ACK was lost, send it again. */
		if (st >= 300)
			sipcx__txn_send(o, SIPCX_TXN_SEND_ACK, true, 0, t->out_p, t->out_len);
		return 0;
	case SIPCX_TXN_ACCEPTED:
		if (st >= 200 && st < 300) {
			t->status = st;
			sipcx__txn_event(o, SIPCX_TXN_EV_RESPONSE, m, 0);
		}
		return 0;
	default:
		return 0;
	}
}

static int nict_recv(struct sipcx_txn *t, const struct sipcx_msg *m, uint64_t now,
                     struct sipcx_txn_out *o)
{
	uint16_t st = m->status;
	if (t->state != SIPCX_TXN_TRYING && t->state != SIPCX_TXN_PROCEEDING)
		return 0; /* Completed absorbs retransmitted final responses */
	if (st < 200) {
		/*
		 * 17.1.2.2: in Proceeding Timer E is reset to T2 when it fires;
		 * the pending firing stays where it is.
		 */
		t->state = SIPCX_TXN_PROCEEDING;
		t->retx_ival = t->t2;
	} else {
		drop_request(t, NULL, 0, o);
		timers_off(t);
		t->state = SIPCX_TXN_COMPLETED;
		t->tm[SIPCX__TM_END] = now + (reliable(t) ? 0 : t->t4); /* Timer K */
	}
	t->status = st;
	sipcx__txn_event(o, SIPCX_TXN_EV_RESPONSE, m, 0);
	return 0;
}

int sipcx_txn_cancel_sent(struct sipcx_txn *t, uint64_t now, struct sipcx_txn_out *o)
{
	if (!o)
		return -EINVAL;
	sipcx__txn_out_reset(o, t);
	if (!t || t->kind != SIPCX_TXN_ICT)
		return -EINVAL;
	if ((t->state == SIPCX_TXN_CALLING || t->state == SIPCX_TXN_PROCEEDING) &&
	    t->cancel_at == SIPCX_TXN_NEVER) {
		t->cancel_at = now + 64 * t->t1;
		if (t->cancel_at < t->tm[SIPCX__TM_FAIL])
			t->tm[SIPCX__TM_FAIL] = t->cancel_at;
	}
	sipcx__txn_run(t, now, o);
	o->deadline = sipcx_txn_deadline(t);
	return 0;
}

int sipcx__txn_client_recv(struct sipcx_txn *t, const struct sipcx_msg *m, uint64_t now,
                           struct sipcx_txn_out *o)
{
	if (m->status < 100 || m->status > 699)
		return 0;
	return t->kind == SIPCX_TXN_ICT ? ict_recv(t, m, now, o) : nict_recv(t, m, now, o);
}

void sipcx__txn_client_timer(struct sipcx_txn *t, enum sipcx__txn_timer which, uint64_t due,
                             uint64_t now, struct sipcx_txn_out *o)
{
	switch (which) {
	case SIPCX__TM_RETX:
		/* Timer A doubles without limit (B ends it); Timer E is capped at T2. */
		sipcx__txn_send(o, SIPCX_TXN_SEND_REQUEST, true, 0, t->out_p, t->out_len);
		sipcx__txn_retx_next(t, due, now,
		                     t->kind == SIPCX_TXN_ICT ? SIPCX_TXN_NEVER : t->t2);
		break;
	case SIPCX__TM_FAIL:
		/* Timer B / F: no final response; 17.1.1.2, 17.1.2.2. */
		sipcx__txn_event(o, SIPCX_TXN_EV_TIMEOUT, NULL, -ETIMEDOUT);
		sipcx__txn_terminate(t, o);
		break;
	case SIPCX__TM_END: /* Timer D, K, M */
	default:
		sipcx__txn_terminate(t, o);
		break;
	}
}
