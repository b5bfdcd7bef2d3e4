/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isthmus/provenance.h"
#include "ist_kafka.h"

struct kv {
	const char *name, *value;
};

static const struct kv source_defaults[] = {
	{"fetch.max.bytes", "52428800"},      {"max.partition.fetch.bytes", "4194304"},
	{"fetch.wait.max.ms", "50"},          {"queued.max.messages.kbytes", "65536"},
	{"reconnect.backoff.max.ms", "2000"}, {"socket.connection.setup.timeout.ms", "5000"},
};

static const struct kv source_forced[] = {
	{"isolation.level", "read_committed"}, {"enable.auto.commit", "false"},
	{"enable.auto.offset.store", "false"}, {"auto.offset.reset", "error"},
	{"enable.partition.eof", "false"},
};

static const struct kv sink_defaults[] = {
	{"linger.ms", "5"},
	{"batch.size", "1000000"},
	{"queue.buffering.max.kbytes", "262144"},
	{"message.timeout.ms", "120000"},
	{"reconnect.backoff.max.ms", "2000"},
	{"socket.connection.setup.timeout.ms", "5000"},
};

static const struct kv sink_forced[] = {
	{"enable.idempotence", "true"},
	{"acks", "all"},
};

static const struct kv reader_forced[] = {
	{"enable.auto.commit", "false"},     {"enable.auto.offset.store", "false"},
	{"enable.partition.eof", "true"},    {"isolation.level", "read_uncommitted"},
	{"group.id", "isthmus-tail-reader"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
		    size_t errlen)
{
	char cerr[256];

	if (rd_kafka_conf_set(conf, name, value, cerr, sizeof(cerr)) == RD_KAFKA_CONF_OK)
		return 0;
	snprintf(err, errlen, "rdkafka.%s = %s: %s", name, value, cerr);
	return -EINVAL;
}

static rd_kafka_conf_t *conf_build(const struct ist_cfg_kafka *k, const char *client_id,
				   const struct kv *defs, size_t n_defs, const struct kv *forced,
				   size_t n_forced, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	size_t i, j;

	for (i = 0; i < n_defs; i++)
		if (conf_set(conf, defs[i].name, defs[i].value, err, errlen) != 0)
			goto fail;
	if (conf_set(conf, "client.id", client_id, err, errlen) != 0 ||
	    conf_set(conf, "bootstrap.servers", k->bootstrap, err, errlen) != 0)
		goto fail;
	for (i = 0; i < k->n_props; i++) {
		const char *name = k->props[i].name;

		if (strncmp(name, "rdkafka.", 8) == 0)
			name += 8;
		for (j = 0; j < n_forced; j++)
			if (strcmp(name, forced[j].name) == 0 &&
			    strcmp(k->props[i].value, forced[j].value) != 0) {
				snprintf(err, errlen,
					 "[kafka %s] rdkafka.%s = %s: replication needs %s = %s; "
					 "remove the line",
					 k->name, name, k->props[i].value, forced[j].name,
					 forced[j].value);
				goto fail;
			}
		if (conf_set(conf, name, k->props[i].value, err, errlen) != 0)
			goto fail;
	}
	for (i = 0; i < n_forced; i++)
		if (conf_set(conf, forced[i].name, forced[i].value, err, errlen) != 0)
			goto fail;
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

static rd_kafka_t *handle_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *what,
			      char *err, size_t errlen)
{
	char cerr[256];
	rd_kafka_t *rk;

	if (conf == NULL)
		return NULL;
	rk = rd_kafka_new(type, conf, cerr, sizeof(cerr));
	if (rk == NULL) {
		snprintf(err, errlen, "cannot create the %s: %s", what, cerr);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

rd_kafka_t *ist_kafka_source_new(const struct ist_cfg_kafka *k, const char *client_id,
				 const char *group_id, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = conf_build(k, client_id, source_defaults, N(source_defaults),
					   source_forced, N(source_forced), err, errlen);

	if (conf != NULL && conf_set(conf, "group.id", group_id, err, errlen) != 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	return handle_new(RD_KAFKA_CONSUMER, conf, "source consumer", err, errlen);
}

rd_kafka_t *ist_kafka_sink_new(const struct ist_cfg_kafka *k, const char *client_id,
			       void (*dr_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *),
			       void *opaque, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = conf_build(k, client_id, sink_defaults, N(sink_defaults),
					   sink_forced, N(sink_forced), err, errlen);

	if (conf == NULL)
		return NULL;
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_opaque(conf, opaque);
	return handle_new(RD_KAFKA_PRODUCER, conf, "sink producer", err, errlen);
}

rd_kafka_t *ist_kafka_reader_new(const struct ist_cfg_kafka *k, const char *client_id, char *err,
				 size_t errlen)
{
	rd_kafka_conf_t *conf = conf_build(k, client_id, source_defaults, N(source_defaults),
					   reader_forced, 0, err, errlen);

	/* The reader's own settings are not the cluster's business: set last. */
	for (size_t i = 0; conf != NULL && i < N(reader_forced); i++)
		if (conf_set(conf, reader_forced[i].name, reader_forced[i].value, err, errlen) !=
		    0) {
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	return handle_new(RD_KAFKA_CONSUMER, conf, "destination reader", err, errlen);
}

bool ist_kafka_is_provenance(const char *name)
{
	return strncmp(name, IST_PROV_PREFIX, IST_PROV_PREFIX_LEN) == 0 &&
	       (strcmp(name, IST_PROV_REGION) == 0 || strcmp(name, IST_PROV_CLUSTER) == 0 ||
		strcmp(name, IST_PROV_TOPIC) == 0 || strcmp(name, IST_PROV_PARTITION) == 0 ||
		strcmp(name, IST_PROV_OFFSET) == 0);
}

static bool hdr_str(rd_kafka_headers_t *h, const char *name, char *out, size_t cap)
{
	const void *v;
	size_t n;

	/* The last one: provenance headers come after the source's own. */
	if (rd_kafka_header_get_last(h, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR || v == NULL ||
	    n >= cap)
		return false;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

static bool parse_i64(const char *s, int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0';
}

/* Take the provenance of one record into @p t. */
static int tail_take(const rd_kafka_message_t *m, struct ist_kafka_tail *t)
{
	rd_kafka_headers_t *h = NULL;
	char num[32];
	int64_t off, part;

	if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    !hdr_str(h, IST_PROV_OFFSET, num, sizeof(num)) || !parse_i64(num, &off) || off < 0 ||
	    !hdr_str(h, IST_PROV_PARTITION, num, sizeof(num)) || !parse_i64(num, &part) ||
	    part < 0 || part > INT32_MAX ||
	    !hdr_str(h, IST_PROV_TOPIC, t->topic, sizeof(t->topic)) ||
	    !hdr_str(h, IST_PROV_CLUSTER, t->cluster, sizeof(t->cluster)) ||
	    !hdr_str(h, IST_PROV_REGION, t->region, sizeof(t->region)))
		return -EPROTO;
	t->next_offset = off + 1;
	t->partition = (int32_t)part;
	return 0;
}

int ist_kafka_tail_read(rd_kafka_t *rk, const char *topic, int32_t partition, int timeout_ms,
			struct ist_kafka_tail *t, char *err, size_t errlen)
{
	/* Read the last few offsets, not just high - 1: a transaction marker
	 * or a compacted-away record may sit there. */
	const int64_t look_back = 16;
	rd_kafka_topic_partition_list_t *tp;
	rd_kafka_resp_err_t e;
	int64_t start, last = -1;
	int rc = -EPROTO;
	bool got = false;

	memset(t, 0, sizeof(*t));
	t->partition = -1;
	e = rd_kafka_query_watermark_offsets(rk, topic, partition, &t->low, &t->high, timeout_ms);
	if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
	    e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
		snprintf(err, errlen,
			 "destination %s [%" PRId32
			 "] does not exist; create it with at least %" PRId32 " partitions",
			 topic, partition, partition + 1);
		return -ENOENT;
	}
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "destination %s [%" PRId32 "]: watermarks: %s", topic,
			 partition, rd_kafka_err2str(e));
		return -ETIMEDOUT;
	}
	if (t->high <= t->low) {
		t->empty = true;
		return 0;
	}
	start = t->high - look_back > t->low ? t->high - look_back : t->low;
	tp = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(tp, topic, partition)->offset = start;
	e = rd_kafka_assign(rk, tp);
	rd_kafka_topic_partition_list_destroy(tp);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "destination %s [%" PRId32 "]: assign: %s", topic, partition,
			 rd_kafka_err2str(e));
		return -EIO;
	}
	for (int waited = 0; waited < timeout_ms;) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

		if (m == NULL) {
			waited += 100;
			continue;
		}
		/* The end before high - 1: a marker sits there; the last record seen decides. */
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			rd_kafka_message_destroy(m);
			break;
		}
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->partition == partition &&
		    strcmp(rd_kafka_topic_name(m->rkt), topic) == 0) {
			got = true;
			last = m->offset;
			rc = tail_take(m, t);
			if (m->offset + 1 >= t->high) {
				rd_kafka_message_destroy(m);
				break;
			}
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_assign(rk, NULL);
	if (!got) {
		snprintf(err, errlen,
			 "destination %s [%" PRId32 "]: could not read its last records (offsets "
			 "%" PRId64 "..%" PRId64 ") within %d ms; is the cluster up?",
			 topic, partition, start, t->high - 1, timeout_ms);
		return -ETIMEDOUT;
	}
	if (rc == -EPROTO)
		snprintf(err, errlen,
			 "destination %s [%" PRId32 "]: the record at offset %" PRId64
			 " has no isthmus provenance headers: another writer uses this topic; "
			 "replicate into a topic only isthmus writes",
			 topic, partition, last);
	return rc;
}

int ist_kafka_topics(rd_kafka_t *rk, int timeout_ms, struct ist_kafka_topic *out, unsigned int max,
		     char *err, size_t errlen)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t e;
	unsigned int n = 0;

	e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "metadata: %s", rd_kafka_err2str(e));
		return -ETIMEDOUT;
	}
	for (int i = 0; i < md->topic_cnt && n < max; i++) {
		const struct rd_kafka_metadata_topic *t = &md->topics[i];

		if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR || strncmp(t->topic, "__", 2) == 0 ||
		    strlen(t->topic) >= sizeof(out[n].name))
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "%s", t->topic);
		out[n].partitions = t->partition_cnt;
		n++;
	}
	rd_kafka_metadata_destroy(md);
	return (int)n;
}
