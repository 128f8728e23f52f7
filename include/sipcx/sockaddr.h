/* sipcx socket addresses: IPv4/IPv6 literals, ports, comparison and text, shared by transports, media and the wire trace. */
#ifndef SIPCX_SOCKADDR_H
#define SIPCX_SOCKADDR_H

#include <netinet/in.h>
#include <sys/socket.h>

#include <sipcx/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An IPv4 or IPv6 socket address. */
union sipcx_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

/** Room for any text sipcx_sa_print() or sipcx_tp_addr_print() writes, with its NUL. */
#define SIPCX_ADDRSTRLEN 64

/**
 * Parse a numeric IP literal (IPv4 dotted quad or IPv6, with or without
 * brackets) and a port into *sa. Host names are not resolved.
 * Returns 0 or -EINVAL.
 */
SIPCX_API int sipcx_sa_set(union sipcx_sa *sa, struct sipcx_str host, uint16_t port);
/** Port of an AF_INET/AF_INET6 address (host order); 0 for others. */
SIPCX_API uint16_t sipcx_sa_port(const struct sockaddr *sa);
/** Set the port of an AF_INET/AF_INET6 address. */
SIPCX_API void sipcx_sa_set_port(union sipcx_sa *sa, uint16_t port);
/** sizeof the address for its family (0 when neither IPv4 nor IPv6). */
SIPCX_API size_t sipcx_sa_len(const struct sockaddr *sa);
/** Same family, address and port. NULL never equals. */
SIPCX_API bool sipcx_sa_equal(const struct sockaddr *a, const struct sockaddr *b);
/** Same family and address, any port. */
SIPCX_API bool sipcx_sa_equal_host(const struct sockaddr *a, const struct sockaddr *b);
/** The wildcard address (0.0.0.0 or ::). */
SIPCX_API bool sipcx_sa_is_any(const struct sockaddr *sa);
/**
 * Write the host part ("127.0.0.1", "::1": no brackets) into buf (n bytes,
 * NUL-terminated). Returns the length, -EAFNOSUPPORT or -ENOSPC.
 */
SIPCX_API int sipcx_sa_host(const struct sockaddr *sa, char *buf, size_t n);
/** "127.0.0.1:5060" or "[::1]:5060" into buf. Returns the length, -EAFNOSUPPORT or -ENOSPC. */
SIPCX_API int sipcx_sa_print(const struct sockaddr *sa, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
