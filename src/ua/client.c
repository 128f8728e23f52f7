/* ua: building requests (RFC 3261 8.1.1), choosing the next hop (18.1.1), client transactions. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ua/dns.h"
#include "ua/ua.h"

bool sipcx__ua_listening(const struct sipcx_ua *ua, enum sipcx_tp_proto proto, int family)
{
	for (size_t i = 0; i < ua->nbound; i++)
		if (ua->bound[i].proto == proto &&
		    (!family || ua->bound[i].sa.sa.sa_family == family))
			return true;
	return false;
}

int sipcx__ua_uri_dst(const struct sipcx_uri *u, enum sipcx_tp_proto force,
                      struct sipcx_tp_addr *dst)
{
	if (u->scheme != SIPCX_URI_SIP && u->scheme != SIPCX_URI_SIPS)
		return -EINVAL;
	enum sipcx_tp_proto proto;
	int r = sipcx__dns_uri_proto(u, force, &proto);
	if (r)
		return r;
	if (proto == SIPCX_TP_NONE)
		proto = SIPCX_TP_UDP;
	dst->proto = proto;
	/* A name is never looked up here: the loop would wait on it (RFC 3263: dns.c). */
	return sipcx_sa_set(&dst->sa, u->host, u->port ? u->port : sipcx__ua_default_port(proto))
	           ? -EAGAIN
	           : 0;
}

/* The next hop of a numeric host or dst (RFC 3261 8.1.2, 18.1.1; host names: sipcx__ua_by_name()). */
int sipcx__ua_next_hop(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o,
                       struct sipcx_tp_addr *dst, bool *forced)
{
	*forced = o->dst || o->transport != SIPCX_TP_NONE;
	if (o->dst) {
		int r = sipcx_tp_addr_parse(dst, o->dst);
		if (r)
			return r;
		if (o->transport != SIPCX_TP_NONE)
			dst->proto = o->transport;
	} else {
		struct sipcx_uri u;
		if (sipcx_uri_parse(&u, sipcx_str_c(o->uri)) != 0)
			return -EINVAL;
		struct sipcx_str tparam;
		if (u.scheme == SIPCX_URI_SIPS ||
		    (u.scheme == SIPCX_URI_SIP && sipcx_uri_param(&u, "transport", &tparam)))
			*forced = true;
		int r = sipcx__ua_uri_dst(&u, o->transport, dst);
		if (r)
			return r;
	}
	if (!sipcx__ua_listening(ua, dst->proto, dst->sa.sa.sa_family))
		return -EPROTONOSUPPORT;
	return 0;
}

int sipcx__ua_name_hop(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o,
                       struct sipcx_tp_addr *dst)
{
	struct sipcx_uri u;
	if (sipcx_uri_parse(&u, sipcx_str_c(o->uri)) != 0)
		return -EINVAL;
	enum sipcx_tp_proto proto;
	int r = sipcx__dns_uri_proto(&u, o->transport, &proto);
	if (r)
		return r;
	memset(dst, 0, sizeof(*dst));
	dst->proto = proto == SIPCX_TP_NONE ? SIPCX_TP_UDP : proto;
	/*
	 * IPv4 when we listen there, else IPv6. The address is not known yet:
	 * a documentation address (RFC 5737, RFC 3849) stands for "elsewhere",
	 * so our address toward it is the default route's; loopback without one.
	 */
	int family = sipcx__ua_listening(ua, dst->proto, AF_INET) ? AF_INET : AF_INET6;
	if (!sipcx__ua_listening(ua, dst->proto, family))
		return -EPROTONOSUPPORT;
	uint16_t port = sipcx__ua_default_port(dst->proto);
	sipcx_sa_set(&dst->sa,
	             family == AF_INET ? SIPCX_STR("192.0.2.1") : SIPCX_STR("2001:db8::1"), port);
	union sipcx_sa local;
	if (sipcx_transport_local(ua->tp, dst, &local) != 0)
		sipcx_sa_set(&dst->sa,
		             family == AF_INET ? SIPCX_STR("127.0.0.1") : SIPCX_STR("::1"), port);
	return 0;
}

/*
 * RFC 5923: over TLS our Via asks the peer to reach our sent-by over the
 * connection we opened: our tls: listener may have no certificate. Over
 * WebSocket the same (RFC 7118 5: a server reaches a client over its
 * connection only).
 */
static const char *via_alias(enum sipcx_tp_proto proto)
{
	return proto == SIPCX_TP_TLS || proto == SIPCX_TP_WS || proto == SIPCX_TP_WSS ? ";alias"
	                                                                              : "";
}

int sipcx__ua_via(struct sipcx_ua *ua, const struct sipcx_tp_addr *dst, const char *branch,
                  char *out, size_t n)
{
	char hostport[SIPCX_ADDRSTRLEN];
	int r = sipcx__ua_local(ua, dst, hostport, sizeof(hostport), NULL, 0);
	if (r)
		return r;
	r = snprintf(out, n, "SIP/2.0/%s %s;rport%s;branch=%s", sipcx_tp_name(dst->proto), hostport,
	             via_alias(dst->proto), branch);
	return r < 0 || (size_t)r >= n ? -ENOSPC : 0;
}

/* "<sip:USER@HOSTPORT;transport=..>" or "<sips:USER@HOSTPORT>" into out. */
static int print_contact(enum sipcx_tp_proto proto, bool sips, const char *user,
                         const char *hostport, char *out, size_t n)
{
	int r = sips ? snprintf(out, n, "<sips:%s@%s>", user, hostport)
	             : snprintf(out, n, "<sip:%s@%s%s>", user, hostport, sipcx__ua_tp_param(proto));
	return r < 0 || (size_t)r >= n ? -ENOSPC : 0;
}

int sipcx__ua_contact(struct sipcx_ua *ua, const struct sipcx_tp_addr *dst, const char *user,
                      bool sips, char *out, size_t n)
{
	char hostport[SIPCX_ADDRSTRLEN];
	int r = sipcx__ua_local(ua, dst, hostport, sizeof(hostport), NULL, 0);
	if (r)
		return r;
	return print_contact(dst->proto, sips && dst->proto == SIPCX_TP_TLS, user ? user : ua->user,
	                     hostport, out, n);
}

static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-.!%*_+`'~", c)))
			return false;
	}
	return true;
}

int sipcx__ua_build_request(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o,
                            const struct sipcx_tp_addr *dst, const char *branch, const char *tag,
                            const char *callid, struct sipcx_buf *b)
{
	char hostport[SIPCX_ADDRSTRLEN], host[SIPCX_ADDRSTRLEN];
	int r = sipcx__ua_local(ua, dst, hostport, sizeof(hostport), host, sizeof(host));
	if (r)
		return r;
	const char *tp = sipcx_tp_name(dst->proto);

	char via[160], from[512], to[512], cseq[64], contact[256];
	snprintf(via, sizeof(via), "SIP/2.0/%s %s;rport%s;branch=%s", tp, hostport,
	         via_alias(dst->proto), branch);
	if (o->from)
		r = snprintf(from, sizeof(from), "%s;tag=%s", o->from, tag);
	else
		r = snprintf(from, sizeof(from), "<sip:%s@%s>;tag=%s", ua->user, host, tag);
	if (r < 0 || (size_t)r >= sizeof(from))
		return -EINVAL;
	if (o->to)
		r = snprintf(to, sizeof(to), "%s", o->to);
	else
		r = snprintf(to, sizeof(to), "<%s>", o->uri);
	if (r < 0 || (size_t)r >= sizeof(to))
		return -EINVAL;
	snprintf(cseq, sizeof(cseq), "%u %s", o->cseq ? o->cseq : 1u, o->method);
	bool sips = dst->proto == SIPCX_TP_TLS && !strncasecmp(o->uri, "sips:", 5);
	if (print_contact(dst->proto, sips, ua->user, hostport, contact, sizeof(contact)))
		return -EINVAL;

	struct sipcx_hdr fixed[8];
	size_t nfixed = 0;
	fixed[nfixed++] = (struct sipcx_hdr){ SIPCX_HDR_VIA, SIPCX_STR_NULL, sipcx_str_c(via) };
	fixed[nfixed++] =
	    (struct sipcx_hdr){ SIPCX_HDR_MAX_FORWARDS, SIPCX_STR_NULL, SIPCX_STR("70") };
	fixed[nfixed++] = (struct sipcx_hdr){ SIPCX_HDR_FROM, SIPCX_STR_NULL, sipcx_str_c(from) };
	fixed[nfixed++] = (struct sipcx_hdr){ SIPCX_HDR_TO, SIPCX_STR_NULL, sipcx_str_c(to) };
	fixed[nfixed++] =
	    (struct sipcx_hdr){ SIPCX_HDR_CALL_ID, SIPCX_STR_NULL, sipcx_str_c(callid) };
	fixed[nfixed++] = (struct sipcx_hdr){ SIPCX_HDR_CSEQ, SIPCX_STR_NULL, sipcx_str_c(cseq) };
	if (!o->contact || *o->contact)
		fixed[nfixed++] =
		    (struct sipcx_hdr){ SIPCX_HDR_CONTACT, SIPCX_STR_NULL,
			                sipcx_str_c(o->contact ? o->contact : contact) };
	fixed[nfixed++] =
	    (struct sipcx_hdr){ SIPCX_HDR_USER_AGENT, SIPCX_STR_NULL, sipcx_str_c(ua->user_agent) };
	size_t n = nfixed + o->nhdrs + 1;
	struct sipcx_hdr *hdrs = sipcx_calloc(n, sizeof(*hdrs));
	if (!hdrs)
		return -ENOMEM;
	memcpy(hdrs, fixed, nfixed * sizeof(*hdrs));
	if (o->nhdrs)
		memcpy(hdrs + nfixed, o->hdrs, o->nhdrs * sizeof(*hdrs));
	n = nfixed + o->nhdrs;
	if (o->body.len)
		hdrs[n++] = (struct sipcx_hdr){ SIPCX_HDR_CONTENT_TYPE, SIPCX_STR_NULL,
			                        sipcx_str_c(o->content_type) };
	r = sipcx_msg_print_request(b, sipcx_str_c(o->method), sipcx_str_c(o->uri), hdrs, n,
	                            o->body);
	sipcx_free(hdrs);
	return r;
}

int sipcx__ua_build_for(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o,
                        struct sipcx_tp_addr *dst, bool forced, const char *branch, const char *tag,
                        const char *callid, struct sipcx_buf *b)
{
	int r = sipcx__ua_build_request(ua, o, dst, branch, tag, callid, b);
	/* RFC 3261 18.1.1: over 1300 bytes, a congestion-controlled transport when we have one. */
	if (!r && dst->proto == SIPCX_TP_UDP && !forced && b->len > 1300 &&
	    sipcx__ua_listening(ua, SIPCX_TP_TCP, dst->sa.sa.sa_family)) {
		dst->proto = SIPCX_TP_TCP;
		b->len = 0;
		r = sipcx__ua_build_request(ua, o, dst, branch, tag, callid, b);
	}
	return r;
}

bool sipcx__ua_by_name(const struct sipcx_ua_req_opts *o)
{
	struct sipcx_uri u;
	union sipcx_sa sa;
	return !o->dst && sipcx_uri_parse(&u, sipcx_str_c(o->uri)) == 0 &&
	       (u.scheme == SIPCX_URI_SIP || u.scheme == SIPCX_URI_SIPS) &&
	       sipcx_sa_set(&sa, u.host, 0) != 0;
}

int sipcx_ua_request(struct sipcx_ua *ua, const struct sipcx_ua_req_opts *o, sipcx_ua_resp_cb *cb,
                     void *arg)
{
	if (!ua || !o || !cb || !o->method || !o->uri || !is_token(o->method))
		return -EINVAL;
	if (!strcmp(o->method, "ACK") || !strcmp(o->method, "CANCEL"))
		return -EINVAL;
	if (o->body.len && !o->content_type)
		return -EINVAL;

	if ((o->call_id && !*o->call_id) || (o->from_tag && !*o->from_tag))
		return -EINVAL;
	if (sipcx__ua_by_name(o))
		return sipcx__ua_request_located(ua, o, cb, arg);
	struct sipcx_tp_addr dst;
	bool forced;
	int r = sipcx__ua_next_hop(ua, o, &dst, &forced);
	if (r)
		return r;
	char branch[SIPCX_TXN_BRANCH_SIZE], rtag[17], rcallid[25];
	sipcx_txn_gen_branch(branch);
	sipcx_random_token(rtag, 16);
	sipcx_random_token(rcallid, 24);
	const char *tag = o->from_tag ? o->from_tag : rtag;
	const char *callid = o->call_id ? o->call_id : rcallid;
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	r = sipcx__ua_build_for(ua, o, &dst, forced, branch, tag, callid, &b);
	if (r) {
		sipcx_buf_free(&b);
		return r;
	}
	struct ua_job *job = sipcx_calloc(1, sizeof(*job));
	if (!job) {
		sipcx_buf_free(&b);
		return -ENOMEM;
	}
	job->type = UA_JOB_REQUEST;
	job->bytes = sipcx_buf_detach(&b, &job->len);
	job->dst = dst;
	job->cb = cb;
	job->arg = arg;
	if (!job->bytes) {
		sipcx_free(job);
		return -ENOMEM;
	}
	/*
	 * Through the queue even on the loop thread: the transaction starts on
	 * the next loop turn, so cb never runs inside this call (an error known
	 * at once, such as a failed send, comes as a callback like any other).
	 */
	if (sipcx__ua_on_loop(ua) && ua->closed)
		r = SIPCX_ECLOSED;
	else
		r = sipcx__ua_submit(ua, job);
	if (r) {
		sipcx_free(job->bytes);
		sipcx_free(job);
	}
	return r;
}

void sipcx__ua_client_start(struct sipcx_ua *ua, struct ua_job *job)
{
	struct sipcx_txn_opts topts = ua->topts;
	if (sipcx__ua_stream(job->dst.proto))
		topts.flags |= SIPCX_TXN_RELIABLE;
	topts.user_size = sizeof(struct ua_txn); /* the ua's state in the transaction's block */
	struct sipcx_txn_out o;
	struct sipcx_txn *t = NULL;
	int r = sipcx_txn_client_new(&t, job->bytes, job->len, &topts, sipcx_now_us(), &o);
	if (!r)
		r = sipcx_txn_table_add(ua->table, t);
	sipcx_free(job->bytes);
	if (r) {
		/* Accepted earlier, failed now: the callback learns it. */
		job->cb(r, NULL, job->arg);
		sipcx_txn_free(t);
		sipcx_free(job);
		return;
	}
	struct ua_txn *ut = sipcx__ua_txn_init(ua, t);
	ut->client = true;
	ua_addr_set(&ut->dst, &job->dst);
	ut->cb = job->cb;
	ut->arg = job->arg;
	sipcx_free(job);
	sipcx__ua_txn_apply(ut, &o);
}

struct ua_txn *sipcx__ua_client_send(struct sipcx_ua *ua, const char *bytes, size_t len,
                                     const struct sipcx_tp_addr *dst, sipcx_ua_resp_cb *cb,
                                     void *arg, int *err)
{
	if (ua->closed) {
		*err = SIPCX_ECLOSED;
		return NULL;
	}
	struct sipcx_txn_opts topts = ua->topts;
	if (sipcx__ua_stream(dst->proto))
		topts.flags |= SIPCX_TXN_RELIABLE;
	topts.user_size = sizeof(struct ua_txn);
	struct sipcx_txn_out o;
	struct sipcx_txn *t = NULL;
	int r = sipcx_txn_client_new(&t, bytes, len, &topts, sipcx_now_us(), &o);
	/* The first send here: its failure is the caller's error, not a callback. */
	for (size_t i = 0; !r && i < o.nsend; i++)
		r = sipcx_transport_send(ua->tp, dst, 0, o.send[i].p, o.send[i].len);
	if (!r)
		r = sipcx_txn_table_add(ua->table, t);
	if (r) {
		sipcx_txn_free(t);
		*err = r;
		return NULL;
	}
	UA_STAT_ADD(ua, tx_requests, o.nsend);
	struct ua_txn *ut = sipcx__ua_txn_init(ua, t);
	ut->client = true;
	ua_addr_set(&ut->dst, dst);
	ut->cb = cb;
	ut->arg = arg;
	o.nsend = 0; /* sent above */
	sipcx__ua_txn_apply(ut, &o);
	*err = 0;
	return ut;
}

void sipcx__ua_client_close_all(struct sipcx_ua *ua)
{
	for (struct ua_txn *ut = ua->txns; ut; ut = ut->next)
		if (ut->client && !ut->finished && ut->cb) {
			ut->finished = true;
			ut->cb(SIPCX_ECLOSED, NULL, ut->arg);
		}
}
