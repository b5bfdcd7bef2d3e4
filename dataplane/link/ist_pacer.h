/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Link pacer: a token bucket that spaces DATA packets at the link rate.
 *
 * Why pacing and not a congestion window: the link is a dedicated WAN
 * circuit of known capacity, not a path shared with unknown flows. On such a
 * circuit loss is random (bit errors, a lossy hop), not a signal that a
 * queue overflowed, so halving the rate on loss the way TCP does only
 * throws capacity away: at 1 % loss and 100 ms RTT a Reno-style sender
 * reaches a few Mb/s, whatever the circuit. Sending at exactly the
 * configured rate never builds a queue of our own making, and lost packets
 * are retransmitted inside the same budget, so goodput is the rate times
 * (1 - loss). Loss therefore does NOT change the rate here; only the
 * configuration (capacity_mbps) does.
 *
 * Arithmetic (profile/runtime split as in rte_meter): the rate is a
 * fraction of a byte per TSC cycle, rate_bps / (8 * hz). Instead of
 * rounding it to a fixed-point constant, tokens are counted in units of
 * 1 / (8 * hz) byte, so one cycle adds exactly rate_bps units and a packet
 * of B bytes costs exactly B * 8 * hz units. Nothing is ever rounded, so
 * the long-run rate is exact (no drift) and the hot path is one multiply,
 * one compare, one subtract. The profile is computed once per rate change
 * (ist_pacer_profile_config() divides); ist_pacer_next() avoids the
 * per-call division with a precomputed reciprocal and at most two
 * correction steps, so its answer is still exact.
 *
 * Limits: 8 * hz * burst_bytes + rate_bps must fit in 63 bits, which at
 * 5 GHz allows a burst of ~200 MB; rate_bps >= 1. A packet larger than the
 * burst is never admitted (ist_pacer_next() returns UINT64_MAX), so size
 * the burst to at least one MTU.
 *
 * Why not rte_meter: it colours packets but cannot say when a packet will
 * conform (the pacer must tell the lcore how long to wait) and its bytes
 * per period are rounded; rte_sched paces per port/subport with a
 * scheduler this link does not need. Written by hand for those two reasons.
 *
 * Threading: one owner (the link-tx lcore); the profile may be built on
 * the mgmt thread and handed over through the lcore's command ring.
 *
 * Measured cost: tests/link/bench_pacer.c, gcc 12 -O3 -march=native, on a
 * 2-core virtualized Xeon with a 2.3 GHz TSC; TSC cycles per call in a tight
 * loop (throughput, warm cache), the same at 100 Mb/s, 10 Gb/s and 40 Gb/s.
 * A backlogged sender's next() + admit() pair costs 12 cycles.
 */
#ifndef ISTHMUS_LINK_PACER_H
#define ISTHMUS_LINK_PACER_H

#include <stdbool.h>
#include <stdint.h>

/** Set up once per rate; copied into the runtime state. */
struct ist_pacer_profile {
	uint64_t rate;  /**< units per cycle = bits per second */
	uint64_t unit;  /**< units per byte = 8 * hz */
	uint64_t depth; /**< bucket size in units = burst_bytes * unit */
	uint64_t fill;  /**< cycles to fill an empty bucket: ceil(depth / rate) */
	uint64_t inv;   /**< floor((2^64 - 1) / rate), for ist_pacer_next() */
	uint64_t hz;
	uint32_t burst_bytes;
};

/** Runtime state: the profile in use, the tokens and when they were counted. */
struct ist_pacer {
	struct ist_pacer_profile pp;
	uint64_t tokens;   /**< units available at `last` */
	uint64_t last;     /**< TSC of the last refill */
	uint64_t admitted; /**< counter: packets admitted */
	uint64_t bytes;    /**< counter: bytes admitted */
	uint64_t refused;  /**< counter: admit() said no */
};

/**
 * Compute a profile.
 *
 * @param rate_bps    link rate, bits per second, >= 1
 * @param burst_bytes bucket depth, >= the largest packet
 * @param hz          TSC cycles per second
 * @return 0, -EINVAL for a zero argument, -ERANGE if the bucket does not fit
 *   in 63 bits.
 */
int ist_pacer_profile_config(struct ist_pacer_profile *pp, uint64_t rate_bps, uint32_t burst_bytes,
			     uint64_t hz);

/** Start pacing with a full bucket at `now`. @return 0 or -EINVAL. */
int ist_pacer_init(struct ist_pacer *p, const struct ist_pacer_profile *pp, uint64_t now);

/**
 * Change the rate at `now`: tokens earned so far are counted at the old rate,
 * then kept (clamped to the new burst). Not per packet: it may divide.
 */
void ist_pacer_profile_set(struct ist_pacer *p, const struct ist_pacer_profile *pp, uint64_t now);

/* HOT: part of admit()/next(), measured with them. */
static inline void ist_pacer_refill(struct ist_pacer *p, uint64_t now)
{
	uint64_t d;

	if (now <= p->last)
		return;
	d = now - p->last;
	p->last = now;
	if (d >= p->pp.fill) {
		p->tokens = p->pp.depth;
		return;
	}
	/* d < fill, so d * rate < depth + rate: no overflow (checked at config). */
	p->tokens += d * p->pp.rate;
	if (p->tokens > p->pp.depth)
		p->tokens = p->pp.depth;
}

/**
 * May a packet of `bytes` leave at `now`? Takes its tokens when it may.
 * HOT: 4.6 cycles admitted, 3.4 refused (bench_pacer).
 */
static inline bool ist_pacer_admit(struct ist_pacer *p, uint32_t bytes, uint64_t now)
{
	uint64_t need = (uint64_t)bytes * p->pp.unit;

	ist_pacer_refill(p, now);
	if (p->tokens < need) {
		p->refused++;
		return false;
	}
	p->tokens -= need;
	p->admitted++;
	p->bytes += bytes;
	return true;
}

/**
 * The earliest TSC time at which admit(bytes) will succeed: `now` when it
 * would already, UINT64_MAX when bytes exceed the burst. Exact: admit at the
 * returned time succeeds and admit one cycle earlier does not. Takes no
 * tokens. HOT: 3.4 cycles when already allowed, 3.7 when it computes a wait
 * (bench_pacer).
 */
static inline uint64_t ist_pacer_next(struct ist_pacer *p, uint32_t bytes, uint64_t now)
{
	uint64_t need = (uint64_t)bytes * p->pp.unit;
	uint64_t deficit, q;

	ist_pacer_refill(p, now);
	if (p->tokens >= need)
		return now;
	if (need > p->pp.depth)
		return UINT64_MAX;
	deficit = need - p->tokens;
	/* q <= deficit / rate <= q + 2: two correction steps at most. */
	q = (uint64_t)(((unsigned __int128)deficit * p->pp.inv) >> 64);
	while (q * p->pp.rate < deficit)
		q++;
	return p->last + q;
}

#endif /* ISTHMUS_LINK_PACER_H */
