/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ist_linectl.h"

static int fail(const struct ist_linectl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(const struct ist_linectl *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

/* Join argv[3..] into one newline-terminated line. @return its length, or 0 after an error. */
static size_t build_line(const struct ist_linectl *c, int argc, char **argv, char *line, int *rc)
{
	size_t len = 0;

	for (int i = 3; i < argc; i++) {
		size_t alen = strlen(argv[i]);

		if (strpbrk(argv[i], "\r\n") != NULL) {
			*rc = fail(
				c,
				"command argument %d has a line break; send one command per call",
				i - 2);
			return 0;
		}
		if (len + alen + 2 > c->line_max) {
			*rc = fail(c, "command is longer than %zu bytes; send a shorter command",
				   c->line_max - 2);
			return 0;
		}
		if (len > 0)
			line[len++] = ' ';
		memcpy(line + len, argv[i], alen);
		len += alen;
	}
	line[len] = '\0';
	if (strspn(line, " \t") == len) {
		*rc = fail(c, "empty command (e.g. %s ctl %s %s)", c->prog, argv[2],
			   c->example_cmd);
		return 0;
	}
	line[len++] = '\n';
	return len;
}

int ist_linectl_main(const struct ist_linectl *c, int argc, char **argv)
{
	const struct timeval tmo = {.tv_sec = c->timeout_s};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *line, *reply;
	const char *path;
	size_t len, got = 0;
	ssize_t n;
	int fd, rc = 2;

	if (argc < 4)
		return fail(c, "usage: %s ctl PATH COMMAND... (e.g. %s ctl /tmp/ctl.sock %s)%s%s",
			    c->prog, c->prog, c->example_cmd, c->help ? "; " : "",
			    c->help ? c->help : "");
	path = argv[2];
	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(c, "control socket path %s is too long; use a shorter path", path);
	memcpy(sa.sun_path, path, strlen(path));
	line = malloc(c->line_max);
	reply = malloc(c->reply_max + 1);
	if (line == NULL || reply == NULL) {
		free(line);
		free(reply);
		return fail(c, "out of memory");
	}
	len = build_line(c, argc, argv, line, &rc);
	if (len == 0)
		goto out;
	signal(SIGPIPE, SIG_IGN);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = fail(c, "socket(): %s; check the file descriptor limit", strerror(errno));
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = fail(c,
			  "cannot reach control socket %s: %s; start %s with --control %s, or "
			  "check the path",
			  path, strerror(errno), c->prog, path);
		goto out_fd;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	for (size_t off = 0; off < len; off += (size_t)n) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0) {
			rc = fail(c,
				  "cannot send to control socket %s: %s; check that %s is still "
				  "running",
				  path, strerror(errno), c->prog);
			goto out_fd;
		}
	}
	while (got < c->reply_max && memchr(reply, '\n', got) == NULL) {
		n = recv(fd, reply + got, c->reply_max - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : 0;

			if (e == EAGAIN || e == EWOULDBLOCK)
				rc = fail(c,
					  "no reply from %s within %d s; check that %s is not "
					  "stopped or overloaded",
					  path, c->timeout_s, c->prog);
			else
				rc = fail(c,
					  "control socket %s closed without a reply%s%s; check "
					  "%s's log",
					  path, e ? ": " : "", e ? strerror(e) : "", c->prog);
			goto out_fd;
		}
		got += (size_t)n;
	}
	reply[got] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	puts(reply);
	if (strcmp(reply, "ok") == 0 || strncmp(reply, "ok ", 3) == 0)
		rc = 0;
	else if (strncmp(reply, "error:", 6) == 0)
		rc = 1;
out_fd:
	close(fd);
out:
	free(line);
	free(reply);
	return rc;
}
