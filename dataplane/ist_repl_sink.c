/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sink pipeline: unbatcher (decode, verify) and kafka-out (idempotent
 * produce, delivery reports) on one lcore. See ist_repl.h.
 *
 * Every frame link-rx hands over stays in its reassembly slot (struct held)
 * until each of its records has been acknowledged by the destination; only
 * then is the slot released, which is what grows the sender's credit. So
 * the frames a stream holds always contain every record the destination
 * may not have, and a failed produce is repaired from them: the stream
 * waits for every answer, reads the destination tail, and produces again
 * what is past it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "isthmus/provenance.h"
#include "ist_repl_int.h"

RTE_LOG_REGISTER(ist_sink_logtype, isthmus.sink, INFO);
#define SINK_LOG(level, fmt, ...)                                                        \
	rte_log(RTE_LOG_##level, ist_sink_logtype, "isthmus-dataplane: sink: " fmt "\n", \
		##__VA_ARGS__)

#define EV_BURST        64
#define ROUTE_HEADER    "isthmus.route"
#define BACKOFF_MIN_MS  500
#define BACKOFF_MAX_MS  30000
#define TAIL_TIMEOUT_MS 10000

static void link_ev_put(struct ist_repl *r, struct link_ev *ev)
{
	/* The ring holds more than all slots of all streams: never full. */
	if (rte_ring_sp_enqueue_elem(r->link_ev, ev, sizeof(*ev)) != 0)
		SINK_LOG(ERR, "event ring to the link is full; stream %u stalls", ev->stream);
}

static void resume_send(struct ist_repl *r, uint32_t s)
{
	struct sink_stream *ks = &r->snk[s];
	struct link_ev ev = {.type = LEV_RESUME, .stream = s, .seq = ks->next_seq};

	if (ks->state == RS_RUNNING) {
		ev.position = ks->expect;
	} else {
		ev.status = 1;
		snprintf(ev.reason, sizeof(ev.reason), "%s", ks->reason);
	}
	link_ev_put(r, &ev);
	ks->owe_resume = ks->state != RS_RUNNING;
}

static void fail(struct ist_repl *r, struct sink_stream *ks, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct ist_repl *r, struct sink_stream *ks, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ks->reason, sizeof(ks->reason), fmt, ap);
	va_end(ap);
	if (ks->state != RS_FAILED)
		SINK_LOG(WARNING, "%s [%u]: paused: %s", ks->id.dst_topic, ks->id.dst_partition,
			 ks->reason);
	ks->state = RS_FAILED;
	ks->backoff_ms = ks->backoff_ms ? RTE_MIN(ks->backoff_ms * 2, (uint32_t)BACKOFF_MAX_MS)
					: BACKOFF_MIN_MS;
	ks->retry_tsc = rte_rdtsc() + ks->backoff_ms * r->hz / 1000;
}

static void tail_ask(struct ist_repl *r, uint32_t s)
{
	struct sink_stream *ks = &r->snk[s];
	struct tail_req q = {
		.stream = s, .cluster = ks->cluster, .partition = ks->id.dst_partition};

	snprintf(q.topic, sizeof(q.topic), "%s", ks->id.dst_topic);
	if (rte_ring_sp_enqueue_elem(r->tail_req, &q, sizeof(q)) == 0)
		ks->tail_pending = true;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct ist_repl *r = opaque;
	struct held *h = m->_private;
	struct sink_stream *ks = &r->snk[h->stream];

	(void)rk;
	h->outstanding--;
	ks->inflight--;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	ks->produce_err++;
	h->failed = true;
	fail(r, ks, "destination refused a record: %s", rd_kafka_err2str(m->err));
}

static bool same_stream(const struct ist_cat_open *a, const struct ist_cat_open *b)
{
	return a->src_partition == b->src_partition && a->dst_partition == b->dst_partition &&
	       strcmp(a->flow, b->flow) == 0 && strcmp(a->cluster, b->cluster) == 0 &&
	       strcmp(a->region, b->region) == 0 && strcmp(a->topic, b->topic) == 0 &&
	       strcmp(a->dst_topic, b->dst_topic) == 0;
}

static void on_open(struct ist_repl *r, uint32_t s, const struct ist_cat_open *o)
{
	const struct ist_config *cfg = r->cfg;
	struct sink_stream *ks = &r->snk[s];
	uint32_t f;

	if (ks->known && same_stream(&ks->id, o)) {
		/* Answered once every frame it holds is decoded: expect is final then. */
		ks->owe_resume = true;
		return;
	}
	if (ks->known && (ks->n != 0 || ks->inflight != 0)) {
		/* A stream id the peer now uses for another partition while this
		 * one still has frames: answer once they are done. */
		ks->owe_resume = true;
		return;
	}
	if (ks->rkt != NULL) {
		rd_kafka_topic_destroy(ks->rkt);
		ks->rkt = NULL;
	}
	memset(ks->reason, 0, sizeof(ks->reason));
	ks->known = true;
	ks->id = *o;
	ks->expect = IST_CAT_POS_BEGINNING;
	ks->durable = -1;
	ks->owe_resume = true;
	for (f = 0; f < cfg->n_flows; f++)
		if (strcmp(cfg->flows[f].name, o->flow) == 0)
			break;
	if (f == cfg->n_flows ||
	    strcmp(cfg->kafka[cfg->flows[f].sink].region, cfg->appliance.region) != 0) {
		ks->state = RS_HALTED;
		snprintf(ks->reason, sizeof(ks->reason),
			 "flow %s is not configured with a sink in region %s on this appliance",
			 o->flow, cfg->appliance.region);
		resume_send(r, s);
		return;
	}
	ks->cluster = cfg->flows[f].sink;
	ks->rkt = rd_kafka_topic_new(r->snk_rk[ks->cluster], o->dst_topic, NULL);
	ks->state = RS_TAIL;
	snprintf(ks->reason, sizeof(ks->reason), "reading the destination tail");
	tail_ask(r, s);
}

static void on_tail(struct ist_repl *r, const struct tail_res *t)
{
	struct sink_stream *ks = &r->snk[t->stream];

	ks->tail_pending = false;
	if (t->rc != 0) {
		fail(r, ks, "%s", t->err);
		if (ks->owe_resume)
			resume_send(r, t->stream);
		return;
	}
	if (!t->t.empty &&
	    (strcmp(t->t.topic, ks->id.topic) != 0 || strcmp(t->t.cluster, ks->id.cluster) != 0 ||
	     t->t.partition != (int32_t)ks->id.src_partition)) {
		ks->state = RS_HALTED;
		snprintf(ks->reason, sizeof(ks->reason),
			 "destination %s [%u] was last written from %s/%s [%d], not %s/%s [%u]; "
			 "replicate into a fresh topic",
			 ks->id.dst_topic, ks->id.dst_partition, t->t.cluster, t->t.topic,
			 t->t.partition, ks->id.cluster, ks->id.topic, ks->id.src_partition);
		if (ks->owe_resume)
			resume_send(r, t->stream);
		return;
	}
	if (ks->n == 0) {
		/* Nothing held: the destination says where the source resumes. */
		ks->expect = t->t.empty ? IST_CAT_POS_BEGINNING : t->t.next_offset;
		ks->skip_below = -1;
	} else {
		/* A repair: produce again from the held frames what the destination lacks. */
		ks->skip_below = t->t.empty ? -1 : t->t.next_offset;
		for (uint32_t i = 0; i < ks->n; i++) {
			struct held *h = &ks->held[(ks->head + i) % r->window];

			h->next_rec = 0;
			h->done = false;
			h->failed = false;
		}
		ks->retries++;
	}
	ks->durable = t->t.empty ? -1 : t->t.next_offset - 1;
	/* The back-off is reset by progress (a release), not by a tail read:
	 * a record the destination keeps refusing is retried less and less. */
	ks->state = RS_RUNNING;
	ks->reason[0] = '\0';
	SINK_LOG(INFO, "%s [%u] <- %s/%s [%u]: destination ends at source offset %" PRId64,
		 ks->id.dst_topic, ks->id.dst_partition, ks->id.cluster, ks->id.topic,
		 ks->id.src_partition, ks->durable);
	if (ks->owe_resume)
		resume_send(r, t->stream);
}

/* Produce one record. @return 0, -EAGAIN (queue full: later), or -1 (stream failed). */
static int produce(struct ist_repl *r, struct sink_stream *ks, struct held *h,
		   struct ist_rec_view *rv)
{
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new(rv->n_headers + IST_PROV_N);
	const uint8_t *name, *val;
	uint32_t nlen;
	int32_t vlen;
	char route[IST_CAT_TOPIC_LEN] = "", num[24];
	rd_kafka_resp_err_t e;

	while (ist_rec_view_header_next(rv, &name, &nlen, &val, &vlen) == 1) {
		if (nlen == sizeof(ROUTE_HEADER) - 1 && memcmp(name, ROUTE_HEADER, nlen) == 0 &&
		    vlen > 0 && (size_t)vlen < sizeof(route)) {
			memcpy(route, val, vlen);
			route[vlen] = '\0';
			continue;
		}
		rd_kafka_header_add(hdrs, (const char *)name, nlen, vlen < 0 ? NULL : val,
				    vlen < 0 ? 0 : vlen);
	}
	rd_kafka_header_add(hdrs, IST_PROV_REGION, -1, ks->id.region, -1);
	rd_kafka_header_add(hdrs, IST_PROV_CLUSTER, -1, ks->id.cluster, -1);
	rd_kafka_header_add(hdrs, IST_PROV_TOPIC, -1, ks->id.topic, -1);
	snprintf(num, sizeof(num), "%u", ks->id.src_partition);
	rd_kafka_header_add(hdrs, IST_PROV_PARTITION, -1, num, -1);
	snprintf(num, sizeof(num), "%" PRIu64, rv->offset);
	rd_kafka_header_add(hdrs, IST_PROV_OFFSET, -1, num, -1);
	if (route[0] != '\0')
		e = rd_kafka_producev(
			r->snk_rk[ks->cluster], RD_KAFKA_V_TOPIC(route),
			RD_KAFKA_V_PARTITION((int32_t)ks->id.dst_partition),
			RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_KEY(rv->key, rv->key_len < 0 ? 0 : (size_t)rv->key_len),
			RD_KAFKA_V_VALUE((void *)rv->value,
					 rv->value_len < 0 ? 0 : (size_t)rv->value_len),
			RD_KAFKA_V_TIMESTAMP(rv->ts_ms < 0 ? 0 : rv->ts_ms),
			RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(h), RD_KAFKA_V_END);
	else
		e = rd_kafka_producev(
			r->snk_rk[ks->cluster], RD_KAFKA_V_RKT(ks->rkt),
			RD_KAFKA_V_PARTITION((int32_t)ks->id.dst_partition),
			RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_KEY(rv->key, rv->key_len < 0 ? 0 : (size_t)rv->key_len),
			RD_KAFKA_V_VALUE((void *)rv->value,
					 rv->value_len < 0 ? 0 : (size_t)rv->value_len),
			RD_KAFKA_V_TIMESTAMP(rv->ts_ms < 0 ? 0 : rv->ts_ms),
			RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(h), RD_KAFKA_V_END);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
		h->outstanding++;
		ks->inflight++;
		ks->records++;
		ks->bytes += (rv->key_len > 0 ? rv->key_len : 0) +
			     (rv->value_len > 0 ? rv->value_len : 0);
		return 0;
	}
	rd_kafka_headers_destroy(hdrs);
	if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
		return -EAGAIN;
	ks->produce_err++;
	if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
		fail(r, ks,
		     "record at source offset %" PRIu64 " (%d bytes) exceeds the destination's "
		     "limit; raise [kafka %s] rdkafka.message.max.bytes and the topic's "
		     "max.message.bytes",
		     rv->offset, rv->value_len, r->cfg->kafka[ks->cluster].name);
	else
		fail(r, ks, "produce at source offset %" PRIu64 ": %s", rv->offset,
		     rd_kafka_err2str(e));
	return -1;
}

/* Hand the records of held frame @p h to the producer. @return records produced. */
static uint32_t frame_work(struct ist_repl *r, uint32_t s, struct held *h)
{
	struct sink_stream *ks = &r->snk[s];
	struct ist_batch_dec d;
	struct ist_rec_view rv;
	uint32_t idx = 0, n = 0;
	int rc;

	rc = ist_batch_dec_open(&d, r->snk_cc, h->frame, h->len, r->scratch, IST_WIRE_MAX_FRAME);
	if (rc < 0) {
		ks->decode_err++;
		ks->state = RS_HALTED;
		snprintf(ks->reason, sizeof(ks->reason),
			 "frame %u cannot be decoded (%s); nothing after it is written; restart "
			 "the sink data plane to resume from the destination",
			 h->seq, ist_batch_err_name(rc));
		return 0;
	}
	if (!h->decoded) {
		if (d.base_offset != repl_wire_pos(ks->expect)) {
			/* Cut for another position (before a restart on either side). */
			ks->unchained++;
			h->done = true;
			return 0;
		}
		h->decoded = true;
		h->end = (int64_t)d.end_offset;
		/* The parts of a split record all continue from the same place; the
		 * position moves on with the part that completes the record. */
		if (!(d.flags & IST_WIRE_FRAME_F_SPLIT) || d.record_count != 0)
			ks->expect = (int64_t)d.end_offset;
		ks->frames++;
	}
	for (;;) {
		rc = ist_batch_dec_next(&d, &rv);
		if (rc == IST_BATCH_E_SPLIT) {
			if (ks->big == NULL) {
				ks->big = calloc(1, sizeof(*ks->big));
				if (ks->big == NULL)
					return n;
				ist_bigrec_init(ks->big, r->cfg->link.max_record_kb * 1024u);
			}
			/* Back at a last part whose record is collected already (the
			 * producer's queue was full): take it from the collection. */
			if (ks->big->total != 0 && ks->big->have == ks->big->total &&
			    ks->big->offset == d.first_offset)
				rc = 1;
			else
				rc = ist_bigrec_add(ks->big, &d);
			if (rc == 1 && ist_bigrec_view(ks->big, &rv) == 0) {
				rc = 1;
			} else if (rc >= 0) {
				h->done = true; /* a part: the record goes with its last part */
				return n;
			}
		}
		if (rc == 0) {
			h->done = true;
			return n;
		}
		if (rc < 0) {
			ks->decode_err++;
			ks->state = RS_HALTED;
			snprintf(
				ks->reason, sizeof(ks->reason),
				"frame %u: record %u cannot be decoded (%s); restart the sink data "
				"plane to resume from the destination",
				h->seq, idx, ist_batch_err_name(rc));
			return n;
		}
		if (idx++ < h->next_rec)
			continue;
		if (ks->skip_below >= 0 && (int64_t)rv.offset < ks->skip_below) {
			h->next_rec++;
			continue; /* the destination has it already */
		}
		rc = produce(r, ks, h, &rv);
		if (rc != 0)
			return n;
		h->next_rec++;
		n++;
		if (d.flags & IST_WIRE_FRAME_F_SPLIT) {
			/* Produced (copied): the frame is done, the next record may start. */
			ist_bigrec_reset(ks->big);
			h->done = true;
			return n;
		}
	}
}

static void on_frame(struct ist_repl *r, const struct sink_ev *ev)
{
	struct sink_stream *ks = &r->snk[ev->stream];
	struct held *h;

	if (ev->stream >= r->n_streams || ks->n == r->window) {
		/* Cannot happen: the reassembly holds at most window frames per stream. */
		SINK_LOG(ERR, "stream %u: frame %u beyond the window", ev->stream, ev->seq);
		return;
	}
	h = &ks->held[(ks->head + ks->n++) % r->window];
	*h = (struct held){
		.stream = ev->stream, .seq = ev->seq, .len = ev->len, .frame = ev->frame};
	ks->next_seq = ev->seq + 1;
}

static bool all_decoded(const struct ist_repl *r, const struct sink_stream *ks)
{
	for (uint32_t i = 0; i < ks->n; i++) {
		const struct held *h = &ks->held[(ks->head + i) % r->window];

		if (!h->decoded && !h->done)
			return false;
	}
	return true;
}

/* Release the frames at the head of the stream the destination has in full. */
static uint32_t releases(struct ist_repl *r, uint32_t s)
{
	struct sink_stream *ks = &r->snk[s];
	uint32_t n = 0;

	while (ks->n != 0) {
		struct held *h = &ks->held[ks->head];
		struct link_ev ev = {.type = LEV_RELEASE, .stream = s, .seq = h->seq};

		if (!h->done || h->outstanding != 0 || h->failed)
			break;
		link_ev_put(r, &ev);
		if (h->end > 0)
			ks->durable = h->end - 1;
		ks->backoff_ms = 0; /* progress */
		ks->head = (ks->head + 1) % r->window;
		ks->n--;
		n++;
	}
	return n;
}

/* A dictionary from the source: install it (decoding only), then say so. */
static void on_dict(struct ist_repl *r, const struct sink_ev *ev)
{
	struct link_ev ack = {.type = LEV_DICT_ACK, .stream = ev->stream};
	uint8_t id = (uint8_t)ev->stream;
	char err[160];
	int rc;

	rc = ist_codec_ctx_dict_add(r->snk_cc, id, ev->frame, ev->len, 0, err, sizeof(err));
	if (rc == -EEXIST) {
		/* The source retrained under the same id: the new one replaces it. */
		ist_codec_ctx_dict_del(r->snk_cc, id);
		rc = ist_codec_ctx_dict_add(r->snk_cc, id, ev->frame, ev->len, 0, err, sizeof(err));
	}
	if (rc != 0)
		SINK_LOG(WARNING, "dictionary %u refused: %s", id, err);
	else
		SINK_LOG(INFO, "dictionary %u installed (%u bytes)", id, ev->len);
	ack.status = rc != 0;
	free((void *)(uintptr_t)ev->frame);
	link_ev_put(r, &ack);
}

/* unbatcher: frames and catalog events in, records to the producer. HOT */
uint32_t ist_repl_sink_poll_unbatch(struct ist_repl *r, uint64_t now)
{
	struct sink_ev evs[EV_BURST];
	uint32_t work = 0, n;

	(void)now;
	n = rte_ring_sc_dequeue_burst_elem(r->sink_ev, evs, sizeof(evs[0]), EV_BURST, NULL);
	for (uint32_t i = 0; i < n; i++) {
		if (evs[i].type == SEV_OPEN) {
			on_open(r, evs[i].stream, evs[i].open);
			rte_mempool_put(r->open_pool, evs[i].open);
		} else if (evs[i].type == SEV_DICT) {
			on_dict(r, &evs[i]);
		} else {
			on_frame(r, &evs[i]);
		}
	}
	work += n;
	for (uint32_t s = 1; s < r->n_streams; s++) {
		struct sink_stream *ks = &r->snk[s];

		if (!ks->known || ks->state != RS_RUNNING)
			continue;
		for (uint32_t i = 0; i < ks->n && ks->state == RS_RUNNING; i++) {
			struct held *h = &ks->held[(ks->head + i) % r->window];

			if (h->done)
				continue;
			work += frame_work(r, s, h);
			if (!h->done)
				break; /* in order: the next frame waits for this one */
		}
	}
	return work;
}

/* kafka-out: delivery reports, destination tails, releases, repairs. HOT */
uint32_t ist_repl_sink_poll_out(struct ist_repl *r, uint64_t now)
{
	struct tail_res t;
	uint32_t work = 0;

	for (uint32_t k = 0; k < IST_CFG_MAX_KAFKA; k++)
		if (r->snk_rk[k] != NULL)
			work += (uint32_t)rd_kafka_poll(r->snk_rk[k], 0);
	while (rte_ring_sc_dequeue_elem(r->tail_res, &t, sizeof(t)) == 0) {
		on_tail(r, &t);
		work++;
	}
	for (uint32_t s = 1; s < r->n_streams; s++) {
		struct sink_stream *ks = &r->snk[s];

		if (!ks->known)
			continue;
		if (ks->state == RS_FAILED && ks->inflight == 0 && !ks->tail_pending &&
		    now >= ks->retry_tsc)
			tail_ask(r, s);
		if (ks->owe_resume && ks->state != RS_TAIL && all_decoded(r, ks))
			resume_send(r, s);
		work += releases(r, s);
	}
	return work;
}

static void *tail_thread(void *arg)
{
	struct ist_repl *r = arg;
	struct tail_req q;

	while (!r->tail_stop) {
		struct tail_res t;

		if (rte_ring_sc_dequeue_elem(r->tail_req, &q, sizeof(q)) != 0) {
			usleep(5000);
			continue;
		}
		memset(&t, 0, sizeof(t));
		t.stream = q.stream;
		t.rc = ist_kafka_tail_read(r->snk_reader[q.cluster], q.topic, q.partition,
					   TAIL_TIMEOUT_MS, &t.t, t.err, sizeof(t.err));
		while (rte_ring_sp_enqueue_elem(r->tail_res, &t, sizeof(t)) != 0 && !r->tail_stop)
			usleep(1000);
	}
	return NULL;
}

int ist_repl_sink_create(struct ist_repl *r, char *err, size_t errlen)
{
	const struct ist_config *cfg = r->cfg;
	char name[64];

	r->snk = rte_zmalloc("ist_repl_sink", sizeof(*r->snk) * r->n_streams, RTE_CACHE_LINE_SIZE);
	r->scratch = rte_malloc("ist_repl_scratch", IST_WIRE_MAX_FRAME, RTE_CACHE_LINE_SIZE);
	r->snk_cc = ist_codec_ctx_create();
	if (r->snk == NULL || r->scratch == NULL || r->snk_cc == NULL)
		goto nomem;
	for (uint32_t s = 0; s < r->n_streams; s++) {
		r->snk[s].held = rte_zmalloc("ist_repl_held", sizeof(struct held) * r->window, 0);
		if (r->snk[s].held == NULL)
			goto nomem;
	}
	for (uint32_t f = 0; f < cfg->n_flows; f++) {
		uint32_t k = cfg->flows[f].sink;

		if (strcmp(cfg->kafka[k].region, cfg->appliance.region) != 0 ||
		    r->snk_rk[k] != NULL)
			continue;
		snprintf(name, sizeof(name), "isthmus-%s-sink", cfg->appliance.id);
		r->snk_rk[k] = ist_kafka_sink_new(&cfg->kafka[k], name, dr_cb, r, err, errlen);
		if (r->snk_rk[k] == NULL)
			return -EINVAL;
		snprintf(name, sizeof(name), "isthmus-%s-tail", cfg->appliance.id);
		r->snk_reader[k] = ist_kafka_reader_new(&cfg->kafka[k], name, err, errlen);
		if (r->snk_reader[k] == NULL)
			return -EINVAL;
	}
	r->sink_ev = rte_ring_create_elem("ist_repl_sinkev", sizeof(struct sink_ev),
					  rte_align32pow2(r->n_streams * (r->window + 2) + 64),
					  SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	r->link_ev = rte_ring_create_elem("ist_repl_linkev", sizeof(struct link_ev),
					  rte_align32pow2(r->n_streams * (r->window + 2) + 64),
					  SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	r->open_pool = rte_mempool_create("ist_repl_open", r->n_streams * 2 + 63,
					  sizeof(struct ist_cat_open), 0, 0, NULL, NULL, NULL, NULL,
					  SOCKET_ID_ANY, 0);
	r->tail_req = rte_ring_create_elem("ist_repl_tailq", sizeof(struct tail_req),
					   rte_align32pow2(r->n_streams + 1), SOCKET_ID_ANY,
					   RING_F_SP_ENQ | RING_F_SC_DEQ);
	r->tail_res = rte_ring_create_elem("ist_repl_tailr", sizeof(struct tail_res),
					   rte_align32pow2(r->n_streams + 1), SOCKET_ID_ANY,
					   RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r->sink_ev == NULL || r->link_ev == NULL || r->open_pool == NULL ||
	    r->tail_req == NULL || r->tail_res == NULL)
		goto nomem;
	if (pthread_create(&r->tail_thread, NULL, tail_thread, r) != 0) {
		snprintf(err, errlen, "cannot start the destination-tail thread");
		return -EAGAIN;
	}
	pthread_setname_np(r->tail_thread, "ist-tail");
	r->tail_started = true;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory for the sink streams; reserve more hugepages");
	return -ENOMEM;
}

void ist_repl_sink_free(struct ist_repl *r)
{
	if (r->tail_started) {
		r->tail_stop = true;
		pthread_join(r->tail_thread, NULL);
		r->tail_started = false;
	}
	for (uint32_t k = 0; k < IST_CFG_MAX_KAFKA; k++) {
		if (r->snk_rk[k] != NULL) {
			/* Give what is in flight a moment: unacknowledged records are
			 * produced again after the restart anyway (destination tail). */
			rd_kafka_flush(r->snk_rk[k], 2000);
		}
	}
	for (uint32_t s = 0; r->snk != NULL && s < r->n_streams; s++) {
		if (r->snk[s].rkt != NULL)
			rd_kafka_topic_destroy(r->snk[s].rkt);
		if (r->snk[s].big != NULL) {
			ist_bigrec_fini(r->snk[s].big);
			free(r->snk[s].big);
		}
		rte_free(r->snk[s].held);
	}
	for (uint32_t k = 0; k < IST_CFG_MAX_KAFKA; k++) {
		if (r->snk_rk[k] != NULL)
			rd_kafka_destroy(r->snk_rk[k]);
		if (r->snk_reader[k] != NULL) {
			rd_kafka_consumer_close(r->snk_reader[k]);
			rd_kafka_destroy(r->snk_reader[k]);
		}
	}
	rte_ring_free(r->sink_ev);
	rte_ring_free(r->link_ev);
	rte_ring_free(r->tail_req);
	rte_ring_free(r->tail_res);
	rte_mempool_free(r->open_pool);
	ist_codec_ctx_free(r->snk_cc);
	rte_free(r->scratch);
	rte_free(r->snk);
}
