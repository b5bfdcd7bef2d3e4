/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus-control: the appliance's slow-path process (ARCHITECTURE.md §2, §7).
 * A plain process, no EAL: one event loop thread (loop.h) serves the HTTP API
 * (http.h) and talks to the data plane (dp_client.h); one thread per Kafka
 * cluster watches its health (kafka_health.h).
 *
 * Exit status: 0 after SIGINT/SIGTERM, 1 on a runtime error (the HTTP port
 * cannot be bound, ...), 2 on a usage or configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "dp_client.h"
#include "http.h"
#include "ist_config.h"
#include "kafka_health.h"
#include "log.h"
#include "loop.h"

#define KAFKA_HEALTH_INTERVAL_MS 2000
#define KAFKA_HEALTH_TIMEOUT_MS  1500

static const char usage[] =
	"usage: isthmus-control -c FILE\n"
	"\n"
	"The control process of an isthmus appliance: connects to the data plane over\n"
	"control.socket, watches the Kafka clusters, and serves the HTTP API on\n"
	"control.http_listen (GET /status, GET /metrics, POST /v1/lcores/...).\n"
	"Stop it with SIGINT or SIGTERM.\n"
	"\n"
	"  -c, --config FILE   the appliance's core map (required)\n"
	"  -h, --help          this text\n"
	"  -V, --version       print the version\n"
	"\n"
	"exit status: 0 stopped by a signal, 1 runtime error, 2 usage or config error\n";

static void on_signal(struct ist_loop *lp, int fd, void *arg, int mask)
{
	struct signalfd_siginfo si;

	(void)arg;
	(void)mask;
	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	ist_ctl_log("SIG%s received, shutting down", sigabbrev_np((int)si.ssi_signo));
	ist_loop_stop(lp);
}

static int parse_args(int argc, char **argv, const char **config)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*config = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case 'V':
			printf("isthmus-control %s\n", ISTHMUS_VERSION);
			exit(0);
		case ':':
			fprintf(stderr,
				"isthmus-control: %s needs a value: see isthmus-control --help\n",
				argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr,
				"isthmus-control: unknown option '%s': see isthmus-control "
				"--help\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"isthmus-control: unexpected argument '%s': see isthmus-control --help\n",
			argv[optind]);
		return -EINVAL;
	}
	if (*config == NULL) {
		fprintf(stderr,
			"isthmus-control: -c FILE is required: see isthmus-control --help\n");
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ist_dp_client_opts dpo = {0};
	struct ist_http_ctx hc = {0};
	struct ist_kafka_health *kh = NULL;
	struct ist_dp_client *dp = NULL;
	struct ist_http *http = NULL;
	struct ist_config *cfg = NULL;
	struct ist_loop *lp = NULL;
	const char *config = NULL;
	char err[512];
	sigset_t sigs;
	int sfd = -1, rc, ret = 1;

	if (parse_args(argc, argv, &config) < 0)
		return IST_EXIT_CONFIG;
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		fprintf(stderr, "isthmus-control: out of memory\n");
		return 1;
	}
	rc = ist_config_load(config, cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "isthmus-control: %s\n", err);
		free(cfg);
		return IST_EXIT_CONFIG;
	}

	/* Signals arrive through the loop; the Kafka threads inherit the mask,
	 * so none of them is interrupted. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	lp = ist_loop_create();
	if (sfd < 0 || lp == NULL) {
		fprintf(stderr, "isthmus-control: cannot set up the event loop: %s\n",
			strerror(errno));
		goto out;
	}
	ist_loop_file_add(lp, sfd, IST_LOOP_READABLE, on_signal, NULL);

	dpo.socket_path = cfg->control.socket;
	dpo.status_interval_ms = cfg->control.status_interval_ms;
	dpo.appliance = cfg->appliance.id;
	dpo.region = cfg->appliance.region;
	dpo.started_wall_ms = ist_loop_wall_ms(lp);
	dp = ist_dp_client_create(lp, &dpo);
	if (dp == NULL) {
		fprintf(stderr,
			"isthmus-control: cannot use control.socket '%s' (%s): fix it in %s\n",
			cfg->control.socket, strerror(errno), config);
		ret = IST_EXIT_CONFIG;
		goto out;
	}

	hc.lp = lp;
	hc.dp = dp;
	hc.appliance = cfg->appliance.id;
	hc.region = cfg->appliance.region;
	hc.dp_socket = cfg->control.socket;
	hc.started_ms = ist_loop_now_ms(lp);
	http = ist_http_start(&hc, cfg->control.http_listen, err, sizeof(err));
	if (http == NULL) {
		fprintf(stderr, "isthmus-control: %s: %schange control.http_listen in %s\n", err,
			errno == EADDRINUSE ? "stop the other process or " : "", config);
		goto out;
	}

	kh = ist_kafka_health_start(cfg->kafka, cfg->n_kafka, KAFKA_HEALTH_INTERVAL_MS,
				    KAFKA_HEALTH_TIMEOUT_MS, err, sizeof(err));
	if (kh == NULL) {
		fprintf(stderr, "isthmus-control: %s\n", err);
		goto out;
	}
	ist_http_set_kafka(http, kh);

	ist_ctl_log("started %s (appliance %s, region %s): API on http://%s, data plane at %s, "
		    "%u Kafka cluster(s)",
		    ISTHMUS_VERSION, cfg->appliance.id, cfg->appliance.region,
		    cfg->control.http_listen, cfg->control.socket, cfg->n_kafka);
	rc = ist_loop_run(lp);
	if (rc < 0) {
		ist_ctl_log("event loop failed: %s", strerror(-rc));
		goto out;
	}
	ret = 0;

out:
	/* Order matters: the data plane client completes pending commands,
	 * which resumes their HTTP requests, before the HTTP server stops. */
	ist_kafka_health_stop(kh);
	ist_dp_client_destroy(dp);
	ist_http_stop(http);
	if (sfd >= 0) {
		if (lp != NULL)
			ist_loop_file_del(lp, sfd, IST_LOOP_READABLE);
		close(sfd);
	}
	ist_loop_destroy(lp);
	if (ret == 0)
		ist_ctl_log("stopped");
	free(cfg);
	return ret;
}
