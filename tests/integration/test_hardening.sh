#!/usr/bin/env bash
# Integration tests of issue 11's first fixes, through the certops binary:
# a Git source cannot make certops read host files through committed
# symlinks; a forced reissue that fails is a failed apply; names with
# control characters are printed escaped; options may follow operands.
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/pebble.sh"

no_sanitizer_report() {
	assert_not_contains "$ERR" "Sanitizer" "stderr"
	assert_not_contains "$ERR" "runtime error:" "stderr"
}

# A repository whose commit holds a file link and a directory link out of
# the checkout, to host files that look like declarations.
test_git_source_refuses_links_out_of_the_checkout() {
	export CERTOPS_STATE="$TEST_TMP/state"
	mkdir -p "$TEST_TMP/host/team"
	printf 'kind: Issuer\nname: HOSTSECRET-file\nacme: {directory: https://x.example/d}\n' \
		>"$TEST_TMP/host/secret.yaml"
	printf 'kind: Issuer\nname: HOSTSECRET-dir\nacme: {directory: https://x.example/d}\n' \
		>"$TEST_TMP/host/team/a.yaml"
	git init -q -b main "$TEST_TMP/work"
	cp "$TOP/examples/quickstart/certops.yaml" "$TEST_TMP/work/"
	ln -s "$TEST_TMP/host/secret.yaml" "$TEST_TMP/work/evil.yaml"
	ln -s "$TEST_TMP/host/team" "$TEST_TMP/work/team"
	# a link that stays inside the checkout is fine
	mkdir "$TEST_TMP/work/shared"
	ln -s ../certops.yaml "$TEST_TMP/work/shared/again.yml.txt"
	git -C "$TEST_TMP/work" add -A
	git -C "$TEST_TMP/work" commit -qm "links"
	assert_exit 65 "$CERTOPS" validate --repo "$TEST_TMP/work"
	no_sanitizer_report
	assert_contains "$OUT" "evil.yaml: a symbolic link to '$TEST_TMP/host/secret.yaml', which leaves the repository checkout"
	assert_contains "$OUT" "team: a symbolic link to '$TEST_TMP/host/team', which leaves the repository checkout"
	assert_not_contains "$OUT$ERR" "HOSTSECRET"
	assert_exit 65 "$CERTOPS" plan --repo "$TEST_TMP/work"
	assert_not_contains "$OUT$ERR" "HOSTSECRET"
	# the same tree as a plain directory is the operator's own: links followed
	assert_exit 65 "$CERTOPS" validate "$TEST_TMP/work"
	assert_not_contains "$OUT" "leaves the repository checkout"
}

# Control characters in a file name are escaped in text diagnostics.
test_control_characters_in_names_are_escaped() {
	mkdir repo
	printf 'kind: Nope\n' >"repo/a$(printf '\033')[31mred$(printf '\a').yaml"
	assert_exit 65 "$CERTOPS" validate repo
	assert_contains "$OUT" 'repo/a\x1b[31mred\x07.yaml:1:7: kind:'
	if printf '%s%s' "$OUT" "$ERR" | grep -q $'[\x01-\x08\x0b-\x1f\x7f]'; then
		fail "raw control characters in the output"
	fi
}

# A forced reissue that fails (the CA is gone) is a failed apply, even
# though the re-plan without --force has nothing left to do; options may
# follow the operand (apply PLAN --dir DIR).
test_failed_forced_reissue_exits_1_and_options_after_operands() {
	export CERTOPS_STATE="$TEST_TMP/state"
	pebble_quickstart "$TEST_TMP/www" --always-valid
	assert_exit 0 "$CERTOPS" plan --policy "$POLICY" -o plan.json "$DECL"
	assert_exit 0 timeout 180 "$CERTOPS" apply plan.json --dir "$DECL" --policy "$POLICY"
	no_sanitizer_report
	assert_contains "$OUT" "Apply complete"
	pebble_stop
	assert_exit 1 timeout 180 "$CERTOPS" apply --policy "$POLICY" --force www "$DECL"
	no_sanitizer_report
	assert_contains "$OUT" "issue:www: FAILED"
	assert_contains "$OUT" "Apply incomplete"
	assert_contains "$OUT" "not converged: issue:www: failed:"
	assert_exit 1 timeout 180 "$CERTOPS" apply --json --policy "$POLICY" --force www "$DECL"
	printf '%s' "$OUT" >apply.json
	python3 - apply.json <<'PY' || fail "apply --json: $OUT"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["converged"] is False and d["failed"] >= 1, d
assert any(p["id"] == "issue:www" and p["why"].startswith("failed: ") for p in d["not_converged"]), d
PY
}

# A stored key that no longer parses is never deployed over a good one: plan
# calls the version corrupt and reissues; what is deployed still matches.
test_corrupt_stored_key_is_reissued_not_deployed() {
	export CERTOPS_STATE="$TEST_TMP/state"
	pebble_quickstart "$TEST_TMP/www" --always-valid
	assert_exit 0 timeout 180 "$CERTOPS" apply --policy "$POLICY" "$DECL"
	local good key
	good=$(sha256sum <"$TEST_TMP/www/privkey.pem")
	key=$(find "$CERTOPS_STATE/certs/www" -name key.pem | head -n1)
	[ -n "$key" ] || fail "no stored key"
	head -c 40 "$key" >"$key.cut" && mv "$key.cut" "$key" && chmod 600 "$key"
	# a deployed file that differs from the (broken) store must not be "fixed"
	assert_exit 2 "$CERTOPS" plan --detailed-exitcode --policy "$POLICY" "$DECL"
	assert_contains "$OUT" "issue:www (Missing)"
	assert_contains "$OUT" "is corrupt: the stored private key does not parse"
	assert_exit 0 timeout 180 "$CERTOPS" apply --policy "$POLICY" "$DECL"
	no_sanitizer_report
	assert_ne "$good" "$(sha256sum <"$TEST_TMP/www/privkey.pem")" "a new key was deployed"
	assert_eq "$(openssl x509 -in "$TEST_TMP/www/fullchain.pem" -noout -pubkey | openssl sha256)" \
		"$(openssl pkey -in "$TEST_TMP/www/privkey.pem" -pubout | openssl sha256)" "deployed key matches"
	assert_exit 0 "$CERTOPS" plan --detailed-exitcode --policy "$POLICY" "$DECL"
}

run_tests "$@"
