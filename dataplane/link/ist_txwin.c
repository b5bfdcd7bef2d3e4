/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "ist_rxwin.h"
#include "ist_txwin.h"

/* Why a packet leaves the scoreboard; picks the callback and the counter. */
enum leave_why {
	LEAVE_ACKED,
	LEAVE_LOST_PKT,
	LEAVE_LOST_TIME,
	LEAVE_PTO,
	LEAVE_RESET,
};

static uint64_t pow2_ceil(uint64_t v)
{
	return v <= 1 ? 1 : 1ull << (64 - __builtin_clzll(v - 1));
}

uint32_t ist_txwin_capacity(uint32_t capacity_mbps, uint32_t rtt_ms, uint32_t pkt_bytes)
{
	/* Mb/s * ms = 1000 bits */
	uint64_t pkts =
		(uint64_t)capacity_mbps * rtt_ms * 1000u / (8u * (pkt_bytes ? pkt_bytes : 1500u));

	pkts = pow2_ceil(2 * pkts);
	if (pkts < IST_TXWIN_MIN_CAPACITY)
		return IST_TXWIN_MIN_CAPACITY;
	if (pkts > IST_TXWIN_MAX_CAPACITY)
		return IST_TXWIN_MAX_CAPACITY;
	return (uint32_t)pkts;
}

static size_t sum_words(uint32_t cap)
{
	return (cap / 64 + 63) / 64;
}

size_t ist_txwin_memsize(uint32_t capacity)
{
	return IST_LINK_ALIGN_UP(sizeof(struct ist_txwin)) +
	       IST_LINK_ALIGN_UP((size_t)capacity * sizeof(struct ist_txwin_pkt)) +
	       IST_LINK_ALIGN_UP(capacity / 8) + IST_LINK_ALIGN_UP(sum_words(capacity) * 8);
}

struct ist_txwin *ist_txwin_create(const struct ist_txwin_conf *c, const struct ist_link_alloc *a)
{
	struct ist_txwin *tw;
	char *p;
	int rc;

	if (c == NULL || c->on_acked == NULL || c->on_lost == NULL ||
	    c->capacity < IST_TXWIN_MIN_CAPACITY || c->capacity > IST_TXWIN_MAX_CAPACITY ||
	    (c->capacity & (c->capacity - 1)) != 0 || c->rto.hz == 0) {
		errno = EINVAL;
		return NULL;
	}
	tw = ist_link_mem_zalloc(a, ist_txwin_memsize(c->capacity));
	if (tw == NULL)
		return NULL;
	rc = ist_rto_init(&tw->rto, &c->rto);
	if (rc < 0) {
		ist_link_mem_free(a, tw);
		errno = -rc;
		return NULL;
	}
	if (a != NULL)
		tw->alloc = *a;
	p = (char *)tw + IST_LINK_ALIGN_UP(sizeof(*tw));
	tw->pkts = (struct ist_txwin_pkt *)p;
	p += IST_LINK_ALIGN_UP((size_t)c->capacity * sizeof(struct ist_txwin_pkt));
	tw->out = (uint64_t *)p;
	p += IST_LINK_ALIGN_UP(c->capacity / 8);
	tw->sum = (uint64_t *)p;
	tw->cap = c->capacity;
	tw->mask = c->capacity - 1;
	tw->peer_window = c->peer_window ? c->peer_window : IST_RXWIN_MIN_WINDOW;
	tw->pkt_threshold = c->pkt_threshold ? c->pkt_threshold : IST_TXWIN_DEFAULT_THRESHOLD;
	tw->pto_probes = c->pto_probes ? c->pto_probes : IST_TXWIN_DEFAULT_PROBES;
	tw->cyc_per_us_q16 = (uint64_t)(((unsigned __int128)c->rto.hz << 16) / 1000000u);
	tw->on_acked = c->on_acked;
	tw->on_lost = c->on_lost;
	tw->arg = c->arg;
	tw->next_pn = 1;
	tw->una = 1;
	return tw;
}

void ist_txwin_free(struct ist_txwin *tw)
{
	struct ist_link_alloc a;

	if (tw == NULL)
		return;
	a = tw->alloc;
	ist_link_mem_free(&a, tw);
}

static void leave(struct ist_txwin *tw, uint32_t slot, enum leave_why why)
{
	struct ist_txwin_pkt *pk = &tw->pkts[slot];
	void *handle = pk->handle;

	tw->inflight--;
	tw->inflight_bytes -= pk->bytes;
	pk->handle = NULL;
	switch (why) {
	case LEAVE_ACKED:
		tw->acked++;
		if (pk->sent > tw->largest_acked_sent)
			tw->largest_acked_sent = pk->sent;
		tw->on_acked(tw->arg, handle, pk->bytes, pk->retx);
		return;
	case LEAVE_LOST_PKT:
		tw->lost_pkt++;
		break;
	case LEAVE_LOST_TIME:
		tw->lost_time++;
		break;
	case LEAVE_PTO:
		tw->pto_pkts++;
		break;
	case LEAVE_RESET:
		break;
	}
	tw->on_lost(tw->arg, handle, pk->bytes, pk->retx);
}

static uint64_t bits_from(unsigned int lo)
{
	return ~0ull << lo;
}

static uint64_t bits_upto(unsigned int hi)
{
	return hi == 63 ? ~0ull : (1ull << (hi + 1)) - 1;
}

/* Every outstanding packet in slots a..b (a <= b, no wrap) leaves; ascending order. */
static uint32_t take_slots(struct ist_txwin *tw, uint32_t a, uint32_t b, enum leave_why why)
{
	uint32_t wa = a >> 6, wb = b >> 6, sa = wa >> 6, sb = wb >> 6, si, n = 0;

	for (si = sa; si <= sb; si++) {
		uint64_t s = tw->sum[si];

		if (si == sa)
			s &= bits_from(wa & 63);
		if (si == sb)
			s &= bits_upto(wb & 63);
		while (s != 0) {
			uint32_t wi = si * 64 + (uint32_t)__builtin_ctzll(s);
			uint64_t hit = tw->out[wi];

			s &= s - 1;
			if (wi == wa)
				hit &= bits_from(a & 63);
			if (wi == wb)
				hit &= bits_upto(b & 63);
			if (hit == 0)
				continue;
			tw->out[wi] &= ~hit;
			if (tw->out[wi] == 0)
				tw->sum[si] &= ~(1ull << (wi & 63));
			while (hit != 0) {
				leave(tw, wi * 64 + (uint32_t)__builtin_ctzll(hit), why);
				hit &= hit - 1;
				n++;
			}
		}
	}
	return n;
}

/* Outstanding pns in [lo, hi] leave; the span is within [una, next_pn), below cap. */
static uint32_t take_range(struct ist_txwin *tw, uint64_t lo, uint64_t hi, enum leave_why why)
{
	uint32_t a = (uint32_t)(lo & tw->mask), b = (uint32_t)(hi & tw->mask);

	if (a <= b)
		return take_slots(tw, a, b, why);
	return take_slots(tw, a, tw->cap - 1, why) + take_slots(tw, 0, b, why);
}

/* First outstanding slot in a..b (no wrap), or -1. */
static int64_t first_slot(const struct ist_txwin *tw, uint32_t a, uint32_t b)
{
	uint32_t wa = a >> 6, wb = b >> 6, sa = wa >> 6, sb = wb >> 6, si;

	for (si = sa; si <= sb; si++) {
		uint64_t s = tw->sum[si];

		if (si == sa)
			s &= bits_from(wa & 63);
		if (si == sb)
			s &= bits_upto(wb & 63);
		while (s != 0) {
			uint32_t wi = si * 64 + (uint32_t)__builtin_ctzll(s);
			uint64_t hit = tw->out[wi];

			s &= s - 1;
			if (wi == wa)
				hit &= bits_from(a & 63);
			if (wi == wb)
				hit &= bits_upto(b & 63);
			if (hit != 0)
				return (int64_t)wi * 64 + __builtin_ctzll(hit);
		}
	}
	return -1;
}

/* Lowest outstanding pn >= from, or next_pn. `from` >= una. */
static uint64_t out_next(const struct ist_txwin *tw, uint64_t from)
{
	uint64_t span;
	uint32_t a, end;
	int64_t s;

	if (tw->inflight == 0 || from >= tw->next_pn)
		return tw->next_pn;
	span = tw->next_pn - from;
	a = (uint32_t)(from & tw->mask);
	end = a + span - 1 < tw->cap ? (uint32_t)(a + span - 1) : tw->cap - 1;
	s = first_slot(tw, a, end);
	if (s >= 0)
		return from + (uint64_t)(s - a);
	if (a + span > tw->cap) {
		s = first_slot(tw, 0, (uint32_t)(a + span - 1 - tw->cap));
		if (s >= 0)
			return from + (tw->cap - a) + (uint64_t)s;
	}
	return tw->next_pn;
}

static bool out_test(const struct ist_txwin *tw, uint64_t pn)
{
	uint64_t slot = pn & tw->mask;

	return pn >= tw->una && pn < tw->next_pn && (tw->out[slot >> 6] >> (slot & 63)) & 1;
}

/* HOT */
int ist_txwin_send(struct ist_txwin *tw, uint32_t bytes, void *handle, uint16_t retx, uint64_t now,
		   uint64_t *pn)
{
	struct ist_txwin_pkt *pk;
	uint64_t p, slot;

	if (unlikely(tw->next_pn - tw->una >= tw->cap)) {
		tw->full++;
		return -ENOBUFS;
	}
	p = tw->next_pn++;
	slot = p & tw->mask;
	pk = &tw->pkts[slot];
	pk->sent = now;
	pk->handle = handle;
	pk->bytes = bytes;
	pk->retx = retx;
	tw->out[slot >> 6] |= 1ull << (slot & 63);
	tw->sum[slot >> 12] |= 1ull << ((slot >> 6) & 63);
	if (tw->inflight++ == 0) {
		tw->una = p;
		tw->timer_base = now;
	}
	tw->inflight_bytes += bytes;
	tw->sent++;
	if (retx != 0)
		tw->resent++;
	*pn = p;
	return 0;
}

static bool ack_valid(const struct ist_txwin *tw, const struct ist_ack *ack)
{
	uint8_t i;

	if (ack->largest == 0 || ack->largest >= tw->next_pn || ack->cum > ack->largest + 1 ||
	    ack->n_ranges > IST_WIRE_MAX_SACK)
		return false;
	for (i = 0; i < ack->n_ranges; i++) {
		const struct ist_range *r = &ack->ranges[i];

		if (r->start == 0 || r->start > r->end || r->end > ack->largest)
			return false;
	}
	return true;
}

static void rtt_sample(struct ist_txwin *tw, const struct ist_txwin_pkt *pk, uint32_t delay_us,
		       uint64_t now)
{
	uint64_t rtt = now > pk->sent ? now - pk->sent : 0;
	uint64_t ad, adj = rtt;

	/* an ACK delay above 16 s is nonsense; the cap keeps the product in 64 bits */
	if (delay_us > (1u << 24))
		delay_us = 1u << 24;
	ad = ((uint64_t)delay_us * tw->cyc_per_us_q16) >> 16;
	tw->latest_rtt = rtt;
	if (tw->min_rtt == 0 || rtt < tw->min_rtt)
		tw->min_rtt = rtt;
	if (rtt >= tw->min_rtt + ad)
		adj = rtt - ad;
	ist_rto_sample(&tw->rto, adj);
}

static void detect_lost(struct ist_txwin *tw)
{
	uint64_t delay, upto = 0, pn;

	if (tw->inflight == 0 || tw->largest_acked == 0)
		return;
	if (tw->largest_acked > tw->pkt_threshold) {
		upto = tw->largest_acked - tw->pkt_threshold;
		if (upto >= tw->next_pn)
			upto = tw->next_pn - 1;
		if (tw->una <= upto)
			take_range(tw, tw->una, upto, LEAVE_LOST_PKT);
	}
	delay = ist_rto_srtt(&tw->rto);
	if (tw->latest_rtt > delay)
		delay = tw->latest_rtt;
	delay += delay / 8;
	if (delay < tw->rto.g)
		delay = tw->rto.g;
	pn = out_next(tw, upto + 1 > tw->una ? upto + 1 : tw->una);
	while (pn < tw->largest_acked && pn < tw->next_pn) {
		if (tw->pkts[pn & tw->mask].sent + delay < tw->largest_acked_sent)
			take_range(tw, pn, pn, LEAVE_LOST_TIME);
		pn = out_next(tw, pn + 1);
	}
}

/* HOT */
int ist_txwin_on_ack(struct ist_txwin *tw, const struct ist_ack *ack, uint64_t now)
{
	uint64_t before = tw->acked, lo, hi, floor;
	uint8_t i;

	if (unlikely(!ack_valid(tw, ack))) {
		tw->bogus_acks++;
		return -EINVAL;
	}
	tw->acks++;
	if (out_test(tw, ack->largest)) {
		const struct ist_txwin_pkt *pk = &tw->pkts[ack->largest & tw->mask];

		if (pk->retx == 0)
			rtt_sample(tw, pk, ack->delay_us, now);
		else
			tw->karn_skipped++;
	}
	if (tw->inflight != 0) {
		/* cum also covers pns that slid out of the peer's window: not proof */
		floor = ack->largest + 1 > tw->peer_window ? ack->largest + 1 - tw->peer_window : 0;
		lo = tw->una > floor ? tw->una : floor;
		hi = ack->cum < tw->next_pn ? ack->cum : tw->next_pn;
		if (lo < hi)
			take_range(tw, lo, hi - 1, LEAVE_ACKED);
		/* ranges come highest first; walk them lowest first so callbacks see pn order */
		for (i = ack->n_ranges; i-- > 0;) {
			lo = ack->ranges[i].start > tw->una ? ack->ranges[i].start : tw->una;
			hi = ack->ranges[i].end;
			if (lo <= hi)
				take_range(tw, lo, hi, LEAVE_ACKED);
		}
		if (out_test(tw, ack->largest))
			take_range(tw, ack->largest, ack->largest, LEAVE_ACKED);
	}
	if (ack->largest > tw->largest_acked)
		tw->largest_acked = ack->largest;
	if (tw->acked != before)
		tw->timer_base = now;
	detect_lost(tw);
	tw->una = out_next(tw, tw->una);
	return (int)(tw->acked - before);
}

uint32_t ist_txwin_timeout(struct ist_txwin *tw, uint64_t now)
{
	uint32_t n = 0;
	uint64_t pn;

	if (tw->inflight == 0 || now < tw->timer_base + ist_rto_get(&tw->rto))
		return 0;
	while (n < tw->pto_probes && tw->inflight != 0) {
		pn = out_next(tw, tw->una);
		take_range(tw, pn, pn, LEAVE_PTO);
		tw->una = out_next(tw, pn);
		n++;
	}
	ist_rto_backoff(&tw->rto);
	tw->timer_base = now;
	tw->pto_fired++;
	return n;
}

uint32_t ist_txwin_discard(struct ist_txwin *tw, uint64_t now)
{
	uint32_t n = 0;

	if (tw->inflight != 0)
		n = take_range(tw, tw->una, tw->next_pn - 1, LEAVE_RESET);
	/* pns go on: within our epoch a pn (and so a nonce) is never used twice */
	tw->una = tw->next_pn;
	tw->timer_base = now;
	ist_rto_backoff_clear(&tw->rto);
	return n;
}

uint32_t ist_txwin_reset(struct ist_txwin *tw, uint64_t now)
{
	uint32_t n = 0;

	if (tw->inflight != 0)
		n = take_range(tw, tw->una, tw->next_pn - 1, LEAVE_RESET);
	tw->next_pn = 1;
	tw->una = 1;
	tw->largest_acked = 0;
	tw->largest_acked_sent = 0;
	tw->timer_base = now;
	/* same path, so the RTT estimate still holds; the backoff belonged to the old session */
	ist_rto_backoff_clear(&tw->rto);
	return n;
}
