# Maca — the commands a developer and CI use. `make run` and `make test` are
# all a fresh machine needs (Debian or Ubuntu with Python 3.11+, git, make):
# what else they need they install, saying what.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: install run test lint typecheck pytest bench fuzz lock clean token system-packages test-packages missing-packages

# --- system packages ---------------------------------------------------------------
# Debian's packages Maca needs, each named when the check beside it finds it
# missing, and installed by the target that needs it (as `make bench` installs
# wrk): `make install` (so `make run`) the server's — Node.js and npm for the
# GOV.UK Frontend and Swagger UI assets, Pango for WeasyPrint's PDFs, a
# font; `make pytest` (so `make test`) the tests' — Chromium for the browser
# tests, PgBouncer for the transaction-pooling tests, curl and jq for the
# README's examples. Nothing in the suite skips for want of them.
CHROMIUM ?= /usr/bin/chromium
# Where Debian puts daemons a user's PATH may not reach (pgbouncer).
SBIN_DIRS ?= /usr/sbin /usr/local/sbin
found = $(shell command -v $(1) 2>/dev/null)$(wildcard $(addsuffix /$(1),$(SBIN_DIRS)))
SERVER_PACKAGES = $(strip \
	$(if $(call found,npm),,nodejs npm) \
	$(if $(shell ldconfig -p 2>/dev/null | grep libpangoft2-1.0),,libpango-1.0-0 libpangoft2-1.0-0) \
	$(if $(shell fc-list 2>/dev/null | grep -i dejavu),,fonts-dejavu-core))
TEST_PACKAGES = $(strip \
	$(if $(wildcard $(CHROMIUM)),,chromium) \
	$(if $(call found,pgbouncer),,pgbouncer) \
	$(if $(call found,curl),,curl) \
	$(if $(call found,jq),,jq))

# $(call apt_install,PACKAGES,WHO): install the Debian PACKAGES WHO needs, if
# any, as root or through sudo; else say what to install and stop.
define apt_install
	@packages="$(1)"; [ -z "$$packages" ] || { \
	  echo "make: installing the system packages for $(2): $$packages"; \
	  if [ "$$(id -u)" = 0 ]; then as_root=; else as_root=sudo; fi; \
	  { command -v apt-get >/dev/null && { [ -z "$$as_root" ] || command -v sudo >/dev/null; } \
	    && export DEBIAN_FRONTEND=noninteractive \
	    && $$as_root apt-get update -qq \
	    && $$as_root apt-get install -y -qq --no-install-recommends $$packages; } \
	  || { echo "make: could not install them; install them yourself (Debian: apt-get install $$packages)" >&2; \
	       exit 2; }; }
endef

system-packages:
	$(call apt_install,$(SERVER_PACKAGES),Maca)

test-packages:
	$(call apt_install,$(TEST_PACKAGES),the tests)

# What `make install` and `make pytest` would install here, one line each.
missing-packages:
	@echo "server: $(SERVER_PACKAGES)"
	@echo "tests: $(TEST_PACKAGES)"

# --- Python and npm ----------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

# Installs exactly the locked versions (requirements.lock), then Maca itself.
$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json | system-packages
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

install: system-packages $(STAMP) $(NODE_STAMP)

run: install
	$(BIN)/maca serve --migrate --demo-data

# `make token PERSONA=health`: a development access token for the Maca that
# `make run` started (whatever its port), for curl. Only the token is printed.
token:
	@test -x $(BIN)/maca || { echo "make token: run make install (or make run) first" >&2; exit 2; }
	@$(BIN)/maca token --persona "$(PERSONA)"

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

pytest: install test-packages
	$(BIN)/pytest

test: lint typecheck pytest

# `make bench BENCH=load` runs only the named benchmarks; all by default.
# The load is driven by wrk (Debian's package), installed here when missing.
bench: install
	$(call apt_install,$(if $(call found,wrk),,wrk),make bench)
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
