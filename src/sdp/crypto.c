/* sdp: the a=crypto attribute, SRTP keys in SDP (RFC 4568 SDES 9.1; RFC 7714 12 for AEAD_AES_128_GCM). */
#include <errno.h>
#include <string.h>

#include "sdp.h"

static const struct {
	const char *name;
	size_t key_len; /* master key + master salt */
} suites[SIPCX_SRTP_NSUITES + 1] = {
	[SIPCX_SRTP_NONE] = { "", 0 },
	[SIPCX_SRTP_AES_CM_128_HMAC_SHA1_80] = { "AES_CM_128_HMAC_SHA1_80", 30 },
	[SIPCX_SRTP_AES_CM_128_HMAC_SHA1_32] = { "AES_CM_128_HMAC_SHA1_32", 30 },
	[SIPCX_SRTP_AEAD_AES_128_GCM] = { "AEAD_AES_128_GCM", 28 },
};

const char *sipcx_srtp_suite_name(enum sipcx_srtp_suite s)
{
	return (unsigned)s <= SIPCX_SRTP_NSUITES ? suites[s].name : "";
}

size_t sipcx_srtp_key_len(enum sipcx_srtp_suite s)
{
	return (unsigned)s <= SIPCX_SRTP_NSUITES ? suites[s].key_len : 0;
}

static bool all_digits(struct sipcx_str s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

/* RFC 4568 6.1: lifetime = ["2^"] 1*DIGIT. Only checked: libsrtp enforces its own limit. */
static bool lifetime_ok(struct sipcx_str s)
{
	if (s.len > 2 && s.p[0] == '2' && s.p[1] == '^') {
		s.p += 2;
		s.len -= 2;
	}
	return all_digits(s) && s.len <= 20;
}

int sipcx_sdp_crypto_parse(struct sipcx_sdp_crypto *c, struct sipcx_str value)
{
	uint64_t tag;

	if (!c || (!value.p && value.len))
		return -EINVAL;
	struct sipcx_str rest = value;
	struct sipcx_str ftag, fsuite, fkey, more;
	sipcx__sdp_next_tok(&rest, &ftag);
	sipcx__sdp_next_tok(&rest, &fsuite);
	sipcx__sdp_next_tok(&rest, &fkey);
	if (!all_digits(ftag) || ftag.len > 9 || !sipcx__sdp_num(ftag, 999999999, &tag) ||
	    fsuite.len == 0 || fkey.len == 0)
		return -EBADMSG;
	/* key-param = key-method ":" key-info; the method is "inline" for SRTP. */
	if (fkey.len < 7 || strncmp(fkey.p, "inline:", 7) != 0)
		return fkey.len >= 7 && memchr(fkey.p, ':', fkey.len) ? -ENOTSUP : -EBADMSG;
	struct sipcx_str info = { fkey.p + 7, fkey.len - 7 };
	if (memchr(info.p, ';', info.len))
		return -ENOTSUP; /* several keys: we take one */
	/* key-salt ["|" lifetime] ["|" mki]: an MKI has a ':' */
	const char *bar = memchr(info.p, '|', info.len);
	struct sipcx_str key = { info.p, bar ? (size_t)(bar - info.p) : info.len };
	if (bar) {
		struct sipcx_str tail = { bar + 1, info.len - key.len - 1 };
		const char *bar2 = memchr(tail.p, '|', tail.len);
		struct sipcx_str first = { tail.p, bar2 ? (size_t)(bar2 - tail.p) : tail.len };
		if (bar2 || memchr(first.p, ':', first.len))
			return lifetime_ok(first) || memchr(first.p, ':', first.len) ? -ENOTSUP
			                                                             : -EBADMSG;
		if (!lifetime_ok(first))
			return -EBADMSG;
	}
	enum sipcx_srtp_suite suite = SIPCX_SRTP_NONE;
	for (unsigned s = 1; s <= SIPCX_SRTP_NSUITES; s++)
		if (sipcx_str_ieq_c(fsuite, suites[s].name)) /* RFC 5234 2.3: any case */
			suite = (enum sipcx_srtp_suite)s;
	if (suite == SIPCX_SRTP_NONE)
		return -ENOTSUP;
	struct sipcx_sdp_crypto out = { .tag = (uint32_t)tag, .suite = suite };
	/* RFC 4568 6.1: base64 of key || salt; the padding is optional here. */
	while (key.len && key.p[key.len - 1] == '=')
		key.len--;
	if (!sipcx__b64_decode(sipcx__b64_std, key, out.key, suites[suite].key_len))
		return -EBADMSG;
	/* RFC 4568 6.3: we know no session parameter, and each changes what the key means. */
	if (sipcx__sdp_next_tok(&rest, &more))
		return -ENOTSUP;
	*c = out;
	return 0;
}

int sipcx_sdp_crypto_print(const struct sipcx_sdp_crypto *c, struct sipcx_buf *out)
{
	if (!c || !out || c->tag > 999999999 || c->suite == SIPCX_SRTP_NONE ||
	    (unsigned)c->suite > SIPCX_SRTP_NSUITES)
		return -EINVAL;
	char key[(SIPCX_SRTP_KEY_MAX + 2) / 3 * 4 + 1];
	sipcx__b64_encode(sipcx__b64_std, true, c->key, suites[c->suite].key_len, key);
	sipcx_buf_printf(out, "%u %s inline:%s", (unsigned)c->tag, suites[c->suite].name, key);
	return sipcx_buf_err(out);
}

/* ------------------------------------------- offer/answer with keys -- */

int sipcx__sdp_srtp_check(const struct sipcx_sdp_local *l)
{
	if ((unsigned)l->srtp > SIPCX_SRTP_MANDATORY || l->ncrypto > SIPCX_SRTP_NSUITES ||
	    (l->ncrypto && !l->crypto) || (l->srtp == SIPCX_SRTP_MANDATORY && !l->ncrypto))
		return -EINVAL;
	for (size_t i = 0; i < l->ncrypto; i++) {
		const struct sipcx_sdp_crypto *c = &l->crypto[i];
		if (c->tag > 999999999 || c->suite == SIPCX_SRTP_NONE ||
		    (unsigned)c->suite > SIPCX_SRTP_NSUITES)
			return -EINVAL;
		for (size_t k = 0; k < i; k++)
			if (l->crypto[k].tag == c->tag || l->crypto[k].suite == c->suite)
				return -EINVAL;
	}
	return 0;
}

static bool offering(const struct sipcx_sdp_local *l)
{
	return l->srtp != SIPCX_SRTP_OFF && l->ncrypto;
}

const char *sipcx__sdp_srtp_proto(const struct sipcx_sdp_local *l)
{
	return l->srtp == SIPCX_SRTP_MANDATORY ? "RTP/SAVP" : "RTP/AVP";
}

static void crypto_line(struct sipcx_buf *b, const struct sipcx_sdp_crypto *c)
{
	sipcx_buf_puts(b, "a=crypto:");
	sipcx_sdp_crypto_print(c, b);
	sipcx_buf_puts(b, "\r\n");
}

void sipcx__sdp_srtp_offer_lines(struct sipcx_buf *b, const struct sipcx_sdp_local *l)
{
	for (size_t i = 0; offering(l) && i < l->ncrypto; i++)
		crypto_line(b, &l->crypto[i]);
}

/*
 * The first a=crypto line of m we can use (in m's order: the offerer's
 * preference, RFC 4568 7.1.1) and our key for it. same_tag: an answer, whose
 * line must be one we offered (RFC 4568 7.1.2: the tag and suite are ours).
 */
static bool find_pick(const struct sipcx_sdp_local *l, const struct sipcx_sdp_media *m,
                      bool same_tag, struct sipcx__sdp_srtp_pick *pick)
{
	for (unsigned i = 0; offering(l) && i < m->nattr; i++) {
		struct sipcx_sdp_crypto c;
		if (!sipcx_str_ieq_c(m->attr[i].name, "crypto") || !m->attr[i].value.p ||
		    sipcx_sdp_crypto_parse(&c, m->attr[i].value) != 0)
			continue;
		for (size_t k = 0; k < l->ncrypto; k++) {
			if (l->crypto[k].suite == c.suite &&
			    (!same_tag || l->crypto[k].tag == c.tag)) {
				pick->peer = c;
				pick->ours = &l->crypto[k];
				return true;
			}
		}
	}
	return false;
}

bool sipcx__sdp_srtp_accept(const struct sipcx_sdp_local *l, const struct sipcx_sdp_media *m,
                            struct sipcx__sdp_srtp_pick *pick)
{
	bool savp = sipcx_str_ieq_c(m->proto, "RTP/SAVP");
	memset(pick, 0, sizeof(*pick));
	if (!savp && !sipcx_str_ieq_c(m->proto, "RTP/AVP"))
		return false; /* no AVPF feedback, no DTLS-SRTP */
	bool got = find_pick(l, m, false, pick);
	/* RTP/SAVP needs a key; RTP/AVP with keys is best-effort SRTP, taken unless off. */
	return got || (!savp && l->srtp != SIPCX_SRTP_MANDATORY);
}

void sipcx__sdp_srtp_answer_line(struct sipcx_buf *b, const struct sipcx__sdp_srtp_pick *pick)
{
	if (!pick->ours)
		return;
	/* RFC 4568 7.1.2: the offered tag and suite, with our own key. */
	struct sipcx_sdp_crypto c = *pick->ours;
	c.tag = pick->peer.tag;
	crypto_line(b, &c);
}

int sipcx__sdp_srtp_process(const struct sipcx_sdp_local *l, const struct sipcx_sdp_media *m,
                            struct sipcx__sdp_srtp_pick *pick)
{
	memset(pick, 0, sizeof(*pick));
	if (find_pick(l, m, true, pick))
		return 0;
	/* An answer without a key of ours: plain RTP, unless we asked for SRTP only. */
	if (l->srtp == SIPCX_SRTP_MANDATORY || sipcx_str_ieq_c(m->proto, "RTP/SAVP"))
		return SIPCX_ENOCODEC;
	return 0;
}

void sipcx__sdp_srtp_result(const struct sipcx__sdp_srtp_pick *pick, struct sipcx_sdp_result *res)
{
	res->srtp = SIPCX_SRTP_NONE;
	if (!pick->ours)
		return;
	res->srtp = pick->ours->suite;
	memcpy(res->srtp_tx_key, pick->ours->key, sizeof(res->srtp_tx_key));
	memcpy(res->srtp_rx_key, pick->peer.key, sizeof(res->srtp_rx_key));
}
