"""The watchdog: a small process that runs outside Airflow and pages through eCall when
Airflow cannot (see docs/watchdog.md). No Airflow import: it talks to Airflow's REST API.

- :mod:`._config` reads and checks its settings (environment and/or a JSON file);
- :mod:`._airflow` reads Airflow's health endpoint and REST API, per version;
- :mod:`._incidents` turns health readings into incidents (open, escalate, close);
- :mod:`._routing` and :mod:`._sweeper` page for failures no callback paged;
- :mod:`._loop` runs it all until SIGTERM; ``ecall-watchdog`` / ``python -m`` start it.
"""
