/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Control's HTTP API surface, without the HTTP server: request routing, the
 * mapping of command results to HTTP status codes, and the error document.
 * Pure functions, so the routes are unit-tested without sockets; http.c
 * glues them to libmicrohttpd.
 *
 * Routes:
 *   GET  /status                          JSON status document (render.h)
 *   GET  /metrics                         Prometheus text (render.h)
 *   POST /v1/lcores/<id|all>/pause
 *   POST /v1/lcores/<id|all>/resume
 *   POST /v1/lcores/<id|all>/idle-sleep?us=N   0 <= N <= IST_API_MAX_IDLE_SLEEP_US
 *
 * HEAD is accepted wherever GET is.
 *
 * Threading: @locality any thread.
 */
#ifndef ISTHMUS_CONTROL_API_H
#define ISTHMUS_CONTROL_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "isthmus/ipc.h"

/** The data plane accepts idle sleeps up to 100 ms; checking here gives a clear 400. */
#define IST_API_MAX_IDLE_SLEEP_US IST_IPC_IDLE_SLEEP_MAX_US

/** How long an lcore command may wait for the data plane's reply. */
#define IST_API_CMD_TIMEOUT_MS 2000u

enum ist_api_route {
	IST_API_NONE = 0, /**< see the returned HTTP status */
	IST_API_STATUS,
	IST_API_METRICS,
	IST_API_LCORE_CMD,
};

struct ist_api_req {
	enum ist_api_route route;
	uint32_t lcore_id; /**< IST_IPC_ALL_LCORES for "all" */
	uint32_t op;       /**< enum ist_lcore_op */
	uint64_t arg;
	const char *allow; /**< for 405: the methods the path accepts */
};

/**
 * Route a request.
 *
 * @param method   HTTP method
 * @param path     URL path without the query string
 * @param us       the "us" query argument, or NULL when absent
 * @param req      out: the route and its arguments
 * @param err      out: a one-line explanation when the result is not 200
 * @return 200 when @p req is to be served; 400 (bad lcore id or us), 404
 *   (unknown path), 405 (known path, other method: req->allow set).
 */
unsigned int ist_api_route(const char *method, const char *path, const char *us,
			   struct ist_api_req *req, char *err, size_t errlen);

/**
 * The HTTP status for a relayed command's outcome: 200 for 0; 400 -EINVAL/-ERANGE;
 * 404 -ENOENT/-ENODEV/-ESRCH; 409 -EBUSY/-EALREADY; 501 -ENOTSUP; 503 for
 * -ECONNRESET/-ECANCELED/-ENOTCONN (data plane gone); 504 -ETIMEDOUT; 500
 * otherwise.
 */
unsigned int ist_api_cmd_http_status(int status);

/** The body of a command reply: {"status": n, "message": "..."} plus "error" when n != 0. */
json_t *ist_api_cmd_json(int status, const char *message);

/** The body of an error reply: {"error": "..."}. */
json_t *ist_api_error_json(const char *message);

/** "pause", "resume", "idle-sleep", or "unknown". */
const char *ist_api_op_name(uint32_t op);

/**
 * Split "host:port" into its parts; host may be a name, a dotted quad or
 * "[v6]" (brackets removed). The port must be a number up to 65535.
 * @return 0 or -EINVAL.
 */
int ist_api_split_hostport(const char *s, char *host, size_t hostlen, char *port, size_t portlen);

#endif /* ISTHMUS_CONTROL_API_H */
