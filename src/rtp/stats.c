/* rtp/stats.c: reception and sending statistics, RFC 3550 A.1 (sequence), A.3 (loss), A.8 (jitter), 6.4.1 (LSR, DLSR, RTT). */
#include <errno.h>
#include <string.h>

#include "rtp/rtp.h"

#define RTP_SEQ_MOD (1u << 16)
#define NTP_UNIX_OFFSET 2208988800u /* seconds from 1900 to 1970 */
#define US 1000000u

uint64_t sipcx_rtp_ntp_from_us(uint64_t wall_us)
{
	uint64_t sec = wall_us / US + NTP_UNIX_OFFSET;
	uint64_t frac = ((wall_us % US) << 32) / US;
	return sec << 32 | frac;
}

uint64_t sipcx_rtp_ntp_to_us(uint64_t ntp)
{
	uint64_t sec = ntp >> 32;
	if (sec < NTP_UNIX_OFFSET)
		return 0;
	return (sec - NTP_UNIX_OFFSET) * US + (((ntp & 0xffffffffu) * US) >> 32);
}

uint32_t sipcx_rtp_ntp_mid(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

uint32_t sipcx_rtp_clock_units(uint64_t us, uint32_t clock_rate)
{
	/* split so neither product overflows what matters: only the result mod 2^32 is kept */
	return (uint32_t)((us / US) * clock_rate + (us % US) * clock_rate / US);
}

/* --- reception (A.1) --- */

static void init_seq(struct sipcx_rtp_source *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = RTP_SEQ_MOD + 1; /* so seq == bad_seq is false */
	s->cycles = 0;
	s->received = 0;
	s->received_prior = 0;
	s->expected_prior = 0;
	s->octets = 0;
	s->duplicates = 0;
	s->late = 0;
	s->window = 0;
	/* a restarted sender may have a new timestamp base: the next transit is a new baseline */
	s->have_transit = false;
}

void sipcx_rtp_source_init(struct sipcx_rtp_source *s, uint32_t ssrc)
{
	memset(s, 0, sizeof(*s));
	s->ssrc = ssrc;
}

static void jitter_update(struct sipcx_rtp_source *s, uint32_t ts, uint32_t arrival)
{
	/* A.8: D(i-1,i) = (Rj - Sj) - (Ri - Si); J += (|D| - J) / 16, in Q4 integers */
	uint32_t transit = arrival - ts;
	if (s->have_transit) {
		int32_t d = (int32_t)(transit - s->transit);
		uint64_t ad = d < 0 ? (uint64_t) - (int64_t)d : (uint64_t)d;
		s->jitter_q4 = s->jitter_q4 + ad - ((s->jitter_q4 + 8) >> 4);
	}
	s->transit = transit;
	s->have_transit = true;
}

enum sipcx_rtp_seq sipcx_rtp_source_update(struct sipcx_rtp_source *s, uint16_t seq, uint32_t ts,
                                           uint32_t arrival, size_t octets)
{
	enum sipcx_rtp_seq res = SIPCX_RTP_SEQ_OK;

	if (!s->started) {
		/* A.1: a new source is valid only after MIN_SEQUENTIAL packets in sequence */
		init_seq(s, seq);
		s->max_seq = (uint16_t)(seq - 1);
		s->probation = SIPCX_RTP_MIN_SEQUENTIAL;
		s->started = true;
	}
	uint16_t udelta = (uint16_t)(seq - s->max_seq);

	if (s->probation) {
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				init_seq(s, seq);
				s->window = 1;
				goto counted;
			}
		} else {
			s->probation = SIPCX_RTP_MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		return SIPCX_RTP_SEQ_PROBATION;
	} else if (udelta < SIPCX_RTP_MAX_DROPOUT) {
		/* in order, with a permissible gap */
		if (udelta == 0) {
			s->duplicates++; /* the highest again */
		} else {
			if (seq < s->max_seq)
				s->cycles += RTP_SEQ_MOD; /* wrapped */
			s->window = udelta >= 64 ? 1 : (s->window << udelta) | 1;
			s->max_seq = seq;
		}
	} else if (udelta <= RTP_SEQ_MOD - SIPCX_RTP_MAX_MISORDER) {
		/* the sequence number made a very large jump */
		if (seq == s->bad_seq) {
			/* two sequential packets: assume the other side restarted without telling us */
			init_seq(s, seq);
			s->window = 1;
			s->restarts++;
			res = SIPCX_RTP_SEQ_RESTART;
		} else {
			s->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
			return SIPCX_RTP_SEQ_BAD;
		}
	} else {
		/* duplicate or reordered packet: counted as received (6.4.1), so lost may go negative */
		unsigned back = (uint16_t)(s->max_seq - seq);
		uint64_t bit = back < 64 ? (uint64_t)1 << back : 0;
		if (bit && (s->window & bit)) {
			s->duplicates++;
		} else {
			s->window |= bit;
			s->late++;
		}
	}
counted:
	s->received++;
	s->octets += octets;
	jitter_update(s, ts, arrival);
	return res;
}

static bool valid(const struct sipcx_rtp_source *s)
{
	return s->started && s->probation == 0;
}

uint32_t sipcx_rtp_source_ext_max(const struct sipcx_rtp_source *s)
{
	return valid(s) ? s->cycles + s->max_seq : 0;
}

uint32_t sipcx_rtp_source_expected(const struct sipcx_rtp_source *s)
{
	/* A.3 */
	return valid(s) ? s->cycles + s->max_seq - s->base_seq + 1 : 0;
}

int64_t sipcx_rtp_source_lost(const struct sipcx_rtp_source *s)
{
	return (int64_t)sipcx_rtp_source_expected(s) - (int64_t)s->received;
}

uint32_t sipcx_rtp_source_jitter(const struct sipcx_rtp_source *s)
{
	uint64_t j = s->jitter_q4 >> 4;
	return j > UINT32_MAX ? UINT32_MAX : (uint32_t)j;
}

void sipcx_rtp_source_sr(struct sipcx_rtp_source *s, const struct sipcx_rtcp_sender_info *si,
                         uint64_t now_us)
{
	s->have_sr = true;
	s->last_sr = *si;
	s->lsr = sipcx_rtp_ntp_mid(si->ntp);
	s->lsr_us = now_us;
}

void sipcx_rtp_source_report(struct sipcx_rtp_source *s, uint64_t now_us, struct sipcx_rtcp_rb *rb)
{
	memset(rb, 0, sizeof(*rb));
	rb->ssrc = s->ssrc;
	if (s->have_sr) {
		rb->lsr = s->lsr;
		uint64_t d = now_us > s->lsr_us ? now_us - s->lsr_us : 0;
		/* 1/65536 s units; a delay past 18 hours saturates */
		uint64_t dlsr = d / US * 65536 + (d % US) * 65536 / US;
		rb->dlsr = dlsr > UINT32_MAX ? UINT32_MAX : (uint32_t)dlsr;
	}
	if (!valid(s))
		return;

	/* A.3 */
	uint32_t expected = sipcx_rtp_source_expected(s);
	int64_t lost = (int64_t)expected - (int64_t)s->received;
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	else if (lost < -0x800000)
		lost = -0x800000;
	uint32_t expected_interval = expected - s->expected_prior;
	s->expected_prior = expected;
	uint32_t received_interval = s->received - s->received_prior;
	s->received_prior = s->received;
	int64_t lost_interval = (int64_t)expected_interval - (int64_t)received_interval;
	uint32_t fraction = 0;
	if (expected_interval != 0 && lost_interval > 0) {
		fraction = (uint32_t)(((uint64_t)lost_interval << 8) / expected_interval);
		if (fraction > 255) /* all lost is 256/256: the 8-bit field tops out */
			fraction = 255;
	}

	rb->fraction = (uint8_t)fraction;
	rb->lost = (int32_t)lost;
	rb->ext_seq = sipcx_rtp_source_ext_max(s);
	rb->jitter = sipcx_rtp_source_jitter(s);
}

/* --- sending --- */

void sipcx_rtp_sender_init(struct sipcx_rtp_sender *s, uint32_t ssrc, uint32_t clock_rate)
{
	memset(s, 0, sizeof(*s));
	s->ssrc = ssrc;
	s->clock_rate = clock_rate;
}

void sipcx_rtp_sender_sent(struct sipcx_rtp_sender *s, uint32_t ts, size_t payload_len,
                           uint64_t now_us)
{
	/* 6.4.1: both counts wrap modulo 2^32 */
	s->packets++;
	s->octets += (uint32_t)payload_len;
	s->sent = true;
	s->last_ts = ts;
	s->last_us = now_us;
}

void sipcx_rtp_sender_info(const struct sipcx_rtp_sender *s, uint64_t now_us, uint64_t wall_us,
                           struct sipcx_rtcp_sender_info *si)
{
	si->ntp = sipcx_rtp_ntp_from_us(wall_us);
	si->packets = s->packets;
	si->octets = s->octets;
	si->rtp_ts = s->last_ts;
	if (s->sent && now_us > s->last_us)
		si->rtp_ts += sipcx_rtp_clock_units(now_us - s->last_us, s->clock_rate);
}

int sipcx_rtcp_rtt(uint32_t arrival_ntp_mid, uint32_t lsr, uint32_t dlsr, uint32_t *rtt)
{
	if (lsr == 0)
		return -ENODATA;
	uint32_t since = arrival_ntp_mid - lsr;
	/* a "negative" interval (clock stepped back, or a bogus block) has the top bit set */
	if (since >= 0x80000000u || since < dlsr)
		return -ERANGE;
	*rtt = since - dlsr;
	return 0;
}

int sipcx_rtp_sender_rb(struct sipcx_rtp_sender *s, const struct sipcx_rtcp_rb *rb,
                        uint64_t wall_us)
{
	if (rb->ssrc != s->ssrc)
		return -ENOENT;
	s->reports++;
	s->remote = *rb;
	uint32_t r16;
	int rc = sipcx_rtcp_rtt(sipcx_rtp_ntp_mid(sipcx_rtp_ntp_from_us(wall_us)), rb->lsr,
	                        rb->dlsr, &r16);
	if (rc < 0)
		return rc;
	uint64_t us64 = ((uint64_t)r16 * US) >> 16;
	uint32_t us = us64 > UINT32_MAX ? UINT32_MAX : (uint32_t)us64;
	s->rtt_us = us;
	if (s->rtt_count == 0 || us < s->rtt_min_us)
		s->rtt_min_us = us;
	if (us > s->rtt_max_us)
		s->rtt_max_us = us;
	s->rtt_sum_us += us;
	s->rtt_count++;
	return 0;
}

double sipcx_rtp_mos(double loss_pct, double rtt_ms, double jitter_ms)
{
	if (!(loss_pct > 0))
		loss_pct = 0; /* NaN too */
	if (loss_pct > 100)
		loss_pct = 100;
	if (!(rtt_ms > 0))
		rtt_ms = 0;
	if (!(jitter_ms > 0))
		jitter_ms = 0;
	double d = rtt_ms / 2 + 2 * jitter_ms + 20;
	double id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
	double ie = 95.0 * loss_pct / (loss_pct + 25.1);
	double r = 93.2 - id - ie;
	if (r <= 0)
		return 1.0;
	if (r >= 100)
		return 4.5;
	double mos = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
	return mos < 1 ? 1 : mos > 4.5 ? 4.5 : mos;
}
