/* media/srtp.c: SRTP and SRTCP on a media session with libsrtp2, the keys from SDES (RFC 3711 3.3, 3.4; RFC 4568; RFC 7714). */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include "base/base.h"
#include "media/media.h"

/*
 * One libsrtp session per direction: libsrtp keeps one template per session,
 * and a session must not hold an inbound and an outbound stream for the same
 * SSRC, which an echo makes (it sends back the peer's SSRC).
 */
struct sipcx__srtp {
	srtp_t tx, rx;
	enum sipcx_srtp_suite suite;
	uint8_t tx_key[SIPCX_SRTP_KEY_MAX];
	uint8_t rx_key[SIPCX_SRTP_KEY_MAX];
};

/* Room libsrtp may write after a packet it protects: the tag and, for SRTCP, the index. */
#define SRTP_ROOM (SRTP_MAX_TRAILER_LEN + 4)

static uv_once_t init_once = UV_ONCE_INIT;
static int init_err;

static void init_srtp(void)
{
	init_err = srtp_init() == srtp_err_status_ok ? 0 : -ENOTSUP;
}

static int policy_of(srtp_policy_t *p, enum sipcx_srtp_suite suite)
{
	memset(p, 0, sizeof(*p));
	switch (suite) {
	case SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	case SIPCX_SRTP_AES_CM_128_HMAC_SHA1_32:
		/* RFC 4568 6.2.2: the short tag is for SRTP only, SRTCP keeps 80 bits. */
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	case SIPCX_SRTP_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
		break;
	default:
		return -EINVAL;
	}
	/* RFC 3711 3.3.2: a replay list larger than the minimum 64, for reordering. */
	p->window_size = 1024;
	return 0;
}

static int session_new(srtp_t *out, enum sipcx_srtp_suite suite, const uint8_t *key, bool tx)
{
	srtp_policy_t p;
	uint8_t k[SIPCX_SRTP_KEY_MAX];
	int err = policy_of(&p, suite);
	if (err)
		return err;
	/* libsrtp reads the key through a non-const pointer but does not write it. */
	memcpy(k, key, sizeof(k));
	p.key = k;
	p.ssrc.type = tx ? ssrc_any_outbound : ssrc_any_inbound;
	srtp_err_status_t st = srtp_create(out, &p);
	OPENSSL_cleanse(k, sizeof(k));
	if (st != srtp_err_status_ok)
		*out = NULL; /* nothing for sipcx__srtp_free to release */
	return st == srtp_err_status_ok ? 0 : st == srtp_err_status_alloc_fail ? -ENOMEM : -EINVAL;
}

int sipcx__srtp_new(struct sipcx__srtp **out, enum sipcx_srtp_suite suite, const uint8_t *tx_key,
                    const uint8_t *rx_key)
{
	if (!out || !tx_key || !rx_key || suite == SIPCX_SRTP_NONE ||
	    (unsigned)suite > SIPCX_SRTP_NSUITES)
		return -EINVAL;
	uv_once(&init_once, init_srtp);
	if (init_err)
		return init_err;
	struct sipcx__srtp *s = sipcx_calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->suite = suite;
	memcpy(s->tx_key, tx_key, sizeof(s->tx_key));
	memcpy(s->rx_key, rx_key, sizeof(s->rx_key));
	int err = session_new(&s->tx, suite, tx_key, true);
	if (!err)
		err = session_new(&s->rx, suite, rx_key, false);
	if (err) {
		sipcx__srtp_free(s);
		return err;
	}
	*out = s;
	return 0;
}

void sipcx__srtp_free(struct sipcx__srtp *s)
{
	if (!s)
		return;
	if (s->tx) /* NULL when _new failed before it */
		srtp_dealloc(s->tx);
	if (s->rx)
		srtp_dealloc(s->rx);
	OPENSSL_cleanse(s, sizeof(*s));
	sipcx_free(s);
}

bool sipcx__srtp_same(const struct sipcx__srtp *s, enum sipcx_srtp_suite suite,
                      const uint8_t *tx_key, const uint8_t *rx_key)
{
	return s && s->suite == suite && memcmp(s->tx_key, tx_key, sizeof(s->tx_key)) == 0 &&
	       memcmp(s->rx_key, rx_key, sizeof(s->rx_key)) == 0;
}

int sipcx__srtp_protect(struct sipcx__srtp *s, bool rtcp, uint8_t *buf, size_t *len, size_t cap)
{
	if (*len > (size_t)INT32_MAX || cap < *len + SRTP_ROOM)
		return -EMSGSIZE;
	int n = (int)*len;
	srtp_err_status_t st =
	    rtcp ? srtp_protect_rtcp(s->tx, buf, &n) : srtp_protect(s->tx, buf, &n);
	if (st != srtp_err_status_ok)
		return st == srtp_err_status_replay_fail || st == srtp_err_status_replay_old
		           ? -EALREADY
		           : -EINVAL;
	*len = (size_t)n;
	return 0;
}

int sipcx__srtp_unprotect(struct sipcx__srtp *s, bool rtcp, uint8_t *buf, size_t *len)
{
	if (*len > (size_t)INT32_MAX)
		return -EMSGSIZE;
	int n = (int)*len;
	srtp_err_status_t st =
	    rtcp ? srtp_unprotect_rtcp(s->rx, buf, &n) : srtp_unprotect(s->rx, buf, &n);
	switch (st) {
	case srtp_err_status_ok:
		*len = (size_t)n;
		return 0;
	case srtp_err_status_auth_fail:
		return -EBADMSG;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return -EALREADY;
	default:
		return -EINVAL;
	}
}

/* ------------------------------------------------- on a media session -- */

int sipcx__media_srtp_apply(struct sipcx_media *m, const struct sipcx_sdp_result *res)
{
	struct sipcx__srtp *s = m->srtp;
	if (res->srtp == SIPCX_SRTP_NONE) {
		sipcx__srtp_free(s);
		m->srtp = NULL;
		return 0;
	}
	/* The same keys again (a re-INVITE, a refresh): the contexts and their indexes stay. */
	if (sipcx__srtp_same(s, res->srtp, res->srtp_tx_key, res->srtp_rx_key))
		return 0;
	/*
	 * Only the peer's key changed: our sending context goes on, so that an index we used
	 * is never protected again with our key (RFC 3711 9.1: no key stream twice).
	 */
	if (s && s->suite == res->srtp &&
	    memcmp(s->tx_key, res->srtp_tx_key, sizeof(s->tx_key)) == 0) {
		srtp_t rx;
		int err = session_new(&rx, res->srtp, res->srtp_rx_key, false);
		if (err)
			return err;
		srtp_dealloc(s->rx);
		s->rx = rx;
		memcpy(s->rx_key, res->srtp_rx_key, sizeof(s->rx_key));
		return 0;
	}
	int err = sipcx__srtp_new(&s, res->srtp, res->srtp_tx_key, res->srtp_rx_key);
	if (err)
		return err;
	sipcx__srtp_free(m->srtp);
	m->srtp = s;
	return 0;
}

const void *sipcx__media_srtp_out(struct sipcx_media *m, struct sipcx__media_sock *h,
                                  const void *data, size_t *len)
{
	static _Thread_local uint8_t out[SIPCX__MEDIA_MAX_PKT + SRTP_ROOM];
	if (*len > SIPCX__MEDIA_MAX_PKT)
		return NULL;
	memcpy(out, data, *len);
	int err = sipcx__srtp_protect(m->srtp, sipcx__media_is_rtcp(m, h, out, *len), out, len,
	                              sizeof(out));
	if (err) {
		SIPCX_LOG(SIPCX_LOG_DEBUG, "media %u: SRTP protect: %s", (unsigned)m->port,
		          sipcx_strerror(err));
		return NULL;
	}
	return out;
}

bool sipcx__media_srtp_in(struct sipcx_media *m, struct sipcx__media_sock *h, uint8_t *data,
                          size_t *len)
{
	int err = sipcx__srtp_unprotect(m->srtp, sipcx__media_is_rtcp(m, h, data, *len), data, len);
	if (err == 0)
		return true;
	/* Never played, echoed or queued: a forged or mis-keyed packet is only counted. */
	if (err == -EBADMSG)
		m->st.srtp_auth_fail++;
	else if (err == -EALREADY)
		m->st.srtp_replay++;
	else
		m->st.rx_malformed++;
	SIPCX_LOG(SIPCX_LOG_DEBUG, "media %u: SRTP unprotect: %s", (unsigned)m->port,
	          sipcx_strerror(err));
	return false;
}
