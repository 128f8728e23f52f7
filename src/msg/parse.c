/* msg: zero-copy parser of SIP requests and responses from datagrams and streams (RFC 3261 7, 18.3, 25). */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "msg/lex.h"
#include "msg/msg.h"

/* Why the parse stopped; err_reason is the 400/513 phrase sipcx_msg_check() answers with. */
static int fail(struct sipcx_msg *m, int err, const char *buf, const char *at, const char *what,
                const char *reason)
{
	m->err = err;
	m->err_offset = (size_t)(at - buf);
	m->err_what = what;
	sipcx__mc(m)->err_reason = reason;
	return err;
}

size_t sipcx_msg_skip_crlf(const char *buf, size_t len)
{
	size_t i = 0;
	if (!buf)
		return 0;
	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return i;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT, "SIP" case-insensitive (RFC 3261 7.1). */
static bool version_ok(struct sipcx_str v)
{
	if (v.len < 7 || sipcx__lower(v.p[0]) != 's' || sipcx__lower(v.p[1]) != 'i' ||
	    sipcx__lower(v.p[2]) != 'p' || v.p[3] != '/')
		return false;
	size_t i = 4, d1 = 0, d2 = 0;
	while (i < v.len && is_digit(v.p[i])) {
		i++;
		d1++;
	}
	if (d1 == 0 || i >= v.len || v.p[i] != '.')
		return false;
	i++;
	while (i < v.len && is_digit(v.p[i])) {
		i++;
		d2++;
	}
	return d2 > 0 && i == v.len;
}

static bool is_2_0(struct sipcx_str v)
{
	return v.len == 7 && memcmp(v.p + 3, "/2.0", 4) == 0;
}

/*
 * Request-Line = Method SP Request-URI SP SIP-Version (RFC 3261 7.1): single
 * spaces, no LWS inside the URI (RFC 4475 3.1.2.8-10 are rejected here).
 * Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (7.2); a missing
 * " Reason" is tolerated, an empty one is valid (RFC 4475 3.1.1.13).
 */
static int parse_start(struct sipcx_msg *m, const char *buf, const char *s, const char *e)
{
	m->start_line = (struct sipcx_str){ s, (size_t)(e - s) };
	/* Nearly every status line starts "SIP/2.0 ": one compare instead of a scan. */
	bool v20 = e - s >= 8 && memcmp(s, "SIP/2.0 ", 8) == 0;
	const char *sp = v20 ? s + 7 : memchr(s, ' ', (size_t)(e - s));
	if (!sp || sp == s)
		return fail(m, -EBADMSG, buf, s, "bad start line", "Bad Request Line");

	if (sp - s >= 4 && sipcx__lower(s[0]) == 's' && sipcx__lower(s[1]) == 'i' &&
	    sipcx__lower(s[2]) == 'p' && s[3] == '/') {
		m->request = false;
		m->version = (struct sipcx_str){ s, (size_t)(sp - s) };
		if (!v20 && !version_ok(m->version))
			return fail(m, -EBADMSG, buf, s, "bad SIP version", "Bad Status Line");
		const char *c = sp + 1;
		if (e - c < 3 || !is_digit(c[0]) || !is_digit(c[1]) || !is_digit(c[2]) ||
		    (e - c > 3 && c[3] != ' '))
			return fail(m, -EBADMSG, buf, c, "status code is not 3 digits",
			            "Bad Status Line");
		m->status = (uint16_t)((c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0'));
		if (m->status < 100)
			return fail(m, -EBADMSG, buf, c, "status code below 100",
			            "Bad Status Line");
		c += 3;
		if (c < e)
			c++;
		m->reason = (struct sipcx_str){ c, (size_t)(e - c) };
		for (const char *q = c; q < e; q++)
			if (*q == '\r' || *q == '\0')
				return fail(m, -EBADMSG, buf, q,
				            "control character in reason phrase",
				            "Bad Status Line");
		sipcx__mc(m)->version_2_0 = is_2_0(m->version);
		return 0;
	}

	m->request = true;
	m->method_str = (struct sipcx_str){ s, (size_t)(sp - s) };
	const char *bad = sipcx__skip_cls(s, sp, SIPCX__CC_TOKEN);
	if (bad != sp)
		return fail(m, -EBADMSG, buf, bad, "method is not a token", "Bad Request Line");
	m->method = sipcx_method_lookup(m->method_str);
	const char *u = sp + 1;
	/* The usual "METHOD uri SIP/2.0": the URI is checked in one vector pass. */
	if (e - u > 8 && memcmp(e - 8, " SIP/2.0", 8) == 0) {
		const char *q = sipcx__find_ctl(u, e - 8);
		if (q == e - 8 && q > u) {
			m->ruri = (struct sipcx_str){ u, (size_t)(q - u) };
			m->version = (struct sipcx_str){ q + 1, 7 };
			sipcx__mc(m)->version_2_0 = true;
			return 0;
		}
	}
	/* Anything else, slowly, to say exactly what is wrong. */
	const char *sp2 = e;
	while (sp2 > u && sp2[-1] != ' ')
		sp2--;
	if (sp2 <= u)
		return fail(m, -EBADMSG, buf, u, "request line needs 3 parts", "Bad Request Line");
	if (sp2 == e)
		return fail(m, -EBADMSG, buf, e - 1, "space at the end of the request line",
		            "Bad Request Line");
	m->ruri = (struct sipcx_str){ u, (size_t)(sp2 - 1 - u) };
	m->version = (struct sipcx_str){ sp2, (size_t)(e - sp2) };
	if (m->ruri.len == 0)
		return fail(m, -EBADMSG, buf, u, "empty Request-URI or extra space",
		            "Bad Request-URI");
	for (const char *q = u; q < sp2 - 1; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return fail(m, -EBADMSG, buf, q, "whitespace or control in Request-URI",
			            "Bad Request-URI");
	if (!version_ok(m->version))
		return fail(m, -EBADMSG, buf, sp2, "bad SIP version", "Bad Request Line");
	sipcx__mc(m)->version_2_0 = is_2_0(m->version);
	return 0;
}

static struct sipcx_str trim_value(const char *s, const char *e)
{
	/* The usual "Name: value\r\n": one SP before, one CR after. */
	if (s < e && *s == ' ')
		s++;
	while (s < e && sipcx__is(*s, SIPCX__CC_WS))
		s++;
	if (e > s && e[-1] == '\r')
		e--;
	while (e > s && sipcx__is(e[-1], SIPCX__CC_WS))
		e--;
	return (struct sipcx_str){ s, (size_t)(e - s) };
}

/* How an incomplete message ends: wait on a stream, fail a datagram. */
static int incomplete(struct sipcx_msg *m, unsigned flags, const char *buf, const char *start,
                      const char *at, bool cut, const char *what)
{
	m->raw = (struct sipcx_str){ start, (size_t)(at - start) };
	if (cut)
		return fail(m, -EMSGSIZE, buf, at, "message larger than the size limit",
		            "Message Too Large");
	if (flags & SIPCX_MSG_STREAM)
		return fail(m, -EAGAIN, buf, at, "incomplete message", NULL);
	return fail(m, -EBADMSG, buf, at, what, "Malformed Message");
}

int sipcx_msg_parse(struct sipcx_msg *m, const char *buf, size_t len, unsigned flags)
{
	if (!m)
		return -EINVAL;
	/* Only the fixed part is reset: the header array is written as it fills. */
	memset(m, 0, offsetof(struct sipcx_msg, hdrs));
	m->err = 0;
	m->err_offset = 0;
	m->err_what = NULL;
	memset(sipcx__mc(m)->first, 0, sizeof(sipcx__mc(m)->first));
	memset(sipcx__mc(m)->count, 0, sizeof(sipcx__mc(m)->count));
	sipcx__mc(m)->raw_off = 0;
	sipcx__mc(m)->err_reason = NULL;
	sipcx__mc(m)->ctl_at = NULL;
	sipcx__mc(m)->has_clen = false;
	sipcx__mc(m)->version_2_0 = false;
	sipcx__mc(m)->done = sipcx__mc(m)->bad = 0;
	sipcx__mc(m)->refs = 0;
	if (!buf) {
		if (len)
			return -EINVAL;
		buf = "";
	}
	if (len > INT_MAX)
		len = INT_MAX; /* the return value is an int; SIPCX_MSG_MAX_SIZE is far below */

	const char *end = buf + len;
	/* RFC 3261 7.5: CRLFs before the start line are ignored (stream keep-alives). */
	const char *start = buf + sipcx_msg_skip_crlf(buf, len);
	sipcx__mc(m)->raw_off = (size_t)(start - buf);
	if (start == end) {
		if (flags & SIPCX_MSG_STREAM)
			return fail(m, -EAGAIN, buf, start, "no message yet", NULL);
		return fail(m, -EBADMSG, buf, start, "empty message", NULL);
	}
	/* Never look further than the size limit: a stream cannot make us buffer more. */
	bool cut = (size_t)(end - start) > SIPCX_MSG_MAX_SIZE;
	const char *lim = cut ? start + SIPCX_MSG_MAX_SIZE : end;

	const char *nl = memchr(start, '\n', (size_t)(lim - start));
	if (!nl)
		return incomplete(m, flags, buf, start, lim, cut, "no end of start line");
	const char *le = nl > start && nl[-1] == '\r' ? nl - 1 : nl;
	/*
	 * A bad request line (RFC 4475 3.1.2.7-10) is reported after the
	 * headers are indexed, so the request can still be answered 400.
	 * Anything else is reported after the headers too: a bad Content-Length.
	 */
	int deferred = 0;
	const char *deferred_at = NULL, *deferred_what = NULL, *deferred_reason = NULL;
	int r = parse_start(m, buf, start, le);
	if (r < 0) {
		m->raw = (struct sipcx_str){ start, (size_t)(nl + 1 - start) };
		if (!m->request)
			return r;
		deferred = r;
		deferred_at = buf + m->err_offset;
		deferred_what = m->err_what;
		deferred_reason = sipcx__mc(m)->err_reason;
		m->err = 0;
		m->err_what = NULL;
		sipcx__mc(m)->err_reason = NULL;
	}

	/* Header fields (RFC 3261 7.3): name HCOLON value, folded lines start with SP/HTAB. */
	const char *p = nl + 1;
	uint64_t clen = 0;
	for (;;) {
		if (p >= lim)
			return incomplete(m, flags, buf, start, lim, cut,
			                  "no empty line after the headers");
		if (*p == '\n') {
			p++;
			break;
		}
		if (*p == '\r') {
			if (p + 1 >= lim)
				return incomplete(m, flags, buf, start, lim, cut,
				                  "no empty line after the headers");
			if (p[1] == '\n') {
				p += 2;
				break;
			}
			m->raw = (struct sipcx_str){ start, (size_t)(p - start) };
			return fail(m, -EBADMSG, buf, p, "CR without LF", "Malformed Header");
		}
		const char *name = p;
		p = sipcx__skip_word(p, lim, SIPCX__CC_TOKEN); /* a header name */
		const char *name_end = p;
		while (p < lim && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= lim)
			return incomplete(m, flags, buf, start, lim, cut, "header without a value");
		if (*p != ':' || name_end == name) {
			m->raw = (struct sipcx_str){ start, (size_t)(p - start) };
			return fail(m, -EBADMSG, buf, name_end == name ? name : p,
			            name_end == name ? "bad header name"
			                             : "no ':' after header name",
			            "Malformed Header");
		}
		const char *v = ++p;
		for (;;) {
			/*
			 * The line ends at LF; a CR must come right before it. Any
			 * other control byte (but HTAB) is noted for the check: a
			 * stack that ends lines at a bare CR would read what follows
			 * as another header (smuggling).
			 */
			nl = sipcx__find_cc(p, lim);
			if (nl && *nl != '\n') {
				if (*nl == '\r' && nl + 1 < lim && nl[1] == '\n') {
					nl++;
				} else {
					/*
					 * HTAB is LWS; UTF-8 is TEXT; a quoted-pair may
					 * escape any byte but CR and LF (RFC 3261 25.1,
					 * RFC 4475 3.1.1.2).
					 */
					unsigned char c = (unsigned char)*nl;
					bool ok = c == '\t' || c > 0x7f ||
					          (c != '\r' && nl > v && nl[-1] == '\\');
					if (!ok && !sipcx__mc(m)->ctl_at)
						sipcx__mc(m)->ctl_at = nl;
					p = nl + 1;
					continue;
				}
			}
			/* The byte after the LF decides whether the next line continues this one. */
			if (!nl || nl + 1 >= lim)
				return incomplete(m, flags, buf, start, lim, cut,
				                  "no empty line after the headers");
			if (nl[1] != ' ' && nl[1] != '\t')
				break;
			p = nl + 1;
		}
		if (m->hdr_count == SIPCX_MSG_MAX_HDRS) {
			m->raw = (struct sipcx_str){ start, (size_t)(name - start) };
			return fail(m, -E2BIG, buf, name, "too many header lines",
			            "Message Too Large");
		}
		struct sipcx_hdr *h = &m->hdrs[m->hdr_count];
		h->name = (struct sipcx_str){ name, (size_t)(name_end - name) };
		h->value = trim_value(v, nl);
		h->id = sipcx__hdr_lookup_in(name, h->name.len, lim);
		if (h->id != SIPCX_HDR_OTHER) {
			if (!sipcx__mc(m)->first[h->id])
				sipcx__mc(m)->first[h->id] = (uint8_t)(m->hdr_count + 1);
			if (sipcx__mc(m)->count[h->id] < UINT8_MAX)
				sipcx__mc(m)->count[h->id]++;
		}
		if (h->id == SIPCX_HDR_CONTENT_LENGTH && !deferred) {
			/* Framing needs it now. 4294967328 is an error, not 32. */
			uint64_t n;
			if (sipcx_str_to_u64(h->value, UINT32_MAX, &n) != 0) {
				deferred = -EBADMSG;
				deferred_at = h->value.p;
				deferred_what = "bad Content-Length";
				deferred_reason = "Bad Content-Length";
			} else if (sipcx__mc(m)->has_clen && n != clen) {
				/* RFC 4475 3.3.9: conflicting values are a framing error. */
				deferred = -EBADMSG;
				deferred_at = h->value.p;
				deferred_what = "conflicting Content-Length values";
				deferred_reason = "Bad Content-Length";
			}
			clen = n;
			sipcx__mc(m)->has_clen = true;
		}
		m->hdr_count++;
		p = nl + 1;
	}

	size_t hlen = (size_t)(p - start);
	m->raw = (struct sipcx_str){ start, hlen };
	if (deferred)
		return fail(m, deferred, buf, deferred_at, deferred_what, deferred_reason);
	if (sipcx__mc(m)->has_clen) {
		if (clen > SIPCX_MSG_MAX_SIZE - hlen)
			return fail(m, -EMSGSIZE, buf, p, "Content-Length over the size limit",
			            "Message Too Large");
		if ((size_t)(end - p) < clen) {
			if (flags & SIPCX_MSG_STREAM)
				return fail(m, -EAGAIN, buf, end, "incomplete body", NULL);
			/* RFC 3261 18.3: a datagram shorter than Content-Length gets a 400. */
			return fail(m, -EBADMSG, buf, end, "body shorter than Content-Length",
			            "Bad Content-Length");
		}
		m->body = (struct sipcx_str){ p, (size_t)clen };
	} else {
		if (flags & SIPCX_MSG_STREAM)
			return fail(m, -EBADMSG, buf, p, "no Content-Length on a stream",
			            "Missing Content-Length");
		/* RFC 3261 18.3 / RFC 2543: over a datagram the body is the rest. */
		if ((size_t)(end - p) > SIPCX_MSG_MAX_SIZE - hlen)
			return fail(m, -EMSGSIZE, buf, p, "message larger than the size limit",
			            "Message Too Large");
		m->body = (struct sipcx_str){ p, (size_t)(end - p) };
	}
	m->raw.len = hlen + m->body.len;
	return (int)(m->body.p + m->body.len - buf);
}
