/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sender scoreboard with a fake clock: acknowledgement by cum and by
 * ranges, Karn, fast retransmit after 3 later pns, time-threshold loss,
 * the timer and its backoff, bogus ACKs, ring wrap-around, bytes in
 * flight, control pns, the peer-window rule for cum, reset.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ist_txwin.h"

#define HZ  1000000ull /* one cycle = one microsecond */
#define MS  1000ull
#define MAX 70000

struct rec {
	uint32_t n_acked, n_lost;
	uintptr_t acked[MAX];
	uintptr_t lost[MAX];
	uint16_t lost_retx[MAX];
	uint64_t acked_bytes, lost_bytes;
};

static struct rec rec;

static void on_acked(void *arg, void *handle, uint32_t bytes, uint16_t retx)
{
	struct rec *r = arg;

	(void)retx;
	assert_true(r->n_acked < MAX);
	r->acked[r->n_acked++] = (uintptr_t)handle;
	r->acked_bytes += bytes;
}

static void on_lost(void *arg, void *handle, uint32_t bytes, uint16_t retx)
{
	struct rec *r = arg;

	assert_true(r->n_lost < MAX);
	r->lost_retx[r->n_lost] = retx;
	r->lost[r->n_lost++] = (uintptr_t)handle;
	r->lost_bytes += bytes;
}

static struct ist_txwin *mk(uint32_t cap)
{
	struct ist_txwin_conf c = {
		.capacity = cap,
		.rto = {.hz = HZ, .rtt_ms = 100},
		.on_acked = on_acked,
		.on_lost = on_lost,
		.arg = &rec,
	};
	struct ist_txwin *tw;

	memset(&rec, 0, sizeof(rec));
	tw = ist_txwin_create(&c, NULL);
	assert_non_null(tw);
	return tw;
}

static uint64_t send1(struct ist_txwin *tw, uintptr_t h, uint32_t bytes, uint16_t retx,
		      uint64_t now)
{
	uint64_t pn = 0;

	assert_int_equal(ist_txwin_send(tw, bytes, (void *)h, retx, now, &pn), 0);
	return pn;
}

static struct ist_ack mkack(uint64_t cum, uint64_t largest, uint32_t delay_us, int n, ...)
{
	struct ist_ack a = {.cum = cum, .largest = largest, .delay_us = delay_us};
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++) {
		a.ranges[i].start = va_arg(ap, uint64_t);
		a.ranges[i].end = va_arg(ap, uint64_t);
	}
	va_end(ap);
	a.n_ranges = (uint8_t)n;
	return a;
}

static void test_create(void **state)
{
	struct ist_txwin_conf c = {
		.capacity = 100, .rto = {.hz = HZ}, .on_acked = on_acked, .on_lost = on_lost};

	(void)state;
	assert_null(ist_txwin_create(&c, NULL)); /* not a power of two */
	assert_int_equal(errno, EINVAL);
	c.capacity = 32;
	assert_null(ist_txwin_create(&c, NULL)); /* below 64 */
	c.capacity = 64;
	c.on_lost = NULL;
	assert_null(ist_txwin_create(&c, NULL));
	/* sizing: 2 x BDP packets */
	assert_int_equal(ist_txwin_capacity(10000, 100, 1500), 262144);
	assert_int_equal(ist_txwin_capacity(1000, 100, 1500), 32768);
	assert_int_equal(ist_txwin_capacity(1, 1, 1500), 64);
	assert_int_equal(ist_txwin_capacity(400000, 2000, 1500), IST_TXWIN_MAX_CAPACITY);
	assert_true(ist_txwin_memsize(262144) < 7u * 1024 * 1024);
}

static void test_ack_by_cum(void **state)
{
	struct ist_txwin *tw = mk(64);
	struct ist_ack a;
	uint64_t i;

	(void)state;
	for (i = 1; i <= 10; i++)
		assert_int_equal(send1(tw, i, 1000 + (uint32_t)i, 0, 0), i);
	assert_int_equal(ist_txwin_inflight_bytes(tw), 10055);
	a = mkack(6, 5, 0, 0);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 100 * MS), 5);
	assert_int_equal(rec.n_acked, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(rec.acked[i], i + 1);
	assert_int_equal(rec.n_lost, 0);
	assert_int_equal(tw->inflight, 5);
	assert_int_equal(ist_txwin_inflight_bytes(tw), 10055 - (1001 + 1002 + 1003 + 1004 + 1005));
	assert_int_equal(tw->una, 6);
	/* the same ACK again changes nothing */
	assert_int_equal(ist_txwin_on_ack(tw, &a, 100 * MS), 0);
	assert_int_equal(rec.n_acked, 5);
	/* cum covering everything */
	a = mkack(11, 10, 0, 0);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 100 * MS), 5);
	assert_int_equal(tw->inflight, 0);
	assert_int_equal(ist_txwin_inflight_bytes(tw), 0);
	assert_int_equal(tw->una, 11);
	assert_int_equal(ist_txwin_deadline(tw), UINT64_MAX);
	ist_txwin_free(tw);
}

static void test_ack_by_ranges(void **state)
{
	struct ist_txwin *tw = mk(64);
	struct ist_ack a;
	uint64_t i;

	(void)state;
	for (i = 1; i <= 10; i++)
		send1(tw, 100 + i, 100, 0, 0);
	/* 9 and 10 received, then 7..8: nothing older is 3 pns behind 10 except 1..7 */
	a = mkack(1, 10, 0, 2, 9ull, 10ull, 7ull, 7ull);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 10 * MS), 3);
	assert_int_equal(rec.n_acked, 3);
	assert_int_equal(rec.acked[0], 107);
	assert_int_equal(rec.acked[1], 109);
	assert_int_equal(rec.acked[2], 110);
	/* 1..6 are >= 3 pns below 10: fast retransmit, in pn order; 8 is within 3 */
	assert_int_equal(rec.n_lost, 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(rec.lost[i], 101 + i);
	assert_int_equal(tw->lost_pkt, 6);
	assert_int_equal(tw->inflight, 1);
	assert_int_equal(tw->una, 8);
	assert_int_equal(ist_txwin_inflight_bytes(tw), 100);
	/* overlapping and repeated ranges are harmless */
	a = mkack(1, 10, 0, 2, 8ull, 10ull, 7ull, 9ull);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 10 * MS), 1);
	assert_int_equal(rec.acked[3], 108);
	assert_int_equal(tw->inflight, 0);
	ist_txwin_free(tw);
}

static void test_fast_retransmit_threshold(void **state)
{
	struct ist_txwin *tw = mk(64);
	struct ist_ack a;
	uint64_t i;

	(void)state;
	for (i = 1; i <= 5; i++)
		send1(tw, i, 100, 0, 0);
	/* 2 and 3 acked: 1 is only 2 pns behind, and sent at the same time: not lost */
	a = mkack(1, 3, 0, 1, 2ull, 3ull);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 50 * MS), 2);
	assert_int_equal(rec.n_lost, 0);
	/* 4 acked: 1 is 3 pns behind, lost */
	a = mkack(1, 4, 0, 1, 2ull, 4ull);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 50 * MS), 1);
	assert_int_equal(rec.n_lost, 1);
	assert_int_equal(rec.lost[0], 1);
	assert_int_equal(rec.lost_retx[0], 0);
	/* the caller resends it with a new pn and retx 1 */
	assert_int_equal(send1(tw, 1, 100, 1, 60 * MS), 6);
	assert_int_equal(tw->resent, 1);
	a = mkack(1, 6, 0, 1, 2ull, 6ull);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 160 * MS), 2);
	assert_int_equal(tw->inflight, 0);
	ist_txwin_free(tw);
}

static void test_time_threshold(void **state)
{
	struct ist_txwin *tw = mk(64);
	struct ist_ack a;

	(void)state;
	send1(tw, 1, 100, 0, 0);
	send1(tw, 2, 100, 0, 200 * MS);
	/* 2 acked at 300 ms: RTT 100 ms, loss delay 112.5 ms; 1 was sent 200 ms
	 * before 2 and is only 1 pn behind: lost by time */
	a = mkack(1, 2, 0, 1, 2ull, 2ull);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 300 * MS), 1);
	assert_int_equal(rec.n_lost, 1);
	assert_int_equal(rec.lost[0], 1);
	assert_int_equal(tw->lost_time, 1);
	assert_int_equal(tw->lost_pkt, 0);
	ist_txwin_free(tw);

	/* sent 100 ms apart: within 112.5 ms, not lost */
	tw = mk(64);
	send1(tw, 1, 100, 0, 0);
	send1(tw, 2, 100, 0, 100 * MS);
	a = mkack(1, 2, 0, 1, 2ull, 2ull);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 200 * MS), 1);
	assert_int_equal(rec.n_lost, 0);
	ist_txwin_free(tw);
}

static void test_rtt_and_karn(void **state)
{
	struct ist_txwin *tw = mk(64);
	struct ist_ack a;

	(void)state;
	send1(tw, 1, 100, 0, 0);
	a = mkack(2, 1, 1000, 0);
	ist_txwin_on_ack(tw, &a, 100 * MS);
	/* first sample: 100 ms; the ack delay is not removed below min_rtt */
	assert_int_equal(tw->latest_rtt, 100 * MS);
	assert_int_equal(tw->min_rtt, 100 * MS);
	assert_int_equal(tw->rto.srtt, 100 * MS);
	assert_int_equal(tw->rto.samples, 1);

	/* 110 ms with 5 ms of ack delay: sample 105 ms */
	send1(tw, 2, 100, 0, 200 * MS);
	a = mkack(3, 2, 5000, 0);
	ist_txwin_on_ack(tw, &a, 310 * MS);
	assert_int_equal(tw->latest_rtt, 110 * MS);
	assert_int_equal(tw->rto.srtt, (7 * 100 * MS + 105 * MS) / 8);
	assert_int_equal(tw->rto.samples, 2);

	/* a retransmission acknowledged as `largest` gives no sample (Karn) */
	send1(tw, 3, 100, 1, 400 * MS);
	a = mkack(4, 3, 0, 0);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 900 * MS), 1);
	assert_int_equal(tw->rto.samples, 2);
	assert_int_equal(tw->karn_skipped, 1);

	/* no sample either when `largest` was acknowledged before */
	send1(tw, 4, 100, 0, 1000 * MS);
	send1(tw, 5, 100, 0, 1000 * MS);
	a = mkack(1, 5, 0, 1, 5ull, 5ull);
	ist_txwin_on_ack(tw, &a, 1100 * MS);
	assert_int_equal(tw->rto.samples, 3);
	a = mkack(6, 5, 0, 0);
	ist_txwin_on_ack(tw, &a, 1900 * MS);
	assert_int_equal(tw->rto.samples, 3);
	ist_txwin_free(tw);
}

static void test_pto_backoff(void **state)
{
	struct ist_txwin *tw = mk(64);
	struct ist_ack a;
	uint64_t pn;

	(void)state;
	/* initial RTO: 2 x the configured 100 ms */
	send1(tw, 1, 100, 0, 0);
	send1(tw, 2, 100, 0, 10 * MS);
	send1(tw, 3, 100, 0, 20 * MS);
	assert_int_equal(ist_txwin_deadline(tw), 200 * MS);
	assert_int_equal(ist_txwin_timeout(tw, 200 * MS - 1), 0);
	/* the two oldest come back, the RTO doubles */
	assert_int_equal(ist_txwin_timeout(tw, 200 * MS), 2);
	assert_int_equal(rec.n_lost, 2);
	assert_int_equal(rec.lost[0], 1);
	assert_int_equal(rec.lost[1], 2);
	assert_int_equal(tw->pto_fired, 1);
	assert_int_equal(tw->pto_pkts, 2);
	assert_int_equal(ist_rto_get(&tw->rto), 400 * MS);
	assert_int_equal(ist_txwin_deadline(tw), 600 * MS);
	assert_int_equal(tw->una, 3);
	/* resent as probes; nothing comes back: 800 ms, 1600 ms, then the 2 s cap */
	pn = send1(tw, 1, 100, 1, 200 * MS);
	assert_int_equal(pn, 4);
	send1(tw, 2, 100, 1, 200 * MS);
	assert_int_equal(ist_txwin_timeout(tw, 600 * MS), 2);
	assert_int_equal(ist_rto_get(&tw->rto), 800 * MS);
	assert_int_equal(ist_txwin_timeout(tw, 1400 * MS), 1);
	assert_int_equal(ist_rto_get(&tw->rto), 1600 * MS);
	assert_int_equal(tw->inflight, 0);
	assert_int_equal(ist_txwin_timeout(tw, 9000 * MS), 0); /* nothing in flight */
	send1(tw, 9, 100, 2, 9000 * MS);
	assert_int_equal(ist_txwin_timeout(tw, 10600 * MS), 1);
	assert_int_equal(ist_rto_get(&tw->rto), 2000 * MS);
	/* an ACK of retransmissions only: progress, but no sample, the backoff stays */
	pn = send1(tw, 9, 100, 3, 10600 * MS);
	a = mkack(pn + 1, pn, 0, 0);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 10700 * MS), 1);
	assert_int_equal(ist_rto_get(&tw->rto), 2000 * MS);
	/* a first transmission acknowledged: sample, backoff ends */
	pn = send1(tw, 10, 100, 0, 11000 * MS);
	a = mkack(pn + 1, pn, 0, 0);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 11100 * MS), 1);
	assert_int_equal(ist_rto_get(&tw->rto), 300 * MS);
	assert_int_equal(tw->rto.backoffs, 0);
	ist_txwin_free(tw);
}

static void test_timer_restarts_on_progress(void **state)
{
	struct ist_txwin *tw = mk(64);
	struct ist_ack a;

	(void)state;
	send1(tw, 1, 100, 0, 0);
	send1(tw, 2, 100, 0, 0);
	/* 2 acknowledged at 150 ms: the timer counts from there */
	a = mkack(1, 2, 0, 1, 2ull, 2ull);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 150 * MS), 1);
	assert_int_equal(ist_txwin_deadline(tw), 150 * MS + ist_rto_get(&tw->rto));
	assert_int_equal(ist_rto_get(&tw->rto), 450 * MS); /* 150 + 4 * 75 */
	ist_txwin_free(tw);
}

static void test_bogus(void **state)
{
	struct ist_txwin *tw = mk(64);
	struct ist_ack a;

	(void)state;
	send1(tw, 1, 100, 0, 0);
	send1(tw, 2, 100, 0, 0);
	a = mkack(1, 3, 0, 1, 3ull, 3ull); /* pn 3 never sent */
	assert_int_equal(ist_txwin_on_ack(tw, &a, 1), -EINVAL);
	a = mkack(1, 2, 0, 1, 1ull, 5ull); /* range beyond largest */
	assert_int_equal(ist_txwin_on_ack(tw, &a, 1), -EINVAL);
	a = mkack(1, 2, 0, 1, 2ull, 1ull); /* start > end */
	assert_int_equal(ist_txwin_on_ack(tw, &a, 1), -EINVAL);
	a = mkack(1, 2, 0, 1, 0ull, 1ull); /* pn 0 */
	assert_int_equal(ist_txwin_on_ack(tw, &a, 1), -EINVAL);
	a = mkack(4, 2, 0, 0); /* cum beyond largest + 1 */
	assert_int_equal(ist_txwin_on_ack(tw, &a, 1), -EINVAL);
	a = mkack(1, 0, 0, 0); /* nothing */
	assert_int_equal(ist_txwin_on_ack(tw, &a, 1), -EINVAL);
	a = mkack(1, 2, 0, 0);
	a.n_ranges = IST_WIRE_MAX_SACK + 1;
	assert_int_equal(ist_txwin_on_ack(tw, &a, 1), -EINVAL);
	assert_int_equal(tw->bogus_acks, 7);
	assert_int_equal(tw->acks, 0);
	assert_int_equal(tw->inflight, 2);
	assert_int_equal(rec.n_acked + rec.n_lost, 0);
	assert_int_equal(tw->largest_acked, 0);
	ist_txwin_free(tw);
}

static void test_control_pns(void **state)
{
	struct ist_txwin *tw = mk(64);
	struct ist_ack a;

	(void)state;
	/* nothing in flight: control pns keep una at next_pn */
	assert_int_equal(ist_txwin_pn_take(tw), 1);
	assert_int_equal(tw->una, 2);
	assert_int_equal(send1(tw, 1, 100, 0, 0), 2);
	assert_int_equal(ist_txwin_pn_take(tw), 3);
	assert_int_equal(ist_txwin_pn_take(tw), 4);
	assert_int_equal(send1(tw, 2, 100, 0, 0), 5);
	assert_int_equal(tw->una, 2);
	/* an ACK whose largest is a control pn is not bogus */
	a = mkack(5, 4, 0, 0);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 10 * MS), 1);
	assert_int_equal(rec.acked[0], 1);
	assert_int_equal(tw->una, 5);
	assert_int_equal(tw->ctl_pns, 3);
	ist_txwin_free(tw);
}

static void test_peer_window_cum(void **state)
{
	struct ist_txwin *tw = mk(8192);
	struct ist_ack a;
	uint64_t i;

	(void)state;
	for (i = 1; i <= 5000; i++)
		send1(tw, i, 10, 0, 0);
	/* cum 5001 with largest 5000: pns below 5001 - 4096 = 905 may only have
	 * slid out of the receiver's window; they are not taken as delivered */
	a = mkack(5001, 5000, 0, 0);
	assert_int_equal(ist_txwin_on_ack(tw, &a, 100 * MS), 5000 - 904);
	assert_int_equal(rec.n_acked, 5000 - 904);
	assert_int_equal(rec.acked[0], 905);
	assert_int_equal(rec.n_lost, 904);
	assert_int_equal(rec.lost[0], 1);
	assert_int_equal(rec.lost[903], 904);
	assert_int_equal(tw->inflight, 0);
	ist_txwin_free(tw);
}

static void test_ring_full_and_wrap(void **state)
{
	struct ist_txwin *tw = mk(64);
	struct ist_ack a;
	uint64_t pn = 0, i, next_h = 1, now = 0;
	uint32_t acked_before;

	(void)state;
	for (i = 0; i < 64; i++)
		send1(tw, next_h++, 10, 0, now);
	assert_false(ist_txwin_has_room(tw));
	assert_int_equal(ist_txwin_send(tw, 10, (void *)1, 0, now, &pn), -ENOBUFS);
	assert_int_equal(tw->full, 1);
	/* slide through the ring 300 times: ack half by cum, half by a range */
	for (i = 0; i < 300 * 64 / 32; i++) {
		uint64_t una = tw->una;

		now += 1000;
		acked_before = rec.n_acked;
		a = mkack(una + 16, una + 31, 0, 1, una + 16, una + 31);
		assert_int_equal(ist_txwin_on_ack(tw, &a, now), 32);
		assert_int_equal(rec.n_acked - acked_before, 32);
		assert_int_equal(tw->inflight, 32);
		while (ist_txwin_has_room(tw))
			send1(tw, next_h++, 10, 0, now);
		assert_int_equal(tw->inflight, 64);
		assert_int_equal(ist_txwin_inflight_bytes(tw), 640);
	}
	assert_int_equal(rec.n_lost, 0);
	/* handles come back in order, each once */
	for (i = 0; i < rec.n_acked; i++)
		assert_int_equal(rec.acked[i], i + 1);
	ist_txwin_free(tw);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random ACKs over a wrapping ring: every packet leaves exactly once, the accounting holds. */
static void test_random_accounting(void **state)
{
	static uint8_t fate[MAX]; /* 0 in flight, 1 acked, 2 lost */
	struct ist_txwin *tw = mk(256);
	uint64_t seed = 0x9e3779b97f4a7c15ull, now = 0, h = 0, bytes = 0, i;
	uint32_t sent_bytes[MAX];

	(void)state;
	memset(fate, 0, sizeof(fate));
	while (h < 60000) {
		uint64_t r = rnd(&seed);
		struct ist_ack a;
		uint64_t lo, top;
		int k;

		now += 10 + r % 50;
		while (ist_txwin_has_room(tw) && h < 60000 && (rnd(&seed) & 3) != 0) {
			uint64_t pn;

			if ((rnd(&seed) & 7) == 0)
				pn = ist_txwin_pn_take(tw);
			sent_bytes[h] = 100 + (uint32_t)(h % 1000);
			bytes += sent_bytes[h];
			assert_int_equal(ist_txwin_send(tw, sent_bytes[h], (void *)(uintptr_t)h, 0,
							now, &pn),
					 0);
			h++;
		}
		/* an ACK somewhere in [una, next_pn) with a few ranges */
		if (tw->next_pn - tw->una < 2)
			continue;
		top = tw->una + r % (tw->next_pn - tw->una);
		memset(&a, 0, sizeof(a));
		a.largest = top;
		a.cum = tw->una - (r >> 8) % 3;
		if (a.cum == 0)
			a.cum = 1;
		lo = top;
		for (k = 0; k < 4 && lo > a.cum + 2; k++) {
			uint64_t len = 1 + (rnd(&seed) % 8);

			a.ranges[k].end = lo;
			a.ranges[k].start = lo - len + 1 > a.cum ? lo - len + 1 : a.cum;
			a.n_ranges++;
			lo = a.ranges[k].start - 1 - rnd(&seed) % 5;
			if (lo < a.cum)
				break;
		}
		assert_true(ist_txwin_on_ack(tw, &a, now) >= 0);
		if ((r >> 20) % 50 == 0)
			ist_txwin_timeout(tw, now + 10000 * MS);
	}
	for (i = 0; i < rec.n_acked; i++) {
		assert_int_equal(fate[rec.acked[i]], 0);
		fate[rec.acked[i]] = 1;
	}
	for (i = 0; i < rec.n_lost; i++) {
		assert_int_equal(fate[rec.lost[i]], 0);
		fate[rec.lost[i]] = 2;
	}
	assert_int_equal(rec.acked_bytes + rec.lost_bytes + ist_txwin_inflight_bytes(tw), bytes);
	assert_int_equal(rec.n_acked + rec.n_lost + tw->inflight, h);
	/* what is still in flight comes back on reset */
	assert_int_equal(ist_txwin_reset(tw, now), h - rec.n_acked - (rec.n_lost));
	assert_int_equal(rec.n_acked + rec.n_lost, h);
	assert_int_equal(ist_txwin_inflight_bytes(tw), 0);
	ist_txwin_free(tw);
}

static void test_reset(void **state)
{
	struct ist_txwin *tw = mk(64);
	uint64_t i;

	(void)state;
	for (i = 1; i <= 5; i++)
		send1(tw, i, 100, 0, 0);
	ist_txwin_timeout(tw, 200 * MS); /* back off once */
	assert_int_equal(ist_txwin_reset(tw, 300 * MS), 3);
	assert_int_equal(rec.n_lost, 5);
	assert_int_equal(rec.lost[2], 3);
	assert_int_equal(tw->next_pn, 1);
	assert_int_equal(tw->inflight, 0);
	assert_int_equal(tw->rto.backoffs, 0);
	assert_int_equal(ist_rto_get(&tw->rto), 200 * MS);
	assert_int_equal(send1(tw, 9, 100, 0, 300 * MS), 1);
	ist_txwin_free(tw);
}

/* Regression: a peer restart must not rewind our pns, or a pn (and its
 * nonce) is reused and the peer takes a new packet for an old one. */
static void test_discard_keeps_pns(void **state)
{
	struct ist_txwin *tw = mk(64);
	uint64_t i, ctl;

	(void)state;
	ctl = ist_txwin_pn_take(tw); /* a HELLO before the peer was known */
	assert_int_equal(ctl, 1);
	for (i = 1; i <= 4; i++)
		send1(tw, i, 100, 0, 0);
	assert_int_equal(ist_txwin_discard(tw, 10 * MS), 4);
	assert_int_equal(rec.n_lost, 4);
	assert_int_equal(tw->inflight, 0);
	assert_int_equal(tw->next_pn, 6);
	assert_int_equal(send1(tw, 9, 100, 0, 20 * MS), 6);
	ist_txwin_free(tw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_discard_keeps_pns),
		cmocka_unit_test(test_ack_by_cum),
		cmocka_unit_test(test_ack_by_ranges),
		cmocka_unit_test(test_fast_retransmit_threshold),
		cmocka_unit_test(test_time_threshold),
		cmocka_unit_test(test_rtt_and_karn),
		cmocka_unit_test(test_pto_backoff),
		cmocka_unit_test(test_timer_restarts_on_progress),
		cmocka_unit_test(test_bogus),
		cmocka_unit_test(test_control_pns),
		cmocka_unit_test(test_peer_window_cum),
		cmocka_unit_test(test_ring_full_and_wrap),
		cmocka_unit_test(test_random_accounting),
		cmocka_unit_test(test_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
