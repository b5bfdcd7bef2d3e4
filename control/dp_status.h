/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Decoding and validation of the messages the data plane sends to control
 * (include/isthmus/ipc.h): HELLO, STATUS_RESP, CMD_RESP and ERROR payloads.
 *
 * Everything that arrives over the socket is treated as untrusted: lengths
 * must match the record counts exactly, record counts must fit the payload
 * limit, and every string must be NUL-terminated inside its field. A message
 * that fails is dropped and counted by the caller under the returned reason;
 * nothing here aborts.
 *
 * Threading: pure functions on caller buffers (@locality any thread).
 */
#ifndef ISTHMUS_CONTROL_DP_STATUS_H
#define ISTHMUS_CONTROL_DP_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include <isthmus/ipc.h>

/** A decoded STATUS_RESP, in one allocation. */
struct ist_dp_status {
	struct ist_ipc_status st;
	struct ist_ipc_lcore_status *lcores;   /**< st.n_lcores records */
	struct ist_ipc_port_status *ports;     /**< st.n_ports records */
	struct ist_ipc_stream_status *streams; /**< st.repl.n_streams records */
	double *busy_pct;                      /**< per lcore, see ist_dp_status_busy() */
	uint64_t rx_ms;                        /**< monotonic ms when it arrived */
};

/**
 * Decode and validate a STATUS_RESP payload.
 *
 * @param payload the bytes after the header (may be unaligned)
 * @param len     hdr.length
 * @param out     out: a new snapshot to release with ist_dp_status_free()
 * @param why     out: the rejection reason on failure
 * @param err     out: one line saying what is wrong, on failure
 * @return 0; -EBADMSG when the payload is truncated, oversized or
 *   inconsistent (*why says which); -ENOMEM.
 */
int ist_dp_status_decode(const void *payload, size_t len, struct ist_dp_status **out,
			 enum ist_ipc_reject *why, char *err, size_t errlen);

/** Release a snapshot (NULL is fine). */
void ist_dp_status_free(struct ist_dp_status *ds);

/**
 * Fill cur->busy_pct: the share of loops that did work since @p prev when
 * @p prev is from the same data plane process and the lcore advanced,
 * otherwise since the data plane started.
 */
void ist_dp_status_busy(struct ist_dp_status *cur, const struct ist_dp_status *prev);

/** Decode a HELLO payload. @return 0 or -EBADMSG (*why, err set). */
int ist_dp_hello_decode(const void *payload, size_t len, struct ist_ipc_hello *out,
			enum ist_ipc_reject *why, char *err, size_t errlen);

/** Decode a CMD_RESP or ERROR payload. @return 0 or -EBADMSG (*why, err set). */
int ist_dp_cmd_resp_decode(const void *payload, size_t len, struct ist_ipc_cmd_resp *out,
			   enum ist_ipc_reject *why, char *err, size_t errlen);

#endif /* ISTHMUS_CONTROL_DP_STATUS_H */
