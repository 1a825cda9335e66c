"""In-process Airflow helpers: DAG files in the session's dags folder, run with ``dag.test()``.

``dag.test()`` in Airflow 3.3 needs the DAG in a bundle (the dags folder) and a migrated
database; it runs every task and callback in this process (the first run of a session takes
about 4 s, later runs a fraction of a second). ``AIRFLOW_CONN_ECALL_DEFAULT`` is read when a
task asks for the connection, so the ``ecall_sandbox_connection`` fixture works here.
"""

from __future__ import annotations

import importlib.util
import itertools
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from airflow_provider_ecall.utils import compat
from tests._airflow import DAG_IMPORTS

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun
    from fastapi.testclient import TestClient

    from airflow_provider_ecall.utils.compat import DAG
    from tests.conftest import AirflowHome

HEADER = (
    """\
from __future__ import annotations

from datetime import timedelta

import pendulum
"""
    + DAG_IMPORTS
    + """

from airflow_provider_ecall.notifications.ecall import (
    EcallFaxNotifier,
    EcallSmsNotifier,
    EcallVoiceNotifier,
)
from airflow_provider_ecall.operators.ecall import (
    EcallFaxOperator,
    EcallSmsOperator,
    EcallVoiceOperator,
)

START = pendulum.datetime(2024, 1, 1, tz="UTC")
"""
)

_numbers = itertools.count()


@pytest.fixture
def load_dag(airflow_home: AirflowHome) -> Iterator[Callable[..., DAG]]:
    """Write a DAG file into the dags folder, import it, and return its ``dag``.

    Call it with the body of the file (after :data:`HEADER`, which imports the operators,
    notifiers, ``DAG``, ``task``, ``timedelta`` and defines ``START``) and optional extra
    files (``{"name.j2": "text"}``) next to it. The files are removed after the test.
    """
    written: list[Path] = []

    def load(body: str, *, files: dict[str, str] | None = None) -> DAG:
        for name, content in (files or {}).items():
            path = airflow_home.dags_folder / name
            path.write_text(content, encoding="utf-8")
            written.append(path)
        name = f"ecall_test_dag_{next(_numbers)}"
        path = airflow_home.dags_folder / f"{name}.py"
        path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
        written.append(path)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        dag: DAG = module.dag
        return dag

    yield load
    for path in written:
        path.unlink(missing_ok=True)


def ti_states(run: DagRun) -> dict[str, tuple[str, int]]:
    """``{task_id (with [map_index] for mapped ones): (state, try_number)}`` of a run."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(TaskInstance)
            .filter(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id)
            .all()
        )
        return {
            (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): (
                str(ti.state),
                ti.try_number,
            )
            for ti in rows
        }


# -- Airflow's Stats, observed (alert metrics) -------------------------------------------


class StatsSpy:
    """Records the provider's ``Stats.incr`` and ``Stats.timing`` calls and passes each on
    to Airflow's ``Stats``."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.counts: dict[str, int] = {}
        self.timings: dict[str, list[object]] = {}

    def incr(self, stat: str, count: int = 1, *args: object, **kwargs: object) -> None:
        self.counts[stat] = self.counts.get(stat, 0) + count
        self.real.incr(stat, count, *args, **kwargs)  # type: ignore[attr-defined]

    def timing(self, stat: str, dt: object, **kwargs: object) -> None:
        self.timings.setdefault(stat, []).append(dt)
        self.real.timing(stat, dt, **kwargs)  # type: ignore[attr-defined]


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch) -> StatsSpy:
    spy = StatsSpy(compat.stats())
    monkeypatch.setattr(compat, "stats", lambda: spy)
    monkeypatch.setattr("airflow_provider_ecall.notifications._dispatch.stats", lambda: spy)
    return spy


#: The callback receiver's URL token in the receiver tests (32+ characters, as required).
CALLBACK_TOKEN = "tok-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c"
#: The key that signs per-job callback URLs in the receiver tests.
SIGNING_KEY = "key-2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"


def forget_callbacks() -> None:
    """Empty the receiver's de-duplication table (each test starts with nothing seen)."""
    from airflow.utils.session import create_session
    from sqlalchemy import inspect, text

    from airflow_provider_ecall.plugins._store import TABLE_NAME

    with create_session() as session:
        if inspect(session.get_bind()).has_table(TABLE_NAME):
            session.execute(text(f"DELETE FROM {TABLE_NAME}"))  # noqa: S608 (a constant)


@pytest.fixture
def receiver(airflow_home: AirflowHome) -> TestClient:
    """The callback receiver as the plugin builds it (token :data:`CALLBACK_TOKEN`, signing
    key :data:`SIGNING_KEY`), writing to this session's metadata database, behind FastAPI's
    test client; nothing seen before the test."""
    from fastapi.testclient import TestClient

    from airflow_provider_ecall.plugins.ecall import ReceiverSettings, build_app

    forget_callbacks()
    return TestClient(build_app(ReceiverSettings((CALLBACK_TOKEN,), (SIGNING_KEY,))))
