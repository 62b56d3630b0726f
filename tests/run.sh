#!/usr/bin/env bash
# tests/run.sh [unit|integration] [FILTER]: runs the unit tests (cmocka
# binaries under $BUILD/tests/unit) and the integration tests
# (tests/integration/test_*.sh against the built binary and real servers),
# then prints one closing line: "N passed, N failed".
#
# With SANITIZE=1 the binaries are ASan/UBSan builds: every sanitizer report
# is written under $BUILD/sanitizer/ and any report fails the run, even one
# from a process whose exit code a test did not look at.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
export BUILD
what=${1:-all}
filter=${2:-}

RESULTS=$(mktemp "${TMPDIR:-/tmp}/certops-results.XXXXXX")
trap 'rm -f "$RESULTS"' EXIT
export TEST_RESULTS=$RESULTS

SANDIR="$BUILD/sanitizer"
if [ "${SANITIZE:-}" = 1 ]; then
	rm -rf "$SANDIR"
	mkdir -p "$SANDIR"
	export ASAN_OPTIONS="log_path=$SANDIR/asan:exitcode=86:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
	export UBSAN_OPTIONS="log_path=$SANDIR/ubsan:print_stacktrace=1:halt_on_error=1"
	if [ -f "$TOP/tests/lsan.supp" ]; then
		export LSAN_OPTIONS="suppressions=$TOP/tests/lsan.supp:print_suppressions=0"
	fi
fi

run_unit() {
	local bin name rc log
	while IFS= read -r bin; do
		name=${bin#"$BUILD/tests/unit/"}
		[ -z "$filter" ] || case "$name" in *"$filter"*) ;; *) continue ;; esac
		log=$(mktemp "${TMPDIR:-/tmp}/certops-unit.XXXXXX")
		rc=0
		# cmocka prints its own per-test lines; count them from its summary.
		(cd "$TOP" && timeout -k 5 300 "$bin") >"$log" 2>&1 || rc=$?
		local p f
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
		p=${p:-0}
		f=${f:-0}
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			f=1 # crashed, timed out or a sanitizer stopped it
		fi
		for ((i = 0; i < p; i++)); do echo "pass unit:$name" >>"$RESULTS"; done
		for ((i = 0; i < f; i++)); do echo "fail unit:$name" >>"$RESULTS"; done
		if [ "$rc" = 0 ] && [ "$f" = 0 ]; then
			printf 'ok    unit/%s (%s tests)\n' "$name" "$p"
		else
			printf 'FAIL  unit/%s (exit %s)\n' "$name" "$rc"
			sed 's/^/      | /' "$log" | tail -n 60
		fi
		rm -f "$log"
	done < <(find "$BUILD/tests/unit" -type f -name 'test_*' ! -name '*.d' -perm -u+x 2>/dev/null | sort)
}

run_integration() {
	local t
	for t in "$TOP"/tests/integration/test_*.sh; do
		[ -f "$t" ] || continue
		[ -z "$filter" ] || case "$(basename "$t")" in *"$filter"*) ;; *) continue ;; esac
		echo "--- $(basename "$t")"
		local before after rc=0
		before=$(wc -l <"$RESULTS")
		bash "$t" || rc=$?
		after=$(wc -l <"$RESULTS")
		# Failures are counted from $RESULTS; a file that failed or ran
		# nothing without saying so (no testlib, a syntax error) fails too.
		if [ "$after" = "$before" ] || { [ "$rc" != 0 ] &&
			! tail -n $((after - before)) "$RESULTS" | grep -q '^fail '; }; then
			echo "FAIL  $(basename "$t") (exit $rc, $((after - before)) results)"
			echo "fail $(basename "$t"):file" >>"$RESULTS"
		fi
	done
}

case "$what" in
unit) run_unit ;;
integration) run_integration ;;
all) run_unit; run_integration ;;
*) echo "usage: tests/run.sh [unit|integration|all] [FILTER]" >&2; exit 64 ;;
esac

passed=$(grep -c '^pass ' "$RESULTS")
failed=$(grep -c '^fail ' "$RESULTS")

if [ "${SANITIZE:-}" = 1 ] && [ -n "$(ls -A "$SANDIR" 2>/dev/null)" ]; then
	echo "sanitizer reports:"
	for f in "$SANDIR"/*; do
		echo "=== $f"
		head -n 80 "$f"
	done
	failed=$((failed + 1))
fi

if [ $((passed + failed)) = 0 ]; then
	echo "no tests ran"
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
