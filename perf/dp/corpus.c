/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * isthmus-corpus: a deterministic corpus of synthetic JSON events for the
 * codec benchmarks (isthmus-bench-codec) and the CLI baselines (lz4 -b,
 * zstd -b on the --flat file). See usage() for the file formats.
 *
 * The events imitate what replicated topics carry: six event types of an
 * online shop (orders, page views, carts, payments, logins, searches) with
 * UUIDs and hex trace ids (incompressible), epoch and ISO timestamps that
 * advance, enums, nested objects, arrays of line items and some free text.
 * Values are drawn from a splitmix64 generator seeded by --seed, so a seed
 * and a count always give the same bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EV_MAX 4096

struct gen {
	uint64_t s;
	uint64_t ts_ms;
	char *p;
	char *end;
};

static uint64_t next(struct gen *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned int pick(struct gen *g, unsigned int n)
{
	return (unsigned int)(next(g) % n);
}

/* Skewed choice, min of three uniforms: low indexes much more often (a few tenants, users, SKUs dominate). */
static unsigned int zipfish(struct gen *g, unsigned int n)
{
	uint64_t a = next(g) % n, b = next(g) % n, c = next(g) % n;

	a = a < b ? a : b;
	return (unsigned int)(a < c ? a : c);
}

static void out(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(g->p, (size_t)(g->end - g->p), fmt, ap);
	va_end(ap);
	if (n > 0)
		g->p += n < g->end - g->p ? n : g->end - g->p - 1;
}

static void hex(struct gen *g, unsigned int n)
{
	static const char digits[] = "0123456789abcdef";
	uint64_t x = 0;
	unsigned int i;

	for (i = 0; i < n && g->p < g->end - 1; i++) {
		if (i % 16 == 0)
			x = next(g);
		*g->p++ = digits[x & 15];
		x >>= 4;
	}
	*g->p = 0;
}

static void uuid(struct gen *g)
{
	hex(g, 8);
	out(g, "-");
	hex(g, 4);
	out(g, "-4");
	hex(g, 3);
	out(g, "-a");
	hex(g, 3);
	out(g, "-");
	hex(g, 12);
}

static void iso(struct gen *g, uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	out(g, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned int)(ms % 1000));
}

static const char *const countries[] = {"DE", "FR", "US", "GB", "NL", "ES", "IT",
					"PL", "SE", "JP", "BR", "IN", "CA", "AU"};
static const char *const locales[] = {"de-DE", "fr-FR", "en-US", "en-GB", "nl-NL",
				      "es-ES", "it-IT", "pl-PL", "sv-SE", "ja-JP",
				      "pt-BR", "en-IN", "en-CA", "en-AU"};
static const char *const plans[] = {"free", "basic", "premium", "business"};
static const char *const oses[] = {"android", "ios", "windows", "macos", "linux"};
static const char *const models[] = {"Pixel 8",     "iPhone 15",   "Galaxy S23", "ThinkPad X1",
				     "MacBook Air", "Surface Pro", "Fairphone 5"};
static const char *const services[] = {"checkout-api", "catalog-web", "cart-svc",
				       "payments-gw",  "auth-svc",    "search-api"};
static const char *const regions[] = {"eu-west-1", "eu-central-1", "us-east-1", "ap-northeast-1"};
static const char *const cats[] = {"apparel", "shoes", "electronics", "home",
				   "garden",  "books", "toys",        "beauty"};
static const char *const adjs[] = {"classic", "slim",    "organic", "wireless", "waterproof",
				   "vintage", "compact", "premium", "recycled", "heavy-duty"};
static const char *const nouns[] = {"t-shirt", "sneaker", "headphones", "lamp",   "backpack",
				    "kettle",  "novel",   "blender",    "jacket", "watch"};
static const char *const methods[] = {"standard", "express", "pickup", "same-day"};
static const char *const brands[] = {"visa", "mastercard", "amex", "paypal", "klarna", "sepa"};
static const char *const paths[] = {"/",     "/c/apparel", "/c/shoes",        "/p/",
				    "/cart", "/search",    "/account/orders", "/help/returns"};
static const char *const words[] = {
	"the",     "customer", "asked",   "about",  "delivery",  "window",      "for",
	"order",   "please",   "leave",   "parcel", "at",        "door",        "gift",
	"wrap",    "needed",   "size",    "runs",   "small",     "great",       "quality",
	"but",     "late",     "again",   "refund", "requested", "color",       "differs",
	"from",    "photo",    "would",   "buy",    "recommend", "support",     "was",
	"helpful", "package",  "damaged", "on",     "arrival",   "replacement", "sent",
	"quickly", "thanks",   "and",     "a",      "it",        "not",         "my"};

#define DIM(a) (sizeof(a) / sizeof((a)[0]))

static void text(struct gen *g, unsigned int min_words, unsigned int max_words)
{
	unsigned int n = min_words + pick(g, max_words - min_words + 1), i;

	for (i = 0; i < n; i++)
		out(g, "%s%s", i ? " " : "", words[zipfish(g, DIM(words))]);
}

static void common(struct gen *g, const char *type, unsigned int svc)
{
	out(g, "{\"event_id\":\"");
	uuid(g);
	out(g, "\",\"event_type\":\"%s\",\"schema_version\":%u,\"ts\":\"", type, 3 + pick(g, 2));
	iso(g, g->ts_ms);
	out(g,
	    "\",\"ts_ms\":%" PRIu64 ",\"source\":{\"service\":\"%s\",\"region\":\"%s\","
	    "\"host\":\"%s-%x-%05u\",\"version\":\"2.%u.%u\"},\"tenant_id\":\"t_%05u\",",
	    g->ts_ms, services[svc], regions[zipfish(g, DIM(regions))], services[svc],
	    0x7d9f8c + pick(g, 6), pick(g, 100000), 10 + pick(g, 5), pick(g, 10), zipfish(g, 400));
}

static void user(struct gen *g)
{
	unsigned int c = zipfish(g, DIM(countries));

	out(g,
	    "\"user\":{\"id\":\"u_%07u\",\"anonymous\":%s,\"country\":\"%s\",\"locale\":\"%s\","
	    "\"plan\":\"%s\",\"signup_ts_ms\":%" PRIu64 "},",
	    zipfish(g, 5000000), pick(g, 10) ? "false" : "true", countries[c], locales[c],
	    plans[zipfish(g, DIM(plans))], 1500000000000ull + next(g) % 200000000000ull);
}

static void session(struct gen *g)
{
	unsigned int os = zipfish(g, DIM(oses));

	out(g, "\"session\":{\"id\":\"");
	hex(g, 16);
	out(g,
	    "\",\"device\":{\"os\":\"%s\",\"os_version\":\"%u.%u\",\"model\":\"%s\","
	    "\"app_version\":\"5.%u.%u\"},\"ip\":\"%u.%u.%u.%u\"},",
	    oses[os], 10 + pick(g, 5), pick(g, 4), models[pick(g, DIM(models))], pick(g, 20),
	    pick(g, 5), 1 + pick(g, 223), pick(g, 256), pick(g, 256), 1 + pick(g, 254));
}

static void items(struct gen *g, unsigned int n, unsigned int *total)
{
	unsigned int i, unit, qty;

	out(g, "\"items\":[");
	for (i = 0; i < n; i++) {
		unit = 499 + pick(g, 30000);
		qty = 1 + (pick(g, 5) == 0 ? pick(g, 4) : 0);
		*total += unit * qty;
		out(g,
		    "%s{\"sku\":\"SKU-%06u\",\"name\":\"%s %s\",\"qty\":%u,\"unit_cents\":%u,"
		    "\"category\":\"%s\",\"discount\":%s}",
		    i ? "," : "", zipfish(g, 200000), adjs[pick(g, DIM(adjs))],
		    nouns[pick(g, DIM(nouns))], qty, unit, cats[pick(g, DIM(cats))],
		    pick(g, 4) ? "null" : "{\"code\":\"SPRING10\",\"pct\":10}");
	}
	out(g, "],");
}

static void trace(struct gen *g)
{
	out(g, "\"trace\":{\"trace_id\":\"");
	hex(g, 32);
	out(g, "\",\"span_id\":\"");
	hex(g, 16);
	out(g, "\",\"sampled\":%s}}", pick(g, 10) ? "false" : "true");
}

/* One event into buf; returns its length. */
static size_t event(struct gen *g, char *buf, size_t cap)
{
	unsigned int total = 0, n;

	g->p = buf;
	g->end = buf + cap;
	g->ts_ms += 1 + pick(g, 40);
	switch (pick(g, 6)) {
	case 0:
		common(g, "order.created", 0);
		user(g);
		session(g);
		out(g, "\"order\":{\"id\":\"ord_");
		hex(g, 12);
		out(g, "\",\"currency\":\"EUR\",");
		items(g, 1 + pick(g, 4), &total);
		out(g,
		    "\"total_cents\":%u,\"shipping\":{\"method\":\"%s\",\"country\":\"%s\","
		    "\"postcode\":\"%05u\"},\"note\":\"",
		    total, methods[zipfish(g, DIM(methods))], countries[zipfish(g, DIM(countries))],
		    pick(g, 99999));
		text(g, 0, 12);
		out(g, "\"},");
		break;
	case 1:
		common(g, "page.viewed", 1);
		user(g);
		session(g);
		out(g,
		    "\"page\":{\"path\":\"%s\",\"referrer\":\"https://www.example.com%s\","
		    "\"title\":\"",
		    paths[zipfish(g, DIM(paths))], paths[pick(g, DIM(paths))]);
		text(g, 3, 8);
		out(g,
		    "\",\"load_ms\":%u,\"viewport\":{\"w\":%u,\"h\":%u},\"ab\":{\"checkout_v2\":"
		    "\"%s\",\"reco_model\":\"m%u\"}},",
		    80 + pick(g, 3000), 360 + 8 * pick(g, 200), 640 + 8 * pick(g, 100),
		    pick(g, 2) ? "control" : "treatment", 1 + pick(g, 4));
		break;
	case 2:
		common(g, "cart.updated", 2);
		user(g);
		out(g, "\"cart\":{\"id\":\"cart_");
		hex(g, 10);
		out(g, "\",\"action\":\"%s\",", pick(g, 3) ? "add" : "remove");
		items(g, 1 + pick(g, 3), &total);
		out(g, "\"subtotal_cents\":%u,\"currency\":\"EUR\"},", total);
		session(g);
		break;
	case 3:
		common(g, "payment.authorized", 3);
		n = pick(g, DIM(brands));
		out(g, "\"payment\":{\"id\":\"pay_");
		hex(g, 14);
		out(g,
		    "\",\"order_id\":\"ord_%012" PRIx64 "\",\"method\":\"%s\",\"brand\":\"%s\","
		    "\"last4\":\"%04u\",\"three_ds\":%s,\"amount_cents\":%u,\"currency\":\"EUR\","
		    "\"risk\":{\"score\":%u,\"rules\":[\"velocity\",\"geo_match\"],\"decision\":"
		    "\"%s\"},\"acquirer\":{\"name\":\"acq-%u\",\"response_code\":\"00\","
		    "\"latency_ms\":%u}},",
		    next(g) & 0xffffffffffffull, n < 3 ? "card" : "wallet", brands[n],
		    pick(g, 10000), pick(g, 3) ? "true" : "false", 500 + pick(g, 90000),
		    pick(g, 100), pick(g, 20) ? "approve" : "review", 1 + pick(g, 3),
		    40 + pick(g, 900));
		user(g);
		break;
	case 4:
		common(g, "user.login", 4);
		user(g);
		session(g);
		out(g,
		    "\"auth\":{\"method\":\"%s\",\"mfa\":%s,\"result\":\"%s\",\"attempt\":%u,"
		    "\"user_agent\":\"Mozilla/5.0 (%s) AppleWebKit/537.36 (KHTML, like Gecko) "
		    "Chrome/12%u.0.%u.%u Safari/537.36\"},",
		    pick(g, 3) ? "password" : "passkey", pick(g, 2) ? "true" : "false",
		    pick(g, 15) ? "success" : "failure", 1 + (pick(g, 8) == 0), oses[pick(g, 5)],
		    pick(g, 6), 6000 + pick(g, 400), pick(g, 200));
		break;
	default:
		common(g, "search.performed", 5);
		user(g);
		out(g, "\"search\":{\"query\":\"");
		text(g, 1, 4);
		out(g,
		    "\",\"filters\":{\"category\":\"%s\",\"price_max_cents\":%u,\"in_stock\":%s},"
		    "\"results\":%u,\"page\":%u,\"took_ms\":%u,\"top_skus\":[\"SKU-%06u\","
		    "\"SKU-%06u\",\"SKU-%06u\"]},",
		    cats[pick(g, DIM(cats))], 1000 * (1 + pick(g, 50)),
		    pick(g, 2) ? "true" : "false", pick(g, 5000), 1 + pick(g, 3), 3 + pick(g, 200),
		    zipfish(g, 200000), zipfish(g, 200000), zipfish(g, 200000));
		session(g);
		break;
	}
	out(g, "\"labels\":[\"%s\",\"%s\"],", pick(g, 2) ? "web" : "mobile",
	    pick(g, 5) ? "organic" : "campaign");
	trace(g);
	return (size_t)(g->p - buf);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: isthmus-corpus [-n COUNT] [-s SEED] -o FILE [--flat FLATFILE]\n"
		"\n"
		"Writes COUNT (default 20000) synthetic JSON events of about 1 KB (600..1600\n"
		"bytes: shop orders, page views, carts, payments, logins, searches), the same\n"
		"bytes for the same SEED (default 1) and COUNT.\n"
		"\n"
		"FILE: the events as length-prefixed records, back to back: for each event a\n"
		"      4-byte big-endian unsigned length, then that many bytes of JSON (UTF-8,\n"
		"      no terminator). isthmus-bench-codec reads this format.\n"
		"FLATFILE: the same events concatenated without lengths or separators, for\n"
		"      the CLI baselines: lz4 -b1 -B16384 FLATFILE, zstd -b1 -B16384 FLATFILE.\n");
}

static int put_be32(FILE *f, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	return fwrite(b, 1, 4, f) == 4 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"count", required_argument, NULL, 'n'}, {"seed", required_argument, NULL, 's'},
		{"out", required_argument, NULL, 'o'},   {"flat", required_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
	const char *path = NULL, *flat_path = NULL;
	unsigned long count = 20000, i;
	uint64_t seed = 1, bytes = 0;
	struct gen g;
	char buf[EV_MAX], *end;
	FILE *f, *flat = NULL;
	size_t len;
	int c;

	while ((c = getopt_long(argc, argv, "n:s:o:F:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			count = strtoul(optarg, &end, 10);
			if (errno || *end || count == 0) {
				fprintf(stderr, "isthmus-corpus: -n %s: need a count >= 1\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno || *end) {
				fprintf(stderr, "isthmus-corpus: -s %s: need an integer seed\n",
					optarg);
				return 2;
			}
			break;
		case 'o':
			path = optarg;
			break;
		case 'F':
			flat_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	f = fopen(path, "wb");
	if (f == NULL) {
		fprintf(stderr, "isthmus-corpus: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (flat_path != NULL) {
		flat = fopen(flat_path, "wb");
		if (flat == NULL) {
			fprintf(stderr, "isthmus-corpus: %s: %s\n", flat_path, strerror(errno));
			fclose(f);
			return 1;
		}
	}
	memset(&g, 0, sizeof(g));
	g.s = seed;
	g.ts_ms = 1714550400000ull; /* 2024-05-01T08:00:00Z */
	for (i = 0; i < count; i++) {
		len = event(&g, buf, sizeof(buf));
		if (put_be32(f, (uint32_t)len) < 0 || fwrite(buf, 1, len, f) != len ||
		    (flat != NULL && fwrite(buf, 1, len, flat) != len)) {
			fprintf(stderr, "isthmus-corpus: write failed: %s\n", strerror(errno));
			return 1;
		}
		bytes += len;
	}
	if (fclose(f) != 0 || (flat != NULL && fclose(flat) != 0)) {
		fprintf(stderr, "isthmus-corpus: close failed: %s\n", strerror(errno));
		return 1;
	}
	printf("isthmus-corpus: %lu events, %" PRIu64 " bytes (%.0f per event), seed %" PRIu64
	       " -> %s%s%s\n",
	       count, bytes, (double)bytes / (double)count, seed, path, flat_path ? ", " : "",
	       flat_path ? flat_path : "");
	return 0;
}
