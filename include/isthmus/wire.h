/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Inter-region link wire format (docs/WIRE.md describes it byte by byte).
 *
 * A packet is one UDP/IPv4 datagram no larger than the link MTU:
 *
 *     struct ist_wire_hdr | payload (type-specific) | tag (16 bytes, if keyed)
 *
 * All integers are in network byte order. Every packet, whatever its type,
 * takes the next number of its sender's packet-number space (`pn`), so the
 * receiver's replay window and ACK ranges cover all of them; only DATA packets
 * are retransmitted (with a new pn). When the link is keyed the payload is
 * encrypted and header plus payload are authenticated with AES-256-GCM; the
 * 12-byte nonce is (the key's 4-byte salt XOR the sender's epoch) followed by
 * the 8-byte pn, so the two directions and every restart use distinct nonces
 * under a shared key.
 *
 * The structs marked "wire" are the exact on-wire layouts (packed, big
 * endian fields). The decoded forms (struct ist_ack, ...) are host-order
 * views that the codec (dataplane/wire/ist_wire.c) produces and consumes.
 *
 * Limits: IST_WIRE_MAX_SACK ranges per ACK, IST_WIRE_MAX_CREDITS streams per
 * CREDIT, IST_WIRE_MAX_FRAGS fragments per frame, IST_WIRE_MAX_FRAME bytes
 * per frame.
 */
#ifndef ISTHMUS_WIRE_H
#define ISTHMUS_WIRE_H

#include <stdint.h>

#define IST_WIRE_MAGIC       0x4953544du /* "ISTM" */
#define IST_WIRE_VERSION     1
#define IST_WIRE_TAG_LEN     16

#define IST_WIRE_MAX_SACK    16
#define IST_WIRE_MAX_CREDITS 64
#define IST_WIRE_MAX_FRAGS   64
#define IST_WIRE_MAX_FRAME   (64u * 1024u)

enum ist_wire_type {
	IST_WIRE_HELLO = 1,     /**< session set-up; payload struct ist_wire_hello */
	IST_WIRE_DATA = 2,      /**< frame fragments; payload: ist_wire_frag + bytes, repeated */
	IST_WIRE_ACK = 3,       /**< payload struct ist_wire_ack + ranges */
	IST_WIRE_HEARTBEAT = 4, /**< keepalive; empty payload */
	IST_WIRE_CREDIT = 5,    /**< payload struct ist_wire_credit_hdr + entries */
	IST_WIRE_CLOSE = 6,     /**< payload struct ist_wire_close */
	IST_WIRE_TYPE_MAX,
};

/** Header flags. */
#define IST_WIRE_F_AUTH 0x0001 /**< payload encrypted, tag follows it */

/** Packet header (wire, 32 bytes). */
struct ist_wire_hdr {
	uint32_t magic;
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t epoch;      /**< sender's session epoch: random, new at every start, never 0 */
	uint32_t peer_epoch; /**< the receiver's epoch as the sender last saw it; 0: none yet */
	uint64_t pn;         /**< packet number in the sender's epoch, from 1 */
	uint8_t key_id;      /**< which key sealed the packet; 0 when not keyed */
	uint8_t reserved;
	uint16_t payload_len; /**< bytes of payload after this header, tag excluded */
	uint32_t reserved2;
} __attribute__((packed));
_Static_assert(sizeof(struct ist_wire_hdr) == 32, "wire header is 32 bytes");

/** Capabilities in HELLO. */
#define IST_WIRE_CAP_LZ4  0x0001
#define IST_WIRE_CAP_ZSTD 0x0002
#define IST_WIRE_CAP_DICT 0x0004
#define IST_WIRE_CAP_AEAD 0x0008

/** HELLO payload (wire). */
struct ist_wire_hello {
	char appliance[32]; /**< NUL padded */
	char region[32];
	uint16_t proto_version;
	uint16_t caps;
	uint32_t mtu; /**< largest datagram the sender accepts */
	uint64_t started_unix_ms;
} __attribute__((packed));

/** One ACK range (wire): packet numbers [start, end] were received. */
struct ist_wire_range {
	uint64_t start;
	uint64_t end;
} __attribute__((packed));

/** ACK payload head (wire), followed by n_ranges ist_wire_range, highest first. */
struct ist_wire_ack {
	uint64_t cum;      /**< every pn < cum was received (or is below the window) */
	uint64_t largest;  /**< largest pn received */
	uint32_t delay_us; /**< time between receiving `largest` and sending this ACK */
	uint8_t n_ranges;
	uint8_t reserved[3];
} __attribute__((packed));

/** Fragment header inside DATA (wire), followed by frag_len bytes of the frame. */
struct ist_wire_frag {
	uint32_t stream_id;
	uint32_t frame_seq; /**< per-stream frame number, from 0, consecutive */
	uint32_t frame_len; /**< whole frame: ist_wire_frame header + body */
	uint32_t frag_off;  /**< where these bytes start in the frame */
	uint16_t frag_len;
	uint8_t frag_idx; /**< 0 .. frag_cnt-1 */
	uint8_t frag_cnt; /**< 1 .. IST_WIRE_MAX_FRAGS */
} __attribute__((packed));
_Static_assert(sizeof(struct ist_wire_frag) == 20, "fragment header is 20 bytes");

/** Codecs in a frame header. */
enum ist_wire_codec {
	IST_CODEC_NONE = 0,
	IST_CODEC_LZ4 = 1,
	IST_CODEC_ZSTD = 2,
};

/** Frame header (wire), at frame offset 0, followed by the (compressed) body. */
struct ist_wire_frame {
	uint32_t stream_id;
	uint32_t record_count;
	uint64_t first_offset; /**< source offset of the first record */
	uint8_t codec;         /**< enum ist_wire_codec */
	uint8_t dict_id;       /**< 0: no dictionary */
	uint16_t reserved;
	uint32_t uncompressed_len; /**< body length after decompression */
	uint32_t body_len;         /**< body bytes that follow this header */
	uint32_t crc32c;           /**< CRC32C of the uncompressed body */
} __attribute__((packed));
_Static_assert(sizeof(struct ist_wire_frame) == 32, "frame header is 32 bytes");

/**
 * Frame flags: the 16-bit field after dict_id in struct ist_wire_frame
 * (still named `reserved` there; network byte order). A receiver refuses a
 * frame with a flag outside IST_WIRE_FRAME_F_MASK. Body layouts:
 * dataplane/batch/ist_batch.h.
 */
/**
 * The body is a slice of one record too large for a frame body: 16-byte
 * offset prefix, u32 total_len, u32 part_off, slice. record_count is 1 on
 * the part that completes the record and 0 on the others; first_offset is
 * the record's offset on every part. Parts of a record are consecutive
 * frames of its stream.
 */
#define IST_WIRE_FRAME_F_SPLIT 0x0001
/** Flags a receiver of this version understands. */
#define IST_WIRE_FRAME_F_MASK 0x0001

/** CREDIT payload head (wire), followed by n ist_wire_credit entries. */
struct ist_wire_credit_hdr {
	uint16_t n;
	uint16_t reserved;
} __attribute__((packed));

/**
 * One stream's grant (wire). Absolute values, so a lost or repeated CREDIT
 * does no harm: the sender may send frames next_seq .. limit_seq - 1. After
 * a new epoch on either side next_seq is where the sender must resume.
 */
struct ist_wire_credit {
	uint32_t stream_id;
	uint32_t next_seq;  /**< first frame the receiver has not released */
	uint32_t limit_seq; /**< first frame the receiver has no room for */
} __attribute__((packed));

/** CLOSE payload (wire). */
struct ist_wire_close {
	uint32_t reason; /**< 1: shutdown, 2: protocol error, 3: auth failure */
} __attribute__((packed));

/* ---- decoded, host-order views ---- */

struct ist_range {
	uint64_t start, end; /* inclusive */
};

struct ist_ack {
	uint64_t cum;
	uint64_t largest;
	uint32_t delay_us;
	uint8_t n_ranges;
	struct ist_range ranges[IST_WIRE_MAX_SACK];
};

struct ist_credit {
	uint32_t stream_id;
	uint32_t next_seq;
	uint32_t limit_seq;
};

#endif /* ISTHMUS_WIRE_H */
