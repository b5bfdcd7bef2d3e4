/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Kafka adapters (drivers/ist_kafka.h) against librdkafka's in-process
 * mock cluster: the settings replication depends on (forced, and refused
 * when a cluster section contradicts them), overridable defaults, topic
 * listing, and the destination-tail reader that restart recovery trusts.
 *
 * Every topic is used by one test only (the mock cannot delete topics).
 * Records are written with the sink producer itself, so it is also shown to
 * work (idempotent, acks=all) against the mock.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "isthmus/provenance.h"
#include "ist_config.h"
#include "ist_kafka.h"

#define KAFKA_MS 10000

static rd_kafka_t *mock_host;
static rd_kafka_mock_cluster_t *mc;
static struct ist_cfg_kafka kcfg;
static rd_kafka_t *sink;   /* writes the test records */
static rd_kafka_t *reader; /* ist_kafka_reader_new() */
static int dr_ok, dr_failed;

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)fac;
	if (level <= 3)
		fprintf(stderr, "rdkafka: %s\n", buf);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	assert_ptr_equal(opaque, &dr_ok);
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
		dr_ok++;
	else
		dr_failed++;
}

/*
 * The tail reader's rd_kafka_consumer_poll() (linked with
 * -Wl,--wrap=rd_kafka_consumer_poll): passes through, except that the record
 * at hide_topic / hide_offset is dropped as if it were a transaction marker,
 * which takes an offset but is never handed to the application (the mock
 * writes no markers). The next poll then brings the partition EOF.
 */
rd_kafka_message_t *__real_rd_kafka_consumer_poll(rd_kafka_t *rk, int timeout_ms);
rd_kafka_message_t *__wrap_rd_kafka_consumer_poll(rd_kafka_t *rk, int timeout_ms);

static const char *hide_topic;
static int64_t hide_offset;
static int hidden;

rd_kafka_message_t *__wrap_rd_kafka_consumer_poll(rd_kafka_t *rk, int timeout_ms)
{
	rd_kafka_message_t *m = __real_rd_kafka_consumer_poll(rk, timeout_ms);

	if (m != NULL && hide_topic != NULL && m->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
	    m->offset == hide_offset && strcmp(rd_kafka_topic_name(m->rkt), hide_topic) == 0) {
		rd_kafka_message_destroy(m);
		hidden++;
		m = __real_rd_kafka_consumer_poll(rk, timeout_ms);
	}
	return m;
}

/* A cluster section as the config loader leaves it: prop names without "rdkafka.". */
static void cfg_reset(struct ist_cfg_kafka *k)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "dst");
	snprintf(k->bootstrap, sizeof(k->bootstrap), "%s", rd_kafka_mock_cluster_bootstraps(mc));
	snprintf(k->region, sizeof(k->region), "eu-west");
}

static void cfg_prop(struct ist_cfg_kafka *k, const char *name, const char *value)
{
	assert_true(k->n_props < IST_CFG_MAX_PROPS);
	snprintf(k->props[k->n_props].name, sizeof(k->props[0].name), "%s", name);
	snprintf(k->props[k->n_props].value, sizeof(k->props[0].value), "%s", value);
	k->n_props++;
}

/* The value librdkafka holds for @p name on a live handle. */
static const char *conf_of(rd_kafka_t *rk, const char *name)
{
	static char val[512];
	size_t size = sizeof(val);

	assert_int_equal(rd_kafka_conf_get(rd_kafka_conf(rk), name, val, &size), RD_KAFKA_CONF_OK);
	return val;
}

static void assert_one_line_naming(const char *err, const char *prop, const char *needed)
{
	char want[128];

	assert_null(strchr(err, '\n'));
	snprintf(want, sizeof(want), "rdkafka.%s", prop);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, needed));
	assert_non_null(strstr(err, "remove the line"));
	assert_non_null(strstr(err, "[kafka dst]"));
}

/*
 * Create @p name and tell the sink about it at once: a producer otherwise
 * learns a new topic's leaders on its next periodic scan.
 */
static void mk_topic(const char *name, int parts)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt;

	assert_int_equal(rd_kafka_mock_topic_create(mc, name, parts, 1),
			 RD_KAFKA_RESP_ERR_NO_ERROR);
	rkt = rd_kafka_topic_new(sink, name, NULL);
	assert_non_null(rkt);
	assert_int_equal(rd_kafka_metadata(sink, 0, rkt, &md, KAFKA_MS),
			 RD_KAFKA_RESP_ERR_NO_ERROR);
	rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
}

/* Provenance of one destination record; offset NULL: no provenance at all. */
struct prov {
	const char *region, *cluster, *topic, *partition, *offset;
};

/* Produce one record to @p topic [@p part] with the source's own headers, then @p p's. */
static void produce(const char *topic, int32_t part, const char *value, const struct prov *own,
		    const struct prov *p)
{
	rd_kafka_headers_t *h = rd_kafka_headers_new(12);
	const struct prov *sets[2] = {own, p};
	int before = dr_ok + dr_failed, i;
	rd_kafka_resp_err_t e;

	rd_kafka_header_add(h, "content-type", -1, "text/plain", -1);
	for (i = 0; i < 2; i++) {
		if (sets[i] == NULL)
			continue;
		rd_kafka_header_add(h, IST_PROV_REGION, -1, sets[i]->region, -1);
		rd_kafka_header_add(h, IST_PROV_CLUSTER, -1, sets[i]->cluster, -1);
		rd_kafka_header_add(h, IST_PROV_TOPIC, -1, sets[i]->topic, -1);
		rd_kafka_header_add(h, IST_PROV_PARTITION, -1, sets[i]->partition, -1);
		rd_kafka_header_add(h, IST_PROV_OFFSET, -1, sets[i]->offset, -1);
	}
	e = rd_kafka_producev(sink, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
			      RD_KAFKA_V_VALUE((void *)value, strlen(value)),
			      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
			      RD_KAFKA_V_END);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_headers_destroy(h);
	assert_int_equal(e, RD_KAFKA_RESP_ERR_NO_ERROR);
	assert_int_equal(rd_kafka_flush(sink, KAFKA_MS), RD_KAFKA_RESP_ERR_NO_ERROR);
	assert_int_equal(dr_ok + dr_failed, before + 1);
	assert_int_equal(dr_failed, 0);
}

static void produce_prov(const char *topic, int32_t part, const char *src_offset)
{
	const struct prov p = {"us-east", "src-a", "orders", "2", src_offset};

	produce(topic, part, "v", NULL, &p);
}

/* ---- configuration ---- */

static void test_source_forced(void **state)
{
	char err[512] = "";
	rd_kafka_t *rk;

	(void)state;
	cfg_reset(&kcfg);
	rk = ist_kafka_source_new(&kcfg, "kt-src", "isthmus-kt", err, sizeof(err));
	assert_non_null(rk);
	assert_string_equal(conf_of(rk, "isolation.level"), "read_committed");
	assert_string_equal(conf_of(rk, "enable.auto.commit"), "false");
	assert_string_equal(conf_of(rk, "enable.auto.offset.store"), "false");
	assert_string_equal(conf_of(rk, "auto.offset.reset"), "error");
	assert_string_equal(conf_of(rk, "group.id"), "isthmus-kt");
	assert_string_equal(conf_of(rk, "client.id"), "kt-src");
	/* An our-default shows through when the cluster section says nothing. */
	assert_string_equal(conf_of(rk, "fetch.wait.max.ms"), "50");
	rd_kafka_destroy(rk);

	/* Restating a forced value is no contradiction. */
	cfg_prop(&kcfg, "isolation.level", "read_committed");
	cfg_prop(&kcfg, "fetch.wait.max.ms", "200");
	rk = ist_kafka_source_new(&kcfg, "kt-src", "isthmus-kt", err, sizeof(err));
	assert_non_null(rk);
	assert_string_equal(conf_of(rk, "isolation.level"), "read_committed");
	assert_string_equal(conf_of(rk, "fetch.wait.max.ms"), "200");
	rd_kafka_destroy(rk);
}

static void test_source_refusals(void **state)
{
	static const struct {
		const char *name, *bad, *needed;
	} cases[] = {
		{"isolation.level", "read_uncommitted", "isolation.level = read_committed"},
		{"enable.auto.commit", "true", "enable.auto.commit = false"},
		{"enable.auto.offset.store", "true", "enable.auto.offset.store = false"},
		{"auto.offset.reset", "earliest", "auto.offset.reset = error"},
	};
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg_reset(&kcfg);
		cfg_prop(&kcfg, "linger.ms", "7");
		cfg_prop(&kcfg, cases[i].name, cases[i].bad);
		err[0] = '\0';
		assert_null(ist_kafka_source_new(&kcfg, "kt-src", "g", err, sizeof(err)));
		assert_one_line_naming(err, cases[i].name, cases[i].needed);
		assert_non_null(strstr(err, cases[i].bad));
	}
	/* The same with the "rdkafka." prefix still on the name. */
	cfg_reset(&kcfg);
	cfg_prop(&kcfg, "rdkafka.isolation.level", "read_uncommitted");
	err[0] = '\0';
	assert_null(ist_kafka_source_new(&kcfg, "kt-src", "g", err, sizeof(err)));
	assert_one_line_naming(err, "isolation.level", "read_committed");
}

static void test_sink_forced(void **state)
{
	char err[512] = "";
	const char *acks;
	rd_kafka_t *rk;

	(void)state;
	cfg_reset(&kcfg);
	rk = ist_kafka_sink_new(&kcfg, "kt-sink", dr_cb, &dr_ok, err, sizeof(err));
	assert_non_null(rk);
	assert_string_equal(conf_of(rk, "enable.idempotence"), "true");
	acks = conf_of(rk, "acks");
	assert_true(strcmp(acks, "all") == 0 || strcmp(acks, "-1") == 0);
	assert_string_equal(conf_of(rk, "linger.ms"), "5");
	assert_ptr_equal(rd_kafka_opaque(rk), &dr_ok);
	rd_kafka_destroy(rk);

	/* Defaults are ours, not replication's: a cluster section overrides them. */
	cfg_prop(&kcfg, "linger.ms", "50");
	cfg_prop(&kcfg, "batch.size", "65536");
	rk = ist_kafka_sink_new(&kcfg, "kt-sink", dr_cb, &dr_ok, err, sizeof(err));
	assert_non_null(rk);
	assert_string_equal(conf_of(rk, "linger.ms"), "50");
	assert_string_equal(conf_of(rk, "batch.size"), "65536");
	assert_string_equal(conf_of(rk, "enable.idempotence"), "true");
	rd_kafka_destroy(rk);
}

static void test_sink_refusals(void **state)
{
	char err[512];

	(void)state;
	cfg_reset(&kcfg);
	cfg_prop(&kcfg, "enable.idempotence", "false");
	err[0] = '\0';
	assert_null(ist_kafka_sink_new(&kcfg, "kt-sink", dr_cb, &dr_ok, err, sizeof(err)));
	assert_one_line_naming(err, "enable.idempotence", "enable.idempotence = true");

	cfg_reset(&kcfg);
	cfg_prop(&kcfg, "acks", "1");
	err[0] = '\0';
	assert_null(ist_kafka_sink_new(&kcfg, "kt-sink", dr_cb, &dr_ok, err, sizeof(err)));
	assert_one_line_naming(err, "acks", "acks = all");

	/* A property librdkafka does not know: its own message, one line, named. */
	cfg_reset(&kcfg);
	cfg_prop(&kcfg, "no.such.property", "1");
	err[0] = '\0';
	assert_null(ist_kafka_sink_new(&kcfg, "kt-sink", dr_cb, &dr_ok, err, sizeof(err)));
	assert_non_null(strstr(err, "rdkafka.no.such.property = 1"));
	assert_null(strchr(err, '\n'));
}

static void test_reader_settings(void **state)
{
	char err[512] = "";
	rd_kafka_t *rk;

	(void)state;
	/* The reader ignores the cluster's isolation.level: it is not replicating. */
	cfg_reset(&kcfg);
	cfg_prop(&kcfg, "isolation.level", "read_committed");
	rk = ist_kafka_reader_new(&kcfg, "kt-reader", err, sizeof(err));
	assert_non_null(rk);
	assert_string_equal(conf_of(rk, "enable.auto.commit"), "false");
	assert_string_equal(conf_of(rk, "enable.partition.eof"), "true");
	rd_kafka_destroy(rk);
}

/* ---- topics ---- */

static void test_topics(void **state)
{
	struct ist_kafka_topic tp[64];
	char err[256] = "";
	int n, i, seen_a = 0, seen_b = 0;

	(void)state;
	mk_topic("kt-list-a", 3);
	mk_topic("kt-list-b", 1);
	mk_topic("__kt_internal", 2);
	n = ist_kafka_topics(reader, KAFKA_MS, tp, 64, err, sizeof(err));
	assert_true(n >= 2);
	for (i = 0; i < n; i++) {
		assert_false(strncmp(tp[i].name, "__", 2) == 0);
		if (strcmp(tp[i].name, "kt-list-a") == 0) {
			seen_a++;
			assert_int_equal(tp[i].partitions, 3);
		} else if (strcmp(tp[i].name, "kt-list-b") == 0) {
			seen_b++;
			assert_int_equal(tp[i].partitions, 1);
		}
	}
	assert_int_equal(seen_a, 1);
	assert_int_equal(seen_b, 1);

	/* At most max. */
	assert_int_equal(ist_kafka_topics(reader, KAFKA_MS, tp, 1, err, sizeof(err)), 1);
	assert_int_equal(ist_kafka_topics(reader, KAFKA_MS, tp, 0, err, sizeof(err)), 0);
}

/* ---- destination tail ---- */

static void test_tail_empty(void **state)
{
	struct ist_kafka_tail t;
	char err[512] = "";

	(void)state;
	mk_topic("kt-tail-empty", 2);
	assert_int_equal(
		ist_kafka_tail_read(reader, "kt-tail-empty", 1, KAFKA_MS, &t, err, sizeof(err)), 0);
	assert_true(t.empty);
	assert_true(t.low == 0 && t.high == 0);
}

static void test_tail_provenance(void **state)
{
	struct ist_kafka_tail t;
	char err[512] = "";

	(void)state;
	mk_topic("kt-tail-prov", 2);
	produce_prov("kt-tail-prov", 1, "100");
	produce_prov("kt-tail-prov", 1, "101");
	produce_prov("kt-tail-prov", 1, "102");
	assert_int_equal(
		ist_kafka_tail_read(reader, "kt-tail-prov", 1, KAFKA_MS, &t, err, sizeof(err)), 0);
	assert_false(t.empty);
	assert_true(t.low == 0 && t.high == 3);
	assert_true(t.next_offset == 103);
	assert_int_equal(t.partition, 2);
	assert_string_equal(t.cluster, "src-a");
	assert_string_equal(t.topic, "orders");
	assert_string_equal(t.region, "us-east");

	/* Partition 0 of the same topic is still empty. */
	assert_int_equal(
		ist_kafka_tail_read(reader, "kt-tail-prov", 0, KAFKA_MS, &t, err, sizeof(err)), 0);
	assert_true(t.empty);

	/* More than the look-back window: still the last record. */
	for (int i = 0; i < 20; i++) {
		char off[16];

		snprintf(off, sizeof(off), "%d", 200 + i);
		produce_prov("kt-tail-prov", 0, off);
	}
	assert_int_equal(
		ist_kafka_tail_read(reader, "kt-tail-prov", 0, KAFKA_MS, &t, err, sizeof(err)), 0);
	assert_true(t.high == 20);
	assert_true(t.next_offset == 220);
}

static void test_tail_foreign(void **state)
{
	struct ist_kafka_tail t;
	char err[512] = "";

	(void)state;
	mk_topic("kt-tail-foreign", 1);
	produce_prov("kt-tail-foreign", 0, "7");
	produce_prov("kt-tail-foreign", 0, "8");
	produce("kt-tail-foreign", 0, "intruder", NULL, NULL);
	assert_int_equal(
		ist_kafka_tail_read(reader, "kt-tail-foreign", 0, KAFKA_MS, &t, err, sizeof(err)),
		-EPROTO);
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, "kt-tail-foreign"));
	assert_non_null(strstr(err, "offset 2"));
	assert_non_null(strstr(err, "provenance"));

	/* Provenance with an offset that is not a number is no provenance. */
	mk_topic("kt-tail-garbled", 1);
	produce_prov("kt-tail-garbled", 0, "7");
	produce_prov("kt-tail-garbled", 0, "12x");
	err[0] = '\0';
	assert_int_equal(
		ist_kafka_tail_read(reader, "kt-tail-garbled", 0, KAFKA_MS, &t, err, sizeof(err)),
		-EPROTO);
	assert_non_null(strstr(err, "kt-tail-garbled"));
	assert_non_null(strstr(err, "offset 1"));
}

/*
 * A missing topic. librdkafka 2.0.2's mock answers metadata at v2, which has
 * no AllowAutoTopicCreation field, and then creates the topic with 4
 * partitions, as a broker with auto.create.topics.enable would: the tail
 * reads empty. A broker that does not create it answers
 * UNKNOWN_TOPIC_OR_PART, which rd_kafka_mock_topic_set_error() reproduces.
 */
static void test_tail_missing(void **state)
{
	struct ist_kafka_topic tp[64];
	struct ist_kafka_tail t;
	char err[512] = "";
	int n, i, found = 0;

	(void)state;
	assert_int_equal(ist_kafka_tail_read(reader, "kt-tail-autocreated", 0, KAFKA_MS, &t, err,
					     sizeof(err)),
			 0);
	assert_true(t.empty);
	n = ist_kafka_topics(reader, KAFKA_MS, tp, 64, err, sizeof(err));
	for (i = 0; i < n; i++)
		if (strcmp(tp[i].name, "kt-tail-autocreated") == 0) {
			found++;
			assert_int_equal(tp[i].partitions, 4);
		}
	assert_int_equal(found, 1);

	rd_kafka_mock_topic_set_error(mc, "kt-tail-nonexistent",
				      RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
	err[0] = '\0';
	assert_int_equal(ist_kafka_tail_read(reader, "kt-tail-nonexistent", 0, KAFKA_MS, &t, err,
					     sizeof(err)),
			 -ENOENT);
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, "kt-tail-nonexistent [0] does not exist"));
	assert_non_null(strstr(err, "create it with at least 1 partitions"));
	/* ... and is not listed. */
	n = ist_kafka_topics(reader, KAFKA_MS, tp, 64, err, sizeof(err));
	assert_true(n > 0);
	for (i = 0; i < n; i++)
		assert_string_not_equal(tp[i].name, "kt-tail-nonexistent");

	/* A partition the topic does not have. */
	mk_topic("kt-tail-1part", 1);
	err[0] = '\0';
	assert_int_equal(
		ist_kafka_tail_read(reader, "kt-tail-1part", 4, KAFKA_MS, &t, err, sizeof(err)),
		-ENOENT);
	assert_non_null(strstr(err, "kt-tail-1part [4] does not exist"));
	assert_non_null(strstr(err, "at least 5 partitions"));
}

/*
 * A source record replicated before (its own provenance headers, from an
 * earlier hop) gets ours after them: the last of each name is ours.
 */
static void test_tail_duplicate_provenance(void **state)
{
	const struct prov upstream = {"ap-south", "far", "orders-upstream", "9", "999"};
	const struct prov ours = {"us-east", "src-a", "orders", "3", "41"};
	struct ist_kafka_tail t;
	char err[512] = "";

	(void)state;
	mk_topic("kt-tail-dup", 1);
	produce("kt-tail-dup", 0, "twice", &upstream, &ours);
	assert_int_equal(
		ist_kafka_tail_read(reader, "kt-tail-dup", 0, KAFKA_MS, &t, err, sizeof(err)), 0);
	assert_true(t.next_offset == 42);
	assert_int_equal(t.partition, 3);
	assert_string_equal(t.cluster, "src-a");
	assert_string_equal(t.topic, "orders");
	assert_string_equal(t.region, "us-east");
}

/*
 * The last offset is a marker the reader never sees: the last record it
 * sees decides, and a foreign one is still refused (not reported as the
 * previous record's provenance).
 */
static void test_tail_marker_at_end(void **state)
{
	struct ist_kafka_tail t;
	char err[512] = "";

	(void)state;
	mk_topic("kt-tail-marker-ok", 1);
	produce_prov("kt-tail-marker-ok", 0, "7");
	produce_prov("kt-tail-marker-ok", 0, "8");
	produce_prov("kt-tail-marker-ok", 0, "9"); /* "the marker" */
	hide_topic = "kt-tail-marker-ok";
	hide_offset = 2;
	hidden = 0;
	assert_int_equal(
		ist_kafka_tail_read(reader, "kt-tail-marker-ok", 0, KAFKA_MS, &t, err, sizeof(err)),
		0);
	assert_int_equal(hidden, 1);
	assert_true(t.high == 3);
	assert_true(t.next_offset == 9);

	mk_topic("kt-tail-marker-foreign", 1);
	produce_prov("kt-tail-marker-foreign", 0, "7");
	produce("kt-tail-marker-foreign", 0, "intruder", NULL, NULL);
	produce_prov("kt-tail-marker-foreign", 0, "9"); /* "the marker" */
	hide_topic = "kt-tail-marker-foreign";
	hidden = 0;
	err[0] = '\0';
	assert_int_equal(ist_kafka_tail_read(reader, "kt-tail-marker-foreign", 0, KAFKA_MS, &t, err,
					     sizeof(err)),
			 -EPROTO);
	hide_topic = NULL;
	assert_int_equal(hidden, 1);
	/* The record named is the foreign one, not the last offset. */
	assert_non_null(strstr(err, "kt-tail-marker-foreign [0]"));
	assert_non_null(strstr(err, "offset 1 "));
}

/* A provenance partition outside int32 is no provenance (not partition 2). */
static void test_tail_partition_range(void **state)
{
	const struct prov wide = {"us-east", "src-a", "orders", "4294967298", "5"};
	const struct prov neg = {"us-east", "src-a", "orders", "-1", "5"};
	struct ist_kafka_tail t;
	char err[512] = "";

	(void)state;
	mk_topic("kt-tail-part-wide", 1);
	produce("kt-tail-part-wide", 0, "v", NULL, &wide);
	assert_int_equal(
		ist_kafka_tail_read(reader, "kt-tail-part-wide", 0, KAFKA_MS, &t, err, sizeof(err)),
		-EPROTO);
	mk_topic("kt-tail-part-neg", 1);
	produce("kt-tail-part-neg", 0, "v", NULL, &neg);
	assert_int_equal(
		ist_kafka_tail_read(reader, "kt-tail-part-neg", 0, KAFKA_MS, &t, err, sizeof(err)),
		-EPROTO);
}

/* ---- provenance names ---- */

static void test_is_provenance(void **state)
{
	(void)state;
	assert_true(ist_kafka_is_provenance(IST_PROV_REGION));
	assert_true(ist_kafka_is_provenance(IST_PROV_CLUSTER));
	assert_true(ist_kafka_is_provenance(IST_PROV_TOPIC));
	assert_true(ist_kafka_is_provenance(IST_PROV_PARTITION));
	assert_true(ist_kafka_is_provenance(IST_PROV_OFFSET));
	assert_true(ist_kafka_is_provenance("isthmus.origin.offset"));
	assert_false(ist_kafka_is_provenance("isthmus.origin."));
	assert_false(ist_kafka_is_provenance("isthmus.origin.offsets"));
	assert_false(ist_kafka_is_provenance("isthmus.origin.offse"));
	assert_false(ist_kafka_is_provenance("isthmus.origin.other"));
	assert_false(ist_kafka_is_provenance("Isthmus.origin.offset"));
	assert_false(ist_kafka_is_provenance("x-isthmus.origin.offset"));
	assert_false(ist_kafka_is_provenance("offset"));
	assert_false(ist_kafka_is_provenance(""));
}

/* ---- setup ---- */

static int group_setup(void **state)
{
	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	(void)state;
	rd_kafka_conf_set_log_cb(conf, quiet_log);
	mock_host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (mock_host == NULL)
		return -1;
	mc = rd_kafka_mock_cluster_new(mock_host, 1);
	if (mc == NULL)
		return -1;
	cfg_reset(&kcfg);
	sink = ist_kafka_sink_new(&kcfg, "kt-writer", dr_cb, &dr_ok, errstr, sizeof(errstr));
	reader = ist_kafka_reader_new(&kcfg, "kt-reader", errstr, sizeof(errstr));
	if (sink == NULL || reader == NULL) {
		fprintf(stderr, "setup: %s\n", errstr);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (reader != NULL) {
		rd_kafka_consumer_close(reader);
		rd_kafka_destroy(reader);
	}
	if (sink != NULL)
		rd_kafka_destroy(sink);
	if (mc != NULL)
		rd_kafka_mock_cluster_destroy(mc);
	if (mock_host != NULL)
		rd_kafka_destroy(mock_host);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_forced),
		cmocka_unit_test(test_source_refusals),
		cmocka_unit_test(test_sink_forced),
		cmocka_unit_test(test_sink_refusals),
		cmocka_unit_test(test_reader_settings),
		cmocka_unit_test(test_topics),
		cmocka_unit_test(test_tail_empty),
		cmocka_unit_test(test_tail_provenance),
		cmocka_unit_test(test_tail_foreign),
		cmocka_unit_test(test_tail_missing),
		cmocka_unit_test(test_tail_duplicate_provenance),
		cmocka_unit_test(test_tail_marker_at_end),
		cmocka_unit_test(test_tail_partition_range),
		cmocka_unit_test(test_is_provenance),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
