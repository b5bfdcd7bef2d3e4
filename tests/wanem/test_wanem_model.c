/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The impairment model of isthmus-wanem (perf/wanem_model.c) with a fake
 * clock in nanoseconds: spec and command parsing with every error, the
 * statistics of each impairment for a fixed seed, delay-line ordering, the
 * rate cap, the partition schedule, determinism and the idle back-off.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wanem_model.h"

#define HZ    1000000000ull /* the fake clock counts nanoseconds */
#define MS    1000000ull
#define S     1000000000ull
#define SEED  42
#define N_BIG 100000

static struct ist_wanem_spec parse_ok(const char *text)
{
	struct ist_wanem_spec sp;
	char err[IST_WANEM_ERR_MAX];
	int rc = ist_wanem_spec_parse(text, &sp, err, sizeof(err));

	if (rc != 0)
		fail_msg("'%s' refused: %s", text, err);
	return sp;
}

/* A direction with spec @p text, capacity @p cap, at time 0. */
static void dir_make(struct ist_wanem_dir *d, const char *text, uint32_t cap, uint64_t seed)
{
	struct ist_wanem_spec sp = parse_ok(text);

	assert_int_equal(ist_wanem_dir_init(d, cap, HZ, seed, 0), 0);
	ist_wanem_dir_set(d, &sp, 0);
}

static void *pkt(uint64_t seq)
{
	return (void *)(uintptr_t)(seq + 1);
}

static uint64_t seq_of(void *p)
{
	return (uint64_t)(uintptr_t)p - 1;
}

/* ---- Spec parsing ---- */

static void test_spec_full(void **state)
{
	struct ist_wanem_spec sp, again;
	char buf[IST_WANEM_SPEC_FMT_MAX], err[IST_WANEM_ERR_MAX];

	(void)state;
	sp = parse_ok("delay=50ms,jitter=2ms,loss=1%,burst=gilbert:p=0.5%:r=30%:h=50%,"
		      "reorder=1%,dup=0.5%,corrupt=0.1%,rate=200mbit,partition=10s@30s,"
		      "partition=5s@10s/60s,limit=5000");
	assert_int_equal(sp.delay_ns, 50 * MS);
	assert_int_equal(sp.jitter_ns, 2 * MS);
	assert_int_equal(sp.loss_ppb, 10000000);
	assert_true(sp.ge);
	assert_int_equal(sp.ge_p_ppb, 5000000);
	assert_int_equal(sp.ge_r_ppb, 300000000);
	assert_int_equal(sp.ge_h_ppb, 500000000);
	assert_int_equal(sp.ge_k_ppb, 0);
	assert_int_equal(sp.reorder_ppb, 10000000);
	assert_int_equal(sp.reorder_ns, 0);
	assert_int_equal(sp.dup_ppb, 5000000);
	assert_int_equal(sp.corrupt_ppb, 1000000);
	assert_int_equal(sp.rate_bps, 200000000);
	assert_int_equal(sp.limit, 5000);
	assert_int_equal(sp.n_part, 2);
	assert_int_equal(sp.part[0].len_ns, 10 * S);
	assert_int_equal(sp.part[0].start_ns, 30 * S);
	assert_int_equal(sp.part[0].period_ns, 0);
	assert_int_equal(sp.part[1].len_ns, 5 * S);
	assert_int_equal(sp.part[1].start_ns, 10 * S);
	assert_int_equal(sp.part[1].period_ns, 60 * S);

	/* What format writes, parse reads back to the same spec. */
	assert_true(ist_wanem_spec_format(&sp, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "delay=50ms,jitter=2ms,loss=1%,burst=gilbert:p=0.5%:r=30%:h=50%,"
				 "reorder=1%,dup=0.5%,corrupt=0.1%,rate=200mbit,limit=5000,"
				 "partition=10s@30s,partition=5s@10s/60s");
	assert_int_equal(ist_wanem_spec_parse(buf, &again, err, sizeof(err)), 0);
	assert_memory_equal(&sp, &again, sizeof(sp));
	/* Too small a buffer is an error, not a cut-off spec. */
	assert_int_equal(ist_wanem_spec_format(&sp, buf, 20), -ENOSPC);
}

static void test_spec_forms(void **state)
{
	struct ist_wanem_spec sp;
	char buf[IST_WANEM_SPEC_FMT_MAX];

	(void)state;
	sp = parse_ok("");
	assert_int_equal(sp.delay_ns, 0);
	assert_int_equal(ist_wanem_spec_format(&sp, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "none");
	sp = parse_ok(" none ");
	assert_false(sp.ge);
	sp = parse_ok(" delay = 1.5ms , loss=0.0000001% ,rate=1.5gbit, jitter=250us");
	assert_int_equal(sp.delay_ns, 1500000);
	assert_int_equal(sp.loss_ppb, 1);
	assert_int_equal(sp.rate_bps, 1500000000);
	assert_int_equal(sp.jitter_ns, 250000);
	sp = parse_ok("rate=10mbps,reorder=2%:5ms,burst=ge:p=1%:r=10%:k=0.1%");
	assert_int_equal(sp.rate_bps, 80000000);
	assert_int_equal(sp.reorder_ns, 5 * MS);
	assert_int_equal(sp.ge_h_ppb, IST_WANEM_PPB); /* h defaults to 100% */
	assert_int_equal(sp.ge_k_ppb, 1000000);
	sp = parse_ok("delay=100ns,jitter=60s,loss=100%,rate=1tbit");
	assert_int_equal(sp.delay_ns, 100);
	assert_int_equal(sp.jitter_ns, 60 * S);
	assert_int_equal(sp.loss_ppb, IST_WANEM_PPB);
	assert_int_equal(sp.rate_bps, 1000000000000ull);
	sp = parse_ok("rate=1kbit");
	assert_int_equal(sp.rate_bps, 1000);
}

struct bad_spec {
	const char *text;
	const char *says;
};

static void test_spec_errors(void **state)
{
	static char many[200], longest[IST_WANEM_SPEC_TEXT_MAX + 8];
	const struct bad_spec bad[] = {
		{"delay", "bad item 'delay': expected KEY=VALUE"},
		{"foo=1", "unknown item 'foo=1'"},
		{"delay=50", "needs a unit: ns, us, ms or s"},
		{"delay=abc", "is not a duration"},
		{"delay=-5ms", "is not a duration"},
		{"delay=61s", "is longer than 60 s"},
		{"delay=1.0000000001s", "more than 9 decimals"},
		{"jitter=5 ms", "needs a unit"},
		{"delay=1ms,delay=2ms", "delay is given twice"},
		{"loss=5", "'5' is not a percentage"},
		{"loss=101%", "is above 100%"},
		{"loss=0.00000001%", "more than 7 decimals"},
		{"loss=%", "is not a percentage"},
		{"loss=1%%", "is not a percentage"},
		{"burst=markov:p=1%:r=1%", "the model must be 'gilbert'"},
		{"burst=", "the model must be 'gilbert'"},
		{"burst=gilbert:p=1%", "p (good->bad) and r (bad->good) are required"},
		{"burst=gilbert:p=1%:r=0%", "r must be above 0%"},
		{"burst=gilbert:p=1%:r=10%:x=1%", "unknown parameter 'x=1%'"},
		{"burst=gilbert:p=1%:p=2%:r=10%", "parameter 'p' given twice"},
		{"burst=gilbert:p=1:r=10%", "'1' is not a percentage"},
		{"reorder=1%:0ms", "the hold-back time must be above 0"},
		{"reorder=1%:5", "needs a unit"},
		{"reorder=x", "is not a percentage"},
		{"dup=x", "is not a percentage"},
		{"corrupt=200%", "is above 100%"},
		{"rate=100", "needs a unit: bit, kbit"},
		{"rate=100furlongs", "needs a unit"},
		{"rate=10bit", "outside 1kbit..1tbit"},
		{"rate=2tbit", "outside 1kbit..1tbit"},
		{"rate=fast", "is not a rate"},
		{"limit=0", "is not a packet count"},
		{"limit=abc", "is not a packet count"},
		{"limit=99999999", "is not a packet count"},
		{"limit=-1", "is not a packet count"},
		{"partition=10s", "expected LEN@START"},
		{"partition=0s@1s", "the length must be above 0"},
		{"partition=10s@30s/5s", "the period must be longer than the partition"},
		{"partition=10s@30s/10s", "the period must be longer than the partition"},
		{"partition=10s@30x", "needs a unit"},
		{"partition=2d@1s", "needs a unit"},
		{"partition=86401s@1s", "is longer than 86400 s"},
		{many, "more than 8 partitions"},
		{"delay=1ms,,loss=1%", "empty item"},
		{"delay=1ms,", "empty item"},
		{",delay=1ms", "empty item"},
		{longest, "spec is longer than"},
	};
	struct ist_wanem_spec sp;
	char err[IST_WANEM_ERR_MAX];

	(void)state;
	many[0] = '\0';
	for (int i = 0; i < 9; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%spartition=1s@%ds",
			 i ? "," : "", i * 10);
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (ist_wanem_spec_parse(bad[i].text, &sp, err, sizeof(err)) != -EINVAL)
			fail_msg("'%.40s' accepted", bad[i].text);
		if (strstr(err, bad[i].says) == NULL)
			fail_msg("'%.40s': error '%s' lacks '%s'", bad[i].text, err, bad[i].says);
		/* Every error names the accepted syntax, on one line. */
		if (strstr(err, "accepted: ") == NULL || strchr(err, '\n') != NULL)
			fail_msg("'%.40s': error '%s' does not give the syntax", bad[i].text, err);
	}
	/* An item's error shows that item's syntax; an unknown key shows them all. */
	assert_int_equal(ist_wanem_spec_parse("rate=1", &sp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "accepted: rate=RATE"));
	assert_int_equal(ist_wanem_spec_parse("bogus=1", &sp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ist_wanem_spec_syntax));
}

static void test_time_parse(void **state)
{
	char err[IST_WANEM_ERR_MAX];
	uint64_t ns;

	(void)state;
	assert_int_equal(ist_wanem_time_parse("2", true, 10 * S, &ns, err, sizeof(err)), 0);
	assert_int_equal(ns, 2 * S);
	assert_int_equal(ist_wanem_time_parse("0.25", true, 10 * S, &ns, err, sizeof(err)), 0);
	assert_int_equal(ns, 250 * MS);
	assert_int_equal(ist_wanem_time_parse("2", false, 10 * S, &ns, err, sizeof(err)), -EINVAL);
	assert_int_equal(ist_wanem_time_parse("7us", false, 10 * S, &ns, err, sizeof(err)), 0);
	assert_int_equal(ns, 7000);
	assert_int_equal(ist_wanem_time_parse("11s", true, 10 * S, &ns, err, sizeof(err)), -EINVAL);
	assert_int_equal(ist_wanem_time_parse("", true, 10 * S, &ns, err, sizeof(err)), -EINVAL);
	assert_int_equal(ist_wanem_time_parse("99999999999s", true, 10 * S, &ns, err, sizeof(err)),
			 -EINVAL);
}

/* ---- Control commands ---- */

static void test_cmd_parse(void **state)
{
	static const struct bad_spec bad[] = {
		{"partition", "usage: partition SECONDS"},
		{"partition 1 2", "usage: partition SECONDS"},
		{"partition x", "partition: 'x' is not a duration"},
		{"partition 0", "the length must be above 0"},
		{"partition 2d", "needs a unit"},
		{"set", "usage: set ab|ba|both SPEC"},
		{"set ab", "usage: set ab|ba|both SPEC"},
		{"set up delay=1ms", "direction 'up' is not ab, ba or both"},
		{"set ab loss=5", "bad item 'loss=5'"},
		{"heal now", "heal takes no argument"},
		{"stats x", "stats takes no argument"},
		{"reboot", "unknown command 'reboot'"},
	};
	struct ist_wanem_cmd cmd;
	char err[IST_WANEM_ERR_MAX];

	(void)state;
	assert_int_equal(ist_wanem_cmd_parse("partition 2", &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_WANEM_CMD_PARTITION);
	assert_int_equal(cmd.dur_ns, 2 * S);
	assert_int_equal(ist_wanem_cmd_parse("partition 500ms\n", &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.dur_ns, 500 * MS);
	assert_int_equal(ist_wanem_cmd_parse("  heal ", &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_WANEM_CMD_HEAL);
	assert_int_equal(ist_wanem_cmd_parse("set both delay=5ms, loss=1%", &cmd, err, sizeof(err)),
			 0);
	assert_int_equal(cmd.type, IST_WANEM_CMD_SET);
	assert_int_equal(cmd.dirs, IST_WANEM_DIR_AB | IST_WANEM_DIR_BA);
	assert_int_equal(cmd.spec.delay_ns, 5 * MS);
	assert_int_equal(cmd.spec.loss_ppb, 10000000);
	assert_int_equal(ist_wanem_cmd_parse("set ab none", &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.dirs, IST_WANEM_DIR_AB);
	assert_int_equal(ist_wanem_cmd_parse("set ba rate=1gbit", &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.dirs, IST_WANEM_DIR_BA);
	assert_int_equal(ist_wanem_cmd_parse("stats", &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_WANEM_CMD_STATS);
	assert_int_equal(ist_wanem_cmd_parse("show", &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_WANEM_CMD_SHOW);
	assert_int_equal(ist_wanem_cmd_parse("help", &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_WANEM_CMD_HELP);
	assert_int_equal(ist_wanem_cmd_parse("quit", &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_WANEM_CMD_QUIT);
	assert_int_equal(ist_wanem_cmd_parse("   ", &cmd, err, sizeof(err)), -ENODATA);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (ist_wanem_cmd_parse(bad[i].text, &cmd, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' accepted", bad[i].text);
		if (strstr(err, bad[i].says) == NULL)
			fail_msg("'%s': error '%s' lacks '%s'", bad[i].text, err, bad[i].says);
	}
}

/* ---- Statistics of the impairments ---- */

static void test_loss_rate(void **state)
{
	struct ist_wanem_dir d;
	struct ist_wanem_act act;
	void *tx[64], *drop[64];
	uint16_t nd;
	uint64_t lost = 0;

	(void)state;
	dir_make(&d, "loss=1%", 1024, SEED);
	for (uint64_t i = 0; i < N_BIG; i++) {
		if (ist_wanem_dir_admit(&d, pkt(i), 100, i, &act) == IST_WANEM_DROP_LOSS)
			lost++;
		ist_wanem_dir_release(&d, i, tx, 64, drop, &nd);
	}
	/* 1% +- 0.2% of 100k: the binomial's sd is 31, so this is over 6 sd. */
	assert_in_range(lost, 800, 1200);
	assert_int_equal(d.c.dropped_loss, lost);
	assert_int_equal(d.c.rx, N_BIG);
	ist_wanem_dir_fini(&d);
}

static void test_gilbert_elliott(void **state)
{
	struct ist_wanem_dir d;
	struct ist_wanem_act act;
	void *tx[64], *drop[64];
	uint16_t nd;
	uint64_t bursts = 0, lost = 0, run = 0;

	(void)state;
	/* h = 100%, k = 0%: every bad-state packet is lost, no good-state one. */
	dir_make(&d, "burst=gilbert:p=1%:r=25%", 1024, SEED);
	for (uint64_t i = 0; i < N_BIG; i++) {
		enum ist_wanem_verdict v = ist_wanem_dir_admit(&d, pkt(i), 100, i, &act);

		assert_true(v == IST_WANEM_QUEUED || v == IST_WANEM_DROP_BURST);
		if (v == IST_WANEM_DROP_BURST) {
			lost++;
			run++;
		} else if (run != 0) {
			bursts++;
			run = 0;
		}
		ist_wanem_dir_release(&d, i, tx, 64, drop, &nd);
	}
	assert_int_equal(d.c.dropped_burst, lost);
	assert_true(bursts > 500);
	/* Mean burst 1/r = 4 packets (+-15%); lost fraction p/(p+r) = 3.85% (+-0.6%). */
	assert_in_range(lost * 100 / bursts, 340, 460);
	assert_in_range(lost, 3250, 4450);
	ist_wanem_dir_fini(&d);

	/* h = 50% and k = 1%: losses in both states, still bursty. */
	dir_make(&d, "burst=gilbert:p=1%:r=25%:h=50%:k=1%", 1024, SEED);
	lost = 0;
	for (uint64_t i = 0; i < N_BIG; i++) {
		lost += ist_wanem_dir_admit(&d, pkt(i), 100, i, &act) == IST_WANEM_DROP_BURST;
		ist_wanem_dir_release(&d, i, tx, 64, drop, &nd);
	}
	/* 0.0385 * 50% + 0.9615 * 1% = 2.89% */
	assert_in_range(lost, 2400, 3400);
	ist_wanem_dir_fini(&d);
}

/*
 * Feed one packet every @p gap ns through @p spec, releasing as the clock
 * goes, then everything; @return the release order in @p order.
 */
static uint64_t run_order(const char *spec, uint64_t n, uint64_t gap, uint64_t *order,
			  struct ist_wanem_counters *c)
{
	struct ist_wanem_dir d;
	struct ist_wanem_act act;
	void *tx[64], *drop[64];
	uint16_t k, nd;
	uint64_t got = 0, now = 0;

	dir_make(&d, spec, 1u << 16, SEED);
	for (uint64_t i = 0; i < n; i++, now += gap) {
		assert_int_equal(ist_wanem_dir_admit(&d, pkt(i), 100, now, &act), IST_WANEM_QUEUED);
		do {
			uint64_t due = ist_wanem_dir_next_due(&d);

			k = ist_wanem_dir_release(&d, now, tx, 64, drop, &nd);
			assert_int_equal(nd, 0);
			/* Never released before it is due. */
			if (k != 0)
				assert_true(due <= now);
			for (uint16_t j = 0; j < k; j++)
				order[got++] = seq_of(tx[j]);
		} while (k != 0);
	}
	while ((k = ist_wanem_dir_release(&d, UINT64_MAX - 1, tx, 64, drop, &nd)) != 0)
		for (uint16_t j = 0; j < k; j++)
			order[got++] = seq_of(tx[j]);
	*c = d.c;
	ist_wanem_dir_fini(&d);
	return got;
}

static uint64_t overtakes(const uint64_t *order, uint64_t n)
{
	uint64_t late = 0, max = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (i != 0 && order[i] < max)
			late++;
		if (order[i] > max)
			max = order[i];
	}
	return late;
}

static void test_reorder(void **state)
{
	uint64_t *order = calloc(20000, sizeof(*order));
	struct ist_wanem_counters c;
	uint64_t n;

	(void)state;
	assert_non_null(order);
	/* A held-back packet waits delay/2 = 5 ms more: 50 later packets overtake it. */
	n = run_order("delay=10ms,reorder=2%", 20000, 100000, order, &c);
	assert_int_equal(n, 20000);
	assert_in_range(c.reordered, 300, 500);
	assert_int_equal(overtakes(order, n), c.reordered);

	/* An explicit hold-back time. */
	n = run_order("delay=10ms,reorder=2%:1ms", 20000, 100000, order, &c);
	assert_int_equal(overtakes(order, n), c.reordered);

	/* Jitter of +-5 ms at one packet per 100 us, but no reorder: order is kept. */
	n = run_order("delay=10ms,jitter=5ms", 20000, 100000, order, &c);
	assert_int_equal(n, 20000);
	assert_int_equal(c.reordered, 0);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(order[i], i);
	free(order);
}

static void test_jitter_bounds(void **state)
{
	struct ist_wanem_dir d;
	struct ist_wanem_act act;
	void *tx[64], *drop[64];
	uint16_t nd;
	uint64_t now = 0, min = UINT64_MAX, max = 0;

	(void)state;
	/* One packet per 20 ms: no clamping, so the jitter shows as it is drawn. */
	dir_make(&d, "delay=10ms,jitter=3ms", 1024, SEED);
	for (int i = 0; i < 2000; i++, now += 20 * MS) {
		uint64_t due;

		ist_wanem_dir_admit(&d, pkt(i), 100, now, &act);
		due = ist_wanem_dir_next_due(&d) - now;
		if (due < min)
			min = due;
		if (due > max)
			max = due;
		assert_int_equal(ist_wanem_dir_release(&d, now + due, tx, 64, drop, &nd), 1);
	}
	assert_true(min >= 7 * MS && min < 7 * MS + 100000);
	assert_true(max <= 13 * MS && max > 13 * MS - 100000);
	ist_wanem_dir_fini(&d);

	/* Jitter larger than the delay never makes a packet due before it arrived. */
	dir_make(&d, "delay=1ms,jitter=5ms", 1024, SEED);
	for (int i = 0; i < 1000; i++, now += 20 * MS) {
		ist_wanem_dir_admit(&d, pkt(i), 100, now, &act);
		assert_true(ist_wanem_dir_next_due(&d) >= now);
		assert_int_equal(ist_wanem_dir_release(&d, now + 6 * MS, tx, 64, drop, &nd), 1);
	}
	ist_wanem_dir_fini(&d);
}

static void test_dup_corrupt(void **state)
{
	struct ist_wanem_dir d;
	struct ist_wanem_act act;
	void *tx[64], *drop[64];
	uint16_t k, nd;
	uint64_t dups = 0, corrupt = 0, out = 0;

	(void)state;
	dir_make(&d, "dup=2%,corrupt=1%", 1024, SEED);
	for (uint64_t i = 0; i < N_BIG; i++) {
		assert_int_equal(ist_wanem_dir_admit(&d, pkt(i), 200, i, &act), IST_WANEM_QUEUED);
		dups += act.dup;
		if (act.corrupt_bit != IST_WANEM_NO_BIT) {
			corrupt++;
			/* Past the Ethernet header, inside the frame. */
			assert_in_range(act.corrupt_bit, 14 * 8, 200 * 8 - 1);
		}
		k = ist_wanem_dir_release(&d, i, tx, 64, drop, &nd);
		/* A duplicate is the same packet twice, back to back. */
		if (act.dup) {
			assert_int_equal(k, 2);
			assert_ptr_equal(tx[0], tx[1]);
		}
		out += k;
	}
	assert_in_range(dups, 1800, 2200);
	assert_in_range(corrupt, 800, 1200);
	assert_int_equal(d.c.duplicated, dups);
	assert_int_equal(d.c.corrupted, corrupt);
	assert_int_equal(out, N_BIG + dups);
	ist_wanem_dir_fini(&d);

	/* A frame with nothing past the Ethernet header is never corrupted. */
	dir_make(&d, "corrupt=100%", 1024, SEED);
	ist_wanem_dir_admit(&d, pkt(0), 14, 0, &act);
	assert_int_equal(act.corrupt_bit, IST_WANEM_NO_BIT);
	ist_wanem_dir_admit(&d, pkt(1), 15, 0, &act);
	assert_in_range(act.corrupt_bit, 112, 119);
	ist_wanem_dir_fini(&d);
}

/* ---- Rate cap and queue limit ---- */

/* Offer len-byte packets at offered_bps for window ns; @return bytes released by then. */
static uint64_t rate_run(const char *spec, uint32_t len, uint64_t offered_bps, uint64_t window,
			 struct ist_wanem_counters *c, uint32_t *max_queued)
{
	struct ist_wanem_dir d;
	struct ist_wanem_act act;
	void *tx[64], *drop[64];
	uint16_t k, nd;
	uint64_t bytes = 0, gap = (uint64_t)len * 8 * HZ / offered_bps, i = 0;

	dir_make(&d, spec, 1u << 20, SEED);
	*max_queued = 0;
	for (uint64_t now = 0; now <= window; now += gap, i++) {
		ist_wanem_dir_admit(&d, pkt(i), len, now, &act);
		if (ist_wanem_dir_queued(&d) > *max_queued)
			*max_queued = ist_wanem_dir_queued(&d);
		while ((k = ist_wanem_dir_release(&d, now, tx, 64, drop, &nd)) != 0)
			bytes += (uint64_t)k * len;
	}
	*c = d.c;
	ist_wanem_dir_fini(&d);
	return bytes;
}

static void test_rate_cap(void **state)
{
	struct ist_wanem_counters c;
	uint32_t maxq;
	uint64_t bytes;

	(void)state;
	/* 1000-byte packets offered at twice the cap for 1 s: 12.5 MB leave, +-2%. */
	bytes = rate_run("rate=100mbit", 1000, 200000000, S, &c, &maxq);
	assert_in_range(bytes, 12250000, 12750000);
	/* The excess waits rather than being dropped. */
	assert_int_equal(c.dropped_queue_full, 0);
	assert_true(maxq > 10000);

	/* 64-byte packets at 1 Gbit/s over 100 ms: the remainder carry keeps it exact. */
	bytes = rate_run("rate=1gbit", 64, 2000000000, 100 * MS, &c, &maxq);
	assert_in_range(bytes, 12437500, 12562500);

	/* Under the cap: everything passes with no more than serialisation delay. */
	bytes = rate_run("rate=100mbit", 1000, 50000000, S, &c, &maxq);
	assert_in_range(bytes, 6240000, 6260000);
	assert_true(maxq <= 2);

	/* With a limit the backlog is tail-dropped and counted. */
	bytes = rate_run("rate=100mbit,limit=100", 1000, 200000000, S, &c, &maxq);
	assert_in_range(bytes, 12250000, 12750000);
	assert_true(maxq <= 100);
	assert_in_range(c.dropped_queue_full, 12000, 13000);
}

static void test_queue_full(void **state)
{
	struct ist_wanem_dir d;
	struct ist_wanem_act act;
	void *out[64];
	uint32_t n;

	(void)state;
	dir_make(&d, "delay=1s", 16, SEED);
	for (int i = 0; i < 16; i++)
		assert_int_equal(ist_wanem_dir_admit(&d, pkt(i), 100, i, &act), IST_WANEM_QUEUED);
	assert_int_equal(ist_wanem_dir_admit(&d, pkt(16), 100, 16, &act),
			 IST_WANEM_DROP_QUEUE_FULL);
	assert_int_equal(d.c.dropped_queue_full, 1);
	assert_int_equal(ist_wanem_dir_queued(&d), 16);
	n = ist_wanem_dir_flush(&d, out, 64);
	assert_int_equal(n, 16);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(seq_of(out[i]), i);
	assert_int_equal(ist_wanem_dir_queued(&d), 0);
	assert_int_equal(ist_wanem_dir_next_due(&d), UINT64_MAX);
	ist_wanem_dir_fini(&d);

	/* A duplicate needs a second slot; without one the original still goes. */
	dir_make(&d, "delay=1s,dup=100%,limit=3", 16, SEED);
	assert_int_equal(ist_wanem_dir_admit(&d, pkt(0), 100, 0, &act), IST_WANEM_QUEUED);
	assert_true(act.dup);
	assert_int_equal(ist_wanem_dir_admit(&d, pkt(1), 100, 0, &act), IST_WANEM_QUEUED);
	assert_false(act.dup);
	assert_int_equal(ist_wanem_dir_queued(&d), 3);
	assert_int_equal(ist_wanem_dir_admit(&d, pkt(2), 100, 0, &act), IST_WANEM_DROP_QUEUE_FULL);
	ist_wanem_dir_flush(&d, out, 64);
	ist_wanem_dir_fini(&d);

	/* Bad capacities are refused. */
	assert_int_equal(ist_wanem_dir_init(&d, 1000, HZ, SEED, 0), -EINVAL);
	assert_int_equal(ist_wanem_dir_init(&d, 1024, 0, SEED, 0), -EINVAL);
}

static void test_queue_size(void **state)
{
	struct ist_wanem_spec sp;

	(void)state;
	sp = parse_ok("delay=50ms");
	assert_int_equal(ist_wanem_queue_size(&sp), IST_WANEM_QUEUE_DEFAULT);
	/* 200 Mbit/s over 50 + 100 ms in 512-byte packets: 7324, rounded up. */
	sp = parse_ok("delay=50ms,rate=200mbit");
	assert_int_equal(ist_wanem_queue_size(&sp), 8192);
	sp = parse_ok("rate=1mbit");
	assert_int_equal(ist_wanem_queue_size(&sp), IST_WANEM_QUEUE_MIN);
	sp = parse_ok("delay=10s,rate=10gbit");
	assert_int_equal(ist_wanem_queue_size(&sp), 65536);
	sp = parse_ok("rate=1mbit,limit=100000");
	assert_int_equal(ist_wanem_queue_size(&sp), 131072);
}

/* ---- Partitions ---- */

static void test_partition_schedule(void **state)
{
	struct ist_wanem_dir d;

	(void)state;
	dir_make(&d, "partition=2s@3s", 16, SEED);
	assert_false(ist_wanem_dir_cut(&d, 0));
	assert_false(ist_wanem_dir_cut(&d, 3 * S - 1));
	assert_true(ist_wanem_dir_cut(&d, 3 * S));
	assert_true(ist_wanem_dir_cut(&d, 5 * S - 1));
	assert_false(ist_wanem_dir_cut(&d, 5 * S));
	assert_false(ist_wanem_dir_cut(&d, 1000 * S));
	ist_wanem_dir_fini(&d);

	dir_make(&d, "partition=1s@2s/5s", 16, SEED);
	assert_false(ist_wanem_dir_cut(&d, 2 * S - 1));
	for (uint64_t k = 0; k < 5; k++) {
		uint64_t on = 2 * S + k * 5 * S;

		assert_true(ist_wanem_dir_cut(&d, on));
		assert_true(ist_wanem_dir_cut(&d, on + S - 1));
		assert_false(ist_wanem_dir_cut(&d, on + S));
		assert_false(ist_wanem_dir_cut(&d, on + 5 * S - 1));
	}
	ist_wanem_dir_fini(&d);

	/* Several windows; the schedule counts from when the spec took effect. */
	{
		struct ist_wanem_spec sp = parse_ok("partition=1s@1s,partition=1s@10s/20s");

		assert_int_equal(ist_wanem_dir_init(&d, 16, HZ, SEED, 0), 0);
		ist_wanem_dir_set(&d, &sp, 100 * S);
		assert_false(ist_wanem_dir_cut(&d, 100 * S));
		assert_true(ist_wanem_dir_cut(&d, 101 * S));
		assert_false(ist_wanem_dir_cut(&d, 102 * S));
		assert_true(ist_wanem_dir_cut(&d, 110 * S));
		assert_true(ist_wanem_dir_cut(&d, 130 * S));
		assert_false(ist_wanem_dir_cut(&d, 131 * S));
		ist_wanem_dir_fini(&d);
	}
}

static void test_partition_traffic(void **state)
{
	struct ist_wanem_dir d;
	struct ist_wanem_act act;
	void *tx[64], *drop[64];
	uint16_t k, nd;

	(void)state;
	/* A packet in flight when the cut starts is lost with it. */
	dir_make(&d, "delay=100ms,partition=1s@1s", 16, SEED);
	assert_int_equal(ist_wanem_dir_admit(&d, pkt(0), 100, 950 * MS, &act), IST_WANEM_QUEUED);
	k = ist_wanem_dir_release(&d, 1050 * MS, tx, 64, drop, &nd);
	assert_int_equal(k, 0);
	assert_int_equal(nd, 1);
	assert_ptr_equal(drop[0], pkt(0));
	assert_int_equal(ist_wanem_dir_admit(&d, pkt(1), 100, 1500 * MS, &act),
			 IST_WANEM_DROP_PARTITION);
	assert_int_equal(d.c.dropped_partition, 2);
	assert_int_equal(ist_wanem_dir_admit(&d, pkt(2), 100, 2 * S, &act), IST_WANEM_QUEUED);
	assert_int_equal(ist_wanem_dir_release(&d, 2100 * MS, tx, 64, drop, &nd), 1);
	ist_wanem_dir_fini(&d);

	/* On command: cut now for 2 s, heal early, cut again and let it run out. */
	dir_make(&d, "none", 16, SEED);
	ist_wanem_dir_partition(&d, 10 * S, 2 * S);
	assert_true(ist_wanem_dir_cut(&d, 10 * S));
	assert_true(ist_wanem_dir_cut(&d, 12 * S - 1));
	assert_false(ist_wanem_dir_cut(&d, 12 * S));
	ist_wanem_dir_partition(&d, 20 * S, 2 * S);
	ist_wanem_dir_heal(&d, 21 * S);
	assert_false(ist_wanem_dir_cut(&d, 21 * S));
	ist_wanem_dir_fini(&d);

	/* Heal ends the scheduled window under way; the next one cuts again. */
	dir_make(&d, "partition=2s@1s/10s", 16, SEED);
	assert_true(ist_wanem_dir_cut(&d, 1500 * MS));
	ist_wanem_dir_heal(&d, 1500 * MS);
	assert_false(ist_wanem_dir_cut(&d, 1500 * MS));
	assert_false(ist_wanem_dir_cut(&d, 2900 * MS));
	assert_true(ist_wanem_dir_cut(&d, 11 * S));
	ist_wanem_dir_fini(&d);
}

/* ---- Determinism ---- */

static uint64_t trace(uint64_t seed, const char *spec)
{
	struct ist_wanem_dir d;
	struct ist_wanem_act act;
	void *tx[64], *drop[64];
	uint16_t k, nd;
	uint64_t h = 1469598103934665603ull;

	dir_make(&d, spec, 1u << 16, seed);
	for (uint64_t i = 0; i < 20000; i++) {
		uint64_t now = i * 50000;
		enum ist_wanem_verdict v =
			ist_wanem_dir_admit(&d, pkt(i), 64 + (uint32_t)(i % 1400), now, &act);

		h = (h ^ (uint64_t)v ^ ((uint64_t)act.dup << 8) ^
		     ((uint64_t)act.corrupt_bit << 16)) *
		    1099511628211ull;
		h = (h ^ ist_wanem_dir_next_due(&d)) * 1099511628211ull;
		k = ist_wanem_dir_release(&d, now, tx, 64, drop, &nd);
		for (uint16_t j = 0; j < k; j++)
			h = (h ^ seq_of(tx[j])) * 1099511628211ull;
	}
	while (ist_wanem_dir_release(&d, UINT64_MAX - 1, tx, 64, drop, &nd) != 0)
		;
	ist_wanem_dir_fini(&d);
	return h;
}

static void test_determinism(void **state)
{
	static const char spec[] = "delay=5ms,jitter=1ms,loss=1%,burst=gilbert:p=1%:r=30%:h=50%,"
				   "reorder=2%,dup=1%,corrupt=1%,rate=100mbit";

	(void)state;
	assert_int_equal(trace(7, spec), trace(7, spec));
	assert_int_not_equal(trace(7, spec), trace(8, spec));
}

/* ---- Idle back-off and counters ---- */

static void test_idle(void **state)
{
	struct ist_wanem_idle id = {.spins = 2, .max_us = 100, .left = 2};

	(void)state;
	assert_int_equal(ist_wanem_idle_us(&id, false, 0, UINT64_MAX, HZ), 0);
	assert_int_equal(ist_wanem_idle_us(&id, false, 0, UINT64_MAX, HZ), 0);
	assert_int_equal(ist_wanem_idle_us(&id, false, 0, UINT64_MAX, HZ), 1);
	assert_int_equal(ist_wanem_idle_us(&id, false, 0, UINT64_MAX, HZ), 2);
	assert_int_equal(ist_wanem_idle_us(&id, false, 0, UINT64_MAX, HZ), 4);
	for (int i = 0; i < 10; i++)
		ist_wanem_idle_us(&id, false, 0, UINT64_MAX, HZ);
	assert_int_equal(ist_wanem_idle_us(&id, false, 0, UINT64_MAX, HZ), 100);
	/* The next due packet bounds the sleep; one due now means no sleep. */
	assert_int_equal(ist_wanem_idle_us(&id, false, 0, 30000, HZ), 30);
	assert_int_equal(ist_wanem_idle_us(&id, false, 5000, 5000, HZ), 0);
	assert_int_equal(ist_wanem_idle_us(&id, false, 0, 10 * S, HZ), 100);
	/* Work resets it. */
	assert_int_equal(ist_wanem_idle_us(&id, true, 0, UINT64_MAX, HZ), 0);
	assert_int_equal(ist_wanem_idle_us(&id, false, 0, UINT64_MAX, HZ), 0);
	/* max_us 0 busy-polls. */
	id.max_us = 0;
	for (int i = 0; i < 10; i++)
		assert_int_equal(ist_wanem_idle_us(&id, false, 0, UINT64_MAX, HZ), 0);
}

static void test_counters_format(void **state)
{
	static const char *const keys[] = {
		"ab.rx=1 ",
		"ab.tx=2 ",
		"ab.delayed=3 ",
		"ab.dropped_loss=4 ",
		"ab.dropped_burst=5 ",
		"ab.dropped_partition=6 ",
		"ab.dropped_queue_full=7 ",
		"ab.dropped_tx=8 ",
		"ab.reordered=9 ",
		"ab.duplicated=10 ",
		"ab.corrupted=11 ",
		"ab.bytes=12",
	};
	struct ist_wanem_counters c = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	char buf[512];

	(void)state;
	assert_true(ist_wanem_counters_format(&c, "ab.", buf, sizeof(buf)) > 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strstr(buf, keys[i]) == NULL)
			fail_msg("'%s' lacks '%s'", buf, keys[i]);
	assert_int_equal(ist_wanem_counters_format(&c, "", buf, 20), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_full),
		cmocka_unit_test(test_spec_forms),
		cmocka_unit_test(test_spec_errors),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_cmd_parse),
		cmocka_unit_test(test_loss_rate),
		cmocka_unit_test(test_gilbert_elliott),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_jitter_bounds),
		cmocka_unit_test(test_dup_corrupt),
		cmocka_unit_test(test_rate_cap),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_queue_size),
		cmocka_unit_test(test_partition_schedule),
		cmocka_unit_test(test_partition_traffic),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_counters_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
