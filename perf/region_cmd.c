/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "region_cmd.h"

const char ist_region_usage[] =
	"usage: isthmus-region --name NAME [--brokers N] [--topic NAME:PARTITIONS[:RF]]...\n"
	"                      [--rtt-ms MS] [--control PATH] [--bootstrap-file PATH]\n"
	"       isthmus-region ctl PATH COMMAND...\n"
	"       isthmus-region --help\n"
	"\n"
	"Runs an emulated Kafka region (a librdkafka mock cluster on loopback) until\n"
	"SIGINT, SIGTERM or the 'quit' command, and prints 'BOOTSTRAP <servers>' once\n"
	"it is ready.\n"
	"\n"
	"  --name NAME             region name, 1-64 of A-Z a-z 0-9 . _ - (required)\n"
	"  --brokers N             number of brokers, 1-32, ids 1..N (default 3)\n"
	"  --topic NAME:P[:RF]     create a topic with P partitions (1-1024) and\n"
	"                          replication factor RF (default min(3, N)); repeatable\n"
	"  --rtt-ms MS             round-trip delay added by every broker, 0-60000 (default 0)\n"
	"  --control PATH          serve control commands on a Unix socket at PATH\n"
	"  --bootstrap-file PATH   also write the bootstrap servers to PATH\n"
	"\n"
	"Control commands (one per line, one reply line 'ok ...' or 'error: ...'):\n"
	"  broker <id> down | broker <id> up | broker <id> rtt <ms>\n"
	"  topic create <name> <partitions> [<rf>]\n"
	"  status | help | quit\n"
	"\n"
	"ctl exits 0 on an 'ok' reply, 1 on 'error:', 2 on bad usage or no server.\n";

const char ist_region_cmd_help[] =
	"commands: broker <id> down, broker <id> up, broker <id> rtt <ms>, "
	"topic create <name> <partitions> [<rf>], status, help, quit";

#define IST_REGION_FIX_CMDS                                                                     \
	"commands are: broker <id> down|up|rtt <ms>, topic create <name> <partitions> [<rf>], " \
	"status, help, quit"

static void err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * User input goes back into one-line replies and terminals, so it is cut short
 * and stripped of control characters before it is echoed.
 */
static const char *quote(char *dst, size_t len, const char *src)
{
	const size_t keep = 40;
	size_t i, n = 0;

	for (i = 0; src[i] != '\0' && n + 1 < len; i++) {
		if (i == keep && n + 4 < len) {
			memcpy(dst + n, "...", 3);
			n += 3;
			break;
		}
		dst[n++] = isprint((unsigned char)src[i]) ? src[i] : '?';
	}
	dst[n] = '\0';
	return dst;
}

/* Plain decimal only: no sign, no spaces, no hex, so "1e3" or "+4" are refused. */
static int parse_uint(const char *s, long min, long max, int *out)
{
	long v = 0;
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 9)
		return -EINVAL;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = (int)v;
	return 0;
}

static bool name_chars_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return false;
	}
	return true;
}

static int topic_name_check(const char *name, char *err, size_t errlen)
{
	char q[64];
	size_t n = strlen(name);

	/* Kafka itself refuses these; the mock cluster would accept them silently. */
	if (n == 0 || n > IST_REGION_TOPIC_NAME_MAX || !name_chars_ok(name) ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		err_set(err, errlen,
			"topic name '%s' is not valid — use 1-%d characters from A-Z a-z 0-9 . _ -",
			quote(q, sizeof(q), name), IST_REGION_TOPIC_NAME_MAX);
		return -EINVAL;
	}
	return 0;
}

static int topic_counts_parse(struct ist_region_topic *t, const char *what, const char *parts,
			      const char *rf, const char *fix, char *err, size_t errlen)
{
	char q[64], q2[64];

	if (parse_uint(parts, 1, IST_REGION_PARTITIONS_MAX, &t->partitions) < 0) {
		err_set(err, errlen, "%s: partition count '%s' is not a number from 1 to %d — %s",
			quote(q2, sizeof(q2), what), quote(q, sizeof(q), parts),
			IST_REGION_PARTITIONS_MAX, fix);
		return -EINVAL;
	}
	t->rf = 0;
	if (rf != NULL && parse_uint(rf, 1, IST_REGION_BROKERS_MAX, &t->rf) < 0) {
		err_set(err, errlen,
			"%s: replication factor '%s' is not a number from 1 to %d — %s",
			quote(q2, sizeof(q2), what), quote(q, sizeof(q), rf),
			IST_REGION_BROKERS_MAX, fix);
		return -EINVAL;
	}
	return 0;
}

int ist_region_topic_parse(const char *spec, struct ist_region_topic *t, char *err, size_t errlen)
{
	static const char fix[] = "use NAME:PARTITIONS[:RF], e.g. --topic orders:4:3";
	char buf[IST_REGION_TOPIC_NAME_MAX + 32];
	char what[96], q[64];
	char *parts, *rf, *extra;

	if (strlen(spec) >= sizeof(buf)) {
		err_set(err, errlen, "topic spec '%s' is too long — %s", quote(q, sizeof(q), spec),
			fix);
		return -EINVAL;
	}
	strcpy(buf, spec);
	parts = strchr(buf, ':');
	if (parts == NULL) {
		err_set(err, errlen, "topic spec '%s' has no partition count — %s",
			quote(q, sizeof(q), spec), fix);
		return -EINVAL;
	}
	*parts++ = '\0';
	rf = strchr(parts, ':');
	if (rf != NULL) {
		*rf++ = '\0';
		extra = strchr(rf, ':');
		if (extra != NULL) {
			err_set(err, errlen, "topic spec '%s' has too many fields — %s",
				quote(q, sizeof(q), spec), fix);
			return -EINVAL;
		}
	}
	if (topic_name_check(buf, err, errlen) < 0)
		return -EINVAL;
	snprintf(what, sizeof(what), "topic spec '%s'", quote(q, sizeof(q), spec));
	if (topic_counts_parse(t, what, parts, rf, fix, err, errlen) < 0)
		return -EINVAL;
	strcpy(t->name, buf);
	return 0;
}

/* A replication factor above the broker count is clamped by the mock without a word. */
static int topic_rf_resolve(struct ist_region_topic *t, int brokers, const char *fix, char *err,
			    size_t errlen)
{
	if (t->rf == 0) {
		t->rf = brokers < IST_REGION_DEFAULT_RF ? brokers : IST_REGION_DEFAULT_RF;
		return 0;
	}
	if (t->rf > brokers) {
		err_set(err, errlen,
			"topic '%s': replication factor %d is more than the %d broker(s) — %s",
			t->name, t->rf, brokers, fix);
		return -EINVAL;
	}
	return 0;
}

enum {
	OPT_NAME = 1,
	OPT_BROKERS,
	OPT_TOPIC,
	OPT_RTT,
	OPT_CONTROL,
	OPT_BOOTSTRAP_FILE,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{"name", required_argument, NULL, OPT_NAME},
	{"brokers", required_argument, NULL, OPT_BROKERS},
	{"topic", required_argument, NULL, OPT_TOPIC},
	{"rtt-ms", required_argument, NULL, OPT_RTT},
	{"control", required_argument, NULL, OPT_CONTROL},
	{"bootstrap-file", required_argument, NULL, OPT_BOOTSTRAP_FILE},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static int path_check(const char *opt, const char *path, size_t max, char *err, size_t errlen)
{
	char q[64];

	if (path[0] == '\0') {
		err_set(err, errlen, "%s is empty — give a file path", opt);
		return -EINVAL;
	}
	if (strlen(path) >= max) {
		err_set(err, errlen, "%s '%s' is longer than %zu bytes — use a shorter path", opt,
			quote(q, sizeof(q), path), max - 1);
		return -EINVAL;
	}
	return 0;
}

static int opts_check(struct ist_region_opts *o, char *err, size_t errlen)
{
	int i, j;

	if (o->name[0] == '\0') {
		err_set(err, errlen, "--name is required — name the region, e.g. --name eu-west");
		return -EINVAL;
	}
	for (i = 0; i < o->topic_cnt; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(o->topics[i].name, o->topics[j].name) == 0) {
				err_set(err, errlen,
					"topic '%s' is given twice — give each --topic once",
					o->topics[i].name);
				return -EINVAL;
			}
		}
		if (topic_rf_resolve(&o->topics[i], o->brokers, "lower RF or raise --brokers", err,
				     errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

int ist_region_opts_parse(int argc, char **argv, struct ist_region_opts *o, char *err,
			  size_t errlen)
{
	const size_t sun_max = sizeof(((struct sockaddr_un *)NULL)->sun_path);
	char q[64];
	int c;

	memset(o, 0, sizeof(*o));
	o->brokers = 3;
	/* 0 makes glibc's getopt start over, so the parser can run more than once. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		const char *arg = optarg;

		switch (c) {
		case OPT_NAME:
			if (arg[0] == '\0' || strlen(arg) > IST_REGION_NAME_MAX ||
			    !name_chars_ok(arg)) {
				err_set(err, errlen,
					"region name '%s' is not valid — use 1-%d characters from "
					"A-Z a-z 0-9 . _ -",
					quote(q, sizeof(q), arg), IST_REGION_NAME_MAX);
				return -EINVAL;
			}
			strcpy(o->name, arg);
			break;
		case OPT_BROKERS:
			if (parse_uint(arg, 1, IST_REGION_BROKERS_MAX, &o->brokers) < 0) {
				err_set(err, errlen,
					"--brokers '%s' is not a number from 1 to %d — e.g. "
					"--brokers 3",
					quote(q, sizeof(q), arg), IST_REGION_BROKERS_MAX);
				return -EINVAL;
			}
			break;
		case OPT_TOPIC:
			if (o->topic_cnt == IST_REGION_TOPICS_MAX) {
				err_set(err, errlen,
					"more than %d --topic options — create fewer topics",
					IST_REGION_TOPICS_MAX);
				return -EINVAL;
			}
			if (ist_region_topic_parse(arg, &o->topics[o->topic_cnt], err, errlen) < 0)
				return -EINVAL;
			o->topic_cnt++;
			break;
		case OPT_RTT:
			if (parse_uint(arg, 0, IST_REGION_RTT_MAX_MS, &o->rtt_ms) < 0) {
				err_set(err, errlen,
					"--rtt-ms '%s' is not a number from 0 to %d — give the "
					"round-trip delay in milliseconds, e.g. --rtt-ms 40",
					quote(q, sizeof(q), arg), IST_REGION_RTT_MAX_MS);
				return -EINVAL;
			}
			break;
		case OPT_CONTROL:
			if (path_check("--control", arg, sun_max, err, errlen) < 0)
				return -EINVAL;
			o->control = arg;
			break;
		case OPT_BOOTSTRAP_FILE:
			if (path_check("--bootstrap-file", arg, 4000, err, errlen) < 0)
				return -EINVAL;
			o->bootstrap_file = arg;
			break;
		case 'h':
		case OPT_HELP:
			o->help = true;
			return 0;
		case ':':
			err_set(err, errlen,
				"option '%s' needs a value — see isthmus-region --help",
				quote(q, sizeof(q), argv[optind - 1]));
			return -EINVAL;
		default:
			err_set(err, errlen, "unknown option '%s' — see isthmus-region --help",
				quote(q, sizeof(q), argv[optind - 1]));
			return -EINVAL;
		}
	}
	if (optind < argc) {
		err_set(err, errlen,
			"unexpected argument '%s' — options take the form --name VALUE; see "
			"isthmus-region --help",
			quote(q, sizeof(q), argv[optind]));
		return -EINVAL;
	}
	return opts_check(o, err, errlen);
}

#define IST_REGION_TOKENS_MAX 8

static int tokenize(char *line, char **tok)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return n;
		if (n == IST_REGION_TOKENS_MAX)
			return n + 1;
		tok[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

static int cmd_broker_parse(char **tok, int n, int broker_cnt, struct ist_region_cmd *cmd,
			    char *err, size_t errlen)
{
	char q[64];

	if (n < 3) {
		err_set(err, errlen,
			"incomplete broker command — use: broker <id> down | broker <id> up | "
			"broker <id> rtt <ms>");
		return -EINVAL;
	}
	if (parse_uint(tok[1], 1, broker_cnt, &cmd->broker_id) < 0) {
		err_set(err, errlen,
			"broker id '%s' is out of range — this region has brokers 1..%d",
			quote(q, sizeof(q), tok[1]), broker_cnt);
		return -EINVAL;
	}
	if (strcmp(tok[2], "down") == 0 || strcmp(tok[2], "up") == 0) {
		if (n != 3) {
			err_set(err, errlen,
				"'broker <id> %s' takes no more arguments — send: "
				"broker %d %s",
				tok[2], cmd->broker_id, tok[2]);
			return -EINVAL;
		}
		cmd->type =
			tok[2][0] == 'd' ? IST_REGION_CMD_BROKER_DOWN : IST_REGION_CMD_BROKER_UP;
		return 0;
	}
	if (strcmp(tok[2], "rtt") == 0) {
		if (n != 4) {
			err_set(err, errlen,
				"'broker <id> rtt' needs one value — send: broker %d rtt "
				"<ms>, e.g. broker %d rtt 40",
				cmd->broker_id, cmd->broker_id);
			return -EINVAL;
		}
		if (parse_uint(tok[3], 0, IST_REGION_RTT_MAX_MS, &cmd->rtt_ms) < 0) {
			err_set(err, errlen,
				"rtt '%s' is not a number from 0 to %d — give milliseconds",
				quote(q, sizeof(q), tok[3]), IST_REGION_RTT_MAX_MS);
			return -EINVAL;
		}
		cmd->type = IST_REGION_CMD_BROKER_RTT;
		return 0;
	}
	err_set(err, errlen, "unknown broker action '%s' — use down, up or rtt <ms>",
		quote(q, sizeof(q), tok[2]));
	return -EINVAL;
}

static int cmd_topic_parse(char **tok, int n, int broker_cnt, struct ist_region_cmd *cmd, char *err,
			   size_t errlen)
{
	static const char fix[] = "use: topic create <name> <partitions> [<rf>]";
	char what[IST_REGION_TOPIC_NAME_MAX + 16];
	char q[64];

	if (n < 2 || strcmp(tok[1], "create") != 0) {
		err_set(err, errlen, "unknown topic action '%s' — %s",
			n < 2 ? "" : quote(q, sizeof(q), tok[1]), fix);
		return -EINVAL;
	}
	if (n < 4 || n > 5) {
		err_set(err, errlen, "'topic create' takes 2 or 3 arguments — %s", fix);
		return -EINVAL;
	}
	if (topic_name_check(tok[2], err, errlen) < 0)
		return -EINVAL;
	snprintf(what, sizeof(what), "topic '%s'", tok[2]);
	if (topic_counts_parse(&cmd->topic, what, tok[3], n == 5 ? tok[4] : NULL, fix, err,
			       errlen) < 0)
		return -EINVAL;
	strcpy(cmd->topic.name, tok[2]);
	if (topic_rf_resolve(&cmd->topic, broker_cnt,
			     "use a replication factor up to the broker count", err, errlen) < 0)
		return -EINVAL;
	cmd->type = IST_REGION_CMD_TOPIC_CREATE;
	return 0;
}

int ist_region_cmd_parse(const char *line, int broker_cnt, struct ist_region_cmd *cmd, char *err,
			 size_t errlen)
{
	static const struct {
		const char *word;
		enum ist_region_cmd_type type;
	} bare[] = {
		{"status", IST_REGION_CMD_STATUS},
		{"help", IST_REGION_CMD_HELP},
		{"quit", IST_REGION_CMD_QUIT},
	};
	char buf[IST_REGION_LINE_MAX];
	char *tok[IST_REGION_TOKENS_MAX];
	char q[64];
	size_t len, i;
	int n;

	memset(cmd, 0, sizeof(*cmd));
	len = strlen(line);
	if (len >= sizeof(buf)) {
		err_set(err, errlen,
			"command line is longer than %d bytes — send one short command "
			"per line",
			IST_REGION_LINE_MAX - 1);
		return -EINVAL;
	}
	memcpy(buf, line, len + 1);
	/* Telnet-style clients end lines with CRLF. */
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	n = tokenize(buf, tok);
	if (n == 0)
		return -ENODATA;
	if (n > IST_REGION_TOKENS_MAX) {
		err_set(err, errlen, "too many words in command — " IST_REGION_FIX_CMDS);
		return -EINVAL;
	}
	if (strcmp(tok[0], "broker") == 0)
		return cmd_broker_parse(tok, n, broker_cnt, cmd, err, errlen);
	if (strcmp(tok[0], "topic") == 0)
		return cmd_topic_parse(tok, n, broker_cnt, cmd, err, errlen);
	for (i = 0; i < sizeof(bare) / sizeof(bare[0]); i++) {
		if (strcmp(tok[0], bare[i].word) != 0)
			continue;
		if (n != 1) {
			err_set(err, errlen, "'%s' takes no arguments — send just: %s",
				bare[i].word, bare[i].word);
			return -EINVAL;
		}
		cmd->type = bare[i].type;
		return 0;
	}
	err_set(err, errlen, "unknown command '%s' — " IST_REGION_FIX_CMDS,
		quote(q, sizeof(q), tok[0]));
	return -EINVAL;
}

void ist_region_state_init(struct ist_region_state *s, const char *name, int broker_cnt, int rtt_ms)
{
	int id;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->broker_cnt = broker_cnt;
	for (id = 1; id <= broker_cnt; id++) {
		s->brokers[id].up = true;
		s->brokers[id].rtt_ms = rtt_ms;
	}
}

struct ist_region_topic *ist_region_state_topic_find(struct ist_region_state *s, const char *name)
{
	int i;

	for (i = 0; i < s->topic_cnt; i++) {
		if (strcmp(s->topics[i].name, name) == 0)
			return &s->topics[i];
	}
	return NULL;
}

int ist_region_state_topic_check(const struct ist_region_state *s, const char *name, char *err,
				 size_t errlen)
{
	int i;

	for (i = 0; i < s->topic_cnt; i++) {
		if (strcmp(s->topics[i].name, name) == 0) {
			err_set(err, errlen,
				"topic '%s' already exists with %d partitions — pick another name "
				"(the mock cluster cannot delete or grow topics)",
				name, s->topics[i].partitions);
			return -EEXIST;
		}
	}
	if (s->topic_cnt == IST_REGION_TOPICS_MAX) {
		err_set(err, errlen,
			"this region already has %d topics, the most it tracks — start another "
			"region for more",
			IST_REGION_TOPICS_MAX);
		return -ENOSPC;
	}
	return 0;
}

int ist_region_state_topic_add(struct ist_region_state *s, const struct ist_region_topic *t,
			       char *err, size_t errlen)
{
	int rc = ist_region_state_topic_check(s, t->name, err, errlen);

	if (rc < 0)
		return rc;
	s->topics[s->topic_cnt++] = *t;
	return 0;
}

struct outbuf {
	char *buf;
	size_t len;
	size_t used;
	bool full;
};

static void out_add(struct outbuf *ob, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_add(struct outbuf *ob, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ob->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(ob->buf + ob->used, ob->len - ob->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= ob->len - ob->used) {
		ob->full = true;
		return;
	}
	ob->used += (size_t)n;
}

int ist_region_status_format(const struct ist_region_state *s, char *buf, size_t len)
{
	struct outbuf ob = {.buf = buf, .len = len};
	int id, i;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	out_add(&ob, "name=%s brokers=", s->name);
	for (id = 1; id <= s->broker_cnt; id++)
		out_add(&ob, "%s%d:%s", id > 1 ? "," : "", id, s->brokers[id].up ? "up" : "down");
	out_add(&ob, " rtt-ms=");
	for (id = 1; id <= s->broker_cnt; id++)
		out_add(&ob, "%s%d:%d", id > 1 ? "," : "", id, s->brokers[id].rtt_ms);
	out_add(&ob, " topics=");
	if (s->topic_cnt == 0)
		out_add(&ob, "-");
	for (i = 0; i < s->topic_cnt; i++)
		out_add(&ob, "%s%s:%d:%d", i > 0 ? "," : "", s->topics[i].name,
			s->topics[i].partitions, s->topics[i].rf);
	out_add(&ob, " bootstrap=%s", s->bootstrap != NULL ? s->bootstrap : "-");
	if (ob.full)
		return -ENOSPC;
	return (int)ob.used;
}
