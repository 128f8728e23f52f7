/* sipcx CLI: percentiles of a run's measures and a bounded sample collector (load, answer summaries). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct cli_pct cli_pct_of(double *v, size_t n)
{
	struct cli_pct p = { .n = n };
	if (!n)
		return p;
	qsort(v, n, sizeof(*v), cmp_double);
#define AT(q) v[(size_t)((q) * (double)(n - 1) + 0.5)]
	p.p50 = AT(0.50);
	p.p90 = AT(0.90);
	p.p99 = AT(0.99);
	p.p10 = AT(0.10);
	p.p1 = AT(0.01);
#undef AT
	p.min = v[0];
	p.max = v[n - 1];
	return p;
}

void cli_json_pct(struct cli_json *j, const char *key, const struct cli_pct *p, bool low)
{
	if (!p->n)
		return;
	if (low) /* MOS: the bad end matters */
		cli_json_raw(j, key, "{\"p50\":%.2f,\"p10\":%.2f,\"p1\":%.2f,\"min\":%.2f}", p->p50,
		             p->p10, p->p1, p->min);
	else
		cli_json_raw(j, key, "{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
		             p->p50, p->p90, p->p99, p->max);
}

void cli_text_pct(const char *name, const struct cli_pct *p, const char *unit, bool low)
{
	if (!p->n)
		return;
	if (low)
		printf("%-18s p50 %.2f  p10 %.2f  p1 %.2f  min %.2f\n", name, p->p50, p->p10, p->p1,
		       p->min);
	else
		printf("%-18s p50 %.3f  p90 %.3f  p99 %.3f  max %.3f %s\n", name, p->p50, p->p90,
		       p->p99, p->max, unit);
}

/*
 * One measure's samples: grown by doubling up to CLI_STATS_MAX, then a reservoir; the
 * extremes are kept exactly (a reservoir would lose the one worst call of a long run).
 */
struct measure {
	double *v;
	size_t n, cap;
	uint64_t seen;
	double min, max;
};

struct cli_stats {
	uint64_t rng; /* xorshift64*: which sample a new one replaces */
	size_t nm;
	struct measure m[];
};

int cli_stats_new(struct cli_stats **out, size_t nmeasures)
{
	struct cli_stats *s = calloc(1, sizeof(*s) + nmeasures * sizeof(s->m[0]));
	if (!s)
		return -ENOMEM;
	s->nm = nmeasures;
	s->rng = 0x9e3779b97f4a7c15ULL;
	*out = s;
	return 0;
}

void cli_stats_free(struct cli_stats *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nm; i++)
		free(s->m[i].v);
	free(s);
}

static uint64_t next_rand(struct cli_stats *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545f4914f6cdd1dULL;
}

void cli_stats_add(struct cli_stats *s, size_t measure, double v)
{
	if (!s || measure >= s->nm)
		return;
	struct measure *m = &s->m[measure];
	if (!m->seen || v < m->min)
		m->min = v;
	if (!m->seen || v > m->max)
		m->max = v;
	m->seen++;
	if (m->n < CLI_STATS_MAX) {
		if (m->n == m->cap) {
			size_t cap = m->cap ? m->cap * 2 : 64;
			if (cap > CLI_STATS_MAX)
				cap = CLI_STATS_MAX;
			double *nv = realloc(m->v, cap * sizeof(*nv));
			if (!nv)
				return; /* a sample fewer; the percentiles stay those of the others */
			m->v = nv;
			m->cap = cap;
		}
		m->v[m->n++] = v;
		return;
	}
	/* Algorithm R: the seen-th sample is kept with probability CLI_STATS_MAX / seen. */
	uint64_t k = next_rand(s) % m->seen;
	if (k < CLI_STATS_MAX)
		m->v[k] = v;
}

struct cli_pct cli_stats_pct(struct cli_stats *s, size_t measure)
{
	if (!s || measure >= s->nm)
		return (struct cli_pct){ 0 };
	struct measure *m = &s->m[measure];
	struct cli_pct p = cli_pct_of(m->v, m->n);
	if (p.n) {
		p.min = m->min;
		p.max = m->max;
	}
	return p;
}
