/* dialog: requests within a dialog: Request-URI, Route, From/To/Call-ID/CSeq, next hop (RFC 3261 12.2.1.1, 8.1.2, 19.1.1). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dialog/dialog.h"

/* RFC 3261 8.1.1.5: a CSeq number is below 2^31. */
#define CSEQ_MAX 0x7fffffffu
/* Longest method token printed (IANA's longest is 9). */
#define METHOD_MAX 32
/*
 * Header lines we may add: Via, Max-Forwards, Route, From, To, Call-ID,
 * CSeq, Contact, User-Agent, Content-Type.
 */
#define OUR_HDRS 10

/* The URI inside a kept "<uri>", parsed (it was validated when kept). */
static int parse_kept(struct sipcx_uri *u, struct sipcx_str bracketed)
{
	return sipcx_uri_parse(u, (struct sipcx_str){ bracketed.p + 1, bracketed.len - 2 });
}

/*
 * u as a Request-URI: RFC 3261 19.1.1 table 1 allows neither a method
 * parameter nor headers there, and a strict route or a Contact may carry
 * them. Zero-copy when there is nothing to drop; else written into buf
 * (the URI is part of a dialog, so at most SIPCX_DIALOG_MAX_BYTES).
 */
static struct sipcx_str request_uri(const struct sipcx_uri *u, char *buf)
{
	const char *end = u->raw.p + u->raw.len;
	const char *p = u->host.p + u->host.len;
	if (u->host_ipv6 && p < end && *p == ']')
		p++;
	if (p < end && *p == ':')
		for (p++; p < end && *p >= '0' && *p <= '9'; p++)
			;
	bool has_headers = memchr(p, '?', (size_t)(end - p)) != NULL;
	if (!has_headers && !sipcx_uri_param(u, "method", NULL))
		return u->raw;

	size_t n = (size_t)(p - u->raw.p);
	memcpy(buf, u->raw.p, n);
	struct sipcx_str rest = u->params, name, value;
	const char *at = rest.p;
	while (sipcx_param_next(&rest, &name, &value) == 1) {
		if (!sipcx_str_ieq_c(name, "method")) {
			memcpy(buf + n, at, (size_t)(rest.p - at));
			n += (size_t)(rest.p - at);
		}
		at = rest.p;
	}
	return (struct sipcx_str){ buf, n };
}

static struct sipcx_str var_span(const struct sipcx_dialog *d, struct sipcx__dlg_slice from,
                                 struct sipcx__dlg_slice to)
{
	return (struct sipcx_str){ d->var + from.off, (size_t)(to.off + to.len - from.off) };
}

/* From: the local URI and tag, one slice of the fixed part (see struct sipcx_dialog). */
static struct sipcx_str from_value(const struct sipcx_dialog *d)
{
	return (
	    struct sipcx_str){ d->data + d->local_uri.off,
		               (size_t)(d->local_tag.off + d->local_tag.len - d->local_uri.off) };
}

/* To: the remote URI, with ";tag=" only when there is a remote tag (12.2.1.1). */
static struct sipcx_str to_value(const struct sipcx_dialog *d)
{
	struct sipcx__dlg_slice end = d->remote_tag.len ? d->remote_tag : d->remote_uri;
	return (struct sipcx_str){ d->data + d->remote_uri.off,
		                   (size_t)(end.off + end.len - d->remote_uri.off) };
}

/* A slice the caller filled: a length without bytes is a mistake. */
static bool bad(struct sipcx_str s)
{
	return s.len && !s.p;
}

static struct sipcx_hdr hdr(enum sipcx_hdr_id id, struct sipcx_str value)
{
	return (struct sipcx_hdr){ id, SIPCX_STR_NULL, value };
}

int sipcx_dialog_print_request(struct sipcx_dialog *d, struct sipcx_buf *b,
                               const struct sipcx_dialog_req *r)
{
	if (!d || !b || !r || !r->method || !r->via.len || bad(r->via) || bad(r->contact) ||
	    bad(r->user_agent) || bad(r->content_type) || bad(r->body) || (r->nhdrs && !r->hdrs))
		return -EINVAL;
	struct sipcx_str method = sipcx_str_c(r->method);
	if (method.len > METHOD_MAX || !sipcx__dlg_is_token(method))
		return -EINVAL;
	enum sipcx_method m = sipcx_method_lookup(method);
	/* 12.2.1.1: ACK and CANCEL take the number of the request they belong to. */
	bool own_cseq = m == SIPCX_METHOD_ACK || m == SIPCX_METHOD_CANCEL;
	/*
	 * Terminated: an ACK for a 2xx that comes late, and a BYE to end the
	 * session it made (or a BYE sent again with credentials) still go.
	 */
	if (d->state == SIPCX_DIALOG_TERMINATED && m != SIPCX_METHOD_ACK && m != SIPCX_METHOD_BYE)
		return -EINVAL;
	if ((own_cseq && r->cseq == 0) || r->max_forwards > 255 ||
	    (r->body.len && !r->content_type.len))
		return -EINVAL;
	if (!d->target.len)
		return -ENOENT;
	if (r->nhdrs > SIPCX_MSG_MAX_HDRS - OUR_HDRS - 1) /* - 1: Content-Length */
		return -E2BIG;
	uint32_t cseq = r->cseq;
	if (cseq == 0) {
		if (d->local_cseq >= CSEQ_MAX)
			return -ERANGE;
		cseq = d->local_cseq + 1;
	} else if (cseq > CSEQ_MAX) {
		return -ERANGE;
	}

	/* 12.2.1.1: Request-URI and Route from the route set and the remote target. */
	char buf[SIPCX_DIALOG_MAX_BYTES];
	struct sipcx_uri u;
	struct sipcx_str ruri, route = SIPCX_STR_NULL;
	struct sipcx_str target = sipcx__dlg_var(d, d->target);
	bool strict = false;
	if (d->nroutes) {
		if (parse_kept(&u, sipcx__dlg_var(d, d->route[0])) != 0)
			return -EINVAL;
		strict = !sipcx_uri_param(&u, "lr", NULL);
	}
	if (strict) {
		/* The first route becomes the Request-URI; the target goes last in Route. */
		ruri = request_uri(&u, buf);
		route = d->nroutes > 1 ? var_span(d, d->route[1], d->target) : target;
	} else {
		if (d->nroutes)
			route = var_span(d, d->route[0], d->route[d->nroutes - 1]);
		if (parse_kept(&u, target) != 0)
			return -EINVAL;
		ruri = request_uri(&u, buf);
	}

	char mf[4], cs[12 + METHOD_MAX];
	int mfl = snprintf(mf, sizeof(mf), "%u", r->max_forwards ? r->max_forwards : 70u);
	int csl = snprintf(cs, sizeof(cs), "%u %s", cseq, r->method);

	struct sipcx_hdr h[SIPCX_MSG_MAX_HDRS];
	size_t n = 0;
	h[n++] = hdr(SIPCX_HDR_VIA, r->via);
	h[n++] = hdr(SIPCX_HDR_MAX_FORWARDS, (struct sipcx_str){ mf, (size_t)mfl });
	if (route.len)
		h[n++] = hdr(SIPCX_HDR_ROUTE, route);
	h[n++] = hdr(SIPCX_HDR_FROM, from_value(d));
	h[n++] = hdr(SIPCX_HDR_TO, to_value(d));
	h[n++] = hdr(SIPCX_HDR_CALL_ID, sipcx__dlg_fixed(d, d->call_id));
	h[n++] = hdr(SIPCX_HDR_CSEQ, (struct sipcx_str){ cs, (size_t)csl });
	if (r->contact.len)
		h[n++] = hdr(SIPCX_HDR_CONTACT, r->contact);
	if (r->user_agent.len)
		h[n++] = hdr(SIPCX_HDR_USER_AGENT, r->user_agent);
	for (size_t i = 0; i < r->nhdrs; i++)
		h[n++] = r->hdrs[i];
	if (r->body.len)
		h[n++] = hdr(SIPCX_HDR_CONTENT_TYPE, r->content_type);

	size_t len0 = b->len;
	int err = sipcx_msg_print_request(b, method, ruri, h, n, r->body);
	if (err < 0) {
		if (b->len > len0)
			b->len = len0;
		return err;
	}
	if (!own_cseq && cseq > d->local_cseq)
		d->local_cseq = cseq;
	return 0;
}

int sipcx_dialog_next_hop(const struct sipcx_dialog *d, struct sipcx_uri *out)
{
	if (!d || !out)
		return -EINVAL;
	/* 8.1.2 / 12.2.1.1: the first route, loose or strict; else the target itself. */
	struct sipcx__dlg_slice s = d->nroutes ? d->route[0] : d->target;
	if (!s.len)
		return -ENOENT;
	return parse_kept(out, sipcx__dlg_var(d, s)) == 0 ? 0 : -EINVAL;
}
