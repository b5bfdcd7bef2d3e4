/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Codec for the link wire format of include/isthmus/wire.h (docs/WIRE.md).
 *
 * Encoders write into a caller buffer and return the bytes written; decoders
 * read from a caller buffer into host-order views and return 0. Neither
 * allocates. Every length read from the wire is checked against the bytes
 * actually present before it is used, and against the limits of wire.h.
 *
 * Receive order for one datagram:
 *   1. ist_wire_pkt_check(): header, payload_len vs datagram length, tag
 *      presence, payload size by type. Nothing else looks at a datagram
 *      that fails it.
 *   2. (keyed) replay check, ist_aead_pkt_open(), replay update.
 *   3. the payload decoder of the type: ist_wire_hello_decode(), ...,
 *      ist_wire_data_check() and the fragment walker for DATA.
 *   4. after reassembly: ist_wire_frame_decode(); after decompression:
 *      ist_wire_frame_body_check() (length and CRC32C).
 *
 * Return values: the codec returns `enum ist_wire_err` values (negative on
 * error), not errno values, so one counter array indexed by -err counts drops
 * by reason on the data path (ist_wire_err_name() names them for metrics).
 *
 * Threading: all functions are reentrant and keep no state; call them from
 * any thread. The fragment walker's state lives in the caller's struct.
 *
 * Limits: datagrams of IST_WIRE_MIN_PKT .. IST_WIRE_MAX_PKT bytes; the
 * counts and sizes of wire.h (IST_WIRE_MAX_SACK, IST_WIRE_MAX_CREDITS,
 * IST_WIRE_MAX_FRAGS, IST_WIRE_MAX_FRAME); uncompressed frame bodies of at
 * most IST_WIRE_MAX_BODY bytes.
 *
 * Written by hand: DPDK has no codec for a private UDP protocol. CRC32C is
 * DPDK's rte_hash_crc; byte order is rte_byteorder.
 */
#ifndef ISTHMUS_IST_WIRE_H
#define ISTHMUS_IST_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isthmus/wire.h"

/** Reasons a datagram, payload or frame is refused (0 is success). */
enum ist_wire_err {
	IST_WIRE_OK = 0,
	IST_WIRE_E_TRUNCATED = -1,   /**< fewer bytes than a header or a declared length needs */
	IST_WIRE_E_OVERSIZED = -2,   /**< a size or count above a limit of this file or wire.h */
	IST_WIRE_E_BAD_MAGIC = -3,   /**< not an isthmus packet */
	IST_WIRE_E_BAD_VERSION = -4, /**< another wire version */
	IST_WIRE_E_BAD_TYPE = -5,    /**< unknown packet type */
	IST_WIRE_E_BAD_LENGTH = -6,  /**< a declared length disagrees with the bytes or the type */
	IST_WIRE_E_BAD_TAG = -7,     /**< auth flag, key id, keying policy or tag wrong */
	IST_WIRE_E_BAD_FIELD = -8,  /**< a field out of its domain (reserved, epoch, pn, name...) */
	IST_WIRE_E_BAD_RANGE = -9,  /**< ACK cum/largest/ranges inconsistent */
	IST_WIRE_E_BAD_FRAG = -10,  /**< fragment geometry wrong (offset, length, index, count) */
	IST_WIRE_E_BAD_CODEC = -11, /**< unknown frame codec or dictionary misuse */
	IST_WIRE_E_BAD_CRC = -12,   /**< frame body CRC32C mismatch */
	IST_WIRE_E_REPLAYED = -13,  /**< packet number already received (replay window) */
	IST_WIRE_E_TOO_OLD = -14,   /**< packet number below the replay window */
	IST_WIRE_E_NO_SPACE = -15,  /**< encoder: the caller's buffer is too small */
};

/** Size of a counter array indexed by -err (slot 0 counts successes). */
#define IST_WIRE_ERR_COUNT   16

#define IST_WIRE_HDR_LEN     ((uint32_t)sizeof(struct ist_wire_hdr))
#define IST_WIRE_HELLO_LEN   ((uint32_t)sizeof(struct ist_wire_hello))
#define IST_WIRE_ACK_LEN     ((uint32_t)sizeof(struct ist_wire_ack))
#define IST_WIRE_RANGE_LEN   ((uint32_t)sizeof(struct ist_wire_range))
#define IST_WIRE_FRAG_LEN    ((uint32_t)sizeof(struct ist_wire_frag))
#define IST_WIRE_FRAME_LEN   ((uint32_t)sizeof(struct ist_wire_frame))
#define IST_WIRE_CREDIT_HLEN ((uint32_t)sizeof(struct ist_wire_credit_hdr))
#define IST_WIRE_CREDIT_LEN  ((uint32_t)sizeof(struct ist_wire_credit))
#define IST_WIRE_CLOSE_LEN   ((uint32_t)sizeof(struct ist_wire_close))

/**
 * Smallest datagram size (HELLO mtu) a peer may announce: one fragment of
 * IST_WIRE_MAX_FRAME / IST_WIRE_MAX_FRAGS bytes fits in a keyed DATA packet,
 * so every frame fits in IST_WIRE_MAX_FRAGS fragments, and the largest ACK
 * and CREDIT fit in one datagram. 1092 bytes: IP MTU 1120.
 */
#define IST_WIRE_MIN_PKT                                                                  \
	(IST_WIRE_HDR_LEN + IST_WIRE_FRAG_LEN + IST_WIRE_MAX_FRAME / IST_WIRE_MAX_FRAGS + \
	 IST_WIRE_TAG_LEN)

/** Largest datagram accepted: a 9216-byte jumbo IPv4 packet less IP and UDP headers. */
#define IST_WIRE_MAX_PKT 9188u

/**
 * Largest uncompressed frame body: 16 x IST_WIRE_MAX_FRAME, so a receiver's
 * decompression buffer has a fixed size. Senders cut frames to respect it.
 */
#define IST_WIRE_MAX_BODY (16u * IST_WIRE_MAX_FRAME)

/** Names in HELLO: 1..31 printable ASCII characters, NUL padded to 32 bytes. */
#define IST_WIRE_NAME_LEN 32

/** CLOSE reasons. */
enum ist_wire_close_reason {
	IST_CLOSE_SHUTDOWN = 1,
	IST_CLOSE_PROTOCOL = 2,
	IST_CLOSE_AUTH = 3,
};

/** Header, host order. magic and version are implied (the codec checks them). */
struct ist_hdr {
	uint8_t type; /**< enum ist_wire_type */
	uint16_t flags;
	uint32_t epoch;
	uint32_t peer_epoch;
	uint64_t pn;
	uint8_t key_id;
	uint16_t payload_len;
};

/** HELLO, host order; names NUL terminated. */
struct ist_hello {
	char appliance[IST_WIRE_NAME_LEN];
	char region[IST_WIRE_NAME_LEN];
	uint16_t proto_version;
	uint16_t caps; /**< IST_WIRE_CAP_* ; unknown bits are kept, not refused */
	uint32_t mtu;
	uint64_t started_unix_ms;
};

/** One fragment of a DATA payload, host order; `data` points into the payload. */
struct ist_frag {
	uint32_t stream_id;
	uint32_t frame_seq;
	uint32_t frame_len;
	uint32_t frag_off;
	uint16_t frag_len;
	uint8_t frag_idx;
	uint8_t frag_cnt;
	const uint8_t *data;
};

/** Frame header, host order. */
struct ist_frame {
	uint32_t stream_id;
	uint32_t record_count;
	uint64_t first_offset;
	uint8_t codec; /**< enum ist_wire_codec */
	uint8_t dict_id;
	uint32_t uncompressed_len;
	uint32_t body_len;
	uint32_t crc32c;
};

/** Walker over the fragments of one DATA payload (caller owned, no allocation). */
struct ist_wire_frag_iter {
	const uint8_t *p;
	size_t left;
};

/**
 * Name of a reason for logs and metric labels ("truncated", "bad_magic"...).
 *
 * @param err
 *   An enum ist_wire_err value, negative or positive.
 * @return
 *   A static string; "unknown" for values outside the enum.
 */
const char *ist_wire_err_name(int err);

/**
 * Validate a whole datagram before anything else looks at it. HOT.
 *
 * Checks the header (ist_wire_hdr_decode()), that the datagram is exactly
 * header + payload_len + tag (when IST_WIRE_F_AUTH), that the keying matches
 * the link's policy, and that payload_len fits the type (exact size for
 * HELLO/HEARTBEAT/CLOSE, whole entries within the limits for ACK/CREDIT, at
 * least one fragment header for DATA). GCM keeps lengths, so this is valid
 * before decryption.
 *
 * @param pkt
 *   The datagram (UDP payload).
 * @param len
 *   Its length in bytes.
 * @param keyed
 *   The link has keys: refuse packets without IST_WIRE_F_AUTH; when false,
 *   refuse packets with it.
 * @param h
 *   Out: the decoded header (valid only when 0 is returned).
 * @return
 *   0; IST_WIRE_E_TRUNCATED (shorter than header + payload_len + tag),
 *   IST_WIRE_E_OVERSIZED (len > IST_WIRE_MAX_PKT), IST_WIRE_E_BAD_LENGTH
 *   (trailing bytes, payload size wrong for the type), IST_WIRE_E_BAD_TAG
 *   (keying does not match the policy), or any ist_wire_hdr_decode() error.
 */
int ist_wire_pkt_check(const void *pkt, size_t len, bool keyed, struct ist_hdr *h);

/** The payload of a datagram that passed ist_wire_pkt_check(). */
static inline const uint8_t *ist_wire_pkt_payload(const void *pkt)
{
	return (const uint8_t *)pkt + IST_WIRE_HDR_LEN;
}

/**
 * Encode a header (magic and version filled in). HOT.
 *
 * @return
 *   IST_WIRE_HDR_LEN; IST_WIRE_E_NO_SPACE (cap too small), IST_WIRE_E_BAD_TYPE,
 *   IST_WIRE_E_BAD_FIELD (unknown flag, epoch or pn 0) or IST_WIRE_E_BAD_TAG
 *   (IST_WIRE_F_AUTH set without key_id or key_id without it).
 */
int ist_wire_hdr_encode(void *buf, size_t cap, const struct ist_hdr *h);

/**
 * Decode and check a header alone (not the datagram length: see
 * ist_wire_pkt_check()). HOT.
 *
 * @return
 *   0; IST_WIRE_E_TRUNCATED (len < 32), IST_WIRE_E_BAD_MAGIC,
 *   IST_WIRE_E_BAD_VERSION, IST_WIRE_E_BAD_TYPE, IST_WIRE_E_BAD_FIELD (unknown
 *   flag, reserved bytes not zero, epoch 0, pn 0) or IST_WIRE_E_BAD_TAG
 *   (IST_WIRE_F_AUTH and key_id disagree).
 */
int ist_wire_hdr_decode(const void *buf, size_t len, struct ist_hdr *h);

/**
 * Encode a HELLO payload.
 *
 * @return
 *   IST_WIRE_HELLO_LEN; IST_WIRE_E_NO_SPACE or IST_WIRE_E_BAD_FIELD (see the decoder).
 */
int ist_wire_hello_encode(void *buf, size_t cap, const struct ist_hello *hl);

/**
 * Decode a HELLO payload.
 *
 * @return
 *   0; IST_WIRE_E_TRUNCATED, IST_WIRE_E_BAD_LENGTH (longer than a HELLO) or
 *   IST_WIRE_E_BAD_FIELD: a name empty, not printable ASCII, not NUL padded or
 *   32 characters long; proto_version 0; mtu outside IST_WIRE_MIN_PKT ..
 *   IST_WIRE_MAX_PKT; started_unix_ms 0.
 */
int ist_wire_hello_decode(const void *buf, size_t len, struct ist_hello *hl);

/**
 * Check an ACK's consistency (the encoder and decoder both apply it). HOT.
 *
 * Rules: 1 <= cum <= largest + 1; no ranges iff largest == cum - 1; ranges
 * highest first, start <= end, each below the previous one's start (no
 * overlap), all >= cum, and ranges[0].end == largest.
 *
 * @return
 *   0; IST_WIRE_E_OVERSIZED (n_ranges > IST_WIRE_MAX_SACK) or IST_WIRE_E_BAD_RANGE.
 */
int ist_wire_ack_check(const struct ist_ack *ack);

/**
 * Encode an ACK payload. HOT.
 *
 * @return
 *   Bytes written (24 + 16 x n_ranges); IST_WIRE_E_NO_SPACE or an
 *   ist_wire_ack_check() error.
 */
int ist_wire_ack_encode(void *buf, size_t cap, const struct ist_ack *ack);

/**
 * Decode an ACK payload. HOT.
 *
 * @return
 *   0; IST_WIRE_E_TRUNCATED, IST_WIRE_E_BAD_LENGTH (bytes after the last
 *   range), IST_WIRE_E_BAD_FIELD (reserved not zero) or an
 *   ist_wire_ack_check() error.
 */
int ist_wire_ack_decode(const void *buf, size_t len, struct ist_ack *ack);

/**
 * Encode a CREDIT payload of n grants. Sequence numbers compare modulo 2^32
 * (RFC 1982), so a grant is valid while limit_seq - next_seq < 2^31.
 *
 * @return
 *   Bytes written (4 + 12 x n); IST_WIRE_E_NO_SPACE, IST_WIRE_E_OVERSIZED
 *   (n > IST_WIRE_MAX_CREDITS) or IST_WIRE_E_BAD_FIELD (a grant with
 *   limit_seq before next_seq).
 */
int ist_wire_credit_encode(void *buf, size_t cap, const struct ist_credit *cr, unsigned int n);

/**
 * Decode a CREDIT payload into cr[0 .. *n - 1]; cr holds IST_WIRE_MAX_CREDITS.
 *
 * @return
 *   0; IST_WIRE_E_TRUNCATED, IST_WIRE_E_OVERSIZED, IST_WIRE_E_BAD_LENGTH or
 *   IST_WIRE_E_BAD_FIELD (reserved not zero, limit_seq before next_seq).
 */
int ist_wire_credit_decode(const void *buf, size_t len, struct ist_credit *cr, unsigned int *n);

/**
 * Encode a CLOSE payload.
 *
 * @return
 *   IST_WIRE_CLOSE_LEN; IST_WIRE_E_NO_SPACE or IST_WIRE_E_BAD_FIELD (unknown reason).
 */
int ist_wire_close_encode(void *buf, size_t cap, uint32_t reason);

/**
 * Decode a CLOSE payload.
 *
 * @return
 *   0; IST_WIRE_E_TRUNCATED, IST_WIRE_E_BAD_LENGTH or IST_WIRE_E_BAD_FIELD
 *   (reason not an enum ist_wire_close_reason).
 */
int ist_wire_close_decode(const void *buf, size_t len, uint32_t *reason);

/**
 * Split a frame into fragments: how many fragments of at most max_len bytes
 * it takes. Fragment i then covers ist_wire_frag_span() of the frame.
 *
 * @param frame_len
 *   Whole frame (header + body), IST_WIRE_FRAME_LEN .. IST_WIRE_MAX_FRAME.
 * @param max_len
 *   Largest fragment the datagram leaves room for (mtu - 32 - 20 - tag), >= 1.
 * @param cnt
 *   Out: number of fragments.
 * @return
 *   0; IST_WIRE_E_BAD_FIELD (frame_len or max_len out of range) or
 *   IST_WIRE_E_OVERSIZED (more than IST_WIRE_MAX_FRAGS fragments needed).
 */
int ist_wire_frag_plan(uint32_t frame_len, uint32_t max_len, uint8_t *cnt);

/**
 * Where fragment idx of cnt lies in a frame of frame_len bytes: every
 * fragment has ceil(frame_len / cnt) bytes except the last, which has the
 * rest. The decoder refuses any other geometry, so a receiver can reassemble
 * with one bit per fragment index.
 *
 * @return
 *   0, or IST_WIRE_E_BAD_FRAG if (frame_len, cnt, idx) is not a valid geometry.
 */
int ist_wire_frag_span(uint32_t frame_len, uint8_t cnt, uint8_t idx, uint32_t *off, uint16_t *len);

/**
 * Append one fragment (header + f->frag_len bytes from f->data) to a DATA
 * payload being built. HOT.
 *
 * @return
 *   Bytes written (20 + frag_len); IST_WIRE_E_NO_SPACE or the decoder's
 *   field errors.
 */
int ist_wire_frag_encode(void *buf, size_t cap, const struct ist_frag *f);

/** Start walking the fragments of a DATA payload. HOT. */
static inline void ist_wire_frag_iter_init(struct ist_wire_frag_iter *it, const void *payload,
					   size_t len)
{
	it->p = payload;
	it->left = len;
}

/**
 * Next fragment of a DATA payload. HOT.
 *
 * A fragment is valid when its bytes are present, 1 <= frag_cnt <=
 * IST_WIRE_MAX_FRAGS, frag_idx < frag_cnt, IST_WIRE_FRAME_LEN <= frame_len <=
 * IST_WIRE_MAX_FRAME, and frag_off/frag_len are exactly ist_wire_frag_span()
 * (so frag_off + frag_len <= frame_len and the fragments tile the frame).
 *
 * @return
 *   1 with *f filled (f->data points into the payload), 0 at the end, or
 *   IST_WIRE_E_TRUNCATED (fragment header or bytes cut short),
 *   IST_WIRE_E_OVERSIZED (frame_len or frag_cnt above its limit) or
 *   IST_WIRE_E_BAD_FRAG. After an error the walker stays at the bad fragment.
 */
int ist_wire_frag_next(struct ist_wire_frag_iter *it, struct ist_frag *f);

/**
 * Walk a whole DATA payload without using it, so a packet is refused before
 * any of its fragments is applied. HOT.
 *
 * @return
 *   Number of fragments (>= 1), or the first ist_wire_frag_next() error
 *   (IST_WIRE_E_TRUNCATED for an empty payload).
 */
int ist_wire_data_check(const void *payload, size_t len);

/**
 * Encode a frame header; fr->body_len says how many body bytes follow. HOT.
 *
 * @return
 *   IST_WIRE_FRAME_LEN; IST_WIRE_E_NO_SPACE or the decoder's field errors.
 */
int ist_wire_frame_encode(void *buf, size_t cap, const struct ist_frame *fr);

/**
 * Decode and check the header of a reassembled frame of len bytes. HOT.
 *
 * @return
 *   0; IST_WIRE_E_TRUNCATED (len < 32), IST_WIRE_E_OVERSIZED (len >
 *   IST_WIRE_MAX_FRAME, uncompressed_len > IST_WIRE_MAX_BODY),
 *   IST_WIRE_E_BAD_LENGTH (body_len != len - 32; codec NONE with
 *   uncompressed_len != body_len; a compressed body or its expansion empty),
 *   IST_WIRE_E_BAD_CODEC (unknown codec, dictionary with codec NONE) or
 *   IST_WIRE_E_BAD_FIELD (reserved not zero, record_count 0 or above
 *   uncompressed_len, offsets past INT64_MAX).
 */
int ist_wire_frame_decode(const void *buf, size_t len, struct ist_frame *fr);

/**
 * Check an uncompressed body against its frame header. HOT.
 *
 * @return
 *   0; IST_WIRE_E_BAD_LENGTH (len != uncompressed_len) or IST_WIRE_E_BAD_CRC.
 */
int ist_wire_frame_body_check(const struct ist_frame *fr, const void *body, size_t len);

/**
 * CRC32C (Castagnoli; "123456789" -> 0xE3069283), chainable like zlib's
 * crc32(): start with crc = 0 and pass the previous result for the next
 * piece. rte_hash_crc underneath (SSE4.2 instruction when present). HOT.
 */
uint32_t ist_wire_crc32c(const void *data, size_t len, uint32_t crc);

#endif /* ISTHMUS_IST_WIRE_H */
