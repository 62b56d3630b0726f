# pebble.sh: start Debian's pebble (and pebble-challtestsrv as its DNS) on
# free loopback ports for one test, and always stop them.
#
#   pebble_start [--eab] [--always-valid] [--sleep] [--nonce-reject PCT]
#                [--alt-roots N] [--chain-length N] [--authz-reuse PCT]
#
# Exports, for the test:
#   PEBBLE_DIRECTORY   https://127.0.0.1:PORT/dir
#   PEBBLE_CA_BUNDLE   PEM of the throwaway CA that signed Pebble's HTTPS cert
#   PEBBLE_MGMT        https://127.0.0.1:PORT (roots at /roots/N, intermediates at /intermediates/N)
#   PEBBLE_HTTP_PORT   where Pebble's VA connects for http-01
#   PEBBLE_TLS_PORT    where Pebble's VA connects for tls-alpn-01
#   PEBBLE_EAB_KID, PEBBLE_EAB_HMAC   an EAB key Pebble knows (with --eab it is required)
#   CHALLTEST_MGMT     http://127.0.0.1:PORT (challtestsrv: /set-txt, /clear-txt, ...)
#   CHALLTEST_DNS      127.0.0.1:PORT, the DNS server Pebble resolves names with
#   PEBBLE_DIR         the working folder (config, certs, pebble.log)
#
# Every name resolves to 127.0.0.1 (challtestsrv's default A answer; AAAA is
# off), so http-01 and tls-alpn-01 validation of any name reach this host.
# By default the VA does not sleep before validating (PEBBLE_VA_NOSLEEP=1);
# --sleep restores Pebble's random delay.  pebble_stop runs by itself when
# the test ends (on_exit), and the runner kills the process groups recorded
# in $TEST_PIDS whatever happens.

PEBBLE_EAB_KID=kid-1
PEBBLE_EAB_HMAC=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W

_pebble_certs() {
	local d=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
		-subj "/CN=certops test CA for pebble $$" >/dev/null 2>&1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/server.key" -out "$d/server.csr" \
		-subj "/CN=localhost" >/dev/null 2>&1
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		-CAcreateserial -days 2 -extfile "$d/ext.cnf" -out "$d/server.pem" >/dev/null 2>&1
}

# Starts a command in its own session (so its whole group can be killed)
# and records the group in $TEST_PIDS.  Sets SPAWNED_PID.  Not run in a
# $(...) subshell, so the process stays our child and `wait` reaps it.
_spawn() {
	local log=$1
	shift
	setsid "$@" >"$log" 2>&1 </dev/null &
	SPAWNED_PID=$!
	[ -z "${TEST_PIDS:-}" ] || echo "$SPAWNED_PID" >>"$TEST_PIDS"
}

pebble_start() {
	local eab=false env=(PEBBLE_VA_NOSLEEP=1) attempt ports
	while [ $# -gt 0 ]; do
		case "$1" in
		--eab) eab=true ;;
		--always-valid) env+=(PEBBLE_VA_ALWAYS_VALID=1) ;;
		--sleep) env=("${env[@]/PEBBLE_VA_NOSLEEP=1/PEBBLE_VA_NOSLEEP=0}") ;;
		--nonce-reject) env+=("PEBBLE_WFE_NONCEREJECT=$2"); shift ;;
		--alt-roots) env+=("PEBBLE_ALTERNATE_ROOTS=$2"); shift ;;
		--chain-length) env+=("PEBBLE_CHAIN_LENGTH=$2"); shift ;;
		--authz-reuse) env+=("PEBBLE_AUTHZREUSE=$2"); shift ;;
		*) echo "pebble_start: unknown option $1" >&2; return 64 ;;
		esac
		shift
	done

	PEBBLE_DIR=$(mktemp -d "${TEST_TMP:-/tmp}/pebble.XXXXXX")
	_pebble_certs "$PEBBLE_DIR" || { echo "pebble_start: openssl failed" >&2; return 1; }
	on_exit pebble_stop

	# A port picked free can be taken before pebble binds it: retry.
	for attempt in 1 2 3; do
		ports=($("$TOOLS/freeport" 6))
		local listen=${ports[0]} mgmt=${ports[1]} http=${ports[2]} tls=${ports[3]}
		local dns=${ports[4]} ctmgmt=${ports[5]}
		cat >"$PEBBLE_DIR/config.json" <<JSON
{
  "pebble": {
    "listenAddress": "127.0.0.1:$listen",
    "managementListenAddress": "127.0.0.1:$mgmt",
    "certificate": "$PEBBLE_DIR/server.pem",
    "privateKey": "$PEBBLE_DIR/server.key",
    "httpPort": $http,
    "tlsPort": $tls,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": $eab,
    "externalAccountMACKeys": { "$PEBBLE_EAB_KID": "$PEBBLE_EAB_HMAC" }
  }
}
JSON
		_spawn "$PEBBLE_DIR/challtestsrv.log" pebble-challtestsrv \
			-dns01 "127.0.0.1:$dns" -http01 "" -https01 "" -tlsalpn01 "" \
			-management "127.0.0.1:$ctmgmt" -defaultIPv6 ""
		CHALLTEST_PID=$SPAWNED_PID
		_spawn "$PEBBLE_DIR/pebble.log" env "${env[@]}" \
			pebble -config "$PEBBLE_DIR/config.json" -dnsserver "127.0.0.1:$dns"
		PEBBLE_PID=$SPAWNED_PID
		export PEBBLE_DIRECTORY="https://127.0.0.1:$listen/dir"
		export PEBBLE_CA_BUNDLE="$PEBBLE_DIR/ca.pem"
		export PEBBLE_MGMT="https://127.0.0.1:$mgmt"
		export PEBBLE_HTTP_PORT=$http PEBBLE_TLS_PORT=$tls
		export PEBBLE_EAB_KID PEBBLE_EAB_HMAC PEBBLE_DIR
		export CHALLTEST_MGMT="http://127.0.0.1:$ctmgmt" CHALLTEST_DNS="127.0.0.1:$dns"
		if _pebble_wait; then
			return 0
		fi
		echo "pebble_start: attempt $attempt failed:" >&2
		tail -n 5 "$PEBBLE_DIR/pebble.log" "$PEBBLE_DIR/challtestsrv.log" >&2
		pebble_stop
	done
	return 1
}

_pebble_wait() {
	local i
	for ((i = 0; i < 150; i++)); do
		kill -0 "$PEBBLE_PID" 2>/dev/null || return 1
		kill -0 "$CHALLTEST_PID" 2>/dev/null || return 1
		if curl -sf --cacert "$PEBBLE_CA_BUNDLE" -o /dev/null "$PEBBLE_DIRECTORY" &&
			curl -s -o /dev/null "$CHALLTEST_MGMT/"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# Stops pebble and challtestsrv (their whole process groups) and waits
# until they are gone.  Safe to call twice.
pebble_stop() {
	local pid i
	for pid in ${PEBBLE_PID:-} ${CHALLTEST_PID:-}; do
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in ${PEBBLE_PID:-} ${CHALLTEST_PID:-}; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	PEBBLE_PID= CHALLTEST_PID=
}

# Prints Pebble's root N (PEM) from its management interface.
pebble_root() {
	curl -sf --cacert "$PEBBLE_CA_BUNDLE" "$PEBBLE_MGMT/roots/${1:-0}"
}

# pebble_quickstart WWW-DIR [pebble_start args]: a Pebble, and the
# quickstart declarations in $DECL deploying under WWW-DIR, with the
# environment the quickstart reads (directory, CA bundle, responder) set;
# $POLICY allows writes under $TEST_TMP.
pebble_quickstart() {
	local www=$1
	shift
	pebble_start "$@"
	export CERTOPS_ACME_DIRECTORY="$PEBBLE_DIRECTORY"
	export CERTOPS_ACME_CA_BUNDLE="$PEBBLE_CA_BUNDLE"
	export CERTOPS_HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP_PORT"
	DECL="$TEST_TMP/decl"
	mkdir -p "$DECL"
	sed "s#/tmp/certops-demo/quickstart/www#$www#" "$TOP/examples/quickstart/certops.yaml" \
		>"$DECL/certops.yaml"
	POLICY="$TEST_TMP/policy.yaml"
	printf 'writeRoots: [%s]\n' "$TEST_TMP" >"$POLICY"
}
