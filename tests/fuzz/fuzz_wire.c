/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the wire module (tests/fuzz/run.sh builds and runs it).
 *
 * Every input goes through every entry point that reads bytes from the wire:
 * the datagram validator (then the payload decoder of its type, and AEAD
 * open with a fixed key when sealed), each payload decoder on the raw bytes,
 * the DATA fragment walker, the frame header decoder. Invariants checked:
 * what a decoder accepts re-encodes to the same bytes; decoded ACK ranges are
 * ordered and within [cum, largest]; fragments lie inside the input and the
 * frame; a datagram that passes is exactly header + payload + tag. The input
 * is also sealed and opened as a payload (round trip, one flipped byte must
 * fail), replayed against a plain model of the replay window, and used as
 * parameters of the fragment planner; CRC32C is compared with a bitwise
 * reference at every alignment and split.
 *
 * Built with -DFUZZ_GEN_SEEDS it is instead a program that writes a seed
 * corpus of valid packets of every type (cleartext and sealed with the
 * fixed key) into the directory named by its argument.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ist_aead.h"
#include "ist_replay.h"
#include "ist_wire.h"
#include "fuzz_common.h"

/* The fixed key of the fuzz corpus: sealed seeds open with it. */
static const struct ist_key fuzz_key = {
	.id = 1,
	.salt = {0xa1, 0xb2, 0xc3, 0xd4},
	.key = {0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae,
		0xf0, 0x85, 0x7d, 0x77, 0x81, 0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61,
		0x08, 0xd7, 0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4},
};

static struct ist_aead aead;
static uint8_t buf[IST_WIRE_MAX_PKT + IST_WIRE_MAX_FRAME];
static uint8_t out[IST_WIRE_MAX_FRAME];

static void aead_setup(void)
{
	static int done;

	if (!done) {
		CHECK(ist_aead_ctx_init(&aead) == 0);
		done = 1;
	}
}

/* ---- payload decoders: accept => invariants hold and re-encode is identical ---- */

static void fuzz_hello(const uint8_t *d, size_t n)
{
	struct ist_hello hl;

	if (ist_wire_hello_decode(d, n, &hl) != 0)
		return;
	CHECK(n == IST_WIRE_HELLO_LEN);
	CHECK(strlen(hl.appliance) > 0 && strlen(hl.appliance) < IST_WIRE_NAME_LEN);
	CHECK(hl.mtu >= IST_WIRE_MIN_PKT && hl.mtu <= IST_WIRE_MAX_PKT);
	CHECK(ist_wire_hello_encode(out, sizeof(out), &hl) == (int)n);
	CHECK(memcmp(out, d, n) == 0);
}

static void fuzz_ack(const uint8_t *d, size_t n)
{
	struct ist_ack ack;
	unsigned int i;

	if (ist_wire_ack_decode(d, n, &ack) != 0)
		return;
	CHECK(ack.n_ranges <= IST_WIRE_MAX_SACK);
	CHECK(n == IST_WIRE_ACK_LEN + ack.n_ranges * IST_WIRE_RANGE_LEN);
	CHECK(ack.cum >= 1 && ack.cum - 1 <= ack.largest);
	CHECK(ack.n_ranges > 0 || ack.largest == ack.cum - 1);
	for (i = 0; i < ack.n_ranges; i++) {
		CHECK(ack.ranges[i].start <= ack.ranges[i].end);
		CHECK(ack.ranges[i].start >= ack.cum);
		CHECK(ack.ranges[i].end <= ack.largest);
		if (i > 0)
			CHECK(ack.ranges[i].end < ack.ranges[i - 1].start);
	}
	CHECK(ist_wire_ack_check(&ack) == 0);
	CHECK(ist_wire_ack_encode(out, sizeof(out), &ack) == (int)n);
	CHECK(memcmp(out, d, n) == 0);
}

static void fuzz_credit(const uint8_t *d, size_t n)
{
	struct ist_credit cr[IST_WIRE_MAX_CREDITS];
	unsigned int cnt = 9999;

	if (ist_wire_credit_decode(d, n, cr, &cnt) != 0)
		return;
	CHECK(cnt <= IST_WIRE_MAX_CREDITS);
	CHECK(n == IST_WIRE_CREDIT_HLEN + cnt * IST_WIRE_CREDIT_LEN);
	CHECK(ist_wire_credit_encode(out, sizeof(out), cr, cnt) == (int)n);
	CHECK(memcmp(out, d, n) == 0);
}

static void fuzz_close(const uint8_t *d, size_t n)
{
	uint32_t reason;

	if (ist_wire_close_decode(d, n, &reason) != 0)
		return;
	CHECK(reason >= IST_CLOSE_SHUTDOWN && reason <= IST_CLOSE_AUTH);
	CHECK(ist_wire_close_encode(out, sizeof(out), reason) == (int)n);
	CHECK(memcmp(out, d, n) == 0);
}

static void fuzz_data(const uint8_t *d, size_t n)
{
	struct ist_wire_frag_iter it;
	struct ist_frag f;
	int rc, cnt = 0, check;
	size_t at = 0;

	check = ist_wire_data_check(d, n);
	ist_wire_frag_iter_init(&it, d, n);
	while ((rc = ist_wire_frag_next(&it, &f)) > 0) {
		cnt++;
		CHECK(f.frag_cnt >= 1 && f.frag_cnt <= IST_WIRE_MAX_FRAGS);
		CHECK(f.frag_idx < f.frag_cnt);
		CHECK(f.frame_len >= IST_WIRE_FRAME_LEN && f.frame_len <= IST_WIRE_MAX_FRAME);
		CHECK(f.frag_len >= 1);
		CHECK((uint64_t)f.frag_off + f.frag_len <= f.frame_len);
		CHECK(f.data == d + at + IST_WIRE_FRAG_LEN);
		CHECK(f.data + f.frag_len <= d + n);
		CHECK(ist_wire_frag_encode(out, sizeof(out), &f) ==
		      (int)(IST_WIRE_FRAG_LEN + f.frag_len));
		CHECK(memcmp(out, d + at, IST_WIRE_FRAG_LEN + f.frag_len) == 0);
		at += IST_WIRE_FRAG_LEN + f.frag_len;
	}
	CHECK(rc <= 0);
	if (rc == 0)
		CHECK(at == n && (n == 0 ? check == IST_WIRE_E_TRUNCATED : check == cnt));
	else
		CHECK(check == rc);
}

static void fuzz_frame(const uint8_t *d, size_t n)
{
	struct ist_frame fr;
	int rc;

	if (ist_wire_frame_decode(d, n, &fr) != 0)
		return;
	CHECK(n >= IST_WIRE_FRAME_LEN && n <= IST_WIRE_MAX_FRAME);
	CHECK(fr.body_len == n - IST_WIRE_FRAME_LEN);
	CHECK(fr.uncompressed_len <= IST_WIRE_MAX_BODY);
	CHECK(fr.codec <= IST_CODEC_ZSTD);
	CHECK(ist_wire_frame_encode(out, sizeof(out), &fr) == IST_WIRE_FRAME_LEN);
	CHECK(memcmp(out, d, IST_WIRE_FRAME_LEN) == 0);
	if (fr.codec == IST_CODEC_NONE) {
		rc = ist_wire_frame_body_check(&fr, d + IST_WIRE_FRAME_LEN, fr.body_len);
		CHECK(rc == 0 || rc == IST_WIRE_E_BAD_CRC);
		CHECK((rc == 0) ==
		      (ist_wire_crc32c(d + IST_WIRE_FRAME_LEN, fr.body_len, 0) == fr.crc32c));
	}
}

static void fuzz_payload(uint8_t type, const uint8_t *p, size_t n)
{
	switch (type) {
	case IST_WIRE_HELLO:
		fuzz_hello(p, n);
		break;
	case IST_WIRE_ACK:
		fuzz_ack(p, n);
		break;
	case IST_WIRE_CREDIT:
		fuzz_credit(p, n);
		break;
	case IST_WIRE_CLOSE:
		fuzz_close(p, n);
		break;
	case IST_WIRE_DATA:
		fuzz_data(p, n);
		break;
	default:
		CHECK(type == IST_WIRE_HEARTBEAT && n == 0);
	}
}

/* ---- whole datagrams ---- */

static void fuzz_pkt(const uint8_t *d, size_t n)
{
	struct ist_hdr h, h2;
	int keyed;

	for (keyed = 0; keyed < 2; keyed++) {
		int rc = ist_wire_pkt_check(d, n, keyed, &h);

		CHECK(rc <= 0);
		CHECK(strcmp(ist_wire_err_name(rc), "unknown") != 0);
		if (rc != 0)
			continue;
		CHECK(n == IST_WIRE_HDR_LEN + h.payload_len + (keyed ? IST_WIRE_TAG_LEN : 0));
		CHECK(!!(h.flags & IST_WIRE_F_AUTH) == keyed && (h.key_id != 0) == keyed);
		CHECK(h.epoch != 0 && h.pn != 0);
		CHECK(ist_wire_hdr_decode(d, n, &h2) == 0);
		CHECK(ist_wire_hdr_encode(out, sizeof(out), &h) == IST_WIRE_HDR_LEN);
		CHECK(memcmp(out, d, IST_WIRE_HDR_LEN) == 0);
		if (!keyed) {
			fuzz_payload(h.type, ist_wire_pkt_payload(d), h.payload_len);
			continue;
		}
		/* Sealed: only the fixed key can open it, and only intact. */
		memcpy(buf, d, n);
		rc = ist_aead_pkt_open(&aead, &fuzz_key, buf, n);
		CHECK(rc == 0 || rc == -EBADMSG);
		if (rc == 0)
			fuzz_payload(h.type, buf + IST_WIRE_HDR_LEN, h.payload_len);
	}
}

/* ---- AEAD round trip with the input as payload ---- */

static void fuzz_seal(const uint8_t *d, size_t n)
{
	struct ist_hdr h = {.type = IST_WIRE_DATA, .flags = IST_WIRE_F_AUTH, .key_id = fuzz_key.id};
	size_t plen = n > 1400 ? 1400 : n, len = IST_WIRE_HDR_LEN + plen + IST_WIRE_TAG_LEN;
	uint64_t v = 0;

	memcpy(&v, d, n < 8 ? n : 8);
	h.epoch = (uint32_t)v | 1;
	h.pn = (v >> 8) | 1;
	h.payload_len = (uint16_t)plen;
	CHECK(ist_wire_hdr_encode(buf, sizeof(buf), &h) == IST_WIRE_HDR_LEN);
	memcpy(buf + IST_WIRE_HDR_LEN, d, plen);
	CHECK(ist_aead_pkt_seal(&aead, &fuzz_key, buf, len) == 0);
	CHECK(ist_aead_pkt_open(&aead, &fuzz_key, buf, len) == 0);
	CHECK(memcmp(buf + IST_WIRE_HDR_LEN, d, plen) == 0);
	CHECK(ist_aead_pkt_seal(&aead, &fuzz_key, buf, len) == 0);
	buf[v % len] ^= (uint8_t)(1u << (v >> 56 & 7));
	CHECK(ist_aead_pkt_open(&aead, &fuzz_key, buf, len) == -EBADMSG);
}

/* ---- replay window against a model: accepted iff above top, or in window and unseen ---- */

static void fuzz_replay(const uint8_t *d, size_t n)
{
	enum { MAXP = 512 };
	static uint64_t seen[MAXP];
	struct ist_replay w;
	unsigned int n_seen = 0, i, j;
	uint64_t top = 0, pn;
	int want, got;

	ist_replay_reset(&w, 1);
	for (i = 0; i + 3 <= n && n_seen < MAXP; i += 3) {
		/* 3 bytes: an 18-bit pn space, so jumps of more than a ring turn happen. */
		pn = ((uint64_t)d[i] << 10 | (uint64_t)d[i + 1] << 2 | d[i + 2] >> 6);
		if (pn > top)
			want = 0;
		else if (pn == 0 || top - pn >= IST_REPLAY_WIN)
			want = IST_WIRE_E_TOO_OLD;
		else {
			want = 0;
			for (j = 0; j < n_seen; j++)
				if (seen[j] == pn)
					want = IST_WIRE_E_REPLAYED;
		}
		got = ist_replay_check(&w, pn);
		CHECK(got == want);
		if (got == 0 && (d[i + 2] & 1) == 0) {
			/* Low bit set: the packet "failed authentication", not recorded. */
			ist_replay_update(&w, pn);
			seen[n_seen++] = pn;
			top = pn > top ? pn : top;
		}
	}
}

/* ---- CRC32C against a bitwise reference, at every alignment and cut ---- */

static uint32_t crc32c_ref(const uint8_t *p, size_t n, uint32_t crc)
{
	unsigned int k;

	crc = ~crc;
	while (n-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static void fuzz_crc(const uint8_t *d, size_t n)
{
	size_t len = n > 4096 ? 4096 : n, skip = len > 0 ? d[0] % 8 : 0, cut;
	uint32_t want;

	if (skip > len)
		skip = len;
	want = crc32c_ref(d + skip, len - skip, 0);
	CHECK(ist_wire_crc32c(d + skip, len - skip, 0) == want);
	cut = len > skip ? skip + d[len - 1] % (len - skip + 1) : skip;
	CHECK(ist_wire_crc32c(d + cut, len - cut, ist_wire_crc32c(d + skip, cut - skip, 0)) ==
	      want);
}

/* ---- fragment planner ---- */

static void fuzz_plan(const uint8_t *d, size_t n)
{
	uint32_t L, max, off, end = 0;
	uint16_t len;
	uint8_t cnt, i;

	if (n < 6)
		return;
	L = (uint32_t)d[0] << 16 | (uint32_t)d[1] << 8 | d[2];
	max = (uint32_t)d[3] << 16 | (uint32_t)d[4] << 8 | d[5];
	if (ist_wire_frag_plan(L, max, &cnt) != 0)
		return;
	for (i = 0; i < cnt; i++) {
		CHECK(ist_wire_frag_span(L, cnt, i, &off, &len) == 0);
		CHECK(off == end && len >= 1 && len <= max);
		end = off + len;
	}
	CHECK(end == L);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > IST_WIRE_MAX_FRAME + 1)
		return -1; /* reject: nothing on the wire is larger */
	aead_setup();
	fuzz_pkt(data, size);
	fuzz_hello(data, size);
	fuzz_ack(data, size);
	fuzz_credit(data, size);
	fuzz_close(data, size);
	fuzz_data(data, size);
	fuzz_frame(data, size);
	fuzz_seal(data, size);
	fuzz_replay(data, size);
	fuzz_plan(data, size);
	fuzz_crc(data, size);
	return 0;
}

#ifdef FUZZ_GEN_SEEDS

/* A datagram of `type` around payload p, cleartext and sealed. */
static void seed_pkt(const char *name, uint8_t type, const void *p, size_t plen)
{
	static uint64_t pn = 1;
	struct ist_hdr h = {.type = type,
			    .epoch = 0x1eadbeef,
			    .peer_epoch = 0x2b0b0b0b,
			    .payload_len = (uint16_t)plen};
	struct ist_hdr h2;
	uint8_t pkt[2048];
	char nm[64];
	size_t len;

	CHECK(IST_WIRE_HDR_LEN + plen + IST_WIRE_TAG_LEN <= sizeof(pkt));
	h.pn = pn++;
	CHECK(ist_wire_hdr_encode(pkt, sizeof(pkt), &h) == IST_WIRE_HDR_LEN);
	if (plen > 0)
		memcpy(pkt + IST_WIRE_HDR_LEN, p, plen);
	snprintf(nm, sizeof(nm), "%s-clear", name);
	seed(nm, pkt, IST_WIRE_HDR_LEN + plen);
	/* Seeds must be valid, or they seed nothing past the validator. */
	CHECK(ist_wire_pkt_check(pkt, IST_WIRE_HDR_LEN + plen, false, &h2) == 0);

	h.pn = pn++;
	h.flags = IST_WIRE_F_AUTH;
	h.key_id = fuzz_key.id;
	CHECK(ist_wire_hdr_encode(pkt, sizeof(pkt), &h) == IST_WIRE_HDR_LEN);
	if (plen > 0)
		memcpy(pkt + IST_WIRE_HDR_LEN, p, plen);
	len = IST_WIRE_HDR_LEN + plen + IST_WIRE_TAG_LEN;
	CHECK(ist_aead_pkt_seal(&aead, &fuzz_key, pkt, len) == 0);
	snprintf(nm, sizeof(nm), "%s-sealed", name);
	seed(nm, pkt, len);
	CHECK(ist_wire_pkt_check(pkt, len, true, &h2) == 0);
	memcpy(buf, pkt, len);
	CHECK(ist_aead_pkt_open(&aead, &fuzz_key, buf, len) == 0);
	/* The bare payload too: every decoder also sees raw input. */
	if (plen > 0) {
		snprintf(nm, sizeof(nm), "%s-payload", name);
		seed(nm, p, plen);
	}
}

int main(int argc, char **argv)
{
	struct ist_hello hl = {.appliance = "eu-west-1a",
			       .region = "eu-west",
			       .proto_version = 1,
			       .caps = IST_WIRE_CAP_LZ4 | IST_WIRE_CAP_AEAD,
			       .mtu = 1472,
			       .started_unix_ms = 1700000000000ull};
	struct ist_ack ack = {.cum = 100,
			      .largest = 140,
			      .delay_us = 300,
			      .n_ranges = 3,
			      .ranges = {{131, 140}, {120, 125}, {101, 110}}};
	struct ist_credit cr[3] = {{1, 0, 64}, {2, 1000, 1032}, {3, 0xfffffff0u, 0x10}};
	struct ist_frame fr = {
		.stream_id = 1, .record_count = 3, .first_offset = 42, .codec = IST_CODEC_NONE};
	static uint8_t frame[3000], payload[1400];
	struct ist_frag f = {.stream_id = 1, .frame_seq = 7};
	uint8_t b[1024];
	int len, i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	seed_dir = argv[1];
	aead_setup();

	seed_pkt("heartbeat", IST_WIRE_HEARTBEAT, NULL, 0);
	len = ist_wire_hello_encode(b, sizeof(b), &hl);
	seed_pkt("hello", IST_WIRE_HELLO, b, (size_t)len);
	len = ist_wire_ack_encode(b, sizeof(b), &ack);
	seed_pkt("ack3", IST_WIRE_ACK, b, (size_t)len);
	ack = (struct ist_ack){.cum = 1, .largest = 0};
	len = ist_wire_ack_encode(b, sizeof(b), &ack);
	seed_pkt("ack0", IST_WIRE_ACK, b, (size_t)len);
	len = ist_wire_credit_encode(b, sizeof(b), cr, 3);
	seed_pkt("credit", IST_WIRE_CREDIT, b, (size_t)len);
	len = ist_wire_close_encode(b, sizeof(b), IST_CLOSE_SHUTDOWN);
	seed_pkt("close", IST_WIRE_CLOSE, b, (size_t)len);

	/* A 3000-byte uncompressed frame: header, then its body. */
	for (i = 0; i < (int)sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7);
	fr.body_len = sizeof(frame) - IST_WIRE_FRAME_LEN;
	fr.uncompressed_len = fr.body_len;
	fr.crc32c = ist_wire_crc32c(frame + IST_WIRE_FRAME_LEN, fr.body_len, 0);
	CHECK(ist_wire_frame_encode(frame, sizeof(frame), &fr) == IST_WIRE_FRAME_LEN);
	seed("frame-none", frame, sizeof(frame));
	fr.codec = IST_CODEC_LZ4;
	fr.uncompressed_len = 9000;
	CHECK(ist_wire_frame_encode(frame, sizeof(frame), &fr) == IST_WIRE_FRAME_LEN);
	seed("frame-lz4", frame, sizeof(frame));

	/* DATA: fragment 1 of 3 alone, then the whole frame in 3 fragments over packets. */
	f.frame_len = sizeof(frame);
	f.frag_cnt = 3;
	for (i = 0; i < 3; i++) {
		char nm[32];

		f.frag_idx = (uint8_t)i;
		CHECK(ist_wire_frag_span(f.frame_len, 3, f.frag_idx, &f.frag_off, &f.frag_len) ==
		      0);
		f.data = frame + f.frag_off;
		len = ist_wire_frag_encode(payload, sizeof(payload), &f);
		CHECK(len > 0);
		snprintf(nm, sizeof(nm), "data-frag%d", i);
		seed_pkt(nm, IST_WIRE_DATA, payload, (size_t)len);
	}
	/* Several small frames packed in one DATA packet. */
	{
		size_t at = 0;
		uint8_t small[200];

		for (i = 0; i < (int)sizeof(small); i++)
			small[i] = (uint8_t)i;
		f = (struct ist_frag){
			.stream_id = 9, .frame_len = 64, .frag_cnt = 1, .frag_len = 64};
		for (i = 0; i < 3; i++) {
			f.frame_seq = (uint32_t)i;
			f.data = small + 64 * i;
			len = ist_wire_frag_encode(payload + at, sizeof(payload) - at, &f);
			CHECK(len > 0);
			at += (size_t)len;
		}
		seed_pkt("data-packed", IST_WIRE_DATA, payload, at);
	}
	printf("%u seeds in %s\n", n_seeds, seed_dir);
	ist_aead_ctx_fini(&aead);
	return 0;
}

#endif /* FUZZ_GEN_SEEDS */
