"""A throw-away Airflow installation for the demo: home, database, ``airflow dags test``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = ROOT / "example_dags"


@dataclass(frozen=True)
class Run:
    """The outcome of one ``airflow dags test``."""

    dag_id: str
    returncode: int
    seconds: float
    log: Path

    @property
    def failed(self) -> bool:
        """Whether the DAG run failed (``airflow dags test`` exits non-zero)."""
        return self.returncode != 0


def connection_json(host: str, login: str, password: str) -> str:
    """The ``AIRFLOW_CONN_ECALL_DEFAULT`` value for an eCall connection."""
    return json.dumps({"conn_type": "ecall", "host": host, "login": login, "password": password})


def airflow_env(home: Path, connection: str, extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of every ``airflow`` command: a private home, SQLite, our DAGs only."""
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW_CONN_ECALL_DEFAULT": connection,
            **extra,
        }
    )
    return env


def fresh_home(home: Path) -> Path:
    """Delete and recreate the demo's ``AIRFLOW_HOME``."""
    if home.exists():
        shutil.rmtree(home)
    (home / "demo-logs").mkdir(parents=True)
    return home


def start_airflow(
    args: list[str], env: Mapping[str, str], log: Path, *, group: bool = False
) -> subprocess.Popen[bytes]:
    """Start ``airflow <args>``, its output to ``log``.

    :param group: in a process group of its own (to stop it with everything it started).
    """
    with log.open("w", encoding="utf-8") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=group,
        )


def _airflow(args: list[str], env: Mapping[str, str], log: Path) -> int:
    with start_airflow(args, env, log) as proc:
        return proc.wait()


def migrate(env: Mapping[str, str], home: Path) -> None:
    """``airflow db migrate`` once; exits the demo when it fails."""
    log = home / "demo-logs" / "db-migrate.log"
    if _airflow(["db", "migrate"], env, log) != 0:
        sys.exit(f"airflow db migrate failed; see {log}")


def dags_test(dag_id: str, env: Mapping[str, str], home: Path) -> Run:
    """Run one DAG with ``airflow dags test`` and keep its output in a log file."""
    log = home / "demo-logs" / f"{dag_id}.log"
    started = time.monotonic()
    code = _airflow(["dags", "test", dag_id], env, log)
    return Run(dag_id, code, time.monotonic() - started, log)


def commands_step(dag_id: str, env: Mapping[str, str], home: Path, expected: int) -> Run:
    """Run ``python -m scripts.demo.commands``: the SMS in the cache through ``ecall_sms_commands``
    (the triggerer's and the scheduler's part played in-process). Its result goes to
    ``<dag_id>.json`` next to the log."""
    log = home / "demo-logs" / f"{dag_id}.log"
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        code = subprocess.call(
            [
                sys.executable,
                "-m",
                "scripts.demo.commands",
                str(expected),
                str(log.with_suffix(".json")),
            ],
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    return Run(dag_id, code, time.monotonic() - started, log)


def highlights(run: Run, patterns: Iterable[str]) -> list[str]:
    """The first line part of the run's log that matches each pattern (what to show)."""
    text = run.log.read_text(encoding="utf-8", errors="replace")
    found = (re.search(pattern, text) for pattern in patterns)
    return [match.group(0) for match in found if match]


def leaks(home: Path, secrets: Iterable[str]) -> list[str]:
    """The log files under ``home`` (the ``airflow dags test`` output and the task logs) that
    hold any of ``secrets`` (full numbers, the password), relative to ``home``."""
    wanted = [secret for secret in set(secrets) if secret]
    found = []
    for path in sorted(p for p in home.rglob("*") if p.is_file() and p.suffix in {".log", ".json"}):
        text = path.read_text(encoding="utf-8", errors="replace")
        if any(secret in text for secret in wanted):
            found.append(str(path.relative_to(home)))
    return found
