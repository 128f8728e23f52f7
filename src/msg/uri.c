/* msg: SIP/SIPS, tel and absolute URIs: parse, unescape, compare (RFC 3261 19.1, RFC 3966). */
#include <errno.h>
#include <string.h>

#include "lex.h"

/*
 * dec-octet "." dec-octet "." dec-octet "." dec-octet at p, each 1-3 digits
 * up to 255, in one pass. Returns the byte after it (the caller checks what
 * follows) or NULL.
 */
static const char *ipv4_scan(const char *p, const char *end, uint8_t out[4])
{
	for (int i = 0;; i++) {
		unsigned v, d;
		if (p == end || (v = (unsigned)(unsigned char)*p - '0') > 9)
			return NULL;
		p++;
		if (p < end && (d = (unsigned)(unsigned char)*p - '0') <= 9) {
			v = v * 10 + d;
			p++;
			if (p < end && (d = (unsigned)(unsigned char)*p - '0') <= 9) {
				v = v * 10 + d;
				p++;
			}
		}
		if (v > 255)
			return NULL;
		out[i] = (uint8_t)v;
		if (i == 3)
			return p;
		if (p == end || *p != '.')
			return NULL;
		p++;
	}
}

int sipcx__ipv6_parse(const char *p, size_t n, uint8_t out[16])
{
	const char *end = p + n, *group = p;
	uint8_t a[16] = { 0 };
	int idx = 0, gap = -1, digits = 0;
	unsigned val = 0;

	if (n < 2)
		return -EBADMSG;
	if (*p == ':') {
		if (p[1] != ':')
			return -EBADMSG; /* one leading ':' */
		p++;
	}
	while (p < end) {
		char c = *p++;
		int h = sipcx__hexval(c);
		if (h >= 0) {
			if (++digits > 4)
				return -EBADMSG;
			val = val << 4 | (unsigned)h;
			continue;
		}
		if (c == ':') {
			group = p;
			if (digits == 0) {
				if (gap >= 0)
					return -EBADMSG; /* a second "::" */
				gap = idx;
				continue;
			}
			if (p == end || idx > 14)
				return -EBADMSG;
			a[idx++] = (uint8_t)(val >> 8);
			a[idx++] = (uint8_t)val;
			val = 0;
			digits = 0;
			continue;
		}
		if (c == '.') {
			/* Dotted IPv4 tail (::ffff:192.0.2.1): it ends the address. */
			if (idx > 12 || ipv4_scan(group, end, a + idx) != end)
				return -EBADMSG;
			idx += 4;
			digits = 0;
			break;
		}
		return -EBADMSG;
	}
	if (digits) {
		if (idx > 14)
			return -EBADMSG;
		a[idx++] = (uint8_t)(val >> 8);
		a[idx++] = (uint8_t)val;
	}
	if (gap >= 0) {
		if (idx == 16)
			return -EBADMSG;
		int tail = idx - gap;
		memmove(a + 16 - tail, a + gap, (size_t)tail);
		memset(a + gap, 0, (size_t)(16 - tail - gap));
	} else if (idx != 16) {
		return -EBADMSG;
	}
	memcpy(out, a, 16);
	return 0;
}

/*
 * hostname = *( domainlabel "." ) toplabel [ "." ], IPv4address (RFC 3261
 * 25.1), scanned as one run of label bytes and dots: the host ends at the
 * first byte that is neither, or just after the first dot of a "..". A
 * run of only digits and dots must be an IPv4 address ("1.2.3",
 * "256.1.1.1" are neither hostnames nor addresses).
 */
#ifdef SIPCX__SIMD
/* 1..3 digits of value 0..255 (leading zeros allowed, as ipv4_scan() does). */
static inline bool octet_ok(const char *s, unsigned len)
{
	if (len - 1 > 2)
		return false;
	return len < 3 || (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 +
	                          (unsigned)(s[2] - '0') <=
	                      255;
}

/*
 * The n bytes at p are digits and dots (dots: their bit mask, no ".." and
 * no leading dot): an IPv4 address is 3 dots between 4 octets.
 */
static bool ipv4_by_dots(const char *p, unsigned n, unsigned dots)
{
	unsigned d[3];
	for (int i = 0; i < 3; i++) {
		if (!dots)
			return false;
		d[i] = (unsigned)__builtin_ctz(dots);
		dots &= dots - 1;
	}
	return !dots && octet_ok(p, d[0]) && octet_ok(p + d[0] + 1, d[1] - d[0] - 1) &&
	       octet_ok(p + d[1] + 1, d[2] - d[1] - 1) && octet_ok(p + d[2] + 1, n - d[2] - 1);
}
#endif

const char *sipcx__host_scan(const char *p, const char *end, struct sipcx_str *host, bool *v6)
{
	if (p == end)
		return NULL;
	if (*p == '[') {
		const char *c = memchr(p + 1, ']', (size_t)(end - p - 1));
		uint8_t tmp[16];
		if (!c || sipcx__ipv6_parse(p + 1, (size_t)(c - p - 1), tmp) != 0)
			return NULL;
		*host = sipcx__span(p + 1, c);
		*v6 = true;
		return c + 1;
	}
	if (!sipcx__is(*p, SIPCX__CC_LABEL))
		return NULL; /* no empty first label */

	const char *q = p;
	bool numeric = true, dot = false;
#ifdef SIPCX__SIMD
	/* 16 bytes a step: masks of label bytes, dots and digits. */
	while (end - q >= 16) {
		__m128i x = sipcx__load16(q);
		__m128i lx = _mm_or_si128(x, _mm_set1_epi8(0x20));
		__m128i dig = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
		                            _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), x));
		__m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lx, _mm_set1_epi8('a' - 1)),
		                              _mm_cmpgt_epi8(_mm_set1_epi8('z' + 1), lx));
		__m128i dots = _mm_cmpeq_epi8(x, _mm_set1_epi8('.'));
		__m128i other = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
		                             _mm_cmpeq_epi8(x, _mm_set1_epi8('_')));
		unsigned hm = (unsigned)_mm_movemask_epi8(
		    _mm_or_si128(_mm_or_si128(dig, alpha), _mm_or_si128(dots, other)));
		unsigned dm = (unsigned)_mm_movemask_epi8(dots);
		unsigned gm = (unsigned)_mm_movemask_epi8(dig) | dm;
		unsigned stop = ~hm & 0xffffu;
		unsigned n = stop ? (unsigned)__builtin_ctz(stop) : 16;
		unsigned in = (1u << n) - 1; /* the run's bytes in this step */
		dm &= in;
		unsigned dd = dm & (dm << 1 | (unsigned)dot); /* second dots of ".." */
		if (dd) {
			n = (unsigned)__builtin_ctz(dd); /* the host ends after the first dot */
			in = (1u << n) - 1;
			stop = 1;
		}
		if ((gm & in) != in)
			numeric = false;
		q += n;
		if (stop) {
			if (numeric && q - p == n) {
				/* The whole host in this first step: the dots give the octets. */
				if (!ipv4_by_dots(p, n, dm & in))
					return NULL;
				numeric = false;
			}
			goto done;
		}
		dot = dm >> 15;
	}
#endif
	for (; q < end; q++) {
		char c = *q;
		if (c == '.') {
			if (dot)
				break; /* ".." */
			dot = true;
			continue;
		}
		if (!sipcx__is(c, SIPCX__CC_LABEL))
			break;
		if (!sipcx__is(c, SIPCX__CC_DIGIT))
			numeric = false;
		dot = false;
	}
#ifdef SIPCX__SIMD
done:
#endif
	if (numeric) {
		uint8_t tmp[4];
		if (ipv4_scan(p, q, tmp) != q)
			return NULL; /* digits and dots only, yet no IPv4 address */
	}
	*host = sipcx__span(p, q);
	*v6 = false;
	return q;
}

/* uri-parameters = *( ";" pname [ "=" pvalue ] ), both 1*paramchar. p is at the first ';'. */
static const char *uri_params_scan(const char *p, const char *end)
{
	while (p < end && *p == ';') {
		const char *n = sipcx__scan_esc(p + 1, end, SIPCX__CC_PARAM);
		if (!n || n == p + 1)
			return NULL;
		p = n;
		if (p < end && *p == '=') {
			const char *v = sipcx__scan_esc(p + 1, end, SIPCX__CC_PARAM);
			if (!v || v == p + 1)
				return NULL;
			p = v;
		}
	}
	return p;
}

/* headers = header *( "&" header ), header = hname "=" hvalue. p is after the '?'. */
static const char *uri_headers_scan(const char *p, const char *end)
{
	for (;;) {
		const char *n = sipcx__scan_esc(p, end, SIPCX__CC_HNV);
		if (!n || n == p || n == end || *n != '=')
			return NULL;
		p = sipcx__scan_esc(n + 1, end, SIPCX__CC_HNV);
		if (!p)
			return NULL;
		if (p == end || *p != '&')
			return p;
		p++;
	}
}

static int sip_parse(struct sipcx_uri *u, const char *p, const char *end)
{
	/*
	 * '@' appears nowhere in a SIP URI but after the userinfo, while the
	 * user may hold ';' '?' '/' ',' (RFC 4475 intmeth, semiuri): so find
	 * the '@' first and only then split params and headers.
	 */
	const char *at = sipcx__find(p, end, '@');
	if (at) {
		const char *q = sipcx__scan_esc(p, at, SIPCX__CC_USER);
		if (!q)
			return -EBADMSG;
		u->user = sipcx__span(p, q);
		if (q < at) {
			if (*q != ':' || sipcx__scan_esc(q + 1, at, SIPCX__CC_PASS) != at)
				return -EBADMSG;
			u->password = sipcx__span(q + 1, at);
		}
		u->has_user = true;
		p = at + 1;
	}
	p = sipcx__host_scan(p, end, &u->host, &u->host_ipv6);
	if (!p)
		return -EBADMSG;
	if (p < end && *p == ':') {
		p = sipcx__port_scan(p + 1, end, &u->port);
		if (!p)
			return -EBADMSG;
	}
	if (p < end && *p == ';') {
		const char *q = uri_params_scan(p, end);
		if (!q)
			return -EBADMSG;
		u->params = sipcx__span(p, q);
		p = q;
	}
	if (p < end && *p == '?') {
		const char *q = uri_headers_scan(p + 1, end);
		if (!q)
			return -EBADMSG;
		u->headers = sipcx__span(p + 1, q);
		p = q;
	}
	/* Anything else (LWS, '<', '>', '"', a second '@') makes the URI invalid (RFC 4475). */
	return p == end ? 0 : -EBADMSG;
}

/* RFC 3966: telephone-subscriber = global-number / local-number, then ;par. */
static int tel_parse(struct sipcx_uri *u, const char *p, const char *end)
{
	const char *n0 = p;
	if (p < end && *p == '+')
		p++;
	const char *q = sipcx__scan_esc(p, end, SIPCX__CC_TEL);
	if (!q)
		return -EBADMSG;
	bool digit = false;
	for (const char *d = p; d < q; d++)
		if (sipcx__is(*d, SIPCX__CC_HEX) || *d == '*' || *d == '#')
			digit = true;
	if (!digit)
		return -EBADMSG; /* only visual separators: no number */
	u->user = sipcx__span(n0, q);
	u->has_user = true;
	p = q;
	if (p < end && *p == ';') {
		q = uri_params_scan(p, end);
		if (!q)
			return -EBADMSG;
		u->params = sipcx__span(p, q);
		p = q;
	}
	return p == end ? 0 : -EBADMSG;
}

static inline bool lit3(const char *p, char a, char b, char c)
{
	return (p[0] | 0x20) == a && (p[1] | 0x20) == b && (p[2] | 0x20) == c;
}

int sipcx_uri_parse(struct sipcx_uri *u, struct sipcx_str s)
{
	/* Empty slices point into the input: a NULL p would make p + len undefined. */
	struct sipcx_str none = { s.p, 0 };
	u->scheme = SIPCX_URI_OTHER;
	u->scheme_str = u->user = u->password = u->host = none;
	u->params = u->headers = none;
	u->host_ipv6 = u->has_user = false;
	u->port = 0;
	u->raw = s;
	if (s.len == 0)
		return -EBADMSG;

	const char *p = s.p, *end = s.p + s.len;

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), case-insensitive. */
	if (!sipcx__is(*p, SIPCX__CC_ALPHA))
		return -EBADMSG;
	const char *c = sipcx__skip_cls(p + 1, end, SIPCX__CC_SCHEME);
	if (c == end || *c != ':')
		return -EBADMSG;
	size_t sl = (size_t)(c - p);
	u->scheme_str = sipcx__span(p, c);
	if (sl == 3 && lit3(p, 's', 'i', 'p'))
		u->scheme = SIPCX_URI_SIP;
	else if (sl == 4 && lit3(p, 's', 'i', 'p') && (p[3] | 0x20) == 's')
		u->scheme = SIPCX_URI_SIPS;
	else if (sl == 3 && lit3(p, 't', 'e', 'l'))
		u->scheme = SIPCX_URI_TEL;
	else
		u->scheme = SIPCX_URI_OTHER;

	p = c + 1;
	switch (u->scheme) {
	case SIPCX_URI_SIP:
	case SIPCX_URI_SIPS:
		return sip_parse(u, p, end);
	case SIPCX_URI_TEL:
		return tel_parse(u, p, end);
	default:
		/* absoluteURI: kept opaque, but it must still be one token of uric. */
		c = sipcx__scan_esc(p, end, SIPCX__CC_URIC);
		return c && c != p && c == end ? 0 : -EBADMSG;
	}
}

int sipcx_uri_unescape(struct sipcx_str s, char *out, size_t outsz, size_t *outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < s.len;) {
		char c = s.p[i];
		if (c == '%') {
			int h = s.len - i >= 3 ? sipcx__hexval(s.p[i + 1]) : -1;
			int l = s.len - i >= 3 ? sipcx__hexval(s.p[i + 2]) : -1;
			if (h < 0 || l < 0)
				return -EBADMSG;
			c = (char)(h << 4 | l);
			i += 3;
		} else {
			i++;
		}
		if (o >= outsz)
			return -ENOSPC;
		out[o++] = c;
	}
	if (outlen)
		*outlen = o;
	return 0;
}

bool sipcx_uri_param(const struct sipcx_uri *u, const char *name, struct sipcx_str *value)
{
	return sipcx_param_get(u->params, name, value);
}

int sipcx_uri_escape(struct sipcx_str s, char *out, size_t outsz, size_t *outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		bool keep = sipcx__is((char)c, SIPCX__CC_UNRES);
		if (o + (keep ? 1 : 3) > outsz)
			return -ENOSPC;
		if (keep) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (outlen)
		*outlen = o;
	return 0;
}

/* ---- RFC 3261 19.1.4 comparison ---- */

static bool is_reserved(unsigned c)
{
	switch (c) {
	case ';':
	case '/':
	case '?':
	case ':':
	case '@':
	case '&':
	case '=':
	case '+':
	case '$':
	case ',':
		return true;
	default:
		return false;
	}
}

/*
 * Next comparable unit. "Characters other than those in the reserved set
 * are equivalent to their %HH encoding": an escaped unreserved byte is the
 * byte, an escaped reserved one (%3B) stays distinct from ';' (0x100 | c).
 */
static unsigned esc_unit(const char **pp, const char *end, bool icase)
{
	const char *p = *pp;
	unsigned c = (unsigned char)*p;
	*pp = p + 1;
	if (c == '%' && end - p >= 3) {
		int h = sipcx__hexval(p[1]), l = sipcx__hexval(p[2]);
		if (h >= 0 && l >= 0) {
			*pp = p + 3;
			c = (unsigned)(h << 4 | l);
			if (icase)
				c = (unsigned char)sipcx__lower((char)c);
			return is_reserved(c) ? 0x100 | c : c;
		}
	}
	return icase ? (unsigned char)sipcx__lower((char)c) : c;
}

static bool esc_eq(struct sipcx_str a, struct sipcx_str b, bool icase)
{
	if (a.len == 0 || b.len == 0)
		return a.len == b.len;
	const char *p = a.p, *pe = p + a.len, *q = b.p, *qe = q + b.len;
	while (p < pe && q < qe)
		if (esc_unit(&p, pe, icase) != esc_unit(&q, qe, icase))
			return false;
	return p == pe && q == qe;
}

static bool param_find(struct sipcx_str params, struct sipcx_str name, struct sipcx_str *value)
{
	struct sipcx_str n, v;
	while (sipcx_param_next(&params, &n, &v) == 1) {
		if (sipcx__param_name_eq(n, name)) {
			*value = v;
			return true;
		}
	}
	return false;
}

/* Parameters that make URIs differ when only one has them (RFC 3261 19.1.4). */
static bool param_sticky(struct sipcx_str n)
{
	static const struct sipcx_str names[] = { SIPCX_STR("transport"), SIPCX_STR("user"),
		                                  SIPCX_STR("ttl"), SIPCX_STR("method"),
		                                  SIPCX_STR("maddr") };
	for (size_t i = 0; i < SIPCX_ARRAY_SIZE(names); i++)
		if (sipcx__param_name_eq(n, names[i]))
			return true;
	return false;
}

/*
 * Each parameter of a that b also has must match (case-insensitive, escapes
 * decoded); one only a has must not be sticky (all: every one must be in b).
 * A repeated name counts by its first value on both sides, so the
 * comparison stays symmetric and reflexive.
 */
static bool params_cover(struct sipcx_str a, struct sipcx_str b, bool all)
{
	struct sipcx_str rest = a, n, v, bv;
	while (sipcx_param_next(&rest, &n, &v) == 1) {
		param_find(a, n, &v);
		if (param_find(b, n, &bv)) {
			if (!esc_eq(v, bv, true))
				return false;
		} else if (all || param_sticky(n)) {
			return false;
		}
	}
	return true;
}

/* Next "hname=hvalue" of a URI's headers part. */
static bool uri_hdr_next(struct sipcx_str *rest, struct sipcx_str *name, struct sipcx_str *value)
{
	if (rest->len == 0)
		return false;
	const char *p = rest->p, *end = p + rest->len;
	const char *amp = memchr(p, '&', rest->len);
	const char *e = amp ? amp : end;
	const char *eq = memchr(p, '=', (size_t)(e - p));
	*name = sipcx__span(p, eq ? eq : e);
	*value = eq ? sipcx__span(eq + 1, e) : sipcx__span(e, e);
	rest->p = amp ? amp + 1 : end;
	rest->len = (size_t)(end - rest->p);
	return true;
}

bool sipcx_uri_header(const struct sipcx_uri *u, const char *name, struct sipcx_str *value)
{
	struct sipcx_str rest = u->headers, n, v, want = sipcx_str_c(name);
	while (uri_hdr_next(&rest, &n, &v))
		if (sipcx__param_name_eq(n, want)) {
			*value = v;
			return true;
		}
	return false;
}

/* Headers are never ignored: each of a must be in b with the same value. */
static bool headers_cover(struct sipcx_str a, struct sipcx_str b)
{
	struct sipcx_str n, v, n2, v2;
	while (uri_hdr_next(&a, &n, &v)) {
		struct sipcx_str r = b;
		bool found = false;
		while (!found && uri_hdr_next(&r, &n2, &v2))
			found = sipcx__param_name_eq(n, n2) && esc_eq(v, v2, false);
		if (!found)
			return false;
	}
	return true;
}

static bool host_eq(const struct sipcx_uri *a, const struct sipcx_uri *b)
{
	if (a->host_ipv6 != b->host_ipv6)
		return false;
	if (a->host_ipv6) {
		/* [2001:db8::1] and [2001:DB8:0::1] are one address. */
		uint8_t x[16], y[16];
		return sipcx__ipv6_parse(a->host.p, a->host.len, x) == 0 &&
		       sipcx__ipv6_parse(b->host.p, b->host.len, y) == 0 && memcmp(x, y, 16) == 0;
	}
	return sipcx_str_ieq(a->host, b->host);
}

/* RFC 3966 4: visual separators are not significant, hex digits are case-insensitive. */
static bool tel_number_eq(struct sipcx_str a, struct sipcx_str b)
{
	const char *p = a.p, *pe = p + a.len, *q = b.p, *qe = q + b.len;
	for (;;) {
		while (p < pe && (*p == '-' || *p == '.' || *p == '(' || *p == ')'))
			p++;
		while (q < qe && (*q == '-' || *q == '.' || *q == '(' || *q == ')'))
			q++;
		if (p == pe || q == qe)
			return p == pe && q == qe;
		if (esc_unit(&p, pe, true) != esc_unit(&q, qe, true))
			return false;
	}
}

bool sipcx_uri_equal(const struct sipcx_uri *a, const struct sipcx_uri *b)
{
	if (a->scheme != b->scheme)
		return false; /* a SIP and a SIPS URI are never equivalent */

	switch (a->scheme) {
	case SIPCX_URI_SIP:
	case SIPCX_URI_SIPS:
		/* userinfo is case-sensitive, the rest case-insensitive. */
		return a->has_user == b->has_user && esc_eq(a->user, b->user, false) &&
		       esc_eq(a->password, b->password, false) && host_eq(a, b) &&
		       a->port == b->port && params_cover(a->params, b->params, false) &&
		       params_cover(b->params, a->params, false) &&
		       headers_cover(a->headers, b->headers) &&
		       headers_cover(b->headers, a->headers);
	case SIPCX_URI_TEL:
		return tel_number_eq(a->user, b->user) &&
		       params_cover(a->params, b->params, true) &&
		       params_cover(b->params, a->params, true);
	default:
		return sipcx_str_ieq(a->raw, b->raw);
	}
}
