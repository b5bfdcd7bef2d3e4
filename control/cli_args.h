/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The operator CLI's pure parts: command-line parsing, usage texts, the API
 * URL and request path of each verb. cli.c does the HTTP; cli_print.c the
 * human-readable status.
 *
 * Command line: isthmus [--api URL | -c FILE] VERB [args]. The global
 * options may also follow the verb. Exit codes: 0 done, 1 the operation
 * failed or control is unreachable, 2 usage or configuration error.
 * `verify` talks to Kafka instead of control (verify.h); for it -c FILE
 * names the core map whose [flow] --flow picks.
 *
 * Threading: @locality any thread.
 */
#ifndef ISTHMUS_CONTROL_CLI_ARGS_H
#define ISTHMUS_CONTROL_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IST_CLI_EXIT_OK               0
#define IST_CLI_EXIT_FAIL             1
#define IST_CLI_EXIT_USAGE            2
#define IST_CLI_DEFAULT_API           "http://127.0.0.1:9641"
#define IST_CLI_URL_LEN               512
#define IST_CLI_MAX_TOPICS            64
#define IST_CLI_VERIFY_DEF_TIMEOUT_S  10u
#define IST_CLI_VERIFY_DEF_MAX_REPORT 10u
#define IST_CLI_VERIFY_MAX_WAIT_S     86400u
#define IST_CLI_VERIFY_MAX_TIMEOUT_S  3600u
#define IST_CLI_VERIFY_MAX_REPORT     1000000u
#define IST_CLI_VERIFY_PREFIX_MAX     200u

enum ist_cli_verb {
	IST_CLI_NONE = 0,
	IST_CLI_HELP,
	IST_CLI_VERSION,
	IST_CLI_STATUS,
	IST_CLI_PAUSE,
	IST_CLI_RESUME,
	IST_CLI_IDLE_SLEEP,
	IST_CLI_VERIFY,
	IST_CLI_VERB_MAX,
};

struct ist_cli_cmd {
	enum ist_cli_verb verb;
	enum ist_cli_verb help_verb; /**< for IST_CLI_HELP: the verb asked about, or NONE */
	const char *api;             /**< --api URL, or NULL */
	const char *config;          /**< -c FILE, or NULL */
	bool json;                   /**< status, verify --json */
	bool has_lcore;
	uint32_t lcore;
	bool has_us;
	uint32_t us;
	/* verify */
	const char *source;      /**< --source BOOTSTRAP */
	const char *dest;        /**< --dest BOOTSTRAP */
	const char *dest_prefix; /**< --dest-prefix PREFIX, or NULL */
	const char *flow;        /**< --flow NAME (with -c FILE), or NULL */
	uint32_t n_topics;
	const char *topics[IST_CLI_MAX_TOPICS]; /**< --topic, in order */
	uint32_t wait_s;                        /**< --wait SECONDS, 0: one pass */
	uint32_t timeout_s;                     /**< --timeout SECONDS, default 10 */
	uint32_t max_report;                    /**< --max-report N, default 10 */
};

/**
 * Parse argv.
 * @param err out: one line naming the bad verb/option and pointing to
 *   "isthmus --help", when the result is not 0
 * @return 0 or -EINVAL.
 */
int ist_cli_parse(int argc, char *const argv[], struct ist_cli_cmd *cmd, char *err, size_t errlen);

/** Usage text of @p verb, or the general one for IST_CLI_NONE / IST_CLI_HELP. */
const char *ist_cli_usage(enum ist_cli_verb verb);

/** The verb's name on the command line ("idle-sleep"), or "" for NONE. */
const char *ist_cli_verb_name(enum ist_cli_verb verb);

/**
 * The API base URL for a control.http_listen value: "http://host:port",
 * with a wildcard host (0.0.0.0, ::) replaced by the loopback address.
 * @return 0 or -EINVAL when @p http_listen is not host:port.
 */
int ist_cli_api_url(const char *http_listen, char *url, size_t len);

/**
 * Find control.http_listen in core-map text without validating the rest of
 * the file. The CLI falls back to this when the full loader refuses a file
 * for reasons that do not concern it, typically an unset ${VAR} in a Kafka
 * bootstrap that only the daemons' environment defines.
 *
 * @param text the file's contents, NUL-terminated
 * @param out  out: the value, or "127.0.0.1:9641" when [control] does not set it
 * @return 0, or -EINVAL when the value is empty, too long or uses ${...}.
 */
int ist_cli_find_http_listen(const char *text, char *out, size_t len);

/**
 * The request path of an lcore verb: "/v1/lcores/<id|all>/<verb>[?us=N]".
 * @return 0, or -EINVAL for a verb that is not an lcore command.
 */
int ist_cli_cmd_path(const struct ist_cli_cmd *cmd, char *path, size_t len);

#endif /* ISTHMUS_CONTROL_CLI_ARGS_H */
