/* msg: generic ";name=value" parameters and comma-separated header values (RFC 3261 7.3.1, 25.1). */
#include <errno.h>
#include <string.h>

#include "lex.h"

/*
 * The class table is built by the compiler from these predicates, so the
 * sets read like the RFC 3261 25.1 grammar instead of 256 magic numbers.
 */
#define IN_RANGE(c, a, b) ((c) >= (a) && (c) <= (b))
#define IS_ALPHA(c) (IN_RANGE(c, 'a', 'z') || IN_RANGE(c, 'A', 'Z'))
#define IS_DIGIT(c) IN_RANGE(c, '0', '9')
#define IS_ALNUM(c) (IS_ALPHA(c) || IS_DIGIT(c))
#define IS_HEX(c) (IS_DIGIT(c) || IN_RANGE(c, 'a', 'f') || IN_RANGE(c, 'A', 'F'))
#define IS_MARK(c)                                                                           \
	((c) == '-' || (c) == '_' || (c) == '.' || (c) == '!' || (c) == '~' || (c) == '*' || \
	 (c) == '\'' || (c) == '(' || (c) == ')')
#define IS_UNRES(c) (IS_ALNUM(c) || IS_MARK(c))
#define IS_TOKEN(c)                                                                           \
	(IS_ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '!' || (c) == '%' || (c) == '*' || \
	 (c) == '_' || (c) == '+' || (c) == '`' || (c) == '\'' || (c) == '~')
#define IS_USER(c)                                                                            \
	(IS_UNRES(c) || (c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',' || \
	 (c) == ';' || (c) == '?' || (c) == '/')
#define IS_PASS(c) \
	(IS_UNRES(c) || (c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',')
#define IS_PARAM(c)                                                                           \
	(IS_UNRES(c) || (c) == '[' || (c) == ']' || (c) == '/' || (c) == ':' || (c) == '&' || \
	 (c) == '+' || (c) == '$')
#define IS_HNV(c)                                                                             \
	(IS_UNRES(c) || (c) == '[' || (c) == ']' || (c) == '/' || (c) == '?' || (c) == ':' || \
	 (c) == '+' || (c) == '$')
#define IS_HOST(c) (IS_ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '_')
#define IS_WS(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')
#define IS_RESERVED(c)                                                                       \
	((c) == ';' || (c) == '/' || (c) == '?' || (c) == ':' || (c) == '@' || (c) == '&' || \
	 (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',')
#define IS_URIC(c) (IS_UNRES(c) || IS_RESERVED(c) || (c) == '[' || (c) == ']' || (c) == '#')
#define IS_SCHEME(c) (IS_ALNUM(c) || (c) == '+' || (c) == '-' || (c) == '.')
#define IS_TEL(c)                                                                           \
	(IS_HEX(c) || (c) == '*' || (c) == '#' || (c) == '-' || (c) == '.' || (c) == '(' || \
	 (c) == ')')
#define IS_SPLIT(c) ((c) == ',' || (c) == '"' || (c) == '<' || (c) == '>')
#define IS_LABEL(c) (IS_ALNUM(c) || (c) == '-' || (c) == '_')
#define IS_QDTEXT(c) ((c) != '"' && (c) != '\\')
#define IS_DVAL(c) (!IS_WS(c) && (c) != ',' && (c) != '"')

#define CC(c)                                                                                    \
	(uint32_t)((IS_LABEL(c) ? SIPCX__CC_LABEL : 0) | (IS_QDTEXT(c) ? SIPCX__CC_QDTEXT : 0) | \
	           (IS_DVAL(c) ? SIPCX__CC_DVAL : 0) | (IS_TOKEN(c) ? SIPCX__CC_TOKEN : 0) |     \
	           (IS_UNRES(c) ? SIPCX__CC_UNRES : 0) | (IS_USER(c) ? SIPCX__CC_USER : 0) |     \
	           (IS_PASS(c) ? SIPCX__CC_PASS : 0) | (IS_PARAM(c) ? SIPCX__CC_PARAM : 0) |     \
	           (IS_HNV(c) ? SIPCX__CC_HNV : 0) | (IS_HOST(c) ? SIPCX__CC_HOST : 0) |         \
	           (IS_DIGIT(c) ? SIPCX__CC_DIGIT : 0) | (IS_HEX(c) ? SIPCX__CC_HEX : 0) |       \
	           (IS_WS(c) ? SIPCX__CC_WS : 0) | (IS_URIC(c) ? SIPCX__CC_URIC : 0) |           \
	           (IS_SCHEME(c) ? SIPCX__CC_SCHEME : 0) | (IS_TEL(c) ? SIPCX__CC_TEL : 0) |     \
	           (IS_TOKEN(c) || IS_PARAM(c) ? SIPCX__CC_PCHAR : 0) |                          \
	           (IS_SPLIT(c) ? SIPCX__CC_SPLIT : 0) | (IS_ALPHA(c) ? SIPCX__CC_ALPHA : 0) |   \
	           ((c) == ',' ? SIPCX__CC_COMMA : 0))
#define R4(b) CC(b), CC((b) + 1), CC((b) + 2), CC((b) + 3)
#define R16(b) R4(b), R4((b) + 4), R4((b) + 8), R4((b) + 12)
#define R64(b) R16(b), R16((b) + 16), R16((b) + 32), R16((b) + 48)

const uint32_t sipcx__cc[256] = { R64(0), R64(64), R64(128), R64(192) };

int sipcx_param_next(struct sipcx_str *rest, struct sipcx_str *name, struct sipcx_str *value)
{
	if (rest->len == 0)
		return 0; /* before any arithmetic: an empty slice may have a NULL p */
	const char *p = rest->p, *end = p + rest->len;

	p = sipcx__skip_ws(p, end);
	if (p == end) {
		rest->p = end;
		rest->len = 0;
		return 0;
	}
	if (*p == ';')
		p++;
	struct sipcx_str n, v;
	const char *q = sipcx__param_scan(p, end, &n, &v);
	/* What follows a parameter is the next one or nothing: "a=b c" is malformed. */
	if (!q || (q < end && *q != ';'))
		return -EBADMSG;
	*name = n;
	*value = v;
	rest->p = q;
	rest->len = (size_t)(end - q);
	return 1;
}

/*
 * One comparable unit of a parameter name: a valid %HH stands for its byte
 * so "%6C%72" is "lr" (RFC 4475 esc01); a '%' that starts no escape is a
 * literal token character (RFC 4475 intmeth).
 */
static int name_unit(const char **pp, const char *end)
{
	const char *p = *pp;
	if (*p == '%' && end - p >= 3) {
		int h = sipcx__hexval(p[1]), l = sipcx__hexval(p[2]);
		if (h >= 0 && l >= 0) {
			*pp = p + 3;
			return sipcx__lower((char)(h << 4 | l)) & 0xff;
		}
	}
	*pp = p + 1;
	return sipcx__lower(*p) & 0xff;
}

bool sipcx__param_name_eq(struct sipcx_str a, struct sipcx_str b)
{
	if (a.len == 0 || b.len == 0)
		return a.len == b.len;
	/* Fast path: no escapes, so equal names have equal lengths. */
	if (!memchr(a.p, '%', a.len) && !memchr(b.p, '%', b.len))
		return sipcx_str_ieq(a, b);

	const char *p = a.p, *pe = a.p + a.len, *q = b.p, *qe = b.p + b.len;
	while (p < pe && q < qe)
		if (name_unit(&p, pe) != name_unit(&q, qe))
			return false;
	return p == pe && q == qe;
}

bool sipcx_param_get(struct sipcx_str params, const char *name, struct sipcx_str *value)
{
	struct sipcx_str want = sipcx_str_c(name), n, v;

	while (sipcx_param_next(&params, &n, &v) == 1) {
		if (sipcx__param_name_eq(n, want)) {
			if (value)
				*value = v;
			return true;
		}
	}
	return false;
}

/* The next byte that sipcx_hdr_split() must look at: , " < > (or end). */
static inline const char *find_split(const char *p, const char *end)
{
#ifdef SIPCX__SIMD
	if (end - p >= 16) {
		const __m128i c = _mm_set1_epi8(','), q = _mm_set1_epi8('"');
		const __m128i lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>');
		const char *found = end;
#define SPLIT16(x)                                                                 \
	_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8((x), c), _mm_cmpeq_epi8((x), q)), \
	             _mm_or_si128(_mm_cmpeq_epi8((x), lt), _mm_cmpeq_epi8((x), gt)))
		SIPCX__SCAN16(p, end, SPLIT16, found);
#undef SPLIT16
		return found;
	}
#endif
	while (p < end && !sipcx__is(*p, SIPCX__CC_SPLIT))
		p++;
	return p;
}

int sipcx_hdr_split(struct sipcx_str *rest, struct sipcx_str *item)
{
	if (rest->len == 0)
		return 0; /* before any arithmetic: an empty slice may have a NULL p */
	const char *p = rest->p, *end = p + rest->len;

	while (p < end && (*p == ',' || sipcx__is(*p, SIPCX__CC_WS)))
		p++;
	if (p == end) {
		rest->p = end;
		rest->len = 0;
		return 0;
	}

	const char *start = p;
	for (;;) {
		p = find_split(p, end);
		if (p == end || *p == ',')
			break;
		if (*p == '<') {
			/* Inside <...> only '>' matters: a ',' or '"' there is URI text (or a bad URI byte). */
			p = sipcx__find(p + 1, end, '>');
			if (!p)
				return -EBADMSG;
		} else if (*p == '"') {
			p = sipcx__qstr_end(p + 1, end);
			if (!p)
				return -EBADMSG;
		}
		/* A stray '>' outside <...> is left to the value's own parser. */
		p++;
	}

	const char *e = p;
	while (e > start && sipcx__is(e[-1], SIPCX__CC_WS))
		e--;
	*item = sipcx__span(start, e);
	rest->p = p;
	rest->len = (size_t)(end - p);
	return 1;
}
