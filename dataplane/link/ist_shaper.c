/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "ist_shaper.h"

/* Where a class's index is queued: nowhere, in the DRR FIFO, in the wait heap. */
enum { CLS_NONE, CLS_RING, CLS_HEAP };

/*
 * One class: the profile (first line, written once at create) and the
 * runtime state with its counters (second line). Both are touched by pick()
 * and charge(); keeping them in one array entry keeps a class to two lines.
 */
struct ist_shaper_cls {
	uint64_t rate;   /* units per cycle (= bytes/s); 0: unlimited */
	uint64_t unit;   /* units per byte (= hz); 0: unlimited, bytes cost nothing */
	int64_t depth;   /* burst * unit; 1 when unlimited, so tokens stay > 0 */
	int64_t floor;   /* -(IST_SHAPER_DEBT_MAX * unit): the most debt kept */
	uint64_t fill;   /* cycles from floor to depth: a longer gap refills fully */
	uint64_t inv;    /* floor((2^64 - 1) / rate), for the wake time; 0: unlimited */
	int64_t quantum; /* quantum_bytes * weight, added per turn */
	uint32_t burst;
	uint32_t weight;

	int64_t tokens __rte_cache_aligned; /* units at `last`; may be negative (debt) */
	uint64_t last;                      /* TSC of the last refill */
	int64_t deficit;                    /* DRR credit, bytes */
	uint64_t bytes;                     /* counters: one writer, the owner lcore */
	uint64_t frames;
	uint64_t throttled;
	uint64_t deferred;
	uint8_t backlogged; /* the caller's queue for the class is not empty */
	uint8_t where;      /* CLS_NONE / CLS_RING / CLS_HEAP */
} __rte_cache_aligned;

_Static_assert(sizeof(struct ist_shaper_cls) == 2 * RTE_CACHE_LINE_SIZE,
	       "a class is a profile line and a runtime line");

/* A class waiting on its bucket, keyed by the TSC its tokens turn positive. */
struct ist_shaper_wait {
	uint64_t wake;
	uint32_t cls;
	uint32_t pad;
};

struct ist_shaper {
	uint32_t n;
	uint32_t ring_mask; /* ring capacity (power of two >= n) - 1 */
	uint32_t ring_head;
	uint32_t ring_len;
	uint32_t heap_len;
	uint32_t pad;
	uint64_t bad_class; /* counter: unknown class passed to a hot function */
	struct ist_shaper_cls *cls;
	uint16_t *ring;               /* DRR FIFO of class indices, each at most once */
	struct ist_shaper_wait *heap; /* min-heap on wake, each class at most once */
	struct ist_link_alloc alloc;
} __rte_cache_aligned;

/* ---- bucket ---- */

static inline void cls_refill(struct ist_shaper_cls *c, uint64_t now)
{
	uint64_t d, add;

	if (now <= c->last)
		return;
	d = now - c->last;
	c->last = now;
	if (d >= c->fill) {
		c->tokens = c->depth;
		return;
	}
	/* d < fill, so add < depth - floor: fits (checked at create). */
	add = d * c->rate;
	if (add >= (uint64_t)(c->depth - c->tokens))
		c->tokens = c->depth;
	else
		c->tokens += (int64_t)add;
}

/*
 * The first TSC at which the bucket holds tokens > 0, counting from `last`
 * without refilling: tokens + d * rate > 0 for the smallest d = floor(D / rate)
 * + 1 with D = -tokens. Exact. Only for a limited class.
 */
static uint64_t cls_wake(const struct ist_shaper_cls *c)
{
	uint64_t debt, q, w;

	if (c->tokens > 0)
		return c->last;
	debt = (uint64_t)(-c->tokens);
	/* q <= debt / rate <= q + 2, as in ist_pacer_next() */
	q = (uint64_t)(((unsigned __int128)debt * c->inv) >> 64);
	while ((q + 1) * c->rate <= debt)
		q++;
	w = c->last + q + 1;
	return w < c->last ? UINT64_MAX : w;
}

/* ---- DRR FIFO ---- */

static inline void ring_push(struct ist_shaper *s, uint32_t cls)
{
	s->ring[(s->ring_head + s->ring_len) & s->ring_mask] = (uint16_t)cls;
	s->ring_len++;
}

static inline void ring_push_front(struct ist_shaper *s, uint32_t cls)
{
	s->ring_head = (s->ring_head - 1) & s->ring_mask;
	s->ring[s->ring_head] = (uint16_t)cls;
	s->ring_len++;
}

static inline void ring_pop(struct ist_shaper *s)
{
	s->ring_head = (s->ring_head + 1) & s->ring_mask;
	s->ring_len--;
}

/* head to tail */
static inline void ring_rotate(struct ist_shaper *s)
{
	s->ring[(s->ring_head + s->ring_len) & s->ring_mask] = s->ring[s->ring_head];
	s->ring_head = (s->ring_head + 1) & s->ring_mask;
}

/* ---- wait heap ---- */

static void heap_push(struct ist_shaper *s, uint32_t cls, uint64_t wake)
{
	uint32_t i = s->heap_len++, p;

	while (i > 0) {
		p = (i - 1) / 2;
		if (s->heap[p].wake <= wake)
			break;
		s->heap[i] = s->heap[p];
		i = p;
	}
	s->heap[i].wake = wake;
	s->heap[i].cls = cls;
}

static void heap_pop(struct ist_shaper *s)
{
	struct ist_shaper_wait last = s->heap[--s->heap_len];
	uint32_t n = s->heap_len, i = 0, l;

	if (n == 0)
		return;
	for (;;) {
		l = 2 * i + 1;
		if (l >= n)
			break;
		if (l + 1 < n && s->heap[l + 1].wake < s->heap[l].wake)
			l++;
		if (s->heap[l].wake >= last.wake)
			break;
		s->heap[i] = s->heap[l];
		i = l;
	}
	s->heap[i] = last;
}

/* A class leaves the FIFO or the heap because it is idle: no banked credit. */
static inline void cls_drop(struct ist_shaper_cls *c)
{
	c->where = CLS_NONE;
	if (c->deficit > 0)
		c->deficit = 0;
}

/* ---- scheduling ---- */

/*
 * Classes whose wait is over rejoin the round (idle ones are dropped). One
 * whose bucket ran dry in the middle of its turn (credit left) resumes that
 * turn at the head; one whose turn was over waits at the tail for the next.
 */
static inline void shaper_wake(struct ist_shaper *s, uint64_t now)
{
	while (s->heap_len != 0 && s->heap[0].wake <= now) {
		uint32_t idx = s->heap[0].cls;
		struct ist_shaper_cls *c = &s->cls[idx];

		heap_pop(s);
		if (c->backlogged) {
			c->where = CLS_RING;
			if (c->deficit > 0)
				ring_push_front(s, idx);
			else
				ring_push(s, idx);
		} else {
			cls_drop(c);
		}
	}
}

/*
 * Make the FIFO head a backlogged class with tokens at `now`: drop idle
 * heads, move heads with an empty bucket to the heap. @return the head or -1.
 */
static inline int shaper_head(struct ist_shaper *s, uint64_t now)
{
	shaper_wake(s, now);
	while (s->ring_len != 0) {
		uint32_t idx = s->ring[s->ring_head];
		struct ist_shaper_cls *c = &s->cls[idx];

		if (unlikely(!c->backlogged)) {
			ring_pop(s);
			cls_drop(c);
			continue;
		}
		cls_refill(c, now);
		if (c->tokens > 0)
			return (int)idx;
		ring_pop(s);
		c->where = CLS_HEAP;
		c->throttled++;
		heap_push(s, idx, cls_wake(c));
	}
	return -1;
}

/*
 * A full pass of the FIFO found no class with credit (quantum smaller than
 * the frames): do what the next k passes would do at once. First settle every
 * member as its turn at the head would (so the passes are exact), then give
 * each member k quanta, k being the most that leaves them all at <= 0; the
 * next pass then serves someone.
 */
static void shaper_skip_rounds(struct ist_shaper *s, uint64_t now)
{
	uint32_t len = s->ring_len, i, idx, kept = 0;
	uint64_t k = UINT64_MAX, r;
	struct ist_shaper_cls *c;

	for (i = 0; i < len; i++) {
		idx = s->ring[(s->ring_head + i) & s->ring_mask];
		c = &s->cls[idx];
		if (!c->backlogged) {
			cls_drop(c);
			continue;
		}
		cls_refill(c, now);
		if (c->tokens <= 0) {
			c->where = CLS_HEAP;
			c->throttled++;
			heap_push(s, idx, cls_wake(c));
			continue;
		}
		/* compact in place: kept <= i, so nothing unread is overwritten */
		s->ring[(s->ring_head + kept++) & s->ring_mask] = (uint16_t)idx;
		r = c->deficit > 0 ? 0 : (uint64_t)(-c->deficit) / (uint64_t)c->quantum;
		if (r < k)
			k = r;
	}
	s->ring_len = kept;
	if (k == 0 || kept == 0)
		return;
	for (i = 0; i < kept; i++) {
		c = &s->cls[s->ring[(s->ring_head + i) & s->ring_mask]];
		c->deficit += (int64_t)k * c->quantum;
	}
}

/* HOT: measured with charge() in bench_shaper, see the header. */
int ist_shaper_pick(struct ist_shaper *s, uint64_t now)
{
	uint32_t turns = 0;
	struct ist_shaper_cls *c;
	int idx;

	for (;;) {
		idx = shaper_head(s, now);
		if (idx < 0)
			return -1;
		c = &s->cls[idx];
		if (c->deficit > 0)
			return idx;
		c->deficit += c->quantum;
		if (s->ring_len > 1)
			c->deferred++;
		ring_rotate(s);
		if (unlikely(++turns >= s->ring_len)) {
			shaper_skip_rounds(s, now);
			turns = 0;
		}
	}
}

/* HOT */
void ist_shaper_charge(struct ist_shaper *s, uint32_t cls, uint32_t bytes, uint64_t now)
{
	struct ist_shaper_cls *c;
	uint64_t b = bytes < IST_SHAPER_DEBT_MAX ? bytes : IST_SHAPER_DEBT_MAX;
	int64_t t;

	if (unlikely(cls >= s->n)) {
		s->bad_class++;
		return;
	}
	c = &s->cls[cls];
	cls_refill(c, now);
	t = c->tokens - (int64_t)(b * c->unit);
	c->tokens = t < c->floor ? c->floor : t;
	t = c->deficit - (int64_t)b;
	c->deficit = t < -(int64_t)IST_SHAPER_DEBT_MAX ? -(int64_t)IST_SHAPER_DEBT_MAX : t;
	c->bytes += bytes;
	c->frames++;
}

/* HOT */
void ist_shaper_set_backlog(struct ist_shaper *s, uint32_t cls, bool backlogged)
{
	struct ist_shaper_cls *c;

	if (unlikely(cls >= s->n)) {
		s->bad_class++;
		return;
	}
	c = &s->cls[cls];
	if (!backlogged) {
		c->backlogged = 0;
		if (c->deficit > 0)
			c->deficit = 0;
		return;
	}
	if (c->backlogged)
		return;
	c->backlogged = 1;
	/* still queued (lazily, or waiting on its bucket): keep its place */
	if (c->where != CLS_NONE)
		return;
	/* join the tail with this turn's quantum, minus any debt */
	c->deficit = (c->deficit < 0 ? c->deficit : 0) + c->quantum;
	c->where = CLS_RING;
	ring_push(s, cls);
}

uint64_t ist_shaper_next_eligible(struct ist_shaper *s, uint64_t now)
{
	if (shaper_head(s, now) >= 0)
		return now;
	/* The FIFO is empty. A heap entry's stored wake can be early (the class
	 * was charged while waiting), never late: re-key the top until it is
	 * exact; the minimum of the true wakes is then at the top. */
	while (s->heap_len != 0) {
		uint32_t idx = s->heap[0].cls;
		struct ist_shaper_cls *c = &s->cls[idx];
		uint64_t w;

		if (!c->backlogged) {
			heap_pop(s);
			cls_drop(c);
			continue;
		}
		w = cls_wake(c);
		if (w == s->heap[0].wake)
			return w;
		heap_pop(s);
		if (w <= now) {
			c->where = CLS_RING;
			ring_push(s, idx);
			return now;
		}
		heap_push(s, idx, w);
	}
	return UINT64_MAX;
}

/* ---- set-up ---- */

static int cls_config(struct ist_shaper_cls *c, const struct ist_shaper_class_cfg *cfg, uint64_t hz,
		      uint32_t quantum)
{
	unsigned __int128 depth, debt;

	if (cfg->weight == 0 || cfg->weight > IST_SHAPER_MAX_WEIGHT)
		return -EINVAL;
	c->weight = cfg->weight;
	c->quantum = (int64_t)quantum * cfg->weight;
	if (cfg->rate == 0) {
		/* unlimited: bytes cost nothing and the bucket always holds 1 unit */
		c->depth = 1;
		c->tokens = 1;
		return 0;
	}
	if (cfg->burst == 0)
		return -EINVAL;
	depth = (unsigned __int128)cfg->burst * hz;
	debt = (unsigned __int128)IST_SHAPER_DEBT_MAX * hz;
	/* tokens live in [floor - debt, depth] transiently; a refill adds < depth - floor */
	if (depth + 2 * debt + cfg->rate > INT64_MAX)
		return -ERANGE;
	c->rate = cfg->rate;
	c->unit = hz;
	c->depth = (int64_t)depth;
	c->floor = -(int64_t)debt;
	c->fill = (uint64_t)((depth + debt + cfg->rate - 1) / cfg->rate);
	c->inv = UINT64_MAX / cfg->rate;
	c->burst = cfg->burst;
	c->tokens = c->depth;
	return 0;
}

static uint32_t ring_capacity(uint32_t n)
{
	uint32_t cap = 1;

	while (cap < n)
		cap <<= 1;
	return cap;
}

size_t ist_shaper_memsize(uint32_t n_classes)
{
	if (n_classes == 0 || n_classes > IST_SHAPER_MAX_CLASSES)
		return 0;
	return IST_LINK_ALIGN_UP(sizeof(struct ist_shaper)) +
	       IST_LINK_ALIGN_UP((size_t)n_classes * sizeof(struct ist_shaper_cls)) +
	       IST_LINK_ALIGN_UP((size_t)ring_capacity(n_classes) * sizeof(uint16_t)) +
	       IST_LINK_ALIGN_UP((size_t)n_classes * sizeof(struct ist_shaper_wait));
}

struct ist_shaper *ist_shaper_create(uint32_t n_classes, const struct ist_shaper_class_cfg *cfg,
				     uint64_t tsc_hz, uint32_t quantum_bytes,
				     const struct ist_link_alloc *a)
{
	struct ist_shaper *s;
	uint32_t i, cap;
	char *p;
	int rc;

	if (cfg == NULL || n_classes == 0 || n_classes > IST_SHAPER_MAX_CLASSES || tsc_hz == 0 ||
	    quantum_bytes == 0 || quantum_bytes > IST_SHAPER_MAX_QUANTUM) {
		errno = EINVAL;
		return NULL;
	}
	/* validate every class before allocating */
	for (i = 0; i < n_classes; i++) {
		struct ist_shaper_cls tmp;

		memset(&tmp, 0, sizeof(tmp));
		rc = cls_config(&tmp, &cfg[i], tsc_hz, quantum_bytes);
		if (rc < 0) {
			errno = -rc;
			return NULL;
		}
	}
	s = ist_link_mem_zalloc(a, ist_shaper_memsize(n_classes));
	if (s == NULL)
		return NULL;
	if (a != NULL)
		s->alloc = *a;
	cap = ring_capacity(n_classes);
	p = (char *)s + IST_LINK_ALIGN_UP(sizeof(*s));
	s->cls = (struct ist_shaper_cls *)p;
	p += IST_LINK_ALIGN_UP((size_t)n_classes * sizeof(struct ist_shaper_cls));
	s->ring = (uint16_t *)p;
	p += IST_LINK_ALIGN_UP((size_t)cap * sizeof(uint16_t));
	s->heap = (struct ist_shaper_wait *)p;
	s->n = n_classes;
	s->ring_mask = cap - 1;
	for (i = 0; i < n_classes; i++)
		(void)cls_config(&s->cls[i], &cfg[i], tsc_hz, quantum_bytes); /* zeroed: CLS_NONE */
	return s;
}

void ist_shaper_free(struct ist_shaper *s)
{
	struct ist_link_alloc a;

	if (s == NULL)
		return;
	a = s->alloc;
	ist_link_mem_free(&a, s);
}

uint32_t ist_shaper_n_classes(const struct ist_shaper *s)
{
	return s->n;
}

int ist_shaper_class_stats(const struct ist_shaper *s, uint32_t cls, struct ist_shaper_stats *st)
{
	const struct ist_shaper_cls *c;

	if (s == NULL || st == NULL || cls >= s->n)
		return -EINVAL;
	c = &s->cls[cls];
	st->bytes = c->bytes;
	st->frames = c->frames;
	st->throttled = c->throttled;
	st->deferred = c->deferred;
	return 0;
}

uint64_t ist_shaper_bad_class(const struct ist_shaper *s)
{
	return s->bad_class;
}
