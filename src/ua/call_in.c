/* ua: the INVITE server of a call and requests inside a dialog: 100/180/200 until the ACK, rejections, CANCEL and 487, re-INVITE/UPDATE with SDP, BYE (RFC 3261 9.2, 13.3, 14.2, 15; RFC 3264; RFC 6026). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sipcx/call.h>
#include <sipcx/header.h>

#include "ua/call.h"

static const char allow[] = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, REFER";

static void ist_event(struct ua_txn *ut, const struct sipcx_txn_event *ev, void *arg);
static void ist_cancelled(struct ua_txn *ut, const struct sipcx_msg *cancel, void *arg);
static void ist_gone(struct ua_txn *ut, void *arg);

static const struct ua_txn_hooks ist_hooks = {
	.event = ist_event,
	.cancelled = ist_cancelled,
	.gone = ist_gone,
};

/* c waits for the ACK of the 2xx ut sends (or sent). */
static void watch_ist(struct sipcx_call *c, struct ua_txn *ut)
{
	ut->hooks = &ist_hooks;
	ut->hook_arg = c;
	c->ist = ut;
}

/*
 * A response of ours: the listener's extra headers, Allow and Supported on
 * 2xx, and a Contact on a 1xx (it makes an early dialog, RFC 3261 12.1.1);
 * the engine adds our Contact to a 2xx itself. body: SDP.
 */
static int respond(struct sipcx_call *c, struct sipcx_ua_srv *srv, uint16_t status,
                   const char *reason, struct sipcx_str body, const struct sipcx_hdr *more,
                   size_t nmore)
{
	const struct call_cfg *cfg = c->cfg;
	struct sipcx_hdr stack[16];
	size_t n = cfg->nhdrs + 3 + nmore;
	struct sipcx_hdr *h = n <= SIPCX_ARRAY_SIZE(stack) ? stack : sipcx_calloc(n, sizeof(*h));
	if (!h)
		return -ENOMEM;
	n = 0;
	char contact[SIPCX_ADDRSTRLEN + 80];
	if (status > 100 && status < 200 &&
	    sipcx__ua_contact(c->ua, &srv->dst, NULL,
	                      srv->req->ruri.len > 4 && !strncasecmp(srv->req->ruri.p, "sips:", 5),
	                      contact, sizeof(contact)) == 0)
		h[n++] =
		    (struct sipcx_hdr){ SIPCX_HDR_CONTACT, SIPCX_STR_NULL, sipcx_str_c(contact) };
	if (status >= 200 && status < 300) {
		h[n++] = (struct sipcx_hdr){ SIPCX_HDR_ALLOW, SIPCX_STR_NULL, SIPCX_STR(allow) };
		h[n++] = (struct sipcx_hdr){ SIPCX_HDR_SUPPORTED, SIPCX_STR_NULL,
			                     sipcx_str_c(sipcx__call_supported(cfg)) };
	}
	for (size_t i = 0; i < nmore; i++)
		h[n++] = more[i];
	/* The listener's headers go in the responses to the INVITE that made the call. */
	if (srv == c->srv)
		for (size_t i = 0; i < cfg->nhdrs; i++)
			h[n++] = cfg->hdrs[i];
	int r = sipcx__ua_do_respond(srv, status, reason, h, n, body.len ? "application/sdp" : NULL,
	                             body);
	if (h != stack)
		sipcx_free(h);
	return r;
}

int sipcx__call_respond(struct sipcx_call *c, struct sipcx_ua_srv *srv, uint16_t status,
                        const char *reason, struct sipcx_str body, const struct sipcx_hdr *more,
                        size_t nmore)
{
	return respond(c, srv, status, reason, body, more, nmore);
}

/* Answer the INVITE with a failure status: the call ends (the IST waits for its ACK). */
void sipcx__call_reject(struct sipcx_call *c, uint16_t status, const char *reason,
                        const struct sipcx_hdr *more, size_t nmore, enum sipcx_call_end by, int err)
{
	struct sipcx_ua_srv *srv = c->srv;
	c->srv = NULL;
	if (srv)
		respond(c, srv, status, reason, SIPCX_STR_NULL, more, nmore);
	sipcx__call_ended(c, by, err, status, reason, NULL);
}

/*
 * RFC 3891 3: the call an INVITE with Replaces takes the place of. 0 and
 * *old when it may (or no Replaces: *old NULL), else the status to refuse
 * with: 400 (two, or malformed), 481 (no such dialog, or an early one we
 * did not make), 486 (early-only, confirmed), 603 (ending).
 */
static uint16_t replaces_check(struct sipcx_ua *ua, const struct sipcx_msg *m,
                               struct sipcx_call **old)
{
	*old = NULL;
	const struct sipcx_hdr *h = sipcx_msg_hdr(m, SIPCX_HDR_REPLACES);
	if (!h)
		return 0;
	struct sipcx_replaces rp;
	if (sipcx_msg_hdr_count(m, SIPCX_HDR_REPLACES) != 1 ||
	    sipcx_replaces_parse(&rp, h->value) != 0)
		return 400;
	struct call_dlg *cd = sipcx__calls_find_dialog(ua, rp.call_id, rp.to_tag, rp.from_tag);
	if (!cd)
		return 481;
	struct sipcx_call *c = cd->call;
	bool confirmed = sipcx_dialog_state(cd->d) == SIPCX_DIALOG_CONFIRMED;
	if (c->ended || c->ending)
		return 603;
	if (confirmed && rp.early_only)
		return 486;
	if (!confirmed && !c->outgoing)
		return 481;
	*old = c;
	return 0;
}

/* The new call is answered: the one it replaces ends (BYE, or CANCEL while early). */
static void replace_old(struct sipcx_call *c)
{
	struct sipcx_call *old = c->replaces;
	c->replaces = NULL;
	if (!old->ended && !old->ending) {
		uv_mutex_lock(&old->lock);
		old->info.replaced = true;
		uv_mutex_unlock(&old->lock);
		if (!old->xfer)
			old->xfer = sipcx_call_ref(c);
		sipcx__call_event(old, SIPCX_CALL_EV_REPLACED, NULL);
		if (!old->ended)
			sipcx_call_end(old, "SIP;cause=200;text=\"replaced\"");
	}
	sipcx_call_unref(old);
}

static void reject(struct sipcx_call *c, uint16_t status, const char *reason,
                   enum sipcx_call_end by, int err)
{
	sipcx__call_reject(c, status, reason, NULL, 0, by, err);
}

/* The 2xx with our SDP (the answer, or the offer of a late-offer INVITE). */
static void answer_now(struct sipcx_call *c)
{
	struct sipcx_ua_srv *srv = c->srv;
	if (!srv || sipcx__call_rel_defer(c))
		return;
	struct ua_txn *ut = srv->ut;
	c->srv = NULL;
	char sebuf[64];
	struct sipcx_hdr se[2];
	size_t nse = sipcx__call_se_response_hdrs(c, se, sebuf);
	int r = respond(c, srv, 200, NULL, (struct sipcx_str){ c->answer, c->answer_len }, se, nse);
	if (r || !ut) {
		sipcx__call_ended(c, SIPCX_CALL_END_ERROR, r ? r : -ECANCELED, 0, NULL, NULL);
		return;
	}
	watch_ist(c, ut);
	if (c->dlg)
		sipcx_dialog_confirm(c->dlg->d);
	uv_mutex_lock(&c->lock);
	c->info.status = 200;
	snprintf(c->info.reason, sizeof(c->info.reason), "OK");
	uv_mutex_unlock(&c->lock);
	sipcx__call_set_state(c, SIPCX_CALL_CONNECTING);
	sipcx__call_se_arm(c, false);
	sipcx__call_event(c, SIPCX_CALL_EV_ANSWERED, NULL);
	if (c->replaces)
		replace_old(c);
}

void sipcx__call_in_timer(struct sipcx_call *c, enum call_timer kind)
{
	if (kind == CT_ANSWER)
		answer_now(c); /* the ring time is over */
	else if (!c->ending)
		sipcx__call_in_end(c); /* up for hangup_ms: BYE */
}

bool sipcx__call_incoming(struct sipcx_ua *ua, const struct ua_origin *og,
                          const struct sipcx_msg *m)
{
	struct ua_calls *cs = ua->calls;
	struct sipcx_call *old;
	uint16_t refuse = replaces_check(ua, m, &old);
	if (!cs || (!cs->listen && !old))
		return false;
	/* A call that replaces one of ours is taken even when not listening: as that one was. */
	struct call_cfg *cfg = cs->listen ? cs->listen : old->cfg;
	struct sipcx_ua_srv *srv = sipcx__ua_serve(ua, og, m);
	if (!srv)
		return true; /* 500 sent */
	if (refuse) {
		sipcx__ua_do_respond(srv, refuse, refuse == 400 ? "Bad Replaces" : NULL, NULL, 0,
		                     NULL, SIPCX_STR_NULL);
		return true;
	}
	unsigned max = cfg->max_calls ? cfg->max_calls : 64;
	struct sipcx_call *c = cs->incoming < max ? sipcx__call_new(ua, cfg, false) : NULL;
	if (!c) {
		if (cs->incoming >= max)
			UA_STAT_ADD(ua, calls_busy, 1);
		sipcx__ua_do_respond(srv, cs->incoming < max ? 500 : 486, NULL, NULL, 0, NULL,
		                     SIPCX_STR_NULL);
		return true;
	}
	c->counted = true;
	cs->incoming++;
	c->srv = srv;
	watch_ist(c, srv->ut);
	const struct sipcx_msg *req = srv->req;
	struct sipcx_dialog *d = NULL;
	int r = sipcx_dialog_new_uas(&d, req, sipcx_str_c(srv->to_tag), false);
	if (r == 0 && !(c->dlg = sipcx__call_dlg_add(c, d))) {
		sipcx_dialog_free(d);
		r = -ENOMEM;
	}
	if (r) {
		/* RFC 3261 8.1.1.8: an INVITE makes a dialog only with a Contact. */
		c->silent = true;
		reject(c, r == -ENOMEM ? 500 : 400, r == -ENOMEM ? NULL : "Bad Contact",
		       SIPCX_CALL_END_ERROR, r);
		return true;
	}
	sipcx__call_info_dialog(c, d);
	if (sipcx__ua_stream(og->src.proto))
		c->dlg->flow = og->src;
	if (old) {
		c->replaces = sipcx_call_ref(old);
		uv_mutex_lock(&c->lock);
		snprintf(c->info.replaces, sizeof(c->info.replaces), "%s", old->info.call_id);
		uv_mutex_unlock(&c->lock);
	}
	/* RFC 3262 3 and RFC 4028 9: what the INVITE asks of our extensions (421, 422). */
	if (!sipcx__call_rel_check(c, req) || !sipcx__call_se_check(c, c->srv, req, true))
		return true;
	int code = cfg->on_call ? cfg->on_call(c, req, cfg->on_call_arg) : SIPCX_CALL_DEFAULT;
	if (c->ended || !c->srv)
		return true;
	if (code == SIPCX_CALL_DEFAULT)
		code = cfg->answer_code ? cfg->answer_code : 200;
	if (code >= 300 && code <= 699) {
		reject(c, (uint16_t)code, code == cfg->answer_code ? cfg->answer_reason : NULL,
		       SIPCX_CALL_END_LOCAL, 0);
		return true;
	}
	/* The media: answer the offer, or (no SDP) offer in the 2xx and take the answer from the ACK. */
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	const struct sipcx_sdp *sdp = sipcx__call_sdp_of(c, req);
	/* RFC 5761: an offer that multiplexes gets one socket, no RTCP port bound at all */
	r = sipcx__call_media_new(c, &srv->src,
	                          sdp && cfg->rtcp_mux && sipcx_sdp_wants_rtcp_mux(sdp));
	if (r) {
		/* nothing more to try */
	} else if (sdp) {
		r = sipcx__call_sdp_answer(c, sdp, &b);
	} else if (req->body.len) {
		r = -EPROTONOSUPPORT; /* a body we cannot read: 415 */
	} else {
		r = sipcx__call_sdp_offer(c, SIPCX_SDP_SENDRECV, &b);
		c->offered_in_2xx = true;
	}
	if (!r && !(c->answer = sipcx_buf_detach(&b, &c->answer_len)))
		r = -ENOMEM;
	sipcx_buf_free(&b);
	if (r == -EMFILE || r == -ENFILE || r == -EADDRINUSE) {
		/* Out of descriptors or RTP ports: come back when calls have ended (RFC 3261 21.5.4). */
		struct sipcx_hdr ra = { SIPCX_HDR_RETRY_AFTER, SIPCX_STR_NULL, SIPCX_STR("5") };
		sipcx__call_reject(c, 503, NULL, &ra, 1, SIPCX_CALL_END_ERROR, r);
		return true;
	}
	if (r) {
		uint16_t st = r == SIPCX_ENOCODEC ? 488 : r == -EPROTONOSUPPORT ? 415 : 500;
		reject(c, st, NULL, SIPCX_CALL_END_ERROR, r);
		return true;
	}
	if (cfg->ringtime_ms && !c->replaces) { /* RFC 3891 3: a replacement does not ring */
		/* RFC 3960: early media, the answer in a 183 (one the 200 repeats) */
		if (cfg->early_media && !c->offered_in_2xx)
			sipcx__call_provisional(c, 183,
			                        (struct sipcx_str){ c->answer, c->answer_len });
		else
			sipcx__call_provisional(c, 180, SIPCX_STR_NULL);
		sipcx__call_set_state(c, SIPCX_CALL_RINGING);
		sipcx__call_event(c, SIPCX_CALL_EV_RINGING, NULL);
		if (!c->ended)
			sipcx__call_timer(c, CT_ANSWER, cfg->ringtime_ms);
	} else {
		answer_now(c);
	}
	return true;
}

/* ---- the IST: ACK, no ACK, CANCEL ---- */

static void ist_event(struct ua_txn *ut, const struct sipcx_txn_event *ev, void *arg)
{
	struct sipcx_call *c = arg;
	if (ut != c->ist || c->ended)
		return;
	c->ist = NULL;
	ut->hooks = NULL;
	if (ev->type != SIPCX_TXN_EV_ACK) {
		/* RFC 3261 13.3.1.4: no ACK for 64*T1: the session ends with a BYE. */
		sipcx__call_bye(c, SIPCX_CALL_END_ERROR, ev->err ? ev->err : -ETIMEDOUT);
		return;
	}
	if (c->offered_in_2xx) {
		/* RFC 3264: our offer went in the 2xx; its answer is in this ACK. */
		c->offered_in_2xx = false;
		const struct sipcx_sdp *sdp = ev->msg ? sipcx__call_sdp_of(c, ev->msg) : NULL;
		int r = sdp ? sipcx__call_sdp_process(c, sdp) : -EPROTO;
		if (r) {
			sipcx__call_bye(c, SIPCX_CALL_END_ERROR, r);
			return;
		}
	}
	if (c->state == SIPCX_CALL_CONNECTING) {
		sipcx__call_set_state(c, SIPCX_CALL_ESTABLISHED);
		if (c->cfg->hangup_ms)
			sipcx__call_timer(c, CT_HANGUP, c->cfg->hangup_ms);
		sipcx__call_event(c, SIPCX_CALL_EV_ESTABLISHED, ev->msg);
	}
	if (c->bye_after_ack && !c->ended)
		sipcx__call_bye(c, SIPCX_CALL_END_LOCAL, 0);
}

static void ist_cancelled(struct ua_txn *ut, const struct sipcx_msg *cancel, void *arg)
{
	struct sipcx_call *c = arg;
	/* RFC 3261 9.2: only an INVITE not answered yet is cancelled: 487. */
	if (!c->srv || c->srv->ut != ut)
		return;
	struct sipcx_ua_srv *srv = c->srv;
	c->srv = NULL;
	respond(c, srv, 487, NULL, SIPCX_STR_NULL, NULL, 0);
	sipcx__call_ended(c, SIPCX_CALL_END_REMOTE, -ECANCELED, 487, NULL, cancel);
}

static void ist_gone(struct ua_txn *ut, void *arg)
{
	struct sipcx_call *c = arg;
	if (c->ist == ut)
		c->ist = NULL;
}

/* ---- hanging up ---- */

void sipcx__call_in_end(struct sipcx_call *c)
{
	if (c->srv)
		reject(c, 487, NULL, SIPCX_CALL_END_LOCAL, -ECANCELED); /* ringing: not taken */
	else if (c->state == SIPCX_CALL_CONNECTING)
		c->bye_after_ack = c->ending = true; /* RFC 3261 15: the BYE waits for the ACK */
	else
		sipcx__call_bye(c, SIPCX_CALL_END_LOCAL, 0);
}

void sipcx__call_in_release(struct sipcx_call *c)
{
	sipcx_call_unref(c->replaces);
	c->replaces = NULL;
	if (c->ist) {
		c->ist->hooks = NULL;
		c->ist = NULL;
	}
	if (c->srv && !c->ua->closed) {
		struct sipcx_ua_srv *srv = c->srv;
		c->srv = NULL;
		sipcx__ua_do_respond(srv, 500, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
	}
	c->srv = NULL;
}

/* ---- requests inside a dialog, both directions (RFC 3261 12.2.2, 14.2, 15) ---- */

static void reinvite(struct sipcx_call *c, struct sipcx_ua_srv *srv, const struct sipcx_msg *m)
{
	/* RFC 3261 14.2: our own re-INVITE (or UPDATE offer, RFC 3311 5.2) is out: 491, the
	 * peer retries after a while. */
	if (sipcx__call_offer_out(c)) {
		sipcx__ua_do_respond(srv, 491, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		return;
	}
	/* RFC 3261 14.2: an INVITE of ours not finished yet on this dialog. */
	if (c->ist || c->srv) {
		struct sipcx_hdr ra = { SIPCX_HDR_RETRY_AFTER, SIPCX_STR_NULL, SIPCX_STR("1") };
		sipcx__ua_do_respond(srv, 500, NULL, &ra, 1, NULL, SIPCX_STR_NULL);
		return;
	}
	if (!sipcx__call_se_check(c, srv, m, false))
		return;
	const struct sipcx_sdp *sdp = sipcx__call_sdp_of(c, m);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	int r;
	bool offer_in_2xx = false;
	if (!sipcx__call_has_sdp(c)) {
		r = -ENOTCONN;
	} else if (sdp) {
		r = sipcx__call_sdp_answer(c, sdp, &b); /* hold and resume mirrored */
	} else if (m->body.len) {
		r = -EPROTONOSUPPORT;
	} else {
		/* RFC 3264: a re-INVITE without SDP asks for our offer; the answer comes in the ACK. */
		r = sipcx__call_sdp_offer(c, SIPCX_SDP_SENDRECV, &b);
		offer_in_2xx = true;
	}
	if (r) {
		sipcx_buf_free(&b);
		uint16_t st = r == SIPCX_ENOCODEC ? 488 : r == -EPROTONOSUPPORT ? 415 : 500;
		sipcx__ua_do_respond(srv, st, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		return;
	}
	struct ua_txn *ut = srv->ut;
	char sebuf[64];
	struct sipcx_hdr se[2];
	size_t nse = sipcx__call_se_response_hdrs(c, se, sebuf);
	r = respond(c, srv, 200, NULL, (struct sipcx_str){ b.p, b.len }, se, nse);
	sipcx_buf_free(&b);
	if (r || !ut)
		return;
	sipcx__call_se_arm(c, true);
	watch_ist(c, ut);
	c->offered_in_2xx = offer_in_2xx;
	uv_mutex_lock(&c->lock);
	c->info.reinvites++;
	uv_mutex_unlock(&c->lock);
	sipcx__call_event(c, SIPCX_CALL_EV_MEDIA, m);
}

static void update(struct sipcx_call *c, struct sipcx_ua_srv *srv, const struct sipcx_msg *m)
{
	const struct sipcx_sdp *sdp = sipcx__call_sdp_of(c, m);
	/* RFC 3311 5.2: an offer while one of ours waits for its answer: 491. */
	if (sdp && sipcx__call_offer_out(c)) {
		sipcx__ua_do_respond(srv, 491, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		return;
	}
	if (!sipcx__call_se_check(c, srv, m, false))
		return;
	char sebuf[64];
	struct sipcx_hdr se[2];
	size_t nse = sipcx__call_se_response_hdrs(c, se, sebuf);
	if (!sdp) {
		/* a refresh only (RFC 4028) */
		if (respond(c, srv, 200, NULL, SIPCX_STR_NULL, se, nse) == 0)
			sipcx__call_se_arm(c, true);
		return;
	}
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	int r = sipcx__call_has_sdp(c) ? sipcx__call_sdp_answer(c, sdp, &b) : -ENOTCONN;
	if (r)
		sipcx__ua_do_respond(srv, r == SIPCX_ENOCODEC ? 488 : 500, NULL, NULL, 0, NULL,
		                     SIPCX_STR_NULL);
	else if (respond(c, srv, 200, NULL, (struct sipcx_str){ b.p, b.len }, se, nse) == 0)
		sipcx__call_se_arm(c, true);
	sipcx_buf_free(&b);
	if (!r) {
		uv_mutex_lock(&c->lock);
		c->info.reinvites++;
		uv_mutex_unlock(&c->lock);
		sipcx__call_event(c, SIPCX_CALL_EV_MEDIA, m);
	}
}

/*
 * A digit by SIP INFO: application/dtmf-relay ("Signal=5", "Duration=160",
 * one per line, as most PBXs send it) or application/dtmf (the digit as the
 * body). Anything else in an INFO is only answered.
 */
static void info_dtmf(struct sipcx_call *c, const struct sipcx_msg *m)
{
	char digit;
	unsigned ms;
	if (sipcx_dtmf_info_parse(sipcx_msg_content_type(m), m->body, &digit, &ms) == 0)
		sipcx__call_dtmf(c, digit, ms, SIPCX_DTMF_INFO, m);
}

void sipcx__call_in_dialog(struct sipcx_call *c, struct call_dlg *cd, const struct ua_origin *og,
                           const struct sipcx_msg *m)
{
	if (m->method == SIPCX_METHOD_ACK) {
		/* The ACK of our 2xx: to the transaction that waits for it (13.3.1.4). */
		struct ua_txn *ut = c->ist;
		struct sipcx_txn_out o;
		if (ut && sipcx_txn_recv(ut->t, m, sipcx_now_us(), &o) == 0)
			sipcx__ua_txn_apply(ut, &o);
		return; /* else a retransmitted ACK: nothing to do */
	}
	uint16_t st = 0;
	int r = sipcx_dialog_recv_request(cd->d, m, &st);
	struct sipcx_ua_srv *srv = sipcx__ua_serve(c->ua, og, m);
	if (!srv)
		return;
	if (r || st) {
		sipcx__ua_do_respond(srv, st ? st : 400, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		return;
	}
	struct sipcx_hdr caps[] = {
		{ SIPCX_HDR_ALLOW, SIPCX_STR_NULL, SIPCX_STR(allow) },
		{ SIPCX_HDR_ACCEPT, SIPCX_STR_NULL, SIPCX_STR("application/sdp") },
	};
	switch (m->method) {
	case SIPCX_METHOD_BYE:
		if (c->srv) {
			/* RFC 3261 15.2: a BYE while our INVITE's answer is pending ends it: 487. */
			struct sipcx_ua_srv *inv = c->srv;
			c->srv = NULL;
			sipcx__ua_do_respond(inv, 487, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		}
		sipcx__ua_do_respond(srv, 200, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		sipcx__call_ended(c, SIPCX_CALL_END_REMOTE, 0, 0, NULL, m);
		break;
	case SIPCX_METHOD_INVITE:
		reinvite(c, srv, m);
		break;
	case SIPCX_METHOD_UPDATE:
		update(c, srv, m);
		break;
	case SIPCX_METHOD_PRACK:
		sipcx__call_prack_in(c, srv, m);
		break;
	case SIPCX_METHOD_OPTIONS:
		sipcx__ua_do_respond(srv, 200, NULL, caps, SIPCX_ARRAY_SIZE(caps), NULL,
		                     SIPCX_STR_NULL);
		break;
	case SIPCX_METHOD_INFO:
		sipcx__ua_do_respond(srv, 200, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		info_dtmf(c, m);
		break;
	case SIPCX_METHOD_MESSAGE:
		sipcx__ua_do_respond(srv, 200, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		break;
	case SIPCX_METHOD_REFER:
		sipcx__call_refer_in(c, srv, m);
		break;
	case SIPCX_METHOD_NOTIFY:
		if (sipcx__call_refer_notify(c, srv, m))
			break;
		/* RFC 6665 4.1.3: no subscription of ours it could belong to. */
		sipcx__ua_do_respond(srv, 481, "Subscription Does Not Exist", NULL, 0, NULL,
		                     SIPCX_STR_NULL);
		break;
	default:
		sipcx__ua_do_respond(srv, m->method == SIPCX_METHOD_OTHER ? 501 : 405, NULL, caps,
		                     1, NULL, SIPCX_STR_NULL);
		break;
	}
}

/* ---- the listener ---- */

struct listen_args {
	struct sipcx_ua *ua;
	struct call_cfg *cfg;
	int r;
};

static void listen_on_loop(void *arg)
{
	struct listen_args *a = arg;
	if (a->ua->closed) {
		a->r = SIPCX_ECLOSED;
		return;
	}
	struct ua_calls *cs = sipcx__calls_get(a->ua);
	if (!cs) {
		a->r = -ENOMEM;
		return;
	}
	sipcx__call_cfg_put(cs->listen);
	cs->listen = a->cfg; /* its reference moves here */
	a->cfg = NULL;
	sipcx__ua_allow_update(a->ua);
}

int sipcx_call_listen(struct sipcx_ua *ua, const struct sipcx_answer_opts *o)
{
	return sipcx__call_listen(ua, o, NULL);
}

int sipcx__call_listen(struct sipcx_ua *ua, const struct sipcx_answer_opts *o,
                       void (*release)(void *arg))
{
	if (!ua)
		return -EINVAL;
	struct listen_args a = { .ua = ua };
	int r = 0;
	if (o) {
		if ((o->answer_code && o->answer_code != 200 &&
		     (o->answer_code < 300 || o->answer_code > 699)) ||
		    o->media.handler == SIPCX_MEDIA_USER ||
		    (o->answer_reason && strpbrk(o->answer_reason, "\r\n")))
			return -EINVAL;
		a.cfg = sipcx__call_cfg_new(&o->media, o->hdrs, o->nhdrs, &r);
		if (!a.cfg)
			return r;
		a.cfg->ringtime_ms = o->ringtime_ms;
		a.cfg->refuse_refer = o->refuse_refer;
		a.cfg->early_media = o->early_media;
		r = sipcx__call_ext_set(a.cfg, &o->ext);
		if (r) {
			sipcx__call_cfg_put(a.cfg);
			return r;
		}
		a.cfg->answer_code = o->answer_code;
		a.cfg->on_call = o->on_call;
		a.cfg->on_call_arg = o->on_call_arg;
		a.cfg->max_calls = o->max_calls;
		a.cfg->hangup_ms = o->hangup_ms;
		a.cfg->cb = o->cb;
		a.cfg->arg = o->arg;
		if (!sipcx__call_strdup(&a.cfg->answer_reason, o->answer_reason)) {
			sipcx__call_cfg_put(a.cfg);
			return -ENOMEM;
		}
		a.cfg->release = release; /* set last: a failed set-up releases nothing */
	}
	r = sipcx_ua_call(ua, listen_on_loop, &a);
	if (a.cfg) {
		/* Not taken (the UA closing): the caller keeps what release would let go. */
		a.cfg->release = NULL;
		sipcx__call_cfg_put(a.cfg);
	}
	return r ? r : a.r;
}
