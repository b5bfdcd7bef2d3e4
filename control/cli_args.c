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
	"  help [VERB]                   this text, or the usage of VERB\n"
	"\n"
	"options:\n"
	"  --api URL     isthmus-control's API (default " IST_CLI_DEFAULT_API ")\n"
	"  -c FILE       take the API address from control.http_listen in the core map FILE\n"
	"  -h, --help    this text; `isthmus VERB --help` shows a verb's usage\n"
	"  --version     print the version\n"
	"\n"
	"exit status: 0 done, 1 failed or isthmus-control unreachable, 2 usage or config error\n";

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

int ist_cli_parse(int argc, char *const argv[], struct ist_cli_cmd *cmd, char *err, size_t errlen)
{
	bool want_help = false, missing;
	const char *val;
	int i;

	memset(cmd, 0, sizeof(*cmd));
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
		} else if (cmd->verb == IST_CLI_STATUS && strcmp(a, "--json") == 0) {
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
