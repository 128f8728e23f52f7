/* ua: per-source digest failure throttling for the registrar and its proxy (RFC 3261 22, RFC 7616 5 "online dictionary attacks"). */
#include <string.h>

#include "ua/registrar.h"

/* Sources tracked at once: a fixed table (about 200 KiB), the oldest entry makes room. */
#define LOCKOUT_SLOTS 4096u
/* Slots looked at per source: its bucket and the next ones. */
#define LOCKOUT_PROBE 8u
/* A source quiet this long after its lockout ends starts again from the first lockout. */
#define LOCKOUT_FORGET_MS (24u * 3600u * 1000u)

void sipcx__lockout_init(struct lockout *l, unsigned max, uint32_t window_s, uint32_t base_s,
                         uint32_t max_s)
{
	memset(l, 0, sizeof(*l));
	l->max = max ? max : 10;
	l->window_ms = (uint64_t)(window_s ? window_s : 60) * 1000u;
	l->base_ms = (uint64_t)(base_s ? base_s : 60) * 1000u;
	l->max_ms = (uint64_t)(max_s ? max_s : 3600) * 1000u;
	if (l->max_ms < l->base_ms)
		l->max_ms = l->base_ms;
}

void sipcx__lockout_free(struct lockout *l)
{
	sipcx_free(l->t);
	l->t = NULL;
}

/* The address of src without its port: the unit of throttling. */
static void ip_of(const struct sipcx_tp_addr *src, union sipcx_sa *ip)
{
	memset(ip, 0, sizeof(*ip));
	memcpy(ip, &src->sa, sipcx_sa_len(&src->sa.sa));
	sipcx_sa_set_port(ip, 0);
}

static uint32_t ip_hash(const union sipcx_sa *ip)
{
	const void *p = ip->sa.sa_family == AF_INET6 ? (const void *)&ip->in6.sin6_addr
	                                             : (const void *)&ip->in.sin_addr;
	size_t n = ip->sa.sa_family == AF_INET6 ? 16 : 4;
	return sipcx__hash_mix(sipcx__fnv32(SIPCX__FNV32_INIT, p, n));
}

/* The entry of src, or NULL (create: a slot for it, the least recently used if all are taken). */
static struct lockout_entry *find(struct lockout *l, const struct sipcx_tp_addr *src, bool create)
{
	if (!l->t) {
		if (!create)
			return NULL;
		l->t = sipcx_calloc(LOCKOUT_SLOTS, sizeof(*l->t));
		if (!l->t)
			return NULL;
	}
	union sipcx_sa ip;
	ip_of(src, &ip);
	uint32_t h = ip_hash(&ip);
	struct lockout_entry *victim = NULL;
	for (unsigned i = 0; i < LOCKOUT_PROBE; i++) {
		struct lockout_entry *e = &l->t[(h + i) % LOCKOUT_SLOTS];
		if (e->used && sipcx_sa_equal(&e->ip.sa, &ip.sa))
			return e;
		if (!victim || !e->used || (victim->used && e->last_ms < victim->last_ms))
			victim = e;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->ip = ip;
	victim->used = true;
	return victim;
}

uint64_t sipcx__lockout_left(struct lockout *l, const struct sipcx_tp_addr *src, uint64_t now_ms)
{
	struct lockout_entry *e = find(l, src, false);
	return e && e->locked_until_ms > now_ms ? e->locked_until_ms - now_ms : 0;
}

uint64_t sipcx__lockout_fail(struct lockout *l, const struct sipcx_tp_addr *src, uint64_t now_ms)
{
	struct lockout_entry *e = find(l, src, true);
	if (!e)
		return 0;
	if (e->locked_until_ms && now_ms > e->locked_until_ms + LOCKOUT_FORGET_MS)
		e->level = 0;
	e->last_ms = now_ms;
	if (!e->failures || now_ms - e->window_start_ms > l->window_ms) {
		e->window_start_ms = now_ms;
		e->failures = 0;
	}
	if (++e->failures < l->max)
		return 0;
	/* Each lockout doubles the last one: a patient guesser gets slower and slower. */
	uint64_t ms = l->base_ms << (e->level < 20 ? e->level : 20);
	if (ms > l->max_ms)
		ms = l->max_ms;
	e->level += e->level < 255;
	e->locked_until_ms = now_ms + ms;
	e->failures = 0;
	return ms;
}
