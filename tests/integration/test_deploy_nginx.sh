#!/usr/bin/env bash
# The nginx recipe end to end with real components: certificates issued by
# Pebble (build/tools/acme_smoke), deployed by the deploy targets of a
# declaration (files + exec [nginx -t] + exec reload hook) to a real
# nginx, and proven served by the verify: tls probe
# (build/tools/deploy_smoke, which drives lib/target and lib/observe the
# way apply is to).  Renewal is seen served; a failing reload hook leaves
# the endpoint stale until the hook works again; a declaration outside
# the policy deploys nothing.
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/pebble.sh"
. "$(dirname "$0")/lib/nginx.sh"

fact() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p" | head -n 1; }

no_sanitizer_report() {
	assert_not_contains "$ERR" "Sanitizer" "stderr"
	assert_not_contains "$ERR" "runtime error:" "stderr"
}

issue() { # N: a fresh certificate for www.example.test in $TEST_TMP/issueN
	mkdir -p "$TEST_TMP/issue$1"
	assert_exit 0 timeout 120 "$TOOLS/acme_smoke" --directory "$PEBBLE_DIRECTORY" \
		--ca-bundle "$PEBBLE_CA_BUNDLE" --out "$TEST_TMP/issue$1" --name www.example.test
	no_sanitizer_report
}

fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }

deploy() { # expected-exit N [args...]: deploys issue N
	local want=$1 n=$2
	shift 2
	assert_exit "$want" "$TOOLS/deploy_smoke" --dir "$TEST_TMP/decl" --policy "$TEST_TMP/policy.yaml" \
		--cert www --chain "$TEST_TMP/issue$n/cert.pem" --key "$TEST_TMP/issue$n/key.pem" "$@"
	no_sanitizer_report
}

# A bootstrap certificate for nginx's first start, a reload hook that
# works only while $TEST_TMP/reload-ok exists, the declaration and policy.
setup_site() {
	mkdir -p "$TEST_TMP/ssl" "$TEST_TMP/decl" "$TEST_TMP/acme"
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
	cat >"$TEST_TMP/decl/certops.yaml" <<YAML
kind: Issuer
name: pebble
acme:
  directory: $PEBBLE_DIRECTORY
  caBundle: $PEBBLE_CA_BUNDLE
---
kind: Certificate
name: www
issuer: pebble
domains: [www.example.test]
challenge:
  http01: {webroot: $TEST_TMP/acme}
deploy:
  - files: {dir: $TEST_TMP/ssl, fullchain: fullchain.pem, key: privkey.pem}
  - exec: {command: [/usr/sbin/nginx, -p, $NGINX_PREFIX, -c, $NGINX_CONF, -e, $NGINX_PREFIX/logs/error.log, -t]}
  - exec: {command: [$TEST_TMP/reload.sh], timeout: 20s}
verify:
  - tls: {connect: "127.0.0.1:$NGINX_PORT", serverName: www.example.test, timeout: 5s}
YAML
	cat >"$TEST_TMP/policy.yaml" <<YAML
writeRoots: [$TEST_TMP/ssl, $TEST_TMP/acme]
exec:
  - [/usr/sbin/nginx, -p, $NGINX_PREFIX, -c, $NGINX_CONF, -e, $NGINX_PREFIX/logs/error.log, -t]
  - [$TEST_TMP/reload.sh]
YAML
}

test_deploy_reload_verify_renew_and_stale() {
	pebble_start --always-valid
	setup_site
	issue 1
	local fp1 fp2 fp3
	fp1=$(fp "$TEST_TMP/issue1/cert.pem")

	deploy 0 1 --older "$BOOT_FP"
	assert_eq ok "$(fact deploy.0)"
	assert_eq ok "$(fact deploy.1)"
	assert_eq ok "$(fact deploy.2)"
	assert_eq "served $fp1" "$(fact verify.0)"
	assert_file_mode "$TEST_TMP/ssl/privkey.pem" 600
	# The hook's output reached the log, with its documented variables.
	assert_contains "$ERR" "reloading www $fp1 from $TEST_TMP/ssl/fullchain.pem"
	assert_contains "$(openssl x509 -in "$TEST_TMP/ssl/fullchain.pem" -noout -issuer)" "Pebble"

	# A renewal: the new certificate is served, the old one is "ours".
	issue 2
	fp2=$(fp "$TEST_TMP/issue2/cert.pem")
	assert_ne "$fp1" "$fp2"
	deploy 0 2 --older "$fp1"
	assert_eq "served $fp2" "$(fact verify.0)"

	# The reload hook fails: the files are new, the endpoint is stale.
	rm "$TEST_TMP/reload-ok"
	issue 3
	fp3=$(fp "$TEST_TMP/issue3/cert.pem")
	deploy 1 3 --older "$fp1" --older "$fp2" --window 500
	assert_eq ok "$(fact deploy.0)"
	assert_eq ok "$(fact deploy.1)"
	assert_contains "$(fact deploy.2)" "failed: command '$TEST_TMP/reload.sh' exited with code 3: reload refused by the test"
	assert_eq "stale $fp2" "$(fact verify.0)"
	# Observed again (what plan sees): the files are in sync, the endpoint stale.
	deploy 1 3 --older "$fp1" --older "$fp2" --observe
	assert_eq "" "$(fact drift.0)"
	assert_eq "stale $fp2" "$(fact verify.0)"

	# As an apply verify action: a distinct error naming both certificates.
	deploy 1 3 --older "$fp1" --older "$fp2" --verify-only --window 300
	assert_eq "failed: verify 127.0.0.1:$NGINX_PORT (www.example.test): stale: serves $fp2, an older certificate, not $fp3" "$(fact verify.0)"

	# The hook works again: the next deploy fixes it.
	touch "$TEST_TMP/reload-ok"
	deploy 0 3 --older "$fp1" --older "$fp2"
	assert_eq ok "$(fact deploy.2)"
	assert_eq "served $fp3" "$(fact verify.0)"
	deploy 0 3 --verify-only
	assert_eq ok "$(fact verify.0)"
}

test_outside_policy_deploys_nothing() {
	pebble_start --always-valid
	setup_site
	issue 1
	local before
	before=$(fp "$TEST_TMP/ssl/fullchain.pem")
	# A commit that asks for `nginx -s stop` and a file outside the roots.
	sed -i 's#-t\]}#-s, stop]}#' "$TEST_TMP/decl/certops.yaml"
	sed -i 's#^deploy:$#deploy:\n  - files: {dir: /etc/certops-test-outside}#' "$TEST_TMP/decl/certops.yaml"
	deploy 1 1
	assert_eq no "$(fact valid)"
	assert_contains "$ERR" "-s stop' is not allowed"
	assert_contains "$ERR" "/etc/certops-test-outside"
	assert_eq "" "$(fact deploy.0)"
	assert_eq "$before" "$(fp "$TEST_TMP/ssl/fullchain.pem")" "deployed certificate"
	[ ! -e /etc/certops-test-outside ] || fail "wrote outside the policy"
}

test_example_validates_only_under_its_policy() {
	assert_exit 0 "$CERTOPS" validate --policy "$TOP/examples/policies/nginx.yaml" "$TOP/examples/nginx"
	assert_contains "$OUT$ERR" "1 certificate"
	# Under the built-in default (no exec) both hooks are refused, by position.
	assert_exit 65 "$CERTOPS" validate "$TOP/examples/nginx"
	assert_contains "$OUT$ERR" "certops.yaml:44:17: deploy[1].exec.command: command '/usr/sbin/nginx -t' is not allowed"
	assert_contains "$OUT$ERR" "deploy[2].exec.command: command '/usr/sbin/nginx -s reload' is not allowed"
}

run_tests "$@"
