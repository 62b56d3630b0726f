# shellcheck shell=bash
# vault.sh: the Vault stand-in (tests/tools/vault_standin.py, a small
# python3 server implementing the documented KV v2 / token / AppRole
# endpoints certops uses; Vault is not packaged for Debian) over TLS on a
# loopback port chosen by the kernel, with a throwaway CA.
# Always stopped: vault_start registers vault_stop with on_exit, and the
# process group is recorded in $TEST_PIDS for the runner's sweep.
#
#   vault_start [--namespace NS] [--approle ROLE:SECRET]
#   vault_race N       the next N KV writes find another writer was first
#   vault_requests     the request log (JSON lines; never token values)
#   vault_stop
#
# Exports VAULT_ADDR, VAULT_CA_BUNDLE, VAULT_TEST_TOKEN (write access),
# VAULT_TEST_RO_TOKEN (read only), VAULT_STANDIN_LOG.

vault_start() {
	local ns="" approle="" i
	while [ $# -gt 0 ]; do
		case "$1" in
		--namespace) ns=$2; shift ;;
		--approle) approle=$2; shift ;;
		*) echo "vault_start: unknown option $1" >&2; return 64 ;;
		esac
		shift
	done
	VAULT_DIR=$(mktemp -d "${TEST_TMP:-/tmp}/vault.XXXXXX")
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$VAULT_DIR/ca.key" -out "$VAULT_DIR/ca.pem" -days 2 \
		-subj "/CN=certops test CA for the vault stand-in $$" >/dev/null 2>&1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$VAULT_DIR/server.key" -out "$VAULT_DIR/server.csr" \
		-subj "/CN=localhost" >/dev/null 2>&1
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$VAULT_DIR/ext.cnf"
	openssl x509 -req -in "$VAULT_DIR/server.csr" -CA "$VAULT_DIR/ca.pem" -CAkey "$VAULT_DIR/ca.key" \
		-CAcreateserial -days 2 -extfile "$VAULT_DIR/ext.cnf" -out "$VAULT_DIR/server.pem" >/dev/null 2>&1 ||
		{ echo "vault_start: openssl failed" >&2; return 1; }
	VAULT_TEST_TOKEN="hvs.test-$RANDOM$RANDOM$RANDOM"
	VAULT_TEST_RO_TOKEN="hvs.readonly-$RANDOM$RANDOM$RANDOM"
	VAULT_STANDIN_LOG="$VAULT_DIR/requests.log"
	on_exit vault_stop
	local args=(--cert "$VAULT_DIR/server.pem" --key "$VAULT_DIR/server.key"
		--port-file "$VAULT_DIR/port" --log "$VAULT_STANDIN_LOG"
		--token "$VAULT_TEST_TOKEN" --read-only-token "$VAULT_TEST_RO_TOKEN")
	[ -z "$ns" ] || args+=(--namespace "$ns")
	[ -z "$approle" ] || args+=(--approle "$approle")
	setsid python3 "$TOP/tests/tools/vault_standin.py" "${args[@]}" \
		>"$VAULT_DIR/stdout.log" 2>&1 </dev/null &
	VAULT_PID=$!
	[ -z "${TEST_PIDS:-}" ] || echo "$VAULT_PID" >>"$TEST_PIDS"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$VAULT_PID" 2>/dev/null || break
		if [ -s "$VAULT_DIR/port" ]; then
			VAULT_ADDR="https://127.0.0.1:$(cat "$VAULT_DIR/port")"
			VAULT_CA_BUNDLE="$VAULT_DIR/ca.pem"
			export VAULT_ADDR VAULT_CA_BUNDLE VAULT_TEST_TOKEN VAULT_TEST_RO_TOKEN VAULT_STANDIN_LOG
			return 0
		fi
		sleep 0.1
	done
	echo "vault_start: the stand-in did not start:" >&2
	cat "$VAULT_DIR/stdout.log" >&2
	vault_stop
	return 1
}

vault_race() {
	curl -sf --cacert "$VAULT_CA_BUNDLE" -X POST -d "{\"count\": $1}" \
		"$VAULT_ADDR/_standin/race" >/dev/null
}

vault_requests() { cat "$VAULT_STANDIN_LOG"; }

vault_stop() {
	local i
	[ -n "${VAULT_PID:-}" ] || return 0
	kill -TERM -- "-$VAULT_PID" 2>/dev/null || kill -TERM "$VAULT_PID" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$VAULT_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$VAULT_PID" 2>/dev/null || true
	wait "$VAULT_PID" 2>/dev/null || true
	VAULT_PID=
}
