/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Anti-replay window over a peer's packet numbers (RFC 4303 section 3.4.3,
 * with the block ring of RFC 6479 so that sliding never shifts the bitmap).
 *
 * One window per peer epoch: packet numbers restart at 1 in every epoch, so
 * the owner calls ist_replay_reset() when the peer's epoch changes. A packet
 * is checked before authentication (cheap drop of duplicates) and recorded
 * with ist_replay_update() only after it authenticated, so forged packets
 * cannot move the window. On an unkeyed link (mode none) nothing
 * authenticates, so the window only suppresses duplicates; it is no defence
 * against an attacker who can send packets.
 *
 * The window accepts any pn above the highest seen (a far jump ahead is
 * fine: the packet authenticated) and any pn within IST_REPLAY_WIN - 1 below
 * it that was not seen yet.
 *
 * Threading: one window per receiving lcore and peer; no locks. HOT, O(1):
 * check is a few instructions; update clears at most IST_REPLAY_WORDS words
 * when it jumps ahead.
 *
 * Limits: IST_REPLAY_WIN packet numbers; 272 bytes per window.
 *
 * Written by hand: DPDK's rte_ipsec keeps its replay window inside an SA
 * with ESP-specific sequence handling; this is the same algorithm without
 * the SA.
 */
#ifndef ISTHMUS_IST_REPLAY_H
#define ISTHMUS_IST_REPLAY_H

#include <stdint.h>

#include "ist_wire.h"

/** Window size in packet numbers. */
#define IST_REPLAY_WIN 1024u
/*
 * Ring of 64-bit blocks, a power of two with one block more than the window
 * needs: the block the top is in may be partly ahead of the window.
 */
#define IST_REPLAY_WORDS 32u

_Static_assert((IST_REPLAY_WORDS & (IST_REPLAY_WORDS - 1)) == 0, "ring size is a power of two");
_Static_assert((IST_REPLAY_WORDS - 1) * 64 >= IST_REPLAY_WIN, "ring covers the window");

struct ist_replay {
	uint64_t top;   /**< highest pn recorded; 0: none yet */
	uint32_t epoch; /**< the peer epoch this window belongs to */
	uint32_t pad;
	uint64_t bits[IST_REPLAY_WORDS];
};

/**
 * Start a fresh window for a peer epoch (also the initialiser).
 *
 * @param w
 *   The window.
 * @param epoch
 *   The peer's epoch the packet numbers belong to.
 */
void ist_replay_reset(struct ist_replay *w, uint32_t epoch);

/**
 * May pn be accepted? HOT. Does not change the window.
 *
 * @return
 *   0; IST_WIRE_E_TOO_OLD (pn 0, or IST_REPLAY_WIN or more below the top)
 *   or IST_WIRE_E_REPLAYED (already recorded).
 */
static inline int ist_replay_check(const struct ist_replay *w, uint64_t pn)
{
	if (pn > w->top)
		return 0;
	if (pn == 0 || w->top - pn >= IST_REPLAY_WIN)
		return IST_WIRE_E_TOO_OLD;
	if (w->bits[(pn >> 6) & (IST_REPLAY_WORDS - 1)] & (1ull << (pn & 63)))
		return IST_WIRE_E_REPLAYED;
	return 0;
}

/**
 * Record pn after the packet authenticated and ist_replay_check() passed. HOT.
 */
void ist_replay_update(struct ist_replay *w, uint64_t pn);

#endif /* ISTHMUS_IST_REPLAY_H */
