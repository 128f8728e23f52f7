/* trace/ladder.c: a run's messages as an ASCII ladder or a Mermaid sequence diagram (one column per address). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/ladder.h>
#include <sipcx/rtp.h>
#include <sipcx/sockaddr.h>

#include "base/base.h"

#define LABEL_MAX 40
#define SENT_RING 64 /* sends remembered to drop their received copy */
#define STREAMS 32   /* media streams counted at once */

struct row {
	uint64_t time_us;
	uint8_t from, to;
	uint8_t kind; /* enum sipcx_trace_kind */
	bool response;
	uint32_t count; /* packets of a media stream */
	char label[LABEL_MAX];
};

struct stream {
	uint8_t from, to, kind;
	uint32_t row; /* index into rows */
};

struct sipcx_ladder {
	pthread_mutex_t lock;
	union sipcx_sa col[SIPCX_LADDER_MAX_COLS];
	size_t ncol;
	struct row *rows;
	size_t nrows, cap;
	size_t dropped;
	struct stream streams[STREAMS];
	size_t nstreams;
	uint64_t sent[SENT_RING];
	size_t sent_next;
};

int sipcx_ladder_new(struct sipcx_ladder **out)
{
	if (!out)
		return -EINVAL;
	struct sipcx_ladder *l = sipcx_calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return 0;
}

void sipcx_ladder_free(struct sipcx_ladder *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->lock);
	sipcx_free(l->rows);
	sipcx_free(l);
}

/* The column of an address, added at its first sight; -1 when there is no room. */
static int column(struct sipcx_ladder *l, const struct sockaddr *sa)
{
	for (size_t i = 0; i < l->ncol; i++)
		if (sipcx_sa_equal(&l->col[i].sa, sa))
			return (int)i;
	size_t n = sipcx_sa_len(sa);
	if (l->ncol == SIPCX_LADDER_MAX_COLS || n == 0 || n > sizeof(l->col[0]))
		return -1;
	memset(&l->col[l->ncol], 0, sizeof(l->col[0]));
	memcpy(&l->col[l->ncol], sa, n);
	return (int)l->ncol++;
}

static uint64_t fingerprint(const struct sipcx_trace_event *ev)
{
	uint64_t h = SIPCX__FNV64_INIT;
	h = sipcx__fnv64(h, ev->src, sipcx_sa_len(ev->src));
	h = sipcx__fnv64(h, ev->dst, sipcx_sa_len(ev->dst));
	return sipcx__fnv64(h, ev->data, ev->len);
}

/* Start line -> "INVITE (SDP)" or "180 Ringing"; false when it is not SIP. */
static bool sip_label(const char *p, size_t n, char *out, bool *response)
{
	const char *eol = memchr(p, '\r', n);
	if (!eol)
		eol = memchr(p, '\n', n);
	size_t line = eol ? (size_t)(eol - p) : n;
	size_t k = 0;
	if (line > 12 && memcmp(p, "SIP/2.0 ", 8) == 0) {
		*response = true;
		for (size_t i = 8; i < line && k < LABEL_MAX - 1; i++)
			out[k++] = p[i];
	} else {
		const char *sp = memchr(p, ' ', line);
		if (!sp || sp == p || line < 16 || memcmp(p + line - 8, " SIP/2.0", 8) != 0)
			return false;
		*response = false;
		for (const char *c = p; c < sp && k < LABEL_MAX - 1; c++)
			out[k++] = *c;
	}
	out[k] = '\0';
	/* a body that is SDP is worth saying: offers and answers are half of a call's story */
	const char *hdr_end = memmem(p, n, "\r\n\r\n", 4);
	if (hdr_end && (size_t)(hdr_end - p) + 4 < n &&
	    (memmem(p, (size_t)(hdr_end - p), "application/sdp", 15) ||
	     memmem(p, (size_t)(hdr_end - p), "Application/SDP", 15)) &&
	    k + 6 < LABEL_MAX)
		memcpy(out + k, " (SDP)", 7);
	for (char *c = out; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	return true;
}

static struct row *new_row(struct sipcx_ladder *l)
{
	if (l->nrows == SIPCX_LADDER_MAX_ROWS) {
		l->dropped++;
		return NULL;
	}
	if (l->nrows == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct row *r = sipcx_realloc(l->rows, cap * sizeof(*r));
		if (!r) {
			l->dropped++;
			return NULL;
		}
		l->rows = r;
		l->cap = cap;
	}
	struct row *r = &l->rows[l->nrows++];
	memset(r, 0, sizeof(*r));
	return r;
}

static void add_media(struct sipcx_ladder *l, const struct sipcx_trace_event *ev, int from, int to)
{
	for (size_t i = 0; i < l->nstreams; i++) {
		struct stream *s = &l->streams[i];
		if (s->from == from && s->to == to && s->kind == ev->kind) {
			l->rows[s->row].count++;
			return;
		}
	}
	if (l->nstreams == STREAMS)
		return;
	struct row *r = new_row(l);
	if (!r)
		return;
	r->time_us = ev->time_us;
	r->from = (uint8_t)from;
	r->to = (uint8_t)to;
	r->kind = (uint8_t)ev->kind;
	r->response = true;
	r->count = 1;
	struct sipcx_rtp_pkt pkt;
	if (ev->kind == SIPCX_TRACE_RTP && sipcx_rtp_parse(&pkt, ev->data, ev->len) == 0)
		snprintf(r->label, sizeof(r->label), "(pt %u)", pkt.pt);
	l->streams[l->nstreams++] = (struct stream){ (uint8_t)from, (uint8_t)to, (uint8_t)ev->kind,
		                                     (uint32_t)(r - l->rows) };
}

void sipcx_ladder_add(struct sipcx_ladder *l, const struct sipcx_trace_event *ev)
{
	if (!l || !ev || !ev->src || !ev->dst || !ev->data)
		return;
	if (ev->kind != SIPCX_TRACE_SIP && ev->kind != SIPCX_TRACE_RTP &&
	    ev->kind != SIPCX_TRACE_RTCP)
		return;
	pthread_mutex_lock(&l->lock);
	uint64_t fp = ev->kind == SIPCX_TRACE_SIP ? fingerprint(ev) : 0;
	bool copy = false;
	if (ev->kind == SIPCX_TRACE_SIP && ev->dir == SIPCX_TRACE_RECV) {
		for (size_t i = 0; i < SENT_RING && !copy; i++)
			if (l->sent[i] == fp) {
				l->sent[i] = 0; /* a retransmission is drawn again */
				copy = true;
			}
	}
	int from = copy ? -1 : column(l, ev->src);
	int to = copy ? -1 : column(l, ev->dst);
	if (copy) {
		/* the message was drawn when it left */
	} else if (from < 0 || to < 0) {
		l->dropped++;
	} else if (ev->kind != SIPCX_TRACE_SIP) {
		add_media(l, ev, from, to);
	} else {
		char label[LABEL_MAX];
		bool response = false;
		struct row *r = sip_label(ev->data, ev->len, label, &response) ? new_row(l) : NULL;
		if (r) {
			r->time_us = ev->time_us;
			r->from = (uint8_t)from;
			r->to = (uint8_t)to;
			r->kind = SIPCX_TRACE_SIP;
			r->response = response;
			memcpy(r->label, label, sizeof(label));
			if (ev->dir == SIPCX_TRACE_SEND) {
				l->sent[l->sent_next] = fp;
				l->sent_next = (l->sent_next + 1) % SENT_RING;
			}
		}
	}
	pthread_mutex_unlock(&l->lock);
}

void sipcx_ladder_trace(const struct sipcx_trace_event *ev, void *arg)
{
	sipcx_ladder_add(arg, ev);
}

size_t sipcx_ladder_rows(struct sipcx_ladder *l)
{
	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	size_t n = l->nrows;
	pthread_mutex_unlock(&l->lock);
	return n;
}

/* The text on an arrow: the SIP label, or "RTP x250 (pt 0)". */
static void row_text(const struct row *r, char *out, size_t n)
{
	if (r->kind == SIPCX_TRACE_SIP)
		snprintf(out, n, "%s", r->label);
	else
		snprintf(out, n, "%s x%u%s%s", r->kind == SIPCX_TRACE_RTP ? "RTP" : "RTCP",
		         r->count, r->label[0] ? " " : "", r->label);
}

/* Rows in time order (events of several threads may come out of order), stable. */
static int by_time(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
	if (x->time_us != y->time_us)
		return x->time_us < y->time_us ? -1 : 1;
	return x < y ? -1 : (x > y);
}

/* The rows sorted by time, as pointers (the rows stay where media streams find them). */
static const struct row **sorted(struct sipcx_ladder *l)
{
	const struct row **v = sipcx_malloc((l->nrows ? l->nrows : 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < l->nrows; i++)
		v[i] = &l->rows[i];
	qsort(v, l->nrows, sizeof(*v), by_time);
	return v;
}

#define COLW 24 /* characters per column */
#define TIMEW 11

/* Draw with fn, the rows sorted by time, under the lock. */
static int draw(struct sipcx_ladder *l, struct sipcx_buf *b,
                void (*fn)(const struct sipcx_ladder *, const struct row **, struct sipcx_buf *))
{
	if (!l || !b)
		return -EINVAL;
	pthread_mutex_lock(&l->lock);
	const struct row **v = sorted(l);
	if (v)
		fn(l, v, b);
	pthread_mutex_unlock(&l->lock);
	sipcx_free(v);
	return v ? sipcx_buf_err(b) : -ENOMEM;
}

static void ascii(const struct sipcx_ladder *l, const struct row **v, struct sipcx_buf *b)
{
	size_t width = l->ncol * COLW;
	char line[SIPCX_LADDER_MAX_COLS * COLW + 1];

	/* the addresses, each centred over its column */
	memset(line, ' ', width);
	for (size_t c = 0; c < l->ncol; c++) {
		char a[SIPCX_ADDRSTRLEN];
		if (sipcx_sa_print(&l->col[c].sa, a, sizeof(a)) <= 0)
			snprintf(a, sizeof(a), "?");
		size_t n = strlen(a);
		if (n > COLW - 1)
			n = COLW - 1;
		size_t at = c * COLW + COLW / 2;
		size_t start = at >= n / 2 ? at - n / 2 : 0;
		memcpy(line + start, a, n);
	}
	size_t hend = width;
	while (hend > 0 && line[hend - 1] == ' ')
		hend--;
	sipcx_buf_printf(b, "%*s%.*s\n", TIMEW, "", (int)hend, line);

	uint64_t t0 = l->nrows ? v[0]->time_us : 0;
	for (size_t i = 0; i < l->nrows; i++) {
		const struct row *r = v[i];
		memset(line, ' ', width);
		for (size_t c = 0; c < l->ncol; c++)
			line[c * COLW + COLW / 2] = '|';
		size_t a = r->from * COLW + COLW / 2, z = r->to * COLW + COLW / 2;
		char text[LABEL_MAX + 24];
		row_text(r, text, sizeof(text));
		if (a == z) {
			/* to itself: a short loop beside the column */
			char self[LABEL_MAX + 32];
			int n = snprintf(self, sizeof(self), "<-' %s", text);
			size_t k = n > 0 ? (size_t)n : 0;
			if (k > width - a - 1)
				k = width - a - 1;
			memcpy(line + a + 1, self, k);
		} else {
			size_t lo = a < z ? a : z, hi = a < z ? z : a;
			char dash = r->kind == SIPCX_TRACE_SIP ? '-' : '~';
			for (size_t k = lo + 1; k < hi; k++)
				line[k] = dash;
			if (a < z)
				line[hi - 1] = '>';
			else
				line[lo + 1] = '<';
			/* the label in the middle of the span, between the dashes */
			size_t room = hi - lo - 3, n = strlen(text);
			if (n > room)
				n = room;
			size_t start = lo + 2 + (room - n) / 2;
			memcpy(line + start, text, n);
		}
		size_t end = width;
		while (end > 0 && line[end - 1] == ' ')
			end--;
		sipcx_buf_printf(b, "%10.6f %.*s\n", (double)(r->time_us - t0) / 1e6, (int)end,
		                 line);
	}
	if (l->dropped)
		sipcx_buf_printf(b, "%*s(%zu more messages not drawn)\n", TIMEW, "", l->dropped);
}

int sipcx_ladder_ascii(struct sipcx_ladder *l, struct sipcx_buf *b)
{
	return draw(l, b, ascii);
}

/* Mermaid text: letters, digits and a few signs; the rest (';', '#', ...) as spaces. */
static void put_mermaid_text(struct sipcx_buf *b, const char *s)
{
	for (; *s; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || strchr(" .:()[]/_-+*=", c);
		sipcx_buf_append(b, ok ? s : " ", 1);
	}
}

static void mermaid(const struct sipcx_ladder *l, const struct row **v, struct sipcx_buf *b)
{
	sipcx_buf_puts(b, "sequenceDiagram\n    autonumber\n");
	for (size_t c = 0; c < l->ncol; c++) {
		char a[SIPCX_ADDRSTRLEN];
		if (sipcx_sa_print(&l->col[c].sa, a, sizeof(a)) <= 0)
			snprintf(a, sizeof(a), "?");
		sipcx_buf_printf(b, "    participant P%zu as ", c);
		put_mermaid_text(b, a);
		sipcx_buf_puts(b, "\n");
	}
	for (size_t i = 0; i < l->nrows; i++) {
		const struct row *r = v[i];
		char text[LABEL_MAX + 24];
		row_text(r, text, sizeof(text));
		sipcx_buf_printf(b, "    P%u%sP%u: ", r->from, r->response ? "-->>" : "->>", r->to);
		put_mermaid_text(b, text);
		sipcx_buf_puts(b, "\n");
	}
	if (l->dropped)
		sipcx_buf_printf(b, "    Note over P0: %zu more messages not drawn\n", l->dropped);
}

int sipcx_ladder_mermaid(struct sipcx_ladder *l, struct sipcx_buf *b)
{
	return draw(l, b, mermaid);
}
