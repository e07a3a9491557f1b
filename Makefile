CARGO ?= cargo
PYTHON ?= python3
VENV := .venv

.PHONY: run test lint fmt build check-deps docs python-env flood bench bench-short

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

# The load tests measure throughput, so the servers they start lift the
# per-client limits (all load comes from one address) and let the hash
# queue hold a whole burst: its memory stays bounded by the hash gate.
BENCH_SERVER_ENV ?= PLATFORM_LOGIN_LIMIT_PER_CLIENT=1000000 PLATFORM_REGISTER_LIMIT_PER_CLIENT=1000000 PLATFORM_HASH_QUEUE_LENGTH=100000 PLATFORM_HASH_QUEUE_TIMEOUT_MS=60000
export BENCH_SERVER_ENV

# BENCH_SHORT=1 (any value but empty, 0, false or no) selects the short mode.
BENCH_SHORT ?=
BENCH_SHORT_ON := $(filter-out 0 false no,$(BENCH_SHORT))
CRITERION_FLAGS := $(if $(BENCH_SHORT_ON),--quick --warm-up-time 1 --measurement-time 2)

## bench: release build, criterion micro-benchmarks, then load tests with wrk on
## PostgreSQL and SQLite; writes bench/results/<UTC time>.md and .png (see
## docs/performance.md). BENCH_SHORT=1 runs each load for a few seconds, and
## BENCH_SERVER_ENV="KEY=VALUE ..." passes settings to every server it starts.
bench:
	scripts/bench-setup.sh
	$(CARGO) build --release -p platform-auth-api -p platform-auth-bench
	since=$$(date +%s) && \
	$(CARGO) bench -p platform-auth-adapters --bench tokens --bench passwords -- $(CRITERION_FLAGS) && \
	target/release/platform-auth-bench $(if $(BENCH_SHORT_ON),--short) --criterion-since $$since

## bench-short: make bench in short mode, a few seconds per load; exits non-zero when a
## load had errors or answered no request (never because of a timing)
bench-short:
	$(MAKE) bench BENCH_SHORT=1
