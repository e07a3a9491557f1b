#!/usr/bin/env bash
# Checks that the PostgreSQL server the tests use accepts connections, and
# starts the local Debian cluster if it is down. The server is PLATFORM_AUTH_TEST_POSTGRES_URL,
# by default postgres://postgres@127.0.0.1:5432/postgres.
set -euo pipefail

url="${PLATFORM_AUTH_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

answers() {
    psql "$url" -tAc 'SELECT 1' >/dev/null 2>&1
}

if answers; then
    exit 0
fi

if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    for version in $(ls /etc/postgresql); do
        echo "PostgreSQL is not accepting connections at $url; starting cluster $version/main" >&2
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    for _ in $(seq 1 30); do
        answers && exit 0
        sleep 1
    done
fi

echo "error: PostgreSQL is not reachable at $url. Start a server there, or point PLATFORM_AUTH_TEST_POSTGRES_URL at one where user postgres may create databases." >&2
exit 1
