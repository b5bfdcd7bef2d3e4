/* SPDX-License-Identifier: BSD-3-Clause */
/* The event loop: timers (order, re-arm, delete from callbacks) and file events. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"
#include "loop.h"

struct timer_log {
	int order[16];
	int n;
	int repeat_left;
	int64_t victim;
	struct ist_loop *lp;
};

static int timer_a(struct ist_loop *lp, int64_t id, void *arg)
{
	struct timer_log *tl = arg;

	(void)lp;
	(void)id;
	tl->order[tl->n++] = 1;
	return IST_LOOP_NOMORE;
}

static int timer_b(struct ist_loop *lp, int64_t id, void *arg)
{
	struct timer_log *tl = arg;

	(void)lp;
	(void)id;
	tl->order[tl->n++] = 2;
	return IST_LOOP_NOMORE;
}

static int timer_repeat(struct ist_loop *lp, int64_t id, void *arg)
{
	struct timer_log *tl = arg;

	(void)lp;
	(void)id;
	tl->order[tl->n++] = 3;
	return --tl->repeat_left > 0 ? 5 : IST_LOOP_NOMORE;
}

static int timer_killer(struct ist_loop *lp, int64_t id, void *arg)
{
	struct timer_log *tl = arg;

	tl->order[tl->n++] = 4;
	assert_int_equal(ist_loop_timer_del(lp, tl->victim), 0);
	/* Deleting itself from inside is allowed too. */
	assert_int_equal(ist_loop_timer_del(lp, id), 0);
	return 100; /* ignored: the timer is deleted */
}

static bool log_has(void *arg)
{
	struct timer_log *tl = arg;

	return tl->n >= tl->repeat_left; /* reused as "expected count" */
}

static void test_timers_fire_in_deadline_order(void **state)
{
	struct ist_loop *lp = ist_loop_create();
	struct timer_log tl = {0};
	uint64_t t0;

	(void)state;
	assert_non_null(lp);
	t0 = fx_now_ms();
	assert_true(ist_loop_timer_add(lp, 60, timer_b, &tl) > 0);
	assert_true(ist_loop_timer_add(lp, 20, timer_a, &tl) > 0);
	tl.repeat_left = 2;
	assert_true(fx_run_until(lp, log_has, &tl, 2000));
	assert_int_equal(tl.n, 2);
	assert_int_equal(tl.order[0], 1);
	assert_int_equal(tl.order[1], 2);
	/* Not early; generously bounded late (shared CI machines). */
	assert_true(fx_now_ms() - t0 >= 60);
	assert_true(fx_now_ms() - t0 < 1500);
	/* Both were one-shot: nothing fires any more. */
	fx_run_for(lp, 80);
	assert_int_equal(tl.n, 2);
	ist_loop_destroy(lp);
}

static bool repeat_done(void *arg)
{
	return ((struct timer_log *)arg)->repeat_left == 0;
}

static void test_timer_rearms_by_return_value(void **state)
{
	struct ist_loop *lp = ist_loop_create();
	struct timer_log tl = {.repeat_left = 4};

	(void)state;
	assert_true(ist_loop_timer_add(lp, 0, timer_repeat, &tl) > 0);
	assert_true(fx_run_until(lp, repeat_done, &tl, 2000));
	assert_int_equal(tl.n, 4);
	fx_run_for(lp, 30);
	assert_int_equal(tl.n, 4);
	ist_loop_destroy(lp);
}

static void test_timer_delete_from_callback(void **state)
{
	struct ist_loop *lp = ist_loop_create();
	struct timer_log tl = {0};

	(void)state;
	tl.victim = ist_loop_timer_add(lp, 50, timer_a, &tl);
	assert_true(tl.victim > 0);
	assert_true(ist_loop_timer_add(lp, 10, timer_killer, &tl) > 0);
	fx_run_for(lp, 120);
	assert_int_equal(tl.n, 1);
	assert_int_equal(tl.order[0], 4);
	/* Gone: deleting again reports it. */
	assert_int_equal(ist_loop_timer_del(lp, tl.victim), -ENOENT);
	ist_loop_destroy(lp);
}

static void test_timer_rearm_moves_deadline(void **state)
{
	struct ist_loop *lp = ist_loop_create();
	struct timer_log tl = {0};
	int64_t id;

	(void)state;
	id = ist_loop_timer_add(lp, 10000, timer_a, &tl);
	assert_int_equal(ist_loop_timer_rearm(lp, id, 0), 0);
	assert_int_equal(ist_loop_run_once(lp, 100), 1);
	assert_int_equal(tl.n, 1);
	assert_int_equal(ist_loop_timer_rearm(lp, id, 0), -ENOENT);
	ist_loop_destroy(lp);
}

struct file_log {
	int reads, writes;
	char last[8];
};

static void on_file(struct ist_loop *lp, int fd, void *arg, int mask)
{
	struct file_log *fl = arg;

	if (mask & IST_LOOP_READABLE) {
		ssize_t n = read(fd, fl->last, sizeof(fl->last) - 1);

		if (n > 0)
			fl->last[n] = '\0';
		fl->reads++;
	}
	if (mask & IST_LOOP_WRITABLE) {
		fl->writes++;
		/* Writable fires until told otherwise: take it away after one. */
		ist_loop_file_del(lp, fd, IST_LOOP_WRITABLE);
	}
}

static void test_file_events(void **state)
{
	struct ist_loop *lp = ist_loop_create();
	struct file_log rl = {0}, wl = {0};
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ist_loop_file_add(lp, p[0], IST_LOOP_READABLE, on_file, &rl), 0);
	assert_int_equal(ist_loop_file_mask(lp, p[0]), IST_LOOP_READABLE);
	/* Nothing to read yet: the wait times out with nothing handled. */
	assert_int_equal(ist_loop_run_once(lp, 20), 0);
	assert_int_equal(rl.reads, 0);

	assert_int_equal(write(p[1], "hi", 2), 2);
	assert_int_equal(ist_loop_run_once(lp, 1000), 1);
	assert_int_equal(rl.reads, 1);
	assert_string_equal(rl.last, "hi");

	assert_int_equal(ist_loop_file_add(lp, p[1], IST_LOOP_WRITABLE, on_file, &wl), 0);
	assert_int_equal(ist_loop_run_once(lp, 1000), 1);
	assert_int_equal(wl.writes, 1);
	assert_int_equal(ist_loop_file_mask(lp, p[1]), 0);

	/* After deletion, data no longer wakes the callback. */
	ist_loop_file_del(lp, p[0], IST_LOOP_READABLE);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(ist_loop_run_once(lp, 20), 0);
	assert_int_equal(rl.reads, 1);

	assert_int_equal(ist_loop_file_add(lp, -1, IST_LOOP_READABLE, on_file, &rl), -EINVAL);
	assert_int_equal(ist_loop_file_add(lp, p[0], 0, on_file, &rl), -EINVAL);
	close(p[0]);
	close(p[1]);
	ist_loop_destroy(lp);
}

struct rw_log {
	int reads, writes;
};

static void on_read_only(struct ist_loop *lp, int fd, void *arg, int mask)
{
	struct rw_log *l = arg;
	char b[16];

	(void)lp;
	assert_int_equal(mask, IST_LOOP_READABLE);
	if (read(fd, b, sizeof(b)) > 0)
		l->reads++;
}

static void on_write_only(struct ist_loop *lp, int fd, void *arg, int mask)
{
	struct rw_log *l = arg;

	assert_int_equal(mask, IST_LOOP_WRITABLE);
	l->writes++;
	ist_loop_file_del(lp, fd, IST_LOOP_WRITABLE);
}

/* Separate read and write callbacks on one fd, as ae.c has them. */
static void test_file_read_and_write_callbacks(void **state)
{
	struct ist_loop *lp = ist_loop_create();
	struct rw_log l = {0};
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(ist_loop_file_add(lp, sv[0], IST_LOOP_READABLE, on_read_only, &l), 0);
	assert_int_equal(ist_loop_file_add(lp, sv[0], IST_LOOP_WRITABLE, on_write_only, &l), 0);
	assert_int_equal(write(sv[1], "abc", 3), 3);
	assert_int_equal(ist_loop_run_once(lp, 1000), 1);
	assert_int_equal(l.reads, 1);
	assert_int_equal(l.writes, 1);
	/* The read callback is still the read callback. */
	assert_int_equal(write(sv[1], "d", 1), 1);
	assert_int_equal(ist_loop_run_once(lp, 1000), 1);
	assert_int_equal(l.reads, 2);
	assert_int_equal(l.writes, 1);
	close(sv[0]);
	close(sv[1]);
	ist_loop_destroy(lp);
}

static void on_file_high(struct ist_loop *lp, int fd, void *arg, int mask)
{
	(void)mask;
	(*(int *)arg)++;
	ist_loop_file_del(lp, fd, IST_LOOP_READABLE);
}

static void test_file_event_high_fd(void **state)
{
	struct ist_loop *lp = ist_loop_create();
	int p[2], hi, hits = 0;

	(void)state;
	/* The fd table grows past its initial size. */
	assert_int_equal(pipe(p), 0);
	hi = dup2(p[0], 700);
	assert_int_equal(hi, 700);
	assert_int_equal(ist_loop_file_add(lp, hi, IST_LOOP_READABLE, on_file_high, &hits), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(ist_loop_run_once(lp, 1000), 1);
	assert_int_equal(hits, 1);
	close(hi);
	close(p[0]);
	close(p[1]);
	ist_loop_destroy(lp);
}

static void count_hook(struct ist_loop *lp, void *arg)
{
	(void)lp;
	(*(int *)arg)++;
}

static int stopper(struct ist_loop *lp, int64_t id, void *arg)
{
	(void)id;
	(void)arg;
	ist_loop_stop(lp);
	return IST_LOOP_NOMORE;
}

static void test_before_sleep_and_stop(void **state)
{
	struct ist_loop *lp = ist_loop_create();
	int hooks = 0;
	uint64_t t0 = fx_now_ms();

	(void)state;
	ist_loop_set_before_sleep(lp, count_hook, &hooks);
	assert_true(ist_loop_timer_add(lp, 30, stopper, NULL) > 0);
	assert_int_equal(ist_loop_run(lp), 0);
	assert_true(hooks >= 1);
	assert_true(fx_now_ms() - t0 >= 30);
	assert_true(fx_now_ms() - t0 < 2000);
	assert_true(ist_loop_now_ms(lp) > 0);
	assert_true(ist_loop_wall_ms(lp) > 1600000000000ull);
	ist_loop_destroy(lp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_deadline_order),
		cmocka_unit_test(test_timer_rearms_by_return_value),
		cmocka_unit_test(test_timer_delete_from_callback),
		cmocka_unit_test(test_timer_rearm_moves_deadline),
		cmocka_unit_test(test_file_events),
		cmocka_unit_test(test_file_read_and_write_callbacks),
		cmocka_unit_test(test_file_event_high_fd),
		cmocka_unit_test(test_before_sleep_and_stop),
	};

	return cmocka_run_group_tests_name("control-loop", tests, NULL, NULL);
}
