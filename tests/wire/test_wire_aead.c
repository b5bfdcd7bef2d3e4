/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of AES-256-GCM sealing: round trips, agreement with a plain
 * one-shot EVP computation of the documented nonce/AAD/tag layout, every
 * tampered byte (header, payload, tag) refused, wrong key and key id,
 * nonces unique per pn and per epoch, argument errors, and no OpenSSL
 * allocation per packet (counted through CRYPTO_set_mem_functions).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ist_aead.h"
#include "ist_keys.h"
#include "ist_wire.h"

#define PLEN 1400

static struct ist_aead aead;
static struct ist_key key1, key2;
static uint8_t pkt[IST_WIRE_HDR_LEN + PLEN + IST_WIRE_TAG_LEN];
static uint8_t plain[PLEN];

static unsigned long n_alloc;

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	n_alloc++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	n_alloc++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

static int group_setup(void **state)
{
	unsigned int i;

	(void)state;
	key1.id = 1;
	key2.id = 2;
	for (i = 0; i < IST_KEY_LEN; i++) {
		key1.key[i] = (uint8_t)i;
		key2.key[i] = (uint8_t)(0x80 + i);
	}
	memcpy(key1.salt, "\xa1\xb2\xc3\xd4", 4);
	memcpy(key2.salt, "\x0b\xad\xf0\x0d", 4);
	for (i = 0; i < PLEN; i++)
		plain[i] = (uint8_t)(i * 13 + 5);
	return ist_aead_ctx_init(&aead);
}

static int group_teardown(void **state)
{
	(void)state;
	ist_aead_ctx_fini(&aead);
	return 0;
}

/* A cleartext packet ready to seal: header + plain[0 .. plen). */
static size_t mk(const struct ist_key *k, uint32_t epoch, uint64_t pn, uint16_t plen)
{
	struct ist_hdr h = {
		.type = IST_WIRE_DATA,
		.flags = IST_WIRE_F_AUTH,
		.epoch = epoch,
		.peer_epoch = 0x01020304,
		.pn = pn,
		.key_id = k->id,
		.payload_len = plen,
	};

	memset(pkt, 0xee, sizeof(pkt));
	assert_int_equal(ist_wire_hdr_encode(pkt, sizeof(pkt), &h), 32);
	memcpy(pkt + 32, plain, plen);
	return 32 + (size_t)plen + 16;
}

static void test_roundtrip(void **state)
{
	static const uint16_t sizes[] = {0, 1, 15, 16, 17, 80, 1400};
	uint8_t hdr[32];
	struct ist_hdr h;
	size_t len;

	(void)state;
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		len = mk(&key1, 0xcafe, 1 + i, sizes[i]);
		memcpy(hdr, pkt, 32);
		assert_int_equal(ist_aead_pkt_seal(&aead, &key1, pkt, len), 0);
		assert_memory_equal(pkt, hdr, 32); /* header authenticated, not encrypted */
		if (sizes[i] >= 16)
			assert_memory_not_equal(pkt + 32, plain, sizes[i]);
		/* DATA carries at least one fragment header. */
		if (sizes[i] > IST_WIRE_FRAG_LEN)
			assert_int_equal(ist_wire_pkt_check(pkt, len, true, &h), 0);
		assert_int_equal(ist_aead_pkt_open(&aead, &key1, pkt, len), 0);
		assert_memory_equal(pkt + 32, plain, sizes[i]);
	}
}

/* The documented layout, computed with a fresh one-shot EVP context. */
static void reference_seal(const struct ist_key *k, uint32_t epoch, uint64_t pn, uint8_t *ref)
{
	uint8_t iv[12];
	EVP_CIPHER_CTX *ctx;
	int outl;

	/* (salt XOR epoch) big endian, then pn big endian. */
	for (int i = 0; i < 4; i++)
		iv[i] = k->salt[i] ^ (uint8_t)(epoch >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(pn >> (56 - 8 * i));
	ctx = EVP_CIPHER_CTX_new();
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k->key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &outl, pkt, 32), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, ref, &outl, plain, PLEN), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, ref + PLEN, &outl), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, ref + PLEN), 1);
	EVP_CIPHER_CTX_free(ctx);
}

static void test_reference(void **state)
{
	/* Key changes and repeats, so both the cached and the fresh schedule are checked. */
	const struct ist_key *seq[] = {&key1, &key1, &key2, &key2, &key1, &key2};
	uint32_t epoch = 0x9abcdef0;
	uint64_t pn = 0x0102030405060708ull;
	uint8_t iv[12], ref[PLEN + 16], sealed[sizeof(pkt)];
	size_t len;

	(void)state;
	ist_aead_nonce(iv, &key1, epoch, pn);
	assert_memory_equal(iv, "\x3b\x0e\x1d\x24\x01\x02\x03\x04\x05\x06\x07\x08", 12);
	for (unsigned int i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		len = mk(seq[i], epoch, pn + i, PLEN);
		reference_seal(seq[i], epoch, pn + i, ref);
		assert_int_equal(ist_aead_pkt_seal(&aead, seq[i], pkt, len), 0);
		assert_memory_equal(pkt + 32, ref, PLEN + 16);
		memcpy(sealed, pkt, len);
		assert_int_equal(ist_aead_pkt_open(&aead, seq[i], pkt, len), 0);
		assert_memory_equal(pkt + 32, plain, PLEN);
		/* The other key must not open it, whatever the context had cached. */
		memcpy(pkt, sealed, len);
		pkt[24] = seq[i] == &key1 ? 2 : 1;
		assert_int_equal(
			ist_aead_pkt_open(&aead, seq[i] == &key1 ? &key2 : &key1, pkt, len),
			-EBADMSG);
	}
}

static void test_tamper(void **state)
{
	uint8_t sealed[sizeof(pkt)];
	uint64_t rejected = aead.rejected;
	size_t len, i;

	(void)state;
	len = mk(&key1, 77, 1000, 200);
	assert_int_equal(ist_aead_pkt_seal(&aead, &key1, pkt, len), 0);
	memcpy(sealed, pkt, len);
	/* Every bit of the header that open does not already refuse, every byte of the rest. */
	for (i = 0; i < len; i++) {
		memcpy(pkt, sealed, len);
		pkt[i] ^= i < 32 ? 0x10 : 0x01;
		assert_int_equal(ist_aead_pkt_open(&aead, &key1, pkt, len), -EBADMSG);
	}
	assert_int_equal(aead.rejected - rejected, len);
	/* Truncated or extended datagram. */
	memcpy(pkt, sealed, len);
	assert_int_equal(ist_aead_pkt_open(&aead, &key1, pkt, len - 1), -EBADMSG);
	assert_int_equal(ist_aead_pkt_open(&aead, &key1, pkt, 47), -EBADMSG);
	assert_int_equal(ist_aead_pkt_open(&aead, &key1, pkt, 0), -EBADMSG);
	/* The untouched packet still opens: nothing above changed the context for good. */
	memcpy(pkt, sealed, len);
	assert_int_equal(ist_aead_pkt_open(&aead, &key1, pkt, len), 0);
	assert_memory_equal(pkt + 32, plain, 200);
}

static void test_wrong_key(void **state)
{
	struct ist_key same_id = key2;
	uint8_t sealed[sizeof(pkt)];
	struct ist_keys ks = {.mode = IST_KEYS_PSK, .n = 1, .key = {key1}};
	size_t len;

	(void)state;
	len = mk(&key1, 5, 9, 100);
	assert_int_equal(ist_aead_pkt_seal(&aead, &key1, pkt, len), 0);
	memcpy(sealed, pkt, len);
	/* Another key: refused on the key id before any crypto. */
	assert_int_equal(ist_aead_pkt_open(&aead, &key2, pkt, len), -EBADMSG);
	/* Another key under the same id: refused by the tag. */
	same_id.id = 1;
	memcpy(pkt, sealed, len);
	assert_int_equal(ist_aead_pkt_open(&aead, &same_id, pkt, len), -EBADMSG);
	/* Same key bytes, other salt: another nonce, refused. */
	same_id = key1;
	same_id.salt[0] ^= 1;
	memcpy(pkt, sealed, len);
	assert_int_equal(ist_aead_pkt_open(&aead, &same_id, pkt, len), -EBADMSG);
	/* A key id the receiver does not have is not found at all. */
	assert_non_null(ist_keys_find(&ks, 1));
	assert_null(ist_keys_find(&ks, 2));
	memcpy(pkt, sealed, len);
	assert_int_equal(ist_aead_pkt_open(&aead, &key1, pkt, len), 0);
}

static void test_nonce_unique(void **state)
{
	uint8_t ct[4][64], iv[4][12];
	unsigned int i, j;

	(void)state;
	/* Same plaintext, same key: pn 1 and 2 of epoch A, pn 1 and 2 of epoch B. */
	for (i = 0; i < 4; i++) {
		uint32_t epoch = i < 2 ? 0x1111 : 0x2222;
		uint64_t pn = 1 + (i & 1);
		size_t len = mk(&key1, epoch, pn, 64);

		ist_aead_nonce(iv[i], &key1, epoch, pn);
		assert_int_equal(ist_aead_pkt_seal(&aead, &key1, pkt, len), 0);
		memcpy(ct[i], pkt + 32, 64);
	}
	for (i = 0; i < 4; i++)
		for (j = 0; j < i; j++) {
			assert_memory_not_equal(iv[i], iv[j], 12);
			assert_memory_not_equal(ct[i], ct[j], 64);
		}
	/* Sealing the same packet twice is deterministic (no hidden state). */
	mk(&key1, 0x1111, 1, 64);
	assert_int_equal(ist_aead_pkt_seal(&aead, &key1, pkt, 32 + 64 + 16), 0);
	assert_memory_equal(ct[0], pkt + 32, 64);
	/* Nonces of a run of pns are distinct and carry the pn. */
	for (uint64_t pn = 1; pn < 1000; pn++) {
		ist_aead_nonce(iv[0], &key1, 7, pn);
		ist_aead_nonce(iv[1], &key1, 7, pn + 1);
		assert_memory_not_equal(iv[0], iv[1], 12);
		assert_int_equal(iv[0][11], (uint8_t)pn);
	}
}

static void test_seal_errors(void **state)
{
	struct ist_hdr h = {.type = IST_WIRE_DATA, .epoch = 1, .pn = 1, .payload_len = 10};
	size_t len;

	(void)state;
	/* Not flagged for auth. */
	assert_int_equal(ist_wire_hdr_encode(pkt, sizeof(pkt), &h), 32);
	assert_int_equal(ist_aead_pkt_seal(&aead, &key1, pkt, sizeof(pkt)), -EINVAL);
	/* Key id of another key. */
	len = mk(&key2, 1, 1, 10);
	assert_int_equal(ist_aead_pkt_seal(&aead, &key1, pkt, len), -EINVAL);
	/* No room for the tag. */
	len = mk(&key1, 1, 1, 10);
	assert_int_equal(ist_aead_pkt_seal(&aead, &key1, pkt, len - 1), -ENOSPC);
	assert_int_equal(ist_aead_pkt_seal(&aead, &key1, pkt, 47), -ENOSPC);
	/* Open refuses a packet that is not flagged. */
	assert_int_equal(ist_aead_pkt_seal(&aead, &key1, pkt, len), 0);
	pkt[7] = 0;
	assert_int_equal(ist_aead_pkt_open(&aead, &key1, pkt, len), -EBADMSG);
}

static void test_no_alloc_per_packet(void **state)
{
	unsigned long before;
	size_t len;
	int i;

	(void)state;
	/* Warm up both directions with both keys, as an lcore would. */
	len = mk(&key1, 3, 1, PLEN);
	assert_int_equal(ist_aead_pkt_seal(&aead, &key1, pkt, len), 0);
	assert_int_equal(ist_aead_pkt_open(&aead, &key1, pkt, len), 0);
	before = n_alloc;
	for (i = 0; i < 1000; i++) {
		const struct ist_key *k = i & 1 ? &key2 : &key1;

		len = mk(k, 3, (uint64_t)i + 2, PLEN);
		assert_int_equal(ist_aead_pkt_seal(&aead, k, pkt, len), 0);
		assert_int_equal(ist_aead_pkt_open(&aead, k, pkt, len), 0);
		pkt[40] ^= 1;
		assert_int_equal(ist_aead_pkt_open(&aead, k, pkt, len), -EBADMSG);
	}
	assert_int_equal(n_alloc - before, 0);
	/* The counter does count: the next context allocates. */
	{
		struct ist_aead other;

		assert_int_equal(ist_aead_ctx_init(&other), 0);
		assert_true(n_alloc > before);
		ist_aead_ctx_fini(&other);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_reference),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_nonce_unique),
		cmocka_unit_test(test_seal_errors),
		cmocka_unit_test(test_no_alloc_per_packet),
	};

	/* Before OpenSSL allocates anything, or it refuses the swap. */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
		return 1;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
