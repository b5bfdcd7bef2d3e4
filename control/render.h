/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Pure renderers for control's read-only API: the /status JSON document and
 * the /metrics Prometheus text exposition, both from one view struct that
 * the caller fills from the data plane client and Kafka health snapshots.
 *
 * Nothing here reads a clock or a socket: the view carries "now", so the
 * output for a given view is byte-for-byte reproducible (unit tests assert
 * exact fields and lines).
 *
 * Threading: @locality any thread; the view must not change while rendering.
 */
#ifndef ISTHMUS_CONTROL_RENDER_H
#define ISTHMUS_CONTROL_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "dp_client.h"
#include "kafka_health.h"

/** Everything /status and /metrics show. */
struct ist_ctl_view {
	const char *appliance;
	const char *region;
	const char *version;
	uint32_t control_pid;
	uint64_t control_uptime_ms;
	uint64_t now_ms; /**< CLOCK_MONOTONIC ms, the base of every age */
	const char *dp_socket;
	const struct ist_dp_client_state *dp;
	const struct ist_kafka_cluster_state *kafka;
	unsigned int n_kafka;
};

/** The /status document; NULL on allocation failure. Caller json_decref()s it. */
json_t *ist_render_status(const struct ist_ctl_view *v);

/**
 * The /metrics exposition (Prometheus text format 0.0.4).
 * @param out    out: a malloc()ed NUL-terminated buffer, caller frees
 * @param outlen out: its length without the NUL
 * @return 0 or -ENOMEM.
 */
int ist_render_metrics(const struct ist_ctl_view *v, char **out, size_t *outlen);

/**
 * A JSON string for text that came from outside (the data plane, librdkafka):
 * invalid UTF-8 would make jansson refuse the whole document, so such bytes
 * become '?'.
 */
json_t *ist_render_str(const char *s);

/** Write @p s as a Prometheus label value (escapes \\, " and newline; other control
 * characters and non-ASCII bytes become '?'). */
void ist_render_prom_label(FILE *f, const char *s);

#endif /* ISTHMUS_CONTROL_RENDER_H */
