/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * `isthmus verify`: compare replicated topics in a destination cluster with
 * their source, record by record. Talks to both Kafka clusters directly with
 * librdkafka, not through isthmus-control.
 *
 * Each source topic's partitions are read from their low watermark up to the
 * high watermark taken at the start (the last stable offset: the consumers
 * use isolation.level=read_committed); each destination topic (PREFIX +
 * topic) up to its current high watermark. A destination record is paired
 * with the source record its provenance headers name (isthmus/provenance.h:
 * topic, partition, offset) and compared on key, value, headers (all but
 * the five provenance headers, in order, duplicates kept) and timestamp;
 * null and empty keys, values and header values are different things.
 *
 * Differences, counted per partition:
 *   - missing:    a source offset with no copy in its destination partition
 *   - duplicated: each copy of a source offset after the first
 *   - reordered:  a first copy whose source offset is below one copied
 *                 earlier into the same destination partition
 *   - altered:    a copy whose key, value, headers or timestamp differ
 *   - foreign:    a destination record without (parseable) provenance
 *                 headers, naming another topic, or naming a source offset
 *                 that holds no record
 *   - misplaced:  a copy in another destination partition than its source
 *                 partition (the source record is then also missing)
 * Copies of source offsets outside the source's [low, high) window taken at
 * the start (written after it, or deleted from the source since) are not
 * compared; they are counted as skipped.
 *
 * Memory: the source side keeps 32 bytes per record — the offset, a 64-bit
 * digest of key, value, headers and timestamp, four 16-bit per-field digests
 * to say which field differs, and a copy count — never the record itself.
 * The destination side is streamed and only counted. A million source
 * records take about 32 MiB.
 *
 * Digests are SipHash-2-4 from OpenSSL's libcrypto (EVP_MAC "SIPHASH"),
 * already a dependency of the tree; nothing cryptographic is hand-written.
 *
 * With a wait, the comparison is repeated, reading only what the destination
 * gained since the last pass, until it is clean, or a difference appears
 * that more replication cannot repair (anything but missing records after
 * the highest source offset copied so far, which count as in flight), or
 * the wait is over.
 *
 * Threading: @locality any thread. A run creates and destroys its own
 * librdkafka handles and reads the clock only through opts->now_ms.
 */
#ifndef ISTHMUS_CONTROL_VERIFY_H
#define ISTHMUS_CONTROL_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli_args.h"
#include "ist_config.h"

#define IST_VERIFY_TOPIC_LEN      249 /* Kafka's limit on a topic name */
#define IST_VERIFY_MAX_TOPICS     64
#define IST_VERIFY_DEF_TIMEOUT_MS 10000u
#define IST_VERIFY_DEF_MAX_REPORT 10u

enum ist_verify_kind {
	IST_VERIFY_MISSING = 0,
	IST_VERIFY_DUPLICATED,
	IST_VERIFY_REORDERED,
	IST_VERIFY_ALTERED,
	IST_VERIFY_FOREIGN,
	IST_VERIFY_MISPLACED,
	IST_VERIFY_KIND_MAX,
};

/* Fields of an altered record that differ. */
#define IST_VERIFY_F_KEY       0x1u
#define IST_VERIFY_F_VALUE     0x2u
#define IST_VERIFY_F_HEADERS   0x4u
#define IST_VERIFY_F_TIMESTAMP 0x8u

/** One listed difference. */
struct ist_verify_diff {
	enum ist_verify_kind kind;
	int64_t src_offset; /**< the source offset; -1 when the record names none */
	int64_t src_last;   /**< missing: last offset of the range; else = src_offset */
	int64_t dst_offset; /**< the destination record; -1 for missing */
	uint32_t fields;    /**< altered: IST_VERIFY_F_* (0 when the digests cannot tell) */
	char note[128];     /**< foreign and misplaced: why */
};

/**
 * One partition number of a topic: source partition P and destination
 * partition P (the destination must keep partition numbers).
 */
struct ist_verify_part {
	int32_t partition;
	bool in_source, in_dest;   /**< the partition exists on that side */
	int64_t src_low, src_high; /**< the window read, taken at the start */
	int64_t dst_high;          /**< destination high watermark at the last pass */
	uint64_t src_records, dst_records;
	uint64_t skipped; /**< copies of offsets outside the source window, not compared */
	uint64_t count[IST_VERIFY_KIND_MAX];
	uint64_t in_flight; /**< of count[MISSING]: after the highest offset copied */
	uint32_t n_diffs;   /**< at most max_report: as found in the destination, then missing */
	bool truncated;     /**< some differences are counted but not listed */
	struct ist_verify_diff *diffs;
	struct ist_verify_pstate *st; /**< private to verify.c */
};

struct ist_verify_topic {
	char topic[IST_VERIFY_TOPIC_LEN + 1];
	char dest_topic[IST_VERIFY_TOPIC_LEN + 1];
	bool dest_exists;
	uint32_t src_partitions, dst_partitions;
	uint32_t n_parts; /**< max of the two */
	struct ist_verify_part *parts;
};

struct ist_verify_report {
	char source[IST_CFG_STR_LEN], dest[IST_CFG_STR_LEN]; /**< bootstrap servers */
	uint32_t n_topics;
	struct ist_verify_topic *topics;
	uint32_t partitions; /**< partition rows over all topics */
	uint64_t src_records, dst_records, skipped, in_flight;
	uint64_t total[IST_VERIFY_KIND_MAX];
	uint32_t passes;
	uint64_t elapsed_ms;
	uint32_t max_report;
	bool clean;
};

/** One Kafka cluster to read. */
struct ist_verify_cluster {
	const char *bootstrap;
	const char *what; /**< "source cluster", for errors */
	const char *hint; /**< what to check when it is unreachable: "check --source" */
	const struct ist_cfg_prop *props; /**< librdkafka properties set first, may be NULL */
	unsigned int n_props;
};

struct ist_verify_opts {
	struct ist_verify_cluster source, dest;
	const char *const *topics;     /**< source topic names */
	unsigned int n_topics;         /**< 1..IST_VERIFY_MAX_TOPICS */
	const char *dest_prefix;       /**< destination topic = prefix + topic; NULL: "" */
	uint32_t wait_ms;              /**< repeat while in flight, up to this long; 0: one pass */
	uint32_t timeout_ms;           /**< to reach a cluster, and longest stall of a read */
	uint32_t max_report;           /**< differences listed per partition */
	uint64_t (*now_ms)(void);      /**< monotonic clock; NULL: CLOCK_MONOTONIC */
	void (*sleep_ms)(uint32_t ms); /**< between passes; NULL: nanosleep */
};

/** Defaults: timeout 10 s, max_report 10, no wait, identity naming. */
void ist_verify_opts_init(struct ist_verify_opts *o);

/**
 * Compare. A report is produced whether or not there are differences.
 *
 * @param err out: one line naming what failed and what to check, when the
 *   result is not 0 (without a "isthmus verify: " prefix)
 * @return 0 with *out set (free it with ist_verify_report_free()); -EINVAL
 *   for bad options or librdkafka properties; -EHOSTUNREACH when a cluster
 *   cannot be reached within timeout_ms; -ENOENT when a source topic does
 *   not exist; -ETIMEDOUT when a read stalls for timeout_ms; -EIO for other
 *   Kafka errors; -ENOMEM.
 */
int ist_verify_run(const struct ist_verify_opts *o, struct ist_verify_report **out, char *err,
		   size_t errlen);

void ist_verify_report_free(struct ist_verify_report *r);

/** "missing", "duplicated", ... */
const char *ist_verify_kind_name(enum ist_verify_kind k);

/**
 * The summary line, without newline: "verify: OK topics=1 partitions=4
 * records=400" or "verify: FAILED missing=1 duplicated=0 reordered=0
 * altered=0 foreign=0 misplaced=0".
 */
void ist_verify_summary(const struct ist_verify_report *r, char *buf, size_t len);

/** The table, the listed differences and the summary line. */
void ist_verify_print(FILE *f, const struct ist_verify_report *r);

/** The report as a JSON object (new reference), or NULL on allocation failure. */
json_t *ist_verify_to_json(const struct ist_verify_report *r);

/**
 * The `isthmus verify` verb: resolve --config/--flow, run, print to @p out
 * (table or JSON), errors as one line on @p errf.
 * @return the exit status: 0 clean, 1 differences, 2 usage, configuration
 *   or Kafka errors.
 */
int ist_verify_cli(const struct ist_cli_cmd *cmd, FILE *out, FILE *errf);

#endif /* ISTHMUS_CONTROL_VERIFY_H */
