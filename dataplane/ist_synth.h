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
 * Threading: build/check are pure; a store is written by one lcore.
 */
#ifndef ISTHMUS_SYNTH_H
#define ISTHMUS_SYNTH_H

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
};

/** Check a received frame against what frame @p seq of @p stream must be. */
enum ist_synth_bad ist_synth_frame_check(const struct ist_synth_profile *p, uint32_t stream,
					 uint32_t seq, const uint8_t *buf, uint32_t len);

/** Per-stream delivery progress, file backed. */
struct ist_synth_store {
	uint32_t n_streams;
	uint32_t *next_seq; /* mapped: [n_streams], then a magic */
	size_t map_len;
	int fd;
};

/**
 * Open (creating if needed) a progress file for @p n_streams streams.
 * An existing file for another stream count is an error (-EINVAL).
 * @return 0 or -errno, with @p err naming the file and the fix.
 */
int ist_synth_store_open(struct ist_synth_store *st, const char *path, uint32_t n_streams,
			 char *err, size_t errlen);
void ist_synth_store_close(struct ist_synth_store *st);

#endif /* ISTHMUS_SYNTH_H */
