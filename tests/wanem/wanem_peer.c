/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wanem-peer: both endpoints of an isthmus-wanem test in one DPDK process.
 * Port A faces the emulator's port a, port B its port b. It sends numbered,
 * timestamped packets A->B and B->A at a fixed rate (or as fast as the ports
 * take them), receives them on the other port and prints one line per
 * direction:
 *
 *   dir=ab sent=N received=N unique=N dup=N overtaken=N bad=N
 *          delay_min_us= delay_avg_us= delay_max_us= gap_max_ms= after_gap=N
 *          rx_pps= rx_mbps=
 *
 * overtaken counts packets that arrived after a higher sequence number;
 * the delay is one-way, from the sender's TSC to the receiver's (one host,
 * one TSC); gap_max_ms is the longest silence between two receptions after
 * the first, and after_gap the packets received from its end on. It prints
 * "sending" once both links are up and traffic starts.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "ist_config.h"
#include "ist_port.h"

#define PROG       "wanem-peer"
#define BURST      32
#define PEER_MAGIC 0x57414e45u /* "WANE" */
#define PEER_ETHER 0x88b5      /* IEEE local experimental */
#define MAX_EAL    16

struct peer_hdr {
	struct rte_ether_hdr eth;
	uint32_t magic;
	uint32_t dir;
	uint64_t seq;
	uint64_t tsc;
};

struct peer_dir {
	uint16_t tx_port;
	uint16_t rx_port;
	uint64_t sent;
	uint64_t received;
	uint64_t unique;
	uint64_t dups;
	uint64_t overtaken;
	uint64_t bad;
	uint64_t max_seq;
	bool any;
	uint64_t dmin, dmax, dsum;
	uint64_t first_rx, last_rx, gap_max, since_gap;
	uint64_t bytes;
	uint64_t bits; /* bitmap size */
	uint8_t *seen;
};

static volatile bool stop;
static struct peer_dir dirs[2];
static bool eal_up;
static char rundir[PATH_MAX];

static void on_signal(int sig)
{
	(void)sig;
	stop = true;
}

/* Leaves nothing behind either: the EAL's runtime dir goes with it. */
static void fail(const char *msg)
{
	fprintf(stderr, PROG ": %s\n", msg);
	if (eal_up) {
		rte_eal_cleanup();
		rmdir(rundir);
	}
	exit(1);
}

static void tx_some(struct peer_dir *d, int idx, struct rte_mempool *pool, uint64_t want,
		    uint32_t size)
{
	struct rte_mbuf *m[BURST];
	uint16_t n = want > BURST ? BURST : (uint16_t)want, sent;

	if (n == 0 || rte_pktmbuf_alloc_bulk(pool, m, n) != 0)
		return;
	for (uint16_t i = 0; i < n; i++) {
		struct peer_hdr *h = (struct peer_hdr *)rte_pktmbuf_append(m[i], size);

		if (h == NULL)
			fail("--size does not fit an mbuf");
		memset(&h->eth.dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
		memset(&h->eth.src_addr, 0, RTE_ETHER_ADDR_LEN);
		h->eth.src_addr.addr_bytes[0] = 0x02;
		h->eth.src_addr.addr_bytes[5] = (uint8_t)(idx + 1);
		h->eth.ether_type = rte_cpu_to_be_16(PEER_ETHER);
		h->magic = PEER_MAGIC;
		h->dir = (uint32_t)idx;
		h->seq = d->sent + i;
		h->tsc = rte_rdtsc();
	}
	sent = rte_eth_tx_burst(d->tx_port, 0, m, n);
	if (sent < n)
		rte_pktmbuf_free_bulk(m + sent, n - sent);
	d->sent += sent;
}

static uint32_t rx_some(struct peer_dir *d, int idx)
{
	struct rte_mbuf *m[BURST];
	uint16_t n = rte_eth_rx_burst(d->rx_port, 0, m, BURST);
	uint64_t now = rte_rdtsc();

	for (uint16_t i = 0; i < n; i++) {
		const struct peer_hdr *h = rte_pktmbuf_mtod(m[i], const struct peer_hdr *);
		uint64_t delay;

		if (rte_pktmbuf_data_len(m[i]) < sizeof(*h) || h->magic != PEER_MAGIC ||
		    h->dir != (uint32_t)idx || h->tsc > now) {
			d->bad++;
			continue;
		}
		d->received++;
		d->bytes += rte_pktmbuf_pkt_len(m[i]);
		if (d->seen != NULL && h->seq < d->bits) {
			uint8_t bit = (uint8_t)(1u << (h->seq % 8));

			if (d->seen[h->seq / 8] & bit) {
				d->dups++;
				continue;
			}
			d->seen[h->seq / 8] |= bit;
		}
		d->unique++;
		if (d->any && h->seq < d->max_seq)
			d->overtaken++;
		if (!d->any || h->seq > d->max_seq)
			d->max_seq = h->seq;
		delay = now - h->tsc;
		if (!d->any || delay < d->dmin)
			d->dmin = delay;
		if (delay > d->dmax)
			d->dmax = delay;
		d->dsum += delay;
		if (!d->any) {
			d->first_rx = now;
		} else if (now - d->last_rx > d->gap_max) {
			d->gap_max = now - d->last_rx;
			d->since_gap = 0;
		}
		d->since_gap++;
		d->last_rx = now;
		d->any = true;
	}
	rte_pktmbuf_free_bulk(m, n);
	return n;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"port-a", required_argument, NULL, 'a'},
		{"port-b", required_argument, NULL, 'b'},
		{"file-prefix", required_argument, NULL, 'f'},
		{"lcore", required_argument, NULL, 'l'},
		{"count", required_argument, NULL, 'n'},
		{"pps", required_argument, NULL, 'p'},
		{"size", required_argument, NULL, 's'},
		{"seconds", required_argument, NULL, 't'},
		{"drain-ms", required_argument, NULL, 'd'},
		{"dirs", required_argument, NULL, 'D'},
		{NULL, 0, NULL, 0},
	};
	const char *port[2] = {NULL, NULL}, *prefix = PROG, *dirsel = "both";
	unsigned int lcore = 0;
	uint64_t count = 0, pps = 1000, seconds = 10, drain_ms = 500;
	uint32_t size = 64;
	char *eal_argv[MAX_EAL], store[2048], err[512];
	struct sigaction sa = {.sa_handler = on_signal};
	struct rte_mempool *pool;
	uint16_t pid[2];
	uint64_t hz, t0, t_end, done_at = 0, deadline;
	int n = 0, opt, active[2];
	size_t o = 0;

	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			port[0] = optarg;
			break;
		case 'b':
			port[1] = optarg;
			break;
		case 'f':
			prefix = optarg;
			break;
		case 'l':
			lcore = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			count = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			pps = strtoull(optarg, NULL, 0);
			break;
		case 's':
			size = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 't':
			seconds = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			drain_ms = strtoull(optarg, NULL, 0);
			break;
		case 'D':
			dirsel = optarg;
			break;
		default:
			fail("usage: wanem-peer --port-a DEV --port-b DEV [--file-prefix P] "
			     "[--lcore "
			     "N] [--count N] [--pps R] [--size B] [--seconds S] [--drain-ms MS] "
			     "[--dirs ab|ba|both]");
		}
	}
	if (port[0] == NULL || port[1] == NULL)
		fail("give --port-a and --port-b");
	if (size < sizeof(struct peer_hdr) || size > 1500)
		fail("--size must be within 40..1500");
	active[0] = strcmp(dirsel, "ba") != 0;
	active[1] = strcmp(dirsel, "ab") != 0;

#define ARG(...)                                                              \
	do {                                                                  \
		int k_ = snprintf(store + o, sizeof(store) - o, __VA_ARGS__); \
		eal_argv[n++] = store + o;                                    \
		o += (size_t)k_ + 1;                                          \
	} while (0)
	ARG(PROG);
	ARG("--file-prefix=%s", prefix);
	ARG("--in-memory");
	ARG("--no-telemetry");
	ARG("--no-pci");
	ARG("--log-level=error");
	ARG("--lcores=%u", lcore);
	ARG("--vdev=%s", port[0]);
	ARG("--vdev=%s", port[1]);
#undef ARG
	eal_argv[n] = NULL;
	if (rte_eal_init(n, eal_argv) < 0) {
		rmdir(rte_eal_get_runtime_dir());
		fail("EAL initialisation failed");
	}
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	eal_up = true;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	pool = rte_pktmbuf_pool_create("peer_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       rte_socket_id());
	if (pool == NULL)
		fail("cannot allocate mbufs");
	for (int i = 0; i < 2; i++) {
		struct ist_cfg_port pc = {
			.rx_queues = 1,
			.tx_queues = 1,
			.rx_desc = 1024,
			.tx_desc = 1024,
			.mtu = 1500,
			.promiscuous = true,
		};

		snprintf(pc.name, sizeof(pc.name), "%c", 'A' + i);
		snprintf(pc.device, sizeof(pc.device), "%s", port[i]);
		if (ist_port_setup(&pc, pool, &pid[i], err, sizeof(err)) != 0)
			fail(err);
		/* A memif client starts only once its server is there. */
		deadline = rte_rdtsc() + 15 * rte_get_tsc_hz();
		while (ist_port_start(&pc, pid[i], err, sizeof(err)) != 0) {
			if (stop || rte_rdtsc() > deadline)
				fail(err);
			usleep(100000);
		}
	}
	dirs[0].tx_port = pid[0];
	dirs[0].rx_port = pid[1];
	dirs[1].tx_port = pid[1];
	dirs[1].rx_port = pid[0];
	hz = rte_get_tsc_hz();

	/*
	 * Both links up: the emulator is connected on both sides. A memif client
	 * whose handshake was refused (its server not started yet) never tries
	 * again, so a link still down after a second is restarted.
	 */
	deadline = rte_rdtsc() + 15 * hz;
	for (unsigned int tick = 1;; tick++) {
		struct rte_eth_link link[2];
		bool up = true;

		for (int i = 0; i < 2; i++) {
			if (rte_eth_link_get_nowait(pid[i], &link[i]) != 0)
				link[i].link_status = 0;
			up &= link[i].link_status != 0;
		}
		if (up)
			break;
		if (stop || rte_rdtsc() > deadline)
			fail("links not up within 15 s; is isthmus-wanem running on the same "
			     "sockets?");
		for (int i = 0; i < 2 && tick % 100 == 0; i++) {
			struct ist_cfg_port pc = {.promiscuous = true};

			if (link[i].link_status)
				continue;
			snprintf(pc.name, sizeof(pc.name), "%c", 'A' + i);
			rte_eth_dev_stop(pid[i]);
			if (ist_port_start(&pc, pid[i], err, sizeof(err)) != 0)
				fprintf(stderr, PROG ": %s; retrying\n", err);
		}
		usleep(10000);
	}
	for (int i = 0; i < 2; i++) {
		uint64_t bits =
			count != 0 ? count : (pps != 0 ? pps * seconds * 11 / 10 + 1024 : 0);

		dirs[i].bits = bits;
		if (bits != 0) {
			dirs[i].seen = calloc(bits / 8 + 1, 1);
			if (dirs[i].seen == NULL)
				fail("out of memory for the sequence bitmap");
		}
	}
	printf("sending\n");
	fflush(stdout);

	t0 = rte_rdtsc();
	t_end = t0 + seconds * hz;
	while (!stop) {
		uint64_t now = rte_rdtsc();
		uint32_t work = 0;
		bool sending = false;

		for (int i = 0; i < 2; i++) {
			struct peer_dir *d = &dirs[i];
			uint64_t target;

			if (!active[i] || (count != 0 && d->sent >= count) || now >= t_end)
				continue;
			sending = true;
			target = pps != 0 ? (uint64_t)((unsigned __int128)(now - t0) * pps / hz) + 1
					  : d->sent + BURST;
			if (count != 0 && target > count)
				target = count;
			if (target > d->sent) {
				tx_some(d, i, pool, target - d->sent, size);
				work++;
			}
		}
		work += rx_some(&dirs[0], 0) + rx_some(&dirs[1], 1);
		if (!sending) {
			if (done_at == 0)
				done_at = now;
			if (now - done_at > drain_ms * hz / 1000)
				break;
		}
		/* Paced runs share two cores with the emulator: do not spin between packets. */
		if (work == 0 && pps != 0)
			rte_delay_us_sleep(20);
	}
	for (int i = 0; i < 2; i++) {
		struct peer_dir *d = &dirs[i];
		uint64_t span = d->last_rx > d->first_rx ? d->last_rx - d->first_rx : 0;

		if (!active[i])
			continue;
		printf("dir=%s sent=%" PRIu64 " received=%" PRIu64 " unique=%" PRIu64
		       " dup=%" PRIu64 " overtaken=%" PRIu64 " bad=%" PRIu64
		       " delay_min_us=%" PRIu64 " delay_avg_us=%" PRIu64 " delay_max_us=%" PRIu64
		       " gap_max_ms=%" PRIu64 " after_gap=%" PRIu64 " rx_pps=%" PRIu64
		       " rx_mbps=%" PRIu64 "\n",
		       i == 0 ? "ab" : "ba", d->sent, d->received, d->unique, d->dups, d->overtaken,
		       d->bad, d->dmin * 1000000 / hz,
		       d->unique ? d->dsum / d->unique * 1000000 / hz : 0, d->dmax * 1000000 / hz,
		       d->gap_max * 1000 / hz, d->since_gap,
		       span ? (uint64_t)((unsigned __int128)d->received * hz / span) : 0,
		       span ? (uint64_t)((unsigned __int128)d->bytes * 8 * hz / span / 1000000)
			    : 0);
		free(d->seen);
	}
	fflush(stdout);
	for (int i = 0; i < 2; i++)
		ist_port_close(pid[i]);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	rmdir(rundir);
	return 0;
}
