/* Unit tests of digest authentication: RFC vectors, client, server, round trips, OOM (RFC 2617, RFC 7616). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sipcx/auth.h>

#include "testutil.h"

/*
 * Expected digests below come from the RFC texts or were computed
 * independently with Python's hashlib (OpenSSL-backed), never from this
 * code. The helper used:
 *
 *   import hashlib
 *   A = {'MD5': 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512_256'}
 *   def H(a, s): return hashlib.new(A[a], s.encode()).hexdigest()
 *   def resp(a, user, realm, pw, nonce, cnonce, nc, qop, method, uri, body='', sess=False):
 *       ha1 = H(a, f'{user}:{realm}:{pw}')
 *       if sess: ha1 = H(a, f'{ha1}:{nonce}:{cnonce}')
 *       ha2 = H(a, f'{method}:{uri}:{H(a, body)}') if qop == 'auth-int' else H(a, f'{method}:{uri}')
 *       if qop: return H(a, f'{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}')
 *       return H(a, f'{ha1}:{nonce}:{ha2}')
 */

/* ---- helpers ------------------------------------------------------------ */

/* Deterministic cnonce source: hands out the strings of a list in turn. */
struct cnonces {
	const char *const *list;
	size_t n, next;
	int fail; /* error to return instead, when non-zero */
};

static int cnonce_cb(char *out, size_t size, void *arg)
{
	struct cnonces *c = arg;
	if (c->fail)
		return c->fail;
	const char *s = c->list[c->next % c->n];
	c->next++;
	snprintf(out, size, "%s", s);
	return 0;
}

static const char *const default_cnonces[] = { "0a4f113b", "0b5e224c", "0c6d335d", "0d7c446e" };

static struct sipcx_auth_client *client_new(struct cnonces *cn)
{
	struct sipcx_auth_client_opts o = { .cnonce = cnonce_cb, .cnonce_arg = cn };
	struct sipcx_auth_client *c = NULL;
	assert_int_equal(sipcx_auth_client_new(&c, cn ? &o : NULL), 0);
	assert_non_null(c);
	return c;
}

/* Deterministic randomness for the server: a counter. */
static int counter_random(void *buf, size_t n, void *arg)
{
	unsigned *ctr = arg;
	unsigned char *p = buf;
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)((*ctr)++ * 37u + 11u);
	return 0;
}

static unsigned server_ctr;
static const char server_key[] = "0123456789abcdef0123456789abcdef";

static struct sipcx_auth_server *server_new(const char *realm, uint32_t lifetime, unsigned slots,
                                            bool auth_int)
{
	struct sipcx_auth_server_opts o = {
		.realm = realm,
		.key = server_key,
		.key_len = 32,
		.lifetime_s = lifetime,
		.nc_slots = slots,
		.auth_int = auth_int,
		.random = counter_random,
		.random_arg = &server_ctr,
	};
	struct sipcx_auth_server *s = NULL;
	assert_int_equal(sipcx_auth_server_new(&s, &o), 0);
	assert_non_null(s);
	return s;
}

/* User database for the lookup callback. */
struct users {
	const char *user, *pass;
	bool use_ha1;
	char ha1[SIPCX_AUTH_HEX_MAX + 1];
	int calls;
};

static int lookup_cb(struct sipcx_str username, struct sipcx_str realm, enum sipcx_auth_alg alg,
                     bool userhash, struct sipcx_auth_secret *secret, void *arg)
{
	struct users *u = arg;
	u->calls++;
	if (userhash) {
		/* The one user whose H(user:realm) matches; a real database would index it. */
		char uh[SIPCX_AUTH_HEX_MAX + 1];
		if (sipcx_auth_userhash(alg, sipcx_str_c(u->user), realm, uh) != 0)
			return -EIO;
		if (!sipcx_str_eq(username, sipcx_str_c(uh)))
			return -ENOENT;
		username = sipcx_str_c(u->user);
		secret->username = username;
	} else if (!sipcx_str_eq(username, sipcx_str_c(u->user))) {
		return -ENOENT;
	}
	if (u->use_ha1) {
		if (sipcx_auth_ha1(alg, username, realm, sipcx_str_c(u->pass), u->ha1) != 0)
			return -EIO;
		secret->ha1 = sipcx_str_c(u->ha1);
	} else {
		secret->password = sipcx_str_c(u->pass);
	}
	return 0;
}

/* A response with the given challenge headers, parsed into static storage. */
static char resp_raw[8192];
static struct sipcx_msg resp_msg;

static const struct sipcx_msg *make_resp(int status, const char *hname, const char *const *vals,
                                         size_t n)
{
	int len =
	    snprintf(resp_raw, sizeof(resp_raw),
	             "SIP/2.0 %d %s\r\n"
	             "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKabc\r\n"
	             "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
	             "To: <sip:alice@127.0.0.1>;tag=b2\r\n"
	             "Call-ID: call-1@127.0.0.1\r\n"
	             "CSeq: 1 REGISTER\r\n",
	             status, status == 407 ? "Proxy Authentication Required" : "Unauthorized");
	for (size_t i = 0; i < n; i++)
		len += snprintf(resp_raw + len, sizeof(resp_raw) - (size_t)len, "%s: %s\r\n", hname,
		                vals[i]);
	len +=
	    snprintf(resp_raw + len, sizeof(resp_raw) - (size_t)len, "Content-Length: 0\r\n\r\n");
	assert_true(sipcx_msg_parse(&resp_msg, resp_raw, (size_t)len, 0) > 0);
	return &resp_msg;
}

static const struct sipcx_msg *make_resp1(const char *val)
{
	return make_resp(401, "WWW-Authenticate", &val, 1);
}

/* A request carrying the given headers and body, parsed into static storage. */
static char req_raw[8192];
static struct sipcx_msg req_msg;

static const struct sipcx_msg *make_req(const char *method, const char *ruri,
                                        const struct sipcx_hdr *h, size_t n, const char *body)
{
	int len = snprintf(req_raw, sizeof(req_raw),
	                   "%s %s SIP/2.0\r\n"
	                   "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKabd\r\n"
	                   "Max-Forwards: 70\r\n"
	                   "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
	                   "To: <sip:alice@127.0.0.1>\r\n"
	                   "Call-ID: call-1@127.0.0.1\r\n"
	                   "CSeq: 2 %s\r\n",
	                   method, ruri, method);
	for (size_t i = 0; i < n; i++)
		len += snprintf(req_raw + len, sizeof(req_raw) - (size_t)len, "%.*s: %.*s\r\n",
		                SIPCX_STR_FMT(h[i].name), SIPCX_STR_FMT(h[i].value));
	len += snprintf(req_raw + len, sizeof(req_raw) - (size_t)len,
	                "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	assert_true(sipcx_msg_parse(&req_msg, req_raw, (size_t)len, 0) > 0);
	return &req_msg;
}

/* One parameter of a credentials value (through the shared parser). */
static struct sipcx_digest_params params_of(struct sipcx_str value)
{
	struct sipcx_digest_params d;
	assert_int_equal(sipcx_digest_params_parse(&d, value), 0);
	assert_true(sipcx_str_ieq_c(d.scheme, "Digest"));
	return d;
}

static void assert_str(struct sipcx_str s, const char *want)
{
	if (!sipcx_str_eq(s, sipcx_str_c(want)))
		fail_msg("got \"%.*s\", want \"%s\"", SIPCX_STR_FMT(s), want);
}

static bool contains(struct sipcx_str hay, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= hay.len; i++)
		if (memcmp(hay.p + i, needle, n) == 0)
			return true;
	return false;
}

/* Server challenge value into a NUL-terminated static string. */
static char chal[4][512];
static const char *challenge(struct sipcx_auth_server *s, int slot, uint64_t now,
                             enum sipcx_auth_alg alg, bool stale)
{
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_auth_server_challenge(s, now, alg, stale, &b), 0);
	assert_true(b.len < sizeof(chal[slot]));
	memcpy(chal[slot], b.p, b.len);
	chal[slot][b.len] = '\0';
	sipcx_buf_free(&b);
	return chal[slot];
}

/* ---- algorithms and digest math ------------------------------------------ */

static void test_alg_names(void **state)
{
	(void)state;
	enum sipcx_auth_alg a = SIPCX_AUTH_SHA256;
	assert_int_equal(sipcx_auth_alg_parse(SIPCX_STR(""), &a), 0);
	assert_int_equal(a, SIPCX_AUTH_MD5); /* RFC 7616 3.3: absent means MD5 */
	assert_int_equal(sipcx_auth_alg_parse(SIPCX_STR("sha-512-256-SESS"), &a), 0);
	assert_int_equal(a, SIPCX_AUTH_SHA512_256_SESS);
	assert_int_equal(sipcx_auth_alg_parse(SIPCX_STR("SHA-256"), &a), 0);
	assert_int_equal(a, SIPCX_AUTH_SHA256);
	assert_int_equal(sipcx_auth_alg_parse(SIPCX_STR("md5-sess"), &a), 0);
	assert_int_equal(a, SIPCX_AUTH_MD5_SESS);
	a = SIPCX_AUTH_SHA256;
	assert_int_equal(sipcx_auth_alg_parse(SIPCX_STR("SHA3-256"), &a), -ENOTSUP);
	assert_int_equal(sipcx_auth_alg_parse(SIPCX_STR("SHA-512"), &a), -ENOTSUP);
	assert_int_equal(sipcx_auth_alg_parse(SIPCX_STR("MD5 "), &a), -ENOTSUP);
	assert_int_equal(a, SIPCX_AUTH_SHA256); /* untouched */
	assert_string_equal(sipcx_auth_alg_name(SIPCX_AUTH_SHA512_256), "SHA-512-256");
	assert_string_equal(sipcx_auth_alg_name(SIPCX_AUTH_SHA256_SESS), "SHA-256-sess");
	assert_string_equal(sipcx_auth_alg_name(SIPCX_AUTH_ALG__COUNT), "");
	assert_int_equal(sipcx_auth_alg_hexlen(SIPCX_AUTH_MD5_SESS), 32);
	assert_int_equal(sipcx_auth_alg_hexlen(SIPCX_AUTH_SHA512_256), 64);
	assert_int_equal(sipcx_auth_alg_hexlen(SIPCX_AUTH_ALG__COUNT), 0);
}

/* RFC 2617 3.5: Mufasa, "Circle Of Life", qop=auth. */
static void test_rfc2617_vector(void **state)
{
	(void)state;
	struct sipcx_auth_digest_input in = {
		.alg = SIPCX_AUTH_MD5,
		.qop = SIPCX_AUTH_QOP_AUTH,
		.username = SIPCX_STR("Mufasa"),
		.realm = SIPCX_STR("testrealm@host.com"),
		.password = SIPCX_STR("Circle Of Life"),
		.nonce = SIPCX_STR("dcd98b7102dd2f0e8b11d0f600bfb0c093"),
		.cnonce = SIPCX_STR("0a4f113b"),
		.nc = SIPCX_STR("00000001"),
		.method = SIPCX_STR("GET"),
		.uri = SIPCX_STR("/dir/index.html"),
	};
	char out[SIPCX_AUTH_HEX_MAX + 1];
	assert_int_equal(sipcx_auth_digest_response(&in, out), 0);
	assert_string_equal(out, "6629fae49393a05397450978507c4ef1");

	/* The same through the client, from the RFC's challenge. */
	struct cnonces cn = { default_cnonces, 4, 0, 0 };
	struct sipcx_auth_client *c = client_new(&cn);
	assert_int_equal(sipcx_auth_client_set_credentials(c, NULL, "Mufasa", "Circle Of Life"), 0);
	const struct sipcx_msg *r =
	    make_resp1("Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
	               "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
	               "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	assert_int_equal(sipcx_auth_client_respond(c, &ch, r, SIPCX_STR("GET"),
	                                           SIPCX_STR("/dir/index.html"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 0);
	assert_int_equal(n, 1);
	assert_int_equal(h[0].id, SIPCX_HDR_AUTHORIZATION);
	assert_str(h[0].name, "Authorization");
	assert_str(h[0].value,
	           "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
	           "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
	           "response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, "
	           "cnonce=\"0a4f113b\", qop=auth, nc=00000001, "
	           "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
	assert_string_equal(sipcx_auth_client_reason(c), "");
	sipcx_auth_client_free(c);
}

/* RFC 2069 (no qop): response = H(HA1:nonce:HA2), no cnonce, nc or qop sent. */
static void test_rfc2069(void **state)
{
	(void)state;
	struct cnonces cn = { default_cnonces, 4, 0, 0 };
	struct sipcx_auth_client *c = client_new(&cn);
	assert_int_equal(sipcx_auth_client_set_credentials(c, NULL, "Mufasa", "CircleOfLife"), 0);
	const struct sipcx_msg *r = make_resp1("Digest realm=\"testrealm@host.com\", "
	                                       "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
	                                       "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	assert_int_equal(sipcx_auth_client_respond(c, &ch, r, SIPCX_STR("GET"),
	                                           SIPCX_STR("/dir/index.html"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 0);
	assert_int_equal(n, 1);
	/* python: resp('MD5','Mufasa','testrealm@host.com','CircleOfLife',nonce,'','','','GET','/dir/index.html') */
	assert_str(h[0].value,
	           "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
	           "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
	           "response=\"1949323746fe6a43ef61f9606e7febea\", algorithm=MD5, "
	           "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
	assert_int_equal(cn.next, 0); /* no cnonce drawn */
	sipcx_auth_client_free(c);
}

/*
 * RFC 7616 3.9.1: the server offers SHA-256 and MD5 (two headers); the
 * client answers the strongest. Password "Circle of Life" (erratum 4495).
 */
#define R7616_SHA256                                                                          \
	"Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, " \
	"nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "                            \
	"opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
#define R7616_MD5                                                                         \
	"Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=MD5, " \
	"nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "                        \
	"opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""

static void rfc7616_run(const char *const *vals, size_t nv, const char *want_alg,
                        const char *want_resp)
{
	static const char *const cnl[] = { "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ" };
	struct cnonces cn = { cnl, 1, 0, 0 };
	struct sipcx_auth_client *c = client_new(&cn);
	assert_int_equal(sipcx_auth_client_set_credentials(c, "http-auth@example.org", "Mufasa",
	                                                   "Circle of Life"),
	                 0);
	const struct sipcx_msg *r = make_resp(401, "WWW-Authenticate", vals, nv);
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	assert_int_equal(sipcx_auth_client_respond(c, &ch, r, SIPCX_STR("GET"),
	                                           SIPCX_STR("/dir/index.html"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 0);
	assert_int_equal(n, 1);
	struct sipcx_digest_params d = params_of(h[0].value);
	assert_str(d.algorithm, want_alg);
	assert_str(d.response, want_resp);
	assert_str(d.qop, "auth");
	assert_str(d.nc, "00000001");
	assert_str(d.cnonce, "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
	assert_str(d.opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
	assert_str(d.username, "Mufasa");
	assert_str(d.uri, "/dir/index.html");
	sipcx_auth_client_free(c);
}

static void test_rfc7616_vectors(void **state)
{
	(void)state;
	static const char *const both[] = { R7616_SHA256, R7616_MD5 };
	static const char *const both_rev[] = { R7616_MD5, R7616_SHA256 };
	static const char *const md5[] = { R7616_MD5 };
	const char *sha = "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1";
	rfc7616_run(both, 2, "SHA-256", sha);
	rfc7616_run(both_rev, 2, "SHA-256", sha); /* order in the response does not matter */
	rfc7616_run(md5, 1, "MD5", "8ca523f5e9506fed4657c9700eebdbec");
}

/*
 * RFC 7616 3.9.2 (SHA-512-256, userhash). The RFC prints userhash
 * 488869477b... and response ae66e67d...: those are the first 256 bits of
 * plain SHA-512 (reproduced with hashlib.sha512(...).hexdigest()[:64]),
 * not SHA-512/256, which has its own initial values (FIPS 180-4 5.3.6.2);
 * see also erratum 4897. With the RFC's inputs, hashlib.new('sha512_256'):
 *   H('Jäsøn Doe:api@example.org')  (UTF-8)  = 793263ca...9b0b
 *   resp('SHA-512-256','Jäsøn Doe','api@example.org','Secret, or not?',
 *        '5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK',
 *        'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v','00000001','auth',
 *        'GET','/doe.json')                  = 3798d413...68a5
 */
static void test_rfc7616_sha512_userhash(void **state)
{
	(void)state;
	static const char *const cnl[] = { "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v" };
	struct cnonces cn = { cnl, 1, 0, 0 };
	struct sipcx_auth_client *c = client_new(&cn);
	assert_int_equal(sipcx_auth_client_set_credentials(c, NULL, "J\xc3\xa4s\xc3\xb8n Doe",
	                                                   "Secret, or not?"),
	                 0);
	const struct sipcx_msg *r =
	    make_resp1("Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, "
	               "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
	               "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", charset=UTF-8, "
	               "userhash=true");
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	assert_int_equal(sipcx_auth_client_respond(c, &ch, r, SIPCX_STR("GET"),
	                                           SIPCX_STR("/doe.json"), SIPCX_STR_NULL, &h, &n),
	                 0);
	assert_int_equal(n, 1);
	struct sipcx_digest_params d = params_of(h[0].value);
	assert_str(d.username, "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
	assert_str(d.userhash, "true");
	assert_str(d.algorithm, "SHA-512-256");
	assert_str(d.response, "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5");
	assert_false(sipcx_str_eq(d.response, SIPCX_STR("ae66e67d6b427bd3f120414a82e4acff38e8ecd91"
	                                                "01d6c861229025f607a79dd")));
	char uh[SIPCX_AUTH_HEX_MAX + 1];
	assert_int_equal(sipcx_auth_userhash(SIPCX_AUTH_SHA512_256,
	                                     SIPCX_STR("J\xc3\xa4s\xc3\xb8n Doe"),
	                                     SIPCX_STR("api@example.org"), uh),
	                 0);
	assert_string_equal(uh, "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
	sipcx_auth_client_free(c);
}

/*
 * SIP REGISTER vectors, all computed with the python helper at the top:
 * user alice, password secret123, realm 127.0.0.1, uri sip:127.0.0.1,
 * nonce Zk3tQmZN7jXh8b0f4bXqv2yXx8p1A5oW, cnonce 0a4f113b, nc 00000001.
 */
#define KNONCE "Zk3tQmZN7jXh8b0f4bXqv2yXx8p1A5oW"

static void test_sip_vectors(void **state)
{
	(void)state;
	struct {
		enum sipcx_auth_alg alg;
		enum sipcx_auth_qop qop;
		const char *method, *uri, *body, *want;
	} v[] = {
		{ SIPCX_AUTH_MD5, SIPCX_AUTH_QOP_AUTH, "REGISTER", "sip:127.0.0.1", "",
		  "771532a096bc34338dd5d0d64d954a88" },
		{ SIPCX_AUTH_SHA256, SIPCX_AUTH_QOP_AUTH, "REGISTER", "sip:127.0.0.1", "",
		  "a11422e83b033cc03d8211b62063b2d55b662bb85493bd6f5cc7f608bcc5262a" },
		{ SIPCX_AUTH_SHA512_256, SIPCX_AUTH_QOP_AUTH, "REGISTER", "sip:127.0.0.1", "",
		  "95ca45d81adb3032458c80672316e40bed87b323ee045c980ea2b9d49548f958" },
		{ SIPCX_AUTH_MD5_SESS, SIPCX_AUTH_QOP_AUTH, "REGISTER", "sip:127.0.0.1", "",
		  "47b8f043ebf321212eb4762227d9f200" },
		{ SIPCX_AUTH_SHA256_SESS, SIPCX_AUTH_QOP_AUTH, "REGISTER", "sip:127.0.0.1", "",
		  "3479f15f6ed4a932510f8cfa7c464ddc6666262f1adad7d06a81aa2b8658e976" },
		/* auth-int over an SDP body */
		{ SIPCX_AUTH_SHA256, SIPCX_AUTH_QOP_AUTH_INT, "INVITE", "sip:bob@127.0.0.1",
		  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		  "m=audio 4000 RTP/AVP 0\r\n",
		  "9a5673fab2348a1ba14f7779a3ecc14582d85263e07850c85441b6934b5eeb1c" },
		{ SIPCX_AUTH_MD5, SIPCX_AUTH_QOP_NONE, "REGISTER", "sip:127.0.0.1", "",
		  "88d4869ed80a85374897f20a27d8c8fd" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sipcx_auth_digest_input in = {
			.alg = v[i].alg,
			.qop = v[i].qop,
			.username = SIPCX_STR("alice"),
			.realm = SIPCX_STR("127.0.0.1"),
			.password = SIPCX_STR("secret123"),
			.nonce = SIPCX_STR(KNONCE),
			.cnonce = SIPCX_STR("0a4f113b"),
			.nc = SIPCX_STR("00000001"),
			.method = sipcx_str_c(v[i].method),
			.uri = sipcx_str_c(v[i].uri),
			.body = sipcx_str_c(v[i].body),
		};
		char out[SIPCX_AUTH_HEX_MAX + 1];
		assert_int_equal(sipcx_auth_digest_response(&in, out), 0);
		assert_string_equal(out, v[i].want);
		/* The same from a stored HA1 (any case) instead of the password. */
		char ha1[SIPCX_AUTH_HEX_MAX + 1];
		assert_int_equal(sipcx_auth_ha1(v[i].alg, in.username, in.realm, in.password, ha1),
		                 0);
		if (v[i].alg == SIPCX_AUTH_MD5)
			assert_string_equal(ha1, "86a24005bec3a363f936d4e49eee2d51");
		for (char *p = ha1; *p; p++)
			if (*p >= 'a' && *p <= 'f')
				*p = (char)(*p - 32);
		in.password = SIPCX_STR("wrong");
		in.ha1 = sipcx_str_c(ha1);
		assert_int_equal(sipcx_auth_digest_response(&in, out), 0);
		assert_string_equal(out, v[i].want);
	}
	/* Bad inputs. */
	struct sipcx_auth_digest_input bad = { .alg = SIPCX_AUTH_ALG__COUNT };
	char out[SIPCX_AUTH_HEX_MAX + 1];
	assert_int_equal(sipcx_auth_digest_response(&bad, out), -EINVAL);
	bad.alg = SIPCX_AUTH_MD5;
	bad.ha1 = SIPCX_STR("abc");
	assert_int_equal(sipcx_auth_digest_response(&bad, out), -EINVAL);
	assert_int_equal(sipcx_auth_digest_response(NULL, out), -EINVAL);
}

/*
 * kamailio 5.6 auth module's challenge shape: MD5 by default, qop="auth"
 * quoted, no algorithm and no opaque. Then a refresh pre-emptively with
 * the same nonce: nc=00000002, next cnonce (python: 8c68c222...).
 */
static void test_kamailio_shape(void **state)
{
	(void)state;
	struct cnonces cn = { default_cnonces, 4, 0, 0 };
	struct sipcx_auth_client *c = client_new(&cn);
	assert_int_equal(sipcx_auth_client_set_credentials(c, NULL, "alice", "secret123"), 0);
	const struct sipcx_msg *r =
	    make_resp1("Digest realm=\"127.0.0.1\", nonce=\"" KNONCE "\", qop=\"auth\"");
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	assert_int_equal(sipcx_auth_client_respond(c, &ch, r, SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:127.0.0.1"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 0);
	assert_int_equal(n, 1);
	assert_str(h[0].value, "Digest username=\"alice\", realm=\"127.0.0.1\", nonce=\"" KNONCE
	                       "\", uri=\"sip:127.0.0.1\", "
	                       "response=\"771532a096bc34338dd5d0d64d954a88\", algorithm=MD5, "
	                       "cnonce=\"0a4f113b\", qop=auth, nc=00000001");

	assert_int_equal(sipcx_auth_client_authorize(c, SIPCX_STR("REGISTER"),
	                                             SIPCX_STR("sip:127.0.0.1"), SIPCX_STR_NULL, &h,
	                                             &n),
	                 0);
	assert_int_equal(n, 1);
	assert_int_equal(h[0].id, SIPCX_HDR_AUTHORIZATION);
	struct sipcx_digest_params d = params_of(h[0].value);
	assert_str(d.nc, "00000002");
	assert_str(d.cnonce, "0b5e224c");
	assert_str(d.response, "8c68c2227e5661b53cc97458d623e6d0");

	/* Folded over lines, odd spacing and case (RFC 3261 7.3.1): the same answer. */
	struct sipcx_auth_client *c2 = client_new(&(struct cnonces){ default_cnonces, 4, 0, 0 });
	assert_int_equal(sipcx_auth_client_set_credentials(c2, "127.0.0.1", "alice", "secret123"),
	                 0);
	struct sipcx_auth_chain chf = SIPCX_AUTH_CHAIN_INIT;
	assert_int_equal(sipcx_auth_client_respond(
	                     c2, &chf,
	                     make_resp1("digest  REALM=\"127.0.0.1\" ,\r\n\tnonce = \"" KNONCE
	                                "\",\r\n qop=\"auth\",algorithm=md5"),
	                     SIPCX_STR("REGISTER"), SIPCX_STR("sip:127.0.0.1"), SIPCX_STR_NULL, &h,
	                     &n),
	                 0);
	assert_str(params_of(h[0].value).response, "771532a096bc34338dd5d0d64d954a88");
	sipcx_auth_client_free(c2);

	/* The same nonce challenged again (a new request chain): the count goes on. */
	r = make_resp1("Digest realm=\"127.0.0.1\", nonce=\"" KNONCE "\", qop=\"auth\"");
	struct sipcx_auth_chain ch2 = SIPCX_AUTH_CHAIN_INIT;
	assert_int_equal(sipcx_auth_client_respond(c, &ch2, r, SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:127.0.0.1"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 0);
	d = params_of(h[0].value);
	assert_str(d.nc, "00000003");
	sipcx_auth_client_free(c);
}

/* ---- client <-> server --------------------------------------------------- */

struct rt {
	struct sipcx_auth_server *s;
	struct sipcx_auth_client *c;
	struct cnonces cn;
	struct users u;
};

static void rt_init(struct rt *t, const char *realm, const char *pass_client, uint32_t lifetime,
                    unsigned slots, bool auth_int)
{
	memset(t, 0, sizeof(*t));
	t->cn = (struct cnonces){ default_cnonces, 4, 0, 0 };
	t->s = server_new(realm, lifetime, slots, auth_int);
	t->c = client_new(&t->cn);
	assert_int_equal(sipcx_auth_client_set_credentials(t->c, NULL, "alice", pass_client), 0);
	t->u = (struct users){ .user = "alice", .pass = "secret123" };
}

static void rt_free(struct rt *t)
{
	sipcx_auth_server_free(t->s);
	sipcx_auth_client_free(t->c);
}

/* Server verifies a request with these headers. */
static enum sipcx_auth_verdict rt_verify(struct rt *t, uint64_t now, const char *method,
                                         const char *ruri, const struct sipcx_hdr *h, size_t n,
                                         const char *body, bool proxy)
{
	const struct sipcx_msg *req = make_req(method, ruri, h, n, body);
	struct sipcx_auth_result res;
	assert_int_equal(sipcx_auth_server_verify(t->s, now, req, proxy, lookup_cb, &t->u, &res),
	                 0);
	if (res.verdict == SIPCX_AUTH_OK || res.verdict == SIPCX_AUTH_STALE)
		assert_str(res.username, "alice");
	return res.verdict;
}

static void test_roundtrip_all(void **state)
{
	(void)state;
	static const char *const body = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\n";
	for (int alg = 0; alg < SIPCX_AUTH_ALG__COUNT; alg++) {
		for (int qi = 0; qi < 2; qi++) {
			for (int ha1 = 0; ha1 < 2; ha1++) {
				struct rt t;
				rt_init(&t, "sipcx.test", "secret123", 300, 0, qi == 1);
				t.u.use_ha1 = ha1 == 1;
				const char *v =
				    challenge(t.s, 0, 1000, (enum sipcx_auth_alg)alg, false);
				char qv[600];
				/* qop="auth-int" only, so the client must hash the body. */
				if (qi == 1) {
					const char *q = strstr(v, "qop=\"auth,auth-int\"");
					assert_non_null(q);
					snprintf(qv, sizeof(qv), "%.*sqop=\"auth-int\"",
					         (int)(q - v), v);
					v = qv;
				}
				const struct sipcx_msg *r = make_resp1(v);
				struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
				const struct sipcx_hdr *h = NULL;
				size_t n = 0;
				assert_int_equal(
				    sipcx_auth_client_respond(t.c, &ch, r, SIPCX_STR("INVITE"),
				                              SIPCX_STR("sip:bob@sipcx.test"),
				                              sipcx_str_c(body), &h, &n),
				    0);
				assert_int_equal(n, 1);
				struct sipcx_digest_params d = params_of(h[0].value);
				assert_str(d.algorithm,
				           sipcx_auth_alg_name((enum sipcx_auth_alg)alg));
				assert_str(d.qop, qi == 1 ? "auth-int" : "auth");
				assert_int_equal(rt_verify(&t, 1010, "INVITE", "sip:bob@sipcx.test",
				                           h, n, body, false),
				                 SIPCX_AUTH_OK);
				/* auth-int binds the body; auth does not. */
				assert_int_equal(rt_verify(&t, 1010, "INVITE", "sip:bob@sipcx.test",
				                           h, n, "v=1\r\n", false),
				                 qi == 1 ? SIPCX_AUTH_BAD : SIPCX_AUTH_STALE);
				/* The method is bound too. */
				assert_int_equal(rt_verify(&t, 1010, "BYE", "sip:bob@sipcx.test", h,
				                           n, body, false),
				                 SIPCX_AUTH_BAD);
				/* Pre-emptive: same nonce, nc 2, accepted once. */
				assert_int_equal(
				    sipcx_auth_client_authorize(t.c, SIPCX_STR("INVITE"),
				                                SIPCX_STR("sip:bob@sipcx.test"),
				                                sipcx_str_c(body), &h, &n),
				    0);
				assert_int_equal(n, 1);
				d = params_of(h[0].value);
				assert_str(d.nc, "00000002");
				assert_int_equal(rt_verify(&t, 1020, "INVITE", "sip:bob@sipcx.test",
				                           h, n, body, false),
				                 SIPCX_AUTH_OK);
				assert_int_equal(rt_verify(&t, 1020, "INVITE", "sip:bob@sipcx.test",
				                           h, n, body, false),
				                 SIPCX_AUTH_STALE); /* replay */
				rt_free(&t);
			}
		}
	}
}

/* Expired nonce -> STALE -> stale=true challenge -> one more answer, not a failure. */
static void test_stale(void **state)
{
	(void)state;
	struct rt t;
	rt_init(&t, "sipcx.test", "secret123", 300, 0, false);
	const struct sipcx_msg *r = make_resp1(challenge(t.s, 0, 1000, SIPCX_AUTH_SHA256, false));
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	assert_int_equal(sipcx_auth_client_respond(t.c, &ch, r, SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 0);
	/* At the lifetime edge still fresh, one second later stale. */
	assert_int_equal(rt_verify(&t, 1300, "REGISTER", "sip:sipcx.test", h, n, "", false),
	                 SIPCX_AUTH_OK);
	assert_int_equal(sipcx_auth_client_authorize(t.c, SIPCX_STR("REGISTER"),
	                                             SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL,
	                                             &h, &n),
	                 0);
	assert_int_equal(rt_verify(&t, 1301, "REGISTER", "sip:sipcx.test", h, n, "", false),
	                 SIPCX_AUTH_STALE);

	/* A challenge dated in the future beyond the skew is not fresh either. */
	r = make_resp1(challenge(t.s, 1, 5000, SIPCX_AUTH_SHA256, false));
	struct sipcx_auth_chain chf = SIPCX_AUTH_CHAIN_INIT;
	assert_int_equal(sipcx_auth_client_respond(t.c, &chf, r, SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 0);
	assert_int_equal(rt_verify(&t, 1400, "REGISTER", "sip:sipcx.test", h, n, "", false),
	                 SIPCX_AUTH_STALE);

	/* Same chain: answered, then stale=true -> answered again. */
	r = make_resp1(challenge(t.s, 0, 1000, SIPCX_AUTH_SHA256, false));
	struct sipcx_auth_chain ch2 = SIPCX_AUTH_CHAIN_INIT;
	assert_int_equal(sipcx_auth_client_respond(t.c, &ch2, r, SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 0);
	assert_int_equal(rt_verify(&t, 2000, "REGISTER", "sip:sipcx.test", h, n, "", false),
	                 SIPCX_AUTH_STALE);
	r = make_resp1(challenge(t.s, 0, 2000, SIPCX_AUTH_SHA256, true));
	assert_int_equal(sipcx_auth_client_respond(t.c, &ch2, r, SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 0);
	struct sipcx_digest_params d = params_of(h[0].value);
	assert_str(d.nc, "00000001"); /* new nonce, new count */
	assert_int_equal(rt_verify(&t, 2001, "REGISTER", "sip:sipcx.test", h, n, "", false),
	                 SIPCX_AUTH_OK);
	/* A second stale challenge in a row in one chain: the server is looping, give up. */
	r = make_resp1(challenge(t.s, 0, 2001, SIPCX_AUTH_SHA256, true));
	assert_int_equal(sipcx_auth_client_respond(t.c, &ch2, r, SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 SIPCX_EAUTH);
	rt_free(&t);
}

/* Wrong password: SIPCX_EAUTH after exactly one retry. */
static void test_wrong_password(void **state)
{
	(void)state;
	struct rt t;
	rt_init(&t, "sipcx.test", "not-the-password", 300, 0, false);
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	int sent = 0, rc = 0;
	uint64_t now = 1000;
	const char *v = challenge(t.s, 0, now, SIPCX_AUTH_MD5, false);
	for (int i = 0; i < 5; i++) {
		const struct sipcx_hdr *h = NULL;
		size_t n = 0;
		rc = sipcx_auth_client_respond(t.c, &ch, make_resp1(v), SIPCX_STR("REGISTER"),
		                               SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h, &n);
		if (rc != 0)
			break;
		sent++;
		const struct sipcx_msg *req = make_req("REGISTER", "sip:sipcx.test", h, n, "");
		struct sipcx_auth_result res;
		assert_int_equal(
		    sipcx_auth_server_verify(t.s, now, req, false, lookup_cb, &t.u, &res), 0);
		assert_int_equal(res.verdict, SIPCX_AUTH_BAD);
		assert_string_equal(res.reason, "wrong response (password)");
		v = challenge(t.s, 0, now, res.alg, false);
	}
	assert_int_equal(rc, SIPCX_EAUTH);
	assert_int_equal(sent, 1);
	assert_non_null(strstr(sipcx_auth_client_reason(t.c), "refused"));
	assert_non_null(strstr(sipcx_auth_client_reason(t.c), "sipcx.test"));
	assert_string_equal(sipcx_strerror(rc), "authentication failed");

	/* Fixing the password and starting a new request succeeds. */
	assert_int_equal(sipcx_auth_client_set_credentials(t.c, NULL, "alice", "secret123"), 0);
	struct sipcx_auth_chain ch2 = SIPCX_AUTH_CHAIN_INIT;
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	assert_int_equal(sipcx_auth_client_respond(t.c, &ch2, make_resp1(v), SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 0);
	assert_int_equal(rt_verify(&t, now, "REGISTER", "sip:sipcx.test", h, n, "", false),
	                 SIPCX_AUTH_OK);
	rt_free(&t);
}

/* Pre-emptive credentials refused (server lost its key): the 401 is answered, not a failure. */
static void test_preemptive_refused(void **state)
{
	(void)state;
	struct rt t;
	rt_init(&t, "sipcx.test", "secret123", 300, 0, false);
	const struct sipcx_hdr *h = NULL;
	size_t n = 7;
	/* Nothing cached yet: no headers. */
	assert_int_equal(sipcx_auth_client_authorize(t.c, SIPCX_STR("BYE"),
	                                             SIPCX_STR("sip:bob@sipcx.test"),
	                                             SIPCX_STR_NULL, &h, &n),
	                 0);
	assert_int_equal(n, 0);
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	assert_int_equal(sipcx_auth_client_respond(
	                     t.c, &ch, make_resp1(challenge(t.s, 0, 1000, SIPCX_AUTH_MD5, false)),
	                     SIPCX_STR("REGISTER"), SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h,
	                     &n),
	                 0);
	/* A server with another key does not know our nonce. */
	sipcx_auth_server_free(t.s);
	struct sipcx_auth_server_opts o = { .realm = "sipcx.test" }; /* random key */
	assert_int_equal(sipcx_auth_server_new(&t.s, &o), 0);
	assert_int_equal(sipcx_auth_client_authorize(t.c, SIPCX_STR("BYE"),
	                                             SIPCX_STR("sip:bob@sipcx.test"),
	                                             SIPCX_STR_NULL, &h, &n),
	                 0);
	assert_int_equal(n, 1);
	assert_int_equal(rt_verify(&t, 1001, "BYE", "sip:bob@sipcx.test", h, n, "", false),
	                 SIPCX_AUTH_BAD);
	struct sipcx_auth_chain ch2 = SIPCX_AUTH_CHAIN_INIT;
	assert_int_equal(sipcx_auth_client_respond(
	                     t.c, &ch2, make_resp1(challenge(t.s, 0, 1001, SIPCX_AUTH_MD5, false)),
	                     SIPCX_STR("BYE"), SIPCX_STR("sip:bob@sipcx.test"), SIPCX_STR_NULL, &h,
	                     &n),
	                 0);
	assert_int_equal(rt_verify(&t, 1002, "BYE", "sip:bob@sipcx.test", h, n, "", false),
	                 SIPCX_AUTH_OK);
	rt_free(&t);
}

/* Replace the first occurrence of from (same length) by to in a header value copy. */
static struct sipcx_hdr patched(const struct sipcx_hdr *h, char *buf, size_t size, const char *from,
                                const char *to)
{
	assert_true(h->value.len < size);
	memcpy(buf, h->value.p, h->value.len);
	buf[h->value.len] = '\0';
	char *p = strstr(buf, from);
	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
	struct sipcx_hdr r = *h;
	r.value = (struct sipcx_str){ buf, h->value.len };
	return r;
}

static void test_tampered(void **state)
{
	(void)state;
	struct rt t;
	rt_init(&t, "sipcx.test", "secret123", 300, 0, false);
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	assert_int_equal(
	    sipcx_auth_client_respond(
	        t.c, &ch, make_resp1(challenge(t.s, 0, 1000, SIPCX_AUTH_SHA256, false)),
	        SIPCX_STR("REGISTER"), SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h, &n),
	    0);
	struct sipcx_digest_params d = params_of(h[0].value);
	char buf[1024], from[8], to[8];
	struct sipcx_hdr x;

	/* One nonce character changed. */
	snprintf(from, sizeof(from), "\"%c%c", d.nonce.p[0], d.nonce.p[1]);
	snprintf(to, sizeof(to), "\"%c%c", d.nonce.p[0], d.nonce.p[1] == 'A' ? 'B' : 'A');
	x = patched(&h[0], buf, sizeof(buf), from, to);
	struct sipcx_auth_result res;
	const struct sipcx_msg *req = make_req("REGISTER", "sip:sipcx.test", &x, 1, "");
	assert_int_equal(sipcx_auth_server_verify(t.s, 1001, req, false, lookup_cb, &t.u, &res), 0);
	assert_int_equal(res.verdict, SIPCX_AUTH_BAD);
	assert_string_equal(res.reason, "nonce not issued by this server");
	assert_int_equal(t.u.calls, 0); /* refused before any user lookup */

	/* The digest-uri must be the Request-URI. */
	assert_int_equal(rt_verify(&t, 1001, "REGISTER", "sip:other.test", h, n, "", false),
	                 SIPCX_AUTH_BAD);
	/* ... but an equivalent spelling of it is fine (RFC 3261 19.1.4). */
	assert_int_equal(rt_verify(&t, 1001, "REGISTER", "sip:SIPCX.test", h, n, "", false),
	                 SIPCX_AUTH_OK);

	/* A nonce minted for SHA-256 is not valid for MD5 (no downgrade). */
	const char *v = challenge(t.s, 0, 1000, SIPCX_AUTH_SHA256, false);
	char dv[512];
	const char *a = strstr(v, "algorithm=SHA-256");
	assert_non_null(a);
	snprintf(dv, sizeof(dv), "%.*salgorithm=MD5%s", (int)(a - v), v,
	         a + strlen("algorithm=SHA-256"));
	struct sipcx_auth_chain ch2 = SIPCX_AUTH_CHAIN_INIT;
	assert_int_equal(sipcx_auth_client_respond(t.c, &ch2, make_resp1(dv), SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 0);
	assert_int_equal(rt_verify(&t, 1001, "REGISTER", "sip:sipcx.test", h, n, "", false),
	                 SIPCX_AUTH_BAD);

	/* Unknown user. */
	t.u.user = "bob";
	struct sipcx_auth_chain ch3 = SIPCX_AUTH_CHAIN_INIT;
	assert_int_equal(sipcx_auth_client_respond(
	                     t.c, &ch3, make_resp1(challenge(t.s, 0, 1000, SIPCX_AUTH_MD5, false)),
	                     SIPCX_STR("REGISTER"), SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h,
	                     &n),
	                 0);
	req = make_req("REGISTER", "sip:sipcx.test", h, n, "");
	assert_int_equal(sipcx_auth_server_verify(t.s, 1001, req, false, lookup_cb, &t.u, &res), 0);
	assert_int_equal(res.verdict, SIPCX_AUTH_BAD);
	assert_string_equal(res.reason, "unknown user");
	rt_free(&t);
}

/* Server side input checks, on credential values built by hand. */
static void test_server_check(void **state)
{
	(void)state;
	struct sipcx_auth_server *s = server_new("sipcx.test", 300, 0, false);
	struct users u = { .user = "alice", .pass = "secret123" };
	struct sipcx_auth_result res;
	static const struct {
		const char *value;
		enum sipcx_auth_verdict v;
	} cases[] = {
		{ "", SIPCX_AUTH_BAD },
		{ "Digest realm=\"sipcx.test", SIPCX_AUTH_BAD },
		{ "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", SIPCX_AUTH_MISSING },
		{ "Digest username=\"alice\", realm=\"other\", nonce=\"x\"", SIPCX_AUTH_MISSING },
		{ "Digest username=\"alice\", realm=\"sipcx.test\", nonce=\"x\", algorithm=SHA3",
		  SIPCX_AUTH_BAD },
		{ "Digest username=\"alice\", realm=\"sipcx.test\", nonce=\"short\", uri=\"sip:a\", "
		  "response=\"00\", qop=auth, nc=00000001, cnonce=\"c\"",
		  SIPCX_AUTH_BAD },
		/* well-formed but forged (MAC of zeros), and a non-canonical last character */
		{ "Digest username=\"alice\", realm=\"sipcx.test\", "
		  "nonce=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\", uri=\"sip:a\", "
		  "response=\"00\", qop=auth, nc=00000001, cnonce=\"c\"",
		  SIPCX_AUTH_BAD },
		{ "Digest username=\"alice\", realm=\"sipcx.test\", "
		  "nonce=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB\", uri=\"sip:a\", "
		  "response=\"00\", qop=auth, nc=00000001, cnonce=\"c\"",
		  SIPCX_AUTH_BAD },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sipcx_auth_server_check(s, 1000, sipcx_str_c(cases[i].value),
		                                         SIPCX_STR("REGISTER"),
		                                         SIPCX_STR("sip:sipcx.test"),
		                                         SIPCX_STR_NULL, lookup_cb, &u, &res),
		                 0);
		assert_int_equal(res.verdict, cases[i].v);
		assert_non_null(res.reason);
	}
	assert_int_equal(u.calls, 0);

	/* A genuine nonce with broken other fields. */
	const char *v = challenge(s, 0, 1000, SIPCX_AUTH_MD5, false);
	struct sipcx_digest_params cd;
	assert_int_equal(sipcx_digest_params_parse(&cd, sipcx_str_c(v)), 0);
	static const char *const tails[] = {
		"uri=\"sip:sipcx.test\", response=\"0123456789abcdef0123456789abcdef\", "
		"cnonce=\"c\"", /* no qop */
		"uri=\"sip:sipcx.test\", response=\"0123456789abcdef0123456789abcdef\", "
		"cnonce=\"c\", qop=auth, nc=00000000", /* nc 0 */
		"uri=\"sip:sipcx.test\", response=\"0123456789abcdef0123456789abcdef\", "
		"cnonce=\"c\", qop=auth, nc=0000001g",
		"uri=\"sip:sipcx.test\", response=\"0123456789abcdef0123456789abcdef\", "
		"qop=auth, nc=00000001", /* no cnonce */
		"uri=\"sip:sipcx.test\", response=\"0123\", cnonce=\"c\", qop=auth, nc=00000001",
		"uri=\"sip:sipcx.test\", response=\"0123456789abcdef0123456789abcdef\", "
		"cnonce=\"c\", qop=auth-conf, nc=00000001",
		"uri=\"sip:sipcx.test\", response=\"0123456789abcdef0123456789abcdef\", "
		"cnonce=\"c\", qop=auth, nc=00000001", /* wrong response */
	};
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		char val[1024];
		snprintf(val, sizeof(val),
		         "Digest username=\"alice\", realm=\"sipcx.test\", "
		         "nonce=\"%.*s\", algorithm=MD5, %s",
		         SIPCX_STR_FMT(cd.nonce), tails[i]);
		assert_int_equal(sipcx_auth_server_check(s, 1000, sipcx_str_c(val),
		                                         SIPCX_STR("REGISTER"),
		                                         SIPCX_STR("sip:sipcx.test"),
		                                         SIPCX_STR_NULL, lookup_cb, &u, &res),
		                 0);
		assert_int_equal(res.verdict, SIPCX_AUTH_BAD);
	}
	assert_int_equal(u.calls, 1); /* only the last one got as far as the user */

	/* verify() without credentials, and bad arguments. */
	const struct sipcx_msg *req = make_req("REGISTER", "sip:sipcx.test", NULL, 0, "");
	assert_int_equal(sipcx_auth_server_verify(s, 1000, req, false, lookup_cb, &u, &res), 0);
	assert_int_equal(res.verdict, SIPCX_AUTH_MISSING);
	assert_int_equal(
	    sipcx_auth_server_verify(s, 1000, make_resp1("x"), false, lookup_cb, &u, &res),
	    -EINVAL);
	assert_int_equal(sipcx_auth_server_verify(NULL, 1000, req, false, lookup_cb, &u, &res),
	                 -EINVAL);
	struct sipcx_buf b;
	sipcx_buf_init(&b);
	assert_int_equal(sipcx_auth_server_challenge(s, 1, SIPCX_AUTH_ALG__COUNT, false, &b),
	                 -EINVAL);
	assert_int_equal(b.len, 0);
	sipcx_auth_server_free(s);

	/* Creation checks; an algorithm subset. */
	struct sipcx_auth_server *s2 = NULL;
	struct sipcx_auth_server_opts o = { .realm = NULL };
	assert_int_equal(sipcx_auth_server_new(&s2, &o), -EINVAL);
	o.realm = "a\r\nb";
	assert_int_equal(sipcx_auth_server_new(&s2, &o), -EINVAL);
	o.realm = "r";
	o.key = "short";
	o.key_len = 5;
	assert_int_equal(sipcx_auth_server_new(&s2, &o), -EINVAL);
	assert_null(s2);
	o.key = NULL;
	o.algs = 1u << SIPCX_AUTH_SHA256;
	assert_int_equal(sipcx_auth_server_new(&s2, &o), 0);
	assert_int_equal(sipcx_auth_server_challenge(s2, 1, SIPCX_AUTH_MD5, false, &b), -EINVAL);
	assert_int_equal(sipcx_auth_server_challenge(s2, 1, SIPCX_AUTH_SHA256, true, &b), 0);
	struct sipcx_str bs = { b.p, b.len };
	assert_true(contains(bs, "Digest realm=\"r\", nonce=\""));
	assert_true(contains(bs, "\", algorithm=SHA-256, qop=\"auth\", stale=true"));
	sipcx_buf_free(&b);
	sipcx_auth_server_free(s2);
	sipcx_auth_server_free(NULL);
}

/* nc replay and the bounded table: an evicted nonce must be renewed. */
static void test_nc_table(void **state)
{
	(void)state;
	struct rt t;
	rt_init(&t, "sipcx.test", "secret123", 300, 2, false);
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	assert_int_equal(sipcx_auth_client_respond(
	                     t.c, &ch, make_resp1(challenge(t.s, 0, 1000, SIPCX_AUTH_MD5, false)),
	                     SIPCX_STR("REGISTER"), SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h,
	                     &n),
	                 0);
	assert_int_equal(rt_verify(&t, 1000, "REGISTER", "sip:sipcx.test", h, n, "", false),
	                 SIPCX_AUTH_OK);
	assert_int_equal(rt_verify(&t, 1000, "REGISTER", "sip:sipcx.test", h, n, "", false),
	                 SIPCX_AUTH_STALE); /* replayed nc 1 */
	/* nc may skip values but never go back. */
	assert_int_equal(sipcx_auth_client_authorize(t.c, SIPCX_STR("REGISTER"),
	                                             SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL,
	                                             &h, &n),
	                 0);
	char keep[1024];
	memcpy(keep, h[0].value.p, h[0].value.len);
	struct sipcx_hdr nc2 = h[0];
	nc2.value.p = keep;
	assert_int_equal(sipcx_auth_client_authorize(t.c, SIPCX_STR("REGISTER"),
	                                             SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL,
	                                             &h, &n),
	                 0);
	assert_str(params_of(h[0].value).nc, "00000003");
	assert_int_equal(rt_verify(&t, 1001, "REGISTER", "sip:sipcx.test", h, n, "", false),
	                 SIPCX_AUTH_OK);
	assert_int_equal(rt_verify(&t, 1001, "REGISTER", "sip:sipcx.test", &nc2, 1, "", false),
	                 SIPCX_AUTH_STALE); /* nc 2 after nc 3 */

	/* Two other nonces in use push the first one out of a 2-slot table. */
	for (int i = 0; i < 2; i++) {
		struct rt o;
		rt_init(&o, "sipcx.test", "secret123", 300, 0, false);
		sipcx_auth_server_free(o.s);
		o.s = t.s;
		struct sipcx_auth_chain och = SIPCX_AUTH_CHAIN_INIT;
		assert_int_equal(
		    sipcx_auth_client_respond(
		        o.c, &och, make_resp1(challenge(t.s, 0, 1000, SIPCX_AUTH_MD5, false)),
		        SIPCX_STR("REGISTER"), SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h, &n),
		    0);
		assert_int_equal(rt_verify(&o, 1002, "REGISTER", "sip:sipcx.test", h, n, "", false),
		                 SIPCX_AUTH_OK);
		sipcx_auth_client_free(o.c);
		if (i == 0) {
			/* One other nonce: ours is still tracked (2 slots). */
			assert_int_equal(sipcx_auth_client_authorize(t.c, SIPCX_STR("REGISTER"),
			                                             SIPCX_STR("sip:sipcx.test"),
			                                             SIPCX_STR_NULL, &h, &n),
			                 0);
			assert_int_equal(
			    rt_verify(&t, 1002, "REGISTER", "sip:sipcx.test", h, n, "", false),
			    SIPCX_AUTH_OK);
		}
	}
	assert_int_equal(sipcx_auth_client_authorize(t.c, SIPCX_STR("REGISTER"),
	                                             SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL,
	                                             &h, &n),
	                 0);
	assert_int_equal(rt_verify(&t, 1003, "REGISTER", "sip:sipcx.test", h, n, "", false),
	                 SIPCX_AUTH_STALE);
	rt_free(&t);
}

static void test_unknown_algorithm(void **state)
{
	(void)state;
	struct sipcx_auth_client *c = client_new(NULL);
	assert_int_equal(sipcx_auth_client_set_credentials(c, NULL, "alice", "secret123"), 0);
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	int rc = sipcx_auth_client_respond(
	    c, &ch,
	    make_resp1("Digest realm=\"r\", nonce=\"abc\", algorithm=SHA3-256, qop=\"auth\""),
	    SIPCX_STR("REGISTER"), SIPCX_STR("sip:r"), SIPCX_STR_NULL, &h, &n);
	assert_int_equal(rc, -EPROTO);
	assert_null(h);
	assert_int_equal(n, 0);
	assert_string_equal(sipcx_auth_client_reason(c),
	                    "unsupported digest algorithm \"SHA3-256\"");

	/* Next to a supported one, the unknown one is simply skipped. */
	static const char *const two[] = {
		"Digest realm=\"r\", nonce=\"abc\", algorithm=SHA3-256, qop=\"auth\"",
		"Digest realm=\"r\", nonce=\"abd\", algorithm=MD5, qop=\"auth\"",
	};
	assert_int_equal(sipcx_auth_client_respond(
	                     c, &ch, make_resp(401, "WWW-Authenticate", two, 2),
	                     SIPCX_STR("REGISTER"), SIPCX_STR("sip:r"), SIPCX_STR_NULL, &h, &n),
	                 0);
	assert_int_equal(n, 1);
	assert_str(params_of(h[0].value).algorithm, "MD5");
	assert_str(params_of(h[0].value).nonce, "abd");
	/* The default cnonce: 32 hex digits. */
	struct sipcx_str cn = params_of(h[0].value).cnonce;
	assert_int_equal(cn.len, 32);
	for (size_t i = 0; i < cn.len; i++)
		assert_non_null(strchr("0123456789abcdef", cn.p[i]));
	sipcx_auth_client_free(c);
}

/* 407 -> Proxy-Authorization; 401 and 407 realms together; per-realm credentials. */
static void test_proxy_and_realms(void **state)
{
	(void)state;
	struct rt t;
	rt_init(&t, "proxy.test", "secret123", 300, 0, false);
	struct sipcx_auth_server *reg = server_new("registrar.test", 300, 0, false);
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	const char *pv = challenge(t.s, 0, 1000, SIPCX_AUTH_SHA512_256, false);
	assert_int_equal(
	    sipcx_auth_client_respond(t.c, &ch, make_resp(407, "Proxy-Authenticate", &pv, 1),
	                              SIPCX_STR("INVITE"), SIPCX_STR("sip:bob@registrar.test"),
	                              SIPCX_STR_NULL, &h, &n),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(h[0].id, SIPCX_HDR_PROXY_AUTHORIZATION);
	assert_str(h[0].name, "Proxy-Authorization");
	assert_int_equal(rt_verify(&t, 1001, "INVITE", "sip:bob@registrar.test", h, n, "", true),
	                 SIPCX_AUTH_OK);
	/* Proxy credentials are not Authorization credentials. */
	assert_int_equal(rt_verify(&t, 1001, "INVITE", "sip:bob@registrar.test", h, n, "", false),
	                 SIPCX_AUTH_MISSING);

	/* The registrar realm needs other credentials; both challenges in one response. */
	assert_int_equal(
	    sipcx_auth_client_set_credentials(t.c, "registrar.test", "alice-r", "pw-r"), 0);
	char raw[2048];
	const char *rv = challenge(reg, 1, 1000, SIPCX_AUTH_MD5, false);
	pv = challenge(t.s, 0, 1000, SIPCX_AUTH_SHA256, false);
	int len =
	    snprintf(raw, sizeof(raw),
	             "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n"
	             "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: x\r\n"
	             "CSeq: 2 INVITE\r\nProxy-Authenticate: %s\r\nWWW-Authenticate: %s\r\n"
	             "Content-Length: 0\r\n\r\n",
	             pv, rv);
	struct sipcx_msg m;
	assert_true(sipcx_msg_parse(&m, raw, (size_t)len, 0) > 0);
	struct sipcx_auth_chain ch2 = SIPCX_AUTH_CHAIN_INIT;
	assert_int_equal(sipcx_auth_client_respond(t.c, &ch2, &m, SIPCX_STR("INVITE"),
	                                           SIPCX_STR("sip:bob@registrar.test"),
	                                           SIPCX_STR_NULL, &h, &n),
	                 0);
	assert_int_equal(n, 2);
	assert_int_equal(h[0].id, SIPCX_HDR_AUTHORIZATION); /* WWW-Authenticate is read first */
	assert_int_equal(h[1].id, SIPCX_HDR_PROXY_AUTHORIZATION);
	assert_str(params_of(h[0].value).username, "alice-r");
	assert_str(params_of(h[1].value).username, "alice");
	assert_int_equal(rt_verify(&t, 1001, "INVITE", "sip:bob@registrar.test", h, n, "", true),
	                 SIPCX_AUTH_OK);
	struct users ur = { .user = "alice-r", .pass = "pw-r" };
	const struct sipcx_msg *req = make_req("INVITE", "sip:bob@registrar.test", h, n, "");
	struct sipcx_auth_result res;
	assert_int_equal(sipcx_auth_server_verify(reg, 1001, req, false, lookup_cb, &ur, &res), 0);
	assert_int_equal(res.verdict, SIPCX_AUTH_OK);
	assert_int_equal(res.alg, SIPCX_AUTH_MD5);

	/* A new request gets both pre-emptively, oldest realm first. */
	assert_int_equal(sipcx_auth_client_authorize(t.c, SIPCX_STR("BYE"),
	                                             SIPCX_STR("sip:bob@10.0.0.1"), SIPCX_STR_NULL,
	                                             &h, &n),
	                 0);
	assert_int_equal(n, 2);
	assert_int_equal(h[0].id, SIPCX_HDR_PROXY_AUTHORIZATION);
	assert_int_equal(h[1].id, SIPCX_HDR_AUTHORIZATION);
	assert_int_equal(rt_verify(&t, 1002, "BYE", "sip:bob@10.0.0.1", h, n, "", true),
	                 SIPCX_AUTH_OK);

	/* A realm without credentials: SIPCX_EAUTH with a clear reason. */
	struct sipcx_auth_client *c2 = client_new(NULL);
	assert_int_equal(sipcx_auth_client_set_credentials(c2, "elsewhere", "x", "y"), 0);
	struct sipcx_auth_chain ch3 = SIPCX_AUTH_CHAIN_INIT;
	assert_int_equal(sipcx_auth_client_respond(c2, &ch3, make_resp1(rv), SIPCX_STR("INVITE"),
	                                           SIPCX_STR("sip:bob@registrar.test"),
	                                           SIPCX_STR_NULL, &h, &n),
	                 SIPCX_EAUTH);
	assert_string_equal(sipcx_auth_client_reason(c2),
	                    "no credentials for realm \"registrar.test\"");
	sipcx_auth_client_free(c2);
	sipcx_auth_server_free(reg);
	rt_free(&t);
}

/* A realm with a quoted-pair: hashed unescaped, echoed escaped. */
static void test_quoted_realm(void **state)
{
	(void)state;
	struct rt t;
	rt_init(&t, "Ops \"Lab\"", "secret123", 300, 0, false);
	const char *v = challenge(t.s, 0, 1000, SIPCX_AUTH_SHA256, false);
	assert_non_null(strstr(v, "realm=\"Ops \\\"Lab\\\"\""));
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	assert_int_equal(
	    sipcx_auth_client_set_credentials(t.c, "Ops \"Lab\"", "alice", "secret123"), 0);
	assert_int_equal(sipcx_auth_client_respond(t.c, &ch, make_resp1(v), SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:lab.test"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 0);
	assert_true(contains(h[0].value, "realm=\"Ops \\\"Lab\\\"\""));
	assert_int_equal(rt_verify(&t, 1001, "REGISTER", "sip:lab.test", h, n, "", false),
	                 SIPCX_AUTH_OK);
	rt_free(&t);
}

/* userhash=true asked by the server: the client hides the name, the lookup resolves it. */
static void test_server_userhash(void **state)
{
	(void)state;
	for (int ha1 = 0; ha1 < 2; ha1++) {
		struct sipcx_auth_server_opts o = { .realm = "sipcx.test", .userhash = true };
		struct sipcx_auth_server *s = NULL;
		assert_int_equal(sipcx_auth_server_new(&s, &o), 0);
		struct sipcx_auth_client *c = client_new(NULL);
		assert_int_equal(sipcx_auth_client_set_credentials(c, NULL, "alice", "secret123"),
		                 0);
		const char *v = challenge(s, 0, 1000, SIPCX_AUTH_SHA512_256, false);
		assert_non_null(strstr(v, ", userhash=true"));
		struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
		const struct sipcx_hdr *h = NULL;
		size_t n = 0;
		assert_int_equal(
		    sipcx_auth_client_respond(c, &ch, make_resp1(v), SIPCX_STR("REGISTER"),
		                              SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL, &h, &n),
		    0);
		char uh[SIPCX_AUTH_HEX_MAX + 1];
		assert_int_equal(sipcx_auth_userhash(SIPCX_AUTH_SHA512_256, SIPCX_STR("alice"),
		                                     SIPCX_STR("sipcx.test"), uh),
		                 0);
		struct sipcx_digest_params d = params_of(h[0].value);
		assert_str(d.username, uh);
		assert_str(d.userhash, "true");
		struct users u = { .user = "alice", .pass = "secret123", .use_ha1 = ha1 == 1 };
		const struct sipcx_msg *req = make_req("REGISTER", "sip:sipcx.test", h, n, "");
		struct sipcx_auth_result res;
		assert_int_equal(sipcx_auth_server_verify(s, 1001, req, false, lookup_cb, &u, &res),
		                 0);
		assert_int_equal(res.verdict, SIPCX_AUTH_OK);
		assert_true(res.userhash);
		assert_str(res.username, uh);
		assert_int_equal(res.alg, SIPCX_AUTH_SHA512_256);
		sipcx_auth_client_free(c);
		sipcx_auth_server_free(s);
	}
}

static void test_client_bad_input(void **state)
{
	(void)state;
	struct cnonces cn = { default_cnonces, 4, 0, 0 };
	struct sipcx_auth_client *c = client_new(&cn);
	struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	assert_int_equal(sipcx_auth_client_new(NULL, NULL), -EINVAL);
	assert_int_equal(sipcx_auth_client_set_credentials(c, NULL, NULL, "x"), -EINVAL);
	assert_int_equal(sipcx_auth_client_set_credentials(c, NULL, "a\r\nb", "x"), -EINVAL);
	assert_int_equal(sipcx_auth_client_set_credentials(c, NULL, "we\"ird", "secret123"), 0);
	for (int i = 0; i < SIPCX_AUTH_MAX_HDRS - 1; i++) {
		char r[16];
		snprintf(r, sizeof(r), "r%d", i);
		assert_int_equal(sipcx_auth_client_set_credentials(c, r, "u", "p"), 0);
	}
	assert_int_equal(sipcx_auth_client_set_credentials(c, "one-too-many", "u", "p"),
	                 SIPCX_ELIMIT);
	assert_int_equal(sipcx_auth_client_set_credentials(c, "r0", "u2", "p2"), 0); /* replace */

	static const char *const bad[] = {
		"Basic realm=\"r\"",
		"Digest realm=\"r\"", /* no nonce */
		"Digest realm=\"r\", nonce=\"n\", qop=\"auth-conf\"",
		"Digest realm=\"r, nonce=\"n\"",                /* unterminated quote */
		"Digest realm=\"r\", nonce=\"n\", nonce=\"m\"", /* repeated */
		"Digest realm=\"r\" nonce=\"n\"",               /* missing comma */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    sipcx_auth_client_respond(c, &ch, make_resp1(bad[i]), SIPCX_STR("REGISTER"),
		                              SIPCX_STR("sip:r"), SIPCX_STR_NULL, &h, &n),
		    -EPROTO);
		assert_true(strlen(sipcx_auth_client_reason(c)) > 0);
	}
	/* No challenge at all. */
	assert_int_equal(sipcx_auth_client_respond(c, &ch, make_resp(401, "X-Other", bad, 1),
	                                           SIPCX_STR("REGISTER"), SIPCX_STR("sip:r"),
	                                           SIPCX_STR_NULL, &h, &n),
	                 -EPROTO);
	assert_string_equal(sipcx_auth_client_reason(c),
	                    "no WWW-Authenticate or Proxy-Authenticate header");
	const struct sipcx_msg *ok = make_resp1("Digest realm=\"r\", nonce=\"n\", qop=\"auth\"");
	assert_int_equal(sipcx_auth_client_respond(c, NULL, ok, SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:r"), SIPCX_STR_NULL, &h, &n),
	                 -EINVAL);
	assert_int_equal(sipcx_auth_client_respond(c, &ch, ok, SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:r\r\nX: y"), SIPCX_STR_NULL, &h,
	                                           &n),
	                 -EINVAL);
	assert_int_equal(sipcx_auth_client_authorize(NULL, SIPCX_STR("REGISTER"),
	                                             SIPCX_STR("sip:r"), SIPCX_STR_NULL, &h, &n),
	                 -EINVAL);
	/* A failing or misbehaving cnonce source. */
	cn.fail = -EIO;
	assert_int_equal(sipcx_auth_client_respond(c, &ch, ok, SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:r"), SIPCX_STR_NULL, &h, &n),
	                 -EIO);
	cn.fail = 0;
	static const char *const badcn[] = { "has\"quote" };
	cn.list = badcn;
	cn.n = 1;
	struct sipcx_auth_chain ch2 = SIPCX_AUTH_CHAIN_INIT;
	assert_int_equal(sipcx_auth_client_respond(c, &ch2, ok, SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:r"), SIPCX_STR_NULL, &h, &n),
	                 -EINVAL);
	cn.list = default_cnonces;
	cn.n = 4;
	/* The username is escaped in its quoted-string. */
	struct sipcx_auth_chain ch3 = SIPCX_AUTH_CHAIN_INIT;
	assert_int_equal(sipcx_auth_client_respond(c, &ch3, ok, SIPCX_STR("REGISTER"),
	                                           SIPCX_STR("sip:r"), SIPCX_STR_NULL, &h, &n),
	                 0);
	assert_true(contains(h[0].value, "username=\"we\\\"ird\""));
	assert_string_equal(sipcx_auth_client_reason(NULL), "");
	sipcx_auth_client_free(c);
	sipcx_auth_client_free(NULL);
}

/* More realms than the cache holds: the least recently used one is dropped. */
static void test_cache_eviction(void **state)
{
	(void)state;
	struct sipcx_auth_client *c = client_new(NULL);
	assert_int_equal(sipcx_auth_client_set_credentials(c, NULL, "alice", "pw"), 0);
	const struct sipcx_hdr *h = NULL;
	size_t n = 0;
	for (int i = 0; i < SIPCX_AUTH_MAX_HDRS + 3; i++) {
		char v[128];
		snprintf(v, sizeof(v), "Digest realm=\"realm%d\", nonce=\"n%d\", qop=\"auth\"", i,
		         i);
		struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
		assert_int_equal(
		    sipcx_auth_client_respond(c, &ch, make_resp1(v), SIPCX_STR("REGISTER"),
		                              SIPCX_STR("sip:r"), SIPCX_STR_NULL, &h, &n),
		    0);
	}
	assert_int_equal(sipcx_auth_client_authorize(c, SIPCX_STR("REGISTER"), SIPCX_STR("sip:r"),
	                                             SIPCX_STR_NULL, &h, &n),
	                 0);
	assert_int_equal(n, SIPCX_AUTH_MAX_HDRS);
	assert_str(params_of(h[0].value).realm, "realm3");
	assert_str(params_of(h[n - 1].value).realm, "realm10");
	sipcx_auth_client_free(c);
}

/* ---- allocation failures ------------------------------------------------- */

static void test_oom_client(void **state)
{
	(void)state;
	struct cnonces cn = { default_cnonces, 4, 0, 0 };
	const struct sipcx_msg *r =
	    make_resp1("Digest realm=\"127.0.0.1\", nonce=\"" KNONCE "\", qop=\"auth\"");
	tu_alloc_install();
	int ok = 0;
	for (long k = 1; k < 200 && !ok; k++) {
		tu_alloc_fail_at(k);
		struct sipcx_auth_client_opts o = { .cnonce = cnonce_cb, .cnonce_arg = &cn };
		struct sipcx_auth_client *c = NULL;
		const struct sipcx_hdr *h = NULL;
		size_t n = 0;
		int rc = sipcx_auth_client_new(&c, &o);
		if (rc == 0)
			rc = sipcx_auth_client_set_credentials(c, NULL, "alice", "secret123");
		if (rc == 0)
			rc =
			    sipcx_auth_client_set_credentials(c, "127.0.0.1", "alice", "secret123");
		struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
		if (rc == 0)
			rc = sipcx_auth_client_respond(c, &ch, r, SIPCX_STR("REGISTER"),
			                               SIPCX_STR("sip:127.0.0.1"), SIPCX_STR_NULL,
			                               &h, &n);
		if (rc == 0)
			rc = sipcx_auth_client_authorize(c, SIPCX_STR("REGISTER"),
			                                 SIPCX_STR("sip:127.0.0.1"), SIPCX_STR_NULL,
			                                 &h, &n);
		if (tu_alloc_failed()) {
			assert_int_equal(rc, -ENOMEM);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(n, 1);
			assert_true(contains(h[0].value, "nc=00000002"));
			ok = 1;
		}
		sipcx_auth_client_free(c);
		tu_alloc_fail_at(0);
		assert_int_equal(tu_alloc_live(), 0);
	}
	assert_true(ok);
	tu_alloc_uninstall();
}

static void test_oom_server(void **state)
{
	(void)state;
	struct users u = { .user = "alice", .pass = "secret123" };
	tu_alloc_install();
	int ok = 0;
	for (long k = 1; k < 200 && !ok; k++) {
		tu_alloc_fail_at(k);
		struct sipcx_auth_server_opts o = { .realm = "sipcx.test",
			                            .random = counter_random,
			                            .random_arg = &server_ctr };
		struct sipcx_auth_server *s = NULL;
		struct sipcx_auth_client *c = NULL;
		struct sipcx_buf b;
		sipcx_buf_init(&b);
		struct sipcx_auth_result res = { .verdict = SIPCX_AUTH_BAD };
		int rc = sipcx_auth_server_new(&s, &o);
		if (rc == 0)
			rc = sipcx_auth_server_challenge(s, 1000, SIPCX_AUTH_SHA256, false, &b);
		if (rc == 0)
			rc = sipcx_auth_client_new(&c, NULL);
		if (rc == 0)
			rc = sipcx_auth_client_set_credentials(c, NULL, "alice", "secret123");
		const struct sipcx_hdr *h = NULL;
		size_t n = 0;
		struct sipcx_auth_chain ch = SIPCX_AUTH_CHAIN_INIT;
		if (rc == 0) {
			char v[512];
			snprintf(v, sizeof(v), "%.*s", (int)b.len, b.p);
			rc = sipcx_auth_client_respond(c, &ch, make_resp1(v), SIPCX_STR("REGISTER"),
			                               SIPCX_STR("sip:sipcx.test"), SIPCX_STR_NULL,
			                               &h, &n);
		}
		if (rc == 0) {
			const struct sipcx_msg *req =
			    make_req("REGISTER", "sip:sipcx.test", h, n, "");
			rc = sipcx_auth_server_verify(s, 1001, req, false, lookup_cb, &u, &res);
		}
		if (tu_alloc_failed()) {
			assert_int_equal(rc, -ENOMEM);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(res.verdict, SIPCX_AUTH_OK);
			ok = 1;
		}
		sipcx_buf_free(&b);
		sipcx_auth_client_free(c);
		sipcx_auth_server_free(s);
		tu_alloc_fail_at(0);
		assert_int_equal(tu_alloc_live(), 0);
	}
	assert_true(ok);
	tu_alloc_uninstall();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_rfc2617_vector),
		cmocka_unit_test(test_rfc2069),
		cmocka_unit_test(test_rfc7616_vectors),
		cmocka_unit_test(test_rfc7616_sha512_userhash),
		cmocka_unit_test(test_sip_vectors),
		cmocka_unit_test(test_kamailio_shape),
		cmocka_unit_test(test_roundtrip_all),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_preemptive_refused),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_server_check),
		cmocka_unit_test(test_nc_table),
		cmocka_unit_test(test_unknown_algorithm),
		cmocka_unit_test(test_proxy_and_realms),
		cmocka_unit_test(test_quoted_realm),
		cmocka_unit_test(test_server_userhash),
		cmocka_unit_test(test_client_bad_input),
		cmocka_unit_test(test_cache_eviction),
		cmocka_unit_test(test_oom_client),
		cmocka_unit_test(test_oom_server),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
