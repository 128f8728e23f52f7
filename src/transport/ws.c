/* transport: WebSocket for SIP, the HTTP/1.1 Upgrade handshake and wslay framing (RFC 6455 4, 5; RFC 7118). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <wslay/wslay.h>

#include "transport/transport.h"

/* RFC 6455 1.3: the GUID appended to the key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void sipcx__ws_accept_key(struct sipcx_str key, char out[29])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, key.p, key.len) != 1 ||
	    EVP_DigestUpdate(ctx, ws_guid, sizeof(ws_guid) - 1) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 20) {
		/* Matches no real answer: the handshake fails rather than passing unchecked. */
		memset(md, 0, sizeof(md));
	}
	EVP_MD_CTX_free(ctx);
	sipcx__b64_encode(sipcx__b64_std, true, md, 20, out);
}

/* Does the comma-separated list v hold tok (any case)? */
static bool list_has(struct sipcx_str v, const char *tok)
{
	while (v.len) {
		const char *comma = memchr(v.p, ',', v.len);
		size_t l = comma ? (size_t)(comma - v.p) : v.len;
		if (sipcx_str_ieq_c(sipcx_str_trim((struct sipcx_str){ v.p, l }), tok))
			return true;
		v.p += comma ? l + 1 : l;
		v.len -= comma ? l + 1 : l;
	}
	return false;
}

static bool name_is(struct sipcx_str name, const char *want)
{
	return sipcx_str_ieq_c(name, want);
}

/* One header line (without its CRLF) into h. */
static int header(struct sipcx__ws_http *h, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	/* No obsolete line folding (RFC 7230 3.2.4), no empty name, no space before the colon. */
	if (!colon || colon == p || p[0] == ' ' || p[0] == '\t' || colon[-1] == ' ' ||
	    colon[-1] == '\t')
		return -EBADMSG;
	struct sipcx_str name = { p, (size_t)(colon - p) };
	struct sipcx_str v = sipcx_str_trim((struct sipcx_str){ colon + 1, n - name.len - 1 });
	if (name_is(name, "Upgrade"))
		h->upgrade_ws |= list_has(v, "websocket");
	else if (name_is(name, "Connection"))
		h->conn_upgrade |= list_has(v, "upgrade");
	else if (name_is(name, "Sec-WebSocket-Key"))
		h->key = v;
	else if (name_is(name, "Sec-WebSocket-Accept"))
		h->accept = v;
	else if (name_is(name, "Sec-WebSocket-Version"))
		h->version = v;
	else if (name_is(name, "Sec-WebSocket-Protocol")) {
		h->proto_any = true;
		h->proto_sip |= list_has(v, "sip");
	}
	return 0;
}

/* "GET /path HTTP/1.1" or "HTTP/1.1 101 Switching Protocols". */
static int start_line(struct sipcx__ws_http *h, const char *p, size_t n)
{
	static const char ver[] = "HTTP/1.1";
	const size_t vl = sizeof(ver) - 1;
	if (n >= vl + 4 && !memcmp(p, ver, vl) && p[vl] == ' ') {
		const char *c = p + vl + 1;
		if (c[0] < '1' || c[0] > '5' || c[1] < '0' || c[1] > '9' || c[2] < '0' ||
		    c[2] > '9' || (n > vl + 4 && c[3] != ' '))
			return -EBADMSG;
		h->status = (uint16_t)((c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0'));
		return 0;
	}
	const char *sp1 = memchr(p, ' ', n);
	if (!sp1 || sp1 == p)
		return -EBADMSG;
	const char *rest = sp1 + 1;
	size_t rl = n - (size_t)(rest - p);
	const char *sp2 = memchr(rest, ' ', rl);
	if (!sp2 || sp2 == rest)
		return -EBADMSG;
	size_t tail = rl - (size_t)(sp2 + 1 - rest);
	if (tail != vl || memcmp(sp2 + 1, ver, vl))
		return -EBADMSG;
	h->request = true;
	h->method = (struct sipcx_str){ p, (size_t)(sp1 - p) };
	h->path = (struct sipcx_str){ rest, (size_t)(sp2 - rest) };
	for (size_t i = 0; i < h->method.len; i++)
		if (p[i] < 'A' || p[i] > 'Z')
			return -EBADMSG;
	for (size_t i = 0; i < h->path.len; i++)
		if ((unsigned char)rest[i] <= ' ' || rest[i] == 0x7f)
			return -EBADMSG;
	return 0;
}

int sipcx__ws_http_parse(struct sipcx__ws_http *h, const char *p, size_t n)
{
	memset(h, 0, sizeof(*h));
	size_t lim = n < SIPCX__WS_HDR_MAX ? n : SIPCX__WS_HDR_MAX;
	const char *end = lim >= 4 ? memmem(p, lim, "\r\n\r\n", 4) : NULL;
	if (!end)
		return n >= SIPCX__WS_HDR_MAX ? -EMSGSIZE : -EAGAIN;
	size_t total = (size_t)(end - p) + 4;
	const char *line = p;
	bool first = true;
	while (line < end + 2) {
		const char *crlf = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		size_t l = (size_t)(crlf - line);
		/* Bare CR or LF and NUL bytes inside a line: not HTTP. */
		for (size_t i = 0; i < l; i++)
			if (line[i] == '\r' || line[i] == '\n' || line[i] == '\0')
				return -EBADMSG;
		int r = first ? start_line(h, line, l) : header(h, line, l);
		if (r)
			return r;
		first = false;
		line = crlf + 2;
	}
	return (int)total;
}

/* ---- the session ---- */

static ssize_t on_recv(struct wslay_event_context *ctx, uint8_t *buf, size_t len, int flags,
                       void *arg)
{
	struct sipcx__ws *w = arg;
	(void)flags;
	if (!w->rn || w->stop) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	size_t n = len < w->rn ? len : w->rn;
	memcpy(buf, w->rp, n);
	w->rp += n;
	w->rn -= n;
	return (ssize_t)n;
}

static ssize_t on_send(struct wslay_event_context *ctx, const uint8_t *data, size_t len, int flags,
                       void *arg)
{
	struct sipcx__ws *w = arg;
	(void)flags;
	sipcx_buf_append(&w->out, data, len);
	if (sipcx_buf_err(&w->out)) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

/* RFC 6455 5.3: a client masks its frames with keys nobody can predict. */
static int on_mask(struct wslay_event_context *ctx, uint8_t *buf, size_t len, void *arg)
{
	(void)ctx;
	(void)arg;
	sipcx__random_pool(buf, len);
	return 0;
}

static void on_msg(struct wslay_event_context *ctx, const struct wslay_event_on_msg_recv_arg *a,
                   void *arg)
{
	struct sipcx__ws *w = arg;
	(void)ctx;
	/* Control frames (ping, pong, close) are wslay's: it answers them itself. */
	if ((a->opcode != WSLAY_TEXT_FRAME && a->opcode != WSLAY_BINARY_FRAME) || w->stop)
		return;
	if (w->cb((const char *)a->msg, a->msg_length, w->arg))
		w->stop = true;
}

int sipcx__ws_start(struct sipcx__ws *w, bool server, size_t max_msg)
{
	static const struct wslay_event_callbacks cbs = {
		.recv_callback = on_recv,
		.send_callback = on_send,
		.genmask_callback = on_mask,
		.on_msg_recv_callback = on_msg,
	};
	memset(w, 0, sizeof(*w));
	sipcx_buf_init(&w->hs);
	sipcx_buf_init(&w->out);
	w->server = server;
	int r = server ? wslay_event_context_server_init(&w->ctx, &cbs, w)
	               : wslay_event_context_client_init(&w->ctx, &cbs, w);
	if (r)
		return -ENOMEM;
	wslay_event_config_set_max_recv_msg_length(w->ctx, max_msg);
	return 0;
}

void sipcx__ws_end(struct sipcx__ws *w)
{
	if (!w)
		return;
	if (w->ctx)
		wslay_event_context_free(w->ctx);
	w->ctx = NULL;
	sipcx_buf_free(&w->hs);
	sipcx_buf_free(&w->out);
}

int sipcx__ws_connect(struct sipcx__ws *w, const char *host, const char *path)
{
	uint8_t raw[16];
	sipcx__random_pool(raw, sizeof(raw));
	sipcx__b64_encode(sipcx__b64_std, true, raw, sizeof(raw), w->key);
	sipcx_buf_printf(&w->out,
	                 "GET %s HTTP/1.1\r\n"
	                 "Host: %s\r\n"
	                 "Upgrade: websocket\r\n"
	                 "Connection: Upgrade\r\n"
	                 "Sec-WebSocket-Key: %s\r\n"
	                 "Sec-WebSocket-Version: 13\r\n"
	                 "Sec-WebSocket-Protocol: sip\r\n"
	                 "\r\n",
	                 path && *path ? path : "/", host, w->key);
	w->asked = true;
	return sipcx_buf_err(&w->out);
}

/* Server: refuse the handshake with an HTTP status; the caller sends out and closes. */
static int refuse(struct sipcx__ws *w, const char *status, const char *extra, const char *why)
{
	SIPCX_DEBUG("ws: handshake refused (%s): %s", status, why);
	sipcx_buf_printf(&w->out, "HTTP/1.1 %s\r\n%sConnection: close\r\nContent-Length: 0\r\n\r\n",
	                 status, extra);
	w->err = 1;
	return sipcx_buf_err(&w->out) ? -ENOMEM : 1;
}

/* Client: a response that does not switch to the sip subprotocol. */
static int broken(struct sipcx__ws *w, const char *why)
{
	SIPCX_WARN("ws: handshake failed: %s", why);
	w->err = SIPCX_EWS;
	return SIPCX_EWS;
}

/* The whole handshake head h (n bytes at p): 0 when up, else what refuse()/broken() say. */
static int handshake(struct sipcx__ws *w, const struct sipcx__ws_http *h)
{
	if (w->server) {
		uint8_t raw[16];
		if (!h->request || !sipcx_str_ieq_c(h->method, "GET"))
			return refuse(w, "405 Method Not Allowed", "Allow: GET\r\n", "not a GET");
		if (!h->upgrade_ws || !h->conn_upgrade)
			return refuse(w, "400 Bad Request", "", "no Upgrade: websocket");
		if (!sipcx_str_ieq_c(h->version, "13"))
			return refuse(w, "426 Upgrade Required", "Sec-WebSocket-Version: 13\r\n",
			              "not version 13");
		/* RFC 6455 4.1: 16 random bytes, base64 ("==" padded: 24 characters). */
		if (h->key.len != 24 || h->key.p[22] != '=' || h->key.p[23] != '=' ||
		    !sipcx__b64_decode(sipcx__b64_std, (struct sipcx_str){ h->key.p, 22 }, raw, 16))
			return refuse(w, "400 Bad Request", "", "bad Sec-WebSocket-Key");
		/* RFC 7118 4.1: the client asks for "sip"; anything else is not ours. */
		if (!h->proto_sip)
			return refuse(w, "400 Bad Request", "", "no Sec-WebSocket-Protocol: sip");
		char acc[29];
		sipcx__ws_accept_key(h->key, acc);
		sipcx_buf_printf(&w->out,
		                 "HTTP/1.1 101 Switching Protocols\r\n"
		                 "Upgrade: websocket\r\n"
		                 "Connection: Upgrade\r\n"
		                 "Sec-WebSocket-Accept: %s\r\n"
		                 "Sec-WebSocket-Protocol: sip\r\n"
		                 "\r\n",
		                 acc);
		if (sipcx_buf_err(&w->out))
			return -ENOMEM;
		w->up = true;
		return 0;
	}
	char want[29], why[64];
	if (h->request)
		return broken(w, "the server sent a request");
	if (h->status != 101) {
		snprintf(why, sizeof(why), "the server answered HTTP %u", h->status);
		return broken(w, why);
	}
	if (!h->upgrade_ws || !h->conn_upgrade)
		return broken(w, "no Upgrade: websocket in the 101");
	sipcx__ws_accept_key(sipcx_str_c(w->key), want);
	if (h->accept.len != 28 || memcmp(h->accept.p, want, 28))
		return broken(w, "wrong Sec-WebSocket-Accept");
	if (!h->proto_sip)
		return broken(w, "the server did not take Sec-WebSocket-Protocol: sip");
	w->up = true;
	return 0;
}

/* Run wslay over the frame bytes p, n. */
static int frames(struct sipcx__ws *w, const char *p, size_t n)
{
	w->rp = p;
	w->rn = n;
	int r = wslay_event_recv(w->ctx);
	w->rp = NULL;
	w->rn = 0;
	/* Pongs and the answer to a close (or to bad framing: 1002, 1009) go out. */
	int s = wslay_event_send(w->ctx);
	if (r == WSLAY_ERR_NOMEM || s == WSLAY_ERR_NOMEM || sipcx_buf_err(&w->out))
		return -ENOMEM;
	if (r || !wslay_event_get_read_enabled(w->ctx)) {
		if (!wslay_event_get_close_received(w->ctx))
			SIPCX_DEBUG("ws: closing: bad framing (status %u sent)",
			            wslay_event_get_status_code_sent(w->ctx));
		return 1;
	}
	return 0;
}

int sipcx__ws_feed(struct sipcx__ws *w, const char *p, size_t n, sipcx__ws_msg_cb *cb, void *arg)
{
	if (w->err)
		return w->err < 0 ? w->err : 1;
	w->cb = cb;
	w->arg = arg;
	w->stop = false;
	if (!w->up) {
		if (!w->server && !w->asked)
			return broken(w, "the server spoke first");
		sipcx_buf_append(&w->hs, p, n);
		if (sipcx_buf_err(&w->hs))
			return -ENOMEM;
		struct sipcx__ws_http h;
		int r = sipcx__ws_http_parse(&h, w->hs.p, w->hs.len);
		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return w->server
			           ? refuse(w,
			                    r == -EMSGSIZE ? "431 Request Header Fields Too Large"
			                                   : "400 Bad Request",
			                    "", "unparsable request")
			           : broken(w, "unparsable response");
		size_t used = (size_t)r;
		int e = handshake(w, &h);
		if (e)
			return e;
		/* Frames that came with the handshake: from the copy, which is freed after. */
		size_t left = w->hs.len - used;
		int f = left ? frames(w, w->hs.p + used, left) : 0;
		sipcx_buf_free(&w->hs);
		return f;
	}
	return n ? frames(w, p, n) : 0;
}

int sipcx__ws_write(struct sipcx__ws *w, const char *p, size_t n)
{
	if (w->err)
		return -EPIPE;
	if (!w->up)
		return -ENOTCONN;
	struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *)p, n };
	int r = wslay_event_queue_msg(w->ctx, &m);
	if (r == WSLAY_ERR_NOMEM)
		return -ENOMEM;
	if (r)
		return -EPIPE; /* a close went out: no more messages */
	r = wslay_event_send(w->ctx);
	if (r == WSLAY_ERR_NOMEM || sipcx_buf_err(&w->out))
		return -ENOMEM;
	return r ? -EPIPE : 0;
}
