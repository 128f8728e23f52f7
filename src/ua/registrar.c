/* ua: embedded registrar with digest auth and a record-routing stateless proxy (RFC 3261 10.3, 16.6, 16.7, 16.11). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sipcx/auth.h>
#include <sipcx/reg.h>

#include "ua/ua.h"

#define REGISTRAR_MAX_CONTACTS 32
/* Users an open registrar (no --user) creates on demand, at most. */
#define REGISTRAR_MAX_OPEN_USERS 10000
/* Our Via branches: the cookie, then capitals, which sipcx_txn_gen_branch() never writes. */
#define PROXY_BRANCH "z9hG4bKSXP"

struct binding {
	char *uri;
	char *call_id;
	uint32_t cseq;
	uint64_t expires_us; /* sipcx_now_us() time */
	uint64_t updated_us;
	struct sipcx_tp_addr source;
	uint64_t conn;
	struct binding *next;
};

struct user {
	char *name;
	char *password; /* NULL: open registrar */
	struct binding *bindings;
	unsigned n;
	struct user *next;
};

struct sipcx_registrar {
	struct sipcx_ua *ua;
	struct sipcx_auth_server *auth; /* NULL: anyone registers */
	char *realm;
	struct user *users;
	unsigned nopen; /* users created by an open registrar */
	uint32_t min_s, max_s, def_s;
	unsigned max_bindings;
	unsigned algs;
	sipcx_registrar_cb *cb;
	void *arg;
	struct ua_closer closer;
	uint64_t key; /* salt of our branch hashes */
	bool attached;
};

/* ---- events ---- */

static void emit(struct sipcx_registrar *r, enum sipcx_registrar_event_type type, const char *user,
                 const char *contact, const char *method, const struct sipcx_tp_addr *src,
                 uint32_t expires, uint16_t status, const struct sipcx_msg *req)
{
	if (!r->cb)
		return;
	char source[SIPCX_ADDRSTRLEN + 8] = "";
	if (src && sipcx_tp_addr_print(src, source, sizeof(source)) < 0)
		source[0] = '\0';
	char call_id[128] = "";
	const struct sipcx_cseq *cs = req ? sipcx_msg_cseq(req) : NULL;
	if (req)
		snprintf(call_id, sizeof(call_id), "%.*s", SIPCX_STR_FMT(sipcx_msg_call_id(req)));
	struct sipcx_registrar_event ev = {
		.type = type,
		.user = user ? user : "",
		.contact = contact ? contact : "",
		.method = method ? method : "REGISTER",
		.source = source,
		.expires_s = expires,
		.status = status,
		.cseq = cs ? cs->num : 0,
		.call_id = call_id,
	};
	r->cb(&ev, r->arg);
}

/* ---- users and bindings ---- */

static struct user *user_find(struct sipcx_registrar *r, struct sipcx_str name)
{
	for (struct user *u = r->users; u; u = u->next)
		if (sipcx_str_eq(sipcx_str_c(u->name), name))
			return u;
	return NULL;
}

static struct user *user_add(struct sipcx_registrar *r, struct sipcx_str name, const char *pw)
{
	struct user *u = sipcx_calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->name = sipcx_str_dup(name);
	u->password = pw ? sipcx_strdup(pw) : NULL;
	if (!u->name || (pw && !u->password)) {
		sipcx_free(u->name);
		sipcx_free(u->password);
		sipcx_free(u);
		return NULL;
	}
	u->next = r->users;
	r->users = u;
	return u;
}

static void binding_free(struct binding *b)
{
	sipcx_free(b->uri);
	sipcx_free(b->call_id);
	sipcx_free(b);
}

static void binding_remove(struct user *u, struct binding *b)
{
	for (struct binding **pp = &u->bindings; *pp; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			u->n--;
			binding_free(b);
			return;
		}
	}
}

/* Bindings expire when looked at: no timer to keep. */
static void prune(struct sipcx_registrar *r, struct user *u, uint64_t now)
{
	for (struct binding *b = u->bindings, *next; b; b = next) {
		next = b->next;
		if (b->expires_us > now)
			continue;
		emit(r, SIPCX_REGISTRAR_EXPIRED, u->name, b->uri, NULL, &b->source, 0, 0, NULL);
		binding_remove(u, b);
	}
}

static struct binding *binding_find(struct user *u, const struct sipcx_uri *uri)
{
	for (struct binding *b = u->bindings; b; b = b->next) {
		struct sipcx_uri bu;
		if (sipcx_uri_parse(&bu, sipcx_str_c(b->uri)) == 0 && sipcx_uri_equal(&bu, uri))
			return b;
	}
	return NULL;
}

static int lookup_secret(struct sipcx_str username, struct sipcx_str realm, enum sipcx_auth_alg alg,
                         bool userhash, struct sipcx_auth_secret *secret, void *arg)
{
	struct sipcx_registrar *r = arg;
	(void)realm;
	(void)alg;
	if (userhash)
		return -ENOENT;
	struct user *u = user_find(r, username);
	if (!u || !u->password)
		return -ENOENT;
	secret->password = sipcx_str_c(u->password);
	return 0;
}

/* ---- REGISTER (RFC 3261 10.3) ---- */

static void respond(struct sipcx_ua_srv *srv, uint16_t status, const char *reason,
                    const struct sipcx_hdr *hdrs, size_t n)
{
	sipcx_ua_respond(srv, status, reason, hdrs, n, NULL, SIPCX_STR_NULL);
}

static void challenge(struct sipcx_registrar *r, struct sipcx_ua_srv *srv, bool stale)
{
	static const enum sipcx_auth_alg order[] = {
		SIPCX_AUTH_SHA512_256, SIPCX_AUTH_SHA512_256_SESS,
		SIPCX_AUTH_SHA256,     SIPCX_AUTH_SHA256_SESS,
		SIPCX_AUTH_MD5,        SIPCX_AUTH_MD5_SESS,
	};
	struct sipcx_buf b;
	size_t end[SIPCX_ARRAY_SIZE(order)];
	size_t n = 0;
	uint64_t now_s = sipcx_now_us() / 1000000u;
	sipcx_buf_init(&b);
	/* RFC 8760 3: one challenge per algorithm, the preferred first. */
	for (size_t i = 0; i < SIPCX_ARRAY_SIZE(order); i++) {
		if (!(r->algs & (1u << order[i])))
			continue;
		if (sipcx_auth_server_challenge(r->auth, now_s, order[i], stale, &b) == 0)
			end[n++] = b.len;
	}
	struct sipcx_hdr hdrs[SIPCX_ARRAY_SIZE(order)];
	for (size_t i = 0; i < n; i++) {
		size_t start = i ? end[i - 1] : 0;
		hdrs[i] = (struct sipcx_hdr){ SIPCX_HDR_WWW_AUTHENTICATE,
			                      SIPCX_STR_NULL,
			                      { b.p + start, end[i] - start } };
	}
	if (n && !sipcx_buf_err(&b))
		respond(srv, 401, NULL, hdrs, n);
	else
		respond(srv, 500, "Cannot Challenge", NULL, 0);
	sipcx_buf_free(&b);
}

/* 200 with every binding of u and its remaining time (RFC 3261 10.3 step 8). */
static void respond_bindings(struct sipcx_ua_srv *srv, struct user *u, uint64_t now)
{
	struct sipcx_buf b;
	size_t ends[64];
	size_t n = 0;
	sipcx_buf_init(&b);
	for (struct binding *x = u ? u->bindings : NULL; x && n < SIPCX_ARRAY_SIZE(ends);
	     x = x->next) {
		uint64_t left =
		    x->expires_us > now ? (x->expires_us - now + 999999u) / 1000000u : 0;
		sipcx_buf_printf(&b, "<%s>;expires=%llu", x->uri, (unsigned long long)left);
		ends[n++] = b.len;
	}
	struct sipcx_hdr hdrs[SIPCX_ARRAY_SIZE(ends)];
	for (size_t i = 0; i < n && b.p; i++) {
		size_t start = i ? ends[i - 1] : 0;
		hdrs[i] = (struct sipcx_hdr){ SIPCX_HDR_CONTACT,
			                      SIPCX_STR_NULL,
			                      { b.p + start, ends[i] - start } };
	}
	if (sipcx_buf_err(&b))
		respond(srv, 500, NULL, NULL, 0);
	else
		respond(srv, 200, NULL, hdrs, b.p ? n : 0);
	sipcx_buf_free(&b);
}

struct contact_req {
	struct sipcx_addr a;
	uint32_t expires;
	struct binding *b;
};

static int reject(struct sipcx_registrar *r, struct sipcx_ua_srv *srv, const char *user,
                  const struct sipcx_tp_addr *src, const struct sipcx_msg *req, uint16_t status,
                  const char *reason, const struct sipcx_hdr *hdrs, size_t n)
{
	emit(r, SIPCX_REGISTRAR_REJECTED, user, NULL, NULL, src, 0, status, req);
	respond(srv, status, reason, hdrs, n);
	return 0;
}

/* Answers req (always, with exactly one final response); returns 0. */
static int do_register(struct sipcx_registrar *r, struct sipcx_ua_srv *srv,
                       const struct sipcx_msg *req)
{
	struct sipcx_tp_addr src;
	sipcx_ua_srv_source(srv, &src);
	uint64_t now = sipcx_now_us();

	const struct sipcx_addr *to = sipcx_msg_to(req);
	char name[128];
	if (!to || to->uri.user.len == 0 || to->uri.user.len >= sizeof(name)) {
		reject(r, srv, NULL, &src, req, 404, "No User In To", NULL, 0);
		return 0;
	}
	snprintf(name, sizeof(name), "%.*s", SIPCX_STR_FMT(to->uri.user));

	if (r->auth) {
		struct sipcx_auth_result res;
		int e = sipcx_auth_server_verify(r->auth, now / 1000000u, req, false, lookup_secret,
		                                 r, &res);
		if (e) {
			respond(srv, 500, NULL, NULL, 0);
			return 0;
		}
		if (res.verdict != SIPCX_AUTH_OK) {
			if (res.verdict == SIPCX_AUTH_BAD && res.username.len) {
				SIPCX_DEBUG("registrar: %s: %s", name, res.reason);
				emit(r, SIPCX_REGISTRAR_AUTH_FAILED, name, NULL, NULL, &src, 0, 401,
				     req);
			}
			challenge(r, srv, res.verdict == SIPCX_AUTH_STALE);
			return 0;
		}
		/* The authenticated user may only bind its own address-of-record. */
		if (!sipcx_str_eq(res.username, to->uri.user)) {
			reject(r, srv, name, &src, req, 403, "Forbidden Auth ID", NULL, 0);
			return 0;
		}
	}
	struct user *u = user_find(r, to->uri.user);
	if (!u && !r->auth) {
		if (r->nopen >= REGISTRAR_MAX_OPEN_USERS)
			return reject(r, srv, name, &src, req, 503, "Too Many Users", NULL, 0);
		u = user_add(r, to->uri.user, NULL);
		r->nopen += u != NULL;
	}
	if (!u)
		return reject(r, srv, name, &src, req, r->auth ? 404 : 500, NULL, NULL, 0);
	prune(r, u, now);

	uint32_t hdr_exp = r->def_s;
	int e = sipcx_msg_expires(req, &hdr_exp);
	if (e == -ENOENT)
		hdr_exp = r->def_s;
	else if (e)
		return reject(r, srv, name, &src, req, 400, "Bad Expires", NULL, 0);
	bool has_expires = e == 0;
	const struct sipcx_cseq *cseq = sipcx_msg_cseq(req);
	struct sipcx_str call_id = sipcx_msg_call_id(req);

	struct contact_req cs[REGISTRAR_MAX_CONTACTS];
	size_t n = 0;
	bool star = false;
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	int k;
	struct sipcx_addr a;
	while ((k = sipcx_msg_contact_next(req, &it, &a)) != 0) {
		if (k < 0)
			return reject(r, srv, name, &src, req, 400, "Bad Contact", NULL, 0);
		if (n == REGISTRAR_MAX_CONTACTS)
			return reject(r, srv, name, &src, req, 400, "Too Many Contacts", NULL, 0);
		star |= a.star;
		cs[n++].a = a;
	}
	/* RFC 3261 10.3 step 6: "*" alone and only with Expires: 0. */
	if (star) {
		if (n != 1 || !has_expires || hdr_exp != 0)
			return reject(r, srv, name, &src, req, 400, "Invalid Contact *", NULL, 0);
		for (struct binding *b = u->bindings, *next; b; b = next) {
			next = b->next;
			if (sipcx_str_eq(sipcx_str_c(b->call_id), call_id) && cseq &&
			    cseq->num <= b->cseq)
				continue;
			emit(r, SIPCX_REGISTRAR_REMOVED, u->name, b->uri, NULL, &src, 0, 0, req);
			binding_remove(u, b);
		}
		respond_bindings(srv, u, now);
		return 0;
	}
	/* Check every Contact before changing anything: a request applies whole or not at all. */
	unsigned adds = 0;
	for (size_t i = 0; i < n; i++) {
		struct contact_req *c = &cs[i];
		struct sipcx_str ev;
		uint64_t v = hdr_exp;
		if (sipcx_param_get(c->a.params, "expires", &ev) &&
		    sipcx_str_to_u64(sipcx_str_trim(ev), UINT32_MAX, &v) != 0)
			return reject(r, srv, name, &src, req, 400, "Bad Contact expires", NULL, 0);
		if (c->a.uri.scheme != SIPCX_URI_SIP || c->a.uri.raw.len >= 256)
			return reject(r, srv, name, &src, req, 400, "Unsupported Contact", NULL, 0);
		if (v && v < r->min_s) {
			/* RFC 3261 10.3 step 7: 423 with the shortest we accept. */
			char min[16];
			snprintf(min, sizeof(min), "%u", r->min_s);
			struct sipcx_hdr h = { SIPCX_HDR_MIN_EXPIRES, SIPCX_STR_NULL,
				               sipcx_str_c(min) };
			return reject(r, srv, name, &src, req, 423, NULL, &h, 1);
		}
		c->expires = v > r->max_s ? r->max_s : (uint32_t)v;
		c->b = binding_find(u, &c->a.uri);
		if (c->b && sipcx_str_eq(sipcx_str_c(c->b->call_id), call_id) &&
		    (!cseq || cseq->num <= c->b->cseq))
			return reject(r, srv, name, &src, req, 500, "CSeq Out Of Order", NULL, 0);
		if (!c->b && c->expires)
			adds++;
	}
	if (u->n + adds > r->max_bindings)
		return reject(r, srv, name, &src, req, 503, "Too Many Bindings", NULL, 0);
	for (size_t i = 0; i < n; i++) {
		struct contact_req *c = &cs[i];
		struct binding *b = c->b;
		if (c->expires == 0) {
			if (b) {
				emit(r, SIPCX_REGISTRAR_REMOVED, u->name, b->uri, NULL, &src, 0, 0,
				     req);
				binding_remove(u, b);
			}
			continue;
		}
		bool fresh = !b;
		if (fresh) {
			b = sipcx_calloc(1, sizeof(*b));
			if (!b || !(b->uri = sipcx_str_dup(c->a.uri.raw))) {
				sipcx_free(b);
				return reject(r, srv, name, &src, req, 500, NULL, NULL, 0);
			}
			b->next = u->bindings;
			u->bindings = b;
			u->n++;
		}
		char *cid = sipcx_str_dup(call_id);
		if (cid) {
			sipcx_free(b->call_id);
			b->call_id = cid;
		}
		b->cseq = cseq ? cseq->num : 0;
		b->expires_us = now + (uint64_t)c->expires * 1000000u;
		b->updated_us = now;
		b->source = src;
		b->conn = srv->conn;
		emit(r, fresh ? SIPCX_REGISTRAR_BOUND : SIPCX_REGISTRAR_REFRESHED, u->name, b->uri,
		     NULL, &src, c->expires, 200, req);
	}
	respond_bindings(srv, u, now);
	return 0;
}

static void on_register(struct sipcx_ua_srv *srv, const struct sipcx_msg *req, void *arg)
{
	do_register(arg, srv, req);
}

/* ---- the stateless proxy (RFC 3261 16.11) ---- */

/* Is host:port one of our listen addresses (or the realm, as a domain)? */
static bool is_us(struct sipcx_registrar *r, const struct sipcx_uri *u)
{
	struct sipcx_ua *ua = r->ua;
	uint16_t port = u->port ? u->port : 5060;
	union sipcx_sa sa;
	if (sipcx_sa_set(&sa, u->host, port) != 0)
		return sipcx_str_ieq_c(u->host, r->realm) || sipcx_str_ieq_c(u->host, "localhost");
	for (size_t i = 0; i < ua->nbound; i++) {
		const struct sipcx_tp_addr *b = &ua->bound[i];
		if (sipcx_sa_port(&b->sa.sa) != port || b->sa.sa.sa_family != sa.sa.sa_family)
			continue;
		if (sipcx_sa_equal_host(&b->sa.sa, &sa.sa))
			return true;
		/* A wildcard listener: the address is ours when the kernel would send to it from it. */
		struct sipcx_tp_addr d = { b->proto, sa };
		union sipcx_sa local;
		if (sipcx_sa_is_any(&b->sa.sa) && sipcx_transport_local(ua->tp, &d, &local) == 0 &&
		    sipcx_sa_equal_host(&local.sa, &sa.sa))
			return true;
	}
	return false;
}

/* The transport address a URI points at (numeric hosts only: no resolver on the loop). */
static int uri_dst(const struct sipcx_uri *u, struct sipcx_tp_addr *dst)
{
	struct sipcx_str tp;
	dst->proto = SIPCX_TP_UDP;
	if (sipcx_uri_param(u, "transport", &tp)) {
		dst->proto = sipcx_tp_lookup(tp);
		if (dst->proto == SIPCX_TP_NONE)
			return -EPROTONOSUPPORT;
	}
	return sipcx_sa_set(&dst->sa, u->host, u->port ? u->port : 5060);
}

/* A line's value with its first comma-separated element removed (empty: drop the line). */
static struct sipcx_str drop_first(struct sipcx_str v)
{
	struct sipcx_str rest = v, item;
	if (sipcx_hdr_split(&rest, &item) <= 0)
		return SIPCX_STR_NULL;
	while (rest.len && (rest.p[0] == ',' || rest.p[0] == ' ' || rest.p[0] == '\t'))
		rest.p++, rest.len--;
	return sipcx_str_trim(rest);
}

static bool proxy_req(struct sipcx_ua *ua, const struct sipcx_tp_pkt *pkt,
                      const struct ua_origin *og, void *arg)
{
	struct sipcx_registrar *r = arg;
	const struct sipcx_msg *m = pkt->msg;
	if (m->method == SIPCX_METHOD_REGISTER)
		return false;
	const struct sipcx_uri *ruri = sipcx_msg_ruri(m);
	const struct sipcx_via *via = sipcx_msg_via(m);
	const struct sipcx_addr *to = sipcx_msg_to(m);
	if (!ruri || ruri->scheme != SIPCX_URI_SIP || !via || !to)
		return false;
	bool ack = m->method == SIPCX_METHOD_ACK;

	/* Route (RFC 3261 16.4): our own entry on top is removed; the next one is the hop. */
	bool popped = false, routed = false;
	struct sipcx_uri hop;
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_str v;
	const struct sipcx_hdr *route_line = sipcx_msg_hdr(m, SIPCX_HDR_ROUTE);
	for (int i = 0; sipcx_msg_value_next(m, SIPCX_HDR_ROUTE, &it, &v) == 1 && i < 2; i++) {
		struct sipcx_addr ra;
		if (sipcx_addr_parse(&ra, v) != 0)
			break;
		if (i == 0 && is_us(r, &ra.uri)) {
			popped = true;
			continue;
		}
		hop = ra.uri;
		routed = true;
		break;
	}

	char target[512];
	struct sipcx_str new_ruri = m->ruri;
	const struct binding *bnd = NULL;
	const char *user_name = NULL;
	if (!routed) {
		if (is_us(r, ruri)) {
			if (!ruri->user.len)
				return false; /* for the registrar itself: the UA answers */
			struct user *u = user_find(r, ruri->user);
			if (u)
				prune(r, u, sipcx_now_us());
			if (!u || !u->bindings) {
				if (!ack)
					sipcx__ua_reply(ua, og, m, u ? 480 : 404, NULL, NULL, 0);
				return true;
			}
			/* No forking: the most recently registered Contact. */
			for (const struct binding *b = u->bindings; b; b = b->next)
				if (!bnd || b->updated_us > bnd->updated_us)
					bnd = b;
			user_name = u->name;
			snprintf(target, sizeof(target), "%s", bnd->uri);
			new_ruri = sipcx_str_c(target);
			if (sipcx_uri_parse(&hop, new_ruri) != 0)
				return true;
		} else if (popped || to->tag.len) {
			hop = *ruri;
		} else {
			if (!ack)
				sipcx__ua_reply(ua, og, m, 403, "Relaying Denied", NULL, 0);
			return true;
		}
	}
	uint32_t mf = 70;
	int e = sipcx_msg_max_forwards(m, &mf);
	if (e == 0 && mf == 0) {
		if (!ack)
			sipcx__ua_reply(ua, og, m, 483, NULL, NULL, 0);
		return true;
	}
	if (e)
		mf = 70;
	struct sipcx_tp_addr dst;
	uint64_t conn = 0;
	if (uri_dst(&hop, &dst) != 0) {
		if (!bnd) {
			if (!ack)
				sipcx__ua_reply(ua, og, m, 502, "Cannot Resolve", NULL, 0);
			return true;
		}
		dst = bnd->source; /* a Contact by name: where its REGISTER came from */
	}
	if (bnd && bnd->source.proto == dst.proto && sipcx_sa_equal(&bnd->source.sa.sa, &dst.sa.sa))
		conn = bnd->conn;
	if (is_us(r, &hop)) {
		if (!ack)
			sipcx__ua_reply(ua, og, m, 482, "Loop Detected", NULL, 0);
		return true;
	}

	/* RFC 3261 16.11: the same branch for a retransmission, its CANCEL and its non-2xx ACK. */
	uint64_t h = sipcx__fnv64_str(SIPCX__FNV64_INIT ^ r->key, via->branch);
	if (!sipcx_str_eq((struct sipcx_str){ via->branch.p, via->branch.len < 7 ? 0 : 7 },
	                  SIPCX_STR("z9hG4bK"))) {
		h = sipcx__fnv64_str(h, via->raw);
		h = sipcx__fnv64_str(h, sipcx_msg_call_id(m));
		h = sipcx__fnv64_str(h, m->ruri);
	}
	char hostport[SIPCX_ADDRSTRLEN], myvia[256], mf_s[12], rr[SIPCX_ADDRSTRLEN + 40];
	if (sipcx__ua_local(ua, &dst, hostport, sizeof(hostport), NULL, 0) != 0) {
		if (!ack)
			sipcx__ua_reply(ua, og, m, 503, "No Route", NULL, 0);
		return true;
	}
	if (og->src.proto == SIPCX_TP_TCP)
		snprintf(myvia, sizeof(myvia),
		         "SIP/2.0/%s %s;branch=" PROXY_BRANCH "%016llx;sxc=%llu",
		         sipcx_tp_name(dst.proto), hostport, (unsigned long long)h,
		         (unsigned long long)og->conn);
	else
		snprintf(myvia, sizeof(myvia), "SIP/2.0/%s %s;branch=" PROXY_BRANCH "%016llx",
		         sipcx_tp_name(dst.proto), hostport, (unsigned long long)h);
	snprintf(mf_s, sizeof(mf_s), "%u", mf - 1);
	/* RFC 3261 16.6 step 4: stay on the path of the dialog this request creates. */
	bool record = !to->tag.len &&
	              (m->method == SIPCX_METHOD_INVITE || m->method == SIPCX_METHOD_SUBSCRIBE ||
	               m->method == SIPCX_METHOD_REFER);
	/* The address the request came in on; for a wildcard listener, ours toward the sender. */
	char lhp[SIPCX_ADDRSTRLEN];
	int lr = sipcx_sa_is_any(pkt->local)
	             ? sipcx__ua_local(ua, &og->src, lhp, sizeof(lhp), NULL, 0)
	             : (sipcx_sa_print(pkt->local, lhp, sizeof(lhp)) > 0 ? 0 : -EINVAL);
	if (record && lr == 0)
		snprintf(rr, sizeof(rr), "<sip:%s;lr%s>", lhp,
		         pkt->proto == SIPCX_TP_TCP ? ";transport=tcp" : "");
	else
		record = false;

	struct sipcx_hdr *hdrs = sipcx_calloc(m->hdr_count + 3, sizeof(*hdrs));
	struct sipcx_buf topvia;
	sipcx_buf_init(&topvia);
	if (!hdrs) {
		if (!ack)
			sipcx__ua_reply(ua, og, m, 500, NULL, NULL, 0);
		return true;
	}
	size_t n = 0;
	hdrs[n++] = (struct sipcx_hdr){ SIPCX_HDR_VIA, SIPCX_STR_NULL, sipcx_str_c(myvia) };
	if (record)
		hdrs[n++] =
		    (struct sipcx_hdr){ SIPCX_HDR_RECORD_ROUTE, SIPCX_STR_NULL, sipcx_str_c(rr) };
	const struct sipcx_hdr *first_via = sipcx_msg_hdr(m, SIPCX_HDR_VIA);
	bool has_mf = false;
	for (size_t i = 0; i < m->hdr_count; i++) {
		struct sipcx_hdr x = m->hdrs[i];
		if (&m->hdrs[i] == first_via && og->via_extra[0]) {
			/* RFC 3581 4: received/rport on the Via we received, for the way back. */
			const char *end = via->raw.p + via->raw.len;
			sipcx_buf_append(&topvia, x.value.p, (size_t)(via->raw.p - x.value.p));
			sipcx_tp_via_apply(via, og->via_extra, &topvia);
			sipcx_buf_append(&topvia, end, x.value.len - (size_t)(end - x.value.p));
			if (!sipcx_buf_err(&topvia))
				x.value = (struct sipcx_str){ topvia.p, topvia.len };
		} else if (x.id == SIPCX_HDR_MAX_FORWARDS) {
			if (has_mf)
				continue;
			has_mf = true;
			x.value = sipcx_str_c(mf_s);
		} else if (popped && &m->hdrs[i] == route_line) {
			x.value = drop_first(x.value);
			if (!x.value.len)
				continue;
		}
		hdrs[n++] = x;
	}
	if (!has_mf)
		hdrs[n++] =
		    (struct sipcx_hdr){ SIPCX_HDR_MAX_FORWARDS, SIPCX_STR_NULL, sipcx_str_c(mf_s) };
	struct sipcx_buf out;
	sipcx_buf_init(&out);
	e = sipcx_msg_print_request(&out, m->method_str, new_ruri, hdrs, n, m->body);
	if (!e)
		e = sipcx_transport_send(ua->tp, &dst, conn, out.p, out.len);
	if (e) {
		SIPCX_DEBUG("registrar: cannot forward %.*s: %s", SIPCX_STR_FMT(m->method_str),
		            sipcx_strerror(e));
		if (!ack)
			sipcx__ua_reply(ua, og, m, 503, "Forwarding Failed", NULL, 0);
	} else {
		ua->stats.tx_requests++;
		char method[32], ru[512];
		snprintf(method, sizeof(method), "%.*s", SIPCX_STR_FMT(m->method_str));
		snprintf(ru, sizeof(ru), "%.*s", SIPCX_STR_FMT(new_ruri));
		emit(r, SIPCX_REGISTRAR_ROUTED, user_name, ru, method, &og->src, 0, 0, m);
	}
	sipcx_buf_free(&out);
	sipcx_buf_free(&topvia);
	sipcx_free(hdrs);
	return true;
}

static bool proxy_resp(struct sipcx_ua *ua, const struct sipcx_tp_pkt *pkt, void *arg)
{
	(void)arg;
	const struct sipcx_msg *m = pkt->msg;
	const struct sipcx_via *via = sipcx_msg_via(m);
	if (!via || via->branch.len < sizeof(PROXY_BRANCH) - 1 ||
	    memcmp(via->branch.p, PROXY_BRANCH, sizeof(PROXY_BRANCH) - 1) != 0)
		return false;
	/* RFC 3261 16.7 step 3: remove our Via; the next one says where the response goes. */
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_str v;
	struct sipcx_via next;
	if (sipcx_msg_value_next(m, SIPCX_HDR_VIA, &it, &v) != 1 ||
	    sipcx_msg_value_next(m, SIPCX_HDR_VIA, &it, &v) != 1 || sipcx_via_parse(&next, v) != 0)
		return true; /* ours, but nowhere to go: drop */
	struct sipcx_tp_addr dst;
	dst.proto = sipcx_tp_lookup(next.transport);
	uint16_t port = next.rport > 0 ? (uint16_t)next.rport : (next.port ? next.port : 5060);
	if (dst.proto == SIPCX_TP_NONE ||
	    sipcx_sa_set(&dst.sa, next.received.len ? next.received : next.host, port) != 0)
		return true;
	uint64_t conn = 0;
	struct sipcx_str c;
	uint64_t cv;
	if (sipcx_param_get(via->params, "sxc", &c) && sipcx_str_to_u64(c, UINT64_MAX, &cv) == 0)
		conn = cv;

	struct sipcx_hdr *hdrs = sipcx_calloc(m->hdr_count + 1, sizeof(*hdrs));
	if (!hdrs)
		return true;
	const struct sipcx_hdr *first_via = sipcx_msg_hdr(m, SIPCX_HDR_VIA);
	size_t n = 0;
	for (size_t i = 0; i < m->hdr_count; i++) {
		struct sipcx_hdr x = m->hdrs[i];
		if (&m->hdrs[i] == first_via) {
			x.value = drop_first(x.value);
			if (!x.value.len)
				continue;
		}
		hdrs[n++] = x;
	}
	struct sipcx_buf out;
	sipcx_buf_init(&out);
	int e = sipcx_msg_print_response(&out, m->status, m->reason, hdrs, n, m->body);
	if (!e)
		e = sipcx_transport_send(ua->tp, &dst, conn, out.p, out.len);
	if (e)
		SIPCX_DEBUG("registrar: cannot forward %u: %s", m->status, sipcx_strerror(e));
	else
		ua->stats.tx_responses++;
	sipcx_buf_free(&out);
	sipcx_free(hdrs);
	return true;
}

/* ---- life cycle ---- */

static void on_ua_close(void *arg)
{
	struct sipcx_registrar *r = arg;
	r->attached = false;
}

struct attach_arg {
	struct sipcx_registrar *r;
	int result;
};

static void attach(void *arg)
{
	struct attach_arg *aa = arg;
	struct sipcx_registrar *r = aa->r;
	struct sipcx_ua *ua = r->ua;
	if (ua->proxy.req) {
		aa->result = -EEXIST;
		return;
	}
	aa->result = sipcx__ua_do_handle(ua, "REGISTER", 0, on_register, r);
	if (aa->result)
		return;
	ua->proxy = (struct ua_proxy){ .req = proxy_req, .resp = proxy_resp, .arg = r };
	r->closer = (struct ua_closer){ .close = on_ua_close, .arg = r };
	sipcx__ua_closer_add(ua, &r->closer);
	r->attached = true;
}

static void detach(void *arg)
{
	struct sipcx_registrar *r = arg;
	if (!r->attached)
		return;
	struct sipcx_ua *ua = r->ua;
	ua->proxy = (struct ua_proxy){ 0 };
	sipcx__ua_do_handle(ua, "REGISTER", 0, NULL, NULL);
	sipcx__ua_closer_del(&r->closer);
	r->attached = false;
}

static void registrar_destroy(struct sipcx_registrar *r)
{
	for (struct user *u = r->users, *next; u; u = next) {
		next = u->next;
		while (u->bindings)
			binding_remove(u, u->bindings);
		sipcx_free(u->name);
		sipcx_free(u->password);
		sipcx_free(u);
	}
	sipcx_auth_server_free(r->auth);
	sipcx_free(r->realm);
	sipcx_free(r);
}

static char *default_realm(struct sipcx_ua *ua)
{
	struct sipcx_tp_addr a;
	char host[SIPCX_ADDRSTRLEN];
	if (sipcx_ua_bound(ua, 0, &a) == 0 && !sipcx_sa_is_any(&a.sa.sa) &&
	    sipcx_sa_host(&a.sa.sa, host, sizeof(host)) > 0)
		return sipcx_strdup(host);
	return sipcx_strdup("sipcx");
}

int sipcx_registrar_new(struct sipcx_registrar **out, struct sipcx_ua *ua,
                        const struct sipcx_registrar_opts *opts)
{
	static const struct sipcx_registrar_opts defaults = { 0 };
	if (!out || !ua)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	if (opts->nusers && !opts->users)
		return -EINVAL;
	for (size_t i = 0; i < opts->nusers; i++) {
		const struct sipcx_registrar_user *x = &opts->users[i];
		if (!x->name || !*x->name || !x->password || strpbrk(x->name, "\r\n@:;<> "))
			return -EINVAL;
	}
	struct sipcx_registrar *r = sipcx_calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ua = ua;
	r->min_s = opts->min_expires_s ? opts->min_expires_s : 60;
	r->max_s = opts->max_expires_s ? opts->max_expires_s : 3600;
	r->def_s = opts->default_expires_s ? opts->default_expires_s : 3600;
	r->max_bindings = opts->max_bindings ? opts->max_bindings : 10;
	r->algs = opts->algs ? opts->algs : 1u << SIPCX_AUTH_MD5;
	r->cb = opts->cb;
	r->arg = opts->arg;
	if (r->min_s > r->max_s) {
		sipcx_free(r);
		return -EINVAL;
	}
	if (r->def_s > r->max_s)
		r->def_s = r->max_s;
	if (r->def_s < r->min_s)
		r->def_s = r->min_s;
	sipcx_random_bytes(&r->key, sizeof(r->key));
	r->realm = opts->realm ? sipcx_strdup(opts->realm) : default_realm(ua);
	int e = r->realm ? 0 : -ENOMEM;
	if (!e && strpbrk(r->realm, "\r\n\""))
		e = -EINVAL;
	for (size_t i = 0; !e && i < opts->nusers; i++) {
		struct sipcx_str name = sipcx_str_c(opts->users[i].name);
		struct user *u = user_find(r, name);
		if (u) {
			char *pw = sipcx_strdup(opts->users[i].password);
			if (!pw) {
				e = -ENOMEM;
				break;
			}
			sipcx_free(u->password);
			u->password = pw;
		} else if (!user_add(r, name, opts->users[i].password)) {
			e = -ENOMEM;
		}
	}
	if (!e && opts->nusers) {
		struct sipcx_auth_server_opts ao = { .realm = r->realm, .algs = r->algs };
		e = sipcx_auth_server_new(&r->auth, &ao);
	}
	struct attach_arg aa = { .r = r };
	if (!e)
		e = sipcx_ua_call(ua, attach, &aa);
	if (!e)
		e = aa.result;
	if (e) {
		registrar_destroy(r);
		return e;
	}
	*out = r;
	return 0;
}

void sipcx_registrar_free(struct sipcx_registrar *r)
{
	if (!r)
		return;
	sipcx_ua_call(r->ua, detach, r);
	registrar_destroy(r);
}

struct bindings_arg {
	struct sipcx_registrar *r;
	const char *user;
	struct sipcx_registrar_binding *out;
	size_t max, n;
	int result;
};

static void get_bindings(void *arg)
{
	struct bindings_arg *ba = arg;
	struct user *u = user_find(ba->r, sipcx_str_c(ba->user));
	if (!u) {
		ba->result = -ENOENT;
		return;
	}
	uint64_t now = sipcx_now_us();
	prune(ba->r, u, now);
	for (struct binding *b = u->bindings; b; b = b->next, ba->n++) {
		if (ba->n >= ba->max)
			continue;
		struct sipcx_registrar_binding *o = &ba->out[ba->n];
		memset(o, 0, sizeof(*o));
		snprintf(o->contact, sizeof(o->contact), "%s", b->uri);
		snprintf(o->call_id, sizeof(o->call_id), "%s", b->call_id ? b->call_id : "");
		o->cseq = b->cseq;
		o->expires_s = (uint32_t)((b->expires_us - now + 999999u) / 1000000u);
		o->source = b->source;
	}
}

int sipcx_registrar_bindings(struct sipcx_registrar *r, const char *user,
                             struct sipcx_registrar_binding *out, size_t max, size_t *n)
{
	if (!r || !user || !n || (max && !out))
		return -EINVAL;
	struct bindings_arg ba = { .r = r, .user = user, .out = out, .max = max };
	int e = sipcx_ua_call(r->ua, get_bindings, &ba);
	if (e)
		return e;
	*n = ba.n;
	return ba.result;
}
