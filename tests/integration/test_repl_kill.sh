#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Exactly once per partition, under fire. Region eu-west is replicated to
# us-east through the WAN emulator (10 ms RTT, 0.5 % loss) while a load
# generator writes records with null and empty keys and values, binary
# values, duplicate and null headers and explicit timestamps, and records
# larger than a frame (split and put together again). Meanwhile the
# source data plane, the sink data plane and both control processes are
# killed with SIGKILL at random points (KILLS in all, at least 20) and
# restarted. Then every destination partition is compared with its source
# partition record by record (key, value, headers, timestamp, order) by
# `isthmus verify`: nothing missing, nothing duplicated, nothing altered.
# Usage: test_repl_kill.sh SRCDIR BUILDDIR [KILLS]
set -euo pipefail

src=$1
bld=$2
KILLS=${3:-24}
[ "$KILLS" -ge 1 ] || { echo "KILLS must be at least 1" >&2; exit 2; }

tmp=$(mktemp -d /tmp/isthmus-kill.XXXXXX)
tag=rk$$
. "$(dirname "$0")/lib.sh"
. "$src/perf/repl_env.sh"

cleanup() {
	repl_down
	stop_all
	if [ $fails -ne 0 ]; then
		show_logs 25
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "1..6"
repl_up delay=5ms,loss=0.5% orders:4 payments:2
check "both appliances start and every stream runs" wait_for 60 repl_running

start loadgen "$REPL_LOADGEN" --bootstrap "$ISTHMUS_REGION_A_BOOTSTRAP" \
	--topic orders --topic payments --duration 40 --rate 1200 --keys 200 \
	--headers --nulls --seed 5
gen=$last_pid
# Records larger than a frame go out split in parts and are put together at
# the sink: a few of 100 KB to 400 KB among the load. (The mock clusters keep
# about 5 MB per partition, and destination records carry provenance headers
# too: the volume stays below that so no record ages out before verify.)
python3 -c '
import random, sys
random.seed(3)
for i in range(4):
    n = random.randint(100000, 400000)
    sys.stdout.write("big%d\t%s\n" % (i, "".join(chr(65 + (j * 7 + i) % 26) for j in range(n))))
' | kcat -b "$ISTHMUS_REGION_A_BOOTSTRAP" -t payments -K '\t' -P -X message.max.bytes=2000000

# Kill at random points: source dp, sink dp, or a control process; restart
# after a short random pause. A data plane is killed only when it runs, so
# every kill lands on a live process.
victims=(dp-a dp-b ctl-a ctl-b dp-a dp-b)
RANDOM=$$
kills=0
declare -A by=()
for i in $(seq "$KILLS"); do
	sleep "0.$((RANDOM % 9 + 1))"
	v=${victims[RANDOM % ${#victims[@]}]}
	repl_kill "$v"
	kills=$((kills + 1))
	by[$v]=$((${by[$v]:-0} + 1))
	sleep "0.$((RANDOM % 5 + 1))"
	case $v in
	dp-a) repl_start_dp a ;;
	dp-b) repl_start_dp b ;;
	ctl-a) repl_start_ctl a ;;
	ctl-b) repl_start_ctl b ;;
	esac
	# Let the session come back now and then, so kills also land mid-flow.
	if [ $((i % 4)) -eq 0 ]; then
		wait_for 30 repl_running || true
	fi
done
log "kills: $kills (${!by[*]} -> ${by[*]})"
check "at least 20 kills were made (source, sink and control)" \
	test "$kills" -ge 20 -a "${by[dp-a]:-0}" -ge 1 -a "${by[dp-b]:-0}" -ge 1
gen_rc=0
wait "$gen" || gen_rc=$?
check "the load generator produced all it was asked to" test "$gen_rc" -eq 0
check "after the last restart every stream runs again" wait_for 60 repl_running
# The destination catches up, then every partition is compared record by record.
if repl_verify --wait 120 >"$tmp/verify.out" 2>&1; then
	ok "isthmus verify: every destination partition equals its source partition"
else
	not_ok "isthmus verify: every destination partition equals its source partition"
	sed 's/^/# /' "$tmp/verify.out" | head -40
fi
tail -n 1 "$tmp/verify.out" | sed 's/^/# /'
records=$(awk '/^verify: OK/ {for (i = 1; i <= NF; i++) if ($i ~ /^records=/) {sub("records=", "", $i); print $i}}' "$tmp/verify.out")
check "the run replicated a real load (over 20000 records)" test "${records:-0}" -gt 20000
exit $((fails > 0))
