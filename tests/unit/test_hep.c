/* Unit tests of HEP3 encoding and the HEP sender: every chunk decoded by hand, a datagram received on loopback, and tshark's view of it. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"

#include <sipcx/hep.h>
#include <sipcx/pcap.h>
#include <sipcx/sockaddr.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char invite[] = "INVITE sip:bob@192.0.2.2 SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
                             "From: <sip:alice@192.0.2.1>;tag=a1\r\n"
                             "To: <sip:bob@192.0.2.2>\r\n"
                             "Call-ID:   c1@192.0.2.1  \r\n"
                             "CSeq: 1 INVITE\r\n"
                             "Max-Forwards: 70\r\n"
                             "Content-Length: 0\r\n"
                             "\r\n";

static const char compact[] = "SIP/2.0 180 Ringing\r\n"
                              "v: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK-2\r\n"
                              "f: <sip:a@x>;tag=1\r\n"
                              "t: <sip:b@x>;tag=2\r\n"
                              "i: k7\r\n"
                              "CSeq: 1 INVITE\r\n"
                              "l: 0\r\n"
                              "\r\n";

static const char no_callid[] = "OPTIONS sip:x SIP/2.0\r\n"
                                "CSeq: 1 OPTIONS\r\n"
                                "Content-Length: 4\r\n"
                                "\r\n"
                                "i: x";

/* --- a hand-written HEP3 decoder --- */

struct hep {
	int n; /* chunks */
	uint8_t family, proto, type;
	uint8_t src[16], dst[16];
	size_t alen;
	uint16_t sport, dport;
	uint32_t sec, usec, id;
	bool has_auth, has_corr;
	char auth[64], corr[64];
	const uint8_t *payload;
	size_t plen;
	uint16_t types[32];
};

static uint32_t be(const uint8_t *p, size_t n)
{
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void decode(const uint8_t *p, size_t len, struct hep *h)
{
	memset(h, 0, sizeof(*h));
	assert_true(len >= 6);
	assert_memory_equal(p, "HEP3", 4);
	assert_int_equal(be(p + 4, 2), len);
	size_t off = 6;
	while (off < len) {
		assert_true(off + 6 <= len);
		assert_int_equal(be(p + off, 2), 0); /* vendor 0 */
		uint16_t type = (uint16_t)be(p + off + 2, 2);
		size_t cl = be(p + off + 4, 2);
		assert_true(cl >= 6 && off + cl <= len);
		const uint8_t *d = p + off + 6;
		size_t dl = cl - 6;
		assert_true(h->n < (int)ARRAY_SIZE(h->types));
		h->types[h->n++] = type;
		switch (type) {
		case 1:
			assert_int_equal(dl, 1);
			h->family = d[0];
			break;
		case 2:
			assert_int_equal(dl, 1);
			h->proto = d[0];
			break;
		case 3:
		case 4:
		case 5:
		case 6:
			assert_int_equal(dl, type <= 4 ? 4 : 16);
			memcpy(type % 2 ? h->src : h->dst, d, dl);
			h->alen = dl;
			break;
		case 7:
		case 8:
			assert_int_equal(dl, 2);
			*(type == 7 ? &h->sport : &h->dport) = (uint16_t)be(d, 2);
			break;
		case 9:
		case 10:
		case 12:
			assert_int_equal(dl, 4);
			*(type == 9 ? &h->sec : type == 10 ? &h->usec : &h->id) = be(d, 4);
			break;
		case 11:
			assert_int_equal(dl, 1);
			h->type = d[0];
			break;
		case 14:
		case 17:
			assert_true(dl < 64);
			memcpy(type == 14 ? h->auth : h->corr, d, dl);
			(type == 14 ? h->auth : h->corr)[dl] = '\0';
			*(type == 14 ? &h->has_auth : &h->has_corr) = true;
			break;
		case 15:
			h->payload = d;
			h->plen = dl;
			break;
		default:
			fail_msg("unexpected chunk type %u", type);
		}
		off += cl;
	}
	assert_int_equal(off, len);
}

static union sipcx_sa sa(const char *host, uint16_t port)
{
	union sipcx_sa a;
	assert_int_equal(sipcx_sa_set(&a, sipcx_str_c(host), port), 0);
	return a;
}

static void check_addr(const uint8_t *got, const union sipcx_sa *want)
{
	if (want->sa.sa_family == AF_INET)
		assert_memory_equal(got, &want->in.sin_addr, 4);
	else
		assert_memory_equal(got, &want->in6.sin6_addr, 16);
}

/* --- encoding --- */

static void test_encode_ipv4(void **state)
{
	(void)state;
	union sipcx_sa s = sa("192.0.2.1", 5060), d = sa("192.0.2.2", 5080);
	struct sipcx_trace_event ev = {
		.dir = SIPCX_TRACE_SEND,
		.transport = "UDP",
		.src = &s.sa,
		.dst = &d.sa,
		.time_us = 1700000000654321ull,
		.data = invite,
		.len = sizeof(invite) - 1,
		.kind = SIPCX_TRACE_SIP,
	};
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	sipcx_buf_puts(&b, "prefix");
	assert_int_equal(sipcx_hep_encode(&b, &ev, 0xdeadbeef, NULL, NULL), 0);
	struct hep h;
	decode((const uint8_t *)b.p + 6, b.len - 6, &h);
	assert_memory_equal(b.p, "prefix", 6);
	static const uint16_t order[] = { 1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 15, 17 };
	assert_int_equal(h.n, ARRAY_SIZE(order));
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		assert_int_equal(h.types[i], order[i]);
	assert_int_equal(h.family, 2);
	assert_int_equal(h.proto, 17);
	assert_int_equal(h.alen, 4);
	check_addr(h.src, &s);
	check_addr(h.dst, &d);
	assert_int_equal(h.sport, 5060);
	assert_int_equal(h.dport, 5080);
	assert_int_equal(h.sec, 1700000000u);
	assert_int_equal(h.usec, 654321);
	assert_int_equal(h.type, 1);
	assert_int_equal(h.id, 0xdeadbeef);
	assert_false(h.has_auth);
	assert_true(h.has_corr);
	assert_string_equal(h.corr, "c1@192.0.2.1");
	assert_int_equal(h.plen, sizeof(invite) - 1);
	assert_memory_equal(h.payload, invite, h.plen);
	sipcx_buf_free(&b);
}

static void test_encode_ipv6(void **state)
{
	(void)state;
	union sipcx_sa s = sa("2001:db8::1", 5061), d = sa("[2001:db8::2]", 40000);
	struct sipcx_trace_event ev = {
		.dir = SIPCX_TRACE_RECV,
		.transport = "TCP",
		.src = &s.sa,
		.dst = &d.sa,
		.time_us = 5,
		.data = compact,
		.len = sizeof(compact) - 1,
		.kind = SIPCX_TRACE_SIP,
	};
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_hep_encode(&b, &ev, 1, "s3cret", NULL), 0);
	struct hep h;
	decode((const uint8_t *)b.p, b.len, &h);
	static const uint16_t order[] = { 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 17 };
	assert_int_equal(h.n, ARRAY_SIZE(order));
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		assert_int_equal(h.types[i], order[i]);
	assert_int_equal(h.family, 10);
	assert_int_equal(h.proto, 6);
	assert_int_equal(h.alen, 16);
	check_addr(h.src, &s);
	check_addr(h.dst, &d);
	assert_int_equal(h.sport, 5061);
	assert_int_equal(h.dport, 40000);
	assert_int_equal(h.sec, 0);
	assert_int_equal(h.usec, 5);
	assert_int_equal(h.type, 1);
	assert_int_equal(h.id, 1);
	assert_string_equal(h.auth, "s3cret");
	assert_string_equal(h.corr, "k7"); /* compact form "i:" */
	assert_memory_equal(h.payload, compact, sizeof(compact) - 1);

	/* A given correlation id wins; "" means none. */
	b.len = 0;
	assert_int_equal(sipcx_hep_encode(&b, &ev, 1, NULL, "call-42"), 0);
	decode((const uint8_t *)b.p, b.len, &h);
	assert_string_equal(h.corr, "call-42");
	b.len = 0;
	assert_int_equal(sipcx_hep_encode(&b, &ev, 1, NULL, ""), 0);
	decode((const uint8_t *)b.p, b.len, &h);
	assert_false(h.has_corr);
	sipcx_buf_free(&b);
}

static void test_encode_other(void **state)
{
	(void)state;
	union sipcx_sa s = sa("10.0.0.1", 1), d = sa("10.0.0.2", 2), d6 = sa("::1", 2);
	struct sipcx_trace_event ev = {
		.transport = "UDP",
		.src = &s.sa,
		.dst = &d.sa,
		.data = no_callid,
		.len = sizeof(no_callid) - 1,
		.kind = SIPCX_TRACE_SIP,
	};
	struct sipcx_buf b;
	struct hep h;
	sipcx_buf_init(&b);
	/* No Call-ID in the headers (an "i:" in the body does not count). */
	assert_int_equal(sipcx_hep_encode(&b, &ev, 0, NULL, NULL), 0);
	decode((const uint8_t *)b.p, b.len, &h);
	assert_false(h.has_corr);
	/* RTP and RTCP: their own protocol types, no Call-ID looked for. */
	static const uint8_t rtp[12] = { 0x80, 0, 0, 1 };
	ev.kind = SIPCX_TRACE_RTP;
	ev.data = (const char *)rtp;
	ev.len = sizeof(rtp);
	b.len = 0;
	assert_int_equal(sipcx_hep_encode(&b, &ev, 0, NULL, NULL), 0);
	decode((const uint8_t *)b.p, b.len, &h);
	assert_int_equal(h.type, 4);
	assert_false(h.has_corr);
	ev.kind = SIPCX_TRACE_RTCP;
	b.len = 0;
	assert_int_equal(sipcx_hep_encode(&b, &ev, 0, NULL, NULL), 0);
	decode((const uint8_t *)b.p, b.len, &h);
	assert_int_equal(h.type, 5);

	/* Errors. */
	assert_int_equal(sipcx_hep_encode(NULL, &ev, 0, NULL, NULL), -EINVAL);
	assert_int_equal(sipcx_hep_encode(&b, NULL, 0, NULL, NULL), -EINVAL);
	ev.dst = &d6.sa;
	assert_int_equal(sipcx_hep_encode(&b, &ev, 0, NULL, NULL), -EINVAL);
	ev.dst = &d.sa;
	size_t big = 65536;
	char *p = calloc(1, big);
	assert_non_null(p);
	ev.data = p;
	ev.len = big;
	assert_int_equal(sipcx_hep_encode(&b, &ev, 0, NULL, NULL), -EINVAL);
	/* The largest payload that fits: 65535 minus the header and the other chunks. */
	ev.len = 65535 - 6 - (6 * 10 + 1 + 1 + 8 + 2 + 2 + 4 + 4 + 1 + 4) - 6;
	b.len = 0;
	assert_int_equal(sipcx_hep_encode(&b, &ev, 0, NULL, NULL), 0);
	assert_int_equal(b.len, 65535);
	ev.len++;
	assert_int_equal(sipcx_hep_encode(&b, &ev, 0, NULL, NULL), -EINVAL);
	free(p);
	sipcx_buf_free(&b);
}

/* --- the sender --- */

static void test_open_bad_specs(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"udp",
		"udp:",
		"tcp:127.0.0.1:9060",
		"UDP:127.0.0.1:9060",
		"udp:127.0.0.1",
		"udp:127.0.0.1:",
		"udp::9060",
		"udp:127.0.0.1:0",
		"udp:127.0.0.1:65536",
		"udp:127.0.0.1:+9060",
		"udp:127.0.0.1:9060 ",
		"udp:127.0.0.1:90x60",
		"udp:127.0.0.1:9060;",
		"udp:127.0.0.1:9060;;id=1",
		"udp:127.0.0.1:9060;id=",
		"udp:127.0.0.1:9060;id=-1",
		"udp:127.0.0.1:9060;id=4294967296",
		"udp:127.0.0.1:9060;id=1;id=2",
		"udp:127.0.0.1:9060;password=",
		"udp:127.0.0.1:9060;password=a;password=b",
		"udp:127.0.0.1:9060;foo=1",
		"udp:127.0.0.1:9060;ID=1",
		"udp:[::1:9060",
		"udp:[::1]9060",
		"udp:[]:9060",
		"udp:[not-an-address]:9060",
		"udp:::1:9060",
	};
	struct sipcx_hep *h = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (sipcx_hep_open(bad[i], &h) != -EINVAL)
			fail_msg("spec \"%s\" was not refused", bad[i]);
		assert_null(h);
	}
	assert_int_equal(sipcx_hep_open(NULL, &h), -EINVAL);
	assert_int_equal(sipcx_hep_open("udp:127.0.0.1:9060", NULL), -EINVAL);
	assert_int_equal(sipcx_hep_open("udp:no-such-host.invalid:9060", &h), SIPCX_ERESOLVE);
	assert_null(h);
	/* Good ones, each bound to nothing in particular. */
	static const char *const good[] = {
		"udp:127.0.0.1:9060",
		"udp:127.0.0.1:1;id=4294967295",
		"udp:127.0.0.1:65535;password=p;id=0",
		"udp:[::1]:9060;id=7;password=a=b",
		"udp:localhost:9060",
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		if (sipcx_hep_open(good[i], &h) != 0)
			fail_msg("spec \"%s\" was refused", good[i]);
		sipcx_hep_close(h);
		h = NULL;
	}
	sipcx_hep_close(NULL);
}

/* A UDP socket on 127.0.0.1, any port; *port gets it. */
static int collector(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	union sipcx_sa a = sa("127.0.0.1", 0);
	assert_int_equal(bind(fd, &a.sa, sizeof(a.in)), 0);
	socklen_t l = sizeof(a);
	assert_int_equal(getsockname(fd, &a.sa, &l), 0);
	*port = sipcx_sa_port(&a.sa);
	return fd;
}

static ssize_t recv_wait(int fd, uint8_t *buf, size_t n, union sipcx_sa *from)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, 5000) != 1)
		return -1;
	socklen_t l = sizeof(*from);
	return recvfrom(fd, buf, n, 0, &from->sa, &l);
}

static bool have_tshark(void)
{
	if (system("command -v tshark >/dev/null 2>&1") == 0)
		return true;
	printf("tshark not on PATH: skipping the tshark check\n");
	return false;
}

/*
 * tshark 4.0 has no HEP dissector of its own; when it has none, this Lua one
 * (walk the chunks, hand chunk 15 to the SIP dissector) stands in for it.
 */
static const char hep_lua[] =
    "local p = Proto('sipcxhep3', 'HEP3 (sipcx test)')\n"
    "local sip = Dissector.get('sip')\n"
    "function p.dissector(tvb, pinfo, tree)\n"
    "  if tvb:len() < 6 or tvb(0, 4):string() ~= 'HEP3' then return 0 end\n"
    "  local total = tvb(4, 2):uint()\n"
    "  if total > tvb:len() then return 0 end\n"
    "  tree:add(p, tvb(0, total))\n"
    "  local off = 6\n"
    "  while off + 6 <= total do\n"
    "    local len = tvb(off + 4, 2):uint()\n"
    "    if len < 6 or off + len > total then return 0 end\n"
    "    if tvb(off, 2):uint() == 0 and tvb(off + 2, 2):uint() == 15 then\n"
    "      sip:call(tvb(off + 6, len - 6):tvb(), pinfo, tree)\n"
    "    end\n"
    "    off = off + len\n"
    "  end\n"
    "  return total\n"
    "end\n"
    "DissectorTable.get('udp.port'):add(tonumber(os.getenv('SIPCX_HEP_PORT')), p)\n";

/* The received datagram as UDP to the HEP port in a pcap, then tshark finds the SIP inside. */
static void tshark_check(const uint8_t *dgram, size_t len, const union sipcx_sa *from,
                         uint16_t port)
{
	char path[] = "/tmp/sipcx-test-hep-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct sipcx_pcap *p = NULL;
	assert_int_equal(sipcx_pcap_open(path, &p), 0);
	union sipcx_sa to = sa("127.0.0.1", port);
	struct sipcx_trace_event ev = {
		.transport = "UDP",
		.src = &from->sa,
		.dst = &to.sa,
		.time_us = 1700000000000000ull,
		.data = (const char *)dgram,
		.len = len,
	};
	assert_int_equal(sipcx_pcap_write(p, &ev), 0);
	assert_int_equal(sipcx_pcap_close(p), 0);

	char lua[] = "/tmp/sipcx-test-hep-lua-XXXXXX";
	char cmd[600];
	bool builtin = system("tshark -G protocols 2>/dev/null | cut -f3 | grep -qx hep") == 0;
	if (builtin) {
		snprintf(
		    cmd, sizeof(cmd),
		    "tshark -r %s -d udp.port==%u,hep -Y sip -T fields -e sip.Method 2>/dev/null",
		    path, port);
	} else {
		fd = mkstemp(lua);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, hep_lua, sizeof(hep_lua) - 1), sizeof(hep_lua) - 1);
		close(fd);
		snprintf(cmd, sizeof(cmd),
		         "SIPCX_HEP_PORT=%u tshark -X lua_script:%s -r %s -Y sip -T fields "
		         "-e sip.Method 2>/dev/null",
		         port, lua, path);
	}
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char out[256] = "";
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	assert_string_equal(out, "INVITE\n");
	if (!builtin)
		unlink(lua);
	unlink(path);
}

static void test_send(void **state)
{
	(void)state;
	uint16_t port;
	int fd = collector(&port);
	char spec[64];
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u;id=2001;password=pw", port);
	struct sipcx_hep *h = NULL;
	assert_int_equal(sipcx_hep_open(spec, &h), 0);

	union sipcx_sa s = sa("192.0.2.1", 5060), d = sa("192.0.2.2", 5060);
	struct sipcx_trace_event ev = {
		.dir = SIPCX_TRACE_SEND,
		.transport = "UDP",
		.src = &s.sa,
		.dst = &d.sa,
		.time_us = 1700000000000001ull,
		.data = invite,
		.len = sizeof(invite) - 1,
		.kind = SIPCX_TRACE_SIP,
	};
	/* RTP is not sent; SIP is. */
	static const uint8_t rtp[12] = { 0x80 };
	struct sipcx_trace_event media = ev;
	media.kind = SIPCX_TRACE_RTP;
	media.data = (const char *)rtp;
	media.len = sizeof(rtp);
	sipcx_hep_trace(&media, h);
	sipcx_hep_trace(&ev, h);
	uint64_t sent = 9, failed = 9;
	sipcx_hep_counts(h, &sent, &failed);
	assert_int_equal(sent, 1);
	assert_int_equal(failed, 0);

	uint8_t buf[4096];
	union sipcx_sa from;
	ssize_t n = recv_wait(fd, buf, sizeof(buf), &from);
	assert_true(n > 0);
	struct hep hp;
	decode(buf, (size_t)n, &hp);
	assert_int_equal(hp.id, 2001);
	assert_string_equal(hp.auth, "pw");
	assert_string_equal(hp.corr, "c1@192.0.2.1");
	assert_int_equal(hp.type, 1);
	assert_int_equal(hp.usec, 1);
	assert_memory_equal(hp.payload, invite, sizeof(invite) - 1);
	/* Nothing else came (the RTP event was dropped). */
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 50), 0);
	sipcx_hep_close(h);

	if (have_tshark())
		tshark_check(buf, (size_t)n, &from, port);
	close(fd);
}

/* A collector that went away: sends fail (ICMP port unreachable), counted, never blocking. */
static void test_send_fails(void **state)
{
	(void)state;
	uint16_t port;
	int fd = collector(&port);
	close(fd);
	char spec[64];
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", port);
	struct sipcx_hep *h = NULL;
	assert_int_equal(sipcx_hep_open(spec, &h), 0);
	union sipcx_sa s = sa("192.0.2.1", 5060), d = sa("192.0.2.2", 5060);
	struct sipcx_trace_event ev = {
		.transport = "UDP",
		.src = &s.sa,
		.dst = &d.sa,
		.data = invite,
		.len = sizeof(invite) - 1,
		.kind = SIPCX_TRACE_SIP,
	};
	for (int i = 0; i < 4; i++) {
		sipcx_hep_trace(&ev, h);
		usleep(10000);
	}
	/* An event that cannot be encoded is a failure too. */
	union sipcx_sa d6 = sa("::1", 1);
	ev.dst = &d6.sa;
	sipcx_hep_trace(&ev, h);
	uint64_t sent, failed;
	sipcx_hep_counts(h, &sent, NULL);
	sipcx_hep_counts(h, NULL, &failed);
	assert_int_equal(sent + failed, 5);
	assert_true(failed >= 2);
	sipcx_hep_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_ipv4),  cmocka_unit_test(test_encode_ipv6),
		cmocka_unit_test(test_encode_other), cmocka_unit_test(test_open_bad_specs),
		cmocka_unit_test(test_send),         cmocka_unit_test(test_send_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
