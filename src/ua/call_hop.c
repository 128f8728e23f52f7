/* ua: requests inside a dialog (RFC 3261 12.2.1.1) toward a next hop by name, located on the loop (RFC 3263 4). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "msg/msg.h"
#include "ua/call.h"
#include "ua/dns.h"

/* A request waiting for its hop: the caller's strings copied after it. */
struct call_qreq {
	struct call_qreq *next;
	struct call_req rq;
	struct sipcx_hdr *hdrs;
	char *hdr_mem;
};

/*
 * One look-up of a dialog's next hop. It holds a reference to the call;
 * cd goes NULL when the dialog is freed first (the waiting requests then
 * fail). done: the answer came, the requests are being sent.
 */
struct call_hop_job {
	struct sipcx_call *c;
	struct call_dlg *cd;
	bool done;
	struct call_qreq *q, **tail;
	char key[SIPCX__DNS_KEY];
};

static void located(int err, const struct sipcx_tp_addr *t, size_t n, void *arg);

/*
 * *dst = where cd's requests go: 0; -EINPROGRESS while its name is
 * located (the look-up started here when needed); or the error. Only the
 * job whose answer came (flushing) looks past itself: anyone else waits
 * behind it, so its queue keeps the order of the requests.
 */
static int hop_of(struct sipcx_call *c, struct call_dlg *cd, bool flushing,
                  struct sipcx_tp_addr *dst)
{
	struct sipcx_uri hop;
	int r = sipcx_dialog_next_hop(cd->d, &hop);
	static const char inval[] = ".invalid";
	const size_t il = sizeof(inval) - 1;
	if (!r && cd->flow.proto && hop.host.len > il &&
	    !strncasecmp(hop.host.p + hop.host.len - il, inval, il)) {
		*dst = cd->flow; /* RFC 7118 5.2: a host that is nowhere: back the way it came */
		return 0;
	}
	if (!r)
		r = sipcx__ua_uri_dst(&hop, SIPCX_TP_NONE, dst);
	if (r != -EAGAIN)
		return r; /* numeric (as fast as ever), or an error */
	if (cd->hop_job && !(flushing && cd->hop_job->done))
		return -EINPROGRESS;
	char key[SIPCX__DNS_KEY];
	sipcx__dns_uri_key(&hop, key, sizeof(key));
	if (!strcmp(cd->hop_key, key)) {
		/* located for this dialog already: one look-up per hop, its answer kept */
		*dst = cd->hop_dst;
		return cd->hop_err;
	}
	struct call_hop_job *job = sipcx_calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	job->c = sipcx_call_ref(c);
	job->cd = cd;
	job->tail = &job->q;
	memcpy(job->key, key, sizeof(key));
	r = sipcx__dns_locate(c->ua, &hop, SIPCX_TP_NONE, located, job);
	if (r) {
		sipcx_call_unref(c);
		sipcx_free(job);
		return r;
	}
	/* A flushing one hands its remaining requests to this one and stops (located()). */
	cd->hop_job = job;
	return -EINPROGRESS;
}

/* Print rq on cd for dst (RFC 3261 12.2.1.1): a new branch, our Contact on target refreshes. */
static int print(struct sipcx_call *c, struct call_dlg *cd, const struct call_req *rq,
                 const struct sipcx_tp_addr *dst, struct sipcx_buf *b)
{
	char branch[SIPCX_TXN_BRANCH_SIZE], via[160], contact[SIPCX_ADDRSTRLEN + 80];
	sipcx_txn_gen_branch(branch);
	int r = sipcx__ua_via(c->ua, dst, branch, via, sizeof(via));
	/* Target refresh requests carry our Contact (RFC 3261 12.2.1.1, RFC 3311). */
	bool refresh = !strcmp(rq->method, "INVITE") || !strcmp(rq->method, "UPDATE");
	if (!r && refresh)
		r = sipcx__ua_contact(c->ua, dst, NULL, sipcx_dialog_secure(cd->d), contact,
		                      sizeof(contact));
	if (r)
		return r;
	struct sipcx_dialog_req drq = {
		.method = rq->method,
		.cseq = rq->cseq,
		.via = sipcx_str_c(via),
		.contact = refresh ? sipcx_str_c(contact) : SIPCX_STR_NULL,
		.hdrs = rq->hdrs,
		.nhdrs = rq->nhdrs,
		.content_type = rq->body.len && rq->ctype ? sipcx_str_c(rq->ctype) : SIPCX_STR_NULL,
		.body = rq->body,
		.user_agent = sipcx_str_c(c->ua->user_agent),
	};
	return sipcx_dialog_print_request(cd->d, b, &drq);
}

/* Print and send rq for dst: an ACK to its hook, anything else as a client transaction. */
static int emit(struct sipcx_call *c, struct call_dlg *cd, const struct call_req *rq,
                const struct sipcx_tp_addr *dst)
{
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	int r = print(c, cd, rq, dst, &b);
	if (!r && rq->ack) {
		r = rq->ack(c, cd, &b, dst);
	} else if (!r) {
		struct ua_txn *ut =
		    sipcx__ua_client_send(c->ua, b.p, b.len, dst, rq->cb, rq->arg, &r);
		if (ut && rq->sent)
			rq->sent(c, cd, ut);
		else if (!ut && !r)
			r = -EIO;
	}
	sipcx_buf_free(&b);
	return r;
}

/* A copy of rq that outlives the caller's strings, at the end of job's queue. */
static int enqueue(struct call_hop_job *job, const struct call_req *rq)
{
	size_t ml = strlen(rq->method) + 1, cl = rq->ctype ? strlen(rq->ctype) + 1 : 0;
	struct call_qreq *w = sipcx_calloc(1, sizeof(*w) + ml + cl + rq->body.len);
	if (!w)
		return -ENOMEM;
	int r = sipcx__hdrs_dup(rq->hdrs, rq->nhdrs, 0, &w->hdrs, &w->hdr_mem);
	if (r) {
		sipcx_free(w);
		return r;
	}
	char *p = (char *)(w + 1);
	w->rq = *rq;
	w->rq.hdrs = w->hdrs;
	w->rq.method = memcpy(p, rq->method, ml);
	p += ml;
	if (cl)
		w->rq.ctype = memcpy(p, rq->ctype, cl);
	p += cl;
	if (rq->body.len)
		w->rq.body.p = memcpy(p, rq->body.p, rq->body.len);
	*job->tail = w;
	job->tail = &w->next;
	return 0;
}

static void qreq_free(struct call_qreq *w)
{
	sipcx_free(w->hdrs);
	sipcx_free(w->hdr_mem);
	sipcx_free(w);
}

/* A waiting request that cannot go: its callback hears it; an ACK that cannot go ends the call. */
static void fail(struct sipcx_call *c, struct call_dlg *cd, const struct call_req *rq, int err)
{
	SIPCX_INFO("call %s: %s in the dialog cannot go: %s", c->info.call_id, rq->method,
	           sipcx_strerror(err));
	if (rq->ack) {
		if (cd && cd == c->dlg && !c->ended && !c->ending)
			sipcx__call_bye(c, SIPCX_CALL_END_ERROR, err);
		return;
	}
	if (rq->sent && c->ended)
		return; /* the call's own request (re-INVITE, UPDATE): nobody waits for it now */
	rq->cb(err, NULL, rq->arg);
}

/* The look-up's answer: kept on the dialog, then the waiting requests go in turn. */
static void located(int err, const struct sipcx_tp_addr *t, size_t n, void *arg)
{
	struct call_hop_job *job = arg;
	struct sipcx_call *c = job->c;
	job->done = true;
	if (job->cd) {
		struct call_dlg *cd = job->cd;
		/* In a dialog the first target is the hop (RFC 3263 4.3 failover: new requests only). */
		memcpy(cd->hop_key, job->key, sizeof(cd->hop_key));
		cd->hop_err = err ? err : n ? 0 : SIPCX_ERESOLVE;
		if (!cd->hop_err)
			cd->hop_dst = t[0];
		else
			SIPCX_INFO("call %s: next hop %s not located: %s", c->info.call_id,
			           job->key, sipcx_strerror(cd->hop_err));
	}
	struct call_qreq *w;
	while ((w = job->q) != NULL) {
		job->q = w->next;
		if (!job->q)
			job->tail = &job->q;
		/* Re-read each time: a callback may have ended the call and freed the dialog. */
		struct call_dlg *cd = job->cd;
		struct sipcx_tp_addr dst;
		int r = cd ? hop_of(c, cd, true, &dst) : SIPCX_ECLOSED;
		if (r == -EINPROGRESS) {
			/* The hop changed meanwhile (a target refresh): the rest wait for the new one. */
			struct call_hop_job *next = cd->hop_job; /* new, its queue empty */
			w->next = job->q;
			*next->tail = w;
			while (*next->tail)
				next->tail = &(*next->tail)->next;
			job->q = NULL;
			job->tail = &job->q;
			break;
		}
		if (!r)
			r = emit(c, cd, &w->rq, &dst);
		if (r)
			fail(c, cd, &w->rq, r);
		qreq_free(w);
	}
	if (job->cd && job->cd->hop_job == job) {
		job->cd->hop_job = NULL;
		if (job->cd->released)
			sipcx__call_dlg_free(
			    job->cd); /* its ACK and BYE went (a second fork's 2xx) */
	}
	sipcx_call_unref(c);
	sipcx_free(job);
}

int sipcx__call_out(struct sipcx_call *c, struct call_dlg *cd, const struct call_req *rq)
{
	struct sipcx_tp_addr dst;
	int r = hop_of(c, cd, false, &dst);
	if (r == -EINPROGRESS)
		return enqueue(cd->hop_job, rq);
	return r ? r : emit(c, cd, rq, &dst);
}

int sipcx__call_request(struct sipcx_call *c, struct call_dlg *cd, const char *method,
                        const struct sipcx_hdr *hdrs, size_t nhdrs, const char *ctype,
                        struct sipcx_str body, sipcx_ua_resp_cb *cb, void *arg)
{
	struct call_req rq = { .method = method,
		               .hdrs = hdrs,
		               .nhdrs = nhdrs,
		               .ctype = ctype,
		               .body = body,
		               .cb = cb,
		               .arg = arg };
	return sipcx__call_out(c, cd, &rq);
}

int sipcx__call_ack_keep(struct sipcx_call *c, struct sipcx_buf *b, const struct sipcx_tp_addr *dst,
                         char **ack, size_t *len, struct sipcx_tp_addr *ack_dst)
{
	sipcx_free(*ack);
	*ack = sipcx_buf_detach(b, len);
	if (!*ack)
		return -ENOMEM;
	*ack_dst = *dst;
	UA_STAT_ADD(c->ua, tx_requests, 1);
	return sipcx_transport_send(c->ua->tp, dst, 0, *ack, *len);
}

bool sipcx__call_hop_busy(const struct sipcx_call *c)
{
	return c->dlg && c->dlg->hop_job && !c->dlg->hop_job->done;
}

void sipcx__call_hop_forget(struct call_dlg *cd)
{
	if (cd->hop_job)
		cd->hop_job->cd = NULL;
}
