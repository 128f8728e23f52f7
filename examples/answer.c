/*
 * Answer one call after ringing a second, and wait until it ends: sipgox's
 * Answer in C.
 *   example_answer udp:127.0.0.1:5070
 */
#include <stdio.h>

#include <sipcx/sipcx.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s LISTEN (udp:127.0.0.1:5070)\n", argv[0]);
		return 2;
	}
	struct sipcx_ua *ua;
	struct sipcx_phone *phone;
	if (sipcx_ua_new(&ua, &(struct sipcx_ua_opts){ .listen = argv[1] }) ||
	    sipcx_phone_new(&phone, ua, NULL))
		return 1;
	printf("listening on %s\n", argv[1]);
	fflush(stdout);

	struct sipcx_ctx *ctx = sipcx_ctx_timeout(NULL, 60000);
	struct sipcx_call *call;
	int err = sipcx_phone_answer(phone, ctx, &(struct sipcx_answer_opts){ .ringtime_ms = 1000 },
	                             &call); /* 180, then 200 after 1 s; returns at the ACK */
	if (err == 0) {
		struct sipcx_call_info info;
		sipcx_call_info(call, &info);
		printf("answered %s\n", info.remote_uri);
		fflush(stdout);
		sipcx_call_wait(call, ctx); /* until BYE */
		sipcx_call_info(call, &info);
		printf("ended by %s\n", sipcx_call_end_name(info.ended_by));
		sipcx_call_free(call);
	} else {
		printf("no call: %s\n", sipcx_strerror(err));
	}
	sipcx_ctx_free(ctx);
	sipcx_phone_free(phone);
	sipcx_ua_free(ua);
	return err ? 1 : 0;
}
