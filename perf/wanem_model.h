/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The impairment model of isthmus-wanem, the harness's WAN emulator: the
 * spec parser, the seeded per-packet decisions (loss, Gilbert-Elliott burst
 * loss, reordering, duplication, corruption, jitter), the rate cap, the
 * delay line, the partition schedule, the control command parser, the idle
 * back-off, and the bad packets of the `inject` command (kept link frames
 * and the copies made from them).
 *
 * Pure C without DPDK calls. Time is a parameter: `now` counts ticks of
 * `hz` per second (the TSC in the emulator, nanoseconds in the unit tests),
 * and a packet is an opaque pointer, so every decision is tested with a fake
 * clock.
 *
 * One struct ist_wanem_dir per direction. Threading: the data thread owns it
 * (admit, release, set, partition, heal); the mgmt thread only reads its
 * counters, aligned 64-bit loads that are never torn. Parsing and formatting
 * run on the mgmt thread (@locality mgmt thread). A struct ist_wanem_inj (the
 * `inject` state of a direction) belongs to the data thread alone.
 *
 * Written by hand (STYLE rule 15): rte_meter and rte_sched mark or drop but
 * never delay, DPDK has no delay line, and rte_rand is one process-wide
 * stream, where each direction needs its own seeded stream so that a run
 * with the same seed and the same input makes the same decisions.
 *
 * Ordering: the delay line is two FIFOs, each with monotonic due times. Jitter
 * never reorders (a due time is clamped to the one before it); reordering
 * comes only from `reorder=`, which moves a packet to the second FIFO with an
 * extra delay, so later packets overtake it. The rate cap is a token bucket
 * one packet deep (GCRA) in integer tick arithmetic: it delays a packet until
 * its bytes have been serialised at the rate, and the delay line tail-drops
 * only once it holds `limit` packets.
 *
 * Limits: delay, jitter and the reorder gap up to 60 s; partition times up to
 * one day; IST_WANEM_PART_MAX scheduled partitions per direction;
 * probabilities are kept in parts per billion; rates 1 kbit/s .. 1 tbit/s;
 * hz up to 10 GHz; injected packets are built from kept frames of at most
 * IST_WANEM_INJ_FRAME_MAX bytes.
 */
#ifndef ISTHMUS_WANEM_MODEL_H
#define ISTHMUS_WANEM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Scheduled partitions per direction. */
#define IST_WANEM_PART_MAX 8
/** Longest spec text accepted. */
#define IST_WANEM_SPEC_TEXT_MAX 1024
/** Buffer that always holds a formatted spec. */
#define IST_WANEM_SPEC_FMT_MAX 1024
/** Buffer that always holds an error message from this module. */
#define IST_WANEM_ERR_MAX 512
/** Delay-line capacity per direction when no rate is set. */
#define IST_WANEM_QUEUE_DEFAULT 16384
/** Smallest and largest delay-line capacity. */
#define IST_WANEM_QUEUE_MIN 1024
#define IST_WANEM_QUEUE_MAX (1u << 24)
/** The Ethernet header that corruption never touches. */
#define IST_WANEM_ETH_HDR_LEN 14
/** ist_wanem_act.corrupt_bit when nothing is to be flipped. */
#define IST_WANEM_NO_BIT UINT32_MAX
/** A probability of one, in parts per billion. */
#define IST_WANEM_PPB 1000000000u

/** Direction bits of a `set` command. */
#define IST_WANEM_DIR_AB 1u
#define IST_WANEM_DIR_BA 2u

/** Kinds of packet the `inject` command sends (docs/WANEM.md, "Injecting bad packets"). */
enum ist_wanem_inj_kind {
	IST_WANEM_INJ_WRONG_KEY = 0, /**< the newest kept packet re-sealed under a random key */
	IST_WANEM_INJ_WRONG_VERSION, /**< the newest kept packet with another version byte */
	IST_WANEM_INJ_GARBAGE,       /**< random bytes in a UDP datagram to the link's port */
	IST_WANEM_INJ_REPLAY,        /**< the early kept packet, unchanged */
	IST_WANEM_INJ_KINDS,
};

/** One scheduled partition: cut for len_ns from start_ns, every period_ns (0: once). */
struct ist_wanem_part {
	uint64_t len_ns;
	uint64_t start_ns;
	uint64_t period_ns;
};

/** What one direction does to packets; all zero is a plain wire. */
struct ist_wanem_spec {
	uint64_t delay_ns;
	uint64_t jitter_ns;   /**< uniform in [-jitter, +jitter] */
	uint32_t loss_ppb;    /**< uniform random loss */
	bool ge;              /**< Gilbert-Elliott burst loss on */
	uint32_t ge_p_ppb;    /**< good -> bad per packet */
	uint32_t ge_r_ppb;    /**< bad -> good per packet */
	uint32_t ge_h_ppb;    /**< loss probability in the bad state */
	uint32_t ge_k_ppb;    /**< loss probability in the good state */
	uint32_t reorder_ppb; /**< chance a packet is held back */
	uint64_t reorder_ns;  /**< how long it is held back; 0: delay/2, at least 1 ms */
	uint32_t dup_ppb;
	uint32_t corrupt_ppb;
	uint64_t rate_bps; /**< 0: no cap */
	uint32_t limit;    /**< packets queued at most; 0: the delay line's capacity */
	uint32_t n_part;
	struct ist_wanem_part part[IST_WANEM_PART_MAX];
};

/** What happened in one direction; one writer (the data thread). */
struct ist_wanem_counters {
	uint64_t rx;                 /**< packets received on the ingress port */
	uint64_t tx;                 /**< packets sent on the egress port (caller counts) */
	uint64_t delayed;            /**< delay-line entries due after their arrival */
	uint64_t dropped_loss;       /**< uniform loss */
	uint64_t dropped_burst;      /**< Gilbert-Elliott loss */
	uint64_t dropped_partition;  /**< cut on arrival or on release */
	uint64_t dropped_queue_full; /**< delay line held `limit` packets */
	uint64_t dropped_tx;         /**< egress port refused them too long (caller counts) */
	uint64_t reordered;          /**< held back so later packets overtake */
	uint64_t duplicated;         /**< sent twice */
	uint64_t corrupted;          /**< one bit flipped */
	uint64_t bytes;              /**< bytes sent on the egress port (caller counts) */
	/** Sent by `inject`, by kind; not in rx, tx or bytes (caller counts). */
	uint64_t injected[IST_WANEM_INJ_KINDS];
	uint64_t inject_dropped; /**< injected packets given up: the egress refused them (caller) */
};

struct ist_wanem_slot {
	uint64_t due;
	void *pkt;
};

/** A FIFO of the delay line; due times never decrease from head to tail. */
struct ist_wanem_fifo {
	struct ist_wanem_slot *slot;
	uint32_t mask;
	uint32_t head;
	uint32_t tail;
	uint64_t last_due;
};

/** One direction. Fields are private to this module except `c`. */
struct ist_wanem_dir {
	/* Profile: derived from the spec by ist_wanem_dir_set(). */
	struct ist_wanem_spec spec;
	uint64_t hz;
	uint64_t epoch; /* when the spec took effect; partitions count from here */
	uint64_t delay;
	uint64_t jitter;
	uint64_t gap; /* reorder hold-back */
	uint64_t loss_thr, ge_p_thr, ge_r_thr, ge_h_thr, ge_k_thr;
	uint64_t reorder_thr, dup_thr, corrupt_thr; /* scaled to 2^32 */
	uint64_t part_len[IST_WANEM_PART_MAX];
	uint64_t part_start[IST_WANEM_PART_MAX];
	uint64_t part_period[IST_WANEM_PART_MAX];
	uint32_t limit;
	uint32_t cap;
	/* Runtime. */
	uint64_t rng[4];
	bool ge_bad;
	uint64_t tat;        /* rate cap: when the link is free again */
	uint64_t tat_rem;    /* rate cap: remainder carried, in bit-ticks */
	uint64_t cut_until;  /* partition on command */
	uint64_t heal_until; /* scheduled windows healed until then */
	struct ist_wanem_fifo main;
	struct ist_wanem_fifo late;  /* held back by reorder */
	struct ist_wanem_counters c; /* dp: rw, mgmt: ro */
};

/** What admit decided beyond "queued". */
struct ist_wanem_act {
	bool dup; /**< queued twice: the caller takes one more reference on the packet */
	/** Bit to flip, counted from the first bit of the frame; IST_WANEM_NO_BIT: none. */
	uint32_t corrupt_bit;
};

enum ist_wanem_verdict {
	IST_WANEM_QUEUED = 0,
	IST_WANEM_DROP_PARTITION,
	IST_WANEM_DROP_LOSS,
	IST_WANEM_DROP_BURST,
	IST_WANEM_DROP_QUEUE_FULL,
};

/** The accepted spec syntax, one line. */
extern const char ist_wanem_spec_syntax[];

/**
 * Parse a comma list such as "delay=50ms,jitter=2ms,loss=1%". "" and "none"
 * are a plain wire. @locality any thread.
 * @param err out: one line naming the bad item and its accepted syntax
 * @return 0 or -EINVAL.
 */
int ist_wanem_spec_parse(const char *text, struct ist_wanem_spec *spec, char *err, size_t errlen);

/**
 * Write @p spec in the syntax ist_wanem_spec_parse() reads ("none" for a plain wire).
 * @return the length written, or -ENOSPC.
 */
int ist_wanem_spec_format(const struct ist_wanem_spec *spec, char *buf, size_t len);

/**
 * Parse a duration: a decimal number and a unit (ns, us, ms, s). With
 * @p bare_seconds, a number without a unit counts seconds.
 * @return 0, or -EINVAL with a reason in @p err.
 */
int ist_wanem_time_parse(const char *text, bool bare_seconds, uint64_t max_ns, uint64_t *ns,
			 char *err, size_t errlen);

/**
 * Delay-line capacity that @p spec needs: what the capped rate can put in
 * flight over delay + jitter + reorder gap + 100 ms of backlog, assuming
 * 512-byte packets; IST_WANEM_QUEUE_DEFAULT without a rate. A power of two
 * within IST_WANEM_QUEUE_MIN .. 65536 (larger only through `limit`).
 */
uint32_t ist_wanem_queue_size(const struct ist_wanem_spec *spec);

/**
 * Set up a direction as a plain wire.
 * @param cap delay-line capacity in packets, a power of two in
 *        [2, IST_WANEM_QUEUE_MAX]; allocated here, never per packet
 * @param hz ticks per second of `now`, 1 .. 10^10
 * @param seed the PRNG seed; give each direction its own
 * @return 0, -EINVAL or -ENOMEM. @locality main thread.
 */
int ist_wanem_dir_init(struct ist_wanem_dir *d, uint32_t cap, uint64_t hz, uint64_t seed,
		       uint64_t now);

/** Free the delay line; packets still in it must be flushed first. */
void ist_wanem_dir_fini(struct ist_wanem_dir *d);

/**
 * Apply @p spec from @p now on. Queued packets keep their due times; the
 * PRNG and the Gilbert-Elliott state go on; scheduled partitions count from
 * @p now. @locality data thread.
 */
void ist_wanem_dir_set(struct ist_wanem_dir *d, const struct ist_wanem_spec *spec, uint64_t now);

/**
 * Decide the fate of one received packet and queue it (twice when
 * duplicated). On IST_WANEM_QUEUED the caller applies @p act before the next
 * release; otherwise it frees the packet. Counts rx and every decision.
 * HOT.
 */
enum ist_wanem_verdict ist_wanem_dir_admit(struct ist_wanem_dir *d, void *pkt, uint32_t len,
					   uint64_t now, struct ist_wanem_act *act);

/**
 * Take the packets due at @p now, in due order: those to send into @p tx,
 * those cut by a partition into @p drop (both sized @p max; together at
 * most @p max). The caller sends the first and frees the second.
 * @return packets put in @p tx. HOT.
 */
uint16_t ist_wanem_dir_release(struct ist_wanem_dir *d, uint64_t now, void **tx, uint16_t max,
			       void **drop, uint16_t *n_drop);

/** Due time of the next packet, UINT64_MAX when the delay line is empty. HOT. */
uint64_t ist_wanem_dir_next_due(const struct ist_wanem_dir *d);

/** Packets in the delay line. */
uint32_t ist_wanem_dir_queued(const struct ist_wanem_dir *d);

/** Empty the delay line into @p out (at most @p max). @return packets taken. */
uint32_t ist_wanem_dir_flush(struct ist_wanem_dir *d, void **out, uint32_t max);

/** True while the direction is cut (by command or by its schedule). */
bool ist_wanem_dir_cut(const struct ist_wanem_dir *d, uint64_t now);

/** Cut the direction for @p ticks from @p now (replaces an earlier command). */
void ist_wanem_dir_partition(struct ist_wanem_dir *d, uint64_t now, uint64_t ticks);

/** End a commanded partition and the scheduled window active at @p now, if any. */
void ist_wanem_dir_heal(struct ist_wanem_dir *d, uint64_t now);

/** Nanoseconds to ticks of @p hz (rounded down). */
uint64_t ist_wanem_ns_to_ticks(uint64_t ns, uint64_t hz);

/**
 * Write the counters as "rx=1 tx=1 ..." with @p prefix before every key.
 * @return the length written, or -ENOSPC.
 */
int ist_wanem_counters_format(const struct ist_wanem_counters *c, const char *prefix, char *buf,
			      size_t len);

/** Control socket commands. */
enum ist_wanem_cmd_type {
	IST_WANEM_CMD_PARTITION,
	IST_WANEM_CMD_HEAL,
	IST_WANEM_CMD_SET,
	IST_WANEM_CMD_INJECT,
	IST_WANEM_CMD_STATS,
	IST_WANEM_CMD_SHOW,
	IST_WANEM_CMD_HELP,
	IST_WANEM_CMD_QUIT,
};

struct ist_wanem_cmd {
	enum ist_wanem_cmd_type type;
	uint32_t dirs;   /**< set: IST_WANEM_DIR_AB | IST_WANEM_DIR_BA; inject: one of them */
	uint64_t dur_ns; /**< partition */
	struct ist_wanem_spec spec;
	enum ist_wanem_inj_kind kind; /**< inject */
	uint32_t count;               /**< inject: 1 .. IST_WANEM_INJ_COUNT_MAX */
};

/** One line listing the commands. */
extern const char ist_wanem_cmd_help[];

/**
 * Parse one control line: `partition SECONDS`, `heal`, `set ab|ba|both SPEC`,
 * `inject ab|ba KIND COUNT`, `stats`, `show`, `help`, `quit`.
 * @return 0, -ENODATA for a blank line, or -EINVAL with a reason in @p err.
 */
int ist_wanem_cmd_parse(const char *line, struct ist_wanem_cmd *cmd, char *err, size_t errlen);

/** Idle back-off: spin `spins` idle loops, then sleep 1, 2, 4 ... max_us. */
struct ist_wanem_idle {
	uint32_t spins;
	uint32_t max_us; /* 0: busy-poll */
	uint32_t left;
	uint32_t sleep_us;
};

/**
 * Advance the back-off by one loop.
 * @param work whether the loop moved a packet
 * @param next_due when the next packet is due (UINT64_MAX: none); bounds the sleep
 * @return microseconds to sleep now (0: go on). HOT.
 */
uint32_t ist_wanem_idle_us(struct ist_wanem_idle *id, bool work, uint64_t now, uint64_t next_due,
			   uint64_t hz);

/*
 * ---- Bad packets for `inject` ----
 *
 * The data thread keeps, per direction, a copy of the newest link frame it
 * queued for forwarding (before any corruption) and of an early one: the first
 * it saw of the sender's current epoch. From them it builds the frames that
 * `inject` sends. A link frame is Ethernet | IPv4 without options | UDP | an
 * isthmus wire header (docs/WIRE.md) whose lengths agree, in one frame of at
 * most IST_WANEM_INJ_FRAME_MAX bytes; anything else is not kept.
 */

/** Largest frame kept: the data room of one default DPDK mbuf. */
#define IST_WANEM_INJ_FRAME_MAX 2048u
/** Ethernet, IPv4 (no options) and UDP headers in front of the link datagram. */
#define IST_WANEM_INJ_L234_LEN 42u
/** Most packets one `inject` asks for, and most pending per kind and direction. */
#define IST_WANEM_INJ_COUNT_MAX 1000000u
/** Added to the kept pn of a wrong-key packet: far ahead of the sender, never a duplicate. */
#define IST_WANEM_INJ_PN_OFFSET (1ull << 32)
/** The receiver's replay window (IST_REPLAY_WIN, docs/WIRE.md), for the replay forecast. */
#define IST_WANEM_INJ_REPLAY_WIN 1024u
/** Buffer that always holds the description ist_wanem_inj_add() writes. */
#define IST_WANEM_INJ_MSG_MAX 256

/** A kept link frame. */
struct ist_wanem_frame {
	uint32_t len;   /**< frame bytes; 0: none kept */
	uint32_t epoch; /**< its wire header's epoch and pn, host order */
	uint64_t pn;
	uint8_t buf[IST_WANEM_INJ_FRAME_MAX];
};

/** One direction's injection state; the data thread owns it. */
struct ist_wanem_inj {
	struct ist_wanem_frame last;  /* the newest link frame queued */
	struct ist_wanem_frame early; /* the first seen of last's epoch */
	uint64_t rng[4];              /* its own stream: the impairments' decisions stay the same */
	uint32_t max_udp;             /* largest UDP payload of a garbage packet */
	uint32_t pending[IST_WANEM_INJ_KINDS];
	uint32_t rr;  /* the kind sent last, for round robin */
	uint64_t seq; /* wrong-key packets built: each gets its own pn */
};

/** "wrong-key", "wrong-version", "garbage", "replay"; NULL past the last kind. */
const char *ist_wanem_inj_kind_name(unsigned int kind);

/**
 * Set up a direction's injection state, nothing kept, nothing pending.
 * @param seed its PRNG seed (give it its own, apart from the impairments')
 * @param ip_mtu the egress IP MTU: garbage UDP payloads are 1 .. ip_mtu - 28
 *        bytes (and fit IST_WANEM_INJ_FRAME_MAX); at least 29
 * @return 0 or -EINVAL.
 */
int ist_wanem_inj_init(struct ist_wanem_inj *inj, uint64_t seed, uint32_t ip_mtu);

/**
 * Keep @p frame if it is a link frame: as the newest, and as the early one
 * when its epoch differs from the early one's. The caller offers at most one
 * frame per received burst (the last one it queued uncorrupted), so the copy
 * costs one memcpy per burst. HOT.
 * @return true when kept.
 */
bool ist_wanem_inj_keep(struct ist_wanem_inj *inj, const uint8_t *frame, uint32_t len);

/**
 * Queue @p count packets of @p kind and describe in @p msg what they are and
 * which drop reason the receiver should count (for replay: too_old when the
 * early packet is at least IST_WANEM_INJ_REPLAY_WIN behind the newest).
 * @locality data thread.
 * @return 0; -ENOENT when no link frame was kept yet; -EINVAL for a count of
 *         0 or more than IST_WANEM_INJ_COUNT_MAX pending; @p msg says which.
 */
int ist_wanem_inj_add(struct ist_wanem_inj *inj, enum ist_wanem_inj_kind kind, uint32_t count,
		      char *msg, size_t msglen);

/** Packets still to send, all kinds. */
uint32_t ist_wanem_inj_pending(const struct ist_wanem_inj *inj);

/** Forget what is pending. @return how many packets that was. */
uint32_t ist_wanem_inj_cancel(struct ist_wanem_inj *inj);

/**
 * Take the next packet to send: the kinds with packets pending take turns, so
 * several `inject` commands interleave.
 * @return its kind, or -1 when nothing is pending.
 */
int ist_wanem_inj_take(struct ist_wanem_inj *inj);

/**
 * Build one frame of @p kind into @p out from the kept frames.
 *  - wrong-key: the newest kept frame with pn + IST_WANEM_INJ_PN_OFFSET + a
 *    sequence number, flagged IST_WIRE_F_AUTH (on an unkeyed link: key_id 1
 *    and room for the tag added); header, payload_len and epoch kept. It is
 *    ready to seal: the caller seals the datagram at IST_WANEM_INJ_L234_LEN
 *    under a random key with the header's key_id, so it fails authentication.
 *  - wrong-version: the newest kept frame with a random version byte other
 *    than IST_WIRE_VERSION.
 *  - garbage: the newest kept frame's Ethernet, IPv4 and UDP headers with
 *    1 .. max UDP payload random bytes after them; IPv4 total length, UDP
 *    length and the IPv4 checksum fixed, UDP checksum 0.
 *  - replay: the early kept frame, unchanged.
 * @return the frame length; -ENOENT when no frame was kept; -ENOSPC when
 *         @p cap is too small.
 */
int ist_wanem_inj_build(struct ist_wanem_inj *inj, enum ist_wanem_inj_kind kind, uint8_t *out,
			uint32_t cap);

/** Fill @p buf with bytes of the injection PRNG (keys and salts of wrong-key packets). */
void ist_wanem_inj_random(struct ist_wanem_inj *inj, void *buf, size_t len);

#endif /* ISTHMUS_WANEM_MODEL_H */
