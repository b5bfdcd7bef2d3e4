#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two appliances from the example core maps on a memif link, each with its
# control process and an emulated region:
#   - `isthmus status` shows both appliances, their lcores, roles and ports,
#     and heartbeats crossing the link both ways;
#   - control is killed (-9) and restarted while the data plane keeps
#     running, and reconnects;
#   - a data plane killed with -9 leaves a stale socket that its restart
#     replaces; a second data plane on a live socket is refused (exit 1);
#   - lcore pause/resume through the CLI reaches the lcore;
#   - SIGTERM stops everything with exit 0 and nothing left behind:
#     processes, sockets, DPDK runtime dirs, hugepage files.
# Usage: test_appliance.sh SRCDIR BUILDDIR
set -euo pipefail

src=$1
bld=$2
DP=$bld/dataplane/isthmus-dataplane
CTL=$bld/control/isthmus-control
CLI=$bld/control/isthmus
REGION=$bld/perf/isthmus-region

tmp=$(mktemp -d /tmp/isthmus-it.XXXXXX)
tag=it$$
. "$(dirname "$0")/lib.sh"

cleanup() {
	stop_all
	if [ $fails -ne 0 ]; then
		show_logs 20
	fi
	rm -rf "$tmp" "/var/run/dpdk/isthmus-$tag-a" "/var/run/dpdk/isthmus-$tag-b"
}
trap cleanup EXIT

# stop_wait PID SECONDS: SIGTERM and wait; sets stop_rc to the exit status or "hung".
# Not run in a subshell: only this shell can wait for its children.
stop_wait() {
	local p=$1 t=$2
	kill -TERM "$p"
	for _ in $(seq $((t * 10))); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$p" 2>/dev/null; then
		stop_rc=hung
		return
	fi
	stop_rc=0
	wait "$p" || stop_rc=$?
}

# Unique names for everything: this test may run beside the demo.
port_base=$((20000 + ($$ % 20000)))
make_conf() { # make_conf a|b
	local x=$1 http=$port_base
	[ "$x" = b ] && http=$((port_base + 1))
	sed -e "s#/run/isthmus/demo-$x/dataplane.sock#$tmp/dp-$x.sock#" \
		-e "s#127.0.0.1:964[12]#127.0.0.1:$http#" \
		-e "s#file_prefix = isthmus-demo-$x#file_prefix = isthmus-$tag-$x#" \
		-e "s#socket=/run/isthmus/demo-ab.sock#socket=$tmp/memif.sock#" \
		"$src/config/examples/demo-region-$x.conf" >"$tmp/$x.conf"
}
make_conf a
make_conf b
A=$tmp/a.conf
B=$tmp/b.conf

for r in a b; do
	start "region-$r" "$REGION" --name "region-$r" --brokers 1 --topic orders:2 \
		--control "$tmp/region-$r.sock" --bootstrap-file "$tmp/region-$r.bootstrap"
	wait_for 20 test -s "$tmp/region-$r.bootstrap" || {
		not_ok "region $r started"
		exit 1
	}
done
make_link_key "$tmp/link.key"
export ISTHMUS_LINK_KEY_FILE=$tmp/link.key ISTHMUS_SYNTH_DIR=$tmp
export ISTHMUS_REGION_A_BOOTSTRAP=$(cat "$tmp/region-a.bootstrap")
export ISTHMUS_REGION_B_BOOTSTRAP=$(cat "$tmp/region-b.bootstrap")

# B (the memif client) first: its link port cannot start until A (the
# server) is up, and the data plane must wait for it instead of failing.
start dp-b "$DP" -c "$B"
dp_b=$last_pid
sleep 1
start dp-a "$DP" -c "$A"
dp_a=$last_pid
start ctl-a "$CTL" -c "$A"
ctl_a=$last_pid
start ctl-b "$CTL" -c "$B"
ctl_b=$last_pid

json() { "$CLI" -c "$1" status --json; }
# py CONF EXPR: evaluate a Python expression over the status JSON as `s`.
py() {
	json "$1" | python3 -c "import json,sys; s=json.load(sys.stdin); sys.exit(0 if ($2) else 1)"
}
rx_work='sum(r["work"] for l in s["dataplane"]["lcores"] for r in l["roles"] if r["name"]=="link-rx")'
connected='s["dataplane"]["connected"]'

check "control A reports its data plane connected" wait_for 30 py "$A" "$connected"
check "control B reports its data plane connected" wait_for 30 py "$B" "$connected"
check "A hears B's heartbeats over memif" wait_for 30 py "$A" "$rx_work > 0"
check "B hears A's heartbeats over memif" wait_for 30 py "$B" "$rx_work > 0"

"$CLI" -c "$A" status >"$tmp/status-a.txt" 2>&1 || true
check "isthmus status names the appliance and region" grep -q "demo-a" "$tmp/status-a.txt"
check "isthmus status shows region eu-west" grep -q "eu-west" "$tmp/status-a.txt"
check "isthmus status lists the link-rx and link-tx roles" \
	bash -c "grep -q link-rx '$tmp/status-a.txt' && grep -q link-tx '$tmp/status-a.txt'"
check "isthmus status lists port link0 on net_memif" \
	bash -c "grep -q link0 '$tmp/status-a.txt' && grep -q net_memif '$tmp/status-a.txt'"
check "status JSON has one lcore and one port" \
	py "$A" 'len(s["dataplane"]["lcores"]) == 1 and len(s["dataplane"]["ports"]) == 1'
check "status JSON shows region-a Kafka reachable" \
	wait_for 20 py "$A" 'any(k["reachable"] for k in s["kafka"])'

# Control dies hard and comes back; the data plane never stops.
kill -KILL "$ctl_a"
wait "$ctl_a" 2>/dev/null || true
before=$(json "$B" | python3 -c "import json,sys; s=json.load(sys.stdin); print($rx_work)")
sleep 1
check "data plane A keeps running without control" kill -0 "$dp_a"
check "B keeps hearing A while A's control is down" \
	wait_for 10 py "$B" "$rx_work > $before"
check "CLI reports an unreachable control with exit 1" \
	bash -c "! '$CLI' -c '$A' status >/dev/null 2>'$tmp/cli-err.txt'; grep -q 'cannot reach' '$tmp/cli-err.txt'"
start ctl-a "$CTL" -c "$A"
ctl_a=$last_pid
check "restarted control A reconnects to its data plane" wait_for 30 py "$A" "$connected"

# A graceful control restart exits 0.
stop_wait "$ctl_a" 10
check "control A stops cleanly on SIGTERM (exit $stop_rc)" test "$stop_rc" = 0
start ctl-a "$CTL" -c "$A"
ctl_a=$last_pid
check "control A reconnects again" wait_for 30 py "$A" "$connected"

# Commands travel control -> mgmt thread -> lcore ring and back.
check "pause lcore 0 through the CLI" "$CLI" -c "$A" pause --lcore 0
check "lcore 0 shows paused" wait_for 10 py "$A" 'any(l["id"]==0 and l["paused"] for l in s["dataplane"]["lcores"])'
check "resume all lcores" "$CLI" -c "$A" resume
check "lcore 0 runs again" wait_for 10 py "$A" 'not any(l["paused"] for l in s["dataplane"]["lcores"])'

# Garbage, a wrong version and a truncated message on the IPC socket are
# rejected and counted; the data plane keeps serving.
ipc_version=$(awk '/define IST_IPC_VERSION / {print $3}' "$src/include/isthmus/ipc.h")
python3 - "$tmp/dp-a.sock" "$ipc_version" <<'PY'
import socket, struct, sys
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(2)
    s.connect(sys.argv[1])
    return s
s = conn(); s.sendall(b"\x00garbage that is not a header\xff" * 4); s.close()
s = conn(); s.sendall(struct.pack("<IHHII", 0x49535443, 99, 2, 0, 1))
try:
    s.recv(200)
except OSError:
    pass
s.close()
# A well-formed header of the current version that promises more than it sends.
s = conn(); s.sendall(struct.pack("<IHHII", 0x49535443, int(sys.argv[2]), 2, 64, 1) + b"x" * 10); s.close()
PY
check "IPC garbage, wrong version and truncation are counted by reason" \
	wait_for 10 py "$A" 'all(s["dataplane"]["ipc_rejected"].get(k, 0) >= 1 for k in ("bad_magic", "bad_version", "truncated"))'
check "data plane A still serves status after bad IPC" py "$A" "$connected"

# A second data plane on a live socket is refused; the first is untouched.
rc=0
"$DP" -c "$A" >"$tmp/dp-dup.log" 2>&1 || rc=$?
check "second data plane on a live socket exits 1" test "$rc" = 1
check "and says another data plane serves the socket" grep -q "another isthmus-dataplane" "$tmp/dp-dup.log"
check "first data plane A still runs" kill -0 "$dp_a"

# kill -9 leaves a stale socket; the restart replaces it.
kill -KILL "$dp_b"
wait "$dp_b" 2>/dev/null || true
check "killed data plane left its socket file" test -S "$tmp/dp-b.sock"
check "control B notices the data plane is gone" wait_for 10 py "$B" "not $connected"
start dp-b "$DP" -c "$B"
dp_b=$last_pid
check "restarted data plane B is reached again by control B" wait_for 30 py "$B" "$connected"
check "restarted B hears A again" wait_for 30 py "$B" "$rx_work > 0"

# The memif server dies hard: the client's link goes down and stays down
# until the data plane restarts the port, which its watchdog does.
kill -KILL "$dp_a"
wait "$dp_a" 2>/dev/null || true
start dp-a "$DP" -c "$A"
dp_a=$last_pid
check "restarted server A is reached by control A" wait_for 30 py "$A" "$connected"
check "B restarted its link port to reconnect" \
	wait_for 30 py "$B" 's["dataplane"]["ports"][0]["restarts"] >= 1'
before=$(json "$B" | python3 -c "import json,sys; s=json.load(sys.stdin); print($rx_work)")
check "B hears the restarted A" wait_for 30 py "$B" "$rx_work > $before"
check "the restarted A hears B" wait_for 30 py "$A" "$rx_work > 0"

# Bad input at start: config error exits 2 with one line.
printf '[appliance]\nid = x\nregion = r\nbogus = 1\n[lcore 0]\nroles = link-rx\n' >"$tmp/bad.conf"
rc=0
"$DP" -c "$tmp/bad.conf" >"$tmp/bad.log" 2>&1 || rc=$?
check "bad core map exits 2" test "$rc" = 2
check "bad core map error is one line naming file:line and key" \
	bash -c "test \$(wc -l <'$tmp/bad.log') = 1 && grep -q 'bad.conf:4: unknown key appliance.bogus' '$tmp/bad.log'"

# A device the EAL cannot probe: exit 1, our line names the [port] section.
sed 's#^device = net_memif0.*#device = net_bogus0,x=1#' "$A" >"$tmp/badport.conf"
sed -i "s#$tmp/dp-a.sock#$tmp/dp-badport.sock#" "$tmp/badport.conf"
rc=0
"$DP" -c "$tmp/badport.conf" >"$tmp/badport.log" 2>&1 || rc=$?
check "unprobeable port exits 1" test "$rc" = 1
check "and names the [port] section to fix" grep -q "check the \[eal\] and \[port\] sections" "$tmp/badport.log"

# Orderly shutdown of everything, exit 0, nothing left behind.
for v in dp_a dp_b ctl_a ctl_b; do
	stop_wait "${!v}" 15
	check "$v stops on SIGTERM with exit 0 (got $stop_rc)" test "$stop_rc" = 0
done
check "no data plane socket left" test ! -e "$tmp/dp-a.sock" -a ! -e "$tmp/dp-b.sock"
check "no DPDK runtime dir left" \
	test ! -e "/var/run/dpdk/isthmus-$tag-a" -a ! -e "/var/run/dpdk/isthmus-$tag-b"
check "no hugepage files left" \
	bash -c "! ls /dev/hugepages 2>/dev/null | grep -q 'isthmus-$tag'"
check "no process of this test left" \
	bash -c "for p in $dp_a $dp_b $ctl_a $ctl_b; do kill -0 \$p 2>/dev/null && exit 1; done; exit 0"

# Without free hugepages the data plane says how to reserve them (exit 1).
# Only pages nobody uses are released, and the old count is put back.
nr=$(cat /proc/sys/vm/nr_hugepages)
restore_huge() { echo "$nr" >/proc/sys/vm/nr_hugepages; }
trap 'restore_huge; cleanup' EXIT
echo 0 >/proc/sys/vm/nr_hugepages
if [ "$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)" = 0 ]; then
	rc=0
	"$DP" -c "$A" >"$tmp/nohuge.log" 2>&1 || rc=$?
	check "no free hugepages exits 1" test "$rc" = 1
	check "and says how to reserve them" grep -q "no free hugepages; reserve some" "$tmp/nohuge.log"
else
	log "skip: other processes hold hugepages, cannot empty the pool"
fi
restore_huge
check "hugepage reservation restored" test "$(cat /proc/sys/vm/nr_hugepages)" = "$nr"

if [ $fails -ne 0 ]; then
	log "$fails check(s) failed"
	exit 1
fi
log "all checks passed"
