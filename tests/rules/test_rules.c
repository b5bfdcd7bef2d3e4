/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the rules engine: topic selection and classes, record rules
 * on key, value and headers (order, tags, nulls, duplicate headers), the
 * hyperscan error messages of a bad pattern, counters, and the RCU swap under
 * two reader threads (run under ASan: a reader touching a freed set fails).
 *
 * Core maps are written to a mkdtemp() directory that the group teardown
 * removes.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "ist_config.h"
#include "conf_fixture.h"
#include "ist_rules.h"

#ifndef EXAMPLES_DIR
#error "EXAMPLES_DIR must name config/examples"
#endif

/* Lines 1-9: appliance, one lcore, two clusters; text appended starts at line 10. */
#define BASE                                                                   \
	"[appliance]\nid = t1\nregion = eu-west\n[lcore 0]\nroles = batcher\n" \
	"[kafka a]\nbootstrap = 10.0.0.1:9092\n[kafka b]\nbootstrap = 10.0.0.2:9092\n"
/* Lines 10-13: one flow replicating every topic. */
#define FLOW_ALL "[flow f]\nsource = a\nsink = b\ninclude = .*\n"

static struct ist_config cfg;
static char err[1024];

static int group_setup(void **state)
{
	(void)state;
	return ist_test_conf_setup("rules");
}

static int group_teardown(void **state)
{
	(void)state;
	return ist_test_conf_teardown();
}

/* Write @p text to a fresh file; its path is left in ist_test_conf_path. */
static const char *write_conf(const char *text)
{
	const char *path = ist_test_conf_write(text);

	assert_non_null(path);
	return path;
}

/* Load @p text with the hyperscan checker and compile it for @p n_readers readers. */
static struct ist_rules_set *build_text(const char *text, uint32_t n_readers)
{
	struct ist_rules_set *set;
	int rc;

	write_conf(text);
	rc = ist_rules_config_load(ist_test_conf_path, &cfg, err, sizeof(err));
	if (rc != 0)
		print_error("load: %d: %s\n", rc, err);
	assert_int_equal(rc, 0);
	set = ist_rules_set_build(&cfg, n_readers, err, sizeof(err));
	if (set == NULL)
		print_error("build: %s\n", err);
	assert_non_null(set);
	return set;
}

static struct ist_rules_header hdr(const char *name, const char *value)
{
	struct ist_rules_header h = {
		.name = name,
		.name_len = strlen(name),
		.value = value,
		.value_len = value != NULL ? strlen(value) : 0,
	};

	return h;
}

/* Evaluate one record; NULL key or value is a null field. */
static void eval(const struct ist_rules_set *set, struct ist_rules_topic *tp, const char *key,
		 const char *value, const struct ist_rules_header *h, uint16_t n_headers,
		 struct ist_rules_verdict *v)
{
	struct ist_rules_rec rec = {
		.key = key,
		.key_len = key != NULL ? strlen(key) : 0,
		.value = value,
		.value_len = value != NULL ? strlen(value) : 0,
		.headers = h,
		.n_headers = n_headers,
	};

	memset(v, 0xa5, sizeof(*v)); /* every field must be written */
	assert_int_equal(ist_rules_record_eval(set, tp, &rec, ist_rules_set_scratch(set, 0), v), 0);
}

static void bind(const struct ist_rules_set *set, uint32_t flow, const char *topic,
		 struct ist_rules_topic *tp)
{
	assert_int_equal(ist_rules_topic_bind(set, flow, topic, strlen(topic),
					      ist_rules_set_scratch(set, 0), tp),
			 0);
}

static bool selected(const struct ist_rules_set *set, uint32_t flow, const char *topic)
{
	return ist_rules_topic_selected(set, flow, topic, strlen(topic),
					ist_rules_set_scratch(set, 0));
}

static uint16_t class_of(const struct ist_rules_set *set, const char *topic)
{
	return ist_rules_topic_class(set, topic, strlen(topic), ist_rules_set_scratch(set, 0));
}

static void assert_tag(const struct ist_rules_tag *t, const char *name, const char *value)
{
	assert_int_equal(t->name_len, strlen(name));
	assert_memory_equal(t->name, name, t->name_len);
	assert_int_equal(t->value_len, strlen(value));
	assert_memory_equal(t->value, value, t->value_len);
}

/* ---- topics ---- */

static void test_topic_selection(void **state)
{
	struct ist_rules_set *set, *other;
	struct ist_rules_topic tp;

	(void)state;
	set = build_text(BASE
			 "[flow dr]\nsource = a\nsink = b\n"
			 "include = orders\\..* payments\nexclude = .*\\.internal orders\\.test\n"
			 "[flow back]\nsource = b\nsink = a\ninclude = .*\nexclude = orders\\..*\n",
			 1);
	/* Included, whole name only. */
	assert_true(selected(set, 0, "orders.eu"));
	assert_true(selected(set, 0, "payments"));
	assert_false(selected(set, 0, "payments-v2"));
	assert_false(selected(set, 0, "old-payments"));
	assert_false(selected(set, 0, "orders"));
	/* Excluded wins over included. */
	assert_false(selected(set, 0, "orders.test"));
	assert_false(selected(set, 0, "orders.eu.internal"));
	assert_true(selected(set, 0, "orders.test2"));
	/* The second flow has its own patterns. */
	assert_true(selected(set, 1, "payments"));
	assert_true(selected(set, 1, "logs"));
	assert_false(selected(set, 1, "orders.eu"));
	/* Out of range, too long, or a scratch of another set: never selected. */
	assert_false(selected(set, 2, "payments"));
	other = build_text(BASE FLOW_ALL, 1);
	assert_false(
		ist_rules_topic_selected(set, 0, "payments", 8, ist_rules_set_scratch(other, 0)));
	assert_int_equal(
		ist_rules_topic_bind(set, 0, "payments", 8, ist_rules_set_scratch(other, 0), &tp),
		-EINVAL);
	assert_int_equal(
		ist_rules_topic_bind(set, 2, "payments", 8, ist_rules_set_scratch(set, 0), &tp),
		-EINVAL);
	{
		char longname[IST_RULES_TOPIC_MAX + 2];

		memset(longname, 'o', sizeof(longname));
		assert_int_equal(ist_rules_topic_bind(set, 1, longname, sizeof(longname),
						      ist_rules_set_scratch(set, 0), &tp),
				 -ENAMETOOLONG);
		assert_true(ist_rules_topic_selected(set, 1, longname, IST_RULES_TOPIC_MAX,
						     ist_rules_set_scratch(set, 0)));
	}
	/* The binding records the same answer. */
	bind(set, 0, "orders.eu", &tp);
	assert_true(tp.selected);
	bind(set, 0, "orders.test", &tp);
	assert_false(tp.selected);
	assert_null(ist_rules_set_scratch(set, 1));
	ist_rules_set_free(other);
	ist_rules_set_free(set);
}

static void test_class_mapping(void **state)
{
	struct ist_rules_set *set;
	struct ist_rules_topic tp;

	(void)state;
	set = build_text(BASE FLOW_ALL "[class critical]\ntopics = payments\n"
				       "[class orders]\ntopics = orders\\..*\n"
				       "[class eu]\ntopics = orders\\.eu .*\\.eu\n",
			 1);
	assert_int_equal(ist_rules_set_n_classes(set), 3);
	assert_int_equal(class_of(set, "payments"), 0);
	/* First class in file order wins: orders.eu is also in [class eu]. */
	assert_int_equal(class_of(set, "orders.eu"), 1);
	assert_int_equal(class_of(set, "billing.eu"), 2);
	/* Whole names only; nothing claims these: the default class, n_classes. */
	assert_int_equal(class_of(set, "payments.eu.x"), 3);
	assert_int_equal(class_of(set, "logs"), 3);
	assert_int_equal(class_of(set, ""), 3);
	bind(set, 0, "billing.eu", &tp);
	assert_int_equal(tp.class_idx, 2);
	ist_rules_set_free(set);

	/* No [class] at all: everything in the default class, index 0. */
	set = build_text(BASE FLOW_ALL, 1);
	assert_int_equal(class_of(set, "payments"), 0);
	ist_rules_set_free(set);
}

/* ---- records ---- */

static void test_drop_route_tag_fields(void **state)
{
	struct ist_rules_set *set;
	struct ist_rules_topic tp;
	struct ist_rules_verdict v;
	struct ist_rules_header hs[2];

	(void)state;
	set = build_text(BASE FLOW_ALL "[rule test-keys]\nmatch = key\npattern = ^test-\n"
				       "action = drop\n"
				       "[rule vip]\nmatch = value\npattern = \"tier\":\"gold\"\n"
				       "action = route:orders.vip\n"
				       "[rule legacy]\nmatch = header:source\npattern = ^legacy$\n"
				       "action = tag:x-legacy=yes\n"
				       "[rule eu]\nmatch = value\npattern = (?i)\"region\":\"eu-\n"
				       "action = tag:x-region=eu=1\n",
			 1);
	assert_int_equal(ist_rules_set_n_rules(set), 4);
	assert_string_equal(ist_rules_set_rule_name(set, 2), "legacy");
	assert_null(ist_rules_set_rule_name(set, 4));
	bind(set, 0, "orders", &tp);
	assert_int_equal(tp.rules, 0xf);

	/* Nothing matches. */
	eval(set, &tp, "k1", "{\"tier\":\"silver\"}", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_PASS);
	assert_int_equal(v.rule, IST_RULES_NO_RULE);
	assert_int_equal(v.n_tags, 0);
	assert_int_equal(v.matched, 0);
	assert_null(v.topic);

	/* Key. */
	eval(set, &tp, "test-42", "{}", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_DROP);
	assert_int_equal(v.rule, 0);
	/* The key pattern is not tried on the value, nor the value's on the key. */
	eval(set, &tp, "k", "test-42", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_PASS);
	eval(set, &tp, "\"tier\":\"gold\"", "{}", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_PASS);

	/* Value: route, anywhere in the value. */
	eval(set, &tp, "k", "{\"id\":1,\"tier\":\"gold\"}", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_ROUTE);
	assert_int_equal(v.rule, 1);
	assert_int_equal(v.topic_len, strlen("orders.vip"));
	assert_memory_equal(v.topic, "orders.vip", v.topic_len);
	assert_int_equal(v.n_tags, 0);

	/* Header: tag; '=' after the first belongs to the value. */
	hs[0] = hdr("trace", "legacy");
	hs[1] = hdr("source", "legacy");
	eval(set, &tp, "k", "{\"region\":\"EU-west\"}", hs, 2, &v);
	assert_int_equal(v.action, IST_RULES_PASS);
	assert_int_equal(v.n_tags, 2);
	assert_tag(&v.tags[0], "x-legacy", "yes");
	assert_int_equal(v.tags[0].rule, 2);
	assert_tag(&v.tags[1], "x-region", "eu=1");
	assert_int_equal(v.matched, 0xc);
	/* The header name must be exact (case included); other headers are not tried. */
	hs[1] = hdr("Source", "legacy");
	eval(set, &tp, "k", "{}", hs, 2, &v);
	assert_int_equal(v.n_tags, 0);

	/* Route and tags together. */
	hs[0] = hdr("source", "legacy");
	eval(set, &tp, "k", "{\"tier\":\"gold\",\"region\":\"eu-1\"}", hs, 1, &v);
	assert_int_equal(v.action, IST_RULES_ROUTE);
	assert_int_equal(v.n_tags, 2);
	ist_rules_set_free(set);
}

static void test_header_duplicates(void **state)
{
	struct ist_rules_set *set;
	struct ist_rules_topic tp;
	struct ist_rules_verdict v;
	struct ist_rules_header hs[4];

	(void)state;
	set = build_text(BASE FLOW_ALL
			 "[rule a]\nmatch = header:h\npattern = ^one$\naction = tag:t=a\n"
			 "[rule b]\nmatch = header:h\npattern = ^two$\naction = tag:t=b\n"
			 "[rule c]\nmatch = header:g\npattern = two\naction = drop\n",
			 1);
	bind(set, 0, "x", &tp);
	/* Any occurrence of a header name counts: the first for a, the third for b. */
	hs[0] = hdr("h", "one");
	hs[1] = hdr("h", "nine");
	hs[2] = hdr("h", "two");
	hs[3] = hdr("g", "one");
	eval(set, &tp, NULL, NULL, hs, 4, &v);
	assert_int_equal(v.action, IST_RULES_PASS);
	assert_int_equal(v.n_tags, 2);
	assert_tag(&v.tags[0], "t", "a");
	assert_tag(&v.tags[1], "t", "b");
	/* Only the last occurrence matches. */
	hs[0] = hdr("h", "zero");
	eval(set, &tp, NULL, NULL, hs, 4, &v);
	assert_int_equal(v.n_tags, 1);
	assert_tag(&v.tags[0], "t", "b");
	/* A null header value never matches; a header 'g' matches its own rule only. */
	hs[0] = hdr("h", NULL);
	hs[1] = hdr("g", "two");
	eval(set, &tp, NULL, NULL, hs, 2, &v);
	assert_int_equal(v.action, IST_RULES_DROP);
	assert_int_equal(v.rule, 2);
	assert_int_equal(v.n_tags, 0);
	ist_rules_set_free(set);
}

static void test_null_fields(void **state)
{
	struct ist_rules_set *set;
	struct ist_rules_topic tp;
	struct ist_rules_verdict v;
	struct ist_rules_header h;

	(void)state;
	/* Each pattern matches the empty string, so it matches every non-null field. */
	set = build_text(BASE FLOW_ALL
			 "[rule k]\nmatch = key\npattern = ^$\naction = tag:k=1\n"
			 "[rule v]\nmatch = value\npattern = .*\naction = tag:v=1\n"
			 "[rule h]\nmatch = header:h\npattern = x*\naction = tag:h=1\n",
			 1);
	bind(set, 0, "x", &tp);
	/* Null key, value and header value: nothing matches. */
	h = hdr("h", NULL);
	eval(set, &tp, NULL, NULL, &h, 1, &v);
	assert_int_equal(v.matched, 0);
	assert_int_equal(v.n_tags, 0);
	/* Empty ones are fields like any other. */
	h = hdr("h", "");
	eval(set, &tp, "", "", &h, 1, &v);
	assert_int_equal(v.matched, 0x7);
	assert_int_equal(v.n_tags, 3);
	/* ^$ on a non-empty key does not match; .* on any value does. */
	eval(set, &tp, "key", "value", NULL, 0, &v);
	assert_int_equal(v.matched, 0x2);
	ist_rules_set_free(set);
}

static void test_rule_order(void **state)
{
	struct ist_rules_set *set;
	struct ist_rules_topic tp;
	struct ist_rules_verdict v;

	(void)state;
	set = build_text(BASE FLOW_ALL
			 "[rule t0]\nmatch = value\npattern = tag\naction = tag:t0=x\n"
			 "[rule r1]\nmatch = value\npattern = alpha\naction = route:to-r1\n"
			 "[rule d2]\nmatch = value\npattern = beta\naction = drop\n"
			 "[rule r3]\nmatch = key\npattern = beta\naction = route:to-r3\n"
			 "[rule t4]\nmatch = value\npattern = tag\naction = tag:t4=y\n",
			 1);
	bind(set, 0, "x", &tp);
	/* alpha and beta: r1 comes first and decides. */
	eval(set, &tp, "k", "beta alpha", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_ROUTE);
	assert_int_equal(v.rule, 1);
	assert_memory_equal(v.topic, "to-r1", v.topic_len);
	assert_int_equal(v.matched, 0x6);
	/* beta in the value and the key: d2 comes before r3. */
	eval(set, &tp, "beta", "beta", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_DROP);
	assert_int_equal(v.rule, 2);
	/* Only the key: r3. */
	eval(set, &tp, "beta", "gamma", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_ROUTE);
	assert_int_equal(v.rule, 3);
	/* Tags before and after the deciding rule both apply, in file order... */
	eval(set, &tp, "k", "alpha tag", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_ROUTE);
	assert_int_equal(v.n_tags, 2);
	assert_tag(&v.tags[0], "t0", "x");
	assert_tag(&v.tags[1], "t4", "y");
	/* ...unless the record is dropped. */
	eval(set, &tp, "k", "beta tag", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_DROP);
	assert_int_equal(v.n_tags, 0);
	assert_int_equal(v.matched, 0x15);
	/* Tags alone: pass. */
	eval(set, &tp, "k", "tag", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_PASS);
	assert_int_equal(v.n_tags, 2);
	ist_rules_set_free(set);
}

static void test_rule_scope(void **state)
{
	struct ist_rules_set *set;
	struct ist_rules_topic tp;
	struct ist_rules_verdict v;

	(void)state;
	set = build_text(BASE "[flow one]\nsource = a\nsink = b\ninclude = .*\n"
			      "[flow two]\nsource = b\nsink = a\ninclude = .*\n"
			      "[rule every]\nmatch = value\npattern = x\naction = tag:every=1\n"
			      "[rule two-only]\nflow = two\nmatch = value\npattern = x\n"
			      "action = tag:two=1\n"
			      "[rule orders-only]\ntopics = orders\\..* audit\nmatch = value\n"
			      "pattern = x\naction = drop\n",
			 1);
	bind(set, 0, "logs", &tp);
	assert_int_equal(tp.rules, 0x1);
	bind(set, 1, "logs", &tp);
	assert_int_equal(tp.rules, 0x3);
	bind(set, 1, "orders.eu", &tp);
	assert_int_equal(tp.rules, 0x7);
	bind(set, 0, "audit", &tp);
	assert_int_equal(tp.rules, 0x5);
	/* Whole topic names: "audit-log" is not "audit". */
	bind(set, 0, "audit-log", &tp);
	assert_int_equal(tp.rules, 0x1);
	eval(set, &tp, NULL, "x", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_PASS);
	assert_int_equal(v.n_tags, 1);
	bind(set, 0, "audit", &tp);
	eval(set, &tp, NULL, "x", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_DROP);
	ist_rules_set_free(set);

	/* A topic no rule applies to: no scan, pass. */
	set = build_text(BASE FLOW_ALL "[rule r]\ntopics = a\nmatch = value\npattern = x\n"
				       "action = drop\n",
			 1);
	bind(set, 0, "b", &tp);
	assert_int_equal(tp.rules, 0);
	eval(set, &tp, NULL, "x", NULL, 0, &v);
	assert_int_equal(v.action, IST_RULES_PASS);
	assert_int_equal(v.matched, 0);
	ist_rules_set_free(set);
}

static void test_tag_overflow(void **state)
{
	char text[4096];
	size_t o;
	struct ist_rules_set *set;
	struct ist_rules_topic tp;
	struct ist_rules_verdict v;
	struct ist_rules_stats st;

	(void)state;
	o = (size_t)snprintf(text, sizeof(text), "%s", BASE FLOW_ALL);
	for (int i = 0; i < IST_RULES_MAX_TAGS + 2; i++)
		o += (size_t)snprintf(
			text + o, sizeof(text) - o,
			"[rule t%d]\nmatch = value\npattern = v\naction = tag:t%d=%d\n", i, i, i);
	set = build_text(text, 1);
	bind(set, 0, "x", &tp);
	eval(set, &tp, NULL, "v", NULL, 0, &v);
	assert_int_equal(v.n_tags, IST_RULES_MAX_TAGS);
	assert_tag(&v.tags[IST_RULES_MAX_TAGS - 1], "t7", "7");
	assert_int_equal(ist_rules_set_stats(set, &st), 0);
	assert_int_equal(st.tags_added, IST_RULES_MAX_TAGS);
	assert_int_equal(st.tag_overflow, 2);
	assert_int_equal(st.hits[7], 1);
	assert_int_equal(st.hits[8], 0);
	ist_rules_set_free(set);
}

static void test_counters(void **state)
{
	struct ist_rules_set *set;
	struct ist_rules_topic tp[2];
	struct ist_rules_verdict v;
	struct ist_rules_stats st;
	uint64_t sum;
	struct ist_rules_rec rec = {0};
	static const char *const values[] = {"drop me", "route me", "tag me",
					     "plain",   "tag drop", "route tag"};

	(void)state;
	set = build_text(BASE FLOW_ALL
			 "[rule d]\nmatch = value\npattern = drop\naction = drop\n"
			 "[rule r]\nmatch = value\npattern = route\naction = route:t2\n"
			 "[rule t]\nmatch = value\npattern = tag\naction = tag:a=b\n",
			 2);
	for (uint32_t reader = 0; reader < 2; reader++)
		assert_int_equal(ist_rules_topic_bind(set, 0, "x", 1,
						      ist_rules_set_scratch(set, reader),
						      &tp[reader]),
				 0);
	/* Reader 0 evaluates each value 3 times, reader 1 once. */
	for (uint32_t reader = 0; reader < 2; reader++)
		for (int round = 0; round < (reader == 0 ? 3 : 1); round++)
			for (unsigned int i = 0; i < 6; i++) {
				rec.value = values[i];
				rec.value_len = strlen(values[i]);
				assert_int_equal(ist_rules_record_eval(
							 set, &tp[reader], &rec,
							 ist_rules_set_scratch(set, reader), &v),
						 0);
			}
	/* No scratch: refused, nothing counted. */
	assert_int_equal(ist_rules_record_eval(set, &tp[0], &rec, NULL, &v), -EINVAL);
	assert_int_equal(ist_rules_set_stats(set, &st), 0);
	assert_int_equal(st.n_rules, 3);
	assert_int_equal(st.evaluated, 24);
	assert_int_equal(st.dropped, 8);    /* "drop me", "tag drop" */
	assert_int_equal(st.routed, 8);     /* "route me", "route tag" */
	assert_int_equal(st.passed, 8);     /* "tag me", "plain" */
	assert_int_equal(st.tags_added, 8); /* "tag me", "route tag" */
	assert_int_equal(st.hits[0], 8);
	assert_int_equal(st.hits[1], 8);
	assert_int_equal(st.hits[2], 8);
	assert_int_equal(st.scan_errors, 0);
	assert_int_equal(st.tag_overflow, 0);
	sum = st.passed + st.dropped + st.routed;
	assert_int_equal(sum, st.evaluated);
	assert_int_equal(ist_rules_set_stats(NULL, &st), -EINVAL);
	ist_rules_set_free(set);
}

/* ---- errors ---- */

/* Expect @p text to be refused at load, with these substrings in the one-line message. */
static void check_load_fails(const char *file, int line, const char *text, ...)
{
	const char *needle;
	va_list ap;
	int rc;

	write_conf(text);
	rc = ist_rules_config_load(ist_test_conf_path, &cfg, err, sizeof(err));
	if (rc != -EINVAL || strncmp(err, ist_test_conf_path, strlen(ist_test_conf_path)) != 0 ||
	    strchr(err, '\n') != NULL) {
		print_error("expected -EINVAL and one line starting with the path, got %d: '%s'\n",
			    rc, err);
		_fail(file, line);
	}
	va_start(ap, text);
	while ((needle = va_arg(ap, const char *)) != NULL)
		if (strstr(err, needle) == NULL) {
			va_end(ap);
			print_error("message lacks '%s': '%s'\n", needle, err);
			_fail(file, line);
		}
	va_end(ap);
}

#define assert_load_fails(text, ...) \
	check_load_fails(__FILE__, __LINE__, (text), __VA_ARGS__, (const char *)NULL)

static void test_bad_regex(void **state)
{
	char path[PATH_MAX];
	struct ist_rules_set *set;

	(void)state;
	/* A rule pattern: file:line, the pattern, hyperscan's words, the fix. */
	assert_load_fails(BASE FLOW_ALL "[rule r]\nmatch = value\npattern = \"id\":(\\d+\n"
					"action = drop\n",
			  ":16: ", "rule r.pattern = '\"id\":(\\d+'", "is not a usable pattern",
			  "hyperscan: Missing close parenthesis for group started at index 5",
			  "fix the expression", "hyperscan syntax");
	assert_load_fails(BASE FLOW_ALL "[rule r]\nmatch = key\npattern = (a)\\1\naction = drop\n",
			  ":16: ", "'(a)\\1'", "hyperscan: Back-references are unsupported",
			  "without back-references");
	assert_load_fails(BASE FLOW_ALL "[rule r]\nmatch = key\npattern = (?<=x)y\n"
					"action = drop\n",
			  ":16: ", "hyperscan: Zero-width assertions are not supported");
	/* Topic patterns of flows, classes and rules go through the same check. */
	assert_load_fails(BASE "[flow f]\nsource = a\nsink = b\ninclude = ok [bad\n",
			  ":13: ", "flow f.include item '[bad'", "hyperscan: ");
	assert_load_fails(BASE FLOW_ALL "[class c]\ntopics = +a\n",
			  ":15: ", "class c.topics item '+a'",
			  "hyperscan: Invalid repeat at index 0");
	assert_load_fails(BASE FLOW_ALL "[rule r]\ntopics = (x\nmatch = key\npattern = a\n"
					"action = drop\n",
			  ":15: ", "rule r.topics item '(x'", "hyperscan: Missing close");

	/* Loaded without the checker, the set build refuses it with the same message. */
	write_conf(BASE FLOW_ALL "[rule r]\nmatch = value\n\npattern = a(b\naction = drop\n");
	assert_int_equal(ist_config_load(ist_test_conf_path, &cfg, err, sizeof(err)), 0);
	assert_null(ist_rules_set_build(&cfg, 1, err, sizeof(err)));
	snprintf(path, sizeof(path),
		 "%s:17: rule r.pattern = 'a(b' is not a usable pattern: "
		 "hyperscan: Missing close parenthesis",
		 ist_test_conf_path);
	if (strncmp(err, path, strlen(path)) != 0) {
		print_error("got '%s'\n", err);
		fail();
	}
	/* A topic pattern that would compile once wrapped in ^(?:...)$ is refused alone. */
	write_conf(BASE "[flow f]\nsource = a\nsink = b\ninclude = a)|(b\n");
	assert_int_equal(ist_config_load(ist_test_conf_path, &cfg, err, sizeof(err)), 0);
	assert_null(ist_rules_set_build(&cfg, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "flow f.include item 'a)|(b' is not a usable pattern"));
	/* ist_rules_set_load reports load errors as they are. */
	assert_null(ist_rules_set_load(ist_test_conf_path, 1, err, sizeof(err)));
	assert_non_null(strstr(err, ":13: flow f.include item 'a)|(b'"));
	/* Bad arguments. */
	assert_null(ist_rules_set_build(&cfg, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "n_readers"));
	set = ist_rules_set_build(NULL, 1, err, sizeof(err));
	assert_null(set);
}

static void test_regex_check(void **state)
{
	char msg[128];

	(void)state;
	assert_int_equal(ist_rules_regex_check("^orders\\..*$", msg, sizeof(msg)), 0);
	assert_int_equal(ist_rules_regex_check(".*", msg, sizeof(msg)), 0);
	assert_int_equal(ist_rules_regex_check("\\x3b", msg, sizeof(msg)), 0);
	assert_int_equal(ist_rules_regex_check("a(", msg, sizeof(msg)), -EINVAL);
	/* One line, hyperscan's words, no final '.'. */
	assert_string_equal(msg,
			    "hyperscan: Missing close parenthesis for group started at index 1");
}

/* Every example core map passes hyperscan's check and compiles. */
static void test_examples_compile(void **state)
{
	DIR *d = opendir(EXAMPLES_DIR);
	struct dirent *de;
	unsigned int n = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char path[PATH_MAX];
		struct ist_rules_set *set;

		if (len < 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", EXAMPLES_DIR, de->d_name);
		set = ist_rules_set_load(path, 2, err, sizeof(err));
		if (set == NULL)
			print_error("%s\n", err);
		assert_non_null(set);
		if (strcmp(de->d_name, "demo-region-a.conf") == 0) {
			struct ist_rules_topic tp;

			/* orders and payments replicated, payments critical, orders bulk. */
			assert_true(ist_rules_topic_selected(set, 0, "orders", 6,
							     ist_rules_set_scratch(set, 1)));
			assert_false(ist_rules_topic_selected(set, 0, "audit", 5,
							      ist_rules_set_scratch(set, 1)));
			assert_int_equal(ist_rules_topic_class(set, "payments", 8,
							       ist_rules_set_scratch(set, 1)),
					 0);
			assert_int_equal(ist_rules_topic_bind(set, 0, "orders", 6,
							      ist_rules_set_scratch(set, 1), &tp),
					 0);
			assert_int_equal(tp.class_idx, 1);
			assert_int_equal(tp.rules, 1);
		}
		ist_rules_set_free(set);
		n++;
	}
	closedir(d);
	assert_true(n >= 3);
}

/* ---- RCU ---- */

#define SWAP_READERS 2
#define SWAPS        100

/* Set A drops "x" with rule a-drop; set B routes it with b-route and tags it. */
#define SET_A BASE FLOW_ALL "[rule a-drop]\nmatch = value\npattern = x\naction = drop\n"
#define SET_B                                                                          \
	BASE FLOW_ALL "[rule b-tag]\nmatch = key\npattern = k\naction = tag:x-set=b\n" \
		      "[rule b-route]\nmatch = value\npattern = x\naction = route:orders-b\n"

static char path_a[PATH_MAX], path_b[PATH_MAX];
static bool swap_stop;

struct reader_arg {
	struct ist_rules_holder *h;
	uint32_t id;
	uint64_t evaluated;
	uint64_t seen_a, seen_b; /* bursts */
	uint64_t bad;            /* verdicts from neither set, or mixed in one burst */
};

/* 0: set A's verdict, 1: set B's, -1: neither. */
static int verdict_kind(const struct ist_rules_set *set, const struct ist_rules_verdict *v)
{
	const char *name = ist_rules_set_rule_name(set, v->rule);

	if (name == NULL)
		return -1;
	if (v->action == IST_RULES_DROP && strcmp(name, "a-drop") == 0 && v->n_tags == 0 &&
	    ist_rules_set_n_rules(set) == 1)
		return 0;
	if (v->action == IST_RULES_ROUTE && strcmp(name, "b-route") == 0 && v->n_tags == 1 &&
	    v->topic_len == 8 && memcmp(v->topic, "orders-b", 8) == 0 &&
	    v->tags[0].value_len == 1 && v->tags[0].value[0] == 'b' &&
	    ist_rules_set_n_rules(set) == 2)
		return 1;
	return -1;
}

static void *reader_main(void *arg)
{
	struct reader_arg *ra = arg;
	struct ist_rules_topic tp;
	struct ist_rules_verdict v;
	struct ist_rules_rec rec = {.key = "k", .key_len = 1, .value = "xyz", .value_len = 3};
	bool bound = false;

	if (ist_rules_reader_register(ra->h, ra->id) != 0) {
		ra->bad++;
		return NULL;
	}
	while (!__atomic_load_n(&swap_stop, __ATOMIC_ACQUIRE)) {
		const struct ist_rules_set *set = ist_rules_holder_get(ra->h);
		struct ist_rules_scratch *s = ist_rules_set_scratch(set, ra->id);
		int kind = -2;

		if (!bound) {
			bound = ist_rules_topic_bind(set, 0, "orders", 6, s, &tp) == 0;
			ra->bad += !bound;
		}
		/* A burst: every verdict from the one set the reader got. */
		for (int i = 0; i < 16; i++) {
			int k;

			if (ist_rules_record_eval(set, &tp, &rec, s, &v) != 0) {
				ra->bad++;
				continue;
			}
			ra->evaluated++;
			k = verdict_kind(set, &v);
			if (k < 0 || (kind != -2 && k != kind))
				ra->bad++;
			kind = k;
		}
		ra->seen_a += kind == 0;
		ra->seen_b += kind == 1;
		ist_rules_reader_quiescent(ra->h, ra->id);
	}
	ist_rules_reader_unregister(ra->h, ra->id);
	return NULL;
}

static void test_swap_under_readers(void **state)
{
	struct reader_arg ra[SWAP_READERS];
	pthread_t th[SWAP_READERS];
	struct ist_rules_holder *h;
	struct ist_rules_stats st;
	uint64_t evaluated = 0, dropped = 0, routed = 0, hits_drop = 0, hits_route = 0;
	const struct timespec nap = {.tv_nsec = 200000};

	(void)state;
	snprintf(path_a, sizeof(path_a), "%s", write_conf(SET_A));
	snprintf(path_b, sizeof(path_b), "%s", write_conf(SET_B));
	h = ist_rules_holder_create(ist_rules_set_load(path_a, SWAP_READERS, err, sizeof(err)),
				    SWAP_READERS);
	assert_non_null(h);
	__atomic_store_n(&swap_stop, false, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i < SWAP_READERS; i++) {
		ra[i] = (struct reader_arg){.h = h, .id = i};
		assert_int_equal(pthread_create(&th[i], NULL, reader_main, &ra[i]), 0);
	}
	for (int i = 0; i < SWAPS; i++) {
		/* A fresh set every time: the one swapped out is freed while readers run. */
		struct ist_rules_set *set =
			ist_rules_set_load(i % 2 ? path_a : path_b, SWAP_READERS, err, sizeof(err));
		int rc;

		assert_non_null(set);
		rc = ist_rules_holder_swap(h, set, 10000, &st, err, sizeof(err));
		if (rc != 0)
			print_error("swap %d: %d: %s\n", i, rc, err);
		assert_int_equal(rc, 0);
		evaluated += st.evaluated;
		dropped += st.dropped;
		routed += st.routed;
		if (i % 2 == 0) { /* the old set was A */
			hits_drop += st.hits[0];
		} else {
			hits_route += st.hits[1];
			assert_int_equal(st.hits[0], st.tags_added);
		}
		nanosleep(&nap, NULL);
	}
	__atomic_store_n(&swap_stop, true, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i < SWAP_READERS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	/* And the counters of the set still current. */
	assert_int_equal(ist_rules_set_stats(ist_rules_holder_get(h), &st), 0);
	evaluated += st.evaluated;
	dropped += st.dropped;
	routed += st.routed;
	if (st.n_rules == 1)
		hits_drop += st.hits[0];
	else
		hits_route += st.hits[1];
	for (uint32_t i = 0; i < SWAP_READERS; i++) {
		assert_int_equal(ra[i].bad, 0);
		assert_true(ra[i].evaluated > 0);
		/* Each reader met both sets, so it ran across swaps. */
		assert_true(ra[i].seen_a > 0);
		assert_true(ra[i].seen_b > 0);
	}
	/* Every evaluation is counted once, in the set that made it. */
	assert_int_equal(evaluated, ra[0].evaluated + ra[1].evaluated);
	assert_int_equal(dropped + routed, evaluated);
	assert_int_equal(hits_drop, dropped);
	assert_int_equal(hits_route, routed);
	ist_rules_holder_free(h);
}

static void test_swap_stuck_reader(void **state)
{
	struct ist_rules_holder *h;
	struct ist_rules_set *a, *b, *c;

	(void)state;
	a = build_text(SET_A, 2);
	b = build_text(SET_B, 2);
	c = build_text(SET_A, 2);
	h = ist_rules_holder_create(a, 2);
	assert_non_null(h);
	/* Reader 1 goes online and never reports a quiescent state. */
	assert_int_equal(ist_rules_reader_register(h, 1), 0);
	assert_int_equal(ist_rules_reader_register(h, 2), -EINVAL);
	assert_int_equal(ist_rules_holder_swap(h, b, 30, NULL, err, sizeof(err)), -ETIMEDOUT);
	assert_non_null(strstr(err, "reader 1 passed no quiescent state within 30 ms"));
	assert_non_null(strstr(err, "ist_rules_reader_quiescent()"));
	/* The new set is live; the old one waits. */
	assert_ptr_equal(ist_rules_holder_get(h), b);
	/* While reader 1 may still hold set a, no further swap. */
	assert_int_equal(ist_rules_holder_swap(h, c, 10, NULL, err, sizeof(err)), -EBUSY);
	assert_ptr_equal(ist_rules_holder_get(h), b);
	/* Once it reports, set a is freed and c published (and b kept: it is still stuck). */
	ist_rules_reader_quiescent(h, 1);
	assert_int_equal(ist_rules_holder_swap(h, c, 10, NULL, err, sizeof(err)), -ETIMEDOUT);
	assert_ptr_equal(ist_rules_holder_get(h), c);
	/* An offline reader is not waited for: b and c are freed. */
	ist_rules_reader_offline(h, 1);
	assert_int_equal(
		ist_rules_holder_swap(h, build_text(SET_A, 2), 1000, NULL, err, sizeof(err)), 0);
	ist_rules_reader_online(h, 1);
	ist_rules_reader_quiescent(h, 1);
	assert_int_equal(ist_rules_reader_unregister(h, 1), 0);
	ist_rules_holder_free(h);
}

static void test_swap_refused(void **state)
{
	struct ist_rules_holder *h;
	struct ist_rules_set *set;
	struct ist_rules_stats st;

	(void)state;
	h = ist_rules_holder_create(build_text(SET_A, 2), 2);
	assert_non_null(h);
	/* Fewer scratches than readers. */
	set = build_text(SET_B, 1);
	assert_int_equal(ist_rules_holder_swap(h, set, 100, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "build it with n_readers = 2"));
	ist_rules_set_free(set);
	/* Other topic selection or classes. */
	set = build_text(BASE "[flow f]\nsource = a\nsink = b\ninclude = orders\n", 2);
	assert_int_equal(ist_rules_holder_swap(h, set, 100, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "changes flow f"));
	assert_non_null(strstr(err, "only with a restart"));
	ist_rules_set_free(set);
	set = build_text(BASE FLOW_ALL "[class c]\ntopics = .*\n", 2);
	assert_int_equal(ist_rules_holder_swap(h, set, 100, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "the number of [class] sections"));
	ist_rules_set_free(set);
	/* The current set again. */
	assert_int_equal(ist_rules_holder_swap(h, (struct ist_rules_set *)ist_rules_holder_get(h),
					       100, NULL, err, sizeof(err)),
			 -EINVAL);
	/* Rules may change freely, and the old set's counters come back. */
	set = build_text(SET_B, 2);
	assert_int_equal(ist_rules_holder_swap(h, set, 100, &st, err, sizeof(err)), 0);
	assert_int_equal(st.n_rules, 1);
	/* A holder for more readers than the set has scratches. */
	set = build_text(SET_A, 1);
	assert_null(ist_rules_holder_create(set, 2));
	ist_rules_set_free(set);
	ist_rules_holder_free(h);
}

static void test_reload(void **state)
{
	struct ist_rules_holder *h;
	const struct ist_rules_set *set;
	struct ist_rules_topic tp;
	struct ist_rules_verdict v;
	struct ist_rules_rec rec = {.value = "x", .value_len = 1};

	(void)state;
	snprintf(path_a, sizeof(path_a), "%s", write_conf(SET_A));
	h = ist_rules_holder_create(ist_rules_set_load(path_a, 1, err, sizeof(err)), 1);
	assert_non_null(h);
	set = ist_rules_holder_get(h);
	assert_int_equal(ist_rules_topic_bind(set, 0, "t", 1, ist_rules_set_scratch(set, 0), &tp),
			 0);
	assert_int_equal(ist_rules_record_eval(set, &tp, &rec, ist_rules_set_scratch(set, 0), &v),
			 0);
	assert_int_equal(v.action, IST_RULES_DROP);
	/* The file changes: the stream's binding follows on its next record. */
	assert_int_equal(ist_rules_holder_reload(h, write_conf(SET_B), 1000, err, sizeof(err)), 0);
	set = ist_rules_holder_get(h);
	assert_int_equal(ist_rules_record_eval(set, &tp, &rec, ist_rules_set_scratch(set, 0), &v),
			 0);
	assert_int_equal(v.action, IST_RULES_ROUTE);
	assert_int_equal(tp.rules, 0x3);
	/* A bad file leaves the rules as they are. */
	assert_int_equal(
		ist_rules_holder_reload(h,
					write_conf(BASE FLOW_ALL "[rule r]\nmatch = value\n"
								 "pattern = (\naction = drop\n"),
					1000, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, ":16: rule r.pattern = '('"));
	assert_ptr_equal(ist_rules_holder_get(h), set);
	assert_int_equal(
		ist_rules_holder_reload(h, "/nonexistent/isthmus.conf", 1000, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "cannot read the core map"));
	ist_rules_holder_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topic_selection),
		cmocka_unit_test(test_class_mapping),
		cmocka_unit_test(test_drop_route_tag_fields),
		cmocka_unit_test(test_header_duplicates),
		cmocka_unit_test(test_null_fields),
		cmocka_unit_test(test_rule_order),
		cmocka_unit_test(test_rule_scope),
		cmocka_unit_test(test_tag_overflow),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_bad_regex),
		cmocka_unit_test(test_regex_check),
		cmocka_unit_test(test_examples_compile),
		cmocka_unit_test(test_swap_under_readers),
		cmocka_unit_test(test_swap_stuck_reader),
		cmocka_unit_test(test_swap_refused),
		cmocka_unit_test(test_reload),
	};

	return cmocka_run_group_tests_name("rules", tests, group_setup, group_teardown);
}
