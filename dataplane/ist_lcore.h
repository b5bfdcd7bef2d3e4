/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The lcore loop: roles round robin, idle back-off, commands from the mgmt
 * thread over an SPSC ring.
 *
 * Threading: one struct ist_lcore per lcore. The lcore thread is the only
 * writer of its counters; the mgmt thread reads them (aligned 64-bit loads,
 * so never torn) and sums where needed. Commands go mgmt -> lcore on
 * cmd_ring and answers come back on reply_ring, both single producer /
 * single consumer; a command is one pointer-sized word, so no allocation.
 *
 * Time is a parameter: ist_lcore_step() takes `now` (TSC) and returns how
 * long to sleep, so the scheduling logic is tested with a fake clock.
 */
#ifndef ISTHMUS_LCORE_H
#define ISTHMUS_LCORE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ring.h>

#include "ist_role.h"

#define IST_LCORE_MAX_ROLES 8
/** Commands are looked at every this many loops (power of two). */
#define IST_LCORE_CMD_EVERY 64

struct ist_role_slot {
	const struct ist_role_ops *ops;
	void *state;
	uint64_t polls;  /* lcore: rw, mgmt: ro */
	uint64_t work;   /* lcore: rw, mgmt: ro */
	uint64_t cycles; /* lcore: rw, mgmt: ro */
};

/** Idle back-off: pause for `spins` idle loops, then sleep 1, 2, 4 ... max_us. */
struct ist_idle {
	uint32_t spins;    /* idle loops before sleeping */
	uint32_t max_us;   /* 0: busy-poll, never sleep */
	uint32_t left;     /* idle loops left before sleeping */
	uint32_t sleep_us; /* current sleep step */
};

struct ist_lcore {
	uint32_t lcore_id;
	uint32_t cpu;
	uint8_t n_roles;
	bool paused; /* lcore: rw, mgmt: ro */
	struct ist_role_slot roles[IST_LCORE_MAX_ROLES];
	struct ist_idle idle;        /* lcore: rw (max_us via command only) */
	struct rte_ring *cmd_ring;   /* mgmt -> lcore */
	struct rte_ring *reply_ring; /* lcore -> mgmt */
	volatile bool *quit;         /* main: w, lcore: r */
	uint64_t loops;              /* lcore: rw, mgmt: ro */
	uint64_t busy_loops;         /* lcore: rw, mgmt: ro */
	uint64_t idle_sleeps;        /* lcore: rw, mgmt: ro */
	uint64_t cmds_applied;       /* lcore: rw, mgmt: ro */
} __rte_cache_aligned;

/** Command word layout: op (8 bits) | seq (24 bits) | arg (32 bits). */
static inline uintptr_t ist_lcore_cmd_pack(uint32_t op, uint32_t seq, uint32_t arg)
{
	return ((uintptr_t)(op & 0xff) << 56) | ((uintptr_t)(seq & 0xffffff) << 32) | arg;
}

static inline void ist_lcore_cmd_unpack(uintptr_t w, uint32_t *op, uint32_t *seq, uint32_t *arg)
{
	*op = (w >> 56) & 0xff;
	*seq = (w >> 32) & 0xffffff;
	*arg = w & 0xffffffff;
}

/** Reply word: seq (24 bits) | status as -errno (32 bits). */
static inline uintptr_t ist_lcore_reply_pack(uint32_t seq, int32_t status)
{
	return ((uintptr_t)(seq & 0xffffff) << 32) | (uint32_t)status;
}

static inline void ist_lcore_reply_unpack(uintptr_t w, uint32_t *seq, int32_t *status)
{
	*seq = (w >> 32) & 0xffffff;
	*status = (int32_t)(uint32_t)(w & 0xffffffff);
}

/**
 * Advance the idle back-off by one loop.
 * @return microseconds to sleep now (0: just pause or go on).
 */
static inline uint32_t ist_idle_update(struct ist_idle *id, uint32_t work)
{
	if (work != 0 || id->max_us == 0) {
		id->left = id->spins;
		id->sleep_us = 0;
		return 0;
	}
	if (id->left != 0) {
		id->left--;
		return 0;
	}
	id->sleep_us = id->sleep_us == 0 ? 1 : RTE_MIN(id->sleep_us * 2, id->max_us);
	return id->sleep_us;
}

/**
 * Create the command rings of an lcore (mgmt <-> lcore).
 * @locality main thread, before launch. Works without EAL memory: the rings
 * live in ordinary aligned memory.
 * @return 0 or -ENOMEM.
 */
int ist_lcore_rings_init(struct ist_lcore *lc);
void ist_lcore_rings_free(struct ist_lcore *lc);

/** Apply pending commands from the mgmt thread. @return commands applied. */
unsigned int ist_lcore_cmds(struct ist_lcore *lc);

/**
 * One loop iteration: poll every role once (unless paused), look at
 * commands every IST_LCORE_CMD_EVERY loops, update the back-off.
 * @return microseconds to sleep before the next iteration.
 * HOT.
 */
uint32_t ist_lcore_step(struct ist_lcore *lc, uint64_t now);

/** Poll drain() of every role until all return 0 or @p max_rounds pass. */
void ist_lcore_drain(struct ist_lcore *lc, uint64_t now, unsigned int max_rounds);

/** lcore entry point for rte_eal_remote_launch(): loops until *quit. */
int ist_lcore_main(void *arg);

#endif /* ISTHMUS_LCORE_H */
