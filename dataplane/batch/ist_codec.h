/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Frame body compression: codec specs, per-lcore codec contexts, dictionaries.
 *
 * A codec spec is the configured string of a stream or topic class:
 *
 *     none | lz4 | lz4+dict | zstd:<1..19> | zstd:<1..19>+dict
 *
 * "+dict" compresses with the dictionary whose id the caller puts in
 * spec->dict_id once one is trained and added (ist_dict.h); until then
 * (dict_id 0) frames are compressed without one, so a stream can start
 * before its first dictionary exists.
 *
 * A codec context (struct ist_codec_ctx) holds everything a compressor or
 * decompressor needs, allocated once: the LZ4 state, a zstd compression
 * context in a fixed workspace (ZSTD_initStaticCCtx(), so zstd can never
 * allocate on the data path), a static zstd decompression context, and a
 * table of dictionaries by id 1..255. Adding a dictionary builds its zstd
 * CDict (for one level) and DDict and a pre-loaded LZ4 stream; each frame
 * then costs a 16 KiB copy of that LZ4 stream, or nothing extra for zstd.
 *
 * Body sizes: at most IST_CODEC_MAX_SRC bytes are compressed at once (one
 * frame body: a frame must fit IST_WIRE_MAX_FRAME); decompression takes any
 * size the caller has room for.
 *
 * Threading: one context per lcore; a context is used by one thread at a
 * time. ist_codec_spec_parse() and ist_codec_spec_format() are reentrant.
 *
 * Written by hand: only the glue. Compression is liblz4 and libzstd.
 */
#ifndef ISTHMUS_IST_CODEC_H
#define ISTHMUS_IST_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isthmus/wire.h"

/** Largest body compressed in one call: a whole frame fits IST_WIRE_MAX_FRAME. */
#define IST_CODEC_MAX_SRC   (IST_WIRE_MAX_FRAME - (uint32_t)sizeof(struct ist_wire_frame))
#define IST_CODEC_LEVEL_MIN 1
#define IST_CODEC_LEVEL_MAX 19
/** Dictionary ids are 1..IST_CODEC_DICT_MAX (one byte in the frame header, 0: none). */
#define IST_CODEC_DICT_MAX 255
/** Largest dictionary accepted (zstd's default trained size is 110 KiB; LZ4 uses the last 64 KiB). */
#define IST_CODEC_DICT_MAX_LEN (1u << 20)

/** A parsed codec spec. */
struct ist_codec_spec {
	uint8_t codec;    /**< enum ist_wire_codec */
	uint8_t level;    /**< zstd: 1..19; 0 for none and lz4 */
	uint8_t use_dict; /**< "+dict" */
	uint8_t dict_id;  /**< with use_dict: dictionary to use, 0 while none is trained */
};

struct ist_codec_ctx;

/**
 * Parse a codec spec string (see @file). dict_id is set to 0.
 *
 * @param err
 *   Receives a one-line message naming the value and the accepted forms.
 * @return
 *   0 or -EINVAL.
 */
int ist_codec_spec_parse(const char *s, struct ist_codec_spec *spec, char *err, size_t errlen);

/**
 * Write the spec's string form ("zstd:3+dict"), dict_id not included.
 *
 * @return
 *   Characters written (as snprintf), or -EINVAL for a spec that does not parse back.
 */
int ist_codec_spec_format(const struct ist_codec_spec *spec, char *buf, size_t len);

/**
 * Create a codec context: about 2 MiB (zstd level 19 on IST_CODEC_MAX_SRC
 * bytes) plus the dictionaries added later. @locality lcore set-up.
 *
 * @return
 *   The context, or NULL (out of memory).
 */
struct ist_codec_ctx *ist_codec_ctx_create(void);

/** Free a context and its dictionaries. NULL is allowed. */
void ist_codec_ctx_free(struct ist_codec_ctx *cc);

/**
 * Add dictionary dict_id (a copy of dict is kept). Builds the zstd DDict and
 * the LZ4 stream, and with zstd_level 1..19 the zstd CDict of that level
 * (zstd bakes the level into a CDict: a zstd frame with this dictionary must
 * use that level; 0 when the context only decodes or only uses LZ4). May
 * grow the zstd workspace, verified by trial compressions. Off the fast
 * path (allocates, up to ~0.1 s at level 19). @locality owning lcore, between bursts.
 *
 * @param err
 *   One-line message on failure.
 * @return
 *   0; -EINVAL (id 0, len 0 or above IST_CODEC_DICT_MAX_LEN, level out of
 *   range, zstd refused the dictionary), -EEXIST (id in use: an id names
 *   one dictionary for the life of a session, remove it first), -ENOMEM.
 */
int ist_codec_ctx_dict_add(struct ist_codec_ctx *cc, uint8_t dict_id, const void *dict, size_t len,
			   int zstd_level, char *err, size_t errlen);

/**
 * Remove dictionary dict_id. @locality owning lcore, between bursts.
 *
 * @return
 *   0 or -ENOENT.
 */
int ist_codec_ctx_dict_del(struct ist_codec_ctx *cc, uint8_t dict_id);

/** True when dict_id is loaded. */
bool ist_codec_ctx_dict_has(const struct ist_codec_ctx *cc, uint8_t dict_id);

/**
 * Compress src into dst. HOT: no allocation.
 *
 * The dictionary used is spec->dict_id when spec->use_dict is set and
 * dict_id is not 0 (ist_codec_spec_dict() says which). LZ4 uses
 * acceleration 1; zstd writes no checksum and no dictionary id (the frame
 * header carries the CRC32C and the id).
 *
 * @param cap
 *   Room in dst. Give body length - 1 to learn cheaply that the data does
 *   not shrink: both compressors stop when dst is full.
 * @return
 *   Compressed length (> 0); 0 when the result does not fit cap; -EINVAL
 *   (len 0 or above IST_CODEC_MAX_SRC, bad spec, codec none, a zstd
 *   dictionary added for another level or without one), -ENOENT (dictionary
 *   not loaded), -EIO (the compressor failed otherwise).
 */
int ist_codec_compress(struct ist_codec_ctx *cc, const struct ist_codec_spec *spec, const void *src,
		       size_t len, void *dst, size_t cap);

/** Dictionary id a frame compressed with spec carries (0: none). */
static inline uint8_t ist_codec_spec_dict(const struct ist_codec_spec *spec)
{
	return spec->use_dict ? spec->dict_id : 0;
}

/**
 * Decompress exactly dst_len bytes. HOT: no allocation.
 *
 * @return
 *   0; -EINVAL (codec unknown or none), -ENOENT (dict_id not loaded),
 *   -EBADMSG (corrupt input, or output not exactly dst_len bytes).
 */
int ist_codec_decompress(struct ist_codec_ctx *cc, uint8_t codec, uint8_t dict_id, const void *src,
			 size_t len, void *dst, size_t dst_len);

#endif /* ISTHMUS_IST_CODEC_H */
