/* dialog: private state of a dialog, shared by its creation, update, matching and printing code (RFC 3261 12). */
#ifndef SIPCX__DIALOG_H
#define SIPCX__DIALOG_H

#include <sipcx/dialog.h>

#include "base/base.h"

/*
 * A kept string: offset and length in data[] (fixed part) or in var
 * (remote target and route set). Everything a dialog keeps is at most
 * SIPCX_DIALOG_MAX_BYTES long, so 16 bits hold any of them.
 */
struct sipcx__dlg_slice {
	uint16_t off, len;
};

/* create_method of a dialog that was not made from a request we sent. */
#define SIPCX__DLG_NO_METHOD SIPCX_METHOD__COUNT

struct sipcx_dialog {
	uint32_t local_cseq;   /* last CSeq number sent; 0: none yet */
	uint32_t remote_cseq;  /* highest CSeq number received, when has_remote_cseq */
	uint32_t create_cseq;  /* UAC: CSeq number of the dialog-creating request */
	uint8_t state;         /* enum sipcx_dialog_state */
	uint8_t create_method; /* UAC: its method (enum sipcx_method); UAS: SIPCX__DLG_NO_METHOD */
	uint8_t nroutes;
	bool uac, secure, has_remote_cseq;
	/*
	 * Fixed part, in data[]: the Call-ID; "local-uri;tag=local-tag" (so
	 * the From value is one slice); "remote-uri" or
	 * "remote-uri;tag=remote-tag" (the To value).
	 */
	struct sipcx__dlg_slice call_id, local_uri, local_tag, remote_uri, remote_tag;
	/*
	 * Variable part: "<r1>, <r2>, ..., <rn>, <target>", each route and the
	 * target with its brackets, so that a loose Route value (r1..rn) and a
	 * strict one (r2..rn, target) are single slices. var points into
	 * data[] after the fixed part, or to its own allocation once a change
	 * did not fit (var_own).
	 */
	char *var;
	uint16_t var_cap;
	bool var_own;
	struct sipcx__dlg_slice target; /* "<uri>", len 0 when none */
	struct sipcx__dlg_slice route[SIPCX_DIALOG_MAX_ROUTES];
	char data[];
};

static inline struct sipcx_str sipcx__dlg_fixed(const struct sipcx_dialog *d,
                                                struct sipcx__dlg_slice s)
{
	return (struct sipcx_str){ d->data + s.off, s.len };
}

static inline struct sipcx_str sipcx__dlg_var(const struct sipcx_dialog *d,
                                              struct sipcx__dlg_slice s)
{
	return (struct sipcx_str){ s.len ? d->var + s.off : d->data, s.len };
}

/* RFC 3261 25.1 token (tags, methods). */
bool sipcx__dlg_is_token(struct sipcx_str s);
/* The tag of a parsed From/To, or the empty slice. */
struct sipcx_str sipcx__dlg_tag(const struct sipcx_addr *a);

#endif
