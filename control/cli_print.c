/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli_print.h"

char *ist_cli_duration(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000u;

	if (s < 60)
		snprintf(buf, len, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
	return buf;
}

static const char *str_or(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : def;
}

/* A non-negative integer field, or -1 when missing or of another type. */
static long long int_or(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* The integer as text, or "-" when missing. */
static const char *num(long long v, char *buf, size_t len)
{
	if (v < 0)
		return "-";
	snprintf(buf, len, "%lld", v);
	return buf;
}

static void print_header(FILE *out, const json_t *doc)
{
	const json_t *app = json_object_get(doc, "appliance");
	const json_t *ctl = json_object_get(doc, "control");
	const json_t *dp = json_object_get(doc, "dataplane");
	char d1[32], d2[32];
	long long v;

	fprintf(out, "appliance  %s (region %s)\n", str_or(app, "id", "-"),
		str_or(app, "region", "-"));
	v = int_or(ctl, "uptime_ms");
	fprintf(out, "control    up %s, pid %lld, version %s\n",
		v >= 0 ? ist_cli_duration((uint64_t)v, d1, sizeof(d1)) : "-", int_or(ctl, "pid"),
		str_or(ctl, "version", "-"));
	if (json_is_true(json_object_get(dp, "connected"))) {
		long long up = int_or(dp, "uptime_ms"), age = int_or(dp, "last_update_ms_ago");
		char agebuf[32];

		fprintf(out, "dataplane  connected since %s, pid %lld, up %s, status %s ms old\n",
			str_or(dp, "since", "-"), int_or(dp, "pid"),
			up >= 0 ? ist_cli_duration((uint64_t)up, d2, sizeof(d2)) : "-",
			num(age, agebuf, sizeof(agebuf)));
	} else {
		const char *why = str_or(dp, "last_error", NULL);

		fprintf(out, "dataplane  disconnected since %s%s%s%s (socket %s)\n",
			str_or(dp, "since", "-"), why ? " (" : "", why ? why : "", why ? ")" : "",
			str_or(dp, "socket", "-"));
	}
}

static void print_lcores(FILE *out, const json_t *lcores)
{
	char b1[24], b2[24], b3[24];
	size_t i, r;

	if (json_array_size(lcores) == 0)
		return;
	fprintf(out, "\n%5s %4s  %-28s %6s %14s  %-6s %10s\n", "LCORE", "CPU", "ROLES", "BUSY%",
		"LOOPS", "PAUSED", "IDLE-SLEEP");
	for (i = 0; i < json_array_size(lcores); i++) {
		const json_t *lc = json_array_get(lcores, i);
		const json_t *roles = json_object_get(lc, "roles");
		const json_t *busy = json_object_get(lc, "busy_pct");
		char names[128] = "", pct[16] = "-", sleep[24] = "busy-poll";
		long long us = int_or(lc, "idle_sleep_us");
		size_t n = 0;

		for (r = 0; r < json_array_size(roles); r++) {
			int w = snprintf(names + n, sizeof(names) - n, "%s%s", r ? "," : "",
					 str_or(json_array_get(roles, r), "name", "?"));

			if (w < 0 || (size_t)w >= sizeof(names) - n)
				break;
			n += (size_t)w;
		}
		if (json_is_number(busy))
			snprintf(pct, sizeof(pct), "%.1f", json_number_value(busy));
		if (us > 0)
			snprintf(sleep, sizeof(sleep), "%lldus", us);
		fprintf(out, "%5s %4s  %-28s %6s %14s  %-6s %10s\n",
			num(int_or(lc, "id"), b1, sizeof(b1)),
			num(int_or(lc, "cpu"), b2, sizeof(b2)), names[0] ? names : "-", pct,
			num(int_or(lc, "loops"), b3, sizeof(b3)),
			json_is_true(json_object_get(lc, "paused")) ? "yes" : "no", sleep);
	}
}

static void print_ports(FILE *out, const json_t *ports)
{
	size_t i;

	if (json_array_size(ports) == 0)
		return;
	fprintf(out, "\n%-12s %-14s %-9s %12s %12s %14s %14s %8s %8s\n", "PORT", "DRIVER", "LINK",
		"RX-PKTS", "TX-PKTS", "RX-BYTES", "TX-BYTES", "RX-ERR", "TX-ERR");
	for (i = 0; i < json_array_size(ports); i++) {
		const json_t *p = json_array_get(ports, i);
		const json_t *c = json_object_get(p, "counters");
		long long speed = int_or(p, "speed_mbps");
		long long rxerr = -1, parts[3];
		char link[24], b[6][24];
		unsigned int k;

		parts[0] = int_or(c, "ierrors");
		parts[1] = int_or(c, "imissed");
		parts[2] = int_or(c, "rx_nombuf");
		for (k = 0; k < 3; k++)
			if (parts[k] >= 0)
				rxerr = (rxerr < 0 ? 0 : rxerr) + parts[k];
		if (!json_is_true(json_object_get(p, "started")))
			snprintf(link, sizeof(link), "waiting");
		else if (!json_is_true(json_object_get(p, "link_up")))
			snprintf(link, sizeof(link), "down");
		else if (speed >= 1000 && speed % 1000 == 0)
			snprintf(link, sizeof(link), "up %lldG", speed / 1000);
		else if (speed > 0)
			snprintf(link, sizeof(link), "up %lldM", speed);
		else
			snprintf(link, sizeof(link), "up");
		fprintf(out, "%-12s %-14s %-9s %12s %12s %14s %14s %8s %8s\n",
			str_or(p, "name", "-"), str_or(p, "driver", "-"), link,
			num(int_or(c, "ipackets"), b[0], 24), num(int_or(c, "opackets"), b[1], 24),
			num(int_or(c, "ibytes"), b[2], 24), num(int_or(c, "obytes"), b[3], 24),
			num(rxerr, b[4], 24), num(int_or(c, "oerrors"), b[5], 24));
	}
}

static void print_kafka(FILE *out, const json_t *kafka)
{
	size_t i;

	if (json_array_size(kafka) == 0)
		return;
	fprintf(out, "\n%-16s %-9s %7s %6s  %s\n", "KAFKA", "REACHABLE", "BROKERS", "TOPICS",
		"BOOTSTRAP");
	for (i = 0; i < json_array_size(kafka); i++) {
		const json_t *k = json_array_get(kafka, i);
		bool up = json_is_true(json_object_get(k, "reachable"));
		bool checked = !json_is_false(json_object_get(k, "checked"));
		const char *err = str_or(k, "error", NULL);
		char b1[24], b2[24];

		fprintf(out, "%-16s %-9s %7s %6s  %s", str_or(k, "name", "-"),
			!checked ? "checking"
			: up     ? "yes"
				 : "NO",
			up ? num(int_or(k, "brokers"), b1, sizeof(b1)) : "-",
			up ? num(int_or(k, "topics"), b2, sizeof(b2)) : "-",
			str_or(k, "bootstrap", "-"));
		if (!up && err != NULL)
			fprintf(out, "  (%s)", err);
		fputc('\n', out);
	}
}

/* "bad_magic 2, truncated 1" for the non-zero reasons; false when all are zero. */
static bool print_reasons(FILE *out, const char *who, const json_t *reasons, bool *header)
{
	bool any = false;
	void *it;

	for (it = json_object_iter((json_t *)reasons); it != NULL;
	     it = json_object_iter_next((json_t *)reasons, it)) {
		const json_t *v = json_object_iter_value(it);

		if (!json_is_integer(v) || json_integer_value(v) == 0)
			continue;
		if (!*header) {
			fprintf(out, "\nIPC rejections\n");
			*header = true;
		}
		fprintf(out, "%s%s %lld", any ? ", " : who, json_object_iter_key(it),
			json_integer_value(v));
		any = true;
	}
	if (any)
		fputc('\n', out);
	return any;
}

static double real_or(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : 0.0;
}

static void print_link(FILE *out, const json_t *l)
{
	const json_t *tx = json_object_get(l, "tx"), *rx = json_object_get(l, "rx");
	const json_t *fr = json_object_get(l, "frames"), *drops = json_object_get(l, "dropped");
	const char *key;
	json_t *v;

	if (!json_is_object(l))
		return;
	fprintf(out,
		"\nLINK   %s, %s, capacity %lld Mb/s, rtt %.1f ms (rto %.1f ms), in flight %lld\n",
		str_or(l, "state", "-"),
		json_is_true(json_object_get(l, "authenticated")) ? "AES-256-GCM"
								  : "UNAUTHENTICATED",
		int_or(l, "capacity_mbps"), real_or(l, "srtt_us") / 1000.0,
		real_or(l, "rto_us") / 1000.0, int_or(l, "inflight"));
	fprintf(out,
		"       sending %.1f Mb/s, goodput %.1f Mb/s, loss %.2f %% (%lld retransmits of "
		"%lld)\n",
		real_or(l, "tx_mbps"), real_or(l, "goodput_mbps"), real_or(l, "loss_pct"),
		int_or(tx, "retransmits"), int_or(tx, "data"));
	fprintf(out,
		"       frames sent %lld, delivered %lld, bad %lld; rx %lld packets, %lld "
		"duplicates, "
		"%lld stale; peer restarts %lld\n",
		int_or(fr, "sent"), int_or(fr, "ok"), int_or(fr, "bad"), int_or(rx, "packets"),
		int_or(rx, "duplicates"), int_or(rx, "stale_epoch"), int_or(l, "peer_restarts"));
	if (json_object_size(drops) > 0) {
		fprintf(out, "       dropped:");
		json_object_foreach((json_t *)drops, key, v)
			fprintf(out, " %s %lld", key, (long long)json_integer_value(v));
		fputc('\n', out);
	}
}

static void print_repl(FILE *out, const json_t *r)
{
	const json_t *streams = json_object_get(r, "streams"), *st;
	size_t i;

	if (!json_is_object(r))
		return;
	fprintf(out,
		"\nREPLICATION  source records %lld (%.1f MB, compression %.2fx, %lld "
		"dictionaries), "
		"gaps %lld; sink records %lld, failed streams %lld\n",
		int_or(r, "source_records"), real_or(r, "source_bytes") / 1e6,
		real_or(r, "compression_ratio"), int_or(r, "dictionaries_in_use"),
		int_or(r, "gaps"), int_or(r, "sink_records"), int_or(r, "sink_failed_streams"));
	fprintf(out, "%-6s %-24s %4s %-8s %12s %12s %10s  %s\n", "SIDE", "TOPIC", "PART", "STATE",
		"POSITION", "RECORDS", "LAG", "REASON");
	json_array_foreach((json_t *)streams, i, st)
	{
		bool src = strcmp(str_or(st, "side", ""), "source") == 0;
		char lag[24] = "-";

		if (src)
			snprintf(lag, sizeof(lag), "%lld", int_or(st, "lag_records"));

		fprintf(out, "%-6s %-24s %4lld %-8s %12lld %12lld %10s  %s\n",
			str_or(st, "side", "-"), str_or(st, "topic", "-"), int_or(st, "partition"),
			str_or(st, "state", "-"), int_or(st, "position"), int_or(st, "records"),
			lag, str_or(st, "reason", ""));
	}
}

void ist_cli_print_status(FILE *out, const json_t *doc)
{
	const json_t *dp = json_object_get(doc, "dataplane");
	bool header = false;

	print_header(out, doc);
	print_lcores(out, json_object_get(dp, "lcores"));
	print_ports(out, json_object_get(dp, "ports"));
	print_link(out, json_object_get(dp, "link"));
	print_repl(out, json_object_get(dp, "replication"));
	print_kafka(out, json_object_get(doc, "kafka"));
	print_reasons(out, "  by the data plane: ", json_object_get(dp, "ipc_rejected"), &header);
	print_reasons(out, "  by control:        ", json_object_get(dp, "control_rejected"),
		      &header);
}
