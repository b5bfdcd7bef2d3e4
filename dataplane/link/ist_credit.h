/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Per-stream credits: the receiver grants, the sender obeys.
 *
 * A grant is absolute (struct ist_credit): the sender may send frames
 * next_seq .. limit_seq - 1 of the stream, where next_seq is the first
 * frame the receiver has not yet handed to its consumer and limit_seq is
 * next_seq plus the slots the consumer does not hold, i.e. the oldest
 * unreleased frame plus the stream's slot count. Because every grant
 * restates the whole state, a lost, repeated or reordered CREDIT does no
 * harm: the sender keeps the largest limit it saw in the epoch.
 *
 * Receiver side (state embedded in struct ist_reasm, functions here):
 * a release that moves a stream's limit queues that stream; the queue is
 * sent after `delay_us` of coalescing (or at once when it fills a message).
 * A CREDIT that is lost would leave the sender blocked forever when no
 * further release happens, so each reported stream is reported once more
 * at the next repeat pass (`repeat_us`) and every stream is restated round
 * robin every `refresh_us`: losing a grant costs at most a repeat period
 * unless both copies are lost, then at most a refresh period.
 *
 * Sender side (struct ist_credit_tx): limits only grow within an epoch.
 * After ist_credit_tx_reset() (a new epoch on either side) the first grant
 * per stream is taken as it is, even if next_seq went backwards (the peer
 * restarted and lost what it had not released), and is kept as the resume
 * point until the caller takes it with ist_credit_tx_resume().
 *
 * Sequence numbers compare in serial arithmetic (RFC 1982, 32 bits), so a
 * stream may run through 2^32 frames.
 *
 * Caller's obligations:
 *   receiver, each loop (one `now`): if ist_credit_rx_due(), build a CREDIT
 *     with ist_credit_rx_build(out, IST_WIRE_MAX_CREDITS, now) and send it;
 *     repeat while due; sleep no later than ist_credit_rx_deadline().
 *   sender: each CREDIT -> ist_credit_tx_update(); before sending a frame
 *     ist_credit_tx_can_send(); after a reset, ist_credit_tx_resume() per
 *     stream to learn where to restart.
 *
 * Memory: receiver 2 bytes + 3 bits per stream inside the reassembly
 * allocation; sender ist_credit_tx_memsize() = struct + 12 bytes per stream.
 *
 * Threading: receiver side belongs to the reassembly's owner (link-rx);
 * sender side to link-tx. Counters are read by mgmt.
 */
#ifndef ISTHMUS_LINK_CREDIT_H
#define ISTHMUS_LINK_CREDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "isthmus/wire.h"
#include "ist_link_mem.h"

#define IST_CREDIT_DEFAULT_DELAY_US   100u
#define IST_CREDIT_DEFAULT_REPEAT_US  10000u
#define IST_CREDIT_DEFAULT_REFRESH_US 1000000u

struct ist_reasm;

/** a after b in 32-bit serial arithmetic */
static inline bool ist_credit_seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/** Receiver-side credit state (lives inside struct ist_reasm). */
struct ist_credit_rx {
	uint64_t delay;       /**< coalescing, cycles */
	uint64_t repeat;      /**< repeat pass period, cycles */
	uint64_t refresh;     /**< full restatement period, cycles */
	uint64_t dirty_since; /**< first queued change, UINT64_MAX: none */
	uint64_t next_repeat; /**< next repeat pass */
	uint64_t next_sweep;  /**< next full restatement */
	uint16_t *queue;      /**< [n_streams] FIFO of changed streams */
	uint64_t *queued;     /**< bit per stream: in queue */
	uint64_t *changed;    /**< bit per stream: reported, report again next pass */
	uint64_t *again;      /**< bit per stream: to report in the current pass */
	uint32_t words;       /**< words per bitmap */
	uint32_t q_head, q_len;
	uint32_t n_changed, n_again;
	uint32_t again_word; /**< cursor of the current pass */
	uint32_t rr;         /**< restatement cursor */
	uint32_t sweep_left; /**< streams left in the current restatement */
	uint64_t msgs;       /**< counter: CREDIT payloads built */
	uint64_t entries;    /**< counter: grants built */
};

/** Is a CREDIT due at `now`? */
bool ist_credit_rx_due(const struct ist_reasm *r, uint64_t now);

/** When the next CREDIT falls due: 0 (now) or a TSC time. */
uint64_t ist_credit_rx_deadline(const struct ist_reasm *r);

/**
 * Fill up to `max` grants (pass IST_WIRE_MAX_CREDITS): changed streams
 * first, then the repeat pass, then the round-robin restatement.
 * HOT: 4.5 cycles per grant (bench_link).
 * @return grants written.
 */
uint32_t ist_credit_rx_build(struct ist_reasm *r, struct ist_credit *out, uint32_t max,
			     uint64_t now);

/** The current grant of one stream. @return 0 or -EINVAL (no such stream). */
int ist_credit_rx_grant(const struct ist_reasm *r, uint32_t stream_id, struct ist_credit *c);

/** Queue a stream whose grant changed (the reassembly calls it on release). */
void ist_credit_rx_mark(struct ist_reasm *r, uint32_t stream_id, uint64_t now);

/** Restate every stream starting now (new epoch). */
void ist_credit_rx_sweep(struct ist_reasm *r, uint64_t now);

/* ---- sender side ---- */

struct ist_credit_tx_stream {
	uint32_t limit_seq; /**< frames below it may be sent */
	uint32_t next_seq;  /**< receiver's first unreleased frame, as last reported */
	uint8_t known;      /**< a grant arrived in this epoch */
	uint8_t resume;     /**< first grant of the epoch not yet taken by the caller */
	uint16_t pad;
};

struct ist_credit_tx {
	uint32_t n_streams;
	uint32_t pad;
	struct ist_credit_tx_stream *st;
	uint64_t updates; /**< counter: grants that moved a limit or next_seq */
	uint64_t stale;   /**< counter: grants older than what we have */
	uint64_t bad;     /**< counter: unknown stream, limit below next */
	struct ist_link_alloc alloc;
} __rte_cache_aligned;

size_t ist_credit_tx_memsize(uint32_t n_streams);

/**
 * Create with no grants (nothing may be sent until the first CREDIT).
 * @locality mgmt thread / start-up
 * @return the state, or NULL with errno EINVAL (0 or more than 4096
 *   streams) or ENOMEM.
 */
struct ist_credit_tx *ist_credit_tx_create(uint32_t n_streams, const struct ist_link_alloc *a);

void ist_credit_tx_free(struct ist_credit_tx *ct);

/** New epoch: forget every grant; the next one per stream is a resume point. */
void ist_credit_tx_reset(struct ist_credit_tx *ct);

/**
 * Apply received grants.
 * HOT: 4 cycles per entry (bench_link).
 * @return entries that changed something.
 */
uint32_t ist_credit_tx_update(struct ist_credit_tx *ct, const struct ist_credit *c, uint32_t n);

/** May frame `frame_seq` of the stream be sent? HOT: 5 cycles (bench_link). */
static inline bool ist_credit_tx_can_send(const struct ist_credit_tx *ct, uint32_t stream_id,
					  uint32_t frame_seq)
{
	const struct ist_credit_tx_stream *s;

	if (stream_id >= ct->n_streams)
		return false;
	s = &ct->st[stream_id];
	return s->known && ist_credit_seq_gt(s->limit_seq, frame_seq);
}

/**
 * Take the resume point the first grant after a reset carried.
 * @return 0 and *next_seq set (once per reset), -EAGAIN if no grant arrived
 *   since the reset or it was already taken, -EINVAL for an unknown stream.
 */
int ist_credit_tx_resume(struct ist_credit_tx *ct, uint32_t stream_id, uint32_t *next_seq);

#endif /* ISTHMUS_LINK_CREDIT_H */
