# shellcheck shell=bash
# sshd.sh: a throwaway OpenSSH server on a loopback port, for tests of Git
# over ssh://.  Source it after testlib.sh.
#
#   sshd_start   generates a host key and a client key under $TEST_TMP/sshd,
#                starts /usr/sbin/sshd on a free port (key auth only, the
#                current user), and exports SSHD_PORT, SSHD_CLIENT_KEY,
#                SSHD_HOST_PUB (the host key, "type base64") and SSHD_USER.
#                The server is stopped when the test ends.
# Needs the openssh-server package; tests call sshd_available first and skip
# (pass, with a note) when it is missing.

sshd_available() { [ -x /usr/sbin/sshd ]; }

sshd_start() {
	local d="$TEST_TMP/sshd" port pid
	mkdir -p "$d"
	chmod 700 "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$d/client_key"
	cp "$d/client_key.pub" "$d/authorized_keys"
	# Privilege separation wants this directory when sshd runs as root.
	if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then
		mkdir -m 755 /run/sshd
	fi
	port=$("$TOOLS/freeport")
	cat >"$d/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
CONF
	/usr/sbin/sshd -D -e -f "$d/sshd_config" 2>"$d/log" &
	pid=$!
	echo "$pid" >>"$TEST_PIDS"
	on_exit "kill $pid 2>/dev/null || true"
	SSHD_PORT=$port
	SSHD_CLIENT_KEY="$d/client_key"
	SSHD_HOST_PUB=$(cut -d' ' -f1,2 "$d/host_key.pub")
	SSHD_USER=$(id -un)
	export SSHD_PORT SSHD_CLIENT_KEY SSHD_HOST_PUB SSHD_USER
	wait_for 20 ssh -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -i "$SSHD_CLIENT_KEY" -p "$port" \
		"$SSHD_USER@127.0.0.1" true || {
		cat "$d/log" >&2
		fail "sshd did not start"
	}
}
