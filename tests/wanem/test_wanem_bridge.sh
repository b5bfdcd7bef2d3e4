#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# isthmus-wanem between two memif endpoints. wanem-peer (wanem_peer.c) is both
# endpoints in one DPDK process: its port A is a memif client of the
# emulator's port a, its port B a client of port b.
#   - a bad spec is refused in one line with exit 2, before the EAL starts;
#   - N numbered packets each way through delay=20ms,loss=5%,dup=2%,reorder=2%:
#     received ~ N(1-loss)(1+dup), some overtaken, one-way delay >= 20 ms
#     (sender's TSC to receiver's, one host), and the emulator's counters add up;
#   - `set` and `partition 2` on the control socket: traffic stops for ~2 s,
#     then resumes;
#   - `inject` is refused while no isthmus link packet has crossed (the
#     injection itself is tested with two data planes in
#     tests/integration/test_link.sh);
#   - SIGTERM: exit 0, and no /var/run/dpdk/<prefix>, hugepage file or socket
#     left behind.
# Every wait is bounded; only the processes started here are stopped.
# Usage: test_wanem_bridge.sh ISTHMUS_WANEM WANEM_PEER
set -euo pipefail

WANEM=$1
PEER=$2
N=10000

tmp=$(mktemp -d /tmp/isthmus-wanem-it.XXXXXX)
tag=wanem-it$$
pids=()
fails=0
wanem_pid=

log() { printf '# %s\n' "$*"; }
ok() { printf 'ok - %s\n' "$*"; }
not_ok() {
	printf 'not ok - %s\n' "$*"
	fails=$((fails + 1))
}
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >&2; then ok "$what"; else not_ok "$what"; fi
}

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ $fails -ne 0 ]; then
		for f in "$tmp"/*.log "$tmp"/*.out; do
			[ -f "$f" ] || continue
			log "--- $f"
			tail -n 15 "$f" | sed 's/^/# /'
		done
	fi
	rm -rf "$tmp"
	rmdir "/var/run/dpdk/$tag-wanem" "/var/run/dpdk/$tag-peer" 2>/dev/null || true
}
trap cleanup EXIT

wait_for() { # wait_for SECONDS COMMAND...
	local t=$1
	shift
	for _ in $(seq $((t * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# wait_exit PID SECONDS: sets exit_rc to the exit status, or "hung".
wait_exit() {
	local p=$1 t=$2
	for _ in $(seq $((t * 10))); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$p" 2>/dev/null; then
		exit_rc=hung
		return
	fi
	exit_rc=0
	wait "$p" || exit_rc=$?
}

# field FILE DIR KEY: KEY's value on the peer's line for direction DIR (-1: none).
field() {
	local v
	v=$(sed -n "s/^dir=$2 .*\b$3=\([0-9]*\).*/\1/p" "$1" 2>/dev/null)
	echo "${v:--1}"
}
# stat KEY: a key from the emulator's `stats` reply (-1: none).
stat() {
	local v
	v=$(sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$tmp/stats.out" 2>/dev/null)
	echo "${v:--1}"
}
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

free_pages=$(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)
if [ "${free_pages:-0}" -lt 64 ]; then
	echo "1..0 # SKIP needs 64 free hugepages, has ${free_pages:-0}"
	exit 0
fi
echo "1..25"

peer_lcore=0
[ "$(nproc)" -ge 2 ] && peer_lcore=1
memif() { # memif ID SOCKET ROLE
	echo "net_memif$1,role=$3,id=0,socket=$tmp/$2.sock,socket-abstract=no"
}

# 1. Spec errors are one line and exit 2, with no EAL started.
rc=0
"$WANEM" --port-a "$(memif 0 a server)" --port-b "$(memif 1 b server)" \
	--ab 'delay=50ms,loss=5' --file-prefix "$tag-bad" >"$tmp/bad.out" 2>&1 || rc=$?
check "a bad spec exits 2" test "$rc" -eq 2
check "the error is one line naming the item and the syntax" \
	bash -c "[ \$(wc -l <'$tmp/bad.out') -eq 1 ] && grep -q \"'loss=5'.*loss=PCT\" '$tmp/bad.out'"

# 2. The emulator: server on both sockets, so the peer can come and go.
"$WANEM" --port-a "$(memif 0 a server)" --port-b "$(memif 1 b server)" \
	--both delay=20ms,loss=5%,dup=2%,reorder=2% --seed 7 --queue 4096 \
	--file-prefix "$tag-wanem" --lcore 0 --control "$tmp/ctl.sock" \
	--stats-interval-ms 1000 >"$tmp/wanem.log" 2>&1 &
wanem_pid=$!
pids+=("$wanem_pid")
if ! wait_for 20 test -S "$tmp/ctl.sock"; then
	not_ok "isthmus-wanem started"
	exit 1
fi
ok "isthmus-wanem started"

run_peer() { # run_peer NAME SECONDS_BOUND ARGS...: runs in the background, sets peer_pid
	local name=$1
	shift
	"$PEER" --port-a "$(memif 0 a client)" --port-b "$(memif 1 b client)" \
		--file-prefix "$tag-peer" --lcore "$peer_lcore" "$@" >"$tmp/$name.out" 2>"$tmp/$name.log" &
	peer_pid=$!
	pids+=("$peer_pid")
}

# 3. N packets each way through the impairments.
run_peer impair --count $N --pps 10000 --drain-ms 500
wait_exit "$peer_pid" 40
check "peer run 1 finished (exit $exit_rc)" test "$exit_rc" = 0
"$WANEM" ctl "$tmp/ctl.sock" stats >"$tmp/stats.out" 2>&1 || true
cat "$tmp/impair.out" | sed 's/^/# /'
lo=$((N * 95 * 102 / 10000 * 97 / 100))
hi=$((N * 95 * 102 / 10000 * 103 / 100))
for d in ab ba; do
	sent=$(field "$tmp/impair.out" $d sent)
	recv=$(field "$tmp/impair.out" $d received)
	check "$d: all $N sent ($sent)" test "$sent" -eq $N
	check "$d: received $recv within $lo..$hi (N(1-5%)(1+2%) +-3%)" \
		between "$recv" $lo $hi
	check "$d: some packets overtaken ($(field "$tmp/impair.out" $d overtaken)), under 5%" \
		between "$(field "$tmp/impair.out" $d overtaken)" 1 $((N / 20))
	check "$d: one-way delay >= 20 ms (min $(field "$tmp/impair.out" $d delay_min_us) us)" \
		test "$(field "$tmp/impair.out" $d delay_min_us)" -ge 20000
	# Everything received was admitted, and left as sent or duplicated.
	check "$d: counters add up (rx=$(stat $d.rx) loss=$(stat $d.dropped_loss) dup=$(stat $d.duplicated) tx=$(stat $d.tx))" \
		test "$(stat $d.rx)" -eq $N -a \
		"$(($(stat $d.rx) - $(stat $d.dropped_loss) + $(stat $d.duplicated)))" -eq "$(stat $d.tx)" -a \
		"$(stat $d.tx)" -eq "$recv"
done

# 4. Change the impairments at run time, then cut the link for 2 s mid-stream.
check "set both delay=20ms" "$WANEM" ctl "$tmp/ctl.sock" set both delay=20ms
rc=0
"$WANEM" ctl "$tmp/ctl.sock" set ab loss=5 >"$tmp/seterr.out" 2>&1 || rc=$?
check "a bad set is refused with exit 1 and 'error:'" \
	bash -c "[ $rc -eq 1 ] && grep -q '^error: .*loss=PCT' '$tmp/seterr.out'"
# The peer's numbered packets are not isthmus link packets: nothing to copy.
rc=0
"$WANEM" ctl "$tmp/ctl.sock" inject ab garbage 5 >"$tmp/injerr.out" 2>&1 || rc=$?
check "inject without link traffic is refused with exit 1 and the reason" \
	bash -c "[ $rc -eq 1 ] && grep -q '^error: inject ab garbage 5: no link packet has crossed' '$tmp/injerr.out'"
check "stats count no injected packet" \
	bash -c "'$WANEM' ctl '$tmp/ctl.sock' stats | grep -q ' ab.injected_garbage=0 .* ab.inject_pending=0'"
run_peer part --seconds 6 --pps 1000 --drain-ms 300
if wait_for 20 grep -q sending "$tmp/part.out"; then
	sleep 1.5
	check "partition 2 accepted" "$WANEM" ctl "$tmp/ctl.sock" partition 2
else
	not_ok "peer run 2 started sending"
fi
wait_exit "$peer_pid" 30
check "peer run 2 finished (exit $exit_rc)" test "$exit_rc" = 0
"$WANEM" ctl "$tmp/ctl.sock" stats >"$tmp/stats.out" 2>&1 || true
cat "$tmp/part.out" | sed 's/^/# /'
for d in ab ba; do
	gap=$(field "$tmp/part.out" $d gap_max_ms)
	after=$(field "$tmp/part.out" $d after_gap)
	check "$d: traffic stopped for $gap ms (1900..2600) and resumed ($after after)" \
		bash -c "[ $gap -ge 1900 ] && [ $gap -le 2600 ] && [ $after -ge 1000 ]"
done

# 5. SIGTERM: a clean exit that leaves nothing behind.
kill -TERM "$wanem_pid"
wait_exit "$wanem_pid" 15
check "isthmus-wanem exits 0 on SIGTERM (got $exit_rc)" test "$exit_rc" = 0
check "nothing left: no runtime dir, hugepage files or control socket" \
	bash -c "[ ! -e /var/run/dpdk/$tag-wanem ] && [ ! -e /var/run/dpdk/$tag-peer ] &&
		! ls /dev/hugepages 2>/dev/null | grep -q '$tag' && [ ! -e '$tmp/ctl.sock' ]"
check "exit summary printed" grep -q "stopped after" "$tmp/wanem.log"
grep 'total' "$tmp/wanem.log" | cut -c1-200 | sed 's/^/# /'

[ $fails -eq 0 ]
