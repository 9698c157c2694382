# The two commands of the README: `make run` and `make test`. Both create .venv when needed.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test soak dev bench install clean docs

run: install ## the whole pipeline once on the demo (synthetic data, asked for with --demo) and a summary
	$(BIN)/python -m orchestration.run --demo

test: install ## the whole test suite
	$(BIN)/python -m pytest

soak: install ## every reliability case, the long soak runs included (not part of make test), then docs/reliability.md's table
	$(BIN)/python -m pytest -m "soak or not soak" tests/reliability
	$(BIN)/python -m tests.reliability.table

dev: install ## the Dagster UI (and daemon) on http://127.0.0.1:3000: needs LGINFORM_BASE_URL, or LGPERF_DEMO=1 for the demo
	@$(BIN)/python -m orchestration.preflight
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

install: $(INSTALLED) $(DAGSTER_HOME)/dagster.yaml

DBT_DOCS := build/dbt-docs
docs: install ## the documentation as a static site in site/ (open site/index.html, offline): docs/ and dbt's docs of every model
	@# dbt's own docs from the project's YAML (descriptions of every model and column), with an empty
	@# catalog: no warehouse is read, so this works on a fresh checkout and beside a running pipeline
	rm -rf $(DBT_DOCS) && mkdir -p $(DBT_DOCS)
	cd dbt_project && WAREHOUSE_PATH=$(CURDIR)/$(DBT_DOCS)/empty.duckdb $(abspath $(BIN))/dbt docs generate --static \
		--empty-catalog --quiet --target-path $(CURDIR)/$(DBT_DOCS) --project-dir . --profiles-dir .
	$(BIN)/python -m lgperf.docsite --out site --dbt-docs $(DBT_DOCS)/static_index.html

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 is required, found {sys.version.split()[0]} at {sys.executable}"'
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'
	@touch $@

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml | $(INSTALLED)
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
