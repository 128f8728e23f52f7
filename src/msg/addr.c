/* msg: name-addr / addr-spec with header parameters (RFC 3261 20.10, 20.20, 20.39, 25.1). */
#include <errno.h>
#include <string.h>

#include "lex.h"

/* Walk the header params once: validate them all and pick out the tag. */
static int addr_params(struct sipcx_addr *a, const char *p, const char *end)
{
	p = sipcx__skip_ws(p, end);
	if (p == end)
		return 0;
	if (*p != ';')
		return -EBADMSG; /* "<sip:a@b> x" or "sip:a@b x" */

	a->params = sipcx__span(p, end);
	struct sipcx_str n, v;
	do {
		p = sipcx__param_scan(p + 1, end, &n, &v);
		if (!p)
			return -EBADMSG;
		if (sipcx__ieq_lit(n, "tag", 3))
			a->tag = v;
	} while (p < end && *p == ';');
	/* What follows a parameter is the next one or nothing: "a=b c" is malformed. */
	return p == end ? 0 : -EBADMSG;
}

int sipcx_addr_parse(struct sipcx_addr *a, struct sipcx_str s)
{
	s = sipcx__trim(s);
	struct sipcx_str none = { s.p, 0 };
	a->display = a->params = a->tag = none;
	a->raw = s;
	a->star = a->angle = false;
	if (s.len == 0 || (s.len == 1 && *s.p == '*')) {
		/* No URI to parse: leave a->uri empty, not stale. */
		sipcx_uri_parse(&a->uri, none);
		a->star = s.len == 1; /* Contact: * (RFC 3261 10.2.2) */
		return s.len ? 0 : -EBADMSG;
	}

	const char *p = s.p, *end = s.p + s.len;

	const char *lt;
	if (*p == '"') {
		/* quoted-string display name; quoted-pairs (even \" and a quoted NUL) kept */
		const char *q = sipcx__qstr_end(p + 1, end);
		if (!q)
			return -EBADMSG; /* RFC 4475 quotbal */
		a->display = sipcx__span(p + 1, q);
		lt = sipcx__skip_ws(q + 1, end);
		if (lt == end || *lt != '<')
			return -EBADMSG;
	} else {
		/*
		 * display-name = *(token LWS): a run of tokens and LWS ends either at
		 * '<' (name-addr, "caller<sip:..>" too: RFC 4475 lwsdisp) or, with no
		 * LWS seen, at the scheme's ':' (addr-spec). Anything else is a
		 * non-token display name (RFC 4475 baddn: "Bell, Alexander").
		 */
		const char *q = p;
		bool ws = false;
		while (q < end) {
			unsigned cls = sipcx__cc[(unsigned char)*q];
			if (!(cls & (SIPCX__CC_TOKEN | SIPCX__CC_WS)))
				break;
			if (cls & SIPCX__CC_WS)
				ws = true;
			q++;
		}
		if (q == end || (*q != '<' && (*q != ':' || ws)))
			return -EBADMSG;
		if (*q == ':') {
			/*
			 * addr-spec: the URI ends at the first ';' or LWS, and what follows
			 * are header params (RFC 3261 20.10). Such a URI may hold no ',',
			 * '?' or ';' (RFC 4475 regbadct).
			 */
			const char *e = q;
			while (e < end && *e != ';' && !sipcx__is(*e, SIPCX__CC_WS)) {
				if (*e == '?' || *e == ',')
					return -EBADMSG;
				e++;
			}
			int r = sipcx_uri_parse(&a->uri, sipcx__span(p, e));
			if (r < 0)
				return r;
			return addr_params(a, e, end);
		}
		lt = q;
		while (q > p && sipcx__is(q[-1], SIPCX__CC_WS))
			q--;
		a->display = sipcx__span(p, q);
	}

	/*
	 * name-addr: the URI is everything up to '>' ('>' is never a URI byte).
	 * LWS just inside the brackets is refused (RFC 4475 badaspec).
	 */
	const char *gt = sipcx__find(lt + 1, end, '>');
	if (!gt)
		return -EBADMSG;
	a->angle = true;
	int r = sipcx_uri_parse(&a->uri, sipcx__span(lt + 1, gt));
	if (r < 0)
		return r;
	return addr_params(a, gt + 1, end);
}
