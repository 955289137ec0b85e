# Two entry points for a fresh machine; each sets up .venv first (pinned stack, editable).
#   make example   compile the built-in example model end to end, print the review dump
#   make test      run the whole test suite
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: example test setup bench

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

example: $(STAMP)
	$(VENV)/bin/python -m bridge.example

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

bench: $(STAMP)
	$(VENV)/bin/python -m bench
