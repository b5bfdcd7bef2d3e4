/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Control's log: one line per event on stderr, "<UTC time> isthmus-control: <message>".
 *
 * Threading: may run on any thread; each line is formatted first and written
 * with one fputs() so lines from the Kafka health threads do not interleave.
 *
 * Callers log state changes, not states: a data plane that stays down is
 * logged once when it goes down and once when it comes back.
 */
#ifndef ISTHMUS_CONTROL_LOG_H
#define ISTHMUS_CONTROL_LOG_H

#include <stdint.h>

/** Log one line; the format must not end with a newline. */
void ist_ctl_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Silence (or re-enable) the log; tests use it to keep their output readable. */
void ist_ctl_log_set_quiet(int quiet);

/**
 * Format @p wall_ms (ms since the epoch) as "2024-05-01T12:00:00.123Z".
 * @return @p buf.
 */
char *ist_ctl_time_iso(uint64_t wall_ms, char *buf, unsigned int len);

#endif /* ISTHMUS_CONTROL_LOG_H */
