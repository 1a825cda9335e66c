"""Import cost of the provider on top of ``import airflow.sdk``, in fresh interpreters.

Three variants per round, order rotated: the SDK alone; the SDK plus our hook, operators
and notifiers; and the same for the previous release (its package as of ``BENCH_PREVIOUS``,
default :data:`PREVIOUS`, unpacked from git into ``.bench/`` and put first on
``PYTHONPATH``), so the figure stands beside the release before it, measured alike in the
same run. ``-X importtime`` then names the modules that make up the provider's share.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from common import BENCH_DIR, ROOT, Pair, airflow_env

#: The previous release: 0.1.0 as last reviewed (BENCHMARKS.md of 2026-11-25), before the
#: delivery, reply, callback and alert-policy work.
PREVIOUS = os.environ.get("BENCH_PREVIOUS", "54cef8a")

MODULES = (
    "airflow_provider_ecall.operators.ecall, airflow_provider_ecall.notifications.ecall, "
    "airflow_provider_ecall.hooks.ecall"
)
SDK = "import airflow.sdk"
PROVIDER = f"{SDK}; import {MODULES}"
#: The provider variant also reports, from inside, how long its own import statement took.
TIMED = (
    "import time; started = time.perf_counter(); import airflow.sdk; "
    "middle = time.perf_counter(); import {modules}; "
    "print(middle - started, time.perf_counter() - middle)"
)
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def _run(code: str, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return time.perf_counter() - started, done.stdout


@dataclass(frozen=True)
class ImportCost:
    """Per kept round: wall times of both variants, and the provider's in-process times.

    :param wall: ``python -c "<sdk + provider>"`` vs ``python -c "import airflow.sdk"``.
    :param inside: the provider's import statement vs ``import airflow.sdk``, both timed
        inside the same fresh interpreter (no start-up or shutdown noise).
    :param previous: the previous release's import statement, timed the same way.
    """

    wall: Pair
    inside: Pair
    previous: list[float]


def previous_release(ref: str = PREVIOUS) -> Path:
    """The previous release's package, unpacked from git (once) into ``.bench/``.

    :return: the folder to put first on ``PYTHONPATH``.
    """
    folder = BENCH_DIR / f"previous-{ref}"
    if not (folder / "airflow_provider_ecall" / "__init__.py").exists():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", ref, "airflow_provider_ecall"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def measure(rounds: int) -> ImportCost:
    """Run ``rounds`` interleaved rounds (plus one dropped warm-up round)."""
    env = {**os.environ, **airflow_env()}
    previous_env = {**env, "PYTHONPATH": f"{previous_release()}{os.pathsep}{env['PYTHONPATH']}"}
    timed = TIMED.format(modules=MODULES)
    walls: dict[str, list[float]] = defaultdict(list)
    sdk_inside: list[float] = []
    provider_inside: list[float] = []
    previous_inside: list[float] = []
    variants = [(SDK, env), (timed, env), ("previous", previous_env)]
    for number in range(rounds + 1):
        order = variants[number % 3 :] + variants[: number % 3]
        for code, variant_env in order:
            elapsed, out = _run(timed if code == "previous" else code, variant_env)
            if not number:
                continue
            if code == "previous":
                previous_inside.append(float(out.split()[-1]))
                continue
            walls[code].append(elapsed)
            if code == timed:
                sdk_seconds, provider_seconds = map(float, out.split()[-2:])
                sdk_inside.append(sdk_seconds)
                provider_inside.append(provider_seconds)
    return ImportCost(
        Pair(walls[timed], walls[SDK]), Pair(provider_inside, sdk_inside), previous_inside
    )


def _after_sdk() -> list[tuple[str, float, float, bool]]:
    """One ``-X importtime`` run of the provider import: every module imported after
    ``airflow.sdk`` as ``(name, self ms, cumulative ms, top level)``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PROVIDER],
        env={**os.environ, **airflow_env()},
        check=True,
        capture_output=True,
        text=True,
    )
    found, after_sdk = [], False
    for line in done.stderr.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        own, total, indent, name = match.groups()
        if after_sdk:
            found.append((name, int(own) / 1000, int(total) / 1000, indent == " "))
        after_sdk = after_sdk or (name == "airflow.sdk" and indent == " ")
    return found


def dominant_modules(runs: int, top: int) -> list[tuple[str, float, float]]:
    """Modules imported after ``airflow.sdk`` by the provider import, by median self time.

    :return: ``(module, median self ms, median cumulative ms)``, largest self time first.
    """
    selfs: dict[str, list[float]] = defaultdict(list)
    cumulative: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        for name, own, total, _top in _after_sdk():
            selfs[name].append(own)
            cumulative[name].append(total)
    ranked = sorted(selfs, key=lambda name: statistics.median(selfs[name]), reverse=True)
    return [
        (name, statistics.median(selfs[name]), statistics.median(cumulative[name]))
        for name in ranked[:top]
    ]


def provider_total(runs: int) -> float:
    """Median ms of the provider's top-level imports after ``airflow.sdk`` (-X importtime)."""
    return statistics.median(
        sum(total for _name, _own, total, top in _after_sdk() if top) for _ in range(runs)
    )
