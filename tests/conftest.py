"""Session-wide test setup: a private, throw-away Airflow home for every test that needs one.

The environment is set when this file is imported — before any test module can import
Airflow, whose configuration is read once at import — so no test ever touches a developer's
own ``~/airflow``. The ``airflow_home`` fixture migrates its SQLite database once per session
(about 3 s) and is shared by the in-process tests (``tests/airflow``: ``dag.test()``) and the
subprocess tests (``tests/e2e``: ``airflow dags test``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from airflow_provider_ecall.client import EcallClient
from airflow_provider_ecall.sandbox import EcallSandbox

ROOT = Path(__file__).resolve().parents[1]
_HOME = Path(tempfile.mkdtemp(prefix="ecall-airflow-home-"))

#: The Airflow settings of the test session (also given to every Airflow subprocess).
AIRFLOW_ENV: dict[str, str] = {
    "AIRFLOW_HOME": str(_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(_HOME / "dags"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(_HOME / "logs"),
    # One key for every process of the session: asset watchers' trigger arguments are stored
    # encrypted, and a key made up per process cannot read the previous process's rows.
    "AIRFLOW__CORE__FERNET_KEY": "6j9Egbp6xUTiUJuTMNZguU7-U1Mc0VoAi0PCVtSDt5Y=",
}
if "airflow" not in sys.modules:  # too late otherwise: the configuration is already read
    os.environ.update(AIRFLOW_ENV)
(_HOME / "dags").mkdir()


@dataclass(frozen=True)
class AirflowRun:
    """A finished Airflow CLI command.

    :param args: the command line after ``airflow``.
    :param returncode: its exit status.
    :param output: stdout and stderr, interleaved as written.
    """

    args: tuple[str, ...]
    returncode: int
    output: str

    @property
    def dag_run_state(self) -> str | None:
        """The final DAG run state ``airflow dags test`` reported (``success``, ``failed``)."""
        found = re.findall(r"DagRun Finished: .*?\bstate=(\w+)", self.output)
        return found[-1] if found else None


@dataclass(frozen=True)
class AirflowHome:
    """A temporary ``AIRFLOW_HOME`` with a migrated SQLite database.

    :param path: the home folder (``airflow.db``, ``logs/``, ``dags/`` inside).
    :param env: the environment every Airflow command gets: the session's ``AIRFLOW_*``
        settings over the current environment, and ``PYTHONPATH`` with the repository root.
    """

    path: Path
    env: Mapping[str, str] = field(repr=False)

    @property
    def dags_folder(self) -> Path:
        """The default DAG folder (the in-process ``dag.test()`` bundle)."""
        return self.path / "dags"

    @property
    def logs(self) -> Path:
        """Where Airflow writes its log files."""
        return self.path / "logs"

    def airflow(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 240
    ) -> AirflowRun:
        """Run ``airflow ARGS…`` in a subprocess with this home.

        :param env: extra variables (e.g. ``AIRFLOW_CONN_ECALL_DEFAULT``) over :attr:`env`.
        """
        done = subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), *args],
            env={**self.env, **(env or {})},
            cwd=self.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        return AirflowRun(tuple(args), done.returncode, done.stdout)

    def dags_test(
        self,
        dag_id: str,
        *,
        dags_folder: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 240,
    ) -> AirflowRun:
        """Run ``airflow dags test DAG_ID`` (one DAG run, tasks and callbacks in-process).

        :param dags_folder: the folder to parse (default :attr:`dags_folder`).
        :param env: extra environment variables for this run.
        """
        folder = {"AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder or self.dags_folder)}
        return self.airflow("dags", "test", dag_id, env={**folder, **(env or {})}, timeout=timeout)

    def log_files(self) -> list[Path]:
        """Every file under :attr:`logs` (task, DAG processor and scheduler logs)."""
        return sorted(path for path in self.logs.rglob("*") if path.is_file())


@pytest.fixture(scope="session")
def airflow_home() -> AirflowHome:
    """The session's Airflow home, its database migrated once (``airflow db migrate``)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    # The repository root first: the package is importable as the working tree is, whatever
    # state the editable install's path hook is in.
    path = os.pathsep.join(filter(None, [str(ROOT), inherited.get("PYTHONPATH")]))
    home = AirflowHome(_HOME, {**inherited, **AIRFLOW_ENV, "PYTHONPATH": path})
    migrated = home.airflow("db", "migrate", timeout=300)
    assert migrated.returncode == 0, migrated.output[-3000:]
    return home


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the session's Airflow home (set ``ECALL_KEEP_AIRFLOW_HOME=1`` to keep it)."""
    if not os.environ.get("ECALL_KEEP_AIRFLOW_HOME"):
        shutil.rmtree(_HOME, ignore_errors=True)


# -- a real client against the sandbox (client, property and hardening tests) ---------------


@pytest.fixture
def sandbox(ecall_sandbox: EcallSandbox) -> EcallSandbox:
    """The sandbox of this test (a shorter name for the plugin's ``ecall_sandbox``)."""
    return ecall_sandbox


@pytest.fixture
def client_options() -> dict[str, object]:
    """Keyword arguments of the ``client`` fixture; test folders override it."""
    return {"timeout": (2.0, 5.0)}


@pytest.fixture
def client(ecall_sandbox: EcallSandbox, client_options: dict[str, object]) -> Iterator[EcallClient]:
    """A real :class:`EcallClient` talking HTTP to this test's sandbox."""
    with EcallClient(
        ecall_sandbox.base_url,
        ecall_sandbox.username,
        ecall_sandbox.password,
        **client_options,  # type: ignore[arg-type]
    ) as ecall:
        yield ecall


# -- the compat matrix (make test-compat) ------------------------------------------------------


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In the matrix (``ECALL_COMPAT_WHEEL`` set), import only test modules that use the
    ``compat`` marker: the others may import what an older Airflow lacks."""
    if not os.environ.get("ECALL_COMPAT_WHEEL") or collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    return "pytest.mark.compat" not in collection_path.read_text(encoding="utf-8")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Copy each ``compat`` test's ``feature`` and ``since`` into its report (the JUnit file
    the matrix turns into the README's compatibility table)."""
    for item in items:
        marker = item.get_closest_marker("compat")
        if marker is None:
            continue
        feature = marker.kwargs.get("feature") or item.module.__name__  # type: ignore[attr-defined]
        item.user_properties.append(("feature", str(feature)))
        item.user_properties.append(("since", str(marker.kwargs.get("since", ""))))
