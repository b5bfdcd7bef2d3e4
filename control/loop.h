/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The control process's event loop: epoll file events plus millisecond
 * timers, in the shape of Redis's ae.c (create, add/delete file and timer
 * events, a before-sleep hook, run until stopped).
 *
 * Why not a library: libevent/libuv would bring their own buffering and
 * callback conventions for the handful of fds control owns (one IPC socket,
 * MHD's epoll fd, a signalfd). ae's hundred-line shape is enough and keeps
 * every callback on one thread, so control's shared state needs no locks
 * (the Kafka health threads publish through their own mutex).
 *
 * Threading: everything here runs on the thread that calls ist_loop_run()
 * (@locality control loop thread). Not thread-safe.
 *
 * Time: the loop reads CLOCK_MONOTONIC once per iteration and hands the value
 * to callbacks through ist_loop_now_ms(); callbacks do not read the clock.
 *
 * Limits: fds must be below 65536; timers are kept in an unsorted list, fine
 * for the dozens of timers control uses.
 */
#ifndef ISTHMUS_CONTROL_LOOP_H
#define ISTHMUS_CONTROL_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#define IST_LOOP_READABLE 1
#define IST_LOOP_WRITABLE 2

/** A timer callback returns this to stop; any other value re-arms it that many ms later. */
#define IST_LOOP_NOMORE (-1)

struct ist_loop;

/** File event callback; @p mask says which of the registered events fired. */
typedef void(ist_loop_file_fn)(struct ist_loop *lp, int fd, void *arg, int mask);

/** Timer callback: returns IST_LOOP_NOMORE or the delay in ms until the next call. */
typedef int(ist_loop_timer_fn)(struct ist_loop *lp, int64_t id, void *arg);

/** Called before the loop sleeps in epoll_wait(). */
typedef void(ist_loop_hook_fn)(struct ist_loop *lp, void *arg);

/** Create a loop; NULL with errno set on failure. */
struct ist_loop *ist_loop_create(void);

/** Destroy a loop. Registered fds are not closed: their owners close them. */
void ist_loop_destroy(struct ist_loop *lp);

/**
 * Watch @p fd for @p mask (IST_LOOP_READABLE and/or IST_LOOP_WRITABLE), adding
 * to what is already watched. As in ae.c, an fd has one callback per event
 * (set for the events in @p mask) and one @p arg (the last one given); a
 * callback registered for both is called once with both bits.
 * @return 0, -EINVAL (bad fd or mask), -ENOMEM, or -errno from epoll_ctl().
 */
int ist_loop_file_add(struct ist_loop *lp, int fd, int mask, ist_loop_file_fn *fn, void *arg);

/** Stop watching @p fd for @p mask; the fd is forgotten once no event is left. */
void ist_loop_file_del(struct ist_loop *lp, int fd, int mask);

/** The events currently watched on @p fd (0 when none). */
int ist_loop_file_mask(const struct ist_loop *lp, int fd);

/**
 * Call @p fn in @p ms milliseconds.
 * @return the timer id (> 0), or -ENOMEM.
 */
int64_t ist_loop_timer_add(struct ist_loop *lp, uint64_t ms, ist_loop_timer_fn *fn, void *arg);

/** Move timer @p id to fire @p ms milliseconds from now. @return 0 or -ENOENT. */
int ist_loop_timer_rearm(struct ist_loop *lp, int64_t id, uint64_t ms);

/**
 * Delete timer @p id. Safe from inside any callback, including the timer's own.
 * @return 0 or -ENOENT.
 */
int ist_loop_timer_del(struct ist_loop *lp, int64_t id);

/** Set the hook run before every sleep (NULL to clear). */
void ist_loop_set_before_sleep(struct ist_loop *lp, ist_loop_hook_fn *fn, void *arg);

/**
 * Run one iteration: wait up to @p max_wait_ms (-1: until the next timer or
 * forever) for file events, dispatch them, then due timers.
 * @return the number of events and timers handled, or -errno from epoll_wait().
 */
int ist_loop_run_once(struct ist_loop *lp, int max_wait_ms);

/** Run until ist_loop_stop(). @return 0, or -errno if epoll_wait() failed. */
int ist_loop_run(struct ist_loop *lp);

/** Make ist_loop_run() return after the current iteration. */
void ist_loop_stop(struct ist_loop *lp);

/** CLOCK_MONOTONIC in ms, as read at the start of the current iteration. */
uint64_t ist_loop_now_ms(const struct ist_loop *lp);

/** CLOCK_REALTIME in ms since the epoch, as read at the start of the current iteration. */
uint64_t ist_loop_wall_ms(const struct ist_loop *lp);

/** Re-read the clocks; for callers that did something slow between iterations. */
void ist_loop_update_time(struct ist_loop *lp);

#endif /* ISTHMUS_CONTROL_LOOP_H */
