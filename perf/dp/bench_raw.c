/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus-bench-raw: the raw speed of one core on a file cut into blocks,
 * with nothing of isthmus in the way: LZ4_compress_fast() (acceleration 1),
 * ZSTD_compress2() at a level, or memcpy(). The baselines of
 * perf/bench_dp.sh. See usage().
 *
 * lz4 -b1 -B16384 and zstd -b1 -B16384 make the same library calls on the
 * same blocks, but time them on the wall clock: on a shared machine they
 * report the share of a core they got. This tool times the same work in
 * CPU time of its thread (CLOCK_THREAD_CPUTIME_ID), as isthmus-bench-codec
 * and perf/bench_dp.sh do, and reports the best pass, as those tools do.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lz4.h>
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#define MB 1e6

enum mode { M_LZ4, M_ZSTD, M_MEMCPY };

struct job {
	enum mode mode;
	int level;
	ZSTD_CCtx *zc;
	const uint8_t *src;
	size_t len, block;
	uint8_t *dst;
	size_t dst_cap;
	uint64_t sink;
};

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: isthmus-bench-raw [-m MODE] [-B BYTES] [-t SECONDS] FILE\n"
		"\n"
		"Cuts FILE into blocks and runs MODE on each, pass after pass, for SECONDS\n"
		"(default 3) of this thread's CPU time:\n"
		"\n"
		"  -m, --mode MODE      lz4 (LZ4_compress_fast, acceleration 1: lz4 -b1),\n"
		"                       zstd:<1..19> (ZSTD_compress2: zstd -b<level>), or\n"
		"                       memcpy (into a buffer as large as the file); default lz4\n"
		"  -B, --block BYTES    block size (default 16384, as -B16384)\n"
		"  -t, --time SECONDS   CPU time to run (default 3)\n"
		"\n"
		"Prints one line:\n"
		"  raw mode=M block=B bytes=N mbps=X ratio=R passes=P\n"
		"mbps: input MB (10^6 bytes) per CPU second of one thread in the best pass;\n"
		"ratio: input bytes over output bytes (1 for memcpy).\n");
}

/* One pass over the file; returns the output bytes, or 0 on a codec error. */
static size_t pass(struct job *j)
{
	size_t at, out = 0;

	for (at = 0; at < j->len; at += j->block) {
		size_t k = j->len - at < j->block ? j->len - at : j->block, n;

		switch (j->mode) {
		case M_LZ4:
			n = (size_t)LZ4_compress_fast((const char *)j->src + at, (char *)j->dst,
						      (int)k, (int)j->dst_cap, 1);
			if (n == 0)
				return 0;
			break;
		case M_ZSTD:
			n = ZSTD_compress2(j->zc, j->dst, j->dst_cap, j->src + at, k);
			if (ZSTD_isError(n))
				return 0;
			break;
		default:
			memcpy(j->dst + at, j->src + at, k);
			n = k;
			break;
		}
		/* Read back one output byte per block: the work cannot be elided. */
		j->sink += j->dst[(j->mode == M_MEMCPY ? at : 0) + n - 1];
		out += n;
	}
	return out;
}

static int load(const char *path, uint8_t **buf, size_t *len)
{
	size_t got = 0;
	struct stat sb;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size == 0) {
		fprintf(stderr, "isthmus-bench-raw: %s: %s\n", path,
			fd < 0 ? strerror(errno) : "empty or unreadable");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*len = (size_t)sb.st_size;
	*buf = malloc(*len);
	if (*buf == NULL) {
		fprintf(stderr, "isthmus-bench-raw: out of memory for %zu bytes\n", *len);
		close(fd);
		return -1;
	}
	while (got < *len) {
		ssize_t r = read(fd, *buf + got, *len - got);

		if (r <= 0) {
			fprintf(stderr, "isthmus-bench-raw: %s: read failed\n", path);
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"mode", required_argument, NULL, 'm'},
					     {"block", required_argument, NULL, 'B'},
					     {"time", required_argument, NULL, 't'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct job j = {.mode = M_LZ4, .block = 16384};
	const char *mode = "lz4";
	double secs = 3, best = 0, start, t0, t;
	unsigned long passes = 0;
	size_t out = 0;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "m:B:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			mode = optarg;
			if (strcmp(optarg, "lz4") == 0) {
				j.mode = M_LZ4;
			} else if (strcmp(optarg, "memcpy") == 0) {
				j.mode = M_MEMCPY;
			} else if (strncmp(optarg, "zstd:", 5) == 0) {
				j.mode = M_ZSTD;
				errno = 0;
				j.level = (int)strtol(optarg + 5, &end, 10);
				if (errno || *end || optarg[5] == '\0' || j.level < 1 ||
				    j.level > 19) {
					fprintf(stderr,
						"isthmus-bench-raw: -m %s: zstd level 1..19\n",
						optarg);
					return 2;
				}
			} else {
				fprintf(stderr,
					"isthmus-bench-raw: -m %s: need lz4, zstd:<1..19> or "
					"memcpy\n",
					optarg);
				return 2;
			}
			break;
		case 'B':
			errno = 0;
			j.block = strtoul(optarg, &end, 0);
			if (errno || *end || j.block < 32 || j.block > (64u << 20)) {
				fprintf(stderr, "isthmus-bench-raw: -B %s: need 32..%u bytes\n",
					optarg, 64u << 20);
				return 2;
			}
			break;
		case 't':
			secs = strtod(optarg, &end);
			if (*end || secs <= 0) {
				fprintf(stderr, "isthmus-bench-raw: -t %s: need seconds > 0\n",
					optarg);
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
	if (load(argv[optind], (uint8_t **)&j.src, &j.len) < 0)
		return 1;
	switch (j.mode) {
	case M_LZ4:
		j.dst_cap = (size_t)LZ4_compressBound((int)j.block);
		break;
	case M_ZSTD:
		j.dst_cap = ZSTD_compressBound(j.block);
		j.zc = ZSTD_createCCtx();
		if (j.zc == NULL ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(j.zc, ZSTD_c_compressionLevel, j.level))) {
			fprintf(stderr, "isthmus-bench-raw: cannot set up zstd level %d\n",
				j.level);
			return 1;
		}
		break;
	default:
		j.dst_cap = j.len;
		break;
	}
	j.dst = malloc(j.dst_cap);
	if (j.dst == NULL) {
		fprintf(stderr, "isthmus-bench-raw: out of memory\n");
		return 1;
	}
	/* Touch the output once: page faults are not the work's. */
	memset(j.dst, 0, j.dst_cap);
	start = cpu_s();
	do {
		t0 = cpu_s();
		out = pass(&j);
		t = cpu_s() - t0;
		if (out == 0) {
			fprintf(stderr, "isthmus-bench-raw: %s failed on %s\n", mode, argv[optind]);
			return 1;
		}
		if (t > 0 && (double)j.len / MB / t > best)
			best = (double)j.len / MB / t;
		passes++;
	} while (cpu_s() - start < secs);
	printf("raw mode=%s block=%zu bytes=%zu mbps=%.1f ratio=%.3f passes=%lu\n", mode, j.block,
	       j.len, best, (double)j.len / (double)out, passes);
	ZSTD_freeCCtx(j.zc);
	free(j.dst);
	free((void *)j.src);
	return j.sink == UINT64_MAX ? 1 : 0;
}
