/* ua: reliable provisional responses (RFC 3262): ours sent with RSeq and re-sent until their PRACK, the peer's PRACKed once each, in order. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sipcx/call.h>

#include "ua/call.h"

const char *sipcx__call_supported(const struct call_cfg *cfg)
{
	return cfg->ext.rel100 == SIPCX_100REL_OFF ? SIPCX__CALL_TAGS ", timer"
	                                           : SIPCX__CALL_TAGS_ALL;
}

bool sipcx__call_has_tag(const struct sipcx_msg *m, enum sipcx_hdr_id id, const char *tag)
{
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_str tok;
	while (sipcx_msg_value_next(m, id, &it, &tok) == 1)
		if (sipcx_str_ieq(tok, sipcx_str_c(tag)))
			return true;
	return false;
}

bool sipcx__calls_supports(const struct sipcx_ua *ua, const struct sipcx_msg *m,
                           struct sipcx_str tag)
{
	/* Only for an INVITE the listener takes: what its options make of the call. */
	const struct call_cfg *cfg = ua->calls ? ua->calls->listen : NULL;
	if (!cfg || m->method != SIPCX_METHOD_INVITE)
		return false;
	return sipcx_str_ieq(tag, SIPCX_STR("timer")) ||
	       (sipcx_str_ieq(tag, SIPCX_STR("100rel")) && cfg->ext.rel100 != SIPCX_100REL_OFF);
}

/* ---- in: our reliable 18x ---- */

bool sipcx__call_rel_check(struct sipcx_call *c, const struct sipcx_msg *inv)
{
	enum sipcx_100rel mode = c->cfg->ext.rel100;
	if (mode == SIPCX_100REL_OFF)
		return true; /* a Require: 100rel had its 420 from the engine */
	bool req = sipcx__call_has_tag(inv, SIPCX_HDR_REQUIRE, "100rel");
	bool sup = req || sipcx__call_has_tag(inv, SIPCX_HDR_SUPPORTED, "100rel");
	if (mode == SIPCX_100REL_REQUIRED && !sup) {
		/* RFC 3262 3: we need it, the UAC does not know it: 421 Extension Required. */
		struct sipcx_hdr h = { SIPCX_HDR_REQUIRE, SIPCX_STR_NULL, SIPCX_STR("100rel") };
		sipcx__call_reject(c, 421, NULL, &h, 1, SIPCX_CALL_END_LOCAL, 0);
		return false;
	}
	c->rel = req || mode == SIPCX_100REL_REQUIRED;
	const struct sipcx_cseq *cs = sipcx_msg_cseq(inv);
	c->rel_cseq = cs ? cs->num : 0;
	return true;
}

/* Send (again) our reliable 18x: the same status, RSeq and body each time. */
static int rel_send(struct sipcx_call *c)
{
	char rseq[16];
	snprintf(rseq, sizeof(rseq), "%u", c->rseq);
	struct sipcx_hdr h[] = {
		{ SIPCX_HDR_REQUIRE, SIPCX_STR_NULL, SIPCX_STR("100rel") },
		{ SIPCX_HDR_RSEQ, SIPCX_STR_NULL, sipcx_str_c(rseq) },
	};
	struct sipcx_str body =
	    c->rel_sdp ? (struct sipcx_str){ c->answer, c->answer_len } : SIPCX_STR_NULL;
	return sipcx__call_respond(c, c->srv, c->rel_status, NULL, body, h, SIPCX_ARRAY_SIZE(h));
}

static uint32_t t1_ms(const struct sipcx_call *c)
{
	uint64_t t1 = c->ua->topts.t1_us ? c->ua->topts.t1_us : SIPCX_TXN_T1_US;
	return (uint32_t)(t1 / 1000u);
}

static void rel_fired(struct sipcx__wheel_entry *e)
{
	struct sipcx_call *c =
	    (struct sipcx_call *)(void *)((char *)e - offsetof(struct sipcx_call, rel_timer));
	if (c->ended || !c->srv || !c->rel_wait)
		return; /* answered, cancelled, or PRACKed */
	uint64_t now = sipcx_now_us();
	if (now >= c->rel_end_us) {
		/* RFC 3262 3: no PRACK in 64*T1: the INVITE fails with a 5xx. */
		c->rel_wait = false;
		sipcx__call_reject(c, 500, "No PRACK", NULL, 0, SIPCX_CALL_END_ERROR, -ETIMEDOUT);
		return;
	}
	rel_send(c);
	/* T1, 2*T1, 4*T1, ... (RFC 3262 3), the last one cut at 64*T1 */
	c->rel_ms *= 2;
	uint64_t at = now + (uint64_t)c->rel_ms * 1000u;
	sipcx__ua_timer_set(c->ua, &c->rel_timer, at < c->rel_end_us ? at : c->rel_end_us);
}

int sipcx__call_provisional(struct sipcx_call *c, uint16_t status, struct sipcx_str sdp)
{
	if (!c->srv)
		return -ECANCELED;
	if (!c->rel)
		return sipcx__call_respond(c, c->srv, status, NULL, sdp, NULL, 0);
	if (c->rel_wait)
		return -EBUSY; /* RFC 3262 3: one unacknowledged reliable 18x at a time */
	if (!c->rseq) {
		/* RFC 3262 3: the first RSeq is random, 1 .. 2^31-1 (here below 2^30: room to count) */
		uint32_t r = 0;
		sipcx_random_bytes(&r, sizeof(r));
		c->rseq = (r & 0x3fffffffu) + 1;
	} else {
		c->rseq++;
	}
	c->rel_status = status;
	c->rel_sdp = sdp.len > 0;
	c->rel_wait = true;
	int r = rel_send(c);
	if (r) {
		c->rel_wait = false;
		return r;
	}
	uint64_t now = sipcx_now_us();
	c->rel_ms = t1_ms(c);
	c->rel_end_us = now + 64u * (uint64_t)c->rel_ms * 1000u;
	c->rel_timer.fire = rel_fired;
	sipcx__ua_timer_set(c->ua, &c->rel_timer, now + (uint64_t)c->rel_ms * 1000u);
	return 0;
}

bool sipcx__call_rel_defer(struct sipcx_call *c)
{
	/* RFC 3262 3: no 2xx while a reliable 18x with SDP waits for its PRACK */
	if (!c->rel_wait || !c->rel_sdp)
		return false;
	c->answer_wanted = true;
	return true;
}

void sipcx__call_prack_in(struct sipcx_call *c, struct sipcx_ua_srv *srv, const struct sipcx_msg *m)
{
	const struct sipcx_hdr *h = sipcx_msg_hdr(m, SIPCX_HDR_RACK);
	struct sipcx_rack ra;
	if (!h || sipcx_rack_parse(&ra, h->value) != 0) {
		sipcx__ua_do_respond(srv, 400, "Bad RAck", NULL, 0, NULL, SIPCX_STR_NULL);
		return;
	}
	/* RFC 3262 3: a PRACK for no unacknowledged reliable 18x of ours: 481. */
	if (!c->rel_wait || ra.rseq != c->rseq || ra.cseq != c->rel_cseq ||
	    !sipcx_str_eq(ra.method, SIPCX_STR("INVITE"))) {
		sipcx__ua_do_respond(srv, 481, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		return;
	}
	c->rel_wait = false;
	sipcx__ua_timer_set(c->ua, &c->rel_timer, UINT64_MAX);
	sipcx__ua_do_respond(srv, 200, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
	uv_mutex_lock(&c->lock);
	c->info.pracks++;
	uv_mutex_unlock(&c->lock);
	if (c->answer_wanted) {
		c->answer_wanted = false;
		sipcx__call_in_timer(c, CT_ANSWER); /* the 2xx that waited */
	}
}

/* ---- out: PRACK the peer's reliable 18x ---- */

static void prack_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	/* A PRACK's failure changes nothing: the 18x is re-sent, the INVITE goes on. */
	(void)err;
	(void)resp;
	(void)arg;
}

bool sipcx__call_prack_out(struct sipcx_call *c, struct call_dlg *cd, const struct sipcx_msg *resp)
{
	if (!cd || c->cfg->ext.rel100 == SIPCX_100REL_OFF ||
	    !sipcx__call_has_tag(resp, SIPCX_HDR_REQUIRE, "100rel"))
		return true; /* an unreliable 18x */
	const struct sipcx_hdr *h = sipcx_msg_hdr(resp, SIPCX_HDR_RSEQ);
	const struct sipcx_cseq *cs = sipcx_msg_cseq(resp);
	uint64_t rseq;
	if (!h || !cs || sipcx_str_to_u64(h->value, 0x7fffffffu, &rseq) != 0 || rseq == 0)
		return true; /* no RSeq to acknowledge: taken as unreliable */
	/* RFC 3262 4: after the first, only the next RSeq is taken; a repeat or a gap is dropped. */
	if (cd->rseq && rseq != (uint64_t)cd->rseq + 1)
		return false;
	cd->rseq = (uint32_t)rseq;
	char rack[40];
	snprintf(rack, sizeof(rack), "%u %u INVITE", cd->rseq, cs->num);
	struct sipcx_hdr ra = { SIPCX_HDR_RACK, SIPCX_STR_NULL, sipcx_str_c(rack) };
	/* RFC 3262 5: the offer in a reliable 18x to our INVITE without SDP: the PRACK answers it */
	struct sipcx_buf ans;
	sipcx_buf_init(&ans);
	const struct sipcx_sdp *sdp =
	    !c->offer && !c->early_answer ? sipcx__call_sdp_of(c, resp) : NULL;
	if (sdp && sipcx__call_sdp_answer(c, sdp, &ans) == 0)
		c->early_answer = true;
	int r = sipcx__call_request(c, cd, "PRACK", &ra, 1, "application/sdp",
	                            (struct sipcx_str){ ans.p, ans.len }, prack_resp, NULL);
	sipcx_buf_free(&ans);
	uv_mutex_lock(&c->lock);
	c->info.pracks += r == 0;
	c->info.early_media |= c->early_answer;
	uv_mutex_unlock(&c->lock);
	return true;
}
