# Two set-up commands work on a fresh machine with Python 3.11 and pip: `make test`, `make demo`.
# Every environment is built with uv; when uv is not on PATH it is installed from PyPI into
# .tools/ first. `make test` runs on Airflow $(AIRFLOW_PIN) as installed on its release day
# (--exclude-newer), so the same commit gets the same Airflow libraries on any day.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

AIRFLOW_PIN         ?= 3.3.2
AIRFLOW_RELEASE_DAY ?= 2026-09-17
UV_BOOTSTRAP        ?= uv==0.13.9
UV ?= $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)

.PHONY: install test lint typecheck pytest test-compat compat-table demo bench sandbox e2e dist docs clean

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/python -m pip install --quiet '$(UV_BOOTSTRAP)'

# Airflow first, as of its release day; then the project and its test tools (today's).
$(STAMP): pyproject.toml | $(UV)
	$(UV) venv --quiet --allow-existing -p $(PYTHON) $(VENV)
	$(UV) pip install --quiet -p $(BIN)/python 'apache-airflow==$(AIRFLOW_PIN)' \
		--exclude-newer $(AIRFLOW_RELEASE_DAY)
	$(UV) pip install --quiet -p $(BIN)/python -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

# One environment per supported Airflow release, each as of its release day, the project
# installed from its wheel; runs the tests marked `compat` on each (see README).
test-compat: | $(UV)
	UV=$(UV) $(PYTHON) -m scripts.compat_matrix $(COMPAT_ARGS)

compat-table:
	$(PYTHON) -m scripts.compat_matrix --table-only

demo: $(STAMP)
	$(BIN)/python -m scripts.demo

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

sandbox: $(STAMP)
	$(BIN)/ecall-sandbox

# The release artifacts: sdist and wheel in dist/, twine check --strict, then the wheel alone
# in a clean environment (.dist/venv, Airflow $(AIRFLOW_PIN)): the provider registers, the
# plugin loads, the console scripts run, the sandbox pytest plugin is found (scripts/release).
dist: | $(UV)
	UV=$(UV) $(PYTHON) -m scripts.release --airflow $(AIRFLOW_PIN) --as-of $(AIRFLOW_RELEASE_DAY)

# The documentation site in docs/_build/html: Sphinx (+ MyST for the Markdown pages) from the
# docs extra installed into .venv (autodoc imports the provider, so Airflow too). Warnings are
# errors, nitpicky references included; a fresh environment each time, so every warning shows.
# Then every internal link and anchor of the built site is checked (external links are not
# fetched).
DOCS_STAMP := $(VENV)/.docs-installed

$(DOCS_STAMP): $(STAMP)
	$(UV) pip install --quiet -p $(BIN)/python -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	rm -rf docs/_api docs/_build/html
	$(BIN)/sphinx-build -b html -E -W --keep-going -q docs docs/_build/html
	$(BIN)/python -m scripts.doc_links docs/_build/html

# The deployment check: Airflow 3.3 with PostgreSQL, Redis and a Celery worker, faults injected
# (python -m scripts.deployment). Its own environment in .e2e/venv, resolved as of Airflow
# 3.3.2's release day; the provider goes in as a built wheel, the way users install it.
E2E_VENV    := .e2e/venv
E2E_AS_OF   := 2026-09-17
E2E_PKGS    := apache-airflow==3.3.2 apache-airflow-providers-celery asyncpg psycopg2-binary redis
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

e2e: | $(UV)
	@command -v redis-server >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| { $(SUDO) apt-get update -q && \
		     $(SUDO) apt-get install -y -q --no-install-recommends postgresql redis-server; }
	@[ -x $(E2E_VENV)/bin/python ] || $(UV) venv -q -p python3.11 $(E2E_VENV)
	$(UV) pip install -q -p $(E2E_VENV)/bin/python --exclude-newer $(E2E_AS_OF) \
		--reinstall-package airflow-provider-ecall $(E2E_PKGS) .
	$(E2E_VENV)/bin/python -m scripts.deployment

clean:
	rm -rf $(VENV) .compat .tools .demo .bench .e2e .dist dist .mypy_cache .ruff_cache .pytest_cache \
		docs/_build docs/_api
