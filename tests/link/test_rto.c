/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 6298 estimator: exact values for the first and later samples, the
 * clamps, the initial value, backoff and its reset. Most cases run at
 * hz = 10^6 so one cycle is one microsecond and the numbers read directly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ist_rto.h"

#define US 1ull /* at hz = 10^6 */
#define MS 1000ull

static struct ist_rto_conf conf_us(void)
{
	struct ist_rto_conf c = {.hz = 1000000};

	return c;
}

static void test_initial(void **state)
{
	struct ist_rto_conf c = conf_us();
	struct ist_rto r;

	(void)state;
	assert_int_equal(ist_rto_init(&r, &c), 0);
	assert_int_equal(ist_rto_get(&r), 200 * MS);
	assert_int_equal(r.srtt, 0);
	assert_int_equal(ist_rto_srtt(&r), 100 * MS);

	c.rtt_ms = 300;
	assert_int_equal(ist_rto_init(&r, &c), 0);
	assert_int_equal(ist_rto_get(&r), 600 * MS);

	c.initial_us = 50000;
	assert_int_equal(ist_rto_init(&r, &c), 0);
	assert_int_equal(ist_rto_get(&r), 50 * MS);

	/* the initial value obeys the clamps too */
	c.initial_us = 0;
	c.rtt_ms = 2000;
	assert_int_equal(ist_rto_init(&r, &c), 0);
	assert_int_equal(ist_rto_get(&r), 2000 * MS);
}

static void test_invalid(void **state)
{
	struct ist_rto_conf c = conf_us();
	struct ist_rto r;

	(void)state;
	c.hz = 0;
	assert_int_equal(ist_rto_init(&r, &c), -EINVAL);
	c = conf_us();
	c.min_us = 5000;
	c.max_us = 4000;
	assert_int_equal(ist_rto_init(&r, &c), -EINVAL);
	assert_int_equal(ist_rto_init(NULL, &c), -EINVAL);
}

static void test_samples_exact(void **state)
{
	struct ist_rto_conf c = conf_us();
	struct ist_rto r;

	(void)state;
	assert_int_equal(ist_rto_init(&r, &c), 0);

	/* first: SRTT = R, RTTVAR = R/2, RTO = R + 4 R/2 */
	ist_rto_sample(&r, 100 * MS);
	assert_int_equal(r.srtt, 100000);
	assert_int_equal(r.rttvar, 50000);
	assert_int_equal(ist_rto_get(&r), 300000);

	/* RTTVAR = (3*50000 + |100000-120000|)/4, SRTT = (7*100000 + 120000)/8 */
	ist_rto_sample(&r, 120 * MS);
	assert_int_equal(r.rttvar, 42500);
	assert_int_equal(r.srtt, 102500);
	assert_int_equal(ist_rto_get(&r), 102500 + 4 * 42500);

	/* RTTVAR uses the old SRTT: (3*42500 + 22500)/4; SRTT truncates 797500/8 */
	ist_rto_sample(&r, 80 * MS);
	assert_int_equal(r.rttvar, 37500);
	assert_int_equal(r.srtt, 99687);
	assert_int_equal(ist_rto_get(&r), 99687 + 150000);
	assert_int_equal(r.samples, 3);
}

static void test_samples_tsc(void **state)
{
	/* 2.5 GHz: 40 ms = 10^8 cycles; same formulas, exact in cycles */
	struct ist_rto_conf c = {.hz = 2500000000ull};
	struct ist_rto r;

	(void)state;
	assert_int_equal(ist_rto_init(&r, &c), 0);
	assert_int_equal(ist_rto_get(&r), 500000000ull); /* 200 ms */
	ist_rto_sample(&r, 100000000ull);
	assert_int_equal(ist_rto_get(&r), 300000000ull);
	ist_rto_sample(&r, 100000001ull);
	assert_int_equal(r.rttvar, (3 * 50000000ull + 1) / 4);
	assert_int_equal(r.srtt, (7 * 100000000ull + 100000001ull) / 8);
	assert_int_equal(ist_rto_get(&r), r.srtt + 4 * r.rttvar);
}

static void test_granularity_and_min(void **state)
{
	struct ist_rto_conf c = conf_us();
	struct ist_rto r;
	int i;

	(void)state;
	c.granularity_us = 2000;
	c.min_us = 1000;
	assert_int_equal(ist_rto_init(&r, &c), 0);
	for (i = 0; i < 200; i++)
		ist_rto_sample(&r, 10 * MS);
	assert_int_equal(r.rttvar, 0);
	/* 4 * RTTVAR = 0 < G: RTO = SRTT + G */
	assert_int_equal(ist_rto_get(&r), 10 * MS + 2000);

	/* a very short RTT is held at the minimum, 1 ms by default */
	c = conf_us();
	assert_int_equal(ist_rto_init(&r, &c), 0);
	for (i = 0; i < 200; i++)
		ist_rto_sample(&r, 200 * US);
	assert_int_equal(r.srtt, 200);
	assert_int_equal(ist_rto_get(&r), 1 * MS);

	/* and the minimum is configurable */
	c.min_us = 250;
	assert_int_equal(ist_rto_init(&r, &c), 0);
	for (i = 0; i < 200; i++)
		ist_rto_sample(&r, 100 * US);
	assert_int_equal(ist_rto_get(&r), 250);
}

static void test_max_clamp(void **state)
{
	struct ist_rto_conf c = conf_us();
	struct ist_rto r;

	(void)state;
	assert_int_equal(ist_rto_init(&r, &c), 0);
	ist_rto_sample(&r, 3000 * MS);
	assert_int_equal(ist_rto_get(&r), 2000 * MS);
	c.max_us = 500000;
	assert_int_equal(ist_rto_init(&r, &c), 0);
	ist_rto_sample(&r, 400 * MS);
	assert_int_equal(ist_rto_get(&r), 500 * MS);
}

static void test_ack_delay_added(void **state)
{
	struct ist_rto_conf c = conf_us();
	struct ist_rto r;

	(void)state;
	c.max_ack_delay_us = 1000;
	assert_int_equal(ist_rto_init(&r, &c), 0);
	ist_rto_sample(&r, 100 * MS);
	assert_int_equal(ist_rto_get(&r), 300 * MS + 1 * MS);
}

static void test_backoff(void **state)
{
	struct ist_rto_conf c = conf_us();
	struct ist_rto r;

	(void)state;
	assert_int_equal(ist_rto_init(&r, &c), 0);
	ist_rto_sample(&r, 100 * MS);
	assert_int_equal(ist_rto_get(&r), 300 * MS);
	ist_rto_backoff(&r);
	assert_int_equal(ist_rto_get(&r), 600 * MS);
	ist_rto_backoff(&r);
	assert_int_equal(ist_rto_get(&r), 1200 * MS);
	ist_rto_backoff(&r);
	assert_int_equal(ist_rto_get(&r), 2000 * MS); /* capped */
	ist_rto_backoff(&r);
	assert_int_equal(ist_rto_get(&r), 2000 * MS);
	assert_int_equal(r.backoffs, 4);

	/* a new sample recomputes from SRTT/RTTVAR and ends the backoff */
	ist_rto_sample(&r, 100 * MS);
	assert_int_equal(r.backoffs, 0);
	assert_int_equal(r.rttvar, 37500);
	assert_int_equal(r.srtt, 100 * MS);
	assert_int_equal(ist_rto_get(&r), 100 * MS + 150 * MS);

	/* clearing the backoff without a sample */
	ist_rto_backoff(&r);
	ist_rto_backoff_clear(&r);
	assert_int_equal(ist_rto_get(&r), 250 * MS);
	assert_int_equal(ist_rto_init(&r, &c), 0);
	ist_rto_backoff(&r);
	assert_int_equal(ist_rto_get(&r), 400 * MS);
	ist_rto_backoff_clear(&r);
	assert_int_equal(ist_rto_get(&r), 200 * MS);
}

static void test_conversion(void **state)
{
	(void)state;
	assert_int_equal(ist_rto_us_to_cycles(1000, 2500000000ull), 2500000ull);
	assert_int_equal(ist_rto_us_to_cycles(2000000, 5000000000ull), 10000000000ull);
	assert_int_equal(ist_rto_us_to_cycles(1, 1000000), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_samples_exact),
		cmocka_unit_test(test_samples_tsc),
		cmocka_unit_test(test_granularity_and_min),
		cmocka_unit_test(test_max_clamp),
		cmocka_unit_test(test_ack_delay_added),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_conversion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
