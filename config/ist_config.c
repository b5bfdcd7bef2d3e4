/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Core-map loader: strict line scan (syntax, duplicates, line numbers), then
 * rte_cfgfile for the values, then the settings table for types, ranges and
 * defaults, then cross-section checks.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_cfgfile.h>
#include <rte_config.h>
#include <librdkafka/rdkafka.h>

#include "ist_config.h"

#define SCAN_MAX_SECTIONS 256
#define SCAN_MAX_KEYS     2048
/* rte_cfgfile reads lines into CFG_NAME_LEN + CFG_VALUE_LEN + 4 bytes. */
#define SCAN_LINE_MAX (CFG_NAME_LEN + CFG_VALUE_LEN + 2)

struct scan_section {
	char name[CFG_NAME_LEN]; /* normalised "kind label", for messages and duplicates */
	char raw_name
		[CFG_NAME_LEN]; /* as written between the brackets, trimmed: rte_cfgfile's key */
	char kind[CFG_NAME_LEN];
	char label[CFG_NAME_LEN]; /* "port link0" -> "link0"; "" for unnamed kinds */
	int line;
	int index; /* instance index within its kind */
};

struct scan_key {
	int section; /* index into sections */
	char key[CFG_NAME_LEN];
	int line;
};

struct loader {
	const char *path;
	char *err;
	size_t errlen;
	struct ist_config *cfg;
	ist_config_regex_check_t check; /* NULL: patterns are not checked */
	struct rte_cfgfile *file;
	unsigned int n_sections, n_keys;
	struct scan_section sections[SCAN_MAX_SECTIONS];
	struct scan_key keys[SCAN_MAX_KEYS];
};

static int fail(struct loader *ld, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct loader *ld, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (line > 0)
		n = snprintf(ld->err, ld->errlen, "%s:%d: ", ld->path, line);
	else
		n = snprintf(ld->err, ld->errlen, "%s: ", ld->path);
	if (n < 0 || (size_t)n >= ld->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

unsigned int ist_config_edit_distance(const char *a, const char *b)
{
	unsigned int prev[CFG_NAME_LEN + 1], cur[CFG_NAME_LEN + 1];
	size_t la = strnlen(a, CFG_NAME_LEN), lb = strnlen(b, CFG_NAME_LEN);

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			unsigned int del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(unsigned int) * (lb + 1));
	}
	return prev[lb];
}

static const struct ist_cfg_section_kind *kind_find(const char *kind)
{
	for (unsigned int i = 0; i < ist_config_n_sections; i++)
		if (strcmp(ist_config_sections[i].kind, kind) == 0)
			return &ist_config_sections[i];
	return NULL;
}

/* Keep the candidate nearest to @p word; call for each candidate. */
static void nearest_step(const char *word, const char *cand, const char **best, unsigned int *d)
{
	unsigned int dc = ist_config_edit_distance(word, cand);

	if (*best == NULL || dc < *d) {
		*best = cand;
		*d = dc;
	}
}

static const char *kind_nearest(const char *kind)
{
	const char *best = NULL;
	unsigned int d = 0;

	for (unsigned int i = 0; i < ist_config_n_sections; i++)
		nearest_step(kind, ist_config_sections[i].kind, &best, &d);
	return best;
}

static const struct ist_cfg_setting *setting_find(const char *kind, const char *key)
{
	for (unsigned int i = 0; i < ist_config_n_settings; i++)
		if (strcmp(ist_config_settings[i].section, kind) == 0 &&
		    strcmp(ist_config_settings[i].name, key) == 0)
			return &ist_config_settings[i];
	return NULL;
}

static const char *setting_nearest(const char *kind, const char *key)
{
	const char *best = NULL;
	unsigned int d = 0;

	for (unsigned int i = 0; i < ist_config_n_settings; i++)
		if (strcmp(ist_config_settings[i].section, kind) == 0)
			nearest_step(key, ist_config_settings[i].name, &best, &d);
	return best;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static bool name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

static int scan_header(struct loader *ld, char *s, int line)
{
	struct scan_section *sec;
	const struct ist_cfg_section_kind *k;
	char *inner, *label;
	size_t len = strlen(s);

	if (s[len - 1] != ']')
		return fail(ld, line,
			    "section header '%s' lacks its closing ']'; write [kind] or "
			    "[kind name]",
			    s);
	s[len - 1] = '\0';
	inner = trim(s + 1);
	if (strlen(inner) >= CFG_NAME_LEN)
		return fail(ld, line, "section name '%s' is longer than %d characters; shorten it",
			    inner, CFG_NAME_LEN - 1);
	if (ld->n_sections == SCAN_MAX_SECTIONS)
		return fail(ld, line, "more than %d sections; split the appliance",
			    SCAN_MAX_SECTIONS);
	sec = &ld->sections[ld->n_sections];
	memset(sec, 0, sizeof(*sec));
	snprintf(sec->raw_name, sizeof(sec->raw_name), "%s", inner);
	sec->line = line;
	label = strpbrk(inner, " \t");
	if (label != NULL) {
		*label++ = '\0';
		label = trim(label);
	}
	k = kind_find(inner);
	if (k == NULL)
		return fail(ld, line, "unknown section kind [%s]; did you mean [%s]?", inner,
			    kind_nearest(inner));
	if (k->named && (label == NULL || *label == '\0'))
		return fail(ld, line, "section [%s] needs a name: write [%s NAME]", inner, inner);
	if (!k->named && label != NULL)
		return fail(ld, line, "section [%s] takes no name: write [%s]", inner, inner);
	if (label != NULL && strlen(label) >= IST_CFG_NAME_LEN)
		return fail(ld, line, "section name '%s' is longer than %d characters; shorten it",
			    label, IST_CFG_NAME_LEN - 1);
	if (label != NULL && !name_ok(label))
		return fail(ld, line,
			    "section name '%s' may hold only letters, digits, '_', '-' "
			    "and '.'; rename it",
			    label);
	snprintf(sec->kind, sizeof(sec->kind), "%s", inner);
	snprintf(sec->label, sizeof(sec->label), "%s", label ? label : "");
	/* Messages and duplicate checks use one spelling; rte_cfgfile keeps raw_name. */
	snprintf(sec->name, sizeof(sec->name), "%s%s%s", inner, label ? " " : "",
		 label ? label : "");
	for (unsigned int i = 0; i < ld->n_sections; i++) {
		if (strcmp(ld->sections[i].name, sec->name) == 0)
			return fail(ld, line,
				    "section [%s] appears twice (first at line %d); "
				    "merge them",
				    sec->name, ld->sections[i].line);
		if (strcmp(ld->sections[i].kind, sec->kind) == 0)
			sec->index++;
	}
	ld->n_sections++;
	return 0;
}

static int scan_key(struct loader *ld, char *s, int line)
{
	struct scan_key *kv;
	char *eq = strchr(s, '='), *key, *val;

	if (ld->n_sections == 0)
		return fail(ld, line, "'%s' stands before any [section]; put it under its section",
			    s);
	if (eq == NULL)
		return fail(ld, line, "'%s' is not 'key = value'; add the '=' and a value", s);
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (!name_ok(key))
		return fail(ld, line,
			    "key '%s' is not a valid name (letters, digits, '_', '-', "
			    "'.'); write key = value",
			    key);
	if (strlen(key) >= CFG_NAME_LEN)
		return fail(ld, line, "key '%s' is longer than %d characters", key,
			    CFG_NAME_LEN - 1);
	if (strlen(val) >= CFG_VALUE_LEN)
		return fail(ld, line, "%s.%s: value is longer than %d characters; shorten it",
			    ld->sections[ld->n_sections - 1].name, key, CFG_VALUE_LEN - 1);
	for (unsigned int i = 0; i < ld->n_keys; i++)
		if (ld->keys[i].section == (int)ld->n_sections - 1 &&
		    strcmp(ld->keys[i].key, key) == 0)
			return fail(ld, line, "%s.%s is set twice (first at line %d); keep one",
				    ld->sections[ld->n_sections - 1].name, key, ld->keys[i].line);
	if (ld->n_keys == SCAN_MAX_KEYS)
		return fail(ld, line, "more than %d keys", SCAN_MAX_KEYS);
	kv = &ld->keys[ld->n_keys++];
	kv->section = ld->n_sections - 1;
	kv->line = line;
	snprintf(kv->key, sizeof(kv->key), "%s", key);
	return 0;
}

static int scan_file(struct loader *ld)
{
	char buf[SCAN_LINE_MAX + 2];
	FILE *f = fopen(ld->path, "r");
	int line = 0, rc = 0;

	if (f != NULL) {
		struct stat stt;

		if (fstat(fileno(f), &stt) == 0 && !S_ISREG(stt.st_mode)) {
			fclose(f);
			snprintf(ld->err, ld->errlen,
				 "%s: is not a regular file; pass the core map file with -c FILE",
				 ld->path);
			return -EINVAL;
		}
	}
	if (f == NULL) {
		int e = errno;

		snprintf(ld->err, ld->errlen,
			 "%s: cannot read the core map (%s); pass an existing "
			 "file with -c FILE",
			 ld->path, strerror(e));
		return -e;
	}
	while (rc == 0 && fgets(buf, sizeof(buf), f) != NULL) {
		char *s, *c;

		line++;
		if (strlen(buf) > SCAN_LINE_MAX && buf[SCAN_LINE_MAX] != '\n') {
			rc = fail(ld, line,
				  "line longer than %d characters (comment included); shorten it",
				  SCAN_LINE_MAX);
			break;
		}
		/* rte_cfgfile cuts every line at the comment character: do the same. */
		c = strchr(buf, ';');
		if (c != NULL)
			*c = '\0';
		s = trim(buf);
		if (*s == '\0')
			continue;
		if (*s == '[')
			rc = scan_header(ld, s, line);
		else
			rc = scan_key(ld, s, line);
	}
	fclose(f);
	if (rc == 0 && line == 0)
		rc = fail(ld, 0, "the core map is empty; start from config/examples/");
	return rc;
}

static int key_line(const struct loader *ld, const char *section, const char *key)
{
	for (unsigned int i = 0; key != NULL && i < ld->n_keys; i++)
		if (strcmp(ld->sections[ld->keys[i].section].name, section) == 0 &&
		    strcmp(ld->keys[i].key, key) == 0)
			return ld->keys[i].line;
	for (unsigned int i = 0; i < ld->n_sections; i++)
		if (strcmp(ld->sections[i].name, section) == 0)
			return ld->sections[i].line;
	return 0;
}

/* Where the struct of a section instance lives. */
static void *section_base(struct ist_config *cfg, const struct scan_section *sec)
{
	if (strcmp(sec->kind, "appliance") == 0)
		return &cfg->appliance;
	if (strcmp(sec->kind, "control") == 0)
		return &cfg->control;
	if (strcmp(sec->kind, "eal") == 0)
		return &cfg->eal;
	if (strcmp(sec->kind, "mempool") == 0)
		return &cfg->mempool;
	if (strcmp(sec->kind, "link") == 0)
		return &cfg->link;
	if (strcmp(sec->kind, "synth") == 0)
		return &cfg->synth;
	if (strcmp(sec->kind, "port") == 0)
		return &cfg->ports[sec->index];
	if (strcmp(sec->kind, "lcore") == 0)
		return &cfg->lcores[sec->index];
	if (strcmp(sec->kind, "kafka") == 0)
		return &cfg->kafka[sec->index];
	if (strcmp(sec->kind, "flow") == 0)
		return &cfg->flows[sec->index];
	if (strcmp(sec->kind, "class") == 0)
		return &cfg->classes[sec->index];
	if (strcmp(sec->kind, "rule") == 0)
		return &cfg->rules[sec->index];
	return NULL;
}

/* Expand ${VAR} from the environment. */
static int expand_env(struct loader *ld, int line, const char *where, const char *in, char *out,
		      size_t outlen)
{
	size_t o = 0;

	while (*in) {
		if (in[0] == '$' && in[1] == '{') {
			const char *end = strchr(in + 2, '}');
			char var[128];
			const char *v;

			if (end == NULL || end - in - 2 <= 0 ||
			    (size_t)(end - in - 2) >= sizeof(var))
				return fail(ld, line,
					    "%s: unterminated or empty ${...} in '%s'; "
					    "write ${NAME}",
					    where, in);
			memcpy(var, in + 2, end - in - 2);
			var[end - in - 2] = '\0';
			v = getenv(var);
			if (v == NULL)
				return fail(ld, line,
					    "%s: environment variable %s is not set; "
					    "export it or write the value",
					    where, var);
			if (o + strlen(v) >= outlen)
				return fail(ld, line, "%s: value too long after expanding ${%s}",
					    where, var);
			memcpy(out + o, v, strlen(v));
			o += strlen(v);
			in = end + 1;
			continue;
		}
		if (o + 1 >= outlen)
			return fail(ld, line, "%s: value too long", where);
		out[o++] = *in++;
	}
	out[o] = '\0';
	return 0;
}

static int parse_int(struct loader *ld, int line, const char *where,
		     const struct ist_cfg_setting *s, const char *v, int64_t *out)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0)
		return fail(ld, line,
			    "%s = '%s' is not a whole number; write a number in %" PRId64
			    "..%" PRId64,
			    where, v, s->min, s->max);
	if (x < s->min || x > s->max)
		return fail(ld, line, "%s = %s is out of range; allowed %" PRId64 "..%" PRId64,
			    where, v, s->min, s->max);
	*out = x;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (unsigned int i = 0; i < IST_DIM(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int enum_index(const char *choices, const char *v)
{
	const char *p = choices;
	int i = 0;
	size_t vl = strlen(v);

	while (p != NULL && *p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		if (n == vl && strncmp(p, v, n) == 0)
			return i;
		i++;
		p = bar ? bar + 1 : NULL;
	}
	return -1;
}

static int parse_addr(const char *v, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon = strrchr(v, ':');
	struct in_addr a;
	char *end;
	unsigned long p;

	if (colon == NULL || (size_t)(colon - v) >= hostlen || colon == v)
		return -EINVAL;
	memcpy(host, v, colon - v);
	host[colon - v] = '\0';
	if (strcmp(host, "localhost") != 0 && inet_pton(AF_INET, host, &a) != 1)
		return -EINVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p == 0 || p > 65535)
		return -EINVAL;
	*port = p;
	return 0;
}

static int parse_codec(const char *v)
{
	char base[24], *end;
	size_t n = strlen(v);
	long lvl;

	/* "+dict": a dictionary trained from the class's records (not with none). */
	if (n > 5 && n - 5 < sizeof(base) && strcmp(v + n - 5, "+dict") == 0) {
		memcpy(base, v, n - 5);
		base[n - 5] = '\0';
		return strcmp(base, "none") == 0 || strchr(base, '+') != NULL ? -EINVAL
									      : parse_codec(base);
	}
	if (strcmp(v, "none") == 0 || strcmp(v, "lz4") == 0 || strcmp(v, "zstd") == 0)
		return 0;
	if (strncmp(v, "zstd:", 5) != 0 || !isdigit((unsigned char)v[5]))
		return -EINVAL;
	lvl = strtol(v + 5, &end, 10);
	if (v[5] == '\0' || *end != '\0' || lvl < 1 || lvl > 19)
		return -EINVAL;
	return 0;
}

/* A Kafka topic name: 1..249 of [A-Za-z0-9._-], and not "." or "..". */
static bool topic_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IST_CFG_TOPIC_LEN || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

/* Hand @p re to the checker, if any; @p item says whether it is one item of a list. */
static int check_regex(struct loader *ld, int line, const char *where, bool item, const char *re)
{
	char msg[256] = "";

	if (ld->check == NULL || ld->check(re, msg, sizeof(msg)) == 0)
		return 0;
	return fail(ld, line,
		    "%s%s'%s' is not a usable pattern: %s; fix the expression (hyperscan syntax: "
		    "PCRE without back-references or lookaround; write ';' as \\x3b)",
		    where, item ? " item " : " = ", re, msg);
}

/* A record header name, as rules name it: match = header:NAME, action = tag:NAME=VALUE. */
static int header_name(struct loader *ld, int line, const char *where, const char *v,
		       const char *name, size_t len, char *out, const char *example)
{
	char tmp[CFG_VALUE_LEN];

	if (len == 0)
		return fail(ld, line, "%s = '%s' names no header; write %s", where, v, example);
	if (len >= IST_CFG_HEADER_LEN)
		return fail(ld, line, "%s = '%s': header name is longer than %d characters", where,
			    v, IST_CFG_HEADER_LEN - 1);
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	if (!name_ok(tmp))
		return fail(ld, line,
			    "%s = '%s': header name '%s' may hold only letters, digits, '_', '-' "
			    "and '.'; write %s",
			    where, v, tmp, example);
	memcpy(out, tmp, len + 1);
	return 0;
}

static int parse_match(struct loader *ld, int line, const char *where, const char *v,
		       struct ist_cfg_rule_match *m)
{
	memset(m, 0, sizeof(*m));
	if (strcmp(v, "key") == 0) {
		m->field = IST_RULE_MATCH_KEY;
		return 0;
	}
	if (strcmp(v, "value") == 0) {
		m->field = IST_RULE_MATCH_VALUE;
		return 0;
	}
	if (strncmp(v, "header:", 7) == 0) {
		m->field = IST_RULE_MATCH_HEADER;
		return header_name(ld, line, where, v, v + 7, strlen(v + 7), m->header,
				   "header:<name>, e.g. header:content-type");
	}
	return fail(ld, line,
		    "%s = '%s' is not key, value or header:<name>; write e.g. match = value", where,
		    v);
}

static int parse_action(struct loader *ld, int line, const char *where, const char *v,
			struct ist_cfg_rule_action *a)
{
	const char *eq;

	memset(a, 0, sizeof(*a));
	if (strcmp(v, "drop") == 0) {
		a->kind = IST_RULE_ACTION_DROP;
		return 0;
	}
	if (strncmp(v, "route:", 6) == 0) {
		if (!topic_ok(v + 6))
			return fail(
				ld, line,
				"%s = '%s': '%s' is not a Kafka topic name; write route:<topic> "
				"with 1..%d letters, digits, '.', '_' or '-'",
				where, v, v + 6, IST_CFG_TOPIC_LEN - 1);
		a->kind = IST_RULE_ACTION_ROUTE;
		snprintf(a->topic, sizeof(a->topic), "%s", v + 6);
		return 0;
	}
	if (strncmp(v, "tag:", 4) == 0) {
		eq = strchr(v + 4, '=');
		if (eq == NULL)
			return fail(ld, line,
				    "%s = '%s' lacks the header value; write tag:<header>=<value>",
				    where, v);
		a->kind = IST_RULE_ACTION_TAG;
		snprintf(a->tag_value, sizeof(a->tag_value), "%s", eq + 1);
		return header_name(ld, line, where, v, v + 4, eq - (v + 4), a->tag_name,
				   "tag:<header>=<value>, e.g. tag:x-origin=eu");
	}
	return fail(ld, line,
		    "%s = '%s' is not drop, route:<topic> or tag:<header>=<value>; write e.g. "
		    "action = drop",
		    where, v);
}

/* Split a list value on commas and blanks; returns the count or -E2BIG. */
static int split_words(char *v, char **words, int max)
{
	int n = 0;

	for (char *tok = strtok(v, ", \t"); tok != NULL; tok = strtok(NULL, ", \t")) {
		if (n == max)
			return -E2BIG;
		words[n++] = tok;
	}
	return n;
}

static int apply(struct loader *ld, const struct scan_section *sec, const struct ist_cfg_setting *s,
		 const char *raw, int line)
{
	char where[2 * CFG_NAME_LEN + 2], v[CFG_VALUE_LEN], tmp[CFG_VALUE_LEN];
	char *words[IST_CFG_MAX_QUEUES + IST_CFG_MAX_PATTERNS];
	uint8_t *base = section_base(ld->cfg, sec);
	void *field = base + s->offset;
	int64_t x = 0;
	int rc, n;

	snprintf(where, sizeof(where), "%s.%s", sec->name, s->name);
	rc = expand_env(ld, line, where, raw, v, sizeof(v));
	if (rc != 0)
		return rc;

	switch (s->type) {
	case IST_CFG_T_STR:
	case IST_CFG_T_REGEX:
		if ((int64_t)strlen(v) < s->min)
			return fail(ld, line, "%s must not be empty; %s", where, s->doc);
		if ((int64_t)strlen(v) > s->max || strlen(v) >= s->size)
			return fail(ld, line, "%s = '%s' is longer than %" PRId64 " characters",
				    where, v, s->max);
		if (s->type == IST_CFG_T_REGEX) {
			rc = check_regex(ld, line, where, false, v);
			if (rc != 0)
				return rc;
		}
		snprintf(field, s->size, "%s", v);
		return 0;
	case IST_CFG_T_MATCH:
		return parse_match(ld, line, where, v, field);
	case IST_CFG_T_ACTION:
		return parse_action(ld, line, where, v, field);
	case IST_CFG_T_U32:
	case IST_CFG_T_I32:
	case IST_CFG_T_U16:
		rc = parse_int(ld, line, where, s, v, &x);
		if (rc != 0)
			return rc;
		if (s->type == IST_CFG_T_U16)
			*(uint16_t *)field = x;
		else if (s->type == IST_CFG_T_U32)
			*(uint32_t *)field = x;
		else
			*(int32_t *)field = x;
		return 0;
	case IST_CFG_T_BOOL:
		if (parse_bool(v, field) != 0)
			return fail(ld, line, "%s = '%s' is not a boolean; write true or false",
				    where, v);
		return 0;
	case IST_CFG_T_ENUM:
		n = enum_index(s->choices, v);
		if (n < 0)
			return fail(ld, line, "%s = '%s' is not one of %s", where, v, s->choices);
		if (s->size == sizeof(uint32_t))
			*(uint32_t *)field = n;
		else
			snprintf(field, s->size, "%s", v);
		return 0;
	case IST_CFG_T_ADDR: {
		char host[IST_CFG_NAME_LEN];
		uint16_t port;

		if (parse_addr(v, host, sizeof(host), &port) != 0)
			return fail(ld, line,
				    "%s = '%s' is not IPV4:PORT; write e.g. 127.0.0.1:9641", where,
				    v);
		snprintf(field, s->size, "%s", v);
		return 0;
	}
	case IST_CFG_T_IPV4: {
		struct in_addr a;

		if (inet_pton(AF_INET, v, &a) != 1)
			return fail(ld, line,
				    "%s = '%s' is not an IPv4 address; write e.g. 10.0.0.1", where,
				    v);
		snprintf(field, s->size, "%s", v);
		return 0;
	}
	case IST_CFG_T_CODEC:
		if (parse_codec(v) != 0)
			return fail(ld, line,
				    "%s = '%s' is not a codec; write none, lz4, zstd or "
				    "zstd:<1..19>, the last three optionally with +dict",
				    where, v);
		snprintf(field, s->size, "%s", v);
		return 0;
	case IST_CFG_T_LIST:
	case IST_CFG_T_REGEXES:
	case IST_CFG_T_QUEUES:
		snprintf(tmp, sizeof(tmp), "%s", v);
		n = split_words(tmp, words, s->max);
		if (n < 0)
			return fail(ld, line, "%s lists more than %" PRId64 " items; remove some",
				    where, s->max);
		if (n < s->min)
			return fail(ld, line, "%s must list at least %" PRId64 " item; %s", where,
				    s->min, s->doc);
		*(base + s->count_offset) = n;
		for (int i = 0; i < n; i++) {
			if (s->type != IST_CFG_T_QUEUES) {
				if (strlen(words[i]) >= s->size)
					return fail(ld, line,
						    "%s item '%s' is longer than %zu "
						    "characters",
						    where, words[i], s->size - 1);
				if (s->type == IST_CFG_T_REGEXES) {
					rc = check_regex(ld, line, where, true, words[i]);
					if (rc != 0)
						return rc;
				}
				snprintf((char *)field + i * s->size, s->size, "%s", words[i]);
				continue;
			}
			/* QUEUES: "port:queue", resolved once all ports are known. */
			struct ist_cfg_lcore *lc = (struct ist_cfg_lcore *)base;
			char *colon = strrchr(words[i], ':'), *end;
			unsigned long q;
			int p;

			if (colon == NULL)
				return fail(ld, line,
					    "%s item '%s' is not PORT:QUEUE; write e.g. "
					    "link0:0",
					    where, words[i]);
			*colon = '\0';
			p = ist_config_port_index(ld->cfg, words[i]);
			if (p < 0)
				return fail(ld, line,
					    "%s names port '%s', which no [port %s] "
					    "section defines; add it or fix the name",
					    where, words[i], words[i]);
			errno = 0;
			q = strtoul(colon + 1, &end, 10);
			if (colon[1] == '\0' || *end != '\0' || errno != 0 ||
			    q >= ld->cfg->ports[p].rx_queues)
				return fail(ld, line,
					    "%s: queue '%s' of port %s does not exist; "
					    "the port has rx_queues = %u",
					    where, colon + 1, words[i],
					    ld->cfg->ports[p].rx_queues);
			lc->queues[i].port = p;
			lc->queues[i].queue = q;
		}
		return 0;
	}
	return fail(ld, line, "%s: internal error: unknown setting type", where);
}

static int load_section(struct loader *ld, const struct scan_section *sec)
{
	int rc;

	/* Every key written must be known. */
	for (unsigned int i = 0; i < ld->n_keys; i++) {
		const struct scan_key *kv = &ld->keys[i];

		if (&ld->sections[kv->section] != sec)
			continue;
		if (strcmp(sec->kind, "kafka") == 0 && strncmp(kv->key, "rdkafka.", 8) == 0)
			continue;
		if (setting_find(sec->kind, kv->key) == NULL) {
			if (strcmp(sec->kind, "kafka") == 0)
				return fail(ld, kv->line,
					    "unknown key %s.%s; did you mean '%s'? "
					    "(librdkafka properties go as "
					    "rdkafka.<property>)",
					    sec->name, kv->key,
					    setting_nearest(sec->kind, kv->key));
			return fail(ld, kv->line, "unknown key %s.%s; did you mean '%s'?",
				    sec->name, kv->key, setting_nearest(sec->kind, kv->key));
		}
	}
	/* Then each setting, from the file or its default. */
	for (unsigned int i = 0; i < ist_config_n_settings; i++) {
		const struct ist_cfg_setting *s = &ist_config_settings[i];
		const char *v;
		int line;

		if (strcmp(s->section, sec->kind) != 0)
			continue;
		v = sec->raw_name[0] ? rte_cfgfile_get_entry(ld->file, sec->raw_name, s->name)
				     : NULL;
		line = key_line(ld, sec->name, s->name);
		if (v == NULL) {
			if (s->def == NULL)
				return fail(ld, sec->line,
					    "%s.%s is required (%s); add %s = ... under [%s]",
					    sec->name, s->name, s->doc, s->name, sec->name);
			v = s->def;
			line = sec->line;
		}
		rc = apply(ld, sec, s, v, line);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int load_kafka_props(struct loader *ld, const struct scan_section *sec)
{
	struct ist_cfg_kafka *k = &ld->cfg->kafka[sec->index];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];
	int rc = 0;

	snprintf(k->name, sizeof(k->name), "%s", sec->label);
	for (unsigned int i = 0; i < ld->n_keys && rc == 0; i++) {
		const struct scan_key *kv = &ld->keys[i];
		struct ist_cfg_prop *p;
		char where[2 * CFG_NAME_LEN + 2];
		const char *raw;

		if (&ld->sections[kv->section] != sec || strncmp(kv->key, "rdkafka.", 8) != 0)
			continue;
		if (k->n_props == IST_CFG_MAX_PROPS) {
			rc = fail(ld, kv->line, "[%s] has more than %d rdkafka.* properties",
				  sec->name, IST_CFG_MAX_PROPS);
			break;
		}
		p = &k->props[k->n_props++];
		snprintf(where, sizeof(where), "%s.%s", sec->name, kv->key);
		snprintf(p->name, sizeof(p->name), "%s", kv->key + 8);
		raw = rte_cfgfile_get_entry(ld->file, sec->raw_name, kv->key);
		rc = expand_env(ld, kv->line, where, raw ? raw : "", p->value, sizeof(p->value));
		if (rc == 0 && rd_kafka_conf_set(conf, p->name, p->value, errstr, sizeof(errstr)) !=
				       RD_KAFKA_CONF_OK)
			rc = fail(ld, kv->line, "%s = '%s' rejected by librdkafka: %s", where,
				  p->value, errstr);
	}
	rd_kafka_conf_destroy(conf);
	return rc;
}

int ist_config_port_index(const struct ist_config *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->n_ports; i++)
		if (strcmp(cfg->ports[i].name, name) == 0)
			return i;
	return -1;
}

int ist_config_kafka_index(const struct ist_config *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->n_kafka; i++)
		if (strcmp(cfg->kafka[i].name, name) == 0)
			return i;
	return -1;
}

int ist_config_flow_index(const struct ist_config *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->n_flows; i++)
		if (strcmp(cfg->flows[i].name, name) == 0)
			return i;
	return -1;
}

static int check_lcore(struct loader *ld, const struct scan_section *sec)
{
	struct ist_cfg_lcore *lc = &ld->cfg->lcores[sec->index];
	char *end;
	unsigned long id;

	errno = 0;
	id = strtoul(sec->label, &end, 10);
	if (*end != '\0' || errno != 0 || id >= RTE_MAX_LCORE ||
	    !isdigit((unsigned char)*sec->label))
		return fail(ld, sec->line, "[%s]: lcore id '%s' must be a number in 0..%d",
			    sec->name, sec->label, RTE_MAX_LCORE - 1);
	if (sec->label[0] == '0' && sec->label[1] != '\0')
		return fail(ld, sec->line,
			    "[%s]: write the lcore id without leading zeros: [lcore %lu]",
			    sec->name, id);
	lc->id = id;
	for (unsigned int r = 0; r < lc->n_roles; r++) {
		bool known = false;

		for (unsigned int k = 0; k < ist_config_n_roles; k++)
			known |= strcmp(lc->roles[r], ist_config_roles[k]) == 0;
		if (!known) {
			const char *best = NULL;
			unsigned int d = 0;

			for (unsigned int k = 0; k < ist_config_n_roles; k++)
				nearest_step(lc->roles[r], ist_config_roles[k], &best, &d);
			return fail(ld, key_line(ld, sec->name, "roles"),
				    "%s.roles: unknown role '%s'; did you mean '%s'?", sec->name,
				    lc->roles[r], best);
		}
		for (unsigned int q = 0; q < r; q++)
			if (strcmp(lc->roles[q], lc->roles[r]) == 0)
				return fail(ld, key_line(ld, sec->name, "roles"),
					    "%s.roles lists '%s' twice; list it once", sec->name,
					    lc->roles[r]);
	}
	return 0;
}

static int check_all(struct loader *ld)
{
	struct ist_config *cfg = ld->cfg;

	if (cfg->n_lcores == 0)
		return fail(ld, 0, "no [lcore ID] section; add one with roles = ...");
	/* A receive queue has exactly one polling lcore, or packets would reorder. */
	for (unsigned int a = 0; a < cfg->n_lcores; a++)
		for (unsigned int qa = 0; qa < cfg->lcores[a].n_queues; qa++)
			for (unsigned int b = a; b < cfg->n_lcores; b++)
				for (unsigned int qb = (a == b ? qa + 1 : 0);
				     qb < cfg->lcores[b].n_queues; qb++) {
					const struct ist_cfg_queue *x = &cfg->lcores[a].queues[qa];
					const struct ist_cfg_queue *y = &cfg->lcores[b].queues[qb];
					char sec[CFG_NAME_LEN];

					if (x->port != y->port || x->queue != y->queue)
						continue;
					snprintf(sec, sizeof(sec), "lcore %u", cfg->lcores[b].id);
					if (a == b)
						return fail(ld, key_line(ld, sec, "queues"),
							    "%s.queues lists %s:%u twice; list it "
							    "once",
							    sec, cfg->ports[x->port].name,
							    x->queue);
					return fail(
						ld, key_line(ld, sec, "queues"),
						"queue %s:%u is polled by lcore %u and lcore %u; "
						"give each queue one lcore",
						cfg->ports[x->port].name, x->queue,
						cfg->lcores[a].id, cfg->lcores[b].id);
				}
	if (cfg->link.enabled) {
		int p = ist_config_port_index(cfg, cfg->link.port_name);

		if (p < 0)
			return fail(ld, key_line(ld, "link", "port"),
				    "link.port = '%s' names no [port] section; add [port %s] or "
				    "fix the name",
				    cfg->link.port_name, cfg->link.port_name);
		cfg->link.port = p;
		if (cfg->link.auth == IST_AUTH_AEAD && cfg->link.key_file[0] == '\0')
			return fail(ld, key_line(ld, "link", NULL),
				    "[link] has auth = aead but no key_file; add key_file = PATH "
				    "(docs/WIRE.md), or write auth = none for a link that is "
				    "already protected");
		if (cfg->link.mtu > cfg->ports[p].mtu)
			return fail(ld, key_line(ld, "link", "mtu"),
				    "link.mtu = %u exceeds port %s mtu = %u; lower link.mtu",
				    cfg->link.mtu, cfg->ports[p].name, cfg->ports[p].mtu);
		if (cfg->link.mtu + 128 > cfg->mempool.data_room)
			return fail(ld, key_line(ld, "mempool", "data_room"),
				    "mempool.data_room = %u cannot hold a link.mtu = %u packet "
				    "plus 128 bytes headroom; raise data_room",
				    cfg->mempool.data_room, cfg->link.mtu);
	}
	for (unsigned int i = 0; i < cfg->n_flows; i++) {
		struct ist_cfg_flow *fl = &cfg->flows[i];
		char sec[CFG_NAME_LEN];
		int s, k;

		snprintf(sec, sizeof(sec), "flow %s", fl->name);
		s = ist_config_kafka_index(cfg, fl->source_name);
		k = ist_config_kafka_index(cfg, fl->sink_name);
		if (s < 0)
			return fail(ld, key_line(ld, sec, "source"),
				    "%s.source = '%s' names no [kafka] section; add [kafka %s]",
				    sec, fl->source_name, fl->source_name);
		if (k < 0)
			return fail(ld, key_line(ld, sec, "sink"),
				    "%s.sink = '%s' names no [kafka] section; add [kafka %s]", sec,
				    fl->sink_name, fl->sink_name);
		if (s == k)
			return fail(ld, key_line(ld, sec, "sink"),
				    "%s: source and sink are both '%s'; a flow joins two clusters",
				    sec, fl->sink_name);
		fl->source = s;
		fl->sink = k;
	}
	for (unsigned int i = 0; i < cfg->n_rules; i++) {
		struct ist_cfg_rule *ru = &cfg->rules[i];
		char sec[CFG_NAME_LEN];

		ru->flow = -1;
		if (ru->flow_name[0] == '\0')
			continue;
		snprintf(sec, sizeof(sec), "rule %s", ru->name);
		ru->flow = ist_config_flow_index(cfg, ru->flow_name);
		if (ru->flow < 0)
			return fail(ld, key_line(ld, sec, "flow"),
				    "%s.flow = '%s' names no [flow] section; add [flow %s] or fix "
				    "the name (leave flow out for every flow)",
				    sec, ru->flow_name, ru->flow_name);
	}
	if (cfg->synth.enabled && !cfg->link.enabled)
		return fail(ld, key_line(ld, "synth", NULL),
			    "[synth] needs a [link] to run over; add one or remove [synth]");
	if (cfg->synth.enabled && cfg->synth.min_body > cfg->synth.max_body)
		return fail(ld, key_line(ld, "synth", "min_body"),
			    "synth.min_body = %u exceeds synth.max_body = %u; lower it",
			    cfg->synth.min_body, cfg->synth.max_body);
	if (cfg->control.socket[0] == '\0')
		snprintf(cfg->control.socket, sizeof(cfg->control.socket),
			 "/run/isthmus/%s/dataplane.sock", cfg->appliance.id);
	if (cfg->eal.file_prefix[0] == '\0')
		snprintf(cfg->eal.file_prefix, sizeof(cfg->eal.file_prefix), "isthmus-%.*s",
			 (int)sizeof(cfg->eal.file_prefix) - 9, cfg->appliance.id);
	return 0;
}

int ist_config_load(const char *path, struct ist_config *cfg, char *err, size_t errlen)
{
	return ist_config_load_checked(path, cfg, NULL, err, errlen);
}

int ist_config_load_checked(const char *path, struct ist_config *cfg,
			    ist_config_regex_check_t check, char *err, size_t errlen)
{
	struct rte_cfgfile_parameters params = {.comment_character = ';'};
	struct loader *ld;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	ld = calloc(1, sizeof(*ld));
	if (ld == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	ld->path = path;
	ld->err = err;
	ld->errlen = errlen;
	ld->cfg = cfg;
	ld->check = check;
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);

	rc = scan_file(ld);
	if (rc != 0)
		goto out;
	ld->file = rte_cfgfile_load_with_params(path, CFG_FLAG_EMPTY_VALUES, &params);
	if (ld->file == NULL) {
		rc = fail(ld, 0, "rte_cfgfile could not parse the core map; check its syntax");
		goto out;
	}
	/* Count instances and name them before loading, so cross references resolve. */
	for (unsigned int i = 0; i < ld->n_sections; i++) {
		struct scan_section *sec = &ld->sections[i];
		const struct {
			const char *kind;
			uint8_t *n;
			unsigned int max;
			char *name;
			size_t stride;
		} named[] = {
			{"port", &cfg->n_ports, IST_CFG_MAX_PORTS, cfg->ports[0].name,
			 sizeof(cfg->ports[0])},
			{"lcore", &cfg->n_lcores, IST_CFG_MAX_LCORES, NULL, 0},
			{"kafka", &cfg->n_kafka, IST_CFG_MAX_KAFKA, cfg->kafka[0].name,
			 sizeof(cfg->kafka[0])},
			{"flow", &cfg->n_flows, IST_CFG_MAX_FLOWS, cfg->flows[0].name,
			 sizeof(cfg->flows[0])},
			{"class", &cfg->n_classes, IST_CFG_MAX_CLASSES, cfg->classes[0].name,
			 sizeof(cfg->classes[0])},
			{"rule", &cfg->n_rules, IST_CFG_MAX_RULES, cfg->rules[0].name,
			 sizeof(cfg->rules[0])},
		};

		for (unsigned int k = 0; k < IST_DIM(named); k++) {
			if (strcmp(sec->kind, named[k].kind) != 0)
				continue;
			if (*named[k].n == named[k].max) {
				rc = fail(ld, sec->line, "more than %u [%s] sections", named[k].max,
					  sec->kind);
				goto out;
			}
			(*named[k].n)++;
			if (named[k].name != NULL)
				snprintf(named[k].name + sec->index * named[k].stride,
					 IST_CFG_NAME_LEN, "%s", sec->label);
		}
		if (strcmp(sec->kind, "link") == 0)
			cfg->link.enabled = true;
		if (strcmp(sec->kind, "synth") == 0)
			cfg->synth.enabled = true;
	}
	for (unsigned int k = 0; k < ist_config_n_sections; k++) {
		bool seen = false;

		for (unsigned int i = 0; i < ld->n_sections; i++)
			seen |= strcmp(ld->sections[i].kind, ist_config_sections[k].kind) == 0;
		if (ist_config_sections[k].required && !seen) {
			rc = fail(ld, 0, "no [%s%s] section; add one (%s)",
				  ist_config_sections[k].kind,
				  ist_config_sections[k].named ? " NAME" : "",
				  ist_config_sections[k].doc);
			goto out;
		}
	}
	/* Unnamed sections that are absent still get their defaults. */
	for (unsigned int k = 0; k < ist_config_n_sections; k++) {
		const struct ist_cfg_section_kind *kind = &ist_config_sections[k];
		struct scan_section virt = {.line = 0};
		bool seen = false;

		if (kind->named || strcmp(kind->kind, "link") == 0 ||
		    strcmp(kind->kind, "synth") == 0)
			continue;
		for (unsigned int i = 0; i < ld->n_sections; i++)
			seen |= strcmp(ld->sections[i].kind, kind->kind) == 0;
		if (seen)
			continue;
		snprintf(virt.name, sizeof(virt.name), "%s", kind->kind);
		snprintf(virt.kind, sizeof(virt.kind), "%s", kind->kind);
		rc = load_section(ld, &virt);
		if (rc != 0)
			goto out;
	}
	/* Ports first: lcore queue lists refer to them. */
	for (int pass = 0; pass < 2; pass++)
		for (unsigned int i = 0; i < ld->n_sections; i++) {
			struct scan_section *sec = &ld->sections[i];

			if ((strcmp(sec->kind, "port") == 0) != (pass == 0))
				continue;
			rc = load_section(ld, sec);
			if (rc == 0 && strcmp(sec->kind, "lcore") == 0)
				rc = check_lcore(ld, sec);
			if (rc == 0 && strcmp(sec->kind, "kafka") == 0)
				rc = load_kafka_props(ld, sec);
			if (rc == 0 && strcmp(sec->kind, "rule") == 0) {
				cfg->rules[sec->index].line = sec->line;
				cfg->rules[sec->index].pattern_line =
					key_line(ld, sec->name, "pattern");
			}
			if (rc != 0)
				goto out;
		}
	rc = check_all(ld);
	if (rc != 0)
		goto out;
	for (unsigned int a = 0; a < cfg->n_lcores; a++)
		for (unsigned int b = 0; b < a; b++)
			if (cfg->lcores[a].id == cfg->lcores[b].id) {
				char sec[CFG_NAME_LEN];

				snprintf(sec, sizeof(sec), "lcore %u", cfg->lcores[a].id);
				rc = fail(ld, key_line(ld, sec, NULL),
					  "lcore %u is defined twice (as '%s'); keep one section",
					  cfg->lcores[a].id, sec);
				goto out;
			}
out:
	if (ld->file != NULL)
		rte_cfgfile_close(ld->file);
	free(ld);
	return rc;
}
