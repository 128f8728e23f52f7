/* Fuzz target: the WAV header parser (RIFF/WAVE chunks, fmt and WAVE_FORMAT_EXTENSIBLE), and that a prefix holding the data chunk's header parses the same. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipcx/wav.h>

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz_wav.c:%d: CHECK(%s) failed\n", __LINE__, #cond); \
			abort();                                                               \
		}                                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipcx_wav_info info, again;
	int r = sipcx_wav_parse(data, size, &info);
	CHECK(r == 0 || r == -EINVAL || r == -ENOTSUP || r == -EAGAIN);
	if (r == -EINVAL || r == -EAGAIN)
		return 0;
	/* the samples lie inside the buffer, after the RIFF header and a chunk header */
	CHECK(info.data_offset >= 20 && info.data_offset <= size);
	CHECK(info.data_len <= size - info.data_offset);
	CHECK(info.data_len <= info.data_size);
	CHECK(!info.block_align || info.data_len % info.block_align == 0);
	if (r == 0) {
		CHECK(info.format == 1 && info.channels == 1 && info.bits == 16);
		CHECK(info.block_align == 2);
		CHECK(info.rate >= 8000 && info.rate <= 192000);
	}
	/*
	 * Up to the data chunk's header is all the parser needs when fmt comes
	 * first; when fmt comes after the samples, such a prefix is -EAGAIN.
	 */
	int r2 = sipcx_wav_parse(data, info.data_offset, &again);
	CHECK(r2 == r || r2 == -EAGAIN);
	if (r2 == r) {
		CHECK(again.data_offset == info.data_offset && again.data_size == info.data_size);
		CHECK(again.data_len == 0);
		CHECK(again.format == info.format && again.channels == info.channels &&
		      again.rate == info.rate && again.bits == info.bits);
	}
	/* one byte less never is */
	CHECK(sipcx_wav_parse(data, info.data_offset - 1, &again) == -EAGAIN);
	return 0;
}
