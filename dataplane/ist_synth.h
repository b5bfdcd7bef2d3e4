/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Synthetic frames for testing and measuring the link on its own: frame N of
 * stream S has a length and content that are a pure function of (S, N, seed),
 * so the sender can regenerate any frame (resume after a restart) and the
 * receiver can check every byte without a copy of what was sent.
 *
 * The receiver's progress lives in a small file mapped MAP_SHARED: what was
 * released survives a kill -9 of the process (it stays in the page cache),
 * which makes the file the stand-in for a destination Kafka log when the
 * link is tested without Kafka.
 *
 * Corpus mode (struct ist_synth_corpus): frames are instead batches of
 * records read from a corpus file (isthmus-corpus), cycled, encoded with the
 * batcher's record codec (ist_batch.h) and compressed; the receiver decodes
 * every frame and checks every record against its own copy of the corpus.
 * Frame N of stream S is still a pure function of (S, N) and the corpus, so
 * resuming after a restart works the same. This is the data plane without
 * Kafka: batch + compress + link + decompress + decode, into a null sink.
 *
 * The progress file also keeps a tally of what the sink took in (frames,
 * records, record bytes), so a benchmark can read delivery rates from it
 * without going through the control process.
 *
 * Threading: build/check of pattern frames are pure; a corpus (its encoder,
 * codec context and scratch) and a store are used by one lcore.
 */
#ifndef ISTHMUS_SYNTH_H
#define ISTHMUS_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ist_synth_profile {
	uint64_t seed;
	uint32_t min_body; /**< body bytes, inclusive range */
	uint32_t max_body;
};

/** Body length of frame @p seq of @p stream. */
uint32_t ist_synth_body_len(const struct ist_synth_profile *p, uint32_t stream, uint32_t seq);

/**
 * Write frame @p seq of @p stream (struct ist_wire_frame header + body) into
 * @p buf. @return the frame length, or 0 if @p cap is too small.
 */
uint32_t ist_synth_frame_build(const struct ist_synth_profile *p, uint32_t stream, uint32_t seq,
			       uint8_t *buf, uint32_t cap);

/** Why a received frame is not the one expected. */
enum ist_synth_bad {
	IST_SYNTH_OK = 0,
	IST_SYNTH_BAD_LEN,
	IST_SYNTH_BAD_HEADER,
	IST_SYNTH_BAD_CRC,
	IST_SYNTH_BAD_BYTES,
	IST_SYNTH_BAD_DECODE, /**< corpus: the frame did not open (length, codec, decompression) */
	IST_SYNTH_BAD_RECORD, /**< corpus: record encoding broken, or fewer records than announced */
};

/** Check a received frame against what frame @p seq of @p stream must be. */
enum ist_synth_bad ist_synth_frame_check(const struct ist_synth_profile *p, uint32_t stream,
					 uint32_t seq, const uint8_t *buf, uint32_t len);

/**
 * What the sink took in since the progress file was made (one writer: the
 * link lcore). Pattern frames count as one record of their body bytes.
 */
struct ist_synth_tally {
	uint64_t frames;  /**< frames delivered in order that passed the check */
	uint64_t records; /**< records in those frames */
	uint64_t bytes;   /**< record bytes (key + value, uncompressed) in those frames */
	uint64_t wire;    /**< their frame bytes as sent: header and (compressed) body */
	uint64_t bad;     /**< frames delivered that failed the check */
};

/**
 * Per-stream delivery progress, file backed. File layout (host byte order):
 *
 *     u32 next_seq[n_streams]; u32 magic; u32 pad (if n_streams is even);
 *     struct ist_synth_tally; u32 n_streams; u32 magic
 *
 * A file of the older layout (next_seq and magic only) is extended in place.
 */
struct ist_synth_store {
	uint32_t n_streams;
	uint32_t *next_seq;            /* mapped: [n_streams], then a magic */
	struct ist_synth_tally *tally; /* mapped, after next_seq */
	size_t map_len;
	int fd;
};

/** Byte offset of the tally in a progress file for @p n_streams streams. */
static inline size_t ist_synth_store_tally_off(uint32_t n_streams)
{
	return (((size_t)n_streams + 1) * sizeof(uint32_t) + 7) & ~(size_t)7;
}

/**
 * Open (creating if needed) a progress file for @p n_streams streams.
 * An existing file for another stream count is an error (-EINVAL).
 * @return 0 or -errno, with @p err naming the file and the fix.
 */
int ist_synth_store_open(struct ist_synth_store *st, const char *path, uint32_t n_streams,
			 char *err, size_t errlen);
void ist_synth_store_close(struct ist_synth_store *st);

/** Count one delivered frame in the tally. HOT. */
static inline void ist_synth_store_count(struct ist_synth_store *st, bool ok, uint32_t records,
					 uint64_t bytes, uint32_t frame_len)
{
	if (ok) {
		st->tally->frames++;
		st->tally->records += records;
		st->tally->bytes += bytes;
		st->tally->wire += frame_len;
	} else {
		st->tally->bad++;
	}
}

/* ---- corpus mode ---- */

struct ist_synth_corpus;

/** Counters of a corpus (one writer: the link lcore). */
struct ist_synth_corpus_stats {
	uint64_t build_errors; /**< frames the encoder refused (a bug: the plan fits) */
};

/**
 * Load a corpus: @p path holds records back to back, each a 4-byte
 * big-endian length and that many bytes (isthmus-corpus's format). The
 * records are cut into frames of at most @p frame_body uncompressed body
 * bytes, once, so frame N of a stream always holds the same records.
 * @locality main thread (allocates: the file, a codec context of ~2 MiB).
 *
 * @param codec
 *   none, lz4, zstd (level 3) or zstd:<1..19> (ist_codec_spec_parse()).
 * @param frame_body
 *   IST_BATCH_MIN_BODY..IST_BATCH_MAX_BODY.
 * @return
 *   The corpus, or NULL with @p err naming the file or value and the fix
 *   (unreadable, empty, not length-prefixed, a record too large for a frame,
 *   bad codec, out of memory).
 */
struct ist_synth_corpus *ist_synth_corpus_load(const char *path, const char *codec,
					       uint32_t frame_body, char *err, size_t errlen);
void ist_synth_corpus_free(struct ist_synth_corpus *c);

/** Frames in one pass over the corpus. */
uint32_t ist_synth_corpus_frames(const struct ist_synth_corpus *c);

/** Records in the corpus. */
uint32_t ist_synth_corpus_records(const struct ist_synth_corpus *c);

/** The corpus's counters. */
void ist_synth_corpus_stats_get(const struct ist_synth_corpus *c,
				struct ist_synth_corpus_stats *st);

/**
 * Encode and compress frame @p seq of @p stream into @p buf. HOT: record
 * encoding, CRC32C and compression of one frame body; no allocation.
 *
 * @return
 *   The frame length, or 0 (@p cap too small; the encoder refused).
 */
uint32_t ist_synth_corpus_frame_build(struct ist_synth_corpus *c, uint32_t stream, uint32_t seq,
				      uint8_t *buf, uint32_t cap);

/**
 * Open, decompress and decode a received frame and check it is frame @p seq
 * of @p stream: header, CRC32C, every record's offset, timestamp, key and
 * value against the corpus. HOT: decompression, CRC32C, one compare of the
 * record bytes.
 *
 * @param records
 *   Receives the frame's record count (on IST_SYNTH_OK).
 * @param bytes
 *   Receives its record bytes, key + value (on IST_SYNTH_OK).
 */
enum ist_synth_bad ist_synth_corpus_frame_check(struct ist_synth_corpus *c, uint32_t stream,
						uint32_t seq, const uint8_t *buf, uint32_t len,
						uint32_t *records, uint64_t *bytes);

#endif /* ISTHMUS_SYNTH_H */
