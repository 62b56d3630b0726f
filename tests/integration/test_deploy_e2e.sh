#!/usr/bin/env bash
# Deployment end to end through the real `certops` binary: certificates
# issued by Pebble over real http-01 (built-in responder), deployed by
# `certops apply` to a real nginx (files + exec `nginx -t` + exec reload,
# proven served by the verify: tls probe), to PKCS#12 files (modern and
# legacy) and to the Vault stand-in; drift seen by `certops plan` and
# fixed by the next apply; declarations outside the policy change nothing.
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/pebble.sh"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/vault.sh"

no_sanitizer_report() {
	assert_not_contains "$ERR" "Sanitizer" "stderr"
	assert_not_contains "$ERR" "runtime error:" "stderr"
}

apply() { # expected-exit [args...]
	local want=$1
	shift
	assert_exit "$want" timeout 180 "$CERTOPS" apply --policy "$TEST_TMP/policy.yaml" "$@"
	no_sanitizer_report
}

plan_exit() { # expected-exit [args...]
	local want=$1
	shift
	assert_exit "$want" timeout 60 "$CERTOPS" plan --detailed-exitcode --policy "$TEST_TMP/policy.yaml" "$@"
	no_sanitizer_report
}

fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }

# Whether nginx serves the certificate with fingerprint $1.
serves() { [ "$(served)" = "$1" ]; }

# The leaf nginx serves for www.example.test, as a fingerprint.
served() {
	openssl s_client -connect "127.0.0.1:$NGINX_PORT" -servername www.example.test </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

versions() { find "$CERTOPS_STATE/certs/$1" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l; }

# Pebble, the store, and the issuer every declaration here uses.
setup_common() {
	pebble_start
	export CERTOPS_STATE="$TEST_TMP/state"
	mkdir -p "$TEST_TMP/decl"
	cat >"$TEST_TMP/decl/issuer.yaml" <<YAML
kind: Issuer
name: pebble
acme:
  directory: $PEBBLE_DIRECTORY
  caBundle: $PEBBLE_CA_BUNDLE
YAML
}

# nginx on a loopback port with a bootstrap certificate, a reload hook
# that works only while $TEST_TMP/reload-ok exists, the nginx recipe's
# declaration and a policy allowing exactly its directory and commands.
setup_nginx() {
	setup_common
	mkdir -p "$TEST_TMP/ssl"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TEST_TMP/ssl/privkey.pem" -out "$TEST_TMP/ssl/fullchain.pem" -days 2 \
		-subj "/CN=bootstrap" >/dev/null 2>&1
	nginx_start "$TEST_TMP/ssl/fullchain.pem" "$TEST_TMP/ssl/privkey.pem"
	BOOT_FP=$(fp "$TEST_TMP/ssl/fullchain.pem")
	cat >"$TEST_TMP/reload.sh" <<SH
#!/bin/sh
[ -e "$TEST_TMP/reload-ok" ] || { echo "reload refused by the test" >&2; exit 3; }
echo "reloading \$CERTOPS_CERT_NAME \$CERTOPS_FINGERPRINT from \$CERTOPS_FULLCHAIN_PATH"
exec /usr/sbin/nginx $NGINX_ARGS -s reload
SH
	chmod +x "$TEST_TMP/reload.sh"
	touch "$TEST_TMP/reload-ok"
	cat >"$TEST_TMP/decl/www.yaml" <<YAML
kind: Certificate
name: www
issuer: pebble
domains: [www.example.test]
challenge:
  http01: {listen: "127.0.0.1:$PEBBLE_HTTP_PORT"}
deploy:
  - files: {dir: $TEST_TMP/ssl, fullchain: fullchain.pem, key: privkey.pem}
  - exec: {command: [/usr/sbin/nginx, -p, $NGINX_PREFIX, -c, $NGINX_CONF, -e, $NGINX_PREFIX/logs/error.log, -t]}
  - exec: {command: [$TEST_TMP/reload.sh], timeout: 20s}
verify:
  - tls: {connect: "127.0.0.1:$NGINX_PORT", serverName: www.example.test, timeout: 5s}
YAML
	cat >"$TEST_TMP/policy.yaml" <<YAML
writeRoots: [$TEST_TMP/ssl]
exec:
  - [/usr/sbin/nginx, -p, $NGINX_PREFIX, -c, $NGINX_CONF, -e, $NGINX_PREFIX/logs/error.log, -t]
  - [$TEST_TMP/reload.sh]
YAML
}

test_nginx_apply_renew_and_stale_endpoint() {
	setup_nginx
	local fp1 fp2 fp3
	assert_eq "$BOOT_FP" "$(served)" "served before apply"

	# First apply: issue, files, nginx -t, reload, verify.
	apply 0 "$TEST_TMP/decl"
	assert_contains "$OUT" "issue:www"
	assert_contains "$OUT" "hook:www:exec[1]"
	assert_contains "$OUT" "hook:www:exec[2]"
	assert_match "$OUT" "verify:www:verify\[0\]: done"
	assert_contains "$OUT" "Apply complete"
	fp1=$(fp "$TEST_TMP/ssl/fullchain.pem")
	assert_ne "$BOOT_FP" "$fp1"
	assert_eq "$fp1" "$(served)" "served after the first apply"
	assert_file_mode "$TEST_TMP/ssl/privkey.pem" 600
	# The hook ran with the documented variables, its output in the log.
	assert_contains "$ERR" "reloading www $fp1 from $TEST_TMP/ssl/fullchain.pem"
	# Online plan: the endpoint serves the current certificate.
	plan_exit 0 "$TEST_TMP/decl"
	assert_contains "$OUT" "No changes"

	# A forced renewal is deployed, reloaded and seen served.
	apply 0 --force www "$TEST_TMP/decl"
	assert_match "$OUT" "verify:www:verify\[0\]: done"
	fp2=$(fp "$TEST_TMP/ssl/fullchain.pem")
	assert_ne "$fp1" "$fp2"
	assert_eq "$fp2" "$(served)" "served after the renewal"

	# The reload hook fails: the files are new, nginx still serves fp2.
	rm "$TEST_TMP/reload-ok"
	apply 1 --force www "$TEST_TMP/decl"
	assert_contains "$OUT$ERR" "reload refused by the test"
	fp3=$(fp "$TEST_TMP/ssl/fullchain.pem")
	assert_ne "$fp2" "$fp3"
	assert_eq "$fp2" "$(served)" "served after the failed reload"
	# plan sees the endpoint stale (an older certificate of ours) and
	# plans the hooks and the verify again; the files are in sync.
	plan_exit 2 "$TEST_TMP/decl"
	# (the human plan shortens fingerprints to 16 digits)
	assert_match "$OUT" "verify:www:verify\[0\].*stale: serves ${fp2:0:16}.*an older certificate of ours"
	assert_contains "$OUT" "hook:www:exec[2]"
	assert_not_contains "$OUT" "deploy:www:files[0]"
	assert_not_contains "$OUT" "issue:www"
	# Offline (CERTOPS_OFFLINE=1) the probe does not run: only the failed
	# hook is left to do.
	CERTOPS_OFFLINE=1 plan_exit 2 "$TEST_TMP/decl"
	assert_not_contains "$OUT" "stale"

	# The hook works again: the next apply fixes it, no new certificate.
	touch "$TEST_TMP/reload-ok"
	apply 0 "$TEST_TMP/decl"
	assert_contains "$OUT" "hook:www:exec[2]"
	assert_match "$OUT" "verify:www:verify\[0\]: done"
	assert_eq "$fp3" "$(served)" "served after the fix"
	assert_eq 3 "$(versions www)" "certificate versions"
	plan_exit 0 "$TEST_TMP/decl"
	assert_contains "$OUT" "No changes"

	# Another certificate appears at the endpoint behind certops' back
	# (nginx reloaded onto the bootstrap one): foreign, drift.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TEST_TMP/ssl/privkey.pem" -out "$TEST_TMP/ssl/fullchain.pem" -days 2 \
		-subj "/CN=someone else" >/dev/null 2>&1
	nginx_reload
	# (a function, so that each poll probes nginx again)
	wait_for 10 serves "$(fp "$TEST_TMP/ssl/fullchain.pem")"
	# a graceful reload can answer from an old worker for a moment: served
	# twice, a settle apart, as apply's own verify does
	sleep 0.5
	wait_for 10 serves "$(fp "$TEST_TMP/ssl/fullchain.pem")"
	plan_exit 2 "$TEST_TMP/decl"
	assert_contains "$OUT" "deploy:www:files[0]"
	assert_match "$OUT" "verify:www:verify\[0\].*foreign: serves"
	apply 0 "$TEST_TMP/decl"
	assert_eq "$fp3" "$(served)" "served after repairing the drift"
}

setup_pkcs12() {
	setup_common
	export CERTOPS_PFX_PASSWORD="pfx-pass-$RANDOM$RANDOM"
	cat >"$TEST_TMP/decl/www.yaml" <<YAML
kind: Certificate
name: www
issuer: pebble
domains: [www.example.test]
challenge:
  http01: {listen: "127.0.0.1:$PEBBLE_HTTP_PORT"}
deploy:
  - pkcs12: {path: $TEST_TMP/p12/modern.p12, password: {env: CERTOPS_PFX_PASSWORD}, friendlyName: www}
  - pkcs12: {path: $TEST_TMP/p12/legacy.pfx, password: {env: CERTOPS_PFX_PASSWORD}, encryption: legacy}
YAML
	printf 'writeRoots: [%s]\nsecrets: {env: [CERTOPS_PFX_PASSWORD]}\n' "$TEST_TMP/p12" \
		>"$TEST_TMP/policy.yaml"
}

# The leaf, the chain without the root, and the matching key in FILE.
assert_p12_opens() { # file
	local f=$1 certs leaf_pub key_pub
	assert_exit 0 openssl pkcs12 -in "$f" -info -noout -passin env:CERTOPS_PFX_PASSWORD
	certs=$(openssl pkcs12 -in "$f" -nokeys -passin env:CERTOPS_PFX_PASSWORD 2>/dev/null)
	assert_eq 2 "$(grep -c 'BEGIN CERTIFICATE' <<<"$certs")" "certificates in $f (leaf + intermediate)"
	assert_contains "$(openssl x509 -noout -subject <<<"$certs")" "www.example.test"
	leaf_pub=$(openssl x509 -noout -pubkey <<<"$certs" | openssl sha256)
	key_pub=$(openssl pkcs12 -in "$f" -nocerts -nodes -passin env:CERTOPS_PFX_PASSWORD 2>/dev/null |
		openssl pkey -pubout | openssl sha256)
	assert_eq "$leaf_pub" "$key_pub" "key matches the leaf in $f"
	assert_file_mode "$f" 600
}

test_pkcs12_apply_and_password_drift() {
	setup_pkcs12
	apply 0 "$TEST_TMP/decl"
	assert_contains "$OUT" "deploy:www:pkcs12[0]"
	assert_contains "$OUT" "deploy:www:pkcs12[1]"
	assert_p12_opens "$TEST_TMP/p12/modern.p12"
	assert_p12_opens "$TEST_TMP/p12/legacy.pfx"
	assert_contains "$(openssl pkcs12 -in "$TEST_TMP/p12/modern.p12" -info -noout -passin env:CERTOPS_PFX_PASSWORD 2>&1)" "MAC: sha256"
	assert_contains "$(openssl pkcs12 -in "$TEST_TMP/p12/legacy.pfx" -info -noout -passin env:CERTOPS_PFX_PASSWORD 2>&1)" "pbeWithSHA1And3-KeyTripleDES-CBC"
	assert_not_contains "$OUT$ERR" "$CERTOPS_PFX_PASSWORD"
	plan_exit 0 "$TEST_TMP/decl"
	assert_contains "$OUT" "No changes"

	# The password secret changes: both files are drift, redeployed.
	export CERTOPS_PFX_PASSWORD="pfx-pass-new-$RANDOM$RANDOM"
	plan_exit 2 "$TEST_TMP/decl"
	assert_contains "$OUT" "deploy:www:pkcs12[0]"
	assert_contains "$OUT" "deploy:www:pkcs12[1]"
	assert_contains "$OUT" "the declared password does not open it"
	assert_not_contains "$OUT" "issue:www"
	apply 0 "$TEST_TMP/decl"
	assert_p12_opens "$TEST_TMP/p12/modern.p12"
	assert_p12_opens "$TEST_TMP/p12/legacy.pfx"
	plan_exit 0 "$TEST_TMP/decl"
	assert_contains "$OUT" "No changes"
}

vault_get() { # field: of the current version of secret/tls/www
	curl -sf --cacert "$VAULT_CA_BUNDLE" -H "X-Vault-Token: $VAULT_TEST_TOKEN" \
		"$VAULT_ADDR/v1/secret/data/tls/www" |
		python3 -c "import json,sys; d=json.load(sys.stdin)['data']; print(d['data'].get('$1', '') if '$1' != 'version' else d['metadata']['version'])"
}

test_vault_upload_wrong_token_and_drift() {
	vault_start
	setup_common
	export CERTOPS_VAULT_TOKEN="$VAULT_TEST_TOKEN"
	cat >"$TEST_TMP/decl/www.yaml" <<YAML
kind: Certificate
name: www
issuer: pebble
domains: [www.example.test]
challenge:
  http01: {listen: "127.0.0.1:$PEBBLE_HTTP_PORT"}
deploy:
  - vault: {address: "$VAULT_ADDR", mount: secret, path: tls/www, token: {env: CERTOPS_VAULT_TOKEN}, caBundle: $VAULT_CA_BUNDLE}
YAML
	printf 'secrets: {env: [CERTOPS_VAULT_TOKEN]}\n' >"$TEST_TMP/policy.yaml"

	apply 0 "$TEST_TMP/decl"
	assert_contains "$OUT" "deploy:www:vault[0]"
	local cert_file="$TEST_TMP/from-vault.pem" want v1
	vault_get certificate >"$cert_file"
	want=$(fp "$cert_file")
	assert_eq "$want" "$(vault_get fingerprint)" "fingerprint field"
	assert_contains "$(vault_get private_key)" "PRIVATE KEY"
	v1=$(vault_get version)
	# In sync, and the recorded version keeps observation to metadata:
	# the plan downloads no secret data (no private key).
	: >"$VAULT_STANDIN_LOG"
	plan_exit 0 "$TEST_TMP/decl"
	assert_contains "$OUT" "No changes"
	assert_contains "$(vault_requests)" "/v1/secret/metadata/tls/www"
	assert_not_contains "$(vault_requests)" "/v1/secret/data/"
	assert_not_contains "$OUT$ERR" "$VAULT_TEST_TOKEN"

	# Changed behind certops' back: drift.
	curl -sf --cacert "$VAULT_CA_BUNDLE" -H "X-Vault-Token: $VAULT_TEST_TOKEN" \
		-d '{"data": {"fingerprint": "0000", "certificate": "someone else"}}' \
		"$VAULT_ADDR/v1/secret/data/tls/www" >/dev/null
	plan_exit 2 "$TEST_TMP/decl"
	assert_contains "$OUT" "deploy:www:vault[0]"
	assert_contains "$OUT" "certificate differs"

	# A wrong token: a clear error, the secret untouched, no new certificate.
	CERTOPS_VAULT_TOKEN="hvs.wrong-token" apply 1 "$TEST_TMP/decl"
	assert_contains "$OUT$ERR" "permission denied"
	assert_not_contains "$OUT$ERR" "hvs.wrong-token"
	assert_eq "0000" "$(vault_get fingerprint)" "secret after the wrong token"
	assert_eq $((v1 + 1)) "$(vault_get version)" "version after the wrong token"
	assert_eq 1 "$(versions www)" "certificate versions"

	# The right token: redeployed, in sync again.
	apply 0 "$TEST_TMP/decl"
	assert_eq "$want" "$(vault_get fingerprint)" "fingerprint after the repair"
	assert_eq $((v1 + 2)) "$(vault_get version)" "version after the repair"
	plan_exit 0 "$TEST_TMP/decl"
	assert_contains "$OUT" "No changes"

	# Another writer is first once (check-and-set fails): certops re-reads
	# and retries, the renewed certificate lands.
	vault_race 1
	apply 0 --force www "$TEST_TMP/decl"
	vault_get certificate >"$cert_file"
	assert_ne "$want" "$(fp "$cert_file")" "certificate after the forced renewal"
	assert_eq "$(fp "$cert_file")" "$(vault_get fingerprint)" "fingerprint after the retry"
	# ...twice: a clear error, and the next apply deploys it.
	vault_race 2
	apply 1 --force www "$TEST_TMP/decl"
	assert_contains "$OUT$ERR" "another writer changed the secret twice while certops wrote it"
	plan_exit 2 "$TEST_TMP/decl"
	assert_contains "$OUT" "deploy:www:vault[0]"
	apply 0 "$TEST_TMP/decl"
	vault_get certificate >"$cert_file"
	assert_eq "$(fp "$cert_file")" "$(vault_get fingerprint)" "fingerprint after the retry"
	assert_eq 3 "$(versions www)" "certificate versions"
	plan_exit 0 "$TEST_TMP/decl"
	assert_contains "$OUT" "No changes"
}

test_outside_policy_changes_nothing() {
	setup_common
	mkdir -p "$TEST_TMP/allowed"
	cat >"$TEST_TMP/decl/www.yaml" <<YAML
kind: Certificate
name: www
issuer: pebble
domains: [www.example.test]
challenge:
  http01: {listen: "127.0.0.1:$PEBBLE_HTTP_PORT"}
deploy:
  - files: {dir: $TEST_TMP/outside}
  - exec: {command: [/bin/rm, -rf, $TEST_TMP/allowed]}
YAML
	printf 'writeRoots: [%s]\nexec:\n  - [/usr/sbin/nginx, -t]\n' "$TEST_TMP/allowed" \
		>"$TEST_TMP/policy.yaml"
	assert_exit 65 "$CERTOPS" validate --policy "$TEST_TMP/policy.yaml" "$TEST_TMP/decl"
	assert_contains "$OUT$ERR" "www.yaml:8:"
	assert_contains "$OUT$ERR" "'$TEST_TMP/outside' is outside the write roots"
	assert_contains "$OUT$ERR" "www.yaml:9:"
	assert_contains "$OUT$ERR" "command '/bin/rm -rf $TEST_TMP/allowed' is not allowed"
	apply 65 "$TEST_TMP/decl"
	assert_contains "$OUT$ERR" "is outside the write roots"
	assert_eq "" "$(ls -A "$TEST_TMP/allowed")" "allowed dir untouched"
	[ -d "$TEST_TMP/allowed" ] || fail "the disallowed command ran"
	[ ! -e "$TEST_TMP/outside" ] || fail "a file was written outside the write roots"
	[ ! -d "$CERTOPS_STATE/certs" ] || assert_eq "" "$(ls -A "$CERTOPS_STATE/certs")" "certificates issued"
}

run_tests "$@"
