#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two data planes talk through isthmus-wanem at 100 ms RTT with 2 % loss,
# 1 % reordering, 0.5 % duplication and 0.1 % corruption, both ways. A sends
# a synthetic multi-stream frame sequence; B checks every frame byte for byte
# and keeps its progress in a crash-safe file. Checked:
#   - every frame arrives exactly once, in order, byte-identical;
#   - a 10 s partition mid-transfer heals with nothing lost;
#   - kill -9 of the receiver, then of the sender, mid-transfer: after each
#     restart the transfer resumes where the receiver's progress says, with
#     no frame lost, repeated or damaged;
#   - corrupted packets are dropped and counted by reason while the session
#     keeps running.
# Usage: test_link.sh SRCDIR BUILDDIR
set -euo pipefail

src=$1
bld=$2
DP=$bld/dataplane/isthmus-dataplane
CLI=$bld/control/isthmus
CTL=$bld/control/isthmus-control
WANEM=$bld/perf/isthmus-wanem

STREAMS=8
FRAMES=400 # per stream: ~25 MB, several seconds at the 50 Mb/s link below

tmp=$(mktemp -d /tmp/isthmus-link.XXXXXX)
tag=lt$$
. "$(dirname "$0")/lib.sh"

cleanup() {
	stop_all
	if [ $fails -ne 0 ]; then
		show_logs 15
	fi
	rm -rf "$tmp" /var/run/dpdk/isthmus-$tag-* /var/run/dpdk/$tag-wanem
}
trap cleanup EXIT

make_link_key "$tmp/link.key"
export ISTHMUS_LINK_KEY_FILE=$tmp/link.key ISTHMUS_SYNTH_DIR=$tmp
export ISTHMUS_REGION_A_BOOTSTRAP=127.0.0.1:9 ISTHMUS_REGION_B_BOOTSTRAP=127.0.0.1:9

# A: memif server on sa; wanem joins sa (client) and sb (server); B: client of sb.
port_base=$((21000 + ($$ % 20000)))
make_conf() { # make_conf a|b SOCKET ROLE SEND
	local x=$1 http=$port_base
	[ "$x" = b ] && http=$((port_base + 1))
	sed -e "s#/run/isthmus/demo-$x/dataplane.sock#$tmp/dp-$x.sock#" \
		-e "s#127.0.0.1:964[12]#127.0.0.1:$http#" \
		-e "s#file_prefix = isthmus-demo-$x#file_prefix = isthmus-$tag-$x#" \
		-e "s#^device = .*#device = net_memif0,role=$3,id=0,socket=$2,socket-abstract=yes#" \
		-e "s#^capacity_mbps = .*#capacity_mbps = 50#" \
		-e "s#^rtt_ms = .*#rtt_ms = 100#" \
		-e "s#^frames = .*#frames = $FRAMES\nsend = $4#" \
		-e "s#^streams = .*#streams = $STREAMS#" \
		"$src/config/examples/demo-region-$x.conf" >"$tmp/$x.conf"
}
make_conf a "$tmp/sa" server true
make_conf b "$tmp/sb" client false
A=$tmp/a.conf
B=$tmp/b.conf

SPEC=delay=50ms,loss=2%,reorder=1%,dup=0.5%,corrupt=0.1%
start wanem "$WANEM" --file-prefix "$tag-wanem" --lcore 1 --quiet --stats-interval-ms 0 \
	--port-a "net_memif0,role=client,id=0,socket=$tmp/sa,socket-abstract=yes" \
	--port-b "net_memif1,role=server,id=0,socket=$tmp/sb,socket-abstract=yes" \
	--both "$SPEC" --seed 7 --control "$tmp/wanem.sock"
wanem=$last_pid
start dp-a "$DP" -c "$A"
dp_a=$last_pid
start dp-b "$DP" -c "$B"
dp_b=$last_pid
start ctl-a "$CTL" -c "$A"
start ctl-b "$CTL" -c "$B"

py() { # py CONF EXPR over the status JSON as s, its link as l
	"$CLI" -c "$1" status --json 2>/dev/null | python3 -c "
import json, sys
s = json.load(sys.stdin)
l = s['dataplane']['link'] or {}
sys.exit(0 if ($2) else 1)"
}
# Progress of B's durable store: frames delivered per stream.
progress() { od -An -tu4 -w4 -v "$tmp/demo-b.progress" 2>/dev/null | head -n "$STREAMS"; }
delivered() { progress | awk '{n += $1} END {print n + 0}'; }
all_done() { [ "$(progress | awk -v f="$FRAMES" '$1 == f {n++} END {print n + 0}')" = "$STREAMS" ]; }
clean_life() { py "$1" 'l["frames"]["bad"] == 0 and l["frames"]["out_of_order"] == 0'; }

check "the link session is established through the emulator" \
	wait_for 60 py "$B" 'l.get("state") == "established"'
check "frames start arriving at B" wait_for 60 bash -c "[ \$(od -An -tu4 -w4 -v '$tmp/demo-b.progress' | head -n $STREAMS | awk '{n+=\$1} END {print n+0}') -gt 200 ]"

# A partition mid-transfer: 10 s of nothing either way, then it heals.
check "partition the link for 10 s" "$WANEM" ctl "$tmp/wanem.sock" partition 10
before=$(delivered)
sleep 5
mid=$(delivered)
check "nothing is delivered during the partition ($before -> $mid)" test "$((mid - before))" -le 16
check "after the partition the transfer resumes" \
	wait_for 60 bash -c "[ \$(od -An -tu4 -w4 -v '$tmp/demo-b.progress' | head -n $STREAMS | awk '{n+=\$1} END {print n+0}') -gt $((mid + 100)) ]"
check "B saw no bad or out-of-order frame so far" clean_life "$B"
check "corrupted packets were dropped and counted" \
	py "$B" 'sum(l["dropped"].values()) > 0 and l["rx"]["packets"] > 0'
check "A retransmitted what the emulator lost" py "$A" 'l["tx"]["retransmits"] > 0'

# The receiver dies hard mid-transfer and comes back.
kill -KILL "$dp_b"
wait "$dp_b" 2>/dev/null || true
at_kill=$(delivered)
log "receiver killed at $at_kill frames delivered"
start dp-b "$DP" -c "$B"
dp_b=$last_pid
check "restarted receiver continues past $at_kill" \
	wait_for 90 bash -c "[ \$(od -An -tu4 -w4 -v '$tmp/demo-b.progress' | head -n $STREAMS | awk '{n+=\$1} END {print n+0}') -gt $((at_kill + 100)) ]"
check "the restarted receiver got no repeated or damaged frame" clean_life "$B"
check "A noticed the receiver's restart" py "$A" 'l["peer_restarts"] >= 1'

# The sender dies hard mid-transfer and comes back.
kill -KILL "$dp_a"
wait "$dp_a" 2>/dev/null || true
at_kill=$(delivered)
log "sender killed at $at_kill frames delivered"
start dp-a "$DP" -c "$A"
dp_a=$last_pid
check "the transfer completes: every stream has all $FRAMES frames" wait_for 180 all_done
if ! all_done; then
	log "progress per stream: $(progress | tr '\n' ' ')"
	for c in "$A" "$B"; do
		"$CLI" -c "$c" status 2>&1 | sed -n '/^LINK/,/^$/p' | sed 's/^/# /'
	done
fi
check "B noticed the sender's restart" py "$B" 'l["peer_restarts"] >= 1'
check "no frame repeated, out of order or damaged in B's last life" clean_life "$B"
check "B's last life delivered exactly the rest ($((STREAMS * FRAMES)) in all)" \
	test "$(delivered)" = "$((STREAMS * FRAMES))"
sleep 2
check "no frame beyond the end was delivered" test "$(delivered)" = "$((STREAMS * FRAMES))"
check "the emulator really impaired the link" \
	bash -c "'$WANEM' ctl '$tmp/wanem.sock' stats | grep -Eq 'dropped_loss=[1-9]'"

for v in dp_a dp_b wanem; do
	kill -TERM "${!v}"
	rc=0
	wait "${!v}" || rc=$?
	check "$v stops with exit 0 (got $rc)" test "$rc" = 0
done

if [ $fails -ne 0 ]; then
	log "$fails check(s) failed"
	exit 1
fi
log "all checks passed"
