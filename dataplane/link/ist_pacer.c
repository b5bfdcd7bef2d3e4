/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "ist_pacer.h"

int ist_pacer_profile_config(struct ist_pacer_profile *pp, uint64_t rate_bps, uint32_t burst_bytes,
			     uint64_t hz)
{
	unsigned __int128 depth;

	if (pp == NULL || rate_bps == 0 || burst_bytes == 0 || hz == 0)
		return -EINVAL;
	if (hz > UINT64_MAX / 8)
		return -ERANGE;
	depth = (unsigned __int128)burst_bytes * (8 * hz);
	/* refill adds up to one rate past the depth before clamping */
	if (depth + rate_bps > INT64_MAX)
		return -ERANGE;
	memset(pp, 0, sizeof(*pp));
	pp->rate = rate_bps;
	pp->unit = 8 * hz;
	pp->depth = (uint64_t)depth;
	pp->fill = (pp->depth + rate_bps - 1) / rate_bps;
	pp->inv = UINT64_MAX / rate_bps;
	pp->hz = hz;
	pp->burst_bytes = burst_bytes;
	return 0;
}

int ist_pacer_init(struct ist_pacer *p, const struct ist_pacer_profile *pp, uint64_t now)
{
	if (p == NULL || pp == NULL || pp->rate == 0 || pp->unit == 0)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->pp = *pp;
	p->tokens = pp->depth;
	p->last = now;
	return 0;
}

void ist_pacer_profile_set(struct ist_pacer *p, const struct ist_pacer_profile *pp, uint64_t now)
{
	ist_pacer_refill(p, now);
	if (pp->unit != p->pp.unit) /* a new TSC rate: re-express the tokens */
		p->tokens = (uint64_t)((unsigned __int128)p->tokens * pp->unit / p->pp.unit);
	p->pp = *pp;
	if (p->tokens > p->pp.depth)
		p->tokens = p->pp.depth;
}
