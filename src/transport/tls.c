/* transport: TLS on stream connections through OpenSSL memory BIOs, peer verification (RFC 3261 26.2, RFC 5922). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "transport/transport.h"

/* The first error OpenSSL queued on this thread, as text, for the log. */
static const char *ssl_reason(char *buf, size_t n)
{
	unsigned long e = ERR_peek_error();
	if (!e)
		return "no detail";
	ERR_error_string_n(e, buf, n);
	return buf;
}

static int ctx_common(SSL_CTX *ctx)
{
	/* TLS 1.2 and later only (RFC 8996 retires 1.0 and 1.1). */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		return SIPCX_ETLS;
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* The connection layer has its own idle close: no sessions to resume. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return 0;
}

static int load_cert(SSL_CTX *ctx, const char *cert, const char *key)
{
	char why[256];
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		SIPCX_WARN("tls: cannot load the certificate %s: %s", cert,
		           ssl_reason(why, sizeof(why)));
		return SIPCX_ETLSCONF;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key ? key : cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SIPCX_WARN("tls: cannot load the key %s (or it does not match %s): %s",
		           key ? key : cert, cert, ssl_reason(why, sizeof(why)));
		return SIPCX_ETLSCONF;
	}
	return 0;
}

const char *sipcx__tls_verify_reason(int n)
{
	return X509_verify_cert_error_string(n);
}

static int ctx_new(const struct sipcx_transport_opts *o, bool server, SSL_CTX **out)
{
	char why[256];
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx)
		return -ENOMEM;
	int r = ctx_common(ctx);
	if (!r && server) {
		/* A server needs its certificate; clients are not asked for one. */
		r = o->tls_cert ? load_cert(ctx, o->tls_cert, o->tls_key) : SIPCX_ETLSCONF;
	} else if (!r) {
		if (o->tls_cert)
			r = load_cert(ctx, o->tls_cert, o->tls_key);
		if (!r && !o->tls_insecure) {
			bool ok;
			if (o->tls_ca) {
				struct stat st;
				bool dir = stat(o->tls_ca, &st) == 0 && S_ISDIR(st.st_mode);
				ok = SSL_CTX_load_verify_locations(ctx, dir ? NULL : o->tls_ca,
				                                   dir ? o->tls_ca : NULL) == 1;
			} else {
				ok = SSL_CTX_set_default_verify_paths(ctx) == 1;
			}
			if (!ok) {
				SIPCX_WARN("tls: cannot load the CA certificates %s: %s",
				           o->tls_ca ? o->tls_ca : "(system store)",
				           ssl_reason(why, sizeof(why)));
				r = SIPCX_ETLSCONF;
			}
		}
		SSL_CTX_set_verify(ctx, o->tls_insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	}
	if (r) {
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return r;
	}
	*out = ctx;
	return 0;
}

int sipcx__tls_ctx(struct sipcx_transport *tp, bool server, struct ssl_ctx_st **out)
{
	struct ssl_ctx_st **slot = server ? &tp->tls_server : &tp->tls_client;
	if (!*slot) {
		int r = ctx_new(&tp->opts, server, slot);
		if (r)
			return r;
	}
	*out = *slot;
	return 0;
}

void sipcx__tls_ctx_free(struct sipcx_transport *tp)
{
	SSL_CTX_free(tp->tls_client);
	SSL_CTX_free(tp->tls_server);
	tp->tls_client = NULL;
	tp->tls_server = NULL;
}

int sipcx__tls_start(struct sipcx__tls *t, struct ssl_ctx_st *ctx, bool server, const char *name)
{
	memset(t, 0, sizeof(*t));
	ERR_clear_error();
	t->ssl = SSL_new(ctx);
	BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
	if (!t->ssl || !rbio || !wbio) {
		SSL_free(t->ssl);
		BIO_free(rbio);
		BIO_free(wbio);
		t->ssl = NULL;
		return -ENOMEM;
	}
	/* An empty read BIO means "wait for more", not end of file. */
	BIO_set_mem_eof_return(rbio, -1);
	SSL_set_bio(t->ssl, rbio, wbio); /* the SSL owns both from here */
	t->server = server;
	if (server) {
		SSL_set_accept_state(t->ssl);
		return 0;
	}
	SSL_set_connect_state(t->ssl);
	if (name && *name && SSL_get_verify_mode(t->ssl) != SSL_VERIFY_NONE) {
		/* RFC 5922 7.2: the certificate names the host we meant to reach. */
		X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
		struct in6_addr a6;
		bool ip = inet_pton(AF_INET, name, &a6) == 1 || inet_pton(AF_INET6, name, &a6) == 1;
		int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, name)
		            : X509_VERIFY_PARAM_set1_host(vp, name, 0);
		if (ok != 1) {
			sipcx__tls_end(t);
			return -EINVAL;
		}
	}
	/* SNI for names only (RFC 6066 3: no IP literals). */
	if (name && *name && !strchr(name, ':') && strspn(name, "0123456789.") != strlen(name))
		SSL_set_tlsext_host_name(t->ssl, name);
	return 0;
}

void sipcx__tls_end(struct sipcx__tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl); /* the BIOs with it */
	t->ssl = NULL;
}

/* A failed SSL call: what went wrong, as a sipcx error. */
static int fail(struct sipcx__tls *t, int ret)
{
	char why[256];
	int e = SSL_get_error(t->ssl, ret);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	if (e == SSL_ERROR_ZERO_RETURN) {
		ERR_clear_error();
		return 1; /* close_notify: the peer ended the session */
	}
	long v = SSL_get_verify_result(t->ssl);
	int r = SIPCX_ETLS;
	if (!t->up && !t->server && v != X509_V_OK && v > 0 && v < SIPCX_ETLS_VERIFY_SPAN)
		r = SIPCX_ETLS_VERIFY - (int)v;
	else if (t->server)
		/* A client that gives up or speaks something else: common, and its own business. */
		SIPCX_DEBUG("tls: %s from a client failed: %s", t->up ? "connection" : "handshake",
		            ssl_reason(why, sizeof(why)));
	else
		SIPCX_WARN("tls: %s failed: %s", t->up ? "connection" : "handshake",
		           ssl_reason(why, sizeof(why)));
	ERR_clear_error();
	t->err = r;
	return r;
}

int sipcx__tls_handshake(struct sipcx__tls *t)
{
	if (t->err)
		return t->err;
	if (t->up)
		return 0;
	ERR_clear_error();
	int ret = SSL_do_handshake(t->ssl);
	if (ret == 1) {
		t->up = true;
		return 0;
	}
	int r = fail(t, ret);
	return r > 0 ? SIPCX_ETLS : r; /* closed during the handshake */
}

int sipcx__tls_feed(struct sipcx__tls *t, const void *p, size_t n, struct sipcx_buf *plain)
{
	if (t->err)
		return t->err;
	if (n && BIO_write(SSL_get_rbio(t->ssl), p, (int)n) != (int)n)
		return -ENOMEM;
	int r = sipcx__tls_handshake(t);
	if (r || !t->up)
		return r;
	for (;;) {
		if (sipcx_buf_reserve(plain, 16384))
			return -ENOMEM;
		size_t got = 0;
		ERR_clear_error();
		int ret =
		    SSL_read_ex(t->ssl, plain->p + plain->len, plain->cap - plain->len - 1, &got);
		if (ret != 1)
			return fail(t, ret);
		plain->len += got;
		plain->p[plain->len] = '\0';
	}
}

int sipcx__tls_write(struct sipcx__tls *t, const void *p, size_t n)
{
	if (t->err)
		return t->err;
	if (!t->up)
		return -ENOTCONN;
	size_t done = 0;
	ERR_clear_error();
	/* Memory BIOs grow: a write never waits, it takes everything at once. */
	if (n && SSL_write_ex(t->ssl, p, n, &done) != 1) {
		int r = fail(t, 0);
		return r ? (r > 0 ? -EPIPE : r) : -ENOBUFS;
	}
	return 0;
}

int sipcx__tls_drain(struct sipcx__tls *t, struct sipcx_buf *out)
{
	BIO *w = SSL_get_wbio(t->ssl);
	size_t pending = BIO_ctrl_pending(w);
	if (!pending)
		return 0;
	if (sipcx_buf_reserve(out, pending))
		return -ENOMEM;
	int got = BIO_read(w, out->p + out->len, (int)pending);
	if (got > 0)
		out->len += (size_t)got;
	return 0;
}

const char *sipcx__tls_version(const struct sipcx__tls *t)
{
	return t->ssl ? SSL_get_version(t->ssl) : "";
}

int sipcx_transport_tls_name(struct sipcx_transport *tp, const union sipcx_sa *dst,
                             const char *name)
{
	if (!tp || !dst || !name || !*name || strlen(name) >= sizeof(tp->tls_names->name))
		return -EINVAL;
	int r = 0;
	uv_mutex_lock(&tp->tls_names_lock);
	if (!tp->tls_names)
		tp->tls_names = sipcx_calloc(SIPCX__TLS_NAMES, sizeof(*tp->tls_names));
	if (!tp->tls_names) {
		r = -ENOMEM;
	} else {
		struct sipcx__tls_name *e = NULL;
		for (unsigned i = 0; i < SIPCX__TLS_NAMES && !e; i++)
			if (sipcx_sa_equal(&tp->tls_names[i].sa.sa, &dst->sa))
				e = &tp->tls_names[i];
		if (!e)
			e = &tp->tls_names[tp->tls_names_next++ % SIPCX__TLS_NAMES];
		e->sa = *dst;
		snprintf(e->name, sizeof(e->name), "%s", name);
	}
	uv_mutex_unlock(&tp->tls_names_lock);
	return r;
}

void sipcx__tls_name_of(struct sipcx_transport *tp, const union sipcx_sa *dst, char *out, size_t n)
{
	out[0] = '\0';
	uv_mutex_lock(&tp->tls_names_lock);
	for (unsigned i = 0; tp->tls_names && i < SIPCX__TLS_NAMES; i++)
		if (sipcx_sa_equal(&tp->tls_names[i].sa.sa, &dst->sa)) {
			snprintf(out, n, "%s", tp->tls_names[i].name);
			break;
		}
	uv_mutex_unlock(&tp->tls_names_lock);
	if (!out[0] && sipcx_sa_host(&dst->sa, out, n) < 0)
		out[0] = '\0';
}
