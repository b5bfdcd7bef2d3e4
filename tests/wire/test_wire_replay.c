/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the replay window: in order, out of order within the window,
 * duplicates, too old, far jumps ahead, stale ring blocks, epoch reset, and a
 * long pseudo-random sequence against a plain model (a bit per pn).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ist_replay.h"

static struct ist_replay w;

/* Check, and on success record, as the receive path does. */
static int accept_pn(uint64_t pn)
{
	int rc = ist_replay_check(&w, pn);

	if (rc == 0)
		ist_replay_update(&w, pn);
	return rc;
}

static void test_in_order(void **state)
{
	uint64_t pn;

	(void)state;
	ist_replay_reset(&w, 42);
	assert_int_equal(w.epoch, 42);
	assert_int_equal(ist_replay_check(&w, 0), IST_WIRE_E_TOO_OLD);
	for (pn = 1; pn <= 5000; pn++)
		assert_int_equal(accept_pn(pn), 0);
	for (pn = 5000 - IST_REPLAY_WIN + 1; pn <= 5000; pn++)
		assert_int_equal(accept_pn(pn), IST_WIRE_E_REPLAYED);
	assert_int_equal(accept_pn(5000 - IST_REPLAY_WIN), IST_WIRE_E_TOO_OLD);
	assert_int_equal(accept_pn(1), IST_WIRE_E_TOO_OLD);
}

static void test_out_of_order(void **state)
{
	(void)state;
	ist_replay_reset(&w, 1);
	assert_int_equal(accept_pn(10), 0);
	assert_int_equal(accept_pn(5), 0);
	assert_int_equal(accept_pn(7), 0);
	assert_int_equal(accept_pn(9), 0);
	assert_int_equal(accept_pn(1), 0);
	assert_int_equal(accept_pn(5), IST_WIRE_E_REPLAYED);
	assert_int_equal(accept_pn(10), IST_WIRE_E_REPLAYED);
	assert_int_equal(accept_pn(6), 0);
	assert_int_equal(accept_pn(8), 0);
	/* Check alone never records. */
	assert_int_equal(ist_replay_check(&w, 11), 0);
	assert_int_equal(ist_replay_check(&w, 11), 0);
	assert_int_equal(ist_replay_check(&w, 4), 0);
}

static void test_window_edge(void **state)
{
	(void)state;
	ist_replay_reset(&w, 1);
	assert_int_equal(accept_pn(2000), 0);
	/* top - pn == WIN - 1 is the oldest acceptable. */
	assert_int_equal(accept_pn(2000 - IST_REPLAY_WIN + 1), 0);
	assert_int_equal(accept_pn(2000 - IST_REPLAY_WIN + 1), IST_WIRE_E_REPLAYED);
	assert_int_equal(accept_pn(2000 - IST_REPLAY_WIN), IST_WIRE_E_TOO_OLD);
	/* Recording a too-old pn (a caller bug) must not mark a newer one in the same slot. */
	ist_replay_reset(&w, 1);
	assert_int_equal(accept_pn(5000), 0);
	ist_replay_update(&w, 10);
	assert_int_equal(ist_replay_check(&w, 10 + 64 * IST_REPLAY_WORDS * 2), 0);
}

static void test_far_jump(void **state)
{
	uint64_t pn;

	(void)state;
	ist_replay_reset(&w, 1);
	for (pn = 1; pn <= 100; pn++)
		assert_int_equal(accept_pn(pn), 0);
	assert_int_equal(accept_pn(1000000000ull), 0);
	assert_int_equal(accept_pn(100), IST_WIRE_E_TOO_OLD);
	assert_int_equal(accept_pn(1000000000ull), IST_WIRE_E_REPLAYED);
	assert_int_equal(accept_pn(999999999ull), 0);
	/* Bits of the old blocks are gone: pns a ring turn apart do not alias. */
	for (pn = 1000000000ull - IST_REPLAY_WIN + 1; pn < 999999999ull; pn++)
		assert_int_equal(ist_replay_check(&w, pn), 0);
	/* Jumps of exactly one ring turn, and of one block more. */
	ist_replay_reset(&w, 1);
	assert_int_equal(accept_pn(64), 0);
	assert_int_equal(accept_pn(64 + 64 * IST_REPLAY_WORDS), 0);
	assert_int_equal(accept_pn(64 + 64 * IST_REPLAY_WORDS + 64), 0);
	assert_int_equal(ist_replay_check(&w, 64 + 64 * IST_REPLAY_WORDS + 1), 0);
	assert_int_equal(ist_replay_check(&w, 64 + 64 * IST_REPLAY_WORDS), IST_WIRE_E_REPLAYED);
	/* Near the top of the pn space. */
	assert_int_equal(accept_pn(UINT64_MAX - 1), 0);
	assert_int_equal(accept_pn(UINT64_MAX), 0);
	assert_int_equal(accept_pn(UINT64_MAX), IST_WIRE_E_REPLAYED);
	assert_int_equal(accept_pn(UINT64_MAX - IST_REPLAY_WIN), IST_WIRE_E_TOO_OLD);
}

static void test_epoch_reset(void **state)
{
	(void)state;
	ist_replay_reset(&w, 7);
	assert_int_equal(accept_pn(1), 0);
	assert_int_equal(accept_pn(2), 0);
	assert_int_equal(accept_pn(1), IST_WIRE_E_REPLAYED);
	ist_replay_reset(&w, 8);
	assert_int_equal(w.epoch, 8);
	assert_int_equal(w.top, 0);
	assert_int_equal(accept_pn(1), 0);
	assert_int_equal(accept_pn(2), 0);
}

/* Deterministic PRNG (xorshift64*), so a failure repeats. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717ull;
}

static void test_against_model(void **state)
{
	enum { SPACE = 1 << 20 };
	uint8_t *seen = calloc(SPACE, 1);
	uint64_t top = 0, pn;
	int i, want;

	(void)state;
	assert_non_null(seen);
	ist_replay_reset(&w, 1);
	for (i = 0; i < 2000000; i++) {
		uint64_t r = rnd();

		/* Mostly near the top, some far behind, some jumps ahead. */
		switch (r & 7) {
		case 0:
			pn = (r >> 8) % SPACE;
			break;
		case 1:
			pn = top + ((r >> 8) & 4095);
			break;
		default:
			pn = top + 8 - ((r >> 8) % 1100);
			break;
		}
		if (pn == 0 || pn >= SPACE || pn > top + 8 + 4096)
			continue;
		if (pn > top)
			want = 0;
		else if (top - pn >= IST_REPLAY_WIN)
			want = IST_WIRE_E_TOO_OLD;
		else
			want = seen[pn] ? IST_WIRE_E_REPLAYED : 0;
		assert_int_equal(accept_pn(pn), want);
		if (want == 0) {
			seen[pn] = 1;
			top = pn > top ? pn : top;
		}
	}
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),    cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_window_edge), cmocka_unit_test(test_far_jump),
		cmocka_unit_test(test_epoch_reset), cmocka_unit_test(test_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
