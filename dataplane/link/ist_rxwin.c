/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "ist_rto.h"
#include "ist_rxwin.h"

static uint64_t pow2_ceil(uint64_t v)
{
	return v <= 1 ? 1 : 1ull << (64 - __builtin_clzll(v - 1));
}

uint32_t ist_rxwin_window(uint32_t capacity_mbps, uint32_t rtt_ms, uint32_t pkt_bytes)
{
	/* Mb/s * ms = 1000 bits */
	uint64_t pkts =
		(uint64_t)capacity_mbps * rtt_ms * 1000u / (8u * (pkt_bytes ? pkt_bytes : 1500u));

	pkts = pow2_ceil(2 * pkts);
	if (pkts < IST_RXWIN_MIN_WINDOW)
		return IST_RXWIN_MIN_WINDOW;
	if (pkts > IST_RXWIN_MAX_WINDOW)
		return IST_RXWIN_MAX_WINDOW;
	return (uint32_t)pkts;
}

size_t ist_rxwin_memsize(uint32_t window)
{
	if (window < IST_RXWIN_MIN_WINDOW)
		window = IST_RXWIN_MIN_WINDOW;
	return IST_LINK_ALIGN_UP(sizeof(struct ist_rxwin)) + IST_LINK_ALIGN_UP(window / 8);
}

struct ist_rxwin *ist_rxwin_create(const struct ist_rxwin_conf *c, const struct ist_link_alloc *a)
{
	struct ist_rxwin *w;
	uint32_t window;

	if (c == NULL || c->hz == 0) {
		errno = EINVAL;
		return NULL;
	}
	window = c->window ? c->window : IST_RXWIN_MIN_WINDOW;
	if ((window & (window - 1)) != 0 || window > IST_RXWIN_MAX_WINDOW) {
		errno = EINVAL;
		return NULL;
	}
	if (window < IST_RXWIN_MIN_WINDOW)
		window = IST_RXWIN_MIN_WINDOW;
	w = ist_link_mem_zalloc(a, ist_rxwin_memsize(window));
	if (w == NULL)
		return NULL;
	if (a != NULL)
		w->alloc = *a;
	w->bits = (uint64_t *)((char *)w + IST_LINK_ALIGN_UP(sizeof(*w)));
	w->window = window;
	w->mask = window - 1;
	w->ack_every = c->ack_every ? c->ack_every : IST_RXWIN_DEFAULT_EVERY;
	w->ack_delay = ist_rto_us_to_cycles(
		c->ack_delay_us ? c->ack_delay_us : IST_RXWIN_DEFAULT_DELAY_US, c->hz);
	w->us_mul = (uint64_t)(((unsigned __int128)1000000u << 32) / c->hz);
	ist_rxwin_reset(w, 0);
	return w;
}

void ist_rxwin_free(struct ist_rxwin *w)
{
	struct ist_link_alloc a;

	if (w == NULL)
		return;
	a = w->alloc;
	ist_link_mem_free(&a, w);
}

void ist_rxwin_reset(struct ist_rxwin *w, uint32_t epoch)
{
	memset(w->bits, 0, w->window / 8);
	w->cum = 1; /* pns start at 1 */
	w->largest = 0;
	w->largest_at = 0;
	w->ack_deadline = UINT64_MAX;
	w->unacked = 0;
	w->ack_now = false;
	w->epoch = epoch;
}

/* Bits below cum are kept clear, so a slot is clean when the window reaches it again. */
static void advance(struct ist_rxwin *w)
{
	for (;;) {
		uint64_t idx = w->cum & w->mask;
		unsigned int sh = idx & 63;
		uint64_t *wp = &w->bits[idx >> 6];
		uint64_t inv = ~(*wp >> sh);
		unsigned int avail = 64 - sh;
		unsigned int n = inv == 0 ? 64 : (unsigned int)__builtin_ctzll(inv);

		if (n > avail)
			n = avail;
		if (n == 0)
			return;
		*wp &= ~((n == 64 ? ~0ull : (1ull << n) - 1) << sh);
		w->cum += n;
		if (n < avail)
			return;
	}
}

/* Move cum up to new_cum, counting the pns that never arrived. */
static void slide(struct ist_rxwin *w, uint64_t new_cum)
{
	uint64_t span = new_cum - w->cum, got = 0, p = w->cum, left = span;
	uint32_t i;

	if (span >= w->window) {
		for (i = 0; i < w->window / 64; i++)
			got += (uint64_t)__builtin_popcountll(w->bits[i]);
		memset(w->bits, 0, w->window / 8);
	} else {
		while (left != 0) {
			uint64_t idx = p & w->mask;
			unsigned int sh = idx & 63;
			uint64_t n = 64 - sh < left ? 64 - sh : left;
			uint64_t m = (n == 64 ? ~0ull : (1ull << n) - 1) << sh;

			got += (uint64_t)__builtin_popcountll(w->bits[idx >> 6] & m);
			w->bits[idx >> 6] &= ~m;
			p += n;
			left -= n;
		}
	}
	w->slid_lost += span - got;
	w->cum = new_cum;
}

/* HOT */
int ist_rxwin_rx(struct ist_rxwin *w, uint64_t pn, bool ack_eliciting, uint64_t now)
{
	uint64_t idx, bit;

	if (unlikely(pn == 0)) {
		w->rx_bad++;
		return -EINVAL;
	}
	if (pn < w->cum) {
		w->rx_stale++;
		return -EALREADY;
	}
	if (unlikely(pn - w->cum >= w->window)) {
		slide(w, pn - w->window + 1);
		advance(w);
	}
	idx = pn & w->mask;
	bit = 1ull << (idx & 63);
	if (w->bits[idx >> 6] & bit) {
		w->rx_dup++;
		return -EALREADY;
	}
	w->bits[idx >> 6] |= bit;
	w->rx_new++;
	if (pn > w->largest) {
		/* a gap opened: the missing pn may be DATA the sender must resend */
		if (pn != w->largest + 1)
			w->ack_now = true;
		w->largest = pn;
		w->largest_at = now;
	} else {
		w->reorder++;
		if (ack_eliciting)
			w->ack_now = true;
	}
	if (pn == w->cum)
		advance(w);
	if (ack_eliciting && w->unacked++ == 0)
		w->ack_deadline = now + w->ack_delay;
	return 0;
}

/* Lowest q in [lo, p] such that every pn in q..p was received; pn p was. */
static uint64_t ones_down(const struct ist_rxwin *w, uint64_t p, uint64_t lo)
{
	for (;;) {
		uint64_t idx = p & w->mask;
		unsigned int b = idx & 63;
		uint64_t m = b == 63 ? ~0ull : (1ull << (b + 1)) - 1;
		uint64_t z = ~w->bits[idx >> 6] & m;

		if (z != 0) {
			uint64_t q = p - b + (uint64_t)(64 - __builtin_clzll(z));

			return q > lo ? q : lo;
		}
		if (p - b <= lo)
			return lo;
		p = p - b - 1;
	}
}

/* Highest received pn in [lo, p], 0 if none. */
static uint64_t set_down(const struct ist_rxwin *w, uint64_t p, uint64_t lo)
{
	if (p < lo)
		return 0;
	for (;;) {
		uint64_t idx = p & w->mask;
		unsigned int b = idx & 63;
		uint64_t m = b == 63 ? ~0ull : (1ull << (b + 1)) - 1;
		uint64_t s = w->bits[idx >> 6] & m;

		if (s != 0) {
			uint64_t q = p - b + (uint64_t)(63 - __builtin_clzll(s));

			return q >= lo ? q : 0;
		}
		if (p - b <= lo)
			return 0;
		p = p - b - 1;
	}
}

static uint32_t delay_us(const struct ist_rxwin *w, uint64_t now)
{
	unsigned __int128 us;

	if (w->largest == 0 || now <= w->largest_at)
		return 0;
	us = ((unsigned __int128)(now - w->largest_at) * w->us_mul) >> 32;
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* HOT */
void ist_rxwin_ack_build(struct ist_rxwin *w, struct ist_ack *ack, uint64_t now)
{
	uint64_t p, lo, start;
	uint8_t n = 0;

	ack->cum = w->cum;
	ack->largest = w->largest;
	ack->delay_us = delay_us(w, now);
	/* bit(cum) is clear by definition, so received pns above it start at cum + 1 */
	if (w->largest > w->cum) {
		lo = w->cum + 1;
		p = w->largest;
		while (n < IST_WIRE_MAX_SACK) {
			start = ones_down(w, p, lo);
			ack->ranges[n].start = start;
			ack->ranges[n].end = p;
			n++;
			if (start <= lo)
				break;
			p = set_down(w, start - 1, lo);
			if (p == 0)
				break;
		}
	}
	ack->n_ranges = n;
	w->unacked = 0;
	w->ack_now = false;
	w->ack_deadline = UINT64_MAX;
	w->acks++;
}
