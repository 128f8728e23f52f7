/* ua: a two-level timer wheel: O(1) set, move and remove for many deadlines on one loop timer (no I/O, no clock). */
#ifndef SIPCX__WHEEL_H
#define SIPCX__WHEEL_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The timers of every transaction (and, through it, of calls) on one libuv
 * timer: a two-level wheel (the kernel's timer wheel in small). Level 0 has
 * a slot per ms of the current 256 ms block, level 1 a slot per 256 ms
 * block (65 s a turn; a later deadline waits its turn in its slot).
 * Setting, moving and removing a deadline is O(1), and an entry carries
 * about 40 bytes instead of a uv_timer_t (152 bytes) in libuv's heap,
 * whose every insert and removal walks log2(n) nodes: at half a million
 * transactions (32 s of Timer J under load) those walks took over a tenth
 * of the loop's time.
 *
 * Pure: the caller says what time it is (ms on any monotonic clock) and
 * keeps one real timer armed at sipcx__wheel_next(). One thread.
 */
#define SIPCX__WHEEL_BITS 8u
#define SIPCX__WHEEL_SLOTS (1u << SIPCX__WHEEL_BITS)
#define SIPCX__WHEEL_NEVER UINT64_MAX

struct sipcx__wheel_entry;
typedef void sipcx__wheel_fire_fn(struct sipcx__wheel_entry *e);

/* Embedded in what it times (a transaction, a call); zeroed means "not set". */
struct sipcx__wheel_entry {
	uint64_t due_ms;
	struct sipcx__wheel_entry *next, **pprev;
	sipcx__wheel_fire_fn *fire; /* set by the owner: what to do when due */
	uint8_t level;              /* off, level 0, level 1, firing */
	uint8_t slot;
};

struct sipcx__wheel {
	uint64_t now_ms; /* every deadline before this ms has fired */
	struct sipcx__wheel_entry *l0[SIPCX__WHEEL_SLOTS], *l1[SIPCX__WHEEL_SLOTS];
	uint64_t bits0[SIPCX__WHEEL_SLOTS / 64],
	    bits1[SIPCX__WHEEL_SLOTS / 64]; /* non-empty slots */
	struct sipcx__wheel_entry *firing;  /* due now, being run */
	uint64_t count;                     /* entries set (firing ones included) */
};

/* An empty wheel whose time starts at now_ms. */
void sipcx__wheel_init(struct sipcx__wheel *w, uint64_t now_ms);
/*
 * Give e the deadline due_ms (SIPCX__WHEEL_NEVER: remove it); now_ms is the
 * present, used when the wheel is idle. A deadline in the past fires at the
 * next advance. Returns true when the wheel's next deadline may now be
 * earlier than before (re-arm the loop timer at sipcx__wheel_next()).
 */
bool sipcx__wheel_set(struct sipcx__wheel *w, struct sipcx__wheel_entry *e, uint64_t due_ms,
                      uint64_t now_ms);
/* Remove e (a no-op when it is not set). */
void sipcx__wheel_remove(struct sipcx__wheel *w, struct sipcx__wheel_entry *e);
/* Is e set (waiting or firing)? */
bool sipcx__wheel_pending(const struct sipcx__wheel_entry *e);
/*
 * Time is now_ms: call fire() for every entry due at or before it, in no
 * particular order among entries of the same ms. Each entry is removed
 * before its fire() runs, which may set it (or any other) again; a
 * deadline set in the past fires at the next run (the wheel's time has
 * moved past now_ms).
 */
void sipcx__wheel_run(struct sipcx__wheel *w, uint64_t now_ms);
/* The ms of the earliest deadline (level 1: the start of its block), or SIPCX__WHEEL_NEVER. */
uint64_t sipcx__wheel_next(const struct sipcx__wheel *w);

#endif
