CARGO ?= cargo
PYTHON ?= python3
VENV := .venv

.PHONY: run test lint fmt build check-deps docs python-env flood

## run: build a release binary and start the server on the embedded SQLite default
run:
	$(CARGO) run --release -p platform-auth-api --bin platform-auth

## test: every test, including the PostgreSQL ones (starts the local cluster if it is down),
## the Python compatibility tests and schemathesis against the real binary
test: python-env
	scripts/ensure-postgres.sh
	scripts/ensure-deploy-tools.sh
	$(CARGO) test --workspace --no-fail-fast
	PYTHONDONTWRITEBYTECODE=1 $(VENV)/bin/pytest -q -p no:cacheprovider tests/python
	scripts/schemathesis.sh

## python-env: a virtual environment in .venv with the pinned httpx, PyJWT and pytest
python-env: $(VENV)/.requirements-installed

$(VENV)/.requirements-installed: tests/python/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r tests/python/requirements.txt
	touch $@

## lint: rustfmt check, clippy with warnings denied, dependency and doc checks
lint: check-deps docs
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## check-deps: no diesel under platform-auth-actix, no OpenSSL under platform-auth-client
check-deps:
	CARGO=$(CARGO) scripts/check-deps.sh

## docs: the library crates' API docs, with rustdoc warnings denied
docs:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps -p platform-auth-client -p platform-auth-actix

## fmt: format the code
fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --workspace --release

## flood: 500 logins at once against the release binary; prints peak memory and /me latency
flood:
	$(CARGO) build --release -p platform-auth-api --bin platform-auth --example flood
	target/release/examples/flood target/release/platform-auth
