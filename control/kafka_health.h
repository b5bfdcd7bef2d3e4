/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Kafka cluster health for /status and /metrics: one background thread per
 * [kafka NAME] cluster refreshes metadata every interval through its own
 * librdkafka producer handle and publishes reachable / brokers / topics /
 * last error into a mutex-protected snapshot.
 *
 * Why threads: rd_kafka_metadata() blocks for up to its timeout when a
 * cluster is down, and librdkafka has no non-blocking metadata call that
 * fits an epoll loop. Keeping the wait on a thread per cluster means a dead
 * cluster delays nobody: the loop only copies the snapshot under the mutex,
 * which is never held across a librdkafka call.
 *
 * librdkafka's own log lines (one per failed connect) are captured instead
 * of printed, so a down cluster does not flood stderr; the state change is
 * logged once by this module.
 *
 * Threading: start/stop/snapshot @locality control loop thread; the worker
 * threads touch only their own handle and, under the mutex, the snapshot.
 */
#ifndef ISTHMUS_CONTROL_KAFKA_HEALTH_H
#define ISTHMUS_CONTROL_KAFKA_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ist_config.h"

#define IST_KH_ERR_LEN 256

/** One cluster's health as last published. */
struct ist_kafka_cluster_state {
	char name[IST_CFG_NAME_LEN];
	char bootstrap[IST_CFG_STR_LEN];
	bool checked;               /**< at least one refresh finished */
	bool reachable;             /**< the last refresh got metadata */
	uint32_t brokers;           /**< from the last refresh, 0 when it failed */
	uint32_t topics;            /**< idem, internal topics included */
	char error[IST_KH_ERR_LEN]; /**< last refresh's error, "" when it succeeded */
	uint64_t last_ok_ms;        /**< CLOCK_MONOTONIC ms of the last success, 0: never */
	uint64_t last_check_ms;     /**< CLOCK_MONOTONIC ms of the last refresh */
};

struct ist_kafka_health;

/**
 * Start one health thread per cluster.
 *
 * @param clusters   the [kafka NAME] sections
 * @param n          how many (0 is fine: nothing to watch)
 * @param interval_ms time between refreshes
 * @param timeout_ms bound of one metadata request (keep below @p interval_ms)
 * @param err        out: one line on failure
 * @return the health object, or NULL (err set) when a thread cannot start.
 */
struct ist_kafka_health *ist_kafka_health_start(const struct ist_cfg_kafka *clusters,
						unsigned int n, uint32_t interval_ms,
						uint32_t timeout_ms, char *err, size_t errlen);

/**
 * Copy the latest state of every cluster.
 * @return the number of clusters (entries written are at most @p max).
 */
unsigned int ist_kafka_health_snapshot(struct ist_kafka_health *kh,
				       struct ist_kafka_cluster_state *out, unsigned int max);

/** Stop and join the threads, destroy the handles (NULL is fine). */
void ist_kafka_health_stop(struct ist_kafka_health *kh);

#endif /* ISTHMUS_CONTROL_KAFKA_HEALTH_H */
