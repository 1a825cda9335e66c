"""``ecall-sandbox-inject``: put an inbound SMS into a running sandbox, or call a callback
URL the way eCall does.

- ``ecall-sandbox-inject sms --sandbox URL --from N --to N --message TEXT``: the SMS waits in
  the sandbox's inbound cache (``Api/Cache/GetNextMessage`` serves it); prints its MessageID.
- ``ecall-sandbox-inject reply URL --from N --to N --message TEXT [--job-id ID]``: a reply
  callback (GET, Windows-1252, ``dd.mm.yyyy hh:mm:ss``); prints the HTTP status.
- ``ecall-sandbox-inject delivery URL --number N --code C --text T [--job-id ID]``: a
  delivery notification, likewise.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from airflow_provider_ecall.sandbox.callbacks import call_callback, delivery_params, reply_params
from airflow_provider_ecall.sandbox.server import DEFAULT_PASSWORD, DEFAULT_USERNAME


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="ecall-sandbox-inject", description="Inbound SMS and callbacks for the sandbox."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    sms = commands.add_parser("sms", help="cache an inbound SMS in a running sandbox")
    sms.add_argument("--sandbox", required=True, help="the sandbox's base URL")
    sms.add_argument(
        "--username", default=os.environ.get("ECALL_SANDBOX_USERNAME", DEFAULT_USERNAME)
    )
    sms.add_argument(
        "--password", default=os.environ.get("ECALL_SANDBOX_PASSWORD", DEFAULT_PASSWORD)
    )
    reply = commands.add_parser("reply", help="call a reply (Answer) callback URL")
    reply.add_argument("url")
    reply.add_argument("--job-id")
    for command in (sms, reply):
        command.add_argument("--from", dest="address_from", required=True)
        command.add_argument("--to", dest="address_to", required=True)
        command.add_argument("--message", required=True)
    delivery = commands.add_parser("delivery", help="call a delivery-notification URL")
    delivery.add_argument("url")
    delivery.add_argument("--number", required=True)
    delivery.add_argument("--code", type=int, required=True, help="eCall's status code")
    delivery.add_argument("--text", required=True)
    delivery.add_argument("--job-id")
    return parser


def _cache_sms(args: argparse.Namespace) -> str:
    import requests

    from airflow_provider_ecall.client.responses import parse_result

    form = {
        "UserName": args.username,
        "Password": args.password,
        "AddressFrom": args.address_from,
        "AddressTo": args.address_to,
        "Message": args.message,
    }
    answer = requests.post(f"{args.sandbox.rstrip('/')}/Sandbox/Inbound", data=form, timeout=10)
    result = parse_result(answer.content)
    if answer.status_code != 200 or result.code != 0:
        raise SystemExit(f"ecall-sandbox-inject: refused ({answer.status_code}: {result.text})")
    return result.additional_info or ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command.

    :param argv: the arguments (default ``sys.argv[1:]``).
    :return: 0 on success, 1 when a callback answered other than 200.
    """
    args = build_parser().parse_args(argv)
    if args.command == "sms":
        print(_cache_sms(args))
        return 0
    if args.command == "reply":
        params = reply_params(
            address_from=args.address_from,
            address_to=args.address_to,
            message=args.message,
            job_id=args.job_id,
        )
    else:
        params = delivery_params(
            number=args.number, result_code=args.code, result_text=args.text, job_id=args.job_id
        )
    status = call_callback(args.url, params)
    print(status)
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
