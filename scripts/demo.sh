#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The demo: two emulated regions (Kafka mock clusters), two appliances joined
# by a memif link, their control processes; prints both appliances' status
# while they run, checks that the link carries traffic both ways, stops
# everything it started. Usage: bash scripts/demo.sh [BUILD_DIR]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
B=${1:-build}
seconds=${ISTHMUS_DEMO_SECONDS:-20}
run=$(mktemp -d /tmp/isthmus-demo.XXXXXX)
pids=()

say() { printf 'demo: %s\n' "$*"; }

cleanup() {
	local rc=$? i p
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		p=${pids[$i]}
		kill -TERM "$p" 2>/dev/null || continue
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ $rc -ne 0 ]; then
		say "failed; the processes' logs:"
		tail -n 5 "$run"/*.log 2>/dev/null || true
	fi
	rm -rf "$run"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS DESCRIPTION COMMAND...
wait_for() {
	local t=$1 what=$2
	shift 2
	for _ in $(seq $((t * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	say "timed out after ${t}s waiting for $what"
	return 1
}

start() { # start NAME COMMAND...
	local name=$1
	shift
	"$@" >"$run/$name.log" 2>&1 &
	pids+=($!)
}

for r in a:eu-west b:us-east; do
	id=${r%%:*} region=${r#*:}
	start "region-$id" "$B/perf/isthmus-region" --name "$region" --brokers 3 \
		--topic orders:8 --topic payments:4 --control "$run/region-$id.sock" \
		--bootstrap-file "$run/region-$id.bootstrap"
	wait_for 20 "region $region" test -s "$run/region-$id.bootstrap"
done
ISTHMUS_REGION_A_BOOTSTRAP=$(cat "$run/region-a.bootstrap")
ISTHMUS_REGION_B_BOOTSTRAP=$(cat "$run/region-b.bootstrap")
export ISTHMUS_REGION_A_BOOTSTRAP ISTHMUS_REGION_B_BOOTSTRAP
say "region eu-west Kafka at $ISTHMUS_REGION_A_BOOTSTRAP"
say "region us-east Kafka at $ISTHMUS_REGION_B_BOOTSTRAP"

# A fresh pre-shared key for the link (docs/WIRE.md), readable by root only.
hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
(umask 077 && printf 'key 1 %s %s send\n' "$(hex 32)" "$(hex 4)" >"$run/link.key")
export ISTHMUS_LINK_KEY_FILE=$run/link.key ISTHMUS_SYNTH_DIR=$run

conf_a=config/examples/demo-region-a.conf
conf_b=config/examples/demo-region-b.conf
start dataplane-a "$B/dataplane/isthmus-dataplane" -c "$conf_a"
start dataplane-b "$B/dataplane/isthmus-dataplane" -c "$conf_b"
start control-a "$B/control/isthmus-control" -c "$conf_a"
start control-b "$B/control/isthmus-control" -c "$conf_b"

# The link is up once each side has heard the other's heartbeats.
heard() { # heard CONF: link-rx on this appliance has received something
	"$B/control/isthmus" -c "$1" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
dp = s["dataplane"]
rx = sum(r["work"] for l in dp["lcores"] for r in l["roles"] if r["name"] == "link-rx")
sys.exit(0 if dp["connected"] and rx > 0 else 1)'
}
wait_for 30 "appliance eu-west to hear us-east" heard "$conf_a"
wait_for 30 "appliance us-east to hear eu-west" heard "$conf_b"
say "both appliances up; the memif link carries heartbeats both ways"

end=$((SECONDS + seconds))
while :; do
	for c in "$conf_a" "$conf_b"; do
		echo
		"$B/control/isthmus" -c "$c" status
	done
	[ $SECONDS -ge "$end" ] && break
	sleep 5
done
echo
# The link carried synthetic frames both ways, and every one checked out.
for c in "$conf_a" "$conf_b"; do
	"$B/control/isthmus" -c "$c" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
l = s["dataplane"]["link"]
f = l["frames"]
print("demo: %s: link %s, %d frames delivered and verified, %d bad, rtt %.1f ms" % (
    s["appliance"]["id"], l["state"], f["ok"], f["bad"], l["srtt_us"] / 1000.0))
sys.exit(0 if l["state"] == "established" and f["ok"] > 0 and f["bad"] == 0 else 1)'
done
say "ok: stopping regions and appliances"
