/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus-config-doc: print docs/CONFIG.md from the settings table, or check a
 * core map: `isthmus-config-doc --check FILE` exits 0, or 2 with the error.
 */
#include <stdio.h>
#include <string.h>

#include "ist_config.h"

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--check") == 0) {
		static struct ist_config cfg;
		char err[512];

		if (ist_config_load(argv[2], &cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			return IST_EXIT_CONFIG;
		}
		printf("%s: ok\n", argv[2]);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: isthmus-config-doc [--check FILE]\n");
		return IST_EXIT_CONFIG;
	}
	return ist_config_write_doc(stdout) == 0 ? 0 : 1;
}
