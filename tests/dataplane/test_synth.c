/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Synthetic frames: deterministic, checkable byte for byte, every kind of
 * damage detected; the progress file survives reopening, keeps its tally,
 * grows a file of the older layout and refuses a file made for another
 * stream count. Corpus frames: every codec round-trips, one pass carries
 * the whole corpus, damage and misplaced frames are caught, bad corpora
 * and settings are refused with a message.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "isthmus/wire.h"
#include "ist_batch.h"
#include "ist_synth.h"

static const struct ist_synth_profile prof = {.seed = 42, .min_body = 1, .max_body = 4000};
static uint8_t buf[IST_WIRE_MAX_FRAME], buf2[IST_WIRE_MAX_FRAME];

static void test_deterministic_and_distinct(void **state)
{
	uint32_t a, b;

	(void)state;
	a = ist_synth_frame_build(&prof, 3, 7, buf, sizeof(buf));
	b = ist_synth_frame_build(&prof, 3, 7, buf2, sizeof(buf2));
	assert_int_equal(a, b);
	assert_memory_equal(buf, buf2, a);
	b = ist_synth_frame_build(&prof, 3, 8, buf2, sizeof(buf2));
	assert_true(a != b || memcmp(buf, buf2, a) != 0);
}

static void test_lengths_in_range(void **state)
{
	uint32_t lo = UINT32_MAX, hi = 0;

	(void)state;
	for (uint32_t s = 0; s < 8; s++)
		for (uint32_t n = 0; n < 500; n++) {
			uint32_t l = ist_synth_body_len(&prof, s, n);

			assert_true(l >= prof.min_body && l <= prof.max_body);
			lo = l < lo ? l : lo;
			hi = l > hi ? l : hi;
		}
	/* 4000 frames spread over the whole range. */
	assert_true(lo < 100);
	assert_true(hi > 3900);
}

static void test_check_accepts_good_frames(void **state)
{
	(void)state;
	for (uint32_t n = 0; n < 200; n++) {
		uint32_t len = ist_synth_frame_build(&prof, n % 5, n, buf, sizeof(buf));

		assert_int_equal(ist_synth_frame_check(&prof, n % 5, n, buf, len), IST_SYNTH_OK);
	}
}

static void test_check_detects_damage(void **state)
{
	uint32_t len;

	(void)state;
	len = ist_synth_frame_build(&prof, 1, 10, buf, sizeof(buf));
	assert_int_equal(ist_synth_frame_check(&prof, 1, 10, buf, len - 1), IST_SYNTH_BAD_LEN);
	/* The right bytes for another frame number or stream are wrong here. */
	assert_int_not_equal(ist_synth_frame_check(&prof, 1, 11, buf, len), IST_SYNTH_OK);
	assert_int_not_equal(ist_synth_frame_check(&prof, 2, 10, buf, len), IST_SYNTH_OK);
	buf[len - 1] ^= 0x01;
	assert_int_equal(ist_synth_frame_check(&prof, 1, 10, buf, len), IST_SYNTH_BAD_CRC);
	buf[len - 1] ^= 0x01;
	buf[3] ^= 0x80;
	assert_int_equal(ist_synth_frame_check(&prof, 1, 10, buf, len), IST_SYNTH_BAD_HEADER);
	buf[3] ^= 0x80;
	assert_int_equal(ist_synth_frame_check(&prof, 1, 10, buf, len), IST_SYNTH_OK);
	assert_int_equal(ist_synth_frame_build(&prof, 1, 10, buf, 16), 0);
}

static void test_store_persists(void **state)
{
	char dir[] = "/tmp/isthmus-synth.XXXXXX", path[PATH_MAX], err[256];
	struct ist_synth_store st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/progress", dir);
	assert_int_equal(ist_synth_store_open(&st, path, 4, err, sizeof(err)), 0);
	assert_int_equal(st.next_seq[2], 0);
	st.next_seq[2] = 77;
	ist_synth_store_close(&st);
	assert_int_equal(ist_synth_store_open(&st, path, 4, err, sizeof(err)), 0);
	assert_int_equal(st.next_seq[2], 77);
	ist_synth_store_close(&st);
	assert_int_equal(ist_synth_store_open(&st, path, 5, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "another number of streams"));
	unlink(path);
	assert_int_equal(ist_synth_store_open(&st, dir, 4, err, sizeof(err)) < 0, 1);
	rmdir(dir);
}

static void test_store_tally(void **state)
{
	char dir[] = "/tmp/isthmus-synth.XXXXXX", path[PATH_MAX], err[256];
	uint32_t old[5] = {3, 4, 5, 6, 0x53594e31u};
	struct ist_synth_store st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/progress", dir);
	assert_int_equal(ist_synth_store_open(&st, path, 4, err, sizeof(err)), 0);
	assert_int_equal(st.tally->frames, 0);
	ist_synth_store_count(&st, true, 16, 15000, 4000);
	ist_synth_store_count(&st, true, 2, 100, 140);
	ist_synth_store_count(&st, false, 9, 9, 9);
	ist_synth_store_close(&st);
	assert_int_equal(ist_synth_store_open(&st, path, 4, err, sizeof(err)), 0);
	assert_int_equal(st.tally->frames, 2);
	assert_int_equal(st.tally->records, 18);
	assert_int_equal(st.tally->bytes, 15100);
	assert_int_equal(st.tally->wire, 4140);
	assert_int_equal(st.tally->bad, 1);
	ist_synth_store_close(&st);
	/* 4 and 5 streams make files of one size: the trailer tells them apart. */
	assert_int_equal(ist_synth_store_open(&st, path, 5, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "another number of streams (4, want 5)"));
	unlink(path);

	/* A file of the older layout (next_seq, magic) keeps its progress and grows. */
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(old, sizeof(old), 1, f), 1);
	fclose(f);
	assert_int_equal(ist_synth_store_open(&st, path, 4, err, sizeof(err)), 0);
	assert_int_equal(st.next_seq[3], 6);
	assert_int_equal(st.tally->records, 0);
	ist_synth_store_close(&st);
	assert_int_equal(ist_synth_store_open(&st, path, 4, err, sizeof(err)), 0);
	assert_int_equal(st.next_seq[0], 3);
	ist_synth_store_close(&st);
	unlink(path);
	/* Of that size but not a progress file: refused, not grown. */
	old[4] = 0;
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(old, sizeof(old), 1, f), 1);
	fclose(f);
	assert_int_equal(ist_synth_store_open(&st, path, 4, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an isthmus progress file"));
	unlink(path);
	rmdir(dir);
}

/* ---- corpus mode ---- */

#define N_RECS 300

static char cdir[PATH_MAX], cpath[PATH_MAX];
static uint64_t corpus_bytes;

static void put_rec(FILE *f, const char *p, uint32_t len)
{
	uint8_t b[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			(uint8_t)len};

	assert_int_equal(fwrite(b, 1, 4, f), 4);
	assert_int_equal(fwrite(p, 1, len, f), len);
}

/* JSON-ish records of 100..1300 bytes, compressible, none alike. */
static int corpus_setup(void **state)
{
	char rec[2048];
	FILE *f;

	(void)state;
	snprintf(cdir, sizeof(cdir), "/tmp/isthmus-corpus.XXXXXX");
	if (mkdtemp(cdir) == NULL)
		return -1;
	snprintf(cpath, sizeof(cpath), "%s/corpus", cdir);
	f = fopen(cpath, "wb");
	if (f == NULL)
		return -1;
	corpus_bytes = 0;
	for (uint32_t i = 0; i < N_RECS; i++) {
		uint32_t want = 100 + (i * 7919u) % 1200, n;

		n = (uint32_t)snprintf(rec, sizeof(rec),
				       "{\"id\":%u,\"type\":\"order.created\","
				       "\"note\":\"",
				       i);
		while (n < want - 2) {
			rec[n] = "abcdefgh ijklmnop"[(n * (i + 3)) % 17];
			n++;
		}
		rec[n++] = '"';
		rec[n++] = '}';
		put_rec(f, rec, n);
		corpus_bytes += n;
	}
	return fclose(f);
}

static int corpus_teardown(void **state)
{
	(void)state;
	unlink(cpath);
	rmdir(cdir);
	return 0;
}

static void test_corpus_round_trip(void **state)
{
	static const char *const codecs[] = {"none", "lz4", "zstd:1", "zstd"};
	char err[256];

	(void)state;
	for (unsigned int k = 0; k < 4; k++) {
		struct ist_synth_corpus *c =
			ist_synth_corpus_load(cpath, codecs[k], 4096, err, sizeof(err));
		struct ist_synth_corpus_stats cst;
		uint64_t recs = 0, bytes = 0, wire = 0;
		uint32_t nf, len, r;
		uint64_t b;

		assert_non_null(c);
		assert_int_equal(ist_synth_corpus_records(c), N_RECS);
		nf = ist_synth_corpus_frames(c);
		/* ~210 KB in frames of 4 KiB. */
		assert_true(nf > 40 && nf < 120);
		/* Stream 0 starts at the corpus's first frame: one pass is the corpus. */
		for (uint32_t n = 0; n < nf; n++) {
			len = ist_synth_corpus_frame_build(c, 0, n, buf, sizeof(buf));
			assert_true(len > sizeof(struct ist_wire_frame));
			assert_true(len <= sizeof(struct ist_wire_frame) + 4096);
			assert_int_equal(ist_synth_corpus_frame_check(c, 0, n, buf, len, &r, &b),
					 IST_SYNTH_OK);
			recs += r;
			bytes += b;
			wire += len;
		}
		assert_int_equal(recs, N_RECS);
		assert_int_equal(bytes, corpus_bytes);
		if (k == 0)
			assert_true(wire > corpus_bytes);
		else
			assert_true(wire < corpus_bytes / 2);
		/* Frames of any stream and pass check, and only where they belong. */
		for (uint32_t n = 0; n < 3 * nf; n += 7) {
			len = ist_synth_corpus_frame_build(c, n % 5, n, buf, sizeof(buf));
			assert_int_equal(
				ist_synth_corpus_frame_check(c, n % 5, n, buf, len, &r, &b),
				IST_SYNTH_OK);
			assert_int_not_equal(
				ist_synth_corpus_frame_check(c, n % 5, n + nf, buf, len, &r, &b),
				IST_SYNTH_OK);
			assert_int_not_equal(
				ist_synth_corpus_frame_check(c, n % 5 + 1, n, buf, len, &r, &b),
				IST_SYNTH_OK);
		}
		ist_synth_corpus_stats_get(c, &cst);
		assert_int_equal(cst.build_errors, 0);
		/* Too little room: refused and counted, the next frame still builds. */
		assert_int_equal(ist_synth_corpus_frame_build(c, 0, 1, buf, 64), 0);
		ist_synth_corpus_stats_get(c, &cst);
		assert_int_equal(cst.build_errors, 1);
		assert_true(ist_synth_corpus_frame_build(c, 0, 1, buf, sizeof(buf)) > 0);
		ist_synth_corpus_free(c);
	}
}

static void test_corpus_deterministic(void **state)
{
	struct ist_synth_corpus *a, *b;
	char err[256];
	uint32_t la, lb;

	(void)state;
	a = ist_synth_corpus_load(cpath, "lz4", 16384, err, sizeof(err));
	b = ist_synth_corpus_load(cpath, "lz4", 16384, err, sizeof(err));
	assert_non_null(a);
	assert_non_null(b);
	/* Another process (a restarted sender) builds the same bytes. */
	la = ist_synth_corpus_frame_build(a, 2, 5, buf, sizeof(buf));
	lb = ist_synth_corpus_frame_build(b, 2, 5, buf2, sizeof(buf2));
	assert_int_equal(la, lb);
	assert_memory_equal(buf, buf2, la);
	ist_synth_corpus_free(a);
	ist_synth_corpus_free(b);
}

static void test_corpus_detects_damage(void **state)
{
	struct ist_synth_corpus *c, *raw;
	char err[256];
	uint32_t len, r;
	uint64_t b;

	(void)state;
	c = ist_synth_corpus_load(cpath, "zstd:1", 8192, err, sizeof(err));
	raw = ist_synth_corpus_load(cpath, "none", 8192, err, sizeof(err));
	assert_non_null(c);
	assert_non_null(raw);
	len = ist_synth_corpus_frame_build(c, 1, 3, buf, sizeof(buf));
	assert_int_equal(ist_synth_corpus_frame_check(c, 1, 3, buf, len - 1, &r, &b),
			 IST_SYNTH_BAD_DECODE);
	buf[len - 1] ^= 0x01;
	assert_int_not_equal(ist_synth_corpus_frame_check(c, 1, 3, buf, len, &r, &b), IST_SYNTH_OK);
	buf[len - 1] ^= 0x01;
	assert_int_equal(ist_synth_corpus_frame_check(c, 1, 3, buf, len, &r, &b), IST_SYNTH_OK);
	/* Uncompressed: a flipped value byte is a CRC error. */
	len = ist_synth_corpus_frame_build(raw, 1, 3, buf, sizeof(buf));
	buf[len - 10] ^= 0x20;
	assert_int_equal(ist_synth_corpus_frame_check(raw, 1, 3, buf, len, &r, &b),
			 IST_SYNTH_BAD_CRC);
	/* A pattern frame is no record frame. */
	len = ist_synth_frame_build(&prof, 1, 3, buf, sizeof(buf));
	assert_int_not_equal(ist_synth_corpus_frame_check(raw, 1, 3, buf, len, &r, &b),
			     IST_SYNTH_OK);
	ist_synth_corpus_free(c);
	ist_synth_corpus_free(raw);
}

static void test_corpus_load_errors(void **state)
{
	char path[PATH_MAX], err[256];
	FILE *f;

	(void)state;
	assert_null(ist_synth_corpus_load("/nonexistent/corpus", "lz4", 16384, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/corpus: cannot open the corpus"));
	assert_null(ist_synth_corpus_load(cpath, "brotli", 16384, err, sizeof(err)));
	assert_non_null(strstr(err, "synth.codec"));
	assert_null(ist_synth_corpus_load(cpath, "lz4+dict", 16384, err, sizeof(err)));
	assert_non_null(strstr(err, "drop +dict"));
	/* The largest record (1299 bytes) cannot fit a 1 KiB frame. */
	assert_null(ist_synth_corpus_load(cpath, "lz4", 1024, err, sizeof(err)));
	assert_non_null(strstr(err, "raise synth.frame_kb"));
	assert_null(ist_synth_corpus_load(cpath, "lz4", 16, err, sizeof(err)));

	snprintf(path, sizeof(path), "%s/bad", cdir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fclose(f);
	assert_null(ist_synth_corpus_load(path, "lz4", 16384, err, sizeof(err)));
	assert_non_null(strstr(err, "the corpus is empty"));
	f = fopen(path, "wb");
	assert_non_null(f);
	put_rec(f, "abc", 3);
	assert_int_equal(fwrite("\0\0\1\0xy", 1, 6, f), 6); /* 256 bytes announced, 2 there */
	fclose(f);
	assert_null(ist_synth_corpus_load(path, "lz4", 16384, err, sizeof(err)));
	assert_non_null(strstr(err, "not a length-prefixed corpus at byte 7 (record 1)"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic_and_distinct),
		cmocka_unit_test(test_lengths_in_range),
		cmocka_unit_test(test_check_accepts_good_frames),
		cmocka_unit_test(test_check_detects_damage),
		cmocka_unit_test(test_store_persists),
		cmocka_unit_test(test_store_tally),
	};
	const struct CMUnitTest corpus_tests[] = {
		cmocka_unit_test(test_corpus_round_trip),
		cmocka_unit_test(test_corpus_deterministic),
		cmocka_unit_test(test_corpus_detects_damage),
		cmocka_unit_test(test_corpus_load_errors),
	};

	return cmocka_run_group_tests_name("synth", tests, NULL, NULL) |
	       cmocka_run_group_tests_name("synth corpus", corpus_tests, corpus_setup,
					   corpus_teardown);
}
