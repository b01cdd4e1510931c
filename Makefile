# Two commands matter: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck demo demo-cluster token clean console

# The operator console's front-end packages (csms/console/node_modules, from the committed lock
# file): installed again whenever package-lock.json changes. Needs Node.js and npm.
CONSOLE := csms/console
CONSOLE_STAMP := $(CONSOLE)/node_modules/.installed
# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstalls whenever pyproject.toml changes.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,speed]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

config.toml:
	cp config.example.toml config.toml

$(CONSOLE_STAMP): $(CONSOLE)/package-lock.json $(CONSOLE)/package.json
	cd $(CONSOLE) && npm ci --no-audit --no-fund
	touch $(CONSOLE_STAMP)

console: $(CONSOLE_STAMP)

$(CHROMIUM):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
	  || { $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

run: $(STAMP) $(CONSOLE_STAMP) config.toml
	$(BIN)/csms serve --config config.toml

token: $(STAMP) config.toml
	$(BIN)/csms token create --role operator --config config.toml

# The linters, then the suite (its summary line last): CI fails on either. The browser tests
# (tests/browser) must run here, not be skipped: their Chromium and npm packages are installed.
test: $(STAMP) $(CONSOLE_STAMP) $(CHROMIUM)
	$(BIN)/ruff check csms simulators tests bench
	$(BIN)/mypy
	CSMS_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check csms simulators tests bench
	$(BIN)/ruff format --check csms simulators tests bench
	$(BIN)/mypy

demo: $(STAMP) $(CONSOLE_STAMP) config.toml
	$(BIN)/python -m simulators.demo --config config.toml

# Three nodes over PostgreSQL and NATS (both on 127.0.0.1, as on these machines; override with
# CSMS_DEMO_DATABASE_URL and CSMS_DEMO_NATS_URL), the demo's chargers spread over them.
demo-cluster: $(STAMP) $(CONSOLE_STAMP) config.toml
	$(BIN)/python -m simulators.demo_cluster --config config.toml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(CONSOLE)/node_modules

# The performance benchmark (~10-15 min): our server and the yardstick under the same load; prints
# a table with PASS/FAIL per target and writes bench/results/latest.json. `--quick` for a smoke run.
# Then the site tree's read time (10,000 chargers on 500 sites; bench/results/site_tree.json) and
# the load allocator's (2,000 sessions on 200 circuits; bench/results/allocation.json) and load
# management's reaction (a session's start to its first TxProfile; bench/results/lm_latency.json)
# and the KPIs of 10,000 chargers over 7 days on SQLite and on PostgreSQL (bench/results/kpis.json
# and kpis_postgres.json; BENCH_POSTGRES: a server where that user may create databases), and two
# nodes of a cluster on PostgreSQL and NATS: 20,000 chargers and the cross-node command overhead
# (bench/results/cluster.json).
.PHONY: bench
BENCH_POSTGRES ?= postgresql://postgres@127.0.0.1:5432/postgres
bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.site_tree
	$(BIN)/python -m bench.allocation
	$(BIN)/python -m bench.lm_latency
	$(BIN)/python -m bench.kpis
	$(BIN)/python -m bench.kpis --database $(BENCH_POSTGRES)
	$(BIN)/python -m bench.cluster
