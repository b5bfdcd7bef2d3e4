/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Integration test for isthmus-region: runs the built binary (path in argv[1])
 * as a child, talks Kafka to it with librdkafka and kcat, and drives it over its
 * control socket, both directly and through `isthmus-region ctl`.
 *
 * Every child is started here and recorded; cleanup kills only those PIDs and
 * removes only the temp directory made here, from the group teardown, from
 * atexit() and from a SIGTERM/SIGINT handler (meson's timeout), so a failing
 * or hanging region leaves nothing behind. Children also get PR_SET_PDEATHSIG
 * in case this process dies without running any of those. Every wait is
 * bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#define START_TIMEOUT_MS 20000
#define EXIT_TIMEOUT_MS  15000
#define CTL_TIMEOUT_MS   15000
#define KAFKA_TIMEOUT_MS 30000
#define RECORDS          100
#define CHILDREN_MAX     16

/* Files the tests may leave in the temp dir; cleanup removes exactly these. */
static const char *const tmp_files[] = {"ctl.sock",   "bootstrap", "second.sock", "stale.sock",
					"stale.boot", "quit.sock", "quit.boot",   "blocker"};

static const char *region_bin;
static char tmpdir[128];
static char ctl_path[256];
static char boot_path[256];
static char bootstrap[1024];
static pid_t region_pid = -1;
static volatile pid_t children[CHILDREN_MAX];

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static void tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void child_add(pid_t pid)
{
	int i;

	for (i = 0; i < CHILDREN_MAX; i++) {
		if (children[i] <= 0) {
			children[i] = pid;
			return;
		}
	}
}

static void child_forget(pid_t pid)
{
	int i;

	for (i = 0; i < CHILDREN_MAX; i++) {
		if (children[i] == pid)
			children[i] = 0;
	}
}

/*
 * Waits for a child of ours, for at most timeout_ms; on timeout kills it so
 * nothing outlives the test. Returns the wait status or -1 on timeout.
 */
static int child_wait(pid_t pid, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			child_forget(pid);
			return status;
		}
		if (r < 0 && errno != EINTR) {
			child_forget(pid);
			return -1;
		}
		if (now_ms() >= deadline)
			break;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	child_forget(pid);
	return -1;
}

static bool child_running(pid_t pid)
{
	int status;

	return pid > 0 && waitpid(pid, &status, WNOHANG) == 0;
}

/* Async-signal-safe: runs from the signal handler as well as from teardown. */
static void cleanup_all(void)
{
	char path[300];
	size_t i;
	int j;

	for (j = 0; j < CHILDREN_MAX; j++) {
		pid_t pid = children[j];

		if (pid <= 0)
			continue;
		kill(pid, SIGTERM);
		for (i = 0; i < 500 && waitpid(pid, NULL, WNOHANG) == 0; i++)
			usleep(10000);
		if (i == 500) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		children[j] = 0;
	}
	region_pid = -1;
	if (tmpdir[0] == '\0')
		return;
	for (i = 0; i < sizeof(tmp_files) / sizeof(tmp_files[0]); i++) {
		size_t n = strlen(tmpdir);

		memcpy(path, tmpdir, n);
		path[n] = '/';
		strcpy(path + n + 1, tmp_files[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

static void on_signal(int sig)
{
	cleanup_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Starts `region_bin argv...`. stdout always comes back on *out_fd; stderr on
 * *err_fd when err_fd is given, otherwise it goes to the test log.
 */
static pid_t spawn(const char *prog, char *const argv[], int *out_fd, int *err_fd,
		   bool ignore_sigint)
{
	int out[2], errp[2] = {-1, -1};
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0)
		return -1;
	if (err_fd != NULL && pipe2(errp, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (ignore_sigint)
			signal(SIGINT, SIG_IGN);
		dup2(out[1], STDOUT_FILENO);
		if (errp[1] >= 0)
			dup2(errp[1], STDERR_FILENO);
		execv(prog, argv);
		_exit(127);
	}
	close(out[1]);
	if (errp[1] >= 0)
		close(errp[1]);
	if (pid < 0) {
		close(out[0]);
		if (errp[0] >= 0)
			close(errp[0]);
		return -1;
	}
	child_add(pid);
	*out_fd = out[0];
	if (err_fd != NULL)
		*err_fd = errp[0];
	return pid;
}

/* Reads until EOF or the deadline; returns the bytes read. */
static size_t read_all(int fd, char *buf, size_t len, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	ssize_t n;

	while (got + 1 < len) {
		int left = (int)(deadline - now_ms());

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return got;
}

/* Reads one line (without newline) within the deadline; returns 0 or -1. */
static int read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	ssize_t n;
	char c;

	while (got + 1 < len) {
		int left = (int)(deadline - now_ms());

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		n = read(fd, &c, 1);
		if (n <= 0)
			break;
		if (c == '\n') {
			buf[got] = '\0';
			return 0;
		}
		buf[got++] = c;
	}
	buf[got] = '\0';
	return -1;
}

/* Runs isthmus-region with args and returns its exit code, or -1 on timeout/crash. */
static int run(char *const argv[], char *out, size_t outlen, char *errout, size_t errlen)
{
	int out_fd, err_fd, status;
	pid_t pid;

	pid = spawn(region_bin, argv, &out_fd, &err_fd, false);
	assert_true(pid > 0);
	read_all(out_fd, out, outlen, CTL_TIMEOUT_MS);
	read_all(err_fd, errout, errlen, 1000);
	close(out_fd);
	close(err_fd);
	status = child_wait(pid, CTL_TIMEOUT_MS);
	if (status < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* `isthmus-region ctl PATH cmd` with cmd split on spaces; reply has no newline. */
static int ctl(const char *path, const char *cmd, char *reply, size_t len)
{
	char buf[512], errout[1024];
	char *argv[16] = {"isthmus-region", "ctl", (char *)path};
	char *save = NULL, *w;
	int argc = 3, rc;

	snprintf(buf, sizeof(buf), "%s", cmd);
	for (w = strtok_r(buf, " ", &save); w != NULL && argc < 15; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	rc = run(argv, reply, len, errout, sizeof(errout));
	reply[strcspn(reply, "\n")] = '\0';
	if (errout[0] != '\0')
		print_message("ctl %s: stderr: %s", cmd, errout);
	return rc;
}

static void unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sa->sun_path));
	strcpy(sa->sun_path, path);
}

static int sock_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	unix_addr(&sa, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void sock_send(int fd, const char *data, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(fd, data + off, len - off, MSG_NOSIGNAL);
		assert_true(n > 0);
		off += (size_t)n;
	}
}

/* Starts a region with the given extra args and waits for its BOOTSTRAP line. */
static pid_t region_start(char *const argv[], char *boot, size_t bootlen, bool ignore_sigint)
{
	char line[1100];
	int out_fd;
	pid_t pid;

	pid = spawn(region_bin, argv, &out_fd, NULL, ignore_sigint);
	assert_true(pid > 0);
	if (read_line(out_fd, line, sizeof(line), START_TIMEOUT_MS) < 0) {
		close(out_fd);
		print_message("no BOOTSTRAP line from isthmus-region (got '%s')\n", line);
		fail();
	}
	close(out_fd);
	assert_int_equal(strncmp(line, "BOOTSTRAP ", 10), 0);
	assert_true(strlen(line) > 10);
	assert_true(strlen(line + 10) < bootlen);
	strcpy(boot, line + 10);
	return pid;
}

static bool file_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static int group_setup(void **state)
{
	char *argv[] = {"isthmus-region", "--name",   "itest",     "--brokers", "3",
			"--topic",        "orders:4", "--control", ctl_path,    "--bootstrap-file",
			boot_path,        NULL};
	char file[1100];
	FILE *f;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/isthmus-region-test.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		tmpdir[0] = '\0';
		return -1;
	}
	tmp_path(ctl_path, sizeof(ctl_path), "ctl.sock");
	tmp_path(boot_path, sizeof(boot_path), "bootstrap");
	region_pid = region_start(argv, bootstrap, sizeof(bootstrap), false);

	f = fopen(boot_path, "r");
	if (f == NULL || fgets(file, sizeof(file), f) == NULL) {
		print_message("bootstrap file %s missing or empty\n", boot_path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	file[strcspn(file, "\n")] = '\0';
	if (strcmp(file, bootstrap) != 0) {
		print_message("bootstrap file says '%s', stdout said '%s'\n", file, bootstrap);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup_all();
	return 0;
}

static void test_cli_errors(void **state)
{
	char *topic0[] = {"isthmus-region", "--name", "x", "--topic", "orders:0", NULL};
	char *topicx[] = {"isthmus-region", "--name", "x", "--topic", "orders:x", NULL};
	char *unknown[] = {"isthmus-region", "--name", "x", "--bogus", NULL};
	char *help[] = {"isthmus-region", "--help", NULL};
	char *ctl_none[] = {"isthmus-region", "ctl", "/nonexistent/isthmus.sock", "status", NULL};
	char *ctl_usage[] = {"isthmus-region", "ctl", "/nonexistent/isthmus.sock", NULL};
	char out[4096], errout[4096];

	(void)state;
	assert_int_equal(run(topic0, out, sizeof(out), errout, sizeof(errout)), 2);
	assert_non_null(strstr(errout, "orders:0"));
	assert_non_null(strstr(errout, " — "));
	assert_int_equal(run(topicx, out, sizeof(out), errout, sizeof(errout)), 2);
	assert_non_null(strstr(errout, "orders:x"));
	assert_int_equal(run(unknown, out, sizeof(out), errout, sizeof(errout)), 2);
	assert_non_null(strstr(errout, "--bogus"));
	assert_ptr_equal(strchr(errout, '\n'), errout + strlen(errout) - 1);
	assert_int_equal(run(help, out, sizeof(out), errout, sizeof(errout)), 0);
	assert_non_null(strstr(out, "usage:"));
	assert_int_equal(run(ctl_none, out, sizeof(out), errout, sizeof(errout)), 2);
	assert_non_null(strstr(errout, "/nonexistent/isthmus.sock"));
	assert_int_equal(run(ctl_usage, out, sizeof(out), errout, sizeof(errout)), 2);
	assert_non_null(strstr(errout, "usage"));
}

struct dr_count {
	int ok;
	int failed;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	struct dr_count *dc = opaque;

	(void)rk;
	if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR)
		dc->ok++;
	else
		dc->failed++;
}

static rd_kafka_t *client_new(rd_kafka_type_t type, void *opaque)
{
	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;

	assert_int_equal(
		rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)),
		RD_KAFKA_CONF_OK);
	if (type == RD_KAFKA_PRODUCER) {
		rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
		rd_kafka_conf_set_opaque(conf, opaque);
		assert_int_equal(rd_kafka_conf_set(conf, "message.timeout.ms", "20000", errstr,
						   sizeof(errstr)),
				 RD_KAFKA_CONF_OK);
	} else {
		assert_int_equal(rd_kafka_conf_set(conf, "group.id", "isthmus-region-test", errstr,
						   sizeof(errstr)),
				 RD_KAFKA_CONF_OK);
		assert_int_equal(rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr,
						   sizeof(errstr)),
				 RD_KAFKA_CONF_OK);
	}
	rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		print_message("rd_kafka_new: %s\n", errstr);
		fail();
	}
	return rk;
}

static void test_produce_consume(void **state)
{
	struct dr_count dc = {0, 0};
	bool seen[RECORDS] = {false};
	int per_partition[4] = {0};
	rd_kafka_topic_partition_list_t *parts;
	rd_kafka_message_t *msg;
	rd_kafka_t *prod, *cons;
	char key[32], val[64];
	int64_t deadline;
	int i, got = 0, used = 0;

	(void)state;
	prod = client_new(RD_KAFKA_PRODUCER, &dc);
	for (i = 0; i < RECORDS; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		snprintf(val, sizeof(val), "record-%d-payload", i);
		assert_int_equal(rd_kafka_producev(prod, RD_KAFKA_V_TOPIC("orders"),
						   RD_KAFKA_V_KEY(key, strlen(key)),
						   RD_KAFKA_V_VALUE(val, strlen(val)),
						   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
						   RD_KAFKA_V_END),
				 RD_KAFKA_RESP_ERR_NO_ERROR);
	}
	rd_kafka_flush(prod, KAFKA_TIMEOUT_MS);
	rd_kafka_destroy(prod);
	assert_int_equal(dc.failed, 0);
	assert_int_equal(dc.ok, RECORDS);

	cons = client_new(RD_KAFKA_CONSUMER, NULL);
	parts = rd_kafka_topic_partition_list_new(4);
	for (i = 0; i < 4; i++)
		rd_kafka_topic_partition_list_add(parts, "orders", i)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	assert_int_equal(rd_kafka_assign(cons, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
	rd_kafka_topic_partition_list_destroy(parts);

	deadline = now_ms() + KAFKA_TIMEOUT_MS;
	while (got < RECORDS && now_ms() < deadline) {
		msg = rd_kafka_consumer_poll(cons, 200);
		if (msg == NULL)
			continue;
		if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			int idx = -1;

			assert_non_null(msg->key);
			snprintf(key, sizeof(key), "%.*s", (int)msg->key_len,
				 (const char *)msg->key);
			assert_int_equal(sscanf(key, "key-%d", &idx), 1);
			assert_in_range(idx, 0, RECORDS - 1);
			assert_false(seen[idx]);
			snprintf(val, sizeof(val), "record-%d-payload", idx);
			assert_int_equal(msg->len, strlen(val));
			assert_memory_equal(msg->payload, val, msg->len);
			assert_in_range(msg->partition, 0, 3);
			seen[idx] = true;
			per_partition[msg->partition]++;
			got++;
		}
		rd_kafka_message_destroy(msg);
	}
	rd_kafka_consumer_close(cons);
	rd_kafka_destroy(cons);
	assert_int_equal(got, RECORDS);
	/* Keyed records over a 4-partition topic land on more than one partition. */
	for (i = 0; i < 4; i++)
		used += per_partition[i] > 0;
	assert_true(used > 1);
}

static void test_broker_down_up(void **state)
{
	char reply[4096];

	(void)state;
	assert_int_equal(ctl(ctl_path, "broker 1 down", reply, sizeof(reply)), 0);
	assert_string_equal(reply, "ok broker 1 down");
	assert_int_equal(ctl(ctl_path, "status", reply, sizeof(reply)), 0);
	assert_non_null(strstr(reply, "name=itest"));
	assert_non_null(strstr(reply, "brokers=1:down,2:up,3:up"));
	assert_non_null(strstr(reply, "orders:4:3"));
	assert_int_equal(ctl(ctl_path, "broker 1 up", reply, sizeof(reply)), 0);
	assert_string_equal(reply, "ok broker 1 up");
	assert_int_equal(ctl(ctl_path, "status", reply, sizeof(reply)), 0);
	assert_non_null(strstr(reply, "brokers=1:up,2:up,3:up"));
	assert_int_equal(ctl(ctl_path, "broker 2 rtt 25", reply, sizeof(reply)), 0);
	assert_string_equal(reply, "ok broker 2 rtt 25");
	assert_int_equal(ctl(ctl_path, "broker 2 rtt 0", reply, sizeof(reply)), 0);
	assert_int_equal(ctl(ctl_path, "status", reply, sizeof(reply)), 0);
	assert_non_null(strstr(reply, "rtt-ms=1:0,2:0,3:0"));
}

static void test_topic_create(void **state)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt;
	rd_kafka_t *rk;
	char reply[4096];
	rd_kafka_resp_err_t err;

	(void)state;
	assert_int_equal(ctl(ctl_path, "topic create t2 3", reply, sizeof(reply)), 0);
	assert_string_equal(reply, "ok topic create t2:3:3");
	assert_int_equal(ctl(ctl_path, "topic create t2 3", reply, sizeof(reply)), 1);
	assert_int_equal(strncmp(reply, "error: ", 7), 0);
	assert_int_equal(ctl(ctl_path, "status", reply, sizeof(reply)), 0);
	assert_non_null(strstr(reply, "topics=orders:4:3,t2:3:3"));

	rk = client_new(RD_KAFKA_PRODUCER, NULL);
	rkt = rd_kafka_topic_new(rk, "t2", NULL);
	assert_non_null(rkt);
	err = rd_kafka_metadata(rk, 0, rkt, &md, KAFKA_TIMEOUT_MS);
	assert_int_equal(err, RD_KAFKA_RESP_ERR_NO_ERROR);
	assert_int_equal(md->topic_cnt, 1);
	assert_string_equal(md->topics[0].topic, "t2");
	assert_int_equal(md->topics[0].err, RD_KAFKA_RESP_ERR_NO_ERROR);
	assert_int_equal(md->topics[0].partition_cnt, 3);
	assert_int_equal(md->broker_cnt, 3);
	rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
}

/* A topic a client auto-created is in the mock but not in the region's table. */
static void test_topic_create_after_auto_create(void **state)
{
	struct dr_count dc = {0, 0};
	char reply[4096];
	rd_kafka_t *rk;

	(void)state;
	rk = client_new(RD_KAFKA_PRODUCER, &dc);
	assert_int_equal(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("auto1"), RD_KAFKA_V_VALUE("x", 1),
					   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					   RD_KAFKA_V_END),
			 RD_KAFKA_RESP_ERR_NO_ERROR);
	rd_kafka_flush(rk, KAFKA_TIMEOUT_MS);
	rd_kafka_destroy(rk);
	assert_int_equal(dc.ok, 1);
	assert_int_equal(ctl(ctl_path, "topic create auto1 2", reply, sizeof(reply)), 1);
	assert_non_null(strstr(reply, "auto-created"));
	assert_int_equal(ctl(ctl_path, "status", reply, sizeof(reply)), 0);
	assert_null(strstr(reply, "auto1"));
}

static void test_bad_commands(void **state)
{
	static char longline[4000];
	char reply[4096];
	int fd;

	(void)state;
	assert_int_equal(ctl(ctl_path, "frobnicate", reply, sizeof(reply)), 1);
	assert_int_equal(strncmp(reply, "error: unknown command 'frobnicate'", 35), 0);
	assert_non_null(strstr(reply, " — "));
	assert_int_equal(ctl(ctl_path, "broker 9 down", reply, sizeof(reply)), 1);
	assert_non_null(strstr(reply, "1..3"));
	assert_int_equal(ctl(ctl_path, "topic create t9 0", reply, sizeof(reply)), 1);
	assert_int_equal(strncmp(reply, "error: ", 7), 0);
	assert_int_equal(ctl(ctl_path, "broker 1 rtt fast", reply, sizeof(reply)), 1);

	/* Over-long line, then a good command on the same connection. */
	fd = sock_connect(ctl_path);
	assert_true(fd >= 0);
	memset(longline, 'x', sizeof(longline) - 2);
	longline[sizeof(longline) - 2] = '\n';
	sock_send(fd, longline, sizeof(longline) - 1);
	assert_int_equal(read_line(fd, reply, sizeof(reply), CTL_TIMEOUT_MS), 0);
	assert_int_equal(strncmp(reply, "error: command line is longer than", 34), 0);
	/* Pipelined commands get one reply each, in order; blank lines get none. */
	sock_send(fd, "status\r\n\nhelp\nbogus\n", 20);
	assert_int_equal(read_line(fd, reply, sizeof(reply), CTL_TIMEOUT_MS), 0);
	assert_int_equal(strncmp(reply, "ok name=itest", 13), 0);
	assert_int_equal(read_line(fd, reply, sizeof(reply), CTL_TIMEOUT_MS), 0);
	assert_int_equal(strncmp(reply, "ok commands:", 12), 0);
	assert_int_equal(read_line(fd, reply, sizeof(reply), CTL_TIMEOUT_MS), 0);
	assert_int_equal(strncmp(reply, "error: unknown command 'bogus'", 30), 0);
	/* A last command without a newline is still answered after EOF. */
	sock_send(fd, "status", 6);
	shutdown(fd, SHUT_WR);
	assert_int_equal(read_line(fd, reply, sizeof(reply), CTL_TIMEOUT_MS), 0);
	assert_int_equal(strncmp(reply, "ok name=itest", 13), 0);
	close(fd);

	assert_true(child_running(region_pid));
	assert_int_equal(ctl(ctl_path, "status", reply, sizeof(reply)), 0);
}

static void test_many_clients(void **state)
{
	int fds[8];
	char reply[4096];
	int i;

	(void)state;
	for (i = 0; i < 8; i++) {
		fds[i] = sock_connect(ctl_path);
		assert_true(fds[i] >= 0);
	}
	/* Serve out of order: every client gets its own reply. */
	for (i = 7; i >= 0; i--)
		sock_send(fds[i], i % 2 ? "status\n" : "help\n", i % 2 ? 7 : 5);
	for (i = 0; i < 8; i++) {
		assert_int_equal(read_line(fds[i], reply, sizeof(reply), CTL_TIMEOUT_MS), 0);
		assert_int_equal(
			strncmp(reply, i % 2 ? "ok name=" : "ok commands:", i % 2 ? 8 : 12), 0);
		close(fds[i]);
	}
}

static long proc_cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

/* The appliance shares two cores with the regions: an idle region must sleep. */
static void test_idle_does_not_spin(void **state)
{
	long before, after, hz = sysconf(_SC_CLK_TCK);
	int fd;

	(void)state;
	/* An idle connected client must not make the loop spin either. */
	fd = sock_connect(ctl_path);
	assert_true(fd >= 0);
	before = proc_cpu_ticks(region_pid);
	assert_true(before >= 0);
	sleep_ms(2000);
	after = proc_cpu_ticks(region_pid);
	close(fd);
	print_message("idle region used %ld ticks in 2 s (%ld ticks/s)\n", after - before, hz);
	assert_true(after - before < hz / 5);
}

static bool on_path(const char *prog, char *full, size_t len)
{
	const char *path = getenv("PATH");
	char dir[PATH_MAX];
	const char *p, *end;

	for (p = path; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		snprintf(dir, sizeof(dir), "%.*s", (int)(end - p), p);
		snprintf(full, len, "%s/%s", dir[0] ? dir : ".", prog);
		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

static void test_kcat_metadata(void **state)
{
	static char out[65536];
	char kcat[PATH_MAX + 8], errout[4096];
	char *argv[] = {kcat, "-b", bootstrap, "-L", "-m", "15", NULL};
	int out_fd, err_fd, status;
	pid_t pid;

	(void)state;
	if (!on_path("kcat", kcat, sizeof(kcat))) {
		print_message("kcat not on PATH, skipping\n");
		skip();
	}
	pid = spawn(kcat, argv, &out_fd, &err_fd, false);
	assert_true(pid > 0);
	read_all(out_fd, out, sizeof(out), KAFKA_TIMEOUT_MS);
	read_all(err_fd, errout, sizeof(errout), 1000);
	close(out_fd);
	close(err_fd);
	status = child_wait(pid, KAFKA_TIMEOUT_MS);
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		print_message("kcat failed (status %d): %s\n%s\n", status, out, errout);
	assert_true(status >= 0 && WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_non_null(strstr(out, "3 brokers"));
	assert_non_null(strstr(out, "topic \"orders\" with 4 partitions"));
	assert_non_null(strstr(out, "topic \"t2\" with 3 partitions"));
}

static void test_second_instance_refused(void **state)
{
	char *argv[] = {"isthmus-region", "--name", "dup", "--control", ctl_path, NULL};
	char out[4096], errout[4096], reply[4096];

	(void)state;
	assert_int_equal(run(argv, out, sizeof(out), errout, sizeof(errout)), 1);
	assert_non_null(strstr(errout, "another isthmus-region is serving"));
	assert_non_null(strstr(errout, ctl_path));
	assert_null(strstr(out, "BOOTSTRAP"));
	/* The refused instance must not have taken the socket away from the live one. */
	assert_int_equal(ctl(ctl_path, "status", reply, sizeof(reply)), 0);
}

static void test_control_path_not_socket(void **state)
{
	char path[300], out[4096], errout[4096];
	char *argv[] = {"isthmus-region", "--name", "blk", "--control", path, NULL};
	int fd;

	(void)state;
	tmp_path(path, sizeof(path), "blocker");
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(run(argv, out, sizeof(out), errout, sizeof(errout)), 1);
	assert_non_null(strstr(errout, "is not a socket"));
	assert_true(file_exists(path));
	unlink(path);
}

/* Also covers a region started with SIGINT ignored, as `cmd &` in a script does. */
static void test_stale_socket_replaced(void **state)
{
	char sock[300], boot[300], bs[1024], reply[4096];
	char *argv[] = {"isthmus-region",   "--name", "stale", "--brokers", "1", "--control", sock,
			"--bootstrap-file", boot,     NULL};
	struct sockaddr_un sa;
	int fd, status;
	pid_t pid;

	(void)state;
	tmp_path(sock, sizeof(sock), "stale.sock");
	tmp_path(boot, sizeof(boot), "stale.boot");
	/* What a SIGKILLed server leaves: a bound socket file nobody listens on. */
	unix_addr(&sa, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_true(file_exists(sock));

	pid = region_start(argv, bs, sizeof(bs), true);
	assert_int_equal(ctl(sock, "status", reply, sizeof(reply)), 0);
	assert_non_null(strstr(reply, "name=stale brokers=1:up"));
	assert_true(file_exists(boot));
	assert_int_equal(kill(pid, SIGINT), 0);
	status = child_wait(pid, EXIT_TIMEOUT_MS);
	assert_true(status >= 0 && WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_false(file_exists(sock));
	assert_false(file_exists(boot));
}

static void test_quit_command(void **state)
{
	char sock[300], boot[300], bs[1024], reply[4096];
	char *argv[] = {"isthmus-region",   "--name", "q", "--rtt-ms", "5", "--control", sock,
			"--bootstrap-file", boot,     NULL};
	int status;
	pid_t pid;

	(void)state;
	tmp_path(sock, sizeof(sock), "quit.sock");
	tmp_path(boot, sizeof(boot), "quit.boot");
	pid = region_start(argv, bs, sizeof(bs), false);
	assert_int_equal(ctl(sock, "status", reply, sizeof(reply)), 0);
	assert_non_null(strstr(reply, "rtt-ms=1:5,2:5,3:5"));
	assert_int_equal(ctl(sock, "quit", reply, sizeof(reply)), 0);
	assert_string_equal(reply, "ok quit");
	status = child_wait(pid, EXIT_TIMEOUT_MS);
	assert_true(status >= 0 && WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_false(file_exists(sock));
	assert_false(file_exists(boot));
	/* A gone server is "unreachable", exit 2, naming the socket. */
	assert_int_equal(ctl(sock, "status", reply, sizeof(reply)), 2);
}

static void test_sigterm_clean_exit(void **state)
{
	int status;

	(void)state;
	assert_true(child_running(region_pid));
	assert_int_equal(kill(region_pid, SIGTERM), 0);
	status = child_wait(region_pid, EXIT_TIMEOUT_MS);
	region_pid = -1;
	assert_true(status >= 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_false(file_exists(ctl_path));
	assert_false(file_exists(boot_path));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_errors),
		cmocka_unit_test(test_produce_consume),
		cmocka_unit_test(test_broker_down_up),
		cmocka_unit_test(test_topic_create),
		cmocka_unit_test(test_topic_create_after_auto_create),
		cmocka_unit_test(test_bad_commands),
		cmocka_unit_test(test_many_clients),
		cmocka_unit_test(test_idle_does_not_spin),
		cmocka_unit_test(test_kcat_metadata),
		cmocka_unit_test(test_second_instance_refused),
		cmocka_unit_test(test_control_path_not_socket),
		cmocka_unit_test(test_stale_socket_replaced),
		cmocka_unit_test(test_quit_command),
		cmocka_unit_test(test_sigterm_clean_exit),
	};
	struct sigaction sa = {.sa_handler = on_signal};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-isthmus-region\n", argv[0]);
		return 2;
	}
	region_bin = argv[1];
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	atexit(cleanup_all);
	return cmocka_run_group_tests_name("region_integration", tests, group_setup,
					   group_teardown);
}
