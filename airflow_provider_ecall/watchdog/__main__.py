"""``ecall-watchdog`` / ``python -m airflow_provider_ecall.watchdog``: watch Airflow from
outside and page through eCall (settings: docs/watchdog.md)."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

from airflow_provider_ecall.watchdog._config import WatchdogConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    """Start the watchdog; return its exit code (2: a setting is wrong)."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from airflow_provider_ecall.client.errors import EcallValidationError
    from airflow_provider_ecall.hooks.settings import client_for
    from airflow_provider_ecall.watchdog._loop import Watchdog

    try:
        config = load_config()
        try:
            client = client_for(config.ecall)
        except EcallValidationError as exc:
            raise WatchdogConfigError("ecall_connection", f"{exc.field} {exc.rule}") from None
        watchdog = Watchdog(config, client)
        watchdog.check_start()
    except WatchdogConfigError as exc:
        print(f"ecall-watchdog: {exc}", file=sys.stderr)
        return 2

    def stop(signum: int, frame: FrameType | None) -> None:
        logging.getLogger("airflow_provider_ecall.watchdog").info(
            "signal %s: stopping", signal.Signals(signum).name
        )
        watchdog.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watchdog.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
