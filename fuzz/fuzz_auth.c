/* Fuzz target: the digest client answering a hostile challenge, the server judging hostile credentials. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/auth.h>
#include <sipcx/msg.h>

static int lookup(struct sipcx_str user, struct sipcx_str realm, enum sipcx_auth_alg alg,
                  bool userhash, struct sipcx_auth_secret *secret, void *arg)
{
	(void)user;
	(void)realm;
	(void)alg;
	(void)userhash;
	(void)arg;
	secret->password = SIPCX_STR("secret");
	return 0;
}

static int fixed_cnonce(char *out, size_t size, void *arg)
{
	(void)arg;
	if (size < 9)
		return -1;
	memcpy(out, "0a4f113b", 9);
	return 0;
}

static const uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	struct sipcx_str value = { (const char *)data, size };

	/* Server: the input as an Authorization value for a REGISTER. */
	struct sipcx_auth_server *srv = NULL;
	struct sipcx_auth_server_opts so = { .realm = "127.0.0.1", .key = key, .key_len = 32 };
	if (sipcx_auth_server_new(&srv, &so) == 0) {
		struct sipcx_auth_result res;
		sipcx_auth_server_check(srv, 1000, value, SIPCX_STR("REGISTER"),
		                        SIPCX_STR("sip:127.0.0.1"), SIPCX_STR(""), lookup, NULL,
		                        &res);
		sipcx_auth_server_free(srv);
	}

	/* Client: the input as the WWW-Authenticate value of a 401. */
	static const char head[] =
	    "SIP/2.0 401 Unauthorized\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n"
	    "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>;tag=2\r\n"
	    "Call-ID: x\r\nCSeq: 1 REGISTER\r\nWWW-Authenticate: ";
	static const char tail[] = "\r\nContent-Length: 0\r\n\r\n";
	size_t len = sizeof(head) - 1 + size + sizeof(tail) - 1;
	char *buf = malloc(len);
	if (!buf)
		return 0;
	memcpy(buf, head, sizeof(head) - 1);
	if (size)
		memcpy(buf + sizeof(head) - 1, data, size);
	memcpy(buf + sizeof(head) - 1 + size, tail, sizeof(tail) - 1);
	struct sipcx_msg *m = NULL;
	struct sipcx_auth_client *c = NULL;
	struct sipcx_auth_client_opts co = { .cnonce = fixed_cnonce };
	if (sipcx_msg_new(&m, buf, len, 0) > 0 && sipcx_auth_client_new(&c, &co) == 0 &&
	    sipcx_auth_client_set_credentials(c, NULL, "alice", "secret") == 0) {
		struct sipcx_auth_chain chain = SIPCX_AUTH_CHAIN_INIT;
		const struct sipcx_hdr *hdrs;
		size_t n;
		/* Twice: the second is the refused-credentials path. */
		for (int i = 0; i < 2; i++)
			if (sipcx_auth_client_respond(c, &chain, m, SIPCX_STR("REGISTER"),
			                              SIPCX_STR("sip:127.0.0.1"), SIPCX_STR(""),
			                              &hdrs, &n) == 0 &&
			    n == 0)
				abort(); /* success always gives at least one header */
		sipcx_auth_client_authorize(c, SIPCX_STR("REGISTER"), SIPCX_STR("sip:127.0.0.1"),
		                            SIPCX_STR(""), &hdrs, &n);
	}
	sipcx_auth_client_free(c);
	sipcx_msg_unref(m);
	free(buf);
	return 0;
}
