/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPC framing and the data plane's handling of it: complete, partial,
 * truncated, oversized, wrong-magic, wrong-version and unknown messages,
 * over a real socketpair, with one lcore answering commands from a thread.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "isthmus/ipc.h"
#include "ist_config.h"
#include "ist_lcore.h"
#include "ist_mgmt.h"
#include "ist_wire.h"

static struct ist_config cfg;
static struct ist_lcore lc;
static struct ist_lcore *lcs[1] = {&lc};
static struct ist_mgmt *m;
static struct ist_mgmt_client *cl;
static int peer; /* the "control" end */
static volatile bool lcore_stop;
static pthread_t lcore_thread;

static void *lcore_fn(void *arg)
{
	(void)arg;
	while (!lcore_stop) {
		ist_lcore_cmds(&lc);
		usleep(100);
	}
	return NULL;
}

static int setup(void **state)
{
	int sv[2];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.appliance.id, sizeof(cfg.appliance.id), "t1");
	snprintf(cfg.appliance.region, sizeof(cfg.appliance.region), "test-region");
	memset(&lc, 0, sizeof(lc));
	lc.lcore_id = 3;
	if (ist_lcore_rings_init(&lc) != 0)
		return -1;
	m = calloc(1, sizeof(*m));
	m->cfg = &cfg;
	m->lcores = lcs;
	m->n_lcores = 1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	cl = &m->clients[0];
	cl->fd = sv[0];
	peer = sv[1];
	lcore_stop = false;
	return pthread_create(&lcore_thread, NULL, lcore_fn, NULL);
}

static int teardown(void **state)
{
	(void)state;
	lcore_stop = true;
	pthread_join(lcore_thread, NULL);
	close(cl->fd);
	close(peer);
	free(m);
	ist_lcore_rings_free(&lc);
	return 0;
}

/* Put bytes in the client's buffer as if recv() had read them. */
static void feed(const void *p, size_t n)
{
	memcpy(cl->buf + cl->len, p, n);
	cl->len += n;
}

static void feed_msg(uint16_t type, const void *payload, uint32_t len, uint32_t seq)
{
	struct ist_ipc_hdr h;

	ist_ipc_hdr_init(&h, type, len, seq);
	feed(&h, sizeof(h));
	if (len)
		feed(payload, len);
}

/* Read one reply from the peer end; returns its type and copies the payload. */
static uint16_t read_reply(void *payload, size_t max, uint32_t *seq)
{
	struct ist_ipc_hdr h;
	uint8_t buf[IST_IPC_MAX_PAYLOAD];

	assert_int_equal(recv(peer, &h, sizeof(h), MSG_WAITALL), sizeof(h));
	assert_int_equal(h.magic, IST_IPC_MAGIC);
	assert_int_equal(h.version, IST_IPC_VERSION);
	assert_true(h.length <= sizeof(buf));
	if (h.length)
		assert_int_equal(recv(peer, buf, h.length, MSG_WAITALL), h.length);
	memcpy(payload, buf, h.length < max ? h.length : max);
	if (seq)
		*seq = h.seq;
	return h.type;
}

static void test_check_framing(void **state)
{
	struct ist_ipc_hdr h, out;
	enum ist_ipc_reject why;
	uint8_t buf[64] = {0};

	(void)state;
	ist_ipc_hdr_init(&h, IST_IPC_STATUS_REQ, 8, 1);
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(ist_ipc_check(buf, 0, &out, &why), IST_IPC_NEED_MORE);
	assert_int_equal(ist_ipc_check(buf, 15, &out, &why), IST_IPC_NEED_MORE);
	assert_int_equal(ist_ipc_check(buf, 16, &out, &why), IST_IPC_NEED_MORE);
	assert_int_equal(ist_ipc_check(buf, 23, &out, &why), IST_IPC_NEED_MORE);
	assert_int_equal(ist_ipc_check(buf, 24, &out, &why), IST_IPC_COMPLETE);
	assert_int_equal(out.length, 8);

	h.magic = 0xdeadbeef;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(ist_ipc_check(buf, 24, &out, &why), IST_IPC_BAD);
	assert_int_equal(why, IST_IPC_REJ_MAGIC);

	ist_ipc_hdr_init(&h, IST_IPC_STATUS_REQ, 0, 1);
	h.version = IST_IPC_VERSION + 1;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(ist_ipc_check(buf, 16, &out, &why), IST_IPC_BAD);
	assert_int_equal(why, IST_IPC_REJ_VERSION);

	ist_ipc_hdr_init(&h, IST_IPC_STATUS_REQ, IST_IPC_MAX_PAYLOAD + 1, 1);
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(ist_ipc_check(buf, 16, &out, &why), IST_IPC_BAD);
	assert_int_equal(why, IST_IPC_REJ_OVERSIZED);
	assert_string_equal(ist_ipc_reject_name(IST_IPC_REJ_OVERSIZED), "oversized");
}

static void test_hello_and_status(void **state)
{
	struct ist_ipc_hello hello = {.pid = 1}, got;
	uint8_t st_buf[IST_IPC_MAX_PAYLOAD];
	struct ist_ipc_status *st = (struct ist_ipc_status *)st_buf;
	struct ist_ipc_lcore_status *ls = (struct ist_ipc_lcore_status *)(st + 1);
	uint32_t seq;

	(void)state;
	feed_msg(IST_IPC_HELLO, &hello, sizeof(hello), 41);
	/* Two messages in one read are both answered, in order. */
	feed_msg(IST_IPC_STATUS_REQ, NULL, 0, 42);
	assert_int_equal(ist_mgmt_client_input(m, cl), 0);
	assert_int_equal(cl->len, 0);
	assert_int_equal(read_reply(&got, sizeof(got), &seq), IST_IPC_HELLO);
	assert_int_equal(seq, 41);
	assert_string_equal(got.who, "isthmus-dataplane");
	assert_string_equal(got.appliance, "t1");
	assert_int_equal(got.pid, getpid());
	assert_int_equal(read_reply(st_buf, sizeof(st_buf), &seq), IST_IPC_STATUS_RESP);
	assert_int_equal(seq, 42);
	assert_string_equal(st->region, "test-region");
	assert_int_equal(st->n_lcores, 1);
	assert_int_equal(st->n_ports, 0);
	assert_int_equal(ls->lcore_id, 3);
	assert_int_equal(st->ipc_rx_msgs, 2);
}

static void test_partial_message_waits(void **state)
{
	struct ist_ipc_hdr h;
	uint8_t st_buf[IST_IPC_MAX_PAYLOAD];

	(void)state;
	ist_ipc_hdr_init(&h, IST_IPC_STATUS_REQ, 0, 5);
	feed(&h, 10);
	assert_int_equal(ist_mgmt_client_input(m, cl), 0);
	assert_int_equal(cl->len, 10);
	feed((uint8_t *)&h + 10, 6);
	assert_int_equal(ist_mgmt_client_input(m, cl), 0);
	assert_int_equal(read_reply(st_buf, sizeof(st_buf), NULL), IST_IPC_STATUS_RESP);
}

static void test_wrong_version_rejected_and_counted(void **state)
{
	struct ist_ipc_hdr h;
	struct ist_ipc_cmd_resp r;

	(void)state;
	ist_ipc_hdr_init(&h, IST_IPC_STATUS_REQ, 0, 6);
	h.version = 9;
	feed(&h, sizeof(h));
	assert_int_equal(ist_mgmt_client_input(m, cl), -1);
	assert_int_equal(m->rejected[IST_IPC_REJ_VERSION], 1);
	assert_int_equal(read_reply(&r, sizeof(r), NULL), IST_IPC_ERROR);
	assert_non_null(strstr(r.message, "bad_version"));
}

static void test_oversized_rejected_and_counted(void **state)
{
	struct ist_ipc_hdr h;
	struct ist_ipc_cmd_resp r;

	(void)state;
	ist_ipc_hdr_init(&h, IST_IPC_LCORE_CMD, 1u << 30, 6);
	feed(&h, sizeof(h));
	assert_int_equal(ist_mgmt_client_input(m, cl), -1);
	assert_int_equal(m->rejected[IST_IPC_REJ_OVERSIZED], 1);
	assert_int_equal(read_reply(&r, sizeof(r), NULL), IST_IPC_ERROR);
}

static void test_bad_magic_closes_silently(void **state)
{
	uint8_t junk[32];

	(void)state;
	memset(junk, 0x5a, sizeof(junk));
	feed(junk, sizeof(junk));
	assert_int_equal(ist_mgmt_client_input(m, cl), -1);
	assert_int_equal(m->rejected[IST_IPC_REJ_MAGIC], 1);
}

static void test_unknown_type_keeps_connection(void **state)
{
	struct ist_ipc_cmd_resp r;
	uint8_t st_buf[IST_IPC_MAX_PAYLOAD];

	(void)state;
	feed_msg(77, "xyz", 3, 8);
	feed_msg(IST_IPC_STATUS_REQ, NULL, 0, 9);
	assert_int_equal(ist_mgmt_client_input(m, cl), 0);
	assert_int_equal(m->rejected[IST_IPC_REJ_UNKNOWN_TYPE], 1);
	assert_int_equal(read_reply(&r, sizeof(r), NULL), IST_IPC_ERROR);
	assert_int_equal(r.status, -ENOTSUP);
	assert_int_equal(read_reply(st_buf, sizeof(st_buf), NULL), IST_IPC_STATUS_RESP);
}

static void test_bad_payload_sizes(void **state)
{
	struct ist_ipc_cmd_resp r;

	(void)state;
	feed_msg(IST_IPC_STATUS_REQ, "x", 1, 10);
	feed_msg(IST_IPC_LCORE_CMD, "abc", 3, 11);
	feed_msg(IST_IPC_HELLO, "abc", 3, 12);
	assert_int_equal(ist_mgmt_client_input(m, cl), 0);
	assert_int_equal(m->rejected[IST_IPC_REJ_BAD_PAYLOAD], 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(read_reply(&r, sizeof(r), NULL), IST_IPC_ERROR);
		assert_int_equal(r.status, -EINVAL);
	}
}

static void test_lcore_command_round_trip(void **state)
{
	struct ist_ipc_lcore_cmd cmd = {.lcore_id = 3, .op = IST_LCORE_OP_PAUSE};
	struct ist_ipc_cmd_resp r;
	uint32_t seq;

	(void)state;
	feed_msg(IST_IPC_LCORE_CMD, &cmd, sizeof(cmd), 20);
	assert_int_equal(ist_mgmt_client_input(m, cl), 0);
	assert_int_equal(read_reply(&r, sizeof(r), &seq), IST_IPC_CMD_RESP);
	assert_int_equal(seq, 20);
	assert_int_equal(r.status, 0);
	assert_true(lc.paused);

	cmd.op = IST_LCORE_OP_RESUME;
	cmd.lcore_id = IST_IPC_ALL_LCORES;
	feed_msg(IST_IPC_LCORE_CMD, &cmd, sizeof(cmd), 21);
	assert_int_equal(ist_mgmt_client_input(m, cl), 0);
	assert_int_equal(read_reply(&r, sizeof(r), NULL), IST_IPC_CMD_RESP);
	assert_false(lc.paused);

	cmd.lcore_id = 9; /* no such lcore */
	feed_msg(IST_IPC_LCORE_CMD, &cmd, sizeof(cmd), 22);
	assert_int_equal(ist_mgmt_client_input(m, cl), 0);
	assert_int_equal(read_reply(&r, sizeof(r), NULL), IST_IPC_ERROR);
	assert_int_equal(r.status, -ENOENT);

	cmd.lcore_id = 3;
	cmd.op = IST_LCORE_OP_SET_IDLE_SLEEP;
	cmd.arg = 1000000; /* above the 100 ms bound */
	feed_msg(IST_IPC_LCORE_CMD, &cmd, sizeof(cmd), 23);
	assert_int_equal(ist_mgmt_client_input(m, cl), 0);
	assert_int_equal(read_reply(&r, sizeof(r), NULL), IST_IPC_ERROR);
	assert_int_equal(r.status, -ERANGE);
}

static void test_lcore_that_never_answers_times_out(void **state)
{
	struct ist_ipc_lcore_cmd cmd = {.lcore_id = 3, .op = IST_LCORE_OP_PAUSE};
	struct ist_ipc_cmd_resp r;

	(void)state;
	lcore_stop = true;
	pthread_join(lcore_thread, NULL);
	feed_msg(IST_IPC_LCORE_CMD, &cmd, sizeof(cmd), 30);
	assert_int_equal(ist_mgmt_client_input(m, cl), 0);
	assert_int_equal(read_reply(&r, sizeof(r), NULL), IST_IPC_CMD_RESP);
	assert_int_equal(r.status, -ETIMEDOUT);
	/* teardown joins again: give it a thread to join. */
	lcore_stop = false;
	pthread_create(&lcore_thread, NULL, lcore_fn, NULL);
	/* The late answer to seq 30 must not be taken for the next command's. */
	cmd.op = IST_LCORE_OP_RESUME;
	feed_msg(IST_IPC_LCORE_CMD, &cmd, sizeof(cmd), 31);
	assert_int_equal(ist_mgmt_client_input(m, cl), 0);
	assert_int_equal(read_reply(&r, sizeof(r), NULL), IST_IPC_CMD_RESP);
	assert_int_equal(r.status, 0);
	assert_false(lc.paused);
}

/* Control names link drops without the codec: the two tables must agree. */
static void test_link_drop_names_match_codec(void **state)
{
	(void)state;
	assert_int_equal(IST_WIRE_ERR_COUNT, IST_IPC_LINK_DROPS);
	for (int i = 1; i < IST_WIRE_ERR_COUNT; i++)
		assert_string_equal(ist_ipc_link_drop_name(i), ist_wire_err_name(-i));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_framing),
		cmocka_unit_test(test_link_drop_names_match_codec),
		cmocka_unit_test_setup_teardown(test_hello_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_message_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_version_rejected_and_counted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_oversized_rejected_and_counted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_magic_closes_silently, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type_keeps_connection, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_payload_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lcore_command_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lcore_that_never_answers_times_out, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("ipc", tests, NULL, NULL);
}
