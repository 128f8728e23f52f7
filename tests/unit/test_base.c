/* Unit tests of the base layer: slices, integers, buffers, errors, allocator, tokens. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "testutil.h"

static void test_str(void **state)
{
	(void)state;
	assert_true(sipcx_str_eq(SIPCX_STR("abc"), sipcx_str_c("abc")));
	assert_false(sipcx_str_eq(SIPCX_STR("abc"), SIPCX_STR("abd")));
	assert_true(sipcx_str_ieq(SIPCX_STR("Via"), SIPCX_STR("vIA")));
	assert_false(sipcx_str_ieq_c(SIPCX_STR("Via"), "Vias"));
	struct sipcx_str t = sipcx_str_trim(SIPCX_STR(" \t x y \r\n"));
	assert_int_equal(t.len, 3);
	assert_memory_equal(t.p, "x y", 3);
	assert_int_equal(sipcx_str_trim(SIPCX_STR("   ")).len, 0);
	/* NUL is data */
	assert_false(sipcx_str_eq(SIPCX_STR("a\0b"), SIPCX_STR("a\0c")));
}

static void test_u64(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_int_equal(sipcx_str_to_u64(SIPCX_STR("0004294967295"), UINT32_MAX, &v), 0);
	assert_int_equal(v, 4294967295u);
	assert_int_equal(sipcx_str_to_u64(SIPCX_STR("4294967296"), UINT32_MAX, &v), -ERANGE);
	assert_int_equal(sipcx_str_to_u64(SIPCX_STR("4294967328"), UINT32_MAX, &v), -ERANGE);
	assert_int_equal(sipcx_str_to_u64(SIPCX_STR("18446744073709551615"), UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(sipcx_str_to_u64(SIPCX_STR("18446744073709551616"), UINT64_MAX, &v),
	                 -ERANGE);
	assert_int_equal(sipcx_str_to_u64(SIPCX_STR(""), 10, &v), -EINVAL);
	assert_int_equal(sipcx_str_to_u64(SIPCX_STR("-1"), 10, &v), -EINVAL);
	assert_int_equal(sipcx_str_to_u64(SIPCX_STR("1 "), 10, &v), -EINVAL);
	assert_int_equal(sipcx_str_to_u64(SIPCX_STR("70"), 70, &v), 0);
	assert_int_equal(sipcx_str_to_u64(SIPCX_STR("71"), 70, &v), -ERANGE);
}

static void test_buf(void **state)
{
	(void)state;
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	for (int i = 0; i < 1000; i++)
		sipcx_buf_printf(&b, "%d,", i);
	sipcx_buf_puts(&b, "end");
	assert_int_equal(sipcx_buf_err(&b), 0);
	assert_memory_equal(b.p, "0,1,2,", 6);
	assert_memory_equal(b.p + b.len - 7, "999,end", 7);
	size_t len = 0;
	char *s = sipcx_buf_detach(&b, &len);
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	assert_null(b.p);
	sipcx_free(s);
}

static void test_buf_oom_sticky(void **state)
{
	(void)state;
	tu_alloc_install();
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	tu_alloc_fail_at(1);
	sipcx_buf_puts(&b, "hello");
	assert_true(tu_alloc_failed());
	sipcx_buf_puts(&b, "world"); /* must stay failed, not half-written */
	assert_int_equal(sipcx_buf_err(&b), -ENOMEM);
	assert_null(sipcx_buf_detach(&b, NULL));
	assert_int_equal(tu_alloc_live(), 0);
	tu_alloc_uninstall();
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(sipcx_strerror(0), "success");
	assert_string_equal(sipcx_strerror(SIPCX_EAUTH), "authentication failed");
	assert_string_equal(sipcx_strerror(SIPCX_ERESOLVE), "cannot resolve host");
	assert_string_equal(sipcx_strerror(-ETIMEDOUT), strerror(ETIMEDOUT));
	assert_string_equal(sipcx_strerror(-99999), "unknown error");
}

static void test_token(void **state)
{
	(void)state;
	char a[17], b[17];
	sipcx_random_token(a, 16);
	sipcx_random_token(b, 16);
	assert_int_equal(strlen(a), 16);
	assert_string_not_equal(a, b);
	for (int i = 0; i < 16; i++)
		assert_non_null(strchr("0123456789abcdefghijklmnopqrstuvwxyz", a[i]));
	uint64_t t0 = sipcx_now_us(), t1 = sipcx_now_us();
	assert_true(t1 >= t0);
}

static int log_calls;
static char log_last[64];
static void count_log(enum sipcx_log_level level, const char *msg, void *arg)
{
	(void)level;
	*(int *)arg += 1;
	snprintf(log_last, sizeof(log_last), "%s", msg);
}

static void test_log(void **state)
{
	(void)state;
	log_calls = 0;
	sipcx_log_set(count_log, SIPCX_LOG_INFO, &log_calls);
	SIPCX_INFO("hello %d", 42);
	SIPCX_DEBUG("not shown %d", 1); /* above the level set */
	assert_int_equal(log_calls, 1);
	assert_string_equal(log_last, "hello 42");
	sipcx_log_set(NULL, SIPCX_LOG_DEBUG, NULL);
	SIPCX_ERROR("dropped");
	assert_int_equal(log_calls, 1);
}

static void test_strdup_oom(void **state)
{
	(void)state;
	tu_alloc_install();
	tu_alloc_fail_at(1);
	assert_null(sipcx_strdup("x"));
	char *s = sipcx_strdup("xyz");
	assert_string_equal(s, "xyz");
	sipcx_free(s);
	assert_int_equal(tu_alloc_live(), 0);
	tu_alloc_uninstall();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str),        cmocka_unit_test(test_u64),
		cmocka_unit_test(test_buf),        cmocka_unit_test(test_buf_oom_sticky),
		cmocka_unit_test(test_strerror),   cmocka_unit_test(test_token),
		cmocka_unit_test(test_strdup_oom), cmocka_unit_test(test_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
