/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Kafka adapters: the source consumer, the sink producer and the
 * destination-tail reader, all librdkafka.
 *
 * Settings come in three layers: our defaults (tuned for replication
 * throughput), then the cluster's `rdkafka.*` lines from the core map, then
 * the settings replication correctness depends on. A core map that sets one
 * of the latter to another value is refused with the reason, rather than
 * silently overridden:
 *   source: isolation.level = read_committed (aborted transactions are never
 *     replicated), enable.auto.commit = false, enable.auto.offset.store =
 *     false, auto.offset.reset = error (a resume offset the source no longer
 *     holds is a gap to report, never a silent jump);
 *   sink: enable.idempotence = true, acks = all (retries cannot duplicate or
 *     reorder within a producer session).
 *
 * Limit: librdkafka 2.0.2's mock cluster does not filter aborted
 * transactional records for read_committed readers, so with it aborted
 * records are replicated; a real broker filters them (docs/REPLICATION.md).
 *
 * @locality start-up and slow-path threads; none of these calls is HOT.
 */
#ifndef ISTHMUS_DRIVERS_KAFKA_H
#define ISTHMUS_DRIVERS_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "ist_config.h"

/**
 * A consumer for a flow's source cluster: manual assignment only (no group
 * rebalancing), read_committed; @p group_id names the replication group
 * durable progress is committed to.
 * @return the handle, or NULL with @p err set (one line).
 */
rd_kafka_t *ist_kafka_source_new(const struct ist_cfg_kafka *k, const char *client_id,
				 const char *group_id, char *err, size_t errlen);

/**
 * An idempotent producer for a flow's sink cluster. @p dr_cb runs from
 * rd_kafka_poll() on the thread that polls; @p opaque is rd_kafka_opaque().
 */
rd_kafka_t *ist_kafka_sink_new(const struct ist_cfg_kafka *k, const char *client_id,
			       void (*dr_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *),
			       void *opaque, char *err, size_t errlen);

/** A plain consumer for reading destination tails (no group, no commits). */
rd_kafka_t *ist_kafka_reader_new(const struct ist_cfg_kafka *k, const char *client_id, char *err,
				 size_t errlen);

/** What the last replicated record of a destination partition says. */
struct ist_kafka_tail {
	int64_t low, high;   /**< watermarks of the destination partition */
	bool empty;          /**< no record at all: replicate from the source's start */
	int64_t next_offset; /**< source offset to resume at (provenance offset + 1) */
	char cluster[64], topic[256], region[64];
	int32_t partition; /**< source partition the record came from */
};

/**
 * Read the tail of @p topic / @p partition with the reader @p rk.
 * @return 0; -ENOENT the topic or partition does not exist; -EPROTO the last
 *   record carries no provenance headers (another writer uses the topic);
 *   -ETIMEDOUT the cluster did not answer in @p timeout_ms; @p err says which.
 */
int ist_kafka_tail_read(rd_kafka_t *rk, const char *topic, int32_t partition, int timeout_ms,
			struct ist_kafka_tail *t, char *err, size_t errlen);

/** One topic of a cluster, as metadata lists it. */
struct ist_kafka_topic {
	char name[256];
	int32_t partitions;
};

/**
 * List the cluster's topics (internal ones, starting with "__", left out).
 * @return the number written to @p out (at most @p max), or -errno.
 */
int ist_kafka_topics(rd_kafka_t *rk, int timeout_ms, struct ist_kafka_topic *out, unsigned int max,
		     char *err, size_t errlen);

/** Is @p name one of the five provenance headers of isthmus/provenance.h? */
bool ist_kafka_is_provenance(const char *name);

#endif /* ISTHMUS_DRIVERS_KAFKA_H */
