#!/bin/sh
# Benchmarks (never part of `make test`): builds each bench/*.c against the
# library in $BUILD (default build) and runs it.  Each prints its numbers
# and exits non-zero when it misses its budget.
set -eu

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CC=${CC:-cc}
PKGS="libgit2 openssl libcurl yaml-0.1 jansson"

[ -f "$BUILD/libcertops.a" ] || { echo "bench: $BUILD/libcertops.a missing; run make" >&2; exit 1; }
mkdir -p "$BUILD/bench"
status=0
for src in bench/*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	# shellcheck disable=SC2046
	$CC -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Ilib \
		$(pkg-config --cflags $PKGS) -o "$BUILD/bench/$name" "$src" \
		"$BUILD/libcertops.a" $(pkg-config --libs $PKGS) -pthread
	"$BUILD/bench/$name" || status=1
done
# No-op plan over 10,000 certificates and 20,000 files targets (issue 5).
if [ -x "$BUILD/tools/plan_fixture" ] || make -s "$BUILD/tools/plan_fixture" >/dev/null; then
	BUILD=$BUILD scripts/bench-plan.sh || status=1
fi
# certops apply against a local Pebble (scripts/bench-apply.sh)
if [ -x "$BUILD/certops" ] && command -v pebble >/dev/null 2>&1; then
	BUILD="$BUILD" scripts/bench-apply.sh || status=1
fi
exit $status
