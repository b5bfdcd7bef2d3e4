/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus-wanem's impairment model; see wanem_model.h. No floating point
 * anywhere: specs are parsed as fixed-point decimals, probabilities are
 * compared as 32-bit thresholds, and the rate cap carries its division
 * remainder so that rounding never adds up.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "isthmus/wire.h"
#include "wanem_model.h"

#define NS_PER_S       1000000000ull
#define MAX_DELAY_NS   (60ull * NS_PER_S)
#define MAX_PART_NS    (86400ull * NS_PER_S)
#define MIN_RATE_BPS   1000ull
#define MAX_RATE_BPS   1000000000000ull
#define MAX_HZ         10000000000ull
#define QUEUE_AUTO_MAX 65536u
/* The 100 ms of backlog the rate cap may hold when sizing the delay line. */
#define BACKLOG_NS (100ull * 1000000ull)
/* Average packet assumed when sizing the delay line from a rate. */
#define SIZING_PKT_BYTES 512ull

const char ist_wanem_spec_syntax[] =
	"delay=TIME,jitter=TIME,loss=PCT,burst=gilbert:p=PCT:r=PCT[:h=PCT][:k=PCT],"
	"reorder=PCT[:TIME],dup=PCT,corrupt=PCT,rate=RATE,limit=PKTS,"
	"partition=LEN@START[/PERIOD] (TIME: 50ms, 2s, 100us; PCT: 1%, 0.5%; "
	"RATE: 200mbit, 1gbit, 10mbps)";

const char ist_wanem_cmd_help[] =
	"commands: partition SECONDS | heal | set ab|ba|both SPEC | "
	"inject ab|ba wrong-key|wrong-version|garbage|replay COUNT | stats | show | help | quit";

static const char *const inj_kind_names[IST_WANEM_INJ_KINDS] = {
	"wrong-key",
	"wrong-version",
	"garbage",
	"replay",
};

/* ---- PRNG: xoshiro256**, seeded through splitmix64 ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* True with probability thr / 2^32. */
static inline bool rng_hit(uint64_t *s, uint64_t thr)
{
	return (rng_next(s) >> 32) < thr;
}

/* Uniform in [0, n). */
static inline uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(s) * n) >> 64);
}

static uint64_t ppb_to_thr(uint32_t ppb)
{
	return ((uint64_t)ppb << 32) / IST_WANEM_PPB;
}

uint64_t ist_wanem_ns_to_ticks(uint64_t ns, uint64_t hz)
{
	return (uint64_t)((unsigned __int128)ns * hz / NS_PER_S);
}

/* ---- Parsing ---- */

static void errf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/*
 * A decimal such as "12" or "0.25" as an integer scaled by 10^frac.
 * @return characters read, -1 when there is no number, -2 when it has more
 * than frac decimals, -3 when it is too large.
 */
static int parse_fixed(const char *s, unsigned int frac, uint64_t *out)
{
	const char *p = s;
	uint64_t ip = 0, fp = 0, scale = 1;
	unsigned int nf = 0;

	if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		ip = ip * 10 + (uint64_t)(*p - '0');
		if (ip > 1000000000ull)
			return -3;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++) {
			if (nf == frac)
				return -2;
			fp = fp * 10 + (uint64_t)(*p - '0');
			nf++;
		}
	}
	for (; nf < frac; nf++)
		fp *= 10;
	for (unsigned int i = 0; i < frac; i++)
		scale *= 10;
	*out = ip * scale + fp;
	return (int)(p - s);
}

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit time_units[] = {
	{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", NS_PER_S}, {NULL, 0},
};

int ist_wanem_time_parse(const char *text, bool bare_seconds, uint64_t max_ns, uint64_t *ns,
			 char *err, size_t errlen)
{
	unsigned __int128 v;
	uint64_t e9, mult = 0;
	const char *u;
	int n;

	n = parse_fixed(text, 9, &e9);
	if (n == -2) {
		errf(err, errlen, "'%s' has more than 9 decimals", text);
		return -EINVAL;
	}
	if (n < 0) {
		errf(err, errlen, "'%s' is not a duration such as 50ms, 2s or 100us", text);
		return -EINVAL;
	}
	u = text + n;
	if (*u == '\0' && bare_seconds)
		mult = NS_PER_S;
	for (const struct unit *t = time_units; mult == 0 && t->name != NULL; t++)
		if (strcmp(u, t->name) == 0)
			mult = t->mult;
	if (mult == 0) {
		errf(err, errlen, "'%s' needs a unit: ns, us, ms or s (e.g. 50ms)", text);
		return -EINVAL;
	}
	v = (unsigned __int128)e9 * mult / NS_PER_S;
	if (v > max_ns) {
		errf(err, errlen, "'%s' is longer than %" PRIu64 " s", text,
		     (uint64_t)(max_ns / NS_PER_S));
		return -EINVAL;
	}
	*ns = (uint64_t)v;
	return 0;
}

static int parse_pct(const char *text, uint32_t *ppb, char *err, size_t errlen)
{
	uint64_t v;
	int n;

	/* Percent with 7 decimals is exactly parts per billion. */
	n = parse_fixed(text, 7, &v);
	if (n == -2) {
		errf(err, errlen, "'%s' has more than 7 decimals", text);
		return -EINVAL;
	}
	if (n < 0 || text[n] != '%' || text[n + 1] != '\0') {
		errf(err, errlen, "'%s' is not a percentage such as 1%% or 0.5%%", text);
		return -EINVAL;
	}
	if (v > IST_WANEM_PPB) {
		errf(err, errlen, "'%s' is above 100%%", text);
		return -EINVAL;
	}
	*ppb = (uint32_t)v;
	return 0;
}

static const struct unit rate_units[] = {
	{"bit", 1},
	{"kbit", 1000},
	{"mbit", 1000000},
	{"gbit", 1000000000},
	{"tbit", 1000000000000ull},
	{"bps", 8},
	{"kbps", 8000},
	{"mbps", 8000000},
	{"gbps", 8000000000ull},
	{NULL, 0},
};

static int parse_rate(const char *text, uint64_t *bps, char *err, size_t errlen)
{
	unsigned __int128 v;
	uint64_t e9, mult = 0;
	int n;

	n = parse_fixed(text, 9, &e9);
	if (n == -2) {
		errf(err, errlen, "'%s' has more than 9 decimals", text);
		return -EINVAL;
	}
	if (n < 0) {
		errf(err, errlen, "'%s' is not a rate such as 200mbit", text);
		return -EINVAL;
	}
	for (const struct unit *u = rate_units; u->name != NULL; u++)
		if (strcasecmp(text + n, u->name) == 0)
			mult = u->mult;
	if (mult == 0) {
		errf(err, errlen,
		     "'%s' needs a unit: bit, kbit, mbit, gbit, tbit (bits/s) or bps, kbps, mbps, "
		     "gbps (bytes/s)",
		     text);
		return -EINVAL;
	}
	v = (unsigned __int128)e9 * mult / NS_PER_S;
	if (v < MIN_RATE_BPS || v > MAX_RATE_BPS) {
		errf(err, errlen, "'%s' is outside 1kbit..1tbit", text);
		return -EINVAL;
	}
	*bps = (uint64_t)v;
	return 0;
}

static int item_delay(char *v, struct ist_wanem_spec *sp, char *err, size_t len)
{
	return ist_wanem_time_parse(v, false, MAX_DELAY_NS, &sp->delay_ns, err, len);
}

static int item_jitter(char *v, struct ist_wanem_spec *sp, char *err, size_t len)
{
	return ist_wanem_time_parse(v, false, MAX_DELAY_NS, &sp->jitter_ns, err, len);
}

static int item_loss(char *v, struct ist_wanem_spec *sp, char *err, size_t len)
{
	return parse_pct(v, &sp->loss_ppb, err, len);
}

static int item_dup(char *v, struct ist_wanem_spec *sp, char *err, size_t len)
{
	return parse_pct(v, &sp->dup_ppb, err, len);
}

static int item_corrupt(char *v, struct ist_wanem_spec *sp, char *err, size_t len)
{
	return parse_pct(v, &sp->corrupt_ppb, err, len);
}

static int item_rate(char *v, struct ist_wanem_spec *sp, char *err, size_t len)
{
	return parse_rate(v, &sp->rate_bps, err, len);
}

static int item_limit(char *v, struct ist_wanem_spec *sp, char *err, size_t len)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (!isdigit((unsigned char)v[0]) || *end != '\0' || errno != 0 || n < 1 ||
	    n > IST_WANEM_QUEUE_MAX) {
		errf(err, len, "'%s' is not a packet count in 1..%u", v, IST_WANEM_QUEUE_MAX);
		return -EINVAL;
	}
	sp->limit = (uint32_t)n;
	return 0;
}

static int item_reorder(char *v, struct ist_wanem_spec *sp, char *err, size_t len)
{
	char *gap = strchr(v, ':');

	if (gap != NULL)
		*gap++ = '\0';
	if (parse_pct(v, &sp->reorder_ppb, err, len) < 0)
		return -EINVAL;
	if (gap == NULL)
		return 0;
	if (ist_wanem_time_parse(gap, false, MAX_DELAY_NS, &sp->reorder_ns, err, len) < 0)
		return -EINVAL;
	if (sp->reorder_ns == 0) {
		errf(err, len, "the hold-back time must be above 0");
		return -EINVAL;
	}
	return 0;
}

static int item_burst(char *v, struct ist_wanem_spec *sp, char *err, size_t len)
{
	char *save = NULL, *tok;
	bool seen_p = false, seen_r = false, seen_h = false, seen_k = false;

	tok = strtok_r(v, ":", &save);
	if (tok == NULL || (strcmp(tok, "gilbert") != 0 && strcmp(tok, "ge") != 0)) {
		errf(err, len, "the model must be 'gilbert'");
		return -EINVAL;
	}
	sp->ge = true;
	sp->ge_h_ppb = IST_WANEM_PPB;
	sp->ge_k_ppb = 0;
	while ((tok = strtok_r(NULL, ":", &save)) != NULL) {
		uint32_t *dst;
		bool *seen;

		if (strncmp(tok, "p=", 2) == 0) {
			dst = &sp->ge_p_ppb;
			seen = &seen_p;
		} else if (strncmp(tok, "r=", 2) == 0) {
			dst = &sp->ge_r_ppb;
			seen = &seen_r;
		} else if (strncmp(tok, "h=", 2) == 0) {
			dst = &sp->ge_h_ppb;
			seen = &seen_h;
		} else if (strncmp(tok, "k=", 2) == 0) {
			dst = &sp->ge_k_ppb;
			seen = &seen_k;
		} else {
			errf(err, len, "unknown parameter '%s' (p, r, h, k)", tok);
			return -EINVAL;
		}
		if (*seen) {
			errf(err, len, "parameter '%c' given twice", tok[0]);
			return -EINVAL;
		}
		*seen = true;
		if (parse_pct(tok + 2, dst, err, len) < 0)
			return -EINVAL;
	}
	if (!seen_p || !seen_r) {
		errf(err, len, "p (good->bad) and r (bad->good) are required");
		return -EINVAL;
	}
	if (sp->ge_r_ppb == 0) {
		errf(err, len, "r must be above 0%%, or the bad state never ends");
		return -EINVAL;
	}
	return 0;
}

static int item_partition(char *v, struct ist_wanem_spec *sp, char *err, size_t len)
{
	struct ist_wanem_part pt = {0};
	char *at, *per;

	if (sp->n_part == IST_WANEM_PART_MAX) {
		errf(err, len, "more than %d partitions", IST_WANEM_PART_MAX);
		return -EINVAL;
	}
	at = strchr(v, '@');
	if (at == NULL) {
		errf(err, len, "expected LEN@START");
		return -EINVAL;
	}
	*at++ = '\0';
	per = strchr(at, '/');
	if (per != NULL)
		*per++ = '\0';
	if (ist_wanem_time_parse(v, false, MAX_PART_NS, &pt.len_ns, err, len) < 0 ||
	    ist_wanem_time_parse(at, false, MAX_PART_NS, &pt.start_ns, err, len) < 0)
		return -EINVAL;
	if (per != NULL &&
	    ist_wanem_time_parse(per, false, MAX_PART_NS, &pt.period_ns, err, len) < 0)
		return -EINVAL;
	if (pt.len_ns == 0) {
		errf(err, len, "the length must be above 0");
		return -EINVAL;
	}
	if (per != NULL && pt.period_ns <= pt.len_ns) {
		errf(err, len, "the period must be longer than the partition");
		return -EINVAL;
	}
	sp->part[sp->n_part++] = pt;
	return 0;
}

struct spec_item {
	const char *key;
	int (*parse)(char *v, struct ist_wanem_spec *sp, char *err, size_t len);
	bool repeat;
	const char *syntax;
};

static const struct spec_item spec_items[] = {
	{"delay", item_delay, false, "delay=TIME (0..60s, e.g. delay=50ms)"},
	{"jitter", item_jitter, false, "jitter=TIME (0..60s, e.g. jitter=2ms)"},
	{"loss", item_loss, false, "loss=PCT (0%..100%, e.g. loss=1%)"},
	{"burst", item_burst, false,
	 "burst=gilbert:p=PCT:r=PCT[:h=PCT][:k=PCT] (e.g. burst=gilbert:p=0.5%:r=30%:h=50%)"},
	{"reorder", item_reorder, false, "reorder=PCT[:TIME] (e.g. reorder=1% or reorder=1%:5ms)"},
	{"dup", item_dup, false, "dup=PCT (e.g. dup=0.5%)"},
	{"corrupt", item_corrupt, false, "corrupt=PCT (e.g. corrupt=0.1%)"},
	{"rate", item_rate, false,
	 "rate=RATE (1kbit..1tbit: bit, kbit, mbit, gbit, tbit, or bps, kbps, mbps, gbps for "
	 "bytes; e.g. rate=200mbit)"},
	{"limit", item_limit, false, "limit=PKTS (1..16777216 packets queued in this direction)"},
	{"partition", item_partition, true,
	 "partition=LEN@START[/PERIOD] (e.g. partition=10s@30s, or partition=10s@30s/60s to "
	 "repeat)"},
};

#define N_ITEMS (sizeof(spec_items) / sizeof(spec_items[0]))

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int ist_wanem_spec_parse(const char *text, struct ist_wanem_spec *sp, char *err, size_t errlen)
{
	char buf[IST_WANEM_SPEC_TEXT_MAX], item[IST_WANEM_SPEC_TEXT_MAX];
	char why[IST_WANEM_ERR_MAX];
	unsigned int seen = 0;
	char *s, *next;

	memset(sp, 0, sizeof(*sp));
	if (strlen(text) >= sizeof(buf)) {
		errf(err, errlen, "spec is longer than %zu bytes; accepted: %s", sizeof(buf) - 1,
		     ist_wanem_spec_syntax);
		return -EINVAL;
	}
	strcpy(buf, text);
	s = trim(buf);
	if (*s == '\0' || strcmp(s, "none") == 0)
		return 0;
	for (; s != NULL; s = next) {
		const struct spec_item *it = NULL;
		char *eq, *key;
		size_t i;

		next = strchr(s, ',');
		if (next != NULL)
			*next++ = '\0';
		key = trim(s);
		if (*key == '\0') {
			errf(err, errlen,
			     "empty item (two commas in a row, or one at an end); accepted: %s",
			     ist_wanem_spec_syntax);
			return -EINVAL;
		}
		strcpy(item, key);
		eq = strchr(key, '=');
		if (eq == NULL) {
			errf(err, errlen, "bad item '%s': expected KEY=VALUE; accepted: %s", item,
			     ist_wanem_spec_syntax);
			return -EINVAL;
		}
		*eq = '\0';
		for (i = 0; i < N_ITEMS; i++)
			if (strcmp(trim(key), spec_items[i].key) == 0)
				it = &spec_items[i];
		if (it == NULL) {
			errf(err, errlen, "unknown item '%s'; accepted: %s", item,
			     ist_wanem_spec_syntax);
			return -EINVAL;
		}
		if (!it->repeat && (seen & (1u << (it - spec_items))) != 0) {
			errf(err, errlen, "bad item '%s': %s is given twice; accepted: %s", item,
			     it->key, it->syntax);
			return -EINVAL;
		}
		seen |= 1u << (it - spec_items);
		why[0] = '\0';
		if (it->parse(trim(eq + 1), sp, why, sizeof(why)) < 0) {
			errf(err, errlen, "bad item '%s': %s; accepted: %s", item, why, it->syntax);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- Formatting ---- */

struct out {
	char *buf;
	size_t len;
	size_t off;
	bool full;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->off, o->len - o->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->off) {
		o->full = true;
		return;
	}
	o->off += (size_t)n;
}

static void out_time(struct out *o, uint64_t ns)
{
	static const struct unit by_size[] = {
		{"s", NS_PER_S}, {"ms", 1000000}, {"us", 1000}, {"ns", 1}, {NULL, 0},
	};

	for (const struct unit *u = by_size; u->name != NULL; u++) {
		if (ns % u->mult == 0) {
			outf(o, "%" PRIu64 "%s", ns / u->mult, u->name);
			return;
		}
	}
}

static void out_pct(struct out *o, uint32_t ppb)
{
	char frac[8];
	int n;

	n = snprintf(frac, sizeof(frac), "%07u", ppb % 10000000u);
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	outf(o, "%u%s%s%%", ppb / 10000000u, n > 0 ? "." : "", frac);
}

static void out_rate(struct out *o, uint64_t bps)
{
	static const struct unit by_size[] = {
		{"tbit", 1000000000000ull},
		{"gbit", 1000000000},
		{"mbit", 1000000},
		{"kbit", 1000},
		{"bit", 1},
		{NULL, 0},
	};

	for (const struct unit *u = by_size; u->name != NULL; u++) {
		if (bps % u->mult == 0) {
			outf(o, "%" PRIu64 "%s", bps / u->mult, u->name);
			return;
		}
	}
}

int ist_wanem_spec_format(const struct ist_wanem_spec *sp, char *buf, size_t len)
{
	struct out o = {.buf = buf, .len = len};
	const char *sep = "";

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (sp->delay_ns != 0) {
		outf(&o, "%sdelay=", sep);
		out_time(&o, sp->delay_ns);
		sep = ",";
	}
	if (sp->jitter_ns != 0) {
		outf(&o, "%sjitter=", sep);
		out_time(&o, sp->jitter_ns);
		sep = ",";
	}
	if (sp->loss_ppb != 0) {
		outf(&o, "%sloss=", sep);
		out_pct(&o, sp->loss_ppb);
		sep = ",";
	}
	if (sp->ge) {
		outf(&o, "%sburst=gilbert:p=", sep);
		out_pct(&o, sp->ge_p_ppb);
		outf(&o, ":r=");
		out_pct(&o, sp->ge_r_ppb);
		outf(&o, ":h=");
		out_pct(&o, sp->ge_h_ppb);
		if (sp->ge_k_ppb != 0) {
			outf(&o, ":k=");
			out_pct(&o, sp->ge_k_ppb);
		}
		sep = ",";
	}
	if (sp->reorder_ppb != 0) {
		outf(&o, "%sreorder=", sep);
		out_pct(&o, sp->reorder_ppb);
		if (sp->reorder_ns != 0) {
			outf(&o, ":");
			out_time(&o, sp->reorder_ns);
		}
		sep = ",";
	}
	if (sp->dup_ppb != 0) {
		outf(&o, "%sdup=", sep);
		out_pct(&o, sp->dup_ppb);
		sep = ",";
	}
	if (sp->corrupt_ppb != 0) {
		outf(&o, "%scorrupt=", sep);
		out_pct(&o, sp->corrupt_ppb);
		sep = ",";
	}
	if (sp->rate_bps != 0) {
		outf(&o, "%srate=", sep);
		out_rate(&o, sp->rate_bps);
		sep = ",";
	}
	if (sp->limit != 0) {
		outf(&o, "%slimit=%u", sep, sp->limit);
		sep = ",";
	}
	for (uint32_t i = 0; i < sp->n_part; i++) {
		outf(&o, "%spartition=", sep);
		out_time(&o, sp->part[i].len_ns);
		outf(&o, "@");
		out_time(&o, sp->part[i].start_ns);
		if (sp->part[i].period_ns != 0) {
			outf(&o, "/");
			out_time(&o, sp->part[i].period_ns);
		}
		sep = ",";
	}
	if (o.off == 0)
		outf(&o, "none");
	if (o.full)
		return -ENOSPC;
	return (int)o.off;
}

int ist_wanem_counters_format(const struct ist_wanem_counters *c, const char *prefix, char *buf,
			      size_t len)
{
	int n;

	n = snprintf(buf, len,
		     "%1$srx=%2$" PRIu64 " %1$stx=%3$" PRIu64 " %1$sdelayed=%4$" PRIu64
		     " %1$sdropped_loss=%5$" PRIu64 " %1$sdropped_burst=%6$" PRIu64
		     " %1$sdropped_partition=%7$" PRIu64 " %1$sdropped_queue_full=%8$" PRIu64
		     " %1$sdropped_tx=%9$" PRIu64 " %1$sreordered=%10$" PRIu64
		     " %1$sduplicated=%11$" PRIu64 " %1$scorrupted=%12$" PRIu64
		     " %1$sbytes=%13$" PRIu64 " %1$sinjected_wrong_key=%14$" PRIu64
		     " %1$sinjected_wrong_version=%15$" PRIu64 " %1$sinjected_garbage=%16$" PRIu64
		     " %1$sinjected_replay=%17$" PRIu64 " %1$sinject_dropped=%18$" PRIu64,
		     prefix, c->rx, c->tx, c->delayed, c->dropped_loss, c->dropped_burst,
		     c->dropped_partition, c->dropped_queue_full, c->dropped_tx, c->reordered,
		     c->duplicated, c->corrupted, c->bytes, c->injected[IST_WANEM_INJ_WRONG_KEY],
		     c->injected[IST_WANEM_INJ_WRONG_VERSION], c->injected[IST_WANEM_INJ_GARBAGE],
		     c->injected[IST_WANEM_INJ_REPLAY], c->inject_dropped);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

static uint32_t pow2_ceil(uint64_t v)
{
	uint32_t p = 1;

	while (p < v && p < IST_WANEM_QUEUE_MAX)
		p <<= 1;
	return p;
}

uint32_t ist_wanem_queue_size(const struct ist_wanem_spec *sp)
{
	unsigned __int128 pkts;
	uint64_t hold_ns;
	uint32_t q = IST_WANEM_QUEUE_DEFAULT;

	if (sp->rate_bps != 0) {
		hold_ns = sp->delay_ns + sp->jitter_ns + BACKLOG_NS;
		if (sp->reorder_ppb != 0)
			hold_ns +=
				sp->reorder_ns != 0 ? sp->reorder_ns : sp->delay_ns / 2 + 1000000;
		pkts = (unsigned __int128)sp->rate_bps * hold_ns /
		       (8 * SIZING_PKT_BYTES * NS_PER_S);
		q = pow2_ceil((uint64_t)(pkts > QUEUE_AUTO_MAX ? QUEUE_AUTO_MAX : pkts));
		if (q < IST_WANEM_QUEUE_MIN)
			q = IST_WANEM_QUEUE_MIN;
	}
	if (sp->limit > q)
		q = pow2_ceil(sp->limit);
	return q;
}

/* ---- One direction ---- */

int ist_wanem_dir_init(struct ist_wanem_dir *d, uint32_t cap, uint64_t hz, uint64_t seed,
		       uint64_t now)
{
	struct ist_wanem_spec none = {0};
	uint64_t x = seed;

	if (cap < 2 || cap > IST_WANEM_QUEUE_MAX || (cap & (cap - 1)) != 0 || hz == 0 ||
	    hz > MAX_HZ)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->main.slot = calloc(cap, sizeof(*d->main.slot));
	d->late.slot = calloc(cap, sizeof(*d->late.slot));
	if (d->main.slot == NULL || d->late.slot == NULL) {
		ist_wanem_dir_fini(d);
		return -ENOMEM;
	}
	d->main.mask = cap - 1;
	d->late.mask = cap - 1;
	d->cap = cap;
	d->hz = hz;
	for (int i = 0; i < 4; i++)
		d->rng[i] = splitmix64(&x);
	ist_wanem_dir_set(d, &none, now);
	return 0;
}

void ist_wanem_dir_fini(struct ist_wanem_dir *d)
{
	free(d->main.slot);
	free(d->late.slot);
	d->main.slot = NULL;
	d->late.slot = NULL;
}

void ist_wanem_dir_set(struct ist_wanem_dir *d, const struct ist_wanem_spec *sp, uint64_t now)
{
	uint64_t gap_ns;

	d->spec = *sp;
	d->epoch = now;
	d->delay = ist_wanem_ns_to_ticks(sp->delay_ns, d->hz);
	d->jitter = ist_wanem_ns_to_ticks(sp->jitter_ns, d->hz);
	gap_ns = sp->reorder_ns;
	if (gap_ns == 0)
		gap_ns = sp->delay_ns / 2 > 1000000 ? sp->delay_ns / 2 : 1000000;
	d->gap = ist_wanem_ns_to_ticks(gap_ns, d->hz);
	d->loss_thr = ppb_to_thr(sp->loss_ppb);
	d->ge_p_thr = ppb_to_thr(sp->ge_p_ppb);
	d->ge_r_thr = ppb_to_thr(sp->ge_r_ppb);
	d->ge_h_thr = ppb_to_thr(sp->ge_h_ppb);
	d->ge_k_thr = ppb_to_thr(sp->ge_k_ppb);
	d->reorder_thr = ppb_to_thr(sp->reorder_ppb);
	d->dup_thr = ppb_to_thr(sp->dup_ppb);
	d->corrupt_thr = ppb_to_thr(sp->corrupt_ppb);
	if (!sp->ge)
		d->ge_bad = false;
	for (uint32_t i = 0; i < sp->n_part; i++) {
		d->part_len[i] = ist_wanem_ns_to_ticks(sp->part[i].len_ns, d->hz);
		d->part_start[i] = ist_wanem_ns_to_ticks(sp->part[i].start_ns, d->hz);
		d->part_period[i] = ist_wanem_ns_to_ticks(sp->part[i].period_ns, d->hz);
	}
	d->heal_until = 0;
	d->tat_rem = 0;
	d->limit = sp->limit != 0 && sp->limit < d->cap ? sp->limit : d->cap;
}

static inline uint32_t fifo_used(const struct ist_wanem_fifo *f)
{
	return f->tail - f->head;
}

uint32_t ist_wanem_dir_queued(const struct ist_wanem_dir *d)
{
	return fifo_used(&d->main) + fifo_used(&d->late);
}

/* Is a scheduled window open at now? *end gets the latest end of the open ones. */
static bool sched_window(const struct ist_wanem_dir *d, uint64_t now, uint64_t *end)
{
	bool open = false;
	uint64_t t, off;

	if (now < d->epoch)
		return false;
	t = now - d->epoch;
	for (uint32_t i = 0; i < d->spec.n_part; i++) {
		if (t < d->part_start[i])
			continue;
		off = t - d->part_start[i];
		if (d->part_period[i] != 0)
			off %= d->part_period[i];
		if (off >= d->part_len[i])
			continue;
		open = true;
		if (end != NULL && now - off + d->part_len[i] > *end)
			*end = now - off + d->part_len[i];
	}
	return open;
}

bool ist_wanem_dir_cut(const struct ist_wanem_dir *d, uint64_t now)
{
	if (now < d->cut_until)
		return true;
	if (d->spec.n_part == 0 || now < d->heal_until)
		return false;
	return sched_window(d, now, NULL);
}

void ist_wanem_dir_partition(struct ist_wanem_dir *d, uint64_t now, uint64_t ticks)
{
	d->cut_until = now + ticks;
}

void ist_wanem_dir_heal(struct ist_wanem_dir *d, uint64_t now)
{
	uint64_t end = 0;

	d->cut_until = 0;
	if (sched_window(d, now, &end))
		d->heal_until = end;
}

/* Rate cap and delay: when a packet of len bytes arriving at now is due. HOT */
static inline uint64_t sched_due(struct ist_wanem_dir *d, uint32_t len, uint64_t now, uint64_t jit)
{
	uint64_t t = now;

	if (d->spec.rate_bps != 0) {
		/* The remainder is carried so that 64-byte packets at 10 Gbit/s still add up. */
		uint64_t num = (uint64_t)len * 8 * d->hz + d->tat_rem;

		t = (d->tat > now ? d->tat : now) + num / d->spec.rate_bps;
		d->tat_rem = num % d->spec.rate_bps;
		d->tat = t;
	}
	t += d->delay;
	/* jit is uniform in [0, 2 * jitter]: the offset is jit - jitter. */
	t = t + jit > d->jitter ? t + jit - d->jitter : now;
	return t > now ? t : now;
}

static inline void push(struct ist_wanem_dir *d, void *pkt, uint64_t due, bool late, uint64_t now)
{
	struct ist_wanem_fifo *f = late ? &d->late : &d->main;

	if (late)
		due += d->gap;
	/* Monotonic per FIFO: jitter never reorders. */
	if (due < f->last_due)
		due = f->last_due;
	f->last_due = due;
	f->slot[f->tail & f->mask] = (struct ist_wanem_slot){.due = due, .pkt = pkt};
	f->tail++;
	if (due > now)
		d->c.delayed++;
}

/*
 * HOT. Measured with ist_wanem_dir_release() on the harness VM, bursts of 32:
 * 15 cycles per packet with delay only, 27 with every impairment on.
 */
enum ist_wanem_verdict ist_wanem_dir_admit(struct ist_wanem_dir *d, void *pkt, uint32_t len,
					   uint64_t now, struct ist_wanem_act *act)
{
	uint32_t used;
	uint64_t jit = 0;
	bool late = false, dup = false;

	act->dup = false;
	act->corrupt_bit = IST_WANEM_NO_BIT;
	d->c.rx++;
	if (ist_wanem_dir_cut(d, now)) {
		d->c.dropped_partition++;
		return IST_WANEM_DROP_PARTITION;
	}
	if (d->loss_thr != 0 && rng_hit(d->rng, d->loss_thr)) {
		d->c.dropped_loss++;
		return IST_WANEM_DROP_LOSS;
	}
	if (d->spec.ge) {
		/* Move first, then lose by the new state: a bad run lasts 1/r packets on average. */
		if (rng_hit(d->rng, d->ge_bad ? d->ge_r_thr : d->ge_p_thr))
			d->ge_bad = !d->ge_bad;
		if (rng_hit(d->rng, d->ge_bad ? d->ge_h_thr : d->ge_k_thr)) {
			d->c.dropped_burst++;
			return IST_WANEM_DROP_BURST;
		}
	}
	used = ist_wanem_dir_queued(d);
	if (used >= d->limit) {
		d->c.dropped_queue_full++;
		return IST_WANEM_DROP_QUEUE_FULL;
	}
	if (d->reorder_thr != 0)
		late = rng_hit(d->rng, d->reorder_thr);
	if (d->dup_thr != 0)
		dup = rng_hit(d->rng, d->dup_thr) && used + 1 < d->limit;
	if (d->corrupt_thr != 0 && rng_hit(d->rng, d->corrupt_thr) && len > IST_WANEM_ETH_HDR_LEN) {
		act->corrupt_bit =
			IST_WANEM_ETH_HDR_LEN * 8 +
			(uint32_t)rng_below(d->rng, (uint64_t)(len - IST_WANEM_ETH_HDR_LEN) * 8);
		d->c.corrupted++;
	}
	if (d->jitter != 0)
		jit = rng_below(d->rng, 2 * d->jitter + 1);
	push(d, pkt, sched_due(d, len, now, jit), late, now);
	if (late)
		d->c.reordered++;
	if (dup) {
		/* The copy takes its own turn on the capped link, right after the original. */
		push(d, pkt, sched_due(d, len, now, jit), late, now);
		d->c.duplicated++;
		act->dup = true;
	}
	return IST_WANEM_QUEUED;
}

static inline uint64_t fifo_head_due(const struct ist_wanem_fifo *f)
{
	return f->head != f->tail ? f->slot[f->head & f->mask].due : UINT64_MAX;
}

uint64_t ist_wanem_dir_next_due(const struct ist_wanem_dir *d)
{
	uint64_t a = fifo_head_due(&d->main), b = fifo_head_due(&d->late);

	return a < b ? a : b;
}

/* HOT */
uint16_t ist_wanem_dir_release(struct ist_wanem_dir *d, uint64_t now, void **tx, uint16_t max,
			       void **drop, uint16_t *n_drop)
{
	uint16_t n = 0, nd = 0;
	int cut = -1; /* looked up once, and only when something is due */

	while (n + nd < max) {
		uint64_t dm = fifo_head_due(&d->main), dl = fifo_head_due(&d->late);
		struct ist_wanem_fifo *f = dl < dm ? &d->late : &d->main;
		void *pkt;

		if ((dl < dm ? dl : dm) > now || f->head == f->tail)
			break;
		pkt = f->slot[f->head & f->mask].pkt;
		f->head++;
		if (cut < 0)
			cut = ist_wanem_dir_cut(d, now);
		if (cut) {
			drop[nd++] = pkt;
			d->c.dropped_partition++;
		} else {
			tx[n++] = pkt;
		}
	}
	*n_drop = nd;
	return n;
}

uint32_t ist_wanem_dir_flush(struct ist_wanem_dir *d, void **out, uint32_t max)
{
	uint32_t n = 0;
	struct ist_wanem_fifo *fs[2] = {&d->main, &d->late};

	for (int i = 0; i < 2; i++) {
		struct ist_wanem_fifo *f = fs[i];

		while (n < max && f->head != f->tail) {
			out[n++] = f->slot[f->head & f->mask].pkt;
			f->head++;
		}
	}
	return n;
}

/* ---- Control commands ---- */

#define INJECT_USAGE                                                                          \
	"usage: inject ab|ba KIND COUNT (KIND: wrong-key, wrong-version, garbage or replay; " \
	"COUNT "                                                                              \
	"1..1000000)"

/* `inject ab|ba KIND COUNT`; @p dir is the first argument, @p save the tokenizer's state. */
static int cmd_inject(struct ist_wanem_cmd *cmd, const char *dir, char **save, char *err,
		      size_t errlen)
{
	const char *kind = strtok_r(NULL, " \t\r\n", save);
	const char *count = strtok_r(NULL, " \t\r\n", save);
	unsigned long long n;
	char *end;
	unsigned int k;

	if (dir == NULL || kind == NULL || count == NULL ||
	    strtok_r(NULL, " \t\r\n", save) != NULL) {
		errf(err, errlen, INJECT_USAGE);
		return -EINVAL;
	}
	if (strcmp(dir, "ab") == 0) {
		cmd->dirs = IST_WANEM_DIR_AB;
	} else if (strcmp(dir, "ba") == 0) {
		cmd->dirs = IST_WANEM_DIR_BA;
	} else {
		errf(err, errlen,
		     "inject: direction '%s' is not ab or ba (one direction at a time)", dir);
		return -EINVAL;
	}
	for (k = 0; k < IST_WANEM_INJ_KINDS; k++)
		if (strcmp(kind, inj_kind_names[k]) == 0)
			break;
	if (k == IST_WANEM_INJ_KINDS) {
		errf(err, errlen,
		     "inject: unknown kind '%s'; give wrong-key, wrong-version, garbage or replay",
		     kind);
		return -EINVAL;
	}
	errno = 0;
	n = strtoull(count, &end, 10);
	if (!isdigit((unsigned char)count[0]) || *end != '\0' || errno != 0 || n == 0 ||
	    n > IST_WANEM_INJ_COUNT_MAX) {
		errf(err, errlen, "inject: count '%s' is not a number of packets 1..%u", count,
		     IST_WANEM_INJ_COUNT_MAX);
		return -EINVAL;
	}
	cmd->type = IST_WANEM_CMD_INJECT;
	cmd->kind = (enum ist_wanem_inj_kind)k;
	cmd->count = (uint32_t)n;
	return 0;
}

int ist_wanem_cmd_parse(const char *line, struct ist_wanem_cmd *cmd, char *err, size_t errlen)
{
	char buf[IST_WANEM_SPEC_TEXT_MAX + 64], why[IST_WANEM_ERR_MAX];
	char *save = NULL, *verb, *arg, *rest;

	memset(cmd, 0, sizeof(*cmd));
	if (strlen(line) >= sizeof(buf)) {
		errf(err, errlen, "command is longer than %zu bytes", sizeof(buf) - 1);
		return -EINVAL;
	}
	strcpy(buf, line);
	verb = strtok_r(buf, " \t\r\n", &save);
	if (verb == NULL)
		return -ENODATA;
	if (strcmp(verb, "set") == 0) {
		arg = strtok_r(NULL, " \t", &save);
		rest = save != NULL ? trim(save) : NULL;
		if (arg == NULL || rest == NULL || *rest == '\0') {
			errf(err, errlen, "usage: set ab|ba|both SPEC (SPEC: %s)",
			     ist_wanem_spec_syntax);
			return -EINVAL;
		}
		if (strcmp(arg, "ab") == 0)
			cmd->dirs = IST_WANEM_DIR_AB;
		else if (strcmp(arg, "ba") == 0)
			cmd->dirs = IST_WANEM_DIR_BA;
		else if (strcmp(arg, "both") == 0)
			cmd->dirs = IST_WANEM_DIR_AB | IST_WANEM_DIR_BA;
		else {
			errf(err, errlen, "set: direction '%s' is not ab, ba or both", arg);
			return -EINVAL;
		}
		cmd->type = IST_WANEM_CMD_SET;
		return ist_wanem_spec_parse(rest, &cmd->spec, err, errlen);
	}
	arg = strtok_r(NULL, " \t\r\n", &save);
	if (strcmp(verb, "inject") == 0)
		return cmd_inject(cmd, arg, &save, err, errlen);
	if (strcmp(verb, "partition") == 0) {
		if (arg == NULL || strtok_r(NULL, " \t\r\n", &save) != NULL) {
			errf(err, errlen,
			     "usage: partition SECONDS (e.g. partition 2 or partition 500ms)");
			return -EINVAL;
		}
		if (ist_wanem_time_parse(arg, true, MAX_PART_NS, &cmd->dur_ns, why, sizeof(why)) <
		    0) {
			errf(err, errlen, "partition: %s", why);
			return -EINVAL;
		}
		if (cmd->dur_ns == 0) {
			errf(err, errlen,
			     "partition: the length must be above 0 (use heal to end one)");
			return -EINVAL;
		}
		cmd->type = IST_WANEM_CMD_PARTITION;
		return 0;
	}
	if (strcmp(verb, "heal") == 0)
		cmd->type = IST_WANEM_CMD_HEAL;
	else if (strcmp(verb, "stats") == 0)
		cmd->type = IST_WANEM_CMD_STATS;
	else if (strcmp(verb, "show") == 0)
		cmd->type = IST_WANEM_CMD_SHOW;
	else if (strcmp(verb, "help") == 0)
		cmd->type = IST_WANEM_CMD_HELP;
	else if (strcmp(verb, "quit") == 0)
		cmd->type = IST_WANEM_CMD_QUIT;
	else {
		errf(err, errlen, "unknown command '%s'; %s", verb, ist_wanem_cmd_help);
		return -EINVAL;
	}
	if (arg != NULL) {
		errf(err, errlen, "%s takes no argument; %s", verb, ist_wanem_cmd_help);
		return -EINVAL;
	}
	return 0;
}

/* ---- Idle back-off ---- */

/* HOT */
uint32_t ist_wanem_idle_us(struct ist_wanem_idle *id, bool work, uint64_t now, uint64_t next_due,
			   uint64_t hz)
{
	uint32_t us;

	if (work || id->max_us == 0) {
		id->left = id->spins;
		id->sleep_us = 0;
		return 0;
	}
	if (id->left != 0) {
		id->left--;
		return 0;
	}
	us = id->sleep_us == 0 ? 1 : id->sleep_us * 2;
	if (us > id->max_us)
		us = id->max_us;
	id->sleep_us = us;
	if (next_due != UINT64_MAX) {
		uint64_t left;

		if (next_due <= now)
			return 0;
		left = next_due - now;
		/* Below one second, so the product cannot overflow. */
		if (left < hz && left * 1000000 / hz < us)
			us = (uint32_t)(left * 1000000 / hz);
	}
	return us;
}

/* ---- Bad packets for `inject` ---- */

#define ETH_LEN      14u
#define IP_LEN       20u
#define UDP_LEN      8u
#define WIRE_OFF     IST_WANEM_INJ_L234_LEN
#define WIRE_HDR_LEN ((uint32_t)sizeof(struct ist_wire_hdr))
#define OFF(f)       ((uint32_t)offsetof(struct ist_wire_hdr, f))

static inline uint32_t rd16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t rd32(const uint8_t *p)
{
	return rd16(p) << 16 | rd16(p + 2);
}

static inline uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

static inline void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Ones' complement sum of an IPv4 header without options: 0xffff when its checksum is right. */
static uint32_t ip_sum(const uint8_t *ip)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i < IP_LEN; i += 2)
		sum += rd16(ip + i);
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Set the IPv4 and UDP lengths of a frame for a datagram of @p dg bytes, and the checksum. */
static void l34_fix(uint8_t *f, uint32_t dg)
{
	uint8_t *ip = f + ETH_LEN, *udp = ip + IP_LEN;

	wr16(ip + 2, IP_LEN + UDP_LEN + dg);
	wr16(ip + 10, 0);
	wr16(ip + 10, ~ip_sum(ip) & 0xffff);
	wr16(udp + 4, UDP_LEN + dg);
	wr16(udp + 6, 0); /* no UDP checksum, as the link sends */
}

const char *ist_wanem_inj_kind_name(unsigned int kind)
{
	return kind < IST_WANEM_INJ_KINDS ? inj_kind_names[kind] : NULL;
}

int ist_wanem_inj_init(struct ist_wanem_inj *inj, uint64_t seed, uint32_t ip_mtu)
{
	uint64_t x = seed;

	if (ip_mtu <= IP_LEN + UDP_LEN)
		return -EINVAL;
	memset(inj, 0, sizeof(*inj));
	for (int i = 0; i < 4; i++)
		inj->rng[i] = splitmix64(&x);
	inj->rr = IST_WANEM_INJ_KINDS - 1; /* the first turn is wrong-key's */
	inj->max_udp = ip_mtu - IP_LEN - UDP_LEN;
	if (inj->max_udp > IST_WANEM_INJ_FRAME_MAX - WIRE_OFF)
		inj->max_udp = IST_WANEM_INJ_FRAME_MAX - WIRE_OFF;
	return 0;
}

/*
 * Is @p f a link frame? Checks what the data plane checks before it looks at
 * the datagram, and that the wire header's lengths agree, so that a frame the
 * emulator corrupted or a foreign one is not kept. *flen: the frame without
 * Ethernet padding. HOT
 */
static bool link_frame(const uint8_t *f, uint32_t len, uint32_t *flen)
{
	const uint8_t *ip = f + ETH_LEN, *udp = ip + IP_LEN, *w = udp + UDP_LEN;
	uint32_t ip_len, plen;

	if (len < WIRE_OFF + WIRE_HDR_LEN || rd16(f + 12) != 0x0800 || ip[0] != 0x45 ||
	    ip[9] != 17 || (rd16(ip + 6) & 0x3fff) != 0)
		return false;
	ip_len = rd16(ip + 2);
	if (ip_len < IP_LEN + UDP_LEN + WIRE_HDR_LEN || ip_len > len - ETH_LEN ||
	    ETH_LEN + ip_len > IST_WANEM_INJ_FRAME_MAX || rd16(udp + 4) != ip_len - IP_LEN ||
	    ip_sum(ip) != 0xffff)
		return false;
	if (rd32(w + OFF(magic)) != IST_WIRE_MAGIC || w[OFF(version)] != IST_WIRE_VERSION ||
	    rd32(w + OFF(epoch)) == 0 || rd64(w + OFF(pn)) == 0)
		return false;
	plen = WIRE_HDR_LEN + rd16(w + OFF(payload_len));
	if (rd16(w + OFF(flags)) & IST_WIRE_F_AUTH)
		plen += IST_WIRE_TAG_LEN;
	if (plen != ip_len - IP_LEN - UDP_LEN)
		return false;
	*flen = ETH_LEN + ip_len;
	return true;
}

static void frame_keep(struct ist_wanem_frame *fr, const uint8_t *f, uint32_t len)
{
	memcpy(fr->buf, f, len);
	fr->len = len;
	fr->epoch = rd32(f + WIRE_OFF + OFF(epoch));
	fr->pn = rd64(f + WIRE_OFF + OFF(pn));
}

/*
 * HOT: at most one call per received burst; one copy of at most 2 KB when it
 * is a link frame. Measured on the harness VM: ~116 cycles for a 1424-byte
 * link frame, ~4 for a frame that is not one (under 4 cycles a packet in
 * bursts of 32).
 */
bool ist_wanem_inj_keep(struct ist_wanem_inj *inj, const uint8_t *frame, uint32_t len)
{
	uint32_t flen;

	if (!link_frame(frame, len, &flen))
		return false;
	frame_keep(&inj->last, frame, flen);
	/* A new epoch (the sender restarted): its first packet is the one to replay. */
	if (inj->early.len == 0 || inj->early.epoch != inj->last.epoch)
		inj->early = inj->last;
	return true;
}

uint32_t ist_wanem_inj_pending(const struct ist_wanem_inj *inj)
{
	uint32_t n = 0;

	for (unsigned int k = 0; k < IST_WANEM_INJ_KINDS; k++)
		n += inj->pending[k];
	return n;
}

uint32_t ist_wanem_inj_cancel(struct ist_wanem_inj *inj)
{
	uint32_t n = ist_wanem_inj_pending(inj);

	memset(inj->pending, 0, sizeof(inj->pending));
	return n;
}

int ist_wanem_inj_add(struct ist_wanem_inj *inj, enum ist_wanem_inj_kind kind, uint32_t count,
		      char *msg, size_t msglen)
{
	const struct ist_wanem_frame *l = &inj->last, *e = &inj->early;
	const uint8_t *w = l->buf + WIRE_OFF;
	uint64_t gap;

	if ((unsigned int)kind >= IST_WANEM_INJ_KINDS || count == 0) {
		errf(msg, msglen, "nothing to inject");
		return -EINVAL;
	}
	if (l->len == 0) {
		errf(msg, msglen,
		     "no link packet has crossed this direction yet (or none fit %u bytes): "
		     "start the link first",
		     IST_WANEM_INJ_FRAME_MAX);
		return -ENOENT;
	}
	if (inj->pending[kind] > IST_WANEM_INJ_COUNT_MAX - count) {
		errf(msg, msglen, "%u %s packets are still pending; at most %u may be",
		     inj->pending[kind], inj_kind_names[kind], IST_WANEM_INJ_COUNT_MAX);
		return -EINVAL;
	}
	if (kind == IST_WANEM_INJ_WRONG_KEY && !(rd16(w + OFF(flags)) & IST_WIRE_F_AUTH) &&
	    l->len + IST_WIRE_TAG_LEN > IST_WANEM_INJ_FRAME_MAX) {
		errf(msg, msglen,
		     "the link is unkeyed and its newest packet (%u bytes) leaves no room for a "
		     "tag within %u bytes; try when smaller packets pass",
		     l->len, IST_WANEM_INJ_FRAME_MAX);
		return -EINVAL;
	}
	switch (kind) {
	case IST_WANEM_INJ_WRONG_KEY:
		errf(msg, msglen,
		     "packets of epoch 0x%08x, pn %" PRIu64
		     "+2^32.., key id %u, %u-byte datagrams, "
		     "sealed under random keys: expect bad_tag",
		     l->epoch, l->pn, w[OFF(key_id)] != 0 ? w[OFF(key_id)] : 1u,
		     l->len - WIRE_OFF +
			     ((rd16(w + OFF(flags)) & IST_WIRE_F_AUTH) ? 0 : IST_WIRE_TAG_LEN));
		break;
	case IST_WANEM_INJ_WRONG_VERSION:
		errf(msg, msglen,
		     "pn %" PRIu64 " of epoch 0x%08x with a version byte other than %u: "
		     "expect bad_version",
		     l->pn, l->epoch, IST_WIRE_VERSION);
		break;
	case IST_WANEM_INJ_GARBAGE:
		errf(msg, msglen,
		     "random UDP payloads of 1..%u bytes to port %u: expect truncated (under %u "
		     "bytes) or bad_magic",
		     inj->max_udp, rd16(l->buf + ETH_LEN + IP_LEN + 2), WIRE_HDR_LEN);
		break;
	case IST_WANEM_INJ_REPLAY:
		gap = l->pn - e->pn;
		if (gap >= IST_WANEM_INJ_REPLAY_WIN)
			errf(msg, msglen,
			     "pn %" PRIu64 " of epoch 0x%08x again, %" PRIu64
			     " behind the newest: expect too_old",
			     e->pn, e->epoch, gap);
		else
			errf(msg, msglen,
			     "pn %" PRIu64 " of epoch 0x%08x again, only %" PRIu64
			     " behind the newest (inside the receiver's %u-packet window): expect "
			     "replayed if it arrived, else it is accepted",
			     e->pn, e->epoch, gap, IST_WANEM_INJ_REPLAY_WIN);
		break;
	default:
		break;
	}
	inj->pending[kind] += count;
	return 0;
}

int ist_wanem_inj_take(struct ist_wanem_inj *inj)
{
	for (unsigned int i = 1; i <= IST_WANEM_INJ_KINDS; i++) {
		unsigned int k = (inj->rr + i) % IST_WANEM_INJ_KINDS;

		if (inj->pending[k] != 0) {
			inj->pending[k]--;
			inj->rr = k;
			return (int)k;
		}
	}
	return -1;
}

void ist_wanem_inj_random(struct ist_wanem_inj *inj, void *buf, size_t len)
{
	uint8_t *p = buf;
	uint64_t r = 0;

	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			r = rng_next(inj->rng);
		p[i] = (uint8_t)r;
		r >>= 8;
	}
}

int ist_wanem_inj_build(struct ist_wanem_inj *inj, enum ist_wanem_inj_kind kind, uint8_t *out,
			uint32_t cap)
{
	const struct ist_wanem_frame *l = &inj->last;
	uint8_t *w = out + WIRE_OFF, v;
	uint32_t n;

	if (l->len == 0)
		return -ENOENT;
	switch (kind) {
	case IST_WANEM_INJ_WRONG_KEY:
		n = l->len;
		if (!(rd16(l->buf + WIRE_OFF + OFF(flags)) & IST_WIRE_F_AUTH))
			n += IST_WIRE_TAG_LEN; /* an unkeyed link: a tag it must refuse */
		if (cap < n)
			return -ENOSPC;
		memcpy(out, l->buf, l->len);
		if (n != l->len) {
			wr16(w + OFF(flags), rd16(w + OFF(flags)) | IST_WIRE_F_AUTH);
			w[OFF(key_id)] = 1;
			l34_fix(out, n - WIRE_OFF);
		}
		wr64(w + OFF(pn), l->pn + IST_WANEM_INJ_PN_OFFSET + inj->seq++);
		return (int)n;
	case IST_WANEM_INJ_WRONG_VERSION:
		if (cap < l->len)
			return -ENOSPC;
		memcpy(out, l->buf, l->len);
		do
			v = (uint8_t)rng_next(inj->rng);
		while (v == IST_WIRE_VERSION);
		w[OFF(version)] = v;
		return (int)l->len;
	case IST_WANEM_INJ_GARBAGE:
		if (cap < WIRE_OFF + inj->max_udp)
			return -ENOSPC;
		n = 1 + (uint32_t)rng_below(inj->rng, inj->max_udp);
		memcpy(out, l->buf, WIRE_OFF);
		ist_wanem_inj_random(inj, w, n);
		l34_fix(out, n);
		return (int)(WIRE_OFF + n);
	case IST_WANEM_INJ_REPLAY:
		if (inj->early.len == 0)
			return -ENOENT;
		if (cap < inj->early.len)
			return -ENOSPC;
		memcpy(out, inj->early.buf, inj->early.len);
		return (int)inj->early.len;
	default:
		return -EINVAL;
	}
}
