/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ist_catalog.h"

struct wr {
	uint8_t *p;
	size_t cap, len;
	bool bad;
};

static void w_bytes(struct wr *w, const void *v, size_t n)
{
	if (w->bad || w->cap - w->len < n) {
		w->bad = true;
		return;
	}
	memcpy(w->p + w->len, v, n);
	w->len += n;
}

static void w_u8(struct wr *w, uint8_t v)
{
	w_bytes(w, &v, 1);
}

static void w_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = {v >> 8, v};

	w_bytes(w, b, 2);
}

static void w_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = {v >> 24, v >> 16, v >> 8, v};

	w_bytes(w, b, 4);
}

static void w_u64(struct wr *w, uint64_t v)
{
	w_u32(w, v >> 32);
	w_u32(w, (uint32_t)v);
}

static int w_str(struct wr *w, const char *s, size_t max, bool wide)
{
	size_t n = strnlen(s, max);

	if (n == max || (!wide && n > 255))
		return -EINVAL;
	if (wide)
		w_u16(w, (uint16_t)n);
	else
		w_u8(w, (uint8_t)n);
	w_bytes(w, s, n);
	return 0;
}

/* Message frame around the payload the callback writes. */
static int put(uint8_t *buf, size_t *len, uint8_t type, struct wr *w)
{
	size_t plen;

	if (w->bad)
		return -ENOSPC;
	plen = w->len - *len - 3;
	if (plen > UINT16_MAX)
		return -ENOSPC;
	buf[*len] = type;
	buf[*len + 1] = plen >> 8;
	buf[*len + 2] = (uint8_t)plen;
	*len = w->len;
	return 0;
}

static struct wr wr_at(uint8_t *buf, size_t cap, size_t len)
{
	struct wr w = {.p = buf, .cap = cap, .len = len};

	/* Room for the 3-byte message header, filled in by put(). */
	if (cap - len < 3 || len > cap)
		w.bad = true;
	else
		w.len += 3;
	return w;
}

int ist_cat_put_open(uint8_t *buf, size_t cap, size_t *len, const struct ist_cat_open *o)
{
	struct wr w = wr_at(buf, cap, *len);

	w_u32(&w, o->stream);
	w_u32(&w, o->src_partition);
	w_u32(&w, o->dst_partition);
	if (w_str(&w, o->flow, sizeof(o->flow), false) ||
	    w_str(&w, o->cluster, sizeof(o->cluster), false) ||
	    w_str(&w, o->region, sizeof(o->region), false) ||
	    w_str(&w, o->topic, sizeof(o->topic), true) ||
	    w_str(&w, o->dst_topic, sizeof(o->dst_topic), true))
		return -EINVAL;
	return put(buf, len, IST_CAT_OPEN, &w);
}

int ist_cat_put_resume(uint8_t *buf, size_t cap, size_t *len, const struct ist_cat_resume *r)
{
	struct wr w = wr_at(buf, cap, *len);

	w_u32(&w, r->stream);
	w_u32(&w, r->next_seq);
	w_u64(&w, (uint64_t)r->position);
	w_u8(&w, r->status);
	if (w_str(&w, r->reason, sizeof(r->reason), false))
		return -EINVAL;
	return put(buf, len, IST_CAT_RESUME, &w);
}

int ist_cat_put_dict(uint8_t *buf, size_t cap, size_t *len, const struct ist_cat_dict *d)
{
	struct wr w = wr_at(buf, cap, *len);

	w_u8(&w, d->dict_id);
	w_u8(&w, d->codec);
	w_bytes(&w, d->data, d->len);
	return put(buf, len, IST_CAT_DICT, &w);
}

int ist_cat_put_dict_ack(uint8_t *buf, size_t cap, size_t *len, const struct ist_cat_dict_ack *a)
{
	struct wr w = wr_at(buf, cap, *len);

	w_u8(&w, a->dict_id);
	w_u8(&w, a->status);
	return put(buf, len, IST_CAT_DICT_ACK, &w);
}

struct rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static const uint8_t *r_bytes(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t r_be(struct rd *r, size_t n)
{
	const uint8_t *p = r_bytes(r, n);
	uint64_t v = 0;

	for (size_t i = 0; p != NULL && i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void r_str(struct rd *r, char *out, size_t cap, bool wide)
{
	size_t n = r_be(r, wide ? 2 : 1);
	const uint8_t *p;

	if (n >= cap) {
		r->bad = true;
		out[0] = '\0';
		return;
	}
	p = r_bytes(r, n);
	if (p == NULL) {
		out[0] = '\0';
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	/* A name with a NUL inside would compare differently on each side. */
	if (memchr(p, '\0', n) != NULL)
		r->bad = true;
}

int ist_cat_next(const uint8_t *body, size_t len, size_t *off, struct ist_cat_msg *m)
{
	struct rd r;
	size_t plen;

	if (*off >= len)
		return 0;
	if (len - *off < 3)
		return -EBADMSG;
	m->type = body[*off];
	plen = (size_t)body[*off + 1] << 8 | body[*off + 2];
	if (len - *off - 3 < plen)
		return -EBADMSG;
	r = (struct rd){.p = body + *off + 3, .len = plen};
	switch (m->type) {
	case IST_CAT_OPEN:
		m->open.stream = r_be(&r, 4);
		m->open.src_partition = r_be(&r, 4);
		m->open.dst_partition = r_be(&r, 4);
		r_str(&r, m->open.flow, sizeof(m->open.flow), false);
		r_str(&r, m->open.cluster, sizeof(m->open.cluster), false);
		r_str(&r, m->open.region, sizeof(m->open.region), false);
		r_str(&r, m->open.topic, sizeof(m->open.topic), true);
		r_str(&r, m->open.dst_topic, sizeof(m->open.dst_topic), true);
		break;
	case IST_CAT_RESUME:
		m->resume.stream = r_be(&r, 4);
		m->resume.next_seq = r_be(&r, 4);
		m->resume.position = (int64_t)r_be(&r, 8);
		m->resume.status = r_be(&r, 1);
		r_str(&r, m->resume.reason, sizeof(m->resume.reason), false);
		break;
	case IST_CAT_DICT:
		m->dict.dict_id = r_be(&r, 1);
		m->dict.codec = r_be(&r, 1);
		m->dict.len = plen >= 2 ? plen - 2 : 0;
		m->dict.data = r_bytes(&r, m->dict.len);
		if (m->dict.dict_id == 0 || m->dict.len == 0)
			r.bad = true;
		break;
	case IST_CAT_DICT_ACK:
		m->dict_ack.dict_id = r_be(&r, 1);
		m->dict_ack.status = r_be(&r, 1);
		break;
	default:
		r.off = plen; /* a newer peer's message: skip it */
		break;
	}
	if (r.bad)
		return -EBADMSG;
	*off += 3 + plen;
	return 1;
}
