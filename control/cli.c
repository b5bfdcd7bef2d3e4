/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus: the operator CLI. Parses the command line (cli_args.c), finds
 * isthmus-control's API (--api, -c FILE's control.http_listen, or the
 * default), makes one HTTP request with libcurl and prints the answer
 * (cli_print.c for status). `verify` talks to Kafka itself (verify.c).
 * See docs/CLI.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli_args.h"
#include "cli_print.h"
#include "ist_config.h"
#include "verify.h"

/* A command waits up to 2 s for the data plane inside control; leave room. */
#define CLI_CONNECT_TIMEOUT_MS 3000L
#define CLI_TOTAL_TIMEOUT_MS   10000L
#define CLI_MAX_BODY           (16u * 1024u * 1024u)
#define CLI_MAX_CONFIG         (1024u * 1024u)

struct cli_buf {
	char *data;
	size_t len;
};

static size_t cli_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct cli_buf *b = arg;
	size_t n = size * nmemb;
	char *d;

	if (b->len + n > CLI_MAX_BODY)
		return 0;
	d = realloc(b->data, b->len + n + 1);
	if (d == NULL)
		return 0;
	memcpy(d + b->len, ptr, n);
	b->data = d;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/*
 * One request. @return the HTTP status, or -1 after printing why the request
 * failed (control unreachable and the like).
 */
static long cli_request(const char *base, const char *path, bool post, const char *config,
			struct cli_buf *body)
{
	char url[IST_CLI_URL_LEN + 128], cerr[CURL_ERROR_SIZE] = "";
	long code = -1, oserr = 0;
	CURLcode rc;
	CURL *c;

	snprintf(url, sizeof(url), "%s%s", base, path);
	c = curl_easy_init();
	if (c == NULL) {
		fprintf(stderr, "isthmus: cannot initialise libcurl\n");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cli_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CLI_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, CLI_TOTAL_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "isthmus/" ISTHMUS_VERSION);
	/* The API is local: a proxy from the environment would only get in the way. */
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	} else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
		   rc == CURLE_COULDNT_RESOLVE_HOST) {
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
		fprintf(stderr,
			"isthmus: cannot reach isthmus-control at %s (%s): is isthmus-control "
			"running? start it with isthmus-control -c %s\n",
			base,
			oserr != 0                       ? strerror((int)oserr)
			: rc == CURLE_OPERATION_TIMEDOUT ? "timed out"
							 : curl_easy_strerror(rc),
			config ? config : "FILE");
	} else {
		fprintf(stderr, "isthmus: request to %s failed (%s)\n", url,
			cerr[0] ? cerr : curl_easy_strerror(rc));
	}
	curl_easy_cleanup(c);
	return code;
}

/* Read control.http_listen alone, for a file the full loader refuses here. */
static int cli_scan_listen(const char *path, char *listen, size_t len)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;
	int rc;

	if (f == NULL)
		return -errno;
	text = calloc(1, CLI_MAX_CONFIG + 1);
	n = text ? fread(text, 1, CLI_MAX_CONFIG, f) : 0;
	fclose(f);
	if (text == NULL)
		return -ENOMEM;
	text[n] = '\0';
	rc = ist_cli_find_http_listen(text, listen, len);
	free(text);
	return rc;
}

static int cli_api_base(const struct ist_cli_cmd *cmd, char *base, size_t len)
{
	char err[512], listen[IST_CFG_NAME_LEN * 2];
	struct ist_config *cfg;
	size_t n;
	int rc;

	if (cmd->api != NULL) {
		snprintf(base, len, "%s", cmd->api);
	} else if (cmd->config != NULL) {
		cfg = calloc(1, sizeof(*cfg));
		if (cfg == NULL) {
			fprintf(stderr, "isthmus: out of memory\n");
			return IST_CLI_EXIT_FAIL;
		}
		rc = ist_config_load(cmd->config, cfg, err, sizeof(err));
		if (rc == 0)
			snprintf(listen, sizeof(listen), "%s", cfg->control.http_listen);
		free(cfg);
		if (rc < 0 && cli_scan_listen(cmd->config, listen, sizeof(listen)) < 0) {
			fprintf(stderr, "isthmus: %s\n", err);
			return IST_EXIT_CONFIG;
		}
		if (ist_cli_api_url(listen, base, len) < 0) {
			fprintf(stderr,
				"isthmus: control.http_listen '%s' in %s is not host:port: fix it "
				"or use --api URL\n",
				listen, cmd->config);
			return IST_EXIT_CONFIG;
		}
	} else {
		snprintf(base, len, "%s", IST_CLI_DEFAULT_API);
	}
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	return 0;
}

/* The error text of a non-2xx reply, whatever its shape. */
static const char *cli_reply_error(const json_t *doc, const char *raw)
{
	const char *s = json_string_value(json_object_get(doc, "error"));

	if (s == NULL)
		s = json_string_value(json_object_get(doc, "message"));
	return s != NULL ? s : raw;
}

static int cli_status(const struct ist_cli_cmd *cmd, const char *base)
{
	struct cli_buf body = {0};
	json_error_t jerr;
	json_t *doc;
	long code;
	int ret = IST_CLI_EXIT_FAIL;

	code = cli_request(base, "/status", false, cmd->config, &body);
	if (code < 0)
		goto out;
	doc = body.data ? json_loads(body.data, 0, &jerr) : NULL;
	if (code != 200 || doc == NULL) {
		fprintf(stderr, "isthmus: unexpected reply from %s/status (HTTP %ld): %s\n", base,
			code, doc ? cli_reply_error(doc, "") : "not JSON");
		json_decref(doc);
		goto out;
	}
	if (cmd->json)
		fputs(body.data, stdout);
	else
		ist_cli_print_status(stdout, doc);
	json_decref(doc);
	ret = IST_CLI_EXIT_OK;
out:
	free(body.data);
	return ret;
}

static int cli_lcore_cmd(const struct ist_cli_cmd *cmd, const char *base)
{
	struct cli_buf body = {0};
	char path[128], target[32];
	json_error_t jerr;
	json_t *doc = NULL;
	const char *msg;
	long code;
	int ret = IST_CLI_EXIT_FAIL;

	ist_cli_cmd_path(cmd, path, sizeof(path));
	if (cmd->has_lcore)
		snprintf(target, sizeof(target), "lcore %u", cmd->lcore);
	else
		snprintf(target, sizeof(target), "all lcores");
	code = cli_request(base, path, true, cmd->config, &body);
	if (code < 0)
		goto out;
	doc = body.data ? json_loads(body.data, 0, &jerr) : NULL;
	if (doc == NULL) {
		fprintf(stderr, "isthmus: unexpected reply from %s%s (HTTP %ld): not JSON\n", base,
			path, code);
		goto out;
	}
	msg = json_string_value(json_object_get(doc, "message"));
	if (code == 200) {
		printf("%s %s: %s\n", ist_cli_verb_name(cmd->verb), target,
		       msg && msg[0] ? msg : "done");
		ret = IST_CLI_EXIT_OK;
	} else {
		fprintf(stderr, "isthmus: %s %s failed (HTTP %ld): %s\n",
			ist_cli_verb_name(cmd->verb), target, code, cli_reply_error(doc, "?"));
	}
out:
	json_decref(doc);
	free(body.data);
	return ret;
}

int main(int argc, char **argv)
{
	struct ist_cli_cmd cmd;
	char err[512], base[IST_CLI_URL_LEN];
	int rc;

	if (ist_cli_parse(argc, argv, &cmd, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return IST_CLI_EXIT_USAGE;
	}
	switch (cmd.verb) {
	case IST_CLI_HELP:
		fputs(ist_cli_usage(cmd.help_verb), stdout);
		return IST_CLI_EXIT_OK;
	case IST_CLI_VERSION:
		printf("isthmus %s\n", ISTHMUS_VERSION);
		return IST_CLI_EXIT_OK;
	case IST_CLI_VERIFY:
		return ist_verify_cli(&cmd, stdout, stderr);
	default:
		break;
	}
	rc = cli_api_base(&cmd, base, sizeof(base));
	if (rc != 0)
		return rc;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "isthmus: cannot initialise libcurl\n");
		return IST_CLI_EXIT_FAIL;
	}
	if (cmd.verb == IST_CLI_STATUS)
		rc = cli_status(&cmd, base);
	else
		rc = cli_lcore_cmd(&cmd, base);
	curl_global_cleanup();
	return rc;
}
