/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Token-bucket pacer with a fake TSC: the rate over a simulated second for
 * 1 Mb/s .. 40 Gb/s at 1 .. 4 GHz, exact admission times over long runs (no
 * drift), burst behaviour, next() exactness, rate changes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "ist_pacer.h"

static const uint64_t rates[] = {1000000ull,    10000000ull,    100000000ull,
				 1000000000ull, 10000000000ull, 40000000000ull};
static const uint64_t hzs[] = {1000000000ull, 2100000000ull, 2500000000ull, 4000000000ull};

/* Smallest t with t * rate >= bits * hz: when `bits` may have been sent from an empty bucket. */
static uint64_t ideal(uint64_t bits, uint64_t hz, uint64_t rate)
{
	unsigned __int128 need = (unsigned __int128)bits * hz;

	return (uint64_t)((need + rate - 1) / rate);
}

static void test_profile_invalid(void **state)
{
	struct ist_pacer_profile pp;
	struct ist_pacer p;

	(void)state;
	assert_int_equal(ist_pacer_profile_config(&pp, 0, 1500, 1000000000ull), -EINVAL);
	assert_int_equal(ist_pacer_profile_config(&pp, 1000, 0, 1000000000ull), -EINVAL);
	assert_int_equal(ist_pacer_profile_config(&pp, 1000, 1500, 0), -EINVAL);
	assert_int_equal(ist_pacer_profile_config(NULL, 1000, 1500, 1), -EINVAL);
	/* 4 GB burst at 5 GHz does not fit in 63 bits of units */
	assert_int_equal(ist_pacer_profile_config(&pp, 1000, UINT32_MAX, 5000000000ull), -ERANGE);
	assert_int_equal(ist_pacer_profile_config(&pp, 400000000000ull, 1u << 20, 5000000000ull),
			 0);
	assert_int_equal(ist_pacer_init(NULL, &pp, 0), -EINVAL);
	assert_int_equal(ist_pacer_init(&p, NULL, 0), -EINVAL);
}

/* Backlogged sender: at each step ask next(), jump there, admit. */
static void one_second(uint64_t rate, uint64_t hz, uint32_t pkt)
{
	struct ist_pacer_profile pp;
	struct ist_pacer p;
	uint64_t t0 = 123456789, now, end = t0 + hz, bytes = 0;
	double ratio;

	assert_int_equal(ist_pacer_profile_config(&pp, rate, 2 * pkt, hz), 0);
	assert_int_equal(ist_pacer_init(&p, &pp, t0), 0);
	/* drain the initial burst so the second measures the rate alone */
	assert_true(ist_pacer_admit(&p, pkt, t0));
	assert_true(ist_pacer_admit(&p, pkt, t0));
	assert_false(ist_pacer_admit(&p, pkt, t0));
	now = t0;
	for (;;) {
		uint64_t t = ist_pacer_next(&p, pkt, now);

		if (t > end)
			break;
		assert_true(t >= now);
		now = t;
		assert_true(ist_pacer_admit(&p, pkt, now));
		bytes += pkt;
	}
	ratio = (double)bytes * 8 / (double)rate;
	if (ratio < 0.99 || ratio > 1.01)
		fail_msg("rate %llu hz %llu: %llu bytes in 1 s, ratio %.4f",
			 (unsigned long long)rate, (unsigned long long)hz,
			 (unsigned long long)bytes, ratio);
	/* and exact: the number of whole packets the rate allows in one second */
	assert_int_equal(bytes / pkt, (uint64_t)((unsigned __int128)rate / (8ull * pkt)));
}

static void test_rate_one_second(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		for (j = 0; j < sizeof(hzs) / sizeof(hzs[0]); j++)
			one_second(rates[i], hzs[j], rates[i] < 10000000ull ? 1000 : 1500);
}

static void test_no_drift(void **state)
{
	/* 500 000 packets at 100 Mb/s (60 s) and 1 000 000 at 10 Gb/s: the n-th
	 * admission happens exactly when n packets' worth of bits have accrued.
	 * The burst is two packets: with a burst of exactly one packet the
	 * sub-cycle remainder would overflow the bucket at each admission,
	 * which is what a token bucket must do, not drift. */
	static const struct {
		uint64_t rate, hz;
		uint32_t pkt, n;
	} cases[] = {
		{100000000ull, 2100000000ull, 1500, 500000},
		{10000000000ull, 3000000007ull, 1472, 1000000},
		{1000000ull, 1000000000ull, 777, 20000},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ist_pacer_profile pp;
		struct ist_pacer p;
		uint64_t t0 = 1000, now = t0;
		uint32_t k;

		assert_int_equal(
			ist_pacer_profile_config(&pp, cases[i].rate, 2 * cases[i].pkt, cases[i].hz),
			0);
		assert_int_equal(ist_pacer_init(&p, &pp, t0), 0);
		assert_true(ist_pacer_admit(&p, 2 * cases[i].pkt, t0)); /* the burst */
		for (k = 1; k <= cases[i].n; k++) {
			now = ist_pacer_next(&p, cases[i].pkt, now);
			assert_true(ist_pacer_admit(&p, cases[i].pkt, now));
		}
		assert_int_equal(now - t0, ideal(8ull * cases[i].pkt * cases[i].n, cases[i].hz,
						 cases[i].rate));
	}
}

static void test_burst(void **state)
{
	struct ist_pacer_profile pp;
	struct ist_pacer p;
	uint64_t hz = 2000000000ull, now = 0;
	int i;

	(void)state;
	/* 1 Gb/s, 10 packets of burst */
	assert_int_equal(ist_pacer_profile_config(&pp, 1000000000ull, 15000, hz), 0);
	assert_int_equal(ist_pacer_init(&p, &pp, now), 0);
	for (i = 0; i < 10; i++)
		assert_true(ist_pacer_admit(&p, 1500, now));
	assert_false(ist_pacer_admit(&p, 1500, now));
	assert_int_equal(p.refused, 1);

	/* a long idle period earns no more than the burst */
	now += 10 * hz;
	for (i = 0; i < 10; i++)
		assert_true(ist_pacer_admit(&p, 1500, now));
	assert_false(ist_pacer_admit(&p, 1500, now));

	/* a packet larger than the burst never passes and says so */
	now += hz;
	assert_false(ist_pacer_admit(&p, 15001, now));
	assert_int_equal(ist_pacer_next(&p, 15001, now), UINT64_MAX);
	assert_true(ist_pacer_admit(&p, 15000, now));
	assert_int_equal(p.admitted, 21);
	assert_int_equal(p.bytes, 20 * 1500 + 15000);
}

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 17;
}

static void test_next_exact(void **state)
{
	struct ist_pacer_profile pp;
	struct ist_pacer p, a, b;
	uint64_t seed = 42, now = 5;
	size_t i, r;

	(void)state;
	for (r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		uint64_t hz = hzs[r % 4];

		assert_int_equal(ist_pacer_profile_config(&pp, rates[r] + r * 7, 9000, hz), 0);
		assert_int_equal(ist_pacer_init(&p, &pp, now), 0);
		for (i = 0; i < 20000; i++) {
			uint32_t bytes = 1 + (uint32_t)(lcg(&seed) % 9000);
			uint64_t t;

			now += lcg(&seed) % (hz / 1000);
			t = ist_pacer_next(&p, bytes, now);
			assert_true(t >= now && t != UINT64_MAX);
			if (t > now) {
				a = p;
				assert_false(ist_pacer_admit(&a, bytes, t - 1));
			}
			b = p;
			assert_true(ist_pacer_admit(&b, bytes, t));
			/* sometimes send, sometimes only look */
			if (lcg(&seed) & 1) {
				now = t;
				assert_true(ist_pacer_admit(&p, bytes, now));
			}
		}
	}
}

static void test_time_backwards(void **state)
{
	struct ist_pacer_profile pp;
	struct ist_pacer p;

	(void)state;
	assert_int_equal(ist_pacer_profile_config(&pp, 8000000ull, 1000, 1000000000ull), 0);
	assert_int_equal(ist_pacer_init(&p, &pp, 1000000), 0);
	assert_true(ist_pacer_admit(&p, 1000, 1000000));
	/* an older `now` earns nothing and the answer still counts from `last` */
	assert_false(ist_pacer_admit(&p, 1000, 10));
	assert_int_equal(ist_pacer_next(&p, 1000, 10), 1000000 + 1000000);
}

static void test_rate_change(void **state)
{
	struct ist_pacer_profile fast, slow, other_hz;
	struct ist_pacer p;
	uint64_t hz = 2500000000ull, now = 0, start, bytes = 0;

	(void)state;
	assert_int_equal(ist_pacer_profile_config(&fast, 1000000000ull, 3000, hz), 0);
	assert_int_equal(ist_pacer_profile_config(&slow, 100000000ull, 1500, hz), 0);
	assert_int_equal(ist_pacer_init(&p, &fast, now), 0);
	assert_true(ist_pacer_admit(&p, 3000, now));
	/* half a packet earned at 1 Gb/s (6 us), then switch: the half is kept */
	now += hz * 6 / 1000000;
	ist_pacer_profile_set(&p, &slow, now);
	assert_int_equal(p.tokens, 750ull * 8 * hz);
	/* the rest at 100 Mb/s: 750 bytes = 60 us */
	assert_int_equal(ist_pacer_next(&p, 1500, now), now + hz * 60 / 1000000);

	/* one second at the new rate */
	start = now;
	while (now < start + hz) {
		now = ist_pacer_next(&p, 1500, now);
		if (now >= start + hz)
			break;
		assert_true(ist_pacer_admit(&p, 1500, now));
		bytes += 1500;
	}
	assert_true(bytes * 8 >= 99000000ull && bytes * 8 <= 101000000ull);

	/* the burst shrinks with the profile: tokens are clamped */
	now += 10 * hz;
	ist_pacer_profile_set(&p, &fast, now);
	assert_int_equal(p.tokens, 1500ull * 8 * hz); /* filled at the slow profile's burst */

	/* a new TSC rate re-expresses the tokens in the new unit */
	assert_int_equal(ist_pacer_profile_config(&other_hz, 1000000000ull, 3000, hz / 5), 0);
	ist_pacer_profile_set(&p, &other_hz, now);
	assert_int_equal(p.tokens, 1500ull * 8 * (hz / 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_invalid), cmocka_unit_test(test_rate_one_second),
		cmocka_unit_test(test_no_drift),        cmocka_unit_test(test_burst),
		cmocka_unit_test(test_next_exact),      cmocka_unit_test(test_time_backwards),
		cmocka_unit_test(test_rate_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
