/* ua: RFC 3263 4.1/4.2 ordering rules, pure: SRV by priority and weight (RFC 2782), NAPTR filtering. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ua/dns.h"

static void srv_swap(struct sipcx__srv *a, struct sipcx__srv *b)
{
	struct sipcx__srv t = *a;
	*a = *b;
	*b = t;
}

void sipcx__dns_srv_order(struct sipcx__srv *v, size_t n, sipcx__dns_rand_fn *rnd, void *rarg)
{
	/* Insertion sort by priority, weight 0 first within a priority (RFC 2782 "Usage rules"). */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			struct sipcx__srv *a = &v[j - 1], *b = &v[j];
			if (a->priority < b->priority ||
			    (a->priority == b->priority && (a->weight == 0 || b->weight != 0)))
				break;
			srv_swap(a, b);
		}
	/* Within each priority: pick by running sums of the weights, then the rest again. */
	for (size_t start = 0; start < n;) {
		size_t end = start;
		while (end < n && v[end].priority == v[start].priority)
			end++;
		for (size_t i = start; i + 1 < end; i++) {
			uint64_t total = 0;
			for (size_t j = i; j < end; j++)
				total += v[j].weight;
			/* A number in [0, total]: the first record whose running sum reaches it. */
			uint64_t pick = total ? (uint64_t)rnd(rarg) % (total + 1) : 0;
			uint64_t sum = 0;
			size_t chosen = i;
			for (size_t j = i; j < end; j++) {
				sum += v[j].weight;
				if (sum >= pick) {
					chosen = j;
					break;
				}
			}
			/* Keep the rest in order (weight 0 first) for the next round. */
			struct sipcx__srv c = v[chosen];
			memmove(&v[i + 1], &v[i], (chosen - i) * sizeof(*v));
			v[i] = c;
		}
		start = end;
	}
}

static enum sipcx_tp_proto naptr_proto(const char *service)
{
	if (!strcasecmp(service, "SIP+D2U"))
		return SIPCX_TP_UDP;
	if (!strcasecmp(service, "SIP+D2T"))
		return SIPCX_TP_TCP;
	if (!strcasecmp(service, "SIPS+D2T"))
		return SIPCX_TP_TLS;
	return SIPCX_TP_NONE;
}

static int naptr_cmp(const void *pa, const void *pb)
{
	const struct sipcx__naptr *a = pa, *b = pb;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	if (a->preference != b->preference)
		return a->preference < b->preference ? -1 : 1;
	return 0;
}

size_t sipcx__dns_naptr_pick(struct sipcx__naptr *v, size_t n, unsigned protos, bool sips)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		enum sipcx_tp_proto p = naptr_proto(v[i].service);
		/* RFC 3263 4.1: flag "s" (an SRV lookup next) and a replacement, no regexp use. */
		if (p == SIPCX_TP_NONE || !(protos & (1u << p)) || strcasecmp(v[i].flags, "s") ||
		    !v[i].replacement[0] || (sips && p != SIPCX_TP_TLS))
			continue;
		v[i].proto = p;
		if (k != i)
			v[k] = v[i];
		k++;
	}
	/* Stable enough: equal order and preference are equal choices (RFC 3403 4.1). */
	qsort(v, k, sizeof(*v), naptr_cmp);
	return k;
}

const char *sipcx__dns_srv_prefix(enum sipcx_tp_proto p)
{
	switch (p) {
	case SIPCX_TP_UDP:
		return "_sip._udp";
	case SIPCX_TP_TCP:
		return "_sip._tcp";
	case SIPCX_TP_TLS:
		return "_sips._tcp";
	default:
		return NULL;
	}
}

/* Past the (possibly compressed) name at off (RFC 1035 4.1.4); 0 when malformed. */
static size_t skip_name(const unsigned char *m, size_t len, size_t off)
{
	for (unsigned labels = 0; off < len && labels < 128; labels++) {
		unsigned c = m[off];
		if (c == 0)
			return off + 1;
		if ((c & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		off += 1 + c;
	}
	return 0;
}

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

uint32_t sipcx__dns_min_ttl(const unsigned char *m, size_t len)
{
	if (len < 12)
		return 0;
	unsigned qd = get16(m + 4), an = get16(m + 6);
	size_t off = 12;
	for (unsigned i = 0; i < qd; i++) {
		off = skip_name(m, len, off);
		if (!off || off + 4 > len)
			return 0;
		off += 4;
	}
	uint32_t min = 0;
	for (unsigned i = 0; i < an; i++) {
		off = skip_name(m, len, off);
		if (!off || off + 10 > len)
			return 0;
		uint32_t ttl = (uint32_t)m[off + 4] << 24 | (uint32_t)m[off + 5] << 16 |
		               (uint32_t)m[off + 6] << 8 | m[off + 7];
		if (i == 0 || ttl < min)
			min = ttl;
		off += 10 + get16(m + off + 8);
		if (off > len)
			return 0;
	}
	return min;
}

int sipcx__dns_uri_proto(const struct sipcx_uri *u, enum sipcx_tp_proto force,
                         enum sipcx_tp_proto *out)
{
	enum sipcx_tp_proto proto = SIPCX_TP_NONE;
	struct sipcx_str tparam;
	if (sipcx_uri_param(u, "transport", &tparam)) {
		proto = sipcx_tp_lookup(tparam);
		if (proto == SIPCX_TP_NONE)
			return -EPROTONOSUPPORT;
	}
	if (force != SIPCX_TP_NONE)
		proto = force;
	/* RFC 3261 26.2.2: sips is TLS on every hop (";transport=tcp" there is the old spelling). */
	if (u->scheme == SIPCX_URI_SIPS) {
		if (proto == SIPCX_TP_UDP && force != SIPCX_TP_NONE)
			return -EPROTONOSUPPORT;
		/* RFC 7118 6: sips over WebSocket is WSS. */
		proto = proto == SIPCX_TP_WS || proto == SIPCX_TP_WSS ? SIPCX_TP_WSS : SIPCX_TP_TLS;
	}
	*out = proto;
	return 0;
}
