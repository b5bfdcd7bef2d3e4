/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receiver packet tracking with a fake clock: in-order and reordered
 * arrival, duplicates, the ACK policy (every 2, gap -> at once, delayed-ACK
 * timer), ACK ranges (exact and capped), window slides, epoch reset, and a
 * randomized run checked against a brute-force model.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ist_rxwin.h"

#define HZ 1000000ull /* one cycle = one microsecond */

static struct ist_rxwin *mk(uint32_t window)
{
	struct ist_rxwin_conf c = {.hz = HZ, .window = window};
	struct ist_rxwin *w = ist_rxwin_create(&c, NULL);

	assert_non_null(w);
	return w;
}

static void test_create(void **state)
{
	struct ist_rxwin_conf c = {.hz = HZ};
	struct ist_rxwin *w;

	(void)state;
	w = ist_rxwin_create(&c, NULL);
	assert_non_null(w);
	assert_int_equal(w->window, IST_RXWIN_MIN_WINDOW);
	assert_int_equal(w->cum, 1);
	ist_rxwin_free(w);
	c.window = 1024; /* below the minimum: raised */
	w = ist_rxwin_create(&c, NULL);
	assert_non_null(w);
	assert_int_equal(w->window, 4096);
	ist_rxwin_free(w);
	c.window = 5000;
	assert_null(ist_rxwin_create(&c, NULL));
	assert_int_equal(errno, EINVAL);
	c.window = 4096;
	c.hz = 0;
	assert_null(ist_rxwin_create(&c, NULL));
	/* sizing: 2 x BDP packets, at least 4096 */
	assert_int_equal(ist_rxwin_window(1000, 100, 1500), 32768);
	assert_int_equal(ist_rxwin_window(10, 10, 1500), 4096);
	assert_int_equal(ist_rxwin_window(400000, 2000, 1500), IST_RXWIN_MAX_WINDOW);
	assert_int_equal(ist_rxwin_memsize(4096), 512 + ((sizeof(struct ist_rxwin) + 63) & ~63ul));
}

static void test_in_order(void **state)
{
	struct ist_rxwin *w = mk(0);
	struct ist_ack ack;
	uint64_t pn, now = 1000;

	(void)state;
	for (pn = 1; pn <= 10; pn++) {
		assert_int_equal(ist_rxwin_rx(w, pn, true, now), 0);
		/* every second DATA packet makes an ACK due */
		assert_int_equal(ist_rxwin_ack_due(w, now), pn % 2 == 0);
		if (pn % 2 == 0) {
			assert_int_equal(ist_rxwin_ack_deadline(w), 0);
			ist_rxwin_ack_build(w, &ack, now);
			assert_int_equal(ack.cum, pn + 1);
			assert_int_equal(ack.largest, pn);
			assert_int_equal(ack.n_ranges, 0);
			assert_false(ist_rxwin_ack_due(w, now));
		}
	}
	assert_int_equal(w->rx_new, 10);
	assert_int_equal(w->acks, 5);
	ist_rxwin_free(w);
}

static void test_delayed_ack_timer(void **state)
{
	struct ist_rxwin *w = mk(0);
	struct ist_ack ack;

	(void)state;
	/* not ack-eliciting: never due by itself */
	assert_int_equal(ist_rxwin_rx(w, 1, false, 100), 0);
	assert_int_equal(ist_rxwin_rx(w, 2, false, 100), 0);
	assert_int_equal(ist_rxwin_rx(w, 3, false, 100), 0);
	assert_false(ist_rxwin_ack_due(w, 1000000));
	assert_int_equal(ist_rxwin_ack_deadline(w), UINT64_MAX);

	/* one DATA arms the 1 ms timer */
	assert_int_equal(ist_rxwin_rx(w, 4, true, 500), 0);
	assert_int_equal(ist_rxwin_ack_deadline(w), 1500);
	assert_false(ist_rxwin_ack_due(w, 1499));
	assert_true(ist_rxwin_ack_due(w, 1500));
	/* the delay is measured from the arrival of `largest` */
	ist_rxwin_ack_build(w, &ack, 1750);
	assert_int_equal(ack.delay_us, 1250);
	assert_int_equal(ack.cum, 5);
	assert_int_equal(ack.largest, 4);

	/* a second DATA before the timer makes it due at once */
	assert_int_equal(ist_rxwin_rx(w, 5, true, 2000), 0);
	assert_int_equal(ist_rxwin_rx(w, 6, true, 2100), 0);
	assert_true(ist_rxwin_ack_due(w, 2100));
	ist_rxwin_free(w);

	/* configurable delay and count */
	{
		struct ist_rxwin_conf c = {.hz = HZ, .ack_every = 3, .ack_delay_us = 250};

		w = ist_rxwin_create(&c, NULL);
		assert_non_null(w);
		assert_int_equal(ist_rxwin_rx(w, 1, true, 0), 0);
		assert_int_equal(ist_rxwin_rx(w, 2, true, 0), 0);
		assert_false(ist_rxwin_ack_due(w, 0));
		assert_true(ist_rxwin_ack_due(w, 250));
		assert_int_equal(ist_rxwin_rx(w, 3, true, 0), 0);
		assert_true(ist_rxwin_ack_due(w, 0));
		ist_rxwin_free(w);
	}
}

static void test_gap_and_reorder(void **state)
{
	struct ist_rxwin *w = mk(0);
	struct ist_ack ack;

	(void)state;
	assert_int_equal(ist_rxwin_rx(w, 1, true, 0), 0);
	assert_int_equal(ist_rxwin_rx(w, 2, true, 0), 0);
	ist_rxwin_ack_build(w, &ack, 0);
	/* 3 is missing: 4 opens a gap, the ACK is due at once */
	assert_int_equal(ist_rxwin_rx(w, 4, true, 10), 0);
	assert_true(ist_rxwin_ack_due(w, 10));
	ist_rxwin_ack_build(w, &ack, 10);
	assert_int_equal(ack.cum, 3);
	assert_int_equal(ack.largest, 4);
	assert_int_equal(ack.n_ranges, 1);
	assert_int_equal(ack.ranges[0].start, 4);
	assert_int_equal(ack.ranges[0].end, 4);
	/* 5 is in order after 4: no immediate ACK */
	assert_int_equal(ist_rxwin_rx(w, 5, true, 20), 0);
	assert_false(ist_rxwin_ack_due(w, 20));
	/* 3 arrives late: fills the hole, out of order, ACK at once */
	assert_int_equal(ist_rxwin_rx(w, 3, true, 30), 0);
	assert_true(ist_rxwin_ack_due(w, 30));
	ist_rxwin_ack_build(w, &ack, 30);
	assert_int_equal(ack.cum, 6);
	assert_int_equal(ack.largest, 5);
	assert_int_equal(ack.n_ranges, 0);
	assert_int_equal(w->reorder, 1);
	/* a gap opened by a non-eliciting packet makes the next DATA's ACK immediate */
	assert_int_equal(ist_rxwin_rx(w, 8, false, 40), 0);
	assert_false(ist_rxwin_ack_due(w, 40));
	assert_int_equal(ist_rxwin_rx(w, 9, true, 41), 0);
	assert_true(ist_rxwin_ack_due(w, 41));
	ist_rxwin_free(w);
}

static void test_duplicates(void **state)
{
	struct ist_rxwin *w = mk(0);

	(void)state;
	assert_int_equal(ist_rxwin_rx(w, 1, true, 0), 0);
	assert_int_equal(ist_rxwin_rx(w, 3, true, 0), 0);
	assert_int_equal(ist_rxwin_rx(w, 1, true, 0), -EALREADY); /* below cum */
	assert_int_equal(ist_rxwin_rx(w, 3, true, 0), -EALREADY); /* in the bitmap */
	assert_int_equal(ist_rxwin_rx(w, 0, true, 0), -EINVAL);
	assert_int_equal(w->rx_stale, 1);
	assert_int_equal(w->rx_dup, 1);
	assert_int_equal(w->rx_bad, 1);
	assert_int_equal(w->rx_new, 2);
	/* duplicates do not count towards the ACK policy */
	assert_int_equal(w->unacked, 2);
	ist_rxwin_free(w);
}

static void test_ranges_capped(void **state)
{
	struct ist_rxwin *w = mk(0);
	struct ist_ack ack;
	uint64_t pn;
	int i;

	(void)state;
	/* every odd pn 1..81: cum 2, 40 single-pn ranges, 16 reported, highest first */
	for (pn = 1; pn <= 81; pn += 2)
		assert_int_equal(ist_rxwin_rx(w, pn, true, 0), 0);
	ist_rxwin_ack_build(w, &ack, 0);
	assert_int_equal(ack.cum, 2);
	assert_int_equal(ack.largest, 81);
	assert_int_equal(ack.n_ranges, IST_WIRE_MAX_SACK);
	for (i = 0; i < IST_WIRE_MAX_SACK; i++) {
		assert_int_equal(ack.ranges[i].start, 81 - 2 * (uint64_t)i);
		assert_int_equal(ack.ranges[i].end, 81 - 2 * (uint64_t)i);
	}
	ist_rxwin_free(w);

	/* wide ranges across word boundaries and the ring's wrap */
	w = mk(0);
	for (pn = 1; pn <= 4000; pn++)
		assert_int_equal(ist_rxwin_rx(w, pn, true, 0), 0);
	for (pn = 4002; pn <= 4100; pn++) /* wraps the 4096-bit ring */
		assert_int_equal(ist_rxwin_rx(w, pn, true, 0), 0);
	for (pn = 4200; pn <= 8000; pn++)
		assert_int_equal(ist_rxwin_rx(w, pn, true, 0), 0);
	ist_rxwin_ack_build(w, &ack, 0);
	assert_int_equal(ack.cum, 4001);
	assert_int_equal(ack.n_ranges, 2);
	assert_int_equal(ack.ranges[0].start, 4200);
	assert_int_equal(ack.ranges[0].end, 8000);
	assert_int_equal(ack.ranges[1].start, 4002);
	assert_int_equal(ack.ranges[1].end, 4100);
	ist_rxwin_free(w);
}

static void test_far_jump(void **state)
{
	struct ist_rxwin *w = mk(0);
	struct ist_ack ack;
	uint64_t pn;

	(void)state;
	for (pn = 1; pn <= 10; pn++)
		assert_int_equal(ist_rxwin_rx(w, pn, true, 0), 0);
	assert_int_equal(ist_rxwin_rx(w, 20, true, 0), 0);
	/* 5010 needs the window to start at 5010 - 4095 = 915 */
	assert_int_equal(ist_rxwin_rx(w, 5010, true, 0), 0);
	assert_int_equal(w->cum, 915);
	/* 11..914 minus the received 20 fell out without arriving */
	assert_int_equal(w->slid_lost, 914 - 11 + 1 - 1);
	ist_rxwin_ack_build(w, &ack, 0);
	assert_int_equal(ack.cum, 915);
	assert_int_equal(ack.largest, 5010);
	assert_int_equal(ack.n_ranges, 1);
	assert_int_equal(ack.ranges[0].start, 5010);
	/* anything below the window is dropped */
	assert_int_equal(ist_rxwin_rx(w, 500, true, 0), -EALREADY);
	/* received pns right at the new window start advance cum */
	assert_int_equal(ist_rxwin_rx(w, 916, true, 0), 0);
	assert_int_equal(ist_rxwin_rx(w, 915, true, 0), 0);
	assert_int_equal(w->cum, 917);

	/* a jump of more than a whole window clears it */
	assert_int_equal(ist_rxwin_rx(w, 1000000, true, 0), 0);
	assert_int_equal(w->cum, 1000000 - 4095);
	assert_int_equal(w->slid_lost, 903 + (1000000 - 4095 - 917) - 1 /* 5010 */);
	ist_rxwin_ack_build(w, &ack, 0);
	assert_int_equal(ack.n_ranges, 1);
	assert_int_equal(ack.ranges[0].start, 1000000);
	ist_rxwin_free(w);
}

static void test_epoch_reset(void **state)
{
	struct ist_rxwin *w = mk(0);
	struct ist_ack ack;

	(void)state;
	assert_int_equal(ist_rxwin_rx(w, 1, true, 0), 0);
	assert_int_equal(ist_rxwin_rx(w, 5, true, 0), 0);
	ist_rxwin_reset(w, 77);
	assert_int_equal(w->epoch, 77);
	assert_int_equal(w->cum, 1);
	assert_false(ist_rxwin_ack_due(w, UINT64_MAX - 1));
	/* the same pns are new again */
	assert_int_equal(ist_rxwin_rx(w, 1, true, 0), 0);
	assert_int_equal(ist_rxwin_rx(w, 5, true, 0), 0);
	ist_rxwin_ack_build(w, &ack, 0);
	assert_int_equal(ack.cum, 2);
	assert_int_equal(ack.largest, 5);
	assert_int_equal(ack.n_ranges, 1);
	ist_rxwin_free(w);
}

/* ---- randomized run against a brute-force model ---- */

#define MODEL_N 1000000u

struct model {
	uint8_t *seen;
	uint64_t cum, largest, window, slid;
};

static int model_rx(struct model *m, uint64_t pn)
{
	if (pn < m->cum)
		return -EALREADY;
	if (pn - m->cum >= m->window) {
		uint64_t nc = pn - m->window + 1, p;

		for (p = m->cum; p < nc; p++)
			m->slid += !m->seen[p];
		m->cum = nc;
	}
	if (m->seen[pn])
		return -EALREADY;
	m->seen[pn] = 1;
	if (pn > m->largest)
		m->largest = pn;
	while (m->seen[m->cum])
		m->cum++;
	return 0;
}

static void model_ack(const struct model *m, struct ist_ack *a)
{
	uint64_t p = m->largest;

	memset(a, 0, sizeof(*a));
	a->cum = m->cum;
	a->largest = m->largest;
	while (p > m->cum && a->n_ranges < IST_WIRE_MAX_SACK) {
		uint64_t end;

		while (p > m->cum && !m->seen[p])
			p--;
		if (p <= m->cum)
			break;
		end = p;
		while (p > m->cum && m->seen[p])
			p--;
		a->ranges[a->n_ranges].start = p + 1;
		a->ranges[a->n_ranges].end = end;
		a->n_ranges++;
	}
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void random_run(uint32_t window, uint64_t seed)
{
	struct model m = {.cum = 1, .window = window};
	struct ist_rxwin *w = mk(window);
	struct ist_ack got, want;
	uint64_t base = 1, i;
	int k;

	m.seen = calloc(MODEL_N + 100000, 1);
	assert_non_null(m.seen);
	for (i = 0; base < MODEL_N; i++) {
		uint64_t r = rnd(&seed), pn;

		if (r % 5000 == 0)
			base += window + (r >> 20) % (2 * window); /* far jump */
		else if (r % 100 < 3)
			base += 1 + (r >> 10) % 40; /* burst of losses */
		pn = base + (r >> 30) % 64;
		if ((r >> 40) % 8 == 0 && base > 200)
			pn = base - (r >> 45) % 200; /* late, maybe duplicate or stale */
		else
			base++;
		if (pn == 0)
			continue;
		assert_int_equal(ist_rxwin_rx(w, pn, true, i), model_rx(&m, pn));
		if ((r >> 50) % 7 == 0) {
			ist_rxwin_ack_build(w, &got, i);
			model_ack(&m, &want);
			assert_int_equal(got.cum, want.cum);
			assert_int_equal(got.largest, want.largest);
			assert_int_equal(got.n_ranges, want.n_ranges);
			for (k = 0; k < got.n_ranges; k++) {
				assert_int_equal(got.ranges[k].start, want.ranges[k].start);
				assert_int_equal(got.ranges[k].end, want.ranges[k].end);
			}
		}
	}
	assert_int_equal(w->slid_lost, m.slid);
	free(m.seen);
	ist_rxwin_free(w);
}

static void test_random_vs_model(void **state)
{
	(void)state;
	random_run(4096, 88172645463325252ull);
	random_run(8192, 1234567ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_delayed_ack_timer),
		cmocka_unit_test(test_gap_and_reorder),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_ranges_capped),
		cmocka_unit_test(test_far_jump),
		cmocka_unit_test(test_epoch_reset),
		cmocka_unit_test(test_random_vs_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
