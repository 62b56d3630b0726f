#!/usr/bin/env bash
# The command-line surface: help, version, usage errors and exit codes.
. "$(dirname "$0")/lib/testlib.sh"

test_version_prints_every_library() {
	assert_exit 0 "$CERTOPS" version
	assert_match "$OUT" '^certops [0-9]+\.[0-9]+\.[0-9]+'
	local lib
	for lib in libgit2 OpenSSL libcurl libyaml jansson; do
		assert_match "$OUT" "^$lib [0-9]+\.[0-9]+" "version output for $lib"
	done
	# The runtime OpenSSL, not only the headers' version.
	assert_contains "$OUT" "OpenSSL $(openssl version | awk '{print $2}')"
}

test_help_lists_commands() {
	assert_exit 0 "$CERTOPS" --help
	local c
	for c in validate plan apply reconcile status version; do
		assert_match "$OUT" "^  $c " "command list"
	done
	assert_contains "$OUT" "--log-format"
	assert_exit 0 "$CERTOPS" help
	assert_contains "$OUT" "Commands:"
}

test_help_for_each_command() {
	local c
	for c in validate plan apply reconcile status version; do
		assert_exit 0 "$CERTOPS" "$c" --help
		assert_contains "$OUT" "Usage: certops $c" "$c --help"
		assert_contains "$OUT" "--state DIR" "$c --help"
		assert_eq "" "$ERR" "$c --help stderr"
	done
}

test_unknown_command_is_usage_error() {
	assert_exit 64 "$CERTOPS" frobnicate
	assert_eq "certops: unknown command 'frobnicate'" "$(printf '%s\n' "$ERR" | head -n1)"
	assert_contains "$ERR" "usage: certops"
	assert_eq "" "$OUT" "stdout"
}

test_unknown_option_is_usage_error() {
	assert_exit 64 "$CERTOPS" plan --frobnicate
	assert_eq "certops: unknown option '--frobnicate'" "$(printf '%s\n' "$ERR" | head -n1)"
	assert_contains "$ERR" "certops plan --help"
	assert_exit 64 "$CERTOPS" --frobnicate version
	assert_exit 64 "$CERTOPS" version -Z
	assert_contains "$ERR" "unknown option '-Z'"
}

test_missing_option_value() {
	assert_exit 64 "$CERTOPS" version --state
	assert_contains "$ERR" "option '--state' needs a value"
}

test_no_command() {
	assert_exit 64 "$CERTOPS"
	assert_contains "$ERR" "no command given"
}

test_global_options_before_and_after() {
	assert_exit 0 "$CERTOPS" --state "$TEST_TMP/s" -v --no-color --log-format json version
	assert_exit 0 "$CERTOPS" version --state "$TEST_TMP/s" -q --log-format text
	assert_exit 64 "$CERTOPS" --log-format xml version
	assert_contains "$ERR" "invalid --log-format 'xml'"
}

test_extra_argument_rejected() {
	assert_exit 64 "$CERTOPS" version extra
	assert_contains "$ERR" "unexpected argument 'extra'"
}

run_tests "$@"
