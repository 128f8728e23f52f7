/* rtp/packet.c: RTP data packet parse and build, RFC 3550 5.1 and 5.3.1; RTP/RTCP demux, RFC 5761 4. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rtp/rtp.h"

int sipcx_rtp_parse(struct sipcx_rtp_pkt *pkt, const void *data, size_t len)
{
	if (!pkt || !data)
		return -EINVAL;
	memset(pkt, 0, sizeof(*pkt));
	const uint8_t *p = data;
	if (len < SIPCX_RTP_HDR_MIN || (p[0] >> 6) != SIPCX_RTP_VERSION)
		return -EBADMSG;

	bool padding = p[0] & 0x20;
	pkt->ext = p[0] & 0x10;
	pkt->cc = p[0] & 0x0f;
	pkt->marker = p[1] & 0x80;
	pkt->pt = p[1] & 0x7f;
	pkt->seq = sipcx__rd16(p + 2);
	pkt->ts = sipcx__rd32(p + 4);
	pkt->ssrc = sipcx__rd32(p + 8);

	size_t off = SIPCX_RTP_HDR_MIN;
	if (len - off < 4u * pkt->cc)
		return -EBADMSG;
	for (unsigned i = 0; i < pkt->cc; i++, off += 4)
		pkt->csrc[i] = sipcx__rd32(p + off);

	if (pkt->ext) {
		/* 5.3.1: profile word, then the length in 32-bit words after these 4 bytes */
		if (len - off < 4)
			return -EBADMSG;
		pkt->ext_profile = sipcx__rd16(p + off);
		size_t words = sipcx__rd16(p + off + 2);
		off += 4;
		if ((len - off) / 4 < words)
			return -EBADMSG;
		pkt->ext_data = p + off;
		pkt->ext_len = words * 4;
		off += pkt->ext_len;
	}

	size_t end = len;
	if (padding) {
		/* A.1: the count includes itself, so 0 is invalid; it may eat the whole payload */
		uint8_t pad = p[len - 1];
		if (pad == 0 || pad > len - off)
			return -EBADMSG;
		pkt->pad_len = pad;
		end -= pad;
	}
	pkt->payload = p + off;
	pkt->payload_len = end - off;
	return 0;
}

size_t sipcx_rtp_hdr_size(const struct sipcx_rtp_pkt *pkt)
{
	size_t n = SIPCX_RTP_HDR_MIN + 4u * pkt->cc;
	if (pkt->ext)
		n += 4 + pkt->ext_len;
	return n;
}

int sipcx_rtp_build(const struct sipcx_rtp_pkt *pkt, void *buf, size_t size)
{
	if (!pkt || !buf)
		return -EINVAL;
	if (pkt->pt > 127 || pkt->cc > SIPCX_RTP_MAX_CSRC)
		return -EINVAL;
	if (pkt->ext && (pkt->ext_len % 4 != 0 || pkt->ext_len / 4 > 0xffff ||
	                 (pkt->ext_len && !pkt->ext_data)))
		return -EINVAL;
	if (pkt->payload_len && !pkt->payload)
		return -EINVAL;
	size_t hdr = sipcx_rtp_hdr_size(pkt);
	if (pkt->payload_len > (size_t)INT32_MAX - hdr - pkt->pad_len)
		return -EINVAL;
	size_t total = hdr + pkt->payload_len + pkt->pad_len;
	if (total > size)
		return -ENOSPC;

	uint8_t *p = buf;
	/* The payload first: it may sit exactly where it belongs (in-place encode). */
	if (pkt->payload_len)
		memmove(p + hdr, pkt->payload, pkt->payload_len);
	p[0] = (uint8_t)(SIPCX_RTP_VERSION << 6 | (pkt->pad_len ? 0x20 : 0) |
	                 (pkt->ext ? 0x10 : 0) | pkt->cc);
	p[1] = (uint8_t)((pkt->marker ? 0x80 : 0) | pkt->pt);
	sipcx__wr16(p + 2, pkt->seq);
	sipcx__wr32(p + 4, pkt->ts);
	sipcx__wr32(p + 8, pkt->ssrc);
	size_t off = SIPCX_RTP_HDR_MIN;
	for (unsigned i = 0; i < pkt->cc; i++, off += 4)
		sipcx__wr32(p + off, pkt->csrc[i]);
	if (pkt->ext) {
		sipcx__wr16(p + off, pkt->ext_profile);
		sipcx__wr16(p + off + 2, (uint16_t)(pkt->ext_len / 4));
		if (pkt->ext_len)
			memmove(p + off + 4, pkt->ext_data, pkt->ext_len);
	}
	if (pkt->pad_len) {
		uint8_t *pad = p + hdr + pkt->payload_len;
		memset(pad, 0, pkt->pad_len - 1u);
		pad[pkt->pad_len - 1] = pkt->pad_len;
	}
	return (int)total;
}

bool sipcx_rtp_is_rtcp(const void *data, size_t len)
{
	const uint8_t *p = data;
	/* RFC 5761 4: RTCP packet types 192..223 never collide with RTP payload types in use */
	return p && len >= 2 && p[1] >= 192 && p[1] <= 223;
}

int sipcx_rtp_snprint(char *buf, size_t size, const struct sipcx_rtp_pkt *pkt)
{
	return snprintf(buf, size, "RTP pt=%u seq=%u ts=%lu ssrc=0x%08lx%s%s len=%zu",
	                (unsigned)pkt->pt, (unsigned)pkt->seq, (unsigned long)pkt->ts,
	                (unsigned long)pkt->ssrc, pkt->marker ? " M" : "", pkt->ext ? " X" : "",
	                pkt->payload_len);
}
