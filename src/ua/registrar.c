/* ua: embedded registrar with digest auth: users, bindings, REGISTER (RFC 3261 10.3). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ua/registrar.h"

/* ---- events ---- */

void sipcx__registrar_emit(struct sipcx_registrar *r, enum sipcx_registrar_event_type type,
                           const char *user, const char *contact, const char *method,
                           const struct sipcx_tp_addr *src, uint32_t expires, uint16_t status,
                           const struct sipcx_msg *req)
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

struct user *sipcx__registrar_user_find(struct sipcx_registrar *r, struct sipcx_str name)
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
void sipcx__registrar_prune(struct sipcx_registrar *r, struct user *u, uint64_t now)
{
	for (struct binding *b = u->bindings, *next; b; b = next) {
		next = b->next;
		if (b->expires_us > now)
			continue;
		sipcx__registrar_emit(r, SIPCX_REGISTRAR_EXPIRED, u->name, b->uri, NULL, &b->source,
		                      0, 0, NULL);
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
	struct user *u = sipcx__registrar_user_find(r, username);
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
	sipcx__registrar_emit(r, SIPCX_REGISTRAR_REJECTED, user, NULL, NULL, src, 0, status, req);
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
				sipcx__registrar_emit(r, SIPCX_REGISTRAR_AUTH_FAILED, name, NULL,
				                      NULL, &src, 0, 401, req);
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
	struct user *u = sipcx__registrar_user_find(r, to->uri.user);
	if (!u && !r->auth) {
		if (r->nopen >= REGISTRAR_MAX_OPEN_USERS)
			return reject(r, srv, name, &src, req, 503, "Too Many Users", NULL, 0);
		u = user_add(r, to->uri.user, NULL);
		r->nopen += u != NULL;
	}
	if (!u)
		return reject(r, srv, name, &src, req, r->auth ? 404 : 500, NULL, NULL, 0);
	sipcx__registrar_prune(r, u, now);

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
			sipcx__registrar_emit(r, SIPCX_REGISTRAR_REMOVED, u->name, b->uri, NULL,
			                      &src, 0, 0, req);
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
				sipcx__registrar_emit(r, SIPCX_REGISTRAR_REMOVED, u->name, b->uri,
				                      NULL, &src, 0, 0, req);
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
		sipcx__registrar_emit(r, fresh ? SIPCX_REGISTRAR_BOUND : SIPCX_REGISTRAR_REFRESHED,
		                      u->name, b->uri, NULL, &src, c->expires, 200, req);
	}
	respond_bindings(srv, u, now);
	return 0;
}

static void on_register(struct sipcx_ua_srv *srv, const struct sipcx_msg *req, void *arg)
{
	do_register(arg, srv, req);
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
	ua->proxy =
	    (struct ua_proxy){ .req = sipcx__proxy_req, .resp = sipcx__proxy_resp, .arg = r };
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
		struct user *u = sipcx__registrar_user_find(r, name);
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
	struct user *u = sipcx__registrar_user_find(ba->r, sipcx_str_c(ba->user));
	if (!u) {
		ba->result = -ENOENT;
		return;
	}
	uint64_t now = sipcx_now_us();
	sipcx__registrar_prune(ba->r, u, now);
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
