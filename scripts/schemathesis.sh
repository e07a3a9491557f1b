#!/usr/bin/env bash
# Runs schemathesis against a freshly started server with the server's own
# OpenAPI document: every generated request must get a response that is not
# a 5xx and that matches the documented status codes, headers and schemas.
# Needs the virtual environment from `make python-env`.
set -euo pipefail
cd "$(dirname "$0")/.."

workdir=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT

cargo build --quiet -p platform-auth-api --bin platform-auth
binary=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/platform-auth

# Cheap hashing keeps the run short; the hashing code path is the same.
# The abuse limits are raised because schemathesis logs in again and again
# from one address and sends wrong current passwords to the password
# route, which would otherwise lock its own account.
PLATFORM_PORT=0 \
    PLATFORM_LOGIN_LIMIT_PER_CLIENT=1000000 \
    PLATFORM_REGISTER_LIMIT_PER_CLIENT=1000000 \
    PLATFORM_LOCKOUT_THRESHOLD=1000 \
    DATABASE_URL="$workdir/auth.db" \
    PLATFORM_JWT_SECRET="schemathesis-secret-0123456789abcdef0123" \
    PLATFORM_ARGON2_MEMORY_KIB=1024 \
    PLATFORM_ARGON2_ITERATIONS=1 \
    RUST_LOG=warn,platform_auth=info \
    "$binary" 2>"$workdir/server.log" &
server_pid=$!

base_url=""
for _ in $(seq 1 100); do
    base_url=$(grep -o 'listening on http://[0-9.:]*' "$workdir/server.log" | head -n 1 | sed 's/listening on //' || true)
    [ -n "$base_url" ] && break
    sleep 0.1
done
if [ -z "$base_url" ]; then
    echo "error: the server did not start; its log follows" >&2
    cat "$workdir/server.log" >&2
    exit 1
fi

export LOGIN_EMAIL="schemathesis@example.com"
export LOGIN_PASSWORD="schemathesis-password"
curl -sf -o /dev/null -X POST "$base_url/api/v1/auth/register" \
    -H "Content-Type: application/json" \
    -d "{\"email\":\"$LOGIN_EMAIL\",\"password\":\"$LOGIN_PASSWORD\"}"

.venv/bin/schemathesis --config-file tests/schemathesis.toml run \
    "$base_url/api/v1/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" \
    --workers 2 \
    --seed 1
