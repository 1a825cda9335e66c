"""The processes ``make e2e`` owns: PostgreSQL, Redis and any command, each in its own group.

Every process runs in a new session (its own process group), writes to a log file under the
run's directory and is stopped — SIGTERM to the group, SIGKILL after a grace period — by
:meth:`Processes.stop_all`, which the driver calls on success, failure and Ctrl-C alike.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PG_BINDIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
#: The unprivileged account PostgreSQL runs as when the run is root (the server refuses root).
PG_ACCOUNT = "postgres"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(what: str, ready: Callable[[], bool], timeout: float, proc: Proc) -> None:
    """Poll ``ready`` until it holds; fail early when ``proc`` has exited.

    :raises RuntimeError: the process exited, or ``timeout`` seconds passed.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.popen.returncode}; see {proc.log}")
        time.sleep(0.3)
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s; see {proc.log}")


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Proc:
    """One started process: its name, handle and log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    #: The polite stop; PostgreSQL wants SIGINT ("fast shutdown": SIGTERM waits for clients).
    stop_signal: int = signal.SIGTERM


@dataclass
class Processes:
    """The processes of one run, stopped together (newest first)."""

    logs: Path
    started: list[Proc] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        user: str | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> Proc:
        """Start ``argv`` in its own session, output to ``<logs>/<name>.log``.

        :param user: run as this account (only when the run is root).
        """
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                list(argv),
                env=dict(env) if env is not None else None,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                user=user,
            )
        proc = Proc(name, popen, log, stop_signal)
        self.started.append(proc)
        return proc

    def kill(self, proc: Proc) -> None:
        """SIGKILL the whole process group of ``proc`` at once (a machine that dies)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.popen.pid, signal.SIGKILL)
        proc.popen.wait()

    def stop_all(self, grace: float = 15.0) -> None:
        """Stop every process group, newest first; SIGKILL what is left after ``grace``."""
        for proc in reversed(self.started):
            _signal_group(proc, proc.stop_signal)
        deadline = time.monotonic() + grace
        for proc in reversed(self.started):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(max(0.1, deadline - time.monotonic()))
            _signal_group(proc, signal.SIGKILL)  # also children that outlived their parent
            proc.popen.wait()
        self.started.clear()


def _signal_group(proc: Proc, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.popen.pid, signum)


def _pg_bin(name: str) -> str:
    for bindir in PG_BINDIRS:
        if (bindir / name).exists():
            return str(bindir / name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} not found (apt-get install postgresql)")
    return found


def _pg_user() -> str | None:
    if os.geteuid() != 0:
        return None
    pwd.getpwnam(PG_ACCOUNT)  # KeyError: the package creates the account
    return PG_ACCOUNT


def start_postgres(procs: Processes, workdir: Path) -> str:
    """initdb a throw-away cluster and start it on a free loopback port.

    :return: the SQLAlchemy URL of database ``airflow`` (user ``airflow``, trust on loopback).
    """
    user = _pg_user()
    data = workdir / "pgdata"
    data.mkdir(mode=0o700)
    if user is not None:
        account = pwd.getpwnam(user)
        for path in (workdir, data):
            os.chown(path, account.pw_uid, account.pw_gid)
    log = procs.logs / "initdb.log"
    with log.open("wb") as out:
        subprocess.run(
            [_pg_bin("initdb"), "-D", str(data), "-U", "airflow", "-A", "trust", "-E", "UTF8"],
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            user=user,
            cwd=workdir,
        )
    port = free_port()
    # A throw-away cluster: durability off, room for every component's connection pool.
    settings = ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
    settings.append("max_connections=200")
    argv = [_pg_bin("postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port)]
    argv += ["-k", str(workdir)]
    for setting in settings:
        argv += ["-c", setting]
    # The server's children lead their own process groups; a fast shutdown ends them all.
    proc = procs.start("postgres", argv, user=user, stop_signal=signal.SIGINT)
    wait_for("postgres", lambda: _pg_ready(port, workdir), 60, proc)
    subprocess.run(
        [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "airflow", "airflow"],
        check=True,
        capture_output=True,
    )
    return f"postgresql+psycopg2://airflow@127.0.0.1:{port}/airflow"


def _pg_ready(port: int, workdir: Path) -> bool:
    probe = [_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", "airflow"]
    return subprocess.run(probe, capture_output=True, cwd=workdir).returncode == 0


def start_redis(procs: Processes, workdir: Path) -> str:
    """Start a Redis without persistence on a free loopback port; return its URL."""
    port = free_port()
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("redis-server not found (apt-get install redis-server)")
    argv = [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly"]
    argv += ["no", "--dir", str(workdir), "--protected-mode", "yes"]
    proc = procs.start("redis", argv)
    wait_for("redis", lambda: port_open(port), 30, proc)
    return f"redis://127.0.0.1:{port}/0"
