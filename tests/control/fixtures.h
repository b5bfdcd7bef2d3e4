/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Shared test fixtures for tests/control: a known STATUS_RESP, a temporary
 * directory that is removed however the test ends, a bounded "run the loop
 * until" helper, and a fake data plane that speaks include/isthmus/ipc.h over
 * a real Unix socket from its own thread.
 */
#ifndef ISTHMUS_TESTS_CONTROL_FIXTURES_H
#define ISTHMUS_TESTS_CONTROL_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <isthmus/ipc.h>

#include "loop.h"

/* ---- the known snapshot ------------------------------------------------- */

#define FX_PID       4242u
#define FX_APPLIANCE "t-app"
#define FX_REGION    "t-reg"

/**
 * Write the known STATUS_RESP payload (2 lcores, 1 port) into @p buf.
 * @return its length (ist_ipc_status_size(2, 1)).
 */
size_t fx_status_payload(void *buf, size_t cap);

/* ---- temporary directory ------------------------------------------------ */

/** Create a fresh directory under /tmp; it and its files go at exit too. */
const char *fx_tmpdir(void);

/** "<tmpdir>/<name>" in a static buffer per call slot (0..3). */
const char *fx_path(unsigned int slot, const char *name);

/** Remove the directory and everything in it (idempotent). */
void fx_tmpdir_cleanup(void);

/* ---- loop helpers ------------------------------------------------------- */

typedef bool(fx_pred_fn)(void *arg);

/**
 * Run @p lp until @p pred is true or @p timeout_ms pass.
 * @return whether @p pred became true.
 */
bool fx_run_until(struct ist_loop *lp, fx_pred_fn *pred, void *arg, unsigned int timeout_ms);

/** Run @p lp for @p ms milliseconds. */
void fx_run_for(struct ist_loop *lp, unsigned int ms);

/** CLOCK_MONOTONIC in ms. */
uint64_t fx_now_ms(void);

/* ---- fake data plane ---------------------------------------------------- */

enum fx_reply_mode {
	FX_REPLY_OK = 0, /**< CMD_RESP status 0 */
	FX_REPLY_NONE,   /**< never answer commands (timeouts) */
	FX_REPLY_ENOENT, /**< IST_IPC_ERROR -ENOENT, like an unknown lcore */
};

struct fake_dp;

/** Listen on @p path and serve from a thread. NULL on failure. */
struct fake_dp *fake_dp_start(const char *path);

/** Stop the thread, close every socket, unlink the path (NULL is fine). */
void fake_dp_stop(struct fake_dp *f);

/** Close the current client connection (the listener stays). */
void fake_dp_kick(struct fake_dp *f);

/** Send @p len raw bytes to the current client. */
void fake_dp_send_raw(struct fake_dp *f, const void *buf, size_t len);

/** Send a framed message of @p type with @p payload to the current client. */
void fake_dp_send_msg(struct fake_dp *f, uint16_t type, uint32_t seq, const void *payload,
		      uint32_t len);

void fake_dp_set_reply_mode(struct fake_dp *f, enum fx_reply_mode mode);

struct fake_dp_stats {
	unsigned int accepts;
	unsigned int hellos;
	unsigned int status_reqs;
	unsigned int cmds;
	unsigned int errors_rx; /**< IST_IPC_ERROR messages control sent us */
	struct ist_ipc_lcore_cmd last_cmd;
	struct ist_ipc_hello last_hello;
	bool connected;
};

/** A consistent copy of the fake's counters. */
void fake_dp_stats(struct fake_dp *f, struct fake_dp_stats *out);

#endif /* ISTHMUS_TESTS_CONTROL_FIXTURES_H */
