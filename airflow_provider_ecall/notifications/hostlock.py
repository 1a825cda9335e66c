"""A lock shared by every process on this machine, for the "ask eCall, then send" of storm
control (no Airflow import).

Two alerts with the same storm JobID on one worker (ten tasks of one DAG failing at once)
take turns: the second asks ``Api/State`` only after the first has sent, sees the job and
stays silent. Workers on other machines do not share the lock; see docs/alerting.md for what
a race between machines can do. The lock files are empty and striped over 256 names, so
their number stays bounded; they hold no state.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Final

_STRIPES: Final = 256
_POLL_SECONDS: Final = 0.05


def _lock_path(name: str) -> Path:
    folder = Path(tempfile.gettempdir()) / "airflow-provider-ecall-locks"
    folder.mkdir(mode=0o700, exist_ok=True)
    stripe = zlib.crc32(name.encode("utf-8")) % _STRIPES
    return folder / f"alert-{stripe:03d}.lock"


@contextlib.contextmanager
def host_lock(name: str, *, timeout: float) -> Iterator[bool]:
    """Hold the machine-wide lock of ``name`` for the block (threads and processes alike).

    Waiting ends after ``timeout`` seconds: the block then runs without the lock rather than
    losing the alert, and the context value is False.

    :param name: what to lock (a storm JobID).
    :param timeout: seconds to wait at most.
    """
    try:
        import fcntl
    except ImportError:  # not a POSIX system: nothing to share a lock with
        yield False
        return
    try:
        handle = os.open(_lock_path(name), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield False
        return
    deadline = time.monotonic() + timeout
    held = False
    try:
        while not held:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(_POLL_SECONDS)
        yield held
    finally:
        os.close(handle)  # closing the descriptor releases the lock
