/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Per-class shaper and fair scheduler for link-tx.
 *
 * Topics map to classes (configuration). Each class has a token bucket
 * (rate bytes/s, burst bytes; rate 0 = unlimited, bounded by the link
 * pacer only) and a weight. ist_shaper_pick() answers "which class may send
 * its next frame now": among the classes the caller marked backlogged and
 * whose bucket holds tokens, the one whose turn it is in a deficit round
 * robin weighted by `weight`. A hot class that empties its bucket leaves the
 * round and waits on its own bucket; the others keep sharing, by weight,
 * whatever the link pacer allows. ist_shaper_next_eligible() says when the
 * earliest waiting class gets tokens back, for the idle sleep.
 *
 * Debt: a class is eligible while its tokens are > 0 and ist_shaper_charge()
 * then takes the whole frame, so the bucket may go negative by up to one
 * frame (frames are up to 64 KiB). Chosen over "tokens >= frame size"
 * because pick() then needs no frame sizes (the caller's queues know them,
 * the shaper does not), because a burst smaller than the largest frame
 * still works, and because the long-run rate stays exact: debt is repaid
 * before the class is eligible again. The cost is an overshoot of at most
 * one frame: by any time t a class has sent at most
 * rate * t + burst + (its last frame - 1 byte); every frame *starts* inside
 * the rate * t + burst envelope. Debt is capped at IST_SHAPER_DEBT_MAX
 * bytes: a caller charging a class far past its credit without picking it
 * (a bug) forgets the excess instead of overflowing.
 *
 * Bucket arithmetic (profile/runtime split as in rte_meter, exactness as in
 * ist_pacer): tokens are counted in units of 1/hz byte, so one TSC cycle
 * adds exactly `rate` units and a byte costs exactly `hz` units; nothing is
 * rounded and there is no drift. The profile (depth, fill time, reciprocal
 * of the rate) is computed once at create; the hot path is a multiply, an
 * add and two compares per refill, no division and no floating point. The
 * time a waiting class gets tokens back is computed exactly from a
 * precomputed reciprocal with at most two correction steps.
 *
 * Scheduling: deficit round robin over a FIFO of class indices. The head
 * class is served while its deficit is > 0 (charge() subtracts the frame);
 * at <= 0 it gets quantum_bytes * weight more and moves to the tail. A
 * class becoming backlogged joins at the tail with at most one quantum of
 * credit; going idle drops positive credit (no banking) but keeps debt. A
 * class whose bucket is empty leaves the FIFO for a min-heap keyed by the
 * exact TSC its bucket turns positive. When that time comes it resumes its
 * turn at the head if the turn was not over (credit left), else it joins
 * the tail: a class never sends more than its quantum per round, and a
 * rate-limited class is not sent behind everyone each time its bucket runs
 * dry in the middle of its turn. Idle classes are dropped lazily when they
 * reach the head of either structure.
 *
 * Cost: O(1) per pick when quantum_bytes * weight >= the largest frame
 * (every turn then serves at least one frame), plus O(log n) when a class
 * starts or stops waiting on its bucket. With a smaller quantum, a full
 * pass without a positive deficit skips the remaining empty rounds at once
 * (one division per class), so a pick stays O(n) at worst.
 *
 * Sizing: a limited class reaches its rate only if its bucket can hold
 * what it earns while the other classes take their turns, i.e.
 *   burst >= rate * (sum of the others' weight * quantum + one frame) / link rate,
 * with a margin (2x): otherwise the tokens that overflow meanwhile are lost
 * and the class gets less than its rate (never more; the others get the
 * rest). Example: 100 MB/s link, quantum 64 KiB, other weights summing to 4,
 * frames up to 64 KiB: for a 30 MB/s class the formula gives 98 kB; in a
 * simulation of that case (test_hot_class_isolated) a 192 KiB burst reaches
 * 30.0 MB/s, 128 KiB only 28.2, 64 KiB 23.6. A smaller quantum shortens the
 * turns (and the bursts needed) at the cost of more rotations per frame;
 * IST_SHAPER_QUANTUM_DEFAULT (the largest frame) keeps pick() O(1).
 *
 * Why not rte_meter (DPDK 22.11, rte_meter.h and lib/meter/rte_meter.c):
 *  - rte_meter_*_profile_config() take no TSC rate: they call
 *    rte_get_tsc_hz(), which is 0 before rte_eal_init() and leaves a
 *    profile with cir_period 0 (the run-time check then divides by zero);
 *    rte_meter_*_config() stamp the state with rte_get_tsc_cycles(). Time
 *    and hz are not parameters, so the fake-clock tests cannot drive it.
 *  - The rate is rounded: the period is hz / rate truncated to whole cycles
 *    with at least 100 cycles per period, up to ~1 % fast (700 MB/s at
 *    3 GHz runs 0.84 % fast).
 *  - Every *_color_*_check() divides (time_diff / cir_period): one 64-bit
 *    division per frame, which ARCHITECTURE.md section 6 rules out.
 *  - GREEN needs tc >= pkt_len (no debt: each class's burst would have to
 *    be >= 64 KiB) and it cannot say when a class will next conform, which
 *    next_eligible() must; cir 0 is rejected, so no "unlimited" class.
 *  Filling its (public but "internal") structs by hand would fix the first
 *  point only. So the bucket is written here, with rte_meter's split.
 *
 * Why not rte_sched (DPDK 22.11, rte_sched.h): it is a port-level
 * scheduler over its own mbuf queues (rte_sched_port_enqueue()/dequeue()
 * with the queue path written into each mbuf), a fixed 5-level hierarchy
 * port/subport/pipe/traffic class/queue, strict priority between traffic
 * classes and weights only among the 4 best-effort queues of one pipe
 * (uint8_t wrr_weights); pipes, the level with a token bucket per class,
 * carry no weight. rte_sched_port_dequeue() reads the TSC itself. link-tx
 * keeps frames in per-stream queues and builds, numbers and encrypts each
 * packet only when the pacer admits it (dataplane/link/README.md), so it
 * needs a "may class X send now / when" decision, not a second set of
 * packet queues.
 *
 * Threading: one owner, the link-tx lcore. create/free run on the mgmt
 * thread or at start-up; nothing allocates afterwards. Counters have one
 * writer (the owner) and may be read by mgmt through
 * ist_shaper_class_stats() (64-bit aligned loads, possibly a little stale).
 *
 * Limits: 1..IST_SHAPER_MAX_CLASSES classes; weight 1..IST_SHAPER_MAX_WEIGHT;
 * quantum 1..IST_SHAPER_MAX_QUANTUM bytes; for a limited class
 * (burst + 2 * IST_SHAPER_DEBT_MAX) * hz + rate < 2^63, i.e. a burst of up
 * to ~1.8 GB at 5 GHz. `now` must not go backwards by much (an older `now`
 * earns nothing) and must stay below 2^64 - 1 (wrapping takes 194 years at
 * 3 GHz).
 *
 * Measured cost: tests/link/bench_shaper.c, written beside ist_shaper_pick().
 */
#ifndef ISTHMUS_LINK_SHAPER_H
#define ISTHMUS_LINK_SHAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ist_link_mem.h"

#define IST_SHAPER_MAX_CLASSES 4096u
#define IST_SHAPER_MAX_WEIGHT  65535u
#define IST_SHAPER_MAX_QUANTUM (16u << 20)
/** Most debt a class can carry, bytes; charges past it are forgotten. */
#define IST_SHAPER_DEBT_MAX (16u << 20)
/** The largest frame: every turn serves at least one frame. */
#define IST_SHAPER_QUANTUM_DEFAULT 65536u

/** One class, as configured. */
struct ist_shaper_class_cfg {
	uint64_t rate;   /**< bytes per second; 0 = unlimited (the link pacer limits) */
	uint32_t burst;  /**< bucket depth, bytes; >= 1 when rate > 0, ignored when 0 */
	uint32_t weight; /**< share of the link among backlogged classes, 1..65535 */
};

/** Counters of one class (one writer: the owner lcore). */
struct ist_shaper_stats {
	uint64_t bytes;     /**< bytes charged */
	uint64_t frames;    /**< charges */
	uint64_t throttled; /**< times it was backlogged with an empty bucket and left to wait */
	uint64_t deferred;  /**< times its turn ended (quantum used) while others were waiting */
};

struct ist_shaper;

/** Bytes ist_shaper_create() allocates for `n_classes`, 0 if out of range. */
size_t ist_shaper_memsize(uint32_t n_classes);

/**
 * Create a shaper: every bucket full, no class backlogged.
 *
 * @param n_classes     1..IST_SHAPER_MAX_CLASSES
 * @param cfg           n_classes entries, copied
 * @param tsc_hz        TSC cycles per second, >= 1
 * @param quantum_bytes DRR quantum per unit of weight, 1..IST_SHAPER_MAX_QUANTUM;
 *                      IST_SHAPER_QUANTUM_DEFAULT keeps pick() O(1)
 * @param a             allocator, NULL: aligned_alloc()
 * @locality mgmt thread / start-up
 * @return the shaper, or NULL with errno EINVAL (a count, pointer, weight,
 *   quantum or hz out of range, or a limited class with burst 0), ERANGE
 *   (a limited class's bucket does not fit in 63 bits of 1/hz byte units)
 *   or ENOMEM.
 */
struct ist_shaper *ist_shaper_create(uint32_t n_classes, const struct ist_shaper_class_cfg *cfg,
				     uint64_t tsc_hz, uint32_t quantum_bytes,
				     const struct ist_link_alloc *a);

/** Free a shaper (NULL is fine). @locality mgmt thread / start-up */
void ist_shaper_free(struct ist_shaper *s);

/** Number of classes. */
uint32_t ist_shaper_n_classes(const struct ist_shaper *s);

/**
 * The caller's queue for class `cls` became non-empty (true) or empty
 * (false). Idempotent. An unknown class is ignored and counted.
 * HOT: O(1), touches the class's state line.
 */
void ist_shaper_set_backlog(struct ist_shaper *s, uint32_t cls, bool backlogged);

/**
 * The class that may send its next frame at `now`: backlogged, bucket
 * tokens > 0, and its turn in the weighted round. Calls at the same `now`
 * without a charge return the same class (so a frame the link pacer refuses
 * can be retried; at a later `now` a class whose bucket refilled in the
 * middle of its turn may come first). Refills buckets, moves classes whose
 * bucket emptied to the wait heap and classes whose wait is over back into
 * the round.
 * HOT, measured with charge() as TSC cycles per frame (bench_shaper, gcc 12
 * -O3 -march=native without sanitizers, 2-core virtualized Xeon, best of 6
 * runs), for 2 / 8 / 64 backlogged classes: unlimited, quantum 64 KiB:
 * 19 / 22 / 20; unlimited, a turn per frame: 28 / 24 / 24; limited, their
 * buckets running dry at almost every frame: 20 / 37 / 138; limited, with
 * next_eligible() and a clock jump after every frame: 68 / 68 / 179.
 *
 * @return a class index, or -1 when no backlogged class is eligible
 *   (sleep until ist_shaper_next_eligible()).
 */
int ist_shaper_pick(struct ist_shaper *s, uint64_t now);

/**
 * Account a frame of `bytes` sent for `cls` at `now`: its bucket and its
 * deficit pay the whole frame (the bucket may go into debt, see @file).
 * Usually right after pick() returned `cls`; charging another class (a
 * retransmission, say) is allowed. An unknown class is ignored and counted.
 * HOT: measured with pick(), see there.
 */
void ist_shaper_charge(struct ist_shaper *s, uint32_t cls, uint32_t bytes, uint64_t now);

/**
 * The earliest TSC time at which some backlogged class is eligible: `now`
 * when pick(now) would return a class, UINT64_MAX when no class is
 * backlogged. Exact: pick() at the returned time returns a class and pick()
 * one cycle earlier does not (as long as nothing is charged or marked
 * backlogged in between).
 * HOT: O(1) when a class is eligible, O(log n) per stale heap entry.
 */
uint64_t ist_shaper_next_eligible(struct ist_shaper *s, uint64_t now);

/**
 * Read one class's counters.
 * @locality any thread (values may be a little stale)
 * @return 0, or -EINVAL for a NULL pointer or an unknown class.
 */
int ist_shaper_class_stats(const struct ist_shaper *s, uint32_t cls, struct ist_shaper_stats *st);

/** Calls to set_backlog()/charge() with an unknown class (caller bug). */
uint64_t ist_shaper_bad_class(const struct ist_shaper *s);

#endif /* ISTHMUS_LINK_SHAPER_H */
