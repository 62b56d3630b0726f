#!/usr/bin/env bash
# bench-apply.sh: times `certops apply` issuing and deploying N certificates
# (default 20, then 100) at a local Pebble (http-01 through the built-in
# responder, VA always valid, no sleep, authz reuse off), and prints wall
# time, orders/s and peak RSS.  A benchmark, never part of `make test`; run
# by scripts/bench.sh (make bench).  Needs build/certops and
# build/tools/freeport.  The aims of issue 5 (20 in under 1 s, 100 at 50
# orders/s or better, peak RSS under 30 MB) are printed with "met" or
# "MISSED"; the script fails only when the apply itself fails.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
TOOLS="$BUILD/tools"
CERTOPS="$BUILD/certops"
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/certops-bench.XXXXXX")
export TOOLS TEST_TMP
_exit_cmds=()
on_exit() { _exit_cmds+=("$1"); }
cleanup() {
	[ -n "${APPLY_BENCH_KEEP:-}" ] && cp -r "$TEST_TMP" "$APPLY_BENCH_KEEP"
	local c
	for c in "${_exit_cmds[@]}"; do eval "$c" || true; done
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT
# shellcheck source=/dev/null
. "$TOP/tests/integration/lib/pebble.sh"

parallel=${APPLY_BENCH_PARALLEL:-16}
printf '%-28s %8s %10s %10s  %s\n' "certops apply (parallel $parallel)" "wall ms" "orders/s" "peak RSS" "aim (issue 5)"
for n in ${APPLY_BENCH_COUNTS:-20 100}; do
	pebble_start --always-valid --authz-reuse 0
	dir="$TEST_TMP/$n"
	mkdir -p "$dir/decl"
	{
		cat <<EOT
kind: Issuer
name: pebble
acme: {directory: "$PEBBLE_DIRECTORY", caBundle: "$PEBBLE_CA_BUNDLE", email: bench@example.com}
EOT
		for i in $(seq 1 "$n"); do
			cat <<EOT
---
kind: Certificate
name: b$i
issuer: pebble
domains: [b$i.bench.example, www.b$i.bench.example]
challenge: {http01: {listen: "127.0.0.1:$PEBBLE_HTTP_PORT"}}
deploy: [{files: {dir: "$dir/out/b$i"}}]
EOT
		done
	} >"$dir/decl/certops.yaml"
	printf 'writeRoots: [%s]\n' "$dir" >"$dir/policy.yaml"
	start=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$dir/rss" timeout 600 "$CERTOPS" --state "$dir/state" \
		--policy "$dir/policy.yaml" apply --parallel "$parallel" "$dir/decl" >"$dir/out.log" 2>&1 ||
		{ tail -20 "$dir/out.log" >&2; exit 1; }
	end=$(date +%s%N)
	ms=$(((end - start) / 1000000))
	[ "$(ls "$dir/out" | wc -l)" = "$n" ] || { echo "bench-apply: not every certificate deployed" >&2; exit 1; }
	rate=$((n * 1000 / (ms > 0 ? ms : 1)))
	rss=$(($(cat "$dir/rss") / 1024))
	if [ "$n" -le 20 ]; then
		aim="< 1000 ms, < 30 MB"
		{ [ "$ms" -lt 1000 ] && [ "$rss" -lt 30 ]; } && verdict=met || verdict=MISSED
	else
		aim=">= 50 orders/s, < 30 MB"
		{ [ "$rate" -ge 50 ] && [ "$rss" -lt 30 ]; } && verdict=met || verdict=MISSED
	fi
	printf '%-28s %8d %10d %7d MB  %s: %s\n' "$n certificates" "$ms" "$rate" "$rss" "$aim" "$verdict"
	pebble_stop
done
