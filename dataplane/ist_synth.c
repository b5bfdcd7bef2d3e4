/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_byteorder.h>

#include "isthmus/wire.h"
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

int ist_synth_store_open(struct ist_synth_store *st, const char *path, uint32_t n_streams,
			 char *err, size_t errlen)
{
	size_t len = (n_streams + 1) * sizeof(uint32_t);
	struct stat sb;
	bool fresh;
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
	if (!fresh && (size_t)sb.st_size != len) {
		snprintf(err, errlen,
			 "%s: progress file is for another number of streams (%zu bytes, want "
			 "%zu); remove it to start over",
			 path, (size_t)sb.st_size, len);
		close(fd);
		return -EINVAL;
	}
	if (fresh && ftruncate(fd, len) != 0) {
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
	if (fresh)
		st->next_seq[n_streams] = STORE_MAGIC;
	if (st->next_seq[n_streams] != STORE_MAGIC) {
		snprintf(err, errlen, "%s: not an isthmus progress file; remove it to start over",
			 path);
		munmap(map, len);
		close(fd);
		return -EINVAL;
	}
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
	st->fd = -1;
}
