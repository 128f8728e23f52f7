/* bench: sofia-sip's parser (msg_make with the SIP class parses every header it knows). */
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>

#include "peers.h"

static int init(void)
{
	return 0;
}

static int parse(const char *buf, size_t len)
{
	msg_t *msg = msg_make(sip_default_mclass(), 0, buf, (isize_t)len);
	if (!msg)
		return -1;
	sip_t *sip = sip_object(msg);
	int ok = sip && sip->sip_via && sip->sip_from && sip->sip_to && sip->sip_call_id &&
	         sip->sip_cseq && !sip->sip_error;
	msg_destroy(msg);
	return ok ? 0 : -1;
}

const struct bench_parser bench_peer_sofia = { "sofia-sip", init, parse };
