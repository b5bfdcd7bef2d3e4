/* SPDX-License-Identifier: BSD-3-Clause */
/* Decoding of data plane messages: every malformed STATUS_RESP is refused with a reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_status.h"
#include "fixtures.h"

#define LC_OFF(i) (sizeof(struct ist_ipc_status) + (i) * sizeof(struct ist_ipc_lcore_status))
#define PORT_OFF  LC_OFF(2)

static unsigned char payload[IST_IPC_MAX_PAYLOAD + 64];
static size_t payload_len;

static int setup(void **state)
{
	(void)state;
	memset(payload, 0, sizeof(payload));
	payload_len = fx_status_payload(payload, sizeof(payload));
	return payload_len == ist_ipc_status_size(2, 1) ? 0 : -1;
}

static int decode_expect_fail(size_t len, enum ist_ipc_reject want)
{
	struct ist_dp_status *ds = NULL;
	enum ist_ipc_reject why = IST_IPC_REJ_MAX;
	char err[256] = "";
	int rc = ist_dp_status_decode(payload, len, &ds, &why, err, sizeof(err));

	assert_int_equal(rc, -EBADMSG);
	assert_null(ds);
	assert_int_equal(why, want);
	assert_true(strlen(err) > 10); /* says what is wrong */
	return rc;
}

static void test_decode_valid(void **state)
{
	struct ist_dp_status *ds = NULL;
	enum ist_ipc_reject why;
	char err[256];

	(void)state;
	/* Unaligned source: the decoder must not assume alignment. */
	memmove(payload + 1, payload, payload_len);
	assert_int_equal(
		ist_dp_status_decode(payload + 1, payload_len, &ds, &why, err, sizeof(err)), 0);
	assert_non_null(ds);
	assert_string_equal(ds->st.appliance, FX_APPLIANCE);
	assert_int_equal(ds->st.pid, FX_PID);
	assert_int_equal(ds->st.n_lcores, 2);
	assert_int_equal(ds->st.n_ports, 1);
	assert_int_equal(ds->lcores[0].lcore_id, 1);
	assert_string_equal(ds->lcores[0].roles[1].name, "link-tx");
	assert_int_equal(ds->lcores[1].paused, 1);
	assert_string_equal(ds->ports[0].name, "link0");
	assert_int_equal(ds->ports[0].rx_nombuf, 4);
	assert_int_equal((uintptr_t)ds->lcores % 8, 0);
	assert_int_equal((uintptr_t)ds->ports % 8, 0);
	ist_dp_status_free(ds);
}

static void test_decode_truncated(void **state)
{
	(void)state;
	decode_expect_fail(0, IST_IPC_REJ_TRUNCATED);
	decode_expect_fail(sizeof(struct ist_ipc_status) - 1, IST_IPC_REJ_TRUNCATED);
	/* Header complete, arrays cut short. */
	decode_expect_fail(payload_len - 1, IST_IPC_REJ_TRUNCATED);
	decode_expect_fail(LC_OFF(1), IST_IPC_REJ_TRUNCATED);
}

static void test_decode_oversized(void **state)
{
	(void)state;
	/* Trailing bytes the counts do not account for. */
	decode_expect_fail(payload_len + 8, IST_IPC_REJ_OVERSIZED);
}

static void test_decode_inconsistent_counts(void **state)
{
	struct ist_ipc_status st;

	(void)state;
	/* More records claimed than any IPC payload can carry. */
	memcpy(&st, payload, sizeof(st));
	st.n_lcores = 60000;
	memcpy(payload, &st, sizeof(st));
	decode_expect_fail(payload_len, IST_IPC_REJ_BAD_PAYLOAD);

	/* Claims 3 lcores but carries 2 plus a port: a length mismatch. */
	st.n_lcores = 3;
	memcpy(payload, &st, sizeof(st));
	decode_expect_fail(payload_len, IST_IPC_REJ_TRUNCATED);

	/* Claims fewer ports than sent. */
	st.n_lcores = 2;
	st.n_ports = 0;
	memcpy(payload, &st, sizeof(st));
	decode_expect_fail(payload_len, IST_IPC_REJ_OVERSIZED);
}

static void test_decode_too_many_roles(void **state)
{
	struct ist_ipc_lcore_status lc;

	(void)state;
	memcpy(&lc, payload + LC_OFF(1), sizeof(lc));
	lc.n_roles = IST_IPC_MAX_ROLES + 1;
	memcpy(payload + LC_OFF(1), &lc, sizeof(lc));
	decode_expect_fail(payload_len, IST_IPC_REJ_BAD_PAYLOAD);
}

static void test_decode_unterminated_strings(void **state)
{
	(void)state;
	/* appliance */
	memset(payload + offsetof(struct ist_ipc_status, appliance), 'A', IST_IPC_NAME_LEN);
	decode_expect_fail(payload_len, IST_IPC_REJ_BAD_PAYLOAD);

	/* a role name in use */
	setup(NULL);
	memset(payload + LC_OFF(0) + offsetof(struct ist_ipc_lcore_status, roles[1].name), 'r',
	       IST_IPC_ROLE_LEN);
	decode_expect_fail(payload_len, IST_IPC_REJ_BAD_PAYLOAD);

	/* a port driver */
	setup(NULL);
	memset(payload + PORT_OFF + offsetof(struct ist_ipc_port_status, driver), 'd',
	       IST_IPC_NAME_LEN);
	decode_expect_fail(payload_len, IST_IPC_REJ_BAD_PAYLOAD);
}

static void test_decode_ignores_unused_role_slots(void **state)
{
	struct ist_dp_status *ds = NULL;
	enum ist_ipc_reject why;
	char err[128];

	(void)state;
	/* Garbage beyond n_roles is not validated but is blanked. */
	memset(payload + LC_OFF(1) + offsetof(struct ist_ipc_lcore_status, roles[3]), 'x',
	       sizeof(struct ist_ipc_role_status));
	assert_int_equal(ist_dp_status_decode(payload, payload_len, &ds, &why, err, sizeof(err)),
			 0);
	assert_int_equal(ds->lcores[1].roles[3].name[0], '\0');
	assert_int_equal(ds->lcores[1].roles[3].polls, 0);
	ist_dp_status_free(ds);
}

static void test_busy_pct(void **state)
{
	struct ist_dp_status *a = NULL, *b = NULL;
	enum ist_ipc_reject why;
	char err[128];

	(void)state;
	assert_int_equal(ist_dp_status_decode(payload, payload_len, &a, &why, err, sizeof(err)), 0);
	ist_dp_status_busy(a, NULL);
	assert_true(a->busy_pct[0] > 24.99 && a->busy_pct[0] < 25.01); /* 25 of 100 */
	assert_true(a->busy_pct[1] == 0.0);                            /* no loops yet */

	/* 100 more loops of which 75 busy: the interval's share, not the lifetime's. */
	assert_int_equal(ist_dp_status_decode(payload, payload_len, &b, &why, err, sizeof(err)), 0);
	b->lcores[0].loops = 200;
	b->lcores[0].busy_loops = 100;
	b->st.uptime_ms += 500;
	ist_dp_status_busy(b, a);
	assert_true(b->busy_pct[0] > 74.99 && b->busy_pct[0] < 75.01);

	/* Another process (restart): back to the lifetime share. */
	b->st.pid = FX_PID + 1;
	ist_dp_status_busy(b, a);
	assert_true(b->busy_pct[0] > 49.99 && b->busy_pct[0] < 50.01);
	ist_dp_status_free(a);
	ist_dp_status_free(b);
}

static void test_hello_and_cmd_resp(void **state)
{
	struct ist_ipc_hello h = {0}, out;
	struct ist_ipc_cmd_resp r = {0}, rout;
	enum ist_ipc_reject why;
	char err[128];

	(void)state;
	strcpy(h.who, "isthmus-dataplane");
	assert_int_equal(ist_dp_hello_decode(&h, sizeof(h), &out, &why, err, sizeof(err)), 0);
	assert_string_equal(out.who, "isthmus-dataplane");
	assert_int_equal(ist_dp_hello_decode(&h, sizeof(h) - 1, &out, &why, err, sizeof(err)),
			 -EBADMSG);
	assert_int_equal(why, IST_IPC_REJ_TRUNCATED);
	memset(h.region, 'z', sizeof(h.region));
	assert_int_equal(ist_dp_hello_decode(&h, sizeof(h), &out, &why, err, sizeof(err)),
			 -EBADMSG);
	assert_int_equal(why, IST_IPC_REJ_BAD_PAYLOAD);

	r.status = -ENOENT;
	strcpy(r.message, "no lcore 9");
	assert_int_equal(ist_dp_cmd_resp_decode(&r, sizeof(r), &rout, &why, err, sizeof(err)), 0);
	assert_int_equal(rout.status, -ENOENT);
	memset(r.message, 'm', sizeof(r.message));
	assert_int_equal(ist_dp_cmd_resp_decode(&r, sizeof(r), &rout, &why, err, sizeof(err)),
			 -EBADMSG);
	assert_int_equal(why, IST_IPC_REJ_BAD_PAYLOAD);
	assert_int_equal(
		ist_dp_cmd_resp_decode(payload, sizeof(r) + 4, &rout, &why, err, sizeof(err)),
		-EBADMSG);
	assert_int_equal(why, IST_IPC_REJ_OVERSIZED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_decode_valid, setup),
		cmocka_unit_test_setup(test_decode_truncated, setup),
		cmocka_unit_test_setup(test_decode_oversized, setup),
		cmocka_unit_test_setup(test_decode_inconsistent_counts, setup),
		cmocka_unit_test_setup(test_decode_too_many_roles, setup),
		cmocka_unit_test_setup(test_decode_unterminated_strings, setup),
		cmocka_unit_test_setup(test_decode_ignores_unused_role_slots, setup),
		cmocka_unit_test_setup(test_busy_pct, setup),
		cmocka_unit_test_setup(test_hello_and_cmd_resp, setup),
	};

	return cmocka_run_group_tests_name("control-dp-status", tests, NULL, NULL);
}
