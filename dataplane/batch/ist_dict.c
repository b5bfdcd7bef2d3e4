/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dictionary training (libzstd's ZDICT) and the reservoir sampler.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include <zdict.h>

#include "ist_codec.h"
#include "ist_dict.h"

#define DICT_MIN_CAP 256

struct ist_dict_sampler {
	unsigned int n_max;
	unsigned int n; /* slots filled */
	uint64_t seen;  /* records offered */
	uint64_t rng;   /* xorshift64 state, never 0 */
	size_t slot_len;
	uint32_t *lens; /* n_max */
	uint8_t *slots; /* n_max * slot_len */
};

int ist_dict_train(const void *samples, const size_t *sizes, unsigned int n, void *dict, size_t cap,
		   char *err, size_t errlen)
{
	size_t total = 0, r;
	unsigned int i;

	if (samples == NULL || sizes == NULL || dict == NULL || n < IST_DICT_MIN_SAMPLES) {
		snprintf(err, errlen, "dictionary training: %u samples; need at least %d", n,
			 IST_DICT_MIN_SAMPLES);
		return -EINVAL;
	}
	if (cap < DICT_MIN_CAP || cap > IST_CODEC_DICT_MAX_LEN) {
		snprintf(err, errlen, "dictionary training: capacity %zu out of range %d..%u", cap,
			 DICT_MIN_CAP, IST_CODEC_DICT_MAX_LEN);
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		total += sizes[i];
	r = ZDICT_trainFromBuffer(dict, cap, samples, sizes, n);
	if (ZDICT_isError(r)) {
		snprintf(err, errlen,
			 "dictionary training on %u samples (%zu bytes) for %zu bytes failed: %s; "
			 "collect more or more varied samples (about 100x the dictionary size)",
			 n, total, cap, ZDICT_getErrorName(r));
		return -EINVAL;
	}
	return (int)r;
}

struct ist_dict_sampler *ist_dict_sampler_create(unsigned int n_max, size_t slot_len, uint64_t seed)
{
	struct ist_dict_sampler *s;

	if (n_max == 0 || slot_len == 0 || slot_len > UINT32_MAX ||
	    (size_t)n_max > SIZE_MAX / slot_len)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->n_max = n_max;
	s->slot_len = slot_len;
	s->rng = seed != 0 ? seed : 0x2545f4914f6cdd1dull;
	s->lens = calloc(n_max, sizeof(*s->lens));
	s->slots = malloc((size_t)n_max * slot_len);
	if (s->lens == NULL || s->slots == NULL) {
		ist_dict_sampler_free(s);
		return NULL;
	}
	return s;
}

void ist_dict_sampler_free(struct ist_dict_sampler *s)
{
	if (s == NULL)
		return;
	free(s->lens);
	free(s->slots);
	free(s);
}

static uint64_t rng_next(struct ist_dict_sampler *s)
{
	uint64_t x = s->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	s->rng = x;
	return x;
}

/* HOT */
void ist_dict_sampler_add(struct ist_dict_sampler *s, const void *rec, size_t len)
{
	uint64_t slot;

	s->seen++;
	if (s->n < s->n_max) {
		slot = s->n++;
	} else {
		/* Keep the new record with probability n_max / seen, in a uniform slot. */
		slot = rng_next(s) % s->seen;
		if (likely(slot >= s->n_max))
			return;
	}
	len = len < s->slot_len ? len : s->slot_len;
	if (len > 0)
		memcpy(s->slots + slot * s->slot_len, rec, len);
	s->lens[slot] = (uint32_t)len;
}

unsigned int ist_dict_sampler_count(const struct ist_dict_sampler *s)
{
	return s->n;
}

uint64_t ist_dict_sampler_seen(const struct ist_dict_sampler *s)
{
	return s->seen;
}

void ist_dict_sampler_reset(struct ist_dict_sampler *s)
{
	s->n = 0;
	s->seen = 0;
}

int ist_dict_sampler_train(const struct ist_dict_sampler *s, void *dict, size_t cap, char *err,
			   size_t errlen)
{
	size_t *sizes, total = 0;
	uint8_t *buf;
	unsigned int i;
	int rc;

	sizes = malloc(sizeof(*sizes) * (s->n + 1));
	buf = malloc((size_t)s->n * s->slot_len + 1);
	if (sizes == NULL || buf == NULL) {
		free(sizes);
		free(buf);
		snprintf(err, errlen, "dictionary training: out of memory for %u samples", s->n);
		return -ENOMEM;
	}
	/* ZDICT wants the samples back to back; the slots are fixed size. */
	for (i = 0; i < s->n; i++) {
		memcpy(buf + total, s->slots + (size_t)i * s->slot_len, s->lens[i]);
		sizes[i] = s->lens[i];
		total += s->lens[i];
	}
	rc = ist_dict_train(buf, sizes, s->n, dict, cap, err, errlen);
	free(sizes);
	free(buf);
	return rc;
}
