/* Fuzz target: SIP message parse (datagram and stream), check, cached accessors, print and reply. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/msg.h>

static void touch(struct sipcx_str s)
{
	/* Read every byte of a slice so ASan sees one that points out of bounds. */
	volatile unsigned char sink = 0;
	for (size_t i = 0; i < s.len; i++)
		sink ^= (unsigned char)s.p[i];
	(void)sink;
}

static void access_all(const struct sipcx_msg *m)
{
	const struct sipcx_via *via = sipcx_msg_via(m);
	if (via) {
		touch(via->host);
		touch(via->branch);
	}
	const struct sipcx_addr *a = sipcx_msg_from(m);
	if (a)
		touch(a->tag);
	a = sipcx_msg_to(m);
	if (a)
		touch(a->uri.raw);
	a = sipcx_msg_contact(m);
	if (a)
		touch(a->params);
	const struct sipcx_cseq *c = sipcx_msg_cseq(m);
	if (c)
		touch(c->method);
	const struct sipcx_uri *u = sipcx_msg_ruri(m);
	if (u)
		touch(u->host);
	(void)sipcx_msg_cseq_method(m);
	touch(sipcx_msg_call_id(m));
	touch(sipcx_msg_content_type(m));
	uint32_t v;
	size_t cl;
	(void)sipcx_msg_max_forwards(m, &v);
	(void)sipcx_msg_expires(m, &v);
	(void)sipcx_msg_content_length(m, &cl);
	const struct sipcx_hdr *h = sipcx_msg_hdr(m, SIPCX_HDR_RACK);
	struct sipcx_rack rack;
	if (h && sipcx_rack_parse(&rack, h->value) == 0)
		touch(rack.method);
	struct sipcx_session_expires se;
	if ((h = sipcx_msg_hdr(m, SIPCX_HDR_SESSION_EXPIRES)) != NULL &&
	    sipcx_session_expires_parse(&se, h->value) == 0)
		touch(se.params);
	for (size_t i = 0; i < m->hdr_count; i++) {
		touch(m->hdrs[i].name);
		touch(m->hdrs[i].value);
	}
	touch(m->body);
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_addr ca;
	for (int i = 0; i < 64 && sipcx_msg_contact_next(m, &it, &ca) != 0; i++)
		;
	it = (struct sipcx_msg_iter)SIPCX_MSG_ITER_INIT;
	struct sipcx_str val;
	for (int i = 0; i < 64 && sipcx_msg_value_next(m, SIPCX_HDR_VIA, &it, &val) == 1; i++)
		touch(val);
}

/*
 * The smuggling property: in an accepted message no header value holds a
 * control byte but HTAB, a quoted-pair's escaped byte, or the CRLF (or LF)
 * of a fold followed by SP/HTAB. A stack that ends lines at a bare CR
 * would otherwise read another header than we do.
 */
static void no_smuggling(const struct sipcx_msg *m)
{
	for (size_t i = 0; i < m->hdr_count; i++) {
		struct sipcx_str v = m->hdrs[i].value;
		for (size_t k = 0; k < v.len; k++) {
			unsigned char c = (unsigned char)v.p[k];
			if (c == '\r') {
				if (k + 2 >= v.len || v.p[k + 1] != '\n')
					abort();
			} else if (c == '\n') {
				if (k + 1 >= v.len || (v.p[k + 1] != ' ' && v.p[k + 1] != '\t'))
					abort();
			} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
				if (k == 0 || v.p[k - 1] != '\\')
					abort();
			}
		}
	}
}

static void run(const char *data, size_t size, unsigned flags)
{
	struct sipcx_msg *m = malloc(sizeof(*m));
	if (!m)
		return;
	int n = sipcx_msg_parse(m, data, size, flags);
	if (n > 0 && (size_t)n > size)
		abort();
	struct sipcx_msg_verdict v;
	enum sipcx_msg_action act = sipcx_msg_check(m, flags ? SIPCX_MSG_CHECK_UA : 0, &v);
	access_all(m);
	if (act == SIPCX_MSG_ACCEPT)
		no_smuggling(m);

	struct sipcx_buf b;
	sipcx_buf_init(&b);
	if (n > 0) {
		/* parse(print(m)) gives the same header count and body. */
		if (sipcx_msg_print(&b, m) == 0 && b.len <= SIPCX_MSG_MAX_SIZE) {
			struct sipcx_msg *r = malloc(sizeof(*r));
			if (r) {
				int k = sipcx_msg_parse(r, b.p, b.len, SIPCX_MSG_STREAM);
				/* Printing may add the Content-Length: one header too many. */
				if (k != (int)b.len && k != -E2BIG)
					abort();
				if (k > 0 && r->body.len != m->body.len)
					abort();
				free(r);
			}
		}
		struct sipcx_msg *h = NULL;
		if (sipcx_msg_new(&h, data, size, flags) == n) {
			access_all(h);
			sipcx_msg_unref(sipcx_msg_ref(h));
			sipcx_msg_unref(h);
		}
	}
	if (act == SIPCX_MSG_REJECT) {
		b.len = 0;
		(void)sipcx_msg_print_reply(&b, m, v.status, sipcx_str_c(v.reason), SIPCX_STR("t"),
		                            NULL, 0, SIPCX_STR_NULL);
	}
	struct sipcx_msg *d = NULL;
	if (m->raw.p && sipcx_msg_dup(&d, m) == 0) {
		(void)sipcx_msg_check(d, 0, NULL);
		access_all(d);
		sipcx_msg_unref(d);
	}
	sipcx_buf_free(&b);
	free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run((const char *)data, size, 0);
	run((const char *)data, size, SIPCX_MSG_STREAM);
	return 0;
}
