/* Unit tests of WAV files: write and read back, the header's sizes, chunk walking, refused and lying headers, resampling to 8 kHz. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include <sipcx/dsp.h>
#include <sipcx/media.h>
#include <sipcx/wav.h>

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_wav.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
	static char p[128];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------- hand-made files -- */

struct bytes {
	uint8_t b[4096];
	size_t n;
};

static void add(struct bytes *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void add16(struct bytes *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	add(f, b, 2);
}

static void add32(struct bytes *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	add(f, b, 4);
}

static void riff(struct bytes *f)
{
	f->n = 0;
	add(f, "RIFF", 4);
	add32(f, 0); /* not trusted anyway */
	add(f, "WAVE", 4);
}

static void fmt(struct bytes *f, uint16_t tag, uint16_t ch, uint32_t rate, uint16_t bits)
{
	add(f, "fmt ", 4);
	add32(f, 16);
	add16(f, tag);
	add16(f, ch);
	add32(f, rate);
	add32(f, rate * ch * bits / 8);
	add16(f, (uint16_t)(ch * bits / 8));
	add16(f, bits);
}

static const uint8_t guid_tail[12] = { 0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
	                               0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71 };

static void fmt_ext(struct bytes *f, uint16_t sub, const uint8_t *tail, uint16_t ch, uint16_t bits)
{
	add(f, "fmt ", 4);
	add32(f, 40);
	add16(f, 0xfffe);
	add16(f, ch);
	add32(f, 8000);
	add32(f, 8000u * ch * bits / 8);
	add16(f, (uint16_t)(ch * bits / 8));
	add16(f, bits);
	add16(f, 22);   /* cbSize */
	add16(f, bits); /* valid bits */
	add32(f, 4);    /* channel mask: front centre */
	add32(f, sub);
	add(f, tail, 12);
}

static const int16_t four[4] = { 1, -2, 32767, -32768 };

static void data(struct bytes *f, uint32_t declared, size_t nsamples)
{
	add(f, "data", 4);
	add32(f, declared);
	for (size_t i = 0; i < nsamples; i++)
		add16(f, (uint16_t)four[i % 4]);
}

static void chunk(struct bytes *f, const char *id, uint32_t size)
{
	add(f, id, 4);
	add32(f, size);
	for (uint32_t i = 0; i < size; i++)
		add(f, "x", 1);
	if (size & 1)
		add(f, "", 1); /* the pad byte */
}

static const char *save(const struct bytes *f, const char *name)
{
	const char *p = path_of(name);
	FILE *fp = fopen(p, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(f->b, 1, f->n, fp), f->n);
	assert_int_equal(fclose(fp), 0);
	return p;
}

/* Open f from a file; expect n samples of four[] at 8 kHz. */
static void expect_four(const struct bytes *f, size_t n)
{
	struct sipcx_wav *w = NULL;
	assert_int_equal(sipcx_wav_open_read(save(f, "x.wav"), &w), 0);
	assert_int_equal(sipcx_wav_rate(w), 8000);
	int16_t got[64];
	assert_int_equal(sipcx_wav_read(w, got, 64), n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], four[i % 4]);
	assert_int_equal(sipcx_wav_read(w, got, 64), 0);
	sipcx_wav_close(w);
}

static void expect_open(const struct bytes *f, int err)
{
	struct sipcx_wav *w = (struct sipcx_wav *)&w; /* untouched on failure */
	struct sipcx_wav *const before = w;
	assert_int_equal(sipcx_wav_open_read(save(f, "x.wav"), &w), err);
	if (err == 0)
		sipcx_wav_close(w);
	else
		assert_ptr_equal(w, before);
}

static void test_chunks(void **state)
{
	(void)state;
	struct bytes f;
	struct sipcx_wav_info info;
	/* the plain 44-byte header */
	riff(&f);
	fmt(&f, 1, 1, 8000, 16);
	data(&f, 8, 4);
	assert_int_equal(sipcx_wav_parse(f.b, f.n, &info), 0);
	assert_int_equal(info.format, 1);
	assert_int_equal(info.channels, 1);
	assert_int_equal(info.rate, 8000);
	assert_int_equal(info.bits, 16);
	assert_int_equal(info.block_align, 2);
	assert_int_equal(info.data_offset, 44);
	assert_int_equal(info.data_size, 8);
	assert_int_equal(info.data_len, 8);
	expect_four(&f, 4);
	/* unknown chunks of odd size (with their pad byte) before and after fmt */
	riff(&f);
	chunk(&f, "LIST", 5);
	fmt(&f, 1, 1, 8000, 16);
	chunk(&f, "junk", 3);
	chunk(&f, "fact", 4);
	data(&f, 12, 6);
	assert_int_equal(sipcx_wav_parse(f.b, f.n, &info), 0);
	assert_int_equal(info.data_offset, 12 + 14 + 24 + 12 + 12 + 8);
	expect_four(&f, 6);
	/* data before fmt, then something after it */
	riff(&f);
	data(&f, 6, 3);
	chunk(&f, "LIST", 1);
	fmt(&f, 1, 1, 8000, 16);
	expect_four(&f, 3);
	/* an odd-sized data chunk before fmt: its pad byte is skipped too */
	riff(&f);
	data(&f, 7, 3);
	add(&f, "\x7f\x00", 2); /* the odd byte and the pad */
	fmt(&f, 1, 1, 8000, 16);
	assert_int_equal(sipcx_wav_parse(f.b, f.n, &info), 0);
	assert_int_equal(info.data_size, 7);
	assert_int_equal(info.data_len, 6); /* whole frames */
	expect_four(&f, 3);
	/* a second fmt or data chunk is ignored */
	riff(&f);
	fmt(&f, 1, 1, 8000, 16);
	data(&f, 4, 2);
	fmt(&f, 3, 2, 8000, 32);
	data(&f, 8, 4);
	expect_four(&f, 2);
	/* WAVE_FORMAT_EXTENSIBLE with the PCM subformat */
	riff(&f);
	fmt_ext(&f, 1, guid_tail, 1, 16);
	data(&f, 8, 4);
	assert_int_equal(sipcx_wav_parse(f.b, f.n, &info), 0);
	assert_int_equal(info.extensible, 1);
	assert_int_equal(info.format, 1);
	assert_int_equal(info.data_offset, 12 + 48 + 8);
	expect_four(&f, 4);
}

static void test_refused(void **state)
{
	(void)state;
	struct bytes f;
	struct sipcx_wav_info info;
	struct {
		uint16_t tag, ch;
		uint32_t rate;
		uint16_t bits;
	} const no[] = {
		{ 1, 1, 8000, 8 },    { 1, 2, 8000, 16 },   { 1, 1, 8000, 24 }, { 3, 1, 8000, 32 },
		{ 6, 1, 8000, 8 },    { 7, 1, 8000, 8 },    { 1, 1, 4000, 16 }, { 1, 1, 7999, 16 },
		{ 1, 1, 192001, 16 }, { 0x11, 1, 8000, 4 },
	};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		riff(&f);
		fmt(&f, no[i].tag, no[i].ch, no[i].rate, no[i].bits);
		data(&f, 8, 4);
		assert_int_equal(sipcx_wav_parse(f.b, f.n, &info), -ENOTSUP);
		/* filled, so a caller can say what it is */
		assert_int_equal(info.format, no[i].tag);
		assert_int_equal(info.channels, no[i].ch);
		assert_int_equal(info.rate, no[i].rate);
		assert_int_equal(info.bits, no[i].bits);
		expect_open(&f, -ENOTSUP);
	}
	/* extensible float, stereo, and a vendor's GUID */
	riff(&f);
	fmt_ext(&f, 3, guid_tail, 1, 32);
	data(&f, 8, 4);
	assert_int_equal(sipcx_wav_parse(f.b, f.n, &info), -ENOTSUP);
	assert_int_equal(info.format, 3);
	expect_open(&f, -ENOTSUP);
	riff(&f);
	fmt_ext(&f, 1, guid_tail, 2, 16);
	data(&f, 8, 4);
	expect_open(&f, -ENOTSUP);
	const uint8_t vendor[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	riff(&f);
	fmt_ext(&f, 1, vendor, 1, 16);
	data(&f, 8, 4);
	assert_int_equal(sipcx_wav_parse(f.b, f.n, &info), -ENOTSUP);
	assert_int_equal(info.format, 0xfffe);
	expect_open(&f, -ENOTSUP);
}

static void test_malformed(void **state)
{
	(void)state;
	struct bytes f;
	struct sipcx_wav_info info;
	/* not RIFF, not WAVE */
	riff(&f);
	fmt(&f, 1, 1, 8000, 16);
	data(&f, 8, 4);
	f.b[0] = 'R', f.b[1] = 'I', f.b[2] = 'F', f.b[3] = 'X';
	expect_open(&f, -EINVAL);
	memcpy(f.b, "RIFF", 4);
	memcpy(f.b + 8, "AVI ", 4);
	expect_open(&f, -EINVAL);
	/* zero channels or rate, a block size that is not channels * bytes */
	for (int k = 0; k < 3; k++) {
		riff(&f);
		fmt(&f, 1, k == 0 ? 0 : 1, k == 1 ? 0 : 8000, 16);
		if (k == 2)
			f.b[12 + 8 + 12] = 4;
		data(&f, 8, 4);
		assert_int_equal(sipcx_wav_parse(f.b, f.n, &info), -EINVAL);
		expect_open(&f, -EINVAL);
	}
	/* a fmt chunk too short, or absurdly long */
	riff(&f);
	add(&f, "fmt ", 4);
	add32(&f, 14);
	add(&f, "\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00", 14);
	data(&f, 8, 4);
	expect_open(&f, -EINVAL);
	riff(&f);
	add(&f, "fmt ", 4);
	add32(&f, 100000);
	expect_open(&f, -EINVAL);
	/* an extensible fmt without its extension */
	riff(&f);
	fmt(&f, 0xfffe, 1, 8000, 16);
	data(&f, 8, 4);
	expect_open(&f, -EINVAL);
	/* no data chunk; no fmt chunk; an unknown chunk that runs past the end */
	riff(&f);
	fmt(&f, 1, 1, 8000, 16);
	assert_int_equal(sipcx_wav_parse(f.b, f.n, &info), -EAGAIN);
	expect_open(&f, -EINVAL);
	riff(&f);
	data(&f, 8, 4);
	assert_int_equal(sipcx_wav_parse(f.b, f.n, &info), -EAGAIN);
	expect_open(&f, -EINVAL);
	riff(&f);
	fmt(&f, 1, 1, 8000, 16);
	add(&f, "LIST", 4);
	add32(&f, 0xfffffff0u);
	data(&f, 8, 4);
	expect_open(&f, -EINVAL);
	/* a data chunk that claims more than there is, before fmt: fmt cannot be found */
	riff(&f);
	data(&f, 1000, 4);
	fmt(&f, 1, 1, 8000, 16);
	expect_open(&f, -EINVAL);
	/* empty and tiny files */
	f.n = 0;
	expect_open(&f, -EINVAL);
	add(&f, "RIFF", 4);
	expect_open(&f, -EINVAL);
	assert_int_equal(sipcx_wav_parse(NULL, 0, &info), -EAGAIN);
	assert_int_equal(sipcx_wav_parse(NULL, 1, &info), -EINVAL);
	assert_int_equal(sipcx_wav_parse(f.b, f.n, NULL), -EINVAL);
}

/* A data size larger than the file is cut at the file's end; an odd last byte is dropped. */
static void test_lying_sizes(void **state)
{
	(void)state;
	struct bytes f;
	struct sipcx_wav_info info;
	riff(&f);
	fmt(&f, 1, 1, 8000, 16);
	data(&f, 0xffffffffu, 5);
	add(&f, "\x01", 1);
	assert_int_equal(sipcx_wav_parse(f.b, f.n, &info), 0);
	assert_int_equal(info.data_size, 0xffffffffu);
	assert_int_equal(info.data_len, 10);
	expect_four(&f, 5);
	riff(&f);
	fmt(&f, 1, 1, 8000, 16);
	data(&f, 40, 3);
	expect_four(&f, 3);
	/* every prefix: -EAGAIN until the data chunk's header is complete, then what is there */
	riff(&f);
	chunk(&f, "LIST", 3);
	fmt(&f, 1, 1, 8000, 16);
	data(&f, 8, 4);
	for (size_t n = 0; n <= f.n; n++) {
		int r = sipcx_wav_parse(f.b, n, &info);
		if (n < 12 + 12 + 24 + 8) {
			assert_int_equal(r, -EAGAIN);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(info.data_len, (n - 56) & ~(size_t)1);
		}
	}
}

/* ---------------------------------------------------- write, read -- */

static void test_round_trip(void **state)
{
	(void)state;
	static int16_t pcm[3001], back[3001];
	for (size_t i = 0; i < 3001; i++)
		pcm[i] = (int16_t)(i * 7919u); /* every byte pattern, both signs */
	pcm[0] = -32768;
	pcm[1] = 32767;
	const char *p = path_of("rt.wav");
	struct sipcx_wav *w = NULL;
	assert_int_equal(sipcx_wav_open_write(p, 8000, &w), 0);
	assert_int_equal(sipcx_wav_write(w, pcm, 1000), 0);
	assert_int_equal(sipcx_wav_write(w, pcm + 1000, 0), 0);
	assert_int_equal(sipcx_wav_write(w, pcm + 1000, 2001), 0);
	assert_int_equal(sipcx_wav_read(w, back, 10), 0); /* not a reader */
	assert_int_equal(sipcx_wav_close_write(w), 0);
	/* the header after close: sizes set, little-endian */
	size_t len = 0;
	uint8_t *raw = (uint8_t *)tu_read_file(p, &len);
	assert_non_null(raw);
	assert_int_equal(len, 44 + 6002);
	assert_memory_equal(raw, "RIFF", 4);
	assert_int_equal(le32(raw + 4), 36 + 6002);
	assert_memory_equal(raw + 8, "WAVEfmt ", 8);
	assert_int_equal(le32(raw + 16), 16);
	assert_int_equal(le32(raw + 24), 8000);
	assert_int_equal(le32(raw + 28), 16000);
	assert_memory_equal(raw + 20, "\x01\x00\x01\x00", 4);
	assert_memory_equal(raw + 32, "\x02\x00\x10\x00", 4);
	assert_memory_equal(raw + 36, "data", 4);
	assert_int_equal(le32(raw + 40), 6002);
	assert_memory_equal(raw + 44, "\x00\x80\xff\x7f", 4);
	free(raw);
	/* read back in uneven pieces, twice (rewind) */
	assert_int_equal(sipcx_wav_open_read(p, &w), 0);
	assert_int_equal(sipcx_wav_rate(w), 8000);
	for (int pass = 0; pass < 2; pass++) {
		size_t got = 0, r;
		memset(back, 0, sizeof(back));
		while ((r = sipcx_wav_read(w, back + got, got % 7 + 1)) > 0)
			got += r;
		assert_int_equal(got, 3001);
		assert_memory_equal(back, pcm, sizeof(pcm));
		assert_int_equal(sipcx_wav_read(w, back, 10), 0);
		sipcx_wav_rewind(w);
	}
	assert_int_equal(sipcx_wav_write(w, pcm, 1), -EINVAL); /* not a writer */
	assert_int_equal(sipcx_wav_close_write(w), -EINVAL);   /* and still open */
	assert_int_equal(sipcx_wav_read(w, back, 3), 3);
	sipcx_wav_close(w);
	/* an empty file is valid too; sipcx_wav_close() finishes a writer */
	assert_int_equal(sipcx_wav_open_write(p, 16000, &w), 0);
	sipcx_wav_close(w);
	raw = (uint8_t *)tu_read_file(p, &len);
	assert_non_null(raw);
	assert_int_equal(len, 44);
	assert_int_equal(le32(raw + 4), 36);
	assert_int_equal(le32(raw + 40), 0);
	free(raw);
	assert_int_equal(sipcx_wav_open_read(p, &w), 0);
	assert_int_equal(sipcx_wav_rate(w), 16000);
	assert_int_equal(sipcx_wav_read(w, back, 10), 0);
	sipcx_wav_close(w);
}

/* Python's wave module reads what we write (as sox would). */
static void test_python_reads_it(void **state)
{
	(void)state;
	if (system("python3 -c 'import wave, array' >/dev/null 2>&1") != 0) {
		print_message("test_python_reads_it: no python3 with the wave module: skipped\n");
		skip();
	}
	const char *p = path_of("py.wav");
	struct sipcx_wav *w = NULL;
	int16_t pcm[999];
	long sum = 0;
	for (size_t i = 0; i < 999; i++) {
		pcm[i] = (int16_t)((int)i * 61 - 30000);
		sum += pcm[i];
	}
	assert_int_equal(sipcx_wav_open_write(p, 44100, &w), 0);
	assert_int_equal(sipcx_wav_write(w, pcm, 999), 0);
	assert_int_equal(sipcx_wav_close_write(w), 0);
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
	         "python3 -c 'import wave, array, sys; w = wave.open(sys.argv[1], \"rb\"); "
	         "a = array.array(\"h\", w.readframes(w.getnframes())); "
	         "sys.byteorder == \"big\" and a.byteswap(); "
	         "print(w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes(), "
	         "len(a), sum(a))' %s",
	         p);
	FILE *pp = popen(cmd, "r");
	assert_non_null(pp);
	char line[256] = "";
	assert_non_null(fgets(line, sizeof(line), pp));
	assert_int_equal(pclose(pp), 0);
	char want[256];
	snprintf(want, sizeof(want), "1 2 44100 999 999 %ld\n", sum);
	assert_string_equal(line, want);
}

static void test_write_errors(void **state)
{
	(void)state;
	struct sipcx_wav *w = NULL;
	int16_t pcm[4096] = { 0 };
	assert_int_equal(sipcx_wav_open_write(NULL, 8000, &w), -EINVAL);
	assert_int_equal(sipcx_wav_open_write(path_of("e.wav"), 8000, NULL), -EINVAL);
	assert_int_equal(sipcx_wav_open_write(path_of("e.wav"), 999, &w), -EINVAL);
	assert_int_equal(sipcx_wav_open_write(path_of("e.wav"), 192001, &w), -EINVAL);
	assert_int_equal(sipcx_wav_open_write(path_of("no/such/dir.wav"), 8000, &w), -ENOENT);
	assert_null(w);
	assert_int_equal(sipcx_wav_write(NULL, pcm, 1), -EINVAL);
	assert_int_equal(sipcx_wav_close_write(NULL), -EINVAL);
	sipcx_wav_close(NULL);
	assert_int_equal(sipcx_wav_read(NULL, pcm, 1), 0);
	sipcx_wav_rewind(NULL);
	assert_int_equal(sipcx_wav_rate(NULL), 0);
	assert_int_equal(sipcx_wav_open_read(NULL, &w), -EINVAL);
	assert_int_equal(sipcx_wav_open_read(path_of("e.wav"), NULL), -EINVAL);
	assert_int_equal(sipcx_wav_open_read(path_of("absent.wav"), &w), -ENOENT);
	assert_true(sipcx_wav_open_read(dir, &w) < 0); /* a directory: reads fail */
	assert_null(w);
	/* a full disk: writes are buffered, so the error may come only at close */
	if (access("/dev/full", W_OK) != 0) {
		print_message("test_write_errors: no /dev/full: that part skipped\n");
		return;
	}
	assert_int_equal(sipcx_wav_open_write("/dev/full", 8000, &w), 0);
	int r = 0;
	for (int i = 0; i < 8 && r == 0; i++)
		r = sipcx_wav_write(w, pcm, 4096);
	assert_true(r == 0 || r == -ENOSPC);
	if (r)
		assert_int_equal(sipcx_wav_write(w, pcm, 1), -ENOSPC); /* sticky */
	assert_int_equal(sipcx_wav_close_write(w), -ENOSPC);
	/* nothing written at all still fails at close (the header) */
	assert_int_equal(sipcx_wav_open_write("/dev/full", 8000, &w), 0);
	assert_int_equal(sipcx_wav_close_write(w), -ENOSPC);
}

/* ------------------------------------------------------ resampling -- */

/* Write secs of a hz tone (or of a constant when hz is 0) at rate; returns the path. */
static const char *tone_file(uint32_t rate, unsigned hz, unsigned amp, unsigned ms)
{
	const char *p = path_of("tone.wav");
	struct sipcx_wav *w = NULL;
	size_t n = (size_t)rate * ms / 1000;
	int16_t *pcm = calloc(n, sizeof(*pcm));
	assert_non_null(pcm);
	if (hz) {
		struct sipcx_media_tone t;
		assert_int_equal(sipcx_media_tone_init(&t, hz, amp, rate), 0);
		sipcx_media_tone_pcm(&t, pcm, n);
	} else {
		for (size_t i = 0; i < n; i++)
			pcm[i] = (int16_t)amp;
	}
	assert_int_equal(sipcx_wav_open_write(p, rate, &w), 0);
	assert_int_equal(sipcx_wav_write(w, pcm, n), 0);
	assert_int_equal(sipcx_wav_close_write(w), 0);
	free(pcm);
	return p;
}

static size_t read_all(const char *p, uint32_t rate, int16_t *out, size_t cap)
{
	struct sipcx_wav *w = NULL;
	assert_int_equal(sipcx_wav_open_read(p, &w), 0);
	assert_int_equal(sipcx_wav_rate(w), rate);
	size_t n = 0, r;
	while ((r = sipcx_wav_read(w, out + n, cap - n < 333 ? cap - n : 333)) > 0)
		n += r;
	/* rewound, the same samples again */
	sipcx_wav_rewind(w);
	int16_t again[500];
	assert_int_equal(sipcx_wav_read(w, again, 500), n < 500 ? n : 500);
	assert_memory_equal(again, out, (n < 500 ? n : 500) * sizeof(*out));
	sipcx_wav_close(w);
	return n;
}

/* Share of the energy of x[0..n) at hz (8 kHz), and the mean square. */
static double share_at(const int16_t *x, size_t n, unsigned hz, double *ms)
{
	double re = 0, im = 0, e = 0;
	for (size_t i = 0; i < n; i++) {
		double a = 6.283185307179586 * hz * (double)i / 8000;
		re += x[i] * cos(a);
		im -= x[i] * sin(a);
		e += (double)x[i] * x[i];
	}
	*ms = e / (double)n;
	return e > 0 ? (re * re + im * im) / (e * (double)n / 2) : 0;
}

static int16_t out8k[8000];

static void test_resample_tone(void **state)
{
	(void)state;
	const uint32_t rates[] = { 11025, 16000, 22050, 44100, 48000, 96000 };
	for (size_t k = 0; k < sizeof(rates) / sizeof(rates[0]); k++) {
		uint32_t rate = rates[k];
		const char *p = tone_file(rate, 1000, 10000, 1000);
		size_t n = read_all(p, rate, out8k, 8000);
		assert_int_equal(n, 8000);
		/* the middle 900 ms (a whole number of periods): all of it at 1000 Hz, gain 1 */
		double ms;
		double share = share_at(out8k + 400, 7200, 1000, &ms);
		assert_true(share > 0.9999);
		assert_true(fabs(sqrt(ms) / (10000 / sqrt(2)) - 1) < 0.005);
		struct sipcx_tone_detect d;
		const unsigned hz[] = { 1000, 440, 2000 };
		assert_int_equal(sipcx_tone_detect_init(&d, hz, 3, 8000, 160), 0);
		sipcx_tone_detect_feed(&d, out8k, n);
		assert_true(sipcx_tone_detect_heard(&d, 1000, 980));
		assert_false(sipcx_tone_detect_heard(&d, 440, 0));
		assert_false(sipcx_tone_detect_heard(&d, 2000, 0));
	}
	/* 6 kHz (and 4.5 kHz) would fold to 2 (3.5) kHz: the low-pass takes them out (> 60 dB) */
	const unsigned above[] = { 6000, 4500, 12000 };
	for (size_t k = 0; k < 3; k++) {
		const char *p = tone_file(48000, above[k], 20000, 500);
		size_t n = read_all(p, 48000, out8k, 8000);
		assert_int_equal(n, 4000);
		double e = 0;
		for (size_t i = 200; i < 3800; i++)
			e += (double)out8k[i] * out8k[i];
		assert_true(e / 3600 < 1e-6 * 20000.0 * 20000.0 / 2);
	}
	/* the telephone band passes: 3 kHz within 1 dB */
	const char *p = tone_file(44100, 3000, 10000, 500);
	assert_int_equal(read_all(p, 44100, out8k, 8000), 4000);
	double ms;
	assert_true(share_at(out8k + 200, 3600, 3000, &ms) > 0.999);
	assert_true(fabs(20 * log10(sqrt(ms) / (10000 / sqrt(2)))) < 1.0);
}

static void test_resample_edges(void **state)
{
	(void)state;
	/* DC passes exactly; the count is ceil(n * 8000 / rate) */
	const char *p = tone_file(44100, 0, 1234, 100);
	size_t n = read_all(p, 44100, out8k, 8000);
	assert_int_equal(n, 800); /* 4410 samples */
	for (size_t i = 30; i < 770; i++)
		assert_int_equal(out8k[i], 1234);
	/* full scale does not wrap around */
	p = tone_file(48000, 0, 32767, 50);
	n = read_all(p, 48000, out8k, 8000);
	assert_int_equal(n, 400);
	for (size_t i = 0; i < n; i++)
		assert_true(out8k[i] >= 0);
	assert_int_equal(out8k[200], 32767);
	/* a few samples only, and none */
	struct bytes f;
	riff(&f);
	fmt(&f, 1, 1, 16000, 16);
	data(&f, 6, 3);
	struct sipcx_wav *w = NULL;
	assert_int_equal(sipcx_wav_open_read(save(&f, "x.wav"), &w), 0);
	assert_int_equal(sipcx_wav_rate(w), 16000);
	assert_int_equal(sipcx_wav_read(w, out8k, 100), 2);
	assert_int_equal(sipcx_wav_read(w, out8k, 100), 0);
	sipcx_wav_close(w);
	riff(&f);
	fmt(&f, 1, 1, 48000, 16);
	data(&f, 0, 0);
	assert_int_equal(sipcx_wav_open_read(save(&f, "x.wav"), &w), 0);
	assert_int_equal(sipcx_wav_read(w, out8k, 100), 0);
	sipcx_wav_close(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunks),         cmocka_unit_test(test_refused),
		cmocka_unit_test(test_malformed),      cmocka_unit_test(test_lying_sizes),
		cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_python_reads_it),
		cmocka_unit_test(test_write_errors),   cmocka_unit_test(test_resample_tone),
		cmocka_unit_test(test_resample_edges),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
