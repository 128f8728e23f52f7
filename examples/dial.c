/*
 * Call a URI, stay in the call until the other side hangs up (at most
 * SECONDS, 10 by default), then hang up: sipgox's Dial in C.
 *   example_dial sip:bob@127.0.0.1:5060 [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>

#include <sipcx/sipcx.h>

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s URI [SECONDS]\n", argv[0]);
		return 2;
	}
	struct sipcx_ua *ua;
	struct sipcx_phone *phone;
	if (sipcx_ua_new(&ua, NULL) || sipcx_phone_new(&phone, ua, NULL))
		return 1;

	struct sipcx_ctx *ctx = sipcx_ctx_timeout(NULL, 30000); /* give up ringing after 30 s */
	struct sipcx_call *call;
	struct sipcx_call_info info;
	int err = sipcx_phone_dial(phone, ctx, argv[1], &(struct sipcx_dial_opts){ .info = &info },
	                           &call); /* blocks until answered */
	if (err == 0) {
		printf("answered: %u %s, %s\n", info.status, info.reason, info.codec);
		fflush(stdout);
		struct sipcx_ctx *talk =
		    sipcx_ctx_timeout(NULL, argc == 3 ? atoi(argv[2]) * 1000u : 10000);
		sipcx_call_wait(call, talk);   /* the dialog's Done(), or 10 s */
		sipcx_call_hangup(call, NULL); /* BYE (nothing when the other side hung up) */
		sipcx_call_info(call, &info);
		printf("ended by %s\n", sipcx_call_end_name(info.ended_by));
		sipcx_ctx_free(talk);
		sipcx_call_free(call);
	} else {
		printf("not answered: %s (%u %s)\n", sipcx_strerror(err), info.status, info.reason);
	}
	sipcx_ctx_free(ctx);
	sipcx_phone_free(phone);
	sipcx_ua_free(ua);
	return err ? 1 : 0;
}
