/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "ist_replay.h"

void ist_replay_reset(struct ist_replay *w, uint32_t epoch)
{
	memset(w, 0, sizeof(*w));
	w->epoch = epoch;
}

/* HOT. check + update of an in-order pn: ~6 cycles (tests/wire/bench_wire). */
void ist_replay_update(struct ist_replay *w, uint64_t pn)
{
	uint64_t blk = pn >> 6, top_blk = w->top >> 6, i, n;

	/*
	 * A pn below the window would set a bit in a ring slot that now stands
	 * for a newer block and make a fresh packet look replayed.
	 */
	if (unlikely(ist_replay_check(w, pn) == IST_WIRE_E_TOO_OLD))
		return;
	if (pn > w->top) {
		/*
		 * Clear the blocks the window slides into; they still hold bits
		 * of packet numbers one ring turn older. A jump of a whole ring
		 * or more clears everything.
		 */
		n = RTE_MIN(blk - top_blk, (uint64_t)IST_REPLAY_WORDS);
		for (i = 1; i <= n; i++)
			w->bits[(top_blk + i) & (IST_REPLAY_WORDS - 1)] = 0;
		w->top = pn;
	}
	w->bits[blk & (IST_REPLAY_WORDS - 1)] |= 1ull << (pn & 63);
}
