/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Compression dictionaries: training, and a sampler that collects the samples.
 *
 * Small frames compress poorly on their own: each starts with an empty
 * window. A dictionary trained on records of the same stream or topic class
 * gives every frame that window up front. Training is zstd's
 * ZDICT_trainFromBuffer() (fastCover); the result is a zstd dictionary
 * (entropy tables + content) and, used as raw bytes, an LZ4 dictionary too
 * (LZ4 references the last 64 KiB, which is the content part).
 *
 * The sampler keeps a uniform random sample of the records it is shown
 * (reservoir sampling, Vitter's Algorithm R, with a seeded xorshift
 * generator: deterministic for a seed), at most n_max records of at most
 * slot_len bytes each (a longer record keeps its first slot_len bytes: the
 * structure that repeats is at the front of typical JSON or Avro records).
 *
 * Threading: a sampler has one owner (the lcore of its stream);
 * ist_dict_sampler_add() is HOT (no allocation, one random number and at
 * most one copy). Training is slow (~0.2 s of CPU for 2000 samples of 1 KB,
 * isthmus-bench-codec) and allocates: run it off the data path, @locality mgmt thread, on a copy or
 * a sampler the data path no longer feeds.
 *
 * Written by hand: only the sampler; training is libzstd's.
 */
#ifndef ISTHMUS_IST_DICT_H
#define ISTHMUS_IST_DICT_H

#include <stddef.h>
#include <stdint.h>

/** Training needs at least this many samples (ZDICT refuses fewer, or fails on them). */
#define IST_DICT_MIN_SAMPLES 8

/**
 * Train a dictionary on n samples stored back to back in samples.
 *
 * @param cap
 *   Dictionary capacity; 256 .. IST_CODEC_DICT_MAX_LEN. 16..112 KiB is
 *   usual; LZ4 uses at most 64 KiB of it.
 * @param err
 *   One-line message on failure.
 * @return
 *   The dictionary length (> 0); -EINVAL (n < IST_DICT_MIN_SAMPLES, cap out
 *   of range, or ZDICT failed: too few or too uniform samples, named in err).
 */
int ist_dict_train(const void *samples, const size_t *sizes, unsigned int n, void *dict, size_t cap,
		   char *err, size_t errlen);

struct ist_dict_sampler;

/**
 * Create a sampler keeping up to n_max records of up to slot_len bytes
 * (n_max * slot_len bytes preallocated). @locality mgmt or lcore set-up.
 *
 * @return
 *   The sampler, or NULL (n_max or slot_len 0, out of memory).
 */
struct ist_dict_sampler *ist_dict_sampler_create(unsigned int n_max, size_t slot_len,
						 uint64_t seed);

/** Free a sampler. NULL is allowed. */
void ist_dict_sampler_free(struct ist_dict_sampler *s);

/** Offer one record (key, value or encoded record: what the dictionary will meet). HOT. */
void ist_dict_sampler_add(struct ist_dict_sampler *s, const void *rec, size_t len);

/** Records kept (<= n_max). */
unsigned int ist_dict_sampler_count(const struct ist_dict_sampler *s);

/** Records offered since creation or the last reset. */
uint64_t ist_dict_sampler_seen(const struct ist_dict_sampler *s);

/** Forget every sample (the generator keeps its sequence). */
void ist_dict_sampler_reset(struct ist_dict_sampler *s);

/**
 * Train a dictionary on the samples kept (ist_dict_train()). Allocates a
 * contiguous copy of the samples. @locality mgmt thread.
 *
 * @return
 *   As ist_dict_train(), or -ENOMEM.
 */
int ist_dict_sampler_train(const struct ist_dict_sampler *s, void *dict, size_t cap, char *err,
			   size_t errlen);

#endif /* ISTHMUS_IST_DICT_H */
