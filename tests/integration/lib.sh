# SPDX-License-Identifier: BSD-3-Clause
#
# TAP helpers shared by the integration tests. Source it after setting $tmp
# (the test's own temp dir). Processes started with `start` are recorded in
# $pids, so the test's EXIT trap can stop exactly those, by PID.

pids=()
fails=0

log() { printf '# %s\n' "$*"; }
ok() { printf 'ok - %s\n' "$*"; }
not_ok() {
	printf 'not ok - %s\n' "$*"
	fails=$((fails + 1))
}

# check DESCRIPTION COMMAND...: one TAP line; the command's output goes to stderr.
check() {
	local what=$1
	shift
	if "$@" >&2; then ok "$what"; else not_ok "$what"; fi
}

# wait_for SECONDS COMMAND...: poll every 100 ms until the command succeeds.
wait_for() {
	local t=$1
	shift
	for _ in $(seq $((t * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# start NAME COMMAND...: run in the background, log to $tmp/NAME.log; sets $last_pid.
start() {
	local name=$1
	shift
	"$@" >>"$tmp/$name.log" 2>&1 &
	last_pid=$!
	pids+=("$last_pid")
}

# stop_all: SIGKILL every process this test started, and reap it.
stop_all() {
	local p
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# show_logs: the tail of every log, as TAP comments (after a failure).
show_logs() {
	local f
	for f in "$tmp"/*.log; do
		[ -f "$f" ] || continue
		log "--- $f"
		tail -n "${1:-20}" "$f" | sed 's/^/# /'
	done
}

# make_link_key FILE: a fresh pre-shared link key (docs/WIRE.md), mode 600.
make_link_key() {
	local k s
	k=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	s=$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')
	(umask 077 && printf 'key 1 %s %s send\n' "$k" "$s" >"$1")
}
