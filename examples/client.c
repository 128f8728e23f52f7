/*
 * The seed's client in short: register (digest, refreshed at half the
 * granted expiry), answer every call after a ring, echo its RTP until BYE,
 * and at Ctrl-C unregister (Expires: 0) and exit. sipcx-client is the full one.
 *   SIP_SERVER=127.0.0.1:5060 SIP_USERNAME=alice SIP_PASSWORD=secret example_client
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <sipcx/sipcx.h>

static struct sipcx_ctx *app;

static void on_signal(int sig)
{
	(void)sig;
	sipcx_ctx_cancel(app); /* async-signal-safe */
}

int main(void)
{
	const char *server = getenv("SIP_SERVER"), *user = getenv("SIP_USERNAME");
	const char *pass = getenv("SIP_PASSWORD");
	if (!server || !user || !pass) {
		fprintf(stderr, "example_client: set SIP_SERVER, SIP_USERNAME and SIP_PASSWORD\n");
		return 1;
	}
	char registrar[256];
	snprintf(registrar, sizeof(registrar), "sip:%s", server);
	struct sipcx_ua *ua;
	struct sipcx_phone *phone;
	if (sipcx_ua_new(&ua,
	                 &(struct sipcx_ua_opts){ .listen = "udp:127.0.0.1:0", .user = user }) ||
	    sipcx_phone_new(&phone, ua, NULL))
		return 1;
	app = sipcx_ctx_timeout(NULL, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	struct sipcx_answer_opts opts = {
		.registrar = registrar,
		.username = user,
		.password = pass,
		.expiry_s = 1800,
		.ringtime_ms = 1000,
		.media = { .handler = SIPCX_MEDIA_ECHO },
	};
	struct sipcx_call *call;
	/* The first answer registers (401, digest, 200); each returns a call that is up. */
	while (sipcx_phone_answer(phone, app, &opts, &call) == 0) {
		printf("call up\n");
		fflush(stdout);
		if (sipcx_call_wait(call, app) != 0) /* until BYE, or Ctrl-C */
			sipcx_call_hangup(call, NULL);
		printf("call over\n");
		fflush(stdout);
		sipcx_call_free(call);
	}
	sipcx_phone_close(phone, NULL); /* REGISTER Expires: 0 */
	sipcx_phone_free(phone);
	sipcx_ua_free(ua);
	sipcx_ctx_free(app);
	return 0;
}
