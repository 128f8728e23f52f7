/* Fuzz target: RTP parse/build, RTCP compound iteration and packet parsers, RFC 4733 events, A.1 statistics. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/rtp.h>

/* Say which property broke before aborting, so a replayed crash explains itself. */
#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz_rtp.c:%d: CHECK(%s) failed\n", __LINE__, #cond); \
			abort();                                                               \
		}                                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[70000];

/* A parsed packet rebuilt and parsed again gives the same packet. */
static void rtp_round_trip(const struct sipcx_rtp_pkt *pkt)
{
	int n = sipcx_rtp_build(pkt, out, sizeof(out));
	CHECK(n > 0);
	struct sipcx_rtp_pkt again;
	CHECK(sipcx_rtp_parse(&again, out, (size_t)n) == 0);
	CHECK(again.marker == pkt->marker && again.pt == pkt->pt && again.seq == pkt->seq);
	CHECK(again.ts == pkt->ts && again.ssrc == pkt->ssrc && again.cc == pkt->cc);
	CHECK(memcmp(again.csrc, pkt->csrc, sizeof(again.csrc)) == 0);
	CHECK(again.ext == pkt->ext && again.ext_len == pkt->ext_len);
	CHECK(again.payload_len == pkt->payload_len && again.pad_len == pkt->pad_len);
	CHECK(again.payload_len == 0 || memcmp(again.payload, pkt->payload, pkt->payload_len) == 0);
	CHECK(again.ext_len == 0 || memcmp(again.ext_data, pkt->ext_data, pkt->ext_len) == 0);
}

static void rtcp(const uint8_t *data, size_t size, unsigned flags, struct sipcx_rtp_sender *tx)
{
	struct sipcx_rtcp_iter it;
	struct sipcx_rtcp_pkt pkt;
	struct sipcx_rtcp_report r;
	struct sipcx_rtcp_sdes sdes;
	struct sipcx_rtcp_sdes_item item;
	struct sipcx_rtcp_bye bye;
	struct sipcx_rtcp_app app;
	struct sipcx_rtcp_writer w;
	size_t total = 0;
	int rc;

	sipcx_rtcp_iter_init(&it, data, size, flags);
	while ((rc = sipcx_rtcp_iter_next(&it, &pkt)) > 0) {
		CHECK(pkt.data >= data && pkt.data + pkt.len <= data + size);
		CHECK(pkt.body_len + 4 + pkt.pad_len == pkt.len);
		total += pkt.len;
		if (sipcx_rtcp_report_parse(&pkt, &r) == 0) {
			CHECK(r.rc == pkt.count);
			for (unsigned i = 0; i < r.rc; i++)
				sipcx_rtp_sender_rb(tx, &r.rb[i], 1699423538000000ull + i);
			/* rebuilt without the extension, it parses back to the same blocks */
			sipcx_rtcp_writer_init(&w, out, sizeof(out));
			sipcx_rtcp_write_report(&w, r.ssrc, r.is_sr ? &r.si : NULL, r.rb, r.rc);
			/* padded alone: lenient only, as A.2 wants P clear on a first packet */
			int n = sipcx_rtcp_writer_finish(&w, 16);
			CHECK(n > 0 && n % 16 == 0);
			CHECK(sipcx_rtcp_validate(out, (size_t)n, 0) == 1);
			struct sipcx_rtcp_iter it2;
			struct sipcx_rtcp_pkt p2;
			struct sipcx_rtcp_report r2;
			sipcx_rtcp_iter_init(&it2, out, (size_t)n, 0);
			CHECK(sipcx_rtcp_iter_next(&it2, &p2) == 1);
			CHECK(sipcx_rtcp_report_parse(&p2, &r2) == 0);
			CHECK(r2.rc == r.rc && r2.ssrc == r.ssrc && r2.si.ntp == r.si.ntp);
			CHECK(memcmp(r2.rb, r.rb, sizeof(r.rb[0]) * r.rc) == 0);
		}
		if (sipcx_rtcp_sdes_parse(&pkt, &sdes) == 0) {
			unsigned items = 0;
			while (sipcx_rtcp_sdes_next(&sdes, &item) > 0) {
				CHECK((const uint8_t *)item.text.p >= pkt.body);
				CHECK((const uint8_t *)item.text.p + item.text.len <=
				      pkt.body + pkt.body_len);
				if (item.type == SIPCX_SDES_CNAME) {
					sipcx_rtcp_writer_init(&w, out, sizeof(out));
					CHECK(sipcx_rtcp_write_cname(&w, item.ssrc, item.text) ==
					      0);
					CHECK(sipcx_rtcp_writer_finish(&w, 0) > 0);
				}
				items++;
			}
			CHECK(items <= pkt.body_len / 2);
		}
		if (sipcx_rtcp_bye_parse(&pkt, &bye) == 0 && bye.sc > 0) {
			sipcx_rtcp_writer_init(&w, out, sizeof(out));
			CHECK(sipcx_rtcp_write_bye(&w, bye.ssrc, bye.sc, bye.reason) == 0);
			int n = sipcx_rtcp_writer_finish(&w, 0);
			CHECK(n > 0 && sipcx_rtcp_validate(out, (size_t)n, 0) == 1);
		}
		if (sipcx_rtcp_app_parse(&pkt, &app) == 0)
			CHECK(app.len + 8 == pkt.body_len);
	}
	if (rc == 0)
		CHECK(total == size);
	char text[64];
	sipcx_rtcp_snprint(text, sizeof(text), data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipcx_rtp_pkt pkt;
	if (sipcx_rtp_parse(&pkt, data, size) == 0) {
		CHECK(pkt.payload + pkt.payload_len + pkt.pad_len == data + size);
		rtp_round_trip(&pkt);
		char line[96];
		sipcx_rtp_snprint(line, sizeof(line), &pkt);
	}
	(void)sipcx_rtp_is_rtcp(data, size);

	struct sipcx_rtp_sender tx;
	sipcx_rtp_sender_init(&tx, size >= 12 ? (uint32_t)data[8] << 24 | data[11] : 0, 8000);
	rtcp(data, size, 0, &tx);
	rtcp(data, size, SIPCX_RTCP_STRICT, &tx);

	/* RFC 4733: every 4-byte word is an event, fed to a receiver */
	struct sipcx_rtp_event_rx rx;
	sipcx_rtp_event_rx_init(&rx);
	for (size_t off = 0; off + 4 <= size; off += 4) {
		struct sipcx_rtp_event ev;
		CHECK(sipcx_rtp_event_parse(&ev, data + off, size - off) == 0);
		int f = sipcx_rtp_event_rx_input(&rx, (uint32_t)off / 8, &ev);
		CHECK(f >= 0 && f <= (SIPCX_RTP_EVENT_BEGIN | SIPCX_RTP_EVENT_END));
		uint8_t b[4];
		if (ev.volume <= 63)
			CHECK(sipcx_rtp_event_build(&ev, b, 4) == 4);
	}

	/* statistics: 8-byte records of seq, ts, arrival delta */
	struct sipcx_rtp_source src;
	struct sipcx_rtcp_rb rb;
	sipcx_rtp_source_init(&src, 1);
	uint32_t arrival = 0;
	for (size_t off = 0; off + 8 <= size; off += 8) {
		const uint8_t *p = data + off;
		uint16_t seq = (uint16_t)(p[0] << 8 | p[1]);
		uint32_t ts =
		    (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 8 | p[5];
		arrival += (uint32_t)(p[6] << 8 | p[7]);
		enum sipcx_rtp_seq r = sipcx_rtp_source_update(&src, seq, ts, arrival, p[7]);
		CHECK(r <= SIPCX_RTP_SEQ_BAD);
		if (p[6] == 0xff) {
			struct sipcx_rtcp_sender_info si = { (uint64_t)ts << 32 | seq, ts, 0, 0 };
			sipcx_rtp_source_sr(&src, &si, off);
		}
		if ((off / 8) % 5 == 4) {
			sipcx_rtp_source_report(&src, off * 1000, &rb);
			CHECK(rb.lost >= -0x800000 && rb.lost <= 0x7fffff);
		}
	}
	(void)sipcx_rtp_source_lost(&src);
	sipcx_rtp_source_report(&src, size, &rb);
	return 0;
}
