"""``make test-compat``: the tests marked ``compat`` on every supported Airflow release.

1. builds the project's wheel once (``uv build``);
2. builds one environment per release in ``.compat/af-X.Y.Z`` with uv, each as of the
   release's day (``--exclude-newer``: a plain install of an older Airflow pulls later
   libraries that break it), several at once (building is mostly waiting on I/O); an
   environment whose inputs did not change is reused;
3. installs the wheel (not the working tree) into each and runs ``pytest -m compat`` on a copy
   of ``tests/`` outside the repository, so the installed package is what is tested; at most
   two releases run at once (the machine has two cores);
4. writes ``.compat/results/<release>.xml`` (JUnit) and ``.compat/results/summary.json``, and
   the compatibility table into README.md (``--table-only`` rewrites only the table).

Stdlib only: it runs on the machine's Python before any environment exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from compat_table import read_junit, write_readme_table

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".compat"
RESULTS = WORK / "results"
PYTHON = "3.11"

#: Supported releases and their release days (the last day their install is built as of).
RELEASES: dict[str, str] = {
    "2.11.2": "2026-03-14",
    "3.0.6": "2025-08-29",
    "3.1.8": "2026-03-11",
    "3.2.2": "2026-05-29",
    "3.3.2": "2026-09-17",
}
#: Test tools of every environment (as of the same day as the Airflow they test).
TEST_TOOLS = ["pytest>=8", "pytest-timeout>=2.3", "hypothesis>=6.100"]
#: Extra libraries a release's UI code needs to be tested for real (the connection form):
#: Airflow 3.0 converts a hook's WTForms widgets only when WTForms is installed.
UI_EXTRAS: dict[str, list[str]] = {"3.0.6": ["wtforms"]}
#: What is copied next to the tests (pytest's settings, the example DAGs and templates).
STAGED = ["tests", "example_dags", "pyproject.toml"]


def uv() -> str:
    return os.environ.get("UV") or shutil.which("uv") or "uv"


def run(args: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> int:
    with log.open("a") as out:
        out.write(f"$ {' '.join(args)}\n")
        out.flush()
        return subprocess.run(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, check=False
        ).returncode


def build_wheel() -> Path:
    dist = WORK / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    log = WORK / "build-wheel.log"
    log.unlink(missing_ok=True)
    if run([uv(), "build", "--wheel", "--quiet", "-o", str(dist), str(ROOT)], log) != 0:
        sys.exit(f"uv build failed, see {log}")
    (wheel,) = dist.glob("*.whl")
    return wheel


def build_env(version: str) -> tuple[str, float, str]:
    """Create or reuse ``.compat/af-VERSION``; return (version, seconds, error or "")."""
    start = time.monotonic()
    day = RELEASES[version]
    env_dir = WORK / f"af-{version}"
    wanted = [f"apache-airflow=={version}", *TEST_TOOLS, *UI_EXTRAS.get(version, [])]
    key = hashlib.sha256(json.dumps([wanted, day, PYTHON]).encode()).hexdigest()[:16]
    stamp = env_dir / ".compat-stamp"
    log = WORK / f"build-{version}.log"
    if stamp.exists() and stamp.read_text() == key:
        return version, time.monotonic() - start, ""
    log.unlink(missing_ok=True)
    python = str(env_dir / "bin" / "python")
    steps = [
        [uv(), "venv", "--quiet", "--clear", "-p", PYTHON, str(env_dir)],
        [uv(), "pip", "install", "--quiet", "-p", python, *wanted, "--exclude-newer", day],
    ]
    for step in steps:
        if run(step, log) != 0:
            return version, time.monotonic() - start, f"environment build failed, see {log}"
    stamp.write_text(key)
    return version, time.monotonic() - start, ""


def stage_tests(version: str) -> Path:
    """A copy of the tests outside the repository: ``import airflow_provider_ecall`` then
    finds the installed wheel, not the working tree."""
    stage = WORK / "run" / version
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    for name in STAGED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, stage / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, stage / name)
    return stage


def run_tests(version: str, wheel: Path, pytest_args: list[str]) -> tuple[str, float, int]:
    start = time.monotonic()
    env_dir = WORK / f"af-{version}"
    python = str(env_dir / "bin" / "python")
    day = RELEASES[version]
    log = WORK / f"test-{version}.log"
    log.unlink(missing_ok=True)
    # With its dependencies, as of the same day: the wheel's requirements must resolve
    # against that Airflow (the packaging is under test too).
    install = [uv(), "pip", "install", "--quiet", "-p", python, "--exclude-newer", day]
    if run([*install, "--reinstall-package", "airflow-provider-ecall", str(wheel)], log) != 0:
        return version, time.monotonic() - start, 2
    stage = stage_tests(version)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHON"))}
    environ.update(
        PATH=f"{env_dir / 'bin'}{os.pathsep}{environ.get('PATH', '')}",
        ECALL_COMPAT_WHEEL=wheel.name,
        PYTHONDONTWRITEBYTECODE="1",
    )
    junit = RESULTS / f"{version}.xml"
    junit.unlink(missing_ok=True)
    args = [python, "-m", "pytest", "-m", "compat", "-p", "no:cacheprovider", "-q"]
    # Older releases run dag.test() far slower (3.0-3.2: in-process API per task): a module's
    # three `airflow dags test` runs may take over make test's 300 s on a busy machine.
    args += [f"--junitxml={junit}", "-o", "junit_family=xunit1", "-o", "timeout=900"]
    args += pytest_args
    code = run(args, log, env=environ, cwd=stage)
    return version, time.monotonic() - start, code


def longest_first(versions: list[str]) -> list[str]:
    """The releases in the order to test them: the slowest of the last run first, so the two
    test slots finish together (Airflow 3.0 to 3.2 run ``dag.test()`` slowest)."""
    last: dict[str, float] = {"3.1.8": 4, "3.0.6": 3, "3.2.2": 2, "3.3.2": 1}
    summary = RESULTS / "summary.json"
    if summary.exists():
        releases = json.loads(summary.read_text()).get("releases", {})
        last = {v: float(data.get("test_seconds") or 0) for v, data in releases.items()}
    return sorted(versions, key=lambda version: -last.get(version, 0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", nargs="*", default=list(RELEASES), help="subset to run")
    parser.add_argument("--table-only", action="store_true", help="rewrite the README table")
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    options = parser.parse_args()
    if options.table_only:
        write_readme_table(ROOT / "README.md", RESULTS / "summary.json")
        return 0
    unknown = sorted(set(options.versions) - set(RELEASES))
    if unknown:
        sys.exit(f"unknown release(s) {unknown}; supported: {list(RELEASES)}")
    started = time.monotonic()
    WORK.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    with ThreadPoolExecutor(max_workers=len(options.versions) + 1) as pool:
        wheel_job = pool.submit(build_wheel)
        builds = list(pool.map(build_env, options.versions))
        wheel = wheel_job.result()
    for version, seconds, error in builds:
        print(f"env {version}: {'FAILED: ' + error if error else 'ready'} ({seconds:.0f} s)")
    ready = longest_first([version for version, _, error in builds if not error])
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(run_tests, v, wheel, options.pytest_args) for v in ready]
        runs = [job.result() for job in jobs]
    for version, seconds, code in runs:
        print(f"tests {version}: exit {code} ({seconds:.0f} s), log .compat/test-{version}.log")
    summary = RESULTS / "summary.json"
    write_summary(summary, options.versions, builds, runs, time.monotonic() - started)
    if set(options.versions) == set(RELEASES):
        write_readme_table(ROOT / "README.md", summary)
    failed = len(ready) < len(options.versions) or any(code != 0 for _, _, code in runs)
    print(f"test-compat: {'FAILED' if failed else 'passed'} in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


def write_summary(
    path: Path,
    versions: list[str],
    builds: list[tuple[str, float, str]],
    runs: list[tuple[str, float, int]],
    seconds: float,
) -> None:

    data = {
        "seconds": round(seconds),
        "releases": {
            version: {
                "release_day": RELEASES[version],
                "build_seconds": round(next(s for v, s, _ in builds if v == version)),
                "build_error": next(e for v, _, e in builds if v == version),
                "test_seconds": round(next((s for v, s, _ in runs if v == version), 0)),
                "exit": next((c for v, _, c in runs if v == version), None),
                "tests": read_junit(RESULTS / f"{version}.xml"),
            }
            for version in versions
        },
    }
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    sys.exit(main())
