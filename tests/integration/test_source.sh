#!/usr/bin/env bash
# The Git source (lib/source) through `certops reconcile --once --repo`:
# real repositories made here (a work tree and a bare remote over file://).
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/sshd.sh"

export GIT_AUTHOR_NAME=ops GIT_AUTHOR_EMAIL=ops@example.com
export GIT_COMMITTER_NAME=ops GIT_COMMITTER_EMAIL=ops@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME="${TEST_TMP:-/tmp}"

# A work tree with the quickstart declaration, pushed to a bare remote.
mkremote() {
	git init -q -b main "$TEST_TMP/work"
	cp "$TOP/examples/quickstart/certops.yaml" "$TEST_TMP/work/"
	git -C "$TEST_TMP/work" add -A
	git -C "$TEST_TMP/work" commit -qm "first certificate"
	git init -q --bare -b main "$TEST_TMP/remote.git"
	git -C "$TEST_TMP/work" remote add origin "$TEST_TMP/remote.git"
	git -C "$TEST_TMP/work" push -q origin main
	REPO="file://$TEST_TMP/remote.git"
	STATE="$TEST_TMP/state"
}

# Adds a certificate named $1 in a new commit and pushes it.
add_cert() {
	cat >>"$TEST_TMP/work/certops.yaml" <<EOF
---
kind: Certificate
name: $1
issuer: pebble
domains: [$1.example.com]
challenge:
  http01: {listen: "127.0.0.1:5002"}
deploy:
  - files: {dir: /tmp/certops-demo/quickstart/$1, fullchain: fullchain.pem, key: privkey.pem}
EOF
	git -C "$TEST_TMP/work" commit -qam "add $1" "${@:2}"
	git -C "$TEST_TMP/work" push -q -f origin HEAD:main
}

head_of() { git -C "$TEST_TMP/work" rev-parse "${1:-HEAD}"; }

# --plan-only: these tests are about the source; test_gitops.sh applies.
reconcile() { "$CERTOPS" reconcile --once --plan-only --state "$STATE" --repo "$REPO" "$@"; }

cache_repo() { echo "$STATE"/source/*/repo; }

test_reconcile_once_names_the_commit() {
	mkremote
	assert_exit 0 reconcile --ref main
	assert_contains "$OUT" "source: $REPO refs/heads/main at commit $(head_of)"
	assert_contains "$OUT" "valid: 1 certificate"
	assert_file_mode "$STATE/source" 700
	assert_file_mode "$(dirname "$(cache_repo)")" 700
	# The status record names the commit too.
	assert_contains "$(cat "$STATE/reconcile/status.json")" "\"commit\": \"$(head_of)\""
	assert_contains "$(cat "$STATE/reconcile/status.json")" '"result": "ok"'
}

test_default_ref_is_the_remote_head() {
	mkremote
	git -C "$TEST_TMP/work" checkout -q -b other
	add_cert api
	git -C "$TEST_TMP/work" push -q origin other
	git -C "$TEST_TMP/work" checkout -q main
	git -C "$TEST_TMP/work" push -q -f origin main
	assert_exit 0 reconcile
	assert_contains "$OUT" "refs/heads/main at commit $(head_of main)"
	# The remote's HEAD moves to another branch: the next run follows it.
	git -C "$TEST_TMP/remote.git" symbolic-ref HEAD refs/heads/other
	assert_exit 0 reconcile
	assert_contains "$OUT" "refs/heads/other at commit $(head_of other)"
	assert_contains "$OUT" "valid: 2 certificates"
}

test_moved_branch_is_fetched_not_recloned() {
	mkremote
	local first inode marker
	first=$(head_of)
	assert_exit 0 reconcile --ref main
	inode=$(stat -c %i "$(cache_repo)/.git/objects")
	marker="$(cache_repo)/.git/certops-test-marker"
	touch "$marker"
	add_cert api
	assert_ne "$first" "$(head_of)" "new commit"
	assert_exit 0 reconcile --ref main
	assert_contains "$OUT" "at commit $(head_of)"
	assert_contains "$OUT" "valid: 2 certificates"
	assert_eq "$inode" "$(stat -c %i "$(cache_repo)/.git/objects")" "objects dir inode"
	[ -e "$marker" ] || fail "the cache was re-cloned (marker gone)"
	# The work tree is exactly the commit: an edit left in it is undone.
	echo "garbage: [" >"$(cache_repo)/stray.yaml"
	assert_exit 0 reconcile --ref main
	[ ! -e "$(cache_repo)/stray.yaml" ] || fail "untracked file survived the checkout"
}

test_tags_commits_and_paths() {
	mkremote
	local first
	first=$(head_of)
	git -C "$TEST_TMP/work" tag v1
	git -C "$TEST_TMP/work" push -q origin v1
	mkdir "$TEST_TMP/work/prod"
	git -C "$TEST_TMP/work" mv certops.yaml prod/
	git -C "$TEST_TMP/work" commit -qm "move to prod/"
	git -C "$TEST_TMP/work" push -q origin main
	assert_exit 0 reconcile --ref v1
	assert_contains "$OUT" "refs/tags/v1 at commit $first"
	assert_exit 0 reconcile --ref "${first:0:12}"
	assert_contains "$OUT" "at commit $first"
	assert_exit 0 reconcile --ref main --path prod
	assert_contains "$OUT" "valid: 1 certificate"
	# At the top there are no declarations left: nothing to find is fine,
	# but a sub-path that is not there, or leaves the tree, is an error.
	assert_exit 65 reconcile --ref main --path nope
	assert_contains "$ERR" "path 'nope' is not a directory"
	assert_exit 65 reconcile --ref main --path ../..
	assert_contains "$ERR" "must be relative and stay inside"
	assert_exit 65 reconcile --ref no-such-branch
	assert_contains "$ERR" "ref 'no-such-branch' is not a branch, tag or commit"
}

test_offline_uses_the_cached_commit_and_says_so() {
	mkremote
	local metrics="$TEST_TMP/metrics.prom"
	assert_exit 0 reconcile --ref main
	mv "$TEST_TMP/remote.git" "$TEST_TMP/remote.away"
	assert_exit 0 reconcile --ref main --metrics-file "$metrics"
	assert_contains "$OUT" "at commit $(head_of) (OFFLINE: cached, not fetched)"
	assert_contains "$ERR" "OFFLINE: cannot fetch '$REPO'"
	assert_contains "$(cat "$STATE/reconcile/status.json")" '"offline": true'
	assert_contains "$(cat "$metrics")" "certops_source_offline 1"
	assert_contains "$(cat "$metrics")" "certops_source_offline_cycles_total 1"
	# The remote comes back with a new commit: it is fetched again.
	mv "$TEST_TMP/remote.away" "$TEST_TMP/remote.git"
	add_cert api
	assert_exit 0 reconcile --ref main --metrics-file "$metrics"
	assert_contains "$OUT" "at commit $(head_of)"
	assert_not_contains "$OUT" "OFFLINE"
	assert_contains "$(cat "$metrics")" "certops_source_offline 0"
	assert_contains "$(cat "$metrics")" "certops_source_offline_cycles_total 1"
	assert_contains "$(cat "$metrics")" "certops_reconcile_cycles_total 3"
}

# A real network remote: git daemon on a loopback port (git://).
test_git_daemon_remote_and_offline_fallback() {
	mkremote
	local port pid
	port=$("$TOOLS/freeport")
	git daemon --reuseaddr --listen=127.0.0.1 --port="$port" --export-all \
		--base-path="$TEST_TMP" "$TEST_TMP" 2>"$TEST_TMP/daemon.err" &
	pid=$!
	echo "$pid" >>"$TEST_PIDS"
	wait_for 20 git ls-remote "git://127.0.0.1:$port/remote.git" || fail "git daemon did not start"
	REPO="git://127.0.0.1:$port/remote.git"
	assert_exit 0 reconcile
	assert_contains "$OUT" "source: $REPO refs/heads/main at commit $(head_of)"
	add_cert api
	assert_exit 0 reconcile
	assert_contains "$OUT" "at commit $(head_of)"
	# The daemon goes away: the cached commit, loudly.
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	assert_exit 0 reconcile
	assert_contains "$OUT" "at commit $(head_of) (OFFLINE: cached, not fetched)"
	assert_contains "$ERR" "OFFLINE: cannot fetch '$REPO'"
	assert_contains "$OUT" "valid: 2 certificates"
}

# ssh:// with a key file, and the host key checked against known_hosts.
test_ssh_remote_checks_the_host_key() {
	if ! sshd_available; then
		echo "skipped: /usr/sbin/sshd missing (openssh-server)"
		return 0
	fi
	mkremote
	sshd_start
	REPO="ssh://$SSHD_USER@127.0.0.1:$SSHD_PORT$TEST_TMP/remote.git"
	local kh="$TEST_TMP/known_hosts" ssh=(--git-ssh-key "$SSHD_CLIENT_KEY")
	# libgit2 1.5.1's ssh transport leaks a few bytes per connection
	# (strings of its connection setup, inside git_remote_connect): under
	# ASan, these runs keep every check but the leak report.
	if [ -n "${ASAN_OPTIONS:-}" ]; then
		ssh_reconcile() { ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" reconcile "$@"; }
	else
		ssh_reconcile() { reconcile "$@"; }
	fi
	# Unknown host: refused (nothing cached, so the run fails).
	: >"$kh"
	assert_exit 1 ssh_reconcile --ref main "${ssh[@]}" --git-known-hosts "$kh"
	assert_contains "$ERR" "the SSH host key of '127.0.0.1' is not in '$kh'"
	# The wrong key for the host: refused just the same.
	ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/impostor"
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$TEST_TMP/impostor.pub")" >"$kh"
	assert_exit 1 ssh_reconcile --ref main "${ssh[@]}" --git-known-hosts "$kh"
	assert_contains "$ERR" "is not in '$kh'"
	# The right key, hashed as ssh-keygen -H writes it: accepted.
	echo "[127.0.0.1]:$SSHD_PORT $SSHD_HOST_PUB" >"$kh"
	ssh-keygen -q -H -f "$kh" >/dev/null 2>&1
	rm -f "$kh.old"
	assert_not_contains "$(cat "$kh")" "127.0.0.1"
	assert_exit 0 ssh_reconcile --ref main "${ssh[@]}" --git-known-hosts "$kh"
	assert_contains "$OUT" "source: $REPO refs/heads/main at commit $(head_of)"
	add_cert api
	assert_exit 0 ssh_reconcile "${ssh[@]}" --git-known-hosts "$kh"
	assert_contains "$OUT" "at commit $(head_of)"
	# A client key the server does not know: the fetch fails, the cached
	# commit is used, loudly.
	ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/stranger"
	add_cert mail
	assert_exit 0 ssh_reconcile --ref main --git-ssh-key "$TEST_TMP/stranger" --git-known-hosts "$kh"
	assert_contains "$OUT" "(OFFLINE: cached, not fetched)"
	assert_not_contains "$OUT" "at commit $(head_of)"
}

# Smart HTTP with basic auth: the token from the environment or a file, and
# a password in the URL never shown.
test_http_remote_with_token() {
	mkremote
	python3 "$TOP/tests/tools/git_http_server.py" "$TEST_TMP/port" "$TEST_TMP" \
		deploy s3cr3t-t0ken-value 2>"$TEST_TMP/http.err" &
	echo $! >>"$TEST_PIDS"
	wait_for 20 test -s "$TEST_TMP/port" || fail "git http server did not start"
	REPO="http://127.0.0.1:$(cat "$TEST_TMP/port")/remote.git"
	# No credentials: the server says 401; nothing cached, so it fails.
	assert_exit 1 reconcile --ref main
	assert_contains "$ERR" "--git-token-env"
	# The token from the environment.
	assert_exit 0 env GIT_TOKEN=s3cr3t-t0ken-value "$CERTOPS" reconcile --once --plan-only \
		--state "$STATE" --repo "$REPO" --git-username deploy --git-token-env GIT_TOKEN
	assert_contains "$OUT" "source: $REPO refs/heads/main at commit $(head_of)"
	assert_contains "$(cat "$TEST_TMP/access.log")" "ok"
	# From a file; a wrong token is refused and the run falls back offline.
	add_cert api
	printf 'wrong-token-value\n' >"$TEST_TMP/token"
	assert_exit 0 reconcile --ref main --git-username deploy --git-token-file "$TEST_TMP/token"
	assert_contains "$OUT" "(OFFLINE: cached, not fetched)"
	assert_contains "$(cat "$TEST_TMP/access.log")" "bad"
	printf 's3cr3t-t0ken-value\n' >"$TEST_TMP/token"
	assert_exit 0 reconcile --ref main --git-username deploy --git-token-file "$TEST_TMP/token"
	assert_contains "$OUT" "at commit $(head_of)"
	assert_not_contains "$OUT" "OFFLINE"
	# In the URL (as CI systems hand it out): works, and is never shown.
	REPO="http://deploy:s3cr3t-t0ken-value@127.0.0.1:$(cat "$TEST_TMP/port")/remote.git"
	add_cert mail
	assert_exit 0 reconcile --ref main --metrics-file "$TEST_TMP/m.prom"
	assert_contains "$OUT" "source: http://deploy:[redacted]@127.0.0.1:"
	assert_contains "$OUT" "at commit $(head_of)"
	assert_not_contains "$OUT$ERR$(cat "$TEST_TMP/m.prom" "$STATE/reconcile/status.json")" "s3cr3t"
}

test_unreachable_remote_without_cache_fails() {
	mkremote
	REPO="file://$TEST_TMP/nowhere.git"
	assert_exit 1 reconcile --ref main
	assert_contains "$ERR" "cannot fetch '$REPO'"
	assert_contains "$ERR" "nothing usable is cached"
	assert_contains "$(cat "$STATE/reconcile/status.json")" '"result": "error"'
}

test_refuses_a_commit_older_than_the_last_applied() {
	mkremote
	local first second
	first=$(head_of)
	add_cert api
	second=$(head_of)
	assert_exit 0 reconcile --ref main
	"$TOOLS/source_tool" record "$STATE" "$second"
	assert_eq "$second" "$("$TOOLS/source_tool" last "$STATE")"
	# Going back by ref is refused, with both commits named...
	assert_exit 1 reconcile --ref "$first"
	assert_contains "$ERR" "commit $first does not descend from the last applied commit $second"
	assert_contains "$ERR" "--force-older"
	# ...and so is a branch rewritten behind our back (a stale mirror).
	git -C "$TEST_TMP/work" reset -q --hard "$first"
	git -C "$TEST_TMP/work" push -q -f origin main
	assert_exit 1 reconcile --ref main
	assert_contains "$ERR" "commit $first does not descend"
	assert_exit 0 reconcile --ref main --force-older
	assert_contains "$OUT" "at commit $first"
	assert_contains "$ERR" "--force-older"
	# Moving forward from the last applied commit is fine.
	"$TOOLS/source_tool" record "$STATE" "$first"
	add_cert mail
	assert_exit 0 reconcile --ref main
	assert_contains "$OUT" "at commit $(head_of)"
}

# An SSH signing key and an allowed_signers file naming it.
mksigner() { # name
	ssh-keygen -q -t ed25519 -N '' -C "$1" -f "$TEST_TMP/$1" >/dev/null
}

signed() { # key, git args...
	local key=$1
	shift
	git -C "$TEST_TMP/work" -c gpg.format=ssh -c user.signingkey="$TEST_TMP/$key" \
		"$@"
}

test_require_signed_ssh() {
	mkremote
	mksigner ops
	mksigner mallory
	printf 'ops@example.com namespaces="git" %s\n' "$(cat "$TEST_TMP/ops.pub")" \
		>"$TEST_TMP/allowed_signers"
	local sigopts=(--require-signed --allowed-signers "$TEST_TMP/allowed_signers")

	# The first commit is unsigned: refused, naming the commit.
	assert_exit 1 reconcile --ref main "${sigopts[@]}"
	assert_contains "$ERR" "commit $(head_of) is not signed"
	assert_contains "$(cat "$STATE/reconcile/status.json")" '"result": "error"'

	signed ops commit -q -S --allow-empty -m "signed by ops"
	git -C "$TEST_TMP/work" push -q origin main
	assert_exit 0 reconcile --ref main "${sigopts[@]}"
	assert_contains "$OUT" "at commit $(head_of)"
	assert_contains "$ERR" "signed by ops@example.com"
	local good
	good=$(head_of)

	# Signed by a key that is not allowed: refused, and the cache's work
	# tree stays at the last good commit.
	echo "# mallory was here" >>"$TEST_TMP/work/certops.yaml"
	signed mallory commit -q -S -am "signed by mallory"
	git -C "$TEST_TMP/work" push -q origin main
	assert_exit 1 reconcile --ref main "${sigopts[@]}"
	assert_contains "$ERR" "commit $(head_of) is signed by a key that is not in the allowed signers"
	assert_eq "$good" "$(git -C "$(cache_repo)" rev-parse HEAD)" "checked-out commit"
	assert_not_contains "$(cat "$(cache_repo)/certops.yaml")" "mallory"

	# --require-signed without a key list is a usage error.
	assert_exit 64 reconcile --ref main --require-signed
	assert_contains "$ERR" "--allowed-signers"
}

test_require_signed_openpgp() {
	mkremote
	export GNUPGHOME="$TEST_TMP/gnupg"
	mkdir -m 700 "$GNUPGHOME"
	on_exit 'gpgconf --homedir "$GNUPGHOME" --kill all 2>/dev/null || true'
	gpg --batch --quiet --passphrase '' --quick-gen-key "ops <ops@example.com>" ed25519 sign never 2>/dev/null
	gpg --batch --quiet --export ops@example.com >"$TEST_TMP/allowed.gpg"
	git -C "$TEST_TMP/work" -c user.signingkey=ops@example.com commit -q -S --allow-empty -m "pgp signed"
	git -C "$TEST_TMP/work" push -q origin main
	assert_exit 0 reconcile --ref main --require-signed --gpg-keyring "$TEST_TMP/allowed.gpg"
	assert_contains "$OUT" "at commit $(head_of)"
	# An SSH-signed or unsigned commit is refused when only OpenPGP keys
	# are allowed.
	git -C "$TEST_TMP/work" commit -q --allow-empty -m "unsigned"
	git -C "$TEST_TMP/work" push -q origin main
	assert_exit 1 reconcile --ref main --require-signed --gpg-keyring "$TEST_TMP/allowed.gpg"
	assert_contains "$ERR" "commit $(head_of) is not signed"
	# A keyring without the signer's key refuses the signed commit.
	gpg --batch --quiet --passphrase '' --quick-gen-key "other <other@example.com>" ed25519 sign never 2>/dev/null
	gpg --batch --quiet --export other@example.com >"$TEST_TMP/other.gpg"
	git -C "$TEST_TMP/work" -c user.signingkey=ops@example.com commit -q -S --allow-empty -m "pgp signed again"
	git -C "$TEST_TMP/work" push -q origin main
	assert_exit 1 reconcile --ref main --require-signed --gpg-keyring "$TEST_TMP/other.gpg"
	assert_contains "$ERR" "commit $(head_of) is not signed by a key in the keyring"
}

test_plain_directory_and_usage() {
	STATE="$TEST_TMP/state"
	assert_exit 0 "$CERTOPS" reconcile --once --plan-only --state "$STATE" "$TOP/examples/quickstart"
	assert_contains "$OUT" "source: directory $TOP/examples/quickstart"
	assert_exit 64 "$CERTOPS" reconcile --once --state "$STATE" --ref main "$TOP/examples/quickstart"
	assert_contains "$ERR" "need --repo"
	assert_exit 64 "$CERTOPS" reconcile --once --state "$STATE" --interval nonsense
	assert_contains "$ERR" "bad duration 'nonsense'"
	assert_exit 0 "$CERTOPS" reconcile --help
	assert_contains "$OUT" "--repo URL"
	assert_contains "$OUT" "--metrics-file PATH"
}

test_invalid_declarations_fail_the_cycle() {
	mkremote
	printf 'kind: Certificate\nname: broken\n' >"$TEST_TMP/work/broken.yaml"
	git -C "$TEST_TMP/work" add broken.yaml
	git -C "$TEST_TMP/work" commit -qm broken
	git -C "$TEST_TMP/work" push -q origin main
	assert_exit 65 reconcile --ref main --metrics-file "$TEST_TMP/m.prom"
	assert_contains "$ERR" "broken.yaml:"
	assert_contains "$(cat "$STATE/reconcile/status.json")" '"result": "invalid"'
	assert_contains "$(cat "$TEST_TMP/m.prom")" "certops_reconcile_up 0"
	python3 "$TOP/tests/tools/prom_check.py" "$TEST_TMP/m.prom"
}

test_notifies_once_on_failure_and_once_on_recovery() {
	mkremote
	python3 "$TOP/tests/tools/webhook_sink.py" "$TEST_TMP/port" "$TEST_TMP/hooks" &
	echo $! >>"$TEST_PIDS"
	wait_for 20 test -s "$TEST_TMP/port" || fail "webhook sink did not start"
	local url broken
	url="http://127.0.0.1:$(cat "$TEST_TMP/port")/hook"
	assert_exit 0 reconcile --ref main --notify-url "$url" # healthy: quiet
	[ ! -s "$TEST_TMP/hooks" ] || fail "notified while healthy"
	printf 'kind: Certificate\nname: broken\n' >"$TEST_TMP/work/broken.yaml"
	git -C "$TEST_TMP/work" add broken.yaml
	git -C "$TEST_TMP/work" commit -qm broken
	git -C "$TEST_TMP/work" push -q origin main
	broken=$(head_of)
	# Three failing cycles: one notification.
	assert_exit 65 reconcile --ref main --notify-url "$url"
	assert_exit 65 reconcile --ref main --notify-url "$url"
	assert_exit 65 reconcile --ref main --notify-url "$url"
	assert_eq 1 "$(wc -l <"$TEST_TMP/hooks")" "notifications after 3 failing cycles"
	assert_contains "$(cat "$TEST_TMP/hooks")" '"status":"failing"'
	assert_contains "$(cat "$TEST_TMP/hooks")" "\"commit\":\"$broken\""
	# The fix lands: one "recovered", then quiet again.
	git -C "$TEST_TMP/work" rm -q broken.yaml
	git -C "$TEST_TMP/work" commit -qm fixed
	git -C "$TEST_TMP/work" push -q origin main
	assert_exit 0 reconcile --ref main --notify-url "$url"
	assert_exit 0 reconcile --ref main --notify-url "$url"
	assert_eq 2 "$(wc -l <"$TEST_TMP/hooks")" "notifications after recovery"
	assert_contains "$(tail -n1 "$TEST_TMP/hooks")" '"status":"recovered"'
	assert_contains "$(tail -n1 "$TEST_TMP/hooks")" '"previous":"failing"'
}

test_expiring_certificate_alert_once() {
	mkremote
	python3 "$TOP/tests/tools/webhook_sink.py" "$TEST_TMP/port" "$TEST_TMP/hooks" &
	echo $! >>"$TEST_PIDS"
	wait_for 20 test -s "$TEST_TMP/port" || fail "webhook sink did not start"
	local url now metrics="$TEST_TMP/m.prom"
	url="http://127.0.0.1:$(cat "$TEST_TMP/port")/hook"
	now=$(date +%s)
	mkdir -m 700 "$STATE"
	"$CERTOPS" reconcile --once --plan-only --state "$STATE" "$TOP/examples/quickstart" >/dev/null
	# www: 90 days, 10 left (< 15: alert); api: 90 days, 60 left (fine).
	"$TOOLS/state_cert_fake" "$STATE" www $((now - 80 * 86400)) $((now + 10 * 86400))
	"$TOOLS/state_cert_fake" "$STATE" api $((now - 30 * 86400)) $((now + 60 * 86400))
	# No apply engine runs in this build: nothing renews them.
	assert_exit 0 reconcile --ref main --notify-url "$url" --metrics-file "$metrics"
	assert_exit 0 reconcile --ref main --notify-url "$url" --metrics-file "$metrics"
	assert_eq 1 "$(wc -l <"$TEST_TMP/hooks")" "notifications"
	assert_contains "$(cat "$TEST_TMP/hooks")" '"subject":"certificate/www"'
	assert_contains "$(cat "$TEST_TMP/hooks")" '"status":"expiring"'
	assert_contains "$(cat "$TEST_TMP/hooks")" "is not being renewed"
	assert_contains "$ERR" "certificate 'www' expires in"
	assert_contains "$(cat "$metrics")" 'certops_certificate_expiring{certificate="www"} 1'
	assert_contains "$(cat "$metrics")" 'certops_certificate_expiring{certificate="api"} 0'
	assert_contains "$(cat "$metrics")" "certops_certificate_not_after_timestamp_seconds{certificate=\"api\"} $((now + 60 * 86400))"
	python3 "$TOP/tests/tools/prom_check.py" "$metrics"
	# A renewed www (a new version with a fresh lifetime): one "recovered".
	"$TOOLS/state_cert_fake" "$STATE" www "$now" $((now + 90 * 86400))
	assert_exit 0 reconcile --ref main --notify-url "$url" --metrics-file "$metrics"
	assert_eq 2 "$(wc -l <"$TEST_TMP/hooks")" "notifications after renewal"
	assert_contains "$(tail -n1 "$TEST_TMP/hooks")" '"status":"recovered"'
	assert_contains "$(cat "$metrics")" 'certops_certificate_expiring{certificate="www"} 0'
}

status_cycles() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cycles"])' "$STATE/reconcile/status.json" 2>/dev/null || echo 0; }
# For wait_for, which runs a command again and again (not a $(...) once).
cycles_at_least() { [ "$(status_cycles)" -ge "$1" ]; }

test_loop_runs_cycles_and_stops_on_sigterm() {
	mkremote
	local metrics="$TEST_TMP/metrics.prom" pid
	"$CERTOPS" reconcile --plan-only --state "$STATE" --repo "$REPO" --interval 1s --jitter 1s \
		--metrics-file "$metrics" >"$TEST_TMP/loop.out" 2>"$TEST_TMP/loop.err" &
	pid=$!
	echo "$pid" >>"$TEST_PIDS"
	wait_for 60 cycles_at_least 3 || fail "fewer than 3 cycles: $(cat "$TEST_TMP/loop.err")"
	python3 "$TOP/tests/tools/prom_check.py" "$metrics"
	assert_contains "$(cat "$metrics")" "certops_reconcile_up 1"
	assert_contains "$(cat "$metrics")" "certops_source_info{url=\"$REPO\",ref=\"refs/heads/main\",commit=\"$(head_of)\"} 1"
	kill -TERM "$pid"
	wait_for 10 sh -c "! kill -0 $pid" || fail "reconcile ignored SIGTERM"
	local rc=0
	wait "$pid" || rc=$?
	assert_eq 0 "$rc" "exit status after SIGTERM"
	assert_contains "$(cat "$TEST_TMP/loop.err")" "stopping on signal"
}

test_sighup_runs_a_cycle_now() {
	mkremote
	local pid
	"$CERTOPS" reconcile --plan-only --state "$STATE" --repo "$REPO" --interval 1h \
		>"$TEST_TMP/loop.out" 2>"$TEST_TMP/loop.err" &
	pid=$!
	echo "$pid" >>"$TEST_PIDS"
	on_exit "kill -TERM $pid 2>/dev/null || true"
	wait_for 30 cycles_at_least 1 || fail "no first cycle"
	add_cert api
	kill -HUP "$pid"
	wait_for 30 cycles_at_least 2 || fail "SIGHUP did not start a cycle"
	assert_contains "$(cat "$STATE/reconcile/status.json")" "\"commit\": \"$(head_of)\""
	assert_contains "$(cat "$TEST_TMP/loop.err")" "SIGHUP"
	kill -TERM "$pid"
	wait_for 10 sh -c "! kill -0 $pid" || fail "reconcile ignored SIGTERM"
}

run_tests "$@"
