"""``ecall-sandbox`` / ``python -m airflow_provider_ecall.sandbox``: run the sandbox locally.

Prints one startup line (base URL and user, never the password), then one line per message
as it arrives, with the recipients masked. Stops cleanly on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TextIO

from airflow_provider_ecall.client.privacy import mask_addresses
from airflow_provider_ecall.client.transport import is_loopback
from airflow_provider_ecall.sandbox.delivery import DEFAULT_DELAY, DeliveryBehaviour
from airflow_provider_ecall.sandbox.params import ecall_timezone
from airflow_provider_ecall.sandbox.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, EcallSandbox
from airflow_provider_ecall.sandbox.state import SandboxMessage

_PREVIEW = 80
_NEWLINE = "\u23ce"


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="ecall-sandbox",
        description="Run a local simulator of the eCall HTTPS interface.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0: any free port)")
    parser.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    parser.add_argument(
        "--username",
        default=os.environ.get("ECALL_SANDBOX_USERNAME", DEFAULT_USERNAME),
        help="accepted UserName (env ECALL_SANDBOX_USERNAME)",
    )
    parser.add_argument(
        "--password",
        default=os.environ.get("ECALL_SANDBOX_PASSWORD", DEFAULT_PASSWORD),
        help="accepted Password (env ECALL_SANDBOX_PASSWORD)",
    )
    parser.add_argument("--journal", metavar="FILE", help="append accepted messages as JSON lines")
    parser.add_argument("--port-file", metavar="FILE", help="write the port here once listening")
    parser.add_argument("--quiet", action="store_true", help="print nothing on stdout")
    _add_delivery_arguments(parser.add_argument_group("delivery (what Api/State reports)"))
    return parser


def _add_delivery_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--delivery-delay",
        type=float,
        default=DEFAULT_DELAY,
        metavar="SECONDS",
        help=f"time from acceptance to the final status (default {DEFAULT_DELAY:g}; 0: at once)",
    )
    numbers = {
        "--fail": ("failing", "a number whose delivery fails (repeatable)"),
        "--never": ("never", "a number whose delivery never becomes final (repeatable)"),
        "--unanswered": ("unanswered", "a voice number nobody answers (repeatable)"),
        "--unconfirmed": ("unconfirmed", "a voice number that never presses # (repeatable)"),
    }
    for flag, (dest, text) in numbers.items():
        group.add_argument(
            flag, dest=dest, action="append", default=[], metavar="NUMBER", help=text
        )


def delivery_from(args: argparse.Namespace) -> DeliveryBehaviour:
    """The delivery behaviour the command line asks for.

    :raises SystemExit: a negative delay (argparse's usage error).
    """
    try:
        return DeliveryBehaviour(
            delay=args.delivery_delay,
            failing=frozenset(args.failing),
            never=frozenset(args.never),
            unanswered=frozenset(args.unanswered),
            unconfirmed=frozenset(args.unconfirmed),
        )
    except ValueError as exc:
        build_parser().error(f"--delivery-delay: {exc}")


def preview(text: str, limit: int = _PREVIEW) -> str:
    """Show a message on one line: newlines as ⏎, cut to ``limit`` characters.

    :param text: the message.
    :param limit: the most characters shown.
    """
    flat = text.replace("\r\n", _NEWLINE).replace("\n", _NEWLINE).replace("\r", _NEWLINE)
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def format_message(message: SandboxMessage) -> str:
    """Return the console line for one received message (recipients masked).

    :param message: the accepted message.
    """
    moment = message.received_at.astimezone(ecall_timezone()).strftime("%H:%M:%S")
    job = message.job_id or "-"
    recipients = mask_addresses(message.addresses)
    return f"{moment} {message.kind:<5} to={recipients} job={job} {preview(message.message)}"


def _write_port_file(path: str, port: int) -> None:
    target = Path(path)
    partial = target.with_name(target.name + ".tmp")
    partial.write_text(f"{port}\n", encoding="utf-8")
    partial.replace(target)


def _emit(line: str, stream: TextIO) -> None:
    stream.write(line + "\n")
    stream.flush()


def _echo_to(stream: TextIO, lock: threading.Lock) -> Callable[[SandboxMessage], None]:
    def echo(message: SandboxMessage) -> None:
        with lock:
            _emit(format_message(message), stream)

    return echo


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sandbox until SIGINT or SIGTERM.

    :param argv: the arguments (default ``sys.argv[1:]``).
    :return: the exit status (0 after a clean stop, 2 for a refused host).
    """
    args = build_parser().parse_args(argv)
    if not (args.allow_remote or is_loopback(args.host)):
        message = f"refusing non-loopback host {args.host!r} without --allow-remote"
        print(f"ecall-sandbox: {message}", file=sys.stderr)
        return 2
    out = sys.stdout
    if isinstance(out, io.TextIOWrapper):
        out.reconfigure(errors="replace")
    lock = threading.Lock()
    sandbox = EcallSandbox(
        host=args.host,
        port=args.port,
        username=args.username,
        password=args.password,
        journal=args.journal,
        echo=None if args.quiet else _echo_to(out, lock),
        delivery=delivery_from(args),
    )
    stop = threading.Event()
    _install_signals(stop)
    with sandbox:
        if args.port_file:
            _write_port_file(args.port_file, sandbox.port)
        if not args.quiet:
            with lock:
                _emit(f"eCall sandbox on {sandbox.base_url} (user {sandbox.username})", out)
        while not stop.wait(0.5):
            pass
    return 0


def _install_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    sys.exit(main())
