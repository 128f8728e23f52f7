/* media/wav.c: RIFF/WAVE 16-bit PCM files (Microsoft RIFF, WAVE_FORMAT_EXTENSIBLE), resampled to 8 kHz on reading. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sipcx/wav.h>

#define OUT_RATE 8000u
#define MIN_RATE 8000u
#define MAX_RATE 192000u
#define WRITE_MIN_RATE 1000u
#define FMT_MAX 4096u /* a fmt chunk is 16..40 bytes; anything this long is not one */
#define HDR_LEN 44u
#define DATA_MAX 0xFFFFFFD8u /* the largest even data size whose RIFF size (36 + it) fits */
#define PREFIX_FIRST 65536u
#define PREFIX_MAX (64u << 20) /* chunks before the samples (or fmt after them) up to this */

/* The resampler: a windowed sinc of CUTOFF Hz, HALF_SPAN output periods each side. */
#define CUTOFF 3500.0
#define HALF_SPAN 24u
#define TABLE_LEN 4096u /* kernel samples over one half span, linearly interpolated */
#define PI 3.14159265358979323846

enum { MODE_READ = 1, MODE_WRITE = 2 };

struct sipcx_wav {
	FILE *f;
	int mode;
	uint32_t rate;
	/* reading */
	size_t data_offset;
	uint64_t data_len; /* bytes of samples, clamped to the file */
	uint64_t pos;      /* bytes of samples consumed */
	/* resampling (rate != 8000) */
	uint64_t out_total; /* output samples the file makes */
	uint64_t out_k;     /* next output sample */
	double span;        /* half span in input samples */
	unsigned ispan;     /* ceil(span) */
	int16_t *buf;       /* input samples buf_start .. buf_start + buf_n - 1 */
	size_t buf_cap, buf_n;
	uint64_t buf_start;
	float *kernel; /* TABLE_LEN + 2 values of the kernel at |t| / span */
	/* writing */
	uint64_t data_bytes;
	int err;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* KSDATAFORMAT_SUBTYPE_*: the format code in the first 4 bytes, then this. */
static const uint8_t guid_tail[12] = { 0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
	                               0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71 };

static int parse_fmt(const uint8_t *p, uint32_t size, struct sipcx_wav_info *info)
{
	if (size < 16)
		return -EINVAL;
	info->format = rd16(p);
	info->channels = rd16(p + 2);
	info->rate = rd32(p + 4);
	info->block_align = rd16(p + 12);
	info->bits = rd16(p + 14);
	if (info->format == 0xfffe) {
		/* WAVE_FORMAT_EXTENSIBLE: cbSize 22, valid bits, channel mask, subformat GUID */
		if (size < 40 || rd16(p + 16) < 22)
			return -EINVAL;
		info->extensible = 1;
		if (rd16(p + 18) > info->bits)
			return -EINVAL;
		if (memcmp(p + 28, guid_tail, sizeof(guid_tail)) != 0 || rd32(p + 24) > 0xffff)
			return -ENOTSUP; /* a vendor's GUID: not one of the standard subformats */
		info->format = rd16(p + 24);
	}
	if (info->channels == 0 || info->rate == 0 || info->bits == 0)
		return -EINVAL;
	if (info->format == 1 && info->block_align != info->channels * ((info->bits + 7u) / 8u))
		return -EINVAL;
	return 0;
}

int sipcx_wav_parse(const void *data, size_t len, struct sipcx_wav_info *info)
{
	const uint8_t *p = data;
	if (!info || (!data && len))
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	if (len >= 4 && memcmp(p, "RIFF", 4) != 0)
		return -EINVAL;
	if (len >= 12 && memcmp(p + 8, "WAVE", 4) != 0)
		return -EINVAL;
	if (len < 12)
		return -EAGAIN;
	bool have_fmt = false, have_data = false;
	int fmt_err = 0;
	uint64_t off = 12;
	/* The RIFF size is not trusted: walk to the end of the buffer. */
	while (!(have_fmt && have_data)) {
		if (off + 8 > len)
			return -EAGAIN;
		const uint8_t *c = p + off;
		uint32_t size = rd32(c + 4);
		uint64_t body = off + 8;
		if (!have_fmt && memcmp(c, "fmt ", 4) == 0) {
			if (size > FMT_MAX)
				return -EINVAL;
			if (body + size > len)
				return -EAGAIN;
			fmt_err = parse_fmt(c + 8, size, info);
			if (fmt_err == -EINVAL)
				return fmt_err;
			have_fmt = true;
		} else if (!have_data && memcmp(c, "data", 4) == 0) {
			info->data_offset = (size_t)body;
			info->data_size = size;
			have_data = true;
			if (have_fmt)
				break; /* the samples may run past the buffer */
		}
		/* RIFF: a chunk of odd size is followed by a pad byte */
		off = body + size + (size & 1u);
	}
	uint64_t avail = len - info->data_offset;
	uint64_t n = info->data_size < avail ? info->data_size : avail;
	if (info->block_align)
		n -= n % info->block_align;
	info->data_len = (size_t)n;
	if (fmt_err)
		return fmt_err;
	if (info->format != 1 || info->bits != 16 || info->channels != 1 || info->rate < MIN_RATE ||
	    info->rate > MAX_RATE)
		return -ENOTSUP;
	return 0;
}

static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* Samples from the file, at most n, within the data chunk. */
static size_t read_in(struct sipcx_wav *w, int16_t *dst, size_t n)
{
	uint8_t raw[4096];
	size_t got = 0;
	while (got < n && w->pos < w->data_len) {
		uint64_t left = (w->data_len - w->pos) / 2;
		size_t want = n - got;
		if (want > sizeof(raw) / 2)
			want = sizeof(raw) / 2;
		if (want > left)
			want = (size_t)left;
		size_t r = fread(raw, 2, want, w->f);
		for (size_t i = 0; i < r; i++)
			dst[got + i] = (int16_t)rd16(raw + 2 * i);
		got += r;
		w->pos += 2 * (uint64_t)r;
		if (r < want) {
			w->pos = w->data_len; /* the file shrank or failed: that is its end */
			break;
		}
	}
	return got;
}

static double blackman(double u)
{
	return 0.42 + 0.5 * cos(PI * u) + 0.08 * cos(2 * PI * u);
}

/*
 * The kernel over u = |t| / span, t in input samples: sinc(2 CUTOFF t / rate)
 * times a Blackman window. As span = HALF_SPAN * rate / 8000, the sinc's
 * argument is 2 CUTOFF HALF_SPAN u / 8000 whatever the input rate, so one
 * table serves every rate.
 */
static void make_kernel(float *k)
{
	const double z = 2.0 * CUTOFF * HALF_SPAN / OUT_RATE;
	for (unsigned i = 0; i <= TABLE_LEN; i++) {
		double u = (double)i / TABLE_LEN;
		double x = PI * z * u;
		k[i] = (float)((i ? sin(x) / x : 1.0) * blackman(u));
	}
	k[TABLE_LEN + 1] = 0;
}

static double kernel_at(const float *k, double u)
{
	double x = u * TABLE_LEN;
	unsigned i = (unsigned)x;
	double f = x - i;
	return k[i] + (k[i + 1] - k[i]) * f;
}

/* One output sample at 8 kHz, at input time out_k * rate / 8000. */
static int16_t resample_one(struct sipcx_wav *w)
{
	uint64_t num = w->out_k * w->rate;
	uint64_t ci = num / OUT_RATE;
	double frac = (double)(num % OUT_RATE) / OUT_RATE;
	uint64_t lo = ci > w->ispan ? ci - w->ispan : 0;
	uint64_t hi = ci + w->ispan + 1;
	/* drop what no later output needs, then read through hi */
	if (lo > w->buf_start) {
		uint64_t drop = lo - w->buf_start;
		if (drop > w->buf_n)
			drop = w->buf_n;
		memmove(w->buf, w->buf + drop, (w->buf_n - (size_t)drop) * sizeof(*w->buf));
		w->buf_n -= (size_t)drop;
		w->buf_start += drop;
	}
	while (w->buf_start + w->buf_n <= hi && w->pos < w->data_len) {
		size_t r = read_in(w, w->buf + w->buf_n, w->buf_cap - w->buf_n);
		if (r == 0)
			break;
		w->buf_n += r;
	}
	double acc = 0, wsum = 0;
	for (uint64_t j = ci > w->ispan ? ci - w->ispan : 0; j <= hi; j++) {
		double t = fabs((double)j - (double)ci - frac);
		if (t >= w->span)
			continue;
		double h = kernel_at(w->kernel, t / w->span);
		wsum += h;
		if (j >= w->buf_start && j < w->buf_start + w->buf_n)
			acc += h * w->buf[j - w->buf_start];
	}
	/*
	 * Taps before the first sample count in wsum as zeros, as after the
	 * last: dividing by the sum of the taps keeps the DC gain at exactly 1
	 * whatever the phase of the output instant.
	 */
	if (ci < w->ispan) {
		for (uint64_t m = 1; m <= w->ispan - ci; m++) {
			double t = (double)ci + frac + (double)m;
			if (t < w->span)
				wsum += kernel_at(w->kernel, t / w->span);
		}
	}
	double y = wsum > 0 ? acc / wsum : 0;
	w->out_k++;
	if (y > 32767)
		return 32767;
	if (y < -32768)
		return -32768;
	return (int16_t)lrint(y);
}

static int setup_resampler(struct sipcx_wav *w)
{
	w->span = (double)HALF_SPAN * w->rate / OUT_RATE;
	w->ispan = (unsigned)ceil(w->span);
	w->buf_cap = 2 * (size_t)w->ispan + 4 + 2048;
	w->buf = sipcx_malloc(w->buf_cap * sizeof(*w->buf));
	w->kernel = sipcx_malloc((TABLE_LEN + 2) * sizeof(*w->kernel));
	if (!w->buf || !w->kernel)
		return -ENOMEM;
	make_kernel(w->kernel);
	uint64_t n_in = w->data_len / 2;
	w->out_total = (n_in * OUT_RATE + w->rate - 1) / w->rate;
	return 0;
}

static void wav_free(struct sipcx_wav *w)
{
	if (w->f)
		fclose(w->f);
	sipcx_free(w->buf);
	sipcx_free(w->kernel);
	sipcx_free(w);
}

/* Read the file's head, more of it while the parser needs more. */
static int read_header(FILE *f, struct sipcx_wav_info *info, uint64_t *file_size)
{
	if (fseek(f, 0, SEEK_END) != 0)
		return neg_errno();
	long end = ftell(f);
	if (end < 0)
		return neg_errno();
	if (fseek(f, 0, SEEK_SET) != 0)
		return neg_errno();
	*file_size = (uint64_t)end;
	size_t want = PREFIX_FIRST, have = 0;
	uint8_t *buf = NULL;
	int r;
	for (;;) {
		if (want > *file_size)
			want = (size_t)*file_size;
		uint8_t *nb = sipcx_malloc(want ? want : 1);
		if (!nb) {
			sipcx_free(buf);
			return -ENOMEM;
		}
		if (have)
			memcpy(nb, buf, have);
		sipcx_free(buf);
		buf = nb;
		have += fread(buf + have, 1, want - have, f);
		if (ferror(f)) {
			r = neg_errno();
			break;
		}
		r = sipcx_wav_parse(buf, have, info);
		if (r != -EAGAIN)
			break;
		if (have < want || have >= *file_size || want >= PREFIX_MAX) {
			r = -EINVAL; /* the file ends (or is absurd) before the samples */
			break;
		}
		want *= 4;
	}
	sipcx_free(buf);
	return r;
}

int sipcx_wav_open_read(const char *path, struct sipcx_wav **out)
{
	if (!path || !out)
		return -EINVAL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return neg_errno();
	struct sipcx_wav_info info;
	uint64_t file_size = 0;
	int r = read_header(f, &info, &file_size);
	if (r < 0) {
		fclose(f);
		return r;
	}
	struct sipcx_wav *w = sipcx_calloc(1, sizeof(*w));
	if (!w) {
		fclose(f);
		return -ENOMEM;
	}
	w->f = f;
	w->mode = MODE_READ;
	w->rate = info.rate;
	w->data_offset = info.data_offset;
	/* a data chunk declared longer than the file ends with the file */
	uint64_t avail = file_size > info.data_offset ? file_size - info.data_offset : 0;
	w->data_len = info.data_size < avail ? info.data_size : avail;
	w->data_len &= ~(uint64_t)1;
	if (w->rate != OUT_RATE && (r = setup_resampler(w)) < 0) {
		wav_free(w);
		return r;
	}
	sipcx_wav_rewind(w);
	*out = w;
	return 0;
}

size_t sipcx_wav_read(struct sipcx_wav *w, int16_t *out, size_t n)
{
	if (!w || w->mode != MODE_READ || !out)
		return 0;
	if (w->rate == OUT_RATE)
		return read_in(w, out, n);
	size_t i = 0;
	while (i < n && w->out_k < w->out_total)
		out[i++] = resample_one(w);
	return i;
}

void sipcx_wav_rewind(struct sipcx_wav *w)
{
	if (!w || w->mode != MODE_READ)
		return;
	if (fseek(w->f, (long)w->data_offset, SEEK_SET) != 0)
		w->pos = w->data_len; /* cannot seek: nothing more to read */
	else
		w->pos = 0;
	w->out_k = 0;
	w->buf_n = 0;
	w->buf_start = 0;
}

uint32_t sipcx_wav_rate(const struct sipcx_wav *w)
{
	return w ? w->rate : 0;
}

void sipcx_wav_close(struct sipcx_wav *w)
{
	if (!w)
		return;
	if (w->mode == MODE_WRITE) {
		(void)sipcx_wav_close_write(w);
		return;
	}
	wav_free(w);
}

/* ----------------------------------------------------------- writing -- */

static void set_err(struct sipcx_wav *w, int err)
{
	if (!w->err)
		w->err = err;
}

static void put(struct sipcx_wav *w, const void *p, size_t n)
{
	if (w->err)
		return;
	errno = 0;
	if (fwrite(p, 1, n, w->f) != n)
		set_err(w, neg_errno());
}

int sipcx_wav_open_write(const char *path, uint32_t rate, struct sipcx_wav **out)
{
	if (!path || !out || rate < WRITE_MIN_RATE || rate > MAX_RATE)
		return -EINVAL;
	struct sipcx_wav *w = sipcx_calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->f = fopen(path, "wb");
	if (!w->f) {
		int r = neg_errno();
		sipcx_free(w);
		return r;
	}
	w->mode = MODE_WRITE;
	w->rate = rate;
	uint8_t h[HDR_LEN];
	memcpy(h, "RIFF", 4);
	wr32(h + 4, 0xffffffffu); /* sizes unknown until closed */
	memcpy(h + 8, "WAVEfmt ", 8);
	wr32(h + 16, 16);
	wr16(h + 20, 1); /* PCM */
	wr16(h + 22, 1); /* mono */
	wr32(h + 24, rate);
	wr32(h + 28, rate * 2); /* bytes per second */
	wr16(h + 32, 2);        /* bytes per frame */
	wr16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	wr32(h + 40, 0xffffffffu);
	put(w, h, sizeof(h));
	if (w->err) {
		int r = w->err;
		wav_free(w);
		return r;
	}
	*out = w;
	return 0;
}

int sipcx_wav_write(struct sipcx_wav *w, const int16_t *pcm, size_t n)
{
	if (!w || w->mode != MODE_WRITE || (!pcm && n))
		return -EINVAL;
	if (w->err)
		return w->err;
	if (n > (DATA_MAX - w->data_bytes) / 2)
		return -EFBIG;
	uint8_t raw[4096];
	for (size_t done = 0; done < n && !w->err;) {
		size_t k = n - done;
		if (k > sizeof(raw) / 2)
			k = sizeof(raw) / 2;
		for (size_t i = 0; i < k; i++)
			wr16(raw + 2 * i, (uint16_t)pcm[done + i]);
		put(w, raw, 2 * k);
		done += k;
	}
	if (!w->err)
		w->data_bytes += 2 * (uint64_t)n;
	return w->err;
}

static void put_at(struct sipcx_wav *w, long off, uint32_t v)
{
	uint8_t b[4];
	if (w->err)
		return;
	errno = 0;
	if (fseek(w->f, off, SEEK_SET) != 0) {
		set_err(w, neg_errno());
		return;
	}
	wr32(b, v);
	put(w, b, 4);
}

int sipcx_wav_close_write(struct sipcx_wav *w)
{
	if (!w || w->mode != MODE_WRITE)
		return -EINVAL;
	errno = 0;
	if (!w->err && fflush(w->f) != 0)
		set_err(w, neg_errno());
	put_at(w, 4, (uint32_t)(HDR_LEN - 8 + w->data_bytes));
	put_at(w, 40, (uint32_t)w->data_bytes);
	errno = 0;
	if (!w->err && fflush(w->f) != 0)
		set_err(w, neg_errno());
	errno = 0;
	if (fclose(w->f) != 0)
		set_err(w, neg_errno());
	w->f = NULL;
	int r = w->err;
	wav_free(w);
	return r;
}
