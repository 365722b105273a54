# Two commands on a fresh machine: `make run` and `make test` (README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint bench simulate stack mutation screenshots clean

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==24.3.1
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

run: $(INSTALLED)  ## serve the API on http://127.0.0.1:8000 (SQLite under var/)
	$(BIN)/boende serve

test: $(INSTALLED) lint  ## the whole suite: lint, types, unit, API and integration tests
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

stack: $(INSTALLED)  ## broker + API + ingest + relay + projections (Kafka, local)
	$(BIN)/python -m services.cli.stack

bench: $(INSTALLED)  ## performance figures (minutes; not part of `make test`)
	$(BIN)/python -m bench.run

screenshots: $(INSTALLED)  ## PNGs of the oversight pages in docs/img/ (a fixed simulation, Debian's chromium)
	$(BIN)/python -m tests.browser.screenshots

simulate: $(INSTALLED)  ## play IFN and ALN against a running API (as their case systems)
	$(BIN)/boende simulate --months 12

mutation: $(INSTALLED)  ## mutation testing, from scratch (~20 min of CPU, two workers; not part of `make test`; docs/testing.md)
	rm -rf mutants
	$(BIN)/mutmut run
	$(BIN)/python tests/mutation_report.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
