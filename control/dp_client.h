/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Control's client for the data plane's Unix-socket IPC (include/isthmus/ipc.h).
 *
 * It connects to the data plane's socket, exchanges HELLO, asks for a
 * STATUS_RESP every status interval and keeps the latest decoded snapshot,
 * and relays lcore commands with a pending-request table so that nobody
 * waits for a reply on the loop thread.
 *
 * The data plane may be absent at start and may restart at any time: the
 * client reconnects with a backoff of 100 ms doubling to 2 s, logs the
 * change of state once (not every retry), and control keeps serving its API
 * meanwhile. Every received message is validated (dp_status.h); bad ones are
 * dropped and counted under the ipc.h rejection reasons. A wrong magic loses
 * the message boundary, so the connection is closed and reopened.
 *
 * Threading: @locality control loop thread, like the loop it runs on.
 */
#ifndef ISTHMUS_CONTROL_DP_CLIENT_H
#define ISTHMUS_CONTROL_DP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <isthmus/ipc.h>

#include "dp_status.h"
#include "loop.h"

#define IST_DP_BACKOFF_MIN_MS 100
#define IST_DP_BACKOFF_MAX_MS 2000
#define IST_DP_HANDSHAKE_MS   5000
#define IST_DP_MAX_PENDING    64
#define IST_DP_ERR_LEN        160

struct ist_dp_client;

struct ist_dp_client_opts {
	const char *socket_path;
	uint32_t status_interval_ms;
	const char *appliance; /**< sent in our HELLO; a mismatch is logged */
	const char *region;
	uint64_t started_wall_ms; /**< control's start, sent in our HELLO */
};

/** What the loop, the HTTP API and the renderers read. Owned by the client. */
struct ist_dp_client_state {
	bool connected;                        /**< HELLO exchanged on a live socket */
	uint64_t since_wall_ms;                /**< when connected last changed (or client start) */
	char last_error[IST_DP_ERR_LEN];       /**< why the last attempt or connection ended */
	struct ist_ipc_hello hello;            /**< the data plane's, valid when connected */
	const struct ist_dp_status *status;    /**< latest snapshot of this connection, or NULL */
	uint64_t rx_rejected[IST_IPC_REJ_MAX]; /**< messages we dropped, by reason */
	uint64_t connects;                     /**< completed handshakes */
	uint64_t unmatched_replies;            /**< replies after their request timed out */
	uint64_t errors_rx;                    /**< IST_IPC_ERROR not tied to a command */
};

/**
 * Result of a relayed lcore command.
 * @param status the data plane's status (0 or -errno), or -ETIMEDOUT (no reply
 *   in time), -ECONNRESET (disconnected first), -ECANCELED (client destroyed)
 * @param message the data plane's message, or ours for the local errors
 */
typedef void(ist_dp_cmd_fn)(void *arg, int status, const char *message);

/** Create the client and start connecting. NULL with errno set on failure. */
struct ist_dp_client *ist_dp_client_create(struct ist_loop *lp,
					   const struct ist_dp_client_opts *opts);

/** Close the connection; pending commands complete with -ECANCELED first. */
void ist_dp_client_destroy(struct ist_dp_client *dc);

/** The client's state; valid until the next loop iteration. */
const struct ist_dp_client_state *ist_dp_client_state(const struct ist_dp_client *dc);

/**
 * Send an lcore command; @p fn is called exactly once, later, from the loop
 * (never from inside this call).
 *
 * @param lcore_id an lcore id or IST_IPC_ALL_LCORES
 * @param op       enum ist_lcore_op
 * @param timeout_ms how long to wait for CMD_RESP before -ETIMEDOUT
 * @return 0; -ENOTCONN when the data plane is not connected; -EBUSY when
 *   IST_DP_MAX_PENDING commands are in flight; -ENOMEM.
 */
int ist_dp_client_lcore_cmd(struct ist_dp_client *dc, uint32_t lcore_id, uint32_t op, uint64_t arg,
			    uint32_t timeout_ms, ist_dp_cmd_fn *fn, void *fn_arg);

#endif /* ISTHMUS_CONTROL_DP_CLIENT_H */
