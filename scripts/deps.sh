#!/bin/sh
# Installs the Debian packages that building, testing and the demo need.
# Idempotent and quiet when everything is there; runs `apt-get update` only
# when a package is missing; uses sudo only when not root.
set -eu

# Keep this list in step with docs/building.md.
PACKAGES="
build-essential pkg-config clang
libgit2-dev libssl-dev libcurl4-openssl-dev libyaml-dev libjansson-dev libcmocka-dev
git openssl curl ca-certificates procps
pebble
python3 python3-jsonschema
python3-yaml
prometheus
time
nginx-light
openssh-client openssh-server gnupg
groff-base
"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
# Wanted, not required: bear, for `make compile_commands.json`; installed on
# its own after the rest, and a mirror without it only gets a warning.
optional=""
for p in bear; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in *" installed") ;; *) optional="$optional $p" ;; esac
done
[ -z "$missing" ] && [ -z "$optional" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "deps: installing:$missing$optional" >&2
export DEBIAN_FRONTEND=noninteractive
# Try without an update first: a fresh machine's lists may be empty or old.
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# shellcheck disable=SC2086
[ -z "$optional" ] || $SUDO apt-get install -y -qq --no-install-recommends $optional >/dev/null 2>&1 ||
	echo "deps: optional:$optional not installed (make compile_commands.json needs bear)" >&2
