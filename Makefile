# The two commands of the README: `make run` and `make test`. Both create $(VENV) when needed.
SHELL := /bin/bash
# The newest of Python 3.13, 3.12 and 3.11 found: on PATH, else among pyenv's versions (a pyenv
# shim for a version that is not active fails to run, so each candidate is tried). PYTHON=/path
# or PYTHON=python3.12 picks one; PYTHON_VERSIONS=3.12 looks only for that version.
PYTHON_VERSIONS ?= 3.13 3.12 3.11
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for v in $(PYTHON_VERSIONS); do \
	for p in "$$(command -v python$$v)" $$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/$$v.*/bin/python$$v 2>/dev/null | sort -V -r); do \
	[ -n "$$p" ] && "$$p" -c "" 2>/dev/null && { echo "$$p"; exit; }; done; done)
endif
VENV ?= .venv
BIN := $(VENV)/bin
# what $(VENV) was built from: the interpreter's version and path, and the lock and pyproject.toml
STAMP := $(VENV)/.installed
UV_VERSION := $(shell sed -n 's/^uv==\([0-9.]*\).*/\1/p' requirements.lock)
export UV_LINK_MODE := copy
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test check soak dev bench install venv lock clean docs lint

run: install ## the whole pipeline once on the demo (synthetic data, asked for with --demo): a line per stage and a summary
	$(BIN)/lgperf run --demo

# pytest-xdist: one worker per core; a test file stays on one worker (--dist loadfile), so its
# module fixtures (a demo run, a PostgreSQL server, a browser) are built once. The files are handed
# out in the order tests/conftest.py collects them, the longest first. TEST_WORKERS=0: serial.
# The 30 slowest tests are listed at the end, so CI's log says where the time goes.
TEST_WORKERS ?= auto
PYTEST_ON_EVERY_CORE := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=30
test: install ## the whole test suite but the long cases (make soak), on every core
	$(PYTEST_ON_EVERY_CORE)

# The unit tests: no Dagster run, no dbt build, no browser, no demo baseline, no PostgreSQL, nothing
# timed against the clock; under a minute on 2 cores. Left out: the slowest modules (the inbox's
# operations, disclosure's integer programs, the client's retries against the faulty demo server)
# and the redaction speed test.
CHECK_TESTS := tests/demo tests/ingestion tests/lgperf tests/exports/test_formatting.py \
	tests/exports/test_inbox_receipts.py tests/exports/test_sql_cells.py tests/exports/test_trend_chart.py \
	--ignore=tests/ingestion/test_inbox_operations.py --ignore=tests/ingestion/test_lginform_client.py \
	--deselect tests/ingestion/test_redaction.py::test_ten_thousand_summaries_redact_in_well_under_five_seconds
check: venv ## the unit tests (a subset of make test, at most a minute)
	$(BIN)/python -m pytest -q $(CHECK_TESTS)

# The long cases make test leaves out: those marked `soak` in their files (docs/developing.md lists
# them). CI runs make test, then this. The table step needs the last make test's results too.
soak: install ## the long cases (marked soak; not part of make test), then docs/reliability.md's table
	$(PYTEST_ON_EVERY_CORE) -m soak
	$(BIN)/python -m tests.reliability.table

dev: install ## the Dagster UI (and daemon) on http://127.0.0.1:3000: needs LGINFORM_BASE_URL, or LGPERF_DEMO=1 for the demo
	$(BIN)/lgperf ui

install: venv $(DAGSTER_HOME)/dagster.yaml

# (Re)built when the stamp does not match: a venv of another Python is removed, not reused.
# uv (pinned in requirements.lock) installs exactly the lock, hashes checked, then lgperf itself.
# --compile-bytecode writes every package's .pyc once, here: where PYTHONDONTWRITEBYTECODE is set
# (as on our CI machines) Python would otherwise compile dbt, Dagster and GX from source in every
# process it starts, each dbt build included (a small demo refresh in a new process: 69 s, 50 s after).
venv:
	@[ -n "$(PYTHON)" ] || { echo "No Python 3.11, 3.12 or 3.13 found (looked for $(addprefix python,$(PYTHON_VERSIONS)) on PATH and in pyenv); set PYTHON=/path/to/python3.x" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v <= (3, 13) else f"Python 3.11 to 3.13 is required, found {sys.version.split()[0]} at {sys.executable} (PYTHON=$(PYTHON))")'
	@want="$$($(PYTHON) -c 'import sys; print(sys.version.split()[0], sys.executable)') $$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)"; \
	[ "$$(cat $(STAMP) 2>/dev/null)" = "$$want" ] && exit 0; \
	if [ -e $(VENV) ] && [ "$$($(BIN)/python -c 'import sys; print(sys.version.split()[0])' 2>/dev/null)" != "$${want%% *}" ]; then \
		echo "$(VENV) is not a venv of Python $${want%% *}: rebuilding it"; rm -rf $(VENV); fi; \
	set -e; \
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV); \
	[ -x $(BIN)/uv ] || $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION); \
	echo "installing requirements.lock into $(VENV) (Python $${want%% *})"; \
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python --require-hashes requirements.lock; \
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .; \
	echo "$$want" > $(STAMP)

# Refreshes requirements.lock from pyproject.toml and requirements.in, keeping the pins it has
# where they still fit (UPGRADE=1: the newest versions allowed). One lock for Python 3.11-3.13,
# the same version of each package on all three wherever one fits them all.
lock: venv
	$(BIN)/uv pip compile --quiet pyproject.toml requirements.in --extra test --extra docs --extra lint --universal --python-version 3.11 \
		--fork-strategy fewest --generate-hashes --custom-compile-command "make lock" \
		$(if $(UPGRADE),--upgrade) -o requirements.lock

# sqlfluff compiles each model with dbt, against a throwaway warehouse, never the real one
lint: venv ## ruff (check and format --check) on the Python, sqlfluff on dbt_project/models
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
		WAREHOUSE_PATH=$$scratch/lint.duckdb $(BIN)/sqlfluff lint --processes 2 dbt_project/models

DBT_DOCS := build/dbt-docs
docs: install ## the documentation as a static site in site/ (open site/index.html, offline): docs/ and dbt's docs of every model
	@# dbt's own docs from the project's YAML (descriptions of every model and column), with an empty
	@# catalog: no warehouse is read, so this works on a fresh checkout and beside a running pipeline
	rm -rf $(DBT_DOCS) && mkdir -p $(DBT_DOCS)
	cd dbt_project && WAREHOUSE_PATH=$(CURDIR)/$(DBT_DOCS)/empty.duckdb $(abspath $(BIN))/dbt docs generate --static \
		--empty-catalog --quiet --target-path $(CURDIR)/$(DBT_DOCS) --project-dir . --profiles-dir .
	$(BIN)/python -m lgperf.docsite --out site --dbt-docs $(DBT_DOCS)/static_index.html

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml | venv
	@mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@
	@# the instance's storage created once, so two runs starting together never race to create it
	$(BIN)/dagster instance migrate >/dev/null

clean: ## remove the demo warehouse, exports, inbox and Dagster history (not .venv)
	rm -rf data .dagster_home dbt_project/target dbt_project/logs

SCALE ?= S,M,L
REPEATS ?= 3
bench: install ## benchmarks (not part of make test): make bench SCALE=L REPEATS=1; results in benchmarks/results/
	$(BIN)/python -m benchmarks.ingest
	$(BIN)/python -m benchmarks.run --scale $(SCALE) --repeats $(REPEATS)
