/* Unit tests of the RFC 3263 ordering rules: SRV priority and weighted choice (RFC 2782) with a seeded random, NAPTR filtering, answer TTLs. */
#include <stdint.h>
#include <string.h>

#include "testutil.h"
#include "ua/dns.h"

static uint32_t xorshift(void *arg)
{
	uint32_t *s = arg;
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static uint32_t zero(void *arg)
{
	(void)arg;
	return 0;
}

static struct sipcx__srv srv(uint16_t prio, uint16_t weight, uint16_t port, const char *t)
{
	struct sipcx__srv s = { prio, weight, port, "" };
	strcpy(s.target, t);
	return s;
}

static void test_srv_priority(void **state)
{
	(void)state;
	struct sipcx__srv v[4] = { srv(20, 10, 2, "b"), srv(10, 10, 1, "a"), srv(30, 0, 3, "c"),
		                   srv(5, 0, 4, "d") };
	uint32_t seed = 1;
	sipcx__dns_srv_order(v, 4, xorshift, &seed);
	assert_string_equal(v[0].target, "d");
	assert_string_equal(v[1].target, "a");
	assert_string_equal(v[2].target, "b");
	assert_string_equal(v[3].target, "c");
}

static void test_srv_weights(void **state)
{
	(void)state;
	uint32_t seed = 12345;
	int first_heavy = 0, first_zero = 0, heavy_second = 0;
	const int N = 20000;
	for (int i = 0; i < N; i++) {
		struct sipcx__srv v[4] = { srv(1, 10, 1, "light"), srv(1, 30, 2, "heavy"),
			                   srv(1, 0, 3, "zero"), srv(0, 50, 9, "top") };
		sipcx__dns_srv_order(v, 4, xorshift, &seed);
		assert_string_equal(v[0].target, "top"); /* lower priority value always first */
		if (!strcmp(v[1].target, "heavy"))
			first_heavy++;
		if (!strcmp(v[1].target, "zero"))
			first_zero++;
		/* every record appears once */
		int seen = 0;
		for (int k = 1; k < 4; k++)
			seen |= !strcmp(v[k].target, "light")   ? 1
			        : !strcmp(v[k].target, "heavy") ? 2
			        : !strcmp(v[k].target, "zero")  ? 4
			                                        : 8;
		assert_int_equal(seen, 7);
		if (!strcmp(v[2].target, "heavy"))
			heavy_second++;
	}
	/* 30 of 40: three quarters first; weight 0 only when the draw is 0 (1 in 41). */
	assert_in_range(first_heavy, N * 70 / 100, N * 80 / 100);
	assert_in_range(first_zero, 1, N * 5 / 100);
	assert_true(heavy_second > 0);
	/* A draw of 0 takes the weight-0 record first, then the first of the rest. */
	struct sipcx__srv w[3] = { srv(1, 10, 1, "a"), srv(1, 0, 2, "z"), srv(1, 5, 3, "b") };
	sipcx__dns_srv_order(w, 3, zero, NULL);
	assert_string_equal(w[0].target, "z");
	assert_string_equal(w[1].target, "a");
	assert_string_equal(w[2].target, "b");
}

static struct sipcx__naptr naptr(uint16_t order, uint16_t pref, const char *flags,
                                 const char *service, const char *repl)
{
	struct sipcx__naptr n = { .order = order, .preference = pref };
	strcpy(n.flags, flags);
	strcpy(n.service, service);
	strcpy(n.replacement, repl);
	return n;
}

static void test_naptr_pick(void **state)
{
	(void)state;
	unsigned udp_tcp = 1u << SIPCX_TP_UDP | 1u << SIPCX_TP_TCP;
	struct sipcx__naptr v[6] = {
		naptr(50, 50, "s", "SIP+D2U", "_sip._udp.ex"),
		naptr(10, 60, "S", "sip+d2t", "_sip._tcp.ex"),
		naptr(10, 50, "s", "SIPS+D2T", "_sips._tcp.ex"),
		naptr(5, 5, "u", "E2U+sip", "!^.*$!sip:x@ex!"), /* ENUM-style: not ours */
		naptr(5, 5, "s", "SIP+D2S", "_sip._sctp.ex"),   /* SCTP: not a transport we have */
		naptr(1, 1, "s", "SIP+D2U", ""),                /* no replacement */
	};
	struct sipcx__naptr c[6];
	memcpy(c, v, sizeof(v));
	size_t n = sipcx__dns_naptr_pick(c, 6, udp_tcp, false);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].replacement, "_sip._tcp.ex");
	assert_int_equal(c[0].proto, SIPCX_TP_TCP);
	assert_string_equal(c[1].replacement, "_sip._udp.ex");
	assert_int_equal(c[1].proto, SIPCX_TP_UDP);

	memcpy(c, v, sizeof(v));
	n = sipcx__dns_naptr_pick(c, 6, udp_tcp | 1u << SIPCX_TP_TLS, false);
	assert_int_equal(n, 3);
	assert_string_equal(c[0].replacement, "_sips._tcp.ex"); /* order 10, preference 50 */
	assert_int_equal(c[0].proto, SIPCX_TP_TLS);

	/* sips: TLS records only (RFC 3263 4.1). */
	memcpy(c, v, sizeof(v));
	n = sipcx__dns_naptr_pick(c, 6, udp_tcp | 1u << SIPCX_TP_TLS, true);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].replacement, "_sips._tcp.ex");
	memcpy(c, v, sizeof(v));
	assert_int_equal(sipcx__dns_naptr_pick(c, 6, udp_tcp, true), 0);

	assert_string_equal(sipcx__dns_srv_prefix(SIPCX_TP_UDP), "_sip._udp");
	assert_string_equal(sipcx__dns_srv_prefix(SIPCX_TP_TCP), "_sip._tcp");
	assert_string_equal(sipcx__dns_srv_prefix(SIPCX_TP_TLS), "_sips._tcp");
	assert_null(sipcx__dns_srv_prefix(SIPCX_TP_NONE));
}

static void test_min_ttl(void **state)
{
	(void)state;
	/* One question "a.b" A IN, two answers (a pointer to the name) with TTLs 300 and 60. */
	static const unsigned char m[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0,  0, 0,             /* header */
		1,    'a',  1,    'b',  0, 0, 1, 0, 1,                       /* question */
		0xc0, 12,   0,    1,    0, 1, 0, 0, 1, 44, 0, 4, 1, 2, 3, 4, /* A, ttl 300 */
		0xc0, 12,   0,    1,    0, 1, 0, 0, 0, 60, 0, 4, 5, 6, 7, 8, /* A, ttl 60 */
	};
	assert_int_equal(sipcx__dns_min_ttl(m, sizeof(m)), 60);
	/* Cut anywhere: malformed, 0 (nothing is cached). */
	for (size_t cut = 0; cut < sizeof(m); cut++)
		assert_int_equal(sipcx__dns_min_ttl(m, cut), 0);
	/* No answers: 0. */
	unsigned char q[21];
	memcpy(q, m, sizeof(q));
	q[7] = 0;
	assert_int_equal(sipcx__dns_min_ttl(q, sizeof(q)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_priority),
		cmocka_unit_test(test_srv_weights),
		cmocka_unit_test(test_naptr_pick),
		cmocka_unit_test(test_min_ttl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
