/* sdp: offer/answer for one audio stream (RFC 3264 5, 6, 8; RFC 3605; RFC 4733 telephone-event). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sipcx/codec.h>

#include "sdp.h"

const struct sipcx_sdp_codec sipcx_sdp_default_codecs[3] = {
	{ 0, "PCMU", 8000, 1, NULL },
	{ 8, "PCMA", 8000, 1, NULL },
	{ 101, "telephone-event", 8000, 1, "0-16" },
};

/* Every codec of the media layer (sipcx/codec.h), opus as its table has it. */
const struct sipcx_sdp_codec sipcx_sdp_answer_codecs[6] = {
	{ 0, "PCMU", 8000, 1, NULL },
	{ 8, "PCMA", 8000, 1, NULL },
	{ 9, "G722", 8000, 1, NULL },
	{ SIPCX_CODEC_OPUS_PT, "opus", 48000, 2, SIPCX_CODEC_OPUS_FMTP },
	{ 101, "telephone-event", 8000, 1, "0-16" },
	{ 110, "telephone-event", 48000, 1, "0-16" },
};

#define DEFAULT_PTIME 20
#define MIRROR_PTIME_MAX 200 /* the longest packet a media session sends */

/* The local config, checked once and with its defaults applied. */
struct local {
	const struct sipcx_sdp_local *cfg;
	const struct sipcx_sdp_codec *codecs;
	size_t ncodecs;
	uint8_t family;
	unsigned ptime;
	const char *username;
	bool can_send;
	bool can_recv;
};

static bool is_te(const char *name)
{
	return sipcx_str_ieq_c(sipcx_str_c(name), "telephone-event");
}

static unsigned channels_of(const struct sipcx_sdp_codec *c)
{
	return c->channels ? c->channels : 1;
}

/* Bytes we may write into a token of an SDP line: printable, no space, no '/'. */
static bool token_ok(const char *s, size_t max, bool allow_slash)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f || (c == '/' && !allow_slash))
			return false;
	}
	return true;
}

static bool text_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

static int check_local(const struct sipcx_sdp_local *cfg, struct local *l, bool answer)
{
	bool is_null;

	if (!cfg || !cfg->addr || cfg->port == 0 || strlen(cfg->addr) >= 48)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->cfg = cfg;
	/* A wildcard address in c= would mean "hold" (RFC 3264 8.4) or nothing at all. */
	if (!sipcx__sdp_ip_literal(sipcx_str_c(cfg->addr), &l->family, &is_null) || is_null)
		return -EINVAL;
	if ((unsigned)cfg->dir > SIPCX_SDP_INACTIVE || cfg->ptime > 10000)
		return -EINVAL;
	l->ptime = cfg->ptime ? cfg->ptime : DEFAULT_PTIME;
	l->username = cfg->username ? cfg->username : "-";
	if (!token_ok(l->username, 255, true) || sipcx__sdp_srtp_check(cfg) != 0 ||
	    (cfg->rtcp_mux_only && !cfg->rtcp_mux))
		return -EINVAL;
	l->can_send = cfg->dir == SIPCX_SDP_SENDRECV || cfg->dir == SIPCX_SDP_SENDONLY;
	l->can_recv = cfg->dir == SIPCX_SDP_SENDRECV || cfg->dir == SIPCX_SDP_RECVONLY;

	l->codecs = cfg->codecs ? cfg->codecs
	            : answer    ? sipcx_sdp_answer_codecs
	                        : sipcx_sdp_default_codecs;
	l->ncodecs = cfg->codecs ? cfg->ncodecs
	             : answer    ? SIPCX_ARRAY_SIZE(sipcx_sdp_answer_codecs)
	                         : SIPCX_ARRAY_SIZE(sipcx_sdp_default_codecs);
	if (l->ncodecs == 0 || l->ncodecs > SIPCX_SDP_MAX_FMTS)
		return -EINVAL;
	bool audio = false;
	for (size_t i = 0; i < l->ncodecs; i++) {
		const struct sipcx_sdp_codec *c = &l->codecs[i];
		if (c->pt < 0 || c->pt > 127 || !token_ok(c->name, 31, false) || c->clock == 0 ||
		    c->channels > 255 || (c->fmtp && !text_ok(c->fmtp)))
			return -EINVAL;
		for (size_t k = 0; k < i; k++)
			if (l->codecs[k].pt == c->pt)
				return -EINVAL;
		if (!is_te(c->name))
			audio = true;
	}
	return audio ? 0 : -EINVAL;
}

static const char *ipver(uint8_t family)
{
	return family == 6 ? "IP6" : "IP4";
}

/* RFC 2543 hold, only when asked and only where it exists (IPv4). */
static const char *conn_addr(const struct local *l, bool we_recv)
{
	if (l->cfg->hold_null_addr && !we_recv && l->family == 4)
		return "0.0.0.0";
	return l->cfg->addr;
}

static enum sipcx_sdp_dir dir_of(bool send, bool recv)
{
	if (send && recv)
		return SIPCX_SDP_SENDRECV;
	if (send)
		return SIPCX_SDP_SENDONLY;
	return recv ? SIPCX_SDP_RECVONLY : SIPCX_SDP_INACTIVE;
}

static void rtpmap_line(struct sipcx_buf *b, int pt, const struct sipcx_sdp_codec *c)
{
	sipcx_buf_printf(b, "a=rtpmap:%d %s/%u", pt, c->name, (unsigned)c->clock);
	if (channels_of(c) > 1)
		sipcx_buf_printf(b, "/%u", channels_of(c));
	sipcx_buf_puts(b, "\r\n");
	if (c->fmtp && c->fmtp[0])
		sipcx_buf_printf(b, "a=fmtp:%d %s\r\n", pt, c->fmtp);
}

/* mux: this SDP carries a=rtcp-mux (an offer of ours, or an answer that takes the offer's). */
static void media_tail(struct sipcx_buf *b, const struct local *l, enum sipcx_sdp_dir dir, bool mux,
                       bool offer)
{
	sipcx_buf_printf(b, "a=ptime:%u\r\n", l->ptime);
	/* RFC 8858 4.2: with mux, an a=rtcp could only repeat the RTP port: left out */
	if (l->cfg->rtcp_port && !(mux && l->cfg->rtcp_port == l->cfg->port))
		sipcx_buf_printf(b, "a=rtcp:%u\r\n", (unsigned)l->cfg->rtcp_port);
	if (mux)
		sipcx_buf_puts(b, "a=rtcp-mux\r\n");
	/* RFC 8858 4.2: only an offer says mux-only, with a=rtcp-mux beside it */
	if (mux && offer && l->cfg->rtcp_mux_only)
		sipcx_buf_puts(b, "a=rtcp-mux-only\r\n");
	sipcx_buf_printf(b, "a=%s\r\n", sipcx_sdp_dir_name(dir));
}

bool sipcx_sdp_wants_rtcp_mux(const struct sipcx_sdp *offer)
{
	for (unsigned i = 0; offer && i < offer->nmedia && i < SIPCX_SDP_MAX_MEDIA; i++) {
		const struct sipcx_sdp_media *m = &offer->media[i];
		if (sipcx_str_ieq_c(m->type, "audio") && m->port && m->rtp)
			return m->rtcp_mux;
	}
	return false;
}

void sipcx_sdp_session_init(struct sipcx_sdp_session *s)
{
	uint64_t id = 0;

	if (!s)
		return;
	memset(s, 0, sizeof(*s));
	sipcx__random_pool(&id, sizeof(id));
	/* RFC 3264 5: the version must start below 2^62 - 1 to avoid rollover. */
	id &= (1ULL << 62) - 1;
	s->id = id;
	s->version = id;
}

/*
 * Prepend v= and o= to body and append to out as one step. RFC 3264 8: the
 * o= line stays the same across the dialog except the version, which grows
 * by one when the description changed.
 */
static int finish(struct sipcx_sdp_session *sess, const struct local *l,
                  const struct sipcx_buf *body, struct sipcx_buf *out)
{
	char origin[400];
	uint64_t hash = sipcx__fnv64(SIPCX__FNV64_INIT, body->p, body->len);
	uint64_t version = sess->version;
	const char *oaddr = sess->built ? sess->origin_addr : l->cfg->addr;
	uint8_t ofam = l->family;
	bool is_null;

	if (sess->built && hash != sess->last_hash)
		version++;
	if (sess->built)
		sipcx__sdp_ip_literal(sipcx_str_c(oaddr), &ofam, &is_null);
	int n =
	    snprintf(origin, sizeof(origin), "v=0\r\no=%s %llu %llu IN %s %s\r\n", l->username,
	             (unsigned long long)sess->id, (unsigned long long)version, ipver(ofam), oaddr);
	if (n < 0 || (size_t)n >= sizeof(origin))
		return -EINVAL;
	int err = sipcx_buf_reserve(out, (size_t)n + body->len);
	if (err)
		return err;
	sipcx_buf_append(out, origin, (size_t)n);
	sipcx_buf_append(out, body->p, body->len);
	if (!sess->built) {
		snprintf(sess->origin_addr, sizeof(sess->origin_addr), "%s", l->cfg->addr);
		sess->built = true;
	}
	sess->version = version;
	sess->last_hash = hash;
	return 0;
}

static void session_head(struct sipcx_buf *b, const struct local *l, bool we_recv)
{
	sipcx_buf_printf(b, "s=-\r\nc=IN %s %s\r\nt=0 0\r\n", ipver(l->family),
	                 conn_addr(l, we_recv));
}

int sipcx_sdp_offer(struct sipcx_sdp_session *sess, const struct sipcx_sdp_local *local,
                    struct sipcx_buf *out)
{
	struct local l;
	struct sipcx_buf body;

	if (!sess || !out)
		return -EINVAL;
	int err = check_local(local, &l, false);
	if (err)
		return err;
	if (sipcx_buf_err(out))
		return sipcx_buf_err(out);

	sipcx_buf_init(&body);
	session_head(&body, &l, l.can_recv);
	sipcx_buf_printf(&body, "m=audio %u %s", (unsigned)local->port,
	                 sipcx__sdp_srtp_proto(local));
	for (size_t i = 0; i < l.ncodecs; i++)
		sipcx_buf_printf(&body, " %d", l.codecs[i].pt);
	sipcx_buf_puts(&body, "\r\n");
	for (size_t i = 0; i < l.ncodecs; i++)
		rtpmap_line(&body, l.codecs[i].pt, &l.codecs[i]);
	sipcx__sdp_srtp_offer_lines(&body, local);
	media_tail(&body, &l, local->dir, local->rtcp_mux, true);
	err = sipcx_buf_err(&body);
	if (!err)
		err = finish(sess, &l, &body, out);
	sipcx_buf_free(&body);
	return err;
}

/* A format of the peer's media matched to one of our codecs. */
struct pick {
	int pt;       /* the peer's payload number */
	size_t local; /* index into our codec list */
};

static bool codec_matches(const struct sipcx_sdp_codec *c, const struct sipcx_sdp_format *f)
{
	return f->known && sipcx_str_ieq_c(f->name, c->name) && f->clock == c->clock &&
	       f->channels == channels_of(c);
}

static int find_local(const struct local *l, const struct sipcx_sdp_format *f)
{
	for (size_t k = 0; k < l->ncodecs; k++)
		if (codec_matches(&l->codecs[k], f))
			return (int)k;
	return -1;
}

/*
 * The common codecs of media m, in m's order (or ours when sorted): each of
 * our codecs once, telephone-event only at the clock rate of the first audio
 * codec. Returns how many, 0 when no audio codec is common.
 */
static unsigned pick_codecs(const struct local *l, const struct sipcx_sdp_media *m,
                            struct pick *picks, bool local_order)
{
	struct pick all[SIPCX_SDP_MAX_FMTS];
	bool used[SIPCX_SDP_MAX_FMTS] = { false };
	unsigned n = 0;

	for (unsigned j = 0; j < m->nfmt; j++) {
		struct sipcx_sdp_format f;
		if (sipcx_sdp_media_format(m, j, &f) != 0)
			continue;
		int k = find_local(l, &f);
		if (k < 0 || used[k])
			continue;
		used[k] = true;
		all[n].pt = f.pt;
		all[n].local = (size_t)k;
		n++;
	}
	if (local_order) {
		/* Insertion sort by our preference; n is at most 32. */
		for (unsigned i = 1; i < n; i++) {
			struct pick x = all[i];
			unsigned j = i;
			while (j > 0 && all[j - 1].local > x.local) {
				all[j] = all[j - 1];
				j--;
			}
			all[j] = x;
		}
	}
	const struct sipcx_sdp_codec *first = NULL;
	for (unsigned i = 0; i < n && !first; i++)
		if (!is_te(l->codecs[all[i].local].name))
			first = &l->codecs[all[i].local];
	if (!first)
		return 0;
	unsigned out = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct sipcx_sdp_codec *c = &l->codecs[all[i].local];
		if (is_te(c->name) && c->clock != first->clock)
			continue;
		picks[out++] = all[i];
	}
	return out;
}

static void copy_str(char *dst, size_t cap, struct sipcx_str s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;
	if (n)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
}

/* Fill what the remote media says: address, ports, codec, DTMF, ptime. */
static void fill_result(struct sipcx_sdp_result *res, const struct local *l,
                        const struct sipcx_sdp_media *m, const struct sipcx_sdp_conn *c,
                        const struct pick *picks, unsigned npicks, unsigned index)
{
	memset(res, 0, sizeof(*res));
	res->media_index = index;
	res->family = c->family;
	res->addr_is_ip = c->is_ip;
	copy_str(res->addr, sizeof(res->addr), c->addr);
	res->rtp_port = m->port;
	if (m->rtcp_port) {
		res->rtcp_port = m->rtcp_port;
		copy_str(res->rtcp_addr, sizeof(res->rtcp_addr),
		         m->rtcp_conn.family ? m->rtcp_conn.addr : c->addr);
	} else {
		/* RFC 3605 2: without a=rtcp, RTCP is on the next port. */
		res->rtcp_port = m->port < 65535 ? (uint16_t)(m->port + 1) : 0;
		copy_str(res->rtcp_addr, sizeof(res->rtcp_addr), c->addr);
	}
	res->pt = -1;
	res->dtmf_pt = -1;
	for (unsigned i = 0; i < npicks; i++) {
		const struct sipcx_sdp_codec *codec = &l->codecs[picks[i].local];
		if (is_te(codec->name)) {
			if (res->dtmf_pt < 0)
				res->dtmf_pt = picks[i].pt;
		} else if (res->pt < 0) {
			res->pt = picks[i].pt;
			snprintf(res->codec, sizeof(res->codec), "%s", codec->name);
			res->clock = codec->clock;
			res->channels = channels_of(codec);
		}
	}
	/* RFC 4566 6: a=ptime is what the peer wants to receive, a=maxptime its limit. */
	res->ptime = m->ptime ? m->ptime : l->ptime;
	if (!m->ptime && m->maxptime && m->maxptime < res->ptime)
		res->ptime = m->maxptime;
}

/* RFC 5761 4: multiplexed, the peer's RTCP goes where its RTP goes. */
static void mux_result(struct sipcx_sdp_result *res, bool mux)
{
	res->rtcp_mux = mux;
	if (mux) {
		res->rtcp_port = res->rtp_port;
		memcpy(res->rtcp_addr, res->addr, sizeof(res->rtcp_addr));
	}
}

/* The peer's media is usable at all: RTP audio, a port, an IN IP4/IP6 address. */
static const struct sipcx_sdp_conn *usable(const struct sipcx_sdp *sdp, unsigned i)
{
	const struct sipcx_sdp_media *m = &sdp->media[i];
	const struct sipcx_sdp_conn *c = sipcx_sdp_media_conn(sdp, i);
	if (!sipcx_str_ieq_c(m->type, "audio") || m->port == 0 || !m->rtp || !c || c->family == 0)
		return NULL;
	return c;
}

static void rejected_line(struct sipcx_buf *b, const struct sipcx_sdp_media *m)
{
	/* RFC 3264 6: port 0, same media and transport; formats as offered. */
	sipcx_buf_printf(b, "m=%.*s 0 %.*s", SIPCX_STR_FMT(m->type), SIPCX_STR_FMT(m->proto));
	for (unsigned k = 0; k < m->nfmt; k++)
		sipcx_buf_printf(b, " %.*s", SIPCX_STR_FMT(m->fmt[k]));
	sipcx_buf_puts(b, "\r\n");
}

int sipcx_sdp_answer(struct sipcx_sdp_session *sess, const struct sipcx_sdp_local *local,
                     const struct sipcx_sdp *offer, struct sipcx_buf *out,
                     struct sipcx_sdp_result *res)
{
	struct local l;
	struct pick picks[SIPCX_SDP_MAX_FMTS];
	unsigned npicks = 0, accepted = SIPCX_SDP_MAX_MEDIA;
	const struct sipcx_sdp_conn *conn = NULL;
	struct sipcx__sdp_srtp_pick pick = { 0 };

	if (!sess || !offer || !out || offer->nmedia > SIPCX_SDP_MAX_MEDIA)
		return -EINVAL;
	int err = check_local(local, &l, true);
	if (err)
		return err;
	if (sipcx_buf_err(out))
		return sipcx_buf_err(out);

	for (unsigned i = 0; i < offer->nmedia && accepted == SIPCX_SDP_MAX_MEDIA; i++) {
		const struct sipcx_sdp_media *m = &offer->media[i];
		/* RTP/AVP, or RTP/SAVP with a key (RFC 4568); no AVPF feedback. */
		if (!usable(offer, i) || !sipcx__sdp_srtp_accept(local, m, &pick))
			continue;
		/* RFC 8858 4.2: a stream that must multiplex is refused when we may not */
		if (m->rtcp_mux_only && !local->rtcp_mux)
			continue;
		npicks = pick_codecs(&l, m, picks, local->answer_local_order);
		if (npicks) {
			accepted = i;
			conn = usable(offer, i);
		}
	}
	if (accepted == SIPCX_SDP_MAX_MEDIA)
		return SIPCX_ENOCODEC;

	const struct sipcx_sdp_media *am = &offer->media[accepted];
	/* RFC 3264 6.1: mirror the offer; RFC 3264 8.4: 0.0.0.0 means do not send. */
	bool peer_recv =
	    (am->dir == SIPCX_SDP_SENDRECV || am->dir == SIPCX_SDP_RECVONLY) && !conn->is_null;
	bool peer_send = am->dir == SIPCX_SDP_SENDRECV || am->dir == SIPCX_SDP_SENDONLY;
	bool we_send = peer_recv && l.can_send;
	bool we_recv = peer_send && l.can_recv;
	enum sipcx_sdp_dir dir = dir_of(we_send, we_recv);
	/* RFC 5761 5.1.1, RFC 8035: a=rtcp-mux in the answer only when the offer has it */
	bool mux = local->rtcp_mux && am->rtcp_mux;
	/* No packet time of our own: we ask for the offer's (an echo returns what it gets, a
	 * tone goes at the caller's pace), within what a session sends (at most 200 ms). */
	if (!local->ptime && am->ptime && am->ptime <= MIRROR_PTIME_MAX)
		l.ptime = am->ptime;

	struct sipcx_buf body;
	sipcx_buf_init(&body);
	session_head(&body, &l, we_recv);
	for (unsigned i = 0; i < offer->nmedia; i++) {
		if (i != accepted) {
			rejected_line(&body, &offer->media[i]);
			continue;
		}
		sipcx_buf_printf(&body, "m=audio %u %.*s", (unsigned)local->port,
		                 SIPCX_STR_FMT(am->proto));
		for (unsigned k = 0; k < npicks; k++)
			sipcx_buf_printf(&body, " %d", picks[k].pt);
		sipcx_buf_puts(&body, "\r\n");
		for (unsigned k = 0; k < npicks; k++)
			rtpmap_line(&body, picks[k].pt, &l.codecs[picks[k].local]);
		sipcx__sdp_srtp_answer_line(&body, &pick);
		media_tail(&body, &l, dir, mux, false);
	}
	err = sipcx_buf_err(&body);
	if (!err)
		err = finish(sess, &l, &body, out);
	sipcx_buf_free(&body);
	if (err)
		return err;
	if (res) {
		fill_result(res, &l, am, conn, picks, npicks, accepted);
		res->dir = dir;
		res->local_send = we_send;
		res->local_recv = we_recv;
		res->on_hold = !peer_recv;
		sipcx__sdp_srtp_result(&pick, res);
		mux_result(res, mux);
	}
	return 0;
}

int sipcx_sdp_process_answer(const struct sipcx_sdp_local *local, const struct sipcx_sdp *answer,
                             struct sipcx_sdp_result *res)
{
	struct local l;
	struct pick picks[SIPCX_SDP_MAX_FMTS];

	if (!answer || !res || answer->nmedia > SIPCX_SDP_MAX_MEDIA)
		return -EINVAL;
	int err = check_local(local, &l, false);
	if (err)
		return err;
	/* We offered one audio stream: it is the answer's first m= line. */
	if (answer->nmedia == 0)
		return SIPCX_ENOCODEC;
	const struct sipcx_sdp_conn *conn = usable(answer, 0);
	if (!conn)
		return SIPCX_ENOCODEC;
	const struct sipcx_sdp_media *m = &answer->media[0];
	/* The answer's order is the answerer's preference: the first common codec wins. */
	unsigned npicks = pick_codecs(&l, m, picks, false);
	struct sipcx__sdp_srtp_pick pick = { 0 };
	if (npicks == 0 || sipcx__sdp_srtp_process(local, m, &pick) != 0)
		return SIPCX_ENOCODEC;

	bool peer_recv =
	    (m->dir == SIPCX_SDP_SENDRECV || m->dir == SIPCX_SDP_RECVONLY) && !conn->is_null;
	bool peer_send = m->dir == SIPCX_SDP_SENDRECV || m->dir == SIPCX_SDP_SENDONLY;
	fill_result(res, &l, m, conn, picks, npicks, 0);
	res->local_send = peer_recv && l.can_send;
	res->local_recv = peer_send && l.can_recv;
	res->dir = dir_of(res->local_send, res->local_recv);
	res->on_hold = !peer_recv;
	sipcx__sdp_srtp_result(&pick, res);
	/* RFC 5761 5.1.1: our offer had a=rtcp-mux; the answer's says it was taken */
	mux_result(res, local->rtcp_mux && m->rtcp_mux);
	return 0;
}
