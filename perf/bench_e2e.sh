#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End-to-end replication benchmark: two emulated regions (isthmus-region)
# replicated by two appliances through isthmus-wanem at 50 ms RTT and 0.5 %
# loss (perf/repl_env.sh, config/examples/repl-region-{a,b}.conf), beside a
# `kcat -C | kcat -P` pipe moving the same records between the same regions
# in the same run.
#
#   perf/bench_e2e.sh [BUILD_DIR] [RECORDS]
#
# Throughput, TRIALS times (default 5), each with fresh regions:
#   1. The WAN emulator and both appliances start; once every stream runs,
#      appliance A's kafka-in lcore is paused (isthmus pause).
#   2. RECORDS (default 30000) ~1 KB JSON records (isthmus-loadgen --json,
#      keyed) are written into region A's topic `orders` (16 partitions).
#   3. baseline: kcat -C (region A, from the beginning to the end) piped into
#      kcat -P (region B, a fresh topic `orders-kcat`, key and value split at
#      a tab), while region B's broker adds 50 ms to every response (the
#      pipe's kernel TCP cannot go through the DPDK emulator): delay, no loss.
#      Time: pipe start to kcat -P's exit (every record acknowledged).
#   4. ours: kafka-in resumes (isthmus resume); isthmus-e2e-lag on region B
#      notes when the last of the RECORDS became readable in B's `orders`.
#      Time: resume to that moment.
#   Rate = RECORDS / time; the RESULT takes the median of the trials for each.
# Then, in the last trial's regions:
#   5. lag: isthmus-loadgen writes RATE rec/s (default 2000) for LAG_S s
#      (default 15) into A; isthmus-e2e-lag on B measures, per record, the
#      time it became readable minus its CreateTime (stamped by the producer
#      in A, same host clock).
#   6. isthmus verify compares B's `orders` with A's, record by record.
#
# Prints
#   RESULT e2e ours=<rec/s> rec/s baseline=<kcat rec/s> rec/s ratio=<ours/kcat>
#   RESULT e2e-lag-p99 ours=<ms> ms baseline=50 ms ratio=<ours/50>
# with informative lines around them, and keeps the whole output in
# perf/results/e2e.txt. Needs root, hugepages, kcat, python3; about 1 min.
#
# Environment: RATE, LAG_S, TRIALS as above. TOPIC=payments runs it on the
# example's other replicated topic (class critical: lz4, no class rate cap)
# instead of orders (class bulk: zstd, rate_mbps = 100). E2E_KEEP=DIR keeps
# the per-record lag dump, the arrival times of ours, the appliances' status
# sampled every 250 ms and the logs in DIR. Only a plain run (orders, no
# E2E_KEEP) is saved in perf/results.
#
# The mock cluster keeps at most ~5 MiB per partition (docs/REGION.md) and the
# example core map carries at most 16 partitions (link.streams = 16), so
# RECORDS + RATE * LAG_S is capped at 64000 (~4.5 MiB a destination
# partition, provenance headers included).
set -u

src=$(cd "$(dirname "$0")/.." && pwd)
bld=$src/build
if [ $# -gt 0 ] && [ -d "$1" ]; then bld=$(cd "$1" && pwd); shift; fi
N=${1:-30000}
RATE=${RATE:-2000}
LAG_S=${LAG_S:-15}
TRIALS=${TRIALS:-5}
RTT=50
LOSS=0.5
SPEC="delay=$((RTT / 2))ms,loss=${LOSS}%"
PARTS=16
TOPIC=${TOPIC:-orders}
KTOPIC=$TOPIC-kcat
MAX_RECORDS=64000
out=$src/perf/results/e2e.txt

case $N in '' | *[!0-9]*) echo "bench_e2e: RECORDS '$N' is not a number" >&2; exit 2 ;; esac
case $TOPIC in
orders | payments) ;;
*)
	echo "bench_e2e: TOPIC '$TOPIC' is not one of the flow's topics, orders and payments" >&2
	exit 2
	;;
esac
case $TRIALS in [1-9]) ;; *) echo "bench_e2e: TRIALS '$TRIALS' is not 1..9" >&2; exit 2 ;; esac
if [ "$N" -lt 1000 ] || [ $((N + RATE * LAG_S)) -gt $MAX_RECORDS ]; then
	echo "bench_e2e: RECORDS + RATE * LAG_S = $((N + RATE * LAG_S)) must be from 1000 to" \
		"$MAX_RECORDS: the mock cluster drops a partition's oldest records beyond ~5 MiB" >&2
	exit 2
fi
for b in perf/isthmus-region perf/isthmus-wanem perf/loadgen/isthmus-loadgen \
	perf/loadgen/isthmus-e2e-lag dataplane/isthmus-dataplane control/isthmus-control \
	control/isthmus; do
	[ -x "$bld/$b" ] ||
		{ echo "bench_e2e: missing $bld/$b (build it, or give BUILD_DIR)" >&2; exit 2; }
done
for c in kcat python3; do
	command -v $c >/dev/null || { echo "bench_e2e: $c not found" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/isthmus-e2e.XXXXXX)
tag=e2e$$
E2E_LAG=$bld/perf/loadgen/isthmus-e2e-lag
. "$src/tests/integration/lib.sh"
. "$src/perf/repl_env.sh"
report=$tmp/report
kpids=()

# Kill a process this shell started, by PID, only while it is still our child
# (a PID reaped earlier may belong to someone else by now), and reap it.
kill_child() {
	[ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ] || return 0
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# Stop everything started so far (repl_down and stop_all, but PID-safe).
e2e_down() {
	local n p
	for n in "${!repl_pid[@]}"; do
		kill_child "${repl_pid[$n]}"
		unset "repl_pid[$n]"
	done
	for p in "${pids[@]}"; do kill_child "$p"; done
	pids=()
	rm -rf /var/run/dpdk/isthmus-"$tag"-*
}

cleanup() {
	local p
	for p in "${kpids[@]}"; do kill_child "$p"; done
	e2e_down
	[ -n "${E2E_KEEP:-}" ] && mkdir -p "$E2E_KEEP/logs" &&
		cp "$tmp"/*.log "$E2E_KEEP/logs/" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "$*" | tee -a "$report"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { $1 }"; }
# field KEY FILE: the value of KEY=... on the helper's last result line.
field() { sed -n "s/.*[ :]$1=\([^ ]*\).*/\1/p" "$2" | tail -n 1; }
median() { printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '{ v[NR] = $1 }
	END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
	      else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

logs_tail() {
	local f
	for f in "$@"; do
		[ -f "$tmp/$f.log" ] || continue
		echo "--- $f.log (last 15 lines)"
		tail -n 15 "$tmp/$f.log"
	done | tee -a "$report" >&2
}

# e2e_lag_start NAME ARGS...: the helper in the background, once it is assigned.
e2e_lag_start() {
	local name=$1
	shift
	rm -f "$tmp/$name.ready" "$tmp/$name.log"
	start "$name" "$E2E_LAG" --ready-file "$tmp/$name.ready" "$@"
	for _ in $(seq 200); do
		[ -e "$tmp/$name.ready" ] && return 0
		kill -0 "$last_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench_e2e: isthmus-e2e-lag ($name) did not start" >&2
	logs_tail "$name"
	return 1
}

: >"$report"
say "# perf/bench_e2e.sh $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs (shared; load average" \
	"$(cut -d' ' -f1-3 /proc/loadavg); other isthmus DPDK processes:" \
	"$(ps -eo comm= | grep -cE '^isthmus-(datapla|wanem)')), build $bld"
say "# $TRIALS trials of $N records of ~1 KB JSON (loadgen --json --keys 100000), topic" \
	"$TOPIC:$PARTS; link $SPEC (RTT $RTT ms); lag load $RATE rec/s for $LAG_S s"
say "# classes of config/examples/repl-region-a.conf: $(sed -n '/^\[class /,$p' \
	"$src/config/examples/repl-region-a.conf" | grep -v '^;' | sed 's/ *;.*//' | tr -s '\n ' '  ')"
t_begin=$(now)
bases=()
ourss=()

# The lcore of appliance A that runs kafka-in: pausing it holds replication back.
src_lcore() {
	repl_cli a status --json 2>/dev/null | python3 -c '
import json, sys
for lc in json.load(sys.stdin)["dataplane"]["lcores"]:
    if any(r["name"] == "kafka-in" for r in lc["roles"]):
        print(lc["id"])
        break'
}

# Two consecutive TCP ports nobody uses, from 20000-32699.
free_port_pair() {
	local p used
	used=$(ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 12700))
		grep -qx -e "$p" -e "$((p + 1))" <<<"$used" || break
	done
	echo "$p"
}

# lcore_set LCORE pause|resume on appliance A, until its status says so: the
# lcore takes commands between polls, and a busy or starved one answers late
# (HTTP 504), so the command is repeated (it is idempotent).
lcore_set() {
	local want=true
	[ "$2" = resume ] && want=false
	for _ in $(seq 10); do
		repl_cli a "$2" --lcore "$1" >"$tmp/lcore.out" 2>&1
		repl_cli a status --json 2>/dev/null | python3 -c '
import json, sys
for lc in json.load(sys.stdin)["dataplane"]["lcores"]:
    if lc["id"] == int(sys.argv[1]):
        sys.exit(0 if str(lc["paused"]).lower() == sys.argv[2] else 1)
sys.exit(1)' "$1" "$want" && return 0
		sleep 0.5
	done
	return 1
}

# The emulator and both appliances still run; else $dead names the ones gone.
alive() {
	local n
	dead=""
	for n in wanem dp-a dp-b ctl-a ctl-b; do
		kill -0 "${repl_pid[$n]}" 2>/dev/null || dead="$dead $n"
	done
	[ -z "$dead" ]
}

# One throughput trial in fresh regions; leaves the appliances running.
trial() {
	local i=$1 lc running first tk0 kcount krc t_kcat base n ocount orc ours last t_ours
	repl_regions_up "$TOPIC:$PARTS" || { logs_tail region-a region-b; return 1; }
	A=$ISTHMUS_REGION_A_BOOTSTRAP
	B=$ISTHMUS_REGION_B_BOOTSTRAP
	# repl_env.sh draws the API ports from 20000-39999, which overlaps the
	# kernel's ephemeral ports (32768-): take two free ones below them.
	ISTHMUS_HTTP_PORT_A=$(free_port_pair)
	ISTHMUS_HTTP_PORT_B=$((ISTHMUS_HTTP_PORT_A + 1))
	echo "$ISTHMUS_HTTP_PORT_A $ISTHMUS_HTTP_PORT_B" >"$tmp/ports"
	"$REPL_REGION" ctl "$tmp/region-b.sock" topic create "$KTOPIC" "$PARTS" 1 >/dev/null ||
		{ echo "bench_e2e: cannot create $KTOPIC in region B" >&2; return 1; }

	# 1. Emulator and appliances up, every stream running, then A's kafka-in paused.
	# The example core maps cap the link at 200 Mb/s and the bulk class at
	# 100 Mb/s (a demo on a shared laptop); the benchmark measures the
	# appliance, so it lifts both: the link is paced at 2 Gb/s, no class limit.
	repl_pre_start() {
		sed -i -e 's/^capacity_mbps = .*/capacity_mbps = 2000/' \
			-e 's/^rate_mbps = .*/rate_mbps = 0/' -e 's/^window = .*/window = 32/' \
			"$tmp/a.conf" "$tmp/b.conf"
	}
	repl_appliances_up "$SPEC"
	running=0
	for _ in $(seq 600); do
		alive || break
		repl_running && { running=1; break; }
		sleep 0.1
	done
	if [ $running = 0 ]; then
		alive
		echo "bench_e2e: trial $i: the streams did not start${dead:+ (exited:$dead)}" |
			tee -a "$report" >&2
		logs_tail wanem dp-a dp-b ctl-a ctl-b
		return 1
	fi
	# The lcore takes commands between polls: retry while it is busy (HTTP 504).
	lc=$(src_lcore)
	[ -n "$lc" ] && lcore_set "$lc" pause ||
		{ echo "bench_e2e: cannot pause appliance A's kafka-in lcore '$lc':" \
			"$(cat "$tmp/lcore.out" 2>/dev/null)" | tee -a "$report" >&2; return 1; }

	# 2. The records, in A while nothing replicates.
	"$REPL_LOADGEN" --bootstrap "$A" --topic "$TOPIC" --records "$N" --json --keys 100000 \
		--seed "$i" >"$tmp/preload.out" 2>"$tmp/preload.log" ||
		{ echo "bench_e2e: preload failed" >&2; tail -n 5 "$tmp/preload.log" >&2; return 1; }

	# 3. Baseline: kcat -C | kcat -P, region B's broker 50 ms away. kcat -P exits
	# once every record is acknowledged, i.e. readable in B.
	"$REPL_REGION" ctl "$tmp/region-b.sock" broker 1 rtt "$RTT" >/dev/null ||
		{ echo "bench_e2e: cannot set region B's broker RTT" >&2; return 1; }
	e2e_lag_start kcat-count --bootstrap "$B" --topic "$KTOPIC" --from beginning \
		--count "$N" --idle 0 --timeout 120 || return 1
	kcount=$last_pid
	t0=$(now)
	tk0=$t0
	# JSON values hold no tab or newline, keys are key-<n>: '%k\t%s\n' keeps both intact.
	# fetch.wait.max.ms: the mock holds an empty fetch for all of it (500 ms by
	# default), which would delay kcat -C's end-of-partition exit, not the data.
	(kcat -C -b "$A" -t "$TOPIC" -o beginning -e -q -X fetch.wait.max.ms=10 \
		-f '%k\t%s\n' 2>"$tmp/kcat-c.log" |
		kcat -P -b "$B" -t "$KTOPIC" -K '\t' 2>"$tmp/kcat-p.log") &
	kpids+=($!)
	wait "${kpids[-1]}"
	krc=$?
	t_kcat=$(calc "printf \"%.3f\", $(now) - $t0")
	base=nan
	if wait "$kcount" && [ $krc -eq 0 ]; then
		base=$(calc "printf \"%.0f\", $N / $t_kcat")
	else
		echo "bench_e2e: the kcat pipe (exit $krc) did not deliver $N records" >&2
		logs_tail kcat-count
		tail -n 5 "$tmp/kcat-c.log" "$tmp/kcat-p.log" >&2
	fi
	"$REPL_REGION" ctl "$tmp/region-b.sock" broker 1 rtt 0 >/dev/null
	bases+=("$base")
	# When the consumer behind the 50 ms broker saw the first record: kcat's
	# start-up (process, connections, metadata) is in the pipe's time.
	first=$(field first_unix "$tmp/kcat-count.log")
	[ -n "$first" ] && first=$(calc "printf \"%.3f\", $first - $tk0")
	say "trial $i: baseline kcat -C | kcat -P: $(field records "$tmp/kcat-count.log") records" \
		"in B, pipe start to exit $t_kcat s (first record seen in B after ${first:-nan} s):" \
		"$base rec/s"

	# 4. Ours: A's kafka-in resumes; A's records flow to B.
	e2e_lag_start ours-count --bootstrap "$B" --topic "$TOPIC" --from beginning \
		--count "$N" --idle 0 --timeout 120 ${E2E_KEEP:+--dump "$E2E_KEEP/ours-$i.dump"} ||
		return 1
	ocount=$last_pid
	t0=$(now)
	lcore_set "$lc" resume ||
		{ echo "bench_e2e: cannot resume lcore $lc: $(cat "$tmp/lcore.out")" |
			tee -a "$report" >&2; kill_child "$ocount"; return 1; }
	# Wait for the count, but give up at once if the emulator or an appliance dies.
	while kill -0 "$ocount" 2>/dev/null; do
		alive || { kill -TERM "$ocount" 2>/dev/null; break; }
		sleep 0.2
	done
	wait "$ocount"
	orc=$?
	last=$(field last_unix "$tmp/ours-count.log")
	ours=nan
	t_ours=nan
	if [ $orc -eq 0 ] && [ -n "$last" ]; then
		t_ours=$(calc "printf \"%.3f\", $last - $t0")
		ours=$(calc "printf \"%.0f\", $N / $t_ours")
	else
		echo "bench_e2e: replication did not deliver $N records${dead:+ (exited:$dead)}" |
			tee -a "$report" >&2
		logs_tail ours-count wanem dp-a dp-b ctl-a ctl-b
	fi
	ourss+=("$ours")
	say "trial $i: ours isthmus: $(field records "$tmp/ours-count.log") records in B," \
		"resume to last readable $t_ours s (first to last $(field span_s \
		"$tmp/ours-count.log") s): $ours rec/s"
	[ -z "$dead" ]
}

# Both appliances' status every 500 ms (250 with E2E_KEEP), the whole run: the
# lag phase shows it when a record took over a second. The API ports change
# with every trial: trial() leaves them in $tmp/ports.
status_log=${E2E_KEEP:-$tmp}/status.jsonl
(pa="" pb="" iv=0.5
[ -n "${E2E_KEEP:-}" ] && iv=0.25
while :; do
	read -r pa pb <"$tmp/ports" 2>/dev/null
	for x in a b; do
		p=$pa
		[ $x = b ] && p=$pb
		printf '%s %s ' "$(now)" "$x"
		[ -n "$p" ] && timeout 2 "$REPL_CLI" --api "http://127.0.0.1:$p" status --json \
			2>/dev/null | tr -d '\n'
		echo
	done
	sleep $iv
done) >"$status_log" 2>/dev/null &
kpids+=($!)
ok=1
for i in $(seq "$TRIALS"); do
	if [ "$i" -gt 1 ]; then
		[ -n "${E2E_KEEP:-}" ] && for x in a b; do
			repl_cli "$x" status >"$E2E_KEEP/status-$((i - 1))-$x.txt" 2>&1
		done
		e2e_down
	fi
	trial "$i" || { ok=0; break; }
done
base=$(median "${bases[@]}")
ours=$(median "${ourss[@]}")
say "throughput: median of ${#ourss[@]} trials: ours $ours rec/s, baseline $base rec/s" \
	"(kcat: region B's broker 50 ms away, no loss, as kernel TCP cannot cross the DPDK" \
	"emulator: a setting that favours the baseline)"

p99=""
if [ $ok = 1 ]; then
	wait_for 30 repl_running || say "lag: not every stream is running (see status below)"
	# 5. Lag under a steady load.
	e2e_lag_start lag --bootstrap "$B" --topic "$TOPIC" --from end --idle 5 --timeout 180 \
		--dump "$tmp/lag.dump" || exit 1
	lagpid=$last_pid
	t_lag0=$(now)
	"$REPL_LOADGEN" --bootstrap "$A" --topic "$TOPIC" --duration "$LAG_S" --rate "$RATE" \
		--json --keys 100000 --seed 100 >"$tmp/lagload.out" 2>"$tmp/lagload.log" ||
		{ echo "bench_e2e: lag load failed" >&2; tail -n 5 "$tmp/lagload.log" >&2; }
	produced=$(sed -n 's/^loadgen: produced \([0-9]*\) .*/\1/p' "$tmp/lagload.out")
	wait "$lagpid"
	got=$(field records "$tmp/lag.log")
	p50=$(field lag_p50_ms "$tmp/lag.log")
	p99=$(field lag_p99_ms "$tmp/lag.log")
	say "lag: $(tail -n 1 "$tmp/lagload.out" | sed 's/^loadgen: //'); ${got:-0} of them read in B"
	say "lag: readable in B minus CreateTime: p50 ${p50:-nan} ms, p99 ${p99:-nan} ms," \
		"max $(field lag_max_ms "$tmp/lag.log") ms, min $(field lag_min_ms "$tmp/lag.log")" \
		"ms, mean $(field lag_mean_ms "$tmp/lag.log") ms"
	[ "${got:-0}" = "${produced:-x}" ] || say "lag: WARNING: produced ${produced:-?}, read ${got:-0}"
	# Steady state or stalls? The lag per second of CreateTime.
	[ -s "$tmp/lag.dump" ] && python3 - "$tmp/lag.dump" "$RTT" <<'EOF' | tee -a "$report"
import sys
rows = [l.split() for l in open(sys.argv[1])]
t0 = min(int(r[3]) for r in rows)
sec = {}
for r in rows:
    sec.setdefault((int(r[3]) - t0) // 1000, []).append(int(r[4]) / 1000.0)
p99s, bad = [], []
for s in sorted(sec):
    v = sorted(sec[s])
    p99s.append(v[min(len(v) - 1, int(len(v) * 0.99))])
    if v[-1] > 4 * float(sys.argv[2]):
        bad.append("%d:%.0f" % (s, v[-1]))
p99s.sort()
print("lag: per second of CreateTime: median p99 %.1f ms, best %.1f, worst %.1f; seconds with a "
      "record over %d ms (s:max ms): %s" % (p99s[len(p99s) // 2], p99s[0], p99s[-1],
      4 * int(sys.argv[2]), " ".join(bad) or "none"))
EOF
	[ -n "${E2E_KEEP:-}" ] && cp "$tmp/lag.dump" "$E2E_KEEP/lag.dump"
	# A record over a second late: what did the appliances report meanwhile?
	if [ "$(calc "print ($(field lag_max_ms "$tmp/lag.log") + 0 > 1000)")" = 1 ]; then
		say "lag: a record took over 1 s; the appliances' status during the lag load:"
		python3 - "$status_log" "$t_lag0" "$(now)" <<'EOF' | tee -a "$report"
import json, sys
t0, t1 = float(sys.argv[2]), float(sys.argv[3])
print("     t  side  records  link  srtt/rto ms  inflight  retx  data  lcores busy  "
      "status age ms")
for line in open(sys.argv[1]):
    f = line.split(" ", 2)
    if len(f) < 3 or not (t0 - 1 <= float(f[0]) <= t1):
        continue
    try:
        dp = json.loads(f[2])["dataplane"]
    except Exception:
        print("%6.2f  %s     (no status)" % (float(f[0]) - t0, f[1]))
        continue
    l, r = dp.get("link") or {}, dp.get("replication") or {}
    recs = r.get("source_records" if f[1] == "a" else "sink_records")
    busy = ",".join("%d:%.0f%%%s" % (c["id"], c["busy_pct"], "P" if c["paused"] else "")
                    for c in dp.get("lcores", []))
    print("%6.2f  %s  %8s  %-11s  %4.0f/%-5.0f %8s  %4s  %6s  %-16s  %s" % (
        float(f[0]) - t0, f[1], recs, l.get("state"), l.get("srtt_us", 0) / 1000.0,
        l.get("rto_us", 0) / 1000.0, l.get("inflight"), (l.get("tx") or {}).get("retransmits"),
        (l.get("tx") or {}).get("data"), busy, dp.get("last_update_ms_ago")))
EOF
	fi

	# 6. Verify, and what the appliances and the emulator saw.
	repl_verify --wait 60 >"$tmp/verify.out" 2>&1
	vrc=$?
	say "verify (exit $vrc): $(tail -n 1 "$tmp/verify.out")"
	[ $vrc -eq 0 ] || sed -n '1,40p' "$tmp/verify.out" | tee -a "$report"
	say "wanem: $("$REPL_WANEM" ctl "$tmp/wanem.sock" stats 2>&1 |
		tr ' ' '\n' | grep -E '^(ab|ba)\.(rx|tx|dropped_loss)=' | tr '\n' ' ')"
	for x in a b; do
		echo "--- isthmus status, appliance $x (last trial)" >>"$report"
		repl_cli "$x" status 2>&1 | sed -n '/^LINK\|^REPLICATION/,$p' >>"$report"
	done
fi

ratio=nan
[ "$base" != nan ] && [ "$ours" != nan ] && ratio=$(calc "printf \"%.2f\", $ours / $base")
lratio=$(calc "if (\"${p99}\" != \"\") printf \"%.2f\", ${p99:-0} / $RTT; else print \"nan\"")
say "RESULT e2e ours=$ours rec/s baseline=$base rec/s ratio=$ratio"
say "RESULT e2e-lag-p99 ours=${p99:-nan} ms baseline=$RTT ms ratio=$lratio"
say "# runtime $(calc "printf \"%.0f\", $(now) - $t_begin") s"

# perf/results keeps the standard run only (topic orders, no diagnostics).
if [ $ok = 1 ] && [ "$TOPIC" = orders ] && [ -z "${E2E_KEEP:-}" ]; then
	mkdir -p "$src/perf/results"
	cp "$report" "$out"
fi
exit $((1 - ok))
