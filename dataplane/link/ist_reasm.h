/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Frame reassembly and in-order release, per stream, from a pool sized once.
 *
 * Each stream owns `slots` frame slots of `slot_size` bytes (its credit
 * window). Fragments are copied into the slot of their frame; a frame is
 * complete when all frag_cnt fragments are there and they cover frame_len
 * exactly. Complete frames are handed to the `deliver` callback strictly in
 * frame_seq order per stream, each exactly once; the consumer keeps the
 * bytes until it calls ist_reasm_release() for that frame (in any order),
 * and only then does the slot - and the stream's credit - come back. A
 * stream whose consumer stops releasing keeps its own slots and stops
 * receiving grants; every other stream is unaffected (failure isolation).
 *
 * Per stream the sequence space is:
 *
 *     free_seq ........ next_seq ............. free_seq + slots
 *     |  held by the    |  assembling / complete, |  no slot: rejected
 *     |  consumer       |  not yet delivered      |  (IST_REASM_E_NOSLOT)
 *
 * Fragments come in as the codec decodes them (struct ist_frag of
 * dataplane/wire/ist_wire.h, host order, `data` pointing into the packet),
 * so ist_wire_frag_next() output goes straight in. The codec already
 * refuses any geometry but its even split; the rules below are a superset
 * that does not depend on the split, checked again because a slot must
 * never be corrupted whatever the codec lets through.
 *
 * Fragment rules enforced (a fragment that breaks one is rejected with the
 * reason and counted, and nothing of it is stored):
 *   - frag_cnt 1..IST_WIRE_MAX_FRAGS, frag_idx < frag_cnt, frag_len >= 1,
 *     frag_off + frag_len <= frame_len <= slot_size;
 *   - fragment 0 starts at 0, fragment frag_cnt-1 ends at frame_len, and
 *     fragment offsets increase with frag_idx (the sender cuts a frame in
 *     order), so overlap is checked against the two stored neighbours only;
 *   - frame_len and frag_cnt equal those of the frame's first fragment.
 * A fragment already stored (same idx, offset and length) or of a complete
 * frame is a duplicate and ignored; a frame below next_seq was delivered
 * already and is dropped. Neither is an error: retransmission makes them.
 *
 * Returns: this module returns an enum ist_reasm_rc verdict, not -errno,
 * because the caller counts and may log each reason (rc_count[] here
 * already counts them) and the distinction is the point.
 *
 * Caller's obligations per rx burst (one `now`):
 *   for each DATA packet accepted by ist_rxwin_rx(): ist_reasm_frag_rx()
 *     for each fragment; `deliver` runs inside it. deliver must not call
 *     back into the reassembly; returning false refuses the frame (e.g. the
 *     ring to the consumer is full) and delivery of that stream stops until
 *     ist_reasm_deliver() is called for it;
 *   when the consumer is done with a frame: ist_reasm_release();
 *   credits: see ist_credit.h.
 *   new peer epoch: ist_reasm_epoch_reset() (undelivered frames are
 *     dropped because the restarted sender may cut them differently).
 *
 * Memory (one allocation, ist_reasm_memsize()):
 *   n_streams x slots x (slot_size rounded up to 64 + 448 bytes of slot
 *   state) + n_streams x (16 + 2 bytes + 3 bits) + 384 bytes.
 *   Example: 64 streams x 8 slots x 64 KiB = 32.2 MiB; 4096 streams need
 *   smaller windows or slots (4096 x 8 x 64 KiB would be 2.0 GiB).
 *   For full rate the grants of all busy streams together must cover the
 *   bandwidth-delay product plus loss recovery (a frame waiting for a
 *   retransmitted fragment holds its slot one more RTT): n_streams x slots
 *   x mean frame size >= ~2.5 x BDP. Measured in tests/link/test_link_sim.c
 *   at 1 Gb/s, 100 ms, 2 % loss: 1.3 x BDP gives 70 % of the rate, 2 x BDP
 *   91 %, 2.7 x BDP 92 % (the ceiling set by headers and retransmissions).
 *
 * Written by hand: rte_ip_frag reassembles IP datagrams into mbuf chains
 * with a shared hash table and timeouts; here slots are per stream (for
 * isolation), release is in order and explicit, and there is no timeout
 * because the link retransmits until the frame is complete.
 *
 * Threading: one owner (the link-rx lcore); counters are read by mgmt.
 */
#ifndef ISTHMUS_LINK_REASM_H
#define ISTHMUS_LINK_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "isthmus/wire.h"
#include "ist_credit.h"
#include "ist_link_mem.h"
#include "ist_wire.h"

#define IST_REASM_MAX_STREAMS 4096u
#define IST_REASM_MAX_SLOTS   1024u
#define IST_REASM_MIN_SLOT    64u

/** Verdict on one fragment. */
enum ist_reasm_rc {
	IST_REASM_OK = 0,     /**< stored (the frame may have completed and been delivered) */
	IST_REASM_DUP_FRAG,   /**< already stored, or its frame is complete: ignored */
	IST_REASM_DUP_FRAME,  /**< frame already delivered (below next_seq): dropped */
	IST_REASM_E_STREAM,   /**< stream_id >= n_streams */
	IST_REASM_E_HDR,      /**< fragment fields inconsistent in themselves */
	IST_REASM_E_SIZE,     /**< frame_len > slot_size */
	IST_REASM_E_MISMATCH, /**< frame_len/frag_cnt (or a repeated idx) differs from before */
	IST_REASM_E_OVERLAP,  /**< bytes overlap a stored fragment or are out of order */
	IST_REASM_E_GAP,      /**< all fragments in but frame_len not covered: frame dropped */
	IST_REASM_E_NOSLOT,   /**< frame_seq >= limit_seq: no slot (consumer holds them all,
				    or the sender ignored its credit) */
	IST_REASM_RC_MAX,
};

struct ist_reasm_conf {
	uint64_t hz;               /**< TSC cycles per second (credit timers) */
	uint32_t n_streams;        /**< 1..IST_REASM_MAX_STREAMS */
	uint32_t slots;            /**< frames per stream (credit window), 1..IST_REASM_MAX_SLOTS */
	uint32_t slot_size;        /**< bytes per frame, 64..IST_WIRE_MAX_FRAME */
	uint32_t credit_delay_us;  /**< 0: IST_CREDIT_DEFAULT_DELAY_US */
	uint32_t credit_repeat_us; /**< 0: IST_CREDIT_DEFAULT_REPEAT_US */
	uint32_t credit_refresh_us; /**< 0: IST_CREDIT_DEFAULT_REFRESH_US */
	/** A frame is complete and next in order; return false to refuse it for now. */
	bool (*deliver)(void *arg, uint32_t stream_id, uint32_t frame_seq, const uint8_t *frame,
			uint32_t len);
	void *arg;
};

enum ist_reasm_slot_state {
	IST_REASM_SLOT_FREE = 0,
	IST_REASM_SLOT_FILLING,
	IST_REASM_SLOT_READY, /**< complete, not yet delivered */
	IST_REASM_SLOT_HELD,  /**< delivered, not yet released */
};

struct ist_reasm_slot {
	uint64_t frags; /**< bit per fragment index stored */
	uint32_t seq;
	uint32_t frame_len;
	uint32_t got; /**< bytes stored */
	uint8_t state;
	uint8_t frag_cnt;
	uint16_t pad;
	uint32_t off[IST_WIRE_MAX_FRAGS];
	uint16_t len[IST_WIRE_MAX_FRAGS];
} __rte_cache_aligned;

struct ist_reasm_stream {
	uint32_t next_seq; /**< first frame not yet delivered */
	uint32_t free_seq; /**< first frame whose slot is not yet released */
	uint32_t head;     /**< slot index of free_seq */
	uint32_t pad;
};

struct ist_reasm {
	uint32_t n_streams;
	uint32_t slots;
	uint32_t slot_size;
	uint32_t stride; /**< slot_size rounded up to 64 */
	struct ist_reasm_stream *st;
	struct ist_reasm_slot *slot; /**< [n_streams * slots] */
	uint8_t *pool;               /**< [n_streams * slots * stride] */
	bool (*deliver)(void *arg, uint32_t stream_id, uint32_t frame_seq, const uint8_t *frame,
			uint32_t len);
	void *arg;
	struct ist_credit_rx cr;

	/* counters: owner rw, mgmt ro */
	uint64_t rc_count[IST_REASM_RC_MAX] __rte_cache_aligned;
	uint64_t delivered; /**< frames handed to deliver and accepted */
	uint64_t bytes;     /**< their bytes */
	uint64_t refused;   /**< deliver returned false */
	uint64_t released;  /**< frames released */
	uint64_t dropped;   /**< undelivered frames dropped by an epoch reset */

	struct ist_link_alloc alloc;
} __rte_cache_aligned;

/** Bytes ist_reasm_create() allocates, 0 if the configuration is invalid. */
size_t ist_reasm_memsize(const struct ist_reasm_conf *c);

/**
 * Create: every stream at frame 0 with all slots free, and a full credit
 * restatement due at once.
 * @locality mgmt thread / start-up
 * @return the reassembly, or NULL with errno EINVAL or ENOMEM.
 */
struct ist_reasm *ist_reasm_create(const struct ist_reasm_conf *c, const struct ist_link_alloc *a);

void ist_reasm_free(struct ist_reasm *r);

/** Name of a verdict, for logs and tests. */
const char *ist_reasm_rc_str(enum ist_reasm_rc rc);

/**
 * Store one fragment; delivers the frames it completes, in order.
 * HOT: 145 cycles for a 1420-byte fragment, copy into a cold slot included;
 * 15 cycles for a duplicate (bench_link, 2.3 GHz TSC).
 */
enum ist_reasm_rc ist_reasm_frag_rx(struct ist_reasm *r, const struct ist_frag *f);

/**
 * Retry delivery of a stream after `deliver` refused a frame.
 * @return frames delivered.
 */
uint32_t ist_reasm_deliver(struct ist_reasm *r, uint32_t stream_id);

/**
 * The consumer is done with a delivered frame; its slot is free again once
 * every older frame is released too, and the stream's grant grows.
 * HOT: 54 cycles, credit bookkeeping included (bench_link).
 * @return 0, -EINVAL (no such stream, or the frame was not delivered yet),
 *   -EALREADY (released before).
 */
int ist_reasm_release(struct ist_reasm *r, uint32_t stream_id, uint32_t frame_seq, uint64_t now);

/**
 * New peer epoch: drop every frame not yet delivered (counted in `dropped`),
 * keep next_seq and the frames the consumer holds, restate all grants.
 */
void ist_reasm_epoch_reset(struct ist_reasm *r, uint64_t now);

/** First frame of the stream not yet delivered. */
/**
 * Start a stream at @p seq: the consumer's durable progress after a restart,
 * before any frame arrives. @return 0, -EINVAL (no such stream) or -EBUSY
 * (frames are held or in reassembly).
 */
int ist_reasm_restart_at(struct ist_reasm *r, uint32_t stream_id, uint32_t seq);

static inline uint32_t ist_reasm_next_seq(const struct ist_reasm *r, uint32_t stream_id)
{
	return r->st[stream_id].next_seq;
}

/** First frame of the stream there is no room for. */
static inline uint32_t ist_reasm_limit_seq(const struct ist_reasm *r, uint32_t stream_id)
{
	return r->st[stream_id].free_seq + r->slots;
}

#endif /* ISTHMUS_LINK_REASM_H */
