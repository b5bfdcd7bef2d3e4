/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus-dataplane: the DPDK primary process of an appliance. Builds the EAL
 * arguments from the core map, sets up ports and the mempool, gives every
 * configured lcore its roles, serves the management socket and runs until
 * SIGINT/SIGTERM, then drains and releases everything. SIGHUP reloads the
 * record rules ([rule] sections) without stopping anything.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "ist_config.h"
#include "ist_lcore.h"
#include "ist_mgmt.h"
#include "ist_port.h"
#include "ist_repl.h"
#include "ist_role.h"

#define PROG         "isthmus-dataplane"
#define EXIT_RUNTIME 1
#define MAX_EAL_ARGS 64

RTE_LOG_REGISTER(ist_dp_logtype, isthmus.dataplane, INFO);
#define DP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, ist_dp_logtype, PROG ": " fmt "\n", ##__VA_ARGS__)

static volatile bool quit;
static struct ist_config cfg;

/* SIGHUP: reload the record rules from the core map (the mgmt thread does it). */
static void on_sighup(int sig)
{
	(void)sig;
	ist_repl_reload_request();
}

static void on_signal(int sig)
{
	(void)sig;
	quit = true;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: " PROG " -c FILE [--check]\n"
		     "  -c, --config FILE  the appliance's core map (see docs/CONFIG.md)\n"
		     "      --check        validate the core map and the roles, then exit\n"
		     "  -h, --help         this text\n"
		     "  -V, --version      print the version\n"
		     "Exit codes: 0 clean stop, 1 runtime error, 2 configuration error.\n");
}

/* Hugepages are checked before the EAL so the error names the fix. */
static int check_hugepages(char *err, size_t len)
{
	FILE *f;
	char line[512];
	long free_pages = -1;
	bool mounted = false;

	if (cfg.eal.no_huge)
		return 0;
	f = fopen("/proc/meminfo", "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "HugePages_Free: %ld", &free_pages) == 1)
			break;
	if (f != NULL)
		fclose(f);
	f = fopen("/proc/mounts", "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		mounted |= strstr(line, " hugetlbfs ") != NULL;
	if (f != NULL)
		fclose(f);
	if (free_pages <= 0) {
		snprintf(err, len,
			 "no free hugepages; reserve some (echo 1024 > "
			 "/proc/sys/vm/nr_hugepages) or set eal.no_huge = true in %s",
			 cfg.path);
		return -ENOMEM;
	}
	if (!mounted && !cfg.eal.in_memory) {
		snprintf(err, len,
			 "no hugetlbfs mounted; mount -t hugetlbfs nodev /dev/hugepages "
			 "or set eal.in_memory = true in %s",
			 cfg.path);
		return -ENOENT;
	}
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
	ARG("--file-prefix=%s", cfg.eal.file_prefix);
	/* --no-huge implies --legacy-mem, which the EAL refuses beside --in-memory;
	 * without hugepage files only the shared config is left to drop. */
	if (cfg.eal.no_huge)
		ARG("--no-huge");
	if (cfg.eal.in_memory)
		ARG(cfg.eal.no_huge ? "--no-shconf" : "--in-memory");
	if (cfg.eal.memory_mb)
		ARG("-m%u", cfg.eal.memory_mb);
	ARG("--log-level=%s", cfg.eal.log_level);
	/* Our API is control's; DPDK's telemetry socket would be one more file to clean. */
	ARG("--no-telemetry");
	{
		char lcores[512];
		size_t lo = 0;

		for (unsigned int i = 0; i < cfg.n_lcores; i++) {
			const struct ist_cfg_lcore *l = &cfg.lcores[i];
			int cpu = l->cpu >= 0 ? l->cpu : (int)l->id;

			lo += snprintf(lcores + lo, sizeof(lcores) - lo, "%s%u@%d", i ? "," : "",
				       l->id, cpu);
			if (lo >= sizeof(lcores))
				return -E2BIG;
		}
		ARG("--lcores=%s", lcores);
		ARG("--main-lcore=%u", cfg.lcores[0].id);
	}
	for (unsigned int i = 0; i < cfg.n_ports; i++) {
		if (ist_port_is_pci(cfg.ports[i].device)) {
			ARG("-a%s", cfg.ports[i].device);
			pci = true;
		} else {
			ARG("--vdev=%s", cfg.ports[i].device);
		}
	}
	if (!pci)
		ARG("--no-pci");
	if (cfg.eal.extra_args[0] != '\0') {
		char *save = NULL;
		static char extra[IST_CFG_STR_LEN];

		snprintf(extra, sizeof(extra), "%s", cfg.eal.extra_args);
		for (char *t = strtok_r(extra, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
			ARG("%s", t);
	}
#undef ARG
	argv[argc] = NULL;
	return argc;
}

/* The EAL answers a bad CPU with its whole usage text: check first, say it in one line. */
static int check_cpus(char *err, size_t len)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	for (unsigned int i = 0; i < cfg.n_lcores; i++) {
		const struct ist_cfg_lcore *l = &cfg.lcores[i];
		int cpu = l->cpu >= 0 ? l->cpu : (int)l->id;

		if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set)) {
			snprintf(err, len,
				 "%s: lcore %u runs on CPU %d, which this process may not use "
				 "(it may use %d CPUs, 0..%ld online); set lcore %u.cpu to one of "
				 "them",
				 cfg.path, l->id, cpu, CPU_COUNT(&set),
				 sysconf(_SC_NPROCESSORS_ONLN) - 1, l->id);
			return -EINVAL;
		}
	}
	return 0;
}

/* Every configured role must exist in this build before anything starts. */
static int check_roles(char *err, size_t len)
{
	char avail[256];

	ist_role_list(avail, sizeof(avail));
	for (unsigned int i = 0; i < cfg.n_lcores; i++)
		for (unsigned int r = 0; r < cfg.lcores[i].n_roles; r++)
			if (ist_role_find(cfg.lcores[i].roles[r]) == NULL) {
				snprintf(err, len,
					 "%s: lcore %u.roles: role '%s' is not in this "
					 "build of " PROG " (available: %s); change the "
					 "core map or upgrade",
					 cfg.path, cfg.lcores[i].id, cfg.lcores[i].roles[r], avail);
				return -ENOTSUP;
			}
	return 0;
}

static struct ist_lcore *lcores[IST_CFG_MAX_LCORES];
static uint16_t port_ids[IST_CFG_MAX_PORTS];
static bool port_up[IST_CFG_MAX_PORTS];
static struct rte_mempool *pool;
static struct ist_mgmt mgmt;

static volatile uint8_t port_ready[IST_CFG_MAX_PORTS];

/*
 * The link port's peer is another appliance that may not be up yet (a memif
 * client before its server): that port starts later, from the mgmt
 * thread's watchdog. Any other port that cannot start is an error.
 */
static int start_port(unsigned int i, char *err, size_t len)
{
	int rc = ist_port_start(&cfg.ports[i], port_ids[i], err, len);

	if (rc == 0) {
		port_ready[i] = 1;
		return 0;
	}
	if (!cfg.link.enabled || cfg.link.port != i)
		return rc;
	DP_LOG(WARNING, "%s; retrying every second: the peer appliance may not be up yet", err);
	return 0;
}

static int setup_lcore(unsigned int idx, char *err, size_t len)
{
	const struct ist_cfg_lcore *lcfg = &cfg.lcores[idx];
	struct ist_role_env env = {
		.cfg = &cfg,
		.lcore = lcfg,
		.pool = pool,
		.tsc_hz = rte_get_tsc_hz(),
		/* lcore k owns tx queue k of every port; roles check it exists. */
		.tx_queue = idx,
		.port_ready = port_ready,
	};
	struct ist_lcore *lc;
	int rc;

	memcpy(env.port_ids, port_ids, sizeof(env.port_ids));
	lc = rte_zmalloc("ist_lcore", sizeof(*lc), RTE_CACHE_LINE_SIZE);
	if (lc == NULL) {
		snprintf(err, len, "out of memory for lcore %u state", lcfg->id);
		return -ENOMEM;
	}
	lcores[idx] = lc;
	lc->lcore_id = lcfg->id;
	lc->cpu = lcfg->cpu >= 0 ? (uint32_t)lcfg->cpu : lcfg->id;
	lc->quit = &quit;
	lc->idle.spins = lcfg->idle_spins;
	lc->idle.left = lcfg->idle_spins;
	lc->idle.max_us = lcfg->idle_sleep_us;
	rc = ist_lcore_rings_init(lc);
	if (rc != 0) {
		snprintf(err, len, "out of memory for lcore %u command rings", lcfg->id);
		return rc;
	}
	for (unsigned int r = 0; r < lcfg->n_roles; r++) {
		struct ist_role_slot *rs = &lc->roles[r];

		rs->ops = ist_role_find(lcfg->roles[r]);
		rc = rs->ops->init(&env, &rs->state, err, len);
		if (rc != 0)
			return rc;
		lc->n_roles++;
	}
	return 0;
}

static void teardown(void)
{
	char rundir[PATH_MAX];

	/* --in-memory still makes an empty runtime dir; remove it so nothing is left. */
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	ist_mgmt_stop(&mgmt);
	for (unsigned int i = 0; i < cfg.n_lcores; i++) {
		struct ist_lcore *lc = lcores[i];

		if (lc == NULL)
			continue;
		for (unsigned int r = 0; r < lc->n_roles; r++)
			if (lc->roles[r].ops->fini != NULL)
				lc->roles[r].ops->fini(lc->roles[r].state);
		ist_lcore_rings_free(lc);
		rte_free(lc);
		lcores[i] = NULL;
	}
	for (unsigned int i = 0; i < cfg.n_ports; i++)
		if (port_up[i])
			ist_port_close(port_ids[i]);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	if (cfg.eal.in_memory)
		rmdir(rundir);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	char *eal_argv[MAX_EAL_ARGS];
	char eal_store[4096], err[512];
	const char *path = NULL;
	bool check_only = false;
	struct sigaction sa = {.sa_handler = on_signal};
	int opt, n, rc;

	while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check_only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(PROG " %s\n", ISTHMUS_VERSION);
			return 0;
		default:
			fprintf(stderr, PROG ": unknown option; see " PROG " --help\n");
			return IST_EXIT_CONFIG;
		}
	}
	if (path == NULL || optind != argc) {
		fprintf(stderr, PROG ": %s; run " PROG " -c FILE (see --help)\n",
			path == NULL ? "no core map given" : "unexpected argument");
		return IST_EXIT_CONFIG;
	}
	rc = ist_config_load(path, &cfg, err, sizeof(err));
	if (rc == 0)
		rc = check_roles(err, sizeof(err));
	if (rc == 0 && !check_only)
		rc = check_cpus(err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return IST_EXIT_CONFIG;
	}
	if (check_only) {
		printf("%s: ok\n", path);
		return 0;
	}
	if (ist_mgmt_socket_check(cfg.control.socket, err, sizeof(err)) != 0 ||
	    check_hugepages(err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return EXIT_RUNTIME;
	}
	n = eal_args(eal_argv, eal_store, sizeof(eal_store));
	if (n < 0) {
		fprintf(stderr, PROG ": %s: too many EAL arguments; shorten eal.extra_args\n",
			path);
		return IST_EXIT_CONFIG;
	}
	if (rte_eal_init(n, eal_argv) < 0) {
		fprintf(stderr,
			PROG ": EAL initialisation failed (%s); see the EAL message above "
			     "and check the [eal] and [port] sections of %s\n",
			rte_strerror(rte_errno), path);
		if (cfg.eal.in_memory)
			rmdir(rte_eal_get_runtime_dir());
		return EXIT_RUNTIME;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_sighup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = 0;
	pool = rte_pktmbuf_pool_create("ist_pool", cfg.mempool.mbufs, cfg.mempool.cache, 0,
				       cfg.mempool.data_room, rte_socket_id());
	if (pool == NULL) {
		snprintf(err, sizeof(err),
			 "cannot allocate %u mbufs of %u bytes (%s); lower "
			 "mempool.mbufs or reserve more hugepages",
			 cfg.mempool.mbufs, cfg.mempool.data_room, rte_strerror(rte_errno));
		rc = -ENOMEM;
	}
	for (unsigned int i = 0; rc == 0 && i < cfg.n_ports; i++) {
		rc = ist_port_setup(&cfg.ports[i], pool, &port_ids[i], err, sizeof(err));
		port_up[i] = rc == 0;
		if (rc == 0)
			rc = start_port(i, err, sizeof(err));
	}
	for (unsigned int i = 0; rc == 0 && i < cfg.n_lcores; i++)
		rc = setup_lcore(i, err, sizeof(err));
	if (rc == 0) {
		mgmt.cfg = &cfg;
		mgmt.lcores = lcores;
		mgmt.n_lcores = cfg.n_lcores;
		mgmt.port_ids = port_ids;
		mgmt.port_ready = port_ready;
		rc = ist_mgmt_start(&mgmt, err, sizeof(err));
	}
	if (rc != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		teardown();
		return EXIT_RUNTIME;
	}
	DP_LOG(NOTICE, "appliance %s (%s) running: %u lcores, %u ports, socket %s",
	       cfg.appliance.id, cfg.appliance.region, cfg.n_lcores, cfg.n_ports,
	       cfg.control.socket);

	for (unsigned int i = 1; i < cfg.n_lcores; i++) {
		rc = rte_eal_remote_launch(ist_lcore_main, lcores[i], cfg.lcores[i].id);
		if (rc != 0) {
			DP_LOG(ERR, "cannot launch lcore %u (%s)", cfg.lcores[i].id, strerror(-rc));
			quit = true;
			break;
		}
	}
	/* The main lcore runs its own roles and returns once a signal sets quit. */
	ist_lcore_main(lcores[0]);
	rte_eal_mp_wait_lcore();
	DP_LOG(NOTICE, "stopping: lcores drained, releasing ports and memory");
	teardown();
	fprintf(stderr, PROG ": stopped cleanly\n");
	return rc == 0 ? 0 : EXIT_RUNTIME;
}
