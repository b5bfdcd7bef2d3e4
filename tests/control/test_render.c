/* SPDX-License-Identifier: BSD-3-Clause */
/* /status JSON and /metrics text rendered from a known snapshot, compared exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"
#include "render.h"

struct fx_view {
	struct ist_ctl_view v;
	struct ist_dp_client_state dp;
	struct ist_kafka_cluster_state kafka[2];
	struct ist_dp_status *ds;
};

static int view_setup(void **state)
{
	static unsigned char payload[IST_IPC_MAX_PAYLOAD];
	struct fx_view *fv = calloc(1, sizeof(*fv));
	enum ist_ipc_reject why;
	char err[128];
	size_t len = fx_status_payload(payload, sizeof(payload));

	if (fv == NULL || ist_dp_status_decode(payload, len, &fv->ds, &why, err, sizeof(err)) != 0)
		return -1;
	fv->ds->rx_ms = 99750;
	ist_dp_status_busy(fv->ds, NULL);

	fv->dp.connected = true;
	fv->dp.since_wall_ms = 1700000000000ull;
	fv->dp.hello.pid = FX_PID;
	fv->dp.status = fv->ds;
	fv->dp.rx_rejected[IST_IPC_REJ_MAGIC] = 2;
	fv->dp.connects = 3;

	snprintf(fv->kafka[0].name, sizeof(fv->kafka[0].name), "src");
	snprintf(fv->kafka[0].bootstrap, sizeof(fv->kafka[0].bootstrap), "b1:9092");
	fv->kafka[0].checked = true;
	fv->kafka[0].reachable = true;
	fv->kafka[0].brokers = 3;
	fv->kafka[0].topics = 12;
	fv->kafka[0].last_ok_ms = 98000;
	snprintf(fv->kafka[1].name, sizeof(fv->kafka[1].name), "dst");
	snprintf(fv->kafka[1].bootstrap, sizeof(fv->kafka[1].bootstrap), "b2:9092");
	fv->kafka[1].checked = true;
	snprintf(fv->kafka[1].error, sizeof(fv->kafka[1].error), "Local: Broker transport failure");

	fv->v.appliance = FX_APPLIANCE;
	fv->v.region = FX_REGION;
	fv->v.version = "9.9.9";
	fv->v.control_pid = 77;
	fv->v.control_uptime_ms = 61000;
	fv->v.now_ms = 100000;
	fv->v.dp_socket = "/run/t.sock";
	fv->v.dp = &fv->dp;
	fv->v.kafka = fv->kafka;
	fv->v.n_kafka = 2;
	*state = fv;
	return 0;
}

static int view_teardown(void **state)
{
	struct fx_view *fv = *state;

	ist_dp_status_free(fv->ds);
	free(fv);
	return 0;
}

static const char expected_status[] =
	"{"
	" \"appliance\": {\"id\": \"t-app\", \"region\": \"t-reg\"},"
	" \"control\": {\"version\": \"9.9.9\", \"pid\": 77, \"uptime_ms\": 61000},"
	" \"dataplane\": {"
	"  \"socket\": \"/run/t.sock\", \"connected\": true,"
	"  \"since\": \"2023-11-14T22:13:20.000Z\", \"since_unix_ms\": 1700000000000,"
	"  \"state\": \"connected since 2023-11-14T22:13:20.000Z\","
	"  \"last_error\": null, \"last_update_ms_ago\": 250, \"pid\": 4242,"
	"  \"uptime_ms\": 5000, \"tsc_hz\": 2000000000,"
	"  \"lcores\": ["
	"   {\"id\": 1, \"cpu\": 1, \"paused\": false, \"idle_sleep_us\": 200, \"loops\": 100,"
	"    \"busy_loops\": 25, \"idle_sleeps\": 7, \"cmds_applied\": 0, \"busy_pct\": 25.0,"
	"    \"roles\": [{\"name\": \"link-rx\", \"polls\": 100, \"work\": 40, \"cycles\": 5000},"
	"              {\"name\": \"link-tx\", \"polls\": 100, \"work\": 10, \"cycles\": 3000}]},"
	"   {\"id\": 2, \"cpu\": 3, \"paused\": true, \"idle_sleep_us\": 0, \"loops\": 0,"
	"    \"busy_loops\": 0, \"idle_sleeps\": 0, \"cmds_applied\": 1, \"busy_pct\": 0.0,"
	"    \"roles\": [{\"name\": \"kafka-in\", \"polls\": 0, \"work\": 0, \"cycles\": 0}]}"
	"  ],"
	"  \"ports\": ["
	"   {\"name\": \"link0\", \"driver\": \"net_memif\", \"port_id\": 0, \"started\": true,"
	"    \"link_up\": true, \"restarts\": 2, \"speed_mbps\": 10000, \"mtu\": 1500,"
	"    \"counters\": {\"ipackets\": 11, \"opackets\": 12, \"ibytes\": 1300, \"obytes\": 1400,"
	"                 \"imissed\": 1, \"ierrors\": 2, \"oerrors\": 3, \"rx_nombuf\": 4}}"
	"  ],"
	"  \"link\": {\"state\": \"established\", \"authenticated\": true, \"capacity_mbps\": 200,"
	"   \"srtt_us\": 60000, \"rto_us\": 120000, \"inflight\": 5, \"tx_mbps\": 1.5,"
	"   \"goodput_mbps\": 0.9, \"loss_pct\": 2.0,"
	"   \"tx\": {\"data\": 98, \"retransmits\": 2, \"acks\": 50, \"credits\": 4, \"hellos\": 1,"
	"          \"heartbeats\": 3, \"failed\": 0, \"bytes\": 150000},"
	"   \"rx\": {\"packets\": 80, \"bytes\": 120000, \"duplicates\": 1, \"stale_epoch\": 0,"
	"          \"foreign\": 0},"
	"   \"dropped\": {\"bad_tag\": 2},"
	"   \"frames\": {\"sent\": 10, \"ok\": 9, \"bad\": 0, \"out_of_order\": 0,"
	"              \"bytes_delivered\": 90000},"
	"   \"peer_restarts\": 1, \"peer_deaths\": 0},"
	"  \"replication\": null,"
	"  \"ipc_rx_msgs\": 10,"
	"  \"ipc_rejected\": {\"bad_magic\": 0, \"bad_version\": 0, \"oversized\": 0,"
	"                   \"truncated\": 1, \"unknown_type\": 0, \"bad_payload\": 0},"
	"  \"control_rejected\": {\"bad_magic\": 2, \"bad_version\": 0, \"oversized\": 0,"
	"                       \"truncated\": 0, \"unknown_type\": 0, \"bad_payload\": 0},"
	"  \"connects\": 3"
	" },"
	" \"kafka\": ["
	"  {\"name\": \"src\", \"bootstrap\": \"b1:9092\", \"checked\": true, \"reachable\": true,"
	"   \"brokers\": 3, \"topics\": 12, \"error\": null, \"age_ms\": 2000},"
	"  {\"name\": \"dst\", \"bootstrap\": \"b2:9092\", \"checked\": true, \"reachable\": false,"
	"   \"brokers\": 0, \"topics\": 0, \"error\": \"Local: Broker transport failure\","
	"   \"age_ms\": null}"
	" ]"
	"}";

static void test_status_json_exact(void **state)
{
	struct fx_view *fv = *state;
	json_error_t jerr;
	json_t *want = json_loads(expected_status, 0, &jerr);
	json_t *got = ist_render_status(&fv->v);

	if (want == NULL)
		fail_msg("expected JSON does not parse: %s at %d", jerr.text, jerr.position);
	assert_non_null(got);
	if (!json_equal(want, got)) {
		char *g = json_dumps(got, JSON_INDENT(1));

		print_error("got:\n%s\n", g);
		free(g);
		fail_msg("/status JSON differs from the expected document");
	}
	json_decref(want);
	json_decref(got);
}

static void test_status_json_disconnected(void **state)
{
	struct fx_view *fv = *state;
	json_t *got, *dp;

	fv->dp.connected = false;
	fv->dp.status = NULL;
	snprintf(fv->dp.last_error, sizeof(fv->dp.last_error), "connect: Connection refused");
	got = ist_render_status(&fv->v);
	assert_non_null(got);
	dp = json_object_get(got, "dataplane");
	assert_true(json_is_false(json_object_get(dp, "connected")));
	assert_string_equal(json_string_value(json_object_get(dp, "since")),
			    "2023-11-14T22:13:20.000Z");
	assert_string_equal(json_string_value(json_object_get(dp, "last_error")),
			    "connect: Connection refused");
	assert_string_equal(
		json_string_value(json_object_get(dp, "state")),
		"disconnected since 2023-11-14T22:13:20.000Z (connect: Connection refused)");
	assert_true(json_is_null(json_object_get(dp, "pid")));
	assert_true(json_is_null(json_object_get(dp, "last_update_ms_ago")));
	assert_int_equal(json_array_size(json_object_get(dp, "lcores")), 0);
	assert_int_equal(json_array_size(json_object_get(dp, "ports")), 0);
	assert_int_equal(json_object_size(json_object_get(dp, "ipc_rejected")), 0);
	/* Control's own counters survive the disconnect. */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(dp, "control_rejected"),
							    "bad_magic")),
			 2);
	json_decref(got);
}

static void test_status_json_survives_bad_utf8(void **state)
{
	struct fx_view *fv = *state;
	json_t *got;
	const char *name;

	/* The data plane's strings are NUL-terminated but otherwise untrusted. */
	fv->ds->ports[0].name[1] = (char)0xff;
	got = ist_render_status(&fv->v);
	assert_non_null(got);
	name = json_string_value(json_object_get(
		json_array_get(json_object_get(json_object_get(got, "dataplane"), "ports"), 0),
		"name"));
	assert_string_equal(name, "l?nk0");
	json_decref(got);
}

static char *render_metrics(const struct ist_ctl_view *v)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(ist_render_metrics(v, &text, &len), 0);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

#define assert_line(text, line)                                                      \
	do {                                                                         \
		if (strstr((text), "\n" line "\n") == NULL)                          \
			fail_msg("missing line: %s\n--- got ---\n%s", line, (text)); \
	} while (0)

/*
 * Structural rules of the text format: every sample belongs to a family
 * declared by a HELP and a TYPE line just before its first sample, a family
 * is declared once, and its samples are contiguous.
 */
static void check_exposition(const char *text)
{
	char families[128][96], cur[96] = "";
	unsigned int n_fam = 0, i;
	const char *line = text;

	assert_true(text[strlen(text) - 1] == '\n');
	while (*line != '\0') {
		const char *nl = strchr(line, '\n');
		char name[96];
		size_t n;

		assert_non_null(nl);
		if (strncmp(line, "# HELP ", 7) == 0) {
			sscanf(line + 7, "%95s", name);
			for (i = 0; i < n_fam; i++)
				if (strcmp(families[i], name) == 0)
					fail_msg("family %s declared twice", name);
			assert_true(strncmp(nl + 1, "# TYPE ", 7) == 0);
			assert_true(strncmp(nl + 8, name, strlen(name)) == 0);
			assert_true(n_fam < 128);
			snprintf(families[n_fam++], sizeof(families[0]), "%s", name);
			snprintf(cur, sizeof(cur), "%s", name);
		} else if (line[0] != '#') {
			n = strcspn(line, "{ ");
			assert_true(n < sizeof(name));
			memcpy(name, line, n);
			name[n] = '\0';
			if (strcmp(name, cur) != 0)
				fail_msg("sample of %s outside its family (current %s)", name, cur);
			assert_true(strncmp(name, "isthmus_", 8) == 0);
			assert_non_null(strstr(line, "{appliance=\""));
		}
		line = nl + 1;
	}
}

static void test_metrics_lines_exact(void **state)
{
	struct fx_view *fv = *state;
	char *text = render_metrics(&fv->v);

	check_exposition(text);
	assert_true(strncmp(text, "# HELP isthmus_info ", 20) == 0);
	assert_line(text, "# TYPE isthmus_dataplane_up gauge");
	assert_line(text, "isthmus_info{appliance=\"t-app\",region=\"t-reg\",version=\"9.9.9\"} 1");
	assert_line(text, "isthmus_control_uptime_seconds{appliance=\"t-app\"} 61.000");
	assert_line(text, "isthmus_dataplane_up{appliance=\"t-app\"} 1");
	assert_line(text, "isthmus_dataplane_connects_total{appliance=\"t-app\"} 3");
	assert_line(text, "isthmus_dataplane_uptime_seconds{appliance=\"t-app\"} 5.000");
	assert_line(text, "isthmus_dataplane_status_age_seconds{appliance=\"t-app\"} 0.250");
	assert_line(text, "isthmus_dataplane_ipc_messages_total{appliance=\"t-app\"} 10");
	assert_line(text, "# TYPE isthmus_dataplane_ipc_rejected_total counter");
	assert_line(
		text,
		"isthmus_dataplane_ipc_rejected_total{appliance=\"t-app\",reason=\"truncated\"} 1");
	assert_line(
		text,
		"isthmus_control_ipc_rejected_total{appliance=\"t-app\",reason=\"bad_magic\"} 2");
	assert_line(text, "isthmus_lcore_paused{appliance=\"t-app\",lcore=\"2\"} 1");
	assert_line(text,
		    "isthmus_lcore_idle_sleep_seconds{appliance=\"t-app\",lcore=\"1\"} 0.000200");
	assert_line(text, "isthmus_lcore_loops_total{appliance=\"t-app\",lcore=\"1\"} 100");
	assert_line(text, "isthmus_lcore_busy_loops_total{appliance=\"t-app\",lcore=\"1\"} 25");
	assert_line(text, "isthmus_lcore_idle_sleeps_total{appliance=\"t-app\",lcore=\"1\"} 7");
	assert_line(text,
		    "isthmus_lcore_commands_applied_total{appliance=\"t-app\",lcore=\"2\"} 1");
	assert_line(text, "isthmus_lcore_busy_ratio{appliance=\"t-app\",lcore=\"1\"} 0.2500");
	assert_line(
		text,
		"isthmus_role_polls_total{appliance=\"t-app\",lcore=\"1\",role=\"link-rx\"} 100");
	assert_line(text,
		    "isthmus_role_work_total{appliance=\"t-app\",lcore=\"1\",role=\"link-rx\"} 40");
	assert_line(
		text,
		"isthmus_role_cycles_total{appliance=\"t-app\",lcore=\"1\",role=\"link-tx\"} 3000");
	assert_line(
		text,
		"isthmus_role_polls_total{appliance=\"t-app\",lcore=\"2\",role=\"kafka-in\"} 0");
	assert_line(text, "isthmus_port_link_up{appliance=\"t-app\",port=\"link0\"} 1");
	assert_line(text, "isthmus_port_restarts_total{appliance=\"t-app\",port=\"link0\"} 2");
	assert_line(text, "isthmus_link_retransmits_total{appliance=\"t-app\"} 2");
	assert_line(text,
		    "isthmus_link_rx_dropped_total{appliance=\"t-app\",reason=\"bad_tag\"} 2");
	assert_line(text, "isthmus_link_established{appliance=\"t-app\"} 1");
	assert_line(text, "isthmus_port_link_speed_mbps{appliance=\"t-app\",port=\"link0\"} 10000");
	assert_line(text, "isthmus_port_mtu_bytes{appliance=\"t-app\",port=\"link0\"} 1500");
	assert_line(text, "isthmus_port_rx_packets_total{appliance=\"t-app\",port=\"link0\"} 11");
	assert_line(text, "isthmus_port_tx_packets_total{appliance=\"t-app\",port=\"link0\"} 12");
	assert_line(text, "isthmus_port_rx_bytes_total{appliance=\"t-app\",port=\"link0\"} 1300");
	assert_line(text, "isthmus_port_tx_bytes_total{appliance=\"t-app\",port=\"link0\"} 1400");
	assert_line(text, "isthmus_port_rx_missed_total{appliance=\"t-app\",port=\"link0\"} 1");
	assert_line(text, "isthmus_port_rx_errors_total{appliance=\"t-app\",port=\"link0\"} 2");
	assert_line(text, "isthmus_port_tx_errors_total{appliance=\"t-app\",port=\"link0\"} 3");
	assert_line(text, "isthmus_port_rx_nombuf_total{appliance=\"t-app\",port=\"link0\"} 4");
	assert_line(text, "isthmus_kafka_up{appliance=\"t-app\",cluster=\"src\"} 1");
	assert_line(text, "isthmus_kafka_up{appliance=\"t-app\",cluster=\"dst\"} 0");
	assert_line(text, "isthmus_kafka_brokers{appliance=\"t-app\",cluster=\"src\"} 3");
	assert_line(text, "isthmus_kafka_topics{appliance=\"t-app\",cluster=\"src\"} 12");
	assert_line(
		text,
		"isthmus_kafka_metadata_age_seconds{appliance=\"t-app\",cluster=\"src\"} 2.000");
	/* Never reached: no age sample rather than a made-up one. */
	assert_null(strstr(
		text, "isthmus_kafka_metadata_age_seconds{appliance=\"t-app\",cluster=\"dst\"}"));
	free(text);
}

static void test_metrics_disconnected(void **state)
{
	struct fx_view *fv = *state;
	char *text;

	fv->dp.connected = false;
	fv->dp.status = NULL;
	text = render_metrics(&fv->v);
	check_exposition(text);
	assert_line(text, "isthmus_dataplane_up{appliance=\"t-app\"} 0");
	assert_null(strstr(text, "isthmus_lcore_loops_total{"));
	assert_null(strstr(text, "isthmus_port_rx_packets_total{"));
	assert_null(strstr(text, "isthmus_dataplane_uptime_seconds{"));
	assert_line(text, "isthmus_kafka_up{appliance=\"t-app\",cluster=\"src\"} 1");
	free(text);
}

static void test_metrics_label_escaping(void **state)
{
	struct fx_view *fv = *state;
	char *text;

	fv->v.appliance = "a\"b\\c\nd";
	text = render_metrics(&fv->v);
	assert_line(text, "isthmus_dataplane_up{appliance=\"a\\\"b\\\\c\\nd\"} 1");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_json_exact, view_setup, view_teardown),
		cmocka_unit_test_setup_teardown(test_status_json_disconnected, view_setup,
						view_teardown),
		cmocka_unit_test_setup_teardown(test_status_json_survives_bad_utf8, view_setup,
						view_teardown),
		cmocka_unit_test_setup_teardown(test_metrics_lines_exact, view_setup,
						view_teardown),
		cmocka_unit_test_setup_teardown(test_metrics_disconnected, view_setup,
						view_teardown),
		cmocka_unit_test_setup_teardown(test_metrics_label_escaping, view_setup,
						view_teardown),
	};

	return cmocka_run_group_tests_name("control-render", tests, NULL, NULL);
}
