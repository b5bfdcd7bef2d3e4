/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Synthetic frames: deterministic, checkable byte for byte, every kind of
 * damage detected; the progress file survives reopening and refuses a file
 * made for another stream count.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic_and_distinct),
		cmocka_unit_test(test_lengths_in_range),
		cmocka_unit_test(test_check_accepts_good_frames),
		cmocka_unit_test(test_check_detects_damage),
		cmocka_unit_test(test_store_persists),
	};

	return cmocka_run_group_tests_name("synth", tests, NULL, NULL);
}
