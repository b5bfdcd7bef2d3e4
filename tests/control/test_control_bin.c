/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The built executables, as an operator meets them: isthmus-control's exit
 * codes and one-line start-up errors, running without a data plane, picking
 * one up when it appears, a clean exit on SIGTERM; the isthmus CLI's verbs,
 * usage errors and its "cannot reach" line.
 *
 * usage: test_control_bin PATH/isthmus-control PATH/isthmus
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixtures.h"

#define WAIT_MS 10000

static const char *control_bin;
static const char *cli_bin;
/* The isthmus-control under test, killed by the teardown if a test fails midway. */
static pid_t control_pid;

struct run {
	int status; /* exit code, or 128+signal, or -1 on timeout */
	char *out;
	char *err;
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL)
		return strdup("");
	buf = calloc(1, 1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static pid_t spawn(char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();

	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(o, 1);
		dup2(e, 2);
		/* The API is local: keep proxies from the environment out of it. */
		setenv("NO_PROXY", "*", 1);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Wait for @p pid up to @p ms; kill it if it does not end. @return exit status as in struct run. */
static int reap(pid_t pid, unsigned int ms)
{
	uint64_t deadline = fx_now_ms() + ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (fx_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(10000);
	}
}

static void run(struct run *r, char *const argv[])
{
	const char *out = fx_path(2, "run.out"), *err = fx_path(3, "run.err");
	pid_t pid = spawn(argv, out, err);

	assert_true(pid > 0);
	r->status = reap(pid, WAIT_MS);
	r->out = slurp(out);
	r->err = slurp(err);
	unlink(out);
	unlink(err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static uint16_t free_port(int *keep_fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	if (keep_fd != NULL)
		*keep_fd = fd;
	else
		close(fd);
	return ntohs(sa.sin_port);
}

static bool port_open(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

	close(fd);
	return ok;
}

static const char *write_config(uint16_t port)
{
	const char *path = fx_path(1, "control.conf");
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f,
		"[appliance]\nid = bin-app\nregion = bin-reg\n\n"
		"[control]\nsocket = %s/dp.sock\nhttp_listen = 127.0.0.1:%u\n"
		"status_interval_ms = 100\n\n"
		"[lcore 0]\nroles = link-rx\n",
		fx_tmpdir(), port);
	fclose(f);
	return path;
}

static int group_setup(void **state)
{
	(void)state;
	return fx_tmpdir() != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
	int st;

	(void)state;
	if (control_pid > 0) {
		kill(control_pid, SIGKILL);
		waitpid(control_pid, &st, 0);
		control_pid = 0;
	}
	fx_tmpdir_cleanup();
	return 0;
}

static void test_control_usage(void **state)
{
	struct run r;

	(void)state;
	run(&r, (char *const[]){(char *)control_bin, NULL});
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err,
			    "isthmus-control: -c FILE is required: see isthmus-control --help\n");
	run_free(&r);

	run(&r, (char *const[]){(char *)control_bin, "--frob", NULL});
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "isthmus-control: unknown option '--frob': see isthmus-control "
				   "--help\n");
	run_free(&r);

	run(&r, (char *const[]){(char *)control_bin, "--help", NULL});
	assert_int_equal(r.status, 0);
	assert_true(strncmp(r.out, "usage: isthmus-control -c FILE\n", 31) == 0);
	run_free(&r);

	run(&r, (char *const[]){(char *)control_bin, "--version", NULL});
	assert_int_equal(r.status, 0);
	assert_true(strncmp(r.out, "isthmus-control ", 16) == 0);
	run_free(&r);
}

static void test_control_config_error(void **state)
{
	const char *bad = fx_path(1, "bad.conf");
	FILE *f = fopen(bad, "w");
	struct run r;

	(void)state;
	assert_non_null(f);
	fprintf(f, "[appliance]\nid = x\nregion = y\n[control]\nhttp_listen = nowhere\n"
		   "[lcore 0]\nroles = link-rx\n");
	fclose(f);
	run(&r, (char *const[]){(char *)control_bin, "-c", (char *)bad, NULL});
	assert_int_equal(r.status, 2);
	/* The loader's one line, prefixed. */
	assert_true(strncmp(r.err, "isthmus-control: ", 17) == 0);
	assert_non_null(strstr(r.err, "http_listen"));
	assert_non_null(strchr(r.err, '\n'));
	assert_int_equal(strchr(r.err, '\n')[1], '\0');
	run_free(&r);
	unlink(bad);

	run(&r, (char *const[]){(char *)control_bin, "-c", "/nonexistent/isthmus.conf", NULL});
	assert_int_equal(r.status, 2);
	assert_true(strncmp(r.err, "isthmus-control: ", 17) == 0);
	run_free(&r);
}

static void test_control_port_in_use(void **state)
{
	char want[512];
	const char *cfg;
	struct run r;
	uint16_t port;
	int busy;

	(void)state;
	port = free_port(&busy);
	cfg = write_config(port);
	run(&r, (char *const[]){(char *)control_bin, "-c", (char *)cfg, NULL});
	close(busy);
	assert_int_equal(r.status, 1);
	snprintf(
		want, sizeof(want),
		"isthmus-control: cannot listen on 127.0.0.1:%u (Address already in use): stop the "
		"other process or change control.http_listen in %s\n",
		port, cfg);
	assert_string_equal(r.err, want);
	run_free(&r);
}

static void test_cli_unreachable_and_usage(void **state)
{
	char api[64], want[512];
	const char *cfg;
	struct run r;
	uint16_t port;

	(void)state;
	port = free_port(NULL);
	snprintf(api, sizeof(api), "http://127.0.0.1:%u", port);
	run(&r, (char *const[]){(char *)cli_bin, "--api", api, "status", NULL});
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof(want),
		 "isthmus: cannot reach isthmus-control at %s (Connection refused): is "
		 "isthmus-control running? start it with isthmus-control -c FILE\n",
		 api);
	assert_string_equal(r.err, want);
	run_free(&r);

	/* With -c, the address comes from the file, which the hint then names. */
	cfg = write_config(port);
	run(&r, (char *const[]){(char *)cli_bin, "-c", (char *)cfg, "pause", NULL});
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof(want),
		 "isthmus: cannot reach isthmus-control at %s (Connection refused): is "
		 "isthmus-control running? start it with isthmus-control -c %s\n",
		 api, cfg);
	assert_string_equal(r.err, want);
	run_free(&r);

	run(&r, (char *const[]){(char *)cli_bin, "bogus", NULL});
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "isthmus: unknown verb 'bogus': see isthmus --help\n");
	run_free(&r);

	run(&r, (char *const[]){(char *)cli_bin, "status", "--bogus", NULL});
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "isthmus: unknown option '--bogus' for status (it takes "
				   "--json): see isthmus --help\n");
	run_free(&r);

	run(&r, (char *const[]){(char *)cli_bin, "--help", NULL});
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "idle-sleep --us N"));
	run_free(&r);

	run(&r, (char *const[]){(char *)cli_bin, "help", "status", NULL});
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "--json"));
	run_free(&r);

	run(&r, (char *const[]){(char *)cli_bin, "pause", "--help", NULL});
	assert_int_equal(r.status, 0);
	assert_true(strncmp(r.out, "usage: isthmus [--api URL | -c FILE] pause", 42) == 0);
	run_free(&r);
}

static void test_control_end_to_end(void **state)
{
	char out[256], err[256], api[64], sock[256], *log, *line;
	struct fake_dp *fake = NULL;
	const char *cfg;
	json_error_t jerr;
	json_t *doc;
	struct run r;
	uint16_t port;
	uint64_t t0;
	pid_t pid;
	int st, not_reachable = 0;

	(void)state;
	/* Copies: fx_path() slots are reused by run(). */
	snprintf(out, sizeof(out), "%s", fx_path(2, "control.out"));
	snprintf(err, sizeof(err), "%s", fx_path(3, "control.err"));
	port = free_port(NULL);
	cfg = write_config(port);
	snprintf(api, sizeof(api), "http://127.0.0.1:%u", port);
	snprintf(sock, sizeof(sock), "%s/dp.sock", fx_tmpdir());
	pid = spawn((char *const[]){(char *)control_bin, "-c", (char *)cfg, NULL}, out, err);
	assert_true(pid > 0);
	control_pid = pid;

	t0 = fx_now_ms();
	while (!port_open(port)) {
		if (fx_now_ms() - t0 > WAIT_MS || waitpid(pid, &st, WNOHANG) == pid) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			log = slurp(err);
			fail_msg("isthmus-control did not come up: %s", log);
		}
		usleep(20000);
	}

	/* No data plane: control runs and says so. */
	run(&r, (char *const[]){(char *)cli_bin, "--api", api, "status", NULL});
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "appliance  bin-app (region bin-reg)\n"));
	assert_non_null(strstr(r.out, "dataplane  disconnected since "));
	run_free(&r);

	run(&r, (char *const[]){(char *)cli_bin, "-c", (char *)cfg, "pause", NULL});
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "HTTP 503"));
	assert_non_null(strstr(r.err, "disconnected"));
	run_free(&r);

	/* A data plane appears: control connects and relays commands. */
	fake = fake_dp_start(sock);
	assert_non_null(fake);
	t0 = fx_now_ms();
	for (;;) {
		run(&r,
		    (char *const[]){(char *)cli_bin, "-c", (char *)cfg, "status", "--json", NULL});
		assert_int_equal(r.status, 0);
		doc = json_loads(r.out, 0, &jerr);
		assert_non_null(doc);
		if (json_is_true(json_object_get(json_object_get(doc, "dataplane"), "connected")) &&
		    json_array_size(json_object_get(json_object_get(doc, "dataplane"), "lcores")) ==
			    2) {
			json_decref(doc);
			run_free(&r);
			break;
		}
		json_decref(doc);
		run_free(&r);
		if (fx_now_ms() - t0 > WAIT_MS) {
			fake_dp_stop(fake);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			fail_msg("control did not connect to the fake data plane");
		}
		usleep(100000);
	}
	run(&r, (char *const[]){(char *)cli_bin, "-c", (char *)cfg, "idle-sleep", "--us", "300",
				"--lcore", "1", NULL});
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "idle-sleep lcore 1: applied on 2 lcores\n");
	run_free(&r);
	run(&r, (char *const[]){(char *)cli_bin, "-c", (char *)cfg, "status", NULL});
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "dataplane  connected since "));
	assert_non_null(strstr(r.out, "link-rx,link-tx"));
	run_free(&r);
	fake_dp_stop(fake);

	/* SIGTERM: a clean exit 0. */
	kill(pid, SIGTERM);
	st = reap(pid, WAIT_MS);
	control_pid = 0;
	assert_int_equal(st, 0);
	assert_false(port_open(port));

	/* One line per event, each stamped; the outage is logged once, not per retry. */
	log = slurp(err);
	for (line = strtok(log, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (strlen(line) < 25 || line[4] != '-' || line[10] != 'T' ||
		    strncmp(line + 24, " isthmus-control: ", 18) != 0)
			fail_msg("log line not in the form '<time> isthmus-control: ...': %s",
				 line);
		if (strstr(line, "dataplane: not reachable") != NULL)
			not_reachable++;
	}
	assert_int_equal(not_reachable, 1);
	free(log);
	unlink(out);
	unlink(err);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_usage),
		cmocka_unit_test(test_control_config_error),
		cmocka_unit_test(test_control_port_in_use),
		cmocka_unit_test(test_cli_unreachable_and_usage),
		cmocka_unit_test(test_control_end_to_end),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s PATH/isthmus-control PATH/isthmus\n", argv[0]);
		return 2;
	}
	control_bin = argv[1];
	cli_bin = argv[2];
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("control-bin", tests, group_setup, group_teardown);
}
