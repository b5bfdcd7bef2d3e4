/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small helpers the perf tools share (isthmus-loadgen, isthmus-e2e-lag):
 * strict number parsing and the one-line usage error.
 */
#ifndef ISTHMUS_PERF_TOOL_UTIL_H
#define ISTHMUS_PERF_TOOL_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/** Decimal digits only, at most @p max. */
static inline bool ist_tool_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

/** Print "PROG: <message> — see PROG --help" and return 2 from the caller. */
#define IST_TOOL_USAGE_ERR(prog, ...)                        \
	do {                                                 \
		fprintf(stderr, prog ": ");                  \
		fprintf(stderr, __VA_ARGS__);                \
		fprintf(stderr, " — see " prog " --help\n"); \
		return 2;                                    \
	} while (0)

#endif /* ISTHMUS_PERF_TOOL_UTIL_H */
