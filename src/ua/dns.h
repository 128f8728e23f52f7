/* ua: RFC 3263 server location: the ordering rules (pure) and the c-ares resolver on the UA's loop. */
#ifndef SIPCX__UA_DNS_H
#define SIPCX__UA_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sipcx/transport.h>
#include <sipcx/uri.h>

/* At most this many targets (addresses) come out of one lookup: the failover list. */
#define SIPCX__DNS_MAX_TARGETS 8
/* SRV records (and NAPTR records) of one answer kept at most. */
#define SIPCX__DNS_MAX_RR 16
#define SIPCX__DNS_NAME 256

/* One SRV record (RFC 2782). */
struct sipcx__srv {
	uint16_t priority, weight, port;
	char target[SIPCX__DNS_NAME];
};

/* One NAPTR record (RFC 3403) as RFC 3263 4.1 reads it; proto set by sipcx__dns_naptr_pick(). */
struct sipcx__naptr {
	uint16_t order, preference;
	char flags[8];
	char service[32];
	char replacement[SIPCX__DNS_NAME];
	enum sipcx_tp_proto proto;
};

/* A random source for the weighted choice: a value in [0, UINT32_MAX]. */
typedef uint32_t sipcx__dns_rand_fn(void *arg);

/*
 * RFC 2782: order v by priority (lowest first), and within one priority
 * by the weighted random choice (weight 0 records first in the running
 * sums, so they are chosen rarely but can be). Pure: rnd decides.
 */
void sipcx__dns_srv_order(struct sipcx__srv *v, size_t n, sipcx__dns_rand_fn *rnd, void *rarg);

/*
 * RFC 3263 4.1: keep the NAPTR records a SIP client can follow: flag "s",
 * a service of a transport in protos (a bit mask of 1u << enum
 * sipcx_tp_proto: "SIP+D2U" UDP, "SIP+D2T" TCP, "SIPS+D2T" TLS), only
 * "SIPS+D2T" for a sips URI; sorted by order then preference, each given
 * its proto. Returns how many are left at the front of v.
 */
size_t sipcx__dns_naptr_pick(struct sipcx__naptr *v, size_t n, unsigned protos, bool sips);

/* "_sip._udp", "_sip._tcp", "_sips._tcp" (RFC 3263 4.1), NULL for other transports. */
const char *sipcx__dns_srv_prefix(enum sipcx_tp_proto p);

/*
 * The transport a URI asks for: ;transport=, else force (not
 * SIPCX_TP_NONE), TLS for sips (RFC 3261 26.2.2); SIPCX_TP_NONE when none
 * is chosen (RFC 3263 4.1 then picks). Returns 0 or -EPROTONOSUPPORT.
 */
int sipcx__dns_uri_proto(const struct sipcx_uri *u, enum sipcx_tp_proto force,
                         enum sipcx_tp_proto *out);

/* Room for sipcx__dns_uri_key(). */
#define SIPCX__DNS_KEY 320
/*
 * What a look-up of u depends on (RFC 3263 4.1, 4.2: scheme, host, port,
 * transport), readable: "sip:HOST[:PORT][;transport=T]", cut to n.
 */
void sipcx__dns_uri_key(const struct sipcx_uri *u, char *out, size_t n);

/* The lowest TTL of the answer records of a DNS message; 0 when none or malformed. */
uint32_t sipcx__dns_min_ttl(const unsigned char *msg, size_t len);

struct sipcx_ua;

/*
 * Targets of a lookup, in the order to try (RFC 3263 4.3); err 0 and n >
 * 0, or err SIPCX_ERESOLVE (no such name, no address of a family we listen
 * on), SIPCX_ECLOSED (the UA shuts down), -ENOMEM. Loop thread; never
 * inside sipcx__dns_locate().
 */
typedef void sipcx__dns_cb(int err, const struct sipcx_tp_addr *targets, size_t n, void *arg);

/*
 * The resolver of a UA (a c-ares channel driven by its loop): servers is
 * NULL (resolv.conf) or "IP:PORT[,IP:PORT...]". Before the loop thread
 * starts. Returns 0, -EINVAL (bad servers), -ENOMEM.
 */
int sipcx__dns_new(struct sipcx_ua *ua, const char *servers);
/* Destroy it (pending lookups get SIPCX_ECLOSED). Loop thread, or before it ran. */
void sipcx__dns_close(struct sipcx_ua *ua);

/*
 * Loop thread: where a request for u goes (RFC 3263 4.1, 4.2), with
 * ;transport= or force (not SIPCX_TP_NONE) or sips choosing the
 * transport. u's host is a name (sipcx__ua_by_name()): a numeric host
 * needs no DNS (RFC 3263 4.2) and its callers take sipcx__ua_next_hop()
 * instead. An explicit port skips NAPTR and SRV. cb runs once, on a later
 * loop turn. Returns 0 or -ENOMEM, -EINVAL, -EPROTONOSUPPORT (cb not
 * called).
 */
int sipcx__dns_locate(struct sipcx_ua *ua, const struct sipcx_uri *u, enum sipcx_tp_proto force,
                      sipcx__dns_cb *cb, void *arg);

#endif
