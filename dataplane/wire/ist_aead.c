/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>

#include "ist_aead.h"
#include "ist_wire.h"

int ist_aead_ctx_init(struct ist_aead *a)
{
	memset(a, 0, sizeof(*a));
	/* Fetch once: an implicit fetch inside every EVP init would cost a lookup per packet. */
	a->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (a->cipher == NULL)
		return -ENOTSUP;
	a->enc.ctx = EVP_CIPHER_CTX_new();
	a->dec.ctx = EVP_CIPHER_CTX_new();
	if (a->enc.ctx == NULL || a->dec.ctx == NULL)
		goto nomem;
	/* Bind the cipher now; per packet only the key and IV are set. 12-byte IV is GCM's default. */
	if (EVP_EncryptInit_ex(a->enc.ctx, a->cipher, NULL, NULL, NULL) != 1 ||
	    EVP_DecryptInit_ex(a->dec.ctx, a->cipher, NULL, NULL, NULL) != 1)
		goto nomem;
	return 0;
nomem:
	ist_aead_ctx_fini(a);
	return -ENOMEM;
}

void ist_aead_ctx_fini(struct ist_aead *a)
{
	EVP_CIPHER_CTX_free(a->enc.ctx);
	EVP_CIPHER_CTX_free(a->dec.ctx);
	EVP_CIPHER_free(a->cipher);
	OPENSSL_cleanse(a, sizeof(*a));
}

/* HOT */
void ist_aead_nonce(uint8_t iv[IST_AEAD_NONCE_LEN], const struct ist_key *k, uint32_t epoch,
		    uint64_t pn)
{
	uint32_t salt;
	uint64_t be_pn = rte_cpu_to_be_64(pn);

	memcpy(&salt, k->salt, sizeof(salt));
	salt ^= rte_cpu_to_be_32(epoch);
	memcpy(iv, &salt, sizeof(salt));
	memcpy(iv + sizeof(salt), &be_pn, sizeof(be_pn));
}

/*
 * The key to pass to EVP's init: NULL when the context already holds k's
 * schedule. Constant-time compare: the cached key and k are both secrets.
 */
static inline const uint8_t *key_for(struct ist_aead_dir *d, const struct ist_key *k)
{
	if (likely(d->keyed && CRYPTO_memcmp(d->key, k->key, IST_KEY_LEN) == 0))
		return NULL;
	memcpy(d->key, k->key, IST_KEY_LEN);
	d->keyed = true;
	return k->key;
}

/*
 * HOT. 1400-byte payload, same key as the previous packet: ~1300 cycles,
 * 560 ns (tests/wire/bench_wire; best of 5 runs 1240 cycles; machine in
 * ist_aead.h). A key change adds the key schedule, ~580 cycles.
 */
int ist_aead_pkt_seal(struct ist_aead *a, const struct ist_key *k, uint8_t *pkt, size_t cap)
{
	const struct ist_wire_hdr *w = (const struct ist_wire_hdr *)pkt;
	EVP_CIPHER_CTX *ctx = a->enc.ctx;
	uint8_t iv[IST_AEAD_NONCE_LEN];
	uint8_t *payload = pkt + IST_WIRE_HDR_LEN;
	size_t plen;
	int outl;

	if (unlikely(cap < IST_WIRE_HDR_LEN + IST_WIRE_TAG_LEN))
		return -ENOSPC;
	plen = rte_be_to_cpu_16(w->payload_len);
	if (unlikely(cap < IST_WIRE_HDR_LEN + plen + IST_WIRE_TAG_LEN))
		return -ENOSPC;
	if (unlikely(!(rte_be_to_cpu_16(w->flags) & IST_WIRE_F_AUTH) || w->key_id != k->id))
		return -EINVAL;
	ist_aead_nonce(iv, k, rte_be_to_cpu_32(w->epoch), rte_be_to_cpu_64(w->pn));
	if (unlikely(
		    EVP_EncryptInit_ex(ctx, NULL, NULL, key_for(&a->enc, k), iv) != 1 ||
		    EVP_EncryptUpdate(ctx, NULL, &outl, pkt, IST_WIRE_HDR_LEN) != 1 ||
		    (plen > 0 && EVP_EncryptUpdate(ctx, payload, &outl, payload, (int)plen) != 1) ||
		    EVP_EncryptFinal_ex(ctx, payload + plen, &outl) != 1 ||
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, IST_WIRE_TAG_LEN,
					payload + plen) != 1)) {
		/* Whatever state OpenSSL is left in, do not trust the cached schedule. */
		a->enc.keyed = false;
		return -EIO;
	}
	a->sealed++;
	return 0;
}

/*
 * HOT. 1400-byte payload: ~1250 cycles, 540 ns whether the tag is good or
 * not (tests/wire/bench_wire; best of 5 runs 1190 cycles). Plus the key
 * schedule when the key changes, ~580 cycles.
 */
int ist_aead_pkt_open(struct ist_aead *a, const struct ist_key *k, uint8_t *pkt, size_t len)
{
	const struct ist_wire_hdr *w = (const struct ist_wire_hdr *)pkt;
	EVP_CIPHER_CTX *ctx = a->dec.ctx;
	uint8_t iv[IST_AEAD_NONCE_LEN];
	uint8_t *payload = pkt + IST_WIRE_HDR_LEN;
	uint8_t tag[IST_WIRE_TAG_LEN];
	size_t plen;
	int outl;

	if (unlikely(len < IST_WIRE_HDR_LEN + IST_WIRE_TAG_LEN))
		goto bad;
	plen = rte_be_to_cpu_16(w->payload_len);
	if (unlikely(len != IST_WIRE_HDR_LEN + plen + IST_WIRE_TAG_LEN))
		goto bad;
	/* A key that is not the one the header names would only fail later, at a higher cost. */
	if (unlikely(!(rte_be_to_cpu_16(w->flags) & IST_WIRE_F_AUTH) || w->key_id != k->id))
		goto bad;
	/* OpenSSL's ctrl takes a non-const pointer; give it a copy, not the packet. */
	memcpy(tag, payload + plen, sizeof(tag));
	ist_aead_nonce(iv, k, rte_be_to_cpu_32(w->epoch), rte_be_to_cpu_64(w->pn));
	if (unlikely(EVP_DecryptInit_ex(ctx, NULL, NULL, key_for(&a->dec, k), iv) != 1)) {
		a->dec.keyed = false;
		goto bad;
	}
	if (unlikely(
		    EVP_DecryptUpdate(ctx, NULL, &outl, pkt, IST_WIRE_HDR_LEN) != 1 ||
		    (plen > 0 && EVP_DecryptUpdate(ctx, payload, &outl, payload, (int)plen) != 1) ||
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, IST_WIRE_TAG_LEN, tag) != 1 ||
		    EVP_DecryptFinal_ex(ctx, payload + plen, &outl) != 1))
		goto bad;
	a->opened++;
	return 0;
bad:
	a->rejected++;
	return -EBADMSG;
}
