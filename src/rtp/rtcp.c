/* rtp/rtcp.c: RTCP compound packets, RFC 3550 6.1 and 6.4-6.7 (SR, RR, SDES, BYE, APP), checks of A.2. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rtp/rtp.h"

#define RTCP_HDR 4
#define RB_SIZE 24
#define SI_SIZE 20

void sipcx_rtcp_iter_init(struct sipcx_rtcp_iter *it, const void *data, size_t len, unsigned flags)
{
	it->p = data;
	it->len = data ? len : 0;
	it->off = 0;
	it->idx = 0;
	it->flags = flags;
}

int sipcx_rtcp_iter_next(struct sipcx_rtcp_iter *it, struct sipcx_rtcp_pkt *pkt)
{
	if (it->off == SIZE_MAX)
		return -EBADMSG;
	if (it->off == it->len) {
		/* A.2: an empty datagram is no compound packet */
		if (it->idx == 0)
			goto bad;
		return 0;
	}
	size_t left = it->len - it->off;
	const uint8_t *p = it->p + it->off;
	if (left < RTCP_HDR || (p[0] >> 6) != 2)
		goto bad;
	size_t plen = 4 * ((size_t)sipcx__rd16(p + 2) + 1);
	if (plen > left)
		goto bad;
	bool padded = p[0] & 0x20;
	bool strict = it->flags & SIPCX_RTCP_STRICT;
	if (strict && it->idx == 0 && (padded || (p[1] != SIPCX_RTCP_SR && p[1] != SIPCX_RTCP_RR)))
		goto bad;
	/* 6.4.1: padding is for the compound as a whole, so only its last packet carries it */
	if (strict && padded && plen != left)
		goto bad;

	memset(pkt, 0, sizeof(*pkt));
	pkt->pt = p[1];
	pkt->count = p[0] & 0x1f;
	pkt->data = p;
	pkt->len = plen;
	pkt->body = p + RTCP_HDR;
	pkt->body_len = plen - RTCP_HDR;
	if (padded) {
		uint8_t pad = p[plen - 1];
		if (pad == 0 || pad > pkt->body_len)
			goto bad;
		pkt->pad_len = pad;
		pkt->body_len -= pad;
	}
	it->off += plen;
	it->idx++;
	return 1;
bad:
	it->off = SIZE_MAX;
	return -EBADMSG;
}

int sipcx_rtcp_validate(const void *data, size_t len, unsigned flags)
{
	struct sipcx_rtcp_iter it;
	struct sipcx_rtcp_pkt pkt;
	int n = 0, rc;
	sipcx_rtcp_iter_init(&it, data, len, flags);
	while ((rc = sipcx_rtcp_iter_next(&it, &pkt)) > 0)
		n++;
	return rc < 0 ? rc : n;
}

static void rb_read(const uint8_t *p, struct sipcx_rtcp_rb *rb)
{
	rb->ssrc = sipcx__rd32(p);
	rb->fraction = p[4];
	/* 24-bit two's complement: sign-extend through the top byte */
	uint32_t lost = (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	rb->lost = (lost & 0x800000) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
	rb->ext_seq = sipcx__rd32(p + 8);
	rb->jitter = sipcx__rd32(p + 12);
	rb->lsr = sipcx__rd32(p + 16);
	rb->dlsr = sipcx__rd32(p + 20);
}

int sipcx_rtcp_report_parse(const struct sipcx_rtcp_pkt *pkt, struct sipcx_rtcp_report *r)
{
	if (!pkt || !r || (pkt->pt != SIPCX_RTCP_SR && pkt->pt != SIPCX_RTCP_RR))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	const uint8_t *p = pkt->body;
	size_t len = pkt->body_len;
	r->is_sr = pkt->pt == SIPCX_RTCP_SR;
	size_t need = 4 + (r->is_sr ? SI_SIZE : 0) + (size_t)pkt->count * RB_SIZE;
	if (len < need)
		return -EBADMSG;
	r->ssrc = sipcx__rd32(p);
	size_t off = 4;
	if (r->is_sr) {
		r->si.ntp = sipcx__rd64(p + 4);
		r->si.rtp_ts = sipcx__rd32(p + 12);
		r->si.packets = sipcx__rd32(p + 16);
		r->si.octets = sipcx__rd32(p + 20);
		off += SI_SIZE;
	}
	r->rc = pkt->count;
	for (unsigned i = 0; i < r->rc; i++, off += RB_SIZE)
		rb_read(p + off, &r->rb[i]);
	if (off < len) {
		r->ext = p + off;
		r->ext_len = len - off;
	}
	return 0;
}

/* Walk one chunk's items from *off; with item non-NULL, stop at the first one. */
static int sdes_items(const uint8_t *p, size_t len, size_t *off, struct sipcx_rtcp_sdes_item *item)
{
	size_t o = *off;
	for (;;) {
		if (o >= len)
			return -EBADMSG; /* 6.5: the list MUST end with a null item */
		uint8_t type = p[o];
		if (type == SIPCX_SDES_END) {
			/* null octets up to the next 32-bit boundary (body is word aligned) */
			o = (o + 4) & ~(size_t)3;
			if (o > len)
				return -EBADMSG;
			*off = o;
			return 0;
		}
		if (len - o < 2 || len - o - 2 < p[o + 1])
			return -EBADMSG;
		if (item) {
			item->type = type;
			item->text.p = (const char *)p + o + 2;
			item->text.len = p[o + 1];
			*off = o + 2 + p[o + 1];
			return 1;
		}
		o += 2 + (size_t)p[o + 1];
	}
}

int sipcx_rtcp_sdes_parse(const struct sipcx_rtcp_pkt *pkt, struct sipcx_rtcp_sdes *sdes)
{
	if (!pkt || !sdes || pkt->pt != SIPCX_RTCP_SDES)
		return -EINVAL;
	memset(sdes, 0, sizeof(*sdes));
	const uint8_t *p = pkt->body;
	size_t len = pkt->body_len, off = 0;
	for (unsigned c = 0; c < pkt->count; c++) {
		if (len - off < 4)
			return -EBADMSG;
		off += 4;
		if (sdes_items(p, len, &off, NULL) < 0)
			return -EBADMSG;
	}
	if (off != len)
		return -EBADMSG;
	sdes->p = p;
	sdes->len = len;
	sdes->sc = pkt->count;
	return 0;
}

int sipcx_rtcp_sdes_next(struct sipcx_rtcp_sdes *sdes, struct sipcx_rtcp_sdes_item *item)
{
	for (;;) {
		if (!sdes->in_chunk) {
			if (sdes->chunk >= sdes->sc || sdes->len - sdes->off < 4)
				return 0;
			sdes->ssrc = sipcx__rd32(sdes->p + sdes->off);
			sdes->off += 4;
			sdes->chunk++;
			sdes->in_chunk = true;
		}
		int rc = sdes_items(sdes->p, sdes->len, &sdes->off, item);
		if (rc > 0) {
			item->ssrc = sdes->ssrc;
			return 1;
		}
		if (rc < 0) /* cannot happen after sipcx_rtcp_sdes_parse(); stop anyway */
			return 0;
		sdes->in_chunk = false;
	}
}

int sipcx_rtcp_bye_parse(const struct sipcx_rtcp_pkt *pkt, struct sipcx_rtcp_bye *bye)
{
	if (!pkt || !bye || pkt->pt != SIPCX_RTCP_BYE)
		return -EINVAL;
	memset(bye, 0, sizeof(*bye));
	const uint8_t *p = pkt->body;
	size_t len = pkt->body_len;
	if (len < 4u * pkt->count)
		return -EBADMSG;
	bye->sc = pkt->count;
	size_t off = 0;
	for (unsigned i = 0; i < bye->sc; i++, off += 4)
		bye->ssrc[i] = sipcx__rd32(p + off);
	if (off < len) {
		/* 6.6: optional length-prefixed reason, then null padding to 32 bits */
		uint8_t n = p[off];
		if (len - off - 1 < n)
			return -EBADMSG;
		bye->has_reason = true;
		bye->reason.p = (const char *)p + off + 1;
		bye->reason.len = n;
	}
	return 0;
}

int sipcx_rtcp_app_parse(const struct sipcx_rtcp_pkt *pkt, struct sipcx_rtcp_app *app)
{
	if (!pkt || !app || pkt->pt != SIPCX_RTCP_APP)
		return -EINVAL;
	memset(app, 0, sizeof(*app));
	if (pkt->body_len < 8)
		return -EBADMSG;
	app->subtype = pkt->count;
	app->ssrc = sipcx__rd32(pkt->body);
	memcpy(app->name, pkt->body + 4, 4);
	app->data = pkt->body + 8;
	app->len = pkt->body_len - 8;
	return 0;
}

/* --- text for logs --- */

struct out {
	char *buf;
	size_t size;
	size_t len; /* what the full text needs */
};

static void outf(struct out *o, const char *fmt, ...) SIPCX_PRINTF(2, 3);
static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *dst = o->len < o->size ? o->buf + o->len : NULL;
	size_t room = o->len < o->size ? o->size - o->len : 0;
	int n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void print_rb(struct out *o, const struct sipcx_rtcp_rb *rb)
{
	outf(o, " [ssrc=0x%08lx fraction=%u lost=%ld ext_seq=%lu jitter=%lu lsr=0x%08lx dlsr=%lu]",
	     (unsigned long)rb->ssrc, (unsigned)rb->fraction, (long)rb->lost,
	     (unsigned long)rb->ext_seq, (unsigned long)rb->jitter, (unsigned long)rb->lsr,
	     (unsigned long)rb->dlsr);
}

static void print_pkt(struct out *o, const struct sipcx_rtcp_pkt *pkt)
{
	struct sipcx_rtcp_report r;
	struct sipcx_rtcp_sdes sdes;
	struct sipcx_rtcp_sdes_item item;
	struct sipcx_rtcp_bye bye;
	struct sipcx_rtcp_app app;

	switch (pkt->pt) {
	case SIPCX_RTCP_SR:
	case SIPCX_RTCP_RR:
		if (sipcx_rtcp_report_parse(pkt, &r) < 0)
			break;
		outf(o, "%s ssrc=0x%08lx", r.is_sr ? "SR" : "RR", (unsigned long)r.ssrc);
		if (r.is_sr)
			outf(o, " ntp=0x%016llx rtp_ts=%lu packets=%lu octets=%lu",
			     (unsigned long long)r.si.ntp, (unsigned long)r.si.rtp_ts,
			     (unsigned long)r.si.packets, (unsigned long)r.si.octets);
		for (unsigned i = 0; i < r.rc; i++)
			print_rb(o, &r.rb[i]);
		return;
	case SIPCX_RTCP_SDES:
		if (sipcx_rtcp_sdes_parse(pkt, &sdes) < 0)
			break;
		outf(o, "SDES");
		while (sipcx_rtcp_sdes_next(&sdes, &item) > 0) {
			outf(o, " [ssrc=0x%08lx type=%u \"", (unsigned long)item.ssrc,
			     (unsigned)item.type);
			/* peer text into our logs: keep it printable */
			for (size_t i = 0; i < item.text.len; i++) {
				unsigned char c = (unsigned char)item.text.p[i];
				if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
					outf(o, "%c", c);
				else
					outf(o, "\\x%02x", c);
			}
			outf(o, "\"]");
		}
		return;
	case SIPCX_RTCP_BYE:
		if (sipcx_rtcp_bye_parse(pkt, &bye) < 0)
			break;
		outf(o, "BYE");
		for (unsigned i = 0; i < bye.sc; i++)
			outf(o, " ssrc=0x%08lx", (unsigned long)bye.ssrc[i]);
		if (bye.has_reason)
			outf(o, " reason_len=%zu", bye.reason.len);
		return;
	case SIPCX_RTCP_APP:
		if (sipcx_rtcp_app_parse(pkt, &app) < 0)
			break;
		outf(o, "APP subtype=%u ssrc=0x%08lx len=%zu", (unsigned)app.subtype,
		     (unsigned long)app.ssrc, app.len);
		return;
	default:
		outf(o, "PT%u count=%u len=%zu", (unsigned)pkt->pt, (unsigned)pkt->count, pkt->len);
		return;
	}
	outf(o, "PT%u malformed", (unsigned)pkt->pt);
}

int sipcx_rtcp_snprint(char *buf, size_t size, const void *data, size_t len)
{
	struct out o = { buf, size, 0 };
	if (buf && size)
		buf[0] = '\0';
	struct sipcx_rtcp_iter it;
	struct sipcx_rtcp_pkt pkt;
	int rc;
	outf(&o, "RTCP");
	sipcx_rtcp_iter_init(&it, data, len, 0);
	while ((rc = sipcx_rtcp_iter_next(&it, &pkt)) > 0) {
		outf(&o, " ");
		print_pkt(&o, &pkt);
		outf(&o, ";");
	}
	if (rc < 0)
		outf(&o, " malformed");
	return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}

/* --- writer --- */

void sipcx_rtcp_writer_init(struct sipcx_rtcp_writer *w, void *buf, size_t size)
{
	w->buf = buf;
	w->size = buf ? size : 0;
	w->len = 0;
	w->last = SIZE_MAX;
	w->err = 0;
}

/* Reserve a packet of n bytes (a multiple of 4) with its common header; NULL on error. */
static uint8_t *begin(struct sipcx_rtcp_writer *w, uint8_t pt, unsigned count, size_t n)
{
	if (w->err)
		return NULL;
	if (n / 4 - 1 > 0xffff) { /* the 16-bit length word */
		w->err = -EINVAL;
		return NULL;
	}
	if (n > w->size - w->len) {
		w->err = -ENOSPC;
		return NULL;
	}
	uint8_t *p = w->buf + w->len;
	memset(p, 0, n);
	p[0] = (uint8_t)(2u << 6 | count);
	p[1] = pt;
	sipcx__wr16(p + 2, (uint16_t)(n / 4 - 1));
	w->last = w->len;
	w->len += n;
	return p;
}

static int fail(struct sipcx_rtcp_writer *w, int err)
{
	if (!w->err)
		w->err = err;
	return err;
}

static void rb_write(uint8_t *p, const struct sipcx_rtcp_rb *rb)
{
	sipcx__wr32(p, rb->ssrc);
	int32_t lost = rb->lost;
	/* the field is signed 24 bits: clamp rather than wrap (6.4.1) */
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	if (lost < -0x800000)
		lost = -0x800000;
	uint32_t l = (uint32_t)lost & 0xffffff;
	p[4] = rb->fraction;
	p[5] = (uint8_t)(l >> 16);
	p[6] = (uint8_t)(l >> 8);
	p[7] = (uint8_t)l;
	sipcx__wr32(p + 8, rb->ext_seq);
	sipcx__wr32(p + 12, rb->jitter);
	sipcx__wr32(p + 16, rb->lsr);
	sipcx__wr32(p + 20, rb->dlsr);
}

int sipcx_rtcp_write_report(struct sipcx_rtcp_writer *w, uint32_t ssrc,
                            const struct sipcx_rtcp_sender_info *si, const struct sipcx_rtcp_rb *rb,
                            unsigned n)
{
	if (w->err)
		return w->err;
	if (n > SIPCX_RTCP_MAX_COUNT || (n && !rb))
		return fail(w, -EINVAL);
	size_t len = RTCP_HDR + 4 + (si ? SI_SIZE : 0) + (size_t)n * RB_SIZE;
	uint8_t *p = begin(w, si ? SIPCX_RTCP_SR : SIPCX_RTCP_RR, n, len);
	if (!p)
		return w->err;
	sipcx__wr32(p + 4, ssrc);
	size_t off = 8;
	if (si) {
		sipcx__wr64(p + 8, si->ntp);
		sipcx__wr32(p + 16, si->rtp_ts);
		sipcx__wr32(p + 20, si->packets);
		sipcx__wr32(p + 24, si->octets);
		off += SI_SIZE;
	}
	for (unsigned i = 0; i < n; i++, off += RB_SIZE)
		rb_write(p + off, &rb[i]);
	return 0;
}

int sipcx_rtcp_write_sdes(struct sipcx_rtcp_writer *w, uint32_t ssrc,
                          const struct sipcx_rtcp_sdes_item *items, unsigned n)
{
	if (w->err)
		return w->err;
	if (n && !items)
		return fail(w, -EINVAL);
	size_t chunk = 4;
	for (unsigned i = 0; i < n; i++) {
		if (items[i].type == SIPCX_SDES_END || items[i].text.len > 255 ||
		    (items[i].text.len && !items[i].text.p))
			return fail(w, -EINVAL);
		chunk += 2 + items[i].text.len;
	}
	/* 6.5: at least one null octet ends the items, more pad to 32 bits */
	chunk = (chunk + 4) & ~(size_t)3;
	uint8_t *p = begin(w, SIPCX_RTCP_SDES, 1, RTCP_HDR + chunk);
	if (!p)
		return w->err;
	sipcx__wr32(p + 4, ssrc);
	size_t off = 8;
	for (unsigned i = 0; i < n; i++) {
		p[off] = items[i].type;
		p[off + 1] = (uint8_t)items[i].text.len;
		if (items[i].text.len)
			memcpy(p + off + 2, items[i].text.p, items[i].text.len);
		off += 2 + items[i].text.len;
	}
	return 0;
}

int sipcx_rtcp_write_cname(struct sipcx_rtcp_writer *w, uint32_t ssrc, struct sipcx_str cname)
{
	struct sipcx_rtcp_sdes_item item = { ssrc, SIPCX_SDES_CNAME, cname };
	return sipcx_rtcp_write_sdes(w, ssrc, &item, 1);
}

int sipcx_rtcp_write_bye(struct sipcx_rtcp_writer *w, const uint32_t *ssrc, unsigned n,
                         struct sipcx_str reason)
{
	if (w->err)
		return w->err;
	if (n == 0 || n > SIPCX_RTCP_MAX_COUNT || !ssrc || reason.len > 255 ||
	    (reason.len && !reason.p))
		return fail(w, -EINVAL);
	size_t len = RTCP_HDR + 4 * (size_t)n;
	if (reason.len)
		len += (1 + reason.len + 3) & ~(size_t)3;
	uint8_t *p = begin(w, SIPCX_RTCP_BYE, n, len);
	if (!p)
		return w->err;
	size_t off = 4;
	for (unsigned i = 0; i < n; i++, off += 4)
		sipcx__wr32(p + off, ssrc[i]);
	if (reason.len) {
		p[off] = (uint8_t)reason.len;
		memcpy(p + off + 1, reason.p, reason.len);
	}
	return 0;
}

int sipcx_rtcp_write_app(struct sipcx_rtcp_writer *w, uint8_t subtype, uint32_t ssrc,
                         const char name[4], const void *data, size_t len)
{
	if (w->err)
		return w->err;
	if (subtype > 31 || !name || len % 4 || (len && !data) || len > 4 * 0xfffdu)
		return fail(w, -EINVAL);
	uint8_t *p = begin(w, SIPCX_RTCP_APP, subtype, RTCP_HDR + 8 + len);
	if (!p)
		return w->err;
	sipcx__wr32(p + 4, ssrc);
	memcpy(p + 8, name, 4);
	if (len)
		memcpy(p + 12, data, len);
	return 0;
}

int sipcx_rtcp_writer_finish(struct sipcx_rtcp_writer *w, unsigned align)
{
	if (w->err)
		return w->err;
	if (w->len == 0 || w->last == SIZE_MAX)
		return fail(w, -EINVAL);
	if (align > 4) {
		if (align & (align - 1) || align > 256)
			return fail(w, -EINVAL);
		size_t pad = (align - w->len % align) % align;
		if (pad) {
			if (pad > w->size - w->len)
				return fail(w, -ENOSPC);
			uint8_t *last = w->buf + w->last;
			if ((size_t)(w->buf + w->len + pad - last) / 4 - 1 > 0xffff)
				return fail(w, -EINVAL);
			memset(w->buf + w->len, 0, pad);
			w->len += pad;
			w->buf[w->len - 1] = (uint8_t)pad;
			last[0] |= 0x20;
			sipcx__wr16(last + 2, (uint16_t)((w->buf + w->len - last) / 4 - 1));
		}
	}
	if (w->len > INT32_MAX)
		return fail(w, -EINVAL);
	return (int)w->len;
}
