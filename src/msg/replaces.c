/* msg: the Replaces header value (RFC 3891 6.1). */
#include <errno.h>
#include <string.h>

#include "lex.h"

int sipcx_replaces_parse(struct sipcx_replaces *r, struct sipcx_str s)
{
	s = sipcx__trim(s);
	struct sipcx_str none = { s.p, 0 };
	r->call_id = r->to_tag = r->from_tag = none;
	r->early_only = false;
	if (s.len == 0)
		return -EBADMSG;
	const char *semi = memchr(s.p, ';', s.len);
	struct sipcx_str id = sipcx__trim(sipcx__span(s.p, semi ? semi : s.p + s.len));
	for (size_t i = 0; i < id.len; i++)
		if (sipcx__is(id.p[i], SIPCX__CC_WS))
			return -EBADMSG;
	if (id.len == 0 || !semi)
		return -EBADMSG;
	r->call_id = id;
	struct sipcx_str rest = sipcx__span(semi, s.p + s.len), n, v;
	bool to = false, from = false;
	int k;
	while ((k = sipcx_param_next(&rest, &n, &v)) == 1) {
		bool is_to = sipcx_str_ieq(n, SIPCX_STR("to-tag"));
		bool is_from = sipcx_str_ieq(n, SIPCX_STR("from-tag"));
		if (is_to || is_from) {
			if ((is_to ? to : from) || v.len == 0)
				return -EBADMSG;
			*(is_to ? &r->to_tag : &r->from_tag) = v;
			*(is_to ? &to : &from) = true;
		} else if (sipcx_str_ieq(n, SIPCX_STR("early-only"))) {
			r->early_only = true;
		}
	}
	return k == 0 && to && from ? 0 : -EBADMSG;
}
