/* sipcx parse: judge one SIP message (RFC 3261 7, RFC 4475) and summarise it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/sipcx.h>

#include "cli.h"

/* Read all of f, up to limit bytes; more than that is an error the caller reports. */
static char *read_all(FILE *f, size_t limit, size_t *len, int *too_big)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	*too_big = 0;
	while (buf) {
		if (n == cap) {
			if (cap > limit) {
				*too_big = 1;
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		if (r == 0) {
			if (ferror(f))
				break;
			*len = n;
			return buf;
		}
		n += r;
	}
	free(buf);
	return NULL;
}

static void json_str(FILE *out, struct sipcx_str s)
{
	fputc('"', out);
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c); /* bytes, not text: read as Latin-1 */
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/*
 * Printable text of a slice for the human summary: a line fold (CRLF + SP)
 * reads as the SP that follows it; other control bytes as \xHH.
 */
static void text_str(FILE *out, struct sipcx_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '\r' || c == '\n')
			continue;
		if (c < 0x20 && c != '\t')
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

/*
 * A header value as it reads (RFC 3261 7.3.1): every line fold, with the
 * whitespace around it, becomes one SP. Written into buf (at least
 * v.len bytes).
 */
static struct sipcx_str unfold(struct sipcx_str v, char *buf)
{
	size_t n = 0;
	for (size_t i = 0; i < v.len;) {
		size_t j = i;
		bool fold = false;
		while (j < v.len && strchr(" \t\r\n", v.p[j]) && v.p[j]) {
			fold |= v.p[j] == '\r' || v.p[j] == '\n';
			j++;
		}
		if (j == i) {
			buf[n++] = v.p[i++];
		} else if (fold) {
			buf[n++] = ' ';
			i = j;
		} else {
			memcpy(buf + n, v.p + i, j - i);
			n += j - i;
			i = j;
		}
	}
	return (struct sipcx_str){ buf, n };
}

static struct sipcx_str hdr_display_name(const struct sipcx_hdr *h)
{
	return h->id != SIPCX_HDR_OTHER ? sipcx_str_c(sipcx_hdr_name(h->id)) : h->name;
}

static void print_text(FILE *out, const struct sipcx_msg *m)
{
	text_str(out, m->start_line);
	fputc('\n', out);
	for (size_t i = 0; i < m->hdr_count; i++) {
		const struct sipcx_hdr *h = &m->hdrs[i];
		fputs("  ", out);
		text_str(out, hdr_display_name(h));
		fputs(": ", out);
		char *ub = malloc(h->value.len + 1);
		text_str(out, ub ? unfold(h->value, ub) : h->value);
		free(ub);
		fputc('\n', out);
	}
	fprintf(out, "body: %zu bytes\n", m->body.len);
}

static void print_json(FILE *out, const struct sipcx_msg *m, const struct sipcx_msg_verdict *v)
{
	fputs("{\"valid\":", out);
	fputs(v->action == SIPCX_MSG_ACCEPT ? "true" : "false", out);
	if (m->request) {
		fputs(",\"type\":\"request\",\"method\":", out);
		json_str(out, m->method_str);
		fputs(",\"uri\":", out);
		json_str(out, m->ruri);
	} else {
		fprintf(out, ",\"type\":\"response\",\"status\":%u,\"reason\":", m->status);
		json_str(out, m->reason);
	}
	fputs(",\"start_line\":", out);
	json_str(out, m->start_line);
	fputs(",\"headers\":[", out);
	for (size_t i = 0; i < m->hdr_count; i++) {
		const struct sipcx_hdr *h = &m->hdrs[i];
		fputs(i ? ",{\"name\":" : "{\"name\":", out);
		json_str(out, hdr_display_name(h));
		fputs(",\"raw_name\":", out);
		json_str(out, h->name);
		fputs(",\"value\":", out);
		char *ub = malloc(h->value.len + 1);
		json_str(out, ub ? unfold(h->value, ub) : h->value);
		free(ub);
		fputc('}', out);
	}
	fprintf(out, "],\"body_length\":%zu", m->body.len);
	if (v->action != SIPCX_MSG_ACCEPT) {
		fprintf(out, ",\"error\":{\"offset\":%zu,\"what\":", v->offset);
		json_str(out, sipcx_str_c(v->what));
		fprintf(out, ",\"action\":\"%s\"", v->action == SIPCX_MSG_DROP ? "drop" : "reject");
		if (v->action == SIPCX_MSG_REJECT) {
			fprintf(out, ",\"status\":%u,\"reason\":", v->status);
			json_str(out, sipcx_str_c(v->reason));
		}
		fputc('}', out);
	}
	fputs("}\n", out);
}

static void usage(FILE *f)
{
	fputs("usage: sipcx parse [--json] [--stream] [FILE|-]\n"
	      "Read one SIP message (default: stdin), judge it as RFC 3261/4475 say, and\n"
	      "print its start line, each header (canonical name: value) and the body length.\n"
	      "  --json     print one JSON object instead\n"
	      "  --stream   frame as on TCP (Content-Length required) instead of one datagram\n"
	      "exit: 0 well-formed, 1 malformed or rejected (one line: offset and what),\n"
	      "      2 usage error or unreadable input\n",
	      f);
}

int cmd_parse(int argc, char **argv)
{
	bool json = false, stream = false;
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG("json", &json),
		CLI_OPT_FLAG("stream", &stream),
		CLI_OPT_END,
	};
	int argi, rc0 = cli_parse("parse", argc, argv, opts, NULL, usage, &argi);
	if (rc0 >= 0)
		return rc0;
	if (argi + 1 < argc)
		return cli_usage("parse", "one message file at a time", NULL);
	const char *path = argi < argc ? argv[argi] : "-";
	unsigned flags = stream ? SIPCX_MSG_STREAM : 0;

	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "sipcx parse: %s: %s\n", path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	size_t len = 0;
	int too_big = 0;
	/* A little past the limit, so the parser itself says the message is too large. */
	char *buf = read_all(f, SIPCX_MSG_MAX_SIZE + 1, &len, &too_big);
	if (f != stdin)
		fclose(f);
	if (!buf) {
		if (too_big)
			fprintf(stderr, "sipcx parse: %s: larger than %d bytes\n", path,
			        SIPCX_MSG_MAX_SIZE);
		else
			fprintf(stderr, "sipcx parse: %s: cannot read\n", path);
		return too_big ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
	}

	/* The message struct holds the header index: too big for a small stack. */
	struct sipcx_msg *m = calloc(1, sizeof(*m));
	if (!m) {
		free(buf);
		fprintf(stderr, "sipcx parse: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	int rc = sipcx_msg_parse(m, buf, len, flags);
	struct sipcx_msg_verdict v;
	if (rc == -EAGAIN) {
		v = (struct sipcx_msg_verdict){ SIPCX_MSG_DROP, 0, NULL, len,
			                        "incomplete message (stream framing)" };
	} else {
		sipcx_msg_check(m, 0, &v);
	}
	int parsed_start = m->start_line.len > 0;

	if (json) {
		print_json(stdout, m, &v);
	} else if (parsed_start) {
		print_text(stdout, m);
	}
	int exit_code = CLI_EXIT_OK;
	if (v.action != SIPCX_MSG_ACCEPT) {
		fprintf(stderr, "sipcx parse: %s: offset %zu: %s", path, v.offset,
		        v.what ? v.what : "malformed");
		if (v.action == SIPCX_MSG_REJECT)
			fprintf(stderr, " (a server answers %u %s)\n", v.status,
			        v.reason ? v.reason : "");
		else
			fprintf(stderr, " (dropped silently)\n");
		exit_code = CLI_EXIT_FAIL;
	}
	free(m);
	free(buf);
	return exit_code;
}
