/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Core-map files for unit tests (tests/unit, tests/rules): a temp dir per
 * test group, numbered files written into it, and the environment the
 * example core maps expand.
 */
#ifndef ISTHMUS_TEST_CONF_FIXTURE_H
#define ISTHMUS_TEST_CONF_FIXTURE_H

#include <limits.h>

/** Path of the file the last ist_test_conf_write() wrote. */
extern char ist_test_conf_path[PATH_MAX];

/** Make the temp dir (named after @p what) and set the examples' variables. @return 0 or -1. */
int ist_test_conf_setup(const char *what);

/** The temp dir. */
const char *ist_test_conf_dir(void);

/** Remove the temp dir and everything in it. @return 0 or -1. */
int ist_test_conf_teardown(void);

/** Write @p text to a fresh file in the temp dir. @return its path, or NULL. */
const char *ist_test_conf_write(const char *text);

#endif /* ISTHMUS_TEST_CONF_FIXTURE_H */
