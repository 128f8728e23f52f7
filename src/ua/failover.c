/* ua: a request to a host name: its targets located on the loop (RFC 3263 4), tried in turn (4.3). */
#include <errno.h>
#include <string.h>

#include "msg/msg.h"
#include "ua/dns.h"
#include "ua/ua.h"

struct located {
	struct sipcx_ua *ua;
	struct sipcx_ua_req_opts o; /* its strings and body in this block, after it */
	struct sipcx_hdr *hdrs;     /* its headers (sipcx__hdrs_dup) */
	char *hdr_mem;
	sipcx_ua_resp_cb *cb;
	void *arg;
	bool forced; /* the transport was chosen (no move to TCP for size) */
	char tag[17], callid[25];
	struct sipcx_tp_addr targets[SIPCX__DNS_MAX_TARGETS];
	size_t n, i;
};

/* Room for s in the block (sizing pass when base is NULL); its copy, or NULL for NULL. */
static const char *put(char *base, size_t *off, const char *s, size_t len)
{
	if (!s)
		return NULL;
	char *d = base ? base + *off : NULL;
	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	*off += len + 1;
	return d;
}

static size_t copy_opts(struct located *L, const struct sipcx_ua_req_opts *o, char *base)
{
	size_t off = 0;
	struct sipcx_ua_req_opts c = *o;
#define PUT(f) c.f = put(base, &off, o->f, o->f ? strlen(o->f) : 0)
	PUT(method);
	PUT(uri);
	PUT(to);
	PUT(from);
	PUT(content_type);
	PUT(call_id);
	PUT(from_tag);
	PUT(contact);
#undef PUT
	const char *body = put(base, &off, o->body.p, o->body.len);
	if (base) {
		c.hdrs = L->hdrs;
		c.body = (struct sipcx_str){ body, o->body.len };
		c.dst = NULL;
		L->o = c;
	}
	return off;
}

static void located_free(struct located *L)
{
	sipcx_free(L->hdrs);
	sipcx_free(L->hdr_mem);
	sipcx_free(L);
}

static void on_resp(int err, const struct sipcx_msg *resp, void *arg);

/* Send to the next target that takes it; false when none is left (cb not called). */
static bool try_next(struct located *L, int *err)
{
	for (; L->i < L->n; L->i++) {
		struct sipcx_tp_addr dst = L->targets[L->i];
		char branch[SIPCX_TXN_BRANCH_SIZE];
		sipcx_txn_gen_branch(branch); /* RFC 3263 4.3: a new transaction */
		struct sipcx_buf b;
		sipcx_buf_init(&b);
		int r = sipcx__ua_build_for(L->ua, &L->o, &dst, L->forced, branch,
		                            L->o.from_tag ? L->o.from_tag : L->tag,
		                            L->o.call_id ? L->o.call_id : L->callid, &b);
		if (!r && !sipcx__ua_client_send(L->ua, b.p, b.len, &dst, on_resp, L, &r))
			r = r ? r : -EIO;
		sipcx_buf_free(&b);
		if (!r)
			return true;
		*err = r;
		SIPCX_DEBUG("%s %s: target %zu of %zu refused: %s", L->o.method, L->o.uri, L->i + 1,
		            L->n, sipcx_strerror(r));
	}
	return false;
}

static void give_up(struct located *L, int err)
{
	L->cb(err, NULL, L->arg);
	located_free(L);
}

static void on_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	struct located *L = arg;
	bool retry = (err && err != SIPCX_ECLOSED) || (resp && resp->status == 503);
	if (retry && L->i + 1 < L->n && !L->ua->closed) {
		SIPCX_INFO("%s %s: target %zu of %zu failed (%s), trying the next", L->o.method,
		           L->o.uri, L->i + 1, L->n, err ? sipcx_strerror(err) : "503");
		L->i++;
		int e = err;
		if (!try_next(L, &e))
			give_up(L, e);
		return;
	}
	L->cb(err, resp, L->arg);
	if (err || (resp && resp->status >= 200))
		located_free(L);
}

static void on_targets(int err, const struct sipcx_tp_addr *t, size_t n, void *arg)
{
	struct located *L = arg;
	if (err) {
		give_up(L, err);
		return;
	}
	memcpy(L->targets, t, n * sizeof(*t));
	L->n = n;
	L->i = 0;
	int e = SIPCX_ERESOLVE;
	if (!try_next(L, &e))
		give_up(L, e);
}

static void located_start(void *arg)
{
	struct located *L = arg;
	struct sipcx_uri u;
	int r = L->ua->closed ? SIPCX_ECLOSED : sipcx_uri_parse(&u, sipcx_str_c(L->o.uri));
	if (!r)
		r = sipcx__dns_locate(L->ua, &u, L->o.transport, on_targets, L);
	if (r)
		give_up(L, r);
}

int sipcx__ua_request_located(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o,
                              sipcx_ua_resp_cb *cb, void *arg)
{
	struct sipcx_uri u;
	enum sipcx_tp_proto proto;
	if (sipcx_uri_parse(&u, sipcx_str_c(o->uri)) != 0)
		return -EINVAL;
	int r = sipcx__dns_uri_proto(&u, o->transport, &proto);
	if (r)
		return r;
	/* A transport we cannot send on is known now (the listen state is fixed). */
	if (proto == SIPCX_TP_NONE ? !ua->nbound : !sipcx__ua_listening(ua, proto, 0))
		return -EPROTONOSUPPORT;
	if (sipcx__ua_on_loop(ua) && ua->closed)
		return SIPCX_ECLOSED;
	struct sipcx_hdr *hdrs = NULL;
	char *hdr_mem = NULL;
	if ((r = sipcx__hdrs_dup(o->hdrs, o->nhdrs, 0, &hdrs, &hdr_mem)) != 0)
		return r;
	size_t extra = copy_opts(NULL, o, NULL);
	struct located *L = sipcx_calloc(1, sizeof(*L) + extra);
	if (!L) {
		sipcx_free(hdrs);
		sipcx_free(hdr_mem);
		return -ENOMEM;
	}
	L->hdrs = hdrs;
	L->hdr_mem = hdr_mem;
	copy_opts(L, o, (char *)(L + 1));
	L->ua = ua;
	L->cb = cb;
	L->arg = arg;
	struct sipcx_str tparam;
	L->forced = o->transport != SIPCX_TP_NONE || u.scheme == SIPCX_URI_SIPS ||
	            sipcx_uri_param(&u, "transport", &tparam);
	sipcx_random_token(L->tag, 16);
	sipcx_random_token(L->callid, 24);
	/* Through the queue even on the loop thread: cb never runs inside this call. */
	r = sipcx__ua_post(ua, located_start, L);
	if (r)
		located_free(L);
	return r;
}
