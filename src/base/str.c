/* base: string slices. */
#include <errno.h>
#include <string.h>

#include "base.h"

struct sipcx_str sipcx_str_c(const char *s)
{
	struct sipcx_str r = { s ? s : "", s ? strlen(s) : 0 };
	return r;
}

bool sipcx_str_eq(struct sipcx_str a, struct sipcx_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool sipcx_str_ieq(struct sipcx_str a, struct sipcx_str b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (sipcx__lower(a.p[i]) != sipcx__lower(b.p[i]))
			return false;
	return true;
}

bool sipcx_str_ieq_c(struct sipcx_str a, const char *c)
{
	return sipcx_str_ieq(a, sipcx_str_c(c));
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct sipcx_str sipcx_str_trim(struct sipcx_str s)
{
	while (s.len && is_ws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && is_ws(s.p[s.len - 1]))
		s.len--;
	return s;
}

int sipcx_str_to_u64(struct sipcx_str s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s.len == 0)
		return -EINVAL;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';
		if (d > 9)
			return -EINVAL;
		/* Overflow checked before it happens: 4294967328 is not 32. */
		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

char *sipcx_str_dup(struct sipcx_str s)
{
	char *r = sipcx_malloc(s.len + 1);
	if (!r)
		return NULL;
	if (s.len)
		memcpy(r, s.p, s.len);
	r[s.len] = '\0';
	return r;
}
