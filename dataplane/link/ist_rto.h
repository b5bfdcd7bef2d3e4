/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Retransmission timeout for the link (RFC 6298, integer arithmetic).
 *
 *     first sample R:   SRTT = R, RTTVAR = R / 2
 *     later samples R:  RTTVAR = (3 * RTTVAR + |SRTT - R|) / 4   (old SRTT)
 *                       SRTT   = (7 * SRTT + R) / 8
 *     RTO = SRTT + max(G, 4 * RTTVAR) + max_ack_delay, clamped to [min, max]
 *
 * Units: everything is kept in TSC cycles, the unit `now` already comes in,
 * so a sample is one subtraction and no conversion runs per packet. The
 * divisions by 4 and 8 truncate; at any real clock rate one cycle is far
 * below the timer's granularity, so the truncation is immaterial and the
 * results are exact integers a test can recompute.
 *
 * Differences from TCP, on purpose: the minimum RTO is 1 ms (configurable),
 * not 1 s, because this is a dedicated link with a known RTT and a spurious
 * retransmission only costs one packet of bandwidth, while a late one stalls
 * every stream behind the hole; the initial RTO is twice the configured link
 * RTT (200 ms when none is configured) instead of 1 s, because the RTT is
 * part of the core map. max_ack_delay (RFC 9002's term) is added so the
 * peer's delayed-ACK timer never fires our timer on a link with no jitter.
 *
 * Backoff doubles the RTO up to the maximum; RFC 6298 5.7 keeps the
 * backed-off value until a new sample arrives, and ist_rto_sample() then
 * recomputes it from SRTT/RTTVAR.
 *
 * Written by hand: nothing in DPDK keeps an RTT estimator.
 *
 * Threading: one owner (the link-tx lcore); no locks, no allocation.
 */
#ifndef ISTHMUS_LINK_RTO_H
#define ISTHMUS_LINK_RTO_H

#include <stdint.h>

#define IST_RTO_DEFAULT_MIN_US     1000u
#define IST_RTO_DEFAULT_MAX_US     2000000u
#define IST_RTO_DEFAULT_INITIAL_US 200000u
#define IST_RTO_DEFAULT_G_US       100u

/** Configuration; zero fields take the defaults noted. */
struct ist_rto_conf {
	uint64_t hz;               /**< TSC cycles per second, required */
	uint32_t min_us;           /**< lower clamp; 0: 1 ms */
	uint32_t max_us;           /**< upper clamp and backoff cap; 0: 2 s */
	uint32_t initial_us;       /**< RTO before any sample; 0: 2 * rtt_ms or 200 ms */
	uint32_t rtt_ms;           /**< configured link RTT, 0: unknown */
	uint32_t granularity_us;   /**< G: how late our timer may fire; 0: 100 us */
	uint32_t max_ack_delay_us; /**< peer's delayed-ACK bound, added to the RTO */
};

/** RTT estimator and timeout, all in TSC cycles. */
struct ist_rto {
	uint64_t srtt; /**< 0 until the first sample */
	uint64_t rttvar;
	uint64_t rto; /**< current timeout, backoff included */
	uint64_t min, max, g, ack_delay;
	uint64_t initial; /**< RTO before the first sample */
	uint64_t hz;
	uint32_t backoffs; /**< consecutive backoffs since the last sample */
	uint32_t pad;
	uint64_t samples; /**< counter */
};

/**
 * Convert microseconds to TSC cycles at `hz` (rounded down).
 * Configuration-time helper: it divides.
 */
uint64_t ist_rto_us_to_cycles(uint64_t us, uint64_t hz);

/**
 * Set up an estimator with no samples.
 *
 * @return 0, or -EINVAL if hz is 0 or min > max.
 */
int ist_rto_init(struct ist_rto *r, const struct ist_rto_conf *c);

/** Feed one RTT sample (cycles, ack delay already removed). HOT: 7 cycles (bench_link). */
void ist_rto_sample(struct ist_rto *r, uint64_t rtt);

/** The timer fired: double the RTO, capped at max. */
void ist_rto_backoff(struct ist_rto *r);

/** Undo the backoff: RTO from SRTT/RTTVAR again, or the initial RTO without samples. */
void ist_rto_backoff_clear(struct ist_rto *r);

/** Current timeout in cycles. */
static inline uint64_t ist_rto_get(const struct ist_rto *r)
{
	return r->rto;
}

/** Smoothed RTT, or the initial RTO halved while there is no sample yet. */
static inline uint64_t ist_rto_srtt(const struct ist_rto *r)
{
	return r->srtt != 0 ? r->srtt : r->initial / 2;
}

#endif /* ISTHMUS_LINK_RTO_H */
