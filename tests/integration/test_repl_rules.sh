#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Record rules (hyperscan), replaced while replication runs. The appliances
# start with no [rule]; records flow. Then rules are added to the source's
# core map and the data plane gets SIGHUP: a drop rule on a header, a tag
# rule on the key and a route rule on the value take effect without a
# restart (RCU swap), and a rule that does not compile is refused while the
# old rules stay and records keep flowing.
# Usage: test_repl_rules.sh SRCDIR BUILDDIR
set -euo pipefail

src=$1
bld=$2
tmp=$(mktemp -d /tmp/isthmus-rules.XXXXXX)
tag=rr$$
. "$(dirname "$0")/lib.sh"
. "$src/perf/repl_env.sh"

cleanup() {
	repl_down
	stop_all
	if [ $fails -ne 0 ]; then
		show_logs 20
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# produce TOPIC: lines "key<TAB>value<TAB>header-kind" on stdin
produce() {
	while IFS=$'\t' read -r k v h; do
		kcat -b "$ISTHMUS_REGION_A_BOOTSTRAP" -t "$1" -K $'\t' -H "kind=$h" -P <<<"$k"$'\t'"$v"
	done
}
# dest TOPIC: "key value headers" of every record of the destination topic
dest() {
	kcat -b "$ISTHMUS_REGION_B_BOOTSTRAP" -t "$1" -C -e -q -f '%k %s %h\n' 2>/dev/null
}
count() { dest "$1" | grep -c "$2" || true; }
reloads() { # reloads FIELD: the rules reload counter of appliance a
	repl_cli a status --json | python3 -c "
import json, sys
print(json.load(sys.stdin)['dataplane']['replication']['$1'])"
}

echo "1..11"
repl_up delay=2ms orders:1 payments:1 audit:1
check "every stream runs" wait_for 60 repl_running

printf 'k1\tv1\tinfo\nk2\tv2\tdebug\n' | produce payments
check "without rules every record is replicated" \
	wait_for 30 bash -c "[ \$(kcat -b $ISTHMUS_REGION_B_BOOTSTRAP -t payments -C -e -q | wc -l) -eq 2 ]"

cat >>"$tmp/a.conf" <<'EOF'

[rule drop-debug]
flow = dr
match = header:kind
pattern = ^debug$
action = drop

[rule tag-vip]
flow = dr
topics = payments
match = key
pattern = ^vip
action = tag:x-tier=gold

[rule route-audit]
flow = dr
topics = orders
match = value
pattern = AUDIT
action = route:audit
EOF
kill -HUP "${repl_pid[dp-a]}"
check "SIGHUP reloads the rules while the data plane runs" wait_for 20 bash -c \
	"[ \"\$(\"$REPL_CLI\" -c \"$tmp/a.conf\" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"dataplane\"][\"replication\"][\"rules_reloads\"])')\" = 1 ]"

printf 'k3\tv3\tinfo\nk4\tv4\tdebug\nvip5\tv5\tinfo\n' | produce payments
printf 'o1\tplain\tinfo\no2\tAUDIT-trail\tinfo\no3\tplain2\tinfo\n' | produce orders
check "records after the reload arrive" wait_for 30 bash -c \
	"kcat -b $ISTHMUS_REGION_B_BOOTSTRAP -t orders -C -e -q | grep -q plain2"
sleep 2
check "the drop rule keeps the debug record out" test "$(count payments '^k4 ')" -eq 0
check "records the rules do not touch are replicated once" \
	test "$(count payments '^k3 ')" -eq 1 -a "$(count payments '^k2 ')" -eq 1
check "the tag rule adds its header" bash -c "$(declare -f dest); dest payments | grep '^vip5 ' | grep -q 'x-tier=gold'"
check "the route rule sends the record to its topic, with provenance" bash -c \
	"$(declare -f dest); dest audit | grep '^o2 ' | grep -q 'isthmus.origin.topic=orders'"
check "and not to its own" test "$(count orders '^o2 ')" -eq 0

# A rule that does not compile: refused, the current rules stay.
printf '\n[rule broken]\nflow = dr\nmatch = value\npattern = (unclosed\naction = drop\n' >>"$tmp/a.conf"
kill -HUP "${repl_pid[dp-a]}"
check "a rule that does not compile is refused and counted" wait_for 20 bash -c \
	"[ \"\$(\"$REPL_CLI\" -c \"$tmp/a.conf\" status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"dataplane\"][\"replication\"][\"rules_reload_failed\"])')\" = 1 ]"
printf 'k6\tv6\tdebug\nk7\tv7\tinfo\n' | produce payments
check "the old rules stay and records keep flowing" wait_for 30 bash -c \
	"kcat -b $ISTHMUS_REGION_B_BOOTSTRAP -t payments -C -e -q -f '%k\n' | grep -q '^k7' && ! kcat -b $ISTHMUS_REGION_B_BOOTSTRAP -t payments -C -e -q -f '%k\n' | grep -q '^k6'"
grep -h "rules not reloaded" "$tmp"/dp-a.log | head -1 | sed 's/^/# /'
exit $((fails > 0))
