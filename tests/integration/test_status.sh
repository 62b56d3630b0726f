#!/usr/bin/env bash
# `certops status` end to end against a real Pebble: three certificates
# with several targets each are applied (the apply JSON validates against
# schemas/apply.schema.json), a reconcile cycle is recorded, a target
# drifts; then `status --format prometheus` passes `promtool check
# metrics` and tests/tools/prom_check.py with the one vocabulary
# (docs/operations.md), `status --json` validates against
# schemas/status.schema.json, and the table says the same.
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/pebble.sh"

_python() {
	if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
		/usr/bin/python3 "$@"
	else
		python3 "$@"
	fi
}

# Validates JSON file $2 against schemas/$1 (references resolved in schemas/).
validate_json() {
	_python - "$TOP/schemas" "$1" "$2" <<'PY' || fail "$2 does not validate against $1"
import glob, json, os, sys
import jsonschema
store = {}
for p in glob.glob(os.path.join(sys.argv[1], "*.json")):
    s = json.load(open(p))
    store[s["$id"]] = s
schema = json.load(open(os.path.join(sys.argv[1], sys.argv[2])))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema, resolver=jsonschema.RefResolver(schema["$id"], schema, store=store))
errors = list(v.iter_errors(json.load(open(sys.argv[3]))))
for e in errors:
    print("%s: %s" % ("/".join(str(x) for x in e.absolute_path), e.message), file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

# Both exposition checkers: the project's strict parser and promtool.
check_metrics() { # file
	python3 "$TOP/tests/tools/prom_check.py" "$1" >/dev/null || fail "prom_check.py rejects $1"
	command -v promtool >/dev/null || fail "promtool not installed (make deps: Debian's prometheus)"
	promtool check metrics <"$1" || fail "promtool check metrics rejects $1"
}

# The vocabulary of an exposition file: one "family type label,label" line
# per family, sorted.  Status and reconcile's --metrics-file must print the
# same (compare the two with this).
metrics_vocabulary() { # file
	python3 - "$1" <<'PY'
import re, sys
types, labels = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r"# TYPE (\S+) (\S+)", line)
    if m:
        types[m.group(1)] = m.group(2)
        continue
    m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ", line)
    if m and not line.startswith("#"):
        keys = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(2) or "")
        labels.setdefault(m.group(1), set()).update(keys)
for name in sorted(types):
    print(name, types[name], ",".join(sorted(labels.get(name, ()))))
PY
}

cert() { # name domain
	cat >>"$DECL/certops.yaml" <<YAML
---
kind: Certificate
name: $1
issuer: pebble
domains: [$2]
key: {type: ecdsa-p256}
renewBefore: 30d
challenge:
  http01:
    listen: {env: CERTOPS_HTTP01_LISTEN}
deploy:
  - files: {dir: $TEST_TMP/out/$1/a, fullchain: fullchain.pem, key: privkey.pem}
  - files: {dir: $TEST_TMP/out/$1/b, cert: cert.pem, chain: chain.pem, key: key.pem}
  - exec: {command: [/bin/true, $1]}
YAML
}

setup_three() {
	pebble_start --always-valid
	export CERTOPS_STATE="$TEST_TMP/state"
	export CERTOPS_ACME_DIRECTORY="$PEBBLE_DIRECTORY"
	export CERTOPS_ACME_CA_BUNDLE="$PEBBLE_CA_BUNDLE"
	export CERTOPS_HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP_PORT"
	DECL="$TEST_TMP/decl"
	mkdir -p "$DECL"
	sed -n '/^kind: Issuer/,/^---/p' "$TOP/examples/quickstart/certops.yaml" | sed '$d' \
		>"$DECL/certops.yaml"
	cert www www.example.com
	cert api api.example.com
	cert mail mail.example.com
	printf 'writeRoots: [%s]\nexec:\n  - [/bin/true]\n' "$TEST_TMP" >"$TEST_TMP/policy.yaml"
	POLICY="$TEST_TMP/policy.yaml"
}

test_status_three_certificates_metrics_and_json() {
	setup_three
	# the apply JSON is the schema's
	assert_exit 0 timeout 180 "$CERTOPS" apply --json --policy "$POLICY" "$DECL"
	printf '%s' "$OUT" >"$TEST_TMP/apply.json"
	validate_json apply.schema.json "$TEST_TMP/apply.json"
	_python - "$TEST_TMP/apply.json" <<'PY' || fail "apply --json: $OUT"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["converged"] is True and d["failed"] == 0, d
ids = {a["id"] for a in d["actions"]}
for c in ("www", "api", "mail"):
    assert "issue:" + c in ids and "deploy:%s:files[1]" % c in ids and "hook:%s:exec[2]" % c in ids, ids
PY
	# one recorded cycle (nothing left to do), then api's second target drifts
	assert_exit 0 timeout 180 "$CERTOPS" reconcile --once --policy "$POLICY" \
		--metrics-file "$TEST_TMP/reconcile.prom" "$DECL"
	# the reconcile metrics file is the status report of the same engine
	check_metrics "$TEST_TMP/reconcile.prom"
	chmod 0644 "$TEST_TMP/out/api/b/key.pem"

	# the exact bytes (not $OUT, which loses the final newline)
	"$CERTOPS" status --policy "$POLICY" --format prometheus "$DECL" >"$TEST_TMP/status.prom" ||
		fail "status --format prometheus failed"
	assert_exit 0 "$CERTOPS" status --policy "$POLICY" --format prometheus "$DECL"
	check_metrics "$TEST_TMP/status.prom"
	local m=$OUT c t
	for c in www api mail; do
		assert_contains "$m" "certops_certificate_issued{certificate=\"$c\"} 1"
		assert_contains "$m" "certops_certificate_renewal_due{certificate=\"$c\"} 0"
		assert_contains "$m" "certops_certificate_last_result{certificate=\"$c\"} 1"
		assert_contains "$m" "certops_certificate_consecutive_failures{certificate=\"$c\"} 0"
		assert_match "$m" "certops_certificate_not_after_timestamp_seconds\{certificate=\"$c\"\} [0-9]{10}"
		for t in files[0] files[1] exec[2]; do
			assert_contains "$m" "certops_target_last_deploy_success{certificate=\"$c\",target=\"$c:$t\"} 1"
			assert_match "$m" "certops_target_last_deploy_timestamp_seconds\{certificate=\"$c\",target=\"$c:${t/[/\\[}\"\} [0-9]{10}"
		done
	done
	assert_contains "$m" 'certops_target_in_sync{certificate="api",target="api:files[1]"} 0'
	assert_contains "$m" 'certops_target_in_sync{certificate="api",target="api:files[0]"} 1'
	assert_contains "$m" 'certops_target_in_sync{certificate="mail",target="mail:exec[2]"} 1'
	assert_contains "$m" "certops_reconcile_cycles_total 1"
	assert_contains "$m" "certops_reconcile_up 1"
	assert_contains "$m" "certops_source_info{url=\"$DECL\",ref=\"\",commit=\"\"} 1"
	# one vocabulary: every family once, labels certificate and target only
	assert_eq 1 "$(grep -c '^# TYPE certops_target_in_sync gauge$' <<<"$m")" "TYPE lines"
	assert_eq 9 "$(grep -c '^certops_target_in_sync{' <<<"$m")" "target samples"
	assert_not_contains "$m" '{name='
	# every family of docs/operations.md, with its type and labels
	assert_eq "certops_certificate_consecutive_failures gauge certificate
certops_certificate_expiring gauge certificate
certops_certificate_issued gauge certificate
certops_certificate_last_result gauge certificate
certops_certificate_next_attempt_timestamp_seconds gauge certificate
certops_certificate_not_after_timestamp_seconds gauge certificate
certops_certificate_renewal_due gauge certificate
certops_certificate_renewal_timestamp_seconds gauge certificate
certops_declaration_problems gauge 
certops_notify_failures_total counter 
certops_reconcile_cycles_total counter 
certops_reconcile_duration_seconds gauge 
certops_reconcile_failures_total counter 
certops_reconcile_last_run_timestamp_seconds gauge 
certops_reconcile_last_success_timestamp_seconds gauge 
certops_reconcile_up gauge 
certops_source_info gauge commit,ref,url
certops_source_offline gauge 
certops_source_offline_cycles_total counter 
certops_target_in_sync gauge certificate,target
certops_target_last_deploy_success gauge certificate,target
certops_target_last_deploy_timestamp_seconds gauge certificate,target" \
		"$(metrics_vocabulary "$TEST_TMP/status.prom")" "the metrics vocabulary"
	assert_not_contains "$m" "certops_certificate_not_after_seconds"
	# and reconcile's --metrics-file speaks exactly the same vocabulary
	assert_eq "$(metrics_vocabulary "$TEST_TMP/status.prom")" \
		"$(metrics_vocabulary "$TEST_TMP/reconcile.prom")" "one vocabulary for status and reconcile"

	assert_exit 0 "$CERTOPS" status --policy "$POLICY" --json "$DECL"
	printf '%s' "$OUT" >"$TEST_TMP/status.json"
	validate_json status.schema.json "$TEST_TMP/status.json"
	_python - "$TEST_TMP/status.json" <<'PY' || fail "status --json: $OUT"
import json, sys
d = json.load(open(sys.argv[1]))
c = {x["name"]: x for x in d["certificates"]}
assert list(c) == ["www", "api", "mail"], list(c)
assert all(x["issued"] and len(x["targets"]) == 3 for x in c.values()), c
t = {x["id"]: x for x in c["api"]["targets"]}
assert t["api:files[1]"]["in_sync"] is False and t["api:files[1]"]["reason"] == "Drifted", t
assert t["api:files[0]"]["in_sync"] is True and t["api:files[0]"]["result"] == "ok", t
r = d["reconcile"]
assert r["result"] == "ok" and r["cycles"] == 1, r
assert sorted(x["name"] for x in r["certificates"]) == ["api", "mail", "www"], r
assert d["source"] is None, d
PY

	assert_exit 0 "$CERTOPS" status --policy "$POLICY" "$DECL"
	assert_match "$OUT" "^mail +mail.example.com +pebble +ecdsa-p256 +[0-9-]+T[0-9:]+Z +[0-9]+d"
	assert_match "$OUT" "^  api:files\[1\] +drifted .*\(.*key.pem"
	assert_match "$OUT" "^  mail:exec\[2\] +in sync +last [0-9-]+T[0-9:]+Z ok"
	assert_contains "$OUT" "Z ok ($DECL); 1 cycle, 0 failed"
	assert_match "$OUT" "Last reconcile cycle: [0-9-]+T[0-9:]+Z ok "
}

# No store, no cycle: the metrics hold the declarations only and still parse.
test_status_metrics_before_anything_is_issued() {
	export CERTOPS_STATE=$TEST_TMP/state
	"$CERTOPS" status --format prometheus "$TOP/examples/quickstart" >"$TEST_TMP/status.prom" ||
		fail "status --format prometheus failed"
	assert_exit 0 "$CERTOPS" status --format prometheus "$TOP/examples/quickstart"
	check_metrics "$TEST_TMP/status.prom"
	assert_contains "$OUT" 'certops_certificate_issued{certificate="www"} 0'
	assert_contains "$OUT" 'certops_certificate_renewal_due{certificate="www"} 1'
	assert_contains "$OUT" 'certops_target_in_sync{certificate="www",target="www:files[0]"} 0'
	assert_not_contains "$OUT" "certops_reconcile_"
	assert_not_contains "$OUT" "certops_target_last_deploy"
	[ ! -e "$TEST_TMP/state" ] || fail "status created the state directory"
}

run_tests "$@"
