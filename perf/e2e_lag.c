/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus-e2e-lag: when do records become readable in a region's Kafka
 * cluster? A consumer, manually assigned to every partition of one topic,
 * notes for each record the wall-clock time it was received and the record's
 * own timestamp (CreateTime, stamped by the producer in the source region),
 * and prints the record count, the receive times of the first and the last
 * record, and the lag percentiles. perf/bench_e2e.sh uses it twice:
 *
 *   --from beginning --count N   throughput: the time between the first and
 *                                the Nth record readable at the destination
 *   --from end                   replication lag of records produced from now
 *                                on: receive time - CreateTime, per record
 *
 *   isthmus-e2e-lag --bootstrap B --topic T [--from beginning|end] [--count N]
 *                   [--idle S] [--timeout S] [--ready-file PATH] [--dump PATH]
 *
 * Lag is measured with CLOCK_REALTIME against the record timestamp (ms), so the
 * producer and this program must share a clock (one host), and each value is
 * rounded to the millisecond of the timestamp. The consumer asks for at most
 * 5 ms of fetch wait (fetch.wait.max.ms): the librdkafka mock cluster holds an
 * empty fetch for the whole wait instead of answering when data arrives, so
 * the default 500 ms would be measured as lag.
 *
 * Output, one line on stdout:
 *   e2e-lag: records=N first_unix=S last_unix=S span_s=S rate=R lag_p50_ms=X
 *            lag_p99_ms=X lag_max_ms=X lag_min_ms=X lag_mean_ms=X not_createtime=N
 * Progress on stderr once a second. Exit status: 0 done (--count reached, or
 * without --count at least one record), 1 Kafka error or --count not reached
 * before --timeout, 2 bad usage.
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

static const char usage[] =
	"usage: isthmus-e2e-lag --bootstrap B --topic T [--from beginning|end] [--count N]\n"
	"                       [--idle S] [--timeout S] [--ready-file PATH] [--dump PATH]\n"
	"\n"
	"Consume every partition of T and report, per record, receive time minus the\n"
	"record's timestamp (lag), and the receive times of the first and last record.\n"
	"\n"
	"  --bootstrap B      bootstrap servers (HOST:PORT[,...])\n"
	"  --topic T          the topic (it must exist)\n"
	"  --from WHERE       beginning: every record; end: only records written after\n"
	"                     start (default end)\n"
	"  --count N          stop after N records (default 0: stop on --idle or --timeout)\n"
	"  --idle S           stop S seconds after the last record, once one came\n"
	"                     (default 5; 0: never)\n"
	"  --timeout S        stop after S seconds in all (default 300)\n"
	"  --ready-file PATH  create PATH once the start positions are fixed\n"
	"  --dump PATH        write one line per record: receive time (unix us), partition,\n"
	"                     offset, timestamp (ms), lag (us)\n"
	"  -h, --help         this text\n"
	"\n"
	"Prints one line: e2e-lag: records=N first_unix=S last_unix=S span_s=S rate=R\n"
	"lag_p50_ms=X lag_p99_ms=X lag_max_ms=X lag_min_ms=X lag_mean_ms=X not_createtime=N\n"
	"exit status: 0 done, 1 Kafka error or --count not reached, 2 bad usage\n";

struct el_opts {
	const char *bootstrap, *topic, *ready_file, *dump;
	bool from_end;
	uint64_t count;
	uint64_t idle_s, timeout_s;
};

static volatile sig_atomic_t el_stop;

static void el_on_signal(int sig)
{
	(void)sig;
	el_stop = 1;
}

static int64_t el_now_us(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#define EL_USAGE_ERR(...) IST_TOOL_USAGE_ERR("isthmus-e2e-lag", __VA_ARGS__)

/* @return 0, 1 for --help, 2 for a usage error (printed). */
static int el_parse(int argc, char **argv, struct el_opts *o)
{
	enum { O_BOOT = 256, O_TOPIC, O_FROM, O_COUNT, O_IDLE, O_TIMEOUT, O_READY, O_DUMP };
	static const struct option longopts[] = {
		{"bootstrap", required_argument, NULL, O_BOOT},
		{"topic", required_argument, NULL, O_TOPIC},
		{"from", required_argument, NULL, O_FROM},
		{"count", required_argument, NULL, O_COUNT},
		{"idle", required_argument, NULL, O_IDLE},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"ready-file", required_argument, NULL, O_READY},
		{"dump", required_argument, NULL, O_DUMP},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->from_end = true;
	o->idle_s = 5;
	o->timeout_s = 300;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case O_BOOT:
			o->bootstrap = optarg;
			break;
		case O_TOPIC:
			o->topic = optarg;
			break;
		case O_FROM:
			if (strcmp(optarg, "beginning") == 0)
				o->from_end = false;
			else if (strcmp(optarg, "end") == 0)
				o->from_end = true;
			else
				EL_USAGE_ERR("--from '%s' is neither 'beginning' nor 'end'",
					     optarg);
			break;
		case O_COUNT:
			if (!ist_tool_u64(optarg, UINT64_MAX / 2, &o->count))
				EL_USAGE_ERR("--count '%s' is not a whole number", optarg);
			break;
		case O_IDLE:
			if (!ist_tool_u64(optarg, 86400, &o->idle_s))
				EL_USAGE_ERR("--idle '%s' is not seconds from 0 to 86400", optarg);
			break;
		case O_TIMEOUT:
			if (!ist_tool_u64(optarg, 86400, &o->timeout_s) || o->timeout_s == 0)
				EL_USAGE_ERR("--timeout '%s' is not seconds from 1 to 86400",
					     optarg);
			break;
		case O_READY:
			o->ready_file = optarg;
			break;
		case O_DUMP:
			o->dump = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case ':':
			EL_USAGE_ERR("%s needs a value", argv[optind - 1]);
		default:
			EL_USAGE_ERR("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		EL_USAGE_ERR("unexpected argument '%s'", argv[optind]);
	if (o->bootstrap == NULL || *o->bootstrap == '\0')
		EL_USAGE_ERR("--bootstrap is required");
	if (o->topic == NULL || *o->topic == '\0')
		EL_USAGE_ERR("--topic is required");
	return 0;
}

/* librdkafka's own log lines would break the one-line error rule. */
static void el_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

static rd_kafka_t *el_consumer(const struct el_opts *o)
{
	char errstr[512], group[64];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	struct {
		const char *k, *v;
	} set[] = {
		{"bootstrap.servers", o->bootstrap},
		{"client.id", "isthmus-e2e-lag"},
		{"group.id", group}, /* librdkafka wants one; nothing is committed */
		{"enable.auto.commit", "false"},
		{"enable.auto.offset.store", "false"},
		{"enable.partition.eof", "false"},
		{"fetch.wait.max.ms", "5"},
		{"fetch.error.backoff.ms", "10"},
		{"fetch.max.bytes", "52428800"},
		{"max.partition.fetch.bytes", "4194304"},
	};
	rd_kafka_t *rk;
	size_t i;

	snprintf(group, sizeof(group), "isthmus-e2e-lag-%ld", (long)getpid());
	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		if (rd_kafka_conf_set(conf, set[i].k, set[i].v, errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK) {
			fprintf(stderr, "isthmus-e2e-lag: librdkafka refuses %s = '%s': %s\n",
				set[i].k, set[i].v, errstr);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	rd_kafka_conf_set_log_cb(conf, el_log_cb);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		fprintf(stderr, "isthmus-e2e-lag: cannot create a consumer: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_poll_set_consumer(rk);
	return rk;
}

/* Assign every partition of the topic at its start. @return 0 or -1 (printed). */
static int el_assign(rd_kafka_t *rk, const struct el_opts *o)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, o->topic, NULL);
	rd_kafka_resp_err_t e;
	int32_t parts = 0, p;
	int64_t lo, hi;
	int tries;

	/* The topic must exist (a metadata request for an unknown one would create it). */
	for (tries = 0; tries < 20 && parts == 0; tries++) {
		e = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
		    md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
			parts = md->topics[0].partition_cnt;
		if (md != NULL)
			rd_kafka_metadata_destroy(md);
		md = NULL;
		if (parts == 0)
			usleep(250000);
	}
	rd_kafka_topic_destroy(rkt);
	if (parts == 0) {
		fprintf(stderr,
			"isthmus-e2e-lag: no partitions of topic %s in %s; create the topic "
			"first (isthmus-region --topic %s:P)\n",
			o->topic, o->bootstrap, o->topic);
		return -1;
	}
	l = rd_kafka_topic_partition_list_new(parts);
	for (p = 0; p < parts; p++) {
		int64_t off = RD_KAFKA_OFFSET_BEGINNING;

		if (o->from_end) {
			/* An explicit offset, so nothing written after start is missed. */
			e = rd_kafka_query_watermark_offsets(rk, o->topic, p, &lo, &hi, 10000);
			if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
				fprintf(stderr,
					"isthmus-e2e-lag: cannot read the end of %s [%d] in %s: "
					"%s\n",
					o->topic, (int)p, o->bootstrap, rd_kafka_err2str(e));
				rd_kafka_topic_partition_list_destroy(l);
				return -1;
			}
			off = hi;
		}
		rd_kafka_topic_partition_list_add(l, o->topic, p)->offset = off;
	}
	e = rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "isthmus-e2e-lag: cannot assign %s: %s\n", o->topic,
			rd_kafka_err2str(e));
		return -1;
	}
	fprintf(stderr, "isthmus-e2e-lag: %s: %d partitions from the %s\n", o->topic, (int)parts,
		o->from_end ? "end" : "beginning");
	return 0;
}

static int el_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted @p v, in ms. */
static double el_pct(const int64_t *v, size_t n, double pct)
{
	size_t rank = (size_t)((pct / 100.0) * (double)n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1000.0;
}

int main(int argc, char **argv)
{
	struct el_opts o;
	rd_kafka_t *rk;
	int64_t *lag = NULL, start, now, deadline, last_rx = 0, first_unix = 0, last_unix = 0,
		next_report, sum = 0;
	size_t n = 0, cap = 0;
	uint64_t not_create = 0, errors = 0;
	char first_err[256] = "";
	FILE *dump = NULL;
	int rc, ret = 0;

	rc = el_parse(argc, argv, &o);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	signal(SIGINT, el_on_signal);
	signal(SIGTERM, el_on_signal);
	if (o.dump != NULL && (dump = fopen(o.dump, "w")) == NULL) {
		fprintf(stderr, "isthmus-e2e-lag: cannot write %s: %s; check --dump\n", o.dump,
			strerror(errno));
		return 1;
	}
	rk = el_consumer(&o);
	if (rk == NULL)
		return 1;
	if (el_assign(rk, &o) < 0) {
		rd_kafka_destroy(rk);
		return 1;
	}
	if (o.ready_file != NULL) {
		FILE *f = fopen(o.ready_file, "w");

		if (f != NULL)
			fclose(f);
	}
	start = el_now_us(CLOCK_MONOTONIC);
	deadline = start + (int64_t)o.timeout_s * 1000000;
	next_report = start + 1000000;
	while (!el_stop) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);

		now = el_now_us(CLOCK_MONOTONIC);
		if (m != NULL) {
			if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
				rd_kafka_timestamp_type_t tt;
				int64_t ts = rd_kafka_message_timestamp(m, &tt);
				int64_t rx = el_now_us(CLOCK_REALTIME);

				if (tt != RD_KAFKA_TIMESTAMP_CREATE_TIME)
					not_create++;
				if (n == cap) {
					size_t ncap = cap ? cap * 2 : 65536;
					int64_t *nl = realloc(lag, ncap * sizeof(*lag));

					if (nl == NULL) {
						fprintf(stderr,
							"isthmus-e2e-lag: out of memory "
							"after %zu records\n",
							n);
						rd_kafka_message_destroy(m);
						ret = 1;
						break;
					}
					lag = nl;
					cap = ncap;
				}
				lag[n] = rx - ts * 1000;
				if (dump != NULL)
					fprintf(dump,
						"%" PRId64 " %d %" PRId64 " %" PRId64 " %" PRId64
						"\n",
						rx, (int)m->partition, m->offset, ts, lag[n]);
				sum += lag[n];
				n++;
				if (first_unix == 0)
					first_unix = rx;
				last_unix = rx;
				last_rx = now;
			} else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
				if (errors++ == 0)
					snprintf(first_err, sizeof(first_err), "%s",
						 rd_kafka_message_errstr(m));
			}
			rd_kafka_message_destroy(m);
		}
		if (o.count > 0 && n >= o.count)
			break;
		if (now >= deadline)
			break;
		if (o.idle_s > 0 && n > 0 && now - last_rx >= (int64_t)o.idle_s * 1000000)
			break;
		if (now >= next_report) {
			fprintf(stderr, "isthmus-e2e-lag: %.0f s: %zu records\n",
				(double)(now - start) / 1e6, n);
			next_report += 1000000;
		}
	}
	if (errors > 0)
		fprintf(stderr, "isthmus-e2e-lag: %" PRIu64 " consumer errors, the first: %s\n",
			errors, first_err);
	if (o.count > 0 && n < o.count) {
		fprintf(stderr,
			"isthmus-e2e-lag: only %zu of %" PRIu64 " records of %s readable in %s "
			"within %" PRIu64 " s%s\n",
			n, o.count, o.topic, o.bootstrap, o.timeout_s,
			el_stop ? " (stopped by a signal)" : "; is replication running?");
		ret = 1;
	} else if (n == 0) {
		fprintf(stderr, "isthmus-e2e-lag: no record of %s readable in %s\n", o.topic,
			o.bootstrap);
		ret = 1;
	}
	if (n > 0) {
		double span = (double)(last_unix - first_unix) / 1e6;

		qsort(lag, n, sizeof(*lag), el_cmp);
		printf("e2e-lag: records=%zu first_unix=%.6f last_unix=%.6f span_s=%.3f rate=%.0f "
		       "lag_p50_ms=%.1f lag_p99_ms=%.1f lag_max_ms=%.1f lag_min_ms=%.1f "
		       "lag_mean_ms=%.1f not_createtime=%" PRIu64 "\n",
		       n, (double)first_unix / 1e6, (double)last_unix / 1e6, span,
		       span > 0 ? (double)(n - 1) / span : 0.0, el_pct(lag, n, 50),
		       el_pct(lag, n, 99), (double)lag[n - 1] / 1000.0, (double)lag[0] / 1000.0,
		       (double)sum / (double)n / 1000.0, not_create);
	}
	fflush(stdout);
	if (dump != NULL)
		fclose(dump);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	free(lag);
	return ret;
}
