# crmledger: `make demo` sets up and runs the demo; `make test` runs every gate and test.
UV      ?= uv
VENV    := .venv
BIN     := $(VENV)/bin
PY      := $(BIN)/python
DEMO_DB ?= sqlite:///demo.db
DEMO_CUSTOMERS ?= 150
DEMO_YEARS ?= 2
HOST    ?= 127.0.0.1
PORT    ?= 8000
BENCH_SIZES ?= 10000,100000
DEMO_EMAIL    ?= admin@example.com
DEMO_PASSWORD ?= crmledger-demo
FUZZ_EXAMPLES ?= 1000
API_BENCH_ENTRIES ?= 100000
CRM_BENCH_PARTIES ?= 100000
CRM_BENCH_INTERACTIONS ?= 1000000
BILLING_BENCH_INVOICES ?= 100000
STATEMENT_BENCH_ENTRIES ?= 1000000
DEMO_BENCH_CUSTOMERS ?= 10000
DEMO_BENCH_YEARS ?= 3
INSIGHT_BENCH_CUSTOMERS ?= 100000
DASHBOARD_BENCH_ENTRIES ?= 1000000
FUSION_BENCH_RECORDS ?= 10000
FUSION_JOIN_CUSTOMERS ?= 1000000
RECONCILE_BENCH_CUSTOMERS ?= 100000
RECONCILE_BENCH_INVOICES ?= 1000000

.PHONY: demo test lint typecheck contracts unit bench fuzz env clean

$(BIN)/crmledger: pyproject.toml uv.lock
	@command -v $(UV) >/dev/null || python3 -m pip install --quiet uv
	UV_COMPILE_BYTECODE=1 $(UV) sync --frozen --all-extras
	$(PY) -m compileall -q src  # start-up: the CLI should not recompile itself every run
	@touch $@

env: $(BIN)/crmledger

demo: env
	rm -f demo.db demo.db-wal demo.db-shm demo.db.keys
	CRMLEDGER_ADMIN_EMAIL=$(DEMO_EMAIL) CRMLEDGER_ADMIN_PASSWORD=$(DEMO_PASSWORD) \
		$(BIN)/crmledger --db $(DEMO_DB) init --chart default --base-currency EUR
	$(BIN)/crmledger --db $(DEMO_DB) demo --customers $(DEMO_CUSTOMERS) --years $(DEMO_YEARS)
	$(BIN)/crmledger --db $(DEMO_DB) report trial-balance
	$(BIN)/crmledger --db $(DEMO_DB) audit verify
	@echo "Web UI on http://$(HOST):$(PORT)/ and API on http://$(HOST):$(PORT)/api/v1/docs"
	@echo "Log in as $(DEMO_EMAIL) with password $(DEMO_PASSWORD)  (Ctrl-C to stop)"
	$(BIN)/crmledger --db $(DEMO_DB) serve --host $(HOST) --port $(PORT)

lint: env
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: env
	$(BIN)/mypy

contracts: env
	$(BIN)/lint-imports

unit: env
	$(BIN)/pytest -n 2 --dist worksteal -q

test: lint typecheck contracts unit

bench: env
	$(PY) -m benchmarks.sqlite_floor --entries 100000
	$(PY) -m benchmarks.run --sizes $(BENCH_SIZES)
	$(PY) -m benchmarks.api_load --entries $(API_BENCH_ENTRIES)
	$(PY) -m benchmarks.crm --parties $(CRM_BENCH_PARTIES) --interactions $(CRM_BENCH_INTERACTIONS)
	$(PY) -m benchmarks.billing --invoices $(BILLING_BENCH_INVOICES)
	$(PY) -m benchmarks.statements --entries $(STATEMENT_BENCH_ENTRIES)
	$(PY) -m benchmarks.demo --customers $(DEMO_BENCH_CUSTOMERS) --years $(DEMO_BENCH_YEARS)
	$(PY) -m benchmarks.intelligence --customers $(INSIGHT_BENCH_CUSTOMERS)
	$(PY) -m benchmarks.dashboard --entries $(DASHBOARD_BENCH_ENTRIES) --customers $(INSIGHT_BENCH_CUSTOMERS)
	$(PY) -m benchmarks.fusion --records $(FUSION_BENCH_RECORDS) --join $(FUSION_JOIN_CUSTOMERS)
	$(PY) -m benchmarks.integration --rates 10,100
	$(PY) -m benchmarks.reconcile --customers $(RECONCILE_BENCH_CUSTOMERS) --invoices $(RECONCILE_BENCH_INVOICES)

fuzz: env
	CRMLEDGER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:randomly tests/api/test_schemathesis.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo.db* bench-data build
