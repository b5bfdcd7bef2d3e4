/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ist_link_mem.h"

void *ist_link_mem_zalloc(const struct ist_link_alloc *a, size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	size = IST_LINK_ALIGN_UP(size);
	if (a != NULL && a->zalloc != NULL) {
		p = a->zalloc(a->arg, size, IST_LINK_ALIGN);
		if (p == NULL)
			errno = ENOMEM;
		return p;
	}
	/* aligned_alloc() wants the size to be a multiple of the alignment. */
	p = aligned_alloc(IST_LINK_ALIGN, size);
	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(p, 0, size);
	return p;
}

void ist_link_mem_free(const struct ist_link_alloc *a, void *ptr)
{
	if (ptr == NULL)
		return;
	if (a != NULL && a->free != NULL)
		a->free(a->arg, ptr);
	else
		free(ptr);
}
