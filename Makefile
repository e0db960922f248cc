# Maca — the commands a developer and CI use. `make run` and `make test` are
# all a fresh machine needs (Python 3.11+, git, make, Node.js/npm).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: install run test lint typecheck pytest bench fuzz lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

# Installs exactly the locked versions (requirements.lock), then Maca itself.
$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

install: $(STAMP) $(NODE_STAMP)

run: install
	$(BIN)/maca serve --migrate --demo-data

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

test: lint typecheck pytest

# `make bench BENCH=load` runs only the named benchmarks; all by default.
# The load is driven by wrk (Debian's package), installed here when missing
# as .ci/run installs what the suite needs.
bench: install
	@command -v wrk >/dev/null 2>&1 || { export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk; } \
	  || { echo "make bench needs wrk: apt-get install wrk" >&2; exit 2; }
	$(BIN)/python -m tests.bench $(BENCH)

# Longer API fuzzing (tests/security/test_fuzz.py): 400 examples per operation
# instead of make test's 8.
fuzz: install
	FUZZ_EXAMPLES=400 $(BIN)/pytest -q tests/security/test_fuzz.py

# Re-resolve the lock after changing dependencies in pyproject.toml.
lock: $(BIN)/python
	$(BIN)/uv pip compile --quiet --python-version 3.11 --extra test pyproject.toml -o requirements.lock

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
