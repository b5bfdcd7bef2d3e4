/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the sink's frame decoder and the catalog decoder
 * (tests/fuzz/run.sh builds and runs it beside fuzz_wire.c).
 *
 * Every input is decoded three ways:
 *  - as a batch frame (ist_batch_dec_open(), then ist_batch_dec_next() and
 *    ist_rec_view_header_next() over every record, or ist_bigrec for a split
 *    part), with a codec context holding dictionary 1;
 *  - as the same frame with its lengths made consistent and its CRC32C put
 *    right (decompressing first when it is compressed), so mutations of the
 *    records reach the record walker instead of stopping at the CRC check;
 *  - as a catalog body (ist_cat_next() to the end), and, past a 32-byte
 *    frame header, as the body of a catalog frame.
 * Invariants checked: results are in range; every pointer handed out lies in
 * the body; offsets are strictly increasing within the frame's range; a
 * frame whose records all decode re-encodes (ist_batch_enc, codec none) to a
 * frame that decodes to the same records; a decoded catalog message
 * re-encodes to a prefix of its own payload (the whole payload for DICT).
 * Bodies and scratch are heap blocks of exactly their length, so ASan sees
 * a read one byte past.
 *
 * Built with -DFUZZ_GEN_SEEDS it is instead a program that writes a seed
 * corpus (frames encoded with each codec, with and without the dictionary,
 * the parts of a split record, catalog bodies and a catalog frame) into the
 * directory named by its argument.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>

#include "ist_batch.h"
#include "ist_catalog.h"
#include "ist_codec.h"
#include "ist_wire.h"
#include "fuzz_common.h"

#define FRAME_HLEN  ((uint32_t)sizeof(struct ist_wire_frame))
#define SCRATCH_CAP IST_WIRE_MAX_FRAME /* what the sink gives (ist_repl_sink.c) */
#define DICT_ID     1
#define DICT_LEVEL  3
#define MAX_RECS    ((IST_WIRE_MAX_FRAME) / IST_BATCH_REC_MIN + 1)
#define MAX_HDRS    ((IST_WIRE_MAX_FRAME) / 2 + 1)

static struct ist_codec_ctx *cc;

/* The fixed dictionary of the corpus: JSON-ish text, deterministic. */
static uint8_t dict[4096];

static void setup(void)
{
	static int done;
	char err[256];
	size_t i, at = 0;

	if (done)
		return;
	for (i = 0; at + 64 < sizeof(dict); i++)
		at += (size_t)snprintf((char *)dict + at, sizeof(dict) - at,
				       "{\"user\":%zu,\"event\":\"click\",\"page\":\"/p/%zu\"}",
				       i * 7919 % 10007, i % 97);
	memset(dict + at, ' ', sizeof(dict) - at);
	cc = ist_codec_ctx_create();
	CHECK(cc != NULL);
	CHECK(ist_codec_ctx_dict_add(cc, DICT_ID, dict, sizeof(dict), DICT_LEVEL, err,
				     sizeof(err)) == 0);
	done = 1;
}

/* ---- frames ---- */

struct rec_copy {
	struct ist_rec r;
	uint32_t first_hdr;
};

static struct rec_copy recs[MAX_RECS];
static struct ist_rec_hdr hdrs[MAX_HDRS];
static uint8_t enc_body[IST_BATCH_MAX_BODY], enc_out[IST_WIRE_MAX_FRAME];

static int in(const uint8_t *p, size_t n, const uint8_t *lo, const uint8_t *hi)
{
	return p >= lo && p <= hi && n <= (size_t)(hi - p);
}

/* A key, value or header value: NULL with -1, else inside the body. */
static void check_bytes(const uint8_t *p, int32_t len, const uint8_t *lo, const uint8_t *hi)
{
	if (len == -1)
		CHECK(p == NULL);
	else
		CHECK(len >= 0 && p != NULL && in(p, (size_t)len, lo, hi));
}

/* Walk one view's headers; keep them in hdrs[] from *nh when keep. */
static void walk_headers(struct ist_rec_view *rv, const uint8_t *lo, const uint8_t *hi,
			 uint32_t *nh, int keep)
{
	const uint8_t *name, *value;
	uint32_t name_len, seen = 0;
	int32_t value_len;

	while (ist_rec_view_header_next(rv, &name, &name_len, &value, &value_len) == 1) {
		CHECK(name_len <= INT32_MAX && in(name, name_len, lo, hi));
		check_bytes(value, value_len, lo, hi);
		if (keep) {
			CHECK(*nh < MAX_HDRS);
			hdrs[*nh] = (struct ist_rec_hdr){.name = name,
							 .name_len = name_len,
							 .value = value,
							 .value_len = value_len};
			(*nh)++;
		}
		seen++;
	}
	/* Headers were bounds-checked with the record: all of them come out. */
	CHECK(seen == rv->n_headers);
	CHECK(ist_rec_view_header_next(rv, &name, &name_len, &value, &value_len) == 0);
}

static void check_split(struct ist_batch_dec *d, const uint8_t *lo, const uint8_t *hi)
{
	struct ist_rec_view rv;
	struct ist_bigrec br;
	int rc;

	CHECK(d->split_len >= 1 && in(d->split_data, d->split_len, lo, hi));
	CHECK((uint64_t)d->split_off + d->split_len <= d->split_total);
	CHECK(d->end_offset == d->first_offset + 1);
	CHECK(ist_batch_dec_next(d, &rv) == IST_BATCH_E_SPLIT);
	ist_bigrec_init(&br, 1u << 20);
	rc = ist_bigrec_add(&br, d);
	if (d->split_off != 0) {
		/* A later part with nothing collected is out of sequence. */
		CHECK(rc == IST_BATCH_E_BAD_SPLIT);
	} else if (d->split_total > (1u << 20)) {
		CHECK(rc == IST_BATCH_E_TOO_BIG);
	} else {
		CHECK(rc == (d->split_len == d->split_total ? 1 : 0));
		if (rc == 1) {
			rc = ist_bigrec_view(&br, &rv);
			CHECK(rc == 0 || rc == IST_BATCH_E_BAD_RECORD);
			if (rc == 0) {
				uint32_t nh = 0;

				CHECK(rv.offset == d->first_offset);
				check_bytes(rv.key, rv.key_len, br.buf, br.buf + br.total);
				check_bytes(rv.value, rv.value_len, br.buf, br.buf + br.total);
				walk_headers(&rv, br.buf, br.buf + br.total, &nh, 0);
			}
		}
	}
	ist_bigrec_fini(&br);
}

/* Re-encode the records decoded from d with codec none; decode; compare. */
static void check_reencode(const struct ist_batch_dec *d, uint32_t n)
{
	static const struct ist_codec_spec none = {.codec = IST_CODEC_NONE};
	struct ist_batch_enc e;
	struct ist_batch_dec d2;
	struct ist_rec_view rv;
	uint32_t i, j;
	int len;

	CHECK(ist_batch_enc_init(&e, enc_body, sizeof(enc_body)) == 0);
	CHECK(ist_batch_enc_open(&e, d->stream_id, d->base_offset) == 0);
	for (i = 0; i < n; i++) {
		int rc = ist_batch_enc_rec_add(&e, &recs[i].r);

		/* Minimal varints never take more room than the decoded ones did. */
		CHECK(rc == 0);
	}
	len = ist_batch_enc_close(&e, NULL, &none, enc_out, sizeof(enc_out));
	CHECK(len > 0 && (uint32_t)len <= FRAME_HLEN + d->body_len);
	CHECK(ist_batch_dec_open(&d2, NULL, enc_out, (size_t)len, NULL, 0) == 0);
	CHECK(d2.stream_id == d->stream_id && d2.record_count == d->record_count &&
	      d2.first_offset == d->first_offset && d2.base_offset == d->base_offset &&
	      d2.end_offset == d->end_offset && d2.flags == 0);
	for (i = 0; i < n; i++) {
		const struct ist_rec *r = &recs[i].r;
		const uint8_t *name, *value;
		uint32_t name_len;
		int32_t value_len;

		CHECK(ist_batch_dec_next(&d2, &rv) == 1);
		CHECK(rv.offset == r->offset && rv.ts_ms == r->ts_ms && rv.ts_type == r->ts_type);
		CHECK(rv.key_len == r->key_len && rv.value_len == r->value_len);
		CHECK(rv.key_len <= 0 || memcmp(rv.key, r->key, (size_t)rv.key_len) == 0);
		CHECK(rv.value_len <= 0 || memcmp(rv.value, r->value, (size_t)rv.value_len) == 0);
		CHECK(rv.n_headers == r->n_headers);
		for (j = 0; j < r->n_headers; j++) {
			const struct ist_rec_hdr *h = &r->headers[j];

			CHECK(ist_rec_view_header_next(&rv, &name, &name_len, &value, &value_len) ==
			      1);
			CHECK(name_len == h->name_len && value_len == h->value_len);
			CHECK(name_len == 0 || memcmp(name, h->name, name_len) == 0);
			CHECK(value_len <= 0 || memcmp(value, h->value, (size_t)value_len) == 0);
		}
	}
	CHECK(ist_batch_dec_next(&d2, &rv) == 0);
}

/* Open and walk one frame of exactly len bytes. */
static void fuzz_frame(const uint8_t *frame, size_t len)
{
	struct ist_batch_dec d;
	struct ist_rec_view rv;
	const uint8_t *lo, *hi;
	uint8_t *scratch = NULL;
	size_t scap = 0;
	uint64_t next = 0;
	uint32_t n = 0, nh = 0;
	int rc;

	if (len >= FRAME_HLEN) {
		const struct ist_wire_frame *w = (const void *)frame;
		uint32_t ulen = rte_be_to_cpu_32(w->uncompressed_len);

		/* Scratch of exactly the declared size, so ASan sees a read past it. */
		scap = ulen <= SCRATCH_CAP ? ulen : SCRATCH_CAP;
		scratch = malloc(scap ? scap : 1);
		CHECK(scratch != NULL);
	}
	rc = ist_batch_dec_open(&d, cc, frame, len, scratch, scap);
	CHECK(rc <= 0 && rc > -IST_BATCH_ERR_COUNT);
	CHECK(strcmp(ist_batch_err_name(rc), "unknown") != 0);
	if (rc != 0) {
		/* A refused frame stays refused. */
		CHECK(ist_batch_dec_next(&d, &rv) < 0);
		goto out;
	}
	CHECK(len >= FRAME_HLEN && d.codec <= IST_CODEC_ZSTD);
	if (d.codec == IST_CODEC_NONE) {
		CHECK(d.dict_id == 0 && d.body_len == len - FRAME_HLEN);
		lo = frame + FRAME_HLEN;
	} else {
		CHECK(d.body_len <= scap);
		lo = scratch;
	}
	hi = lo + d.body_len;
	CHECK(d.base_offset <= d.first_offset && d.first_offset < d.end_offset);
	if (d.flags & IST_WIRE_FRAME_F_SPLIT) {
		check_split(&d, lo, hi);
		goto out;
	}
	CHECK(d.record_count >= 1);
	while ((rc = ist_batch_dec_next(&d, &rv)) == 1) {
		CHECK(n < d.record_count && n < MAX_RECS);
		CHECK(rv.offset >= d.first_offset && rv.offset < d.end_offset);
		CHECK(n == 0 ? rv.offset == d.first_offset : rv.offset >= next);
		next = rv.offset + 1;
		check_bytes(rv.key, rv.key_len, lo, hi);
		check_bytes(rv.value, rv.value_len, lo, hi);
		recs[n] = (struct rec_copy){.r = {.offset = rv.offset,
						  .ts_ms = rv.ts_ms,
						  .ts_type = rv.ts_type,
						  .key_len = rv.key_len,
						  .value_len = rv.value_len,
						  .n_headers = rv.n_headers,
						  .key = rv.key,
						  .value = rv.value},
					    .first_hdr = nh};
		walk_headers(&rv, lo, hi, &nh, 1);
		n++;
	}
	CHECK(rc == 0 || rc == IST_BATCH_E_BAD_RECORD);
	/* Sticky: the walk's end repeats. */
	CHECK(ist_batch_dec_next(&d, &rv) == rc);
	if (rc != 0)
		goto out;
	CHECK(n == d.record_count && next == d.end_offset);
	for (uint32_t i = 0; i < n; i++)
		recs[i].r.headers = hdrs + recs[i].first_hdr;
	if (d.body_len <= IST_BATCH_MAX_BODY)
		check_reencode(&d, n);
out:
	free(scratch);
}

/*
 * The frame with body_len = what follows the header, uncompressed_len =
 * body_len when stored, and the CRC32C of the (decompressed) body.
 */
static void fuzz_frame_fixed(const uint8_t *data, size_t len)
{
	struct ist_wire_frame *w;
	uint8_t *f, *tmp = NULL;
	uint32_t blen, ulen, crc;

	if (len < FRAME_HLEN)
		return;
	f = malloc(len);
	CHECK(f != NULL);
	memcpy(f, data, len);
	w = (struct ist_wire_frame *)f;
	blen = (uint32_t)(len - FRAME_HLEN);
	w->body_len = rte_cpu_to_be_32(blen);
	ulen = rte_be_to_cpu_32(w->uncompressed_len);
	if (w->codec == IST_CODEC_NONE) {
		w->uncompressed_len = rte_cpu_to_be_32(blen);
		crc = ist_wire_crc32c(f + FRAME_HLEN, blen, 0);
	} else {
		if (ulen == 0 || ulen > SCRATCH_CAP)
			goto out;
		tmp = malloc(ulen);
		CHECK(tmp != NULL);
		if (ist_codec_decompress(cc, w->codec, w->dict_id, f + FRAME_HLEN, blen, tmp,
					 ulen) != 0)
			goto out;
		crc = ist_wire_crc32c(tmp, ulen, 0);
	}
	w->crc32c = rte_cpu_to_be_32(crc);
	if (memcmp(f, data, len) != 0)
		fuzz_frame(f, len);
out:
	free(tmp);
	free(f);
}

/* ---- catalog ---- */

static void fuzz_catalog(const uint8_t *body, size_t len)
{
	static uint8_t out[3 + UINT16_MAX];
	struct ist_cat_msg m;
	size_t off = 0, prev, plen, olen;
	int rc, put;

	for (;;) {
		prev = off;
		rc = ist_cat_next(body, len, &off, &m);
		if (rc != 1)
			break;
		CHECK(len - prev >= 3);
		plen = (size_t)body[prev + 1] << 8 | body[prev + 2];
		CHECK(off == prev + 3 + plen && off <= len);
		CHECK(m.type == body[prev]);
		olen = 0;
		switch (m.type) {
		case IST_CAT_OPEN:
			CHECK(strlen(m.open.flow) < IST_CAT_NAME_LEN);
			CHECK(strlen(m.open.topic) < IST_CAT_TOPIC_LEN);
			put = ist_cat_put_open(out, sizeof(out), &olen, &m.open);
			break;
		case IST_CAT_RESUME:
			put = ist_cat_put_resume(out, sizeof(out), &olen, &m.resume);
			break;
		case IST_CAT_DICT:
			CHECK(m.dict.dict_id != 0 && m.dict.len == plen - 2);
			CHECK(m.dict.data == body + prev + 5);
			put = ist_cat_put_dict(out, sizeof(out), &olen, &m.dict);
			CHECK(olen == 3 + plen);
			break;
		case IST_CAT_DICT_ACK:
			put = ist_cat_put_dict_ack(out, sizeof(out), &olen, &m.dict_ack);
			break;
		default:
			continue; /* unknown: skipped by its length */
		}
		/* What was read is written back the same; trailing payload bytes are not. */
		CHECK(put == 0 && olen >= 3 && olen <= 3 + plen);
		CHECK(out[0] == m.type && memcmp(out + 3, body + prev + 3, olen - 3) == 0);
	}
	CHECK(rc == 0 || rc == -EBADMSG);
	if (rc == 0)
		CHECK(off == len);
	else
		CHECK(off == prev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > IST_WIRE_MAX_FRAME)
		return -1; /* reject: no frame is larger */
	setup();
	fuzz_frame(data, size);
	fuzz_frame_fixed(data, size);
	fuzz_catalog(data, size);
	if (size >= FRAME_HLEN)
		fuzz_catalog(data + FRAME_HLEN, size - FRAME_HLEN);
	return 0;
}

#ifdef FUZZ_GEN_SEEDS

/* A frame's worth of records: null and empty keys, values and headers, duplicates. */
static int frame_build(struct ist_batch_enc *e, const struct ist_codec_spec *spec, uint8_t *out,
		       size_t cap, unsigned int n)
{
	static const struct ist_rec_hdr h[] = {
		{.name = "content-type", .name_len = 12, .value = "json", .value_len = 4},
		{.name = "trace", .name_len = 5, .value = NULL, .value_len = -1},
		{.name = "trace", .name_len = 5, .value = "", .value_len = 0},
		{.name = "", .name_len = 0, .value = "x", .value_len = 1},
	};
	char val[200];
	unsigned int i;

	CHECK(ist_batch_enc_open(e, 7, 1000) == 0);
	for (i = 0; i < n; i++) {
		struct ist_rec r = {.offset = 1003 + 2 * i,
				    .ts_ms = i == 1 ? -5 : 1700000000000 + i,
				    .ts_type = (uint8_t)(i % 3),
				    .key = "k",
				    .key_len = i % 4 == 0 ? -1 : (i % 4 == 1 ? 0 : 1),
				    .value = val,
				    .n_headers = i % 5,
				    .headers = h};
		int vlen = snprintf(val, sizeof(val),
				    "{\"user\":%u,\"event\":\"click\",\"page\":\"/p/%u\"}",
				    i * 7919 % 10007, i % 97);

		r.value_len = i % 6 == 5 ? -1 : vlen;
		if (r.n_headers > 4)
			r.n_headers = 4;
		CHECK(ist_batch_enc_rec_add(e, &r) == 0);
	}
	return ist_batch_enc_close(e, cc, spec, out, cap);
}

static void seed_catalog(void)
{
	static uint8_t body[4096], frame[4096 + 32];
	struct ist_cat_open o = {.stream = 3, .src_partition = 1, .dst_partition = 1};
	struct ist_cat_resume r = {.stream = 3, .next_seq = 9, .position = -2, .status = 0};
	struct ist_cat_dict d = {.dict_id = 1, .codec = IST_CODEC_ZSTD, .data = dict, .len = 64};
	struct ist_cat_dict_ack a = {.dict_id = 1, .status = 0};
	struct ist_wire_frame *w = (struct ist_wire_frame *)frame;
	size_t len = 0;

	snprintf(o.flow, sizeof(o.flow), "orders");
	snprintf(o.cluster, sizeof(o.cluster), "src-a");
	snprintf(o.region, sizeof(o.region), "us-east");
	snprintf(o.topic, sizeof(o.topic), "orders.v1");
	snprintf(o.dst_topic, sizeof(o.dst_topic), "us-east.orders.v1");
	snprintf(r.reason, sizeof(r.reason), "%s", "");
	CHECK(ist_cat_put_open(body, sizeof(body), &len, &o) == 0);
	seed("cat-open", body, len);
	CHECK(ist_cat_put_resume(body, sizeof(body), &len, &r) == 0);
	CHECK(ist_cat_put_dict(body, sizeof(body), &len, &d) == 0);
	CHECK(ist_cat_put_dict_ack(body, sizeof(body), &len, &a) == 0);
	body[len++] = 9; /* an unknown type */
	body[len++] = 0;
	body[len++] = 1;
	body[len++] = 0xee;
	r.status = 3;
	snprintf(r.reason, sizeof(r.reason), "destination orders.v1 [1] does not exist");
	CHECK(ist_cat_put_resume(body, sizeof(body), &len, &r) == 0);
	seed("cat-all", body, len);

	/* As a catalog frame: stream 0, codec none, record_count = messages. */
	memset(w, 0, sizeof(*w));
	w->record_count = rte_cpu_to_be_32(6);
	w->uncompressed_len = rte_cpu_to_be_32((uint32_t)len);
	w->body_len = rte_cpu_to_be_32((uint32_t)len);
	w->crc32c = rte_cpu_to_be_32(ist_wire_crc32c(body, len, 0));
	memcpy(frame + FRAME_HLEN, body, len);
	seed("cat-frame", frame, FRAME_HLEN + len);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		struct ist_codec_spec spec;
		unsigned int n;
	} specs[] = {
		{"none-1", {.codec = IST_CODEC_NONE}, 1},
		{"none-9", {.codec = IST_CODEC_NONE}, 9},
		{"lz4", {.codec = IST_CODEC_LZ4}, 40},
		{"zstd", {.codec = IST_CODEC_ZSTD, .level = DICT_LEVEL}, 40},
		{"lz4-dict", {.codec = IST_CODEC_LZ4, .use_dict = 1, .dict_id = DICT_ID}, 12},
		{"zstd-dict",
		 {.codec = IST_CODEC_ZSTD, .level = DICT_LEVEL, .use_dict = 1, .dict_id = DICT_ID},
		 12},
	};
	static uint8_t body[IST_BATCH_MAX_BODY], out[IST_WIRE_MAX_FRAME], big[6000];
	static const struct ist_codec_spec none = {.codec = IST_CODEC_NONE};
	const struct ist_codec_spec lz4 = {.codec = IST_CODEC_LZ4};
	struct ist_batch_enc e;
	struct ist_batch_dec d;
	unsigned int i;
	int len;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	seed_dir = argv[1];
	setup();

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		CHECK(ist_batch_enc_init(&e, body, 16384) == 0);
		len = frame_build(&e, &specs[i].spec, out, sizeof(out), specs[i].n);
		CHECK(len > 0);
		/* Compressed really (not stored raw: it would seed nothing new). */
		CHECK(((const struct ist_wire_frame *)out)->codec == specs[i].spec.codec);
		/* Seeds must be valid, or they seed nothing past the checks. */
		CHECK(ist_batch_dec_open(&d, cc, out, (size_t)len, enc_out, sizeof(enc_out)) == 0);
		seed(specs[i].name, out, (size_t)len);
	}

	/* A record larger than a 64-byte-body frame: its split parts, stored and lz4. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i % 11 == 0 ? i : 'a' + i % 7);
	for (int c = 0; c < 2; c++) {
		static uint8_t enc_buf[8000];
		struct ist_rec r = {.offset = 77,
				    .ts_ms = 1700000000000,
				    .ts_type = 1,
				    .key = "key",
				    .key_len = 3,
				    .value = big,
				    .value_len = (int32_t)sizeof(big)};
		unsigned int part = 0;
		char nm[32];

		CHECK(ist_batch_enc_init(&e, body, 2048) == 0);
		CHECK(ist_batch_enc_open(&e, 7, 70) == 0);
		CHECK(ist_batch_enc_split_open(&e, &r, enc_buf, sizeof(enc_buf)) == 0);
		while ((len = ist_batch_enc_split_next(&e, cc, c ? &lz4 : &none, out,
						       sizeof(out))) > 0) {
			CHECK(ist_batch_dec_open(&d, cc, out, (size_t)len, enc_out,
						 sizeof(enc_out)) == 0);
			snprintf(nm, sizeof(nm), "split-%s-%u", c ? "lz4" : "none", part++);
			seed(nm, out, (size_t)len);
		}
		CHECK(len == 0 && part >= 3);
	}
	seed_catalog();
	printf("%u seeds in %s\n", n_seeds, seed_dir);
	ist_codec_ctx_free(cc);
	return 0;
}

#endif /* FUZZ_GEN_SEEDS */
