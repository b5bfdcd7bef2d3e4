#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# isthmus developer entry point, as root on Debian 12:
#   bash scripts/dev.sh demo   install what is missing, build, run the demo
#   bash scripts/dev.sh test   install what is missing, build, run every test
#   bash scripts/dev.sh build  install what is missing and build
# Idempotent: a second run installs nothing and rebuilds only what changed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

PACKAGES=(
	gcc pkg-config meson ninja-build python3 python3-pyelftools
	libdpdk-dev dpdk librdkafka-dev libcmocka-dev
	libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev
	liblz4-dev libzstd-dev libhyperscan-dev
	libssl-dev clang libclang-rt-14-dev iperf3
	kcat lz4 zstd clang-format iproute2 procps
)

say() { printf 'isthmus: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

setup_packages() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# DPDK wants 2 MiB hugepages and hugetlbfs at /dev/hugepages.
setup_hugepages() {
	local want=1024 have
	have=$(awk '/^HugePages_Total:/ {print $2}' /proc/meminfo)
	if [ "${have:-0}" -lt "$want" ]; then
		echo "$want" > /proc/sys/vm/nr_hugepages ||
			die "cannot reserve hugepages: run as root, or on a host that allows it"
		have=$(awk '/^HugePages_Total:/ {print $2}' /proc/meminfo)
		[ "$have" -gt 0 ] || die "the kernel reserved no hugepages; free memory and retry"
	fi
	mkdir -p /dev/hugepages
	mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
}

# build DIR [meson options...]: quiet unless it fails.
build() {
	local dir=$1 log
	shift
	log=$(mktemp)
	if [ ! -f "$dir/build.ninja" ] && ! meson setup "$dir" "$@" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		rm -f "$log"
		die "meson setup $dir failed"
	fi
	if ! ninja -C "$dir" >"$log" 2>&1; then
		grep -E 'error|warning' "$log" | head -n 30 >&2 || tail -n 30 "$log" >&2
		rm -f "$log"
		die "build in $dir failed"
	fi
	rm -f "$log"
}

setup() {
	[ "$(id -u)" -eq 0 ] || die "run as root: the set-up installs packages and reserves hugepages"
	setup_packages
	setup_hugepages
}

# Print "passed failed" from a meson testlog.json.
count_results() {
	python3 - "$1" <<'PY'
import json, sys
ok = bad = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        if r.get("result") in ("OK", "EXPECTEDFAIL", "SKIP"):
            ok += 1
        else:
            bad += 1
except FileNotFoundError:
    bad = 1
print(ok, bad)
PY
}

run_tests() {
	local pass=0 fail=0 ok bad
	build build
	build build-asan -Dbuildtype=debug -Dsanitize=true

	say "style: clang-format"
	if ! git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror; then
		say "clang-format: files above differ from .clang-format; run clang-format -i on them"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
	say "docs: docs/CONFIG.md matches the settings table"
	if ! ./build/config/isthmus-config-doc | diff -u docs/CONFIG.md -; then
		say "docs/CONFIG.md is stale: ./build/config/isthmus-config-doc > docs/CONFIG.md"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi

	# Unit tests under ASan+UBSan; integration tests on the optimised build.
	for suite in "build-asan unit" "build integration"; do
		set -- $suite
		say "suite $2 ($1)"
		meson test -C "$1" --suite "$2" --print-errorlogs --num-processes 2 || true
		read -r ok bad < <(count_results "$1/meson-logs/testlog.json")
		pass=$((pass + ok))
		fail=$((fail + bad))
	done
	printf 'tests: %d passed, %d failed\n' "$pass" "$fail"
	[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
}

case "${1:-}" in
demo)
	setup
	build build
	exec bash scripts/demo.sh build
	;;
test)
	setup
	run_tests
	;;
build)
	setup
	build build
	;;
*)
	echo "usage: bash scripts/dev.sh demo|test|build" >&2
	exit 2
	;;
esac
