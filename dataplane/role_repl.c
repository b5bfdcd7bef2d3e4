/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kafka-in, batcher, unbatcher and kafka-out: the lcore roles of
 * replication (ist_repl.h). kafka-in consumes and encodes, batcher closes
 * frames on linger and applies back-pressure, unbatcher decodes and
 * produces, kafka-out takes delivery reports, destination tails and
 * releases. In this release each pair shares one lcore (checked when the
 * replication state is created).
 */
#include <errno.h>
#include <stdio.h>

#include "ist_config.h"
#include "ist_repl.h"
#include "ist_role.h"

static int repl_role_init(const struct ist_role_env *env, void **state, char *err, size_t len,
			  const char *role)
{
	struct ist_repl *r;

	if (!ist_repl_wanted(env->cfg)) {
		snprintf(err, len,
			 "%s: lcore %u runs %s but this appliance replicates nothing: add a [flow] "
			 "whose source or sink [kafka] section has region = %s (and a [link]), or "
			 "remove the role",
			 env->cfg->path, env->lcore->id, role, env->cfg->appliance.region);
		return -EINVAL;
	}
	r = ist_repl_get(env->cfg, err, len);
	if (r == NULL)
		return -EINVAL;
	*state = r;
	return 0;
}

static int kafka_in_init(const struct ist_role_env *env, void **state, char *err, size_t len)
{
	return repl_role_init(env, state, err, len, "kafka-in");
}

static int batcher_init(const struct ist_role_env *env, void **state, char *err, size_t len)
{
	return repl_role_init(env, state, err, len, "batcher");
}

static int unbatcher_init(const struct ist_role_env *env, void **state, char *err, size_t len)
{
	return repl_role_init(env, state, err, len, "unbatcher");
}

static int kafka_out_init(const struct ist_role_env *env, void **state, char *err, size_t len)
{
	return repl_role_init(env, state, err, len, "kafka-out");
}

/* HOT */
static uint32_t kafka_in_poll(void *state, uint64_t now)
{
	return ist_repl_is_source(state) ? ist_repl_src_poll_in(state, now) : 0;
}

/* HOT */
static uint32_t batcher_poll(void *state, uint64_t now)
{
	return ist_repl_is_source(state) ? ist_repl_src_poll_batch(state, now) : 0;
}

/* HOT */
static uint32_t unbatcher_poll(void *state, uint64_t now)
{
	return ist_repl_is_sink(state) ? ist_repl_sink_poll_unbatch(state, now) : 0;
}

/* HOT */
static uint32_t kafka_out_poll(void *state, uint64_t now)
{
	return ist_repl_is_sink(state) ? ist_repl_sink_poll_out(state, now) : 0;
}

static void repl_fini(void *state)
{
	ist_repl_put(state);
}

static const struct ist_role_ops kafka_in_ops = {
	.name = "kafka-in",
	.init = kafka_in_init,
	.poll = kafka_in_poll,
	.fini = repl_fini,
};
IST_ROLE_REGISTER(kafka_in_ops)

static const struct ist_role_ops batcher_ops = {
	.name = "batcher",
	.init = batcher_init,
	.poll = batcher_poll,
	.fini = repl_fini,
};
IST_ROLE_REGISTER(batcher_ops)

static const struct ist_role_ops unbatcher_ops = {
	.name = "unbatcher",
	.init = unbatcher_init,
	.poll = unbatcher_poll,
	.fini = repl_fini,
};
IST_ROLE_REGISTER(unbatcher_ops)

static const struct ist_role_ops kafka_out_ops = {
	.name = "kafka-out",
	.init = kafka_out_init,
	.poll = kafka_out_poll,
	.fini = repl_fini,
};
IST_ROLE_REGISTER(kafka_out_ops)
