/*
 * Register an account, stay registered (refreshing at half the granted
 * expiry) until Ctrl-C, then unregister with Expires: 0.
 *   example_register sip:127.0.0.1:5060 alice alicepw
 */
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
	if (argc != 4) {
		fprintf(stderr, "usage: %s REGISTRAR-URI USER PASSWORD\n", argv[0]);
		return 2;
	}
	struct sipcx_ua *ua;
	struct sipcx_phone *phone;
	int err = sipcx_ua_new(&ua, &(struct sipcx_ua_opts){ .listen = "udp:127.0.0.1:0" });
	if (err || (err = sipcx_phone_new(&phone, ua, NULL)) != 0) {
		fprintf(stderr, "start: %s\n", sipcx_strerror(err));
		return 1;
	}
	struct sipcx_reg *reg;
	struct sipcx_reg_info info;
	struct sipcx_ctx *ctx = sipcx_ctx_timeout(NULL, 10000);
	err = sipcx_phone_register(
	    phone, ctx,
	    &(struct sipcx_reg_opts){
	        .registrar = argv[1], .username = argv[2], .password = argv[3], .expires_s = 1800 },
	    &reg, &info);
	sipcx_ctx_free(ctx);
	if (err == 0) {
		printf("registered: %s for %u s\n", info.contact, info.expires_s);
		fflush(stdout);
		stop = sipcx_ctx_timeout(NULL, 0); /* 0: no deadline, only cancel */
		signal(SIGINT, on_signal);
		sipcx_ctx_wait(stop);
		sipcx_phone_unregister(phone, NULL, reg,
		                       NULL); /* REGISTER Expires: 0, bounded wait */
		sipcx_ctx_free(stop);
	} else {
		fprintf(stderr, "register: %s (%u %s)\n", sipcx_strerror(err), info.status,
		        info.reason);
	}
	sipcx_phone_free(phone);
	sipcx_ua_free(ua);
	return err ? 1 : 0;
}
