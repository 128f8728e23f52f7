/*
 * sipcx-client: a SIP phone configured from the environment. It registers
 * (REGISTER, 401, digest, 200; refreshed at half the expiry the registrar
 * grants), answers every incoming call (180, 200, ACK, echoes the RTP until
 * BYE), goes back to listening, and on SIGINT/SIGTERM hangs up, unregisters
 * (Expires: 0) and exits 0. Each step is logged as it happens.
 *
 *   SIP_SERVER    registrar: host[:port] or a sip: URI       (required)
 *   SIP_USERNAME  digest user and address-of-record user     (required)
 *   SIP_PASSWORD  digest password                            (required)
 *   SIP_LISTEN    local address, default 0.0.0.0:5060
 *   SIP_EXPIRY    registration expiry asked, seconds, default 1800
 *   SIP_RINGTIME  ring time before answering, default 30s (0: answer at once)
 *   SIP_TRANSPORT udp (default) or tcp
 *   SIP_DEBUG=1   every SIP message on stderr
 *   SIP_PCAP      write the SIP, RTP and RTCP sent and received to this pcap file
 *   SIP_HEP       copy every SIP message to a HEP3 collector: udp:HOST:PORT[;id=N][;password=P]
 *
 * Exit: 0 after a signal (graceful); 1 a missing or invalid variable (its
 * name on stderr), or the first registration failed.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sipcx/sipcx.h>

static struct sipcx_ctx *app; /* the application's context: SIGINT/SIGTERM cancel it */

/* What watches the wire: SIP_DEBUG, SIP_PCAP, SIP_HEP, all from one trace hook. */
static struct {
	bool debug;
	struct sipcx_pcap *pcap;
	struct sipcx_hep *hep;
} wire;

static void wire_close(void)
{
	sipcx_trace_set(NULL, NULL);
	sipcx_pcap_close(wire.pcap);
	sipcx_hep_close(wire.hep);
	wire.pcap = NULL;
	wire.hep = NULL;
}

static void on_wire(const struct sipcx_trace_event *ev, void *arg)
{
	(void)arg;
	if (wire.debug && ev->kind == SIPCX_TRACE_SIP)
		sipcx_trace_file(ev, stderr);
	if (wire.pcap)
		sipcx_pcap_write(wire.pcap, ev);
	if (wire.hep)
		sipcx_hep_trace(ev, wire.hep);
}

static void on_signal(int sig)
{
	(void)sig;
	sipcx_ctx_cancel(app); /* async-signal-safe */
}

/* One log line, with the wall-clock time: the steps of the flow as they happen. */
static void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void step(const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	printf("%02d:%02d:%02d.%03ld ", tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int missing(const char *name, const char *why)
{
	fprintf(stderr, "sipcx-client: %s %s\n", name, why);
	return 1;
}

/* A duration variable: "30", "30s", "500ms". */
static int env_ms(const char *name, const char *def, uint32_t *out)
{
	const char *v = getenv(name);
	if (!v || !*v)
		v = def;
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	double mult = 1000;
	if (!strcmp(end, "ms"))
		mult = 1;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	if (end == v || errno || !(d >= 0) || d * mult > 86400e3)
		return -EINVAL;
	*out = (uint32_t)(d * mult + 0.5);
	return 0;
}

static void on_reg(const struct sipcx_reg_info *in, void *arg)
{
	(void)arg;
	switch (in->state) {
	case SIPCX_REG_REGISTERED:
		if (in->refreshes)
			step("registration refreshed: expires %u s, next refresh in %u s",
			     in->expires_s, in->expires_s / 2);
		else
			step("registered %s: the registrar granted %u s, refresh every %u s",
			     in->contact, in->expires_s, in->expires_s / 2);
		break;
	case SIPCX_REG_FAILING:
		step("registration refresh failed (%u %s): retrying", in->status, in->reason);
		break;
	case SIPCX_REG_UNREGISTERING:
		step("REGISTER Expires: 0 (unregistering %s)", in->contact);
		break;
	case SIPCX_REG_UNREGISTERED:
		step("unregistered%s", in->err ? " (no answer from the registrar)" : "");
		break;
	default:
		break;
	}
}

static int on_call(struct sipcx_call *call, const struct sipcx_msg *req, void *arg)
{
	(void)call;
	(void)arg;
	const struct sipcx_addr *from = sipcx_msg_from(req);
	step("INVITE from %.*s: on_call, answering", from ? (int)from->raw.len : 0,
	     from ? from->raw.p : "");
	return SIPCX_CALL_ACCEPT;
}

static void on_event(struct sipcx_call *call, const struct sipcx_call_event *ev, void *arg)
{
	(void)arg;
	struct sipcx_call_info in;
	sipcx_call_info(call, &in);
	switch (ev->type) {
	case SIPCX_CALL_EV_RINGING:
		step("180 Ringing sent; media session ready on port %u", in.local_port);
		break;
	case SIPCX_CALL_EV_ANSWERED:
		step("200 OK sent (%s/%u, RTP to %s)", in.codec, in.clock, in.remote_media);
		break;
	case SIPCX_CALL_EV_ESTABLISHED:
		step("ACK received: call up, echoing RTP until BYE");
		break;
	default:
		break;
	}
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "sipcx-client: takes no arguments (configure it with SIP_SERVER, "
		                "SIP_USERNAME, SIP_PASSWORD...)\n");
		return 1;
	}
	step("reading the environment");
	const char *server = getenv("SIP_SERVER"), *user = getenv("SIP_USERNAME");
	const char *pass = getenv("SIP_PASSWORD"), *listen = getenv("SIP_LISTEN");
	const char *transport = getenv("SIP_TRANSPORT"), *expiry_s = getenv("SIP_EXPIRY");
	if (!server || !*server)
		return missing("SIP_SERVER", "is not set (the registrar: host[:port] or sip: URI)");
	if (!user || !*user)
		return missing("SIP_USERNAME", "is not set");
	if (!pass)
		return missing("SIP_PASSWORD", "is not set");
	if (!transport || !*transport)
		transport = "udp";
	enum sipcx_tp_proto proto = sipcx_tp_lookup(sipcx_str_c(transport));
	if (proto != SIPCX_TP_UDP && proto != SIPCX_TP_TCP) /* TLS: not in this client yet */
		return missing("SIP_TRANSPORT", "must be udp or tcp");
	uint32_t expiry = 1800, ringtime_ms;
	if (expiry_s && *expiry_s) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(expiry_s, &end, 10);
		if (*end || end == expiry_s || errno || v == 0 || v > 0x7fffffff ||
		    *expiry_s == '-')
			return missing("SIP_EXPIRY", "must be a number of seconds from 1");
		expiry = (uint32_t)v;
	}
	if (env_ms("SIP_RINGTIME", "30", &ringtime_ms))
		return missing("SIP_RINGTIME", "must be a duration (30, 30s, 500ms)");
	char registrar[512], listen_spec[160];
	snprintf(registrar, sizeof(registrar), "%s%s%s",
	         strncmp(server, "sip:", 4) && strncmp(server, "sips:", 5) ? "sip:" : "", server,
	         proto == SIPCX_TP_TCP && !strstr(server, "transport=") ? ";transport=tcp" : "");
	struct sipcx_uri ru;
	if (sipcx_uri_parse(&ru, sipcx_str_c(registrar)) != 0 || ru.scheme != SIPCX_URI_SIP)
		return missing("SIP_SERVER", "is not a host[:port] or sip: URI");
	snprintf(listen_spec, sizeof(listen_spec), "%s:%s", proto == SIPCX_TP_TCP ? "tcp" : "udp",
	         listen && *listen ? listen : "0.0.0.0:5060");
	step("SIP_SERVER=%s SIP_USERNAME=%s SIP_LISTEN=%s SIP_EXPIRY=%u SIP_RINGTIME=%.3fs "
	     "SIP_TRANSPORT=%s",
	     registrar, user, listen_spec, expiry, ringtime_ms / 1000.0, transport);
	const char *dbg = getenv("SIP_DEBUG"), *pcap = getenv("SIP_PCAP"), *hep = getenv("SIP_HEP");
	wire.debug = dbg && *dbg && strcmp(dbg, "0");
	if (pcap && *pcap && sipcx_pcap_open(pcap, &wire.pcap) != 0)
		return missing("SIP_PCAP", "cannot be written");
	if (hep && *hep && sipcx_hep_open(hep, &wire.hep) != 0) {
		sipcx_pcap_close(wire.pcap);
		return missing("SIP_HEP",
		               "is not udp:HOST:PORT[;id=N][;password=P] (or cannot be used)");
	}
	if (wire.debug || wire.pcap || wire.hep) {
		if (wire.pcap)
			sipcx_trace_set_kinds(SIPCX_TRACE_SIP | SIPCX_TRACE_RTP | SIPCX_TRACE_RTCP);
		sipcx_trace_set(on_wire, NULL);
	}

	struct sipcx_ua *ua = NULL;
	int err = sipcx_ua_new(&ua, &(struct sipcx_ua_opts){ .listen = listen_spec, .user = user });
	if (err) {
		fprintf(stderr, "sipcx-client: SIP_LISTEN %s: %s\n", listen_spec,
		        sipcx_strerror(err));
		wire_close();
		return 1;
	}
	struct sipcx_tp_addr bound;
	char where[SIPCX_ADDRSTRLEN + 8] = "";
	if (sipcx_ua_bound(ua, 0, &bound) == 0)
		sipcx_tp_addr_print(&bound, where, sizeof(where));
	step("user agent created, listening on %s", where);
	struct sipcx_phone *phone = NULL;
	if ((err = sipcx_phone_new(&phone, ua, NULL)) != 0 ||
	    (err = sipcx_ctx_new(&app, NULL, 0)) != 0) {
		fprintf(stderr, "sipcx-client: %s\n", sipcx_strerror(err));
		sipcx_phone_free(phone);
		sipcx_ua_free(ua);
		wire_close();
		return 1;
	}
	step("phone created; application context set (SIGINT/SIGTERM cancel it)");
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct sipcx_answer_opts ao = {
		.registrar = registrar,
		.username = user,
		.password = pass,
		.expiry_s = expiry,
		.reg_cb = on_reg,
		.ringtime_ms = ringtime_ms,
		.on_call = on_call,
		.media = { .handler = SIPCX_MEDIA_ECHO },
		.cb = on_event,
	};
	step("answer options: register at %s as %s, expiry %u s, ring time %.3f s", registrar, user,
	     expiry, ringtime_ms / 1000.0);
	int code = 0;
	unsigned calls = 0;
	struct sipcx_call *call = NULL;
	step("phone.Answer: REGISTER (401 -> digest -> 200), then waiting for INVITE");
	for (;;) {
		err = sipcx_phone_answer(phone, app, &ao, &call);
		if (err == -ECANCELED)
			break;
		if (err) {
			step("answer failed: %s", sipcx_strerror(err));
			code = 1;
			break;
		}
		calls++;
		struct sipcx_call_info in;
		sipcx_call_info(call, &in);
		step("call %u up with %s (Call-ID %s)", calls, in.remote_uri, in.call_id);
		err = sipcx_call_wait(call, app);
		if (err == -ECANCELED) {
			step("interrupted during the call: closing the dialog (BYE)");
			sipcx_call_hangup(call, "client shutting down");
		}
		struct sipcx_media_stats st;
		sipcx_call_info(call, &in);
		sipcx_call_stats(call, &st);
		step("call %u ended by %s%s%s after %.1f s: RTP received %llu, echoed %llu", calls,
		     sipcx_call_end_name(in.ended_by), in.end_reason[0] ? ", " : "", in.end_reason,
		     in.answered_us ? (double)(in.ended_us - in.answered_us) / 1e6 : 0.0,
		     (unsigned long long)st.rx_packets, (unsigned long long)st.tx_packets);
		sipcx_call_free(call);
		call = NULL;
		if (err == -ECANCELED)
			break;
		step("back to listening");
	}
	step("interrupted: cancelling the context, closing the phone");
	/* Unregister (Expires: 0), waiting for the registrar at most 5 s. */
	struct sipcx_ctx *bye = sipcx_ctx_timeout(NULL, 5000);
	sipcx_phone_close(phone, bye);
	sipcx_ctx_free(bye);
	sipcx_phone_free(phone);
	sipcx_ua_free(ua);
	sipcx_ctx_free(app);
	sipcx_trace_set(NULL, NULL);
	if (wire.pcap && sipcx_pcap_close(wire.pcap) != 0)
		step("SIP_PCAP %s: write failed", pcap);
	sipcx_hep_close(wire.hep);
	step("closed, %u call(s) answered; exit %d", calls, code);
	return code;
}
