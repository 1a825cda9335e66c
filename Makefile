# Two set-up commands work on a fresh machine with Python 3.11 and pip: `make test`, `make demo`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test lint typecheck pytest demo bench sandbox e2e clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
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

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

sandbox: $(STAMP)
	$(BIN)/ecall-sandbox

# The deployment check: Airflow 3.3 with PostgreSQL, Redis and a Celery worker, faults injected
# (scripts/e2e.py). Its own environment in .e2e/venv, resolved as of Airflow 3.3.2's release
# day; the provider goes in as a built wheel, the way users install it.
E2E_VENV    := .e2e/venv
E2E_AS_OF   := 2026-09-17
E2E_PKGS    := apache-airflow==3.3.2 apache-airflow-providers-celery asyncpg psycopg2-binary redis
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

e2e:
	@command -v redis-server >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| { $(SUDO) apt-get update -q && \
		     $(SUDO) apt-get install -y -q --no-install-recommends postgresql redis-server; }
	@[ -x $(E2E_VENV)/bin/python ] || uv venv -q -p python3.11 $(E2E_VENV)
	uv pip install -q -p $(E2E_VENV)/bin/python --exclude-newer $(E2E_AS_OF) \
		--reinstall-package airflow-provider-ecall $(E2E_PKGS) .
	$(E2E_VENV)/bin/python scripts/e2e.py

clean:
	rm -rf $(VENV) .demo .bench .e2e .mypy_cache .ruff_cache .pytest_cache
