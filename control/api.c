/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isthmus/ipc.h>

#include "api.h"
#include "render.h"

static const struct {
	const char *verb;
	uint32_t op;
} api_ops[] = {
	{"pause", IST_LCORE_OP_PAUSE},
	{"resume", IST_LCORE_OP_RESUME},
	{"idle-sleep", IST_LCORE_OP_SET_IDLE_SLEEP},
};

const char *ist_api_op_name(uint32_t op)
{
	unsigned int i;

	for (i = 0; i < sizeof(api_ops) / sizeof(api_ops[0]); i++)
		if (api_ops[i].op == op)
			return api_ops[i].verb;
	return "unknown";
}

/* Strict decimal: digits only, no sign, no spaces, no overflow past @p max. */
static bool api_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

static bool api_is_get(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

unsigned int ist_api_route(const char *method, const char *path, const char *us,
			   struct ist_api_req *req, char *err, size_t errlen)
{
	static const char prefix[] = "/v1/lcores/";
	const char *id, *slash, *verb;
	char idbuf[16];
	uint64_t v;
	unsigned int i;

	memset(req, 0, sizeof(*req));
	err[0] = '\0';
	if (strcmp(path, "/status") == 0 || strcmp(path, "/metrics") == 0) {
		if (!api_is_get(method)) {
			req->allow = "GET, HEAD";
			snprintf(err, errlen, "%s accepts GET, not %s", path, method);
			return 405;
		}
		req->route = path[1] == 's' ? IST_API_STATUS : IST_API_METRICS;
		return 200;
	}
	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		goto not_found;
	id = path + sizeof(prefix) - 1;
	slash = strchr(id, '/');
	if (slash == NULL || slash == id || (size_t)(slash - id) >= sizeof(idbuf))
		goto not_found;
	verb = slash + 1;
	for (i = 0; i < sizeof(api_ops) / sizeof(api_ops[0]); i++)
		if (strcmp(verb, api_ops[i].verb) == 0)
			break;
	if (i == sizeof(api_ops) / sizeof(api_ops[0]))
		goto not_found;
	if (strcmp(method, "POST") != 0) {
		req->allow = "POST";
		snprintf(err, errlen, "%s accepts POST, not %s", path, method);
		return 405;
	}
	memcpy(idbuf, id, (size_t)(slash - id));
	idbuf[slash - id] = '\0';
	if (strcmp(idbuf, "all") == 0) {
		req->lcore_id = IST_IPC_ALL_LCORES;
	} else if (api_parse_u64(idbuf, IST_IPC_ALL_LCORES - 1u, &v)) {
		req->lcore_id = (uint32_t)v;
	} else {
		snprintf(err, errlen, "lcore '%s' is neither a number nor 'all'", idbuf);
		return 400;
	}
	req->op = api_ops[i].op;
	if (req->op == IST_LCORE_OP_SET_IDLE_SLEEP) {
		if (us == NULL) {
			snprintf(err, errlen, "idle-sleep needs ?us=N (microseconds, 0 to %u)",
				 IST_API_MAX_IDLE_SLEEP_US);
			return 400;
		}
		if (!api_parse_u64(us, IST_API_MAX_IDLE_SLEEP_US, &v)) {
			snprintf(err, errlen, "us=%.32s is not a whole number from 0 to %u", us,
				 IST_API_MAX_IDLE_SLEEP_US);
			return 400;
		}
		req->arg = v;
	}
	req->route = IST_API_LCORE_CMD;
	return 200;

not_found:
	snprintf(err, errlen,
		 "no such endpoint: %.64s (try GET /status, GET /metrics or POST "
		 "/v1/lcores/<id|all>/pause|resume|idle-sleep)",
		 path);
	return 404;
}

unsigned int ist_api_cmd_http_status(int status)
{
	switch (status) {
	case 0:
		return 200;
	case -EINVAL:
	case -ERANGE:
		return 400;
	case -ENOENT:
	case -ENODEV:
	case -ESRCH:
		return 404;
	case -EBUSY:
	case -EALREADY:
		return 409;
	case -ENOTSUP:
		return 501;
	case -ECONNRESET:
	case -ECANCELED:
	case -ENOTCONN:
		return 503;
	case -ETIMEDOUT:
		return 504;
	default:
		return 500;
	}
}

json_t *ist_api_cmd_json(int status, const char *message)
{
	json_t *o = json_pack("{s:i, s:o}", "status", status, "message", ist_render_str(message));

	if (o != NULL && status != 0)
		json_object_set_new(o, "error", ist_render_str(message));
	return o;
}

json_t *ist_api_error_json(const char *message)
{
	return json_pack("{s:o}", "error", ist_render_str(message));
}

int ist_api_split_hostport(const char *s, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon, *h = s;
	size_t hl;
	uint64_t v;

	if (s == NULL)
		return -EINVAL;
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || strchr(s, ':') != colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen || !api_parse_u64(colon + 1, 65535, &v) ||
	    strlen(colon + 1) >= portlen)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}
