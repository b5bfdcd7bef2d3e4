/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include "ist_role.h"

#define IST_ROLE_MAX 16

static const struct ist_role_ops *roles[IST_ROLE_MAX];
static unsigned int n_roles;

void ist_role_register(const struct ist_role_ops *ops)
{
	if (n_roles < IST_ROLE_MAX)
		roles[n_roles++] = ops;
}

const struct ist_role_ops *ist_role_find(const char *name)
{
	for (unsigned int i = 0; i < n_roles; i++)
		if (strcmp(roles[i]->name, name) == 0)
			return roles[i];
	return NULL;
}

void ist_role_list(char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n_roles && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%s", i ? ", " : "", roles[i]->name);
}
