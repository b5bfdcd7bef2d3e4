/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Receiver packet tracking: duplicate detection and ACK generation for the
 * peer's packet-number space (one epoch at a time).
 *
 * Every packet the peer sends takes a pn, whatever its type, so every
 * authenticated packet goes through ist_rxwin_rx() before it is acted on;
 * -EALREADY means drop it. The window is a bitmap of `window` pns starting
 * at `cum`, the lowest pn not received yet; everything below `cum` was
 * received or has left the window. A pn at or beyond cum + window slides
 * the window up: the pns that fall out without having arrived are counted
 * in `slid_lost` and are from then on reported as "below the window" by
 * ACK.cum. The sender must not take cum as proof of delivery for pns more
 * than a window below `largest` (ist_txwin does not).
 *
 * ACK policy (QUIC-like): an ACK is due after every `ack_every` (2)
 * ack-eliciting packets (DATA), at once when a packet arrives out of order
 * (a gap opened or was filled) so the sender's fast retransmit starts a
 * round trip sooner, or when the delayed-ACK timer armed by the first
 * unacknowledged DATA packet expires (1 ms by default). Packets that are
 * not ack-eliciting (ACK, CREDIT, HEARTBEAT) are tracked for duplicates but
 * never cause an ACK by themselves, so two peers never ACK each other's ACKs.
 *
 * Caller's obligations per rx burst, with one `now` per burst:
 *   for each authenticated packet: ist_rxwin_rx() and drop on -EALREADY;
 *   after the burst: if ist_rxwin_ack_due(), ist_rxwin_ack_build() and send
 *   the ACK; otherwise sleep no later than ist_rxwin_ack_deadline().
 * On a new peer epoch: ist_rxwin_reset().
 *
 * Memory: sizeof(struct ist_rxwin) + window / 8 bytes, one allocation.
 * Size `window` >= the sender's pns in flight (2 x BDP in packets) so that
 * reordering never slides a late packet out: ist_rxwin_window().
 *
 * Written by hand: rte_reorder reorders mbufs, it does not produce ACK
 * ranges or detect duplicates over a sliding window.
 *
 * Threading: one owner (the link-rx lcore); counters are read by mgmt
 * (aligned 64-bit loads).
 */
#ifndef ISTHMUS_LINK_RXWIN_H
#define ISTHMUS_LINK_RXWIN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "isthmus/wire.h"
#include "ist_link_mem.h"

#define IST_RXWIN_MIN_WINDOW       4096u
#define IST_RXWIN_MAX_WINDOW       (1u << 24)
#define IST_RXWIN_DEFAULT_EVERY    2u
#define IST_RXWIN_DEFAULT_DELAY_US 1000u

struct ist_rxwin_conf {
	uint64_t hz;           /**< TSC cycles per second, required */
	uint32_t window;       /**< pns tracked, power of two; 0: 4096; < 4096 raised to it */
	uint32_t ack_every;    /**< ack-eliciting packets per ACK; 0: 2 */
	uint32_t ack_delay_us; /**< delayed-ACK timer; 0: 1 ms */
};

struct ist_rxwin {
	uint64_t cum;          /**< lowest pn not received; all below received or left the window */
	uint64_t largest;      /**< largest pn received, 0: none */
	uint64_t largest_at;   /**< `now` when `largest` arrived */
	uint64_t ack_deadline; /**< delayed-ACK timer, UINT64_MAX when not armed */
	uint64_t mask;         /**< window - 1 */
	uint64_t ack_delay;    /**< cycles */
	uint64_t us_mul;       /**< (10^6 << 32) / hz: cycles to microseconds */
	uint64_t *bits;        /**< bit (pn & mask) for pn in [cum, cum + window) */
	uint32_t unacked;      /**< ack-eliciting packets since the last ACK */
	uint32_t ack_every;
	uint32_t window;
	uint32_t epoch; /**< peer epoch this window belongs to (caller's bookkeeping) */
	bool ack_now;   /**< out-of-order arrival since the last ACK */

	/* counters: lcore rw, mgmt ro */
	uint64_t rx_new __rte_cache_aligned;
	uint64_t rx_dup;    /**< pn already in the window */
	uint64_t rx_stale;  /**< pn below cum: received before or slid out */
	uint64_t rx_bad;    /**< pn 0 */
	uint64_t slid_lost; /**< pns pushed out of the window without arriving */
	uint64_t reorder;   /**< arrivals below `largest` */
	uint64_t acks;      /**< ACKs built */

	struct ist_link_alloc alloc;
} __rte_cache_aligned;

/** A window of at least 2 x BDP packets, power of two, >= 4096. */
uint32_t ist_rxwin_window(uint32_t capacity_mbps, uint32_t rtt_ms, uint32_t pkt_bytes);

/** Bytes ist_rxwin_create() allocates for `window` (after rounding). */
size_t ist_rxwin_memsize(uint32_t window);

/**
 * Create an empty window (cum 1, epoch 0).
 *
 * @locality mgmt thread / start-up
 * @param a allocator, NULL: aligned_alloc()
 * @return the window, or NULL with errno EINVAL (hz 0, window not a power of
 *   two or above IST_RXWIN_MAX_WINDOW) or ENOMEM.
 */
struct ist_rxwin *ist_rxwin_create(const struct ist_rxwin_conf *c, const struct ist_link_alloc *a);

void ist_rxwin_free(struct ist_rxwin *w);

/** Forget everything: the peer started epoch `epoch`. Counters are kept. */
void ist_rxwin_reset(struct ist_rxwin *w, uint32_t epoch);

/**
 * Record packet `pn`.
 *
 * HOT: 13 cycles in order, 10 with 1 % holes, 11.5 reordered (bench_link,
 * 2.3 GHz TSC, see ist_pacer.h for the set-up).
 * @param ack_eliciting true for DATA
 * @return 0 new, -EALREADY duplicate or below the window (drop it),
 *   -EINVAL pn 0.
 */
int ist_rxwin_rx(struct ist_rxwin *w, uint64_t pn, bool ack_eliciting, uint64_t now);

/** Is an ACK due at `now`? HOT: a few compares, inline. */
static inline bool ist_rxwin_ack_due(const struct ist_rxwin *w, uint64_t now)
{
	return w->unacked != 0 &&
	       (w->ack_now || w->unacked >= w->ack_every || now >= w->ack_deadline);
}

/** When the next ACK falls due: 0 (now), a TSC time, or UINT64_MAX (none pending). */
static inline uint64_t ist_rxwin_ack_deadline(const struct ist_rxwin *w)
{
	if (w->unacked == 0)
		return UINT64_MAX;
	if (w->ack_now || w->unacked >= w->ack_every)
		return 0;
	return w->ack_deadline;
}

/**
 * Fill `ack` (cum, largest, delay since `largest` arrived, up to
 * IST_WIRE_MAX_SACK ranges of received pns above cum, highest first) and
 * restart the ACK policy: the caller sends it now. Building an ACK when
 * nothing was received gives largest 0 and no ranges.
 * HOT: 8 cycles without ranges, ~400 for 16 ranges spread over 1600 pns
 * (~25 per range; bench_link).
 */
void ist_rxwin_ack_build(struct ist_rxwin *w, struct ist_ack *ack, uint64_t now);

#endif /* ISTHMUS_LINK_RXWIN_H */
