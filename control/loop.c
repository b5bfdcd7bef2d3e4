/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event loop in the shape of Redis ae.c: a table of file events indexed by fd,
 * an unsorted timer list, and one epoll_wait() per iteration whose timeout is
 * the nearest timer.
 *
 * Timers deleted while the timer list is being walked are only marked and
 * freed after the walk, so a callback may delete any timer, including itself
 * or the next one in the list, without invalidating the walk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_MAX_FD       65536
#define LOOP_BATCH        64
#define LOOP_INITIAL_SIZE 64

struct loop_file {
	int mask;
	ist_loop_file_fn *rfn; /* for IST_LOOP_READABLE */
	ist_loop_file_fn *wfn; /* for IST_LOOP_WRITABLE */
	void *arg;
};

struct loop_timer {
	int64_t id;
	uint64_t when_ms;
	bool deleted;
	ist_loop_timer_fn *fn;
	void *arg;
	struct loop_timer *next;
};

struct ist_loop {
	int epfd;
	bool stop;
	struct loop_file *files; /* indexed by fd */
	int n_files;             /* entries allocated in files[] */
	struct loop_timer *timers;
	int64_t next_timer_id;
	uint64_t now_ms;
	uint64_t wall_ms;
	ist_loop_hook_fn *before_sleep;
	void *before_sleep_arg;
};

static uint64_t clock_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void ist_loop_update_time(struct ist_loop *lp)
{
	lp->now_ms = clock_ms(CLOCK_MONOTONIC);
	lp->wall_ms = clock_ms(CLOCK_REALTIME);
}

uint64_t ist_loop_now_ms(const struct ist_loop *lp)
{
	return lp->now_ms;
}

uint64_t ist_loop_wall_ms(const struct ist_loop *lp)
{
	return lp->wall_ms;
}

struct ist_loop *ist_loop_create(void)
{
	struct ist_loop *lp = calloc(1, sizeof(*lp));

	if (lp == NULL)
		return NULL;
	lp->epfd = epoll_create1(EPOLL_CLOEXEC);
	lp->files = calloc(LOOP_INITIAL_SIZE, sizeof(*lp->files));
	if (lp->epfd < 0 || lp->files == NULL) {
		int e = lp->epfd < 0 ? errno : ENOMEM;

		if (lp->epfd >= 0)
			close(lp->epfd);
		free(lp->files);
		free(lp);
		errno = e;
		return NULL;
	}
	lp->n_files = LOOP_INITIAL_SIZE;
	lp->next_timer_id = 1;
	ist_loop_update_time(lp);
	return lp;
}

void ist_loop_destroy(struct ist_loop *lp)
{
	struct loop_timer *t, *next;

	if (lp == NULL)
		return;
	for (t = lp->timers; t != NULL; t = next) {
		next = t->next;
		free(t);
	}
	close(lp->epfd);
	free(lp->files);
	free(lp);
}

static int loop_files_grow(struct ist_loop *lp, int fd)
{
	int n = lp->n_files;
	struct loop_file *f;

	while (n <= fd)
		n *= 2;
	f = realloc(lp->files, (size_t)n * sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	memset(f + lp->n_files, 0, (size_t)(n - lp->n_files) * sizeof(*f));
	lp->files = f;
	lp->n_files = n;
	return 0;
}

static uint32_t loop_epoll_events(int mask)
{
	uint32_t ev = 0;

	if (mask & IST_LOOP_READABLE)
		ev |= EPOLLIN;
	if (mask & IST_LOOP_WRITABLE)
		ev |= EPOLLOUT;
	return ev;
}

int ist_loop_file_add(struct ist_loop *lp, int fd, int mask, ist_loop_file_fn *fn, void *arg)
{
	struct epoll_event ee = {0};
	struct loop_file *f;
	int op, rc;

	if (fd < 0 || fd >= LOOP_MAX_FD || fn == NULL ||
	    (mask & ~(IST_LOOP_READABLE | IST_LOOP_WRITABLE)) != 0 || mask == 0)
		return -EINVAL;
	if (fd >= lp->n_files) {
		rc = loop_files_grow(lp, fd);
		if (rc < 0)
			return rc;
	}
	f = &lp->files[fd];
	op = f->mask == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	ee.events = loop_epoll_events(f->mask | mask);
	ee.data.fd = fd;
	if (epoll_ctl(lp->epfd, op, fd, &ee) < 0)
		return -errno;
	f->mask |= mask;
	if (mask & IST_LOOP_READABLE)
		f->rfn = fn;
	if (mask & IST_LOOP_WRITABLE)
		f->wfn = fn;
	f->arg = arg;
	return 0;
}

void ist_loop_file_del(struct ist_loop *lp, int fd, int mask)
{
	struct epoll_event ee = {0};
	struct loop_file *f;

	if (fd < 0 || fd >= lp->n_files || lp->files[fd].mask == 0)
		return;
	f = &lp->files[fd];
	f->mask &= ~mask;
	ee.events = loop_epoll_events(f->mask);
	ee.data.fd = fd;
	/* Errors are ignored: the fd may already be closed, which removed it. */
	if (!(f->mask & IST_LOOP_READABLE))
		f->rfn = NULL;
	if (!(f->mask & IST_LOOP_WRITABLE))
		f->wfn = NULL;
	if (f->mask == 0) {
		epoll_ctl(lp->epfd, EPOLL_CTL_DEL, fd, &ee);
		f->arg = NULL;
	} else {
		epoll_ctl(lp->epfd, EPOLL_CTL_MOD, fd, &ee);
	}
}

int ist_loop_file_mask(const struct ist_loop *lp, int fd)
{
	if (fd < 0 || fd >= lp->n_files)
		return 0;
	return lp->files[fd].mask;
}

int64_t ist_loop_timer_add(struct ist_loop *lp, uint64_t ms, ist_loop_timer_fn *fn, void *arg)
{
	struct loop_timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	t->id = lp->next_timer_id++;
	t->when_ms = lp->now_ms + ms;
	t->fn = fn;
	t->arg = arg;
	t->next = lp->timers;
	lp->timers = t;
	return t->id;
}

static struct loop_timer *loop_timer_find(struct ist_loop *lp, int64_t id)
{
	struct loop_timer *t;

	for (t = lp->timers; t != NULL; t = t->next)
		if (t->id == id && !t->deleted)
			return t;
	return NULL;
}

int ist_loop_timer_rearm(struct ist_loop *lp, int64_t id, uint64_t ms)
{
	struct loop_timer *t = loop_timer_find(lp, id);

	if (t == NULL)
		return -ENOENT;
	t->when_ms = lp->now_ms + ms;
	return 0;
}

int ist_loop_timer_del(struct ist_loop *lp, int64_t id)
{
	struct loop_timer *t = loop_timer_find(lp, id);

	if (t == NULL)
		return -ENOENT;
	t->deleted = true;
	return 0;
}

void ist_loop_set_before_sleep(struct ist_loop *lp, ist_loop_hook_fn *fn, void *arg)
{
	lp->before_sleep = fn;
	lp->before_sleep_arg = arg;
}

static void loop_timers_reap(struct ist_loop *lp)
{
	struct loop_timer **pp = &lp->timers;

	while (*pp != NULL) {
		struct loop_timer *t = *pp;

		if (t->deleted) {
			*pp = t->next;
			free(t);
		} else {
			pp = &t->next;
		}
	}
}

/* Milliseconds until the nearest live timer, or -1 when there is none. */
static int loop_timers_wait(const struct ist_loop *lp)
{
	const struct loop_timer *t;
	uint64_t nearest = UINT64_MAX;

	for (t = lp->timers; t != NULL; t = t->next)
		if (!t->deleted && t->when_ms < nearest)
			nearest = t->when_ms;
	if (nearest == UINT64_MAX)
		return -1;
	if (nearest <= lp->now_ms)
		return 0;
	if (nearest - lp->now_ms > INT32_MAX)
		return INT32_MAX;
	return (int)(nearest - lp->now_ms);
}

static int loop_timers_run(struct ist_loop *lp)
{
	/* Timers added by callbacks in this walk wait for the next iteration. */
	int64_t max_id = lp->next_timer_id - 1;
	struct loop_timer *t;
	int handled = 0;

	for (t = lp->timers; t != NULL; t = t->next) {
		int next;

		if (t->deleted || t->id > max_id || t->when_ms > lp->now_ms)
			continue;
		next = t->fn(lp, t->id, t->arg);
		handled++;
		if (t->deleted)
			continue;
		if (next == IST_LOOP_NOMORE)
			t->deleted = true;
		else
			t->when_ms = lp->now_ms + (uint64_t)(next < 0 ? 0 : next);
	}
	loop_timers_reap(lp);
	return handled;
}

int ist_loop_run_once(struct ist_loop *lp, int max_wait_ms)
{
	struct epoll_event evs[LOOP_BATCH];
	int wait_ms, n, i, handled = 0;

	if (lp->before_sleep != NULL)
		lp->before_sleep(lp, lp->before_sleep_arg);
	ist_loop_update_time(lp);
	wait_ms = loop_timers_wait(lp);
	if (max_wait_ms >= 0 && (wait_ms < 0 || wait_ms > max_wait_ms))
		wait_ms = max_wait_ms;
	if (lp->stop)
		wait_ms = 0;

	n = epoll_wait(lp->epfd, evs, LOOP_BATCH, wait_ms);
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	ist_loop_update_time(lp);

	for (i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		struct loop_file *f;
		int fired = 0;

		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			fired |= IST_LOOP_READABLE;
		if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			fired |= IST_LOOP_WRITABLE;
		/* Read the table again for each event: an earlier callback may
		 * have deleted this fd. */
		if (fd >= lp->n_files)
			continue;
		f = &lp->files[fd];
		fired &= f->mask;
		if (fired == 0)
			continue;
		if ((fired & IST_LOOP_READABLE) && f->rfn != NULL) {
			ist_loop_file_fn *rfn = f->rfn;
			bool both = f->wfn == rfn && (fired & IST_LOOP_WRITABLE);

			/* One call is enough when both events share a callback. */
			rfn(lp, fd, f->arg, both ? fired : IST_LOOP_READABLE);
			if (both)
				fired &= ~IST_LOOP_WRITABLE;
		}
		/* The read callback may have deleted the fd or grown the table. */
		f = &lp->files[fd];
		if ((fired & IST_LOOP_WRITABLE) && (f->mask & IST_LOOP_WRITABLE) && f->wfn != NULL)
			f->wfn(lp, fd, f->arg, IST_LOOP_WRITABLE);
		handled++;
	}
	handled += loop_timers_run(lp);
	return handled;
}

int ist_loop_run(struct ist_loop *lp)
{
	lp->stop = false;
	while (!lp->stop) {
		int rc = ist_loop_run_once(lp, -1);

		if (rc < 0)
			return rc;
	}
	return 0;
}

void ist_loop_stop(struct ist_loop *lp)
{
	lp->stop = true;
}
