/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "ist_credit.h"
#include "ist_reasm.h"

/* ---- receiver side ---- */

static void grant(const struct ist_reasm *r, uint32_t s, struct ist_credit *c)
{
	c->stream_id = s;
	c->next_seq = r->st[s].next_seq;
	c->limit_seq = r->st[s].free_seq + r->slots;
}

int ist_credit_rx_grant(const struct ist_reasm *r, uint32_t stream_id, struct ist_credit *c)
{
	if (r == NULL || c == NULL || stream_id >= r->n_streams)
		return -EINVAL;
	grant(r, stream_id, c);
	return 0;
}

void ist_credit_rx_mark(struct ist_reasm *r, uint32_t stream_id, uint64_t now)
{
	struct ist_credit_rx *cr = &r->cr;
	uint64_t bit = 1ull << (stream_id & 63);
	uint32_t tail;

	if (cr->queued[stream_id >> 6] & bit)
		return;
	cr->queued[stream_id >> 6] |= bit;
	tail = cr->q_head + cr->q_len;
	if (tail >= r->n_streams)
		tail -= r->n_streams;
	cr->queue[tail] = (uint16_t)stream_id;
	cr->q_len++;
	if (cr->dirty_since == UINT64_MAX)
		cr->dirty_since = now;
}

void ist_credit_rx_sweep(struct ist_reasm *r, uint64_t now)
{
	r->cr.sweep_left = r->n_streams;
	r->cr.next_sweep = now + r->cr.refresh;
}

bool ist_credit_rx_due(const struct ist_reasm *r, uint64_t now)
{
	const struct ist_credit_rx *cr = &r->cr;

	if (cr->sweep_left != 0 || cr->n_again != 0 || now >= cr->next_sweep)
		return true;
	if (cr->n_changed != 0 && now >= cr->next_repeat)
		return true;
	return cr->q_len != 0 &&
	       (cr->q_len >= IST_WIRE_MAX_CREDITS || now - cr->dirty_since >= cr->delay);
}

uint64_t ist_credit_rx_deadline(const struct ist_reasm *r)
{
	const struct ist_credit_rx *cr = &r->cr;
	uint64_t t = cr->next_sweep;

	if (cr->sweep_left != 0 || cr->n_again != 0 || cr->q_len >= IST_WIRE_MAX_CREDITS)
		return 0;
	if (cr->n_changed != 0 && cr->next_repeat < t)
		t = cr->next_repeat;
	if (cr->q_len != 0 && cr->dirty_since + cr->delay < t)
		t = cr->dirty_since + cr->delay;
	return t;
}

/* HOT */
uint32_t ist_credit_rx_build(struct ist_reasm *r, struct ist_credit *out, uint32_t max,
			     uint64_t now)
{
	struct ist_credit_rx *cr = &r->cr;
	uint32_t n = 0, s, w;

	/* 1. grants that changed, oldest change first */
	while (n < max && cr->q_len != 0) {
		s = cr->queue[cr->q_head];
		cr->q_head = cr->q_head + 1 == r->n_streams ? 0 : cr->q_head + 1;
		cr->q_len--;
		cr->queued[s >> 6] &= ~(1ull << (s & 63));
		if (!(cr->changed[s >> 6] & (1ull << (s & 63)))) {
			/* the first of a batch arms the repeat a full period from now */
			if (cr->n_changed++ == 0)
				cr->next_repeat = now + cr->repeat;
			cr->changed[s >> 6] |= 1ull << (s & 63);
		}
		grant(r, s, &out[n++]);
	}
	cr->dirty_since = cr->q_len != 0 ? now : UINT64_MAX;

	/* 2. say each of them once more, a repeat period later, in case a CREDIT was lost */
	if (cr->n_again == 0 && cr->n_changed != 0 && now >= cr->next_repeat) {
		uint64_t *t = cr->again;

		cr->again = cr->changed;
		cr->changed = t;
		cr->n_again = cr->n_changed;
		cr->n_changed = 0;
		cr->again_word = 0;
		cr->next_repeat = now + cr->repeat;
	}
	while (n < max && cr->n_again != 0) {
		w = cr->again_word;
		if (cr->again[w] == 0) {
			cr->again_word++;
			continue;
		}
		s = w * 64 + (uint32_t)__builtin_ctzll(cr->again[w]);
		cr->again[w] &= cr->again[w] - 1;
		cr->n_again--;
		grant(r, s, &out[n++]);
	}

	/* 3. restate everything now and then: the last resort for grants lost twice */
	if (cr->sweep_left == 0 && now >= cr->next_sweep)
		ist_credit_rx_sweep(r, now);
	while (n < max && cr->sweep_left != 0) {
		grant(r, cr->rr, &out[n++]);
		cr->rr = cr->rr + 1 == r->n_streams ? 0 : cr->rr + 1;
		cr->sweep_left--;
	}
	if (n != 0)
		cr->msgs++;
	cr->entries += n;
	return n;
}

/* ---- sender side ---- */

size_t ist_credit_tx_memsize(uint32_t n_streams)
{
	return IST_LINK_ALIGN_UP(sizeof(struct ist_credit_tx)) +
	       IST_LINK_ALIGN_UP((size_t)n_streams * sizeof(struct ist_credit_tx_stream));
}

struct ist_credit_tx *ist_credit_tx_create(uint32_t n_streams, const struct ist_link_alloc *a)
{
	struct ist_credit_tx *ct;

	if (n_streams == 0 || n_streams > IST_REASM_MAX_STREAMS) {
		errno = EINVAL;
		return NULL;
	}
	ct = ist_link_mem_zalloc(a, ist_credit_tx_memsize(n_streams));
	if (ct == NULL)
		return NULL;
	if (a != NULL)
		ct->alloc = *a;
	ct->n_streams = n_streams;
	ct->st = (struct ist_credit_tx_stream *)((char *)ct + IST_LINK_ALIGN_UP(sizeof(*ct)));
	return ct;
}

void ist_credit_tx_free(struct ist_credit_tx *ct)
{
	struct ist_link_alloc a;

	if (ct == NULL)
		return;
	a = ct->alloc;
	ist_link_mem_free(&a, ct);
}

void ist_credit_tx_reset(struct ist_credit_tx *ct)
{
	memset(ct->st, 0, (size_t)ct->n_streams * sizeof(*ct->st));
}

/* HOT */
uint32_t ist_credit_tx_update(struct ist_credit_tx *ct, const struct ist_credit *c, uint32_t n)
{
	uint32_t i, changed = 0;

	for (i = 0; i < n; i++) {
		struct ist_credit_tx_stream *s;
		bool moved = false;

		if (unlikely(c[i].stream_id >= ct->n_streams ||
			     (int32_t)(c[i].limit_seq - c[i].next_seq) < 0)) {
			ct->bad++;
			continue;
		}
		s = &ct->st[c[i].stream_id];
		if (!s->known) {
			/* first word of the epoch: may go backwards, it is the resume point */
			s->known = 1;
			s->resume = 1;
			s->limit_seq = c[i].limit_seq;
			s->next_seq = c[i].next_seq;
			moved = true;
		} else {
			if (ist_credit_seq_gt(c[i].limit_seq, s->limit_seq)) {
				s->limit_seq = c[i].limit_seq;
				moved = true;
			}
			if (ist_credit_seq_gt(c[i].next_seq, s->next_seq)) {
				s->next_seq = c[i].next_seq;
				moved = true;
			}
		}
		if (moved) {
			ct->updates++;
			changed++;
		} else {
			ct->stale++;
		}
	}
	return changed;
}

int ist_credit_tx_resume(struct ist_credit_tx *ct, uint32_t stream_id, uint32_t *next_seq)
{
	struct ist_credit_tx_stream *s;

	if (ct == NULL || next_seq == NULL || stream_id >= ct->n_streams)
		return -EINVAL;
	s = &ct->st[stream_id];
	if (!s->resume)
		return -EAGAIN;
	s->resume = 0;
	*next_seq = s->next_seq;
	return 0;
}
