/* ua: transfers: the transferee (a REFER in the dialog -> 202, NOTIFYs, the new call, with Replaces when attended) and the transferor (our REFER, blind or attended, the NOTIFYs followed to the final status, BYE on success) (RFC 3515, RFC 3891, RFC 3892, RFC 5589). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sipcx/call.h>
#include <sipcx/header.h>

#include "ua/call.h"

/* One transfer: the call the REFER came in, and the call it made. */
struct call_xfer {
	struct sipcx_call *old; /* a reference */
	struct sipcx_call *neu; /* a reference, once dialled */
	bool final_told;        /* the NOTIFY with the final status went */
};

static void notify_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	(void)err;
	(void)resp;
	sipcx_call_unref(arg);
}

/* A NOTIFY in the old dialog: Event refer, the sipfrag of the new call's progress (RFC 3515 2.4.4). */
static void notify(struct sipcx_call *c, uint16_t status, const char *reason, bool final)
{
	if (!c->dlg || c->ended)
		return; /* the transferor hung up first: nobody to tell */
	char frag[160], state[64];
	int n = snprintf(frag, sizeof(frag), "SIP/2.0 %u %s\r\n", status, reason);
	snprintf(state, sizeof(state),
	         final ? "terminated;reason=noresource" : "active;expires=60");
	struct sipcx_hdr hdrs[] = {
		{ SIPCX_HDR_EVENT, SIPCX_STR_NULL, SIPCX_STR("refer") },
		{ SIPCX_HDR_SUBSCRIPTION_STATE, SIPCX_STR_NULL, sipcx_str_c(state) },
	};
	sipcx_call_ref(c);
	if (sipcx__call_request(c, c->dlg, "NOTIFY", hdrs, SIPCX_ARRAY_SIZE(hdrs),
	                        "message/sipfrag;version=2.0",
	                        (struct sipcx_str){ frag, (size_t)n }, notify_resp, c) != 0)
		sipcx_call_unref(c);
}

static void xfer_done(struct call_xfer *x)
{
	sipcx_call_unref(x->neu);
	sipcx_call_unref(x->old);
	sipcx_free(x);
}

/* The new call's progress: told to the transferor as NOTIFYs, its outcome to the old call's owner. */
static void xfer_event(struct sipcx_call *call, const struct sipcx_call_event *ev, void *arg)
{
	struct call_xfer *x = arg;
	struct sipcx_call *old = x->old;
	struct sipcx_call_info in;
	sipcx_call_info(call, &in);
	if (ev->type == SIPCX_CALL_EV_RINGING && ev->msg && !x->final_told)
		notify(old, ev->msg->status, "Ringing", false);
	if ((ev->type == SIPCX_CALL_EV_ANSWERED || ev->type == SIPCX_CALL_EV_ENDED) &&
	    !x->final_told) {
		x->final_told = true;
		uint16_t st = in.status ? in.status : in.err == -ETIMEDOUT ? 408 : 503;
		const char *rs = in.status ? in.reason : sipcx_msg_reason_phrase(st);
		notify(old, st, rs, true);
		uv_mutex_lock(&old->lock);
		old->info.transfer_status = st;
		uv_mutex_unlock(&old->lock);
		if (!old->ended)
			sipcx__call_event(old, SIPCX_CALL_EV_TRANSFER, NULL);
	}
	if (ev->type == SIPCX_CALL_EV_ENDED)
		xfer_done(x);
}

/*
 * The Refer-To target as a sip: URI without its headers, and the Replaces
 * header it carries (attended transfer, RFC 3891 7, RFC 5589 7): unescaped
 * and checked into rep ("" when none). Other URI headers are not taken.
 */
static int refer_target(const struct sipcx_msg *m, char *out, size_t n, char *rep, size_t rn)
{
	const struct sipcx_hdr *h = sipcx_msg_hdr(m, SIPCX_HDR_REFER_TO);
	struct sipcx_addr a;
	if (!h || sipcx_addr_parse(&a, h->value) != 0 ||
	    (a.uri.scheme != SIPCX_URI_SIP && a.uri.scheme != SIPCX_URI_SIPS))
		return -EINVAL;
	size_t len = a.uri.raw.len;
	const char *q = memchr(a.uri.raw.p, '?', len);
	if (q)
		len = (size_t)(q - a.uri.raw.p);
	if (len == 0 || len >= n)
		return -EINVAL;
	memcpy(out, a.uri.raw.p, len);
	out[len] = '\0';
	rep[0] = '\0';
	struct sipcx_str v;
	size_t vl;
	struct sipcx_replaces rp;
	if (sipcx_uri_header(&a.uri, "Replaces", &v)) {
		if (sipcx_uri_unescape(v, rep, rn - 1, &vl) != 0 || memchr(rep, '\0', vl) ||
		    memchr(rep, '\r', vl) || memchr(rep, '\n', vl))
			return -EINVAL;
		rep[vl] = '\0';
		if (sipcx_replaces_parse(&rp, (struct sipcx_str){ rep, vl }) != 0)
			return -EINVAL;
	}
	return 0;
}

void sipcx__call_refer_in(struct sipcx_call *c, struct sipcx_ua_srv *srv, const struct sipcx_msg *m)
{
	char target[256], rep[256];
	if (refer_target(m, target, sizeof(target), rep, sizeof(rep)) != 0) {
		sipcx__ua_do_respond(srv, 400, "Bad Refer-To", NULL, 0, NULL, SIPCX_STR_NULL);
		return;
	}
	if (c->cfg->refuse_refer) {
		sipcx__ua_do_respond(srv, 603, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		return;
	}
	if (c->xfer || c->state != SIPCX_CALL_ESTABLISHED || c->ending) {
		/* one transfer at a time, of a call that is up */
		sipcx__ua_do_respond(srv, c->xfer ? 491 : 403, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		return;
	}
	struct call_xfer *x = sipcx_calloc(1, sizeof(*x));
	if (!x) {
		sipcx__ua_do_respond(srv, 500, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
		return;
	}
	x->old = sipcx_call_ref(c);
	/* The new call as the old one was made: the same media and digest credentials (a dialled
	 * call's: a proxy may challenge the new INVITE); Referred-By passed on (RFC 3892). */
	const struct call_cfg *cfg = c->cfg;
	const struct sipcx_hdr *rb = sipcx_msg_hdr(m, SIPCX_HDR_REFERRED_BY);
	struct sipcx_hdr hdrs[3];
	size_t nh = 0;
	if (rb)
		hdrs[nh++] = (struct sipcx_hdr){ SIPCX_HDR_REFERRED_BY, SIPCX_STR_NULL, rb->value };
	if (rep[0]) {
		/* attended: the target's call with the transferor gives way to this one */
		hdrs[nh++] =
		    (struct sipcx_hdr){ SIPCX_HDR_REPLACES, SIPCX_STR_NULL, sipcx_str_c(rep) };
		hdrs[nh++] =
		    (struct sipcx_hdr){ SIPCX_HDR_REQUIRE, SIPCX_STR_NULL, SIPCX_STR("replaces") };
	}
	struct sipcx_dial_opts o = {
		.hdrs = hdrs,
		.nhdrs = nh,
		.media = { .codecs = cfg->ncodecs ? cfg->codecs : NULL,
		           .ncodecs = cfg->ncodecs,
		           .handler = cfg->handler,
		           .tone_hz = cfg->tone_hz,
		           .local_addr = cfg->local_addr,
		           .port_min = cfg->port_min,
		           .port_max = cfg->port_max,
		           .debug = cfg->debug,
		           .play_file = cfg->play_file,
		           .play_loop = cfg->play_loop,
		           .detect_hz = cfg->detect_hz,
		           .srtp = cfg->srtp,
		           .no_rtcp_mux = !cfg->rtcp_mux,
		           .ptime = cfg->ptime },
		.username = cfg->username,
		.password = cfg->password,
		.realm = cfg->realm,
		.cb = xfer_event,
		.arg = x,
	};
	int r = sipcx_call_dial(c->ua, target, &o, &x->neu);
	if (r) {
		sipcx__ua_do_respond(srv, r == SIPCX_ERESOLVE ? 404 : 503, NULL, NULL, 0, NULL,
		                     SIPCX_STR_NULL);
		xfer_done(x);
		return;
	}
	sipcx__ua_do_respond(srv, 202, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
	c->xfer = sipcx_call_ref(x->neu);
	uv_mutex_lock(&c->lock);
	snprintf(c->info.refer_to, sizeof(c->info.refer_to), "%s", target);
	uv_mutex_unlock(&c->lock);
	notify(c, 100, "Trying", false); /* RFC 3515 2.4.5: the subscription starts */
	sipcx__call_event(c, SIPCX_CALL_EV_TRANSFER, m);
}

struct xfer_get {
	struct sipcx_call *c, *out;
};

static void get_on_loop(void *arg)
{
	struct xfer_get *g = arg;
	g->out = g->c->xfer ? sipcx_call_ref(g->c->xfer) : NULL;
}

struct sipcx_call *sipcx_call_transfer(struct sipcx_call *call)
{
	if (!call)
		return NULL;
	struct xfer_get g = { call, NULL };
	if (sipcx_ua_call(call->ua, get_on_loop, &g) != 0)
		return NULL;
	return g.out;
}

/* ---- the transferor: our REFER ---- */

static void refer_done(struct sipcx_call *c, uint16_t status, const struct sipcx_msg *m)
{
	c->refer_out = false;
	uv_mutex_lock(&c->lock);
	c->info.transfer_result = status;
	uv_mutex_unlock(&c->lock);
	if (!c->ended)
		sipcx__call_event(c, SIPCX_CALL_EV_TRANSFER, m);
	struct call_waiter *w = c->refer_waiter;
	c->refer_waiter = NULL;
	if (w)
		w->fn(w);
	/* RFC 5589 6.1: the transfer worked, the transferor's part is over */
	if (status / 100 == 2 && !c->ended && !c->ending)
		sipcx_call_end(c, "SIP;cause=200;text=\"transferred\"");
}

static void refer_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	struct sipcx_call *c = arg;
	if (!err && resp && resp->status < 200)
		return;
	if (c->refer_out && (err || !resp || resp->status >= 300))
		refer_done(c, resp ? resp->status : 408, resp);
	sipcx_call_unref(c);
}

static void refer_send(struct sipcx_call *c)
{
	if (c->ended || c->ending || !c->dlg || !c->refer_out)
		return;
	char to[sizeof(c->refer_target) + 2], by[300];
	snprintf(to, sizeof(to), "<%s>", c->refer_target);
	snprintf(by, sizeof(by), "%s", c->info.local_uri);
	struct sipcx_hdr hdrs[] = {
		{ SIPCX_HDR_REFER_TO, SIPCX_STR_NULL, sipcx_str_c(to) },
		{ SIPCX_HDR_REFERRED_BY, SIPCX_STR_NULL, sipcx_str_c(by) },
	};
	sipcx_call_ref(c);
	if (sipcx__call_request(c, c->dlg, "REFER", hdrs, by[0] ? 2 : 1, NULL, SIPCX_STR_NULL,
	                        refer_resp, c) != 0)
		refer_resp(-EIO, NULL, c);
}

static void refer_timer_fired(struct sipcx__wheel_entry *e)
{
	struct sipcx_call *c =
	    (struct sipcx_call *)(void *)((char *)e - offsetof(struct sipcx_call, refer_timer));
	refer_send(c);
}

bool sipcx__call_refer_notify(struct sipcx_call *c, struct sipcx_ua_srv *srv,
                              const struct sipcx_msg *m)
{
	const struct sipcx_hdr *ev = sipcx_msg_hdr(m, SIPCX_HDR_EVENT);
	if (!c->refer_out || !ev || ev->value.len < 5 || strncasecmp(ev->value.p, "refer", 5) != 0)
		return false;
	sipcx__ua_do_respond(srv, 200, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
	/* the sipfrag's status line: "SIP/2.0 200 OK" */
	uint16_t status = 0;
	if (m->body.len >= 11 && !memcmp(m->body.p, "SIP/2.0 ", 8))
		for (size_t i = 8; i < 11; i++)
			status = (uint16_t)(status * 10 + (uint16_t)(m->body.p[i] - '0'));
	if (status < 100 || status > 699)
		status = 0;
	const struct sipcx_hdr *ss = sipcx_msg_hdr(m, SIPCX_HDR_SUBSCRIPTION_STATE);
	bool terminated = ss && ss->value.len >= 10 && !strncasecmp(ss->value.p, "terminated", 10);
	if (status >= 200 || terminated)
		refer_done(c, status ? status : 503, m);
	return true;
}

/*
 * Where the transferee's INVITE with Replaces goes (RFC 5589 7): the
 * target's Contact in the call with it when that call went straight to it
 * or the Contact is a GRUU; when proxies record-routed the call (a route
 * set), the Contact may be reachable only through them, so the target's
 * address-of-record (the remote URI: what we dialled, or its From) is
 * used, and the proxy routes the INVITE to the target (RFC 5589 7.2).
 */
static struct sipcx_str replaces_uri(const struct sipcx_dialog *d)
{
	struct sipcx_str t = sipcx_dialog_remote_target(d);
	struct sipcx_uri cu;
	struct sipcx_addr aor;
	struct sipcx_str gr;
	if (sipcx_dialog_route_count(d) == 0 ||
	    (sipcx_uri_parse(&cu, t) == 0 && sipcx_uri_param(&cu, "gr", &gr)) ||
	    sipcx_addr_parse(&aor, sipcx_dialog_remote_uri(d)) != 0 ||
	    (aor.uri.scheme != SIPCX_URI_SIP && aor.uri.scheme != SIPCX_URI_SIPS))
		return t;
	return aor.uri.raw;
}

/*
 * The Refer-To of an attended transfer (RFC 5589 7): the target's URI
 * (replaces_uri()) and the dialog with it as Replaces (to-tag: the
 * target's tag, the local tag of the one receiving the INVITE).
 */
static int replaces_target(const struct sipcx_call *b, char *out, size_t n, char *plain, size_t pn)
{
	if (b->ended || b->ending || !b->dlg || b->state != SIPCX_CALL_ESTABLISHED)
		return -ENOTCONN;
	const struct sipcx_dialog *d = b->dlg->d;
	struct sipcx_str t = replaces_uri(d);
	const char *q = memchr(t.p, '?', t.len);
	if (q)
		t.len = (size_t)(q - t.p);
	struct sipcx_str id = sipcx_dialog_call_id(d), rt = sipcx_dialog_remote_tag(d),
	                 lt = sipcx_dialog_local_tag(d);
	char val[400], esc[1200];
	int vn = snprintf(val, sizeof(val), "%.*s;to-tag=%.*s;from-tag=%.*s", SIPCX_STR_FMT(id),
	                  SIPCX_STR_FMT(rt), SIPCX_STR_FMT(lt));
	size_t en;
	if (vn < 0 || (size_t)vn >= sizeof(val) ||
	    sipcx_uri_escape((struct sipcx_str){ val, (size_t)vn }, esc, sizeof(esc), &en) != 0)
		return -ENAMETOOLONG;
	int r = snprintf(out, n, "%.*s?Replaces=%.*s", SIPCX_STR_FMT(t), (int)en, esc);
	snprintf(plain, pn, "%.*s", SIPCX_STR_FMT(t));
	return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

int sipcx__call_refer_start(struct sipcx_call *c, const char *target, struct sipcx_call *with,
                            uint32_t delay_ms)
{
	if (c->ended || c->ending || !c->dlg || c->state != SIPCX_CALL_ESTABLISHED)
		return -ENOTCONN;
	if (c->refer_out)
		return -EBUSY;
	char shown[sizeof(c->info.transfer_to)];
	snprintf(shown, sizeof(shown), "%s", target ? target : "");
	if (with) {
		int r = replaces_target(with, c->refer_target, sizeof(c->refer_target), shown,
		                        sizeof(shown));
		if (r)
			return r;
	} else {
		snprintf(c->refer_target, sizeof(c->refer_target), "%s", target);
	}
	c->refer_out = true;
	uv_mutex_lock(&c->lock);
	snprintf(c->info.transfer_to, sizeof(c->info.transfer_to), "%s", shown);
	c->info.transfer_result = 0;
	uv_mutex_unlock(&c->lock);
	c->refer_timer.fire = refer_timer_fired;
	sipcx__ua_timer_set(c->ua, &c->refer_timer, sipcx_now_us() + (uint64_t)delay_ms * 1000u);
	return 0;
}

struct refer_args {
	struct sipcx_call *c;
	struct sipcx_call *with; /* attended: the call to the target that ours replaces */
	const char *target;
	uint32_t delay_ms;
	int r;
};

static void refer_on_loop(void *arg)
{
	struct refer_args *a = arg;
	a->r = sipcx__call_refer_start(a->c, a->target, a->with, a->delay_ms);
}

bool sipcx__call_refer_target_ok(const char *target)
{
	struct sipcx_uri u;
	return target && strlen(target) < sizeof(((struct sipcx_call_info *)0)->transfer_to) &&
	       !strpbrk(target, "<>\r\n\" ") && sipcx_uri_parse(&u, sipcx_str_c(target)) == 0 &&
	       (u.scheme == SIPCX_URI_SIP || u.scheme == SIPCX_URI_SIPS);
}

int sipcx_call_refer(struct sipcx_call *call, const char *target, uint32_t delay_ms)
{
	if (!call || !sipcx__call_refer_target_ok(target))
		return -EINVAL;
	struct refer_args a = { call, NULL, target, delay_ms, 0 };
	int r = sipcx_ua_call(call->ua, refer_on_loop, &a);
	return r ? r : a.r;
}

int sipcx_call_refer_replaces(struct sipcx_call *call, struct sipcx_call *target_call,
                              uint32_t delay_ms)
{
	if (!call || !target_call || call == target_call || call->ua != target_call->ua)
		return -EINVAL;
	struct refer_args a = { call, target_call, NULL, delay_ms, 0 };
	int r = sipcx_ua_call(call->ua, refer_on_loop, &a);
	return r ? r : a.r;
}
