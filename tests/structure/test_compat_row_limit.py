"""A matrix row that hangs cannot hold ``make test-compat`` (and CI) up: the runner stops it
at its time limit, with every process it started, and the table says so."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from scripts.compat_matrix.__main__ import run
from scripts.compat_matrix.table import TIMED_OUT, render_table

# A parent that starts a child and both sleep, as pytest under a hung `airflow dags test`.
HANG = (
    "import subprocess, sys, time;"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
    "open(sys.argv[1], 'w').write(str(child.pid));"
    "time.sleep(60)"
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child not yet reaped by its (killed) parent is a zombie: as good as gone.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" not in status.read_text()


def test_a_hanging_row_is_stopped_at_its_limit_with_its_children(tmp_path: Path) -> None:
    log, child_pid = tmp_path / "row.log", tmp_path / "child.pid"
    started = time.monotonic()
    code = run([sys.executable, "-c", HANG, str(child_pid)], log, cwd=tmp_path, limit=3)
    assert code == TIMED_OUT
    assert time.monotonic() - started < 30
    assert "stopped after 3 s: the row's time limit" in log.read_text()
    deadline = time.monotonic() + 10
    while _alive(int(child_pid.read_text())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(int(child_pid.read_text()))


def test_a_row_within_its_limit_keeps_its_exit_code(tmp_path: Path) -> None:
    code = run([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "row.log", limit=30)
    assert code == 3


def test_the_table_names_a_row_stopped_at_its_limit() -> None:
    summary = {
        "seconds": 700,
        "releases": {
            "3.4.0b2": {
                "airflow": "3.4.0b2",
                "title": "Airflow 3.4.0b2 (canary)",
                "release_day": "2026-10-21",
                "build_error": "",
                "exit": TIMED_OUT,
                "tests": [],
            }
        },
    }
    assert "stopped at the row's time limit" in render_table(summary)
