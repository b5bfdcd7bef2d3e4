/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Human-readable `isthmus status`: turns control's /status document into
 * aligned text. Tolerant of missing fields (an older or newer control),
 * which print as "-".
 *
 * Threading: @locality any thread.
 */
#ifndef ISTHMUS_CONTROL_CLI_PRINT_H
#define ISTHMUS_CONTROL_CLI_PRINT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/** Print the status document @p doc to @p out. */
void ist_cli_print_status(FILE *out, const json_t *doc);

/** Format a duration in ms as "45s", "3m07s", "2h03m", "4d02h". @return @p buf. */
char *ist_cli_duration(uint64_t ms, char *buf, size_t len);

#endif /* ISTHMUS_CONTROL_CLI_PRINT_H */
