/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The link engine: one per appliance, owned by the lcore that runs both
 * link-rx and link-tx. It joins the session (epochs, HELLO, heartbeats),
 * authentication (AES-256-GCM, replay window), reliability (receive window
 * and ACKs, sender scoreboard, RTO, retransmission), pacing at the link
 * capacity, reassembly with in-order release and per-stream credits.
 *
 * Frames come from a frame source and go to a frame sink. This release has
 * the synthetic ones ([synth] in the core map); the Kafka pipeline plugs in
 * the same way.
 *
 * Threading: ist_link_create()/free() on the main thread; rx/tx on the
 * owning lcore; counters are read by the mgmt thread (one writer each).
 *
 * Limits: link-rx and link-tx must run on the same lcore (they share the
 * session); one link per appliance; one fragment per DATA packet.
 */
#ifndef ISTHMUS_LINK_H
#define ISTHMUS_LINK_H

#include <stdint.h>

struct ist_link;
struct ist_role_env;

/** Counters, one writer (the owning lcore). */
struct ist_link_stats {
	uint64_t rx_pkts, rx_bytes;
	uint64_t
		rx_drop[16]; /* by -enum ist_wire_err (IST_WIRE_ERR_COUNT): bad magic, bad tag... */
	uint64_t rx_foreign; /* not UDP to our port */
	uint64_t rx_stale_epoch;
	uint64_t rx_dup;
	uint64_t tx_data, tx_retx, tx_ack, tx_credit, tx_hello, tx_hb;
	uint64_t tx_fail; /* the port refused the packet */
	uint64_t tx_bytes;
	uint64_t frames_sent;
	uint64_t frames_ok, frames_bad, frames_out_of_order;
	uint64_t bytes_delivered; /* frame bytes released in order */
	uint64_t peer_restarts, peer_deaths;
	uint64_t srtt_us, rto_us;
	uint64_t inflight;
	uint32_t state; /* enum ist_sess_state */
};

/**
 * Create the engine from the core map. @locality main thread (allocates).
 * @return the engine, or NULL with @p err naming the problem and the fix.
 */
struct ist_link *ist_link_create(const struct ist_role_env *env, char *err, size_t errlen);
void ist_link_free(struct ist_link *l);

/** The engine of this appliance, once created. */
struct ist_link *ist_link_get(void);

/** Receive and process one burst. @return packets handled. HOT. */
uint32_t ist_link_rx(struct ist_link *l, uint64_t now);

/** Session timers, ACKs, credits, retransmissions and new data. @return packets sent. HOT. */
uint32_t ist_link_tx(struct ist_link *l, uint64_t now);

/** A snapshot of the counters (any thread). */
void ist_link_stats_get(const struct ist_link *l, struct ist_link_stats *st);

#endif /* ISTHMUS_LINK_H */
