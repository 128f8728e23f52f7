/* msg: character classes and scanners shared by the header value parsers (RFC 3261 25.1). */
#ifndef SIPCX__MSG_LEX_H
#define SIPCX__MSG_LEX_H

#include <string.h>

#include <sipcx/header.h>
#include <sipcx/uri.h>

#include "base/base.h"

/*
 * SSE2 is part of x86-64: the scanners that look for one of a few bytes
 * (line ends, the separators of a header value) test 16 bytes per step.
 * Every load stays inside the slice; -DSIPCX_NO_SIMD builds the byte loops.
 */
#if defined(__SSE2__) && !defined(SIPCX_NO_SIMD)
#include <emmintrin.h>
#define SIPCX__SIMD 1
#endif

/*
 * One class mask per byte (table in param.c): a class test is one load and
 * one AND, so scanners are a tight loop instead of strchr chains.
 */
enum {
	SIPCX__CC_TOKEN = 1 << 0,   /* token: alphanum - . ! % * _ + ` ' ~ */
	SIPCX__CC_UNRES = 1 << 1,   /* unreserved: alphanum mark */
	SIPCX__CC_USER = 1 << 2,    /* unreserved + user-unreserved (& = + $ , ; ? /) */
	SIPCX__CC_PASS = 1 << 3,    /* unreserved + & = + $ , */
	SIPCX__CC_PARAM = 1 << 4,   /* paramchar without escapes: unreserved + [ ] / : & + $ */
	SIPCX__CC_HNV = 1 << 5,     /* hname/hvalue: unreserved + [ ] / ? : + $ */
	SIPCX__CC_HOST = 1 << 6,    /* hostname: alphanum - . (and _ seen in the wild) */
	SIPCX__CC_DIGIT = 1 << 7,   /* 0-9 */
	SIPCX__CC_HEX = 1 << 8,     /* 0-9 a-f A-F */
	SIPCX__CC_WS = 1 << 9,      /* SP HTAB CR LF (LWS once folded lines are included) */
	SIPCX__CC_URIC = 1 << 10,   /* absolute URI: reserved + unreserved + [ ] # */
	SIPCX__CC_SCHEME = 1 << 11, /* scheme after its first letter: alphanum + - . */
	SIPCX__CC_TEL = 1 << 12,    /* RFC 3966 number: HEXDIG * # and visual separators - . ( ) */
	SIPCX__CC_PCHAR = 1 << 13,  /* header/URI param name or unquoted value: token + paramchar */
	SIPCX__CC_SPLIT = 1 << 14,  /* what sipcx_hdr_split() stops at: , " < > */
	SIPCX__CC_ALPHA = 1 << 15,  /* a-z A-Z */
	SIPCX__CC_LABEL = 1 << 16,  /* inside a domain label: alphanum - _ */
	SIPCX__CC_QDTEXT = 1 << 17, /* inside a quoted string: all but " and \ */
	SIPCX__CC_DVAL = 1 << 18,   /* unquoted auth-param value: all but LWS , " */
	SIPCX__CC_COMMA = 1 << 19,  /* ',' (with SIPCX__CC_WS: what separates list elements) */
};

extern const uint32_t sipcx__cc[256];

static inline bool sipcx__is(char c, unsigned cls)
{
	return (sipcx__cc[(unsigned char)c] & cls) != 0;
}

static inline struct sipcx_str sipcx__trim(struct sipcx_str s)
{
	while (s.len && sipcx__is(s.p[0], SIPCX__CC_WS)) {
		s.p++;
		s.len--;
	}
	while (s.len && sipcx__is(s.p[s.len - 1], SIPCX__CC_WS))
		s.len--;
	return s;
}

#ifdef SIPCX__SIMD
static inline __m128i sipcx__load16(const char *p)
{
	__m128i x;
	memcpy(&x, p, 16); /* one unaligned load */
	return x;
}

/*
 * A scan over [p, end) with end - p >= 16 on entry: 32 bytes a step while
 * they last, then 16, then a last load at end - 16 whose bytes already
 * seen are shifted out, so no load leaves the slice. MATCH(x) gives the
 * byte mask of the wanted bytes; found is set to the first one (else
 * left alone).
 */
#define SIPCX__SCAN16(p, end, MATCH, found)                                                 \
	do {                                                                                \
		unsigned m_ = 0;                                                            \
		while ((end) - (p) >= 32) {                                                 \
			__m128i a_ = MATCH(sipcx__load16(p));                               \
			__m128i b_ = MATCH(sipcx__load16((p) + 16));                        \
			if (_mm_movemask_epi8(_mm_or_si128(a_, b_))) {                      \
				m_ = (unsigned)_mm_movemask_epi8(a_) |                      \
				     (unsigned)_mm_movemask_epi8(b_) << 16;                 \
				break;                                                      \
			}                                                                   \
			(p) += 32;                                                          \
		}                                                                           \
		if (!m_ && (end) - (p) >= 16) {                                             \
			m_ = (unsigned)_mm_movemask_epi8(MATCH(sipcx__load16(p)));          \
			if (!m_)                                                            \
				(p) += 16;                                                  \
		}                                                                           \
		if (!m_ && (p) < (end))                                                     \
			m_ = (unsigned)_mm_movemask_epi8(MATCH(sipcx__load16((end)-16))) >> \
			     (16 - ((end) - (p)));                                          \
		if (m_)                                                                     \
			(found) = (p) + __builtin_ctz(m_);                                  \
	} while (0)
#endif

/* The first c in [p, end), or NULL: memchr without the call, for short runs. */
static inline const char *sipcx__find(const char *p, const char *end, char c)
{
#ifdef SIPCX__SIMD
	if (end - p >= 16) {
		const __m128i n = _mm_set1_epi8(c);
		const char *found = NULL;
#define SIPCX__EQ1(x) _mm_cmpeq_epi8((x), n)
		SIPCX__SCAN16(p, end, SIPCX__EQ1, found);
#undef SIPCX__EQ1
		return found;
	}
#endif
	for (; p < end; p++)
		if (*p == c)
			return p;
	return NULL;
}

/*
 * The first control byte (0x00-0x1f, LF and CR included), DEL or byte
 * above 0x7f in [p, end), or NULL: the header scanner's line-end search,
 * which notes every control byte on the way for the smuggling check and
 * steps over UTF-8 (rare in headers) one byte at a time.
 */
static inline const char *sipcx__find_cc(const char *p, const char *end)
{
#ifdef SIPCX__SIMD
	if (end - p >= 16) {
		const __m128i one = _mm_set1_epi8(1), c21 = _mm_set1_epi8(0x21);
		const char *found = NULL;
		/* x + 1 < 0x21 signed: 0x00-0x1f, and 0x7f-0xff wrapped negative */
#define SIPCX__CC16(x) _mm_cmplt_epi8(_mm_add_epi8((x), one), c21)
		SIPCX__SCAN16(p, end, SIPCX__CC16, found);
#undef SIPCX__CC16
		return found;
	}
#endif
	for (; p < end; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return p;
	return NULL;
}

static inline const char *sipcx__skip_ws(const char *p, const char *end)
{
	while (p < end && sipcx__is(*p, SIPCX__CC_WS))
		p++;
	return p;
}

/* The hot loop of every scanner: unrolled by four, one bound check per four bytes. */
static inline const char *sipcx__skip_cls(const char *p, const char *end, unsigned cls)
{
	while (end - p >= 4) {
		if (!sipcx__is(p[0], cls))
			return p;
		if (!sipcx__is(p[1], cls))
			return p + 1;
		if (!sipcx__is(p[2], cls))
			return p + 2;
		if (!sipcx__is(p[3], cls))
			return p + 3;
		p += 4;
	}
	while (p < end && sipcx__is(*p, cls))
		p++;
	return p;
}

/*
 * sipcx__skip_cls() for a class that holds all letters and '-' (token):
 * header and parameter names are such runs, judged 16 bytes a step; the
 * byte loop takes over at the first other byte when it is in cls, or
 * after 16 bytes.
 */
static inline const char *sipcx__skip_word(const char *p, const char *end, unsigned cls)
{
#ifdef SIPCX__SIMD
	if (end - p >= 16) {
		__m128i raw = sipcx__load16(p);
		__m128i x = _mm_or_si128(raw, _mm_set1_epi8(0x20)); /* a letter's lower case */
		__m128i ok = _mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('a' - 1)),
		                                        _mm_cmpgt_epi8(_mm_set1_epi8('z' + 1), x)),
		                          _mm_cmpeq_epi8(raw, _mm_set1_epi8('-')));
		unsigned other = ~(unsigned)_mm_movemask_epi8(ok) & 0xffffu;
		if (!other)
			p += 16; /* a long name: the byte loop does the rest */
		else if (!sipcx__is(p[__builtin_ctz(other)], cls))
			return p + __builtin_ctz(other); /* the usual end: ':' or '=' */
		else
			p += __builtin_ctz(other);
	}
#endif
	return sipcx__skip_cls(p, end, cls);
}

static inline int sipcx__hexval(char c)
{
	unsigned char u = (unsigned char)c;
	if (u >= '0' && u <= '9')
		return u - '0';
	u |= 0x20;
	if (u >= 'a' && u <= 'f')
		return u - 'a' + 10;
	return -1;
}

/*
 * Advance over bytes of class cls and %HH escapes. Returns where the run
 * stops, or NULL on a '%' not followed by two hex digits inside the slice.
 */
static inline const char *sipcx__scan_esc(const char *p, const char *end, unsigned cls)
{
	for (;;) {
		p = sipcx__skip_cls(p, end, cls);
		if (p == end || *p != '%')
			return p;
		if (end - p < 3 || !sipcx__is(p[1], SIPCX__CC_HEX) ||
		    !sipcx__is(p[2], SIPCX__CC_HEX))
			return NULL;
		p += 3;
	}
}

/*
 * p is just after an opening '"'. Returns the closing '"' or NULL when the
 * string is unterminated inside the slice. A quoted-pair escapes any byte
 * but CR and LF (RFC 3261 25.1), NUL included.
 */
static inline const char *sipcx__qstr_end(const char *p, const char *end)
{
	/* Nonces and opaques run 32+ bytes: one vector pass finds the quote or a backslash. */
	const char *q = NULL, *s = p;
#ifdef SIPCX__SIMD
	if (end - s >= 16) {
		const __m128i dq = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
#define SIPCX__QS(x) _mm_or_si128(_mm_cmpeq_epi8((x), dq), _mm_cmpeq_epi8((x), bs))
		SIPCX__SCAN16(s, end, SIPCX__QS, q);
#undef SIPCX__QS
	} else
#endif
	{
		while (s < end && *s != '"' && *s != '\\')
			s++;
		q = s < end ? s : NULL;
	}
	if (!q)
		return NULL;
	if (*q == '"')
		return q;
	p = q;
	for (;;) {
		p = sipcx__skip_cls(p, end, SIPCX__CC_QDTEXT);
		if (p == end)
			return NULL;
		if (*p == '"')
			return p;
		if (end - p < 2 || p[1] == '\r' || p[1] == '\n')
			return NULL; /* a '\\' at the end, or before CR/LF */
		p += 2;
	}
}

/*
 * One parameter "name [= value]" at p, just after its ';' (LWS allowed
 * around the name and the '=', RFC 3261 25.1 SEMI and EQUAL): value is a
 * token/paramchar run or a quoted string (quotes removed), empty for a
 * flag. Returns the byte after it with the LWS after it skipped, or NULL
 * when malformed. The caller judges what follows (';', ',', the end).
 */
static inline const char *sipcx__param_scan(const char *p, const char *end, struct sipcx_str *name,
                                            struct sipcx_str *value)
{
	if (p < end && sipcx__is(*p, SIPCX__CC_WS))
		p = sipcx__skip_ws(p, end);
	const char *n0 = p;
	p = sipcx__skip_cls(p, end, SIPCX__CC_PCHAR);
	if (p == n0)
		return NULL; /* ";;" or a trailing ';' (RFC 4475 badinv01) */
	name->p = n0;
	name->len = (size_t)(p - n0);
	value->p = p;
	value->len = 0;
	if (p < end && sipcx__is(*p, SIPCX__CC_WS))
		p = sipcx__skip_ws(p, end);
	if (p < end && *p == '=') {
		p++;
		if (p < end && sipcx__is(*p, SIPCX__CC_WS))
			p = sipcx__skip_ws(p, end);
		if (p == end)
			return NULL;
		if (*p == '"') {
			const char *e = sipcx__qstr_end(p + 1, end);
			if (!e)
				return NULL;
			value->p = p + 1;
			value->len = (size_t)(e - p - 1);
			p = e + 1;
		} else {
			const char *v0 = p;
			p = sipcx__skip_cls(p, end, SIPCX__CC_PCHAR);
			if (p == v0)
				return NULL;
			value->p = v0;
			value->len = (size_t)(p - v0);
		}
		if (p < end && sipcx__is(*p, SIPCX__CC_WS))
			p = sipcx__skip_ws(p, end);
	}
	return p;
}

/*
 * The first control byte, SP or DEL in [p, end), or end: where a
 * Request-URI or a Call-ID stops being one (RFC 3261 25.1).
 */
static inline const char *sipcx__find_ctl(const char *p, const char *end)
{
#ifdef SIPCX__SIMD
	if (end - p >= 16) {
		const __m128i sp = _mm_set1_epi8(' '), del = _mm_set1_epi8(0x7f);
		const char *found = end;
		/* unsigned x <= ' ' is min(x, ' ') == x */
#define SIPCX__CTL16(x) \
	_mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8((x), sp), (x)), _mm_cmpeq_epi8((x), del))
		SIPCX__SCAN16(p, end, SIPCX__CTL16, found);
#undef SIPCX__CTL16
		return found;
	}
#endif
	while (p < end && (unsigned char)*p > ' ' && *p != 0x7f)
		p++;
	return p;
}

/*
 * Case-insensitive compare with a literal of n lowercase ASCII letters (only
 * letters: OR 0x20 maps nothing else onto a letter). With n a constant up to
 * 8 it is one unaligned load, one OR and one compare.
 */
static inline bool sipcx__ieq_lit(struct sipcx_str s, const char *lit, size_t n)
{
	if (s.len != n)
		return false;
	if (n - 1 < 8) { /* 1..8: n == 0 would shift by 64 */
		uint64_t a = 0, b = 0;
		memcpy(&a, s.p, n);
		memcpy(&b, lit, n);
		return (a | (0x2020202020202020ull >> (64 - 8 * n))) == b;
	}
	for (size_t i = 0; i < n; i++)
		if ((char)(s.p[i] | 0x20) != lit[i])
			return false;
	return true;
}

static inline struct sipcx_str sipcx__span(const char *a, const char *b)
{
	struct sipcx_str s = { a, (size_t)(b - a) };
	return s;
}

/*
 * host = hostname / IPv4address / "[" IPv6address "]" at p. Sets *host
 * (brackets stripped) and *v6; returns the first byte after the host, or
 * NULL when there is no valid host there.
 */
const char *sipcx__host_scan(const char *p, const char *end, struct sipcx_str *host, bool *v6);
/* 1*DIGIT port at p, at most 65535. Returns the byte after it or NULL. */
static inline const char *sipcx__port_scan(const char *p, const char *end, uint16_t *port)
{
	const char *s = p;
	uint32_t v = 0;
	unsigned d;

	while (p < end && (d = (unsigned)(unsigned char)*p - '0') <= 9) {
		v = v * 10 + d;
		if (v > 65535)
			return NULL; /* checked per digit, so a long run cannot wrap */
		p++;
	}
	if (p == s)
		return NULL;
	*port = (uint16_t)v;
	return p;
}
/*
 * One via-parm at p (no LWS before it) into *v: stops at the ',' before the
 * next via-parm or at end, and returns that place (LWS skipped), or NULL
 * when the via-parm is malformed. Lets a Via header be parsed without
 * splitting it first.
 */
const char *sipcx__via_scan(struct sipcx_via *v, const char *p, const char *end);
/* Decode an IPv6 address text (no brackets) into 16 bytes. Returns 0 or -EBADMSG. */
int sipcx__ipv6_parse(const char *p, size_t n, uint8_t out[16]);
/*
 * Escape-aware case-insensitive equality for parameter names: a valid %HH
 * stands for its byte, any other '%' for itself.
 */
bool sipcx__param_name_eq(struct sipcx_str a, struct sipcx_str b);

#endif
