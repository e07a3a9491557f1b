#!/usr/bin/env bash
# Installs what `make bench` needs beyond the Rust toolchain, from Debian's
# packages: wrk, the load generator, and the DejaVu font the plot is drawn
# with. Then checks pgbench and starts PostgreSQL if it is down.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v wrk >/dev/null 2>&1 || packages+=(wrk)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || [ -n "${BENCH_FONT:-}" ] \
    || packages+=(fonts-dejavu-core)

if [ ${#packages[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "error: make bench needs the Debian packages ${packages[*]}; install them, for example with: sudo apt-get install ${packages[*]}" >&2
        exit 1
    fi
    echo "installing ${packages[*]} with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

# pgbench comes with the PostgreSQL server package (postgresql-15 on
# Debian 12), which the PostgreSQL tests already need.
if ! pgbench --version >/dev/null 2>&1; then
    echo "error: pgbench is missing; it comes with Debian's postgresql package" >&2
    exit 1
fi

scripts/ensure-postgres.sh
