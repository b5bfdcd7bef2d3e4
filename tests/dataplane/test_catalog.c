/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The catalog codec (dataplane/ist_catalog.h): round trips of every message
 * type at the length limits, the wire layout, the encoder's refusals, the
 * decoder's refusals of malformed bodies, and a mutation loop that must never
 * read outside the body (run under ASan: every body is a heap block of
 * exactly its length).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ist_catalog.h"

#define HDR 3 /* u8 type | u16 len */

static void fill_name(char *s, size_t n, char c)
{
	memset(s, c, n);
	s[n] = '\0';
}

/* An OPEN with every name at its longest. */
static void open_max(struct ist_cat_open *o)
{
	memset(o, 0, sizeof(*o));
	o->stream = 0xfedcba98u;
	o->src_partition = 0x7fffffffu;
	o->dst_partition = 0x01020304u;
	fill_name(o->flow, IST_CAT_NAME_LEN - 1, 'f');
	fill_name(o->cluster, IST_CAT_NAME_LEN - 1, 'c');
	fill_name(o->region, IST_CAT_NAME_LEN - 1, 'r');
	fill_name(o->topic, IST_CAT_TOPIC_LEN - 1, 't');
	fill_name(o->dst_topic, IST_CAT_TOPIC_LEN - 1, 'd');
	/* Distinct ends, so a shifted copy cannot pass. */
	o->flow[0] = 'F';
	o->topic[IST_CAT_TOPIC_LEN - 2] = 'T';
	o->dst_topic[0] = 'D';
}

static const size_t open_max_len =
	HDR + 12 + 3 * (1 + IST_CAT_NAME_LEN - 1) + 2 * (2 + IST_CAT_TOPIC_LEN - 1);

static void assert_open_equal(const struct ist_cat_open *a, const struct ist_cat_open *b)
{
	assert_int_equal(a->stream, b->stream);
	assert_int_equal(a->src_partition, b->src_partition);
	assert_int_equal(a->dst_partition, b->dst_partition);
	assert_string_equal(a->flow, b->flow);
	assert_string_equal(a->cluster, b->cluster);
	assert_string_equal(a->region, b->region);
	assert_string_equal(a->topic, b->topic);
	assert_string_equal(a->dst_topic, b->dst_topic);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- round trips ---- */

static void test_open_roundtrip(void **state)
{
	static uint8_t buf[2048];
	struct ist_cat_open o;
	struct ist_cat_msg m;
	size_t len = 0, off = 0;

	(void)state;
	open_max(&o);
	assert_int_equal(ist_cat_put_open(buf, sizeof(buf), &len, &o), 0);
	assert_int_equal(len, open_max_len);
	/* Layout: type, u16 BE payload length, u32 BE fields, str8 x3, str16 x2. */
	assert_int_equal(buf[0], IST_CAT_OPEN);
	assert_int_equal((size_t)buf[1] << 8 | buf[2], len - HDR);
	assert_int_equal(be32(buf + 3), 0xfedcba98u);
	assert_int_equal(be32(buf + 7), 0x7fffffffu);
	assert_int_equal(be32(buf + 11), 0x01020304u);
	assert_int_equal(buf[15], IST_CAT_NAME_LEN - 1);
	assert_int_equal(buf[16], 'F');
	assert_int_equal(buf[15 + 3 * IST_CAT_NAME_LEN], 0x00);
	assert_int_equal(buf[15 + 3 * IST_CAT_NAME_LEN + 1], IST_CAT_TOPIC_LEN - 1);

	assert_int_equal(ist_cat_next(buf, len, &off, &m), 1);
	assert_int_equal(m.type, IST_CAT_OPEN);
	assert_int_equal(off, len);
	assert_open_equal(&m.open, &o);
	assert_int_equal(strlen(m.open.topic), IST_CAT_TOPIC_LEN - 1);
	assert_int_equal(ist_cat_next(buf, len, &off, &m), 0);
	assert_int_equal(off, len);
}

static void test_open_empty_names(void **state)
{
	struct ist_cat_open o = {.stream = 1}, empty;
	struct ist_cat_msg m;
	uint8_t buf[64];
	size_t len = 0, off = 0;

	(void)state;
	assert_int_equal(ist_cat_put_open(buf, sizeof(buf), &len, &o), 0);
	assert_int_equal(len, HDR + 12 + 3 + 4);
	memset(&m, 0x55, sizeof(m));
	assert_int_equal(ist_cat_next(buf, len, &off, &m), 1);
	memset(&empty, 0, sizeof(empty));
	empty.stream = 1;
	assert_open_equal(&m.open, &empty);
}

static void test_resume_roundtrip(void **state)
{
	static const int64_t positions[] = {IST_CAT_POS_BEGINNING, 0, 1, INT64_MAX, INT64_MIN,
					    0x0102030405060708};
	uint8_t buf[512];
	struct ist_cat_resume r;
	struct ist_cat_msg m;
	size_t i, len, off;

	(void)state;
	for (i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.stream = 7 + (uint32_t)i;
		r.next_seq = 0xffffffffu - (uint32_t)i;
		r.position = positions[i];
		r.status = (uint8_t)(i == 0 ? 0 : 200 + i);
		if (i % 2)
			fill_name(r.reason, IST_CAT_REASON_LEN - 1, 'x');
		len = 0;
		off = 0;
		assert_int_equal(ist_cat_put_resume(buf, sizeof(buf), &len, &r), 0);
		assert_int_equal(len, HDR + 17 + 1 + strlen(r.reason));
		assert_int_equal(buf[0], IST_CAT_RESUME);
		memset(&m, 0x55, sizeof(m));
		assert_int_equal(ist_cat_next(buf, len, &off, &m), 1);
		assert_int_equal(m.type, IST_CAT_RESUME);
		assert_int_equal(off, len);
		assert_int_equal(m.resume.stream, r.stream);
		assert_int_equal(m.resume.next_seq, r.next_seq);
		assert_true(m.resume.position == r.position);
		assert_int_equal(m.resume.status, r.status);
		assert_string_equal(m.resume.reason, r.reason);
	}
	/* The position is a big-endian i64: -2 is fe..ff fe. */
	memset(&r, 0, sizeof(r));
	r.position = IST_CAT_POS_BEGINNING;
	len = 0;
	assert_int_equal(ist_cat_put_resume(buf, sizeof(buf), &len, &r), 0);
	assert_int_equal(buf[HDR + 8], 0xff);
	assert_int_equal(buf[HDR + 15], 0xfe);
}

static void test_dict_roundtrip(void **state)
{
	static uint8_t data[UINT16_MAX], buf[UINT16_MAX + 16];
	struct ist_cat_dict d = {.dict_id = 255, .codec = 2, .data = data};
	struct ist_cat_msg m;
	size_t i, len = 0, off = 0;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 7);
	/* The largest: a payload of exactly UINT16_MAX bytes. */
	d.len = UINT16_MAX - 2;
	assert_int_equal(ist_cat_put_dict(buf, sizeof(buf), &len, &d), 0);
	assert_int_equal(len, HDR + UINT16_MAX);
	assert_int_equal(buf[0], IST_CAT_DICT);
	assert_int_equal(buf[1], 0xff);
	assert_int_equal(buf[2], 0xff);
	assert_int_equal(ist_cat_next(buf, len, &off, &m), 1);
	assert_int_equal(m.type, IST_CAT_DICT);
	assert_int_equal(m.dict.dict_id, 255);
	assert_int_equal(m.dict.codec, 2);
	assert_int_equal(m.dict.len, d.len);
	/* A view into the body, not a copy. */
	assert_ptr_equal(m.dict.data, buf + HDR + 2);
	assert_memory_equal(m.dict.data, data, d.len);
	assert_int_equal(off, len);

	/* One byte more does not fit the u16 length. */
	len = 0;
	d.len = UINT16_MAX - 1;
	assert_int_equal(ist_cat_put_dict(buf, sizeof(buf), &len, &d), -ENOSPC);
	assert_int_equal(len, 0);

	/* The smallest: one dictionary byte. */
	d = (struct ist_cat_dict){.dict_id = 1, .codec = 1, .data = data, .len = 1};
	len = off = 0;
	assert_int_equal(ist_cat_put_dict(buf, sizeof(buf), &len, &d), 0);
	assert_int_equal(len, HDR + 3);
	assert_int_equal(ist_cat_next(buf, len, &off, &m), 1);
	assert_int_equal(m.dict.dict_id, 1);
	assert_int_equal(m.dict.len, 1);
	assert_int_equal(m.dict.data[0], data[0]);
}

static void test_dict_ack_roundtrip(void **state)
{
	struct ist_cat_dict_ack a = {.dict_id = 200, .status = 3};
	struct ist_cat_msg m;
	uint8_t buf[8];
	size_t len = 0, off = 0;

	(void)state;
	assert_int_equal(ist_cat_put_dict_ack(buf, sizeof(buf), &len, &a), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, ((uint8_t[]){IST_CAT_DICT_ACK, 0, 2, 200, 3}), 5);
	assert_int_equal(ist_cat_next(buf, len, &off, &m), 1);
	assert_int_equal(m.type, IST_CAT_DICT_ACK);
	assert_int_equal(m.dict_ack.dict_id, 200);
	assert_int_equal(m.dict_ack.status, 3);
	assert_int_equal(off, 5);
}

/* ---- encoder refusals ---- */

typedef int (*put_fn)(uint8_t *buf, size_t cap, size_t *len, const void *msg);

static int put_open(uint8_t *b, size_t c, size_t *l, const void *m)
{
	return ist_cat_put_open(b, c, l, m);
}
static int put_resume(uint8_t *b, size_t c, size_t *l, const void *m)
{
	return ist_cat_put_resume(b, c, l, m);
}
static int put_dict(uint8_t *b, size_t c, size_t *l, const void *m)
{
	return ist_cat_put_dict(b, c, l, m);
}
static int put_dict_ack(uint8_t *b, size_t c, size_t *l, const void *m)
{
	return ist_cat_put_dict_ack(b, c, l, m);
}

/*
 * For every capacity below what the message needs, after a 5-byte prefix
 * already in the buffer: -ENOSPC, length unchanged, the prefix untouched and
 * nothing written past cap (a heap block of exactly cap bytes: ASan).
 */
static void check_enospc(put_fn put, const void *msg, size_t need)
{
	static const uint8_t prefix[5] = {IST_CAT_DICT_ACK, 0, 2, 9, 0};
	uint8_t *buf;
	size_t cap, len;

	for (cap = 0; cap <= sizeof(prefix) + need; cap++) {
		buf = malloc(cap ? cap : 1);
		assert_non_null(buf);
		len = cap < sizeof(prefix) ? cap : sizeof(prefix);
		memcpy(buf, prefix, len);
		if (cap < sizeof(prefix) + need) {
			assert_int_equal(put(buf, cap, &len, msg), -ENOSPC);
			assert_int_equal(len, cap < sizeof(prefix) ? cap : sizeof(prefix));
		} else {
			assert_int_equal(put(buf, cap, &len, msg), 0);
			assert_int_equal(len, cap);
		}
		assert_memory_equal(buf, prefix, len < sizeof(prefix) ? len : sizeof(prefix));
		free(buf);
	}
	/* A length already past the capacity. */
	buf = malloc(8);
	assert_non_null(buf);
	len = 9;
	assert_int_equal(put(buf, 8, &len, msg), -ENOSPC);
	assert_int_equal(len, 9);
	free(buf);
}

static void test_enospc(void **state)
{
	static const uint8_t dict_data[40] = {1, 2, 3};
	struct ist_cat_open o;
	struct ist_cat_resume r = {.stream = 1, .position = 5};
	struct ist_cat_dict d = {.dict_id = 4, .codec = 1, .data = dict_data, .len = 40};
	struct ist_cat_dict_ack a = {.dict_id = 4};

	(void)state;
	open_max(&o);
	fill_name(r.reason, IST_CAT_REASON_LEN - 1, 'z');
	check_enospc(put_open, &o, open_max_len);
	check_enospc(put_resume, &r, HDR + 18 + IST_CAT_REASON_LEN - 1);
	check_enospc(put_dict, &d, HDR + 2 + 40);
	check_enospc(put_dict_ack, &a, HDR + 2);
}

static void test_einval_name_too_long(void **state)
{
	struct ist_cat_open o;
	struct ist_cat_resume r;
	uint8_t buf[2048];
	size_t len;
	int field;

	(void)state;
	/* Each name in turn fills its whole array: no room for the NUL. */
	for (field = 0; field < 5; field++) {
		open_max(&o);
		switch (field) {
		case 0:
			memset(o.flow, 'f', sizeof(o.flow));
			break;
		case 1:
			memset(o.cluster, 'c', sizeof(o.cluster));
			break;
		case 2:
			memset(o.region, 'r', sizeof(o.region));
			break;
		case 3:
			memset(o.topic, 't', sizeof(o.topic));
			break;
		default:
			memset(o.dst_topic, 'd', sizeof(o.dst_topic));
			break;
		}
		len = 3;
		assert_int_equal(ist_cat_put_open(buf, sizeof(buf), &len, &o), -EINVAL);
		assert_int_equal(len, 3);
	}
	memset(&r, 0, sizeof(r));
	memset(r.reason, 'x', sizeof(r.reason));
	len = 0;
	assert_int_equal(ist_cat_put_resume(buf, sizeof(buf), &len, &r), -EINVAL);
	assert_int_equal(len, 0);
}

/* ---- decoder refusals ---- */

/* Decode a heap copy of exactly n bytes: 1 message, 0, or -EBADMSG. */
static int next_exact(const uint8_t *src, size_t n, size_t *off, struct ist_cat_msg *m)
{
	uint8_t *b = malloc(n ? n : 1);
	int rc;

	assert_non_null(b);
	memcpy(b, src, n);
	rc = ist_cat_next(b, n, off, m);
	free(b);
	return rc;
}

static void expect_badmsg(const uint8_t *body, size_t n)
{
	struct ist_cat_msg m;
	size_t off = 0;

	assert_int_equal(next_exact(body, n, &off, &m), -EBADMSG);
	assert_int_equal(off, 0);
}

static void test_truncated(void **state)
{
	static uint8_t buf[2048];
	struct ist_cat_open o;
	struct ist_cat_resume r = {.stream = 3, .reason = "no such topic"};
	struct ist_cat_dict_ack a = {.dict_id = 1};
	struct ist_cat_msg m;
	size_t len = 0, n, off;

	(void)state;
	open_max(&o);
	assert_int_equal(ist_cat_put_open(buf, sizeof(buf), &len, &o), 0);
	off = 0;
	assert_int_equal(next_exact(buf, 0, &off, &m), 0);
	for (n = 1; n < len; n++)
		expect_badmsg(buf, n);
	len = 0;
	assert_int_equal(ist_cat_put_resume(buf, sizeof(buf), &len, &r), 0);
	for (n = 1; n < len; n++)
		expect_badmsg(buf, n);
	len = 0;
	assert_int_equal(ist_cat_put_dict_ack(buf, sizeof(buf), &len, &a), 0);
	for (n = 1; n < len; n++)
		expect_badmsg(buf, n);
}

static void test_length_past_end(void **state)
{
	struct ist_cat_dict_ack a = {.dict_id = 1};
	uint8_t buf[16];
	size_t len = 0;

	(void)state;
	assert_int_equal(ist_cat_put_dict_ack(buf, sizeof(buf), &len, &a), 0);
	/* Message length one past the body. */
	buf[2] = 3;
	expect_badmsg(buf, len);
	/* 0xffff. */
	buf[1] = buf[2] = 0xff;
	expect_badmsg(buf, len);
	/* An unknown type is skipped by its length, so that is checked too. */
	buf[0] = 0x7f;
	expect_badmsg(buf, len);
}

/*
 * A payload that holds its own length consistently but whose fields do not
 * fit it: every field is read within the payload, not the body.
 */
static void test_payload_too_short(void **state)
{
	static uint8_t buf[2048];
	struct ist_cat_open o;
	struct ist_cat_resume r = {.reason = "r"};
	struct ist_cat_msg m;
	size_t len = 0, plen, off;

	(void)state;
	open_max(&o);
	assert_int_equal(ist_cat_put_open(buf, sizeof(buf), &len, &o), 0);
	/* Append a DICT_ACK: a short OPEN payload must not read into it. */
	assert_int_equal(ist_cat_put_dict_ack(buf, sizeof(buf), &len,
					      &(struct ist_cat_dict_ack){.dict_id = 1}),
			 0);
	for (plen = 0; plen < open_max_len - HDR; plen++) {
		uint8_t tmp[2048];

		tmp[0] = IST_CAT_OPEN;
		tmp[1] = (uint8_t)(plen >> 8);
		tmp[2] = (uint8_t)plen;
		memcpy(tmp + HDR, buf + HDR, plen);
		memcpy(tmp + HDR + plen, buf + open_max_len, 5);
		off = 0;
		assert_int_equal(next_exact(tmp, HDR + plen + 5, &off, &m), -EBADMSG);
		assert_int_equal(off, 0);
	}
	len = 0;
	assert_int_equal(ist_cat_put_resume(buf, sizeof(buf), &len, &r), 0);
	for (plen = 0; plen < len - HDR; plen++) {
		uint8_t tmp[64];

		memcpy(tmp, buf, len);
		tmp[2] = (uint8_t)plen;
		off = 0;
		/* The rest of the bytes stay in the body, after the message. */
		assert_int_equal(next_exact(tmp, len, &off, &m), -EBADMSG);
	}
}

/* A string length at or above its field's capacity. */
static void test_name_length_over_cap(void **state)
{
	static uint8_t buf[2048];
	struct ist_cat_open o;
	struct ist_cat_msg m;
	size_t len = 0, off = 0;

	(void)state;
	/* An OPEN with a 64-byte flow, built by hand from a valid one. */
	memset(&o, 0, sizeof(o));
	fill_name(o.flow, IST_CAT_NAME_LEN - 1, 'f');
	assert_int_equal(ist_cat_put_open(buf, sizeof(buf) - 1, &len, &o), 0);
	memmove(buf + HDR + 13 + 63 + 1, buf + HDR + 13 + 63, len - (HDR + 13 + 63));
	buf[HDR + 13 + 63] = 'f';
	buf[HDR + 12] = IST_CAT_NAME_LEN;
	len++;
	buf[2] = (uint8_t)(len - HDR);
	expect_badmsg(buf, len);
	/* With 63 it was fine. */
	len = off = 0;
	assert_int_equal(ist_cat_put_open(buf, sizeof(buf), &len, &o), 0);
	assert_int_equal(next_exact(buf, len, &off, &m), 1);

	/* A 256-byte topic: str16 length 256. */
	memset(&o, 0, sizeof(o));
	fill_name(o.topic, IST_CAT_TOPIC_LEN - 1, 't');
	len = 0;
	assert_int_equal(ist_cat_put_open(buf, sizeof(buf) - 1, &len, &o), 0);
	{
		size_t at = HDR + 12 + 3; /* the topic's u16 length */

		memmove(buf + at + 2 + 256, buf + at + 2 + 255, len - (at + 2 + 255));
		buf[at + 2 + 255] = 't';
		buf[at] = 0x01;
		buf[at + 1] = 0x00;
		len++;
		buf[1] = (uint8_t)((len - HDR) >> 8);
		buf[2] = (uint8_t)(len - HDR);
		expect_badmsg(buf, len);
	}
}

static void test_nul_inside_name(void **state)
{
	static uint8_t buf[2048];
	struct ist_cat_open o;
	struct ist_cat_resume r = {.reason = "abc"};
	struct ist_cat_msg m;
	/* First byte of each string's bytes in open_max()'s encoding. */
	const size_t at[] = {
		HDR + 12 + 1,       HDR + 12 + 64 + 1,        HDR + 12 + 128 + 1,
		HDR + 12 + 192 + 2, HDR + 12 + 192 + 257 + 2,
	};
	size_t len = 0, off, i;

	(void)state;
	open_max(&o);
	assert_int_equal(ist_cat_put_open(buf, sizeof(buf), &len, &o), 0);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		uint8_t tmp[2048];

		/* Middle and last byte of the string. */
		memcpy(tmp, buf, len);
		tmp[at[i] + 10] = '\0';
		expect_badmsg(tmp, len);
		memcpy(tmp, buf, len);
		tmp[at[i] + (i < 3 ? 62 : 254)] = '\0';
		expect_badmsg(tmp, len);
		memcpy(tmp, buf, len);
		tmp[at[i] + (i < 3 ? 62 : 254)] = 'q';
		off = 0;
		assert_int_equal(next_exact(tmp, len, &off, &m), 1);
	}
	len = 0;
	assert_int_equal(ist_cat_put_resume(buf, sizeof(buf), &len, &r), 0);
	buf[len - 2] = '\0';
	expect_badmsg(buf, len);
}

static void test_dict_bad(void **state)
{
	static const uint8_t dict_id0[] = {IST_CAT_DICT, 0, 3, 0, 1, 0xaa};
	static const uint8_t no_data[] = {IST_CAT_DICT, 0, 2, 1, 1};
	static const uint8_t no_codec[] = {IST_CAT_DICT, 0, 1, 1};
	static const uint8_t empty[] = {IST_CAT_DICT, 0, 0};
	static const uint8_t ack_short[] = {IST_CAT_DICT_ACK, 0, 1, 1};
	static const uint8_t ok[] = {IST_CAT_DICT, 0, 3, 1, 1, 0xaa};
	struct ist_cat_msg m;
	size_t off = 0;

	(void)state;
	expect_badmsg(dict_id0, sizeof(dict_id0));
	expect_badmsg(no_data, sizeof(no_data));
	expect_badmsg(no_codec, sizeof(no_codec));
	expect_badmsg(empty, sizeof(empty));
	expect_badmsg(ack_short, sizeof(ack_short));
	assert_int_equal(next_exact(ok, sizeof(ok), &off, &m), 1);
	assert_int_equal(m.dict.len, 1);
}

/* ---- several messages, unknown types ---- */

static void test_sequence_and_unknown(void **state)
{
	static const uint8_t dict_data[] = {9, 8, 7, 6};
	static uint8_t buf[4096];
	struct ist_cat_open o;
	struct ist_cat_resume r = {.stream = 2, .next_seq = 10, .position = 99, .reason = ""};
	struct ist_cat_dict d = {.dict_id = 3, .codec = 2, .data = dict_data, .len = 4};
	struct ist_cat_dict_ack a = {.dict_id = 3, .status = 0};
	struct ist_cat_msg m;
	size_t len = 0, off = 0, at_unknown;

	(void)state;
	open_max(&o);
	assert_int_equal(ist_cat_put_open(buf, sizeof(buf), &len, &o), 0);
	/* Unknown types a newer peer might send: 0, 5 (with a payload), 255 (empty). */
	at_unknown = len;
	memcpy(buf + len, ((uint8_t[]){0, 0, 1, 0xee}), 4);
	len += 4;
	memcpy(buf + len, ((uint8_t[]){5, 0, 4, IST_CAT_OPEN, 0xff, 0xff, 0}), 7);
	len += 7;
	assert_int_equal(ist_cat_put_resume(buf, sizeof(buf), &len, &r), 0);
	memcpy(buf + len, ((uint8_t[]){255, 0, 0}), 3);
	len += 3;
	assert_int_equal(ist_cat_put_dict(buf, sizeof(buf), &len, &d), 0);
	assert_int_equal(ist_cat_put_dict_ack(buf, sizeof(buf), &len, &a), 0);

	assert_int_equal(next_exact(buf, len, &off, &m), 1);
	assert_int_equal(m.type, IST_CAT_OPEN);
	assert_open_equal(&m.open, &o);
	assert_int_equal(off, at_unknown);
	assert_int_equal(next_exact(buf, len, &off, &m), 1);
	assert_int_equal(m.type, 0);
	assert_int_equal(off, at_unknown + 4);
	assert_int_equal(next_exact(buf, len, &off, &m), 1);
	assert_int_equal(m.type, 5);
	assert_int_equal(off, at_unknown + 11);
	assert_int_equal(next_exact(buf, len, &off, &m), 1);
	assert_int_equal(m.type, IST_CAT_RESUME);
	assert_int_equal(m.resume.stream, 2);
	assert_int_equal(m.resume.next_seq, 10);
	assert_true(m.resume.position == 99);
	assert_string_equal(m.resume.reason, "");
	assert_int_equal(next_exact(buf, len, &off, &m), 1);
	assert_int_equal(m.type, 255);
	/* The dictionary view points into the body: decode in place for it. */
	assert_int_equal(ist_cat_next(buf, len, &off, &m), 1);
	assert_int_equal(m.type, IST_CAT_DICT);
	assert_int_equal(m.dict.dict_id, 3);
	assert_int_equal(m.dict.len, 4);
	assert_memory_equal(m.dict.data, dict_data, 4);
	assert_int_equal(next_exact(buf, len, &off, &m), 1);
	assert_int_equal(m.type, IST_CAT_DICT_ACK);
	assert_int_equal(m.dict_ack.dict_id, 3);
	assert_int_equal(off, len);
	assert_int_equal(next_exact(buf, len, &off, &m), 0);
	/* An offset past the end is the end too. */
	off = len + 5;
	assert_int_equal(next_exact(buf, len, &off, &m), 0);

	/* A bad message in the middle stops the walk there. */
	off = 0;
	buf[at_unknown + 4 + 1] = 0xff; /* type 5's length: past the end */
	assert_int_equal(next_exact(buf, len, &off, &m), 1);
	assert_int_equal(next_exact(buf, len, &off, &m), 1);
	assert_int_equal(next_exact(buf, len, &off, &m), -EBADMSG);
	assert_int_equal(off, at_unknown + 4);
}

/* Trailing bytes after a known message's fields are skipped with it. */
static void test_known_with_trailing(void **state)
{
	static const uint8_t body[] = {IST_CAT_DICT_ACK, 0, 4, 7, 1, 0xaa, 0xbb,
				       IST_CAT_DICT_ACK, 0, 2, 8, 0};
	struct ist_cat_msg m;
	size_t off = 0;

	(void)state;
	assert_int_equal(next_exact(body, sizeof(body), &off, &m), 1);
	assert_int_equal(m.dict_ack.dict_id, 7);
	assert_int_equal(m.dict_ack.status, 1);
	assert_int_equal(off, 7);
	assert_int_equal(next_exact(body, sizeof(body), &off, &m), 1);
	assert_int_equal(m.dict_ack.dict_id, 8);
	assert_int_equal(next_exact(body, sizeof(body), &off, &m), 0);
}

/* ---- mutations ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void check_msg_sane(const struct ist_cat_msg *m, const uint8_t *b, size_t len)
{
	switch (m->type) {
	case IST_CAT_OPEN:
		assert_true(strnlen(m->open.flow, IST_CAT_NAME_LEN) < IST_CAT_NAME_LEN);
		assert_true(strnlen(m->open.cluster, IST_CAT_NAME_LEN) < IST_CAT_NAME_LEN);
		assert_true(strnlen(m->open.region, IST_CAT_NAME_LEN) < IST_CAT_NAME_LEN);
		assert_true(strnlen(m->open.topic, IST_CAT_TOPIC_LEN) < IST_CAT_TOPIC_LEN);
		assert_true(strnlen(m->open.dst_topic, IST_CAT_TOPIC_LEN) < IST_CAT_TOPIC_LEN);
		break;
	case IST_CAT_RESUME:
		assert_true(strnlen(m->resume.reason, IST_CAT_REASON_LEN) < IST_CAT_REASON_LEN);
		break;
	case IST_CAT_DICT:
		assert_true(m->dict.dict_id != 0 && m->dict.len > 0);
		assert_true(m->dict.data >= b && m->dict.data + m->dict.len <= b + len);
		break;
	default:
		break;
	}
}

static void test_mutations(void **state)
{
	static const uint8_t dict_data[300] = {1, 2, 3, 4, 5};
	static uint8_t valid[4096];
	struct ist_cat_open o;
	struct ist_cat_resume r = {.stream = 2, .position = -2, .status = 1, .reason = "gap"};
	struct ist_cat_dict d = {.dict_id = 3, .codec = 2, .data = dict_data, .len = 300};
	struct ist_cat_dict_ack a = {.dict_id = 3};
	struct ist_cat_msg m;
	size_t vlen = 0, len, off, prev;
	unsigned int iter, k, n_msgs, seen[3] = {0, 0, 0};
	int rc;

	(void)state;
	open_max(&o);
	assert_int_equal(ist_cat_put_open(valid, sizeof(valid), &vlen, &o), 0);
	assert_int_equal(ist_cat_put_resume(valid, sizeof(valid), &vlen, &r), 0);
	memcpy(valid + vlen, ((uint8_t[]){9, 0, 2, 1, 2}), 5);
	vlen += 5;
	assert_int_equal(ist_cat_put_dict(valid, sizeof(valid), &vlen, &d), 0);
	assert_int_equal(ist_cat_put_dict_ack(valid, sizeof(valid), &vlen, &a), 0);
	memset(&o, 0, sizeof(o));
	assert_int_equal(ist_cat_put_open(valid, sizeof(valid), &vlen, &o), 0);

	for (iter = 0; iter < 20000; iter++) {
		uint8_t *b;
		unsigned int flips = 1 + rnd() % 4;

		len = vlen;
		if (rnd() % 3 == 0)
			len = rnd() % (vlen + 1);
		b = malloc(len ? len : 1);
		assert_non_null(b);
		memcpy(b, valid, len);
		for (k = 0; len > 0 && k < flips; k++) {
			size_t at = rnd() % len;

			/* Favour the message headers and string lengths: small values. */
			if (rnd() % 2)
				b[at] ^= (uint8_t)(1u << (rnd() % 8));
			else
				b[at] = (uint8_t)rnd();
		}
		off = 0;
		n_msgs = 0;
		while ((rc = ist_cat_next(b, len, &off, &m)) == 1) {
			assert_true(off <= len);
			check_msg_sane(&m, b, len);
			n_msgs++;
			/* Each message takes at least its 3-byte header. */
			assert_true(n_msgs <= len / HDR);
		}
		assert_true(rc == 0 || rc == -EBADMSG);
		prev = off;
		/* The decoder is stateless: a second call at the same offset agrees. */
		assert_int_equal(ist_cat_next(b, len, &off, &m), rc);
		assert_int_equal(off, prev);
		seen[rc == 0 ? 0 : 1]++;
		if (n_msgs > 0)
			seen[2]++;
		free(b);
	}
	/* The loop exercised both outcomes and decoded messages. */
	assert_true(seen[0] > 100 && seen[1] > 100 && seen[2] > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_roundtrip),
		cmocka_unit_test(test_open_empty_names),
		cmocka_unit_test(test_resume_roundtrip),
		cmocka_unit_test(test_dict_roundtrip),
		cmocka_unit_test(test_dict_ack_roundtrip),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_einval_name_too_long),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_length_past_end),
		cmocka_unit_test(test_payload_too_short),
		cmocka_unit_test(test_name_length_over_cap),
		cmocka_unit_test(test_nul_inside_name),
		cmocka_unit_test(test_dict_bad),
		cmocka_unit_test(test_sequence_and_unknown),
		cmocka_unit_test(test_known_with_trailing),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
