/* ua: registration client: REGISTER, digest, 423, refresh at half the granted expiry, backoff, NAT Contact, unregister (RFC 3261 10.2, RFC 3581). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sipcx/auth.h>
#include <sipcx/reg.h>

#include "msg/msg.h"
#include "ua/ua.h"

#define REG_DEFAULT_EXPIRES 3600u
#define REG_RETRY_MIN_MS 1000u
#define REG_RETRY_MAX_MS 300000u
#define REG_UNREG_TIMEOUT_MS 5000u
/* 423 answers followed in a row, and NAT rewrites in a row, before giving up. */
#define REG_MAX_423 3
#define REG_MAX_NAT 2

enum reg_kind {
	KIND_REG,       /* bind our Contact */
	KIND_UNREG,     /* remove our Contact (Expires: 0) */
	KIND_UNREG_ALL, /* Contact: *, Expires: 0 */
};

struct sipcx_reg {
	struct sipcx_ua *ua;
	/* configuration, fixed after sipcx_reg_new() */
	char *registrar;
	char *aor;  /* "<sip:...>" */
	char *dst;  /* resolved next hop, "udp:1.2.3.4:5060" */
	char *user; /* Contact user */
	enum sipcx_tp_proto proto;
	bool sips; /* a sips registrar: our Contact is sips too */
	unsigned flags;
	uint32_t retry_min_ms, retry_max_ms, unreg_timeout_ms;
	struct sipcx_hdr *hdrs; /* user headers, then room for ours */
	size_t nhdrs;
	char *hdr_mem;
	sipcx_reg_cb *cb;
	void *arg;
	struct sipcx_auth_client *auth; /* NULL: no credentials */
	char call_id[25];
	char from_tag[17];

	/* loop thread */
	uv_timer_t timer;
	struct ua_closer closer;
	bool timer_started;
	bool timer_closing;
	uint32_t cseq;
	struct sipcx_auth_chain chain;
	enum reg_kind kind; /* of the request in flight, or the last one */
	char contact[256];  /* our Contact URI */
	char
	    old_contact[256]; /* the Contact a NAT rewrite replaced, removed by the next REGISTER */
	union sipcx_sa contact_sa;
	bool bound;      /* a binding may exist at the registrar */
	bool first_done; /* the first registration succeeded */
	bool closing;    /* sipcx_reg_free() asked to unregister */
	bool ua_closed;  /* the UA is shutting down */
	unsigned n423, nnat;

	/* loop thread: the phone layer's observer (sipcx__reg_watch()) */
	void (*watch)(struct sipcx_reg *reg, void *arg);
	void *watch_arg;

	/* shared: under lock */
	uv_mutex_t lock;
	struct sipcx_reg_info info;
	bool pending;      /* a request in flight: its callback will come */
	bool timer_closed; /* the timer handle is closed (or was never opened) */
	bool user_gone;    /* sipcx_reg_free() is done with it */
	bool close_done;   /* the unregistration finished */
};

const char *sipcx_reg_state_name(enum sipcx_reg_state state)
{
	static const char *const names[] = { "registering", "registered",    "failing",
		                             "failed",      "unregistering", "unregistered" };
	return (unsigned)state < SIPCX_ARRAY_SIZE(names) ? names[state] : "";
}

static void reg_destroy(struct sipcx_reg *reg)
{
	sipcx_auth_client_free(reg->auth);
	sipcx_free(reg->registrar);
	sipcx_free(reg->aor);
	sipcx_free(reg->dst);
	sipcx_free(reg->user);
	sipcx_free(reg->hdrs);
	sipcx_free(reg->hdr_mem);
	uv_mutex_destroy(&reg->lock);
	sipcx_free(reg);
}

/* Free once the user, the request in flight and the timer have all let go. */
static void maybe_destroy(struct sipcx_reg *reg)
{
	uv_mutex_lock(&reg->lock);
	bool done = reg->user_gone && !reg->pending && reg->timer_closed;
	uv_mutex_unlock(&reg->lock);
	if (done)
		reg_destroy(reg);
}

/* Publish the state: snapshot for other threads, callback, then the phone's observer. */
static void notify(struct sipcx_reg *reg)
{
	struct sipcx_reg_info copy;
	uv_mutex_lock(&reg->lock);
	copy = reg->info;
	uv_mutex_unlock(&reg->lock);
	/* The callback first: a waiting thread woken next sees what the callback reported. */
	if (reg->cb)
		reg->cb(&copy, reg->arg);
	if (reg->watch)
		reg->watch(reg, reg->watch_arg);
}

static void set_state(struct sipcx_reg *reg, enum sipcx_reg_state st)
{
	uv_mutex_lock(&reg->lock);
	reg->info.state = st;
	uv_mutex_unlock(&reg->lock);
}

static void set_close_done(struct sipcx_reg *reg)
{
	uv_mutex_lock(&reg->lock);
	reg->close_done = true;
	uv_mutex_unlock(&reg->lock);
	if (reg->watch)
		reg->watch(reg, reg->watch_arg);
}

static void on_timer(uv_timer_t *t);
static void on_resp(int err, const struct sipcx_msg *resp, void *arg);

static void arm(struct sipcx_reg *reg, uint64_t ms)
{
	uv_mutex_lock(&reg->lock);
	reg->info.next_us = sipcx_now_us() + ms * 1000u;
	uv_mutex_unlock(&reg->lock);
	uv_timer_start(&reg->timer, on_timer, ms, 0);
	reg->timer_started = true;
}

static void disarm(struct sipcx_reg *reg)
{
	if (reg->timer_started && !reg->timer_closing)
		uv_timer_stop(&reg->timer);
	uv_mutex_lock(&reg->lock);
	reg->info.next_us = 0;
	uv_mutex_unlock(&reg->lock);
}

/*
 * Send one REGISTER of kind. answer/nanswer: credentials answering the
 * challenge of the previous one (same chain); NULL: a new request, which
 * gets a new chain and the cached credentials up front.
 */
static int send_register(struct sipcx_reg *reg, enum reg_kind kind, const struct sipcx_hdr *answer,
                         size_t nanswer)
{
	char contact[600], expires[16];
	const struct sipcx_hdr *auth = answer;
	size_t nauth = nanswer;

	if (!answer) {
		reg->chain = (struct sipcx_auth_chain)SIPCX_AUTH_CHAIN_INIT;
		nauth = 0;
		if (reg->auth && sipcx_auth_client_authorize(reg->auth, SIPCX_STR("REGISTER"),
		                                             sipcx_str_c(reg->registrar),
		                                             SIPCX_STR_NULL, &auth, &nauth) != 0)
			nauth = 0;
	}
	switch (kind) {
	case KIND_REG:
		/* After a NAT rewrite the old Contact goes in the same request (RFC 3261 10.2.2). */
		if (reg->old_contact[0])
			snprintf(contact, sizeof(contact), "<%s>, <%s>;expires=0", reg->contact,
			         reg->old_contact);
		else
			snprintf(contact, sizeof(contact), "<%s>", reg->contact);
		snprintf(expires, sizeof(expires), "%u", reg->info.requested_s);
		break;
	case KIND_UNREG:
		snprintf(contact, sizeof(contact), "<%s>", reg->contact);
		snprintf(expires, sizeof(expires), "0");
		break;
	default:
		snprintf(contact, sizeof(contact), "*");
		snprintf(expires, sizeof(expires), "0");
		break;
	}
	/* reg->hdrs has the user's headers first and room for Expires and credentials. */
	size_t n = reg->nhdrs;
	reg->hdrs[n++] =
	    (struct sipcx_hdr){ SIPCX_HDR_EXPIRES, SIPCX_STR_NULL, sipcx_str_c(expires) };
	for (size_t i = 0; i < nauth && i < SIPCX_AUTH_MAX_HDRS; i++)
		reg->hdrs[n++] = auth[i];

	uint32_t cseq = ++reg->cseq;
	struct sipcx_ua_req_opts o = {
		.method = "REGISTER",
		.uri = reg->registrar,
		.dst = reg->dst,
		.transport = reg->proto,
		.to = reg->aor,
		.from = reg->aor,
		.hdrs = reg->hdrs,
		.nhdrs = n,
		.cseq = cseq,
		.call_id = reg->call_id,
		.from_tag = reg->from_tag,
		.contact = contact,
	};
	reg->kind = kind;
	uv_mutex_lock(&reg->lock);
	reg->pending = true;
	reg->info.cseq = cseq;
	reg->info.registers++;
	uv_mutex_unlock(&reg->lock);
	int r = sipcx_ua_request(reg->ua, &o, on_resp, reg);
	if (r) {
		uv_mutex_lock(&reg->lock);
		reg->pending = false;
		reg->info.registers--;
		uv_mutex_unlock(&reg->lock);
	}
	return r;
}

static void unregister_now(struct sipcx_reg *reg)
{
	set_state(reg, SIPCX_REG_UNREGISTERING);
	notify(reg);
	if (send_register(reg, KIND_UNREG, NULL, 0) != 0) {
		reg->bound = false;
		set_state(reg, SIPCX_REG_UNREGISTERED);
		notify(reg);
		set_close_done(reg);
	}
}

/* The registration failed with err (and status); retry or stop. */
static void failed(struct sipcx_reg *reg, int err, uint16_t status, uint32_t retry_after_s)
{
	uv_mutex_lock(&reg->lock);
	reg->info.err = err;
	if (!status)
		reg->info.status = 0, reg->info.reason[0] = '\0';
	uv_mutex_unlock(&reg->lock);

	if (reg->kind != KIND_REG || reg->closing) {
		/* Unregistering: give up; the binding expires by itself at worst. */
		bool all = reg->kind == KIND_UNREG_ALL && !reg->closing;
		if (reg->closing && reg->kind == KIND_REG && reg->bound) {
			unregister_now(reg);
			return;
		}
		set_state(reg, all ? SIPCX_REG_FAILED : SIPCX_REG_UNREGISTERED);
		notify(reg);
		set_close_done(reg);
		return;
	}
	if (!reg->first_done && !(reg->flags & SIPCX_REG_RETRY_FIRST)) {
		set_state(reg, SIPCX_REG_FAILED);
		notify(reg);
		return;
	}
	uv_mutex_lock(&reg->lock);
	unsigned fails = ++reg->info.failures;
	reg->info.state = SIPCX_REG_FAILING;
	uv_mutex_unlock(&reg->lock);
	uint64_t delay = reg->retry_min_ms;
	for (unsigned i = 1; i < fails && delay < reg->retry_max_ms; i++)
		delay *= 2;
	if (delay > reg->retry_max_ms)
		delay = reg->retry_max_ms;
	/* RFC 3261 20.33: the server says when to come back. */
	if (retry_after_s)
		delay = (uint64_t)retry_after_s * 1000u;
	arm(reg, delay);
	notify(reg);
}

static bool parse_seconds(struct sipcx_str s, uint32_t *out)
{
	s = sipcx_str_trim(s);
	size_t n = 0;
	while (n < s.len && s.p[n] >= '0' && s.p[n] <= '9')
		n++;
	uint64_t v;
	if (n == 0 || sipcx_str_to_u64((struct sipcx_str){ s.p, n }, UINT32_MAX, &v) != 0)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* The expiry granted to our Contact (RFC 3261 10.2.4), or 0 when the 2xx says none. */
static uint32_t granted_expiry(struct sipcx_reg *reg, const struct sipcx_msg *resp)
{
	struct sipcx_uri ours;
	uint32_t v;
	if (sipcx_uri_parse(&ours, sipcx_str_c(reg->contact)) == 0) {
		struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
		struct sipcx_addr a;
		int r;
		while ((r = sipcx_msg_contact_next(resp, &it, &a)) != 0) {
			if (r < 0 || a.star || !sipcx_uri_equal(&a.uri, &ours))
				continue;
			struct sipcx_str e;
			if (sipcx_param_get(a.params, "expires", &e) && parse_seconds(e, &v))
				return v;
			break;
		}
	}
	if (sipcx_msg_expires(resp, &v) == 0)
		return v;
	return reg->info.requested_s;
}

/* RFC 3581: where the registrar saw us come from, when it is not our Contact. */
static bool nat_address(struct sipcx_reg *reg, const struct sipcx_msg *resp, union sipcx_sa *out)
{
	const struct sipcx_via *via = sipcx_msg_via(resp);
	if (!via || (reg->flags & SIPCX_REG_NO_NAT))
		return false;
	struct sipcx_str host = via->received.len ? via->received : via->host;
	uint16_t port = sipcx_sa_port(&reg->contact_sa.sa);
	/* Over TCP the source port is the connection's, not where we listen. */
	if (reg->proto == SIPCX_TP_UDP && via->rport > 0)
		port = (uint16_t)via->rport;
	if (sipcx_sa_set(out, host, port) != 0)
		return false;
	return !sipcx_sa_equal(&out->sa, &reg->contact_sa.sa);
}

static int make_contact(struct sipcx_reg *reg, const union sipcx_sa *sa)
{
	char hp[SIPCX_ADDRSTRLEN];
	if (sipcx_sa_print(&sa->sa, hp, sizeof(hp)) < 0)
		return -EINVAL;
	/* RFC 3261 10.2.1: a sips registrar gets a sips Contact. */
	int r = reg->sips
	            ? snprintf(reg->contact, sizeof(reg->contact), "sips:%s@%s", reg->user, hp)
	            : snprintf(reg->contact, sizeof(reg->contact), "sip:%s@%s%s", reg->user, hp,
	                       sipcx__ua_tp_param(reg->proto));
	if (r < 0 || (size_t)r >= sizeof(reg->contact))
		return -EINVAL;
	reg->contact_sa = *sa;
	uv_mutex_lock(&reg->lock);
	memcpy(reg->info.contact, reg->contact, sizeof(reg->info.contact));
	uv_mutex_unlock(&reg->lock);
	return 0;
}

static void succeeded(struct sipcx_reg *reg, const struct sipcx_msg *resp)
{
	if (reg->kind != KIND_REG) {
		reg->bound = false;
		uv_mutex_lock(&reg->lock);
		reg->info.state = SIPCX_REG_UNREGISTERED;
		reg->info.expires_s = 0;
		reg->info.err = 0;
		uv_mutex_unlock(&reg->lock);
		notify(reg);
		set_close_done(reg);
		return;
	}
	reg->old_contact[0] = '\0';
	uint32_t granted = granted_expiry(reg, resp);
	reg->bound = granted > 0;
	if (reg->closing) {
		if (reg->bound) {
			unregister_now(reg);
		} else {
			set_state(reg, SIPCX_REG_UNREGISTERED);
			notify(reg);
			set_close_done(reg);
		}
		return;
	}
	if (granted == 0) {
		/* A 2xx that does not keep our Contact: not registered. */
		failed(reg, -EPROTO, resp->status, 0);
		return;
	}
	union sipcx_sa seen;
	if (reg->nnat < REG_MAX_NAT && nat_address(reg, resp, &seen)) {
		char old[sizeof(reg->contact)];
		memcpy(old, reg->contact, sizeof(old));
		if (make_contact(reg, &seen) == 0) {
			reg->nnat++;
			memcpy(reg->old_contact, old, sizeof(old));
			uv_mutex_lock(&reg->lock);
			reg->info.nat = true;
			uv_mutex_unlock(&reg->lock);
			SIPCX_DEBUG("reg: NAT seen, Contact %s -> %s", old, reg->contact);
			int r = send_register(reg, KIND_REG, NULL, 0);
			if (r)
				failed(reg, r, 0, 0);
			return;
		}
	}
	reg->nnat = 0;
	uint64_t now = sipcx_now_us();
	uv_mutex_lock(&reg->lock);
	if (reg->first_done)
		reg->info.refreshes++;
	reg->info.state = SIPCX_REG_REGISTERED;
	reg->info.expires_s = granted;
	reg->info.registered_us = now;
	reg->info.failures = 0;
	reg->info.err = 0;
	reg->info.detail[0] = '\0';
	uv_mutex_unlock(&reg->lock);
	reg->first_done = true;
	/* Refresh at half of what was granted, not of what was asked. */
	arm(reg, (uint64_t)granted * 500u);
	notify(reg);
}

static void on_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	struct sipcx_reg *reg = arg;
	/* RFC 3261 8.1.3.2: a provisional response is not the answer. */
	if (!err && resp->status < 200)
		return;
	uv_mutex_lock(&reg->lock);
	reg->pending = false;
	if (resp) {
		reg->info.status = resp->status;
		snprintf(reg->info.reason, sizeof(reg->info.reason), "%.*s",
		         SIPCX_STR_FMT(resp->reason));
	}
	uv_mutex_unlock(&reg->lock);

	if (reg->ua_closed || err == SIPCX_ECLOSED) {
		set_close_done(reg);
		maybe_destroy(reg);
		return;
	}
	if (err) {
		failed(reg, err, 0, 0);
	} else if (resp->status == 401 || resp->status == 407) {
		const struct sipcx_hdr *hdrs;
		size_t n;
		int r = reg->auth ? sipcx_auth_client_respond(
		                        reg->auth, &reg->chain, resp, SIPCX_STR("REGISTER"),
		                        sipcx_str_c(reg->registrar), SIPCX_STR_NULL, &hdrs, &n)
		                  : SIPCX_EAUTH;
		if (r == 0) {
			r = send_register(reg, reg->kind, hdrs, n);
		} else {
			const char *why =
			    reg->auth ? sipcx_auth_client_reason(reg->auth) : "no credentials";
			SIPCX_DEBUG("reg: %u not answered: %s", resp->status, why);
			uv_mutex_lock(&reg->lock);
			snprintf(reg->info.detail, sizeof(reg->info.detail), "%s", why);
			uv_mutex_unlock(&reg->lock);
		}
		if (r)
			failed(reg, r == -ENOTSUP ? -EPROTO : r, resp->status, 0);
	} else if (resp->status == 423 && reg->kind == KIND_REG) {
		/* RFC 3261 10.2.8: ask again with at least Min-Expires. */
		const struct sipcx_hdr *h = sipcx_msg_hdr(resp, SIPCX_HDR_MIN_EXPIRES);
		uint32_t min;
		int r = -EPROTO;
		if (h && parse_seconds(h->value, &min) && min > reg->info.requested_s &&
		    reg->n423 < REG_MAX_423) {
			reg->n423++;
			uv_mutex_lock(&reg->lock);
			reg->info.requested_s = min;
			uv_mutex_unlock(&reg->lock);
			r = send_register(reg, KIND_REG, NULL, 0);
		}
		if (r)
			failed(reg, r, resp->status, 0);
	} else if (resp->status < 300) {
		reg->n423 = 0;
		succeeded(reg, resp);
	} else {
		uint32_t ra = 0;
		const struct sipcx_hdr *h = sipcx_msg_hdr(resp, SIPCX_HDR_RETRY_AFTER);
		if (!h || !parse_seconds(h->value, &ra))
			ra = 0;
		failed(reg, SIPCX_ESTATUS, resp->status, ra);
	}
	maybe_destroy(reg);
}

static void on_timer(uv_timer_t *t)
{
	struct sipcx_reg *reg = t->data;
	uv_mutex_lock(&reg->lock);
	reg->info.next_us = 0;
	uv_mutex_unlock(&reg->lock);
	if (reg->closing || reg->ua_closed)
		return;
	int r = send_register(reg, KIND_REG, NULL, 0);
	if (r)
		failed(reg, r, 0, 0);
}

static void timer_closed(uv_handle_t *h)
{
	struct sipcx_reg *reg = h->data;
	uv_mutex_lock(&reg->lock);
	reg->timer_closed = true;
	uv_mutex_unlock(&reg->lock);
	maybe_destroy(reg);
}

static void close_timer(struct sipcx_reg *reg)
{
	if (reg->timer_closing)
		return;
	reg->timer_closing = true;
	sipcx__ua_closer_del(&reg->closer);
	uv_close((uv_handle_t *)&reg->timer, timer_closed);
}

/* The UA shuts down: send nothing more; pending requests get SIPCX_ECLOSED. */
static void on_ua_close(void *arg)
{
	struct sipcx_reg *reg = arg;
	reg->ua_closed = true;
	disarm(reg);
	close_timer(reg);
	set_close_done(reg);
}

struct start_arg {
	struct sipcx_reg *reg;
	int result;
};

static void start_on_loop(void *arg)
{
	struct start_arg *sa = arg;
	struct sipcx_reg *reg = sa->reg;
	uv_timer_init(&reg->ua->loop, &reg->timer);
	reg->timer.data = reg;
	uv_mutex_lock(&reg->lock);
	reg->timer_closed = false;
	uv_mutex_unlock(&reg->lock);
	reg->closer = (struct ua_closer){ .close = on_ua_close, .arg = reg };
	sipcx__ua_closer_add(reg->ua, &reg->closer);
	enum reg_kind kind = (reg->flags & SIPCX_REG_UNREGISTER_ALL) ? KIND_UNREG_ALL : KIND_REG;
	sa->result = send_register(reg, kind, NULL, 0);
	if (sa->result)
		close_timer(reg); /* the caller frees once the handle is closed */
}

static void drop_on_loop(void *arg)
{
	struct sipcx_reg *reg = arg;
	uv_mutex_lock(&reg->lock);
	reg->user_gone = true;
	uv_mutex_unlock(&reg->lock);
	maybe_destroy(reg);
}

static bool has_ctl(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

/* Copy the user's headers, with room after them for Expires and credentials. */
static int copy_hdrs(struct sipcx_reg *reg, const struct sipcx_hdr *hdrs, size_t n)
{
	int r = sipcx__hdrs_dup(hdrs, n, 1 + SIPCX_AUTH_MAX_HDRS, &reg->hdrs, &reg->hdr_mem);
	if (!r)
		reg->nhdrs = n;
	return r;
}

/* Configuration checks and copies, on the calling thread (name resolution may block). */
static int reg_setup(struct sipcx_reg *reg, const struct sipcx_reg_opts *o)
{
	struct sipcx_uri ru, au;
	if (sipcx_uri_parse(&ru, sipcx_str_c(o->registrar)) != 0)
		return -EINVAL;
	if ((ru.scheme != SIPCX_URI_SIP && ru.scheme != SIPCX_URI_SIPS) || has_ctl(o->username) ||
	    has_ctl(o->password) || has_ctl(o->realm) || has_ctl(o->contact_user) ||
	    (o->password && !o->username))
		return -EINVAL;
	if (o->nhdrs && !o->hdrs)
		return -EINVAL;
	reg->registrar = sipcx_strdup(o->registrar);
	if (!reg->registrar)
		return -ENOMEM;

	char buf[600];
	const char *user = o->username ? o->username : "sipcx";
	if (o->aor) {
		if (sipcx_uri_parse(&au, sipcx_str_c(o->aor)) != 0 ||
		    (au.scheme != SIPCX_URI_SIP && au.scheme != SIPCX_URI_SIPS))
			return -EINVAL;
		snprintf(buf, sizeof(buf), "<%s>", o->aor);
		if (au.user.len)
			user = NULL;
	} else {
		int r =
		    snprintf(buf, sizeof(buf), "<sip:%s@%s%.*s%s", user, ru.host_ipv6 ? "[" : "",
		             SIPCX_STR_FMT(ru.host), ru.host_ipv6 ? "]>" : ">");
		if (r < 0 || (size_t)r >= sizeof(buf))
			return -EINVAL;
	}
	reg->aor = sipcx_strdup(buf);
	if (o->contact_user)
		reg->user = sipcx_strdup(o->contact_user);
	else if (user)
		reg->user = sipcx_strdup(user);
	else
		reg->user = sipcx_str_dup(au.user);
	if (!reg->aor || !reg->user)
		return -ENOMEM;
	if (strpbrk(reg->user, "<>@:;\" \t") || (o->aor && strpbrk(o->aor, "<>\" \t\r\n")))
		return -EINVAL;

	/*
	 * A numeric next hop for the registration's life, resolved here; a
	 * host name is located on the loop for each REGISTER (RFC 3263,
	 * failover.c), over one transport so the Contact stays true.
	 */
	struct sipcx_ua_req_opts ro = {
		.method = "REGISTER", .uri = o->registrar, .dst = o->dst, .transport = o->transport
	};
	struct sipcx_tp_addr dst;
	bool forced, by_name = sipcx__ua_by_name(&ro);
	int r = by_name ? sipcx__ua_name_hop(reg->ua, &ro, &dst)
	                : sipcx__ua_next_hop(reg->ua, &ro, &dst, &forced);
	if (r)
		return r;
	reg->proto = dst.proto;
	reg->sips = dst.proto == SIPCX_TP_TLS && !strncasecmp(o->registrar, "sips:", 5);
	char dbuf[SIPCX_ADDRSTRLEN + 8];
	if (!by_name) {
		if (sipcx_tp_addr_print(&dst, dbuf, sizeof(dbuf)) < 0)
			return -EINVAL;
		reg->dst = sipcx_strdup(dbuf);
		if (!reg->dst)
			return -ENOMEM;
	}
	union sipcx_sa local;
	r = sipcx_transport_local(reg->ua->tp, &dst, &local);
	if (r)
		return r;
	r = make_contact(reg, &local);
	if (r)
		return r;

	if (o->username) {
		r = sipcx_auth_client_new(&reg->auth, NULL);
		if (!r)
			r = sipcx_auth_client_set_credentials(reg->auth, o->realm, o->username,
			                                      o->password ? o->password : "");
		if (r)
			return r;
	}
	r = copy_hdrs(reg, o->hdrs, o->nhdrs);
	if (r)
		return r;
	sipcx_random_token(reg->call_id, 24);
	sipcx_random_token(reg->from_tag, 16);
	memcpy(reg->info.call_id, reg->call_id, sizeof(reg->call_id));
	return 0;
}

int sipcx_reg_new(struct sipcx_reg **out, struct sipcx_ua *ua, const struct sipcx_reg_opts *o)
{
	if (!out || !ua || !o || !o->registrar)
		return -EINVAL;
	struct sipcx_reg *reg = sipcx_calloc(1, sizeof(*reg));
	if (!reg)
		return -ENOMEM;
	if (uv_mutex_init(&reg->lock)) {
		sipcx_free(reg);
		return -ENOMEM;
	}
	reg->ua = ua;
	reg->timer_closed = true;
	reg->flags = o->flags;
	reg->cb = o->cb;
	reg->arg = o->arg;
	reg->retry_min_ms = o->retry_min_ms ? o->retry_min_ms : REG_RETRY_MIN_MS;
	reg->retry_max_ms = o->retry_max_ms ? o->retry_max_ms : REG_RETRY_MAX_MS;
	if (reg->retry_max_ms < reg->retry_min_ms)
		reg->retry_max_ms = reg->retry_min_ms;
	reg->unreg_timeout_ms =
	    o->unregister_timeout_ms ? o->unregister_timeout_ms : REG_UNREG_TIMEOUT_MS;
	reg->info.state = SIPCX_REG_REGISTERING;
	reg->info.requested_s = o->expires_s ? o->expires_s : REG_DEFAULT_EXPIRES;
	int r = reg_setup(reg, o);
	if (r) {
		reg_destroy(reg);
		return r;
	}
	struct start_arg sa = { .reg = reg };
	r = sipcx_ua_call(ua, start_on_loop, &sa);
	if (r == 0 && sa.result) {
		/* The timer handle closes on the loop; the loop frees the rest. */
		r = sa.result;
		sipcx_ua_call(ua, drop_on_loop, reg);
		return r;
	}
	if (r) {
		reg_destroy(reg);
		return r;
	}
	*out = reg;
	return 0;
}

int sipcx_reg_info(struct sipcx_reg *reg, struct sipcx_reg_info *out)
{
	if (!reg || !out)
		return -EINVAL;
	uv_mutex_lock(&reg->lock);
	*out = reg->info;
	uv_mutex_unlock(&reg->lock);
	return 0;
}

/* sipcx_reg_free(), first half on the loop: stop refreshing, unregister when bound. */
static void begin_close(void *arg)
{
	struct sipcx_reg *reg = arg;
	if (reg->closing)
		return;
	reg->closing = true;
	disarm(reg);
	uv_mutex_lock(&reg->lock);
	bool pending = reg->pending;
	enum sipcx_reg_state st = reg->info.state;
	uv_mutex_unlock(&reg->lock);
	if (reg->ua_closed) {
		set_close_done(reg);
		return;
	}
	if (pending)
		return; /* its answer continues the unregistration */
	if (reg->bound && reg->kind == KIND_REG && st != SIPCX_REG_UNREGISTERED)
		unregister_now(reg);
	else
		set_close_done(reg);
}

/* Second half: no more callbacks; the memory goes when the loop is done with it. */
static void end_close(void *arg)
{
	struct sipcx_reg *reg = arg;
	reg->cb = NULL;
	reg->watch = NULL;
	if (!reg->ua_closed)
		close_timer(reg);
	uv_mutex_lock(&reg->lock);
	reg->user_gone = true;
	uv_mutex_unlock(&reg->lock);
	maybe_destroy(reg);
}

static void free_on_loop(void *arg)
{
	begin_close(arg);
	end_close(arg);
}

int sipcx_reg_unregister(struct sipcx_reg *reg)
{
	return reg ? sipcx_ua_call(reg->ua, begin_close, reg) : -EINVAL;
}

void sipcx_reg_free(struct sipcx_reg *reg)
{
	if (!reg)
		return;
	/* Never waits: Expires: 0 goes out, the loop releases the memory after its answer. */
	if (sipcx_ua_call(reg->ua, free_on_loop, reg) != 0) {
		/* The UA is shutting down: its loop has closed the timer or is about to. */
		uv_mutex_lock(&reg->lock);
		reg->user_gone = true;
		bool done = !reg->pending && reg->timer_closed;
		uv_mutex_unlock(&reg->lock);
		if (done)
			reg_destroy(reg);
	}
}

/* ---- for the phone layer (loop thread) ---- */

void sipcx__reg_watch(struct sipcx_reg *reg, void (*fn)(struct sipcx_reg *, void *), void *arg)
{
	reg->watch = fn;
	reg->watch_arg = arg;
}

void sipcx__reg_close_begin(struct sipcx_reg *reg)
{
	begin_close(reg);
}

bool sipcx__reg_close_done(struct sipcx_reg *reg)
{
	uv_mutex_lock(&reg->lock);
	bool done = reg->close_done;
	uv_mutex_unlock(&reg->lock);
	return done;
}

void sipcx__reg_close_end(struct sipcx_reg *reg)
{
	end_close(reg);
}

uint32_t sipcx__reg_unregister_timeout_ms(const struct sipcx_reg *reg)
{
	return reg->unreg_timeout_ms;
}

struct sipcx_ua *sipcx__reg_ua(const struct sipcx_reg *reg)
{
	return reg->ua;
}
