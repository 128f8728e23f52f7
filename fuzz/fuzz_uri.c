/* Fuzz target: URI, name-addr, Via, CSeq, Replaces, hdr_split, params, URI headers, escape and unescape (RFC 3261 19.1, 20, 25.1; RFC 3891). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/header.h>
#include <sipcx/uri.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *base_p;
static size_t base_len;

/* Every slice a parser returns must lie inside the input (zero-copy, no stray pointers). */
static void inside(struct sipcx_str s)
{
	if (s.len == 0)
		return;
	if (s.p < base_p || s.p + s.len > base_p + base_len)
		abort();
}

static void check_uri(const struct sipcx_uri *u)
{
	inside(u->scheme_str);
	inside(u->user);
	inside(u->password);
	inside(u->host);
	inside(u->params);
	inside(u->headers);
	inside(u->raw);
	/* Equality is reflexive for anything the parser accepted. */
	if (!sipcx_uri_equal(u, u))
		abort();
	char out[64];
	size_t n;
	if (sipcx_uri_unescape(u->user, out, sizeof(out), &n) == 0 && n > u->user.len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipcx_str s = { (const char *)data, size }, rest, item, name, value;
	base_p = s.p;
	base_len = size;

	struct sipcx_uri u;
	if (sipcx_uri_parse(&u, s) == 0) {
		check_uri(&u);
		struct sipcx_str v;
		sipcx_uri_param(&u, "transport", &v);
		sipcx_uri_param(&u, "lr", &v);
	}

	struct sipcx_addr a;
	if (sipcx_addr_parse(&a, s) == 0) {
		inside(a.display);
		inside(a.params);
		inside(a.tag);
		inside(a.raw);
		if (!a.star)
			check_uri(&a.uri);
	}

	struct sipcx_via v;
	if (sipcx_via_parse(&v, s) == 0) {
		inside(v.protocol);
		inside(v.transport);
		inside(v.host);
		inside(v.branch);
		inside(v.received);
		inside(v.maddr);
		inside(v.params);
		if (v.ttl > 255 || v.rport > 65535 || v.rport < -1)
			abort();
	}

	struct sipcx_cseq c;
	if (sipcx_cseq_parse(&c, s) == 0) {
		inside(c.method);
		if (c.num > 0x7fffffffu || c.method.len == 0)
			abort();
	}

	/* Each element is parsed the way the message layer does: split, then parse. */
	rest = s;
	int r;
	size_t guard = 0;
	while ((r = sipcx_hdr_split(&rest, &item)) == 1) {
		inside(item);
		if (item.len == 0 || ++guard > size)
			abort(); /* empty items are skipped; every call makes progress */
		sipcx_addr_parse(&a, item);
		sipcx_via_parse(&v, item);
	}

	rest = s;
	guard = 0;
	while ((r = sipcx_param_next(&rest, &name, &value)) == 1) {
		inside(name);
		inside(value);
		if (name.len == 0 || ++guard > size)
			abort();
	}
	sipcx_param_get(s, "tag", &value);

	struct sipcx_replaces rp;
	if (sipcx_replaces_parse(&rp, s) == 0) {
		inside(rp.call_id);
		inside(rp.to_tag);
		inside(rp.from_tag);
		if (!rp.call_id.len || !rp.to_tag.len || !rp.from_tag.len)
			abort();
	}

	char out[256];
	size_t n;
	if (sipcx_uri_unescape(s, out, sizeof(out), &n) == 0 && n > size)
		abort();
	/* escape then unescape is the identity, and an escaped value splits no URI header */
	char esc[768], back[256];
	size_t m;
	if (size <= sizeof(back) && sipcx_uri_escape(s, esc, sizeof(esc), &n) == 0) {
		if (memchr(esc, ';', n) || memchr(esc, '&', n) || memchr(esc, '=', n))
			abort();
		if (sipcx_uri_unescape((struct sipcx_str){ esc, n }, back, sizeof(back), &m) != 0 ||
		    m != size || (size && memcmp(back, data, size)))
			abort();
	}
	if (sipcx_uri_parse(&u, s) == 0)
		sipcx_uri_header(&u, "replaces", &value);
	return 0;
}
