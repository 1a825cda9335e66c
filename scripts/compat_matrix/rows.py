"""The rows of the compatibility matrix: which Airflow on which Python, as of which day.

Every supported release runs on Python 3.11 (the project's own). Beside them: the oldest
release on the oldest Python it supports (3.10), the newest on the newest Pythons it supports
(3.12, 3.13), and the next Airflow's latest pre-release as a canary, reported in the table but
not gating the run. Stdlib only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: The project's own Python: what ``make test`` uses and every supported release runs on.
DEFAULT_PYTHON = "3.11"


@dataclass(frozen=True)
class Row:
    """One environment of the matrix.

    :param airflow: the Airflow release installed (``apache-airflow==<airflow>``)
    :param day: the day its install is resolved as of (``--exclude-newer``): its release day
    :param python: the Python minor version the environment is built on
    :param gating: whether a failure of this row fails ``make test-compat``
    """

    airflow: str
    day: str
    python: str = DEFAULT_PYTHON
    gating: bool = True

    @property
    def name(self) -> str:
        """``3.3.2`` on the default Python, ``3.3.2-py3.12`` on another."""
        if self.python == DEFAULT_PYTHON:
            return self.airflow
        return f"{self.airflow}-py{self.python}"

    @property
    def prerelease(self) -> bool:
        return any(tag in self.airflow for tag in ("a", "b", "rc", "dev"))

    @property
    def title(self) -> str:
        """The table's column heading."""
        text = f"Airflow {self.airflow}"
        if self.python != DEFAULT_PYTHON:
            text += f" · Python {self.python}"
        if not self.gating:
            text += " (canary)"
        return text


#: Release days from PyPI's upload times (https://pypi.org/project/apache-airflow/#history).
ROWS: list[Row] = [
    Row("2.11.2", "2026-03-14"),
    Row("3.0.6", "2025-08-29"),
    Row("3.1.8", "2026-03-11"),
    Row("3.2.2", "2026-05-29"),
    Row("3.3.2", "2026-09-17"),
    Row("2.11.2", "2026-03-14", python="3.10"),
    Row("3.3.2", "2026-09-17", python="3.12"),
    Row("3.3.2", "2026-09-17", python="3.13"),
    # 3.4.0b2 was uploaded on 2026-10-20; bump both when a later pre-release appears.
    Row("3.4.0b2", "2026-10-21", gating=False),
]
BY_NAME: dict[str, Row] = {row.name: row for row in ROWS}


def find_python(version: str) -> str | None:
    """An interpreter for ``version`` (``3.12``), or None when the machine has none.

    The default Python is left to uv; others are looked for in pyenv's versions (its shims
    answer only for the active version) and then on ``PATH``, and each candidate is run once.
    """
    if version == DEFAULT_PYTHON:
        return version
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    installed = sorted((root / "versions").glob(f"{version}.*/bin/python{version}"), reverse=True)
    candidates = [str(path) for path in installed]
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None
