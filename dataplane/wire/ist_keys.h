/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Pre-shared link keys: the key file and the loaded key set.
 *
 * File format (docs/WIRE.md, "Key file"), one directive per line, '#' starts
 * a comment, blank lines are ignored:
 *
 *     key <id 1..255> <64 hex: AES-256 key> <8 hex: nonce salt> [send]
 *     mode none
 *
 * At most IST_KEYS_MAX keys: during a rotation both are accepted on receive
 * and exactly one, marked `send`, seals outgoing packets (a single key is the
 * sender whether marked or not). `mode none`, alone in the file, declares the
 * link unauthenticated on purpose, so that a missing or empty key file is
 * never mistaken for it. The file must not be accessible by group or others.
 *
 * Threading: ist_keys_load() and ist_keys_wipe() run at start-up or on reload
 * (@locality main or mgmt thread); a loaded set is read-only and may be read
 * by any number of lcores (publish a new set by pointer swap, not in place).
 *
 * Written by hand: rte_cfgfile wants INI sections and keeps no line numbers
 * for error messages; the format is four tokens a line.
 */
#ifndef ISTHMUS_IST_KEYS_H
#define ISTHMUS_IST_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IST_KEYS_MAX     2
#define IST_KEY_LEN      32
#define IST_KEY_SALT_LEN 4
/** Largest key file accepted; a real one is a few hundred bytes. */
#define IST_KEYS_FILE_MAX 8192

enum ist_keys_mode {
	IST_KEYS_UNSET = 0, /**< nothing loaded */
	IST_KEYS_NONE,      /**< `mode none`: unauthenticated link */
	IST_KEYS_PSK,       /**< one or two pre-shared keys */
};

struct ist_key {
	uint8_t id; /**< 1..255, the header's key_id */
	uint8_t salt[IST_KEY_SALT_LEN];
	uint8_t key[IST_KEY_LEN];
};

struct ist_keys {
	enum ist_keys_mode mode;
	uint8_t n;    /**< keys in key[] */
	uint8_t send; /**< index in key[] of the sending key */
	struct ist_key key[IST_KEYS_MAX];
};

/**
 * Load a key file.
 *
 * @param path
 *   The key file.
 * @param ks
 *   Out: the key set; wiped on error.
 * @param err
 *   Out: on error, one line "FILE:LINE: what is wrong: how to fix it" (or
 *   "FILE: ..." for whole-file problems). Key material never appears in it.
 * @param errlen
 *   Size of err.
 * @return
 *   0; -ENOENT and other open/read errors; -EACCES when group or others have
 *   any permission on the file ("chmod 600 FILE"); -EFBIG (larger than
 *   IST_KEYS_FILE_MAX); -EINVAL for any content error: unknown directive, bad
 *   id, duplicate id, key or salt not hex or of the wrong length, an all-zero
 *   key, more than IST_KEYS_MAX keys, no or two `send` keys with two keys,
 *   `mode none` mixed with keys, no directive at all.
 */
int ist_keys_load(const char *path, struct ist_keys *ks, char *err, size_t errlen);

/** The link seals and expects sealed packets. */
static inline bool ist_keys_keyed(const struct ist_keys *ks)
{
	return ks->mode == IST_KEYS_PSK;
}

/**
 * The key a received packet names. HOT.
 *
 * @return
 *   The key, or NULL when id is not loaded (count as IST_WIRE_E_BAD_TAG).
 */
static inline const struct ist_key *ist_keys_find(const struct ist_keys *ks, uint8_t id)
{
	unsigned int i;

	for (i = 0; i < ks->n; i++)
		if (ks->key[i].id == id && id != 0)
			return &ks->key[i];
	return NULL;
}

/** The key that seals outgoing packets, or NULL on an unkeyed link. HOT. */
static inline const struct ist_key *ist_keys_sender(const struct ist_keys *ks)
{
	return ks->mode == IST_KEYS_PSK ? &ks->key[ks->send] : NULL;
}

/** Erase key material (the compiler may not elide it) and mark the set unloaded. */
void ist_keys_wipe(struct ist_keys *ks);

#endif /* ISTHMUS_IST_KEYS_H */
