/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Request life cycle (one struct http_req per connection request):
 *
 *   1st call (headers)        allocate the request, return
 *   body calls                discard the body (none of our routes reads one)
 *   last call                 route; /status and /metrics answer at once;
 *                             an lcore command is sent to the data plane and
 *                             the connection is suspended
 *   command done (loop)       store the result, resume the connection
 *   call after resume         answer with the stored result
 *   request completed         free the request
 *
 * The data plane client calls every command back exactly once (reply,
 * timeout, disconnect, or its destruction), so a suspended request is always
 * resumed and is never freed while the client still holds it.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api.h"
#include "http.h"
#include "log.h"
#include "render.h"

/* The API is for one operator and a scraper; anything more is a runaway client. */
#define HTTP_MAX_CONNECTIONS 64
#define HTTP_IDLE_TIMEOUT_S  10
#define HTTP_MAX_BODY        4096
/* Longest sleep between MHD_run() calls when MHD sets no deadline. */
#define HTTP_MAX_WAIT_MS 1000

struct ist_http {
	struct ist_http_ctx ctx;
	struct MHD_Daemon *mhd;
	int listen_fd;
	int epoll_fd;
	int64_t timer;
	uint16_t port;
	char version[32];
};

enum req_state {
	REQ_NEW,
	REQ_WAITING, /* suspended, command in flight */
	REQ_DONE,    /* command finished, result below */
};

struct http_req {
	struct ist_http *h;
	struct MHD_Connection *conn;
	enum req_state state;
	size_t body_bytes;
	int cmd_status;
	char cmd_message[sizeof(((struct ist_ipc_cmd_resp *)0)->message) + 64];
};

static void http_run(struct ist_http *h);

static enum MHD_Result http_send(struct MHD_Connection *conn, unsigned int code, const char *ctype,
				 char *body, size_t len, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	rc = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* Serialise and send; takes the reference to @p doc. */
static enum MHD_Result http_send_json(struct MHD_Connection *conn, unsigned int code, json_t *doc,
				      const char *allow)
{
	char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	char *body;
	size_t len;

	json_decref(doc);
	if (text == NULL)
		return MHD_NO;
	len = strlen(text);
	body = realloc(text, len + 2);
	if (body == NULL) {
		free(text);
		return MHD_NO;
	}
	body[len++] = '\n';
	body[len] = '\0';
	return http_send(conn, code, "application/json", body, len, allow);
}

static enum MHD_Result http_send_error(struct MHD_Connection *conn, unsigned int code,
				       const char *msg, const char *allow)
{
	return http_send_json(conn, code, ist_api_error_json(msg), allow);
}

static void http_view(struct ist_http *h, struct ist_ctl_view *v,
		      struct ist_kafka_cluster_state *kbuf, unsigned int kmax)
{
	uint64_t now = ist_loop_now_ms(h->ctx.lp);
	unsigned int n;

	memset(v, 0, sizeof(*v));
	v->appliance = h->ctx.appliance;
	v->region = h->ctx.region;
	v->version = h->version;
	v->control_pid = (uint32_t)getpid();
	v->control_uptime_ms = now - h->ctx.started_ms;
	v->now_ms = now;
	v->dp_socket = h->ctx.dp_socket;
	v->dp = ist_dp_client_state(h->ctx.dp);
	n = ist_kafka_health_snapshot(h->ctx.kh, kbuf, kmax);
	v->kafka = kbuf;
	v->n_kafka = n < kmax ? n : kmax;
}

static enum MHD_Result http_status(struct ist_http *h, struct MHD_Connection *conn)
{
	struct ist_kafka_cluster_state kbuf[IST_CFG_MAX_KAFKA];
	struct ist_ctl_view v;

	http_view(h, &v, kbuf, IST_CFG_MAX_KAFKA);
	return http_send_json(conn, 200, ist_render_status(&v), NULL);
}

static enum MHD_Result http_metrics(struct ist_http *h, struct MHD_Connection *conn)
{
	struct ist_kafka_cluster_state kbuf[IST_CFG_MAX_KAFKA];
	struct ist_ctl_view v;
	char *text;
	size_t len;

	http_view(h, &v, kbuf, IST_CFG_MAX_KAFKA);
	if (ist_render_metrics(&v, &text, &len) < 0)
		return MHD_NO;
	return http_send(conn, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, NULL);
}

/* @locality control loop thread, from the data plane client. */
static void http_cmd_done(void *arg, int status, const char *message)
{
	struct http_req *rq = arg;

	rq->state = REQ_DONE;
	rq->cmd_status = status;
	snprintf(rq->cmd_message, sizeof(rq->cmd_message), "%s", message);
	MHD_resume_connection(rq->conn);
	/* MHD picks the resumed connection up in its next run. */
	if (rq->h->timer > 0)
		ist_loop_timer_rearm(rq->h->ctx.lp, rq->h->timer, 0);
}

static enum MHD_Result http_cmd(struct ist_http *h, struct http_req *rq,
				const struct ist_api_req *req)
{
	const struct ist_dp_client_state *dp = ist_dp_client_state(h->ctx.dp);
	uint32_t timeout = h->ctx.cmd_timeout_ms ? h->ctx.cmd_timeout_ms : IST_API_CMD_TIMEOUT_MS;
	char msg[IST_DP_ERR_LEN + 160], since[40];
	int rc;

	rc = ist_dp_client_lcore_cmd(h->ctx.dp, req->lcore_id, req->op, req->arg, timeout,
				     http_cmd_done, rq);
	if (rc == 0) {
		rq->state = REQ_WAITING;
		MHD_suspend_connection(rq->conn);
		return MHD_YES;
	}
	if (rc == -ENOTCONN) {
		snprintf(msg, sizeof(msg),
			 "the data plane is disconnected since %s (%s): start isthmus-dataplane, "
			 "or check control.socket (%s)",
			 ist_ctl_time_iso(dp->since_wall_ms, since, sizeof(since)), dp->last_error,
			 h->ctx.dp_socket);
		return http_send_json(rq->conn, 503, ist_api_cmd_json(-ENOTCONN, msg), NULL);
	}
	if (rc == -EBUSY)
		snprintf(msg, sizeof(msg),
			 "%u commands are already waiting for the data plane: retry shortly",
			 IST_DP_MAX_PENDING);
	else
		snprintf(msg, sizeof(msg), "cannot send the command: %s", strerror(-rc));
	return http_send_json(rq->conn, 503, ist_api_cmd_json(rc, msg), NULL);
}

static enum MHD_Result http_handler(void *cls, struct MHD_Connection *conn, const char *url,
				    const char *method, const char *version,
				    const char *upload_data, size_t *upload_data_size,
				    void **con_cls)
{
	struct ist_http *h = cls;
	struct http_req *rq = *con_cls;
	struct ist_api_req req;
	char err[256];
	unsigned int code;

	(void)version;
	(void)upload_data;
	if (rq == NULL) {
		rq = calloc(1, sizeof(*rq));
		if (rq == NULL)
			return MHD_NO;
		rq->h = h;
		rq->conn = conn;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		rq->body_bytes += *upload_data_size;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->state == REQ_DONE)
		return http_send_json(conn, ist_api_cmd_http_status(rq->cmd_status),
				      ist_api_cmd_json(rq->cmd_status, rq->cmd_message), NULL);
	if (rq->state == REQ_WAITING)
		return MHD_YES; /* not expected: MHD does not call suspended requests */
	if (rq->body_bytes > HTTP_MAX_BODY)
		return http_send_error(conn, 413, "request body too large (no endpoint takes one)",
				       NULL);

	code = ist_api_route(method, url,
			     MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "us"), &req,
			     err, sizeof(err));
	if (code != 200)
		return http_send_error(conn, code, err, req.allow);
	switch (req.route) {
	case IST_API_STATUS:
		return http_status(h, conn);
	case IST_API_METRICS:
		return http_metrics(h, conn);
	case IST_API_LCORE_CMD:
		return http_cmd(h, rq, &req);
	default:
		return http_send_error(conn, 500, "unrouted request", NULL);
	}
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	ist_ctl_log("http: %s", line);
}

/* Run MHD, then sleep no longer than MHD allows. */
static void http_run(struct ist_http *h)
{
	MHD_UNSIGNED_LONG_LONG to;
	uint64_t wait = HTTP_MAX_WAIT_MS;

	MHD_run(h->mhd);
	if (MHD_get_timeout(h->mhd, &to) == MHD_YES && to < wait)
		wait = to;
	if (h->timer > 0)
		ist_loop_timer_rearm(h->ctx.lp, h->timer, wait);
}

static void http_epoll_cb(struct ist_loop *lp, int fd, void *arg, int mask)
{
	(void)lp;
	(void)fd;
	(void)mask;
	http_run(arg);
}

static int http_timer_cb(struct ist_loop *lp, int64_t id, void *arg)
{
	struct ist_http *h = arg;
	MHD_UNSIGNED_LONG_LONG to;

	(void)lp;
	(void)id;
	MHD_run(h->mhd);
	if (MHD_get_timeout(h->mhd, &to) == MHD_YES && to < HTTP_MAX_WAIT_MS)
		return (int)to;
	return HTTP_MAX_WAIT_MS;
}

static bool http_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

static int http_listen_socket(const char *listen_addr, uint16_t *port, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], portstr[8];
	int fd, rc, one = 1;

	if (ist_api_split_hostport(listen_addr, host, sizeof(host), portstr, sizeof(portstr)) < 0) {
		snprintf(err, errlen, "cannot listen on %s (not host:port)", listen_addr);
		return -EINVAL;
	}
	rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "cannot listen on %s (%s)", listen_addr, gai_strerror(rc));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	/* Lets a restarted control bind while old connections sit in TIME_WAIT;
	 * on Linux it does not let two live listeners share the port. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	if (!http_is_loopback(ai->ai_addr))
		ist_ctl_log("http: %s is not a loopback address and the API has no "
			    "authentication: anyone who can reach it can pause lcores",
			    listen_addr);
	freeaddrinfo(ai);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;

fail:
	freeaddrinfo(ai);
	snprintf(err, errlen, "cannot listen on %s (%s)", listen_addr, strerror(-rc));
	return rc;
}

struct ist_http *ist_http_start(const struct ist_http_ctx *ctx, const char *listen_addr, char *err,
				size_t errlen)
{
	const union MHD_DaemonInfo *info;
	struct ist_http *h;
	int rc;

	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	h->ctx = *ctx;
	h->epoll_fd = -1;
	snprintf(h->version, sizeof(h->version), "%s", ISTHMUS_VERSION);
	h->listen_fd = http_listen_socket(listen_addr, &h->port, err, errlen);
	if (h->listen_fd < 0) {
		rc = h->listen_fd;
		free(h);
		errno = -rc;
		return NULL;
	}
	h->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
		http_handler, h, MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, h,
		MHD_OPTION_LISTEN_SOCKET, h->listen_fd, MHD_OPTION_NOTIFY_COMPLETED, http_completed,
		h, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT_S, MHD_OPTION_END);
	if (h->mhd == NULL) {
		snprintf(err, errlen, "cannot start the HTTP server on %s (libmicrohttpd refused)",
			 listen_addr);
		/* Not closed: MHD may have done so already; the process is exiting. */
		free(h);
		errno = EIO;
		return NULL;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	h->epoll_fd = info ? info->epoll_fd : -1;
	rc = h->epoll_fd < 0
		     ? -EIO
		     : ist_loop_file_add(ctx->lp, h->epoll_fd, IST_LOOP_READABLE, http_epoll_cb, h);
	if (rc == 0) {
		h->timer = ist_loop_timer_add(ctx->lp, 0, http_timer_cb, h);
		if (h->timer < 0)
			rc = (int)h->timer;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot watch the HTTP server's events: %s", strerror(-rc));
		h->timer = 0;
		ist_http_stop(h);
		errno = -rc;
		return NULL;
	}
	return h;
}

void ist_http_set_kafka(struct ist_http *h, struct ist_kafka_health *kh)
{
	h->ctx.kh = kh;
}

uint16_t ist_http_port(const struct ist_http *h)
{
	return h->port;
}

void ist_http_stop(struct ist_http *h)
{
	if (h == NULL)
		return;
	/* Let MHD take back connections resumed by the last command callbacks. */
	MHD_run(h->mhd);
	if (h->epoll_fd >= 0)
		ist_loop_file_del(h->ctx.lp, h->epoll_fd, IST_LOOP_READABLE);
	if (h->timer > 0)
		ist_loop_timer_del(h->ctx.lp, h->timer);
	/* Quiescing hands the listening socket back to us, so it is closed
	 * exactly once whatever MHD_stop_daemon() does with sockets it owns. */
	h->listen_fd = MHD_quiesce_daemon(h->mhd);
	MHD_stop_daemon(h->mhd);
	if (h->listen_fd != MHD_INVALID_SOCKET)
		close(h->listen_fd);
	free(h);
}
