/* ua: the registrar's record-routing stateless proxy (RFC 3261 16.6, 16.7, 16.11). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ua/registrar.h"

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

bool sipcx__proxy_req(struct sipcx_ua *ua, const struct sipcx_tp_pkt *pkt,
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
			struct user *u = sipcx__registrar_user_find(r, ruri->user);
			if (u)
				sipcx__registrar_prune(r, u, sipcx_now_us());
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
