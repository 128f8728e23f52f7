/* ua: the INVITE client of a call: offer (or late offer), 1xx and early dialogs, digest on 401/407, 2xx and its ACK, forks, CANCEL, ring timeout (RFC 3261 9.1, 13.2, 22; RFC 3264; RFC 6026). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sipcx/call.h>

#include "ua/call.h"
#include "ua/dns.h"

static void invite_resp(int err, const struct sipcx_msg *resp, void *arg);

static void ict_gone(struct ua_txn *ut, void *arg)
{
	struct sipcx_call *c = arg;
	if (c->ict == ut)
		c->ict = NULL;
}

static const struct ua_txn_hooks ict_hooks = { .gone = ict_gone };

/* Keep copies of the credentials of the INVITE: its ACK carries the same (RFC 3261 22.1). */
static int keep_auth(struct sipcx_call *c, const struct sipcx_hdr *auth, size_t n)
{
	size_t mem = 0;
	for (size_t i = 0; i < n; i++)
		mem += auth[i].name.len + auth[i].value.len;
	char *p = mem ? sipcx_malloc(mem) : NULL;
	if (mem && !p)
		return -ENOMEM;
	sipcx_free(c->auth_mem);
	c->auth_mem = p;
	c->nauth = n;
	for (size_t i = 0; i < n; i++) {
		c->auth_hdrs[i].id = auth[i].id;
		memcpy(p, auth[i].name.p, auth[i].name.len);
		c->auth_hdrs[i].name = (struct sipcx_str){ p, auth[i].name.len };
		p += auth[i].name.len;
		memcpy(p, auth[i].value.p, auth[i].value.len);
		c->auth_hdrs[i].value = (struct sipcx_str){ p, auth[i].value.len };
		p += auth[i].value.len;
	}
	return 0;
}

static const char allow[] = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, REFER";

/* Build and send the INVITE (again with credentials: a new transaction, CSeq + 1). */
static int send_invite(struct sipcx_call *c, const struct sipcx_hdr *auth, size_t nauth)
{
	const struct call_cfg *cfg = c->cfg;
	size_t n = cfg->nhdrs + 6 + nauth;
	struct sipcx_hdr *h = sipcx_calloc(n, sizeof(*h));
	if (!h)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < cfg->nhdrs; i++)
		h[n++] = cfg->hdrs[i];
	h[n++] = (struct sipcx_hdr){ SIPCX_HDR_ALLOW, SIPCX_STR_NULL, SIPCX_STR(allow) };
	/* RFC 3262 4 and RFC 4028 7.1: 100rel supported or required, timer supported. */
	bool req = cfg->ext.rel100 == SIPCX_100REL_REQUIRED;
	h[n++] = (struct sipcx_hdr){ SIPCX_HDR_SUPPORTED, SIPCX_STR_NULL,
		                     req ? SIPCX_STR(SIPCX__CALL_TAGS ", timer")
		                         : sipcx_str_c(sipcx__call_supported(cfg)) };
	if (req)
		h[n++] =
		    (struct sipcx_hdr){ SIPCX_HDR_REQUIRE, SIPCX_STR_NULL, SIPCX_STR("100rel") };
	char sebuf[64];
	n += sipcx__call_se_request_hdrs(c, h + n, sebuf);
	for (size_t i = 0; i < nauth; i++)
		h[n++] = auth[i];
	struct sipcx_ua_req_opts o = {
		.method = "INVITE",
		.uri = cfg->uri,
		.to = cfg->to,
		.from = cfg->from,
		.hdrs = h,
		.nhdrs = n,
		.content_type = c->offer ? "application/sdp" : NULL,
		.body = { c->offer, c->offer_len },
		.cseq = c->cseq,
		.call_id = c->call_id,
		.from_tag = c->from_tag,
	};
	char branch[SIPCX_TXN_BRANCH_SIZE];
	sipcx_txn_gen_branch(branch);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	int r = sipcx__ua_build_request(c->ua, &o, &c->dst, branch, c->from_tag, c->call_id, &b);
	sipcx_free(h);
	if (!r)
		r = keep_auth(c, auth, nauth);
	if (r) {
		sipcx_buf_free(&b);
		return r;
	}
	sipcx_free(c->invite);
	c->invite = sipcx_buf_detach(&b, &c->invite_len);
	if (!c->invite)
		return -ENOMEM;
	struct ua_txn *ut =
	    sipcx__ua_client_send(c->ua, c->invite, c->invite_len, &c->dst, invite_resp, c, &r);
	if (!ut)
		return r;
	ut->all_2xx = true;
	ut->hooks = &ict_hooks;
	ut->hook_arg = c;
	if (c->ict) {
		/* The challenged INVITE's transaction lives on (Timer D) by itself: let go of it. */
		c->ict->cb = NULL;
		c->ict->hooks = NULL;
	}
	c->ict = ut;
	return 0;
}

/*
 * RFC 3263 4.3: the INVITE to the next target of a host name, in a new
 * transaction, after a transport error or timeout before any response, or
 * a 503 (final: the first transaction is over) without an early dialog.
 * True when sent.
 */
static bool next_target(struct sipcx_call *c, const char *why, bool final)
{
	if ((!final && c->got_1xx) || c->dlg)
		return false;
	while (!c->cancel_wanted && c->itarget + 1 < c->ntargets) {
		c->got_1xx = false; /* the CANCEL waits for the new transaction's first 1xx */
		c->itarget++;
		SIPCX_INFO("call %s: target %u of %u failed (%s), trying the next", c->call_id,
		           c->itarget, c->ntargets, why);
		c->dst = c->targets[c->itarget];
		c->cseq++;
		if (send_invite(c, NULL, 0) == 0)
			return true;
	}
	return false;
}

/* Our INVITE, parsed (into the UA's scratch message) for the dialog layer. */
static const struct sipcx_msg *invite_msg(struct sipcx_call *c)
{
	struct sipcx_msg *m = c->ua->calls->msg;
	return sipcx_msg_parse(m, c->invite, c->invite_len, 0) > 0 ? m : NULL;
}

/* A new dialog from a response with a To tag. */
static struct call_dlg *dialog_from(struct sipcx_call *c, const struct sipcx_msg *resp)
{
	const struct sipcx_msg *req = invite_msg(c);
	struct sipcx_dialog *d = NULL;
	if (!req || sipcx_dialog_new_uac(&d, req, resp) != 0)
		return NULL;
	struct call_dlg *cd = sipcx__call_dlg_add(c, d);
	if (!cd)
		sipcx_dialog_free(d);
	return cd;
}

static void cancel_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	/* The INVITE's 487 (or its 2xx) tells how it ends; the CANCEL's answer says nothing more. */
	(void)err;
	(void)resp;
	(void)arg;
}

/* RFC 3261 9.1: CANCEL once a provisional response came. */
static void send_cancel(struct sipcx_call *c)
{
	if (!c->ict || c->cancel_sent || c->answered)
		return;
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	int r = sipcx_txn_print_cancel(&b, c->ict->t);
	if (!r && sipcx__ua_client_send(c->ua, b.p, b.len, &c->dst, cancel_resp, NULL, &r)) {
		c->cancel_sent = true;
		struct sipcx_txn_out o;
		sipcx_txn_cancel_sent(c->ict->t, sipcx_now_us(), &o);
		sipcx__ua_txn_apply(c->ict, &o);
	}
	sipcx_buf_free(&b);
}

static void provisional(struct sipcx_call *c, const struct sipcx_msg *resp)
{
	c->got_1xx = true;
	if (resp->status > 100) {
		const struct sipcx_addr *to = sipcx_msg_to(resp);
		struct call_dlg *cd = to && to->tag.len ? sipcx__call_dlg_find(c, to->tag) : NULL;
		if (cd) {
			sipcx_dialog_recv_response(cd->d, resp);
		} else if (to && to->tag.len && (cd = dialog_from(c, resp)) != NULL) {
			/* RFC 3261 12.1.2: an early dialog; each fork has its own. */
			if (!c->dlg)
				c->dlg = cd;
			else if (c->nforks < CALL_MAX_FORKS)
				c->forks[c->nforks++] = cd;
			else
				sipcx__call_dlg_free(cd), cd = NULL;
		}
		/* RFC 3262 4: a reliable one is PRACKed once, a repeated or early one dropped */
		if (!sipcx__call_prack_out(c, cd, resp))
			return;
		if (cd && cd == c->dlg)
			sipcx__call_info_dialog(c, cd->d);
		/* Early media: the answer in a 183 (or 180) starts the media before the 2xx. */
		const struct sipcx_sdp *sdp = c->offer ? sipcx__call_sdp_of(c, resp) : NULL;
		if (sdp && sipcx__call_sdp_process(c, sdp) == 0) {
			uv_mutex_lock(&c->lock);
			c->info.early_media = true;
			uv_mutex_unlock(&c->lock);
		}
		bool first = c->state == SIPCX_CALL_CALLING;
		sipcx__call_set_state(c, SIPCX_CALL_RINGING);
		if (first && c->cfg->ring_timeout_ms && !c->cancel_wanted)
			sipcx__call_timer(c, CT_RING, c->cfg->ring_timeout_ms);
		sipcx__call_event(c, SIPCX_CALL_EV_RINGING, resp);
	}
	if (c->cancel_wanted)
		send_cancel(c);
}

/* The ACK of a 2xx (RFC 3261 13.2.2.4): built by the dialog, kept for the 2xx's retransmissions. */
static int ack_keep(struct sipcx_call *c, struct call_dlg *cd, struct sipcx_buf *b,
                    const struct sipcx_tp_addr *dst)
{
	return sipcx__call_ack_keep(c, b, dst, &cd->ack, &cd->ack_len, &cd->ack_dst);
}

/* Sent at once, or once the dialog's next hop by name is located (call_hop.c). */
static int send_ack(struct sipcx_call *c, struct call_dlg *cd, struct sipcx_str body)
{
	struct call_req rq = { .method = "ACK",
		               .cseq = c->cseq,
		               .hdrs = c->auth_hdrs,
		               .nhdrs = c->nauth,
		               .ctype = "application/sdp",
		               .body = body,
		               .ack = ack_keep };
	return sipcx__call_out(c, cd, &rq);
}

static void ghost_bye_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	(void)err;
	(void)resp;
	sipcx_call_unref(arg);
}

/*
 * A 2xx from another fork once the call is answered (RFC 3261 13.2.2.4):
 * its dialog is confirmed too, so it gets its ACK, then a BYE.
 */
static void ghost(struct sipcx_call *c, const struct sipcx_msg *resp)
{
	struct call_dlg *cd = dialog_from(c, resp);
	if (!cd)
		return;
	if (send_ack(c, cd, SIPCX_STR_NULL) == 0) {
		sipcx_call_ref(c);
		if (sipcx__call_request(c, cd, "BYE", NULL, 0, NULL, SIPCX_STR_NULL, ghost_bye_resp,
		                        c))
			sipcx_call_unref(c);
	}
	sipcx__call_dlg_release(cd); /* its ACK and BYE may wait for its next hop's look-up */
}

static void answered(struct sipcx_call *c, const struct sipcx_msg *resp)
{
	const struct sipcx_addr *to = sipcx_msg_to(resp);
	if (!to || !to->tag.len)
		return; /* a 2xx without To tag: no dialog can come of it */
	struct call_dlg *cd = sipcx__call_dlg_find(c, to->tag);
	if (c->answered) {
		if (cd && cd == c->dlg && cd->ack) /* a retransmission: our ACK again */
			sipcx_transport_send(c->ua->tp, &cd->ack_dst, 0, cd->ack, cd->ack_len);
		else if (!cd || cd != c->dlg)
			ghost(c, resp);
		return;
	}
	c->answered = true;
	sipcx__call_timer(c, CT_NONE, 0);
	if (cd)
		sipcx_dialog_recv_response(cd->d,
		                           resp); /* confirmed; the 2xx's route set and target */
	else
		cd = dialog_from(c, resp);
	/* The other early dialogs end (their forks get CANCEL from the proxy). */
	for (unsigned i = 0; i < c->nforks; i++)
		if (c->forks[i] != cd)
			sipcx__call_dlg_free(c->forks[i]);
	c->nforks = 0;
	if (c->dlg && c->dlg != cd)
		sipcx__call_dlg_free(c->dlg);
	c->dlg = cd;
	uv_mutex_lock(&c->lock);
	c->info.status = resp->status;
	snprintf(c->info.reason, sizeof(c->info.reason), "%.*s", SIPCX_STR_FMT(resp->reason));
	uv_mutex_unlock(&c->lock);
	if (!cd) {
		sipcx__call_ended(c, SIPCX_CALL_END_ERROR, -ENOMEM, 0, NULL, resp);
		return;
	}
	sipcx_dialog_confirm(cd->d);
	sipcx__call_set_state(c, SIPCX_CALL_ESTABLISHED);
	/* RFC 3264: the answer to our offer, or (late offer) the offer we answer in the ACK. */
	struct sipcx_buf ans;
	sipcx_buf_init(&ans);
	const struct sipcx_sdp *sdp = sipcx__call_sdp_of(c, resp);
	int media = 0;
	if (!c->offer && c->early_answer)
		media = 0; /* offer and answer are done: a PRACK carried ours (RFC 3262 5) */
	else if (!c->offer)
		media = sdp ? sipcx__call_sdp_answer(c, sdp, &ans) : -EPROTO;
	else if (sdp)
		media = sipcx__call_sdp_process(c, sdp);
	else
		media = c->info.early_media ? 0 : -EPROTO; /* a 2xx without the answer */
	int r = send_ack(c, cd, (struct sipcx_str){ ans.p, ans.len });
	sipcx_buf_free(&ans);
	if (r || media) {
		/* The BYE (and sipcx_call_info) say why: RFC 3326 with the status we would have sent. */
		if (!r)
			sipcx__call_reason(c,
			                   sdp ? "SIP;cause=488;text=\"SDP answer not acceptable\""
			                       : "SIP;cause=488;text=\"no SDP answer in the 2xx\"");
		sipcx__call_bye(c, SIPCX_CALL_END_ERROR, r ? r : media);
		return;
	}
	if (c->cancel_wanted) {
		/* The 2xx crossed our CANCEL: the call is up, and ends now. */
		sipcx__call_event(c, SIPCX_CALL_EV_ANSWERED, resp);
		sipcx__call_bye(c, SIPCX_CALL_END_LOCAL, -ECANCELED);
		return;
	}
	sipcx__call_info_dialog(c, cd->d);
	sipcx__call_se_response(c, resp, false);
	if (c->cfg->hangup_ms)
		sipcx__call_timer(c, CT_HANGUP, c->cfg->hangup_ms);
	sipcx__call_event(c, SIPCX_CALL_EV_ANSWERED, resp);
	if (!c->ended)
		sipcx__call_event(c, SIPCX_CALL_EV_ESTABLISHED, resp);
}

static void failed(struct sipcx_call *c, const struct sipcx_msg *resp)
{
	uint16_t st = resp->status;
	if ((st == 401 || st == 407) && c->auth && !c->cancel_wanted) {
		const struct sipcx_hdr *hdrs;
		size_t n;
		int r = sipcx_auth_client_respond(
		    c->auth, &c->chain, resp, SIPCX_STR("INVITE"), sipcx_str_c(c->cfg->uri),
		    (struct sipcx_str){ c->offer, c->offer_len }, &hdrs, &n);
		if (r == 0) {
			c->cseq++;
			r = send_invite(c, hdrs, n);
			if (r == 0)
				return;
			sipcx__call_ended(c, SIPCX_CALL_END_ERROR, r, st, NULL, resp);
			return;
		}
		SIPCX_DEBUG("call: %u not answered: %s", st, sipcx_auth_client_reason(c->auth));
		char reason[96];
		snprintf(reason, sizeof(reason), "%.*s", SIPCX_STR_FMT(resp->reason));
		sipcx__call_ended(c, SIPCX_CALL_END_REMOTE,
		                  r == SIPCX_EAUTH ? SIPCX_EAUTH : -EPROTO, st, reason, resp);
		return;
	}
	if (st == 503 && next_target(c, "503", true))
		return;
	/* RFC 4028 7.3: 422: again, with an interval as large as its Min-SE. */
	if (st == 422 && !c->cancel_wanted && sipcx__call_se_retry(c, resp)) {
		c->cseq++;
		int r = send_invite(c, NULL, 0);
		if (r == 0)
			return;
		sipcx__call_ended(c, SIPCX_CALL_END_ERROR, r, st, NULL, resp);
		return;
	}
	char reason[96];
	snprintf(reason, sizeof(reason), "%.*s", SIPCX_STR_FMT(resp->reason));
	if (c->cancel_wanted) {
		/* The 487 of our CANCEL (or whatever came first): ended by us. */
		sipcx__call_ended(c, SIPCX_CALL_END_LOCAL, c->info.err ? c->info.err : -ECANCELED,
		                  st, reason, resp);
		return;
	}
	/* A 403 to an INVITE that carried our digest refuses those credentials too. */
	int err = (st == 401 || st == 407 || (st == 403 && c->nauth)) ? SIPCX_EAUTH : SIPCX_ESTATUS;
	sipcx__call_ended(c, SIPCX_CALL_END_REMOTE, err, st, reason, resp);
}

static void invite_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	struct sipcx_call *c = arg;
	if (c->ended)
		return;
	if (err && err != SIPCX_ECLOSED && next_target(c, sipcx_strerror(err), false))
		return;
	if (err) {
		bool ours = c->cancel_wanted && err == -ETIMEDOUT;
		sipcx__call_ended(c, ours ? SIPCX_CALL_END_LOCAL : SIPCX_CALL_END_ERROR,
		                  ours && c->info.err ? c->info.err : (ours ? -ECANCELED : err), 0,
		                  NULL, NULL);
		return;
	}
	if (resp->status < 200)
		provisional(c, resp);
	else if (resp->status < 300)
		answered(c, resp);
	else if (!c->answered)
		failed(c, resp);
}

/* ---- hanging up, the ring timeout ---- */

static void cancel_with(struct sipcx_call *c, int why)
{
	c->cancel_wanted = true;
	c->ending = true;
	uv_mutex_lock(&c->lock);
	c->info.err = why; /* kept as the outcome when the 487 ends the call */
	uv_mutex_unlock(&c->lock);
	/* Before any provisional response, the first one triggers it (RFC 3261 9.1). */
	if (c->got_1xx)
		send_cancel(c);
}

void sipcx__call_out_end(struct sipcx_call *c)
{
	if (c->answered)
		sipcx__call_bye(c, SIPCX_CALL_END_LOCAL, 0);
	else
		cancel_with(c, -ECANCELED);
}

void sipcx__call_out_timer(struct sipcx_call *c)
{
	if (!c->answered && !c->cancel_wanted)
		cancel_with(c, -ETIMEDOUT); /* no answer in the ring time */
}

void sipcx__call_out_release(struct sipcx_call *c)
{
	if (c->ict) {
		c->ict->cb = NULL;
		c->ict->hooks = NULL;
		c->ict = NULL;
	}
}

/* ---- starting ---- */

struct dial_args {
	struct sipcx_ua *ua;
	struct call_cfg *cfg;
	struct sipcx_tp_addr dst;
	bool by_name; /* dst is located on the loop (RFC 3263) */
	struct sipcx_auth_client *auth;
	struct sipcx_call *c;
	int r;
};

/* Media, the offer, the INVITE to c->dst. */
/* The call's media toward c->dst and, unless late, its offer. */
static int dial_prepare(struct sipcx_call *c)
{
	/* RFC 5761 5.1.1: both ports until the answer takes a=rtcp-mux (sipcx_media_apply_sdp) */
	int r = sipcx__call_media_new(c, &c->dst, false);
	if (!r && !c->cfg->late_offer) {
		struct sipcx_buf b;
		sipcx_buf_init(&b);
		r = sipcx__call_sdp_offer(c, SIPCX_SDP_SENDRECV, &b);
		c->offer = r ? NULL : sipcx_buf_detach(&b, &c->offer_len);
		if (!r && !c->offer)
			r = -ENOMEM;
		sipcx_buf_free(&b);
	}
	return r;
}

static int dial_send(struct sipcx_call *c)
{
	int r = dial_prepare(c);
	return r ? r : send_invite(c, NULL, 0);
}

/* The targets of a call by host name: the first gets the INVITE, or the call ends with why. */
static void dial_located(int err, const struct sipcx_tp_addr *t, size_t n, void *arg)
{
	struct sipcx_call *c = arg;
	if (!c->ended) {
		if (c->cancel_wanted) {
			/* Hung up while looking: nothing was sent, nothing to cancel. */
			sipcx__call_ended(c, SIPCX_CALL_END_LOCAL,
			                  c->info.err ? c->info.err : -ECANCELED, 0, NULL, NULL);
		} else if (!err && !(c->targets = sipcx_calloc(n, sizeof(*t)))) {
			err = -ENOMEM;
		}
		if (!c->ended && !err) {
			memcpy(c->targets, t, n * sizeof(*t));
			c->ntargets = (uint8_t)n;
			c->itarget = 0;
			c->dst = t[0];
			/* A failed send goes to the next target; a call without media goes nowhere. */
			int prep = dial_prepare(c);
			err = prep ? prep : send_invite(c, NULL, 0);
			while (!prep && err && c->itarget + 1 < c->ntargets) {
				c->dst = c->targets[++c->itarget];
				err = send_invite(c, NULL, 0);
			}
		}
		if (!c->ended && err)
			sipcx__call_ended(c, SIPCX_CALL_END_ERROR, err, 0, NULL, NULL);
	}
	sipcx_call_unref(c);
}

static void dial_on_loop(void *arg)
{
	struct dial_args *a = arg;
	if (a->ua->closed) {
		a->r = SIPCX_ECLOSED;
		return;
	}
	struct sipcx_call *c = sipcx__call_new(a->ua, a->cfg, true);
	if (!c) {
		a->r = -ENOMEM;
		return;
	}
	c->dst = a->dst;
	c->auth = a->auth;
	a->auth = NULL;
	c->chain = (struct sipcx_auth_chain)SIPCX_AUTH_CHAIN_INIT;
	sipcx_random_token(c->call_id, 24);
	sipcx_random_token(c->from_tag, 16);
	c->cseq = 1;
	c->se = a->cfg->ext.session_expires;
	c->min_se = a->cfg->ext.min_se;
	uv_mutex_lock(&c->lock);
	snprintf(c->info.call_id, sizeof(c->info.call_id), "%s", c->call_id);
	snprintf(c->info.local_tag, sizeof(c->info.local_tag), "%s", c->from_tag);
	uv_mutex_unlock(&c->lock);
	int r;
	if (a->by_name) {
		struct sipcx_uri u;
		r = sipcx_uri_parse(&u, sipcx_str_c(c->cfg->uri));
		if (!r)
			r = sipcx__dns_locate(c->ua, &u, c->cfg->transport, dial_located,
			                      sipcx_call_ref(c));
		if (r)
			sipcx_call_unref(c);
	} else {
		r = dial_send(c);
	}
	if (r) {
		/* Nothing went out: the caller hears the error, no event comes. */
		c->silent = true;
		sipcx__call_ended(c, SIPCX_CALL_END_ERROR, r, 0, NULL, NULL);
		a->r = r;
		return;
	}
	a->c = sipcx_call_ref(c); /* the caller's */
}

int sipcx_call_dial(struct sipcx_ua *ua, const char *uri, const struct sipcx_dial_opts *o,
                    struct sipcx_call **out)
{
	static const struct sipcx_dial_opts defaults = { 0 };
	if (!ua || !uri || !out)
		return -EINVAL;
	if (!o)
		o = &defaults;
	struct sipcx_uri u;
	if (sipcx_uri_parse(&u, sipcx_str_c(uri)) != 0)
		return -EINVAL;
	if ((u.scheme != SIPCX_URI_SIP && u.scheme != SIPCX_URI_SIPS) || strpbrk(uri, "\r\n") ||
	    (o->password && !o->username) || (o->from && strpbrk(o->from, "\r\n")) ||
	    (o->to && strpbrk(o->to, "\r\n")) || o->media.handler == SIPCX_MEDIA_USER)
		return -EINVAL;
	struct dial_args a = { .ua = ua };
	int r;
	a.cfg = sipcx__call_cfg_new(&o->media, o->hdrs, o->nhdrs, &r);
	if (!a.cfg)
		return r;
	struct call_cfg *cfg = a.cfg;
	char from[600];
	const char *from_v = o->from;
	if (!from_v && o->username) {
		/* A digest user's own identity, in the target's domain (what proxies check). */
		snprintf(from, sizeof(from), "<sip:%s@%s%.*s%s>", o->username,
		         u.host_ipv6 ? "[" : "", SIPCX_STR_FMT(u.host), u.host_ipv6 ? "]" : "");
		from_v = from;
	}
	cfg->transport = o->transport;
	cfg->ring_timeout_ms = o->ring_timeout_ms;
	cfg->late_offer = o->late_offer;
	cfg->refuse_refer = o->refuse_refer;
	cfg->hangup_ms = o->hangup_ms;
	r = sipcx__call_ext_set(cfg, &o->ext);
	cfg->cb = o->cb;
	cfg->arg = o->arg;
	if (r == 0 &&
	    (!sipcx__call_strdup(&cfg->uri, uri) || !sipcx__call_strdup(&cfg->from, from_v) ||
	     !sipcx__call_strdup(&cfg->to, o->to) ||
	     !sipcx__call_strdup(&cfg->username, o->username) ||
	     !sipcx__call_strdup(&cfg->password, o->password) ||
	     !sipcx__call_strdup(&cfg->realm, o->realm)))
		r = -ENOMEM;
	struct sipcx_ua_req_opts ro = {
		.method = "INVITE", .uri = uri, .dst = o->proxy, .transport = o->transport
	};
	bool forced;
	/* A host name is located on the loop (RFC 3263); a numeric one is known now. */
	a.by_name = sipcx__ua_by_name(&ro);
	if (!r)
		r = a.by_name ? sipcx__ua_name_hop(ua, &ro, &a.dst)
		              : sipcx__ua_next_hop(ua, &ro, &a.dst, &forced);
	if (!r && o->username) {
		r = sipcx_auth_client_new(&a.auth, NULL);
		if (!r)
			r = sipcx_auth_client_set_credentials(a.auth, o->realm, o->username,
			                                      o->password ? o->password : "");
	}
	if (!r)
		r = sipcx_ua_call(ua, dial_on_loop, &a);
	if (!r)
		r = a.r;
	sipcx_auth_client_free(a.auth);
	sipcx__call_cfg_put(cfg); /* the call holds its own reference */
	if (r)
		return r;
	*out = a.c;
	return 0;
}
