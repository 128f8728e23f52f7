/* bench: adapters that parse one SIP message with another stack, for side-by-side numbers. */
#ifndef BENCH_PEERS_H
#define BENCH_PEERS_H

#include <stddef.h>

struct bench_parser {
	const char *name;
	int (*init)(void);
	/* Parse one datagram fully (as that stack does when it receives it); 0 when it parsed. */
	int (*parse)(const char *buf, size_t len);
};

extern const struct bench_parser bench_peer_osip2;
extern const struct bench_parser bench_peer_sofia;
extern const struct bench_parser bench_peer_re;

#endif
