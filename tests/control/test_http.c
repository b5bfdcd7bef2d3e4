/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTTP API end to end: libmicrohttpd on an ephemeral loopback port in
 * control's event loop, the data plane client talking to a fake data plane,
 * and libcurl requests from a client thread while this thread runs the loop.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "dp_client.h"
#include "fixtures.h"
#include "http.h"

#define WAIT_MS 10000

struct ctx {
	struct ist_loop *lp;
	struct ist_dp_client *dc;
	struct ist_http *http;
	struct fake_dp *fake;
	const char *sock;
	uint16_t port;
};

static struct ctx g;

struct call {
	const char *method;
	char url[256];
	pthread_t thread;
	int done; /* set by the client thread, read with __atomic */
	CURLcode rc;
	long code;
	char *body;
	size_t len;
	char allow[64];
	char ctype[128];
	uint64_t elapsed_ms;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct call *c = arg;
	char *b = realloc(c->body, c->len + size * n + 1);

	if (b == NULL)
		return 0;
	memcpy(b + c->len, p, size * n);
	c->body = b;
	c->len += size * n;
	c->body[c->len] = '\0';
	return size * n;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t outlen)
{
	size_t k = strlen(name);

	if (n > k + 1 && strncasecmp(line, name, k) == 0 && line[k] == ':') {
		const char *v = line + k + 1;
		size_t vl = n - k - 1;

		while (vl > 0 && *v == ' ')
			v++, vl--;
		while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
			vl--;
		snprintf(out, outlen, "%.*s", (int)vl, v);
	}
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct call *c = arg;

	header_value(p, size * n, "Allow", c->allow, sizeof(c->allow));
	header_value(p, size * n, "Content-Type", c->ctype, sizeof(c->ctype));
	return size * n;
}

static void *call_thread(void *arg)
{
	struct call *c = arg;
	uint64_t t0 = fx_now_ms();
	CURL *h = curl_easy_init();

	if (h != NULL) {
		curl_easy_setopt(h, CURLOPT_URL, c->url);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)WAIT_MS);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
		if (strcmp(c->method, "POST") == 0) {
			curl_easy_setopt(h, CURLOPT_POST, 1L);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
		} else if (strcmp(c->method, "HEAD") == 0) {
			curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		} else if (strcmp(c->method, "GET") != 0) {
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
		}
		c->rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->code);
		curl_easy_cleanup(h);
	} else {
		c->rc = CURLE_FAILED_INIT;
	}
	c->elapsed_ms = fx_now_ms() - t0;
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void call_start(struct call *c, const char *method, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->method = method;
	snprintf(c->url, sizeof(c->url), "http://127.0.0.1:%u%s", g.port, path);
	assert_int_equal(pthread_create(&c->thread, NULL, call_thread, c), 0);
}

static bool call_done(void *arg)
{
	return __atomic_load_n(&((struct call *)arg)->done, __ATOMIC_ACQUIRE) != 0;
}

/* Run the loop until the call completes; the thread is joined in any case. */
static void call_finish(struct call *c)
{
	bool ok = fx_run_until(g.lp, call_done, c, WAIT_MS + 2000);

	pthread_join(c->thread, NULL);
	if (!ok)
		fail_msg("%s %s did not complete", c->method, c->url);
	if (c->rc != CURLE_OK)
		fail_msg("%s %s: %s", c->method, c->url, curl_easy_strerror(c->rc));
}

static void call(struct call *c, const char *method, const char *path)
{
	call_start(c, method, path);
	call_finish(c);
}

static json_t *call_json(struct call *c)
{
	json_error_t jerr;
	json_t *doc = c->body ? json_loads(c->body, 0, &jerr) : NULL;

	if (doc == NULL)
		fail_msg("%s %s: not JSON: %s", c->method, c->url, c->body ? c->body : "(empty)");
	assert_string_equal(c->ctype, "application/json");
	return doc;
}

static bool dp_ready(void *arg)
{
	(void)arg;
	return ist_dp_client_state(g.dc)->status != NULL;
}

static int group_setup(void **state)
{
	struct ist_dp_client_opts o = {0};
	struct ist_http_ctx hc = {0};
	char err[256];

	(void)state;
	if (fx_tmpdir() == NULL)
		return -1;
	g.sock = fx_path(0, "dp.sock");
	g.fake = fake_dp_start(g.sock);
	g.lp = ist_loop_create();
	o.socket_path = g.sock;
	o.status_interval_ms = 50;
	o.appliance = FX_APPLIANCE;
	o.region = FX_REGION;
	g.dc = ist_dp_client_create(g.lp, &o);
	if (g.fake == NULL || g.lp == NULL || g.dc == NULL)
		return -1;
	hc.lp = g.lp;
	hc.dp = g.dc;
	hc.appliance = "ctl-app";
	hc.region = "ctl-region";
	hc.dp_socket = g.sock;
	hc.started_ms = ist_loop_now_ms(g.lp);
	hc.cmd_timeout_ms = 1500; /* the product default is 2 s; a little quicker here */
	g.http = ist_http_start(&hc, "127.0.0.1:0", err, sizeof(err));
	if (g.http == NULL) {
		print_error("%s\n", err);
		return -1;
	}
	g.port = ist_http_port(g.http);
	if (g.port == 0 || !fx_run_until(g.lp, dp_ready, NULL, WAIT_MS))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ist_dp_client_destroy(g.dc); /* first: it completes what HTTP requests wait for */
	ist_http_stop(g.http);
	fake_dp_stop(g.fake);
	ist_loop_destroy(g.lp);
	fx_tmpdir_cleanup();
	return 0;
}

static int reset_fake(void **state)
{
	(void)state;
	if (g.fake != NULL)
		fake_dp_set_reply_mode(g.fake, FX_REPLY_OK);
	return 0;
}

static void test_get_status(void **state)
{
	struct call c;
	json_t *doc, *dp;

	(void)state;
	call(&c, "GET", "/status");
	assert_int_equal(c.code, 200);
	doc = call_json(&c);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(doc, "appliance"), "id")),
		"ctl-app");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(doc, "control"), "pid")),
		getpid());
	dp = json_object_get(doc, "dataplane");
	assert_true(json_is_true(json_object_get(dp, "connected")));
	assert_int_equal(json_integer_value(json_object_get(dp, "pid")), FX_PID);
	assert_int_equal(json_array_size(json_object_get(dp, "lcores")), 2);
	assert_int_equal(json_array_size(json_object_get(dp, "ports")), 1);
	assert_true(json_is_array(json_object_get(doc, "kafka")));
	json_decref(doc);
	free(c.body);

	/* HEAD is GET without the body. */
	call(&c, "HEAD", "/status");
	assert_int_equal(c.code, 200);
	assert_string_equal(c.ctype, "application/json");
	assert_null(c.body);
}

static void test_get_metrics(void **state)
{
	struct call c;

	(void)state;
	call(&c, "GET", "/metrics");
	assert_int_equal(c.code, 200);
	assert_string_equal(c.ctype, "text/plain; version=0.0.4; charset=utf-8");
	assert_non_null(strstr(c.body, "# TYPE isthmus_dataplane_up gauge\n"));
	assert_non_null(strstr(c.body, "\nisthmus_dataplane_up{appliance=\"ctl-app\"} 1\n"));
	assert_non_null(strstr(
		c.body, "\nisthmus_lcore_loops_total{appliance=\"ctl-app\",lcore=\"1\"} 100\n"));
	free(c.body);
}

static void test_not_found_and_wrong_method(void **state)
{
	struct call c;
	json_t *doc;

	(void)state;
	call(&c, "GET", "/nope");
	assert_int_equal(c.code, 404);
	doc = call_json(&c);
	assert_non_null(strstr(json_string_value(json_object_get(doc, "error")), "/nope"));
	json_decref(doc);
	free(c.body);

	call(&c, "POST", "/status");
	assert_int_equal(c.code, 405);
	assert_string_equal(c.allow, "GET, HEAD");
	doc = call_json(&c);
	assert_non_null(json_object_get(doc, "error"));
	json_decref(doc);
	free(c.body);

	call(&c, "GET", "/v1/lcores/all/pause");
	assert_int_equal(c.code, 405);
	assert_string_equal(c.allow, "POST");
	free(c.body);

	call(&c, "POST", "/v1/lcores/all/idle-sleep?us=lots");
	assert_int_equal(c.code, 400);
	free(c.body);
}

static void test_pause_relayed(void **state)
{
	struct fake_dp_stats fs;
	struct call c;
	json_t *doc;

	(void)state;
	call(&c, "POST", "/v1/lcores/all/pause");
	assert_int_equal(c.code, 200);
	doc = call_json(&c);
	assert_int_equal(json_integer_value(json_object_get(doc, "status")), 0);
	assert_string_equal(json_string_value(json_object_get(doc, "message")),
			    "applied on 2 lcores");
	json_decref(doc);
	free(c.body);
	fake_dp_stats(g.fake, &fs);
	assert_int_equal(fs.last_cmd.op, IST_LCORE_OP_PAUSE);
	assert_int_equal(fs.last_cmd.lcore_id, IST_IPC_ALL_LCORES);

	call(&c, "POST", "/v1/lcores/1/idle-sleep?us=250");
	assert_int_equal(c.code, 200);
	free(c.body);
	fake_dp_stats(g.fake, &fs);
	assert_int_equal(fs.last_cmd.op, IST_LCORE_OP_SET_IDLE_SLEEP);
	assert_int_equal(fs.last_cmd.lcore_id, 1);
	assert_int_equal(fs.last_cmd.arg, 250);

	call(&c, "POST", "/v1/lcores/1/resume");
	assert_int_equal(c.code, 200);
	free(c.body);
}

static void test_dataplane_error_relayed(void **state)
{
	struct call c;
	json_t *doc;

	(void)state;
	fake_dp_set_reply_mode(g.fake, FX_REPLY_ENOENT);
	call(&c, "POST", "/v1/lcores/99/pause");
	assert_int_equal(c.code, 404);
	doc = call_json(&c);
	assert_int_equal(json_integer_value(json_object_get(doc, "status")), -ENOENT);
	assert_string_equal(json_string_value(json_object_get(doc, "message")),
			    "no lcore 99 in this data plane");
	json_decref(doc);
	free(c.body);
}

static void test_no_reply_is_504_and_loop_keeps_serving(void **state)
{
	struct call slow, quick;
	json_t *doc;

	(void)state;
	fake_dp_set_reply_mode(g.fake, FX_REPLY_NONE);
	call_start(&slow, "POST", "/v1/lcores/all/pause");
	/* While that request waits for the data plane, others are served. */
	fx_run_for(g.lp, 50);
	call(&quick, "GET", "/status");
	assert_int_equal(quick.code, 200);
	assert_false(call_done(&slow));
	free(quick.body);

	call_finish(&slow);
	assert_int_equal(slow.code, 504);
	doc = call_json(&slow);
	assert_int_equal(json_integer_value(json_object_get(doc, "status")), -ETIMEDOUT);
	assert_non_null(strstr(json_string_value(json_object_get(doc, "error")), "no reply"));
	json_decref(doc);
	free(slow.body);
}

static bool dp_down(void *arg)
{
	(void)arg;
	return !ist_dp_client_state(g.dc)->connected;
}

static void test_dataplane_down(void **state)
{
	struct call c;
	json_t *doc;

	(void)state;
	fake_dp_stop(g.fake);
	g.fake = NULL;
	assert_true(fx_run_until(g.lp, dp_down, NULL, WAIT_MS));

	call(&c, "POST", "/v1/lcores/all/pause");
	assert_int_equal(c.code, 503);
	doc = call_json(&c);
	assert_non_null(strstr(json_string_value(json_object_get(doc, "error")), "disconnected"));
	json_decref(doc);
	free(c.body);

	call(&c, "GET", "/status");
	assert_int_equal(c.code, 200);
	doc = call_json(&c);
	assert_true(json_is_false(json_object_get(json_object_get(doc, "dataplane"), "connected")));
	json_decref(doc);
	free(c.body);

	call(&c, "GET", "/metrics");
	assert_non_null(strstr(c.body, "\nisthmus_dataplane_up{appliance=\"ctl-app\"} 0\n"));
	free(c.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_get_status, reset_fake),
		cmocka_unit_test_setup(test_get_metrics, reset_fake),
		cmocka_unit_test_setup(test_not_found_and_wrong_method, reset_fake),
		cmocka_unit_test_setup(test_pause_relayed, reset_fake),
		cmocka_unit_test_setup(test_dataplane_error_relayed, reset_fake),
		cmocka_unit_test_setup(test_no_reply_is_504_and_loop_keeps_serving, reset_fake),
		cmocka_unit_test_setup(test_dataplane_down, reset_fake),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("control-http", tests, group_setup, group_teardown);
	curl_global_cleanup();
	return rc;
}
