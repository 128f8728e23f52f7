/* Fuzz target: the WebSocket handshake parser and a server and a client session fed the bytes (RFC 6455 4, 5; RFC 7118). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *base_p;
static size_t base_len;

/* Every slice the parser returns lies inside the input (it never allocates or copies). */
static void inside(struct sipcx_str s)
{
	if (s.len && (s.p < base_p || s.p + s.len > base_p + base_len))
		abort();
}

static int on_msg(const char *p, size_t n, void *arg)
{
	(void)p;
	size_t *total = arg;
	*total += n;
	return 0;
}

/* One session fed the input in two parts (a split the first byte picks). */
static void session(bool server, const char *p, size_t n)
{
	struct sipcx__ws w;
	if (sipcx__ws_start(&w, server, 4096))
		return;
	if (!server && sipcx__ws_connect(&w, "127.0.0.1", "/"))
		goto out;
	size_t cut = n ? (unsigned char)p[0] % (n + 1) : 0, total = 0;
	int r = sipcx__ws_feed(&w, p, cut, on_msg, &total);
	if (r == 0)
		r = sipcx__ws_feed(&w, p + cut, n - cut, on_msg, &total);
	if (r == 0 && w.up && sipcx__ws_write(&w, "OPTIONS", 7) == -ENOTCONN)
		abort(); /* up means writable */
	if (r < 0 && r != SIPCX_EWS && r != -ENOMEM)
		abort();
	if (total > n)
		abort();
out:
	sipcx__ws_end(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	base_p = p;
	base_len = size;
	struct sipcx__ws_http h;
	int r = sipcx__ws_http_parse(&h, p, size);
	if (r > 0) {
		if ((size_t)r > size || (size_t)r > SIPCX__WS_HDR_MAX)
			abort();
		inside(h.method);
		inside(h.path);
		inside(h.key);
		inside(h.accept);
		inside(h.version);
	} else if (r != -EAGAIN && r != -EBADMSG && r != -EMSGSIZE) {
		abort();
	}
	session(true, p, size);
	session(false, p, size);
	return 0;
}
