"""``make test-compat``: the tests marked ``compat`` on every row of the matrix.

The rows (:mod:`scripts.compat_matrix.rows`): every supported Airflow release on Python 3.11,
the oldest on Python 3.10, the newest on 3.12 and 3.13, and the next Airflow's pre-release as a
canary that is reported but does not gate.

1. builds the project's wheel once (``uv build``);
2. builds one environment per row in ``.compat/af-<row>`` with uv, each as of the release's
   day (``--exclude-newer``: a plain install of an older Airflow pulls later libraries that
   break it), several at once (building is mostly waiting on I/O); an environment whose inputs
   did not change is reused; a row whose Python the machine lacks is reported and left out;
3. installs the wheel (not the working tree) into each and runs ``pytest -m compat`` on a copy
   of ``tests/`` outside the repository, so the installed package is what is tested; at most
   ``--jobs`` rows run at once (default 2: the machine has two cores; CI passes 1 while
   ``make test`` has the other core);
4. writes ``.compat/results/<row>.xml`` (JUnit) and ``.compat/results/summary.json``, and
   the compatibility table into README.md (``--table-only`` rewrites only the table).

Stdlib only: it runs on the machine's Python before any environment exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scripts.compat_matrix.rows import BY_NAME, Row, find_python
from scripts.compat_matrix.table import TIMED_OUT, read_junit, write_readme_table

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".compat"
RESULTS = WORK / "results"
#: Test tools of every environment (as of the same day as the Airflow they test).
TEST_TOOLS = ["pytest>=8", "pytest-timeout>=2.3", "hypothesis>=6.100"]
#: Extra libraries a release's UI code needs to be tested for real (the connection form):
#: Airflow 3.0 converts a hook's WTForms widgets only when WTForms is installed.
UI_EXTRAS: dict[str, list[str]] = {"3.0.6": ["wtforms"]}
#: What is copied next to the tests (pytest's settings, the example DAGs and templates, the
#: README whose quick start is run).
STAGED = ["tests", "example_dags", "pyproject.toml", "README.md"]


def uv() -> str:
    return os.environ.get("UV") or shutil.which("uv") or "uv"


#: A row's tests stop after this long (its slowest run so far: 6 minutes). pytest-timeout
#: alone cannot bound them: ``dag.test()`` runs the task runner in pytest's main thread, and
#: its signal handlers replace the alarm pytest-timeout relies on (a 3.4.0b2 approval test
#: once hung CI for over an hour that way).
ROW_LIMIT = 1500
#: The canary's limit: it does not gate, so it must not hold the run up either.
CANARY_LIMIT = 600


def run(
    args: list[str],
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    limit: float | None = None,
) -> int:
    """Run ``args`` with its output in ``log``; after ``limit`` seconds, kill it and every
    process it started and return :data:`TIMED_OUT`."""
    with log.open("a") as out:
        out.write(f"$ {' '.join(args)}\n")
        out.flush()
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )
        try:
            return process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            out.write(f"\n=== stopped after {limit:.0f} s: the row's time limit\n")
            return TIMED_OUT


def build_wheel() -> Path:
    dist = WORK / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    log = WORK / "build-wheel.log"
    log.unlink(missing_ok=True)
    if run([uv(), "build", "--wheel", "--quiet", "-o", str(dist), str(ROOT)], log) != 0:
        sys.exit(f"uv build failed, see {log}")
    (wheel,) = dist.glob("*.whl")
    return wheel


def resolution(row: Row) -> list[str]:
    """uv's resolution options for a row: as of its day, pre-releases where it is one."""
    return ["--exclude-newer", row.day, *(["--prerelease", "allow"] if row.prerelease else [])]


def build_env(row: Row) -> tuple[str, float, str]:
    """Create or reuse ``.compat/af-<row>``; return (row name, seconds, error or "")."""
    start = time.monotonic()
    env_dir = WORK / f"af-{row.name}"
    log = WORK / f"build-{row.name}.log"
    interpreter = find_python(row.python)
    if interpreter is None:
        error = f"Python {row.python} not found (pyenv versions, PATH): row left out"
        return row.name, time.monotonic() - start, error
    wanted = [f"apache-airflow=={row.airflow}", *TEST_TOOLS, *UI_EXTRAS.get(row.airflow, [])]
    inputs = [wanted, resolution(row), interpreter, "compiled"]
    key = hashlib.sha256(json.dumps(inputs).encode())
    stamp = env_dir / ".compat-stamp"
    if stamp.exists() and stamp.read_text() == key.hexdigest()[:16]:
        return row.name, time.monotonic() - start, ""
    log.unlink(missing_ok=True)
    python = str(env_dir / "bin" / "python")
    steps = [
        [uv(), "venv", "--quiet", "--clear", "-p", interpreter, str(env_dir)],
        [uv(), "pip", "install", "--quiet", "-p", python, *wanted, *resolution(row)],
        compile_all(python),
    ]
    for step in steps:
        if run(step, log) != 0:
            return row.name, time.monotonic() - start, f"environment build failed, see {log}"
    stamp.write_text(key.hexdigest()[:16])
    return row.name, time.monotonic() - start, ""


def compile_all(python: str) -> list[str]:
    """Byte-compile the environment's libraries once. uv installs source only, and the tests
    run with ``PYTHONDONTWRITEBYTECODE``: without this, every ``airflow`` process the tests
    start compiled Airflow again (a third of the CPU of a ``dag.test()`` test on 3.1)."""
    # A file that does not compile (test data of some library) leaves the rest compiled.
    code = (
        "import compileall, sysconfig;"
        "compileall.compile_dir(sysconfig.get_paths()['purelib'], quiet=2, workers=0)"
    )
    return [python, "-c", code]


def stage_tests(name: str) -> Path:
    """A copy of the tests outside the repository: ``import airflow_provider_ecall`` then
    finds the installed wheel, not the working tree."""
    stage = WORK / "run" / name
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    for name in STAGED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, stage / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, stage / name)
    return stage


def run_tests(row: Row, wheel: Path, pytest_args: list[str]) -> tuple[str, float, int]:
    start = time.monotonic()
    env_dir = WORK / f"af-{row.name}"
    python = str(env_dir / "bin" / "python")
    log = WORK / f"test-{row.name}.log"
    log.unlink(missing_ok=True)
    # With its dependencies, as of the same day: the wheel's requirements must resolve
    # against that Airflow (the packaging is under test too).
    install = [uv(), "pip", "install", "--quiet", "-p", python, *resolution(row)]
    if run([*install, "--reinstall-package", "airflow-provider-ecall", str(wheel)], log) != 0:
        return row.name, time.monotonic() - start, 2
    if run(compile_all(python), log) != 0:  # the provider just installed
        return row.name, time.monotonic() - start, 2
    stage = stage_tests(row.name)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHON"))}
    environ.update(
        PATH=f"{env_dir / 'bin'}{os.pathsep}{environ.get('PATH', '')}",
        ECALL_COMPAT_WHEEL=wheel.name,
        PYTHONDONTWRITEBYTECODE="1",
    )
    junit = RESULTS / f"{row.name}.xml"
    junit.unlink(missing_ok=True)
    args = [python, "-m", "pytest", "-m", "compat", "-p", "no:cacheprovider", "-q"]
    # Older releases run dag.test() far slower (3.0-3.2: in-process API per task): a module's
    # three `airflow dags test` runs may take over make test's 300 s on a busy machine.
    args += [f"--junitxml={junit}", "-o", "junit_family=xunit1", "-o", "timeout=900"]
    args += pytest_args
    code = run(args, log, env=environ, cwd=stage, limit=ROW_LIMIT if row.gating else CANARY_LIMIT)
    return row.name, time.monotonic() - start, code


def longest_first(rows: list[Row]) -> list[Row]:
    """The rows in the order to test them: the slowest of the last run first, so the test
    slots finish together (Airflow 3.0 to 3.2 run ``dag.test()`` slowest)."""
    last: dict[str, float] = {"3.1.8": 4, "3.0.6": 3, "3.2.2": 2, "3.3.2": 1}
    summary = RESULTS / "summary.json"
    if summary.exists():
        releases = json.loads(summary.read_text()).get("releases", {})
        last |= {name: float(data.get("test_seconds") or 0) for name, data in releases.items()}
    return sorted(rows, key=lambda row: -last.get(row.name, 0))


def run_all(
    ready: list[Row], wheel: Path, options: argparse.Namespace
) -> dict[str, tuple[float, int]]:
    """Test the rows, ``options.jobs`` at a time, then two at a time once the file
    ``options.widen_when`` exists (CI: when ``make test`` is done with the other core)."""
    todo: queue.SimpleQueue[Row] = queue.SimpleQueue()
    for row in ready:
        todo.put(row)
    runs: dict[str, tuple[float, int]] = {}
    widen = Path(options.widen_when) if options.widen_when else None

    def worker(slot: int) -> None:
        while slot >= options.jobs and not (widen and widen.exists()):
            if todo.empty():
                return
            time.sleep(5)
        while True:
            try:
                row = todo.get_nowait()
            except queue.Empty:
                return
            name, seconds, code = run_tests(row, wheel, options.pytest_args)
            runs[name] = (seconds, code)

    slots = max(1, options.jobs, 2 if widen else 1)
    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(slots)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return runs


def verdict(row: Row, error: str, code: int | None) -> str:
    """One row's line of the run's end: ready/failed, and whether it gates."""
    if error:
        return f"not run: {error}"
    state = {0: "passed", TIMED_OUT: "FAILED (time limit)"}.get(code, f"FAILED (exit {code})")
    return state if row.gating else f"{state}, canary: does not gate"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--versions", nargs="*", default=list(BY_NAME), help=f"rows to run, of {list(BY_NAME)}"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=int(os.environ.get("COMPAT_JOBS", "2")),
        help="rows tested at once (default $COMPAT_JOBS or 2)",
    )
    parser.add_argument(
        "--widen-when",
        default=os.environ.get("COMPAT_WIDEN_WHEN", ""),
        help="a file whose appearance lets a second row run (default $COMPAT_WIDEN_WHEN)",
    )
    parser.add_argument("--table-only", action="store_true", help="rewrite the README table")
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    options = parser.parse_args()
    if options.table_only:
        write_readme_table(ROOT / "README.md", RESULTS / "summary.json")
        return 0
    unknown = sorted(set(options.versions) - set(BY_NAME))
    if unknown:
        sys.exit(f"unknown row(s) {unknown}; the matrix has {list(BY_NAME)}")
    rows = [BY_NAME[name] for name in options.versions]
    started = time.monotonic()
    WORK.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    with ThreadPoolExecutor(max_workers=len(rows) + 1) as pool:
        wheel_job = pool.submit(build_wheel)
        builds = {name: (s, error) for name, s, error in pool.map(build_env, rows)}
        wheel = wheel_job.result()
    for row in rows:
        seconds, error = builds[row.name]
        print(f"env {row.name}: {'FAILED: ' + error if error else 'ready'} ({seconds:.0f} s)")
    ready = longest_first([row for row in rows if not builds[row.name][1]])
    runs = run_all(ready, wheel, options)
    failed = False
    for row in rows:
        seconds, code = runs.get(row.name, (0.0, None))
        error = builds[row.name][1]
        print(f"tests {row.name}: {verdict(row, error, code)} ({seconds:.0f} s)")
        missing_python = error.startswith("Python ")
        failed |= row.gating and (code != 0 if not error else not missing_python)
    summary = RESULTS / "summary.json"
    write_summary(summary, rows, builds, runs, time.monotonic() - started)
    if set(options.versions) == set(BY_NAME):
        write_readme_table(ROOT / "README.md", summary)
    print("logs: .compat/test-<row>.log; JUnit and summary.json: .compat/results/")
    print(f"test-compat: {'FAILED' if failed else 'passed'} in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


def write_summary(
    path: Path,
    rows: list[Row],
    builds: dict[str, tuple[float, str]],
    runs: dict[str, tuple[float, int]],
    seconds: float,
) -> None:
    """``summary.json``: per row its Airflow, Python, day, gating, times, exit and tests."""
    data = {
        "seconds": round(seconds),
        "releases": {
            row.name: {
                "airflow": row.airflow,
                "python": row.python,
                "title": row.title,
                "gating": row.gating,
                "release_day": row.day,
                "build_seconds": round(builds[row.name][0]),
                "build_error": builds[row.name][1],
                "test_seconds": round(runs.get(row.name, (0.0, None))[0]),
                "exit": runs.get(row.name, (0.0, None))[1],
                "tests": read_junit(RESULTS / f"{row.name}.xml"),
            }
            for row in rows
        },
    }
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    sys.exit(main())
