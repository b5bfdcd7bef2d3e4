/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Credits: the receiver's grant math (next_seq, limit_seq from releases),
 * which grants go out when (changes, repeat pass, round-robin restatement
 * in messages of at most IST_WIRE_MAX_CREDITS), and the sender's absolute,
 * monotonic view with resume points after an epoch reset.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ist_credit.h"
#include "ist_reasm.h"

#define HZ 1000000ull /* one cycle = one microsecond */

static uint32_t n_delivered;

static bool deliver(void *arg, uint32_t stream_id, uint32_t frame_seq, const uint8_t *frame,
		    uint32_t len)
{
	(void)arg;
	(void)stream_id;
	(void)frame_seq;
	(void)frame;
	(void)len;
	n_delivered++;
	return true;
}

static struct ist_reasm *mk(uint32_t n_streams, uint32_t slots)
{
	struct ist_reasm_conf c = {
		.hz = HZ,
		.n_streams = n_streams,
		.slots = slots,
		.slot_size = 256,
		.deliver = deliver,
		.credit_delay_us = 100,
		.credit_repeat_us = 10000,
		.credit_refresh_us = 1000000,
	};
	struct ist_reasm *r = ist_reasm_create(&c, NULL);

	assert_non_null(r);
	return r;
}

static void one(struct ist_reasm *r, uint32_t stream, uint32_t seq)
{
	static const uint8_t b[16];
	struct ist_frag f = {.stream_id = stream,
			     .frame_seq = seq,
			     .frame_len = 16,
			     .frag_len = 16,
			     .frag_cnt = 1,
			     .data = b};

	assert_int_equal(ist_reasm_frag_rx(r, &f), IST_REASM_OK);
}

static void test_grant_math(void **state)
{
	struct ist_reasm *r = mk(2, 8);
	struct ist_credit c;

	(void)state;
	assert_int_equal(ist_credit_rx_grant(r, 1, &c), 0);
	assert_int_equal(c.stream_id, 1);
	assert_int_equal(c.next_seq, 0);
	assert_int_equal(c.limit_seq, 8);
	assert_int_equal(ist_credit_rx_grant(r, 2, &c), -EINVAL);
	one(r, 1, 0);
	one(r, 1, 1);
	one(r, 1, 2);
	one(r, 1, 5); /* complete, not deliverable: counts against nothing */
	ist_credit_rx_grant(r, 1, &c);
	assert_int_equal(c.next_seq, 3);
	assert_int_equal(c.limit_seq, 8); /* 3 held by the consumer: 3 + 5 free */
	assert_int_equal(ist_reasm_release(r, 1, 0, 0), 0);
	ist_credit_rx_grant(r, 1, &c);
	assert_int_equal(c.limit_seq, 9);
	assert_int_equal(ist_reasm_release(r, 1, 2, 0), 0); /* 1 still held */
	ist_credit_rx_grant(r, 1, &c);
	assert_int_equal(c.limit_seq, 9);
	assert_int_equal(ist_reasm_release(r, 1, 1, 0), 0);
	ist_credit_rx_grant(r, 1, &c);
	assert_int_equal(c.next_seq, 3);
	assert_int_equal(c.limit_seq, 11);
	ist_reasm_free(r);
}

static void test_when_grants_go_out(void **state)
{
	struct ist_reasm *r = mk(3, 4);
	struct ist_credit out[IST_WIRE_MAX_CREDITS];
	uint64_t now = 0;

	(void)state;
	/* at start every stream is stated */
	assert_true(ist_credit_rx_due(r, now));
	assert_int_equal(ist_credit_rx_deadline(r), 0);
	assert_int_equal(ist_credit_rx_build(r, out, IST_WIRE_MAX_CREDITS, now), 3);
	assert_int_equal(out[0].stream_id, 0);
	assert_int_equal(out[2].stream_id, 2);
	assert_int_equal(out[2].limit_seq, 4);
	assert_false(ist_credit_rx_due(r, now));
	assert_int_equal(ist_credit_rx_deadline(r), 1000000); /* next restatement */

	/* a release queues its stream; it goes out after 100 us of coalescing */
	now = 1000;
	one(r, 2, 0);
	one(r, 0, 0);
	assert_int_equal(ist_reasm_release(r, 2, 0, now), 0);
	assert_int_equal(ist_reasm_release(r, 0, 0, now + 10), 0);
	assert_false(ist_credit_rx_due(r, now + 99));
	assert_int_equal(ist_credit_rx_deadline(r), now + 100);
	assert_true(ist_credit_rx_due(r, now + 100));
	assert_int_equal(ist_credit_rx_build(r, out, IST_WIRE_MAX_CREDITS, now + 100), 2);
	assert_int_equal(out[0].stream_id, 2); /* oldest change first */
	assert_int_equal(out[0].limit_seq, 5);
	assert_int_equal(out[0].next_seq, 1);
	assert_int_equal(out[1].stream_id, 0);
	assert_false(ist_credit_rx_due(r, now + 200));

	/* and once more a repeat period later, in case that CREDIT was lost */
	assert_int_equal(ist_credit_rx_deadline(r), now + 100 + 10000);
	assert_false(ist_credit_rx_due(r, now + 10099));
	assert_true(ist_credit_rx_due(r, now + 10100));
	assert_int_equal(ist_credit_rx_build(r, out, IST_WIRE_MAX_CREDITS, now + 10100), 2);
	assert_int_equal(out[0].stream_id, 0); /* by stream id in the repeat pass */
	assert_int_equal(out[1].stream_id, 2);
	assert_false(ist_credit_rx_due(r, now + 30000));

	/* then only the periodic restatement */
	assert_int_equal(ist_credit_rx_deadline(r), 1000000);
	assert_true(ist_credit_rx_due(r, 1000000));
	assert_int_equal(ist_credit_rx_build(r, out, IST_WIRE_MAX_CREDITS, 1000000), 3);
	assert_int_equal(r->cr.msgs, 4);
	assert_int_equal(r->cr.entries, 10);
	ist_reasm_free(r);
}

static void test_round_robin_messages(void **state)
{
	struct ist_reasm *r = mk(200, 2);
	struct ist_credit out[IST_WIRE_MAX_CREDITS];
	uint8_t seen[200];
	uint32_t n, i, total = 0, msgs = 0, s;

	(void)state;
	memset(seen, 0, sizeof(seen));
	while (ist_credit_rx_due(r, 0)) {
		n = ist_credit_rx_build(r, out, IST_WIRE_MAX_CREDITS, 0);
		assert_true(n >= 1 && n <= IST_WIRE_MAX_CREDITS);
		for (i = 0; i < n; i++)
			seen[out[i].stream_id]++;
		total += n;
		msgs++;
	}
	assert_int_equal(total, 200);
	assert_int_equal(msgs, 4); /* 64 + 64 + 64 + 8 */
	for (i = 0; i < 200; i++)
		assert_int_equal(seen[i], 1);

	/* 100 changed streams: a full message at once, the rest after coalescing */
	for (s = 0; s < 100; s++) {
		one(r, s, 0);
		assert_int_equal(ist_reasm_release(r, s, 0, 50), 0);
	}
	assert_true(ist_credit_rx_due(r, 50));
	assert_int_equal(ist_credit_rx_build(r, out, IST_WIRE_MAX_CREDITS, 50), 64);
	assert_false(ist_credit_rx_due(r, 50));
	assert_true(ist_credit_rx_due(r, 150));
	assert_int_equal(ist_credit_rx_build(r, out, IST_WIRE_MAX_CREDITS, 150), 36);
	assert_int_equal(out[35].stream_id, 99);
	/* a stream queued twice goes out once */
	one(r, 7, 1);
	one(r, 7, 2);
	assert_int_equal(ist_reasm_release(r, 7, 1, 200), 0);
	assert_int_equal(ist_reasm_release(r, 7, 2, 200), 0);
	assert_int_equal(ist_credit_rx_build(r, out, IST_WIRE_MAX_CREDITS, 300), 1);
	assert_int_equal(out[0].limit_seq, 5);
	ist_reasm_free(r);
}

static struct ist_credit cr(uint32_t s, uint32_t next, uint32_t limit)
{
	struct ist_credit c = {.stream_id = s, .next_seq = next, .limit_seq = limit};

	return c;
}

static void test_tx_absolute(void **state)
{
	struct ist_credit_tx *ct = ist_credit_tx_create(4, NULL);
	struct ist_credit c[3];

	(void)state;
	assert_non_null(ct);
	/* nothing may be sent before a grant */
	assert_false(ist_credit_tx_can_send(ct, 0, 0));
	c[0] = cr(0, 0, 8);
	assert_int_equal(ist_credit_tx_update(ct, c, 1), 1);
	assert_true(ist_credit_tx_can_send(ct, 0, 7));
	assert_false(ist_credit_tx_can_send(ct, 0, 8));
	assert_false(ist_credit_tx_can_send(ct, 1, 0));
	assert_false(ist_credit_tx_can_send(ct, 9, 0));
	/* larger wins; an older, smaller one (reordered) is ignored; repeats change nothing */
	c[0] = cr(0, 2, 10);
	c[1] = cr(0, 1, 9);
	c[2] = cr(0, 2, 10);
	assert_int_equal(ist_credit_tx_update(ct, c, 3), 1);
	assert_int_equal(ct->st[0].limit_seq, 10);
	assert_int_equal(ct->st[0].next_seq, 2);
	assert_int_equal(ct->stale, 2);
	/* bad entries */
	c[0] = cr(4, 0, 1);
	c[1] = cr(1, 5, 4);
	assert_int_equal(ist_credit_tx_update(ct, c, 2), 0);
	assert_int_equal(ct->bad, 2);
	/* serial arithmetic across 2^32 */
	c[0] = cr(2, UINT32_MAX - 3, UINT32_MAX - 1);
	c[1] = cr(2, UINT32_MAX, 4);
	assert_int_equal(ist_credit_tx_update(ct, c, 2), 2);
	assert_true(ist_credit_tx_can_send(ct, 2, UINT32_MAX));
	assert_true(ist_credit_tx_can_send(ct, 2, 3));
	assert_false(ist_credit_tx_can_send(ct, 2, 4));
	c[0] = cr(2, UINT32_MAX - 3, UINT32_MAX - 1); /* old again */
	assert_int_equal(ist_credit_tx_update(ct, c, 1), 0);
	assert_true(ist_credit_tx_can_send(ct, 2, 3));
	ist_credit_tx_free(ct);
	assert_null(ist_credit_tx_create(0, NULL));
	assert_null(ist_credit_tx_create(4097, NULL));
}

static void test_tx_epoch_resume(void **state)
{
	struct ist_credit_tx *ct = ist_credit_tx_create(2, NULL);
	struct ist_credit c[2];
	uint32_t seq = 0;

	(void)state;
	c[0] = cr(0, 0, 8);
	c[1] = cr(1, 0, 8);
	ist_credit_tx_update(ct, c, 2);
	/* the first grant of an epoch is a resume point, taken once */
	assert_int_equal(ist_credit_tx_resume(ct, 0, &seq), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(ist_credit_tx_resume(ct, 0, &seq), -EAGAIN);
	c[0] = cr(0, 40, 48);
	ist_credit_tx_update(ct, c, 1);
	assert_int_equal(ist_credit_tx_resume(ct, 0, &seq), -EAGAIN);

	/* the receiver restarted and lost frames 30..39: next_seq goes back */
	ist_credit_tx_reset(ct);
	assert_false(ist_credit_tx_can_send(ct, 0, 30));
	assert_int_equal(ist_credit_tx_resume(ct, 0, &seq), -EAGAIN);
	c[0] = cr(0, 30, 38);
	assert_int_equal(ist_credit_tx_update(ct, c, 1), 1);
	assert_true(ist_credit_tx_can_send(ct, 0, 30));
	assert_false(ist_credit_tx_can_send(ct, 0, 40));
	assert_int_equal(ist_credit_tx_resume(ct, 0, &seq), 0);
	assert_int_equal(seq, 30);
	/* within the new epoch the usual monotonic rule holds again */
	c[0] = cr(0, 20, 28);
	assert_int_equal(ist_credit_tx_update(ct, c, 1), 0);
	assert_int_equal(ct->st[0].limit_seq, 38);
	assert_int_equal(ist_credit_tx_resume(ct, 1, &seq), -EAGAIN);
	assert_int_equal(ist_credit_tx_resume(ct, 2, &seq), -EINVAL);
	ist_credit_tx_free(ct);
}

static void test_end_to_end_grant(void **state)
{
	/* receiver grants flow into the sender unchanged */
	struct ist_reasm *r = mk(2, 4);
	struct ist_credit_tx *ct = ist_credit_tx_create(2, NULL);
	struct ist_credit out[IST_WIRE_MAX_CREDITS];
	uint32_t n, seq;

	(void)state;
	n = ist_credit_rx_build(r, out, IST_WIRE_MAX_CREDITS, 0);
	ist_credit_tx_update(ct, out, n);
	for (seq = 0; seq < 4; seq++) {
		assert_true(ist_credit_tx_can_send(ct, 1, seq));
		one(r, 1, seq);
	}
	assert_false(ist_credit_tx_can_send(ct, 1, 4));
	assert_int_equal(ist_reasm_release(r, 1, 0, 10), 0);
	n = ist_credit_rx_build(r, out, IST_WIRE_MAX_CREDITS, 200);
	assert_int_equal(n, 1);
	ist_credit_tx_update(ct, out, n);
	assert_true(ist_credit_tx_can_send(ct, 1, 4));
	assert_false(ist_credit_tx_can_send(ct, 1, 5));
	ist_credit_tx_free(ct);
	ist_reasm_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grant_math),
		cmocka_unit_test(test_when_grants_go_out),
		cmocka_unit_test(test_round_robin_messages),
		cmocka_unit_test(test_tx_absolute),
		cmocka_unit_test(test_tx_epoch_resume),
		cmocka_unit_test(test_end_to_end_grant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
