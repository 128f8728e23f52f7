/*
 * bench_parse: SIP message parse speed of sipcx, side by side with the packaged
 * parsers (osip2, sofia-sip, libre) built in where installed, over one corpus.
 *   bench_parse [--ms N] [DIR]            ns/message and messages/s per parser, ratios
 *   bench_parse --one PARSER FILE ITERS   parse FILE ITERS times with PARSER only; under
 *     valgrind --tool=callgrind --collect-atstart=no only the loop is counted, so
 *     instructions/message = Ir / ITERS (scripts/bench.sh does this).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sipcx/sipcx.h>

#include "peers.h"

#ifdef SIPCX_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

static struct sipcx_msg msg; /* one struct reused: parsing allocates nothing */
static volatile size_t sink;

/* Parse and read every header value the stack uses on a message it receives. */
static int sipcx_parse(const char *buf, size_t len)
{
	if (sipcx_msg_parse(&msg, buf, len, 0) <= 0)
		return -1;
	if (sipcx_msg_check(&msg, 0, NULL) != SIPCX_MSG_ACCEPT)
		return -1;
	const struct sipcx_via *via = sipcx_msg_via(&msg);
	const struct sipcx_addr *from = sipcx_msg_from(&msg), *to = sipcx_msg_to(&msg);
	const struct sipcx_cseq *cseq = sipcx_msg_cseq(&msg);
	if (!via || !from || !to || !cseq)
		return -1;
	size_t acc = via->branch.len + from->tag.len + to->tag.len + cseq->num;
	acc += sipcx_msg_call_id(&msg).len + sipcx_msg_content_type(&msg).len;
	uint32_t u32;
	size_t clen;
	if (sipcx_msg_max_forwards(&msg, &u32) == 0)
		acc += u32;
	if (sipcx_msg_expires(&msg, &u32) == 0)
		acc += u32;
	if (sipcx_msg_content_length(&msg, &clen) == 0)
		acc += clen;
	if (msg.request && sipcx_msg_ruri(&msg))
		acc += sipcx_msg_ruri(&msg)->host.len;
	struct sipcx_msg_iter it = SIPCX_MSG_ITER_INIT;
	struct sipcx_addr contact;
	while (sipcx_msg_contact_next(&msg, &it, &contact) > 0)
		acc += contact.uri.host.len;
	static const enum sipcx_hdr_id auth_ids[] = { SIPCX_HDR_AUTHORIZATION,
		                                      SIPCX_HDR_WWW_AUTHENTICATE,
		                                      SIPCX_HDR_PROXY_AUTHENTICATE,
		                                      SIPCX_HDR_PROXY_AUTHORIZATION };
	for (size_t i = 0; i < sizeof(auth_ids) / sizeof(auth_ids[0]); i++) {
		for (const struct sipcx_hdr *h = sipcx_msg_hdr(&msg, auth_ids[i]); h;
		     h = sipcx_msg_hdr_next(&msg, h)) {
			struct sipcx_digest_params d;
			if (sipcx_digest_params_parse(&d, h->value) != 0)
				return -1;
			acc += d.nonce.len;
		}
	}
	sink += acc;
	return 0;
}

static int sipcx_init(void)
{
	return 0;
}

static const struct bench_parser bench_sipcx = { "sipcx", sipcx_init, sipcx_parse };

static const struct bench_parser *parsers[] = {
	&bench_sipcx,
#ifdef SIPCX_BENCH_OSIP2
	&bench_peer_osip2,
#endif
#ifdef SIPCX_BENCH_SOFIA
	&bench_peer_sofia,
#endif
#ifdef SIPCX_BENCH_LIBRE
	&bench_peer_re,
#endif
};
#define NPARSERS (sizeof(parsers) / sizeof(parsers[0]))

struct corpus_msg {
	char name[64];
	char *buf;
	size_t len;
};

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(SIPCX_MSG_MAX_SIZE + 1);
	size_t n = buf ? fread(buf, 1, SIPCX_MSG_MAX_SIZE + 1, f) : 0;
	fclose(f);
	if (!buf || n == 0 || n > SIPCX_MSG_MAX_SIZE) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int cmp_msg(const void *a, const void *b)
{
	return strcmp(((const struct corpus_msg *)a)->name, ((const struct corpus_msg *)b)->name);
}

static size_t load_corpus(const char *dir, struct corpus_msg *out, size_t max)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < max) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		out[n].buf = read_file(path, &out[n].len);
		if (!out[n].buf)
			continue;
		size_t nl = strlen(e->d_name);
		if (nl >= sizeof(out[n].name))
			nl = sizeof(out[n].name) - 1;
		memcpy(out[n].name, e->d_name, nl);
		out[n].name[nl] = '\0';
		n++;
	}
	closedir(d);
	qsort(out, n, sizeof(*out), cmp_msg);
	return n;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Best of 5 rounds of about ms/5 milliseconds each: the least disturbed by the machine. */
static double time_parser(const struct bench_parser *p, const struct corpus_msg *m, double ms)
{
	long iters = 64;
	double t0 = now_ns();
	for (long i = 0; i < iters; i++)
		p->parse(m->buf, m->len);
	double per = (now_ns() - t0) / (double)iters;
	iters = (long)(ms * 1e6 / 5 / (per > 1 ? per : 1)) + 1;
	double best = 1e30;
	for (int round = 0; round < 5; round++) {
		t0 = now_ns();
		for (long i = 0; i < iters; i++)
			p->parse(m->buf, m->len);
		double ns = (now_ns() - t0) / (double)iters;
		if (ns < best)
			best = ns;
	}
	return best;
}

static long counted_allocs;
static void *count_malloc(size_t size, void *arg)
{
	(void)arg;
	counted_allocs++;
	return malloc(size);
}
static void *count_realloc(void *p, size_t size, void *arg)
{
	(void)arg;
	counted_allocs++;
	return realloc(p, size);
}
static void count_free(void *p, void *arg)
{
	(void)arg;
	free(p);
}

static const struct bench_parser *find_parser(const char *name)
{
	for (size_t i = 0; i < NPARSERS; i++)
		if (!strcmp(parsers[i]->name, name))
			return parsers[i];
	return NULL;
}

static int run_one(const char *name, const char *file, long iters)
{
	const struct bench_parser *p = find_parser(name);
	struct corpus_msg m;
	if (!p || p->init() != 0) {
		fprintf(stderr, "bench_parse: no parser '%s'\n", name);
		return 2;
	}
	m.buf = read_file(file, &m.len);
	if (!m.buf || p->parse(m.buf, m.len) != 0) {
		fprintf(stderr, "bench_parse: %s does not parse %s\n", name, file);
		return 1;
	}
	CALLGRIND_TOGGLE_COLLECT;
	for (long i = 0; i < iters; i++)
		p->parse(m.buf, m.len);
	CALLGRIND_TOGGLE_COLLECT;
	free(m.buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = "bench/corpus";
	double ms = 500;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--one") && i + 3 < argc)
			return run_one(argv[i + 1], argv[i + 2], atol(argv[i + 3]));
		if (!strcmp(argv[i], "--list")) {
			for (size_t k = 0; k < NPARSERS; k++)
				printf("%s\n", parsers[k]->name);
			return 0;
		}
		if (!strcmp(argv[i], "--ms") && i + 1 < argc)
			ms = atof(argv[++i]);
		else
			dir = argv[i];
	}

	struct corpus_msg corpus[64];
	size_t n = load_corpus(dir, corpus, 64);
	if (n == 0) {
		fprintf(stderr, "bench_parse: no messages in %s\n", dir);
		return 2;
	}
	for (size_t k = 0; k < NPARSERS; k++) {
		if (parsers[k]->init() != 0) {
			fprintf(stderr, "bench_parse: %s init failed\n", parsers[k]->name);
			return 1;
		}
	}

	/* The claim "no allocation per parse" is checked, not assumed. */
	static const struct sipcx_allocator counting = { count_malloc, count_realloc, count_free,
		                                         NULL };
	sipcx_allocator_set(&counting);
	for (size_t i = 0; i < n; i++)
		if (sipcx_parse(corpus[i].buf, corpus[i].len) != 0) {
			fprintf(stderr, "bench_parse: sipcx rejects %s\n", corpus[i].name);
			return 1;
		}
	sipcx_allocator_set(NULL);
	printf("sipcx allocations while parsing the corpus: %ld\n\n", counted_allocs);

	double t[64][8] = { { 0 } };
	printf("%-22s %6s", "message", "bytes");
	for (size_t k = 0; k < NPARSERS; k++)
		printf(" %12s", parsers[k]->name);
	printf("   (ns/message, best of 5)\n");
	double total[8] = { 0 };
	for (size_t i = 0; i < n; i++) {
		printf("%-22s %6zu", corpus[i].name, corpus[i].len);
		for (size_t k = 0; k < NPARSERS; k++) {
			if (parsers[k]->parse(corpus[i].buf, corpus[i].len) != 0) {
				printf(" %12s", "fails");
				t[i][k] = 0;
				continue;
			}
			t[i][k] = time_parser(parsers[k], &corpus[i], ms / (double)NPARSERS);
			total[k] += t[i][k];
			printf(" %12.0f", t[i][k]);
		}
		printf("\n");
	}
	printf("%-29s", "mean");
	for (size_t k = 0; k < NPARSERS; k++)
		printf(" %12.0f", total[k] / (double)n);
	printf("\n%-29s", "messages/s");
	for (size_t k = 0; k < NPARSERS; k++)
		printf(" %12.0f", total[k] > 0 ? 1e9 * (double)n / total[k] : 0);
	printf("\n%-29s", "time vs sipcx");
	for (size_t k = 0; k < NPARSERS; k++)
		printf(" %11.2fx", total[0] > 0 ? total[k] / total[0] : 0);
	printf("\n");
	for (size_t k = 1; k < NPARSERS; k++) {
		size_t slower = 0;
		for (size_t i = 0; i < n; i++)
			if (t[i][k] > 0 && t[i][0] >= t[i][k])
				slower++;
		printf("messages where sipcx is not faster than %s: %zu of %zu\n", parsers[k]->name,
		       slower, n);
	}
	for (size_t i = 0; i < n; i++)
		free(corpus[i].buf);
	return 0;
}
