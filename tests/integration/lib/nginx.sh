# shellcheck shell=bash
# nginx.sh: a real nginx (Debian's nginx-light) for the deploy tests, on a
# free loopback port, in the foreground (daemon off) under its own process
# group, with everything (config, pid file, logs, temp dirs) in $TEST_TMP.
# Always stopped: nginx_start registers nginx_stop with on_exit, and the
# process group is recorded in $TEST_PIDS for the runner's sweep.
#
#   nginx_start CERT KEY   serves CERT/KEY over TLS on 127.0.0.1:$NGINX_PORT
#   nginx_reload           `nginx -s reload` (graceful: old workers finish)
#   nginx_stop
#
# Exports NGINX_PORT, NGINX_PREFIX, NGINX_CONF, NGINX_PID and NGINX_ARGS
# (the "-p PREFIX -c CONF -e LOG" options, for a hook that runs nginx -t
# or nginx -s reload against this instance).

nginx_start() {
	local cert=$1 key=$2 attempt i
	NGINX_PREFIX=$(mktemp -d "${TEST_TMP:-/tmp}/nginx.XXXXXX")
	NGINX_CONF="$NGINX_PREFIX/nginx.conf"
	mkdir -p "$NGINX_PREFIX/logs" "$NGINX_PREFIX/tmp"
	on_exit nginx_stop
	for attempt in 1 2 3; do
		NGINX_PORT=$("$TOOLS/freeport")
		cat >"$NGINX_CONF" <<CONF
daemon off;
master_process on;
worker_processes 1;
pid $NGINX_PREFIX/nginx.pid;
error_log $NGINX_PREFIX/logs/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $NGINX_PREFIX/tmp/body;
    proxy_temp_path $NGINX_PREFIX/tmp/proxy;
    fastcgi_temp_path $NGINX_PREFIX/tmp/fastcgi;
    uwsgi_temp_path $NGINX_PREFIX/tmp/uwsgi;
    scgi_temp_path $NGINX_PREFIX/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        server_name _;
        ssl_certificate $cert;
        ssl_certificate_key $key;
        location / { return 200 "certops nginx test\n"; }
    }
}
CONF
		NGINX_ARGS="-p $NGINX_PREFIX -c $NGINX_CONF -e $NGINX_PREFIX/logs/error.log"
		# shellcheck disable=SC2086
		setsid nginx $NGINX_ARGS >"$NGINX_PREFIX/logs/stdout.log" 2>&1 </dev/null &
		NGINX_PID=$!
		[ -z "${TEST_PIDS:-}" ] || echo "$NGINX_PID" >>"$TEST_PIDS"
		export NGINX_PORT NGINX_PREFIX NGINX_CONF NGINX_PID NGINX_ARGS
		for ((i = 0; i < 100; i++)); do
			kill -0 "$NGINX_PID" 2>/dev/null || break
			if curl -sk -o /dev/null "https://127.0.0.1:$NGINX_PORT/"; then
				return 0
			fi
			sleep 0.1
		done
		echo "nginx_start: attempt $attempt failed:" >&2
		tail -n 5 "$NGINX_PREFIX/logs/error.log" "$NGINX_PREFIX/logs/stdout.log" >&2 || true
		nginx_stop
	done
	return 1
}

nginx_reload() {
	# shellcheck disable=SC2086
	nginx $NGINX_ARGS -s reload
}

nginx_stop() {
	local i
	[ -n "${NGINX_PID:-}" ] || return 0
	kill -QUIT "$NGINX_PID" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$NGINX_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$NGINX_PID" 2>/dev/null || true
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=
}
