#!/usr/bin/env bash
# Integration tests of lib/engine through the certops binary: every command
# goes through the same pass, so the things the copies in cmd/ used to get
# differently now agree (one state dir for the policy, colour from stdout,
# --force checked everywhere), what this build cannot carry out is refused
# at validate and plan with its position (the capability table), and
# `apply --prune` removes what the plan says it removes.
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/pebble.sh"

# The quickstart deploying under $1, against a real Pebble.
quickstart_to() { pebble_quickstart "$1" --always-valid; }

no_sanitizer_report() {
	assert_not_contains "$ERR" "Sanitizer" "stderr"
	assert_not_contains "$ERR" "runtime error:" "stderr"
}

# The built-in default policy lets certops write under the state directory.
# plan and validate used to build it without the default state dir (only
# --state/CERTOPS_STATE), so they refused what apply then accepted.
test_default_state_dir_same_policy_in_plan_and_apply() {
	unset CERTOPS_STATE
	export XDG_STATE_HOME="$TEST_TMP/xdg"
	[ ! -e /etc/certops/policy.yaml ] || { echo "skip: /etc/certops/policy.yaml exists"; return 0; }
	quickstart_to "$XDG_STATE_HOME/certops/www"
	assert_exit 0 "$CERTOPS" validate "$DECL"
	assert_contains "$OUT" "policy: built-in default"
	assert_exit 2 timeout 60 "$CERTOPS" plan --detailed-exitcode "$DECL"
	assert_contains "$OUT" "deploy:www:files[0]"
	assert_exit 0 timeout 180 "$CERTOPS" apply "$DECL"
	no_sanitizer_report
	[ -f "$XDG_STATE_HOME/certops/www/fullchain.pem" ] || fail "nothing deployed under the state dir"
	assert_exit 0 timeout 60 "$CERTOPS" plan --detailed-exitcode "$DECL"
	assert_contains "$OUT" "No changes"
}

# Colour is decided by where results go (stdout), not by stderr: a terminal
# on stderr with stdout into a pipe writes no escape codes into the pipe.
test_apply_into_a_pipe_has_no_escape_codes() {
	export CERTOPS_STATE="$TEST_TMP/state"
	quickstart_to "$TEST_TMP/www"
	command -v script >/dev/null || fail "script(1) (util-linux) is needed"
	# script gives certops a terminal on stderr; stdout goes to cat
	assert_exit 0 timeout 180 script -qec "'$CERTOPS' apply --policy '$POLICY' \
		'$DECL' 2>/dev/tty | cat >'$TEST_TMP/out'" /dev/null
	assert_contains "$(cat "$TEST_TMP/out")" "Apply complete"
	if grep -q $'\x1b' "$TEST_TMP/out"; then
		fail "escape codes in piped apply output: $(od -c "$TEST_TMP/out" | head -5)"
	fi
}

# `apply --force NAME` names a declared certificate, as plan requires.
test_apply_force_unknown_name_is_a_usage_error() {
	export CERTOPS_STATE="$TEST_TMP/state"
	export CERTOPS_ACME_DIRECTORY=https://127.0.0.1:1/dir
	assert_exit 64 "$CERTOPS" apply --force nosuch "$TOP/examples/quickstart"
	assert_contains "$ERR" "--force 'nosuch': no such certificate is declared"
	assert_contains "$ERR" "usage: certops apply"
	assert_exit 64 "$CERTOPS" plan --force nosuch "$TOP/examples/quickstart"
	assert_contains "$ERR" "--force 'nosuch': no such certificate is declared"
	[ ! -e "$CERTOPS_STATE" ] || fail "a usage error created the state store"
}

# What apply cannot carry out in this build is refused where it is written.
test_unsupported_features_refused_with_position() {
	export CERTOPS_STATE="$TEST_TMP/state"
	mkdir repo
	cat >repo/a.yaml <<'EOF'
kind: Issuer
name: le
acme:
  directory: https://acme.example/dir
  fallback: [local]
---
kind: Issuer
name: local
ca: {commonName: test CA}
---
kind: Certificate
name: wild
issuer: le
domains: ["*.example.com"]
challenge:
  dns01:
    rfc2136: {server: "127.0.0.1:53", zone: example.com.}
---
kind: Certificate
name: alpn
issuer: le
domains: [alpn.example.com]
challenge:
  tlsalpn01: {listen: "127.0.0.1:5001"}
EOF
	assert_exit 65 "$CERTOPS" validate repo
	assert_contains "$OUT" "repo/a.yaml:5:13: acme.fallback: acme.fallback is not supported yet"
	assert_contains "$OUT" "repo/a.yaml:9:5: ca: issuer.ca is not supported yet"
	assert_contains "$OUT" "repo/a.yaml:16:3: challenge.dns01.rfc2136: dns01.rfc2136 is not supported yet"
	assert_contains "$OUT" "repo/a.yaml:24:3: challenge.tlsalpn01: tlsalpn01 is not supported yet"
	assert_contains "$ERR" "4 problems in repo"
	assert_exit 65 "$CERTOPS" validate --json repo
	assert_contains "$OUT" '"code":"unsupported"'
	assert_exit 65 "$CERTOPS" plan repo
	assert_contains "$ERR" "repo/a.yaml:16:3: challenge.dns01.rfc2136: dns01.rfc2136 is not supported yet"
	assert_exit 65 "$CERTOPS" apply repo
	assert_contains "$ERR" "nothing applied"
	[ ! -e "$CERTOPS_STATE" ] || fail "a refused declaration created the state store"
}

# The multi-team example says exactly which lines this build cannot do.
test_multi_team_example_names_unsupported_lines() {
	assert_exit 65 "$CERTOPS" validate --policy "$TOP/examples/policies/multi-team.yaml" \
		"$TOP/examples/multi-team"
	assert_contains "$OUT" "issuers.yaml:9:13: acme.fallback: acme.fallback is not supported yet"
	assert_contains "$OUT" "issuers.yaml:25:3: ca: issuer.ca is not supported yet"
	assert_contains "$OUT" "solvers.yaml:12:3: challenge.dns01.rfc2136: dns01.rfc2136 is not supported yet"
	assert_contains "$OUT" "solvers.yaml:25:3: challenge.dns01.exec: dns01.exec is not supported yet"
	assert_eq 4 "$(printf '%s\n' "$OUT" | grep -c 'not supported yet')" "unsupported lines"
	assert_eq 4 "$(printf '%s\n' "$OUT" | wc -l)" "nothing else is wrong with the example"
}

# `apply --prune` removes an undeclared certificate from the store (it used
# to say so in the plan, keep it, and exit 1 forever).
test_apply_prune_removes_undeclared_certificate() {
	export CERTOPS_STATE="$TEST_TMP/state"
	quickstart_to "$TEST_TMP/www"
	sed 's/^name: www$/name: old/; s#/www$#/old#; s/^domains: .*/domains: [old.example.com]/' \
		"$DECL/certops.yaml" | sed -n '/^kind: Certificate/,$p' >"$DECL/old.yaml"
	assert_exit 0 timeout 180 "$CERTOPS" apply --policy "$POLICY" "$DECL"
	[ -d "$CERTOPS_STATE/certs/old" ] || fail "old was not issued"
	rm "$DECL/old.yaml"
	assert_exit 2 "$CERTOPS" plan --detailed-exitcode --prune --policy "$POLICY" "$DECL"
	assert_contains "$OUT" "orphan:old"
	assert_contains "$OUT" "its stored versions are removed"
	assert_exit 0 timeout 180 "$CERTOPS" apply --prune --policy "$POLICY" "$DECL"
	no_sanitizer_report
	assert_contains "$OUT" "Apply complete"
	[ ! -e "$CERTOPS_STATE/certs/old" ] || fail "the pruned certificate is still in the store"
	assert_exit 0 "$CERTOPS" plan --detailed-exitcode --prune --policy "$POLICY" "$DECL"
	assert_contains "$OUT" "No changes"
	# the deployed files are left where they are (prune forgets, never deletes deployments)
	[ -f "$TEST_TMP/old/fullchain.pem" ] || fail "prune removed deployed files"
}

run_tests "$@"
