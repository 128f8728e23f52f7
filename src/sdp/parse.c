/* sdp: zero-copy session description parser and lookups (RFC 4566 5, RFC 3605, RFC 3551 6). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "sdp.h"

/* RFC 3551 tables 4 and 5: what a static payload type means without a=rtpmap. */
static const struct sipcx__sdp_static static_pts[35] = {
	[0] = { "PCMU", 8000, 1 },   [3] = { "GSM", 8000, 1 },    [4] = { "G723", 8000, 1 },
	[5] = { "DVI4", 8000, 1 },   [6] = { "DVI4", 16000, 1 },  [7] = { "LPC", 8000, 1 },
	[8] = { "PCMA", 8000, 1 },   [9] = { "G722", 8000, 1 },   [10] = { "L16", 44100, 2 },
	[11] = { "L16", 44100, 1 },  [12] = { "QCELP", 8000, 1 }, [13] = { "CN", 8000, 1 },
	[14] = { "MPA", 90000, 1 },  [15] = { "G728", 8000, 1 },  [16] = { "DVI4", 11025, 1 },
	[17] = { "DVI4", 22050, 1 }, [18] = { "G729", 8000, 1 },  [25] = { "CelB", 90000, 1 },
	[26] = { "JPEG", 90000, 1 }, [28] = { "nv", 90000, 1 },   [31] = { "H261", 90000, 1 },
	[32] = { "MPV", 90000, 1 },  [33] = { "MP2T", 90000, 1 }, [34] = { "H263", 90000, 1 },
};

const struct sipcx__sdp_static *sipcx__sdp_static_pt(int pt)
{
	if (pt < 0 || pt >= (int)SIPCX_ARRAY_SIZE(static_pts) || !static_pts[pt].name)
		return NULL;
	return &static_pts[pt];
}

bool sipcx__sdp_num(struct sipcx_str s, uint64_t max, uint64_t *out)
{
	return sipcx_str_to_u64(s, max, out) == 0;
}

/* Next run of non-space bytes; runs of spaces between fields are tolerated. */
bool sipcx__sdp_next_tok(struct sipcx_str *rest, struct sipcx_str *tok)
{
	if (!rest->len) { /* p may be NULL: no arithmetic on it */
		*tok = (struct sipcx_str){ rest->p, 0 };
		return false;
	}
	const char *p = rest->p, *end = rest->p + rest->len;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	const char *s = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	tok->p = s;
	tok->len = (size_t)(p - s);
	rest->len = (size_t)(end - p);
	rest->p = p;
	return tok->len > 0;
}

static bool only_space(struct sipcx_str s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] != ' ' && s.p[i] != '\t')
			return false;
	return true;
}

static bool parse_ipv4(struct sipcx_str s, bool *is_null)
{
	unsigned parts = 0, val = 0, digits = 0;
	bool zero = true;

	for (size_t i = 0; i <= s.len; i++) {
		if (i == s.len || s.p[i] == '.') {
			if (digits == 0 || val > 255)
				return false;
			if (val)
				zero = false;
			parts++;
			val = digits = 0;
			continue;
		}
		unsigned d = (unsigned char)s.p[i] - '0';
		if (d > 9 || ++digits > 3)
			return false;
		val = val * 10 + d;
	}
	if (parts != 4)
		return false;
	*is_null = zero;
	return true;
}

static bool parse_ipv6(struct sipcx_str s, bool *is_null)
{
	char tmp[64];
	unsigned char bin[16];

	if (s.len == 0 || s.len >= sizeof(tmp))
		return false;
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = '\0';
	if (inet_pton(AF_INET6, tmp, bin) != 1)
		return false;
	bool zero = true;
	for (size_t i = 0; i < sizeof(bin); i++)
		if (bin[i])
			zero = false;
	*is_null = zero;
	return true;
}

bool sipcx__sdp_ip_literal(struct sipcx_str s, uint8_t *family, bool *is_null)
{
	if (parse_ipv4(s, is_null)) {
		*family = 4;
		return true;
	}
	if (memchr(s.p, ':', s.len) && parse_ipv6(s, is_null)) {
		*family = 6;
		return true;
	}
	return false;
}

/* RFC 4566 9: FQDN = 4*(alpha-numeric / "-" / "."); '_' tolerated (seen in the wild). */
static bool is_hostname(struct sipcx_str s)
{
	if (s.len == 0 || s.len > 255)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return false;
	}
	return true;
}

static bool all_digits_dots(struct sipcx_str s)
{
	for (size_t i = 0; i < s.len; i++)
		if (!((s.p[i] >= '0' && s.p[i] <= '9') || s.p[i] == '.'))
			return false;
	return true;
}

int sipcx__sdp_classify_addr(struct sipcx_sdp_conn *c)
{
	c->family = 0;
	c->is_ip = false;
	c->is_null = false;
	if (!sipcx_str_ieq_c(c->nettype, "IN"))
		return 0; /* another network: kept opaque */
	if (sipcx_str_ieq_c(c->addrtype, "IP4"))
		c->family = 4;
	else if (sipcx_str_ieq_c(c->addrtype, "IP6"))
		c->family = 6;
	else
		return 0;

	if (c->addr.len == 0)
		return -EBADMSG;
	if (memchr(c->addr.p, ':', c->addr.len)) {
		if (c->family != 6 || !parse_ipv6(c->addr, &c->is_null))
			return -EBADMSG;
		c->is_ip = true;
		return 0;
	}
	if (all_digits_dots(c->addr)) {
		/* Looks like a dotted quad: it must be one ("300.1.1.1" is not a host). */
		if (c->family != 4 || !parse_ipv4(c->addr, &c->is_null))
			return -EBADMSG;
		c->is_ip = true;
		return 0;
	}
	return is_hostname(c->addr) ? 0 : -EBADMSG;
}

/* "/ttl", "/ttl/num" (IP4) or "/num" (IP6), RFC 4566 5.7. */
static bool valid_suffix(struct sipcx_str s, unsigned max_parts)
{
	unsigned parts = 0;
	size_t i = 0;
	while (i < s.len) {
		if (s.p[i] != '/')
			return false;
		size_t j = ++i;
		while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9')
			i++;
		if (i == j || i - j > 9)
			return false;
		parts++;
	}
	return parts <= max_parts;
}

/* "IN IP4 addr[/ttl[/num]]" from tokens; strict for c=, lenient for o=. */
static int parse_conn(struct sipcx_str rest, struct sipcx_sdp_conn *c, bool strict)
{
	struct sipcx_str addr;

	memset(c, 0, sizeof(*c));
	if (!sipcx__sdp_next_tok(&rest, &c->nettype) || !sipcx__sdp_next_tok(&rest, &c->addrtype) ||
	    !sipcx__sdp_next_tok(&rest, &addr) || !only_space(rest))
		return -EBADMSG;
	c->present = true;
	c->addr = addr;
	c->suffix.p = addr.p + addr.len;
	const char *slash = memchr(addr.p, '/', addr.len);
	if (slash && strict) {
		c->addr.len = (size_t)(slash - addr.p);
		c->suffix.p = slash;
		c->suffix.len = addr.len - c->addr.len;
	}
	int err = sipcx__sdp_classify_addr(c);
	if (!strict) {
		/* An o= address is an identifier only: keep odd ones. */
		if (err)
			c->family = 0;
		return 0;
	}
	if (err)
		return err;
	if (c->suffix.len && !valid_suffix(c->suffix, c->family == 6 ? 1 : 2))
		return -EBADMSG;
	return 0;
}

static int parse_origin(struct sipcx_str v, struct sipcx_sdp_origin *o)
{
	memset(o, 0, sizeof(*o));
	if (!sipcx__sdp_next_tok(&v, &o->username) || !sipcx__sdp_next_tok(&v, &o->sess_id) ||
	    !sipcx__sdp_next_tok(&v, &o->sess_version))
		return -EBADMSG;
	/* RFC 3264 5: both fit a 64-bit signed integer. */
	if (!sipcx__sdp_num(o->sess_id, INT64_MAX, &o->id) ||
	    !sipcx__sdp_num(o->sess_version, INT64_MAX, &o->version))
		return -EBADMSG;
	return parse_conn(v, &o->addr, false);
}

static int parse_time(struct sipcx_str v, struct sipcx_sdp_time *t)
{
	memset(t, 0, sizeof(*t));
	if (!sipcx__sdp_next_tok(&v, &t->start_str) || !sipcx__sdp_next_tok(&v, &t->stop_str) ||
	    !only_space(v))
		return -EBADMSG;
	if (!sipcx__sdp_num(t->start_str, UINT64_MAX, &t->start) ||
	    !sipcx__sdp_num(t->stop_str, UINT64_MAX, &t->stop))
		return -EBADMSG;
	return 0;
}

static bool ieq_prefix(struct sipcx_str s, const char *pre)
{
	size_t n = strlen(pre);
	return s.len >= n &&
	       sipcx_str_ieq((struct sipcx_str){ s.p, n }, (struct sipcx_str){ pre, n });
}

static bool contains_rtp(struct sipcx_str proto)
{
	for (size_t i = 0; i + 4 <= proto.len; i++)
		if (ieq_prefix((struct sipcx_str){ proto.p + i, proto.len - i }, "RTP/"))
			return true;
	return false;
}

static int parse_media(struct sipcx_str v, struct sipcx_sdp_media *m)
{
	struct sipcx_str port, tok;
	uint64_t n;

	if (!sipcx__sdp_next_tok(&v, &m->type) || !sipcx__sdp_next_tok(&v, &port) ||
	    !sipcx__sdp_next_tok(&v, &m->proto))
		return -EBADMSG;
	const char *slash = memchr(port.p, '/', port.len);
	if (slash) {
		struct sipcx_str np = { slash + 1, port.len - (size_t)(slash + 1 - port.p) };
		if (!sipcx__sdp_num(np, UINT32_MAX, &n) || n == 0)
			return -EBADMSG;
		m->nports = (uint32_t)n;
		port.len = (size_t)(slash - port.p);
	}
	if (!sipcx__sdp_num(port, 65535, &n))
		return -EBADMSG;
	m->port = (uint16_t)n;
	m->rtp = contains_rtp(m->proto);
	while (sipcx__sdp_next_tok(&v, &tok)) {
		if (m->nfmt == SIPCX_SDP_MAX_FMTS)
			return SIPCX_ELIMIT;
		if (m->rtp && !sipcx__sdp_num(tok, 127, &n))
			return -EBADMSG;
		m->fmt[m->nfmt++] = tok;
	}
	/* RFC 4566 5.14: at least one format; a disabled stream is forgiven. */
	if (m->nfmt == 0 && m->port != 0)
		return -EBADMSG;
	return 0;
}

static int parse_attr(struct sipcx_str v, struct sipcx_sdp_attr *a)
{
	const char *colon = memchr(v.p, ':', v.len);
	a->name.p = v.p;
	a->name.len = colon ? (size_t)(colon - v.p) : v.len;
	a->value = SIPCX_STR_NULL;
	if (colon) {
		a->value.p = colon + 1;
		a->value.len = v.len - a->name.len - 1;
	}
	if (a->name.len == 0)
		return -EBADMSG;
	for (size_t i = 0; i < a->name.len; i++)
		if (a->name.p[i] == ' ' || a->name.p[i] == '\t')
			return -EBADMSG;
	return 0;
}

/* b=<bwtype>:<bandwidth> */
static int check_bw(struct sipcx_str v)
{
	const char *colon = memchr(v.p, ':', v.len);
	return colon && colon > v.p ? 0 : -EBADMSG;
}

static bool dir_from_name(struct sipcx_str name, enum sipcx_sdp_dir *dir)
{
	static const char *const names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
	for (size_t i = 0; i < SIPCX_ARRAY_SIZE(names); i++) {
		if (sipcx_str_ieq_c(name, names[i])) {
			*dir = (enum sipcx_sdp_dir)i;
			return true;
		}
	}
	return false;
}

static unsigned attr_uint(struct sipcx_str v)
{
	uint64_t n;
	if (!v.p || !sipcx__sdp_num(sipcx_str_trim(v), 100000, &n))
		return 0;
	return (unsigned)n;
}

/* RFC 3605: a=rtcp:port [nettype addrtype connection-address] */
static void digest_rtcp(struct sipcx_sdp_media *m, struct sipcx_str v)
{
	struct sipcx_str port;
	uint64_t n;

	if (!v.p || !sipcx__sdp_next_tok(&v, &port) || !sipcx__sdp_num(port, 65535, &n) || n == 0)
		return;
	if (!only_space(v)) {
		struct sipcx_sdp_conn c;
		if (parse_conn(v, &c, true) != 0 || c.suffix.len)
			return;
		m->rtcp_conn = c;
	}
	m->rtcp_port = (uint16_t)n;
}

static void digest_media(struct sipcx_sdp *sdp, struct sipcx_sdp_media *m)
{
	m->dir = sdp->dir;
	m->dir_explicit = sdp->dir_explicit;
	for (unsigned i = 0; i < m->nattr; i++) {
		const struct sipcx_sdp_attr *a = &m->attr[i];
		enum sipcx_sdp_dir d;
		if (!a->value.p && dir_from_name(a->name, &d)) {
			m->dir = d;
			m->dir_explicit = true;
		} else if (sipcx_str_ieq_c(a->name, "ptime")) {
			m->ptime = attr_uint(a->value);
		} else if (sipcx_str_ieq_c(a->name, "maxptime")) {
			m->maxptime = attr_uint(a->value);
		} else if (sipcx_str_ieq_c(a->name, "rtcp")) {
			digest_rtcp(m, a->value);
		} else if (sipcx_str_ieq_c(a->name, "rtcp-mux")) {
			m->rtcp_mux = true;
		} else if (sipcx_str_ieq_c(a->name, "rtcp-mux-only")) {
			/* RFC 8858 4.2: it comes with a=rtcp-mux; alone, it means the same */
			m->rtcp_mux = m->rtcp_mux_only = true;
		} else if (sipcx_str_ieq_c(a->name, "mid") && a->value.p) {
			m->mid = a->value;
		}
	}
}

static void digest_session(struct sipcx_sdp *sdp)
{
	for (unsigned i = 0; i < sdp->nattr; i++) {
		enum sipcx_sdp_dir d;
		if (!sdp->attr[i].value.p && dir_from_name(sdp->attr[i].name, &d)) {
			sdp->dir = d;
			sdp->dir_explicit = true;
		}
	}
}

/* A field that may appear once per level. */
static int set_once(struct sipcx_str *slot, struct sipcx_str v)
{
	if (slot->p)
		return -EBADMSG;
	*slot = v;
	return 0;
}

static int add_line(struct sipcx_str *arr, unsigned *n, struct sipcx_str v)
{
	if (*n == SIPCX_SDP_MAX_LINES)
		return SIPCX_ELIMIT;
	arr[(*n)++] = v;
	return 0;
}

static int media_line(struct sipcx_sdp_media *m, char type, struct sipcx_str v)
{
	switch (type) {
	case 'i':
		return set_once(&m->info, v);
	case 'c':
		/* Several c= per media are for layered multicast: not kept. */
		if (m->conn.present)
			return SIPCX_ELIMIT;
		return parse_conn(v, &m->conn, true);
	case 'b':
		if (check_bw(v))
			return -EBADMSG;
		return add_line(m->bw, &m->nbw, v);
	case 'k':
		return set_once(&m->key, v);
	case 'a':
		if (m->nattr == SIPCX_SDP_MAX_ATTRS)
			return SIPCX_ELIMIT;
		return parse_attr(v, &m->attr[m->nattr++]);
	default:
		/* Known session-only letters, or letters RFC 4566 5 says to refuse. */
		return -EBADMSG;
	}
}

static int session_line(struct sipcx_sdp *sdp, char type, struct sipcx_str v, bool *seen_o,
                        bool *seen_s)
{
	int err;

	switch (type) {
	case 'o':
		if (*seen_o)
			return -EBADMSG;
		*seen_o = true;
		return parse_origin(v, &sdp->origin);
	case 's':
		if (*seen_s)
			return -EBADMSG;
		*seen_s = true;
		sdp->name = v;
		return 0;
	case 'i':
		return set_once(&sdp->info, v);
	case 'u':
		return set_once(&sdp->uri, v);
	case 'e':
		return add_line(sdp->email, &sdp->nemail, v);
	case 'p':
		return add_line(sdp->phone, &sdp->nphone, v);
	case 'c':
		if (sdp->conn.present)
			return -EBADMSG;
		return parse_conn(v, &sdp->conn, true);
	case 'b':
		if (check_bw(v))
			return -EBADMSG;
		return add_line(sdp->bw, &sdp->nbw, v);
	case 't':
		if (sdp->ntime == SIPCX_SDP_MAX_LINES)
			return SIPCX_ELIMIT;
		err = parse_time(v, &sdp->time[sdp->ntime]);
		if (err == 0)
			sdp->ntime++;
		return err;
	case 'r': {
		if (sdp->ntime == 0)
			return -EBADMSG; /* r= belongs to the t= before it */
		struct sipcx_sdp_time *t = &sdp->time[sdp->ntime - 1];
		return add_line(t->repeat, &t->nrepeat, v);
	}
	case 'z':
		return set_once(&sdp->zone, v);
	case 'k':
		return set_once(&sdp->key, v);
	case 'a':
		if (sdp->nattr == SIPCX_SDP_MAX_ATTRS)
			return SIPCX_ELIMIT;
		return parse_attr(v, &sdp->attr[sdp->nattr++]);
	default:
		return -EBADMSG;
	}
}

/* Only the fields the parser reads before writing; the arrays are filled by count. */
static void reset(struct sipcx_sdp *sdp)
{
	memset(&sdp->origin, 0, sizeof(sdp->origin));
	sdp->name = sdp->info = sdp->uri = sdp->zone = sdp->key = SIPCX_STR_NULL;
	sdp->nemail = sdp->nphone = sdp->nbw = sdp->ntime = sdp->nattr = sdp->nmedia = 0;
	memset(&sdp->conn, 0, sizeof(sdp->conn));
	sdp->dir = SIPCX_SDP_SENDRECV;
	sdp->dir_explicit = false;
}

static void reset_media(struct sipcx_sdp_media *m)
{
	m->type = m->proto = m->info = m->key = m->mid = SIPCX_STR_NULL;
	m->port = 0;
	m->nports = 0;
	m->rtp = false;
	m->nfmt = m->nbw = m->nattr = 0;
	memset(&m->conn, 0, sizeof(m->conn));
	memset(&m->rtcp_conn, 0, sizeof(m->rtcp_conn));
	m->dir = SIPCX_SDP_SENDRECV;
	m->dir_explicit = false;
	m->ptime = m->maxptime = 0;
	m->rtcp_port = 0;
	m->rtcp_mux = m->rtcp_mux_only = false;
}

int sipcx_sdp_parse(struct sipcx_sdp *sdp, struct sipcx_str in)
{
	if (!sdp || (!in.p && in.len))
		return -EINVAL;
	reset(sdp);
	if (in.len == 0)
		return -EBADMSG; /* and no arithmetic on a NULL pointer */

	const char *p = in.p, *end = in.p + in.len;
	bool seen_v = false, seen_o = false, seen_s = false;
	struct sipcx_sdp_media *cur = NULL;
	int err;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct sipcx_str line = { p, (size_t)(le - p) };
		p = nl ? nl + 1 : end;
		if (line.len && line.p[line.len - 1] == '\r')
			line.len--;
		if (line.len == 0)
			continue; /* blank lines, e.g. a trailing CRLF CRLF, carry nothing */
		/* RFC 4566 9: text excludes NUL, CR and LF. */
		if (memchr(line.p, '\0', line.len) || memchr(line.p, '\r', line.len))
			return -EBADMSG;
		if (line.len < 2 || line.p[1] != '=')
			return -EBADMSG;
		char type = line.p[0];
		struct sipcx_str v = { line.p + 2, line.len - 2 };

		if (!seen_v) {
			/* RFC 4566 5: v= comes first, and only protocol version 0 exists. */
			struct sipcx_str tok;
			if (type != 'v' || !sipcx__sdp_next_tok(&v, &tok) ||
			    !sipcx_str_eq(tok, SIPCX_STR("0")) || !only_space(v))
				return -EBADMSG;
			seen_v = true;
			continue;
		}
		if (type == 'm') {
			if (!seen_o || !seen_s)
				return -EBADMSG;
			if (sdp->nmedia == SIPCX_SDP_MAX_MEDIA)
				return SIPCX_ELIMIT;
			cur = &sdp->media[sdp->nmedia++];
			reset_media(cur);
			err = parse_media(v, cur);
		} else if (cur) {
			err = media_line(cur, type, v);
		} else {
			err = session_line(sdp, type, v, &seen_o, &seen_s);
		}
		if (err)
			return err;
	}
	if (!seen_v || !seen_o || !seen_s)
		return -EBADMSG;
	digest_session(sdp);
	for (unsigned i = 0; i < sdp->nmedia; i++)
		digest_media(sdp, &sdp->media[i]);
	return 0;
}

const struct sipcx_sdp_conn *sipcx_sdp_media_conn(const struct sipcx_sdp *sdp, unsigned i)
{
	if (!sdp || i >= sdp->nmedia)
		return NULL;
	if (sdp->media[i].conn.present)
		return &sdp->media[i].conn;
	return sdp->conn.present ? &sdp->conn : NULL;
}

static bool find_attr(const struct sipcx_sdp_attr *a, unsigned n, const char *name,
                      struct sipcx_str *value)
{
	for (unsigned i = 0; i < n; i++) {
		if (sipcx_str_ieq_c(a[i].name, name)) {
			if (value)
				*value = a[i].value;
			return true;
		}
	}
	return false;
}

bool sipcx_sdp_media_attr(const struct sipcx_sdp_media *m, const char *name,
                          struct sipcx_str *value)
{
	return m && name && find_attr(m->attr, m->nattr, name, value);
}

bool sipcx_sdp_session_attr(const struct sipcx_sdp *sdp, const char *name, struct sipcx_str *value)
{
	return sdp && name && find_attr(sdp->attr, sdp->nattr, name, value);
}

/* "<pt> <rest>": true when the first token is payload type pt; rest after the spaces. */
static bool pt_prefix(struct sipcx_str v, int pt, struct sipcx_str *rest)
{
	struct sipcx_str tok;
	uint64_t n;

	if (!v.p || !sipcx__sdp_next_tok(&v, &tok) || !sipcx__sdp_num(tok, 127, &n) || (int)n != pt)
		return false;
	while (v.len && (v.p[0] == ' ' || v.p[0] == '\t')) {
		v.p++;
		v.len--;
	}
	*rest = v;
	return true;
}

/* RFC 4566 6: a=rtpmap:<pt> <encoding name>/<clock rate>[/<encoding parameters>] */
static bool parse_rtpmap(struct sipcx_str v, struct sipcx_sdp_format *f)
{
	struct sipcx_str enc;
	uint64_t n;

	if (!sipcx__sdp_next_tok(&v, &enc) || !only_space(v))
		return false;
	const char *s1 = memchr(enc.p, '/', enc.len);
	if (!s1 || s1 == enc.p)
		return false;
	struct sipcx_str name = { enc.p, (size_t)(s1 - enc.p) };
	struct sipcx_str rate = { s1 + 1, enc.len - name.len - 1 };
	struct sipcx_str chans = SIPCX_STR_NULL;
	const char *s2 = memchr(rate.p, '/', rate.len);
	if (s2) {
		chans.p = s2 + 1;
		chans.len = rate.len - (size_t)(s2 + 1 - rate.p);
		rate.len = (size_t)(s2 - rate.p);
	}
	if (!sipcx__sdp_num(rate, UINT32_MAX, &n) || n == 0)
		return false;
	f->clock = (uint32_t)n;
	f->channels = 1;
	if (chans.p) {
		if (!sipcx__sdp_num(chans, 255, &n) || n == 0)
			return false;
		f->channels = (unsigned)n;
	}
	f->name = name;
	return true;
}

int sipcx_sdp_media_format(const struct sipcx_sdp_media *m, unsigned i,
                           struct sipcx_sdp_format *out)
{
	uint64_t n;

	if (!m || !out || !m->rtp || i >= m->nfmt || !sipcx__sdp_num(m->fmt[i], 127, &n))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->pt = (int)n;
	out->channels = 1;
	out->name.p = "";
	bool mapped = false, have_fmtp = false;
	for (unsigned k = 0; k < m->nattr; k++) {
		const struct sipcx_sdp_attr *a = &m->attr[k];
		struct sipcx_str rest;
		if (!mapped && sipcx_str_ieq_c(a->name, "rtpmap") &&
		    pt_prefix(a->value, out->pt, &rest)) {
			/* The first rtpmap for the type counts, even if it is malformed. */
			mapped = true;
			out->known = parse_rtpmap(rest, out);
			if (!out->known) {
				out->name.p = "";
				out->name.len = 0;
				out->clock = 0;
				out->channels = 1;
			}
		} else if (!have_fmtp && sipcx_str_ieq_c(a->name, "fmtp") &&
		           pt_prefix(a->value, out->pt, &rest)) {
			have_fmtp = true;
			out->fmtp = rest;
		}
	}
	if (!mapped) {
		const struct sipcx__sdp_static *st = sipcx__sdp_static_pt(out->pt);
		if (st) {
			out->name = sipcx_str_c(st->name);
			out->clock = st->clock;
			out->channels = st->channels;
			out->known = true;
		}
	}
	return 0;
}

const char *sipcx_sdp_dir_name(enum sipcx_sdp_dir dir)
{
	switch (dir) {
	case SIPCX_SDP_SENDONLY:
		return "sendonly";
	case SIPCX_SDP_RECVONLY:
		return "recvonly";
	case SIPCX_SDP_INACTIVE:
		return "inactive";
	case SIPCX_SDP_SENDRECV:
	default:
		return "sendrecv";
	}
}
