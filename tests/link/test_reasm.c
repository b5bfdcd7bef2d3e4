/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reassembly: single- and multi-fragment frames, out-of-order fragments and
 * frames, duplicates, every rejection reason, in-order delivery per stream,
 * isolation of a stalled stream, slot exhaustion, release rules, refused
 * delivery and the epoch reset.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ist_reasm.h"

#define HZ      1000000ull
#define MAX_DLV 4096

struct dlv {
	uint32_t stream, seq, len;
	uint8_t first, last;
};

static struct {
	uint32_t n;
	struct dlv d[MAX_DLV];
	bool refuse;
	uint8_t copy[IST_WIRE_MAX_FRAME];
} got;

static bool deliver(void *arg, uint32_t stream_id, uint32_t frame_seq, const uint8_t *frame,
		    uint32_t len)
{
	(void)arg;
	if (got.refuse)
		return false;
	assert_true(got.n < MAX_DLV);
	got.d[got.n].stream = stream_id;
	got.d[got.n].seq = frame_seq;
	got.d[got.n].len = len;
	got.d[got.n].first = frame[0];
	got.d[got.n].last = frame[len - 1];
	memcpy(got.copy, frame, len);
	got.n++;
	return true;
}

static struct ist_reasm *mk(uint32_t n_streams, uint32_t slots, uint32_t slot_size)
{
	struct ist_reasm_conf c = {
		.hz = HZ,
		.n_streams = n_streams,
		.slots = slots,
		.slot_size = slot_size,
		.deliver = deliver,
	};
	struct ist_reasm *r;

	memset(&got, 0, sizeof(got));
	r = ist_reasm_create(&c, NULL);
	assert_non_null(r);
	return r;
}

/* Frame content: a function of stream, seq and offset. */
static uint8_t byte_at(uint32_t stream, uint32_t seq, uint32_t off)
{
	return (uint8_t)(stream * 131u + seq * 31u + off * 7u + (off >> 8));
}

static uint8_t buf[IST_WIRE_MAX_FRAME];

static enum ist_reasm_rc frag(struct ist_reasm *r, uint32_t stream, uint32_t seq,
			      uint32_t frame_len, uint32_t off, uint16_t len, uint8_t idx,
			      uint8_t cnt)
{
	struct ist_frag f = {
		.stream_id = stream,
		.frame_seq = seq,
		.frame_len = frame_len,
		.frag_off = off,
		.frag_len = len,
		.frag_idx = idx,
		.frag_cnt = cnt,
		.data = buf,
	};
	uint32_t i;

	for (i = 0; i < len; i++)
		buf[i] = byte_at(stream, seq, off + i);
	return ist_reasm_frag_rx(r, &f);
}

/* A whole frame cut in `cnt` even fragments, sent in the order given (NULL: in order). */
static void frame(struct ist_reasm *r, uint32_t stream, uint32_t seq, uint32_t len, uint8_t cnt,
		  const uint8_t *order, enum ist_reasm_rc want_last)
{
	uint32_t piece = (len + cnt - 1) / cnt;
	uint8_t k;

	for (k = 0; k < cnt; k++) {
		uint8_t i = order ? order[k] : k;
		uint32_t off = i * piece;
		uint32_t l = i == cnt - 1 ? len - off : piece;

		assert_int_equal(frag(r, stream, seq, len, off, (uint16_t)l, i, cnt),
				 k == cnt - 1 ? want_last : IST_REASM_OK);
	}
}

static void check_bytes(uint32_t stream, uint32_t seq, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		if (got.copy[i] != byte_at(stream, seq, i))
			fail_msg("stream %u frame %u byte %u differs", stream, seq, i);
}

static void test_create(void **state)
{
	struct ist_reasm_conf c = {
		.hz = HZ, .n_streams = 4, .slots = 8, .slot_size = 65536, .deliver = deliver};
	struct ist_reasm *r;

	(void)state;
	assert_true(ist_reasm_memsize(&c) > 4u * 8 * 65536);
	c.n_streams = 4097;
	assert_int_equal(ist_reasm_memsize(&c), 0);
	assert_null(ist_reasm_create(&c, NULL));
	assert_int_equal(errno, EINVAL);
	c.n_streams = 4;
	c.slot_size = IST_WIRE_MAX_FRAME + 1;
	assert_null(ist_reasm_create(&c, NULL));
	c.slot_size = 1000;
	c.slots = 0;
	assert_null(ist_reasm_create(&c, NULL));
	c.slots = 3; /* need not be a power of two */
	c.deliver = NULL;
	assert_null(ist_reasm_create(&c, NULL));
	c.deliver = deliver;
	r = ist_reasm_create(&c, NULL);
	assert_non_null(r);
	assert_int_equal(ist_reasm_next_seq(r, 3), 0);
	assert_int_equal(ist_reasm_limit_seq(r, 3), 3);
	assert_string_equal(ist_reasm_rc_str(IST_REASM_E_NOSLOT),
			    "no slot: beyond the stream's credit");
	ist_reasm_free(r);
}

static void test_single_fragment(void **state)
{
	struct ist_reasm *r = mk(2, 4, 2048);
	uint32_t s;

	(void)state;
	for (s = 0; s < 3; s++) {
		frame(r, 1, s, 100 + s, 1, NULL, IST_REASM_OK);
		assert_int_equal(got.n, s + 1);
		assert_int_equal(got.d[s].stream, 1);
		assert_int_equal(got.d[s].seq, s);
		assert_int_equal(got.d[s].len, 100 + s);
		check_bytes(1, s, 100 + s);
	}
	assert_int_equal(ist_reasm_next_seq(r, 1), 3);
	assert_int_equal(ist_reasm_next_seq(r, 0), 0);
	assert_int_equal(r->delivered, 3);
	assert_int_equal(r->bytes, 303);
	ist_reasm_free(r);
}

static void test_multi_fragment_out_of_order(void **state)
{
	static const uint8_t order[] = {3, 1, 0, 2};
	static uint8_t rev[64];
	struct ist_reasm *r = mk(1, 4, 65536);
	int i;

	(void)state;
	frame(r, 0, 0, 5000, 4, order, IST_REASM_OK);
	assert_int_equal(got.n, 1);
	check_bytes(0, 0, 5000);
	/* 64 fragments, last first, up to the maximum frame size */
	for (i = 0; i < 64; i++)
		rev[i] = (uint8_t)(63 - i);
	frame(r, 0, 1, IST_WIRE_MAX_FRAME, 64, rev, IST_REASM_OK);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.d[1].len, IST_WIRE_MAX_FRAME);
	check_bytes(0, 1, IST_WIRE_MAX_FRAME);
	/* uneven fragments: 1 byte, then the rest */
	assert_int_equal(frag(r, 0, 2, 10, 1, 9, 1, 2), IST_REASM_OK);
	assert_int_equal(frag(r, 0, 2, 10, 0, 1, 0, 2), IST_REASM_OK);
	assert_int_equal(got.n, 3);
	check_bytes(0, 2, 10);
	ist_reasm_free(r);
}

static void test_in_order_release_across_frames(void **state)
{
	struct ist_reasm *r = mk(2, 8, 4096);

	(void)state;
	/* frames 3, 2, 1 complete before 0: nothing is delivered until 0 */
	frame(r, 0, 3, 300, 2, NULL, IST_REASM_OK);
	frame(r, 0, 2, 200, 1, NULL, IST_REASM_OK);
	frame(r, 1, 0, 50, 1, NULL, IST_REASM_OK); /* other stream: independent */
	frame(r, 0, 1, 100, 3, NULL, IST_REASM_OK);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.d[0].stream, 1);
	frame(r, 0, 0, 10, 1, NULL, IST_REASM_OK);
	assert_int_equal(got.n, 5);
	assert_int_equal(got.d[1].seq, 0);
	assert_int_equal(got.d[2].seq, 1);
	assert_int_equal(got.d[3].seq, 2);
	assert_int_equal(got.d[4].seq, 3);
	assert_int_equal(got.d[4].len, 300);
	ist_reasm_free(r);
}

static void test_duplicates(void **state)
{
	struct ist_reasm *r = mk(1, 4, 4096);

	(void)state;
	assert_int_equal(frag(r, 0, 1, 200, 0, 100, 0, 2), IST_REASM_OK);
	assert_int_equal(frag(r, 0, 1, 200, 0, 100, 0, 2), IST_REASM_DUP_FRAG);
	assert_int_equal(frag(r, 0, 1, 200, 100, 100, 1, 2), IST_REASM_OK);
	/* frame 1 complete but waiting for 0: its fragments are duplicates */
	assert_int_equal(frag(r, 0, 1, 200, 100, 100, 1, 2), IST_REASM_DUP_FRAG);
	assert_int_equal(got.n, 0);
	assert_int_equal(frag(r, 0, 0, 10, 0, 10, 0, 1), IST_REASM_OK);
	assert_int_equal(got.n, 2);
	/* delivered: below next_seq */
	assert_int_equal(frag(r, 0, 0, 10, 0, 10, 0, 1), IST_REASM_DUP_FRAME);
	assert_int_equal(frag(r, 0, 1, 200, 0, 100, 0, 2), IST_REASM_DUP_FRAME);
	assert_int_equal(got.n, 2); /* never a frame twice */
	assert_int_equal(r->rc_count[IST_REASM_DUP_FRAG], 2);
	assert_int_equal(r->rc_count[IST_REASM_DUP_FRAME], 2);
	/* duplicates after release too */
	assert_int_equal(ist_reasm_release(r, 0, 0, 0), 0);
	assert_int_equal(ist_reasm_release(r, 0, 1, 0), 0);
	assert_int_equal(frag(r, 0, 1, 200, 0, 100, 0, 2), IST_REASM_DUP_FRAME);
	assert_int_equal(got.n, 2);
	ist_reasm_free(r);
}

static void test_rejects(void **state)
{
	struct ist_reasm *r = mk(2, 4, 1000);

	(void)state;
	assert_int_equal(frag(r, 2, 0, 10, 0, 10, 0, 1), IST_REASM_E_STREAM);
	/* header in itself */
	assert_int_equal(frag(r, 0, 0, 10, 0, 10, 0, 0), IST_REASM_E_HDR);   /* cnt 0 */
	assert_int_equal(frag(r, 0, 0, 10, 0, 10, 65, 66), IST_REASM_E_HDR); /* cnt > 64 */
	assert_int_equal(frag(r, 0, 0, 10, 0, 5, 2, 2), IST_REASM_E_HDR);    /* idx >= cnt */
	assert_int_equal(frag(r, 0, 0, 10, 5, 6, 1, 2), IST_REASM_E_HDR);    /* past frame_len */
	assert_int_equal(frag(r, 0, 0, 10, 1, 4, 0, 2), IST_REASM_E_HDR);    /* idx 0 not at 0 */
	assert_int_equal(frag(r, 0, 0, 10, 5, 4, 1, 2), IST_REASM_E_HDR);    /* last short */
	assert_int_equal(frag(r, 0, 0, 10, 0, 0, 0, 2), IST_REASM_E_HDR);    /* empty */
	assert_int_equal(frag(r, 0, 0, 0, 0, 0, 0, 1), IST_REASM_E_HDR);     /* empty frame */
	assert_int_equal(frag(r, 0, 0, 1001, 0, 1001, 0, 1), IST_REASM_E_SIZE);
	/* against the frame's first fragment */
	assert_int_equal(frag(r, 0, 0, 30, 0, 10, 0, 3), IST_REASM_OK);
	assert_int_equal(frag(r, 0, 0, 31, 10, 10, 1, 3), IST_REASM_E_MISMATCH); /* frame_len */
	assert_int_equal(frag(r, 0, 0, 30, 10, 10, 1, 4), IST_REASM_E_MISMATCH); /* frag_cnt */
	assert_int_equal(frag(r, 0, 0, 30, 0, 9, 0, 3),
			 IST_REASM_E_MISMATCH); /* same idx, other len */
	assert_int_equal(frag(r, 0, 0, 30, 9, 10, 1, 3), IST_REASM_E_OVERLAP); /* into idx 0 */
	assert_int_equal(frag(r, 0, 0, 30, 20, 10, 2, 3), IST_REASM_OK);
	assert_int_equal(frag(r, 0, 0, 30, 10, 11, 1, 3), IST_REASM_E_OVERLAP); /* into idx 2 */
	assert_int_equal(frag(r, 0, 0, 30, 25, 5, 1, 3),
			 IST_REASM_E_OVERLAP); /* offsets out of order */
	assert_int_equal(got.n, 0);
	assert_int_equal(frag(r, 0, 0, 30, 10, 10, 1, 3), IST_REASM_OK);
	assert_int_equal(got.n, 1);
	check_bytes(0, 0, 30);
	/* gap: every fragment in but bytes 4..5 never covered; the frame is dropped */
	assert_int_equal(frag(r, 0, 1, 10, 0, 4, 0, 2), IST_REASM_OK);
	assert_int_equal(frag(r, 0, 1, 10, 6, 4, 1, 2), IST_REASM_E_GAP);
	assert_int_equal(got.n, 1);
	/* ... and can be received again correctly */
	frame(r, 0, 1, 10, 2, NULL, IST_REASM_OK);
	assert_int_equal(got.n, 2);
	assert_int_equal(r->rc_count[IST_REASM_E_HDR], 8);
	assert_int_equal(r->rc_count[IST_REASM_E_MISMATCH], 3);
	assert_int_equal(r->rc_count[IST_REASM_E_OVERLAP], 3);
	assert_int_equal(r->rc_count[IST_REASM_E_GAP], 1);
	assert_int_equal(r->rc_count[IST_REASM_E_SIZE], 1);
	assert_int_equal(r->rc_count[IST_REASM_E_STREAM], 1);
	ist_reasm_free(r);
}

static void test_slot_exhaustion_and_release(void **state)
{
	struct ist_reasm *r = mk(1, 4, 1000);

	(void)state;
	/* slots 0..3; frame 4 has no slot until 0 is released */
	assert_int_equal(frag(r, 0, 4, 10, 0, 10, 0, 1), IST_REASM_E_NOSLOT);
	frame(r, 0, 0, 10, 1, NULL, IST_REASM_OK);
	frame(r, 0, 1, 10, 1, NULL, IST_REASM_OK);
	frame(r, 0, 2, 10, 1, NULL, IST_REASM_OK);
	frame(r, 0, 3, 10, 1, NULL, IST_REASM_OK);
	assert_int_equal(got.n, 4);
	assert_int_equal(frag(r, 0, 4, 10, 0, 10, 0, 1), IST_REASM_E_NOSLOT);
	assert_int_equal(r->rc_count[IST_REASM_E_NOSLOT], 2);
	assert_int_equal(ist_reasm_limit_seq(r, 0), 4);
	/* releasing 1 first frees nothing: 0 still holds the start of the window */
	assert_int_equal(ist_reasm_release(r, 0, 1, 0), 0);
	assert_int_equal(ist_reasm_limit_seq(r, 0), 4);
	assert_int_equal(frag(r, 0, 4, 10, 0, 10, 0, 1), IST_REASM_E_NOSLOT);
	/* releasing 0 frees 0 and 1 */
	assert_int_equal(ist_reasm_release(r, 0, 0, 0), 0);
	assert_int_equal(ist_reasm_limit_seq(r, 0), 6);
	frame(r, 0, 4, 10, 1, NULL, IST_REASM_OK);
	frame(r, 0, 5, 10, 1, NULL, IST_REASM_OK);
	assert_int_equal(frag(r, 0, 6, 10, 0, 10, 0, 1), IST_REASM_E_NOSLOT);
	assert_int_equal(got.n, 6);
	/* no double release; nothing undelivered can be released */
	assert_int_equal(ist_reasm_release(r, 0, 0, 0), -EALREADY);
	assert_int_equal(ist_reasm_release(r, 0, 1, 0), -EALREADY);
	assert_int_equal(ist_reasm_release(r, 0, 3, 0), 0);
	assert_int_equal(ist_reasm_release(r, 0, 3, 0), -EALREADY);
	assert_int_equal(ist_reasm_release(r, 0, 6, 0), -EINVAL);
	assert_int_equal(ist_reasm_release(r, 0, 100, 0), -EINVAL);
	assert_int_equal(ist_reasm_release(r, 1, 0, 0), -EINVAL);
	assert_int_equal(r->released, 3);
	ist_reasm_free(r);
}

static void test_stalled_stream_isolated(void **state)
{
	struct ist_reasm *r = mk(3, 4, 2000);
	uint32_t seq, i, n1 = 0;

	(void)state;
	/* stream 1's consumer never releases; streams 0 and 2 release at once */
	for (seq = 0; seq < 1000; seq++) {
		uint32_t s;

		for (s = 0; s < 3; s++) {
			enum ist_reasm_rc rc = frag(r, s, seq, 1500, 0, 1500, 0, 1);

			if (s == 1) {
				assert_int_equal(rc, seq < 4 ? IST_REASM_OK : IST_REASM_E_NOSLOT);
			} else {
				assert_int_equal(rc, IST_REASM_OK);
				assert_int_equal(ist_reasm_release(r, s, seq, seq), 0);
			}
		}
	}
	for (i = 0; i < got.n; i++)
		n1 += got.d[i].stream == 1;
	assert_int_equal(n1, 4);
	assert_int_equal(got.n, 2 * 1000 + 4);
	assert_int_equal(ist_reasm_next_seq(r, 0), 1000);
	assert_int_equal(ist_reasm_next_seq(r, 1), 4);
	assert_int_equal(ist_reasm_limit_seq(r, 1), 4);
	assert_int_equal(ist_reasm_limit_seq(r, 2), 1004);
	ist_reasm_free(r);
}

static void test_refused_delivery(void **state)
{
	struct ist_reasm *r = mk(1, 4, 1000);

	(void)state;
	got.refuse = true;
	frame(r, 0, 0, 10, 1, NULL, IST_REASM_OK);
	frame(r, 0, 1, 10, 1, NULL, IST_REASM_OK);
	assert_int_equal(got.n, 0);
	assert_int_equal(r->refused, 1); /* frame 1 was never offered: 0 is first */
	assert_int_equal(ist_reasm_next_seq(r, 0), 0);
	assert_int_equal(ist_reasm_deliver(r, 0), 0);
	got.refuse = false;
	assert_int_equal(ist_reasm_deliver(r, 0), 2);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.d[0].seq, 0);
	assert_int_equal(got.d[1].seq, 1);
	assert_int_equal(ist_reasm_deliver(r, 0), 0);
	assert_int_equal(ist_reasm_deliver(r, 7), 0);
	ist_reasm_free(r);
}

static void test_epoch_reset(void **state)
{
	struct ist_reasm *r = mk(2, 4, 1000);
	struct ist_credit out[IST_WIRE_MAX_CREDITS];

	(void)state;
	frame(r, 0, 0, 10, 1, NULL, IST_REASM_OK);                      /* delivered, held */
	frame(r, 0, 2, 10, 1, NULL, IST_REASM_OK);                      /* complete, undelivered */
	assert_int_equal(frag(r, 0, 1, 20, 0, 10, 0, 2), IST_REASM_OK); /* partial */
	assert_int_equal(ist_credit_rx_build(r, out, IST_WIRE_MAX_CREDITS, 0), 2);
	assert_false(ist_credit_rx_due(r, 1));
	ist_reasm_epoch_reset(r, 5);
	assert_int_equal(r->dropped, 2);
	assert_int_equal(ist_reasm_next_seq(r, 0), 1);
	/* the restarted sender cuts frame 1 differently: accepted */
	frame(r, 0, 1, 30, 3, NULL, IST_REASM_OK);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.d[1].len, 30);
	/* frame 2 must come again */
	frame(r, 0, 2, 10, 1, NULL, IST_REASM_OK);
	assert_int_equal(got.n, 3);
	/* the held frame can still be released */
	assert_int_equal(ist_reasm_release(r, 0, 0, 5), 0);
	/* and every stream is restated */
	assert_true(ist_credit_rx_due(r, 5));
	assert_int_equal(ist_credit_rx_build(r, out, IST_WIRE_MAX_CREDITS, 5), 3);
	ist_reasm_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_single_fragment),
		cmocka_unit_test(test_multi_fragment_out_of_order),
		cmocka_unit_test(test_in_order_release_across_frames),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_slot_exhaustion_and_release),
		cmocka_unit_test(test_stalled_stream_isolated),
		cmocka_unit_test(test_refused_delivery),
		cmocka_unit_test(test_epoch_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
