/* ua: a call's SRTP master keys for SDES, fresh for each call (RFC 4568 6.1, 8.2; RFC 3711 8). */
#include <openssl/crypto.h>

#include "ua/call.h"

/* Our offer's order: the suite every peer speaks first (RFC 4568 6.2.1), then the others. */
static const enum sipcx_srtp_suite offer_order[SIPCX_SRTP_NSUITES] = {
	SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80,
	SIPCX_SRTP_AES_CM_128_HMAC_SHA1_32,
	SIPCX_SRTP_AEAD_AES_128_GCM,
};

int sipcx__call_srtp_keys(struct sipcx_call *c)
{
	c->nkeys = 0;
	if (c->cfg->srtp == SIPCX_SRTP_OFF)
		return 0;
	for (unsigned i = 0; i < SIPCX_SRTP_NSUITES; i++) {
		struct sipcx_sdp_crypto *k = &c->keys[i];
		k->tag = i + 1;
		k->suite = offer_order[i];
		/* RFC 3711 8.2: keys from a cryptographically secure source (getrandom). */
		int r = sipcx_random_bytes(k->key, sizeof(k->key));
		if (r) {
			sipcx__call_srtp_forget(c);
			return r;
		}
	}
	c->nkeys = SIPCX_SRTP_NSUITES;
	return 0;
}

void sipcx__call_srtp_forget(struct sipcx_call *c)
{
	OPENSSL_cleanse(c->keys, sizeof(c->keys));
	c->nkeys = 0;
}
