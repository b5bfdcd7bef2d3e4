/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus-region: one emulated region's Kafka cluster for the demo, the tests
 * and the perf harness. A librdkafka mock cluster does the Kafka protocol; this
 * file adds what the mock lacks for a long-running stand-in: a process that
 * announces its bootstrap servers, a control socket to break and heal brokers
 * and create topics, and a clean exit that leaves no files behind.
 *
 * The event loop is a single poll() over a signalfd, the listening socket and
 * the clients, without timers: the process sleeps until something happens, as
 * it shares two cores with the appliance it feeds. The mock cluster runs its
 * brokers on its own threads; every mock call here is a synchronous request to
 * them.
 *
 * This is a harness tool, not an EAL process, so it logs to stderr rather than
 * through rte_log.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "ist_linectl.h"
#include "region_cmd.h"

#define IST_REGION_CLIENTS_MAX 16
/* How long `ctl` waits for the server before calling it unreachable. */
#define IST_REGION_CTL_TIMEOUT_S 10

struct ist_region_client {
	int fd; /**< -1: slot free */
	bool eof;
	bool discarding; /**< dropping the rest of an over-long line */
	size_t in_len;
	size_t out_len;
	size_t out_off;
	char in[IST_REGION_LINE_MAX + 1]; /**< + 1: room to terminate a last line */
	char out[IST_REGION_REPLY_MAX];
};

/* A file this process created and must remove, unless someone replaced it since. */
struct ist_region_file {
	const char *path;
	dev_t dev;
	ino_t ino;
	bool owned;
};

struct ist_region {
	struct ist_region_opts opts;
	struct ist_region_state st;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	int sig_fd;
	int listen_fd;
	bool quit;
	struct ist_region_file sock_file;
	struct ist_region_file boot_file;
	struct ist_region_client clients[IST_REGION_CLIENTS_MAX];
};

static void region_log(const struct ist_region *rg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void region_log(const struct ist_region *rg, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "isthmus-region[%s]: ", rg->st.name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void file_own(struct ist_region_file *f, const char *path)
{
	struct stat sb;

	f->path = path;
	if (lstat(path, &sb) == 0) {
		f->dev = sb.st_dev;
		f->ino = sb.st_ino;
		f->owned = true;
	}
}

/* A successor may already have taken the path over; its file is not ours to remove. */
static void file_release(struct ist_region_file *f)
{
	struct stat sb;

	if (!f->owned)
		return;
	f->owned = false;
	if (lstat(f->path, &sb) == 0 && sb.st_dev == f->dev && sb.st_ino == f->ino)
		unlink(f->path);
}

static int unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/*
 * A socket file left by a killed server refuses connections; one with a live
 * server accepts them. Only the first is safe to replace.
 */
static int control_stale_check(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat sb;
	int fd, rc;

	if (lstat(path, &sb) < 0) {
		snprintf(err, errlen, "cannot bind control socket %s: %s — check the directory",
			 path, strerror(errno));
		return -errno;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		snprintf(err, errlen,
			 "%s exists and is not a socket — remove it or choose another --control "
			 "path",
			 path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket(): %s — check the process's file descriptor limit",
			 strerror(errno));
		return -errno;
	}
	unix_addr(&sa, path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc == 0) {
		close(fd);
		snprintf(err, errlen,
			 "another isthmus-region is serving %s — stop it with 'isthmus-region ctl "
			 "%s quit' or choose another --control path",
			 path, path);
		return -EADDRINUSE;
	}
	rc = errno;
	close(fd);
	if (rc != ECONNREFUSED) {
		snprintf(err, errlen, "cannot probe existing control socket %s: %s — remove it",
			 path, strerror(rc));
		return -rc;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen,
			 "cannot remove stale control socket %s: %s — remove it by hand", path,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

static int control_listen(struct ist_region *rg, char *err, size_t errlen)
{
	const char *path = rg->opts.control;
	struct sockaddr_un sa;
	int fd, rc, attempt;

	if (unix_addr(&sa, path) < 0) {
		snprintf(err, errlen, "control socket path %s is too long — use a shorter path",
			 path);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket(): %s — check the process's file descriptor limit",
			 strerror(errno));
		return -errno;
	}
	for (attempt = 0;; attempt++) {
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		rc = errno;
		if (rc != EADDRINUSE || attempt > 0) {
			snprintf(err, errlen, "cannot bind control socket %s: %s — check the path",
				 path, strerror(rc));
			close(fd);
			return -rc;
		}
		rc = control_stale_check(path, err, errlen);
		if (rc < 0) {
			close(fd);
			return rc;
		}
		region_log(rg, "replaced stale control socket %s", path);
	}
	file_own(&rg->sock_file, path);
	if (listen(fd, IST_REGION_CLIENTS_MAX) < 0) {
		snprintf(err, errlen, "listen on %s: %s — check the path", path, strerror(errno));
		close(fd);
		file_release(&rg->sock_file);
		return -errno;
	}
	rg->listen_fd = fd;
	return 0;
}

/* Readers poll for the file; rename() means they see nothing or all of it. */
static int bootstrap_file_write(struct ist_region *rg, char *err, size_t errlen)
{
	const char *path = rg->opts.bootstrap_file;
	char tmp[4096 + 32];
	size_t len = strlen(rg->st.bootstrap);
	int fd, rc = 0;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s — check --bootstrap-file's directory",
			 tmp, strerror(errno));
		return -errno;
	}
	n = write(fd, rg->st.bootstrap, len);
	if (n == (ssize_t)len)
		n = write(fd, "\n", 1) == 1 ? (ssize_t)len : -1;
	if (n != (ssize_t)len)
		rc = n < 0 ? -errno : -EIO;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		snprintf(err, errlen,
			 "cannot write bootstrap file %s: %s — check the disk and path", path,
			 strerror(-rc));
		unlink(tmp);
		return rc;
	}
	file_own(&rg->boot_file, path);
	return 0;
}

/*
 * The hosting handle has no bootstrap.servers of its own, which librdkafka
 * warns about at start-up; that warning would only mislead whoever reads the
 * region's log. Everything else from the mock brokers is passed on.
 */
static void rk_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	const struct ist_region *rg = rd_kafka_opaque(rk);

	if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "bootstrap.servers") != NULL)
		return;
	fprintf(stderr, "isthmus-region[%s]: librdkafka %d %s: %s\n", rg->st.name, level, fac, buf);
}

static int cluster_start(struct ist_region *rg, char *err, size_t errlen)
{
	char errstr[512], cid[IST_REGION_NAME_MAX + 32];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_resp_err_t kerr;
	int i;

	snprintf(cid, sizeof(cid), "isthmus-region-%s", rg->st.name);
	if (rd_kafka_conf_set(conf, "client.id", cid, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		snprintf(err, errlen, "client.id: %s — use a simpler --name", errstr);
		rd_kafka_conf_destroy(conf);
		return -EINVAL;
	}
	rd_kafka_conf_set_opaque(conf, rg);
	rd_kafka_conf_set_log_cb(conf, rk_log);
	/* The handle only hosts the mock cluster; it never produces. */
	rg->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rg->rk == NULL) {
		snprintf(err, errlen, "cannot create the librdkafka handle: %s — check librdkafka",
			 errstr);
		rd_kafka_conf_destroy(conf);
		return -ENOMEM;
	}
	rg->mc = rd_kafka_mock_cluster_new(rg->rk, rg->opts.brokers);
	if (rg->mc == NULL) {
		snprintf(
			err, errlen,
			"cannot start a mock cluster of %d brokers — check free loopback ports and "
			"the file descriptor limit",
			rg->opts.brokers);
		return -ENOMEM;
	}
	rg->st.bootstrap = rd_kafka_mock_cluster_bootstraps(rg->mc);
	for (i = 0; i < rg->opts.topic_cnt; i++) {
		const struct ist_region_topic *t = &rg->opts.topics[i];

		kerr = rd_kafka_mock_topic_create(rg->mc, t->name, t->partitions, t->rf);
		if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
			snprintf(err, errlen, "cannot create topic %s:%d:%d: %s — check --topic",
				 t->name, t->partitions, t->rf, rd_kafka_err2str(kerr));
			return -EINVAL;
		}
		if (ist_region_state_topic_add(&rg->st, t, err, errlen) < 0)
			return -EINVAL;
	}
	if (rg->opts.rtt_ms > 0) {
		for (i = 1; i <= rg->opts.brokers; i++) {
			kerr = rd_kafka_mock_broker_set_rtt(rg->mc, i, rg->opts.rtt_ms);
			if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
				snprintf(err, errlen,
					 "cannot set rtt on broker %d: %s — check --rtt-ms", i,
					 rd_kafka_err2str(kerr));
				return -EINVAL;
			}
		}
	}
	return 0;
}

static void cluster_stop(struct ist_region *rg)
{
	if (rg->mc != NULL)
		rd_kafka_mock_cluster_destroy(rg->mc);
	rg->mc = NULL;
	rg->st.bootstrap = NULL;
	if (rg->rk != NULL)
		rd_kafka_destroy(rg->rk);
	rg->rk = NULL;
}

/*
 * Signals are taken through a signalfd so they are just another poll() event.
 * They must be blocked before librdkafka starts its threads, which inherit the
 * mask, or a thread could take the signal and kill the process uncleaned. A
 * shell starts background jobs with SIGINT ignored, and an ignored signal never
 * reaches a signalfd, so the dispositions are reset first.
 */
static int signals_setup(struct ist_region *rg, char *err, size_t errlen)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	sigset_t set;
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		signal(sigs[i], SIG_DFL);
		sigaddset(&set, sigs[i]);
	}
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		snprintf(err, errlen, "sigprocmask: %s — report this", strerror(errno));
		return -errno;
	}
	rg->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (rg->sig_fd < 0) {
		snprintf(err, errlen, "signalfd: %s — check the file descriptor limit",
			 strerror(errno));
		return -errno;
	}
	return 0;
}

static void client_close(struct ist_region_client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
}

static void client_flush(struct ist_region_client *cl)
{
	ssize_t n;

	while (cl->out_off < cl->out_len) {
		n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			client_close(cl);
			return;
		}
		cl->out_off += (size_t)n;
	}
	cl->out_off = 0;
	cl->out_len = 0;
}

static void client_reply(struct ist_region_client *cl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void client_reply(struct ist_region_client *cl, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cl->out, sizeof(cl->out) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cl->out) - 1) {
		n = snprintf(cl->out, sizeof(cl->out) - 1,
			     "error: reply too long — report this with the command that caused it");
	}
	cl->out[n] = '\n';
	cl->out_len = (size_t)n + 1;
	cl->out_off = 0;
}

static void mock_reply(struct ist_region *rg, struct ist_region_client *cl,
		       rd_kafka_resp_err_t kerr, const char *what)
{
	if (kerr == RD_KAFKA_RESP_ERR_NO_ERROR) {
		region_log(rg, "%s", what);
		client_reply(cl, "ok %s", what);
		return;
	}
	client_reply(cl, "error: mock cluster refused '%s': %s — check 'status' and retry", what,
		     rd_kafka_err2str(kerr));
}

static void cmd_topic_create(struct ist_region *rg, struct ist_region_client *cl,
			     const struct ist_region_topic *t)
{
	char err[IST_REGION_ERR_MAX + IST_REGION_TOPIC_NAME_MAX];
	rd_kafka_resp_err_t kerr;

	if (ist_region_state_topic_check(&rg->st, t->name, err, sizeof(err)) < 0) {
		client_reply(cl, "error: %s", err);
		return;
	}
	kerr = rd_kafka_mock_topic_create(rg->mc, t->name, t->partitions, t->rf);
	if (kerr == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
		client_reply(
			cl,
			"error: topic '%s' already exists in the mock cluster, auto-created by "
			"a client — pick another name, or create topics before clients use them",
			t->name);
		return;
	}
	if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
		client_reply(cl, "error: mock cluster refused topic '%s': %s — check the arguments",
			     t->name, rd_kafka_err2str(kerr));
		return;
	}
	ist_region_state_topic_add(&rg->st, t, err, sizeof(err));
	region_log(rg, "topic create %s:%d:%d", t->name, t->partitions, t->rf);
	client_reply(cl, "ok topic create %s:%d:%d", t->name, t->partitions, t->rf);
}

static void cmd_run(struct ist_region *rg, struct ist_region_client *cl, const char *line)
{
	char err[IST_REGION_ERR_MAX + IST_REGION_TOPIC_NAME_MAX];
	char what[64];
	struct ist_region_cmd cmd;
	rd_kafka_resp_err_t kerr;
	int rc;

	rc = ist_region_cmd_parse(line, rg->st.broker_cnt, &cmd, err, sizeof(err));
	if (rc == -ENODATA)
		return;
	if (rc < 0) {
		client_reply(cl, "error: %s", err);
		return;
	}
	switch (cmd.type) {
	case IST_REGION_CMD_BROKER_DOWN:
		snprintf(what, sizeof(what), "broker %d down", cmd.broker_id);
		kerr = rd_kafka_mock_broker_set_down(rg->mc, cmd.broker_id);
		if (kerr == RD_KAFKA_RESP_ERR_NO_ERROR)
			rg->st.brokers[cmd.broker_id].up = false;
		mock_reply(rg, cl, kerr, what);
		break;
	case IST_REGION_CMD_BROKER_UP:
		snprintf(what, sizeof(what), "broker %d up", cmd.broker_id);
		kerr = rd_kafka_mock_broker_set_up(rg->mc, cmd.broker_id);
		if (kerr == RD_KAFKA_RESP_ERR_NO_ERROR)
			rg->st.brokers[cmd.broker_id].up = true;
		mock_reply(rg, cl, kerr, what);
		break;
	case IST_REGION_CMD_BROKER_RTT:
		snprintf(what, sizeof(what), "broker %d rtt %d", cmd.broker_id, cmd.rtt_ms);
		kerr = rd_kafka_mock_broker_set_rtt(rg->mc, cmd.broker_id, cmd.rtt_ms);
		if (kerr == RD_KAFKA_RESP_ERR_NO_ERROR)
			rg->st.brokers[cmd.broker_id].rtt_ms = cmd.rtt_ms;
		mock_reply(rg, cl, kerr, what);
		break;
	case IST_REGION_CMD_TOPIC_CREATE:
		cmd_topic_create(rg, cl, &cmd.topic);
		break;
	case IST_REGION_CMD_STATUS:
		memcpy(cl->out, "ok ", 3);
		rc = ist_region_status_format(&rg->st, cl->out + 3, sizeof(cl->out) - 4);
		if (rc < 0) {
			client_reply(cl, "error: status does not fit in one reply — report this");
			break;
		}
		cl->out[3 + rc] = '\n';
		cl->out_len = 3 + (size_t)rc + 1;
		cl->out_off = 0;
		break;
	case IST_REGION_CMD_HELP:
		client_reply(cl, "ok %s", ist_region_cmd_help);
		break;
	case IST_REGION_CMD_QUIT:
		region_log(rg, "quit requested on the control socket");
		client_reply(cl, "ok quit");
		rg->quit = true;
		break;
	}
}

/*
 * One command is in flight per client: the next line is parsed only once the
 * previous reply has left, so a client that never reads cannot grow our memory.
 */
static void client_process(struct ist_region *rg, struct ist_region_client *cl)
{
	char *nl;
	size_t used;

	while (cl->fd >= 0 && cl->out_len == 0 && !rg->quit) {
		nl = memchr(cl->in, '\n', cl->in_len);
		if (cl->discarding) {
			used = nl != NULL ? (size_t)(nl - cl->in) + 1 : cl->in_len;
			memmove(cl->in, cl->in + used, cl->in_len - used);
			cl->in_len -= used;
			if (nl == NULL)
				break;
			cl->discarding = false;
			continue;
		}
		if (nl != NULL) {
			*nl = '\0';
			cmd_run(rg, cl, cl->in);
			used = (size_t)(nl - cl->in) + 1;
			memmove(cl->in, cl->in + used, cl->in_len - used);
			cl->in_len -= used;
		} else if (cl->in_len == IST_REGION_LINE_MAX) {
			client_reply(cl,
				     "error: command line is longer than %d bytes — send one short "
				     "command per line",
				     IST_REGION_LINE_MAX - 1);
			cl->discarding = true;
			cl->in_len = 0;
		} else if (cl->eof && cl->in_len > 0) {
			/* A last command without a newline still deserves its reply. */
			cl->in[cl->in_len] = '\0';
			cl->in_len = 0;
			cmd_run(rg, cl, cl->in);
		} else {
			break;
		}
		client_flush(cl);
	}
	if (cl->fd >= 0 && cl->eof && cl->out_len == 0 && cl->in_len == 0)
		client_close(cl);
}

static void client_read(struct ist_region *rg, struct ist_region_client *cl)
{
	ssize_t n;

	n = recv(cl->fd, cl->in + cl->in_len, IST_REGION_LINE_MAX - cl->in_len, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		client_close(cl);
		return;
	}
	if (n == 0)
		cl->eof = true;
	cl->in_len += (size_t)n;
	client_process(rg, cl);
}

static void clients_accept(struct ist_region *rg)
{
	static const char full[] = "error: too many control clients — close idle connections "
				   "to this socket and retry\n";
	struct ist_region_client *cl;
	int fd, i;

	for (;;) {
		fd = accept4(rg->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		cl = NULL;
		for (i = 0; i < IST_REGION_CLIENTS_MAX; i++) {
			if (rg->clients[i].fd < 0) {
				cl = &rg->clients[i];
				break;
			}
		}
		if (cl == NULL) {
			/* Refused rather than left in the backlog, where poll() would spin on it. */
			if (send(fd, full, sizeof(full) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				region_log(rg, "refused a control client: too many clients");
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->eof = false;
		cl->discarding = false;
		cl->in_len = 0;
		cl->out_len = 0;
		cl->out_off = 0;
	}
}

static void signal_read(struct ist_region *rg)
{
	struct signalfd_siginfo si;

	while (read(rg->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		region_log(rg, "SIG%s received, shutting down", sigabbrev_np((int)si.ssi_signo));
		rg->quit = true;
	}
}

static int event_loop(struct ist_region *rg)
{
	struct pollfd pfd[2 + IST_REGION_CLIENTS_MAX];
	int idx[2 + IST_REGION_CLIENTS_MAX];
	struct ist_region_client *cl;
	int n, i, k;

	while (!rg->quit) {
		n = 0;
		pfd[n++] = (struct pollfd){.fd = rg->sig_fd, .events = POLLIN};
		if (rg->listen_fd >= 0)
			pfd[n++] = (struct pollfd){.fd = rg->listen_fd, .events = POLLIN};
		k = n;
		for (i = 0; i < IST_REGION_CLIENTS_MAX; i++) {
			cl = &rg->clients[i];
			if (cl->fd < 0)
				continue;
			idx[n] = i;
			pfd[n++] = (struct pollfd){
				.fd = cl->fd,
				.events = cl->out_len > 0 ? POLLOUT : (cl->eof ? 0 : POLLIN),
			};
		}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			region_log(rg, "poll: %s", strerror(errno));
			return -errno;
		}
		if (pfd[0].revents != 0)
			signal_read(rg);
		if (rg->listen_fd >= 0 && pfd[1].revents != 0)
			clients_accept(rg);
		for (i = k; i < n; i++) {
			cl = &rg->clients[idx[i]];
			if (pfd[i].revents == 0 || cl->fd < 0)
				continue;
			if (cl->out_len > 0) {
				client_flush(cl);
				if (cl->fd >= 0 && cl->out_len == 0)
					client_process(rg, cl);
			} else if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				client_read(rg, cl);
			}
		}
	}
	return 0;
}

static void region_stop(struct ist_region *rg)
{
	int i;

	for (i = 0; i < IST_REGION_CLIENTS_MAX; i++) {
		/* Best effort: the reply to "quit" should reach the client that sent it. */
		if (rg->clients[i].fd >= 0 && rg->clients[i].out_len > 0)
			client_flush(&rg->clients[i]);
		client_close(&rg->clients[i]);
	}
	if (rg->listen_fd >= 0)
		close(rg->listen_fd);
	rg->listen_fd = -1;
	file_release(&rg->sock_file);
	file_release(&rg->boot_file);
	cluster_stop(rg);
	if (rg->sig_fd >= 0)
		close(rg->sig_fd);
	rg->sig_fd = -1;
}

static int ctl_main(int argc, char **argv)
{
	static const struct ist_linectl c = {
		.prog = "isthmus-region",
		.example_cmd = "status",
		.line_max = IST_REGION_LINE_MAX,
		.reply_max = IST_REGION_REPLY_MAX,
		.timeout_s = IST_REGION_CTL_TIMEOUT_S,
	};

	return ist_linectl_main(&c, argc, argv);
}

int main(int argc, char **argv)
{
	static struct ist_region region;
	struct ist_region *rg = &region;
	char err[IST_REGION_ERR_MAX + 4096];
	int i, rc;

	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc, argv);

	if (ist_region_opts_parse(argc, argv, &rg->opts, err, sizeof(err)) < 0) {
		fprintf(stderr, "isthmus-region: %s\n", err);
		return 2;
	}
	if (rg->opts.help) {
		fputs(ist_region_usage, stdout);
		return 0;
	}
	ist_region_state_init(&rg->st, rg->opts.name, rg->opts.brokers, rg->opts.rtt_ms);
	rg->sig_fd = -1;
	rg->listen_fd = -1;
	for (i = 0; i < IST_REGION_CLIENTS_MAX; i++)
		rg->clients[i].fd = -1;

	rc = signals_setup(rg, err, sizeof(err));
	/* The socket comes before the cluster so a clash is reported before any work. */
	if (rc == 0 && rg->opts.control != NULL)
		rc = control_listen(rg, err, sizeof(err));
	if (rc == 0)
		rc = cluster_start(rg, err, sizeof(err));
	if (rc == 0 && rg->opts.bootstrap_file != NULL)
		rc = bootstrap_file_write(rg, err, sizeof(err));
	if (rc < 0) {
		region_log(rg, "%s", err);
		region_stop(rg);
		return 1;
	}

	region_log(rg, "ready: %d broker(s), %d topic(s), rtt %d ms, control %s", rg->st.broker_cnt,
		   rg->st.topic_cnt, rg->opts.rtt_ms,
		   rg->opts.control != NULL ? rg->opts.control : "none");
	if (printf("BOOTSTRAP %s\n", rg->st.bootstrap) < 0 || fflush(stdout) != 0)
		region_log(rg, "cannot write the BOOTSTRAP line to stdout: %s", strerror(errno));

	rc = event_loop(rg);
	region_stop(rg);
	return rc < 0 ? 1 : 0;
}
