/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The data plane's management thread: serves isthmus-control over a Unix
 * socket (include/isthmus/ipc.h) and passes commands to lcores over their
 * SPSC rings. It never touches an lcore's state except through the rings and
 * by reading counters.
 *
 * Threading: ist_mgmt_start()/stop() @locality main thread; everything else
 * runs on the mgmt thread.
 *
 * Limits: IST_MGMT_MAX_CLIENTS connections at once; more are accepted and
 * closed at once.
 */
#ifndef ISTHMUS_MGMT_H
#define ISTHMUS_MGMT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isthmus/ipc.h"
#include "ist_config.h"

#define IST_MGMT_MAX_CLIENTS 8

struct ist_lcore;

struct ist_mgmt_client {
	int fd; /* -1: free */
	size_t len;
	uint8_t buf[sizeof(struct ist_ipc_hdr) + IST_IPC_MAX_PAYLOAD];
};

struct ist_mgmt {
	const struct ist_config *cfg;
	struct ist_lcore **lcores;
	unsigned int n_lcores;
	const uint16_t *port_ids;                         /* per cfg->ports[] index */
	volatile uint8_t *port_ready;                     /* per port: mgmt: rw, lcores: ro */
	uint32_t port_restarts[IST_CFG_MAX_PORTS];        /* mgmt: rw */
	uint8_t port_down_ticks[IST_CFG_MAX_PORTS];       /* mgmt: rw */
	uint64_t last_watch_ms;                           /* mgmt: rw */
	uint64_t rate_tsc, rate_tx_bytes, rate_delivered; /* mgmt: rw: the last rate sample */
	uint64_t drop_logged[IST_IPC_LINK_DROPS];         /* mgmt: rw: counter at the last log */
	uint64_t drop_log_ms[IST_IPC_LINK_DROPS];         /* mgmt: rw: when; 0: never */
	uint64_t drop_base_ms;                            /* mgmt: rw: first look at drops */
	uint64_t start_tsc;
	uint64_t start_unix_ms;
	int listen_fd;
	int stop_fd[2];
	pthread_t thread;
	bool running;
	uint32_t cmd_seq;
	uint64_t rx_msgs;                   /* mgmt: rw, main: ro */
	uint64_t rejected[IST_IPC_REJ_MAX]; /* mgmt: rw, main: ro */
	struct ist_mgmt_client clients[IST_MGMT_MAX_CLIENTS];
};

/**
 * Bind the socket (replacing a stale one) and start the thread.
 * @return 0, -EADDRINUSE when another data plane serves the socket, or
 *   -errno; @p err says which and what to do.
 */
int ist_mgmt_start(struct ist_mgmt *m, char *err, size_t errlen);

/**
 * Is a live data plane already serving @p path? Start-up asks this before the
 * EAL takes any resource, so the answer names the real problem.
 * @return 0 (free, or a stale file), -EADDRINUSE (live; @p err says so).
 */
int ist_mgmt_socket_check(const char *path, char *err, size_t errlen);

/**
 * Log link drops, at most one line per reason per IST_MGMT_DROP_LOG_MS:
 * the data path only counts them (a flood of bad packets must not turn into
 * a flood of log lines, nor cost the lcore a syscall per packet).
 * @param now_ms monotonic milliseconds
 * @locality mgmt thread
 */
void ist_mgmt_drops_log(struct ist_mgmt *m, uint64_t now_ms);

#define IST_MGMT_DROP_LOG_MS 10000

/** Stop the thread, close clients, remove the socket file. */
void ist_mgmt_stop(struct ist_mgmt *m);

/**
 * Handle the bytes buffered for one client: dispatch complete messages.
 * @return 0 to keep the connection, -1 to close it.
 * Exposed for tests: runs without the thread or a socket listener.
 */
int ist_mgmt_client_input(struct ist_mgmt *m, struct ist_mgmt_client *c);

/**
 * Port watchdog, once a second on the mgmt thread: start ports whose start
 * failed (a link peer that was not up yet), and restart ports that cannot
 * reconnect by themselves once their link has been down for two checks,
 * with the lcores paused around the restart so none polls a port that is
 * being stopped.
 */
void ist_mgmt_ports_watch(struct ist_mgmt *m);

/** Build a STATUS_RESP payload into @p buf. @return its length, or 0 if too small. */
size_t ist_mgmt_status_build(struct ist_mgmt *m, uint8_t *buf, size_t len);

#endif /* ISTHMUS_MGMT_H */
