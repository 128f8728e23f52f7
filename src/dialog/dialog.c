/* dialog: creation (UAC and UAS), what a dialog keeps, and its updates by responses and requests (RFC 3261 12.1, 12.2, 13.2.2.4). */
#include <errno.h>
#include <string.h>

#include "dialog/dialog.h"

bool sipcx__dlg_is_token(struct sipcx_str s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (!memchr("-.!%*_+`'~", c, 10))
			return false;
	}
	return true;
}

struct sipcx_str sipcx__dlg_tag(const struct sipcx_addr *a)
{
	return a ? a->tag : SIPCX_STR_NULL;
}

/* Call-ID = word [ "@" word ]: what sipcx_msg_check() accepts, so that what we print passes it. */
static bool call_id_ok(struct sipcx_str s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if ((unsigned char)s.p[i] <= ' ' || s.p[i] == 0x7f)
			return false;
	return true;
}

static bool is_sip(const struct sipcx_uri *u)
{
	return u->scheme == SIPCX_URI_SIP || u->scheme == SIPCX_URI_SIPS;
}

/*
 * The first Contact URI of m: 1 and *uri, 0 without a Contact header,
 * -EBADMSG when it is malformed, "*" or not sip/sips (a dialog's remote
 * target is a SIP or SIPS URI: RFC 3261 8.1.1.8, 12.1.1).
 */
static int contact_uri(const struct sipcx_msg *m, struct sipcx_str *uri)
{
	if (!sipcx_msg_hdr(m, SIPCX_HDR_CONTACT))
		return 0;
	const struct sipcx_addr *c = sipcx_msg_contact(m);
	if (!c || c->star || !is_sip(&c->uri))
		return -EBADMSG;
	*uri = c->uri.raw;
	return 1;
}

/* A route set as read from a message: the URIs (inside their <>), in dialog order. */
struct routes {
	size_t n;
	struct sipcx_str uri[SIPCX_DIALOG_MAX_ROUTES];
};

/*
 * The Record-Route URIs of m, in order or reversed (a UAC reads them
 * backwards: 12.1.2). Each value must be a name-addr (rec-route, RFC 3261
 * 20.30): in addr-spec form its URI parameters would read as header
 * parameters, and lr among them would be lost.
 */
static int read_routes(const struct sipcx_msg *m, bool reverse, struct routes *rs)
{
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_str v;
	int r;
	rs->n = 0;
	while ((r = sipcx_msg_value_next(m, SIPCX_HDR_RECORD_ROUTE, &it, &v)) == 1) {
		struct sipcx_addr a;
		if (sipcx_addr_parse(&a, v) != 0 || !a.angle || !is_sip(&a.uri))
			return -EBADMSG;
		if (rs->n == SIPCX_DIALOG_MAX_ROUTES)
			return -E2BIG;
		rs->uri[rs->n++] = a.uri.raw;
	}
	if (r < 0)
		return -EBADMSG;
	for (size_t i = 0; reverse && i < rs->n / 2; i++) {
		struct sipcx_str t = rs->uri[i];
		rs->uri[i] = rs->uri[rs->n - 1 - i];
		rs->uri[rs->n - 1 - i] = t;
	}
	return 0;
}

/* Appends to a buffer that is either written (p) or only measured (p NULL). */
struct out {
	char *p;
	size_t len;
};

static void put(struct out *o, const void *s, size_t n)
{
	if (o->p && n)
		memmove(o->p + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, struct sipcx_str s)
{
	put(o, s.p, s.len);
}

/*
 * A From or To value as written but without its tag parameter, the
 * dialog's local or remote URI (12.1.1: the URI with its display name and
 * parameters; the tag is the dialog's own). Each piece is trimmed: LWS
 * around ';' means nothing (RFC 3261 25.1), and none is left dangling
 * where a tag was cut out.
 */
static void put_untagged(struct out *o, const struct sipcx_addr *a)
{
	if (a->params.len == 0) {
		put_str(o, a->raw);
		return;
	}
	put_str(o,
	        sipcx_str_trim((struct sipcx_str){ a->raw.p, (size_t)(a->params.p - a->raw.p) }));
	struct sipcx_str rest = a->params, name, value;
	const char *at = rest.p;
	while (sipcx_param_next(&rest, &name, &value) == 1) {
		if (!sipcx_str_ieq_c(name, "tag"))
			put_str(o, sipcx_str_trim((struct sipcx_str){ at, (size_t)(rest.p - at) }));
		at = rest.p;
	}
}

static size_t untagged_len(const struct sipcx_addr *a)
{
	struct out o = { NULL, 0 };
	put_untagged(&o, a);
	return o.len;
}

static struct sipcx__dlg_slice slice(size_t off, size_t len)
{
	return (struct sipcx__dlg_slice){ (uint16_t)off, (uint16_t)len };
}

/* Bytes of "<r1>, ..., <rn>, <target>" (the target may be empty). */
static size_t var_size(const struct sipcx_str *routes, size_t n, struct sipcx_str target)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (i ? 2 : 0) + routes[i].len + 2;
	if (target.len)
		len += (n ? 2 : 0) + target.len + 2;
	return len;
}

/*
 * Write the variable part into dst and make it d's. The routes may be d's
 * own, in the same place (an update that keeps them): memmove.
 */
static void var_fill(struct sipcx_dialog *d, char *dst, const struct sipcx_str *routes, size_t n,
                     struct sipcx_str target)
{
	struct out o = { dst, 0 };
	for (size_t i = 0; i < n; i++) {
		if (i)
			put(&o, ", ", 2);
		size_t at = o.len;
		put(&o, "<", 1);
		put_str(&o, routes[i]);
		put(&o, ">", 1);
		d->route[i] = slice(at, o.len - at);
	}
	d->nroutes = (uint8_t)n;
	d->target = slice(0, 0);
	if (target.len) {
		if (n)
			put(&o, ", ", 2);
		size_t at = o.len;
		put(&o, "<", 1);
		put_str(&o, target);
		put(&o, ">", 1);
		d->target = slice(at, o.len - at);
	}
	d->var = dst;
}

static size_t fixed_len(const struct sipcx_dialog *d)
{
	struct sipcx__dlg_slice end = d->remote_tag.len ? d->remote_tag : d->remote_uri;
	return (size_t)end.off + end.len;
}

/*
 * Replace the route set and remote target. routes may be d's own (the
 * route set kept). Everything is checked before d changes: on error d is
 * as it was.
 */
static int var_set(struct sipcx_dialog *d, const struct sipcx_str *routes, size_t n,
                   struct sipcx_str target)
{
	size_t len = var_size(routes, n, target);
	if (len > SIPCX_DIALOG_MAX_BYTES - fixed_len(d))
		return -EMSGSIZE;
	char *dst = d->var;
	if (len > d->var_cap) {
		dst = sipcx_malloc(len);
		if (!dst)
			return -ENOMEM;
	}
	char *old = d->var;
	var_fill(d, dst, routes, n, target);
	if (dst != old) {
		if (d->var_own)
			sipcx_free(old);
		d->var_own = true;
		d->var_cap = (uint16_t)len;
	}
	return 0;
}

/* d's route set as URIs (inside the brackets), pointing into d. */
static void own_routes(const struct sipcx_dialog *d, struct routes *rs)
{
	rs->n = d->nroutes;
	for (size_t i = 0; i < rs->n; i++) {
		struct sipcx_str r = sipcx__dlg_var(d, d->route[i]);
		rs->uri[i] = (struct sipcx_str){ r.p + 1, r.len - 2 };
	}
}

static int set_target(struct sipcx_dialog *d, struct sipcx_str target)
{
	struct routes rs;
	own_routes(d, &rs);
	return var_set(d, rs.uri, rs.n, target);
}

/* What a new dialog is made of, all of it borrowed from the messages. */
struct parts {
	struct sipcx_str call_id;
	const struct sipcx_addr *local, *remote;
	struct sipcx_str local_tag, remote_tag;
	struct routes routes;
	struct sipcx_str target; /* URI, may be empty */
};

/* One allocation: the struct, then the fixed part, then the variable part. */
static int build(struct sipcx_dialog **out, const struct parts *p)
{
	size_t lu = untagged_len(p->local), ru = untagged_len(p->remote);
	size_t fixed = p->call_id.len + lu + 5 + p->local_tag.len + ru +
	               (p->remote_tag.len ? 5 + p->remote_tag.len : 0);
	size_t var = var_size(p->routes.uri, p->routes.n, p->target);
	if (fixed > SIPCX_DIALOG_MAX_BYTES || var > SIPCX_DIALOG_MAX_BYTES - fixed)
		return -EMSGSIZE;
	struct sipcx_dialog *d = sipcx_malloc(sizeof(*d) + fixed + var);
	if (!d)
		return -ENOMEM;
	memset(d, 0, sizeof(*d));

	struct out o = { d->data, 0 };
	put_str(&o, p->call_id);
	d->call_id = slice(0, o.len);
	size_t at = o.len;
	put_untagged(&o, p->local);
	d->local_uri = slice(at, o.len - at);
	put(&o, ";tag=", 5);
	at = o.len;
	put_str(&o, p->local_tag);
	d->local_tag = slice(at, o.len - at);
	at = o.len;
	put_untagged(&o, p->remote);
	d->remote_uri = slice(at, o.len - at);
	d->remote_tag = slice(o.len, 0);
	if (p->remote_tag.len) {
		put(&o, ";tag=", 5);
		at = o.len;
		put_str(&o, p->remote_tag);
		d->remote_tag = slice(at, o.len - at);
	}
	var_fill(d, d->data + fixed, p->routes.uri, p->routes.n, p->target);
	d->var_cap = (uint16_t)var;
	*out = d;
	return 0;
}

/* A From or To we can print again with our tag: "*" is only a Contact. */
static bool addr_ok(const struct sipcx_addr *a)
{
	return a && !a->star;
}

/* Refuses what never creates a dialog. */
static bool creates_dialogs(const struct sipcx_msg *req)
{
	return req->method != SIPCX_METHOD_ACK && req->method != SIPCX_METHOD_CANCEL &&
	       req->method != SIPCX_METHOD_BYE;
}

static bool is_sips_ruri(const struct sipcx_msg *req)
{
	const struct sipcx_uri *u = sipcx_msg_ruri(req);
	return u && u->scheme == SIPCX_URI_SIPS;
}

int sipcx_dialog_new_uac(struct sipcx_dialog **out, const struct sipcx_msg *req,
                         const struct sipcx_msg *resp)
{
	if (!out || !req || !resp || !req->request || resp->request || !creates_dialogs(req))
		return -EINVAL;
	if (resp->status <= 100 || resp->status >= 300)
		return -EINVAL;
	struct parts p;
	p.call_id = sipcx_msg_call_id(req);
	p.local = sipcx_msg_from(req);
	p.remote = sipcx_msg_to(req);
	const struct sipcx_cseq *cseq = sipcx_msg_cseq(req);
	const struct sipcx_addr *rto = sipcx_msg_to(resp);
	if (!call_id_ok(p.call_id) || !addr_ok(p.local) || !addr_ok(p.remote) || !cseq || !rto)
		return -EBADMSG;
	if (rto->tag.len == 0)
		return -EINVAL;
	/* 12.1.2 applies to a response to req only: 17.1.3 matched it by branch. */
	const struct sipcx_cseq *rcseq = sipcx_msg_cseq(resp);
	if (!sipcx_str_eq(sipcx_msg_call_id(resp), p.call_id) ||
	    !sipcx_str_eq(sipcx__dlg_tag(sipcx_msg_from(resp)), p.local->tag) || !rcseq ||
	    rcseq->num != cseq->num || !sipcx_str_eq(rcseq->method, cseq->method))
		return -EINVAL;
	p.local_tag = p.local->tag;
	p.remote_tag = rto->tag;
	if (!sipcx__dlg_is_token(p.local_tag) || !sipcx__dlg_is_token(p.remote_tag))
		return -EBADMSG;
	p.target = SIPCX_STR_NULL;
	int r = contact_uri(resp, &p.target);
	if (r < 0)
		return r;
	/* A 1xx may come without Contact (the target comes later); a 2xx must have one (13.3.1.4). */
	if (r == 0 && resp->status >= 200)
		return -EBADMSG;
	r = read_routes(resp, true, &p.routes);
	if (r < 0)
		return r;

	struct sipcx_dialog *d;
	r = build(&d, &p);
	if (r < 0)
		return r;
	d->uac = true;
	d->secure = is_sips_ruri(req);
	d->local_cseq = cseq->num;
	d->create_cseq = cseq->num;
	d->create_method = (uint8_t)sipcx_msg_cseq_method(req);
	d->state = resp->status < 200 ? SIPCX_DIALOG_EARLY : SIPCX_DIALOG_CONFIRMED;
	*out = d;
	return 0;
}

int sipcx_dialog_new_uas(struct sipcx_dialog **out, const struct sipcx_msg *req,
                         struct sipcx_str local_tag, bool confirmed)
{
	if (!out || !req || !req->request || !creates_dialogs(req) ||
	    !sipcx__dlg_is_token(local_tag))
		return -EINVAL;
	struct parts p;
	p.call_id = sipcx_msg_call_id(req);
	p.local = sipcx_msg_to(req);
	p.remote = sipcx_msg_from(req);
	const struct sipcx_cseq *cseq = sipcx_msg_cseq(req);
	if (!call_id_ok(p.call_id) || !addr_ok(p.local) || !addr_ok(p.remote) || !cseq)
		return -EBADMSG;
	/* A To tag means the request is in a dialog already (12.2). */
	if (p.local->tag.len)
		return -EINVAL;
	p.local_tag = local_tag;
	/* An RFC 2543 peer may send no From tag: the remote tag is then empty (12.1.1). */
	p.remote_tag = p.remote->tag;
	if (p.remote_tag.len && !sipcx__dlg_is_token(p.remote_tag))
		return -EBADMSG;
	p.target = SIPCX_STR_NULL;
	int r = contact_uri(req, &p.target);
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	r = read_routes(req, false, &p.routes);
	if (r < 0)
		return r;

	struct sipcx_dialog *d;
	r = build(&d, &p);
	if (r < 0)
		return r;
	d->secure = is_sips_ruri(req);
	d->remote_cseq = cseq->num;
	d->has_remote_cseq = true;
	d->create_method = SIPCX__DLG_NO_METHOD;
	d->state = confirmed ? SIPCX_DIALOG_CONFIRMED : SIPCX_DIALOG_EARLY;
	*out = d;
	return 0;
}

void sipcx_dialog_free(struct sipcx_dialog *d)
{
	if (!d)
		return;
	if (d->var_own)
		sipcx_free(d->var);
	sipcx_free(d);
}

/*
 * Accessors.
 */

enum sipcx_dialog_state sipcx_dialog_state(const struct sipcx_dialog *d)
{
	return d ? (enum sipcx_dialog_state)d->state : SIPCX_DIALOG_TERMINATED;
}

const char *sipcx_dialog_state_name(enum sipcx_dialog_state s)
{
	switch (s) {
	case SIPCX_DIALOG_EARLY:
		return "early";
	case SIPCX_DIALOG_CONFIRMED:
		return "confirmed";
	case SIPCX_DIALOG_TERMINATED:
		return "terminated";
	}
	return "unknown";
}

struct sipcx_str sipcx_dialog_call_id(const struct sipcx_dialog *d)
{
	return d ? sipcx__dlg_fixed(d, d->call_id) : SIPCX_STR_NULL;
}

struct sipcx_str sipcx_dialog_local_tag(const struct sipcx_dialog *d)
{
	return d ? sipcx__dlg_fixed(d, d->local_tag) : SIPCX_STR_NULL;
}

struct sipcx_str sipcx_dialog_remote_tag(const struct sipcx_dialog *d)
{
	return d ? sipcx__dlg_fixed(d, d->remote_tag) : SIPCX_STR_NULL;
}

struct sipcx_str sipcx_dialog_local_uri(const struct sipcx_dialog *d)
{
	return d ? sipcx__dlg_fixed(d, d->local_uri) : SIPCX_STR_NULL;
}

struct sipcx_str sipcx_dialog_remote_uri(const struct sipcx_dialog *d)
{
	return d ? sipcx__dlg_fixed(d, d->remote_uri) : SIPCX_STR_NULL;
}

struct sipcx_str sipcx_dialog_remote_target(const struct sipcx_dialog *d)
{
	if (!d || !d->target.len)
		return SIPCX_STR_NULL;
	struct sipcx_str t = sipcx__dlg_var(d, d->target);
	return (struct sipcx_str){ t.p + 1, t.len - 2 };
}

uint32_t sipcx_dialog_local_cseq(const struct sipcx_dialog *d)
{
	return d ? d->local_cseq : 0;
}

uint32_t sipcx_dialog_remote_cseq(const struct sipcx_dialog *d)
{
	return d && d->has_remote_cseq ? d->remote_cseq : 0;
}

bool sipcx_dialog_has_remote_cseq(const struct sipcx_dialog *d)
{
	return d && d->has_remote_cseq;
}

size_t sipcx_dialog_route_count(const struct sipcx_dialog *d)
{
	return d ? d->nroutes : 0;
}

struct sipcx_str sipcx_dialog_route(const struct sipcx_dialog *d, size_t i)
{
	if (!d || i >= d->nroutes)
		return SIPCX_STR_NULL;
	return sipcx__dlg_var(d, d->route[i]);
}

bool sipcx_dialog_secure(const struct sipcx_dialog *d)
{
	return d && d->secure;
}

bool sipcx_dialog_is_uac(const struct sipcx_dialog *d)
{
	return d && d->uac;
}

/*
 * State changes and updates.
 */

void sipcx_dialog_confirm(struct sipcx_dialog *d)
{
	if (d && d->state == SIPCX_DIALOG_EARLY)
		d->state = SIPCX_DIALOG_CONFIRMED;
}

void sipcx_dialog_terminate(struct sipcx_dialog *d)
{
	if (d)
		d->state = SIPCX_DIALOG_TERMINATED;
}

/* RFC 3261 12.2 (INVITE), RFC 3311 (UPDATE), RFC 6665 4.1 (SUBSCRIBE, NOTIFY), RFC 3515 (REFER). */
static bool is_target_refresh(enum sipcx_method m)
{
	return m == SIPCX_METHOD_INVITE || m == SIPCX_METHOD_UPDATE ||
	       m == SIPCX_METHOD_SUBSCRIBE || m == SIPCX_METHOD_NOTIFY || m == SIPCX_METHOD_REFER;
}

/* The Contact of m, if any, becomes the remote target; -EBADMSG when unusable. */
static int refresh_target(struct sipcx_dialog *d, const struct sipcx_msg *m)
{
	struct sipcx_str target;
	int r = contact_uri(m, &target);
	if (r <= 0)
		return r;
	return set_target(d, target);
}

int sipcx_dialog_recv_response(struct sipcx_dialog *d, const struct sipcx_msg *resp)
{
	if (!d || !resp || resp->request || d->state == SIPCX_DIALOG_TERMINATED ||
	    !sipcx_dialog_match_response(d, resp))
		return -EINVAL;
	const struct sipcx_cseq *cseq = sipcx_msg_cseq(resp);
	if (!cseq)
		return -EBADMSG;
	enum sipcx_method method = sipcx_msg_cseq_method(resp);
	bool creating = d->uac && cseq->num == d->create_cseq && method == d->create_method;
	bool early = d->state == SIPCX_DIALOG_EARLY;
	uint16_t status = resp->status;

	if (status < 200) {
		/* A 100 is hop by hop: only the UAS's 1xx speak for the dialog. */
		if (status > 100 && creating && early)
			return refresh_target(d, resp);
		return 0;
	}
	if (status < 300) {
		if (creating && early) {
			/*
			 * 13.2.2.4: the 2xx confirms the dialog and its route set is
			 * recomputed from it: a proxy may record-route the 2xx and
			 * not the 1xx (and the 1xx may come from elsewhere).
			 */
			struct routes rs;
			struct sipcx_str target;
			int r = contact_uri(resp, &target);
			if (r <= 0)
				return r < 0 ? r : -EBADMSG;
			r = read_routes(resp, true, &rs);
			if (r < 0)
				return r;
			r = var_set(d, rs.uri, rs.n, target);
			if (r < 0)
				return r;
			d->state = SIPCX_DIALOG_CONFIRMED;
			return 0;
		}
		/* 12.2.1.2: a 2xx to a target refresh request carries the new target. */
		if (is_target_refresh(method))
			return refresh_target(d, resp);
		return 0;
	}
	/*
	 * 12.2.1.2: 481 (the peer knows no such dialog) and 408 end it. 12.3:
	 * a final non-2xx to the request that created an early dialog ends it.
	 */
	if (status == 481 || status == 408 || (creating && early))
		d->state = SIPCX_DIALOG_TERMINATED;
	return 0;
}

int sipcx_dialog_recv_request(struct sipcx_dialog *d, const struct sipcx_msg *req, uint16_t *status)
{
	if (!d || !req || !status || !req->request || d->state == SIPCX_DIALOG_TERMINATED)
		return -EINVAL;
	*status = 0;
	/* ACK and CANCEL carry the CSeq of their INVITE: no ordering to check (12.2.2). */
	if (req->method == SIPCX_METHOD_ACK || req->method == SIPCX_METHOD_CANCEL)
		return 0;
	const struct sipcx_cseq *cseq = sipcx_msg_cseq(req);
	if (!cseq) {
		*status = 400;
		return 0;
	}
	/* 12.2.2: lower is out of order. Equal is a retransmission: accepted, nothing moves. */
	if (d->has_remote_cseq && cseq->num < d->remote_cseq) {
		*status = 500;
		return 0;
	}
	if (is_target_refresh(req->method)) {
		/*
		 * 12.2.2: the Contact replaces the remote target "if present"; one
		 * we cannot use (malformed, not sip/sips, too long) leaves the old
		 * target, which still reaches the peer. Only memory fails it.
		 */
		int r = refresh_target(d, req);
		if (r == -ENOMEM)
			return r;
	}
	if (!d->has_remote_cseq || cseq->num > d->remote_cseq) {
		d->remote_cseq = cseq->num;
		d->has_remote_cseq = true;
	}
	return 0;
}
