/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static volatile int log_quiet;

void ist_ctl_log_set_quiet(int quiet)
{
	log_quiet = quiet;
}

char *ist_ctl_time_iso(uint64_t wall_ms, char *buf, unsigned int len)
{
	time_t secs = (time_t)(wall_ms / 1000u);
	struct tm tm;
	char day[32];

	gmtime_r(&secs, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", day, (unsigned int)(wall_ms % 1000u));
	return buf;
}

void ist_ctl_log(const char *fmt, ...)
{
	struct timespec ts;
	char when[40], line[1024];
	va_list ap;
	int n;

	if (log_quiet)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ist_ctl_time_iso((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u, when,
			 sizeof(when));
	n = snprintf(line, sizeof(line), "%s isthmus-control: ", when);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}
