#!/usr/bin/env bash
# Checks the dependency promises of the library crates: platform-auth-actix
# builds without diesel, and platform-auth-client without OpenSSL.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo="${CARGO:-cargo}"
status=0

actix_tree="$("$cargo" tree -p platform-auth-actix -e normal --prefix none)"
if grep -i diesel <<<"$actix_tree"; then
    echo "platform-auth-actix depends on diesel; depend on platform-auth-adapters with default-features = false" >&2
    status=1
fi

client_tree="$("$cargo" tree -p platform-auth-client --prefix none)"
if grep -i openssl <<<"$client_tree"; then
    echo "platform-auth-client depends on OpenSSL; keep reqwest on rustls with default-features = false" >&2
    status=1
fi

exit "$status"
