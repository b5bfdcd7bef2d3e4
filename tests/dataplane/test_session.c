/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Link session with a fake clock: handshake, heartbeats, peer death and
 * healing without a reset, restarts of either side detected by epoch,
 * stale packets dropped and answered by rate-limited HELLOs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "isthmus/wire.h"
#include "ist_session.h"

#define HZ       1000000000ull /* 1 tick = 1 ns */
#define MS       (HZ / 1000)
#define HELLO_MS 200
#define HB_MS    100
#define DEAD_MS  3000

static struct ist_session a, b;

static void init_both(uint64_t now)
{
	ist_session_init(&a, 0xaaaa0001, HZ, HELLO_MS, HB_MS, DEAD_MS, now);
	ist_session_init(&b, 0xbbbb0001, HZ, HELLO_MS, HB_MS, DEAD_MS, now);
}

/* Deliver a packet of @p type from @p from to @p to; returns the receiver's events. */
static unsigned int deliver(struct ist_session *from, struct ist_session *to, uint8_t type,
			    uint64_t now)
{
	ist_session_sent(from, type, now);
	return ist_session_rx(to, type, from->epoch, from->peer_epoch, now);
}

static void handshake(uint64_t now)
{
	unsigned int ev;

	assert_true(ist_session_tick(&a, now) & IST_SESS_EV_SEND_HELLO);
	ev = deliver(&a, &b, IST_WIRE_HELLO, now);
	assert_int_equal(ev, IST_SESS_EV_PEER_NEW | IST_SESS_EV_SEND_HELLO | IST_SESS_EV_ACCEPT);
	ev = deliver(&b, &a, IST_WIRE_HELLO, now + MS);
	assert_int_equal(ev, IST_SESS_EV_PEER_NEW | IST_SESS_EV_ESTABLISHED | IST_SESS_EV_ACCEPT);
	/* B learns A knows it from the first packet A addresses to B's epoch. */
	ev = deliver(&a, &b, IST_WIRE_DATA, now + 2 * MS);
	assert_int_equal(ev, IST_SESS_EV_ESTABLISHED | IST_SESS_EV_ACCEPT);
	assert_int_equal(a.state, IST_SESS_ESTABLISHED);
	assert_int_equal(b.state, IST_SESS_ESTABLISHED);
}

static void test_handshake(void **state)
{
	(void)state;
	init_both(0);
	handshake(0);
	assert_int_equal(a.peer_epoch, b.epoch);
	assert_int_equal(b.peer_epoch, a.epoch);
	assert_int_equal(a.peer_restarts, 0);
}

static void test_data_before_hello_is_dropped(void **state)
{
	unsigned int ev;

	(void)state;
	init_both(0);
	ev = deliver(&a, &b, IST_WIRE_DATA, 0);
	assert_false(ev & IST_SESS_EV_ACCEPT);
	assert_true(ev & IST_SESS_EV_SEND_HELLO);
	assert_int_equal(b.dropped_epoch, 1);
}

static void test_heartbeat_when_idle(void **state)
{
	uint64_t t = 10 * MS;

	(void)state;
	init_both(0);
	handshake(0);
	ist_session_sent(&a, IST_WIRE_ACK, t);
	assert_false(ist_session_tick(&a, t + (HB_MS - 1) * MS) & IST_SESS_EV_SEND_HB);
	assert_true(ist_session_tick(&a, t + HB_MS * MS) & IST_SESS_EV_SEND_HB);
	ist_session_sent(&a, IST_WIRE_HEARTBEAT, t + HB_MS * MS);
	assert_false(ist_session_tick(&a, t + HB_MS * MS + MS) & IST_SESS_EV_SEND_HB);
}

static void test_peer_death_and_healing_keeps_epochs(void **state)
{
	unsigned int ev;
	uint64_t t = 5 * MS;

	(void)state;
	init_both(0);
	handshake(0);
	ev = ist_session_tick(&a, t + DEAD_MS * MS);
	assert_true(ev & IST_SESS_EV_PEER_DEAD);
	assert_true(ev & IST_SESS_EV_SEND_HELLO);
	assert_int_equal(a.state, IST_SESS_DOWN);
	assert_int_equal(a.peer_deaths, 1);
	/* Death is reported once, HELLOs keep coming once per interval. */
	ist_session_sent(&a, IST_WIRE_HELLO, t + DEAD_MS * MS);
	ev = ist_session_tick(&a, t + DEAD_MS * MS + MS);
	assert_int_equal(ev, 0);
	assert_true(ist_session_tick(&a, t + (DEAD_MS + HELLO_MS) * MS) & IST_SESS_EV_SEND_HELLO);
	/* The partition heals: same epochs, so no reset of per-peer state. */
	ev = deliver(&b, &a, IST_WIRE_DATA, t + (DEAD_MS + 500) * MS);
	assert_int_equal(ev, IST_SESS_EV_ESTABLISHED | IST_SESS_EV_ACCEPT);
	assert_int_equal(a.peer_restarts, 0);
}

static void test_peer_restart_detected(void **state)
{
	unsigned int ev;
	uint32_t old_b = b.epoch;

	(void)state;
	init_both(0);
	old_b = b.epoch;
	handshake(0);
	/* B restarts with a new epoch and says HELLO. */
	ist_session_init(&b, 0xbbbb0002, HZ, HELLO_MS, HB_MS, DEAD_MS, 100 * MS);
	assert_true(ist_session_tick(&b, 100 * MS) & IST_SESS_EV_SEND_HELLO);
	ev = deliver(&b, &a, IST_WIRE_HELLO, 100 * MS);
	assert_true(ev & IST_SESS_EV_PEER_NEW);
	assert_true(ev & IST_SESS_EV_SEND_HELLO);
	assert_int_equal(a.peer_restarts, 1);
	assert_int_equal(a.state, IST_SESS_HELLO_SEEN);
	/* A late packet from B's old life is stale. */
	ev = ist_session_rx(&a, IST_WIRE_DATA, old_b, a.epoch, 101 * MS);
	assert_false(ev & IST_SESS_EV_ACCEPT);
	assert_int_equal(a.dropped_epoch, 1);
	ev = deliver(&a, &b, IST_WIRE_HELLO, 102 * MS);
	assert_true(ev & IST_SESS_EV_ESTABLISHED);
	ev = deliver(&b, &a, IST_WIRE_ACK, 103 * MS);
	assert_int_equal(ev, IST_SESS_EV_ESTABLISHED | IST_SESS_EV_ACCEPT);
}

static void test_packets_to_our_old_epoch_rate_limited_hello(void **state)
{
	unsigned int ev, hellos = 0;

	(void)state;
	init_both(0);
	handshake(0);
	/* A restarts; B keeps sending to A's old epoch. */
	ist_session_init(&a, 0xaaaa0002, HZ, HELLO_MS, HB_MS, DEAD_MS, 10 * MS);
	ist_session_sent(&a, IST_WIRE_HELLO, 10 * MS);
	for (unsigned int i = 0; i < 100; i++) {
		ev = ist_session_rx(&a, IST_WIRE_DATA, b.epoch, 0xaaaa0001, (11 + i) * MS);
		assert_false(ev & IST_SESS_EV_ACCEPT);
		if (ev & IST_SESS_EV_SEND_HELLO) {
			hellos++;
			ist_session_sent(&a, IST_WIRE_HELLO, (11 + i) * MS);
		}
	}
	/* 100 ms of stale data: no answering HELLO before the interval is up. */
	assert_int_equal(hellos, 0);
	ev = ist_session_rx(&a, IST_WIRE_DATA, b.epoch, 0xaaaa0001, 10 * MS + HELLO_MS * MS);
	assert_true(ev & IST_SESS_EV_SEND_HELLO);
	assert_int_equal(a.dropped_epoch, 101);
}

static void test_zero_epoch_rejected(void **state)
{
	(void)state;
	init_both(0);
	assert_int_equal(ist_session_rx(&a, IST_WIRE_HELLO, 0, 0, 0), 0);
	assert_int_equal(a.peer_epoch, 0);
	assert_string_equal(ist_session_state_name(IST_SESS_ESTABLISHED), "established");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_data_before_hello_is_dropped),
		cmocka_unit_test(test_heartbeat_when_idle),
		cmocka_unit_test(test_peer_death_and_healing_keeps_epochs),
		cmocka_unit_test(test_peer_restart_detected),
		cmocka_unit_test(test_packets_to_our_old_epoch_rate_limited_hello),
		cmocka_unit_test(test_zero_epoch_rejected),
	};

	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
