/* bench: libre's parser (sip_msg_decode, as baresip runs it on every datagram). */
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <re.h>

#include "peers.h"

static struct mbuf *mb;

static int init(void)
{
	mb = mbuf_alloc(8192);
	return mb ? 0 : -1;
}

static int parse(const char *buf, size_t len)
{
	struct sip_msg *msg = NULL;
	mbuf_rewind(mb);
	if (mbuf_write_mem(mb, (const uint8_t *)buf, len) != 0)
		return -1;
	mb->pos = 0;
	int err = sip_msg_decode(&msg, mb);
	mem_deref(msg);
	return err ? -1 : 0;
}

const struct bench_parser bench_peer_re = { "libre", init, parse };
