/*
 * echome: answer calls and send every RTP packet back, read and written
 * from this thread (sipgox's ReadRTP/WriteRTP), until Ctrl-C.
 *   example_echome udp:127.0.0.1:5070
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include <sipcx/sipcx.h>

static struct sipcx_ctx *stop;

static void on_signal(int sig)
{
	(void)sig;
	sipcx_ctx_cancel(stop); /* async-signal-safe */
}

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
	stop = sipcx_ctx_timeout(NULL, 0);
	signal(SIGINT, on_signal);
	printf("listening on %s\n", argv[1]);
	fflush(stdout);

	struct sipcx_answer_opts opts = { .media = { .io_queue = 64 } }; /* RTP to this thread */
	struct sipcx_call *call;
	while (sipcx_phone_answer(phone, stop, &opts, &call) == 0) {
		unsigned char pkt[1500];
		int n, echoed = 0;
		/* Each packet back as it came (-ECANCELED once the call is over). */
		while ((n = sipcx_call_read_rtp(call, pkt, sizeof(pkt), 1000)) != -ECANCELED)
			if (n > 0 && sipcx_call_write_rtp(call, pkt, (size_t)n, 100) == 0)
				echoed++;
		printf("call over: %d packets echoed\n", echoed);
		fflush(stdout);
		sipcx_call_free(call);
	}
	sipcx_phone_free(phone);
	sipcx_ua_free(ua);
	sipcx_ctx_free(stop);
	return 0;
}
