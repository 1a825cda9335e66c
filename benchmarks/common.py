"""Shared benchmark machinery: paired interleaved rounds, a sandbox process, the result table.

Every comparison is measured in the same run as its baseline, in alternating A/B rounds
(A first in odd rounds, B first in even ones) so drift and warm-up hit both sides alike;
the first round is a warm-up and is dropped. Figures are medians over rounds; the ratio is
the median of the per-round ratios.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / ".bench"


@dataclass(frozen=True)
class Pair:
    """Per-operation times of a measured side and its baseline over the kept rounds.

    :param ours: seconds per operation of the side under test, one per round.
    :param base: seconds per operation of the baseline, one per round.
    """

    ours: list[float]
    base: list[float]

    @property
    def ours_median(self) -> float:
        return statistics.median(self.ours)

    @property
    def base_median(self) -> float:
        return statistics.median(self.base)

    @property
    def ratio(self) -> float:
        """Median of the per-round ratios ours / baseline."""
        return statistics.median(o / b for o, b in zip(self.ours, self.base, strict=True))

    @property
    def difference(self) -> float:
        """Median of the per-round differences ours - baseline (seconds)."""
        return statistics.median(self.differences)

    @property
    def differences(self) -> list[float]:
        return [o - b for o, b in zip(self.ours, self.base, strict=True)]

    @property
    def spread(self) -> tuple[float, float]:
        """The interquartile range of the per-round differences (seconds)."""
        low, _, high = statistics.quantiles(self.differences, n=4)
        return low, high


def paired(
    ours: Callable[[], object],
    base: Callable[[], object],
    *,
    rounds: int,
    per_round: int,
) -> Pair:
    """Time ``per_round`` calls of each side per round, interleaved, after one warm-up round.

    :param ours: one operation of the side under test.
    :param base: one operation of the baseline.
    :param rounds: kept rounds (one more is run first and dropped).
    :param per_round: operations timed together in each round and side.
    """
    kept_ours: list[float] = []
    kept_base: list[float] = []
    for number in range(rounds + 1):
        sides = [(ours, kept_ours), (base, kept_base)]
        if number % 2 == 0:
            sides.reverse()
        for operation, kept in sides:
            started = time.perf_counter()
            for _ in range(per_round):
                operation()
            elapsed = (time.perf_counter() - started) / per_round
            if number:
                kept.append(elapsed)
    return Pair(kept_ours, kept_base)


@dataclass(frozen=True)
class Row:
    """One line of the result table."""

    name: str
    ours: str
    baseline: str
    ratio: str
    goal: str
    met: bool | None


def print_table(rows: list[Row]) -> str:
    """Format ``rows`` as a Markdown table, print it and return it."""
    header = ("benchmark", "ours", "baseline (same run)", "ours/baseline", "goal", "met")
    lines = [header] + [
        (r.name, r.ours, r.baseline, r.ratio, r.goal, {None: "-", True: "yes", False: "NO"}[r.met])
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        out.append(
            "| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |"
        )
        if index == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    table = "\n".join(out)
    print(table, flush=True)
    return table


def micro(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def milli(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


@dataclass(frozen=True)
class Sandbox:
    """A sandbox running in its own process (so its work does not share our GIL)."""

    base_url: str
    username: str
    password: str


@contextmanager
def sandbox_process() -> Iterator[Sandbox]:
    """Start ``python -m airflow_provider_ecall.sandbox`` on a free port; stop it after."""
    from airflow_provider_ecall.sandbox.server import DEFAULT_PASSWORD, DEFAULT_USERNAME

    with tempfile.TemporaryDirectory() as folder:
        port_file = Path(folder) / "port"
        command = [sys.executable, "-m", "airflow_provider_ecall.sandbox", "--quiet"]
        process = subprocess.Popen([*command, "--port-file", str(port_file)])
        try:
            deadline = time.monotonic() + 30
            while not (port_file.exists() and port_file.read_text().strip()):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox did not start")
                time.sleep(0.05)
            port = int(port_file.read_text().strip())
            yield Sandbox(f"http://127.0.0.1:{port}", DEFAULT_USERNAME, DEFAULT_PASSWORD)
        finally:
            process.terminate()
            process.wait(10)


def airflow_env() -> dict[str, str]:
    """A throw-away Airflow home for the benchmark (never the user's ``~/airflow``)."""
    home = BENCH_DIR / "airflow-home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
