#!/usr/bin/env bash
# Integration tests of `certops apply` (lib/apply, lib/target) against a
# real Pebble: examples/quickstart issued over real http-01 through the
# built-in responder, then drift, changed declarations, the state lock, a
# killed run, and many certificates at once.  Every run has an overall
# timeout so a hung CA fails the test instead of hanging it.
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/pebble.sh"

# The quickstart, deploying under $TEST_TMP/www, with a policy allowing
# $TEST_TMP; the state store in $TEST_TMP/state.
setup_quickstart() {
	export CERTOPS_STATE="$TEST_TMP/state"
	WWW="$TEST_TMP/www"
	pebble_quickstart "$WWW" "$@"
}

no_sanitizer_report() {
	assert_not_contains "$ERR" "Sanitizer" "stderr"
	assert_not_contains "$ERR" "runtime error:" "stderr"
}

apply() { # expected-exit [args...]
	local want=$1
	shift
	assert_exit "$want" timeout 180 "$CERTOPS" apply --policy "$POLICY" "$@"
	no_sanitizer_report
}

plan_exit() { # expected-exit [args...]
	local want=$1
	shift
	assert_exit "$want" timeout 60 "$CERTOPS" plan --detailed-exitcode --policy "$POLICY" "$@"
	no_sanitizer_report
}

sans() { openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 | tr -d ' '; }
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
versions() { find "$CERTOPS_STATE/certs/$1" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l; }
account_url() { cat "$CERTOPS_STATE"/accounts/*/*.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])'; }

assert_deployed() { # dir sans-expected
	assert_eq "$2" "$(sans "$1/fullchain.pem")" "SANs of $1/fullchain.pem"
	assert_file_mode "$1/privkey.pem" 600
	assert_file_mode "$1/fullchain.pem" 644
	assert_eq "$(openssl x509 -in "$1/fullchain.pem" -noout -pubkey | openssl sha256)" \
		"$(openssl pkey -in "$1/privkey.pem" -pubout | openssl sha256)" "key matches cert in $1"
	# nothing half-written left behind
	assert_eq "" "$(find "$1" -name '*.certops-tmp-*')" "temporary files in $1"
}

test_apply_quickstart_real_http01() {
	setup_quickstart
	apply 0 "$DECL"
	assert_contains "$OUT" "issue:www"
	assert_contains "$OUT" "deploy:www:files[0]"
	assert_match "$OUT" "issue:www: done after"
	assert_contains "$OUT" "Apply complete"
	assert_deployed "$WWW" "DNS:www.example.com,DNS:example.com"
	assert_file_mode "$CERTOPS_STATE" 700
	plan_exit 0 "$DECL"
	assert_contains "$OUT" "No changes"
	# apply again: nothing to do, no new version
	apply 0 "$DECL"
	assert_contains "$OUT" "No changes"
	assert_eq 1 "$(versions www)" "certificate versions"
}

test_drift_is_redeployed_without_new_order() {
	setup_quickstart --always-valid
	apply 0 "$DECL"
	local fp
	fp=$(fingerprint "$WWW/fullchain.pem")

	# a deleted file
	rm "$WWW/fullchain.pem"
	plan_exit 2 "$DECL"
	assert_contains "$OUT" "$WWW/fullchain.pem"
	assert_not_contains "$OUT" "issue:www"
	apply 0 "$DECL"
	assert_eq "$fp" "$(fingerprint "$WWW/fullchain.pem")" "redeployed certificate"
	plan_exit 0 "$DECL"

	# overwritten with another certificate, and a key made readable
	cp "$PEBBLE_CA_BUNDLE" "$WWW/fullchain.pem"
	chmod 0644 "$WWW/privkey.pem"
	plan_exit 2 "$DECL"
	assert_contains "$OUT" "$WWW/fullchain.pem"
	assert_contains "$OUT" "privkey.pem"
	apply 0 "$DECL"
	assert_deployed "$WWW" "DNS:www.example.com,DNS:example.com"
	assert_eq "$fp" "$(fingerprint "$WWW/fullchain.pem")" "redeployed certificate"
	assert_eq 1 "$(versions www)" "certificate versions (no new order)"
	plan_exit 0 "$DECL"
}

test_changed_domains_reissue() {
	setup_quickstart --always-valid
	apply 0 "$DECL"
	sed -i 's/domains: \[www.example.com, example.com\]/domains: [www.example.com, example.com, api.example.com]/' \
		"$DECL/certops.yaml"
	plan_exit 2 "$DECL"
	assert_contains "$OUT" "issue:www"
	assert_contains "$OUT" "IdentifiersChanged"
	apply 0 "$DECL"
	assert_deployed "$WWW" "DNS:www.example.com,DNS:example.com,DNS:api.example.com"
	assert_eq 2 "$(versions www)" "certificate versions"
	plan_exit 0 "$DECL"
}

test_lock_held_fails_fast_naming_holder() {
	setup_quickstart --always-valid
	local fifo="$TEST_TMP/hold.in" pid
	mkfifo "$fifo"
	"$TOOLS/state_hold" "$CERTOPS_STATE" 60 <"$fifo" >"$TEST_TMP/hold.out" &
	pid=$!
	exec 9>"$fifo"
	on_exit "exec 9>&-; kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_for 10 grep -q locked "$TEST_TMP/hold.out" || fail "state_hold did not lock"
	apply 75 "$DECL"
	assert_contains "$ERR" "$pid"
	assert_not_contains "$OUT" "issue:www: start"
	[ ! -e "$WWW/fullchain.pem" ] || fail "a locked-out apply deployed"
	# with a timeout it waits for the holder, then applies
	(sleep 1; exec 9>&-) &
	exec 9>&-
	apply 0 --lock-timeout 60 "$DECL"
	assert_deployed "$WWW" "DNS:www.example.com,DNS:example.com"
}

test_killed_apply_resumes_without_new_account() {
	# Pebble's VA sleeps before validating: the run is killed while its
	# orders are in flight, after the account was registered.
	setup_quickstart --sleep
	local i
	for i in 1 2 3 4 5; do
		cat >>"$DECL/certops.yaml" <<EOT
---
kind: Certificate
name: c$i
issuer: pebble
domains: [c$i.example.com]
challenge:
  http01:
    listen: {env: CERTOPS_HTTP01_LISTEN}
deploy:
  - files: {dir: $TEST_TMP/c$i}
EOT
	done
	"$CERTOPS" apply --policy "$POLICY" --parallel 8 "$DECL" >"$TEST_TMP/first.out" 2>&1 &
	local pid=$!
	on_exit "kill -9 $pid 2>/dev/null"
	wait_for 60 compgen -G "$CERTOPS_STATE/orders/*.json" || fail "no order was recorded"
	local url
	url=$(account_url)
	[ -n "$url" ] || fail "no account url recorded"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	apply 0 --parallel 8 "$DECL"
	assert_eq "$url" "$(account_url)" "account url after the re-run"
	assert_not_contains "$OUT" "account:pebble"
	for i in 1 2 3 4 5; do
		assert_eq "DNS:c$i.example.com" "$(sans "$TEST_TMP/c$i/fullchain.pem")" "c$i"
		assert_eq "" "$(find "$TEST_TMP/c$i" -name '*.certops-tmp-*')" "temporary files"
		assert_eq 1 "$(versions c$i)" "versions of c$i"
	done
	assert_deployed "$WWW" "DNS:www.example.com,DNS:example.com"
	assert_eq "" "$(ls "$CERTOPS_STATE/orders" 2>/dev/null)" "pending orders left"
	plan_exit 0 "$DECL"
}

test_twenty_certificates_parallel() {
	setup_quickstart --always-valid
	local i
	for i in $(seq 1 20); do
		cat >>"$DECL/certops.yaml" <<EOT
---
kind: Certificate
name: n$i
issuer: pebble
domains: [n$i.example.com, www.n$i.example.com]
challenge:
  http01:
    listen: {env: CERTOPS_HTTP01_LISTEN}
deploy:
  - files: {dir: $TEST_TMP/n$i, cert: cert.pem, key: key.pem}
EOT
	done
	apply 0 --parallel 8 --auto-approve "$DECL"
	assert_contains "$OUT" "Apply complete: 43 done, 0 failed"
	for i in $(seq 1 20); do
		assert_eq "DNS:n$i.example.com,DNS:www.n$i.example.com" \
			"$(sans "$TEST_TMP/n$i/cert.pem")" "n$i"
		assert_file_mode "$TEST_TMP/n$i/key.pem" 600
	done
	plan_exit 0 "$DECL"
}

test_failure_fails_only_dependents() {
	setup_quickstart --always-valid
	# a second certificate deploys outside the policy's write roots
	cat >>"$DECL/certops.yaml" <<EOT
---
kind: Certificate
name: other
issuer: pebble
domains: [other.example.com]
challenge:
  http01:
    listen: {env: CERTOPS_HTTP01_LISTEN}
deploy:
  - files: {dir: $TEST_TMP/www2}
EOT
	printf 'writeRoots: [%s, %s]\n' "$WWW" "$TEST_TMP/state" >"$POLICY"
	# validation catches it before anything is done
	apply 65 "$DECL"
	assert_contains "$ERR" "www2"
	# a symlink inside the root that leads outside is caught at deploy time
	printf 'writeRoots: [%s, %s]\n' "$WWW" "$TEST_TMP/state" >"$POLICY"
	sed -i "s#dir: $TEST_TMP/www2#dir: $WWW/link#" "$DECL/certops.yaml"
	mkdir -p "$WWW" "$TEST_TMP/elsewhere"
	ln -s "$TEST_TMP/elsewhere" "$WWW/link"
	apply 1 "$DECL"
	assert_match "$OUT" "deploy:other:files\[0\]: FAILED.*symlink"
	assert_contains "$OUT" "not converged: deploy:other:files[0]"
	assert_deployed "$WWW" "DNS:www.example.com,DNS:example.com"
	assert_eq "" "$(ls "$TEST_TMP/elsewhere")" "files written through the link"
}

test_saved_plan_applied_and_stale_refused() {
	setup_quickstart --always-valid
	plan_exit 2 -o "$TEST_TMP/first.plan" "$DECL"
	apply 0 --dir "$DECL" "$TEST_TMP/first.plan"
	assert_contains "$OUT" "issue:www: done"
	assert_deployed "$WWW" "DNS:www.example.com,DNS:example.com"
	plan_exit 0 "$DECL"

	# the state moved after the plan was made: refused, nothing done
	rm "$WWW/fullchain.pem"
	plan_exit 2 -o "$TEST_TMP/drift.plan" "$DECL"
	apply 0 "$DECL"
	rm "$WWW/fullchain.pem"
	apply 65 --dir "$DECL" "$TEST_TMP/drift.plan"
	assert_contains "$ERR" "the state store changed"
	[ ! -e "$WWW/fullchain.pem" ] || fail "a stale plan was applied"

	# the declarations changed after the plan was made: refused
	plan_exit 2 -o "$TEST_TMP/decl.plan" "$DECL"
	sed -i 's/mode: "0600"/mode: "0640"/' "$DECL/certops.yaml"
	apply 65 --dir "$DECL" "$TEST_TMP/decl.plan"
	assert_contains "$ERR" "the declarations changed"
	[ ! -e "$WWW/fullchain.pem" ] || fail "a stale plan was applied"
	apply 0 "$DECL"
	assert_file_mode "$WWW/privkey.pem" 640
}

test_renewal_when_due_and_forced() {
	setup_quickstart --always-valid
	apply 0 "$DECL"
	# far in the future the certificate needs renewing
	plan_exit 2 --at +7300d "$DECL"
	assert_contains "$OUT" "issue:www"
	assert_match "$OUT" "Expir"
	# --force reissues now, once
	apply 0 --force www "$DECL"
	assert_contains "$OUT" "Forced"
	assert_eq 2 "$(versions www)" "certificate versions"
	plan_exit 0 "$DECL"
	# a renewBefore longer than any lifetime: renewed once, then reported
	# as not converging instead of ordering again and again
	sed -i 's/renewBefore: 30d/renewBefore: 36500d/' "$DECL/certops.yaml"
	apply 1 "$DECL"
	assert_contains "$OUT" "issue:www: done"
	assert_contains "$OUT" "not converged: issue:www: still planned after it ran"
	assert_eq 3 "$(versions www)" "certificate versions"
}

test_eab_account_and_json_output() {
	setup_quickstart --eab --always-valid
	export CERTOPS_TEST_EAB_HMAC="$PEBBLE_EAB_HMAC"
	sed -i "s#  email: admin@example.com#  email: admin@example.com\n  eab: {keyId: $PEBBLE_EAB_KID, hmacKey: {env: CERTOPS_TEST_EAB_HMAC}}#" \
		"$DECL/certops.yaml"
	printf 'writeRoots: [%s]\nsecrets:\n  env: ["CERTOPS_*"]\n' "$TEST_TMP" >"$POLICY"
	apply 0 --json "$DECL"
	# one JSON document on stdout, no progress lines; the HMAC key never shown
	printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["converged"] is True, d
assert d["failed"] == 0 and d["done"] == 3, d
ids = sorted(a["id"] for a in d["actions"])
assert ids == ["account:pebble", "deploy:www:files[0]", "issue:www"], ids
assert all(a["result"] == "done" for a in d["actions"]), d
assert d["not_converged"] == [], d
assert len(d["plan"]["actions"]) == 3, d["plan"]
' || fail "apply --json output: $OUT"
	assert_not_contains "$OUT$ERR" "$PEBBLE_EAB_HMAC"
	assert_deployed "$WWW" "DNS:www.example.com,DNS:example.com"
	# without the binding Pebble refuses the account: the apply fails,
	# saying why, and nothing is deployed
	rm -rf "$CERTOPS_STATE" "$WWW"
	unset CERTOPS_TEST_EAB_HMAC
	apply 1 "$DECL"
	assert_contains "$OUT" "account:pebble: FAILED"
	assert_contains "$OUT" "CERTOPS_TEST_EAB_HMAC"
	assert_contains "$OUT" "skipped"
	[ ! -e "$WWW/fullchain.pem" ] || fail "deployed without an account"
}

test_webroot_http01() {
	setup_quickstart
	mkdir -p "$TEST_TMP/webroot"
	python3 -m http.server "$PEBBLE_HTTP_PORT" --bind 127.0.0.1 --directory "$TEST_TMP/webroot" \
		>"$TEST_TMP/http.log" 2>&1 &
	local pid=$!
	on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PEBBLE_HTTP_PORT/" || fail "web server did not start"
	python3 - "$DECL/certops.yaml" "$TEST_TMP/webroot" <<'PY'
import sys
p, root = sys.argv[1], sys.argv[2]
s = open(p).read()
s = s.replace("    listen: {env: CERTOPS_HTTP01_LISTEN, default: \"127.0.0.1:5002\"}", "    webroot: " + root)
open(p, "w").write(s)
PY
	assert_contains "$(cat "$DECL/certops.yaml")" "webroot: $TEST_TMP/webroot"
	apply 0 "$DECL"
	assert_deployed "$WWW" "DNS:www.example.com,DNS:example.com"
	# Pebble fetched the tokens from the webroot; they are gone afterwards
	assert_contains "$(cat "$TEST_TMP/http.log")" "/.well-known/acme-challenge/"
	assert_eq "" "$(find "$TEST_TMP/webroot" -type f)" "challenge files left"
}

run_tests "$@"
