#!/usr/bin/env bash
# GitOps end to end: declarations in a real Git repository made by the test,
# `certops reconcile --once --repo file://...`, plan/apply with --repo and
# saved plans, against a real Pebble (real http-01 through the built-in
# responder).  A certificate that cannot validate (http-01 through a
# webroot nothing serves) must not block the others, must wait out its retry
# backoff, and must be notified once.
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/pebble.sh"

git_commit() { # message
	git -C "$TEST_TMP/work" add -A
	git -C "$TEST_TMP/work" -c user.name=test -c user.email=test@example.com \
		commit -qm "$1"
	git -C "$TEST_TMP/work" push -q origin main
}

head_of() { git -C "$TEST_TMP/work" rev-parse HEAD; }

# Pebble, the environment the quickstart reads, a work tree pushed to a bare
# remote holding the quickstart deploying to $WWW, and a policy allowing
# $TEST_TMP.
setup_gitops() {
	pebble_start "$@"
	export CERTOPS_STATE="$TEST_TMP/state"
	export CERTOPS_ACME_DIRECTORY="$PEBBLE_DIRECTORY"
	export CERTOPS_ACME_CA_BUNDLE="$PEBBLE_CA_BUNDLE"
	export CERTOPS_HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP_PORT"
	WWW="$TEST_TMP/www"
	git init -q -b main "$TEST_TMP/work"
	sed "s#/tmp/certops-demo/quickstart/www#$WWW#" "$TOP/examples/quickstart/certops.yaml" \
		>"$TEST_TMP/work/certops.yaml"
	git init -q --bare -b main "$TEST_TMP/remote.git"
	git -C "$TEST_TMP/work" remote add origin "$TEST_TMP/remote.git"
	git_commit "www"
	REPO="file://$TEST_TMP/remote.git"
	printf 'writeRoots: [%s]\n' "$TEST_TMP" >"$TEST_TMP/policy.yaml"
	POLICY="$TEST_TMP/policy.yaml"
}

no_sanitizer_report() {
	assert_not_contains "$ERR" "Sanitizer" "stderr"
	assert_not_contains "$ERR" "runtime error:" "stderr"
}

run_certops() { # expected-exit command [args...]
	local want=$1 cmd=$2
	shift 2
	assert_exit "$want" timeout 180 "$CERTOPS" "$cmd" --policy "$POLICY" "$@"
	no_sanitizer_report
}

reconcile() { # expected-exit [args...]
	local want=$1
	shift
	run_certops "$want" reconcile --once --repo "$REPO" --metrics-file "$TEST_TMP/m.prom" "$@"
	python3 "$TOP/tests/tools/prom_check.py" "$TEST_TMP/m.prom" || fail "metrics do not parse"
}

sans() { openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 | tr -d ' '; }
json_get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[int(k)] if isinstance(d,list) else d[k]
print(d)' "$@"; }

add_certificate() { # name domain [challenge-yaml]
	cat >>"$TEST_TMP/work/certops.yaml" <<EOF
---
kind: Certificate
name: $1
issuer: pebble
domains: [$2]
key: {type: ecdsa-p256}
challenge:
  http01: ${3:-"{listen: {env: CERTOPS_HTTP01_LISTEN}}"}
deploy:
  - files: {dir: $TEST_TMP/$1, fullchain: fullchain.pem, key: privkey.pem}
EOF
}

test_reconcile_issues_deploys_and_follows_new_commits() {
	setup_gitops
	local first second
	first=$(head_of)
	reconcile 0
	assert_contains "$OUT" "source: $REPO refs/heads/main at commit $first"
	assert_contains "$OUT" "Source: $REPO refs/heads/main at commit $first"
	assert_contains "$OUT" "issue:www: done"
	assert_contains "$OUT" "reconcile: 1 certificate, 0 failed"
	assert_eq "DNS:www.example.com,DNS:example.com" "$(sans "$WWW/fullchain.pem")" "SANs"
	assert_file_mode "$WWW/privkey.pem" 600
	assert_eq "$first" "$(cat "$CERTOPS_STATE/source/last-applied")" "last applied commit"
	assert_eq "$first" "$(json_get "$CERTOPS_STATE/reconcile/status.json" commit)" "status commit"
	assert_eq ok "$(json_get "$CERTOPS_STATE/reconcile/status.json" result)" "status result"
	assert_contains "$(cat "$TEST_TMP/m.prom")" 'certops_certificate_last_result{certificate="www"} 1'
	assert_match "$(cat "$TEST_TMP/m.prom")" 'certops_certificate_not_after_timestamp_seconds\{certificate="www"\} [0-9]'

	# Nothing changed: the next cycle applies nothing.
	reconcile 0
	assert_contains "$OUT" "No changes"
	assert_not_contains "$OUT" "issue:www"

	# A new commit: www gets a third name and a new certificate appears.
	sed -i 's/domains: \[www.example.com, example.com\]/domains: [www.example.com, example.com, new.example.com]/' \
		"$TEST_TMP/work/certops.yaml"
	add_certificate api api.example.com
	git_commit "more names"
	second=$(head_of)
	reconcile 0
	assert_contains "$OUT" "at commit $second"
	assert_contains "$OUT" "issue:www: done"
	assert_contains "$OUT" "issue:api: done"
	assert_eq "DNS:www.example.com,DNS:example.com,DNS:new.example.com" \
		"$(sans "$WWW/fullchain.pem")" "SANs after the new commit"
	assert_eq "DNS:api.example.com" "$(sans "$TEST_TMP/api/fullchain.pem")" "api SANs"
	assert_eq "$second" "$(cat "$CERTOPS_STATE/source/last-applied")" "last applied commit"

	# status shows the last cycle, in text and JSON, and the commit.
	run_certops 0 status --repo "$REPO"
	assert_contains "$OUT" "Source: $REPO refs/heads/main at commit $second"
	assert_match "$OUT" "Last reconcile cycle: .* ok at commit $second"
	run_certops 0 status --repo "$REPO" --json
	printf '%s\n' "$OUT" >"$TEST_TMP/status.json"
	assert_eq "$second" "$(json_get "$TEST_TMP/status.json" source.commit)" "status --json source"
	assert_eq "$second" "$(json_get "$TEST_TMP/status.json" reconcile.commit)" "status --json reconcile"
	assert_eq ok "$(json_get "$TEST_TMP/status.json" reconcile.certificates.0.result)" "per-cert result"
}

# With JSON logs, every line after the source is resolved names the commit,
# so a log collector can tie any action to the reviewed change.
test_every_json_log_line_names_the_commit() {
	setup_gitops --always-valid
	local c lines
	c=$(head_of)
	run_certops 0 apply --repo "$REPO" --log-format json -v
	lines=$(printf '%s\n' "$ERR" | grep -c '^{' || true)
	[ "$lines" -ge 5 ] || fail "expected several JSON log lines, got $lines:
$ERR"
	assert_eq "$lines" "$(printf '%s\n' "$ERR" | grep -c "\"commit\":\"$c\"" || true)" \
		"JSON log lines naming commit $c"
	printf '%s\n' "$ERR" | grep '^{' | python3 -c '
import json, sys
for line in sys.stdin:
    json.loads(line)  # one object per line, no duplicate-key garbage
'
}

test_saved_plan_is_refused_after_a_push() {
	setup_gitops
	local first second
	first=$(head_of)
	run_certops 0 plan --repo "$REPO" --out "$TEST_TMP/plan.json"
	assert_contains "$OUT" "Source: $REPO refs/heads/main at commit $first"
	assert_eq "$first" "$(json_get "$TEST_TMP/plan.json" source.commit)" "saved plan commit"
	run_certops 0 plan --repo "$REPO" --json
	printf '%s\n' "$OUT" >"$TEST_TMP/plan2.json"
	assert_eq "$REPO" "$(json_get "$TEST_TMP/plan2.json" source.url)" "plan --json source url"
	python3 - "$TOP/schemas/plan.schema.json" "$TEST_TMP/plan2.json" <<'PY' || fail "plan JSON does not match its schema"
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit(0)
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))
PY
	run_certops 0 validate --repo "$REPO"
	assert_contains "$OUT" "at commit $first"

	# The branch moves on (the declarations are the same).
	echo "reviewed" >"$TEST_TMP/work/README"
	git_commit "readme"
	second=$(head_of)
	run_certops 65 apply "$TEST_TMP/plan.json"
	assert_contains "$ERR" "$first"
	assert_contains "$ERR" "$second"
	[ ! -e "$WWW/fullchain.pem" ] || fail "a refused plan deployed something"
	[ ! -e "$CERTOPS_STATE/source/last-applied" ] || fail "a refused plan recorded a commit"

	run_certops 0 apply --force-commit "$TEST_TMP/plan.json"
	assert_contains "$OUT" "Apply complete"
	assert_eq "DNS:www.example.com,DNS:example.com" "$(sans "$WWW/fullchain.pem")" "SANs"
	assert_eq "$second" "$(cat "$CERTOPS_STATE/source/last-applied")" "last applied commit"

	# apply --repo plans and applies at the commit; --json names it.
	run_certops 0 apply --repo "$REPO" --json
	printf '%s\n' "$OUT" >"$TEST_TMP/apply.json"
	assert_eq "$second" "$(json_get "$TEST_TMP/apply.json" plan.source.commit)" "apply --json commit"
	assert_eq True "$(json_get "$TEST_TMP/apply.json" converged)" "converged"

	# The local-directory path is unchanged: no source in the plan.
	run_certops 0 plan --json "$TEST_TMP/work"
	assert_not_contains "$OUT" '"source"'
}

test_failing_certificate_backs_off_and_notifies_once() {
	setup_gitops
	mkdir -p "$TEST_TMP/webroot"
	# Nothing serves this webroot: Pebble's http-01 check of bad fails.
	add_certificate bad bad.example.com "{webroot: $TEST_TMP/webroot}"
	git_commit "a certificate that cannot validate"
	python3 "$TOP/tests/tools/webhook_sink.py" "$TEST_TMP/port" "$TEST_TMP/hooks" &
	echo $! >>"$TEST_PIDS"
	wait_for 20 test -s "$TEST_TMP/port" || fail "webhook sink did not start"
	local url backoff="$CERTOPS_STATE/reconcile/backoff.json" now
	url="http://127.0.0.1:$(cat "$TEST_TMP/port")/hook"

	now=$(date +%s)
	reconcile 1 --notify-url "$url" --retry-backoff 1h
	assert_contains "$OUT" "issue:www: done"
	assert_match "$OUT" "issue:bad: (FAILED|skipped)"
	assert_contains "$OUT" "reconcile: 2 certificates, 1 failed"
	assert_eq "DNS:www.example.com,DNS:example.com" "$(sans "$WWW/fullchain.pem")" "www deployed"
	[ ! -e "$TEST_TMP/bad/fullchain.pem" ] || fail "bad was deployed"
	assert_eq 1 "$(json_get "$backoff" bad.failures)" "failures recorded"
	[ "$(json_get "$backoff" bad.nextAttempt)" -ge $((now + 3600)) ] || fail "next attempt not an hour away"
	assert_contains "$(cat "$TEST_TMP/m.prom")" 'certops_certificate_last_result{certificate="bad"} 0'
	assert_contains "$(cat "$TEST_TMP/m.prom")" 'certops_certificate_last_result{certificate="www"} 1'
	assert_contains "$(cat "$TEST_TMP/m.prom")" 'certops_certificate_consecutive_failures{certificate="bad"} 1'
	assert_eq partial "$(json_get "$CERTOPS_STATE/reconcile/status.json" result)" "status result"
	# the commit is recorded: www is deployed from it
	assert_eq "$(head_of)" "$(cat "$CERTOPS_STATE/source/last-applied")" "last applied"

	# The next cycle does not retry bad: it waits out its backoff.
	reconcile 1 --notify-url "$url" --retry-backoff 1h
	assert_not_contains "$OUT" "issue:bad"
	assert_contains "$OUT" "waiting out a retry backoff"
	assert_contains "$OUT" "0 failed, 1 waiting out a retry backoff"
	assert_eq 1 "$(json_get "$backoff" bad.failures)" "failures unchanged while waiting"
	run_certops 0 status "$TEST_TMP/work"
	assert_match "$OUT" "bad: backoff, 1 failure in a row, next attempt"

	# Once the time has come (moved here, not waited for), bad is tried
	# again and the delay doubles.
	python3 - "$backoff" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["bad"]["nextAttempt"] = 1
json.dump(d, open(sys.argv[1], "w"))
PY
	now=$(date +%s)
	reconcile 1 --notify-url "$url" --retry-backoff 1h
	assert_match "$OUT" "issue:bad: (FAILED|skipped)"
	assert_eq 2 "$(json_get "$backoff" bad.failures)" "failures after the retry"
	[ "$(json_get "$backoff" bad.nextAttempt)" -ge $((now + 7200)) ] || fail "backoff did not double"

	# Exactly one notification across the three cycles: bad failing.
	assert_eq 1 "$(wc -l <"$TEST_TMP/hooks")" "notifications"
	assert_contains "$(cat "$TEST_TMP/hooks")" '"subject":"certificate/bad"'
	assert_contains "$(cat "$TEST_TMP/hooks")" '"status":"failing"'
	assert_contains "$(cat "$TEST_TMP/hooks")" "\"commit\":\"$(head_of)\""

	# The broken certificate is removed in a new commit: it recovers (one
	# more notification) and the cycle is healthy again.
	python3 - "$TEST_TMP/work/certops.yaml" <<'PY'
import sys
p = sys.argv[1]
docs = open(p).read().split("\n---\n")
open(p, "w").write("\n---\n".join(d for d in docs if "name: bad" not in d) + "\n")
PY
	git_commit "drop bad"
	reconcile 0 --notify-url "$url"
	assert_eq 2 "$(wc -l <"$TEST_TMP/hooks")" "notifications after the fix"
	assert_contains "$(tail -n1 "$TEST_TMP/hooks")" '"status":"recovered"'
	assert_eq "{}" "$(tr -d ' \n' <"$backoff")" "backoff forgotten"
}

run_tests "$@"
