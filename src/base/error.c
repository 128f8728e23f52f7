/* base: error codes and their text, and the library version. */
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
	default:
		break;
	}
	if (err < 0 && err > SIPCX_EBASE)
		return strerror(-err); /* glibc: a static table, thread-safe for known codes */
	return "unknown error";
}
