/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hand-rolled rather than getopt_long(): global options may appear before
 * or after the verb, each verb has its own options, and every error must be
 * one line naming the culprit, which getopt's own messages are not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isthmus/ipc.h>

#include "api.h"
#include "ist_config.h"
#include "cli_args.h"

static const char usage_main[] =
	"usage: isthmus [--api URL | -c FILE] VERB [args]\n"
	"\n"
	"Operator CLI of an isthmus appliance; talks to isthmus-control over its HTTP API.\n"
	"\n"
	"verbs:\n"
	"  status [--json]               appliance, data plane, lcores, ports, Kafka clusters\n"
	"  pause [--lcore N]             stop polling on lcore N (default: all lcores)\n"
	"  resume [--lcore N]            resume polling on lcore N (default: all lcores)\n"
	"  idle-sleep --us N [--lcore N] bound the sleep of an idle lcore to N microseconds\n"
	"                                (0: busy-poll)\n"
	"  verify --source B --dest B --topic T...\n"
	"                                compare replicated topics with their source, record\n"
	"                                by record (talks to Kafka directly, not to control)\n"
	"  help [VERB]                   this text, or the usage of VERB\n"
	"\n"
	"options:\n"
	"  --api URL     isthmus-control's API (default " IST_CLI_DEFAULT_API ")\n"
	"  -c FILE       take the API address from control.http_listen in the core map FILE\n"
	"  -h, --help    this text; `isthmus VERB --help` shows a verb's usage\n"
	"  --version     print the version\n"
	"\n"
	"exit status: 0 done, 1 failed or isthmus-control unreachable, 2 usage or config error\n"
	"(verify: 0 clean, 1 differences, 2 usage, config error or Kafka unreachable)\n";

static const char usage_status[] =
	"usage: isthmus [--api URL | -c FILE] status [--json]\n"
	"\n"
	"Show the appliance and region, control and data-plane state (connected, or\n"
	"disconnected since when), the lcores (cpu, roles, busy %, loops, paused), the\n"
	"ports (driver, link, rx/tx packets and bytes, errors), the Kafka clusters\n"
	"(reachable, brokers, topics) and IPC rejections when there are any.\n"
	"\n"
	"  --json   print isthmus-control's /status document instead\n";

static const char usage_pause[] =
	"usage: isthmus [--api URL | -c FILE] pause [--lcore N]\n"
	"\n"
	"Stop polling roles on lcore N, or on every lcore without --lcore. A paused\n"
	"lcore sleeps and forwards nothing until `isthmus resume`.\n";

static const char usage_resume[] =
	"usage: isthmus [--api URL | -c FILE] resume [--lcore N]\n"
	"\n"
	"Resume polling on lcore N, or on every lcore without --lcore.\n";

static const char usage_idle_sleep[] =
	"usage: isthmus [--api URL | -c FILE] idle-sleep --us N [--lcore N]\n"
	"\n"
	"Bound how long an idle lcore sleeps between polls to N microseconds\n"
	"(0 to 100000; 0 makes it busy-poll), on lcore N or on every lcore.\n"
	"Shared machines want a few hundred; dedicated appliances want 0.\n";

static const char usage_verify[] =
	"usage: isthmus verify --source BOOTSTRAP --dest BOOTSTRAP --topic TOPIC [--topic "
	"TOPIC]...\n"
	"                      [--dest-prefix PREFIX] [--wait SECONDS] [--timeout SECONDS]\n"
	"                      [--json] [--max-report N]\n"
	"       isthmus verify -c FILE --flow NAME [--topic TOPIC]... [options as above]\n"
	"\n"
	"Read every partition of each source topic from the beginning up to its high\n"
	"watermark (read_committed), and the destination topic PREFIX+TOPIC up to its\n"
	"high watermark; pair destination records with source records by their\n"
	"isthmus.origin.* provenance headers and report, per partition, records that\n"
	"are missing, duplicated, reordered, altered (key, value, headers, timestamp)\n"
	"or foreign (no provenance), and copies in the wrong partition (misplaced).\n"
	"\n"
	"  --source B, --dest B  bootstrap servers of the source and destination clusters\n"
	"  --topic T             a source topic (repeatable, up to 64)\n"
	"  -c FILE --flow NAME   take both clusters (and their rdkafka.* properties) from\n"
	"                        the flow's [kafka] sections in the core map FILE; topics\n"
	"                        from --topic, else the flow's includes that are plain names;\n"
	"                        PREFIX is '<appliance.region>.' for naming = prefix\n"
	"  --dest-prefix P       destination topic = P + source topic (default: none)\n"
	"  --wait S              replication may be in flight: repeat until clean or S\n"
	"                        seconds passed; only missing records at a partition's tail\n"
	"                        count as in flight (default 0: one pass)\n"
	"  --timeout S           to reach a cluster, and longest stall of a read (default 10)\n"
	"  --max-report N        differences listed per partition (default 10)\n"
	"  --json                print the report as JSON\n"
	"\n"
	"exit status: 0 clean, 1 differences, 2 usage, config error or Kafka unreachable\n";

static const char usage_help[] = "usage: isthmus help [VERB]\n"
				 "\n"
				 "Print the general usage, or the usage of VERB.\n";

static const struct {
	const char *name;
	const char *usage;
} cli_verbs[IST_CLI_VERB_MAX] = {
	[IST_CLI_NONE] = {"", usage_main},
	[IST_CLI_HELP] = {"help", usage_help},
	[IST_CLI_VERSION] = {"version", usage_main},
	[IST_CLI_STATUS] = {"status", usage_status},
	[IST_CLI_PAUSE] = {"pause", usage_pause},
	[IST_CLI_RESUME] = {"resume", usage_resume},
	[IST_CLI_IDLE_SLEEP] = {"idle-sleep", usage_idle_sleep},
	[IST_CLI_VERIFY] = {"verify", usage_verify},
};

const char *ist_cli_usage(enum ist_cli_verb verb)
{
	if (verb <= IST_CLI_NONE || verb >= IST_CLI_VERB_MAX || verb == IST_CLI_VERSION)
		return usage_main;
	return cli_verbs[verb].usage;
}

const char *ist_cli_verb_name(enum ist_cli_verb verb)
{
	return verb < IST_CLI_VERB_MAX ? cli_verbs[verb].name : "";
}

/* The options a verb takes, for error messages. */
static const char *cli_verb_opts(enum ist_cli_verb verb)
{
	switch (verb) {
	case IST_CLI_STATUS:
		return "--json";
	case IST_CLI_PAUSE:
	case IST_CLI_RESUME:
		return "--lcore N";
	case IST_CLI_IDLE_SLEEP:
		return "--us N and --lcore N";
	case IST_CLI_VERIFY:
		return "--source, --dest, --topic, --dest-prefix, --flow, --wait, --timeout, "
		       "--max-report and --json";
	case IST_CLI_HELP:
		return "a verb";
	default:
		return "no options";
	}
}

static enum ist_cli_verb cli_verb_lookup(const char *s)
{
	unsigned int v;

	for (v = IST_CLI_HELP; v < IST_CLI_VERB_MAX; v++)
		if (v != IST_CLI_VERSION && strcmp(s, cli_verbs[v].name) == 0)
			return (enum ist_cli_verb)v;
	return IST_CLI_NONE;
}

/* Levenshtein distance of two short words, for "did you mean". */
static const char *cli_suggest(const char *word)
{
	const char *best = NULL;
	unsigned int v, d, best_d = 3;

	for (v = IST_CLI_HELP; v < IST_CLI_VERB_MAX; v++) {
		if (v == IST_CLI_VERSION)
			continue;
		d = ist_config_edit_distance(word, cli_verbs[v].name);
		if (d < best_d) {
			best_d = d;
			best = cli_verbs[v].name;
		}
	}
	return best;
}

static bool cli_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long long v = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long long)(*s - '0');
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* Kafka's rule for topic names: 1-249 of A-Z a-z 0-9 . _ - (@p min 0: a prefix). */
static bool cli_topic_ok(const char *s, size_t min, size_t max)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n >= min && n <= max;
}

/*
 * Match "--name VALUE" or "--name=VALUE" at argv[*i]; on a match advance *i
 * past the value and return it (NULL with *missing set when there is none).
 */
static bool cli_opt(int argc, char *const argv[], int *i, const char *name, const char **val,
		    bool *missing)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	*missing = false;
	if (strncmp(a, name, n) != 0)
		return false;
	if (a[n] == '=') {
		*val = a + n + 1;
		return true;
	}
	if (a[n] != '\0')
		return false;
	if (*i + 1 >= argc) {
		*val = NULL;
		*missing = true;
		return true;
	}
	*val = argv[++*i];
	return true;
}

#define CLI_ERR(...)                                \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return -EINVAL;                     \
	} while (0)

#define VERIFY_ERR(...)                                                                        \
	do {                                                                                   \
		char what_[256];                                                               \
		snprintf(what_, sizeof(what_), __VA_ARGS__);                                   \
		snprintf(err, errlen, "isthmus verify: %s: see isthmus verify --help", what_); \
		return -EINVAL;                                                                \
	} while (0)

/* One option of verify at argv[*i] (starts with "--"). */
static int cli_parse_verify_opt(int argc, char *const argv[], int *i, struct ist_cli_cmd *cmd,
				char *err, size_t errlen)
{
	const char *a = argv[*i], *val;
	bool missing;

	if (cli_opt(argc, argv, i, "--source", &val, &missing)) {
		if (missing || *val == '\0')
			VERIFY_ERR("--source needs the source cluster's bootstrap servers "
				   "(HOST:PORT[,HOST:PORT...])");
		cmd->source = val;
	} else if (cli_opt(argc, argv, i, "--dest-prefix", &val, &missing)) {
		if (missing || !cli_topic_ok(val, 0, IST_CLI_VERIFY_PREFIX_MAX))
			VERIFY_ERR("--dest-prefix needs up to %u of A-Z a-z 0-9 . _ -, got '%s'",
				   IST_CLI_VERIFY_PREFIX_MAX, missing ? "" : val);
		cmd->dest_prefix = val;
	} else if (cli_opt(argc, argv, i, "--dest", &val, &missing)) {
		if (missing || *val == '\0')
			VERIFY_ERR("--dest needs the destination cluster's bootstrap servers "
				   "(HOST:PORT[,HOST:PORT...])");
		cmd->dest = val;
	} else if (cli_opt(argc, argv, i, "--topic", &val, &missing)) {
		if (missing)
			VERIFY_ERR("--topic needs a topic name");
		if (!cli_topic_ok(val, 1, 249))
			VERIFY_ERR("--topic '%s' is not a topic name (1-249 of A-Z a-z 0-9 . _ -)",
				   val);
		if (cmd->n_topics >= IST_CLI_MAX_TOPICS)
			VERIFY_ERR("more than %u --topic options; verify in several runs",
				   IST_CLI_MAX_TOPICS);
		cmd->topics[cmd->n_topics++] = val;
	} else if (cli_opt(argc, argv, i, "--flow", &val, &missing)) {
		if (missing || *val == '\0')
			VERIFY_ERR("--flow needs the name of a [flow NAME] section");
		cmd->flow = val;
	} else if (cli_opt(argc, argv, i, "--wait", &val, &missing)) {
		if (missing || !cli_parse_u32(val, IST_CLI_VERIFY_MAX_WAIT_S, &cmd->wait_s))
			VERIFY_ERR("--wait needs seconds from 0 to %u, got '%s'",
				   IST_CLI_VERIFY_MAX_WAIT_S, missing ? "" : val);
	} else if (cli_opt(argc, argv, i, "--timeout", &val, &missing)) {
		if (missing || !cli_parse_u32(val, IST_CLI_VERIFY_MAX_TIMEOUT_S, &cmd->timeout_s) ||
		    cmd->timeout_s == 0)
			VERIFY_ERR("--timeout needs seconds from 1 to %u, got '%s'",
				   IST_CLI_VERIFY_MAX_TIMEOUT_S, missing ? "" : val);
	} else if (cli_opt(argc, argv, i, "--max-report", &val, &missing)) {
		if (missing || !cli_parse_u32(val, IST_CLI_VERIFY_MAX_REPORT, &cmd->max_report))
			VERIFY_ERR("--max-report needs a count from 0 to %u, got '%s'",
				   IST_CLI_VERIFY_MAX_REPORT, missing ? "" : val);
	} else {
		CLI_ERR("isthmus: unknown option '%s' for verify (it takes %s): see isthmus "
			"verify --help",
			a, cli_verb_opts(IST_CLI_VERIFY));
	}
	return 0;
}

/* The combinations verify accepts. */
static int cli_check_verify(const struct ist_cli_cmd *cmd, char *err, size_t errlen)
{
	if (cmd->api != NULL)
		VERIFY_ERR("--api does not apply: verify talks to the Kafka clusters directly");
	if (cmd->flow != NULL) {
		if (cmd->config == NULL)
			VERIFY_ERR("--flow %s needs -c FILE, the core map that defines it",
				   cmd->flow);
		if (cmd->source != NULL || cmd->dest != NULL)
			VERIFY_ERR("give --flow or --source/--dest, not both");
		return 0;
	}
	if (cmd->config != NULL)
		VERIFY_ERR("-c FILE needs --flow NAME to say which flow to verify");
	if (cmd->source == NULL || cmd->dest == NULL)
		VERIFY_ERR("needs --source and --dest bootstrap servers, or -c FILE --flow NAME");
	if (cmd->n_topics == 0)
		VERIFY_ERR("needs at least one --topic");
	return 0;
}

int ist_cli_parse(int argc, char *const argv[], struct ist_cli_cmd *cmd, char *err, size_t errlen)
{
	bool want_help = false, missing;
	const char *val;
	int i;

	memset(cmd, 0, sizeof(*cmd));
	cmd->timeout_s = IST_CLI_VERIFY_DEF_TIMEOUT_S;
	cmd->max_report = IST_CLI_VERIFY_DEF_MAX_REPORT;
	err[0] = '\0';
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (cli_opt(argc, argv, &i, "--api", &val, &missing)) {
			if (missing)
				CLI_ERR("isthmus: --api needs a URL: see isthmus --help");
			cmd->api = val;
		} else if (cli_opt(argc, argv, &i, "-c", &val, &missing) ||
			   cli_opt(argc, argv, &i, "--config", &val, &missing)) {
			if (missing)
				CLI_ERR("isthmus: -c needs a FILE: see isthmus --help");
			cmd->config = val;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			want_help = true;
		} else if (strcmp(a, "--version") == 0 &&
			   (cmd->verb == IST_CLI_NONE || cmd->verb == IST_CLI_VERSION)) {
			cmd->verb = IST_CLI_VERSION;
		} else if ((cmd->verb == IST_CLI_STATUS || cmd->verb == IST_CLI_VERIFY) &&
			   strcmp(a, "--json") == 0) {
			cmd->json = true;
		} else if ((cmd->verb == IST_CLI_PAUSE || cmd->verb == IST_CLI_RESUME ||
			    cmd->verb == IST_CLI_IDLE_SLEEP) &&
			   cli_opt(argc, argv, &i, "--lcore", &val, &missing)) {
			if (missing || !cli_parse_u32(val, IST_IPC_ALL_LCORES - 1u, &cmd->lcore))
				CLI_ERR("isthmus: %s --lcore needs an lcore id (a whole number): "
					"see isthmus %s --help",
					ist_cli_verb_name(cmd->verb), ist_cli_verb_name(cmd->verb));
			cmd->has_lcore = true;
		} else if (cmd->verb == IST_CLI_IDLE_SLEEP &&
			   cli_opt(argc, argv, &i, "--us", &val, &missing)) {
			if (missing || !cli_parse_u32(val, IST_API_MAX_IDLE_SLEEP_US, &cmd->us))
				CLI_ERR("isthmus: idle-sleep --us needs microseconds from 0 to %u: "
					"see isthmus idle-sleep --help",
					IST_API_MAX_IDLE_SLEEP_US);
			cmd->has_us = true;
		} else if (cmd->verb == IST_CLI_VERIFY && a[0] == '-' && a[1] == '-') {
			int rc = cli_parse_verify_opt(argc, argv, &i, cmd, err, errlen);

			if (rc < 0)
				return rc;
		} else if (a[0] == '-' && a[1] != '\0') {
			if (cmd->verb != IST_CLI_NONE && cmd->verb != IST_CLI_VERSION)
				CLI_ERR("isthmus: unknown option '%s' for %s (it takes %s): see "
					"isthmus --help",
					a, ist_cli_verb_name(cmd->verb), cli_verb_opts(cmd->verb));
			CLI_ERR("isthmus: unknown option '%s': see isthmus --help", a);
		} else if (cmd->verb == IST_CLI_NONE || cmd->verb == IST_CLI_VERSION) {
			enum ist_cli_verb v = cli_verb_lookup(a);

			if (v == IST_CLI_NONE) {
				const char *s = cli_suggest(a);

				if (s != NULL)
					CLI_ERR("isthmus: unknown verb '%s' (did you mean '%s'?): "
						"see isthmus --help",
						a, s);
				CLI_ERR("isthmus: unknown verb '%s': see isthmus --help", a);
			}
			cmd->verb = v;
		} else if (cmd->verb == IST_CLI_HELP && cmd->help_verb == IST_CLI_NONE) {
			cmd->help_verb = cli_verb_lookup(a);
			if (cmd->help_verb == IST_CLI_NONE)
				CLI_ERR("isthmus: no help for unknown verb '%s': see isthmus "
					"--help",
					a);
		} else {
			CLI_ERR("isthmus: unexpected argument '%s' for %s (it takes %s): see "
				"isthmus "
				"--help",
				a, ist_cli_verb_name(cmd->verb), cli_verb_opts(cmd->verb));
		}
	}
	if (cmd->api != NULL && cmd->config != NULL)
		CLI_ERR("isthmus: give --api or -c, not both: see isthmus --help");
	if (want_help) {
		cmd->help_verb = cmd->verb == IST_CLI_HELP || cmd->verb == IST_CLI_VERSION
					 ? cmd->help_verb
					 : cmd->verb;
		cmd->verb = IST_CLI_HELP;
		return 0;
	}
	if (cmd->verb == IST_CLI_NONE)
		CLI_ERR("isthmus: no verb given: see isthmus --help");
	if (cmd->verb == IST_CLI_IDLE_SLEEP && !cmd->has_us)
		CLI_ERR("isthmus: idle-sleep needs --us N: see isthmus idle-sleep --help");
	if (cmd->verb == IST_CLI_VERIFY)
		return cli_check_verify(cmd, err, errlen);
	if (cmd->api != NULL && strncmp(cmd->api, "http://", 7) != 0 &&
	    strncmp(cmd->api, "https://", 8) != 0)
		CLI_ERR("isthmus: --api '%s' is not an http:// URL: see isthmus --help", cmd->api);
	return 0;
}

int ist_cli_api_url(const char *http_listen, char *url, size_t len)
{
	char host[256], port[8];
	int n;

	if (ist_api_split_hostport(http_listen, host, sizeof(host), port, sizeof(port)) < 0)
		return -EINVAL;
	if (strcmp(host, "0.0.0.0") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (strcmp(host, "::") == 0)
		snprintf(host, sizeof(host), "::1");
	if (strchr(host, ':') != NULL)
		n = snprintf(url, len, "http://[%s]:%s", host, port);
	else
		n = snprintf(url, len, "http://%s:%s", host, port);
	return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

int ist_cli_cmd_path(const struct ist_cli_cmd *cmd, char *path, size_t len)
{
	char lcore[16];
	int n;

	if (cmd->verb != IST_CLI_PAUSE && cmd->verb != IST_CLI_RESUME &&
	    cmd->verb != IST_CLI_IDLE_SLEEP)
		return -EINVAL;
	if (cmd->has_lcore)
		snprintf(lcore, sizeof(lcore), "%u", cmd->lcore);
	else
		snprintf(lcore, sizeof(lcore), "all");
	if (cmd->verb == IST_CLI_IDLE_SLEEP)
		n = snprintf(path, len, "/v1/lcores/%s/idle-sleep?us=%u", lcore, cmd->us);
	else
		n = snprintf(path, len, "/v1/lcores/%s/%s", lcore, ist_cli_verb_name(cmd->verb));
	return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

/* Trim spaces and tabs at both ends, in place. */
static char *cli_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int ist_cli_find_http_listen(const char *text, char *out, size_t len)
{
	const char *line = text;
	bool in_control = false;
	char buf[512];

	snprintf(out, len, "127.0.0.1:9641");
	while (line != NULL && *line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char *l, *eq, *c;

		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, line, n);
		buf[n] = '\0';
		line = nl ? nl + 1 : NULL;
		l = cli_trim(buf);
		if (*l == ';' || *l == '#' || *l == '\0')
			continue;
		if (*l == '[') {
			c = strchr(l, ']');
			if (c != NULL)
				*c = '\0';
			in_control = strcmp(cli_trim(l + 1), "control") == 0;
			continue;
		}
		eq = strchr(l, '=');
		if (!in_control || eq == NULL)
			continue;
		*eq = '\0';
		if (strcmp(cli_trim(l), "http_listen") != 0)
			continue;
		l = eq + 1;
		/* An inline comment starts at ';' or '#' after a space. */
		for (c = l; *c != '\0'; c++)
			if ((*c == ';' || *c == '#') && c > l && (c[-1] == ' ' || c[-1] == '\t')) {
				*c = '\0';
				break;
			}
		l = cli_trim(l);
		if (*l == '\0' || strstr(l, "${") != NULL || strlen(l) >= len)
			return -EINVAL;
		snprintf(out, len, "%s", l);
		return 0;
	}
	return 0;
}
