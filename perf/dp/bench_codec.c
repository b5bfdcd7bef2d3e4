/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus-bench-codec: batcher encode + compress and decode throughput on
 * one core, per codec, over a corpus from isthmus-corpus. See usage().
 *
 * Encode: records (corpus events as values, null key, no headers) go
 * through ist_batch_enc_rec_add() into frames bounded at the frame body
 * size, each closed with ist_batch_enc_close() (CRC32C + compression), in a
 * loop over the corpus for the given time. Decode: the corpus encoded once,
 * then ist_batch_dec_open() + ist_batch_dec_next() over every frame in a
 * loop, touching each value. Throughput counts corpus bytes (the JSON values,
 * what the --flat file holds), so MB/s compares with lz4 -b / zstd -b on that
 * file with -B set to the frame size; the ratio is corpus bytes over frame
 * bytes (32-byte frame headers and record encoding included).
 *
 * Dictionaries (+dict) are trained on a reservoir sample of the corpus
 * itself, so they see the data they compress: the best case for a
 * dictionary. Rates are per CPU second of this thread (CLOCK_THREAD_CPUTIME_ID),
 * cycles are TSC cycles (rte_rdtsc(), no EAL needed) scaled to that CPU
 * time, so a shared machine skews them less.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "ist_batch.h"
#include "ist_codec.h"
#include "ist_dict.h"

#define MB         1e6
#define MAX_CODECS 16

struct corpus {
	uint8_t *data;
	size_t bytes;
	uint32_t n;
	const uint8_t **rec;
	uint32_t *len;
};

struct result {
	double enc_mbps, dec_mbps, ratio, enc_recs_s, dec_recs_s, enc_cyc, dec_cyc;
	uint64_t frames, stored_raw;
};

/*
 * Thread CPU time: the machine may be shared, and "per core" means the time
 * this thread ran. TSC cycles are scaled by CPU time / wall time for the same
 * reason (time spent descheduled is not the codec's).
 */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct clk {
	double cpu, wall;
	uint64_t tsc;
};

static void clk_start(struct clk *k)
{
	k->wall = wall_s();
	k->cpu = cpu_s();
	k->tsc = rte_rdtsc();
}

/* CPU seconds since start; *cycles: TSC cycles on the CPU. */
static double clk_stop(const struct clk *k, double *cycles)
{
	uint64_t tsc = rte_rdtsc();
	double cpu = cpu_s() - k->cpu, wall = wall_s() - k->wall;

	*cycles = (double)(tsc - k->tsc) * (wall > 0 ? cpu / wall : 1);
	return cpu;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: isthmus-bench-codec [options] CORPUS\n"
		"\n"
		"CORPUS: length-prefixed records as isthmus-corpus writes them (4-byte big-endian\n"
		"length, then the bytes). Each record becomes one Kafka-like record (value only).\n"
		"\n"
		"  -c, --codecs LIST    comma separated codec specs\n"
		"                       (default none,lz4,zstd:1,lz4+dict,zstd:1+dict)\n"
		"  -f, --frame BYTES    uncompressed frame body bound (default 16384; max %u)\n"
		"  -t, --time SECONDS   duration of each encode and each decode run (default 2)\n"
		"  -s, --sweep          frame bodies of 4096, 16384 and %u bytes for each codec\n"
		"  -d, --dict-size N    dictionary capacity in bytes (default 65536)\n"
		"  -n, --samples N      records sampled (reservoir) to train it (default 2000)\n"
		"\n"
		"Prints one line per codec and frame size:\n"
		"  codec=C frame=B enc_mbps= dec_mbps= ratio= recs_per_s= dec_recs_per_s=\n"
		"  enc_cyc_per_rec= dec_cyc_per_rec= frames= stored_raw=\n"
		"MB/s are corpus (uncompressed) MB, 1 MB = 10^6 bytes, per CPU second of one\n"
		"thread; cycles are TSC cycles scaled to that CPU time.\n",
		IST_BATCH_MAX_BODY, IST_BATCH_MAX_BODY);
}

static int corpus_load(const char *path, struct corpus *c)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, off = 0, n_cap = 0;
	uint8_t *p;
	uint32_t len;
	long sz;

	if (f == NULL) {
		fprintf(stderr, "isthmus-bench-codec: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "isthmus-bench-codec: %s: cannot size it\n", path);
		fclose(f);
		return -1;
	}
	cap = (size_t)sz;
	memset(c, 0, sizeof(*c));
	c->data = malloc(cap + 1);
	if (c->data == NULL || fread(c->data, 1, cap, f) != cap) {
		fprintf(stderr, "isthmus-bench-codec: %s: read failed\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	while (off < cap) {
		if (cap - off < 4)
			goto bad;
		p = c->data + off;
		len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		if (len > cap - off - 4 || len > INT32_MAX)
			goto bad;
		if (c->n == n_cap) {
			n_cap = n_cap ? n_cap * 2 : 1024;
			c->rec = realloc(c->rec, n_cap * sizeof(*c->rec));
			c->len = realloc(c->len, n_cap * sizeof(*c->len));
			if (c->rec == NULL || c->len == NULL) {
				fprintf(stderr, "isthmus-bench-codec: out of memory\n");
				return -1;
			}
		}
		c->rec[c->n] = p + 4;
		c->len[c->n] = len;
		c->n++;
		c->bytes += len;
		off += 4 + (size_t)len;
	}
	if (c->n == 0)
		goto bad;
	return 0;
bad:
	fprintf(stderr,
		"isthmus-bench-codec: %s: not a length-prefixed corpus at byte %zu "
		"(write one with isthmus-corpus)\n",
		path, off);
	return -1;
}

static int add(struct ist_batch_enc *e, const struct corpus *c, uint32_t i, uint64_t offset)
{
	struct ist_rec rec = {.offset = offset,
			      .ts_ms = 1714550400000ll + (int64_t)offset,
			      .ts_type = 1,
			      .key_len = -1,
			      .value = c->rec[i],
			      .value_len = (int32_t)c->len[i]};

	return ist_batch_enc_rec_add(e, &rec);
}

/*
 * Encode the whole corpus once into frames (stored back to back in out,
 * offsets in fo[]); returns the frame count or -1.
 */
static long encode_all(const struct corpus *c, struct ist_codec_ctx *cc,
		       const struct ist_codec_spec *sp, uint8_t *body, size_t frame, uint8_t *out,
		       size_t out_cap, size_t *fo, size_t *out_len, uint64_t *stored_raw)
{
	struct ist_batch_enc e;
	size_t at = 0;
	long nf = 0;
	uint32_t i = 0;
	int rc;

	ist_batch_enc_init(&e, body, frame);
	ist_batch_enc_open(&e, 1, 0);
	while (i <= c->n) {
		rc = i < c->n ? add(&e, c, i, i) : -ENOSPC;
		if (rc == 0) {
			i++;
			continue;
		}
		if (rc != -ENOSPC) {
			fprintf(stderr, "isthmus-bench-codec: record %u (%u bytes): %s%s\n", i,
				c->len[i], strerror(-rc),
				rc == -EMSGSIZE ? "; use a larger --frame" : "");
			return -1;
		}
		if (e.count == 0)
			break;
		rc = ist_batch_enc_close(&e, cc, sp, out + at, out_cap - at);
		if (rc < 0) {
			fprintf(stderr, "isthmus-bench-codec: close: %s\n", strerror(-rc));
			return -1;
		}
		fo[nf++] = at;
		at += (size_t)rc;
		ist_batch_enc_open(&e, 1, i);
	}
	fo[nf] = at;
	*out_len = at;
	*stored_raw = e.st.stored_raw;
	return nf;
}

/* Decode every frame once and compare with the corpus. */
static int verify(const struct corpus *c, struct ist_codec_ctx *cc, const uint8_t *out,
		  const size_t *fo, long nf, uint8_t *scratch, size_t scratch_cap)
{
	struct ist_batch_dec d;
	struct ist_rec_view r;
	uint32_t i = 0;
	long f;
	int rc;

	for (f = 0; f < nf; f++) {
		rc = ist_batch_dec_open(&d, cc, out + fo[f], fo[f + 1] - fo[f], scratch,
					scratch_cap);
		if (rc < 0) {
			fprintf(stderr, "isthmus-bench-codec: frame %ld: %s\n", f,
				ist_batch_err_name(rc));
			return -1;
		}
		while ((rc = ist_batch_dec_next(&d, &r)) == 1) {
			if (i >= c->n || r.offset != i || r.value_len != (int32_t)c->len[i] ||
			    memcmp(r.value, c->rec[i], c->len[i]) != 0) {
				fprintf(stderr, "isthmus-bench-codec: record %u differs\n", i);
				return -1;
			}
			i++;
		}
		if (rc < 0) {
			fprintf(stderr, "isthmus-bench-codec: frame %ld: %s\n", f,
				ist_batch_err_name(rc));
			return -1;
		}
	}
	if (i != c->n) {
		fprintf(stderr, "isthmus-bench-codec: %u of %u records decoded\n", i, c->n);
		return -1;
	}
	return 0;
}

static int run(const struct corpus *c, struct ist_codec_ctx *cc, const struct ist_codec_spec *sp,
	       size_t frame, double secs, uint8_t *out, size_t out_cap, size_t *fo,
	       struct result *res)
{
	static uint8_t body[IST_BATCH_MAX_BODY], scratch[IST_BATCH_MAX_BODY];
	static uint8_t fbuf[IST_WIRE_MAX_FRAME];
	struct ist_batch_enc e;
	struct ist_batch_dec d;
	struct ist_rec_view r;
	uint64_t recs = 0, bytes = 0, pending = 0, offset = 0, frames = 0;
	uint64_t sink = 0;
	struct clk k;
	double t, cyc;
	size_t out_len;
	uint32_t i = 0;
	long nf, f;
	int rc;

	memset(res, 0, sizeof(*res));
	nf = encode_all(c, cc, sp, body, frame, out, out_cap, fo, &out_len, &res->stored_raw);
	if (nf < 0 || verify(c, cc, out, fo, nf, scratch, sizeof(scratch)) < 0)
		return -1;
	res->frames = (uint64_t)nf;
	res->ratio = (double)c->bytes / (double)out_len;

	/* Encode + compress. */
	ist_batch_enc_init(&e, body, frame);
	ist_batch_enc_open(&e, 1, 0);
	clk_start(&k);
	for (;;) {
		rc = add(&e, c, i, offset);
		if (rc == 0) {
			pending += c->len[i];
			offset++;
			if (++i == c->n)
				i = 0;
			continue;
		}
		recs += e.count;
		bytes += pending;
		pending = 0;
		rc = ist_batch_enc_close(&e, cc, sp, fbuf, sizeof(fbuf));
		if (rc < 0) {
			fprintf(stderr, "isthmus-bench-codec: close: %s\n", strerror(-rc));
			return -1;
		}
		ist_batch_enc_open(&e, 1, offset);
		if ((++frames & 7) == 0 && cpu_s() - k.cpu >= secs)
			break;
	}
	t = clk_stop(&k, &cyc);
	res->enc_mbps = (double)bytes / MB / t;
	res->enc_recs_s = (double)recs / t;
	res->enc_cyc = cyc / (double)recs;

	/* Decompress + decode. */
	recs = bytes = frames = 0;
	clk_start(&k);
	for (f = 0;; f = f + 1 == nf ? 0 : f + 1) {
		rc = ist_batch_dec_open(&d, cc, out + fo[f], fo[f + 1] - fo[f], scratch,
					sizeof(scratch));
		if (rc < 0)
			return -1;
		while (ist_batch_dec_next(&d, &r) == 1) {
			sink += r.value[0] + r.value[r.value_len - 1];
			bytes += (uint64_t)r.value_len;
			recs++;
		}
		if ((++frames & 7) == 0 && cpu_s() - k.cpu >= secs)
			break;
	}
	t = clk_stop(&k, &cyc);
	res->dec_mbps = (double)bytes / MB / t;
	res->dec_recs_s = (double)recs / t;
	res->dec_cyc = cyc / (double)recs;
	return sink == 0xffffffffffffffffull ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"codecs", required_argument, NULL, 'c'},
					     {"frame", required_argument, NULL, 'f'},
					     {"time", required_argument, NULL, 't'},
					     {"sweep", no_argument, NULL, 's'},
					     {"dict-size", required_argument, NULL, 'd'},
					     {"samples", required_argument, NULL, 'n'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	static const size_t sweep_frames[] = {4096, 16384, IST_BATCH_MAX_BODY};
	char list[512] = "none,lz4,zstd:1,lz4+dict,zstd:1+dict", err[256], name[32], *tok, *save;
	struct ist_codec_spec specs[MAX_CODECS];
	size_t frame = 16384, dict_cap = 65536, out_cap, *fo, frames[3];
	unsigned int n_specs = 0, samples = 2000, n_frames = 1, fi, k, i;
	struct ist_dict_sampler *smp;
	struct ist_codec_ctx *cc;
	struct corpus c;
	struct result res;
	double secs = 2;
	uint8_t *out, *dict;
	bool sweep = false, want_dict = false;
	int opt, dlen = 0;
	char *end;

	while ((opt = getopt_long(argc, argv, "c:f:t:sd:n:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			snprintf(list, sizeof(list), "%s", optarg);
			break;
		case 'f':
			frame = strtoul(optarg, &end, 0);
			if (*end || frame < IST_BATCH_MIN_BODY || frame > IST_BATCH_MAX_BODY) {
				fprintf(stderr, "isthmus-bench-codec: --frame %s: need %u..%u\n",
					optarg, IST_BATCH_MIN_BODY, IST_BATCH_MAX_BODY);
				return 2;
			}
			break;
		case 't':
			secs = strtod(optarg, &end);
			if (*end || secs <= 0) {
				fprintf(stderr,
					"isthmus-bench-codec: --time %s: need seconds > 0\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			sweep = true;
			break;
		case 'd':
			dict_cap = strtoul(optarg, &end, 0);
			if (*end || dict_cap < 256 || dict_cap > IST_CODEC_DICT_MAX_LEN) {
				fprintf(stderr,
					"isthmus-bench-codec: --dict-size %s: need 256..%u\n",
					optarg, IST_CODEC_DICT_MAX_LEN);
				return 2;
			}
			break;
		case 'n':
			samples = (unsigned int)strtoul(optarg, &end, 0);
			if (*end || samples < IST_DICT_MIN_SAMPLES) {
				fprintf(stderr, "isthmus-bench-codec: --samples %s: need >= %d\n",
					optarg, IST_DICT_MIN_SAMPLES);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	for (tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (n_specs == MAX_CODECS) {
			fprintf(stderr, "isthmus-bench-codec: at most %d codecs\n", MAX_CODECS);
			return 2;
		}
		if (ist_codec_spec_parse(tok, &specs[n_specs], err, sizeof(err)) < 0) {
			fprintf(stderr, "isthmus-bench-codec: %s\n", err);
			return 2;
		}
		if (specs[n_specs].use_dict)
			want_dict = true;
		n_specs++;
	}
	if (corpus_load(argv[optind], &c) < 0)
		return 1;
	if (sweep) {
		memcpy(frames, sweep_frames, sizeof(frames));
		n_frames = 3;
	} else {
		frames[0] = frame;
	}

	cc = ist_codec_ctx_create();
	/* Worst case: every frame stored, one per record. */
	out_cap = c.bytes + (size_t)c.n * 64 + IST_WIRE_MAX_FRAME;
	out = malloc(out_cap);
	fo = malloc(sizeof(*fo) * ((size_t)c.n + 2));
	dict = malloc(dict_cap);
	if (cc == NULL || out == NULL || fo == NULL || dict == NULL) {
		fprintf(stderr, "isthmus-bench-codec: out of memory\n");
		return 1;
	}
	printf("# corpus %s: %u records, %zu bytes (%.0f per record)\n", argv[optind], c.n, c.bytes,
	       (double)c.bytes / c.n);
	if (want_dict) {
		smp = ist_dict_sampler_create(samples, 4096, 1);
		if (smp == NULL) {
			fprintf(stderr, "isthmus-bench-codec: out of memory\n");
			return 1;
		}
		for (i = 0; i < c.n; i++)
			ist_dict_sampler_add(smp, c.rec[i], c.len[i]);
		dlen = ist_dict_sampler_train(smp, dict, dict_cap, err, sizeof(err));
		ist_dict_sampler_free(smp);
		if (dlen < 0) {
			fprintf(stderr, "isthmus-bench-codec: %s\n", err);
			return 1;
		}
		printf("# dictionary: %d bytes trained on %u sampled records\n", dlen,
		       RTE_MIN(samples, c.n));
	}
	/* lz4+dict: id 1; zstd:L+dict: id 1 + L (zstd bakes the level into a CDict). */
	for (k = 0; k < n_specs; k++) {
		uint8_t id, level;

		if (!specs[k].use_dict)
			continue;
		id = (uint8_t)(specs[k].codec == IST_CODEC_ZSTD ? 1 + specs[k].level : 1);
		level = specs[k].codec == IST_CODEC_ZSTD ? specs[k].level : 0;
		specs[k].dict_id = id;
		if (ist_codec_ctx_dict_has(cc, id))
			continue;
		if (ist_codec_ctx_dict_add(cc, id, dict, (size_t)dlen, level, err, sizeof(err)) <
		    0) {
			fprintf(stderr, "isthmus-bench-codec: %s\n", err);
			return 1;
		}
	}
	printf("# one core, %.1f CPU s per run; MB = 10^6 corpus bytes\n", secs);
	for (fi = 0; fi < n_frames; fi++) {
		for (k = 0; k < n_specs; k++) {
			if (run(&c, cc, &specs[k], frames[fi], secs, out, out_cap, fo, &res) < 0) {
				fprintf(stderr, "isthmus-bench-codec: run failed\n");
				return 1;
			}
			ist_codec_spec_format(&specs[k], name, sizeof(name));
			printf("codec=%s frame=%zu enc_mbps=%.1f dec_mbps=%.1f ratio=%.3f "
			       "recs_per_s=%.0f dec_recs_per_s=%.0f enc_cyc_per_rec=%.0f "
			       "dec_cyc_per_rec=%.0f frames=%" PRIu64 " stored_raw=%" PRIu64 "\n",
			       name, frames[fi], res.enc_mbps, res.dec_mbps, res.ratio,
			       res.enc_recs_s, res.dec_recs_s, res.enc_cyc, res.dec_cyc, res.frames,
			       res.stored_raw);
			fflush(stdout);
		}
	}
	ist_codec_ctx_free(cc);
	free(out);
	free(fo);
	free(dict);
	free(c.rec);
	free(c.len);
	free(c.data);
	return 0;
}
