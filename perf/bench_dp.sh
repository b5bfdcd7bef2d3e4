#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Data plane benchmark: synthetic ~1 KB JSON events (isthmus-corpus) through
# batch + compress + link over memif into a null sink, per codec, beside the
# raw speed of the codec (lz4 -b1 / zstd -b1, 16 KiB blocks) or of memcpy on
# the same corpus, in the same run, on the same CPU.
#
#   perf/bench_dp.sh [SECONDS] [BUILD_DIR]      (either order; default 15 s, build/)
#
# Two isthmus-dataplane processes joined directly by memif (no emulator),
# [synth] in corpus mode: the sender's one lcore (CPU 0) encodes the corpus's
# records into 16 KiB frames, compresses them and sends them over the link
# (10 Gb/s pacing, MTU 1500); the receiver (CPU 1) decompresses, decodes and
# checks every record against the corpus and tallies records and bytes in its
# progress file, read directly here (no control process needed).
#
# MB/s are corpus bytes (record values, uncompressed), 1 MB = 10^6 bytes,
# delivered and checked at the receiver over SECONDS after a warm-up,
# sampled every 3 s. "Per core" divides by the CPU time the sender's lcore
# thread used (/proc/PID/task/TID/stat), so time the shared machine gave to
# other work is not counted against us; "ours" is the best 3 s window per
# core, as the baselines report their best pass (the whole window's average
# is printed beside it). The baselines run right before each
# scenario, pinned to the sender's CPU: lz4/zstd -b1 -B16384 (which time
# their best pass on the wall clock, so on a shared CPU they report the share
# of a core they got) and isthmus-bench-raw (the same library calls on the
# same blocks, or memcpy, best pass per CPU second); the baseline is the
# larger of the two.
#
# The RESULT lines dp-<codec> run the link with auth = none (batch + compress
# + link, as on a link already protected by MACsec or IPsec); each is
# followed by the same scenario with AES-256-GCM on every packet
# (dp-<codec>-aead, against the same baseline). AEAD=0 skips those.
#
# Prints per scenario a detail line and
#   RESULT dp-<codec> ours=<MB/s per core> MB/s baseline=<MB/s> MB/s ratio=<ours/baseline>
# (codec lz4, zstd1, none), and writes the whole output to perf/results/dp.txt.
set -u

src=$(cd "$(dirname "$0")/.." && pwd)
bld=$src/build
MEASURE=15
for a in "$@"; do
	if [ -d "$a" ]; then bld=$(cd "$a" && pwd)
	elif [[ $a =~ ^[0-9]+$ ]] && [ "$a" -ge 6 ]; then MEASURE=$a
	else echo "usage: bench_dp.sh [SECONDS >= 6] [BUILD_DIR]" >&2; exit 2
	fi
done
WARMUP=${WARMUP:-4}
STEP=3 # the window is sampled every STEP seconds
AEAD=${AEAD:-1}
TX_CPU=0
RX_CPU=1

for b in dataplane/isthmus-dataplane perf/dp/isthmus-corpus perf/dp/isthmus-bench-raw; do
	[ -x "$bld/$b" ] || { echo "bench_dp: missing $bld/$b (build it with ninja -C $bld)" >&2; exit 2; }
done
for t in lz4 zstd taskset python3; do
	command -v $t >/dev/null || { echo "bench_dp: $t not found" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/isthmus-dpb.XXXXXX)
tag=dpb$$
pids=()
out=$src/perf/results/dp.txt
log=$tmp/out

# Last started first, one at a time: the sender goes before the receiver, so
# no data plane tears its memif down while its peer is going away too.
stop_all() {
	local i p
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		p=${pids[i]}
		kill "$p" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pids=()
	rm -rf /var/run/dpdk/isthmus-$tag-*
}
cleanup() { stop_all; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Interruptible sleep: a signal is handled at once, and the trap reaps it.
nap() { sleep "$1" & pids+=($!); wait $!; }
say() { echo "$*" | tee -a "$log"; }

# CPU time (s) of a process's main thread: the data plane runs lcore 0 on it.
cpu_of() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
		"/proc/$1/task/$1/stat" 2>/dev/null
}

# The receiver's tally (ist_synth.h): frames records bytes wire bad.
tally() {
	python3 - "$tmp/b.progress" "$STREAMS" <<'PY' 2>/dev/null
import struct, sys
n = int(sys.argv[2])
off = ((n + 1) * 4 + 7) & ~7
with open(sys.argv[1], 'rb') as f:
    f.seek(off)
    print(*struct.unpack('=5Q', f.read(40)))
PY
}

STREAMS=4
# Frames in flight per stream: 4 x 64 x 16 KiB absorb a receiver descheduled for
# several ms (the machine is shared), so the sender does not wait for credits.
WINDOW=64
make_conf() { # make_conf a|b CPU ROLE SEND CODEC AUTH SOCKET
	local x=$1 ip=10.98.0.1 peer=10.98.0.2
	[ "$x" = b ] && { ip=10.98.0.2; peer=10.98.0.1; }
	cat >"$tmp/$x.conf" <<EOF
[appliance]
id = bench-$x
region = bench-$x

[control]
socket = $tmp/dp-$x.sock

[eal]
file_prefix = isthmus-$tag-$x
in_memory = true
log_level = warning

[port link0]
device = net_memif0,role=$3,id=0,socket=$7,socket-abstract=yes
mtu = 1500

[lcore 0]
cpu = $2
roles = link-rx link-tx
idle_sleep_us = 100

[link]
port = link0
local_ip = $ip
peer_ip = $peer
capacity_mbps = 10000
rtt_ms = 1
auth = $6
$( [ "$6" = aead ] && echo "key_file = $tmp/link.key" )

[synth]
send = $4
streams = $STREAMS
window = $WINDOW
progress_file = $tmp/$x.progress
corpus = $tmp/corpus.bin
codec = $5
frame_kb = 16
EOF
}

# run_dp CODEC AUTH: over the whole window sets MBPS RECS BUSY RXBUSY WIRE BAD,
# and for the best STEP-second window per core BEST (MB/s per core), BEST_RECS
# (records/s per core) and BEST_BUSY; all empty on failure.
run=0
run_dp() {
	local codec=$1 auth=$2 a b c r k s0 ok=0 sock
	MBPS="" RECS="" BUSY="" RXBUSY="" WIRE="" BAD="" BEST="" BEST_RECS="" BEST_BUSY=""
	run=$((run + 1))
	sock=/isthmus-$tag-$run.sock # abstract: nothing left behind
	rm -f "$tmp"/*.progress
	make_conf a $TX_CPU server true "$codec" "$auth" "$sock"
	make_conf b $RX_CPU client false "$codec" "$auth" "$sock"
	"$bld/dataplane/isthmus-dataplane" -c "$tmp/b.conf" >"$tmp/b.log" 2>&1 &
	b=$!; pids+=("$b")
	"$bld/dataplane/isthmus-dataplane" -c "$tmp/a.conf" >"$tmp/a.log" 2>&1 &
	a=$!; pids+=("$a")
	for _ in $(seq 300); do
		{ kill -0 "$a" && kill -0 "$b"; } 2>/dev/null || break
		s0=$(tally)
		[ -n "$s0" ] && [ "${s0%% *}" -gt 0 ] && { ok=1; break; }
		sleep 0.1
	done
	if [ $ok = 0 ]; then
		echo "bench_dp: $codec/$auth: no frame reached the receiver in 30 s" >&2
		tail -n 5 "$tmp/a.log" "$tmp/b.log" >&2
		stop_all; return
	fi
	nap "$WARMUP"
	: >"$tmp/samples"
	for ((k = 0; k <= MEASURE / STEP; k++)); do
		[ $k -gt 0 ] && nap "$STEP"
		c=$(cpu_of "$a"); r=$(cpu_of "$b")
		if [ -z "$c" ] || [ -z "$r" ]; then
			echo "bench_dp: $codec/$auth: a data plane died during the measurement" >&2
			tail -n 5 "$tmp/a.log" "$tmp/b.log" >&2
			stop_all; return
		fi
		echo "$(date +%s.%N) $c $r $(tally)" >>"$tmp/samples"
	done
	stop_all
	read -r MBPS RECS BUSY RXBUSY WIRE BAD BEST BEST_RECS BEST_BUSY < <(python3 - "$tmp/samples" <<'PY'
import sys
# t, sender CPU s, receiver CPU s, frames, records, bytes, wire, bad
s = [list(map(float, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 8]
def rates(x, y):
    dt = y[0] - x[0]
    return ((y[5] - x[5]) / dt / 1e6, (y[4] - x[4]) / dt, (y[1] - x[1]) / dt,
            (y[2] - x[2]) / dt, (y[6] - x[6]) / dt / 1e6)
mb, rec, busy, rx, wire = rates(s[0], s[-1])
# The best window per core, as the baselines report their best pass; a window
# needs a tenth of the CPU so /proc's 10 ms ticks do not decide it.
best = max((rates(x, y) for x, y in zip(s, s[1:])),
           key=lambda r: r[0] / r[2] if r[2] >= 0.1 else 0)
print('%.1f %.0f %.3f %.3f %.1f %d %.1f %.0f %.3f' % (mb, rec, busy, rx, wire, s[-1][7] - s[0][7],
      best[0] / best[2] if best[2] > 0 else 0, best[1] / best[2] if best[2] > 0 else 0, best[2]))
PY
)
}

# raw_base MODE: the raw speed per CPU second of one core (isthmus-bench-raw:
# the calls lz4 -b / zstd -b make, or memcpy, on the flat corpus in 16 KiB
# blocks, timed in CPU time), on the sender's CPU. Sets RAW.
raw_base() {
	RAW=$(taskset -c $TX_CPU "$bld/perf/dp/isthmus-bench-raw" -m "$1" -B 16384 -t 3 \
		"$tmp/corpus.flat" | tee -a "$tmp/raw.txt" | sed -n 's/.* mbps=\([0-9.]*\).*/\1/p')
}

# cli_base lz4|zstd: compression MB/s that `TOOL -b1 -B16384` prints for the flat
# corpus, on the sender's CPU. It times its passes on the wall clock, so on a
# shared CPU it reports the share of a core it got: CLI_SHARE is that share
# (CPU time / wall time of the run). Sets CLI and CLI_SHARE.
cli_base() {
	local TIMEFORMAT='%R %U %S'
	CLI="" CLI_SHARE=""
	{ time taskset -c $TX_CPU "$1" -b1 -B16384 "$tmp/corpus.flat" >"$tmp/cli.txt" 2>&1; } \
		2>"$tmp/cli.time"
	CLI=$(tr '\r' '\n' <"$tmp/cli.txt" | python3 -c '
import re, sys
best = ""
for line in sys.stdin:
    m = re.search(r"\),\s*([0-9.]+) MB/s\s*,\s*[0-9.]+ MB/s", line)
    if m:
        best = m.group(1)
print(best)')
	[ -n "$CLI" ] || { echo "bench_dp: $1 -b1 printed no speed:" >&2; tail -c 300 "$tmp/cli.txt" >&2; }
	CLI_SHARE=$(awk '{ s = ($2 + $3) / $1; printf "%.0f", (s > 1 ? 1 : s) * 100 }' "$tmp/cli.time")
}

: >"$log"
start=$(date +%s)
say "# perf/bench_dp.sh $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bld/perf/dp/isthmus-corpus" -n 20000 -s 1 -o "$tmp/corpus.bin" --flat "$tmp/corpus.flat" |
	sed 's/^/# /; s#'"$tmp"'/##g' | tee -a "$log"
say "# sender: 1 lcore on CPU $TX_CPU (link-rx + link-tx: encode, CRC32C, compress, send);" \
	"receiver on CPU $RX_CPU; memif, MTU 1500, 10 Gb/s pacing, $STREAMS streams, 16 KiB frames"
say "# $MEASURE s measured after $WARMUP s warm-up, sampled every $STEP s; MB = 10^6 corpus bytes;" \
	"per core = / CPU share of the sender's lcore thread; ours = the best $STEP s window per core"
[ "$AEAD" = 1 ] && (umask 077 && printf 'key 1 %s %s send\n' \
	"$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" \
	"$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')" >"$tmp/link.key")

# report NAME CODEC AUTH: the scenario's detail and RESULT lines.
pct() { awk -v b="$1" 'BEGIN { printf "%.0f", b * 100 }'; }
report() {
	local name=$1 codec=$2 auth=$3 ours="" ratio
	if [ -z "$MBPS" ] || [ -z "$BEST" ]; then
		say "$name: FAILED (no measurement; see the messages above)"
	else
		ours=$BEST
		say "$name: codec $codec, auth $auth: $MBPS MB/s, $RECS records/s delivered and checked" \
			"over $MEASURE s; sender lcore CPU $(pct "$BUSY") %" \
			"($(awk -v m="$MBPS" -v b="$BUSY" 'BEGIN { if (b > 0) printf "%.1f", m / b }') MB/s per core)," \
			"receiver CPU $(pct "$RXBUSY") %; frames on the link $WIRE MB/s" \
			"(x$(awk -v m="$MBPS" -v w="$WIRE" 'BEGIN { if (w > 0) printf "%.2f", m / w }')); bad frames $BAD;" \
			"best $STEP s window: $BEST MB/s, $BEST_RECS records/s per core (sender CPU $(pct "$BEST_BUSY") %)"
		[ "$BAD" != 0 ] && say "$name: WARNING: $BAD frames failed the receiver's check"
	fi
	ratio=$(awk -v a="${ours:-0}" -v b="${base:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "nan" }')
	say "RESULT $name ours=${ours:-nan} MB/s baseline=${base:-nan} MB/s ratio=$ratio"
}

auths=(none)
[ "$AEAD" = 1 ] && auths+=(aead)
for codec in lz4 zstd:1 none; do
	# The baseline: the larger of what the CLI printed and the same calls per
	# CPU second (the CLI is only right when it had the core to itself).
	CLI="" CLI_SHARE=""
	case $codec in
	lz4) cli_base lz4; raw_base lz4 ;;
	zstd:1) cli_base zstd; raw_base zstd:1 ;;
	none) raw_base memcpy ;;
	esac
	base=$(awk -v a="${CLI:-0}" -v b="${RAW:-0}" 'BEGIN { m = a > b ? a : b; if (m > 0) printf "%.1f", m }')
	if [ "$codec" = none ]; then
		say "dp-none: baseline memcpy of the same bytes in 16 KiB blocks: ${RAW:-?} MB/s per CPU second"
	else
		say "dp-${codec/:/}: baseline ${codec%%:*} -b1 -B16384: ${CLI:-?} MB/s (wall clock; it had" \
			"${CLI_SHARE:-?} % of CPU $TX_CPU); the same calls per CPU second: ${RAW:-?} MB/s;" \
			"baseline = the larger"
	fi
	for auth in "${auths[@]}"; do
		name=dp-${codec/:/}
		[ "$auth" = aead ] && name=$name-aead
		run_dp "$codec" "$auth"
		report "$name" "$codec" "$auth"
	done
done
[ -s "$tmp/raw.txt" ] && sed 's/^/# isthmus-bench-raw: /' "$tmp/raw.txt" | tee -a "$log"
say "# runtime $(($(date +%s) - start)) s"

mkdir -p "$src/perf/results"
cp "$log" "$out"
