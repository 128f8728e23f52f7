/* msg: authentication challenge / credentials parameters (RFC 3261 25.1, RFC 7235 2.1, RFC 7616, RFC 8760). */
#include <errno.h>
#include <string.h>

#include "lex.h"

/* Which named field a parameter fills; NULL for one kept only in .params. */
static struct sipcx_str *digest_field(struct sipcx_digest_params *d, struct sipcx_str n,
                                      unsigned *bit)
{
	/* Length and first letter pick the candidate, one compare confirms it. */
	char c0 = (char)(n.p[0] | 0x20);
	switch (n.len) {
	case 2:
		*bit = 1u << 0;
		return sipcx__ieq_lit(n, "nc", 2) ? &d->nc : NULL;
	case 3:
		if (c0 == 'q') {
			*bit = 1u << 1;
			return sipcx__ieq_lit(n, "qop", 3) ? &d->qop : NULL;
		}
		*bit = 1u << 2;
		return sipcx__ieq_lit(n, "uri", 3) ? &d->uri : NULL;
	case 5:
		if (c0 == 'r') {
			*bit = 1u << 3;
			return sipcx__ieq_lit(n, "realm", 5) ? &d->realm : NULL;
		}
		*bit = 1u << 4;
		return sipcx__ieq_lit(n, "nonce", 5) ? &d->nonce : NULL;
	case 6:
		if (c0 == 'o') {
			*bit = 1u << 5;
			return sipcx__ieq_lit(n, "opaque", 6) ? &d->opaque : NULL;
		}
		if (c0 == 'd') {
			*bit = 1u << 6;
			return sipcx__ieq_lit(n, "domain", 6) ? &d->domain : NULL;
		}
		*bit = 1u << 7;
		return sipcx__ieq_lit(n, "cnonce", 6) ? &d->cnonce : NULL;
	case 8:
		if (c0 == 'r') {
			*bit = 1u << 8;
			return sipcx__ieq_lit(n, "response", 8) ? &d->response : NULL;
		}
		if (sipcx__ieq_lit(n, "username", 8)) {
			*bit = 1u << 9;
			return &d->username;
		}
		*bit = 1u << 10;
		return sipcx__ieq_lit(n, "userhash", 8) ? &d->userhash : NULL;
	case 9:
		*bit = 1u << 11;
		return sipcx__ieq_lit(n, "algorithm", 9) ? &d->algorithm : NULL;
	default:
		return NULL;
	}
}

/* token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" (RFC 7235 2.1) */
static bool is_token68(struct sipcx_str s)
{
	size_t i = 0;
	while (i < s.len) {
		char c = s.p[i];
		if (!sipcx__is(c, SIPCX__CC_ALPHA | SIPCX__CC_DIGIT) && c != '-' && c != '.' &&
		    c != '_' && c != '~' && c != '+' && c != '/')
			break;
		i++;
	}
	if (i == 0)
		return false;
	while (i < s.len && s.p[i] == '=')
		i++;
	return i == s.len;
}

int sipcx_digest_params_parse(struct sipcx_digest_params *d, struct sipcx_str s)
{
	s = sipcx__trim(s);
	struct sipcx_str none = { s.p, 0 };
	d->scheme = d->realm = d->nonce = d->opaque = d->algorithm = d->qop = d->domain = none;
	d->username = d->uri = d->response = d->cnonce = d->nc = d->userhash = none;
	d->params = none;
	d->stale = false;
	if (s.len == 0)
		return -EBADMSG;

	const char *p = s.p, *end = s.p + s.len;

	const char *q = sipcx__skip_cls(p, end, SIPCX__CC_TOKEN);
	if (q == p)
		return -EBADMSG;
	d->scheme = sipcx__span(p, q);
	p = sipcx__skip_ws(q, end);
	if (p == end)
		return 0; /* a bare scheme */
	if (p == q)
		return -EBADMSG; /* the scheme must be followed by LWS */
	d->params = sipcx__span(p, end);

	/* auth-param *( COMMA auth-param ), auth-param = token EQUAL ( token / quoted-string ) */
	unsigned seen = 0;
	bool first = true;
	for (;; first = false) {
		/* RFC 7230 7: empty list elements are allowed */
		p = sipcx__skip_cls(p, end, SIPCX__CC_COMMA | SIPCX__CC_WS);
		if (p == end)
			return 0;

		const char *n0 = p;
		p = sipcx__skip_word(p, end, SIPCX__CC_TOKEN);
		if (p == n0)
			return -EBADMSG;
		struct sipcx_str name = sipcx__span(n0, p), val;
		q = sipcx__skip_ws(p, end);
		if (q == end || *q != '=') {
			/* "Bearer mF_9.B5f-4.1JqM": one token68 instead of parameters */
			if (first && is_token68(d->params))
				return 0;
			return -EBADMSG;
		}
		q = sipcx__skip_ws(q + 1, end);
		if (q == end)
			return -EBADMSG;
		if (*q == '"') {
			const char *e = sipcx__qstr_end(q + 1, end);
			if (!e)
				return -EBADMSG;
			val = sipcx__span(q + 1, e); /* commas inside stay in the value */
			p = e + 1;
		} else {
			/* Liberal: any run without LWS, ',' or '"' (some send uri=sip:x unquoted). */
			const char *v0 = q;
			q = sipcx__skip_cls(q, end, SIPCX__CC_DVAL);
			if (q == v0)
				return -EBADMSG;
			val = sipcx__span(v0, q);
			p = q;
		}
		q = sipcx__skip_ws(p, end);
		if (q < end && *q != ',')
			return -EBADMSG;
		p = q;

		if (name.len == 5 && sipcx__ieq_lit(name, "stale", 5)) {
			if (seen & (1u << 12))
				return -EBADMSG;
			seen |= 1u << 12;
			d->stale = sipcx__ieq_lit(val, "true", 4);
			continue;
		}
		unsigned bit = 0;
		struct sipcx_str *f = digest_field(d, name, &bit);
		if (f) {
			/* A repeated directive is ambiguous: refuse it rather than guess (RFC 7616 3.3). */
			if (seen & bit)
				return -EBADMSG;
			seen |= bit;
			*f = val;
		}
	}
}
