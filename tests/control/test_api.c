/* SPDX-License-Identifier: BSD-3-Clause */
/* HTTP API routing and result mapping, without sockets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <isthmus/ipc.h>

#include "api.h"

static unsigned int route(const char *method, const char *path, const char *us,
			  struct ist_api_req *req, char *err)
{
	return ist_api_route(method, path, us, req, err, 256);
}

static void test_route_reads(void **state)
{
	struct ist_api_req req;
	char err[256];

	(void)state;
	assert_int_equal(route("GET", "/status", NULL, &req, err), 200);
	assert_int_equal(req.route, IST_API_STATUS);
	assert_int_equal(route("HEAD", "/metrics", NULL, &req, err), 200);
	assert_int_equal(req.route, IST_API_METRICS);
	assert_int_equal(route("POST", "/status", NULL, &req, err), 405);
	assert_string_equal(req.allow, "GET, HEAD");
	assert_non_null(strstr(err, "POST"));
	assert_int_equal(route("DELETE", "/metrics", NULL, &req, err), 405);
}

static void test_route_lcore_cmds(void **state)
{
	struct ist_api_req req;
	char err[256];

	(void)state;
	assert_int_equal(route("POST", "/v1/lcores/all/pause", NULL, &req, err), 200);
	assert_int_equal(req.route, IST_API_LCORE_CMD);
	assert_int_equal(req.lcore_id, IST_IPC_ALL_LCORES);
	assert_int_equal(req.op, IST_LCORE_OP_PAUSE);
	assert_int_equal(route("POST", "/v1/lcores/3/resume", NULL, &req, err), 200);
	assert_int_equal(req.lcore_id, 3);
	assert_int_equal(req.op, IST_LCORE_OP_RESUME);
	assert_int_equal(route("POST", "/v1/lcores/0/idle-sleep", "250", &req, err), 200);
	assert_int_equal(req.lcore_id, 0);
	assert_int_equal(req.op, IST_LCORE_OP_SET_IDLE_SLEEP);
	assert_int_equal(req.arg, 250);
	assert_string_equal(ist_api_op_name(req.op), "idle-sleep");

	assert_int_equal(route("GET", "/v1/lcores/all/pause", NULL, &req, err), 405);
	assert_string_equal(req.allow, "POST");
	assert_int_equal(route("POST", "/v1/lcores/x1/pause", NULL, &req, err), 400);
	assert_non_null(strstr(err, "x1"));
	assert_int_equal(route("POST", "/v1/lcores/-1/pause", NULL, &req, err), 400);
	assert_int_equal(route("POST", "/v1/lcores/4294967295/pause", NULL, &req, err), 400);
	assert_int_equal(route("POST", "/v1/lcores/all/idle-sleep", NULL, &req, err), 400);
	assert_non_null(strstr(err, "us="));
	assert_int_equal(route("POST", "/v1/lcores/all/idle-sleep", "1e3", &req, err), 400);
	assert_int_equal(route("POST", "/v1/lcores/all/idle-sleep", "100001", &req, err), 400);
	assert_int_equal(route("POST", "/v1/lcores/all/idle-sleep", "", &req, err), 400);
}

static void test_route_not_found(void **state)
{
	static const char *const paths[] = {
		"/",
		"/statusx",
		"/status/",
		"/v1",
		"/v1/lcores",
		"/v1/lcores/",
		"/v1/lcores/1",
		"/v1/lcores/1/",
		"/v1/lcores//pause",
		"/v1/lcores/1/stop",
		"/v1/lcores/1/pause/x",
		"/v2/lcores/1/pause",
	};
	struct ist_api_req req;
	char err[256];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (route("POST", paths[i], NULL, &req, err) != 404)
			fail_msg("%s is not a 404", paths[i]);
		assert_non_null(strstr(err, "no such endpoint"));
		assert_null(req.allow);
	}
}

static void test_cmd_status_mapping(void **state)
{
	(void)state;
	assert_int_equal(ist_api_cmd_http_status(0), 200);
	assert_int_equal(ist_api_cmd_http_status(-EINVAL), 400);
	assert_int_equal(ist_api_cmd_http_status(-ERANGE), 400);
	assert_int_equal(ist_api_cmd_http_status(-ENOENT), 404);
	assert_int_equal(ist_api_cmd_http_status(-EBUSY), 409);
	assert_int_equal(ist_api_cmd_http_status(-ENOTSUP), 501);
	assert_int_equal(ist_api_cmd_http_status(-ECONNRESET), 503);
	assert_int_equal(ist_api_cmd_http_status(-ETIMEDOUT), 504);
	assert_int_equal(ist_api_cmd_http_status(-EIO), 500);
}

static void test_cmd_json(void **state)
{
	json_t *o;

	(void)state;
	o = ist_api_cmd_json(0, "applied on 2 lcores");
	assert_int_equal(json_integer_value(json_object_get(o, "status")), 0);
	assert_string_equal(json_string_value(json_object_get(o, "message")),
			    "applied on 2 lcores");
	assert_null(json_object_get(o, "error"));
	json_decref(o);
	o = ist_api_cmd_json(-ENOENT, "no lcore 9");
	assert_int_equal(json_integer_value(json_object_get(o, "status")), -ENOENT);
	assert_string_equal(json_string_value(json_object_get(o, "error")), "no lcore 9");
	json_decref(o);
	o = ist_api_error_json("nope");
	assert_string_equal(json_string_value(json_object_get(o, "error")), "nope");
	json_decref(o);
}

static void test_split_hostport(void **state)
{
	char host[64], port[8];

	(void)state;
	assert_int_equal(
		ist_api_split_hostport("127.0.0.1:9641", host, sizeof(host), port, sizeof(port)),
		0);
	assert_string_equal(host, "127.0.0.1");
	assert_string_equal(port, "9641");
	assert_int_equal(ist_api_split_hostport("[::1]:80", host, sizeof(host), port, sizeof(port)),
			 0);
	assert_string_equal(host, "::1");
	assert_int_equal(
		ist_api_split_hostport("localhost:0", host, sizeof(host), port, sizeof(port)), 0);
	assert_int_equal(
		ist_api_split_hostport("127.0.0.1", host, sizeof(host), port, sizeof(port)),
		-EINVAL);
	assert_int_equal(ist_api_split_hostport(":80", host, sizeof(host), port, sizeof(port)),
			 -EINVAL);
	assert_int_equal(ist_api_split_hostport("h:65536", host, sizeof(host), port, sizeof(port)),
			 -EINVAL);
	assert_int_equal(ist_api_split_hostport("h:80x", host, sizeof(host), port, sizeof(port)),
			 -EINVAL);
	assert_int_equal(ist_api_split_hostport("::1:80", host, sizeof(host), port, sizeof(port)),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_reads),     cmocka_unit_test(test_route_lcore_cmds),
		cmocka_unit_test(test_route_not_found), cmocka_unit_test(test_cmd_status_mapping),
		cmocka_unit_test(test_cmd_json),        cmocka_unit_test(test_split_hostport),
	};

	return cmocka_run_group_tests_name("control-api", tests, NULL, NULL);
}
