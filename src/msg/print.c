/* msg: printing requests and responses, and responses straight from a request (RFC 3261 7, 8.2.6, 20.14). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "msg/msg.h"

static bool token_ok(struct sipcx_str s)
{
	if (!s.p || s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!sipcx__is_token((unsigned char)s.p[i]))
			return false;
	return true;
}

/*
 * A value may hold line folds (CRLF or LF, then SP/HTAB) as parsed values do;
 * any other CR or LF would end the header early: refuse it (header injection).
 */
static bool value_ok(struct sipcx_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (c == '\r') {
			if (i + 1 >= s.len || s.p[i + 1] != '\n')
				return false;
			continue;
		}
		if (c == '\n' && (i + 1 >= s.len || (s.p[i + 1] != ' ' && s.p[i + 1] != '\t')))
			return false;
	}
	return true;
}

static bool ruri_ok(struct sipcx_str s)
{
	if (!s.p || s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if ((unsigned char)s.p[i] <= ' ' || s.p[i] == 0x7f)
			return false;
	return true;
}

static void put_num(struct sipcx_buf *b, size_t n)
{
	char tmp[24];
	int k = snprintf(tmp, sizeof(tmp), "%zu", n);
	sipcx_buf_append(b, tmp, (size_t)k);
}

static int put_hdr(struct sipcx_buf *b, enum sipcx_hdr_id id, struct sipcx_str name,
                   struct sipcx_str value)
{
	if (name.len == 0)
		name = sipcx_str_c(sipcx_hdr_name(id));
	if (!token_ok(name) || !value_ok(value))
		return -EINVAL;
	sipcx_buf_append_str(b, name);
	sipcx_buf_append(b, ": ", 2);
	sipcx_buf_append_str(b, value);
	sipcx_buf_append(b, "\r\n", 2);
	return 0;
}

/*
 * Headers, Content-Length (automatic: at the place of the first one given,
 * or last), the empty line and the body.
 */
static int put_tail(struct sipcx_buf *b, const struct sipcx_hdr *hdrs, size_t n, bool have_clen,
                    struct sipcx_str body)
{
	if (n && !hdrs)
		return -EINVAL;
	if (body.len && !body.p)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		const struct sipcx_hdr *h = &hdrs[i];
		enum sipcx_hdr_id id = h->id;
		if (id == SIPCX_HDR_OTHER)
			id = sipcx_hdr_lookup(h->name.p, h->name.len);
		if (id == SIPCX_HDR_CONTENT_LENGTH) {
			if (have_clen)
				continue;
			have_clen = true;
			struct sipcx_str name = h->name.len ? h->name : SIPCX_STR("Content-Length");
			if (!token_ok(name))
				return -EINVAL;
			sipcx_buf_append_str(b, name);
			sipcx_buf_append(b, ": ", 2);
			put_num(b, body.len);
			sipcx_buf_append(b, "\r\n", 2);
			continue;
		}
		if (id == SIPCX_HDR_OTHER && h->name.len == 0)
			return -EINVAL;
		int r = put_hdr(b, id, h->name, h->value);
		if (r < 0)
			return r;
	}
	if (!have_clen) {
		sipcx_buf_append(b, "Content-Length: ", 16);
		put_num(b, body.len);
		sipcx_buf_append(b, "\r\n", 2);
	}
	sipcx_buf_append(b, "\r\n", 2);
	if (body.len)
		sipcx_buf_append(b, body.p, body.len);
	return sipcx_buf_err(b);
}

static int put_request(struct sipcx_buf *b, struct sipcx_str method, struct sipcx_str ruri,
                       struct sipcx_str version, const struct sipcx_hdr *hdrs, size_t n,
                       struct sipcx_str body)
{
	if (!b || !token_ok(method) || !ruri_ok(ruri))
		return -EINVAL;
	if (sipcx_buf_err(b))
		return sipcx_buf_err(b);
	sipcx_buf_append_str(b, method);
	sipcx_buf_append(b, " ", 1);
	sipcx_buf_append_str(b, ruri);
	sipcx_buf_append(b, " ", 1);
	sipcx_buf_append_str(b, version);
	sipcx_buf_append(b, "\r\n", 2);
	return put_tail(b, hdrs, n, false, body);
}

int sipcx_msg_print_request(struct sipcx_buf *b, struct sipcx_str method, struct sipcx_str ruri,
                            const struct sipcx_hdr *hdrs, size_t n, struct sipcx_str body)
{
	return put_request(b, method, ruri, SIPCX_STR("SIP/2.0"), hdrs, n, body);
}

static int put_status(struct sipcx_buf *b, struct sipcx_str version, uint16_t status,
                      struct sipcx_str reason)
{
	if (!b || status < 100 || status > 699)
		return -EINVAL;
	if (!reason.p)
		reason = sipcx_str_c(sipcx_msg_reason_phrase(status));
	/* Reason-Phrase: anything but CR and LF (RFC 3261 25.1). */
	if (memchr(reason.p, '\r', reason.len) || memchr(reason.p, '\n', reason.len))
		return -EINVAL;
	if (sipcx_buf_err(b))
		return sipcx_buf_err(b);
	char code[5] = " 000 ";
	code[1] = (char)('0' + status / 100);
	code[2] = (char)('0' + status / 10 % 10);
	code[3] = (char)('0' + status % 10);
	sipcx_buf_append_str(b, version);
	sipcx_buf_append(b, code, 5);
	sipcx_buf_append_str(b, reason);
	sipcx_buf_append(b, "\r\n", 2);
	return 0;
}

int sipcx_msg_print_response(struct sipcx_buf *b, uint16_t status, struct sipcx_str reason,
                             const struct sipcx_hdr *hdrs, size_t n, struct sipcx_str body)
{
	int r = put_status(b, SIPCX_STR("SIP/2.0"), status, reason);
	if (r < 0)
		return r;
	return put_tail(b, hdrs, n, false, body);
}

int sipcx_msg_print(struct sipcx_buf *b, const struct sipcx_msg *m)
{
	if (!b || !m || !m->start_line.p || m->err)
		return -EINVAL;
	/* The version as written: a re-print keeps what a check judged (505). */
	if (m->request)
		return put_request(b, m->method_str, m->ruri, m->version, m->hdrs, m->hdr_count,
		                   m->body);
	int r = put_status(b, m->version, m->status, m->reason);
	if (r < 0)
		return r;
	return put_tail(b, m->hdrs, m->hdr_count, false, m->body);
}

/* Copy every header line of an id from the request, as bytes, under its canonical name. */
static int copy_hdrs(struct sipcx_buf *b, const struct sipcx_msg *req, enum sipcx_hdr_id id,
                     bool all)
{
	for (const struct sipcx_hdr *h = sipcx_msg_hdr(req, id); h;
	     h = sipcx_msg_hdr_next(req, h)) {
		int r = put_hdr(b, id, SIPCX_STR_NULL, h->value);
		if (r < 0 || !all)
			return r;
	}
	return 0;
}

int sipcx_msg_print_reply(struct sipcx_buf *b, const struct sipcx_msg *req, uint16_t status,
                          struct sipcx_str reason, struct sipcx_str to_tag,
                          const struct sipcx_hdr *hdrs, size_t n, struct sipcx_str body)
{
	if (!req || !req->request || !req->start_line.p)
		return -EINVAL;
	if (to_tag.len && !token_ok(to_tag))
		return -EINVAL;
	int r = put_status(b, SIPCX_STR("SIP/2.0"), status, reason);
	if (r < 0)
		return r;
	/* RFC 3261 8.2.6.2: Via (all, in order), From, To, Call-ID and CSeq copied. */
	if ((r = copy_hdrs(b, req, SIPCX_HDR_VIA, true)) < 0 ||
	    (r = copy_hdrs(b, req, SIPCX_HDR_FROM, false)) < 0)
		return r;
	const struct sipcx_hdr *to = sipcx_msg_hdr(req, SIPCX_HDR_TO);
	if (to) {
		if (!value_ok(to->value))
			return -EINVAL;
		sipcx_buf_append(b, "To: ", 4);
		sipcx_buf_append_str(b, to->value);
		/* The UAS adds its tag unless the request already had one (in-dialog). */
		const struct sipcx_addr *a = sipcx_msg_to(req);
		if (to_tag.len && !(a && a->tag.len)) {
			sipcx_buf_append(b, ";tag=", 5);
			sipcx_buf_append_str(b, to_tag);
		}
		sipcx_buf_append(b, "\r\n", 2);
	}
	if ((r = copy_hdrs(b, req, SIPCX_HDR_CALL_ID, false)) < 0 ||
	    (r = copy_hdrs(b, req, SIPCX_HDR_CSEQ, false)) < 0)
		return r;
	/* RFC 3261 8.2.6.1: a 100 echoes the request's Timestamp. */
	if (status == 100 && (r = copy_hdrs(b, req, SIPCX_HDR_TIMESTAMP, false)) < 0)
		return r;
	return put_tail(b, hdrs, n, false, body);
}

static bool no_break(struct sipcx_str s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == '\r' || s.p[i] == '\n' || s.p[i] == '\0')
			return false;
	return true;
}

int sipcx__hdrs_dup(const struct sipcx_hdr *in, size_t n, size_t room, struct sipcx_hdr **out,
                    char **mem)
{
	size_t bytes = 0;
	*out = NULL;
	*mem = NULL;
	if (n && !in)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if ((!in[i].value.p && in[i].value.len) || (!in[i].name.p && in[i].name.len) ||
		    !no_break(in[i].value) || !no_break(in[i].name))
			return -EINVAL;
		bytes += in[i].name.len + in[i].value.len + 2;
	}
	if (!n && !room)
		return 0;
	struct sipcx_hdr *h = sipcx_calloc(n + room, sizeof(*h));
	char *p = bytes ? sipcx_malloc(bytes) : NULL;
	if (!h || (bytes && !p)) {
		sipcx_free(h);
		sipcx_free(p);
		return -ENOMEM;
	}
	*out = h;
	*mem = p;
	for (size_t i = 0; i < n; i++) {
		h[i].id = in[i].id;
		if (in[i].name.len)
			memcpy(p, in[i].name.p, in[i].name.len);
		h[i].name = (struct sipcx_str){ in[i].name.len ? p : NULL, in[i].name.len };
		p += in[i].name.len + 1;
		if (in[i].value.len)
			memcpy(p, in[i].value.p, in[i].value.len);
		h[i].value = (struct sipcx_str){ p, in[i].value.len };
		p += in[i].value.len + 1;
	}
	return 0;
}
