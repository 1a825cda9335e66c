"""``make dist``: build the sdist and the wheel, check them, and prove the wheel works once
installed the way a user installs it.

1. ``uv build`` into ``dist/``: the sdist, then the wheel built from that sdist (so the sdist
   is complete); the wheel holds the package and its ``py.typed``, no tests or tooling;
2. ``twine check --strict`` on both (the long description renders, the metadata is whole);
3. a clean environment ``.dist/venv``: Airflow (``--airflow``, as of ``--as-of``), pytest and
   the wheel, nothing of the working tree. From a folder outside the repository:

   - the provider registers: the ProvidersManager lists it with the wheel's version, its
     hook (connection type ``ecall``) and its notifiers;
   - the callback plugin loads, once, without import errors;
   - the console scripts run: ``ecall-sandbox`` serves on a free port and
     ``ecall-sandbox-inject`` caches an inbound SMS in it; ``ecall-watchdog --help`` runs and,
     without its settings, ``ecall-watchdog`` stops with exit code 2 naming the first one;
   - the sandbox pytest plugin is found: a test file that uses its ``ecall_sandbox_connection``
     fixture sends an SMS through ``EcallHook`` and sees it arrive.

Stdlib only: it runs on the machine's Python before any environment exists.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from scripts.release.checks import INSTALLED_CHECKS, PYTEST_PLUGIN_TEST

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
WORK = ROOT / ".dist"
PACKAGE = "airflow_provider_ecall"


def uv() -> str:
    return os.environ.get("UV") or shutil.which("uv") or "uv"


def step(title: str, args: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> None:
    """Run one command; stop ``make dist`` with its output when it fails."""
    started = time.monotonic()
    done = subprocess.run(args, text=True, capture_output=True, env=env, cwd=cwd, check=False)
    if done.returncode != 0:
        sys.exit(f"dist: {title} FAILED\n$ {' '.join(args)}\n{done.stdout}{done.stderr}")
    for line in done.stdout.splitlines():
        print(f"  {line}")
    print(f"dist: {title}: ok ({time.monotonic() - started:.0f} s)")


def source_version() -> str:
    """``__version__`` as written in the package (the one place the version lives)."""
    tree = ast.parse((ROOT / PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            return str(ast.literal_eval(node.value))
    sys.exit(f"dist: no __version__ in {PACKAGE}/__init__.py")


def build() -> tuple[Path, Path]:
    shutil.rmtree(DIST, ignore_errors=True)
    step(
        "uv build (sdist, then the wheel from it)",
        [uv(), "build", "-q", "-o", str(DIST), str(ROOT)],
    )
    (sdist,) = DIST.glob("*.tar.gz")
    (wheel,) = DIST.glob("*.whl")
    return sdist, wheel


def check_contents(sdist: Path, wheel: Path, version: str) -> None:
    """Both carry the source's version; the wheel holds the package, not tests or tooling."""
    for artifact in (sdist, wheel):
        if f"-{version}" not in artifact.name:
            sys.exit(f"dist: {artifact.name} does not carry version {version}")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    extra = {top for top in tops if top != PACKAGE and not top.endswith(".dist-info")}
    if extra or f"{PACKAGE}/py.typed" not in names:
        sys.exit(f"dist: the wheel holds {sorted(extra)} besides the package, or lacks py.typed")
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    if not any(name.endswith(f"{PACKAGE}/py.typed") for name in members):
        sys.exit("dist: the sdist lacks the package's py.typed")
    print(f"dist: contents: ok ({len(names)} files in the wheel, {len(members)} in the sdist)")


def clean_environment(wheel: Path, airflow: str, as_of: str) -> Path:
    venv = WORK / "venv"
    python = venv / "bin" / "python"
    step("clean environment", [uv(), "venv", "-q", "--clear", "-p", "3.11", str(venv)])
    install = [uv(), "pip", "install", "-q", "-p", str(python), "--exclude-newer", as_of]
    step(
        f"install Airflow {airflow}, pytest and the wheel",
        [*install, f"apache-airflow=={airflow}", "pytest>=8", str(wheel)],
    )
    return venv


def prove_installed(venv: Path, version: str) -> None:
    """The checks of the module docstring, in a folder outside the repository."""
    with tempfile.TemporaryDirectory(prefix="ecall-dist-") as folder:
        here = Path(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHON"))}
        env |= {
            "AIRFLOW_HOME": str(here / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "ECALL_DIST_VERSION": version,
        }
        python = str(venv / "bin" / "python")
        step(
            "provider registers, plugin loads, console scripts run",
            [python, "-c", INSTALLED_CHECKS],
            env=env,
            cwd=here,
        )
        (here / "test_sandbox_plugin.py").write_text(PYTEST_PLUGIN_TEST, encoding="utf-8")
        step(
            "sandbox pytest plugin found",
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_sandbox_plugin.py"],
            env=env,
            cwd=here,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--airflow", default="3.3.2", help="the Airflow of the clean environment")
    parser.add_argument("--as-of", default="2026-09-17", help="its release day (--exclude-newer)")
    options = parser.parse_args()
    started = time.monotonic()
    version = source_version()
    sdist, wheel = build()
    check_contents(sdist, wheel, version)
    step(
        "twine check --strict",
        [
            uv(),
            "tool",
            "run",
            "--from",
            "twine>=6",
            "twine",
            "check",
            "--strict",
            str(sdist),
            str(wheel),
        ],
    )
    venv = clean_environment(wheel, options.airflow, options.as_of)
    prove_installed(venv, version)
    print(
        f"dist: {sdist.name} and {wheel.name} ready in dist/ ({time.monotonic() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
