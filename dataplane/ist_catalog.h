/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The catalog: the appliances' conversation about streams, carried on the
 * link's stream 0 (reliable and in order like any stream, docs/WIRE.md).
 *
 * A catalog frame is a struct ist_wire_frame (codec none, stream 0,
 * record_count = messages) whose body is a run of messages:
 *
 *   u8 type | u16 len (network order) | len bytes of payload
 *
 *   OPEN     source -> sink, after every new session and for new streams:
 *            u32 stream, u32 src_partition, u32 dst_partition,
 *            str8 flow, str8 cluster, str8 region, str16 topic, str16 dst_topic
 *   RESUME   sink -> source, the answer to OPEN: u32 stream, u32 next_seq,
 *            i64 position (source offset the next frame must start from; -2:
 *            the beginning of the partition), u8 status (0 ok, else the
 *            stream cannot run: the reason follows), str8 reason
 *   DICT     source -> sink: u8 dict_id, u8 codec, then the dictionary bytes
 *   DICT_ACK sink -> source: u8 dict_id, u8 status (0: installed)
 *
 * str8/str16: u8/u16 length then bytes, no NUL. Unknown message types are
 * skipped (a newer peer may send more); every length is bounds-checked.
 *
 * Threading: pure functions, no state.
 */
#ifndef ISTHMUS_CATALOG_H
#define ISTHMUS_CATALOG_H

#include <stddef.h>
#include <stdint.h>

enum ist_cat_type {
	IST_CAT_OPEN = 1,
	IST_CAT_RESUME = 2,
	IST_CAT_DICT = 3,
	IST_CAT_DICT_ACK = 4,
};

#define IST_CAT_NAME_LEN      64
#define IST_CAT_TOPIC_LEN     256
#define IST_CAT_REASON_LEN    200
#define IST_CAT_POS_BEGINNING (-2)

struct ist_cat_open {
	uint32_t stream;
	uint32_t src_partition, dst_partition;
	char flow[IST_CAT_NAME_LEN], cluster[IST_CAT_NAME_LEN], region[IST_CAT_NAME_LEN];
	char topic[IST_CAT_TOPIC_LEN], dst_topic[IST_CAT_TOPIC_LEN];
};

struct ist_cat_resume {
	uint32_t stream;
	uint32_t next_seq;
	int64_t position;
	uint8_t status;
	char reason[IST_CAT_REASON_LEN];
};

struct ist_cat_dict {
	uint8_t dict_id, codec;
	const uint8_t *data;
	uint32_t len;
};

struct ist_cat_dict_ack {
	uint8_t dict_id, status;
};

/** One decoded message. */
struct ist_cat_msg {
	uint8_t type;
	union {
		struct ist_cat_open open;
		struct ist_cat_resume resume;
		struct ist_cat_dict dict;
		struct ist_cat_dict_ack dict_ack;
	};
};

/**
 * Append one message to @p buf (capacity @p cap) at @p *len.
 * @return 0, or -ENOSPC (nothing written) or -EINVAL (a name too long).
 */
int ist_cat_put_open(uint8_t *buf, size_t cap, size_t *len, const struct ist_cat_open *o);
int ist_cat_put_resume(uint8_t *buf, size_t cap, size_t *len, const struct ist_cat_resume *r);
int ist_cat_put_dict(uint8_t *buf, size_t cap, size_t *len, const struct ist_cat_dict *d);
int ist_cat_put_dict_ack(uint8_t *buf, size_t cap, size_t *len, const struct ist_cat_dict_ack *a);

/**
 * Decode the message at @p *off of @p body (length @p len) and advance.
 * @return 1 one message decoded (unknown types: type set, nothing else),
 *   0 the end, -EBADMSG a malformed message (stop reading the frame).
 */
int ist_cat_next(const uint8_t *body, size_t len, size_t *off, struct ist_cat_msg *m);

#endif /* ISTHMUS_CATALOG_H */
