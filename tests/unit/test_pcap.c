/* Unit tests of the pcap writer and reader: round trips through a file, tshark's view of it, and hand-made captures of every link type. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include <sipcx/pcap.h>
#include <sipcx/rtp.h>
#include <sipcx/sockaddr.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* --- helpers --- */

struct rec {
	enum sipcx_trace_kind kind;
	enum sipcx_trace_dir dir;
	char transport[4];
	union sipcx_sa src, dst;
	uint64_t time_us;
	char *data;
	size_t len;
};

struct recs {
	struct rec r[64];
	int n;
};

static void collect(const struct sipcx_trace_event *ev, void *arg)
{
	struct recs *rs = arg;
	assert_true(rs->n < (int)ARRAY_SIZE(rs->r));
	struct rec *r = &rs->r[rs->n++];
	r->kind = ev->kind;
	r->dir = ev->dir;
	snprintf(r->transport, sizeof(r->transport), "%s", ev->transport);
	memset(&r->src, 0, sizeof(r->src));
	memset(&r->dst, 0, sizeof(r->dst));
	memcpy(&r->src, ev->src, sipcx_sa_len(ev->src));
	memcpy(&r->dst, ev->dst, sipcx_sa_len(ev->dst));
	r->time_us = ev->time_us;
	r->len = ev->len;
	r->data = malloc(ev->len + 1);
	assert_non_null(r->data);
	memcpy(r->data, ev->data, ev->len);
	r->data[ev->len] = '\0';
}

static void recs_free(struct recs *rs)
{
	for (int i = 0; i < rs->n; i++)
		free(rs->r[i].data);
	rs->n = 0;
}

static void noop(const struct sipcx_trace_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

static union sipcx_sa sa(const char *host, uint16_t port)
{
	union sipcx_sa a;
	assert_int_equal(sipcx_sa_set(&a, sipcx_str_c(host), port), 0);
	return a;
}

static char *tmp_path(void)
{
	char *path = strdup("/tmp/sipcx-test-pcap-XXXXXX");
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return path;
}

static bool have_tshark(void)
{
	static int have = -1;
	if (have < 0) {
		have = system("command -v tshark >/dev/null 2>&1") == 0;
		if (!have)
			printf("tshark not on PATH: skipping the tshark checks\n");
	}
	return have;
}

/* Run cmd, return its stdout (malloc'd, NUL-terminated). */
static char *run(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);
	assert_non_null(out);
	size_t n;
	while ((n = fread(out + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
	}
	out[len] = '\0';
	pclose(f);
	return out;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* --- the events written and read back --- */

static const char invite[] = "INVITE sip:bob@192.0.2.2 SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
                             "From: <sip:alice@192.0.2.1>;tag=a1\r\n"
                             "To: <sip:bob@192.0.2.2>\r\n"
                             "Call-ID: c1@192.0.2.1\r\n"
                             "CSeq: 1 INVITE\r\n"
                             "Contact: <sip:alice@192.0.2.1:5060>\r\n"
                             "Max-Forwards: 70\r\n"
                             "Content-Type: application/sdp\r\n"
                             "Content-Length: 10\r\n"
                             "\r\n"
                             "v=0\r\no=-\r\n";

static const char ok200[] = "SIP/2.0 200 OK\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
                            "From: <sip:alice@192.0.2.1>;tag=a1\r\n"
                            "To: <sip:bob@192.0.2.2>;tag=b1\r\n"
                            "Call-ID: c1@192.0.2.1\r\n"
                            "CSeq: 1 INVITE\r\n"
                            "Content-Length: 0\r\n"
                            "\r\n";

static const char options6[] = "OPTIONS sip:[2001:db8::2] SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-6\r\n"
                               "From: <sip:a@[2001:db8::1]>;tag=x\r\n"
                               "To: <sip:[2001:db8::2]>\r\n"
                               "Call-ID: c6\r\n"
                               "CSeq: 7 OPTIONS\r\n"
                               "Max-Forwards: 70\r\n"
                               "Content-Length: 0\r\n"
                               "\r\n";

static const char ok6[] = "SIP/2.0 404 Not Found\r\n"
                          "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-6\r\n"
                          "From: <sip:a@[2001:db8::1]>;tag=x\r\n"
                          "To: <sip:[2001:db8::2]>;tag=y\r\n"
                          "Call-ID: c6\r\n"
                          "CSeq: 7 OPTIONS\r\n"
                          "Content-Length: 0\r\n"
                          "\r\n";

static const char reg_tcp[] = "REGISTER sip:192.0.2.2;transport=tcp SIP/2.0\r\n"
                              "Via: SIP/2.0/TCP 192.0.2.1:40000;branch=z9hG4bK-t1\r\n"
                              "From: <sip:alice@192.0.2.2>;tag=r1\r\n"
                              "To: <sip:alice@192.0.2.2>\r\n"
                              "Call-ID: t1\r\n"
                              "CSeq: 1 REGISTER\r\n"
                              "Max-Forwards: 70\r\n"
                              "Content-Length: 0\r\n"
                              "\r\n";

static const char ok_tcp[] = "SIP/2.0 200 OK\r\n"
                             "Via: SIP/2.0/TCP 192.0.2.1:40000;branch=z9hG4bK-t1\r\n"
                             "From: <sip:alice@192.0.2.2>;tag=r1\r\n"
                             "To: <sip:alice@192.0.2.2>;tag=s1\r\n"
                             "Call-ID: t1\r\n"
                             "CSeq: 1 REGISTER\r\n"
                             "Content-Length: 0\r\n"
                             "\r\n";

static const char msg_tcp[] = "MESSAGE sip:bob@192.0.2.2 SIP/2.0\r\n"
                              "Via: SIP/2.0/TCP 192.0.2.1:40000;branch=z9hG4bK-t2\r\n"
                              "From: <sip:alice@192.0.2.2>;tag=r2\r\n"
                              "To: <sip:bob@192.0.2.2>\r\n"
                              "Call-ID: t2\r\n"
                              "CSeq: 2 MESSAGE\r\n"
                              "Max-Forwards: 70\r\n"
                              "Content-Type: text/plain\r\n"
                              "Content-Length: 5\r\n"
                              "\r\n"
                              "hello";

static const char ok2_tcp[] = "SIP/2.0 202 Accepted\r\n"
                              "Via: SIP/2.0/TCP 192.0.2.1:40000;branch=z9hG4bK-t2\r\n"
                              "From: <sip:alice@192.0.2.2>;tag=r2\r\n"
                              "To: <sip:bob@192.0.2.2>;tag=s2\r\n"
                              "Call-ID: t2\r\n"
                              "CSeq: 2 MESSAGE\r\n"
                              "Content-Length: 0\r\n"
                              "\r\n";

#define RTP_PORT_A 40000
#define RTP_PORT_B 41000

static uint8_t rtp_pkts[3][172];
static uint8_t rtcp_pkt[] = { 0x80, 0xc9, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44, /* RR */
	                      0x81, 0xca, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44, /* SDES */
	                      0x01, 0x03, 'a',  '@',  'b',  0x00, 0x00, 0x00 };

struct ev_spec {
	enum sipcx_trace_kind kind;
	enum sipcx_trace_dir dir;
	const char *transport;
	const char *src, *dst;
	uint16_t sport, dport;
	const void *data;
	size_t len;
};

static struct ev_spec evs[16];
static size_t nevs;

static void build_events(void)
{
	for (int i = 0; i < 3; i++) {
		uint8_t *p = rtp_pkts[i];
		memset(p, 0xff, sizeof(rtp_pkts[i]));
		p[0] = 0x80;
		p[1] = i == 0 ? 0x80 : 0x00; /* marker on the first, PCMU */
		p[2] = 0x12;
		p[3] = (uint8_t)(0x34 + i);
		uint32_t ts = 160u * (uint32_t)i;
		p[4] = (uint8_t)(ts >> 24);
		p[5] = (uint8_t)(ts >> 16);
		p[6] = (uint8_t)(ts >> 8);
		p[7] = (uint8_t)ts;
		p[8] = 0xde;
		p[9] = 0xad;
		p[10] = 0xbe;
		p[11] = 0xef;
	}
	assert_int_equal(sipcx_rtcp_validate(rtcp_pkt, sizeof(rtcp_pkt), 0), 2);
	struct ev_spec e[] = {
		{ SIPCX_TRACE_SIP, SIPCX_TRACE_SEND, "UDP", "192.0.2.1", "192.0.2.2", 5060, 5060,
		  invite, sizeof(invite) - 1 },
		{ SIPCX_TRACE_SIP, SIPCX_TRACE_RECV, "UDP", "192.0.2.2", "192.0.2.1", 5060, 5060,
		  ok200, sizeof(ok200) - 1 },
		{ SIPCX_TRACE_SIP, SIPCX_TRACE_SEND, "UDP", "2001:db8::1", "2001:db8::2", 5060,
		  5060, options6, sizeof(options6) - 1 },
		{ SIPCX_TRACE_SIP, SIPCX_TRACE_RECV, "UDP", "2001:db8::2", "2001:db8::1", 5060,
		  5060, ok6, sizeof(ok6) - 1 },
		{ SIPCX_TRACE_SIP, SIPCX_TRACE_SEND, "TCP", "192.0.2.1", "192.0.2.2", 40000, 5060,
		  reg_tcp, sizeof(reg_tcp) - 1 },
		{ SIPCX_TRACE_SIP, SIPCX_TRACE_RECV, "TCP", "192.0.2.2", "192.0.2.1", 5060, 40000,
		  ok_tcp, sizeof(ok_tcp) - 1 },
		{ SIPCX_TRACE_SIP, SIPCX_TRACE_SEND, "TCP", "192.0.2.1", "192.0.2.2", 40000, 5060,
		  msg_tcp, sizeof(msg_tcp) - 1 },
		{ SIPCX_TRACE_SIP, SIPCX_TRACE_RECV, "TCP", "192.0.2.2", "192.0.2.1", 5060, 40000,
		  ok2_tcp, sizeof(ok2_tcp) - 1 },
		{ SIPCX_TRACE_RTP, SIPCX_TRACE_SEND, "UDP", "192.0.2.1", "192.0.2.2", RTP_PORT_A,
		  RTP_PORT_B, rtp_pkts[0], sizeof(rtp_pkts[0]) },
		{ SIPCX_TRACE_RTP, SIPCX_TRACE_SEND, "UDP", "192.0.2.1", "192.0.2.2", RTP_PORT_A,
		  RTP_PORT_B, rtp_pkts[1], sizeof(rtp_pkts[1]) },
		{ SIPCX_TRACE_RTP, SIPCX_TRACE_RECV, "UDP", "192.0.2.2", "192.0.2.1", RTP_PORT_B,
		  RTP_PORT_A, rtp_pkts[2], sizeof(rtp_pkts[2]) },
		{ SIPCX_TRACE_RTCP, SIPCX_TRACE_SEND, "UDP", "192.0.2.1", "192.0.2.2",
		  RTP_PORT_A + 1, RTP_PORT_B + 1, rtcp_pkt, sizeof(rtcp_pkt) },
	};
	memcpy(evs, e, sizeof(e));
	nevs = ARRAY_SIZE(e);
}

#define T0 1700000000123456ull

static void write_events(const char *path)
{
	struct sipcx_pcap *p = NULL;
	assert_int_equal(sipcx_pcap_open(path, &p), 0);
	for (size_t i = 0; i < nevs; i++) {
		union sipcx_sa s = sa(evs[i].src, evs[i].sport), d = sa(evs[i].dst, evs[i].dport);
		struct sipcx_trace_event ev = {
			.dir = evs[i].dir,
			.transport = evs[i].transport,
			.src = &s.sa,
			.dst = &d.sa,
			.time_us = T0 + i * 1001,
			.data = evs[i].data,
			.len = evs[i].len,
			.kind = evs[i].kind,
		};
		if (i % 2)
			sipcx_pcap_trace(&ev, p);
		else
			assert_int_equal(sipcx_pcap_write(p, &ev), 0);
	}
	assert_int_equal(sipcx_pcap_close(p), 0);
}

/* --- write, read back, and what tshark makes of it --- */

static void test_roundtrip(void **state)
{
	(void)state;
	build_events();
	char *path = tmp_path();
	write_events(path);

	struct recs rs = { .n = 0 };
	assert_int_equal(sipcx_pcap_read(path, collect, &rs), (int)nevs);
	assert_int_equal(rs.n, (int)nevs);
	for (size_t i = 0; i < nevs; i++) {
		struct rec *r = &rs.r[i];
		union sipcx_sa s = sa(evs[i].src, evs[i].sport), d = sa(evs[i].dst, evs[i].dport);
		assert_int_equal(r->kind, evs[i].kind);
		assert_int_equal(r->dir, SIPCX_TRACE_RECV);
		assert_string_equal(r->transport, evs[i].transport);
		assert_true(sipcx_sa_equal(&r->src.sa, &s.sa));
		assert_true(sipcx_sa_equal(&r->dst.sa, &d.sa));
		assert_int_equal(r->time_us, T0 + i * 1001);
		assert_int_equal(r->len, evs[i].len);
		assert_memory_equal(r->data, evs[i].data, evs[i].len);
	}
	recs_free(&rs);
	unlink(path);
	free(path);
}

static void test_tshark(void **state)
{
	(void)state;
	if (!have_tshark())
		return;
	build_events();
	char *path = tmp_path();
	write_events(path);
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
	         "tshark -r %s -Y sip -T fields -e sip.Method -e sip.Status-Code 2>/dev/null",
	         path);
	char *out = run(cmd);
	assert_string_equal(out, "INVITE\t\n"
	                         "\t200\n"
	                         "OPTIONS\t\n"
	                         "\t404\n"
	                         "REGISTER\t\n"
	                         "\t200\n"
	                         "MESSAGE\t\n"
	                         "\t202\n");
	free(out);

	/* The TCP stream: one handshake, and SIP found in each data segment. */
	snprintf(cmd, sizeof(cmd),
	         "tshark -r %s -Y 'tcp.flags.syn == 1' -T fields -e tcp.stream 2>/dev/null", path);
	out = run(cmd);
	assert_string_equal(out, "0\n0\n");
	free(out);

	snprintf(cmd, sizeof(cmd), "tshark -r %s -d udp.port==%d,rtp -Y rtp 2>/dev/null", path,
	         RTP_PORT_A);
	out = run(cmd);
	assert_int_equal(count_lines(out), 3);
	free(out);

	snprintf(cmd, sizeof(cmd),
	         "tshark -r %s -d udp.port==%d,rtcp -Y rtcp -T fields -e rtcp.pt 2>/dev/null", path,
	         RTP_PORT_A + 1);
	out = run(cmd);
	assert_string_equal(out, "201,202\n");
	free(out);

	/* No warning or error from any dissector, checksums verified. */
	snprintf(cmd, sizeof(cmd),
	         "tshark -r %s -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE "
	         "-o tcp.check_checksum:TRUE -d udp.port==%d,rtp -d udp.port==%d,rtcp "
	         "-Y '_ws.expert.severity >= 6291456 || _ws.malformed' "
	         "-T fields -e frame.number -e _ws.expert.message 2>/dev/null",
	         path, RTP_PORT_A, RTP_PORT_A + 1);
	out = run(cmd);
	if (*out)
		printf("tshark says:\n%s", out);
	assert_string_equal(out, "");
	free(out);

	unlink(path);
	free(path);
}

static void test_write_errors(void **state)
{
	(void)state;
	struct sipcx_pcap *p = NULL;
	assert_int_equal(sipcx_pcap_open("/nonexistent/dir/x.pcap", &p), -ENOENT);
	assert_null(p);
	assert_int_equal(sipcx_pcap_open(NULL, &p), -EINVAL);
	assert_int_equal(sipcx_pcap_close(NULL), 0);

	/* A full disk: the error is sticky and close reports it. */
	assert_int_equal(sipcx_pcap_open("/dev/full", &p), 0);
	union sipcx_sa a = sa("127.0.0.1", 5060), b = sa("::1", 5060);
	char big[8192];
	memset(big, 'x', sizeof(big));
	struct sipcx_trace_event ev = {
		.transport = "UDP", .src = &a.sa, .dst = &b.sa, .data = big, .len = sizeof(big)
	};
	assert_int_equal(sipcx_pcap_write(p, &ev), -EINVAL); /* families differ */
	ev.dst = &a.sa;
	int err = 0;
	for (int i = 0; i < 4 && !err; i++)
		err = sipcx_pcap_write(p, &ev);
	assert_int_equal(err, -ENOSPC);
	assert_int_equal(sipcx_pcap_write(p, &ev), -ENOSPC);
	assert_int_equal(sipcx_pcap_close(p), -ENOSPC);
}

/* A payload too big for the snaplen: caplen 65535, the original length kept. */
static void test_write_truncates(void **state)
{
	(void)state;
	char *path = tmp_path();
	struct sipcx_pcap *p = NULL;
	assert_int_equal(sipcx_pcap_open(path, &p), 0);
	size_t n = 70000;
	char *big = malloc(n);
	assert_non_null(big);
	memset(big, 'y', n);
	union sipcx_sa a = sa("10.0.0.1", 1000), b = sa("10.0.0.2", 2000);
	struct sipcx_trace_event ev = { .transport = "UDP",
		                        .src = &a.sa,
		                        .dst = &b.sa,
		                        .data = big,
		                        .len = n,
		                        .kind = SIPCX_TRACE_SIP };
	assert_int_equal(sipcx_pcap_write(p, &ev), 0);
	assert_int_equal(sipcx_pcap_close(p), 0);
	size_t len = 0;
	char *file = tu_read_file(path, &len);
	assert_non_null(file);
	assert_int_equal(len, 24 + 16 + 65535);
	uint32_t caplen, origlen;
	memcpy(&caplen, file + 24 + 8, 4);
	memcpy(&origlen, file + 24 + 12, 4);
	assert_int_equal(caplen, 65535);
	assert_int_equal(origlen, 14 + 20 + 8 + n);
	/* Not SIP and cut short: nothing read back, no overrun. */
	assert_int_equal(sipcx_pcap_parse(file, len, noop, NULL), 0);
	free(file);
	free(big);
	unlink(path);
	free(path);
}

struct writer_arg {
	struct sipcx_pcap *p;
	uint16_t port;
};

static void *writer(void *arg)
{
	struct writer_arg *w = arg;
	union sipcx_sa a = sa("127.0.0.1", w->port), b = sa("127.0.0.1", 5060);
	struct sipcx_trace_event ev = { .transport = "TCP",
		                        .src = &a.sa,
		                        .dst = &b.sa,
		                        .data = ok200,
		                        .len = sizeof(ok200) - 1,
		                        .kind = SIPCX_TRACE_SIP };
	for (int i = 0; i < 500; i++) {
		ev.time_us = T0 + (uint64_t)i;
		assert_int_equal(sipcx_pcap_write(w->p, &ev), 0);
	}
	return NULL;
}

static int count_cb_n;
static void count_cb(const struct sipcx_trace_event *ev, void *arg)
{
	(void)arg;
	assert_int_equal(ev->len, sizeof(ok200) - 1);
	count_cb_n++;
}

/* Hooks run on several loop threads at once; and more flows than the table holds. */
static void test_threads(void **state)
{
	(void)state;
	char *path = tmp_path();
	struct sipcx_pcap *p = NULL;
	assert_int_equal(sipcx_pcap_open(path, &p), 0);
	struct writer_arg wa[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		wa[i] = (struct writer_arg){ p, (uint16_t)(30000 + i) };
		assert_int_equal(pthread_create(&th[i], NULL, writer, &wa[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	union sipcx_sa b = sa("127.0.0.1", 5060);
	for (int i = 0; i < 300; i++) {
		union sipcx_sa a = sa("127.0.0.2", (uint16_t)(20000 + i));
		struct sipcx_trace_event ev = { .transport = "TCP",
			                        .src = &a.sa,
			                        .dst = &b.sa,
			                        .data = ok200,
			                        .len = sizeof(ok200) - 1 };
		assert_int_equal(sipcx_pcap_write(p, &ev), 0);
	}
	assert_int_equal(sipcx_pcap_close(p), 0);
	count_cb_n = 0;
	assert_int_equal(sipcx_pcap_read(path, count_cb, NULL), 2300);
	assert_int_equal(count_cb_n, 2300);
	unlink(path);
	free(path);
}

static void test_read_errors(void **state)
{
	(void)state;
	assert_int_equal(sipcx_pcap_read("/nonexistent.pcap", noop, NULL), -ENOENT);
	char *path = tmp_path();
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	/* Sparse: refused by its size before anything is read. */
	assert_int_equal(ftruncate(fileno(f), (off_t)1024 * 1024 * 1024 + 1), 0);
	fclose(f);
	assert_int_equal(sipcx_pcap_read(path, noop, NULL), -EFBIG);
	unlink(path);
	free(path);
}

/* --- hand-made captures --- */

struct cap {
	uint8_t b[8192];
	size_t n;
	bool be; /* big-endian file */
};

static void cap_put(struct cap *c, const void *p, size_t n)
{
	assert_true(c->n + n <= sizeof(c->b));
	memcpy(c->b + c->n, p, n);
	c->n += n;
}

static void cap_u32(struct cap *c, uint32_t v)
{
	uint8_t d[4];
	if (c->be) {
		d[0] = (uint8_t)(v >> 24);
		d[1] = (uint8_t)(v >> 16);
		d[2] = (uint8_t)(v >> 8);
		d[3] = (uint8_t)v;
	} else {
		d[3] = (uint8_t)(v >> 24);
		d[2] = (uint8_t)(v >> 16);
		d[1] = (uint8_t)(v >> 8);
		d[0] = (uint8_t)v;
	}
	cap_put(c, d, 4);
}

static void cap_init(struct cap *c, bool be, uint32_t magic, uint32_t link)
{
	c->n = 0;
	c->be = be;
	cap_u32(c, magic);
	uint8_t ver[4] = { 0, 2, 0, 4 };
	if (!be) {
		ver[0] = 2;
		ver[1] = 0;
		ver[2] = 4;
		ver[3] = 0;
	}
	cap_put(c, ver, 4);
	cap_u32(c, 0);
	cap_u32(c, 0);
	cap_u32(c, 65535);
	cap_u32(c, link);
}

static void cap_rec(struct cap *c, uint32_t sec, uint32_t frac, const void *p, size_t n)
{
	cap_u32(c, sec);
	cap_u32(c, frac);
	cap_u32(c, (uint32_t)n);
	cap_u32(c, (uint32_t)n);
	cap_put(c, p, n);
}

/* IPv4 + UDP (or TCP) + payload into out (checksums left zero: the reader ignores them). */
static size_t ip4_pkt(uint8_t *out, uint8_t proto, uint16_t sport, uint16_t dport, const void *pl,
                      size_t n)
{
	size_t l4 = proto == 6 ? 20 : 8;
	size_t total = 20 + l4 + n;
	memset(out, 0, 20 + l4);
	out[0] = 0x45;
	out[2] = (uint8_t)(total >> 8);
	out[3] = (uint8_t)total;
	out[8] = 64;
	out[9] = proto;
	uint8_t s[4] = { 10, 0, 0, 1 }, d[4] = { 10, 0, 0, 2 };
	memcpy(out + 12, s, 4);
	memcpy(out + 16, d, 4);
	uint8_t *u = out + 20;
	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	if (proto == 6) {
		u[12] = 5 << 4;
		u[13] = 0x18;
	} else {
		u[4] = (uint8_t)((8 + n) >> 8);
		u[5] = (uint8_t)(8 + n);
	}
	memcpy(out + 20 + l4, pl, n);
	return total;
}

/* IPv6 (with a hop-by-hop options header when hbh) + UDP + payload. */
static size_t ip6_pkt(uint8_t *out, bool hbh, uint16_t sport, uint16_t dport, const void *pl,
                      size_t n)
{
	size_t ext = hbh ? 8 : 0;
	size_t plen = ext + 8 + n;
	memset(out, 0, 40 + ext + 8);
	out[0] = 0x60;
	out[4] = (uint8_t)(plen >> 8);
	out[5] = (uint8_t)plen;
	out[6] = hbh ? 0 : 17;
	out[7] = 64;
	out[8] = 0x20;
	out[9] = 0x01;
	out[23] = 1;
	out[24] = 0x20;
	out[25] = 0x01;
	out[39] = 2;
	uint8_t *u = out + 40;
	if (hbh) {
		u[0] = 17;
		u[1] = 0;
		u[2] = 1; /* PadN */
		u[3] = 4;
		u += 8;
	}
	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	u[4] = (uint8_t)((8 + n) >> 8);
	u[5] = (uint8_t)(8 + n);
	memcpy(u + 8, pl, n);
	return 40 + plen;
}

static int parse_exact(const struct cap *c, size_t n, struct recs *rs)
{
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, c->b, n);
	int r = sipcx_pcap_parse(copy, n, collect, rs);
	free(copy);
	return r;
}

static void test_parse_header(void **state)
{
	(void)state;
	struct cap c;
	struct recs rs = { .n = 0 };
	uint8_t pkt[1024], fr[1100];
	size_t n = ip4_pkt(pkt, 17, 5060, 5062, ok200, sizeof(ok200) - 1);
	memset(fr, 0, 14);
	fr[12] = 0x08;
	memcpy(fr + 14, pkt, n);

	/* Not a pcap: too short, bad magic, pcapng. */
	cap_init(&c, false, 0xa1b2c3d4u, 1);
	assert_int_equal(parse_exact(&c, 23, &rs), -EINVAL);
	cap_init(&c, false, 0xa1b2c3d5u, 1);
	assert_int_equal(parse_exact(&c, c.n, &rs), -EINVAL);
	cap_init(&c, false, 0x0a0d0d0au, 1);
	assert_int_equal(parse_exact(&c, c.n, &rs), -EINVAL);
	assert_int_equal(sipcx_pcap_parse(NULL, 0, noop, NULL), -EINVAL);

	/* Header only: no events. Then a record, cut at every length. */
	cap_init(&c, false, 0xa1b2c3d4u, 1);
	size_t hdr = c.n;
	assert_int_equal(parse_exact(&c, c.n, &rs), 0);
	cap_rec(&c, 1, 2, fr, 14 + n);
	cap_rec(&c, 3, 4, fr, 14 + n);
	size_t one = hdr + 16 + 14 + n;
	for (size_t cut = hdr; cut < c.n; cut++) {
		int r = parse_exact(&c, cut, &rs);
		assert_int_equal(r, cut < one ? 0 : 1);
		recs_free(&rs);
	}
	assert_int_equal(parse_exact(&c, c.n, &rs), 2);
	assert_int_equal(rs.r[1].time_us, 3000004);
	recs_free(&rs);

	/* A record longer than any capture: malformed. */
	cap_init(&c, false, 0xa1b2c3d4u, 1);
	cap_u32(&c, 0);
	cap_u32(&c, 0);
	cap_u32(&c, 0x7fffffff);
	cap_u32(&c, 0x7fffffff);
	assert_int_equal(parse_exact(&c, c.n, &rs), -EINVAL);

	/* Big-endian file, nanosecond timestamps. */
	cap_init(&c, true, 0xa1b23c4du, 1);
	cap_rec(&c, 10, 123456789, fr, 14 + n);
	assert_int_equal(parse_exact(&c, c.n, &rs), 1);
	assert_int_equal(rs.r[0].time_us, 10123456);
	assert_int_equal(rs.r[0].kind, SIPCX_TRACE_SIP);
	assert_int_equal(sipcx_sa_port(&rs.r[0].src.sa), 5060);
	assert_int_equal(sipcx_sa_port(&rs.r[0].dst.sa), 5062);
	union sipcx_sa s = sa("10.0.0.1", 5060);
	assert_true(sipcx_sa_equal(&rs.r[0].src.sa, &s.sa));
	recs_free(&rs);

	/* Little-endian, nanoseconds. */
	cap_init(&c, false, 0xa1b23c4du, 1);
	cap_rec(&c, 10, 999999999, fr, 14 + n);
	assert_int_equal(parse_exact(&c, c.n, &rs), 1);
	assert_int_equal(rs.r[0].time_us, 10999999);
	recs_free(&rs);
}

static void test_parse_links(void **state)
{
	(void)state;
	struct cap c;
	struct recs rs = { .n = 0 };
	uint8_t pkt[1024], pkt6[1024], fr[1200];
	size_t n = ip4_pkt(pkt, 17, 5060, 5060, invite, sizeof(invite) - 1);
	size_t n6 = ip6_pkt(pkt6, true, 5060, 5060, options6, sizeof(options6) - 1);

	/* Ethernet with an 802.1Q tag. */
	cap_init(&c, false, 0xa1b2c3d4u, 1);
	memset(fr, 0, 18);
	fr[12] = 0x81;
	fr[14] = 0x00;
	fr[15] = 0x05;
	fr[16] = 0x86;
	fr[17] = 0xdd;
	memcpy(fr + 18, pkt6, n6);
	cap_rec(&c, 1, 0, fr, 18 + n6);
	assert_int_equal(parse_exact(&c, c.n, &rs), 1);
	assert_int_equal(rs.r[0].src.sa.sa_family, AF_INET6);
	assert_int_equal(rs.r[0].len, sizeof(options6) - 1);
	recs_free(&rs);

	/* Ethernet padding past the IP total length is not payload. */
	cap_init(&c, false, 0xa1b2c3d4u, 1);
	memset(fr, 0, sizeof(fr));
	fr[12] = 0x08;
	memcpy(fr + 14, pkt, n);
	cap_rec(&c, 1, 0, fr, 14 + n + 6);
	assert_int_equal(parse_exact(&c, c.n, &rs), 1);
	assert_int_equal(rs.r[0].len, sizeof(invite) - 1);
	recs_free(&rs);

	/* Linux cooked SLL. */
	cap_init(&c, false, 0xa1b2c3d4u, 113);
	memset(fr, 0, 16);
	fr[14] = 0x08;
	memcpy(fr + 16, pkt, n);
	cap_rec(&c, 1, 0, fr, 16 + n);
	/* SLL2 */
	struct cap c2;
	cap_init(&c2, false, 0xa1b2c3d4u, 276);
	memset(fr, 0, 20);
	fr[0] = 0x86;
	fr[1] = 0xdd;
	memcpy(fr + 20, pkt6, n6);
	cap_rec(&c2, 1, 0, fr, 20 + n6);
	assert_int_equal(parse_exact(&c, c.n, &rs), 1);
	assert_int_equal(rs.r[0].src.sa.sa_family, AF_INET);
	assert_int_equal(parse_exact(&c2, c2.n, &rs), 1);
	assert_int_equal(rs.r[1].src.sa.sa_family, AF_INET6);
	recs_free(&rs);

	/* Raw IP: 101 both versions; 228 IPv4 only; 229 IPv6 only. */
	cap_init(&c, false, 0xa1b2c3d4u, 101);
	cap_rec(&c, 1, 0, pkt, n);
	cap_rec(&c, 1, 0, pkt6, n6);
	assert_int_equal(parse_exact(&c, c.n, &rs), 2);
	recs_free(&rs);
	cap_init(&c, true, 0xa1b2c3d4u, 228);
	cap_rec(&c, 1, 0, pkt, n);
	cap_rec(&c, 1, 0, pkt6, n6);
	assert_int_equal(parse_exact(&c, c.n, &rs), 1);
	assert_int_equal(rs.r[0].src.sa.sa_family, AF_INET);
	recs_free(&rs);
	cap_init(&c, false, 0xa1b2c3d4u, 229);
	cap_rec(&c, 1, 0, pkt, n);
	cap_rec(&c, 1, 0, pkt6, n6);
	assert_int_equal(parse_exact(&c, c.n, &rs), 1);
	assert_int_equal(rs.r[0].src.sa.sa_family, AF_INET6);
	recs_free(&rs);

	/* BSD null (host order family) and loopback (network order). */
	uint32_t fam = AF_INET;
	memcpy(fr, &fam, 4);
	memcpy(fr + 4, pkt, n);
	cap_init(&c, false, 0xa1b2c3d4u, 0);
	cap_rec(&c, 1, 0, fr, 4 + n);
	uint8_t loop[4] = { 0, 0, 0, 24 };
	memcpy(fr, loop, 4);
	memcpy(fr + 4, pkt6, n6);
	cap_rec(&c, 1, 0, fr, 4 + n6);
	assert_int_equal(parse_exact(&c, c.n, &rs), 2);
	recs_free(&rs);

	/* An unknown link type: read, nothing found. */
	cap_init(&c, false, 0xa1b2c3d4u, 147);
	cap_rec(&c, 1, 0, pkt, n);
	assert_int_equal(parse_exact(&c, c.n, &rs), 0);

	/* IPv4 fragments are skipped: first (MF) and later (offset). */
	cap_init(&c, false, 0xa1b2c3d4u, 101);
	memcpy(fr, pkt, n);
	fr[6] = 0x20;
	cap_rec(&c, 1, 0, fr, n);
	fr[6] = 0x00;
	fr[7] = 0x10;
	cap_rec(&c, 1, 0, fr, n);
	/* An IPv6 fragment header: skipped. */
	memcpy(fr, pkt6, n6);
	fr[6] = 44;
	cap_rec(&c, 1, 0, fr, n6);
	/* A UDP length beyond the packet: skipped. */
	memcpy(fr, pkt, n);
	fr[24] = 0xff;
	cap_rec(&c, 1, 0, fr, n);
	assert_int_equal(parse_exact(&c, c.n, &rs), 0);
}

static void test_parse_kinds(void **state)
{
	(void)state;
	build_events();
	struct cap c;
	struct recs rs = { .n = 0 };
	uint8_t pkt[1024];
	size_t n;
	cap_init(&c, false, 0xa1b2c3d4u, 101);
	n = ip4_pkt(pkt, 17, 4000, 4002, rtp_pkts[0], sizeof(rtp_pkts[0]));
	cap_rec(&c, 1, 0, pkt, n);
	n = ip4_pkt(pkt, 17, 4001, 4003, rtcp_pkt, sizeof(rtcp_pkt));
	cap_rec(&c, 1, 0, pkt, n);
	/* A keep-alive, a STUN-like packet, a broken RTCP: skipped. */
	n = ip4_pkt(pkt, 17, 5060, 5060, "\r\n\r\n", 4);
	cap_rec(&c, 1, 0, pkt, n);
	uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };
	n = ip4_pkt(pkt, 17, 5060, 5060, stun, sizeof(stun));
	cap_rec(&c, 1, 0, pkt, n);
	uint8_t bad_rtcp[8] = { 0x80, 0xc9, 0x00, 0x05 };
	n = ip4_pkt(pkt, 17, 4001, 4003, bad_rtcp, sizeof(bad_rtcp));
	cap_rec(&c, 1, 0, pkt, n);
	/* Text that is not SIP. */
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	n = ip4_pkt(pkt, 17, 80, 80, http, sizeof(http) - 1);
	cap_rec(&c, 1, 0, pkt, n);
	static const char notsip[] = "FOO sip:x SIP/3.0\r\n\r\n";
	n = ip4_pkt(pkt, 17, 80, 80, notsip, sizeof(notsip) - 1);
	cap_rec(&c, 1, 0, pkt, n);
	static const char tel[] = "MESSAGE tel:+123 SIP/2.0\r\nContent-Length: 0\r\n\r\n";
	n = ip4_pkt(pkt, 17, 5060, 5060, tel, sizeof(tel) - 1);
	cap_rec(&c, 1, 0, pkt, n);
	assert_int_equal(parse_exact(&c, c.n, &rs), 3);
	assert_int_equal(rs.r[0].kind, SIPCX_TRACE_RTP);
	assert_int_equal(rs.r[1].kind, SIPCX_TRACE_RTCP);
	assert_int_equal(rs.r[2].kind, SIPCX_TRACE_SIP);
	assert_string_equal(rs.r[2].data, tel);
	recs_free(&rs);
}

/* One TCP segment with two SIP messages (and keep-alive CRLFs), then part of a third. */
static void test_parse_tcp_split(void **state)
{
	(void)state;
	static const char two[] = "MESSAGE sip:b@x SIP/2.0\r\n"
	                          "Call-ID: 1\r\n"
	                          "l: 5\r\n"
	                          "\r\n"
	                          "hello"
	                          "\r\n\r\n"
	                          "SIP/2.0 200 OK\r\n"
	                          "Call-ID: 1\r\n"
	                          "content-length : 0\r\n"
	                          "\r\n"
	                          "MESSAGE sip:b@x SIP/2.0\r\n"
	                          "Call-ID: 2\r\n"
	                          "Content-Length: 50\r\n"
	                          "\r\n"
	                          "only part of the body";
	struct cap c;
	struct recs rs = { .n = 0 };
	uint8_t pkt[1024];
	cap_init(&c, false, 0xa1b2c3d4u, 101);
	size_t n = ip4_pkt(pkt, 6, 40000, 5060, two, sizeof(two) - 1);
	cap_rec(&c, 1, 0, pkt, n);
	/* A segment that starts mid-message yields nothing. */
	n = ip4_pkt(pkt, 6, 40000, 5060, "ody\r\n", 5);
	cap_rec(&c, 1, 0, pkt, n);
	/* Headers not finished. */
	n = ip4_pkt(pkt, 6, 40000, 5060, "OPTIONS sip:x SIP/2.0\r\nVia: x\r\n", 31);
	cap_rec(&c, 1, 0, pkt, n);
	assert_int_equal(parse_exact(&c, c.n, &rs), 2);
	assert_string_equal(rs.r[0].transport, "TCP");
	assert_int_equal(rs.r[0].len, 25 + 12 + 6 + 2 + 5);
	assert_memory_equal(rs.r[0].data, "MESSAGE", 7);
	assert_memory_equal(rs.r[0].data + rs.r[0].len - 5, "hello", 5);
	assert_string_equal(rs.r[1].data, "SIP/2.0 200 OK\r\n"
	                                  "Call-ID: 1\r\n"
	                                  "content-length : 0\r\n"
	                                  "\r\n");
	assert_int_equal(sipcx_sa_port(&rs.r[1].src.sa), 40000);
	recs_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),    cmocka_unit_test(test_tshark),
		cmocka_unit_test(test_write_errors), cmocka_unit_test(test_write_truncates),
		cmocka_unit_test(test_threads),      cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_parse_header), cmocka_unit_test(test_parse_links),
		cmocka_unit_test(test_parse_kinds),  cmocka_unit_test(test_parse_tcp_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
