/* Fuzz target: RTCP compound packets (RFC 3550 6.1, A.2): every packet within the datagram, each type's parser, and a rebuilt compound that parses back the same. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/rtp.h>

#define CHECK(cond)                                                                             \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "fuzz_rtcp.c:%d: CHECK(%s) failed\n", __LINE__, #cond); \
			abort();                                                                \
		}                                                                               \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[4096];

static void touch(const uint8_t *p, size_t n)
{
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < n; i++)
		sink ^= p[i];
	(void)sink;
}

/* Walk the compound; returns the packet count, or -1 when it is malformed. */
static int walk(const uint8_t *data, size_t size, unsigned flags, struct sipcx_rtcp_report *first)
{
	struct sipcx_rtcp_iter it;
	struct sipcx_rtcp_pkt pkt;
	size_t covered = 0;
	int n = 0, r;
	sipcx_rtcp_iter_init(&it, data, size, flags);
	while ((r = sipcx_rtcp_iter_next(&it, &pkt)) == 1) {
		/* Every packet lies inside the datagram, one after the other, whole. */
		CHECK(pkt.data == data + covered);
		CHECK(pkt.len >= 4 && pkt.len % 4 == 0 && covered + pkt.len <= size);
		CHECK(pkt.body == pkt.data + 4 && pkt.body_len + 4 + pkt.pad_len == pkt.len);
		touch(pkt.data, pkt.len);
		covered += pkt.len;
		struct sipcx_rtcp_report rep;
		struct sipcx_rtcp_sdes sdes;
		struct sipcx_rtcp_sdes_item item;
		struct sipcx_rtcp_bye bye;
		struct sipcx_rtcp_app app;
		if (sipcx_rtcp_report_parse(&pkt, &rep) == 0) {
			CHECK(rep.rc == pkt.count);
			CHECK(!rep.ext_len || rep.ext + rep.ext_len <= pkt.body + pkt.body_len);
			if (n == 0 && first)
				*first = rep;
		}
		if (sipcx_rtcp_sdes_parse(&pkt, &sdes) == 0) {
			for (int k = 0; k < 4096 && sipcx_rtcp_sdes_next(&sdes, &item) == 1; k++) {
				CHECK(item.text.len <= 255);
				CHECK((const uint8_t *)item.text.p >= pkt.body &&
				      (const uint8_t *)item.text.p + item.text.len <=
				          pkt.body + pkt.body_len);
			}
		}
		if (sipcx_rtcp_bye_parse(&pkt, &bye) == 0 && bye.has_reason)
			CHECK((const uint8_t *)bye.reason.p + bye.reason.len <= pkt.data + pkt.len);
		if (sipcx_rtcp_app_parse(&pkt, &app) == 0)
			touch(app.data, app.len);
		n++;
	}
	if (r < 0)
		return -1;
	/* A compound that iterates clean covers the datagram exactly. */
	CHECK(covered == size);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipcx_rtcp_report first;
	memset(&first, 0, sizeof(first));
	int loose = walk(data, size, 0, &first);
	int strict = walk(data, size, SIPCX_RTCP_STRICT, NULL);
	/* validate() agrees with the iterator; strict accepts no more than loose. */
	CHECK(sipcx_rtcp_validate(data, size, 0) == (loose > 0 ? loose : -EBADMSG));
	CHECK(strict < 0 || strict == loose);
	char text[256];
	int tl = sipcx_rtcp_snprint(text, sizeof(text), data, size);
	CHECK(tl >= 0);
	CHECK(memchr(text, '\0', sizeof(text)) != NULL);
	if (loose <= 0 || !first.ssrc)
		return 0;
	/* The first report, written again, parses back to the same blocks. */
	struct sipcx_rtcp_writer w;
	sipcx_rtcp_writer_init(&w, out, sizeof(out));
	sipcx_rtcp_write_report(&w, first.ssrc, first.is_sr ? &first.si : NULL, first.rb, first.rc);
	int n = sipcx_rtcp_writer_finish(&w, 0);
	CHECK(n > 0);
	struct sipcx_rtcp_report again;
	struct sipcx_rtcp_iter it;
	struct sipcx_rtcp_pkt pkt;
	sipcx_rtcp_iter_init(&it, out, (size_t)n, SIPCX_RTCP_STRICT);
	CHECK(sipcx_rtcp_iter_next(&it, &pkt) == 1);
	CHECK(sipcx_rtcp_report_parse(&pkt, &again) == 0);
	CHECK(again.ssrc == first.ssrc && again.is_sr == first.is_sr && again.rc == first.rc);
	for (unsigned i = 0; i < first.rc; i++) {
		CHECK(again.rb[i].ssrc == first.rb[i].ssrc);
		CHECK(again.rb[i].lost == first.rb[i].lost);
		CHECK(again.rb[i].ext_seq == first.rb[i].ext_seq);
	}
	return 0;
}
