/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for isthmus-region's option, topic-spec and control-line parsers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "region_cmd.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char err[IST_REGION_ERR_MAX + 512];

/* Every error must be one line of "<what> — <fix>". */
static void assert_err_form(const char *must_contain)
{
	assert_non_null(strstr(err, " — "));
	assert_null(strchr(err, '\n'));
	if (must_contain != NULL)
		assert_non_null(strstr(err, must_contain));
}

static void test_topic_spec_ok(void **state)
{
	struct ist_region_topic t;

	(void)state;
	assert_int_equal(ist_region_topic_parse("orders:4", &t, err, sizeof(err)), 0);
	assert_string_equal(t.name, "orders");
	assert_int_equal(t.partitions, 4);
	assert_int_equal(t.rf, 0);
	assert_int_equal(ist_region_topic_parse("eu.orders_v2-x:1024:3", &t, err, sizeof(err)), 0);
	assert_string_equal(t.name, "eu.orders_v2-x");
	assert_int_equal(t.partitions, 1024);
	assert_int_equal(t.rf, 3);
}

static void test_topic_spec_bad(void **state)
{
	static const struct {
		const char *spec;
		const char *names;
	} bad[] = {
		{"orders:0", "'0'"},
		{"orders:x", "'x'"},
		{"orders", "no partition count"},
		{"orders:", "''"},
		{":4", "topic name"},
		{"orders:4:0", "replication"},
		{"orders:4:x", "'x'"},
		{"orders:4:3:1", "too many"},
		{"or ders:4", "topic name"},
		{"orders:-1", "'-1'"},
		{"orders:+4", "'+4'"},
		{"orders:1025", "'1025'"},
		{"orders:99999999999", "99999999999"},
		{"..:1", "topic name"},
	};
	struct ist_region_topic t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(ist_region_topic_parse(bad[i].spec, &t, err, sizeof(err)),
				 -EINVAL);
		assert_err_form(bad[i].names);
	}
}

static void test_topic_name_too_long(void **state)
{
	char spec[IST_REGION_TOPIC_NAME_MAX + 16];
	struct ist_region_topic t;

	(void)state;
	memset(spec, 'a', IST_REGION_TOPIC_NAME_MAX);
	strcpy(spec + IST_REGION_TOPIC_NAME_MAX, ":1");
	assert_int_equal(ist_region_topic_parse(spec, &t, err, sizeof(err)), 0);
	memset(spec, 'a', IST_REGION_TOPIC_NAME_MAX + 1);
	strcpy(spec + IST_REGION_TOPIC_NAME_MAX + 1, ":1");
	assert_int_equal(ist_region_topic_parse(spec, &t, err, sizeof(err)), -EINVAL);
	assert_err_form("topic name");
}

static void test_opts_full(void **state)
{
	char *argv[] = {"isthmus-region", "--name",       "eu-west",           "--brokers",   "5",
			"--topic",        "orders:4",     "--topic=audit:2:5", "--rtt-ms",    "40",
			"--control",      "/tmp/eu.sock", "--bootstrap-file",  "/tmp/eu.boot"};
	struct ist_region_opts o;

	(void)state;
	assert_int_equal(ist_region_opts_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_false(o.help);
	assert_string_equal(o.name, "eu-west");
	assert_int_equal(o.brokers, 5);
	assert_int_equal(o.rtt_ms, 40);
	assert_string_equal(o.control, "/tmp/eu.sock");
	assert_string_equal(o.bootstrap_file, "/tmp/eu.boot");
	assert_int_equal(o.topic_cnt, 2);
	assert_string_equal(o.topics[0].name, "orders");
	assert_int_equal(o.topics[0].rf, 3); /* default min(3, brokers) */
	assert_int_equal(o.topics[1].rf, 5);
}

static void test_opts_defaults(void **state)
{
	char *argv[] = {"isthmus-region", "--name", "r", "--brokers", "1", "--topic", "t:2"};
	struct ist_region_opts o;

	(void)state;
	assert_int_equal(ist_region_opts_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_int_equal(o.topics[0].rf, 1);
	assert_int_equal(o.rtt_ms, 0);
	assert_null(o.control);
	assert_null(o.bootstrap_file);
}

static void test_opts_help(void **state)
{
	char *argv[] = {"isthmus-region", "--help"};
	char *argv2[] = {"isthmus-region", "-h"};
	struct ist_region_opts o;

	(void)state;
	assert_int_equal(ist_region_opts_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_true(o.help);
	assert_int_equal(ist_region_opts_parse(ARGC(argv2), argv2, &o, err, sizeof(err)), 0);
	assert_true(o.help);
	assert_non_null(strstr(ist_region_usage, "--bootstrap-file"));
}

static void opts_expect_error(int argc, char **argv, const char *must_contain)
{
	struct ist_region_opts o;

	err[0] = '\0';
	assert_int_equal(ist_region_opts_parse(argc, argv, &o, err, sizeof(err)), -EINVAL);
	assert_err_form(must_contain);
}

static void test_opts_errors(void **state)
{
	char *unknown[] = {"isthmus-region", "--name", "r", "--colour", "red"};
	char *no_name[] = {"isthmus-region", "--brokers", "3"};
	char *bad_name[] = {"isthmus-region", "--name", "a b"};
	char *brokers0[] = {"isthmus-region", "--name", "r", "--brokers", "0"};
	char *brokers_big[] = {"isthmus-region", "--name", "r", "--brokers", "33"};
	char *missing[] = {"isthmus-region", "--name", "r", "--topic"};
	char *topic0[] = {"isthmus-region", "--name", "r", "--topic", "orders:0"};
	char *topicx[] = {"isthmus-region", "--name", "r", "--topic", "orders:x"};
	char *dup[] = {"isthmus-region", "--name", "r", "--topic", "a:1", "--topic", "a:2"};
	char *rf[] = {"isthmus-region", "--name", "r", "--brokers", "2", "--topic", "a:1:3"};
	char *rtt[] = {"isthmus-region", "--name", "r", "--rtt-ms", "60001"};
	char *stray[] = {"isthmus-region", "--name", "r", "extra"};
	char *empty_ctl[] = {"isthmus-region", "--name", "r", "--control", ""};
	char long_path[200];
	char *long_ctl[] = {"isthmus-region", "--name", "r", "--control", long_path};

	(void)state;
	opts_expect_error(ARGC(unknown), unknown, "--colour");
	opts_expect_error(ARGC(no_name), no_name, "--name");
	opts_expect_error(ARGC(bad_name), bad_name, "'a b'");
	opts_expect_error(ARGC(brokers0), brokers0, "--brokers '0'");
	opts_expect_error(ARGC(brokers_big), brokers_big, "'33'");
	opts_expect_error(ARGC(missing), missing, "--topic");
	opts_expect_error(ARGC(topic0), topic0, "orders:0");
	opts_expect_error(ARGC(topicx), topicx, "orders:x");
	opts_expect_error(ARGC(dup), dup, "twice");
	opts_expect_error(ARGC(rf), rf, "replication factor 3");
	opts_expect_error(ARGC(rtt), rtt, "60001");
	opts_expect_error(ARGC(stray), stray, "'extra'");
	opts_expect_error(ARGC(empty_ctl), empty_ctl, "--control");
	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	opts_expect_error(ARGC(long_ctl), long_ctl, "longer than");
}

static void test_cmd_ok(void **state)
{
	struct ist_region_cmd cmd;

	(void)state;
	assert_int_equal(ist_region_cmd_parse("broker 1 down", 3, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_REGION_CMD_BROKER_DOWN);
	assert_int_equal(cmd.broker_id, 1);
	assert_int_equal(ist_region_cmd_parse("  broker\t3 up\r", 3, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_REGION_CMD_BROKER_UP);
	assert_int_equal(cmd.broker_id, 3);
	assert_int_equal(ist_region_cmd_parse("broker 2 rtt 250", 3, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_REGION_CMD_BROKER_RTT);
	assert_int_equal(cmd.rtt_ms, 250);
	assert_int_equal(ist_region_cmd_parse("topic create t2 3", 3, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_REGION_CMD_TOPIC_CREATE);
	assert_string_equal(cmd.topic.name, "t2");
	assert_int_equal(cmd.topic.partitions, 3);
	assert_int_equal(cmd.topic.rf, 3);
	assert_int_equal(ist_region_cmd_parse("topic create t3 1 1", 2, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.topic.rf, 1);
	assert_int_equal(ist_region_cmd_parse("topic create t4 1", 2, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.topic.rf, 2);
	assert_int_equal(ist_region_cmd_parse("status", 3, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_REGION_CMD_STATUS);
	assert_int_equal(ist_region_cmd_parse("help", 3, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_REGION_CMD_HELP);
	assert_int_equal(ist_region_cmd_parse("quit", 3, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.type, IST_REGION_CMD_QUIT);
	assert_int_equal(ist_region_cmd_parse("", 3, &cmd, err, sizeof(err)), -ENODATA);
	assert_int_equal(ist_region_cmd_parse(" \t\r", 3, &cmd, err, sizeof(err)), -ENODATA);
}

static void test_cmd_errors(void **state)
{
	static const struct {
		const char *line;
		const char *names;
	} bad[] = {
		{"frobnicate", "'frobnicate'"},
		{"broker 0 down", "'0'"},
		{"broker 4 down", "1..3"},
		{"broker x up", "'x'"},
		{"broker 1", "incomplete"},
		{"broker 1 sideways", "'sideways'"},
		{"broker 1 down now", "no more arguments"},
		{"broker 1 rtt", "one value"},
		{"broker 1 rtt -5", "'-5'"},
		{"broker 1 rtt 60001", "'60001'"},
		{"topic delete t", "'delete'"},
		{"topic", "topic action"},
		{"topic create t", "2 or 3"},
		{"topic create t 0", "'0'"},
		{"topic create t x", "'x'"},
		{"topic create t 1 4", "replication factor 4"},
		{"topic create t 1 0", "'0'"},
		{"topic create bad/name 1", "topic name"},
		{"status now", "no arguments"},
		{"quit please", "no arguments"},
		{"a b c d e f g h i j", "too many words"},
		{"\x01\x02", "'\?\?'"},
	};
	struct ist_region_cmd cmd;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(ist_region_cmd_parse(bad[i].line, 3, &cmd, err, sizeof(err)),
				 -EINVAL);
		assert_err_form(bad[i].names);
	}
}

static void test_cmd_long_line(void **state)
{
	char line[IST_REGION_LINE_MAX + 8];
	struct ist_region_cmd cmd;

	(void)state;
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(ist_region_cmd_parse(line, 3, &cmd, err, sizeof(err)), -EINVAL);
	assert_err_form("longer than");
	/* Echoed input is cut short so the reply stays readable. */
	line[IST_REGION_LINE_MAX - 2] = '\0';
	assert_int_equal(ist_region_cmd_parse(line, 3, &cmd, err, sizeof(err)), -EINVAL);
	assert_err_form("unknown command");
	assert_true(strlen(err) < 300);
}

static void test_state_and_status(void **state)
{
	struct ist_region_state s;
	struct ist_region_topic t = {.name = "orders", .partitions = 4, .rf = 3};
	char buf[512];

	(void)state;
	ist_region_state_init(&s, "eu", 3, 5);
	s.bootstrap = "127.0.0.1:1,127.0.0.1:2";
	assert_true(ist_region_status_format(&s, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "name=eu brokers=1:up,2:up,3:up rtt-ms=1:5,2:5,3:5 topics=- "
				 "bootstrap=127.0.0.1:1,127.0.0.1:2");
	assert_int_equal(ist_region_state_topic_add(&s, &t, err, sizeof(err)), 0);
	assert_int_equal(ist_region_state_topic_add(&s, &t, err, sizeof(err)), -EEXIST);
	assert_err_form("already exists");
	strcpy(t.name, "t2");
	t.partitions = 3;
	assert_int_equal(ist_region_state_topic_add(&s, &t, err, sizeof(err)), 0);
	assert_non_null(ist_region_state_topic_find(&s, "t2"));
	assert_null(ist_region_state_topic_find(&s, "t3"));
	s.brokers[2].up = false;
	s.brokers[1].rtt_ms = 40;
	assert_true(ist_region_status_format(&s, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "name=eu brokers=1:up,2:down,3:up rtt-ms=1:40,2:5,3:5 "
				 "topics=orders:4:3,t2:3:3 bootstrap=127.0.0.1:1,127.0.0.1:2");
	assert_int_equal(ist_region_status_format(&s, buf, 20), -ENOSPC);
}

/* The reply buffer must hold the largest status the limits allow. */
static void test_status_worst_case(void **state)
{
	static struct ist_region_state s;
	static char buf[IST_REGION_REPLY_MAX];
	static char boot[IST_REGION_BROKERS_MAX * 17];
	struct ist_region_topic t = {.partitions = IST_REGION_PARTITIONS_MAX, .rf = 32};
	int i;

	(void)state;
	ist_region_state_init(&s,
			      "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
			      IST_REGION_BROKERS_MAX, IST_REGION_RTT_MAX_MS);
	for (i = 0; i < IST_REGION_BROKERS_MAX; i++)
		strcat(boot, i ? ",127.0.0.1:65535" : "127.0.0.1:65535");
	s.bootstrap = boot;
	for (i = 0; i < IST_REGION_TOPICS_MAX; i++) {
		memset(t.name, 'a', IST_REGION_TOPIC_NAME_MAX);
		snprintf(t.name + IST_REGION_TOPIC_NAME_MAX - 3, 4, "%03d", i);
		assert_int_equal(ist_region_state_topic_add(&s, &t, err, sizeof(err)), 0);
	}
	strcpy(t.name, "one-too-many");
	assert_int_equal(ist_region_state_topic_add(&s, &t, err, sizeof(err)), -ENOSPC);
	assert_err_form("already has");
	assert_true(ist_region_status_format(&s, buf, sizeof(buf) - 4) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topic_spec_ok),
		cmocka_unit_test(test_topic_spec_bad),
		cmocka_unit_test(test_topic_name_too_long),
		cmocka_unit_test(test_opts_full),
		cmocka_unit_test(test_opts_defaults),
		cmocka_unit_test(test_opts_help),
		cmocka_unit_test(test_opts_errors),
		cmocka_unit_test(test_cmd_ok),
		cmocka_unit_test(test_cmd_errors),
		cmocka_unit_test(test_cmd_long_line),
		cmocka_unit_test(test_state_and_status),
		cmocka_unit_test(test_status_worst_case),
	};

	return cmocka_run_group_tests_name("region_cmd", tests, NULL, NULL);
}
