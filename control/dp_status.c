/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_status.h"

static bool field_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static int reject(enum ist_ipc_reject r, enum ist_ipc_reject *why, char *err, size_t errlen,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int reject(enum ist_ipc_reject r, enum ist_ipc_reject *why, char *err, size_t errlen,
		  const char *fmt, ...)
{
	va_list ap;

	*why = r;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* Offsets of the arrays behind struct ist_dp_status in its single allocation;
 * every record size is a multiple of 8, so the arrays stay aligned. */
_Static_assert(sizeof(struct ist_ipc_lcore_status) % alignof(double) == 0, "lcore records align");
_Static_assert(sizeof(struct ist_ipc_port_status) % alignof(uint64_t) == 0, "port records align");
_Static_assert(sizeof(struct ist_dp_status) % alignof(uint64_t) == 0, "snapshot aligns");

int ist_dp_status_decode(const void *payload, size_t len, struct ist_dp_status **out,
			 enum ist_ipc_reject *why, char *err, size_t errlen)
{
	const unsigned char *p = payload;
	struct ist_ipc_status st;
	struct ist_dp_status *ds;
	size_t want, lc_bytes, port_bytes, st_bytes;
	unsigned int i, r;

	if (len < sizeof(st))
		return reject(IST_IPC_REJ_TRUNCATED, why, err, errlen,
			      "STATUS_RESP of %zu bytes is shorter than its %zu-byte header", len,
			      sizeof(st));
	memcpy(&st, p, sizeof(st));
	if (st.repl.n_streams > IST_IPC_MAX_STREAMS)
		return reject(IST_IPC_REJ_BAD_PAYLOAD, why, err, errlen,
			      "STATUS_RESP claims %u streams (at most %u)", st.repl.n_streams,
			      IST_IPC_MAX_STREAMS);
	want = ist_ipc_status_size_streams(st.n_lcores, st.n_ports, st.repl.n_streams);
	if (want > IST_IPC_MAX_PAYLOAD)
		return reject(IST_IPC_REJ_BAD_PAYLOAD, why, err, errlen,
			      "STATUS_RESP claims %u lcores and %u ports (%zu bytes), more than an "
			      "IPC payload can hold",
			      st.n_lcores, st.n_ports, want);
	if (len < want)
		return reject(IST_IPC_REJ_TRUNCATED, why, err, errlen,
			      "STATUS_RESP of %zu bytes is too short for %u lcores and %u ports "
			      "(%zu bytes)",
			      len, st.n_lcores, st.n_ports, want);
	if (len > want)
		return reject(IST_IPC_REJ_OVERSIZED, why, err, errlen,
			      "STATUS_RESP of %zu bytes is longer than %u lcores and %u ports need "
			      "(%zu bytes)",
			      len, st.n_lcores, st.n_ports, want);
	if (!field_terminated(st.appliance, sizeof(st.appliance)) ||
	    !field_terminated(st.region, sizeof(st.region)))
		return reject(IST_IPC_REJ_BAD_PAYLOAD, why, err, errlen,
			      "STATUS_RESP appliance or region is not NUL-terminated");

	lc_bytes = (size_t)st.n_lcores * sizeof(struct ist_ipc_lcore_status);
	port_bytes = (size_t)st.n_ports * sizeof(struct ist_ipc_port_status);
	st_bytes = (size_t)st.repl.n_streams * sizeof(struct ist_ipc_stream_status);
	ds = malloc(sizeof(*ds) + lc_bytes + port_bytes + st_bytes + st.n_lcores * sizeof(double));
	if (ds == NULL)
		return -ENOMEM;
	ds->st = st;
	ds->lcores = (struct ist_ipc_lcore_status *)(ds + 1);
	ds->ports = (struct ist_ipc_port_status *)((char *)ds->lcores + lc_bytes);
	ds->streams = (struct ist_ipc_stream_status *)((char *)ds->ports + port_bytes);
	ds->busy_pct = (double *)((char *)ds->streams + st_bytes);
	ds->rx_ms = 0;
	memcpy(ds->lcores, p + sizeof(st), lc_bytes);
	memcpy(ds->ports, p + sizeof(st) + lc_bytes, port_bytes);
	memcpy(ds->streams, p + sizeof(st) + lc_bytes + port_bytes, st_bytes);
	for (i = 0; i < st.repl.n_streams; i++) {
		struct ist_ipc_stream_status *ss = &ds->streams[i];

		/* Names come from the wire: make them strings whatever was sent. */
		ss->topic[sizeof(ss->topic) - 1] = '\0';
		ss->peer_topic[sizeof(ss->peer_topic) - 1] = '\0';
		ss->reason[sizeof(ss->reason) - 1] = '\0';
	}

	for (i = 0; i < st.n_lcores; i++) {
		struct ist_ipc_lcore_status *lc = &ds->lcores[i];
		uint32_t id = lc->lcore_id;

		ds->busy_pct[i] = 0.0;
		if (lc->n_roles > IST_IPC_MAX_ROLES) {
			unsigned int n = lc->n_roles;

			ist_dp_status_free(ds);
			return reject(IST_IPC_REJ_BAD_PAYLOAD, why, err, errlen,
				      "STATUS_RESP lcore %" PRIu32 " claims %u roles (at most %u)",
				      id, n, IST_IPC_MAX_ROLES);
		}
		for (r = 0; r < lc->n_roles; r++) {
			if (!field_terminated(lc->roles[r].name, sizeof(lc->roles[r].name))) {
				ist_dp_status_free(ds);
				return reject(IST_IPC_REJ_BAD_PAYLOAD, why, err, errlen,
					      "STATUS_RESP lcore %" PRIu32
					      " role %u name is not NUL-terminated",
					      id, r);
			}
		}
		/* Unused role slots are not ours to trust; blank them. */
		memset(&lc->roles[lc->n_roles], 0,
		       (IST_IPC_MAX_ROLES - lc->n_roles) * sizeof(lc->roles[0]));
	}
	for (i = 0; i < st.n_ports; i++) {
		const struct ist_ipc_port_status *ps = &ds->ports[i];

		if (!field_terminated(ps->name, sizeof(ps->name)) ||
		    !field_terminated(ps->driver, sizeof(ps->driver))) {
			ist_dp_status_free(ds);
			return reject(IST_IPC_REJ_BAD_PAYLOAD, why, err, errlen,
				      "STATUS_RESP port %u name or driver is not NUL-terminated",
				      i);
		}
	}
	*out = ds;
	return 0;
}

void ist_dp_status_free(struct ist_dp_status *ds)
{
	free(ds);
}

void ist_dp_status_busy(struct ist_dp_status *cur, const struct ist_dp_status *prev)
{
	bool same_process = prev != NULL && prev->st.pid == cur->st.pid &&
			    prev->st.n_lcores == cur->st.n_lcores &&
			    prev->st.uptime_ms <= cur->st.uptime_ms;
	unsigned int i;

	for (i = 0; i < cur->st.n_lcores; i++) {
		const struct ist_ipc_lcore_status *lc = &cur->lcores[i];
		uint64_t loops = lc->loops, busy = lc->busy_loops;

		if (same_process) {
			const struct ist_ipc_lcore_status *old = &prev->lcores[i];

			if (old->lcore_id == lc->lcore_id && old->loops < lc->loops &&
			    old->busy_loops <= lc->busy_loops) {
				loops = lc->loops - old->loops;
				busy = lc->busy_loops - old->busy_loops;
			}
		}
		if (busy > loops)
			busy = loops;
		cur->busy_pct[i] = loops == 0 ? 0.0 : (double)busy * 100.0 / (double)loops;
	}
}

int ist_dp_hello_decode(const void *payload, size_t len, struct ist_ipc_hello *out,
			enum ist_ipc_reject *why, char *err, size_t errlen)
{
	if (len != sizeof(*out))
		return reject(len < sizeof(*out) ? IST_IPC_REJ_TRUNCATED : IST_IPC_REJ_OVERSIZED,
			      why, err, errlen, "HELLO of %zu bytes, expected %zu", len,
			      sizeof(*out));
	memcpy(out, payload, sizeof(*out));
	if (!field_terminated(out->who, sizeof(out->who)) ||
	    !field_terminated(out->appliance, sizeof(out->appliance)) ||
	    !field_terminated(out->region, sizeof(out->region)))
		return reject(IST_IPC_REJ_BAD_PAYLOAD, why, err, errlen,
			      "HELLO has a string that is not NUL-terminated");
	return 0;
}

int ist_dp_cmd_resp_decode(const void *payload, size_t len, struct ist_ipc_cmd_resp *out,
			   enum ist_ipc_reject *why, char *err, size_t errlen)
{
	if (len != sizeof(*out))
		return reject(len < sizeof(*out) ? IST_IPC_REJ_TRUNCATED : IST_IPC_REJ_OVERSIZED,
			      why, err, errlen, "command response of %zu bytes, expected %zu", len,
			      sizeof(*out));
	memcpy(out, payload, sizeof(*out));
	if (!field_terminated(out->message, sizeof(out->message)))
		return reject(IST_IPC_REJ_BAD_PAYLOAD, why, err, errlen,
			      "command response message is not NUL-terminated");
	return 0;
}
