# testlib.sh: the integration test harness.  Source it from a test file,
# define functions named test_*, and end the file with `run_tests "$@"`.
#
# Each test runs in its own bash process (under `timeout`, TEST_TIMEOUT
# seconds, default 300) with `set -euo pipefail`, its own temp dir $TEST_TMP,
# and cleanup actions registered with on_exit, which run however the test
# ends: success, failure, a signal or the timeout.  Servers started by a test
# record their process groups in $TEST_PIDS; the runner kills whatever is
# left there after the test, so nothing leaks even when cleanup could not run.
#
# Results go to $TEST_RESULTS (one "pass NAME" / "fail NAME" line per test)
# when the caller (tests/run.sh) sets it.

TESTLIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$TESTLIB_DIR/../../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
CERTOPS="$BUILD/certops"
TOOLS="$BUILD/tools"
export BUILD CERTOPS TOOLS TOP
export NO_COLOR=1

# --- cleanup -------------------------------------------------------------

_on_exit_cmds=()
# Registers a command (a string, eval'd) to run when the test ends; the last
# registered runs first.
on_exit() { _on_exit_cmds+=("$1"); }

_run_exit_cmds() {
	local i
	set +e
	for ((i = ${#_on_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_on_exit_cmds[$i]}"
	done
	_on_exit_cmds=()
}

# Kills every process group recorded in a pid file, then forgets them.
kill_recorded() {
	local f=$1 pid
	[ -f "$f" ] || return 0
	while read -r pid; do
		[ -n "$pid" ] || continue
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	done <"$f"
	sleep 0.2
	while read -r pid; do
		[ -n "$pid" ] || continue
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	done <"$f"
	: >"$f"
}

# --- assertions ----------------------------------------------------------

fail() {
	echo "FAILED: $*" >&2
	exit 1
}

assert_eq() { # expected actual [what]
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

assert_ne() { # unexpected actual [what]
	[ "$1" != "$2" ] || fail "${3:-value}: did not expect '$1'"
}

assert_contains() { # haystack needle [what]
	case "$1" in *"$2"*) ;; *) fail "${3:-output} does not contain '$2':
$1" ;; esac
}

assert_not_contains() { # haystack needle [what]
	case "$1" in *"$2"*) fail "${3:-output} contains '$2':
$1" ;; *) ;; esac
}

assert_match() { # string ERE [what]
	printf '%s' "$1" | grep -Eq -- "$2" || fail "${3:-output} does not match /$2/:
$1"
}

# Runs a command and checks its exit code; its stdout and stderr are kept in
# $OUT and $ERR for later assertions.  Usage: assert_exit 64 cmd args...
assert_exit() {
	local want=$1 rc=0
	shift
	"$@" >"$TEST_TMP/.out" 2>"$TEST_TMP/.err" || rc=$?
	OUT=$(cat "$TEST_TMP/.out")
	ERR=$(cat "$TEST_TMP/.err")
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want
--- stdout:
$OUT
--- stderr:
$ERR"
}

assert_file_mode() { # path mode(octal, e.g. 600)
	local m
	m=$(stat -c '%a' "$1") || fail "no such file: $1"
	assert_eq "$2" "$m" "mode of $1"
}

# Waits until a command succeeds, up to $1 seconds (polling every 0.1 s).
# The command runs again on each poll: give a function, not a $(...) that
# the shell expands once.  On timeout it says what it waited for and fails.
wait_for() {
	local secs=$1 deadline=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "timed out after ${secs}s waiting for: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# --- running -------------------------------------------------------------

_run_one() {
	local name=$1
	TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/certops-test.XXXXXX")
	export TEST_TMP
	on_exit 'rm -rf "$TEST_TMP"'
	trap '_run_exit_cmds' EXIT
	trap 'echo "interrupted" >&2; exit 130' INT TERM
	set -euo pipefail
	cd "$TEST_TMP"
	"$name"
}

run_tests() {
	local file name rc start dur only=${1:-} timeout=${TEST_TIMEOUT:-300}
	local pids passed=0 failed=0

	if [ "$only" = "--one" ]; then
		_run_one "$2"
		return $?
	fi
	file=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
	# Tests run in the order they are defined in the file.
	for name in $(shopt -s extdebug; for f in $(declare -F | awk '$3 ~ /^test_/ {print $3}'); do
		declare -F "$f"; done | sort -k2,2n | awk '{print $1}'); do
		[ -z "$only" ] || [ "$only" = "$name" ] || continue
		pids=$(mktemp "${TMPDIR:-/tmp}/certops-pids.XXXXXX")
		start=$(date +%s%N)
		rc=0
		TEST_PIDS=$pids timeout -k 10 "$timeout" bash "$file" --one "$name" \
			>"$pids.log" 2>&1 || rc=$?
		kill_recorded "$pids"
		dur=$((($(date +%s%N) - start) / 100000000))
		dur="$((dur / 10)).$((dur % 10))"
		if [ "$rc" = 0 ]; then
			passed=$((passed + 1))
			printf 'ok    %s %s (%ss)\n' "$(basename "$file")" "$name" "$dur"
			[ -z "${TEST_RESULTS:-}" ] || echo "pass $(basename "$file"):$name" >>"$TEST_RESULTS"
		else
			failed=$((failed + 1))
			[ "$rc" != 124 ] || echo "timed out after ${timeout}s" >>"$pids.log"
			printf 'FAIL  %s %s (exit %s, %ss)\n' "$(basename "$file")" "$name" "$rc" "$dur"
			sed 's/^/      | /' "$pids.log" | tail -n 60
			[ -z "${TEST_RESULTS:-}" ] || echo "fail $(basename "$file"):$name" >>"$TEST_RESULTS"
		fi
		rm -f "$pids" "$pids.log"
	done
	[ "$failed" = 0 ]
}
