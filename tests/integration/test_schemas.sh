#!/bin/sh
# Declarations end to end: the JSON Schemas agree with the C validator on
# the corpora and examples, and `certops validate` prints, formats and exits
# as documented.  Each test_* function is run by tests/run.sh (testlib);
# run this file directly to run them all without the harness.

_root=$(cd "$(dirname "$0")/../.." && pwd)
_build=${BUILD:-build}
case $_build in /*) ;; *) _build="$_root/$_build" ;; esac

# Debian's python3 has python3-yaml and python3-jsonschema; a python3 found
# first on PATH (pyenv, venv) may not.
_python() {
	if /usr/bin/python3 -c 'import yaml, jsonschema' 2>/dev/null; then
		/usr/bin/python3 "$@"
	else
		python3 "$@"
	fi
}

_fail() {
	echo "FAIL: $*" >&2
	return 1
}

test_schemas_agree_with_validator() {
	_python "$_root/tests/schemas/check_schemas.py" "$_root"
}

test_validate_examples() {
	"$_build/certops" validate "$_root/examples/quickstart" >/dev/null ||
		_fail "quickstart does not validate"
	"$_build/certops" validate --policy "$_root/examples/policies/multi-team.yaml" \
		"$_root/examples/multi-team" >/dev/null ||
		_fail "multi-team does not validate with its policy"
}

# A policy that allows every path (the corpus writes under /etc/ssl).
_open_policy() {
	printf 'writeRoots: [/]\n' >"$1"
}

test_validate_bad_file_output() {
	tmp=$(mktemp -d)
	mkdir "$tmp/repo"
	_open_policy "$tmp/policy.yaml"
	cp "$_root/tests/unit/config/corpus/bad/unknown_issuer_near.yaml" "$tmp/repo/certs.yaml"
	out=$(cd "$tmp/repo" && "$_build/certops" validate --policy ../policy.yaml 2>/dev/null)
	rc=$?
	rm -rf "$tmp"
	[ "$rc" -eq 65 ] || _fail "exit $rc, expected 65" || return 1
	[ "$out" = "certs.yaml:9:9: issuer: unknown issuer 'lee'; did you mean 'le'?" ] ||
		_fail "unexpected output: $out"
}

test_validate_json() {
	tmp=$(mktemp -d)
	mkdir "$tmp/repo"
	_open_policy "$tmp/policy.yaml"
	cp "$_root/tests/unit/config/corpus/bad/files_mode_integer.yaml" "$tmp/repo/a.yaml"
	"$_build/certops" validate --json --policy "$tmp/policy.yaml" "$tmp/repo" \
		>"$tmp/out.json" 2>/dev/null
	rc=$?
	_python - "$tmp/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 1, d
e = d[0]
assert e["file"].endswith("/a.yaml"), e
assert (e["line"], e["column"]) == (14, 38), e
assert e["field"] == "deploy[0].files.mode", e
assert "quote file modes" in e["message"], e
PY
	py=$?
	rm -rf "$tmp"
	[ "$rc" -eq 65 ] || _fail "exit $rc, expected 65" || return 1
	[ "$py" -eq 0 ] || _fail "JSON output does not match"
}

test_validate_usage_and_policy() {
	"$_build/certops" validate a b >/dev/null 2>&1
	[ $? -eq 64 ] || _fail "two directories: expected exit 64" || return 1
	# Without --policy the built-in default applies: the multi-team example
	# writes outside its roots and runs commands, so it is refused.
	"$_build/certops" validate "$_root/examples/multi-team" >/dev/null 2>&1
	[ $? -eq 65 ] || _fail "default policy: expected exit 65" || return 1
	"$_build/certops" validate --policy /nonexistent/policy.yaml \
		"$_root/examples/quickstart" >/dev/null 2>&1
	[ $? -eq 65 ] || _fail "missing policy file: expected exit 65"
}

if [ "$(basename "$0")" = "test_schemas.sh" ]; then
	failed=0
	for t in $(sed -n 's/^\(test_[a-z0-9_]*\)() {$/\1/p' "$0"); do
		if ( $t ); then echo "ok   $t"; else echo "FAIL $t"; failed=1; fi
	done
	exit $failed
fi
