/* sipcx registration: a client binding that refreshes itself (RFC 3261 10.2), and an embedded registrar with a stateless proxy (10.3, 16.11). */
#ifndef SIPCX_REG_H
#define SIPCX_REG_H

#include <sipcx/auth.h>
#include <sipcx/base.h>
#include <sipcx/msg.h>
#include <sipcx/transport.h>
#include <sipcx/ua.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Client: struct sipcx_reg keeps one Contact bound to an address-of-record.
 *
 * It sends REGISTER with the Contact and the requested expiry; a 1xx is not
 * final; 401/407 are answered once per challenge (struct sipcx_auth_client),
 * and later REGISTERs carry credentials up front; 423 is retried with the
 * Min-Expires asked. The granted expiry is the `expires` parameter of OUR
 * Contact among the bindings listed in the 2xx, else its Expires header,
 * else what was asked. It refreshes at half the granted expiry with the
 * same Call-ID and the next CSeq. When the 2xx's top Via shows the request
 * came from another address than our Contact (received/rport, RFC 3581:
 * a NAT), it registers again at once with the Contact rewritten to that
 * address (over TCP the host only) and the old one removed.
 *
 * A failed refresh (timeout, transport error, failure status) does not end
 * the registration: the state becomes FAILING and the REGISTER is retried
 * after retry_min_ms, doubling up to retry_max_ms, or after Retry-After
 * when the response has one; the first 2xx makes it REGISTERED again.
 *
 * Everything happens on the UA's loop thread; the callback runs there.
 * Free every registration before its UA.
 */
struct sipcx_reg;

enum sipcx_reg_state {
	SIPCX_REG_REGISTERING = 0, /**< the first REGISTER (and its auth/423 retries) in flight */
	SIPCX_REG_REGISTERED,      /**< bound: the last REGISTER got a 2xx */
	SIPCX_REG_FAILING,         /**< the last REGISTER failed: retrying with backoff */
	SIPCX_REG_FAILED,          /**< final: the first registration failed (no retry) */
	SIPCX_REG_UNREGISTERING,   /**< Expires: 0 sent */
	SIPCX_REG_UNREGISTERED,    /**< final: the binding is removed (or the wait gave up) */
};

/** Name of a state: "registering", "registered", "failing", ... ("" when out of range). */
SIPCX_API const char *sipcx_reg_state_name(enum sipcx_reg_state state);

/** A snapshot of a registration. */
struct sipcx_reg_info {
	enum sipcx_reg_state state;
	/**
	 * Why the last REGISTER failed, or 0: SIPCX_EAUTH (credentials
	 * refused, or a challenge and no credentials), SIPCX_ESTATUS (a
	 * failure status: see status), -ETIMEDOUT (no final response),
	 * -EPROTO (a challenge that cannot be answered, a 423 without a
	 * usable Min-Expires), a transport error (-ECONNREFUSED, ...).
	 */
	int err;
	uint16_t status; /**< status of the last final response; 0 when none */
	char reason[64]; /**< its reason phrase */
	/**
	 * Why a challenge was not answered or was refused ("credentials for
	 * realm \"x\" refused", an unsupported algorithm...); "" otherwise.
	 */
	char detail[96];
	uint32_t requested_s;   /**< the expiry asked (raised by a 423) */
	uint32_t expires_s;     /**< the expiry granted by the last 2xx; 0 when not bound */
	uint64_t registered_us; /**< sipcx_now_us() of the last 2xx; 0 when none */
	uint64_t next_us;       /**< sipcx_now_us() of the next refresh or retry; 0 when none */
	uint32_t cseq;          /**< CSeq of the last REGISTER sent */
	unsigned registers;     /**< REGISTER requests sent (each auth/423 retry counts) */
	unsigned refreshes;     /**< 2xx after the first one */
	unsigned failures;      /**< failed attempts in a row (0 once registered again) */
	bool nat;               /**< the Contact was rewritten from received/rport */
	char contact[256];      /**< our Contact URI as registered */
	char call_id[40];       /**< the Call-ID of every REGISTER of this registration */
};

/** Called on the loop thread after every state change and every successful refresh. */
typedef void sipcx_reg_cb(const struct sipcx_reg_info *info, void *arg);

/** struct sipcx_reg_opts flags. */
enum {
	/** Retry a failed first registration like a failed refresh (never FAILED). */
	SIPCX_REG_RETRY_FIRST = 1u << 0,
	/** Keep the Contact as it is whatever received/rport say. */
	SIPCX_REG_NO_NAT = 1u << 1,
	/**
	 * Remove every binding of the address-of-record instead of adding
	 * one (RFC 3261 10.2.2: "Contact: *" with "Expires: 0"): the state
	 * goes from REGISTERING to UNREGISTERED (or FAILED), nothing is
	 * refreshed.
	 */
	SIPCX_REG_UNREGISTER_ALL = 1u << 2,
};

struct sipcx_reg_opts {
	/**
	 * required: the registrar's URI, the Request-URI of every REGISTER
	 * ("sip:127.0.0.1:5060", "sip:pbx.example.com;transport=tcp",
	 * "sips:pbx.example.com": TLS, and a sips Contact). The
	 * requests go to its host unless dst is set (see sipcx_ua_request()).
	 */
	const char *registrar;
	/** Address-of-record (To and From); NULL: sip:USERNAME@HOST of registrar ("sipcx" without username). */
	const char *aor;
	/** Digest credentials; NULL username: no authentication (a challenge fails with SIPCX_EAUTH). */
	const char *username;
	const char *password;
	/** Answer only challenges of this realm; NULL: any realm. */
	const char *realm;
	/** Send here instead of the registrar's host ("udp:10.0.0.1:5060"): an outbound proxy. */
	const char *dst;
	/** Force a transport (SIPCX_TP_NONE: the URI's ;transport=, else UDP). */
	enum sipcx_tp_proto transport;
	/** User part of our Contact; NULL: the AoR's user. */
	const char *contact_user;
	/** Expiry asked, in seconds; 0: 3600. */
	uint32_t expires_s;
	/** Backoff after a failure: first delay and ceiling; 0: 1000 and 300000 ms. */
	uint32_t retry_min_ms, retry_max_ms;
	/** How long sipcx_phone_unregister() waits for the answer to Expires: 0; 0: 5000 ms. */
	uint32_t unregister_timeout_ms;
	/** SIPCX_REG_RETRY_FIRST, SIPCX_REG_NO_NAT, SIPCX_REG_UNREGISTER_ALL. */
	unsigned flags;
	/** Extra headers of every REGISTER (copied). */
	const struct sipcx_hdr *hdrs;
	size_t nhdrs;
	/** State changes (may be NULL), on the loop thread; must not block (sipcx_reg_free() is allowed: it never waits). */
	sipcx_reg_cb *cb;
	void *arg;
};

/**
 * Create a registration on ua and send its first REGISTER. Every string
 * of opts is copied. Any thread. The result comes through opts->cb or
 * sipcx_reg_info(). Returns 0 and *out; -EINVAL (missing or bad field: no
 * registrar, a registrar or AoR that is not a sip: or sips: URI, a password without
 * username, CR/LF in a value), -EPROTONOSUPPORT, -EHOSTUNREACH (as
 * sipcx_ua_request()), -ENOMEM, SIPCX_ECLOSED; *out untouched on failure
 * and the callback never called. A registrar by host name is located for
 * each REGISTER (RFC 3263, as sipcx_ua_request(), over one transport: the
 * URI's or UDP); one that does not resolve fails it with SIPCX_ERESOLVE.
 */
SIPCX_API int sipcx_reg_new(struct sipcx_reg **out, struct sipcx_ua *ua,
                            const struct sipcx_reg_opts *opts);

/** Copy the current state into *out (any thread). Returns 0 or -EINVAL. */
SIPCX_API int sipcx_reg_info(struct sipcx_reg *reg, struct sipcx_reg_info *out);

/**
 * Unregister and free, without waiting (the async level never blocks):
 * stop refreshing; when a binding may exist (it was registered, or a
 * REGISTER is in flight), send REGISTER with "Expires: 0" for our Contact;
 * the memory is released when its final response comes (or its
 * transaction gives up, or the UA shuts down). The callback is never
 * called after this returns. Any thread. To wait for the registrar's
 * answer, use sipcx_phone_unregister() instead. NULL is accepted.
 */
SIPCX_API void sipcx_reg_free(struct sipcx_reg *reg);

/**
 * Unregister without freeing, without waiting: stop refreshing and, when a
 * binding may exist, send REGISTER with "Expires: 0"; the callback then
 * reports UNREGISTERING and UNREGISTERED (info.err: 0, or why the answer
 * was not a 2xx: the binding then expires by itself). Nothing is sent again
 * afterwards; sipcx_reg_free() still releases it. Any thread. Returns 0,
 * -EINVAL, SIPCX_ECLOSED.
 */
SIPCX_API int sipcx_reg_unregister(struct sipcx_reg *reg);

/*
 * Embedded registrar: REGISTER with digest authentication (struct
 * sipcx_auth_server), bindings with expiry, and a stateless proxy that
 * routes requests for its users to their bindings, so demos and tests run
 * registered calls on a machine with no SIP server. It attaches to a UA:
 * REGISTER becomes its handler (answered without a transaction), and every
 * other request addressed to one of its users, or in a dialog it
 * record-routed, is forwarded (Via added and removed, Max-Forwards
 * decremented, Record-Route on dialog-creating requests, two when the
 * transport changes, RFC 5658; 404 for a user without binding, known or
 * not). It is no open relay: a request with a To tag goes on only along a
 * Route that names a Record-Route it added, a request for another domain
 * gets 403. Path (RFC 3327) and outbound flows (RFC 5626) are kept and
 * used to reach a binding. Requests to the registrar itself (no user
 * part) stay the UA's (OPTIONS 200). Bindings live in memory and expire on
 * a timer.
 */
struct sipcx_registrar;

/** One user: name and password (NUL-terminated). */
struct sipcx_registrar_user {
	const char *name;
	const char *password;
};

enum sipcx_registrar_event_type {
	SIPCX_REGISTRAR_BOUND = 0,   /**< a new binding */
	SIPCX_REGISTRAR_REFRESHED,   /**< an existing binding renewed */
	SIPCX_REGISTRAR_REMOVED,     /**< a binding removed by Expires: 0 or Contact: * */
	SIPCX_REGISTRAR_EXPIRED,     /**< a binding not renewed in time */
	SIPCX_REGISTRAR_AUTH_FAILED, /**< a REGISTER with wrong credentials */
	SIPCX_REGISTRAR_REJECTED,    /**< a REGISTER refused (400, 403, 423, 500, 503) */
	SIPCX_REGISTRAR_ROUTED,      /**< a request forwarded to target */
	/** A limit acted (a source locked out after failed passwords, ...): detail says which. */
	SIPCX_REGISTRAR_LIMITED,
};

struct sipcx_registrar_event {
	enum sipcx_registrar_event_type type;
	const char *user;    /**< AoR user ("" when none) */
	const char *contact; /**< binding URI; ROUTED: the forwarded Request-URI */
	const char *method;  /**< ROUTED: the method; else "REGISTER" */
	const char *source;  /**< where the request came from ("udp:127.0.0.1:40000") */
	uint32_t expires_s;  /**< BOUND/REFRESHED: granted expiry */
	uint16_t status;     /**< REJECTED: the status sent */
	uint32_t cseq;       /**< the request's CSeq */
	const char *call_id; /**< the request's Call-ID */
	const char *detail;  /**< LIMITED: what acted, for a log line; else "" */
};

/** Called on the loop thread; must not block. Pointers valid during the call only. */
typedef void sipcx_registrar_cb(const struct sipcx_registrar_event *ev, void *arg);

struct sipcx_registrar_opts {
	/** Realm of the challenges; NULL: the host of the UA's first listen address. */
	const char *realm;
	/** Known users (copied). Without users, anyone may register, unauthenticated. */
	const struct sipcx_registrar_user *users;
	size_t nusers;
	/** Expiry bounds (s): shorter than min gets 423; longer than max is capped; 0: 60, 3600, 3600. */
	uint32_t min_expires_s, max_expires_s, default_expires_s;
	/** Bindings per user; 0: 10. */
	unsigned max_bindings;
	/**
	 * Algorithms offered, one challenge each, strongest first: bit
	 * (1u << enum sipcx_auth_alg); 0: MD5 only (what every client knows).
	 */
	unsigned algs;
	/** Events (may be NULL). */
	sipcx_registrar_cb *cb;
	void *arg;
	/**
	 * Algorithms offered, one challenge each, in this order (copied; at
	 * most 8): the operator's order wins over the strength order of
	 * algs, which is then ignored. NULL/0: algs.
	 */
	const enum sipcx_auth_alg *alg_order;
	size_t nalg_order;
	/**
	 * Domains served besides the UA's own addresses (any port), the realm
	 * and "localhost" (copied; host names or IP literals). A REGISTER
	 * whose Request-URI or address-of-record is in another domain gets
	 * 404 (RFC 3261 10.3); a request for another domain 403, unless
	 * upstream is set.
	 */
	const char *const *domains;
	size_t ndomains;
	/** Forward requests for other domains to this proxy ("udp:192.0.2.1:5060"); NULL: refuse them. */
	const char *upstream;
	/**
	 * Challenge (407, Proxy-Authenticate) every request that starts a
	 * dialog or stands alone and comes From one of our users, before
	 * routing it: calls out of a user's name need its password.
	 */
	bool auth_calls;
	/**
	 * Brute-force control: max_auth_failures failed passwords from one IP
	 * address within auth_window_s lock it out for lockout_s, doubled at
	 * each new lockout up to lockout_max_s; while locked out, everything
	 * from it gets 403 with Retry-After, the right password too. 0: 10
	 * failures, 60 s, 60 s, 3600 s.
	 */
	unsigned max_auth_failures;
	uint32_t auth_window_s, lockout_s, lockout_max_s;
};

/**
 * Attach a registrar to ua (any thread but the loop's): it becomes the
 * UA's REGISTER handler (replacing any) and its proxy. opts may be NULL
 * (an open registrar). Every string is copied. Returns 0 and *out;
 * -EINVAL (NULL ua, a user without name or password or with one of
 * "@:;<> " in its name, min above max, a realm with CR/LF or '"', a bad
 * domain, algorithm or upstream address),
 * -EEXIST (the UA already has a registrar), -ENOTSUP (OpenSSL lacks
 * HMAC-SHA256), -ENOMEM, SIPCX_ECLOSED; *out untouched on failure.
 */
SIPCX_API int sipcx_registrar_new(struct sipcx_registrar **out, struct sipcx_ua *ua,
                                  const struct sipcx_registrar_opts *opts);

/** Detach and free (any thread but the loop's; before the UA). NULL is accepted. */
SIPCX_API void sipcx_registrar_free(struct sipcx_registrar *r);

/** One binding, as sipcx_registrar_bindings() gives it. */
struct sipcx_registrar_binding {
	char contact[256]; /**< the Contact URI */
	char call_id[128];
	uint32_t cseq;
	uint32_t expires_s;          /**< seconds left */
	struct sipcx_tp_addr source; /**< where the REGISTER came from */
};

/**
 * The live bindings of user (any thread, not the loop's): up to max into
 * out, the total in *n. Returns 0, -EINVAL, -ENOENT (unknown user),
 * SIPCX_ECLOSED.
 */
SIPCX_API int sipcx_registrar_bindings(struct sipcx_registrar *r, const char *user,
                                       struct sipcx_registrar_binding *out, size_t max, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
