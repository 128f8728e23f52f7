/* ua: the registrar's record-routing stateless proxy (RFC 3261 16.6, 16.7, 16.11). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ua/dns.h"
#include "ua/registrar.h"

static int uri_dst(const struct sipcx_uri *u, struct sipcx_tp_addr *dst);

/* Is host:port one of our listen addresses (a domain name: one we serve)? */
static bool is_us(struct sipcx_registrar *r, const struct sipcx_uri *u)
{
	struct sipcx_ua *ua = r->ua;
	struct sipcx_tp_addr d0;
	uint16_t port = u->port ? u->port
	                        : (uri_dst(u, &d0) == 0 ? sipcx_sa_port(&d0.sa.sa)
	                                                : sipcx__ua_default_port(SIPCX_TP_UDP));
	union sipcx_sa sa;
	if (sipcx_sa_set(&sa, u->host, port) != 0)
		return sipcx__registrar_serves(r, u->host);
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

/* The transport address a URI points at: numeric hosts; -EAGAIN for a name (hop_dst() locates it). */
static int uri_dst(const struct sipcx_uri *u, struct sipcx_tp_addr *dst)
{
	struct sipcx_str tp;
	dst->proto = SIPCX_TP_UDP;
	if (sipcx_uri_param(u, "transport", &tp)) {
		dst->proto = sipcx_tp_lookup(tp);
		if (dst->proto == SIPCX_TP_NONE)
			return -EPROTONOSUPPORT;
	}
	if (u->scheme == SIPCX_URI_SIPS) /* RFC 3261 26.2.2, RFC 7118 6 */
		dst->proto = dst->proto == SIPCX_TP_WS || dst->proto == SIPCX_TP_WSS ? SIPCX_TP_WSS
		                                                                     : SIPCX_TP_TLS;
	return sipcx_sa_set(&dst->sa, u->host,
	                    u->port ? u->port : sipcx__ua_default_port(dst->proto))
	           ? -EAGAIN
	           : 0;
}

/*
 * A request waiting for its next hop's name (RFC 3263, on the UA's loop):
 * a copy of it and of where it came from, routed again once the look-up
 * answers. r is NULL once the registrar went (the look-up still ends).
 */
struct proxy_wait {
	struct sipcx_registrar *r;
	struct proxy_wait *next, **pprev; /* r->waits */
	struct sipcx_msg *m;
	struct ua_origin og;
	enum sipcx_tp_proto proto;
	union sipcx_sa local;
	char key[SIPCX__DNS_KEY];
};

/* The answer routed with a waiting request (route()): the hop it was for, its address or error. */
struct proxy_got {
	const char *key;
	int err;
	struct sipcx_tp_addr dst;
};

static bool route(struct sipcx_registrar *r, const struct sipcx_tp_pkt *pkt,
                  const struct ua_origin *og, const struct proxy_got *got);
static bool refuse(struct sipcx_registrar *r, const struct ua_origin *og, const struct sipcx_msg *m,
                   uint16_t status, const char *reason, const struct sipcx_hdr *hdrs, size_t n);

static void wait_unlink(struct proxy_wait *w)
{
	if (w->next)
		w->next->pprev = w->pprev;
	*w->pprev = w->next;
	w->r->nwaits--;
	w->r = NULL;
}

static void wait_located(int err, const struct sipcx_tp_addr *t, size_t n, void *arg)
{
	struct proxy_wait *w = arg;
	struct sipcx_registrar *r = w->r;
	if (r && err == SIPCX_ECLOSED) {
		wait_unlink(w); /* the UA shuts down: nothing goes out */
	} else if (r) {
		wait_unlink(w);
		struct proxy_got got = { .key = w->key, .err = err ? err : n ? 0 : SIPCX_ERESOLVE };
		if (!got.err)
			got.dst = t[0]; /* a stateless proxy tries one target (RFC 3263 4.3) */
		else
			SIPCX_INFO("registrar: next hop %s not located: %s", w->key,
			           sipcx_strerror(got.err));
		struct sipcx_tp_pkt pkt = { .proto = w->proto,
			                    .local = &w->local.sa,
			                    .remote = &w->og.src.sa.sa,
			                    .conn = w->og.conn,
			                    .msg = w->m };
		route(r, &pkt, &w->og, &got);
	}
	sipcx_msg_unref(w->m);
	sipcx_free(w);
}

void sipcx__proxy_forget(struct sipcx_registrar *r)
{
	while (r->waits)
		wait_unlink(r->waits);
}

/* Keep the request until key's look-up answers; -EBUSY when PROXY_MAX_WAITS already wait. */
static int wait_for_hop(struct sipcx_registrar *r, const struct sipcx_tp_pkt *pkt,
                        const struct ua_origin *og, const struct sipcx_uri *u, const char *key)
{
	if (r->nwaits >= PROXY_MAX_WAITS)
		return -EBUSY;
	struct proxy_wait *w = sipcx_calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	int e = sipcx_msg_dup(&w->m, pkt->msg);
	if (!e)
		e = sipcx__dns_locate(r->ua, u, SIPCX_TP_NONE, wait_located, w);
	if (e) {
		sipcx_msg_unref(w->m);
		sipcx_free(w);
		return e;
	}
	w->og = *og;
	w->proto = pkt->proto;
	memcpy(&w->local, pkt->local,
	       pkt->local->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                         : sizeof(struct sockaddr_in));
	snprintf(w->key, sizeof(w->key), "%s", key);
	w->r = r;
	w->next = r->waits;
	if (w->next)
		w->next->pprev = &w->next;
	w->pprev = &r->waits;
	r->waits = w;
	r->nwaits++;
	return 0;
}

/*
 * *dst for the next hop u: numeric now (0); a name: the look-up's answer
 * when routing again (got), else the request waits for it (1); or an error.
 */
static int hop_dst(struct sipcx_registrar *r, const struct sipcx_tp_pkt *pkt,
                   const struct ua_origin *og, const struct sipcx_uri *u,
                   const struct proxy_got *got, struct sipcx_tp_addr *dst)
{
	int e = uri_dst(u, dst);
	if (e != -EAGAIN)
		return e;
	char key[SIPCX__DNS_KEY];
	sipcx__dns_uri_key(u, key, sizeof(key));
	if (!got) {
		e = wait_for_hop(r, pkt, og, u, key);
		return e ? e : 1;
	}
	if (strcmp(got->key, key) != 0)
		return SIPCX_ERESOLVE; /* routed elsewhere meanwhile (a binding changed) */
	*dst = got->dst;
	return got->err;
}

/* A next hop we cannot reach (RFC 3261 16.9: as a 503 from it); 502 for a URI we cannot use. */
static bool refuse_hop(struct sipcx_registrar *r, const struct ua_origin *og,
                       const struct sipcx_msg *m, int e, const char *bad)
{
	if (e == -EBUSY)
		return refuse(r, og, m, 503, "Too Many Lookups", NULL, 0);
	if (e == -EPROTONOSUPPORT || e == -EINVAL)
		return refuse(r, og, m, 502, bad, NULL, 0);
	return refuse(r, og, m, 503, "Cannot Resolve", NULL, 0);
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

/*
 * The token of our Record-Route URIs: a keyed hash of the Call-ID, which a
 * dialog keeps, and of the flow the entry names (0: none). A Route entry
 * naming us with it is one we record-routed; anyone can write our address
 * in a Route, nobody else this token, nor change the flow under it.
 */
static void rr_token(struct sipcx_registrar *r, struct sipcx_str call_id, uint64_t flow,
                     char out[17])
{
	uint64_t h = sipcx__fnv64_str(SIPCX__FNV64_INIT ^ (r->key * 31u + 7u), call_id);
	h = sipcx__fnv64(h, &flow, sizeof(flow));
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* Is ra one of our Record-Routes for this Call-ID? *flow gets the connection it names. */
static bool rr_ours(struct sipcx_registrar *r, const struct sipcx_uri *u, struct sipcx_str call_id,
                    uint64_t *flow)
{
	struct sipcx_str t, f;
	uint64_t fl = 0;
	char want[17];
	if (sipcx_uri_param(u, PROXY_RR_FLOW, &f) && sipcx_str_to_u64(f, UINT64_MAX, &fl) != 0)
		return false;
	rr_token(r, call_id, fl, want);
	if (!sipcx_uri_param(u, PROXY_RR_PARAM, &t) ||
	    !sipcx_str_eq(t, (struct sipcx_str){ want, 16 }))
		return false;
	*flow = fl;
	return true;
}

/* Answer req statelessly (never an ACK) and report the refusal; returns true (taken). */
static bool refuse(struct sipcx_registrar *r, const struct ua_origin *og, const struct sipcx_msg *m,
                   uint16_t status, const char *reason, const struct sipcx_hdr *hdrs, size_t n)
{
	if (m->method == SIPCX_METHOD_ACK)
		return true;
	sipcx__ua_reply(r->ua, og, m, status, reason, hdrs, n);
	if (status >= 400 && status != 407)
		sipcx__registrar_emit(r, SIPCX_REGISTRAR_REJECTED, NULL, NULL, NULL, &og->src, 0,
		                      status, m);
	return true;
}

/*
 * --auth-calls: a request From one of our users that starts a dialog or
 * stands alone needs that user's password (407, RFC 3261 22.3), and the
 * lockout of password guessers applies. Returns true when it answered.
 */
static bool challenge_caller(struct sipcx_registrar *r, const struct ua_origin *og,
                             const struct sipcx_msg *m)
{
	const struct sipcx_addr *from = sipcx_msg_from(m);
	if (!r->auth || !r->auth_calls || !from || !from->uri.user.len ||
	    !sipcx__registrar_serves(r, from->uri.host) ||
	    !sipcx__registrar_user_find(r, from->uri.user))
		return false;
	uint64_t now = sipcx_now_us();
	uint64_t left = sipcx__lockout_left(&r->lock, &og->src, now / 1000u);
	if (left) {
		char ra[24];
		snprintf(ra, sizeof(ra), "%llu", (unsigned long long)(left + 999) / 1000);
		struct sipcx_hdr h = { SIPCX_HDR_RETRY_AFTER, SIPCX_STR_NULL, sipcx_str_c(ra) };
		if (m->method != SIPCX_METHOD_ACK)
			sipcx__ua_reply(r->ua, og, m, 403, "Too Many Failed Attempts", &h, 1);
		return true;
	}
	struct sipcx_auth_result res;
	if (sipcx_auth_server_verify(r->auth, now / 1000000u, m, true, sipcx__registrar_secret, r,
	                             &res) != 0)
		return refuse(r, og, m, 500, NULL, NULL, 0);
	if (res.verdict == SIPCX_AUTH_OK)
		return sipcx_str_eq(res.username, from->uri.user)
		           ? false
		           : refuse(r, og, m, 403, "Forbidden Auth ID", NULL, 0);
	if (sipcx__registrar_guess(&res)) {
		char user[128];
		snprintf(user, sizeof(user), "%.*s", SIPCX_STR_FMT(from->uri.user));
		sipcx__registrar_emit(r, SIPCX_REGISTRAR_AUTH_FAILED, user, NULL, NULL, &og->src, 0,
		                      407, m);
		uint64_t ms = sipcx__lockout_fail(&r->lock, &og->src, now / 1000u);
		if (ms) {
			char host[SIPCX_ADDRSTRLEN], d[160];
			if (sipcx_sa_host(&og->src.sa.sa, host, sizeof(host)) < 0)
				host[0] = '\0';
			snprintf(d, sizeof(d), "lockout of %s for %llu s after %u failed passwords",
			         host, (unsigned long long)(ms / 1000u), r->lock.max);
			sipcx__registrar_limited(r, &og->src, m, d);
		}
	}
	struct sipcx_buf b;
	struct sipcx_hdr hdrs[SIPCX_ARRAY_SIZE(r->alg_order)];
	sipcx_buf_init(&b);
	size_t n = sipcx__registrar_challenges(r, true, res.verdict == SIPCX_AUTH_STALE, &b, hdrs);
	if (n)
		refuse(r, og, m, 407, NULL, hdrs, n);
	else
		refuse(r, og, m, 500, "Cannot Challenge", NULL, 0);
	sipcx_buf_free(&b);
	return true;
}

bool sipcx__proxy_req(struct sipcx_ua *ua, const struct sipcx_tp_pkt *pkt,
                      const struct ua_origin *og, void *arg)
{
	(void)ua;
	return route(arg, pkt, og, NULL);
}

/* Route a request (got: its next hop's look-up answered, when it waited for one). */
static bool route(struct sipcx_registrar *r, const struct sipcx_tp_pkt *pkt,
                  const struct ua_origin *og, const struct proxy_got *got)
{
	struct sipcx_ua *ua = r->ua;
	const struct sipcx_msg *m = pkt->msg;
	if (m->method == SIPCX_METHOD_REGISTER)
		return false;
	const struct sipcx_uri *ruri = sipcx_msg_ruri(m);
	const struct sipcx_via *via = sipcx_msg_via(m);
	const struct sipcx_addr *to = sipcx_msg_to(m);
	if (!ruri || (ruri->scheme != SIPCX_URI_SIP && ruri->scheme != SIPCX_URI_SIPS) || !via ||
	    !to)
		return false;
	bool ack = m->method == SIPCX_METHOD_ACK;
	bool dialog = to->tag.len != 0;
	struct sipcx_str call_id = sipcx_msg_call_id(m);

	/*
	 * Route (RFC 3261 16.4): our own entries on top are removed: one, or
	 * two where we record-routed twice (RFC 5658); the next one is the hop.
	 */
	unsigned popped = 0;
	bool routed = false, ours = false;
	uint64_t flow = 0; /* the far side's connection, named by the second of our entries */
	struct sipcx_uri hop;
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_str v;
	for (int i = 0; sipcx_msg_value_next(m, SIPCX_HDR_ROUTE, &it, &v) == 1 && i < 3; i++) {
		struct sipcx_addr ra;
		if (sipcx_addr_parse(&ra, v) != 0)
			break;
		if (popped < 2 && !routed && is_us(r, &ra.uri)) {
			uint64_t f = 0;
			bool mine = rr_ours(r, &ra.uri, call_id, &f);
			ours |= mine;
			if (mine && popped == 1)
				flow = f;
			popped++;
			continue;
		}
		hop = ra.uri;
		routed = true;
		break;
	}
	/* RFC 3261 16.3 step 5: no proxy extension is supported. */
	if (sipcx_msg_hdr(m, SIPCX_HDR_PROXY_REQUIRE)) {
		const struct sipcx_hdr *pr = sipcx_msg_hdr(m, SIPCX_HDR_PROXY_REQUIRE);
		struct sipcx_hdr h = { SIPCX_HDR_UNSUPPORTED, SIPCX_STR_NULL, pr->value };
		return refuse(r, og, m, 420, NULL, &h, 1);
	}

	/*
	 * No open relay (RFC 3261 16.4, and what kamailio's default script
	 * does): a request in a dialog goes on only along a Route set holding
	 * a Record-Route we added; a request outside one only to our users, or
	 * to the upstream proxy.
	 */
	if (popped && dialog && !ours)
		return refuse(r, og, m, 403, "Not Our Route", NULL, 0);
	if (routed && !dialog)
		return refuse(r, og, m, 403, "Preloaded Route Denied", NULL, 0);

	char target[512];
	struct sipcx_str new_ruri = m->ruri;
	const struct binding *bnd = NULL;
	const char *user_name = NULL;
	bool upstream = false;
	if (!routed) {
		if (popped && dialog && !is_us(r, ruri)) {
			hop = *ruri; /* the dialog's remote target */
		} else if (is_us(r, ruri)) {
			if (!ruri->user.len)
				return false; /* for the registrar itself: the UA answers */
			if (!dialog && !ack && m->method != SIPCX_METHOD_CANCEL &&
			    challenge_caller(r, og, m))
				return true;
			struct user *u = sipcx__registrar_user_find(r, ruri->user);
			if (u)
				sipcx__registrar_prune(r, u, sipcx_now_us());
			/* The same answer for a user without binding as for no user: no enumeration. */
			if (!u || !u->bindings)
				return refuse(r, og, m, 404, NULL, NULL, 0);
			/* No forking: the most recently registered Contact. */
			for (const struct binding *b = u->bindings; b; b = b->next)
				if (!bnd || b->updated_us > bnd->updated_us)
					bnd = b;
			user_name = u->name;
			snprintf(target, sizeof(target), "%s", bnd->uri);
			new_ruri = sipcx_str_c(target);
			if (sipcx_uri_parse(&hop, new_ruri) != 0)
				return true;
		} else if (dialog) {
			return refuse(r, og, m, 404, "Not Here", NULL, 0);
		} else if (r->upstream.proto != SIPCX_TP_NONE) {
			if (!ack && m->method != SIPCX_METHOD_CANCEL && challenge_caller(r, og, m))
				return true;
			hop = *ruri;
			upstream = true;
		} else {
			return refuse(r, og, m, 403, "Relaying Denied", NULL, 0);
		}
	}
	uint32_t mf = 70;
	int e = sipcx_msg_max_forwards(m, &mf);
	if (e == 0 && mf == 0)
		return refuse(r, og, m, 483, NULL, NULL, 0);
	if (e)
		mf = 70;
	struct sipcx_tp_addr dst;
	uint64_t conn = 0;
	struct sipcx_addr pa;
	struct sipcx_str prest, pfirst;
	if (upstream) {
		dst = r->upstream;
	} else if (bnd && bnd->path) {
		/* RFC 3327 5.3: toward the Contact through its Path, as a Route set. */
		prest = sipcx_str_c(bnd->path);
		if (sipcx_hdr_split(&prest, &pfirst) != 1 || sipcx_addr_parse(&pa, pfirst) != 0)
			return refuse(r, og, m, 502, "Bad Path", NULL, 0);
		e = hop_dst(r, pkt, og, &pa.uri, got, &dst);
		if (e)
			return e == 1 || refuse_hop(r, og, m, e, "Bad Path");
	} else if (bnd) {
		if (uri_dst(&hop, &dst) != 0)
			dst = bnd->source; /* a Contact by name: where its REGISTER came from */
	} else if ((e = hop_dst(r, pkt, og, &hop, got, &dst)) != 0) {
		/* In a dialog, the Route or remote target by name: located (RFC 3263 4). */
		return e == 1 || refuse_hop(r, og, m, e, "Cannot Resolve");
	}
	if (bnd && !bnd->path) {
		/*
		 * The registration's own connection (RFC 5626 5.3; RFC 3261 18.2.2
		 * in spirit): a phone behind NAT listens on no reachable port. It
		 * is used while open; gone, a new one goes to the Contact.
		 */
		if (sipcx__ua_stream(bnd->source.proto)) {
			if (dst.proto != bnd->source.proto)
				dst = bnd->source;
			conn = bnd->conn;
		} else if (bnd->reg_id) {
			dst = bnd->source; /* the UDP flow: where its REGISTERs come from */
		}
	}
	/* In a dialog, the far side's connection that our Record-Route named (RFC 5626 5.3). */
	if (flow && sipcx__ua_stream(dst.proto))
		conn = flow;
	if (!upstream && !(bnd && bnd->path) && is_us(r, &hop))
		return refuse(r, og, m, 482, "Loop Detected", NULL, 0);

	/* RFC 3261 16.11: the same branch for a retransmission, its CANCEL and its non-2xx ACK. */
	uint64_t h = sipcx__fnv64_str(SIPCX__FNV64_INIT ^ r->key, via->branch);
	if (!sipcx_str_eq((struct sipcx_str){ via->branch.p, via->branch.len < 7 ? 0 : 7 },
	                  SIPCX_STR("z9hG4bK"))) {
		h = sipcx__fnv64_str(h, via->raw);
		h = sipcx__fnv64_str(h, sipcx_msg_call_id(m));
		h = sipcx__fnv64_str(h, m->ruri);
	}
	char hostport[SIPCX_ADDRSTRLEN], myvia[256], mf_s[12];
	char rr_in[SIPCX_ADDRSTRLEN + 112], rr_out[SIPCX_ADDRSTRLEN + 112];
	if (sipcx__ua_local(ua, &dst, hostport, sizeof(hostport), NULL, 0) != 0)
		return refuse(r, og, m, 503, "No Route", NULL, 0);
	if (sipcx__ua_stream(og->src.proto))
		snprintf(myvia, sizeof(myvia),
		         "SIP/2.0/%s %s;branch=" PROXY_BRANCH "%016llx;sxc=%llu",
		         sipcx_tp_name(dst.proto), hostport, (unsigned long long)h,
		         (unsigned long long)og->conn);
	else
		snprintf(myvia, sizeof(myvia), "SIP/2.0/%s %s;branch=" PROXY_BRANCH "%016llx",
		         sipcx_tp_name(dst.proto), hostport, (unsigned long long)h);
	snprintf(mf_s, sizeof(mf_s), "%u", mf - 1);
	/* RFC 3261 16.6 step 4: stay on the path of the dialog this request creates. */
	bool record =
	    !dialog && (m->method == SIPCX_METHOD_INVITE || m->method == SIPCX_METHOD_SUBSCRIBE ||
	                m->method == SIPCX_METHOD_REFER);
	/* The address the request came in on; for a wildcard listener, ours toward the sender. */
	char lhp[SIPCX_ADDRSTRLEN];
	int lr = sipcx_sa_is_any(pkt->local)
	             ? sipcx__ua_local(ua, &og->src, lhp, sizeof(lhp), NULL, 0)
	             : (sipcx_sa_print(pkt->local, lhp, sizeof(lhp)) > 0 ? 0 : -EINVAL);
	/*
	 * RFC 5658 4: when the request leaves on another transport or address
	 * than it came in on, or over TCP, two Record-Routes: the one the
	 * callee sees on top (its side), the caller's side below. Each names
	 * its side's TCP connection (a flow), so the dialog's later requests
	 * reach a phone behind NAT on the connection it opened.
	 */
	bool twice = false;
	if (record && lr == 0) {
		char tok[17];
		uint64_t fin = sipcx__ua_stream(pkt->proto) ? og->conn : 0;
		uint64_t fout = sipcx__ua_stream(dst.proto) ? conn : 0;
		/* "%.0llu": the flow's number, or nothing when there is none (0). */
		rr_token(r, call_id, fin, tok);
		snprintf(rr_in, sizeof(rr_in), "<sip:%s;lr;" PROXY_RR_PARAM "=%s%s%.0llu%s>", lhp,
		         tok, fin ? ";" PROXY_RR_FLOW "=" : "", (unsigned long long)fin,
		         sipcx__ua_tp_param(pkt->proto));
		rr_token(r, call_id, fout, tok);
		snprintf(rr_out, sizeof(rr_out), "<sip:%s;lr;" PROXY_RR_PARAM "=%s%s%.0llu%s>",
		         hostport, tok, fout ? ";" PROXY_RR_FLOW "=" : "", (unsigned long long)fout,
		         sipcx__ua_tp_param(dst.proto));
		twice = dst.proto != pkt->proto || strcmp(hostport, lhp) != 0 ||
		        sipcx__ua_stream(dst.proto);
	} else {
		record = false;
	}

	struct sipcx_hdr *hdrs = sipcx_calloc(m->hdr_count + 5, sizeof(*hdrs));
	struct sipcx_buf topvia;
	sipcx_buf_init(&topvia);
	if (!hdrs)
		return refuse(r, og, m, 500, NULL, NULL, 0);
	size_t n = 0;
	hdrs[n++] = (struct sipcx_hdr){ SIPCX_HDR_VIA, SIPCX_STR_NULL, sipcx_str_c(myvia) };
	if (record && twice)
		hdrs[n++] = (struct sipcx_hdr){ SIPCX_HDR_RECORD_ROUTE, SIPCX_STR_NULL,
			                        sipcx_str_c(rr_out) };
	if (record)
		hdrs[n++] = (struct sipcx_hdr){ SIPCX_HDR_RECORD_ROUTE, SIPCX_STR_NULL,
			                        sipcx_str_c(rr_in) };
	if (bnd && bnd->path)
		hdrs[n++] =
		    (struct sipcx_hdr){ SIPCX_HDR_ROUTE, SIPCX_STR_NULL, sipcx_str_c(bnd->path) };
	const struct sipcx_hdr *first_via = sipcx_msg_hdr(m, SIPCX_HDR_VIA);
	bool has_mf = false;
	unsigned drop = popped; /* our Route entries still to remove, line by line */
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
		} else if (x.id == SIPCX_HDR_ROUTE && drop) {
			while (drop && x.value.len) {
				x.value = drop_first(x.value);
				drop--;
			}
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
		refuse(r, og, m, 503, "Forwarding Failed", NULL, 0);
	} else {
		UA_STAT_ADD(ua, tx_requests, 1);
		char method[32], ru[512];
		snprintf(method, sizeof(method), "%.*s", SIPCX_STR_FMT(m->method_str));
		snprintf(ru, sizeof(ru), "%.*s", SIPCX_STR_FMT(new_ruri));
		sipcx__registrar_emit(r, SIPCX_REGISTRAR_ROUTED, user_name, ru, method, &og->src, 0,
		                      0, m);
	}
	sipcx_buf_free(&out);
	sipcx_buf_free(&topvia);
	sipcx_free(hdrs);
	return true;
}

bool sipcx__proxy_resp(struct sipcx_ua *ua, const struct sipcx_tp_pkt *pkt, void *arg)
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
	uint16_t port = next.rport > 0
	                    ? (uint16_t)next.rport
	                    : (next.port ? next.port : sipcx__ua_default_port(dst.proto));
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
		UA_STAT_ADD(ua, tx_responses, 1);
	sipcx_buf_free(&out);
	sipcx_free(hdrs);
	return true;
}
