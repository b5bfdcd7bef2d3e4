/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * link-tx and link-rx: the lcore roles that own the inter-region link port.
 *
 * This release carries the link's liveness: link-tx sends a HEARTBEAT every
 * IST_LINK_HEARTBEAT_MS, link-rx validates what arrives and counts it by
 * kind, so both appliances see each other in their counters. Frames, ACKs
 * and retransmission build on these roles.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_udp.h>

#include "isthmus/wire.h"
#include "ist_config.h"
#include "ist_role.h"

#define IST_LINK_HEARTBEAT_MS 100
#define RX_BURST              32

struct link_tx {
	const volatile uint8_t *ready; /* the link port's start flag */
	uint16_t port_id;
	uint16_t queue;
	struct rte_mempool *pool;
	uint64_t interval;
	uint64_t next;
	uint64_t seq;
	uint32_t epoch;
	rte_be32_t src_ip, dst_ip;
	rte_be16_t udp_port;
	uint64_t tx_nombuf; /* lcore: rw */
	uint64_t tx_full;   /* lcore: rw */
} __rte_cache_aligned;

struct link_rx {
	const volatile uint8_t *ready[IST_CFG_MAX_QUEUES];
	uint8_t n_queues;
	uint16_t port_id[IST_CFG_MAX_QUEUES];
	uint16_t queue[IST_CFG_MAX_QUEUES];
	rte_be16_t udp_port;
	uint64_t heartbeats; /* lcore: rw */
	uint64_t bad;        /* lcore: rw: ours by port, but wrong magic/version/length */
	uint64_t foreign;    /* lcore: rw: not for the link protocol */
} __rte_cache_aligned;

static int link_tx_init(const struct ist_role_env *env, void **state, char *err, size_t len)
{
	const struct ist_config *cfg = env->cfg;
	struct link_tx *tx;
	struct in_addr a;

	if (!cfg->link.enabled) {
		snprintf(err, len,
			 "%s: lcore %u runs link-tx but there is no [link] section; add "
			 "one",
			 cfg->path, env->lcore->id);
		return -EINVAL;
	}
	if (env->tx_queue >= cfg->ports[cfg->link.port].tx_queues) {
		snprintf(err, len,
			 "%s: lcore %u runs link-tx and needs tx queue %u, but port %s "
			 "has tx_queues = %u; raise it to %u",
			 cfg->path, env->lcore->id, env->tx_queue, cfg->ports[cfg->link.port].name,
			 cfg->ports[cfg->link.port].tx_queues, env->tx_queue + 1);
		return -EINVAL;
	}
	tx = rte_zmalloc("link_tx", sizeof(*tx), RTE_CACHE_LINE_SIZE);
	if (tx == NULL) {
		snprintf(err, len, "out of memory for link-tx state");
		return -ENOMEM;
	}
	tx->port_id = env->port_ids[cfg->link.port];
	tx->ready = &env->port_ready[cfg->link.port];
	tx->queue = env->tx_queue;
	tx->pool = env->pool;
	tx->interval = env->tsc_hz * IST_LINK_HEARTBEAT_MS / 1000;
	tx->epoch = (uint32_t)rte_rand() | 1;
	inet_pton(AF_INET, cfg->link.local_ip, &a);
	tx->src_ip = a.s_addr;
	inet_pton(AF_INET, cfg->link.peer_ip, &a);
	tx->dst_ip = a.s_addr;
	tx->udp_port = rte_cpu_to_be_16(cfg->link.udp_port);
	*state = tx;
	return 0;
}

static struct rte_mbuf *heartbeat_build(struct link_tx *tx)
{
	const uint16_t len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
			     sizeof(struct rte_udp_hdr) + sizeof(struct ist_wire_hdr);
	struct rte_mbuf *m = rte_pktmbuf_alloc(tx->pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	struct ist_wire_hdr *wh;

	if (m == NULL)
		return NULL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, len);
	if (unlikely(eth == NULL)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	memset(&eth->src_addr, 0, sizeof(eth->src_addr));
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(len - sizeof(*eth));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = tx->src_ip;
	ip->dst_addr = tx->dst_ip;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = tx->udp_port;
	udp->dst_port = tx->udp_port;
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + sizeof(*wh));
	udp->dgram_cksum = 0;
	wh = (struct ist_wire_hdr *)(udp + 1);
	memset(wh, 0, sizeof(*wh));
	wh->magic = rte_cpu_to_be_32(IST_WIRE_MAGIC);
	wh->version = IST_WIRE_VERSION;
	wh->type = IST_WIRE_HEARTBEAT;
	wh->epoch = rte_cpu_to_be_32(tx->epoch);
	wh->pn = rte_cpu_to_be_64(tx->seq + 1);
	return m;
}

/* HOT */
static uint32_t link_tx_poll(void *state, uint64_t now)
{
	struct link_tx *tx = state;
	struct rte_mbuf *m;

	if (now < tx->next || unlikely(!*tx->ready))
		return 0;
	tx->next = now + tx->interval;
	m = heartbeat_build(tx);
	if (unlikely(m == NULL)) {
		tx->tx_nombuf++;
		return 0;
	}
	if (unlikely(rte_eth_tx_burst(tx->port_id, tx->queue, &m, 1) == 0)) {
		/* Peer not there or ring full: a heartbeat is not worth queueing. */
		rte_pktmbuf_free(m);
		tx->tx_full++;
		return 0;
	}
	tx->seq++;
	return 1;
}

static void link_fini(void *state)
{
	rte_free(state);
}

static int link_rx_init(const struct ist_role_env *env, void **state, char *err, size_t len)
{
	const struct ist_config *cfg = env->cfg;
	struct link_rx *rx;

	if (!cfg->link.enabled) {
		snprintf(err, len,
			 "%s: lcore %u runs link-rx but there is no [link] section; add "
			 "one",
			 cfg->path, env->lcore->id);
		return -EINVAL;
	}
	if (env->lcore->n_queues == 0) {
		snprintf(err, len,
			 "%s: lcore %u runs link-rx but polls no queue; add queues = "
			 "%s:0",
			 cfg->path, env->lcore->id, cfg->link.port_name);
		return -EINVAL;
	}
	rx = rte_zmalloc("link_rx", sizeof(*rx), RTE_CACHE_LINE_SIZE);
	if (rx == NULL) {
		snprintf(err, len, "out of memory for link-rx state");
		return -ENOMEM;
	}
	rx->n_queues = env->lcore->n_queues;
	for (unsigned int i = 0; i < rx->n_queues; i++) {
		rx->port_id[i] = env->port_ids[env->lcore->queues[i].port];
		rx->ready[i] = &env->port_ready[env->lcore->queues[i].port];
		rx->queue[i] = env->lcore->queues[i].queue;
	}
	rx->udp_port = rte_cpu_to_be_16(cfg->link.udp_port);
	*state = rx;
	return 0;
}

static void link_rx_classify(struct link_rx *rx, struct rte_mbuf *m)
{
	const uint16_t min = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
			     sizeof(struct rte_udp_hdr);
	const struct rte_ether_hdr *eth;
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	struct ist_wire_hdr wh;

	if (rte_pktmbuf_data_len(m) < min) {
		rx->foreign++;
		return;
	}
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	ip = (const struct rte_ipv4_hdr *)(eth + 1);
	udp = (const struct rte_udp_hdr *)(ip + 1);
	if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ip->version_ihl != RTE_IPV4_VHL_DEF || ip->next_proto_id != IPPROTO_UDP ||
	    udp->dst_port != rx->udp_port) {
		rx->foreign++;
		return;
	}
	if (rte_pktmbuf_data_len(m) < min + sizeof(wh)) {
		rx->bad++;
		return;
	}
	memcpy(&wh, udp + 1, sizeof(wh));
	if (wh.magic != rte_cpu_to_be_32(IST_WIRE_MAGIC) || wh.version != IST_WIRE_VERSION) {
		rx->bad++;
		return;
	}
	if (wh.type == IST_WIRE_HEARTBEAT)
		rx->heartbeats++;
	else
		rx->bad++;
}

/* HOT */
static uint32_t link_rx_poll(void *state, uint64_t now)
{
	struct link_rx *rx = state;
	struct rte_mbuf *pkts[RX_BURST];
	uint32_t total = 0;

	RTE_SET_USED(now);
	for (unsigned int q = 0; q < rx->n_queues; q++) {
		uint16_t n;

		if (unlikely(!*rx->ready[q]))
			continue;
		n = rte_eth_rx_burst(rx->port_id[q], rx->queue[q], pkts, RX_BURST);

		for (uint16_t i = 0; i < n; i++)
			link_rx_classify(rx, pkts[i]);
		rte_pktmbuf_free_bulk(pkts, n);
		total += n;
	}
	return total;
}

static const struct ist_role_ops link_tx_ops = {
	.name = "link-tx",
	.init = link_tx_init,
	.poll = link_tx_poll,
	.fini = link_fini,
};
IST_ROLE_REGISTER(link_tx_ops)

static const struct ist_role_ops link_rx_ops = {
	.name = "link-rx",
	.init = link_rx_init,
	.poll = link_rx_poll,
	.drain = NULL,
	.fini = link_fini,
};
IST_ROLE_REGISTER(link_rx_ops)
