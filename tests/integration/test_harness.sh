#!/usr/bin/env bash
# The Pebble harness itself: it starts a real CA, hands out what tests need,
# honours its knobs, and leaves no process or port behind.
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/pebble.sh"

dir_json() { curl -sf --cacert "$PEBBLE_CA_BUNDLE" "$PEBBLE_DIRECTORY"; }

test_pebble_answers_with_its_ca_bundle() {
	pebble_start
	local d
	d=$(dir_json)
	assert_contains "$d" '"newOrder"'
	assert_contains "$d" '"newAccount"'
	assert_match "$PEBBLE_DIRECTORY" '^https://127\.0\.0\.1:[0-9]+/dir$'
	# Verification is real: without the bundle, TLS fails.
	if curl -sf -o /dev/null "$PEBBLE_DIRECTORY"; then
		fail "Pebble's certificate verified without the test CA bundle"
	fi
	# Pebble's issuing root is reachable on the management port.
	pebble_root 0 | openssl x509 -noout -subject >/dev/null ||
		fail "no root at $PEBBLE_MGMT/roots/0"
}

test_eab_knob() {
	pebble_start --eab
	assert_contains "$(dir_json)" '"externalAccountRequired": true'
	pebble_stop
	pebble_start
	assert_not_contains "$(dir_json)" '"externalAccountRequired": true'
}

test_alternate_roots_knob() {
	pebble_start --alt-roots 2
	pebble_root 1 | openssl x509 -noout >/dev/null || fail "no alternate root 1"
	pebble_root 2 | openssl x509 -noout >/dev/null || fail "no alternate root 2"
}

test_knobs_reach_pebble() {
	pebble_start --nonce-reject 100 --authz-reuse 0
	# Pebble reports each knob it took at start-up.
	local log
	log=$(cat "$PEBBLE_DIR/pebble.log")
	assert_contains "$log" "Configured to reject 100% of good nonces"
	assert_contains "$log" "authz reuse for each identifier 0% of the time"
	assert_contains "$log" "Disabling random VA sleeps"
	assert_contains "$log" "Using custom DNS resolver for ACME challenges: $CHALLTEST_DNS"
	pebble_stop
	pebble_start --sleep --always-valid
	log=$(cat "$PEBBLE_DIR/pebble.log")
	assert_not_contains "$log" "Disabling random VA sleeps"
	assert_not_contains "$log" "reject 100%"
}

# Pebble's DNS (challtestsrv) answers every A query with 127.0.0.1, so any
# name validates against this host; TXT records can be set for dns-01.
test_names_resolve_to_loopback() {
	pebble_start
	local answer
	answer=$(python3 - "$CHALLTEST_DNS" <<'PY'
import socket, struct, sys
host, port = sys.argv[1].rsplit(":", 1)
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
for label in "www.anything.example".split("."):
    q += bytes([len(label)]) + label.encode()
q += b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(q, (host, int(port)))
r, _ = s.recvfrom(512)
ancount = struct.unpack(">H", r[6:8])[0]
i = len(q)                      # the answer follows the echoed question
while True:                     # skip the answer's owner name
    if r[i] & 0xC0:
        i += 2
        break
    if r[i] == 0:
        i += 1
        break
    i += r[i] + 1
typ, cls, ttl, rdlen = struct.unpack(">HHIH", r[i:i + 10])
print(ancount, socket.inet_ntoa(r[i + 10:i + 10 + rdlen]) if typ == 1 else typ)
PY
)
	assert_eq "1 127.0.0.1" "$answer" "A answer"
	curl -sf -X POST -d '{"host":"_acme-challenge.x.test.","value":"abc"}' \
		"$CHALLTEST_MGMT/set-txt" >/dev/null || fail "challtestsrv set-txt failed"
}

# Several starts in a row: no process and no port left behind.
test_back_to_back_leave_nothing() {
	local i pids=() ports=()
	for i in 1 2 3; do
		pebble_start
		pids+=("$PEBBLE_PID" "$CHALLTEST_PID")
		ports+=("${PEBBLE_DIRECTORY#https://127.0.0.1:}")
		pebble_stop
	done
	for i in "${pids[@]}"; do
		if kill -0 "$i" 2>/dev/null; then fail "process $i still running"; fi
	done
	for i in "${ports[@]}"; do
		if curl -s -o /dev/null --max-time 2 --cacert /dev/null "https://127.0.0.1:${i%/dir}/"; then
			fail "port ${i%/dir} still answers"
		fi
	done
}

# A test that fails (or is killed) still stops its Pebble.
# Writes an inner test file whose one test starts Pebble, records its pids
# in $TEST_TMP/pids, then runs $1.
inner_test() {
	cat >"$TEST_TMP/inner.sh" <<EOS
. "$TOP/tests/integration/lib/testlib.sh"
. "$TOP/tests/integration/lib/pebble.sh"
test_inner() { pebble_start; echo "\$PEBBLE_PID \$CHALLTEST_PID" >"$TEST_TMP/pids"; $1; }
run_tests "\$@"
EOS
}

test_cleanup_after_failure() {
	local marker=$TEST_TMP/pids
	inner_test false
	( unset TEST_RESULTS; bash "$TEST_TMP/inner.sh" >"$TEST_TMP/inner.log" 2>&1 ) &&
		fail "the inner failing test passed"
	assert_contains "$(cat "$TEST_TMP/inner.log")" "FAIL  inner.sh test_inner"
	local p
	[ -s "$marker" ] || fail "the inner test did not start Pebble"
	for p in $(cat "$marker"); do
		if kill -0 "$p" 2>/dev/null; then fail "process $p leaked after a failing test"; fi
	done
}

test_cleanup_after_timeout() {
	local marker=$TEST_TMP/pids
	inner_test "sleep 60"
	( unset TEST_RESULTS; TEST_TIMEOUT=4 bash "$TEST_TMP/inner.sh" >"$TEST_TMP/inner.log" 2>&1 ) &&
		fail "the inner hanging test passed"
	assert_contains "$(cat "$TEST_TMP/inner.log")" "timed out after 4s"
	local p
	[ -s "$marker" ] || fail "the inner test did not start Pebble"
	for p in $(cat "$marker"); do
		if kill -0 "$p" 2>/dev/null; then fail "process $p leaked after a timeout"; fi
	done
}

run_tests "$@"
