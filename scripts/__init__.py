"""Dev tooling, one package a tool, each run from the repository root with ``python -m``:

- :mod:`scripts.demo` (``make demo``): every example DAG in real Airflow against the sandbox;
- :mod:`scripts.deployment` (``make e2e``): the provider in an Airflow 3.3 deployment
  (PostgreSQL, Redis, Celery) with faults injected — not to be confused with ``tests/e2e``,
  which runs DAGs with ``airflow dags test``;
- :mod:`scripts.compat_matrix` (``make test-compat``): the compat tests on every supported
  Airflow release.
"""
