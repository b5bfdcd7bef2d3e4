#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# WAN goodput benchmark: isthmus link vs kernel TCP (iperf3, CUBIC) through
# isthmus-wanem, per cell of RTT (ms) x loss (%), both rate-capped at 200 Mbit/s.
#
#   perf/bench_wan.sh [BUILD_DIR] [CELL...]      CELL = <rtt>-<loss>, e.g. 100-1
#
# The kernel baseline is forced to CUBIC (iperf3 -C cubic), whatever the
# host default (which may be bbr).
#
# Prints one line per cell
#   RESULT wan-<rtt>-<loss> ours=<x> Mb/s baseline=<y> Mb/s ratio=<x/y>
# plus, for 100-1, the goodput against the link capacity:
#   RESULT wan-100-1-cap ours=<x> Mb/s baseline=200 Mb/s ratio=<x/200>
# and writes the same table to perf/results/wan.txt. Needs root, hugepages,
# iperf3 and ip(8).
set -u

src=$(cd "$(dirname "$0")/.." && pwd)
bld=$src/build
if [ $# -gt 0 ] && [ -d "$1" ]; then bld=$(cd "$1" && pwd); shift; fi
CAP=200
WARMUP=${WARMUP:-8}
MEASURE=${MEASURE:-20}

if [ $# -gt 0 ]; then cells=("$@")
else
	cells=()
	for r in 0 50 100 200; do for l in 0 0.1 1; do cells+=("$r-$l"); done; done
fi

for b in perf/isthmus-wanem dataplane/isthmus-dataplane control/isthmus-control control/isthmus; do
	[ -x "$bld/$b" ] || { echo "bench_wan: missing $bld/$b" >&2; exit 2; }
done
command -v iperf3 >/dev/null || { echo "bench_wan: iperf3 not found" >&2; exit 2; }

tmp=$(mktemp -d /tmp/isthmus-bw.XXXXXX)
tag=bw$$
NSA=isthmus-bw-a-$$
NSB=isthmus-bw-b-$$
pids=()
out=$src/perf/results/wan.txt
table=$tmp/table

stop_all() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pids=()
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
}
cleanup() { stop_all; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Interruptible sleep: a signal is handled at once, and the trap reaps it.
nap() { sleep "$1" & pids+=($!); wait $!; }

hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# A wanem spec: one-way delay rtt/2, uniform loss, the capacity as rate cap.
spec_for() {
	local rtt=$1 loss=$2 s=""
	[ "$rtt" != 0 ] && s="delay=$(awk -v r="$rtt" 'BEGIN { printf "%g", r / 2 }')ms,"
	[ "$loss" != 0 ] && s="${s}loss=${loss}%,"
	echo "${s}rate=${CAP}mbit"
}

status_bytes() {
	timeout 10 "$bld/control/isthmus" -c "$tmp/b.conf" status --json 2>/dev/null |
		python3 -c "import json,sys; print(json.load(sys.stdin)['dataplane']['link']['frames']['bytes_delivered'])" 2>/dev/null
}

# (a) isthmus: synth sender on A, checker on B, link over memif through wanem.
run_ours() {
	local rtt=$1 spec=$2 crtt=$1 x
	RES=""
	[ "$crtt" -lt 1 ] && crtt=1
	rm -f "$tmp"/*.conf "$tmp"/*.progress "$tmp"/*.sock
	(umask 077 && printf 'key 1 %s %s send\n' "$(hex 32)" "$(hex 4)" >"$tmp/link.key")
	make_conf() {
		local x=$1 http=23100
		[ "$x" = b ] && http=23101
		sed -e "s#/run/isthmus/demo-$x/dataplane.sock#$tmp/dp-$x.sock#" \
			-e "s#127.0.0.1:964[12]#127.0.0.1:$http#" \
			-e "s#file_prefix = isthmus-demo-$x#file_prefix = isthmus-$tag-$x#" \
			-e "s#^device = .*#device = net_memif0,role=$3,id=0,socket=$2,socket-abstract=yes#" \
			-e "s#^capacity_mbps = .*#capacity_mbps = $CAP#" -e "s#^rtt_ms = .*#rtt_ms = $crtt#" \
			-e "s#^frames = .*#frames = 0\nsend = $4\nwindow = 64#" -e "s#^streams = .*#streams = 16#" \
			"$src/config/examples/demo-region-$x.conf" >"$tmp/$x.conf"
	}
	make_conf a "$tmp/sa" server true
	make_conf b "$tmp/sb" client false
	(
		export ISTHMUS_LINK_KEY_FILE=$tmp/link.key ISTHMUS_SYNTH_DIR=$tmp \
			ISTHMUS_REGION_A_BOOTSTRAP=127.0.0.1:9 ISTHMUS_REGION_B_BOOTSTRAP=127.0.0.1:9
		exec "$bld/perf/isthmus-wanem" --file-prefix "$tag-wanem" --lcore 1 --quiet --stats-interval-ms 0 \
			--port-a "net_memif0,role=client,id=0,socket=$tmp/sa,socket-abstract=yes" \
			--port-b "net_memif1,role=server,id=0,socket=$tmp/sb,socket-abstract=yes" \
			--both "$spec" --control "$tmp/w.sock"
	) >"$tmp/w.log" 2>&1 &
	pids+=($!)
	for x in a b; do
		ISTHMUS_LINK_KEY_FILE=$tmp/link.key ISTHMUS_SYNTH_DIR=$tmp \
			ISTHMUS_REGION_A_BOOTSTRAP=127.0.0.1:9 ISTHMUS_REGION_B_BOOTSTRAP=127.0.0.1:9 \
			"$bld/dataplane/isthmus-dataplane" -c "$tmp/$x.conf" >"$tmp/$x.log" 2>&1 &
		pids+=($!)
	done
	ISTHMUS_LINK_KEY_FILE=$tmp/link.key ISTHMUS_SYNTH_DIR=$tmp \
		ISTHMUS_REGION_A_BOOTSTRAP=127.0.0.1:9 ISTHMUS_REGION_B_BOOTSTRAP=127.0.0.1:9 \
		"$bld/control/isthmus-control" -c "$tmp/b.conf" >"$tmp/cb.log" 2>&1 &
	pids+=($!)
	nap "$WARMUP"
	local s0 s1
	s0=$(status_bytes)
	nap "$MEASURE"
	s1=$(status_bytes)
	stop_all
	if [ -z "$s0" ] || [ -z "$s1" ]; then
		echo "bench_wan: $rtt: no status from region B (see logs)" >&2
		tail -n 5 "$tmp/w.log" "$tmp/a.log" "$tmp/b.log" "$tmp/cb.log" >&2
		return
	fi
	RES=$(awk -v a="$s0" -v b="$s1" -v t="$MEASURE" 'BEGIN { printf "%.1f", (b - a) * 8 / t / 1e6 }')
}

# (b) kernel TCP: iperf3 between two namespaces joined by wanem over net_tap.
run_baseline() {
	local rtt=$1 spec=$2 dur=10 ia=wa$$ ib=wb$$ ok=0
	RES=""
	[ "$rtt" -ge 100 ] && dur=15
	"$bld/perf/isthmus-wanem" --file-prefix "$tag-wanem-tap" --lcore 1 --quiet --stats-interval-ms 0 \
		--port-a "net_tap0,iface=$ia" --port-b "net_tap1,iface=$ib" \
		--both "$spec" --control "$tmp/wt.sock" >"$tmp/wt.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		ip link show "$ia" >/dev/null 2>&1 && ip link show "$ib" >/dev/null 2>&1 && { ok=1; break; }
		sleep 0.1
	done
	if [ $ok = 0 ]; then
		echo "bench_wan: tap interfaces did not appear" >&2; tail -n 5 "$tmp/wt.log" >&2
		stop_all; return
	fi
	ip netns add "$NSA" && ip netns add "$NSB" &&
		ip link set "$ia" netns "$NSA" && ip link set "$ib" netns "$NSB" &&
		ip -n "$NSA" addr add 10.77.0.1/24 dev "$ia" && ip -n "$NSA" link set "$ia" up &&
		ip -n "$NSB" addr add 10.77.0.2/24 dev "$ib" && ip -n "$NSB" link set "$ib" up ||
		{ echo "bench_wan: namespace setup failed" >&2; stop_all; return; }
	ip netns exec "$NSB" timeout $((dur + 30)) iperf3 -s -1 -B 10.77.0.2 >"$tmp/iperf-s.log" 2>&1 &
	pids+=($!)
	# wait for the path (ARP through the bridge) and the server
	for _ in $(seq 30); do
		ip netns exec "$NSA" ping -c1 -W1 10.77.0.2 >/dev/null 2>&1 && break
	done
	sleep 0.5
	ip netns exec "$NSA" timeout $((dur + 30)) iperf3 -c 10.77.0.2 -C cubic -t "$dur" -J >"$tmp/iperf.json" 2>"$tmp/iperf-c.log" &
	pids+=($!)
	wait $!
	stop_all
	RES=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('%.1f' % (d['end']['sum_received']['bits_per_second']/1e6))" \
		"$tmp/iperf.json" 2>/dev/null) || {
		RES=""
		echo "bench_wan: iperf3 failed" >&2; tail -n 5 "$tmp/iperf-c.log" "$tmp/iperf.json" >&2
	}
}

: >"$table"
for cell in "${cells[@]}"; do
	rtt=${cell%%-*}
	loss=${cell#*-}
	case $rtt in ''|*[!0-9]*) echo "bench_wan: bad cell '$cell' (RTT-LOSS, e.g. 100-1)" >&2; exit 2;; esac
	case $loss in ''|*[!0-9.]*) echo "bench_wan: bad cell '$cell' (RTT-LOSS, e.g. 100-1)" >&2; exit 2;; esac
	spec=$(spec_for "$rtt" "$loss")
	echo "bench_wan: cell $rtt ms / $loss %: spec $spec" >&2
	run_ours "$rtt" "$spec"; ours=$RES
	run_baseline "$rtt" "$spec"; base=$RES
	ratio=$(awk -v a="${ours:-0}" -v b="${base:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }')
	line="RESULT wan-$rtt-$loss ours=${ours:-nan} Mb/s baseline=${base:-nan} Mb/s ratio=$ratio"
	echo "$line" | tee -a "$table"
	if [ "$rtt" = 100 ] && [ "$loss" = 1 ]; then
		ratio=$(awk -v a="${ours:-0}" -v c="$CAP" 'BEGIN { printf "%.2f", a / c }')
		line="RESULT wan-100-1-cap ours=${ours:-nan} Mb/s baseline=$CAP Mb/s ratio=$ratio"
		echo "$line" | tee -a "$table"
	fi
done

mkdir -p "$src/perf/results"
{
	echo "# perf/bench_wan.sh $(date -u +%Y-%m-%dT%H:%MZ) rate cap ${CAP} Mbit/s, isthmus ${MEASURE} s after ${WARMUP} s warm-up, iperf3 TCP (cubic) 10 s (15 s at RTT >= 100 ms)"
	cat "$table"
} >"$out"
