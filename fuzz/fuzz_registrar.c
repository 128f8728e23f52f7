/* Fuzz target: the registrar's request handling: a parsed REGISTER through domains, auth, bindings, Path and outbound; any other request through the proxy's routing policy (RFC 3261 10.3, 16; RFC 3327; RFC 5626). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ua/registrar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Two registrars, each on its own UA on udp:127.0.0.1 (no TCP listener, no
 * IPv6 socket): an open one, where any REGISTER binds, and one with users
 * and a lockout. Answers and forwarded requests go out for real, so an
 * input that could send anywhere but 127.0.0.0/8 over UDP is skipped: no
 * "tcp" (a TCP hop connects), every dotted quad in 127. (see loopback_only()).
 */
static struct sipcx_ua *ua[2];
static struct sipcx_registrar *reg[2];
static struct sipcx_msg msg;

static void setup(void)
{
	static const struct sipcx_registrar_user users[] = { { "alice", "alicepw" },
		                                             { "bob", "bobpw" } };
	static const char *const domains[] = { "example.org" };
	for (int i = 0; i < 2; i++) {
		/* A next hop by name is located: ask a loopback port where nothing answers, never the network. */
		struct sipcx_ua_opts uo = { .listen = "udp:127.0.0.1:0",
			                    .dns_servers = "127.0.0.1:9" };
		struct sipcx_registrar_opts ro = { .min_expires_s = 1,
			                           .domains = domains,
			                           .ndomains = 1,
			                           .max_auth_failures = 3 };
		if (i == 1) {
			ro.users = users;
			ro.nusers = 2;
			ro.auth_calls = true;
		}
		if (sipcx_ua_new(&ua[i], &uo) || sipcx_registrar_new(&reg[i], ua[i], &ro))
			abort();
	}
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Would every address this input names be on the loopback, over UDP? */
static bool loopback_only(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i + 3 <= n && (p[i] | 0x20) == 't' && (p[i + 1] | 0x20) == 'c' &&
		    (p[i + 2] | 0x20) == 'p')
			return false;
		/* The start of a run "d.d.d.d": it must be 127. */
		if (!is_digit(p[i]) || (i && (is_digit(p[i - 1]) || p[i - 1] == '.')))
			continue;
		size_t j = i, dots = 0;
		while (j < n && (is_digit(p[j]) || p[j] == '.'))
			dots += p[j++] == '.';
		if (dots >= 3 && !(j - i >= 4 && !memcmp(p + i, "127.", 4)))
			return false;
	}
	return true;
}

struct job {
	struct sipcx_registrar *r;
	struct sipcx_ua *ua;
	const struct sipcx_msg *m;
	struct sipcx_tp_addr src;
};

static void run(void *arg)
{
	struct job *j = arg;
	struct sipcx_tp_addr local;
	sipcx_ua_bound(j->ua, 0, &local);
	if (j->m->method == SIPCX_METHOD_REGISTER) {
		struct sipcx_ua_srv srv = {
			.ua = j->ua,
			.req = j->m,
			.src = j->src,
			.dst = j->src,
			.via_extra = "",
			.to_tag = "fz",
			.stateless = true,
		};
		sipcx__registrar_on_register(&srv, j->m, j->r);
		/* The registrar answers every REGISTER, once. */
		if (!srv.final_sent)
			abort();
		return;
	}
	struct sipcx_tp_pkt pkt = {
		.proto = SIPCX_TP_UDP,
		.local = &local.sa.sa,
		.remote = &j->src.sa.sa,
		.data = j->m->raw.p,
		.len = j->m->raw.len,
		.msg = (struct sipcx_msg *)(uintptr_t)j->m,
	};
	struct ua_origin og;
	memset(&og, 0, sizeof(og));
	og.src = j->src;
	og.dst = j->src;
	strcpy(og.to_tag, "fz");
	sipcx__proxy_req(j->ua, &pkt, &og, j->r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ua[0])
		setup();
	if (size < 2 || !loopback_only(data, size))
		return 0;
	/* The first byte: which registrar, and which source (one of three addresses). */
	int which = data[0] & 1;
	if (sipcx_msg_parse(&msg, (const char *)data + 1, size - 1, 0) <= 0 || !msg.request ||
	    sipcx_msg_check(&msg, 0, NULL) != SIPCX_MSG_ACCEPT)
		return 0;
	struct job j = { .r = reg[which], .ua = ua[which], .m = &msg };
	char src[32];
	snprintf(src, sizeof(src), "udp:127.0.0.%d:%d", 1 + (data[0] >> 1) % 3, 40000 + data[0]);
	if (sipcx_tp_addr_parse(&j.src, src) != 0)
		abort();
	sipcx_ua_call(ua[which], run, &j);
	return 0;
}
