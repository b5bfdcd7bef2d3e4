/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Control's HTTP server: libmicrohttpd driven from control's event loop.
 *
 * Why MHD_USE_EPOLL in external mode rather than MHD's internal thread: the
 * data plane client, its snapshot and its pending-command table live on the
 * loop thread; serving HTTP on the same thread lets /status read them
 * without a lock and lets a command reply resume its HTTP request directly.
 * The loop watches MHD's epoll fd (MHD_DAEMON_INFO_EPOLL_FD), calls MHD_run()
 * when it is readable, and keeps a timer at MHD_get_timeout() so MHD's own
 * deadlines (idle connections, resumed requests) are honoured. Nothing MHD
 * calls back blocks: lcore commands suspend their connection
 * (MHD_ALLOW_SUSPEND_RESUME) until the data plane answers or the command
 * times out.
 *
 * The listening socket is created here, not by MHD, so a bind failure has
 * an errno to report ("Address already in use") and tests can bind port 0.
 *
 * Threading: @locality control loop thread.
 */
#ifndef ISTHMUS_CONTROL_HTTP_H
#define ISTHMUS_CONTROL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "dp_client.h"
#include "kafka_health.h"
#include "loop.h"

/** What the server serves; pointers must outlive the server. */
struct ist_http_ctx {
	struct ist_loop *lp;
	struct ist_dp_client *dp;
	struct ist_kafka_health *kh; /**< NULL: no clusters shown */
	const char *appliance;
	const char *region;
	const char *dp_socket;
	uint64_t started_ms;     /**< CLOCK_MONOTONIC ms when control started */
	uint32_t cmd_timeout_ms; /**< wait for a command reply; 0: IST_API_CMD_TIMEOUT_MS */
};

struct ist_http;

/**
 * Listen on @p listen ("host:port", port 0 picks a free one) and serve.
 *
 * @param err out: "cannot listen on <listen> (<strerror>)" or another one-line
 *   reason, when NULL is returned
 * @return the server, or NULL with errno set (EADDRINUSE, EACCES, EINVAL for a
 *   malformed address, ...).
 */
struct ist_http *ist_http_start(const struct ist_http_ctx *ctx, const char *listen, char *err,
				size_t errlen);

/**
 * Show @p kh's clusters from now on. Kafka health starts after the HTTP
 * server so that a port conflict is reported before any thread starts.
 */
void ist_http_set_kafka(struct ist_http *h, struct ist_kafka_health *kh);

/** The bound TCP port (useful after asking for port 0). */
uint16_t ist_http_port(const struct ist_http *h);

/**
 * Stop serving and close every connection. Destroy the data plane client
 * first: that completes the commands still waiting, which resumes their
 * requests (MHD forbids stopping with suspended connections).
 */
void ist_http_stop(struct ist_http *h);

#endif /* ISTHMUS_CONTROL_HTTP_H */
