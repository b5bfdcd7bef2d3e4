/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_rules: cost of ist_rules_record_eval() per record, for 1 KB JSON
 * values and 10 rules (6 on the value, 2 on the key, 2 on headers), on one
 * thread. Not a test: the numbers depend on the machine and the build (an
 * ASan build is several times slower; measure a release build).
 *
 *   bench_rules [records]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ist_config.h"
#include "ist_rules.h"

#define N_RECS    1024 /* distinct records, cycled */
#define VALUE_LEN 1024

struct bench_rec {
	char key[48];
	char value[VALUE_LEN + 1];
	char trace[64];
	struct ist_rules_header headers[3];
	struct ist_rules_rec rec;
};

static struct ist_config cfg;
static struct bench_rec recs[N_RECS];

static void add_rule(const char *name, uint32_t field, const char *header, const char *pattern,
		     uint32_t kind, const char *arg1, const char *arg2)
{
	struct ist_cfg_rule *ru = &cfg.rules[cfg.n_rules++];

	snprintf(ru->name, sizeof(ru->name), "%s", name);
	ru->flow = -1;
	ru->match.field = field;
	snprintf(ru->match.header, sizeof(ru->match.header), "%s", header ? header : "");
	snprintf(ru->pattern, sizeof(ru->pattern), "%s", pattern);
	ru->action.kind = kind;
	if (kind == IST_RULE_ACTION_ROUTE)
		snprintf(ru->action.topic, sizeof(ru->action.topic), "%s", arg1);
	if (kind == IST_RULE_ACTION_TAG) {
		snprintf(ru->action.tag_name, sizeof(ru->action.tag_name), "%s", arg1);
		snprintf(ru->action.tag_value, sizeof(ru->action.tag_value), "%s", arg2);
	}
}

static void make_config(void)
{
	snprintf(cfg.path, sizeof(cfg.path), "bench_rules");
	cfg.n_flows = 1;
	snprintf(cfg.flows[0].name, sizeof(cfg.flows[0].name), "f");
	cfg.flows[0].n_include = 1;
	snprintf(cfg.flows[0].include[0], sizeof(cfg.flows[0].include[0]), ".*");
	add_rule("debug", IST_RULE_MATCH_VALUE, NULL, "\"type\":\"debug\"", IST_RULE_ACTION_DROP,
		 NULL, NULL);
	add_rule("priority", IST_RULE_MATCH_VALUE, NULL, "\"priority\":\"high\"",
		 IST_RULE_ACTION_ROUTE, "orders.priority", NULL);
	add_rule("region", IST_RULE_MATCH_VALUE, NULL, "\"region\":\"(eu|us|ap)-[a-z]+-[0-9]\"",
		 IST_RULE_ACTION_TAG, "x-region", "known");
	add_rule("negative", IST_RULE_MATCH_VALUE, NULL, "\"amount\":-[0-9]", IST_RULE_ACTION_DROP,
		 NULL, NULL);
	add_rule("test-user", IST_RULE_MATCH_VALUE, NULL, "(?i)\"email\":\"[^\"]+@example\\.com\"",
		 IST_RULE_ACTION_TAG, "x-test-user", "1");
	add_rule("reversal", IST_RULE_MATCH_VALUE, NULL, "\"status\":\"(cancelled|refunded)\"",
		 IST_RULE_ACTION_TAG, "x-reversal", "1");
	add_rule("test-key", IST_RULE_MATCH_KEY, NULL, "^test-", IST_RULE_ACTION_DROP, NULL, NULL);
	add_rule("uuid-key", IST_RULE_MATCH_KEY, NULL, "^[0-9a-f]{8}-[0-9a-f]{4}-",
		 IST_RULE_ACTION_TAG, "x-uuid-key", "1");
	add_rule("legacy", IST_RULE_MATCH_HEADER, "source", "^legacy$", IST_RULE_ACTION_DROP, NULL,
		 NULL);
	add_rule("traced", IST_RULE_MATCH_HEADER, "traceparent", "^00-[0-9a-f]{32}-",
		 IST_RULE_ACTION_TAG, "x-traced", "1");
}

/* Orders-like JSON padded to exactly VALUE_LEN bytes; a few records hit each rule. */
static void make_records(void)
{
	static const char *const types[] = {"order", "order", "order", "debug"};
	static const char *const prio[] = {"low", "normal", "normal", "high"};
	static const char *const status[] = {"new", "paid", "shipped", "refunded"};
	static const char *const regions[] = {"eu-west-1", "us-east-2", "sa-east-1", "ap-south-1"};
	uint32_t x = 12345;

	for (unsigned int i = 0; i < N_RECS; i++) {
		struct bench_rec *b = &recs[i];
		int n;

		x = x * 1103515245u + 12345u;
		if (x % 97 == 0)
			snprintf(b->key, sizeof(b->key), "test-%u", i);
		else
			snprintf(b->key, sizeof(b->key), "%08x-%04x-4abc-8def-%012u", x, i, i);
		n = snprintf(b->value, sizeof(b->value),
			     "{\"type\":\"%s\",\"id\":%u,\"priority\":\"%s\",\"status\":\"%s\","
			     "\"region\":\"%s\",\"amount\":%s%u.%02u,\"currency\":\"EUR\","
			     "\"email\":\"%s%u@%s\",\"items\":[",
			     types[(x >> 8) % 4], i, prio[(x >> 10) % 4], status[(x >> 12) % 4],
			     regions[(x >> 14) % 4], (x >> 16) % 50 == 0 ? "-" : "", x % 10000,
			     x % 100, "user", i, (x >> 18) % 20 == 0 ? "Example.com" : "mail.test");
		while (n < VALUE_LEN - 64)
			n += snprintf(b->value + n, sizeof(b->value) - n,
				      "{\"sku\":\"SKU-%05u\",\"qty\":%u},", (x + n) % 99999, n % 7);
		n += snprintf(b->value + n, sizeof(b->value) - n, "{\"sku\":\"end\"}],\"pad\":\"");
		while (n < VALUE_LEN - 2)
			b->value[n++] = 'p';
		b->value[n++] = '"';
		b->value[n++] = '}';
		b->value[n] = '\0';
		snprintf(b->trace, sizeof(b->trace), "00-%016x%016x-00f067aa0ba902b7-01", x, ~x);
		b->headers[0] =
			(struct ist_rules_header){"content-type", "application/json", 16, 12};
		b->headers[1] = (struct ist_rules_header){
			"source", (x >> 20) % 64 ? "web" : "legacy", (x >> 20) % 64 ? 3 : 6, 6};
		b->headers[2] = (struct ist_rules_header){"traceparent", b->trace,
							  (uint32_t)strlen(b->trace), 11};
		b->rec = (struct ist_rules_rec){
			.key = b->key,
			.key_len = strlen(b->key),
			.value = b->value,
			.value_len = n,
			.headers = b->headers,
			.n_headers = 3,
		};
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* ns per record over @p n records for a topic bound as @p tp. */
static double run(const struct ist_rules_set *set, struct ist_rules_topic *tp, unsigned long n,
		  uint64_t counts[3])
{
	struct ist_rules_scratch *s = ist_rules_set_scratch(set, 0);
	struct ist_rules_verdict v;
	uint64_t t0;

	for (unsigned int i = 0; i < N_RECS; i++) /* warm up */
		ist_rules_record_eval(set, tp, &recs[i].rec, s, &v);
	t0 = now_ns();
	for (unsigned long i = 0; i < n; i++) {
		ist_rules_record_eval(set, tp, &recs[i % N_RECS].rec, s, &v);
		counts[v.action]++;
	}
	return (double)(now_ns() - t0) / n;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	struct ist_rules_set *set;
	struct ist_rules_topic tp;
	uint64_t counts[3] = {0}, scratch_counts[3] = {0};
	/* Rules 0-5 match the value, 6-7 the key, 8-9 headers (make_config()). */
	static const struct {
		const char *what;
		uint64_t rules;
	} parts[] = {
		{"value rules only (1 scan of 1 KB)", 0x3f},
		{"key rules only (1 scan)", 0xc0},
		{"header rules only (2 scans)", 0x300},
		{"no rule applicable (no scan)", 0},
	};
	char err[512];
	double ns;

	if (n == 0) {
		fprintf(stderr, "usage: bench_rules [records > 0]\n");
		return 2;
	}
	make_config();
	make_records();
	set = ist_rules_set_build(&cfg, 1, err, sizeof(err));
	if (set == NULL) {
		fprintf(stderr, "bench_rules: %s\n", err);
		return 1;
	}
	ist_rules_topic_bind(set, 0, "orders", 6, ist_rules_set_scratch(set, 0), &tp);
	ns = run(set, &tp, n, counts);
	printf("bench_rules: %lu records of %d-byte JSON values, 10 rules (6 value, 2 key, 2 "
	       "header)\n",
	       n, VALUE_LEN);
	printf("  verdicts: pass %" PRIu64 ", drop %" PRIu64 ", route %" PRIu64 "\n", counts[0],
	       counts[1], counts[2]);
	printf("  all 10 rules: %.1f ns/record\n", ns);
	/* Where the time goes: the same records with a part of the rules applicable. */
	for (unsigned int i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		tp.rules = parts[i].rules;
		printf("  %s: %.1f ns/record\n", parts[i].what, run(set, &tp, n, scratch_counts));
	}
	printf("RESULT bench=rules_eval value_bytes=%d rules=10 ns_per_record=%.1f\n", VALUE_LEN,
	       ns);
	ist_rules_set_free(set);
	return 0;
}
