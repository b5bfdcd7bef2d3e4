/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Control <-> data plane IPC: versioned, fixed-header binary messages over a
 * Unix stream socket.
 *
 * Every message is a 16-byte header followed by @c length payload bytes.
 * Integers are in host byte order: both ends run on the same appliance, and
 * the magic doubles as a byte-order check. A receiver that sees a wrong
 * magic cannot find the next message boundary and closes the connection; a
 * wrong version or an oversized length is answered with IST_IPC_ERROR and the
 * connection is closed; an unknown type is answered with IST_IPC_ERROR and
 * the connection stays up.
 *
 * Threading: the helpers here are pure functions on caller buffers and may
 * run anywhere.
 *
 * Limits: a payload is at most IST_IPC_MAX_PAYLOAD bytes.
 */
#ifndef ISTHMUS_IPC_H
#define ISTHMUS_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define IST_IPC_MAGIC       0x49535443u /* "ISTC" */
#define IST_IPC_VERSION     2
#define IST_IPC_MAX_PAYLOAD (64u * 1024u)

enum ist_ipc_type {
	IST_IPC_HELLO = 1,       /**< both ways: struct ist_ipc_hello */
	IST_IPC_STATUS_REQ = 2,  /**< control -> dp: empty */
	IST_IPC_STATUS_RESP = 3, /**< dp -> control: struct ist_ipc_status + arrays */
	IST_IPC_LCORE_CMD = 4,   /**< control -> dp: struct ist_ipc_lcore_cmd */
	IST_IPC_CMD_RESP = 5,    /**< dp -> control: struct ist_ipc_cmd_resp */
	IST_IPC_ERROR = 6,       /**< either way: struct ist_ipc_cmd_resp */
	IST_IPC_TYPE_MAX,
};

struct ist_ipc_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t length; /**< payload bytes after this header */
	uint32_t seq;    /**< echoed in the reply */
};
_Static_assert(sizeof(struct ist_ipc_hdr) == 16, "IPC header is 16 bytes on the wire");

#define IST_IPC_NAME_LEN 32

struct ist_ipc_hello {
	char who[IST_IPC_NAME_LEN];       /**< "isthmus-control" / "isthmus-dataplane" */
	char appliance[IST_IPC_NAME_LEN]; /**< appliance id */
	char region[IST_IPC_NAME_LEN];
	uint32_t pid;
	uint32_t reserved;
	uint64_t started_unix_ms;
};

/** Why the data plane rejected an IPC message; indexes the rejection counters. */
enum ist_ipc_reject {
	IST_IPC_REJ_MAGIC = 0,
	IST_IPC_REJ_VERSION,
	IST_IPC_REJ_OVERSIZED,
	IST_IPC_REJ_TRUNCATED,
	IST_IPC_REJ_UNKNOWN_TYPE,
	IST_IPC_REJ_BAD_PAYLOAD,
	IST_IPC_REJ_MAX,
};

static inline const char *ist_ipc_reject_name(unsigned int r)
{
	static const char *const names[IST_IPC_REJ_MAX] = {
		"bad_magic", "bad_version", "oversized", "truncated", "unknown_type", "bad_payload",
	};
	return r < IST_IPC_REJ_MAX ? names[r] : "unknown";
}

#define IST_IPC_LINK_DROPS 16 /* by -enum ist_wire_err; names from ist_wire_err_name() */

/** Name of link drop reason @p i (the negated enum ist_wire_err), for status and metrics. */
static inline const char *ist_ipc_link_drop_name(unsigned int i)
{
	static const char *const names[IST_IPC_LINK_DROPS] = {
		"ok",         "truncated", "oversized", "bad_magic", "bad_version", "bad_type",
		"bad_length", "bad_tag",   "bad_field", "bad_range", "bad_frag",    "bad_codec",
		"bad_crc",    "replayed",  "too_old",   "no_space",
	};
	return i < IST_IPC_LINK_DROPS ? names[i] : "unknown";
}

/** The inter-region link, as its owning lcore counts it. */
struct ist_ipc_link_status {
	uint8_t present; /**< 0: no [link] in the core map */
	uint8_t state;   /**< 0 down, 1 hello, 2 established */
	uint8_t keyed;   /**< packets sealed with AES-256-GCM */
	uint8_t reserved;
	uint32_t capacity_mbps;
	uint64_t srtt_us, rto_us, inflight;
	uint64_t tx_data, tx_retx, tx_ack, tx_credit, tx_hello, tx_hb, tx_fail, tx_bytes;
	uint64_t rx_pkts, rx_bytes, rx_dup, rx_stale_epoch, rx_foreign;
	uint64_t rx_drop[IST_IPC_LINK_DROPS];
	uint64_t frames_sent, frames_ok, frames_bad, frames_out_of_order, bytes_delivered;
	uint64_t peer_restarts, peer_deaths;
	uint64_t tx_kbps;      /**< link bytes sent, over the last status interval */
	uint64_t goodput_kbps; /**< frame bytes delivered in order, same interval */
};

/** Replication totals (docs/REPLICATION.md). */
struct ist_ipc_repl_status {
	uint8_t source;     /**< this appliance reads some flow's source cluster */
	uint8_t sink;       /**< this appliance writes some flow's destination */
	uint16_t n_streams; /**< stream records that follow the port records */
	uint32_t src_streams, sink_streams, sink_failed;
	uint32_t dicts; /**< source: classes compressing with a dictionary the sink has */
	uint64_t src_records, src_bytes, src_bytes_out, src_gaps, src_dropped;
	uint64_t sink_records, sink_bytes, sink_unchained, sink_errors;
	uint64_t catalog_bad;
	uint64_t rules_reloads, rules_reload_failed; /**< SIGHUP reloads of the [rule] sections */
};

/** Largest number of stream records a status carries. */
#define IST_IPC_MAX_STREAMS 96

enum ist_ipc_stream_state {
	IST_STREAM_IDLE = 0, /**< waiting for the peer appliance */
	IST_STREAM_TAIL = 1, /**< sink: reading the destination tail */
	IST_STREAM_RUNNING = 2,
	IST_STREAM_FAILED = 3, /**< sink: destination refused; retried with back-off */
	IST_STREAM_HALTED = 4, /**< stopped (gap with on_gap = halt, undecodable frame) */
};

static inline const char *ist_ipc_stream_state_name(unsigned int s)
{
	static const char *const names[] = {"idle", "tail", "running", "failed", "halted"};

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

/** One replication stream: a source partition and its destination partition. */
struct ist_ipc_stream_status {
	char topic[128];      /**< this side's topic (source: source; sink: destination) */
	char peer_topic[128]; /**< the other side's topic */
	uint32_t id;
	int32_t partition;
	uint8_t side;  /**< 0 source, 1 sink */
	uint8_t state; /**< enum ist_ipc_stream_state */
	uint16_t reserved;
	uint32_t reserved2;
	int64_t position; /**< source: next offset to read; sink: next offset expected */
	int64_t durable;  /**< sink: last source offset the destination acknowledged */
	int64_t high;     /**< source: the partition's high watermark */
	uint64_t records, bytes, frames, bytes_out, dropped, gaps, gap_lost;
	uint64_t unchained, errors, retries;
	char reason[192];
};

/**
 * Status snapshot: header, then n_lcores lcore records, then n_ports port
 * records, then repl.n_streams stream records.
 */
struct ist_ipc_status {
	char appliance[IST_IPC_NAME_LEN];
	char region[IST_IPC_NAME_LEN];
	uint64_t uptime_ms;
	uint64_t tsc_hz;
	uint32_t pid;
	uint16_t n_lcores;
	uint16_t n_ports;
	uint64_t ipc_rx_msgs;
	uint64_t ipc_rejected[IST_IPC_REJ_MAX];
	struct ist_ipc_link_status link;
	struct ist_ipc_repl_status repl;
};

#define IST_IPC_MAX_ROLES 8
#define IST_IPC_ROLE_LEN  16

struct ist_ipc_role_status {
	char name[IST_IPC_ROLE_LEN];
	uint64_t polls;  /**< poll() calls */
	uint64_t work;   /**< units of work poll() reported (packets, records) */
	uint64_t cycles; /**< TSC cycles spent inside poll() */
};

struct ist_ipc_lcore_status {
	uint32_t lcore_id;
	uint32_t cpu; /**< first CPU the lcore thread is bound to */
	uint8_t paused;
	uint8_t n_roles;
	uint16_t reserved;
	uint32_t idle_sleep_us;
	uint64_t loops;
	uint64_t busy_loops; /**< loops in which some role did work */
	uint64_t idle_sleeps;
	uint64_t cmds_applied;
	struct ist_ipc_role_status roles[IST_IPC_MAX_ROLES];
};

struct ist_ipc_port_status {
	char name[IST_IPC_NAME_LEN];
	char driver[IST_IPC_NAME_LEN];
	uint16_t port_id;
	uint8_t link_up;
	uint8_t started; /**< 0 while the port waits for its peer (start is retried) */
	uint32_t link_speed_mbps;
	uint32_t mtu;
	uint32_t restarts; /**< times the mgmt thread restarted the port to reconnect */
	uint64_t ipackets, opackets, ibytes, obytes, imissed, ierrors, oerrors, rx_nombuf;
};

enum ist_ipc_lcore_op {
	IST_LCORE_OP_PAUSE = 1, /**< stop polling roles; the lcore sleeps */
	IST_LCORE_OP_RESUME = 2,
	IST_LCORE_OP_SET_IDLE_SLEEP = 3, /**< arg: idle_sleep_us bound */
};

/** Largest idle sleep bound IST_LCORE_OP_SET_IDLE_SLEEP accepts, in microseconds. */
#define IST_IPC_IDLE_SLEEP_MAX_US 100000u

/** lcore_id == IST_IPC_ALL_LCORES applies the op to every lcore. */
#define IST_IPC_ALL_LCORES UINT32_MAX

struct ist_ipc_lcore_cmd {
	uint32_t lcore_id;
	uint32_t op;
	uint64_t arg;
};

struct ist_ipc_cmd_resp {
	int32_t status; /**< 0 or -errno */
	char message[124];
};

/** Result of ist_ipc_check(). */
enum ist_ipc_check {
	IST_IPC_NEED_MORE = 0, /**< fewer bytes than a complete message so far */
	IST_IPC_COMPLETE = 1,  /**< a whole message of 16 + hdr.length bytes is there */
	IST_IPC_BAD = -1,      /**< *reject says why; see the file comment for what to do */
};

/**
 * Check the message at the start of a receive buffer.
 *
 * @param buf  received bytes (may be unaligned)
 * @param len  number of bytes in @p buf
 * @param hdr  out: the header, valid when the result is not IST_IPC_NEED_MORE
 *             and at least 16 bytes are present
 * @param reject out: the reason when the result is IST_IPC_BAD
 * @return IST_IPC_NEED_MORE, IST_IPC_COMPLETE or IST_IPC_BAD.
 *   An unknown type is reported as COMPLETE: the message is well framed and
 *   the dispatcher answers it with an error.
 */
static inline enum ist_ipc_check ist_ipc_check(const void *buf, size_t len, struct ist_ipc_hdr *hdr,
					       enum ist_ipc_reject *reject)
{
	if (len < sizeof(*hdr))
		return IST_IPC_NEED_MORE;
	memcpy(hdr, buf, sizeof(*hdr));
	if (hdr->magic != IST_IPC_MAGIC) {
		*reject = IST_IPC_REJ_MAGIC;
		return IST_IPC_BAD;
	}
	if (hdr->version != IST_IPC_VERSION) {
		*reject = IST_IPC_REJ_VERSION;
		return IST_IPC_BAD;
	}
	if (hdr->length > IST_IPC_MAX_PAYLOAD) {
		*reject = IST_IPC_REJ_OVERSIZED;
		return IST_IPC_BAD;
	}
	if (len - sizeof(*hdr) < hdr->length)
		return IST_IPC_NEED_MORE;
	return IST_IPC_COMPLETE;
}

/** Fill a header for a message of @p type with @p length payload bytes. */
static inline void ist_ipc_hdr_init(struct ist_ipc_hdr *hdr, uint16_t type, uint32_t length,
				    uint32_t seq)
{
	hdr->magic = IST_IPC_MAGIC;
	hdr->version = IST_IPC_VERSION;
	hdr->type = type;
	hdr->length = length;
	hdr->seq = seq;
}

/** Size of a STATUS_RESP payload with the given record counts (no streams). */
static inline size_t ist_ipc_status_size(unsigned int n_lcores, unsigned int n_ports)
{
	return sizeof(struct ist_ipc_status) + n_lcores * sizeof(struct ist_ipc_lcore_status) +
	       n_ports * sizeof(struct ist_ipc_port_status);
}

/** Size of a STATUS_RESP payload with @p n_streams stream records too. */
static inline size_t ist_ipc_status_size_streams(unsigned int n_lcores, unsigned int n_ports,
						 unsigned int n_streams)
{
	return ist_ipc_status_size(n_lcores, n_ports) +
	       n_streams * sizeof(struct ist_ipc_stream_status);
}

#endif /* ISTHMUS_IPC_H */
