/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The `ctl` client shared by the harness's servers (isthmus-region,
 * isthmus-wanem): send one command line to a Unix stream socket, print the
 * one-line reply. Exit status: 0 for `ok ...`, 1 for `error: ...`, 2 for bad
 * usage, an unreachable socket or no reply in time (one line on stderr).
 *
 * Threading: a process's main(), nothing else running.
 */
#ifndef ISTHMUS_LINECTL_H
#define ISTHMUS_LINECTL_H

#include <stddef.h>

struct ist_linectl {
	const char *prog;        /**< name in messages, e.g. "isthmus-region" */
	const char *example_cmd; /**< a command for the usage hint, e.g. "status" */
	const char *help;        /**< appended to the usage line, or NULL */
	size_t line_max;         /**< longest command line, newline included */
	size_t reply_max;        /**< longest reply, newline included */
	int timeout_s;           /**< bound on connect-send-reply */
};

/** Run `PROG ctl PATH COMMAND...` (argv[1] is "ctl"). @return the exit status. */
int ist_linectl_main(const struct ist_linectl *c, int argc, char **argv);

#endif /* ISTHMUS_LINECTL_H */
