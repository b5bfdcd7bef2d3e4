/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The core map: one INI file per appliance, parsed with DPDK's rte_cfgfile.
 *
 * One settings table (ist_config_settings[]) drives parsing, range checks,
 * defaults, error messages and the generated docs/CONFIG.md. Sections:
 *
 *   [appliance]      identity: id, region
 *   [control]        IPC socket path, HTTP listen address, status interval
 *   [eal]            EAL settings (file prefix, hugepages, extra arguments)
 *   [mempool]        packet buffer pool sizes
 *   [port NAME]      a DPDK port: PCI address or any vdev string, queues, MTU
 *   [lcore ID]       an lcore, the CPU it is pinned to, its roles, its queues
 *   [link]           the inter-region link: port, peer, capacity, MTU, RTT
 *   [kafka NAME]     a Kafka cluster: bootstrap servers, librdkafka properties
 *   [flow NAME]      source cluster -> sink cluster, topic patterns, naming
 *   [class NAME]     a topic class: topics, rate, burst, weight, codec
 *   [rule NAME]      a record rule: flow, topics, field, pattern, action
 *
 * Values may reference the environment as ${NAME}; an unset variable is an
 * error. Keys "rdkafka.<prop>" in a [kafka] section pass <prop> to librdkafka
 * and are validated by librdkafka itself at load time.
 *
 * Topic and rule patterns are regular expressions in hyperscan syntax. The
 * loader itself does not link hyperscan (control, the CLI and the doc tool
 * share it): ist_config_load_checked() takes a pattern checker, and
 * ist_rules_config_load() (dataplane/rules) passes hyperscan's, so a pattern
 * hyperscan refuses is a load error with file:line.
 *
 * Threading: load/free run at start-up (@locality main thread); the loaded
 * struct is read-only afterwards.
 *
 * rte_cfgfile keeps no line numbers and accepts malformed lines and duplicate
 * keys silently, so ist_config_load() first runs a strict line scanner that
 * rejects those with file:line and remembers where each key is, for error
 * messages.
 */
#ifndef ISTHMUS_CONFIG_H
#define ISTHMUS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IST_CFG_NAME_LEN     32
#define IST_CFG_STR_LEN      256
#define IST_CFG_PATH_LEN     108 /* sun_path */
#define IST_CFG_MAX_PORTS    8
#define IST_CFG_MAX_LCORES   64
#define IST_CFG_MAX_ROLES    8
#define IST_CFG_MAX_QUEUES   16
#define IST_CFG_MAX_KAFKA    8
#define IST_CFG_MAX_PROPS    32
#define IST_CFG_MAX_FLOWS    16
#define IST_CFG_MAX_CLASSES  16
#define IST_CFG_MAX_PATTERNS 16
#define IST_CFG_PATTERN_LEN  64
#define IST_CFG_MAX_RULES    64  /* the rules engine keeps one bit per rule */
#define IST_CFG_REGEX_LEN    256 /* a rule pattern: one whole value */
#define IST_CFG_HEADER_LEN   64  /* a record header name */
#define IST_CFG_TOPIC_LEN    250 /* a Kafka topic name: 249 characters */

#define IST_DIM(a)           (sizeof(a) / sizeof((a)[0]))

/** Exit code for a configuration error (runtime errors exit 1). */
#define IST_EXIT_CONFIG 2

struct ist_cfg_appliance {
	char id[IST_CFG_NAME_LEN];
	char region[IST_CFG_NAME_LEN];
};

struct ist_cfg_control {
	char socket[IST_CFG_PATH_LEN];
	char http_listen[IST_CFG_NAME_LEN]; /* "127.0.0.1:9641" */
	uint32_t status_interval_ms;
};

struct ist_cfg_eal {
	char file_prefix[IST_CFG_NAME_LEN];
	bool in_memory;
	bool no_huge;
	uint32_t memory_mb;
	char log_level[IST_CFG_NAME_LEN];
	char extra_args[IST_CFG_STR_LEN];
};

struct ist_cfg_mempool {
	uint32_t mbufs;
	uint32_t cache;
	uint32_t data_room;
};

struct ist_cfg_port {
	char name[IST_CFG_NAME_LEN];
	char device[IST_CFG_STR_LEN]; /* PCI address or vdev string */
	uint16_t rx_queues;
	uint16_t tx_queues;
	uint16_t rx_desc;
	uint16_t tx_desc;
	uint32_t mtu;
	bool promiscuous;
};

/** A (port, queue) pair an lcore polls. */
struct ist_cfg_queue {
	uint8_t port; /* index into ist_config.ports */
	uint16_t queue;
};

struct ist_cfg_lcore {
	uint32_t id;
	int32_t cpu;            /* -1: same as id */
	uint32_t idle_sleep_us; /* 0: busy-poll */
	uint32_t idle_spins;
	uint8_t n_roles;
	char roles[IST_CFG_MAX_ROLES][IST_CFG_NAME_LEN];
	uint8_t n_queues;
	struct ist_cfg_queue queues[IST_CFG_MAX_QUEUES];
};

struct ist_cfg_link {
	bool enabled;
	uint8_t port; /* index into ist_config.ports */
	char port_name[IST_CFG_NAME_LEN];
	char local_ip[IST_CFG_NAME_LEN];
	char peer_ip[IST_CFG_NAME_LEN];
	uint16_t udp_port;
	uint32_t capacity_mbps;
	uint32_t mtu;
	uint32_t rtt_ms;
	uint32_t auth; /* enum ist_cfg_auth */
	char key_file[IST_CFG_STR_LEN];
	uint32_t streams;       /* replication streams (source partitions) per direction */
	uint32_t window;        /* frames in flight per stream (receiver slots) */
	uint32_t max_record_kb; /* largest record split over frames */
};

enum ist_cfg_auth {
	IST_AUTH_AEAD = 0, /* AES-256-GCM with the pre-shared keys of link.key_file */
	IST_AUTH_NONE = 1, /* for links already protected by MACsec/IPsec */
};

/** Synthetic traffic over the link, to test and measure it without Kafka. */
struct ist_cfg_synth {
	bool enabled;
	bool send;
	uint32_t streams;
	uint32_t frames; /* per stream; 0: without end */
	uint32_t min_body;
	uint32_t max_body;
	uint32_t seed;
	uint32_t window; /* frames in flight per stream (receiver slots) */
	char progress_file[IST_CFG_STR_LEN];
	char corpus[IST_CFG_STR_LEN]; /* "": pattern frames; else record frames of this corpus */
	char codec[IST_CFG_NAME_LEN]; /* with corpus: none | lz4 | zstd[:level] */
	uint32_t frame_kb;            /* with corpus: frame body bound */
};

struct ist_cfg_prop {
	char name[IST_CFG_NAME_LEN * 2];
	char value[IST_CFG_STR_LEN];
};

struct ist_cfg_kafka {
	char name[IST_CFG_NAME_LEN];
	char bootstrap[IST_CFG_STR_LEN];
	char region[IST_CFG_NAME_LEN]; /* where the cluster is: its appliance reads or writes it */
	uint8_t n_props;
	struct ist_cfg_prop props[IST_CFG_MAX_PROPS];
};

enum ist_cfg_naming {
	IST_NAMING_IDENTITY = 0, /* active-passive: same topic name */
	IST_NAMING_PREFIX = 1,   /* active-active: "<origin-region>.<topic>" */
};

struct ist_cfg_flow {
	char name[IST_CFG_NAME_LEN];
	uint8_t source; /* index into ist_config.kafka */
	uint8_t sink;
	uint8_t n_include;
	uint8_t n_exclude;
	char source_name[IST_CFG_NAME_LEN];
	char sink_name[IST_CFG_NAME_LEN];
	char include[IST_CFG_MAX_PATTERNS][IST_CFG_PATTERN_LEN];
	char exclude[IST_CFG_MAX_PATTERNS][IST_CFG_PATTERN_LEN];
	uint32_t naming; /* enum ist_cfg_naming */
	uint32_t on_gap; /* enum ist_cfg_gap */
};

enum ist_cfg_gap {
	IST_GAP_HALT = 0, /* stop the stream; the alarm stays until an operator acts */
	IST_GAP_SKIP = 1, /* go on from what the source still has; the alarm stays */
};

struct ist_cfg_class {
	char name[IST_CFG_NAME_LEN];
	uint8_t n_topics;
	char topics[IST_CFG_MAX_PATTERNS][IST_CFG_PATTERN_LEN];
	uint32_t rate_mbps;
	uint32_t burst_kb;
	uint32_t weight;
	char codec[IST_CFG_NAME_LEN]; /* none | lz4 | zstd[:level] */
	uint32_t frame_kb;            /* frame body bound */
	uint32_t linger_ms;           /* a frame waits at most this long for more records */
};

/** What a rule's pattern is matched against. */
enum ist_cfg_match_field {
	IST_RULE_MATCH_KEY = 0,
	IST_RULE_MATCH_VALUE = 1,
	IST_RULE_MATCH_HEADER = 2, /* the value of every header named match.header */
};

struct ist_cfg_rule_match {
	uint32_t field;                  /* enum ist_cfg_match_field */
	char header[IST_CFG_HEADER_LEN]; /* IST_RULE_MATCH_HEADER: the header name */
};

/** What a matching rule does to the record. */
enum ist_cfg_action_kind {
	IST_RULE_ACTION_DROP = 0,  /* not replicated */
	IST_RULE_ACTION_ROUTE = 1, /* replicated to action.topic instead of its own topic */
	IST_RULE_ACTION_TAG = 2,   /* replicated with header tag_name = tag_value added */
};

struct ist_cfg_rule_action {
	uint32_t kind;                     /* enum ist_cfg_action_kind */
	char topic[IST_CFG_TOPIC_LEN];     /* ROUTE */
	char tag_name[IST_CFG_HEADER_LEN]; /* TAG */
	char tag_value[IST_CFG_STR_LEN];   /* TAG; may be empty */
};

struct ist_cfg_rule {
	char name[IST_CFG_NAME_LEN];
	char flow_name[IST_CFG_NAME_LEN]; /* "": every flow */
	int16_t flow;                     /* index into ist_config.flows; -1: every flow */
	uint8_t n_topics;                 /* 0: every topic of the flow */
	char topics[IST_CFG_MAX_PATTERNS][IST_CFG_PATTERN_LEN];
	struct ist_cfg_rule_match match;
	char pattern[IST_CFG_REGEX_LEN];
	struct ist_cfg_rule_action action;
	int line;         /* of the [rule] header, for messages after load */
	int pattern_line; /* of its pattern = line */
};

struct ist_config {
	char path[IST_CFG_STR_LEN];
	struct ist_cfg_appliance appliance;
	struct ist_cfg_control control;
	struct ist_cfg_eal eal;
	struct ist_cfg_mempool mempool;
	uint8_t n_ports;
	struct ist_cfg_port ports[IST_CFG_MAX_PORTS];
	uint8_t n_lcores;
	struct ist_cfg_lcore lcores[IST_CFG_MAX_LCORES];
	struct ist_cfg_link link;
	struct ist_cfg_synth synth;
	uint8_t n_kafka;
	struct ist_cfg_kafka kafka[IST_CFG_MAX_KAFKA];
	uint8_t n_flows;
	struct ist_cfg_flow flows[IST_CFG_MAX_FLOWS];
	uint8_t n_classes;
	struct ist_cfg_class classes[IST_CFG_MAX_CLASSES];
	uint8_t n_rules;
	struct ist_cfg_rule rules[IST_CFG_MAX_RULES]; /* in file order */
};

/** Types of settings in the table. */
enum ist_cfg_type {
	IST_CFG_T_STR, /**< string up to size-1 bytes */
	IST_CFG_T_U32, /**< unsigned decimal within [min, max] */
	IST_CFG_T_I32, /**< signed decimal within [min, max] */
	IST_CFG_T_U16,
	IST_CFG_T_BOOL,   /**< true/false/yes/no/on/off/1/0 */
	IST_CFG_T_ENUM,   /**< one of the '|'-separated words in choices */
	IST_CFG_T_LIST,   /**< comma- or space-separated words, up to max of them */
	IST_CFG_T_ADDR,   /**< host:port */
	IST_CFG_T_IPV4,   /**< dotted quad */
	IST_CFG_T_QUEUES, /**< PORT:QUEUE words, up to max of them */
	IST_CFG_T_CODEC,  /**< none | lz4 | zstd | zstd:<1..19> */
	IST_CFG_T_REGEX, /**< STR holding one regular expression, checked when a checker is given */
	IST_CFG_T_REGEXES, /**< LIST whose items are regular expressions, checked likewise */
	IST_CFG_T_MATCH,   /**< key | value | header:<name>, into struct ist_cfg_rule_match */
	IST_CFG_T_ACTION, /**< drop | route:<topic> | tag:<name>=<value>, into struct ist_cfg_rule_action */
};

/** One row of the settings table. */
struct ist_cfg_setting {
	const char *section; /**< section kind: "appliance", "port", "lcore", ... */
	const char *name;
	enum ist_cfg_type type;
	int64_t min, max;    /**< numbers: range; STR: max length; LIST: max items */
	const char *def;     /**< default as text; NULL: required */
	bool runtime;        /**< may change at run time without restart */
	const char *choices; /**< ENUM: "a|b|c"; MATCH, ACTION: the syntax, for the docs */
	const char *doc;
	size_t offset;       /**< where the value lands in the section's struct */
	size_t size;         /**< size of that field; LIST: size of one item */
	size_t count_offset; /**< LIST/QUEUES: where the uint8_t item count lands */
};

/** Section kinds: named ones ("port NAME") may repeat with distinct names. */
struct ist_cfg_section_kind {
	const char *kind;
	bool named;
	bool required;
	const char *doc;
};

extern const struct ist_cfg_setting ist_config_settings[];
extern const unsigned int ist_config_n_settings;
extern const struct ist_cfg_section_kind ist_config_sections[];
extern const unsigned int ist_config_n_sections;

/** Role names an [lcore] may list. */
extern const char *const ist_config_roles[];
extern const unsigned int ist_config_n_roles;

/**
 * Load and validate a core map.
 *
 * @param path  the file
 * @param cfg   out: the parsed configuration (zeroed first)
 * @param err   out: one line naming file, line, section.key, the bad value
 *              and what to do, when the result is not 0
 * @param errlen size of @p err
 * @return 0, -EINVAL on any configuration error, -ENOENT/-EACCES when the
 *   file cannot be read.
 */
int ist_config_load(const char *path, struct ist_config *cfg, char *err, size_t errlen);

/**
 * Checks one regular expression of the core map.
 *
 * @param pattern the expression as written
 * @param msg     out: why it cannot be used, one line without a final '.'
 * @param msglen  size of @p msg
 * @return 0 when the expression is usable, non-zero otherwise
 */
typedef int (*ist_config_regex_check_t)(const char *pattern, char *msg, size_t msglen);

/**
 * ist_config_load(), and every pattern (flow include/exclude, class topics,
 * rule topics and pattern) passed to @p check; a refused one is a load error
 * naming file:line, the pattern, the checker's message and the fix.
 *
 * @param check the checker; NULL checks no pattern (ist_config_load())
 * @return as ist_config_load()
 */
int ist_config_load_checked(const char *path, struct ist_config *cfg,
			    ist_config_regex_check_t check, char *err, size_t errlen);

/** Write docs/CONFIG.md (Markdown) generated from the settings table. */
int ist_config_write_doc(FILE *out);

/** Index of the port named @p name, or -1. */
int ist_config_port_index(const struct ist_config *cfg, const char *name);

/** Index of the kafka cluster named @p name, or -1. */
int ist_config_kafka_index(const struct ist_config *cfg, const char *name);

/** Index of the flow named @p name, or -1. */
int ist_config_flow_index(const struct ist_config *cfg, const char *name);

/** Levenshtein distance, bounded; used for "did you mean" suggestions. */
unsigned int ist_config_edit_distance(const char *a, const char *b);

#endif /* ISTHMUS_CONFIG_H */
