# SPDX-License-Identifier: BSD-3-Clause
#
# Two emulated regions replicating through the WAN emulator, for the demo,
# the replication tests and the end-to-end benchmark. Source it with
#   src=SRCDIR bld=BUILDDIR tmp=TMPDIR tag=UNIQUE
# set, and with a `start NAME CMD...` function that runs CMD in the
# background, logs to $tmp/NAME.log and sets $last_pid (tests/integration/
# lib.sh has one). Everything started is recorded in the repl_pid array so
# the caller can stop it by PID.
#
#   repl_up WANEM_SPEC TOPIC:P...   regions A and B (same topics), wanem,
#                                   appliance A (source), appliance B (sink);
#                                   repl_brokers[a|b]=N set before it gives
#                                   that region N brokers (default 1); a
#                                   function repl_pre_start, if defined, runs
#                                   once the regions and configs exist
#   repl_start_dp a|b, repl_start_ctl a|b, repl_kill NAME (kill -9 by PID)
#   repl_cli a|b ARGS...            the isthmus CLI against appliance a or b
#   repl_verify [verify options]    isthmus verify of flow dr
#   repl_down                       stop everything, by PID

REPL_DP=$bld/dataplane/isthmus-dataplane
REPL_CTL=$bld/control/isthmus-control
REPL_CLI=$bld/control/isthmus
REPL_REGION=$bld/perf/isthmus-region
REPL_WANEM=$bld/perf/isthmus-wanem
REPL_LOADGEN=$bld/perf/loadgen/isthmus-loadgen
declare -A repl_pid=()
declare -A repl_brokers=()
repl_topics=()

# A fresh link key, mode 600 (docs/WIRE.md).
repl_key() {
	local k s
	k=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	s=$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')
	(umask 077 && printf 'key 1 %s %s send\n' "$k" "$s" >"$tmp/link.key")
}

repl_region() { # repl_region a|b NAME
	local x=$1 args=() t
	for t in "${repl_topics[@]}"; do args+=(--topic "$t:1"); done
	rm -f "$tmp/region-$x.bootstrap"
	start "region-$x" "$REPL_REGION" --name "$2" --brokers "${repl_brokers[$x]:-1}" \
		"${args[@]}" --control "$tmp/region-$x.sock" \
		--bootstrap-file "$tmp/region-$x.bootstrap"
	repl_pid[region-$x]=$last_pid
	for _ in $(seq 100); do
		[ -s "$tmp/region-$x.bootstrap" ] && break
		sleep 0.1
	done
	[ -s "$tmp/region-$x.bootstrap" ] || { echo "region $x did not start" >&2; return 1; }
}

repl_conf() { # repl_conf a|b: the example core map with this run's names
	sed -e "s#^file_prefix = .*#file_prefix = isthmus-$tag-$1#" \
		"$src/config/examples/repl-region-$1.conf" >"$tmp/$1.conf"
}

repl_start_dp() {
	start "dp-$1" "$REPL_DP" -c "$tmp/$1.conf"
	repl_pid[dp-$1]=$last_pid
}

repl_start_ctl() {
	start "ctl-$1" "$REPL_CTL" -c "$tmp/$1.conf"
	repl_pid[ctl-$1]=$last_pid
}

repl_kill() { # repl_kill NAME: SIGKILL the process started as NAME, and reap it
	local p=${repl_pid[$1]:-}
	[ -n "$p" ] || return 0
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	unset "repl_pid[$1]"
}

repl_cli() {
	local x=$1
	shift
	"$REPL_CLI" -c "$tmp/$x.conf" "$@"
}

repl_verify() {
	"$REPL_CLI" verify --source "$ISTHMUS_REGION_A_BOOTSTRAP" --dest "$ISTHMUS_REGION_B_BOOTSTRAP" \
		$(printf -- '--topic %s ' "${repl_topics[@]%%:*}") "$@"
}

# repl_up WANEM_SPEC TOPIC:PARTITIONS...
repl_up() {
	local spec=$1
	shift
	repl_regions_up "$@"
	repl_appliances_up "$spec"
}

# The two halves of repl_up, for a caller that fills region A before the
# appliances start (perf/bench_e2e.sh):
#   repl_regions_up TOPIC:PARTITIONS...   key, regions A and B, the environment
#   repl_appliances_up WANEM_SPEC         wanem and both appliances
repl_regions_up() {
	local t
	repl_topics=()
	for t in "$@"; do repl_topics+=("$t"); done
	# isthmus-region takes NAME:P[:RF]; repl_region passes ":1" as RF.
	repl_key
	repl_region a eu-west
	repl_region b us-east
	export ISTHMUS_REGION_A_BOOTSTRAP ISTHMUS_REGION_B_BOOTSTRAP
	ISTHMUS_REGION_A_BOOTSTRAP=$(cat "$tmp/region-a.bootstrap")
	ISTHMUS_REGION_B_BOOTSTRAP=$(cat "$tmp/region-b.bootstrap")
	export ISTHMUS_RUN_DIR=$tmp ISTHMUS_LINK_KEY_FILE=$tmp/link.key
	export ISTHMUS_LINK_SOCKET_A=$tmp/link-a.sock ISTHMUS_LINK_SOCKET_B=$tmp/link-b.sock
	export ISTHMUS_HTTP_PORT_A=$((20000 + RANDOM % 12000)) # below the ephemeral ports
	export ISTHMUS_HTTP_PORT_B=$((ISTHMUS_HTTP_PORT_A + 1))
}

repl_appliances_up() {
	local spec=$1
	repl_conf a
	repl_conf b
	# A test may define repl_pre_start to edit $tmp/a.conf or $tmp/b.conf, or to
	# write into the regions, before anything else starts.
	if declare -F repl_pre_start >/dev/null; then repl_pre_start; fi
	start wanem "$REPL_WANEM" --file-prefix "isthmus-$tag-wanem" --lcore 1 --quiet \
		--stats-interval-ms 0 \
		--port-a "net_memif0,role=client,id=0,socket=$ISTHMUS_LINK_SOCKET_A" \
		--port-b "net_memif1,role=server,id=0,socket=$ISTHMUS_LINK_SOCKET_B" \
		--both "$spec" --seed 11 --control "$tmp/wanem.sock"
	repl_pid[wanem]=$last_pid
	repl_start_dp a
	repl_start_dp b
	repl_start_ctl a
	repl_start_ctl b
}

# Every stream of both appliances running (after a start or a restart).
repl_running() {
	local x
	for x in a b; do
		repl_cli "$x" status --json 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)["dataplane"]["replication"]
st = r["streams"] if r else []
sys.exit(0 if st and all(s["state"] == "running" for s in st) else 1)' || return 1
	done
}

repl_down() {
	local n
	for n in "${!repl_pid[@]}"; do repl_kill "$n"; done
	rm -rf /var/run/dpdk/isthmus-"$tag"-*
}
