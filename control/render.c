/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON through jansson; Prometheus text written by hand into an
 * open_memstream() buffer, because the format is a few printf lines per
 * sample and no Debian-packaged C client library renders from a snapshot
 * without keeping its own registry of live metrics.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "render.h"

json_t *ist_render_str(const char *s)
{
	json_t *j = json_string(s);
	char *copy, *p;

	if (j != NULL || s == NULL)
		return j;
	copy = strdup(s);
	if (copy == NULL)
		return NULL;
	for (p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *json_u64(uint64_t v)
{
	/* JSON integers are int64 in jansson; counters never get near 2^63. */
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *json_pct(double pct)
{
	return json_real(round(pct * 10.0) / 10.0);
}

static json_t *render_lcore(const struct ist_ipc_lcore_status *lc, double busy_pct)
{
	json_t *roles = json_array();
	unsigned int r;

	for (r = 0; r < lc->n_roles && r < IST_IPC_MAX_ROLES; r++)
		json_array_append_new(roles, json_pack("{s:o, s:o, s:o, s:o}", "name",
						       ist_render_str(lc->roles[r].name), "polls",
						       json_u64(lc->roles[r].polls), "work",
						       json_u64(lc->roles[r].work), "cycles",
						       json_u64(lc->roles[r].cycles)));
	return json_pack("{s:I, s:I, s:b, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
			 (json_int_t)lc->lcore_id, "cpu", (json_int_t)lc->cpu, "paused",
			 lc->paused != 0, "idle_sleep_us", (json_int_t)lc->idle_sleep_us, "loops",
			 json_u64(lc->loops), "busy_loops", json_u64(lc->busy_loops), "idle_sleeps",
			 json_u64(lc->idle_sleeps), "cmds_applied", json_u64(lc->cmds_applied),
			 "busy_pct", json_pct(busy_pct), "roles", roles);
}

static json_t *render_port(const struct ist_ipc_port_status *ps)
{
	json_t *counters =
		json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "ipackets",
			  json_u64(ps->ipackets), "opackets", json_u64(ps->opackets), "ibytes",
			  json_u64(ps->ibytes), "obytes", json_u64(ps->obytes), "imissed",
			  json_u64(ps->imissed), "ierrors", json_u64(ps->ierrors), "oerrors",
			  json_u64(ps->oerrors), "rx_nombuf", json_u64(ps->rx_nombuf));

	return json_pack("{s:o, s:o, s:I, s:b, s:b, s:I, s:I, s:I, s:o}", "name",
			 ist_render_str(ps->name), "driver", ist_render_str(ps->driver), "port_id",
			 (json_int_t)ps->port_id, "started", ps->started != 0, "link_up",
			 ps->link_up != 0, "restarts", (json_int_t)ps->restarts, "speed_mbps",
			 (json_int_t)ps->link_speed_mbps, "mtu", (json_int_t)ps->mtu, "counters",
			 counters);
}

static json_t *render_stream(const struct ist_ipc_stream_status *ss)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(ss->id));
	json_object_set_new(o, "side", json_string(ss->side ? "sink" : "source"));
	json_object_set_new(o, "state", json_string(ist_ipc_stream_state_name(ss->state)));
	json_object_set_new(o, "topic", ist_render_str(ss->topic));
	json_object_set_new(o, "peer_topic", ist_render_str(ss->peer_topic));
	json_object_set_new(o, "partition", json_integer(ss->partition));
	json_object_set_new(o, "position", json_integer(ss->position));
	if (ss->side) {
		json_object_set_new(o, "durable", json_integer(ss->durable));
		json_object_set_new(o, "unchained_frames", json_u64(ss->unchained));
		json_object_set_new(o, "errors", json_u64(ss->errors));
		json_object_set_new(o, "repairs", json_u64(ss->retries));
	} else {
		json_object_set_new(o, "high_watermark", json_integer(ss->high));
		/* Records behind: what the source has that this side has not read yet. */
		json_object_set_new(
			o, "lag_records",
			json_integer(ss->high >= 0 && ss->position >= 0 && ss->high > ss->position
					     ? ss->high - ss->position
					     : 0));
		json_object_set_new(o, "bytes_out", json_u64(ss->bytes_out));
		json_object_set_new(o, "dropped_by_rules", json_u64(ss->dropped));
		json_object_set_new(o, "gaps", json_u64(ss->gaps));
		json_object_set_new(o, "gap_offsets_lost", json_u64(ss->gap_lost));
	}
	json_object_set_new(o, "records", json_u64(ss->records));
	json_object_set_new(o, "bytes", json_u64(ss->bytes));
	json_object_set_new(o, "frames", json_u64(ss->frames));
	json_object_set_new(o, "reason", ist_render_str(ss->reason));
	return o;
}

static json_t *render_repl(const struct ist_dp_status *ds)
{
	const struct ist_ipc_repl_status *r = &ds->st.repl;
	json_t *o, *streams;

	if (!r->source && !r->sink)
		return json_null();
	o = json_object();
	streams = json_array();
	json_object_set_new(o, "source", json_boolean(r->source));
	json_object_set_new(o, "sink", json_boolean(r->sink));
	json_object_set_new(o, "source_records", json_u64(r->src_records));
	json_object_set_new(o, "source_bytes", json_u64(r->src_bytes));
	json_object_set_new(o, "source_bytes_out", json_u64(r->src_bytes_out));
	json_object_set_new(
		o, "compression_ratio",
		json_real(r->src_bytes_out ? (double)r->src_bytes / r->src_bytes_out : 0.0));
	json_object_set_new(o, "dictionaries_in_use", json_integer(r->dicts));
	json_object_set_new(o, "gaps", json_u64(r->src_gaps));
	json_object_set_new(o, "dropped_by_rules", json_u64(r->src_dropped));
	json_object_set_new(o, "sink_records", json_u64(r->sink_records));
	json_object_set_new(o, "sink_bytes", json_u64(r->sink_bytes));
	json_object_set_new(o, "sink_unchained_frames", json_u64(r->sink_unchained));
	json_object_set_new(o, "sink_errors", json_u64(r->sink_errors));
	json_object_set_new(o, "sink_failed_streams", json_u64(r->sink_failed));
	json_object_set_new(o, "catalog_bad", json_u64(r->catalog_bad));
	json_object_set_new(o, "rules_reloads", json_u64(r->rules_reloads));
	json_object_set_new(o, "rules_reload_failed", json_u64(r->rules_reload_failed));
	for (unsigned int i = 0; i < r->n_streams; i++)
		json_array_append_new(streams, render_stream(&ds->streams[i]));
	json_object_set_new(o, "streams", streams);
	return o;
}

static json_t *render_link(const struct ist_ipc_link_status *l)
{
	static const char *const states[] = {"down", "hello", "established"};
	uint64_t sent = l->tx_data + l->tx_retx;
	json_t *drops = json_object();
	json_t *o;

	if (!l->present)
		return json_null();
	for (unsigned int i = 1; i < IST_IPC_LINK_DROPS; i++)
		if (l->rx_drop[i] != 0)
			json_object_set_new(drops, ist_ipc_link_drop_name(i),
					    json_u64(l->rx_drop[i]));
	o = json_pack("{s:s, s:b, s:I, s:o, s:o, s:o}", "state",
		      l->state < 3 ? states[l->state] : "unknown", "authenticated", l->keyed != 0,
		      "capacity_mbps", (json_int_t)l->capacity_mbps, "srtt_us",
		      json_u64(l->srtt_us), "rto_us", json_u64(l->rto_us), "inflight",
		      json_u64(l->inflight));
	json_object_set_new(o, "tx_mbps", json_real((double)l->tx_kbps / 1000.0));
	json_object_set_new(o, "goodput_mbps", json_real((double)l->goodput_kbps / 1000.0));
	/* Retransmitted share of what was sent: the loss the link saw, as the sender sees it. */
	json_object_set_new(o, "loss_pct",
			    json_real(sent ? 100.0 * (double)l->tx_retx / (double)sent : 0.0));
	json_object_set_new(o, "tx",
			    json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "data",
				      json_u64(l->tx_data), "retransmits", json_u64(l->tx_retx),
				      "acks", json_u64(l->tx_ack), "credits",
				      json_u64(l->tx_credit), "hellos", json_u64(l->tx_hello),
				      "heartbeats", json_u64(l->tx_hb), "failed",
				      json_u64(l->tx_fail), "bytes", json_u64(l->tx_bytes)));
	json_object_set_new(
		o, "rx",
		json_pack("{s:o, s:o, s:o, s:o, s:o}", "packets", json_u64(l->rx_pkts), "bytes",
			  json_u64(l->rx_bytes), "duplicates", json_u64(l->rx_dup), "stale_epoch",
			  json_u64(l->rx_stale_epoch), "foreign", json_u64(l->rx_foreign)));
	json_object_set_new(o, "dropped", drops);
	json_object_set_new(o, "frames",
			    json_pack("{s:o, s:o, s:o, s:o, s:o}", "sent", json_u64(l->frames_sent),
				      "ok", json_u64(l->frames_ok), "bad", json_u64(l->frames_bad),
				      "out_of_order", json_u64(l->frames_out_of_order),
				      "bytes_delivered", json_u64(l->bytes_delivered)));
	json_object_set_new(o, "peer_restarts", json_u64(l->peer_restarts));
	json_object_set_new(o, "peer_deaths", json_u64(l->peer_deaths));
	return o;
}

static json_t *render_reasons(const uint64_t *counts)
{
	json_t *o = json_object();
	unsigned int r;

	for (r = 0; r < IST_IPC_REJ_MAX; r++)
		json_object_set_new(o, ist_ipc_reject_name(r), json_u64(counts[r]));
	return o;
}

static json_t *render_dataplane(const struct ist_ctl_view *v)
{
	const struct ist_dp_client_state *dp = v->dp;
	const struct ist_dp_status *ds = dp->status;
	json_t *o, *lcores = json_array(), *ports = json_array();
	char since[40], state[IST_DP_ERR_LEN + 80];
	unsigned int i;

	o = json_pack("{s:s, s:b, s:s, s:o}", "socket", v->dp_socket ? v->dp_socket : "",
		      "connected", dp->connected, "since",
		      ist_ctl_time_iso(dp->since_wall_ms, since, sizeof(since)), "since_unix_ms",
		      json_u64(dp->since_wall_ms));
	if (o == NULL)
		return NULL;
	/* The one-line summary an operator greps for. */
	if (dp->connected)
		snprintf(state, sizeof(state), "connected since %s", since);
	else
		snprintf(state, sizeof(state), "disconnected since %s (%s)", since,
			 dp->last_error[0] ? dp->last_error : "not connected yet");
	json_object_set_new(o, "state", ist_render_str(state));
	json_object_set_new(o, "last_error",
			    dp->connected || dp->last_error[0] == '\0'
				    ? json_null()
				    : ist_render_str(dp->last_error));
	json_object_set_new(o, "last_update_ms_ago",
			    ds ? json_u64(v->now_ms >= ds->rx_ms ? v->now_ms - ds->rx_ms : 0)
			       : json_null());
	json_object_set_new(o, "pid", dp->connected ? json_integer(dp->hello.pid) : json_null());
	json_object_set_new(o, "uptime_ms", ds ? json_u64(ds->st.uptime_ms) : json_null());
	json_object_set_new(o, "tsc_hz", ds ? json_u64(ds->st.tsc_hz) : json_null());
	for (i = 0; ds != NULL && i < ds->st.n_lcores; i++)
		json_array_append_new(lcores, render_lcore(&ds->lcores[i], ds->busy_pct[i]));
	for (i = 0; ds != NULL && i < ds->st.n_ports; i++)
		json_array_append_new(ports, render_port(&ds->ports[i]));
	json_object_set_new(o, "lcores", lcores);
	json_object_set_new(o, "ports", ports);
	json_object_set_new(o, "link", ds ? render_link(&ds->st.link) : json_null());
	json_object_set_new(o, "replication", ds ? render_repl(ds) : json_null());
	json_object_set_new(o, "ipc_rx_msgs", ds ? json_u64(ds->st.ipc_rx_msgs) : json_null());
	json_object_set_new(o, "ipc_rejected",
			    ds ? render_reasons(ds->st.ipc_rejected) : json_object());
	json_object_set_new(o, "control_rejected", render_reasons(dp->rx_rejected));
	json_object_set_new(o, "connects", json_u64(dp->connects));
	return o;
}

static json_t *render_kafka(const struct ist_ctl_view *v)
{
	json_t *a = json_array();
	unsigned int i;

	for (i = 0; i < v->n_kafka; i++) {
		const struct ist_kafka_cluster_state *k = &v->kafka[i];
		json_t *age = k->last_ok_ms == 0 ? json_null()
						 : json_u64(v->now_ms >= k->last_ok_ms
								    ? v->now_ms - k->last_ok_ms
								    : 0);

		json_array_append_new(
			a, json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:o, s:o}", "name", k->name,
				     "bootstrap", k->bootstrap, "checked", k->checked, "reachable",
				     k->reachable, "brokers", (json_int_t)k->brokers, "topics",
				     (json_int_t)k->topics, "error",
				     k->error[0] ? ist_render_str(k->error) : json_null(), "age_ms",
				     age));
	}
	return a;
}

json_t *ist_render_status(const struct ist_ctl_view *v)
{
	json_t *doc;

	doc = json_pack("{s:{s:o, s:o}, s:{s:s, s:I, s:o}}", "appliance", "id",
			ist_render_str(v->appliance), "region", ist_render_str(v->region),
			"control", "version", v->version, "pid", (json_int_t)v->control_pid,
			"uptime_ms", json_u64(v->control_uptime_ms));
	if (doc == NULL)
		return NULL;
	json_object_set_new(doc, "dataplane", render_dataplane(v));
	json_object_set_new(doc, "kafka", render_kafka(v));
	return doc;
}

/* ---- Prometheus text ---------------------------------------------------- */

void ist_render_prom_label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x80)
			fputc('?', f);
		else
			fputc(*s, f);
	}
}

static void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Start a sample line: name{appliance="..." — the caller adds labels and ends it. */
static void prom_start(FILE *f, const struct ist_ctl_view *v, const char *name)
{
	fprintf(f, "%s{appliance=\"", name);
	ist_render_prom_label(f, v->appliance);
	fputc('"', f);
}

static void prom_label(FILE *f, const char *key, const char *val)
{
	fprintf(f, ",%s=\"", key);
	ist_render_prom_label(f, val);
	fputc('"', f);
}

static void prom_u64(FILE *f, uint64_t val)
{
	fprintf(f, "} %" PRIu64 "\n", val);
}

/* Milliseconds as seconds, exactly (no floating point rounding). */
static void prom_ms_as_s(FILE *f, uint64_t ms)
{
	fprintf(f, "} %" PRIu64 ".%03u\n", ms / 1000u, (unsigned int)(ms % 1000u));
}

static void prom_simple_u64(FILE *f, const struct ist_ctl_view *v, const char *name,
			    const char *type, const char *help, uint64_t val)
{
	prom_family(f, name, type, help);
	prom_start(f, v, name);
	prom_u64(f, val);
}

enum lcore_field {
	LC_PAUSED,
	LC_IDLE_SLEEP,
	LC_LOOPS,
	LC_BUSY_LOOPS,
	LC_IDLE_SLEEPS,
	LC_CMDS,
	LC_BUSY_RATIO,
};

static const struct {
	const char *name, *type, *help;
} lcore_families[] = {
	[LC_PAUSED] = {"isthmus_lcore_paused", "gauge",
		       "1 when the lcore is paused by an operator command."},
	[LC_IDLE_SLEEP] = {"isthmus_lcore_idle_sleep_seconds", "gauge",
			   "Longest sleep of an idle lcore (0: busy-poll)."},
	[LC_LOOPS] = {"isthmus_lcore_loops_total", "counter", "Polling loops run by the lcore."},
	[LC_BUSY_LOOPS] = {"isthmus_lcore_busy_loops_total", "counter",
			   "Polling loops in which some role did work."},
	[LC_IDLE_SLEEPS] = {"isthmus_lcore_idle_sleeps_total", "counter",
			    "Times the idle lcore slept."},
	[LC_CMDS] = {"isthmus_lcore_commands_applied_total", "counter",
		     "Control commands the lcore applied."},
	[LC_BUSY_RATIO] = {"isthmus_lcore_busy_ratio", "gauge",
			   "Share of loops that did work over the last status interval."},
};

static void prom_lcores(FILE *f, const struct ist_ctl_view *v, const struct ist_dp_status *ds)
{
	unsigned int fam, i;
	char id[16];

	for (fam = 0; fam < sizeof(lcore_families) / sizeof(lcore_families[0]); fam++) {
		prom_family(f, lcore_families[fam].name, lcore_families[fam].type,
			    lcore_families[fam].help);
		for (i = 0; i < ds->st.n_lcores; i++) {
			const struct ist_ipc_lcore_status *lc = &ds->lcores[i];

			snprintf(id, sizeof(id), "%" PRIu32, lc->lcore_id);
			prom_start(f, v, lcore_families[fam].name);
			prom_label(f, "lcore", id);
			switch ((enum lcore_field)fam) {
			case LC_PAUSED:
				prom_u64(f, lc->paused != 0);
				break;
			case LC_IDLE_SLEEP:
				fprintf(f, "} %" PRIu32 ".%06" PRIu32 "\n",
					lc->idle_sleep_us / 1000000u, lc->idle_sleep_us % 1000000u);
				break;
			case LC_LOOPS:
				prom_u64(f, lc->loops);
				break;
			case LC_BUSY_LOOPS:
				prom_u64(f, lc->busy_loops);
				break;
			case LC_IDLE_SLEEPS:
				prom_u64(f, lc->idle_sleeps);
				break;
			case LC_CMDS:
				prom_u64(f, lc->cmds_applied);
				break;
			case LC_BUSY_RATIO:
				fprintf(f, "} %.4f\n", ds->busy_pct[i] / 100.0);
				break;
			}
		}
	}
}

static void prom_roles(FILE *f, const struct ist_ctl_view *v, const struct ist_dp_status *ds)
{
	static const struct {
		const char *name, *help;
	} fams[] = {
		{"isthmus_role_polls_total", "poll() calls of the role."},
		{"isthmus_role_work_total", "Units of work (packets, records) the role reported."},
		{"isthmus_role_cycles_total", "TSC cycles spent inside the role's poll()."},
	};
	unsigned int fam, i, r;
	char id[16];

	for (fam = 0; fam < sizeof(fams) / sizeof(fams[0]); fam++) {
		prom_family(f, fams[fam].name, "counter", fams[fam].help);
		for (i = 0; i < ds->st.n_lcores; i++) {
			const struct ist_ipc_lcore_status *lc = &ds->lcores[i];

			snprintf(id, sizeof(id), "%" PRIu32, lc->lcore_id);
			for (r = 0; r < lc->n_roles && r < IST_IPC_MAX_ROLES; r++) {
				const struct ist_ipc_role_status *rs = &lc->roles[r];

				prom_start(f, v, fams[fam].name);
				prom_label(f, "lcore", id);
				prom_label(f, "role", rs->name);
				prom_u64(f, fam == 0   ? rs->polls
					    : fam == 1 ? rs->work
						       : rs->cycles);
			}
		}
	}
}

static void prom_ports(FILE *f, const struct ist_ctl_view *v, const struct ist_dp_status *ds)
{
#define PORT_FIELD(fld, name, type, help)                                   \
	{                                                                   \
		offsetof(struct ist_ipc_port_status, fld), name, type, help \
	}
	static const struct {
		size_t off;
		const char *name, *type, *help;
	} fams[] = {
		PORT_FIELD(ipackets, "isthmus_port_rx_packets_total", "counter",
			   "Packets received."),
		PORT_FIELD(opackets, "isthmus_port_tx_packets_total", "counter", "Packets sent."),
		PORT_FIELD(ibytes, "isthmus_port_rx_bytes_total", "counter", "Bytes received."),
		PORT_FIELD(obytes, "isthmus_port_tx_bytes_total", "counter", "Bytes sent."),
		PORT_FIELD(imissed, "isthmus_port_rx_missed_total", "counter",
			   "Packets dropped by the NIC because the RX queues were full."),
		PORT_FIELD(ierrors, "isthmus_port_rx_errors_total", "counter",
			   "Erroneous packets received."),
		PORT_FIELD(oerrors, "isthmus_port_tx_errors_total", "counter",
			   "Packets that failed to be sent."),
		PORT_FIELD(rx_nombuf, "isthmus_port_rx_nombuf_total", "counter",
			   "RX mbuf allocation failures."),
	};
#undef PORT_FIELD
	unsigned int fam, i;

	prom_family(f, "isthmus_port_link_up", "gauge", "1 when the port's link is up.");
	for (i = 0; i < ds->st.n_ports; i++) {
		prom_start(f, v, "isthmus_port_link_up");
		prom_label(f, "port", ds->ports[i].name);
		prom_u64(f, ds->ports[i].link_up != 0);
	}
	prom_family(f, "isthmus_port_restarts_total", "counter",
		    "Times the data plane restarted the port to reconnect to its peer.");
	for (i = 0; i < ds->st.n_ports; i++) {
		prom_start(f, v, "isthmus_port_restarts_total");
		prom_label(f, "port", ds->ports[i].name);
		prom_u64(f, ds->ports[i].restarts);
	}
	prom_family(f, "isthmus_port_link_speed_mbps", "gauge", "Link speed in Mbit/s.");
	for (i = 0; i < ds->st.n_ports; i++) {
		prom_start(f, v, "isthmus_port_link_speed_mbps");
		prom_label(f, "port", ds->ports[i].name);
		prom_u64(f, ds->ports[i].link_speed_mbps);
	}
	prom_family(f, "isthmus_port_mtu_bytes", "gauge", "Port MTU.");
	for (i = 0; i < ds->st.n_ports; i++) {
		prom_start(f, v, "isthmus_port_mtu_bytes");
		prom_label(f, "port", ds->ports[i].name);
		prom_u64(f, ds->ports[i].mtu);
	}
	for (fam = 0; fam < sizeof(fams) / sizeof(fams[0]); fam++) {
		prom_family(f, fams[fam].name, fams[fam].type, fams[fam].help);
		for (i = 0; i < ds->st.n_ports; i++) {
			uint64_t val;

			memcpy(&val, (const char *)&ds->ports[i] + fams[fam].off, sizeof(val));
			prom_start(f, v, fams[fam].name);
			prom_label(f, "port", ds->ports[i].name);
			prom_u64(f, val);
		}
	}
}

static void prom_streams(FILE *f, const struct ist_ctl_view *v, const struct ist_dp_status *ds)
{
	static const struct {
		size_t off;
		const char *name, *type, *help;
	} fams[] = {
#define ST_FIELD(field, name, type, help) \
	{offsetof(struct ist_ipc_stream_status, field), name, type, help}
		ST_FIELD(records, "isthmus_stream_records_total", "counter",
			 "Records read (source) or written (sink)."),
		ST_FIELD(bytes, "isthmus_stream_bytes_total", "counter",
			 "Key and value bytes of those records."),
		ST_FIELD(frames, "isthmus_stream_frames_total", "counter",
			 "Frames cut or accepted."),
		ST_FIELD(gaps, "isthmus_stream_gaps_total", "counter",
			 "Gap alarms: the source no longer held the resume offset."),
		ST_FIELD(gap_lost, "isthmus_stream_gap_offsets_lost_total", "counter",
			 "Offsets lost in those gaps."),
		ST_FIELD(errors, "isthmus_stream_errors_total", "counter",
			 "Undecodable frames and refused records."),
		ST_FIELD(unchained, "isthmus_stream_unchained_frames_total", "counter",
			 "Frames cut for another position, dropped (after a restart)."),
#undef ST_FIELD
	};
	const struct ist_ipc_repl_status *r = &ds->st.repl;

	for (unsigned int fam = 0; fam < sizeof(fams) / sizeof(fams[0]); fam++) {
		prom_family(f, fams[fam].name, fams[fam].type, fams[fam].help);
		for (unsigned int i = 0; i < r->n_streams; i++) {
			const struct ist_ipc_stream_status *ss = &ds->streams[i];
			uint64_t val;
			char part[16];

			memcpy(&val, (const char *)ss + fams[fam].off, sizeof(val));
			snprintf(part, sizeof(part), "%d", ss->partition);
			prom_start(f, v, fams[fam].name);
			prom_label(f, "side", ss->side ? "sink" : "source");
			prom_label(f, "topic", ss->topic);
			prom_label(f, "partition", part);
			prom_u64(f, val);
		}
	}
	prom_family(f, "isthmus_stream_running", "gauge", "1 when the stream is running.");
	for (unsigned int i = 0; i < r->n_streams; i++) {
		const struct ist_ipc_stream_status *ss = &ds->streams[i];
		char part[16];

		snprintf(part, sizeof(part), "%d", ss->partition);
		prom_start(f, v, "isthmus_stream_running");
		prom_label(f, "side", ss->side ? "sink" : "source");
		prom_label(f, "topic", ss->topic);
		prom_label(f, "partition", part);
		prom_u64(f, ss->state == IST_STREAM_RUNNING);
	}
}

static void prom_link(FILE *f, const struct ist_ctl_view *v, const struct ist_ipc_link_status *l)
{
	static const struct {
		size_t off;
		const char *name, *type, *help;
	} fams[] = {
#define LINK_FIELD(field, name, type, help) \
	{offsetof(struct ist_ipc_link_status, field), name, type, help}
		LINK_FIELD(srtt_us, "isthmus_link_srtt_microseconds", "gauge", "Smoothed RTT."),
		LINK_FIELD(rto_us, "isthmus_link_rto_microseconds", "gauge",
			   "Retransmission timeout."),
		LINK_FIELD(inflight, "isthmus_link_inflight_packets", "gauge",
			   "DATA not yet acknowledged."),
		LINK_FIELD(tx_data, "isthmus_link_tx_data_packets_total", "counter",
			   "DATA packets sent first time."),
		LINK_FIELD(tx_retx, "isthmus_link_retransmits_total", "counter",
			   "DATA packets sent again."),
		LINK_FIELD(tx_bytes, "isthmus_link_tx_bytes_total", "counter",
			   "Bytes sent on the link port."),
		LINK_FIELD(tx_fail, "isthmus_link_tx_failed_total", "counter",
			   "Packets the port refused."),
		LINK_FIELD(rx_pkts, "isthmus_link_rx_packets_total", "counter",
			   "Packets received."),
		LINK_FIELD(rx_dup, "isthmus_link_rx_duplicates_total", "counter",
			   "Duplicate packets dropped."),
		LINK_FIELD(frames_sent, "isthmus_link_frames_sent_total", "counter",
			   "Frames sent."),
		LINK_FIELD(frames_ok, "isthmus_link_frames_delivered_total", "counter",
			   "Frames released in order."),
		LINK_FIELD(frames_bad, "isthmus_link_frames_bad_total", "counter",
			   "Frames that failed verification."),
		LINK_FIELD(bytes_delivered, "isthmus_link_delivered_bytes_total", "counter",
			   "Frame bytes released in order."),
		LINK_FIELD(goodput_kbps, "isthmus_link_goodput_kbps", "gauge",
			   "Frame bytes delivered per second, in kbit/s."),
		LINK_FIELD(peer_restarts, "isthmus_link_peer_restarts_total", "counter",
			   "Peer restarts seen (new epochs)."),
#undef LINK_FIELD
	};

	if (!l->present)
		return;
	prom_simple_u64(f, v, "isthmus_link_established", "gauge",
			"1 when the link session is established.", l->state == 2);
	for (unsigned int i = 0; i < sizeof(fams) / sizeof(fams[0]); i++)
		prom_simple_u64(f, v, fams[i].name, fams[i].type, fams[i].help,
				*(const uint64_t *)((const uint8_t *)l + fams[i].off));
	prom_family(f, "isthmus_link_rx_dropped_total", "counter",
		    "Link packets dropped on receipt, by reason.");
	for (unsigned int i = 1; i < IST_IPC_LINK_DROPS; i++) {
		prom_start(f, v, "isthmus_link_rx_dropped_total");
		prom_label(f, "reason", ist_ipc_link_drop_name(i));
		prom_u64(f, l->rx_drop[i]);
	}
}

static void prom_reasons(FILE *f, const struct ist_ctl_view *v, const char *name, const char *help,
			 const uint64_t *counts)
{
	unsigned int r;

	prom_family(f, name, "counter", help);
	for (r = 0; r < IST_IPC_REJ_MAX; r++) {
		prom_start(f, v, name);
		prom_label(f, "reason", ist_ipc_reject_name(r));
		prom_u64(f, counts[r]);
	}
}

static void prom_kafka(FILE *f, const struct ist_ctl_view *v)
{
	unsigned int i, fam;
	static const struct {
		const char *name, *help;
	} fams[] = {
		{"isthmus_kafka_up", "1 when the last metadata request to the cluster succeeded."},
		{"isthmus_kafka_brokers", "Brokers in the cluster's last metadata."},
		{"isthmus_kafka_topics", "Topics in the cluster's last metadata."},
	};

	for (fam = 0; fam < sizeof(fams) / sizeof(fams[0]); fam++) {
		prom_family(f, fams[fam].name, "gauge", fams[fam].help);
		for (i = 0; i < v->n_kafka; i++) {
			const struct ist_kafka_cluster_state *k = &v->kafka[i];

			prom_start(f, v, fams[fam].name);
			prom_label(f, "cluster", k->name);
			prom_u64(f, fam == 0 ? k->reachable : fam == 1 ? k->brokers : k->topics);
		}
	}
	prom_family(f, "isthmus_kafka_metadata_age_seconds", "gauge",
		    "Time since the cluster's last successful metadata request.");
	for (i = 0; i < v->n_kafka; i++) {
		const struct ist_kafka_cluster_state *k = &v->kafka[i];

		if (k->last_ok_ms == 0)
			continue;
		prom_start(f, v, "isthmus_kafka_metadata_age_seconds");
		prom_label(f, "cluster", k->name);
		prom_ms_as_s(f, v->now_ms >= k->last_ok_ms ? v->now_ms - k->last_ok_ms : 0);
	}
}

int ist_render_metrics(const struct ist_ctl_view *v, char **out, size_t *outlen)
{
	const struct ist_dp_status *ds = v->dp->status;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return -ENOMEM;

	prom_family(f, "isthmus_info", "gauge", "Appliance identity; always 1.");
	prom_start(f, v, "isthmus_info");
	prom_label(f, "region", v->region);
	prom_label(f, "version", v->version);
	prom_u64(f, 1);
	prom_family(f, "isthmus_control_uptime_seconds", "gauge",
		    "Time since isthmus-control started.");
	prom_start(f, v, "isthmus_control_uptime_seconds");
	prom_ms_as_s(f, v->control_uptime_ms);
	prom_simple_u64(f, v, "isthmus_dataplane_up", "gauge",
			"1 when control is connected to the data plane.", v->dp->connected);
	prom_simple_u64(f, v, "isthmus_dataplane_connects_total", "counter",
			"Connections to the data plane completed (HELLO exchanged).",
			v->dp->connects);
	prom_reasons(f, v, "isthmus_control_ipc_rejected_total",
		     "IPC messages from the data plane that control dropped, by reason.",
		     v->dp->rx_rejected);
	if (ds != NULL) {
		prom_family(f, "isthmus_dataplane_uptime_seconds", "gauge",
			    "Time since the data plane started.");
		prom_start(f, v, "isthmus_dataplane_uptime_seconds");
		prom_ms_as_s(f, ds->st.uptime_ms);
		prom_family(f, "isthmus_dataplane_status_age_seconds", "gauge",
			    "Age of the data plane status shown here.");
		prom_start(f, v, "isthmus_dataplane_status_age_seconds");
		prom_ms_as_s(f, v->now_ms >= ds->rx_ms ? v->now_ms - ds->rx_ms : 0);
		prom_simple_u64(f, v, "isthmus_dataplane_ipc_messages_total", "counter",
				"IPC messages the data plane received.", ds->st.ipc_rx_msgs);
		prom_reasons(f, v, "isthmus_dataplane_ipc_rejected_total",
			     "IPC messages the data plane rejected, by reason.",
			     ds->st.ipc_rejected);
		prom_lcores(f, v, ds);
		prom_roles(f, v, ds);
		prom_ports(f, v, ds);
		prom_link(f, v, &ds->st.link);
		prom_streams(f, v, ds);
	}
	prom_kafka(f, v);

	if (fclose(f) != 0 || buf == NULL) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*outlen = len;
	return 0;
}
