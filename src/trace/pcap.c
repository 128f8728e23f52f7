/* trace: traced packets as a classic pcap file (Ethernet, IPv4/IPv6, UDP/TCP), and a reader that gets SIP, RTP and RTCP back out of a capture. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sipcx/pcap.h>
#include <sipcx/rtp.h>
#include <sipcx/sockaddr.h>

#include "base/base.h"
#include "transport/transport.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_SNAPLEN 65535u
/* libpcap's own bound on a record; anything larger is a broken file. */
#define PCAP_MAX_CAPLEN 262144u

#define LINK_NULL 0
#define LINK_ETHERNET 1
#define LINK_RAW 101
#define LINK_LOOP 108
#define LINK_SLL 113
#define LINK_IPV4 228
#define LINK_IPV6 229
#define LINK_SLL2 276

#define ETH_LEN 14
#define IP4_LEN 20
#define IP6_LEN 40
#define UDP_LEN 8
#define TCP_LEN 20
#define HDR_MAX (ETH_LEN + IP6_LEN + TCP_LEN)

#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define NFLOWS 256

/* ------------------------------------------------------------ writer -- */

/* One TCP connection, both directions: a is the side that sent first. */
struct flow {
	union sipcx_sa a, b;
	uint32_t seq_a, seq_b; /* next sequence number each side sends */
	uint64_t used;         /* LRU stamp; 0: free slot */
};

struct sipcx_pcap {
	FILE *f;
	int err; /* sticky: the first write, flush or close error */
	pthread_mutex_t lock;
	uint16_t ip_id;
	uint64_t tick;
	struct flow flows[NFLOWS];
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The pcap file and record headers are in the writer's byte order (the magic says which). */
static void put32h(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put16h(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* RFC 1071: ones' complement sum of 16-bit words, carried on from sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static const uint8_t *ip_bytes(const struct sockaddr *sa, size_t *n)
{
	if (sa->sa_family == AF_INET) {
		*n = 4;
		return (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	}
	*n = 16;
	return (const uint8_t *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
}

/* 02:00 + the address's last four bytes: locally administered, one per host. */
static void put_mac(uint8_t *p, const struct sockaddr *sa)
{
	size_t n;
	const uint8_t *ip = ip_bytes(sa, &n);
	p[0] = 0x02;
	p[1] = 0x00;
	memcpy(p + 2, ip + n - 4, 4);
}

static int open_fail(FILE *f)
{
	int err = errno ? -errno : -EIO;
	fclose(f);
	return err;
}

int sipcx_pcap_open(const char *path, struct sipcx_pcap **out)
{
	if (!path || !out)
		return -EINVAL;
	struct sipcx_pcap *p = sipcx_calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	errno = 0;
	p->f = fopen(path, "wb");
	if (!p->f) {
		int err = errno ? -errno : -EIO;
		sipcx_free(p);
		return err;
	}
	uint8_t h[24];
	put32h(h, PCAP_MAGIC_US);
	put16h(h + 4, 2);
	put16h(h + 6, 4);
	put32h(h + 8, 0);  /* thiszone */
	put32h(h + 12, 0); /* sigfigs */
	put32h(h + 16, PCAP_SNAPLEN);
	put32h(h + 20, LINK_ETHERNET);
	errno = 0;
	if (fwrite(h, 1, sizeof(h), p->f) != sizeof(h)) {
		int err = open_fail(p->f);
		sipcx_free(p);
		return err;
	}
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return 0;
}

/* The flow of src -> dst, created (LRU-replacing) when new; *fresh tells which. */
static struct flow *flow_get(struct sipcx_pcap *p, const struct sockaddr *src,
                             const struct sockaddr *dst, bool *a_sends, bool *fresh)
{
	struct flow *victim = &p->flows[0];
	p->tick++;
	for (size_t i = 0; i < NFLOWS; i++) {
		struct flow *fl = &p->flows[i];
		if (fl->used && sipcx_sa_equal(&fl->a.sa, src) && sipcx_sa_equal(&fl->b.sa, dst)) {
			*a_sends = true;
		} else if (fl->used && sipcx_sa_equal(&fl->b.sa, src) &&
		           sipcx_sa_equal(&fl->a.sa, dst)) {
			*a_sends = false;
		} else {
			if (fl->used < victim->used)
				victim = fl;
			continue;
		}
		fl->used = p->tick;
		*fresh = false;
		return fl;
	}
	memset(victim, 0, sizeof(*victim));
	memcpy(&victim->a, src, sipcx_sa_len(src));
	memcpy(&victim->b, dst, sipcx_sa_len(dst));
	/* Initial sequence numbers from the slot and time: distinct, reproducible enough. */
	victim->seq_a = (uint32_t)(p->tick * 0x9e3779b9u) & 0x7fffffffu;
	victim->seq_b = (uint32_t)(p->tick * 0x85ebca6bu) & 0x7fffffffu;
	victim->used = p->tick;
	*a_sends = true;
	*fresh = true;
	return victim;
}

struct seg {
	uint32_t seq, ack;
	uint8_t flags;
};

/* Write one frame: headers, then payload (up to the snaplen). Locked by the caller. */
static void put_frame(struct sipcx_pcap *p, const struct sipcx_trace_event *ev, bool tcp,
                      const struct seg *sg, const void *data, size_t len)
{
	uint8_t h[16 + HDR_MAX];
	uint8_t *eth = h + 16;
	bool v6 = ev->src->sa_family == AF_INET6;
	size_t ipl = v6 ? IP6_LEN : IP4_LEN;
	size_t l4l = tcp ? TCP_LEN : UDP_LEN;
	size_t hdr = ETH_LEN + ipl + l4l;
	size_t room = PCAP_SNAPLEN - hdr;
	size_t cap = len < room ? len : room;
	/* Lengths that do not fit the 16-bit fields are clamped (the frame is truncated anyway). */
	size_t l4total = l4l + len;
	uint16_t l4len16 = l4total > 0xffff ? 0xffff : (uint16_t)l4total;
	size_t iptotal = (v6 ? 0 : ipl) + l4total;
	uint16_t iplen16 = iptotal > 0xffff ? 0xffff : (uint16_t)iptotal;

	put_mac(eth, ev->dst);
	put_mac(eth + 6, ev->src);
	put16(eth + 12, v6 ? 0x86dd : 0x0800);

	uint8_t *ip = eth + ETH_LEN;
	size_t alen;
	const uint8_t *sa = ip_bytes(ev->src, &alen);
	const uint8_t *da = ip_bytes(ev->dst, &alen);
	uint8_t proto = tcp ? 6 : 17;
	memset(ip, 0, ipl);
	if (v6) {
		ip[0] = 0x60;
		put16(ip + 4, iplen16);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, sa, 16);
		memcpy(ip + 24, da, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, iplen16);
		put16(ip + 4, p->ip_id++);
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, sa, 4);
		memcpy(ip + 16, da, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, IP4_LEN)));
	}

	uint8_t *l4 = ip + ipl;
	memset(l4, 0, l4l);
	put16(l4, sipcx_sa_port(ev->src));
	put16(l4 + 2, sipcx_sa_port(ev->dst));
	if (tcp) {
		put32(l4 + 4, sg->seq);
		put32(l4 + 8, sg->ack);
		l4[12] = (TCP_LEN / 4) << 4;
		l4[13] = sg->flags;
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, l4len16);
	}
	/* RFC 768 / 793 / 8200 8.1 pseudo-header, then header and the whole payload. */
	uint8_t pseudo[4] = { 0, proto, 0, 0 };
	uint32_t sum = csum_add(0, sa, alen);
	sum = csum_add(sum, da, alen);
	put16(pseudo + 2, l4len16);
	sum = csum_add(sum, pseudo, 4);
	sum = csum_add(sum, l4, l4l);
	sum = csum_add(sum, data, len);
	uint16_t c = csum_fold(sum);
	if (!tcp && c == 0)
		c = 0xffff; /* RFC 768: 0 means no checksum */
	put16(l4 + (tcp ? 16 : 6), c);

	put32h(h, (uint32_t)(ev->time_us / 1000000u));
	put32h(h + 4, (uint32_t)(ev->time_us % 1000000u));
	put32h(h + 8, (uint32_t)(hdr + cap));
	put32h(h + 12, (uint32_t)(hdr + len > 0xffffffffu ? 0xffffffffu : hdr + len));

	if (p->err)
		return;
	errno = 0;
	if (fwrite(h, 1, 16 + hdr, p->f) != 16 + hdr || (cap && fwrite(data, 1, cap, p->f) != cap))
		p->err = errno ? -errno : -EIO;
}

int sipcx_pcap_write(struct sipcx_pcap *p, const struct sipcx_trace_event *ev)
{
	if (!p || !ev || !ev->src || !ev->dst || (!ev->data && ev->len))
		return -EINVAL;
	int fam = ev->src->sa_family;
	if ((fam != AF_INET && fam != AF_INET6) || ev->dst->sa_family != fam)
		return -EINVAL;
	bool tcp = sipcx__tp_name_is_stream(ev->transport); /* TLS: as the TCP stream it rides on */
	const char *data = ev->data ? ev->data : "";

	pthread_mutex_lock(&p->lock);
	if (!tcp) {
		put_frame(p, ev, false, NULL, data, ev->len);
	} else {
		bool a_sends, fresh;
		struct flow *fl = flow_get(p, ev->src, ev->dst, &a_sends, &fresh);
		uint32_t *mine = a_sends ? &fl->seq_a : &fl->seq_b;
		uint32_t *theirs = a_sends ? &fl->seq_b : &fl->seq_a;
		if (fresh) {
			/* A synthetic handshake, so the stream starts clean in Wireshark. */
			struct sipcx_trace_event back = *ev;
			back.src = ev->dst;
			back.dst = ev->src;
			struct seg syn = { *mine, 0, TCP_SYN };
			struct seg synack = { *theirs, *mine + 1, TCP_SYN | TCP_ACK };
			put_frame(p, ev, true, &syn, "", 0);
			put_frame(p, &back, true, &synack, "", 0);
			(*mine)++;
			(*theirs)++;
			struct seg ack = { *mine, *theirs, TCP_ACK };
			put_frame(p, ev, true, &ack, "", 0);
		}
		struct seg s = { *mine, *theirs, TCP_PSH | TCP_ACK };
		put_frame(p, ev, true, &s, data, ev->len);
		*mine += (uint32_t)ev->len;
	}
	int err = p->err;
	pthread_mutex_unlock(&p->lock);
	return err;
}

void sipcx_pcap_trace(const struct sipcx_trace_event *ev, void *arg)
{
	sipcx_pcap_write(arg, ev);
}

int sipcx_pcap_close(struct sipcx_pcap *p)
{
	if (!p)
		return 0;
	int err = p->err;
	errno = 0;
	if (fflush(p->f) != 0 && !err)
		err = errno ? -errno : -EIO;
	errno = 0;
	if (fclose(p->f) != 0 && !err)
		err = errno ? -errno : -EIO;
	pthread_mutex_destroy(&p->lock);
	sipcx_free(p);
	return err;
}

/* ------------------------------------------------------------ reader -- */

struct rd {
	sipcx_trace_cb *cb;
	void *arg;
	int count;
	uint64_t time_us;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t get32le(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static bool tchar(unsigned char c)
{
	/* RFC 3261 25.1 token */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-.!%*_+`'~", c));
}

static bool prefix_ci(const uint8_t *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	if (n < l)
		return false;
	for (size_t i = 0; i < l; i++) {
		unsigned char c = p[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)lit[i])
			return false;
	}
	return true;
}

/* RFC 3261 7.1/7.2: "SIP/2.0 " or "METHOD sip:|sips:|tel:... SIP/2.0" as the first line. */
static bool looks_sip(const uint8_t *p, size_t n)
{
	if (n >= 8 && memcmp(p, "SIP/2.0 ", 8) == 0)
		return true;
	size_t i = 0;
	while (i < n && i < 32 && tchar(p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ' ')
		return false;
	i++;
	if (!prefix_ci(p + i, n - i, "sip:") && !prefix_ci(p + i, n - i, "sips:") &&
	    !prefix_ci(p + i, n - i, "tel:"))
		return false;
	size_t lim = n < 4096 ? n : 4096;
	size_t e = i;
	while (e < lim && p[e] != '\r' && p[e] != '\n')
		e++;
	return e - i >= 8 && memcmp(p + e - 8, " SIP/2.0", 8) == 0;
}

static void deliver(struct rd *r, enum sipcx_trace_kind kind, const char *transport,
                    const union sipcx_sa *src, const union sipcx_sa *dst, const uint8_t *data,
                    size_t len)
{
	struct sipcx_trace_event ev = {
		.dir = SIPCX_TRACE_RECV,
		.transport = transport,
		.src = &src->sa,
		.dst = &dst->sa,
		.time_us = r->time_us,
		.data = (const char *)data,
		.len = len,
		.kind = kind,
	};
	r->count++;
	r->cb(&ev, r->arg);
}

/* Content-Length of the header block p[0..n) (0 when absent); -1 when unreadable. */
static long content_length(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t e = i;
		while (e < n && p[e] != '\n')
			e++;
		const uint8_t *l = p + i;
		size_t ll = e - i;
		size_t name = 0;
		if (prefix_ci(l, ll, "content-length"))
			name = 14;
		else if (prefix_ci(l, ll, "l") && ll > 1 &&
		         (l[1] == ':' || l[1] == ' ' || l[1] == '\t'))
			name = 1;
		if (name) {
			size_t k = name;
			while (k < ll && (l[k] == ' ' || l[k] == '\t'))
				k++;
			if (k < ll && l[k] == ':') {
				k++;
				while (k < ll && (l[k] == ' ' || l[k] == '\t'))
					k++;
				long v = 0;
				size_t d = k;
				while (k < ll && l[k] >= '0' && l[k] <= '9' && v < 100000000)
					v = v * 10 + (l[k++] - '0');
				return k == d ? -1 : v;
			}
		}
		i = e + 1;
	}
	return 0;
}

/* A TCP segment: the complete SIP messages it holds, in order; a partial tail is dropped. */
static void tcp_payload(struct rd *r, const union sipcx_sa *src, const union sipcx_sa *dst,
                        const uint8_t *p, size_t n)
{
	while (n) {
		/* RFC 5626 3.5.1 keep-alives between messages */
		while (n && (*p == '\r' || *p == '\n')) {
			p++;
			n--;
		}
		if (!n || !looks_sip(p, n))
			return;
		const uint8_t *end = memmem(p, n, "\r\n\r\n", 4);
		if (!end)
			return;
		size_t head = (size_t)(end - p) + 4;
		long body = content_length(p, head);
		if (body < 0 || (size_t)body > n - head)
			return;
		size_t total = head + (size_t)body;
		deliver(r, SIPCX_TRACE_SIP, "TCP", src, dst, p, total);
		p += total;
		n -= total;
	}
}

static void udp_payload(struct rd *r, const union sipcx_sa *src, const union sipcx_sa *dst,
                        const uint8_t *p, size_t n)
{
	struct sipcx_rtp_pkt pkt;
	if (looks_sip(p, n))
		deliver(r, SIPCX_TRACE_SIP, "UDP", src, dst, p, n);
	else if (sipcx_rtp_is_rtcp(p, n) && sipcx_rtcp_validate(p, n, 0) > 0)
		deliver(r, SIPCX_TRACE_RTCP, "UDP", src, dst, p, n);
	else if (n && sipcx_rtp_parse(&pkt, p, n) == 0) /* version 2 checked there */
		deliver(r, SIPCX_TRACE_RTP, "UDP", src, dst, p, n);
}

/* The transport header and its payload, p[0..n) being the IP payload. */
static void transport_layer(struct rd *r, uint8_t proto, union sipcx_sa *src, union sipcx_sa *dst,
                            const uint8_t *p, size_t n)
{
	if (proto == 17) {
		if (n < UDP_LEN)
			return;
		size_t ul = get16(p + 4);
		if (ul < UDP_LEN || ul > n)
			return;
		sipcx_sa_set_port(src, get16(p));
		sipcx_sa_set_port(dst, get16(p + 2));
		udp_payload(r, src, dst, p + UDP_LEN, ul - UDP_LEN);
	} else if (proto == 6) {
		if (n < TCP_LEN)
			return;
		size_t off = (size_t)(p[12] >> 4) * 4;
		if (off < TCP_LEN || off > n)
			return;
		sipcx_sa_set_port(src, get16(p));
		sipcx_sa_set_port(dst, get16(p + 2));
		tcp_payload(r, src, dst, p + off, n - off);
	}
}

static void ip4(struct rd *r, const uint8_t *p, size_t n)
{
	if (n < IP4_LEN || p[0] >> 4 != 4)
		return;
	size_t ihl = (size_t)(p[0] & 0x0f) * 4;
	size_t total = get16(p + 2);
	if (ihl < IP4_LEN || total < ihl || total > n)
		return;
	if (get16(p + 6) & 0x3fff) /* MF or a fragment offset */
		return;
	union sipcx_sa src, dst;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.in.sin_family = dst.in.sin_family = AF_INET;
	memcpy(&src.in.sin_addr, p + 12, 4);
	memcpy(&dst.in.sin_addr, p + 16, 4);
	transport_layer(r, p[9], &src, &dst, p + ihl, total - ihl);
}

static void ip6(struct rd *r, const uint8_t *p, size_t n)
{
	if (n < IP6_LEN || p[0] >> 4 != 6)
		return;
	size_t plen = get16(p + 4);
	if (plen == 0 || plen > n - IP6_LEN) /* 0: a jumbogram */
		return;
	union sipcx_sa src, dst;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.in6.sin6_family = dst.in6.sin6_family = AF_INET6;
	memcpy(&src.in6.sin6_addr, p + 8, 16);
	memcpy(&dst.in6.sin6_addr, p + 24, 16);
	uint8_t nh = p[6];
	const uint8_t *q = p + IP6_LEN;
	size_t left = plen;
	/* RFC 8200 4: hop-by-hop, routing and destination options are skipped by length. */
	for (int hops = 0; nh == 0 || nh == 43 || nh == 60; hops++) {
		if (hops >= 8 || left < 8)
			return;
		size_t el = ((size_t)q[1] + 1) * 8;
		if (el > left)
			return;
		nh = q[0];
		q += el;
		left -= el;
	}
	transport_layer(r, nh, &src, &dst, q, left);
}

static void by_ethertype(struct rd *r, uint16_t type, const uint8_t *p, size_t n)
{
	if (type == 0x0800)
		ip4(r, p, n);
	else if (type == 0x86dd)
		ip6(r, p, n);
}

static void by_version(struct rd *r, const uint8_t *p, size_t n)
{
	if (n && p[0] >> 4 == 4)
		ip4(r, p, n);
	else if (n && p[0] >> 4 == 6)
		ip6(r, p, n);
}

static void frame(struct rd *r, uint32_t link, const uint8_t *p, size_t n)
{
	switch (link) {
	case LINK_ETHERNET:
		if (n < ETH_LEN)
			return;
		if (get16(p + 12) == 0x8100) {
			if (n < ETH_LEN + 4)
				return;
			by_ethertype(r, get16(p + 16), p + 18, n - 18);
		} else {
			by_ethertype(r, get16(p + 12), p + ETH_LEN, n - ETH_LEN);
		}
		break;
	case LINK_SLL:
		if (n >= 16)
			by_ethertype(r, get16(p + 14), p + 16, n - 16);
		break;
	case LINK_SLL2:
		if (n >= 20)
			by_ethertype(r, get16(p), p + 20, n - 20);
		break;
	case LINK_RAW:
		by_version(r, p, n);
		break;
	case LINK_IPV4:
		if (n && p[0] >> 4 == 4)
			ip4(r, p, n);
		break;
	case LINK_IPV6:
		if (n && p[0] >> 4 == 6)
			ip6(r, p, n);
		break;
	case LINK_NULL:
	case LINK_LOOP:
		/* The family word is in the capturing host's order (null) or network order
		 * (loop); the IP version nibble says what follows either way. */
		if (n >= 4)
			by_version(r, p + 4, n - 4);
		break;
	default:
		break;
	}
}

int sipcx_pcap_parse(const void *data, size_t len, sipcx_trace_cb *cb, void *arg)
{
	const uint8_t *d = data;
	if (!data || !cb || len < 24)
		return -EINVAL;
	uint32_t (*rd32)(const uint8_t *) = NULL;
	bool ns = false;
	uint32_t mbe = get32(d), mle = get32le(d);
	if (mbe == PCAP_MAGIC_US || mbe == PCAP_MAGIC_NS) {
		rd32 = get32;
		ns = mbe == PCAP_MAGIC_NS;
	} else if (mle == PCAP_MAGIC_US || mle == PCAP_MAGIC_NS) {
		rd32 = get32le;
		ns = mle == PCAP_MAGIC_NS;
	} else {
		return -EINVAL;
	}
	/* The upper bits may hold FCS information (pcap spec, LinkType and additional information). */
	uint32_t link = rd32(d + 20) & 0x0fffffffu;
	struct rd r = { .cb = cb, .arg = arg };
	size_t off = 24;
	while (len - off >= 16) {
		const uint8_t *rec = d + off;
		uint32_t sec = rd32(rec), frac = rd32(rec + 4), caplen = rd32(rec + 8);
		if (caplen > PCAP_MAX_CAPLEN)
			return -EINVAL;
		if (caplen > len - off - 16)
			break; /* a truncated last record */
		r.time_us = (uint64_t)sec * 1000000u + (ns ? frac / 1000u : frac);
		frame(&r, link, rec + 16, caplen);
		off += 16 + (size_t)caplen;
	}
	return r.count;
}

#define READ_MAX (1024L * 1024 * 1024)

int sipcx_pcap_read(const char *path, sipcx_trace_cb *cb, void *arg)
{
	if (!path || !cb)
		return -EINVAL;
	errno = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno ? -errno : -EIO;
	struct stat st;
	if (fstat(fileno(f), &st) != 0) {
		int err = -errno;
		fclose(f);
		return err;
	}
	if (S_ISREG(st.st_mode) && st.st_size > READ_MAX) {
		fclose(f);
		return -EFBIG;
	}
	/* Read to the end whatever the size said (it may be a pipe or still growing). */
	size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
	size_t len = 0;
	char *buf = sipcx_malloc(cap);
	int err = 0;
	while (buf) {
		if (len == cap) {
			if (cap > (size_t)READ_MAX) {
				err = -EFBIG;
				break;
			}
			char *nb = sipcx_realloc(buf, cap * 2);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f))
				err = errno ? -errno : -EIO;
			break;
		}
	}
	if (!buf)
		err = -ENOMEM;
	if (!err && len > (size_t)READ_MAX)
		err = -EFBIG;
	fclose(f);
	int rc = err ? err : sipcx_pcap_parse(buf, len, cb, arg);
	sipcx_free(buf);
	return rc;
}
