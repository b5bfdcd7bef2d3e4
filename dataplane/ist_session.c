/* SPDX-License-Identifier: BSD-3-Clause */
#include "isthmus/wire.h"
#include "ist_session.h"

void ist_session_init(struct ist_session *s, uint32_t epoch, uint64_t hz, uint32_t hello_ms,
		      uint32_t hb_ms, uint32_t dead_ms, uint64_t now)
{
	*s = (struct ist_session){
		.epoch = epoch,
		.hz = hz,
		.hello_cycles = hz * hello_ms / 1000,
		.hb_cycles = hz * hb_ms / 1000,
		.dead_cycles = hz * dead_ms / 1000,
		.last_rx = now,
		.last_tx = now,
		/* So the first tick sends a HELLO at once. */
		.last_hello = now - hz * hello_ms / 1000,
	};
}

/* At most one answering HELLO per interval: a flood of stale packets must not
 * turn into a flood of HELLOs. */
static unsigned int hello_due(const struct ist_session *s, uint64_t now)
{
	return now - s->last_hello >= s->hello_cycles ? IST_SESS_EV_SEND_HELLO : 0;
}

/* HOT */
unsigned int ist_session_rx(struct ist_session *s, uint8_t type, uint32_t epoch,
			    uint32_t peer_epoch, uint64_t now)
{
	unsigned int ev = 0;

	if (epoch == 0) {
		s->dropped_epoch++;
		return 0;
	}
	if (type == IST_WIRE_HELLO) {
		if (epoch != s->peer_epoch) {
			if (s->peer_epoch != 0)
				s->peer_restarts++;
			s->peer_epoch = epoch;
			s->state = IST_SESS_HELLO_SEEN;
			ev |= IST_SESS_EV_PEER_NEW;
		}
		s->last_rx = now;
		if (peer_epoch == s->epoch) {
			if (s->state != IST_SESS_ESTABLISHED)
				ev |= IST_SESS_EV_ESTABLISHED;
			s->state = IST_SESS_ESTABLISHED;
		} else {
			/* The peer does not know us (yet): tell it, now. */
			ev |= IST_SESS_EV_SEND_HELLO;
		}
		return ev | IST_SESS_EV_ACCEPT;
	}
	if (epoch != s->peer_epoch || peer_epoch != s->epoch) {
		s->dropped_epoch++;
		return hello_due(s, now);
	}
	s->last_rx = now;
	if (s->state != IST_SESS_ESTABLISHED) {
		/* Data addressed to our epoch proves the peer saw our HELLO. */
		s->state = IST_SESS_ESTABLISHED;
		ev |= IST_SESS_EV_ESTABLISHED;
	}
	return ev | IST_SESS_EV_ACCEPT;
}

/* HOT */
unsigned int ist_session_tick(struct ist_session *s, uint64_t now)
{
	unsigned int ev = 0;

	if (s->state != IST_SESS_DOWN && now - s->last_rx >= s->dead_cycles) {
		s->state = IST_SESS_DOWN;
		s->peer_deaths++;
		ev |= IST_SESS_EV_PEER_DEAD;
	}
	if (s->state != IST_SESS_ESTABLISHED)
		return ev | hello_due(s, now);
	if (now - s->last_tx >= s->hb_cycles)
		ev |= IST_SESS_EV_SEND_HB;
	return ev;
}

void ist_session_sent(struct ist_session *s, uint8_t type, uint64_t now)
{
	s->last_tx = now;
	if (type == IST_WIRE_HELLO)
		s->last_hello = now;
}

const char *ist_session_state_name(enum ist_sess_state st)
{
	switch (st) {
	case IST_SESS_DOWN:
		return "down";
	case IST_SESS_HELLO_SEEN:
		return "hello";
	case IST_SESS_ESTABLISHED:
		return "established";
	}
	return "unknown";
}
