/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Inter-region link wire format: UDP/IPv4 datagrams whose payload starts
 * with struct ist_wire_hdr. All integers are in network byte order.
 *
 * Limits: one datagram fits the link MTU; the header is 24 bytes.
 */
#ifndef ISTHMUS_WIRE_H
#define ISTHMUS_WIRE_H

#include <stdint.h>

#define IST_WIRE_MAGIC   0x4953544du /* "ISTM" */
#define IST_WIRE_VERSION 1

enum ist_wire_type {
	IST_WIRE_HELLO = 1,
	IST_WIRE_DATA = 2,
	IST_WIRE_ACK = 3,
	IST_WIRE_HEARTBEAT = 4,
	IST_WIRE_CREDIT = 5,
	IST_WIRE_CLOSE = 6,
};

struct ist_wire_hdr {
	uint32_t magic;
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t epoch; /**< sender's session epoch, new at every start */
	uint32_t reserved;
	uint64_t seq; /**< packet sequence number within the epoch */
} __attribute__((packed));
_Static_assert(sizeof(struct ist_wire_hdr) == 24, "wire header is 24 bytes");

#endif /* ISTHMUS_WIRE_H */
