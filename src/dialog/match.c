/* dialog: finding the dialog of a message: dialog IDs and the hash a UA's table is keyed by (RFC 3261 12, 12.2.1.2, 12.2.2). */
#include <errno.h>

#include "dialog/dialog.h"

/* Call-ID and tags compare byte for byte: we generate ours and echo the peer's. */
static bool same_id(const struct sipcx_dialog *d, const struct sipcx_msg *m,
                    const struct sipcx_addr *local, const struct sipcx_addr *remote)
{
	return local && remote &&
	       sipcx_str_eq(sipcx_msg_call_id(m), sipcx__dlg_fixed(d, d->call_id)) &&
	       sipcx_str_eq(local->tag, sipcx__dlg_fixed(d, d->local_tag)) &&
	       sipcx_str_eq(remote->tag, sipcx__dlg_fixed(d, d->remote_tag));
}

bool sipcx_dialog_match_request(const struct sipcx_dialog *d, const struct sipcx_msg *req)
{
	/* The peer's request: its To is us, its From the peer. */
	return d && req && req->request && same_id(d, req, sipcx_msg_to(req), sipcx_msg_from(req));
}

bool sipcx_dialog_match_response(const struct sipcx_dialog *d, const struct sipcx_msg *resp)
{
	/* A response to our request: From is us, To the peer. */
	return d && resp && !resp->request &&
	       same_id(d, resp, sipcx_msg_from(resp), sipcx_msg_to(resp));
}

uint32_t sipcx_dialog_key_hash(struct sipcx_str call_id, struct sipcx_str local_tag)
{
	/* A separator between the two, so ("ab", "c") and ("a", "bc") differ. */
	uint32_t h = sipcx__fnv32_str(SIPCX__FNV32_INIT, call_id);
	h = sipcx__fnv32(h, "\xff", 1);
	return sipcx__hash_mix(sipcx__fnv32_str(h, local_tag));
}

uint32_t sipcx_dialog_hash(const struct sipcx_dialog *d)
{
	if (!d)
		return 0;
	return sipcx_dialog_key_hash(sipcx__dlg_fixed(d, d->call_id),
	                             sipcx__dlg_fixed(d, d->local_tag));
}

int sipcx_dialog_msg_hash(const struct sipcx_msg *m, uint32_t *out)
{
	if (!m || !out)
		return -EINVAL;
	struct sipcx_str call_id = sipcx_msg_call_id(m);
	/* Our tag: in the To of a request we receive, in the From of a response. */
	struct sipcx_str tag = sipcx__dlg_tag(m->request ? sipcx_msg_to(m) : sipcx_msg_from(m));
	if (!call_id.len || !tag.len)
		return -EINVAL;
	*out = sipcx_dialog_key_hash(call_id, tag);
	return 0;
}
