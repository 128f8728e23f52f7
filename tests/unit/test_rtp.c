/* Unit tests of the RTP layer: RFC 3550 packets, RTCP compounds, A.1/A.3/A.8 statistics, RFC 4733 events. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <sipcx/rtp.h>

/* --- helpers --- */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Load tests/data/rtp/<name>: hex bytes, '#' starts a comment. */
static size_t load_hex(const char *name, uint8_t *out, size_t cap)
{
	char path[256];
	snprintf(path, sizeof(path), "rtp/%s", name);
	size_t len = 0;
	char *text = tu_read_file(tu_data_path(path), &len);
	assert_non_null(text);
	size_t n = 0;
	int nib = -1;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '#') {
			while (i < len && text[i] != '\n')
				i++;
			continue;
		}
		int v = (c >= '0' && c <= '9')   ? c - '0'
		        : (c >= 'a' && c <= 'f') ? c - 'a' + 10
		        : (c >= 'A' && c <= 'F') ? c - 'A' + 10
		                                 : -1;
		if (v < 0)
			continue;
		if (nib < 0) {
			nib = v;
		} else {
			assert_true(n < cap);
			out[n++] = (uint8_t)(nib << 4 | v);
			nib = -1;
		}
	}
	assert_int_equal(nib, -1);
	free(text);
	return n;
}

/* An exact-size heap copy, so ASan sees a read one past the end. */
static uint8_t *exact(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	assert_non_null(c);
	if (n)
		memcpy(c, p, n);
	return c;
}

static int parse_exact(struct sipcx_rtp_pkt *pkt, const uint8_t *p, size_t n)
{
	uint8_t *c = exact(p, n);
	int rc = sipcx_rtp_parse(pkt, c, n);
	free(c);
	return rc;
}

/* ------------------------------------------------------------ RTP -- */

static void test_rtp_parse_plain(void **state)
{
	(void)state;
	uint8_t b[64];
	size_t n = load_hex("rtp_pcmu.hex", b, sizeof(b));
	assert_int_equal(n, 18);
	struct sipcx_rtp_pkt pkt;
	assert_int_equal(sipcx_rtp_parse(&pkt, b, n), 0);
	assert_false(pkt.marker);
	assert_int_equal(pkt.pt, 0);
	assert_int_equal(pkt.seq, 7);
	assert_int_equal(pkt.ts, 160);
	assert_int_equal(pkt.ssrc, 0x12345678);
	assert_int_equal(pkt.cc, 0);
	assert_false(pkt.ext);
	assert_int_equal(pkt.pad_len, 0);
	assert_ptr_equal(pkt.payload, b + 12);
	assert_int_equal(pkt.payload_len, 6);
	assert_memory_equal(pkt.payload, "\xff\xff\x7f\x7f\xd5\xd5", 6);

	uint8_t out[64];
	assert_int_equal(sipcx_rtp_build(&pkt, out, sizeof(out)), 18);
	assert_memory_equal(out, b, 18);
	assert_false(sipcx_rtp_is_rtcp(b, n));

	char line[128];
	int len = sipcx_rtp_snprint(line, sizeof(line), &pkt);
	assert_string_equal(line, "RTP pt=0 seq=7 ts=160 ssrc=0x12345678 len=6");
	assert_int_equal(len, (int)strlen(line));
}

static void test_rtp_parse_all_options(void **state)
{
	(void)state;
	uint8_t b[64];
	size_t n = load_hex("rtp_ext_pad.hex", b, sizeof(b));
	assert_int_equal(n, 35);
	struct sipcx_rtp_pkt pkt;
	assert_int_equal(parse_exact(&pkt, b, n), 0);
	assert_int_equal(sipcx_rtp_parse(&pkt, b, n), 0);
	assert_true(pkt.marker);
	assert_int_equal(pkt.pt, 101);
	assert_int_equal(pkt.seq, 65535);
	assert_int_equal(pkt.ts, 0xdeadbeef);
	assert_int_equal(pkt.ssrc, 0xcafebabe);
	assert_int_equal(pkt.cc, 2);
	assert_int_equal(pkt.csrc[0], 0x11111111);
	assert_int_equal(pkt.csrc[1], 0x22222222);
	assert_true(pkt.ext);
	assert_int_equal(pkt.ext_profile, 0xbede);
	assert_ptr_equal(pkt.ext_data, b + 24);
	assert_int_equal(pkt.ext_len, 4);
	assert_ptr_equal(pkt.payload, b + 28);
	assert_int_equal(pkt.payload_len, 4);
	assert_int_equal(pkt.pad_len, 3);
	assert_int_equal(sipcx_rtp_hdr_size(&pkt), 28);

	/* the builder gives the same bytes back, padding included */
	uint8_t out[64];
	memset(out, 0xee, sizeof(out));
	assert_int_equal(sipcx_rtp_build(&pkt, out, sizeof(out)), 35);
	assert_memory_equal(out, b, 35);
	assert_int_equal(sipcx_rtp_build(&pkt, out, 34), -ENOSPC);

	/* the payload is an RFC 4733 event */
	struct sipcx_rtp_event ev;
	assert_int_equal(sipcx_rtp_event_parse(&ev, pkt.payload, pkt.payload_len), 0);
	assert_int_equal(ev.event, 5);
	assert_int_equal(ev.volume, 10);
	assert_int_equal(ev.duration, 160);
	assert_false(ev.end);

	/* every truncation is rejected: the padding count never fits a cut packet */
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(parse_exact(&pkt, b, cut), -EBADMSG);
}

static void test_rtp_malformed(void **state)
{
	(void)state;
	struct sipcx_rtp_pkt pkt;
	uint8_t b[64];
	size_t n = load_hex("rtp_ext_pad.hex", b, sizeof(b));
	uint8_t m[64];

	/* versions 0, 1, 3 */
	for (unsigned v = 0; v < 4; v++) {
		memcpy(m, b, n);
		m[0] = (uint8_t)((m[0] & 0x3f) | v << 6);
		assert_int_equal(parse_exact(&pkt, m, n), v == 2 ? 0 : -EBADMSG);
	}
	/* CSRC count larger than the packet: 15 CSRCs need 72 bytes */
	memcpy(m, b, n);
	m[0] = (m[0] & 0xf0) | 15;
	assert_int_equal(parse_exact(&pkt, m, n), -EBADMSG);
	/* a 12-byte header claiming one CSRC */
	static const uint8_t one_csrc[] = { 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	assert_int_equal(parse_exact(&pkt, one_csrc, sizeof(one_csrc)), -EBADMSG);
	/* X set but no room for the extension header */
	static const uint8_t x_short[] = { 0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde };
	assert_int_equal(parse_exact(&pkt, x_short, sizeof(x_short)), -EBADMSG);
	/* extension length word of 3 words but only 2 words follow (padding not counted) */
	memcpy(m, b, n);
	m[23] = 3;
	m[0] &= (uint8_t)~0x20; /* P off, so only the extension length can fail */
	assert_int_equal(parse_exact(&pkt, m, n), -EBADMSG);
	m[23] = 2; /* 8 bytes: ends exactly at the packet end, empty payload */
	assert_int_equal(parse_exact(&pkt, m, 32), 0);
	assert_int_equal(pkt.ext_len, 8);
	assert_int_equal(pkt.payload_len, 0);
	/* extension length 0xffff */
	m[22] = 0xff;
	m[23] = 0xff;
	assert_int_equal(parse_exact(&pkt, m, n), -EBADMSG);
	/* padding count 0 */
	memcpy(m, b, n);
	m[n - 1] = 0;
	assert_int_equal(parse_exact(&pkt, m, n), -EBADMSG);
	/* padding count reaching into the extension: payload 4 + padding 3 = 7 after the header */
	m[n - 1] = 8;
	assert_int_equal(parse_exact(&pkt, m, n), -EBADMSG);
	/* padding eating the whole payload is accepted (padding-only probe packets) */
	m[n - 1] = 7;
	assert_int_equal(parse_exact(&pkt, m, n), 0);
	assert_int_equal(pkt.payload_len, 0);
	assert_int_equal(pkt.pad_len, 7);
	/* too short for the fixed header */
	assert_int_equal(parse_exact(&pkt, b, 11), -EBADMSG);
	assert_int_equal(sipcx_rtp_parse(&pkt, NULL, 0), -EINVAL);
	assert_int_equal(sipcx_rtp_parse(NULL, b, n), -EINVAL);
}

static void test_rtp_build(void **state)
{
	(void)state;
	uint8_t buf[200];
	/* encode in place: the payload already sits after the header */
	struct sipcx_rtp_pkt pkt = { .pt = 8, .seq = 0x1234, .ts = 0x01020304, .ssrc = 0xa1b2c3d4 };
	size_t hdr = sipcx_rtp_hdr_size(&pkt);
	assert_int_equal(hdr, 12);
	memset(buf + hdr, 0xd5, 160);
	pkt.payload = buf + hdr;
	pkt.payload_len = 160;
	assert_int_equal(sipcx_rtp_build(&pkt, buf, sizeof(buf)), 172);
	static const uint8_t want[12] = { 0x80, 0x08, 0x12, 0x34, 0x01, 0x02,
		                          0x03, 0x04, 0xa1, 0xb2, 0xc3, 0xd4 };
	assert_memory_equal(buf, want, 12);
	assert_int_equal(buf[12], 0xd5);
	assert_int_equal(buf[171], 0xd5);
	assert_int_equal(sipcx_rtp_build(&pkt, buf, 171), -ENOSPC);

	/* one byte of padding is just the count */
	struct sipcx_rtp_pkt p1 = { .pt = 0, .pad_len = 1 };
	assert_int_equal(sipcx_rtp_build(&p1, buf, sizeof(buf)), 13);
	assert_int_equal(buf[0], 0xa0);
	assert_int_equal(buf[12], 1);
	struct sipcx_rtp_pkt back;
	assert_int_equal(sipcx_rtp_parse(&back, buf, 13), 0);
	assert_int_equal(back.pad_len, 1);
	assert_int_equal(back.payload_len, 0);

	/* an X bit with an empty extension is legal: 4 bytes of extension header */
	struct sipcx_rtp_pkt px = { .pt = 0, .ext = true, .ext_profile = 0x1000 };
	assert_int_equal(sipcx_rtp_build(&px, buf, sizeof(buf)), 16);
	assert_memory_equal(buf + 12, "\x10\x00\x00\x00", 4);
	assert_int_equal(sipcx_rtp_parse(&back, buf, 16), 0);
	assert_true(back.ext);
	assert_int_equal(back.ext_len, 0);

	struct sipcx_rtp_pkt bad = { .pt = 128 };
	assert_int_equal(sipcx_rtp_build(&bad, buf, sizeof(buf)), -EINVAL);
	bad.pt = 0;
	bad.cc = 16;
	assert_int_equal(sipcx_rtp_build(&bad, buf, sizeof(buf)), -EINVAL);
	bad.cc = 0;
	bad.ext = true;
	bad.ext_len = 3;
	bad.ext_data = buf;
	assert_int_equal(sipcx_rtp_build(&bad, buf, sizeof(buf)), -EINVAL);
	bad.ext = false;
	bad.payload_len = 4; /* with a NULL payload */
	assert_int_equal(sipcx_rtp_build(&bad, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sipcx_rtp_build(&pkt, NULL, 100), -EINVAL);
}

static void test_rtp_demux(void **state)
{
	(void)state;
	/* RFC 5761 4: RTCP SR/RR/SDES/BYE/APP and feedback types are 200..206 */
	assert_true(sipcx_rtp_is_rtcp("\x80\xc8", 2));
	assert_true(sipcx_rtp_is_rtcp("\x81\xc9", 2));
	assert_true(sipcx_rtp_is_rtcp("\x80\xcd", 2));
	assert_false(sipcx_rtp_is_rtcp("\x80\x00", 2)); /* PCMU */
	assert_false(sipcx_rtp_is_rtcp("\x80\xe5", 2)); /* M + 101 */
	assert_false(sipcx_rtp_is_rtcp("\x80\x60", 2)); /* 96 */
	assert_false(sipcx_rtp_is_rtcp("\x80\xc8", 1));
	assert_false(sipcx_rtp_is_rtcp(NULL, 0));
}

/* ----------------------------------------------------------- RTCP -- */

static void test_rtcp_sr_sdes(void **state)
{
	(void)state;
	uint8_t b[128];
	size_t n = load_hex("sr_sdes.hex", b, sizeof(b));
	assert_int_equal(n, 80);
	assert_true(sipcx_rtp_is_rtcp(b, n));
	assert_int_equal(sipcx_rtcp_validate(b, n, SIPCX_RTCP_STRICT), 2);

	struct sipcx_rtcp_iter it;
	struct sipcx_rtcp_pkt pkt;
	sipcx_rtcp_iter_init(&it, b, n, SIPCX_RTCP_STRICT);

	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(pkt.pt, SIPCX_RTCP_SR);
	assert_int_equal(pkt.count, 1);
	assert_int_equal(pkt.len, 52);
	assert_int_equal(pkt.body_len, 48);
	assert_int_equal(pkt.pad_len, 0);
	struct sipcx_rtcp_report r;
	assert_int_equal(sipcx_rtcp_report_parse(&pkt, &r), 0);
	assert_true(r.is_sr);
	assert_int_equal(r.ssrc, 0x1a2b3c4d);
	assert_true(r.si.ntp == 0xe8f5a3b280000000ull);
	/* the NTP time is 2023-11-08T06:05:38.5Z */
	assert_true(sipcx_rtp_ntp_to_us(r.si.ntp) == 1699423538500000ull);
	assert_int_equal(r.si.rtp_ts, 128000);
	assert_int_equal(r.si.packets, 800);
	assert_int_equal(r.si.octets, 128000);
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.rb[0].ssrc, 0x5e6f7081);
	assert_int_equal(r.rb[0].fraction, 10);
	assert_int_equal(r.rb[0].lost, 3);
	assert_int_equal(r.rb[0].ext_seq, 0x10005);
	assert_int_equal(r.rb[0].jitter, 18);
	assert_int_equal(r.rb[0].lsr, 0xa3b21234);
	assert_int_equal(r.rb[0].dlsr, 0x8000);
	assert_null(r.ext);
	assert_int_equal(r.ext_len, 0);

	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(pkt.pt, SIPCX_RTCP_SDES);
	assert_int_equal(pkt.count, 1);
	assert_int_equal(pkt.len, 28);
	struct sipcx_rtcp_sdes sdes;
	struct sipcx_rtcp_sdes_item item;
	assert_int_equal(sipcx_rtcp_sdes_parse(&pkt, &sdes), 0);
	assert_int_equal(sipcx_rtcp_sdes_next(&sdes, &item), 1);
	assert_int_equal(item.ssrc, 0x1a2b3c4d);
	assert_int_equal(item.type, SIPCX_SDES_CNAME);
	assert_true(sipcx_str_eq(item.text, SIPCX_STR("alice@192.0.2.10")));
	assert_int_equal(sipcx_rtcp_sdes_next(&sdes, &item), 0);
	assert_int_equal(sipcx_rtcp_report_parse(&pkt, &r), -EINVAL);

	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 0);

	/* the builder produces these exact bytes */
	struct sipcx_rtcp_sender_info si = { 0xe8f5a3b280000000ull, 128000, 800, 128000 };
	struct sipcx_rtcp_rb rb = { 0x5e6f7081, 10, 3, 0x10005, 18, 0xa3b21234, 0x8000 };
	uint8_t out[128];
	memset(out, 0xee, sizeof(out));
	struct sipcx_rtcp_writer w;
	sipcx_rtcp_writer_init(&w, out, sizeof(out));
	assert_int_equal(sipcx_rtcp_write_report(&w, 0x1a2b3c4d, &si, &rb, 1), 0);
	assert_int_equal(sipcx_rtcp_write_cname(&w, 0x1a2b3c4d, SIPCX_STR("alice@192.0.2.10")), 0);
	assert_int_equal(sipcx_rtcp_writer_finish(&w, 0), 80);
	assert_memory_equal(out, b, 80);

	char line[512];
	int len = sipcx_rtcp_snprint(line, sizeof(line), b, n);
	assert_int_equal(len, (int)strlen(line));
	assert_non_null(strstr(line, "SR ssrc=0x1a2b3c4d"));
	assert_non_null(strstr(line, "lost=3"));
	assert_non_null(strstr(line, "\"alice@192.0.2.10\""));
	/* a short buffer is truncated and terminated; the full length is still reported */
	char small[16];
	assert_int_equal(sipcx_rtcp_snprint(small, sizeof(small), b, n), len);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void test_rtcp_rr_sdes_bye(void **state)
{
	(void)state;
	uint8_t b[128];
	size_t n = load_hex("rr_sdes_bye.hex", b, sizeof(b));
	assert_int_equal(n, 64);
	uint8_t *c = exact(b, n);
	assert_int_equal(sipcx_rtcp_validate(c, n, SIPCX_RTCP_STRICT), 3);

	struct sipcx_rtcp_iter it;
	struct sipcx_rtcp_pkt pkt;
	struct sipcx_rtcp_report r;
	sipcx_rtcp_iter_init(&it, c, n, SIPCX_RTCP_STRICT);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(pkt.pt, SIPCX_RTCP_RR);
	assert_int_equal(sipcx_rtcp_report_parse(&pkt, &r), 0);
	assert_false(r.is_sr);
	assert_true(r.si.ntp == 0);
	assert_int_equal(r.ssrc, 0x5e6f7081);
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.rb[0].ssrc, 0x1a2b3c4d);
	assert_int_equal(r.rb[0].fraction, 0);
	assert_int_equal(r.rb[0].lost, -1); /* 0xffffff sign-extended */
	assert_int_equal(r.rb[0].ext_seq, 800);
	assert_int_equal(r.rb[0].jitter, 7);
	assert_int_equal(r.rb[0].lsr, 0xa3b28000);
	assert_int_equal(r.rb[0].dlsr, 0x4000);

	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	struct sipcx_rtcp_sdes sdes;
	struct sipcx_rtcp_sdes_item item;
	assert_int_equal(sipcx_rtcp_sdes_parse(&pkt, &sdes), 0);
	assert_int_equal(sipcx_rtcp_sdes_next(&sdes, &item), 1);
	assert_int_equal(item.ssrc, 0x5e6f7081);
	assert_true(sipcx_str_eq(item.text, SIPCX_STR("bob@h")));
	assert_int_equal(sipcx_rtcp_sdes_next(&sdes, &item), 0);

	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(pkt.pt, SIPCX_RTCP_BYE);
	struct sipcx_rtcp_bye bye;
	assert_int_equal(sipcx_rtcp_bye_parse(&pkt, &bye), 0);
	assert_int_equal(bye.sc, 1);
	assert_int_equal(bye.ssrc[0], 0x5e6f7081);
	assert_true(bye.has_reason);
	assert_true(sipcx_str_eq(bye.reason, SIPCX_STR("hangup")));
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 0);

	/* the same bytes from the builder */
	struct sipcx_rtcp_rb rb = { 0x1a2b3c4d, 0, -1, 800, 7, 0xa3b28000, 0x4000 };
	uint32_t me = 0x5e6f7081;
	uint8_t out[128];
	memset(out, 0xee, sizeof(out));
	struct sipcx_rtcp_writer w;
	sipcx_rtcp_writer_init(&w, out, sizeof(out));
	assert_int_equal(sipcx_rtcp_write_report(&w, me, NULL, &rb, 1), 0);
	assert_int_equal(sipcx_rtcp_write_cname(&w, me, SIPCX_STR("bob@h")), 0);
	assert_int_equal(sipcx_rtcp_write_bye(&w, &me, 1, SIPCX_STR("hangup")), 0);
	assert_int_equal(sipcx_rtcp_writer_finish(&w, 0), 64);
	assert_memory_equal(out, b, 64);

	/* every cut is invalid except at packet boundaries (32, 48) */
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *p = exact(b, cut);
		int rc = sipcx_rtcp_validate(p, cut, 0);
		free(p);
		if (cut == 32)
			assert_int_equal(rc, 1);
		else if (cut == 48)
			assert_int_equal(rc, 2);
		else
			assert_int_equal(rc, -EBADMSG);
	}
	free(c);
}

static void test_rtcp_strict_and_unknown(void **state)
{
	(void)state;
	uint8_t b[160];
	size_t n = load_hex("rr_sdes_bye.hex", b, sizeof(b));
	/* starting with the SDES (offset 32): fine for reduced-size RTCP, not strict */
	assert_int_equal(sipcx_rtcp_validate(b + 32, n - 32, 0), 2);
	assert_int_equal(sipcx_rtcp_validate(b + 32, n - 32, SIPCX_RTCP_STRICT), -EBADMSG);

	/* an unknown type (RTPFB, 205, FMT 1 = NACK) is kept and skipped over */
	static const uint8_t nack[] = { 0x81, 205,  0x00, 0x03, 0x5e, 0x6f, 0x70, 0x81,
		                        0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x07, 0x00, 0x00 };
	memcpy(b + n, nack, sizeof(nack));
	struct sipcx_rtcp_iter it;
	struct sipcx_rtcp_pkt pkt;
	sipcx_rtcp_iter_init(&it, b, n + sizeof(nack), SIPCX_RTCP_STRICT);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(pkt.pt, 205);
	assert_int_equal(pkt.count, 1);
	assert_int_equal(pkt.len, 16);
	assert_int_equal(pkt.body_len, 12);
	assert_ptr_equal(pkt.body, b + n + 4);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 0);

	char line[512];
	sipcx_rtcp_snprint(line, sizeof(line), b, n + sizeof(nack));
	assert_non_null(strstr(line, "PT205 count=1 len=16"));
	assert_non_null(strstr(line, "BYE ssrc=0x5e6f7081 reason_len=6"));
}

static void test_rtcp_malformed(void **state)
{
	(void)state;
	uint8_t a[128], m[128];
	size_t n = load_hex("sr_sdes.hex", a, sizeof(a));
	struct sipcx_rtcp_iter it;
	struct sipcx_rtcp_pkt pkt;

	/* the SR's length word one word too long: packets no longer add up */
	memcpy(m, a, n);
	m[3] = 0x0d;
	assert_int_equal(sipcx_rtcp_validate(m, n, 0), -EBADMSG);
	/* two bytes of garbage after the last packet */
	memcpy(m, a, n);
	m[n] = m[n + 1] = 0;
	assert_int_equal(sipcx_rtcp_validate(m, n + 2, 0), -EBADMSG);
	/* a second packet of version 1 */
	memcpy(m, a, n);
	m[52] = 0x41;
	assert_int_equal(sipcx_rtcp_validate(m, n, 0), -EBADMSG);
	/* empty datagram */
	assert_int_equal(sipcx_rtcp_validate(a, 0, 0), -EBADMSG);
	assert_int_equal(sipcx_rtcp_validate(NULL, 0, 0), -EBADMSG);
	/* the error is sticky in the iterator */
	sipcx_rtcp_iter_init(&it, m, n, 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), -EBADMSG);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), -EBADMSG);

	/* padding: P on the first packet is invalid in strict mode only (A.2) */
	memcpy(m, a, n);
	m[0] |= 0x20;
	m[51] = 4; /* DLSR's low byte becomes a pad count of 4 */
	assert_int_equal(sipcx_rtcp_validate(m, n, SIPCX_RTCP_STRICT), -EBADMSG);
	assert_int_equal(sipcx_rtcp_validate(m, n, 0), 2);
	sipcx_rtcp_iter_init(&it, m, n, 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(pkt.pad_len, 4);
	assert_int_equal(pkt.body_len, 44);
	struct sipcx_rtcp_report r;
	/* one report block no longer fits the 44 bytes left: 4 + 20 + 24 = 48 */
	assert_int_equal(sipcx_rtcp_report_parse(&pkt, &r), -EBADMSG);
	/* pad count 0, and larger than the body */
	m[51] = 0;
	assert_int_equal(sipcx_rtcp_validate(m, n, 0), -EBADMSG);
	m[51] = 49;
	assert_int_equal(sipcx_rtcp_validate(m, n, 0), -EBADMSG);
	m[51] = 48;
	assert_int_equal(sipcx_rtcp_validate(m, n, 0), 2);

	/* SR with RC=2 but room for one block */
	memcpy(m, a, n);
	m[0] = 0x82;
	sipcx_rtcp_iter_init(&it, m, n, 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_report_parse(&pkt, &r), -EBADMSG);
	/* RR with no room for the reporter SSRC */
	static const uint8_t rr0[] = { 0x80, 201, 0, 0 };
	sipcx_rtcp_iter_init(&it, rr0, sizeof(rr0), 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_report_parse(&pkt, &r), -EBADMSG);

	/* SDES: the CNAME fills the chunk up to the end, no null item */
	struct sipcx_rtcp_sdes sdes;
	static const uint8_t sdes_noend[] = { 0x81, 202, 0, 2, 1, 2, 3, 4, 1, 2, 'a', 'b' };
	sipcx_rtcp_iter_init(&it, sdes_noend, sizeof(sdes_noend), 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_sdes_parse(&pkt, &sdes), -EBADMSG);
	/* SDES: item length past the packet */
	static const uint8_t sdes_long[] = { 0x81, 202, 0, 2, 1, 2, 3, 4, 1, 9, 'a', 0 };
	sipcx_rtcp_iter_init(&it, sdes_long, sizeof(sdes_long), 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_sdes_parse(&pkt, &sdes), -EBADMSG);
	/* SDES: SC=2 but one chunk */
	memcpy(m, a + 52, 28);
	m[0] = 0x82;
	sipcx_rtcp_iter_init(&it, m, 28, 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_sdes_parse(&pkt, &sdes), -EBADMSG);
	/* SDES: SC=0 with a chunk left over */
	m[0] = 0x80;
	sipcx_rtcp_iter_init(&it, m, 28, 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_sdes_parse(&pkt, &sdes), -EBADMSG);
	/* SDES: a chunk with no items (only the null) and SC=0 empty packet are fine */
	static const uint8_t sdes_empty[] = { 0x81, 202, 0, 2, 1,    2,   3, 4,
		                              0,    0,   0, 0, 0x80, 202, 0, 0 };
	sipcx_rtcp_iter_init(&it, sdes_empty, sizeof(sdes_empty), 0);
	struct sipcx_rtcp_sdes_item item;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
		assert_int_equal(sipcx_rtcp_sdes_parse(&pkt, &sdes), 0);
		assert_int_equal(sipcx_rtcp_sdes_next(&sdes, &item), 0);
	}

	/* BYE: SC=2 with one SSRC; reason length past the end */
	struct sipcx_rtcp_bye bye;
	static const uint8_t bye2[] = { 0x82, 203, 0, 1, 1, 2, 3, 4 };
	sipcx_rtcp_iter_init(&it, bye2, sizeof(bye2), 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_bye_parse(&pkt, &bye), -EBADMSG);
	static const uint8_t bye_reason[] = { 0x81, 203, 0, 2, 1, 2, 3, 4, 4, 'a', 'b', 'c' };
	sipcx_rtcp_iter_init(&it, bye_reason, sizeof(bye_reason), 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_bye_parse(&pkt, &bye), -EBADMSG);
	/* BYE with SC=0 is legal (an empty leave) */
	static const uint8_t bye0[] = { 0x80, 203, 0, 0 };
	sipcx_rtcp_iter_init(&it, bye0, sizeof(bye0), 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_bye_parse(&pkt, &bye), 0);
	assert_int_equal(bye.sc, 0);
	assert_false(bye.has_reason);

	/* APP: shorter than SSRC + name; and a good one */
	struct sipcx_rtcp_app app;
	static const uint8_t app_short[] = { 0x80, 204, 0, 1, 1, 2, 3, 4 };
	sipcx_rtcp_iter_init(&it, app_short, sizeof(app_short), 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_app_parse(&pkt, &app), -EBADMSG);
	static const uint8_t app_ok[] = { 0x83, 204, 0,   3,   1, 2, 3, 4,
		                          'S',  'I', 'P', 'X', 9, 8, 7, 6 };
	sipcx_rtcp_iter_init(&it, app_ok, sizeof(app_ok), 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_app_parse(&pkt, &app), 0);
	assert_int_equal(app.subtype, 3);
	assert_int_equal(app.ssrc, 0x01020304);
	assert_memory_equal(app.name, "SIPX", 4);
	assert_int_equal(app.len, 4);
	assert_memory_equal(app.data, "\x09\x08\x07\x06", 4);
	assert_int_equal(sipcx_rtcp_bye_parse(&pkt, &bye), -EINVAL);
	assert_int_equal(sipcx_rtcp_sdes_parse(&pkt, &sdes), -EINVAL);
}

static void test_rtcp_extension_and_text(void **state)
{
	(void)state;
	/* an RR with one block and 8 bytes of profile-specific extension (6.4.2) */
	uint8_t b[128];
	load_hex("rr_sdes_bye.hex", b, sizeof(b));
	uint8_t m[128];
	memcpy(m, b, 32);
	m[3] = 9; /* 40 bytes */
	memcpy(m + 32, "\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8", 8);
	struct sipcx_rtcp_iter it;
	struct sipcx_rtcp_pkt pkt;
	struct sipcx_rtcp_report r;
	sipcx_rtcp_iter_init(&it, m, 40, SIPCX_RTCP_STRICT);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_report_parse(&pkt, &r), 0);
	assert_int_equal(r.rc, 1);
	assert_ptr_equal(r.ext, m + 32);
	assert_int_equal(r.ext_len, 8);

	/* log text: APP, unprintable SDES text escaped, a malformed tail */
	static const uint8_t c[] = {
		0x80, 201, 0, 1, 0, 0, 0, 1,                                          /* RR */
		0x81, 202, 0, 3, 0, 0, 0, 1, 1,    5,   'a', '"', 0x01, '\\', 'z', 0, /* SDES */
		0x82, 204, 0, 2, 0, 0, 0, 1, 'N',  'A', 'M', 'E',                     /* APP */
		0x81, 203, 0, 1, 0, 0, 0, 1, 0x80, 200, /* BYE, then 2 bytes of junk */
	};
	char line[512];
	int len = sipcx_rtcp_snprint(line, sizeof(line), c, sizeof(c));
	assert_int_equal(len, (int)strlen(line));
	assert_string_equal(line, "RTCP RR ssrc=0x00000001; SDES [ssrc=0x00000001 type=1 "
	                          "\"a\\x22\\x01\\x5cz\"]; APP subtype=2 ssrc=0x00000001 len=0; "
	                          "BYE ssrc=0x00000001; malformed");
	/* a packet its own parser rejects */
	static const uint8_t bad_sr[] = { 0x81, 200, 0, 1, 0, 0, 0, 1 };
	sipcx_rtcp_snprint(line, sizeof(line), bad_sr, sizeof(bad_sr));
	assert_string_equal(line, "RTCP PT200 malformed;");
}

static void test_rtcp_writer(void **state)
{
	(void)state;
	uint8_t out[256];
	struct sipcx_rtcp_writer w;
	struct sipcx_rtcp_iter it;
	struct sipcx_rtcp_pkt pkt;
	struct sipcx_rtcp_report r;
	struct sipcx_rtcp_sender_info si = { 0x0102030405060708ull, 1, 2, 3 };

	/* padding for a 16-byte block cipher: SR (28 bytes) + 4 bytes of padding */
	sipcx_rtcp_writer_init(&w, out, sizeof(out));
	assert_int_equal(sipcx_rtcp_write_report(&w, 7, &si, NULL, 0), 0);
	assert_int_equal(sipcx_rtcp_writer_finish(&w, 16), 32);
	assert_int_equal(out[0], 0xa0); /* V=2 P=1 RC=0 */
	assert_int_equal(out[3], 7);    /* (32 / 4) - 1 */
	assert_int_equal(out[31], 4);
	assert_int_equal(sipcx_rtcp_validate(out, 32, 0), 1);
	sipcx_rtcp_iter_init(&it, out, 32, 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(pkt.pad_len, 4);
	assert_int_equal(sipcx_rtcp_report_parse(&pkt, &r), 0);
	assert_true(r.si.ntp == 0x0102030405060708ull);
	assert_int_equal(r.ext_len, 0);

	/* RR + two-item SDES + BYE without reason; P only on the last, strict-valid */
	sipcx_rtcp_writer_init(&w, out, sizeof(out));
	assert_int_equal(sipcx_rtcp_write_report(&w, 9, NULL, NULL, 0), 0);
	struct sipcx_rtcp_sdes_item items[2] = {
		{ 0, SIPCX_SDES_CNAME, SIPCX_STR("x@y") },
		{ 0, SIPCX_SDES_TOOL, SIPCX_STR("sipcx") },
	};
	assert_int_equal(sipcx_rtcp_write_sdes(&w, 9, items, 2), 0);
	uint32_t ssrc = 9;
	assert_int_equal(sipcx_rtcp_write_bye(&w, &ssrc, 1, SIPCX_STR_NULL), 0);
	/* RR 8 + SDES (4 + 4 + 5 + 7 = 20, +1 null -> 24) + BYE 8 = 40 -> 64 */
	assert_int_equal(sipcx_rtcp_writer_finish(&w, 64), 64);
	assert_int_equal(out[8 + 3], 5); /* SDES length word: 24 / 4 - 1 */
	assert_int_equal(out[32], 0xa1); /* BYE: V=2 P=1 SC=1 */
	assert_int_equal(out[35], 7);    /* (8 + 24) / 4 - 1 */
	assert_int_equal(out[63], 24);
	assert_int_equal(sipcx_rtcp_validate(out, 64, SIPCX_RTCP_STRICT), 3);
	sipcx_rtcp_iter_init(&it, out, 64, SIPCX_RTCP_STRICT);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	struct sipcx_rtcp_sdes sdes;
	struct sipcx_rtcp_sdes_item item;
	assert_int_equal(sipcx_rtcp_sdes_parse(&pkt, &sdes), 0);
	assert_int_equal(sipcx_rtcp_sdes_next(&sdes, &item), 1);
	assert_true(sipcx_str_eq(item.text, SIPCX_STR("x@y")));
	assert_int_equal(sipcx_rtcp_sdes_next(&sdes, &item), 1);
	assert_int_equal(item.type, SIPCX_SDES_TOOL);
	assert_true(sipcx_str_eq(item.text, SIPCX_STR("sipcx")));
	assert_int_equal(sipcx_rtcp_sdes_next(&sdes, &item), 0);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	struct sipcx_rtcp_bye bye;
	assert_int_equal(sipcx_rtcp_bye_parse(&pkt, &bye), 0);
	assert_int_equal(pkt.pad_len, 24);
	assert_false(bye.has_reason);

	/* APP */
	sipcx_rtcp_writer_init(&w, out, sizeof(out));
	assert_int_equal(sipcx_rtcp_write_report(&w, 1, NULL, NULL, 0), 0);
	assert_int_equal(sipcx_rtcp_write_app(&w, 5, 1, "TEST", "abcd", 4), 0);
	assert_int_equal(sipcx_rtcp_writer_finish(&w, 4), 24);
	assert_memory_equal(out + 8, "\x85\xcc\x00\x03\x00\x00\x00\x01TESTabcd", 16);

	/* no room: the error is sticky, the bytes before stay */
	for (size_t size = 0; size < 80; size++) {
		uint8_t *small = malloc(size ? size : 1);
		assert_non_null(small);
		sipcx_rtcp_writer_init(&w, small, size);
		sipcx_rtcp_write_report(&w, 1, &si, NULL, 0);          /* 28 */
		sipcx_rtcp_write_cname(&w, 1, SIPCX_STR("abc"));       /* 16 */
		sipcx_rtcp_write_bye(&w, &ssrc, 1, SIPCX_STR("gone")); /* 16 */
		int rc = sipcx_rtcp_writer_finish(&w, 16);             /* 60 -> 64 */
		assert_int_equal(rc, size >= 64 ? 64 : -ENOSPC);
		free(small);
	}
	/* bad arguments */
	sipcx_rtcp_writer_init(&w, out, sizeof(out));
	struct sipcx_rtcp_rb rbs[32];
	memset(rbs, 0, sizeof(rbs));
	assert_int_equal(sipcx_rtcp_write_report(&w, 1, NULL, rbs, 32), -EINVAL);
	assert_int_equal(sipcx_rtcp_write_report(&w, 1, NULL, rbs, 1), -EINVAL); /* sticky */
	sipcx_rtcp_writer_init(&w, out, sizeof(out));
	assert_int_equal(sipcx_rtcp_writer_finish(&w, 0), -EINVAL); /* nothing written */
	sipcx_rtcp_writer_init(&w, out, sizeof(out));
	assert_int_equal(sipcx_rtcp_write_bye(&w, &ssrc, 0, SIPCX_STR_NULL), -EINVAL);
	sipcx_rtcp_writer_init(&w, out, sizeof(out));
	struct sipcx_rtcp_sdes_item end = { 0, SIPCX_SDES_END, SIPCX_STR("x") };
	assert_int_equal(sipcx_rtcp_write_sdes(&w, 1, &end, 1), -EINVAL);
	sipcx_rtcp_writer_init(&w, out, sizeof(out));
	assert_int_equal(sipcx_rtcp_write_app(&w, 1, 1, "TEST", "abc", 3), -EINVAL);
	sipcx_rtcp_writer_init(&w, out, sizeof(out));
	sipcx_rtcp_write_report(&w, 1, NULL, NULL, 0);
	assert_int_equal(sipcx_rtcp_writer_finish(&w, 24), -EINVAL); /* not a power of two */

	/* 31 report blocks fit; cumulative loss beyond 24 bits is clamped */
	sipcx_rtcp_writer_init(&w, out, sizeof(out));
	struct sipcx_rtcp_rb big[31];
	memset(big, 0, sizeof(big));
	big[0].lost = 0x1000000;
	big[1].lost = -0x1000000;
	uint8_t large[1024];
	sipcx_rtcp_writer_init(&w, large, sizeof(large));
	assert_int_equal(sipcx_rtcp_write_report(&w, 1, NULL, big, 31), 0);
	assert_int_equal(sipcx_rtcp_writer_finish(&w, 0), 8 + 31 * 24);
	sipcx_rtcp_iter_init(&it, large, 8 + 31 * 24, SIPCX_RTCP_STRICT);
	assert_int_equal(sipcx_rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(sipcx_rtcp_report_parse(&pkt, &r), 0);
	assert_int_equal(r.rc, 31);
	assert_int_equal(r.rb[0].lost, 0x7fffff);
	assert_int_equal(r.rb[1].lost, -0x800000);
}

/* ------------------------------------------------------------ time -- */

static void test_ntp(void **state)
{
	(void)state;
	/* 2023-11-08T06:05:38.5Z */
	assert_true(sipcx_rtp_ntp_from_us(1699423538500000ull) == 0xe8f5a3b280000000ull);
	assert_int_equal(sipcx_rtp_ntp_mid(0xe8f5a3b280000000ull), 0xa3b28000);
	/* the Unix epoch is NTP second 2208988800 */
	assert_true(sipcx_rtp_ntp_from_us(0) == (uint64_t)2208988800u << 32);
	assert_true(sipcx_rtp_ntp_to_us((uint64_t)2208988800u << 32) == 0);
	assert_true(sipcx_rtp_ntp_to_us(1) == 0); /* before 1970 */
	/* 0.25 s is 2^30 in the fraction */
	assert_true((sipcx_rtp_ntp_from_us(250000) & 0xffffffffu) == 0x40000000u);
	/* round trip within a microsecond */
	for (uint64_t us = 1699423538000000ull; us < 1699423538000000ull + 2000000; us += 7919) {
		uint64_t back = sipcx_rtp_ntp_to_us(sipcx_rtp_ntp_from_us(us));
		assert_true(back == us || back + 1 == us);
	}
	assert_int_equal(sipcx_rtp_clock_units(1000000, 8000), 8000);
	assert_int_equal(sipcx_rtp_clock_units(125, 8000), 1);
	assert_int_equal(sipcx_rtp_clock_units(20000, 48000), 960);
	/* 10^15 us at 90 kHz = 9 * 10^13 units, modulo 2^32, without overflow on the way */
	assert_int_equal(sipcx_rtp_clock_units(1000000000000000ull, 90000),
	                 (uint32_t)(90000000000000ull % 4294967296ull));
}

/* ----------------------------------------------------------- stats -- */

struct step {
	uint16_t seq;
	uint32_t ts;
	uint32_t arrival;
	enum sipcx_rtp_seq want;
	uint32_t jitter_q4; /* after this packet, computed by hand (A.8, integer form) */
};

static void run_steps(struct sipcx_rtp_source *s, const struct step *st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum sipcx_rtp_seq r =
		    sipcx_rtp_source_update(s, st[i].seq, st[i].ts, st[i].arrival, 160);
		if (r != st[i].want || s->jitter_q4 != st[i].jitter_q4)
			fail_msg("step %zu seq %u: got %d jitter_q4 %llu, want %d %lu", i,
			         (unsigned)st[i].seq, (int)r, (unsigned long long)s->jitter_q4,
			         (int)st[i].want, (unsigned long)st[i].jitter_q4);
	}
}

static void test_stats_sequence(void **state)
{
	(void)state;
	struct sipcx_rtp_source s;
	struct sipcx_rtcp_rb rb;
	sipcx_rtp_source_init(&s, 0x5e6f7081);

	/*
	 * 8 kHz, 160 units a packet; arrival in timestamp units, transit = arrival - ts.
	 * J (Q4) += |D| - ((J + 8) >> 4)   (RFC 3550 A.8)
	 */
	static const struct step part1[] = {
		/* probation: the first packet is not counted (A.1, MIN_SEQUENTIAL 2) */
		{ 65533, 0, 1000, SIPCX_RTP_SEQ_PROBATION, 0 },
		/* valid: base_seq 65534, transit 1000 is the baseline */
		{ 65534, 160, 1160, SIPCX_RTP_SEQ_OK, 0 },
		/* transit 1010, D 10: 0 + 10 - 0 = 10 */
		{ 65535, 320, 1330, SIPCX_RTP_SEQ_OK, 10 },
		/* wrap to 0: cycles 65536; transit 1000, |D| 10: 10 + 10 - 1 = 19 */
		{ 0, 480, 1480, SIPCX_RTP_SEQ_OK, 19 },
		/* D 0: 19 - (27 >> 4 = 1) = 18 */
		{ 1, 640, 1640, SIPCX_RTP_SEQ_OK, 18 },
		/* 2 skipped for now; D 0: 18 - 1 = 17 */
		{ 3, 960, 1960, SIPCX_RTP_SEQ_OK, 17 },
		/* 2 arrives late: transit 1190, D 190: 17 + 190 - 1 = 206 */
		{ 2, 800, 1990, SIPCX_RTP_SEQ_OK, 206 },
		/* 2 again (duplicate): transit 1200, D 10: 206 + 10 - (214 >> 4 = 13) = 203 */
		{ 2, 800, 2000, SIPCX_RTP_SEQ_OK, 203 },
	};
	run_steps(&s, part1, ARRAY_SIZE(part1));
	/* expected 65534..3 = 6, received 7: lost -1 */
	assert_int_equal(s.received, 7);
	assert_int_equal(sipcx_rtp_source_ext_max(&s), 65536 + 3);
	assert_int_equal(sipcx_rtp_source_expected(&s), 6);
	assert_true(sipcx_rtp_source_lost(&s) == -1);
	assert_int_equal(s.late, 1);
	assert_int_equal(s.duplicates, 1);
	assert_int_equal(s.octets, 7 * 160);
	sipcx_rtp_source_report(&s, 0, &rb);
	assert_int_equal(rb.ssrc, 0x5e6f7081);
	assert_int_equal(rb.ext_seq, 65539);
	assert_int_equal(rb.lost, -1);
	assert_int_equal(rb.fraction, 0); /* interval: 6 expected, 7 received */
	assert_int_equal(rb.jitter, 12);  /* 203 >> 4 */
	assert_int_equal(rb.lsr, 0);
	assert_int_equal(rb.dlsr, 0);

	static const struct step part2[] = {
		/* transit 1000, |D| 200: 203 + 200 - (211 >> 4 = 13) = 390 */
		{ 4, 1120, 2120, SIPCX_RTP_SEQ_OK, 390 },
		/* 5..9 lost; D 0: 390 - (398 >> 4 = 24) = 366 */
		{ 10, 2240, 3240, SIPCX_RTP_SEQ_OK, 366 },
		/* D 0: 366 - (374 >> 4 = 23) = 343 */
		{ 11, 2400, 3400, SIPCX_RTP_SEQ_OK, 343 },
	};
	run_steps(&s, part2, ARRAY_SIZE(part2));
	/* expected 65534..11 = 14, received 10: lost 4 (5 lost, 1 duplicate) */
	assert_int_equal(sipcx_rtp_source_expected(&s), 14);
	assert_true(sipcx_rtp_source_lost(&s) == 4);
	sipcx_rtp_source_report(&s, 0, &rb);
	assert_int_equal(rb.ext_seq, 65547);
	assert_int_equal(rb.lost, 4);
	/* interval: expected 14 - 6 = 8, received 10 - 7 = 3, lost 5: 5 * 256 / 8 = 160 */
	assert_int_equal(rb.fraction, 160);
	assert_int_equal(rb.jitter, 21); /* 343 >> 4 */
	/* a report right after, with nothing received: empty interval */
	sipcx_rtp_source_report(&s, 0, &rb);
	assert_int_equal(rb.fraction, 0);
	assert_int_equal(rb.lost, 4);

	static const struct step part3[] = {
		/* a jump of 19989 > MAX_DROPOUT: dropped, 20001 remembered */
		{ 20000, 9000, 5000, SIPCX_RTP_SEQ_BAD, 343 },
		/* the next in sequence: the sender restarted; new transit baseline */
		{ 20001, 9160, 5160, SIPCX_RTP_SEQ_RESTART, 343 },
		/* transit -3990 after -4000, D 10: 343 + 10 - (351 >> 4 = 21) = 332 */
		{ 20002, 9320, 5330, SIPCX_RTP_SEQ_OK, 332 },
		/* 202 behind is past MAX_MISORDER: dropped as a jump, not a restart */
		{ 19800, 1, 1, SIPCX_RTP_SEQ_BAD, 332 },
		/* D 0: 332 - (340 >> 4 = 21) = 311 */
		{ 20003, 9480, 5490, SIPCX_RTP_SEQ_OK, 311 },
	};
	run_steps(&s, part3, ARRAY_SIZE(part3));
	assert_int_equal(s.restarts, 1);
	assert_int_equal(s.received, 3);
	assert_int_equal(sipcx_rtp_source_expected(&s), 3);
	sipcx_rtp_source_report(&s, 0, &rb);
	assert_int_equal(rb.ext_seq, 20003);
	assert_int_equal(rb.lost, 0);
	assert_int_equal(rb.fraction, 0);
	assert_int_equal(rb.jitter, 19); /* 311 >> 4 */
}

static void test_stats_probation(void **state)
{
	(void)state;
	struct sipcx_rtp_source s;
	struct sipcx_rtcp_rb rb;
	sipcx_rtp_source_init(&s, 1);
	/* nothing valid yet: an all-zero block */
	sipcx_rtp_source_report(&s, 0, &rb);
	assert_int_equal(rb.ext_seq, 0);
	assert_int_equal(sipcx_rtp_source_expected(&s), 0);

	assert_int_equal(sipcx_rtp_source_update(&s, 100, 0, 0, 1), SIPCX_RTP_SEQ_PROBATION);
	/* out of sequence: probation starts over from 102 */
	assert_int_equal(sipcx_rtp_source_update(&s, 102, 0, 0, 1), SIPCX_RTP_SEQ_PROBATION);
	assert_int_equal(sipcx_rtp_source_expected(&s), 0);
	assert_int_equal(sipcx_rtp_source_update(&s, 103, 0, 0, 1), SIPCX_RTP_SEQ_OK);
	assert_int_equal(s.base_seq, 103);
	assert_int_equal(sipcx_rtp_source_expected(&s), 1);

	/* probation across the wrap: 65535 then 0 are in sequence */
	sipcx_rtp_source_init(&s, 2);
	assert_int_equal(sipcx_rtp_source_update(&s, 65535, 0, 0, 1), SIPCX_RTP_SEQ_PROBATION);
	assert_int_equal(sipcx_rtp_source_update(&s, 0, 0, 0, 1), SIPCX_RTP_SEQ_OK);
	assert_int_equal(sipcx_rtp_source_ext_max(&s), 0);

	/* 8 of the 9 expected in an interval lost */
	sipcx_rtp_source_init(&s, 3);
	sipcx_rtp_source_update(&s, 10, 0, 0, 1);
	sipcx_rtp_source_update(&s, 11, 0, 0, 1);
	sipcx_rtp_source_report(&s, 0, &rb);
	sipcx_rtp_source_update(&s, 20, 0, 0, 1); /* 12..19 lost, 20 received */
	sipcx_rtp_source_report(&s, 0, &rb);
	assert_int_equal(rb.fraction, 8 * 256 / 9); /* 227 */
	assert_int_equal(rb.lost, 8);

	/* MAX_DROPOUT - 1 ahead is a gap, MAX_DROPOUT is a jump */
	sipcx_rtp_source_init(&s, 4);
	sipcx_rtp_source_update(&s, 0, 0, 0, 1);
	sipcx_rtp_source_update(&s, 1, 0, 0, 1);
	assert_int_equal(sipcx_rtp_source_update(&s, 1 + SIPCX_RTP_MAX_DROPOUT - 1, 0, 0, 1),
	                 SIPCX_RTP_SEQ_OK);
	assert_int_equal(
	    sipcx_rtp_source_update(&s, (uint16_t)(SIPCX_RTP_MAX_DROPOUT + SIPCX_RTP_MAX_DROPOUT),
	                            0, 0, 1),
	    SIPCX_RTP_SEQ_BAD);
	/* MAX_MISORDER - 1 behind is a late packet, MAX_MISORDER behind a jump (A.1) */
	assert_int_equal(
	    sipcx_rtp_source_update(&s, (uint16_t)(3000 - SIPCX_RTP_MAX_MISORDER + 1), 0, 0, 1),
	    SIPCX_RTP_SEQ_OK);
	assert_int_equal(
	    sipcx_rtp_source_update(&s, (uint16_t)(3000 - SIPCX_RTP_MAX_MISORDER), 0, 0, 1),
	    SIPCX_RTP_SEQ_BAD);
	assert_int_equal(s.late, 1);
	/* the highest again is a duplicate too */
	assert_int_equal(sipcx_rtp_source_update(&s, 3001, 0, 0, 1), SIPCX_RTP_SEQ_OK);
	assert_int_equal(s.duplicates, 0);
	assert_int_equal(sipcx_rtp_source_update(&s, 3001, 0, 0, 1), SIPCX_RTP_SEQ_OK);
	assert_int_equal(s.duplicates, 1);
}

static void test_stats_clamp(void **state)
{
	(void)state;
	struct sipcx_rtp_source s;
	struct sipcx_rtcp_rb rb;
	/* 2999 ahead each time (the largest gap): 2998 lost per packet, 2800 packets */
	sipcx_rtp_source_init(&s, 1);
	sipcx_rtp_source_update(&s, 0, 0, 0, 1);
	sipcx_rtp_source_update(&s, 1, 0, 0, 1);
	uint16_t seq = 1;
	for (int i = 0; i < 2800; i++) {
		seq = (uint16_t)(seq + 2999);
		assert_int_equal(sipcx_rtp_source_update(&s, seq, 0, 0, 1), SIPCX_RTP_SEQ_OK);
	}
	assert_true(sipcx_rtp_source_lost(&s) == 2800 * 2998);
	assert_int_equal(sipcx_rtp_source_ext_max(&s), 1 + 2800 * 2999);
	sipcx_rtp_source_report(&s, 0, &rb);
	assert_int_equal(rb.lost, 0x7fffff); /* 8394400 does not fit 24 signed bits */
	assert_int_equal(rb.ext_seq, 1 + 2800 * 2999);
	/* interval: 2800 * 2999 + 1 expected, 2801 received, 2800 * 2998 lost */
	assert_int_equal(rb.fraction, (int)((2800ull * 2998 << 8) / (2800ull * 2999 + 1)));

	/* 0x800001 duplicates of one packet: lost -0x800001 clamps to -0x800000 */
	sipcx_rtp_source_init(&s, 2);
	sipcx_rtp_source_update(&s, 7, 0, 0, 1);
	sipcx_rtp_source_update(&s, 8, 0, 0, 1);
	for (int i = 0; i < 0x800001; i++)
		sipcx_rtp_source_update(&s, 8, 0, 0, 0);
	assert_true(sipcx_rtp_source_lost(&s) == -0x800001);
	sipcx_rtp_source_report(&s, 0, &rb);
	assert_int_equal(rb.lost, -0x800000);
	assert_int_equal(rb.fraction, 0);
}

static void test_stats_rtt(void **state)
{
	(void)state;
	/* the peer's SR (sr_sdes.hex) arrives at t = 10 s on our monotonic clock */
	struct sipcx_rtp_source src;
	struct sipcx_rtcp_rb rb;
	sipcx_rtp_source_init(&src, 0x1a2b3c4d);
	struct sipcx_rtcp_sender_info si = { 0xe8f5a3b280000000ull, 128000, 800, 128000 };
	sipcx_rtp_source_sr(&src, &si, 10000000);
	/* our RR half a second later: LSR = middle 32 bits, DLSR = 0.5 * 65536 */
	sipcx_rtp_source_report(&src, 10500000, &rb);
	assert_int_equal(rb.lsr, 0xa3b28000);
	assert_int_equal(rb.dlsr, 0x8000);
	sipcx_rtp_source_report(&src, 10000125, &rb);
	assert_int_equal(rb.dlsr, 8); /* 125 us = 8.192 / 65536 s */

	/*
	 * RFC 3550 6.4.1 on the sender's side: it sent the SR at NTP ...38.5 and
	 * gets back LSR a3b2:8000 with DLSR 0.25 s at ...38.8125:
	 * A = a3b2:d000, A - LSR - DLSR = 0xd000 - 0x8000 - 0x4000 = 0x1000 = 62.5 ms.
	 */
	uint32_t rtt = 0;
	assert_int_equal(sipcx_rtcp_rtt(0xa3b2d000, 0xa3b28000, 0x4000, &rtt), 0);
	assert_int_equal(rtt, 0x1000);
	assert_int_equal(sipcx_rtcp_rtt(0xa3b2d000, 0, 0x4000, &rtt), -ENODATA);
	assert_int_equal(sipcx_rtcp_rtt(0xa3b2d000, 0xa3b28000, 0x5001, &rtt), -ERANGE);
	assert_int_equal(sipcx_rtcp_rtt(0xa3b27000, 0xa3b28000, 0, &rtt), -ERANGE);
	/* across the wrap of the 16.16 seconds */
	assert_int_equal(sipcx_rtcp_rtt(0x00000800, 0xfffff000, 0x0800, &rtt), 0);
	assert_int_equal(rtt, 0x1000);

	struct sipcx_rtp_sender tx;
	sipcx_rtp_sender_init(&tx, 0x1a2b3c4d, 8000);
	struct sipcx_rtcp_rb theirs = { 0x1a2b3c4d, 10, 3, 805, 18, 0xa3b28000, 0x4000 };
	assert_int_equal(sipcx_rtp_sender_rb(&tx, &theirs, 1699423538812500ull), 0);
	assert_int_equal(tx.rtt_us, 62500);
	assert_int_equal(tx.rtt_min_us, 62500);
	assert_int_equal(tx.rtt_max_us, 62500);
	assert_int_equal(tx.reports, 1);
	assert_int_equal(tx.remote.fraction, 10);
	assert_int_equal(tx.remote.lost, 3);
	/* 15.625 ms later: rtt 78125 us */
	assert_int_equal(sipcx_rtp_sender_rb(&tx, &theirs, 1699423538828125ull), 0);
	assert_int_equal(tx.rtt_us, 78125);
	assert_int_equal(tx.rtt_min_us, 62500);
	assert_int_equal(tx.rtt_max_us, 78125);
	assert_int_equal(tx.rtt_count, 2);
	assert_true(tx.rtt_sum_us == 62500 + 78125);
	/* a block about someone else, and one without an SR echo */
	theirs.ssrc = 1;
	assert_int_equal(sipcx_rtp_sender_rb(&tx, &theirs, 1699423538828125ull), -ENOENT);
	theirs.ssrc = 0x1a2b3c4d;
	theirs.lsr = 0;
	assert_int_equal(sipcx_rtp_sender_rb(&tx, &theirs, 1699423538828125ull), -ENODATA);
	assert_int_equal(tx.reports, 3);
	assert_int_equal(tx.rtt_count, 2);
}

static void test_stats_sender(void **state)
{
	(void)state;
	struct sipcx_rtp_sender tx;
	struct sipcx_rtcp_sender_info si;
	sipcx_rtp_sender_init(&tx, 42, 8000);
	sipcx_rtp_sender_info(&tx, 0, 1699423538500000ull, &si);
	assert_int_equal(si.packets, 0);
	assert_int_equal(si.rtp_ts, 0);
	sipcx_rtp_sender_sent(&tx, 1000, 160, 0);
	sipcx_rtp_sender_sent(&tx, 1160, 160, 20000);
	sipcx_rtp_sender_sent(&tx, 1320, 160, 40000);
	/* 10 ms after the last packet: 1320 + 80 */
	sipcx_rtp_sender_info(&tx, 50000, 1699423538500000ull, &si);
	assert_true(si.ntp == 0xe8f5a3b280000000ull);
	assert_int_equal(si.rtp_ts, 1400);
	assert_int_equal(si.packets, 3);
	assert_int_equal(si.octets, 480);
	/* the octet count wraps modulo 2^32 */
	tx.octets = UINT32_MAX;
	sipcx_rtp_sender_sent(&tx, 1480, 2, 60000);
	assert_int_equal(tx.octets, 1);
}

static void test_no_allocation(void **state)
{
	(void)state;
	uint8_t a[128], b[128];
	size_t na = load_hex("sr_sdes.hex", a, sizeof(a));
	size_t nb = load_hex("rr_sdes_bye.hex", b, sizeof(b));
	tu_alloc_install();
	long before = tu_alloc_count();
	struct sipcx_rtp_pkt pkt;
	sipcx_rtp_parse(&pkt, a, na);
	assert_int_equal(sipcx_rtcp_validate(a, na, SIPCX_RTCP_STRICT), 2);
	char line[256];
	sipcx_rtcp_snprint(line, sizeof(line), b, nb);
	struct sipcx_rtp_source s;
	sipcx_rtp_source_init(&s, 1);
	for (uint16_t i = 0; i < 100; i++)
		sipcx_rtp_source_update(&s, i, i * 160u, i * 160u, 160);
	struct sipcx_rtcp_rb rb;
	sipcx_rtp_source_report(&s, 0, &rb);
	struct sipcx_rtcp_writer w;
	sipcx_rtcp_writer_init(&w, b, sizeof(b));
	sipcx_rtcp_write_report(&w, 1, NULL, &rb, 1);
	assert_true(sipcx_rtcp_writer_finish(&w, 0) > 0);
	assert_int_equal(tu_alloc_count(), before);
	tu_alloc_uninstall();
}

/* ------------------------------------------------------- RFC 4733 -- */

static void test_event_payload(void **state)
{
	(void)state;
	struct sipcx_rtp_event ev;
	/* digit 9, volume 10 (-10 dBm0), 50 ms at 8 kHz = 400 units */
	static const uint8_t upd[4] = { 0x09, 0x0a, 0x01, 0x90 };
	assert_int_equal(sipcx_rtp_event_parse(&ev, upd, 4), 0);
	assert_int_equal(ev.event, 9);
	assert_false(ev.end);
	assert_false(ev.reserved);
	assert_int_equal(ev.volume, 10);
	assert_int_equal(ev.duration, 400);
	/* its end: E set, 100 ms */
	static const uint8_t end[4] = { 0x09, 0x8a, 0x03, 0x20 };
	assert_int_equal(sipcx_rtp_event_parse(&ev, end, 4), 0);
	assert_true(ev.end);
	assert_int_equal(ev.duration, 800);
	uint8_t out[4];
	assert_int_equal(sipcx_rtp_event_build(&ev, out, 4), 4);
	assert_memory_equal(out, end, 4);
	/* R is received as sent but never sent */
	static const uint8_t r_bit[4] = { 0x10, 0xff, 0xff, 0xff };
	assert_int_equal(sipcx_rtp_event_parse(&ev, r_bit, 4), 0);
	assert_int_equal(ev.event, SIPCX_EVENT_FLASH);
	assert_true(ev.end);
	assert_true(ev.reserved);
	assert_int_equal(ev.volume, 63);
	assert_int_equal(ev.duration, 65535);
	assert_int_equal(sipcx_rtp_event_build(&ev, out, 4), 4);
	assert_memory_equal(out, "\x10\xbf\xff\xff", 4);

	assert_int_equal(sipcx_rtp_event_parse(&ev, upd, 3), -EBADMSG);
	assert_int_equal(sipcx_rtp_event_build(&ev, out, 3), -ENOSPC);
	ev.volume = 64;
	assert_int_equal(sipcx_rtp_event_build(&ev, out, 4), -EINVAL);

	static const char *const want[] = { "0", "1", "2", "3", "4", "5", "6", "7",    "8",
		                            "9", "*", "#", "A", "B", "C", "D", "flash" };
	for (unsigned i = 0; i < 17; i++)
		assert_string_equal(sipcx_rtp_event_name(i), want[i]);
	assert_null(sipcx_rtp_event_name(17));
	assert_null(sipcx_rtp_event_name(255));
	const char *chars = "0123456789*#ABCD!";
	for (int i = 0; i < 17; i++) {
		assert_int_equal(sipcx_rtp_event_from_char(chars[i]), i);
		assert_int_equal(sipcx_rtp_event_char((unsigned)i), chars[i]); /* and back */
	}
	assert_int_equal(sipcx_rtp_event_char(17), 0); /* a tone event (RFC 4734), not a digit */
	assert_int_equal(sipcx_rtp_event_char(255), 0);
	assert_int_equal(sipcx_rtp_event_from_char('b'), 13);
	assert_int_equal(sipcx_rtp_event_from_char('E'), -EINVAL);
	assert_int_equal(sipcx_rtp_event_from_char(' '), -EINVAL);
}

struct evpkt {
	bool marker;
	uint32_t ts;
	uint8_t bytes[4];
};

/* Run a generator to the end; returns the number of packets. */
static size_t run_tx(struct sipcx_rtp_event_tx *tx, struct evpkt *out, size_t cap)
{
	size_t n = 0;
	struct sipcx_rtp_event ev;
	bool m;
	uint32_t ts;
	while (sipcx_rtp_event_tx_next(tx, &ev, &m, &ts) == 1) {
		assert_true(n < cap);
		out[n].marker = m;
		out[n].ts = ts;
		assert_int_equal(sipcx_rtp_event_build(&ev, out[n].bytes, 4), 4);
		n++;
	}
	assert_int_equal(sipcx_rtp_event_tx_next(tx, &ev, &m, &ts), 0);
	return n;
}

static void test_event_tx(void **state)
{
	(void)state;
	struct sipcx_rtp_event_tx tx;
	struct evpkt p[16];
	/* digit 1 for 100 ms at 8 kHz, 20 ms packets, from timestamp 4000 */
	assert_int_equal(sipcx_rtp_event_tx_start(&tx, 1, 10, 4000, 800, 160), 0);
	size_t n = run_tx(&tx, p, 16);
	static const struct evpkt want[] = {
		{ true, 4000, { 0x01, 0x0a, 0x00, 0xa0 } },  /* 160, marker */
		{ false, 4000, { 0x01, 0x0a, 0x01, 0x40 } }, /* 320 */
		{ false, 4000, { 0x01, 0x0a, 0x01, 0xe0 } }, /* 480 */
		{ false, 4000, { 0x01, 0x0a, 0x02, 0x80 } }, /* 640 */
		{ false, 4000, { 0x01, 0x8a, 0x03, 0x20 } }, /* 800, E */
		{ false, 4000, { 0x01, 0x8a, 0x03, 0x20 } }, /* again */
		{ false, 4000, { 0x01, 0x8a, 0x03, 0x20 } }, /* and a third time */
	};
	assert_int_equal(n, 7);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(p[i].marker, want[i].marker);
		assert_int_equal(p[i].ts, want[i].ts);
		assert_memory_equal(p[i].bytes, want[i].bytes, 4);
	}

	/* a duration that is not a multiple of the step: 160, 320, then 400 three times */
	assert_int_equal(sipcx_rtp_event_tx_start(&tx, SIPCX_EVENT_POUND, 0, 0, 400, 160), 0);
	n = run_tx(&tx, p, 16);
	assert_int_equal(n, 5);
	assert_memory_equal(p[1].bytes, "\x0b\x00\x01\x40", 4);
	assert_memory_equal(p[2].bytes, "\x0b\x80\x01\x90", 4);
	assert_memory_equal(p[4].bytes, "\x0b\x80\x01\x90", 4);

	/* shorter than one step: the first packet is already the end */
	assert_int_equal(sipcx_rtp_event_tx_start(&tx, 0, 7, 0xfffffff0u, 100, 160), 0);
	n = run_tx(&tx, p, 16);
	assert_int_equal(n, 3);
	assert_true(p[0].marker);
	assert_false(p[1].marker);
	assert_int_equal(p[2].ts, 0xfffffff0u);
	assert_memory_equal(p[0].bytes, "\x00\x87\x00\x64", 4);

	/* the longest single-segment event, with a step that would overflow past it */
	assert_int_equal(sipcx_rtp_event_tx_start(&tx, 2, 0, 0, 65535, 40000), 0);
	n = run_tx(&tx, p, 16);
	assert_int_equal(n, 4);
	assert_memory_equal(p[0].bytes, "\x02\x00\x9c\x40", 4);
	assert_memory_equal(p[1].bytes, "\x02\x80\xff\xff", 4);

	assert_int_equal(sipcx_rtp_event_tx_start(&tx, 1, 64, 0, 800, 160), -EINVAL);
	assert_int_equal(sipcx_rtp_event_tx_start(&tx, 1, 0, 0, 0, 160), -EINVAL);
	assert_int_equal(sipcx_rtp_event_tx_start(&tx, 1, 0, 0, 65536, 160), -EINVAL);
	assert_int_equal(sipcx_rtp_event_tx_start(&tx, 1, 0, 0, 800, 0), -EINVAL);
}

static int rx_feed(struct sipcx_rtp_event_rx *rx, const struct evpkt *p)
{
	struct sipcx_rtp_event ev;
	assert_int_equal(sipcx_rtp_event_parse(&ev, p->bytes, 4), 0);
	return sipcx_rtp_event_rx_input(rx, p->ts, &ev);
}

static void test_event_rx(void **state)
{
	(void)state;
	struct sipcx_rtp_event_tx tx;
	struct sipcx_rtp_event_rx rx;
	struct evpkt p[16];
	assert_int_equal(sipcx_rtp_event_tx_start(&tx, 5, 10, 8000, 800, 160), 0);
	size_t n = run_tx(&tx, p, 16);
	assert_int_equal(n, 7);

	/* everything arrives: one BEGIN, one END, nothing for the repeats */
	sipcx_rtp_event_rx_init(&rx);
	int begins = 0, ends = 0;
	for (size_t i = 0; i < n; i++) {
		int f = rx_feed(&rx, &p[i]);
		begins += !!(f & SIPCX_RTP_EVENT_BEGIN);
		ends += !!(f & SIPCX_RTP_EVENT_END);
		if (i == 0)
			assert_int_equal(f, SIPCX_RTP_EVENT_BEGIN);
		if (i == 4)
			assert_int_equal(f, SIPCX_RTP_EVENT_END);
	}
	assert_int_equal(begins, 1);
	assert_int_equal(ends, 1);
	assert_int_equal(rx.event, 5);

	/* the first two packets (with the marker) lost: still reported once */
	sipcx_rtp_event_rx_init(&rx);
	assert_int_equal(rx_feed(&rx, &p[2]), SIPCX_RTP_EVENT_BEGIN);
	assert_int_equal(rx_feed(&rx, &p[3]), 0);
	assert_int_equal(rx_feed(&rx, &p[4]), SIPCX_RTP_EVENT_END);
	assert_int_equal(rx_feed(&rx, &p[5]), 0);

	/* only the last end packet survives: begin and end at once */
	sipcx_rtp_event_rx_init(&rx);
	assert_int_equal(rx_feed(&rx, &p[6]), SIPCX_RTP_EVENT_BEGIN | SIPCX_RTP_EVENT_END);

	/* the same digit again, pressed later: a new event; a late repeat of the first: nothing */
	struct evpkt again[16];
	assert_int_equal(sipcx_rtp_event_tx_start(&tx, 5, 10, 8000 + 1600, 800, 160), 0);
	size_t n2 = run_tx(&tx, again, 16);
	assert_int_equal(n2, 7);
	assert_int_equal(rx_feed(&rx, &again[0]), SIPCX_RTP_EVENT_BEGIN);
	assert_int_equal(rx_feed(&rx, &p[5]), 0);
	assert_int_equal(rx_feed(&rx, &again[4]), SIPCX_RTP_EVENT_END);

	/* events across the timestamp wrap */
	sipcx_rtp_event_rx_init(&rx);
	struct evpkt w1 = { true, 0xffffff00u, { 1, 0x8a, 0, 160 } };
	struct evpkt w2 = { true, 0x00000100u, { 2, 0x8a, 0, 160 } };
	assert_int_equal(rx_feed(&rx, &w1), SIPCX_RTP_EVENT_BEGIN | SIPCX_RTP_EVENT_END);
	assert_int_equal(rx_feed(&rx, &w2), SIPCX_RTP_EVENT_BEGIN | SIPCX_RTP_EVENT_END);
	assert_int_equal(rx.event, 2);
	assert_int_equal(rx_feed(&rx, &w1), 0);
	assert_int_equal(sipcx_rtp_event_rx_input(&rx, 0, NULL), -EINVAL);
}

/* The E-model estimate: known points of G.107 with G.711, monotonic, bounded. */
static void test_mos(void **state)
{
	(void)state;
	/* no loss, no delay: R = 93.2 - 0.48 (20 ms of packetisation) = 92.72 -> 4.40 */
	assert_true(fabs(sipcx_rtp_mos(0, 0, 0) - 4.40) < 0.005);
	/* 1 % random loss: Ie,eff = 95 * 1 / 26.1 = 3.64 -> R 89.08 -> 4.32 */
	assert_true(fabs(sipcx_rtp_mos(1, 0, 0) - 4.316) < 0.005);
	/* 400 ms round trip: d = 220 ms, Id = 5.28 + 0.11 * 42.7 -> R 83.22 -> 4.14 */
	assert_true(fabs(sipcx_rtp_mos(0, 400, 0) - 4.14) < 0.005);
	assert_true(sipcx_rtp_mos(100, 0, 0) < 1.2);
	assert_true(sipcx_rtp_mos(0, 5000, 0) == 1.0);
	double last = 5;
	for (double loss = 0; loss <= 100; loss += 0.5) {
		double m = sipcx_rtp_mos(loss, 40, 5);
		assert_true(m <= last && m >= 1.0 && m <= 4.5);
		last = m;
	}
	assert_true(sipcx_rtp_mos(-3, -1, -1) == sipcx_rtp_mos(0, 0, 0));
	assert_true(sipcx_rtp_mos(300, 0, 0) == sipcx_rtp_mos(100, 0, 0));
	assert_true(sipcx_rtp_mos(NAN, 0, 0) == sipcx_rtp_mos(0, 0, 0));
}

/* SIP INFO DTMF bodies as PBXs send them, and what is not a digit. */
static void test_dtmf_info(void **state)
{
	(void)state;
	char d = 0;
	unsigned ms = 1;
	struct sipcx_str relay = SIPCX_STR("application/dtmf-relay");
	assert_int_equal(
	    sipcx_dtmf_info_parse(relay, SIPCX_STR("Signal=5\r\nDuration=160\r\n"), &d, &ms), 0);
	assert_int_equal(d, '5');
	assert_int_equal(ms, 160);
	assert_int_equal(sipcx_dtmf_info_parse(SIPCX_STR("Application/DTMF-Relay; x=1"),
	                                       SIPCX_STR("signal = 11\nduration= 250"), &d, &ms),
	                 0);
	assert_int_equal(d, '#');
	assert_int_equal(ms, 250);
	assert_int_equal(sipcx_dtmf_info_parse(relay, SIPCX_STR("Signal=10"), &d, &ms), 0);
	assert_int_equal(d, '*');
	assert_int_equal(ms, 0);
	assert_int_equal(sipcx_dtmf_info_parse(relay, SIPCX_STR("Signal=b\r\n"), &d, &ms), 0);
	assert_int_equal(d, 'B');
	assert_int_equal(
	    sipcx_dtmf_info_parse(relay, SIPCX_STR("Signal=!\r\nDuration=99999999999"), &d, &ms),
	    0);
	assert_int_equal(d, '!');
	assert_true(ms <= 100000);
	assert_int_equal(
	    sipcx_dtmf_info_parse(SIPCX_STR("application/dtmf"), SIPCX_STR(" 7\r\n"), &d, &ms), 0);
	assert_int_equal(d, '7');
	/* not a digit */
	assert_int_equal(sipcx_dtmf_info_parse(relay, SIPCX_STR("Signal=12\r\n"), &d, &ms),
	                 -ENOENT);
	assert_int_equal(sipcx_dtmf_info_parse(relay, SIPCX_STR("Signal=x"), &d, &ms), -ENOENT);
	assert_int_equal(sipcx_dtmf_info_parse(relay, SIPCX_STR("Duration=100"), &d, &ms), -ENOENT);
	assert_int_equal(sipcx_dtmf_info_parse(relay, SIPCX_STR(""), &d, &ms), -ENOENT);
	assert_int_equal(
	    sipcx_dtmf_info_parse(SIPCX_STR("application/dtmfx"), SIPCX_STR("5"), &d, &ms),
	    -ENOENT);
	assert_int_equal(
	    sipcx_dtmf_info_parse(SIPCX_STR("text/plain"), SIPCX_STR("Signal=5"), &d, &ms),
	    -ENOENT);
	assert_int_equal(
	    sipcx_dtmf_info_parse(SIPCX_STR("application/dtmf"), SIPCX_STR("55"), &d, &ms),
	    -ENOENT);
	assert_int_equal(sipcx_dtmf_info_parse(relay, SIPCX_STR("x"), NULL, &ms), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtp_parse_plain),
		cmocka_unit_test(test_rtp_parse_all_options),
		cmocka_unit_test(test_rtp_malformed),
		cmocka_unit_test(test_rtp_build),
		cmocka_unit_test(test_rtp_demux),
		cmocka_unit_test(test_rtcp_sr_sdes),
		cmocka_unit_test(test_rtcp_rr_sdes_bye),
		cmocka_unit_test(test_rtcp_strict_and_unknown),
		cmocka_unit_test(test_rtcp_malformed),
		cmocka_unit_test(test_rtcp_extension_and_text),
		cmocka_unit_test(test_rtcp_writer),
		cmocka_unit_test(test_ntp),
		cmocka_unit_test(test_stats_sequence),
		cmocka_unit_test(test_stats_probation),
		cmocka_unit_test(test_stats_clamp),
		cmocka_unit_test(test_stats_rtt),
		cmocka_unit_test(test_stats_sender),
		cmocka_unit_test(test_no_allocation),
		cmocka_unit_test(test_event_payload),
		cmocka_unit_test(test_event_tx),
		cmocka_unit_test(test_event_rx),
		cmocka_unit_test(test_mos),
		cmocka_unit_test(test_dtmf_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
