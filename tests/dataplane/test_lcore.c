/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Role scheduling on one lcore: round robin order, work accounting, pause and
 * resume over the command ring, idle back-off with a fake clock, drain.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "isthmus/ipc.h"
#include "ist_lcore.h"

#define LOG_MAX 64

static char call_log[LOG_MAX];
static unsigned int n_calls;

struct fake_role {
	char tag;
	uint32_t work_left; /* poll() reports one unit while this is > 0 */
	uint32_t drain_left;
	uint64_t last_now;
};

static uint32_t fake_poll(void *state, uint64_t now)
{
	struct fake_role *fr = state;

	if (n_calls < LOG_MAX - 1)
		call_log[n_calls++] = fr->tag;
	fr->last_now = now;
	if (fr->work_left == 0)
		return 0;
	fr->work_left--;
	return 1;
}

static uint32_t fake_drain(void *state, uint64_t now)
{
	struct fake_role *fr = state;

	(void)now;
	if (fr->drain_left == 0)
		return 0;
	fr->drain_left--;
	return 1;
}

static const struct ist_role_ops fake_ops = {
	.name = "fake",
	.poll = fake_poll,
	.drain = fake_drain,
};

static struct fake_role roles[3];
static struct ist_lcore lc;

static int setup(void **state)
{
	(void)state;
	memset(&lc, 0, sizeof(lc));
	memset(roles, 0, sizeof(roles));
	memset(call_log, 0, sizeof(call_log));
	n_calls = 0;
	for (unsigned int i = 0; i < 3; i++) {
		roles[i].tag = 'a' + i;
		lc.roles[i].ops = &fake_ops;
		lc.roles[i].state = &roles[i];
	}
	lc.n_roles = 3;
	lc.idle.spins = 2;
	lc.idle.left = 2;
	lc.idle.max_us = 100;
	return ist_lcore_rings_init(&lc);
}

static int teardown(void **state)
{
	(void)state;
	ist_lcore_rings_free(&lc);
	return 0;
}

static void test_round_robin_order(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < 3; i++)
		ist_lcore_step(&lc, 1000 + i);
	assert_string_equal(call_log, "abcabcabc");
	assert_int_equal(roles[2].last_now, 1002);
	assert_int_equal(lc.loops, 3);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(lc.roles[i].polls, 3);
}

static void test_work_accounting(void **state)
{
	(void)state;
	roles[1].work_left = 2;
	ist_lcore_step(&lc, 1);
	ist_lcore_step(&lc, 2);
	ist_lcore_step(&lc, 3);
	assert_int_equal(lc.roles[0].work, 0);
	assert_int_equal(lc.roles[1].work, 2);
	assert_int_equal(lc.busy_loops, 2);
}

static void test_idle_backoff_sequence(void **state)
{
	/* Two idle loops of pausing, then sleeps doubling up to the bound. */
	static const uint32_t want[] = {0, 0, 1, 2, 4, 8, 16, 32, 64, 100, 100};

	(void)state;
	for (unsigned int i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(ist_lcore_step(&lc, i), want[i]);
	/* Work resets the back-off at once. */
	roles[0].work_left = 1;
	assert_int_equal(ist_lcore_step(&lc, 100), 0);
	assert_int_equal(ist_lcore_step(&lc, 101), 0);
	assert_int_equal(ist_lcore_step(&lc, 102), 0);
	assert_int_equal(ist_lcore_step(&lc, 103), 1);
}

static void test_busy_poll_never_sleeps(void **state)
{
	(void)state;
	lc.idle.max_us = 0;
	for (unsigned int i = 0; i < 1000; i++)
		assert_int_equal(ist_lcore_step(&lc, i), 0);
}

static int32_t send_cmd(uint32_t op, uint32_t seq, uint32_t arg)
{
	void *w = NULL;
	uint32_t rseq;
	int32_t status;

	/* Start at a command boundary so the count below is exact. */
	lc.loops = 0;
	assert_int_equal(rte_ring_sp_enqueue(lc.cmd_ring, (void *)ist_lcore_cmd_pack(op, seq, arg)),
			 0);
	/* Commands are looked at every IST_LCORE_CMD_EVERY loops, not more often. */
	for (unsigned int i = 0; i < IST_LCORE_CMD_EVERY - 1; i++) {
		ist_lcore_step(&lc, i);
		assert_int_not_equal(rte_ring_sc_dequeue(lc.reply_ring, &w), 0);
	}
	ist_lcore_step(&lc, IST_LCORE_CMD_EVERY);
	assert_int_equal(rte_ring_sc_dequeue(lc.reply_ring, &w), 0);
	ist_lcore_reply_unpack((uintptr_t)w, &rseq, &status);
	assert_int_equal(rseq, seq);
	return status;
}

static void test_pause_resume_via_ring(void **state)
{
	uint64_t polls;

	(void)state;
	assert_int_equal(send_cmd(IST_LCORE_OP_PAUSE, 7, 0), 0);
	assert_true(lc.paused);
	polls = lc.roles[0].polls;
	/* A paused lcore polls no role and sleeps a fixed short time. */
	assert_int_equal(ist_lcore_step(&lc, 0), 1000);
	assert_int_equal(lc.roles[0].polls, polls);
	assert_int_equal(send_cmd(IST_LCORE_OP_RESUME, 8, 0), 0);
	assert_false(lc.paused);
	ist_lcore_step(&lc, 0);
	assert_int_equal(lc.roles[0].polls, polls + 1);
	assert_int_equal(lc.cmds_applied, 2);
}

static void test_set_idle_sleep_and_bad_op(void **state)
{
	(void)state;
	assert_int_equal(send_cmd(IST_LCORE_OP_SET_IDLE_SLEEP, 9, 3), 0);
	assert_int_equal(lc.idle.max_us, 3);
	assert_int_equal(send_cmd(99, 10, 0), -EINVAL);
}

static void test_cmd_word_roundtrip(void **state)
{
	uint32_t op, seq, arg;
	int32_t st;

	(void)state;
	ist_lcore_cmd_unpack(ist_lcore_cmd_pack(3, 0xabcdef, 100000), &op, &seq, &arg);
	assert_int_equal(op, 3);
	assert_int_equal(seq, 0xabcdef);
	assert_int_equal(arg, 100000);
	ist_lcore_reply_unpack(ist_lcore_reply_pack(0x123456, -ETIMEDOUT), &seq, &st);
	assert_int_equal(seq, 0x123456);
	assert_int_equal(st, -ETIMEDOUT);
}

static void test_drain_until_idle(void **state)
{
	(void)state;
	roles[0].drain_left = 3;
	roles[2].drain_left = 5;
	ist_lcore_drain(&lc, 0, 100);
	assert_int_equal(roles[0].drain_left, 0);
	assert_int_equal(roles[2].drain_left, 0);
	/* Bounded: a role that never drains cannot hold shutdown forever. */
	roles[1].drain_left = 1000;
	ist_lcore_drain(&lc, 0, 10);
	assert_int_equal(roles[1].drain_left, 990);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_robin_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_work_accounting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_backoff_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_poll_never_sleeps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume_via_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_idle_sleep_and_bad_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmd_word_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_until_idle, setup, teardown),
	};

	return cmocka_run_group_tests_name("lcore", tests, NULL, NULL);
}
