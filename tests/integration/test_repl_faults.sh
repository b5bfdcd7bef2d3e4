#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Replication fed bad input. Region eu-west (two brokers) is replicated to
# us-east through the WAN emulator, with these faults:
#
#  1. Records larger than the destination accepts: appliance B's sink cluster
#     takes at most 20000 bytes a record (rdkafka.message.max.bytes). A 60 KB
#     record (larger than a frame: sent in split frames) goes to payments[0]
#     and a 25 KB one (fits a frame) to payments[1], with normal records before
#     and after them. Each payments sink stream must fail or halt with a
#     reason that names the record's source offset and says to raise
#     message.max.bytes, retry with a growing back-off, keep every record
#     before the big one and write none after it (no skip); orders goes on.
#  2. A source broker goes down for 5 s and comes back under load: nothing
#     lost or duplicated.
#  3. A slow destination: region B answers after 800 ms for 8 s under load.
#     No errors, the source keeps only its window in flight, then catches up.
#  4. A gap: before the appliances start, us-east's audit[0] ends with a
#     record claiming eu-west's audit[0] offset 1000000 while the source has
#     3 records. The source stream audit[0] must halt with a GAP: reason
#     naming the offsets, counted in /metrics and shown by `isthmus status`;
#     audit[1] and the other topics keep replicating.
#
# Checks that records arrived or are intact use `isthmus verify`. Under a
# minute when it passes. Usage: test_repl_faults.sh SRCDIR BUILDDIR
set -euo pipefail

src=$1
bld=$2

tmp=$(mktemp -d /tmp/isthmus-faults.XXXXXX)
tag=rf$$
. "$(dirname "$0")/lib.sh"
. "$src/perf/repl_env.sh"

DST_MAX=20000   # rdkafka.message.max.bytes of appliance B's sink cluster
BIG0=60000      # into payments[0]: above a frame (frame_kb 32) and DST_MAX
BIG1=25000      # into payments[1]: fits a frame, above DST_MAX
GAP_CLAIM=1000000
GAP_HAVE=3      # records of eu-west's audit[0]

cleanup() {
	repl_down
	stop_all
	if [ $fails -ne 0 ]; then
		show_logs 25
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- helpers ----

cat >"$tmp/faults.py" <<'EOF'
import json, sys

def load(path):
    with open(path) as f:
        return json.load(f)

def streams(st):
    r = (st.get("dataplane") or {}).get("replication") or {}
    return r.get("streams") or []

def verdict_clean(p):
    return p["missing"] == 0 and not p["differences"] and all(
        p[k] == 0 for k in ("duplicated", "reordered", "altered", "foreign", "misplaced"))

def cmd_streams(path):
    # One TSV line per stream: side topic partition state errors repairs frames lag reason
    for s in streams(load(path)):
        print("\t".join(str(x) for x in (
            s["side"], s["topic"], s["partition"], s["state"], s.get("errors", 0),
            s.get("repairs", 0), s["frames"], s.get("lag_records", 0), s["reason"] or "-")))

def cmd_cut(path, *cuts):
    # Partition P of the verified topic holds exactly source offsets low..K-1.
    want = {int(p): int(k) for p, k in (c.split(":") for c in cuts)}
    ok = True
    for t in load(path)["topics"]:
        for p in t["partitions"]:
            k = want.get(p["partition"])
            if k is None:
                continue
            d = p["differences"]
            good = (p["source_high"] > k + 1 and p["dest_records"] == k - p["source_low"]
                    and all(p[x] == 0 for x in ("duplicated", "reordered", "altered",
                                                  "foreign", "misplaced"))
                    and len(d) == 1 and d[0]["kind"] == "missing"
                    and d[0]["source_offset"] == k
                    and d[0]["source_offset_last"] == p["source_high"] - 1)
            print("%s[%d]: source %d..%d, destination %d records, cut at %d: %s %s" % (
                t["topic"], p["partition"], p["source_low"], p["source_high"] - 1,
                p["dest_records"], k, "ok" if good else "WRONG", json.dumps(d)))
            ok = ok and good
            del want[p["partition"]]
    sys.exit(0 if ok and not want else 1)

def cmd_audit(path, have):
    # audit[0]: only the record that claims the gap; audit[1]: equal to its source.
    ok = True
    for t in load(path)["topics"]:
        for p in t["partitions"]:
            if p["partition"] == 0:
                good = (p["dest_records"] == 1 and p["source_records"] == int(have)
                        and all(p[x] == 0 for x in ("duplicated", "altered", "misplaced")))
            else:
                good = p["source_records"] > 0 and verdict_clean(p)
            print("%s[%d]: source %d, destination %d: %s" % (
                t["topic"], p["partition"], p["source_records"], p["dest_records"],
                "ok" if good else "WRONG"))
            ok = ok and good
    sys.exit(0 if ok else 1)

def cmd_inflight(path_a, ta, path_b, tb, topic, bound):
    # Frames the source cut and the sink has not taken, per partition of topic,
    # only when B's snapshot is not older than A's (else exit 2: no sample).
    try:
        a, b = load(path_a), load(path_b)
        snap_a = int(ta) - a["dataplane"]["last_update_ms_ago"]
        snap_b = int(tb) - b["dataplane"]["last_update_ms_ago"]
    except (ValueError, KeyError, TypeError):
        sys.exit(2)
    if snap_b < snap_a:
        sys.exit(2)
    cut = {s["partition"]: s["frames"] for s in streams(a)
           if s["side"] == "source" and s["topic"] == topic}
    took = {s["partition"]: s["frames"] for s in streams(b)
            if s["side"] == "sink" and s["topic"] == topic}
    if not cut:
        sys.exit(2)
    worst = max(cut[p] - took.get(p, 0) for p in cut)
    print(worst)
    sys.exit(0 if worst <= int(bound) else 1)

globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
EOF
fpy() { python3 "$tmp/faults.py" "$@"; }

# wait_s SECONDS COMMAND...: poll every 0.5 s until the command succeeds, for
# at most SECONDS of wall-clock time (a status round trip takes a while here).
wait_s() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.5
	done
}

# status_json X FILE: appliance X's status into FILE; prints the time asked (ms).
status_json() {
	local t
	t=$(date +%s%3N)
	repl_cli "$1" status --json >"$2" 2>/dev/null || return 1
	echo "$t"
}

# streams X: appliance X's streams, one TSV line each (see faults.py).
streams() {
	status_json "$1" "$tmp/st-$1.json" >/dev/null && fpy streams "$tmp/st-$1.json"
}

# stream X SIDE TOPIC PART: that stream's line.
stream() {
	streams "$1" | awk -F'\t' -v s="$2" -v t="$3" -v p="$4" \
		'$1 == s && $2 == t && $3 == p { print; found = 1 } END { exit !found }'
}

# running_but REGEX: every stream of both appliances runs, except those whose
# "side topic partition" matches REGEX.
running_but() {
	local x out
	for x in a b; do
		out=$(streams "$x") || return 1
		[ -n "$out" ] || return 1
		awk -F'\t' -v skip="$1" '
			($1 " " $2 " " $3) ~ skip { next }
			$4 != "running" { bad = 1 }
			END { exit bad }' <<<"$out" || return 1
	done
}

# Streams that are meant to stop: the gap, and payments once it has the big records.
KNOWN_STOPPED='^source audit 0$'

# stopped_with X SIDE TOPIC PART REGEX: the stream failed or halted, reason matching.
stopped_with() {
	local line
	line=$(stream "$1" "$2" "$3" "$4") || return 1
	awk -F'\t' -v re="$5" '($4 == "failed" || $4 == "halted") && $9 ~ re { ok = 1 }
		END { exit !ok }' <<<"$line"
}

verify_clean() { # verify_clean WAIT_S TOPIC...: isthmus verify, output to $tmp/verify.out
	local w=$1 t args=()
	shift
	for t in "$@"; do args+=(--topic "$t"); done
	if "$REPL_CLI" verify --source "$ISTHMUS_REGION_A_BOOTSTRAP" \
		--dest "$ISTHMUS_REGION_B_BOOTSTRAP" "${args[@]}" --wait "$w" \
		>"$tmp/verify.out" 2>&1; then
		tail -n 1 "$tmp/verify.out" | sed 's/^/# /'
		return 0
	fi
	sed 's/^/# /' "$tmp/verify.out" | head -30
	return 1
}

verify_json() { # verify_json TOPIC FILE: one pass, the JSON report into FILE
	"$REPL_CLI" verify --source "$ISTHMUS_REGION_A_BOOTSTRAP" \
		--dest "$ISTHMUS_REGION_B_BOOTSTRAP" --topic "$1" --json --max-report 20 \
		>"$2" 2>/dev/null || [ -s "$2" ]
}

payments_cut() { # payments_cut K0 K1
	verify_json payments "$tmp/pay.json" && fpy cut "$tmp/pay.json" "0:$1" "1:$2"
}

# offset_of_size TOPIC PART BYTES: source offset of the first record of that size.
offset_of_size() {
	kcat -C -b "$ISTHMUS_REGION_A_BOOTSTRAP" -t "$1" -p "$2" -o beginning -e -q \
		-f '%o %S\n' | awk -v n="$3" '$2 == n { print $1; exit }'
}

big_record() { # big_record TOPIC PART BYTES: one record of BYTES 'x' into region A
	head -c "$3" /dev/zero | tr '\0' x |
		kcat -P -b "$ISTHMUS_REGION_A_BOOTSTRAP" -t "$1" -p "$2"
}

sink_errors() { # sink_errors PART: the errors counter of sink payments[PART]
	stream b sink payments "$1" | cut -f5
}

# Before anything starts: B's destination takes small records only, the flow
# also replicates audit, and us-east's audit[0] claims an offset eu-west's
# audit[0] never had (with the provenance headers the sink writes).
repl_pre_start() {
	local i
	grep -q '^\[kafka region-b\]$' "$tmp/b.conf" &&
		grep -q '^include = orders payments$' "$tmp/a.conf" ||
		{ echo "config/examples/repl-region-*.conf changed; update $0" >&2; return 1; }
	sed -i "/^\[kafka region-b\]\$/a rdkafka.message.max.bytes = $DST_MAX" "$tmp/b.conf"
	sed -i 's/^include = orders payments$/& audit/' "$tmp/a.conf" "$tmp/b.conf"
	for i in $(seq "$GAP_HAVE"); do echo "audit-$i"; done |
		kcat -P -b "$ISTHMUS_REGION_A_BOOTSTRAP" -t audit -p 0
	for i in $(seq 5); do echo "audit-$i"; done |
		kcat -P -b "$ISTHMUS_REGION_A_BOOTSTRAP" -t audit -p 1
	echo "written by another history" |
		kcat -P -b "$ISTHMUS_REGION_B_BOOTSTRAP" -t audit -p 0 \
			-H isthmus.origin.region=eu-west -H isthmus.origin.cluster=region-a \
			-H isthmus.origin.topic=audit -H isthmus.origin.partition=0 \
			-H "isthmus.origin.offset=$GAP_CLAIM"
}

echo "1..21"
repl_brokers[a]=2
repl_up delay=5ms orders:4 payments:2 audit:2
window=$(awk -F= '/^window[ \t]*=/ { print $2 + 0; exit }' "$tmp/a.conf")
check "both appliances start and every stream runs but the gap's" \
	wait_s 60 running_but "$KNOWN_STOPPED"

# ---- 4. the gap (set up before the start) ----
gap_re="^GAP: .*[^0-9]($GAP_CLAIM|$((GAP_CLAIM + 1)))[^0-9].*[^0-9]$GAP_HAVE([^0-9]|\$)"
check "gap: source audit[0] halts with a GAP: reason naming the offsets" \
	wait_s 30 stopped_with a source audit 0 "$gap_re"
stream a source audit 0 | cut -f9 | sed 's/^/# /' || true
gap_metric() {
	local series='^isthmus_stream_gaps_total\{.*side="source",topic="audit",partition="0"\}'
	curl -fsS "http://127.0.0.1:$ISTHMUS_HTTP_PORT_A/metrics" | grep -E "$series" |
		awk '$NF >= 1 { ok = 1 } END { exit !ok }'
}
check "gap: /metrics counts it (isthmus_stream_gaps_total of source audit[0])" \
	wait_s 20 gap_metric
gap_text() { repl_cli a status | grep -E '^source +audit +0 +halted .*GAP: '; }
check "gap: isthmus status shows source audit[0] halted with the GAP: reason" \
	wait_s 20 gap_text

# ---- 1. records larger than the destination accepts ----
"$REPL_LOADGEN" --bootstrap "$ISTHMUS_REGION_A_BOOTSTRAP" --topic orders --topic payments \
	--records 400 --headers --nulls --seed 21 >>"$tmp/loadgen.log" 2>&1 || true
check "oversized: before the big records, orders and payments replicate (verify clean)" \
	verify_clean 60 orders payments
big_record payments 0 "$BIG0"
big_record payments 1 "$BIG1"
"$REPL_LOADGEN" --bootstrap "$ISTHMUS_REGION_A_BOOTSTRAP" --topic orders --topic payments \
	--records 400 --headers --nulls --seed 22 >>"$tmp/loadgen.log" 2>&1 || true
k0=$(offset_of_size payments 0 "$BIG0")
k1=$(offset_of_size payments 1 "$BIG1")
log "big records: payments[0] offset ${k0:-?} ($BIG0 bytes)," \
	"payments[1] offset ${k1:-?} ($BIG1 bytes)"
KNOWN_STOPPED='^(source audit 0|(source|sink) payments [01])$'
too_big_re() { echo "offset $1([^0-9]|\$).*message[.]max[.]bytes"; }
check "oversized: sink payments[0] fails with a reason naming offset $k0 and message.max.bytes" \
	wait_s 30 stopped_with b sink payments 0 "$(too_big_re "$k0")"
stream b sink payments 0 | sed 's/^/# /' || true
stream a source payments 0 | sed 's/^/# /' || true
check "oversized: sink payments[1] fails with a reason naming offset $k1 and message.max.bytes" \
	wait_s 30 stopped_with b sink payments 1 "$(too_big_re "$k1")"
stream b sink payments 1 | sed 's/^/# /' || true
too_big_text() { # too_big_text PART K
	repl_cli b status >"$tmp/status-b.txt" || return 1
	grep -E "^sink +payments +$1 +(failed|halted) .*offset $2[^0-9].*message\.max\.bytes" \
		"$tmp/status-b.txt"
}
check "oversized: isthmus status shows sink payments[0] stopped, with the reason" \
	wait_s 30 too_big_text 0 "$k0"
check "oversized: isthmus status shows sink payments[1] stopped, with the reason" \
	wait_s 30 too_big_text 1 "$k1"
check "oversized: orders keeps replicating (records after the big ones arrive, verify clean)" \
	verify_clean 60 orders
check "oversized: payments holds every record before the big one and none after it (no skip)" \
	wait_s 60 payments_cut "$k0" "$k1"
fpy cut "$tmp/pay.json" "0:$k0" "1:$k1" 2>/dev/null | sed 's/^/# /' || true
# The back-off is measured across cases 2 and 3.
err0_0=$(sink_errors 0 || echo 0)
err1_0=$(sink_errors 1 || echo 0)
backoff_t0=$SECONDS

# ---- 2. a source broker goes down and comes back ----
start loadgen-2 "$REPL_LOADGEN" --bootstrap "$ISTHMUS_REGION_A_BOOTSTRAP" --topic orders \
	--duration 16 --rate 400 --headers --nulls --seed 23
gen=$last_pid
sleep 3
# kcat -L: "partition 0, leader 2, replicas: 1,2, isrs: 1,2"
leader=$(kcat -L -b "$ISTHMUS_REGION_A_BOOTSTRAP" -t orders |
	awk '/partition 0,/ {
		for (i = 1; i < NF; i++)
			if ($i == "leader") { sub(",", "", $(i + 1)); print $(i + 1) }
	}')
log "region eu-west: broker ${leader:-?} leads orders[0]; down for 5 s"
bounce() {
	"$REPL_REGION" ctl "$tmp/region-a.sock" broker "$leader" down &&
		sleep 5 &&
		"$REPL_REGION" ctl "$tmp/region-a.sock" broker "$leader" up
}
check "broker down: eu-west's broker $leader (leads orders[0]) goes down and comes back" \
	bounce
gen_rc=0
wait "$gen" || gen_rc=$?
check "broker down: the load generator produced all it was asked to" test "$gen_rc" -eq 0
check "broker down: every stream runs again (but the stopped ones)" \
	wait_s 60 running_but "$KNOWN_STOPPED"
check "broker down: orders at the destination equals the source (verify clean)" \
	verify_clean 90 orders

# ---- 3. a slow destination ----
start loadgen-3 "$REPL_LOADGEN" --bootstrap "$ISTHMUS_REGION_A_BOOTSTRAP" --topic orders \
	--duration 16 --rate 400 --headers --nulls --seed 24
gen=$last_pid
sleep 3
orders_sink_counts() { # errors and repairs of the orders sink streams
	streams b | awk -F'\t' '$1 == "sink" && $2 == "orders" { e += $5; r += $6 }
		END { print e + 0, r + 0 }'
}
read -r e_before r_before < <(orders_sink_counts)
"$REPL_REGION" ctl "$tmp/region-b.sock" broker 1 rtt 800 >&2
# Sample while the destination is slow. Frames the source cut that the sink
# has not taken: at most the sink's credit (window), the source's queue to
# link-tx (8 frames) and the frame being handed over.
bound=$((window + 8 + 1))
slow_ok=1 samples=0 worst=0
end=$((SECONDS + 8))
while [ $SECONDS -lt $end ]; do
	sleep 0.3
	ta=$(status_json a "$tmp/sa.json") || continue
	# B's snapshot must not be older than A's (controls refresh every 0.5 s).
	for _ in 1 2 3 4 5; do
		rc=0 n=
		tb=$(status_json b "$tmp/sb.json") &&
			n=$(fpy inflight "$tmp/sa.json" "$ta" "$tmp/sb.json" "$tb" \
				orders "$bound") ||
			rc=$?
		[ $rc -eq 2 ] || break
		sleep 0.2
	done
	if [ $rc -ne 2 ]; then
		samples=$((samples + 1))
		[ "${n:-0}" -le "$worst" ] || worst=$n
	fi
	fpy streams "$tmp/sa.json" >"$tmp/sa.tsv" && fpy streams "$tmp/sb.json" >"$tmp/sb.tsv" ||
		continue
	if ! awk -F'\t' '$2 == "orders" && $4 != "running" { bad = 1 } END { exit bad }' \
		"$tmp/sa.tsv" "$tmp/sb.tsv"; then
		log "slow destination: an orders stream stopped:"
		grep -P '\torders\t' "$tmp/sa.tsv" "$tmp/sb.tsv" | sed 's/^/# /'
		slow_ok=0
	fi
done
"$REPL_REGION" ctl "$tmp/region-b.sock" broker 1 rtt 0 >&2
read -r e_after r_after < <(orders_sink_counts)
log "slow destination: ${samples} samples, most frames in flight ${worst} (bound ${bound})"
log "orders sink errors ${e_before} -> ${e_after}, repairs ${r_before} -> ${r_after}"
check "slow destination: every orders stream keeps running, no destination errors or repairs" \
	test "$slow_ok" -eq 1 -a "$e_after" -eq "$e_before" -a "$r_after" -eq "$r_before"
check "slow destination: the source keeps at most its window in flight ($worst <= $bound frames)" \
	test "$samples" -ge 1 -a "$worst" -le "$bound"
gen_rc=0
wait "$gen" || gen_rc=$?
check "slow destination: the load generator produced all it was asked to" test "$gen_rc" -eq 0
check "slow destination: orders catches up and equals the source (verify clean)" \
	verify_clean 90 orders

# ---- the gap stays isolated; the refused records are retried with back-off ----
audit_isolated() { verify_json audit "$tmp/audit.json" && fpy audit "$tmp/audit.json" "$GAP_HAVE"; }
check "gap: nothing written past the gap in audit[0]; audit[1] equals its source" \
	wait_s 30 audit_isolated
fpy audit "$tmp/audit.json" "$GAP_HAVE" 2>/dev/null | sed 's/^/# /' || true

# With the back-off doubling from 0.5 s (capped at 30 s) a record is tried
# about log2(W / 0.5) + 2 times in W seconds; every 0.5 s would be 2 W.
backoff_w=$((SECONDS - backoff_t0))
err0_1=$(sink_errors 0 || echo 0)
err1_1=$(sink_errors 1 || echo 0)
tries=$((err0_1 - err0_0 > err1_1 - err1_0 ? err0_1 - err0_0 : err1_1 - err1_0))
log "refused records tried again ${tries} times in ${backoff_w} s" \
	"(errors of payments[0] ${err0_0} -> ${err0_1}, payments[1] ${err1_0} -> ${err1_1})"
check "oversized: refused records are retried with a growing back-off ($tries in ${backoff_w} s)" \
	test "$tries" -le $((backoff_w / 4 + 6))
log "runtime ${SECONDS} s"
exit $((fails > 0))
