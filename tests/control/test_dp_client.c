/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane client against a fake data plane on a real Unix socket:
 * connect and status, a data plane that is late, closes, restarts or sends
 * garbage, and lcore commands with replies, errors, timeouts and disconnects.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp_client.h"
#include "fixtures.h"
#include "log.h"

#define WAIT_MS 5000 /* generous: CI machines are shared */

struct ctx {
	struct ist_loop *lp;
	struct ist_dp_client *dc;
	struct fake_dp *fake;
	const char *sock;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct ist_dp_client_opts o = {0};

	if (c == NULL || fx_tmpdir() == NULL)
		return -1;
	c->sock = fx_path(0, "dp.sock");
	c->lp = ist_loop_create();
	o.socket_path = c->sock;
	o.status_interval_ms = 50;
	o.appliance = FX_APPLIANCE;
	o.region = FX_REGION;
	o.started_wall_ms = 1;
	c->dc = ist_dp_client_create(c->lp, &o);
	if (c->lp == NULL || c->dc == NULL)
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	ist_dp_client_destroy(c->dc);
	fake_dp_stop(c->fake);
	ist_loop_destroy(c->lp);
	unlink(c->sock);
	free(c);
	return 0;
}

static bool has_status(void *arg)
{
	struct ctx *c = arg;

	return ist_dp_client_state(c->dc)->status != NULL;
}

static bool is_down(void *arg)
{
	return !ist_dp_client_state(((struct ctx *)arg)->dc)->connected;
}

static void start_fake(struct ctx *c)
{
	c->fake = fake_dp_start(c->sock);
	assert_non_null(c->fake);
}

static void wait_status(struct ctx *c)
{
	if (!fx_run_until(c->lp, has_status, c, WAIT_MS))
		fail_msg("no status from the fake data plane within %u ms (last error: %s)",
			 WAIT_MS, ist_dp_client_state(c->dc)->last_error);
}

static void test_connects_and_gets_status(void **state)
{
	struct ctx *c = *state;
	const struct ist_dp_client_state *st;
	struct fake_dp_stats fs;

	start_fake(c);
	wait_status(c);
	st = ist_dp_client_state(c->dc);
	assert_true(st->connected);
	assert_int_equal(st->connects, 1);
	assert_string_equal(st->hello.who, "isthmus-dataplane");
	assert_int_equal(st->hello.pid, FX_PID);
	assert_int_equal(st->status->st.n_lcores, 2);
	assert_string_equal(st->status->ports[0].driver, "net_memif");
	assert_true(st->status->rx_ms > 0);

	fake_dp_stats(c->fake, &fs);
	assert_int_equal(fs.hellos, 1);
	assert_string_equal(fs.last_hello.who, "isthmus-control");
	assert_string_equal(fs.last_hello.appliance, FX_APPLIANCE);
	assert_int_equal(fs.last_hello.pid, (uint32_t)getpid());

	/* Asked again every interval (50 ms): several requests in half a second. */
	fx_run_for(c->lp, 500);
	fake_dp_stats(c->fake, &fs);
	assert_true(fs.status_reqs >= 3);
	assert_int_equal(fs.accepts, 1);
}

static void test_dataplane_not_there_yet(void **state)
{
	struct ctx *c = *state;
	const struct ist_dp_client_state *st = ist_dp_client_state(c->dc);

	fx_run_for(c->lp, 300);
	assert_false(st->connected);
	assert_null(st->status);
	assert_non_null(strstr(st->last_error, "No such file or directory"));
	/* Starts later: picked up by the backoff (at most 2 s apart). */
	start_fake(c);
	wait_status(c);
	assert_true(st->connected);
	assert_int_equal(st->last_error[0], '\0');
}

static void test_reconnects_after_close_and_restart(void **state)
{
	struct ctx *c = *state;
	const struct ist_dp_client_state *st = ist_dp_client_state(c->dc);
	uint64_t since;

	start_fake(c);
	wait_status(c);
	since = st->since_wall_ms;

	/* The data plane closes the connection. */
	fake_dp_kick(c->fake);
	assert_true(fx_run_until(c->lp, is_down, c, WAIT_MS));
	assert_null(st->status);
	assert_true(st->since_wall_ms >= since);
	/* "closed" or "reset", depending on what was still unread on its side. */
	assert_true(st->last_error[0] != '\0');
	wait_status(c);
	assert_int_equal(st->connects, 2);

	/* The data plane goes away entirely and comes back (a restart). */
	fake_dp_stop(c->fake);
	c->fake = NULL;
	assert_true(fx_run_until(c->lp, is_down, c, WAIT_MS));
	fx_run_for(c->lp, 250);
	assert_false(st->connected);
	start_fake(c);
	wait_status(c);
	assert_int_equal(st->connects, 3);
}

static bool magic_counted(void *arg)
{
	struct ctx *c = arg;

	return ist_dp_client_state(c->dc)->rx_rejected[IST_IPC_REJ_MAGIC] > 0;
}

static void test_survives_garbage(void **state)
{
	struct ctx *c = *state;
	const struct ist_dp_client_state *st = ist_dp_client_state(c->dc);
	static const char garbage[] = "\x01\x02 this is not an IPC message at all \xff\xfe";

	start_fake(c);
	wait_status(c);
	fake_dp_send_raw(c->fake, garbage, sizeof(garbage));
	assert_true(fx_run_until(c->lp, magic_counted, c, WAIT_MS));
	assert_int_equal(st->rx_rejected[IST_IPC_REJ_MAGIC], 1);
	/* No message boundary left: the client hung up, and comes back. */
	wait_status(c);
	assert_int_equal(st->connects, 2);
}

static bool count_at_least(void *arg)
{
	struct {
		const uint64_t *counter;
		uint64_t want;
	} *w = arg;

	return *w->counter >= w->want;
}

static void wait_counter(struct ctx *c, const uint64_t *counter, uint64_t want)
{
	struct {
		const uint64_t *counter;
		uint64_t want;
	} w = {counter, want};

	if (!fx_run_until(c->lp, count_at_least, &w, WAIT_MS))
		fail_msg("counter stayed at %llu, wanted %llu", (unsigned long long)*counter,
			 (unsigned long long)want);
}

static bool fake_got_error(void *arg)
{
	struct ctx *c = arg;
	struct fake_dp_stats fs;

	fake_dp_stats(c->fake, &fs);
	return fs.errors_rx > 0;
}

static void test_drops_bad_messages_and_stays_up(void **state)
{
	struct ctx *c = *state;
	const struct ist_dp_client_state *st = ist_dp_client_state(c->dc);
	unsigned char buf[IST_IPC_MAX_PAYLOAD];
	struct ist_ipc_hdr h;
	size_t len = fx_status_payload(buf, sizeof(buf));

	start_fake(c);
	wait_status(c);

	/* Framed, but the counts claim more than the payload holds. */
	buf[offsetof(struct ist_ipc_status, n_lcores)] = 9;
	fake_dp_send_msg(c->fake, IST_IPC_STATUS_RESP, 0, buf, (uint32_t)len);
	wait_counter(c, &st->rx_rejected[IST_IPC_REJ_TRUNCATED], 1);

	/* Framed, with an unterminated string. */
	len = fx_status_payload(buf, sizeof(buf));
	memset(buf + offsetof(struct ist_ipc_status, region), 'R', IST_IPC_NAME_LEN);
	fake_dp_send_msg(c->fake, IST_IPC_STATUS_RESP, 0, buf, (uint32_t)len);
	wait_counter(c, &st->rx_rejected[IST_IPC_REJ_BAD_PAYLOAD], 1);

	/* A short HELLO and a type nobody knows; the latter is answered. */
	fake_dp_send_msg(c->fake, IST_IPC_HELLO, 0, buf, 3);
	wait_counter(c, &st->rx_rejected[IST_IPC_REJ_TRUNCATED], 2);
	fake_dp_send_msg(c->fake, 77, 5, NULL, 0);
	wait_counter(c, &st->rx_rejected[IST_IPC_REJ_UNKNOWN_TYPE], 1);
	assert_true(fx_run_until(c->lp, fake_got_error, c, WAIT_MS));

	/* None of that cost the connection; good snapshots keep coming. */
	assert_true(st->connected);
	assert_int_equal(st->connects, 1);
	fx_run_for(c->lp, 150);
	assert_non_null(st->status);
	assert_string_equal(st->status->st.region, FX_REGION);

	/* A wrong version is framed but not trusted: counted, then a new connection. */
	ist_ipc_hdr_init(&h, IST_IPC_STATUS_RESP, 0, 0);
	h.version = 99;
	fake_dp_send_raw(c->fake, &h, sizeof(h));
	wait_counter(c, &st->rx_rejected[IST_IPC_REJ_VERSION], 1);
	wait_counter(c, &st->connects, 2);

	/* An oversized length likewise. */
	ist_ipc_hdr_init(&h, IST_IPC_STATUS_RESP, IST_IPC_MAX_PAYLOAD + 1, 0);
	fake_dp_send_raw(c->fake, &h, sizeof(h));
	wait_counter(c, &st->rx_rejected[IST_IPC_REJ_OVERSIZED], 1);
	wait_counter(c, &st->connects, 3);
}

struct cmd_result {
	int calls;
	int status;
	char message[160];
};

static void on_cmd(void *arg, int status, const char *message)
{
	struct cmd_result *r = arg;

	r->calls++;
	r->status = status;
	snprintf(r->message, sizeof(r->message), "%s", message);
}

static bool cmd_done(void *arg)
{
	return ((struct cmd_result *)arg)->calls > 0;
}

static void test_lcore_commands(void **state)
{
	struct ctx *c = *state;
	struct cmd_result r = {0};
	struct fake_dp_stats fs;

	/* Not connected: refused at once, the callback never runs. */
	assert_int_equal(ist_dp_client_lcore_cmd(c->dc, 1, IST_LCORE_OP_PAUSE, 0, 1000, on_cmd, &r),
			 -ENOTCONN);
	start_fake(c);
	wait_status(c);

	assert_int_equal(ist_dp_client_lcore_cmd(c->dc, IST_IPC_ALL_LCORES,
						 IST_LCORE_OP_SET_IDLE_SLEEP, 300, 2000, on_cmd,
						 &r),
			 0);
	assert_int_equal(r.calls, 0); /* never from inside the call */
	assert_true(fx_run_until(c->lp, cmd_done, &r, WAIT_MS));
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.message, "applied on 2 lcores");
	fake_dp_stats(c->fake, &fs);
	assert_int_equal(fs.cmds, 1);
	assert_int_equal(fs.last_cmd.lcore_id, IST_IPC_ALL_LCORES);
	assert_int_equal(fs.last_cmd.op, IST_LCORE_OP_SET_IDLE_SLEEP);
	assert_int_equal(fs.last_cmd.arg, 300);

	/* An IST_IPC_ERROR with the command's seq is its answer. */
	memset(&r, 0, sizeof(r));
	fake_dp_set_reply_mode(c->fake, FX_REPLY_ENOENT);
	assert_int_equal(
		ist_dp_client_lcore_cmd(c->dc, 99, IST_LCORE_OP_PAUSE, 0, 2000, on_cmd, &r), 0);
	assert_true(fx_run_until(c->lp, cmd_done, &r, WAIT_MS));
	assert_int_equal(r.status, -ENOENT);
	assert_string_equal(r.message, "no lcore 99 in this data plane");

	/* No answer: the timeout answers, once. */
	memset(&r, 0, sizeof(r));
	fake_dp_set_reply_mode(c->fake, FX_REPLY_NONE);
	assert_int_equal(ist_dp_client_lcore_cmd(c->dc, 1, IST_LCORE_OP_RESUME, 0, 200, on_cmd, &r),
			 0);
	assert_true(fx_run_until(c->lp, cmd_done, &r, WAIT_MS));
	assert_int_equal(r.status, -ETIMEDOUT);
	assert_non_null(strstr(r.message, "200 ms"));
	fx_run_for(c->lp, 100);
	assert_int_equal(r.calls, 1);

	/* Disconnect while waiting: answered with -ECONNRESET. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(
		ist_dp_client_lcore_cmd(c->dc, 1, IST_LCORE_OP_RESUME, 0, 3000, on_cmd, &r), 0);
	fx_run_for(c->lp, 50);
	fake_dp_kick(c->fake);
	assert_true(fx_run_until(c->lp, cmd_done, &r, WAIT_MS));
	assert_int_equal(r.status, -ECONNRESET);
	assert_int_equal(r.calls, 1);
}

static void test_destroy_completes_pending(void **state)
{
	struct ctx *c = *state;
	struct cmd_result r = {0};

	start_fake(c);
	wait_status(c);
	fake_dp_set_reply_mode(c->fake, FX_REPLY_NONE);
	assert_int_equal(ist_dp_client_lcore_cmd(c->dc, 1, IST_LCORE_OP_PAUSE, 0, 3000, on_cmd, &r),
			 0);
	ist_dp_client_destroy(c->dc);
	c->dc = NULL;
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, -ECANCELED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connects_and_gets_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dataplane_not_there_yet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnects_after_close_and_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_survives_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drops_bad_messages_and_stays_up, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lcore_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_completes_pending, setup, teardown),
	};
	int rc;

	rc = cmocka_run_group_tests_name("control-dp-client", tests, NULL, NULL);
	fx_tmpdir_cleanup();
	return rc;
}
