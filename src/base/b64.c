/* base: base64 and base64url (RFC 4648 4, 5), for SDES keys and digest nonces. */
#include <string.h>

#include "base.h"

const char sipcx__b64_std[65] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const char sipcx__b64_url[65] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t sipcx__b64_encode(const char *alphabet, bool pad, const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		size_t left = n - i;
		uint32_t v = (uint32_t)in[i] << 16;
		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		if (left > 1)
			out[o++] = alphabet[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (left > 2)
			out[o++] = alphabet[v & 63];
		else if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

bool sipcx__b64_decode(const char *alphabet, struct sipcx_str s, uint8_t *out, size_t want)
{
	if (s.len != (want * 4 + 2) / 3)
		return false;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < s.len; i++) {
		const char *p = s.p[i] ? memchr(alphabet, s.p[i], 64) : NULL;
		if (!p)
			return false;
		acc = (acc << 6) | (uint32_t)(p - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* The spare bits of the last character must be 0: one spelling per value. */
	return o == want && (acc & ((1u << bits) - 1)) == 0;
}
