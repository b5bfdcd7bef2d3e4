/* SPDX-License-Identifier: BSD-3-Clause */
/* The CLI's pure parts: argument parsing, URLs and paths, the human status text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <isthmus/ipc.h>

#include "cli_args.h"
#include "cli_print.h"
#include "dp_status.h"
#include "fixtures.h"
#include "render.h"

#define PARSE(cmd, err, ...)                                                                    \
	({                                                                                      \
		char *const argv_[] = {"isthmus", __VA_ARGS__, NULL};                           \
		ist_cli_parse((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_, (cmd), (err), \
			      256);                                                             \
	})

static void test_parse_verbs(void **state)
{
	struct ist_cli_cmd cmd;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cmd, err, "status"), 0);
	assert_int_equal(cmd.verb, IST_CLI_STATUS);
	assert_false(cmd.json);
	assert_int_equal(PARSE(&cmd, err, "--api", "http://h:1", "status", "--json"), 0);
	assert_true(cmd.json);
	assert_string_equal(cmd.api, "http://h:1");
	/* Global options may follow the verb, and take --opt=value. */
	assert_int_equal(PARSE(&cmd, err, "status", "-c", "/etc/a.conf"), 0);
	assert_string_equal(cmd.config, "/etc/a.conf");
	assert_int_equal(PARSE(&cmd, err, "status", "--api=http://x:2"), 0);
	assert_string_equal(cmd.api, "http://x:2");

	assert_int_equal(PARSE(&cmd, err, "pause"), 0);
	assert_int_equal(cmd.verb, IST_CLI_PAUSE);
	assert_false(cmd.has_lcore);
	assert_int_equal(PARSE(&cmd, err, "resume", "--lcore", "4"), 0);
	assert_int_equal(cmd.verb, IST_CLI_RESUME);
	assert_true(cmd.has_lcore);
	assert_int_equal(cmd.lcore, 4);
	assert_int_equal(PARSE(&cmd, err, "idle-sleep", "--us", "300", "--lcore=2"), 0);
	assert_int_equal(cmd.verb, IST_CLI_IDLE_SLEEP);
	assert_int_equal(cmd.us, 300);
	assert_int_equal(cmd.lcore, 2);
}

static void test_parse_help_and_version(void **state)
{
	struct ist_cli_cmd cmd;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cmd, err, "--help"), 0);
	assert_int_equal(cmd.verb, IST_CLI_HELP);
	assert_int_equal(cmd.help_verb, IST_CLI_NONE);
	assert_int_equal(PARSE(&cmd, err, "help", "pause"), 0);
	assert_int_equal(cmd.verb, IST_CLI_HELP);
	assert_int_equal(cmd.help_verb, IST_CLI_PAUSE);
	assert_int_equal(PARSE(&cmd, err, "idle-sleep", "--help"), 0);
	assert_int_equal(cmd.verb, IST_CLI_HELP);
	assert_int_equal(cmd.help_verb, IST_CLI_IDLE_SLEEP);
	assert_int_equal(PARSE(&cmd, err, "status", "-h"), 0);
	assert_int_equal(cmd.help_verb, IST_CLI_STATUS);
	assert_int_equal(PARSE(&cmd, err, "--version"), 0);
	assert_int_equal(cmd.verb, IST_CLI_VERSION);

	assert_non_null(
		strstr(ist_cli_usage(IST_CLI_NONE), "usage: isthmus [--api URL | -c FILE]"));
	assert_non_null(strstr(ist_cli_usage(IST_CLI_IDLE_SLEEP), "--us N"));
	assert_non_null(strstr(ist_cli_usage(IST_CLI_STATUS), "--json"));
}

static void test_parse_errors_name_the_culprit(void **state)
{
	struct ist_cli_cmd cmd;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cmd, err, "stauts"), -EINVAL);
	assert_string_equal(err, "isthmus: unknown verb 'stauts' (did you mean 'status'?): see "
				 "isthmus --help");
	assert_int_equal(PARSE(&cmd, err, "frobnicate"), -EINVAL);
	assert_string_equal(err, "isthmus: unknown verb 'frobnicate': see isthmus --help");
	assert_int_equal(PARSE(&cmd, err, "--frob", "status"), -EINVAL);
	assert_string_equal(err, "isthmus: unknown option '--frob': see isthmus --help");
	assert_int_equal(PARSE(&cmd, err, "status", "--lcore", "1"), -EINVAL);
	assert_string_equal(err,
			    "isthmus: unknown option '--lcore' for status (it takes --json): see "
			    "isthmus --help");
	assert_int_equal(PARSE(&cmd, err, "idle-sleep"), -EINVAL);
	assert_non_null(strstr(err, "--us"));
	assert_int_equal(PARSE(&cmd, err, "idle-sleep", "--us", "-5"), -EINVAL);
	assert_int_equal(PARSE(&cmd, err, "pause", "--lcore", "one"), -EINVAL);
	assert_int_equal(PARSE(&cmd, err, "pause", "--lcore"), -EINVAL);
	assert_int_equal(PARSE(&cmd, err, "pause", "extra"), -EINVAL);
	assert_non_null(strstr(err, "'extra'"));
	assert_int_equal(PARSE(&cmd, err, "--api", "h:1", "status"), -EINVAL);
	assert_int_equal(PARSE(&cmd, err, "--api", "http://h:1", "-c", "f", "status"), -EINVAL);
	assert_int_equal(PARSE(&cmd, err, "help", "nope"), -EINVAL);
	assert_int_equal(ist_cli_parse(1, (char *const[]){"isthmus", NULL}, &cmd, err, 256),
			 -EINVAL);
	assert_non_null(strstr(err, "isthmus --help"));
}

static void test_urls_and_paths(void **state)
{
	struct ist_cli_cmd cmd;
	char buf[128], err[256], text[512];

	(void)state;
	assert_int_equal(ist_cli_api_url("127.0.0.1:9641", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "http://127.0.0.1:9641");
	assert_int_equal(ist_cli_api_url("0.0.0.0:80", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "http://127.0.0.1:80");
	assert_int_equal(ist_cli_api_url("[::1]:80", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "http://[::1]:80");
	assert_int_equal(ist_cli_api_url("nope", buf, sizeof(buf)), -EINVAL);

	assert_int_equal(PARSE(&cmd, err, "pause"), 0);
	assert_int_equal(ist_cli_cmd_path(&cmd, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/v1/lcores/all/pause");
	assert_int_equal(PARSE(&cmd, err, "resume", "--lcore", "7"), 0);
	assert_int_equal(ist_cli_cmd_path(&cmd, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/v1/lcores/7/resume");
	assert_int_equal(PARSE(&cmd, err, "idle-sleep", "--us", "0", "--lcore", "1"), 0);
	assert_int_equal(ist_cli_cmd_path(&cmd, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/v1/lcores/1/idle-sleep?us=0");
	assert_int_equal(PARSE(&cmd, err, "status"), 0);
	assert_int_equal(ist_cli_cmd_path(&cmd, buf, sizeof(buf)), -EINVAL);

	snprintf(text, sizeof(text),
		 "; c\n[appliance]\nid = a\nhttp_listen = 1.2.3.4:1\n"
		 "[ control ]\nsocket = /x\n  http_listen = 127.0.0.1:7000   ; api\n"
		 "[kafka k]\nbootstrap = ${UNSET}\n");
	assert_int_equal(ist_cli_find_http_listen(text, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "127.0.0.1:7000");
	assert_int_equal(ist_cli_find_http_listen("[control]\nsocket = /x\n", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "127.0.0.1:9641");
	assert_int_equal(
		ist_cli_find_http_listen("[control]\nhttp_listen = ${API}\n", buf, sizeof(buf)),
		-EINVAL);
}

static void test_print_status(void **state)
{
	static unsigned char payload[IST_IPC_MAX_PAYLOAD];
	struct ist_kafka_cluster_state k[1] = {{.checked = true}};
	struct ist_dp_client_state dp = {0};
	struct ist_ctl_view v = {0};
	struct ist_dp_status *ds;
	enum ist_ipc_reject why;
	char err[64], *out = NULL;
	size_t outlen = 0;
	FILE *f;
	json_t *doc;

	(void)state;
	assert_int_equal(ist_dp_status_decode(payload, fx_status_payload(payload, sizeof(payload)),
					      &ds, &why, err, sizeof(err)),
			 0);
	ist_dp_status_busy(ds, NULL);
	ds->rx_ms = 1000;
	dp.connected = true;
	dp.since_wall_ms = 1700000000000ull;
	dp.hello.pid = FX_PID;
	dp.status = ds;
	dp.rx_rejected[IST_IPC_REJ_UNKNOWN_TYPE] = 5;
	snprintf(k[0].name, sizeof(k[0].name), "src");
	snprintf(k[0].bootstrap, sizeof(k[0].bootstrap), "b:9092");
	snprintf(k[0].error, sizeof(k[0].error), "Local: Broker transport failure");
	v.appliance = FX_APPLIANCE;
	v.region = FX_REGION;
	v.version = "1.2.3";
	v.control_pid = 9;
	v.control_uptime_ms = 7384000;
	v.now_ms = 1120;
	v.dp = &dp;
	v.kafka = k;
	v.n_kafka = 1;
	doc = ist_render_status(&v);
	f = open_memstream(&out, &outlen);
	ist_cli_print_status(f, doc);
	fclose(f);

	assert_non_null(strstr(out, "appliance  t-app (region t-reg)\n"));
	assert_non_null(strstr(out, "control    up 2h03m, pid 9, version 1.2.3\n"));
	assert_non_null(strstr(out,
			       "dataplane  connected since 2023-11-14T22:13:20.000Z, pid 4242, "
			       "up 5s, status 120 ms old\n"));
	assert_non_null(strstr(out, "link-rx,link-tx"));
	assert_non_null(strstr(out, "25.0"));
	assert_non_null(strstr(out, "net_memif"));
	assert_non_null(strstr(out, "up 10G"));
	assert_non_null(strstr(out, "src              NO"));
	assert_non_null(strstr(out, "(Local: Broker transport failure)"));
	assert_non_null(strstr(out, "IPC rejections\n"));
	assert_non_null(strstr(out, "by the data plane: truncated 1\n"));
	assert_non_null(strstr(out, "by control:        unknown_type 5\n"));
	free(out);
	json_decref(doc);

	/* Disconnected: the state line says since when and why. */
	dp.connected = false;
	dp.status = NULL;
	snprintf(dp.last_error, sizeof(dp.last_error), "connect: Connection refused");
	memset(dp.rx_rejected, 0, sizeof(dp.rx_rejected));
	v.dp_socket = "/run/x.sock";
	doc = ist_render_status(&v);
	f = open_memstream(&out, &outlen);
	ist_cli_print_status(f, doc);
	fclose(f);
	assert_non_null(strstr(out, "dataplane  disconnected since 2023-11-14T22:13:20.000Z "
				    "(connect: Connection refused) (socket /run/x.sock)\n"));
	assert_null(strstr(out, "LCORE"));
	assert_null(strstr(out, "IPC rejections"));
	free(out);
	json_decref(doc);
	ist_dp_status_free(ds);
}

static void test_duration(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(ist_cli_duration(999, b, sizeof(b)), "0s");
	assert_string_equal(ist_cli_duration(59000, b, sizeof(b)), "59s");
	assert_string_equal(ist_cli_duration(187000, b, sizeof(b)), "3m07s");
	assert_string_equal(ist_cli_duration(7384000, b, sizeof(b)), "2h03m");
	assert_string_equal(ist_cli_duration(360000000, b, sizeof(b)), "4d04h");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_verbs),
		cmocka_unit_test(test_parse_help_and_version),
		cmocka_unit_test(test_parse_errors_name_the_culprit),
		cmocka_unit_test(test_urls_and_paths),
		cmocka_unit_test(test_print_status),
		cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests_name("control-cli", tests, NULL, NULL);
}
