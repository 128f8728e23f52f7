/* msg: refcounted heap messages and the cached header accessors (RFC 3261 8.1.1, 20). */
#include <errno.h>
#include <string.h>

#include "msg/lex.h"
#include "msg/msg.h"

/*
 * Heap messages: the struct and the message bytes in one allocation, the
 * bytes right after the struct. Only the used part of the header array is
 * copied.
 */

static void rebase(struct sipcx_str *s, const char *old, size_t len, const char *nbase)
{
	if (!s->p)
		return;
	if (s->p >= old && s->p <= old + len)
		s->p = nbase + (s->p - old);
	else
		*s = SIPCX_STR_NULL; /* cannot happen for a parsed message: be safe anyway */
}

int sipcx_msg_dup(struct sipcx_msg **out, const struct sipcx_msg *m)
{
	if (!out || !m || !m->raw.p)
		return -EINVAL;
	size_t len = m->raw.len;
	struct sipcx_msg *n = sipcx_malloc(sizeof(*n) + len + 1);
	if (!n)
		return -ENOMEM;
	char *bytes = (char *)(n + 1);
	memcpy(bytes, m->raw.p, len);
	bytes[len] = '\0'; /* not needed by the parser; it makes debugger views end */

	memcpy(n, m, offsetof(struct sipcx_msg, hdrs));
	memcpy(n->hdrs, m->hdrs, m->hdr_count * sizeof(m->hdrs[0]));
	n->err = m->err;
	n->err_offset = m->err_offset;
	n->err_what = m->err_what;
	*sipcx__mc(n) = *sipcx__mc(m);
	/* The cached values point into the old bytes: parse them again on demand. */
	sipcx__mc(n)->done = sipcx__mc(n)->bad = 0;
	sipcx__mc(n)->refs = 1;

	const char *old = m->raw.p;
	rebase(&n->method_str, old, len, bytes);
	rebase(&n->ruri, old, len, bytes);
	rebase(&n->reason, old, len, bytes);
	rebase(&n->version, old, len, bytes);
	rebase(&n->start_line, old, len, bytes);
	rebase(&n->raw, old, len, bytes);
	rebase(&n->body, old, len, bytes);
	for (size_t i = 0; i < n->hdr_count; i++) {
		rebase(&n->hdrs[i].name, old, len, bytes);
		rebase(&n->hdrs[i].value, old, len, bytes);
	}
	*out = n;
	return 0;
}

int sipcx_msg_new(struct sipcx_msg **out, const char *buf, size_t len, unsigned flags)
{
	if (!out)
		return -EINVAL;
	/* A datagram larger than the limit is refused before anything else. */
	if (!(flags & SIPCX_MSG_STREAM) && len > SIPCX_MSG_MAX_SIZE &&
	    len - sipcx_msg_skip_crlf(buf, len) > SIPCX_MSG_MAX_SIZE)
		return -EMSGSIZE;
	struct sipcx_msg tmp;
	int n = sipcx_msg_parse(&tmp, buf, len, flags);
	if (n < 0)
		return n;
	int r = sipcx_msg_dup(out, &tmp);
	return r < 0 ? r : n;
}

struct sipcx_msg *sipcx_msg_ref(struct sipcx_msg *m)
{
	if (m && sipcx__mc(m)->refs > 0)
		sipcx__mc(m)->refs++;
	return m;
}

void sipcx_msg_unref(struct sipcx_msg *m)
{
	if (!m || sipcx__mc(m)->refs <= 0)
		return;
	if (--sipcx__mc(m)->refs == 0)
		sipcx_free(m);
}

/*
 * Cached accessors. The cache lives in the message; a const message is
 * filled on first access (documented in msg.h: one thread at a time).
 */

static struct sipcx_msg *mut(const struct sipcx_msg *m)
{
	return (struct sipcx_msg *)m;
}

/* Run a parser once; remember whether it worked. */
#define CACHED(m, bit, parse_expr)                           \
	do {                                                 \
		if (!(sipcx__mc(m)->done & (bit))) {         \
			struct sipcx_msg *w_ = mut(m);       \
			sipcx__mc(w_)->done |= (bit);        \
			if (!(parse_expr))                   \
				sipcx__mc(w_)->bad |= (bit); \
		}                                            \
	} while (0)

static const struct sipcx_hdr *hdr1(const struct sipcx_msg *m, enum sipcx_hdr_id id)
{
	return sipcx__mc(m)->first[id] ? &m->hdrs[sipcx__mc(m)->first[id] - 1] : NULL;
}

/*
 * The top Via: the first via-parm of the first Via line, parsed in place
 * (no split first); where it ends is kept for the check of the others.
 */
static bool parse_via(struct sipcx_msg *m)
{
	const struct sipcx_hdr *h = hdr1(m, SIPCX_HDR_VIA);
	if (!h || !h->value.p)
		return false;
	const char *p = h->value.p, *end = p + h->value.len;
	while (p < end && (*p == ',' || sipcx__is(*p, SIPCX__CC_WS)))
		p++; /* empty list elements, as sipcx_hdr_split() skips them */
	if (p == end)
		return false;
	sipcx__mc(m)->via_next = sipcx__via_scan(&sipcx__mc(m)->via, p, end);
	return sipcx__mc(m)->via_next != NULL;
}

static bool parse_addr(struct sipcx_msg *m, enum sipcx_hdr_id id, struct sipcx_addr *a)
{
	const struct sipcx_hdr *h = hdr1(m, id);
	return h && sipcx_addr_parse(a, h->value) == 0;
}

/*
 * The first value of the first Contact line. The iterator state after it
 * is kept: sipcx_msg_contact_next() and the check start from the cache.
 */
static bool parse_contact(struct sipcx_msg *m)
{
	const struct sipcx_hdr *h = hdr1(m, SIPCX_HDR_CONTACT);
	sipcx__mc(m)->contact_r = 0;
	if (!h)
		return false;
	struct sipcx_str rest = h->value, v;
	if (!rest.p)
		rest.p = "";
	int r = sipcx_hdr_split(&rest, &v);
	sipcx__mc(m)->contact_r = r;
	sipcx__mc(m)->contact_it.idx = (size_t)(h - m->hdrs) + 1;
	sipcx__mc(m)->contact_it.rest = r == 1 ? rest : SIPCX_STR_NULL;
	return r == 1 && sipcx_addr_parse(&sipcx__mc(m)->contact, v) == 0;
}

static bool parse_cseq(struct sipcx_msg *m)
{
	const struct sipcx_hdr *h = hdr1(m, SIPCX_HDR_CSEQ);
	if (!h || sipcx_cseq_parse(&sipcx__mc(m)->cseq, h->value) != 0)
		return false;
	sipcx__mc(m)->cseq_method = sipcx_method_lookup(sipcx__mc(m)->cseq.method);
	return true;
}

static bool parse_ruri(struct sipcx_msg *m)
{
	return m->request && m->ruri.p && sipcx_uri_parse(&sipcx__mc(m)->ruri, m->ruri) == 0;
}

const struct sipcx_uri *sipcx_msg_ruri(const struct sipcx_msg *m)
{
	if (!m)
		return NULL;
	CACHED(m, SIPCX__C_RURI, parse_ruri(w_));
	return (sipcx__mc(m)->bad & SIPCX__C_RURI) ? NULL : &sipcx__mc(m)->ruri;
}

const struct sipcx_via *sipcx_msg_via(const struct sipcx_msg *m)
{
	if (!m)
		return NULL;
	CACHED(m, SIPCX__C_VIA, parse_via(w_));
	return (sipcx__mc(m)->bad & SIPCX__C_VIA) ? NULL : &sipcx__mc(m)->via;
}

const struct sipcx_addr *sipcx_msg_from(const struct sipcx_msg *m)
{
	if (!m)
		return NULL;
	CACHED(m, SIPCX__C_FROM, parse_addr(w_, SIPCX_HDR_FROM, &sipcx__mc(w_)->from));
	return (sipcx__mc(m)->bad & SIPCX__C_FROM) ? NULL : &sipcx__mc(m)->from;
}

const struct sipcx_addr *sipcx_msg_to(const struct sipcx_msg *m)
{
	if (!m)
		return NULL;
	CACHED(m, SIPCX__C_TO, parse_addr(w_, SIPCX_HDR_TO, &sipcx__mc(w_)->to));
	return (sipcx__mc(m)->bad & SIPCX__C_TO) ? NULL : &sipcx__mc(m)->to;
}

const struct sipcx_addr *sipcx_msg_contact(const struct sipcx_msg *m)
{
	if (!m)
		return NULL;
	CACHED(m, SIPCX__C_CONTACT, parse_contact(w_));
	return (sipcx__mc(m)->bad & SIPCX__C_CONTACT) ? NULL : &sipcx__mc(m)->contact;
}

const struct sipcx_cseq *sipcx_msg_cseq(const struct sipcx_msg *m)
{
	if (!m)
		return NULL;
	CACHED(m, SIPCX__C_CSEQ, parse_cseq(w_));
	return (sipcx__mc(m)->bad & SIPCX__C_CSEQ) ? NULL : &sipcx__mc(m)->cseq;
}

enum sipcx_method sipcx_msg_cseq_method(const struct sipcx_msg *m)
{
	return sipcx_msg_cseq(m) ? sipcx__mc(m)->cseq_method : SIPCX_METHOD_OTHER;
}

struct sipcx_str sipcx_msg_call_id(const struct sipcx_msg *m)
{
	const struct sipcx_hdr *h = m ? hdr1(m, SIPCX_HDR_CALL_ID) : NULL;
	return h ? h->value : SIPCX_STR_NULL;
}

struct sipcx_str sipcx_msg_content_type(const struct sipcx_msg *m)
{
	const struct sipcx_hdr *h = m ? hdr1(m, SIPCX_HDR_CONTENT_TYPE) : NULL;
	return h ? h->value : SIPCX_STR_NULL;
}

/* A number that fills the value; -ERANGE over max, -EBADMSG when not a number. */
static int get_uint(const struct sipcx_msg *m, enum sipcx_hdr_id id, uint64_t max, uint32_t *out)
{
	const struct sipcx_hdr *h = hdr1(m, id);
	if (!h)
		return -ENOENT;
	uint64_t v;
	int r = sipcx_str_to_u64(h->value, max, &v);
	if (r == -ERANGE)
		return -ERANGE;
	if (r < 0)
		return -EBADMSG;
	*out = (uint32_t)v;
	return 0;
}

int sipcx_msg_max_forwards(const struct sipcx_msg *m, uint32_t *out)
{
	if (!m || !out)
		return -EINVAL;
	if (sipcx__mc(m)->done & SIPCX__C_MAXFWD) {
		*out = sipcx__mc(m)->max_forwards;
		return 0;
	}
	/* RFC 3261 20.22: 0..255. Errors are not cached: they are rare and cheap to redo. */
	int r = get_uint(m, SIPCX_HDR_MAX_FORWARDS, 255, &sipcx__mc(m)->max_forwards);
	if (r == 0) {
		sipcx__mc(m)->done |= SIPCX__C_MAXFWD;
		*out = sipcx__mc(m)->max_forwards;
	}
	return r;
}

int sipcx_msg_expires(const struct sipcx_msg *m, uint32_t *out)
{
	if (!m || !out)
		return -EINVAL;
	if (sipcx__mc(m)->done & SIPCX__C_EXPIRES) {
		*out = sipcx__mc(m)->expires;
		return 0;
	}
	int r = get_uint(m, SIPCX_HDR_EXPIRES, UINT32_MAX, &sipcx__mc(m)->expires);
	if (r == 0) {
		sipcx__mc(m)->done |= SIPCX__C_EXPIRES;
		*out = sipcx__mc(m)->expires;
	}
	return r;
}

int sipcx_msg_content_length(const struct sipcx_msg *m, size_t *out)
{
	if (!m || !out)
		return -EINVAL;
	if (!sipcx__mc(m)->has_clen)
		return -ENOENT;
	*out = m->body.len;
	return 0;
}
