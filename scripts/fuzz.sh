#!/bin/sh
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a
# bounded time, seeded from the declaration corpora.
#
#   FUZZ_SECONDS  run time per target (default 60)
#   FUZZ_JOBS     parallel fuzzing jobs per target (default 1)
#   FUZZ_OUT      build/work directory (default build/fuzz)
#
# Exit status: 0 when no target crashed, leaked or timed out; non-zero
# otherwise (the crashing input is left in $FUZZ_OUT/<target>/).
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-1}
FUZZ_OUT=${FUZZ_OUT:-build/fuzz}
CLANG=${CLANG:-clang}
PKGS="libgit2 openssl libcurl yaml-0.1 jansson"

command -v "$CLANG" >/dev/null || { echo "fuzz: clang not found (make deps)" >&2; exit 1; }
# shellcheck disable=SC2046,SC2086
CFLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -pthread -Ilib $(pkg-config --cflags $PKGS)"
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
LIBS="$(pkg-config --libs $PKGS)"

mkdir -p "$FUZZ_OUT/obj"
# The library, instrumented (the normal build is not).
objs=""
for src in lib/*/*.c; do
	obj="$FUZZ_OUT/obj/$(echo "$src" | tr / _).o"
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
		# shellcheck disable=SC2086
		$CLANG $CFLAGS -fsanitize=fuzzer-no-link,address,undefined -c "$src" -o "$obj"
	fi
	objs="$objs $obj"
done

status=0
for target in tests/fuzz/fuzz_*.c; do
	name=$(basename "$target" .c)
	work="$FUZZ_OUT/$name"
	mkdir -p "$work/corpus"
	echo "fuzz: building $name" >&2
	# shellcheck disable=SC2086
	$CLANG $CFLAGS $SAN "$target" $objs $LIBS -o "$work/$name"
	seeds=""
	for d in tests/unit/config/corpus/good tests/unit/config/corpus/bad examples; do
		[ -d "$d" ] && seeds="$seeds $ROOT/$d"
	done
	par=""
	[ "$FUZZ_JOBS" -gt 1 ] && par="-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS"
	echo "fuzz: running $name for ${FUZZ_SECONDS}s" >&2
	# New inputs go to the work corpus; the seed dirs are only read.
	# shellcheck disable=SC2086
	if ! (cd "$work" && ASAN_OPTIONS=detect_leaks=1 "./$name" \
		-max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 $par -print_final_stats=1 corpus $seeds); then
		echo "fuzz: $name FAILED (see $work)" >&2
		status=1
	fi
done
exit $status
