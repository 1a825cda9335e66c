"""The sandbox's side of eCall's callbacks and inbound SMS (reference sections 6 and 7).

- :func:`reply_params` / :func:`delivery_params`: the query parameters eCall sends to an
  ``Answer`` URL (a reply) or a ``NotificationAddress`` URL (a delivery notification);
- :func:`callback_url`: those parameters in the vendor's encoding — a GET query in
  Windows-1252 with ``dd.mm.yyyy hh:mm:ss`` times in eCall's local time;
- :func:`call_callback`: one such GET, as eCall would make it;
- :func:`cache_inbound`: the ``Sandbox/Inbound`` control endpoint that puts an SMS into the
  cache (used by ``ecall-sandbox-inject sms``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Final
from urllib.parse import urlencode, urlsplit

from airflow_provider_ecall.sandbox.params import ecall_timezone, parse_date
from airflow_provider_ecall.sandbox.state import InboundSms, new_id

if TYPE_CHECKING:
    from airflow_provider_ecall.sandbox.state import SandboxState

#: The encoding eCall writes callback queries in (reference section 7).
CALLBACK_ENCODING: Final = "cp1252"
CALLBACK_TIME_FORMAT: Final = "%d.%m.%Y %H:%M:%S"


def callback_time(moment: datetime) -> str:
    """``dd.mm.yyyy hh:mm:ss`` in eCall's local time (no offset, as eCall writes it).

    :param moment: an aware datetime.
    """
    return moment.astimezone(ecall_timezone()).strftime(CALLBACK_TIME_FORMAT)


def reply_params(
    *,
    address_from: str,
    address_to: str,
    message: str,
    timestamp: datetime | None = None,
    job_id: str | None = None,
) -> dict[str, str]:
    """The parameters of a reply callback (``Function=Answer``).

    :param address_from: who replied.
    :param address_to: the number the reply went to.
    :param message: the reply's text.
    :param timestamp: when eCall received it (default now).
    :param job_id: the JobID of the SMS it answers.
    """
    params = {
        "Function": "Answer",
        "AddressFrom": address_from,
        "AddressTo": address_to,
        "Message": message,
        "TimeStamp": callback_time(timestamp or datetime.now(timezone.utc)),
    }
    if job_id:
        params["JobID"] = job_id
    return params


def delivery_params(
    *,
    number: str,
    result_code: int,
    result_text: str,
    timestamp: datetime | None = None,
    job_id: str | None = None,
) -> dict[str, str]:
    """The parameters of a delivery notification.

    :param number: the recipient the notification is about.
    :param result_code: eCall's code for the outcome.
    :param result_text: its words.
    :param timestamp: when it happened (default now).
    :param job_id: the JobID of the message.
    """
    params = {
        "ResultCode": str(result_code),
        "ResultText": result_text,
        "Number": number,
        "TimeStamp": callback_time(timestamp or datetime.now(timezone.utc)),
    }
    if job_id:
        params["JobID"] = job_id
    return params


def callback_url(url: str, params: Mapping[str, str]) -> str:
    """The full callback URL: ``url`` plus the parameters percent-encoded in Windows-1252.

    Characters Windows-1252 lacks become ``?``, as a legacy encoder would write them.

    :param url: the ``Answer`` / ``NotificationAddress`` URL (it may carry a query).
    :param params: :func:`reply_params` or :func:`delivery_params`.
    """
    query = urlencode(dict(params), encoding=CALLBACK_ENCODING, errors="replace")
    joiner = "&" if urlsplit(url).query else ("" if url.endswith("?") else "?")
    return f"{url}{joiner}{query}"


def call_callback(url: str, params: Mapping[str, str], *, timeout: float = 10.0) -> int:
    """Make the GET eCall makes to a callback URL.

    :param url: the callback URL.
    :param params: :func:`reply_params` or :func:`delivery_params`.
    :param timeout: seconds.
    :return: the HTTP status of the answer.
    """
    import requests

    with requests.Session() as session:
        answer = session.get(callback_url(url, params), timeout=timeout, allow_redirects=False)
        return answer.status_code


def cache_inbound(state: SandboxState, params: dict[str, str]) -> tuple[int, int, str, str]:
    """Serve the control endpoint ``Sandbox/Inbound``: cache one SMS.

    Parameters: ``AddressFrom``, ``AddressTo``, ``Message`` (required) and ``TimeStamp``
    (ISO 8601, default now).

    :return: ``(http_status, result_code, result_text, message_id)``; the id is empty when
        the request was refused.
    """
    missing = [name for name in ("AddressFrom", "AddressTo", "Message") if not params.get(name)]
    if missing:
        return 400, 11000, f"{missing[0]} is required", ""
    moment = datetime.now(timezone.utc)
    if params.get("TimeStamp"):
        parsed = parse_date(params["TimeStamp"])
        if parsed is None:
            return 400, 11202, "TimeStamp is not an ISO 8601 time", ""
        moment = parsed
    message_id = new_id()
    state.add_inbound(
        InboundSms(
            message_id, params["AddressFrom"], params["AddressTo"], params["Message"], moment
        )
    )
    return 200, 0, "OK", message_id
