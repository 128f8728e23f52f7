/* Unit tests of the TLS layer: a client and a server session driven against each other in memory, then on loopback sockets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <uv.h>

#include "testutil.h"
#include "transport/transport.h"
#include <sipcx/embed.h>

/* Two self-signed certificates (EC P-256) written to a temporary directory. */
static char dir[64];
static char cert_a[96], key_a[96], cert_b[96], key_b[96];

static void write_cert(const char *cn, const char *san, const char *cpath, const char *kpath)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	X509 *x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	FILE *f = fopen(cpath, "w");
	assert_non_null(f);
	PEM_write_X509(f, x);
	fclose(f);
	f = fopen(kpath, "w");
	assert_non_null(f);
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sipcx-tls-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cert_a, sizeof(cert_a), "%s/a.pem", dir);
	snprintf(key_a, sizeof(key_a), "%s/a.key", dir);
	snprintf(cert_b, sizeof(cert_b), "%s/b.pem", dir);
	snprintf(key_b, sizeof(key_b), "%s/b.key", dir);
	write_cert("sip.test", "DNS:sip.test,IP:127.0.0.1", cert_a, key_a);
	write_cert("other.test", "DNS:other.test", cert_b, key_b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(cert_a);
	unlink(key_a);
	unlink(cert_b);
	unlink(key_b);
	rmdir(dir);
	return 0;
}

static void on_recv(const struct sipcx_tp_pkt *pkt, void *arg)
{
	(void)pkt;
	(void)arg;
}

/* A transport (no socket) just to hold the contexts made from its options. */
static struct sipcx_transport *tp_new(uv_loop_t *loop, const struct sipcx_transport_opts *in)
{
	struct sipcx_transport_opts o = *in;
	o.recv = on_recv;
	struct sipcx_transport *tp = NULL;
	assert_int_equal(sipcx_transport_new(&tp, loop, &o), 0);
	return tp;
}

struct pair {
	uv_loop_t loop;
	struct sipcx_transport *ctp, *stp;
	struct sipcx__tls c, s;
	struct sipcx_buf cplain, splain, wire;
	int cerr, serr;
};

static void pair_open(struct pair *p, const struct sipcx_transport_opts *copts, const char *name)
{
	memset(p, 0, sizeof(*p));
	assert_int_equal(uv_loop_init(&p->loop), 0);
	struct sipcx_transport_opts so = { .tls_cert = cert_a, .tls_key = key_a };
	p->ctp = tp_new(&p->loop, copts);
	p->stp = tp_new(&p->loop, &so);
	struct ssl_ctx_st *cctx, *sctx;
	assert_int_equal(sipcx__tls_ctx(p->ctp, false, &cctx), 0);
	assert_int_equal(sipcx__tls_ctx(p->stp, true, &sctx), 0);
	assert_int_equal(sipcx__tls_start(&p->c, cctx, false, name), 0);
	assert_int_equal(sipcx__tls_start(&p->s, sctx, true, NULL), 0);
	sipcx_buf_init(&p->cplain);
	sipcx_buf_init(&p->splain);
	sipcx_buf_init(&p->wire);
}

static void pair_close(struct pair *p)
{
	sipcx__tls_end(&p->c);
	sipcx__tls_end(&p->s);
	sipcx_buf_free(&p->cplain);
	sipcx_buf_free(&p->splain);
	sipcx_buf_free(&p->wire);
	sipcx_transport_free(p->ctp);
	sipcx_transport_free(p->stp);
	uv_run(&p->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&p->loop), 0);
}

/* Move what one side has for the other, step bytes per feed (0: all at once). */
static int pass(struct sipcx__tls *from, struct sipcx__tls *to, struct sipcx_buf *plain,
                struct sipcx_buf *wire, size_t step)
{
	wire->len = 0;
	assert_int_equal(sipcx__tls_drain(from, wire), 0);
	size_t moved = wire->len;
	for (size_t off = 0; off < wire->len;) {
		size_t n = step && wire->len - off > step ? step : wire->len - off;
		int r = sipcx__tls_feed(to, wire->p + off, n, plain);
		if (r)
			return r;
		off += n;
	}
	return moved ? 1 : 0;
}

/* Run the handshake to its end or first error; at most 10 flights. */
static void handshake(struct pair *p, size_t step)
{
	p->cerr = sipcx__tls_handshake(&p->c); /* ClientHello */
	for (int i = 0; i < 10 && !p->cerr && !p->serr; i++) {
		int a = pass(&p->c, &p->s, &p->splain, &p->wire, step);
		if (a < 0) {
			p->serr = a;
			break;
		}
		int b = pass(&p->s, &p->c, &p->cplain, &p->wire, step);
		if (b < 0) {
			p->cerr = b;
			break;
		}
		if (!a && !b)
			break;
	}
}

static void test_handshake_and_data(void **state)
{
	(void)state;
	static const size_t steps[] = { 0, 1, 7, 1000 };
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct pair p;
		struct sipcx_transport_opts co = { .tls_ca = cert_a };
		pair_open(&p, &co, "127.0.0.1");
		assert_int_equal(sipcx__tls_write(&p.c, "x", 1), -ENOTCONN);
		handshake(&p, steps[k]);
		assert_int_equal(p.cerr, 0);
		assert_int_equal(p.serr, 0);
		assert_true(p.c.up);
		assert_true(p.s.up);
		assert_true(strncmp(sipcx__tls_version(&p.c), "TLSv1.", 6) == 0);
		assert_true(strcmp(sipcx__tls_version(&p.c), "TLSv1.1") != 0);

		/* Both ways, the bytes as written; a large one in several records. */
		const char *req = "OPTIONS sip:127.0.0.1 SIP/2.0\r\n\r\n";
		assert_int_equal(sipcx__tls_write(&p.c, req, strlen(req)), 0);
		assert_true(pass(&p.c, &p.s, &p.splain, &p.wire, steps[k]) >= 0);
		assert_int_equal(p.splain.len, strlen(req));
		assert_memory_equal(p.splain.p, req, strlen(req));
		static char big[100000];
		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (char)('a' + i % 26);
		assert_int_equal(sipcx__tls_write(&p.s, big, sizeof(big)), 0);
		assert_true(pass(&p.s, &p.c, &p.cplain, &p.wire, steps[k]) >= 0);
		assert_int_equal(p.cplain.len, sizeof(big));
		assert_memory_equal(p.cplain.p, big, sizeof(big));
		pair_close(&p);
	}
}

/* A server certificate from a CA we do not trust: the handshake ends with the reason. */
static void test_verify_unknown_ca(void **state)
{
	(void)state;
	struct pair p;
	struct sipcx_transport_opts co = { .tls_ca = cert_b };
	pair_open(&p, &co, "127.0.0.1");
	handshake(&p, 0);
	assert_false(p.c.up);
	assert_true(p.cerr <= SIPCX_ETLS_VERIFY - 1 && p.cerr > SIPCX_ETLS_VERIFY - 1000);
	assert_int_equal(SIPCX_ETLS_VERIFY - p.cerr, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
	assert_non_null(strstr(sipcx_strerror(p.cerr), "TLS: certificate verify failed: "));
	assert_non_null(strstr(sipcx_strerror(p.cerr), "self-signed"));
	/* The error stays. */
	assert_int_equal(sipcx__tls_feed(&p.c, NULL, 0, &p.cplain), p.cerr);
	pair_close(&p);
}

/* A trusted certificate for another name or address fails; the right name passes. */
static void test_verify_names(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int want; /* X509_V_ERR_*, 0: success */
	} cases[] = {
		{ "127.0.0.1", 0 },
		{ "sip.test", 0 },
		{ "10.0.0.1", X509_V_ERR_IP_ADDRESS_MISMATCH },
		{ "other.test", X509_V_ERR_HOSTNAME_MISMATCH },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pair p;
		struct sipcx_transport_opts co = { .tls_ca = cert_a };
		pair_open(&p, &co, cases[i].name);
		handshake(&p, 0);
		if (cases[i].want) {
			assert_int_equal(p.cerr, SIPCX_ETLS_VERIFY - cases[i].want);
			assert_false(p.c.up);
		} else {
			assert_int_equal(p.cerr, 0);
			assert_true(p.c.up);
		}
		pair_close(&p);
	}
}

/* tls_insecure: no verification, the session comes up with an unknown CA and name. */
static void test_insecure(void **state)
{
	(void)state;
	struct pair p;
	struct sipcx_transport_opts co = { .tls_ca = cert_b, .tls_insecure = true };
	pair_open(&p, &co, "other.test");
	handshake(&p, 0);
	assert_int_equal(p.cerr, 0);
	assert_true(p.c.up && p.s.up);
	pair_close(&p);
}

/* Files that do not load; a server without a certificate; garbage instead of a handshake. */
static void test_config_and_garbage(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct ssl_ctx_st *ctx;
	struct sipcx_transport_opts o1 = { .tls_ca = "/nonexistent/ca.pem" };
	struct sipcx_transport *tp = tp_new(&loop, &o1);
	assert_int_equal(sipcx__tls_ctx(tp, false, &ctx), SIPCX_ETLSCONF);
	sipcx_transport_free(tp);
	struct sipcx_transport_opts o2 = { .tls_cert = cert_a, .tls_key = key_b };
	tp = tp_new(&loop, &o2);
	assert_int_equal(sipcx__tls_ctx(tp, true, &ctx), SIPCX_ETLSCONF); /* key of another cert */
	sipcx_transport_free(tp);
	struct sipcx_transport_opts o3 = { 0 };
	tp = tp_new(&loop, &o3);
	assert_int_equal(sipcx__tls_ctx(tp, true, &ctx), SIPCX_ETLSCONF);
	assert_int_equal(sipcx__tls_ctx(tp, false, &ctx), 0); /* the system store */
	sipcx_transport_free(tp);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);

	struct pair p;
	struct sipcx_transport_opts co = { .tls_ca = cert_a };
	pair_open(&p, &co, "127.0.0.1");
	const char *junk = "OPTIONS sip:x SIP/2.0\r\n\r\n";
	assert_int_equal(sipcx__tls_feed(&p.s, junk, strlen(junk), &p.splain), SIPCX_ETLS);
	assert_false(p.s.up);
	pair_close(&p);
}

static void test_names(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct sipcx_transport_opts o = { 0 };
	struct sipcx_transport *tp = tp_new(&loop, &o);
	union sipcx_sa a, b;
	assert_int_equal(sipcx_sa_set(&a, sipcx_str_c("192.0.2.1"), 5061), 0);
	assert_int_equal(sipcx_sa_set(&b, sipcx_str_c("::1"), 5061), 0);
	char name[256];
	sipcx__tls_name_of(tp, &a, name, sizeof(name));
	assert_string_equal(name, "192.0.2.1");
	assert_int_equal(sipcx_transport_tls_name(tp, &a, "sip.example.com"), 0);
	sipcx__tls_name_of(tp, &a, name, sizeof(name));
	assert_string_equal(name, "sip.example.com");
	sipcx__tls_name_of(tp, &b, name, sizeof(name));
	assert_string_equal(name, "::1");
	assert_int_equal(sipcx_transport_tls_name(tp, &a, ""), -EINVAL);
	/* The ring keeps the last 64. */
	for (int i = 0; i < 64; i++) {
		union sipcx_sa c;
		sipcx_sa_set(&c, sipcx_str_c("198.51.100.1"), (uint16_t)(1000 + i));
		assert_int_equal(sipcx_transport_tls_name(tp, &c, "x.test"), 0);
	}
	sipcx__tls_name_of(tp, &a, name, sizeof(name));
	assert_string_equal(name, "192.0.2.1");
	sipcx_transport_free(tp);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- on sockets: the same sessions on the transport's TCP connections ---- */

static const char OPTS[] =
    "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1;branch=z9hG4bK1\r\n"
    "CSeq: 1 OPTIONS\r\nCall-ID: a\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\n"
    "Content-Length: 0\r\n\r\n";

/* Two messages on one connection (reused), an answer on it; then a client that trusts another CA. */
static void test_sockets(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct tu_end srv, cli, bad;
	tu_end_open(&srv, &loop,
	            (struct sipcx_transport_opts){ .tls_cert = cert_a, .tls_key = key_a });
	tu_end_open(&cli, &loop, (struct sipcx_transport_opts){ .tls_ca = cert_a });
	tu_end_open(&bad, &loop, (struct sipcx_transport_opts){ .tls_ca = cert_b });
	struct sipcx_tp_addr la, at;
	assert_int_equal(sipcx_tp_addr_parse(&la, "tls:127.0.0.1:0"), 0);
	assert_int_equal(sipcx_transport_listen(srv.tp, &la, &at), 0);
	assert_int_equal(at.proto, SIPCX_TP_TLS);

	/* Both wait for the handshake, then go in order on one connection. */
	assert_int_equal(sipcx_transport_send(cli.tp, &at, 0, OPTS, strlen(OPTS)), 0);
	assert_int_equal(sipcx_transport_send(cli.tp, &at, 0, OPTS, strlen(OPTS)), 0);
	assert_true(tu_turn_until(&loop, &srv.nrecv, 2));
	assert_int_equal(srv.proto, SIPCX_TP_TLS);
	assert_string_equal(srv.last, OPTS);
	assert_int_equal(sipcx_transport_conn_count(cli.tp), 1);
	assert_int_equal(sipcx_transport_conn_count(srv.tp), 1);
	const char *ans = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(sipcx_transport_send(srv.tp, &at, srv.conn, ans, strlen(ans)), 0);
	assert_true(tu_turn_until(&loop, &cli.nrecv, 1));
	assert_string_equal(cli.last, ans);
	assert_int_equal(cli.nerr, 0);

	/* The server's certificate is not from the CA this client trusts. */
	assert_int_equal(sipcx_transport_send(bad.tp, &at, 0, OPTS, strlen(OPTS)), 0);
	assert_true(tu_turn_until(&loop, &bad.nerr, 1));
	assert_int_equal(bad.last_err, SIPCX_ETLS_VERIFY - X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
	assert_int_equal(bad.err_proto, SIPCX_TP_TLS);
	assert_int_equal(sipcx_transport_conn_count(bad.tp), 0);
	assert_int_equal(srv.nrecv, 2);

	sipcx_transport_free(srv.tp);
	sipcx_transport_free(cli.tp);
	sipcx_transport_free(bad.tp);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* A server that takes the connection and never answers the ClientHello: the handshake deadline. */
static void test_handshake_deadline(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	union sipcx_sa sa;
	assert_int_equal(sipcx_sa_set(&sa, sipcx_str_c("127.0.0.1"), 0), 0);
	assert_int_equal(bind(fd, &sa.sa, sizeof(sa.in)), 0);
	assert_int_equal(listen(fd, 4), 0); /* the kernel completes the TCP handshake */
	socklen_t len = sizeof(sa);
	assert_int_equal(getsockname(fd, &sa.sa, &len), 0);

	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct tu_end cli;
	tu_end_open(&cli, &loop,
	            (struct sipcx_transport_opts){ .tls_ca = cert_a, .tls_handshake_ms = 200 });
	struct sipcx_tp_addr to = { .proto = SIPCX_TP_TLS, .sa = sa };
	uint64_t t0 = uv_now(&loop);
	assert_int_equal(sipcx_transport_send(cli.tp, &to, 0, OPTS, strlen(OPTS)), 0);
	assert_true(tu_turn_until(&loop, &cli.nerr, 1));
	assert_int_equal(cli.last_err, -ETIMEDOUT);
	assert_int_equal(cli.err_proto, SIPCX_TP_TLS);
	assert_true(uv_now(&loop) - t0 >= 150);
	assert_int_equal(sipcx_transport_conn_count(cli.tp), 0);
	sipcx_transport_free(cli.tp);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_data),
		cmocka_unit_test(test_verify_unknown_ca),
		cmocka_unit_test(test_verify_names),
		cmocka_unit_test(test_insecure),
		cmocka_unit_test(test_config_and_garbage),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_sockets),
		cmocka_unit_test(test_handshake_deadline),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
