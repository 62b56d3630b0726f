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
"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Try without an update first: a fresh machine's lists may be empty or old.
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
