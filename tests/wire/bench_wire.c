/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cost of the wire module's hot functions, one lcore, warm caches:
 *
 *     build-wire/tests/wire/bench_wire [iterations]
 *
 * Prints cycles (TSC) and ns per call. Not a test: numbers depend on the
 * machine. The AEAD lines are the ones written beside ist_aead_pkt_seal()
 * and ist_aead_pkt_open(); "evp iv-only" is the same seal without the per
 * packet key schedule, to show what re-keying costs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include <rte_cycles.h>

#include "ist_aead.h"
#include "ist_replay.h"
#include "ist_wire.h"

#define PLEN 1400

static uint8_t pkt[IST_WIRE_HDR_LEN + PLEN + IST_WIRE_TAG_LEN];
static volatile int sink;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define BENCH(name, iters, body)                                                             \
	do {                                                                                 \
		unsigned long i_;                                                            \
		double t0_ = now_ns();                                                       \
		uint64_t c0_ = rte_rdtsc();                                                  \
		for (i_ = 0; i_ < (iters); i_++) {                                           \
			body;                                                                \
		}                                                                            \
		uint64_t c1_ = rte_rdtsc();                                                  \
		double t1_ = now_ns();                                                       \
		printf("%-34s %9.1f cycles %8.1f ns\n", name, (double)(c1_ - c0_) / (iters), \
		       (t1_ - t0_) / (iters));                                               \
	} while (0)

static size_t mk(const struct ist_key *k, uint64_t pn)
{
	struct ist_hdr h = {.type = IST_WIRE_DATA,
			    .flags = IST_WIRE_F_AUTH,
			    .epoch = 0x1234,
			    .peer_epoch = 0x5678,
			    .pn = pn,
			    .key_id = k->id,
			    .payload_len = PLEN};

	ist_wire_hdr_encode(pkt, sizeof(pkt), &h);
	return sizeof(pkt);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	struct ist_key k = {.id = 1, .salt = {1, 2, 3, 4}};
	uint8_t ackbuf[24 + 16 * 16], frame[IST_WIRE_MAX_FRAME];
	struct ist_ack ack = {.cum = 1000, .n_ranges = 16};
	struct ist_frame fr = {.stream_id = 1,
			       .record_count = 10,
			       .codec = IST_CODEC_NONE,
			       .body_len = PLEN,
			       .uncompressed_len = PLEN};
	struct ist_frag f = {.stream_id = 1,
			     .frame_len = PLEN + 32,
			     .frag_cnt = 1,
			     .frag_len = PLEN + 32 - 20 - 32};
	struct ist_replay w;
	struct ist_aead a;
	struct ist_hdr h;
	size_t len;
	uint64_t pn = 1;
	int outl, i;

	for (i = 0; i < IST_KEY_LEN; i++)
		k.key[i] = (uint8_t)(i * 7);
	if (ist_aead_ctx_init(&a) < 0) {
		fprintf(stderr, "bench_wire: no AES-256-GCM in this OpenSSL\n");
		return 1;
	}
	for (i = 0; i < (int)sizeof(pkt); i++)
		pkt[i] = (uint8_t)i;

	printf("payload %d bytes, %lu iterations\n", PLEN, n);
	len = mk(&k, 1);
	BENCH("ist_aead_pkt_seal", n, {
		mk(&k, pn++);
		sink += ist_aead_pkt_seal(&a, &k, pkt, len);
	});
	len = mk(&k, pn);
	ist_aead_pkt_seal(&a, &k, pkt, len);
	memcpy(frame, pkt, len);
	BENCH("ist_aead_pkt_open (good tag)", n, {
		memcpy(pkt, frame, len);
		sink += ist_aead_pkt_open(&a, &k, pkt, len);
	});
	BENCH("  memcpy of the packet (subtract)", n, {
		memcpy(pkt, frame, len);
		sink += pkt[5];
	});
	BENCH("ist_aead_pkt_open (bad tag)", n, {
		memcpy(pkt, frame, len);
		pkt[len - 1] ^= 1;
		sink += ist_aead_pkt_open(&a, &k, pkt, len);
	});
	{
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
		EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
		uint8_t iv[12] = {0};

		EVP_EncryptInit_ex(ctx, c, NULL, k.key, iv);
		BENCH("evp iv-only seal (reference)", n, {
			iv[11]++;
			EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv);
			EVP_EncryptUpdate(ctx, NULL, &outl, pkt, 32);
			EVP_EncryptUpdate(ctx, pkt + 32, &outl, pkt + 32, PLEN);
			EVP_EncryptFinal_ex(ctx, pkt + 32 + PLEN, &outl);
			EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, pkt + 32 + PLEN);
		});
		BENCH("evp key schedule alone", n, {
			iv[11]++;
			EVP_EncryptInit_ex(ctx, NULL, NULL, k.key, iv);
		});
		EVP_CIPHER_CTX_free(ctx);
		EVP_CIPHER_free(c);
	}
	ist_aead_ctx_fini(&a);

	len = mk(&k, 1);
	BENCH("ist_wire_pkt_check", n * 10, sink += ist_wire_pkt_check(pkt, len, true, &h));
	for (i = 0; i < 16; i++) {
		ack.ranges[i].end = 2000 - 10 * i;
		ack.ranges[i].start = 2000 - 10 * i - 5;
	}
	ack.largest = 2000;
	ist_wire_ack_encode(ackbuf, sizeof(ackbuf), &ack);
	BENCH("ist_wire_ack_decode (16 ranges)", n * 10,
	      sink += ist_wire_ack_decode(ackbuf, sizeof(ackbuf), &ack));
	BENCH("ist_wire_ack_encode (16 ranges)", n * 10,
	      sink += ist_wire_ack_encode(ackbuf, sizeof(ackbuf), &ack));
	f.frag_len = PLEN + 32;
	f.data = frame;
	len = (size_t)ist_wire_frag_encode(pkt + 32, sizeof(pkt) - 32, &f);
	BENCH("ist_wire_data_check (1 fragment)", n * 10,
	      sink += ist_wire_data_check(pkt + 32, len));
	fr.crc32c = ist_wire_crc32c(frame + 32, PLEN, 0);
	ist_wire_frame_encode(frame, sizeof(frame), &fr);
	BENCH("ist_wire_frame_decode", n * 10,
	      sink += ist_wire_frame_decode(frame, PLEN + 32, &fr));
	BENCH("ist_wire_crc32c (1400 bytes)", n, sink += (int)ist_wire_crc32c(frame + 1, PLEN, 0));
	BENCH("ist_wire_crc32c (64 KiB)", n / 20,
	      sink += (int)ist_wire_crc32c(frame, sizeof(frame), 0));
	ist_replay_reset(&w, 1);
	pn = 1;
	BENCH("ist_replay check+update (in order)", n * 10, {
		sink += ist_replay_check(&w, pn);
		ist_replay_update(&w, pn);
		pn++;
	});
	return 0;
}
