/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus-loadgen: produce a reproducible record mix into a region's Kafka
 * cluster (an isthmus-region mock cluster or a real one), for demos, tests
 * and the perf harness. `isthmus verify` then checks what was replicated.
 *
 *   isthmus-loadgen --bootstrap B --topic T[:PARTITIONS]... (--records N | --duration S)
 *                   [--rate R] [--value-size BYTES] [--keys K] [--seed S]
 *                   [--headers] [--nulls] [--json] [--txn-abort-every N]
 *
 * Records go round robin over the topics. The producer is idempotent with
 * acks=all; with --txn-abort-every it is transactional and aborts every Nth
 * transaction (readers with isolation.level=read_committed must skip those
 * records; the mock cluster does not filter them, docs/REGION.md). Keys,
 * shapes, sizes and header counts come from a seeded splitmix64 generator,
 * so a seed gives the same records every run (timestamps stamped by the
 * producer aside). Progress goes to stderr once a second; the last line on
 * stdout is "loadgen: produced N records to T in S s (R rec/s)", counting
 * records the cluster acknowledged (in committed transactions).
 *
 * Exit status: 0 done, 1 Kafka errors (unreachable cluster, failed
 * deliveries), 2 bad command line. Errors are one line on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "tool_util.h"

#define LG_MAX_TOPICS      16
#define LG_MAX_VALUE       (1024u * 1024u)
#define LG_DEF_VALUE       100u
#define LG_DEF_JSON_VALUE  1024u
#define LG_DEF_TXN_RECORDS 100u
#define LG_FLUSH_MS        30000
#define LG_EXPLICIT_TS     1577836800000LL /* 2020-01-01T00:00:00Z */

static const char usage[] =
	"usage: isthmus-loadgen --bootstrap B --topic T[:PARTITIONS] [--topic ...]\n"
	"                       (--records N | --duration S) [--rate R] [--value-size BYTES]\n"
	"                       [--keys K] [--seed S] [--headers] [--nulls] [--json]\n"
	"                       [--txn-abort-every N [--txn-records M]] [--timeout S]\n"
	"\n"
	"Produce records into a Kafka cluster (e.g. an isthmus-region) with an idempotent\n"
	"producer, acks=all, round robin over the topics.\n"
	"\n"
	"  --bootstrap B        bootstrap servers (HOST:PORT[,...]), e.g. an isthmus-region's\n"
	"                       BOOTSTRAP line\n"
	"  --topic T[:P]        a topic (repeatable, up to 16); with :P it must have P\n"
	"                       partitions and is created with P if missing (clusters with\n"
	"                       CreateTopics only; for the mock use isthmus-region --topic T:P)\n"
	"  --records N          produce N records in all, or\n"
	"  --duration S         produce for S seconds\n"
	"  --rate R             records per second, 0 = as fast as possible (default 0)\n"
	"  --value-size BYTES   value size, 0..1048576 (default 100; 1024 with --json)\n"
	"  --keys K             keys key-0..key-(K-1), picked at random; 0 = null keys, spread\n"
	"                       round robin over the partitions (default 0)\n"
	"  --seed S             seed of the record mix (default 1)\n"
	"  --headers            0-3 headers per record: trace-id, tag, tag (a duplicate name)\n"
	"                       whose value is null\n"
	"  --nulls              edge cases, one record in eight each: null key, empty key,\n"
	"                       null value, empty value, binary value with NUL bytes, an\n"
	"                       explicit timestamp (from 2020-01-01T00:00:00Z)\n"
	"  --json               values are JSON events (about --value-size bytes)\n"
	"  --txn-abort-every N  transactional producer, --txn-records M records per\n"
	"                       transaction (default 100), every Nth transaction aborted\n"
	"  --timeout S          to reach the cluster (default 10)\n"
	"  -h, --help           this text\n"
	"\n"
	"Progress goes to stderr every second; the last line on stdout is\n"
	"  loadgen: produced N records to T in S s (R rec/s)\n"
	"exit status: 0 done, 1 Kafka error (unreachable, failed deliveries), 2 bad usage\n";

struct lg_topic {
	char name[250];
	int32_t want_partitions; /* 0: as it is */
	int32_t partitions;
	rd_kafka_topic_t *rkt;
	uint64_t rr; /* round robin for null keys */
};

struct lg_opts {
	const char *bootstrap;
	struct lg_topic topics[LG_MAX_TOPICS];
	unsigned int n_topics;
	uint64_t records; /* 0: use duration */
	uint64_t duration_s;
	uint64_t rate;
	uint32_t value_size;
	bool value_size_set;
	uint32_t keys;
	uint64_t seed;
	bool headers, nulls, json;
	uint32_t txn_abort_every;
	uint32_t txn_records;
	uint32_t timeout_s;
};

struct lg_stats {
	uint64_t sent, acked, failed, bytes;
	char first_error[256];
};

static volatile sig_atomic_t lg_stop;

static void lg_on_signal(int sig)
{
	(void)sig;
	lg_stop = 1;
}

static uint64_t lg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64: tiny, seedable and the same on every libc, which rand_r() is not. */
static uint64_t lg_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static bool lg_topic_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 249)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

#define LG_USAGE_ERR(...) IST_TOOL_USAGE_ERR("isthmus-loadgen", __VA_ARGS__)

/* @return 0, 1 for --help (exit 0), 2 for a usage error (printed). */
static int lg_parse(int argc, char **argv, struct lg_opts *o)
{
	enum {
		O_BOOT = 256,
		O_TOPIC,
		O_RECORDS,
		O_DURATION,
		O_RATE,
		O_VSIZE,
		O_KEYS,
		O_SEED,
		O_HEADERS,
		O_NULLS,
		O_JSON,
		O_TXN_ABORT,
		O_TXN_RECORDS,
		O_TIMEOUT
	};
	static const struct option longopts[] = {
		{"bootstrap", required_argument, NULL, O_BOOT},
		{"topic", required_argument, NULL, O_TOPIC},
		{"records", required_argument, NULL, O_RECORDS},
		{"duration", required_argument, NULL, O_DURATION},
		{"rate", required_argument, NULL, O_RATE},
		{"value-size", required_argument, NULL, O_VSIZE},
		{"keys", required_argument, NULL, O_KEYS},
		{"seed", required_argument, NULL, O_SEED},
		{"headers", no_argument, NULL, O_HEADERS},
		{"nulls", no_argument, NULL, O_NULLS},
		{"json", no_argument, NULL, O_JSON},
		{"txn-abort-every", required_argument, NULL, O_TXN_ABORT},
		{"txn-records", required_argument, NULL, O_TXN_RECORDS},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool has_records = false, has_duration = false;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->txn_records = LG_DEF_TXN_RECORDS;
	o->timeout_s = 10;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case O_BOOT:
			if (*optarg == '\0')
				LG_USAGE_ERR("--bootstrap needs HOST:PORT[,HOST:PORT...]");
			o->bootstrap = optarg;
			break;
		case O_TOPIC: {
			struct lg_topic *t;
			const char *colon = strchr(optarg, ':');
			size_t n = colon ? (size_t)(colon - optarg) : strlen(optarg);

			if (o->n_topics >= LG_MAX_TOPICS)
				LG_USAGE_ERR("more than %d --topic options", LG_MAX_TOPICS);
			if (!lg_topic_name_ok(optarg, n))
				LG_USAGE_ERR("topic '%.*s' is not a topic name (1-249 of A-Z a-z "
					     "0-9 . _ -)",
					     (int)n, optarg);
			t = &o->topics[o->n_topics++];
			memcpy(t->name, optarg, n);
			t->name[n] = '\0';
			if (colon != NULL) {
				if (!ist_tool_u64(colon + 1, 100000, &v) || v == 0)
					LG_USAGE_ERR(
						"topic spec '%s': partitions '%s' is not a number "
						"from 1 to 100000",
						optarg, colon + 1);
				t->want_partitions = (int32_t)v;
			}
			break;
		}
		case O_RECORDS:
			if (!ist_tool_u64(optarg, UINT64_MAX / 2, &o->records) || o->records == 0)
				LG_USAGE_ERR("--records '%s' is not a positive whole number",
					     optarg);
			has_records = true;
			break;
		case O_DURATION:
			if (!ist_tool_u64(optarg, 31u * 86400u, &o->duration_s) ||
			    o->duration_s == 0)
				LG_USAGE_ERR("--duration '%s' is not seconds from 1 to %u", optarg,
					     31u * 86400u);
			has_duration = true;
			break;
		case O_RATE:
			if (!ist_tool_u64(optarg, 100000000u, &o->rate))
				LG_USAGE_ERR(
					"--rate '%s' is not records per second from 0 to 100000000",
					optarg);
			break;
		case O_VSIZE:
			if (!ist_tool_u64(optarg, LG_MAX_VALUE, &v))
				LG_USAGE_ERR("--value-size '%s' is not bytes from 0 to %u", optarg,
					     LG_MAX_VALUE);
			o->value_size = (uint32_t)v;
			o->value_size_set = true;
			break;
		case O_KEYS:
			if (!ist_tool_u64(optarg, UINT32_MAX, &v))
				LG_USAGE_ERR("--keys '%s' is not a count from 0 to %u", optarg,
					     UINT32_MAX);
			o->keys = (uint32_t)v;
			break;
		case O_SEED:
			if (!ist_tool_u64(optarg, UINT64_MAX, &o->seed))
				LG_USAGE_ERR("--seed '%s' is not a whole number", optarg);
			break;
		case O_HEADERS:
			o->headers = true;
			break;
		case O_NULLS:
			o->nulls = true;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_TXN_ABORT:
			if (!ist_tool_u64(optarg, UINT32_MAX, &v) || v == 0)
				LG_USAGE_ERR("--txn-abort-every '%s' is not a positive count",
					     optarg);
			o->txn_abort_every = (uint32_t)v;
			break;
		case O_TXN_RECORDS:
			if (!ist_tool_u64(optarg, 1000000, &v) || v == 0)
				LG_USAGE_ERR("--txn-records '%s' is not a count from 1 to 1000000",
					     optarg);
			o->txn_records = (uint32_t)v;
			break;
		case O_TIMEOUT:
			if (!ist_tool_u64(optarg, 3600, &v) || v == 0)
				LG_USAGE_ERR("--timeout '%s' is not seconds from 1 to 3600",
					     optarg);
			o->timeout_s = (uint32_t)v;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case ':':
			LG_USAGE_ERR("%s needs a value", argv[optind - 1]);
		default:
			LG_USAGE_ERR("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		LG_USAGE_ERR("unexpected argument '%s'", argv[optind]);
	if (o->bootstrap == NULL)
		LG_USAGE_ERR("--bootstrap is required");
	if (o->n_topics == 0)
		LG_USAGE_ERR("at least one --topic is required");
	if (has_records == has_duration)
		LG_USAGE_ERR("give exactly one of --records N and --duration S");
	if (!o->value_size_set)
		o->value_size = o->json ? LG_DEF_JSON_VALUE : LG_DEF_VALUE;
	return 0;
}

static void lg_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct lg_stats *st = opaque;

	(void)rk;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		st->acked++;
		return;
	}
	/* Records purged by an abort are not failures: the abort was asked for. */
	if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
		return;
	st->failed++;
	if (st->first_error[0] == '\0')
		snprintf(st->first_error, sizeof(st->first_error), "%s", rd_kafka_err2str(m->err));
}

static char lg_last_err[512];

static void lg_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)err;
	(void)opaque;
	snprintf(lg_last_err, sizeof(lg_last_err), "%s", reason);
}

/* librdkafka's own log lines would break the one-line error rule. */
static void lg_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

static rd_kafka_t *lg_producer(const struct lg_opts *o, struct lg_stats *st)
{
	char errstr[512], txn_id[64];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	struct {
		const char *k, *v;
	} set[] = {
		{"bootstrap.servers", o->bootstrap}, {"client.id", "isthmus-loadgen"},
		{"enable.idempotence", "true"},      {"acks", "all"},
		{"partitioner", "murmur2_random"},   {"linger.ms", "5"},
		{"message.max.bytes", "2000000"},    {"transactional.id", NULL},
	};
	rd_kafka_t *rk;
	size_t i;

	snprintf(txn_id, sizeof(txn_id), "isthmus-loadgen-%ld-%" PRIu64, (long)getpid(), o->seed);
	set[7].v = o->txn_abort_every ? txn_id : NULL;
	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		if (set[i].v == NULL)
			continue;
		if (rd_kafka_conf_set(conf, set[i].k, set[i].v, errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK) {
			fprintf(stderr, "isthmus-loadgen: librdkafka refuses %s = '%s': %s\n",
				set[i].k, set[i].v, errstr);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	rd_kafka_conf_set_opaque(conf, st);
	rd_kafka_conf_set_dr_msg_cb(conf, lg_dr_cb);
	rd_kafka_conf_set_error_cb(conf, lg_error_cb);
	rd_kafka_conf_set_log_cb(conf, lg_log_cb);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		fprintf(stderr, "isthmus-loadgen: cannot create a producer: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

/* Create a missing T:P through the Admin API (the mock cluster has none). */
static int lg_create_topic(rd_kafka_t *rk, const struct lg_opts *o, struct lg_topic *t)
{
	rd_kafka_NewTopic_t *nt;
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_event_t *ev;
	const rd_kafka_CreateTopics_result_t *res;
	const rd_kafka_topic_result_t **tr;
	char errstr[256] = "";
	size_t n = 0;
	int rc = -1;

	nt = rd_kafka_NewTopic_new(t->name, t->want_partitions, -1, errstr, sizeof(errstr));
	if (nt == NULL) {
		fprintf(stderr, "isthmus-loadgen: cannot create topic %s:%d: %s\n", t->name,
			t->want_partitions, errstr);
		rd_kafka_queue_destroy(q);
		return -1;
	}
	rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
	ev = rd_kafka_queue_poll(q, (int)o->timeout_s * 1000);
	res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
	if (ev == NULL) {
		snprintf(errstr, sizeof(errstr),
			 "no answer within %u s: the cluster may not support CreateTopics",
			 o->timeout_s);
	} else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(errstr, sizeof(errstr), "%s", rd_kafka_event_error_string(ev));
	} else if (res != NULL) {
		tr = rd_kafka_CreateTopics_result_topics(res, &n);
		if (n == 1 && rd_kafka_topic_result_error(tr[0]) == RD_KAFKA_RESP_ERR_NO_ERROR)
			rc = 0;
		else if (n == 1)
			snprintf(errstr, sizeof(errstr), "%s",
				 rd_kafka_topic_result_error_string(tr[0])
					 ? rd_kafka_topic_result_error_string(tr[0])
					 : rd_kafka_err2str(rd_kafka_topic_result_error(tr[0])));
	}
	if (rc < 0)
		fprintf(stderr,
			"isthmus-loadgen: topic %s does not exist in %s and cannot be created with "
			"%d partitions (%s); create it first, e.g. isthmus-region --topic %s:%d\n",
			t->name, o->bootstrap, t->want_partitions, errstr, t->name,
			t->want_partitions);
	else
		t->partitions = t->want_partitions;
	if (ev != NULL)
		rd_kafka_event_destroy(ev);
	rd_kafka_NewTopic_destroy(nt);
	rd_kafka_queue_destroy(q);
	return rc;
}

/* Reach the cluster and learn every topic's partition count. @return 0 or 1 (exit status). */
static int lg_prepare(rd_kafka_t *rk, struct lg_opts *o)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t e;
	unsigned int i;
	int j;

	e = rd_kafka_metadata(rk, 1, NULL, &md, (int)o->timeout_s * 1000);
	rd_kafka_poll(rk, 0);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr,
			"isthmus-loadgen: cannot reach cluster %s within %u s: %s; check "
			"--bootstrap\n",
			o->bootstrap, o->timeout_s,
			lg_last_err[0] ? lg_last_err : rd_kafka_err2str(e));
		return 1;
	}
	for (i = 0; i < o->n_topics; i++) {
		struct lg_topic *t = &o->topics[i];

		for (j = 0; j < md->topic_cnt; j++)
			if (strcmp(md->topics[j].topic, t->name) == 0 &&
			    md->topics[j].err == RD_KAFKA_RESP_ERR_NO_ERROR)
				t->partitions = md->topics[j].partition_cnt;
	}
	rd_kafka_metadata_destroy(md);
	for (i = 0; i < o->n_topics; i++) {
		struct lg_topic *t = &o->topics[i];

		if (t->partitions == 0 && t->want_partitions == 0) {
			fprintf(stderr,
				"isthmus-loadgen: topic %s does not exist in %s; create it "
				"(isthmus-region --topic %s:PARTITIONS) or give --topic "
				"%s:PARTITIONS\n",
				t->name, o->bootstrap, t->name, t->name);
			return 1;
		}
		if (t->partitions == 0 && lg_create_topic(rk, o, t) < 0)
			return 1;
		if (t->want_partitions != 0 && t->partitions != t->want_partitions) {
			fprintf(stderr,
				"isthmus-loadgen: topic %s has %d partitions in %s, not %d; "
				"give --topic %s:%d or --topic %s\n",
				t->name, t->partitions, o->bootstrap, t->want_partitions, t->name,
				t->partitions, t->name);
			return 1;
		}
		t->rkt = rd_kafka_topic_new(rk, t->name, NULL);
		if (t->rkt == NULL) {
			fprintf(stderr, "isthmus-loadgen: cannot use topic %s: %s\n", t->name,
				rd_kafka_err2str(rd_kafka_last_error()));
			return 1;
		}
	}
	return 0;
}

/*
 * A JSON event of about @p target bytes (never less than its fields need),
 * in @p buf of @p size bytes. @return its length.
 */
static size_t lg_json_value(char *buf, size_t size, size_t target, uint64_t seq, const char *topic,
			    uint64_t *rng)
{
	static const char *const currencies[] = {"EUR", "USD", "GBP", "JPY"};
	uint64_t r = lg_rand(rng);
	int n, items = (int)(r % 4) + 1, i;
	size_t len;

	n = snprintf(buf, size,
		     "{\"event\":\"order\",\"seq\":%" PRIu64
		     ",\"topic\":\"%s\",\"user\":\"user-%" PRIu64 "\",\"amount_cents\":%" PRIu64
		     ",\"currency\":\"%s\",\"items\":[",
		     seq, topic, (r >> 8) % 100000, (r >> 24) % 1000000, currencies[(r >> 4) & 3]);
	len = n > 0 && (size_t)n < size ? (size_t)n : size - 1;
	for (i = 0; i < items && len < size; i++) {
		r = lg_rand(rng);
		n = snprintf(buf + len, size - len, "%s{\"sku\":\"sku-%05" PRIu64 "\",\"qty\":%u}",
			     i ? "," : "", r % 100000, (unsigned int)(r >> 40) % 9 + 1);
		len += n > 0 ? (size_t)n : 0;
	}
	if (len < size) {
		n = snprintf(buf + len, size - len, "],\"note\":\"");
		len += n > 0 ? (size_t)n : 0;
	}
	/* Pad the note so the event is about target bytes ("\"}" closes it). */
	if (target > size - 1)
		target = size - 1;
	while (len + 2 < target) {
		r = lg_rand(rng);
		buf[len++] = (char)('a' + r % 26);
	}
	if (len + 2 < size) {
		buf[len++] = '"';
		buf[len++] = '}';
	}
	buf[len] = '\0';
	return len;
}

/* Printable bytes, or with @p binary any byte and a NUL every seventh. */
static void lg_fill(char *buf, size_t n, bool binary, uint64_t *rng)
{
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i % 8 == 0)
			r = lg_rand(rng);
		if (binary)
			buf[i] = i % 7 == 0 ? '\0' : (char)(r & 0xff);
		else
			buf[i] = (char)(' ' + (r & 0xff) % 95);
		r >>= 8;
	}
}

/* Produce record @p seq. @return 0, or -1 on a produce error (printed). */
static int lg_produce_one(rd_kafka_t *rk, struct lg_opts *o, struct lg_stats *st, uint64_t seq,
			  uint64_t *rng, char *vbuf, size_t vcap)
{
	struct lg_topic *t = &o->topics[seq % o->n_topics];
	char key[32];
	const void *k = NULL, *v = vbuf;
	size_t klen = 0, vlen = o->value_size;
	int64_t ts = 0;
	int32_t part = RD_KAFKA_PARTITION_UA;
	rd_kafka_headers_t *hdrs = NULL;
	rd_kafka_resp_err_t e;
	unsigned int shape = 8, nh, i;
	bool binary = false;

	if (o->keys > 0) {
		klen = (size_t)snprintf(key, sizeof(key), "key-%" PRIu64, lg_rand(rng) % o->keys);
		k = key;
	}
	if (o->nulls)
		shape = (unsigned int)(lg_rand(rng) % 8);
	switch (shape) {
	case 0: /* null key */
		k = NULL;
		klen = 0;
		break;
	case 1: /* empty key */
		k = "";
		klen = 0;
		break;
	case 2: /* null value */
		v = NULL;
		vlen = 0;
		break;
	case 3: /* empty value */
		vlen = 0;
		break;
	case 4:
		binary = true;
		break;
	case 5:
		ts = LG_EXPLICIT_TS + (int64_t)seq;
		break;
	default:
		break;
	}
	if (v != NULL && vlen > 0) {
		if (o->json && !binary)
			vlen = lg_json_value(vbuf, vcap, o->value_size, seq, t->name, rng);
		else
			lg_fill(vbuf, vlen, binary, rng);
	}
	if (k == NULL) /* null keys: round robin, the partitioner would pick at random */
		part = (int32_t)(t->rr++ % (uint64_t)t->partitions);
	if (o->headers && (nh = (unsigned int)(lg_rand(rng) % 4)) > 0) {
		char trace[40];

		hdrs = rd_kafka_headers_new(nh);
		for (i = 0; i < nh; i++) {
			if (i == 0) {
				snprintf(trace, sizeof(trace), "%016" PRIx64, lg_rand(rng));
				rd_kafka_header_add(hdrs, "trace-id", -1, trace, -1);
			} else if (i == 1) {
				rd_kafka_header_add(hdrs, "tag", -1, "blue", -1);
			} else {
				rd_kafka_header_add(hdrs, "tag", -1, NULL, 0); /* null value */
			}
		}
	}
	for (;;) {
		e = rd_kafka_producev(rk, RD_KAFKA_V_RKT(t->rkt), RD_KAFKA_V_PARTITION(part),
				      RD_KAFKA_V_KEY(k, klen), RD_KAFKA_V_VALUE((void *)v, vlen),
				      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				      RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(hdrs),
				      RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		rd_kafka_poll(rk, 10);
	}
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (hdrs != NULL)
			rd_kafka_headers_destroy(hdrs);
		fprintf(stderr, "isthmus-loadgen: cannot produce to %s: %s\n", t->name,
			rd_kafka_err2str(e));
		return -1;
	}
	st->sent++;
	st->bytes += klen + vlen;
	return 0;
}

static int lg_txn_call(rd_kafka_error_t *err, const char *what)
{
	if (err == NULL)
		return 0;
	fprintf(stderr, "isthmus-loadgen: %s failed: %s\n", what, rd_kafka_error_string(err));
	rd_kafka_error_destroy(err);
	return -1;
}

static void lg_topics_list(const struct lg_opts *o, char *buf, size_t len)
{
	size_t n = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < o->n_topics && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "", o->topics[i].name);
}

int main(int argc, char **argv)
{
	struct lg_opts o;
	struct lg_stats st = {0};
	uint64_t rng, seq = 0, start, now, next_report, deadline = 0, txn_no = 0, txn_count = 0,
		      committed = 0, aborted_records = 0, aborted_txns = 0;
	char *vbuf, topics[1024];
	rd_kafka_t *rk;
	double secs;
	int rc, ret = 0;

	rc = lg_parse(argc, argv, &o);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	signal(SIGINT, lg_on_signal);
	signal(SIGTERM, lg_on_signal);
	rng = o.seed;
	vbuf = malloc((size_t)o.value_size + 1024);
	if (vbuf == NULL) {
		fprintf(stderr, "isthmus-loadgen: out of memory\n");
		return 1;
	}
	rk = lg_producer(&o, &st);
	if (rk == NULL) {
		free(vbuf);
		return 1;
	}
	if (lg_prepare(rk, &o) != 0) {
		ret = 1;
		goto out;
	}
	if (o.txn_abort_every &&
	    lg_txn_call(rd_kafka_init_transactions(rk, (int)o.timeout_s * 1000),
			"init_transactions") < 0) {
		ret = 1;
		goto out;
	}
	start = lg_now_ns();
	next_report = start + 1000000000u;
	if (o.duration_s)
		deadline = start + o.duration_s * 1000000000u;
	while (!lg_stop) {
		now = lg_now_ns();
		if (o.records ? seq >= o.records : now >= deadline)
			break;
		if (o.rate > 0) {
			uint64_t due = start + seq * 1000000000u / o.rate;

			if (due > now) {
				rd_kafka_poll(rk, (int)((due - now) / 1000000u));
				if (lg_now_ns() < due)
					continue;
			}
		}
		if (o.txn_abort_every && txn_count == 0 &&
		    lg_txn_call(rd_kafka_begin_transaction(rk), "begin_transaction") < 0) {
			ret = 1;
			break;
		}
		if (lg_produce_one(rk, &o, &st, seq, &rng, vbuf, (size_t)o.value_size + 1024) < 0) {
			ret = 1;
			break;
		}
		seq++;
		if (o.txn_abort_every && ++txn_count == o.txn_records) {
			bool abort = ++txn_no % o.txn_abort_every == 0;

			txn_count = 0;
			if (abort) {
				/*
				 * Send the records first: an abort before they leave would
				 * purge them, and readers would never see aborted records.
				 */
				rd_kafka_flush(rk, LG_FLUSH_MS);
				if (lg_txn_call(rd_kafka_abort_transaction(rk, -1),
						"abort_transaction") < 0) {
					ret = 1;
					break;
				}
				aborted_records += o.txn_records;
				aborted_txns++;
			} else {
				if (lg_txn_call(rd_kafka_commit_transaction(rk, -1),
						"commit_transaction") < 0) {
					ret = 1;
					break;
				}
				committed += o.txn_records;
			}
		}
		rd_kafka_poll(rk, 0);
		now = lg_now_ns();
		if (now >= next_report) {
			secs = (double)(now - start) / 1e9;
			fprintf(stderr,
				"loadgen: %.0f s: %" PRIu64 " records sent, %" PRIu64
				" acked (%.0f rec/s, "
				"%.1f MB/s), %d in flight, %" PRIu64 " failed\n",
				secs, st.sent, st.acked, (double)st.sent / secs,
				(double)st.bytes / secs / 1e6, rd_kafka_outq_len(rk), st.failed);
			next_report += 1000000000u;
		}
	}
	if (ret == 0 && o.txn_abort_every && txn_count > 0) {
		/* The open transaction ends like any other. */
		bool abort = ++txn_no % o.txn_abort_every == 0;

		if (abort) {
			ret = lg_txn_call(rd_kafka_abort_transaction(rk, -1), "abort_transaction") <
					      0
				      ? 1
				      : 0;
			aborted_records += txn_count;
			aborted_txns++;
		} else {
			ret = lg_txn_call(rd_kafka_commit_transaction(rk, -1),
					  "commit_transaction") < 0
				      ? 1
				      : 0;
			committed += txn_count;
		}
	}
	if (rd_kafka_flush(rk, LG_FLUSH_MS) != RD_KAFKA_RESP_ERR_NO_ERROR && ret == 0) {
		fprintf(stderr,
			"isthmus-loadgen: %d records still unacknowledged after %d s: %s; "
			"check the cluster at %s\n",
			rd_kafka_outq_len(rk), LG_FLUSH_MS / 1000,
			lg_last_err[0] ? lg_last_err : "no error reported", o.bootstrap);
		ret = 1;
	}
	if (st.failed > 0 && ret == 0) {
		fprintf(stderr,
			"isthmus-loadgen: %" PRIu64 " records failed: %s; check the cluster "
			"at %s\n",
			st.failed, st.first_error, o.bootstrap);
		ret = 1;
	}
	secs = (double)(lg_now_ns() - start) / 1e9;
	if (ret == 0) {
		uint64_t produced = o.txn_abort_every ? committed : st.acked;

		if (o.txn_abort_every)
			fprintf(stderr,
				"loadgen: aborted %" PRIu64 " transactions (%" PRIu64
				" records); read_committed readers must skip them\n",
				aborted_txns, aborted_records);
		lg_topics_list(&o, topics, sizeof(topics));
		printf("loadgen: produced %" PRIu64 " records to %s in %.2f s (%.0f rec/s)\n",
		       produced, topics, secs, secs > 0 ? (double)produced / secs : 0.0);
	}
out:
	for (unsigned int i = 0; i < o.n_topics; i++)
		if (o.topics[i].rkt != NULL)
			rd_kafka_topic_destroy(o.topics[i].rkt);
	rd_kafka_destroy(rk);
	free(vbuf);
	return ret;
}
