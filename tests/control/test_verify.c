/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus verify (control/verify.c) against two in-process librdkafka mock
 * clusters, a source and a destination region. The test plays the sink: it
 * reads the source and writes destination copies with the provenance headers
 * (isthmus/provenance.h), either faithfully or with exactly one kind of
 * difference, and checks that verify reports exactly that kind at the right
 * offsets. Then the CLI: argument errors, exit codes, --json, --config/--flow
 * (argv[1] is the built `isthmus`), and isthmus-loadgen's record mix, which
 * verify must see through a faithful copy (argv[2] is `isthmus-loadgen`).
 *
 * Every topic is used by one test only (the mock cannot delete topics).
 * Children are started here, waited for by PID with a deadline and killed by
 * PID when it passes; PR_SET_PDEATHSIG covers this process dying first.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <isthmus/provenance.h>

#include "cli_args.h"
#include "verify.h"

#define PARTS    2
#define PER_PART 12
#define KAFKA_MS 15000
#define CHILD_MS 60000
#define MAX_RECS 4096
#define TS_BASE  1700000000000LL
#define PREFIX   "eu-west."

static const char *isthmus_bin, *loadgen_bin;
static rd_kafka_t *src_host, *dst_host, *src_prod, *dst_prod;
static rd_kafka_mock_cluster_t *src_mc, *dst_mc;
static char src_boot[256], dst_boot[256];
static char tmpdir[128];

/* --- Kafka helpers ----------------------------------------------------------------------- */

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

static rd_kafka_t *new_client(rd_kafka_type_t type, const char *boot)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];
	rd_kafka_t *rk;

	if (boot != NULL) {
		assert_int_equal(
			rd_kafka_conf_set(conf, "bootstrap.servers", boot, errstr, sizeof(errstr)),
			RD_KAFKA_CONF_OK);
	}
	if (type == RD_KAFKA_PRODUCER && boot != NULL) {
		assert_int_equal(rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr,
						   sizeof(errstr)),
				 RD_KAFKA_CONF_OK);
		assert_int_equal(rd_kafka_conf_set(conf, "linger.ms", "1", errstr, sizeof(errstr)),
				 RD_KAFKA_CONF_OK);
	}
	if (type == RD_KAFKA_CONSUMER) {
		assert_int_equal(
			rd_kafka_conf_set(conf, "group.id", "test-verify", errstr, sizeof(errstr)),
			RD_KAFKA_CONF_OK);
		assert_int_equal(rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr,
						   sizeof(errstr)),
				 RD_KAFKA_CONF_OK);
		assert_int_equal(
			rd_kafka_conf_set(conf, "fetch.wait.max.ms", "50", errstr, sizeof(errstr)),
			RD_KAFKA_CONF_OK);
	}
	rd_kafka_conf_set_log_cb(conf, quiet_log);
	rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
	assert_non_null(rk);
	return rk;
}

/*
 * Create @p name in @p mc and tell @p prod about it at once: a producer
 * otherwise learns a new topic's leaders on its next periodic scan, a second
 * later.
 */
static void mk_topic(rd_kafka_mock_cluster_t *mc, const char *name, int parts)
{
	rd_kafka_t *prod = mc == src_mc ? src_prod : dst_prod;
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt;

	assert_int_equal(rd_kafka_mock_topic_create(mc, name, parts, 1),
			 RD_KAFKA_RESP_ERR_NO_ERROR);
	rkt = rd_kafka_topic_new(prod, name, NULL);
	assert_non_null(rkt);
	assert_int_equal(rd_kafka_metadata(prod, 0, rkt, &md, KAFKA_MS),
			 RD_KAFKA_RESP_ERR_NO_ERROR);
	rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
}

/* An owned copy of a consumed record. */
struct trec {
	int32_t partition;
	int64_t offset;
	void *key, *val; /* NULL: null */
	size_t klen, vlen;
	int64_t ts;
	rd_kafka_headers_t *hdrs; /* NULL: none */
};

static void trec_free(struct trec *r)
{
	free(r->key);
	free(r->val);
	if (r->hdrs != NULL)
		rd_kafka_headers_destroy(r->hdrs);
	memset(r, 0, sizeof(*r));
}

static void *dup_bytes(const void *p, size_t n)
{
	void *d;

	if (p == NULL)
		return NULL;
	d = malloc(n + 1); /* +1: empty stays non-NULL */
	assert_non_null(d);
	memcpy(d, p, n);
	return d;
}

/*
 * Read all of @p topic (partitions 0..parts-1) from @p boot into recs[p][],
 * n[p] records each.
 */
static void read_all(const char *boot, const char *topic, int parts, struct trec recs[][MAX_RECS],
		     size_t n[])
{
	rd_kafka_t *rk = new_client(RD_KAFKA_CONSUMER, boot);
	rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(parts);
	int64_t lo, hi[16];
	int p, pending = 0;
	time_t deadline = time(NULL) + KAFKA_MS / 1000;

	assert_true(parts <= 16);
	for (p = 0; p < parts; p++) {
		n[p] = 0;
		assert_int_equal(
			rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi[p], KAFKA_MS),
			RD_KAFKA_RESP_ERR_NO_ERROR);
		if (hi[p] > lo) {
			rd_kafka_topic_partition_list_add(tp, topic, p)->offset = lo;
			pending++;
		}
	}
	assert_int_equal(rd_kafka_assign(rk, tp), RD_KAFKA_RESP_ERR_NO_ERROR);
	rd_kafka_topic_partition_list_destroy(tp);
	while (pending > 0) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		rd_kafka_headers_t *h;
		struct trec *r;

		assert_true(time(NULL) < deadline);
		if (m == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->offset < hi[m->partition]) {
			rd_kafka_timestamp_type_t tt;

			assert_true(n[m->partition] < MAX_RECS);
			r = &recs[m->partition][n[m->partition]++];
			r->partition = m->partition;
			r->offset = m->offset;
			r->key = dup_bytes(m->key, m->key_len);
			r->klen = m->key_len;
			r->val = dup_bytes(m->payload, m->len);
			r->vlen = m->len;
			r->ts = rd_kafka_message_timestamp(m, &tt);
			r->hdrs = rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR
					  ? rd_kafka_headers_copy(h)
					  : NULL;
			if (m->offset == hi[m->partition] - 1)
				pending--;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
}

/* What a destination copy changes. */
struct over {
	bool key_empty;    /* "" instead of the key */
	bool value_alter;  /* "ALTERED" instead of the value */
	bool value_empty;  /* "" instead of the value */
	bool header_empty; /* the first null header value becomes "" */
	int64_t ts_delta;
	bool no_prov; /* no provenance headers: a foreign record */
};

static void produce(rd_kafka_t *rk, const char *topic, int32_t part, const void *key, size_t klen,
		    const void *val, size_t vlen, int64_t ts, rd_kafka_headers_t *hdrs)
{
	rd_kafka_resp_err_t e;

	e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
			      RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)val, vlen),
			      RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(hdrs),
			      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
	assert_int_equal(e, RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* Write a destination copy of @p r, as the sink would, into partition @p part. */
static void copy_one(const char *src_topic, const char *dst_topic, int32_t part,
		     const struct trec *r, const struct over *ov)
{
	rd_kafka_headers_t *h = rd_kafka_headers_new(8);
	const void *key = r->key, *val = r->val;
	size_t klen = r->klen, vlen = r->vlen, size, idx;
	bool emptied = false;
	const char *name;
	const void *hv;
	char num[32];

	for (idx = 0; r->hdrs != NULL && rd_kafka_header_get_all(r->hdrs, idx, &name, &hv, &size) ==
						 RD_KAFKA_RESP_ERR_NO_ERROR;
	     idx++) {
		if (ov != NULL && ov->header_empty && hv == NULL && !emptied) {
			rd_kafka_header_add(h, name, -1, "", 0);
			emptied = true;
		} else {
			rd_kafka_header_add(h, name, -1, hv, hv ? (ssize_t)size : 0);
		}
	}
	if (ov != NULL && ov->header_empty)
		assert_true(emptied);
	if (ov == NULL || !ov->no_prov) {
		rd_kafka_header_add(h, IST_PROV_REGION, -1, "us-east", -1);
		rd_kafka_header_add(h, IST_PROV_CLUSTER, -1, "region-a", -1);
		rd_kafka_header_add(h, IST_PROV_TOPIC, -1, src_topic, -1);
		snprintf(num, sizeof(num), "%" PRId32, r->partition);
		rd_kafka_header_add(h, IST_PROV_PARTITION, -1, num, -1);
		snprintf(num, sizeof(num), "%" PRId64, r->offset);
		rd_kafka_header_add(h, IST_PROV_OFFSET, -1, num, -1);
	}
	if (ov != NULL && ov->key_empty) {
		assert_null(r->key);
		key = "";
		klen = 0;
	}
	if (ov != NULL && ov->value_alter) {
		val = "ALTERED";
		vlen = 7;
	}
	if (ov != NULL && ov->value_empty) {
		assert_null(r->val);
		val = "";
		vlen = 0;
	}
	produce(dst_prod, dst_topic, part, key, klen, val, vlen,
		r->ts + (ov != NULL ? ov->ts_delta : 0), h);
}

enum mut {
	M_NONE,
	M_DROP,
	M_DUP,
	M_SWAP, /* with the next one */
	M_VALUE,
	M_VALUE_EMPTY,
	M_HEADER_EMPTY,
	M_TS,
	M_KEY_EMPTY,
	M_FOREIGN, /* a record without provenance, before this one */
	M_MISPLACE,
};

struct mutation {
	enum mut kind;
	int32_t part;
	int64_t off;
};

static struct trec recs[PARTS][MAX_RECS];
static size_t n_recs[PARTS];

/* Records held back by replicate(): the test's "still in flight". */
static struct {
	char src[64], dst[64];
	int32_t part;
	size_t first, n;
} held;

static void free_recs(void)
{
	size_t i;
	int p;

	for (p = 0; p < PARTS; p++)
		for (i = 0; i < n_recs[p]; i++)
			trec_free(&recs[p][i]);
	memset(n_recs, 0, sizeof(n_recs));
	held.n = 0;
}

/*
 * Play the sink for @p src_topic: copy it to @p dst_topic with at most one
 * mutation, holding back the last @p hold records of partition 0.
 */
static void replicate(const char *src_topic, const char *dst_topic, int parts,
		      const struct mutation *mu, size_t hold)
{
	struct over ov;
	size_t i, end;
	int32_t p;

	free_recs();
	read_all(src_boot, src_topic, parts, recs, n_recs);
	for (p = 0; p < parts; p++) {
		end = n_recs[p];
		if (p == 0 && hold > 0) {
			assert_true(hold <= end);
			end -= hold;
			snprintf(held.src, sizeof(held.src), "%s", src_topic);
			snprintf(held.dst, sizeof(held.dst), "%s", dst_topic);
			held.part = 0;
			held.first = end;
			held.n = hold;
		}
		for (i = 0; i < end; i++) {
			const struct trec *r = &recs[p][i];
			bool hit = mu != NULL && mu->part == p && mu->off == r->offset;

			memset(&ov, 0, sizeof(ov));
			if (!hit) {
				copy_one(src_topic, dst_topic, p, r, NULL);
				continue;
			}
			switch (mu->kind) {
			case M_DROP:
				break;
			case M_DUP:
				copy_one(src_topic, dst_topic, p, r, NULL);
				copy_one(src_topic, dst_topic, p, r, NULL);
				break;
			case M_SWAP:
				assert_true(i + 1 < end);
				copy_one(src_topic, dst_topic, p, &recs[p][i + 1], NULL);
				copy_one(src_topic, dst_topic, p, r, NULL);
				i++;
				break;
			case M_VALUE:
				ov.value_alter = true;
				copy_one(src_topic, dst_topic, p, r, &ov);
				break;
			case M_VALUE_EMPTY:
				ov.value_empty = true;
				copy_one(src_topic, dst_topic, p, r, &ov);
				break;
			case M_HEADER_EMPTY:
				ov.header_empty = true;
				copy_one(src_topic, dst_topic, p, r, &ov);
				break;
			case M_TS:
				ov.ts_delta = 1;
				copy_one(src_topic, dst_topic, p, r, &ov);
				break;
			case M_KEY_EMPTY:
				ov.key_empty = true;
				copy_one(src_topic, dst_topic, p, r, &ov);
				break;
			case M_FOREIGN:
				produce(dst_prod, dst_topic, p, "intruder", 8, "x", 1, TS_BASE,
					NULL);
				copy_one(src_topic, dst_topic, p, r, NULL);
				break;
			case M_MISPLACE:
				copy_one(src_topic, dst_topic, (p + 1) % parts, r, NULL);
				break;
			case M_NONE:
				copy_one(src_topic, dst_topic, p, r, NULL);
				break;
			}
		}
	}
	assert_int_equal(rd_kafka_flush(dst_prod, KAFKA_MS), RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* The held-back tail arrives: wired as ist_verify_opts.sleep_ms. */
static unsigned int sleeps;

static void deliver_held(uint32_t ms)
{
	size_t i;

	(void)ms;
	sleeps++;
	for (i = 0; i < held.n; i++)
		copy_one(held.src, held.dst, held.part, &recs[held.part][held.first + i], NULL);
	held.n = 0;
	assert_int_equal(rd_kafka_flush(dst_prod, KAFKA_MS), RD_KAFKA_RESP_ERR_NO_ERROR);
}

/*
 * Source record i of partition p: every shape verify must tell apart.
 * key: i%4 == 0 null, 1 empty; value: i%5 == 0 null, 1 empty, 2 binary with
 * NULs; headers: i%3 == 1 h=a, h=null, x="" (a duplicate name, a null and an
 * empty value), i%3 == 2 x=1, x=2; explicit timestamps.
 */
static void produce_source(const char *topic, int parts, int per_part)
{
	static const char binary[] = {'\0', 'a', '\0', 'b', '\xff', '\0'};
	char key[32], val[64];
	int p, i;

	for (p = 0; p < parts; p++) {
		for (i = 0; i < per_part; i++) {
			rd_kafka_headers_t *h = NULL;
			const void *k = key, *v = val;
			size_t klen, vlen;

			klen = (size_t)snprintf(key, sizeof(key), "k-%d-%d", p, i);
			vlen = (size_t)snprintf(val, sizeof(val), "value-%d-%d", p, i);
			if (i % 4 == 0) {
				k = NULL;
				klen = 0;
			} else if (i % 4 == 1) {
				k = "";
				klen = 0;
			}
			if (i % 5 == 0) {
				v = NULL;
				vlen = 0;
			} else if (i % 5 == 1) {
				v = "";
				vlen = 0;
			} else if (i % 5 == 2) {
				v = binary;
				vlen = sizeof(binary);
			}
			if (i % 3 == 1) {
				h = rd_kafka_headers_new(3);
				rd_kafka_header_add(h, "h", -1, "a", -1);
				rd_kafka_header_add(h, "h", -1, NULL, 0);
				rd_kafka_header_add(h, "x", -1, "", 0);
			} else if (i % 3 == 2) {
				h = rd_kafka_headers_new(2);
				rd_kafka_header_add(h, "x", -1, "1", -1);
				rd_kafka_header_add(h, "x", -1, "2", -1);
			}
			produce(src_prod, topic, p, k, klen, v, vlen, TS_BASE + p * 1000 + i, h);
		}
	}
	assert_int_equal(rd_kafka_flush(src_prod, KAFKA_MS), RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* A source topic and its destination, created in both clusters, then filled. */
static void setup_pair(const char *src_topic, const char *dst_topic, int parts)
{
	mk_topic(src_mc, src_topic, parts);
	if (dst_topic != NULL)
		mk_topic(dst_mc, dst_topic, parts);
	produce_source(src_topic, parts, PER_PART);
}

static void opts_for(struct ist_verify_opts *o, const char *const *topics, unsigned int n)
{
	ist_verify_opts_init(o);
	o->source.bootstrap = src_boot;
	o->dest.bootstrap = dst_boot;
	o->topics = topics;
	o->n_topics = n;
}

static struct ist_verify_report *run_ok(const struct ist_verify_opts *o)
{
	struct ist_verify_report *r = NULL;
	char err[512];
	int rc = ist_verify_run(o, &r, err, sizeof(err));

	if (rc != 0)
		print_error("ist_verify_run: %d: %s\n", rc, err);
	assert_int_equal(rc, 0);
	assert_non_null(r);
	return r;
}

/* Totals: exactly @p want[kind] of each kind. */
static void assert_totals(const struct ist_verify_report *r, const uint64_t want[])
{
	int k;

	for (k = 0; k < IST_VERIFY_KIND_MAX; k++) {
		if (r->total[k] != want[k])
			print_error("%s: %" PRIu64 ", expected %" PRIu64 "\n",
				    ist_verify_kind_name((enum ist_verify_kind)k), r->total[k],
				    want[k]);
		assert_int_equal(r->total[k], want[k]);
	}
}

/* --- the library: clean and one difference of each kind ------------------------------- */

static void test_clean_copy(void **state)
{
	static const char *const topics[] = {"v-clean"};
	struct ist_verify_report *r;
	struct ist_verify_opts o;
	uint64_t none[IST_VERIFY_KIND_MAX] = {0};
	char line[256];

	(void)state;
	setup_pair("v-clean", PREFIX "v-clean", PARTS);
	replicate("v-clean", PREFIX "v-clean", PARTS, NULL, 0);
	opts_for(&o, topics, 1);
	o.dest_prefix = PREFIX;
	r = run_ok(&o);
	assert_true(r->clean);
	assert_totals(r, none);
	assert_int_equal(r->partitions, PARTS);
	assert_int_equal(r->src_records, PARTS * PER_PART);
	assert_int_equal(r->dst_records, PARTS * PER_PART);
	assert_int_equal(r->passes, 1);
	assert_string_equal(r->topics[0].dest_topic, PREFIX "v-clean");
	assert_int_equal(r->topics[0].parts[1].src_high, PER_PART);
	ist_verify_summary(r, line, sizeof(line));
	assert_string_equal(line, "verify: OK topics=1 partitions=2 records=24");
	ist_verify_report_free(r);

	/* Without the prefix the destination topic does not exist: all of it is missing. */
	o.dest_prefix = NULL;
	r = run_ok(&o);
	assert_false(r->clean);
	assert_false(r->topics[0].dest_exists);
	assert_int_equal(r->total[IST_VERIFY_MISSING], PARTS * PER_PART);
	assert_int_equal(r->in_flight, PARTS * PER_PART);
	assert_int_equal(r->topics[0].parts[0].n_diffs, 1); /* one range */
	assert_int_equal(r->topics[0].parts[0].diffs[0].src_offset, 0);
	assert_int_equal(r->topics[0].parts[0].diffs[0].src_last, PER_PART - 1);
	ist_verify_report_free(r);
	free_recs();
}

static const struct diff_case {
	const char *topic;
	struct mutation mu;
	enum ist_verify_kind kind;
	int32_t row;        /* the partition reporting it */
	int64_t src_offset; /* -1: none */
	int64_t dst_offset; /* -1: none */
	uint32_t fields;
} diff_cases[] = {
	{"v-drop", {M_DROP, 1, 5}, IST_VERIFY_MISSING, 1, 5, -1, 0},
	{"v-dup", {M_DUP, 0, 3}, IST_VERIFY_DUPLICATED, 0, 3, 4, 0},
	{"v-swap", {M_SWAP, 1, 7}, IST_VERIFY_REORDERED, 1, 7, 8, 0},
	{"v-value", {M_VALUE, 0, 6}, IST_VERIFY_ALTERED, 0, 6, 6, IST_VERIFY_F_VALUE},
	{"v-value-empty", {M_VALUE_EMPTY, 1, 5}, IST_VERIFY_ALTERED, 1, 5, 5, IST_VERIFY_F_VALUE},
	{"v-header", {M_HEADER_EMPTY, 0, 4}, IST_VERIFY_ALTERED, 0, 4, 4, IST_VERIFY_F_HEADERS},
	{"v-ts", {M_TS, 1, 2}, IST_VERIFY_ALTERED, 1, 2, 2, IST_VERIFY_F_TIMESTAMP},
	{"v-key", {M_KEY_EMPTY, 0, 8}, IST_VERIFY_ALTERED, 0, 8, 8, IST_VERIFY_F_KEY},
	{"v-foreign", {M_FOREIGN, 1, 3}, IST_VERIFY_FOREIGN, 1, -1, 3, 0},
};

static void check_diff_case(const struct diff_case *c)
{
	const char *topics[] = {c->topic};
	struct ist_verify_report *r;
	struct ist_verify_opts o;
	const struct ist_verify_part *row;
	const struct ist_verify_diff *d;
	uint64_t want[IST_VERIFY_KIND_MAX] = {0};
	int32_t p;

	setup_pair(c->topic, c->topic, PARTS);
	replicate(c->topic, c->topic, PARTS, &c->mu, 0);
	opts_for(&o, topics, 1);
	r = run_ok(&o);
	want[c->kind] = 1;
	print_message("case %s\n", c->topic);
	assert_false(r->clean);
	assert_totals(r, want);
	assert_int_equal(r->in_flight, 0);
	for (p = 0; p < PARTS; p++)
		assert_int_equal(r->topics[0].parts[p].n_diffs, p == c->row ? 1 : 0);
	row = &r->topics[0].parts[c->row];
	assert_int_equal(row->count[c->kind], 1);
	d = &row->diffs[0];
	assert_int_equal(d->kind, c->kind);
	assert_int_equal(d->src_offset, c->src_offset);
	assert_int_equal(d->dst_offset, c->dst_offset);
	if (c->kind == IST_VERIFY_MISSING)
		assert_int_equal(d->src_last, c->src_offset);
	if (c->kind == IST_VERIFY_ALTERED)
		assert_int_equal(d->fields, c->fields);
	ist_verify_report_free(r);
	free_recs();
}

static void test_one_difference_each(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(diff_cases) / sizeof(diff_cases[0]); i++)
		check_diff_case(&diff_cases[i]);
}

/* A copy in the wrong partition: misplaced there, and missing from its own. */
static void test_misplaced(void **state)
{
	static const char *const topics[] = {"v-misplaced"};
	struct ist_verify_report *r;
	struct ist_verify_opts o;
	const struct mutation mu = {M_MISPLACE, 0, 2};
	const struct ist_verify_diff *d;
	uint64_t want[IST_VERIFY_KIND_MAX] = {0};

	(void)state;
	setup_pair("v-misplaced", "v-misplaced", PARTS);
	replicate("v-misplaced", "v-misplaced", PARTS, &mu, 0);
	opts_for(&o, topics, 1);
	r = run_ok(&o);
	want[IST_VERIFY_MISSING] = 1;
	want[IST_VERIFY_MISPLACED] = 1;
	assert_totals(r, want);
	d = &r->topics[0].parts[1].diffs[0];
	assert_int_equal(d->kind, IST_VERIFY_MISPLACED);
	assert_int_equal(d->src_offset, 2);
	assert_int_equal(d->dst_offset, 0); /* partition 0's copy went first into partition 1 */
	d = &r->topics[0].parts[0].diffs[0];
	assert_int_equal(d->kind, IST_VERIFY_MISSING);
	assert_int_equal(d->src_offset, 2);
	ist_verify_report_free(r);
	free_recs();
}

/* --wait: a tail still in flight arrives during the wait; a hole ends the wait at once. */
static void test_wait(void **state)
{
	static const char *const tail_topics[] = {"v-tail"};
	static const char *const hole_topics[] = {"v-hole"};
	struct ist_verify_report *r;
	struct ist_verify_opts o;
	const struct mutation hole = {M_DROP, 1, 4};

	(void)state;
	setup_pair("v-tail", "v-tail", PARTS);
	replicate("v-tail", "v-tail", PARTS, NULL, 3);

	/* No wait: the tail is reported missing, and as in flight. */
	opts_for(&o, tail_topics, 1);
	r = run_ok(&o);
	assert_false(r->clean);
	assert_int_equal(r->total[IST_VERIFY_MISSING], 3);
	assert_int_equal(r->in_flight, 3);
	assert_int_equal(r->topics[0].parts[0].diffs[0].src_offset, PER_PART - 3);
	assert_int_equal(r->topics[0].parts[0].diffs[0].src_last, PER_PART - 1);
	ist_verify_report_free(r);

	/* With a wait it repeats; the tail lands during the pause (deliver_held). */
	sleeps = 0;
	o.wait_ms = 30000;
	o.sleep_ms = deliver_held;
	r = run_ok(&o);
	assert_true(r->clean);
	assert_int_equal(r->passes, 2);
	assert_int_equal(sleeps, 1);
	assert_int_equal(r->dst_records, PARTS * PER_PART);
	ist_verify_report_free(r);
	free_recs();

	/* A hole cannot heal: one pass, no pause, even with 30 s to wait. */
	setup_pair("v-hole", "v-hole", PARTS);
	replicate("v-hole", "v-hole", PARTS, &hole, 0);
	opts_for(&o, hole_topics, 1);
	sleeps = 0;
	o.wait_ms = 30000;
	o.sleep_ms = deliver_held;
	r = run_ok(&o);
	assert_false(r->clean);
	assert_int_equal(r->passes, 1);
	assert_int_equal(sleeps, 0);
	assert_int_equal(r->total[IST_VERIFY_MISSING], 1);
	assert_int_equal(r->in_flight, 0);
	ist_verify_report_free(r);
	free_recs();
}

/* --max-report caps the list, never the counts. */
static void test_max_report(void **state)
{
	static const char *const topics[] = {"v-many"};
	struct ist_verify_report *r;
	struct ist_verify_opts o;
	size_t i;
	int p;

	(void)state;
	setup_pair("v-many", "v-many", PARTS);
	free_recs();
	read_all(src_boot, "v-many", PARTS, recs, n_recs);
	/* Every even record twice: 6 duplicates per partition. */
	for (p = 0; p < PARTS; p++)
		for (i = 0; i < n_recs[p]; i++) {
			copy_one("v-many", "v-many", p, &recs[p][i], NULL);
			if (i % 2 == 0)
				copy_one("v-many", "v-many", p, &recs[p][i], NULL);
		}
	assert_int_equal(rd_kafka_flush(dst_prod, KAFKA_MS), RD_KAFKA_RESP_ERR_NO_ERROR);
	opts_for(&o, topics, 1);
	o.max_report = 2;
	r = run_ok(&o);
	assert_int_equal(r->total[IST_VERIFY_DUPLICATED], PARTS * PER_PART / 2);
	assert_int_equal(r->topics[0].parts[0].n_diffs, 2);
	assert_true(r->topics[0].parts[0].truncated);
	assert_int_equal(r->topics[0].parts[0].diffs[1].src_offset, 2);
	ist_verify_report_free(r);
	free_recs();
}

static void test_errors(void **state)
{
	static const char *const topics[] = {"v-clean"};
	static const char *const nosuch[] = {"v-no-such-topic"};
	static const char *const twice[] = {"v-clean", "v-clean"};
	struct ist_verify_report *r = NULL;
	struct ist_verify_opts o;
	char err[512];

	(void)state;
	opts_for(&o, nosuch, 1);
	assert_int_equal(ist_verify_run(&o, &r, err, sizeof(err)), -ENOENT);
	assert_null(r);
	assert_non_null(
		strstr(err, "topic 'v-no-such-topic' does not exist in the source cluster"));
	assert_non_null(strstr(err, "check --topic"));

	opts_for(&o, twice, 2);
	assert_int_equal(ist_verify_run(&o, &r, err, sizeof(err)), -EINVAL);

	opts_for(&o, topics, 1);
	o.source.bootstrap = "127.0.0.1:1";
	o.timeout_ms = 1500;
	assert_int_equal(ist_verify_run(&o, &r, err, sizeof(err)), -EHOSTUNREACH);
	assert_non_null(strstr(err, "cannot reach source cluster 127.0.0.1:1 within 1.5 s"));
	assert_non_null(strstr(err, "check --source"));
	assert_null(strchr(err, '\n'));

	opts_for(&o, topics, 1);
	o.dest.bootstrap = "127.0.0.1:1";
	o.timeout_ms = 1500;
	assert_int_equal(ist_verify_run(&o, &r, err, sizeof(err)), -EHOSTUNREACH);
	assert_non_null(strstr(err, "cannot reach destination cluster 127.0.0.1:1"));
	assert_non_null(strstr(err, "check --dest"));
}

/* The table and the JSON document of a report with one difference. */
static void test_output(void **state)
{
	static const char *const topics[] = {"v-drop"}; /* from test_one_difference_each */
	struct ist_verify_report *r;
	struct ist_verify_opts o;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	json_t *doc, *part, *diff;

	(void)state;
	opts_for(&o, topics, 1);
	r = run_ok(&o);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	ist_verify_print(f, r);
	fclose(f);
	assert_non_null(strstr(text, "TOPIC   PART     SOURCE       DEST MISSING DUPLICATED"));
	assert_non_null(strstr(text, "\n    missing    source offset 5\n"));
	assert_non_null(strstr(text, "\nverify: FAILED missing=1 duplicated=0 reordered=0 "
				     "altered=0 foreign=0 misplaced=0\n"));
	free(text);

	doc = ist_verify_to_json(r);
	assert_non_null(doc);
	assert_false(json_is_true(json_object_get(doc, "ok")));
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(doc, "totals"), "missing")), 1);
	part = json_array_get(
		json_object_get(json_array_get(json_object_get(doc, "topics"), 0), "partitions"),
		1);
	assert_int_equal(json_integer_value(json_object_get(part, "source_records")), PER_PART);
	assert_int_equal(json_integer_value(json_object_get(part, "dest_records")), PER_PART - 1);
	diff = json_array_get(json_object_get(part, "differences"), 0);
	assert_string_equal(json_string_value(json_object_get(diff, "kind")), "missing");
	assert_int_equal(json_integer_value(json_object_get(diff, "source_offset")), 5);
	assert_true(json_is_null(json_object_get(diff, "dest_offset")));
	json_decref(doc);
	ist_verify_report_free(r);
}

/* --- the CLI ----------------------------------------------------------------------------- */

#define PARSE(cmd, err, ...)                                                                    \
	({                                                                                      \
		char *const argv_[] = {"isthmus", __VA_ARGS__, NULL};                           \
		ist_cli_parse((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_, (cmd), (err), \
			      256);                                                             \
	})

static void test_cli_parse(void **state)
{
	struct ist_cli_cmd cmd;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cmd, err, "verify", "--source", "a:1", "--dest=b:2", "--topic",
			       "t1", "--topic", "t2", "--dest-prefix", "eu.", "--wait", "30",
			       "--json", "--max-report", "3", "--timeout", "4"),
			 0);
	assert_int_equal(cmd.verb, IST_CLI_VERIFY);
	assert_string_equal(cmd.source, "a:1");
	assert_string_equal(cmd.dest, "b:2");
	assert_int_equal(cmd.n_topics, 2);
	assert_string_equal(cmd.topics[1], "t2");
	assert_string_equal(cmd.dest_prefix, "eu.");
	assert_int_equal(cmd.wait_s, 30);
	assert_true(cmd.json);
	assert_int_equal(cmd.max_report, 3);
	assert_int_equal(cmd.timeout_s, 4);
	assert_int_equal(PARSE(&cmd, err, "-c", "a.conf", "verify", "--flow", "dr"), 0);
	assert_string_equal(cmd.flow, "dr");
	assert_int_equal(cmd.max_report, 10);
	assert_int_equal(cmd.timeout_s, 10);
	assert_int_equal(PARSE(&cmd, err, "verify", "--help"), 0);
	assert_int_equal(cmd.verb, IST_CLI_HELP);
	assert_int_equal(cmd.help_verb, IST_CLI_VERIFY);

#define BAD(needle, ...)                                                  \
	do {                                                              \
		assert_int_equal(PARSE(&cmd, err, __VA_ARGS__), -EINVAL); \
		if (strstr(err, needle) == NULL)                          \
			print_error("'%s' lacks '%s'\n", err, needle);    \
		assert_non_null(strstr(err, needle));                     \
		assert_null(strchr(err, '\n'));                           \
	} while (0)
	BAD("needs --source and --dest", "verify");
	BAD("needs --source and --dest", "verify", "--source", "a:1", "--topic", "t");
	BAD("needs at least one --topic", "verify", "--source", "a:1", "--dest", "b:1");
	BAD("--topic 'a b' is not a topic name", "verify", "--source", "a", "--dest", "b",
	    "--topic", "a b");
	BAD("--wait needs seconds", "verify", "--source", "a", "--dest", "b", "--topic", "t",
	    "--wait", "soon");
	BAD("--timeout needs seconds from 1", "verify", "--source", "a", "--dest", "b", "--topic",
	    "t", "--timeout", "0");
	BAD("--max-report needs a count", "verify", "--source", "a", "--dest", "b", "--topic", "t",
	    "--max-report", "-1");
	BAD("--dest-prefix needs", "verify", "--source", "a", "--dest", "b", "--topic", "t",
	    "--dest-prefix", "a/b");
	BAD("--flow dr needs -c FILE", "verify", "--flow", "dr");
	BAD("not both", "-c", "x.conf", "verify", "--flow", "dr", "--source", "a");
	BAD("-c FILE needs --flow", "-c", "x.conf", "verify", "--topic", "t");
	BAD("--api does not apply", "--api", "http://h:1", "verify", "--source", "a", "--dest", "b",
	    "--topic", "t");
	BAD("unknown option '--frob' for verify", "verify", "--frob");
	BAD("unexpected argument 'orders' for verify", "verify", "orders");
	BAD("--source needs", "verify", "--source");
#undef BAD
}

/* Run @p argv with stdout and stderr in files; @return the exit status, -1 on signal. */
static int run_child(char *const argv[], char *out, size_t outlen, char *errbuf, size_t errlen)
{
	char out_path[256], err_path[256];
	int status, fd, i;
	pid_t pid, w = 0;
	FILE *f;
	size_t n;

	snprintf(out_path, sizeof(out_path), "%s/stdout", tmpdir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", tmpdir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	for (i = 0; i < CHILD_MS / 10; i++) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		usleep(10000);
	}
	if (w != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("%s did not finish within %d s", argv[0], CHILD_MS / 1000);
	}
	f = fopen(out_path, "r");
	n = f ? fread(out, 1, outlen - 1, f) : 0;
	out[n] = '\0';
	if (f)
		fclose(f);
	f = fopen(err_path, "r");
	n = f ? fread(errbuf, 1, errlen - 1, f) : 0;
	errbuf[n] = '\0';
	if (f)
		fclose(f);
	unlink(out_path);
	unlink(err_path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char out[1 << 16], errb[1 << 14];

/* Exit 2 and exactly one line on stderr holding @p needle, nothing on stdout. */
static void expect_usage(const char *needle, char *const argv[])
{
	int rc = run_child(argv, out, sizeof(out), errb, sizeof(errb));

	if (rc != 2 || strstr(errb, needle) == NULL)
		print_error("exit %d, stderr '%s', expected 2 and '%s'\n", rc, errb, needle);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(errb, needle));
	assert_non_null(strchr(errb, '\n'));
	assert_int_equal(strchr(errb, '\n')[1], '\0');
	assert_string_equal(out, "");
}

static const char *last_line(const char *text)
{
	static char line[512];
	const char *end = text + strlen(text), *start;

	while (end > text && end[-1] == '\n')
		end--;
	for (start = end; start > text && start[-1] != '\n'; start--)
		;
	snprintf(line, sizeof(line), "%.*s", (int)(end - start), start);
	return line;
}

static void test_cli_binary(void **state)
{
	char bin[512], conf[256], text[1024];
	json_error_t jerr;
	json_t *doc;
	FILE *f;
	int rc;

	(void)state;
	snprintf(bin, sizeof(bin), "%s", isthmus_bin);
	{
		char *const a[] = {bin, "verify", NULL};
		expect_usage("isthmus verify: needs --source and --dest", a);
	}
	{
		char *const a[] = {bin,       "verify",  "--source", src_boot, "--dest", dst_boot,
				   "--topic", "v-clean", "--wait",   "x",      NULL};
		expect_usage("--wait needs seconds", a);
	}
	{
		char *const a[] = {bin,         "verify", "--source", "127.0.0.1:1",
				   "--dest",    dst_boot, "--topic",  "v-clean",
				   "--timeout", "1",      NULL};
		expect_usage("isthmus verify: cannot reach source cluster 127.0.0.1:1 within 1 s",
			     a);
		assert_non_null(strstr(errb, "; check --source"));
	}
	{
		char *const a[] = {bin,      "verify",  "--source", src_boot, "--dest",
				   dst_boot, "--topic", "v-absent", NULL};
		expect_usage("topic 'v-absent' does not exist", a);
	}
	{
		char *const a[] = {bin,      "verify",  "--source", src_boot,        "--dest",
				   dst_boot, "--topic", "v-clean",  "--dest-prefix", PREFIX,
				   NULL};
		rc = run_child(a, out, sizeof(out), errb, sizeof(errb));
		assert_int_equal(rc, 0);
		assert_string_equal(errb, "");
		assert_string_equal(last_line(out), "verify: OK topics=1 partitions=2 records=24");
		print_message("sample output (clean):\n%s", out);
	}
	{
		char *const a[] = {bin,       "verify", "--source", src_boot, "--dest", dst_boot,
				   "--topic", "v-drop", "--topic",  "v-ts",   NULL};
		rc = run_child(a, out, sizeof(out), errb, sizeof(errb));
		assert_int_equal(rc, 1);
		assert_string_equal(last_line(out), "verify: FAILED missing=1 duplicated=0 "
						    "reordered=0 altered=1 foreign=0 misplaced=0");
		assert_non_null(strstr(out, "    altered    source offset 2 at dest offset 2: "
					    "timestamp\n"));
		print_message("sample output (differences):\n%s", out);
	}
	{
		char *const a[] = {bin,      "verify",  "--source", src_boot, "--dest",
				   dst_boot, "--topic", "v-dup",    "--json", NULL};
		rc = run_child(a, out, sizeof(out), errb, sizeof(errb));
		assert_int_equal(rc, 1);
		doc = json_loads(out, 0, &jerr);
		assert_non_null(doc);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "totals"),
								    "duplicated")),
				 1);
		json_decref(doc);
	}

	/* --config/--flow: clusters from [kafka], topics from includes, prefix from naming. */
	snprintf(conf, sizeof(conf), "%s/flow.conf", tmpdir);
	snprintf(text, sizeof(text),
		 "[appliance]\nid = t1\nregion = eu-west\n[lcore 0]\nroles = link-rx\n"
		 "[kafka a]\nbootstrap = %s\nrdkafka.client.id = verify-test\n"
		 "[kafka b]\nbootstrap = %s\n"
		 "[flow aa]\nsource = a\nsink = b\ninclude = v-clean .*\nnaming = prefix\n"
		 "[flow dr]\nsource = a\nsink = b\ninclude = v-drop\n",
		 src_boot, dst_boot);
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	{
		char *const a[] = {bin, "-c", conf, "verify", "--flow", "aa", NULL};
		rc = run_child(a, out, sizeof(out), errb, sizeof(errb));
		if (rc != 0)
			print_error("stderr: %s\n", errb);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "v-clean -> eu-west.v-clean"));
		assert_string_equal(last_line(out), "verify: OK topics=1 partitions=2 records=24");
	}
	{
		char *const a[] = {bin, "verify", "--config", conf, "--flow", "dr", NULL};
		rc = run_child(a, out, sizeof(out), errb, sizeof(errb));
		assert_int_equal(rc, 1);
		assert_non_null(strstr(last_line(out), "verify: FAILED missing=1 "));
	}
	{
		char *const a[] = {bin, "-c", conf, "verify", "--flow", "nope", NULL};
		expect_usage("no [flow nope] in", a);
		assert_non_null(strstr(errb, "its flows: aa, dr"));
	}
	unlink(conf);
}

/* --- isthmus-loadgen ---------------------------------------------------------------------- */

static void test_loadgen(void **state)
{
	static const char *const topics[] = {"lg-mix"};
	char bin[512], *line;
	struct ist_verify_report *r;
	struct ist_verify_opts o;
	bool null_key = false, empty_key = false, null_val = false, empty_val = false,
	     nul_byte = false, null_hdr = false, dup_hdr = false, old_ts = false;
	size_t i, total = 0;
	int rc, p;

	(void)state;
	snprintf(bin, sizeof(bin), "%s", loadgen_bin);
	mk_topic(src_mc, "lg-mix", PARTS);
	mk_topic(dst_mc, "lg-mix", PARTS);
	{
		char *const a[] = {bin,         "--bootstrap", src_boot,    "--topic", "lg-mix:2",
				   "--records", "240",         "--headers", "--nulls", "--keys",
				   "7",         "--seed",      "3",         NULL};
		rc = run_child(a, out, sizeof(out), errb, sizeof(errb));
		if (rc != 0)
			print_error("stderr: %s\n", errb);
		assert_int_equal(rc, 0);
		assert_true(strncmp(last_line(out), "loadgen: produced 240 records to lg-mix in ",
				    43) == 0);
	}
	/* The mix has every shape it promises. */
	free_recs();
	read_all(src_boot, "lg-mix", PARTS, recs, n_recs);
	for (p = 0; p < PARTS; p++) {
		for (i = 0; i < n_recs[p]; i++) {
			const struct trec *t = &recs[p][i];
			const void *hv;
			size_t hs;

			total++;
			null_key |= t->key == NULL;
			empty_key |= t->key != NULL && t->klen == 0;
			null_val |= t->val == NULL;
			empty_val |= t->val != NULL && t->vlen == 0;
			nul_byte |= t->val != NULL && t->vlen > 1 && memchr(t->val, '\0', t->vlen);
			old_ts |= t->ts >= 1577836800000LL && t->ts < 1577836800000LL + 1000;
			if (t->hdrs != NULL && rd_kafka_header_get(t->hdrs, 1, "tag", &hv, &hs) ==
						       RD_KAFKA_RESP_ERR_NO_ERROR) {
				dup_hdr = true;
				null_hdr |= hv == NULL;
			}
		}
	}
	assert_int_equal(total, 240);
	assert_true(null_key && empty_key && null_val && empty_val && nul_byte);
	assert_true(null_hdr && dup_hdr && old_ts);

	/* A faithful copy of that mix is clean: null/empty survive both ways. */
	replicate("lg-mix", "lg-mix", PARTS, NULL, 0);
	opts_for(&o, topics, 1);
	r = run_ok(&o);
	assert_true(r->clean);
	assert_int_equal(r->src_records, 240);
	ist_verify_report_free(r);
	free_recs();

	/* --json values are ~1 KB JSON events; --rate paces. */
	mk_topic(src_mc, "lg-json", 1);
	{
		char *const a[] = {bin,  "--bootstrap", src_boot, "--topic", "lg-json", "--records",
				   "20", "--json",      "--rate", "100",     NULL};
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = run_child(a, out, sizeof(out), errb, sizeof(errb));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_int_equal(rc, 0);
		assert_true(t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9 >= 0.18);
	}
	read_all(src_boot, "lg-json", 1, recs, n_recs);
	assert_int_equal(n_recs[0], 20);
	for (i = 0; i < n_recs[0]; i++) {
		json_error_t jerr;
		json_t *ev = json_loadb(recs[0][i].val, recs[0][i].vlen, 0, &jerr);

		assert_non_null(ev);
		assert_true(recs[0][i].vlen >= 1000 && recs[0][i].vlen <= 1100);
		assert_int_equal(json_integer_value(json_object_get(ev, "seq")), (json_int_t)i);
		json_decref(ev);
	}
	free_recs();

	/* Transactions: every 2nd aborted; the mock hands aborted records to read_committed too. */
	mk_topic(src_mc, "lg-txn", 1);
	{
		char *const a[] = {bin,        "--bootstrap",   src_boot, "--topic",
				   "lg-txn:1", "--records",     "40",     "--txn-abort-every",
				   "2",        "--txn-records", "10",     NULL};
		rc = run_child(a, out, sizeof(out), errb, sizeof(errb));
		if (rc != 0)
			print_error("stderr: %s\n", errb);
		assert_int_equal(rc, 0);
		assert_true(strncmp(last_line(out), "loadgen: produced 20 records to lg-txn in ",
				    42) == 0);
		assert_non_null(strstr(errb, "aborted 2 transactions (20 records)"));
	}
	{
		static const char *const txn_topics[] = {"lg-txn"};

		opts_for(&o, txn_topics, 1);
		r = run_ok(&o);
		print_message("lg-txn: read_committed source records on the mock: %" PRIu64 "\n",
			      r->src_records);
		assert_int_equal(r->src_records, 40);
		ist_verify_report_free(r);
	}

	/* Errors: one line, non-zero. */
	{
		char *const a[] = {bin,         "--bootstrap", "127.0.0.1:1", "--topic", "x",
				   "--records", "1",           "--timeout",   "1",       NULL};
		rc = run_child(a, out, sizeof(out), errb, sizeof(errb));
		assert_int_equal(rc, 1);
		assert_non_null(strstr(errb, "isthmus-loadgen: cannot reach cluster 127.0.0.1:1"));
		line = strchr(errb, '\n');
		assert_non_null(line);
		assert_int_equal(line[1], '\0');
	}
	{
		char *const a[] = {bin, "--bootstrap", src_boot, "--topic", "lg-mix", NULL};
		rc = run_child(a, out, sizeof(out), errb, sizeof(errb));
		assert_int_equal(rc, 2);
		assert_non_null(strstr(errb, "give exactly one of --records N and --duration S"));
	}
	{
		char *const a[] = {bin,        "--bootstrap", src_boot, "--topic",
				   "lg-mix:3", "--records",   "5",      NULL};
		rc = run_child(a, out, sizeof(out), errb, sizeof(errb));
		assert_int_equal(rc, 1);
		assert_non_null(strstr(errb, "topic lg-mix has 2 partitions"));
	}
	{
		char *const a[] = {bin, "--help", NULL};
		rc = run_child(a, out, sizeof(out), errb, sizeof(errb));
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "usage: isthmus-loadgen --bootstrap B"));
	}
}

/* --- setup -------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/isthmus-test-verify-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	src_host = new_client(RD_KAFKA_PRODUCER, NULL);
	dst_host = new_client(RD_KAFKA_PRODUCER, NULL);
	src_mc = rd_kafka_mock_cluster_new(src_host, 1);
	dst_mc = rd_kafka_mock_cluster_new(dst_host, 1);
	if (src_mc == NULL || dst_mc == NULL)
		return -1;
	snprintf(src_boot, sizeof(src_boot), "%s", rd_kafka_mock_cluster_bootstraps(src_mc));
	snprintf(dst_boot, sizeof(dst_boot), "%s", rd_kafka_mock_cluster_bootstraps(dst_mc));
	src_prod = new_client(RD_KAFKA_PRODUCER, src_boot);
	dst_prod = new_client(RD_KAFKA_PRODUCER, dst_boot);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free_recs();
	rd_kafka_destroy(src_prod);
	rd_kafka_destroy(dst_prod);
	rd_kafka_mock_cluster_destroy(src_mc);
	rd_kafka_mock_cluster_destroy(dst_mc);
	rd_kafka_destroy(src_host);
	rd_kafka_destroy(dst_host);
	if (tmpdir[0] != '\0')
		rmdir(tmpdir);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_parse),
		cmocka_unit_test(test_clean_copy),
		cmocka_unit_test(test_one_difference_each),
		cmocka_unit_test(test_misplaced),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_max_report),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_cli_binary),
		cmocka_unit_test(test_loadgen),
	};

	if (argc < 3) {
		fprintf(stderr, "usage: %s PATH-TO-isthmus PATH-TO-isthmus-loadgen\n", argv[0]);
		return 2;
	}
	isthmus_bin = argv[1];
	loadgen_bin = argv[2];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
