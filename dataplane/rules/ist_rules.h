/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Rules engine: which topics a flow replicates, which class a topic belongs
 * to, and what happens to each record ([rule NAME] sections), matched with
 * hyperscan; the compiled rules are swapped at run time with RCU.
 *
 * A *set* (struct ist_rules_set) is everything compiled from one core map:
 * one block-mode database of all topic patterns (flow include/exclude, class
 * topics, rule topics; each wrapped as ^(?:...)$ so it must match the whole
 * name), one database of the rules that match keys, one of those that match
 * values, and one per header name that rules match. A set is immutable once
 * built, except for its per-reader scratches (hyperscan scratch + counters),
 * each written by exactly one reader. A scratch is cloned from a prototype
 * allocated for that set's databases, so a reader never scans with a
 * scratch made for another database.
 *
 * Topics: ist_rules_topic_bind() runs when a stream is created and records
 * whether the flow selects the topic (included and not excluded), the topic's
 * class, and the mask of rules that apply to it (rule flow and topics). The
 * binding remembers the set it was made for; ist_rules_record_eval() re-binds
 * it, once, when it meets a newer set after a swap.
 *
 * Classes: 0..n_classes-1 in file order; the first class with a pattern that
 * matches the whole topic name wins. A topic no class claims gets index
 * n_classes, the *default class* (the [class] defaults: rate 0, i.e. limited
 * by the link only, weight 1, lz4).
 *
 * Records, in file order of the rules that apply to the topic:
 *  - the first matching `drop` or `route` rule decides (verdict DROP or
 *    ROUTE, with its index); later drop/route rules are not considered;
 *  - every matching `tag` rule adds its header, in file order, whether it
 *    stands before or after the deciding rule; a dropped record gets none;
 *  - nothing decisive matches: PASS (with the tags, if any);
 *  - a NULL key, value or header value never matches, not even a pattern
 *    that matches the empty string; an empty (length 0, non-NULL) one is
 *    scanned like any other;
 *  - match = header:<name>: every header of that name is scanned and any one
 *    occurrence matching counts; header names compare byte for byte.
 * Cost per record: one hs_scan per field that some applicable rule matches
 * (key, value, each header whose name a rule names), nothing allocated.
 *
 * Counters: per reader, in its scratch (one writer), summed on read by
 * ist_rules_set_stats(). A rule's hit counts the records it took effect on:
 * the deciding drop/route rule, and each tag rule whose header was added. So
 * passed + dropped + routed = evaluated, the hits of drop rules sum to
 * dropped, those of route rules to routed, those of tag rules to tags_added.
 * Counters belong to a set: a swap hands the old set's final totals back.
 *
 * RCU (struct ist_rules_holder): readers (lcores) read the current set with
 * ist_rules_holder_get() at the start of a burst and report
 * ist_rules_reader_quiescent() once per loop, outside any burst. The mgmt
 * thread publishes a new set with ist_rules_holder_swap(), which waits with
 * rte_rcu_qsbr until every online reader has passed a quiescent state, then
 * frees the old set. Everything a reader got from a set (the set, its
 * scratch, the strings in a verdict) stays valid until that reader's next
 * ist_rules_reader_quiescent() call.
 *
 * Threading: build, load, swap, reload and free: @locality mgmt thread (they
 * allocate and compile). ist_rules_topic_*(): any thread with its own
 * scratch of the set. ist_rules_record_eval(): HOT, the reader owning the
 * scratch.
 *
 * Limits: IST_RULES_MAX_RULES rules (one bit each in a 64-bit mask),
 * IST_RULES_MAX_TAGS tags per verdict (further matching tags are counted in
 * tag_overflow and not added), topic names up to IST_RULES_TOPIC_MAX bytes.
 *
 * Written by hand: only the glue. Matching is hyperscan's (hs_compile_multi,
 * hs_scan, hs_clone_scratch), grace periods are DPDK's rte_rcu_qsbr.
 */
#ifndef ISTHMUS_RULES_H
#define ISTHMUS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ist_config.h"

#define IST_RULES_MAX_RULES IST_CFG_MAX_RULES
#define IST_RULES_MAX_TAGS  8
#define IST_RULES_TOPIC_MAX (IST_CFG_TOPIC_LEN - 1)
/** ist_rules_verdict.rule when no drop/route rule decided. */
#define IST_RULES_NO_RULE UINT16_MAX

struct ist_rules_set;
struct ist_rules_scratch;
struct ist_rules_holder;

/** What happens to a record. */
enum ist_rules_action {
	IST_RULES_PASS = 0,  /**< replicated to its own topic */
	IST_RULES_DROP = 1,  /**< not replicated */
	IST_RULES_ROUTE = 2, /**< replicated to verdict.topic */
};

/** One record header, as the batcher decoded it. */
struct ist_rules_header {
	const char *name;
	const void *value; /**< NULL: a null header value (never matches) */
	uint32_t value_len;
	uint16_t name_len;
};

/** The parts of a record rules look at. */
struct ist_rules_rec {
	const void *key;   /**< NULL: null key (never matches) */
	const void *value; /**< NULL: null value (never matches) */
	const struct ist_rules_header *headers;
	uint32_t key_len;
	uint32_t value_len;
	uint16_t n_headers;
};

/** A header to add; the strings (NUL-terminated) belong to the set. */
struct ist_rules_tag {
	const char *name;
	const char *value;
	uint16_t name_len;
	uint16_t value_len;
	uint16_t rule; /**< index of the tag rule */
};

/** The outcome for one record; its strings belong to the set. */
struct ist_rules_verdict {
	uint8_t action;     /**< enum ist_rules_action */
	uint8_t n_tags;     /**< tags[0..n_tags-1] to add, in rule order; 0 when dropped */
	uint16_t rule;      /**< the deciding drop/route rule, or IST_RULES_NO_RULE */
	uint16_t topic_len; /**< ROUTE */
	const char *topic;  /**< ROUTE: the destination topic, NUL-terminated; else NULL */
	uint64_t matched;   /**< bit r: rule r applies to the topic and matched the record */
	struct ist_rules_tag tags[IST_RULES_MAX_TAGS];
};

/**
 * A topic as one flow sees it; kept by the stream, owned by the reader that
 * owns the stream. Filled by ist_rules_topic_bind().
 */
struct ist_rules_topic {
	uint64_t gen;       /**< the set this was computed for */
	uint64_t rules;     /**< bit r: rule r applies to this (flow, topic) */
	uint32_t flow;      /**< index into the core map's flows */
	uint16_t class_idx; /**< see the file comment; n_classes: the default class */
	bool selected;      /**< the flow replicates this topic */
	uint16_t len;
	char name[IST_RULES_TOPIC_MAX + 1];
};

/** Counters of a set, summed over its readers. */
struct ist_rules_stats {
	uint64_t evaluated;    /**< records evaluated */
	uint64_t passed;       /**< verdict PASS */
	uint64_t dropped;      /**< verdict DROP */
	uint64_t routed;       /**< verdict ROUTE */
	uint64_t tags_added;   /**< headers added */
	uint64_t tag_overflow; /**< matching tags beyond IST_RULES_MAX_TAGS, not added */
	uint64_t scan_errors;  /**< hs_scan failures (the verdict is then PASS) */
	uint32_t n_rules;
	uint64_t hits[IST_RULES_MAX_RULES]; /**< per rule, see the file comment */
};

/* ---- building (@locality mgmt thread) ---- */

/**
 * The hyperscan pattern checker for ist_config_load_checked(): compiles
 * @p pattern alone, with the flags the engine uses.
 *
 * @return 0 when hyperscan compiles it; -EINVAL with "hyperscan: <message>"
 *   in @p msg otherwise.
 */
int ist_rules_regex_check(const char *pattern, char *msg, size_t msglen);

/**
 * ist_config_load() with every topic and rule pattern checked by hyperscan;
 * use it wherever a core map with rules is loaded.
 *
 * @return as ist_config_load_checked()
 */
int ist_rules_config_load(const char *path, struct ist_config *cfg, char *err, size_t errlen);

/**
 * Compile a set from a loaded core map.
 *
 * @param cfg       the core map (only read; may be freed afterwards)
 * @param n_readers scratches to make, one per reader id 0..n_readers-1 (>= 1)
 * @param err       out: why not, one line naming file:line, the pattern and
 *                  hyperscan's message, when the result is NULL
 * @return the set, or NULL (bad arguments, a pattern hyperscan refuses, out
 *   of memory).
 */
struct ist_rules_set *ist_rules_set_build(const struct ist_config *cfg, uint32_t n_readers,
					  char *err, size_t errlen);

/** Load the core map @p path with ist_rules_config_load() and build a set from it. */
struct ist_rules_set *ist_rules_set_load(const char *path, uint32_t n_readers, char *err,
					 size_t errlen);

/** Free a set no reader uses any more (NULL is allowed). */
void ist_rules_set_free(struct ist_rules_set *set);

/** The scratch of reader @p reader, or NULL when there is no such reader. */
struct ist_rules_scratch *ist_rules_set_scratch(const struct ist_rules_set *set, uint32_t reader);

/** Number of classes; also the index of the default class. */
uint16_t ist_rules_set_n_classes(const struct ist_rules_set *set);

/** Number of rules. */
uint16_t ist_rules_set_n_rules(const struct ist_rules_set *set);

/** Name of rule @p rule, or NULL. */
const char *ist_rules_set_rule_name(const struct ist_rules_set *set, uint16_t rule);

/**
 * Sum the counters of every reader of @p set. Readers may be running: each
 * counter is read atomically, the sums are a moment's snapshot.
 *
 * @return 0, -EINVAL
 */
int ist_rules_set_stats(const struct ist_rules_set *set, struct ist_rules_stats *st);

/* ---- topics (once per stream, not per record) ---- */

/**
 * Whether flow @p flow replicates @p topic: some include pattern matches the
 * whole name and no exclude pattern does.
 *
 * @return false also for a flow index out of range or a scratch of another set
 */
bool ist_rules_topic_selected(const struct ist_rules_set *set, uint32_t flow, const char *topic,
			      size_t len, struct ist_rules_scratch *s);

/**
 * The class of @p topic: the first class in file order with a pattern that
 * matches the whole name, or ist_rules_set_n_classes() (the default class).
 */
uint16_t ist_rules_topic_class(const struct ist_rules_set *set, const char *topic, size_t len,
			       struct ist_rules_scratch *s);

/**
 * Bind a stream's topic: selection, class and the rules that apply.
 *
 * @return 0; -EINVAL for a flow out of range, a scratch of another set or a
 *   NULL argument; -ENAMETOOLONG for a topic longer than IST_RULES_TOPIC_MAX;
 *   -EIO when hyperscan fails.
 */
int ist_rules_topic_bind(const struct ist_rules_set *set, uint32_t flow, const char *topic,
			 size_t len, struct ist_rules_scratch *s, struct ist_rules_topic *tp);

/* ---- records (HOT) ---- */

/**
 * Evaluate the rules that apply to @p tp on one record. Re-binds @p tp first
 * when it was bound to another set (once per stream after a swap).
 *
 * @param set the set the reader got from ist_rules_holder_get()
 * @param tp  the stream's topic binding (updated when re-bound)
 * @param rec the record
 * @param s   this reader's scratch of @p set
 * @param v   out: the verdict
 * @return 0; -EINVAL for a NULL argument, headers NULL with n_headers > 0 or
 *   a scratch of another set (v is not written); -EIO when hyperscan fails (v
 *   is PASS, counted in scan_errors).
 */
int ist_rules_record_eval(const struct ist_rules_set *set, struct ist_rules_topic *tp,
			  const struct ist_rules_rec *rec, struct ist_rules_scratch *s,
			  struct ist_rules_verdict *v);

/* ---- RCU holder ---- */

/**
 * A holder for the current set, read by @p n_readers readers.
 *
 * @param set the first set (owned by the holder from now on); its n_readers
 *            must be at least @p n_readers
 * @return the holder, or NULL (bad arguments, out of memory; @p set is then
 *   still the caller's)
 */
struct ist_rules_holder *ist_rules_holder_create(struct ist_rules_set *set, uint32_t n_readers);

/** Free the holder and its sets; every reader must have stopped. */
void ist_rules_holder_free(struct ist_rules_holder *h);

/**
 * Register reader @p reader and put it online; from then on every swap waits
 * for it, so it must report quiescent states (or go offline).
 *
 * @locality the reader's thread. @return 0, -EINVAL
 */
int ist_rules_reader_register(struct ist_rules_holder *h, uint32_t reader);

/** Take reader @p reader offline and unregister it. @return 0, -EINVAL */
int ist_rules_reader_unregister(struct ist_rules_holder *h, uint32_t reader);

/** A reader about to sleep (idle back-off): swaps stop waiting for it. */
void ist_rules_reader_offline(struct ist_rules_holder *h, uint32_t reader);

/** A reader back from sleep, before its next ist_rules_holder_get(). */
void ist_rules_reader_online(struct ist_rules_holder *h, uint32_t reader);

/** The current set (NULL only for a NULL holder); call at the start of a burst. HOT. */
const struct ist_rules_set *ist_rules_holder_get(const struct ist_rules_holder *h);

/** Reader @p reader holds nothing from any set; call once per loop. HOT. */
void ist_rules_reader_quiescent(struct ist_rules_holder *h, uint32_t reader);

/**
 * Publish @p set and free the previous one once no reader can use it.
 *
 * The new set must have the same flows and classes (names, patterns, order)
 * as the current one: streams keep their flow and class indices, and topic
 * selection and classes change only with a restart. Rules may differ freely.
 *
 * @param h          the holder
 * @param set        the new set; owned by the holder on 0 and -ETIMEDOUT
 * @param timeout_ms how long to wait for the readers
 * @param retired    out, may be NULL: the old set's final counters (on 0; a
 *                   set kept after -ETIMEDOUT is freed later without them)
 * @param err        out: why not, one line
 * @return 0; -EINVAL (bad arguments, a set with too few readers or other
 *   flows/classes; @p set stays the caller's); -ETIMEDOUT when a reader did
 *   not pass a quiescent state in time (@p set is live, the old set is kept
 *   and freed by a later swap or ist_rules_holder_free(); @p err names the
 *   reader); -EBUSY when the set kept by an earlier timeout is still in use
 *   (nothing changed; @p set stays the caller's).
 */
int ist_rules_holder_swap(struct ist_rules_holder *h, struct ist_rules_set *set,
			  uint32_t timeout_ms, struct ist_rules_stats *retired, char *err,
			  size_t errlen);

/**
 * Reload: ist_rules_set_load(@p path) then ist_rules_holder_swap().
 *
 * @return 0; -EINVAL (the file is refused; the current set stays), or the
 *   errors of ist_rules_holder_swap(); the message is in @p err.
 */
int ist_rules_holder_reload(struct ist_rules_holder *h, const char *path, uint32_t timeout_ms,
			    char *err, size_t errlen);

#endif /* ISTHMUS_RULES_H */
