/* media/reflect.c: one socket pair that returns every RTP and RTCP datagram to its sender, for the echo calls of a UA that have no socket of their own. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include <uv.h>

#include <sipcx/rtp.h>

#include "base/base.h"
#include "media/media.h"

/*
 * What SIPp's -rtp_echo does, at the cost of one read and one write per batch
 * of datagrams rather than a poll, a read and a write per datagram of each
 * call's socket: recvmmsg() up to RF_BATCH datagrams, whichever calls they
 * belong to, and sendmmsg() them back, each to its own source. Only sources
 * whose address a live call named (its SDP's c= or its signalling peer) are
 * answered: the pair never reflects traffic for a stranger.
 */
#define RF_BATCH 16
#define RF_PKT 2048 /* larger datagrams are counted and dropped: no RTP of a call is this big */

struct rf_ip {
	uint8_t key[17]; /* the family, then the address (4 or 16 bytes, zero-padded) */
	uint32_t refs;
};

struct sipcx__reflect {
	uv_poll_t h[2];
	int fd[2];
	int open; /* handles not closed yet */
	bool closing;
	struct rf_ip *ips; /* sorted by key */
	size_t nips, cap;
	struct sipcx__reflect_stats st;
	uint8_t buf[RF_BATCH][RF_PKT];
	union sipcx__maddr from[RF_BATCH];
	struct iovec iov[RF_BATCH], out_iov[RF_BATCH];
	struct mmsghdr msg[RF_BATCH], out[RF_BATCH];
};

static int key_of(const struct sockaddr *sa, uint8_t key[17])
{
	memset(key, 0, 17);
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, (const uint8_t *)sa + offsetof(struct sockaddr_in, sin_addr), 4);
	} else if (sa->sa_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, (const uint8_t *)sa + offsetof(struct sockaddr_in6, sin6_addr), 16);
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

/* The index of key, or where it would go (*found false). */
static size_t find(const struct sipcx__reflect *r, const uint8_t key[17], bool *found)
{
	size_t lo = 0, hi = r->nips;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(r->ips[mid].key, key, 17);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

int sipcx__reflect_allow(struct sipcx__reflect *r, const struct sockaddr *sa)
{
	uint8_t key[17];
	bool found;
	if (!r || !sa || key_of(sa, key) < 0)
		return -EINVAL;
	size_t i = find(r, key, &found);
	if (found) {
		r->ips[i].refs++;
		return 0;
	}
	if (r->nips == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		struct rf_ip *ips = sipcx_realloc(r->ips, cap * sizeof(*ips));
		if (!ips)
			return -ENOMEM;
		r->ips = ips;
		r->cap = cap;
	}
	memmove(&r->ips[i + 1], &r->ips[i], (r->nips - i) * sizeof(r->ips[0]));
	memcpy(r->ips[i].key, key, 17);
	r->ips[i].refs = 1;
	r->nips++;
	return 0;
}

void sipcx__reflect_forget(struct sipcx__reflect *r, const struct sockaddr *sa)
{
	uint8_t key[17];
	bool found;
	if (!r || !sa || key_of(sa, key) < 0)
		return;
	size_t i = find(r, key, &found);
	if (!found || --r->ips[i].refs)
		return;
	memmove(&r->ips[i], &r->ips[i + 1], (r->nips - i - 1) * sizeof(r->ips[0]));
	r->nips--;
}

static bool allowed(const struct sipcx__reflect *r, const struct sockaddr *sa)
{
	uint8_t key[17];
	bool found;
	if (key_of(sa, key) < 0)
		return false;
	(void)find(r, key, &found);
	return found;
}

/* RTP or RTCP (RFC 3550 version 2, RFC 5761 4): what a call sends; anything else is dropped. */
static bool media_like(const uint8_t *p, size_t len)
{
	return len >= 8 && (p[0] >> 6) == SIPCX_RTP_VERSION; /* 8: an RTCP header, the shorter */
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)events;
	struct sipcx__reflect *r = p->data;
	int fd = r->fd[p == &r->h[1]];
	if (r->closing)
		return;
	if (status <
	    0) { /* the socket failed: stop watching it rather than be woken for it again */
		SIPCX_WARN("media: shared echo socket: %s; no more echo on it",
		           uv_strerror(status));
		uv_poll_stop(p);
		return;
	}
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < RF_BATCH; i++)
			r->msg[i].msg_hdr.msg_namelen = sizeof(r->from[i]);
		int n = recvmmsg(fd, r->msg, RF_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		unsigned k = 0;
		for (int i = 0; i < n; i++) {
			size_t len = r->msg[i].msg_len;
			r->st.rx++;
			if ((r->msg[i].msg_hdr.msg_flags & MSG_TRUNC) ||
			    !media_like(r->buf[i], len) || !allowed(r, &r->from[i].sa)) {
				r->st.dropped++;
				continue;
			}
			r->out_iov[k] = (struct iovec){ r->buf[i], len };
			r->out[k].msg_hdr =
			    (struct msghdr){ .msg_name = &r->from[i],
				             .msg_namelen = r->msg[i].msg_hdr.msg_namelen,
				             .msg_iov = &r->out_iov[k],
				             .msg_iovlen = 1 };
			k++;
		}
		for (unsigned sent = 0; sent < k;) {
			int m = sendmmsg(fd, r->out + sent, k - sent, MSG_DONTWAIT);
			if (m <= 0) { /* a full buffer or an unreachable peer: this one is lost */
				r->st.dropped++;
				sent++;
				continue;
			}
			r->st.tx += (unsigned)m;
			sent += (unsigned)m;
		}
		if (n < RF_BATCH)
			return; /* drained */
	}
}

/*
 * The pair takes every call's packets: a kernel default buffer (about 200 KiB, a few hundred
 * datagrams) overflows in the first stall of the loop under thousands of calls. 8 MiB each
 * way, through rmem_max/wmem_max when we may pass them (CAP_NET_ADMIN), else as far as they
 * allow.
 */
static void big_buffers(int fd)
{
	static const int opt[2][2] = { { SO_RCVBUFFORCE, SO_RCVBUF },
		                       { SO_SNDBUFFORCE, SO_SNDBUF } };
	int v = 8 << 20;
	for (int i = 0; i < 2; i++)
		if (setsockopt(fd, SOL_SOCKET, opt[i][0], &v, sizeof(v)) != 0)
			(void)setsockopt(fd, SOL_SOCKET, opt[i][1], &v, sizeof(v));
}

int sipcx__reflect_new(struct sipcx__reflect **out, uv_loop_t *loop, int fd_rtp, int fd_rtcp)
{
	struct sipcx__reflect *r = sipcx_calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd[0] = fd_rtp;
	r->fd[1] = fd_rtcp;
	for (int i = 0; i < RF_BATCH; i++) {
		r->iov[i] = (struct iovec){ r->buf[i], sizeof(r->buf[i]) };
		r->msg[i].msg_hdr = (struct msghdr){ .msg_name = &r->from[i],
			                             .msg_iov = &r->iov[i],
			                             .msg_iovlen = 1 };
	}
	for (int i = 0; i < 2; i++) {
		if (r->fd[i] < 0)
			continue;
		big_buffers(r->fd[i]);
		int err = uv_poll_init(loop, &r->h[i], r->fd[i]);
		if (!err) {
			r->open++;
			r->h[i].data = r;
			err = uv_poll_start(&r->h[i], UV_READABLE, on_poll);
		}
		if (err) {
			sipcx__reflect_free(r);
			return err;
		}
	}
	*out = r;
	return 0;
}

static void on_close(uv_handle_t *h)
{
	struct sipcx__reflect *r = h->data;
	if (--r->open == 0) {
		sipcx_free(r->ips);
		sipcx_free(r);
	}
}

void sipcx__reflect_free(struct sipcx__reflect *r)
{
	if (!r || r->closing)
		return;
	r->closing = true;
	if (r->open == 0) {
		sipcx_free(r->ips);
		sipcx_free(r);
		return;
	}
	for (int i = 0; i < 2; i++)
		if (r->h[i].data == r) /* initialised */
			uv_close((uv_handle_t *)&r->h[i], on_close);
}

void sipcx__reflect_stats(const struct sipcx__reflect *r, struct sipcx__reflect_stats *st)
{
	if (r && st)
		*st = r->st;
}
