#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two data planes talk through isthmus-wanem at 100 ms RTT with 2 % loss,
# 1 % reordering, 0.5 % duplication and (from mid-transfer on) 0.1 %
# corruption, both ways. A sends
# a synthetic multi-stream frame sequence; B checks every frame byte for byte
# and keeps its progress in a crash-safe file. Checked:
#   - every frame arrives exactly once, in order, byte-identical;
#   - a 10 s partition mid-transfer heals with nothing lost;
#   - kill -9 of the receiver, then of the sender, mid-transfer: after each
#     restart the transfer resumes where the receiver's progress says, with
#     no frame lost, repeated or damaged;
#   - corrupted packets are dropped and counted by reason while the session
#     keeps running;
#   - bad packets injected by the emulator mid-transfer (wrong key, wrong
#     version, garbage, old replays) are dropped and counted under their
#     reasons, the session stays up, and the receiver logs its drops at most
#     once per reason per 10 s.
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

# The emulator starts without its corruption and gets it once bad packets have
# been injected (below), so that those are all B's bad_tag and bad_version.
SPEC_CLEAN=delay=50ms,loss=2%,reorder=1%,dup=0.5%
SPEC=$SPEC_CLEAN,corrupt=0.1%
start wanem "$WANEM" --file-prefix "$tag-wanem" --lcore 1 --quiet --stats-interval-ms 0 \
	--port-a "net_memif0,role=client,id=0,socket=$tmp/sa,socket-abstract=yes" \
	--port-b "net_memif1,role=server,id=0,socket=$tmp/sb,socket-abstract=yes" \
	--both "$SPEC_CLEAN" --seed 7 --control "$tmp/wanem.sock"
wanem=$last_pid
start dp-a "$DP" -c "$A"
dp_a=$last_pid
start dp-b "$DP" -c "$B"
dp_b=$last_pid
b_life1=$(date +%s.%N)
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
wctl() { "$WANEM" ctl "$tmp/wanem.sock" "$@"; }
# jd BEFORE AFTER EXPR: EXPR over two `status --json` snapshots of one appliance:
# d(reason) is the rise of a drop counter, dl(key) of another link counter, l the link now.
jd() {
	python3 - "$@" <<'PY'
import json, sys
l0 = json.load(open(sys.argv[1]))['dataplane']['link']
l = json.load(open(sys.argv[2]))['dataplane']['link']
d = lambda r: l['dropped'].get(r, 0) - l0['dropped'].get(r, 0)
dl = lambda k: l[k] - l0[k]
dsum = sum(l['dropped'].values()) - sum(l0['dropped'].values())
expr = ' '.join(sys.argv[3].split())  # one line, however the caller wrapped it
ok = eval(expr)
print('drops risen:', {r: d(r) for r in l['dropped'] if d(r)}, 'expr:', expr, '->', ok)
sys.exit(0 if ok else 1)
PY
}
# logged REASON FIRST: packets that B's rate-limited drop log lines, from line
# FIRST of its log on, report dropped for REASON.
logged() {
	tail -n +"$2" "$tmp/dp-b.log" |
		grep -Eo "link: dropped [0-9]+ packets?(\(s\))?: $1 \(in the last [0-9.]+ s\)" |
		awk '{n += $3} END {print n + 0}'
}
# log_rate_ok FILE FIRST LAST SECONDS: in lines FIRST..LAST of FILE (one life of
# a data plane, SECONDS long), no drop reason is logged more than once per 10 s.
log_rate_ok() {
	local most
	most=$(python3 -c "import math; print(math.floor($4 / 10) + 1)")
	sed -n "$2,$3p" "$1" | grep -Eo 'link: dropped [0-9]+ packets?(\(s\))?: [a-z_]+' |
		awk -v most="$most" '{n[$NF]++} END {for (r in n) {print r, n[r], "lines, at most", most; if (n[r] > most) bad = 1} exit bad}'
}

check "the link session is established through the emulator" \
	wait_for 60 py "$B" 'l.get("state") == "established"'
check "frames start arriving at B" wait_for 60 bash -c "[ \$(od -An -tu4 -w4 -v '$tmp/demo-b.progress' | head -n $STREAMS | awk '{n+=\$1} END {print n+0}') -gt 200 ]"

# Bad packets injected a->b into the running transfer: B must drop and count
# each under its reason and keep the session. Until now the emulator corrupted
# nothing, so bad_tag and bad_version rise by exactly what was injected. The
# injection comes right before the partition: B's counters are read while the
# link is cut, and B's rate-limited drop log has 10 s to report the drops
# before B is killed. A's first packets must be well out of B's 1024-packet
# replay window first (~7 packets a frame).
check "the transfer is under way (300 frames)" wait_for 60 bash -c "[ \$(od -An -tu4 -w4 -v '$tmp/demo-b.progress' | head -n $STREAMS | awk '{n+=\$1} END {print n+0}') -gt 300 ]"
INJ=200
"$CLI" -c "$A" status --json >"$tmp/inj0-a.json"
"$CLI" -c "$B" status --json >"$tmp/inj0-b.json"
inj_from=$(delivered)
inj_log=$(wc -l <"$tmp/dp-b.log")
for kind in wrong-key wrong-version garbage replay; do
	reply=$(wctl inject ab "$kind" "$INJ" 2>&1) && rc=0 || rc=$?
	log "$reply"
	check "the emulator takes 'inject ab $kind $INJ'" test "$rc" = 0
	[ "$kind" = replay ] && replay_reason=$(sed -n 's/.*expect \([a-z_]*\).*/\1/p' <<<"$reply")
done
check "the emulator sent $INJ packets of each kind, none dropped" wait_for 10 bash -c "
	s=\$('$WANEM' ctl '$tmp/wanem.sock' stats)
	for k in wrong_key wrong_version garbage replay; do
		grep -q \" ab.injected_\$k=$INJ \" <<<\"\$s\" || exit 1
	done
	grep -q ' ab.inject_dropped=0 ' <<<\"\$s\" && grep -q ' ab.inject_pending=0' <<<\"\$s\""
check "the emulator corrupts packets from now on" wctl set both "$SPEC"
inj_to=$(delivered)

# A partition mid-transfer: 10 s of nothing either way, then it heals.
check "partition the link for 10 s" "$WANEM" ctl "$tmp/wanem.sock" partition 10
# The injection's results, read while nothing else arrives (and before the
# peers' 3 s liveness timeout): B counted the injected packets at once, and its
# status is refreshed every 500 ms.
sleep 0.8
"$CLI" -c "$A" status --json >"$tmp/inj1-a.json"
"$CLI" -c "$B" status --json >"$tmp/inj1-b.json"
inj1() { jd "$tmp/inj0-b.json" "$tmp/inj1-b.json" "$1"; }
check "the replayed packet is far behind B's window: B should count it too_old" \
	test "${replay_reason:-}" = too_old
check "wrong-key: B counted exactly $INJ more bad_tag" inj1 "d('bad_tag') == $INJ"
check "wrong-version: B counted exactly $INJ more bad_version" inj1 "d('bad_version') == $INJ"
check "replay: B counted at least $INJ more too_old" inj1 "d('too_old') >= $INJ"
check "garbage: B counted at least $INJ more across the other reasons" \
	inj1 "dsum - d('bad_tag') - d('bad_version') - d('too_old') - d('replayed') >= $INJ"
check "no injected packet reached a frame" \
	inj1 "l['frames']['bad'] == 0 and l['frames']['out_of_order'] == 0"
check "B's session stayed up: established, no peer death or restart" \
	inj1 "l['state'] == 'established' and dl('peer_deaths') == 0 and dl('peer_restarts') == 0"
check "A's session stayed up: established, no peer death or restart" \
	jd "$tmp/inj0-a.json" "$tmp/inj1-a.json" \
	"l['state'] == 'established' and dl('peer_deaths') == 0 and dl('peer_restarts') == 0"
check "the transfer went on meanwhile ($inj_from -> $inj_to frames)" test "$inj_to" -gt "$inj_from"
# B's drops in the injection window, so later checks can tell the others apart.
inj_window=$(python3 -c "import json
f = lambda p: sum(json.load(open(p))['dataplane']['link']['dropped'].values())
print(f('$tmp/inj1-b.json') - f('$tmp/inj0-b.json'))")
before=$(delivered)
sleep 5
mid=$(delivered)
check "nothing is delivered during the partition ($before -> $mid)" test "$((mid - before))" -le 16
check "after the partition the transfer resumes" \
	wait_for 60 bash -c "[ \$(od -An -tu4 -w4 -v '$tmp/demo-b.progress' | head -n $STREAMS | awk '{n+=\$1} END {print n+0}') -gt $((mid + 100)) ]"
check "B saw no bad or out-of-order frame so far" clean_life "$B"
check "corrupted packets were dropped and counted (besides the $inj_window injected)" \
	py "$B" "sum(l['dropped'].values()) > $inj_window and l['rx']['packets'] > 0"
check "A retransmitted what the emulator lost" py "$A" 'l["tx"]["retransmits"] > 0'
check "B's drop log reports the $INJ injected bad_version packets" \
	test "$(logged bad_version $((inj_log + 1)))" -ge "$INJ"
check "B's drop log reports the $INJ injected bad_tag packets" \
	test "$(logged bad_tag $((inj_log + 1)))" -ge "$INJ"

# The receiver dies hard mid-transfer and comes back.
kill -KILL "$dp_b"
wait "$dp_b" 2>/dev/null || true
b_life1=$(python3 -c "print($(date +%s.%N) - $b_life1)")
b_lines1=$(wc -l <"$tmp/dp-b.log")
at_kill=$(delivered)
log "receiver killed at $at_kill frames delivered"
start dp-b "$DP" -c "$B"
dp_b=$last_pid
b_life2=$(date +%s.%N)
check "restarted receiver continues past $at_kill" \
	wait_for 90 bash -c "[ \$(od -An -tu4 -w4 -v '$tmp/demo-b.progress' | head -n $STREAMS | awk '{n+=\$1} END {print n+0}') -gt $((at_kill + 100)) ]"
# (B's control reconnects to the new data plane within 2 s.)
check "B's control sees the restarted receiver" wait_for 10 py "$B" '"frames" in l'
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
b_life2=$(python3 -c "print($(date +%s.%N) - $b_life2)")
check "B's first life (${b_life1%.*} s) logged each drop reason at most once per 10 s" \
	log_rate_ok "$tmp/dp-b.log" 1 "$b_lines1" "$b_life1"
check "B's last life (${b_life2%.*} s) logged each drop reason at most once per 10 s" \
	log_rate_ok "$tmp/dp-b.log" "$((b_lines1 + 1))" '$' "$b_life2"

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
