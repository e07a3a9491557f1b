CARGO ?= cargo

.PHONY: run test lint fmt build flood

## run: build a release binary and start the server on the embedded SQLite default
run:
	$(CARGO) run --release -p platform-auth-api --bin platform-auth

## test: every test, including the PostgreSQL ones (starts the local cluster if it is down)
test:
	scripts/ensure-postgres.sh
	$(CARGO) test --workspace --no-fail-fast

## lint: rustfmt check and clippy with warnings denied
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## fmt: format the code
fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --workspace --release

## flood: 500 logins at once against the release binary; prints peak memory and /me latency
flood:
	$(CARGO) build --release -p platform-auth-api --bin platform-auth --example flood
	target/release/examples/flood target/release/platform-auth
