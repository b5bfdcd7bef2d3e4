/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"

/* ---- the known snapshot ------------------------------------------------- */

size_t fx_status_payload(void *buf, size_t cap)
{
	size_t len = ist_ipc_status_size(2, 1);
	struct ist_ipc_status st = {0};
	struct ist_ipc_lcore_status lc[2] = {{0}};
	struct ist_ipc_port_status ps = {0};
	unsigned char *p = buf;

	if (cap < len)
		return 0;
	snprintf(st.appliance, sizeof(st.appliance), FX_APPLIANCE);
	snprintf(st.region, sizeof(st.region), FX_REGION);
	st.uptime_ms = 5000;
	st.tsc_hz = 2000000000ull;
	st.pid = FX_PID;
	st.n_lcores = 2;
	st.n_ports = 1;
	st.ipc_rx_msgs = 10;
	st.link.present = 1;
	st.link.state = 2;
	st.link.keyed = 1;
	st.link.capacity_mbps = 200;
	st.link.srtt_us = 60000;
	st.link.rto_us = 120000;
	st.link.inflight = 5;
	st.link.tx_data = 98;
	st.link.tx_retx = 2;
	st.link.tx_ack = 50;
	st.link.tx_credit = 4;
	st.link.tx_hello = 1;
	st.link.tx_hb = 3;
	st.link.tx_bytes = 150000;
	st.link.rx_pkts = 80;
	st.link.rx_bytes = 120000;
	st.link.rx_dup = 1;
	st.link.rx_drop[7] = 2;
	st.link.frames_sent = 10;
	st.link.frames_ok = 9;
	st.link.bytes_delivered = 90000;
	st.link.peer_restarts = 1;
	st.link.tx_kbps = 1500;
	st.link.goodput_kbps = 900;
	st.ipc_rejected[IST_IPC_REJ_TRUNCATED] = 1;

	lc[0].lcore_id = 1;
	lc[0].cpu = 1;
	lc[0].paused = 0;
	lc[0].n_roles = 2;
	lc[0].idle_sleep_us = 200;
	lc[0].loops = 100;
	lc[0].busy_loops = 25;
	lc[0].idle_sleeps = 7;
	lc[0].cmds_applied = 0;
	snprintf(lc[0].roles[0].name, IST_IPC_ROLE_LEN, "link-rx");
	lc[0].roles[0].polls = 100;
	lc[0].roles[0].work = 40;
	lc[0].roles[0].cycles = 5000;
	snprintf(lc[0].roles[1].name, IST_IPC_ROLE_LEN, "link-tx");
	lc[0].roles[1].polls = 100;
	lc[0].roles[1].work = 10;
	lc[0].roles[1].cycles = 3000;

	lc[1].lcore_id = 2;
	lc[1].cpu = 3;
	lc[1].paused = 1;
	lc[1].n_roles = 1;
	lc[1].cmds_applied = 1;
	snprintf(lc[1].roles[0].name, IST_IPC_ROLE_LEN, "kafka-in");

	snprintf(ps.name, sizeof(ps.name), "link0");
	snprintf(ps.driver, sizeof(ps.driver), "net_memif");
	ps.port_id = 0;
	ps.link_up = 1;
	ps.started = 1;
	ps.restarts = 2;
	ps.link_speed_mbps = 10000;
	ps.mtu = 1500;
	ps.ipackets = 11;
	ps.opackets = 12;
	ps.ibytes = 1300;
	ps.obytes = 1400;
	ps.imissed = 1;
	ps.ierrors = 2;
	ps.oerrors = 3;
	ps.rx_nombuf = 4;

	memcpy(p, &st, sizeof(st));
	memcpy(p + sizeof(st), lc, sizeof(lc));
	memcpy(p + sizeof(st) + sizeof(lc), &ps, sizeof(ps));
	return len;
}

/* ---- temporary directory ------------------------------------------------ */

static char fx_dir[64];
static char fx_paths[4][256];

void fx_tmpdir_cleanup(void)
{
	struct dirent *de;
	char p[512];
	DIR *d;

	if (fx_dir[0] == '\0')
		return;
	d = opendir(fx_dir);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", fx_dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(fx_dir);
	fx_dir[0] = '\0';
}

/* A test killed by the harness's timeout still removes its sockets. */
static void fx_on_fatal(int sig)
{
	fx_tmpdir_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

const char *fx_tmpdir(void)
{
	static bool registered;

	if (fx_dir[0] != '\0')
		return fx_dir;
	snprintf(fx_dir, sizeof(fx_dir), "/tmp/isthmus-ctl-test-XXXXXX");
	if (mkdtemp(fx_dir) == NULL) {
		fx_dir[0] = '\0';
		return NULL;
	}
	if (!registered) {
		atexit(fx_tmpdir_cleanup);
		signal(SIGTERM, fx_on_fatal);
		signal(SIGINT, fx_on_fatal);
		signal(SIGHUP, fx_on_fatal);
		registered = true;
	}
	return fx_dir;
}

const char *fx_path(unsigned int slot, const char *name)
{
	const char *dir = fx_tmpdir();

	slot %= 4;
	snprintf(fx_paths[slot], sizeof(fx_paths[slot]), "%s/%s", dir ? dir : "/tmp", name);
	return fx_paths[slot];
}

/* ---- loop helpers ------------------------------------------------------- */

uint64_t fx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool fx_run_until(struct ist_loop *lp, fx_pred_fn *pred, void *arg, unsigned int timeout_ms)
{
	uint64_t deadline = fx_now_ms() + timeout_ms;

	for (;;) {
		if (pred(arg))
			return true;
		if (fx_now_ms() >= deadline)
			return false;
		ist_loop_run_once(lp, 10);
	}
}

void fx_run_for(struct ist_loop *lp, unsigned int ms)
{
	uint64_t deadline = fx_now_ms() + ms;

	while (fx_now_ms() < deadline)
		ist_loop_run_once(lp, 10);
}

/* ---- fake data plane ---------------------------------------------------- */

#define FX_RX_CAP (sizeof(struct ist_ipc_hdr) + IST_IPC_MAX_PAYLOAD)

struct fake_dp {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lfd, cfd;
	int wake[2];
	pthread_t thread;

	pthread_mutex_t mu; /* guards everything below */
	bool stop, kick;
	unsigned char *outq;
	size_t outq_len;
	enum fx_reply_mode mode;
	struct fake_dp_stats st;

	unsigned char rx[FX_RX_CAP]; /* thread only */
	size_t rx_len;
};

static int fx_send_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void fx_reply(struct fake_dp *f, uint16_t type, uint32_t seq, const void *payload,
		     uint32_t len)
{
	struct ist_ipc_hdr h;

	ist_ipc_hdr_init(&h, type, len, seq);
	if (fx_send_all(f->cfd, &h, sizeof(h)) == 0 && len > 0)
		fx_send_all(f->cfd, payload, len);
}

static void fx_close_client(struct fake_dp *f)
{
	if (f->cfd >= 0)
		close(f->cfd);
	f->cfd = -1;
	f->rx_len = 0;
	pthread_mutex_lock(&f->mu);
	f->st.connected = false;
	pthread_mutex_unlock(&f->mu);
}

static void fx_dispatch(struct fake_dp *f, const struct ist_ipc_hdr *h, const unsigned char *p)
{
	static unsigned char status[FX_RX_CAP];
	struct ist_ipc_cmd_resp resp = {0};
	struct ist_ipc_hello me = {0};
	enum fx_reply_mode mode;
	size_t n;

	pthread_mutex_lock(&f->mu);
	mode = f->mode;
	switch (h->type) {
	case IST_IPC_HELLO:
		f->st.hellos++;
		if (h->length == sizeof(f->st.last_hello))
			memcpy(&f->st.last_hello, p, sizeof(f->st.last_hello));
		break;
	case IST_IPC_STATUS_REQ:
		f->st.status_reqs++;
		break;
	case IST_IPC_LCORE_CMD:
		f->st.cmds++;
		if (h->length == sizeof(f->st.last_cmd))
			memcpy(&f->st.last_cmd, p, sizeof(f->st.last_cmd));
		break;
	case IST_IPC_ERROR:
		f->st.errors_rx++;
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&f->mu);

	switch (h->type) {
	case IST_IPC_HELLO:
		snprintf(me.who, sizeof(me.who), "isthmus-dataplane");
		snprintf(me.appliance, sizeof(me.appliance), FX_APPLIANCE);
		snprintf(me.region, sizeof(me.region), FX_REGION);
		me.pid = FX_PID;
		me.started_unix_ms = 1700000000000ull;
		fx_reply(f, IST_IPC_HELLO, h->seq, &me, sizeof(me));
		break;
	case IST_IPC_STATUS_REQ:
		n = fx_status_payload(status, sizeof(status));
		fx_reply(f, IST_IPC_STATUS_RESP, h->seq, status, (uint32_t)n);
		break;
	case IST_IPC_LCORE_CMD:
		if (mode == FX_REPLY_NONE)
			break;
		if (mode == FX_REPLY_ENOENT) {
			resp.status = -ENOENT;
			snprintf(resp.message, sizeof(resp.message),
				 "no lcore 99 in this data plane");
			fx_reply(f, IST_IPC_ERROR, h->seq, &resp, sizeof(resp));
			break;
		}
		snprintf(resp.message, sizeof(resp.message), "applied on 2 lcores");
		fx_reply(f, IST_IPC_CMD_RESP, h->seq, &resp, sizeof(resp));
		break;
	case IST_IPC_ERROR:
		break;
	default:
		resp.status = -ENOTSUP;
		snprintf(resp.message, sizeof(resp.message), "unknown message type %u", h->type);
		fx_reply(f, IST_IPC_ERROR, h->seq, &resp, sizeof(resp));
		break;
	}
}

static void fx_client_input(struct fake_dp *f)
{
	size_t off = 0;
	ssize_t n;

	n = recv(f->cfd, f->rx + f->rx_len, sizeof(f->rx) - f->rx_len, 0);
	if (n <= 0) {
		fx_close_client(f);
		return;
	}
	f->rx_len += (size_t)n;
	for (;;) {
		struct ist_ipc_hdr h;
		enum ist_ipc_reject why;
		enum ist_ipc_check ck = ist_ipc_check(f->rx + off, f->rx_len - off, &h, &why);

		if (ck == IST_IPC_NEED_MORE)
			break;
		if (ck == IST_IPC_BAD) {
			fx_close_client(f);
			return;
		}
		fx_dispatch(f, &h, f->rx + off + sizeof(h));
		off += sizeof(h) + h.length;
	}
	memmove(f->rx, f->rx + off, f->rx_len - off);
	f->rx_len -= off;
}

static void *fx_thread(void *arg)
{
	struct fake_dp *f = arg;

	for (;;) {
		struct pollfd pfd[3];
		unsigned char *out = NULL;
		size_t out_len = 0;
		bool kick;
		nfds_t n = 2;

		pthread_mutex_lock(&f->mu);
		if (f->stop) {
			pthread_mutex_unlock(&f->mu);
			break;
		}
		kick = f->kick;
		f->kick = false;
		if (f->outq_len > 0) {
			out = f->outq;
			out_len = f->outq_len;
			f->outq = NULL;
			f->outq_len = 0;
		}
		pthread_mutex_unlock(&f->mu);
		if (kick)
			fx_close_client(f);
		if (out != NULL && f->cfd >= 0)
			fx_send_all(f->cfd, out, out_len);
		free(out);

		pfd[0] = (struct pollfd){.fd = f->wake[0], .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = f->lfd, .events = POLLIN};
		if (f->cfd >= 0)
			pfd[n++] = (struct pollfd){.fd = f->cfd, .events = POLLIN};
		if (poll(pfd, n, 100) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			char drain[64];

			while (read(f->wake[0], drain, sizeof(drain)) > 0)
				;
		}
		if (pfd[1].revents & POLLIN) {
			int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				struct timeval tv = {.tv_sec = 2};

				/* A client that stops reading cannot hang the fake. */
				setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
				fx_close_client(f); /* one client at a time, like a restart */
				f->cfd = fd;
				pthread_mutex_lock(&f->mu);
				f->st.accepts++;
				f->st.connected = true;
				pthread_mutex_unlock(&f->mu);
			}
		}
		if (n == 3 && (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)))
			fx_client_input(f);
	}
	fx_close_client(f);
	return NULL;
}

static void fx_wake(struct fake_dp *f)
{
	if (write(f->wake[1], "w", 1) < 0) {
		/* the pipe is full: the thread is awake anyway */
	}
}

struct fake_dp *fake_dp_start(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct fake_dp *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	snprintf(f->path, sizeof(f->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	f->cfd = -1;
	unlink(path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(f->lfd, 8) < 0 || pipe2(f->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		if (f->lfd >= 0)
			close(f->lfd);
		unlink(path);
		free(f);
		return NULL;
	}
	pthread_mutex_init(&f->mu, NULL);
	if (pthread_create(&f->thread, NULL, fx_thread, f) != 0) {
		close(f->lfd);
		close(f->wake[0]);
		close(f->wake[1]);
		unlink(path);
		free(f);
		return NULL;
	}
	return f;
}

void fake_dp_stop(struct fake_dp *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_mutex_unlock(&f->mu);
	fx_wake(f);
	pthread_join(f->thread, NULL);
	close(f->lfd);
	close(f->wake[0]);
	close(f->wake[1]);
	unlink(f->path);
	pthread_mutex_destroy(&f->mu);
	free(f->outq);
	free(f);
}

void fake_dp_kick(struct fake_dp *f)
{
	pthread_mutex_lock(&f->mu);
	f->kick = true;
	pthread_mutex_unlock(&f->mu);
	fx_wake(f);
}

void fake_dp_send_raw(struct fake_dp *f, const void *buf, size_t len)
{
	unsigned char *q;

	pthread_mutex_lock(&f->mu);
	q = realloc(f->outq, f->outq_len + len);
	if (q != NULL) {
		memcpy(q + f->outq_len, buf, len);
		f->outq = q;
		f->outq_len += len;
	}
	pthread_mutex_unlock(&f->mu);
	fx_wake(f);
}

void fake_dp_send_msg(struct fake_dp *f, uint16_t type, uint32_t seq, const void *payload,
		      uint32_t len)
{
	unsigned char *buf = malloc(sizeof(struct ist_ipc_hdr) + len);
	struct ist_ipc_hdr h;

	if (buf == NULL)
		return;
	ist_ipc_hdr_init(&h, type, len, seq);
	memcpy(buf, &h, sizeof(h));
	if (len > 0)
		memcpy(buf + sizeof(h), payload, len);
	fake_dp_send_raw(f, buf, sizeof(h) + len);
	free(buf);
}

void fake_dp_set_reply_mode(struct fake_dp *f, enum fx_reply_mode mode)
{
	pthread_mutex_lock(&f->mu);
	f->mode = mode;
	pthread_mutex_unlock(&f->mu);
}

void fake_dp_stats(struct fake_dp *f, struct fake_dp_stats *out)
{
	pthread_mutex_lock(&f->mu);
	*out = f->st;
	pthread_mutex_unlock(&f->mu);
}
