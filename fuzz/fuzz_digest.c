/* Fuzz target: authentication challenge / credentials parameters (RFC 3261 25.1, RFC 7616). */
#include <stdint.h>
#include <stdlib.h>

#include <sipcx/header.h>
#include <sipcx/uri.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *base_p;
static size_t base_len;

static void inside(struct sipcx_str s)
{
	if (s.len && (s.p < base_p || s.p + s.len > base_p + base_len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipcx_str s = { (const char *)data, size };
	struct sipcx_digest_params d;
	base_p = s.p;
	base_len = size;

	if (sipcx_digest_params_parse(&d, s) == 0) {
		const struct sipcx_str all[] = { d.scheme,    d.realm,    d.nonce,  d.opaque,
			                         d.algorithm, d.qop,      d.domain, d.username,
			                         d.uri,       d.response, d.cnonce, d.nc,
			                         d.userhash,  d.params };
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			inside(all[i]);
		if (d.scheme.len == 0)
			abort();
	}
	return 0;
}
