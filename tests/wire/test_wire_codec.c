/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the wire codec: a round trip and the byte layout of every
 * packet type, and every class of decoder error (truncated, oversized, bad
 * magic/version/type, payload_len against the datagram and the type, tag
 * presence, ACK ranges, fragment geometry, frame header bounds, CRC32C).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ist_wire.h"

static uint8_t pkt[IST_WIRE_MAX_PKT + 64];

/* Big-endian readers, independent of the codec, to check the layout. */
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

static void hdr_eq(const struct ist_hdr *a, const struct ist_hdr *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->epoch, b->epoch);
	assert_int_equal(a->peer_epoch, b->peer_epoch);
	assert_int_equal(a->pn, b->pn);
	assert_int_equal(a->key_id, b->key_id);
	assert_int_equal(a->payload_len, b->payload_len);
}

static void frame_eq(const struct ist_frame *a, const struct ist_frame *b)
{
	assert_int_equal(a->stream_id, b->stream_id);
	assert_int_equal(a->record_count, b->record_count);
	assert_int_equal(a->first_offset, b->first_offset);
	assert_int_equal(a->codec, b->codec);
	assert_int_equal(a->dict_id, b->dict_id);
	assert_int_equal(a->uncompressed_len, b->uncompressed_len);
	assert_int_equal(a->body_len, b->body_len);
	assert_int_equal(a->crc32c, b->crc32c);
}

static struct ist_hdr hdr_of(uint8_t type, uint16_t payload_len, bool auth)
{
	struct ist_hdr h = {
		.type = type,
		.flags = auth ? IST_WIRE_F_AUTH : 0,
		.epoch = 0x11223344,
		.peer_epoch = 0x55667788,
		.pn = 0x0102030405060708ull,
		.key_id = auth ? 7 : 0,
		.payload_len = payload_len,
	};
	return h;
}

/* A datagram of `type` with a zero payload of `plen` bytes (+ tag bytes). */
static size_t mk_pkt(uint8_t type, uint16_t plen, bool auth)
{
	struct ist_hdr h = hdr_of(type, plen, auth);

	memset(pkt, 0, sizeof(pkt));
	assert_int_equal(ist_wire_hdr_encode(pkt, sizeof(pkt), &h), IST_WIRE_HDR_LEN);
	return IST_WIRE_HDR_LEN + plen + (auth ? IST_WIRE_TAG_LEN : 0);
}

static void test_err_names(void **state)
{
	const char *seen[IST_WIRE_ERR_COUNT];
	int i, j;

	(void)state;
	for (i = 0; i < IST_WIRE_ERR_COUNT; i++) {
		seen[i] = ist_wire_err_name(-i);
		assert_string_not_equal(seen[i], "unknown");
		assert_string_equal(seen[i], ist_wire_err_name(i));
		for (j = 0; j < i; j++)
			assert_string_not_equal(seen[i], seen[j]);
	}
	assert_string_equal(ist_wire_err_name(0), "ok");
	assert_string_equal(ist_wire_err_name(IST_WIRE_E_TRUNCATED), "truncated");
	assert_string_equal(ist_wire_err_name(IST_WIRE_E_REPLAYED), "replayed");
	assert_string_equal(ist_wire_err_name(-IST_WIRE_ERR_COUNT), "unknown");
	assert_string_equal(ist_wire_err_name(-1000), "unknown");
	assert_string_equal(ist_wire_err_name(-2147483647 - 1), "unknown");
}

static void test_hdr_roundtrip(void **state)
{
	struct ist_hdr h = hdr_of(IST_WIRE_ACK, 0x1234, true), d;

	(void)state;
	assert_int_equal(ist_wire_hdr_encode(pkt, sizeof(pkt), &h), 32);
	assert_memory_equal(pkt, "ISTM", 4);
	assert_int_equal(pkt[4], IST_WIRE_VERSION);
	assert_int_equal(pkt[5], IST_WIRE_ACK);
	assert_int_equal(be(pkt + 6, 2), IST_WIRE_F_AUTH);
	assert_int_equal(be(pkt + 8, 4), 0x11223344);
	assert_int_equal(be(pkt + 12, 4), 0x55667788);
	assert_int_equal(be(pkt + 16, 8), 0x0102030405060708ull);
	assert_int_equal(pkt[24], 7);
	assert_int_equal(pkt[25], 0);
	assert_int_equal(be(pkt + 26, 2), 0x1234);
	assert_int_equal(be(pkt + 28, 4), 0);
	assert_int_equal(ist_wire_hdr_decode(pkt, 32, &d), 0);
	hdr_eq(&h, &d);
	/* Every type, keyed and not. */
	for (uint8_t t = IST_WIRE_HELLO; t < IST_WIRE_TYPE_MAX; t++) {
		for (int a = 0; a < 2; a++) {
			h = hdr_of(t, 9, a);
			assert_int_equal(ist_wire_hdr_encode(pkt, 32, &h), 32);
			assert_int_equal(ist_wire_hdr_decode(pkt, 32, &d), 0);
			hdr_eq(&h, &d);
		}
	}
}

static void test_hdr_errors(void **state)
{
	struct ist_hdr h = hdr_of(IST_WIRE_DATA, 100, false), d;

	(void)state;
	assert_int_equal(ist_wire_hdr_encode(pkt, 31, &h), IST_WIRE_E_NO_SPACE);
	h.type = 0;
	assert_int_equal(ist_wire_hdr_encode(pkt, 32, &h), IST_WIRE_E_BAD_TYPE);
	h.type = IST_WIRE_TYPE_MAX;
	assert_int_equal(ist_wire_hdr_encode(pkt, 32, &h), IST_WIRE_E_BAD_TYPE);
	h = hdr_of(IST_WIRE_DATA, 100, false);
	h.epoch = 0;
	assert_int_equal(ist_wire_hdr_encode(pkt, 32, &h), IST_WIRE_E_BAD_FIELD);
	h = hdr_of(IST_WIRE_DATA, 100, false);
	h.key_id = 3;
	assert_int_equal(ist_wire_hdr_encode(pkt, 32, &h), IST_WIRE_E_BAD_TAG);

#define MUTATE(off, val, want)                                            \
	do {                                                              \
		h = hdr_of(IST_WIRE_DATA, 100, false);                    \
		ist_wire_hdr_encode(pkt, 32, &h);                         \
		pkt[off] = (val);                                         \
		assert_int_equal(ist_wire_hdr_decode(pkt, 32, &d), want); \
	} while (0)

	h = hdr_of(IST_WIRE_DATA, 100, false);
	ist_wire_hdr_encode(pkt, 32, &h);
	assert_int_equal(ist_wire_hdr_decode(pkt, 31, &d), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_hdr_decode(pkt, 0, &d), IST_WIRE_E_TRUNCATED);
	MUTATE(0, 'X', IST_WIRE_E_BAD_MAGIC);
	MUTATE(3, 'm', IST_WIRE_E_BAD_MAGIC);
	MUTATE(4, 0, IST_WIRE_E_BAD_VERSION);
	MUTATE(4, 2, IST_WIRE_E_BAD_VERSION);
	MUTATE(5, 0, IST_WIRE_E_BAD_TYPE);
	MUTATE(5, IST_WIRE_TYPE_MAX, IST_WIRE_E_BAD_TYPE);
	MUTATE(5, 0xff, IST_WIRE_E_BAD_TYPE);
	MUTATE(6, 0x80, IST_WIRE_E_BAD_FIELD); /* unknown flag */
	MUTATE(7, 0x02, IST_WIRE_E_BAD_FIELD);
	MUTATE(25, 1, IST_WIRE_E_BAD_FIELD); /* reserved */
	MUTATE(31, 1, IST_WIRE_E_BAD_FIELD); /* reserved2 */
	MUTATE(7, 0x01, IST_WIRE_E_BAD_TAG); /* AUTH without key_id */
	MUTATE(24, 5, IST_WIRE_E_BAD_TAG);   /* key_id without AUTH */
	/* epoch 0 and pn 0 */
	h = hdr_of(IST_WIRE_DATA, 100, false);
	ist_wire_hdr_encode(pkt, 32, &h);
	memset(pkt + 8, 0, 4);
	assert_int_equal(ist_wire_hdr_decode(pkt, 32, &d), IST_WIRE_E_BAD_FIELD);
	ist_wire_hdr_encode(pkt, 32, &h);
	memset(pkt + 16, 0, 8);
	assert_int_equal(ist_wire_hdr_decode(pkt, 32, &d), IST_WIRE_E_BAD_FIELD);
	/* peer_epoch 0 is "not known yet": fine. */
	ist_wire_hdr_encode(pkt, 32, &h);
	memset(pkt + 12, 0, 4);
	assert_int_equal(ist_wire_hdr_decode(pkt, 32, &d), 0);
#undef MUTATE
}

static void test_pkt_check_ok(void **state)
{
	static const uint16_t plen[IST_WIRE_TYPE_MAX] = {
		[IST_WIRE_HELLO] = 80,           [IST_WIRE_DATA] = 21,
		[IST_WIRE_ACK] = 24 + 16 * 16,   [IST_WIRE_HEARTBEAT] = 0,
		[IST_WIRE_CREDIT] = 4 + 12 * 64, [IST_WIRE_CLOSE] = 4,
	};
	struct ist_hdr h;
	size_t len;

	(void)state;
	for (uint8_t t = IST_WIRE_HELLO; t < IST_WIRE_TYPE_MAX; t++) {
		len = mk_pkt(t, plen[t], false);
		assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), 0);
		assert_int_equal(h.type, t);
		assert_int_equal(h.payload_len, plen[t]);
		assert_ptr_equal(ist_wire_pkt_payload(pkt), pkt + 32);
		len = mk_pkt(t, plen[t], true);
		assert_int_equal(ist_wire_pkt_check(pkt, len, true, &h), 0);
		assert_int_equal(h.key_id, 7);
	}
	/* Largest datagram. */
	len = mk_pkt(IST_WIRE_DATA, IST_WIRE_MAX_PKT - 32 - 16, true);
	assert_int_equal(len, IST_WIRE_MAX_PKT);
	assert_int_equal(ist_wire_pkt_check(pkt, len, true, &h), 0);
}

static void test_pkt_check_errors(void **state)
{
	struct ist_hdr h;
	size_t len;

	(void)state;
	len = mk_pkt(IST_WIRE_CLOSE, 4, false);
	assert_int_equal(ist_wire_pkt_check(pkt, 20, false, &h), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_pkt_check(pkt, len - 1, false, &h), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_pkt_check(pkt, len + 1, false, &h), IST_WIRE_E_BAD_LENGTH);
	pkt[0] = 0;
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_MAGIC);
	/* Oversized whatever the header says. */
	len = mk_pkt(IST_WIRE_DATA, IST_WIRE_MAX_PKT - 31, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_OVERSIZED);
	/* Tag presence: sealed packet without its tag, cleartext with extra bytes. */
	len = mk_pkt(IST_WIRE_CLOSE, 4, true);
	assert_int_equal(ist_wire_pkt_check(pkt, len - 16, true, &h), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_pkt_check(pkt, len - 1, true, &h), IST_WIRE_E_TRUNCATED);
	len = mk_pkt(IST_WIRE_CLOSE, 4, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len + 16, false, &h), IST_WIRE_E_BAD_LENGTH);
	/* Keying policy. */
	len = mk_pkt(IST_WIRE_CLOSE, 4, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, true, &h), IST_WIRE_E_BAD_TAG);
	len = mk_pkt(IST_WIRE_CLOSE, 4, true);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_TAG);
	/* payload_len against the type. */
	len = mk_pkt(IST_WIRE_HELLO, 79, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_LENGTH);
	len = mk_pkt(IST_WIRE_HELLO, 81, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_LENGTH);
	len = mk_pkt(IST_WIRE_HEARTBEAT, 1, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_LENGTH);
	len = mk_pkt(IST_WIRE_CLOSE, 5, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_LENGTH);
	len = mk_pkt(IST_WIRE_ACK, 23, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_LENGTH);
	len = mk_pkt(IST_WIRE_ACK, 24 + 15, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_LENGTH);
	len = mk_pkt(IST_WIRE_ACK, 24 + 17 * 16, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_LENGTH);
	len = mk_pkt(IST_WIRE_CREDIT, 3, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_LENGTH);
	len = mk_pkt(IST_WIRE_CREDIT, 4 + 11, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_LENGTH);
	len = mk_pkt(IST_WIRE_CREDIT, 4 + 65 * 12, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_LENGTH);
	len = mk_pkt(IST_WIRE_DATA, 20, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_LENGTH);
	len = mk_pkt(IST_WIRE_DATA, 0, false);
	assert_int_equal(ist_wire_pkt_check(pkt, len, false, &h), IST_WIRE_E_BAD_LENGTH);
}

static struct ist_hello hello_of(void)
{
	struct ist_hello hl = {
		.appliance = "eu-west-1a",
		.region = "eu-west",
		.proto_version = 1,
		.caps = IST_WIRE_CAP_LZ4 | IST_WIRE_CAP_AEAD | 0x8000,
		.mtu = 1472,
		.started_unix_ms = 1700000000123ull,
	};
	return hl;
}

static void test_hello(void **state)
{
	struct ist_hello hl = hello_of(), d;
	uint8_t b[IST_WIRE_HELLO_LEN + 1], save[IST_WIRE_HELLO_LEN];

	(void)state;
	assert_int_equal(ist_wire_hello_encode(b, sizeof(b), &hl), 80);
	assert_string_equal((char *)b, "eu-west-1a");
	assert_int_equal(b[10], 0);
	assert_int_equal(b[31], 0);
	assert_string_equal((char *)b + 32, "eu-west");
	assert_int_equal(be(b + 64, 2), 1);
	assert_int_equal(be(b + 66, 2), 0x8009);
	assert_int_equal(be(b + 68, 4), 1472);
	assert_int_equal(be(b + 72, 8), 1700000000123ull);
	assert_int_equal(ist_wire_hello_decode(b, 80, &d), 0);
	assert_memory_equal(&hl, &d, sizeof(hl));
	memcpy(save, b, 80);

	assert_int_equal(ist_wire_hello_decode(b, 79, &d), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_hello_decode(b, 81, &d), IST_WIRE_E_BAD_LENGTH);
#define MUTATE(off, n, val)                                                               \
	do {                                                                              \
		memcpy(b, save, 80);                                                      \
		put_be(b + (off), n, val);                                                \
		assert_int_equal(ist_wire_hello_decode(b, 80, &d), IST_WIRE_E_BAD_FIELD); \
	} while (0)
	MUTATE(20, 1, 'x');  /* bytes after the NUL */
	MUTATE(0, 1, 0);     /* empty name */
	MUTATE(32, 1, 0);    /* empty region */
	MUTATE(3, 1, ' ');   /* not printable */
	MUTATE(33, 1, 0x7f); /* not printable */
	MUTATE(35, 1, 0xc3); /* not ASCII */
	MUTATE(64, 2, 0);    /* proto_version */
	MUTATE(68, 4, 1091); /* mtu below IST_WIRE_MIN_PKT */
	MUTATE(68, 4, 9189); /* mtu above IST_WIRE_MAX_PKT */
	MUTATE(72, 8, 0);    /* started_unix_ms */
#undef MUTATE
	memcpy(b, save, 80);
	memset(b, 'a', 32); /* 32 characters: no terminator */
	assert_int_equal(ist_wire_hello_decode(b, 80, &d), IST_WIRE_E_BAD_FIELD);
	memset(b, 'a', 31);
	b[31] = 0;
	assert_int_equal(ist_wire_hello_decode(b, 80, &d), 0);
	assert_int_equal(strlen(d.appliance), 31);
	/* Mtu bounds are inclusive. */
	put_be(b + 68, 4, IST_WIRE_MIN_PKT);
	assert_int_equal(ist_wire_hello_decode(b, 80, &d), 0);
	put_be(b + 68, 4, IST_WIRE_MAX_PKT);
	assert_int_equal(ist_wire_hello_decode(b, 80, &d), 0);

	assert_int_equal(ist_wire_hello_encode(b, 79, &hl), IST_WIRE_E_NO_SPACE);
	memset(hl.appliance, 'a', sizeof(hl.appliance));
	assert_int_equal(ist_wire_hello_encode(b, 80, &hl), IST_WIRE_E_BAD_FIELD);
	hl = hello_of();
	hl.mtu = 500;
	assert_int_equal(ist_wire_hello_encode(b, 80, &hl), IST_WIRE_E_BAD_FIELD);
}

static struct ist_ack ack_of(unsigned int n)
{
	struct ist_ack a = {.cum = 100, .delay_us = 250, .n_ranges = (uint8_t)n};
	uint64_t top = 100 + 10 * n + 5;
	unsigned int i;

	/* Ranges of 5 with gaps of 5 above cum, highest first. */
	for (i = 0; i < n; i++) {
		a.ranges[i].end = top - 10 * i;
		a.ranges[i].start = a.ranges[i].end - 4;
	}
	a.largest = n ? a.ranges[0].end : a.cum - 1;
	return a;
}

static void test_ack_roundtrip(void **state)
{
	uint8_t b[IST_WIRE_ACK_LEN + IST_WIRE_MAX_SACK * IST_WIRE_RANGE_LEN];
	struct ist_ack a, d;
	unsigned int n;

	(void)state;
	a = ack_of(2);
	assert_int_equal(ist_wire_ack_encode(b, sizeof(b), &a), 24 + 32);
	assert_int_equal(be(b, 8), 100);
	assert_int_equal(be(b + 8, 8), 125);
	assert_int_equal(be(b + 16, 4), 250);
	assert_int_equal(b[20], 2);
	assert_int_equal(be(b + 21, 3), 0);
	assert_int_equal(be(b + 24, 8), 121);
	assert_int_equal(be(b + 32, 8), 125);
	assert_int_equal(be(b + 40, 8), 111);
	assert_int_equal(be(b + 48, 8), 115);
	for (n = 0; n <= IST_WIRE_MAX_SACK; n++) {
		int len;

		a = ack_of(n);
		len = ist_wire_ack_encode(b, sizeof(b), &a);
		assert_int_equal(len, 24 + 16 * n);
		memset(&d, 0xa5, sizeof(d));
		assert_int_equal(ist_wire_ack_decode(b, (size_t)len, &d), 0);
		assert_int_equal(d.cum, a.cum);
		assert_int_equal(d.largest, a.largest);
		assert_int_equal(d.delay_us, a.delay_us);
		assert_int_equal(d.n_ranges, n);
		assert_memory_equal(d.ranges, a.ranges, n * sizeof(a.ranges[0]));
	}
	/* Nothing received yet: cum 1, largest 0. */
	a = (struct ist_ack){.cum = 1, .largest = 0};
	assert_int_equal(ist_wire_ack_encode(b, sizeof(b), &a), 24);
	assert_int_equal(ist_wire_ack_decode(b, 24, &d), 0);
	/* Single-pn ranges, one-pn gaps, lowest range starting at cum. */
	a = (struct ist_ack){.cum = 10, .largest = 14, .n_ranges = 3};
	a.ranges[0] = (struct ist_range){14, 14};
	a.ranges[1] = (struct ist_range){12, 12};
	a.ranges[2] = (struct ist_range){10, 10};
	assert_int_equal(ist_wire_ack_encode(b, sizeof(b), &a), 24 + 48);
	assert_int_equal(ist_wire_ack_decode(b, 24 + 48, &d), 0);
}

static void test_ack_errors(void **state)
{
	uint8_t b[IST_WIRE_ACK_LEN + (IST_WIRE_MAX_SACK + 1) * IST_WIRE_RANGE_LEN] = {0};
	struct ist_ack a, d;
	int len;

	(void)state;
	a = ack_of(3);
	len = ist_wire_ack_encode(b, sizeof(b), &a);
	assert_int_equal(ist_wire_ack_decode(b, 23, &d), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_ack_decode(b, (size_t)len - 1, &d), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_ack_decode(b, (size_t)len - 16, &d), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_ack_decode(b, (size_t)len + 1, &d), IST_WIRE_E_BAD_LENGTH);
	b[22] = 1;
	assert_int_equal(ist_wire_ack_decode(b, (size_t)len, &d), IST_WIRE_E_BAD_FIELD);
	b[22] = 0;
	b[20] = IST_WIRE_MAX_SACK + 1;
	assert_int_equal(ist_wire_ack_decode(b, sizeof(b), &d), IST_WIRE_E_OVERSIZED);
	b[20] = 0xff;
	assert_int_equal(ist_wire_ack_decode(b, sizeof(b), &d), IST_WIRE_E_OVERSIZED);

#define BAD(mod, want)                                                                            \
	do {                                                                                      \
		a = ack_of(3);                                                                    \
		mod;                                                                              \
		assert_int_equal(ist_wire_ack_check(&a), want);                                   \
		assert_int_equal(ist_wire_ack_encode(b, sizeof(b), &a), want);                    \
		/* The decoder applies the same rules to what arrives. */                         \
		a.n_ranges = a.n_ranges > IST_WIRE_MAX_SACK ? 0 : a.n_ranges;                     \
		put_be(b, 8, a.cum);                                                              \
		put_be(b + 8, 8, a.largest);                                                      \
		b[20] = a.n_ranges;                                                               \
		for (unsigned int i_ = 0; i_ < a.n_ranges; i_++) {                                \
			put_be(b + 24 + 16 * i_, 8, a.ranges[i_].start);                          \
			put_be(b + 32 + 16 * i_, 8, a.ranges[i_].end);                            \
		}                                                                                 \
		if ((want) != IST_WIRE_E_OVERSIZED)                                               \
			assert_int_equal(ist_wire_ack_decode(b, 24 + 16 * a.n_ranges, &d), want); \
	} while (0)

	BAD(a.n_ranges = IST_WIRE_MAX_SACK + 1, IST_WIRE_E_OVERSIZED);
	BAD(a.cum = 0, IST_WIRE_E_BAD_RANGE);
	BAD(a.cum = a.largest + 2, IST_WIRE_E_BAD_RANGE); /* cum above largest + 1 */
	BAD(a.ranges[1].start = a.ranges[1].end + 1, IST_WIRE_E_BAD_RANGE); /* start > end */
	BAD(a.ranges[2].start = a.cum - 1, IST_WIRE_E_BAD_RANGE);           /* below cum */
	BAD(a.ranges[0].end = a.largest - 1, IST_WIRE_E_BAD_RANGE);         /* largest not on top */
	BAD(a.largest = a.ranges[0].end + 1, IST_WIRE_E_BAD_RANGE);
	BAD(a.ranges[1].end = a.ranges[0].start, IST_WIRE_E_BAD_RANGE); /* overlap */
	BAD(a.ranges[1].end = a.ranges[0].start + 2, IST_WIRE_E_BAD_RANGE);
	/* Ascending instead of highest first. */
	BAD(
		do {
			struct ist_range t = a.ranges[0];
			a.ranges[0] = a.ranges[2];
			a.ranges[2] = t;
			a.largest = a.ranges[0].end;
		} while (0),
		IST_WIRE_E_BAD_RANGE);
	/* No ranges, but largest above cum - 1. */
	BAD((a.n_ranges = 0, a.largest = a.cum), IST_WIRE_E_BAD_RANGE);
	BAD((a.n_ranges = 0, a.largest = a.cum - 2), IST_WIRE_E_BAD_RANGE);
#undef BAD
	a = ack_of(3);
	assert_int_equal(ist_wire_ack_encode(b, 24 + 47, &a), IST_WIRE_E_NO_SPACE);
}

static void test_credit(void **state)
{
	uint8_t b[IST_WIRE_CREDIT_HLEN + (IST_WIRE_MAX_CREDITS + 1) * IST_WIRE_CREDIT_LEN];
	struct ist_credit cr[IST_WIRE_MAX_CREDITS + 1], d[IST_WIRE_MAX_CREDITS];
	unsigned int i, n;
	int len;

	(void)state;
	for (i = 0; i <= IST_WIRE_MAX_CREDITS; i++)
		cr[i] = (struct ist_credit){.stream_id = i * 3, .next_seq = i, .limit_seq = i + 64};
	/* A grant across the 2^32 wrap of frame numbers is fine. */
	cr[1] = (struct ist_credit){.stream_id = 9, .next_seq = 0xfffffff0u, .limit_seq = 0x10};
	len = ist_wire_credit_encode(b, sizeof(b), cr, 2);
	assert_int_equal(len, 4 + 24);
	assert_int_equal(be(b, 2), 2);
	assert_int_equal(be(b + 2, 2), 0);
	assert_int_equal(be(b + 4, 4), 0);
	assert_int_equal(be(b + 8, 4), 0);
	assert_int_equal(be(b + 12, 4), 64);
	assert_int_equal(be(b + 16, 4), 9);
	assert_int_equal(be(b + 20, 4), 0xfffffff0u);
	assert_int_equal(be(b + 24, 4), 0x10);
	for (n = 0; n <= IST_WIRE_MAX_CREDITS; n += 16) {
		len = ist_wire_credit_encode(b, sizeof(b), cr, n);
		assert_int_equal(len, 4 + 12 * n);
		assert_int_equal(ist_wire_credit_decode(b, (size_t)len, d, &i), 0);
		assert_int_equal(i, n);
		assert_memory_equal(d, cr, n * sizeof(cr[0]));
	}

	len = ist_wire_credit_encode(b, sizeof(b), cr, 3);
	assert_int_equal(ist_wire_credit_decode(b, 3, d, &n), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_credit_decode(b, (size_t)len - 1, d, &n), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_credit_decode(b, (size_t)len + 12, d, &n), IST_WIRE_E_BAD_LENGTH);
	b[3] = 1;
	assert_int_equal(ist_wire_credit_decode(b, (size_t)len, d, &n), IST_WIRE_E_BAD_FIELD);
	b[3] = 0;
	put_be(b + 4 + 12 + 8, 4, cr[1].next_seq - 1); /* limit just before next */
	assert_int_equal(ist_wire_credit_decode(b, (size_t)len, d, &n), IST_WIRE_E_BAD_FIELD);
	put_be(b, 2, IST_WIRE_MAX_CREDITS + 1);
	assert_int_equal(ist_wire_credit_decode(b, sizeof(b), d, &n), IST_WIRE_E_OVERSIZED);
	put_be(b, 2, 0xffff);
	assert_int_equal(ist_wire_credit_decode(b, sizeof(b), d, &n), IST_WIRE_E_OVERSIZED);

	assert_int_equal(ist_wire_credit_encode(b, sizeof(b), cr, IST_WIRE_MAX_CREDITS + 1),
			 IST_WIRE_E_OVERSIZED);
	assert_int_equal(ist_wire_credit_encode(b, 4 + 12 * 3 - 1, cr, 3), IST_WIRE_E_NO_SPACE);
	cr[2].limit_seq = cr[2].next_seq - 1;
	assert_int_equal(ist_wire_credit_encode(b, sizeof(b), cr, 3), IST_WIRE_E_BAD_FIELD);
	/* An empty grant (limit == next) is a valid "stop". */
	cr[2].limit_seq = cr[2].next_seq;
	assert_int_equal(ist_wire_credit_encode(b, sizeof(b), cr, 3), 40);
}

static void test_close(void **state)
{
	uint8_t b[8];
	uint32_t r;

	(void)state;
	for (uint32_t reason = IST_CLOSE_SHUTDOWN; reason <= IST_CLOSE_AUTH; reason++) {
		assert_int_equal(ist_wire_close_encode(b, 4, reason), 4);
		assert_int_equal(be(b, 4), reason);
		assert_int_equal(ist_wire_close_decode(b, 4, &r), 0);
		assert_int_equal(r, reason);
	}
	assert_int_equal(ist_wire_close_decode(b, 3, &r), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_close_decode(b, 5, &r), IST_WIRE_E_BAD_LENGTH);
	put_be(b, 4, 0);
	assert_int_equal(ist_wire_close_decode(b, 4, &r), IST_WIRE_E_BAD_FIELD);
	put_be(b, 4, 4);
	assert_int_equal(ist_wire_close_decode(b, 4, &r), IST_WIRE_E_BAD_FIELD);
	assert_int_equal(ist_wire_close_encode(b, 3, 1), IST_WIRE_E_NO_SPACE);
	assert_int_equal(ist_wire_close_encode(b, 4, 0), IST_WIRE_E_BAD_FIELD);
	assert_int_equal(ist_wire_close_encode(b, 4, 4), IST_WIRE_E_BAD_FIELD);
}

static void test_frag_geometry(void **state)
{
	uint32_t L, off, end;
	uint16_t len;
	uint8_t cnt, i;

	(void)state;
	assert_int_equal(ist_wire_frag_plan(IST_WIRE_MAX_FRAME, 1404, &cnt), 0);
	assert_int_equal(cnt, 47);
	assert_int_equal(ist_wire_frag_plan(100, 1404, &cnt), 0);
	assert_int_equal(cnt, 1);
	assert_int_equal(ist_wire_frag_plan(IST_WIRE_MAX_FRAME, 100000, &cnt), 0);
	assert_int_equal(cnt, 2); /* frag_len is 16 bits */
	assert_int_equal(ist_wire_frag_plan(IST_WIRE_MAX_FRAME, 1024, &cnt), 0);
	assert_int_equal(cnt, 64);
	assert_int_equal(ist_wire_frag_plan(IST_WIRE_MAX_FRAME, 1023, &cnt), IST_WIRE_E_OVERSIZED);
	assert_int_equal(ist_wire_frag_plan(31, 1000, &cnt), IST_WIRE_E_BAD_FIELD);
	assert_int_equal(ist_wire_frag_plan(IST_WIRE_MAX_FRAME + 1, 1000, &cnt),
			 IST_WIRE_E_BAD_FIELD);
	assert_int_equal(ist_wire_frag_plan(100, 0, &cnt), IST_WIRE_E_BAD_FIELD);

	/* Every plan tiles its frame exactly, with fragments <= max. */
	for (L = 32; L <= IST_WIRE_MAX_FRAME; L += L < 300 ? 1 : 997) {
		static const uint32_t maxes[] = {1, 7, 64, 1024, 1404, 8920, 65535};

		for (unsigned int m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
			if (ist_wire_frag_plan(L, maxes[m], &cnt) < 0)
				continue;
			end = 0;
			for (i = 0; i < cnt; i++) {
				assert_int_equal(ist_wire_frag_span(L, cnt, i, &off, &len), 0);
				assert_int_equal(off, end);
				assert_true(len >= 1 && len <= maxes[m]);
				end = off + len;
			}
			assert_int_equal(end, L);
		}
	}
	/* Geometries that leave the last fragment empty are refused, all indexes. */
	assert_int_equal(ist_wire_frag_span(33, 12, 0, &off, &len), IST_WIRE_E_BAD_FRAG);
	assert_int_equal(ist_wire_frag_span(33, 12, 11, &off, &len), IST_WIRE_E_BAD_FRAG);
	assert_int_equal(ist_wire_frag_span(33, 11, 10, &off, &len), 0);
	assert_int_equal(off, 30);
	assert_int_equal(len, 3);
	assert_int_equal(ist_wire_frag_span(100, 0, 0, &off, &len), IST_WIRE_E_BAD_FRAG);
	assert_int_equal(ist_wire_frag_span(100, 2, 2, &off, &len), IST_WIRE_E_BAD_FRAG);
	assert_int_equal(ist_wire_frag_span(100, 65, 0, &off, &len), IST_WIRE_E_BAD_FRAG);
	assert_int_equal(ist_wire_frag_span(31, 1, 0, &off, &len), IST_WIRE_E_BAD_FRAG);
	assert_int_equal(ist_wire_frag_span(IST_WIRE_MAX_FRAME, 1, 0, &off, &len),
			 IST_WIRE_E_BAD_FRAG); /* 65536 bytes do not fit frag_len */
}

static uint8_t frame_bytes[IST_WIRE_MAX_FRAME];

static struct ist_frag frag_of(uint32_t stream, uint32_t L, uint8_t cnt, uint8_t idx)
{
	struct ist_frag f = {.stream_id = stream,
			     .frame_seq = 40 + idx,
			     .frame_len = L,
			     .frag_idx = idx,
			     .frag_cnt = cnt};

	assert_int_equal(ist_wire_frag_span(L, cnt, idx, &f.frag_off, &f.frag_len), 0);
	f.data = frame_bytes + f.frag_off;
	return f;
}

static void test_data_walk(void **state)
{
	struct ist_frag in[3], out;
	struct ist_wire_frag_iter it;
	uint8_t *b = pkt;
	size_t len = 0;
	int i, rc;

	(void)state;
	for (i = 0; i < (int)sizeof(frame_bytes); i++)
		frame_bytes[i] = (uint8_t)(i * 7 + 3);
	in[0] = frag_of(1, 3000, 3, 2);
	in[1] = frag_of(2, 100, 1, 0);
	in[2] = frag_of(3, IST_WIRE_MAX_FRAME, 64, 0);
	for (i = 0; i < 3; i++) {
		rc = ist_wire_frag_encode(b + len, sizeof(pkt) - len, &in[i]);
		assert_int_equal(rc, 20 + in[i].frag_len);
		len += (size_t)rc;
	}
	/* Layout of the first fragment header. */
	assert_int_equal(be(b, 4), 1);
	assert_int_equal(be(b + 4, 4), 42);
	assert_int_equal(be(b + 8, 4), 3000);
	assert_int_equal(be(b + 12, 4), 2000);
	assert_int_equal(be(b + 16, 2), 1000);
	assert_int_equal(b[18], 2);
	assert_int_equal(b[19], 3);
	assert_memory_equal(b + 20, frame_bytes + 2000, 1000);

	assert_int_equal(ist_wire_data_check(b, len), 3);
	ist_wire_frag_iter_init(&it, b, len);
	for (i = 0; i < 3; i++) {
		assert_int_equal(ist_wire_frag_next(&it, &out), 1);
		assert_int_equal(out.stream_id, in[i].stream_id);
		assert_int_equal(out.frame_seq, in[i].frame_seq);
		assert_int_equal(out.frame_len, in[i].frame_len);
		assert_int_equal(out.frag_off, in[i].frag_off);
		assert_int_equal(out.frag_len, in[i].frag_len);
		assert_int_equal(out.frag_idx, in[i].frag_idx);
		assert_int_equal(out.frag_cnt, in[i].frag_cnt);
		assert_true(out.data > b && out.data + out.frag_len <= b + len);
		assert_memory_equal(out.data, in[i].data, out.frag_len);
	}
	assert_int_equal(ist_wire_frag_next(&it, &out), 0);
	assert_int_equal(ist_wire_frag_next(&it, &out), 0);
}

static void test_data_errors(void **state)
{
	struct ist_frag f = frag_of(1, 3000, 3, 1), out;
	struct ist_wire_frag_iter it;
	uint8_t save[1100];
	int len;

	(void)state;
	len = ist_wire_frag_encode(pkt, sizeof(pkt), &f);
	assert_int_equal(len, 1020);
	memcpy(save, pkt, (size_t)len);
	assert_int_equal(ist_wire_data_check(pkt, 0), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_data_check(pkt, 19), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_data_check(pkt, (size_t)len - 1), IST_WIRE_E_TRUNCATED);
	/* A good fragment followed by a cut-off header: the walker yields one, then fails. */
	ist_wire_frag_iter_init(&it, pkt, (size_t)len + 5);
	assert_int_equal(ist_wire_frag_next(&it, &out), 1);
	assert_int_equal(ist_wire_frag_next(&it, &out), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_frag_next(&it, &out), IST_WIRE_E_TRUNCATED);

#define MUTATE(off, n, val, want)                                              \
	do {                                                                   \
		memcpy(pkt, save, (size_t)len);                                \
		put_be(pkt + (off), n, val);                                   \
		assert_int_equal(ist_wire_data_check(pkt, (size_t)len), want); \
	} while (0)
	MUTATE(8, 4, IST_WIRE_MAX_FRAME + 1, IST_WIRE_E_OVERSIZED); /* frame_len */
	MUTATE(8, 4, 0xffffffffu, IST_WIRE_E_OVERSIZED);
	MUTATE(8, 4, 31, IST_WIRE_E_BAD_FRAG);           /* below a frame header */
	MUTATE(8, 4, 3003, IST_WIRE_E_BAD_FRAG);         /* geometry moves */
	MUTATE(12, 4, 1001, IST_WIRE_E_BAD_FRAG);        /* frag_off */
	MUTATE(12, 4, 0xfffffc18u, IST_WIRE_E_BAD_FRAG); /* frag_off wraps */
	MUTATE(16, 2, 999, IST_WIRE_E_BAD_FRAG);         /* frag_len shorter */
	MUTATE(16, 2, 1001, IST_WIRE_E_TRUNCATED);       /* frag_len past the payload */
	MUTATE(18, 1, 3, IST_WIRE_E_BAD_FRAG);           /* frag_idx == frag_cnt */
	MUTATE(18, 1, 0, IST_WIRE_E_BAD_FRAG);           /* offset of another index */
	MUTATE(19, 1, 0, IST_WIRE_E_BAD_FRAG);           /* frag_cnt 0 */
	MUTATE(19, 1, 2, IST_WIRE_E_BAD_FRAG);           /* geometry of 2 */
	MUTATE(19, 1, IST_WIRE_MAX_FRAGS + 1, IST_WIRE_E_OVERSIZED);
#undef MUTATE
	/* frag_len one short fails the geometry before the byte left over is looked at. */
	memcpy(pkt, save, (size_t)len);
	put_be(pkt + 16, 2, 999);
	ist_wire_frag_iter_init(&it, pkt, (size_t)len);
	assert_int_equal(ist_wire_frag_next(&it, &out), IST_WIRE_E_BAD_FRAG);
	/* The last fragment with a frag_len that would run past frame_len. */
	f = frag_of(1, 3000, 3, 2);
	len = ist_wire_frag_encode(pkt, sizeof(pkt), &f);
	put_be(pkt + 16, 2, 1001);
	assert_int_equal(ist_wire_data_check(pkt, (size_t)len + 1), IST_WIRE_E_BAD_FRAG);

	/* The encoder refuses what the decoder would. */
	f = frag_of(1, 3000, 3, 1);
	f.frag_off++;
	assert_int_equal(ist_wire_frag_encode(pkt, sizeof(pkt), &f), IST_WIRE_E_BAD_FRAG);
	f = frag_of(1, 3000, 3, 1);
	f.frag_cnt = 200;
	assert_int_equal(ist_wire_frag_encode(pkt, sizeof(pkt), &f), IST_WIRE_E_OVERSIZED);
	f = frag_of(1, 3000, 3, 1);
	assert_int_equal(ist_wire_frag_encode(pkt, 1019, &f), IST_WIRE_E_NO_SPACE);
}

static struct ist_frame frame_of(void)
{
	struct ist_frame fr = {
		.stream_id = 12,
		.record_count = 50,
		.first_offset = 123456789012ull,
		.codec = IST_CODEC_ZSTD,
		.dict_id = 3,
		.uncompressed_len = 40000,
		.body_len = 9000,
		.crc32c = 0xdeadbeef,
	};
	return fr;
}

static void test_frame(void **state)
{
	struct ist_frame fr = frame_of(), d;
	uint8_t save[32];
	uint8_t *b = frame_bytes;
	size_t len = 32 + fr.body_len;

	(void)state;
	assert_int_equal(ist_wire_frame_encode(b, 32, &fr), 32);
	assert_int_equal(be(b, 4), 12);
	assert_int_equal(be(b + 4, 4), 50);
	assert_int_equal(be(b + 8, 8), 123456789012ull);
	assert_int_equal(b[16], IST_CODEC_ZSTD);
	assert_int_equal(b[17], 3);
	assert_int_equal(be(b + 18, 2), 0);
	assert_int_equal(be(b + 20, 4), 40000);
	assert_int_equal(be(b + 24, 4), 9000);
	assert_int_equal(be(b + 28, 4), 0xdeadbeef);
	assert_int_equal(ist_wire_frame_decode(b, len, &d), 0);
	frame_eq(&fr, &d);
	memcpy(save, b, 32);

	assert_int_equal(ist_wire_frame_decode(b, 31, &d), IST_WIRE_E_TRUNCATED);
	assert_int_equal(ist_wire_frame_decode(b, IST_WIRE_MAX_FRAME + 1, &d),
			 IST_WIRE_E_OVERSIZED);
	assert_int_equal(ist_wire_frame_decode(b, len - 1, &d), IST_WIRE_E_BAD_LENGTH);
	assert_int_equal(ist_wire_frame_decode(b, len + 1, &d), IST_WIRE_E_BAD_LENGTH);
#define MUTATE(off, n, val, flen, want)                                     \
	do {                                                                \
		memcpy(b, save, 32);                                        \
		put_be(b + (off), n, val);                                  \
		assert_int_equal(ist_wire_frame_decode(b, flen, &d), want); \
	} while (0)
	MUTATE(16, 1, 3, len, IST_WIRE_E_BAD_CODEC);
	MUTATE(16, 1, 0xff, len, IST_WIRE_E_BAD_CODEC);
	MUTATE(18, 2, 1, len, IST_WIRE_E_BAD_FIELD);                     /* reserved */
	MUTATE(20, 4, IST_WIRE_MAX_BODY + 1, len, IST_WIRE_E_OVERSIZED); /* uncompressed_len */
	MUTATE(20, 4, 0, len, IST_WIRE_E_BAD_LENGTH);
	MUTATE(24, 4, 0, 32, IST_WIRE_E_BAD_LENGTH);                    /* empty compressed body */
	MUTATE(24, 4, 0xffffffe0u, len, IST_WIRE_E_BAD_LENGTH);         /* body_len wraps */
	MUTATE(4, 4, 0, len, IST_WIRE_E_BAD_FIELD);                     /* record_count 0 */
	MUTATE(4, 4, 40001, len, IST_WIRE_E_BAD_FIELD);                 /* > uncompressed_len */
	MUTATE(8, 8, 0x7fffffffffffffceull, len, IST_WIRE_E_BAD_FIELD); /* offset + count */
	MUTATE(8, 8, 0x7fffffffffffffcdull, len, 0);
#undef MUTATE
	/* Codec NONE: no dictionary, uncompressed_len == body_len. */
	fr = frame_of();
	fr.codec = IST_CODEC_NONE;
	assert_int_equal(ist_wire_frame_encode(b, 32, &fr), IST_WIRE_E_BAD_CODEC);
	fr.dict_id = 0;
	assert_int_equal(ist_wire_frame_encode(b, 32, &fr), IST_WIRE_E_BAD_LENGTH);
	fr.uncompressed_len = fr.body_len;
	assert_int_equal(ist_wire_frame_encode(b, 32, &fr), 32);
	assert_int_equal(ist_wire_frame_decode(b, 32 + fr.body_len, &d), 0);
	frame_eq(&fr, &d);
	fr.body_len = IST_WIRE_MAX_FRAME - 32;
	fr.uncompressed_len = fr.body_len;
	assert_int_equal(ist_wire_frame_encode(b, 32, &fr), 32);
	assert_int_equal(ist_wire_frame_decode(b, IST_WIRE_MAX_FRAME, &d), 0);
	fr.body_len++;
	fr.uncompressed_len++;
	assert_int_equal(ist_wire_frame_encode(b, 32, &fr), IST_WIRE_E_OVERSIZED);
	/* Codec LZ4 with a dictionary. */
	fr = frame_of();
	fr.codec = IST_CODEC_LZ4;
	assert_int_equal(ist_wire_frame_encode(b, 32, &fr), 32);
	assert_int_equal(ist_wire_frame_encode(b, 31, &fr), IST_WIRE_E_NO_SPACE);
}

static void test_crc32c(void **state)
{
	static const char check[] = "123456789";
	uint8_t buf[64 + 16];
	uint32_t whole, c;
	unsigned int off, cut;

	(void)state;
	assert_int_equal(ist_wire_crc32c(check, 9, 0), 0xE3069283u);
	assert_int_equal(ist_wire_crc32c(NULL, 0, 0), 0);
	/* Same value at every alignment and however it is cut. */
	for (off = 0; off < 16; off++) {
		memcpy(buf + off, check, 9);
		assert_int_equal(ist_wire_crc32c(buf + off, 9, 0), 0xE3069283u);
	}
	for (off = 0; off < 64; off++)
		buf[off] = (uint8_t)(off * 31 + 1);
	whole = ist_wire_crc32c(buf, 64, 0);
	for (cut = 0; cut <= 64; cut++) {
		c = ist_wire_crc32c(buf, cut, 0);
		c = ist_wire_crc32c(buf + cut, 64 - cut, c);
		assert_int_equal(c, whole);
	}
	/* RFC 3720 B.4 vectors: 32 bytes of zeros and of 0xff. */
	memset(buf, 0, 32);
	assert_int_equal(ist_wire_crc32c(buf, 32, 0), 0x8A9136AAu);
	memset(buf, 0xff, 32);
	assert_int_equal(ist_wire_crc32c(buf, 32, 0), 0x62A8AB43u);
}

static void test_frame_body(void **state)
{
	struct ist_frame fr = frame_of();
	uint8_t body[1000];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)i;
	fr.uncompressed_len = sizeof(body);
	fr.crc32c = ist_wire_crc32c(body, sizeof(body), 0);
	assert_int_equal(ist_wire_frame_body_check(&fr, body, sizeof(body)), 0);
	assert_int_equal(ist_wire_frame_body_check(&fr, body, sizeof(body) - 1),
			 IST_WIRE_E_BAD_LENGTH);
	body[500] ^= 1;
	assert_int_equal(ist_wire_frame_body_check(&fr, body, sizeof(body)), IST_WIRE_E_BAD_CRC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_names),        cmocka_unit_test(test_hdr_roundtrip),
		cmocka_unit_test(test_hdr_errors),       cmocka_unit_test(test_pkt_check_ok),
		cmocka_unit_test(test_pkt_check_errors), cmocka_unit_test(test_hello),
		cmocka_unit_test(test_ack_roundtrip),    cmocka_unit_test(test_ack_errors),
		cmocka_unit_test(test_credit),           cmocka_unit_test(test_close),
		cmocka_unit_test(test_frag_geometry),    cmocka_unit_test(test_data_walk),
		cmocka_unit_test(test_data_errors),      cmocka_unit_test(test_frame),
		cmocka_unit_test(test_crc32c),           cmocka_unit_test(test_frame_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
