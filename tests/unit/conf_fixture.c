/* SPDX-License-Identifier: BSD-3-Clause */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "conf_fixture.h"

char ist_test_conf_path[PATH_MAX];
static char tmpdir[PATH_MAX];
static unsigned int file_seq;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int ist_test_conf_setup(const char *what)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/isthmus-test-%s-XXXXXX",
		 base != NULL && *base != '\0' ? base : "/tmp", what);
	if (mkdtemp(tmpdir) == NULL) {
		tmpdir[0] = '\0';
		return -1;
	}
	/* The example core maps read these from the environment. */
	setenv("ISTHMUS_REGION_A_BOOTSTRAP", "127.0.0.1:19092", 1);
	setenv("ISTHMUS_REGION_B_BOOTSTRAP", "127.0.0.1:29092", 1);
	setenv("ISTHMUS_LINK_KEY_FILE", "/run/isthmus/link.key", 1);
	setenv("ISTHMUS_SYNTH_DIR", "/run/isthmus", 1);
	setenv("ISTHMUS_RUN_DIR", "/run/isthmus", 1);
	setenv("ISTHMUS_HTTP_PORT_A", "9641", 1);
	setenv("ISTHMUS_HTTP_PORT_B", "9642", 1);
	setenv("ISTHMUS_LINK_SOCKET_A", "/run/isthmus/a.sock", 1);
	setenv("ISTHMUS_LINK_SOCKET_B", "/run/isthmus/b.sock", 1);
	return 0;
}

const char *ist_test_conf_dir(void)
{
	return tmpdir;
}

int ist_test_conf_teardown(void)
{
	if (tmpdir[0] == '\0')
		return 0;
	return nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

const char *ist_test_conf_write(const char *text)
{
	FILE *f;

	snprintf(ist_test_conf_path, sizeof(ist_test_conf_path), "%s/map%03u.conf", tmpdir,
		 file_seq++);
	f = fopen(ist_test_conf_path, "w");
	if (f == NULL)
		return NULL;
	if (fputs(text, f) < 0) {
		fclose(f);
		return NULL;
	}
	return fclose(f) == 0 ? ist_test_conf_path : NULL;
}
