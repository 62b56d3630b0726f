#!/usr/bin/env bash
# Integration tests of the Vault KV v2 client (lib/target/vault_kv.c,
# vault_cert.c) against the Vault stand-in (tests/integration/lib/vault.sh),
# through build/tools/vault_smoke: upload and read back, check-and-set
# conflicts (retried once, then a distinct error), a wrong token, the
# namespace header, AppRole login, drift observed without reading the key.
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/vault.sh"

mkcert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TEST_TMP/$1.key" -out "$TEST_TMP/$1.pem" -days 2 \
		-subj "/CN=$1.example.test" >/dev/null 2>&1
}

fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }
fact() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p" | head -n 1; }

smoke() { # expected-exit token args...
	local want=$1 tok=$2
	shift 2
	printf '%s\n' "$tok" >"$TEST_TMP/token"
	assert_exit "$want" "$TOOLS/vault_smoke" --address "$VAULT_ADDR" \
		--ca-bundle "$VAULT_CA_BUNDLE" --token-file "$TEST_TMP/token" "$@"
	assert_not_contains "$ERR" "Sanitizer" "stderr"
	assert_not_contains "$ERR" "runtime error:" "stderr"
	# Neither the token nor key material ever reaches the output.
	[ -z "$tok" ] || assert_not_contains "$OUT$ERR" "$tok" "output"
	assert_not_contains "$OUT$ERR" "PRIVATE KEY" "output"
}

test_put_and_read_back() {
	vault_start
	mkcert www
	mkcert int
	smoke 0 "$VAULT_TEST_TOKEN" check
	assert_eq ok "$(fact token)"
	smoke 0 "$VAULT_TEST_TOKEN" put secret tls/www "$TEST_TMP/www.pem" "$TEST_TMP/www.key" "$TEST_TMP/int.pem"
	assert_eq 1 "$(fact version)"
	smoke 0 "$VAULT_TEST_TOKEN" read secret tls/www
	assert_eq 1 "$(fact version)"
	assert_eq "$(fp "$TEST_TMP/www.pem")" "$(fact field.fingerprint)"
	assert_eq "$(wc -c <"$TEST_TMP/www.key" | tr -d ' ')" "$(fact field.private_key.length)"
	assert_match "$(fact field.not_after)" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
	assert_eq "$(($(wc -c <"$TEST_TMP/www.pem") + $(wc -c <"$TEST_TMP/int.pem")))" "$(fact field.fullchain.length)"
	# The stand-in's view, independently of the client: the stored key is the file.
	local stored
	stored=$(curl -sf --cacert "$VAULT_CA_BUNDLE" -H "X-Vault-Token: $VAULT_TEST_TOKEN" \
		"$VAULT_ADDR/v1/secret/data/tls/www" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["data"]["private_key"], end="")')
	assert_eq "$(cat "$TEST_TMP/www.key")" "$stored" "stored private key"
	# A second upload writes version 2 with check-and-set on version 1.
	smoke 0 "$VAULT_TEST_TOKEN" put secret tls/www "$TEST_TMP/www.pem" "$TEST_TMP/www.key"
	assert_eq 2 "$(fact version)"
}

test_cas_conflict_retried_once_then_fails() {
	vault_start
	mkcert www
	# One concurrent writer: the retry after re-reading wins.
	vault_race 1
	smoke 0 "$VAULT_TEST_TOKEN" put secret tls/www "$TEST_TMP/www.pem" "$TEST_TMP/www.key"
	assert_eq 2 "$(fact version)"
	assert_contains "$ERR" "changed while writing (check-and-set on version 0)"
	# Two: both attempts lose; a distinct error, and our data is not there.
	vault_race 2
	smoke 1 "$VAULT_TEST_TOKEN" put secret tls/www "$TEST_TMP/www.pem" "$TEST_TMP/www.key"
	assert_eq stale "$(fact code)"
	assert_contains "$ERR" "vault secret/tls/www: another writer changed the secret twice"
	assert_contains "$ERR" "HTTP 400: check-and-set parameter did not match the current version"
	smoke 0 "$VAULT_TEST_TOKEN" read secret tls/www
	assert_eq 4 "$(fact version)"
	assert_eq "someone else" "$(fact field.writer)"
}

test_wrong_token_is_an_auth_error_and_changes_nothing() {
	vault_start
	mkcert www
	smoke 1 "hvs.not-a-token" check
	assert_eq auth "$(fact code)"
	assert_contains "$ERR" "vault token lookup-self: HTTP 403: permission denied"
	smoke 1 "hvs.not-a-token" put secret tls/www "$TEST_TMP/www.pem" "$TEST_TMP/www.key"
	assert_eq auth "$(fact code)"
	# A read-only token may read metadata but not write.
	smoke 1 "$VAULT_TEST_RO_TOKEN" put secret tls/www "$TEST_TMP/www.pem" "$TEST_TMP/www.key"
	assert_eq auth "$(fact code)"
	assert_contains "$ERR" "vault write secret/tls/www: HTTP 403: permission denied"
	smoke 1 "$VAULT_TEST_TOKEN" read secret tls/www
	assert_eq "not found" "$(fact code)"
}

test_namespace_header() {
	vault_start --namespace team-a
	mkcert www
	# Without the namespace the token is refused, as Vault scopes it.
	smoke 1 "$VAULT_TEST_TOKEN" check
	assert_eq auth "$(fact code)"
	smoke 0 "$VAULT_TEST_TOKEN" --namespace team-a put secret tls/www "$TEST_TMP/www.pem" "$TEST_TMP/www.key"
	assert_eq 1 "$(fact version)"
	assert_contains "$(vault_requests)" '"method": "POST", "path": "/v1/secret/data/tls/www", "namespace": "team-a"'
}

test_approle_login() {
	vault_start --approle role-123:secret-456
	smoke 0 "" --approle role-123:secret-456 check
	assert_eq ok "$(fact login)"
	assert_eq ok "$(fact token)"
	smoke 1 "" --approle role-123:wrong-secret check
	assert_eq auth "$(fact code)"
	assert_contains "$ERR" "vault approle login: HTTP 400: invalid role or secret ID"
	assert_not_contains "$ERR" "wrong-secret"
}

test_observe_drift() {
	vault_start
	mkcert www
	mkcert other
	local want
	want=$(fp "$TEST_TMP/www.pem")
	smoke 0 "$VAULT_TEST_TOKEN" observe secret tls/www "$want" 0
	assert_eq missing "$(fact state)"
	smoke 0 "$VAULT_TEST_TOKEN" put secret tls/www "$TEST_TMP/www.pem" "$TEST_TMP/www.key"
	: >"$VAULT_STANDIN_LOG"
	# The version we wrote is current: metadata only, no secret data read.
	smoke 0 "$VAULT_TEST_TOKEN" observe secret tls/www "$want" 1
	assert_eq "in sync" "$(fact state)"
	assert_not_contains "$(vault_requests)" "/v1/secret/data/"
	# Unknown version: the fingerprint field decides.
	smoke 0 "$VAULT_TEST_TOKEN" observe secret tls/www "$(tr 'a-f' 'A-F' <<<"$want")" 0
	assert_eq "in sync" "$(fact state)"
	# Changed behind certops' back: another certificate is there.
	curl -sf --cacert "$VAULT_CA_BUNDLE" -H "X-Vault-Token: $VAULT_TEST_TOKEN" \
		-d "{\"data\": {\"fingerprint\": \"$(fp "$TEST_TMP/other.pem")\"}}" \
		"$VAULT_ADDR/v1/secret/data/tls/www" >/dev/null
	smoke 0 "$VAULT_TEST_TOKEN" observe secret tls/www "$want" 1
	assert_eq changed "$(fact state)"
	assert_eq 2 "$(fact version)"
	curl -sf --cacert "$VAULT_CA_BUNDLE" -H "X-Vault-Token: $VAULT_TEST_TOKEN" \
		-d '{"data": {"note": "no fingerprint"}}' "$VAULT_ADDR/v1/secret/data/tls/www" >/dev/null
	smoke 0 "$VAULT_TEST_TOKEN" observe secret tls/www "$want" 1
	assert_eq "no fingerprint" "$(fact state)"
}

test_tls_is_verified() {
	vault_start
	# Without the stand-in's CA the handshake is refused.
	printf '%s\n' "$VAULT_TEST_TOKEN" >"$TEST_TMP/token"
	assert_exit 1 "$TOOLS/vault_smoke" --address "$VAULT_ADDR" --token-file "$TEST_TMP/token" check
	assert_contains "$ERR" "vault token lookup-self:"
	assert_exit 1 "$TOOLS/vault_smoke" --address "http://vault.example.test:8200" --token-file "$TEST_TMP/token" check
	assert_contains "$ERR" "must be https://"
}

# The vault deploy target of a declaration (build/tools/deploy_smoke):
# upload, in sync, drift behind certops' back, a wrong token that changes
# nothing, and the redeploy that fixes the drift.
test_vault_target() {
	vault_start --namespace team-a
	mkcert www
	mkcert other
	mkdir -p "$TEST_TMP/decl" "$TEST_TMP/secrets"
	printf '%s\n' "$VAULT_TEST_TOKEN" >"$TEST_TMP/secrets/vault.token"
	cat >"$TEST_TMP/decl/certops.yaml" <<YAML
kind: Issuer
name: ca
ca: {}
---
kind: Certificate
name: www
issuer: ca
domains: [www.example.test]
deploy:
  - vault:
      address: $VAULT_ADDR
      mount: secret
      path: tls/www
      namespace: team-a
      token: {file: $TEST_TMP/secrets/vault.token}
      caBundle: $VAULT_CA_BUNDLE
      fields: {key: tls.key}
YAML
	printf 'secrets:\n  files: [%s/secrets]\n' "$TEST_TMP" >"$TEST_TMP/policy.yaml"
	local ds=("$TOOLS/deploy_smoke" --dir "$TEST_TMP/decl" --policy "$TEST_TMP/policy.yaml"
		--cert www --chain "$TEST_TMP/www.pem" --key "$TEST_TMP/www.key")
	assert_exit 0 "${ds[@]}"
	assert_eq ok "$(fact deploy.0)"
	assert_not_contains "$OUT$ERR" "$VAULT_TEST_TOKEN"
	smoke 0 "$VAULT_TEST_TOKEN" --namespace team-a read secret tls/www
	assert_eq 1 "$(fact version)"
	assert_eq "$(fp "$TEST_TMP/www.pem")" "$(fact field.fingerprint)"
	assert_eq "$(wc -c <"$TEST_TMP/www.key" | tr -d ' ')" "$(fact field.tls.key.length)"
	assert_exit 0 "${ds[@]}" --observe
	assert_eq "" "$(fact drift.0)"
	# Changed behind certops' back.
	curl -sf --cacert "$VAULT_CA_BUNDLE" -H "X-Vault-Token: $VAULT_TEST_TOKEN" -H "X-Vault-Namespace: team-a" \
		-d "{\"data\": {\"fingerprint\": \"$(fp "$TEST_TMP/other.pem")\"}}" \
		"$VAULT_ADDR/v1/secret/data/tls/www" >/dev/null
	assert_exit 0 "${ds[@]}" --observe
	assert_contains "$(fact drift.0)" "tls/www: certificate differs"
	# A wrong token: a clear error, and nothing else changes.
	printf 'hvs.wrong-token-value\n' >"$TEST_TMP/secrets/vault.token"
	assert_exit 1 "${ds[@]}"
	assert_contains "$(fact deploy.0)" "failed: vault metadata secret/tls/www: HTTP 403: permission denied"
	assert_not_contains "$OUT$ERR" "hvs.wrong-token-value"
	smoke 0 "$VAULT_TEST_TOKEN" --namespace team-a read secret tls/www
	assert_eq 2 "$(fact version)"
	# The right token again: redeployed, in sync.
	printf '%s\n' "$VAULT_TEST_TOKEN" >"$TEST_TMP/secrets/vault.token"
	assert_exit 0 "${ds[@]}"
	assert_exit 0 "${ds[@]}" --observe
	assert_eq "" "$(fact drift.0)"
	smoke 0 "$VAULT_TEST_TOKEN" --namespace team-a read secret tls/www
	assert_eq 3 "$(fact version)"
}

run_tests "$@"
