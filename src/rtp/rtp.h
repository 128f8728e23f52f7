/* rtp: private helpers of the RTP layer, network byte order reads and writes (RFC 3550 4). */
#ifndef SIPCX__RTP_H
#define SIPCX__RTP_H

#include <stddef.h>
#include <stdint.h>

#include <sipcx/rtp.h>

#include "base/base.h"

static inline uint16_t sipcx__rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t sipcx__rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t sipcx__rd64(const uint8_t *p)
{
	return (uint64_t)sipcx__rd32(p) << 32 | sipcx__rd32(p + 4);
}

static inline void sipcx__wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void sipcx__wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void sipcx__wr64(uint8_t *p, uint64_t v)
{
	sipcx__wr32(p, (uint32_t)(v >> 32));
	sipcx__wr32(p + 4, (uint32_t)v);
}

#endif
