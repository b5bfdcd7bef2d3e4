/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "ist_reasm.h"
#include "ist_rto.h"

static const char *const rc_names[IST_REASM_RC_MAX] = {
	[IST_REASM_OK] = "ok",
	[IST_REASM_DUP_FRAG] = "duplicate fragment",
	[IST_REASM_DUP_FRAME] = "frame already delivered",
	[IST_REASM_E_STREAM] = "unknown stream",
	[IST_REASM_E_HDR] = "inconsistent fragment header",
	[IST_REASM_E_SIZE] = "frame larger than a slot",
	[IST_REASM_E_MISMATCH] = "fragment disagrees with its frame",
	[IST_REASM_E_OVERLAP] = "fragment overlaps another",
	[IST_REASM_E_GAP] = "fragments do not cover the frame",
	[IST_REASM_E_NOSLOT] = "no slot: beyond the stream's credit",
};

const char *ist_reasm_rc_str(enum ist_reasm_rc rc)
{
	if ((unsigned int)rc >= IST_REASM_RC_MAX)
		return "?";
	return rc_names[rc];
}

struct layout {
	size_t st, slot, pool, queue, bits, total;
};

static int layout(const struct ist_reasm_conf *c, struct layout *l)
{
	size_t stride, n_slots, words;

	if (c == NULL || c->hz == 0 || c->deliver == NULL || c->n_streams == 0 ||
	    c->n_streams > IST_REASM_MAX_STREAMS || c->slots == 0 ||
	    c->slots > IST_REASM_MAX_SLOTS || c->slot_size < IST_REASM_MIN_SLOT ||
	    c->slot_size > IST_WIRE_MAX_FRAME)
		return -EINVAL;
	stride = IST_LINK_ALIGN_UP((size_t)c->slot_size);
	n_slots = (size_t)c->n_streams * c->slots;
	words = (c->n_streams + 63) / 64;
	l->st = IST_LINK_ALIGN_UP(sizeof(struct ist_reasm));
	l->slot = l->st + IST_LINK_ALIGN_UP(c->n_streams * sizeof(struct ist_reasm_stream));
	l->pool = l->slot + IST_LINK_ALIGN_UP(n_slots * sizeof(struct ist_reasm_slot));
	l->queue = l->pool + n_slots * stride;
	l->bits = l->queue + IST_LINK_ALIGN_UP(c->n_streams * sizeof(uint16_t));
	l->total = l->bits + IST_LINK_ALIGN_UP(3 * words * sizeof(uint64_t));
	return 0;
}

size_t ist_reasm_memsize(const struct ist_reasm_conf *c)
{
	struct layout l;

	return layout(c, &l) == 0 ? l.total : 0;
}

struct ist_reasm *ist_reasm_create(const struct ist_reasm_conf *c, const struct ist_link_alloc *a)
{
	struct ist_reasm *r;
	struct layout l;
	uint32_t words;
	char *base;

	if (layout(c, &l) < 0) {
		errno = EINVAL;
		return NULL;
	}
	base = ist_link_mem_zalloc(a, l.total);
	if (base == NULL)
		return NULL;
	r = (struct ist_reasm *)base;
	if (a != NULL)
		r->alloc = *a;
	words = (c->n_streams + 63) / 64;
	r->n_streams = c->n_streams;
	r->slots = c->slots;
	r->slot_size = c->slot_size;
	r->stride = (uint32_t)IST_LINK_ALIGN_UP((size_t)c->slot_size);
	r->st = (struct ist_reasm_stream *)(base + l.st);
	r->slot = (struct ist_reasm_slot *)(base + l.slot);
	r->pool = (uint8_t *)(base + l.pool);
	r->deliver = c->deliver;
	r->arg = c->arg;
	r->cr.queue = (uint16_t *)(base + l.queue);
	r->cr.queued = (uint64_t *)(base + l.bits);
	r->cr.changed = r->cr.queued + words;
	r->cr.again = r->cr.changed + words;
	r->cr.words = words;
	r->cr.delay = ist_rto_us_to_cycles(
		c->credit_delay_us ? c->credit_delay_us : IST_CREDIT_DEFAULT_DELAY_US, c->hz);
	r->cr.repeat = ist_rto_us_to_cycles(
		c->credit_repeat_us ? c->credit_repeat_us : IST_CREDIT_DEFAULT_REPEAT_US, c->hz);
	r->cr.refresh = ist_rto_us_to_cycles(
		c->credit_refresh_us ? c->credit_refresh_us : IST_CREDIT_DEFAULT_REFRESH_US, c->hz);
	r->cr.dirty_since = UINT64_MAX;
	r->cr.next_repeat = 0;
	/* the sender may send nothing before it hears a grant: restate all at once */
	ist_credit_rx_sweep(r, 0);
	return r;
}

void ist_reasm_free(struct ist_reasm *r)
{
	struct ist_link_alloc a;

	if (r == NULL)
		return;
	a = r->alloc;
	ist_link_mem_free(&a, r);
}

static inline uint32_t slot_index(const struct ist_reasm *r, const struct ist_reasm_stream *st,
				  uint32_t d)
{
	uint32_t idx = st->head + d;

	return idx >= r->slots ? idx - r->slots : idx;
}

static inline struct ist_reasm_slot *slot_of(struct ist_reasm *r, uint32_t stream_id, uint32_t idx)
{
	return &r->slot[(size_t)stream_id * r->slots + idx];
}

static inline uint8_t *data_of(struct ist_reasm *r, uint32_t stream_id, uint32_t idx)
{
	return r->pool + ((size_t)stream_id * r->slots + idx) * r->stride;
}

uint32_t ist_reasm_deliver(struct ist_reasm *r, uint32_t stream_id)
{
	struct ist_reasm_stream *st;
	struct ist_reasm_slot *sl;
	uint32_t d, idx, n = 0;

	if (stream_id >= r->n_streams)
		return 0;
	st = &r->st[stream_id];
	for (;;) {
		d = st->next_seq - st->free_seq;
		if (d >= r->slots)
			break;
		idx = slot_index(r, st, d);
		sl = slot_of(r, stream_id, idx);
		if (sl->state != IST_REASM_SLOT_READY)
			break;
		if (!r->deliver(r->arg, stream_id, st->next_seq, data_of(r, stream_id, idx),
				sl->frame_len)) {
			r->refused++;
			break;
		}
		sl->state = IST_REASM_SLOT_HELD;
		st->next_seq++;
		r->delivered++;
		r->bytes += sl->frame_len;
		n++;
	}
	return n;
}

static bool hdr_ok(const struct ist_frag *f)
{
	uint64_t end = (uint64_t)f->frag_off + f->frag_len;

	return f->frag_cnt != 0 && f->frag_cnt <= IST_WIRE_MAX_FRAGS && f->frag_idx < f->frag_cnt &&
	       f->frag_len != 0 && f->frame_len != 0 && end <= f->frame_len &&
	       (f->frag_idx != 0 || f->frag_off == 0) &&
	       (f->frag_idx != f->frag_cnt - 1 || end == f->frame_len);
}

/* HOT */
static enum ist_reasm_rc frag_rx(struct ist_reasm *r, const struct ist_frag *f)
{
	struct ist_reasm_stream *st;
	struct ist_reasm_slot *sl;
	uint64_t bit, below, above;
	uint32_t d, idx;
	unsigned int j;

	if (unlikely(f->stream_id >= r->n_streams))
		return IST_REASM_E_STREAM;
	if (unlikely(!hdr_ok(f)))
		return IST_REASM_E_HDR;
	if (unlikely(f->frame_len > r->slot_size))
		return IST_REASM_E_SIZE;
	st = &r->st[f->stream_id];
	if ((int32_t)(f->frame_seq - st->next_seq) < 0)
		return IST_REASM_DUP_FRAME;
	d = f->frame_seq - st->free_seq;
	if (unlikely(d >= r->slots))
		return IST_REASM_E_NOSLOT;
	idx = slot_index(r, st, d);
	sl = slot_of(r, f->stream_id, idx);
	if (sl->state == IST_REASM_SLOT_FREE) {
		sl->state = IST_REASM_SLOT_FILLING;
		sl->seq = f->frame_seq;
		sl->frame_len = f->frame_len;
		sl->frag_cnt = f->frag_cnt;
		sl->frags = 0;
		sl->got = 0;
	} else if (sl->state != IST_REASM_SLOT_FILLING) {
		return IST_REASM_DUP_FRAG; /* complete, waiting for an older frame */
	} else if (sl->frame_len != f->frame_len || sl->frag_cnt != f->frag_cnt) {
		return IST_REASM_E_MISMATCH;
	}
	bit = 1ull << f->frag_idx;
	if (sl->frags & bit) {
		if (sl->off[f->frag_idx] == f->frag_off && sl->len[f->frag_idx] == f->frag_len)
			return IST_REASM_DUP_FRAG;
		return IST_REASM_E_MISMATCH;
	}
	/* offsets grow with the index, so only the nearest stored neighbours can overlap */
	below = sl->frags & (bit - 1);
	if (below != 0) {
		j = 63u - (unsigned int)__builtin_clzll(below);
		if ((uint64_t)sl->off[j] + sl->len[j] > f->frag_off)
			return IST_REASM_E_OVERLAP;
	}
	above = sl->frags & ~((bit - 1) | bit);
	if (above != 0) {
		j = (unsigned int)__builtin_ctzll(above);
		if ((uint64_t)f->frag_off + f->frag_len > sl->off[j])
			return IST_REASM_E_OVERLAP;
	}
	memcpy(data_of(r, f->stream_id, idx) + f->frag_off, f->data, f->frag_len);
	sl->frags |= bit;
	sl->off[f->frag_idx] = f->frag_off;
	sl->len[f->frag_idx] = f->frag_len;
	sl->got += f->frag_len;
	if ((unsigned int)__builtin_popcountll(sl->frags) == sl->frag_cnt) {
		if (sl->got != sl->frame_len) {
			sl->state = IST_REASM_SLOT_FREE;
			return IST_REASM_E_GAP;
		}
		sl->state = IST_REASM_SLOT_READY;
		if (f->frame_seq == st->next_seq)
			ist_reasm_deliver(r, f->stream_id);
	}
	return IST_REASM_OK;
}

enum ist_reasm_rc ist_reasm_frag_rx(struct ist_reasm *r, const struct ist_frag *f)
{
	enum ist_reasm_rc rc = frag_rx(r, f);

	r->rc_count[rc]++;
	return rc;
}

/* HOT */
int ist_reasm_release(struct ist_reasm *r, uint32_t stream_id, uint32_t frame_seq, uint64_t now)
{
	struct ist_reasm_stream *st;
	struct ist_reasm_slot *sl;
	uint32_t d;

	if (stream_id >= r->n_streams)
		return -EINVAL;
	st = &r->st[stream_id];
	d = frame_seq - st->free_seq;
	if ((int32_t)d < 0)
		return -EALREADY;
	if ((int32_t)(frame_seq - st->next_seq) >= 0)
		return -EINVAL;
	sl = slot_of(r, stream_id, slot_index(r, st, d));
	if (sl->state != IST_REASM_SLOT_HELD)
		return -EALREADY;
	sl->state = IST_REASM_SLOT_FREE;
	r->released++;
	if (d != 0)
		return 0; /* an older frame still holds the window's start */
	while (st->free_seq != st->next_seq &&
	       slot_of(r, stream_id, st->head)->state == IST_REASM_SLOT_FREE) {
		st->free_seq++;
		st->head = st->head + 1 == r->slots ? 0 : st->head + 1;
	}
	ist_credit_rx_mark(r, stream_id, now);
	return 0;
}

int ist_reasm_restart_at(struct ist_reasm *r, uint32_t stream_id, uint32_t seq)
{
	struct ist_reasm_stream *st;

	if (stream_id >= r->n_streams)
		return -EINVAL;
	for (uint32_t i = 0; i < r->slots; i++)
		if (slot_of(r, stream_id, i)->state != IST_REASM_SLOT_FREE)
			return -EBUSY;
	st = &r->st[stream_id];
	st->next_seq = seq;
	st->free_seq = seq;
	st->head = 0;
	return 0;
}

void ist_reasm_epoch_reset(struct ist_reasm *r, uint64_t now)
{
	uint32_t s, i;

	for (s = 0; s < r->n_streams; s++) {
		for (i = 0; i < r->slots; i++) {
			struct ist_reasm_slot *sl = slot_of(r, s, i);

			if (sl->state == IST_REASM_SLOT_FILLING ||
			    sl->state == IST_REASM_SLOT_READY) {
				sl->state = IST_REASM_SLOT_FREE;
				r->dropped++;
			}
		}
	}
	ist_credit_rx_sweep(r, now);
}
