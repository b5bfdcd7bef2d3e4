/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-class shaper with a fake TSC: bucket conformance (exact, over long
 * runs and over a simulated year near the top of the TSC range), burst cap
 * after idle, weighted sharing of a link paced by ist_pacer, isolation of a
 * hot class, unlimited classes, next_eligible() exactness, DRR details and
 * argument validation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ist_pacer.h"
#include "ist_shaper.h"

#define MAXC 8

typedef unsigned __int128 u128;

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 17;
}

static struct ist_shaper *mk(uint32_t n, const struct ist_shaper_class_cfg *cfg, uint64_t hz,
			     uint32_t quantum)
{
	struct ist_shaper *s = ist_shaper_create(n, cfg, hz, quantum, NULL);

	assert_non_null(s);
	return s;
}

static struct ist_shaper_stats stats(const struct ist_shaper *s, uint32_t cls)
{
	struct ist_shaper_stats st;

	assert_int_equal(ist_shaper_class_stats(s, cls, &st), 0);
	return st;
}

/*
 * A link-tx loop over a fake clock: every class always backlogged (unless
 * the test says otherwise), frames of a fixed or random size, an optional
 * link pacer. Sleeps exactly until the shaper or the pacer allows more.
 */
struct sim {
	struct ist_shaper *s;
	uint32_t n;
	uint64_t now;
	bool has_link;
	struct ist_pacer link;
	uint32_t frame[MAXC]; /* fixed size, 0: random 64 .. frame_max */
	uint32_t frame_max;
	uint32_t pending[MAXC]; /* size of the class's head frame, 0: not drawn */
	uint64_t sent[MAXC];
	uint64_t seed;
	/* called after each frame, may assert */
	void (*on_send)(struct sim *m, uint32_t cls, uint32_t bytes);
	void *arg;
};

static void sim_init(struct sim *m, struct ist_shaper *s, uint64_t t0, uint64_t link_Bps,
		     uint64_t hz)
{
	struct ist_pacer_profile pp;
	uint32_t i;

	memset(m, 0, sizeof(*m));
	m->s = s;
	m->n = ist_shaper_n_classes(s);
	m->now = t0;
	m->seed = 7;
	m->frame_max = 9000;
	if (link_Bps != 0) {
		m->has_link = true;
		assert_int_equal(ist_pacer_profile_config(&pp, link_Bps * 8, 2 * 65536, hz), 0);
		assert_int_equal(ist_pacer_init(&m->link, &pp, t0), 0);
	}
	for (i = 0; i < m->n; i++)
		ist_shaper_set_backlog(s, i, true);
}

static void sim_run(struct sim *m, uint64_t until)
{
	while (m->now < until) {
		int c = ist_shaper_pick(m->s, m->now);
		uint32_t f;

		if (c < 0) {
			uint64_t t = ist_shaper_next_eligible(m->s, m->now);

			assert_true(t > m->now);
			if (t == UINT64_MAX)
				return;
			m->now = t;
			continue;
		}
		assert_true((uint32_t)c < m->n);
		if (m->pending[c] == 0)
			m->pending[c] =
				m->frame[c] != 0
					? m->frame[c]
					: 64 + (uint32_t)(lcg(&m->seed) % (m->frame_max - 63));
		f = m->pending[c];
		if (m->has_link && !ist_pacer_admit(&m->link, f, m->now)) {
			/* the same class must come back: nothing was charged */
			assert_int_equal(ist_shaper_pick(m->s, m->now), c);
			m->now = ist_pacer_next(&m->link, f, m->now);
			continue;
		}
		ist_shaper_charge(m->s, (uint32_t)c, f, m->now);
		m->pending[c] = 0;
		m->sent[c] += f;
		if (m->on_send != NULL)
			m->on_send(m, (uint32_t)c, f);
	}
}

static void assert_near(double got, double want, double tol, const char *what)
{
	if (got < want * (1 - tol) || got > want * (1 + tol))
		fail_msg("%s: got %.1f want %.1f (+-%.1f%%)", what, got, want, tol * 100);
}

/* ---- validation ---- */

static void test_create_invalid(void **state)
{
	struct ist_shaper_class_cfg ok[2] = {{1000000, 65536, 1}, {0, 0, 3}};
	struct ist_shaper_class_cfg bad[2] = {{1000000, 65536, 1}, {0, 0, 3}};
	const uint64_t hz = 3000000000ull;
	struct ist_shaper_stats st;
	struct ist_shaper *s;

	(void)state;
#define EXPECT_ERR(call, e)                 \
	do {                                \
		errno = 0;                  \
		assert_null(call);          \
		assert_int_equal(errno, e); \
	} while (0)
	EXPECT_ERR(ist_shaper_create(2, NULL, hz, 1500, NULL), EINVAL);
	EXPECT_ERR(ist_shaper_create(0, ok, hz, 1500, NULL), EINVAL);
	EXPECT_ERR(ist_shaper_create(IST_SHAPER_MAX_CLASSES + 1, ok, hz, 1500, NULL), EINVAL);
	EXPECT_ERR(ist_shaper_create(2, ok, 0, 1500, NULL), EINVAL);
	EXPECT_ERR(ist_shaper_create(2, ok, hz, 0, NULL), EINVAL);
	EXPECT_ERR(ist_shaper_create(2, ok, hz, IST_SHAPER_MAX_QUANTUM + 1, NULL), EINVAL);
	bad[1].weight = 0;
	EXPECT_ERR(ist_shaper_create(2, bad, hz, 1500, NULL), EINVAL);
	bad[1].weight = IST_SHAPER_MAX_WEIGHT + 1;
	EXPECT_ERR(ist_shaper_create(2, bad, hz, 1500, NULL), EINVAL);
	bad[1].weight = 1;
	bad[0].burst = 0; /* a limited class needs a burst */
	EXPECT_ERR(ist_shaper_create(2, bad, hz, 1500, NULL), EINVAL);
	/* 4 GB of burst at 5 GHz does not fit in 63 bits of 1/hz-byte units */
	bad[0].burst = UINT32_MAX;
	EXPECT_ERR(ist_shaper_create(2, bad, 5000000000ull, 1500, NULL), ERANGE);
	bad[0].burst = 65536;
	bad[0].rate = INT64_MAX;
	EXPECT_ERR(ist_shaper_create(2, bad, hz, 1500, NULL), ERANGE);
#undef EXPECT_ERR
	/* the largest limits that fit: 800 MB burst at 5 GHz, 64 KiB weights, max quantum */
	bad[0].rate = 5000000000ull;
	bad[0].burst = 800000000u;
	bad[1].weight = IST_SHAPER_MAX_WEIGHT;
	s = ist_shaper_create(2, bad, 5000000000ull, IST_SHAPER_MAX_QUANTUM, NULL);
	assert_non_null(s);
	ist_shaper_free(s);

	assert_int_equal(ist_shaper_memsize(0), 0);
	assert_int_equal(ist_shaper_memsize(IST_SHAPER_MAX_CLASSES + 1), 0);
	assert_true(ist_shaper_memsize(64) >= 64 * 128);

	/* unlimited classes take any burst; unknown classes are counted, not used */
	s = mk(2, ok, hz, 1500);
	assert_int_equal(ist_shaper_n_classes(s), 2);
	assert_int_equal(ist_shaper_class_stats(s, 2, &st), -EINVAL);
	assert_int_equal(ist_shaper_class_stats(s, 0, NULL), -EINVAL);
	assert_int_equal(ist_shaper_class_stats(NULL, 0, &st), -EINVAL);
	ist_shaper_set_backlog(s, 2, true);
	ist_shaper_charge(s, 7, 1500, 0);
	assert_int_equal(ist_shaper_bad_class(s), 2);
	assert_int_equal(ist_shaper_pick(s, 0), -1);
	assert_int_equal(ist_shaper_next_eligible(s, 0), UINT64_MAX);
	ist_shaper_free(s);
	ist_shaper_free(NULL);
}

/* ---- one bucket ---- */

struct env_check {
	uint64_t t0, hz, rate, burst;
	uint64_t last_t;
	uint64_t sent_before;
	uint64_t checked;
};

/*
 * Every frame is admitted at the first cycle the envelope allows: with S
 * bytes sent before it, the bucket holds burst + rate * (t - t0) - S bytes,
 * which must be > 0 at t and (when t moved) <= 0 at t - 1. Exact, in 1/hz
 * byte units, so it also proves there is no drift.
 */
static void env_on_send(struct sim *m, uint32_t cls, uint32_t bytes)
{
	struct env_check *e = m->arg;
	u128 have = (u128)e->burst * e->hz + (u128)e->rate * (m->now - e->t0);
	u128 used = (u128)e->sent_before * e->hz;

	(void)cls;
	assert_true(have > used);
	if (m->now != e->last_t && m->now > e->t0)
		assert_true(have - e->rate <= used);
	e->last_t = m->now;
	e->sent_before += bytes;
	e->checked++;
}

static void conformance(uint64_t rate, uint32_t burst, uint64_t hz, uint64_t t0, uint64_t secs,
			uint32_t frame_max)
{
	struct ist_shaper_class_cfg cfg = {rate, burst, 1};
	struct ist_shaper *s = mk(1, &cfg, hz, IST_SHAPER_QUANTUM_DEFAULT);
	struct env_check e = {.t0 = t0, .hz = hz, .rate = rate, .burst = burst, .last_t = t0};
	uint64_t end = t0 + secs * hz;
	u128 allowed = (u128)rate * secs + burst; /* bytes the envelope allows by `end` */
	struct sim m;

	sim_init(&m, s, t0, 0, hz);
	m.frame_max = frame_max;
	m.on_send = env_on_send;
	m.arg = &e;
	sim_run(&m, end);
	/* within rate * t + burst plus the one frame that may run into debt, and
	 * always backlogged, no more than one frame short of it */
	if (m.sent[0] > allowed + frame_max - 1 || m.sent[0] + frame_max < allowed)
		fail_msg("rate %llu burst %u hz %llu: sent %llu, envelope %llu",
			 (unsigned long long)rate, burst, (unsigned long long)hz,
			 (unsigned long long)m.sent[0], (unsigned long long)allowed);
	assert_true(e.checked > 1000);
	assert_int_equal(stats(s, 0).bytes, m.sent[0]);
	assert_int_equal(stats(s, 0).frames, e.checked);
	assert_true(stats(s, 0).throttled > 0);
	ist_shaper_free(s);
}

static void test_conformance_long(void **state)
{
	(void)state;
	/* 60 s at 10 MB/s with frames up to 64 KiB; odd rates and clocks */
	conformance(10000000ull, 65536, 3000000000ull, 123456789, 60, 65536);
	conformance(1234567ull, 1500, 2100000007ull, 5, 300, 9000);
	conformance(1250000000ull, 1u << 20, 2500000000ull, 1ull << 40, 2, 65536);
	/* burst smaller than the frames: still exact in the long run */
	conformance(100000ull, 100, 1000000000ull, 0, 600, 65536);
}

static void test_burst_after_idle(void **state)
{
	struct ist_shaper_class_cfg cfg = {1000000, 10000, 1}; /* 1 MB/s, 10 kB burst */
	const uint64_t hz = 2000000000ull;
	struct ist_shaper *s = mk(1, &cfg, hz, IST_SHAPER_QUANTUM_DEFAULT);
	uint64_t now = 1000000;
	int i;

	(void)state;
	ist_shaper_set_backlog(s, 0, true);
	/* a full bucket: ten 1000-byte frames at once, then the bucket is at 0 */
	for (i = 0; i < 10; i++) {
		assert_int_equal(ist_shaper_pick(s, now), 0);
		ist_shaper_charge(s, 0, 1000, now);
	}
	assert_int_equal(ist_shaper_pick(s, now), -1);
	/* at exactly 0 tokens, one cycle earns 1/hz byte: eligible again */
	assert_int_equal(ist_shaper_next_eligible(s, now), now + 1);

	/* idle for 100 s: the bucket holds its burst, not 100 MB */
	ist_shaper_set_backlog(s, 0, false);
	assert_int_equal(ist_shaper_pick(s, now), -1);
	assert_int_equal(ist_shaper_next_eligible(s, now), UINT64_MAX);
	now += 100 * hz;
	ist_shaper_set_backlog(s, 0, true);
	for (i = 0; i < 10; i++) {
		assert_int_equal(ist_shaper_pick(s, now), 0);
		ist_shaper_charge(s, 0, 1000, now);
	}
	assert_int_equal(ist_shaper_pick(s, now), -1);

	/* 5 ms earns 5000 bytes: five frames */
	now += hz / 200;
	for (i = 0; i < 5; i++) {
		assert_int_equal(ist_shaper_pick(s, now), 0);
		ist_shaper_charge(s, 0, 1000, now);
	}
	assert_int_equal(ist_shaper_pick(s, now), -1);

	/* with 3000-byte frames a full bucket lets four go (the fourth into
	 * 2000 bytes of debt), and the debt is repaid before the next one */
	now += 100 * hz;
	for (i = 0; i < 4; i++) {
		assert_int_equal(ist_shaper_pick(s, now), 0);
		ist_shaper_charge(s, 0, 3000, now);
	}
	assert_int_equal(ist_shaper_pick(s, now), -1);
	/* 2000 bytes at 1 MB/s = 2 ms = 4 000 000 cycles, then one more cycle */
	assert_int_equal(ist_shaper_next_eligible(s, now), now + 4000000 + 1);
	assert_int_equal(ist_shaper_pick(s, now + 4000000), -1);
	assert_int_equal(ist_shaper_pick(s, now + 4000001), 0);
	assert_int_equal(stats(s, 0).frames, 29);
	assert_int_equal(stats(s, 0).bytes, 25000 + 12000);

	/* a caller charging far past the credit: the debt stops at
	 * IST_SHAPER_DEBT_MAX (16 MiB = 16.8 s at 1 MB/s), nothing overflows,
	 * the counters keep every byte */
	now += 100 * hz;
	for (i = 0; i < 64; i++)
		ist_shaper_charge(s, 0, 1u << 20, now);
	ist_shaper_charge(s, 0, UINT32_MAX, now);
	assert_int_equal(ist_shaper_pick(s, now), -1);
	assert_int_equal(ist_shaper_next_eligible(s, now),
			 now + (uint64_t)IST_SHAPER_DEBT_MAX * (hz / 1000000) + 1);
	assert_int_equal(stats(s, 0).bytes, 25000 + 12000 + (64ull << 20) + UINT32_MAX);
	ist_shaper_free(s);
}

/* ---- sharing ---- */

static void share(const struct ist_shaper_class_cfg *cfg, uint32_t n, uint32_t quantum,
		  uint64_t link, uint32_t frame_max, const double *want_Bps, double tol)
{
	const uint64_t hz = 2500000000ull, t0 = 1000, warm = hz / 10, secs = 2;
	struct ist_shaper *s = mk(n, cfg, hz, quantum);
	uint64_t before[MAXC], total = 0;
	struct sim m;
	uint32_t i;

	sim_init(&m, s, t0, link, hz);
	m.frame_max = frame_max;
	sim_run(&m, t0 + warm);
	memcpy(before, m.sent, sizeof(before));
	sim_run(&m, t0 + warm + secs * hz);
	for (i = 0; i < n; i++) {
		char what[64];

		snprintf(what, sizeof(what), "class %u bytes/s", i);
		assert_near((double)(m.sent[i] - before[i]) / secs, want_Bps[i], tol, what);
		total += m.sent[i] - before[i];
	}
	if (link != 0)
		assert_near((double)total / secs, (double)link, 0.01, "link bytes/s");
	ist_shaper_free(s);
}

static void test_weights_unlimited(void **state)
{
	/* two unlimited classes 3:1 on a 100 MB/s link */
	const struct ist_shaper_class_cfg cfg[2] = {{0, 0, 3}, {0, 0, 1}};
	const double want[2] = {75e6, 25e6};

	(void)state;
	share(cfg, 2, 1500, 100000000ull, 9000, want, 0.01);
	share(cfg, 2, IST_SHAPER_QUANTUM_DEFAULT, 100000000ull, 65536, want, 0.02);
	/* a quantum far below the frames: rounds are skipped, shares still hold */
	share(cfg, 2, 100, 100000000ull, 65536, want, 0.02);
}

static void test_hot_class_isolated(void **state)
{
	/* the hot class's weight would give it 4/8 of the link, but its bucket
	 * holds it to 30 MB/s; the other two share the remaining 70 by 3:1 */
	struct ist_shaper_class_cfg cfg[3] = {{30000000ull, 65536, 4}, {0, 0, 3}, {0, 0, 1}};
	const double want[3] = {30e6, 52.5e6, 17.5e6};

	(void)state;
	share(cfg, 3, 1500, 100000000ull, 9000, want, 0.01);
	/* With 64 KiB quanta the others' turns take 4 * 64 KiB = 2.6 ms, in which
	 * the hot class earns 79 kB: its burst must hold that or it loses what
	 * overflows (see Sizing in ist_shaper.h). */
	cfg[0].burst = 262144;
	share(cfg, 3, IST_SHAPER_QUANTUM_DEFAULT, 100000000ull, 65536, want, 0.02);
}

static void test_resume_turn(void **state)
{
	/* A (limited, 1000-byte burst) and B (unlimited), 10 kB turns each. A's
	 * bucket runs dry early in its turn; B is served meanwhile; when A's
	 * bucket refills, A resumes its turn at once instead of waiting for the
	 * end of B's (which could overflow A's bucket). */
	const struct ist_shaper_class_cfg cfg[2] = {{1000000ull, 1000, 10}, {0, 0, 10}};
	const uint64_t hz = 1000000000ull;
	struct ist_shaper *s = mk(2, cfg, hz, 1000);
	uint64_t now = 1000;
	int i;

	(void)state;
	ist_shaper_set_backlog(s, 0, true);
	ist_shaper_set_backlog(s, 1, true);
	assert_int_equal(ist_shaper_pick(s, now), 0);
	ist_shaper_charge(s, 0, 2000, now); /* 1000 bytes of debt: 1 ms at 1 MB/s */
	for (i = 0; i < 3; i++) {
		assert_int_equal(ist_shaper_pick(s, now), 1);
		ist_shaper_charge(s, 1, 1000, now);
	}
	assert_int_equal(ist_shaper_pick(s, now + 1000000), 1);
	assert_int_equal(ist_shaper_pick(s, now + 1000001), 0);
	now += 1000001;
	ist_shaper_charge(s, 0, 1000, now); /* 7 kB of A's turn left */
	assert_int_equal(ist_shaper_pick(s, now), 1);
	assert_int_equal(stats(s, 0).throttled, 2);
	assert_int_equal(stats(s, 1).deferred, 0);

	/* A turn that ended while the bucket ran dry is not resumed: A sends
	 * 8 kB (its turn is over, 7 kB of debt), B goes on with its turn */
	now += 2 * hz;
	assert_int_equal(ist_shaper_pick(s, now), 0);
	ist_shaper_charge(s, 0, 8000, now);
	assert_int_equal(ist_shaper_pick(s, now), 1);
	ist_shaper_charge(s, 1, 1000, now);
	assert_int_equal(ist_shaper_next_eligible(s, now), now);
	now += 7000001; /* A's bucket is positive again */
	assert_int_equal(ist_shaper_pick(s, now), 1);
	assert_int_equal(stats(s, 0).throttled, 3);
	ist_shaper_free(s);
}

static void test_unlimited_with_weight(void **state)
{
	/* two unlimited classes 1:2 and a limited class whose weight (10/13)
	 * exceeds its rate: the limited one gets its rate, the others the rest */
	const struct ist_shaper_class_cfg cfg[3] = {{0, 0, 1}, {0, 0, 2}, {10000000ull, 20000, 10}};
	const double want[3] = {30e6, 60e6, 10e6};
	const struct ist_shaper_class_cfg one = {0, 0, 7};
	struct ist_shaper *s;
	int i;

	(void)state;
	share(cfg, 3, 1500, 100000000ull, 9000, want, 0.01);

	/* without a link limit an unlimited class is always eligible */
	s = mk(1, &one, 1000000000ull, 1500);
	ist_shaper_set_backlog(s, 0, true);
	for (i = 0; i < 100000; i++) {
		assert_int_equal(ist_shaper_next_eligible(s, 5), 5);
		assert_int_equal(ist_shaper_pick(s, 5), 0);
		ist_shaper_charge(s, 0, 65536, 5);
	}
	assert_int_equal(stats(s, 0).throttled, 0);
	assert_int_equal(stats(s, 0).bytes, 100000ull * 65536);
	ist_shaper_free(s);
}

struct gap_check {
	uint64_t hot_since_low; /* hot bytes since the low class last sent */
	uint64_t max_gap;
	uint64_t low_frames;
};

static void gap_on_send(struct sim *m, uint32_t cls, uint32_t bytes)
{
	struct gap_check *g = m->arg;

	if (cls == 0) {
		g->hot_since_low += bytes;
		if (g->hot_since_low > g->max_gap)
			g->max_gap = g->hot_since_low;
	} else {
		g->hot_since_low = 0;
		g->low_frames++;
	}
}

static void test_hot_cannot_starve(void **state)
{
	/* weight 100, a rate of 90 % of the link and a 1 MB burst against a
	 * weight-1 class: the latter gets the remaining 10 %, and even while the
	 * hot class drains its burst it waits at most one hot turn */
	const struct ist_shaper_class_cfg cfg[2] = {{90000000ull, 1000000, 100}, {0, 0, 1}};
	/* a quantum of the largest frame: every turn of the low class sends */
	const uint64_t hz = 2500000000ull, quantum = 9000;
	struct ist_shaper *s = mk(2, cfg, hz, quantum);
	struct gap_check g = {0, 0, 0};
	uint64_t before0, before1;
	struct sim m;

	(void)state;
	sim_init(&m, s, 0, 100000000ull, hz);
	m.frame_max = 9000;
	m.on_send = gap_on_send;
	m.arg = &g;
	/* first 50 ms: the burst drains at the link rate; the low class has its 1/101 */
	sim_run(&m, hz / 20);
	assert_true(g.low_frames > 0);
	assert_true(m.sent[1] >= 100000000ull / 20 / 101 - 9000);
	assert_true(g.max_gap <= 100 * quantum + 9000);
	sim_run(&m, hz / 2); /* the burst is gone after ~0.1 s */
	before0 = m.sent[0];
	before1 = m.sent[1];
	sim_run(&m, hz / 2 + 4 * hz);
	assert_near((double)(m.sent[0] - before0) / 4, 90e6, 0.01, "hot bytes/s");
	assert_near((double)(m.sent[1] - before1) / 4, 10e6, 0.03, "low bytes/s");
	assert_true(g.max_gap <= 100 * quantum + 9000);
	assert_true(stats(s, 0).throttled > 0);
	assert_true(stats(s, 0).deferred > 0);
	assert_int_equal(stats(s, 1).throttled, 0);
	ist_shaper_free(s);
}

static void test_drr_details(void **state)
{
	const struct ist_shaper_class_cfg cfg[3] = {{0, 0, 2}, {0, 0, 1}, {0, 0, 1}};
	struct ist_shaper *s = mk(3, cfg, 1000000000ull, 1000);
	int i, run, last, c;

	(void)state;
	/* one backlogged class: served on and on, repeated picks agree */
	ist_shaper_set_backlog(s, 0, true);
	ist_shaper_set_backlog(s, 0, true); /* idempotent: queued once */
	for (i = 0; i < 10; i++) {
		assert_int_equal(ist_shaper_pick(s, 1), 0);
		assert_int_equal(ist_shaper_pick(s, 1), 0);
		ist_shaper_charge(s, 0, 1000, 1);
	}
	assert_int_equal(stats(s, 0).deferred, 0);

	/* class 1 joins after a long time alone for 0: it banked nothing while
	 * idle, gets one quantum per turn; the order follows 2:1 */
	ist_shaper_set_backlog(s, 1, true);
	run = 0;
	last = -1;
	for (i = 0; i < 300; i++) {
		c = ist_shaper_pick(s, 2);
		assert_true(c == 0 || c == 1);
		run = c == last ? run + 1 : 1;
		last = c;
		assert_true(run <= (c == 0 ? 2 : 1));
		ist_shaper_charge(s, (uint32_t)c, 1000, 2);
	}
	assert_true(stats(s, 0).deferred > 0);
	assert_true(stats(s, 0).frames - 10 <= 2 * stats(s, 1).frames + 2);
	assert_true(stats(s, 0).frames - 10 + 2 >= 2 * stats(s, 1).frames);

	/* going idle drops credit: 1 sends 400 of its 1000 bytes, goes idle and
	 * comes back before it left the head; with its 600 bytes kept it would
	 * be picked again, without them it is 0's turn */
	while ((c = ist_shaper_pick(s, 3)) != 1)
		ist_shaper_charge(s, (uint32_t)c, 1000, 3);
	ist_shaper_charge(s, 1, 400, 3);
	assert_int_equal(ist_shaper_pick(s, 3), 1);
	ist_shaper_set_backlog(s, 1, false);
	ist_shaper_set_backlog(s, 1, true);
	assert_int_equal(ist_shaper_pick(s, 3), 0);

	/* ... but keeps its debt: 1 sends 5000 bytes on a 1000-byte quantum,
	 * goes idle and comes back; it sits out four turns of 0 */
	{
		const struct ist_shaper_class_cfg two[2] = {{0, 0, 1}, {0, 0, 1}};
		struct ist_shaper *s2 = mk(2, two, 1000000000ull, 1000);
		int zeros = 0;

		ist_shaper_set_backlog(s2, 0, true);
		ist_shaper_set_backlog(s2, 1, true);
		assert_int_equal(ist_shaper_pick(s2, 1), 0);
		ist_shaper_charge(s2, 0, 1000, 1);
		assert_int_equal(ist_shaper_pick(s2, 1), 1);
		ist_shaper_charge(s2, 1, 5000, 1);
		ist_shaper_set_backlog(s2, 1, false);
		assert_int_equal(ist_shaper_pick(s2, 1), 0);
		ist_shaper_set_backlog(s2, 1, true);
		while ((c = ist_shaper_pick(s2, 1)) == 0) {
			ist_shaper_charge(s2, 0, 1000, 1);
			zeros++;
		}
		assert_int_equal(c, 1);
		assert_int_equal(zeros, 5);
		ist_shaper_free(s2);
	}

	/* idle classes never come out of pick(), even while still queued */
	ist_shaper_set_backlog(s, 0, false);
	ist_shaper_set_backlog(s, 1, false);
	assert_int_equal(ist_shaper_pick(s, 4), -1);
	assert_int_equal(ist_shaper_next_eligible(s, 4), UINT64_MAX);
	ist_shaper_set_backlog(s, 2, true);
	for (i = 0; i < 5; i++) {
		assert_int_equal(ist_shaper_pick(s, 5), 2);
		ist_shaper_charge(s, 2, 700, 5);
	}
	ist_shaper_free(s);
}

/* ---- next_eligible ---- */

static void test_next_eligible_exact(void **state)
{
	const struct ist_shaper_class_cfg cfg[5] = {
		{1000000ull, 1500, 1},
		{3000007ull, 9000, 2},
		{12345678ull, 65536, 3},
		{1000000000ull, 200000, 4},
		{0, 0, 5},
	};
	const uint64_t hz = 2100000000ull;
	struct ist_shaper *s = mk(5, cfg, hz, 4000);
	bool bl[5] = {true, true, true, true, false};
	uint64_t seed = 99, now = 1000, waits = 0;
	uint32_t i, k;

	(void)state;
	for (k = 0; k < 4; k++)
		ist_shaper_set_backlog(s, k, true);
	for (i = 0; i < 300000; i++) {
		uint64_t r = lcg(&seed), t;
		int c;

		if (r % 16 == 0) {
			k = (uint32_t)(lcg(&seed) % 5);
			/* the unlimited class only rarely, or nothing would ever wait */
			if (k != 4 || r % 256 == 0 || bl[4]) {
				bl[k] = !bl[k];
				ist_shaper_set_backlog(s, k, bl[k]);
			}
		}
		t = ist_shaper_next_eligible(s, now);
		assert_true(t >= now);
		if (t == UINT64_MAX) {
			assert_false(bl[0] || bl[1] || bl[2] || bl[3] || bl[4]);
			assert_int_equal(ist_shaper_pick(s, now), -1);
			now += 1000;
			continue;
		}
		if (t > now) {
			waits++;
			assert_int_equal(ist_shaper_pick(s, now), -1);
			assert_int_equal(ist_shaper_pick(s, t - 1), -1);
			/* asking again, later, gives the same answer */
			assert_int_equal(ist_shaper_next_eligible(s, t - 1), t);
			now = t;
		}
		c = ist_shaper_pick(s, now);
		assert_true(c >= 0 && c < 5);
		assert_true(bl[c]);
		/* sometimes a charge to another class (a retransmission) */
		if (r % 32 == 1)
			c = (int)(lcg(&seed) % 4);
		ist_shaper_charge(s, (uint32_t)c, 1 + (uint32_t)(lcg(&seed) % 65536), now);
		if (r % 8 == 3)
			now += lcg(&seed) % (hz / 1000);
	}
	assert_true(waits > 10000);
	ist_shaper_free(s);
}

/* ---- large TSC values ---- */

static void test_large_tsc(void **state)
{
	const uint64_t hz = 3000000000ull, day = 86400ull * hz, year = 366 * day;
	const struct ist_shaper_class_cfg fast = {1250000000ull, 1u << 20, 1}; /* 10 Gb/s */
	struct ist_shaper *s;
	uint64_t t0 = UINT64_MAX - year - hz, now, d;
	struct sim m;

	(void)state;
	/* a year of 1 kB/s with 64 KiB frames, ending a second below 2^64:
	 * exact at every frame (env_on_send) */
	conformance(1000, 65536, hz, t0, 366 * 86400ull, 65536);

	/* 10 Gb/s, once a day for a year: idle refills exactly the burst, then
	 * 1 ms of sending adds exactly rate * 1 ms (+ one frame of debt) */
	s = mk(1, &fast, hz, IST_SHAPER_QUANTUM_DEFAULT);
	now = t0;
	for (d = 0; d < 366; d++) {
		uint64_t start = t0 + d * day, sent;

		sim_init(&m, s, start, 0, hz);
		m.frame_max = 65536;
		sim_run(&m, start + hz / 1000);
		sent = m.sent[0];
		if (sent + 65536 < (1u << 20) + 1250000ull ||
		    sent > (1u << 20) + 1250000ull + 65535)
			fail_msg("day %llu: sent %llu", (unsigned long long)d,
				 (unsigned long long)sent);
		ist_shaper_set_backlog(s, 0, false);
		now = m.now;
	}
	assert_true(now > UINT64_MAX - 2 * day);
	assert_int_equal(ist_shaper_next_eligible(s, now), UINT64_MAX);
	ist_shaper_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_invalid),
		cmocka_unit_test(test_conformance_long),
		cmocka_unit_test(test_burst_after_idle),
		cmocka_unit_test(test_weights_unlimited),
		cmocka_unit_test(test_hot_class_isolated),
		cmocka_unit_test(test_resume_turn),
		cmocka_unit_test(test_unlimited_with_weight),
		cmocka_unit_test(test_hot_cannot_starve),
		cmocka_unit_test(test_drr_details),
		cmocka_unit_test(test_next_eligible_exact),
		cmocka_unit_test(test_large_tsc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
