/* msg: private helpers shared by the message parser, index, checks and printer. */
#ifndef SIPCX__MSG_H
#define SIPCX__MSG_H

#include <string.h>

#include <sipcx/msg.h>

#include "base/base.h"

/*
 * The private part of struct sipcx_msg (its sipcx__private bytes): the
 * header index and the values the accessors parse on first use.
 */
struct sipcx__msg_cache {
	size_t raw_off;                  /* offset of raw.p in the parsed buf (for error offsets) */
	const char *err_reason;          /* reason phrase for a 400/513 after a failed parse */
	uint8_t first[SIPCX_HDR__COUNT]; /* 1 + index of the first header with id, 0 none */
	uint8_t count[SIPCX_HDR__COUNT]; /* header lines with id (saturates at 255) */
	/*
	 * The first byte in a header line that no header may hold (a control
	 * byte but HTAB, a CR not before LF, DEL: RFC 3261 25.1), noted by the
	 * parser's line scan and refused by sipcx_msg_check(); NULL when none.
	 */
	const char *ctl_at;
	bool has_clen;
	bool version_2_0;
	uint16_t done, bad; /* bit per cached field: parsed / malformed */
	struct sipcx_uri ruri;
	struct sipcx_via via;
	struct sipcx_addr from, to, contact;
	struct sipcx_cseq cseq;
	/*
		 * Where the first value of the first Via / Contact line ended, so
		 * the check and the iterators go on from there instead of again
		 * from the start.
		 */
	const char *via_next;
	struct sipcx_msg_iter contact_it;
	int contact_r; /* sipcx_hdr_split() result for the first Contact value */
	enum sipcx_method cseq_method;
	uint32_t max_forwards, expires;
	int refs; /* 0: caller-owned; > 0: from sipcx_msg_new()/dup() */
};
_Static_assert(sizeof(struct sipcx__msg_cache) <= SIPCX_MSG_PRIVATE_SIZE,
               "SIPCX_MSG_PRIVATE_SIZE holds the cache");

/*
 * The cache of m. The accessors take a const message and fill its cache
 * (a message is used by one thread at a time): the cast is deliberate.
 */
static inline struct sipcx__msg_cache *sipcx__mc(const struct sipcx_msg *m)
{
	return (struct sipcx__msg_cache *)(void *)(uintptr_t)m->sipcx__private.bytes;
}

/*
 * Copy n headers into *out (n + room entries, the last room zeroed for the
 * caller's own) with their names and values in one block *mem. -EINVAL for
 * a value with CR, LF or NUL (no header injection) or a NULL with a length,
 * -ENOMEM. Nothing allocated when n + room is 0.
 */
int sipcx__hdrs_dup(const struct sipcx_hdr *in, size_t n, size_t room, struct sipcx_hdr **out,
                    char **mem);

/* Cached fields of struct sipcx_msg (bits of the cache's done / bad). */
enum {
	SIPCX__C_RURI = 1u << 0,
	SIPCX__C_VIA = 1u << 1,
	SIPCX__C_FROM = 1u << 2,
	SIPCX__C_TO = 1u << 3,
	SIPCX__C_CONTACT = 1u << 4,
	SIPCX__C_CSEQ = 1u << 5,
	SIPCX__C_MAXFWD = 1u << 6,
	SIPCX__C_EXPIRES = 1u << 7,
};

/* RFC 3261 25.1 token characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" */
extern const uint8_t sipcx__msg_token[256];

static inline bool sipcx__is_token(unsigned char c)
{
	return sipcx__msg_token[c] != 0;
}

/*
 * Header name lookup without a chain of compares (tables in hdr.c): the
 * name's first and last 8 bytes (little-endian words; the same word twice
 * for a short name) are case-folded, summed with the length and
 * multiplied by an odd constant chosen so that the 64 names land in 64
 * different slots of 256. The slot gives the only candidate; word compares
 * confirm it.
 */
extern const uint8_t sipcx__hdr_slot[256];
extern const char sipcx__hdr_lower[SIPCX_HDR__COUNT][24]; /* NUL-padded rows */
#define SIPCX__HDR_HASH_MUL 0x03a31870d34f9e8bull
#define SIPCX__FOLD 0x2020202020202020ull

enum sipcx_hdr_id sipcx__hdr_lookup_slow(const char *s, size_t len);

static inline uint64_t sipcx__ld8(const char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/*
 * in is a word of the input, want the same word of a lower-case name.
 * Names hold only letters and '-': OR-ing 0x20 into the input at the
 * letter positions (bit 0x40 set in the lower-case name) folds exactly the
 * two cases of each letter, and '-' (or a NUL of the padding) must match
 * as is.
 */
static inline bool sipcx__word_eq(uint64_t in, uint64_t want)
{
	return (in | ((want & 0x4040404040404040ull) >> 1)) == want;
}

/*
 * sipcx_hdr_lookup() for a name inside a buffer that can be read up to lim
 * (lim >= s + len): a name shorter than 8 bytes is loaded as a whole word.
 */
static inline enum sipcx_hdr_id sipcx__hdr_lookup_in(const char *s, size_t len, const char *lim)
{
	if (len - 2 > 18 || lim - s < 8)
		return sipcx__hdr_lookup_slow(s, len); /* compact, empty or too long, or near lim */
	uint64_t a = sipcx__ld8(s);
	const char *n;
	unsigned id;
	if (len < 8) {
		a &= ~0ull >> (64 - 8 * len); /* only the name's bytes; the row is NUL-padded */
		id = sipcx__hdr_slot[((2 * (a | SIPCX__FOLD) + len) * SIPCX__HDR_HASH_MUL) >> 56];
		n = sipcx__hdr_lower[id];
		if (n[len] != 0 || n[len - 1] == 0 || !sipcx__word_eq(a, sipcx__ld8(n)))
			return SIPCX_HDR_OTHER; /* (OTHER itself: its row is "") */
		return (enum sipcx_hdr_id)id;
	}
	uint64_t b = sipcx__ld8(s + len - 8);
	id =
	    sipcx__hdr_slot[(((a | SIPCX__FOLD) + (b | SIPCX__FOLD) + len) * SIPCX__HDR_HASH_MUL) >>
	                    56];
	n = sipcx__hdr_lower[id];
	if (n[len] != 0 || n[len - 1] == 0 || !sipcx__word_eq(a, sipcx__ld8(n)) ||
	    !sipcx__word_eq(b, sipcx__ld8(n + len - 8)))
		return SIPCX_HDR_OTHER;
	if (len > 16 && !sipcx__word_eq(sipcx__ld8(s + 8), sipcx__ld8(n + 8)))
		return SIPCX_HDR_OTHER; /* the middle of the longest names */
	return (enum sipcx_hdr_id)id;
}

/* Offset of a pointer into the message from the start of the parsed buffer. */
static inline size_t sipcx__msg_off(const struct sipcx_msg *m, const char *p)
{
	if (!p || !m->raw.p || p < m->raw.p)
		return sipcx__mc(m)->raw_off;
	return sipcx__mc(m)->raw_off + (size_t)(p - m->raw.p);
}

#endif
