#!/usr/bin/env bash
# PKCS#12 deploys of a certificate issued by Pebble, through the pkcs12
# target (build/tools/deploy_smoke): both encryptions open with the
# openssl command and the password, hold the leaf and the intermediate
# (not the root) and the matching key; a changed password in the
# declaration is drift, fixed by the next deploy.
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/pebble.sh"

fact() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p" | head -n 1; }

run_deploy() { # expected-exit args...
	local want=$1
	shift
	assert_exit "$want" "$TOOLS/deploy_smoke" --dir "$TEST_TMP/decl" --policy "$TEST_TMP/policy.yaml" \
		--cert www --chain "$TEST_TMP/issue/cert.pem" --key "$TEST_TMP/issue/key.pem" "$@"
	assert_not_contains "$ERR" "Sanitizer" "stderr"
	assert_not_contains "$ERR$OUT" "$CERTOPS_PFX_PASSWORD" "output"
}

test_pkcs12_modern_legacy_and_password_drift() {
	pebble_start --always-valid --chain-length 3
	mkdir -p "$TEST_TMP/issue" "$TEST_TMP/decl" "$TEST_TMP/out"
	assert_exit 0 timeout 120 "$TOOLS/acme_smoke" --directory "$PEBBLE_DIRECTORY" \
		--ca-bundle "$PEBBLE_CA_BUNDLE" --out "$TEST_TMP/issue" --name www.example.test
	cat >"$TEST_TMP/decl/certops.yaml" <<YAML
kind: Issuer
name: pebble
acme: {directory: $PEBBLE_DIRECTORY}
---
kind: Certificate
name: www
issuer: pebble
domains: [www.example.test]
challenge:
  http01: {webroot: $TEST_TMP/out}
deploy:
  - pkcs12: {path: $TEST_TMP/out/modern.p12, password: {env: CERTOPS_PFX_PASSWORD}, friendlyName: www}
  - pkcs12: {path: $TEST_TMP/out/legacy.pfx, password: {env: CERTOPS_PFX_PASSWORD}, encryption: legacy, friendlyName: www}
YAML
	printf 'writeRoots: [%s/out]\nsecrets:\n  env: ["CERTOPS_*"]\n' "$TEST_TMP" >"$TEST_TMP/policy.yaml"
	export CERTOPS_PFX_PASSWORD="pfx-pass-$RANDOM$RANDOM"

	run_deploy 0
	assert_eq ok "$(fact deploy.0)"
	assert_eq ok "$(fact deploy.1)"
	assert_file_mode "$TEST_TMP/out/modern.p12" 600
	local f info nchain
	openssl x509 -in "$TEST_TMP/issue/cert.pem" -noout -pubkey >"$TEST_TMP/leaf.pub"
	nchain=$(grep -c 'BEGIN CERTIFICATE' "$TEST_TMP/issue/cert.pem")
	for f in modern.p12 legacy.pfx; do
		# Opens with the password, without -legacy for either.
		info=$(openssl pkcs12 -in "$TEST_TMP/out/$f" -info -nokeys -passin env:CERTOPS_PFX_PASSWORD 2>&1)
		assert_contains "$info" "friendlyName: www"
		assert_contains "$info" "subject=CN = www.example.test"
		# Leaf and intermediates of the issued chain; Pebble's root is not shipped.
		assert_eq "$nchain" "$(grep -c 'BEGIN CERTIFICATE' <<<"$info")" "$f certificates"
		assert_not_contains "$info" "subject=CN = Pebble Root CA"
		openssl pkcs12 -in "$TEST_TMP/out/$f" -nocerts -nodes -passin env:CERTOPS_PFX_PASSWORD 2>/dev/null |
			openssl pkey -pubout >"$TEST_TMP/p12.pub"
		cmp -s "$TEST_TMP/leaf.pub" "$TEST_TMP/p12.pub" || fail "$f: key does not match the leaf"
		assert_exit 1 openssl pkcs12 -in "$TEST_TMP/out/$f" -info -noout -passin pass:wrong
	done
	assert_contains "$(openssl pkcs12 -in "$TEST_TMP/out/modern.p12" -info -noout -passin env:CERTOPS_PFX_PASSWORD 2>&1)" "MAC: sha256"
	assert_contains "$(openssl pkcs12 -in "$TEST_TMP/out/legacy.pfx" -info -noout -passin env:CERTOPS_PFX_PASSWORD 2>&1)" "pbeWithSHA1And3-KeyTripleDES-CBC"

	run_deploy 0 --observe
	assert_eq "" "$(fact drift.0)"
	assert_eq "" "$(fact drift.1)"
	# The declared password changes: both files are drift, then redeployed.
	export CERTOPS_PFX_PASSWORD="pfx-pass-new-$RANDOM$RANDOM"
	run_deploy 0 --observe
	assert_eq "$TEST_TMP/out/modern.p12: the declared password does not open it" "$(fact drift.0)"
	assert_eq "$TEST_TMP/out/legacy.pfx: the declared password does not open it" "$(fact drift.1)"
	run_deploy 0
	run_deploy 0 --observe
	assert_eq "" "$(fact drift.0)"
	assert_eq "" "$(fact drift.1)"
	openssl pkcs12 -in "$TEST_TMP/out/legacy.pfx" -info -noout -passin env:CERTOPS_PFX_PASSWORD >/dev/null 2>&1 ||
		fail "the redeployed file does not open with the new password"
}

run_tests "$@"
