/* Fuzz target: the SIP INFO DTMF body reader (application/dtmf-relay, application/dtmf). The first byte picks the content type; the rest is the body. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sipcx/rtp.h>

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "fuzz_dtmf_info.c:%d: CHECK(%s) failed\n", __LINE__, \
			        #cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *types[] = { "application/dtmf-relay", "application/dtmf",
		                       "Application/DTMF-Relay;x=1", "text/plain" };
	if (size == 0)
		return 0;
	struct sipcx_str ct = sipcx_str_c(types[data[0] % 4]);
	struct sipcx_str body = { (const char *)data + 1, size - 1 };
	char d = 0;
	unsigned ms = 0;
	int r = sipcx_dtmf_info_parse(ct, body, &d, &ms);
	CHECK(r == 0 || r == -ENOENT);
	if (r == 0) {
		CHECK(sipcx_rtp_event_from_char(d) >= 0);
		CHECK(d < 'a' || d > 'z'); /* letters come out upper case */
		CHECK(ms <= 100000);
	}
	return 0;
}
