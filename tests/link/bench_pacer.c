/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cost per call of the pacer's hot functions, in TSC cycles, from tight
 * loops over a fake clock. Not a test: run it on the target host and copy
 * the numbers beside the HOT functions in ist_pacer.h.
 *
 *     build-link/tests/link/bench_pacer [iterations]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>

#include "ist_pacer.h"

#define HZ 2500000000ull

static volatile uint64_t sink;

static void report(const char *what, uint64_t cycles, uint64_t n)
{
	printf("%-44s %6.1f cycles/call\n", what, (double)cycles / (double)n);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 20000000ull;
	struct ist_pacer_profile pp;
	struct ist_pacer p;
	uint64_t now, t0, i, acc = 0;
	const uint64_t rates[] = {100000000ull, 10000000000ull, 40000000000ull};
	size_t r;

	for (r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		uint64_t step = (1500ull * 8 * HZ + rates[r] - 1) / rates[r];

		printf("rate %llu Mb/s, hz %llu, 1500-byte packets, burst 2 packets\n",
		       (unsigned long long)(rates[r] / 1000000), (unsigned long long)HZ);
		if (ist_pacer_profile_config(&pp, rates[r], 3000, HZ) != 0)
			return 1;

		/* admit, admitted: the clock moves one packet time per call */
		ist_pacer_init(&p, &pp, 0);
		now = 0;
		t0 = rte_rdtsc();
		for (i = 0; i < n; i++) {
			now += step;
			acc += ist_pacer_admit(&p, 1500, now);
		}
		report("  ist_pacer_admit (admitted)", rte_rdtsc() - t0, n);

		/* admit, refused: the clock moves one cycle per call */
		ist_pacer_init(&p, &pp, 0);
		ist_pacer_admit(&p, 3000, 0);
		now = 0;
		t0 = rte_rdtsc();
		for (i = 0; i < n; i++) {
			now++;
			acc += ist_pacer_admit(&p, 1500, now);
		}
		report("  ist_pacer_admit (refused)", rte_rdtsc() - t0, n);

		/* next, already allowed */
		ist_pacer_init(&p, &pp, 0);
		now = 0;
		t0 = rte_rdtsc();
		for (i = 0; i < n; i++) {
			now += 3;
			acc += ist_pacer_next(&p, 1 + (uint32_t)(i & 1023), now + step * 4);
		}
		report("  ist_pacer_next (already allowed)", rte_rdtsc() - t0, n);

		/* next, computing the wait */
		ist_pacer_init(&p, &pp, 0);
		ist_pacer_admit(&p, 3000, 0);
		now = 0;
		t0 = rte_rdtsc();
		for (i = 0; i < n; i++) {
			now++;
			acc += ist_pacer_next(&p, 1000 + (uint32_t)(i & 511), now);
		}
		report("  ist_pacer_next (computes a wait)", rte_rdtsc() - t0, n);

		/* a backlogged sender: next() then admit() at that time */
		ist_pacer_init(&p, &pp, 0);
		now = 0;
		t0 = rte_rdtsc();
		for (i = 0; i < n; i++) {
			now = ist_pacer_next(&p, 1500, now);
			acc += ist_pacer_admit(&p, 1500, now);
		}
		report("  next + admit, backlogged", rte_rdtsc() - t0, n);
	}
	sink = acc;
	return 0;
}
