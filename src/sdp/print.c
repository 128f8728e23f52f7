/* sdp: print a parsed session description back as text in RFC 4566 5 field order. */
#include <errno.h>

#include "sdp.h"

static void line(struct sipcx_buf *b, char type, struct sipcx_str v)
{
	char head[2] = { type, '=' };
	sipcx_buf_append(b, head, 2);
	sipcx_buf_append_str(b, v);
	sipcx_buf_append(b, "\r\n", 2);
}

static void opt_line(struct sipcx_buf *b, char type, struct sipcx_str v)
{
	if (v.p)
		line(b, type, v);
}

static void conn_line(struct sipcx_buf *b, const struct sipcx_sdp_conn *c)
{
	if (!c->present)
		return;
	sipcx_buf_printf(b, "c=%.*s %.*s %.*s%.*s\r\n", SIPCX_STR_FMT(c->nettype),
	                 SIPCX_STR_FMT(c->addrtype), SIPCX_STR_FMT(c->addr),
	                 SIPCX_STR_FMT(c->suffix));
}

static void attr_lines(struct sipcx_buf *b, const struct sipcx_sdp_attr *a, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		sipcx_buf_append(b, "a=", 2);
		sipcx_buf_append_str(b, a[i].name);
		if (a[i].value.p) {
			sipcx_buf_append(b, ":", 1);
			sipcx_buf_append_str(b, a[i].value);
		}
		sipcx_buf_append(b, "\r\n", 2);
	}
}

static void media(struct sipcx_buf *b, const struct sipcx_sdp_media *m)
{
	sipcx_buf_printf(b, "m=%.*s %u", SIPCX_STR_FMT(m->type), (unsigned)m->port);
	if (m->nports)
		sipcx_buf_printf(b, "/%u", (unsigned)m->nports);
	sipcx_buf_append(b, " ", 1);
	sipcx_buf_append_str(b, m->proto);
	for (unsigned i = 0; i < m->nfmt; i++) {
		sipcx_buf_append(b, " ", 1);
		sipcx_buf_append_str(b, m->fmt[i]);
	}
	sipcx_buf_append(b, "\r\n", 2);
	opt_line(b, 'i', m->info);
	conn_line(b, &m->conn);
	for (unsigned i = 0; i < m->nbw; i++)
		line(b, 'b', m->bw[i]);
	opt_line(b, 'k', m->key);
	attr_lines(b, m->attr, m->nattr);
}

int sipcx_sdp_print(const struct sipcx_sdp *sdp, struct sipcx_buf *out)
{
	if (!sdp || !out)
		return -EINVAL;
	const struct sipcx_sdp_origin *o = &sdp->origin;

	sipcx_buf_append(out, "v=0\r\n", 5);
	sipcx_buf_printf(out, "o=%.*s %.*s %.*s %.*s %.*s %.*s\r\n", SIPCX_STR_FMT(o->username),
	                 SIPCX_STR_FMT(o->sess_id), SIPCX_STR_FMT(o->sess_version),
	                 SIPCX_STR_FMT(o->addr.nettype), SIPCX_STR_FMT(o->addr.addrtype),
	                 SIPCX_STR_FMT(o->addr.addr));
	line(out, 's', sdp->name);
	opt_line(out, 'i', sdp->info);
	opt_line(out, 'u', sdp->uri);
	for (unsigned i = 0; i < sdp->nemail; i++)
		line(out, 'e', sdp->email[i]);
	for (unsigned i = 0; i < sdp->nphone; i++)
		line(out, 'p', sdp->phone[i]);
	conn_line(out, &sdp->conn);
	for (unsigned i = 0; i < sdp->nbw; i++)
		line(out, 'b', sdp->bw[i]);
	for (unsigned i = 0; i < sdp->ntime; i++) {
		const struct sipcx_sdp_time *t = &sdp->time[i];
		sipcx_buf_printf(out, "t=%.*s %.*s\r\n", SIPCX_STR_FMT(t->start_str),
		                 SIPCX_STR_FMT(t->stop_str));
		for (unsigned k = 0; k < t->nrepeat; k++)
			line(out, 'r', t->repeat[k]);
	}
	opt_line(out, 'z', sdp->zone);
	opt_line(out, 'k', sdp->key);
	attr_lines(out, sdp->attr, sdp->nattr);
	for (unsigned i = 0; i < sdp->nmedia; i++)
		media(out, &sdp->media[i]);
	return sipcx_buf_err(out);
}
