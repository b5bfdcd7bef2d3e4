/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the core-map loader: every class of configuration error is
 * checked for its return code and for its one-line message (file, line,
 * section.key, bad value, fix); the example core maps must load, with their
 * values and defaults spot-checked; the generated reference must name every
 * setting.
 *
 * Core maps are written to a mkdtemp() directory that the group teardown
 * removes, whatever the tests' outcome.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ist_config.h"
#include "conf_fixture.h"

#ifndef EXAMPLES_DIR
#error "EXAMPLES_DIR must name config/examples"
#endif

/* Lines 1-3. */
#define APP "[appliance]\nid = t1\nregion = eu-west\n"
/* Lines 1-5: the smallest valid core map; text appended starts at line 6. */
#define BASE APP "[lcore 0]\nroles = link-rx\n"
/* Lines 6-7 after BASE. */
#define PORT0 "[port p0]\ndevice = net_null0\n"
/* Two clusters, lines 6-9 after BASE. */
#define KAFKA2 "[kafka a]\nbootstrap = 10.0.0.1:9092\n[kafka b]\nbootstrap = 10.0.0.2:9092\n"

static struct ist_config cfg;
static char err[1024];
/* The pattern checker load_text() passes; NULL: plain ist_config_load(). */
static ist_config_regex_check_t load_check;

static int group_setup(void **state)
{
	(void)state;
	return ist_test_conf_setup("config");
}

static int group_teardown(void **state)
{
	(void)state;
	return ist_test_conf_teardown();
}

/* Write @p text to a fresh file; its path is left in ist_test_conf_path. */
static const char *write_conf(const char *text)
{
	const char *path = ist_test_conf_write(text);

	assert_non_null(path);
	return path;
}

static int load_text(const char *text)
{
	write_conf(text);
	memset(err, 0, sizeof(err));
	if (load_check != NULL)
		return ist_config_load_checked(ist_test_conf_path, &cfg, load_check, err,
					       sizeof(err));
	return ist_config_load(ist_test_conf_path, &cfg, err, sizeof(err));
}

/*
 * Load @p text and expect @p code. The message must be one line and start
 * with the file name; each further argument (NULL-terminated) is a substring
 * it must hold, except "@N" (the message starts "FILE:N: ") and "@-" (it
 * starts "FILE: ", no line).
 */
static void check_fails(const char *file, int line, const char *text, int code, ...)
{
	char prefix[PATH_MAX + 32];
	const char *needle;
	va_list ap;
	int rc = load_text(text);

	if (rc != code) {
		print_error("expected %d, got %d; message: '%s'\n", code, rc, err);
		_fail(file, line);
	}
	if (strncmp(err, ist_test_conf_path, strlen(ist_test_conf_path)) != 0 ||
	    strchr(err, '\n') != NULL) {
		print_error("message is not one line starting with %s: '%s'\n", ist_test_conf_path,
			    err);
		_fail(file, line);
	}
	va_start(ap, code);
	while ((needle = va_arg(ap, const char *)) != NULL) {
		bool found;

		if (needle[0] == '@') {
			if (needle[1] == '-')
				snprintf(prefix, sizeof(prefix), "%s: ", ist_test_conf_path);
			else
				snprintf(prefix, sizeof(prefix), "%s:%s: ", ist_test_conf_path,
					 needle + 1);
			found = strncmp(err, prefix, strlen(prefix)) == 0;
		} else {
			found = strstr(err, needle) != NULL;
		}
		if (!found) {
			va_end(ap);
			print_error("message lacks '%s': '%s'\n", needle, err);
			_fail(file, line);
		}
	}
	va_end(ap);
}

#define assert_load_fails(text, code, ...) \
	check_fails(__FILE__, __LINE__, (text), (code), __VA_ARGS__, (const char *)NULL)

static void check_ok(const char *file, int line, const char *text)
{
	int rc = load_text(text);

	if (rc != 0) {
		print_error("expected the core map to load, got %d: '%s'\n", rc, err);
		_fail(file, line);
	}
}

#define assert_load_ok(text) check_ok(__FILE__, __LINE__, (text))

static void load_example(const char *name)
{
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", EXAMPLES_DIR, name);
	memset(err, 0, sizeof(err));
	rc = ist_config_load(path, &cfg, err, sizeof(err));
	if (rc != 0)
		print_error("%s: %d: %s\n", path, rc, err);
	assert_int_equal(rc, 0);
}

/* A string of @p n copies of @p c, in a static buffer. */
static const char *repeat(char c, size_t n)
{
	static char buf[2048];

	assert_true(n < sizeof(buf));
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* ---- file level ---- */

static void test_missing_file(void **state)
{
	char path[PATH_MAX];

	(void)state;
	snprintf(path, sizeof(path), "%s/does-not-exist.conf", ist_test_conf_dir());
	assert_int_equal(ist_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "cannot read the core map"));
	assert_non_null(strstr(err, "-c FILE"));
	assert_null(strchr(err, '\n'));
}

static void test_empty_file(void **state)
{
	(void)state;
	assert_load_fails("", -EINVAL, "@-", "the core map is empty", "config/examples/");
}

static void test_comments_only(void **state)
{
	(void)state;
	/* Not empty, but without the required [appliance]. */
	assert_load_fails("; nothing here\n\n   ; indented comment\n", -EINVAL, "@-",
			  "no [appliance] section");
}

static void test_over_long_line(void **state)
{
	char text[2048];

	(void)state;
	snprintf(text, sizeof(text), BASE "[port p0]\ndevice = %s\n", repeat('x', 1100));
	assert_load_fails(text, -EINVAL, "@7", "line longer than 322 characters", "shorten it");
	/* A long comment counts too: rte_cfgfile reads the whole line into a fixed buffer. */
	snprintf(text, sizeof(text), BASE "[port p0]\ndevice = x ; %s\n", repeat('c', 400));
	assert_load_fails(text, -EINVAL, "@7", "line longer than 322 characters",
			  "comment included");
	/* 322 characters with the comment is the longest line, and it loads. */
	snprintf(text, sizeof(text), BASE "[port p0]\ndevice = x ; %s\n", repeat('c', 309));
	assert_load_ok(text);
}

static void test_value_too_long(void **state)
{
	char text[2048];

	(void)state;
	snprintf(text, sizeof(text), BASE "[port p0]\ndevice = %s\n", repeat('v', 256));
	assert_load_fails(text, -EINVAL, "@7", "port p0.device: value",
			  "longer than 255 characters", "shorten it");
	/* 255 characters is the longest value there is. */
	snprintf(text, sizeof(text), BASE "[port p0]\ndevice = %s\n", repeat('v', 255));
	assert_load_ok(text);
	assert_int_equal(strlen(cfg.ports[0].device), 255);
}

/* ---- line syntax ---- */

static void test_key_before_section(void **state)
{
	(void)state;
	assert_load_fails("; leading comment\nid = t1\n" BASE, -EINVAL, "@2", "'id = t1'",
			  "before any [section]", "put it under its section");
}

static void test_line_without_equals(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "mtu 1500\n", -EINVAL, "@8", "'mtu 1500'",
			  "is not 'key = value'", "add the '='");
}

static void test_bad_key_name(void **state)
{
	char text[512];

	(void)state;
	assert_load_fails(BASE PORT0 "rx queues = 2\n", -EINVAL, "@8", "key 'rx queues'",
			  "not a valid name");
	assert_load_fails(BASE PORT0 "= 2\n", -EINVAL, "@8", "key ''", "not a valid name");
	snprintf(text, sizeof(text), BASE PORT0 "%s = 1\n", repeat('k', 70));
	assert_load_fails(text, -EINVAL, "@8", "longer than 63 characters");
}

/* ---- section headers ---- */

static void test_unterminated_section(void **state)
{
	(void)state;
	assert_load_fails(BASE "[port p0\ndevice = x\n", -EINVAL, "@6", "'[port p0'",
			  "lacks its closing ']'", "[kind name]");
}

static void test_unknown_section_kind(void **state)
{
	(void)state;
	assert_load_fails(BASE "[prot p0]\n", -EINVAL, "@6", "unknown section kind [prot]",
			  "did you mean [port]?");
	assert_load_fails(BASE "[lnk]\n", -EINVAL, "@6", "unknown section kind [lnk]",
			  "did you mean [link]?");
}

static void test_named_kind_without_name(void **state)
{
	(void)state;
	assert_load_fails(BASE "[port]\ndevice = x\n", -EINVAL, "@6", "section [port] needs a name",
			  "[port NAME]");
	assert_load_fails(APP "[lcore]\nroles = batcher\n", -EINVAL, "@4",
			  "section [lcore] needs a name");
}

static void test_unnamed_kind_with_name(void **state)
{
	(void)state;
	assert_load_fails(BASE "[link wan]\n", -EINVAL, "@6", "section [link] takes no name",
			  "write [link]");
	assert_load_fails("[appliance main]\nid = a\n", -EINVAL, "@1",
			  "section [appliance] takes no name");
}

static void test_bad_section_name(void **state)
{
	(void)state;
	assert_load_fails(BASE "[port p/0]\ndevice = x\n", -EINVAL, "@6", "'p/0'",
			  "only letters, digits, '_', '-' and '.'", "rename it");
	assert_load_fails(BASE "[port p0 extra]\ndevice = x\n", -EINVAL, "@6", "'p0 extra'",
			  "rename it");
}

static void test_section_name_too_long(void **state)
{
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), BASE "[port %s]\ndevice = x\n", repeat('n', 60));
	assert_load_fails(text, -EINVAL, "@6", "longer than 63 characters", "shorten it");
}

static void test_duplicate_section(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "[port p0]\ndevice = y\n", -EINVAL, "@8",
			  "section [port p0] appears twice", "first at line 6", "merge them");
	assert_load_fails(BASE "[appliance]\n", -EINVAL, "@6", "section [appliance] appears twice",
			  "first at line 1");
}

static void test_too_many_sections(void **state)
{
	char text[2048];
	size_t o;

	(void)state;
	o = (size_t)snprintf(text, sizeof(text), "%s", BASE);
	for (int i = 0; i <= IST_CFG_MAX_PORTS; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "[port p%d]\ndevice = x\n", i);
	/* The ninth [port] is at line 6 + 2 * 8. */
	assert_load_fails(text, -EINVAL, "@22", "more than 8 [port] sections");
}

/* ---- keys ---- */

static void test_duplicate_key(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "mtu = 1500\nrx_queues = 2\nmtu = 9000\n", -EINVAL, "@10",
			  "port p0.mtu is set twice", "first at line 8", "keep one");
}

static void test_unknown_key(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "mut = 1500\n", -EINVAL, "@8", "unknown key port p0.mut",
			  "did you mean 'mtu'?");
	assert_load_fails(BASE "[link]\nprot = p0\n", -EINVAL, "@7", "unknown key link.prot",
			  "did you mean 'port'?");
}

static void test_unknown_key_kafka(void **state)
{
	(void)state;
	assert_load_fails(BASE "[kafka k1]\nbootstrap = 10.0.0.1:9092\nclient.id = me\n", -EINVAL,
			  "@8", "unknown key kafka k1.client.id", "did you mean 'bootstrap'?",
			  "rdkafka.<property>");
}

static void test_rdkafka_rejected(void **state)
{
	(void)state;
	assert_load_fails(BASE "[kafka k1]\nbootstrap = 10.0.0.1:9092\nrdkafka.no.such.prop = 1\n",
			  -EINVAL, "@8", "kafka k1.rdkafka.no.such.prop", "rejected by librdkafka",
			  "no.such.prop");
	assert_load_fails(BASE "[kafka k1]\nbootstrap = 10.0.0.1:9092\n"
			       "rdkafka.fetch.max.bytes = lots\n",
			  -EINVAL, "@8", "kafka k1.rdkafka.fetch.max.bytes",
			  "rejected by librdkafka", "fetch.max.bytes");
	/* rdkafka.* belongs to [kafka] only. */
	assert_load_fails(BASE PORT0 "rdkafka.client.id = x\n", -EINVAL, "@8",
			  "unknown key port p0.rdkafka.client.id");
}

static void test_missing_required_key(void **state)
{
	(void)state;
	assert_load_fails(BASE "[port p0]\nmtu = 1500\n", -EINVAL, "@6",
			  "port p0.device is required", "add device = ... under [port p0]");
	assert_load_fails("[appliance]\nid = t1\n[lcore 0]\nroles = batcher\n", -EINVAL, "@1",
			  "appliance.region is required", "add region = ...");
	assert_load_fails(APP "[lcore 0]\ncpu = 0\n", -EINVAL, "@4", "lcore 0.roles is required");
	assert_load_fails(BASE PORT0 "[link]\nport = p0\nlocal_ip = 10.0.0.1\n", -EINVAL, "@8",
			  "link.peer_ip is required");
}

static void test_missing_required_section(void **state)
{
	(void)state;
	assert_load_fails("[lcore 0]\nroles = batcher\n", -EINVAL, "@-", "no [appliance] section",
			  "add one");
	assert_load_fails(APP PORT0, -EINVAL, "@-", "no [lcore", "add one");
}

/* ---- value types ---- */

static void test_int_not_a_number(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "mtu = big\n", -EINVAL, "@8", "port p0.mtu = 'big'",
			  "not a whole number", "68..9600");
	assert_load_fails(BASE PORT0 "mtu = 1500b\n", -EINVAL, "@8", "port p0.mtu = '1500b'",
			  "not a whole number");
	assert_load_fails(BASE PORT0 "mtu =\n", -EINVAL, "@8", "port p0.mtu = ''",
			  "not a whole number");
	assert_load_fails(BASE "[control]\nstatus_interval_ms = 0x10\n", -EINVAL, "@7",
			  "control.status_interval_ms = '0x10'", "50..60000");
}

static void test_int_out_of_range(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "mtu = 67\n", -EINVAL, "@8", "port p0.mtu = 67",
			  "out of range", "68..9600");
	assert_load_fails(BASE PORT0 "mtu = 9601\n", -EINVAL, "@8", "port p0.mtu = 9601",
			  "out of range", "68..9600");
	assert_load_fails(BASE PORT0 "rx_desc = 63\n", -EINVAL, "@8", "port p0.rx_desc = 63",
			  "64..8192");
	assert_load_fails(BASE PORT0 "rx_queues = 17\n", -EINVAL, "@8", "port p0.rx_queues = 17",
			  "1..16");
	assert_load_fails(APP "[lcore 0]\nroles = batcher\ncpu = -2\n", -EINVAL, "@6",
			  "lcore 0.cpu = -2", "-1..1023");
	assert_load_fails(BASE "[mempool]\nmbufs = 4194304\n", -EINVAL, "@7",
			  "mempool.mbufs = 4194304", "1023..4194303");
	/* The bounds themselves are allowed. */
	assert_load_ok(BASE PORT0 "mtu = 68\n");
	assert_int_equal(cfg.ports[0].mtu, 68);
	assert_load_ok(BASE PORT0 "mtu = 9600\nrx_desc = 8192\n");
	assert_int_equal(cfg.ports[0].mtu, 9600);
	assert_int_equal(cfg.ports[0].rx_desc, 8192);
	assert_load_ok(APP "[lcore 0]\nroles = batcher\ncpu = -1\n");
	assert_int_equal(cfg.lcores[0].cpu, -1);
}

static void test_bad_bool(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "promiscuous = maybe\n", -EINVAL, "@8",
			  "port p0.promiscuous = 'maybe'", "not a boolean", "true or false");
	assert_load_fails(BASE "[eal]\nin_memory = 2\n", -EINVAL, "@7", "eal.in_memory = '2'",
			  "not a boolean");
	assert_load_ok(BASE PORT0 "promiscuous = YES\n");
	assert_true(cfg.ports[0].promiscuous);
	assert_load_ok(BASE "[eal]\nin_memory = off\nno_huge = 1\n");
	assert_false(cfg.eal.in_memory);
	assert_true(cfg.eal.no_huge);
}

static void test_bad_enum(void **state)
{
	(void)state;
	assert_load_fails(BASE "[eal]\nlog_level = loud\n", -EINVAL, "@7", "eal.log_level = 'loud'",
			  "is not one of", "emerg|alert|crit|err|warning|notice|info|debug");
	assert_load_fails(BASE KAFKA2 "[flow f]\nsource = a\nsink = b\ninclude = t\n"
				      "naming = mirror\n",
			  -EINVAL, "@14", "flow f.naming = 'mirror'", "identity|prefix");
	assert_load_ok(BASE KAFKA2
		       "[eal]\nlog_level = debug\n"
		       "[flow f]\nsource = a\nsink = b\ninclude = t\nnaming = prefix\n");
	assert_string_equal(cfg.eal.log_level, "debug");
	assert_int_equal(cfg.flows[0].naming, IST_NAMING_PREFIX);
}

static void test_bad_ipv4(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "[link]\nport = p0\nlocal_ip = 10.0.0.256\n"
				     "peer_ip = 10.0.0.2\n",
			  -EINVAL, "@10", "link.local_ip = '10.0.0.256'", "not an IPv4 address",
			  "10.0.0.1");
	assert_load_fails(BASE PORT0 "[link]\nport = p0\nlocal_ip = 10.0.0.1\npeer_ip = peer\n",
			  -EINVAL, "@11", "link.peer_ip = 'peer'", "not an IPv4 address");
}

static void test_bad_addr(void **state)
{
	static const char *const bad[] = {
		"127.0.0.1",     "127.0.0.1:",     "127.0.0.1:0", "127.0.0.1:65536",
		"127.0.0.1:80x", "example.com:80", ":9641",       "300.0.0.1:80",
	};
	static const char *const good[] = {"localhost:8080", "0.0.0.0:1", "10.1.2.3:65535"};
	char text[512], want[128];

	(void)state;
	for (unsigned int i = 0; i < IST_DIM(bad); i++) {
		snprintf(text, sizeof(text), BASE "[control]\nhttp_listen = %s\n", bad[i]);
		snprintf(want, sizeof(want), "control.http_listen = '%s'", bad[i]);
		assert_load_fails(text, -EINVAL, "@7", want, "not IPV4:PORT", "127.0.0.1:9641");
	}
	for (unsigned int i = 0; i < IST_DIM(good); i++) {
		snprintf(text, sizeof(text), BASE "[control]\nhttp_listen = %s\n", good[i]);
		assert_load_ok(text);
		assert_string_equal(cfg.control.http_listen, good[i]);
	}
}

static void test_codec(void **state)
{
	static const char *const bad[] = {
		"zstd:0", "zstd:20",   "gzip",          "zstd:", "zstd:3x",
		"LZ4",    "none+dict", "lz4+dict+dict", "+dict", "zstd:20+dict"};
	static const char *const good[] = {"none",    "lz4",      "zstd",      "zstd:1",
					   "zstd:19", "lz4+dict", "zstd+dict", "zstd:3+dict"};
	char text[512], want[128];

	(void)state;
	for (unsigned int i = 0; i < IST_DIM(bad); i++) {
		snprintf(text, sizeof(text), BASE "[class c1]\ntopics = .*\ncodec = %s\n", bad[i]);
		snprintf(want, sizeof(want), "class c1.codec = '%s'", bad[i]);
		assert_load_fails(text, -EINVAL, "@8", want, "not a codec",
				  "none, lz4, zstd or zstd:<1..19>");
	}
	for (unsigned int i = 0; i < IST_DIM(good); i++) {
		snprintf(text, sizeof(text), BASE "[class c1]\ntopics = .*\ncodec = %s\n", good[i]);
		assert_load_ok(text);
		assert_string_equal(cfg.classes[0].codec, good[i]);
	}
	/* Default codec. */
	assert_load_ok(BASE "[class c1]\ntopics = .*\n");
	assert_string_equal(cfg.classes[0].codec, "lz4");
}

static void test_string_bounds(void **state)
{
	char text[512];

	(void)state;
	assert_load_fails("[appliance]\nid = t1\nregion =\n[lcore 0]\nroles = batcher\n", -EINVAL,
			  "@3", "appliance.region must not be empty");
	snprintf(text, sizeof(text), "[appliance]\nid = t1\nregion = %s\n[lcore 0]\nroles = x\n",
		 repeat('r', 32));
	assert_load_fails(text, -EINVAL, "@3", "appliance.region = 'rrrr",
			  "longer than 31 characters");
}

/* ---- lists and lcores ---- */

static void test_list_too_many(void **state)
{
	(void)state;
	assert_load_fails(APP "[lcore 0]\nroles = kafka-in batcher link-tx link-rx unbatcher "
			      "kafka-out kafka-in batcher link-tx\n",
			  -EINVAL, "@5", "lcore 0.roles lists more than 8 items", "remove some");
	assert_load_fails(BASE KAFKA2
			  "[flow f]\nsource = a\nsink = b\n"
			  "include = t1,t2,t3,t4,t5,t6,t7,t8,t9,t10,t11,t12,t13,t14,t15,t16,t17\n",
			  -EINVAL, "@13", "flow f.include lists more than 16 items");
}

static void test_list_bounds(void **state)
{
	char text[512];

	(void)state;
	assert_load_fails(APP "[lcore 0]\nroles =\n", -EINVAL, "@5",
			  "lcore 0.roles must list at least 1 item");
	snprintf(text, sizeof(text), BASE "[class c1]\ntopics = a %s\n", repeat('p', 64));
	assert_load_fails(text, -EINVAL, "@7", "class c1.topics item 'pppp",
			  "longer than 63 characters");
	/* Commas and blanks both separate. */
	assert_load_ok(APP "[lcore 0]\nroles = batcher, link-tx,kafka-in\tlink-rx\n");
	assert_int_equal(cfg.lcores[0].n_roles, 4);
	assert_string_equal(cfg.lcores[0].roles[0], "batcher");
	assert_string_equal(cfg.lcores[0].roles[1], "link-tx");
	assert_string_equal(cfg.lcores[0].roles[2], "kafka-in");
	assert_string_equal(cfg.lcores[0].roles[3], "link-rx");
}

static void test_unknown_role(void **state)
{
	(void)state;
	assert_load_fails(APP "[lcore 0]\nroles = batcher link_tx\n", -EINVAL, "@5",
			  "lcore 0.roles: unknown role 'link_tx'", "did you mean 'link-tx'?");
	assert_load_fails(APP "[lcore 0]\nroles = kafka-inn\n", -EINVAL, "@5",
			  "unknown role 'kafka-inn'", "did you mean 'kafka-in'?");
}

static void test_role_twice(void **state)
{
	(void)state;
	assert_load_fails(APP "[lcore 0]\nroles = batcher link-tx batcher\n", -EINVAL, "@5",
			  "lcore 0.roles lists 'batcher' twice", "list it once");
}

static void test_lcore_id(void **state)
{
	(void)state;
	assert_load_fails(APP "[lcore abc]\nroles = batcher\n", -EINVAL, "@4", "[lcore abc]",
			  "lcore id 'abc'", "a number in 0..127");
	assert_load_fails(APP "[lcore 128]\nroles = batcher\n", -EINVAL, "@4", "lcore id '128'",
			  "0..127");
	assert_load_fails(APP "[lcore 1x]\nroles = batcher\n", -EINVAL, "@4", "lcore id '1x'");
	assert_load_ok(APP "[lcore 127]\nroles = batcher\n");
	assert_int_equal(cfg.lcores[0].id, 127);
}

static void test_lcore_twice(void **state)
{
	(void)state;
	/* Another spelling of the same lcore is refused where it is written. */
	assert_load_fails(BASE "[lcore 00]\nroles = batcher\n", -EINVAL, "@6",
			  "write the lcore id without leading zeros: [lcore 0]");
}

static void test_queues_unknown_port(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "[lcore 1]\nroles = link-rx\nqueues = nic0:0\n", -EINVAL,
			  "@10", "lcore 1.queues names port 'nic0'", "[port nic0]",
			  "add it or fix the name");
	assert_load_fails(BASE PORT0 "[lcore 1]\nroles = link-rx\nqueues = p0\n", -EINVAL, "@10",
			  "lcore 1.queues item 'p0' is not PORT:QUEUE", "link0:0");
}

static void test_queue_beyond_rx_queues(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "rx_queues = 2\n[lcore 1]\nroles = link-rx\nqueues = p0:2\n",
			  -EINVAL, "@11", "lcore 1.queues: queue '2' of port p0 does not exist",
			  "rx_queues = 2");
	assert_load_fails(BASE PORT0 "[lcore 1]\nroles = link-rx\nqueues = p0:x\n", -EINVAL, "@10",
			  "queue 'x' of port p0 does not exist", "rx_queues = 1");
	/* The lcore may come before the port it names. */
	assert_load_ok(BASE "[lcore 1]\nroles = link-rx\nqueues = p0:1\n" PORT0 "rx_queues = 2\n");
	assert_int_equal(cfg.lcores[1].n_queues, 1);
	assert_int_equal(cfg.lcores[1].queues[0].port, 0);
	assert_int_equal(cfg.lcores[1].queues[0].queue, 1);
}

static void test_queue_two_lcores(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "rx_queues = 2\n[lcore 1]\nroles = link-rx\nqueues = p0:0\n"
				     "[lcore 2]\nroles = link-rx\nqueues = p0:1 p0:0\n",
			  -EINVAL, "@14", "queue p0:0 is polled by lcore 1 and lcore 2",
			  "give each queue one lcore");
	assert_load_fails(BASE PORT0 "[lcore 1]\nroles = link-rx\nqueues = p0:0 p0:0\n", -EINVAL,
			  "@10", "lcore 1.queues lists p0:0 twice", "list it once");
}

/* ---- cross-section checks ---- */

#define LINK_OK "[link]\nport = p0\nlocal_ip = 10.0.0.1\npeer_ip = 10.0.0.2\nauth = none\n"

static void test_link_port_unknown(void **state)
{
	(void)state;
	assert_load_fails(
		BASE PORT0
		"[link]\nport = wan\nlocal_ip = 10.0.0.1\npeer_ip = 10.0.0.2\nauth = none\n",
		-EINVAL, "@9", "link.port = 'wan' names no [port] section", "[port wan]");
}

static void test_link_mtu_above_port(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "mtu = 1500\n" LINK_OK "mtu = 9000\n", -EINVAL, "@14",
			  "link.mtu = 9000 exceeds port p0 mtu = 1500", "lower link.mtu");
}

static void test_data_room_too_small(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "mtu = 9000\n" LINK_OK "mtu = 9000\n"
				     "[mempool]\ndata_room = 2176\n",
			  -EINVAL, "@16", "mempool.data_room = 2176",
			  "cannot hold a link.mtu = 9000 packet", "raise data_room");
	/* The default data room, with no [mempool] section to point at. */
	assert_load_fails(BASE PORT0 "mtu = 9000\n" LINK_OK "mtu = 9000\n", -EINVAL, "@-",
			  "mempool.data_room = 2176", "raise data_room");
	/* Exactly MTU + 128 fits. */
	assert_load_ok(BASE PORT0 "mtu = 9000\n" LINK_OK
				  "mtu = 9000\n[mempool]\ndata_room = 9128\n");
	assert_true(cfg.link.enabled);
	assert_int_equal(cfg.link.mtu, 9000);
	assert_int_equal(cfg.mempool.data_room, 9128);
}

static void test_flow_unknown_cluster(void **state)
{
	(void)state;
	assert_load_fails(BASE KAFKA2 "[flow f]\nsource = c\nsink = b\ninclude = t\n", -EINVAL,
			  "@11", "flow f.source = 'c' names no [kafka] section", "add [kafka c]");
	assert_load_fails(BASE KAFKA2 "[flow f]\nsource = a\nsink = z\ninclude = t\n", -EINVAL,
			  "@12", "flow f.sink = 'z' names no [kafka] section", "add [kafka z]");
}

static void test_flow_same_cluster(void **state)
{
	(void)state;
	assert_load_fails(BASE KAFKA2 "[flow f]\nsource = a\nsink = a\ninclude = t\n", -EINVAL,
			  "@12", "flow f: source and sink are both 'a'",
			  "a flow joins two clusters");
}

/* ---- rules ---- */

/* Lines 10-13 after BASE KAFKA2: a flow; a [rule] appended starts at line 14. */
#define FLOW_F "[flow f]\nsource = a\nsink = b\ninclude = .*\n"

static void test_rule_loads(void **state)
{
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text),
		 BASE KAFKA2 FLOW_F
		 "[rule r1]\nflow = f\ntopics = orders\\..* audit\n"
		 "match = header:content-type\n"
		 "pattern = ^application/(json|avro)$ ; a comment\n"
		 "action = tag:x-kind=a=b\n"
		 "[rule r2]\nmatch = key\npattern = ^test-\\x3b\naction = drop\n"
		 "[rule r3]\nmatch = value\npattern = \"tier\": \"gold\", 1\n"
		 "action = route:%s\n"
		 "[rule r4]\nmatch = value\npattern = x\naction = tag:x-empty=\n",
		 repeat('t', IST_CFG_TOPIC_LEN - 1));
	assert_load_ok(text);
	assert_int_equal(cfg.n_rules, 4);
	assert_string_equal(cfg.rules[0].name, "r1");
	assert_string_equal(cfg.rules[0].flow_name, "f");
	assert_int_equal(cfg.rules[0].flow, 0);
	assert_int_equal(cfg.rules[0].n_topics, 2);
	assert_string_equal(cfg.rules[0].topics[0], "orders\\..*");
	assert_string_equal(cfg.rules[0].topics[1], "audit");
	assert_int_equal(cfg.rules[0].match.field, IST_RULE_MATCH_HEADER);
	assert_string_equal(cfg.rules[0].match.header, "content-type");
	/* The comment is cut off; the pattern is the rest of the value, blanks and all. */
	assert_string_equal(cfg.rules[0].pattern, "^application/(json|avro)$");
	assert_int_equal(cfg.rules[0].action.kind, IST_RULE_ACTION_TAG);
	assert_string_equal(cfg.rules[0].action.tag_name, "x-kind");
	assert_string_equal(cfg.rules[0].action.tag_value, "a=b");
	assert_int_equal(cfg.rules[0].line, 14);
	assert_int_equal(cfg.rules[0].pattern_line, 18);
	/* Defaults: every flow, every topic. */
	assert_string_equal(cfg.rules[1].flow_name, "");
	assert_int_equal(cfg.rules[1].flow, -1);
	assert_int_equal(cfg.rules[1].n_topics, 0);
	assert_int_equal(cfg.rules[1].match.field, IST_RULE_MATCH_KEY);
	assert_string_equal(cfg.rules[1].pattern, "^test-\\x3b");
	assert_int_equal(cfg.rules[1].action.kind, IST_RULE_ACTION_DROP);
	assert_int_equal(cfg.rules[2].match.field, IST_RULE_MATCH_VALUE);
	assert_string_equal(cfg.rules[2].pattern, "\"tier\": \"gold\", 1");
	assert_int_equal(cfg.rules[2].action.kind, IST_RULE_ACTION_ROUTE);
	assert_int_equal(strlen(cfg.rules[2].action.topic), IST_CFG_TOPIC_LEN - 1);
	assert_string_equal(cfg.rules[3].action.tag_name, "x-empty");
	assert_string_equal(cfg.rules[3].action.tag_value, "");
	assert_int_equal(ist_config_flow_index(&cfg, "f"), 0);
	assert_int_equal(ist_config_flow_index(&cfg, "g"), -1);
}

#define RULE_HEAD BASE KAFKA2 FLOW_F "[rule r]\n"

static void test_rule_bad_match(void **state)
{
	char text[512];

	(void)state;
	assert_load_fails(RULE_HEAD "match = keys\npattern = x\naction = drop\n", -EINVAL, "@15",
			  "rule r.match = 'keys' is not key, value or header:<name>",
			  "match = value");
	assert_load_fails(RULE_HEAD "match = header:\npattern = x\naction = drop\n", -EINVAL, "@15",
			  "rule r.match = 'header:' names no header", "write header:<name>");
	assert_load_fails(RULE_HEAD "match = header:content type\npattern = x\naction = drop\n",
			  -EINVAL, "@15", "header name 'content type' may hold only letters");
	snprintf(text, sizeof(text), RULE_HEAD "match = header:%s\npattern = x\naction = drop\n",
		 repeat('h', IST_CFG_HEADER_LEN));
	assert_load_fails(text, -EINVAL, "@15", "header name is longer than 63 characters");
}

static void test_rule_bad_action(void **state)
{
	char text[512];

	(void)state;
	assert_load_fails(RULE_HEAD "match = key\npattern = x\naction = reject\n", -EINVAL, "@17",
			  "rule r.action = 'reject' is not drop, route:<topic> or "
			  "tag:<header>=<value>",
			  "action = drop");
	assert_load_fails(RULE_HEAD "match = key\npattern = x\naction = route:\n", -EINVAL, "@17",
			  "rule r.action = 'route:': '' is not a Kafka topic name",
			  "write route:<topic>", "1..249");
	assert_load_fails(RULE_HEAD "match = key\npattern = x\naction = route:a/b\n", -EINVAL,
			  "@17", "'a/b' is not a Kafka topic name");
	assert_load_fails(RULE_HEAD "match = key\npattern = x\naction = route:..\n", -EINVAL, "@17",
			  "'..' is not a Kafka topic name");
	snprintf(text, sizeof(text), RULE_HEAD "match = key\npattern = x\naction = route:%s\n",
		 repeat('t', IST_CFG_TOPIC_LEN - 2));
	/* Only the value's own limit (255) stops a longer topic; 248 still loads. */
	assert_load_ok(text);
	assert_load_fails(RULE_HEAD "match = key\npattern = x\naction = tag:x-a\n", -EINVAL, "@17",
			  "rule r.action = 'tag:x-a' lacks the header value",
			  "tag:<header>=<value>");
	assert_load_fails(RULE_HEAD "match = key\npattern = x\naction = tag:=v\n", -EINVAL, "@17",
			  "rule r.action = 'tag:=v' names no header");
	assert_load_fails(RULE_HEAD "match = key\npattern = x\naction = tag:a:b=v\n", -EINVAL,
			  "@17", "header name 'a:b' may hold only letters");
}

static void test_rule_required_and_bounds(void **state)
{
	char text[512];

	(void)state;
	assert_load_fails(RULE_HEAD "match = key\naction = drop\n", -EINVAL, "@14",
			  "rule r.pattern is required", "add pattern = ... under [rule r]");
	assert_load_fails(RULE_HEAD "pattern = x\naction = drop\n", -EINVAL, "@14",
			  "rule r.match is required");
	assert_load_fails(RULE_HEAD "match = key\npattern = x\n", -EINVAL, "@14",
			  "rule r.action is required");
	assert_load_fails(RULE_HEAD "match = key\npattern =\naction = drop\n", -EINVAL, "@16",
			  "rule r.pattern must not be empty");
	assert_load_fails(RULE_HEAD "match = key\npattern = x\naction = drop\nactoin = drop\n",
			  -EINVAL, "@18", "unknown key rule r.actoin", "did you mean 'action'?");
	snprintf(text, sizeof(text),
		 RULE_HEAD "match = key\npattern = x\naction = drop\n"
			   "topics = %s\n",
		 "t1 t2 t3 t4 t5 t6 t7 t8 t9 t10 t11 t12 t13 t14 t15 t16 t17");
	assert_load_fails(text, -EINVAL, "@18", "rule r.topics lists more than 16 items");
}

static void test_rule_unknown_flow(void **state)
{
	(void)state;
	assert_load_fails(RULE_HEAD "flow = g\nmatch = key\npattern = x\naction = drop\n", -EINVAL,
			  "@15", "rule r.flow = 'g' names no [flow] section", "add [flow g]",
			  "leave flow out for every flow");
	/* The flow may come after the rule. */
	assert_load_ok(BASE KAFKA2
		       "[rule r]\nflow = f\nmatch = key\npattern = x\naction = drop\n" FLOW_F);
	assert_int_equal(cfg.rules[0].flow, 0);
}

static void test_too_many_rules(void **state)
{
	static char text[16384];
	size_t o;

	(void)state;
	o = (size_t)snprintf(text, sizeof(text), "%s", BASE);
	for (int i = 0; i <= IST_CFG_MAX_RULES; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "[rule r%d]\nmatch = key\npattern = x\naction = drop\n", i);
	/* The 65th [rule] is at line 6 + 4 * 64. */
	assert_load_fails(text, -EINVAL, "@262", "more than 64 [rule] sections");
	/* 64 load, in file order. */
	o = (size_t)snprintf(text, sizeof(text), "%s", BASE);
	for (int i = 0; i < IST_CFG_MAX_RULES; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "[rule r%d]\nmatch = key\npattern = x\naction = drop\n", i);
	assert_load_ok(text);
	assert_int_equal(cfg.n_rules, IST_CFG_MAX_RULES);
	assert_string_equal(cfg.rules[63].name, "r63");
}

static unsigned int check_calls;

/* A stand-in for hyperscan: refuses any pattern holding "bad". */
static int fake_check(const char *pattern, char *msg, size_t msglen)
{
	check_calls++;
	if (strstr(pattern, "bad") == NULL)
		return 0;
	snprintf(msg, msglen, "fake engine: '%s' refused", pattern);
	return -EINVAL;
}

static void test_regex_checker(void **state)
{
	(void)state;
	load_check = fake_check;
	/* Every pattern reaches the checker: include, exclude, class and rule topics, pattern. */
	check_calls = 0;
	assert_load_ok(BASE KAFKA2
		       "[flow f]\nsource = a\nsink = b\ninclude = a b\nexclude = c\n"
		       "[class k]\ntopics = d\n"
		       "[rule r]\ntopics = e f\nmatch = key\npattern = g\naction = drop\n");
	assert_int_equal(check_calls, 7);
	assert_load_fails(BASE KAFKA2 "[flow f]\nsource = a\nsink = b\ninclude = a bad1\n", -EINVAL,
			  "@13", "flow f.include item 'bad1' is not a usable pattern",
			  "fake engine: 'bad1' refused", "fix the expression", "\\x3b");
	assert_load_fails(BASE KAFKA2 "[flow f]\nsource = a\nsink = b\ninclude = a\n"
				      "exclude = bad2\n",
			  -EINVAL, "@14", "flow f.exclude item 'bad2'");
	assert_load_fails(BASE "[class k]\ntopics = bad3\n", -EINVAL, "@7",
			  "class k.topics item 'bad3'");
	assert_load_fails(RULE_HEAD "topics = bad4\nmatch = key\npattern = x\naction = drop\n",
			  -EINVAL, "@15", "rule r.topics item 'bad4'");
	assert_load_fails(RULE_HEAD "match = key\npattern = (bad 5)\naction = drop\n", -EINVAL,
			  "@16", "rule r.pattern = '(bad 5)' is not a usable pattern",
			  "fake engine: '(bad 5)' refused");
	/* Without a checker nothing is refused. */
	load_check = NULL;
	assert_load_ok(RULE_HEAD "match = key\npattern = (bad 5)\naction = drop\n");
	assert_string_equal(cfg.rules[0].pattern, "(bad 5)");
}

/* ---- environment ---- */

static void test_env_unset(void **state)
{
	(void)state;
	unsetenv("ISTHMUS_TEST_UNSET_VAR");
	assert_load_fails("[appliance]\nid = ${ISTHMUS_TEST_UNSET_VAR}\nregion = r\n"
			  "[lcore 0]\nroles = batcher\n",
			  -EINVAL, "@2", "appliance.id",
			  "environment variable ISTHMUS_TEST_UNSET_VAR is not set",
			  "export it or write the value");
	assert_load_fails(
		BASE "[kafka k]\nbootstrap = h:1\nrdkafka.client.id = ${ISTHMUS_TEST_UNSET_VAR}\n",
		-EINVAL, "@8", "kafka k.rdkafka.client.id", "ISTHMUS_TEST_UNSET_VAR");
}

static void test_env_set(void **state)
{
	(void)state;
	setenv("ISTHMUS_TEST_ID", "abc", 1);
	setenv("ISTHMUS_TEST_MTU", "9000", 1);
	setenv("ISTHMUS_TEST_CLIENT", "client-7", 1);
	assert_load_ok(
		"[appliance]\nid = pre-${ISTHMUS_TEST_ID}-post\nregion = ${ISTHMUS_TEST_ID}\n"
		"[lcore 0]\nroles = batcher\n" PORT0 "mtu = ${ISTHMUS_TEST_MTU}\n"
		"[kafka k]\nbootstrap = h:1\nrdkafka.client.id = ${ISTHMUS_TEST_CLIENT}\n");
	assert_string_equal(cfg.appliance.id, "pre-abc-post");
	assert_string_equal(cfg.appliance.region, "abc");
	assert_int_equal(cfg.ports[0].mtu, 9000);
	assert_string_equal(cfg.kafka[0].props[0].value, "client-7");
	/* Derived defaults follow the expanded id. */
	assert_string_equal(cfg.control.socket, "/run/isthmus/pre-abc-post/dataplane.sock");
	/* The expanded value is what gets checked, and what the message shows. */
	setenv("ISTHMUS_TEST_MTU", "99999", 1);
	assert_load_fails(BASE PORT0 "mtu = ${ISTHMUS_TEST_MTU}\n", -EINVAL, "@8",
			  "port p0.mtu = 99999", "68..9600");
	unsetenv("ISTHMUS_TEST_ID");
	unsetenv("ISTHMUS_TEST_MTU");
	unsetenv("ISTHMUS_TEST_CLIENT");
}

static void test_env_unterminated(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "[link]\nport = ${ISTHMUS_TEST_PORT\n", -EINVAL, "@9",
			  "link.port", "unterminated or empty ${...}", "${ISTHMUS_TEST_PORT",
			  "write ${NAME}");
	assert_load_fails(BASE "[port p0]\ndevice = ${}\n", -EINVAL, "@7", "port p0.device",
			  "unterminated or empty");
}

static void test_env_too_long(void **state)
{
	char big[300];

	(void)state;
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	setenv("ISTHMUS_TEST_BIG", big, 1);
	assert_load_fails(BASE "[port p0]\ndevice = ${ISTHMUS_TEST_BIG}\n", -EINVAL, "@7",
			  "port p0.device", "value too long after expanding ${ISTHMUS_TEST_BIG}");
	unsetenv("ISTHMUS_TEST_BIG");
}

/* ---- what loads ---- */

static void test_defaults(void **state)
{
	(void)state;
	assert_load_ok(BASE);
	assert_string_equal(cfg.appliance.id, "t1");
	assert_string_equal(cfg.appliance.region, "eu-west");
	assert_string_equal(cfg.control.socket, "/run/isthmus/t1/dataplane.sock");
	assert_string_equal(cfg.control.http_listen, "127.0.0.1:9641");
	assert_int_equal(cfg.control.status_interval_ms, 500);
	assert_string_equal(cfg.eal.file_prefix, "isthmus-t1");
	assert_true(cfg.eal.in_memory);
	assert_false(cfg.eal.no_huge);
	assert_int_equal(cfg.eal.memory_mb, 0);
	assert_string_equal(cfg.eal.log_level, "notice");
	assert_string_equal(cfg.eal.extra_args, "");
	assert_int_equal(cfg.mempool.mbufs, 8191);
	assert_int_equal(cfg.mempool.cache, 256);
	assert_int_equal(cfg.mempool.data_room, 2176);
	assert_int_equal(cfg.n_ports, 0);
	assert_int_equal(cfg.n_lcores, 1);
	assert_int_equal(cfg.lcores[0].id, 0);
	assert_int_equal(cfg.lcores[0].cpu, -1);
	assert_int_equal(cfg.lcores[0].idle_sleep_us, 0);
	assert_int_equal(cfg.lcores[0].idle_spins, 64);
	assert_int_equal(cfg.lcores[0].n_roles, 1);
	assert_string_equal(cfg.lcores[0].roles[0], "link-rx");
	assert_int_equal(cfg.lcores[0].n_queues, 0);
	assert_false(cfg.link.enabled);
	assert_int_equal(cfg.n_kafka, 0);
	assert_int_equal(cfg.n_flows, 0);
	assert_int_equal(cfg.n_classes, 0);
	assert_string_equal(cfg.path, ist_test_conf_path);

	/* Section defaults for a named kind and for [link]. */
	assert_load_ok(BASE PORT0 LINK_OK "[class c]\ntopics = .*\n");
	assert_int_equal(cfg.ports[0].rx_queues, 1);
	assert_int_equal(cfg.ports[0].tx_queues, 1);
	assert_int_equal(cfg.ports[0].rx_desc, 1024);
	assert_int_equal(cfg.ports[0].tx_desc, 1024);
	assert_int_equal(cfg.ports[0].mtu, 1500);
	assert_false(cfg.ports[0].promiscuous);
	assert_int_equal(cfg.link.port, 0);
	assert_string_equal(cfg.link.port_name, "p0");
	assert_int_equal(cfg.link.udp_port, 7411);
	assert_int_equal(cfg.link.capacity_mbps, 1000);
	assert_int_equal(cfg.link.mtu, 1500);
	assert_int_equal(cfg.link.rtt_ms, 100);
	assert_int_equal(cfg.classes[0].rate_mbps, 0);
	assert_int_equal(cfg.classes[0].burst_kb, 256);
	assert_int_equal(cfg.classes[0].weight, 1);
}

static void test_syntax_tolerated(void **state)
{
	(void)state;
	/* Comments, blank lines, inline comments, spacing and CRLF line ends. */
	assert_load_ok(
		"; header comment\r\n\r\n[ appliance ]\r\nid=t2 ; inline\r\n"
		"   region   =   r2   \r\n\r\n[lcore 3]   ; trailing\r\nroles = batcher\r\n");
	assert_string_equal(cfg.appliance.id, "t2");
	assert_string_equal(cfg.appliance.region, "r2");
	assert_int_equal(cfg.lcores[0].id, 3);
	assert_string_equal(cfg.lcores[0].roles[0], "batcher");
}

static void test_rdkafka_props_in_order(void **state)
{
	(void)state;
	assert_load_ok(BASE "[kafka k1]\nrdkafka.socket.timeout.ms = 30000\n"
			    "bootstrap = 10.0.0.1:9092,10.0.0.2:9092\n"
			    "rdkafka.client.id = isthmus-t1\nrdkafka.linger.ms = 5\n"
			    "[kafka k2]\nbootstrap = 10.0.0.3:9092\n");
	assert_int_equal(cfg.n_kafka, 2);
	assert_string_equal(cfg.kafka[0].name, "k1");
	assert_string_equal(cfg.kafka[0].bootstrap, "10.0.0.1:9092,10.0.0.2:9092");
	assert_int_equal(cfg.kafka[0].n_props, 3);
	assert_string_equal(cfg.kafka[0].props[0].name, "socket.timeout.ms");
	assert_string_equal(cfg.kafka[0].props[0].value, "30000");
	assert_string_equal(cfg.kafka[0].props[1].name, "client.id");
	assert_string_equal(cfg.kafka[0].props[1].value, "isthmus-t1");
	assert_string_equal(cfg.kafka[0].props[2].name, "linger.ms");
	assert_string_equal(cfg.kafka[0].props[2].value, "5");
	assert_string_equal(cfg.kafka[1].name, "k2");
	assert_int_equal(cfg.kafka[1].n_props, 0);
	assert_int_equal(ist_config_kafka_index(&cfg, "k2"), 1);
	assert_int_equal(ist_config_kafka_index(&cfg, "k3"), -1);
}

static void test_examples_all_load(void **state)
{
	DIR *d = opendir(EXAMPLES_DIR);
	struct dirent *de;
	unsigned int n = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		load_example(de->d_name);
		n++;
	}
	closedir(d);
	assert_true(n >= 3);
}

static void test_example_demo_a(void **state)
{
	(void)state;
	load_example("demo-region-a.conf");
	assert_string_equal(cfg.appliance.id, "demo-a");
	assert_string_equal(cfg.appliance.region, "eu-west");
	assert_string_equal(cfg.control.socket, "/run/isthmus/demo-a/dataplane.sock");
	assert_string_equal(cfg.control.http_listen, "127.0.0.1:9641");
	assert_string_equal(cfg.eal.file_prefix, "isthmus-demo-a");
	assert_int_equal(cfg.mempool.mbufs, 4095);
	assert_int_equal(cfg.mempool.cache, 128);
	assert_int_equal(cfg.mempool.data_room, 2176);

	assert_int_equal(cfg.n_ports, 1);
	assert_string_equal(cfg.ports[0].name, "link0");
	assert_non_null(strstr(cfg.ports[0].device, "net_memif0,role=server"));
	assert_int_equal(cfg.ports[0].rx_queues, 1);
	assert_int_equal(cfg.ports[0].tx_queues, 1);

	assert_int_equal(cfg.n_lcores, 1);
	assert_int_equal(cfg.lcores[0].id, 0);
	assert_int_equal(cfg.lcores[0].cpu, 0);
	assert_int_equal(cfg.lcores[0].idle_sleep_us, 200);
	assert_int_equal(cfg.lcores[0].n_roles, 2);
	assert_string_equal(cfg.lcores[0].roles[0], "link-rx");
	assert_string_equal(cfg.lcores[0].roles[1], "link-tx");
	assert_int_equal(cfg.lcores[0].n_queues, 0);

	assert_true(cfg.synth.enabled);
	assert_int_equal(cfg.synth.streams, 8);
	assert_string_equal(cfg.synth.progress_file, "/run/isthmus/demo-a.progress");
	assert_int_equal(cfg.link.auth, IST_AUTH_AEAD);
	assert_string_equal(cfg.link.key_file, "/run/isthmus/link.key");

	assert_true(cfg.link.enabled);
	assert_int_equal(cfg.link.port, 0);
	assert_string_equal(cfg.link.local_ip, "10.99.0.1");
	assert_string_equal(cfg.link.peer_ip, "10.99.0.2");
	assert_int_equal(cfg.link.capacity_mbps, 200);
	assert_int_equal(cfg.link.rtt_ms, 60);
	assert_int_equal(cfg.link.mtu, 1500);

	assert_int_equal(cfg.n_kafka, 2);
	assert_string_equal(cfg.kafka[0].name, "region-a");
	assert_string_equal(cfg.kafka[0].bootstrap, "127.0.0.1:19092");
	assert_string_equal(cfg.kafka[1].bootstrap, "127.0.0.1:29092");
	assert_int_equal(cfg.kafka[0].n_props, 1);
	assert_string_equal(cfg.kafka[0].props[0].name, "client.id");
	assert_string_equal(cfg.kafka[0].props[0].value, "isthmus-demo-a");

	assert_int_equal(cfg.n_flows, 1);
	assert_string_equal(cfg.flows[0].name, "dr");
	assert_int_equal(cfg.flows[0].source, 0);
	assert_int_equal(cfg.flows[0].sink, 1);
	assert_int_equal(cfg.flows[0].n_include, 2);
	assert_string_equal(cfg.flows[0].include[0], "orders");
	assert_string_equal(cfg.flows[0].include[1], "payments");
	assert_int_equal(cfg.flows[0].n_exclude, 0);
	assert_int_equal(cfg.flows[0].naming, IST_NAMING_IDENTITY);

	assert_int_equal(cfg.n_classes, 2);
	assert_string_equal(cfg.classes[0].name, "critical");
	assert_string_equal(cfg.classes[0].codec, "lz4");
	assert_int_equal(cfg.classes[0].weight, 4);
	assert_string_equal(cfg.classes[1].name, "bulk");
	assert_int_equal(cfg.classes[1].n_topics, 2);
	assert_string_equal(cfg.classes[1].topics[1], ".*");
	assert_int_equal(cfg.classes[1].rate_mbps, 100);
	assert_int_equal(cfg.classes[1].burst_kb, 512);
	assert_string_equal(cfg.classes[1].codec, "zstd:3");

	/* One rule that demo traffic never meets (no record carries x-isthmus-test). */
	assert_int_equal(cfg.n_rules, 1);
	assert_string_equal(cfg.rules[0].name, "drop-test-records");
	assert_int_equal(cfg.rules[0].flow, 0);
	assert_int_equal(cfg.rules[0].match.field, IST_RULE_MATCH_HEADER);
	assert_string_equal(cfg.rules[0].match.header, "x-isthmus-test");
	assert_string_equal(cfg.rules[0].pattern, "^drop$");
	assert_int_equal(cfg.rules[0].action.kind, IST_RULE_ACTION_DROP);
}

static void test_example_demo_b(void **state)
{
	(void)state;
	load_example("demo-region-b.conf");
	assert_string_equal(cfg.appliance.id, "demo-b");
	assert_string_equal(cfg.appliance.region, "us-east");
	assert_string_equal(cfg.control.http_listen, "127.0.0.1:9642");
	assert_string_equal(cfg.eal.file_prefix, "isthmus-demo-b");
	assert_non_null(strstr(cfg.ports[0].device, "role=client"));
	assert_int_equal(cfg.lcores[0].cpu, 1);
	assert_int_equal(cfg.lcores[1].cpu, 0);
	assert_string_equal(cfg.link.local_ip, "10.99.0.2");
	assert_string_equal(cfg.kafka[0].props[0].value, "isthmus-demo-b");
	/* The failback flow runs from region-b to region-a. */
	assert_string_equal(cfg.flows[0].name, "failback");
	assert_int_equal(cfg.flows[0].source, 1);
	assert_int_equal(cfg.flows[0].sink, 0);
	assert_int_equal(cfg.classes[1].burst_kb, 256);
}

static void test_example_production(void **state)
{
	static const char *const roles[] = {"kafka-in", "link-rx", "unbatcher"};

	(void)state;
	load_example("production.conf");
	assert_string_equal(cfg.appliance.id, "ew1-repl-01");
	/* Not written in the file: derived from the id. */
	assert_string_equal(cfg.control.socket, "/run/isthmus/ew1-repl-01/dataplane.sock");
	assert_string_equal(cfg.eal.file_prefix, "isthmus-ew1-repl-01");
	assert_int_equal(cfg.control.status_interval_ms, 1000);
	assert_int_equal(cfg.eal.memory_mb, 4096);
	assert_int_equal(cfg.mempool.mbufs, 262143);
	assert_int_equal(cfg.mempool.data_room, 10240);

	assert_int_equal(cfg.n_ports, 2);
	assert_int_equal(ist_config_port_index(&cfg, "wan"), 0);
	assert_int_equal(ist_config_port_index(&cfg, "lan"), 1);
	assert_int_equal(ist_config_port_index(&cfg, "nope"), -1);
	assert_string_equal(cfg.ports[0].device, "0000:3b:00.0");
	assert_int_equal(cfg.ports[0].tx_queues, 4);
	assert_int_equal(cfg.ports[0].rx_desc, 4096);
	assert_int_equal(cfg.ports[1].rx_desc, 1024);
	assert_int_equal(cfg.ports[1].mtu, 9000);

	assert_int_equal(cfg.n_lcores, 3);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(cfg.lcores[i].id, i + 2);
		assert_int_equal(cfg.lcores[i].cpu, -1);
		assert_int_equal(cfg.lcores[i].idle_sleep_us, 0);
		assert_string_equal(cfg.lcores[i].roles[0], roles[i]);
		assert_int_equal(cfg.lcores[i].n_queues, 0);
	}
	assert_int_equal(cfg.lcores[0].n_roles, 2);
	assert_string_equal(cfg.lcores[0].roles[1], "batcher");
	assert_int_equal(cfg.lcores[1].n_roles, 2);
	assert_string_equal(cfg.lcores[1].roles[1], "link-tx");
	assert_int_equal(cfg.lcores[2].n_roles, 2);
	assert_string_equal(cfg.lcores[2].roles[1], "kafka-out");
	assert_string_equal(cfg.kafka[0].region, "eu-west");
	assert_string_equal(cfg.kafka[1].region, "us-east");

	assert_true(cfg.link.enabled);
	assert_int_equal(cfg.link.port, 0);
	assert_int_equal(cfg.link.mtu, 9000);
	assert_int_equal(cfg.link.capacity_mbps, 10000);
	assert_int_equal(cfg.link.udp_port, 7411);

	assert_int_equal(cfg.n_kafka, 2);
	assert_int_equal(ist_config_kafka_index(&cfg, "remote-us"), 1);
	assert_int_equal(cfg.kafka[0].n_props, 3);
	assert_string_equal(cfg.kafka[0].props[0].name, "security.protocol");
	assert_string_equal(cfg.kafka[0].props[0].value, "ssl");
	assert_string_equal(cfg.kafka[0].props[1].name, "ssl.ca.location");
	assert_string_equal(cfg.kafka[0].props[1].value, "/etc/isthmus/kafka-ca.pem");
	assert_string_equal(cfg.kafka[0].props[2].name, "fetch.max.bytes");
	assert_string_equal(cfg.kafka[0].props[2].value, "104857600");
	assert_int_equal(cfg.kafka[1].n_props, 2);

	assert_int_equal(cfg.flows[0].source, 0);
	assert_int_equal(cfg.flows[0].sink, 1);
	assert_int_equal(cfg.flows[0].n_include, 2);
	assert_string_equal(cfg.flows[0].include[0], "payments\\..*");
	assert_string_equal(cfg.flows[0].include[1], "orders\\..*");
	assert_int_equal(cfg.flows[0].n_exclude, 1);
	assert_string_equal(cfg.flows[0].exclude[0], ".*\\.internal");

	assert_int_equal(cfg.n_classes, 2);
	assert_int_equal(cfg.classes[0].weight, 8);
	assert_int_equal(cfg.classes[1].rate_mbps, 4000);
	assert_int_equal(cfg.classes[1].burst_kb, 4096);
	assert_string_equal(cfg.classes[1].codec, "zstd:3");
}

/* ---- helpers and docs ---- */

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(ist_config_edit_distance("", ""), 0);
	assert_int_equal(ist_config_edit_distance("mtu", ""), 3);
	assert_int_equal(ist_config_edit_distance("", "mtu"), 3);
	assert_int_equal(ist_config_edit_distance("mtu", "mtu"), 0);
	assert_int_equal(ist_config_edit_distance("mut", "mtu"), 2);
	assert_int_equal(ist_config_edit_distance("rx_queue", "rx_queues"), 1);
	assert_int_equal(ist_config_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(ist_config_edit_distance("sitting", "kitten"), 3);
	assert_int_equal(ist_config_edit_distance("prot", "port"), 2);
	assert_int_equal(ist_config_edit_distance("abc", "xyz"), 3);
}

static void test_write_doc(void **state)
{
	char *doc = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&doc, &len);
	char want[128];

	(void)state;
	assert_non_null(f);
	assert_int_equal(ist_config_write_doc(f), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(doc);
	for (unsigned int i = 0; i < ist_config_n_settings; i++) {
		snprintf(want, sizeof(want), "| `%s` |", ist_config_settings[i].name);
		if (strstr(doc, want) == NULL) {
			print_error("the reference lacks %s.%s\n", ist_config_settings[i].section,
				    ist_config_settings[i].name);
			free(doc);
			fail();
		}
	}
	for (unsigned int i = 0; i < ist_config_n_sections; i++) {
		snprintf(want, sizeof(want), "## [%s", ist_config_sections[i].kind);
		if (strstr(doc, want) == NULL) {
			print_error("the reference lacks section [%s]\n",
				    ist_config_sections[i].kind);
			free(doc);
			fail();
		}
	}
	for (unsigned int i = 0; i < ist_config_n_roles; i++) {
		snprintf(want, sizeof(want), "`%s`", ist_config_roles[i]);
		if (strstr(doc, want) == NULL) {
			print_error("the reference lacks role %s\n", ist_config_roles[i]);
			free(doc);
			fail();
		}
	}
	free(doc);
}

/* Regression: rte_cfgfile keys a section by its header text as written. */
static void test_header_inner_blanks(void **state)
{
	(void)state;
	assert_load_ok(BASE "[port\tp0]\ndevice = net_null0\nmtu = 9000\n");
	assert_string_equal(cfg.ports[0].name, "p0");
	assert_int_equal(cfg.ports[0].mtu, 9000);
	assert_load_ok(BASE "[port   p0]\ndevice = net_null0\n");
	assert_string_equal(cfg.ports[0].device, "net_null0");
}

/* Regression: a name that does not fit was cut short and could collide. */
static void test_section_label_too_long(void **state)
{
	(void)state;
	assert_load_fails(BASE "[port abcdefghijklmnopqrstuvwxyz0123456789]\ndevice = x\n", -EINVAL,
			  "@6", "abcdefghijklmnopqrstuvwxyz0123456789", "longer than 31 characters",
			  "shorten it");
}

static void test_path_is_directory(void **state)
{
	(void)state;
	assert_int_equal(ist_config_load(ist_test_conf_dir(), &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is not a regular file"));
}

static void test_codec_strict_level(void **state)
{
	(void)state;
	assert_load_fails(BASE "[class c]\ntopics = .*\ncodec = zstd: 3\n", -EINVAL, "@8",
			  "class c.codec", "zstd:<1..19>");
	assert_load_fails(BASE "[class c]\ntopics = .*\ncodec = zstd:+3\n", -EINVAL, "@8",
			  "class c.codec");
}

static void test_link_auth_needs_key_file(void **state)
{
	(void)state;
	assert_load_fails(BASE PORT0 "[link]\nport = p0\nlocal_ip = 10.0.0.1\npeer_ip = 10.0.0.2\n",
			  -EINVAL, "@8", "auth = aead but no key_file", "auth = none");
	assert_load_ok(BASE PORT0 "[link]\nport = p0\nlocal_ip = 10.0.0.1\npeer_ip = 10.0.0.2\n"
				  "key_file = /etc/k\n");
	assert_int_equal(cfg.link.auth, IST_AUTH_AEAD);
	assert_string_equal(cfg.link.key_file, "/etc/k");
	assert_load_fails(BASE PORT0 LINK_OK
			  "[synth]\nprogress_file = /tmp/p\nmin_body = 500\nmax_body = 100\n",
			  -EINVAL, "synth.min_body = 500 exceeds synth.max_body = 100");
	assert_load_fails(BASE "[synth]\nprogress_file = /tmp/p\n", -EINVAL,
			  "[synth] needs a [link]");
	assert_load_ok(BASE PORT0 LINK_OK "[synth]\nprogress_file = /tmp/p\nstreams = 8\n");
	assert_true(cfg.synth.enabled);
	assert_int_equal(cfg.synth.streams, 8);
	assert_int_equal(cfg.synth.window, 16);
}

static void test_synth_corpus_keys(void **state)
{
	(void)state;
	assert_load_ok(BASE PORT0 LINK_OK "[synth]\nprogress_file = /tmp/p\n");
	assert_string_equal(cfg.synth.corpus, "");
	assert_string_equal(cfg.synth.codec, "lz4");
	assert_int_equal(cfg.synth.frame_kb, 16);
	assert_load_ok(BASE PORT0 LINK_OK "[synth]\nprogress_file = /tmp/p\ncorpus = /tmp/c.bin\n"
					  "codec = zstd:1\nframe_kb = 63\n");
	assert_string_equal(cfg.synth.corpus, "/tmp/c.bin");
	assert_string_equal(cfg.synth.codec, "zstd:1");
	assert_int_equal(cfg.synth.frame_kb, 63);
	assert_load_fails(BASE PORT0 LINK_OK "[synth]\nprogress_file = /tmp/p\ncodec = brotli\n",
			  -EINVAL, "@15", "synth.codec", "zstd:<1..19>");
	assert_load_fails(BASE PORT0 LINK_OK "[synth]\nprogress_file = /tmp/p\nframe_kb = 64\n",
			  -EINVAL, "@15", "synth.frame_kb");
	assert_load_fails(BASE PORT0 LINK_OK "[synth]\nprogress_file = /tmp/p\nframe_kb = 0\n",
			  -EINVAL, "@15", "synth.frame_kb");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_comments_only),
		cmocka_unit_test(test_over_long_line),
		cmocka_unit_test(test_value_too_long),
		cmocka_unit_test(test_header_inner_blanks),
		cmocka_unit_test(test_section_label_too_long),
		cmocka_unit_test(test_path_is_directory),
		cmocka_unit_test(test_codec_strict_level),
		cmocka_unit_test(test_link_auth_needs_key_file),
		cmocka_unit_test(test_synth_corpus_keys),
		cmocka_unit_test(test_key_before_section),
		cmocka_unit_test(test_line_without_equals),
		cmocka_unit_test(test_bad_key_name),
		cmocka_unit_test(test_unterminated_section),
		cmocka_unit_test(test_unknown_section_kind),
		cmocka_unit_test(test_named_kind_without_name),
		cmocka_unit_test(test_unnamed_kind_with_name),
		cmocka_unit_test(test_bad_section_name),
		cmocka_unit_test(test_section_name_too_long),
		cmocka_unit_test(test_duplicate_section),
		cmocka_unit_test(test_too_many_sections),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_unknown_key_kafka),
		cmocka_unit_test(test_rdkafka_rejected),
		cmocka_unit_test(test_missing_required_key),
		cmocka_unit_test(test_missing_required_section),
		cmocka_unit_test(test_int_not_a_number),
		cmocka_unit_test(test_int_out_of_range),
		cmocka_unit_test(test_bad_bool),
		cmocka_unit_test(test_bad_enum),
		cmocka_unit_test(test_bad_ipv4),
		cmocka_unit_test(test_bad_addr),
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_string_bounds),
		cmocka_unit_test(test_list_too_many),
		cmocka_unit_test(test_list_bounds),
		cmocka_unit_test(test_unknown_role),
		cmocka_unit_test(test_role_twice),
		cmocka_unit_test(test_lcore_id),
		cmocka_unit_test(test_lcore_twice),
		cmocka_unit_test(test_queues_unknown_port),
		cmocka_unit_test(test_queue_beyond_rx_queues),
		cmocka_unit_test(test_queue_two_lcores),
		cmocka_unit_test(test_link_port_unknown),
		cmocka_unit_test(test_link_mtu_above_port),
		cmocka_unit_test(test_data_room_too_small),
		cmocka_unit_test(test_flow_unknown_cluster),
		cmocka_unit_test(test_flow_same_cluster),
		cmocka_unit_test(test_rule_loads),
		cmocka_unit_test(test_rule_bad_match),
		cmocka_unit_test(test_rule_bad_action),
		cmocka_unit_test(test_rule_required_and_bounds),
		cmocka_unit_test(test_rule_unknown_flow),
		cmocka_unit_test(test_too_many_rules),
		cmocka_unit_test(test_regex_checker),
		cmocka_unit_test(test_env_unset),
		cmocka_unit_test(test_env_set),
		cmocka_unit_test(test_env_unterminated),
		cmocka_unit_test(test_env_too_long),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_syntax_tolerated),
		cmocka_unit_test(test_rdkafka_props_in_order),
		cmocka_unit_test(test_examples_all_load),
		cmocka_unit_test(test_example_demo_a),
		cmocka_unit_test(test_example_demo_b),
		cmocka_unit_test(test_example_production),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_write_doc),
	};

	return cmocka_run_group_tests_name("config", tests, group_setup, group_teardown);
}
