#!/usr/bin/env bash
# bench-plan.sh: a no-op `certops plan` over N certificates (default 10,000)
# with two `files` targets each, all in sync (made true without a CA by
# build/tools/plan_fixture).  Prints wall time and peak RSS and fails when
# over budget (0.5 s, 200 MB).  A benchmark, never part of `make test`.
# The fixture is kept in $BENCH_PLAN_DIR when set (generating it takes a
# while), else made in a temp dir and removed.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
N=${BENCH_PLAN_CERTS:-10000}
BUDGET_S=${BENCH_PLAN_BUDGET_S:-0.5}
BUDGET_MB=${BENCH_PLAN_BUDGET_MB:-200}

[ -x "$BUILD/certops" ] && [ -x "$BUILD/tools/plan_fixture" ] || {
	echo "bench-plan: build certops and $BUILD/tools/plan_fixture first" >&2
	exit 1
}
if [ -n "${BENCH_PLAN_DIR:-}" ]; then
	dir=$BENCH_PLAN_DIR
	mkdir -p "$dir"
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/certops-bench-plan.XXXXXX")
	trap 'rm -rf "$dir"' EXIT
fi
dir=$(cd "$dir" && pwd)

if [ ! -f "$dir/.done-$N" ]; then
	rm -rf "${dir:?}"/*
	mkdir -p "$dir/repo"
	python3 - "$dir" "$N" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
with open(d + "/repo/issuer.yaml", "w") as f:
    f.write("kind: Issuer\nname: ca\nacme: {directory: \"https://acme.invalid/dir\"}\n")
with open(d + "/repo/certs.yaml", "w") as f:
    for i in range(n):
        f.write("---\nkind: Certificate\nname: c%05d\nissuer: ca\n"
                "domains: [c%05d.example.com]\n"
                "challenge: {http01: {webroot: %s/webroot}}\n"
                "deploy:\n"
                "  - files: {dir: %s/out/c%05d/a, fullchain: fullchain.pem, key: privkey.pem}\n"
                "  - files: {dir: %s/out/c%05d/b, cert: cert.pem, chain: chain.pem}\n"
                % (i, i, d, d, i, d, i))
PY
	printf 'writeRoots: [%s]\n' "$dir" >"$dir/policy.yaml"
	echo "bench-plan: generating the fixture ($N certificates)..." >&2
	"$BUILD/tools/plan_fixture" "$dir/state" "$dir/repo" >&2
	touch "$dir/.done-$N"
fi

run() {
	CERTOPS_STATE="$dir/state" /usr/bin/time -f '%e %M' -o "$dir/.time" \
		"$BUILD/certops" plan --policy "$dir/policy.yaml" --detailed-exitcode "$dir/repo" \
		>"$dir/.out" 2>&1
}
run || { cat "$dir/.out" >&2; echo "bench-plan: the plan is not empty" >&2; exit 1; }  # warm
run
read -r wall rss_kb <"$dir/.time"
rss_mb=$((rss_kb / 1024))
printf '%-44s %8s s %6s MB   (budget %s s, %s MB)\n' \
	"no-op plan, $N certs, $((2 * N)) files targets" "$wall" "$rss_mb" "$BUDGET_S" "$BUDGET_MB"
awk -v w="$wall" -v b="$BUDGET_S" 'BEGIN { exit !(w <= b) }' || { echo "bench-plan: over the time budget" >&2; exit 1; }
[ "$rss_mb" -le "$BUDGET_MB" ] || { echo "bench-plan: over the memory budget" >&2; exit 1; }
