/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replication: creation, the catalog and the link lcore's side (see
 * ist_repl.h). The source pipeline is in ist_repl_src.c, the sink in
 * ist_repl_sink.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "isthmus/wire.h"
#include "ist_reasm.h"
#include "ist_repl_int.h"

RTE_LOG_REGISTER(ist_repl_logtype, isthmus.repl, INFO);
#define REPL_LOG(level, fmt, ...)                                                        \
	rte_log(RTE_LOG_##level, ist_repl_logtype, "isthmus-dataplane: repl: " fmt "\n", \
		##__VA_ARGS__)

struct ist_repl *ist_repl_the;
static volatile sig_atomic_t reload_asked;

void ist_repl_reload_request(void)
{
	reload_asked = 1;
}

void ist_repl_reload_poll(struct ist_repl *r)
{
	char err[256];
	int rc;

	if (!reload_asked)
		return;
	reload_asked = 0;
	if (r == NULL || !r->source) {
		REPL_LOG(NOTICE,
			 "rules reload asked, but this appliance reads no source: nothing to do");
		return;
	}
	rc = ist_rules_holder_reload(r->rules_h, r->cfg->path, 2000, err, sizeof(err));
	if (rc != 0) {
		r->rules_reload_failed++;
		REPL_LOG(ERR, "rules not reloaded, the current ones stay: %s", err);
		return;
	}
	r->rules_reloads++;
	REPL_LOG(NOTICE, "rules reloaded from %s", r->cfg->path);
}

static bool flow_side(const struct ist_config *cfg, uint32_t f, bool source)
{
	const struct ist_cfg_flow *fl = &cfg->flows[f];
	const struct ist_cfg_kafka *k = &cfg->kafka[source ? fl->source : fl->sink];

	return strcmp(k->region, cfg->appliance.region) == 0;
}

bool ist_repl_wanted(const struct ist_config *cfg)
{
	if (cfg->synth.enabled || !cfg->link.enabled)
		return false;
	for (uint32_t f = 0; f < cfg->n_flows; f++)
		if (flow_side(cfg, f, true) || flow_side(cfg, f, false))
			return true;
	return false;
}

struct ist_repl *ist_repl_peek(void)
{
	return ist_repl_the;
}

void ist_repl_put(struct ist_repl *r)
{
	if (r != NULL && --r->refs == 0)
		ist_repl_free(r);
}

/* Which lcore runs @p role; -1: none, -2: more than one. */
static int role_lcore(const struct ist_config *cfg, const char *role)
{
	int found = -1;

	for (unsigned int i = 0; i < cfg->n_lcores; i++)
		for (unsigned int k = 0; k < cfg->lcores[i].n_roles; k++)
			if (strcmp(cfg->lcores[i].roles[k], role) == 0)
				found = found == -1 ? (int)cfg->lcores[i].id : -2;
	return found;
}

/* The source roles and the sink roles each run on one lcore in this release. */
static int check_roles(const struct ist_config *cfg, char *err, size_t errlen)
{
	static const char *const pairs[2][2] = {{"kafka-in", "batcher"},
						{"unbatcher", "kafka-out"}};
	bool side[2] = {false, false};

	for (uint32_t f = 0; f < cfg->n_flows; f++) {
		side[0] |= flow_side(cfg, f, true);
		side[1] |= flow_side(cfg, f, false);
	}
	for (int p = 0; p < 2; p++) {
		int a = role_lcore(cfg, pairs[p][0]), b = role_lcore(cfg, pairs[p][1]);

		if (!side[p])
			continue;
		if (a == -1 || b == -1) {
			snprintf(err, errlen,
				 "%s: this appliance is the %s of a flow but no lcore runs %s; add "
				 "\"roles = %s %s\" to an lcore",
				 cfg->path, p == 0 ? "source" : "sink",
				 a == -1 ? pairs[p][0] : pairs[p][1], pairs[p][0], pairs[p][1]);
			return -EINVAL;
		}
		if (a == -2 || b == -2 || a != b) {
			snprintf(err, errlen,
				 "%s: %s and %s must run on one lcore, once, in this release; put "
				 "\"roles = %s %s\" on a single lcore",
				 cfg->path, pairs[p][0], pairs[p][1], pairs[p][0], pairs[p][1]);
			return -EINVAL;
		}
	}
	return 0;
}

struct ist_repl *ist_repl_get(const struct ist_config *cfg, char *err, size_t errlen)
{
	struct ist_repl *r;

	if (ist_repl_the != NULL) {
		ist_repl_the->refs++;
		return ist_repl_the;
	}
	if (check_roles(cfg, err, errlen) != 0)
		return NULL;
	r = rte_zmalloc("ist_repl", sizeof(*r), RTE_CACHE_LINE_SIZE);
	if (r == NULL) {
		snprintf(err, errlen, "out of memory for replication state");
		return NULL;
	}
	r->cfg = cfg;
	r->hz = rte_get_tsc_hz();
	r->n_streams = cfg->link.streams + 1;
	r->window = cfg->link.window;
	r->frame_max = IST_WIRE_MAX_FRAME;
	for (uint32_t f = 0; f < cfg->n_flows; f++) {
		r->source |= flow_side(cfg, f, true);
		r->sink |= flow_side(cfg, f, false);
	}
	r->cat_out = rte_zmalloc("ist_repl_cat", IST_WIRE_MAX_FRAME, 0);
	r->refused = rte_zmalloc("ist_repl_refused", (r->n_streams + 63) / 64 * 8, 0);
	if (r->cat_out == NULL || r->refused == NULL) {
		snprintf(err, errlen, "out of memory for replication state");
		goto fail;
	}
	if (r->source && ist_repl_src_create(r, err, errlen) != 0)
		goto fail;
	if (r->sink && ist_repl_sink_create(r, err, errlen) != 0)
		goto fail;
	r->open_all = r->source;
	r->refs = 1;
	ist_repl_the = r;
	return r;
fail:
	ist_repl_free(r);
	return NULL;
}

void ist_repl_free(struct ist_repl *r)
{
	if (r == NULL)
		return;
	ist_repl_sink_free(r);
	ist_repl_src_free(r);
	rte_free(r->cat_out);
	rte_free(r->refused);
	if (ist_repl_the == r)
		ist_repl_the = NULL;
	rte_free(r);
}

uint32_t ist_repl_n_streams(const struct ist_repl *r)
{
	return r->n_streams;
}

uint32_t ist_repl_window(const struct ist_repl *r)
{
	return r->window;
}

uint32_t ist_repl_frame_max(const struct ist_repl *r)
{
	return r->frame_max;
}

/* ---- link lcore ---- */

void ist_repl_link_reset(struct ist_repl *r)
{
	for (uint32_t s = 1; r->source && s <= r->n_src; s++) {
		struct src_stream *ss = &r->src[s];

		ss->link_resumed = false;
		if (ss->pending != NULL) {
			rte_mempool_put(r->fpool, ss->pending);
			ss->pending = NULL;
		}
	}
	/* The peer may have restarted without our dictionaries: none is used
	 * until it has them again. */
	if (r->source) {
		struct src_cmd c = {.type = SCMD_DICT_REVOKE};

		for (uint32_t k = 0; k < r->n_classes; k++)
			if (r->dict_state[k] == DICT_SHIPPED)
				r->dict_announce |= 1ull << k;
		if (r->dict_announce != 0 &&
		    rte_ring_sp_enqueue_elem(r->src_cmd, &c, sizeof(c)) != 0)
			REPL_LOG(ERR, "command ring full: dictionaries stay in use");
	}
	/* Catalog messages for the previous session are void, OPENs go again. */
	r->cat_len = 0;
	r->cat_resumed = false;
	r->has_backlog = false;
	r->open_all = r->source;
}

/* Queue every OPEN the catalog has room for. */
static void cat_open_all(struct ist_repl *r)
{
	for (uint32_t s = 1; s <= r->n_src; s++) {
		const struct src_stream *ss = &r->src[s];
		const struct ist_cfg_flow *fl = &r->cfg->flows[ss->flow];
		struct ist_cat_open o = {
			.stream = s,
			.src_partition = ss->partition,
			.dst_partition = ss->dst_partition,
		};

		snprintf(o.flow, sizeof(o.flow), "%s", fl->name);
		snprintf(o.cluster, sizeof(o.cluster), "%s", r->cfg->kafka[fl->source].name);
		snprintf(o.region, sizeof(o.region), "%s", r->cfg->appliance.region);
		snprintf(o.topic, sizeof(o.topic), "%s", ss->topic);
		snprintf(o.dst_topic, sizeof(o.dst_topic), "%s", ss->dst_topic);
		if (ist_cat_put_open(r->cat_out + sizeof(struct ist_wire_frame),
				     IST_WIRE_MAX_FRAME - sizeof(struct ist_wire_frame),
				     &r->cat_len, &o) != 0) {
			REPL_LOG(ERR, "stream %u (%s [%d]) cannot be announced: name too long", s,
				 ss->topic, ss->partition);
		}
	}
	r->open_all = false;
}

/* Announce newly trained dictionaries, and all of them after a reset. */
static void cat_dicts(struct ist_repl *r)
{
	uint32_t c;

	while (rte_ring_sc_dequeue_elem(r->dict_out, &c, sizeof(c)) == 0)
		r->dict_announce |= 1ull << c;
	while (r->dict_announce != 0) {
		struct ist_cat_dict d;

		c = __builtin_ctzll(r->dict_announce);
		d = (struct ist_cat_dict){.dict_id = r->dict_id[c],
					  .codec = r->class_codec[c].codec,
					  .data = r->dict_buf[c],
					  .len = r->dict_len[c]};
		if (ist_cat_put_dict(r->cat_out + sizeof(struct ist_wire_frame),
				     IST_WIRE_MAX_FRAME - sizeof(struct ist_wire_frame),
				     &r->cat_len, &d) != 0)
			return; /* no room in this catalog frame: the next one */
		r->dict_announce &= ~(1ull << c);
	}
}

/* Build the catalog frame into @p out. @return its length. */
static uint32_t cat_frame(struct ist_repl *r, uint8_t *out, uint32_t cap)
{
	struct ist_wire_frame *fh = (struct ist_wire_frame *)out;
	uint32_t body = (uint32_t)r->cat_len;

	if (cap < sizeof(*fh) + body)
		return 0;
	memset(fh, 0, sizeof(*fh));
	memcpy(out + sizeof(*fh), r->cat_out + sizeof(*fh), body);
	fh->codec = IST_CODEC_NONE;
	fh->uncompressed_len = rte_cpu_to_be_32(body);
	fh->body_len = rte_cpu_to_be_32(body);
	fh->crc32c = rte_cpu_to_be_32(rte_hash_crc(out + sizeof(*fh), body, 0xffffffff));
	r->cat_len = 0;
	return sizeof(*fh) + body;
}

/* Mark every class one of whose streams has a frame waiting. */
static void backlog_scan(struct ist_repl *r)
{
	for (uint32_t s = 1; s <= r->n_src; s++) {
		struct src_stream *ss = &r->src[s];

		if (ss->link_resumed && (ss->pending != NULL || !rte_ring_empty(ss->q)))
			ist_shaper_set_backlog(r->shaper, ss->cls, true);
	}
}

/* HOT */
uint32_t ist_repl_link_next(struct ist_repl *r, uint64_t now,
			    bool (*can_send)(void *arg, uint32_t stream, uint32_t seq), void *arg,
			    uint8_t *out, uint32_t cap, uint32_t *stream, uint32_t *seq)
{
	bool scanned;
	int cls;

	if (r->open_all && r->cat_len == 0)
		cat_open_all(r);
	if (r->source)
		cat_dicts(r);
	if (r->cat_len != 0 && r->cat_resumed && can_send(arg, 0, r->cat_seq)) {
		*stream = 0;
		*seq = r->cat_seq++;
		return cat_frame(r, out, cap);
	}
	if (!r->source)
		return 0;
	/* Classes take turns by weight among those with frames and tokens. */
	scanned = false;
	for (unsigned int tries = 0; tries < r->n_classes; tries++) {
		cls = ist_shaper_pick(r->shaper, now);
		/* Which classes have frames is learnt by a scan of the streams: at
		 * most every 100 us while something is sent, and whenever nothing
		 * is (a class that starts having frames waits at most that long). */
		if (!scanned && (cls < 0 || now - r->backlog_tsc > r->hz / 10000)) {
			scanned = true;
			backlog_scan(r);
			r->backlog_tsc = now;
			cls = ist_shaper_pick(r->shaper, now);
		}
		if (cls < 0)
			return 0;
		for (uint32_t k = 0; k < r->n_src; k++) {
			uint32_t s = 1 + (r->rr + k) % r->n_src;
			struct src_stream *ss = &r->src[s];

			if (ss->cls != (uint32_t)cls || !ss->link_resumed)
				continue;
			while (ss->pending == NULL) {
				void *obj;

				if (rte_ring_sc_dequeue(ss->q, &obj) != 0)
					break;
				ss->pending = obj;
				if (ss->pending->gen != ss->link_gen) {
					/* Cut before the last RESUME: void. */
					rte_mempool_put(r->fpool, ss->pending);
					ss->pending = NULL;
				}
			}
			if (ss->pending == NULL || !can_send(arg, s, ss->next_seq))
				continue;
			if (ss->pending->len > cap)
				return 0;
			memcpy(out, ss->pending->data, ss->pending->len);
			*stream = s;
			*seq = ss->next_seq++;
			r->rr = s; /* the next pick starts after this stream */
			{
				uint32_t len = ss->pending->len;

				rte_mempool_put(r->fpool, ss->pending);
				ss->pending = NULL;
				return len;
			}
		}
		/* The class the shaper chose has nothing sendable: let it rest. */
		ist_shaper_set_backlog(r->shaper, cls, false);
	}
	return 0;
}

void ist_repl_link_sent(struct ist_repl *r, uint32_t stream, uint32_t len, uint64_t now)
{
	if (stream != 0 && r->source)
		ist_shaper_charge(r->shaper, r->src[stream].cls, len, now);
}

/* A RESUME from the sink: the source stream starts at its position. */
static void on_resume(struct ist_repl *r, const struct ist_cat_resume *m)
{
	struct src_stream *ss;
	struct src_cmd c;

	if (!r->source || m->stream == 0 || m->stream > r->n_src) {
		r->unknown_stream++;
		return;
	}
	ss = &r->src[m->stream];
	if (m->status != 0) {
		snprintf(ss->reason, sizeof(ss->reason), "sink: %s", m->reason);
		return;
	}
	ss->link_gen++;
	ss->link_resumed = true;
	ss->next_seq = m->next_seq;
	if (ss->pending != NULL) {
		rte_mempool_put(r->fpool, ss->pending);
		ss->pending = NULL;
	}
	c = (struct src_cmd){.stream = m->stream, .gen = ss->link_gen, .position = m->position};
	if (rte_ring_sp_enqueue_elem(r->src_cmd, &c, sizeof(c)) != 0)
		ss->link_resumed = false; /* the sink repeats RESUME for every OPEN */
	ist_shaper_set_backlog(r->shaper, ss->cls, true);
}

static bool on_catalog(struct ist_repl *r, const uint8_t *frame, uint32_t len)
{
	const struct ist_wire_frame *fh = (const struct ist_wire_frame *)frame;
	struct ist_cat_msg m;
	size_t off = 0, body;
	int rc;

	if (len < sizeof(*fh) || fh->codec != IST_CODEC_NONE) {
		r->cat_bad++;
		return true;
	}
	body = rte_be_to_cpu_32(fh->body_len);
	if (body != len - sizeof(*fh) ||
	    rte_hash_crc(frame + sizeof(*fh), body, 0xffffffff) != rte_be_to_cpu_32(fh->crc32c)) {
		r->cat_bad++;
		return true;
	}
	/* OPENs go to the sink in order with the frames: refuse if it cannot take them all. */
	if (r->sink && rte_ring_free_count(r->sink_ev) < r->n_streams)
		return false;
	while ((rc = ist_cat_next(frame + sizeof(*fh), body, &off, &m)) == 1) {
		r->cat_rx++;
		switch (m.type) {
		case IST_CAT_OPEN: {
			struct sink_ev ev = {.type = SEV_OPEN, .stream = m.open.stream};
			void *obj;

			if (!r->sink || m.open.stream == 0 || m.open.stream >= r->n_streams ||
			    rte_mempool_get(r->open_pool, &obj) != 0) {
				r->unknown_stream++;
				break;
			}
			ev.open = obj;
			*ev.open = m.open;
			if (rte_ring_sp_enqueue_elem(r->sink_ev, &ev, sizeof(ev)) != 0)
				rte_mempool_put(r->open_pool, obj);
			break;
		}
		case IST_CAT_RESUME:
			on_resume(r, &m.resume);
			break;
		case IST_CAT_DICT: {
			struct sink_ev ev = {
				.type = SEV_DICT, .stream = m.dict.dict_id, .len = m.dict.len};
			uint8_t *copy;

			if (!r->sink)
				break;
			copy = malloc(m.dict.len); /* slow path: once per dictionary */
			if (copy == NULL)
				break;
			memcpy(copy, m.dict.data, m.dict.len);
			ev.frame = copy;
			if (rte_ring_sp_enqueue_elem(r->sink_ev, &ev, sizeof(ev)) != 0)
				free(copy);
			break;
		}
		case IST_CAT_DICT_ACK:
			for (uint32_t k = 0; r->source && k < r->n_classes; k++) {
				struct src_cmd c = {.type = SCMD_DICT_OK, .stream = k};

				if (r->dict_id[k] != m.dict_ack.dict_id || !r->dict_wanted[k] ||
				    m.dict_ack.status != 0)
					continue;
				if (rte_ring_sp_enqueue_elem(r->src_cmd, &c, sizeof(c)) != 0)
					r->dict_announce |= 1ull << k; /* ask again */
			}
			break;
		default:
			break;
		}
	}
	if (rc < 0)
		r->cat_bad++;
	return true;
}

/* HOT */
enum ist_repl_dlv ist_repl_link_deliver(struct ist_repl *r, uint32_t stream, uint32_t seq,
					const uint8_t *frame, uint32_t len)
{
	struct sink_ev ev = {
		.type = SEV_FRAME, .stream = stream, .seq = seq, .len = len, .frame = frame};

	if (stream == 0) {
		if (on_catalog(r, frame, len))
			return IST_REPL_DLV_DONE;
	} else if (r->sink && rte_ring_sp_enqueue_elem(r->sink_ev, &ev, sizeof(ev)) == 0) {
		return IST_REPL_DLV_HELD;
	}
	r->refused[stream / 64] |= 1ull << (stream % 64);
	r->any_refused = true;
	return IST_REPL_DLV_REFUSED;
}

uint32_t ist_repl_link_poll(struct ist_repl *r, struct ist_reasm *reasm, uint64_t now)
{
	struct link_ev ev;
	uint32_t work = 0;

	/* The catalog flows again once the peer's credit says where it starts. */
	(void)now;
	while (r->sink && rte_ring_sc_dequeue_elem(r->link_ev, &ev, sizeof(ev)) == 0) {
		work++;
		if (ev.type == LEV_RELEASE) {
			ist_reasm_release(reasm, ev.stream, ev.seq, now);
			continue;
		}
		if (ev.type == LEV_DICT_ACK) {
			struct ist_cat_dict_ack a = {.dict_id = (uint8_t)ev.stream,
						     .status = (uint8_t)ev.status};

			if (ist_cat_put_dict_ack(r->cat_out + sizeof(struct ist_wire_frame),
						 IST_WIRE_MAX_FRAME - sizeof(struct ist_wire_frame),
						 &r->cat_len, &a) != 0)
				r->cat_bad++;
			continue;
		}
		if (ev.type == LEV_RESUME) {
			struct ist_cat_resume m = {
				.stream = ev.stream,
				.next_seq = ev.seq,
				.position = ev.position,
				.status = (uint8_t)ev.status,
			};

			snprintf(m.reason, sizeof(m.reason), "%s", ev.reason);
			if (ist_cat_put_resume(r->cat_out + sizeof(struct ist_wire_frame),
					       IST_WIRE_MAX_FRAME - sizeof(struct ist_wire_frame),
					       &r->cat_len, &m) != 0) {
				/* Full: the next OPEN from the peer repeats the question. */
				r->cat_bad++;
			}
		}
	}
	if (r->any_refused) {
		r->any_refused = false;
		for (uint32_t w = 0; w < (r->n_streams + 63) / 64; w++) {
			uint64_t bits = r->refused[w];

			r->refused[w] = 0;
			while (bits) {
				uint32_t s = w * 64 + __builtin_ctzll(bits);

				bits &= bits - 1;
				work += ist_reasm_deliver(reasm, s);
			}
		}
	}
	return work;
}

void ist_repl_cat_resumed(struct ist_repl *r, uint32_t seq)
{
	r->cat_seq = seq;
	r->cat_resumed = true;
}

/* ---- status (mgmt thread; counters are read racily, each a single word) ---- */

uint32_t ist_repl_status(const struct ist_repl *r, struct ist_ipc_stream_status *out, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t s = 1; r->source && s <= r->n_src && n < max; s++) {
		const struct src_stream *ss = &r->src[s];
		struct ist_ipc_stream_status *o = &out[n++];

		memset(o, 0, sizeof(*o));
		o->id = s;
		o->side = 0;
		o->state = ss->state;
		o->partition = ss->partition;
		snprintf(o->topic, sizeof(o->topic), "%s", ss->topic);
		snprintf(o->peer_topic, sizeof(o->peer_topic), "%s", ss->dst_topic);
		o->position = ss->pos;
		o->high = ss->high;
		o->records = ss->records;
		o->bytes = ss->bytes;
		o->frames = ss->frames;
		o->bytes_out = ss->bytes_out;
		o->dropped = ss->dropped_by_rule;
		o->gaps = ss->gaps;
		o->gap_lost = ss->gap_lost;
		snprintf(o->reason, sizeof(o->reason), "%s", ss->reason);
	}
	for (uint32_t s = 1; r->sink && s < r->n_streams && n < max; s++) {
		const struct sink_stream *ks = &r->snk[s];
		struct ist_ipc_stream_status *o;

		if (!ks->known)
			continue;
		o = &out[n++];
		memset(o, 0, sizeof(*o));
		o->id = s;
		o->side = 1;
		o->state = ks->state;
		o->partition = ks->id.dst_partition;
		snprintf(o->topic, sizeof(o->topic), "%s", ks->id.dst_topic);
		snprintf(o->peer_topic, sizeof(o->peer_topic), "%s", ks->id.topic);
		o->position = ks->expect;
		o->durable = ks->durable;
		o->records = ks->records;
		o->bytes = ks->bytes;
		o->frames = ks->frames;
		o->unchained = ks->unchained;
		o->errors = ks->decode_err + ks->produce_err;
		o->retries = ks->retries;
		snprintf(o->reason, sizeof(o->reason), "%s", ks->reason);
	}
	return n;
}

void ist_repl_totals(const struct ist_repl *r, struct ist_ipc_repl_status *o)
{
	memset(o, 0, sizeof(*o));
	o->source = r->source;
	o->sink = r->sink;
	for (uint32_t s = 1; r->source && s <= r->n_src; s++) {
		o->src_records += r->src[s].records;
		o->src_bytes += r->src[s].bytes;
		o->src_bytes_out += r->src[s].bytes_out;
		o->src_gaps += r->src[s].gaps;
		o->src_dropped += r->src[s].dropped_by_rule;
		o->src_streams++;
	}
	for (uint32_t s = 1; r->sink && s < r->n_streams; s++) {
		if (!r->snk[s].known)
			continue;
		o->sink_records += r->snk[s].records;
		o->sink_bytes += r->snk[s].bytes;
		o->sink_unchained += r->snk[s].unchained;
		o->sink_errors += r->snk[s].decode_err + r->snk[s].produce_err;
		o->sink_streams++;
		o->sink_failed += r->snk[s].state == RS_FAILED;
	}
	o->catalog_bad = r->cat_bad;
	o->rules_reloads = r->rules_reloads;
	o->rules_reload_failed = r->rules_reload_failed;
	for (uint32_t c = 0; r->source && c < r->n_classes; c++)
		o->dicts += r->class_codec[c].dict_id != 0;
}

bool ist_repl_cat_waiting(const struct ist_repl *r)
{
	return !r->cat_resumed;
}

bool ist_repl_is_source(const struct ist_repl *r)
{
	return r->source;
}

bool ist_repl_is_sink(const struct ist_repl *r)
{
	return r->sink;
}
