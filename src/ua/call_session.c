/* ua: session timers (RFC 4028): Session-Expires and Min-SE negotiated both ways, 422, refreshes by re-INVITE or UPDATE at half the interval, BYE when none comes; our UPDATE (RFC 3311). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sipcx/call.h>

#include "ua/call.h"

/* RFC 4028 4: the smallest Min-SE a UA may ask. */
#define SE_FLOOR 90u

int sipcx__call_ext_set(struct call_cfg *cfg, const struct sipcx_call_ext *e)
{
	if ((unsigned)e->rel100 > SIPCX_100REL_OFF ||
	    (unsigned)e->refresher > SIPCX_REFRESHER_UAS ||
	    (unsigned)e->refresh_method > SIPCX_REFRESH_UPDATE ||
	    (e->session_expires && e->min_se && e->session_expires < e->min_se))
		return -EINVAL;
	cfg->ext = *e;
	if (!cfg->ext.min_se)
		cfg->ext.min_se = e->session_expires && e->session_expires < SE_FLOOR
		                      ? e->session_expires
		                      : SE_FLOOR;
	return 0;
}

static void se_info(struct sipcx_call *c, bool refreshed)
{
	uv_mutex_lock(&c->lock);
	c->info.session_expires = c->se;
	c->info.refresher = c->se && c->se_ours;
	if (refreshed && c->se)
		c->info.refreshes++;
	uv_mutex_unlock(&c->lock);
}

/* ---- headers ---- */

size_t sipcx__call_se_request_hdrs(struct sipcx_call *c, struct sipcx_hdr *h, char buf[64])
{
	if (!c->se)
		return 0;
	/* The initial INVITE asks what the options say; a later request keeps the roles, in
	 * the terms of its own transaction: we send it, so "uac" is us (RFC 4028 7.4). */
	enum sipcx_refresher who = c->cfg->ext.refresher;
	if (c->state == SIPCX_CALL_ESTABLISHED || c->state == SIPCX_CALL_CONNECTING)
		who = c->se_ours ? SIPCX_REFRESHER_UAC : SIPCX_REFRESHER_UAS;
	int n = snprintf(buf, 40, "%u%s", c->se,
	                 who == SIPCX_REFRESHER_UAC   ? ";refresher=uac"
	                 : who == SIPCX_REFRESHER_UAS ? ";refresher=uas"
	                                              : "");
	snprintf(buf + 40, 24, "%u", c->min_se);
	h[0] = (struct sipcx_hdr){ SIPCX_HDR_SESSION_EXPIRES, SIPCX_STR_NULL,
		                   (struct sipcx_str){ buf, (size_t)n } };
	h[1] = (struct sipcx_hdr){ SIPCX_HDR_MIN_SE, SIPCX_STR_NULL, sipcx_str_c(buf + 40) };
	return 2;
}

size_t sipcx__call_refresh_hdrs(struct sipcx_call *c, struct sipcx_hdr *h, char buf[64])
{
	h[0] = (struct sipcx_hdr){ SIPCX_HDR_SUPPORTED, SIPCX_STR_NULL,
		                   sipcx_str_c(sipcx__call_supported(c->cfg)) };
	return 1 + sipcx__call_se_request_hdrs(c, h + 1, buf);
}

size_t sipcx__call_se_response_hdrs(struct sipcx_call *c, struct sipcx_hdr *h, char buf[64])
{
	if (!c->se)
		return 0;
	/* RFC 4028 9: the refresher in the terms of this transaction: "uas" is us. */
	snprintf(buf, 64, "%u;refresher=%s", c->se, c->se_ours ? "uas" : "uac");
	h[0] = (struct sipcx_hdr){ SIPCX_HDR_SESSION_EXPIRES, SIPCX_STR_NULL, sipcx_str_c(buf) };
	if (!c->peer_timer)
		return 1;
	h[1] = (struct sipcx_hdr){ SIPCX_HDR_REQUIRE, SIPCX_STR_NULL, SIPCX_STR("timer") };
	return 2;
}

/* The value of header id parsed into *se: 1, 0 when absent, -EBADMSG. */
static int se_of(const struct sipcx_msg *m, enum sipcx_hdr_id id, struct sipcx_session_expires *se)
{
	const struct sipcx_hdr *h = sipcx_msg_hdr(m, id);
	memset(se, 0, sizeof(*se));
	if (!h)
		return 0;
	return sipcx_session_expires_parse(se, h->value) == 0 ? 1 : -EBADMSG;
}

/* ---- in: a request's Session-Expires (RFC 4028 9) ---- */

/* A refusal of the request on srv: the INVITE's ends the call. */
static void refuse(struct sipcx_call *c, struct sipcx_ua_srv *srv, bool initial, uint16_t st,
                   const char *reason, const struct sipcx_hdr *h, size_t n)
{
	if (initial)
		sipcx__call_reject(c, st, reason, h, n, SIPCX_CALL_END_ERROR, -EPROTO);
	else
		sipcx__ua_do_respond(srv, st, reason, h, n, NULL, SIPCX_STR_NULL);
}

bool sipcx__call_se_check(struct sipcx_call *c, struct sipcx_ua_srv *srv,
                          const struct sipcx_msg *req, bool initial)
{
	const struct call_cfg *cfg = c->cfg;
	bool sup = sipcx__call_has_tag(req, SIPCX_HDR_SUPPORTED, "timer") ||
	           sipcx__call_has_tag(req, SIPCX_HDR_REQUIRE, "timer");
	if (initial)
		c->min_se = cfg->ext.min_se;
	struct sipcx_session_expires se, mse;
	int has = se_of(req, SIPCX_HDR_SESSION_EXPIRES, &se);
	int has_min = se_of(req, SIPCX_HDR_MIN_SE, &mse);
	if (has < 0 || has_min < 0) {
		refuse(c, srv, initial, 400, has < 0 ? "Bad Session-Expires" : "Bad Min-SE", NULL,
		       0);
		return false;
	}
	if (!has && !initial)
		return true; /* a re-INVITE or UPDATE without it: the session keeps its interval */
	if (!has && !cfg->ext.session_expires)
		return true; /* none asked, none imposed */
	if (!has) {
		/* RFC 4028 9: we may impose one; at least what the UAC can take */
		se.delta = cfg->ext.session_expires;
		se.refresher = SIPCX_REFRESHER_NONE;
		if (has_min && mse.delta > se.delta)
			se.delta = mse.delta;
	} else if (se.delta < c->min_se) {
		if (sup) {
			/* RFC 4028 9: too small for us: 422 with our Min-SE */
			char min[16];
			snprintf(min, sizeof(min), "%u", c->min_se);
			struct sipcx_hdr h = { SIPCX_HDR_MIN_SE, SIPCX_STR_NULL, sipcx_str_c(min) };
			refuse(c, srv, initial, 422, NULL, &h, 1);
			return false;
		}
		se.delta = c->min_se; /* a proxy asked for it, the UAC cannot retry: ours */
	} else if (cfg->ext.session_expires && se.delta > cfg->ext.session_expires) {
		/* RFC 4028 9: we may lower it, not below the request's Min-SE nor ours */
		uint32_t low = cfg->ext.session_expires;
		if (has_min && mse.delta > low)
			low = mse.delta;
		se.delta = low > c->min_se ? low : c->min_se;
	}
	c->peer_timer = sup || (!initial && c->peer_timer);
	c->se = se.delta;
	/* Who refreshes: the request says, else (initial) our choice among those that can. */
	enum sipcx_refresher who = se.refresher;
	if (!c->peer_timer)
		who = SIPCX_REFRESHER_UAS; /* the UAC does not know timers: us */
	else if (who == SIPCX_REFRESHER_NONE && !initial)
		who = c->se_ours ? SIPCX_REFRESHER_UAS : SIPCX_REFRESHER_UAC;
	else if (who == SIPCX_REFRESHER_NONE)
		who = cfg->ext.refresher != SIPCX_REFRESHER_NONE ? cfg->ext.refresher
		                                                 : SIPCX_REFRESHER_UAC;
	c->se_ours = who == SIPCX_REFRESHER_UAS;
	return true;
}

/* ---- out: 422 and the 2xx ---- */

bool sipcx__call_se_retry(struct sipcx_call *c, const struct sipcx_msg *resp)
{
	struct sipcx_session_expires mse;
	/* RFC 4028 7.3: at most a couple of tries, each with a larger interval */
	if (se_of(resp, SIPCX_HDR_MIN_SE, &mse) != 1 || c->se_tries >= 2 ||
	    (c->se && mse.delta <= c->se))
		return false;
	c->se_tries++;
	c->se = mse.delta;
	c->min_se = mse.delta;
	return true;
}

void sipcx__call_se_response(struct sipcx_call *c, const struct sipcx_msg *resp, bool refresh)
{
	struct sipcx_session_expires se;
	int has = se_of(resp, SIPCX_HDR_SESSION_EXPIRES, &se);
	if (has == 1) {
		c->se = se.delta;
		c->peer_timer = sipcx__call_has_tag(resp, SIPCX_HDR_REQUIRE, "timer");
		/* RFC 4028 7.2: refresher=uac (or none given) is us, who sent the request */
		c->se_ours = se.refresher != SIPCX_REFRESHER_UAS;
	} else if (!refresh) {
		c->se = 0; /* RFC 4028 7.2: no Session-Expires in the 2xx: no session expiration */
	}
	sipcx__call_se_arm(c, refresh);
}

/* ---- the timer ---- */

static void se_fired(struct sipcx__wheel_entry *e);

static void se_at(struct sipcx_call *c, uint64_t at_us, bool bye)
{
	c->se_bye = bye;
	c->se_timer.fire = se_fired;
	sipcx__ua_timer_set(c->ua, &c->se_timer, at_us);
}

/* When the session expires without a refresh: SE - min(32 s, SE/3) after the last (RFC 4028 10). */
static uint64_t se_expiry(const struct sipcx_call *c)
{
	uint64_t ms = (uint64_t)c->se * 1000u, cut = ms / 3 < 32000u ? ms / 3 : 32000u;
	return c->se_start_us + (ms - cut) * 1000u;
}

void sipcx__call_se_arm(struct sipcx_call *c, bool refresh)
{
	se_info(c, refresh);
	if (!c->se || c->ended) {
		if (c->se_timer.fire)
			sipcx__ua_timer_set(c->ua, &c->se_timer, UINT64_MAX);
		return;
	}
	c->se_start_us = sipcx_now_us();
	/* RFC 4028 7.2, 9: the refresher at half the interval; the other side at the expiry */
	if (c->se_ours)
		se_at(c, c->se_start_us + (uint64_t)c->se * 500000u, false);
	else
		se_at(c, se_expiry(c), true);
}

static int send_update(struct sipcx_call *c, bool offer, bool refresh);

/* A refresh of ours, as configured (a peer that refused UPDATE gets re-INVITEs). */
static int refresh(struct sipcx_call *c)
{
	if (c->cfg->ext.refresh_method == SIPCX_REFRESH_UPDATE && !c->se_by_invite)
		return send_update(c, false, true);
	int r = sipcx__call_reinvite(
	    c, c->info.local_hold ? SIPCX_SDP_SENDONLY : SIPCX_SDP_SENDRECV, c->info.local_hold);
	if (r == 0)
		c->reinv_refresh = true;
	return r;
}

static void se_fired(struct sipcx__wheel_entry *e)
{
	struct sipcx_call *c =
	    (struct sipcx_call *)(void *)((char *)e - offsetof(struct sipcx_call, se_timer));
	if (c->ended || c->ending || !c->se)
		return;
	uint64_t now = sipcx_now_us();
	if (c->se_bye || now >= se_expiry(c)) {
		/* RFC 4028 10: no refresh came in time: the session is over */
		sipcx__call_reason(c, "SIP;cause=408;text=\"Session timer expired\"");
		sipcx__call_bye(c, SIPCX_CALL_END_ERROR, -ETIMEDOUT);
		return;
	}
	int r = c->state == SIPCX_CALL_ESTABLISHED ? refresh(c) : -EBUSY;
	if (r == -EBUSY) {
		/* an INVITE or offer of either side is under way: try again in a second */
		uint64_t at = now + 1000000u;
		se_at(c, at < se_expiry(c) ? at : se_expiry(c), false);
		return;
	}
	/* sent (its 2xx restarts the timer), or not: either way the expiry is the limit */
	se_at(c, se_expiry(c), true);
}

void sipcx__call_se_failed(struct sipcx_call *c, uint16_t status)
{
	if (c->ended || !c->se)
		return;
	if (status == 405 || status == 501)
		c->se_by_invite = true; /* RFC 3311: the peer does not take UPDATE */
	uint64_t now = sipcx_now_us(), end = se_expiry(c);
	if (status == 491 || status == 405 || status == 501) {
		/* RFC 3261 14.1: after a glare, again in 2.1-4 s (0-2 s when the peer owns the
		 * Call-ID); at once after a refused UPDATE; the expiry stays the limit */
		uint32_t r = 0;
		sipcx_random_bytes(&r, sizeof(r));
		uint64_t wait_ms = status != 491 ? 0 : c->outgoing ? 2100u + r % 1900u : r % 2000u;
		uint64_t at = now + wait_ms * 1000u;
		if (at < end) {
			se_at(c, at, false);
			return;
		}
	}
	se_at(c, end, true); /* the session ends when it expires, unless the peer refreshes */
}

/* ---- our UPDATE (RFC 3311) ---- */

static void upd_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	struct sipcx_call *c = arg;
	if (!err && resp && resp->status < 200)
		return;
	bool offer = c->upd_offer, refreshing = c->upd_refresh;
	c->upd = NULL;
	c->upd_offer = c->upd_refresh = false;
	if (!err && resp && resp->status < 300) {
		const struct sipcx_sdp *sdp = offer ? sipcx__call_sdp_of(c, resp) : NULL;
		if (offer &&
		    (!sdp || !sipcx__call_has_sdp(c) || sipcx__call_sdp_process(c, sdp) != 0)) {
			/* an answer we cannot take: the session cannot go on as both think */
			sipcx__call_reason(c,
			                   "SIP;cause=488;text=\"UPDATE answer not acceptable\"");
			sipcx_call_end(c, NULL);
			return;
		}
		sipcx__call_se_response(c, resp, true);
		if (refreshing)
			return;
		if (offer) {
			uv_mutex_lock(&c->lock);
			c->info.reinvites++;
			uv_mutex_unlock(&c->lock);
		}
		sipcx__call_event(c, SIPCX_CALL_EV_MEDIA, resp);
		return;
	}
	/* failed: nothing changed (RFC 3311 5.1); 481, 408 or no answer end the dialog */
	sipcx__call_refresh_failed(c, refreshing, err, resp);
}

/* The UPDATE is out (perhaps after its hop's look-up). */
static void upd_sent(struct sipcx_call *c, struct call_dlg *cd, struct ua_txn *ut)
{
	(void)cd;
	c->upd = ut;
}

static int send_update(struct sipcx_call *c, bool offer, bool refresh)
{
	/* RFC 3311 5.1: one UPDATE at a time; no offer while another one waits for its answer */
	if (c->upd || sipcx__call_hop_busy(c) ||
	    (offer && (sipcx__call_offer_out(c) || c->ist || c->srv)))
		return -EBUSY;
	struct sipcx_buf sdp;
	sipcx_buf_init(&sdp);
	char sebuf[64];
	struct sipcx_hdr h[3];
	size_t n = sipcx__call_refresh_hdrs(c, h, sebuf);
	int r = offer ? sipcx__call_sdp_offer(
	                    c, c->info.local_hold ? SIPCX_SDP_SENDONLY : SIPCX_SDP_SENDRECV, &sdp)
	              : 0;
	struct call_req rq = { .method = "UPDATE",
		               .hdrs = h,
		               .nhdrs = n,
		               .ctype = offer ? "application/sdp" : NULL,
		               .body = { sdp.p, sdp.len },
		               .cb = upd_resp,
		               .arg = c,
		               .sent = upd_sent };
	if (!r)
		r = sipcx__call_out(c, c->dlg, &rq);
	sipcx_buf_free(&sdp);
	if (r)
		return r;
	c->upd_offer = offer;
	c->upd_refresh = refresh;
	return 0;
}

struct update_args {
	struct sipcx_call *c;
	bool offer;
	int r;
};

static void update_on_loop(void *arg)
{
	struct update_args *a = arg;
	a->r = sipcx__call_is_up(a->c) ? send_update(a->c, a->offer, false) : -ENOTCONN;
}

int sipcx_call_update(struct sipcx_call *call, bool offer)
{
	if (!call)
		return -EINVAL;
	struct update_args a = { call, offer, 0 };
	int r = sipcx_ua_call(call->ua, update_on_loop, &a);
	return r ? r : a.r;
}
