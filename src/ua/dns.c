/* ua: RFC 3263 server location on the UA's loop: c-ares driven by uv_poll and the timer wheel, a TTL cache. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ares.h>
#include <arpa/nameser.h>

#include "ua/dns.h"
#include "ua/ua.h"

/* Answers kept per UA (bounded: the oldest to expire goes first). */
#define DNS_CACHE 32
/* A TTL above this is cut to it: a moved server is found within the hour. */
#define DNS_TTL_MAX 3600u
/* c-ares' own retries: a dead server costs at most about 2 x 2 x 1.5 s. */
#define DNS_TIMEOUT_MS 1500
#define DNS_TRIES 2

#define KIND_ADDR 0 /* the data is union sipcx_sa[] (ares_getaddrinfo), else a DNS message */

struct dns_entry {
	int type; /* ns_t_srv, ns_t_naptr, or KIND_ADDR with family */
	int family;
	char name[SIPCX__DNS_NAME];
	uint64_t expires_us;
	void *data;
	size_t len;
};

struct dns_poll {
	uv_poll_t h;
	struct sipcx__dns *dns;
	ares_socket_t fd;
	struct dns_poll *next;
};

struct sipcx__dns {
	struct sipcx_ua *ua;
	ares_channel ch; /* destroyed once closed: nothing reaches it after (no timer, no poll) */
	bool closed;
	struct dns_poll *polls;
	unsigned npolls_open; /* handles not yet through their close callback */
	struct sipcx__wheel_entry tm;
	struct ua_closer closer;
	struct dns_entry cache[DNS_CACHE];
};

/* One lookup: the steps of RFC 3263 4.1/4.2, one query in flight at a time. */
struct lookup {
	struct sipcx__dns *dns;
	sipcx__dns_cb *cb;
	void *arg;
	char host[SIPCX__DNS_NAME];
	uint16_t port; /* explicit, or 0 */
	enum sipcx_tp_proto proto;
	bool sips;
	/* SRV names to ask, in order, and the transport of each */
	struct {
		char name[SIPCX__DNS_NAME];
		enum sipcx_tp_proto proto;
	} srvq[SIPCX__DNS_MAX_RR];
	size_t nsrvq, isrvq;
	/* hosts to find addresses of (SRV targets, or the URI's host) */
	struct sipcx__srv hosts[SIPCX__DNS_MAX_RR];
	size_t nhosts, ihost;
	int family_step; /* 0: AF_INET, 1: AF_INET6 */
	void (*next)(struct lookup *lk, int status, const void *data, size_t len);
	int qtype, qfamily;
	char qname[SIPCX__DNS_NAME];
	struct sipcx_tp_addr out[SIPCX__DNS_MAX_TARGETS];
	size_t nout;
};

static uv_once_t lib_once = UV_ONCE_INIT;
static int lib_err;

static void lib_init(void)
{
	lib_err = ares_library_init(ARES_LIB_INIT_ALL);
}

/* ---- c-ares on the loop ---- */

static void dns_rearm(struct sipcx__dns *dns)
{
	struct timeval tv, *t = ares_timeout(dns->ch, NULL, &tv);
	uint64_t at =
	    t ? sipcx_now_us() + (uint64_t)t->tv_sec * 1000000u + (uint64_t)t->tv_usec : UINT64_MAX;
	sipcx__ua_timer_set(dns->ua, &dns->tm, at);
}

static void dns_due(struct sipcx__wheel_entry *e)
{
	struct sipcx__dns *dns =
	    (struct sipcx__dns *)(void *)((char *)e - offsetof(struct sipcx__dns, tm));
	ares_process_fd(dns->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_rearm(dns);
}

static void dns_maybe_free(struct sipcx__dns *dns)
{
	if (dns->closed && !dns->npolls_open) {
		for (size_t i = 0; i < DNS_CACHE; i++)
			sipcx_free(dns->cache[i].data);
		sipcx_free(dns);
	}
}

static void poll_closed(uv_handle_t *h)
{
	struct dns_poll *p = h->data;
	struct sipcx__dns *dns = p->dns;
	sipcx_free(p);
	dns->npolls_open--;
	dns_maybe_free(dns);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct dns_poll *p = h->data;
	struct sipcx__dns *dns = p->dns;
	/* An error on the socket: let c-ares read it and find out. */
	if (status < 0)
		events = UV_READABLE | UV_WRITABLE;
	ares_process_fd(dns->ch, (events & UV_READABLE) ? p->fd : ARES_SOCKET_BAD,
	                (events & UV_WRITABLE) ? p->fd : ARES_SOCKET_BAD);
	dns_rearm(dns);
}

/* c-ares opens, watches and closes its sockets through here. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct sipcx__dns *dns = data;
	struct dns_poll **pp = &dns->polls, *p;
	while ((p = *pp) && p->fd != fd)
		pp = &p->next;
	if (!readable && !writable) {
		if (p) {
			*pp = p->next;
			uv_close((uv_handle_t *)&p->h, poll_closed);
		}
		return;
	}
	if (!p) {
		p = sipcx_calloc(1, sizeof(*p));
		if (!p)
			return; /* the query times out */
		if (uv_poll_init_socket(&dns->ua->loop, &p->h, fd)) {
			sipcx_free(p);
			return;
		}
		p->h.data = p;
		p->dns = dns;
		p->fd = fd;
		p->next = dns->polls;
		dns->polls = p;
		dns->npolls_open++;
	}
	uv_poll_start(&p->h, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

static struct sipcx__dns *ua_dns(struct sipcx_ua *ua)
{
	return ua->dns;
}

static void dns_closer(void *arg)
{
	sipcx__dns_close(arg);
}

int sipcx__dns_new(struct sipcx_ua *ua, const char *servers)
{
	uv_once(&lib_once, lib_init);
	if (lib_err != ARES_SUCCESS)
		return -ENOMEM;
	struct sipcx__dns *dns = sipcx_calloc(1, sizeof(*dns));
	if (!dns)
		return -ENOMEM;
	dns->ua = ua;
	dns->tm.fire = dns_due;
	struct ares_options o = {
		.sock_state_cb = sock_state,
		.sock_state_cb_data = dns,
		.timeout = DNS_TIMEOUT_MS,
		.tries = DNS_TRIES,
	};
	int r = ares_init_options(&dns->ch, &o,
	                          ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (r != ARES_SUCCESS) {
		sipcx_free(dns);
		return r == ARES_ENOMEM ? -ENOMEM : -EINVAL;
	}
	if (servers &&
	    (!*servers || ares_set_servers_ports_csv(dns->ch, servers) != ARES_SUCCESS)) {
		ares_destroy(dns->ch);
		sipcx_free(dns);
		return -EINVAL;
	}
	ua->dns = dns;
	dns->closer = (struct ua_closer){ .close = dns_closer, .arg = ua };
	sipcx__ua_closer_add(ua, &dns->closer);
	return 0;
}

void sipcx__dns_close(struct sipcx_ua *ua)
{
	struct sipcx__dns *dns = ua->dns;
	if (!dns)
		return;
	ua->dns = NULL;
	if (dns->closer.pprev)
		sipcx__ua_closer_del(&dns->closer);
	dns->closed = true;
	/* Pending queries end with ARES_EDESTRUCTION: their lookups give SIPCX_ECLOSED. */
	ares_destroy(dns->ch);
	sipcx__wheel_remove(&ua->timers.w, &dns->tm);
	while (dns->polls) {
		struct dns_poll *p = dns->polls;
		dns->polls = p->next;
		uv_close((uv_handle_t *)&p->h, poll_closed);
	}
	dns_maybe_free(dns);
}

/* ---- the cache ---- */

static struct dns_entry *cache_find(struct sipcx__dns *dns, int type, int family, const char *name)
{
	uint64_t now = sipcx_now_us();
	for (size_t i = 0; i < DNS_CACHE; i++) {
		struct dns_entry *e = &dns->cache[i];
		if (e->data && e->type == type && e->family == family && e->expires_us > now &&
		    !strcasecmp(e->name, name))
			return e;
	}
	return NULL;
}

/* Keep data (owned from now on) for ttl seconds; nothing kept for a TTL of 0. */
static void cache_put(struct sipcx__dns *dns, int type, int family, const char *name, void *data,
                      size_t len, uint32_t ttl)
{
	if (!ttl || strlen(name) >= SIPCX__DNS_NAME) {
		sipcx_free(data);
		return;
	}
	if (ttl > DNS_TTL_MAX)
		ttl = DNS_TTL_MAX;
	/* The same question's old answer, else a free entry, else the first to expire. */
	struct dns_entry *e = NULL, *oldest = &dns->cache[0];
	for (size_t i = 0; i < DNS_CACHE && !e; i++) {
		struct dns_entry *c = &dns->cache[i];
		if (c->data && c->type == type && c->family == family && !strcasecmp(c->name, name))
			e = c;
		else if (!c->data || c->expires_us < oldest->expires_us)
			oldest = !oldest->data ? oldest : c;
	}
	if (!e)
		e = oldest;
	sipcx_free(e->data);
	e->type = type;
	e->family = family;
	strcpy(e->name, name);
	e->data = data;
	e->len = len;
	e->expires_us = sipcx_now_us() + (uint64_t)ttl * 1000000u;
}

/* ---- queries ---- */

static int status_err(int status)
{
	return status == ARES_EDESTRUCTION || status == ARES_ECANCELLED ? SIPCX_ECLOSED
	       : status == ARES_ENOMEM                                  ? -ENOMEM
	                                                                : SIPCX_ERESOLVE;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	struct lookup *lk = arg;
	if (status == ARES_SUCCESS && alen > 0) {
		void *copy = sipcx_malloc((size_t)alen);
		if (copy) {
			memcpy(copy, abuf, (size_t)alen);
			cache_put(lk->dns, lk->qtype, 0, lk->qname, copy, (size_t)alen,
			          sipcx__dns_min_ttl(abuf, (size_t)alen));
		}
	}
	lk->next(lk, status, abuf, alen > 0 ? (size_t)alen : 0);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	(void)timeouts;
	struct lookup *lk = arg;
	union sipcx_sa *v = NULL;
	size_t n = 0;
	uint32_t ttl = UINT32_MAX;
	if (status == ARES_SUCCESS && ai) {
		for (struct ares_addrinfo_node *nd = ai->nodes; nd; nd = nd->ai_next)
			n++;
		v = n ? sipcx_calloc(n, sizeof(*v)) : NULL;
		n = 0;
		for (struct ares_addrinfo_node *nd = ai->nodes; v && nd; nd = nd->ai_next) {
			if (nd->ai_family != lk->qfamily || nd->ai_addrlen > sizeof(*v))
				continue;
			memcpy(&v[n++], nd->ai_addr, nd->ai_addrlen);
			if (nd->ai_ttl >= 0 && (uint32_t)nd->ai_ttl < ttl)
				ttl = (uint32_t)nd->ai_ttl;
		}
		if (!v)
			status = ARES_ENOMEM;
	}
	if (ai)
		ares_freeaddrinfo(ai);
	/* Kept before next runs: it may end the lookup (and reuse the entry it reads). */
	if (v && n) {
		void *copy = sipcx_malloc(n * sizeof(*v));
		if (copy) {
			memcpy(copy, v, n * sizeof(*v));
			cache_put(lk->dns, KIND_ADDR, lk->qfamily, lk->qname, copy, n * sizeof(*v),
			          ttl == UINT32_MAX ? 0 : ttl);
		}
	}
	lk->next(lk, status, v, n * sizeof(*v));
	sipcx_free(v);
}

/* Ask (or answer from the cache) and continue at next; family: an address query. */
static void query(struct lookup *lk, const char *name, int type, int family,
                  void (*next)(struct lookup *, int, const void *, size_t))
{
	struct sipcx__dns *dns = lk->dns;
	lk->next = next;
	lk->qtype = type;
	lk->qfamily = family;
	snprintf(lk->qname, sizeof(lk->qname), "%s", name);
	struct dns_entry *e = cache_find(dns, type, family, lk->qname);
	if (e) {
		next(lk, ARES_SUCCESS, e->data, e->len);
		return;
	}
	if (dns->closed) {
		next(lk, ARES_EDESTRUCTION, NULL, 0);
		return;
	}
	if (type == KIND_ADDR) {
		struct ares_addrinfo_hints h = { .ai_family = family };
		ares_getaddrinfo(dns->ch, lk->qname, NULL, &h, on_addrinfo, lk);
	} else {
		ares_query(dns->ch, lk->qname, ns_c_in, type, on_answer, lk);
	}
	dns_rearm(dns);
}

static void finish(struct lookup *lk, int err)
{
	if (!err && !lk->nout)
		err = SIPCX_ERESOLVE;
	lk->cb(err, err ? NULL : lk->out, err ? 0 : lk->nout, lk->arg);
	sipcx_free(lk);
}

/* The UA closing or memory running out ends the lookup; other failures try the next step. */
static bool stopped(struct lookup *lk, int status)
{
	int err = status_err(status);
	if (status == ARES_SUCCESS || err == SIPCX_ERESOLVE)
		return false;
	finish(lk, err);
	return true;
}

static void addr_step(struct lookup *lk);

static void on_addrs(struct lookup *lk, int status, const void *data, size_t len)
{
	if (stopped(lk, status))
		return;
	const union sipcx_sa *v = data;
	struct sipcx__srv *h = &lk->hosts[lk->ihost];
	for (size_t i = 0; status == ARES_SUCCESS && i < len / sizeof(*v); i++) {
		if (lk->nout == SIPCX__DNS_MAX_TARGETS)
			break;
		struct sipcx_tp_addr *t = &lk->out[lk->nout++];
		memset(t, 0, sizeof(*t));
		t->proto = lk->proto;
		memcpy(&t->sa, &v[i], sizeof(v[i]));
		sipcx_sa_set_port(&t->sa, h->port);
		/* TLS: the certificate must name the URI's domain (RFC 5922 4.1); WebSocket:
		 * the name goes in the handshake's Host. */
		if (lk->proto != SIPCX_TP_UDP && lk->proto != SIPCX_TP_TCP)
			sipcx_transport_tls_name(lk->dns->ua->tp, &t->sa, lk->host);
	}
	lk->family_step++;
	addr_step(lk);
}

/* A and AAAA (the families we listen on) of each host in turn. */
static void addr_step(struct lookup *lk)
{
	static const int fam[2] = { AF_INET, AF_INET6 };
	for (;;) {
		if (lk->ihost >= lk->nhosts || lk->nout == SIPCX__DNS_MAX_TARGETS) {
			finish(lk, 0);
			return;
		}
		if (lk->family_step >= 2) {
			lk->family_step = 0;
			lk->ihost++;
			continue;
		}
		int f = fam[lk->family_step];
		if (!sipcx__ua_listening(lk->dns->ua, lk->proto, f)) {
			lk->family_step++;
			continue;
		}
		query(lk, lk->hosts[lk->ihost].target, KIND_ADDR, f, on_addrs);
		return;
	}
}

/* The URI's host itself: RFC 3263 4.2, no SRV (explicit port) or none found. */
static void host_step(struct lookup *lk, uint16_t port)
{
	lk->nhosts = 1;
	lk->ihost = 0;
	lk->family_step = 0;
	snprintf(lk->hosts[0].target, sizeof(lk->hosts[0].target), "%s", lk->host);
	lk->hosts[0].port = port;
	addr_step(lk);
}

static uint32_t dns_rand(void *arg)
{
	(void)arg;
	uint32_t v = 0;
	sipcx_random_bytes(&v, sizeof(v));
	return v;
}

static void srv_step(struct lookup *lk);

static void on_srv(struct lookup *lk, int status, const void *data, size_t len)
{
	if (stopped(lk, status))
		return;
	struct ares_srv_reply *srv = NULL;
	if (status == ARES_SUCCESS && ares_parse_srv_reply(data, (int)len, &srv) == ARES_SUCCESS &&
	    srv) {
		size_t n = 0;
		for (struct ares_srv_reply *s = srv; s && n < SIPCX__DNS_MAX_RR; s = s->next) {
			/* "." as target: the service is decidedly not available (RFC 2782). */
			if (!strcmp(s->host, ".") || !s->host[0] ||
			    strlen(s->host) >= SIPCX__DNS_NAME)
				continue;
			lk->hosts[n] = (struct sipcx__srv){ s->priority, s->weight, s->port, "" };
			strcpy(lk->hosts[n].target, s->host);
			n++;
		}
		ares_free_data(srv);
		if (n) {
			sipcx__dns_srv_order(lk->hosts, n, dns_rand, NULL);
			lk->nhosts = n;
			lk->ihost = 0;
			lk->family_step = 0;
			lk->proto = lk->srvq[lk->isrvq].proto;
			addr_step(lk);
			return;
		}
	}
	lk->isrvq++;
	srv_step(lk);
}

static void srv_step(struct lookup *lk)
{
	if (lk->isrvq < lk->nsrvq) {
		query(lk, lk->srvq[lk->isrvq].name, ns_t_srv, 0, on_srv);
		return;
	}
	/* No SRV: the host's addresses at the default port (RFC 3263 4.2). */
	if (lk->proto == SIPCX_TP_NONE)
		lk->proto = lk->sips ? SIPCX_TP_TLS : SIPCX_TP_UDP;
	host_step(lk, sipcx__ua_default_port(lk->proto));
}

static void srv_add(struct lookup *lk, const char *name, enum sipcx_tp_proto p, bool prefix)
{
	if (lk->nsrvq == SIPCX__DNS_MAX_RR)
		return;
	if (prefix)
		snprintf(lk->srvq[lk->nsrvq].name, SIPCX__DNS_NAME, "%s.%s",
		         sipcx__dns_srv_prefix(p), name);
	else
		snprintf(lk->srvq[lk->nsrvq].name, SIPCX__DNS_NAME, "%s", name);
	lk->srvq[lk->nsrvq++].proto = p;
}

static unsigned protos_listened(const struct sipcx_ua *ua)
{
	unsigned m = 0;
	for (enum sipcx_tp_proto p = SIPCX_TP_UDP; p <= SIPCX_TP_TLS; p++)
		if (sipcx__ua_listening(ua, p, 0))
			m |= 1u << p;
	return m;
}

static void on_naptr(struct lookup *lk, int status, const void *data, size_t len)
{
	if (stopped(lk, status))
		return;
	struct ares_naptr_reply *nr = NULL;
	struct sipcx__naptr v[SIPCX__DNS_MAX_RR];
	size_t n = 0;
	if (status == ARES_SUCCESS && ares_parse_naptr_reply(data, (int)len, &nr) == ARES_SUCCESS) {
		for (struct ares_naptr_reply *r = nr; r && n < SIPCX__DNS_MAX_RR; r = r->next) {
			v[n] =
			    (struct sipcx__naptr){ .order = r->order, .preference = r->preference };
			snprintf(v[n].flags, sizeof(v[n].flags), "%s", (const char *)r->flags);
			snprintf(v[n].service, sizeof(v[n].service), "%s",
			         (const char *)r->service);
			snprintf(v[n].replacement, sizeof(v[n].replacement), "%s", r->replacement);
			n++;
		}
		ares_free_data(nr);
	}
	struct sipcx_ua *ua = lk->dns->ua;
	n = sipcx__dns_naptr_pick(v, n, protos_listened(ua), lk->sips);
	for (size_t i = 0; i < n; i++)
		srv_add(lk, v[i].replacement, v[i].proto, false);
	/* No NAPTR: an SRV query for each transport we have (RFC 3263 4.1). */
	if (!n) {
		if (lk->sips) {
			srv_add(lk, lk->host, SIPCX_TP_TLS, true);
		} else {
			for (enum sipcx_tp_proto p = SIPCX_TP_UDP; p <= SIPCX_TP_TCP; p++)
				if (sipcx__ua_listening(ua, p, 0))
					srv_add(lk, lk->host, p, true);
		}
	}
	srv_step(lk);
}

static void lookup_start(void *arg)
{
	struct lookup *lk = arg;
	if (lk->dns->closed || lk->dns->ua->closed) {
		finish(lk, SIPCX_ECLOSED);
		return;
	}
	if (lk->port) {
		if (lk->proto == SIPCX_TP_NONE)
			lk->proto = lk->sips ? SIPCX_TP_TLS : SIPCX_TP_UDP;
		host_step(lk, lk->port);
	} else if (lk->proto != SIPCX_TP_NONE) {
		srv_add(lk, lk->host, lk->proto, true);
		srv_step(lk);
	} else {
		query(lk, lk->host, ns_t_naptr, 0, on_naptr);
	}
}

void sipcx__dns_uri_key(const struct sipcx_uri *u, char *out, size_t n)
{
	struct sipcx_str tp = SIPCX_STR_NULL;
	bool has_tp = sipcx_uri_param(u, "transport", &tp);
	snprintf(out, n, "%s:%.*s%s%.0u%s%.*s", u->scheme == SIPCX_URI_SIPS ? "sips" : "sip",
	         SIPCX_STR_FMT(u->host), u->port ? ":" : "", (unsigned)u->port,
	         has_tp ? ";transport=" : "", has_tp ? (int)(tp.len > 16 ? 16 : tp.len) : 0,
	         has_tp ? tp.p : "");
}

int sipcx__dns_locate(struct sipcx_ua *ua, const struct sipcx_uri *u, enum sipcx_tp_proto force,
                      sipcx__dns_cb *cb, void *arg)
{
	struct sipcx__dns *dns = ua_dns(ua);
	if (!dns || ua->closed)
		return SIPCX_ECLOSED;
	if ((u->scheme != SIPCX_URI_SIP && u->scheme != SIPCX_URI_SIPS) || !u->host.len ||
	    u->host.len >= SIPCX__DNS_NAME)
		return -EINVAL;
	enum sipcx_tp_proto proto;
	int r = sipcx__dns_uri_proto(u, force, &proto);
	if (r)
		return r;
	bool sips = u->scheme == SIPCX_URI_SIPS;
	struct lookup *lk = sipcx_calloc(1, sizeof(*lk));
	if (!lk)
		return -ENOMEM;
	lk->dns = dns;
	lk->cb = cb;
	lk->arg = arg;
	lk->proto = proto;
	lk->sips = sips;
	lk->port = u->port;
	memcpy(lk->host, u->host.p, u->host.len);
	lk->host[u->host.len] = '\0';
	r = sipcx__ua_post(ua, lookup_start, lk);
	if (r)
		sipcx_free(lk);
	return r;
}
