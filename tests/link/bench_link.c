/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cost per call of the link logic's other hot functions, in TSC cycles, from
 * tight loops over a fake clock: receiver tracking and ACK building, the
 * sender scoreboard, reassembly with its copy, credits, RTT samples. Not a
 * test: run it on the target host and copy the numbers beside the HOT
 * functions in the headers.
 *
 *     build-link/tests/link/bench_link [iterations]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "ist_credit.h"
#include "ist_reasm.h"
#include "ist_rto.h"
#include "ist_rxwin.h"
#include "ist_txwin.h"

#define HZ 2500000000ull

static volatile uint64_t sink;
static uint64_t n_acked, n_lost;

static void report(const char *what, uint64_t cycles, uint64_t n)
{
	printf("%-52s %7.1f cycles/call\n", what, (double)cycles / (double)n);
}

static void on_acked(void *arg, void *h, uint32_t bytes, uint16_t retx)
{
	(void)arg;
	(void)h;
	(void)bytes;
	(void)retx;
	n_acked++;
}

static void on_lost(void *arg, void *h, uint32_t bytes, uint16_t retx)
{
	(void)arg;
	(void)h;
	(void)bytes;
	(void)retx;
	n_lost++;
}

static bool deliver(void *arg, uint32_t s, uint32_t seq, const uint8_t *f, uint32_t len)
{
	(void)arg;
	(void)s;
	(void)seq;
	(void)len;
	sink += f[0];
	return true;
}

static void bench_rxwin(uint64_t n)
{
	struct ist_rxwin_conf c = {.hz = HZ, .window = 32768};
	struct ist_rxwin *w = ist_rxwin_create(&c, NULL);
	struct ist_ack ack;
	uint64_t t0, i, acc = 0;

	t0 = rte_rdtsc();
	for (i = 1; i <= n; i++)
		acc += (uint64_t)ist_rxwin_rx(w, i, true, i);
	report("ist_rxwin_rx, in order", rte_rdtsc() - t0, n);

	/* 1 % loss: every 100th pn missing, so ACKs carry ranges */
	ist_rxwin_reset(w, 1);
	t0 = rte_rdtsc();
	for (i = 1; i <= n; i++)
		if (i % 100 != 0)
			acc += (uint64_t)ist_rxwin_rx(w, i, true, i);
	report("ist_rxwin_rx, 1 % holes (per pn)", rte_rdtsc() - t0, n);

	/* reordered: pairs swapped */
	ist_rxwin_reset(w, 2);
	t0 = rte_rdtsc();
	for (i = 1; i <= n; i++)
		acc += (uint64_t)ist_rxwin_rx(w, i ^ 1 ? i ^ 1 : 1, true, i);
	report("ist_rxwin_rx, pairs swapped", rte_rdtsc() - t0, n);

	/* ACK building with 16 ranges spread over ~1600 pns */
	ist_rxwin_reset(w, 3);
	for (i = 1; i <= 20000; i++)
		if (i % 100 != 0)
			ist_rxwin_rx(w, i, true, i);
	t0 = rte_rdtsc();
	for (i = 0; i < n / 16; i++) {
		w->unacked = 1;
		ist_rxwin_ack_build(w, &ack, 20000);
		acc += ack.n_ranges;
	}
	report("ist_rxwin_ack_build, 16 ranges over 1600 pns", rte_rdtsc() - t0, n / 16);

	/* ACK building, in order (no ranges) */
	ist_rxwin_reset(w, 4);
	for (i = 1; i <= 20000; i++)
		ist_rxwin_rx(w, i, true, i);
	t0 = rte_rdtsc();
	for (i = 0; i < n / 4; i++) {
		w->unacked = 1;
		ist_rxwin_ack_build(w, &ack, 20000);
		acc += ack.cum;
	}
	report("ist_rxwin_ack_build, no ranges", rte_rdtsc() - t0, n / 4);
	sink = acc;
	ist_rxwin_free(w);
}

static void bench_txwin(uint64_t n)
{
	struct ist_txwin_conf c = {
		.capacity = 1u << 23,
		.rto = {.hz = HZ, .rtt_ms = 100},
		.on_acked = on_acked,
		.on_lost = on_lost,
	};
	struct ist_txwin *tw = ist_txwin_create(&c, NULL);
	struct ist_ack ack;
	uint64_t t0, t, i, pn, now = 0;

	/* sends alone (the ring holds them all) */
	t0 = rte_rdtsc();
	for (i = 0; i < n; i++)
		ist_txwin_send(tw, 1500, NULL, 0, i, &pn);
	report("ist_txwin_send", rte_rdtsc() - t0, n);
	ist_txwin_reset(tw, 0);
	n_lost = 0;

	/* steady state: 1000 in flight, one ACK (cum + a range) per 2 packets */
	memset(&ack, 0, sizeof(ack));
	for (i = 0; i < 1000; i++)
		ist_txwin_send(tw, 1500, NULL, 0, now, &pn);
	t0 = rte_rdtsc();
	for (i = 0; i < n / 2; i++) {
		now += 2400;
		ist_txwin_send(tw, 1500, NULL, 0, now, &pn);
		ist_txwin_send(tw, 1500, NULL, 0, now, &pn);
		ack.largest = pn - 1000;
		ack.cum = ack.largest - 40;
		ack.n_ranges = 1;
		ack.ranges[0].start = ack.largest - 30;
		ack.ranges[0].end = ack.largest;
		ist_txwin_on_ack(tw, &ack, now);
	}
	t = rte_rdtsc() - t0;
	report("2 x ist_txwin_send + ist_txwin_on_ack (2 acked)", t, n / 2);
	printf("  (acked %llu, lost %llu)\n", (unsigned long long)n_acked,
	       (unsigned long long)n_lost);
	ist_txwin_free(tw);
}

static void bench_reasm(uint64_t n)
{
	struct ist_reasm_conf c = {
		.hz = HZ, .n_streams = 64, .slots = 8, .slot_size = 65536, .deliver = deliver};
	struct ist_reasm *r = ist_reasm_create(&c, NULL);
	static uint8_t data[1420];
	struct ist_frag f = {
		.frame_len = 1420 * 46, .frag_len = 1420, .frag_cnt = 46, .data = data};
	struct ist_credit cr[IST_WIRE_MAX_CREDITS];
	uint64_t t0, t_frag = 0, t_rel = 0, i, frames = n / 46, k;

	for (i = 0; i < frames; i++) {
		f.stream_id = (uint32_t)(i % 64);
		f.frame_seq = (uint32_t)(i / 64);
		t0 = rte_rdtsc();
		for (k = 0; k < 46; k++) {
			f.frag_idx = (uint8_t)k;
			f.frag_off = (uint32_t)(k * 1420);
			ist_reasm_frag_rx(r, &f);
		}
		t_frag += rte_rdtsc() - t0;
		t0 = rte_rdtsc();
		ist_reasm_release(r, f.stream_id, f.frame_seq, i);
		t_rel += rte_rdtsc() - t0;
		if (i % 64 == 63)
			ist_credit_rx_build(r, cr, IST_WIRE_MAX_CREDITS, i + 1000000000ull);
	}
	report("ist_reasm_frag_rx, 1420 bytes (copy included)", t_frag, frames * 46);
	report("ist_reasm_release", t_rel, frames);

	/* the fragment logic alone: duplicates stop before the copy */
	t0 = rte_rdtsc();
	for (i = 0; i < n; i++) {
		f.stream_id = 0;
		f.frame_seq = r->st[0].next_seq;
		f.frag_idx = 0;
		f.frag_off = 0;
		sink += ist_reasm_frag_rx(r, &f);
	}
	report("ist_reasm_frag_rx, duplicate fragment", rte_rdtsc() - t0, n);

	/* credit building */
	t0 = rte_rdtsc();
	for (i = 0; i < n / 64; i++) {
		ist_credit_rx_sweep(r, 0);
		sink += ist_credit_rx_build(r, cr, IST_WIRE_MAX_CREDITS, 0);
	}
	report("ist_credit_rx_build, per grant", rte_rdtsc() - t0, (n / 64) * 64);
	{
		struct ist_credit_tx *ct = ist_credit_tx_create(64, NULL);

		t0 = rte_rdtsc();
		for (i = 0; i < n / 64; i++) {
			for (k = 0; k < 64; k++)
				cr[k].limit_seq += 1;
			sink += ist_credit_tx_update(ct, cr, 64);
		}
		report("ist_credit_tx_update, per grant", rte_rdtsc() - t0, (n / 64) * 64);
		t0 = rte_rdtsc();
		for (i = 0; i < n; i++)
			sink += ist_credit_tx_can_send(ct, (uint32_t)(i & 63), (uint32_t)i & 7);
		report("ist_credit_tx_can_send", rte_rdtsc() - t0, n);
		ist_credit_tx_free(ct);
	}
	ist_reasm_free(r);
}

static void bench_rto(uint64_t n)
{
	struct ist_rto_conf c = {.hz = HZ};
	struct ist_rto r;
	uint64_t t0, i;

	ist_rto_init(&r, &c);
	t0 = rte_rdtsc();
	for (i = 0; i < n; i++)
		ist_rto_sample(&r, 250000000ull + (i & 0xffff) * 1000);
	report("ist_rto_sample", rte_rdtsc() - t0, n);
	sink = r.rto;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 4000000ull;

	bench_rxwin(n);
	bench_txwin(n);
	bench_reasm(n);
	bench_rto(n);
	return 0;
}
