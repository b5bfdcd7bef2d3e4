/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * AES-256-GCM sealing of link packets (OpenSSL EVP), in place.
 *
 * A sealed packet is
 *
 *     header (32 bytes, AAD) | payload (ciphertext, payload_len bytes) | tag (16 bytes)
 *
 * The header is authenticated, not encrypted: the receiver needs it to find
 * the key (key_id), the replay window (epoch) and the nonce (pn) before it
 * can decrypt. The whole header is the AAD, reserved bytes included, so no
 * header bit can be changed undetected.
 *
 * Nonce (12 bytes): (salt XOR sender epoch) as 4 bytes big endian, then pn as
 * 8 bytes big endian. Both appliances load the same key file and both start
 * pn at 1 in every epoch; the sender's epoch in the nonce keeps the two
 * directions, and every restart, from reusing a (key, nonce) pair. The epoch
 * is in the AAD, so the receiver builds the same nonce from the header.
 *
 * Threading: one struct ist_aead per lcore; its EVP contexts are allocated
 * once by ist_aead_ctx_init() (@locality lcore set-up, not the hot path) and
 * then re-initialised per packet (IV, and the key when it changes), which
 * allocates nothing. Keys are read only.
 *
 * Cost per 1400-byte payload (tests/wire/bench_wire, one core of an Intel
 * Xeon virtual machine, TSC 2.3 GHz, OpenSSL 3.0.22 with AES-NI and PCLMULQDQ):
 * seal ~1300 cycles (560 ns), open ~1250 cycles (540 ns), about 20 Gbit/s
 * per lcore. Re-keying every packet would add ~580 cycles.
 *
 * Written by hand around OpenSSL: DPDK's cryptodev would need a crypto PMD
 * and mbuf-based sessions; for a few Gbit/s per lcore the EVP call is
 * simpler and as fast on the CPU.
 */
#ifndef ISTHMUS_IST_AEAD_H
#define ISTHMUS_IST_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "ist_keys.h"

#define IST_AEAD_NONCE_LEN 12

/* OpenSSL types, so that includers do not need OpenSSL's headers. */
struct evp_cipher_ctx_st;
struct evp_cipher_st;

/*
 * Each context remembers the key it was last keyed with, so a packet under
 * the same key only sets the IV: the AES key schedule costs about 600 cycles,
 * a third of a 1400-byte seal. The copy is compared, not the pointer, so a key
 * set reloaded at the same address cannot leave a stale schedule behind.
 */
struct ist_aead_dir {
	struct evp_cipher_ctx_st *ctx; /* lcore: rw */
	bool keyed;                    /* lcore: rw; `key` is the schedule in ctx */
	uint8_t key[IST_KEY_LEN];      /* lcore: rw */
};

struct ist_aead {
	struct ist_aead_dir enc;
	struct ist_aead_dir dec;
	struct evp_cipher_st *cipher; /* set at init, ro */
	uint64_t sealed;              /* lcore: rw, mgmt: ro */
	uint64_t opened;              /* lcore: rw, mgmt: ro */
	uint64_t rejected;            /* lcore: rw, mgmt: ro; tag or header mismatch */
} __rte_cache_aligned;

/**
 * Allocate the lcore's cipher contexts. @locality lcore set-up (allocates).
 *
 * @return
 *   0; -ENOMEM; -ENOTSUP when OpenSSL offers no AES-256-GCM.
 */
int ist_aead_ctx_init(struct ist_aead *a);

/** Free the contexts and wipe the remembered keys (OpenSSL wipes its schedules). */
void ist_aead_ctx_fini(struct ist_aead *a);

/**
 * The 12-byte nonce of packet pn of a sender's epoch under key k. HOT.
 * Exposed for tests and docs; seal and open build it themselves.
 */
void ist_aead_nonce(uint8_t iv[IST_AEAD_NONCE_LEN], const struct ist_key *k, uint32_t epoch,
		    uint64_t pn);

/**
 * Seal a packet in place. HOT.
 *
 * pkt holds an encoded header (IST_WIRE_F_AUTH set, key_id == k->id, epoch,
 * pn and payload_len final) and the payload; the payload is encrypted in
 * place and the tag written right after it, so the datagram is
 * IST_WIRE_HDR_LEN + payload_len + IST_WIRE_TAG_LEN bytes.
 *
 * Cost: see ist_aead.c, beside the function.
 *
 * @param a
 *   The lcore's context.
 * @param k
 *   The sending key (ist_keys_sender()).
 * @param pkt
 *   The packet.
 * @param cap
 *   Bytes available at pkt.
 * @return
 *   0; -ENOSPC (cap < header + payload + tag); -EINVAL (header not flagged
 *   IST_WIRE_F_AUTH or key_id != k->id); -EIO (OpenSSL failed).
 */
int ist_aead_pkt_seal(struct ist_aead *a, const struct ist_key *k, uint8_t *pkt, size_t cap);

/**
 * Verify and decrypt a packet in place. HOT.
 *
 * Call it on a datagram that passed ist_wire_pkt_check(), with the key the
 * header's key_id names (ist_keys_find()). On success the payload is
 * plaintext; on failure it is garbage and the packet must be dropped.
 *
 * Cost: see ist_aead.c, beside the function.
 *
 * @param a
 *   The lcore's context.
 * @param k
 *   The key named by the header.
 * @param pkt
 *   The datagram.
 * @param len
 *   Its length: header + payload_len + tag.
 * @return
 *   0; -EBADMSG (tag mismatch: header, payload or tag changed, wrong key;
 *   or the header's length, flag or key_id do not fit).
 */
int ist_aead_pkt_open(struct ist_aead *a, const struct ist_key *k, uint8_t *pkt, size_t len);

#endif /* ISTHMUS_IST_AEAD_H */
