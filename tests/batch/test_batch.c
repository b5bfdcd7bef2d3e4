/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the batcher codec (dataplane/batch): record layout, round
 * trips through every codec (with and without a trained dictionary), null
 * versus empty, binary bytes, headers, -ENOSPC rollback, split records and
 * their reassembly, every decoder error on hand-built frames (exact-size
 * heap copies, so ASan sees any read past the end), dictionary training,
 * codec spec parsing, and a random mutation loop over encoded frames.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_common.h>

#include "ist_batch.h"
#include "ist_codec.h"
#include "ist_dict.h"
#include "ist_wire.h"

#define HLEN      32u
#define BODY_MAX  IST_BATCH_MAX_BODY
#define FRAME_MAX (HLEN + BODY_MAX)

static uint8_t body_buf[BODY_MAX];
static uint8_t frame_buf[FRAME_MAX];
static uint8_t scratch[BODY_MAX];

/* ---- helpers ---- */

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t be(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be(uint8_t *p, unsigned int n, uint64_t v)
{
	while (n-- > 0) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

/* Exact-size heap copy: a read past len is an ASan error. */
static uint8_t *dup_exact(const void *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	assert_non_null(c);
	memcpy(c, p, len);
	return c;
}

static int dec_open_exact(struct ist_batch_dec *d, struct ist_codec_ctx *cc, const void *f,
			  size_t len)
{
	uint8_t *c = dup_exact(f, len);
	int rc = ist_batch_dec_open(d, cc, c, len, scratch, sizeof(scratch));

	free(c);
	return rc;
}

/* A frame (header + stored body) around a hand-made body; CRC computed unless bad_crc. */
static size_t mk_frame(uint8_t *out, uint32_t count, uint64_t first, uint16_t flags,
		       const uint8_t *body, uint32_t len)
{
	put_be(out, 4, 7);
	put_be(out + 4, 4, count);
	put_be(out + 8, 8, first);
	out[16] = IST_CODEC_NONE;
	out[17] = 0;
	put_be(out + 18, 2, flags);
	put_be(out + 20, 4, len);
	put_be(out + 24, 4, len);
	put_be(out + 28, 4, ist_wire_crc32c(body, len, 0));
	memcpy(out + HLEN, body, len);
	return HLEN + len;
}

/* Decode a hand-made body: the error of open, else of the first failing next, else 0. */
static int decode_body(uint32_t count, uint64_t first, const uint8_t *body, uint32_t len)
{
	struct ist_batch_dec d;
	struct ist_rec_view r;
	uint8_t *f = malloc(HLEN + len);
	size_t flen;
	int rc;

	assert_non_null(f);
	flen = mk_frame(f, count, first, 0, body, len);
	rc = ist_batch_dec_open(&d, NULL, f, flen, NULL, 0);
	if (rc == 0)
		while ((rc = ist_batch_dec_next(&d, &r)) == 1)
			;
	free(f);
	return rc;
}

static struct ist_codec_spec spec_of(const char *s)
{
	struct ist_codec_spec sp;
	char err[256];

	assert_int_equal(ist_codec_spec_parse(s, &sp, err, sizeof(err)), 0);
	return sp;
}

/* ---- a small JSON corpus ---- */

static const char *const kinds[] = {"page_view", "add_to_cart", "checkout", "login", "search"};
static const char *const countries[] = {"DE", "FR", "US", "JP", "BR", "IN"};
static const char *const words[] = {"fast",   "shipping", "blue", "shirt", "cotton", "size",
				    "medium", "returned", "gift", "wrap",  "order",  "late"};

static int json_event(char *buf, size_t cap, unsigned int i)
{
	uint64_t x = rnd();

	return snprintf(buf, cap,
			"{\"event_id\":\"%016llx\",\"ts\":%llu,\"kind\":\"%s\",\"user\":{\"id\":"
			"\"u-%06u\",\"country\":\"%s\",\"plan\":\"%s\"},\"cart\":{\"items\":%u,"
			"\"total_cents\":%u,\"currency\":\"EUR\"},\"ua\":\"Mozilla/5.0 (X11; "
			"Linux x86_64) Firefox/12%u.0\",\"note\":\"%s %s %s\",\"seq\":%u}",
			(unsigned long long)x, 1700000000000ull + i * 37ull, kinds[x % 5],
			(unsigned int)(x >> 8) % 100000, countries[(x >> 20) % 6],
			(x >> 30) % 3 ? "free" : "pro", (unsigned int)(x >> 33) % 9,
			(unsigned int)(x >> 40) % 50000, (unsigned int)(x >> 50) % 10,
			words[(x >> 12) % 12], words[(x >> 16) % 12], words[(x >> 24) % 12], i);
}

/* ---- record round trips ---- */

struct trec {
	uint64_t offset;
	int64_t ts;
	uint8_t ts_type;
	int32_t klen, vlen;
	uint8_t key[64], value[1200];
	uint32_t nh;
	struct ist_rec_hdr h[4];
	uint8_t hv[4][16];
};

static void trec_make(struct trec *t, uint64_t offset, unsigned int i)
{
	unsigned int j;

	memset(t, 0, sizeof(*t));
	t->offset = offset;
	t->ts = (int64_t)(1700000000000ull + i) * (i % 3 == 0 ? -1 : 1);
	t->ts_type = (uint8_t)(i % 3);
	t->klen = i % 5 == 0 ? -1 : (int32_t)(i % 40);
	for (j = 0; j < sizeof(t->key); j++)
		t->key[j] = (uint8_t)(j * 7 + i);
	t->vlen = i % 7 == 0 ? -1 : json_event((char *)t->value, sizeof(t->value), i);
	t->nh = i % 4;
	for (j = 0; j < t->nh; j++) {
		t->h[j].name = j == 2 ? "trace" : "src";
		t->h[j].name_len = (uint32_t)strlen(t->h[j].name);
		t->h[j].value_len = j == 1 ? -1 : (int32_t)(i % 16);
		memset(t->hv[j], (int)(i + j), sizeof(t->hv[j]));
		t->h[j].value = t->hv[j];
	}
}

static struct ist_rec trec_rec(const struct trec *t)
{
	struct ist_rec r = {.offset = t->offset,
			    .ts_ms = t->ts,
			    .ts_type = t->ts_type,
			    .key_len = t->klen,
			    .value_len = t->vlen,
			    .n_headers = t->nh,
			    .key = t->key,
			    .value = t->value,
			    .headers = t->h};
	return r;
}

static void bytes_eq(const uint8_t *got, int32_t glen, const void *want, int32_t wlen)
{
	assert_int_equal(glen, wlen);
	if (wlen < 0) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_memory_equal(got, want, (size_t)wlen);
}

static void view_eq(struct ist_rec_view *r, const struct trec *t)
{
	const uint8_t *n, *v;
	uint32_t nl, j;
	int32_t vl;

	assert_int_equal(r->offset, t->offset);
	assert_int_equal(r->ts_ms, t->ts);
	assert_int_equal(r->ts_type, t->ts_type);
	bytes_eq(r->key, r->key_len, t->key, t->klen);
	bytes_eq(r->value, r->value_len, t->value, t->vlen);
	assert_int_equal(r->n_headers, t->nh);
	for (j = 0; j < t->nh; j++) {
		assert_int_equal(ist_rec_view_header_next(r, &n, &nl, &v, &vl), 1);
		bytes_eq(n, (int32_t)nl, t->h[j].name, (int32_t)t->h[j].name_len);
		bytes_eq(v, vl, t->h[j].value, t->h[j].value_len);
	}
	assert_int_equal(ist_rec_view_header_next(r, &n, &nl, &v, &vl), 0);
}

#define NREC 40
static struct trec recs[NREC];

/*
 * Encode NREC records through spec into as many frames as needed (body cap
 * cap), decode them all back and compare. Returns the total frame bytes.
 */
static size_t roundtrip(struct ist_codec_ctx *enc_cc, struct ist_codec_ctx *dec_cc,
			const struct ist_codec_spec *spec, size_t cap, uint8_t want_codec,
			uint8_t want_dict)
{
	struct ist_batch_enc e;
	struct ist_batch_dec d;
	struct ist_rec_view r;
	struct ist_rec rec;
	size_t total = 0;
	unsigned int i = 0, got = 0, frames = 0;
	uint64_t pos = 1000;
	int n, rc;

	for (i = 0; i < NREC; i++)
		trec_make(&recs[i], 1000 + i * 2 + (i > 20 ? 5 : 0), i);
	assert_int_equal(ist_batch_enc_init(&e, body_buf, cap), 0);
	i = 0;
	while (i < NREC) {
		assert_int_equal(ist_batch_enc_open(&e, 42, pos), 0);
		while (i < NREC) {
			rec = trec_rec(&recs[i]);
			rc = ist_batch_enc_rec_add(&e, &rec);
			if (rc == -ENOSPC)
				break;
			assert_int_equal(rc, 0);
			i++;
		}
		n = ist_batch_enc_close(&e, enc_cc, spec, frame_buf, sizeof(frame_buf));
		assert_true(n > (int)HLEN);
		frames++;
		total += (size_t)n;
		/* Header bytes, independent of the decoder. */
		assert_int_equal(be(frame_buf, 4), 42);
		assert_int_equal(frame_buf[16], want_codec);
		assert_int_equal(frame_buf[17], want_dict);
		assert_int_equal(be(frame_buf + 18, 2), 0);
		assert_int_equal(be(frame_buf + 24, 4), (uint64_t)n - HLEN);
		assert_int_equal(be(frame_buf + 28, 4), ist_wire_crc32c(body_buf, e.len, 0));
		assert_int_equal(be(frame_buf + 20, 4), e.len);
		assert_int_equal(be(body_buf, 8), pos);

		assert_int_equal(dec_open_exact(&d, dec_cc, frame_buf, (size_t)n), 0);
		/* dec_open_exact freed the frame copy: codec none would dangle, reopen in place. */
		assert_int_equal(ist_batch_dec_open(&d, dec_cc, frame_buf, (size_t)n, scratch,
						    sizeof(scratch)),
				 0);
		assert_int_equal(d.stream_id, 42);
		assert_int_equal(d.base_offset, pos);
		assert_int_equal(d.first_offset, recs[got].offset);
		assert_int_equal(d.end_offset, recs[i - 1].offset + 1);
		assert_int_equal(d.record_count, i - got);
		assert_int_equal(d.flags, 0);
		while ((rc = ist_batch_dec_next(&d, &r)) == 1) {
			assert_true(got < i);
			view_eq(&r, &recs[got]);
			got++;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(got, i);
		pos = d.end_offset;
	}
	assert_int_equal(e.st.records, NREC);
	assert_int_equal(e.st.frames, frames);
	assert_int_equal(e.st.bytes_out, total);
	return total;
}

static void test_err_names(void **state)
{
	int i;

	(void)state;
	assert_string_equal(ist_batch_err_name(0), "ok");
	assert_string_equal(ist_batch_err_name(IST_BATCH_E_BAD_CRC), "bad_crc");
	assert_string_equal(ist_batch_err_name(IST_BATCH_E_BAD_RECORD), "bad_record");
	assert_string_equal(ist_batch_err_name(-IST_BATCH_ERR_COUNT), "unknown");
	assert_string_equal(ist_batch_err_name(1), "unknown");
	for (i = 0; i < IST_BATCH_ERR_COUNT; i++) {
		assert_non_null(ist_batch_err_name(-i));
		assert_string_not_equal(ist_batch_err_name(-i), "unknown");
	}
}

static void test_layout(void **state)
{
	static const uint8_t want[] = {
		0,    0,    0,    0, 0, 0, 0, 10,   /* base_offset */
		0,    0,    0,    0, 0, 0, 1, 0x2d, /* end_offset 301 */
		0x00,                               /* delta 0 */
		0x03,                               /* zigzag(-2) */
		0x01,                               /* ts type */
		0x00,                               /* null key */
		0x03, 'h',  'i',                    /* value "hi" */
		0x02,                               /* 2 headers */
		0x01, 'a',  0x00,                   /* a = null */
		0x00, 0x01,                         /* "" = "" */
		0xa2, 0x02,                         /* delta 290 */
		0x80, 0x01,                         /* zigzag(64) = 128 */
		0x02,                               /* ts type */
		0x01,                               /* empty key */
		0x00,                               /* null value */
		0x00,                               /* no headers */
	};
	struct ist_codec_spec none = spec_of("none");
	struct ist_batch_enc e;
	int n;

	(void)state;
	assert_int_equal(ist_batch_enc_init(&e, body_buf, 1024), 0);
	assert_int_equal(ist_batch_enc_open(&e, 3, 10), 0);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 10, -2, 1, NULL, -1, "hi", 2, 2), 0);
	assert_int_equal(ist_batch_enc_rec_header(&e, "a", 1, NULL, -1), 0);
	assert_int_equal(ist_batch_enc_rec_header(&e, "", 0, "", 0), 0);
	assert_int_equal(ist_batch_enc_rec_end(&e), 0);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 300, 64, 2, "", 0, NULL, -1, 0), 0);
	assert_int_equal(ist_batch_enc_rec_end(&e), 0);
	n = ist_batch_enc_close(&e, NULL, &none, frame_buf, sizeof(frame_buf));
	assert_int_equal(n, HLEN + sizeof(want));
	assert_memory_equal(frame_buf + HLEN, want, sizeof(want));
	assert_int_equal(be(frame_buf + 4, 4), 2);
	assert_int_equal(be(frame_buf + 8, 8), 10);
	assert_int_equal(frame_buf[16], IST_CODEC_NONE);
}

static void test_roundtrip_codecs(void **state)
{
	static const char *const specs[] = {"none", "lz4", "zstd:1", "zstd:19"};
	struct ist_codec_ctx *cc = ist_codec_ctx_create(), *dc = ist_codec_ctx_create();
	struct ist_codec_spec sp;
	unsigned int i;
	size_t plain, packed;

	(void)state;
	assert_non_null(cc);
	assert_non_null(dc);
	sp = spec_of("none");
	plain = roundtrip(NULL, NULL, &sp, 4096, IST_CODEC_NONE, 0);
	for (i = 1; i < sizeof(specs) / sizeof(specs[0]); i++) {
		sp = spec_of(specs[i]);
		packed = roundtrip(cc, dc, &sp, 4096, sp.codec, 0);
		assert_true(packed < plain);
		/* One big frame as well. */
		roundtrip(cc, dc, &sp, BODY_MAX, sp.codec, 0);
	}
	ist_codec_ctx_free(cc);
	ist_codec_ctx_free(dc);
}

/* Train on JSON, then round trip with lz4+dict and zstd:3+dict through separate contexts. */
static void test_roundtrip_dict(void **state)
{
	struct ist_codec_ctx *cc = ist_codec_ctx_create(), *dc = ist_codec_ctx_create();
	struct ist_dict_sampler *s = ist_dict_sampler_create(500, 1024, 1);
	struct ist_codec_spec sp;
	static uint8_t dict[32768];
	char buf[1200], err[256];
	unsigned int i;
	int dlen, n;

	(void)state;
	for (i = 0; i < 3000; i++) {
		n = json_event(buf, sizeof(buf), i);
		ist_dict_sampler_add(s, buf, (size_t)n);
	}
	dlen = ist_dict_sampler_train(s, dict, sizeof(dict), err, sizeof(err));
	assert_true(dlen > 0);
	assert_int_equal(ist_codec_ctx_dict_add(cc, 9, dict, (size_t)dlen, 3, err, sizeof(err)), 0);
	assert_int_equal(ist_codec_ctx_dict_add(dc, 9, dict, (size_t)dlen, 0, err, sizeof(err)), 0);

	sp = spec_of("lz4+dict");
	sp.dict_id = 9;
	roundtrip(cc, dc, &sp, 2048, IST_CODEC_LZ4, 9);
	sp = spec_of("zstd:3+dict");
	sp.dict_id = 9;
	roundtrip(cc, dc, &sp, 2048, IST_CODEC_ZSTD, 9);
	/* "+dict" before a dictionary exists: compressed without one. */
	sp.dict_id = 0;
	roundtrip(cc, dc, &sp, 2048, IST_CODEC_ZSTD, 0);
	ist_dict_sampler_free(s);
	ist_codec_ctx_free(cc);
	ist_codec_ctx_free(dc);
}

static void test_null_empty_binary(void **state)
{
	static const uint8_t bin[] = {0, 1, 0, 0xff, 0x80, 0, '\n', 0};
	struct ist_codec_spec sp = spec_of("lz4");
	struct ist_codec_ctx *cc = ist_codec_ctx_create();
	struct ist_batch_enc e;
	struct ist_batch_dec d;
	struct ist_rec_view r;
	uint8_t all[256];
	unsigned int i;
	int n;

	(void)state;
	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	assert_int_equal(ist_batch_enc_init(&e, body_buf, 8192), 0);
	assert_int_equal(ist_batch_enc_open(&e, 1, 0), 0);
	/* null/null, empty/empty, null/empty, empty/null, binary/binary */
	assert_int_equal(ist_batch_enc_rec_begin(&e, 0, 0, 0, NULL, -1, NULL, -1, 0), 0);
	assert_int_equal(ist_batch_enc_rec_end(&e), 0);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 1, 0, 0, "", 0, "", 0, 0), 0);
	assert_int_equal(ist_batch_enc_rec_end(&e), 0);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 2, 0, 0, NULL, -1, "", 0, 0), 0);
	assert_int_equal(ist_batch_enc_rec_end(&e), 0);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 3, 0, 0, "", 0, NULL, -1, 0), 0);
	assert_int_equal(ist_batch_enc_rec_end(&e), 0);
	assert_int_equal(
		ist_batch_enc_rec_begin(&e, 4, INT64_MIN, 255, bin, sizeof(bin), all, 256, 1), 0);
	assert_int_equal(ist_batch_enc_rec_header(&e, bin, sizeof(bin), all, 256), 0);
	assert_int_equal(ist_batch_enc_rec_end(&e), 0);
	assert_int_equal(
		ist_batch_enc_rec_begin(&e, INT64_MAX, INT64_MAX, 0, NULL, -1, NULL, -1, 0), 0);
	assert_int_equal(ist_batch_enc_rec_end(&e), 0);
	n = ist_batch_enc_close(&e, cc, &sp, frame_buf, sizeof(frame_buf));
	assert_true(n > 0);

	assert_int_equal(ist_batch_dec_open(&d, cc, frame_buf, (size_t)n, scratch, sizeof(scratch)),
			 0);
	assert_int_equal(ist_batch_dec_next(&d, &r), 1);
	assert_null(r.key);
	assert_int_equal(r.key_len, -1);
	assert_null(r.value);
	assert_int_equal(r.value_len, -1);
	assert_int_equal(ist_batch_dec_next(&d, &r), 1);
	assert_non_null(r.key);
	assert_int_equal(r.key_len, 0);
	assert_non_null(r.value);
	assert_int_equal(r.value_len, 0);
	assert_int_equal(ist_batch_dec_next(&d, &r), 1);
	assert_null(r.key);
	assert_int_equal(r.value_len, 0);
	assert_int_equal(ist_batch_dec_next(&d, &r), 1);
	assert_int_equal(r.key_len, 0);
	assert_null(r.value);
	assert_int_equal(ist_batch_dec_next(&d, &r), 1);
	assert_int_equal(r.offset, 4);
	assert_int_equal(r.ts_ms, INT64_MIN);
	assert_int_equal(r.ts_type, 255);
	bytes_eq(r.key, r.key_len, bin, sizeof(bin));
	bytes_eq(r.value, r.value_len, all, 256);
	{
		const uint8_t *hn, *hv;
		uint32_t hnl;
		int32_t hvl;

		assert_int_equal(ist_rec_view_header_next(&r, &hn, &hnl, &hv, &hvl), 1);
		bytes_eq(hn, (int32_t)hnl, bin, sizeof(bin));
		bytes_eq(hv, hvl, all, 256);
	}
	assert_int_equal(ist_batch_dec_next(&d, &r), 1);
	assert_int_equal(r.offset, INT64_MAX);
	assert_int_equal(r.ts_ms, INT64_MAX);
	assert_int_equal(d.end_offset, (uint64_t)INT64_MAX + 1);
	assert_int_equal(ist_batch_dec_next(&d, &r), 0);
	ist_codec_ctx_free(cc);
}

static void test_headers(void **state)
{
	static const struct {
		const char *name;
		const char *value; /* NULL: null */
	} hs[] = {{"trace", "t1"}, {"dup", "first"}, {"", ""},
		  {"dup", NULL},   {"dup", "third"}, {"z", NULL}};
	struct ist_codec_spec sp = spec_of("none");
	struct ist_batch_enc e;
	struct ist_batch_dec d;
	struct ist_rec_view r;
	const uint8_t *n, *v;
	uint32_t nl, i;
	int32_t vl;
	int len;

	(void)state;
	assert_int_equal(ist_batch_enc_init(&e, body_buf, 1024), 0);
	assert_int_equal(ist_batch_enc_open(&e, 1, 5), 0);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 5, 1, 1, "k", 1, "v", 1, 6), 0);
	for (i = 0; i < 6; i++)
		assert_int_equal(ist_batch_enc_rec_header(
					 &e, hs[i].name, (uint32_t)strlen(hs[i].name), hs[i].value,
					 hs[i].value ? (int32_t)strlen(hs[i].value) : -1),
				 0);
	/* A seventh header is more than announced: the record is rolled back. */
	assert_int_equal(ist_batch_enc_rec_header(&e, "x", 1, "y", 1), -EINVAL);
	assert_int_equal(ist_batch_enc_rec_end(&e), -EINVAL);
	assert_int_equal(e.len, IST_BATCH_PREFIX_LEN);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 5, 1, 1, "k", 1, "v", 1, 6), 0);
	for (i = 0; i < 6; i++)
		assert_int_equal(ist_batch_enc_rec_header(
					 &e, hs[i].name, (uint32_t)strlen(hs[i].name), hs[i].value,
					 hs[i].value ? (int32_t)strlen(hs[i].value) : -1),
				 0);
	assert_int_equal(ist_batch_enc_rec_end(&e), 0);
	len = ist_batch_enc_close(&e, NULL, &sp, frame_buf, sizeof(frame_buf));
	assert_true(len > 0);
	assert_int_equal(ist_batch_dec_open(&d, NULL, frame_buf, (size_t)len, NULL, 0), 0);
	assert_int_equal(ist_batch_dec_next(&d, &r), 1);
	assert_int_equal(r.n_headers, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(ist_rec_view_header_next(&r, &n, &nl, &v, &vl), 1);
		bytes_eq(n, (int32_t)nl, hs[i].name, (int32_t)strlen(hs[i].name));
		bytes_eq(v, vl, hs[i].value, hs[i].value ? (int32_t)strlen(hs[i].value) : -1);
	}
	assert_int_equal(ist_rec_view_header_next(&r, &n, &nl, &v, &vl), 0);
	assert_int_equal(ist_batch_dec_next(&d, &r), 0);
}

static void test_enospc_rollback(void **state)
{
	struct ist_codec_spec sp = spec_of("none");
	struct ist_batch_enc e;
	struct ist_batch_dec d;
	struct ist_rec_view r;
	uint8_t v[200], big[300];
	unsigned int i, accepted = 0;
	uint32_t len_before;
	int rc, n;

	(void)state;
	memset(v, 'v', sizeof(v));
	memset(big, 'B', sizeof(big));
	assert_int_equal(ist_batch_enc_init(&e, body_buf, 256), 0);
	assert_int_equal(ist_batch_enc_open(&e, 1, 100), 0);
	/* A record bigger than an empty frame: -EMSGSIZE, nothing written. */
	assert_int_equal(ist_batch_enc_rec_begin(&e, 100, 0, 0, NULL, -1, big, 300, 0), -EMSGSIZE);
	assert_int_equal(e.len, IST_BATCH_PREFIX_LEN);
	for (i = 0; i < 10; i++) {
		len_before = e.len;
		rc = ist_batch_enc_rec_begin(&e, 100 + i, 0, 0, "k", 1, v, 60, 0);
		if (rc == -ENOSPC) {
			assert_int_equal(e.len, len_before);
			break;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(ist_batch_enc_rec_end(&e), 0);
		accepted++;
	}
	assert_int_equal(accepted, 3);
	/* Fits by its fixed part, not by its header: rolled back at the header. */
	len_before = e.len;
	assert_int_equal(ist_batch_enc_rec_begin(&e, 200, 0, 0, NULL, -1, NULL, -1, 1), 0);
	assert_int_equal(ist_batch_enc_rec_header(&e, "h", 1, v, 100), -ENOSPC);
	assert_int_equal(e.len, len_before);
	assert_int_equal(e.count, accepted);
	assert_int_equal(ist_batch_enc_rec_end(&e), -EINVAL);
	/* Header larger than any frame: -EMSGSIZE. */
	assert_int_equal(ist_batch_enc_rec_begin(&e, 200, 0, 0, NULL, -1, NULL, -1, 1), 0);
	assert_int_equal(ist_batch_enc_rec_header(&e, "h", 1, big, 250), -EMSGSIZE);
	assert_int_equal(e.len, len_before);
	assert_int_equal(e.st.refused, 4);

	n = ist_batch_enc_close(&e, NULL, &sp, frame_buf, sizeof(frame_buf));
	assert_true(n > 0);
	assert_int_equal(dec_open_exact(&d, NULL, frame_buf, (size_t)n), 0);
	assert_int_equal(ist_batch_dec_open(&d, NULL, frame_buf, (size_t)n, NULL, 0), 0);
	assert_int_equal(d.record_count, accepted);
	assert_int_equal(d.end_offset, 100 + accepted);
	for (i = 0; i < accepted; i++) {
		assert_int_equal(ist_batch_dec_next(&d, &r), 1);
		assert_int_equal(r.offset, 100 + i);
		bytes_eq(r.value, r.value_len, v, 60);
	}
	assert_int_equal(ist_batch_dec_next(&d, &r), 0);
	/* The refused record goes into the next frame. */
	assert_int_equal(ist_batch_enc_open(&e, 1, d.end_offset), 0);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 100 + accepted, 0, 0, "k", 1, v, 60, 0), 0);
	assert_int_equal(ist_batch_enc_rec_end(&e), 0);
	assert_true(ist_batch_enc_close(&e, NULL, &sp, frame_buf, sizeof(frame_buf)) > 0);
}

static void test_enc_misuse(void **state)
{
	struct ist_codec_spec sp = spec_of("none"), bad = sp;
	struct ist_batch_enc e;

	(void)state;
	assert_int_equal(ist_batch_enc_init(&e, body_buf, IST_BATCH_MIN_BODY - 1), -EINVAL);
	assert_int_equal(ist_batch_enc_init(&e, body_buf, IST_BATCH_MAX_BODY + 1), -EINVAL);
	assert_int_equal(ist_batch_enc_init(&e, NULL, 1024), -EINVAL);
	assert_int_equal(ist_batch_enc_init(&e, body_buf, 1024), 0);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 0, 0, 0, NULL, -1, NULL, -1, 0), -EINVAL);
	assert_int_equal(ist_batch_enc_close(&e, NULL, &sp, frame_buf, sizeof(frame_buf)), -EINVAL);
	assert_int_equal(ist_batch_enc_open(&e, 1, (uint64_t)INT64_MAX + 1), -EINVAL);
	assert_int_equal(ist_batch_enc_open(&e, 1, 50), 0);
	assert_int_equal(ist_batch_enc_open(&e, 1, 50), -EBUSY);
	assert_int_equal(ist_batch_enc_close(&e, NULL, &sp, frame_buf, sizeof(frame_buf)),
			 -ENODATA);
	assert_int_equal(ist_batch_enc_rec_header(&e, "a", 1, NULL, -1), -EINVAL);
	assert_int_equal(ist_batch_enc_rec_end(&e), -EINVAL);
	/* Offsets: at or above base, then strictly increasing. */
	assert_int_equal(ist_batch_enc_rec_begin(&e, 49, 0, 0, NULL, -1, NULL, -1, 0), -EINVAL);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 50, 0, 0, NULL, -2, NULL, -1, 0), -EINVAL);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 50, 0, 0, NULL, 3, NULL, -1, 0), -EINVAL);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 52, 0, 0, NULL, -1, NULL, -1, 1), 0);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 53, 0, 0, NULL, -1, NULL, -1, 0), -EINVAL);
	assert_int_equal(ist_batch_enc_close(&e, NULL, &sp, frame_buf, sizeof(frame_buf)), -EINVAL);
	/* Fewer headers than announced: rolled back. */
	assert_int_equal(ist_batch_enc_rec_end(&e), -EINVAL);
	assert_int_equal(e.count, 0);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 52, 0, 0, NULL, -1, NULL, -1, 0), 0);
	assert_int_equal(ist_batch_enc_rec_end(&e), 0);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 52, 0, 0, NULL, -1, NULL, -1, 0), -EINVAL);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 51, 0, 0, NULL, -1, NULL, -1, 0), -EINVAL);
	/* Close: out too small, bad spec; the frame stays open. */
	assert_int_equal(ist_batch_enc_close(&e, NULL, &sp, frame_buf, HLEN + e.len - 1), -ENOSPC);
	bad.use_dict = 1;
	assert_int_equal(ist_batch_enc_close(&e, NULL, &bad, frame_buf, sizeof(frame_buf)),
			 -EINVAL);
	bad = spec_of("lz4");
	assert_int_equal(ist_batch_enc_close(&e, NULL, &bad, frame_buf, sizeof(frame_buf)),
			 -EINVAL);
	assert_int_equal(ist_batch_enc_close(&e, NULL, &sp, frame_buf, HLEN + e.len), HLEN + 22);
	assert_int_equal(e.state, IST_BATCH_ENC_IDLE);
	assert_int_equal(e.st.frames, 1);
	assert_int_equal(e.st.records, 1);
	assert_int_equal(e.st.bytes_in, 22);
	assert_int_equal(e.st.bytes_out, HLEN + 22);
}

static void test_stored_raw(void **state)
{
	struct ist_codec_ctx *cc = ist_codec_ctx_create();
	struct ist_codec_spec sp;
	struct ist_batch_enc e;
	struct ist_batch_dec d;
	struct ist_rec_view r;
	uint8_t noise[3000];
	unsigned int i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(noise); i++)
		noise[i] = (uint8_t)rnd();
	for (i = 0; i < 2; i++) {
		sp = spec_of(i ? "zstd:3" : "lz4");
		assert_int_equal(ist_batch_enc_init(&e, body_buf, 4096), 0);
		assert_int_equal(ist_batch_enc_open(&e, 1, 0), 0);
		assert_int_equal(
			ist_batch_enc_rec_begin(&e, 0, 0, 0, NULL, -1, noise, sizeof(noise), 0), 0);
		assert_int_equal(ist_batch_enc_rec_end(&e), 0);
		n = ist_batch_enc_close(&e, cc, &sp, frame_buf, sizeof(frame_buf));
		/* Incompressible: stored with codec none, never longer than header + body. */
		assert_int_equal(n, HLEN + e.len);
		assert_int_equal(frame_buf[16], IST_CODEC_NONE);
		assert_int_equal(e.st.stored_raw, 1);
		assert_int_equal(
			ist_batch_dec_open(&d, cc, frame_buf, (size_t)n, scratch, sizeof(scratch)),
			0);
		assert_int_equal(ist_batch_dec_next(&d, &r), 1);
		bytes_eq(r.value, r.value_len, noise, sizeof(noise));
	}
	ist_codec_ctx_free(cc);
}

/* ---- split records ---- */

static void split_roundtrip(const char *codec)
{
	const size_t vlen = 1u << 20;
	struct ist_codec_ctx *cc = ist_codec_ctx_create();
	struct ist_codec_spec sp = spec_of(codec);
	struct ist_rec_hdr h[2] = {{.name = "ct", .name_len = 2, .value = "bin", .value_len = 3},
				   {.name = "n", .name_len = 1, .value = NULL, .value_len = -1}};
	struct ist_rec rec = {.offset = 777,
			      .ts_ms = 123,
			      .ts_type = 1,
			      .key = "big",
			      .key_len = 3,
			      .value_len = (int32_t)vlen,
			      .n_headers = 2,
			      .headers = h};
	struct ist_batch_enc e;
	struct ist_batch_dec d;
	struct ist_bigrec br;
	struct ist_rec_view r;
	uint8_t *value = malloc(vlen), *enc;
	const uint8_t *hn, *hv;
	uint32_t hnl;
	int32_t hvl;
	int64_t size;
	unsigned int parts = 0, i;
	int n, rc = 0;

	assert_non_null(value);
	/* Half text, half noise: some parts compress, some are stored. */
	for (i = 0; i < vlen; i++)
		value[i] = i < vlen / 2 ? (uint8_t) "lorem ipsum dolor "[i % 18] : (uint8_t)rnd();
	rec.value = value;
	size = ist_batch_rec_size(&rec);
	assert_true(size > (int64_t)vlen);
	enc = malloc((size_t)size);
	assert_non_null(enc);
	ist_bigrec_init(&br, 2u << 20);

	assert_int_equal(ist_batch_enc_init(&e, body_buf, BODY_MAX), 0);
	assert_int_equal(ist_batch_enc_open(&e, 5, 770), 0);
	assert_int_equal(ist_batch_enc_rec_add(&e, &rec), -EMSGSIZE);
	assert_int_equal(ist_batch_enc_split_open(&e, &rec, enc, (size_t)size - 1), -ENOSPC);
	assert_int_equal(ist_batch_enc_split_open(&e, &rec, enc, (size_t)size), 0);
	while ((n = ist_batch_enc_split_next(&e, cc, &sp, frame_buf, sizeof(frame_buf))) > 0) {
		assert_true(n <= (int)IST_WIRE_MAX_FRAME);
		assert_int_equal(be(frame_buf + 18, 2), IST_WIRE_FRAME_F_SPLIT);
		assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), 0);
		assert_int_equal(
			ist_batch_dec_open(&d, cc, frame_buf, (size_t)n, scratch, sizeof(scratch)),
			0);
		assert_int_equal(d.flags, IST_WIRE_FRAME_F_SPLIT);
		assert_int_equal(d.first_offset, 777);
		assert_int_equal(d.base_offset, 770);
		assert_int_equal(d.end_offset, 778);
		assert_int_equal(d.split_total, (uint32_t)size);
		assert_int_equal(ist_batch_dec_next(&d, &r), IST_BATCH_E_SPLIT);
		rc = ist_bigrec_add(&br, &d);
		parts++;
		/* record_count is 1 only on the part that completes the record. */
		assert_int_equal(d.record_count, rc == 1 ? 1 : 0);
		assert_int_equal(rc, d.split_off + d.split_len == d.split_total);
	}
	assert_int_equal(n, 0);
	assert_int_equal(rc, 1);
	assert_int_equal(e.state, IST_BATCH_ENC_IDLE);
	assert_int_equal(parts, ((size_t)size + BODY_MAX - 24 - 1) / (BODY_MAX - 24));
	assert_int_equal(e.st.split_parts, parts);
	assert_int_equal(e.st.records, 1);
	assert_int_equal(ist_bigrec_view(&br, &r), 0);
	assert_int_equal(r.offset, 777);
	assert_int_equal(r.ts_ms, 123);
	bytes_eq(r.key, r.key_len, "big", 3);
	bytes_eq(r.value, r.value_len, value, (int32_t)vlen);
	assert_int_equal(ist_rec_view_header_next(&r, &hn, &hnl, &hv, &hvl), 1);
	bytes_eq(hv, hvl, "bin", 3);
	assert_int_equal(ist_rec_view_header_next(&r, &hn, &hnl, &hv, &hvl), 1);
	assert_null(hv);
	assert_int_equal(ist_rec_view_header_next(&r, &hn, &hnl, &hv, &hvl), 0);
	ist_bigrec_fini(&br);
	free(enc);
	free(value);
	ist_codec_ctx_free(cc);
}

static void test_split_1mib(void **state)
{
	(void)state;
	split_roundtrip("none");
	split_roundtrip("zstd:1");
	split_roundtrip("lz4");
}

/* Parts out of sequence, restarts and the size limit. */
static void test_bigrec_errors(void **state)
{
	struct ist_codec_spec sp = spec_of("none");
	struct ist_rec rec = {.offset = 10, .key_len = -1, .value_len = 500};
	struct ist_batch_enc e;
	struct ist_batch_dec d[8];
	struct ist_bigrec br;
	struct ist_rec_view r;
	static uint8_t frames[8][256];
	uint8_t value[500], enc[600];
	int len[8], n, i, parts = 0;

	(void)state;
	memset(value, 'x', sizeof(value));
	rec.value = value;
	assert_int_equal(ist_batch_enc_init(&e, body_buf, 224), 0);
	assert_int_equal(ist_batch_enc_open(&e, 2, 10), 0);
	/* Split only from an empty frame. */
	assert_int_equal(ist_batch_enc_rec_begin(&e, 10, 0, 0, NULL, -1, NULL, -1, 0), 0);
	assert_int_equal(ist_batch_enc_rec_end(&e), 0);
	assert_int_equal(ist_batch_enc_split_open(&e, &rec, enc, sizeof(enc)), -EINVAL);
	assert_true(ist_batch_enc_close(&e, NULL, &sp, frame_buf, sizeof(frame_buf)) > 0);
	assert_int_equal(ist_batch_enc_open(&e, 2, 10), 0);
	assert_int_equal(ist_batch_enc_split_open(&e, &rec, enc, sizeof(enc)), 0);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 10, 0, 0, NULL, -1, NULL, -1, 0), -EINVAL);
	while ((n = ist_batch_enc_split_next(&e, NULL, &sp, frames[parts], 256)) > 0) {
		len[parts] = n;
		assert_int_equal(
			ist_batch_dec_open(&d[parts], NULL, frames[parts], (size_t)n, NULL, 0), 0);
		parts++;
	}
	assert_int_equal(parts, 3);

	ist_bigrec_init(&br, 1000);
	assert_int_equal(ist_bigrec_view(&br, &r), IST_BATCH_E_BAD_SPLIT);
	/* A middle part first. */
	assert_int_equal(ist_bigrec_add(&br, &d[1]), IST_BATCH_E_BAD_SPLIT);
	assert_int_equal(ist_bigrec_add(&br, &d[0]), 0);
	/* Same part twice. */
	assert_int_equal(ist_bigrec_add(&br, &d[0]), 0);
	assert_int_equal(br.restarts, 1);
	assert_int_equal(ist_bigrec_add(&br, &d[2]), IST_BATCH_E_BAD_SPLIT);
	assert_false(ist_bigrec_active(&br));
	for (i = 0; i < parts; i++)
		assert_int_equal(ist_bigrec_add(&br, &d[i]), i == parts - 1);
	assert_int_equal(ist_bigrec_view(&br, &r), 0);
	bytes_eq(r.value, r.value_len, value, 500);
	/* A record frame is not a part. */
	{
		struct ist_batch_dec rd;

		assert_int_equal(ist_batch_enc_open(&e, 2, 11), 0);
		assert_int_equal(ist_batch_enc_rec_begin(&e, 11, 0, 0, NULL, -1, NULL, -1, 0), 0);
		assert_int_equal(ist_batch_enc_rec_end(&e), 0);
		n = ist_batch_enc_close(&e, NULL, &sp, frame_buf, sizeof(frame_buf));
		assert_int_equal(ist_batch_dec_open(&rd, NULL, frame_buf, (size_t)n, NULL, 0), 0);
		assert_int_equal(ist_bigrec_add(&br, &rd), IST_BATCH_E_BAD_SPLIT);
	}
	/* Another stream's part in the middle. */
	assert_int_equal(ist_bigrec_add(&br, &d[0]), 0);
	put_be(frames[1], 4, 3);
	assert_int_equal(ist_batch_dec_open(&d[1], NULL, frames[1], (size_t)len[1], NULL, 0), 0);
	assert_int_equal(ist_bigrec_add(&br, &d[1]), IST_BATCH_E_BAD_SPLIT);
	ist_bigrec_fini(&br);
	/* Above the limit. */
	ist_bigrec_init(&br, 100);
	assert_int_equal(ist_bigrec_add(&br, &d[0]), IST_BATCH_E_TOO_BIG);
	ist_bigrec_fini(&br);

	/* Split geometry checked by the decoder: record_count, part_off, total. */
	memcpy(frame_buf, frames[0], (size_t)len[0]);
	put_be(frame_buf + 4, 4, 1);
	assert_int_equal(ist_batch_dec_open(&d[0], NULL, frame_buf, (size_t)len[0], NULL, 0),
			 IST_BATCH_E_BAD_RECORD);
	put_be(frame_buf + 4, 4, 0);
	put_be(frame_buf + HLEN + 20, 4, 5000); /* part_off past total_len; CRC fixed below */
	put_be(frame_buf + 28, 4, ist_wire_crc32c(frame_buf + HLEN, (size_t)len[0] - HLEN, 0));
	assert_int_equal(ist_batch_dec_open(&d[0], NULL, frame_buf, (size_t)len[0], NULL, 0),
			 IST_BATCH_E_BAD_RECORD);
}

/* ---- decoder errors ---- */

static int good_frame(struct ist_codec_ctx *cc, const char *codec, uint8_t *out)
{
	struct ist_codec_spec sp = spec_of(codec);
	struct ist_batch_enc e;
	struct ist_rec rec;
	unsigned int i;

	assert_int_equal(ist_batch_enc_init(&e, body_buf, 8192), 0);
	assert_int_equal(ist_batch_enc_open(&e, 9, 500), 0);
	for (i = 0; i < 6; i++) {
		trec_make(&recs[i], 500 + i, i + 1);
		rec = trec_rec(&recs[i]);
		assert_int_equal(ist_batch_enc_rec_add(&e, &rec), 0);
	}
	return ist_batch_enc_close(&e, cc, &sp, out, FRAME_MAX);
}

static void test_dec_lengths(void **state)
{
	struct ist_codec_ctx *cc = ist_codec_ctx_create();
	struct ist_batch_dec d;
	uint8_t *big;
	size_t l;
	int n;

	(void)state;
	n = good_frame(cc, "zstd:1", frame_buf);
	assert_true(n > 0);
	assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), 0);
	/* Every truncation. */
	for (l = 0; l < (size_t)n; l++)
		assert_int_equal(dec_open_exact(&d, cc, frame_buf, l), IST_BATCH_E_TRUNCATED);
	/* Trailing bytes. */
	frame_buf[n] = 0;
	assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n + 1), IST_BATCH_E_BAD_LENGTH);
	/* uncompressed_len over the scratch. */
	assert_int_equal(ist_batch_dec_open(&d, cc, frame_buf, (size_t)n, scratch,
					    be(frame_buf + 20, 4) - 1),
			 IST_BATCH_E_TOO_BIG);
	/* Claimed uncompressed length wrong: zstd output differs. */
	put_be(frame_buf + 20, 4, be(frame_buf + 20, 4) + 1);
	assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), IST_BATCH_E_DECOMPRESS);
	put_be(frame_buf + 20, 4, 0xfffffff0u);
	assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), IST_BATCH_E_TOO_BIG);
	/* A compressed frame without a context. */
	n = good_frame(cc, "lz4", frame_buf);
	assert_int_equal(
		ist_batch_dec_open(&d, NULL, frame_buf, (size_t)n, scratch, sizeof(scratch)),
		IST_BATCH_E_BAD_CODEC);
	put_be(frame_buf + 20, 4, 10);
	assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), IST_BATCH_E_BAD_LENGTH);

	/* Codec none: uncompressed_len must equal body_len, body at least the prefix. */
	n = good_frame(NULL, "none", frame_buf);
	put_be(frame_buf + 20, 4, (uint64_t)n - HLEN + 1);
	assert_int_equal(dec_open_exact(&d, NULL, frame_buf, (size_t)n), IST_BATCH_E_BAD_LENGTH);
	big = calloc(1, HLEN + 15);
	assert_non_null(big);
	put_be(big + 20, 4, 15);
	put_be(big + 24, 4, 15);
	assert_int_equal(dec_open_exact(&d, NULL, big, HLEN + 15), IST_BATCH_E_BAD_LENGTH);
	free(big);
	ist_codec_ctx_free(cc);
}

static void test_dec_fields(void **state)
{
	struct ist_codec_ctx *cc = ist_codec_ctx_create();
	struct ist_batch_dec d;
	int n;

	(void)state;
	n = good_frame(NULL, "none", frame_buf);
	frame_buf[16] = 3;
	assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), IST_BATCH_E_BAD_CODEC);
	frame_buf[16] = IST_CODEC_NONE;
	frame_buf[17] = 4;
	assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), IST_BATCH_E_BAD_DICT);
	frame_buf[17] = 0;
	put_be(frame_buf + 18, 2, 0x8000);
	assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), IST_BATCH_E_BAD_FLAGS);
	put_be(frame_buf + 18, 2, 0);
	assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), 0);

	/* Unknown dictionary on a compressed frame. */
	n = good_frame(cc, "zstd:1", frame_buf);
	frame_buf[17] = 77;
	assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), IST_BATCH_E_BAD_DICT);
	/* Garbage in a compressed body. */
	frame_buf[17] = 0;
	memset(frame_buf + HLEN, 0xa5, (size_t)n - HLEN);
	assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), IST_BATCH_E_DECOMPRESS);
	n = good_frame(cc, "lz4", frame_buf);
	memset(frame_buf + HLEN + 4, 0xff, 12);
	assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), IST_BATCH_E_DECOMPRESS);
	ist_codec_ctx_free(cc);
}

static void test_dec_crc(void **state)
{
	static const char *const codecs[] = {"none", "lz4", "zstd:3"};
	struct ist_codec_ctx *cc = ist_codec_ctx_create();
	struct ist_batch_dec d;
	unsigned int i;
	int n, rc;

	(void)state;
	for (i = 0; i < 3; i++) {
		n = good_frame(cc, codecs[i], frame_buf);
		frame_buf[28] ^= 0x40;
		assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), IST_BATCH_E_BAD_CRC);
		frame_buf[28] ^= 0x40;
		assert_int_equal(dec_open_exact(&d, cc, frame_buf, (size_t)n), 0);
	}
	/* A flipped body byte of a stored frame: only the CRC can tell. */
	n = good_frame(NULL, "none", frame_buf);
	frame_buf[HLEN + 40] ^= 1;
	assert_int_equal(dec_open_exact(&d, NULL, frame_buf, (size_t)n), IST_BATCH_E_BAD_CRC);
	/* In a literal run of a compressed body: CRC or the decompressor. */
	n = good_frame(cc, "lz4", frame_buf);
	frame_buf[n - 10] ^= 0x10;
	rc = dec_open_exact(&d, cc, frame_buf, (size_t)n);
	assert_true(rc == IST_BATCH_E_BAD_CRC || rc == IST_BATCH_E_DECOMPRESS);
	ist_codec_ctx_free(cc);
}

/* Hand-made bodies with valid CRCs: the record walker's checks. */
static void test_dec_bad_records(void **state)
{
	uint8_t b[64];
	size_t l;

	(void)state;
#define PREFIX(base, end)              \
	do {                           \
		put_be(b, 8, base);    \
		put_be(b + 8, 8, end); \
		l = 16;                \
	} while (0)
#define B(...)                                      \
	do {                                        \
		const uint8_t x_[] = {__VA_ARGS__}; \
		memcpy(b + l, x_, sizeof(x_));      \
		l += sizeof(x_);                    \
	} while (0)

	/* The good one: two records at 100 and 102. */
	PREFIX(100, 103);
	B(0, 0, 0, 0, 0, 0);
	B(2, 0, 0, 0, 0, 0);
	assert_int_equal(decode_body(2, 100, b, (uint32_t)l), 0);
	/* Count says 3, two present; count says 1, trailing record. */
	assert_int_equal(decode_body(3, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	/* Count 0, count above what the bytes can hold. */
	assert_int_equal(decode_body(0, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	assert_int_equal(decode_body(1000, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	/* first_offset below base_offset; end_offset not last + 1. */
	assert_int_equal(decode_body(2, 99, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	PREFIX(100, 104);
	B(0, 0, 0, 0, 0, 0);
	B(2, 0, 0, 0, 0, 0);
	assert_int_equal(decode_body(2, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	/* end_offset at or below first_offset. */
	PREFIX(100, 100);
	B(0, 0, 0, 0, 0, 0);
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	/* Offsets not increasing; first delta not 0; delta past end_offset. */
	PREFIX(100, 103);
	B(0, 0, 0, 0, 0, 0);
	B(0, 0, 0, 0, 0, 0);
	assert_int_equal(decode_body(2, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	PREFIX(100, 103);
	B(1, 0, 0, 0, 0, 0);
	B(2, 0, 0, 0, 0, 0);
	assert_int_equal(decode_body(2, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	PREFIX(100, 103);
	B(0, 0, 0, 0, 0, 0);
	B(5, 0, 0, 0, 0, 0);
	assert_int_equal(decode_body(2, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	/* An 11-byte varint; a 10-byte one above 64 bits; one cut by the end. */
	PREFIX(100, 101);
	B(0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 0);
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	PREFIX(100, 101);
	B(0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0);
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	PREFIX(100, 101);
	B(0, 0, 0, 0, 0, 0x80);
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	/* The largest valid timestamp varint passes. */
	PREFIX(100, 101);
	B(0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 0);
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), 0);
	/* Key length one past the end; value length past the end; huge length. */
	PREFIX(100, 101);
	B(0, 0, 0, 6, 'a', 'b', 0, 0);
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	PREFIX(100, 101);
	B(0, 0, 0, 0, 4, 'a', 0);
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	PREFIX(100, 101);
	B(0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0);
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	/* Header count beyond the bytes; header name and value past the end. */
	PREFIX(100, 101);
	B(0, 0, 0, 0, 0, 3, 1, 'a', 0);
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	PREFIX(100, 101);
	B(0, 0, 0, 0, 0, 1, 5, 'a', 0);
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	PREFIX(100, 101);
	B(0, 0, 0, 0, 0, 1, 1, 'a', 9, 'x');
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	/* Missing timestamp type byte (after an overlong but valid varint). */
	PREFIX(100, 101);
	B(0, 0x80, 0x80, 0x80, 0x80, 0x00);
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), IST_BATCH_E_BAD_RECORD);
	/* The same header record, complete, is fine. */
	PREFIX(100, 101);
	B(0, 0, 0, 0, 0, 1, 1, 'a', 2, 'x');
	assert_int_equal(decode_body(1, 100, b, (uint32_t)l), 0);
#undef B
#undef PREFIX
}

/* ---- dictionaries ---- */

static void test_dict_train_improves(void **state)
{
	struct ist_codec_ctx *cc = ist_codec_ctx_create();
	struct ist_dict_sampler *s = ist_dict_sampler_create(1000, 2048, 42);
	struct ist_codec_spec plain = spec_of("zstd:3"), dict = spec_of("zstd:3+dict");
	struct ist_codec_spec lplain = spec_of("lz4"), ldict = spec_of("lz4+dict");
	static uint8_t d[16384];
	struct ist_batch_enc e;
	struct ist_rec rec = {.key_len = -1};
	char buf[1200], err[256];
	size_t with = 0, without = 0, lwith = 0, lwithout = 0;
	unsigned int i, f;
	int dlen, n;

	(void)state;
	for (i = 0; i < 5000; i++) {
		n = json_event(buf, sizeof(buf), i);
		ist_dict_sampler_add(s, buf, (size_t)n);
	}
	assert_int_equal(ist_dict_sampler_count(s), 1000);
	assert_int_equal(ist_dict_sampler_seen(s), 5000);
	dlen = ist_dict_sampler_train(s, d, sizeof(d), err, sizeof(err));
	assert_true(dlen > 1000);
	assert_int_equal(ist_codec_ctx_dict_add(cc, 1, d, (size_t)dlen, 3, err, sizeof(err)), 0);
	dict.dict_id = 1;
	ldict.dict_id = 1;

	/* Small frames (2 events, ~0.8 KB) of events the sampler never saw. */
	assert_int_equal(ist_batch_enc_init(&e, body_buf, 4096), 0);
	for (f = 0; f < 100; f++) {
		const struct ist_codec_spec *sps[4] = {&plain, &dict, &lplain, &ldict};
		size_t *tot[4] = {&without, &with, &lwithout, &lwith};
		unsigned int k;
		uint8_t vals[2][1200];
		int vl[2];

		for (i = 0; i < 2; i++)
			vl[i] = json_event((char *)vals[i], sizeof(vals[i]), 100000 + f * 2 + i);
		for (k = 0; k < 4; k++) {
			assert_int_equal(ist_batch_enc_open(&e, 1, f * 2), 0);
			for (i = 0; i < 2; i++) {
				rec.offset = f * 2 + i;
				rec.value = vals[i];
				rec.value_len = vl[i];
				assert_int_equal(ist_batch_enc_rec_add(&e, &rec), 0);
			}
			n = ist_batch_enc_close(&e, cc, sps[k], frame_buf, sizeof(frame_buf));
			assert_true(n > 0);
			*tot[k] += (size_t)n;
		}
	}
	print_message("zstd:3 %zu -> +dict %zu bytes; lz4 %zu -> +dict %zu bytes (100 frames)\n",
		      without, with, lwithout, lwith);
	assert_true(with < without);
	assert_true(with * 10 < without * 8); /* at least 20% smaller */
	assert_true(lwith < lwithout);
	ist_dict_sampler_free(s);
	ist_codec_ctx_free(cc);
}

static void test_dict_sampler(void **state)
{
	struct ist_dict_sampler *a = ist_dict_sampler_create(10, 4, 7);
	struct ist_dict_sampler *b = ist_dict_sampler_create(10, 4, 7);
	uint8_t dict[1024];
	char err[256];
	uint32_t v;
	unsigned int i;

	(void)state;
	assert_null(ist_dict_sampler_create(0, 4, 1));
	assert_null(ist_dict_sampler_create(4, 0, 1));
	for (i = 0; i < 5; i++) {
		v = i;
		ist_dict_sampler_add(a, &v, sizeof(v));
	}
	assert_int_equal(ist_dict_sampler_count(a), 5);
	for (i = 5; i < 10000; i++) {
		v = i;
		ist_dict_sampler_add(a, &v, sizeof(v));
		ist_dict_sampler_add(b, &v, sizeof(v));
	}
	assert_int_equal(ist_dict_sampler_count(a), 10);
	assert_int_equal(ist_dict_sampler_seen(a), 10000);
	/* Too few samples for training: a clear error, not a dictionary. */
	assert_int_equal(
		ist_dict_train("abc", (size_t[]){3}, 1, dict, sizeof(dict), err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "need at least"));
	assert_int_equal(ist_dict_train("abcdefgh", (size_t[]){1, 1, 1, 1, 1, 1, 1, 1}, 8, dict, 10,
					err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "capacity"));
	ist_dict_sampler_reset(a);
	assert_int_equal(ist_dict_sampler_count(a), 0);
	assert_int_equal(ist_dict_sampler_seen(a), 0);
	ist_dict_sampler_free(a);
	ist_dict_sampler_free(b);
}

static void test_codec_ctx_dicts(void **state)
{
	struct ist_codec_ctx *cc = ist_codec_ctx_create();
	struct ist_codec_spec sp = spec_of("zstd:5+dict");
	uint8_t dict[4096], src[1000], dst[2000];
	struct ist_batch_enc e;
	char err[256];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(dict); i++)
		dict[i] = (uint8_t) "the quick brown fox jumps over "[i % 31];
	memcpy(src, dict + 7, sizeof(src));
	assert_int_equal(ist_codec_ctx_dict_add(cc, 0, dict, sizeof(dict), 5, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(ist_codec_ctx_dict_add(cc, 2, dict, 0, 5, err, sizeof(err)), -EINVAL);
	assert_int_equal(ist_codec_ctx_dict_add(cc, 2, dict, sizeof(dict), 20, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "20"));
	assert_int_equal(ist_codec_ctx_dict_add(cc, 2, dict, sizeof(dict), 5, err, sizeof(err)), 0);
	assert_int_equal(ist_codec_ctx_dict_add(cc, 2, dict, sizeof(dict), 5, err, sizeof(err)),
			 -EEXIST);
	assert_true(ist_codec_ctx_dict_has(cc, 2));
	assert_false(ist_codec_ctx_dict_has(cc, 3));
	/* Not loaded; loaded for another level. */
	sp.dict_id = 3;
	assert_int_equal(ist_codec_compress(cc, &sp, src, sizeof(src), dst, sizeof(dst)), -ENOENT);
	sp.dict_id = 2;
	assert_true(ist_codec_compress(cc, &sp, src, sizeof(src), dst, sizeof(dst)) > 0);
	sp.level = 6;
	assert_int_equal(ist_codec_compress(cc, &sp, src, sizeof(src), dst, sizeof(dst)), -EINVAL);
	/* The encoder passes both up and keeps the frame open. */
	assert_int_equal(ist_batch_enc_init(&e, body_buf, 4096), 0);
	assert_int_equal(ist_batch_enc_open(&e, 1, 0), 0);
	assert_int_equal(ist_batch_enc_rec_begin(&e, 0, 0, 0, NULL, -1, src, sizeof(src), 0), 0);
	assert_int_equal(ist_batch_enc_rec_end(&e), 0);
	assert_int_equal(ist_batch_enc_close(&e, cc, &sp, frame_buf, sizeof(frame_buf)), -EINVAL);
	sp.level = 5;
	sp.dict_id = 3;
	assert_int_equal(ist_batch_enc_close(&e, cc, &sp, frame_buf, sizeof(frame_buf)), -ENOENT);
	assert_int_equal(e.state, IST_BATCH_ENC_OPEN);
	/* Sizes. */
	sp.dict_id = 2;
	assert_int_equal(ist_codec_compress(cc, &sp, src, 0, dst, sizeof(dst)), -EINVAL);
	assert_int_equal(
		ist_codec_compress(cc, &sp, body_buf, IST_CODEC_MAX_SRC + 1, dst, sizeof(dst)),
		-EINVAL);
	assert_int_equal(ist_codec_compress(cc, &sp, src, sizeof(src), dst, 3), 0);
	assert_int_equal(ist_codec_decompress(cc, 9, 0, dst, 10, src, 10), -EINVAL);
	assert_int_equal(ist_codec_decompress(cc, IST_CODEC_ZSTD, 3, dst, 10, src, 10), -ENOENT);
	/* Removed: frames with it no longer decode. */
	assert_int_equal(ist_codec_ctx_dict_del(cc, 2), 0);
	assert_int_equal(ist_codec_ctx_dict_del(cc, 2), -ENOENT);
	assert_false(ist_codec_ctx_dict_has(cc, 2));
	ist_codec_ctx_free(cc);
}

/*
 * A dictionary at every level class, bodies of every size class: the static
 * zstd workspace must hold (zstd's own estimate falls short with a CDict).
 */
static void test_zstd_dict_levels(void **state)
{
	static const int levels[] = {1, 4, 9, 14, 19};
	static const size_t sizes[] = {100, 1000, 5000, 20000, IST_CODEC_MAX_SRC};
	struct ist_codec_ctx *cc = ist_codec_ctx_create();
	struct ist_dict_sampler *s = ist_dict_sampler_create(800, 1024, 3);
	static uint8_t d[32768], src[IST_CODEC_MAX_SRC], dst[IST_CODEC_MAX_SRC],
		back[IST_CODEC_MAX_SRC];
	struct ist_codec_spec sp = spec_of("zstd:1+dict");
	char buf[1200], err[256];
	unsigned int i, j;
	size_t at = 0;
	int dlen, n;

	(void)state;
	for (i = 0; at < sizeof(src); i++) {
		n = json_event(buf, sizeof(buf), i);
		if (i < 4000)
			ist_dict_sampler_add(s, buf, (size_t)n);
		memcpy(src + at, buf, RTE_MIN((size_t)n, sizeof(src) - at));
		at += RTE_MIN((size_t)n, sizeof(src) - at);
	}
	dlen = ist_dict_sampler_train(s, d, sizeof(d), err, sizeof(err));
	assert_true(dlen > 0);
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		assert_int_equal(ist_codec_ctx_dict_add(cc, (uint8_t)levels[i], d, (size_t)dlen,
							levels[i], err, sizeof(err)),
				 0);
		sp.level = (uint8_t)levels[i];
		sp.dict_id = (uint8_t)levels[i];
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			n = ist_codec_compress(cc, &sp, src, sizes[j], dst, sizeof(dst));
			assert_true(n > 0);
			assert_int_equal(ist_codec_decompress(cc, IST_CODEC_ZSTD, sp.dict_id, dst,
							      (size_t)n, back, sizes[j]),
					 0);
			assert_memory_equal(back, src, sizes[j]);
		}
	}
	ist_dict_sampler_free(s);
	ist_codec_ctx_free(cc);
}

/* A raw dictionary above LZ4's 64 KiB window: compressor and decoder agree on its tail. */
static void test_lz4_big_dict(void **state)
{
	struct ist_codec_ctx *cc = ist_codec_ctx_create(), *dc = ist_codec_ctx_create();
	struct ist_codec_spec sp = spec_of("lz4+dict");
	static uint8_t d[100000], src[8192], dst[8192], back[8192];
	char buf[1200], err[256];
	size_t at = 0;
	unsigned int i;
	int n;

	(void)state;
	for (i = 0; at < sizeof(d); i++) {
		n = json_event(buf, sizeof(buf), i);
		memcpy(d + at, buf, RTE_MIN((size_t)n, sizeof(d) - at));
		at += RTE_MIN((size_t)n, sizeof(d) - at);
	}
	/* Pieces of the dictionary's last 64 KiB, and of its head (out of LZ4's reach). */
	for (at = 0; at < sizeof(src); at += 512)
		memcpy(src + at, d + (at % 1024 ? sizeof(d) - 60000 + at * 7 : at), 512);
	assert_int_equal(ist_codec_ctx_dict_add(cc, 200, d, sizeof(d), 0, err, sizeof(err)), 0);
	assert_int_equal(ist_codec_ctx_dict_add(dc, 200, d, sizeof(d), 0, err, sizeof(err)), 0);
	sp.dict_id = 200;
	n = ist_codec_compress(cc, &sp, src, sizeof(src), dst, sizeof(dst));
	assert_true(n > 0 && n < (int)sizeof(src) / 2);
	assert_int_equal(
		ist_codec_decompress(dc, IST_CODEC_LZ4, 200, dst, (size_t)n, back, sizeof(back)),
		0);
	assert_memory_equal(back, src, sizeof(src));
	/* Without the dictionary the block does not decode to the same bytes. */
	assert_int_equal(ist_codec_ctx_dict_del(dc, 200), 0);
	assert_int_equal(
		ist_codec_decompress(dc, IST_CODEC_LZ4, 200, dst, (size_t)n, back, sizeof(back)),
		-ENOENT);
	assert_int_not_equal(
		ist_codec_decompress(dc, IST_CODEC_LZ4, 0, dst, (size_t)n, back, sizeof(back)), 0);
	ist_codec_ctx_free(cc);
	ist_codec_ctx_free(dc);
}

static void test_spec_parse(void **state)
{
	static const struct {
		const char *s;
		uint8_t codec, level, dict;
	} ok[] = {{"none", IST_CODEC_NONE, 0, 0},     {"lz4", IST_CODEC_LZ4, 0, 0},
		  {"lz4+dict", IST_CODEC_LZ4, 0, 1},  {"zstd:1", IST_CODEC_ZSTD, 1, 0},
		  {"zstd:19", IST_CODEC_ZSTD, 19, 0}, {"zstd:3+dict", IST_CODEC_ZSTD, 3, 1}};
	static const char *const bad[] = {"",          "gzip",       "zstd",
					  "zstd:",     "zstd:0",     "zstd:20",
					  "zstd:3x",   "zstd:-1",    "zstd:+3",
					  "none+dict", "lz4:1",      "+dict",
					  "LZ4",       "zstd3",      "lz4+dict+dict",
					  "zstd: 3",   "zstd:3+dic", "zstd:99999999999999999999"};
	struct ist_codec_spec sp;
	char err[256], out[32];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(&sp, 0xee, sizeof(sp));
		assert_int_equal(ist_codec_spec_parse(ok[i].s, &sp, err, sizeof(err)), 0);
		assert_int_equal(sp.codec, ok[i].codec);
		assert_int_equal(sp.level, ok[i].level);
		assert_int_equal(sp.use_dict, ok[i].dict);
		assert_int_equal(sp.dict_id, 0);
		assert_int_equal(ist_codec_spec_format(&sp, out, sizeof(out)), strlen(ok[i].s));
		assert_string_equal(out, ok[i].s);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(ist_codec_spec_parse(bad[i], &sp, err, sizeof(err)), -EINVAL);
		/* One line naming the value and the accepted forms. */
		assert_non_null(strstr(err, bad[i]));
		assert_non_null(strstr(err, "accepted: none, lz4"));
		assert_null(strchr(err, '\n'));
	}
	assert_int_equal(ist_codec_spec_parse("zstd:20", &sp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "out of range 1..19"));
	assert_int_equal(ist_codec_spec_parse(NULL, &sp, err, sizeof(err)), -EINVAL);
	sp.codec = 9;
	assert_int_equal(ist_codec_spec_format(&sp, out, sizeof(out)), -EINVAL);
}

/* ---- random mutations ---- */

static void walk(struct ist_batch_dec *d, struct ist_rec_view *r)
{
	const uint8_t *n, *v;
	uint32_t nl;
	int32_t vl;
	volatile uint8_t sink = 0;
	int rc;

	while ((rc = ist_batch_dec_next(d, r)) == 1) {
		if (r->key_len > 0)
			sink ^= r->key[r->key_len - 1];
		if (r->value_len > 0)
			sink ^= r->value[r->value_len - 1];
		while (ist_rec_view_header_next(r, &n, &nl, &v, &vl) == 1) {
			if (nl > 0)
				sink ^= n[nl - 1];
			if (vl > 0)
				sink ^= v[vl - 1];
		}
	}
	assert_true(rc == 0 || rc == IST_BATCH_E_BAD_RECORD || rc == IST_BATCH_E_SPLIT);
	(void)sink;
}

static void test_mutations(void **state)
{
	static const char *const codecs[] = {"none", "lz4", "zstd:1"};
	struct ist_codec_ctx *cc = ist_codec_ctx_create();
	struct ist_batch_dec d;
	struct ist_rec_view r;
	static uint8_t orig[FRAME_MAX];
	unsigned int it, k, hist[IST_BATCH_ERR_COUNT] = {0};
	size_t len, olen = 0;
	uint8_t *f;
	int rc;

	(void)state;
	for (it = 0; it < 6000; it++) {
		if (it % 500 == 0)
			olen = (size_t)good_frame(cc, codecs[(it / 500) % 3], orig);
		len = olen;
		f = malloc(olen + 16);
		assert_non_null(f);
		memcpy(f, orig, olen);
		for (k = 0; k <= rnd() % 4 && len > 0; k++) {
			size_t at = rnd() % len;

			switch (rnd() % 5) {
			case 0:
				f[at] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 1:
				f[at] = (uint8_t)rnd();
				break;
			case 2:
				len = at;
				break;
			case 3: /* a header field */
				f[rnd() % HLEN] = (uint8_t)rnd();
				break;
			default: /* body byte of a stored frame, CRC fixed: reaches the walker */
				if (f[16] == IST_CODEC_NONE && len > HLEN + 16) {
					size_t bl = be(f + 24, 4);

					if (bl > 16 && HLEN + bl <= len) {
						f[HLEN + 16 + rnd() % (bl - 16)] = (uint8_t)rnd();
						put_be(f + 28, 4, ist_wire_crc32c(f + HLEN, bl, 0));
					}
				}
				break;
			}
		}
		{
			uint8_t *exact = dup_exact(f, len);

			rc = ist_batch_dec_open(&d, cc, exact, len, scratch, sizeof(scratch));
			assert_true(rc <= 0 && rc > -IST_BATCH_ERR_COUNT);
			hist[-rc]++;
			if (rc == 0)
				walk(&d, &r);
			free(exact);
		}
		free(f);
	}
	print_message("mutations: ok %u truncated %u bad_length %u bad_codec %u bad_dict %u "
		      "decompress %u bad_crc %u bad_record %u bad_flags %u\n",
		      hist[0], hist[1], hist[2], hist[5], hist[6], hist[7], hist[8], hist[9],
		      hist[4]);
	assert_true(hist[-IST_BATCH_E_BAD_CRC] > 0);
	assert_true(hist[-IST_BATCH_E_TRUNCATED] > 0);
	ist_codec_ctx_free(cc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_roundtrip_codecs),
		cmocka_unit_test(test_roundtrip_dict),
		cmocka_unit_test(test_null_empty_binary),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_enospc_rollback),
		cmocka_unit_test(test_enc_misuse),
		cmocka_unit_test(test_stored_raw),
		cmocka_unit_test(test_split_1mib),
		cmocka_unit_test(test_bigrec_errors),
		cmocka_unit_test(test_dec_lengths),
		cmocka_unit_test(test_dec_fields),
		cmocka_unit_test(test_dec_crc),
		cmocka_unit_test(test_dec_bad_records),
		cmocka_unit_test(test_dict_train_improves),
		cmocka_unit_test(test_dict_sampler),
		cmocka_unit_test(test_codec_ctx_dicts),
		cmocka_unit_test(test_zstd_dict_levels),
		cmocka_unit_test(test_lz4_big_dict),
		cmocka_unit_test(test_spec_parse),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
