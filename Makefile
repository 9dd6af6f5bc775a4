# EdLink — the two commands: `make run` and `make test` (both work on a fresh clone).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EDLINK_TEST_PG_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
PYTEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 5000
export EDLINK_TEST_PG_URL

.PHONY: install run test test-sqlite test-postgresql chromium node oidc-server wrk lint bench clean

$(BIN)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

# Browser tests drive Debian's Chromium; install it when missing (needs root, as on CI).
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The identity-provider tests run a stand-in for Keycloak (panva's oidc-provider under Node,
# tests/idp/oidc_server): install Node.js and npm when missing (Debian's, needs root as for
# chromium), then the pinned packages from its package-lock.json.
OIDC_SERVER := tests/idp/oidc_server
node:
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
	  echo "installing Debian's nodejs and npm for the identity-provider tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }

$(OIDC_SERVER)/node_modules/.package-lock.json: $(OIDC_SERVER)/package.json $(OIDC_SERVER)/package-lock.json
	@$(MAKE) --no-print-directory node
	cd $(OIDC_SERVER) && npm ci --no-audit --no-fund --loglevel=error

oidc-server: $(OIDC_SERVER)/node_modules/.package-lock.json

# The scheduler runs inside the development server here (a background thread, started once even
# under the reloader); in production it is a process of its own: `edlink scheduler`.
run: install
	$(BIN)/edlink db upgrade
	$(BIN)/edlink seed-demo
	@echo "EdLink on http://$(HOST):$(PORT)/  (stop with Ctrl-C)"
	$(BIN)/edlink run --host $(HOST) --port $(PORT) --with-scheduler

test: install chromium oidc-server
	@$(MAKE) --no-print-directory test-sqlite
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$(EDLINK_TEST_PG_URL)" 2>/dev/null; then \
	  $(MAKE) --no-print-directory test-postgresql; \
	else \
	  echo "== PostgreSQL does not answer at $(EDLINK_TEST_PG_URL): PostgreSQL run skipped"; \
	fi

test-sqlite: install
	@echo "== EdLink test suite on SQLite"
	EDLINK_TEST_DATABASE=sqlite $(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test-postgresql: install
	@echo "== EdLink test suite on PostgreSQL ($(EDLINK_TEST_PG_URL))"
	EDLINK_TEST_DATABASE=postgresql $(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

# Benchmarks (bench/README.md): not part of `make test`. PostgreSQL runs when it answers.
EDLINK_BENCH_PG_URL ?= $(EDLINK_TEST_PG_URL)
export EDLINK_BENCH_PG_URL
# bench.gate also needs the bench extra (pycasbin, gunicorn) and wrk (Debian's, installed when missing).
$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

wrk:
	@test -x /usr/bin/wrk || { \
	  echo "installing Debian's wrk for bench.gate"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null || \
	  echo "wrk could not be installed: bench.gate falls back to a Python load generator"; }

bench: install $(BIN)/.bench-installed wrk
	@echo "== EdLink benchmarks (PostgreSQL at $(EDLINK_BENCH_PG_URL) when it answers)"
	$(BIN)/python -m bench.audit_append
	$(BIN)/python -m bench.audit_verify
	$(BIN)/python -m bench.gate
	$(BIN)/python -m bench.reports

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache $(OIDC_SERVER)/node_modules
