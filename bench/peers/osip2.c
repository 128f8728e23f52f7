/* bench: osip2's parser (osip_message_parse parses every known header eagerly). */
#include <osipparser2/osip_parser.h>

#include "peers.h"

static int init(void)
{
	return parser_init();
}

static int parse(const char *buf, size_t len)
{
	osip_message_t *sip;
	if (osip_message_init(&sip) != 0)
		return -1;
	int rc = osip_message_parse(sip, buf, len);
	osip_message_free(sip);
	return rc == 0 ? 0 : -1;
}

const struct bench_parser bench_peer_osip2 = { "osip2", init, parse };
