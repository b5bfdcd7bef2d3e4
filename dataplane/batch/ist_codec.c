/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Codec contexts: LZ4 and zstd with preallocated state and dictionaries.
 *
 * zstd sizes its work tables from the level, the source size and the
 * dictionary. A dynamic ZSTD_CCtx would grow (and, after a while of
 * oversized use, shrink and regrow) its workspace on the data path, so the
 * context uses a static one: sized at creation for every level at
 * IST_CODEC_MAX_SRC without a dictionary (zstd's estimate is exact there),
 * and grown when a dictionary is added. zstd's estimate is not an upper
 * bound with a CDict (level 4 with a 75 KB dictionary needs 1.32 MB against
 * an estimate of 1.30 MB), so dict_add proves the workspace by compressing
 * bodies of every size class and doubles it until they all pass.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include <lz4.h>
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include "ist_codec.h"

#define SPEC_FORMS "accepted: none, lz4, lz4+dict, zstd:<1..19>, zstd:<1..19>+dict"

/* Workspace ceiling: far above any level's need at IST_CODEC_MAX_SRC. */
#define ZSTD_WS_MAX (256u << 20)

struct codec_dict {
	uint8_t *raw;
	size_t len;
	LZ4_stream_t *lz4; /* LZ4_loadDict() of raw; copied into the work stream per frame */
	ZSTD_CDict *cdict; /* NULL when added with level 0 */
	ZSTD_DDict *ddict;
	int level;
};

struct ist_codec_ctx {
	LZ4_stream_t lz4; /* LZ4_compress_fast_extState() state and dictionary work stream */
	ZSTD_CCtx *zc;    /* static, in zc_ws */
	void *zc_ws;
	size_t zc_ws_len;
	ZSTD_DCtx *zd; /* static, in zd_ws */
	void *zd_ws;
	struct codec_dict *dicts[IST_CODEC_DICT_MAX + 1];
} __rte_cache_aligned;

/* ---- specs ---- */

int ist_codec_spec_parse(const char *s, struct ist_codec_spec *spec, char *err, size_t errlen)
{
	static const char dict_sfx[] = "+dict";
	struct ist_codec_spec sp = {0};
	size_t n;
	char *end;
	long level;

	if (s == NULL || spec == NULL) {
		snprintf(err, errlen, "codec: no value; " SPEC_FORMS);
		return -EINVAL;
	}
	n = strlen(s);
	if (n > 5 && strcmp(s + n - 5, dict_sfx) == 0) {
		sp.use_dict = 1;
		n -= 5;
	}
	if (n == 4 && strncmp(s, "none", 4) == 0) {
		if (sp.use_dict) {
			snprintf(err, errlen, "codec \"%s\": none takes no dictionary; " SPEC_FORMS,
				 s);
			return -EINVAL;
		}
		sp.codec = IST_CODEC_NONE;
	} else if (n == 3 && strncmp(s, "lz4", 3) == 0) {
		sp.codec = IST_CODEC_LZ4;
	} else if ((n == 4 || (n > 4 && s[4] == ':')) && strncmp(s, "zstd", 4) == 0) {
		if (n <= 5) {
			snprintf(err, errlen,
				 "codec \"%s\": zstd needs a level, as zstd:3; " SPEC_FORMS, s);
			return -EINVAL;
		}
		errno = 0;
		level = strtol(s + 5, &end, 10);
		if (end != s + n || errno != 0 || s[5] == '+' || s[5] == '-' || s[5] == ' ') {
			snprintf(err, errlen,
				 "codec \"%s\": zstd level is not a number; " SPEC_FORMS, s);
			return -EINVAL;
		}
		if (level < IST_CODEC_LEVEL_MIN || level > IST_CODEC_LEVEL_MAX) {
			snprintf(err, errlen,
				 "codec \"%s\": zstd level %ld out of range %d..%d; " SPEC_FORMS, s,
				 level, IST_CODEC_LEVEL_MIN, IST_CODEC_LEVEL_MAX);
			return -EINVAL;
		}
		sp.codec = IST_CODEC_ZSTD;
		sp.level = (uint8_t)level;
	} else {
		snprintf(err, errlen, "codec \"%s\": unknown; " SPEC_FORMS, s);
		return -EINVAL;
	}
	*spec = sp;
	return 0;
}

static bool spec_valid(const struct ist_codec_spec *spec)
{
	switch (spec->codec) {
	case IST_CODEC_NONE:
		return spec->level == 0 && !spec->use_dict && spec->dict_id == 0;
	case IST_CODEC_LZ4:
		return spec->level == 0;
	case IST_CODEC_ZSTD:
		return spec->level >= IST_CODEC_LEVEL_MIN && spec->level <= IST_CODEC_LEVEL_MAX;
	default:
		return false;
	}
}

int ist_codec_spec_format(const struct ist_codec_spec *spec, char *buf, size_t len)
{
	const char *sfx;

	if (spec == NULL || !spec_valid(spec))
		return -EINVAL;
	sfx = spec->use_dict ? "+dict" : "";
	switch (spec->codec) {
	case IST_CODEC_NONE:
		return snprintf(buf, len, "none");
	case IST_CODEC_LZ4:
		return snprintf(buf, len, "lz4%s", sfx);
	default:
		return snprintf(buf, len, "zstd:%u%s", spec->level, sfx);
	}
}

/* ---- contexts ---- */

/* Parameters that hold for every frame, set again whenever the CCtx is rebuilt. */
static int zstd_cctx_setup(ZSTD_CCtx *zc)
{
	if (ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_checksumFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_dictIDFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_contentSizeFlag, 1)))
		return -EINVAL;
	return 0;
}

/* Replace the CCtx by one in a new workspace of len bytes. */
static int zstd_ws_set(struct ist_codec_ctx *cc, size_t len)
{
	void *ws = malloc(len);
	ZSTD_CCtx *zc;

	if (ws == NULL)
		return -ENOMEM;
	zc = ZSTD_initStaticCCtx(ws, len);
	if (zc == NULL || zstd_cctx_setup(zc) < 0) {
		free(ws);
		return -ENOMEM;
	}
	free(cc->zc_ws);
	cc->zc_ws = ws;
	cc->zc_ws_len = len;
	cc->zc = zc;
	return 0;
}

struct ist_codec_ctx *ist_codec_ctx_create(void)
{
	struct ist_codec_ctx *cc;
	size_t need = 0, sz;
	int level;

	cc = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sizeof(*cc), RTE_CACHE_LINE_SIZE));
	if (cc == NULL)
		return NULL;
	memset(cc, 0, sizeof(*cc));
	if (LZ4_initStream(&cc->lz4, sizeof(cc->lz4)) == NULL)
		goto fail;
	for (level = IST_CODEC_LEVEL_MIN; level <= IST_CODEC_LEVEL_MAX; level++) {
		sz = ZSTD_estimateCCtxSize_usingCParams(
			ZSTD_getCParams(level, IST_CODEC_MAX_SRC, 0));
		need = RTE_MAX(need, sz);
	}
	if (zstd_ws_set(cc, need) < 0)
		goto fail;
	sz = ZSTD_estimateDCtxSize();
	cc->zd_ws = malloc(sz);
	if (cc->zd_ws == NULL)
		goto fail;
	cc->zd = ZSTD_initStaticDCtx(cc->zd_ws, sz);
	if (cc->zd == NULL)
		goto fail;
	return cc;
fail:
	ist_codec_ctx_free(cc);
	return NULL;
}

static void dict_free(struct codec_dict *d)
{
	if (d == NULL)
		return;
	ZSTD_freeCDict(d->cdict);
	ZSTD_freeDDict(d->ddict);
	LZ4_freeStream(d->lz4);
	free(d->raw);
	free(d);
}

void ist_codec_ctx_free(struct ist_codec_ctx *cc)
{
	unsigned int i;

	if (cc == NULL)
		return;
	for (i = 0; i <= IST_CODEC_DICT_MAX; i++)
		dict_free(cc->dicts[i]);
	free(cc->zc_ws);
	free(cc->zd_ws);
	free(cc);
}

/*
 * Compress bodies of every size class with the new CDict; grow the
 * workspace while zstd reports it too small. Table sizes depend on the
 * source size (and on whether zstd attaches or copies the CDict, which it
 * decides by source size), not on the content.
 */
static int zstd_ws_prove(struct ist_codec_ctx *cc, const struct codec_dict *d, char *err,
			 size_t errlen)
{
	static const size_t sizes[] = {64, 512, 2048, 8192, 16384, 32768, IST_CODEC_MAX_SRC};
	size_t dst_cap = ZSTD_compressBound(IST_CODEC_MAX_SRC), i, r;
	uint8_t *src, *dst;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int rc = 0;

	src = malloc(IST_CODEC_MAX_SRC);
	dst = malloc(dst_cap);
	if (src == NULL || dst == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* Half dictionary text, half noise: exercises matches and literals. */
	for (i = 0; i < IST_CODEC_MAX_SRC; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		src[i] = (i / 64) % 2 ? (uint8_t)x : d->raw[(x >> 8) % d->len];
	}
	for (i = 0; i < RTE_DIM(sizes);) {
		ZSTD_CCtx_reset(cc->zc, ZSTD_reset_session_only);
		ZSTD_CCtx_refCDict(cc->zc, d->cdict);
		r = ZSTD_compress2(cc->zc, dst, dst_cap, src, sizes[i]);
		if (!ZSTD_isError(r)) {
			i++;
			continue;
		}
		if (ZSTD_getErrorCode(r) != ZSTD_error_memory_allocation ||
		    cc->zc_ws_len * 2 > ZSTD_WS_MAX) {
			snprintf(err, errlen,
				 "zstd dictionary at level %d: trial compression failed: %s",
				 d->level, ZSTD_getErrorName(r));
			rc = -EINVAL;
			goto out;
		}
		rc = zstd_ws_set(cc, cc->zc_ws_len * 2);
		if (rc < 0)
			goto out;
		i = 0;
	}
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "zstd dictionary: out of memory for the workspace");
	ZSTD_CCtx_refCDict(cc->zc, NULL);
	free(src);
	free(dst);
	return rc;
}

int ist_codec_ctx_dict_add(struct ist_codec_ctx *cc, uint8_t dict_id, const void *dict, size_t len,
			   int zstd_level, char *err, size_t errlen)
{
	struct codec_dict *d;
	size_t need;
	int rc;

	if (cc == NULL || dict == NULL || dict_id == 0 || len == 0 ||
	    len > IST_CODEC_DICT_MAX_LEN) {
		snprintf(err, errlen, "dictionary %u: id must be 1..%d and length 1..%u (got %zu)",
			 dict_id, IST_CODEC_DICT_MAX, IST_CODEC_DICT_MAX_LEN, len);
		return -EINVAL;
	}
	if (zstd_level != 0 &&
	    (zstd_level < IST_CODEC_LEVEL_MIN || zstd_level > IST_CODEC_LEVEL_MAX)) {
		snprintf(err, errlen, "dictionary %u: zstd level %d out of range %d..%d (0: none)",
			 dict_id, zstd_level, IST_CODEC_LEVEL_MIN, IST_CODEC_LEVEL_MAX);
		return -EINVAL;
	}
	if (cc->dicts[dict_id] != NULL) {
		snprintf(err, errlen, "dictionary %u: id in use; remove it first", dict_id);
		return -EEXIST;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		goto nomem;
	d->level = zstd_level;
	d->len = len;
	d->raw = malloc(len);
	d->lz4 = LZ4_createStream();
	if (d->raw == NULL || d->lz4 == NULL)
		goto nomem;
	memcpy(d->raw, dict, len);
	/* LZ4 keeps the last 64 KiB; the decoder gets the whole buffer and reaches the same bytes. */
	LZ4_loadDict(d->lz4, (const char *)d->raw, (int)len);
	d->ddict = ZSTD_createDDict(d->raw, len);
	if (d->ddict == NULL) {
		snprintf(err, errlen, "dictionary %u: zstd refused it (%zu bytes)", dict_id, len);
		dict_free(d);
		return -EINVAL;
	}
	if (zstd_level != 0) {
		d->cdict = ZSTD_createCDict(d->raw, len, zstd_level);
		if (d->cdict == NULL)
			goto nomem;
		need = ZSTD_estimateCCtxSize_usingCParams(
			       ZSTD_getCParams(zstd_level, IST_CODEC_MAX_SRC, len)) +
		       ZSTD_estimateCCtxSize_usingCParams(
			       ZSTD_getCParams(zstd_level, IST_CODEC_MAX_SRC, 0));
		if (need > cc->zc_ws_len) {
			rc = zstd_ws_set(cc, need);
			if (rc < 0)
				goto nomem;
		}
		rc = zstd_ws_prove(cc, d, err, errlen);
		if (rc < 0) {
			dict_free(d);
			return rc;
		}
	}
	cc->dicts[dict_id] = d;
	return 0;
nomem:
	snprintf(err, errlen, "dictionary %u: out of memory (%zu bytes)", dict_id, len);
	dict_free(d);
	return -ENOMEM;
}

int ist_codec_ctx_dict_del(struct ist_codec_ctx *cc, uint8_t dict_id)
{
	if (cc == NULL || cc->dicts[dict_id] == NULL)
		return -ENOENT;
	dict_free(cc->dicts[dict_id]);
	cc->dicts[dict_id] = NULL;
	return 0;
}

bool ist_codec_ctx_dict_has(const struct ist_codec_ctx *cc, uint8_t dict_id)
{
	return cc != NULL && dict_id != 0 && cc->dicts[dict_id] != NULL;
}

/* ---- data path ---- */

/* HOT */
int ist_codec_compress(struct ist_codec_ctx *cc, const struct ist_codec_spec *spec, const void *src,
		       size_t len, void *dst, size_t cap)
{
	const struct codec_dict *d = NULL;
	uint8_t dict_id = ist_codec_spec_dict(spec);
	size_t r;
	int n;

	if (unlikely(len == 0 || len > IST_CODEC_MAX_SRC || !spec_valid(spec) ||
		     spec->codec == IST_CODEC_NONE))
		return -EINVAL;
	if (dict_id != 0) {
		d = cc->dicts[dict_id];
		if (unlikely(d == NULL))
			return -ENOENT;
	}
	cap = RTE_MIN(cap, (size_t)INT32_MAX);
	if (spec->codec == IST_CODEC_LZ4) {
		if (d == NULL)
			return LZ4_compress_fast_extState(&cc->lz4, src, dst, (int)len, (int)cap,
							  1);
		/* A copy of the pre-loaded stream: LZ4_loadDict() hashes up to 64 KiB per call. */
		memcpy(&cc->lz4, d->lz4, sizeof(cc->lz4));
		n = LZ4_compress_fast_continue(&cc->lz4, src, dst, (int)len, (int)cap, 1);
		return n;
	}
	ZSTD_CCtx_reset(cc->zc, ZSTD_reset_session_only);
	if (d != NULL) {
		if (unlikely(d->cdict == NULL || d->level != spec->level))
			return -EINVAL;
		ZSTD_CCtx_refCDict(cc->zc, d->cdict);
	} else {
		ZSTD_CCtx_refCDict(cc->zc, NULL);
		ZSTD_CCtx_setParameter(cc->zc, ZSTD_c_compressionLevel, spec->level);
	}
	r = ZSTD_compress2(cc->zc, dst, cap, src, len);
	if (likely(!ZSTD_isError(r)))
		return (int)r;
	return ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall ? 0 : -EIO;
}

/* HOT */
int ist_codec_decompress(struct ist_codec_ctx *cc, uint8_t codec, uint8_t dict_id, const void *src,
			 size_t len, void *dst, size_t dst_len)
{
	const struct codec_dict *d = NULL;
	size_t r;
	int n;

	if (unlikely(codec != IST_CODEC_LZ4 && codec != IST_CODEC_ZSTD))
		return -EINVAL;
	if (dict_id != 0) {
		d = cc->dicts[dict_id];
		if (unlikely(d == NULL))
			return -ENOENT;
	}
	if (unlikely(len > INT32_MAX || dst_len > INT32_MAX))
		return -EBADMSG;
	if (codec == IST_CODEC_LZ4) {
		if (d == NULL)
			n = LZ4_decompress_safe(src, dst, (int)len, (int)dst_len);
		else
			n = LZ4_decompress_safe_usingDict(src, dst, (int)len, (int)dst_len,
							  (const char *)d->raw, (int)d->len);
		return n >= 0 && (size_t)n == dst_len ? 0 : -EBADMSG;
	}
	if (d == NULL)
		r = ZSTD_decompressDCtx(cc->zd, dst, dst_len, src, len);
	else
		r = ZSTD_decompress_usingDDict(cc->zd, dst, dst_len, src, len, d->ddict);
	return !ZSTD_isError(r) && r == dst_len ? 0 : -EBADMSG;
}
