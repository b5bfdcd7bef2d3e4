/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus-wanem: the harness's WAN emulator. A DPDK process bridging two
 * ports (net_memif, net_tap or any other PMD) that delays, drops, reorders,
 * duplicates, corrupts, rate-caps and partitions the packets of each
 * direction, so that two data planes (or two kernel stacks behind net_tap)
 * talk as if across a WAN. The kernel here has no netem.
 *
 * Threads: the main lcore is the data thread; it owns both directions and
 * both ports, reads the TSC once per received burst (its arrival time) and
 * once per loop (for release), and sleeps when nothing is due. A
 * DPDK control thread (mgmt) serves the --control socket and prints the
 * periodic counters; commands that change a direction go to the data thread
 * over an SPSC ring and are applied between bursts, so control never blocks
 * data. The impairment logic lives in wanem_model.c, free of DPDK, where it
 * is unit tested with a fake clock.
 *
 * `inject` sends bad link packets into a running session (docs/WANEM.md): the
 * data thread keeps the newest link frame of each direction (one copy per
 * received burst) and an early one, builds the bad packets from them
 * (wanem_model.c), seals the wrong-key ones under random keys with the link's
 * own AEAD code, and sends them one per WANEM_INJ_GAP_US between the
 * forwarded packets.
 *
 * `isthmus-wanem ctl PATH COMMAND...` is the client of the control socket.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "ist_aead.h"
#include "ist_config.h"
#include "ist_keys.h"
#include "ist_port.h"
#include "ist_linectl.h"
#include "ist_replay.h"
#include "wanem_model.h"

#define PROG                   "isthmus-wanem"
#define EXIT_RUNTIME           1
#define MAX_EAL_ARGS           32

#define WANEM_BURST            32
#define WANEM_CMD_EVERY        64 /* loops between looks at the command ring (power of two) */
#define WANEM_IDLE_SPINS       64
#define WANEM_IDLE_MAX_US      100 /* default; each wake-up costs ~20 us of CPU in a VM */
#define WANEM_TX_STALL_MS      100 /* egress refusing everything this long: drop what waits */
#define WANEM_PORT_DESC        1024
#define WANEM_CLIENTS_MAX      8
#define WANEM_LINE_MAX         (IST_WANEM_SPEC_TEXT_MAX + 64)
#define WANEM_REPLY_MAX        4096
#define WANEM_CMD_WAIT_MS      2000 /* the data thread answers within a loop; this is a bound */
#define WANEM_CTL_TIMEOUT_S    10
#define WANEM_STATS_DEFAULT_MS 5000
#define WANEM_PORT_WATCH_MS    500 /* a port not started, or a memif client cut off, is retried */
#define WANEM_INJ_GAP_US       100 /* between injected packets of a direction: 10 kpps */

_Static_assert(IST_WANEM_INJ_REPLAY_WIN == IST_REPLAY_WIN, "the replay forecast uses the window");
_Static_assert(IST_WANEM_INJ_FRAME_MAX <= RTE_MBUF_DEFAULT_DATAROOM, "a kept frame fits an mbuf");
_Static_assert(IST_WANEM_INJ_L234_LEN == sizeof(struct rte_ether_hdr) +
						 sizeof(struct rte_ipv4_hdr) +
						 sizeof(struct rte_udp_hdr),
	       "link datagrams follow Ethernet, IPv4 without options and UDP");

RTE_LOG_REGISTER(ist_wanem_logtype, isthmus.wanem, INFO);
#define WANEM_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, ist_wanem_logtype, PROG ": " fmt "\n", ##__VA_ARGS__)

static const char *const dir_name[2] = {"ab", "ba"};
static const char *const dir_arrow[2] = {"a->b", "b->a"};

struct wanem_opts {
	const char *port[2];
	char file_prefix[64];
	unsigned int lcore;
	uint64_t seed;
	struct ist_wanem_spec spec[2];
	const char *control;
	uint32_t stats_ms;
	bool quiet;
	uint32_t queue; /* per direction; 0: from the specs */
	uint16_t queues;
	uint32_t mtu;
	uint32_t idle_us; /* longest idle sleep; 0: busy-poll */
};

/* One direction: packets received on rx_port leave on tx_port. */
struct wanem_path {
	struct ist_wanem_dir dir; /* dp: rw; mgmt: reads dir.c only */
	uint16_t rx_port;
	uint16_t tx_port;
	uint16_t rx_idx; /* 0: port a, 1: port b */
	uint16_t n_rxq;
	uint16_t n_txb;
	bool tx_blocked; /* the egress refused everything this loop */
	bool tx_dead;    /* ... and for longer than tx_stall */
	uint64_t tx_since;
	uint64_t tx_stall;
	uint32_t queued; /* dp: w (published every WANEM_CMD_EVERY loops), mgmt: ro */
	bool cut;        /* dp: w (published likewise), mgmt: ro */
	struct rte_mbuf *txb[WANEM_BURST];
	/* inject: all dp only, except inj_pending (dp: w, mgmt: ro) */
	uint32_t inj_pending;   /* injected packets not sent yet, inj_m included */
	struct rte_mbuf *inj_m; /* built, not taken by the egress yet */
	int inj_kind;           /* of inj_m */
	uint64_t inj_next;      /* the next injected packet not before then */
	uint64_t inj_since;     /* inj_m built */
	uint64_t inj_gap;
	struct ist_wanem_inj inj; /* kept frames, pending counts, PRNG */
} __rte_cache_aligned;

/* A command for the data thread; one in flight, owned by mgmt between replies. */
struct wanem_req {
	struct ist_wanem_cmd cmd;
	int status;
	char msg[IST_WANEM_INJ_MSG_MAX]; /* inject: what it sends, or why not (dp: w) */
};

struct wanem_client {
	int fd; /* -1: slot free */
	bool discarding;
	size_t in_len;
	char in[WANEM_LINE_MAX];
};

struct wanem_mgmt {
	int listen_fd;
	const char *path;
	dev_t sock_dev;
	ino_t sock_ino;
	bool sock_owned;
	struct wanem_client clients[WANEM_CLIENTS_MAX];
	struct ist_wanem_spec cur[2]; /* mgmt: rw; the data thread has its own copy */
	struct wanem_req req;
	bool req_lost;
	uint64_t next_stats;
	pthread_t thread;
	bool running;
};

static volatile bool quit; /* signal, mgmt: w; dp: r */
static struct wanem_opts opts;
static struct wanem_path paths[2]; /* 0: a->b, 1: b->a */
static struct wanem_mgmt mgmt = {.listen_fd = -1};
static struct rte_mempool *pool;
static struct rte_ring *cmd_ring, *reply_ring;
static struct ist_cfg_port port_cfg[2];
static uint16_t port_ids[2];
static bool port_up[2];    /* set up: close at exit */
static bool port_ready[2]; /* started; dp: rw after start-up, mgmt: ro */
static uint8_t port_down_checks[2];
static uint64_t port_restarts[2]; /* dp: rw, mgmt: ro */
static bool dir_ready[2];
static uint64_t hz, t_start;
static struct ist_aead inj_aead; /* dp only: seals wrong-key packets */
static bool inj_aead_ok;

static void on_signal(int sig)
{
	(void)sig;
	quit = true;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " --port-a DEVSTRING --port-b DEVSTRING [options]\n"
		"       " PROG " ctl PATH COMMAND...\n"
		"Bridges two DPDK ports and impairs each direction (a->b, b->a).\n"
		"  --port-a, --port-b DEV  vdev string (net_memif0,role=server,socket=...) or PCI "
		"address\n"
		"  --ab SPEC, --ba SPEC    impairments of one direction\n"
		"  --both SPEC             impairments of both (options apply in order)\n"
		"  --seed S                PRNG seed (default 1); same seed, same input, same "
		"decisions\n"
		"  --control PATH          Unix socket for partition, heal, set, inject, stats, "
		"quit\n"
		"  --stats-interval-ms MS  counters every MS (default 5000, 0: never)\n"
		"  --file-prefix P         EAL file prefix (default isthmus-wanem-PID)\n"
		"  --lcore N               lcore and CPU of the data thread (default 0)\n"
		"  --queue PKTS            delay-line capacity per direction (default: from the "
		"specs)\n"
		"  --queues N              rx/tx queues per port, to match a memif peer (default "
		"1)\n"
		"  --mtu N                 port MTU (default 1500)\n"
		"  --idle-sleep-us US      longest sleep when idle (default 100, 0: busy-poll)\n"
		"  --quiet                 only errors and the exit summary\n"
		"  -h, --help, -V, --version\n"
		"SPEC: %s\n"
		"Exit codes: 0 clean stop, 1 runtime error, 2 bad arguments.\n",
		ist_wanem_spec_syntax);
}

static int bad_arg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad_arg(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return IST_EXIT_CONFIG;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 0);
	if (s[0] == '-' || s[0] == '\0' || *end != '\0' || errno != 0 || n > max)
		return -EINVAL;
	*v = n;
	return 0;
}

/* @return 0, 1 for --help/--version (already answered), or the exit code of an error. */
static int opts_parse(int argc, char **argv)
{
	enum {
		O_A = 256,
		O_B,
		O_PREFIX,
		O_LCORE,
		O_SEED,
		O_AB,
		O_BA,
		O_BOTH,
		O_CONTROL,
		O_STATS,
		O_QUIET,
		O_QUEUE,
		O_QUEUES,
		O_MTU,
		O_IDLE
	};
	static const struct option lopts[] = {
		{"port-a", required_argument, NULL, O_A},
		{"port-b", required_argument, NULL, O_B},
		{"file-prefix", required_argument, NULL, O_PREFIX},
		{"lcore", required_argument, NULL, O_LCORE},
		{"seed", required_argument, NULL, O_SEED},
		{"ab", required_argument, NULL, O_AB},
		{"ba", required_argument, NULL, O_BA},
		{"both", required_argument, NULL, O_BOTH},
		{"control", required_argument, NULL, O_CONTROL},
		{"stats-interval-ms", required_argument, NULL, O_STATS},
		{"quiet", no_argument, NULL, O_QUIET},
		{"queue", required_argument, NULL, O_QUEUE},
		{"queues", required_argument, NULL, O_QUEUES},
		{"mtu", required_argument, NULL, O_MTU},
		{"idle-sleep-us", required_argument, NULL, O_IDLE},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	char err[IST_WANEM_ERR_MAX + 64];
	char a[RTE_DEV_NAME_MAX_LEN], b[RTE_DEV_NAME_MAX_LEN];
	struct ist_wanem_spec sp;
	uint64_t v;
	int opt;

	opts.seed = 1;
	opts.stats_ms = WANEM_STATS_DEFAULT_MS;
	opts.queues = 1;
	opts.mtu = 1500;
	opts.idle_us = WANEM_IDLE_MAX_US;
	snprintf(opts.file_prefix, sizeof(opts.file_prefix), PROG "-%ld", (long)getpid());
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "hV", lopts, NULL)) != -1) {
		switch (opt) {
		case O_A:
		case O_B:
			if (strlen(optarg) >= IST_CFG_STR_LEN || optarg[0] == '\0')
				return bad_arg(
					"--port-%c: give a device string shorter than %d "
					"bytes, e.g. net_memif0,role=server,socket=/tmp/a.sock",
					opt == O_A ? 'a' : 'b', IST_CFG_STR_LEN);
			opts.port[opt - O_A] = optarg;
			break;
		case O_PREFIX:
			if (optarg[0] == '\0' || strlen(optarg) >= sizeof(opts.file_prefix) ||
			    strchr(optarg, '/') != NULL)
				return bad_arg(
					"--file-prefix '%s': give a name without '/' shorter "
					"than %zu bytes",
					optarg, sizeof(opts.file_prefix));
			snprintf(opts.file_prefix, sizeof(opts.file_prefix), "%s", optarg);
			break;
		case O_LCORE:
			if (parse_u64(optarg, RTE_MAX_LCORE - 1, &v) < 0)
				return bad_arg("--lcore '%s': give a CPU number 0..%d", optarg,
					       RTE_MAX_LCORE - 1);
			opts.lcore = (unsigned int)v;
			break;
		case O_SEED:
			if (parse_u64(optarg, UINT64_MAX, &v) < 0)
				return bad_arg("--seed '%s': give an unsigned 64-bit number",
					       optarg);
			opts.seed = v;
			break;
		case O_AB:
		case O_BA:
		case O_BOTH:
			if (ist_wanem_spec_parse(optarg, &sp, err, sizeof(err)) < 0)
				return bad_arg("--%s: %s",
					       opt == O_AB ? "ab" : (opt == O_BA ? "ba" : "both"),
					       err);
			if (opt != O_BA)
				opts.spec[0] = sp;
			if (opt != O_AB)
				opts.spec[1] = sp;
			break;
		case O_CONTROL:
			if (strlen(optarg) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
			    optarg[0] == '\0')
				return bad_arg(
					"--control '%s': give a socket path shorter than %zu "
					"bytes",
					optarg, sizeof(((struct sockaddr_un *)0)->sun_path));
			opts.control = optarg;
			break;
		case O_STATS:
			if (parse_u64(optarg, 86400000, &v) < 0)
				return bad_arg("--stats-interval-ms '%s': give milliseconds "
					       "0..86400000 (0: never)",
					       optarg);
			opts.stats_ms = (uint32_t)v;
			break;
		case O_QUIET:
			opts.quiet = true;
			break;
		case O_QUEUE:
			if (parse_u64(optarg, IST_WANEM_QUEUE_MAX, &v) < 0 || v < 64)
				return bad_arg("--queue '%s': give packets per direction, 64..%u "
					       "(rounded up to a power of two)",
					       optarg, IST_WANEM_QUEUE_MAX);
			opts.queue = (uint32_t)v;
			break;
		case O_QUEUES:
			if (parse_u64(optarg, 16, &v) < 0 || v < 1)
				return bad_arg("--queues '%s': give 1..16, the queue count of the "
					       "memif peer",
					       optarg);
			opts.queues = (uint16_t)v;
			break;
		case O_MTU:
			if (parse_u64(optarg, 65535, &v) < 0 || v < 68)
				return bad_arg("--mtu '%s': give 68..65535", optarg);
			opts.mtu = (uint32_t)v;
			break;
		case O_IDLE:
			if (parse_u64(optarg, 100000, &v) < 0)
				return bad_arg(
					"--idle-sleep-us '%s': give microseconds 0..100000 (0: "
					"busy-poll)",
					optarg);
			opts.idle_us = (uint32_t)v;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf(PROG " %s\n", ISTHMUS_VERSION);
			return 1;
		default:
			return bad_arg("unknown option or missing value '%s'; see " PROG " --help",
				       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return bad_arg("unexpected argument '%s'; see " PROG " --help", argv[optind]);
	if (opts.port[0] == NULL || opts.port[1] == NULL)
		return bad_arg("give both ports: --port-a DEVSTRING --port-b DEVSTRING (e.g. "
			       "net_memif0,role=server,socket=/tmp/a.sock,socket-abstract=no)");
	ist_port_dev_name(opts.port[0], a, sizeof(a));
	ist_port_dev_name(opts.port[1], b, sizeof(b));
	if (strcmp(a, b) == 0)
		return bad_arg("both ports are named '%s'; give them different device names, "
			       "e.g. net_memif0 and net_memif1",
			       a);
	return 0;
}

/* Hugepages are checked before the EAL so the error names the fix. */
static int check_hugepages(void)
{
	char line[256];
	long free_pages = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "HugePages_Free: %ld", &free_pages) == 1)
			break;
	if (f != NULL)
		fclose(f);
	if (free_pages == 0) {
		fprintf(stderr, PROG ": no free hugepages; reserve some (echo 1024 > "
				     "/proc/sys/vm/nr_hugepages)\n");
		return -ENOMEM;
	}
	return 0;
}

/* The EAL answers a bad CPU with its whole usage text: check first, say it in one line. */
static int check_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	if (opts.lcore >= CPU_SETSIZE || !CPU_ISSET(opts.lcore, &set)) {
		fprintf(stderr,
			PROG ": --lcore %u: this process may not use that CPU (it may use %d CPUs, "
			     "0..%ld online); choose one of them\n",
			opts.lcore, CPU_COUNT(&set), sysconf(_SC_NPROCESSORS_ONLN) - 1);
		return -EINVAL;
	}
	return 0;
}

/* Is a socket bound to @p path open in some process? Read, never connect. */
static bool unix_path_bound(const char *path)
{
	char line[512 + PATH_MAX];
	size_t plen = strlen(path), n;
	bool bound = false;
	FILE *f = fopen("/proc/net/unix", "r");

	while (f != NULL && !bound && fgets(line, sizeof(line), f) != NULL) {
		n = strcspn(line, "\n");
		bound = n > plen && line[n - plen - 1] == ' ' &&
			memcmp(line + n - plen, path, plen) == 0;
	}
	if (f != NULL)
		fclose(f);
	return bound;
}

/*
 * A memif server with socket-abstract=no leaves its socket file behind when it
 * is killed, and the next server on that path then fails to probe with
 * EADDRINUSE. Before the EAL starts, remove such a file if no process has it
 * bound; refuse to start if one has. This does not connect to find out: a
 * connection that closes at once panics a DPDK 22.11 memif server's interrupt
 * thread.
 */
static int memif_stale_check(const char *dev)
{
	char buf[IST_CFG_STR_LEN], *save = NULL, *kv;
	const char *path = NULL;
	bool server = false, file = false;
	struct stat sb;

	if (strncmp(dev, "net_memif", 9) != 0)
		return 0;
	snprintf(buf, sizeof(buf), "%s", dev);
	for (kv = strtok_r(buf, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
		if (strcmp(kv, "role=server") == 0 || strcmp(kv, "role=master") == 0)
			server = true;
		else if (strcmp(kv, "socket-abstract=no") == 0)
			file = true;
		else if (strncmp(kv, "socket=", 7) == 0)
			path = kv + 7;
	}
	if (!server || !file || path == NULL || lstat(path, &sb) < 0 || !S_ISSOCK(sb.st_mode))
		return 0;
	if (unix_path_bound(path)) {
		fprintf(stderr,
			PROG ": another process serves the memif socket %s; stop it or choose "
			     "another socket= path\n",
			path);
		return -EADDRINUSE;
	}
	if (unlink(path) == 0)
		fprintf(stderr, PROG ": removed the stale memif socket %s\n", path);
	return 0;
}

static int eal_args(char **argv, char *store, size_t store_len)
{
	int argc = 0;
	size_t o = 0;
	bool pci = false;

#define ARG(...)                                                                       \
	do {                                                                           \
		int n_ = snprintf(store + o, store_len - o, __VA_ARGS__);              \
		if (argc == MAX_EAL_ARGS - 1 || n_ < 0 || (size_t)n_ >= store_len - o) \
			return -E2BIG;                                                 \
		argv[argc++] = store + o;                                              \
		o += n_ + 1;                                                           \
	} while (0)

	ARG(PROG);
	ARG("--file-prefix=%s", opts.file_prefix);
	/* Nothing in /dev/hugepages, no shared config: a killed emulator leaves nothing. */
	ARG("--in-memory");
	ARG("--no-telemetry");
	ARG("--log-level=%s", opts.quiet ? "error" : "notice");
	ARG("--lcores=%u", opts.lcore);
	for (int i = 0; i < 2; i++) {
		if (ist_port_is_pci(opts.port[i])) {
			ARG("-a%s", opts.port[i]);
			pci = true;
		} else {
			ARG("--vdev=%s", opts.port[i]);
		}
	}
	if (!pci)
		ARG("--no-pci");
#undef ARG
	argv[argc] = NULL;
	return argc;
}

/* ---- Data thread ---- */

static void flip_bit(struct rte_mbuf *m, uint32_t bit)
{
	uint32_t off = bit / 8;

	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	if (m != NULL)
		rte_pktmbuf_mtod(m, uint8_t *)[off] ^= (uint8_t)(1u << (bit % 8));
}

/*
 * Receive and admit into the delay line. The clock is read once per burst,
 * after the burst arrived: a time read before rx_burst() could predate a
 * packet's arrival and release it early. HOT
 */
static uint32_t path_rx(struct wanem_path *p)
{
	struct rte_mbuf *pkts[WANEM_BURST], *drop[WANEM_BURST];
	struct ist_wanem_act act;
	uint32_t work = 0;

	if (unlikely(!port_ready[p->rx_idx]))
		return 0;
	for (uint16_t q = 0; q < p->n_rxq; q++) {
		uint16_t n = rte_eth_rx_burst(p->rx_port, q, pkts, WANEM_BURST), nd = 0;
		struct rte_mbuf *intact = NULL;
		uint64_t now;

		if (n == 0)
			continue;
		now = rte_rdtsc();
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];

			if (ist_wanem_dir_admit(&p->dir, m, rte_pktmbuf_pkt_len(m), now, &act) !=
			    IST_WANEM_QUEUED) {
				drop[nd++] = m;
				continue;
			}
			/* A duplicate is the same mbuf queued twice; each send drops one reference. */
			if (act.dup)
				rte_mbuf_refcnt_update(m, 1);
			if (unlikely(act.corrupt_bit != IST_WANEM_NO_BIT))
				flip_bit(m, act.corrupt_bit);
			else
				intact = m;
		}
		/* For inject: the newest packet queued intact, at most one copy per burst. */
		if (intact != NULL && intact->nb_segs == 1)
			ist_wanem_inj_keep(&p->inj, rte_pktmbuf_mtod(intact, const uint8_t *),
					   rte_pktmbuf_data_len(intact));
		if (nd != 0)
			rte_pktmbuf_free_bulk(drop, nd);
		work += n;
	}
	return work;
}

/* Send what is due; what the egress refuses waits in txb and is retried. HOT */
static uint32_t path_tx(struct wanem_path *p, uint64_t now)
{
	void *drop[WANEM_BURST];
	uint16_t n, n_drop = 0, sent;
	uint64_t bytes = 0;

	if (p->n_txb < WANEM_BURST) {
		n = ist_wanem_dir_release(&p->dir, now, (void **)&p->txb[p->n_txb],
					  WANEM_BURST - p->n_txb, drop, &n_drop);
		if (n_drop != 0)
			rte_pktmbuf_free_bulk((struct rte_mbuf **)drop, n_drop);
		if (p->n_txb == 0)
			p->tx_since = now;
		p->n_txb += n;
	}
	if (p->n_txb == 0) {
		p->tx_blocked = false;
		return n_drop;
	}
	/* Lengths are read before the PMD owns the mbufs. */
	for (uint16_t i = 0; i < p->n_txb; i++)
		bytes += rte_pktmbuf_pkt_len(p->txb[i]);
	sent = likely(port_ready[1 - p->rx_idx]) ? rte_eth_tx_burst(p->tx_port, 0, p->txb, p->n_txb)
						 : 0;
	for (uint16_t i = sent; i < p->n_txb; i++)
		bytes -= rte_pktmbuf_pkt_len(p->txb[i]);
	p->dir.c.tx += sent;
	p->dir.c.bytes += bytes;
	if (sent == p->n_txb) {
		p->n_txb = 0;
		p->tx_blocked = false;
		p->tx_dead = false;
		return sent + n_drop;
	}
	memmove(p->txb, p->txb + sent, (p->n_txb - sent) * sizeof(p->txb[0]));
	p->n_txb -= sent;
	p->tx_blocked = sent == 0;
	if (sent != 0) {
		p->tx_since = now;
		p->tx_dead = false;
	} else if (unlikely(p->tx_dead || now - p->tx_since > p->tx_stall)) {
		/*
		 * The peer is gone or stuck: count the loss instead of holding the
		 * line, and until it takes a packet again, drop what is due at once.
		 */
		rte_pktmbuf_free_bulk(p->txb, p->n_txb);
		p->dir.c.dropped_tx += p->n_txb;
		p->n_txb = 0;
		p->tx_blocked = false;
		p->tx_dead = true;
	}
	return sent + n_drop;
}

/* Build an injected packet of @p kind into @p m. @return 0 or -errno. */
static int inj_build(struct wanem_path *p, int kind, struct rte_mbuf *m)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	struct ist_key k;
	int len, rc;

	len = ist_wanem_inj_build(&p->inj, (enum ist_wanem_inj_kind)kind, f,
				  rte_pktmbuf_tailroom(m));
	if (len < 0)
		return len;
	if (kind == IST_WANEM_INJ_WRONG_KEY) {
		/* A well-formed packet under a key the receiver does not have: it fails the tag. */
		k.id = f[IST_WANEM_INJ_L234_LEN + offsetof(struct ist_wire_hdr, key_id)];
		ist_wanem_inj_random(&p->inj, k.key, sizeof(k.key));
		ist_wanem_inj_random(&p->inj, k.salt, sizeof(k.salt));
		rc = ist_aead_pkt_seal(&inj_aead, &k, f + IST_WANEM_INJ_L234_LEN,
				       (size_t)len - IST_WANEM_INJ_L234_LEN);
		if (rc < 0)
			return rc;
	}
	rte_pktmbuf_append(m, (uint16_t)len);
	return 0;
}

/*
 * Send the next injected packet of a direction when it is due: one per
 * WANEM_INJ_GAP_US, on the egress queue the forwarded packets use, so they
 * interleave with them; no impairment applies. A packet the egress refuses is
 * retried; refused for longer than the tx stall, it and all pending are
 * dropped (inject_dropped). Off the hot path while nothing is pending.
 */
static uint32_t path_inject(struct wanem_path *p, uint64_t now)
{
	struct rte_mbuf *m = p->inj_m;
	int kind, rc;

	if (likely(p->inj_pending == 0) || now < p->inj_next)
		return 0;
	if (m == NULL) {
		m = rte_pktmbuf_alloc(pool);
		if (m == NULL)
			return 0; /* the pool is drained for now: try again next loop */
		kind = ist_wanem_inj_take(&p->inj);
		if (unlikely(kind < 0)) {
			/* Cannot happen: inj_pending counts what the model has pending. */
			rte_pktmbuf_free(m);
			p->inj_pending = 0;
			return 0;
		}
		rc = inj_build(p, kind, m);
		if (unlikely(rc < 0)) {
			/* It would fail for the next ones too (say, no room for a tag): give up. */
			rte_pktmbuf_free(m);
			ist_wanem_inj_cancel(&p->inj);
			p->dir.c.inject_dropped += p->inj_pending;
			WANEM_LOG(WARNING, "%s: cannot build a %s packet (%s); dropped %u pending",
				  dir_arrow[p->rx_idx], ist_wanem_inj_kind_name((unsigned int)kind),
				  strerror(-rc), p->inj_pending);
			p->inj_pending = 0;
			return 0;
		}
		p->inj_m = m;
		p->inj_kind = kind;
		p->inj_since = now;
	}
	if (likely(port_ready[1 - p->rx_idx]) && rte_eth_tx_burst(p->tx_port, 0, &m, 1) == 1) {
		p->dir.c.injected[p->inj_kind]++;
		p->inj_m = NULL;
		p->inj_pending--;
		p->inj_next = now + p->inj_gap;
		if (p->inj_pending == 0)
			WANEM_LOG(NOTICE,
				  "%s: injection done; injected so far wrong-key=%" PRIu64
				  " wrong-version=%" PRIu64 " garbage=%" PRIu64 " replay=%" PRIu64,
				  dir_arrow[p->rx_idx], p->dir.c.injected[IST_WANEM_INJ_WRONG_KEY],
				  p->dir.c.injected[IST_WANEM_INJ_WRONG_VERSION],
				  p->dir.c.injected[IST_WANEM_INJ_GARBAGE],
				  p->dir.c.injected[IST_WANEM_INJ_REPLAY]);
		return 1;
	}
	if (now - p->inj_since > p->tx_stall) {
		rte_pktmbuf_free(m);
		p->inj_m = NULL;
		ist_wanem_inj_cancel(&p->inj);
		p->dir.c.inject_dropped += p->inj_pending;
		WANEM_LOG(WARNING, "%s: the egress refused injected packets for %d ms; dropped %u",
			  dir_arrow[p->rx_idx], WANEM_TX_STALL_MS, p->inj_pending);
		p->inj_pending = 0;
	}
	return 0;
}

/* Queue an inject command's packets. @locality data thread */
static int req_inject(struct wanem_req *rq)
{
	const struct ist_wanem_cmd *c = &rq->cmd;
	struct wanem_path *p = &paths[c->dirs == IST_WANEM_DIR_AB ? 0 : 1];
	int rc;

	if (c->kind == IST_WANEM_INJ_WRONG_KEY && !inj_aead_ok) {
		snprintf(rq->msg, sizeof(rq->msg),
			 "cannot seal: OpenSSL offers no AES-256-GCM here (see the start-up log)");
		return -ENOTSUP;
	}
	rc = ist_wanem_inj_add(&p->inj, c->kind, c->count, rq->msg, sizeof(rq->msg));
	if (rc == 0)
		p->inj_pending += c->count;
	return rc;
}

static void req_apply(struct wanem_req *rq, uint64_t now)
{
	const struct ist_wanem_cmd *c = &rq->cmd;

	rq->msg[0] = '\0';
	if (c->type == IST_WANEM_CMD_INJECT) {
		rq->status = req_inject(rq);
		return;
	}
	for (int i = 0; i < 2; i++) {
		struct ist_wanem_dir *d = &paths[i].dir;

		switch (c->type) {
		case IST_WANEM_CMD_PARTITION:
			ist_wanem_dir_partition(d, now, ist_wanem_ns_to_ticks(c->dur_ns, hz));
			break;
		case IST_WANEM_CMD_HEAL:
			ist_wanem_dir_heal(d, now);
			break;
		case IST_WANEM_CMD_SET:
			if (c->dirs & (1u << i))
				ist_wanem_dir_set(d, &c->spec, now);
			break;
		default:
			break;
		}
	}
	rq->status = 0;
}

static void cmds_poll(uint64_t now)
{
	void *obj = NULL;

	while (rte_ring_sc_dequeue(cmd_ring, &obj) == 0) {
		req_apply(obj, now);
		/* One request in flight and a ring of more: the enqueue cannot fail. */
		rte_ring_sp_enqueue(reply_ring, obj);
	}
	for (int i = 0; i < 2; i++) {
		paths[i].queued = ist_wanem_dir_queued(&paths[i].dir) + paths[i].n_txb;
		paths[i].cut = ist_wanem_dir_cut(&paths[i].dir, now);
	}
}

/*
 * Start a port whose peer was not there at start-up, and restart a memif
 * client cut off from its server: DPDK 22.11's memif client connects only in
 * dev_start. Runs on the data thread, which owns the ports, and only while a
 * port is down, so the syscalls it makes cost no traffic.
 */
static void ports_watch(void)
{
	char err[512];

	for (int i = 0; i < 2; i++) {
		struct rte_eth_link link;

		if (!port_ready[i]) {
			if (ist_port_start(&port_cfg[i], port_ids[i], err, sizeof(err)) == 0) {
				port_ready[i] = true;
				WANEM_LOG(NOTICE, "port %s started: its peer is there now",
					  port_cfg[i].name);
			}
			continue;
		}
		if (!ist_port_needs_restart_to_reconnect(&port_cfg[i]) ||
		    rte_eth_link_get_nowait(port_ids[i], &link) != 0 || link.link_status) {
			port_down_checks[i] = 0;
			continue;
		}
		/* Down twice in a row: not a connection still being set up. */
		if (++port_down_checks[i] < 2)
			continue;
		port_down_checks[i] = 0;
		rte_eth_dev_stop(port_ids[i]);
		port_ready[i] = ist_port_start(&port_cfg[i], port_ids[i], err, sizeof(err)) == 0;
		port_restarts[i]++;
		WANEM_LOG(NOTICE, "port %s: its memif server went away; %s", port_cfg[i].name,
			  port_ready[i] ? "reconnected" : "retrying every 500 ms");
	}
}

static void data_loop(void)
{
	struct ist_wanem_idle idle = {
		.spins = WANEM_IDLE_SPINS,
		.max_us = opts.idle_us,
		.left = WANEM_IDLE_SPINS,
	};
	uint64_t loops = 0, now, next, n0, n1, watch_every = hz / 1000 * WANEM_PORT_WATCH_MS;
	uint64_t next_watch = rte_rdtsc() + watch_every;
	uint32_t work, us;

	while (!quit) {
		work = path_rx(&paths[0]) + path_rx(&paths[1]);
		now = rte_rdtsc();
		if (unlikely(now >= next_watch)) {
			ports_watch();
			next_watch = now + watch_every;
		}
		work += path_tx(&paths[0], now) + path_tx(&paths[1], now);
		work += path_inject(&paths[0], now) + path_inject(&paths[1], now);
		if ((++loops & (WANEM_CMD_EVERY - 1)) == 0)
			cmds_poll(now);
		/* A direction whose egress refuses packets is retried after the sleep. */
		n0 = paths[0].tx_blocked ? UINT64_MAX : ist_wanem_dir_next_due(&paths[0].dir);
		n1 = paths[1].tx_blocked ? UINT64_MAX : ist_wanem_dir_next_due(&paths[1].dir);
		next = n0 < n1 ? n0 : n1;
		for (int i = 0; i < 2; i++)
			if (unlikely(paths[i].inj_pending != 0) && paths[i].inj_next < next)
				next = paths[i].inj_next;
		us = ist_wanem_idle_us(&idle, work != 0, now, next, hz);
		if (us != 0) {
			cmds_poll(now);
			rte_delay_us_sleep(us);
		}
	}
}

/* ---- Mgmt thread: control socket and periodic counters ---- */

static void counters_read(const struct ist_wanem_counters *c, struct ist_wanem_counters *out)
{
	const uint64_t *src = (const uint64_t *)c;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

static uint64_t elapsed_ms(void)
{
	return (rte_rdtsc() - t_start) * 1000 / hz;
}

/* "a->b: rx=... queued=N cut=0" for the periodic lines and the summary. */
static void path_line(int i, char *buf, size_t len)
{
	struct ist_wanem_counters c;
	int n;

	counters_read(&paths[i].dir.c, &c);
	n = ist_wanem_counters_format(&c, "", buf, len);
	if (n >= 0)
		snprintf(buf + n, len - (size_t)n, " queued=%u cut=%d",
			 __atomic_load_n(&paths[i].queued, __ATOMIC_RELAXED),
			 __atomic_load_n(&paths[i].cut, __ATOMIC_RELAXED) ? 1 : 0);
}

static void stats_print(void)
{
	char line[1024];
	uint64_t ms = elapsed_ms();

	for (int i = 0; i < 2; i++) {
		path_line(i, line, sizeof(line));
		printf(PROG ": t=%" PRIu64 ".%03" PRIu64 "s %s %s\n", ms / 1000, ms % 1000,
		       dir_arrow[i], line);
	}
	fflush(stdout);
}

static int unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* A socket file left by a killed emulator refuses connections; a live one accepts them. */
static int control_stale_check(const char *path)
{
	struct sockaddr_un sa;
	struct stat sb;
	int fd, rc;

	if (lstat(path, &sb) < 0 || !S_ISSOCK(sb.st_mode)) {
		fprintf(stderr,
			PROG ": --control %s exists and is not a socket; remove it or "
			     "choose another path\n",
			path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unix_addr(&sa, path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
	close(fd);
	if (rc == 0) {
		fprintf(stderr,
			PROG ": another " PROG " is serving %s; stop it with '" PROG
			     " ctl %s quit' or choose another --control path\n",
			path, path);
		return -EADDRINUSE;
	}
	if (rc != ECONNREFUSED || (unlink(path) < 0 && errno != ENOENT)) {
		fprintf(stderr, PROG ": cannot replace the stale socket %s (%s); remove it\n", path,
			strerror(rc != ECONNREFUSED ? rc : errno));
		return -EEXIST;
	}
	return 0;
}

static int control_listen(struct wanem_mgmt *mg)
{
	struct sockaddr_un sa;
	struct stat sb;
	int fd;

	unix_addr(&sa, mg->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		fprintf(stderr, PROG ": socket(): %s; check the file descriptor limit\n",
			strerror(errno));
		return -errno;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = errno;

		if (rc != EADDRINUSE || control_stale_check(mg->path) < 0 ||
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			if (rc != EADDRINUSE)
				fprintf(stderr,
					PROG
					": cannot bind --control %s: %s; check the directory\n",
					mg->path, strerror(rc));
			close(fd);
			return -EADDRINUSE;
		}
	}
	if (lstat(mg->path, &sb) == 0) {
		mg->sock_dev = sb.st_dev;
		mg->sock_ino = sb.st_ino;
		mg->sock_owned = true;
	}
	if (listen(fd, WANEM_CLIENTS_MAX) < 0) {
		fprintf(stderr, PROG ": listen on %s: %s\n", mg->path, strerror(errno));
		close(fd);
		return -errno;
	}
	mg->listen_fd = fd;
	return 0;
}

/* A successor may have taken the path over since; its file is not ours to remove. */
static void control_unlink(struct wanem_mgmt *mg)
{
	struct stat sb;

	if (mg->sock_owned && lstat(mg->path, &sb) == 0 && sb.st_dev == mg->sock_dev &&
	    sb.st_ino == mg->sock_ino)
		unlink(mg->path);
	mg->sock_owned = false;
}

static void client_close(struct wanem_client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
}

static void client_reply(struct wanem_client *cl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Replies are short and the socket has a send timeout: a plain send is enough. */
static void client_reply(struct wanem_client *cl, const char *fmt, ...)
{
	char out[WANEM_REPLY_MAX];
	va_list ap;
	size_t off = 0;
	ssize_t n;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(out, sizeof(out) - 1, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(out) - 1)
		len = snprintf(out, sizeof(out) - 1, "error: reply too long; report this");
	out[len++] = '\n';
	while (off < (size_t)len) {
		n = send(cl->fd, out + off, (size_t)len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			client_close(cl);
			return;
		}
		off += (size_t)n;
	}
}

static int mgmt_request(struct wanem_mgmt *mg, const struct ist_wanem_cmd *cmd)
{
	void *obj;

	if (mg->req_lost)
		return -ETIMEDOUT;
	mg->req.cmd = *cmd;
	mg->req.status = -EINPROGRESS;
	if (rte_ring_sp_enqueue(cmd_ring, &mg->req) != 0)
		return -ENOBUFS;
	for (int i = 0; i < WANEM_CMD_WAIT_MS * 10 && !quit; i++) {
		if (rte_ring_sc_dequeue(reply_ring, &obj) == 0)
			return mg->req.status;
		usleep(100);
	}
	/* The request may still be read later: never reuse it. */
	mg->req_lost = true;
	return -ETIMEDOUT;
}

static void reply_status(struct wanem_client *cl, int rc, const char *what)
{
	if (rc == 0)
		client_reply(cl, "ok %s", what);
	else if (rc == -ETIMEDOUT)
		client_reply(cl,
			     "error: the data thread did not answer within %d ms; check that " PROG
			     " is not stopping, or restart it",
			     WANEM_CMD_WAIT_MS);
	else
		client_reply(cl, "error: %s failed (%s)", what, strerror(-rc));
}

static void cmd_stats(struct wanem_client *cl)
{
	char out[WANEM_REPLY_MAX], pfx[8];
	struct ist_wanem_counters c;
	uint64_t ms = elapsed_ms();
	size_t off;
	int n;

	off = (size_t)snprintf(out, sizeof(out), "t=%" PRIu64 ".%03" PRIu64 "s", ms / 1000,
			       ms % 1000);
	for (int i = 0; i < 2; i++) {
		struct rte_eth_link link = {0};
		bool ready = __atomic_load_n(&port_ready[i], __ATOMIC_RELAXED);

		if (ready)
			rte_eth_link_get_nowait(port_ids[i], &link);
		off += (size_t)snprintf(out + off, sizeof(out) - off,
					" %c.link=%d %c.restarts=%" PRIu64, 'a' + i,
					ready && link.link_status, 'a' + i,
					__atomic_load_n(&port_restarts[i], __ATOMIC_RELAXED));
	}
	for (int i = 0; i < 2 && off < sizeof(out); i++) {
		snprintf(pfx, sizeof(pfx), "%s.", dir_name[i]);
		counters_read(&paths[i].dir.c, &c);
		out[off++] = ' ';
		n = ist_wanem_counters_format(&c, pfx, out + off, sizeof(out) - off);
		if (n < 0)
			break;
		off += (size_t)n;
		n = snprintf(out + off, sizeof(out) - off,
			     " %squeued=%u %scut=%d %sinject_pending=%u", pfx,
			     __atomic_load_n(&paths[i].queued, __ATOMIC_RELAXED), pfx,
			     __atomic_load_n(&paths[i].cut, __ATOMIC_RELAXED) ? 1 : 0, pfx,
			     __atomic_load_n(&paths[i].inj_pending, __ATOMIC_RELAXED));
		off += (size_t)n;
	}
	client_reply(cl, "ok %s", out);
}

static void cmd_run(struct wanem_mgmt *mg, struct wanem_client *cl, const char *line)
{
	char err[IST_WANEM_ERR_MAX + 64], what[IST_WANEM_SPEC_FMT_MAX + 64];
	char a[IST_WANEM_SPEC_FMT_MAX], b[IST_WANEM_SPEC_FMT_MAX];
	struct ist_wanem_cmd cmd;
	int rc;

	rc = ist_wanem_cmd_parse(line, &cmd, err, sizeof(err));
	if (rc == -ENODATA)
		return;
	if (rc < 0) {
		client_reply(cl, "error: %s", err);
		return;
	}
	switch (cmd.type) {
	case IST_WANEM_CMD_PARTITION:
		rc = mgmt_request(mg, &cmd);
		snprintf(what, sizeof(what),
			 "partition both directions for %" PRIu64 ".%03" PRIu64 " s",
			 cmd.dur_ns / 1000000000, cmd.dur_ns / 1000000 % 1000);
		if (rc == 0)
			WANEM_LOG(NOTICE, "%s (control)", what);
		reply_status(cl, rc, what);
		break;
	case IST_WANEM_CMD_HEAL:
		rc = mgmt_request(mg, &cmd);
		if (rc == 0)
			WANEM_LOG(NOTICE, "healed (control)");
		reply_status(cl, rc, "heal");
		break;
	case IST_WANEM_CMD_SET:
		rc = mgmt_request(mg, &cmd);
		if (rc == 0)
			for (int i = 0; i < 2; i++)
				if (cmd.dirs & (1u << i))
					mg->cur[i] = cmd.spec;
		ist_wanem_spec_format(&cmd.spec, a, sizeof(a));
		snprintf(what, sizeof(what), "set %s %s",
			 cmd.dirs == (IST_WANEM_DIR_AB | IST_WANEM_DIR_BA)
				 ? "both"
				 : dir_name[cmd.dirs >> 1],
			 a);
		if (rc == 0)
			WANEM_LOG(NOTICE, "%s (control)", what);
		reply_status(cl, rc, what);
		break;
	case IST_WANEM_CMD_INJECT:
		rc = mgmt_request(mg, &cmd);
		snprintf(what, sizeof(what), "inject %s %s %u", dir_name[cmd.dirs >> 1],
			 ist_wanem_inj_kind_name(cmd.kind), cmd.count);
		if (rc == 0) {
			WANEM_LOG(NOTICE, "%s (control): %s", what, mg->req.msg);
			client_reply(cl, "ok %s: %s", what, mg->req.msg);
		} else if (rc == -ETIMEDOUT || mg->req.msg[0] == '\0') {
			reply_status(cl, rc, what);
		} else {
			client_reply(cl, "error: %s: %s", what, mg->req.msg);
		}
		break;
	case IST_WANEM_CMD_STATS:
		cmd_stats(cl);
		break;
	case IST_WANEM_CMD_SHOW:
		ist_wanem_spec_format(&mg->cur[0], a, sizeof(a));
		ist_wanem_spec_format(&mg->cur[1], b, sizeof(b));
		client_reply(cl, "ok ab=%s ba=%s seed=%" PRIu64 " queue=%u", a, b, opts.seed,
			     paths[0].dir.cap);
		break;
	case IST_WANEM_CMD_HELP:
		client_reply(cl, "ok %s", ist_wanem_cmd_help);
		break;
	case IST_WANEM_CMD_QUIT:
		WANEM_LOG(NOTICE, "quit requested on the control socket");
		client_reply(cl, "ok quit");
		quit = true;
		break;
	}
}

static void client_read(struct wanem_mgmt *mg, struct wanem_client *cl)
{
	ssize_t n;
	char *nl;
	size_t used;
	bool eof;

	n = recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - 1 - cl->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	eof = n <= 0;
	if (n > 0)
		cl->in_len += (size_t)n;
	while (cl->fd >= 0 && (nl = memchr(cl->in, '\n', cl->in_len)) != NULL) {
		*nl = '\0';
		if (!cl->discarding)
			cmd_run(mg, cl, cl->in);
		cl->discarding = false;
		used = (size_t)(nl - cl->in) + 1;
		memmove(cl->in, cl->in + used, cl->in_len - used);
		cl->in_len -= used;
	}
	if (cl->fd < 0)
		return;
	if (cl->in_len == sizeof(cl->in) - 1) {
		if (!cl->discarding)
			client_reply(cl,
				     "error: command line is longer than %zu bytes; send one "
				     "short command per line",
				     sizeof(cl->in) - 2);
		cl->discarding = true;
		cl->in_len = 0;
	}
	if (eof) {
		/* A last command without a newline still deserves its reply. */
		if (cl->fd >= 0 && cl->in_len > 0 && !cl->discarding) {
			cl->in[cl->in_len] = '\0';
			cmd_run(mg, cl, cl->in);
		}
		client_close(cl);
	}
}

static void clients_accept(struct wanem_mgmt *mg)
{
	static const char full[] = "error: too many control clients; close idle connections\n";
	const struct timeval tmo = {.tv_sec = 1};
	struct wanem_client *cl;
	int fd;

	while ((fd = accept4(mg->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		cl = NULL;
		for (int i = 0; i < WANEM_CLIENTS_MAX && cl == NULL; i++)
			if (mg->clients[i].fd < 0)
				cl = &mg->clients[i];
		if (cl == NULL) {
			if (send(fd, full, sizeof(full) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				WANEM_LOG(WARNING, "refused a control client: too many clients");
			close(fd);
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
		cl->fd = fd;
		cl->in_len = 0;
		cl->discarding = false;
	}
}

static void *mgmt_main(void *arg)
{
	struct wanem_mgmt *mg = arg;
	struct pollfd pfd[1 + WANEM_CLIENTS_MAX];
	int idx[1 + WANEM_CLIENTS_MAX];
	int n, timeout;
	uint64_t ms;

	while (!quit) {
		n = 0;
		if (mg->listen_fd >= 0)
			pfd[n++] = (struct pollfd){.fd = mg->listen_fd, .events = POLLIN};
		for (int i = 0; i < WANEM_CLIENTS_MAX; i++) {
			if (mg->clients[i].fd < 0)
				continue;
			idx[n] = i;
			pfd[n++] = (struct pollfd){.fd = mg->clients[i].fd, .events = POLLIN};
		}
		/* Wake at least every 100 ms to notice a stop. */
		timeout = 100;
		ms = elapsed_ms();
		if (mg->next_stats != 0 && mg->next_stats > ms && mg->next_stats - ms < 100)
			timeout = (int)(mg->next_stats - ms);
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n && !quit; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == mg->listen_fd)
				clients_accept(mg);
			else if (mg->clients[idx[i]].fd >= 0)
				client_read(mg, &mg->clients[idx[i]]);
		}
		if (mg->next_stats != 0 && elapsed_ms() >= mg->next_stats) {
			stats_print();
			mg->next_stats += opts.stats_ms;
		}
	}
	for (int i = 0; i < WANEM_CLIENTS_MAX; i++)
		client_close(&mg->clients[i]);
	return NULL;
}

static int mgmt_start(struct wanem_mgmt *mg)
{
	sigset_t set, old;
	int rc;

	for (int i = 0; i < WANEM_CLIENTS_MAX; i++)
		mg->clients[i].fd = -1;
	mg->cur[0] = opts.spec[0];
	mg->cur[1] = opts.spec[1];
	mg->next_stats = opts.stats_ms != 0 && !opts.quiet ? opts.stats_ms : 0;
	if (opts.control != NULL) {
		mg->path = opts.control;
		rc = control_listen(mg);
		if (rc < 0)
			return rc;
	}
	/* Signals go to the data thread; the mgmt thread inherits a mask that blocks them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	rc = rte_ctrl_thread_create(&mg->thread, "wanem-mgmt", NULL, mgmt_main, mg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		fprintf(stderr, PROG ": cannot start the mgmt thread (%s)\n", strerror(rc));
		return -rc;
	}
	mg->running = true;
	return 0;
}

static void mgmt_stop(struct wanem_mgmt *mg)
{
	quit = true;
	if (mg->running)
		pthread_join(mg->thread, NULL);
	mg->running = false;
	if (mg->listen_fd >= 0)
		close(mg->listen_fd);
	mg->listen_fd = -1;
	control_unlink(mg);
}

/* ---- Set-up and teardown ---- */

static int ports_setup(void)
{
	char err[512];
	int rc;

	for (int i = 0; i < 2; i++) {
		struct ist_cfg_port *pc = &port_cfg[i];

		*pc = (struct ist_cfg_port){
			.rx_queues = opts.queues,
			.tx_queues = opts.queues,
			.rx_desc = WANEM_PORT_DESC,
			.tx_desc = WANEM_PORT_DESC,
			.mtu = opts.mtu,
			/* A bridge forwards every frame, whoever it is addressed to. */
			.promiscuous = true,
		};
		snprintf(pc->name, sizeof(pc->name), "%s", i == 0 ? "a" : "b");
		snprintf(pc->device, sizeof(pc->device), "%s", opts.port[i]);
		rc = ist_port_setup(pc, pool, &port_ids[i], err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, PROG ": %s (--port-%s)\n", err, pc->name);
			return rc;
		}
		port_up[i] = true;
		rc = ist_port_start(pc, port_ids[i], err, sizeof(err));
		if (rc == 0) {
			port_ready[i] = true;
		} else if (ist_port_needs_restart_to_reconnect(pc)) {
			/* A memif client before its server: the watchdog retries. */
			WANEM_LOG(WARNING, "%s; retrying every %d ms", err, WANEM_PORT_WATCH_MS);
		} else {
			fprintf(stderr, PROG ": %s (--port-%s)\n", err, pc->name);
			return rc;
		}
	}
	return 0;
}

static int paths_setup(uint32_t cap, uint64_t now)
{
	for (int i = 0; i < 2; i++) {
		struct wanem_path *p = &paths[i];
		int rc;

		rc = ist_wanem_dir_init(&p->dir, cap, hz, opts.seed * 2 + (uint64_t)i, now);
		if (rc != 0) {
			fprintf(stderr,
				PROG ": cannot allocate a delay line of %u packets (%s); "
				     "lower --queue\n",
				cap, strerror(-rc));
			return rc;
		}
		dir_ready[i] = true;
		ist_wanem_dir_set(&p->dir, &opts.spec[i], now);
		/* Its own stream, so injecting changes none of the impairments' decisions. */
		rc = ist_wanem_inj_init(&p->inj, ~(opts.seed * 2 + (uint64_t)i), opts.mtu);
		if (rc != 0) {
			fprintf(stderr, PROG ": --mtu %u is too small to inject packets\n",
				opts.mtu);
			return rc;
		}
		p->inj_gap = hz * WANEM_INJ_GAP_US / 1000000;
		p->rx_idx = (uint16_t)i;
		p->rx_port = port_ids[i];
		p->tx_port = port_ids[1 - i];
		p->n_rxq = opts.queues;
		p->tx_stall = hz / 1000 * WANEM_TX_STALL_MS;
	}
	return 0;
}

static void summary_print(void)
{
	char line[1024];
	uint64_t ms = elapsed_ms();

	printf(PROG ": stopped after %" PRIu64 ".%03" PRIu64 " s\n", ms / 1000, ms % 1000);
	for (int i = 0; i < 2; i++) {
		path_line(i, line, sizeof(line));
		printf(PROG ": total %s %s\n", dir_arrow[i], line);
	}
	fflush(stdout);
}

static void teardown(void)
{
	char rundir[PATH_MAX];
	void *pkts[256];
	uint32_t n;

	/* --in-memory still makes an empty runtime dir; remove it so nothing is left. */
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	mgmt_stop(&mgmt);
	for (int i = 0; i < 2; i++) {
		struct wanem_path *p = &paths[i];

		if (!dir_ready[i])
			continue;
		while ((n = ist_wanem_dir_flush(&p->dir, pkts, RTE_DIM(pkts))) != 0)
			rte_pktmbuf_free_bulk((struct rte_mbuf **)pkts, n);
		if (p->n_txb != 0)
			rte_pktmbuf_free_bulk(p->txb, p->n_txb);
		p->n_txb = 0;
		p->queued = 0;
		rte_pktmbuf_free(p->inj_m);
		p->inj_m = NULL;
	}
	for (int i = 0; i < 2; i++)
		if (port_up[i])
			ist_port_close(port_ids[i]);
	for (int i = 0; i < 2; i++)
		if (dir_ready[i])
			ist_wanem_dir_fini(&paths[i].dir);
	if (inj_aead_ok)
		ist_aead_ctx_fini(&inj_aead);
	inj_aead_ok = false;
	rte_ring_free(cmd_ring);
	rte_ring_free(reply_ring);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	rmdir(rundir);
}

/* ---- ctl client ---- */

static int ctl_main(int argc, char **argv)
{
	static const struct ist_linectl c = {
		.prog = PROG,
		.example_cmd = "stats",
		.help = ist_wanem_cmd_help,
		.line_max = WANEM_LINE_MAX,
		.reply_max = WANEM_REPLY_MAX,
		.timeout_s = WANEM_CTL_TIMEOUT_S,
	};

	return ist_linectl_main(&c, argc, argv);
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	char *eal_argv[MAX_EAL_ARGS];
	char eal_store[4096], a[IST_WANEM_SPEC_FMT_MAX], b[IST_WANEM_SPEC_FMT_MAX];
	uint32_t cap, mbufs;
	uint64_t now;
	int n, rc;

	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc, argv);
	rc = opts_parse(argc, argv);
	if (rc != 0)
		return rc == 1 ? 0 : rc;
	if (check_cpu() != 0)
		return IST_EXIT_CONFIG;
	if (check_hugepages() != 0 || memif_stale_check(opts.port[0]) != 0 ||
	    memif_stale_check(opts.port[1]) != 0)
		return EXIT_RUNTIME;
	n = eal_args(eal_argv, eal_store, sizeof(eal_store));
	if (n < 0)
		return bad_arg("too many EAL arguments; shorten the device strings");
	/* Before the EAL: a stop asked for during start-up still ends in teardown(). */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (rte_eal_init(n, eal_argv) < 0) {
		fprintf(stderr,
			PROG
			": EAL initialisation failed (%s); see the EAL message above and check "
			"--port-a, --port-b and --file-prefix\n",
			rte_strerror(rte_errno));
		rmdir(rte_eal_get_runtime_dir());
		return EXIT_RUNTIME;
	}
	/* Sleeps of a few microseconds should not be stretched by the default 50 us slack. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);

	hz = rte_get_tsc_hz();
	t_start = rte_rdtsc();
	cap = opts.queue;
	if (cap == 0) {
		uint32_t qa = ist_wanem_queue_size(&opts.spec[0]);
		uint32_t qb = ist_wanem_queue_size(&opts.spec[1]);

		cap = qa > qb ? qa : qb;
	}
	cap = rte_align32pow2(cap);
	/* Both delay lines full, every descriptor and burst buffer taken, and some slack. */
	mbufs = 2 * cap + 4u * opts.queues * WANEM_PORT_DESC + 4 * WANEM_BURST + 1024;
	pool = rte_pktmbuf_pool_create("wanem_pool", mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr,
			PROG ": cannot allocate %u mbufs (%s); lower --queue (now %u) or reserve "
			     "more hugepages\n",
			mbufs, rte_strerror(rte_errno), cap);
		rc = -ENOMEM;
	}
	if (rc == 0) {
		cmd_ring = rte_ring_create("wanem_cmd", 4, rte_socket_id(),
					   RING_F_SP_ENQ | RING_F_SC_DEQ);
		reply_ring = rte_ring_create("wanem_reply", 4, rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (cmd_ring == NULL || reply_ring == NULL) {
			fprintf(stderr, PROG ": cannot create the command rings (%s)\n",
				rte_strerror(rte_errno));
			rc = -ENOMEM;
		}
	}
	if (rc == 0) {
		/* Only `inject wrong-key` needs it: without it, that command is refused. */
		int arc = ist_aead_ctx_init(&inj_aead);

		inj_aead_ok = arc == 0;
		if (!inj_aead_ok)
			WANEM_LOG(WARNING, "no AES-256-GCM (%s): inject wrong-key is unavailable",
				  strerror(-arc));
	}
	if (rc == 0)
		rc = ports_setup();
	now = rte_rdtsc();
	if (rc == 0)
		rc = paths_setup(cap, now);
	if (rc == 0)
		rc = mgmt_start(&mgmt);
	if (rc != 0) {
		teardown();
		return EXIT_RUNTIME;
	}
	ist_wanem_spec_format(&opts.spec[0], a, sizeof(a));
	ist_wanem_spec_format(&opts.spec[1], b, sizeof(b));
	WANEM_LOG(NOTICE,
		  "bridging a=%s b=%s; a->b %s; b->a %s; seed %" PRIu64
		  ", delay line %u packets per direction, control %s",
		  opts.port[0], opts.port[1], a, b, opts.seed, cap,
		  opts.control != NULL ? opts.control : "none");

	data_loop();

	WANEM_LOG(NOTICE, "stopping: freeing queued packets, closing ports");
	mgmt_stop(&mgmt);
	cmds_poll(rte_rdtsc());
	/* "queued" in the summary is what was in flight and is now thrown away. */
	summary_print();
	teardown();
	return 0;
}
