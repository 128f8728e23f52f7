/* msg: character classes and scanners shared by the header value parsers (RFC 3261 25.1). */
#ifndef SIPCX__MSG_LEX_H
#define SIPCX__MSG_LEX_H

#include <string.h>

#include <sipcx/uri.h>

#include "base/base.h"

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
};

extern const uint32_t sipcx__cc[256];

static inline bool sipcx__is(char c, unsigned cls)
{
	return (sipcx__cc[(unsigned char)c] & cls) != 0;
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
	/* Nonces and opaques run 32+ bytes: libc's vector memchr beats a byte loop. */
	const char *q = memchr(p, '"', (size_t)(end - p));
	if (!q)
		return NULL;
	if (!memchr(p, '\\', (size_t)(q - p)))
		return q;
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
const char *sipcx__port_scan(const char *p, const char *end, uint16_t *port);
/* Decode an IPv6 address text (no brackets) into 16 bytes. Returns 0 or -EBADMSG. */
int sipcx__ipv6_parse(const char *p, size_t n, uint8_t out[16]);
/*
 * Escape-aware case-insensitive equality for parameter names: a valid %HH
 * stands for its byte, any other '%' for itself.
 */
bool sipcx__param_name_eq(struct sipcx_str a, struct sipcx_str b);

#endif
