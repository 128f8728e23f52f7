/* ua: receiving: checks, matching, 482/483/405/501, OPTIONS, handlers, responses (RFC 3261 8.2, 17.2.3, RFC 3581). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ua/ua.h"

/*
 * The loop thread builds every response in one scratch buffer: no
 * allocation per response once it has grown; the transaction keeps its
 * own exact-size copy. Not reentrant: nothing built here calls back into
 * a builder before the bytes are sent or copied.
 */
static struct sipcx_buf *scratch_get(struct sipcx_ua *ua)
{
	struct sipcx_buf *b = &ua->scratch;
	b->len = 0;
	b->err = 0;
	return b;
}

static void scratch_put(struct sipcx_ua *ua)
{
	/* A rare large response does not pin its memory. */
	if (ua->scratch.cap > UA_SCRATCH_KEEP)
		sipcx_buf_free(&ua->scratch);
}

/* Eight lower-case hex digits of v (no NUL). */
static void hex8(char *out, uint32_t v)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 7; i >= 0; i--, v >>= 4)
		out[i] = digits[v & 0xfu];
}

/* ---- Allow and handlers ---- */

static struct ua_handler *find_handler(struct sipcx_ua *ua, const struct sipcx_msg *m)
{
	for (struct ua_handler *h = ua->handlers; h; h = h->next) {
		if (m->method != SIPCX_METHOD_OTHER
		        ? h->id == m->method
		        : (h->id == SIPCX_METHOD_OTHER &&
		           sipcx_str_eq(sipcx_str_c(h->method), m->method_str)))
			return h;
	}
	return NULL;
}

void sipcx__ua_allow_update(struct sipcx_ua *ua)
{
	struct sipcx_buf b;
	bool invite = false;
	sipcx_buf_init(&b);
	for (struct ua_handler *h = ua->handlers; h; h = h->next)
		invite |= h->id == SIPCX_METHOD_INVITE;
	bool calls = sipcx__calls_listening(ua);
	/* OPTIONS is always answered; ACK and CANCEL come with INVITE; calls bring their methods. */
	sipcx_buf_puts(&b, calls    ? "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO"
	                   : invite ? "INVITE, ACK, CANCEL, OPTIONS"
	                            : "OPTIONS");
	for (struct ua_handler *h = ua->handlers; h; h = h->next) {
		if (h->id == SIPCX_METHOD_INVITE || h->id == SIPCX_METHOD_OPTIONS ||
		    (calls && (h->id == SIPCX_METHOD_BYE || h->id == SIPCX_METHOD_UPDATE ||
		               h->id == SIPCX_METHOD_PRACK || h->id == SIPCX_METHOD_INFO)))
			continue;
		sipcx_buf_printf(&b, ", %s", h->method);
	}
	if (!sipcx_buf_err(&b) && b.len < sizeof(ua->allow))
		memcpy(ua->allow, b.p, b.len + 1);
	sipcx_buf_free(&b);
}

int sipcx__ua_do_handle(struct sipcx_ua *ua, const char *method, unsigned flags,
                        sipcx_ua_req_cb *cb, void *arg)
{
	enum sipcx_method id = sipcx_method_lookup(sipcx_str_c(method));
	struct ua_handler **pp = &ua->handlers;
	while (*pp && strcmp((*pp)->method, method))
		pp = &(*pp)->next;
	if (!cb) {
		if (*pp) {
			struct ua_handler *h = *pp;
			*pp = h->next;
			sipcx_free(h->method);
			sipcx_free(h);
		}
		sipcx__ua_allow_update(ua);
		return 0;
	}
	struct ua_handler *h = *pp;
	if (!h) {
		h = sipcx_calloc(1, sizeof(*h));
		if (!h)
			return -ENOMEM;
		h->method = sipcx_strdup(method);
		if (!h->method) {
			sipcx_free(h);
			return -ENOMEM;
		}
		*pp = h;
	}
	h->id = id;
	h->flags = flags;
	h->cb = cb;
	h->arg = arg;
	sipcx__ua_allow_update(ua);
	return 0;
}

int sipcx_ua_handle(struct sipcx_ua *ua, const char *method, unsigned flags, sipcx_ua_req_cb *cb,
                    void *arg)
{
	if (!ua || !method || !*method || strlen(method) > 32 || !strcmp(method, "ACK") ||
	    !strcmp(method, "CANCEL"))
		return -EINVAL;
	for (const char *c = method; *c; c++)
		if (*c <= ' ' || *c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", *c))
			return -EINVAL;
	if (sipcx__ua_on_loop(ua))
		return sipcx__ua_do_handle(ua, method, flags, cb, arg);
	struct ua_job job = { .type = UA_JOB_HANDLE,
		              .sync = true,
		              .method = method,
		              .flags = flags,
		              .hcb = cb,
		              .arg = arg };
	int r = sipcx__ua_submit(ua, &job);
	return r ? r : job.result;
}

/* ---- responses ---- */

/*
 * Our Contact for a response going to dst. The local address comes from
 * the transport (with a wildcard listener: a route lookup, four system
 * calls), the text from printf: under load every response goes to the
 * same few peers, so the last one is kept for a second (a route may
 * change). Loop thread only.
 */
#define CONTACT_KEEP_US 1000000u

static const char *contact_for(struct sipcx_ua *ua, const struct sipcx_tp_addr *dst, bool sips)
{
	uint64_t now = sipcx_now_us();
	if (ua->contact.value[0] && ua->contact.proto == dst->proto && ua->contact.sips == sips &&
	    now < ua->contact.until_us && sipcx_sa_equal_host(&ua->contact.dst.sa, &dst->sa.sa))
		return ua->contact.value;
	if (sipcx__ua_contact(ua, dst, NULL, sips, ua->contact.value, sizeof(ua->contact.value)))
		ua->contact.value[0] = '\0';
	ua->contact.proto = dst->proto;
	ua->contact.sips = sips;
	memcpy(&ua->contact.dst, &dst->sa, sizeof(ua->contact.dst));
	ua->contact.until_us = now + CONTACT_KEEP_US;
	return ua->contact.value;
}

/*
 * RFC 3261 8.2.6 response to req, with our extra headers (Server, Contact
 * for 2xx, Allow/Accept/Supported where asked), then the caller's; the top
 * Via gets received/rport (RFC 3581 4).
 */
static int build_reply(struct sipcx_ua *ua, struct sipcx_buf *b, const struct sipcx_msg *req,
                       const struct sipcx_tp_addr *dst, const char *via_extra, const char *to_tag,
                       uint16_t status, const char *reason, const struct sipcx_hdr *ours,
                       size_t nours, const struct sipcx_hdr *hdrs, size_t nhdrs,
                       const char *content_type, struct sipcx_str body)
{
	struct sipcx_hdr stack[16];
	struct sipcx_hdr *all = stack;
	/*
	 * RFC 3261 12.1.1: a response that makes a dialog (101-299 to an INVITE
	 * outside one) carries the request's Record-Route values, in order.
	 */
	const struct sipcx_addr *rto = sipcx_msg_to(req);
	bool rr = req->method == SIPCX_METHOD_INVITE && status > 100 && status < 300 && rto &&
	          !rto->tag.len;
	size_t nrr = rr ? sipcx_msg_hdr_count(req, SIPCX_HDR_RECORD_ROUTE) : 0;
	size_t n = 0, max = 4 + nours + nhdrs + nrr;

	if (max > SIPCX_ARRAY_SIZE(stack)) {
		all = sipcx_calloc(max, sizeof(*all));
		if (!all)
			return -ENOMEM;
	}
	all[n++] =
	    (struct sipcx_hdr){ SIPCX_HDR_SERVER, SIPCX_STR_NULL, sipcx_str_c(ua->user_agent) };
	/* RFC 3261 10.3: the Contacts of a 2xx to REGISTER are the bindings, not us. */
	bool has_contact = req->method == SIPCX_METHOD_REGISTER;
	for (size_t i = 0; i < nhdrs && !has_contact; i++)
		has_contact =
		    hdrs[i].id == SIPCX_HDR_CONTACT ||
		    (hdrs[i].id == SIPCX_HDR_OTHER && sipcx_str_ieq_c(hdrs[i].name, "Contact"));
	if (status >= 200 && status < 300 && !has_contact) {
		/* RFC 3261 12.1.1: a sips Request-URI gets a sips Contact. */
		const char *contact = contact_for(
		    ua, dst, req->ruri.len > 5 && !strncasecmp(req->ruri.p, "sips:", 5));
		if (contact[0])
			all[n++] = (struct sipcx_hdr){ SIPCX_HDR_CONTACT, SIPCX_STR_NULL,
				                       sipcx_str_c(contact) };
	}
	for (const struct sipcx_hdr *h = nrr ? sipcx_msg_hdr(req, SIPCX_HDR_RECORD_ROUTE) : NULL;
	     h && n < max; h = sipcx_msg_hdr_next(req, h))
		all[n++] = *h;
	for (size_t i = 0; i < nours; i++)
		all[n++] = ours[i];
	for (size_t i = 0; i < nhdrs; i++)
		all[n++] = hdrs[i];
	if (body.len && content_type)
		all[n++] = (struct sipcx_hdr){ SIPCX_HDR_CONTENT_TYPE, SIPCX_STR_NULL,
			                       sipcx_str_c(content_type) };
	size_t start = b->len;
	struct sipcx_str tag = status > 100 && to_tag ? sipcx_str_c(to_tag) : SIPCX_STR_NULL;
	int r = sipcx_msg_print_reply(b, req, status, reason ? sipcx_str_c(reason) : SIPCX_STR_NULL,
	                              tag, all, n, body);
	if (all != stack)
		sipcx_free(all);
	if (r)
		return r;
	/* The top Via, copied byte-exact, gets received/rport (RFC 3581 4). */
	const struct sipcx_via *via = sipcx_msg_via(req);
	if (via && via_extra && via_extra[0] && via->raw.len) {
		const char *at = memmem(b->p + start, b->len - start, via->raw.p, via->raw.len);
		/* The new Via goes to a second scratch buffer, kept like the first. */
		struct sipcx_buf *fixed = &ua->via_scratch;
		fixed->len = 0;
		fixed->err = 0;
		size_t pos = at ? (size_t)(at - b->p) : 0, tail = pos + via->raw.len;
		/* pos, not at: the reserve may move b->p. */
		if (at && sipcx_tp_via_apply(via, via_extra, fixed) == 0 &&
		    sipcx_buf_reserve(b, fixed->len) == 0) {
			memmove(b->p + pos + fixed->len, b->p + tail, b->len - tail);
			memcpy(b->p + pos, fixed->p, fixed->len);
			b->len = b->len - via->raw.len + fixed->len;
			b->p[b->len] = '\0';
		}
		if (fixed->cap > UA_SCRATCH_KEEP)
			sipcx_buf_free(fixed);
	}
	return sipcx_buf_err(b);
}

static void origin_init(struct ua_origin *og, const struct sipcx_tp_pkt *pkt,
                        const struct sipcx_msg *m)
{
	memset(og, 0, sizeof(*og));
	og->src.proto = pkt->proto;
	memcpy(&og->src.sa, pkt->remote, sipcx_sa_len(pkt->remote));
	og->dst = og->src;
	og->conn = pkt->conn;
	const struct sipcx_via *via = sipcx_msg_via(m);
	if (via) {
		sipcx_tp_response_dst(via, pkt->proto, pkt->remote, &og->dst.sa);
		if (sipcx_tp_via_received(via, pkt->remote, og->via_extra, sizeof(og->via_extra)) <
		    0)
			og->via_extra[0] = '\0';
	}
	/* Stateless: the same tag for every retransmission of the request (8.2.6.2). */
	const struct sipcx_addr *from = sipcx_msg_from(m);
	uint32_t h1 = sipcx__fnv32_str(SIPCX__FNV32_INIT, via ? via->branch : SIPCX_STR_NULL);
	h1 = sipcx__fnv32_str(h1, sipcx_msg_call_id(m));
	uint32_t h2 = sipcx__fnv32_str(h1 ^ 0x5bd1e995u, from ? from->tag : SIPCX_STR_NULL);
	hex8(og->to_tag, h1);
	hex8(og->to_tag + 8, h2);
	og->to_tag[16] = '\0';
}

static void send_stateless(struct sipcx_ua *ua, const struct ua_origin *og,
                           const struct sipcx_msg *m, uint16_t status, const char *reason,
                           const struct sipcx_hdr *ours, size_t nours)
{
	struct sipcx_buf *b = scratch_get(ua);
	if (build_reply(ua, b, m, &og->dst, og->via_extra, og->to_tag, status, reason, ours, nours,
	                NULL, 0, NULL, SIPCX_STR_NULL) == 0) {
		/* Counted before it leaves: whoever got the answer sees the count (tests, benches). */
		UA_STAT_ADD(ua, tx_responses, 1);
		UA_STAT_ADD(ua, stateless_responses, 1);
		if (sipcx_transport_send(ua->tp, &og->dst, og->conn, b->p, b->len) != 0) {
			UA_STAT_SUB(ua, tx_responses, 1);
			UA_STAT_SUB(ua, stateless_responses, 1);
		}
	}
	scratch_put(ua);
}

void sipcx__ua_reply(struct sipcx_ua *ua, const struct ua_origin *og, const struct sipcx_msg *m,
                     uint16_t status, const char *reason, const struct sipcx_hdr *hdrs,
                     size_t nhdrs)
{
	send_stateless(ua, og, m, status, reason, hdrs, nhdrs);
}

static void srv_unlink(struct sipcx_ua_srv *srv)
{
	if (srv->pprev) {
		*srv->pprev = srv->next;
		if (srv->next)
			srv->next->pprev = srv->pprev;
		srv->pprev = NULL;
	}
}

int sipcx__ua_do_respond(struct sipcx_ua_srv *srv, uint16_t status, const char *reason,
                         const struct sipcx_hdr *hdrs, size_t nhdrs, const char *content_type,
                         struct sipcx_str body)
{
	struct sipcx_ua *ua = srv->ua;
	if (srv->final_sent)
		return -EPROTO;
	if (!srv->stateless && !srv->ut)
		return -ECANCELED;
	struct sipcx_buf *b = scratch_get(ua);
	int r = build_reply(ua, b, srv->req, &srv->dst, srv->via_extra, srv->to_tag, status, reason,
	                    NULL, 0, hdrs, nhdrs, content_type, body);
	if (r) {
		scratch_put(ua);
		return r;
	}
	if (srv->stateless) {
		UA_STAT_ADD(ua, tx_responses, 1);
		UA_STAT_ADD(ua, stateless_responses, 1);
		r = sipcx_transport_send(ua->tp, &srv->dst, srv->conn, b->p, b->len);
		if (r) {
			UA_STAT_SUB(ua, tx_responses, 1);
			UA_STAT_SUB(ua, stateless_responses, 1);
		}
		scratch_put(ua);
	} else {
		/* The transaction copies the bytes: the scratch is free before any output. */
		struct sipcx_txn_out o;
		r = sipcx_txn_respond(srv->ut->t, b->p, b->len, sipcx_now_us(), &o);
		scratch_put(ua);
		/* A final response released the request: srv->req is not used again. */
		if (!r)
			sipcx__ua_txn_apply(srv->ut, &o);
	}
	if (r || status < 200)
		return r;
	srv->final_sent = true;
	if (!srv->stateless) {
		if (srv->ut)
			srv->ut->srv = NULL;
		srv_unlink(srv);
		sipcx_free(srv);
	}
	return 0;
}

int sipcx_ua_respond(struct sipcx_ua_srv *srv, uint16_t status, const char *reason,
                     const struct sipcx_hdr *hdrs, size_t nhdrs, const char *content_type,
                     struct sipcx_str body)
{
	if (!srv || status < 100 || status > 699 || (nhdrs && !hdrs) || (body.len && !content_type))
		return -EINVAL;
	if (srv->stateless || sipcx__ua_on_loop(srv->ua))
		return sipcx__ua_do_respond(srv, status, reason, hdrs, nhdrs, content_type, body);
	struct ua_job job = { .type = UA_JOB_RESPOND,
		              .sync = true,
		              .srv = srv,
		              .status = status,
		              .reason = reason,
		              .hdrs = hdrs,
		              .nhdrs = nhdrs,
		              .content_type = content_type,
		              .body = body };
	int r = sipcx__ua_submit(srv->ua, &job);
	return r ? r : job.result;
}

int sipcx_ua_srv_source(const struct sipcx_ua_srv *srv, struct sipcx_tp_addr *out)
{
	if (!srv || !out)
		return -EINVAL;
	*out = srv->src;
	return 0;
}

void sipcx__ua_server_txn_gone(struct ua_txn *ut)
{
	/* The user may still answer: the answer then fails with -ECANCELED. */
	if (ut->srv) {
		ut->srv->ut = NULL;
		ut->srv = NULL;
	}
}

void sipcx__ua_server_close_all(struct sipcx_ua *ua)
{
	while (ua->srvs) {
		struct sipcx_ua_srv *srv = ua->srvs;
		srv_unlink(srv);
		sipcx_free(srv);
	}
}

/* ---- receiving ---- */

static void recv_response(struct sipcx_ua *ua, const struct sipcx_tp_pkt *pkt)
{
	struct sipcx_msg *m = pkt->msg;
	/* A response with our Via over another one belongs to a proxied request. */
	if (!pkt->err && ua->proxy.resp && sipcx_msg_check(m, 0, NULL) == SIPCX_MSG_ACCEPT &&
	    ua->proxy.resp(ua, pkt, ua->proxy.arg)) {
		UA_STAT_ADD(ua, rx_responses, 1);
		return;
	}
	/* RFC 3261 8.1.3.3 and 18.1.2: malformed responses are dropped. */
	if (pkt->err || sipcx_msg_check(m, SIPCX_MSG_CHECK_UA, NULL) != SIPCX_MSG_ACCEPT) {
		UA_STAT_ADD(ua, rx_dropped, 1);
		return;
	}
	UA_STAT_ADD(ua, rx_responses, 1);
	struct sipcx_txn *t = sipcx_txn_table_match(ua->table, m);
	if (!t) {
		/* A stray or late response (17.1.3): no dialog layer to take it yet. */
		UA_STAT_ADD(ua, rx_dropped, 1);
		return;
	}
	struct sipcx_txn_out o;
	if (sipcx_txn_recv(t, m, sipcx_now_us(), &o) == 0)
		sipcx__ua_txn_apply(sipcx_txn_user(t), &o);
}

static void answer_options(struct sipcx_ua *ua, const struct ua_origin *og,
                           const struct sipcx_msg *m)
{
	/* RFC 3261 11.2: what we would do with an INVITE, and what we allow. */
	char sup[160];
	const char *calls = sipcx__calls_supported(ua);
	snprintf(sup, sizeof(sup), "%s%s%s", ua->supported,
	         ua->supported[0] && calls[0] ? ", " : "", calls);
	struct sipcx_hdr ours[] = {
		{ SIPCX_HDR_ALLOW, SIPCX_STR_NULL, sipcx_str_c(ua->allow) },
		{ SIPCX_HDR_ACCEPT, SIPCX_STR_NULL, SIPCX_STR("application/sdp") },
		{ SIPCX_HDR_SUPPORTED, SIPCX_STR_NULL, sipcx_str_c(sup) },
	};
	send_stateless(ua, og, m, 200, NULL, ours, SIPCX_ARRAY_SIZE(ours));
}

static void recv_cancel(struct sipcx_ua *ua, const struct ua_origin *og, const struct sipcx_msg *m)
{
	struct sipcx_txn *t = sipcx_txn_table_find_cancelled(ua->table, m);
	if (!t) {
		send_stateless(ua, og, m, 481, NULL, NULL, 0);
		return;
	}
	/* RFC 3261 9.2: 200 to the CANCEL, 487 to the request if it is still pending. */
	send_stateless(ua, og, m, 200, NULL, NULL, 0);
	struct ua_txn *ut = sipcx_txn_user(t);
	if (ut && ut->hooks && ut->hooks->cancelled)
		ut->hooks->cancelled(ut, m, ut->hook_arg); /* a call: it answers 487 and ends */
	else if (ut && ut->srv && !ut->srv->final_sent)
		sipcx__ua_do_respond(ut->srv, 487, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
}

static void run_stateless(struct sipcx_ua *ua, struct ua_handler *h, const struct ua_origin *og,
                          const struct sipcx_msg *m)
{
	struct sipcx_ua_srv srv = {
		.ua = ua,
		.req = m,
		.src = og->src,
		.dst = og->dst,
		.conn = og->conn,
		.via_extra = og->via_extra,
		.to_tag = og->to_tag,
		.stateless = true,
	};
	h->cb(&srv, m, h->arg);
	if (!srv.final_sent)
		send_stateless(ua, og, m, 500, "No Response From Handler", NULL, 0);
}

struct sipcx_ua_srv *sipcx__ua_serve(struct sipcx_ua *ua, const struct ua_origin *og,
                                     const struct sipcx_msg *m)
{
	/*
	 * A cap on live transactions: past it a flood gets 503 and is told
	 * when to come back (RFC 3261 21.5.4), statelessly, instead of taking
	 * 32 s of memory per request. A request inside a dialog (a To tag: a
	 * BYE, a re-INVITE) is not refused: the calls already up keep being
	 * served, and their number is bounded by the calls taken.
	 */
	const struct sipcx_addr *to = sipcx_msg_to(m);
	bool in_dialog = to && to->tag.len;
	if (ua->max_txns && ua->stats.txn_live >= ua->max_txns && !in_dialog) {
		UA_STAT_ADD(ua, txn_refused, 1);
		if ((ua->stats.txn_refused & (ua->stats.txn_refused - 1)) == 0)
			SIPCX_WARN("ua: %llu transactions live (the cap): 503 to new requests "
			           "(%llu so far)",
			           (unsigned long long)ua->stats.txn_live,
			           (unsigned long long)ua->stats.txn_refused);
		struct sipcx_hdr ra = { SIPCX_HDR_RETRY_AFTER, SIPCX_STR_NULL, SIPCX_STR("5") };
		send_stateless(ua, og, m, 503, "Too Many Transactions", &ra, 1);
		return NULL;
	}
	struct sipcx_txn_opts topts = ua->topts;
	topts.flags |= SIPCX_TXN_100_NEVER; /* our own 100, with received/rport */
	if (sipcx__ua_stream(og->src.proto))
		topts.flags |= SIPCX_TXN_RELIABLE;
	topts.user_size = sizeof(struct ua_txn); /* the ua's state in the transaction's block */
	struct sipcx_ua_srv *srv = sipcx_calloc(1, sizeof(*srv));
	struct sipcx_txn *t = NULL;
	struct sipcx_txn_out o;
	int r = srv ? sipcx_txn_server_new(&t, m, &topts, sipcx_now_us(), &o) : -ENOMEM;
	if (!r)
		r = sipcx_txn_table_add(ua->table, t);
	if (r) {
		sipcx_free(srv);
		sipcx_txn_free(t);
		send_stateless(ua, og, m, 500, "Server Internal Error", NULL, 0);
		return NULL;
	}
	struct ua_txn *ut = sipcx__ua_txn_init(ua, t);
	ua_addr_set(&ut->dst, &og->dst);
	ut->conn = og->conn;
	memcpy(srv->via_buf, og->via_extra, sizeof(srv->via_buf));
	sipcx_random_token(srv->tag_buf, 12);
	srv->ua = ua;
	srv->ut = ut;
	srv->req = sipcx_txn_request(ut->t);
	srv->src = og->src;
	srv->dst = og->dst;
	srv->conn = og->conn;
	srv->via_extra = srv->via_buf;
	srv->to_tag = srv->tag_buf;
	srv->next = ua->srvs;
	if (srv->next)
		srv->next->pprev = &srv->next;
	srv->pprev = &ua->srvs;
	ua->srvs = srv;
	ut->srv = srv;
	sipcx__ua_txn_apply(ut, &o);
	/* RFC 3261 17.2.1: INVITE gets its 100 Trying at once. */
	if (m->method == SIPCX_METHOD_INVITE)
		sipcx__ua_do_respond(srv, 100, NULL, NULL, 0, NULL, SIPCX_STR_NULL);
	return srv;
}

static void run_stateful(struct sipcx_ua *ua, struct ua_handler *h, const struct ua_origin *og,
                         const struct sipcx_msg *m)
{
	struct sipcx_ua_srv *srv = sipcx__ua_serve(ua, og, m);
	if (srv)
		h->cb(srv, srv->req, h->arg);
}

/* Is tok in the comma-separated list (case-insensitive, RFC 3261 19.2)? */
static bool list_has(const char *list, struct sipcx_str tok)
{
	struct sipcx_str rest = sipcx_str_c(list), item;
	while (sipcx_hdr_split(&rest, &item) == 1)
		if (sipcx_str_ieq(item, tok))
			return true;
	return false;
}

/*
 * RFC 3261 8.2.2.3: a request that Requires an extension we do not support
 * gets 420 with the unknown option tags in Unsupported. For the requests
 * the engine answers itself (a proxy ignores Require: it checks
 * Proxy-Require). Returns true when it answered.
 */
static bool require_unsupported(struct sipcx_ua *ua, const struct ua_origin *og,
                                const struct sipcx_msg *m)
{
	if (!sipcx_msg_hdr(m, SIPCX_HDR_REQUIRE))
		return false;
	char bad[256];
	size_t n = 0;
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_str tok;
	while (sipcx_msg_value_next(m, SIPCX_HDR_REQUIRE, &it, &tok) == 1) {
		if (list_has(ua->supported, tok) ||
		    (ua->calls && list_has(SIPCX__CALL_TAGS, tok)) ||
		    sipcx__calls_supports(ua, m, tok) || tok.len + 2 >= sizeof(bad) - n)
			continue;
		n += (size_t)snprintf(bad + n, sizeof(bad) - n, "%s%.*s", n ? ", " : "",
		                      SIPCX_STR_FMT(tok));
	}
	if (!n)
		return false;
	struct sipcx_hdr uns = { SIPCX_HDR_UNSUPPORTED, SIPCX_STR_NULL, sipcx_str_c(bad) };
	send_stateless(ua, og, m, 420, NULL, &uns, 1);
	return true;
}

static void recv_request(struct sipcx_ua *ua, const struct sipcx_tp_pkt *pkt)
{
	struct sipcx_msg *m = pkt->msg;
	struct sipcx_msg_verdict v;
	struct ua_origin og;

	enum sipcx_msg_action act = sipcx_msg_check(m, 0, &v);
	if (act == SIPCX_MSG_DROP) {
		UA_STAT_ADD(ua, rx_dropped, 1);
		return;
	}
	origin_init(&og, pkt, m);
	if (act == SIPCX_MSG_REJECT || pkt->err) {
		/* 400/416/505/513 as the checks say (never to an ACK). */
		UA_STAT_ADD(ua, rx_dropped, 1);
		if (act == SIPCX_MSG_REJECT && m->method != SIPCX_METHOD_ACK)
			send_stateless(ua, &og, m, v.status, v.reason, NULL, 0);
		return;
	}
	UA_STAT_ADD(ua, rx_requests, 1);

	struct sipcx_txn *t = sipcx_txn_table_match(ua->table, m);
	if (t) {
		struct sipcx_txn_out o;
		if (sipcx_txn_recv(t, m, sipcx_now_us(), &o) == 0)
			sipcx__ua_txn_apply(sipcx_txn_user(t), &o);
		return;
	}
	/* RFC 3261 12.2.2: a request inside one of our dialogs (the ACK of a 2xx included). */
	if (m->method != SIPCX_METHOD_CANCEL && sipcx__calls_dispatch(ua, &og, m))
		return;
	if (ua->proxy.req && ua->proxy.req(ua, pkt, &og, ua->proxy.arg))
		return;
	if (m->method == SIPCX_METHOD_ACK)
		return; /* the ACK of a 2xx for no dialog of ours: nothing to answer */
	uint32_t mf;
	if (sipcx_msg_max_forwards(m, &mf) == 0 && mf == 0) {
		send_stateless(ua, &og, m, 483, NULL, NULL, 0);
		return;
	}
	/* RFC 3261 8.2.2.2: the same request again by another path. */
	if (sipcx_txn_table_find_merged(ua->table, m)) {
		send_stateless(ua, &og, m, 482, "Loop Detected", NULL, 0);
		return;
	}
	if (m->method == SIPCX_METHOD_CANCEL) {
		recv_cancel(ua, &og, m);
		return;
	}
	if (require_unsupported(ua, &og, m))
		return;
	struct ua_handler *h = find_handler(ua, m);
	/* RFC 3261 12.2.2: a request for a dialog we do not have (with a To tag). */
	const struct sipcx_addr *to = sipcx_msg_to(m);
	if (!h && to && to->tag.len) {
		send_stateless(ua, &og, m, 481, NULL, NULL, 0);
		return;
	}
	if (!h && m->method == SIPCX_METHOD_INVITE && sipcx__call_incoming(ua, &og, m))
		return;
	if (!h) {
		struct sipcx_hdr allow = { SIPCX_HDR_ALLOW, SIPCX_STR_NULL,
			                   sipcx_str_c(ua->allow) };
		if (m->method == SIPCX_METHOD_OPTIONS)
			answer_options(ua, &og, m);
		else
			send_stateless(ua, &og, m, m->method == SIPCX_METHOD_OTHER ? 501 : 405,
			               NULL, &allow, 1);
		return;
	}
	if (h->flags & SIPCX_UA_STATELESS)
		run_stateless(ua, h, &og, m);
	else
		run_stateful(ua, h, &og, m);
}

void sipcx__ua_recv(const struct sipcx_tp_pkt *pkt, void *arg)
{
	struct sipcx_ua *ua = arg;
	if (!ua->tp)
		return;
	/* A parse that failed before the start line was known: nothing to answer. */
	if (pkt->msg->request || (pkt->err && pkt->msg->method_str.len))
		recv_request(ua, pkt);
	else if (!pkt->err)
		recv_response(ua, pkt);
	else
		UA_STAT_ADD(ua, rx_dropped, 1);
}

void sipcx__ua_tp_error(int err, enum sipcx_tp_proto proto, const struct sockaddr *remote,
                        uint64_t conn, void *arg)
{
	struct sipcx_ua *ua = arg;
	(void)conn;
	/* Client transactions waiting on that peer learn it now, not at Timer B. */
	for (struct ua_txn *ut = ua->txns, *next; ut; ut = next) {
		next = ut->next;
		if (!ut->client || ut->dead || ut->dst.proto != proto ||
		    !sipcx_sa_equal(&ut->dst.sa.sa, remote))
			continue;
		struct sipcx_txn_out o;
		sipcx_txn_transport_error(ut->t, err, sipcx_now_us(), &o);
		sipcx__ua_txn_apply(ut, &o);
	}
}
