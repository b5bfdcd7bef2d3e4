#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The demo: region eu-west's Kafka topics replicated to region us-east,
# exactly once per partition, across a WAN emulator at 60 ms RTT and 0.5 %
# loss. Starts two emulated regions (Kafka mock clusters), the WAN
# emulator, two appliances (data plane + control each), and a load
# generator writing ~1 KB JSON events into eu-west; shows a live progress
# line, then both appliances' status, and ends with `isthmus verify`
# comparing every destination partition with its source record by record.
# Stops everything it started. Usage: bash scripts/demo.sh [BUILD_DIR]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
src=$top
bld=$(cd "${1:-build}" && pwd)
seconds=${ISTHMUS_DEMO_SECONDS:-30}
rate=${ISTHMUS_DEMO_RATE:-2000}
tmp=$(mktemp -d /tmp/isthmus-demo.XXXXXX)
tag=demo$$
pids=()

say() { printf 'demo: %s\n' "$*"; }

start() { # start NAME COMMAND...: background, log to $tmp/NAME.log, sets last_pid
	local name=$1
	shift
	"$@" >>"$tmp/$name.log" 2>&1 &
	last_pid=$!
	pids+=("$last_pid")
}

. "$src/perf/repl_env.sh"

cleanup() {
	local rc=$? p
	repl_down
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ $rc -ne 0 ]; then
		say "failed; the processes' logs:"
		tail -n 5 "$tmp"/*.log 2>/dev/null || true
	fi
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
	local t=$1 what=$2
	shift 2
	for _ in $(seq $((t * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	say "timed out after ${t}s waiting for $what"
	return 1
}

say "starting regions eu-west and us-east, the WAN emulator (60 ms RTT, 0.5 % loss) and two appliances"
# The mock clusters keep about 5 MB per partition (older records are deleted
# like retention would), so the demo spreads its ~60 MB over 24 partitions.
repl_up delay=30ms,loss=0.5% orders:12 payments:12
say "region eu-west Kafka at $ISTHMUS_REGION_A_BOOTSTRAP"
say "region us-east Kafka at $ISTHMUS_REGION_B_BOOTSTRAP"
wait_for 60 "every replication stream to run" repl_running
say "link established, 24 partitions running; writing ${rate} JSON events/s into eu-west for ${seconds}s"

start loadgen "$REPL_LOADGEN" --bootstrap "$ISTHMUS_REGION_A_BOOTSTRAP" --topic orders \
	--topic payments --duration "$seconds" --rate "$rate" --json --keys 5000 --headers --seed 7
gen=$last_pid

# One progress line every 2 s: records/s and MB/s landing in us-east, the
# link's rate, the compression ratio and the lag (records eu-west has that
# us-east does not yet have).
progress() {
	python3 - "$tmp/snap" <<'PY'
import json, os, subprocess, sys, time
def st(x):
    out = subprocess.run([os.environ["REPL_CLI"], "-c", os.environ["tmp"] + "/%s.conf" % x,
                          "status", "--json"], capture_output=True, text=True).stdout
    return json.loads(out)["dataplane"]
a, b = st("a"), st("b")
ra, rb = a["replication"] or {}, b["replication"] or {}
now = time.time()
rec, byt = rb.get("sink_records", 0), rb.get("sink_bytes", 0)
high = sum(max(s.get("high_watermark", 0), 0) for s in ra.get("streams", []))
prev = None
if os.path.exists(sys.argv[1]):
    prev = json.load(open(sys.argv[1]))
json.dump({"t": now, "rec": rec, "bytes": byt}, open(sys.argv[1], "w"))
dt = now - prev["t"] if prev else 0
rps = (rec - prev["rec"]) / dt if dt > 0 else 0
mbs = (byt - prev["bytes"]) / dt / 1e6 if dt > 0 else 0
print("demo: %8.0f rec/s  %6.2f MB/s replicated  link %6.1f Mb/s  compression %.2fx  "
      "lag %6d records  (%d written in us-east)" % (
          rps, mbs, (a["link"] or {}).get("tx_mbps", 0.0), ra.get("compression_ratio", 0.0),
          max(high - rec, 0), rec), flush=True)
PY
}
export REPL_CLI tmp
while kill -0 "$gen" 2>/dev/null; do
	sleep 2
	progress || true
done
wait "$gen" || { say "the load generator failed"; exit 1; }
say "load done; waiting for us-east to catch up"
for _ in $(seq 3); do
	sleep 2
	progress || true
done
echo
repl_cli a status
echo
repl_cli b status
echo
say "isthmus verify: every us-east partition against its eu-west partition, record by record"
repl_verify --wait 120
say "ok: replicated exactly once; stopping regions, emulator and appliances"
