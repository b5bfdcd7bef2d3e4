/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>

#include "isthmus/wire.h"
#include "ist_batch.h"
#include "ist_codec.h"
#include "ist_synth.h"
#include "ist_wire.h"

#define STORE_MAGIC 0x53594e31u /* "SYN1" */

/* splitmix64: a fast, well-mixed function of its input. */
static inline uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t frame_key(const struct ist_synth_profile *p, uint32_t stream, uint32_t seq)
{
	return mix(p->seed ^ ((uint64_t)stream << 32 | seq));
}

uint32_t ist_synth_body_len(const struct ist_synth_profile *p, uint32_t stream, uint32_t seq)
{
	uint32_t span = p->max_body - p->min_body + 1;

	return p->min_body + (uint32_t)(mix(frame_key(p, stream, seq) + 1) % span);
}

/* Body bytes: 8 at a time from a counter keyed by the frame. */
static void body_fill(uint64_t key, uint8_t *b, uint32_t len)
{
	uint32_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t v = mix(key + i);

		memcpy(b + i, &v, 8);
	}
	if (i < len) {
		uint64_t v = mix(key + i);

		memcpy(b + i, &v, len - i);
	}
}

static void header_fill(struct ist_wire_frame *h, uint32_t stream, uint32_t seq, uint32_t blen,
			uint32_t crc)
{
	memset(h, 0, sizeof(*h));
	h->stream_id = rte_cpu_to_be_32(stream);
	h->record_count = rte_cpu_to_be_32(1);
	h->first_offset = rte_cpu_to_be_64(seq);
	h->codec = IST_CODEC_NONE;
	h->uncompressed_len = rte_cpu_to_be_32(blen);
	h->body_len = rte_cpu_to_be_32(blen);
	h->crc32c = rte_cpu_to_be_32(crc);
}

uint32_t ist_synth_frame_build(const struct ist_synth_profile *p, uint32_t stream, uint32_t seq,
			       uint8_t *buf, uint32_t cap)
{
	uint32_t blen = ist_synth_body_len(p, stream, seq);
	uint32_t len = sizeof(struct ist_wire_frame) + blen;
	struct ist_wire_frame h;

	if (len > cap)
		return 0;
	body_fill(frame_key(p, stream, seq), buf + sizeof(h), blen);
	header_fill(&h, stream, seq, blen, ist_wire_crc32c(buf + sizeof(h), blen, 0));
	memcpy(buf, &h, sizeof(h));
	return len;
}

enum ist_synth_bad ist_synth_frame_check(const struct ist_synth_profile *p, uint32_t stream,
					 uint32_t seq, const uint8_t *buf, uint32_t len)
{
	uint32_t blen = ist_synth_body_len(p, stream, seq);
	uint64_t key = frame_key(p, stream, seq);
	struct ist_wire_frame want, got;
	uint32_t i = 0;

	if (len != sizeof(got) + blen)
		return IST_SYNTH_BAD_LEN;
	memcpy(&got, buf, sizeof(got));
	header_fill(&want, stream, seq, blen, rte_be_to_cpu_32(got.crc32c));
	if (memcmp(&want, &got, sizeof(got)) != 0)
		return IST_SYNTH_BAD_HEADER;
	if (ist_wire_crc32c(buf + sizeof(got), blen, 0) != rte_be_to_cpu_32(got.crc32c))
		return IST_SYNTH_BAD_CRC;
	for (buf += sizeof(got); i + 8 <= blen; i += 8) {
		uint64_t v = mix(key + i);

		if (memcmp(buf + i, &v, 8) != 0)
			return IST_SYNTH_BAD_BYTES;
	}
	if (i < blen) {
		uint64_t v = mix(key + i);

		if (memcmp(buf + i, &v, blen - i) != 0)
			return IST_SYNTH_BAD_BYTES;
	}
	return IST_SYNTH_OK;
}

/* Old layout: next_seq and magic; current: then the tally and a trailer. */
static size_t store_len_v1(uint32_t n_streams)
{
	return ((size_t)n_streams + 1) * sizeof(uint32_t);
}

static size_t store_len(uint32_t n_streams)
{
	return ist_synth_store_tally_off(n_streams) + sizeof(struct ist_synth_tally) +
	       2 * sizeof(uint32_t);
}

int ist_synth_store_open(struct ist_synth_store *st, const char *path, uint32_t n_streams,
			 char *err, size_t errlen)
{
	size_t len = store_len(n_streams);
	uint32_t *trailer;
	struct stat sb;
	bool fresh, grow;
	void *map;
	int fd, rc;

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open the progress file (%s); check the path",
			 path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	fresh = sb.st_size == 0;
	/* A file from before the tally: the magic check below still applies. */
	grow = (size_t)sb.st_size == store_len_v1(n_streams);
	if (grow) {
		uint32_t magic = 0;

		if (pread(fd, &magic, sizeof(magic), (off_t)n_streams * sizeof(uint32_t)) !=
			    (ssize_t)sizeof(magic) ||
		    magic != STORE_MAGIC) {
			snprintf(err, errlen,
				 "%s: not an isthmus progress file; remove it to start over", path);
			close(fd);
			return -EINVAL;
		}
	}
	if (!fresh && !grow && (size_t)sb.st_size != len) {
		snprintf(err, errlen,
			 "%s: progress file is for another number of streams (%zu bytes, want "
			 "%zu); remove it to start over",
			 path, (size_t)sb.st_size, len);
		close(fd);
		return -EINVAL;
	}
	if ((fresh || grow) && ftruncate(fd, len) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot size the progress file (%s)", path,
			 strerror(errno));
		close(fd);
		return rc;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot map the progress file (%s)", path,
			 strerror(errno));
		close(fd);
		return rc;
	}
	st->next_seq = map;
	trailer = (uint32_t *)((uint8_t *)map + len - 2 * sizeof(uint32_t));
	if (fresh)
		st->next_seq[n_streams] = STORE_MAGIC;
	if (fresh || grow) {
		trailer[0] = n_streams;
		trailer[1] = STORE_MAGIC;
	}
	/* Stream counts whose files have the same size differ in the trailer. */
	if (trailer[1] == STORE_MAGIC && trailer[0] != n_streams) {
		snprintf(err, errlen,
			 "%s: progress file is for another number of streams (%u, want %u); "
			 "remove it to start over",
			 path, trailer[0], n_streams);
		munmap(map, len);
		close(fd);
		return -EINVAL;
	}
	if (st->next_seq[n_streams] != STORE_MAGIC || trailer[1] != STORE_MAGIC) {
		snprintf(err, errlen, "%s: not an isthmus progress file; remove it to start over",
			 path);
		munmap(map, len);
		close(fd);
		return -EINVAL;
	}
	st->tally =
		(struct ist_synth_tally *)((uint8_t *)map + ist_synth_store_tally_off(n_streams));
	st->n_streams = n_streams;
	st->map_len = len;
	st->fd = fd;
	return 0;
}

void ist_synth_store_close(struct ist_synth_store *st)
{
	if (st->next_seq != NULL)
		munmap(st->next_seq, st->map_len);
	if (st->fd >= 0)
		close(st->fd);
	st->next_seq = NULL;
	st->tally = NULL;
	st->fd = -1;
}

/* ---- corpus mode ---- */

/* Record timestamps: 2024-05-01T08:00:00Z plus the record's index in the corpus, in ms. */
#define CORPUS_TS0 1714550400000ll
/* Streams start this many frames apart in the corpus: they do not carry the same frames at once. */
#define CORPUS_STREAM_SKEW 977u

struct ist_synth_corpus {
	uint32_t n_recs;
	uint32_t n_frames;   /* per pass over the corpus */
	uint32_t frame_body; /* encoder body bound */
	uint32_t *first;     /* [n_frames + 1]: first record of each frame of a pass */
	const uint8_t **rec; /* [n_recs] */
	uint32_t *len;       /* [n_recs] */
	uint8_t *data;       /* the file */
	struct ist_codec_spec spec;
	struct ist_codec_ctx *cc;
	uint8_t *body;    /* the encoder's, frame_body bytes */
	uint8_t *scratch; /* the decoder's, IST_BATCH_MAX_BODY bytes */
	struct ist_batch_enc enc;
	struct ist_synth_corpus_stats st;
};

/* Records carry the corpus bytes as values, no key, no headers (as isthmus-bench-codec). */
static inline int corpus_rec_add(const struct ist_synth_corpus *c, struct ist_batch_enc *e,
				 uint64_t base, uint32_t i)
{
	struct ist_rec rec = {
		.offset = base + i,
		.ts_ms = CORPUS_TS0 + i,
		.ts_type = 1,
		.key_len = -1,
		.value = c->rec[i],
		.value_len = (int32_t)c->len[i],
	};

	return ist_batch_enc_rec_add(e, &rec);
}

/*
 * Where frame @p seq of @p stream is: frame *f of a pass whose first record
 * has offset *base. Passes go on without end, so offsets only grow.
 */
static inline void corpus_pos(const struct ist_synth_corpus *c, uint32_t stream, uint32_t seq,
			      uint64_t *base, uint32_t *f)
{
	uint64_t v = (uint64_t)seq + (uint64_t)stream * CORPUS_STREAM_SKEW;

	*f = (uint32_t)(v % c->n_frames);
	*base = v / c->n_frames * c->n_recs;
}

static int corpus_read(struct ist_synth_corpus *c, const char *path, char *err, size_t errlen)
{
	struct stat sb;
	size_t size, off, got = 0;
	uint32_t n = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		rc = -errno;
		snprintf(err, errlen,
			 "%s: cannot open the corpus (%s); write one with isthmus-corpus", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	size = (size_t)sb.st_size;
	c->data = malloc(size ? size : 1);
	if (c->data == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: no memory for the corpus (%zu bytes)", path, size);
		return -ENOMEM;
	}
	while (got < size) {
		ssize_t r = read(fd, c->data + got, size - got);

		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			snprintf(err, errlen, "%s: cannot read the corpus (%s)", path,
				 r < 0 ? strerror(errno) : "file shrank");
			close(fd);
			return rc;
		}
		got += (size_t)r;
	}
	close(fd);
	/* Two walks: count, then index. */
	for (int pass = 0; pass < 2; pass++) {
		for (off = 0, n = 0; off < size; n++) {
			const uint8_t *p = c->data + off;
			uint32_t len;

			if (size - off < 4)
				goto bad;
			len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
			      p[3];
			if (len > size - off - 4 || len > INT32_MAX || n == UINT32_MAX)
				goto bad;
			if (pass == 1) {
				c->rec[n] = p + 4;
				c->len[n] = len;
			}
			off += 4 + (size_t)len;
		}
		if (n == 0) {
			snprintf(err, errlen,
				 "%s: the corpus is empty; write one with isthmus-corpus", path);
			return -EINVAL;
		}
		if (pass == 0) {
			c->rec = malloc(sizeof(*c->rec) * n);
			c->len = malloc(sizeof(*c->len) * n);
			c->first = malloc(sizeof(*c->first) * ((size_t)n + 1));
			if (c->rec == NULL || c->len == NULL || c->first == NULL) {
				snprintf(err, errlen, "%s: no memory to index %u records", path, n);
				return -ENOMEM;
			}
		}
	}
	c->n_recs = n;
	return 0;
bad:
	snprintf(err, errlen,
		 "%s: not a length-prefixed corpus at byte %zu (record %u); write one with "
		 "isthmus-corpus",
		 path, off, n);
	return -EINVAL;
}

/* Cut one pass over the corpus into frames, as the encoder fills them. */
static int corpus_plan(struct ist_synth_corpus *c, const char *path, char *err, size_t errlen)
{
	struct ist_batch_enc e;
	uint32_t nf = 0, i = 0;
	int rc;

	ist_batch_enc_init(&e, c->body, c->frame_body);
	ist_batch_enc_open(&e, 0, 0);
	c->first[0] = 0;
	while (i < c->n_recs) {
		rc = corpus_rec_add(c, &e, 0, i);
		if (rc == 0) {
			i++;
			continue;
		}
		if (rc == -ENOSPC && e.count > 0) {
			c->first[++nf] = i;
			ist_batch_enc_init(&e, c->body, c->frame_body);
			ist_batch_enc_open(&e, 0, i);
			continue;
		}
		if (rc == -EMSGSIZE)
			snprintf(err, errlen,
				 "%s: record %u (%u bytes) does not fit a frame of %u bytes; raise "
				 "synth.frame_kb",
				 path, i, c->len[i], c->frame_body);
		else
			snprintf(err, errlen, "%s: record %u (%u bytes) cannot be encoded (%s)",
				 path, i, c->len[i], strerror(-rc));
		return -EINVAL;
	}
	c->first[++nf] = c->n_recs;
	c->n_frames = nf;
	return 0;
}

struct ist_synth_corpus *ist_synth_corpus_load(const char *path, const char *codec,
					       uint32_t frame_body, char *err, size_t errlen)
{
	struct ist_synth_corpus *c;
	char cerr[256];

	if (path == NULL || codec == NULL || frame_body < IST_BATCH_MIN_BODY ||
	    frame_body > IST_BATCH_MAX_BODY) {
		snprintf(err, errlen, "synth corpus: frame body %u outside %u..%u bytes",
			 frame_body, IST_BATCH_MIN_BODY, IST_BATCH_MAX_BODY);
		return NULL;
	}
	c = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sizeof(*c), RTE_CACHE_LINE_SIZE));
	if (c == NULL) {
		snprintf(err, errlen, "synth corpus: out of memory");
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	/* The core map allows zstd without a level: zstd's own default, 3. */
	if (ist_codec_spec_parse(strcmp(codec, "zstd") == 0 ? "zstd:3" : codec, &c->spec, cerr,
				 sizeof(cerr)) != 0) {
		snprintf(err, errlen, "synth.codec: %s", cerr);
		goto fail;
	}
	if (c->spec.use_dict) {
		snprintf(err, errlen,
			 "synth.codec = %s: the synthetic source has no dictionaries; "
			 "drop +dict",
			 codec);
		goto fail;
	}
	c->frame_body = frame_body;
	c->cc = ist_codec_ctx_create();
	c->body = malloc(frame_body);
	c->scratch = malloc(IST_BATCH_MAX_BODY);
	if (c->cc == NULL || c->body == NULL || c->scratch == NULL) {
		snprintf(err, errlen, "synth corpus: out of memory for the codec context");
		goto fail;
	}
	if (corpus_read(c, path, err, errlen) != 0 || corpus_plan(c, path, err, errlen) != 0)
		goto fail;
	ist_batch_enc_init(&c->enc, c->body, frame_body);
	return c;
fail:
	ist_synth_corpus_free(c);
	return NULL;
}

void ist_synth_corpus_free(struct ist_synth_corpus *c)
{
	if (c == NULL)
		return;
	ist_codec_ctx_free(c->cc);
	free(c->body);
	free(c->scratch);
	free(c->first);
	free(c->rec);
	free(c->len);
	free(c->data);
	free(c);
}

uint32_t ist_synth_corpus_frames(const struct ist_synth_corpus *c)
{
	return c->n_frames;
}

uint32_t ist_synth_corpus_records(const struct ist_synth_corpus *c)
{
	return c->n_recs;
}

void ist_synth_corpus_stats_get(const struct ist_synth_corpus *c, struct ist_synth_corpus_stats *st)
{
	*st = c->st;
}

/*
 * HOT. Measured on the isthmus-corpus events, 16 KiB frames, one core of the
 * 2-CPU test machine (isthmus-bench-codec enc_mbps, docs/PERF.md): ~40 us a
 * frame with lz4, ~65 us with zstd:1, ~4 us with none.
 */
uint32_t ist_synth_corpus_frame_build(struct ist_synth_corpus *c, uint32_t stream, uint32_t seq,
				      uint8_t *buf, uint32_t cap)
{
	struct ist_batch_enc *e = &c->enc;
	uint64_t base;
	uint32_t f, i;
	int rc;

	corpus_pos(c, stream, seq, &base, &f);
	if (unlikely(ist_batch_enc_open(e, stream, base + c->first[f]) != 0))
		goto fail;
	for (i = c->first[f]; i < c->first[f + 1]; i++)
		if (unlikely(corpus_rec_add(c, e, base, i) != 0))
			goto fail;
	rc = ist_batch_enc_close(e, c->cc, &c->spec, buf, cap);
	if (unlikely(rc <= 0))
		goto fail;
	return (uint32_t)rc;
fail:
	c->st.build_errors++;
	ist_batch_enc_init(e, c->body, c->frame_body); /* idle again */
	return 0;
}

/*
 * HOT. Measured as above (isthmus-bench-codec dec_mbps): ~11 us a frame with
 * lz4, ~26 us with zstd:1, ~4 us with none, plus the compare with the corpus.
 */
enum ist_synth_bad ist_synth_corpus_frame_check(struct ist_synth_corpus *c, uint32_t stream,
						uint32_t seq, const uint8_t *buf, uint32_t len,
						uint32_t *records, uint64_t *bytes)
{
	struct ist_batch_dec d;
	struct ist_rec_view r;
	uint64_t base, sum = 0;
	uint32_t f, i, end;
	int rc;

	rc = ist_batch_dec_open(&d, c->cc, buf, len, c->scratch, IST_BATCH_MAX_BODY);
	if (rc == IST_BATCH_E_BAD_CRC)
		return IST_SYNTH_BAD_CRC;
	if (rc != IST_BATCH_OK)
		return IST_SYNTH_BAD_DECODE;
	corpus_pos(c, stream, seq, &base, &f);
	i = c->first[f];
	end = c->first[f + 1];
	if (d.stream_id != stream || d.flags != 0 || d.record_count != end - i ||
	    d.first_offset != base + i || d.base_offset != base + i || d.end_offset != base + end)
		return IST_SYNTH_BAD_HEADER;
	while ((rc = ist_batch_dec_next(&d, &r)) == 1) {
		if (i == end || r.offset != base + i || r.ts_ms != CORPUS_TS0 + i ||
		    r.ts_type != 1 || r.key_len != -1 || r.n_headers != 0 ||
		    r.value_len != (int32_t)c->len[i] || memcmp(r.value, c->rec[i], c->len[i]) != 0)
			return IST_SYNTH_BAD_BYTES;
		sum += c->len[i];
		i++;
	}
	if (rc != 0 || i != end)
		return IST_SYNTH_BAD_RECORD;
	*records = end - c->first[f];
	*bytes = sum;
	return IST_SYNTH_OK;
}
