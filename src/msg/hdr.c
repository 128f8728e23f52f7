/* msg: header names and compact forms, methods, reason phrases, the header index (RFC 3261 7.3, 20, 21). */
#include <errno.h>
#include <string.h>

#include "msg/msg.h"

#define T1(c) [(unsigned char)(c)] = 1
const uint8_t sipcx__msg_token[256] = {
	T1('a'), T1('b'), T1('c'), T1('d'), T1('e'), T1('f'), T1('g'), T1('h'),  T1('i'),
	T1('j'), T1('k'), T1('l'), T1('m'), T1('n'), T1('o'), T1('p'), T1('q'),  T1('r'),
	T1('s'), T1('t'), T1('u'), T1('v'), T1('w'), T1('x'), T1('y'), T1('z'),  T1('A'),
	T1('B'), T1('C'), T1('D'), T1('E'), T1('F'), T1('G'), T1('H'), T1('I'),  T1('J'),
	T1('K'), T1('L'), T1('M'), T1('N'), T1('O'), T1('P'), T1('Q'), T1('R'),  T1('S'),
	T1('T'), T1('U'), T1('V'), T1('W'), T1('X'), T1('Y'), T1('Z'), T1('0'),  T1('1'),
	T1('2'), T1('3'), T1('4'), T1('5'), T1('6'), T1('7'), T1('8'), T1('9'),  T1('-'),
	T1('.'), T1('!'), T1('%'), T1('*'), T1('_'), T1('+'), T1('`'), T1('\''), T1('~'),
};

static const char *const hdr_names[SIPCX_HDR__COUNT] = {
	[SIPCX_HDR_OTHER] = "",
	[SIPCX_HDR_ACCEPT] = "Accept",
	[SIPCX_HDR_ACCEPT_ENCODING] = "Accept-Encoding",
	[SIPCX_HDR_ACCEPT_LANGUAGE] = "Accept-Language",
	[SIPCX_HDR_ALERT_INFO] = "Alert-Info",
	[SIPCX_HDR_ALLOW] = "Allow",
	[SIPCX_HDR_ALLOW_EVENTS] = "Allow-Events",
	[SIPCX_HDR_AUTHENTICATION_INFO] = "Authentication-Info",
	[SIPCX_HDR_AUTHORIZATION] = "Authorization",
	[SIPCX_HDR_CALL_ID] = "Call-ID",
	[SIPCX_HDR_CALL_INFO] = "Call-Info",
	[SIPCX_HDR_CONTACT] = "Contact",
	[SIPCX_HDR_CONTENT_DISPOSITION] = "Content-Disposition",
	[SIPCX_HDR_CONTENT_ENCODING] = "Content-Encoding",
	[SIPCX_HDR_CONTENT_LANGUAGE] = "Content-Language",
	[SIPCX_HDR_CONTENT_LENGTH] = "Content-Length",
	[SIPCX_HDR_CONTENT_TYPE] = "Content-Type",
	[SIPCX_HDR_CSEQ] = "CSeq",
	[SIPCX_HDR_DATE] = "Date",
	[SIPCX_HDR_ERROR_INFO] = "Error-Info",
	[SIPCX_HDR_EVENT] = "Event",
	[SIPCX_HDR_EXPIRES] = "Expires",
	[SIPCX_HDR_FROM] = "From",
	[SIPCX_HDR_IDENTITY] = "Identity",
	[SIPCX_HDR_IN_REPLY_TO] = "In-Reply-To",
	[SIPCX_HDR_MAX_FORWARDS] = "Max-Forwards",
	[SIPCX_HDR_MIME_VERSION] = "MIME-Version",
	[SIPCX_HDR_MIN_EXPIRES] = "Min-Expires",
	[SIPCX_HDR_MIN_SE] = "Min-SE",
	[SIPCX_HDR_ORGANIZATION] = "Organization",
	[SIPCX_HDR_P_ASSERTED_IDENTITY] = "P-Asserted-Identity",
	[SIPCX_HDR_P_PREFERRED_IDENTITY] = "P-Preferred-Identity",
	[SIPCX_HDR_PATH] = "Path",
	[SIPCX_HDR_PRIORITY] = "Priority",
	[SIPCX_HDR_PRIVACY] = "Privacy",
	[SIPCX_HDR_PROXY_AUTHENTICATE] = "Proxy-Authenticate",
	[SIPCX_HDR_PROXY_AUTHORIZATION] = "Proxy-Authorization",
	[SIPCX_HDR_PROXY_REQUIRE] = "Proxy-Require",
	[SIPCX_HDR_RACK] = "RAck",
	[SIPCX_HDR_REASON] = "Reason",
	[SIPCX_HDR_RECORD_ROUTE] = "Record-Route",
	[SIPCX_HDR_REFER_SUB] = "Refer-Sub",
	[SIPCX_HDR_REFER_TO] = "Refer-To",
	[SIPCX_HDR_REFERRED_BY] = "Referred-By",
	[SIPCX_HDR_REPLACES] = "Replaces",
	[SIPCX_HDR_REPLY_TO] = "Reply-To",
	[SIPCX_HDR_REQUIRE] = "Require",
	[SIPCX_HDR_RETRY_AFTER] = "Retry-After",
	[SIPCX_HDR_ROUTE] = "Route",
	[SIPCX_HDR_RSEQ] = "RSeq",
	[SIPCX_HDR_SERVER] = "Server",
	[SIPCX_HDR_SERVICE_ROUTE] = "Service-Route",
	[SIPCX_HDR_SESSION_EXPIRES] = "Session-Expires",
	[SIPCX_HDR_SIP_ETAG] = "SIP-ETag",
	[SIPCX_HDR_SIP_IF_MATCH] = "SIP-If-Match",
	[SIPCX_HDR_SUBJECT] = "Subject",
	[SIPCX_HDR_SUBSCRIPTION_STATE] = "Subscription-State",
	[SIPCX_HDR_SUPPORTED] = "Supported",
	[SIPCX_HDR_TIMESTAMP] = "Timestamp",
	[SIPCX_HDR_TO] = "To",
	[SIPCX_HDR_UNSUPPORTED] = "Unsupported",
	[SIPCX_HDR_USER_AGENT] = "User-Agent",
	[SIPCX_HDR_VIA] = "Via",
	[SIPCX_HDR_WARNING] = "Warning",
	[SIPCX_HDR_WWW_AUTHENTICATE] = "WWW-Authenticate",
};

/* RFC 3261 7.3.3 and the extensions that define one (RFC 3265, 3515, 3892, 4028, 8224). */
static const uint8_t compact[26] = {
	['b' - 'a'] = SIPCX_HDR_REFERRED_BY,
	['c' - 'a'] = SIPCX_HDR_CONTENT_TYPE,
	['e' - 'a'] = SIPCX_HDR_CONTENT_ENCODING,
	['f' - 'a'] = SIPCX_HDR_FROM,
	['i' - 'a'] = SIPCX_HDR_CALL_ID,
	['k' - 'a'] = SIPCX_HDR_SUPPORTED,
	['l' - 'a'] = SIPCX_HDR_CONTENT_LENGTH,
	['m' - 'a'] = SIPCX_HDR_CONTACT,
	['o' - 'a'] = SIPCX_HDR_EVENT,
	['r' - 'a'] = SIPCX_HDR_REFER_TO,
	['s' - 'a'] = SIPCX_HDR_SUBJECT,
	['t' - 'a'] = SIPCX_HDR_TO,
	['u' - 'a'] = SIPCX_HDR_ALLOW_EVENTS,
	['v' - 'a'] = SIPCX_HDR_VIA,
	['x' - 'a'] = SIPCX_HDR_SESSION_EXPIRES,
	['y' - 'a'] = SIPCX_HDR_IDENTITY,
};

/*
 * The same names in lower case, for the word compares of
 * sipcx__hdr_lookup_in() (msg.h): rows of 24 bytes, so a compare may load
 * whole words, and a name of length n is the row with a NUL at n and none
 * before.
 */
const char sipcx__hdr_lower[SIPCX_HDR__COUNT][24] = {
	[SIPCX_HDR_OTHER] = "",
	[SIPCX_HDR_ACCEPT] = "accept",
	[SIPCX_HDR_ACCEPT_ENCODING] = "accept-encoding",
	[SIPCX_HDR_ACCEPT_LANGUAGE] = "accept-language",
	[SIPCX_HDR_ALERT_INFO] = "alert-info",
	[SIPCX_HDR_ALLOW] = "allow",
	[SIPCX_HDR_ALLOW_EVENTS] = "allow-events",
	[SIPCX_HDR_AUTHENTICATION_INFO] = "authentication-info",
	[SIPCX_HDR_AUTHORIZATION] = "authorization",
	[SIPCX_HDR_CALL_ID] = "call-id",
	[SIPCX_HDR_CALL_INFO] = "call-info",
	[SIPCX_HDR_CONTACT] = "contact",
	[SIPCX_HDR_CONTENT_DISPOSITION] = "content-disposition",
	[SIPCX_HDR_CONTENT_ENCODING] = "content-encoding",
	[SIPCX_HDR_CONTENT_LANGUAGE] = "content-language",
	[SIPCX_HDR_CONTENT_LENGTH] = "content-length",
	[SIPCX_HDR_CONTENT_TYPE] = "content-type",
	[SIPCX_HDR_CSEQ] = "cseq",
	[SIPCX_HDR_DATE] = "date",
	[SIPCX_HDR_ERROR_INFO] = "error-info",
	[SIPCX_HDR_EVENT] = "event",
	[SIPCX_HDR_EXPIRES] = "expires",
	[SIPCX_HDR_FROM] = "from",
	[SIPCX_HDR_IDENTITY] = "identity",
	[SIPCX_HDR_IN_REPLY_TO] = "in-reply-to",
	[SIPCX_HDR_MAX_FORWARDS] = "max-forwards",
	[SIPCX_HDR_MIME_VERSION] = "mime-version",
	[SIPCX_HDR_MIN_EXPIRES] = "min-expires",
	[SIPCX_HDR_MIN_SE] = "min-se",
	[SIPCX_HDR_ORGANIZATION] = "organization",
	[SIPCX_HDR_P_ASSERTED_IDENTITY] = "p-asserted-identity",
	[SIPCX_HDR_P_PREFERRED_IDENTITY] = "p-preferred-identity",
	[SIPCX_HDR_PATH] = "path",
	[SIPCX_HDR_PRIORITY] = "priority",
	[SIPCX_HDR_PRIVACY] = "privacy",
	[SIPCX_HDR_PROXY_AUTHENTICATE] = "proxy-authenticate",
	[SIPCX_HDR_PROXY_AUTHORIZATION] = "proxy-authorization",
	[SIPCX_HDR_PROXY_REQUIRE] = "proxy-require",
	[SIPCX_HDR_RACK] = "rack",
	[SIPCX_HDR_REASON] = "reason",
	[SIPCX_HDR_RECORD_ROUTE] = "record-route",
	[SIPCX_HDR_REFER_SUB] = "refer-sub",
	[SIPCX_HDR_REFER_TO] = "refer-to",
	[SIPCX_HDR_REFERRED_BY] = "referred-by",
	[SIPCX_HDR_REPLACES] = "replaces",
	[SIPCX_HDR_REPLY_TO] = "reply-to",
	[SIPCX_HDR_REQUIRE] = "require",
	[SIPCX_HDR_RETRY_AFTER] = "retry-after",
	[SIPCX_HDR_ROUTE] = "route",
	[SIPCX_HDR_RSEQ] = "rseq",
	[SIPCX_HDR_SERVER] = "server",
	[SIPCX_HDR_SERVICE_ROUTE] = "service-route",
	[SIPCX_HDR_SESSION_EXPIRES] = "session-expires",
	[SIPCX_HDR_SIP_ETAG] = "sip-etag",
	[SIPCX_HDR_SIP_IF_MATCH] = "sip-if-match",
	[SIPCX_HDR_SUBJECT] = "subject",
	[SIPCX_HDR_SUBSCRIPTION_STATE] = "subscription-state",
	[SIPCX_HDR_SUPPORTED] = "supported",
	[SIPCX_HDR_TIMESTAMP] = "timestamp",
	[SIPCX_HDR_TO] = "to",
	[SIPCX_HDR_UNSUPPORTED] = "unsupported",
	[SIPCX_HDR_USER_AGENT] = "user-agent",
	[SIPCX_HDR_VIA] = "via",
	[SIPCX_HDR_WARNING] = "warning",
	[SIPCX_HDR_WWW_AUTHENTICATE] = "www-authenticate",
};

/*
 * Slot of each name of sipcx__hdr_lower by the hash of sipcx__hdr_lookup_in()
 * (msg.h). A new name needs its slot computed the same way (and another
 * multiplier if it lands on a taken one); test_msg checks every name
 * round-trips.
 */
const uint8_t sipcx__hdr_slot[256] = {
	[0] = SIPCX_HDR_ALERT_INFO,
	[5] = SIPCX_HDR_UNSUPPORTED,
	[6] = SIPCX_HDR_EXPIRES,
	[7] = SIPCX_HDR_VIA,
	[8] = SIPCX_HDR_PRIORITY,
	[9] = SIPCX_HDR_RECORD_ROUTE,
	[18] = SIPCX_HDR_REFER_SUB,
	[21] = SIPCX_HDR_CONTENT_LENGTH,
	[28] = SIPCX_HDR_SIP_ETAG,
	[31] = SIPCX_HDR_WWW_AUTHENTICATE,
	[32] = SIPCX_HDR_MAX_FORWARDS,
	[38] = SIPCX_HDR_AUTHORIZATION,
	[42] = SIPCX_HDR_REFERRED_BY,
	[49] = SIPCX_HDR_TO,
	[50] = SIPCX_HDR_CALL_INFO,
	[58] = SIPCX_HDR_RACK,
	[59] = SIPCX_HDR_ERROR_INFO,
	[60] = SIPCX_HDR_PROXY_AUTHORIZATION,
	[62] = SIPCX_HDR_RETRY_AFTER,
	[67] = SIPCX_HDR_ACCEPT_LANGUAGE,
	[74] = SIPCX_HDR_P_PREFERRED_IDENTITY,
	[75] = SIPCX_HDR_IN_REPLY_TO,
	[76] = SIPCX_HDR_ALLOW_EVENTS,
	[80] = SIPCX_HDR_CONTENT_DISPOSITION,
	[83] = SIPCX_HDR_REPLACES,
	[84] = SIPCX_HDR_EVENT,
	[87] = SIPCX_HDR_SUBJECT,
	[88] = SIPCX_HDR_TIMESTAMP,
	[90] = SIPCX_HDR_ACCEPT,
	[92] = SIPCX_HDR_ROUTE,
	[94] = SIPCX_HDR_ORGANIZATION,
	[100] = SIPCX_HDR_AUTHENTICATION_INFO,
	[103] = SIPCX_HDR_SIP_IF_MATCH,
	[104] = SIPCX_HDR_CSEQ,
	[110] = SIPCX_HDR_CONTENT_LANGUAGE,
	[123] = SIPCX_HDR_SERVICE_ROUTE,
	[134] = SIPCX_HDR_SESSION_EXPIRES,
	[138] = SIPCX_HDR_CALL_ID,
	[139] = SIPCX_HDR_USER_AGENT,
	[148] = SIPCX_HDR_MIME_VERSION,
	[150] = SIPCX_HDR_PROXY_REQUIRE,
	[151] = SIPCX_HDR_REPLY_TO,
	[154] = SIPCX_HDR_FROM,
	[165] = SIPCX_HDR_ALLOW,
	[166] = SIPCX_HDR_IDENTITY,
	[170] = SIPCX_HDR_P_ASSERTED_IDENTITY,
	[179] = SIPCX_HDR_MIN_SE,
	[183] = SIPCX_HDR_SUBSCRIPTION_STATE,
	[190] = SIPCX_HDR_CONTACT,
	[196] = SIPCX_HDR_SUPPORTED,
	[198] = SIPCX_HDR_PATH,
	[200] = SIPCX_HDR_CONTENT_TYPE,
	[201] = SIPCX_HDR_DATE,
	[213] = SIPCX_HDR_RSEQ,
	[214] = SIPCX_HDR_REQUIRE,
	[219] = SIPCX_HDR_SERVER,
	[221] = SIPCX_HDR_PROXY_AUTHENTICATE,
	[229] = SIPCX_HDR_WARNING,
	[235] = SIPCX_HDR_MIN_EXPIRES,
	[239] = SIPCX_HDR_PRIVACY,
	[244] = SIPCX_HDR_REFER_TO,
	[245] = SIPCX_HDR_REASON,
	[247] = SIPCX_HDR_CONTENT_ENCODING,
	[255] = SIPCX_HDR_ACCEPT_ENCODING,
};

static enum sipcx_hdr_id compact_id(char c)
{
	c = sipcx__lower(c);
	return (c >= 'a' && c <= 'z') ? (enum sipcx_hdr_id)compact[c - 'a'] : SIPCX_HDR_OTHER;
}

enum sipcx_hdr_id sipcx__hdr_lookup_slow(const char *s, size_t len)
{
	if (len == 1)
		return compact_id(s[0]);
	return sipcx_hdr_lookup(s, len);
}

enum sipcx_hdr_id sipcx_hdr_lookup(const char *s, size_t len)
{
	if (!s || len == 0 || len > 20)
		return SIPCX_HDR_OTHER;
	if (len == 1)
		return compact_id(s[0]);
	/* A padded copy, so the word loads stay inside a buffer of ours. */
	char tmp[24] = { 0 };
	memcpy(tmp, s, len);
	return sipcx__hdr_lookup_in(tmp, len, tmp + sizeof(tmp));
}

const char *sipcx_hdr_name(enum sipcx_hdr_id id)
{
	if ((unsigned)id >= SIPCX_HDR__COUNT)
		return "";
	return hdr_names[id];
}

static const char *const method_names[SIPCX_METHOD__COUNT] = {
	[SIPCX_METHOD_OTHER] = "",
	[SIPCX_METHOD_INVITE] = "INVITE",
	[SIPCX_METHOD_ACK] = "ACK",
	[SIPCX_METHOD_BYE] = "BYE",
	[SIPCX_METHOD_CANCEL] = "CANCEL",
	[SIPCX_METHOD_OPTIONS] = "OPTIONS",
	[SIPCX_METHOD_REGISTER] = "REGISTER",
	[SIPCX_METHOD_PRACK] = "PRACK",
	[SIPCX_METHOD_SUBSCRIBE] = "SUBSCRIBE",
	[SIPCX_METHOD_NOTIFY] = "NOTIFY",
	[SIPCX_METHOD_PUBLISH] = "PUBLISH",
	[SIPCX_METHOD_INFO] = "INFO",
	[SIPCX_METHOD_REFER] = "REFER",
	[SIPCX_METHOD_MESSAGE] = "MESSAGE",
	[SIPCX_METHOD_UPDATE] = "UPDATE",
};

static enum sipcx_method method_if(struct sipcx_str s, enum sipcx_method m)
{
	return memcmp(s.p, method_names[m], s.len) == 0 ? m : SIPCX_METHOD_OTHER;
}

/* Methods are case-sensitive (RFC 3261 7.1): "invite" is an unknown method. */
enum sipcx_method sipcx_method_lookup(struct sipcx_str s)
{
	if (!s.p)
		return SIPCX_METHOD_OTHER;
	switch (s.len) {
	case 3:
		return s.p[0] == 'A' ? method_if(s, SIPCX_METHOD_ACK)
		                     : method_if(s, SIPCX_METHOD_BYE);
	case 4:
		return method_if(s, SIPCX_METHOD_INFO);
	case 5:
		return s.p[0] == 'P' ? method_if(s, SIPCX_METHOD_PRACK)
		                     : method_if(s, SIPCX_METHOD_REFER);
	case 6:
		switch (s.p[0]) {
		case 'I':
			return method_if(s, SIPCX_METHOD_INVITE);
		case 'C':
			return method_if(s, SIPCX_METHOD_CANCEL);
		case 'N':
			return method_if(s, SIPCX_METHOD_NOTIFY);
		case 'U':
			return method_if(s, SIPCX_METHOD_UPDATE);
		}
		break;
	case 7:
		switch (s.p[0]) {
		case 'O':
			return method_if(s, SIPCX_METHOD_OPTIONS);
		case 'P':
			return method_if(s, SIPCX_METHOD_PUBLISH);
		case 'M':
			return method_if(s, SIPCX_METHOD_MESSAGE);
		}
		break;
	case 8:
		return method_if(s, SIPCX_METHOD_REGISTER);
	case 9:
		return method_if(s, SIPCX_METHOD_SUBSCRIBE);
	}
	return SIPCX_METHOD_OTHER;
}

const char *sipcx_method_name(enum sipcx_method method)
{
	if ((unsigned)method >= SIPCX_METHOD__COUNT)
		return "";
	return method_names[method];
}

/* RFC 3261 21 and the extensions a phone meets (RFC 3262, 3265, 3329, 4028, 4412, 5360, 6665, 8197, 8688). */
const char *sipcx_msg_reason_phrase(uint16_t status)
{
	switch (status) {
	case 100:
		return "Trying";
	case 180:
		return "Ringing";
	case 181:
		return "Call Is Being Forwarded";
	case 182:
		return "Queued";
	case 183:
		return "Session Progress";
	case 199:
		return "Early Dialog Terminated";
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 204:
		return "No Notification";
	case 300:
		return "Multiple Choices";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Moved Temporarily";
	case 305:
		return "Use Proxy";
	case 380:
		return "Alternative Service";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 402:
		return "Payment Required";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 407:
		return "Proxy Authentication Required";
	case 408:
		return "Request Timeout";
	case 410:
		return "Gone";
	case 412:
		return "Conditional Request Failed";
	case 413:
		return "Request Entity Too Large";
	case 414:
		return "Request-URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 416:
		return "Unsupported URI Scheme";
	case 417:
		return "Unknown Resource-Priority";
	case 420:
		return "Bad Extension";
	case 421:
		return "Extension Required";
	case 422:
		return "Session Interval Too Small";
	case 423:
		return "Interval Too Brief";
	case 428:
		return "Use Identity Header";
	case 429:
		return "Provide Referrer Identity";
	case 433:
		return "Anonymity Disallowed";
	case 436:
		return "Bad Identity Info";
	case 437:
		return "Unsupported Credential";
	case 438:
		return "Invalid Identity Header";
	case 439:
		return "First Hop Lacks Outbound Support";
	case 440:
		return "Max-Breadth Exceeded";
	case 469:
		return "Bad Info Package";
	case 470:
		return "Consent Needed";
	case 480:
		return "Temporarily Unavailable";
	case 481:
		return "Call/Transaction Does Not Exist";
	case 482:
		return "Loop Detected";
	case 483:
		return "Too Many Hops";
	case 484:
		return "Address Incomplete";
	case 485:
		return "Ambiguous";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 488:
		return "Not Acceptable Here";
	case 489:
		return "Bad Event";
	case 491:
		return "Request Pending";
	case 493:
		return "Undecipherable";
	case 494:
		return "Security Agreement Required";
	case 500:
		return "Server Internal Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Server Time-out";
	case 505:
		return "Version Not Supported";
	case 513:
		return "Message Too Large";
	case 555:
		return "Push Notification Service Not Supported";
	case 580:
		return "Precondition Failure";
	case 600:
		return "Busy Everywhere";
	case 603:
		return "Decline";
	case 604:
		return "Does Not Exist Anywhere";
	case 606:
		return "Not Acceptable";
	case 607:
		return "Unwanted";
	case 608:
		return "Rejected";
	}
	return "";
}

/*
 * The header index.
 */

const struct sipcx_hdr *sipcx_msg_hdr(const struct sipcx_msg *m, enum sipcx_hdr_id id)
{
	if (!m || id <= SIPCX_HDR_OTHER || id >= SIPCX_HDR__COUNT || !sipcx__mc(m)->first[id])
		return NULL;
	return &m->hdrs[sipcx__mc(m)->first[id] - 1];
}

const struct sipcx_hdr *sipcx_msg_hdr_next(const struct sipcx_msg *m, const struct sipcx_hdr *prev)
{
	if (!m || !prev || prev < m->hdrs || prev >= m->hdrs + m->hdr_count)
		return NULL;
	/* A single header line of an id needs no scan. */
	if (prev->id != SIPCX_HDR_OTHER && sipcx__mc(m)->count[prev->id] < 2)
		return NULL;
	for (const struct sipcx_hdr *h = prev + 1; h < m->hdrs + m->hdr_count; h++) {
		if (h->id != prev->id)
			continue;
		if (h->id != SIPCX_HDR_OTHER || sipcx_str_ieq(h->name, prev->name))
			return h;
	}
	return NULL;
}

const struct sipcx_hdr *sipcx_msg_hdr_by_name(const struct sipcx_msg *m, const char *name)
{
	if (!m || !name)
		return NULL;
	struct sipcx_str n = sipcx_str_c(name);
	enum sipcx_hdr_id id = sipcx_hdr_lookup(n.p, n.len);
	if (id != SIPCX_HDR_OTHER)
		return sipcx_msg_hdr(m, id);
	for (size_t i = 0; i < m->hdr_count; i++)
		if (m->hdrs[i].id == SIPCX_HDR_OTHER && sipcx_str_ieq(m->hdrs[i].name, n))
			return &m->hdrs[i];
	return NULL;
}

unsigned sipcx_msg_hdr_count(const struct sipcx_msg *m, enum sipcx_hdr_id id)
{
	if (!m || id <= SIPCX_HDR_OTHER || id >= SIPCX_HDR__COUNT)
		return 0;
	return sipcx__mc(m)->count[id];
}

int sipcx_msg_value_next(const struct sipcx_msg *m, enum sipcx_hdr_id id, struct sipcx_msg_iter *it,
                         struct sipcx_str *value)
{
	if (!m || !it || !value)
		return -EINVAL;
	for (;;) {
		if (it->rest.p) {
			int r = sipcx_hdr_split(&it->rest, value);
			if (r != 0) {
				if (r < 0) {
					/* Stop here: the next call says 0, so a loop until 0 ends. */
					it->idx = m->hdr_count + 1;
					it->rest = SIPCX_STR_NULL;
				}
				return r;
			}
			it->rest = SIPCX_STR_NULL;
		}
		/* it->idx is 1 + the index of the next header line to look at; 0 before the first. */
		const struct sipcx_hdr *h = NULL;
		bool known = id > SIPCX_HDR_OTHER && id < SIPCX_HDR__COUNT;
		if (it->idx == 0) {
			if (known && sipcx__mc(m)->first[id])
				h = &m->hdrs[sipcx__mc(m)->first[id] - 1];
		} else if (!known || sipcx__mc(m)->count[id] > 1) {
			/* A single line of an id needs no scan for the next one. */
			for (size_t i = it->idx; i < m->hdr_count; i++)
				if (m->hdrs[i].id == id) {
					h = &m->hdrs[i];
					break;
				}
		}
		if (!h) {
			it->idx = m->hdr_count + 1;
			return 0;
		}
		it->idx = (size_t)(h - m->hdrs) + 1;
		it->rest = h->value;
		if (!it->rest.p)
			it->rest.p = "";
	}
}

int sipcx_msg_contact_next(const struct sipcx_msg *m, struct sipcx_msg_iter *it,
                           struct sipcx_addr *out)
{
	if (m && it && it->idx == 0 && !it->rest.p) {
		/* The first value is the one sipcx_msg_contact() parsed: take it from the cache. */
		const struct sipcx_addr *c = sipcx_msg_contact(m);
		if (sipcx__mc(m)->contact_r == 1) {
			*it = sipcx__mc(m)->contact_it;
			if (!out)
				return -EINVAL;
			if (!c)
				return -EBADMSG;
			*out = *c;
			return 1;
		}
	}
	struct sipcx_str v;
	int r = sipcx_msg_value_next(m, SIPCX_HDR_CONTACT, it, &v);
	if (r <= 0)
		return r;
	if (!out)
		return -EINVAL;
	return sipcx_addr_parse(out, v) == 0 ? 1 : -EBADMSG;
}
