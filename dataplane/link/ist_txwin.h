/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Sender scoreboard: DATA packets in flight, ACK processing, loss detection
 * (RFC 9002 style) and the retransmission timer.
 *
 * The scoreboard owns the sender's packet-number space. Every packet takes
 * the next pn: DATA through ist_txwin_send(), which records it in a ring
 * indexed by pn; ACK, CREDIT, HEARTBEAT through ist_txwin_pn_take(), which
 * records nothing (they are never retransmitted). A pn acknowledged by the
 * peer is therefore "never sent" only when it is >= the next pn; such an ACK
 * is counted as bogus and ignored entirely.
 *
 * ACK processing: pns below ACK.cum and inside the ranges (and `largest`
 * itself) that are still outstanding are acknowledged and handed to the
 * `on_acked` callback. ACK.cum also covers pns that merely slid out of the
 * receiver's window, so cum is trusted only within `peer_window` pns of
 * `largest`; older outstanding pns are left to loss detection, which may
 * retransmit a packet that did arrive (harmless: the receiver's reassembly
 * drops the duplicate fragments) but never drops one that did not.
 *
 * RTT: a sample is taken when `largest` is newly acknowledged and was not a
 * retransmission (Karn). Retransmissions get a new pn here, so they are not
 * actually ambiguous; skipping them anyway keeps a backed-off RTO until a
 * first-transmission sample shows the path is healthy again (RFC 6298 5.7).
 * The peer's ack delay is subtracted when that does not take the sample
 * below the minimum RTT seen (RFC 9002 5.3).
 *
 * Loss (RFC 9002 6.1): an outstanding packet is lost when a packet sent
 * `pkt_threshold` (3) or more pns later has been acknowledged, or when it
 * was sent more than 9/8 x max(SRTT, latest RTT) before the newest
 * acknowledged packet was sent. Lost packets are handed to the `on_lost`
 * callback and leave the scoreboard; the caller queues them and sends them
 * again with ist_txwin_send() (new pn, retx + 1). Loss never changes the
 * sending rate: see ist_pacer.h.
 *
 * Timer (RTO/PTO): when packets are in flight and nothing was acknowledged
 * for one RTO (counted from the last progress or from the first send into
 * an empty scoreboard), ist_txwin_timeout() hands the `pto_probes` (2)
 * oldest outstanding packets to `on_lost` and doubles the RTO (capped). An ACK
 * for the probes then declares everything older lost by packet threshold.
 *
 * Caller's obligations, one `now` per burst:
 *   rx burst: each ACK -> ist_txwin_on_ack() (after ist_rxwin_rx() accepted
 *     the packet carrying it); release payloads in `on_acked`, queue `on_lost`.
 *   tx burst: ist_txwin_timeout(); then for each DATA packet,
 *     retransmissions first: if ist_pacer_admit() then ist_txwin_send(),
 *     write the pn into the header, send. ACK, CREDIT, HEARTBEAT take
 *     ist_txwin_pn_take() and are not paced (small, and must not wait).
 *   sleep no later than ist_txwin_deadline().
 *   new epoch (ours): ist_txwin_reset(), which hands back everything.
 * Callbacks must not call into the same scoreboard.
 *
 * Memory: one allocation of ist_txwin_memsize(capacity) =
 *   struct + capacity x 24 bytes + capacity / 8 + capacity / 512 bytes;
 *   capacity = ist_txwin_capacity() = 2 x BDP in packets, power of two.
 *   Example: 10 Gb/s, 100 ms, 1500-byte packets: 262144 entries, 6.0 MiB.
 * Cost is proportional to the packets acknowledged or lost, not to the span
 * of the ACK ranges: outstanding pns are a two-level bitmap, so ranges that
 * were already acknowledged cost one summary word per 4096 pns.
 *
 * Written by hand: nothing in DPDK tracks packets in flight.
 *
 * Threading: one owner (the link-tx lcore, or link-rx handing ACKs over a
 * ring to it); counters are read by mgmt.
 */
#ifndef ISTHMUS_LINK_TXWIN_H
#define ISTHMUS_LINK_TXWIN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "isthmus/wire.h"
#include "ist_link_mem.h"
#include "ist_rto.h"

#define IST_TXWIN_MIN_CAPACITY      64u
#define IST_TXWIN_MAX_CAPACITY      (1u << 24)
#define IST_TXWIN_DEFAULT_THRESHOLD 3u
#define IST_TXWIN_DEFAULT_PROBES    2u

struct ist_txwin_conf {
	uint32_t capacity;       /**< ring entries, power of two, >= 64: ist_txwin_capacity() */
	uint32_t peer_window;    /**< receiver's pn window; 0: IST_RXWIN_MIN_WINDOW (4096) */
	uint32_t pkt_threshold;  /**< reordering tolerated, pns; 0: 3 */
	uint32_t pto_probes;     /**< packets handed back per timeout; 0: 2 */
	struct ist_rto_conf rto; /**< hz there is the scoreboard's hz too */
	/** A packet was acknowledged: release its payload. */
	void (*on_acked)(void *arg, void *handle, uint32_t bytes, uint16_t retx);
	/** A packet is lost (or the scoreboard is reset): send it again or free it. */
	void (*on_lost)(void *arg, void *handle, uint32_t bytes, uint16_t retx);
	void *arg;
};

struct ist_txwin_pkt {
	uint64_t sent; /**< TSC at send */
	void *handle;  /**< caller's payload handle */
	uint32_t bytes;
	uint16_t retx; /**< how many times this payload was sent before */
	uint16_t pad;
};

struct ist_txwin {
	uint64_t next_pn;        /**< pn the next packet takes */
	uint64_t una;            /**< lowest outstanding pn; next_pn when none */
	uint64_t mask;           /**< capacity - 1 */
	uint64_t inflight_bytes; /**< bytes of outstanding DATA */
	uint32_t inflight;       /**< outstanding DATA packets */
	uint32_t cap;
	uint64_t largest_acked;      /**< 0: none yet */
	uint64_t largest_acked_sent; /**< send time of the newest acknowledged packet */
	uint64_t latest_rtt;         /**< cycles, raw (ack delay included) */
	uint64_t min_rtt;            /**< cycles, 0: no sample */
	uint64_t timer_base;         /**< RTO counts from here */
	uint64_t peer_window;
	uint64_t cyc_per_us_q16; /**< hz / 10^6 in Q16, for ACK delay */
	uint32_t pkt_threshold;
	uint32_t pto_probes;
	struct ist_txwin_pkt *pkts; /**< [cap], slot pn & mask */
	uint64_t *out;              /**< [cap / 64] outstanding bit per slot */
	uint64_t *sum;              /**< [ceil(cap / 4096)] bit per non-zero out word */
	void (*on_acked)(void *arg, void *handle, uint32_t bytes, uint16_t retx);
	void (*on_lost)(void *arg, void *handle, uint32_t bytes, uint16_t retx);
	void *arg;
	struct ist_rto rto;

	/* counters: owner rw, mgmt ro */
	uint64_t sent __rte_cache_aligned; /**< DATA packets sent, retransmissions included */
	uint64_t resent;                   /**< of which retransmissions */
	uint64_t ctl_pns;                  /**< pns taken by non-DATA packets */
	uint64_t full;                     /**< send refused: ring full */
	uint64_t acks;                     /**< ACKs processed */
	uint64_t bogus_acks;               /**< ACKs for pns never sent, or malformed */
	uint64_t acked;                    /**< DATA packets acknowledged */
	uint64_t lost_pkt;                 /**< lost by packet threshold */
	uint64_t lost_time;                /**< lost by time threshold */
	uint64_t pto_fired;                /**< timeouts */
	uint64_t pto_pkts;                 /**< packets handed back by timeouts */
	uint64_t karn_skipped;             /**< RTT samples skipped: retransmission */

	struct ist_link_alloc alloc;
} __rte_cache_aligned;

/** 2 x BDP in packets, power of two, within [64, 2^24]. */
uint32_t ist_txwin_capacity(uint32_t capacity_mbps, uint32_t rtt_ms, uint32_t pkt_bytes);

/** Bytes ist_txwin_create() allocates for `capacity` entries. */
size_t ist_txwin_memsize(uint32_t capacity);

/**
 * Create an empty scoreboard (next pn 1).
 *
 * @locality mgmt thread / start-up
 * @return the scoreboard, or NULL with errno EINVAL (capacity not a power of
 *   two in range, no callbacks, bad RTO config) or ENOMEM.
 */
struct ist_txwin *ist_txwin_create(const struct ist_txwin_conf *c, const struct ist_link_alloc *a);

void ist_txwin_free(struct ist_txwin *tw);

/**
 * The peer started a new epoch (it restarted): every outstanding packet goes
 * to `on_lost` (the caller frees it: the new receiver resumes by credits),
 * but our pns go on, so no pn is used twice in our epoch. @return packets.
 */
uint32_t ist_txwin_discard(struct ist_txwin *tw, uint64_t now);

/**
 * Start a new epoch: every outstanding packet goes to `on_lost` (the caller
 * knows it is resetting and frees or requeues them), pns restart at 1. The
 * RTT estimate is kept (same path), the backoff is not.
 * @return packets handed back.
 */
uint32_t ist_txwin_reset(struct ist_txwin *tw, uint64_t now);

/** A pn for a packet that is not DATA (ACK, CREDIT, HEARTBEAT, CLOSE). HOT: inline, trivial. */
static inline uint64_t ist_txwin_pn_take(struct ist_txwin *tw)
{
	uint64_t pn = tw->next_pn++;

	if (tw->inflight == 0)
		tw->una = tw->next_pn;
	tw->ctl_pns++;
	return pn;
}

/** Is there a ring entry for one more DATA packet? */
static inline bool ist_txwin_has_room(const struct ist_txwin *tw)
{
	return tw->next_pn - tw->una < tw->cap;
}

/**
 * Record a DATA packet about to be sent.
 *
 * HOT: 15 cycles (bench_link, 2.3 GHz TSC, ring larger than the cache).
 * @param retx  0 for a first transmission, else the `retx` from `on_lost` + 1
 * @param pn    out: the packet's pn
 * @return 0, or -ENOBUFS when the ring is full (the oldest outstanding pn is
 *   `capacity` behind): wait for ACKs or the timeout.
 */
int ist_txwin_send(struct ist_txwin *tw, uint32_t bytes, void *handle, uint16_t retx, uint64_t now,
		   uint64_t *pn);

/**
 * Process an ACK: acknowledge, sample RTT, detect losses (callbacks run
 * before it returns, acked first, then lost, each in pn order).
 *
 * HOT: ~90 cycles for an ACK (cum + one range) that acknowledges 2 packets,
 * callbacks and loss scan included (bench_link: 105 for 2 sends + 1 ACK).
 * @return packets newly acknowledged (>= 0), or -EINVAL for a bogus ACK
 *   (a pn never sent, a malformed range): nothing was changed.
 */
int ist_txwin_on_ack(struct ist_txwin *tw, const struct ist_ack *ack, uint64_t now);

/**
 * Run the retransmission timer. HOT (cheap unless it fires).
 * @return packets handed to `on_lost` (0 if the timer has not expired).
 */
uint32_t ist_txwin_timeout(struct ist_txwin *tw, uint64_t now);

/** When ist_txwin_timeout() next has work: a TSC time, UINT64_MAX if none. */
static inline uint64_t ist_txwin_deadline(const struct ist_txwin *tw)
{
	return tw->inflight != 0 ? tw->timer_base + ist_rto_get(&tw->rto) : UINT64_MAX;
}

static inline uint64_t ist_txwin_inflight_bytes(const struct ist_txwin *tw)
{
	return tw->inflight_bytes;
}

#endif /* ISTHMUS_LINK_TXWIN_H */
