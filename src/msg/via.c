/* msg: Via via-parm and CSeq values (RFC 3261 20.42, 20.16, 8.1.1.5; RFC 3581 rport). */
#include <errno.h>
#include <string.h>

#include "lex.h"

/* SLASH = SWS "/" SWS (RFC 4475 wsinv: "SIP  /   2.0\r\n /UDP"). */
static const char *slash(const char *p, const char *end)
{
	p = sipcx__skip_ws(p, end);
	if (p == end || *p != '/')
		return NULL;
	return sipcx__skip_ws(p + 1, end);
}

/* Decimal value that fills the whole slice, at most max. */
static bool dec_value(struct sipcx_str s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0; /* 64-bit: v * 10 must not wrap before the check (4294967328) */
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';
		if (d > 9)
			return false;
		v = v * 10 + d;
		if (v > max)
			return false; /* per digit, before any wrap */
	}
	*out = (uint32_t)v;
	return true;
}

static int via_param(struct sipcx_via *v, struct sipcx_str n, struct sipcx_str val)
{
	uint32_t x;

	/* Dispatch on length and first letter, then one compare: no strcasecmp chain. */
	switch (n.len) {
	case 3:
		if (sipcx__ieq_lit(n, "ttl", 3)) {
			if (!dec_value(val, 255, &x))
				return -EBADMSG;
			v->ttl = (int32_t)x;
		}
		break;
	case 5:
		if ((n.p[0] | 0x20) == 'r' && sipcx__ieq_lit(n, "rport", 5)) {
			if (val.len == 0)
				v->rport = 0; /* RFC 3581: a request asks for it without value */
			else if (dec_value(val, 65535, &x))
				v->rport = (int32_t)x;
			else
				return -EBADMSG;
		} else if (sipcx__ieq_lit(n, "maddr", 5)) {
			if (val.len == 0)
				return -EBADMSG;
			v->maddr = val;
		}
		break;
	case 6:
		if (sipcx__ieq_lit(n, "branch", 6)) {
			if (val.len == 0)
				return -EBADMSG;
			v->branch = val;
		}
		break;
	case 8:
		if (sipcx__ieq_lit(n, "received", 8)) {
			if (val.len == 0)
				return -EBADMSG;
			v->received = val;
		}
		break;
	default:
		break;
	}
	return 0;
}

const char *sipcx__via_scan(struct sipcx_via *v, const char *p, const char *end)
{
	const char *s = p, *q;
	struct sipcx_str none = { p, 0 };
	v->protocol = v->transport = v->host = none;
	v->branch = v->received = v->maddr = v->params = none;
	v->raw = none;
	v->host_ipv6 = false;
	v->port = 0;
	v->rport = -1;
	v->ttl = -1;
	if (p == end)
		return NULL;

	/* sent-protocol = protocol-name SLASH protocol-version SLASH transport */
	if (end - p >= 8 && memcmp(p, "SIP/2.0/", 8) == 0) {
		v->protocol = sipcx__span(p, p + 7); /* nearly every Via: one compare */
		p += 8;
	} else {
		q = sipcx__skip_cls(p, end, SIPCX__CC_TOKEN);
		if (q == p || !(p = slash(q, end)))
			return NULL;
		q = sipcx__skip_cls(p, end, SIPCX__CC_TOKEN);
		if (q == p)
			return NULL;
		v->protocol = sipcx__span(s, q);
		if (!(p = slash(q, end)))
			return NULL;
	}
	q = sipcx__skip_cls(p, end, SIPCX__CC_TOKEN);
	if (q == p)
		return NULL;
	v->transport = sipcx__span(p, q);

	/* LWS sent-by, sent-by = host [ COLON port ], COLON = SWS ":" SWS */
	p = sipcx__skip_ws(q, end);
	if (p == q)
		return NULL;
	p = sipcx__host_scan(p, end, &v->host, &v->host_ipv6);
	if (!p)
		return NULL;
	q = sipcx__skip_ws(p, end);
	if (q < end && *q == ':') {
		p = sipcx__port_scan(sipcx__skip_ws(q + 1, end), end, &v->port);
		if (!p)
			return NULL; /* also a port over 65535 */
		q = sipcx__skip_ws(p, end);
	}
	if (q < end && *q == ';') {
		const char *p0 = q;
		struct sipcx_str n, val;
		do {
			q = sipcx__param_scan(q + 1, end, &n, &val);
			if (!q || via_param(v, n, val) < 0)
				return NULL;
		} while (q < end && *q == ';');
		p = q;
		while (p > p0 && sipcx__is(p[-1], SIPCX__CC_WS))
			p--; /* the params end before the LWS that follows them */
		v->params = sipcx__span(p0, p);
	}
	/* The next via-parm or nothing: "SIP/2.0/UDP h x" is malformed. */
	if (q < end && *q != ',')
		return NULL;
	p = q;
	while (p > s && sipcx__is(p[-1], SIPCX__CC_WS))
		p--;
	v->raw = sipcx__span(s, p);
	return q;
}

int sipcx_via_parse(struct sipcx_via *v, struct sipcx_str s)
{
	s = sipcx__trim(s);
	if (s.len == 0) {
		sipcx__via_scan(v, s.p, s.p); /* fills the struct with empty slices */
		v->raw = s;
		return -EBADMSG;
	}
	return sipcx__via_scan(v, s.p, s.p + s.len) == s.p + s.len ? 0 : -EBADMSG;
}

/*
 * 1*DIGIT at p up to max, then the LWS that must follow it: the byte after
 * the LWS, or NULL. Leading zeros are fine (RFC 4475 wsinv "0009").
 */
static const char *number_lws(const char *p, const char *end, uint32_t max, uint32_t *out)
{
	const char *d = p;
	uint64_t num = 0; /* 64-bit: num * 10 must not wrap before the check */
	unsigned dig;
	while (d < end && (dig = (unsigned)(unsigned char)*d - '0') <= 9) {
		num = num * 10 + dig;
		if (num > max)
			return NULL; /* checked per digit */
		d++;
	}
	if (d == p)
		return NULL;
	p = sipcx__skip_ws(d, end);
	if (p == d)
		return NULL;
	*out = (uint32_t)num;
	return p;
}

int sipcx_cseq_parse(struct sipcx_cseq *c, struct sipcx_str s)
{
	s = sipcx__trim(s);
	c->num = 0;
	c->method.p = s.p;
	c->method.len = 0;
	if (s.len == 0)
		return -EBADMSG;

	/* CSeq = 1*DIGIT LWS Method; RFC 3261 8.1.1.5: less than 2^31. */
	const char *p = s.p, *end = s.p + s.len;
	uint32_t num;
	p = number_lws(p, end, 0x7fffffffu, &num);
	if (!p)
		return -EBADMSG;
	const char *m = sipcx__skip_cls(p, end, SIPCX__CC_TOKEN);
	if (m == p || m != end)
		return -EBADMSG;
	c->num = num;
	c->method = sipcx__span(p, m);
	return 0;
}

int sipcx_rack_parse(struct sipcx_rack *r, struct sipcx_str s)
{
	s = sipcx__trim(s);
	r->rseq = 0;
	r->cseq = 0;
	r->method.p = s.p;
	r->method.len = 0;
	/* RAck = response-num LWS CSeq-num LWS Method; RSeq is 1 .. 2^31-1 (RFC 3262 7.1). */
	const char *p = number_lws(s.p, s.p + s.len, 0x7fffffffu, &r->rseq);
	struct sipcx_cseq c;
	if (!p || r->rseq == 0 || sipcx_cseq_parse(&c, sipcx__span(p, s.p + s.len)) != 0)
		return -EBADMSG;
	r->cseq = c.num;
	r->method = c.method;
	return 0;
}

int sipcx_session_expires_parse(struct sipcx_session_expires *se, struct sipcx_str s)
{
	s = sipcx__trim(s);
	se->delta = 0;
	se->refresher = SIPCX_REFRESHER_NONE;
	se->params.p = s.p + s.len;
	se->params.len = 0;
	const char *p = s.p, *end = s.p + s.len, *d = p;
	while (d < end && (unsigned)(unsigned char)*d - '0' <= 9)
		d++;
	if (d == p || !dec_value(sipcx__span(p, d), UINT32_MAX, &se->delta) || se->delta == 0)
		return -EBADMSG;
	p = sipcx__skip_ws(d, end);
	se->params = sipcx__span(p, end);
	/* *( SEMI se-params ), se-params = refresher-param / generic-param */
	while (p < end) {
		struct sipcx_str name, value;
		if (*p != ';' || !(p = sipcx__param_scan(p + 1, end, &name, &value)))
			return -EBADMSG;
		if (!sipcx__ieq_lit(name, "refresher", 9))
			continue;
		if (se->refresher != SIPCX_REFRESHER_NONE)
			return -EBADMSG;
		if (sipcx__ieq_lit(value, "uac", 3))
			se->refresher = SIPCX_REFRESHER_UAC;
		else if (sipcx__ieq_lit(value, "uas", 3))
			se->refresher = SIPCX_REFRESHER_UAS;
		else
			return -EBADMSG;
	}
	return 0;
}
