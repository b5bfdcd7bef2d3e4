/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Replication: Kafka records through the link, exactly once per partition
 * (docs/REPLICATION.md).
 *
 * Source side (the roles kafka-in and batcher, one lcore in this release):
 * a librdkafka consumer per source cluster, manually assigned; records are
 * encoded into per-stream frames (dataplane/batch), compressed with their
 * topic class's codec and queued per stream for link-tx. A stream starts
 * only when the sink has said where (RESUME on the catalog, stream 0): the
 * position comes from the destination partition's tail, so no file on this
 * side can disagree with the data.
 *
 * Sink side (unbatcher and kafka-out, one lcore): frames released in order
 * by link-rx are decoded and produced with an idempotent producer, adding
 * the provenance headers. A frame's reassembly slot is released (and the
 * sender's credit grows) only when every record in it is acknowledged by
 * the destination: credits are the durable acks travelling back. A frame
 * is accepted only if it continues the stream exactly where the previous one
 * ended (its base offset equals the sink's position), so a frame from
 * before any restart can never be written twice.
 *
 * A destination that fails a record pauses that stream alone, with the
 * reason; once every produce in flight has an answer, the sink reads the
 * destination tail again and produces again, from the frames it still
 * holds, the records the destination does not have.
 *
 * Threading: the link lcore, the source lcore and the sink lcore talk over
 * rte_rings only (see the fields' ownership comments in ist_repl.c); the
 * destination-tail reader runs in its own pthread because it blocks.
 */
#ifndef ISTHMUS_REPL_H
#define ISTHMUS_REPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isthmus/ipc.h"

struct ist_config;
struct ist_repl;
struct ist_reasm;

/** The appliance's replication state, created by the first role that needs it. */
struct ist_repl *ist_repl_get(const struct ist_config *cfg, char *err, size_t errlen);

/** The existing instance (NULL when the core map has no flow). */
struct ist_repl *ist_repl_peek(void);

/** Is there replication to do (a flow either way)? */
bool ist_repl_wanted(const struct ist_config *cfg);

/** Ask for the rules to be reloaded from the core map (async-signal-safe). */
void ist_repl_reload_request(void);

/**
 * Reload the rules if asked: a new set is built from the core map file and
 * swapped in with RCU while the source lcore runs; on any error the current
 * rules stay and the error is logged. @locality mgmt thread
 */
void ist_repl_reload_poll(struct ist_repl *r);

/** Drop a reference taken by ist_repl_get(); the last one frees. */
void ist_repl_put(struct ist_repl *r);

void ist_repl_free(struct ist_repl *r);

/** Role work (role_repl.c): kafka-in, batcher, unbatcher, kafka-out. HOT. */
uint32_t ist_repl_src_poll_in(struct ist_repl *r, uint64_t now);
uint32_t ist_repl_src_poll_batch(struct ist_repl *r, uint64_t now);
uint32_t ist_repl_sink_poll_unbatch(struct ist_repl *r, uint64_t now);
uint32_t ist_repl_sink_poll_out(struct ist_repl *r, uint64_t now);
bool ist_repl_is_source(const struct ist_repl *r);
bool ist_repl_is_sink(const struct ist_repl *r);

/* ---- link lcore side ---- */

/** Streams the link must hold (stream 0, the catalog, included). */
uint32_t ist_repl_n_streams(const struct ist_repl *r);
/** Frames per stream the receiver holds (credit window). */
uint32_t ist_repl_window(const struct ist_repl *r);
/** Largest frame, bytes. */
uint32_t ist_repl_frame_max(const struct ist_repl *r);

/** A new session (either side restarted): every source stream waits for RESUME. */
void ist_repl_link_reset(struct ist_repl *r);

/**
 * Next frame to send, chosen by the shaper among streams that have one and
 * whose credit @p can_send allows. Copies it into @p out.
 * @return its length (0: nothing to send), *stream and *seq set.
 */
uint32_t ist_repl_link_next(struct ist_repl *r, uint64_t now,
			    bool (*can_send)(void *arg, uint32_t stream, uint32_t seq), void *arg,
			    uint8_t *out, uint32_t cap, uint32_t *stream, uint32_t *seq);

/** A frame was cut into packets: the shaper charges its class. */
void ist_repl_link_sent(struct ist_repl *r, uint32_t stream, uint32_t len, uint64_t now);

enum ist_repl_dlv {
	IST_REPL_DLV_REFUSED = 0, /**< no room now: offered again by ist_repl_link_poll() */
	IST_REPL_DLV_HELD = 1,    /**< the sink holds it; released through ist_repl_link_poll() */
	IST_REPL_DLV_DONE = 2,    /**< consumed (catalog): release it after the burst */
};

/** A frame arrived in order (reassembly deliver callback). HOT. */
enum ist_repl_dlv ist_repl_link_deliver(struct ist_repl *r, uint32_t stream, uint32_t seq,
					const uint8_t *frame, uint32_t len);

/** Where this side's catalog (stream 0) continues, from the peer's first grant. */
void ist_repl_cat_resumed(struct ist_repl *r, uint32_t seq);

/** Does this side still wait to learn where its catalog continues? */
bool ist_repl_cat_waiting(const struct ist_repl *r);

/**
 * Housekeeping on the link lcore: releases from the sink, RESUMEs to hand to
 * the source, refused deliveries to retry. @return work done.
 */
uint32_t ist_repl_link_poll(struct ist_repl *r, struct ist_reasm *reasm, uint64_t now);

/** Per-stream status for the IPC (mgmt thread). @return streams written. */
uint32_t ist_repl_status(const struct ist_repl *r, struct ist_ipc_stream_status *out, uint32_t max);

/** Totals for the IPC (mgmt thread). */
void ist_repl_totals(const struct ist_repl *r, struct ist_ipc_repl_status *out);

#endif /* ISTHMUS_REPL_H */
