/* sipcx base: error codes, string slices, buffers, allocator, logging, clock, random. */
#ifndef SIPCX_BASE_H
#define SIPCX_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sipcx/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every public function is declared with SIPCX_API: the library is built
 * with -fvisibility=hidden, so the shared object exports these and nothing
 * else (internals are sipcx__ names, hidden).
 */
#if defined(__GNUC__) && __GNUC__ >= 4
#define SIPCX_API __attribute__((visibility("default")))
#else
#define SIPCX_API
#endif

#if defined(__GNUC__)
#define SIPCX_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SIPCX_PRINTF(a, b)
#endif

/*
 * Errors. Functions return 0 or a negative error: a negated errno value
 * (-EINVAL, -ENOMEM, -EBADMSG, -EAGAIN, -ETIMEDOUT, -ECANCELED, -EPROTO, ...)
 * or one of the sipcx codes below (already negative). A SIP status code is
 * never an error code: it is data.
 */
enum {
	SIPCX_EBASE = -10000,
	SIPCX_EAUTH = SIPCX_EBASE - 1,    /**< credentials refused (after one retry) */
	SIPCX_ENOCODEC = SIPCX_EBASE - 2, /**< no common codec in offer/answer */
	SIPCX_ESTATUS = SIPCX_EBASE - 3,  /**< peer answered with a failure status */
	SIPCX_ELIMIT = SIPCX_EBASE - 4,   /**< a configured limit was exceeded */
	SIPCX_ECLOSED = SIPCX_EBASE - 5,  /**< object closed or shutting down */
	/**
	 * A host name that does not resolve (no such name, no address of a
	 * family we speak): "cannot resolve HOST", as opposed to
	 * -EHOSTUNREACH, an address we have but cannot send to.
	 */
	SIPCX_ERESOLVE = SIPCX_EBASE - 6,
	/** A TLS handshake or record failed (the reason is logged at warning level). */
	SIPCX_ETLS = SIPCX_EBASE - 20,
	/** A TLS certificate, key or CA file or directory that does not load (logged). */
	SIPCX_ETLSCONF = SIPCX_EBASE - 21,
	/** A WebSocket handshake refused or broken (RFC 6455 4; the reason is logged). */
	SIPCX_EWS = SIPCX_EBASE - 22,
	/**
	 * The peer's TLS certificate failed verification: the error is
	 * SIPCX_ETLS_VERIFY - n for OpenSSL's X509_V_ERR_* code n (1 to 999);
	 * sipcx_strerror() says "TLS: certificate verify failed: " and
	 * X509_verify_cert_error_string(n).
	 */
	SIPCX_ETLS_VERIFY = SIPCX_EBASE - 1000,
};

/**
 * The library's version, "MAJOR.MINOR.PATCH" (SIPCX_VERSION_STRING of the
 * headers it was built with; a program may have been compiled against
 * other headers). Never NULL.
 */
SIPCX_API const char *sipcx_version(void);

/** Text for an error returned by any sipcx function (never NULL). */
SIPCX_API const char *sipcx_strerror(int err);

/**
 * A read-only slice of bytes. Not NUL-terminated; may contain NUL bytes.
 * It borrows the memory it points into: its owner decides its lifetime.
 */
struct sipcx_str {
	const char *p;
	size_t len;
};

#define SIPCX_STR(lit) ((struct sipcx_str){ (lit), sizeof(lit) - 1 })
#define SIPCX_STR_NULL ((struct sipcx_str){ NULL, 0 })
/** printf helper: printf("%.*s", SIPCX_STR_FMT(s)) */
#define SIPCX_STR_FMT(s) (int)(s).len, (s).p

/** Slice of a NUL-terminated C string (NULL gives the empty slice). */
SIPCX_API struct sipcx_str sipcx_str_c(const char *s);
/** Byte-exact equality. */
SIPCX_API bool sipcx_str_eq(struct sipcx_str a, struct sipcx_str b);
/** ASCII case-insensitive equality. */
SIPCX_API bool sipcx_str_ieq(struct sipcx_str a, struct sipcx_str b);
/** ASCII case-insensitive equality with a C string. */
SIPCX_API bool sipcx_str_ieq_c(struct sipcx_str a, const char *c);
/** Strip leading and trailing SP/HTAB/CR/LF. */
SIPCX_API struct sipcx_str sipcx_str_trim(struct sipcx_str s);
/**
 * Parse a decimal unsigned integer that fills the whole slice (no sign, no
 * space). Returns 0, -EINVAL for an empty slice or a non-digit, -ERANGE when
 * the value exceeds max.
 */
SIPCX_API int sipcx_str_to_u64(struct sipcx_str s, uint64_t max, uint64_t *out);
/** Copy into a new NUL-terminated string from sipcx_malloc (NULL on OOM). */
SIPCX_API char *sipcx_str_dup(struct sipcx_str s);

/*
 * Allocator. Every allocation of the library goes through these, so an
 * application (or a test failing the Nth allocation) can replace them.
 */
struct sipcx_allocator {
	void *(*malloc)(size_t size, void *arg);
	void *(*realloc)(void *ptr, size_t size, void *arg);
	void (*free)(void *ptr, void *arg);
	void *arg;
};
/** Replace the allocator (NULL restores libc). Not thread-safe: call before any other use. */
SIPCX_API void sipcx_allocator_set(const struct sipcx_allocator *a);
SIPCX_API void *sipcx_malloc(size_t size);
SIPCX_API void *sipcx_calloc(size_t n, size_t size);
SIPCX_API void *sipcx_realloc(void *ptr, size_t size);
SIPCX_API void sipcx_free(void *ptr);
SIPCX_API char *sipcx_strdup(const char *s);

/*
 * Growable byte buffer. An allocation failure is sticky: later appends do
 * nothing and sipcx_buf_err() returns -ENOMEM, so builders check once.
 */
struct sipcx_buf {
	char *p;
	size_t len;
	size_t cap;
	int err;
};
SIPCX_API void sipcx_buf_init(struct sipcx_buf *b);
/** Make room for n more bytes. Returns 0 or -ENOMEM. */
SIPCX_API int sipcx_buf_reserve(struct sipcx_buf *b, size_t n);
SIPCX_API void sipcx_buf_append(struct sipcx_buf *b, const void *p, size_t n);
SIPCX_API void sipcx_buf_append_str(struct sipcx_buf *b, struct sipcx_str s);
SIPCX_API void sipcx_buf_puts(struct sipcx_buf *b, const char *s);
SIPCX_API void sipcx_buf_printf(struct sipcx_buf *b, const char *fmt, ...) SIPCX_PRINTF(2, 3);
SIPCX_API void sipcx_buf_vprintf(struct sipcx_buf *b, const char *fmt, va_list ap)
    SIPCX_PRINTF(2, 0);
SIPCX_API int sipcx_buf_err(const struct sipcx_buf *b);
/** Release the memory; the buffer is empty and reusable afterwards. */
SIPCX_API void sipcx_buf_free(struct sipcx_buf *b);
/** Take ownership of the bytes (NUL-terminated, len excludes the NUL); buffer reset. */
SIPCX_API char *sipcx_buf_detach(struct sipcx_buf *b, size_t *len);

/* Logging: the library prints nothing unless a callback is set. */
enum sipcx_log_level {
	SIPCX_LOG_ERROR = 0,
	SIPCX_LOG_WARN = 1,
	SIPCX_LOG_INFO = 2,
	SIPCX_LOG_DEBUG = 3,
};
typedef void sipcx_log_cb(enum sipcx_log_level level, const char *msg, void *arg);
/** Set the log callback (NULL disables) and the most verbose level passed to it. */
SIPCX_API void sipcx_log_set(sipcx_log_cb *cb, enum sipcx_log_level max_level, void *arg);
/** A callback that writes "sipcx LEVEL: msg" lines to stderr. */
SIPCX_API void sipcx_log_stderr(enum sipcx_log_level level, const char *msg, void *arg);

/** Monotonic clock in microseconds. */
SIPCX_API uint64_t sipcx_now_us(void);
/** Fill buf with n bytes from the kernel's CSPRNG. Returns 0 or a negative error. */
SIPCX_API int sipcx_random_bytes(void *buf, size_t n);
/**
 * Write n random characters from [0-9a-z] and a NUL into out (n+1 bytes),
 * for tags, branches and Call-IDs.
 */
SIPCX_API void sipcx_random_token(char *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
