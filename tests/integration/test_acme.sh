#!/usr/bin/env bash
# Integration tests of lib/acme against a real Pebble, through the
# build/tools/acme_smoke driver (tests/tools/acme_smoke.c).  Each test
# starts its own Pebble (tests/integration/lib/pebble.sh) and asserts on
# the certificates with openssl and on Pebble's management interface.
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/pebble.sh"

# Runs acme_smoke against the current Pebble with an overall timeout, so a
# hung CA fails the test instead of hanging it.  Output in $OUT / $ERR.
smoke() { # expected-exit args...
	local want=$1
	shift
	assert_exit "$want" timeout 120 "$TOOLS/acme_smoke" --directory "$PEBBLE_DIRECTORY" \
		--ca-bundle "$PEBBLE_CA_BUNDLE" --out "$TEST_TMP" "$@"
	no_sanitizer_report
}

# Under `make SANITIZE=1` a leak on a failing run keeps exit code 1: look.
no_sanitizer_report() {
	assert_not_contains "$ERR" "Sanitizer" "stderr"
	assert_not_contains "$ERR" "runtime error:" "stderr"
}

sans() { openssl x509 -in "${1:-$TEST_TMP/cert.pem}" -noout -ext subjectAltName | tail -n +2; }
fact() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p" | head -n 1; }

test_issue_ecdsa_dns_and_ip() {
	pebble_start --always-valid
	smoke 0 --name a.example.com --name www.example.com --name 127.0.0.1 --key-type ecdsa-p256
	local s
	s=$(sans)
	assert_contains "$s" "DNS:a.example.com"
	assert_contains "$s" "DNS:www.example.com"
	assert_contains "$s" "IP Address:127.0.0.1"
	assert_contains "$(openssl x509 -in cert.pem -noout -text)" "id-ecPublicKey"
	assert_contains "$(openssl x509 -in cert.pem -noout -issuer)" "Pebble Intermediate CA"
	assert_file_mode "$TEST_TMP/key.pem" 600
	# the ARI certID (RFC 9773) matches one computed from openssl's view
	local aki serial
	aki=$(openssl x509 -in cert.pem -noout -ext authorityKeyIdentifier | tail -n 1 | tr -d ' :')
	serial=$(openssl x509 -in cert.pem -noout -serial | cut -d= -f2)
	assert_eq "$(python3 -c '
import base64, sys
b = lambda h: base64.urlsafe_b64encode(bytes.fromhex(h)).rstrip(b"=").decode()
aki, serial = sys.argv[1], sys.argv[2]
serial = serial if len(serial) % 2 == 0 else "0" + serial
if int(serial[:2], 16) & 0x80: serial = "00" + serial
print(b(aki) + "." + b(serial))' "$aki" "$serial")" "$(fact ari_cert_id)" "ari certID"
	assert_contains "$OUT" "ari=unsupported"
	# one keep-alive connection carries the whole issuance
	[ "$(fact connections)" -le 2 ] || fail "opened $(fact connections) connections for one order"
	# the key written is the certificate's key
	assert_eq "$(openssl x509 -in cert.pem -noout -pubkey | openssl sha256)" \
		"$(openssl pkey -in key.pem -pubout | openssl sha256)" "key match"
}

test_issue_rsa_keys_and_many_names() {
	pebble_start --always-valid
	local args=() i
	for i in $(seq 1 50); do args+=(--name "host$i.example.org"); done
	smoke 0 "${args[@]}" --key-type rsa-3072 --account-key-type rsa-2048
	assert_contains "$(openssl x509 -in cert.pem -noout -text)" "Public-Key: (3072 bit)"
	assert_eq 50 "$(sans | tr ',' '\n' | grep -c 'DNS:')" "SAN count"
	assert_contains "$(sans)" "DNS:host50.example.org"
}

test_issue_ed25519_cert_key_es384_account() {
	pebble_start --always-valid
	smoke 0 --name ed.example --key-type ed25519 --account-key-type ecdsa-p384
	assert_contains "$(openssl x509 -in cert.pem -noout -text)" "ED25519"
}

test_issue_every_other_key_type() {
	pebble_start --always-valid
	local t want
	for t in ecdsa-p384 rsa-2048 rsa-4096; do
		smoke 0 --name "$t.example" --key-type "$t"
		case $t in
		ecdsa-p384) want="NIST CURVE: P-384" ;;
		rsa-2048) want="Public-Key: (2048 bit)" ;;
		rsa-4096) want="Public-Key: (4096 bit)" ;;
		esac
		assert_contains "$(openssl x509 -in cert.pem -noout -text)" "$want" "$t certificate"
	done
}

test_real_http01_validation() {
	pebble_start
	mkdir -p www
	_spawn "$TEST_TMP/http.log" python3 -m http.server --bind 127.0.0.1 \
		--directory "$TEST_TMP/www" "$PEBBLE_HTTP_PORT"
	wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$PEBBLE_HTTP_PORT/" ||
		fail "http server did not start"
	smoke 0 --name real.example --name www.real.example --webroot "$TEST_TMP/www"
	assert_contains "$(sans)" "DNS:www.real.example"
	assert_contains "$(cat http.log)" "/.well-known/acme-challenge/"
	# the solver's cleanup ran: no challenge file is left behind
	assert_eq "" "$(ls www/.well-known/acme-challenge)" "challenge files left"
}

# lib/challenge's built-in responder behind the acme flow, several orders
# at once, every challenge really validated by Pebble.
test_real_http01_with_builtin_responder() {
	pebble_start
	smoke 0 --name r1.example --name r2.example --orders 8 --listen "127.0.0.1:$PEBBLE_HTTP_PORT"
	assert_contains "$OUT" "orders=8 failed=0"
	assert_contains "$(sans cert-8.pem)" "DNS:r2.example"
}

test_wildcard_dns01_validation() {
	pebble_start
	smoke 0 --name '*.wild.example' --name wild.example --dns01-challtest "$CHALLTEST_MGMT"
	assert_contains "$(sans)" "DNS:*.wild.example"
}

test_real_tlsalpn01_validation() {
	pebble_start
	mkdir -p alpn
	_spawn "$TEST_TMP/alpn.log" python3 "$TOP/tests/tools/tlsalpn_responder.py" \
		"$PEBBLE_TLS_PORT" "$TEST_TMP/alpn"
	wait_for 10 grep -q listening alpn.log || fail "tls-alpn-01 responder did not start"
	smoke 0 --name alpn.example --tlsalpn-dir "$TEST_TMP/alpn"
	assert_contains "$(sans)" "DNS:alpn.example"
	assert_contains "$(cat alpn.log)" "handshake alpn=acme-tls/1"
	assert_file_mode "$TEST_TMP/alpn/alpn.example.key" 600
}

test_failed_validation_is_typed() {
	pebble_start
	# nothing answers on the http-01 port: the challenge must fail
	smoke 1 --name nobody.example --timeout 30
	assert_contains "$OUT" "problem=urn:ietf:params:acme:error:connection"
	assert_contains "$ERR" "'nobody.example'"
	assert_contains "$ERR" "connection refused"
}

test_eab_required() {
	pebble_start --always-valid --eab
	# without EAB: the typed error is surfaced
	smoke 1 --name eab.example
	assert_contains "$OUT" "eab_required=1"
	assert_contains "$OUT" "problem=urn:ietf:params:acme:error:externalAccountRequired"
	assert_contains "$OUT" "error_code=auth"
	# with a wrong MAC key: refused with a clear message, key not echoed
	smoke 1 --name eab.example --eab-kid "$PEBBLE_EAB_KID" \
		--eab-hmac "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12X"
	assert_contains "$OUT" "problem=urn:ietf:params:acme:error:unauthorized"
	assert_contains "$ERR" "external account binding"
	assert_not_contains "$ERR" "zWNDZM6eQGHW"
	# with the right one: issued
	smoke 0 --name eab.example --eab-kid "$PEBBLE_EAB_KID" --eab-hmac "$PEBBLE_EAB_HMAC"
	assert_contains "$(sans)" "DNS:eab.example"
}

test_nonce_rejection_retried() {
	pebble_start --always-valid --nonce-reject 50
	smoke 0 --name nonce.example --orders 5
	assert_contains "$OUT" "failed=0"
	local retries
	retries=$(fact badnonce_retries)
	echo "badNonce retries: $retries"
	[ "$retries" -gt 0 ] || fail "expected badNonce retries at 50% rejection, got $retries"
}

test_alternate_roots_preferred_chain() {
	pebble_start --always-valid --alt-roots 2
	local root1
	root1=$(pebble_root 1 | openssl x509 -noout -subject -nameopt multiline |
		sed -n 's/^ *commonName *= *//p')
	[ -n "$root1" ] || fail "no alternate root at $PEBBLE_MGMT/roots/1"
	smoke 0 --name alt.example --preferred-chain "$root1"
	assert_eq 3 "$(fact chains)" "chain count"
	assert_eq 1 "$(fact selected_chain)" "selected chain"
	# the intermediate of the chain written is issued by that root
	assert_contains "$(openssl crl2pkcs7 -nocrl -certfile cert.pem |
		openssl pkcs7 -print_certs -noout)" "issuer=CN = $root1"
	# no preference: the default chain
	smoke 0 --name alt.example
	assert_eq 0 "$(fact selected_chain)" "default chain"
}

revocation_status() {
	local serial
	serial=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
	curl -sf --cacert "$PEBBLE_CA_BUNDLE" "$PEBBLE_MGMT/cert-status-by-serial/$serial"
}

test_revocation_by_account_and_cert_key() {
	pebble_start --always-valid
	smoke 0 --name rev1.example --revoke account
	assert_contains "$OUT" "revoked=account"
	assert_contains "$(revocation_status cert.pem)" '"Status": "Revoked"'
	smoke 0 --name rev2.example --revoke certkey
	assert_contains "$OUT" "revoked=certkey"
	assert_contains "$(revocation_status cert.pem)" '"Status": "Revoked"'
	assert_contains "$(revocation_status cert.pem)" '"Reason": 4'
}

test_key_rollover_find_deactivate() {
	pebble_start --always-valid
	# find (onlyReturnExisting), update the contacts, roll the key over, order
	# with the new key, then deactivate
	smoke 0 --name roll.example --find --update-contact mailto:new@example.com --rollover --deactivate
	assert_eq "$(fact account)" "$(fact found)" "found account"
	assert_eq "not found" "$(fact find_unknown)" "finding an unknown key's account"
	assert_eq "mailto:new@example.com" "$(fact contacts)" "updated contact"
	assert_contains "$OUT" "rollover=ok"
	assert_eq "not found" "$(fact old_key_lookup)" "account lookup by the old key"
	assert_contains "$OUT" "deactivated=ok"
	assert_eq "urn:ietf:params:acme:error:unauthorized" "$(fact after_deactivation)" \
		"a request of the deactivated account"
	assert_contains "$(sans)" "DNS:roll.example"
}

test_concurrent_orders_one_client() {
	pebble_start --always-valid
	smoke 0 --name c1.example --name c2.example --orders 20
	assert_contains "$OUT" "orders=20 failed=0"
	# about one connection per thread, reused, not one per request
	local conns requests
	conns=$(fact connections)
	requests=$(fact requests)
	echo "connections: $conns for $requests requests"
	[ "$conns" -le 30 ] || fail "opened $conns connections for $requests requests"
	local i
	for i in $(seq 1 20); do
		[ -s "cert-$i.pem" ] || fail "cert-$i.pem missing"
		assert_file_mode "$TEST_TMP/key-$i.pem" 600
	done
	assert_contains "$(sans cert-20.pem)" "DNS:c2.example"
}

# A scripted CA (tests/tools/mock_acme.py): badNonce and 5xx are retried,
# 429 rateLimited is not and surfaces as a rate limit with its Retry-After;
# every POST is application/jose+json and every request names certops.
test_retries_and_rate_limit_against_mock_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout mock.key \
		-out mock.pem -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		>/dev/null 2>&1
	local port
	port=$("$TOOLS/freeport" 1)
	_spawn "$TEST_TMP/mock.out" python3 "$TOP/tests/tools/mock_acme.py" "$port" mock.pem mock.key \
		"$TEST_TMP/requests.log"
	wait_for 10 curl -sf --cacert mock.pem -o /dev/null "https://127.0.0.1:$port/dir" ||
		fail "mock ca did not start"
	assert_exit 1 timeout 60 "$TOOLS/acme_smoke" --directory "https://127.0.0.1:$port/dir" \
		--ca-bundle mock.pem --out "$TEST_TMP" --name limited.example
	no_sanitizer_report
	assert_contains "$OUT" "account=https://127.0.0.1:$port/acct/1"
	assert_eq 1 "$(fact badnonce_retries)" "badNonce retries"
	assert_eq 2 "$(fact network_retries)" "5xx retries"
	assert_contains "$OUT" "problem=urn:ietf:params:acme:error:rateLimited"
	assert_contains "$OUT" "error_code=rate limited"
	assert_eq 7 "$(fact problem_retry_after)" "retry-after"
	assert_eq 1 "$(grep -c 'POST /order' requests.log)" "rate-limited order tries"
	assert_not_contains "$(grep POST requests.log)" "ct=None"
		# (the one curl line is the readiness probe above)
	assert_eq 0 "$(grep -v 'ua=curl/' requests.log | grep -vc 'ua=certops/')" \
		"requests without the certops user agent"
	assert_eq 0 "$(grep POST requests.log | grep -vc 'ct=application/jose+json')" "content type"
	# TLS is verified: without the bundle the client refuses the mock CA,
	# at once (a certificate that does not verify is not retried)
	local start=$SECONDS
	assert_exit 1 timeout 60 "$TOOLS/acme_smoke" --directory "https://127.0.0.1:$port/dir" \
		--name limited.example
	assert_contains "$ERR" "certificate"
	no_sanitizer_report
	# four retries with backoff would take about 4 s
	[ $((SECONDS - start)) -le 2 ] || fail "tls verification failure was retried"
}

run_tests "$@"
