/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Link session: who the peer is and whether both sides agree on each other's
 * epoch. Pure logic over `now` (TSC); the link roles send what it asks for.
 *
 * Each side picks a random non-zero epoch at start. A packet carries the
 * sender's epoch and the epoch it believes the receiver has (peer_epoch).
 *   - HELLO from an epoch we did not know: the peer (re)started. We adopt
 *     its epoch, report IST_SESS_EV_PEER_NEW so the caller resets per-peer
 *     state (receive window, replay window, in-flight data, credits), and
 *     answer with our HELLO.
 *   - HELLO whose peer_epoch is ours: the peer knows us; established.
 *   - Any other packet from an unknown epoch, or addressed to an epoch that
 *     is not ours (we restarted and the peer does not know yet), is dropped
 *     and answered with a HELLO, at most once per hello interval.
 *   - Nothing heard for dead_ms: the peer is gone (IST_SESS_EV_PEER_DEAD);
 *     we go back to sending HELLOs.
 * Frames that were acknowledged are never lost by this: after a new epoch
 * the receiver's credits carry each stream's resume point.
 *
 * Threading: one session per link, owned by one lcore.
 */
#ifndef ISTHMUS_SESSION_H
#define ISTHMUS_SESSION_H

#include <stdbool.h>
#include <stdint.h>

enum ist_sess_state {
	IST_SESS_DOWN = 0,        /**< no peer heard (or it went silent) */
	IST_SESS_HELLO_SEEN = 1,  /**< we know the peer's epoch, it does not know ours yet */
	IST_SESS_ESTABLISHED = 2, /**< both sides agree */
};

/** Events returned by ist_session_rx() and ist_session_tick(). */
#define IST_SESS_EV_PEER_NEW    0x01 /**< peer epoch changed: reset per-peer state */
#define IST_SESS_EV_ESTABLISHED 0x02
#define IST_SESS_EV_PEER_DEAD   0x04
#define IST_SESS_EV_SEND_HELLO  0x08
#define IST_SESS_EV_SEND_HB     0x10
#define IST_SESS_EV_ACCEPT      0x20 /**< the packet belongs to this session: process it */

struct ist_session {
	uint32_t epoch;      /* ours */
	uint32_t peer_epoch; /* 0: none */
	enum ist_sess_state state;
	uint64_t hz;
	uint64_t hello_cycles, hb_cycles, dead_cycles;
	uint64_t last_rx;    /* TSC of the last packet accepted from the peer */
	uint64_t last_tx;    /* TSC of the last packet we sent, any type */
	uint64_t last_hello; /* TSC of the last HELLO we sent */
	/* counters: one writer (the owning lcore) */
	uint64_t peer_restarts;
	uint64_t peer_deaths;
	uint64_t dropped_epoch; /* packets from/for an epoch that is not current */
};

/**
 * Set up a session. @p epoch must be random and non-zero (the caller draws
 * it, so tests can choose). Intervals in milliseconds.
 */
void ist_session_init(struct ist_session *s, uint32_t epoch, uint64_t hz, uint32_t hello_ms,
		      uint32_t hb_ms, uint32_t dead_ms, uint64_t now);

/**
 * Account a received, authenticated packet.
 * @param type  enum ist_wire_type of the packet
 * @param epoch the sender's epoch from the header
 * @param peer_epoch the epoch the sender addressed
 * @return IST_SESS_EV_* flags; process the packet only if ACCEPT is set.
 * HOT.
 */
unsigned int ist_session_rx(struct ist_session *s, uint8_t type, uint32_t epoch,
			    uint32_t peer_epoch, uint64_t now);

/** Timers: HELLO while not established, heartbeat when idle, peer death. HOT. */
unsigned int ist_session_tick(struct ist_session *s, uint64_t now);

/** Note that a packet was sent (any type); HELLO also restarts the HELLO timer. */
void ist_session_sent(struct ist_session *s, uint8_t type, uint64_t now);

/** Name of a state, for status. */
const char *ist_session_state_name(enum ist_sess_state st);

#endif /* ISTHMUS_SESSION_H */
