/* sipcx wav: RIFF/WAVE files of 16-bit PCM for test audio (read at 8 kHz, write at any rate). */
#ifndef SIPCX_WAV_H
#define SIPCX_WAV_H

#include <stddef.h>
#include <stdint.h>

#include <sipcx/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What is read: 16-bit PCM, mono, as WAVE_FORMAT_PCM (1) or as
 * WAVE_FORMAT_EXTENSIBLE (0xFFFE) with the PCM subformat, at 8000 to
 * 192000 Hz. Chunks may come in any order; unknown ones (LIST, fact, cue...)
 * are skipped, with the pad byte after an odd-sized chunk. A data chunk
 * declared longer than the file is cut at the end of the file; the RIFF
 * size is not trusted (streaming writers leave it 0 or 0xFFFFFFFF).
 * 8-bit, 24-bit, float, A-law/mu-law, stereo and rates below 8000 Hz are
 * refused with -ENOTSUP.
 *
 * Samples always come out at 8000 Hz. Other rates are resampled by a
 * windowed-sinc low-pass (Blackman window, -6 dB at 3500 Hz, 48 output
 * periods wide) evaluated at each output instant, so any ratio works:
 * flat to 3000 Hz (-0.9 dB at 3300, -2.6 dB at 3400), and everything above
 * 4000 Hz, which would fold back into the band, attenuated by more than
 * 75 dB. The gain at DC is exactly 1. The first and last 3 ms see zeros
 * beyond the ends of the file. See docs/audio.md.
 */

/** A WAV file open for reading or for writing (opaque). */
struct sipcx_wav;

/** The format of a WAV header, as sipcx_wav_parse() found it. */
struct sipcx_wav_info {
	uint16_t
	    format; /**< 1 PCM, 3 float, 6 A-law, 7 mu-law...; the subformat's code when extensible */
	uint8_t extensible;   /**< 1: the fmt chunk was WAVE_FORMAT_EXTENSIBLE */
	uint16_t channels;    /**< samples per frame */
	uint32_t rate;        /**< frames per second */
	uint16_t bits;        /**< bits per sample (container size) */
	uint16_t block_align; /**< bytes per frame */
	size_t data_offset;   /**< where the samples start, from the start of the file */
	uint32_t data_size;   /**< the data chunk's size as its header declares it */
	size_t
	    data_len; /**< sample bytes within the buffer given: whole frames, at most data_size */
};

/**
 * Parse a WAV header in memory: the whole file, or a prefix that holds the
 * fmt chunk and the header of the data chunk. Never allocates or writes
 * data. info may not be NULL; data may be NULL only with len 0.
 * Returns 0 for a format sipcx_wav_open_read() accepts; -ENOTSUP for a
 * well-formed header of another format (info is filled, so the caller can
 * name it); -EINVAL for a malformed one (not RIFF/WAVE, a fmt chunk too
 * short or inconsistent, a zero rate or channel count); -EAGAIN when the
 * buffer ends before both the fmt chunk and the data chunk's header were
 * found (a prefix too short, or a truncated file).
 */
SIPCX_API int sipcx_wav_parse(const void *data, size_t len, struct sipcx_wav_info *info);

/**
 * Open path for reading (see above for the formats). On success *out owns
 * the open file until sipcx_wav_close(); on failure *out is untouched.
 * Returns 0, -EINVAL (NULL argument, not a WAV file, truncated before the
 * samples), -ENOTSUP (a format not read), -ENOMEM, or the negated errno
 * of the failed open or read.
 */
SIPCX_API int sipcx_wav_open_read(const char *path, struct sipcx_wav **out);

/**
 * Read up to n samples at 8000 Hz into out. Returns how many were read:
 * fewer than n only at the end of the data, 0 once it is reached (or on a
 * read error, or for a file open for writing).
 */
SIPCX_API size_t sipcx_wav_read(struct sipcx_wav *w, int16_t *out, size_t n);

/** Go back to the first sample (to play a file in a loop). */
SIPCX_API void sipcx_wav_rewind(struct sipcx_wav *w);

/** The file's own sample rate (before any resampling); 0 for NULL. */
SIPCX_API uint32_t sipcx_wav_rate(const struct sipcx_wav *w);

/**
 * Close and free a file open for reading. A file open for writing is
 * finished as by sipcx_wav_close_write(), its error dropped. NULL is a no-op.
 */
SIPCX_API void sipcx_wav_close(struct sipcx_wav *w);

/**
 * Create (or truncate) path as a 16-bit mono PCM WAV file of rate Hz
 * (1000..192000; no resampling on writing). The header's sizes are
 * 0xFFFFFFFF until sipcx_wav_close_write() sets them, so a reader that
 * clamps to the file (as this one does) can follow a file being written.
 * On failure *out is untouched. Returns 0, -EINVAL, -ENOMEM or the negated
 * errno of the open or write.
 */
SIPCX_API int sipcx_wav_open_write(const char *path, uint32_t rate, struct sipcx_wav **out);

/**
 * Append n samples (written little-endian whatever the host). After the
 * first error every call returns it again without writing. Returns 0,
 * -EINVAL (NULL, a file open for reading), -EFBIG (the data would pass the
 * 4 GiB of a RIFF file), or the negated errno of the write (-ENOSPC...).
 */
SIPCX_API int sipcx_wav_write(struct sipcx_wav *w, const int16_t *pcm, size_t n);

/**
 * Set the RIFF and data sizes, close the file and free w (always, even on
 * error). Returns 0, or the first error of any write, seek, flush or
 * close since sipcx_wav_open_write() (a full disk is -ENOSPC here, as
 * buffered writes often fail only when flushed). -EINVAL for NULL or a
 * file open for reading (which is then left open).
 */
SIPCX_API int sipcx_wav_close_write(struct sipcx_wav *w);

#ifdef __cplusplus
}
#endif
#endif
