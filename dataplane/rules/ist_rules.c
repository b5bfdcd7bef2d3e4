/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rules engine: compile a core map's topic and record patterns into hyperscan
 * databases, evaluate them per topic and per record, swap sets with RCU.
 * The contract (order, tags, null fields, counters) is in ist_rules.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_log.h>
#include <rte_rcu_qsbr.h>

#include <hs.h>

#include "ist_rules.h"

RTE_LOG_REGISTER(ist_rules_logtype, isthmus.rules, INFO);
#define RULES_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, ist_rules_logtype, "isthmus: rules: " fmt "\n", ##__VA_ARGS__)

/*
 * Every pattern: report each id once per scan (we only need whether), let
 * '.' match newlines (values are binary and JSON), and accept patterns that
 * match the empty string (".*" is a common topic pattern).
 */
#define HS_FLAGS (HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL | HS_FLAG_ALLOWEMPTY)

#define FIX_HINT                                                                             \
	"fix the expression (hyperscan syntax: PCRE without back-references or lookaround; " \
	"write ';' as \\x3b)"

/*
 * Ids in the topic database. Rule topics come first so that the matched rules
 * are word 0 of the bitmap as they are; the flows' and classes' ids are in
 * word 1.
 */
#define TID_RULE    0
#define TID_INCLUDE IST_RULES_MAX_RULES
#define TID_EXCLUDE (TID_INCLUDE + IST_CFG_MAX_FLOWS)
#define TID_CLASS   (TID_EXCLUDE + IST_CFG_MAX_FLOWS)
#define TID_N       (TID_CLASS + IST_CFG_MAX_CLASSES)
#define TWORDS      2
_Static_assert(TID_N <= 64 * TWORDS, "topic ids must fit the bitmap");
_Static_assert(IST_RULES_MAX_RULES == 64, "one bit per rule in a uint64_t");

/* Most patterns one database can hold. */
#define MAX_PATS \
	(IST_CFG_MAX_PATTERNS * (2 * IST_CFG_MAX_FLOWS + IST_CFG_MAX_CLASSES + IST_CFG_MAX_RULES))

/* A rule as the hot path needs it. */
struct rule_rt {
	uint8_t action; /* enum ist_cfg_action_kind */
	uint16_t topic_len;
	uint16_t tag_name_len;
	uint16_t tag_value_len;
	char name[IST_CFG_NAME_LEN];
	char topic[IST_CFG_TOPIC_LEN];
	char tag_name[IST_CFG_HEADER_LEN];
	char tag_value[IST_CFG_STR_LEN];
};

/* The rules that match the value of one header name. */
struct hdr_group {
	hs_database_t *db;
	uint64_t rules;
	uint16_t name_len;
	char name[IST_CFG_HEADER_LEN];
};

/* Topic selection and classes as written, to refuse a swap that changes them. */
struct set_flow {
	char name[IST_CFG_NAME_LEN];
	uint8_t n_include;
	uint8_t n_exclude;
	char include[IST_CFG_MAX_PATTERNS][IST_CFG_PATTERN_LEN];
	char exclude[IST_CFG_MAX_PATTERNS][IST_CFG_PATTERN_LEN];
};

struct set_class {
	char name[IST_CFG_NAME_LEN];
	uint8_t n_topics;
	char topics[IST_CFG_MAX_PATTERNS][IST_CFG_PATTERN_LEN];
};

/* Immutable once built, but for the scratches (each written by its reader). */
struct ist_rules_set {
	uint64_t gen;
	uint32_t n_readers;
	uint16_t n_flows;
	uint16_t n_classes;
	uint16_t n_rules;
	uint16_t n_groups;
	uint64_t key_rules;    /* rules matching the key */
	uint64_t value_rules;  /* rules matching the value */
	uint64_t header_rules; /* rules matching some header */
	uint64_t decide_rules; /* drop and route rules */
	uint64_t tag_rules;
	uint64_t topic_rules;                         /* rules limited to some topics */
	uint64_t flow_rules[IST_CFG_MAX_FLOWS];       /* rules of flow f or of every flow */
	hs_database_t *topic_db;                      /* NULL: no topic pattern */
	hs_database_t *key_db;                        /* NULL: no key rule */
	hs_database_t *value_db;                      /* NULL: no value rule */
	struct hdr_group groups[IST_RULES_MAX_RULES]; /* one per header name */
	struct rule_rt rules[IST_RULES_MAX_RULES];
	struct set_flow flows[IST_CFG_MAX_FLOWS];
	struct set_class classes[IST_CFG_MAX_CLASSES];
	hs_scratch_t *proto; /* sized for every database above; the readers' are clones */
	struct ist_rules_scratch **scratch; /* [n_readers] */
};

/* One reader's working state for one set. */
struct ist_rules_scratch {
	hs_scratch_t *hs;                /* reader: rw */
	const struct ist_rules_set *set; /* the set it was cloned for; ro */
	uint32_t reader;                 /* ro */
	/* Counters: reader: rw (the only writer), mgmt: ro (atomic loads). */
	uint64_t evaluated;
	uint64_t passed;
	uint64_t dropped;
	uint64_t routed;
	uint64_t tags_added;
	uint64_t tag_overflow;
	uint64_t scan_errors;
	uint64_t hits[IST_RULES_MAX_RULES];
} __rte_cache_aligned;

struct ist_rules_holder {
	struct ist_rules_set *cur;     /* dp: ro (acquire), mgmt: rw (release) */
	struct ist_rules_set *retired; /* mgmt only: the old set a stuck reader may hold */
	uint64_t retired_token;        /* mgmt only: the grace period it waits for */
	uint32_t n_readers;            /* ro */
	struct rte_rcu_qsbr *qs;       /* dp: quiescent reports, mgmt: start/check */
};

/* One counter, one writer: a plain add the summing thread can read whole. */
#define CNT_ADD(c, n) __atomic_store_n(&(c), (c) + (n), __ATOMIC_RELAXED)

static uint64_t set_gen_last; /* the generation of the newest set; 0: unbound */

/* ---- compiling ---- */

struct pat {
	char expr[IST_CFG_REGEX_LEN + 8]; /* as compiled (topics: ^(?:...)$) */
	const char *raw;                  /* as written */
	char where[2 * IST_CFG_NAME_LEN + 24];
	int line;
	unsigned int id;
};

/* Build state; on the heap, it is large. */
struct build {
	const struct ist_config *cfg;
	char *err;
	size_t errlen;
	unsigned int n;
	struct pat pats[MAX_PATS];
	const char *exprs[MAX_PATS];
	unsigned int ids[MAX_PATS];
	unsigned int flags[MAX_PATS];
};

/* "hyperscan: <message>" without hyperscan's final '.'. */
static void hs_message(char *msg, size_t len, const hs_compile_error_t *ce)
{
	const char *m = ce != NULL && ce->message != NULL ? ce->message : "unknown error";
	size_t n = strlen(m);

	if (n > 0 && m[n - 1] == '.')
		n--;
	snprintf(msg, len, "hyperscan: %.*s", (int)n, m);
}

int ist_rules_regex_check(const char *pattern, char *msg, size_t msglen)
{
	hs_compile_error_t *ce = NULL;
	hs_database_t *db = NULL;

	if (pattern == NULL || msg == NULL)
		return -EINVAL;
	if (hs_compile(pattern, HS_FLAGS, HS_MODE_BLOCK, NULL, &db, &ce) == HS_SUCCESS) {
		hs_free_database(db);
		return 0;
	}
	hs_message(msg, msglen, ce);
	hs_free_compile_error(ce);
	return -EINVAL;
}

int ist_rules_config_load(const char *path, struct ist_config *cfg, char *err, size_t errlen)
{
	return ist_config_load_checked(path, cfg, ist_rules_regex_check, err, errlen);
}

static void pattern_fail(const struct build *b, const struct pat *p, const char *msg)
{
	if (p->line > 0)
		snprintf(b->err, b->errlen, "%s:%d: %s'%s' is not a usable pattern: %s; " FIX_HINT,
			 b->cfg->path, p->line, p->where, p->raw, msg);
	else
		snprintf(b->err, b->errlen, "%s: %s'%s' is not a usable pattern: %s; " FIX_HINT,
			 b->cfg->path, p->where, p->raw, msg);
}

/* Queue a pattern for the next compile_db(); @p whole wraps it to match a whole name. */
static int add_pat(struct build *b, const char *raw, bool whole, unsigned int id, int line,
		   const char *where_fmt, const char *name)
{
	struct pat *p = &b->pats[b->n];
	char msg[256];

	RTE_ASSERT(b->n < MAX_PATS);
	p->raw = raw;
	p->id = id;
	p->line = line;
	snprintf(p->where, sizeof(p->where), where_fmt, name);
	if (whole) {
		/* Check it alone first: "a)|(b" compiles once wrapped, and means nonsense. */
		if (ist_rules_regex_check(raw, msg, sizeof(msg)) != 0) {
			pattern_fail(b, p, msg);
			return -EINVAL;
		}
		snprintf(p->expr, sizeof(p->expr), "^(?:%s)$", raw);
	} else {
		snprintf(p->expr, sizeof(p->expr), "%s", raw);
	}
	b->exprs[b->n] = p->expr;
	b->ids[b->n] = id;
	b->flags[b->n] = HS_FLAGS;
	b->n++;
	return 0;
}

/* Compile the queued patterns into *db (NULL when none) and empty the queue. */
static int compile_db(struct build *b, hs_database_t **db)
{
	hs_compile_error_t *ce = NULL;
	char msg[256];
	unsigned int n = b->n;

	b->n = 0;
	*db = NULL;
	if (n == 0)
		return 0;
	if (hs_compile_multi(b->exprs, b->flags, b->ids, n, HS_MODE_BLOCK, NULL, db, &ce) ==
	    HS_SUCCESS)
		return 0;
	hs_message(msg, sizeof(msg), ce);
	if (ce != NULL && ce->expression >= 0 && (unsigned int)ce->expression < n)
		pattern_fail(b, &b->pats[ce->expression], msg);
	else
		snprintf(b->err, b->errlen,
			 "%s: the %u patterns could not be compiled together: %s; use fewer or "
			 "simpler patterns",
			 b->cfg->path, n, msg);
	hs_free_compile_error(ce);
	*db = NULL;
	return -EINVAL;
}

static int build_topic_db(struct build *b, struct ist_rules_set *set)
{
	const struct ist_config *cfg = b->cfg;
	int rc = 0;

	for (unsigned int f = 0; f < cfg->n_flows && rc == 0; f++) {
		const struct ist_cfg_flow *fl = &cfg->flows[f];

		for (unsigned int i = 0; i < fl->n_include && rc == 0; i++)
			rc = add_pat(b, fl->include[i], true, TID_INCLUDE + f, 0,
				     "flow %s.include item ", fl->name);
		for (unsigned int i = 0; i < fl->n_exclude && rc == 0; i++)
			rc = add_pat(b, fl->exclude[i], true, TID_EXCLUDE + f, 0,
				     "flow %s.exclude item ", fl->name);
	}
	for (unsigned int c = 0; c < cfg->n_classes && rc == 0; c++)
		for (unsigned int i = 0; i < cfg->classes[c].n_topics && rc == 0; i++)
			rc = add_pat(b, cfg->classes[c].topics[i], true, TID_CLASS + c, 0,
				     "class %s.topics item ", cfg->classes[c].name);
	for (unsigned int r = 0; r < cfg->n_rules && rc == 0; r++)
		for (unsigned int i = 0; i < cfg->rules[r].n_topics && rc == 0; i++)
			rc = add_pat(b, cfg->rules[r].topics[i], true, TID_RULE + r,
				     cfg->rules[r].line, "rule %s.topics item ",
				     cfg->rules[r].name);
	if (rc != 0) {
		b->n = 0;
		return rc;
	}
	return compile_db(b, &set->topic_db);
}

/* The record databases: key rules, value rules, and one per header name. */
static int build_record_dbs(struct build *b, struct ist_rules_set *set)
{
	const struct ist_config *cfg = b->cfg;
	int rc;

	for (uint32_t field = IST_RULE_MATCH_KEY; field <= IST_RULE_MATCH_VALUE; field++) {
		for (unsigned int r = 0; r < cfg->n_rules; r++) {
			const struct ist_cfg_rule *ru = &cfg->rules[r];

			if (ru->match.field != field)
				continue;
			rc = add_pat(b, ru->pattern, false, r, ru->pattern_line,
				     "rule %s.pattern = ", ru->name);
			if (rc != 0)
				return rc;
		}
		rc = compile_db(b, field == IST_RULE_MATCH_KEY ? &set->key_db : &set->value_db);
		if (rc != 0)
			return rc;
	}
	for (unsigned int r = 0; r < cfg->n_rules; r++) {
		const struct ist_cfg_rule *ru = &cfg->rules[r];
		unsigned int g;

		if (ru->match.field != IST_RULE_MATCH_HEADER)
			continue;
		for (g = 0; g < set->n_groups; g++)
			if (strcmp(set->groups[g].name, ru->match.header) == 0)
				break;
		if (g == set->n_groups) {
			set->n_groups++;
			snprintf(set->groups[g].name, sizeof(set->groups[g].name), "%s",
				 ru->match.header);
			set->groups[g].name_len = strlen(set->groups[g].name);
		}
		set->groups[g].rules |= UINT64_C(1) << r;
	}
	for (unsigned int g = 0; g < set->n_groups; g++) {
		for (unsigned int r = 0; r < cfg->n_rules; r++) {
			if (!(set->groups[g].rules & (UINT64_C(1) << r)))
				continue;
			rc = add_pat(b, cfg->rules[r].pattern, false, r, cfg->rules[r].pattern_line,
				     "rule %s.pattern = ", cfg->rules[r].name);
			if (rc != 0)
				return rc;
		}
		rc = compile_db(b, &set->groups[g].db);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void copy_rules(struct ist_rules_set *set, const struct ist_config *cfg)
{
	set->n_rules = cfg->n_rules;
	for (unsigned int r = 0; r < cfg->n_rules; r++) {
		const struct ist_cfg_rule *ru = &cfg->rules[r];
		struct rule_rt *rt = &set->rules[r];
		uint64_t bit = UINT64_C(1) << r;

		rt->action = ru->action.kind;
		snprintf(rt->name, sizeof(rt->name), "%s", ru->name);
		snprintf(rt->topic, sizeof(rt->topic), "%s", ru->action.topic);
		snprintf(rt->tag_name, sizeof(rt->tag_name), "%s", ru->action.tag_name);
		snprintf(rt->tag_value, sizeof(rt->tag_value), "%s", ru->action.tag_value);
		rt->topic_len = strlen(rt->topic);
		rt->tag_name_len = strlen(rt->tag_name);
		rt->tag_value_len = strlen(rt->tag_value);
		if (ru->match.field == IST_RULE_MATCH_KEY)
			set->key_rules |= bit;
		else if (ru->match.field == IST_RULE_MATCH_VALUE)
			set->value_rules |= bit;
		else
			set->header_rules |= bit;
		if (rt->action == IST_RULE_ACTION_TAG)
			set->tag_rules |= bit;
		else
			set->decide_rules |= bit;
		if (ru->n_topics > 0)
			set->topic_rules |= bit;
		for (unsigned int f = 0; f < cfg->n_flows; f++)
			if (ru->flow < 0 || (unsigned int)ru->flow == f)
				set->flow_rules[f] |= bit;
	}
	set->n_flows = cfg->n_flows;
	for (unsigned int f = 0; f < cfg->n_flows; f++) {
		const struct ist_cfg_flow *fl = &cfg->flows[f];
		struct set_flow *sf = &set->flows[f];

		snprintf(sf->name, sizeof(sf->name), "%s", fl->name);
		sf->n_include = fl->n_include;
		sf->n_exclude = fl->n_exclude;
		memcpy(sf->include, fl->include, sizeof(sf->include));
		memcpy(sf->exclude, fl->exclude, sizeof(sf->exclude));
	}
	set->n_classes = cfg->n_classes;
	for (unsigned int c = 0; c < cfg->n_classes; c++) {
		snprintf(set->classes[c].name, sizeof(set->classes[c].name), "%s",
			 cfg->classes[c].name);
		set->classes[c].n_topics = cfg->classes[c].n_topics;
		memcpy(set->classes[c].topics, cfg->classes[c].topics,
		       sizeof(set->classes[c].topics));
	}
}

/* The prototype scratch covers every database; each reader gets a clone. */
static int make_scratches(struct ist_rules_set *set, char *err, size_t errlen)
{
	hs_database_t *dbs[3 + IST_RULES_MAX_RULES];
	unsigned int n = 0;

	dbs[n++] = set->topic_db;
	dbs[n++] = set->key_db;
	dbs[n++] = set->value_db;
	for (unsigned int g = 0; g < set->n_groups; g++)
		dbs[n++] = set->groups[g].db;
	for (unsigned int i = 0; i < n; i++)
		if (dbs[i] != NULL && hs_alloc_scratch(dbs[i], &set->proto) != HS_SUCCESS) {
			snprintf(err, errlen, "rules: hyperscan could not allocate scratch space");
			return -ENOMEM;
		}
	set->scratch = calloc(set->n_readers, sizeof(*set->scratch));
	if (set->scratch == NULL) {
		snprintf(err, errlen, "rules: out of memory for %u reader scratches",
			 set->n_readers);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < set->n_readers; i++) {
		struct ist_rules_scratch *s = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*s));

		if (s == NULL) {
			snprintf(err, errlen, "rules: out of memory for reader scratch %u", i);
			return -ENOMEM;
		}
		memset(s, 0, sizeof(*s));
		set->scratch[i] = s;
		s->set = set;
		s->reader = i;
		if (set->proto != NULL && hs_clone_scratch(set->proto, &s->hs) != HS_SUCCESS) {
			snprintf(err, errlen, "rules: hyperscan could not clone scratch %u", i);
			return -ENOMEM;
		}
	}
	return 0;
}

void ist_rules_set_free(struct ist_rules_set *set)
{
	if (set == NULL)
		return;
	for (uint32_t i = 0; set->scratch != NULL && i < set->n_readers; i++) {
		if (set->scratch[i] == NULL)
			continue;
		hs_free_scratch(set->scratch[i]->hs);
		free(set->scratch[i]);
	}
	free(set->scratch);
	hs_free_scratch(set->proto);
	hs_free_database(set->topic_db);
	hs_free_database(set->key_db);
	hs_free_database(set->value_db);
	for (unsigned int g = 0; g < set->n_groups; g++)
		hs_free_database(set->groups[g].db);
	free(set);
}

struct ist_rules_set *ist_rules_set_build(const struct ist_config *cfg, uint32_t n_readers,
					  char *err, size_t errlen)
{
	struct ist_rules_set *set;
	struct build *b;
	int rc;

	if (err == NULL || errlen == 0)
		return NULL;
	if (cfg == NULL || n_readers == 0) {
		snprintf(err, errlen,
			 "rules: no core map, or n_readers = 0; give at least 1 reader");
		return NULL;
	}
	if (cfg->n_rules > IST_RULES_MAX_RULES || cfg->n_flows > IST_CFG_MAX_FLOWS ||
	    cfg->n_classes > IST_CFG_MAX_CLASSES) {
		snprintf(err, errlen, "%s: more rules, flows or classes than the engine holds",
			 cfg->path);
		return NULL;
	}
	set = calloc(1, sizeof(*set));
	b = calloc(1, sizeof(*b));
	if (set == NULL || b == NULL) {
		snprintf(err, errlen, "%s: out of memory compiling the rules", cfg->path);
		free(set);
		free(b);
		return NULL;
	}
	b->cfg = cfg;
	b->err = err;
	b->errlen = errlen;
	set->n_readers = n_readers;
	copy_rules(set, cfg);
	rc = build_topic_db(b, set);
	if (rc == 0)
		rc = build_record_dbs(b, set);
	if (rc == 0)
		rc = make_scratches(set, err, errlen);
	free(b);
	if (rc != 0) {
		ist_rules_set_free(set);
		return NULL;
	}
	set->gen = __atomic_add_fetch(&set_gen_last, 1, __ATOMIC_RELAXED);
	return set;
}

struct ist_rules_set *ist_rules_set_load(const char *path, uint32_t n_readers, char *err,
					 size_t errlen)
{
	struct ist_config *cfg;
	struct ist_rules_set *set = NULL;

	if (path == NULL || err == NULL || errlen == 0)
		return NULL;
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (ist_rules_config_load(path, cfg, err, errlen) == 0)
		set = ist_rules_set_build(cfg, n_readers, err, errlen);
	free(cfg);
	return set;
}

struct ist_rules_scratch *ist_rules_set_scratch(const struct ist_rules_set *set, uint32_t reader)
{
	if (set == NULL || reader >= set->n_readers)
		return NULL;
	return set->scratch[reader];
}

uint16_t ist_rules_set_n_classes(const struct ist_rules_set *set)
{
	return set != NULL ? set->n_classes : 0;
}

uint16_t ist_rules_set_n_rules(const struct ist_rules_set *set)
{
	return set != NULL ? set->n_rules : 0;
}

const char *ist_rules_set_rule_name(const struct ist_rules_set *set, uint16_t rule)
{
	if (set == NULL || rule >= set->n_rules)
		return NULL;
	return set->rules[rule].name;
}

int ist_rules_set_stats(const struct ist_rules_set *set, struct ist_rules_stats *st)
{
	if (set == NULL || st == NULL)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->n_rules = set->n_rules;
	for (uint32_t i = 0; i < set->n_readers; i++) {
		const struct ist_rules_scratch *s = set->scratch[i];

		st->evaluated += __atomic_load_n(&s->evaluated, __ATOMIC_RELAXED);
		st->passed += __atomic_load_n(&s->passed, __ATOMIC_RELAXED);
		st->dropped += __atomic_load_n(&s->dropped, __ATOMIC_RELAXED);
		st->routed += __atomic_load_n(&s->routed, __ATOMIC_RELAXED);
		st->tags_added += __atomic_load_n(&s->tags_added, __ATOMIC_RELAXED);
		st->tag_overflow += __atomic_load_n(&s->tag_overflow, __ATOMIC_RELAXED);
		st->scan_errors += __atomic_load_n(&s->scan_errors, __ATOMIC_RELAXED);
		for (unsigned int r = 0; r < set->n_rules; r++)
			st->hits[r] += __atomic_load_n(&s->hits[r], __ATOMIC_RELAXED);
	}
	return 0;
}

/* ---- topics ---- */

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
		    unsigned int flags, void *ctx)
{
	uint64_t *bits = ctx;

	RTE_SET_USED(from);
	RTE_SET_USED(to);
	RTE_SET_USED(flags);
	bits[id / 64] |= UINT64_C(1) << (id % 64);
	return 0; /* go on: other patterns may match too */
}

static bool tbit(const uint64_t *bits, unsigned int id)
{
	return (bits[id / 64] >> (id % 64)) & 1;
}

/* Which topic patterns match the whole @p topic. */
static int topic_scan(const struct ist_rules_set *set, const char *topic, size_t len,
		      struct ist_rules_scratch *s, uint64_t bits[TWORDS])
{
	memset(bits, 0, TWORDS * sizeof(bits[0]));
	if (set->topic_db == NULL)
		return 0;
	if (hs_scan(set->topic_db, topic, len, 0, s->hs, on_match, bits) != HS_SUCCESS)
		return -EIO;
	return 0;
}

static bool topic_args_ok(const struct ist_rules_set *set, const char *topic, size_t len,
			  const struct ist_rules_scratch *s)
{
	return set != NULL && s != NULL && s->set == set && (topic != NULL || len == 0) &&
	       len <= IST_RULES_TOPIC_MAX;
}

static uint16_t class_of(const struct ist_rules_set *set, const uint64_t *bits)
{
	for (uint16_t c = 0; c < set->n_classes; c++)
		if (tbit(bits, TID_CLASS + c))
			return c;
	return set->n_classes;
}

bool ist_rules_topic_selected(const struct ist_rules_set *set, uint32_t flow, const char *topic,
			      size_t len, struct ist_rules_scratch *s)
{
	uint64_t bits[TWORDS];

	if (!topic_args_ok(set, topic, len, s) || flow >= set->n_flows ||
	    topic_scan(set, topic ? topic : "", len, s, bits) != 0)
		return false;
	return tbit(bits, TID_INCLUDE + flow) && !tbit(bits, TID_EXCLUDE + flow);
}

uint16_t ist_rules_topic_class(const struct ist_rules_set *set, const char *topic, size_t len,
			       struct ist_rules_scratch *s)
{
	uint64_t bits[TWORDS];

	if (!topic_args_ok(set, topic, len, s))
		return set != NULL ? set->n_classes : 0;
	if (topic_scan(set, topic ? topic : "", len, s, bits) != 0)
		return set->n_classes;
	return class_of(set, bits);
}

/* Fill @p tp from its name and flow for @p set. */
static int topic_rebind(const struct ist_rules_set *set, struct ist_rules_topic *tp,
			struct ist_rules_scratch *s)
{
	uint64_t bits[TWORDS];
	int rc;

	tp->gen = set->gen;
	tp->selected = false;
	tp->rules = 0;
	tp->class_idx = set->n_classes;
	if (tp->flow >= set->n_flows)
		return -EINVAL;
	rc = topic_scan(set, tp->name, tp->len, s, bits);
	if (rc != 0)
		return rc;
	tp->selected = tbit(bits, TID_INCLUDE + tp->flow) && !tbit(bits, TID_EXCLUDE + tp->flow);
	tp->class_idx = class_of(set, bits);
	/* Rule topics are word 0: a rule applies unless it names topics and none matched. */
	tp->rules = set->flow_rules[tp->flow] & (~set->topic_rules | bits[0]);
	return 0;
}

int ist_rules_topic_bind(const struct ist_rules_set *set, uint32_t flow, const char *topic,
			 size_t len, struct ist_rules_scratch *s, struct ist_rules_topic *tp)
{
	if (tp == NULL || set == NULL || s == NULL || s->set != set || flow >= set->n_flows ||
	    (topic == NULL && len > 0))
		return -EINVAL;
	if (len > IST_RULES_TOPIC_MAX)
		return -ENAMETOOLONG;
	memset(tp, 0, sizeof(*tp));
	if (len > 0)
		memcpy(tp->name, topic, len);
	tp->len = len;
	tp->flow = flow;
	return topic_rebind(set, tp, s);
}

/* ---- records ---- */

static const struct hdr_group *group_find(const struct ist_rules_set *set, const char *name,
					  uint16_t len)
{
	for (unsigned int g = 0; g < set->n_groups; g++)
		if (set->groups[g].name_len == len && memcmp(set->groups[g].name, name, len) == 0)
			return &set->groups[g];
	return NULL;
}

/* HOT */
static inline bool scan_field(const hs_database_t *db, const void *data, uint32_t len,
			      hs_scratch_t *hs, uint64_t *hit)
{
	return hs_scan(db, data, len, 0, hs, on_match, hit) == HS_SUCCESS;
}

/*
 * HOT. One hs_scan per field an applicable rule looks at; rules are bits
 * (bit order = file order), so deciding and tagging cost a few instructions
 * whatever the number of rules.
 * Measured cost: tests/rules/bench_rules.c, release build, gcc 12 -O3
 * -march=native, 2-core KVM Xeon: 1 KB JSON value, 10 rules (6 value, 2 key,
 * 2 header, so 4 scans): ~820 ns per record on a quiet machine, of which
 * the value scan ~650 ns and each other hs_scan ~100 ns (its fixed cost); a
 * topic no rule applies to: ~6-9 ns.
 */
int ist_rules_record_eval(const struct ist_rules_set *set, struct ist_rules_topic *tp,
			  const struct ist_rules_rec *rec, struct ist_rules_scratch *s,
			  struct ist_rules_verdict *v)
{
	uint64_t want, hit = 0, dec, tags;
	bool ok = true;

	if (unlikely(set == NULL || tp == NULL || rec == NULL || s == NULL || v == NULL ||
		     s->set != set || (rec->headers == NULL && rec->n_headers > 0)))
		return -EINVAL;
	if (unlikely(tp->gen != set->gen) && topic_rebind(set, tp, s) == -EIO)
		ok = false;
	v->action = IST_RULES_PASS;
	v->n_tags = 0;
	v->rule = IST_RULES_NO_RULE;
	v->topic = NULL;
	v->topic_len = 0;
	v->matched = 0;
	CNT_ADD(s->evaluated, 1);
	want = tp->rules;
	if ((want & set->key_rules) != 0 && rec->key != NULL)
		ok &= scan_field(set->key_db, rec->key, rec->key_len, s->hs, &hit);
	if ((want & set->value_rules) != 0 && rec->value != NULL)
		ok &= scan_field(set->value_db, rec->value, rec->value_len, s->hs, &hit);
	if ((want & set->header_rules) != 0) {
		for (uint16_t i = 0; i < rec->n_headers; i++) {
			const struct ist_rules_header *h = &rec->headers[i];
			const struct hdr_group *g;

			if (h->value == NULL || h->name == NULL)
				continue;
			g = group_find(set, h->name, h->name_len);
			/* Another header of the same name already matched every rule: skip. */
			if (g == NULL || (want & g->rules & ~hit) == 0)
				continue;
			ok &= scan_field(g->db, h->value, h->value_len, s->hs, &hit);
		}
	}
	if (unlikely(!ok)) {
		CNT_ADD(s->scan_errors, 1);
		CNT_ADD(s->passed, 1);
		return -EIO;
	}
	hit &= want;
	v->matched = hit;
	dec = hit & set->decide_rules;
	if (dec != 0) {
		unsigned int r = __builtin_ctzll(dec);
		const struct rule_rt *rt = &set->rules[r];

		v->rule = r;
		CNT_ADD(s->hits[r], 1);
		if (rt->action == IST_RULE_ACTION_DROP) {
			v->action = IST_RULES_DROP;
			CNT_ADD(s->dropped, 1);
			return 0;
		}
		v->action = IST_RULES_ROUTE;
		v->topic = rt->topic;
		v->topic_len = rt->topic_len;
		CNT_ADD(s->routed, 1);
	} else {
		CNT_ADD(s->passed, 1);
	}
	for (tags = hit & set->tag_rules; tags != 0; tags &= tags - 1) {
		unsigned int r = __builtin_ctzll(tags);
		const struct rule_rt *rt = &set->rules[r];
		struct ist_rules_tag *t;

		if (unlikely(v->n_tags == IST_RULES_MAX_TAGS)) {
			CNT_ADD(s->tag_overflow, 1);
			continue;
		}
		t = &v->tags[v->n_tags++];
		t->name = rt->tag_name;
		t->name_len = rt->tag_name_len;
		t->value = rt->tag_value;
		t->value_len = rt->tag_value_len;
		t->rule = r;
		CNT_ADD(s->hits[r], 1);
		CNT_ADD(s->tags_added, 1);
	}
	return 0;
}

/* ---- RCU holder ---- */

struct ist_rules_holder *ist_rules_holder_create(struct ist_rules_set *set, uint32_t n_readers)
{
	struct ist_rules_holder *h;
	size_t sz;

	if (set == NULL || n_readers == 0 || set->n_readers < n_readers)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	sz = RTE_ALIGN_CEIL(rte_rcu_qsbr_get_memsize(n_readers), RTE_CACHE_LINE_SIZE);
	h->qs = aligned_alloc(RTE_CACHE_LINE_SIZE, sz);
	if (h->qs == NULL || rte_rcu_qsbr_init(h->qs, n_readers) != 0) {
		free(h->qs);
		free(h);
		return NULL;
	}
	h->n_readers = n_readers;
	h->cur = set;
	return h;
}

void ist_rules_holder_free(struct ist_rules_holder *h)
{
	if (h == NULL)
		return;
	ist_rules_set_free(h->cur);
	ist_rules_set_free(h->retired);
	free(h->qs);
	free(h);
}

int ist_rules_reader_register(struct ist_rules_holder *h, uint32_t reader)
{
	if (h == NULL || reader >= h->n_readers || rte_rcu_qsbr_thread_register(h->qs, reader) != 0)
		return -EINVAL;
	rte_rcu_qsbr_thread_online(h->qs, reader);
	return 0;
}

int ist_rules_reader_unregister(struct ist_rules_holder *h, uint32_t reader)
{
	if (h == NULL || reader >= h->n_readers)
		return -EINVAL;
	rte_rcu_qsbr_thread_offline(h->qs, reader);
	return rte_rcu_qsbr_thread_unregister(h->qs, reader) == 0 ? 0 : -EINVAL;
}

void ist_rules_reader_offline(struct ist_rules_holder *h, uint32_t reader)
{
	if (h != NULL && reader < h->n_readers)
		rte_rcu_qsbr_thread_offline(h->qs, reader);
}

void ist_rules_reader_online(struct ist_rules_holder *h, uint32_t reader)
{
	if (h != NULL && reader < h->n_readers)
		rte_rcu_qsbr_thread_online(h->qs, reader);
}

/* HOT */
const struct ist_rules_set *ist_rules_holder_get(const struct ist_rules_holder *h)
{
	if (unlikely(h == NULL))
		return NULL;
	return __atomic_load_n(&h->cur, __ATOMIC_ACQUIRE);
}

/* HOT */
void ist_rules_reader_quiescent(struct ist_rules_holder *h, uint32_t reader)
{
	if (likely(h != NULL && reader < h->n_readers))
		rte_rcu_qsbr_quiescent(h->qs, reader);
}

/* The mgmt thread waits here, so it reads the clock itself (only for the timeout). */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* Wait until every online reader has passed @p token; name a late one in @p err. */
static int wait_readers(struct ist_rules_holder *h, uint64_t token, uint32_t timeout_ms, char *err,
			size_t errlen)
{
	const struct timespec nap = {.tv_nsec = 20000};
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000u;
	int n = 0, len = 0;

	for (;;) {
		if (rte_rcu_qsbr_check(h->qs, token, false) == 1)
			return 0;
		if (mono_ns() >= deadline)
			break;
		nanosleep(&nap, NULL);
	}
	len = snprintf(err, errlen, "rules swap: reader");
	for (uint32_t i = 0; i < h->n_readers && len >= 0 && (size_t)len < errlen; i++) {
		uint64_t c = __atomic_load_n(&h->qs->qsbr_cnt[i].cnt, __ATOMIC_ACQUIRE);

		if (c != __RTE_QSBR_CNT_THR_OFFLINE && c < token)
			len += snprintf(err + len, errlen - len, "%s %u", n++ ? "," : "", i);
	}
	if (len >= 0 && (size_t)len < errlen)
		snprintf(err + len, errlen - len,
			 " passed no quiescent state within %u ms: its lcore is stuck or stopped "
			 "polling while online; make it call ist_rules_reader_quiescent() every "
			 "loop, or ist_rules_reader_offline() before it sleeps",
			 timeout_ms);
	return -ETIMEDOUT;
}

static bool lists_equal(const char (*a)[IST_CFG_PATTERN_LEN], uint8_t na,
			const char (*b)[IST_CFG_PATTERN_LEN], uint8_t nb)
{
	if (na != nb)
		return false;
	for (unsigned int i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

/* Streams keep flow and class indices across a swap: those must not move. */
static int compatible(const struct ist_rules_set *a, const struct ist_rules_set *b, char *err,
		      size_t errlen)
{
	const char *what = NULL, *name = "";

	if (a->n_flows != b->n_flows) {
		what = "the number of [flow] sections";
	} else if (a->n_classes != b->n_classes) {
		what = "the number of [class] sections";
	} else {
		for (unsigned int f = 0; f < a->n_flows && what == NULL; f++) {
			const struct set_flow *x = &a->flows[f], *y = &b->flows[f];

			if (strcmp(x->name, y->name) != 0 ||
			    !lists_equal(x->include, x->n_include, y->include, y->n_include) ||
			    !lists_equal(x->exclude, x->n_exclude, y->exclude, y->n_exclude)) {
				what = "flow";
				name = x->name;
			}
		}
		for (unsigned int c = 0; c < a->n_classes && what == NULL; c++) {
			const struct set_class *x = &a->classes[c], *y = &b->classes[c];

			if (strcmp(x->name, y->name) != 0 ||
			    !lists_equal(x->topics, x->n_topics, y->topics, y->n_topics)) {
				what = "class";
				name = x->name;
			}
		}
	}
	if (what == NULL)
		return 0;
	snprintf(err, errlen,
		 "rules swap: the new core map changes %s%s%s (name, order or topic patterns); "
		 "flows and classes change only with a restart, [rule] sections at run time",
		 what, *name ? " " : "", name);
	return -EINVAL;
}

int ist_rules_holder_swap(struct ist_rules_holder *h, struct ist_rules_set *set,
			  uint32_t timeout_ms, struct ist_rules_stats *retired, char *err,
			  size_t errlen)
{
	struct ist_rules_set *old;
	uint64_t token;
	int rc;

	if (err == NULL || errlen == 0)
		return -EINVAL;
	if (h == NULL || set == NULL || set == h->cur || set == h->retired) {
		snprintf(err, errlen,
			 "rules swap: no holder, no set, or the set is already in use");
		return -EINVAL;
	}
	if (set->n_readers < h->n_readers) {
		snprintf(err, errlen,
			 "rules swap: the new set has %u reader scratches, the holder %u readers; "
			 "build it with n_readers = %u",
			 set->n_readers, h->n_readers, h->n_readers);
		return -EINVAL;
	}
	rc = compatible(h->cur, set, err, errlen);
	if (rc != 0)
		return rc;
	if (h->retired != NULL) {
		rc = wait_readers(h, h->retired_token, timeout_ms, err, errlen);
		if (rc != 0) {
			RULES_LOG(WARNING, "%s (the set of an earlier swap is still in use)", err);
			return -EBUSY;
		}
		ist_rules_set_free(h->retired);
		h->retired = NULL;
	}
	old = h->cur;
	__atomic_store_n(&h->cur, set, __ATOMIC_RELEASE);
	token = rte_rcu_qsbr_start(h->qs);
	rc = wait_readers(h, token, timeout_ms, err, errlen);
	if (rc != 0) {
		h->retired = old;
		h->retired_token = token;
		RULES_LOG(WARNING, "%s; the new rules are live, the old set is kept", err);
		return rc;
	}
	if (retired != NULL)
		ist_rules_set_stats(old, retired);
	ist_rules_set_free(old);
	RULES_LOG(DEBUG, "swapped to rules generation %" PRIu64 " (%u rules)", set->gen,
		  set->n_rules);
	return 0;
}

int ist_rules_holder_reload(struct ist_rules_holder *h, const char *path, uint32_t timeout_ms,
			    char *err, size_t errlen)
{
	struct ist_rules_set *set;
	int rc;

	if (h == NULL || path == NULL || err == NULL || errlen == 0)
		return -EINVAL;
	set = ist_rules_set_load(path, h->n_readers, err, errlen);
	if (set == NULL)
		return -EINVAL;
	rc = ist_rules_holder_swap(h, set, timeout_ms, NULL, err, errlen);
	if (rc == -EINVAL || rc == -EBUSY)
		ist_rules_set_free(set);
	return rc;
}
