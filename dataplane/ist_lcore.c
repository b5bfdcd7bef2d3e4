/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "isthmus/ipc.h"
#include "ist_lcore.h"

#define CMD_RING_SIZE 64
/* A paused lcore looks for "resume" this often, whatever its back-off says. */
#define PAUSED_SLEEP_US 1000

static struct rte_ring *ring_new(const char *name)
{
	ssize_t sz = rte_ring_get_memsize(CMD_RING_SIZE);
	struct rte_ring *r;

	if (sz < 0 || posix_memalign((void **)&r, RTE_CACHE_LINE_SIZE, sz) != 0)
		return NULL;
	if (rte_ring_init(r, name, CMD_RING_SIZE, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

int ist_lcore_rings_init(struct ist_lcore *lc)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "cmd-%u", lc->lcore_id);
	lc->cmd_ring = ring_new(name);
	snprintf(name, sizeof(name), "reply-%u", lc->lcore_id);
	lc->reply_ring = ring_new(name);
	if (lc->cmd_ring == NULL || lc->reply_ring == NULL) {
		ist_lcore_rings_free(lc);
		return -ENOMEM;
	}
	return 0;
}

void ist_lcore_rings_free(struct ist_lcore *lc)
{
	free(lc->cmd_ring);
	free(lc->reply_ring);
	lc->cmd_ring = NULL;
	lc->reply_ring = NULL;
}

unsigned int ist_lcore_cmds(struct ist_lcore *lc)
{
	void *w;
	unsigned int n = 0;

	while (rte_ring_sc_dequeue(lc->cmd_ring, &w) == 0) {
		uint32_t op, seq, arg;
		int32_t status = 0;

		ist_lcore_cmd_unpack((uintptr_t)w, &op, &seq, &arg);
		switch (op) {
		case IST_LCORE_OP_PAUSE:
			lc->paused = true;
			break;
		case IST_LCORE_OP_RESUME:
			lc->paused = false;
			lc->idle.sleep_us = 0;
			lc->idle.left = lc->idle.spins;
			break;
		case IST_LCORE_OP_SET_IDLE_SLEEP:
			lc->idle.max_us = arg;
			lc->idle.sleep_us = RTE_MIN(lc->idle.sleep_us, arg);
			break;
		default:
			status = -EINVAL;
			break;
		}
		lc->cmds_applied++;
		n++;
		/* The reply ring is as deep as the command ring: it cannot be full. */
		rte_ring_sp_enqueue(lc->reply_ring, (void *)ist_lcore_reply_pack(seq, status));
	}
	return n;
}

/* HOT */
uint32_t ist_lcore_step(struct ist_lcore *lc, uint64_t now)
{
	uint32_t work = 0;

	if (likely(!lc->paused)) {
		for (unsigned int i = 0; i < lc->n_roles; i++) {
			struct ist_role_slot *rs = &lc->roles[i];
			uint64_t t0 = rte_rdtsc();
			uint32_t w = rs->ops->poll(rs->state, now);

			rs->cycles += rte_rdtsc() - t0;
			rs->polls++;
			rs->work += w;
			work += w;
		}
	}
	lc->loops++;
	if (work != 0)
		lc->busy_loops++;
	if (unlikely((lc->loops & (IST_LCORE_CMD_EVERY - 1)) == 0))
		ist_lcore_cmds(lc);
	if (unlikely(lc->paused))
		return PAUSED_SLEEP_US;
	return ist_idle_update(&lc->idle, work);
}

void ist_lcore_drain(struct ist_lcore *lc, uint64_t now, unsigned int max_rounds)
{
	for (unsigned int round = 0; round < max_rounds; round++) {
		uint32_t work = 0;

		for (unsigned int i = 0; i < lc->n_roles; i++)
			if (lc->roles[i].ops->drain != NULL)
				work += lc->roles[i].ops->drain(lc->roles[i].state, now);
		if (work == 0)
			return;
	}
}

static void sleep_us(uint32_t us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000L};

	nanosleep(&ts, NULL);
}

int ist_lcore_main(void *arg)
{
	struct ist_lcore *lc = arg;

	while (!*lc->quit) {
		uint32_t us = ist_lcore_step(lc, rte_rdtsc());

		if (us != 0) {
			lc->idle_sleeps++;
			sleep_us(us);
		} else if (lc->idle.left != lc->idle.spins) {
			/* Idle but not yet sleeping: yield the pipeline to a sibling thread. */
			rte_pause();
		}
	}
	/* Bounded: a role that never reports "drained" must not hang shutdown. */
	ist_lcore_drain(lc, rte_rdtsc(), 100000);
	return 0;
}
