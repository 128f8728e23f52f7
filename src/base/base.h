/* base: private helpers shared by every layer. */
#ifndef SIPCX__BASE_H
#define SIPCX__BASE_H

#include <sipcx/base.h>

extern sipcx_log_cb *sipcx__log_cb;
extern enum sipcx_log_level sipcx__log_level;

void sipcx__log(enum sipcx_log_level level, const char *fmt, ...) SIPCX_PRINTF(2, 3);

/* Cheap check first, so disabled logging costs one branch and no formatting. */
#define SIPCX_LOG(level, ...)                                     \
	do {                                                      \
		if (sipcx__log_cb && (level) <= sipcx__log_level) \
			sipcx__log((level), __VA_ARGS__);         \
	} while (0)
#define SIPCX_DEBUG(...) SIPCX_LOG(SIPCX_LOG_DEBUG, __VA_ARGS__)
#define SIPCX_INFO(...) SIPCX_LOG(SIPCX_LOG_INFO, __VA_ARGS__)
#define SIPCX_WARN(...) SIPCX_LOG(SIPCX_LOG_WARN, __VA_ARGS__)
#define SIPCX_ERROR(...) SIPCX_LOG(SIPCX_LOG_ERROR, __VA_ARGS__)

#define SIPCX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * OpenSSL's text for its X509_V_ERR_* code n (sipcx_strerror() of
 * SIPCX_ETLS_VERIFY - n): static, never NULL. Defined by the TLS transport
 * (transport/tls.c), the one layer that speaks OpenSSL, so that base
 * includes none of its headers.
 */
const char *sipcx__tls_verify_reason(int n);

/*
 * base64 (RFC 4648 4) and base64url (5), b64.c. Encode n bytes into out
 * (4 * ceil(n / 3) + 1 bytes of room), '=' padded when pad; returns the
 * length written before the NUL. Decode exactly want bytes from s (without
 * its padding): false for another length, a character outside alphabet, or
 * spare bits that are not 0.
 */
extern const char sipcx__b64_std[65];
extern const char sipcx__b64_url[65];
size_t sipcx__b64_encode(const char *alphabet, bool pad, const uint8_t *in, size_t n, char *out);
bool sipcx__b64_decode(const char *alphabet, struct sipcx_str s, uint8_t *out, size_t want);

static inline char sipcx__lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/*
 * n random bytes from the calling thread's pool (the kernel's CSPRNG, drawn 240 bytes at a
 * time): for identifiers and jitter drawn per call (SSRC, sequence and timestamp bases, SDP
 * session ids, RTCP intervals), not for keys, which take sipcx_random_bytes() directly.
 */
void sipcx__random_pool(void *out, size_t n);

/*
 * FNV-1a, the one hash of the library's tables and keys: short keys, no
 * seed needed (branches, tags and Call-IDs are random already). Chain calls
 * to hash several fields; mix the result (sipcx__hash_mix) before taking
 * its low bits for a table of 2^k buckets.
 */
#define SIPCX__FNV32_INIT 2166136261u
#define SIPCX__FNV64_INIT 14695981039346656037ull

static inline uint32_t sipcx__fnv32(uint32_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 16777619u;
	}
	return h;
}

static inline uint32_t sipcx__fnv32_str(uint32_t h, struct sipcx_str s)
{
	return sipcx__fnv32(h, s.p, s.len);
}

static inline uint32_t sipcx__fnv32_u32(uint32_t h, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		h ^= (v >> (8 * i)) & 0xffu;
		h *= 16777619u;
	}
	return h;
}

static inline uint64_t sipcx__fnv64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 1099511628211ull;
	}
	return h;
}

static inline uint64_t sipcx__fnv64_str(uint64_t h, struct sipcx_str s)
{
	return sipcx__fnv64(h, s.p, s.len);
}

/*
 * FNV-1a leaves the low bits, the ones a table of 2^k buckets uses,
 * poorly mixed for keys that differ in a few characters (a load
 * generator's "1-pid@host", "2-pid@host", ...): chains of 20 where 1 or 2
 * are due. The murmur3 finalizer spreads every bit over all of them.
 */
static inline uint32_t sipcx__hash_mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

#endif
