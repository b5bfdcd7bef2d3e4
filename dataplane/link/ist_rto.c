/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "ist_rto.h"

uint64_t ist_rto_us_to_cycles(uint64_t us, uint64_t hz)
{
	/* 128 bits: 2 s at 5 GHz is 1e16 before the division. */
	return (uint64_t)(((unsigned __int128)us * hz) / 1000000u);
}

static uint64_t clamp(const struct ist_rto *r, uint64_t v)
{
	if (v < r->min)
		return r->min;
	if (v > r->max)
		return r->max;
	return v;
}

int ist_rto_init(struct ist_rto *r, const struct ist_rto_conf *c)
{
	uint64_t initial_us;

	if (r == NULL || c == NULL || c->hz == 0)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->hz = c->hz;
	r->min = ist_rto_us_to_cycles(c->min_us ? c->min_us : IST_RTO_DEFAULT_MIN_US, c->hz);
	r->max = ist_rto_us_to_cycles(c->max_us ? c->max_us : IST_RTO_DEFAULT_MAX_US, c->hz);
	if (r->min > r->max)
		return -EINVAL;
	r->g = ist_rto_us_to_cycles(c->granularity_us ? c->granularity_us : IST_RTO_DEFAULT_G_US,
				    c->hz);
	r->ack_delay = ist_rto_us_to_cycles(c->max_ack_delay_us, c->hz);
	if (c->initial_us != 0)
		initial_us = c->initial_us;
	else if (c->rtt_ms != 0)
		initial_us = 2000ull * c->rtt_ms;
	else
		initial_us = IST_RTO_DEFAULT_INITIAL_US;
	r->initial = clamp(r, ist_rto_us_to_cycles(initial_us, c->hz));
	r->rto = r->initial;
	return 0;
}

static uint64_t compute(const struct ist_rto *r)
{
	uint64_t var4 = 4 * r->rttvar;

	return clamp(r, r->srtt + (var4 > r->g ? var4 : r->g) + r->ack_delay);
}

/* HOT */
void ist_rto_sample(struct ist_rto *r, uint64_t rtt)
{
	uint64_t diff;

	if (r->srtt == 0) {
		/* A zero sample would read as "no sample"; one cycle is equivalent. */
		r->srtt = rtt != 0 ? rtt : 1;
		r->rttvar = rtt / 2;
	} else {
		diff = r->srtt > rtt ? r->srtt - rtt : rtt - r->srtt;
		r->rttvar = (3 * r->rttvar + diff) / 4;
		r->srtt = (7 * r->srtt + rtt) / 8;
		if (r->srtt == 0)
			r->srtt = 1;
	}
	r->rto = compute(r);
	r->backoffs = 0;
	r->samples++;
}

void ist_rto_backoff_clear(struct ist_rto *r)
{
	r->rto = r->srtt != 0 ? compute(r) : r->initial;
	r->backoffs = 0;
}

void ist_rto_backoff(struct ist_rto *r)
{
	r->rto = r->rto > r->max / 2 ? r->max : 2 * r->rto;
	r->backoffs++;
}
