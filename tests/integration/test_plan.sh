#!/usr/bin/env bash
# certops plan (and status) without a CA: on an empty store, on a store made
# true by tests/tools/plan_fixture (self-signed certificates, files written
# as the files target writes them), with drift, --at, saved plans, JSON
# checked against schemas/plan.schema.json, and invalid declarations.
. "$(dirname "$0")/lib/testlib.sh"

_python() {
	if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
		/usr/bin/python3 "$@"
	else
		python3 "$@"
	fi
}

# Validates JSON file $1 against schemas/plan.schema.json.
_check_plan_schema() {
	_python - "$TOP/schemas/plan.schema.json" "$1" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
PY
}

# A repo of two single-name certificates deploying under $TEST_TMP/out, and
# a policy that allows it.
_repo() {
	mkdir -p repo out
	cat >repo/certs.yaml <<EOF
kind: Issuer
name: le
acme: {directory: "https://acme.invalid/dir"}
---
kind: Certificate
name: www
issuer: le
domains: [www.example.com]
challenge: {http01: {webroot: $TEST_TMP/webroot}}
deploy:
  - files: {dir: $TEST_TMP/out/www, fullchain: fullchain.pem, key: privkey.pem, mode: "0600"}
---
kind: Certificate
name: api
issuer: le
domains: [api.example.com]
challenge: {http01: {webroot: $TEST_TMP/webroot}}
deploy:
  - files: {dir: $TEST_TMP/out/api, cert: cert.pem, chain: chain.pem, key: key.pem}
EOF
	printf 'writeRoots: [%s]\n' "$TEST_TMP" >policy.yaml
	export CERTOPS_STATE=$TEST_TMP/state
}

_in_sync() {
	_repo
	"$TOOLS/plan_fixture" "$CERTOPS_STATE" repo >/dev/null
}

test_quickstart_on_empty_state() {
	export CERTOPS_STATE=$TEST_TMP/state
	assert_exit 0 "$CERTOPS" plan "$TOP/examples/quickstart"
	assert_contains "$OUT" "+ issue:www (Missing): no certificate issued yet"
	assert_contains "$OUT" "+ deploy:www:files[0] (NewCertificate)"
	assert_contains "$OUT" "+ account:pebble (NoAccount)"
	assert_contains "$OUT" "Plan: 1 to issue, 0 to renew, 1 to deploy, 0 no longer declared."
	# read-only: the missing store is not created
	[ ! -e "$TEST_TMP/state" ] || fail "plan created the state directory"
	assert_exit 2 "$CERTOPS" plan --detailed-exitcode "$TOP/examples/quickstart"
}

test_json_validates_against_schema() {
	export CERTOPS_STATE=$TEST_TMP/state
	assert_exit 2 "$CERTOPS" plan --json --detailed-exitcode "$TOP/examples/quickstart"
	printf '%s\n' "$OUT" >plan.json
	_check_plan_schema plan.json || fail "plan JSON does not match the schema"
	_python - plan.json <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["format_version"] == "1.0", p
assert p["changes"] is True
ids = [a["id"] for a in p["actions"]]
assert ids == ["account:pebble", "issue:www", "deploy:www:files[0]"], ids
assert p["actions"][2]["depends_on"] == ["issue:www"]
assert p["summary"]["issue"] == 1 and p["summary"]["deploy"] == 1
PY
}

test_no_changes_when_in_sync() {
	_in_sync
	assert_exit 0 "$CERTOPS" plan --policy policy.yaml --detailed-exitcode repo
	assert_eq "No changes. Certificates and targets match the declaration." "$OUT"
	assert_exit 0 "$CERTOPS" plan --policy policy.yaml --json repo
	printf '%s\n' "$OUT" >plan.json
	_check_plan_schema plan.json || fail "no-op plan JSON does not match the schema"
	assert_contains "$OUT" '"changes": false'
}

test_drift_shows_for_that_target_only() {
	_in_sync
	chmod 0644 out/www/privkey.pem
	rm out/api/chain.pem
	assert_exit 2 "$CERTOPS" plan --policy policy.yaml --detailed-exitcode repo
	assert_contains "$OUT" "~ deploy:www:files[0] (Drifted): $TEST_TMP/out/www/privkey.pem has mode 0644, want 0600"
	assert_contains "$OUT" "~ deploy:api:files[0] (Drifted): $TEST_TMP/out/api/chain.pem is missing"
	assert_not_contains "$OUT" "issue:"
	assert_contains "$OUT" "Plan: 0 to issue, 0 to renew, 2 to deploy"
	# another certificate in place of the deployed one
	chmod 0600 out/www/privkey.pem
	touch out/api/chain.pem && cp out/www/fullchain.pem out/api/cert.pem
	assert_exit 0 "$CERTOPS" plan --policy policy.yaml repo
	assert_match "$OUT" "deploy:api:files\[0\] \(Drifted\): .*/cert.pem holds certificate [0-9a-f]{16}\.\.\. instead of"
	assert_not_contains "$OUT" "deploy:www"
}

test_identifier_change_reissues() {
	_in_sync
	sed -i 's/domains: \[www.example.com\]/domains: [www.example.com, new.example.com]/' repo/certs.yaml
	assert_exit 0 "$CERTOPS" plan --policy policy.yaml repo
	assert_contains "$OUT" "~ issue:www (IdentifiersChanged): adds new.example.com"
	assert_contains "$OUT" "~ deploy:www:files[0] (NewCertificate)"
	assert_not_contains "$OUT" "issue:api"
}

test_at_far_future_renews() {
	_in_sync
	# the fixture's certificates live 7 days: half-life renewal
	assert_exit 0 "$CERTOPS" plan --policy policy.yaml --at 2026-01-02 repo
	assert_contains "$OUT" "Planning as of 2026-01-02T00:00:00Z (--at)."
	assert_exit 0 "$CERTOPS" plan --policy policy.yaml --at +2d repo
	assert_contains "$OUT" "No changes."
	assert_exit 2 "$CERTOPS" plan --policy policy.yaml --detailed-exitcode --at +5d repo
	assert_contains "$OUT" "~ issue:www (Expiring): expires "
	assert_contains "$OUT" "~ issue:api (Expiring)"
	assert_exit 0 "$CERTOPS" plan --policy policy.yaml --at +30d repo
	assert_contains "$OUT" "(Expired)"
	assert_exit 64 "$CERTOPS" plan --at yesterday repo
	assert_contains "$ERR" "invalid --at 'yesterday'"
}

test_saved_plan_records_digest_and_serial() {
	_in_sync
	chmod 0644 out/www/privkey.pem
	assert_exit 0 "$CERTOPS" plan --policy policy.yaml -o saved.json repo
	assert_contains "$OUT" "Saved the plan to saved.json"
	assert_file_mode saved.json 600
	_check_plan_schema saved.json || fail "saved plan does not match the schema"
	assert_contains "$(cat saved.json)" '"present": true'
	assert_match "$(cat saved.json)" '"serial": [1-9][0-9]*'
}

test_orphans_kept_unless_prune() {
	_in_sync
	# drop api from the declarations: kept, not a change
	_python - repo/certs.yaml <<'PY'
import sys
p = sys.argv[1]
docs = open(p).read().split("---\n")
open(p, "w").write("---\n".join(d for d in docs if "name: api" not in d))
PY
	assert_exit 0 "$CERTOPS" plan --policy policy.yaml --detailed-exitcode repo
	assert_contains "$OUT" "# orphan:api (NotDeclared): no longer declared; kept (--prune removes it)"
	assert_contains "$OUT" "No changes."
	assert_exit 2 "$CERTOPS" plan --policy policy.yaml --detailed-exitcode --prune repo
	assert_contains "$OUT" "- orphan:api (NotDeclared)"
	assert_contains "$OUT" "- orphan-target:api:files[0]"
}

test_invalid_declarations_exit_65() {
	mkdir repo
	printf 'kind: Certificate\nname: www\nissuer: nope\ndomains: [a.example]\n' >repo/a.yaml
	assert_exit 65 "$CERTOPS" plan repo
	assert_contains "$ERR" "repo/a.yaml:3:9: issuer: unknown issuer 'nope'"
	assert_eq "" "$OUT"
	assert_exit 64 "$CERTOPS" plan a b
	assert_exit 1 "$CERTOPS" plan "$TEST_TMP/does-not-exist"
}

test_status_lists_certificates_and_targets() {
	_in_sync
	assert_exit 0 "$CERTOPS" status --policy policy.yaml repo
	assert_match "$OUT" "^www +www.example.com +le +ecdsa-p256 +[0-9-]+T[0-9:]+Z +[0-9]+d"
	assert_match "$OUT" "^  www:files\[0\] +in sync"
	chmod 0644 out/www/privkey.pem
	assert_exit 0 "$CERTOPS" status --policy policy.yaml repo
	assert_match "$OUT" "^  www:files\[0\] +drifted"
	assert_exit 0 "$CERTOPS" status --policy policy.yaml --json repo
	printf '%s\n' "$OUT" >status.json
	_python - status.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
c = {x["name"]: x for x in s["certificates"]}
assert c["www"]["identifiers"] == ["www.example.com"], c
assert c["www"]["targets"][0]["in_sync"] is False
assert c["api"]["targets"][0]["in_sync"] is True
assert c["api"]["renewal_due"] is False
PY
	assert_exit 0 "$CERTOPS" status --policy policy.yaml --format prometheus repo
	assert_match "$OUT" '^certops_certificate_not_after_timestamp_seconds\{certificate="www"\} [0-9]+$'
	printf '%s\n' "$OUT" >status.prom
	python3 "$TOP/tests/tools/prom_check.py" status.prom >/dev/null || fail "status metrics do not parse"
	assert_contains "$OUT" 'certops_target_in_sync{certificate="www",target="www:files[0]"} 0'
	assert_contains "$OUT" 'certops_target_in_sync{certificate="api",target="api:files[0]"} 1'
	assert_contains "$OUT" 'certops_target_last_deploy_success{certificate="api",target="api:files[0]"} 1'
}

test_status_on_empty_state() {
	export CERTOPS_STATE=$TEST_TMP/state
	assert_exit 0 "$CERTOPS" status "$TOP/examples/quickstart"
	assert_match "$OUT" "^www +www.example.com,example.com +pebble +- +not issued"
	[ ! -e "$TEST_TMP/state" ] || fail "status created the state directory"
}

run_tests "$@"
