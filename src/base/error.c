/* base: error codes and their text, and the library version. */
#include <stdio.h>
#include <string.h>

#include "base.h"

const char *sipcx_version(void)
{
	return SIPCX_VERSION_STRING;
}

const char *sipcx_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case SIPCX_EAUTH:
		return "authentication failed";
	case SIPCX_ENOCODEC:
		return "no common codec";
	case SIPCX_ESTATUS:
		return "peer answered with a failure status";
	case SIPCX_ELIMIT:
		return "limit exceeded";
	case SIPCX_ERESOLVE:
		return "cannot resolve host";
	case SIPCX_ECLOSED:
		return "closed";
	case SIPCX_ETLS:
		return "TLS handshake failed";
	case SIPCX_ETLSCONF:
		return "TLS: cannot load the certificate, key or CA";
	case SIPCX_EWS:
		return "WebSocket handshake failed";
	default:
		break;
	}
	if (err < SIPCX_ETLS_VERIFY && err > SIPCX_ETLS_VERIFY - 1000) {
		/* Per thread: the text names OpenSSL's reason, e.g. "unable to get local issuer certificate". */
		static _Thread_local char buf[160];
		snprintf(buf, sizeof(buf), "TLS: certificate verify failed: %s",
		         sipcx__tls_verify_reason(SIPCX_ETLS_VERIFY - err));
		return buf;
	}
	if (err < 0 && err > SIPCX_EBASE)
		return strerror(-err); /* glibc: a static table, thread-safe for known codes */
	return "unknown error";
}
