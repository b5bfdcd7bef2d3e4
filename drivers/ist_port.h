/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Port set-up for any DPDK PMD: a physical NIC by PCI address, or a virtual
 * device by vdev string (net_memif, net_ring, net_tap, net_af_packet...).
 *
 * Threading: @locality main thread, at start-up and shutdown.
 */
#ifndef ISTHMUS_PORT_H
#define ISTHMUS_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ist_cfg_port;
struct rte_mempool;

/** True when @p device is a PCI address (DDDD:BB:DD.F or BB:DD.F). */
bool ist_port_is_pci(const char *device);

/** The ethdev name DPDK gives the device: the vdev name before ',' or the PCI address. */
void ist_port_dev_name(const char *device, char *name, size_t len);

/**
 * Find, configure and start the port of @p p (probed by the EAL via --vdev/-a).
 * @param port_id out: the DPDK port id
 * @param err out: one line naming the port, the failing step and the fix
 * @return 0 or -errno.
 */
int ist_port_setup(const struct ist_cfg_port *p, struct rte_mempool *pool, uint16_t *port_id,
		   char *err, size_t errlen);

/**
 * Start a configured port. Kept apart from ist_port_setup() because a link
 * port may fail to start only because its peer is not there yet (a memif
 * client before its server): the caller retries that one.
 * @return 0 or -errno, with @p err naming the port and the fix.
 */
int ist_port_start(const struct ist_cfg_port *p, uint16_t port_id, char *err, size_t errlen);

/**
 * Does this port stay down until it is restarted? True for memif clients:
 * DPDK 22.11's memif client connects only in dev_start, and not again
 * after its server goes away.
 */
bool ist_port_needs_restart_to_reconnect(const struct ist_cfg_port *p);

/** Stop and close a port set up by ist_port_setup(). */
void ist_port_close(uint16_t port_id);

#endif /* ISTHMUS_PORT_H */
