/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kafka health against librdkafka's mock cluster (a real Kafka-protocol
 * server on loopback) and against a closed port: the live cluster is
 * reported with its brokers and topics, the dead one with an error, and
 * reading the snapshot never waits for either.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fixtures.h"
#include "kafka_health.h"
#include "log.h"

#define WAIT_MS 15000

/* A loopback port with nothing listening: bound, then released. */
static uint16_t closed_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void test_mock_cluster_and_dead_cluster(void **state)
{
	struct ist_kafka_cluster_state ks[2];
	struct ist_cfg_kafka cl[2];
	struct ist_kafka_health *kh;
	rd_kafka_mock_cluster_t *mc;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256];
	rd_kafka_t *mrk;
	uint64_t t0, worst = 0;

	(void)state;
	rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
	mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	assert_non_null(mrk);
	mc = rd_kafka_mock_cluster_new(mrk, 3);
	assert_non_null(mc);
	assert_int_equal(rd_kafka_mock_topic_create(mc, "orders", 4, 3), 0);
	assert_int_equal(rd_kafka_mock_topic_create(mc, "payments", 2, 3), 0);

	memset(cl, 0, sizeof(cl));
	snprintf(cl[0].name, sizeof(cl[0].name), "live");
	snprintf(cl[0].bootstrap, sizeof(cl[0].bootstrap), "%s",
		 rd_kafka_mock_cluster_bootstraps(mc));
	cl[0].n_props = 1;
	snprintf(cl[0].props[0].name, sizeof(cl[0].props[0].name), "socket.timeout.ms");
	snprintf(cl[0].props[0].value, sizeof(cl[0].props[0].value), "5000");
	snprintf(cl[1].name, sizeof(cl[1].name), "dead");
	snprintf(cl[1].bootstrap, sizeof(cl[1].bootstrap), "127.0.0.1:%u", closed_port());

	kh = ist_kafka_health_start(cl, 2, 300, 500, err, sizeof(err));
	assert_non_null(kh);

	t0 = fx_now_ms();
	for (;;) {
		uint64_t s = fx_now_ms();

		assert_int_equal(ist_kafka_health_snapshot(kh, ks, 2), 2);
		if (fx_now_ms() - s > worst)
			worst = fx_now_ms() - s;
		if (ks[0].reachable && ks[1].checked)
			break;
		if (fx_now_ms() - t0 > WAIT_MS)
			fail_msg("live: checked %d reachable %d error '%s'; dead: checked %d",
				 ks[0].checked, ks[0].reachable, ks[0].error, ks[1].checked);
		usleep(20000);
	}
	/* The loop thread only copies: never held up by a metadata request. */
	assert_true(worst < 100);

	assert_string_equal(ks[0].name, "live");
	assert_int_equal(ks[0].brokers, 3);
	assert_true(ks[0].topics >= 2);
	assert_string_equal(ks[0].error, "");
	assert_true(ks[0].last_ok_ms > 0);

	assert_string_equal(ks[1].name, "dead");
	assert_false(ks[1].reachable);
	assert_int_equal(ks[1].brokers, 0);
	assert_true(strlen(ks[1].error) > 0);
	assert_int_equal(ks[1].last_ok_ms, 0);

	/* Stopping joins every thread within about one metadata timeout. */
	t0 = fx_now_ms();
	ist_kafka_health_stop(kh);
	assert_true(fx_now_ms() - t0 < 5000);

	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(mrk);
}

static void test_bad_property_is_reported(void **state)
{
	struct ist_kafka_cluster_state ks[1];
	struct ist_cfg_kafka cl[1];
	struct ist_kafka_health *kh;
	char err[256];
	uint64_t t0 = fx_now_ms();

	(void)state;
	memset(cl, 0, sizeof(cl));
	snprintf(cl[0].name, sizeof(cl[0].name), "typo");
	snprintf(cl[0].bootstrap, sizeof(cl[0].bootstrap), "127.0.0.1:9");
	cl[0].n_props = 1;
	snprintf(cl[0].props[0].name, sizeof(cl[0].props[0].name), "rdkafka.no.such.property");
	snprintf(cl[0].props[0].value, sizeof(cl[0].props[0].value), "1");
	kh = ist_kafka_health_start(cl, 1, 200, 200, err, sizeof(err));
	assert_non_null(kh);
	do {
		usleep(20000);
		ist_kafka_health_snapshot(kh, ks, 1);
	} while (!ks[0].checked && fx_now_ms() - t0 < WAIT_MS);
	assert_true(ks[0].checked);
	assert_false(ks[0].reachable);
	assert_non_null(strstr(ks[0].error, "no.such.property"));
	ist_kafka_health_stop(kh);
}

static void test_no_clusters(void **state)
{
	struct ist_kafka_cluster_state ks[1];
	char err[64];
	struct ist_kafka_health *kh = ist_kafka_health_start(NULL, 0, 100, 100, err, sizeof(err));

	(void)state;
	assert_non_null(kh);
	assert_int_equal(ist_kafka_health_snapshot(kh, ks, 1), 0);
	ist_kafka_health_stop(kh);
	assert_int_equal(ist_kafka_health_snapshot(NULL, ks, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mock_cluster_and_dead_cluster),
		cmocka_unit_test(test_bad_property_is_reported),
		cmocka_unit_test(test_no_clusters),
	};

	return cmocka_run_group_tests_name("control-kafka-health", tests, NULL, NULL);
}
