/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * isthmus-region: command-line options, control-line commands and the status
 * table of an emulated region, without any librdkafka calls.
 *
 * Kept apart from perf/region.c so the parsers and the status line can be unit
 * tested without starting a mock cluster. The mock cluster API has setters but
 * no getters, so struct ist_region_state is the only record of what the
 * region looks like: every successful change is applied here too.
 *
 * Errors are written into a caller buffer as "<what> — <fix>", one line, so
 * the caller can prefix "error: " (control socket) or the program name (CLI).
 *
 * Threading: pure functions on caller memory; ist_region_opts_parse() uses
 * getopt_long() and so is not reentrant (@locality main thread).
 *
 * Limits: IST_REGION_BROKERS_MAX brokers, IST_REGION_TOPICS_MAX topics of at
 * most IST_REGION_PARTITIONS_MAX partitions, control lines shorter than
 * IST_REGION_LINE_MAX bytes, RTT up to IST_REGION_RTT_MAX_MS.
 */
#ifndef ISTHMUS_PERF_REGION_CMD_H
#define ISTHMUS_PERF_REGION_CMD_H

#include <stdbool.h>
#include <stddef.h>

#define IST_REGION_BROKERS_MAX    32
#define IST_REGION_TOPICS_MAX     64
#define IST_REGION_PARTITIONS_MAX 1024
#define IST_REGION_RTT_MAX_MS     60000
#define IST_REGION_TOPIC_NAME_MAX 249 /**< Kafka's own limit on topic names */
#define IST_REGION_NAME_MAX       64
#define IST_REGION_LINE_MAX       512   /**< longest control line, newline included */
#define IST_REGION_REPLY_MAX      20480 /**< longest reply, newline included; fits the limits above */
#define IST_REGION_ERR_MAX        256
#define IST_REGION_DEFAULT_RF     3 /**< replication factor when a spec leaves it out, as the mock */

struct ist_region_topic {
	char name[IST_REGION_TOPIC_NAME_MAX + 1];
	int partitions;
	int rf; /**< 0: not given, resolved against the broker count later */
};

struct ist_region_opts {
	char name[IST_REGION_NAME_MAX + 1];
	int brokers;
	int rtt_ms;
	const char *control;        /**< NULL: no control socket */
	const char *bootstrap_file; /**< NULL: stdout only */
	int topic_cnt;
	struct ist_region_topic topics[IST_REGION_TOPICS_MAX];
	bool help;
};

enum ist_region_cmd_type {
	IST_REGION_CMD_BROKER_DOWN = 1,
	IST_REGION_CMD_BROKER_UP,
	IST_REGION_CMD_BROKER_RTT,
	IST_REGION_CMD_TOPIC_CREATE,
	IST_REGION_CMD_STATUS,
	IST_REGION_CMD_HELP,
	IST_REGION_CMD_QUIT,
};

struct ist_region_cmd {
	enum ist_region_cmd_type type;
	int broker_id;
	int rtt_ms;
	struct ist_region_topic topic;
};

struct ist_region_broker {
	bool up;
	int rtt_ms;
};

struct ist_region_state {
	char name[IST_REGION_NAME_MAX + 1];
	const char *bootstrap; /**< owned by the mock cluster */
	int broker_cnt;
	struct ist_region_broker brokers[IST_REGION_BROKERS_MAX + 1]; /**< by id, 1-based */
	int topic_cnt;
	struct ist_region_topic topics[IST_REGION_TOPICS_MAX];
};

/** Usage text for --help and for usage errors. */
extern const char ist_region_usage[];
/** One-line summary of the control commands, the reply to "help". */
extern const char ist_region_cmd_help[];

/**
 * Parse "NAME:PARTITIONS[:RF]".
 *
 * @param spec the spec as given on the command line.
 * @param t filled on success; t->rf is 0 when RF is left out.
 * @param err receives "<what> — <fix>" on failure.
 * @return 0, or -EINVAL.
 */
int ist_region_topic_parse(const char *spec, struct ist_region_topic *t, char *err, size_t errlen);

/**
 * Parse and validate the server's command line (without a leading "ctl").
 *
 * Topic replication factors are resolved: a missing one becomes
 * min(IST_REGION_DEFAULT_RF, brokers), an explicit one must be 1..brokers.
 *
 * @return 0 (check o->help), or -EINVAL with err filled.
 */
int ist_region_opts_parse(int argc, char **argv, struct ist_region_opts *o, char *err,
			  size_t errlen);

/**
 * Parse one control line (no newline) for a region of @p broker_cnt brokers.
 *
 * @return 0, -ENODATA for a blank line (no reply is due), or -EINVAL with err
 *         filled.
 */
int ist_region_cmd_parse(const char *line, int broker_cnt, struct ist_region_cmd *cmd, char *err,
			 size_t errlen);

/** Start the table for a region whose brokers are all up with @p rtt_ms. */
void ist_region_state_init(struct ist_region_state *s, const char *name, int broker_cnt,
			   int rtt_ms);

/** @return the topic called @p name, or NULL. */
struct ist_region_topic *ist_region_state_topic_find(struct ist_region_state *s, const char *name);

/**
 * Record a created topic.
 *
 * @return 0, -EEXIST or -ENOSPC with err filled.
 */
int ist_region_state_topic_add(struct ist_region_state *s, const struct ist_region_topic *t,
			       char *err, size_t errlen);

/**
 * Check a topic would fit in the table before asking the mock cluster for it.
 *
 * @return 0, -EEXIST or -ENOSPC with err filled.
 */
int ist_region_state_topic_check(const struct ist_region_state *s, const char *name, char *err,
				 size_t errlen);

/**
 * Format the reply to "status", without "ok " and without the newline:
 * "name=N brokers=1:up,2:down rtt-ms=1:0,2:0 topics=a:4:3,b:1:1 bootstrap=H:P,...".
 *
 * @return the length written, or -ENOSPC if @p len is too small.
 */
int ist_region_status_format(const struct ist_region_state *s, char *buf, size_t len);

#endif /* ISTHMUS_PERF_REGION_CMD_H */
