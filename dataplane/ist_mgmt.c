/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "ist_config.h"
#include "ist_lcore.h"
#include "ist_link.h"
#include "ist_repl.h"
#include "ist_mgmt.h"
#include "ist_port.h"

RTE_LOG_REGISTER(ist_mgmt_logtype, isthmus.mgmt, INFO);
#define MGMT_LOG(level, fmt, ...)                                                        \
	rte_log(RTE_LOG_##level, ist_mgmt_logtype, "isthmus-dataplane: mgmt: " fmt "\n", \
		##__VA_ARGS__)

/* How long a command may wait for its lcore to answer. */
#define CMD_REPLY_TIMEOUT_MS 500

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};

			/* A reader that does not read for a second is dropped. */
			if (poll(&pfd, 1, 1000) <= 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int reply(int fd, uint16_t type, uint32_t seq, const void *payload, uint32_t len)
{
	struct ist_ipc_hdr h;

	ist_ipc_hdr_init(&h, type, len, seq);
	if (send_all(fd, &h, sizeof(h)) != 0)
		return -1;
	return len ? send_all(fd, payload, len) : 0;
}

static int reply_error(int fd, uint32_t seq, int32_t status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int reply_error(int fd, uint32_t seq, int32_t status, const char *fmt, ...)
{
	struct ist_ipc_cmd_resp r = {.status = status};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.message, sizeof(r.message), fmt, ap);
	va_end(ap);
	return reply(fd, IST_IPC_ERROR, seq, &r, sizeof(r));
}

static void link_status(struct ist_mgmt *m, struct ist_ipc_link_status *ls)
{
	struct ist_link *l = ist_link_get();
	struct ist_link_stats st;
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();

	if (l == NULL)
		return;
	ist_link_stats_get(l, &st);
	ls->present = 1;
	ls->state = st.state;
	ls->keyed = m->cfg->link.auth == IST_AUTH_AEAD;
	ls->capacity_mbps = m->cfg->link.capacity_mbps;
	ls->srtt_us = st.srtt_us;
	ls->rto_us = st.rto_us;
	ls->inflight = st.inflight;
	ls->tx_data = st.tx_data;
	ls->tx_retx = st.tx_retx;
	ls->tx_ack = st.tx_ack;
	ls->tx_credit = st.tx_credit;
	ls->tx_hello = st.tx_hello;
	ls->tx_hb = st.tx_hb;
	ls->tx_fail = st.tx_fail;
	ls->tx_bytes = st.tx_bytes;
	ls->rx_pkts = st.rx_pkts;
	ls->rx_bytes = st.rx_bytes;
	ls->rx_dup = st.rx_dup;
	ls->rx_stale_epoch = st.rx_stale_epoch;
	ls->rx_foreign = st.rx_foreign;
	for (unsigned int i = 0; i < IST_IPC_LINK_DROPS && i < RTE_DIM(st.rx_drop); i++)
		ls->rx_drop[i] = st.rx_drop[i];
	ls->frames_sent = st.frames_sent;
	ls->frames_ok = st.frames_ok;
	ls->frames_bad = st.frames_bad;
	ls->frames_out_of_order = st.frames_out_of_order;
	ls->bytes_delivered = st.bytes_delivered;
	ls->peer_restarts = st.peer_restarts;
	ls->peer_deaths = st.peer_deaths;
	/* Rates over the time since the previous status request. */
	if (m->rate_tsc != 0 && now > m->rate_tsc && hz != 0) {
		uint64_t dt_us = (now - m->rate_tsc) * 1000000 / hz;

		if (dt_us > 0) {
			ls->tx_kbps = (st.tx_bytes - m->rate_tx_bytes) * 8000 / dt_us;
			ls->goodput_kbps = (st.bytes_delivered - m->rate_delivered) * 8000 / dt_us;
		}
	}
	m->rate_tsc = now;
	m->rate_tx_bytes = st.tx_bytes;
	m->rate_delivered = st.bytes_delivered;
}

size_t ist_mgmt_status_build(struct ist_mgmt *m, uint8_t *buf, size_t len)
{
	const struct ist_config *cfg = m->cfg;
	size_t need = ist_ipc_status_size(m->n_lcores, cfg->n_ports);
	struct ist_ipc_status *st = (struct ist_ipc_status *)buf;
	struct ist_ipc_lcore_status *ls;
	struct ist_ipc_port_status *ps;

	if (need > len)
		return 0;
	memset(buf, 0, need);
	snprintf(st->appliance, sizeof(st->appliance), "%s", cfg->appliance.id);
	snprintf(st->region, sizeof(st->region), "%s", cfg->appliance.region);
	st->tsc_hz = rte_get_tsc_hz();
	if (st->tsc_hz != 0)
		st->uptime_ms = (rte_rdtsc() - m->start_tsc) * 1000 / st->tsc_hz;
	st->pid = getpid();
	st->n_lcores = m->n_lcores;
	st->n_ports = cfg->n_ports;
	st->ipc_rx_msgs = m->rx_msgs;
	memcpy(st->ipc_rejected, m->rejected, sizeof(st->ipc_rejected));

	link_status(m, &st->link);
	ls = (struct ist_ipc_lcore_status *)(st + 1);
	for (unsigned int i = 0; i < m->n_lcores; i++, ls++) {
		const struct ist_lcore *lc = m->lcores[i];

		ls->lcore_id = lc->lcore_id;
		ls->cpu = lc->cpu;
		ls->paused = lc->paused;
		ls->n_roles = RTE_MIN(lc->n_roles, IST_IPC_MAX_ROLES);
		ls->idle_sleep_us = lc->idle.max_us;
		ls->loops = lc->loops;
		ls->busy_loops = lc->busy_loops;
		ls->idle_sleeps = lc->idle_sleeps;
		ls->cmds_applied = lc->cmds_applied;
		for (unsigned int r = 0; r < ls->n_roles; r++) {
			snprintf(ls->roles[r].name, sizeof(ls->roles[r].name), "%s",
				 lc->roles[r].ops->name);
			ls->roles[r].polls = lc->roles[r].polls;
			ls->roles[r].work = lc->roles[r].work;
			ls->roles[r].cycles = lc->roles[r].cycles;
		}
	}
	ps = (struct ist_ipc_port_status *)ls;
	for (unsigned int i = 0; i < cfg->n_ports; i++, ps++) {
		struct rte_eth_stats s;
		struct rte_eth_link link;
		struct rte_eth_dev_info info;
		uint16_t mtu = 0;
		uint16_t pid = m->port_ids[i];

		snprintf(ps->name, sizeof(ps->name), "%s", cfg->ports[i].name);
		ps->port_id = pid;
		if (rte_eth_dev_info_get(pid, &info) == 0)
			snprintf(ps->driver, sizeof(ps->driver), "%s", info.driver_name);
		if (rte_eth_link_get_nowait(pid, &link) == 0) {
			ps->link_up = link.link_status;
			ps->link_speed_mbps = link.link_speed;
		}
		ps->started = m->port_ready != NULL && m->port_ready[i];
		ps->restarts = m->port_restarts[i];
		if (rte_eth_dev_get_mtu(pid, &mtu) == 0)
			ps->mtu = mtu;
		if (rte_eth_stats_get(pid, &s) == 0) {
			ps->ipackets = s.ipackets;
			ps->opackets = s.opackets;
			ps->ibytes = s.ibytes;
			ps->obytes = s.obytes;
			ps->imissed = s.imissed;
			ps->ierrors = s.ierrors;
			ps->oerrors = s.oerrors;
			ps->rx_nombuf = s.rx_nombuf;
		}
	}
	if (ist_repl_peek() != NULL) {
		struct ist_ipc_stream_status *ss = (struct ist_ipc_stream_status *)ps;
		uint32_t room = (uint32_t)((len - need) / sizeof(*ss));

		ist_repl_totals(ist_repl_peek(), &st->repl);
		st->repl.n_streams = ist_repl_status(ist_repl_peek(), ss,
						     RTE_MIN(room, (uint32_t)IST_IPC_MAX_STREAMS));
		need += st->repl.n_streams * sizeof(*ss);
	}
	return need;
}

/* Send one command to one lcore and wait, bounded, for its answer. */
static int32_t lcore_cmd_one(struct ist_mgmt *m, struct ist_lcore *lc, uint32_t op, uint32_t arg)
{
	uint32_t seq = ++m->cmd_seq & 0xffffff;
	uint64_t deadline = mono_ms() + CMD_REPLY_TIMEOUT_MS;
	void *w;

	if (rte_ring_sp_enqueue(lc->cmd_ring, (void *)ist_lcore_cmd_pack(op, seq, arg)) != 0)
		return -EBUSY;
	while (mono_ms() < deadline) {
		while (rte_ring_sc_dequeue(lc->reply_ring, &w) == 0) {
			uint32_t rseq;
			int32_t status;

			ist_lcore_reply_unpack((uintptr_t)w, &rseq, &status);
			/* Answers to commands that timed out earlier are stale: skip them. */
			if (rseq == seq)
				return status;
		}
		usleep(200);
	}
	return -ETIMEDOUT;
}

/* Pause every running lcore; @p paused records which this call paused. */
static int lcores_pause(struct ist_mgmt *m, bool *paused)
{
	for (unsigned int i = 0; i < m->n_lcores; i++) {
		paused[i] = false;
		if (m->lcores[i]->paused)
			continue; /* an operator paused it: leave it as it is */
		if (lcore_cmd_one(m, m->lcores[i], IST_LCORE_OP_PAUSE, 0) != 0)
			return -ETIMEDOUT;
		paused[i] = true;
	}
	return 0;
}

static void lcores_resume(struct ist_mgmt *m, const bool *paused)
{
	for (unsigned int i = 0; i < m->n_lcores; i++)
		if (paused[i] && lcore_cmd_one(m, m->lcores[i], IST_LCORE_OP_RESUME, 0) != 0)
			MGMT_LOG(ERR,
				 "lcore %u did not resume after a port restart; resume it with "
				 "isthmus resume --lcore %u",
				 m->lcores[i]->lcore_id, m->lcores[i]->lcore_id);
}

void ist_mgmt_drops_log(struct ist_mgmt *m, uint64_t now_ms)
{
	struct ist_link *l = ist_link_get();
	struct ist_link_stats st;

	if (l == NULL)
		return;
	ist_link_stats_get(l, &st);
	if (m->drop_base_ms == 0)
		m->drop_base_ms = now_ms;
	for (unsigned int i = 1; i < IST_IPC_LINK_DROPS; i++) {
		uint64_t n = st.rx_drop[i] - m->drop_logged[i];

		if (n == 0 ||
		    (m->drop_log_ms[i] != 0 && now_ms - m->drop_log_ms[i] < IST_MGMT_DROP_LOG_MS))
			continue;
		MGMT_LOG(WARNING,
			 "link: dropped %" PRIu64 " packet(s): %s (in the last %" PRIu64 " s)", n,
			 ist_ipc_link_drop_name(i),
			 (now_ms - (m->drop_log_ms[i] ? m->drop_log_ms[i] : m->drop_base_ms) +
			  500) / 1000);
		m->drop_logged[i] = st.rx_drop[i];
		m->drop_log_ms[i] = now_ms;
	}
}

void ist_mgmt_ports_watch(struct ist_mgmt *m)
{
	const struct ist_config *cfg = m->cfg;
	char err[256];

	for (unsigned int i = 0; i < cfg->n_ports && m->port_ready != NULL; i++) {
		const struct ist_cfg_port *p = &cfg->ports[i];
		struct rte_eth_link link;
		bool paused[IST_CFG_MAX_LCORES];

		if (!m->port_ready[i]) {
			if (ist_port_start(p, m->port_ids[i], err, sizeof(err)) == 0) {
				m->port_ready[i] = 1;
				MGMT_LOG(NOTICE, "port %s started: its peer is there now", p->name);
			}
			continue;
		}
		if (!ist_port_needs_restart_to_reconnect(p) ||
		    rte_eth_link_get_nowait(m->port_ids[i], &link) != 0 || link.link_status) {
			m->port_down_ticks[i] = 0;
			continue;
		}
		if (++m->port_down_ticks[i] < 2)
			continue;
		m->port_down_ticks[i] = 0;
		if (lcores_pause(m, paused) != 0) {
			lcores_resume(m, paused);
			continue;
		}
		m->port_ready[i] = 0;
		rte_eth_dev_stop(m->port_ids[i]);
		if (ist_port_start(p, m->port_ids[i], err, sizeof(err)) == 0)
			m->port_ready[i] = 1;
		m->port_restarts[i]++;
		lcores_resume(m, paused);
	}
}

static void handle_lcore_cmd(struct ist_mgmt *m, int fd, uint32_t seq,
			     const struct ist_ipc_lcore_cmd *cmd)
{
	struct ist_ipc_cmd_resp r = {0};
	unsigned int done = 0;

	if (cmd->op < IST_LCORE_OP_PAUSE || cmd->op > IST_LCORE_OP_SET_IDLE_SLEEP) {
		reply_error(fd, seq, -EINVAL,
			    "unknown lcore op %u; use pause, resume or "
			    "idle-sleep",
			    cmd->op);
		return;
	}
	if (cmd->op == IST_LCORE_OP_SET_IDLE_SLEEP && cmd->arg > IST_IPC_IDLE_SLEEP_MAX_US) {
		reply_error(fd, seq, -ERANGE, "idle sleep %" PRIu64 " us is out of range 0..%u",
			    cmd->arg, IST_IPC_IDLE_SLEEP_MAX_US);
		return;
	}
	for (unsigned int i = 0; i < m->n_lcores; i++) {
		struct ist_lcore *lc = m->lcores[i];
		int32_t st;

		if (cmd->lcore_id != IST_IPC_ALL_LCORES && cmd->lcore_id != lc->lcore_id)
			continue;
		st = lcore_cmd_one(m, lc, cmd->op, (uint32_t)cmd->arg);
		if (st != 0) {
			r.status = st;
			snprintf(r.message, sizeof(r.message),
				 "lcore %u did not apply the command "
				 "(%s)",
				 lc->lcore_id, strerror(-st));
			reply(fd, IST_IPC_CMD_RESP, seq, &r, sizeof(r));
			return;
		}
		done++;
	}
	if (done == 0) {
		reply_error(fd, seq, -ENOENT, "no lcore %u in this data plane", cmd->lcore_id);
		return;
	}
	snprintf(r.message, sizeof(r.message), "applied on %u lcore%s", done, done > 1 ? "s" : "");
	reply(fd, IST_IPC_CMD_RESP, seq, &r, sizeof(r));
}

static int dispatch(struct ist_mgmt *m, int fd, const struct ist_ipc_hdr *h, const uint8_t *p)
{
	static uint8_t status_buf[IST_IPC_MAX_PAYLOAD];

	m->rx_msgs++;
	switch (h->type) {
	case IST_IPC_HELLO: {
		struct ist_ipc_hello me = {0};

		if (h->length != sizeof(struct ist_ipc_hello)) {
			m->rejected[IST_IPC_REJ_BAD_PAYLOAD]++;
			return reply_error(fd, h->seq, -EINVAL, "HELLO payload must be %zu bytes",
					   sizeof(struct ist_ipc_hello));
		}
		snprintf(me.who, sizeof(me.who), "isthmus-dataplane");
		snprintf(me.appliance, sizeof(me.appliance), "%s", m->cfg->appliance.id);
		snprintf(me.region, sizeof(me.region), "%s", m->cfg->appliance.region);
		me.pid = getpid();
		me.started_unix_ms = m->start_unix_ms;
		return reply(fd, IST_IPC_HELLO, h->seq, &me, sizeof(me));
	}
	case IST_IPC_STATUS_REQ: {
		size_t n;

		if (h->length != 0) {
			m->rejected[IST_IPC_REJ_BAD_PAYLOAD]++;
			return reply_error(fd, h->seq, -EINVAL, "STATUS_REQ carries no payload");
		}
		n = ist_mgmt_status_build(m, status_buf, sizeof(status_buf));
		if (n == 0)
			return reply_error(fd, h->seq, -E2BIG, "status does not fit one message");
		return reply(fd, IST_IPC_STATUS_RESP, h->seq, status_buf, n);
	}
	case IST_IPC_LCORE_CMD: {
		struct ist_ipc_lcore_cmd cmd;

		if (h->length != sizeof(cmd)) {
			m->rejected[IST_IPC_REJ_BAD_PAYLOAD]++;
			return reply_error(fd, h->seq, -EINVAL,
					   "LCORE_CMD payload must be %zu bytes", sizeof(cmd));
		}
		memcpy(&cmd, p, sizeof(cmd));
		handle_lcore_cmd(m, fd, h->seq, &cmd);
		return 0;
	}
	default:
		m->rejected[IST_IPC_REJ_UNKNOWN_TYPE]++;
		return reply_error(fd, h->seq, -ENOTSUP, "unknown message type %u", h->type);
	}
}

int ist_mgmt_client_input(struct ist_mgmt *m, struct ist_mgmt_client *c)
{
	size_t off = 0;
	int rc = 0;

	for (;;) {
		struct ist_ipc_hdr h;
		enum ist_ipc_reject why = IST_IPC_REJ_MAX;
		enum ist_ipc_check ck = ist_ipc_check(c->buf + off, c->len - off, &h, &why);

		if (ck == IST_IPC_NEED_MORE)
			break;
		if (ck == IST_IPC_BAD) {
			m->rejected[why]++;
			/* Without a valid header the next boundary is unknown: hang up. */
			if (why != IST_IPC_REJ_MAGIC)
				reply_error(c->fd, h.seq, -EPROTO,
					    "rejected: %s (speak version %u, "
					    "payload <= %u)",
					    ist_ipc_reject_name(why), IST_IPC_VERSION,
					    IST_IPC_MAX_PAYLOAD);
			rc = -1;
			break;
		}
		if (dispatch(m, c->fd, &h, c->buf + off + sizeof(h)) != 0) {
			rc = -1;
			break;
		}
		off += sizeof(h) + h.length;
	}
	if (off > 0) {
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
	}
	return rc;
}

static void client_close(struct ist_mgmt *m, struct ist_mgmt_client *c, bool truncated)
{
	if (truncated)
		m->rejected[IST_IPC_REJ_TRUNCATED]++;
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void *mgmt_thread(void *arg)
{
	struct ist_mgmt *m = arg;

	for (;;) {
		struct pollfd pfd[2 + IST_MGMT_MAX_CLIENTS];
		int idx[IST_MGMT_MAX_CLIENTS];
		unsigned int n = 0;

		pfd[n++] = (struct pollfd){.fd = m->stop_fd[0], .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = m->listen_fd, .events = POLLIN};
		for (unsigned int i = 0; i < IST_MGMT_MAX_CLIENTS; i++)
			if (m->clients[i].fd >= 0) {
				idx[n - 2] = i;
				pfd[n++] =
					(struct pollfd){.fd = m->clients[i].fd, .events = POLLIN};
			}
		if (poll(pfd, n, 1000) < 0) {
			if (errno == EINTR)
				continue;
			MGMT_LOG(ERR, "poll failed: %s; management API stopped", strerror(errno));
			return NULL;
		}
		if (pfd[0].revents)
			return NULL;
		if (mono_ms() - m->last_watch_ms >= 1000) {
			m->last_watch_ms = mono_ms();
			ist_mgmt_ports_watch(m);
			ist_mgmt_drops_log(m, m->last_watch_ms);
			ist_repl_reload_poll(ist_repl_peek());
		}
		if (pfd[1].revents & POLLIN) {
			int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			unsigned int i;

			for (i = 0; fd >= 0 && i < IST_MGMT_MAX_CLIENTS; i++)
				if (m->clients[i].fd < 0) {
					m->clients[i].fd = fd;
					m->clients[i].len = 0;
					break;
				}
			if (fd >= 0 && i == IST_MGMT_MAX_CLIENTS) {
				MGMT_LOG(WARNING, "more than %d clients; closing the newest",
					 IST_MGMT_MAX_CLIENTS);
				close(fd);
			}
		}
		for (unsigned int k = 2; k < n; k++) {
			struct ist_mgmt_client *c = &m->clients[idx[k - 2]];
			ssize_t r;

			if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				client_close(m, c, c->len > 0);
				continue;
			}
			c->len += r;
			if (ist_mgmt_client_input(m, c) != 0)
				client_close(m, c, false);
		}
	}
}

int ist_mgmt_socket_check(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc = 0;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen,
			 "control.socket '%s' is longer than %zu characters; shorten it", path,
			 sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		snprintf(err, errlen,
			 "another isthmus-dataplane serves %s; stop it or change control.socket",
			 path);
		rc = -EADDRINUSE;
	}
	close(fd);
	return rc;
}

static int sock_prepare(struct ist_mgmt *m, struct sockaddr_un *sa, char *err, size_t errlen)
{
	const char *path = m->cfg->control.socket;
	char dir[sizeof(sa->sun_path)];
	char *slash;
	int rc;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		/* One level is enough for /run/isthmus/<id>/; /run/isthmus may need making too. */
		char *up = strrchr(dir, '/');

		if (up != NULL && up != dir) {
			*up = '\0';
			mkdir(dir, 0755);
			*up = '/';
		}
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen,
				 "cannot create %s for control.socket (%s); create it or "
				 "change control.socket",
				 dir, strerror(errno));
			return -errno;
		}
	}
	rc = ist_mgmt_socket_check(path, err, errlen);
	if (rc != 0)
		return rc;
	if (unlink(path) == 0)
		MGMT_LOG(NOTICE, "removed stale socket %s left by a process that is gone", path);
	return 0;
}

int ist_mgmt_start(struct ist_mgmt *m, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int rc;

	for (unsigned int i = 0; i < IST_MGMT_MAX_CLIENTS; i++)
		m->clients[i].fd = -1;
	m->start_tsc = rte_rdtsc();
	m->start_unix_ms = (uint64_t)time(NULL) * 1000;
	rc = sock_prepare(m, &sa, err, errlen);
	if (rc != 0)
		return rc;
	m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m->listen_fd < 0 || bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(m->listen_fd, 8) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot listen on %s (%s); check control.socket",
			 m->cfg->control.socket, strerror(errno));
		if (m->listen_fd >= 0)
			close(m->listen_fd);
		return rc;
	}
	chmod(m->cfg->control.socket, 0660);
	if (pipe2(m->stop_fd, O_CLOEXEC) != 0) {
		rc = -errno;
		close(m->listen_fd);
		unlink(m->cfg->control.socket);
		return rc;
	}
	rc = rte_ctrl_thread_create(&m->thread, "ist-mgmt", NULL, mgmt_thread, m);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the mgmt thread (%s)", strerror(rc));
		close(m->listen_fd);
		close(m->stop_fd[0]);
		close(m->stop_fd[1]);
		unlink(m->cfg->control.socket);
		return -rc;
	}
	m->running = true;
	return 0;
}

void ist_mgmt_stop(struct ist_mgmt *m)
{
	if (!m->running)
		return;
	if (write(m->stop_fd[1], "q", 1) != 1)
		MGMT_LOG(WARNING, "cannot signal the mgmt thread: %s", strerror(errno));
	pthread_join(m->thread, NULL);
	for (unsigned int i = 0; i < IST_MGMT_MAX_CLIENTS; i++)
		if (m->clients[i].fd >= 0)
			client_close(m, &m->clients[i], false);
	close(m->listen_fd);
	close(m->stop_fd[0]);
	close(m->stop_fd[1]);
	unlink(m->cfg->control.socket);
	m->running = false;
}
