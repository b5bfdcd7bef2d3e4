/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Batcher record and frame codec: Kafka records into compressed frames
 * (source side) and back (sink side).
 *
 * A frame is struct ist_wire_frame (include/isthmus/wire.h, network byte
 * order) followed by body_len bytes of body, compressed with the header's
 * codec (and dictionary). The CRC32C (ist_wire_crc32c(), rte_hash_crc) is
 * of the uncompressed body. When compression would not make the body
 * smaller the frame is stored with codec none and dict_id 0, so a frame is
 * never longer than 32 + its uncompressed body.
 *
 * Uncompressed body of a record frame (flags 0), record_count >= 1:
 *
 *     off  size  field
 *       0     8  base_offset  u64 BE: source position this frame continues
 *                             from (consumer position before its first record)
 *       8     8  end_offset   u64 BE: position after the last record (last offset + 1)
 *      16     .  record_count records, back to back, nothing after the last
 *
 * Record (varint: unsigned LEB128, 7 bits per byte, least significant group
 * first, high bit set on all but the last byte, at most 10 bytes; zigzag:
 * (n << 1) ^ (n >> 63)):
 *
 *     varint  offset - first_offset   (first_offset of the frame header: 0 for
 *                                      the first record, then strictly increasing)
 *     varint  zigzag(timestamp ms)    absolute, int64
 *     u8      timestamp type          rd_kafka_timestamp_type_t (0 n/a, 1 create, 2 append)
 *     varint  key_len + 1             0: null key, 1: empty key
 *     bytes   key                     key_len bytes
 *     varint  value_len + 1           0: null value
 *     bytes   value
 *     varint  header count
 *     per header, in record order (duplicate names kept):
 *       varint  name_len
 *       bytes   name
 *       varint  value_len + 1         0: null header value
 *       bytes   value
 *
 * Lengths are binary safe (no terminator) and at most INT32_MAX, as in Kafka.
 * The smallest record is 6 bytes.
 *
 * Uncompressed body of a split frame (flags IST_WIRE_FRAME_F_SPLIT): one
 * record whose encoding (as above, offset delta 0) does not fit a frame body
 * is cut into slices carried by consecutive frames of the stream:
 *
 *     off  size  field
 *       0     8  base_offset  u64 BE, as above (same on every part)
 *       8     8  end_offset   u64 BE: record offset + 1 (same on every part)
 *      16     4  total_len    u32 BE: length of the whole encoded record
 *      20     4  part_off     u32 BE: where this slice starts in it
 *      24     .  slice        the rest of the body, at least 1 byte
 *
 * record_count is 1 on the part that completes the record, 0 on the
 * others; first_offset is the record's offset on every part. The sink
 * must not count the source position as replicated before the last part.
 *
 * Encoder (source, HOT): ist_batch_enc_open(), then per record
 * ist_batch_enc_rec_begin() + n x ist_batch_enc_rec_header() +
 * ist_batch_enc_rec_end() (or ist_batch_enc_rec_add()), then
 * ist_batch_enc_close(). A record that does not fit the room left is
 * refused with -ENOSPC and leaves the frame as it was: close the frame and
 * add the record to the next one. A record that does not fit even an empty
 * frame is refused with -EMSGSIZE: send it with ist_batch_enc_split_open()
 * and ist_batch_enc_split_next() (slow path: the caller provides a buffer
 * for the whole encoded record).
 *
 * Decoder (sink, HOT): ist_batch_dec_open() checks the header against the
 * bytes, decompresses into the caller's scratch (codec none: points into the
 * frame), checks the CRC32C; ist_batch_dec_next() walks the records as
 * views into that memory, bounds-checking every varint and length. Split
 * parts go to struct ist_bigrec (slow path: it allocates the record).
 *
 * Return values: the encoder returns 0/length or -errno; the sink side
 * (decoder, bigrec) returns enum ist_batch_err values so one counter array
 * indexed by -err counts drops by reason (ist_batch_err_name()).
 *
 * Threading: an encoder, decoder or bigrec has one owner thread; the codec
 * context passed in is that lcore's. Nothing here reads a clock.
 *
 * Written by hand: Kafka's own record batch format needs a producer id,
 * epochs and per-batch attributes that a replication frame does not carry,
 * and no library exposes a Kafka record codec for this use. CRC32C is
 * rte_hash_crc (through ist_wire_crc32c), compression liblz4 and libzstd.
 */
#ifndef ISTHMUS_IST_BATCH_H
#define ISTHMUS_IST_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isthmus/wire.h"
#include "ist_codec.h"

/** Bytes of the body prefix (base_offset, end_offset). */
#define IST_BATCH_PREFIX_LEN 16u
/** Bytes of a split body before the slice (prefix, total_len, part_off). */
#define IST_BATCH_SPLIT_HLEN 24u
/** Smallest record encoding. */
#define IST_BATCH_REC_MIN 6u
/** Smallest encoder body: room for a split header and a 40-byte slice. */
#define IST_BATCH_MIN_BODY 64u
/** Largest encoder body: every frame fits IST_WIRE_MAX_FRAME. */
#define IST_BATCH_MAX_BODY IST_CODEC_MAX_SRC

/** Reasons a frame or a split part is refused on the sink side (0 is success). */
enum ist_batch_err {
	IST_BATCH_OK = 0,
	IST_BATCH_E_TRUNCATED = -1,  /**< fewer bytes than the header or body_len declares */
	IST_BATCH_E_BAD_LENGTH = -2, /**< body_len / uncompressed_len inconsistent (trailing
					  bytes, none with different lengths, body too short) */
	IST_BATCH_E_TOO_BIG = -3,    /**< uncompressed_len above the scratch; split record
					  above the reassembler's limit */
	IST_BATCH_E_BAD_FLAGS = -4,  /**< unknown frame flag */
	IST_BATCH_E_BAD_CODEC = -5,  /**< unknown codec (or compressed frame without a context) */
	IST_BATCH_E_BAD_DICT = -6,   /**< dictionary not loaded, or a dictionary with codec none */
	IST_BATCH_E_DECOMPRESS = -7, /**< decompressor failed or produced another length */
	IST_BATCH_E_BAD_CRC = -8,    /**< CRC32C of the body does not match */
	IST_BATCH_E_BAD_RECORD = -9, /**< record encoding: varint, length past the end, offsets
					  out of order, count or prefix inconsistent */
	IST_BATCH_E_SPLIT = -10,     /**< ist_batch_dec_next() on a split part: feed ist_bigrec */
	IST_BATCH_E_BAD_SPLIT = -11, /**< split part out of sequence for the record being
					  reassembled (stream, offset, total_len or part_off) */
	IST_BATCH_E_NO_MEMORY = -12, /**< reassembler could not allocate the record */
};

/** Size of a counter array indexed by -err (slot 0 counts successes). */
#define IST_BATCH_ERR_COUNT 13

/** Name of an ist_batch_err value for metrics ("bad_crc"); "unknown" otherwise. */
const char *ist_batch_err_name(int err);

/* ---- records ---- */

/** One record header, input of ist_batch_enc_rec_add() and the split path. */
struct ist_rec_hdr {
	const void *name;
	uint32_t name_len;
	int32_t value_len; /**< -1: null value */
	const void *value;
};

/** One record, input of ist_batch_enc_rec_add() and the split path. */
struct ist_rec {
	uint64_t offset; /**< source offset, <= INT64_MAX */
	int64_t ts_ms;
	uint8_t ts_type;
	int32_t key_len;   /**< -1: null key */
	int32_t value_len; /**< -1: null value */
	uint32_t n_headers;
	const void *key;
	const void *value;
	const struct ist_rec_hdr *headers;
};

/** A decoded record: pointers into the decoder's body (valid while it is). */
struct ist_rec_view {
	uint64_t offset;
	int64_t ts_ms;
	uint8_t ts_type;
	int32_t key_len;   /**< -1: null key (key is NULL) */
	int32_t value_len; /**< -1: null value (value is NULL) */
	uint32_t n_headers;
	const uint8_t *key;   /**< not NULL for an empty key */
	const uint8_t *value; /**< not NULL for an empty value */
	/* header cursor, private */
	const uint8_t *hp;
	const uint8_t *hend;
	uint32_t h_left;
};

/**
 * Next header of a decoded record, in record order. HOT. Headers were
 * bounds-checked when the record was decoded.
 *
 * @param value_len
 *   -1 for a null header value (value is NULL).
 * @return
 *   1 with a header, 0 after the last one.
 */
int ist_rec_view_header_next(struct ist_rec_view *r, const uint8_t **name, uint32_t *name_len,
			     const uint8_t **value, int32_t *value_len);

/**
 * Length of a record's encoding (offset delta 0, as in a split frame).
 *
 * @return
 *   Bytes, or -EINVAL (a length below -1, a NULL pointer with a length).
 */
int64_t ist_batch_rec_size(const struct ist_rec *rec);

/* ---- encoder ---- */

/** Counters of one encoder (one writer: its owner; summed on read). */
struct ist_batch_enc_stats {
	uint64_t frames;     /**< frames written, split parts included */
	uint64_t records;    /**< records in those frames (a split record once) */
	uint64_t bytes_in;   /**< uncompressed body bytes of those frames */
	uint64_t bytes_out;  /**< frame bytes written, headers included */
	uint64_t stored_raw; /**< frames stored with codec none: compression did not shrink them */
	uint64_t codec_errors; /**< frames stored raw because the compressor failed */
	uint64_t split_parts;  /**< split frames written */
	uint64_t refused;      /**< records refused with -ENOSPC or -EMSGSIZE */
};

enum ist_batch_enc_state {
	IST_BATCH_ENC_IDLE = 0, /**< no frame open */
	IST_BATCH_ENC_OPEN,     /**< frame open, between records */
	IST_BATCH_ENC_REC,      /**< a record begun, headers pending */
	IST_BATCH_ENC_SPLIT,    /**< a split record being cut into frames */
};

/**
 * Encoder of one stream's frames. Caller allocated; fields are read-only
 * outside this module (count and len tell a linger policy how full it is).
 */
struct ist_batch_enc {
	uint8_t *body; /**< the uncompressed body, cap bytes, caller's memory */
	uint32_t cap;
	uint32_t len;   /**< body bytes used, prefix included */
	uint32_t count; /**< records in the open frame */
	uint32_t stream_id;
	uint8_t state; /**< enum ist_batch_enc_state */
	uint64_t base_offset;
	uint64_t first_offset;
	uint64_t last_offset; /**< offset of the last record ended */
	/* record in progress */
	uint32_t rec_start;
	uint32_t rec_hdr_left;
	uint64_t rec_offset;
	/* split record */
	const uint8_t *big;
	uint32_t big_len;
	uint32_t big_off;
	struct ist_batch_enc_stats st;
};

/**
 * Set up an encoder over a body buffer of cap bytes (the largest
 * uncompressed body; the frame is at most 32 + cap bytes). @locality set-up.
 *
 * @return
 *   0 or -EINVAL (buf NULL, cap outside IST_BATCH_MIN_BODY..IST_BATCH_MAX_BODY).
 */
int ist_batch_enc_init(struct ist_batch_enc *e, void *buf, size_t cap);

/**
 * Open a frame. HOT.
 *
 * @param base_offset
 *   Source position the frame continues from (the consumer position before
 *   its first record), <= INT64_MAX.
 * @return
 *   0; -EBUSY (a frame is open: close it first), -EINVAL (offset).
 */
int ist_batch_enc_open(struct ist_batch_enc *e, uint32_t stream_id, uint64_t base_offset);

/**
 * Begin a record: writes everything but its headers. HOT.
 *
 * @param offset
 *   >= base_offset for the first record, above the previous record's after.
 * @param key_len
 *   -1: null key (key ignored); 0: empty key.
 * @return
 *   0; -ENOSPC (does not fit the room left: frame unchanged, close it and
 *   retry in the next), -EMSGSIZE (would not fit even an empty frame: close
 *   this one if it has records, then use the split path; frame unchanged),
 *   -EINVAL (no frame open, record pending, offset out of order, bad length).
 */
int ist_batch_enc_rec_begin(struct ist_batch_enc *e, uint64_t offset, int64_t ts_ms,
			    uint8_t ts_type, const void *key, int32_t key_len, const void *value,
			    int32_t value_len, uint32_t n_headers);

/**
 * Add one header to the record begun (n_headers times, in order). HOT.
 *
 * @return
 *   0; -ENOSPC or -EMSGSIZE as ist_batch_enc_rec_begin() (the whole record is
 *   rolled back); -EINVAL (no record begun, more headers than announced, bad
 *   length: the record is rolled back).
 */
int ist_batch_enc_rec_header(struct ist_batch_enc *e, const void *name, uint32_t name_len,
			     const void *value, int32_t value_len);

/**
 * End the record begun. HOT.
 *
 * @return
 *   0; -EINVAL (no record begun, or fewer headers than announced: rolled back).
 */
int ist_batch_enc_rec_end(struct ist_batch_enc *e);

/**
 * Begin, headers and end in one call. HOT.
 *
 * @return
 *   As ist_batch_enc_rec_begin() and ist_batch_enc_rec_header().
 */
int ist_batch_enc_rec_add(struct ist_batch_enc *e, const struct ist_rec *rec);

/**
 * Close the frame: write header and (compressed) body to out. The encoder is
 * then idle. HOT: ~compression cost plus a CRC32C of the body.
 *
 * @param cc
 *   The lcore's codec context; may be NULL with codec none.
 * @param cap
 *   Room in out: at least 32 + e->len.
 * @return
 *   The frame length; -EINVAL (no frame open, record pending, bad spec, zstd
 *   dictionary of another level), -ENODATA (no record), -ENOSPC (cap),
 *   -ENOENT (the spec's dictionary is not loaded). On error the frame stays
 *   open.
 */
int ist_batch_enc_close(struct ist_batch_enc *e, struct ist_codec_ctx *cc,
			const struct ist_codec_spec *spec, void *out, size_t cap);

/**
 * Start sending one record as split frames, from an open empty frame. The
 * record is encoded into buf (ist_batch_rec_size() bytes, caller's memory,
 * kept until the last part is written). Slow path.
 *
 * @return
 *   0; -EINVAL (frame not open or not empty, offset, bad record), -ENOSPC
 *   (buf too small), -EMSGSIZE (record encoding above UINT32_MAX).
 */
int ist_batch_enc_split_open(struct ist_batch_enc *e, const struct ist_rec *rec, void *buf,
			     size_t cap);

/**
 * Write the next split frame to out (each part is a frame, compressed like
 * any other). Call until it returns 0; the encoder is then idle.
 *
 * @return
 *   The frame length; 0 when every part is written; errors as
 *   ist_batch_enc_close() (the part is not consumed).
 */
int ist_batch_enc_split_next(struct ist_batch_enc *e, struct ist_codec_ctx *cc,
			     const struct ist_codec_spec *spec, void *out, size_t cap);

/* ---- decoder ---- */

/** Decoder of one frame. Fields other than the cursor are read-only. */
struct ist_batch_dec {
	/* frame header, host order */
	uint32_t stream_id;
	uint32_t record_count;
	uint64_t first_offset;
	uint16_t flags; /**< IST_WIRE_FRAME_F_* */
	uint8_t codec;
	uint8_t dict_id;
	uint32_t body_len; /**< uncompressed */
	/* body prefix */
	uint64_t base_offset;
	uint64_t end_offset;
	/* split part (flags & IST_WIRE_FRAME_F_SPLIT) */
	uint32_t split_total;
	uint32_t split_off;
	uint32_t split_len;
	const uint8_t *split_data;
	/* record cursor, private */
	const uint8_t *p;
	const uint8_t *end;
	uint32_t left;
	int32_t err;         /* sticky: a bad record ends the walk */
	uint64_t next_delta; /* smallest delta the next record may have */
};

/**
 * Check and open one frame. HOT: decompression plus CRC32C.
 *
 * Checks, in order: frame length against the header and body_len, flags,
 * codec, lengths (codec none: uncompressed_len == body_len; compressed:
 * uncompressed_len <= scratch_cap), dictionary, decompression, CRC32C, the
 * body prefix and record count (or the split header).
 *
 * @param cc
 *   The lcore's codec context; may be NULL if only codec none is expected.
 * @param scratch
 *   Receives the uncompressed body; unused with codec none (the records
 *   then point into frame, which must outlive them).
 * @return
 *   0 or a negative enum ist_batch_err.
 */
int ist_batch_dec_open(struct ist_batch_dec *d, struct ist_codec_ctx *cc, const void *frame,
		       size_t len, void *scratch, size_t scratch_cap);

/**
 * Next record of the frame. HOT.
 *
 * @return
 *   1 with a record; 0 after the last one (the body was consumed exactly);
 *   IST_BATCH_E_BAD_RECORD, or IST_BATCH_E_SPLIT for a split part.
 */
int ist_batch_dec_next(struct ist_batch_dec *d, struct ist_rec_view *r);

/* ---- split record reassembly (sink, slow path) ---- */

/**
 * Collects the parts of one split record, in order, into one allocation
 * (malloc: records of megabytes are rare and their frames are slow anyway),
 * kept for the next record and freed by ist_bigrec_fini().
 */
struct ist_bigrec {
	uint8_t *buf;
	uint32_t buf_cap;
	uint32_t max_len; /**< largest record accepted */
	uint32_t total;   /**< 0: nothing collected */
	uint32_t have;
	uint32_t stream_id;
	uint64_t offset;
	uint64_t base_offset;
	uint64_t end_offset;
	uint64_t restarts; /**< partial records dropped because a new first part came */
};

/** Set up a reassembler for records of up to max_len encoded bytes. */
void ist_bigrec_init(struct ist_bigrec *br, uint32_t max_len);

/** Free the reassembler's buffer. */
void ist_bigrec_fini(struct ist_bigrec *br);

/** Drop a partial record. */
void ist_bigrec_reset(struct ist_bigrec *br);

/** True while a record is partly collected. */
static inline bool ist_bigrec_active(const struct ist_bigrec *br)
{
	return br->total != 0 && br->have < br->total;
}

/**
 * Add the part held by an opened split decoder. A first part (part_off 0)
 * always starts a new record: a partial one is dropped (its sender
 * restarted) and counted in restarts.
 *
 * @return
 *   1: the record is complete (ist_bigrec_view()); 0: more parts needed;
 *   IST_BATCH_E_BAD_SPLIT (not a split part, or out of sequence: the
 *   partial record is dropped), IST_BATCH_E_TOO_BIG (total_len above
 *   max_len), IST_BATCH_E_NO_MEMORY.
 */
int ist_bigrec_add(struct ist_bigrec *br, const struct ist_batch_dec *d);

/**
 * View of the completed record (pointers into the reassembler, valid until
 * the next add, reset or fini).
 *
 * @return
 *   0; IST_BATCH_E_BAD_SPLIT (no complete record), IST_BATCH_E_BAD_RECORD.
 */
int ist_bigrec_view(const struct ist_bigrec *br, struct ist_rec_view *r);

#endif /* ISTHMUS_IST_BATCH_H */
