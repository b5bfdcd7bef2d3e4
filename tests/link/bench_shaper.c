/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cost of the shaper's hot path, in TSC cycles per frame (one pick() plus one
 * charge(), plus next_eligible() whenever pick() finds nothing), from tight
 * loops over a fake clock with 2, 8 and 64 always-backlogged classes. Not a
 * test: run it on the target host and copy the numbers beside
 * ist_shaper_pick() in ist_shaper.h.
 *
 *     build-shaper/tests/link/bench_shaper [frames]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "ist_shaper.h"

#define HZ      2500000000ull
#define LINK    1250000000ull /* 10 Gb/s, bytes per second */
#define FRAME   1500u
#define MAX_CLS 64u

static volatile uint64_t sink;

/*
 * Send `n` frames. The fake clock moves one frame time of the link per frame
 * sent (the link pacer's job, not measured here) and jumps to
 * next_eligible() when no class may send.
 */
static double run(struct ist_shaper *s, uint32_t n_cls, uint64_t n, uint64_t *throttled)
{
	uint64_t now = 1000, step = (FRAME * HZ + LINK - 1) / LINK, i, t0, acc = 0;
	struct ist_shaper_stats st;
	uint32_t k;

	for (k = 0; k < n_cls; k++)
		ist_shaper_set_backlog(s, k, true);
	t0 = rte_rdtsc();
	for (i = 0; i < n;) {
		int c = ist_shaper_pick(s, now);

		if (c < 0) {
			now = ist_shaper_next_eligible(s, now);
			continue;
		}
		ist_shaper_charge(s, (uint32_t)c, FRAME, now);
		acc += (uint64_t)c;
		now += step;
		i++;
	}
	t0 = rte_rdtsc() - t0;
	sink = acc;
	*throttled = 0;
	for (k = 0; k < n_cls; k++) {
		ist_shaper_class_stats(s, k, &st);
		*throttled += st.throttled;
	}
	return (double)t0 / (double)n;
}

static void bench(const char *what, uint32_t n_cls, uint64_t rate, uint32_t quantum, uint64_t n)
{
	struct ist_shaper_class_cfg cfg[MAX_CLS];
	struct ist_shaper *s;
	uint64_t throttled;
	double cyc;
	uint32_t k;

	memset(cfg, 0, sizeof(cfg));
	for (k = 0; k < n_cls; k++) {
		cfg[k].rate = rate;
		cfg[k].burst = 4 * FRAME;
		cfg[k].weight = 1 + k % 4;
	}
	s = ist_shaper_create(n_cls, cfg, HZ, quantum, NULL);
	if (s == NULL) {
		perror("ist_shaper_create");
		exit(1);
	}
	cyc = run(s, n_cls, n, &throttled);
	printf("%3u classes  %-40s %6.1f cycles/frame  (%.3f waits/frame)\n", n_cls, what, cyc,
	       (double)throttled / (double)n);
	ist_shaper_free(s);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 10000000ull;
	static const uint32_t counts[] = {2, 8, 64};
	size_t i;

	printf("pick + charge per %u-byte frame, hz %llu, weights 1..4, link %llu MB/s\n", FRAME,
	       (unsigned long long)HZ, (unsigned long long)(LINK / 1000000));
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		uint32_t c = counts[i];

		bench("unlimited, quantum 64 KiB", c, 0, IST_SHAPER_QUANTUM_DEFAULT, n);
		bench("unlimited, quantum 1500 (turn per frame)", c, 0, FRAME, n);
		/* together twice the link: every class empties its bucket and waits */
		bench("limited, 2x link in total", c, 2 * LINK / c, IST_SHAPER_QUANTUM_DEFAULT, n);
		/* together half the link: the clock often jumps to next_eligible() */
		bench("limited, 0.5x link in total", c, LINK / 2 / c, IST_SHAPER_QUANTUM_DEFAULT,
		      n);
	}
	return 0;
}
