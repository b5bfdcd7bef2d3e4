/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source pipeline: kafka-in (consume) and batcher (rules, encode, compress)
 * on one lcore. See ist_repl.h.
 *
 * Positions. `pos` is the next source offset this side will take; `chain`
 * is where the next frame starts: the end of the previous frame, or the
 * position the sink asked for. A frame says both (base = chain, end = last
 * offset + 1), so the sink accepts only the frame that continues exactly
 * where its destination log ends. Records a rule drops are not in any frame
 * and are read again after a restart (and dropped again).
 *
 * Back-pressure. Each stream queues at most REPL_Q_FRAMES frames for
 * link-tx, and link-tx sends a stream only as far as the sink's credit
 * allows, so a slow destination partition fills its own queue only. Then
 * the partition's fetching is paused; records librdkafka had already
 * fetched are let go and read again (the stream seeks back to `pos`) once
 * there is room. Nothing waits on a full queue and nothing is skipped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_random.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "isthmus/provenance.h"
#include "ist_repl_int.h"

RTE_LOG_REGISTER(ist_src_logtype, isthmus.source, INFO);
#define SRC_LOG(level, fmt, ...)                                                          \
	rte_log(RTE_LOG_##level, ist_src_logtype, "isthmus-dataplane: source: " fmt "\n", \
		##__VA_ARGS__)

#define CONSUME_BURST 64
#define MAX_TOPICS    4096
#define ROUTE_HEADER  "isthmus.route"

/*
 * The stream of a message. Streams are laid out topic by topic, partitions
 * in order, so a topic's first stream plus the partition is the answer; the
 * first stream is found by name once per topic handle and then kept in a
 * small cache keyed by librdkafka's topic handle (stable while the consumer
 * lives). HOT: a few compares per record once the cache is warm.
 */
static uint32_t stream_of(struct ist_repl *r, const rd_kafka_topic_t *rkt, int32_t partition)
{
	uint32_t first = 0, id;

	for (unsigned int i = 0; i < RTE_DIM(r->rkt_cache); i++)
		if (r->rkt_cache[i].rkt == rkt) {
			first = r->rkt_cache[i].first;
			break;
		}
	if (first == 0) {
		const char *topic = rd_kafka_topic_name(rkt);

		for (uint32_t s = 1; s <= r->n_src && first == 0; s++)
			if (r->src[s].partition == 0 && strcmp(r->src[s].topic, topic) == 0)
				first = s;
		if (first == 0)
			return 0;
		r->rkt_cache[r->rkt_next] = (struct rkt_slot){rkt, first};
		r->rkt_next = (r->rkt_next + 1) % RTE_DIM(r->rkt_cache);
	}
	id = first + (uint32_t)partition;
	if (partition < 0 || id > r->n_src || r->src[id].first != first)
		return 0;
	return id;
}

static void part_list(rd_kafka_topic_partition_list_t **l, const struct src_stream *ss,
		      int64_t offset)
{
	*l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(*l, ss->topic, ss->partition)->offset = offset;
}

/*
 * (Re)start fetching the stream at ss->pos. The first time the partition
 * is added to the assignment; after that it is sought: a seek bumps the
 * partition's fetch version, and librdkafka drops every message fetched
 * before it, so nothing from the old position can arrive after the new one
 * (re-assigning would not guarantee that, and one late message would move
 * the position past records not taken yet).
 */
static void assign_at(struct ist_repl *r, struct src_stream *ss)
{
	rd_kafka_t *rk = r->src_rk[ss->cluster];
	int64_t off = ss->pos == IST_CAT_POS_BEGINNING ? RD_KAFKA_OFFSET_BEGINNING : ss->pos;
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_error_t *e;

	part_list(&l, ss, off);
	if (!ss->assigned) {
		e = rd_kafka_incremental_assign(rk, l);
		if (e == NULL)
			ss->assigned = true;
	} else {
		e = rd_kafka_seek_partitions(rk, l, 0);
	}
	rd_kafka_topic_partition_list_destroy(l);
	if (e != NULL) {
		snprintf(ss->reason, sizeof(ss->reason), "fetch at %" PRId64 ": %s", ss->pos,
			 rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
		return;
	}
	ss->rewind = false;
	if (ss->paused) {
		part_list(&l, ss, RD_KAFKA_OFFSET_INVALID);
		rd_kafka_resume_partitions(rk, l);
		rd_kafka_topic_partition_list_destroy(l);
		ss->paused = false;
	}
}

static void fetch_pause(struct ist_repl *r, struct src_stream *ss, bool pause)
{
	rd_kafka_topic_partition_list_t *l;

	if (ss->paused == pause || !ss->assigned)
		return;
	part_list(&l, ss, RD_KAFKA_OFFSET_INVALID);
	if (pause)
		rd_kafka_pause_partitions(r->src_rk[ss->cluster], l);
	else
		rd_kafka_resume_partitions(r->src_rk[ss->cluster], l);
	rd_kafka_topic_partition_list_destroy(l);
	ss->paused = pause;
}

/* Hand the closed frame to link-tx. @return 0, or -ENOBUFS (kept in ss->out). */
static int frame_push(struct src_stream *ss)
{
	if (ss->out == NULL)
		return 0;
	if (rte_ring_sp_enqueue(ss->q, ss->out) != 0)
		return -ENOBUFS;
	ss->out = NULL;
	return 0;
}

/* Close the open frame into a frame buffer. @return 0, or -ENOBUFS (stays open). */
static int frame_close(struct ist_repl *r, struct src_stream *ss)
{
	struct fbuf *fb;
	void *obj;
	int n;

	if (!ss->open)
		return 0;
	if (ss->out != NULL || rte_mempool_get(r->fpool, &obj) != 0)
		return -ENOBUFS;
	fb = obj;
	n = ist_batch_enc_close(&ss->enc, r->src_cc, &r->class_codec[ss->cls], fb->data,
				r->frame_max);
	if (n <= 0) {
		/* Cannot happen with a body bound below the frame size; keep the data. */
		rte_mempool_put(r->fpool, obj);
		snprintf(ss->reason, sizeof(ss->reason), "frame close failed: %d", n);
		return -ENOBUFS;
	}
	fb->stream = ss->id;
	fb->gen = ss->gen;
	fb->len = (uint32_t)n;
	fb->end = (int64_t)ss->enc.last_offset + 1;
	ss->base = fb->end;
	ss->open = false;
	ss->frames++;
	ss->bytes_out += (uint32_t)n;
	ss->out = fb;
	frame_push(ss);
	return 0;
}

static void gap(struct ist_repl *r, struct src_stream *ss)
{
	const struct ist_cfg_flow *fl = &r->cfg->flows[ss->flow];
	int64_t low = -1, high = -1, lost;
	rd_kafka_resp_err_t e;

	e = rd_kafka_query_watermark_offsets(r->src_rk[ss->cluster], ss->topic, ss->partition, &low,
					     &high, 5000);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(ss->reason, sizeof(ss->reason),
			 "resume offset %" PRId64 " out of range; watermarks unknown: %s", ss->pos,
			 rd_kafka_err2str(e));
		assign_at(r, ss); /* try again: the error comes back if it persists */
		return;
	}
	ss->high = high;
	if (ss->pos < low)
		lost = low - ss->pos;
	else if (ss->pos > high) {
		/* Truncated or recreated: the destination is ahead of the source, so
		 * going on would interleave two histories in one partition. Always a
		 * halt, whatever on_gap says; replicate into a fresh topic. */
		ss->gaps++;
		ss->state = RS_HALTED;
		snprintf(ss->reason, sizeof(ss->reason),
			 "GAP: resume offset %" PRId64 " is past the source's end %" PRId64
			 " (truncated or recreated topic); halted: replicate into a fresh topic",
			 ss->pos, high);
		SRC_LOG(ERR, "%s [%d]: %s", ss->topic, ss->partition, ss->reason);
		return;
	} else {
		assign_at(r, ss); /* in range again (a leader change): go on */
		return;
	}
	ss->gaps++;
	ss->gap_lost += (uint64_t)lost;
	snprintf(ss->reason, sizeof(ss->reason),
		 "GAP: resume offset %" PRId64 " is not in the source (offsets %" PRId64
		 "..%" PRId64 "): %" PRId64 " offsets lost; on_gap = %s",
		 ss->pos, low, high, lost, fl->on_gap == IST_GAP_SKIP ? "skip" : "halt");
	SRC_LOG(ERR, "%s [%d]: %s", ss->topic, ss->partition, ss->reason);
	if (fl->on_gap != IST_GAP_SKIP) {
		rd_kafka_topic_partition_list_t *l;
		rd_kafka_error_t *err;

		ss->state = RS_HALTED;
		part_list(&l, ss, RD_KAFKA_OFFSET_INVALID);
		err = rd_kafka_incremental_unassign(r->src_rk[ss->cluster], l);
		rd_kafka_topic_partition_list_destroy(l);
		if (err != NULL)
			rd_kafka_error_destroy(err);
		ss->assigned = false;
		return;
	}
	/* skip: go on from what the source has; the frame still continues the chain. */
	ss->pos = low;
	assign_at(r, ss);
}

struct dict_job {
	struct ist_repl *r;
	uint32_t cls;
};

/* Train a class's dictionary off the lcore: zstd's builder takes a while. */
static void *dict_trainer(void *arg)
{
	struct dict_job *j = arg;
	struct ist_repl *r = j->r;
	uint32_t c = j->cls;
	char err[160];
	int n;

	free(j);
	n = ist_dict_sampler_train(r->sampler[c], r->dict_buf[c], REPL_DICT_CAP, err, sizeof(err));
	if (n <= 0) {
		SRC_LOG(WARNING,
			"class %u: dictionary training failed (%s); the class goes on "
			"without one",
			c, err);
		__atomic_store_n(&r->dict_state[c], DICT_FAILED, __ATOMIC_RELEASE);
		return NULL;
	}
	r->dict_len[c] = (uint32_t)n;
	__atomic_store_n(&r->dict_state[c], DICT_TRAINED, __ATOMIC_RELEASE);
	return NULL;
}

/* Sample a record for the class's dictionary; train once there are enough. */
static void dict_sample(struct ist_repl *r, uint32_t c, const void *v, size_t len)
{
	struct dict_job *j;
	pthread_t t;

	ist_dict_sampler_add(r->sampler[c], v, len);
	if (ist_dict_sampler_count(r->sampler[c]) < REPL_DICT_SAMPLES)
		return;
	r->dict_state[c] = DICT_TRAINING;
	j = malloc(sizeof(*j));
	if (j != NULL) {
		*j = (struct dict_job){r, c};
		if (pthread_create(&t, NULL, dict_trainer, j) == 0) {
			pthread_detach(t);
			return;
		}
		free(j);
	}
	r->dict_state[c] = DICT_FAILED;
}

/* Commands from the link about dictionaries. */
static void dict_cmd(struct ist_repl *r, const struct src_cmd *c)
{
	if (c->type == SCMD_DICT_REVOKE) {
		for (uint32_t k = 0; k < r->n_classes; k++)
			r->class_codec[k].dict_id = 0;
		return;
	}
	if (c->stream < r->n_classes && r->dict_state[c->stream] == DICT_SHIPPED) {
		uint32_t k = c->stream;
		char err[160];
		int rc = 0;

		if (!ist_codec_ctx_dict_has(r->src_cc, r->dict_id[k]))
			rc = ist_codec_ctx_dict_add(r->src_cc, r->dict_id[k], r->dict_buf[k],
						    r->dict_len[k], r->class_codec[k].level, err,
						    sizeof(err));
		if (rc == 0)
			r->class_codec[k].dict_id = r->dict_id[k];
		else
			SRC_LOG(WARNING, "class %u: dictionary not usable: %s", k, err);
	}
}

/* Emit the parts of a split record while link-tx has room for them. */
static void split_emit(struct ist_repl *r, struct src_stream *ss)
{
	while (ss->splitting) {
		struct fbuf *fb;
		void *obj;
		int n;

		if (frame_push(ss) != 0 || rte_mempool_get(r->fpool, &obj) != 0)
			return;
		fb = obj;
		n = ist_batch_enc_split_next(&ss->enc, r->src_cc, &r->class_codec[ss->cls],
					     fb->data, r->frame_max);
		if (n <= 0) {
			rte_mempool_put(r->fpool, obj);
			ss->splitting = false;
			ss->open = false;
			if (n < 0) {
				snprintf(ss->reason, sizeof(ss->reason),
					 "record at offset %" PRId64 " cannot be split: %d",
					 ss->split_offset, n);
				ss->state = RS_HALTED;
				return;
			}
			/* Every part is out: the record is taken. */
			ss->pos = ss->split_offset + 1;
			ss->base = ss->pos;
			ss->records++;
			return;
		}
		fb->stream = ss->id;
		fb->gen = ss->gen;
		fb->len = (uint32_t)n;
		fb->end = ss->split_offset + 1;
		ss->frames++;
		ss->bytes_out += (uint32_t)n;
		ss->out = fb;
	}
}

/*
 * A record larger than a frame: encode it once into the stream's split
 * buffer (slow path, allocated the first time) and cut it into parts.
 * @return 0 (taken or halted: the message may go).
 */
static int split_start(struct ist_repl *r, struct src_stream *ss, const rd_kafka_message_t *m,
		       rd_kafka_headers_t *hdrs, size_t n_h, const struct ist_rules_verdict *v)
{
	struct ist_rec_hdr h[48];
	size_t cap = (size_t)r->cfg->link.max_record_kb * 1024, n = 0;
	rd_kafka_timestamp_type_t tst;
	struct ist_rec rec = {
		.offset = (uint64_t)m->offset,
		.ts_ms = rd_kafka_message_timestamp(m, &tst),
		.key = m->key,
		.key_len = m->key ? (int32_t)m->key_len : -1,
		.value = m->payload,
		.value_len = m->payload ? (int32_t)m->len : -1,
		.headers = h,
	};
	int64_t size;
	int rc;

	rec.ts_type = (uint8_t)tst;
	if (n_h + v->n_tags + 1 > RTE_DIM(h)) {
		snprintf(ss->reason, sizeof(ss->reason),
			 "record at offset %" PRId64 " has %zu headers; a record larger than a "
			 "frame may have at most %zu; halted",
			 m->offset, n_h, RTE_DIM(h) - 1 - v->n_tags);
		ss->state = RS_HALTED;
		return 0;
	}
	for (size_t i = 0; i < n_h; i++) {
		const char *name;
		const void *val;
		size_t vlen;

		rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen);
		h[n++] = (struct ist_rec_hdr){name, (uint32_t)strlen(name),
					      val ? (int32_t)vlen : -1, val};
	}
	for (uint32_t t = 0; t < v->n_tags; t++)
		h[n++] = (struct ist_rec_hdr){v->tags[t].name, v->tags[t].name_len,
					      v->tags[t].value_len, v->tags[t].value};
	if (v->action == IST_RULES_ROUTE)
		h[n++] = (struct ist_rec_hdr){ROUTE_HEADER, sizeof(ROUTE_HEADER) - 1, v->topic_len,
					      v->topic};
	rec.n_headers = (uint32_t)n;
	size = ist_batch_rec_size(&rec);
	if (size < 0 || (size_t)size > cap) {
		snprintf(ss->reason, sizeof(ss->reason),
			 "record at offset %" PRId64 " is %" PRId64 " bytes encoded, more than "
			 "link.max_record_kb = %u; raise it; halted",
			 m->offset, size, r->cfg->link.max_record_kb);
		ss->state = RS_HALTED;
		return 0;
	}
	if (ss->open && ss->enc.count != 0 && frame_close(r, ss) != 0)
		return -ENOBUFS; /* read again once the queue has room */
	if (ss->split_buf == NULL)
		ss->split_buf = malloc(cap);
	if (!ss->open) {
		ist_batch_enc_open(&ss->enc, ss->id, repl_wire_pos(ss->base));
		ss->open = true;
	}
	rc = ss->split_buf ? ist_batch_enc_split_open(&ss->enc, &rec, ss->split_buf, cap) : -ENOMEM;
	if (rc != 0) {
		snprintf(ss->reason, sizeof(ss->reason),
			 "record at offset %" PRId64 " cannot be split: %d; halted", m->offset, rc);
		ss->state = RS_HALTED;
		return 0;
	}
	ss->splitting = true;
	ss->split_offset = m->offset;
	ss->bytes += m->len + m->key_len;
	split_emit(r, ss);
	return 0;
}

/* Encode one record into the stream's frame. @return 0, or -ENOBUFS (try later). */
static int take(struct ist_repl *r, struct src_stream *ss, const rd_kafka_message_t *m,
		const struct ist_rules_set *set, struct ist_rules_scratch *scr, uint64_t now)
{
	struct ist_rules_header rh[32];
	struct ist_rules_verdict v = {.action = IST_RULES_PASS};
	rd_kafka_headers_t *hdrs = NULL;
	rd_kafka_timestamp_type_t tst;
	int64_t ts = rd_kafka_message_timestamp(m, &tst);
	size_t n_h = 0;
	int rc;

	if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
		n_h = rd_kafka_header_cnt(hdrs);
	if (set != NULL) {
		struct ist_rules_rec rec = {
			.key = m->key,
			.key_len = (uint32_t)m->key_len,
			.value = m->payload,
			.value_len = (uint32_t)m->len,
			.headers = rh,
		};

		for (size_t i = 0; i < n_h && i < RTE_DIM(rh); i++) {
			const void *val;
			size_t vlen;
			const char *name;

			rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen);
			rh[i] = (struct ist_rules_header){.name = name,
							  .name_len = (uint16_t)strlen(name),
							  .value = val,
							  .value_len = (uint32_t)vlen};
		}
		rec.n_headers = (uint16_t)RTE_MIN(n_h, RTE_DIM(rh));
		ist_rules_record_eval(set, &ss->rtp, &rec, scr, &v);
		if (v.action == IST_RULES_DROP) {
			ss->dropped_by_rule++;
			ss->pos = m->offset + 1;
			return 0;
		}
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		uint32_t extra = v.n_tags + (v.action == IST_RULES_ROUTE);

		if (!ss->open) {
			ist_batch_enc_open(&ss->enc, ss->id, repl_wire_pos(ss->base));
			ss->open = true;
			ss->open_tsc = now;
		}
		rc = ist_batch_enc_rec_begin(
			&ss->enc, (uint64_t)m->offset,
			tst == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts, (uint8_t)tst, m->key,
			m->key ? (int32_t)m->key_len : -1, m->payload,
			m->payload ? (int32_t)m->len : -1, (uint32_t)n_h + extra);
		for (size_t i = 0; rc == 0 && i < n_h; i++) {
			const void *val;
			size_t vlen;
			const char *name;

			rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen);
			rc = ist_batch_enc_rec_header(&ss->enc, name, (uint32_t)strlen(name), val,
						      val ? (int32_t)vlen : -1);
		}
		for (uint32_t t = 0; rc == 0 && t < v.n_tags; t++)
			rc = ist_batch_enc_rec_header(&ss->enc, v.tags[t].name, v.tags[t].name_len,
						      v.tags[t].value, v.tags[t].value_len);
		if (rc == 0 && v.action == IST_RULES_ROUTE)
			rc = ist_batch_enc_rec_header(&ss->enc, ROUTE_HEADER,
						      sizeof(ROUTE_HEADER) - 1, v.topic,
						      v.topic_len);
		if (rc == 0)
			rc = ist_batch_enc_rec_end(&ss->enc);
		if (rc == 0)
			break;
		if (rc != -ENOSPC || ss->enc.count == 0)
			break;
		/* Full: close this frame and put the record into the next one. */
		if (frame_close(r, ss) != 0)
			return -ENOBUFS;
	}
	if (rc == -EMSGSIZE || (rc == -ENOSPC && ss->enc.count == 0))
		return split_start(r, ss, m, hdrs, n_h, &v);
	if (rc != 0) {
		snprintf(ss->reason, sizeof(ss->reason), "encode at offset %" PRId64 ": %d",
			 m->offset, rc);
		ss->state = RS_HALTED;
		return 0;
	}
	ss->records++;
	ss->bytes += m->len + m->key_len;
	ss->pos = m->offset + 1;
	if (r->dict_wanted[ss->cls] && r->dict_state[ss->cls] == DICT_NONE && m->payload != NULL)
		dict_sample(r, ss->cls, m->payload, m->len);
	if (ss->enc.len >= r->class_frame[ss->cls])
		frame_close(r, ss);
	return 0;
}

static void on_message(struct ist_repl *r, rd_kafka_message_t *m, const struct ist_rules_set *set,
		       struct ist_rules_scratch *scr, uint64_t now)
{
	struct src_stream *ss = NULL;
	uint32_t s;

	if (m->rkt != NULL) {
		s = stream_of(r, m->rkt, m->partition);
		if (s != 0)
			ss = &r->src[s];
	}
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (ss != NULL && (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
				   m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE))
			gap(r, ss);
		else if (ss != NULL)
			snprintf(ss->reason, sizeof(ss->reason), "consumer: %s",
				 rd_kafka_message_errstr(m));
		return;
	}
	if (ss == NULL || ss->state != RS_RUNNING)
		return;
	if (ss->rewind || ss->splitting) {
		/* Read again from pos once the stream can take records. */
		ss->rewind = true;
		return;
	}
	if (ss->pos != IST_CAT_POS_BEGINNING && m->offset < ss->pos)
		return; /* fetched again after a seek: already taken */
	if (take(r, ss, m, set, scr, now) != 0) {
		/* No room: let it go and read it again once the queue drains. */
		ss->rewind = true;
		if (ss->pos == IST_CAT_POS_BEGINNING)
			ss->pos = m->offset;
		fetch_pause(r, ss, true);
	}
}

static void apply_resume(struct ist_repl *r, const struct src_cmd *c)
{
	struct src_stream *ss = &r->src[c->stream];

	/* The open frame's records are read again from the position. */
	ist_batch_enc_init(&ss->enc, ss->enc_buf, r->class_frame[ss->cls] + 64);
	ss->open = false;
	ss->splitting = false;
	if (ss->out != NULL) {
		rte_mempool_put(r->fpool, ss->out);
		ss->out = NULL;
	}
	ss->gen = c->gen;
	ss->pos = c->position;
	ss->base = c->position;
	ss->state = RS_RUNNING;
	ss->reason[0] = '\0';
	/* Frames still queued belong to the old generation: link-tx drops them. */
	assign_at(r, ss);
	SRC_LOG(INFO, "%s [%d] -> %s [%d]: starting at %s%" PRId64, ss->topic, ss->partition,
		ss->dst_topic, ss->dst_partition,
		c->position == IST_CAT_POS_BEGINNING ? "the beginning " : "offset ",
		c->position == IST_CAT_POS_BEGINNING ? 0 : c->position);
}

/* kafka-in: resume commands, then records into frames. HOT */
uint32_t ist_repl_src_poll_in(struct ist_repl *r, uint64_t now)
{
	const struct ist_rules_set *set = ist_rules_holder_get(r->rules_h);
	struct ist_rules_scratch *scr = set ? ist_rules_set_scratch(set, 0) : NULL;
	rd_kafka_message_t *msgs[CONSUME_BURST];
	struct src_cmd c;
	uint32_t work = 0;

	while (rte_ring_sc_dequeue_elem(r->src_cmd, &c, sizeof(c)) == 0) {
		if (c.type == SCMD_RESUME)
			apply_resume(r, &c);
		else
			dict_cmd(r, &c);
		work++;
	}
	for (uint32_t k = 0; k < r->cfg->n_kafka; k++) {
		ssize_t n;

		if (r->src_q[k] == NULL)
			continue;
		n = rd_kafka_consume_batch_queue(r->src_q[k], 0, msgs, CONSUME_BURST);
		for (ssize_t i = 0; i < n; i++) {
			on_message(r, msgs[i], set, scr, now);
			rd_kafka_message_destroy(msgs[i]);
		}
		if (n > 0)
			work += (uint32_t)n;
	}
	ist_rules_reader_quiescent(r->rules_h, 0);
	return work;
}

/* batcher: linger, hand-over to link-tx, back-pressure, watermarks. HOT */
uint32_t ist_repl_src_poll_batch(struct ist_repl *r, uint64_t now)
{
	uint32_t work = 0;

	for (uint32_t s = 1; s <= r->n_src; s++) {
		struct src_stream *ss = &r->src[s];

		if (ss->state != RS_RUNNING)
			continue;
		if (ss->splitting) {
			split_emit(r, ss);
			work++;
			continue;
		}
		if (ss->out != NULL && frame_push(ss) == 0)
			work++;
		if (ss->open && now - ss->open_tsc >= r->class_linger[ss->cls] &&
		    frame_close(r, ss) == 0)
			work++;
		if (ss->out == NULL && rte_ring_count(ss->q) < REPL_Q_FRAMES / 2) {
			if (ss->rewind) {
				/* Take up again from the first record let go. */
				if (ss->open)
					frame_close(r, ss);
				if (!ss->open)
					assign_at(r, ss);
			} else if (ss->paused) {
				fetch_pause(r, ss, false);
			}
		}
	}
	for (uint32_t c = 0; c < r->n_classes; c++) {
		if (r->dict_state[c] != DICT_TRAINED ||
		    __atomic_load_n(&r->dict_state[c], __ATOMIC_ACQUIRE) != DICT_TRAINED)
			continue;
		r->dict_state[c] = DICT_SHIPPED;
		if (rte_ring_sp_enqueue_elem(r->dict_out, &c, sizeof(c)) != 0)
			r->dict_state[c] = DICT_TRAINED; /* next time */
		else
			SRC_LOG(INFO, "class %u: dictionary %u trained (%u bytes), shipping it", c,
				r->dict_id[c], r->dict_len[c]);
	}
	if (now - r->src_wm_tsc > r->hz) {
		r->src_wm_tsc = now;
		for (uint32_t s = 1; s <= r->n_src; s++) {
			struct src_stream *ss = &r->src[s];
			int64_t lo, hi;

			if (rd_kafka_get_watermark_offsets(r->src_rk[ss->cluster], ss->topic,
							   ss->partition, &lo,
							   &hi) == RD_KAFKA_RESP_ERR_NO_ERROR &&
			    hi >= 0)
				ss->high = hi;
		}
	}
	return work;
}

static void dst_name(const struct ist_repl *r, const struct ist_cfg_flow *fl, const char *topic,
		     char *out, size_t cap)
{
	if (fl->naming == IST_NAMING_PREFIX)
		snprintf(out, cap, "%s.%s", r->cfg->appliance.region, topic);
	else
		snprintf(out, cap, "%s", topic);
}

static int class_setup(struct ist_repl *r, char *err, size_t errlen)
{
	const struct ist_config *cfg = r->cfg;
	struct ist_shaper_class_cfg sc[IST_CFG_MAX_CLASSES + 1];

	r->n_classes = cfg->n_classes + 1; /* the last one: topics no class names */
	for (uint32_t c = 0; c < r->n_classes; c++) {
		const struct ist_cfg_class *cl = c < cfg->n_classes ? &cfg->classes[c] : NULL;
		const char *codec = cl ? cl->codec : "lz4";

		char spec[IST_CFG_NAME_LEN + 8];

		/* The core map's bare "zstd" is zstd's default level, 3. */
		if (strncmp(codec, "zstd", 4) == 0 && (codec[4] == '\0' || codec[4] == '+'))
			snprintf(spec, sizeof(spec), "zstd:3%s", codec + 4);
		else
			snprintf(spec, sizeof(spec), "%s", codec[0] ? codec : "lz4");
		if (ist_codec_spec_parse(spec, &r->class_codec[c], err, errlen) != 0)
			return -EINVAL;
		/* A dictionary is used once trained and acknowledged by the sink. */
		r->dict_wanted[c] = r->class_codec[c].use_dict;
		r->class_codec[c].dict_id = 0;
		if (r->dict_wanted[c]) {
			/* Random ids: a restarted source never reuses the id of a
			 * dictionary frames still held at the sink were cut with. */
			r->dict_id[c] = (uint8_t)(1 + (rte_rand() + c) % IST_CODEC_DICT_MAX);
			r->sampler[c] =
				ist_dict_sampler_create(REPL_DICT_SAMPLES, 2048, rte_rand());
			r->dict_buf[c] = malloc(REPL_DICT_CAP);
			if (r->sampler[c] == NULL || r->dict_buf[c] == NULL) {
				snprintf(err, errlen, "out of memory for class dictionaries");
				return -ENOMEM;
			}
		}
		r->class_frame[c] = (cl ? cl->frame_kb : 32) * 1024u;
		if (r->class_frame[c] > IST_BATCH_MAX_BODY)
			r->class_frame[c] = IST_BATCH_MAX_BODY;
		r->class_linger[c] = (cl ? cl->linger_ms : 5) * r->hz / 1000;
		sc[c] = (struct ist_shaper_class_cfg){
			.rate = cl ? (uint64_t)cl->rate_mbps * 125000u : 0,
			.burst = cl && cl->burst_kb ? cl->burst_kb * 1024u : 1u << 20,
			.weight = cl && cl->weight ? cl->weight : 1,
		};
	}
	r->shaper = ist_shaper_create(r->n_classes, sc, r->hz, IST_SHAPER_QUANTUM_DEFAULT, NULL);
	if (r->shaper == NULL) {
		snprintf(err, errlen, "%s: the topic classes' rates cannot be shaped", cfg->path);
		return -EINVAL;
	}
	return 0;
}

int ist_repl_src_create(struct ist_repl *r, char *err, size_t errlen)
{
	const struct ist_config *cfg = r->cfg;
	struct ist_kafka_topic *topics = NULL;
	struct ist_rules_set *set;
	char name[64];
	int rc = -EINVAL;

	set = ist_rules_set_build(cfg, 1, err, errlen);
	if (set == NULL)
		return -EINVAL;
	r->rules_h = ist_rules_holder_create(set, 1);
	if (r->rules_h == NULL) {
		ist_rules_set_free(set);
		snprintf(err, errlen, "out of memory for the rules");
		return -ENOMEM;
	}
	ist_rules_reader_register(r->rules_h, 0);
	if (class_setup(r, err, errlen) != 0)
		return -EINVAL;
	r->src = rte_zmalloc("ist_repl_src", sizeof(*r->src) * r->n_streams, RTE_CACHE_LINE_SIZE);
	topics = calloc(MAX_TOPICS, sizeof(*topics));
	r->src_cc = ist_codec_ctx_create();
	if (r->src == NULL || topics == NULL || r->src_cc == NULL) {
		snprintf(err, errlen, "out of memory for the source streams");
		goto out;
	}
	for (uint32_t f = 0; f < cfg->n_flows; f++) {
		const struct ist_cfg_flow *fl = &cfg->flows[f];
		struct ist_rules_scratch *scr = ist_rules_set_scratch(set, 0);
		rd_kafka_t *rk = r->src_rk[fl->source];
		int nt;

		if (strcmp(cfg->kafka[fl->source].region, cfg->appliance.region) != 0)
			continue;
		if (rk == NULL) {
			snprintf(name, sizeof(name), "isthmus-%s", cfg->appliance.id);
			rk = ist_kafka_source_new(&cfg->kafka[fl->source], name, name, err, errlen);
			if (rk == NULL)
				goto out;
			rd_kafka_poll_set_consumer(rk);
			r->src_rk[fl->source] = rk;
			r->src_q[fl->source] = rd_kafka_queue_get_consumer(rk);
		}
		nt = ist_kafka_topics(rk, 10000, topics, MAX_TOPICS, err, errlen);
		if (nt < 0) {
			char why[256];

			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen,
				 "flow %s: source cluster %s (%s) did not answer: %s; start it or "
				 "fix "
				 "[kafka %s] bootstrap",
				 fl->name, cfg->kafka[fl->source].name,
				 cfg->kafka[fl->source].bootstrap, why,
				 cfg->kafka[fl->source].name);
			goto out;
		}
		for (int t = 0; t < nt; t++) {
			const char *tn = topics[t].name;

			if (!ist_rules_topic_selected(set, f, tn, strlen(tn), scr))
				continue;
			for (int32_t p = 0; p < topics[t].partitions; p++) {
				struct src_stream *ss;
				char q[32];

				if (r->n_src + 1 >= r->n_streams) {
					snprintf(err, errlen,
						 "%s: flow %s selects more partitions than "
						 "link.streams "
						 "= %u; raise link.streams",
						 cfg->path, fl->name, r->n_streams - 1);
					goto out;
				}
				ss = &r->src[++r->n_src];
				ss->id = r->n_src;
				ss->flow = f;
				ss->cluster = fl->source;
				ss->partition = p;
				ss->first = r->n_src - (uint32_t)p;
				ss->dst_partition = p;
				snprintf(ss->topic, sizeof(ss->topic), "%s", tn);
				dst_name(r, fl, tn, ss->dst_topic, sizeof(ss->dst_topic));
				ist_rules_topic_bind(set, f, tn, strlen(tn), scr, &ss->rtp);
				ss->cls = RTE_MIN((uint32_t)ss->rtp.class_idx, r->n_classes - 1);
				ss->pos = IST_CAT_POS_BEGINNING;
				ss->high = -1;
				snprintf(q, sizeof(q), "ist_src_%u", ss->id);
				ss->q = rte_ring_create(q, REPL_Q_FRAMES, SOCKET_ID_ANY,
							RING_F_SP_ENQ | RING_F_SC_DEQ);
				ss->enc_buf =
					rte_malloc("ist_src_body", r->class_frame[ss->cls] + 64,
						   RTE_CACHE_LINE_SIZE);
				if (ss->q == NULL || ss->enc_buf == NULL ||
				    ist_batch_enc_init(&ss->enc, ss->enc_buf,
						       r->class_frame[ss->cls] + 64) != 0) {
					snprintf(err, errlen, "out of memory for stream %u",
						 ss->id);
					goto out;
				}
				snprintf(ss->reason, sizeof(ss->reason), "waiting for the sink");
			}
		}
	}
	r->fpool = rte_mempool_create("ist_repl_frames", r->n_src * REPL_Q_FRAMES + 64,
				      sizeof(struct fbuf) + r->frame_max, 0, 0, NULL, NULL, NULL,
				      NULL, SOCKET_ID_ANY, 0);
	r->src_cmd = rte_ring_create_elem("ist_repl_srccmd", sizeof(struct src_cmd), REPL_RING,
					  SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	r->dict_out = rte_ring_create_elem("ist_repl_dicts", sizeof(uint32_t), 64, SOCKET_ID_ANY,
					   RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r->fpool == NULL || r->src_cmd == NULL || r->dict_out == NULL) {
		snprintf(err, errlen,
			 "out of memory for %u frame buffers of %u bytes; reserve more hugepages",
			 r->n_src * REPL_Q_FRAMES + 64, r->frame_max);
		goto out;
	}
	SRC_LOG(INFO, "%u source stream(s)", r->n_src);
	rc = 0;
out:
	free(topics);
	return rc;
}

void ist_repl_src_free(struct ist_repl *r)
{
	for (uint32_t s = 1; r->src != NULL && s <= r->n_src; s++) {
		rte_ring_free(r->src[s].q);
		rte_free(r->src[s].enc_buf);
		free(r->src[s].split_buf);
	}
	for (uint32_t k = 0; k < IST_CFG_MAX_KAFKA; k++) {
		if (r->src_q[k] != NULL)
			rd_kafka_queue_destroy(r->src_q[k]);
		if (r->src_rk[k] != NULL) {
			rd_kafka_consumer_close(r->src_rk[k]);
			rd_kafka_destroy(r->src_rk[k]);
		}
	}
	rte_ring_free(r->src_cmd);
	rte_ring_free(r->dict_out);
	for (uint32_t c = 0; c <= IST_CFG_MAX_CLASSES; c++) {
		/* A trainer still running owns the sampler: wait for it. */
		while (__atomic_load_n(&r->dict_state[c], __ATOMIC_ACQUIRE) == DICT_TRAINING)
			rte_delay_ms(10);
		ist_dict_sampler_free(r->sampler[c]);
		free(r->dict_buf[c]);
	}
	rte_mempool_free(r->fpool);
	ist_shaper_free(r->shaper);
	ist_rules_holder_free(r->rules_h);
	ist_codec_ctx_free(r->src_cc);
	rte_free(r->src);
}
