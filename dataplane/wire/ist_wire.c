/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Wire codec. The packed structs of wire.h are read and written through
 * pointers into the caller's buffer: their members are byte aligned, so the
 * compiler emits unaligned loads, and every access is preceded by a length
 * check against the bytes present.
 */
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_hash_crc.h>

#include "ist_wire.h"

#define F_KNOWN IST_WIRE_F_AUTH

static const char *const err_names[IST_WIRE_ERR_COUNT] = {
	[0] = "ok",
	[-IST_WIRE_E_TRUNCATED] = "truncated",
	[-IST_WIRE_E_OVERSIZED] = "oversized",
	[-IST_WIRE_E_BAD_MAGIC] = "bad_magic",
	[-IST_WIRE_E_BAD_VERSION] = "bad_version",
	[-IST_WIRE_E_BAD_TYPE] = "bad_type",
	[-IST_WIRE_E_BAD_LENGTH] = "bad_length",
	[-IST_WIRE_E_BAD_TAG] = "bad_tag",
	[-IST_WIRE_E_BAD_FIELD] = "bad_field",
	[-IST_WIRE_E_BAD_RANGE] = "bad_range",
	[-IST_WIRE_E_BAD_FRAG] = "bad_frag",
	[-IST_WIRE_E_BAD_CODEC] = "bad_codec",
	[-IST_WIRE_E_BAD_CRC] = "bad_crc",
	[-IST_WIRE_E_REPLAYED] = "replayed",
	[-IST_WIRE_E_TOO_OLD] = "too_old",
	[-IST_WIRE_E_NO_SPACE] = "no_space",
};

const char *ist_wire_err_name(int err)
{
	unsigned int i = err < 0 ? (unsigned int)-(int64_t)err : (unsigned int)err;

	if (i >= IST_WIRE_ERR_COUNT || err_names[i] == NULL)
		return "unknown";
	return err_names[i];
}

/* ---- header ---- */

static int hdr_fields_check(uint8_t type, uint16_t flags, uint32_t epoch, uint64_t pn,
			    uint8_t key_id)
{
	if (type < IST_WIRE_HELLO || type >= IST_WIRE_TYPE_MAX)
		return IST_WIRE_E_BAD_TYPE;
	if (flags & ~F_KNOWN)
		return IST_WIRE_E_BAD_FIELD;
	/* 0 means "none yet" in peer_epoch, so it can never be an epoch. */
	if (epoch == 0 || pn == 0)
		return IST_WIRE_E_BAD_FIELD;
	if (!(flags & IST_WIRE_F_AUTH) != (key_id == 0))
		return IST_WIRE_E_BAD_TAG;
	return 0;
}

/* HOT */
int ist_wire_hdr_encode(void *buf, size_t cap, const struct ist_hdr *h)
{
	struct ist_wire_hdr *w = buf;
	int rc;

	if (cap < IST_WIRE_HDR_LEN)
		return IST_WIRE_E_NO_SPACE;
	rc = hdr_fields_check(h->type, h->flags, h->epoch, h->pn, h->key_id);
	if (rc < 0)
		return rc;
	w->magic = rte_cpu_to_be_32(IST_WIRE_MAGIC);
	w->version = IST_WIRE_VERSION;
	w->type = h->type;
	w->flags = rte_cpu_to_be_16(h->flags);
	w->epoch = rte_cpu_to_be_32(h->epoch);
	w->peer_epoch = rte_cpu_to_be_32(h->peer_epoch);
	w->pn = rte_cpu_to_be_64(h->pn);
	w->key_id = h->key_id;
	w->reserved = 0;
	w->payload_len = rte_cpu_to_be_16(h->payload_len);
	w->reserved2 = 0;
	return IST_WIRE_HDR_LEN;
}

/* HOT */
int ist_wire_hdr_decode(const void *buf, size_t len, struct ist_hdr *h)
{
	const struct ist_wire_hdr *w = buf;

	if (unlikely(len < IST_WIRE_HDR_LEN))
		return IST_WIRE_E_TRUNCATED;
	if (unlikely(w->magic != rte_cpu_to_be_32(IST_WIRE_MAGIC)))
		return IST_WIRE_E_BAD_MAGIC;
	if (unlikely(w->version != IST_WIRE_VERSION))
		return IST_WIRE_E_BAD_VERSION;
	h->type = w->type;
	h->flags = rte_be_to_cpu_16(w->flags);
	h->epoch = rte_be_to_cpu_32(w->epoch);
	h->peer_epoch = rte_be_to_cpu_32(w->peer_epoch);
	h->pn = rte_be_to_cpu_64(w->pn);
	h->key_id = w->key_id;
	h->payload_len = rte_be_to_cpu_16(w->payload_len);
	/*
	 * Reserved bytes must be zero so that a later version can give them a
	 * meaning without version 1 receivers misreading them.
	 */
	if (unlikely(w->reserved != 0 || w->reserved2 != 0))
		return IST_WIRE_E_BAD_FIELD;
	return hdr_fields_check(h->type, h->flags, h->epoch, h->pn, h->key_id);
}

/* Payload size by type; GCM does not change lengths, so this holds sealed too. */
static int payload_len_check(uint8_t type, uint32_t n)
{
	switch (type) {
	case IST_WIRE_HELLO:
		return n == IST_WIRE_HELLO_LEN ? 0 : IST_WIRE_E_BAD_LENGTH;
	case IST_WIRE_HEARTBEAT:
		return n == 0 ? 0 : IST_WIRE_E_BAD_LENGTH;
	case IST_WIRE_CLOSE:
		return n == IST_WIRE_CLOSE_LEN ? 0 : IST_WIRE_E_BAD_LENGTH;
	case IST_WIRE_ACK:
		if (n < IST_WIRE_ACK_LEN || (n - IST_WIRE_ACK_LEN) % IST_WIRE_RANGE_LEN != 0 ||
		    n > IST_WIRE_ACK_LEN + IST_WIRE_MAX_SACK * IST_WIRE_RANGE_LEN)
			return IST_WIRE_E_BAD_LENGTH;
		return 0;
	case IST_WIRE_CREDIT:
		if (n < IST_WIRE_CREDIT_HLEN ||
		    (n - IST_WIRE_CREDIT_HLEN) % IST_WIRE_CREDIT_LEN != 0 ||
		    n > IST_WIRE_CREDIT_HLEN + IST_WIRE_MAX_CREDITS * IST_WIRE_CREDIT_LEN)
			return IST_WIRE_E_BAD_LENGTH;
		return 0;
	case IST_WIRE_DATA:
		return n > IST_WIRE_FRAG_LEN ? 0 : IST_WIRE_E_BAD_LENGTH;
	default:
		return IST_WIRE_E_BAD_TYPE;
	}
}

/* HOT. ~14 cycles (tests/wire/bench_wire, machine in ist_aead.h). */
int ist_wire_pkt_check(const void *pkt, size_t len, bool keyed, struct ist_hdr *h)
{
	size_t want;
	bool auth;
	int rc;

	if (unlikely(len > IST_WIRE_MAX_PKT))
		return IST_WIRE_E_OVERSIZED;
	rc = ist_wire_hdr_decode(pkt, len, h);
	if (unlikely(rc < 0))
		return rc;
	auth = (h->flags & IST_WIRE_F_AUTH) != 0;
	/* A keyed link must not take cleartext, nor a cleartext link sealed packets. */
	if (unlikely(auth != keyed))
		return IST_WIRE_E_BAD_TAG;
	want = (size_t)IST_WIRE_HDR_LEN + h->payload_len + (auth ? IST_WIRE_TAG_LEN : 0);
	if (unlikely(len < want))
		return IST_WIRE_E_TRUNCATED;
	if (unlikely(len > want))
		return IST_WIRE_E_BAD_LENGTH;
	return payload_len_check(h->type, h->payload_len);
}

/* ---- HELLO ---- */

/* 1..31 printable characters, then NUL up to the end. */
static bool name_ok(const char *s)
{
	size_t i, n = strnlen(s, IST_WIRE_NAME_LEN);

	if (n == 0 || n == IST_WIRE_NAME_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

static bool wire_name_ok(const char *s)
{
	size_t i, n = strnlen(s, IST_WIRE_NAME_LEN);

	if (!name_ok(s))
		return false;
	/* NUL padded: nothing hides after the terminator. */
	for (i = n; i < IST_WIRE_NAME_LEN; i++)
		if (s[i] != 0)
			return false;
	return true;
}

static int hello_fields_check(const struct ist_hello *hl)
{
	if (hl->proto_version == 0 || hl->started_unix_ms == 0)
		return IST_WIRE_E_BAD_FIELD;
	if (hl->mtu < IST_WIRE_MIN_PKT || hl->mtu > IST_WIRE_MAX_PKT)
		return IST_WIRE_E_BAD_FIELD;
	return 0;
}

int ist_wire_hello_encode(void *buf, size_t cap, const struct ist_hello *hl)
{
	struct ist_wire_hello *w = buf;
	int rc;

	if (cap < IST_WIRE_HELLO_LEN)
		return IST_WIRE_E_NO_SPACE;
	if (!name_ok(hl->appliance) || !name_ok(hl->region))
		return IST_WIRE_E_BAD_FIELD;
	rc = hello_fields_check(hl);
	if (rc < 0)
		return rc;
	memset(w->appliance, 0, sizeof(w->appliance));
	memset(w->region, 0, sizeof(w->region));
	memcpy(w->appliance, hl->appliance, strlen(hl->appliance));
	memcpy(w->region, hl->region, strlen(hl->region));
	w->proto_version = rte_cpu_to_be_16(hl->proto_version);
	w->caps = rte_cpu_to_be_16(hl->caps);
	w->mtu = rte_cpu_to_be_32(hl->mtu);
	w->started_unix_ms = rte_cpu_to_be_64(hl->started_unix_ms);
	return IST_WIRE_HELLO_LEN;
}

int ist_wire_hello_decode(const void *buf, size_t len, struct ist_hello *hl)
{
	const struct ist_wire_hello *w = buf;

	if (len < IST_WIRE_HELLO_LEN)
		return IST_WIRE_E_TRUNCATED;
	if (len > IST_WIRE_HELLO_LEN)
		return IST_WIRE_E_BAD_LENGTH;
	memcpy(hl->appliance, w->appliance, IST_WIRE_NAME_LEN);
	memcpy(hl->region, w->region, IST_WIRE_NAME_LEN);
	if (!wire_name_ok(hl->appliance) || !wire_name_ok(hl->region))
		return IST_WIRE_E_BAD_FIELD;
	hl->proto_version = rte_be_to_cpu_16(w->proto_version);
	hl->caps = rte_be_to_cpu_16(w->caps);
	hl->mtu = rte_be_to_cpu_32(w->mtu);
	hl->started_unix_ms = rte_be_to_cpu_64(w->started_unix_ms);
	return hello_fields_check(hl);
}

/* ---- ACK ---- */

/* HOT */
int ist_wire_ack_check(const struct ist_ack *ack)
{
	unsigned int i;

	if (unlikely(ack->n_ranges > IST_WIRE_MAX_SACK))
		return IST_WIRE_E_OVERSIZED;
	/* pn starts at 1, so "every pn < cum" holds from cum = 1 on. */
	if (unlikely(ack->cum == 0 || ack->cum - 1 > ack->largest))
		return IST_WIRE_E_BAD_RANGE;
	if (ack->n_ranges == 0)
		return ack->largest == ack->cum - 1 ? 0 : IST_WIRE_E_BAD_RANGE;
	/*
	 * The top range always holds `largest`: the receiver drops the lowest
	 * ranges when there are too many, never the highest.
	 */
	if (unlikely(ack->ranges[0].end != ack->largest))
		return IST_WIRE_E_BAD_RANGE;
	for (i = 0; i < ack->n_ranges; i++) {
		const struct ist_range *r = &ack->ranges[i];

		if (unlikely(r->start > r->end || r->start < ack->cum))
			return IST_WIRE_E_BAD_RANGE;
		if (i > 0 && unlikely(r->end >= ack->ranges[i - 1].start))
			return IST_WIRE_E_BAD_RANGE;
	}
	return 0;
}

/* HOT */
int ist_wire_ack_encode(void *buf, size_t cap, const struct ist_ack *ack)
{
	struct ist_wire_ack *w = buf;
	struct ist_wire_range *wr = (struct ist_wire_range *)(w + 1);
	unsigned int i;
	size_t need;
	int rc;

	rc = ist_wire_ack_check(ack);
	if (rc < 0)
		return rc;
	need = IST_WIRE_ACK_LEN + (size_t)ack->n_ranges * IST_WIRE_RANGE_LEN;
	if (cap < need)
		return IST_WIRE_E_NO_SPACE;
	w->cum = rte_cpu_to_be_64(ack->cum);
	w->largest = rte_cpu_to_be_64(ack->largest);
	w->delay_us = rte_cpu_to_be_32(ack->delay_us);
	w->n_ranges = ack->n_ranges;
	memset(w->reserved, 0, sizeof(w->reserved));
	for (i = 0; i < ack->n_ranges; i++) {
		wr[i].start = rte_cpu_to_be_64(ack->ranges[i].start);
		wr[i].end = rte_cpu_to_be_64(ack->ranges[i].end);
	}
	return (int)need;
}

/* HOT. ~65 cycles with 16 ranges, check included (tests/wire/bench_wire). */
int ist_wire_ack_decode(const void *buf, size_t len, struct ist_ack *ack)
{
	const struct ist_wire_ack *w = buf;
	const struct ist_wire_range *wr = (const struct ist_wire_range *)(w + 1);
	unsigned int i;
	size_t need;

	if (unlikely(len < IST_WIRE_ACK_LEN))
		return IST_WIRE_E_TRUNCATED;
	if (unlikely(w->n_ranges > IST_WIRE_MAX_SACK))
		return IST_WIRE_E_OVERSIZED;
	need = IST_WIRE_ACK_LEN + (size_t)w->n_ranges * IST_WIRE_RANGE_LEN;
	if (unlikely(len < need))
		return IST_WIRE_E_TRUNCATED;
	if (unlikely(len > need))
		return IST_WIRE_E_BAD_LENGTH;
	if (unlikely(w->reserved[0] | w->reserved[1] | w->reserved[2]))
		return IST_WIRE_E_BAD_FIELD;
	ack->cum = rte_be_to_cpu_64(w->cum);
	ack->largest = rte_be_to_cpu_64(w->largest);
	ack->delay_us = rte_be_to_cpu_32(w->delay_us);
	ack->n_ranges = w->n_ranges;
	for (i = 0; i < ack->n_ranges; i++) {
		ack->ranges[i].start = rte_be_to_cpu_64(wr[i].start);
		ack->ranges[i].end = rte_be_to_cpu_64(wr[i].end);
	}
	return ist_wire_ack_check(ack);
}

/* ---- CREDIT ---- */

/* RFC 1982: frame numbers wrap at 2^32, so "limit after next" is a signed distance. */
static bool grant_ok(uint32_t next_seq, uint32_t limit_seq)
{
	return limit_seq - next_seq <= (uint32_t)INT32_MAX;
}

int ist_wire_credit_encode(void *buf, size_t cap, const struct ist_credit *cr, unsigned int n)
{
	struct ist_wire_credit_hdr *w = buf;
	struct ist_wire_credit *wc = (struct ist_wire_credit *)(w + 1);
	unsigned int i;
	size_t need;

	if (n > IST_WIRE_MAX_CREDITS)
		return IST_WIRE_E_OVERSIZED;
	need = IST_WIRE_CREDIT_HLEN + (size_t)n * IST_WIRE_CREDIT_LEN;
	if (cap < need)
		return IST_WIRE_E_NO_SPACE;
	for (i = 0; i < n; i++)
		if (!grant_ok(cr[i].next_seq, cr[i].limit_seq))
			return IST_WIRE_E_BAD_FIELD;
	w->n = rte_cpu_to_be_16((uint16_t)n);
	w->reserved = 0;
	for (i = 0; i < n; i++) {
		wc[i].stream_id = rte_cpu_to_be_32(cr[i].stream_id);
		wc[i].next_seq = rte_cpu_to_be_32(cr[i].next_seq);
		wc[i].limit_seq = rte_cpu_to_be_32(cr[i].limit_seq);
	}
	return (int)need;
}

int ist_wire_credit_decode(const void *buf, size_t len, struct ist_credit *cr, unsigned int *n)
{
	const struct ist_wire_credit_hdr *w = buf;
	const struct ist_wire_credit *wc = (const struct ist_wire_credit *)(w + 1);
	unsigned int i, cnt;
	size_t need;

	if (len < IST_WIRE_CREDIT_HLEN)
		return IST_WIRE_E_TRUNCATED;
	cnt = rte_be_to_cpu_16(w->n);
	if (cnt > IST_WIRE_MAX_CREDITS)
		return IST_WIRE_E_OVERSIZED;
	need = IST_WIRE_CREDIT_HLEN + (size_t)cnt * IST_WIRE_CREDIT_LEN;
	if (len < need)
		return IST_WIRE_E_TRUNCATED;
	if (len > need)
		return IST_WIRE_E_BAD_LENGTH;
	if (w->reserved != 0)
		return IST_WIRE_E_BAD_FIELD;
	for (i = 0; i < cnt; i++) {
		cr[i].stream_id = rte_be_to_cpu_32(wc[i].stream_id);
		cr[i].next_seq = rte_be_to_cpu_32(wc[i].next_seq);
		cr[i].limit_seq = rte_be_to_cpu_32(wc[i].limit_seq);
		if (!grant_ok(cr[i].next_seq, cr[i].limit_seq))
			return IST_WIRE_E_BAD_FIELD;
	}
	*n = cnt;
	return 0;
}

/* ---- CLOSE ---- */

static bool close_reason_ok(uint32_t reason)
{
	return reason >= IST_CLOSE_SHUTDOWN && reason <= IST_CLOSE_AUTH;
}

int ist_wire_close_encode(void *buf, size_t cap, uint32_t reason)
{
	struct ist_wire_close *w = buf;

	if (cap < IST_WIRE_CLOSE_LEN)
		return IST_WIRE_E_NO_SPACE;
	if (!close_reason_ok(reason))
		return IST_WIRE_E_BAD_FIELD;
	w->reason = rte_cpu_to_be_32(reason);
	return IST_WIRE_CLOSE_LEN;
}

int ist_wire_close_decode(const void *buf, size_t len, uint32_t *reason)
{
	const struct ist_wire_close *w = buf;
	uint32_t r;

	if (len < IST_WIRE_CLOSE_LEN)
		return IST_WIRE_E_TRUNCATED;
	if (len > IST_WIRE_CLOSE_LEN)
		return IST_WIRE_E_BAD_LENGTH;
	r = rte_be_to_cpu_32(w->reason);
	if (!close_reason_ok(r))
		return IST_WIRE_E_BAD_FIELD;
	*reason = r;
	return 0;
}

/* ---- DATA fragments ---- */

int ist_wire_frag_plan(uint32_t frame_len, uint32_t max_len, uint8_t *cnt)
{
	uint32_t n;

	if (frame_len < IST_WIRE_FRAME_LEN || frame_len > IST_WIRE_MAX_FRAME || max_len == 0)
		return IST_WIRE_E_BAD_FIELD;
	/* frag_len is 16 bits on the wire. */
	max_len = RTE_MIN(max_len, (uint32_t)UINT16_MAX);
	n = (frame_len + max_len - 1) / max_len;
	if (n > IST_WIRE_MAX_FRAGS)
		return IST_WIRE_E_OVERSIZED;
	/*
	 * With n = ceil(L / max) the span size ceil(L / n) is <= max and
	 * (n - 1) x size < L, so ist_wire_frag_span() accepts every index.
	 */
	*cnt = (uint8_t)n;
	return 0;
}

/* HOT */
int ist_wire_frag_span(uint32_t frame_len, uint8_t cnt, uint8_t idx, uint32_t *off, uint16_t *len)
{
	uint32_t size, o;

	if (unlikely(cnt == 0 || cnt > IST_WIRE_MAX_FRAGS || idx >= cnt ||
		     frame_len < IST_WIRE_FRAME_LEN || frame_len > IST_WIRE_MAX_FRAME))
		return IST_WIRE_E_BAD_FRAG;
	size = (frame_len + cnt - 1) / cnt;
	/* Some (length, count) pairs leave the last fragment empty: refuse them all. */
	if (unlikely((uint32_t)(cnt - 1) * size >= frame_len))
		return IST_WIRE_E_BAD_FRAG;
	o = (uint32_t)idx * size;
	size = RTE_MIN(size, frame_len - o);
	if (unlikely(size > UINT16_MAX))
		return IST_WIRE_E_BAD_FRAG;
	*off = o;
	*len = (uint16_t)size;
	return 0;
}

static int frag_fields_check(const struct ist_frag *f)
{
	uint32_t off;
	uint16_t len;

	if (unlikely(f->frame_len > IST_WIRE_MAX_FRAME || f->frag_cnt > IST_WIRE_MAX_FRAGS))
		return IST_WIRE_E_OVERSIZED;
	if (unlikely(ist_wire_frag_span(f->frame_len, f->frag_cnt, f->frag_idx, &off, &len) < 0))
		return IST_WIRE_E_BAD_FRAG;
	if (unlikely(f->frag_off != off || f->frag_len != len))
		return IST_WIRE_E_BAD_FRAG;
	return 0;
}

/* HOT */
int ist_wire_frag_encode(void *buf, size_t cap, const struct ist_frag *f)
{
	struct ist_wire_frag *w = buf;
	int rc;

	rc = frag_fields_check(f);
	if (unlikely(rc < 0))
		return rc;
	if (unlikely(cap < IST_WIRE_FRAG_LEN + (size_t)f->frag_len))
		return IST_WIRE_E_NO_SPACE;
	w->stream_id = rte_cpu_to_be_32(f->stream_id);
	w->frame_seq = rte_cpu_to_be_32(f->frame_seq);
	w->frame_len = rte_cpu_to_be_32(f->frame_len);
	w->frag_off = rte_cpu_to_be_32(f->frag_off);
	w->frag_len = rte_cpu_to_be_16(f->frag_len);
	w->frag_idx = f->frag_idx;
	w->frag_cnt = f->frag_cnt;
	memcpy(w + 1, f->data, f->frag_len);
	return (int)(IST_WIRE_FRAG_LEN + f->frag_len);
}

/* HOT */
int ist_wire_frag_next(struct ist_wire_frag_iter *it, struct ist_frag *f)
{
	const struct ist_wire_frag *w = (const struct ist_wire_frag *)it->p;
	size_t used;
	int rc;

	if (it->left == 0)
		return 0;
	if (unlikely(it->left < IST_WIRE_FRAG_LEN))
		return IST_WIRE_E_TRUNCATED;
	f->stream_id = rte_be_to_cpu_32(w->stream_id);
	f->frame_seq = rte_be_to_cpu_32(w->frame_seq);
	f->frame_len = rte_be_to_cpu_32(w->frame_len);
	f->frag_off = rte_be_to_cpu_32(w->frag_off);
	f->frag_len = rte_be_to_cpu_16(w->frag_len);
	f->frag_idx = w->frag_idx;
	f->frag_cnt = w->frag_cnt;
	f->data = it->p + IST_WIRE_FRAG_LEN;
	used = IST_WIRE_FRAG_LEN + (size_t)f->frag_len;
	if (unlikely(used > it->left))
		return IST_WIRE_E_TRUNCATED;
	rc = frag_fields_check(f);
	if (unlikely(rc < 0))
		return rc;
	it->p += used;
	it->left -= used;
	return 1;
}

/* HOT. ~10 cycles per fragment (tests/wire/bench_wire). */
int ist_wire_data_check(const void *payload, size_t len)
{
	struct ist_wire_frag_iter it;
	struct ist_frag f;
	int n = 0, rc;

	if (unlikely(len == 0))
		return IST_WIRE_E_TRUNCATED;
	ist_wire_frag_iter_init(&it, payload, len);
	while ((rc = ist_wire_frag_next(&it, &f)) > 0)
		n++;
	return rc < 0 ? rc : n;
}

/* ---- frame header ---- */

static int frame_fields_check(const struct ist_frame *fr, size_t len)
{
	if (unlikely(len > IST_WIRE_MAX_FRAME))
		return IST_WIRE_E_OVERSIZED;
	if (unlikely(fr->body_len != len - IST_WIRE_FRAME_LEN))
		return IST_WIRE_E_BAD_LENGTH;
	if (unlikely(fr->uncompressed_len > IST_WIRE_MAX_BODY))
		return IST_WIRE_E_OVERSIZED;
	switch (fr->codec) {
	case IST_CODEC_NONE:
		/* Dictionaries only make sense for a compressor. */
		if (unlikely(fr->dict_id != 0))
			return IST_WIRE_E_BAD_CODEC;
		if (unlikely(fr->uncompressed_len != fr->body_len))
			return IST_WIRE_E_BAD_LENGTH;
		break;
	case IST_CODEC_LZ4:
	case IST_CODEC_ZSTD:
		/* Neither codec encodes nothing into something or something into nothing. */
		if (unlikely(fr->body_len == 0 || fr->uncompressed_len == 0))
			return IST_WIRE_E_BAD_LENGTH;
		break;
	default:
		return IST_WIRE_E_BAD_CODEC;
	}
	/* Every record takes at least one byte; Kafka offsets are int64 >= 0. */
	if (unlikely(fr->record_count == 0 || fr->record_count > fr->uncompressed_len))
		return IST_WIRE_E_BAD_FIELD;
	if (unlikely(fr->first_offset > (uint64_t)INT64_MAX - fr->record_count))
		return IST_WIRE_E_BAD_FIELD;
	return 0;
}

/* HOT */
int ist_wire_frame_encode(void *buf, size_t cap, const struct ist_frame *fr)
{
	struct ist_wire_frame *w = buf;
	int rc;

	if (unlikely(cap < IST_WIRE_FRAME_LEN))
		return IST_WIRE_E_NO_SPACE;
	rc = frame_fields_check(fr, (size_t)IST_WIRE_FRAME_LEN + fr->body_len);
	if (unlikely(rc < 0))
		return rc;
	w->stream_id = rte_cpu_to_be_32(fr->stream_id);
	w->record_count = rte_cpu_to_be_32(fr->record_count);
	w->first_offset = rte_cpu_to_be_64(fr->first_offset);
	w->codec = fr->codec;
	w->dict_id = fr->dict_id;
	w->reserved = 0;
	w->uncompressed_len = rte_cpu_to_be_32(fr->uncompressed_len);
	w->body_len = rte_cpu_to_be_32(fr->body_len);
	w->crc32c = rte_cpu_to_be_32(fr->crc32c);
	return IST_WIRE_FRAME_LEN;
}

/* HOT. ~8 cycles (tests/wire/bench_wire). */
int ist_wire_frame_decode(const void *buf, size_t len, struct ist_frame *fr)
{
	const struct ist_wire_frame *w = buf;

	if (unlikely(len < IST_WIRE_FRAME_LEN))
		return IST_WIRE_E_TRUNCATED;
	if (unlikely(len > IST_WIRE_MAX_FRAME))
		return IST_WIRE_E_OVERSIZED;
	if (unlikely(w->reserved != 0))
		return IST_WIRE_E_BAD_FIELD;
	fr->stream_id = rte_be_to_cpu_32(w->stream_id);
	fr->record_count = rte_be_to_cpu_32(w->record_count);
	fr->first_offset = rte_be_to_cpu_64(w->first_offset);
	fr->codec = w->codec;
	fr->dict_id = w->dict_id;
	fr->uncompressed_len = rte_be_to_cpu_32(w->uncompressed_len);
	fr->body_len = rte_be_to_cpu_32(w->body_len);
	fr->crc32c = rte_be_to_cpu_32(w->crc32c);
	return frame_fields_check(fr, len);
}

/* HOT */
int ist_wire_frame_body_check(const struct ist_frame *fr, const void *body, size_t len)
{
	if (unlikely(len != fr->uncompressed_len))
		return IST_WIRE_E_BAD_LENGTH;
	if (unlikely(ist_wire_crc32c(body, len, 0) != fr->crc32c))
		return IST_WIRE_E_BAD_CRC;
	return 0;
}

/* ---- CRC32C ---- */

/*
 * HOT. ~0.3 cycles per byte: ~410 cycles for 1400 bytes, ~25000 for 64 KiB
 * (tests/wire/bench_wire, SSE4.2 crc32q).
 *
 * rte_hash_crc() reads 8 and 4 bytes through plain pointer casts, which
 * is undefined (and trapped by UBSan) on unaligned buffers such as a body at
 * frame offset 32 of an mbuf. Feed single bytes up to an 8-byte boundary, then
 * let it run over aligned words. rte_hash_crc is the raw register update;
 * the standard CRC32C pre- and post-inverts, as zlib-style chaining expects.
 */
uint32_t ist_wire_crc32c(const void *data, size_t len, uint32_t crc)
{
	const uint8_t *p = data;
	uint32_t c = ~crc;

	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = rte_hash_crc_1byte(*p++, c);
		len--;
	}
	/* rte_hash_crc takes a 32-bit length. */
	while (len > 0) {
		uint32_t n = (uint32_t)RTE_MIN(len, (size_t)1 << 30);

		c = rte_hash_crc(p, n, c);
		p += n;
		len -= n;
	}
	return ~c;
}
