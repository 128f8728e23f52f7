/* Fuzz target: UAC and UAS dialogs from hostile messages, their updates, and the requests they print (RFC 3261 12). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/dialog.h>
#include <sipcx/msg.h>

/*
 * The input is up to four datagrams, each ending where "\r\n\r\n\0" is
 * (the NUL dropped): A, the request that creates the dialogs (an INVITE
 * sent by the UAC and received by the UAS); B, a response to it (creates
 * the UAC dialog); C, a request received in the dialog; D, a later
 * response. Whatever parses is used.
 *
 * Properties (abort on breach): every request a dialog prints parses
 * whole and passes sipcx_msg_check(); a UAC dialog matches the response
 * that made it and hashes like it; when the UAS dialog takes B's To tag as
 * its own, the two dialogs are the two ends of one call: what one prints
 * matches the other and is accepted in order.
 */

#define PARTS 4

static const char marker[] = "\r\n\r\n";

static void touch(struct sipcx_str s)
{
	volatile unsigned char sink = 0;
	for (size_t i = 0; i < s.len; i++)
		sink ^= (unsigned char)s.p[i];
	(void)sink;
}

static void touch_all(const struct sipcx_dialog *d)
{
	touch(sipcx_dialog_call_id(d));
	touch(sipcx_dialog_local_tag(d));
	touch(sipcx_dialog_remote_tag(d));
	touch(sipcx_dialog_local_uri(d));
	touch(sipcx_dialog_remote_uri(d));
	touch(sipcx_dialog_remote_target(d));
	for (size_t i = 0; i <= sipcx_dialog_route_count(d); i++)
		touch(sipcx_dialog_route(d, i));
	struct sipcx_uri u;
	if (sipcx_dialog_next_hop(d, &u) == 0) {
		touch(u.host);
		touch(u.params);
	}
	(void)sipcx_dialog_state_name(sipcx_dialog_state(d));
	(void)sipcx_dialog_secure(d);
	(void)sipcx_dialog_is_uac(d);
	(void)sipcx_dialog_local_cseq(d);
	(void)sipcx_dialog_remote_cseq(d);
}

/* A parsed datagram, or NULL. */
static struct sipcx_msg *parse(const char *p, size_t len)
{
	if (!p)
		return NULL;
	struct sipcx_msg *m = malloc(sizeof(*m));
	if (m && sipcx_msg_parse(m, p, len, 0) <= 0) {
		free(m);
		m = NULL;
	}
	return m;
}

/*
 * Print method in d. When it prints, the bytes must parse whole and be
 * accepted; peer (may be NULL) is the other end, which must then match it
 * and take it.
 */
static void print_one(struct sipcx_dialog *d, const char *method, uint32_t cseq,
                      struct sipcx_dialog *peer)
{
	static const struct sipcx_hdr extra = { SIPCX_HDR_REASON,
		                                { NULL, 0 },
		                                { "SIP;cause=200", 13 } };
	struct sipcx_dialog_req r = {
		.method = method,
		.cseq = cseq,
		.via = SIPCX_STR("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfuzz"),
		.contact = SIPCX_STR("<sip:fuzz@192.0.2.1:5060>"),
		.hdrs = &extra,
		.nhdrs = 1,
		.user_agent = SIPCX_STR("sipcx-fuzz"),
		.content_type = SIPCX_STR("text/plain"),
		.body = SIPCX_STR("x"),
	};
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	uint32_t before = sipcx_dialog_local_cseq(d);
	int err = sipcx_dialog_print_request(d, &b, &r);
	if (err != 0) {
		/* A refused print consumes nothing and leaves the buffer empty. */
		if (b.len != 0 || sipcx_dialog_local_cseq(d) != before)
			abort();
		sipcx_buf_free(&b);
		return;
	}
	struct sipcx_msg *m = malloc(sizeof(*m));
	if (!m)
		abort();
	if (sipcx_msg_parse(m, b.p, b.len, 0) != (int)b.len)
		abort();
	if (sipcx_msg_check(m, 0, NULL) != SIPCX_MSG_ACCEPT)
		abort();
	/* It has the key of the peer's dialog (none toward an RFC 2543 peer: no To tag). */
	uint32_t h;
	if ((sipcx_dialog_msg_hash(m, &h) == 0) != (sipcx_dialog_remote_tag(d).len != 0))
		abort();
	if (peer) {
		if (!sipcx_dialog_match_request(peer, m) || h != sipcx_dialog_hash(peer))
			abort();
		uint16_t status = 0;
		bool fresh = !sipcx_dialog_has_remote_cseq(peer) ||
		             sipcx_msg_cseq(m)->num > sipcx_dialog_remote_cseq(peer);
		err = sipcx_dialog_recv_request(peer, m, &status);
		if (err == 0 && fresh && status != 0)
			abort();
	}
	free(m);
	sipcx_buf_free(&b);
}

static void exercise(struct sipcx_dialog *d, struct sipcx_dialog *peer, const struct sipcx_msg *c,
                     const struct sipcx_msg *dm)
{
	touch_all(d);
	uint16_t status;
	if (c) {
		(void)sipcx_dialog_match_request(d, c);
		(void)sipcx_dialog_recv_request(d, c, &status);
	}
	if (dm) {
		(void)sipcx_dialog_match_response(d, dm);
		(void)sipcx_dialog_recv_response(d, dm);
	}
	sipcx_dialog_confirm(d);
	touch_all(d);
	print_one(d, "INFO", 0, peer);
	print_one(d, "ACK", sipcx_dialog_local_cseq(d) ? sipcx_dialog_local_cseq(d) : 1, NULL);
	print_one(d, "BYE", 0, peer);
	sipcx_dialog_terminate(d);
	print_one(d, "UPDATE", 0, NULL); /* refused */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	const char *part[PARTS] = { 0 };
	size_t len[PARTS] = { 0 };
	for (size_t i = 0; i < PARTS && p < end; i++) {
		const char *q = p;
		const char *cut = NULL;
		while (q + 5 <= end) {
			const char *hit = memchr(q, '\r', (size_t)(end - q));
			if (!hit || hit + 5 > end)
				break;
			if (memcmp(hit, marker, 4) == 0 && hit[4] == '\0') {
				cut = hit + 4;
				break;
			}
			q = hit + 1;
		}
		part[i] = p;
		len[i] = (size_t)((cut ? cut : end) - p);
		p = cut ? cut + 1 : end;
	}

	struct sipcx_msg *a = parse(part[0], len[0]), *b = parse(part[1], len[1]);
	struct sipcx_msg *c = parse(part[2], len[2]), *dm = parse(part[3], len[3]);
	uint32_t h;
	for (int i = 0; i < 4; i++) {
		const struct sipcx_msg *m = i == 0 ? a : i == 1 ? b : i == 2 ? c : dm;
		if (m)
			(void)sipcx_dialog_msg_hash(m, &h);
	}

	struct sipcx_dialog *uac = NULL, *uas = NULL;
	if (a && b && sipcx_dialog_new_uac(&uac, a, b) == 0) {
		if (!sipcx_dialog_match_response(uac, b))
			abort();
		if (sipcx_dialog_msg_hash(b, &h) != 0 || h != sipcx_dialog_hash(uac))
			abort();
		if (sipcx_dialog_state(uac) !=
		    (b->status < 200 ? SIPCX_DIALOG_EARLY : SIPCX_DIALOG_CONFIRMED))
			abort();
	}
	if (a) {
		/* The far end of the UAC dialog when there is one, else any tag. */
		struct sipcx_str tag = uac ? sipcx_dialog_remote_tag(uac) : SIPCX_STR("fuzztag");
		if (sipcx_dialog_new_uas(&uas, a, tag, b && b->status >= 200) == 0 && uac) {
			/* Both ends: UAC -> UAS, UAS -> UAC, then each on its own. */
			if (sipcx_dialog_state(uac) != SIPCX_DIALOG_TERMINATED &&
			    sipcx_dialog_remote_target(uac).len) {
				print_one(uac, "INFO", 0, uas);
				print_one(uas, "NOTIFY", 0, uac);
			}
		}
	}
	if (uac)
		exercise(uac, NULL, c, dm);
	if (uas)
		exercise(uas, NULL, c, dm);
	sipcx_dialog_free(uas);
	sipcx_dialog_free(uac);
	free(a);
	free(b);
	free(c);
	free(dm);
	return 0;
}
