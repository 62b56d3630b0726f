#!/usr/bin/env bash
# Integration tests of the verify: tls probe (lib/observe/tls_probe.c)
# against a real nginx (tests/integration/lib/nginx.sh), through
# build/tools/tls_probe_tool: served, stale after a certificate change
# until the reload, served again after it, foreign, unreachable.
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/nginx.sh"

# A self-signed certificate NAME.pem / NAME.key in $TEST_TMP.
mkcert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TEST_TMP/$1.key" -out "$TEST_TMP/$1.pem" -days 2 \
		-subj "/CN=$1.example.test" -addext "subjectAltName=DNS:$1.example.test" \
		>/dev/null 2>&1
}

# The SHA-256 of a certificate's DER, lowercase hex without separators.
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }

probe() { # expected-exit args...
	local want=$1
	shift
	assert_exit "$want" "$TOOLS/tls_probe_tool" "$@"
	assert_not_contains "$ERR" "Sanitizer" "stderr"
	assert_not_contains "$ERR" "runtime error:" "stderr"
}

fact() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p" | head -n 1; }

test_served_stale_served_after_reload() {
	mkcert old
	mkcert new
	cp "$TEST_TMP/old.pem" "$TEST_TMP/live.pem"
	cp "$TEST_TMP/old.key" "$TEST_TMP/live.key"
	nginx_start "$TEST_TMP/live.pem" "$TEST_TMP/live.key"
	local old new
	old=$(fp "$TEST_TMP/old.pem")
	new=$(fp "$TEST_TMP/new.pem")

	probe 0 --sni old.example.test "127.0.0.1:$NGINX_PORT" "$old"
	assert_eq served "$(fact status)"
	assert_eq "$old" "$(fact fingerprint)"

	# New files on disk, no reload yet: the endpoint still serves the old one.
	cp "$TEST_TMP/new.pem" "$TEST_TMP/live.pem"
	cp "$TEST_TMP/new.key" "$TEST_TMP/live.key"
	probe 1 --sni new.example.test "127.0.0.1:$NGINX_PORT" "$new" "$old"
	assert_eq stale "$(fact status)"
	assert_eq "$old" "$(fact fingerprint)"

	# After the reload, the retry window sees the new one served.
	nginx_reload
	probe 0 --wait 10000 --sni new.example.test "127.0.0.1:$NGINX_PORT" "$new" "$old"
	assert_eq served "$(fact status)"
	assert_eq "$new" "$(fact fingerprint)"
	# Fingerprints are compared without regard to case or ':'.
	local colons
	colons=$(openssl x509 -in "$TEST_TMP/new.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
	# (with the window too: an old worker may still take a connection)
	probe 0 --wait 10000 "127.0.0.1:$NGINX_PORT" "$colons" "$old"
}

test_foreign() {
	mkcert mine
	mkcert other
	nginx_start "$TEST_TMP/other.pem" "$TEST_TMP/other.key"
	probe 1 --sni mine.example.test "127.0.0.1:$NGINX_PORT" "$(fp "$TEST_TMP/mine.pem")"
	assert_eq foreign "$(fact status)"
	assert_eq "$(fp "$TEST_TMP/other.pem")" "$(fact fingerprint)"
}

test_unreachable_closed_port() {
	local port
	port=$("$TOOLS/freeport")
	probe 1 "127.0.0.1:$port" 00
	assert_eq unreachable "$(fact status)"
	assert_contains "$(fact error)" "connect 127.0.0.1:$port: Connection refused"
	assert_eq "" "$(fact fingerprint)"
}

test_unreachable_not_tls() {
	# A plain TCP listener that closes at once: the handshake fails.
	local port
	port=$("$TOOLS/freeport")
	python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
while True:
    c, _ = s.accept(); c.sendall(b"HTTP/1.0 400 no\r\n\r\n"); c.close()
' "$port" &
	local pid=$!
	on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
	probe 1 "127.0.0.1:$port" 00
	assert_eq unreachable "$(fact status)"
	assert_contains "$(fact error)" "tls handshake with 127.0.0.1:$port"
}

test_bad_connect_string() {
	probe 1 "no-port-here" 00
	assert_eq unreachable "$(fact status)"
	assert_contains "$(fact error)" "'no-port-here' is not host:port"
}

run_tests "$@"
