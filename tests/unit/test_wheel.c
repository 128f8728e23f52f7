/* Unit tests of the timer wheel in virtual time: exact firing, removal, re-arming in fire(), next(), and a random run against a plain model. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "ua/wheel.h"

struct item {
	struct sipcx__wheel_entry e; /* first: fire() gets it back as the item */
	uint64_t want_ms;            /* the model: SIPCX__WHEEL_NEVER when not set */
	uint64_t fired_at;
	int fired;
	int rearm_ms; /* > 0: set again this far ahead when fired */
	struct sipcx__wheel *w;
	uint64_t *now;
};

static uint64_t g_now;

static void on_fire(struct sipcx__wheel_entry *e)
{
	struct item *it = (struct item *)(void *)e;
	it->fired++;
	it->fired_at = *it->now;
	if (it->rearm_ms > 0)
		sipcx__wheel_set(it->w, &it->e, *it->now + (uint64_t)it->rearm_ms, *it->now);
}

static void item_init(struct item *it, struct sipcx__wheel *w)
{
	memset(it, 0, sizeof(*it));
	it->e.fire = on_fire;
	it->w = w;
	it->now = &g_now;
	it->want_ms = SIPCX__WHEEL_NEVER;
}

static void run_to(struct sipcx__wheel *w, uint64_t ms)
{
	g_now = ms;
	sipcx__wheel_run(w, ms);
}

static void test_exact_deadlines(void **state)
{
	(void)state;
	struct sipcx__wheel w;
	sipcx__wheel_init(&w, 1000);
	g_now = 1000;
	/* Same block, next block, a later block, past one turn of level 1 (65.5 s). */
	static const uint64_t due[] = { 1000, 1001, 1255, 1256, 1700, 30000, 70000, 200000 };
	enum { N = sizeof(due) / sizeof(due[0]) };
	struct item it[N];
	for (int i = 0; i < N; i++) {
		item_init(&it[i], &w);
		assert_true(sipcx__wheel_set(&w, &it[i].e, due[i], 1000));
		assert_true(sipcx__wheel_pending(&it[i].e));
	}
	assert_int_equal(w.count, N);
	assert_int_equal(sipcx__wheel_next(&w), 1000);
	/* Walk time one ms at a time through the first blocks, then jump. */
	for (uint64_t t = 1000; t <= 2000; t++) {
		run_to(&w, t);
		for (int i = 0; i < N; i++)
			assert_int_equal(it[i].fired, due[i] <= t ? 1 : 0);
	}
	assert_true(sipcx__wheel_next(&w) <= 30000);
	run_to(&w, 29999);
	assert_int_equal(it[5].fired, 0);
	run_to(&w, 30000);
	assert_int_equal(it[5].fired, 1);
	run_to(&w, 69999);
	assert_int_equal(it[6].fired, 0);
	run_to(&w, 250000); /* late: fires once, at the first run past it */
	assert_int_equal(it[6].fired, 1);
	assert_int_equal(it[7].fired, 1);
	assert_int_equal(it[7].fired_at, 250000);
	assert_int_equal(w.count, 0);
	assert_int_equal(sipcx__wheel_next(&w), SIPCX__WHEEL_NEVER);
}

static void test_remove_move_rearm(void **state)
{
	(void)state;
	struct sipcx__wheel w;
	sipcx__wheel_init(&w, 0);
	struct item a, b, c;
	item_init(&a, &w);
	item_init(&b, &w);
	item_init(&c, &w);
	sipcx__wheel_set(&w, &a.e, 500, 0);
	sipcx__wheel_set(&w, &b.e, 500, 0);
	/* The same deadline again: nothing to do, nothing earlier. */
	assert_false(sipcx__wheel_set(&w, &a.e, 500, 0));
	sipcx__wheel_remove(&w, &b.e);
	sipcx__wheel_remove(&w, &b.e); /* twice: harmless */
	assert_false(sipcx__wheel_pending(&b.e));
	/* Moved later, then earlier. */
	sipcx__wheel_set(&w, &a.e, 90000, 0);
	sipcx__wheel_set(&w, &a.e, 300, 0);
	assert_true(sipcx__wheel_next(&w) <= 300); /* level 1: the start of its block */
	/* A periodic timer: set again from its own fire(). */
	c.rearm_ms = 20;
	sipcx__wheel_set(&w, &c.e, 10, 0);
	for (uint64_t t = 0; t <= 1000; t += 5)
		run_to(&w, t);
	assert_int_equal(a.fired, 1);
	assert_int_equal(a.fired_at, 300);
	assert_int_equal(b.fired, 0);
	assert_int_equal(c.fired, 50); /* at 10, 30, ..., 990 */
	/* A deadline in the past fires at the next run. */
	c.rearm_ms = 0;
	sipcx__wheel_set(&w, &c.e, 5, 1000);
	run_to(&w, 1001);
	assert_int_equal(c.fired, 51);
	/* NEVER removes. */
	sipcx__wheel_set(&w, &a.e, 2000, 1001);
	sipcx__wheel_set(&w, &a.e, SIPCX__WHEEL_NEVER, 1001);
	assert_false(sipcx__wheel_pending(&a.e));
	assert_int_equal(w.count, 0);
}

/* An idle wheel jumps to the present: no walk over the empty time between. */
static void test_idle_jump(void **state)
{
	(void)state;
	struct sipcx__wheel w;
	sipcx__wheel_init(&w, 0);
	struct item a;
	item_init(&a, &w);
	uint64_t later = 10ull * 24 * 3600 * 1000; /* ten days on */
	sipcx__wheel_set(&w, &a.e, later + 7, later);
	assert_int_equal(sipcx__wheel_next(&w), later + 7);
	run_to(&w, later + 6);
	assert_int_equal(a.fired, 0);
	run_to(&w, later + 7);
	assert_int_equal(a.fired, 1);
}

/* Random sets, moves and removes over 300 s against a plain list. */
static void test_random_against_model(void **state)
{
	(void)state;
	enum { N = 3000 };
	struct sipcx__wheel w;
	struct item *it = calloc(N, sizeof(*it));
	assert_non_null(it);
	uint64_t now = 5000;
	sipcx__wheel_init(&w, now);
	g_now = now;
	for (int i = 0; i < N; i++)
		item_init(&it[i], &w);
	srand(4475);
	for (int step = 0; step < 20000; step++) {
		int i = rand() % N;
		int op = rand() % 10;
		if (op < 6) {
			uint64_t d = now + (uint64_t)(rand() % 100000);
			if (rand() % 4 == 0)
				d = now + (uint64_t)(rand() % 300); /* many close ones */
			sipcx__wheel_set(&w, &it[i].e, d, now);
			it[i].want_ms = d;
		} else if (op < 7) {
			sipcx__wheel_remove(&w, &it[i].e);
			it[i].want_ms = SIPCX__WHEEL_NEVER;
		} else {
			now += (uint64_t)(rand() % 40);
			for (int k = 0; k < N; k++)
				it[k].fired = 0;
			run_to(&w, now);
			for (int k = 0; k < N; k++) {
				bool due = it[k].want_ms <= now;
				assert_int_equal(it[k].fired, due ? 1 : 0);
				if (due)
					it[k].want_ms = SIPCX__WHEEL_NEVER;
				assert_int_equal(sipcx__wheel_pending(&it[k].e),
				                 it[k].want_ms != SIPCX__WHEEL_NEVER);
			}
			/* next() is never after the earliest deadline left. */
			uint64_t min = SIPCX__WHEEL_NEVER;
			for (int k = 0; k < N; k++)
				if (it[k].want_ms < min)
					min = it[k].want_ms;
			assert_true(sipcx__wheel_next(&w) <= min);
		}
	}
	free(it);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_deadlines),
		cmocka_unit_test(test_remove_move_rearm),
		cmocka_unit_test(test_idle_jump),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
