/* msg: private helpers shared by the message parser, index, checks and printer. */
#ifndef SIPCX__MSG_H
#define SIPCX__MSG_H

#include <sipcx/msg.h>

#include "base/base.h"

/* Cached fields of struct sipcx_msg (bits of cache.done / cache.bad). */
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

/* Offset of a pointer into the message from the start of the parsed buffer. */
static inline size_t sipcx__msg_off(const struct sipcx_msg *m, const char *p)
{
	if (!p || !m->raw.p || p < m->raw.p)
		return m->cache.raw_off;
	return m->cache.raw_off + (size_t)(p - m->raw.p);
}

#endif
