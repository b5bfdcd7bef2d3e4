/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replication internals shared by ist_repl.c (streams, link side),
 * ist_repl_src.c (kafka-in, batcher) and ist_repl_sink.c (unbatcher,
 * kafka-out). See ist_repl.h for the design.
 */
#ifndef ISTHMUS_REPL_INT_H
#define ISTHMUS_REPL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>
#include <rte_common.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "isthmus/ipc.h"
#include "ist_batch.h"
#include "ist_catalog.h"
#include "ist_codec.h"
#include "ist_config.h"
#include "ist_dict.h"
#include "ist_kafka.h"
#include "ist_repl.h"
#include "ist_rules.h"
#include "ist_shaper.h"

#define REPL_Q_FRAMES     8    /* frames queued per source stream for link-tx */
#define REPL_RING         1024 /* events between lcores */
#define REPL_NAME_LEN     IST_CAT_NAME_LEN
#define REPL_TOPIC_LEN    IST_CAT_TOPIC_LEN
#define REPL_REASON_LEN   128
#define REPL_DICT_SAMPLES 1000         /* records sampled per class before training */
#define REPL_DICT_CAP     (16u * 1024) /* trained dictionary size */

enum repl_dict_state { DICT_NONE = 0, DICT_TRAINING, DICT_TRAINED, DICT_SHIPPED, DICT_FAILED };

enum repl_state {
	RS_IDLE = 0,    /* waiting for the peer (source: RESUME; sink: OPEN) */
	RS_TAIL = 1,    /* sink: reading the destination tail */
	RS_RUNNING = 2, /* records flow */
	RS_FAILED = 3,  /* sink: the destination refused; retried with back-off */
	RS_HALTED = 4,  /* stopped by policy (a gap with on_gap = halt); operator acts */
};

/* A frame on its way from the source lcore to link-tx. */
struct fbuf {
	uint32_t stream, gen, len;
	uint32_t pad;
	int64_t end; /* source position after the frame */
	uint8_t data[];
};

/* link -> source: start stream at position (RESUME), in generation gen. */
enum src_cmd_type {
	SCMD_RESUME = 0,      /* start stream at position, generation gen */
	SCMD_DICT_OK = 1,     /* the sink has class `stream`'s dictionary: use it */
	SCMD_DICT_REVOKE = 2, /* a new session: no dictionary until the sink has it again */
};

struct src_cmd {
	uint32_t type; /* enum src_cmd_type */
	uint32_t stream, gen;
	int64_t position;
};

/* link -> sink */
enum sink_ev_type { SEV_FRAME = 1, SEV_OPEN = 2, SEV_DICT = 3 };
struct sink_ev {
	uint32_t type, stream, seq, len;
	const uint8_t *frame;      /* SEV_FRAME: in the reassembly slot, held until released;
			       * SEV_DICT: a malloc'd copy (stream = dict id), freed by the sink */
	struct ist_cat_open *open; /* SEV_OPEN: from r->open_pool, returned by the sink */
};

/* sink -> link */
enum link_ev_type { LEV_RELEASE = 1, LEV_RESUME = 2, LEV_DICT_ACK = 3 };
struct link_ev {
	uint32_t type, stream, seq, status;
	int64_t position;
	char reason[112];
};

/* Source stream: one source topic-partition. */
struct src_stream {
	/* fixed after create */
	uint32_t id;
	uint32_t flow, cls, cluster; /* indexes into cfg flows, rules classes, src_kafka */
	int32_t partition, dst_partition;
	uint32_t first; /* id of the topic's partition 0 stream */
	char topic[REPL_TOPIC_LEN], dst_topic[REPL_TOPIC_LEN];
	struct ist_rules_topic rtp; /* source lcore: rw */
	struct rte_ring *q;         /* frames: source enqueues, link dequeues */

	/* link lcore */
	uint32_t link_gen;    /* bumped at every RESUME */
	bool link_resumed;    /* RESUME seen in this session */
	uint32_t next_seq;    /* next frame number to send */
	struct fbuf *pending; /* dequeued, waiting for credit */

	/* source lcore */
	uint32_t gen;
	uint8_t state; /* enum repl_state */
	bool assigned; /* in the consumer's assignment */
	bool paused;   /* fetch paused: the queue is full */
	bool rewind;   /* records were let go: seek back to pos when there is room */
	int64_t pos;   /* next source offset to take (IST_CAT_POS_BEGINNING at first) */
	int64_t base;  /* position the open frame continues from */
	bool open;     /* a frame is being built */
	uint64_t open_tsc;
	struct ist_batch_enc enc;
	uint8_t *enc_buf;
	bool splitting;       /* a record larger than a frame is going out in parts */
	int64_t split_offset; /* its offset */
	uint8_t *split_buf;   /* its encoding (link.max_record_kb, allocated when needed) */
	struct fbuf *out;     /* closed frame the queue had no room for */

	/* counters: source lcore rw, mgmt ro */
	uint64_t records, bytes, frames, bytes_out, dropped_by_rule, gaps, gap_lost;
	int64_t high; /* last known high watermark */
	char reason[REPL_REASON_LEN];
};

/* One frame the sink holds (its reassembly slot) until the destination has it all. */
struct held {
	uint32_t stream, seq, len;
	const uint8_t *frame;
	uint32_t next_rec;    /* records handed to the producer so far */
	uint32_t outstanding; /* produced, not yet acknowledged */
	bool decoded;         /* checked and accepted (chain, CRC) */
	bool done;            /* every record handed over */
	bool failed;          /* the destination refused one of them */
	int64_t end;          /* source position after it (once decoded) */
};

struct sink_stream {
	/* sink lcore */
	bool known;
	struct ist_cat_open id;
	uint32_t cluster; /* index into sink clusters */
	rd_kafka_topic_t *rkt;
	uint8_t state;
	bool tail_pending;
	bool owe_resume;        /* the peer asked (OPEN) and waits for RESUME */
	int64_t skip_below;     /* a repair: the destination has every offset below */
	struct ist_bigrec *big; /* a record split over frames, being collected */
	int64_t expect;         /* source position the next frame must start from */
	uint32_t next_seq;      /* next frame to process */
	uint32_t head, n;       /* held frames ring */
	struct held *held;      /* [window] */
	uint32_t inflight;      /* produce requests without a delivery report */
	uint64_t retry_tsc;     /* FAILED: next tail read */
	uint32_t backoff_ms;
	/* counters: sink lcore rw, mgmt ro */
	uint64_t records, bytes, frames, unchained, decode_err, produce_err, retries;
	int64_t durable; /* last source offset the destination acknowledged */
	char reason[REPL_REASON_LEN];
};

/* Destination-tail requests, answered by the tail thread. */
struct tail_req {
	uint32_t stream, cluster;
	char topic[REPL_TOPIC_LEN];
	int32_t partition;
};

struct tail_res {
	uint32_t stream;
	int rc;
	struct ist_kafka_tail t;
	char err[REPL_REASON_LEN];
};

struct ist_repl {
	const struct ist_config *cfg;
	uint32_t refs;      /* link and replication roles holding it (start-up/shutdown only) */
	uint32_t n_streams; /* link stream ids 0..n_streams-1; 0 is the catalog */
	uint32_t window;
	uint32_t frame_max;
	uint64_t hz;

	/* source side */
	bool source;
	uint32_t n_src;         /* data streams, ids 1..n_src */
	struct src_stream *src; /* [n_streams] */
	rd_kafka_t *src_rk[IST_CFG_MAX_KAFKA];
	rd_kafka_queue_t *src_q[IST_CFG_MAX_KAFKA];
	struct ist_rules_holder *rules_h;
	uint64_t src_wm_tsc;
	struct ist_shaper *shaper;
	struct ist_codec_spec class_codec[IST_CFG_MAX_CLASSES + 1];
	uint32_t class_frame[IST_CFG_MAX_CLASSES + 1];  /* frame body bound, bytes */
	uint64_t class_linger[IST_CFG_MAX_CLASSES + 1]; /* cycles */
	uint32_t n_classes;
	struct ist_codec_ctx *src_cc;
	struct rte_mempool *fpool;
	struct rte_ring *src_cmd; /* link -> source */
	uint32_t rr;              /* link: round robin inside a class */
	struct rkt_slot {
		const rd_kafka_topic_t *rkt;
		uint32_t first;
	} rkt_cache[16];      /* source lcore: topic handle -> its first stream */
	uint32_t rkt_next;    /* source lcore: next slot to fill */
	uint64_t backlog_tsc; /* link: last scan for classes with frames */
	uint8_t *body;        /* source: encoder scratch */

	/* dictionaries, one per class that asks for one (codec "+dict") */
	bool dict_wanted[IST_CFG_MAX_CLASSES + 1];
	struct ist_dict_sampler *sampler[IST_CFG_MAX_CLASSES + 1]; /* source lcore */
	uint8_t dict_id[IST_CFG_MAX_CLASSES + 1];                  /* fixed at create */
	uint8_t *dict_buf[IST_CFG_MAX_CLASSES + 1];
	uint32_t dict_len[IST_CFG_MAX_CLASSES + 1];
	/* DICT_NONE -> (source) DICT_TRAINING -> (trainer) DICT_TRAINED -> (source)
	 * DICT_SHIPPED; the link announces every class at DICT_SHIPPED. */
	volatile uint8_t dict_state[IST_CFG_MAX_CLASSES + 1];
	uint64_t dict_announce;    /* link: bit per class, DICT to send */
	struct rte_ring *dict_out; /* source -> link: class index newly trained */

	/* sink side */
	bool sink;
	struct sink_stream *snk; /* [n_streams] */
	rd_kafka_t *snk_rk[IST_CFG_MAX_KAFKA];
	rd_kafka_t *snk_reader[IST_CFG_MAX_KAFKA];
	struct ist_codec_ctx *snk_cc;
	uint8_t *scratch;         /* sink: decompression */
	struct rte_ring *sink_ev; /* link -> sink */
	struct rte_ring *link_ev; /* sink -> link */
	struct rte_mempool *open_pool;
	struct rte_ring *tail_req, *tail_res;
	pthread_t tail_thread;
	bool tail_started;
	volatile bool tail_stop;

	/* link lcore */
	uint8_t *cat_out; /* catalog messages waiting to go */
	size_t cat_len;
	bool open_all;    /* announce every source stream */
	uint32_t cat_seq; /* next catalog frame number */
	bool cat_resumed;
	uint64_t *refused; /* bit per stream: deliver refused, retry */
	bool any_refused;
	struct link_ev resume_backlog; /* a RESUME the catalog had no room for */
	bool has_backlog;

	/* totals: mgmt ro */
	uint64_t cat_bad, cat_rx, unknown_stream;
	uint64_t rules_reloads, rules_reload_failed; /* mgmt rw */
};

extern struct ist_repl *ist_repl_the;

/* A position as a frame's base offset: "the beginning" is offset 0, which no
 * record offset is below. */
static inline uint64_t repl_wire_pos(int64_t pos)
{
	return pos == IST_CAT_POS_BEGINNING ? 0 : (uint64_t)pos;
}

/* ist_repl_src.c */
int ist_repl_src_create(struct ist_repl *r, char *err, size_t errlen);
void ist_repl_src_free(struct ist_repl *r);
uint32_t ist_repl_src_poll_in(struct ist_repl *r, uint64_t now);
uint32_t ist_repl_src_poll_batch(struct ist_repl *r, uint64_t now);

/* ist_repl_sink.c */
int ist_repl_sink_create(struct ist_repl *r, char *err, size_t errlen);
void ist_repl_sink_free(struct ist_repl *r);
uint32_t ist_repl_sink_poll_unbatch(struct ist_repl *r, uint64_t now);
uint32_t ist_repl_sink_poll_out(struct ist_repl *r, uint64_t now);

#endif /* ISTHMUS_REPL_INT_H */
