/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Allocation for the link transport's pure-logic modules.
 *
 * Every module (rxwin, txwin, reasm, credit) sizes its memory once from the
 * configuration and takes it in one allocation at create time, never on the
 * hot path. The caller chooses where that memory comes from: pass a
 * struct ist_link_alloc wrapping rte_zmalloc_socket() on the lcore's NUMA
 * node in the data plane, or NULL for plain aligned_alloc() (unit tests,
 * tools).
 *
 * Threading: none of its own; create and free run on the mgmt thread or at
 * start-up, before the owning lcore starts polling.
 */
#ifndef ISTHMUS_LINK_MEM_H
#define ISTHMUS_LINK_MEM_H

#include <stddef.h>

/** Cache line size the modules align their hot state to. */
#define IST_LINK_ALIGN 64

/** Round x up to a multiple of IST_LINK_ALIGN. */
#define IST_LINK_ALIGN_UP(x) (((x) + IST_LINK_ALIGN - 1) & ~(size_t)(IST_LINK_ALIGN - 1))

/** A caller-supplied allocator; must return zeroed memory aligned to `align`. */
struct ist_link_alloc {
	void *(*zalloc)(void *arg, size_t size, size_t align);
	void (*free)(void *arg, void *ptr);
	void *arg;
};

/**
 * Zeroed, IST_LINK_ALIGN-aligned memory from `a`, or from aligned_alloc()
 * when `a` is NULL.
 *
 * @locality mgmt thread / start-up
 * @return the memory, or NULL (errno ENOMEM).
 */
void *ist_link_mem_zalloc(const struct ist_link_alloc *a, size_t size);

/** Give back memory from ist_link_mem_zalloc() with the same allocator. */
void ist_link_mem_free(const struct ist_link_alloc *a, void *ptr);

#endif /* ISTHMUS_LINK_MEM_H */
