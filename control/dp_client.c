/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection state machine:
 *
 *   DOWN --retry timer--> connect() --ok--> HANDSHAKE --their HELLO--> UP
 *     ^                       |fail              |timeout/error         |error/EOF
 *     +-------- backoff ------+------------------+----------------------+
 *
 * Writes go through an output buffer flushed by the writable event, so no
 * caller ever blocks on the socket and command callbacks are only ever
 * invoked from loop callbacks (never re-entrantly from a caller's call).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dp_client.h"
#include "log.h"

/* The data plane answers STATUS_REQ promptly; this only guards against a
 * reply lost to a bug on its side, after which we would never ask again. */
#define DP_STATUS_STALE_MS 5000
/* A data plane that stops reading would make us buffer without bound. */
#define DP_TX_MAX (1024u * 1024u)

enum dp_conn {
	DP_DOWN,
	DP_HANDSHAKE,
	DP_UP,
};

struct dp_pending {
	bool in_use;
	uint32_t seq;
	int64_t timer;
	uint32_t timeout_ms;
	ist_dp_cmd_fn *fn;
	void *arg;
};

struct ist_dp_client {
	struct ist_loop *lp;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char appliance[IST_IPC_NAME_LEN];
	char region[IST_IPC_NAME_LEN];
	uint64_t started_wall_ms;
	uint32_t interval_ms;

	enum dp_conn conn;
	int fd;
	uint32_t seq;
	uint32_t backoff_ms;
	int64_t retry_timer;
	int64_t status_timer;
	int64_t handshake_timer;
	bool status_inflight;
	uint32_t status_seq;
	uint64_t status_sent_ms;
	bool down_logged; /* the current outage has been logged */

	unsigned char *rx;
	size_t rx_len;
	unsigned char *tx;
	size_t tx_len, tx_cap;

	struct dp_pending pending[IST_DP_MAX_PENDING];
	struct ist_dp_status *status; /* owned; exposed through state.status */
	struct ist_dp_client_state state;
};

#define DP_RX_CAP (sizeof(struct ist_ipc_hdr) + IST_IPC_MAX_PAYLOAD)

static void dp_disconnect(struct ist_dp_client *dc, const char *why);
static int dp_retry_cb(struct ist_loop *lp, int64_t id, void *arg);

static void dp_pending_finish(struct ist_dp_client *dc, struct dp_pending *pd, int status,
			      const char *msg)
{
	ist_dp_cmd_fn *fn = pd->fn;
	void *arg = pd->arg;

	if (pd->timer > 0)
		ist_loop_timer_del(dc->lp, pd->timer);
	memset(pd, 0, sizeof(*pd));
	fn(arg, status, msg);
}

static void dp_pending_fail_all(struct ist_dp_client *dc, int status, const char *msg)
{
	unsigned int i;

	for (i = 0; i < IST_DP_MAX_PENDING; i++)
		if (dc->pending[i].in_use)
			dp_pending_finish(dc, &dc->pending[i], status, msg);
}

static void dp_write_cb(struct ist_loop *lp, int fd, void *arg, int mask);
static void dp_read_cb(struct ist_loop *lp, int fd, void *arg, int mask);

static int dp_send(struct ist_dp_client *dc, uint16_t type, uint32_t seq, const void *payload,
		   uint32_t len)
{
	struct ist_ipc_hdr hdr;
	size_t need = dc->tx_len + sizeof(hdr) + len;

	if (need > DP_TX_MAX)
		return -ENOBUFS;
	if (need > dc->tx_cap) {
		size_t cap = dc->tx_cap ? dc->tx_cap : 4096;
		unsigned char *tx;

		while (cap < need)
			cap *= 2;
		tx = realloc(dc->tx, cap);
		if (tx == NULL)
			return -ENOMEM;
		dc->tx = tx;
		dc->tx_cap = cap;
	}
	ist_ipc_hdr_init(&hdr, type, len, seq);
	memcpy(dc->tx + dc->tx_len, &hdr, sizeof(hdr));
	if (len > 0)
		memcpy(dc->tx + dc->tx_len + sizeof(hdr), payload, len);
	dc->tx_len = need;
	if (!(ist_loop_file_mask(dc->lp, dc->fd) & IST_LOOP_WRITABLE))
		return ist_loop_file_add(dc->lp, dc->fd, IST_LOOP_WRITABLE, dp_write_cb, dc) < 0
			       ? -EIO
			       : 0;
	return 0;
}

static void dp_write_cb(struct ist_loop *lp, int fd, void *arg, int mask)
{
	struct ist_dp_client *dc = arg;
	ssize_t n;

	(void)mask;
	while (dc->tx_len > 0) {
		n = send(fd, dc->tx, dc->tx_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			char why[IST_DP_ERR_LEN];

			if (errno == EAGAIN || errno == EINTR)
				return;
			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			dp_disconnect(dc, why);
			return;
		}
		memmove(dc->tx, dc->tx + n, dc->tx_len - (size_t)n);
		dc->tx_len -= (size_t)n;
	}
	ist_loop_file_del(lp, fd, IST_LOOP_WRITABLE);
}

static void dp_send_status_req(struct ist_dp_client *dc)
{
	uint64_t now = ist_loop_now_ms(dc->lp);

	if (dc->conn != DP_UP)
		return;
	if (dc->status_inflight && now - dc->status_sent_ms < DP_STATUS_STALE_MS)
		return;
	if (dp_send(dc, IST_IPC_STATUS_REQ, ++dc->seq, NULL, 0) < 0) {
		dp_disconnect(dc, "cannot queue STATUS_REQ: the data plane is not reading");
		return;
	}
	dc->status_inflight = true;
	dc->status_seq = dc->seq;
	dc->status_sent_ms = now;
}

static int dp_status_cb(struct ist_loop *lp, int64_t id, void *arg)
{
	struct ist_dp_client *dc = arg;

	(void)lp;
	(void)id;
	dp_send_status_req(dc);
	return (int)dc->interval_ms;
}

static int dp_handshake_cb(struct ist_loop *lp, int64_t id, void *arg)
{
	struct ist_dp_client *dc = arg;

	(void)lp;
	(void)id;
	dc->handshake_timer = 0;
	if (dc->conn == DP_HANDSHAKE)
		dp_disconnect(dc, "no HELLO from the data plane within 5 s");
	return IST_LOOP_NOMORE;
}

static void dp_schedule_retry(struct ist_dp_client *dc)
{
	int64_t id = ist_loop_timer_add(dc->lp, dc->backoff_ms, dp_retry_cb, dc);

	dc->retry_timer = id > 0 ? id : 0;
	dc->backoff_ms *= 2;
	if (dc->backoff_ms > IST_DP_BACKOFF_MAX_MS)
		dc->backoff_ms = IST_DP_BACKOFF_MAX_MS;
}

static void dp_disconnect(struct ist_dp_client *dc, const char *why)
{
	bool was_up = dc->conn == DP_UP;

	if (dc->fd >= 0) {
		ist_loop_file_del(dc->lp, dc->fd, IST_LOOP_READABLE | IST_LOOP_WRITABLE);
		close(dc->fd);
		dc->fd = -1;
	}
	dc->conn = DP_DOWN;
	dc->rx_len = 0;
	dc->tx_len = 0;
	dc->status_inflight = false;
	if (dc->handshake_timer > 0) {
		ist_loop_timer_del(dc->lp, dc->handshake_timer);
		dc->handshake_timer = 0;
	}
	ist_dp_status_free(dc->status);
	dc->status = NULL;
	dc->state.status = NULL;
	snprintf(dc->state.last_error, sizeof(dc->state.last_error), "%s", why);
	if (was_up) {
		dc->state.connected = false;
		dc->state.since_wall_ms = ist_loop_wall_ms(dc->lp);
	}
	if (!dc->down_logged) {
		if (was_up)
			ist_ctl_log("dataplane: disconnected from %s (%s); reconnecting in the "
				    "background",
				    dc->path, why);
		else
			ist_ctl_log("dataplane: not reachable at %s (%s); retrying in the "
				    "background every %u ms at most",
				    dc->path, why, IST_DP_BACKOFF_MAX_MS);
		dc->down_logged = true;
	}
	dp_pending_fail_all(dc, -ECONNRESET, "the data plane disconnected before replying");
	dp_schedule_retry(dc);
}

static int dp_connect(struct ist_dp_client *dc)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct ist_ipc_hello hello = {0};
	int fd, rc;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(sun.sun_path, dc->path, sizeof(dc->path));
	/* A Unix stream connect completes or fails at once; EAGAIN means the
	 * listener's backlog is full, which is a retry like any other. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	dc->fd = fd;
	rc = ist_loop_file_add(dc->lp, fd, IST_LOOP_READABLE, dp_read_cb, dc);
	if (rc < 0) {
		close(fd);
		dc->fd = -1;
		return rc;
	}
	dc->conn = DP_HANDSHAKE;
	snprintf(hello.who, sizeof(hello.who), "isthmus-control");
	snprintf(hello.appliance, sizeof(hello.appliance), "%s", dc->appliance);
	snprintf(hello.region, sizeof(hello.region), "%s", dc->region);
	hello.pid = (uint32_t)getpid();
	hello.started_unix_ms = dc->started_wall_ms;
	rc = dp_send(dc, IST_IPC_HELLO, ++dc->seq, &hello, sizeof(hello));
	if (rc < 0)
		return rc;
	dc->handshake_timer = ist_loop_timer_add(dc->lp, IST_DP_HANDSHAKE_MS, dp_handshake_cb, dc);
	return 0;
}

static int dp_retry_cb(struct ist_loop *lp, int64_t id, void *arg)
{
	struct ist_dp_client *dc = arg;
	char why[IST_DP_ERR_LEN];
	int rc;

	(void)lp;
	(void)id;
	dc->retry_timer = 0;
	rc = dp_connect(dc);
	if (rc < 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(-rc));
		if (dc->fd >= 0) {
			dp_disconnect(dc, why);
		} else {
			snprintf(dc->state.last_error, sizeof(dc->state.last_error), "%s", why);
			if (!dc->down_logged) {
				ist_ctl_log("dataplane: not reachable at %s (%s); retrying in the "
					    "background every %u ms at most",
					    dc->path, why, IST_DP_BACKOFF_MAX_MS);
				dc->down_logged = true;
			}
			dp_schedule_retry(dc);
		}
	}
	return IST_LOOP_NOMORE;
}

static struct dp_pending *dp_pending_find(struct ist_dp_client *dc, uint32_t seq)
{
	unsigned int i;

	for (i = 0; i < IST_DP_MAX_PENDING; i++)
		if (dc->pending[i].in_use && dc->pending[i].seq == seq)
			return &dc->pending[i];
	return NULL;
}

static void dp_count_bad(struct ist_dp_client *dc, enum ist_ipc_reject why)
{
	if ((unsigned int)why < IST_IPC_REJ_MAX)
		dc->state.rx_rejected[why]++;
}

static void dp_on_hello(struct ist_dp_client *dc, const struct ist_ipc_hello *h)
{
	dc->state.hello = *h;
	if (dc->conn != DP_HANDSHAKE)
		return;
	dc->conn = DP_UP;
	if (dc->handshake_timer > 0) {
		ist_loop_timer_del(dc->lp, dc->handshake_timer);
		dc->handshake_timer = 0;
	}
	dc->backoff_ms = IST_DP_BACKOFF_MIN_MS;
	dc->state.connected = true;
	dc->state.since_wall_ms = ist_loop_wall_ms(dc->lp);
	dc->state.connects++;
	dc->state.last_error[0] = '\0';
	dc->down_logged = false;
	ist_ctl_log("dataplane: connected to %s (%s pid %u, appliance %s, region %s)", dc->path,
		    h->who, h->pid, h->appliance, h->region);
	if (dc->appliance[0] != '\0' && strcmp(h->appliance, dc->appliance) != 0)
		ist_ctl_log("dataplane: the data plane at %s serves appliance '%s', this control "
			    "process is configured for '%s': check control.socket in both configs",
			    dc->path, h->appliance, dc->appliance);
	dp_send_status_req(dc);
}

static void dp_on_status(struct ist_dp_client *dc, const unsigned char *payload, uint32_t len)
{
	struct ist_dp_status *ds = NULL;
	enum ist_ipc_reject why;
	char err[IST_DP_ERR_LEN];
	int rc;

	dc->status_inflight = false;
	rc = ist_dp_status_decode(payload, len, &ds, &why, err, sizeof(err));
	if (rc == -ENOMEM)
		return;
	if (rc < 0) {
		dp_count_bad(dc, why);
		return;
	}
	ds->rx_ms = ist_loop_now_ms(dc->lp);
	ist_dp_status_busy(ds, dc->status);
	ist_dp_status_free(dc->status);
	dc->status = ds;
	dc->state.status = ds;
}

static void dp_on_reply(struct ist_dp_client *dc, const struct ist_ipc_hdr *hdr,
			const unsigned char *payload)
{
	struct ist_ipc_cmd_resp resp;
	enum ist_ipc_reject why;
	struct dp_pending *pd;
	char err[IST_DP_ERR_LEN];

	if (ist_dp_cmd_resp_decode(payload, hdr->length, &resp, &why, err, sizeof(err)) < 0) {
		dp_count_bad(dc, why);
		/* The request still gets an answer: the timeout, not a hang. */
		return;
	}
	pd = dp_pending_find(dc, hdr->seq);
	if (pd != NULL) {
		dp_pending_finish(dc, pd, resp.status, resp.message);
		return;
	}
	if (hdr->type == IST_IPC_CMD_RESP) {
		dc->state.unmatched_replies++;
		return;
	}
	if (dc->status_inflight && hdr->seq == dc->status_seq)
		dc->status_inflight = false;
	if (dc->state.errors_rx++ == 0)
		ist_ctl_log("dataplane: the data plane reported an error (seq %u): %s (%d); "
			    "later ones are only counted",
			    hdr->seq, resp.message, resp.status);
}

static void dp_answer_unknown(struct ist_dp_client *dc, const struct ist_ipc_hdr *hdr)
{
	struct ist_ipc_cmd_resp resp = {.status = -ENOTSUP};

	snprintf(resp.message, sizeof(resp.message), "control does not handle message type %u",
		 hdr->type);
	if (dp_send(dc, IST_IPC_ERROR, hdr->seq, &resp, sizeof(resp)) < 0)
		dp_disconnect(dc, "cannot queue an IPC error reply: the data plane is not reading");
}

/* @return false when the connection was closed while handling the message. */
static bool dp_dispatch(struct ist_dp_client *dc, const struct ist_ipc_hdr *hdr,
			const unsigned char *payload)
{
	struct ist_ipc_hello hello;
	enum ist_ipc_reject why;
	char err[IST_DP_ERR_LEN];

	switch (hdr->type) {
	case IST_IPC_HELLO:
		if (ist_dp_hello_decode(payload, hdr->length, &hello, &why, err, sizeof(err)) < 0)
			dp_count_bad(dc, why);
		else
			dp_on_hello(dc, &hello);
		break;
	case IST_IPC_STATUS_RESP:
		dp_on_status(dc, payload, hdr->length);
		break;
	case IST_IPC_CMD_RESP:
	case IST_IPC_ERROR:
		dp_on_reply(dc, hdr, payload);
		break;
	default:
		/* Includes requests that only control sends: they are unknown here. */
		dp_count_bad(dc, IST_IPC_REJ_UNKNOWN_TYPE);
		dp_answer_unknown(dc, hdr);
		break;
	}
	return dc->fd >= 0;
}

static void dp_read_cb(struct ist_loop *lp, int fd, void *arg, int mask)
{
	struct ist_dp_client *dc = arg;
	char why[IST_DP_ERR_LEN];
	size_t off = 0;
	ssize_t n;

	(void)lp;
	(void)mask;
	n = recv(fd, dc->rx + dc->rx_len, DP_RX_CAP - dc->rx_len, MSG_DONTWAIT);
	if (n == 0) {
		dp_disconnect(dc, "the data plane closed the connection");
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		snprintf(why, sizeof(why), "recv: %s", strerror(errno));
		dp_disconnect(dc, why);
		return;
	}
	dc->rx_len += (size_t)n;

	for (;;) {
		struct ist_ipc_hdr hdr;
		enum ist_ipc_reject rej;
		enum ist_ipc_check chk;

		chk = ist_ipc_check(dc->rx + off, dc->rx_len - off, &hdr, &rej);
		if (chk == IST_IPC_NEED_MORE)
			break;
		if (chk == IST_IPC_BAD) {
			dp_count_bad(dc, rej);
			if (rej != IST_IPC_REJ_MAGIC) {
				struct ist_ipc_cmd_resp resp = {.status = -EPROTO};

				/* Best effort, as ipc.h asks; the socket closes next. */
				snprintf(resp.message, sizeof(resp.message), "rejected: %s",
					 ist_ipc_reject_name(rej));
				ist_ipc_hdr_init(&hdr, IST_IPC_ERROR, sizeof(resp), hdr.seq);
				send(fd, &hdr, sizeof(hdr), MSG_NOSIGNAL | MSG_DONTWAIT);
				send(fd, &resp, sizeof(resp), MSG_NOSIGNAL | MSG_DONTWAIT);
			}
			snprintf(why, sizeof(why), "malformed message from the data plane (%s)",
				 ist_ipc_reject_name(rej));
			dp_disconnect(dc, why);
			return;
		}
		if (!dp_dispatch(dc, &hdr, dc->rx + off + sizeof(hdr)))
			return;
		off += sizeof(hdr) + hdr.length;
	}
	if (off > 0) {
		memmove(dc->rx, dc->rx + off, dc->rx_len - off);
		dc->rx_len -= off;
	}
}

static int dp_cmd_timeout_cb(struct ist_loop *lp, int64_t id, void *arg)
{
	struct ist_dp_client *dc = arg;
	unsigned int i;

	(void)lp;
	for (i = 0; i < IST_DP_MAX_PENDING; i++) {
		struct dp_pending *pd = &dc->pending[i];
		char msg[96];

		if (!pd->in_use || pd->timer != id)
			continue;
		pd->timer = 0; /* this timer ends by returning NOMORE */
		snprintf(msg, sizeof(msg), "no reply from the data plane within %u ms",
			 pd->timeout_ms);
		dp_pending_finish(dc, pd, -ETIMEDOUT, msg);
		break;
	}
	return IST_LOOP_NOMORE;
}

int ist_dp_client_lcore_cmd(struct ist_dp_client *dc, uint32_t lcore_id, uint32_t op, uint64_t arg,
			    uint32_t timeout_ms, ist_dp_cmd_fn *fn, void *fn_arg)
{
	struct ist_ipc_lcore_cmd cmd = {.lcore_id = lcore_id, .op = op, .arg = arg};
	struct dp_pending *pd = NULL;
	unsigned int i;
	int64_t timer;
	int rc;

	if (fn == NULL)
		return -EINVAL;
	if (dc->conn != DP_UP)
		return -ENOTCONN;
	for (i = 0; i < IST_DP_MAX_PENDING && pd == NULL; i++)
		if (!dc->pending[i].in_use)
			pd = &dc->pending[i];
	if (pd == NULL)
		return -EBUSY;
	timer = ist_loop_timer_add(dc->lp, timeout_ms, dp_cmd_timeout_cb, dc);
	if (timer < 0)
		return (int)timer;
	rc = dp_send(dc, IST_IPC_LCORE_CMD, dc->seq + 1, &cmd, sizeof(cmd));
	if (rc < 0) {
		ist_loop_timer_del(dc->lp, timer);
		return rc == -ENOBUFS ? -EBUSY : rc;
	}
	pd->in_use = true;
	pd->seq = ++dc->seq;
	pd->timer = timer;
	pd->timeout_ms = timeout_ms;
	pd->fn = fn;
	pd->arg = fn_arg;
	return 0;
}

const struct ist_dp_client_state *ist_dp_client_state(const struct ist_dp_client *dc)
{
	return &dc->state;
}

struct ist_dp_client *ist_dp_client_create(struct ist_loop *lp,
					   const struct ist_dp_client_opts *opts)
{
	struct ist_dp_client *dc;

	if (opts->socket_path == NULL || opts->socket_path[0] == '\0' ||
	    strlen(opts->socket_path) >= sizeof(dc->path)) {
		errno = EINVAL;
		return NULL;
	}
	dc = calloc(1, sizeof(*dc));
	if (dc == NULL)
		return NULL;
	dc->rx = malloc(DP_RX_CAP);
	if (dc->rx == NULL) {
		free(dc);
		errno = ENOMEM;
		return NULL;
	}
	dc->lp = lp;
	dc->fd = -1;
	snprintf(dc->path, sizeof(dc->path), "%s", opts->socket_path);
	snprintf(dc->appliance, sizeof(dc->appliance), "%s",
		 opts->appliance ? opts->appliance : "");
	snprintf(dc->region, sizeof(dc->region), "%s", opts->region ? opts->region : "");
	dc->started_wall_ms = opts->started_wall_ms;
	dc->interval_ms = opts->status_interval_ms < 10 ? 10 : opts->status_interval_ms;
	dc->backoff_ms = IST_DP_BACKOFF_MIN_MS;
	dc->state.since_wall_ms = ist_loop_wall_ms(lp);
	snprintf(dc->state.last_error, sizeof(dc->state.last_error), "not connected yet");

	dc->status_timer = ist_loop_timer_add(lp, dc->interval_ms, dp_status_cb, dc);
	dc->retry_timer = ist_loop_timer_add(lp, 0, dp_retry_cb, dc);
	if (dc->status_timer < 0 || dc->retry_timer < 0) {
		ist_dp_client_destroy(dc);
		errno = ENOMEM;
		return NULL;
	}
	return dc;
}

void ist_dp_client_destroy(struct ist_dp_client *dc)
{
	if (dc == NULL)
		return;
	dp_pending_fail_all(dc, -ECANCELED, "control is shutting down");
	if (dc->fd >= 0) {
		ist_loop_file_del(dc->lp, dc->fd, IST_LOOP_READABLE | IST_LOOP_WRITABLE);
		close(dc->fd);
	}
	if (dc->status_timer > 0)
		ist_loop_timer_del(dc->lp, dc->status_timer);
	if (dc->retry_timer > 0)
		ist_loop_timer_del(dc->lp, dc->retry_timer);
	if (dc->handshake_timer > 0)
		ist_loop_timer_del(dc->lp, dc->handshake_timer);
	ist_dp_status_free(dc->status);
	free(dc->rx);
	free(dc->tx);
	free(dc);
}
