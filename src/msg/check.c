/* msg: semantic checks of an incoming message and the RFC's answer to a bad one (RFC 3261 8.2, 16.3, 18.3; RFC 4475). */
#include <errno.h>
#include <string.h>

#include "msg/lex.h"
#include "msg/msg.h"

static enum sipcx_msg_action verdict(const struct sipcx_msg *m, struct sipcx_msg_verdict *v,
                                     enum sipcx_msg_action action, uint16_t status,
                                     const char *reason, size_t offset, const char *what)
{
	/* Nothing can be answered to a response or an ACK (RFC 3261 17.2.1: no ACK is answered). */
	if (action == SIPCX_MSG_REJECT && (!m->request || m->method == SIPCX_METHOD_ACK))
		action = SIPCX_MSG_DROP;
	if (v) {
		v->action = action;
		v->status = action == SIPCX_MSG_REJECT ? status : 0;
		v->reason = action == SIPCX_MSG_REJECT ? reason : NULL;
		v->offset = offset;
		v->what = what;
	}
	return action;
}

#define REJECT(status, reason, at, what) \
	return verdict(m, v, SIPCX_MSG_REJECT, (status), (reason), sipcx__msg_off(m, (at)), (what))
#define DROP(at, what) \
	return verdict(m, v, SIPCX_MSG_DROP, 0, NULL, sipcx__msg_off(m, (at)), (what))

static const char *hdr_at(const struct sipcx_msg *m, enum sipcx_hdr_id id)
{
	const struct sipcx_hdr *h = sipcx_msg_hdr(m, id);
	return h ? h->name.p : NULL;
}

/* The second header line of an id, where a duplicate is reported. */
static const char *second_at(const struct sipcx_msg *m, enum sipcx_hdr_id id)
{
	const struct sipcx_hdr *h = sipcx_msg_hdr_next(m, sipcx_msg_hdr(m, id));
	return h ? h->name.p : NULL;
}

/*
 * RFC 3261 20.10: a URI with ',', '?' or ';' must be in <>; in addr-spec
 * form params belong to the header, so only headers '?' are left to catch
 * (RFC 4475 3.1.2.13).
 */
static bool addr_ok(const struct sipcx_addr *a)
{
	return a && (a->angle || a->star || a->uri.headers.len == 0);
}

/* scheme ":" at p, and a URI to its end: no control byte or space. */
static bool uri_shape_ok(const char *p, const char *end)
{
	if (p == end || !sipcx__is(*p, SIPCX__CC_ALPHA))
		return false;
	const char *q = sipcx__skip_cls(p + 1, end, SIPCX__CC_SCHEME);
	return q + 1 < end && *q == ':' && sipcx__find_ctl(q, end) == end;
}

/*
 * A Route, Record-Route or Path element has the shape [display-name]
 * "<" URI ">" *(";" param) or is an addr-spec. Only the shape: whoever
 * routes by it parses the URI; a full parse here would double the cost
 * of every request that carries a route.
 */
static bool route_shape_ok(struct sipcx_str v)
{
	const char *p = v.p, *end = v.p + v.len;
	const char *lt = sipcx__find(p, end, '<');
	if (!lt) {
		/* addr-spec; its ;params belong to the header: cut at the first ';' */
		const char *semi = sipcx__find(p, end, ';');
		return uri_shape_ok(p, semi ? semi : end);
	}
	if (p < lt && *p == '"') {
		for (p++; p < lt && *p != '"'; p++)
			if (*p == '\\')
				p++;
		if (p >= lt)
			return false;
		p++;
	}
	while (p < lt && sipcx__is(*p, SIPCX__CC_TOKEN | SIPCX__CC_WS))
		p++;
	const char *gt = p == lt ? sipcx__find(lt, end, '>') : NULL;
	if (!gt || !uri_shape_ok(lt + 1, gt))
		return false;
	p = sipcx__skip_ws(gt + 1, end);
	return p == end || *p == ';';
}

/* Call-ID = word [ "@" word ]: not empty, no whitespace or control inside. */
static bool call_id_ok(struct sipcx_str s)
{
	return s.len != 0 && sipcx__find_ctl(s.p, s.p + s.len) == s.p + s.len;
}

/*
 * The via-parms of [p, end) (a Via line, or the rest of one), each parsed
 * in place. Counts them into *n; returns NULL, or where to report the
 * first malformed one: at it, or at the first Via value (top) when its
 * line cannot even be split (an unterminated quote or '<'). With *skip,
 * the first value is passed over unjudged (see the caller).
 */
static const char *more_vias(const char *p, const char *end, int *n, const char *top, bool *skip)
{
	struct sipcx_via via;
	for (;;) {
		while (p < end && (*p == ',' || sipcx__is(*p, SIPCX__CC_WS)))
			p++;
		if (p == end)
			return NULL;
		struct sipcx_str rest = sipcx__span(p, end), item;
		if (*skip) {
			*skip = false;
			if (sipcx_hdr_split(&rest, &item) < 0)
				return top;
			p = rest.p;
			continue;
		}
		const char *q = sipcx__via_scan(&via, p, end);
		if (!q)
			return sipcx_hdr_split(&rest, &item) < 0 ? top : p;
		++*n;
		p = q;
	}
}

enum sipcx_msg_action sipcx_msg_check(const struct sipcx_msg *m, unsigned flags,
                                      struct sipcx_msg_verdict *v)
{
	static const struct {
		enum sipcx_hdr_id id;
		const char *missing, *dup;
	} required[] = {
		{ SIPCX_HDR_TO, "Missing To", "Duplicate To" },
		{ SIPCX_HDR_FROM, "Missing From", "Duplicate From" },
		{ SIPCX_HDR_CALL_ID, "Missing Call-ID", "Duplicate Call-ID" },
		{ SIPCX_HDR_CSEQ, "Missing CSeq", "Duplicate CSeq" },
	};

	if (!m) {
		if (v)
			*v = (struct sipcx_msg_verdict){ SIPCX_MSG_DROP, 0, NULL, 0, "no message" };
		return SIPCX_MSG_DROP;
	}

	if (m->err) {
		/* Without a start line, or a Via to send it along, there is nobody to answer. */
		if (!m->start_line.p || !m->request || m->err == -EAGAIN ||
		    !sipcx_msg_hdr(m, SIPCX_HDR_VIA))
			return verdict(m, v, SIPCX_MSG_DROP, 0, NULL, m->err_offset, m->err_what);
		if (m->err == -EMSGSIZE || m->err == -E2BIG)
			return verdict(m, v, SIPCX_MSG_REJECT, 513, "Message Too Large",
			               m->err_offset, m->err_what);
		return verdict(m, v, SIPCX_MSG_REJECT, 400,
		               sipcx__mc(m)->err_reason ? sipcx__mc(m)->err_reason : "Bad Request",
		               m->err_offset, m->err_what);
	}

	/*
	 * RFC 3261 25.1: no control byte but HTAB in a header, and CR only
	 * before LF (the parser refuses them in the start line). A bare CR
	 * ends a line for some stacks and not for others: what is one header
	 * here would be two there (smuggling), so it is refused first.
	 */
	const char *ctl = sipcx__mc(m)->ctl_at;
	if (ctl)
		REJECT(400, "Control Character In Header", ctl,
		       *ctl == '\r' ? "CR without LF in a header" : "control byte in a header");
	/* RFC 3261 21.5.6 and RFC 4475 3.1.2.16: another SIP version gets 505. */
	if (!sipcx__mc(m)->version_2_0)
		REJECT(505, "Version Not Supported", m->version.p, "SIP version is not 2.0");
	if (!m->request && m->status > 699)
		DROP(m->start_line.p, "status code above 699");

	/* Without a Via a response cannot be routed back (RFC 3261 18.2.2). */
	if (!sipcx_msg_hdr(m, SIPCX_HDR_VIA))
		DROP(m->start_line.p, "no Via");
	for (size_t i = 0; i < SIPCX_ARRAY_SIZE(required); i++) {
		unsigned n = sipcx_msg_hdr_count(m, required[i].id);
		if (n == 0)
			REJECT(400, required[i].missing, m->start_line.p, required[i].missing);
		/* RFC 4475 3.3.8: never silently keep the first or the last. */
		if (n > 1)
			REJECT(400, required[i].dup, second_at(m, required[i].id), required[i].dup);
	}
	if (sipcx_msg_hdr_count(m, SIPCX_HDR_MAX_FORWARDS) > 1)
		REJECT(400, "Duplicate Max-Forwards", second_at(m, SIPCX_HDR_MAX_FORWARDS),
		       "Duplicate Max-Forwards");
	if (sipcx_msg_hdr_count(m, SIPCX_HDR_CONTENT_LENGTH) > 1)
		REJECT(400, "Duplicate Content-Length", second_at(m, SIPCX_HDR_CONTENT_LENGTH),
		       "Duplicate Content-Length");

	/*
	 * Every Via value, not just the top one: a proxy forwards them all
	 * (RFC 4475 3.1.2.1). The top one is parsed (and cached) by
	 * sipcx_msg_via(); the others are scanned from where it ended.
	 */
	const struct sipcx_hdr *vh = sipcx_msg_hdr(m, SIPCX_HDR_VIA);
	const char *top = vh->value.p, *next;
	bool top_ok = sipcx_msg_via(m) != NULL, skip = false;
	if (top_ok) {
		next = sipcx__mc(m)->via_next;
	} else {
		/*
		 * The others are judged first (a bad one is reported at its
		 * place), so where the bad top value ends is needed; an empty
		 * first line leaves its part to the first value of the next.
		 */
		struct sipcx_str rest = vh->value, item;
		int sr = sipcx_hdr_split(&rest, &item);
		if (sr < 0)
			REJECT(400, "Bad Via", top, "malformed Via");
		skip = sr == 0;
		next = rest.p ? rest.p : top;
	}
	int r, nvia = 1, ncontact = 0;
	const char *bad = more_vias(next, top + vh->value.len, &nvia, top, &skip);
	unsigned lines = sipcx__mc(m)->count[SIPCX_HDR_VIA]; /* the other Via lines, in order */
	for (size_t i = (size_t)(vh - m->hdrs) + 1; !bad && lines > 1 && i < m->hdr_count; i++)
		if (m->hdrs[i].id == SIPCX_HDR_VIA) {
			lines--;
			bad =
			    more_vias(m->hdrs[i].value.p, m->hdrs[i].value.p + m->hdrs[i].value.len,
			              &nvia, top, &skip);
		}
	if (bad)
		REJECT(400, "Bad Via", bad, "malformed Via");
	if (!top_ok)
		REJECT(400, "Bad Via", top, "malformed Via");

	const struct sipcx_addr *a = sipcx_msg_from(m);
	if (!addr_ok(a))
		REJECT(400, "Bad From", sipcx_msg_hdr(m, SIPCX_HDR_FROM)->value.p,
		       "malformed From");
	a = sipcx_msg_to(m);
	if (!addr_ok(a))
		REJECT(400, "Bad To", sipcx_msg_hdr(m, SIPCX_HDR_TO)->value.p, "malformed To");
	struct sipcx_str cid = sipcx_msg_call_id(m);
	if (!call_id_ok(cid))
		REJECT(400, "Bad Call-ID", sipcx_msg_hdr(m, SIPCX_HDR_CALL_ID)->value.p,
		       "malformed Call-ID");
	const struct sipcx_cseq *cseq = sipcx_msg_cseq(m);
	const char *cseq_at = sipcx_msg_hdr(m, SIPCX_HDR_CSEQ)->value.p;
	if (!cseq)
		REJECT(400, "Bad CSeq", cseq_at, "malformed CSeq or number over 2^31-1");

	if (!m->request) {
		/* RFC 3261 8.1.3.3: a UAC discards a response with more than one Via. */
		if ((flags & SIPCX_MSG_CHECK_UA) && nvia > 1)
			DROP(second_at(m, SIPCX_HDR_VIA) ? second_at(m, SIPCX_HDR_VIA)
			                                 : hdr_at(m, SIPCX_HDR_VIA),
			     "response with more than one Via");
		return verdict(m, v, SIPCX_MSG_ACCEPT, 0, NULL, 0, NULL);
	}

	/* RFC 3261 8.1.1.5: the CSeq method matches the request method, byte for byte. */
	if (!sipcx_str_eq(cseq->method, m->method_str))
		REJECT(400, "Bad CSeq", cseq->method.p ? cseq->method.p : cseq_at,
		       "CSeq method differs from the request method");
	uint32_t mf;
	r = sipcx_msg_max_forwards(m, &mf);
	if (r != 0 && r != -ENOENT)
		REJECT(400, "Bad Max-Forwards", sipcx_msg_hdr(m, SIPCX_HDR_MAX_FORWARDS)->value.p,
		       r == -ERANGE ? "Max-Forwards over 255" : "malformed Max-Forwards");

	/*
	 * Route, Record-Route and Path (RFC 3261 20.30, 20.34; RFC 3327 4):
	 * lists of name-addr (addr-spec tolerated), since a proxy routes by
	 * them: "Route: garbage here" is refused, not forwarded.
	 */
	static const enum sipcx_hdr_id routes[] = { SIPCX_HDR_ROUTE, SIPCX_HDR_RECORD_ROUTE,
		                                    SIPCX_HDR_PATH };
	for (size_t i = 0; i < SIPCX_ARRAY_SIZE(routes); i++) {
		unsigned nlines = sipcx__mc(m)->count[routes[i]];
		for (size_t k = nlines ? sipcx__mc(m)->first[routes[i]] - 1u : m->hdr_count;
		     nlines && k < m->hdr_count; k++) {
			const struct sipcx_hdr *h = &m->hdrs[k];
			if (h->id != routes[i])
				continue;
			nlines--;
			/* One element per line is the rule: split only when there is a comma. */
			struct sipcx_str rest = h->value, item = h->value;
			bool list = sipcx__find(rest.p, rest.p + rest.len, ',') != NULL;
			while (list ? (r = sipcx_hdr_split(&rest, &item)) == 1 : rest.len) {
				if (!route_shape_ok(item))
					REJECT(400, "Bad Route", item.p ? item.p : h->name.p,
					       "malformed Route, Record-Route or Path");
				rest.len = list ? rest.len : 0;
			}
			if (list && r < 0)
				REJECT(400, "Bad Route", h->value.p,
				       "malformed Route, Record-Route or Path");
		}
	}

	/* Every Contact value; the first one is the cached sipcx_msg_contact(). */
	if (sipcx_msg_hdr(m, SIPCX_HDR_CONTACT)) {
		const struct sipcx_addr *c0 = sipcx_msg_contact(m);
		if (sipcx__mc(m)->contact_r < 0)
			REJECT(400, "Bad Contact", hdr_at(m, SIPCX_HDR_CONTACT),
			       "malformed Contact");
		if (sipcx__mc(m)->contact_r == 1) {
			ncontact++;
			if (!addr_ok(c0))
				REJECT(400, "Bad Contact", sipcx__mc(m)->contact.raw.p,
				       "malformed Contact");
		}
		struct sipcx_msg_iter it = sipcx__mc(m)->contact_it;
		struct sipcx_str val;
		while ((r = sipcx_msg_value_next(m, SIPCX_HDR_CONTACT, &it, &val)) == 1) {
			/* A first value on a later line: the first line had none, so no cached one. */
			struct sipcx_addr c;
			if (ncontact++ == 0 || sipcx_addr_parse(&c, val) != 0 || !addr_ok(&c))
				REJECT(400, "Bad Contact", val.p, "malformed Contact");
		}
		if (r < 0)
			REJECT(400, "Bad Contact", hdr_at(m, SIPCX_HDR_CONTACT),
			       "malformed Contact");
	}

	/* The Request-URI last: a well-formed request with an unknown scheme gets 416 (RFC 4475 3.3.2). */
	const struct sipcx_uri *u = sipcx_msg_ruri(m);
	if (!u)
		REJECT(400, "Bad Request-URI", m->ruri.p, "malformed Request-URI");
	if (u->scheme == SIPCX_URI_OTHER)
		REJECT(416, "Unsupported URI Scheme", m->ruri.p,
		       "Request-URI scheme not sip, sips or tel");
	/* RFC 3261 19.1.1 table 1: no headers component in a Request-URI (RFC 4475 3.1.2.11). */
	if (u->headers.len)
		REJECT(400, "Bad Request-URI", m->ruri.p, "headers in the Request-URI");
	return verdict(m, v, SIPCX_MSG_ACCEPT, 0, NULL, 0, NULL);
}
