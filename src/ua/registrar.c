/* ua: embedded registrar with digest auth: users, bindings, REGISTER (RFC 3261 10.3, RFC 3327, RFC 5626 6). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ua/registrar.h"

/* ---- events ---- */

static void emit_detail(struct sipcx_registrar *r, enum sipcx_registrar_event_type type,
                        const char *user, const char *contact, const char *method,
                        const struct sipcx_tp_addr *src, uint32_t expires, uint16_t status,
                        const struct sipcx_msg *req, const char *detail)
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
	char meth[32] = "";
	if (!method && req)
		snprintf(meth, sizeof(meth), "%.*s", SIPCX_STR_FMT(req->method_str));
	struct sipcx_registrar_event ev = {
		.type = type,
		.user = user ? user : "",
		.contact = contact ? contact : "",
		.method = method    ? method
		          : meth[0] ? meth
		                    : "REGISTER",
		.source = source,
		.expires_s = expires,
		.status = status,
		.cseq = cs ? cs->num : 0,
		.call_id = call_id,
		.detail = detail ? detail : "",
	};
	r->cb(&ev, r->arg);
}

void sipcx__registrar_emit(struct sipcx_registrar *r, enum sipcx_registrar_event_type type,
                           const char *user, const char *contact, const char *method,
                           const struct sipcx_tp_addr *src, uint32_t expires, uint16_t status,
                           const struct sipcx_msg *req)
{
	emit_detail(r, type, user, contact, method, src, expires, status, req, NULL);
}

void sipcx__registrar_limited(struct sipcx_registrar *r, const struct sipcx_tp_addr *src,
                              const struct sipcx_msg *req, const char *detail)
{
	SIPCX_WARN("registrar: %s", detail);
	emit_detail(r, SIPCX_REGISTRAR_LIMITED, NULL, NULL, NULL, src, 0, 0, req, detail);
}

/* ---- users and bindings ---- */

/*
 * The user table: buckets by a keyed hash of the name (a peer cannot aim names at one
 * bucket), doubled when it holds more users than buckets, so a lookup stays O(1) with
 * thousands of accounts (--users FILE) or open registrations.
 */
static uint32_t user_hash(const struct sipcx_registrar *r, struct sipcx_str name)
{
	return sipcx__fnv32_str(SIPCX__FNV32_INIT ^ (uint32_t)r->key, name);
}

struct user *sipcx__registrar_user_find(struct sipcx_registrar *r, struct sipcx_str name)
{
	if (!r->users)
		return NULL;
	uint32_t h = user_hash(r, name);
	for (struct user *u = r->users[h & r->users_mask]; u; u = u->next)
		if (u->hash == h && sipcx_str_eq(sipcx_str_c(u->name), name))
			return u;
	return NULL;
}

static int users_grow(struct sipcx_registrar *r)
{
	size_t n = r->users ? ((size_t)r->users_mask + 1) * 2 : 64;
	struct user **t = sipcx_calloc(n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; r->users && i <= r->users_mask; i++) {
		for (struct user *u = r->users[i], *next; u; u = next) {
			next = u->next;
			u->next = t[u->hash & (n - 1)];
			t[u->hash & (n - 1)] = u;
		}
	}
	sipcx_free(r->users);
	r->users = t;
	r->users_mask = (uint32_t)(n - 1);
	return 0;
}

static struct user *user_add(struct sipcx_registrar *r, struct sipcx_str name, const char *pw)
{
	if ((!r->users || r->nusers > r->users_mask) && users_grow(r) != 0)
		return NULL;
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
	u->hash = user_hash(r, name);
	u->next = r->users[u->hash & r->users_mask];
	r->users[u->hash & r->users_mask] = u;
	r->nusers++;
	return u;
}

static void user_free(struct user *u);

/*
 * Removes the users an open registrar made whose bindings are all gone (expired or
 * removed), after pruning every user: a user with a password stays. Without this the
 * cap on open users, once reached, would refuse new names forever.
 */
static void users_sweep(struct sipcx_registrar *r, uint64_t now, uint64_t *next_expiry)
{
	for (size_t i = 0; r->users && i <= r->users_mask; i++) {
		for (struct user **pp = &r->users[i]; *pp;) {
			struct user *u = *pp;
			sipcx__registrar_prune(r, u, now);
			if (!u->bindings && !u->password) {
				*pp = u->next;
				r->nusers--;
				r->nopen--;
				user_free(u);
				continue;
			}
			for (struct binding *b = u->bindings; next_expiry && b; b = b->next)
				if (b->expires_us < *next_expiry)
					*next_expiry = b->expires_us;
			pp = &u->next;
		}
	}
}

static void binding_free(struct binding *b)
{
	sipcx_free(b->uri);
	sipcx_free(b->call_id);
	sipcx_free(b->params);
	sipcx_free(b->path);
	sipcx_free(b->instance);
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

/* ---- the expiry timer: a binding expires at its second, looked at or not ---- */

static void expiry_closed(uv_handle_t *h)
{
	sipcx_free(h);
}

static void expiry_fired(uv_timer_t *t);

/* Have the timer fire at `at` (sipcx_now_us() time) unless it fires before. */
static void expiry_arm(struct sipcx_registrar *r, uint64_t at)
{
	if (!r->expiry || (r->expiry_at_us && r->expiry_at_us <= at))
		return;
	r->expiry_at_us = at;
	uint64_t now = sipcx_now_us();
	uv_timer_start(r->expiry, expiry_fired, at > now ? (at - now + 999) / 1000 : 0, 0);
}

static void expiry_fired(uv_timer_t *t)
{
	struct sipcx_registrar *r = t->data;
	r->expiry_at_us = 0;
	uint64_t next = UINT64_MAX;
	users_sweep(r, sipcx_now_us(), &next);
	if (next != UINT64_MAX)
		expiry_arm(r, next);
}

/* ---- domains and secrets ---- */

bool sipcx__registrar_serves(struct sipcx_registrar *r, struct sipcx_str host)
{
	if (sipcx_str_ieq_c(host, r->realm) || sipcx_str_ieq_c(host, "localhost"))
		return true;
	for (size_t i = 0; i < r->ndomains; i++)
		if (sipcx_str_ieq_c(host, r->domains[i]))
			return true;
	union sipcx_sa sa;
	if (sipcx_sa_set(&sa, host, 0) != 0)
		return false;
	struct sipcx_ua *ua = r->ua;
	for (size_t i = 0; i < ua->nbound; i++) {
		const struct sipcx_tp_addr *b = &ua->bound[i];
		if (b->sa.sa.sa_family != sa.sa.sa_family)
			continue;
		if (sipcx_sa_equal_host(&b->sa.sa, &sa.sa))
			return true;
		/* A wildcard listener serves the addresses the kernel would send to it from. */
		struct sipcx_tp_addr d = { b->proto, sa };
		union sipcx_sa local;
		if (sipcx_sa_is_any(&b->sa.sa) && sipcx_transport_local(ua->tp, &d, &local) == 0 &&
		    sipcx_sa_equal_host(&local.sa, &sa.sa))
			return true;
	}
	return false;
}

int sipcx__registrar_secret(struct sipcx_str username, struct sipcx_str realm,
                            enum sipcx_auth_alg alg, bool userhash,
                            struct sipcx_auth_secret *secret, void *arg)
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

size_t sipcx__registrar_challenges(struct sipcx_registrar *r, bool proxy, bool stale,
                                   struct sipcx_buf *b, struct sipcx_hdr *hdrs)
{
	size_t end[SIPCX_ARRAY_SIZE(r->alg_order)];
	size_t n = 0;
	uint64_t now_s = sipcx_now_us() / 1000000u;
	/* RFC 8760 3: one challenge per algorithm, in the operator's order. */
	for (size_t i = 0; i < r->nalg; i++)
		if (sipcx_auth_server_challenge(r->auth, now_s, r->alg_order[i], stale, b) == 0)
			end[n++] = b->len;
	if (sipcx_buf_err(b))
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t start = i ? end[i - 1] : 0;
		hdrs[i] = (struct sipcx_hdr){ proxy ? SIPCX_HDR_PROXY_AUTHENTICATE
			                            : SIPCX_HDR_WWW_AUTHENTICATE,
			                      SIPCX_STR_NULL,
			                      { b->p + start, end[i] - start } };
	}
	return n;
}

/* ---- REGISTER (RFC 3261 10.3) ---- */

static void respond(struct sipcx_ua_srv *srv, uint16_t status, const char *reason,
                    const struct sipcx_hdr *hdrs, size_t n)
{
	sipcx_ua_respond(srv, status, reason, hdrs, n, NULL, SIPCX_STR_NULL);
}

static void challenge(struct sipcx_registrar *r, struct sipcx_ua_srv *srv, bool stale)
{
	struct sipcx_buf b;
	struct sipcx_hdr hdrs[SIPCX_ARRAY_SIZE(r->alg_order)];
	sipcx_buf_init(&b);
	size_t n = sipcx__registrar_challenges(r, false, stale, &b, hdrs);
	if (n)
		respond(srv, 401, NULL, hdrs, n);
	else
		respond(srv, 500, "Cannot Challenge", NULL, 0);
	sipcx_buf_free(&b);
}

/*
 * 200 with every binding of u, its parameters and its remaining time (RFC
 * 3261 10.3 step 8); the request's Path when the UA supports it (RFC 3327
 * 5.3); Require: outbound when a flow was registered (RFC 5626 6).
 */
static void respond_bindings(struct sipcx_ua_srv *srv, struct user *u, uint64_t now,
                             const struct sipcx_msg *req, bool outbound)
{
	struct sipcx_buf b;
	size_t ends[64];
	size_t n = 0;
	sipcx_buf_init(&b);
	for (struct binding *x = u ? u->bindings : NULL; x && n < SIPCX_ARRAY_SIZE(ends);
	     x = x->next) {
		uint64_t left =
		    x->expires_us > now ? (x->expires_us - now + 999999u) / 1000000u : 0;
		sipcx_buf_printf(&b, "<%s>%s;expires=%llu", x->uri, x->params ? x->params : "",
		                 (unsigned long long)left);
		ends[n++] = b.len;
	}
	struct sipcx_hdr hdrs[SIPCX_ARRAY_SIZE(ends) + 8];
	size_t nh = 0;
	for (size_t i = 0; i < n && b.p; i++) {
		size_t start = i ? ends[i - 1] : 0;
		hdrs[nh++] = (struct sipcx_hdr){ SIPCX_HDR_CONTACT,
			                         SIPCX_STR_NULL,
			                         { b.p + start, ends[i] - start } };
	}
	bool path_ok = false;
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_str v;
	while (sipcx_msg_value_next(req, SIPCX_HDR_SUPPORTED, &it, &v) == 1)
		path_ok |= sipcx_str_ieq_c(v, "path");
	for (const struct sipcx_hdr *h = path_ok ? sipcx_msg_hdr(req, SIPCX_HDR_PATH) : NULL;
	     h && nh < SIPCX_ARRAY_SIZE(hdrs) - 2; h = sipcx_msg_hdr_next(req, h))
		hdrs[nh++] = (struct sipcx_hdr){ SIPCX_HDR_PATH, SIPCX_STR_NULL, h->value };
	hdrs[nh++] =
	    (struct sipcx_hdr){ SIPCX_HDR_SUPPORTED, SIPCX_STR_NULL, SIPCX_STR("path, outbound") };
	if (outbound)
		hdrs[nh++] =
		    (struct sipcx_hdr){ SIPCX_HDR_REQUIRE, SIPCX_STR_NULL, SIPCX_STR("outbound") };
	if (sipcx_buf_err(&b))
		respond(srv, 500, NULL, NULL, 0);
	else
		respond(srv, 200, NULL, hdrs, nh);
	sipcx_buf_free(&b);
}

struct contact_req {
	struct sipcx_addr a;
	uint32_t expires;
	struct sipcx_str instance;
	uint32_t reg_id; /* 0: none */
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

/* The binding of c: by instance and reg-id (RFC 5626 6: a new flow replaces the old), else by URI. */
static struct binding *binding_find(struct user *u, const struct contact_req *c)
{
	for (struct binding *b = u->bindings; b; b = b->next) {
		if (c->instance.len && c->reg_id) {
			if (b->instance && b->reg_id == c->reg_id &&
			    sipcx_str_eq(sipcx_str_c(b->instance), c->instance))
				return b;
			continue;
		}
		struct sipcx_uri bu;
		if (sipcx_uri_parse(&bu, sipcx_str_c(b->uri)) == 0 &&
		    sipcx_uri_equal(&bu, &c->a.uri))
			return b;
	}
	return NULL;
}

/* The Contact's parameters without expires, as they are echoed (";a=1;b"). */
static char *params_kept(struct sipcx_str params)
{
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	sipcx_buf_puts(&b, "");
	struct sipcx_str rest = params, name, value;
	const char *at = rest.p;
	while (sipcx_param_next(&rest, &name, &value) == 1) {
		if (!sipcx_str_ieq_c(name, "expires")) {
			struct sipcx_str one =
			    sipcx_str_trim((struct sipcx_str){ at, (size_t)(rest.p - at) });
			while (one.len && one.p[0] == ';')
				one.p++, one.len--;
			while (one.len && one.p[one.len - 1] == ';')
				one.len--;
			sipcx_buf_puts(&b, ";");
			sipcx_buf_append_str(&b, sipcx_str_trim(one));
		}
		at = rest.p;
	}
	return sipcx_buf_err(&b) ? NULL : sipcx_buf_detach(&b, NULL);
}

/* A lockout refuses everything from the source, the right password too. */
static int locked_out(struct sipcx_registrar *r, struct sipcx_ua_srv *srv, uint64_t left_ms)
{
	char ra[24];
	snprintf(ra, sizeof(ra), "%llu", (unsigned long long)(left_ms + 999) / 1000);
	struct sipcx_hdr h = { SIPCX_HDR_RETRY_AFTER, SIPCX_STR_NULL, sipcx_str_c(ra) };
	(void)r;
	respond(srv, 403, "Too Many Failed Attempts", &h, 1);
	return 0;
}

/* A digest failure from src: counted, and a lockout when it is one too many. */
static void auth_failed(struct sipcx_registrar *r, const struct sipcx_tp_addr *src,
                        const struct sipcx_msg *req, const char *user, uint64_t now_us)
{
	sipcx__registrar_emit(r, SIPCX_REGISTRAR_AUTH_FAILED, user, NULL, NULL, src, 0, 401, req);
	uint64_t ms = sipcx__lockout_fail(&r->lock, src, now_us / 1000u);
	if (ms) {
		char host[SIPCX_ADDRSTRLEN], d[160];
		if (sipcx_sa_host(&src->sa.sa, host, sizeof(host)) < 0)
			host[0] = '\0';
		snprintf(d, sizeof(d), "lockout of %s for %llu s after %u failed passwords", host,
		         (unsigned long long)(ms / 1000u), r->lock.max);
		sipcx__registrar_limited(r, src, req, d);
	}
}

/* Answers req (always, with exactly one final response); returns 0. */
static int do_register(struct sipcx_registrar *r, struct sipcx_ua_srv *srv,
                       const struct sipcx_msg *req)
{
	struct sipcx_tp_addr src;
	sipcx_ua_srv_source(srv, &src);
	uint64_t now = sipcx_now_us();

	uint64_t left = r->auth ? sipcx__lockout_left(&r->lock, &src, now / 1000u) : 0;
	if (left)
		return locked_out(r, srv, left);
	const struct sipcx_uri *ruri = sipcx_msg_ruri(req);
	const struct sipcx_addr *to = sipcx_msg_to(req);
	char name[128];
	/* RFC 3261 10.3 steps 1 and 3: bindings of the domains we serve only. */
	if (!ruri || !sipcx__registrar_serves(r, ruri->host))
		return reject(r, srv, NULL, &src, req, 404, "Domain Not Served", NULL, 0);
	if (!to || to->uri.user.len == 0 || to->uri.user.len >= sizeof(name))
		return reject(r, srv, NULL, &src, req, 404, "No User In To", NULL, 0);
	snprintf(name, sizeof(name), "%.*s", SIPCX_STR_FMT(to->uri.user));
	if (!sipcx__registrar_serves(r, to->uri.host))
		return reject(r, srv, name, &src, req, 404, "Domain Not Served", NULL, 0);
	struct user *u = sipcx__registrar_user_find(r, to->uri.user);
	const struct sipcx_cseq *cseq = sipcx_msg_cseq(req);
	struct sipcx_str call_id = sipcx_msg_call_id(req);

	/*
	 * Answered without a transaction (no 32 s of state per REGISTER): a
	 * retransmission, byte for byte the request that set a binding, gets
	 * the same answer again instead of "CSeq out of order" or a stale
	 * nonce.
	 */
	uint64_t hash = sipcx__fnv64_str(SIPCX__FNV64_INIT ^ r->key, req->raw);
	for (struct binding *b = u ? u->bindings : NULL; b; b = b->next) {
		if (b->req_hash == hash && cseq && b->cseq == cseq->num &&
		    sipcx_str_eq(sipcx_str_c(b->call_id), call_id)) {
			respond_bindings(srv, u, now, req, b->reg_id != 0);
			return 0;
		}
	}

	if (r->auth) {
		struct sipcx_auth_result res;
		int e = sipcx_auth_server_verify(r->auth, now / 1000000u, req, false,
		                                 sipcx__registrar_secret, r, &res);
		if (e) {
			respond(srv, 500, NULL, NULL, 0);
			return 0;
		}
		if (res.verdict != SIPCX_AUTH_OK) {
			if (sipcx__registrar_guess(&res)) {
				SIPCX_DEBUG("registrar: %s: %s", name, res.reason);
				auth_failed(r, &src, req, name, now);
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
	if (!u && !r->auth) {
		/* At the cap, look for names gone at most once a second: a flood of new names
		 * must not cost a walk of the whole table each. */
		if (r->nopen >= REGISTRAR_MAX_OPEN_USERS && now - r->full_swept_us >= 1000000u) {
			r->full_swept_us = now;
			users_sweep(r, now, NULL);
		}
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
		memset(&cs[n], 0, sizeof(cs[n]));
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
		respond_bindings(srv, u, now, req, false);
		return 0;
	}
	/* Check every Contact before changing anything: a request applies whole or not at all. */
	unsigned adds = 0;
	bool outbound = false;
	for (size_t i = 0; i < n; i++) {
		struct contact_req *c = &cs[i];
		struct sipcx_str ev;
		uint64_t v = hdr_exp;
		if (sipcx_param_get(c->a.params, "expires", &ev) &&
		    sipcx_str_to_u64(sipcx_str_trim(ev), UINT32_MAX, &v) != 0)
			return reject(r, srv, name, &src, req, 400, "Bad Contact expires", NULL, 0);
		if ((c->a.uri.scheme != SIPCX_URI_SIP && c->a.uri.scheme != SIPCX_URI_SIPS) ||
		    c->a.uri.raw.len >= 256 || c->a.params.len >= 512)
			return reject(r, srv, name, &src, req, 400, "Unsupported Contact", NULL, 0);
		/* RFC 5626 6: a flow is the instance-id and the reg-id together. */
		struct sipcx_str inst, rid;
		uint64_t id = 0;
		if (sipcx_param_get(c->a.params, "+sip.instance", &inst) && inst.len < 128)
			c->instance = sipcx_str_trim(inst);
		if (sipcx_param_get(c->a.params, "reg-id", &rid) &&
		    (sipcx_str_to_u64(sipcx_str_trim(rid), UINT32_MAX, &id) != 0 || id == 0))
			return reject(r, srv, name, &src, req, 400, "Bad reg-id", NULL, 0);
		c->reg_id = c->instance.len ? (uint32_t)id : 0;
		outbound |= c->reg_id != 0;
		if (v && v < r->min_s) {
			/* RFC 3261 10.3 step 7: 423 with the shortest we accept. */
			char min[16];
			snprintf(min, sizeof(min), "%u", r->min_s);
			struct sipcx_hdr h = { SIPCX_HDR_MIN_EXPIRES, SIPCX_STR_NULL,
				               sipcx_str_c(min) };
			return reject(r, srv, name, &src, req, 423, NULL, &h, 1);
		}
		c->expires = v > r->max_s ? r->max_s : (uint32_t)v;
		c->b = binding_find(u, c);
		if (c->b && sipcx_str_eq(sipcx_str_c(c->b->call_id), call_id) &&
		    (!cseq || cseq->num <= c->b->cseq))
			return reject(r, srv, name, &src, req, 500, "CSeq Out Of Order", NULL, 0);
		if (!c->b && c->expires)
			adds++;
	}
	if (u->n + adds > r->max_bindings)
		return reject(r, srv, name, &src, req, 503, "Too Many Bindings", NULL, 0);
	/* RFC 3327 5.3: the Path is the route to every Contact of this request. */
	struct sipcx_buf path;
	sipcx_buf_init(&path);
	struct sipcx_msg_iter pit = SIPCX_MSG_ITER_INIT;
	struct sipcx_str pv;
	while (sipcx_msg_value_next(req, SIPCX_HDR_PATH, &pit, &pv) == 1) {
		if (path.len)
			sipcx_buf_puts(&path, ", ");
		sipcx_buf_append_str(&path, pv);
	}
	if (sipcx_buf_err(&path) || path.len >= 1024) {
		sipcx_buf_free(&path);
		return reject(r, srv, name, &src, req, path.len ? 400 : 500, "Bad Path", NULL, 0);
	}
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
			if (!b) {
				sipcx_buf_free(&path);
				return reject(r, srv, name, &src, req, 500, NULL, NULL, 0);
			}
			b->next = u->bindings;
			u->bindings = b;
			u->n++;
		}
		/* Each field: replaced when the copy worked (an old value beats none). */
		char *uri = sipcx_str_dup(c->a.uri.raw), *cid = sipcx_str_dup(call_id),
		     *params = params_kept(c->a.params),
		     *pth = path.len ? sipcx_str_dup((struct sipcx_str){ path.p, path.len }) : NULL,
		     *ins = c->instance.len ? sipcx_str_dup(c->instance) : NULL;
		if (!uri && !b->uri) {
			sipcx_free(cid);
			sipcx_free(params);
			sipcx_free(pth);
			sipcx_free(ins);
			binding_remove(u, b);
			sipcx_buf_free(&path);
			return reject(r, srv, name, &src, req, 500, NULL, NULL, 0);
		}
#define REPLACE(field, v)                  \
	do {                               \
		if (v) {                   \
			sipcx_free(field); \
			(field) = (v);     \
		}                          \
	} while (0)
		REPLACE(b->uri, uri);
		REPLACE(b->call_id, cid);
		REPLACE(b->params, params);
#undef REPLACE
		sipcx_free(b->path);
		b->path = pth;
		sipcx_free(b->instance);
		b->instance = ins;
		b->reg_id = c->reg_id;
		b->cseq = cseq ? cseq->num : 0;
		b->req_hash = hash;
		b->expires_us = now + (uint64_t)c->expires * 1000000u;
		b->updated_us = now;
		b->source = src;
		b->conn = srv->conn;
		expiry_arm(r, b->expires_us);
		sipcx__registrar_emit(r, fresh ? SIPCX_REGISTRAR_BOUND : SIPCX_REGISTRAR_REFRESHED,
		                      u->name, b->uri, NULL, &src, c->expires, 200, req);
	}
	sipcx_buf_free(&path);
	respond_bindings(srv, u, now, req, outbound);
	return 0;
}

void sipcx__registrar_on_register(struct sipcx_ua_srv *srv, const struct sipcx_msg *req, void *arg)
{
	do_register(arg, srv, req);
}

/* ---- life cycle ---- */

static void expiry_stop(struct sipcx_registrar *r)
{
	if (r->expiry) {
		uv_close((uv_handle_t *)r->expiry, expiry_closed);
		r->expiry = NULL;
	}
}

static void on_ua_close(void *arg)
{
	struct sipcx_registrar *r = arg;
	expiry_stop(r);
	sipcx__proxy_forget(r);
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
	r->expiry = sipcx_calloc(1, sizeof(*r->expiry));
	if (!r->expiry) {
		aa->result = -ENOMEM;
		return;
	}
	uv_timer_init(&ua->loop, r->expiry);
	r->expiry->data = r;
	/* Stateless: REGISTER keeps no transaction (see do_register()). */
	aa->result = sipcx__ua_do_handle(ua, "REGISTER", SIPCX_UA_STATELESS,
	                                 sipcx__registrar_on_register, r);
	if (aa->result) {
		expiry_stop(r);
		return;
	}
	ua->proxy =
	    (struct ua_proxy){ .req = sipcx__proxy_req, .resp = sipcx__proxy_resp, .arg = r };
	snprintf(ua->supported, sizeof(ua->supported), "path, outbound");
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
	ua->supported[0] = '\0';
	sipcx__ua_do_handle(ua, "REGISTER", 0, NULL, NULL);
	sipcx__ua_closer_del(&r->closer);
	expiry_stop(r);
	sipcx__proxy_forget(r);
	r->attached = false;
}

static void user_free(struct user *u)
{
	while (u->bindings)
		binding_remove(u, u->bindings);
	sipcx_free(u->name);
	sipcx_free(u->password);
	sipcx_free(u);
}

static void registrar_destroy(struct sipcx_registrar *r)
{
	for (size_t i = 0; r->users && i <= r->users_mask; i++) {
		for (struct user *u = r->users[i], *next; u; u = next) {
			next = u->next;
			user_free(u);
		}
	}
	sipcx_free(r->users);
	for (size_t i = 0; i < r->ndomains; i++)
		sipcx_free(r->domains[i]);
	sipcx_free(r->domains);
	sipcx__lockout_free(&r->lock);
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

/* The algorithms to challenge with, in order: as given, else strongest first. */
static int set_algs(struct sipcx_registrar *r, const struct sipcx_registrar_opts *opts)
{
	static const enum sipcx_auth_alg strongest[] = {
		SIPCX_AUTH_SHA512_256, SIPCX_AUTH_SHA512_256_SESS,
		SIPCX_AUTH_SHA256,     SIPCX_AUTH_SHA256_SESS,
		SIPCX_AUTH_MD5,        SIPCX_AUTH_MD5_SESS,
	};
	if (opts->nalg_order) {
		if (!opts->alg_order || opts->nalg_order > SIPCX_ARRAY_SIZE(r->alg_order))
			return -EINVAL;
		r->algs = 0;
		for (size_t i = 0; i < opts->nalg_order; i++) {
			enum sipcx_auth_alg a = opts->alg_order[i];
			if ((unsigned)a >= SIPCX_AUTH_ALG__COUNT)
				return -EINVAL;
			if (r->algs & (1u << a))
				continue;
			r->algs |= 1u << a;
			r->alg_order[r->nalg++] = a;
		}
		return 0;
	}
	r->algs = opts->algs ? opts->algs : 1u << SIPCX_AUTH_MD5;
	for (size_t i = 0; i < SIPCX_ARRAY_SIZE(strongest); i++)
		if (r->algs & (1u << strongest[i]))
			r->alg_order[r->nalg++] = strongest[i];
	return r->nalg ? 0 : -EINVAL;
}

int sipcx_registrar_new(struct sipcx_registrar **out, struct sipcx_ua *ua,
                        const struct sipcx_registrar_opts *opts)
{
	static const struct sipcx_registrar_opts defaults = { 0 };
	if (!out || !ua)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	if ((opts->nusers && !opts->users) || (opts->ndomains && !opts->domains))
		return -EINVAL;
	for (size_t i = 0; i < opts->nusers; i++) {
		const struct sipcx_registrar_user *x = &opts->users[i];
		if (!x->name || !*x->name || !x->password || strpbrk(x->name, "\r\n@:;<> "))
			return -EINVAL;
	}
	for (size_t i = 0; i < opts->ndomains; i++)
		if (!opts->domains[i] || !*opts->domains[i] ||
		    strpbrk(opts->domains[i], "\r\n@:;<> ,\""))
			return -EINVAL;
	struct sipcx_registrar *r = sipcx_calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ua = ua;
	r->min_s = opts->min_expires_s ? opts->min_expires_s : 60;
	r->max_s = opts->max_expires_s ? opts->max_expires_s : 3600;
	r->def_s = opts->default_expires_s ? opts->default_expires_s : 3600;
	r->max_bindings = opts->max_bindings ? opts->max_bindings : 10;
	r->auth_calls = opts->auth_calls;
	r->cb = opts->cb;
	r->arg = opts->arg;
	sipcx__lockout_init(&r->lock, opts->max_auth_failures, opts->auth_window_s, opts->lockout_s,
	                    opts->lockout_max_s);
	if (r->min_s > r->max_s || set_algs(r, opts) ||
	    (opts->upstream && sipcx_tp_addr_parse(&r->upstream, opts->upstream) != 0)) {
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
	if (!e && opts->ndomains) {
		r->domains = sipcx_calloc(opts->ndomains, sizeof(*r->domains));
		e = r->domains ? 0 : -ENOMEM;
		for (size_t i = 0; !e && i < opts->ndomains; i++, r->ndomains++)
			if (!(r->domains[i] = sipcx_strdup(opts->domains[i])))
				e = -ENOMEM;
	}
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
