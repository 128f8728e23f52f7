/* ua: the timer wheel (see wheel.h): two levels of 256 slots, bitmaps of non-empty slots, O(1) set and remove. */
#include <string.h>

#include "ua/wheel.h"

enum { W_OFF = 0, W_L0, W_L1, W_FIRING };
#define MASK (SIPCX__WHEEL_SLOTS - 1u)

static void bit_set(uint64_t *bits, unsigned i)
{
	bits[i / 64] |= 1ull << (i % 64);
}

static void bit_clear(uint64_t *bits, unsigned i)
{
	bits[i / 64] &= ~(1ull << (i % 64));
}

/* The first set bit in [from, to), or to. */
static unsigned bit_find(const uint64_t *bits, unsigned from, unsigned to)
{
	while (from < to) {
		uint64_t word = bits[from / 64] >> (from % 64);
		if (word) {
			unsigned i = from + (unsigned)__builtin_ctzll(word);
			return i < to ? i : to;
		}
		from = (from / 64 + 1) * 64;
	}
	return to;
}

static void push(struct sipcx__wheel_entry **head, struct sipcx__wheel_entry *e)
{
	e->next = *head;
	if (*head)
		(*head)->pprev = &e->next;
	e->pprev = head;
	*head = e;
}

/* Put e (due_ms >= w->now_ms, not linked) in its slot. */
static void link_entry(struct sipcx__wheel *w, struct sipcx__wheel_entry *e)
{
	uint64_t block = e->due_ms >> SIPCX__WHEEL_BITS;
	if (block == w->now_ms >> SIPCX__WHEEL_BITS) {
		e->level = W_L0;
		e->slot = (uint8_t)(e->due_ms & MASK);
		push(&w->l0[e->slot], e);
		bit_set(w->bits0, e->slot);
	} else {
		e->level = W_L1;
		e->slot = (uint8_t)(block & MASK);
		push(&w->l1[e->slot], e);
		bit_set(w->bits1, e->slot);
	}
}

static void unlink_entry(struct sipcx__wheel *w, struct sipcx__wheel_entry *e)
{
	*e->pprev = e->next;
	if (e->next)
		e->next->pprev = e->pprev;
	if (e->level == W_L0 && !w->l0[e->slot])
		bit_clear(w->bits0, e->slot);
	else if (e->level == W_L1 && !w->l1[e->slot])
		bit_clear(w->bits1, e->slot);
	e->level = W_OFF;
	e->next = NULL;
	e->pprev = NULL;
}

void sipcx__wheel_init(struct sipcx__wheel *w, uint64_t now_ms)
{
	memset(w, 0, sizeof(*w));
	w->now_ms = now_ms;
}

bool sipcx__wheel_pending(const struct sipcx__wheel_entry *e)
{
	return e->level != W_OFF;
}

void sipcx__wheel_remove(struct sipcx__wheel *w, struct sipcx__wheel_entry *e)
{
	if (e->level == W_OFF)
		return;
	unlink_entry(w, e);
	w->count--;
}

static bool idle(const struct sipcx__wheel *w)
{
	uint64_t any = 0;
	for (size_t i = 0; i < SIPCX__WHEEL_SLOTS / 64; i++)
		any |= w->bits0[i] | w->bits1[i];
	return !any;
}

bool sipcx__wheel_set(struct sipcx__wheel *w, struct sipcx__wheel_entry *e, uint64_t due_ms,
                      uint64_t now_ms)
{
	if ((e->level == W_L0 || e->level == W_L1) && e->due_ms == due_ms)
		return false;
	sipcx__wheel_remove(w, e);
	if (due_ms == SIPCX__WHEEL_NEVER)
		return false;
	/* Idle since now_ms: start from the present (no empty blocks to walk through). */
	if (idle(w) && now_ms > w->now_ms)
		w->now_ms = now_ms;
	if (due_ms < w->now_ms)
		due_ms = w->now_ms;
	e->due_ms = due_ms;
	link_entry(w, e);
	w->count++;
	return true;
}

/* now_ms entered a new block: its level-1 slot comes down to level 0 (later turns stay). */
static void cascade(struct sipcx__wheel *w)
{
	unsigned slot = (unsigned)((w->now_ms >> SIPCX__WHEEL_BITS) & MASK);
	struct sipcx__wheel_entry *list = w->l1[slot];
	w->l1[slot] = NULL;
	bit_clear(w->bits1, slot);
	while (list) {
		struct sipcx__wheel_entry *e = list;
		list = e->next;
		link_entry(w, e);
	}
}

/* Move every deadline up to ms (included) to the firing list. */
static void advance(struct sipcx__wheel *w, uint64_t ms)
{
	while (w->now_ms <= ms) {
		if (idle(w)) {
			w->now_ms = ms + 1; /* an idle wheel jumps: nothing in between */
			return;
		}
		uint64_t block_end = w->now_ms | MASK;
		uint64_t end = ms < block_end ? ms : block_end;
		unsigned to = (unsigned)(end & MASK) + 1;
		for (unsigned i = bit_find(w->bits0, (unsigned)(w->now_ms & MASK), to); i < to;
		     i = bit_find(w->bits0, i + 1, to)) {
			struct sipcx__wheel_entry *list = w->l0[i];
			w->l0[i] = NULL;
			bit_clear(w->bits0, i);
			while (list) {
				struct sipcx__wheel_entry *e = list;
				list = e->next;
				push(&w->firing, e);
				e->level = W_FIRING;
			}
		}
		w->now_ms = end + 1;
		if ((w->now_ms & MASK) == 0)
			cascade(w);
	}
}

void sipcx__wheel_run(struct sipcx__wheel *w, uint64_t now_ms)
{
	if (now_ms >= w->now_ms)
		advance(w, now_ms);
	/* Each one is unlinked first: its fire() may set it again, or free it. */
	struct sipcx__wheel_entry *e;
	while ((e = w->firing)) {
		sipcx__wheel_remove(w, e);
		e->fire(e);
	}
}

uint64_t sipcx__wheel_next(const struct sipcx__wheel *w)
{
	unsigned i = bit_find(w->bits0, (unsigned)(w->now_ms & MASK), SIPCX__WHEEL_SLOTS);
	if (i < SIPCX__WHEEL_SLOTS)
		return (w->now_ms & ~(uint64_t)MASK) | i;
	unsigned cur = (unsigned)((w->now_ms >> SIPCX__WHEEL_BITS) & MASK);
	unsigned j = bit_find(w->bits1, cur + 1, SIPCX__WHEEL_SLOTS);
	uint64_t ahead;
	if (j < SIPCX__WHEEL_SLOTS) {
		ahead = j - cur;
	} else {
		j = bit_find(w->bits1, 0, cur + 1);
		if (j > cur)
			return SIPCX__WHEEL_NEVER;
		ahead = j + SIPCX__WHEEL_SLOTS - cur; /* a whole turn for j == cur */
	}
	return ((w->now_ms >> SIPCX__WHEEL_BITS) + ahead) << SIPCX__WHEEL_BITS;
}
