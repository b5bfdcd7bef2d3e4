/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus verify: see verify.h for what is compared and how much memory it
 * takes. Layout of this file: digests, provenance parsing, the per-record
 * comparison (source side, destination side), the summary of a pass, the
 * Kafka reads that feed them, the run, then printing and the CLI verb.
 *
 * The consumers use manual assignment only. librdkafka wants a group.id for
 * rd_kafka_assign(), so they carry a throwaway one and never commit.
 */
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <isthmus/provenance.h>

#include "verify.h"

#define VF_POLL_MS     100
#define VF_PASS_GAP_MS 500
#define VF_GROUP_ID    "isthmus-verify"
#define VF_PREALLOC    (1u << 20) /* most source records reserved up front per partition */

enum { VF_F_KEY = 0, VF_F_VALUE, VF_F_HEADERS, VF_F_TS, VF_F_N };

/* One source record; 32 bytes (verify.h, "Memory"). */
struct vf_rec {
	int64_t offset;
	uint64_t digest;        /* of the four field digests */
	uint16_t field[VF_F_N]; /* low 16 bits of each field's digest */
	uint32_t copies;        /* in the same destination partition */
};

_Static_assert(sizeof(struct vf_rec) == 32, "verify.h promises 32 bytes per source record");

struct ist_verify_pstate {
	struct vf_rec *recs; /* source records, by offset */
	size_t n_recs, cap_recs;
	bool unsorted;
	int64_t dst_next;   /* next destination offset to read; -1: from the low watermark */
	int64_t max_copied; /* highest source offset copied into this partition, -1: none */
	uint32_t n_found;   /* differences found while reading, at the head of diffs[] */
	uint32_t cap_diffs;
	bool found_truncated; /* a difference found while reading was not listed */
};

struct vf_digest {
	uint64_t all;
	uint64_t field[VF_F_N];
};

struct vf_client {
	rd_kafka_t *rk;
	const struct ist_verify_cluster *cl;
	char last_err[256]; /* last error_cb text; set and read on the calling thread */
};

struct vf_run {
	const struct ist_verify_opts *o;
	struct ist_verify_report *r;
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
	struct vf_client src, dst;
	uint64_t (*now_ms)(void);
	bool oom; /* a source digest could not be stored */
};

/* What a read of one partition is after. */
struct vf_range {
	int64_t start, high; /* [start, high) */
	int64_t next;        /* after the read: first offset not read */
	bool done;
};

typedef void (*vf_record_fn)(struct vf_run *run, struct ist_verify_topic *t,
			     struct ist_verify_part *row, rd_kafka_message_t *m);

static const char *const vf_kind_names[IST_VERIFY_KIND_MAX] = {
	[IST_VERIFY_MISSING] = "missing",     [IST_VERIFY_DUPLICATED] = "duplicated",
	[IST_VERIFY_REORDERED] = "reordered", [IST_VERIFY_ALTERED] = "altered",
	[IST_VERIFY_FOREIGN] = "foreign",     [IST_VERIFY_MISPLACED] = "misplaced",
};

static const char *const vf_prov_names[IST_PROV_N] = {
	IST_PROV_REGION, IST_PROV_CLUSTER, IST_PROV_TOPIC, IST_PROV_PARTITION, IST_PROV_OFFSET,
};
enum { VF_P_REGION = 0, VF_P_CLUSTER, VF_P_TOPIC, VF_P_PARTITION, VF_P_OFFSET };

const char *ist_verify_kind_name(enum ist_verify_kind k)
{
	return k < IST_VERIFY_KIND_MAX ? vf_kind_names[k] : "?";
}

static uint64_t vf_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void vf_sleep_ms(uint32_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};

	nanosleep(&ts, NULL);
}

void ist_verify_opts_init(struct ist_verify_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->source.what = "source cluster";
	o->source.hint = "check --source";
	o->dest.what = "destination cluster";
	o->dest.hint = "check --dest";
	o->timeout_ms = IST_VERIFY_DEF_TIMEOUT_MS;
	o->max_report = IST_VERIFY_DEF_MAX_REPORT;
}

/* --- digests: SipHash-2-4, 64-bit output, one fixed key ------------------------------------ */

static int vf_hash_init(struct vf_run *run)
{
	static const unsigned char key[16] = {'i', 's', 't', 'h', 'm', 'u', 's', '-',
					      'v', 'e', 'r', 'i', 'f', 'y', '-', '1'};
	size_t size = 8;
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size);
	params[1] = OSSL_PARAM_construct_end();
	run->mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	if (run->mac == NULL)
		return -ENOTSUP;
	run->ctx = EVP_MAC_CTX_new(run->mac);
	if (run->ctx == NULL)
		return -ENOMEM;
	return EVP_MAC_init(run->ctx, key, sizeof(key), params) == 1 ? 0 : -ENOTSUP;
}

static void vf_hash_begin(struct vf_run *run)
{
	/* No key: SipHash restarts from the keyed state set up in vf_hash_init(). */
	EVP_MAC_init(run->ctx, NULL, 0, NULL);
}

static void vf_hash_add(struct vf_run *run, const void *p, size_t n)
{
	if (n > 0)
		EVP_MAC_update(run->ctx, p, n);
}

/* Bytes that may be null: a presence byte, then length and data. */
static void vf_hash_bytes(struct vf_run *run, const void *p, size_t n)
{
	uint8_t present = p != NULL;
	uint64_t len = n;

	vf_hash_add(run, &present, 1);
	if (present) {
		vf_hash_add(run, &len, sizeof(len));
		vf_hash_add(run, p, n);
	}
}

static uint64_t vf_hash_end(struct vf_run *run)
{
	unsigned char out[8] = {0};
	size_t n = 0;
	uint64_t v;

	EVP_MAC_final(run->ctx, out, &n, sizeof(out));
	memcpy(&v, out, sizeof(v));
	return v;
}

/*
 * Digest of a record's key, value, headers and timestamp. Headers whose
 * index is in @p skip (the provenance headers of a destination record) are
 * left out; the rest go in, in order, duplicates kept.
 */
static void vf_digest(struct vf_run *run, rd_kafka_message_t *m, const size_t skip[IST_PROV_N],
		      size_t n_skip, struct vf_digest *d)
{
	rd_kafka_timestamp_type_t tstype;
	rd_kafka_headers_t *hdrs = NULL;
	const char *name;
	const void *val;
	size_t size, idx, k;
	int64_t ts;

	vf_hash_begin(run);
	vf_hash_bytes(run, m->key, m->key_len);
	d->field[VF_F_KEY] = vf_hash_end(run);
	vf_hash_begin(run);
	vf_hash_bytes(run, m->payload, m->len);
	d->field[VF_F_VALUE] = vf_hash_end(run);

	vf_hash_begin(run);
	if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
		hdrs = NULL;
	for (idx = 0; hdrs != NULL && rd_kafka_header_get_all(hdrs, idx, &name, &val, &size) ==
					      RD_KAFKA_RESP_ERR_NO_ERROR;
	     idx++) {
		uint64_t nlen = strlen(name);

		for (k = 0; k < n_skip && skip[k] != idx; k++)
			;
		if (k < n_skip)
			continue;
		vf_hash_add(run, &nlen, sizeof(nlen));
		vf_hash_add(run, name, nlen);
		vf_hash_bytes(run, val, size);
	}
	d->field[VF_F_HEADERS] = vf_hash_end(run);

	ts = rd_kafka_message_timestamp(m, &tstype);
	vf_hash_begin(run);
	vf_hash_add(run, &ts, sizeof(ts));
	d->field[VF_F_TS] = vf_hash_end(run);

	vf_hash_begin(run);
	vf_hash_add(run, d->field, sizeof(d->field));
	d->all = vf_hash_end(run);
}

/* --- provenance -------------------------------------------------------------------------- */

struct vf_prov {
	bool has[IST_PROV_N];
	size_t idx[IST_PROV_N]; /* header index of the last occurrence */
	const char *val[IST_PROV_N];
	size_t len[IST_PROV_N];
};

/* The last occurrence of each provenance header: the sink appends them after the record's own. */
static void vf_prov_find(rd_kafka_message_t *m, struct vf_prov *pv)
{
	rd_kafka_headers_t *hdrs;
	const char *name;
	const void *val;
	size_t size, idx, k;

	memset(pv, 0, sizeof(*pv));
	if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	for (idx = 0;
	     rd_kafka_header_get_all(hdrs, idx, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
	     idx++) {
		if (strncmp(name, IST_PROV_PREFIX, IST_PROV_PREFIX_LEN) != 0)
			continue;
		for (k = 0; k < IST_PROV_N; k++) {
			if (strcmp(name, vf_prov_names[k]) == 0) {
				pv->has[k] = true;
				pv->idx[k] = idx;
				pv->val[k] = val;
				pv->len[k] = val != NULL ? size : 0;
			}
		}
	}
}

/* A decimal ASCII number in [0, max]. */
static bool vf_parse_num(const char *s, size_t n, int64_t max, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (s == NULL || n == 0 || n > 19)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* --- comparison --------------------------------------------------------------------------- */

static struct ist_verify_diff *vf_diff_slot(struct vf_run *run, struct ist_verify_part *row,
					    uint32_t n)
{
	struct ist_verify_pstate *st = row->st;
	struct ist_verify_diff *d;
	uint32_t cap;

	if (n >= run->o->max_report)
		return NULL;
	if (n >= st->cap_diffs) {
		cap = st->cap_diffs ? st->cap_diffs * 2 : 8;
		if (cap > run->o->max_report)
			cap = run->o->max_report;
		d = realloc(row->diffs, (size_t)cap * sizeof(*d));
		if (d == NULL)
			return NULL; /* listing is best effort; the counts stay exact */
		row->diffs = d;
		st->cap_diffs = cap;
	}
	d = &row->diffs[n];
	memset(d, 0, sizeof(*d));
	return d;
}

static void __attribute__((format(printf, 7, 8)))
vf_found(struct vf_run *run, struct ist_verify_part *row, enum ist_verify_kind kind,
	 int64_t src_offset, int64_t dst_offset, uint32_t fields, const char *fmt, ...)
{
	struct ist_verify_diff *d;
	va_list ap;

	row->count[kind]++;
	d = vf_diff_slot(run, row, row->st->n_found);
	if (d == NULL) {
		row->st->found_truncated = true;
		return;
	}
	row->st->n_found++;
	d->kind = kind;
	d->src_offset = src_offset;
	d->src_last = src_offset;
	d->dst_offset = dst_offset;
	d->fields = fields;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(d->note, sizeof(d->note), fmt, ap);
		va_end(ap);
	}
}

static void vf_source_record(struct vf_run *run, struct ist_verify_topic *t,
			     struct ist_verify_part *row, rd_kafka_message_t *m)
{
	struct ist_verify_pstate *st = row->st;
	struct vf_digest d;
	struct vf_rec *rec;
	size_t cap;
	int k;

	(void)t;
	if (st->n_recs == st->cap_recs) {
		cap = st->cap_recs ? st->cap_recs * 2 : 1024;
		rec = realloc(st->recs, cap * sizeof(*rec));
		if (rec == NULL) {
			run->oom = true;
			return;
		}
		st->recs = rec;
		st->cap_recs = cap;
	}
	vf_digest(run, m, NULL, 0, &d);
	rec = &st->recs[st->n_recs];
	rec->offset = m->offset;
	rec->digest = d.all;
	for (k = 0; k < VF_F_N; k++)
		rec->field[k] = (uint16_t)d.field[k];
	rec->copies = 0;
	if (st->n_recs > 0 && rec[-1].offset >= rec->offset)
		st->unsorted = true;
	st->n_recs++;
}

static int vf_rec_cmp(const void *a, const void *b)
{
	const struct vf_rec *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static struct vf_rec *vf_rec_find(struct ist_verify_pstate *st, int64_t offset)
{
	struct vf_rec key = {.offset = offset};

	return bsearch(&key, st->recs, st->n_recs, sizeof(key), vf_rec_cmp);
}

static void vf_dest_record(struct vf_run *run, struct ist_verify_topic *t,
			   struct ist_verify_part *row, rd_kafka_message_t *m)
{
	static const char *const field_names[VF_F_N] = {"key", "value", "headers", "timestamp"};
	struct ist_verify_part *src;
	struct ist_verify_pstate *st = row->st;
	size_t skip[IST_PROV_N], n_skip = 0;
	int64_t part, off;
	struct vf_digest d;
	struct vf_prov pv;
	struct vf_rec *rec;
	uint32_t fields = 0;
	int k;

	row->dst_records++;
	vf_prov_find(m, &pv);
	for (k = VF_P_TOPIC; k <= VF_P_OFFSET; k++) {
		if (!pv.has[k]) {
			if (!pv.has[VF_P_TOPIC] && !pv.has[VF_P_PARTITION] && !pv.has[VF_P_OFFSET])
				vf_found(run, row, IST_VERIFY_FOREIGN, -1, m->offset, 0,
					 "no provenance headers");
			else
				vf_found(run, row, IST_VERIFY_FOREIGN, -1, m->offset, 0,
					 "no %s header", vf_prov_names[k]);
			return;
		}
	}
	if (pv.len[VF_P_TOPIC] != strlen(t->topic) || pv.val[VF_P_TOPIC] == NULL ||
	    memcmp(pv.val[VF_P_TOPIC], t->topic, pv.len[VF_P_TOPIC]) != 0) {
		vf_found(run, row, IST_VERIFY_FOREIGN, -1, m->offset, 0, "copy of topic '%.*s'",
			 (int)(pv.len[VF_P_TOPIC] > 64 ? 64 : pv.len[VF_P_TOPIC]),
			 pv.val[VF_P_TOPIC] ? (const char *)pv.val[VF_P_TOPIC] : "");
		return;
	}
	if (!vf_parse_num(pv.val[VF_P_PARTITION], pv.len[VF_P_PARTITION], INT32_MAX, &part) ||
	    !vf_parse_num(pv.val[VF_P_OFFSET], pv.len[VF_P_OFFSET], INT64_MAX, &off)) {
		vf_found(run, row, IST_VERIFY_FOREIGN, -1, m->offset, 0,
			 "provenance partition/offset '%.*s'/'%.*s' are not decimal numbers",
			 (int)(pv.len[VF_P_PARTITION] > 24 ? 24 : pv.len[VF_P_PARTITION]),
			 pv.val[VF_P_PARTITION] ? (const char *)pv.val[VF_P_PARTITION] : "",
			 (int)(pv.len[VF_P_OFFSET] > 24 ? 24 : pv.len[VF_P_OFFSET]),
			 pv.val[VF_P_OFFSET] ? (const char *)pv.val[VF_P_OFFSET] : "");
		return;
	}
	if (part >= (int64_t)t->src_partitions) {
		vf_found(run, row, IST_VERIFY_FOREIGN, off, m->offset, 0,
			 "names source partition %" PRId64 ", which '%s' does not have", part,
			 t->topic);
		return;
	}
	src = &t->parts[part];
	if (off < src->src_low || off >= src->src_high) {
		row->skipped++;
		return;
	}
	rec = vf_rec_find(src->st, off);
	if (rec == NULL) {
		vf_found(run, row, IST_VERIFY_FOREIGN, off, m->offset, 0,
			 "names source partition %" PRId64 " offset %" PRId64
			 ", which holds no record",
			 part, off);
		return;
	}
	if (part != row->partition) {
		vf_found(run, row, IST_VERIFY_MISPLACED, off, m->offset, 0,
			 "copy of source partition %" PRId64, part);
		return;
	}

	for (k = 0; k < IST_PROV_N; k++)
		if (pv.has[k])
			skip[n_skip++] = pv.idx[k];
	vf_digest(run, m, skip, n_skip, &d);
	rec->copies++;
	if (rec->copies > 1)
		vf_found(run, row, IST_VERIFY_DUPLICATED, off, m->offset, 0, "copy %" PRIu32,
			 rec->copies);
	else if (off < st->max_copied)
		vf_found(run, row, IST_VERIFY_REORDERED, off, m->offset, 0,
			 "after source offset %" PRId64, st->max_copied);
	if (off > st->max_copied)
		st->max_copied = off;
	if (d.all != rec->digest) {
		char what[64] = "";
		size_t n = 0;

		for (k = 0; k < VF_F_N; k++) {
			if ((uint16_t)d.field[k] == rec->field[k])
				continue;
			fields |= 1u << k;
			n += (size_t)snprintf(what + n, sizeof(what) - n, "%s%s", n ? ", " : "",
					      field_names[k]);
		}
		vf_found(run, row, IST_VERIFY_ALTERED, off, m->offset, fields, "%s",
			 n ? what : "record differs");
	}
}

/*
 * Counts and lists missing records, and whether what remains can still heal.
 * @return true when every difference is a missing record at a partition's tail.
 */
static bool vf_summarize(struct vf_run *run)
{
	struct ist_verify_report *r = run->r;
	bool healable = true;
	uint32_t i, j;
	size_t x;
	int k;

	memset(r->total, 0, sizeof(r->total));
	r->partitions = 0;
	r->src_records = r->dst_records = r->skipped = r->in_flight = 0;
	for (i = 0; i < r->n_topics; i++) {
		struct ist_verify_topic *t = &r->topics[i];

		for (j = 0; j < t->n_parts; j++) {
			struct ist_verify_part *row = &t->parts[j];
			struct ist_verify_pstate *st = row->st;
			struct ist_verify_diff *d = NULL;
			uint32_t n = st->n_found;
			bool in_range = false;

			row->count[IST_VERIFY_MISSING] = 0;
			row->in_flight = 0;
			row->truncated = st->found_truncated;
			for (x = 0; x < st->n_recs; x++) {
				const struct vf_rec *rec = &st->recs[x];

				if (rec->copies != 0) {
					in_range = false;
					continue;
				}
				row->count[IST_VERIFY_MISSING]++;
				if (rec->offset > st->max_copied)
					row->in_flight++;
				if (in_range) {
					if (d != NULL)
						d->src_last = rec->offset;
					continue;
				}
				in_range = true;
				d = vf_diff_slot(run, row, n);
				if (d == NULL) {
					row->truncated = true;
				} else {
					n++;
					d->kind = IST_VERIFY_MISSING;
					d->src_offset = d->src_last = rec->offset;
					d->dst_offset = -1;
				}
			}
			row->n_diffs = n;
			row->src_records = st->n_recs;
			r->partitions++;
			r->src_records += row->src_records;
			r->dst_records += row->dst_records;
			r->skipped += row->skipped;
			r->in_flight += row->in_flight;
			for (k = 0; k < IST_VERIFY_KIND_MAX; k++)
				r->total[k] += row->count[k];
			if (row->in_flight != row->count[IST_VERIFY_MISSING])
				healable = false;
		}
	}
	r->clean = true;
	for (k = 0; k < IST_VERIFY_KIND_MAX; k++) {
		if (r->total[k] != 0)
			r->clean = false;
		if (k != IST_VERIFY_MISSING && r->total[k] != 0)
			healable = false;
	}
	return healable;
}

/* --- Kafka ------------------------------------------------------------------------------- */

static void vf_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct vf_client *c = opaque;

	(void)rk;
	(void)err;
	snprintf(c->last_err, sizeof(c->last_err), "%s", reason);
}

/* librdkafka's own log lines would break the one-line error rule; errors come via error_cb. */
static void vf_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

static int vf_client_open(struct vf_client *c, const struct ist_verify_cluster *cl, char *err,
			  size_t errlen)
{
	static const char *const fixed[][2] = {
		{"group.id", VF_GROUP_ID},
		{"enable.auto.commit", "false"},
		{"enable.auto.offset.store", "false"},
		{"isolation.level", "read_committed"},
		{"enable.partition.eof", "true"},
		{"auto.offset.reset", "earliest"},
		{"allow.auto.create.topics", "false"},
		{"queued.max.messages.kbytes", "16384"},
		/* Reads end at known offsets: do not let a broker sit on an empty fetch. */
		{"fetch.wait.max.ms", "50"},
	};
	char errstr[512];
	rd_kafka_conf_t *conf;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->cl = cl;
	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "client.id", "isthmus-verify", errstr, sizeof(errstr)) !=
	    RD_KAFKA_CONF_OK)
		goto bad_fixed;
	for (i = 0; i < cl->n_props; i++) {
		if (rd_kafka_conf_set(conf, cl->props[i].name, cl->props[i].value, errstr,
				      sizeof(errstr)) != RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "librdkafka refuses %s property %s = '%s': %s; %s",
				 cl->what, cl->props[i].name, cl->props[i].value, errstr, cl->hint);
			rd_kafka_conf_destroy(conf);
			return -EINVAL;
		}
	}
	if (rd_kafka_conf_set(conf, "bootstrap.servers", cl->bootstrap, errstr, sizeof(errstr)) !=
	    RD_KAFKA_CONF_OK) {
		snprintf(err, errlen, "%s bootstrap '%s' is not valid: %s; %s", cl->what,
			 cl->bootstrap, errstr, cl->hint);
		rd_kafka_conf_destroy(conf);
		return -EINVAL;
	}
	for (i = 0; i < IST_DIM(fixed); i++)
		if (rd_kafka_conf_set(conf, fixed[i][0], fixed[i][1], errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK)
			goto bad_fixed;
	rd_kafka_conf_set_opaque(conf, c);
	rd_kafka_conf_set_error_cb(conf, vf_error_cb);
	rd_kafka_conf_set_log_cb(conf, vf_log_cb);
	c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (c->rk == NULL) {
		snprintf(err, errlen, "cannot create a Kafka consumer for the %s: %s; %s", cl->what,
			 errstr, cl->hint);
		rd_kafka_conf_destroy(conf);
		return -EINVAL;
	}
	return 0;
bad_fixed:
	snprintf(err, errlen, "this librdkafka (%s) refuses a consumer setting: %s",
		 rd_kafka_version_str(), errstr);
	rd_kafka_conf_destroy(conf);
	return -EINVAL;
}

static void vf_client_close(struct vf_client *c)
{
	if (c->rk == NULL)
		return;
	rd_kafka_consumer_close(c->rk);
	rd_kafka_destroy(c->rk);
	c->rk = NULL;
}

static int vf_metadata(struct vf_run *run, struct vf_client *c, const struct rd_kafka_metadata **md,
		       char *err, size_t errlen)
{
	rd_kafka_resp_err_t e;

	e = rd_kafka_metadata(c->rk, 1, NULL, md, (int)run->o->timeout_ms);
	rd_kafka_poll(c->rk, 0); /* serve error_cb */
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	*md = NULL;
	snprintf(err, errlen, "cannot reach %s %s within %g s: %s; %s", c->cl->what,
		 c->cl->bootstrap, run->o->timeout_ms / 1000.0,
		 c->last_err[0] ? c->last_err : rd_kafka_err2str(e), c->cl->hint);
	return -EHOSTUNREACH;
}

static const struct rd_kafka_metadata_topic *vf_md_topic(const struct rd_kafka_metadata *md,
							 const char *topic)
{
	int i;

	for (i = 0; i < md->topic_cnt; i++)
		if (strcmp(md->topics[i].topic, topic) == 0 &&
		    md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
			return &md->topics[i];
	return NULL;
}

static int vf_watermarks(struct vf_run *run, struct vf_client *c, const char *topic,
			 int32_t partition, int64_t *lo, int64_t *hi, char *err, size_t errlen)
{
	rd_kafka_resp_err_t e;

	e = rd_kafka_query_watermark_offsets(c->rk, topic, partition, lo, hi,
					     (int)run->o->timeout_ms);
	rd_kafka_poll(c->rk, 0);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	snprintf(err, errlen,
		 "cannot read the watermarks of '%s' partition %" PRId32 " in the %s %s: %s; %s",
		 topic, partition, c->cl->what, c->cl->bootstrap,
		 c->last_err[0] ? c->last_err : rd_kafka_err2str(e), c->cl->hint);
	return -EIO;
}

/*
 * Read partitions 0..n-1 of @p topic, each over ranges[p], and hand every
 * record to @p fn. A read that makes no progress for timeout_ms fails.
 */
static int vf_read(struct vf_run *run, struct vf_client *c, struct ist_verify_topic *t,
		   const char *topic, struct vf_range *ranges, uint32_t n, vf_record_fn fn,
		   char *err, size_t errlen)
{
	rd_kafka_topic_partition_list_t *tp;
	rd_kafka_message_t *m;
	rd_kafka_resp_err_t e;
	uint32_t p, pending = 0;
	uint64_t last;
	int rc = 0;

	tp = rd_kafka_topic_partition_list_new((int)n);
	for (p = 0; p < n; p++) {
		ranges[p].next = ranges[p].start;
		ranges[p].done = ranges[p].start >= ranges[p].high;
		if (ranges[p].done)
			continue;
		rd_kafka_topic_partition_list_add(tp, topic, (int32_t)p)->offset = ranges[p].start;
		pending++;
	}
	if (pending == 0) {
		rd_kafka_topic_partition_list_destroy(tp);
		return 0;
	}
	e = rd_kafka_assign(c->rk, tp);
	rd_kafka_topic_partition_list_destroy(tp);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "cannot assign '%s' in the %s: %s", topic, c->cl->what,
			 rd_kafka_err2str(e));
		return -EIO;
	}
	last = run->now_ms();
	while (pending > 0) {
		struct vf_range *rg;

		m = rd_kafka_consumer_poll(c->rk, VF_POLL_MS);
		rd_kafka_poll(c->rk, 0);
		if (m == NULL) {
			if (run->now_ms() - last < run->o->timeout_ms)
				continue;
			for (p = 0; p < n && ranges[p].done; p++)
				;
			snprintf(err, errlen,
				 "reading '%s' partition %" PRIu32
				 " in the %s %s stalled at offset %" PRId64 " of %" PRId64
				 " for %g s%s%s; %s",
				 topic, p, c->cl->what, c->cl->bootstrap, ranges[p].next,
				 ranges[p].high, run->o->timeout_ms / 1000.0,
				 c->last_err[0] ? ": " : "", c->last_err, c->cl->hint);
			rc = -ETIMEDOUT;
			break;
		}
		if (m->rkt == NULL || strcmp(rd_kafka_topic_name(m->rkt), topic) != 0 ||
		    m->partition < 0 || (uint32_t)m->partition >= n) {
			if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR &&
			    m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				snprintf(c->last_err, sizeof(c->last_err), "%s",
					 rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		rg = &ranges[m->partition];
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			last = run->now_ms();
			if (!rg->done && m->offset >= rg->high) {
				rg->done = true;
				rg->next = rg->high;
				pending--;
			}
		} else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			/* Kept for the stall message; librdkafka retries by itself. */
			snprintf(c->last_err, sizeof(c->last_err), "%s",
				 rd_kafka_message_errstr(m));
		} else if (!rg->done) {
			last = run->now_ms();
			if (m->offset < rg->high) {
				fn(run, t, &t->parts[m->partition], m);
				rg->next = m->offset + 1;
			}
			if (m->offset >= rg->high - 1) {
				rg->done = true;
				rg->next = rg->high;
				pending--;
			}
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_assign(c->rk, NULL);
	return rc;
}

/* --- the run ----------------------------------------------------------------------------- */

static int vf_parts_grow(struct ist_verify_topic *t, uint32_t n)
{
	struct ist_verify_part *parts;
	uint32_t i;

	if (n <= t->n_parts)
		return 0;
	parts = realloc(t->parts, (size_t)n * sizeof(*parts));
	if (parts == NULL)
		return -ENOMEM;
	t->parts = parts;
	for (i = t->n_parts; i < n; i++) {
		memset(&parts[i], 0, sizeof(parts[i]));
		parts[i].partition = (int32_t)i;
		parts[i].st = calloc(1, sizeof(*parts[i].st));
		if (parts[i].st == NULL) {
			t->n_parts = i;
			return -ENOMEM;
		}
		parts[i].st->dst_next = -1;
		parts[i].st->max_copied = -1;
		t->n_parts = i + 1;
	}
	return 0;
}

static int vf_read_source(struct vf_run *run, struct ist_verify_topic *t, char *err, size_t errlen)
{
	struct vf_range *ranges;
	uint32_t p;
	int rc = 0;

	ranges = calloc(t->src_partitions ? t->src_partitions : 1, sizeof(*ranges));
	if (ranges == NULL)
		return -ENOMEM;
	for (p = 0; p < t->src_partitions && rc == 0; p++) {
		struct ist_verify_part *row = &t->parts[p];
		uint64_t want;

		row->in_source = true;
		rc = vf_watermarks(run, &run->src, t->topic, (int32_t)p, &row->src_low,
				   &row->src_high, err, errlen);
		if (rc < 0)
			break;
		ranges[p].start = row->src_low;
		ranges[p].high = row->src_high;
		want = (uint64_t)(row->src_high - row->src_low);
		if (want > VF_PREALLOC)
			want = VF_PREALLOC;
		if (want > 0) {
			row->st->recs = malloc(want * sizeof(*row->st->recs));
			row->st->cap_recs = row->st->recs ? want : 0;
		}
	}
	if (rc == 0)
		rc = vf_read(run, &run->src, t, t->topic, ranges, t->src_partitions,
			     vf_source_record, err, errlen);
	free(ranges);
	if (rc == 0 && run->oom) {
		snprintf(err, errlen,
			 "out of memory holding the record digests of '%s'; verify "
			 "fewer topics at once",
			 t->topic);
		rc = -ENOMEM;
	}
	for (p = 0; p < t->src_partitions && rc == 0; p++) {
		struct ist_verify_pstate *st = t->parts[p].st;

		if (st->unsorted && st->recs != NULL)
			qsort(st->recs, st->n_recs, sizeof(*st->recs), vf_rec_cmp);
	}
	return rc;
}

static int vf_read_dest(struct vf_run *run, struct ist_verify_topic *t,
			const struct rd_kafka_metadata *md, char *err, size_t errlen)
{
	const struct rd_kafka_metadata_topic *mt = vf_md_topic(md, t->dest_topic);
	struct vf_range *ranges;
	uint32_t p, n;
	int rc = 0;

	t->dest_exists = mt != NULL && mt->partition_cnt > 0;
	if (!t->dest_exists)
		return 0;
	n = (uint32_t)mt->partition_cnt;
	if (n > t->dst_partitions)
		t->dst_partitions = n;
	rc = vf_parts_grow(t, n);
	if (rc < 0)
		return rc;
	ranges = calloc(n, sizeof(*ranges));
	if (ranges == NULL)
		return -ENOMEM;
	for (p = 0; p < n && rc == 0; p++) {
		struct ist_verify_part *row = &t->parts[p];
		int64_t lo;

		row->in_dest = true;
		rc = vf_watermarks(run, &run->dst, t->dest_topic, (int32_t)p, &lo, &row->dst_high,
				   err, errlen);
		ranges[p].start = row->st->dst_next >= lo ? row->st->dst_next : lo;
		ranges[p].high = row->dst_high;
	}
	if (rc == 0)
		rc = vf_read(run, &run->dst, t, t->dest_topic, ranges, n, vf_dest_record, err,
			     errlen);
	for (p = 0; p < n && rc == 0; p++)
		t->parts[p].st->dst_next = ranges[p].next;
	free(ranges);
	return rc;
}

static bool vf_topic_ok(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '.' || s[n] == '_' || s[n] == '-'))
			return false;
	return n >= 1 && n <= IST_VERIFY_TOPIC_LEN;
}

static int vf_check_opts(const struct ist_verify_opts *o, char *err, size_t errlen)
{
	const char *prefix = o->dest_prefix ? o->dest_prefix : "";
	unsigned int i, j;

	if (o->source.bootstrap == NULL || o->source.bootstrap[0] == '\0' ||
	    o->dest.bootstrap == NULL || o->dest.bootstrap[0] == '\0') {
		snprintf(err, errlen,
			 "both clusters' bootstrap servers are needed; give --source "
			 "and --dest");
		return -EINVAL;
	}
	if (o->n_topics == 0 || o->n_topics > IST_VERIFY_MAX_TOPICS) {
		snprintf(err, errlen, "%u topics given; verify 1 to %u topics per run", o->n_topics,
			 IST_VERIFY_MAX_TOPICS);
		return -EINVAL;
	}
	if (o->timeout_ms == 0) {
		snprintf(err, errlen, "a timeout of 0 s cannot reach any cluster; give --timeout");
		return -EINVAL;
	}
	if (prefix[0] != '\0' && (!vf_topic_ok(prefix) || strlen(prefix) >= IST_VERIFY_TOPIC_LEN)) {
		snprintf(err, errlen,
			 "destination prefix '%s' is not the start of a topic name "
			 "(A-Z a-z 0-9 . _ -); check --dest-prefix",
			 prefix);
		return -EINVAL;
	}
	for (i = 0; i < o->n_topics; i++) {
		if (o->topics[i] == NULL || !vf_topic_ok(o->topics[i]) ||
		    strlen(prefix) + strlen(o->topics[i]) > IST_VERIFY_TOPIC_LEN) {
			snprintf(err, errlen,
				 "'%s%s' is not a topic name (1-%u of A-Z a-z 0-9 . _ -); "
				 "check --topic",
				 prefix, o->topics[i] ? o->topics[i] : "", IST_VERIFY_TOPIC_LEN);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(o->topics[i], o->topics[j]) == 0) {
				snprintf(err, errlen, "topic '%s' is given twice; give each once",
					 o->topics[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int ist_verify_run(const struct ist_verify_opts *o, struct ist_verify_report **out, char *err,
		   size_t errlen)
{
	const struct rd_kafka_metadata *md = NULL;
	struct ist_verify_report *r;
	struct vf_run run;
	uint64_t t0, elapsed;
	bool healable;
	uint32_t i;
	int rc;

	*out = NULL;
	err[0] = '\0';
	rc = vf_check_opts(o, err, errlen);
	if (rc < 0)
		return rc;
	memset(&run, 0, sizeof(run));
	run.o = o;
	run.now_ms = o->now_ms ? o->now_ms : vf_clock_ms;
	t0 = run.now_ms();
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	run.r = r;
	snprintf(r->source, sizeof(r->source), "%s", o->source.bootstrap);
	snprintf(r->dest, sizeof(r->dest), "%s", o->dest.bootstrap);
	r->max_report = o->max_report;
	r->topics = calloc(o->n_topics, sizeof(*r->topics));
	if (r->topics == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	r->n_topics = o->n_topics;
	for (i = 0; i < o->n_topics; i++) {
		snprintf(r->topics[i].topic, sizeof(r->topics[i].topic), "%s", o->topics[i]);
		snprintf(r->topics[i].dest_topic, sizeof(r->topics[i].dest_topic), "%s%s",
			 o->dest_prefix ? o->dest_prefix : "", o->topics[i]);
	}
	rc = vf_hash_init(&run);
	if (rc < 0) {
		snprintf(err, errlen, "OpenSSL's libcrypto offers no SipHash; install OpenSSL 3");
		goto out;
	}
	rc = vf_client_open(&run.src, &o->source, err, errlen);
	if (rc == 0)
		rc = vf_client_open(&run.dst, &o->dest, err, errlen);
	if (rc == 0)
		rc = vf_metadata(&run, &run.src, &md, err, errlen);
	if (rc < 0)
		goto out;
	for (i = 0; i < r->n_topics && rc == 0; i++) {
		struct ist_verify_topic *t = &r->topics[i];
		const struct rd_kafka_metadata_topic *mt = vf_md_topic(md, t->topic);

		if (mt == NULL || mt->partition_cnt <= 0) {
			snprintf(err, errlen, "topic '%s' does not exist in the %s %s; %s",
				 t->topic, o->source.what, o->source.bootstrap,
				 strcmp(o->source.hint, "check --source") == 0 ? "check --topic"
									       : o->source.hint);
			rc = -ENOENT;
			break;
		}
		t->src_partitions = (uint32_t)mt->partition_cnt;
		rc = vf_parts_grow(t, t->src_partitions);
	}
	rd_kafka_metadata_destroy(md);
	md = NULL;
	/* The destination must be reachable before the (possibly long) source read. */
	if (rc == 0)
		rc = vf_metadata(&run, &run.dst, &md, err, errlen);
	for (i = 0; i < r->n_topics && rc == 0; i++)
		rc = vf_read_source(&run, &r->topics[i], err, errlen);
	while (rc == 0) {
		if (md == NULL)
			rc = vf_metadata(&run, &run.dst, &md, err, errlen);
		for (i = 0; i < r->n_topics && rc == 0; i++)
			rc = vf_read_dest(&run, &r->topics[i], md, err, errlen);
		if (md != NULL)
			rd_kafka_metadata_destroy(md);
		md = NULL;
		if (rc < 0)
			break;
		r->passes++;
		healable = vf_summarize(&run);
		elapsed = run.now_ms() - t0;
		if (r->clean || !healable || elapsed >= o->wait_ms)
			break;
		(o->sleep_ms ? o->sleep_ms : vf_sleep_ms)(
			(uint32_t)(o->wait_ms - elapsed < VF_PASS_GAP_MS ? o->wait_ms - elapsed
									 : VF_PASS_GAP_MS));
	}
out:
	if (md != NULL)
		rd_kafka_metadata_destroy(md);
	vf_client_close(&run.src);
	vf_client_close(&run.dst);
	EVP_MAC_CTX_free(run.ctx);
	EVP_MAC_free(run.mac);
	r->elapsed_ms = run.now_ms() - t0;
	if (rc < 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s", strerror(-rc));
		ist_verify_report_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void ist_verify_report_free(struct ist_verify_report *r)
{
	uint32_t i, j;

	if (r == NULL)
		return;
	for (i = 0; i < r->n_topics && r->topics != NULL; i++) {
		for (j = 0; j < r->topics[i].n_parts; j++) {
			struct ist_verify_part *row = &r->topics[i].parts[j];

			if (row->st != NULL)
				free(row->st->recs);
			free(row->st);
			free(row->diffs);
		}
		free(r->topics[i].parts);
	}
	free(r->topics);
	free(r);
}

/* --- output ------------------------------------------------------------------------------ */

void ist_verify_summary(const struct ist_verify_report *r, char *buf, size_t len)
{
	if (r->clean)
		snprintf(buf, len,
			 "verify: OK topics=%" PRIu32 " partitions=%" PRIu32 " records=%" PRIu64,
			 r->n_topics, r->partitions, r->src_records);
	else
		snprintf(buf, len,
			 "verify: FAILED missing=%" PRIu64 " duplicated=%" PRIu64
			 " reordered=%" PRIu64 " altered=%" PRIu64 " foreign=%" PRIu64
			 " misplaced=%" PRIu64,
			 r->total[IST_VERIFY_MISSING], r->total[IST_VERIFY_DUPLICATED],
			 r->total[IST_VERIFY_REORDERED], r->total[IST_VERIFY_ALTERED],
			 r->total[IST_VERIFY_FOREIGN], r->total[IST_VERIFY_MISPLACED]);
}

static void vf_diff_text(const struct ist_verify_diff *d, char *buf, size_t len)
{
	switch (d->kind) {
	case IST_VERIFY_MISSING:
		if (d->src_last > d->src_offset)
			snprintf(buf, len, "source offsets %" PRId64 "..%" PRId64, d->src_offset,
				 d->src_last);
		else
			snprintf(buf, len, "source offset %" PRId64, d->src_offset);
		break;
	case IST_VERIFY_FOREIGN:
		snprintf(buf, len, "dest offset %" PRId64 ": %s", d->dst_offset, d->note);
		break;
	default:
		snprintf(buf, len, "source offset %" PRId64 " at dest offset %" PRId64 ": %s",
			 d->src_offset, d->dst_offset, d->note);
		break;
	}
}

static void vf_print_count(FILE *f, bool known, uint64_t v, int width)
{
	if (known)
		fprintf(f, " %*" PRIu64, width, v);
	else
		fprintf(f, " %*s", width, "-");
}

void ist_verify_print(FILE *f, const struct ist_verify_report *r)
{
	static const int widths[IST_VERIFY_KIND_MAX] = {7, 10, 9, 7, 7, 9};
	char line[512], name[2 * IST_VERIFY_TOPIC_LEN + 8];
	int w = 5, k;
	uint32_t i, j, x;

	for (i = 0; i < r->n_topics; i++) {
		const struct ist_verify_topic *t = &r->topics[i];
		int n = (int)strlen(t->topic);

		if (strcmp(t->topic, t->dest_topic) != 0)
			n += 4 + (int)strlen(t->dest_topic);
		if (n > w)
			w = n;
	}
	fprintf(f, "source %s, destination %s: %" PRIu32 " pass%s in %.1f s (read_committed)\n",
		r->source, r->dest, r->passes, r->passes == 1 ? "" : "es", r->elapsed_ms / 1000.0);
	fprintf(f, "%-*s %5s %10s %10s", w, "TOPIC", "PART", "SOURCE", "DEST");
	for (k = 0; k < IST_VERIFY_KIND_MAX; k++) {
		char up[16];
		size_t c;

		for (c = 0; vf_kind_names[k][c] != '\0' && c < sizeof(up) - 1; c++)
			up[c] = (char)(vf_kind_names[k][c] - 'a' + 'A');
		up[c] = '\0';
		fprintf(f, " %*s", widths[k], up);
	}
	fputc('\n', f);
	for (i = 0; i < r->n_topics; i++) {
		const struct ist_verify_topic *t = &r->topics[i];

		if (strcmp(t->topic, t->dest_topic) != 0)
			snprintf(name, sizeof(name), "%s -> %s", t->topic, t->dest_topic);
		else
			snprintf(name, sizeof(name), "%s", t->topic);
		for (j = 0; j < t->n_parts; j++) {
			const struct ist_verify_part *row = &t->parts[j];
			uint64_t total = 0;

			fprintf(f, "%-*s %5" PRId32, w, name, row->partition);
			vf_print_count(f, row->in_source, row->src_records, 10);
			vf_print_count(f, row->in_dest, row->dst_records, 10);
			for (k = 0; k < IST_VERIFY_KIND_MAX; k++) {
				fprintf(f, " %*" PRIu64, widths[k], row->count[k]);
				total += row->count[k];
			}
			fputc('\n', f);
			for (x = 0; x < row->n_diffs; x++) {
				const struct ist_verify_diff *d = &row->diffs[x];

				vf_diff_text(d, line, sizeof(line));
				fprintf(f, "    %-10s %s\n", vf_kind_names[d->kind], line);
			}
			if (row->truncated && total > 0)
				fprintf(f,
					"    (the first %" PRIu32 " differences; --max-report N "
					"lists more)\n",
					r->max_report);
		}
		if (!t->dest_exists)
			fprintf(f, "note: destination topic '%s' does not exist in %s\n",
				t->dest_topic, r->dest);
		else if (t->dst_partitions < t->src_partitions)
			fprintf(f,
				"note: destination topic '%s' has %" PRIu32
				" partitions, the source %" PRIu32 "\n",
				t->dest_topic, t->dst_partitions, t->src_partitions);
	}
	if (r->in_flight > 0)
		fprintf(f,
			"note: %" PRIu64 " of the missing records are at the tail of their "
			"partitions (still in flight? --wait SECONDS waits for them)\n",
			r->in_flight);
	if (r->skipped > 0)
		fprintf(f,
			"note: %" PRIu64 " destination records copy source offsets outside the "
			"window read (newer than the start of this run, or gone from the source); "
			"not compared\n",
			r->skipped);
	ist_verify_summary(r, line, sizeof(line));
	fprintf(f, "%s\n", line);
}

static json_t *vf_diff_json(const struct ist_verify_diff *d)
{
	static const char *const field_names[] = {"key", "value", "headers", "timestamp"};
	json_t *o = json_object(), *fields;
	unsigned int k;

	json_object_set_new(o, "kind", json_string(vf_kind_names[d->kind]));
	json_object_set_new(o, "source_offset",
			    d->src_offset >= 0 ? json_integer(d->src_offset) : json_null());
	if (d->kind == IST_VERIFY_MISSING)
		json_object_set_new(o, "source_offset_last", json_integer(d->src_last));
	json_object_set_new(o, "dest_offset",
			    d->dst_offset >= 0 ? json_integer(d->dst_offset) : json_null());
	if (d->kind == IST_VERIFY_ALTERED) {
		fields = json_array();
		for (k = 0; k < IST_DIM(field_names); k++)
			if (d->fields & (1u << k))
				json_array_append_new(fields, json_string(field_names[k]));
		json_object_set_new(o, "fields", fields);
	}
	if (d->note[0] != '\0')
		json_object_set_new(o, "note", json_string(d->note));
	return o;
}

static void vf_counts_json(json_t *o, const uint64_t count[IST_VERIFY_KIND_MAX])
{
	int k;

	for (k = 0; k < IST_VERIFY_KIND_MAX; k++)
		json_object_set_new(o, vf_kind_names[k], json_integer((json_int_t)count[k]));
}

json_t *ist_verify_to_json(const struct ist_verify_report *r)
{
	json_t *doc = json_object(), *topics = json_array(), *totals = json_object();
	char line[512];
	uint32_t i, j, x;

	if (doc == NULL || topics == NULL || totals == NULL) {
		json_decref(doc);
		json_decref(topics);
		json_decref(totals);
		return NULL;
	}
	ist_verify_summary(r, line, sizeof(line));
	json_object_set_new(doc, "ok", json_boolean(r->clean));
	json_object_set_new(doc, "summary", json_string(line));
	json_object_set_new(doc, "source", json_string(r->source));
	json_object_set_new(doc, "dest", json_string(r->dest));
	json_object_set_new(doc, "passes", json_integer(r->passes));
	json_object_set_new(doc, "elapsed_ms", json_integer((json_int_t)r->elapsed_ms));
	json_object_set_new(totals, "topics", json_integer(r->n_topics));
	json_object_set_new(totals, "partitions", json_integer(r->partitions));
	json_object_set_new(totals, "source_records", json_integer((json_int_t)r->src_records));
	json_object_set_new(totals, "dest_records", json_integer((json_int_t)r->dst_records));
	vf_counts_json(totals, r->total);
	json_object_set_new(totals, "in_flight", json_integer((json_int_t)r->in_flight));
	json_object_set_new(totals, "skipped", json_integer((json_int_t)r->skipped));
	json_object_set_new(doc, "totals", totals);
	for (i = 0; i < r->n_topics; i++) {
		const struct ist_verify_topic *t = &r->topics[i];
		json_t *jt = json_object(), *parts = json_array();

		json_object_set_new(jt, "topic", json_string(t->topic));
		json_object_set_new(jt, "dest_topic", json_string(t->dest_topic));
		json_object_set_new(jt, "dest_exists", json_boolean(t->dest_exists));
		json_object_set_new(jt, "source_partitions", json_integer(t->src_partitions));
		json_object_set_new(jt, "dest_partitions", json_integer(t->dst_partitions));
		for (j = 0; j < t->n_parts; j++) {
			const struct ist_verify_part *row = &t->parts[j];
			json_t *jp = json_object(), *diffs = json_array();

			json_object_set_new(jp, "partition", json_integer(row->partition));
			json_object_set_new(jp, "in_source", json_boolean(row->in_source));
			json_object_set_new(jp, "in_dest", json_boolean(row->in_dest));
			json_object_set_new(jp, "source_low", json_integer(row->src_low));
			json_object_set_new(jp, "source_high", json_integer(row->src_high));
			json_object_set_new(jp, "dest_high", json_integer(row->dst_high));
			json_object_set_new(jp, "source_records",
					    json_integer((json_int_t)row->src_records));
			json_object_set_new(jp, "dest_records",
					    json_integer((json_int_t)row->dst_records));
			vf_counts_json(jp, row->count);
			json_object_set_new(jp, "in_flight",
					    json_integer((json_int_t)row->in_flight));
			json_object_set_new(jp, "skipped", json_integer((json_int_t)row->skipped));
			for (x = 0; x < row->n_diffs; x++)
				json_array_append_new(diffs, vf_diff_json(&row->diffs[x]));
			json_object_set_new(jp, "differences", diffs);
			json_array_append_new(parts, jp);
		}
		json_object_set_new(jt, "partitions", parts);
		json_array_append_new(topics, jt);
	}
	json_object_set_new(doc, "topics", topics);
	return doc;
}

/* --- the CLI verb ------------------------------------------------------------------------ */

/* Whether @p topic matches one of the flow's exclude patterns (whole name). */
static bool vf_excluded(const struct ist_cfg_flow *fl, const char *topic)
{
	char re[IST_CFG_PATTERN_LEN + 8];
	regex_t rx;
	bool hit;
	int i;

	for (i = 0; i < fl->n_exclude; i++) {
		snprintf(re, sizeof(re), "^(%s)$", fl->exclude[i]);
		if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
			continue;
		hit = regexec(&rx, topic, 0, NULL, 0) == 0;
		regfree(&rx);
		if (hit)
			return true;
	}
	return false;
}

int ist_verify_cli(const struct ist_cli_cmd *cmd, FILE *out, FILE *errf)
{
	char err[1024], prefix[IST_CFG_NAME_LEN + 2] = "", src_hint[IST_CFG_STR_LEN + 64],
						  dst_hint[IST_CFG_STR_LEN + 64];
	const char *topics[IST_CLI_MAX_TOPICS];
	struct ist_verify_report *r = NULL;
	struct ist_config *cfg = NULL;
	struct ist_verify_opts o;
	unsigned int n = 0, i;
	int rc, ret;

	ist_verify_opts_init(&o);
	o.wait_ms = cmd->wait_s * 1000u;
	o.timeout_ms = cmd->timeout_s * 1000u;
	o.max_report = cmd->max_report;
	for (i = 0; i < cmd->n_topics; i++)
		topics[n++] = cmd->topics[i];
	if (cmd->flow != NULL) {
		const struct ist_cfg_flow *fl = NULL;
		const struct ist_cfg_kafka *ks, *kd;
		char names[256] = "";
		size_t len = 0;

		cfg = calloc(1, sizeof(*cfg));
		if (cfg == NULL) {
			fprintf(errf, "isthmus verify: out of memory\n");
			return IST_CLI_EXIT_USAGE;
		}
		if (ist_config_load(cmd->config, cfg, err, sizeof(err)) < 0) {
			fprintf(errf, "isthmus verify: %s\n", err);
			free(cfg);
			return IST_CLI_EXIT_USAGE;
		}
		for (i = 0; i < cfg->n_flows; i++) {
			if (strcmp(cfg->flows[i].name, cmd->flow) == 0)
				fl = &cfg->flows[i];
			len += (size_t)snprintf(names + len,
						len < sizeof(names) ? sizeof(names) - len : 0,
						"%s%s", i ? ", " : "", cfg->flows[i].name);
		}
		if (fl == NULL) {
			fprintf(errf, "isthmus verify: no [flow %s] in %s (%s%s); check --flow\n",
				cmd->flow, cmd->config,
				cfg->n_flows ? "its flows: " : "it has no flows", names);
			free(cfg);
			return IST_CLI_EXIT_USAGE;
		}
		ks = &cfg->kafka[fl->source];
		kd = &cfg->kafka[fl->sink];
		o.source.bootstrap = ks->bootstrap;
		o.source.props = ks->props;
		o.source.n_props = ks->n_props;
		snprintf(src_hint, sizeof(src_hint), "check [kafka %s] bootstrap in %s", ks->name,
			 cmd->config);
		o.source.hint = src_hint;
		o.dest.bootstrap = kd->bootstrap;
		o.dest.props = kd->props;
		o.dest.n_props = kd->n_props;
		snprintf(dst_hint, sizeof(dst_hint), "check [kafka %s] bootstrap in %s", kd->name,
			 cmd->config);
		o.dest.hint = dst_hint;
		if (fl->naming == IST_NAMING_PREFIX)
			snprintf(prefix, sizeof(prefix), "%s.", cfg->appliance.region);
		if (cmd->n_topics == 0) {
			for (i = 0; i < fl->n_include && n < IST_CLI_MAX_TOPICS; i++)
				/* Only topic-name characters: one topic ('.' matches itself too). */
				if (vf_topic_ok(fl->include[i]) && !vf_excluded(fl, fl->include[i]))
					topics[n++] = fl->include[i];
			if (n == 0) {
				fprintf(errf,
					"isthmus verify: [flow %s] in %s includes only "
					"patterns, no plain topic names; name the topics "
					"with --topic\n",
					cmd->flow, cmd->config);
				free(cfg);
				return IST_CLI_EXIT_USAGE;
			}
		}
	} else {
		o.source.bootstrap = cmd->source;
		o.dest.bootstrap = cmd->dest;
	}
	o.dest_prefix = cmd->dest_prefix ? cmd->dest_prefix : prefix;
	o.topics = topics;
	o.n_topics = n;

	rc = ist_verify_run(&o, &r, err, sizeof(err));
	if (rc < 0) {
		fprintf(errf, "isthmus verify: %s\n", err);
		free(cfg);
		return IST_CLI_EXIT_USAGE;
	}
	if (cmd->json) {
		json_t *doc = ist_verify_to_json(r);

		if (doc != NULL) {
			json_dumpf(doc, out, JSON_INDENT(2));
			fputc('\n', out);
			json_decref(doc);
		}
	} else {
		ist_verify_print(out, r);
	}
	fflush(out);
	ret = r->clean ? IST_CLI_EXIT_OK : IST_CLI_EXIT_FAIL;
	ist_verify_report_free(r);
	free(cfg);
	return ret;
}
