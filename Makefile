# Two entry points for a fresh machine; each sets up .venv first (pinned stack, editable).
#   make example   compile the built-in example model end to end, print the review dump
#   make test      run the whole test suite (installs Debian's chromium first if missing)
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: example test test-fast lint setup bench et-suite browser

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -e '.[test,lint]' -c constraints.txt
	touch $(STAMP)

example: $(STAMP)
	$(VENV)/bin/python -m drivers.example

# two workers, a test file each at a time (pytest-xdist): the zoo's session-scoped captures
# stay with the files that share them; a fixed two, not one per core, since each worker
# holds its own exported models (a few GB at most)
test: $(STAMP) browser
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadfile

# the tests that need no ExecuTorch flow on whole models (marker `slow`, pyproject.toml)
test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest -q -m "not slow"

# Debian's Chromium, for tests/drivers/test_explorer.py (Model Explorer in a headless browser,
# driven by Playwright, which downloads no browser of its own); installed once
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

# the import layers of pyproject.toml's [tool.importlinter], ruff (rules and format), then
# basedpyright's basic checks on ir/ and tosa_flatbuffer/
lint: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/basedpyright

bench: $(STAMP)
	$(VENV)/bin/python -m bench

# ExecuTorch's own Arm test suite, stock and with our serializer (tools/et_suite):
#   make et-suite SAMPLE=200 SEED=1        a seeded sample;  make et-suite SAMPLE=all SHARD=1/8
SAMPLE ?= 200
SEED ?= 1
WORKERS ?= 2
# e.g. ET_SUITE_FLAGS=--stock-on-failures: stock only where ours fails (half the time)
ET_SUITE_FLAGS ?=
et-suite: $(STAMP)
	$(VENV)/bin/python -m tools.et_suite $(if $(filter all,$(SAMPLE)),--all,--sample $(SAMPLE) --seed $(SEED)) $(if $(SHARD),--shard $(SHARD)) --workers $(WORKERS) --compare $(ET_SUITE_FLAGS)
