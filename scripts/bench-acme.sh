#!/usr/bin/env bash
# bench-acme.sh: times N concurrent orders (default 50) from one acme_client
# (threads) against a local Pebble with always-valid, no-sleep validation.
# A benchmark, never part of `make test` (`make bench` runs it through
# bench/acme_orders.c).  Needs build/tools/acme_smoke and the integration
# harness (tests/integration/lib/pebble.sh).  Fails when the orders fail or
# take longer than ACME_BENCH_BUDGET_MS (default 20000).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
TOOLS="$BUILD/tools"
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/certops-bench.XXXXXX")
export TOOLS TEST_TMP
_exit_cmds=()
on_exit() { _exit_cmds+=("$1"); }
cleanup() {
	local c
	for c in "${_exit_cmds[@]}"; do eval "$c" || true; done
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT
# shellcheck source=/dev/null
. "$TOP/tests/integration/lib/pebble.sh"

n=${ACME_BENCH_ORDERS:-50}
budget=${ACME_BENCH_BUDGET_MS:-20000}
# `make bench` builds only the library and the CLI: build the driver too
make -C "$TOP" --no-print-directory BUILD="$BUILD" "$BUILD/tools/acme_smoke" >/dev/null
pebble_start --always-valid
start=$(date +%s%N)
timeout 300 "$TOOLS/acme_smoke" --directory "$PEBBLE_DIRECTORY" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--out "$TEST_TMP" --orders "$n" --name bench.example --name www.bench.example >"$TEST_TMP/out"
end=$(date +%s%N)
ms=$(((end - start) / 1000000))
grep -E '^(orders|requests|badnonce_retries)=' "$TEST_TMP/out" | tr '\n' ' '
echo
echo "acme: $n concurrent orders from one client in ${ms} ms ($((n * 1000000 / (ms > 0 ? ms : 1) / 1000)) orders/s, budget ${budget} ms)"
grep -q "failed=0" "$TEST_TMP/out" || { echo "bench-acme: some orders failed" >&2; exit 1; }
[ "$ms" -le "$budget" ] || { echo "bench-acme: over budget" >&2; exit 1; }
