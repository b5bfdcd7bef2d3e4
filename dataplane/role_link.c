/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * link-rx and link-tx: the lcore roles that run the link engine
 * (ist_link.h). Both drive one engine, so they must share an lcore: the
 * session, the scoreboard and the receive window are touched by both
 * directions (an ACK received frees send buffers; a DATA received makes an
 * ACK due) and one owner keeps them lock-free.
 */
#include <errno.h>
#include <stdio.h>

#include "ist_config.h"
#include "ist_link.h"
#include "ist_role.h"

static uint32_t owner_lcore = UINT32_MAX;

static int link_role_init(const struct ist_role_env *env, void **state, char *err, size_t len,
			  const char *role)
{
	const struct ist_config *cfg = env->cfg;
	struct ist_link *l;

	if (!cfg->link.enabled) {
		snprintf(err, len, "%s: lcore %u runs %s but there is no [link] section; add one",
			 cfg->path, env->lcore->id, role);
		return -EINVAL;
	}
	if (owner_lcore != UINT32_MAX && owner_lcore != env->lcore->id) {
		snprintf(err, len,
			 "%s: link-rx and link-tx run on lcores %u and %u; put both on one lcore "
			 "(they share the link session)",
			 cfg->path, owner_lcore, env->lcore->id);
		return -EINVAL;
	}
	if (env->tx_queue >= cfg->ports[cfg->link.port].tx_queues) {
		snprintf(err, len,
			 "%s: lcore %u runs %s and needs tx queue %u, but port %s has tx_queues = "
			 "%u; raise it to %u",
			 cfg->path, env->lcore->id, role, env->tx_queue,
			 cfg->ports[cfg->link.port].name, cfg->ports[cfg->link.port].tx_queues,
			 env->tx_queue + 1);
		return -EINVAL;
	}
	l = ist_link_create(env, err, len);
	if (l == NULL)
		return -EINVAL;
	owner_lcore = env->lcore->id;
	*state = l;
	return 0;
}

static int link_tx_init(const struct ist_role_env *env, void **state, char *err, size_t len)
{
	return link_role_init(env, state, err, len, "link-tx");
}

static int link_rx_init(const struct ist_role_env *env, void **state, char *err, size_t len)
{
	return link_role_init(env, state, err, len, "link-rx");
}

/* HOT */
static uint32_t link_tx_poll(void *state, uint64_t now)
{
	return ist_link_tx(state, now);
}

/* HOT */
static uint32_t link_rx_poll(void *state, uint64_t now)
{
	return ist_link_rx(state, now);
}

/* Both roles share the engine: the first fini frees it. */
static void link_fini(void *state)
{
	if (ist_link_get() == state)
		ist_link_free(state);
	owner_lcore = UINT32_MAX;
}

static const struct ist_role_ops link_tx_ops = {
	.name = "link-tx",
	.init = link_tx_init,
	.poll = link_tx_poll,
	.fini = link_fini,
};
IST_ROLE_REGISTER(link_tx_ops)

static const struct ist_role_ops link_rx_ops = {
	.name = "link-rx",
	.init = link_rx_init,
	.poll = link_rx_poll,
	.fini = link_fini,
};
IST_ROLE_REGISTER(link_rx_ops)
