/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the fuzz targets share: an invariant check that aborts (libFuzzer
 * reports the input), and with FUZZ_GEN_SEEDS the writer of seed files.
 */
#ifndef ISTHMUS_FUZZ_COMMON_H
#define ISTHMUS_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

#ifdef FUZZ_GEN_SEEDS

/* Where seeds go (set by the target's main) and how many were written. */
static const char *seed_dir;
static unsigned int n_seeds;

/* Write one seed file, numbered so the corpus keeps its order. */
static void seed(const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%02u-%s", seed_dir, n_seeds++, name);
	f = fopen(path, "wb");
	CHECK(f != NULL);
	CHECK(fwrite(p, 1, n, f) == n);
	CHECK(fclose(f) == 0);
}

#endif /* FUZZ_GEN_SEEDS */

#endif /* ISTHMUS_FUZZ_COMMON_H */
