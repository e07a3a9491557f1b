#!/usr/bin/env bash
# Installs what the deployment tests run: nginx, to put in front of the
# binary, and systemd-analyze, to check the unit file. Both come from
# Debian's packages; nothing is started here.
set -euo pipefail

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "error: the deployment tests need ${missing[*]}; install them (apt-get install ${missing[*]}) or run make test as root" >&2
    exit 1
fi
echo "installing ${missing[*]} for the deployment tests" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}
