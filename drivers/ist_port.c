/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "ist_config.h"
#include "ist_port.h"

bool ist_port_is_pci(const char *d)
{
	unsigned int dom, bus, dev, fn;
	char tail;

	if (sscanf(d, "%x:%x:%x.%u%c", &dom, &bus, &dev, &fn, &tail) == 4)
		return isxdigit((unsigned char)d[0]) && fn < 8;
	if (sscanf(d, "%x:%x.%u%c", &bus, &dev, &fn, &tail) == 3)
		return isxdigit((unsigned char)d[0]) && fn < 8;
	return false;
}

void ist_port_dev_name(const char *device, char *name, size_t len)
{
	size_t n = strcspn(device, ",");

	if (n >= len)
		n = len - 1;
	memcpy(name, device, n);
	name[n] = '\0';
}

int ist_port_setup(const struct ist_cfg_port *p, struct rte_mempool *pool, uint16_t *port_id,
		   char *err, size_t errlen)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t pid;
	int rc, sock;

	ist_port_dev_name(p->device, name, sizeof(name));
	rc = rte_eth_dev_get_port_by_name(name, &pid);
	if (rc != 0) {
		snprintf(err, errlen,
			 "port %s: device '%s' was not probed by DPDK; check "
			 "port %s.device (PCI address bound to vfio-pci, or a vdev "
			 "string such as net_memif0,role=server)",
			 p->name, name, p->name);
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: cannot read device info (%s)", p->name,
			 strerror(-rc));
		return rc;
	}
	if (p->rx_queues > info.max_rx_queues || p->tx_queues > info.max_tx_queues) {
		snprintf(err, errlen,
			 "port %s (%s): %u rx / %u tx queues asked, the device has at "
			 "most %u / %u; lower port %s.rx_queues / tx_queues",
			 p->name, info.driver_name, p->rx_queues, p->tx_queues, info.max_rx_queues,
			 info.max_tx_queues, p->name);
		return -EINVAL;
	}
	rc = rte_eth_dev_configure(pid, p->rx_queues, p->tx_queues, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "port %s (%s): configure failed (%s)", p->name,
			 info.driver_name, strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_set_mtu(pid, p->mtu);
	if (rc != 0 && rc != -ENOTSUP) {
		snprintf(err, errlen,
			 "port %s (%s): MTU %u refused (%s); set port %s.mtu within "
			 "%u..%u",
			 p->name, info.driver_name, p->mtu, strerror(-rc), p->name, info.min_mtu,
			 info.max_mtu);
		return rc;
	}
	sock = rte_eth_dev_socket_id(pid);
	if (sock < 0)
		sock = SOCKET_ID_ANY;
	for (uint16_t q = 0; q < p->rx_queues; q++) {
		rc = rte_eth_rx_queue_setup(pid, q, p->rx_desc, sock, NULL, pool);
		if (rc != 0) {
			snprintf(err, errlen,
				 "port %s: rx queue %u setup failed (%s); check "
				 "rx_desc and mempool.mbufs",
				 p->name, q, strerror(-rc));
			return rc;
		}
	}
	for (uint16_t q = 0; q < p->tx_queues; q++) {
		rc = rte_eth_tx_queue_setup(pid, q, p->tx_desc, sock, NULL);
		if (rc != 0) {
			snprintf(err, errlen,
				 "port %s: tx queue %u setup failed (%s); check tx_desc", p->name,
				 q, strerror(-rc));
			return rc;
		}
	}
	*port_id = pid;
	return 0;
}

int ist_port_start(const struct ist_cfg_port *p, uint16_t port_id, char *err, size_t errlen)
{
	int rc = rte_eth_dev_start(port_id);

	if (rc != 0) {
		snprintf(err, errlen,
			 "port %s: start failed (%s); check port %s.device and that its peer "
			 "or interface exists",
			 p->name, strerror(-rc), p->name);
		return rc;
	}
	if (p->promiscuous)
		rte_eth_promiscuous_enable(port_id);
	return 0;
}

bool ist_port_needs_restart_to_reconnect(const struct ist_cfg_port *p)
{
	return strncmp(p->device, "net_memif", 9) == 0 && strstr(p->device, "role=client") != NULL;
}

void ist_port_close(uint16_t port_id)
{
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
}
