/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The impairment model of isthmus-wanem (perf/wanem_model.c) with a fake
 * clock in nanoseconds: spec and command parsing with every error, the
 * statistics of each impairment for a fixed seed, delay-line ordering, the
 * rate cap, the partition schedule, determinism and the idle back-off; and
 * the bad packets of `inject`, checked with the link's own wire codec and
 * AEAD: which frames are kept, and that each kind is refused by the receive
 * path for the reason it is meant to hit.
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

#include "ist_aead.h"
#include "ist_keys.h"
#include "ist_wire.h"
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
		{"inject", "usage: inject ab|ba KIND COUNT"},
		{"inject ab", "usage: inject ab|ba KIND COUNT"},
		{"inject ab garbage", "usage: inject ab|ba KIND COUNT"},
		{"inject ab garbage 1 2", "usage: inject ab|ba KIND COUNT"},
		{"inject both garbage 1", "direction 'both' is not ab or ba"},
		{"inject ab noise 1", "unknown kind 'noise'"},
		{"inject ab garbage 0", "count '0' is not a number of packets 1..1000000"},
		{"inject ab garbage -1", "count '-1' is not"},
		{"inject ab garbage 1e3", "count '1e3' is not"},
		{"inject ab garbage 1000001", "count '1000001' is not"},
		{"inject ab garbage 99999999999999999999", "is not a number"},
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
	assert_int_equal(ist_wanem_cmd_parse("inject ab wrong-key 200", &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_WANEM_CMD_INJECT);
	assert_int_equal(cmd.dirs, IST_WANEM_DIR_AB);
	assert_int_equal(cmd.kind, IST_WANEM_INJ_WRONG_KEY);
	assert_int_equal(cmd.count, 200);
	assert_int_equal(
		ist_wanem_cmd_parse(" inject\tba wrong-version 1\n", &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.dirs, IST_WANEM_DIR_BA);
	assert_int_equal(cmd.kind, IST_WANEM_INJ_WRONG_VERSION);
	assert_int_equal(cmd.count, 1);
	assert_int_equal(ist_wanem_cmd_parse("inject ab garbage 1000000", &cmd, err, sizeof(err)),
			 0);
	assert_int_equal(cmd.kind, IST_WANEM_INJ_GARBAGE);
	assert_int_equal(cmd.count, IST_WANEM_INJ_COUNT_MAX);
	assert_int_equal(ist_wanem_cmd_parse("inject ba replay 7", &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.kind, IST_WANEM_INJ_REPLAY);
	for (unsigned int k = 0; k < IST_WANEM_INJ_KINDS; k++) {
		char line[64];

		snprintf(line, sizeof(line), "inject ab %s 3", ist_wanem_inj_kind_name(k));
		assert_int_equal(ist_wanem_cmd_parse(line, &cmd, err, sizeof(err)), 0);
		assert_int_equal(cmd.kind, k);
		assert_non_null(strstr(ist_wanem_cmd_help, ist_wanem_inj_kind_name(k)));
	}
	assert_null(ist_wanem_inj_kind_name(IST_WANEM_INJ_KINDS));
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
		"ab.bytes=12 ",
		"ab.injected_wrong_key=13 ",
		"ab.injected_wrong_version=14 ",
		"ab.injected_garbage=15 ",
		"ab.injected_replay=16 ",
		"ab.inject_dropped=17",
	};
	struct ist_wanem_counters c = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, {13, 14, 15, 16}, 17};
	char buf[512];

	(void)state;
	assert_true(ist_wanem_counters_format(&c, "ab.", buf, sizeof(buf)) > 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strstr(buf, keys[i]) == NULL)
			fail_msg("'%s' lacks '%s'", buf, keys[i]);
	assert_int_equal(ist_wanem_counters_format(&c, "", buf, 20), -ENOSPC);
}

/* ---- Bad packets for inject ---- */

#define LINK_PORT 7411
#define L234      IST_WANEM_INJ_L234_LEN

static struct ist_aead aead;

static const struct ist_key link_key = {
	.id = 3,
	.salt = {0x5a, 0x17, 0xc0, 0xde},
	.key = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32},
};

static int aead_setup(void **state)
{
	(void)state;
	return ist_aead_ctx_init(&aead);
}

static int aead_teardown(void **state)
{
	(void)state;
	ist_aead_ctx_fini(&aead);
	return 0;
}

static uint32_t be16_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint64_t be64_at(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static bool ip_cksum_ok(const uint8_t *frame)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += be16_at(frame + 14 + i);
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * A frame as the data plane sends it: Ethernet | IPv4 | UDP to LINK_PORT |
 * a DATA packet of epoch/pn with plen payload bytes, sealed under link_key
 * when keyed. @return its length.
 */
static uint32_t link_frame_make(uint8_t *f, uint32_t epoch, uint64_t pn, uint16_t plen, bool keyed)
{
	struct ist_hdr h = {
		.type = IST_WIRE_DATA,
		.flags = keyed ? IST_WIRE_F_AUTH : 0,
		.epoch = epoch,
		.peer_epoch = 0x0badcafe,
		.pn = pn,
		.key_id = keyed ? link_key.id : 0,
		.payload_len = plen,
	};
	uint32_t dg = IST_WIRE_HDR_LEN + plen + (keyed ? IST_WIRE_TAG_LEN : 0);
	uint8_t *ip = f + 14, *udp = f + 34, *w = f + L234;
	uint32_t sum = 0;

	memset(f, 0, L234);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((28 + dg) >> 8);
	ip[3] = (uint8_t)(28 + dg);
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\x0a\x63\x00\x01\x0a\x63\x00\x02", 8);
	for (int i = 0; i < 20; i += 2)
		sum += be16_at(ip + i);
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
	udp[0] = udp[2] = LINK_PORT >> 8;
	udp[1] = udp[3] = LINK_PORT & 0xff;
	udp[4] = (uint8_t)((8 + dg) >> 8);
	udp[5] = (uint8_t)(8 + dg);
	assert_int_equal(ist_wire_hdr_encode(w, IST_WIRE_HDR_LEN, &h), IST_WIRE_HDR_LEN);
	for (uint32_t i = 0; i < plen; i++)
		w[IST_WIRE_HDR_LEN + i] = (uint8_t)(i * 7 + pn);
	if (keyed)
		assert_int_equal(ist_aead_pkt_seal(&aead, &link_key, w, dg), 0);
	return L234 + dg;
}

/*
 * What the data plane's receive path says about a datagram, before the replay
 * window: 0 or an ist_wire_err. Opens a copy: the frame is left as it was.
 */
static int rx_verdict(const uint8_t *frame, uint32_t len, bool keyed)
{
	static uint8_t dg[IST_WANEM_INJ_FRAME_MAX];
	struct ist_hdr h;
	int rc;

	memcpy(dg, frame + L234, len - L234);
	rc = ist_wire_pkt_check(dg, len - L234, keyed, &h);
	if (rc < 0 || !keyed)
		return rc;
	if (h.key_id != link_key.id)
		return IST_WIRE_E_BAD_TAG;
	return ist_aead_pkt_open(&aead, &link_key, dg, len - L234) == 0 ? 0 : IST_WIRE_E_BAD_TAG;
}

static void test_inject_keep(void **state)
{
	static struct ist_wanem_inj inj;
	uint8_t f[IST_WANEM_INJ_FRAME_MAX + 64], g[sizeof(f)];
	char msg[IST_WANEM_INJ_MSG_MAX];
	uint32_t len;

	(void)state;
	assert_int_equal(ist_wanem_inj_init(&inj, SEED, 28), -EINVAL);
	assert_int_equal(ist_wanem_inj_init(&inj, SEED, 1500), 0);
	assert_int_equal(ist_wanem_inj_add(&inj, IST_WANEM_INJ_GARBAGE, 1, msg, sizeof(msg)),
			 -ENOENT);
	assert_non_null(strstr(msg, "no link packet has crossed this direction"));
	assert_int_equal(ist_wanem_inj_build(&inj, IST_WANEM_INJ_REPLAY, g, sizeof(g)), -ENOENT);

	/* Frames that are not link frames, or that were damaged, are not kept. */
	len = link_frame_make(f, 0x1111, 5, 200, true);
	memcpy(g, f, len);
	g[12] = 0x86; /* not IPv4 */
	assert_false(ist_wanem_inj_keep(&inj, g, len));
	memcpy(g, f, len);
	g[23] = 6; /* TCP */
	assert_false(ist_wanem_inj_keep(&inj, g, len));
	memcpy(g, f, len);
	g[14 + 8] ^= 1; /* IPv4 checksum wrong */
	assert_false(ist_wanem_inj_keep(&inj, g, len));
	memcpy(g, f, len);
	g[L234] ^= 0x40; /* magic */
	assert_false(ist_wanem_inj_keep(&inj, g, len));
	memcpy(g, f, len);
	g[L234 + 4] = 2; /* version */
	assert_false(ist_wanem_inj_keep(&inj, g, len));
	memcpy(g, f, len);
	g[L234 + 27] ^= 1; /* payload_len disagrees with the datagram */
	assert_false(ist_wanem_inj_keep(&inj, g, len));
	memcpy(g, f, len);
	g[39] ^= 1; /* UDP length disagrees with IPv4 */
	assert_false(ist_wanem_inj_keep(&inj, g, len));
	assert_false(ist_wanem_inj_keep(&inj, f, len - 1)); /* cut short */
	assert_false(ist_wanem_inj_keep(&inj, f, L234 + IST_WIRE_HDR_LEN - 1));
	/* A frame larger than one mbuf is not kept. */
	assert_false(ist_wanem_inj_keep(&inj, g, link_frame_make(g, 0x1111, 6, 2000, true)));
	assert_int_equal(ist_wanem_inj_add(&inj, IST_WANEM_INJ_WRONG_KEY, 1, msg, sizeof(msg)),
			 -ENOENT);

	/* The first link frame is both the newest and the early one. */
	assert_true(ist_wanem_inj_keep(&inj, f, len));
	assert_int_equal(inj.last.len, len);
	assert_int_equal(inj.early.pn, 5);
	assert_int_equal(inj.early.epoch, 0x1111);
	/* Later frames of the epoch replace the newest only; Ethernet padding is not kept. */
	for (uint64_t pn = 6; pn <= 3000; pn++) {
		len = link_frame_make(f, 0x1111, pn, (uint16_t)(100 + pn % 1000), true);
		assert_true(ist_wanem_inj_keep(&inj, f, len + (pn % 2 ? 6 : 0)));
	}
	assert_int_equal(inj.last.pn, 3000);
	assert_int_equal(inj.last.len, len);
	assert_memory_equal(inj.last.buf, f, len);
	assert_int_equal(inj.early.pn, 5);
	len = link_frame_make(g, 0x1111, 5, 200, true);
	assert_memory_equal(inj.early.buf, g, len);
	/* A new epoch (the sender restarted): its first frame becomes the early one. */
	len = link_frame_make(f, 0x2222, 1, 80, true);
	assert_true(ist_wanem_inj_keep(&inj, f, len));
	assert_int_equal(inj.early.epoch, 0x2222);
	assert_int_equal(inj.early.pn, 1);
	assert_int_equal(inj.last.pn, 1);
	len = link_frame_make(f, 0x2222, 2, 80, true);
	assert_true(ist_wanem_inj_keep(&inj, f, len));
	assert_int_equal(inj.early.pn, 1);
	assert_int_equal(inj.last.pn, 2);
}

static void test_inject_build(void **state)
{
	static struct ist_wanem_inj inj, inj2;
	uint8_t f[IST_WANEM_INJ_FRAME_MAX], e[IST_WANEM_INJ_FRAME_MAX], g[IST_WANEM_INJ_FRAME_MAX];
	char msg[IST_WANEM_INJ_MSG_MAX];
	uint32_t len, elen, n, min_n = UINT32_MAX, max_n = 0, versions = 0, v0 = 0;
	uint32_t by_reason[IST_WIRE_ERR_COUNT] = {0};
	struct ist_key k;
	int glen;

	(void)state;
	assert_int_equal(ist_wanem_inj_init(&inj, SEED, 1500), 0);
	elen = link_frame_make(e, 0xabcd0001, 1, 80, true);
	assert_true(ist_wanem_inj_keep(&inj, e, elen));
	len = link_frame_make(f, 0xabcd0001, 5000, 1300, true);
	assert_true(ist_wanem_inj_keep(&inj, f, len));
	assert_int_equal(rx_verdict(f, len, true), 0); /* the genuine packet opens */

	/* wrong-key: same header but the pn, sealed under a random key: well-formed, bad tag. */
	for (uint64_t i = 0; i < 3; i++) {
		glen = ist_wanem_inj_build(&inj, IST_WANEM_INJ_WRONG_KEY, g, sizeof(g));
		assert_int_equal(glen, len);
		assert_memory_equal(g, f, L234 + 16);
		assert_memory_equal(g + L234 + 24, f + L234 + 24, 8);
		assert_int_equal(be64_at(g + L234 + 16), 5000 + IST_WANEM_INJ_PN_OFFSET + i);
		k.id = g[L234 + 24];
		assert_int_equal(k.id, link_key.id);
		ist_wanem_inj_random(&inj, k.key, sizeof(k.key));
		ist_wanem_inj_random(&inj, k.salt, sizeof(k.salt));
		assert_memory_not_equal(k.key, link_key.key, sizeof(k.key));
		assert_int_equal(ist_aead_pkt_seal(&aead, &k, g + L234, (size_t)glen - L234), 0);
		assert_int_equal(rx_verdict(g, (uint32_t)glen, true), IST_WIRE_E_BAD_TAG);
	}

	/* wrong-version: only the version byte differs, never to 1. */
	for (int i = 0; i < 1000; i++) {
		glen = ist_wanem_inj_build(&inj, IST_WANEM_INJ_WRONG_VERSION, g, sizeof(g));
		assert_int_equal(glen, len);
		assert_int_not_equal(g[L234 + 4], IST_WIRE_VERSION);
		if (i == 0)
			v0 = g[L234 + 4];
		versions += g[L234 + 4] != v0;
		g[L234 + 4] = f[L234 + 4];
		assert_memory_equal(g, f, len);
		g[L234 + 4] = (uint8_t)v0;
		assert_int_equal(rx_verdict(g, len, true), IST_WIRE_E_BAD_VERSION);
	}
	assert_true(versions > 900); /* random, not one fixed value */

	/* garbage: the link's L2-L4 headers, fixed lengths, 1..1472 random bytes. */
	for (int i = 0; i < 5000; i++) {
		glen = ist_wanem_inj_build(&inj, IST_WANEM_INJ_GARBAGE, g, sizeof(g));
		assert_true(glen > (int)L234 && glen <= (int)L234 + 1472);
		n = (uint32_t)glen - L234;
		min_n = n < min_n ? n : min_n;
		max_n = n > max_n ? n : max_n;
		assert_memory_equal(g, f, 14 + 2);          /* Ethernet, IP version */
		assert_memory_equal(g + 20, f + 20, 4);     /* fragment, TTL, protocol */
		assert_memory_equal(g + 26, f + 26, 8 + 4); /* addresses, ports */
		assert_int_equal(be16_at(g + 16), 28 + n);
		assert_int_equal(be16_at(g + 38), 8 + n);
		assert_int_equal(be16_at(g + 40), 0);
		assert_true(ip_cksum_ok(g));
		by_reason[-rx_verdict(g, (uint32_t)glen, true)]++;
	}
	assert_true(min_n < 32 && max_n > 1400);
	assert_int_equal(by_reason[0], 0);
	assert_true(by_reason[-IST_WIRE_E_TRUNCATED] > 0);
	assert_int_equal(by_reason[-IST_WIRE_E_TRUNCATED] + by_reason[-IST_WIRE_E_BAD_MAGIC], 5000);
	assert_int_equal(ist_wanem_inj_build(&inj, IST_WANEM_INJ_GARBAGE, g, L234 + 1471), -ENOSPC);

	/* replay: the early frame, unchanged; it is authentic, only the replay window stops it. */
	glen = ist_wanem_inj_build(&inj, IST_WANEM_INJ_REPLAY, g, sizeof(g));
	assert_int_equal(glen, elen);
	assert_memory_equal(g, e, elen);
	assert_int_equal(rx_verdict(g, elen, true), 0);
	assert_int_equal(ist_wanem_inj_build(&inj, IST_WANEM_INJ_REPLAY, g, elen - 1), -ENOSPC);
	assert_int_equal(ist_wanem_inj_build(&inj, IST_WANEM_INJ_WRONG_KEY, g, len - 1), -ENOSPC);

	/* wrong-key on an unkeyed link: flagged, key id 1, room for the tag, lengths fixed. */
	assert_int_equal(ist_wanem_inj_init(&inj2, SEED, 1500), 0);
	len = link_frame_make(f, 0x77, 9, 500, false);
	assert_int_equal(rx_verdict(f, len, false), 0);
	assert_true(ist_wanem_inj_keep(&inj2, f, len));
	glen = ist_wanem_inj_build(&inj2, IST_WANEM_INJ_WRONG_KEY, g, sizeof(g));
	assert_int_equal(glen, len + IST_WIRE_TAG_LEN);
	assert_int_equal(be16_at(g + 16), 28 + IST_WIRE_HDR_LEN + 500 + IST_WIRE_TAG_LEN);
	assert_int_equal(be16_at(g + 38), 8 + IST_WIRE_HDR_LEN + 500 + IST_WIRE_TAG_LEN);
	assert_true(ip_cksum_ok(g));
	assert_int_equal(g[L234 + 24], 1);
	k.id = 1;
	ist_wanem_inj_random(&inj2, k.key, sizeof(k.key));
	ist_wanem_inj_random(&inj2, k.salt, sizeof(k.salt));
	assert_int_equal(ist_aead_pkt_seal(&aead, &k, g + L234, (size_t)glen - L234), 0);
	assert_int_equal(rx_verdict(g, (uint32_t)glen, false), IST_WIRE_E_BAD_TAG);
	/* An unkeyed frame with no room left for a tag is refused for wrong-key. */
	len = link_frame_make(f, 0x77, 10, (uint16_t)(IST_WANEM_INJ_FRAME_MAX - L234 - 32 - 8),
			      false);
	assert_true(ist_wanem_inj_keep(&inj2, f, len));
	assert_int_equal(ist_wanem_inj_add(&inj2, IST_WANEM_INJ_WRONG_KEY, 1, msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "leaves no room for a tag"));
	assert_int_equal(ist_wanem_inj_build(&inj2, IST_WANEM_INJ_WRONG_KEY, g, sizeof(g)),
			 -ENOSPC);
	assert_int_equal(ist_wanem_inj_add(&inj2, IST_WANEM_INJ_WRONG_VERSION, 1, msg, sizeof(msg)),
			 0);
	/* The frame it came from was unkeyed: the replay of it is too. */
	glen = ist_wanem_inj_build(&inj2, IST_WANEM_INJ_REPLAY, g, sizeof(g));
	assert_int_equal(rx_verdict(g, (uint32_t)glen, false), 0);
}

static void test_inject_queue(void **state)
{
	static struct ist_wanem_inj inj, a, b;
	static const int order[] = {
		IST_WANEM_INJ_WRONG_KEY, IST_WANEM_INJ_GARBAGE, IST_WANEM_INJ_REPLAY,
		IST_WANEM_INJ_WRONG_KEY, IST_WANEM_INJ_REPLAY,  IST_WANEM_INJ_REPLAY,
	};
	uint8_t f[IST_WANEM_INJ_FRAME_MAX], g[IST_WANEM_INJ_FRAME_MAX], h[IST_WANEM_INJ_FRAME_MAX];
	char msg[IST_WANEM_INJ_MSG_MAX];
	uint32_t len;
	int glen, hlen;

	(void)state;
	assert_int_equal(ist_wanem_inj_init(&inj, SEED, 1500), 0);
	len = link_frame_make(f, 0x42, 100, 300, true);
	assert_true(ist_wanem_inj_keep(&inj, f, len));

	/* The forecast of each kind names the reason the receiver should count. */
	assert_int_equal(ist_wanem_inj_add(&inj, IST_WANEM_INJ_REPLAY, 1, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "only 0 behind the newest"));
	assert_non_null(strstr(msg, "expect replayed"));
	len = link_frame_make(f, 0x42, 100 + IST_WANEM_INJ_REPLAY_WIN - 1, 300, true);
	assert_true(ist_wanem_inj_keep(&inj, f, len));
	assert_int_equal(ist_wanem_inj_add(&inj, IST_WANEM_INJ_REPLAY, 1, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "expect replayed"));
	len = link_frame_make(f, 0x42, 100 + IST_WANEM_INJ_REPLAY_WIN, 300, true);
	assert_true(ist_wanem_inj_keep(&inj, f, len));
	assert_int_equal(ist_wanem_inj_add(&inj, IST_WANEM_INJ_REPLAY, 1, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "pn 100 of epoch 0x00000042 again, 1024 behind"));
	assert_non_null(strstr(msg, "expect too_old"));
	assert_int_equal(ist_wanem_inj_add(&inj, IST_WANEM_INJ_WRONG_KEY, 2, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "key id 3"));
	assert_non_null(strstr(msg, "expect bad_tag"));
	assert_int_equal(ist_wanem_inj_add(&inj, IST_WANEM_INJ_GARBAGE, 1, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "1..1472 bytes to port 7411"));
	assert_non_null(strstr(msg, "bad_magic"));
	assert_int_equal(ist_wanem_inj_pending(&inj), 6);

	/* Kinds take turns, wrong-key first. */
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		assert_int_equal(ist_wanem_inj_take(&inj), order[i]);
	assert_int_equal(ist_wanem_inj_take(&inj), -1);
	assert_int_equal(ist_wanem_inj_pending(&inj), 0);

	assert_int_equal(ist_wanem_inj_add(&inj, IST_WANEM_INJ_WRONG_VERSION, 2, msg, sizeof(msg)),
			 0);
	assert_non_null(strstr(msg, "expect bad_version"));
	assert_int_equal(ist_wanem_inj_cancel(&inj), 2);
	assert_int_equal(ist_wanem_inj_take(&inj), -1);

	/* At most IST_WANEM_INJ_COUNT_MAX pending per kind. */
	assert_int_equal(ist_wanem_inj_add(&inj, IST_WANEM_INJ_GARBAGE, IST_WANEM_INJ_COUNT_MAX,
					   msg, sizeof(msg)),
			 0);
	assert_int_equal(ist_wanem_inj_add(&inj, IST_WANEM_INJ_GARBAGE, 1, msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "1000000 garbage packets are still pending"));
	assert_int_equal(ist_wanem_inj_add(&inj, IST_WANEM_INJ_REPLAY, 1, msg, sizeof(msg)), 0);
	assert_int_equal(ist_wanem_inj_add(&inj, IST_WANEM_INJ_REPLAY, 0, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(ist_wanem_inj_cancel(&inj), IST_WANEM_INJ_COUNT_MAX + 1);

	/* Same seed, same frames: same packets. */
	assert_int_equal(ist_wanem_inj_init(&a, 9, 1500), 0);
	assert_int_equal(ist_wanem_inj_init(&b, 9, 1500), 0);
	assert_true(ist_wanem_inj_keep(&a, f, len));
	assert_true(ist_wanem_inj_keep(&b, f, len));
	for (int i = 0; i < 100; i++) {
		glen = ist_wanem_inj_build(&a, IST_WANEM_INJ_GARBAGE, g, sizeof(g));
		hlen = ist_wanem_inj_build(&b, IST_WANEM_INJ_GARBAGE, h, sizeof(h));
		assert_int_equal(glen, hlen);
		assert_memory_equal(g, h, (size_t)glen);
	}
	/* A small IP MTU bounds the garbage. */
	assert_int_equal(ist_wanem_inj_init(&a, 9, 100), 0);
	assert_true(ist_wanem_inj_keep(&a, f, len));
	for (int i = 0; i < 1000; i++)
		assert_true(ist_wanem_inj_build(&a, IST_WANEM_INJ_GARBAGE, g, sizeof(g)) <=
			    (int)L234 + 72);
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
		cmocka_unit_test(test_inject_keep),
		cmocka_unit_test(test_inject_build),
		cmocka_unit_test(test_inject_queue),
	};

	return cmocka_run_group_tests(tests, aead_setup, aead_teardown);
}
