/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Role registry. A role is a task with a poll() function; an lcore runs its
 * roles round robin, each poll() to completion.
 *
 * Threading: init() and fini() run on the main thread before launch and after
 * the lcores have stopped; poll() and drain() run on the owning lcore only.
 * poll() is hot path: no malloc, locks, syscalls or logging.
 */
#ifndef ISTHMUS_ROLE_H
#define ISTHMUS_ROLE_H

#include <stddef.h>
#include <stdint.h>

struct ist_config;
struct ist_cfg_lcore;
struct rte_mempool;

/** What a role's init() is given about its environment. */
struct ist_role_env {
	const struct ist_config *cfg;
	const struct ist_cfg_lcore *lcore;
	uint16_t port_ids[8]; /**< DPDK port id per cfg->ports[] index */
	uint16_t tx_queue;    /**< the tx queue this lcore owns on every port */
	/** Per port: 1 once started; roles skip ports that are not (mgmt: rw, lcores: ro). */
	const volatile uint8_t *port_ready;
	struct rte_mempool *pool; /**< packet buffers */
	uint64_t tsc_hz;
};

struct ist_role_ops {
	const char *name;
	/** Allocate and set up per-lcore state. @return 0 or -errno (err says why). */
	int (*init)(const struct ist_role_env *env, void **state, char *err, size_t errlen);
	/** One pass of work. @return units of work done (0: idle). HOT. */
	uint32_t (*poll)(void *state, uint64_t now);
	/** Called repeatedly at shutdown until it returns 0: flush in-flight work. */
	uint32_t (*drain)(void *state, uint64_t now);
	void (*fini)(void *state);
};

/** @return the role named @p name, or NULL when this build has none. */
const struct ist_role_ops *ist_role_find(const char *name);

/** Write the names of the available roles, comma separated, into @p buf. */
void ist_role_list(char *buf, size_t len);

/** Register a role (called from constructors in the role modules). */
void ist_role_register(const struct ist_role_ops *ops);

#define IST_ROLE_REGISTER(ops)                                                 \
	static void __attribute__((constructor)) ist_role_register_##ops(void) \
	{                                                                      \
		ist_role_register(&ops);                                       \
	}

#endif /* ISTHMUS_ROLE_H */
