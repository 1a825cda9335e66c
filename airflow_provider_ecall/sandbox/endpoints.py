"""What each eCall endpoint answers: send, status query and the inbound SMS cache.

Pure request-to-reply logic over a :class:`~airflow_provider_ecall.sandbox.state.SandboxState`;
the HTTP handler around it deals with sockets, faults and the request log.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

from airflow_provider_ecall.sandbox import bodies, delivery
from airflow_provider_ecall.sandbox.callbacks import cache_inbound
from airflow_provider_ecall.sandbox.delivery import DeliveryProgress
from airflow_provider_ecall.sandbox.params import CREDENTIALS, parse_date, split_entries, without
from airflow_provider_ecall.sandbox.state import (
    Kind,
    RecipientStatus,
    SandboxMessage,
    SandboxState,
    new_id,
)
from airflow_provider_ecall.sandbox.validation import Failure, check_auth, check_send

#: Path (lower case, no surrounding slashes) to endpoint key.
ENDPOINTS: Final = {
    "api/sms": "sms",
    "api/fax": "fax",
    "api/voice": "voice",
    "api/state": "state",
    "api/cache/getnextmessage": "cache_get",
    "api/cache/deletemessage": "cache_delete",
    "sandbox/inbound": "sandbox_inbound",
}
#: Initial status of a recipient per kind: (code, text); later ones: sandbox/delivery.py.
SENT_STATUS: Final[dict[Kind, tuple[int, str]]] = {
    "sms": delivery.SMS_SENT,
    "fax": delivery.FAX_SENDING,
    "voice": delivery.VOICE_SENDING,
}
SCHEDULED_STATUS: Final = (3, "Scheduled")
_KINDS: Final[dict[str, Kind]] = {"sms": "sms", "fax": "fax", "voice": "voice"}


@dataclass(frozen=True)
class Reply:
    """An answer to send back.

    :param status: the HTTP status.
    :param body: the body bytes.
    :param content_type: the ``Content-Type`` header.
    :param result_code: the eCall result code in the body, if any.
    """

    status: int
    body: bytes
    content_type: str = bodies.CONTENT_TYPE
    result_code: int | None = None


def result_reply(status: int, code: int, text: str) -> Reply:
    """Build a ``<Result>`` reply.

    :param status: the HTTP status.
    :param code: the result code.
    :param text: the result text.
    """
    return Reply(status, bodies.result_body(code, text), result_code=code)


def failure_reply(failure: Failure) -> Reply:
    """Build the ``<Result>`` reply of a refused request.

    :param failure: why it was refused.
    """
    return result_reply(failure.http_status, failure.result_code, failure.result_text)


def endpoint_key(path: str) -> str:
    """Map a request path to its endpoint key (``"unknown"`` when there is none).

    :param path: the URL path without query, e.g. ``"/api/SMS/"``.
    """
    return ENDPOINTS.get(path.strip("/").lower(), "unknown")


@dataclass(frozen=True)
class SandboxConfig:
    """The sandbox's account and limits."""

    username: str
    password: str
    max_addresses: int
    max_status_objects: int


class SandboxApp:
    """The simulated eCall service.

    :param config: account and limits.
    :param state: the store.
    :param echo: called with every accepted message (outside the lock).
    :param progress: how delivery statuses progress (default: the default behaviour).
    """

    def __init__(
        self,
        config: SandboxConfig,
        state: SandboxState,
        echo: Callable[[SandboxMessage], None] | None = None,
        progress: DeliveryProgress | None = None,
    ) -> None:
        self.config = config
        self.state = state
        self.echo = echo
        self.progress = progress or DeliveryProgress()
        #: Seconds the sandbox's clock runs ahead of the real one (:meth:`now`).
        self.clock_offset = 0.0
        self._routes: dict[str, Callable[[dict[str, str]], Reply]] = {
            "state": self.query_state,
            "cache_get": self.cache_get,
            "cache_delete": self.cache_delete,
            "sandbox_inbound": self.sandbox_inbound,
        }

    def now(self) -> datetime:
        """The sandbox's time: when it accepts a send, and what ``Api/State`` reports at."""
        return datetime.now(timezone.utc) + timedelta(seconds=self.clock_offset)

    def dispatch(self, endpoint: str, method: str, params: dict[str, str]) -> Reply:
        """Answer one request to a known endpoint.

        :param endpoint: the endpoint key (see :data:`ENDPOINTS`).
        :param method: ``"GET"`` or ``"POST"``.
        :param params: the parameters under canonical names.
        """
        failure = check_auth(params, self.config.username, self.config.password)
        if failure is not None:
            return failure_reply(failure)
        kind = _KINDS.get(endpoint)
        if kind is not None:
            return self.send(kind, method, params)
        return self._routes[endpoint](params)

    def send(self, kind: Kind, method: str, params: dict[str, str]) -> Reply:
        """Validate and record a send.

        :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
        :param method: the HTTP method.
        :param params: the parameters under canonical names.
        """
        failure = check_send(kind, params, max_addresses=self.config.max_addresses)
        if failure is not None:
            return failure_reply(failure)
        now = self.now()
        client_job_id = params.get("JobID") or None
        message = SandboxMessage(
            kind=kind,
            addresses=tuple(split_entries(params["Address"])),
            message=params["Message"],
            job_id=client_job_id,
            params=without(params, CREDENTIALS),
            received_at=now,
            method=method,
        )
        job_id = client_job_id or new_id()
        statuses = _initial_statuses(message, job_id, params)
        if not self.state.accept(message, statuses):
            return result_reply(403, 11301, "Not enough credit")
        self.progress.register(job_id, kind)
        if self.echo is not None:
            _echo(self.echo, message)
        return result_reply(200, 0, "OK")

    def query_state(self, params: dict[str, str]) -> Reply:
        """Answer ``Api/State`` by ``JobID`` or by a ``StartDate``/``EndDate`` window.

        :param params: the parameters under canonical names.
        """
        job_id = params.get("JobID", "")
        if job_id:
            statuses = self.state.job_statuses(job_id)
            if statuses is None:
                return result_reply(400, 11910, "Job not found")
            statuses = self.progress.apply(statuses, self.now())
            return Reply(200, bodies.statuses_body(statuses), result_code=None)
        start_text, end_text = params.get("StartDate", ""), params.get("EndDate", "")
        if not (start_text or end_text):
            return result_reply(400, 11911, "Status query needs a JobID")
        start = parse_date(start_text) if start_text else None
        end = parse_date(end_text) if end_text else None
        if (start_text and start is None) or (end_text and end is None):
            return result_reply(400, 11202, "Invalid date")
        in_window = self.state.window_statuses(start, end)
        limit = self.config.max_status_objects
        if len(in_window) > limit:
            return result_reply(400, 11701, f"More than {limit} status objects")
        in_window = self.progress.apply(in_window, self.now())
        return Reply(200, bodies.statuses_body(in_window), result_code=None)

    def cache_get(self, params: dict[str, str]) -> Reply:
        """Answer ``Api/Cache/GetNextMessage``: the oldest cached SMS, not removed.

        :param params: the parameters under canonical names.
        """
        sms = self.state.next_inbound(params.get("MobileNumber") or None)
        if sms is None:
            return Reply(200, bodies.cache_empty_body(), result_code=bodies.CACHE_EMPTY_CODE)
        return Reply(200, bodies.incoming_body(sms), result_code=0)

    def sandbox_inbound(self, params: dict[str, str]) -> Reply:
        """Answer the control endpoint ``Sandbox/Inbound``: cache one SMS; the answer's
        ``AdditionalInfo`` is its new ``MessageID``.

        :param params: the parameters under canonical names.
        """
        status, code, text, message_id = cache_inbound(self.state, params)
        if not message_id:
            return result_reply(status, code, text)
        body = bodies.result_body(code, text).replace(
            b'<AdditionalInfo i:nil="true"/>',
            f"<AdditionalInfo>{message_id}</AdditionalInfo>".encode(),
        )
        return Reply(status, body, result_code=code)

    def cache_delete(self, params: dict[str, str]) -> Reply:
        """Answer ``Api/Cache/DeleteMessage``: remove one cached SMS by ``MessageID``.

        :param params: the parameters under canonical names.
        """
        message_id = params.get("MessageID", "")
        if not message_id:
            return result_reply(400, 11500, "No ID given")
        if not self.state.delete_inbound(message_id):
            return result_reply(400, 11501, "ID not found")
        return result_reply(200, 0, "OK")


def _initial_statuses(
    message: SandboxMessage, job_id: str, params: dict[str, str]
) -> list[RecipientStatus]:
    code, text = SENT_STATUS[message.kind]
    timestamp = message.received_at
    send_date = parse_date(params["SendDate"]) if params.get("SendDate") else None
    if send_date is not None and send_date > message.received_at:
        code, text = SCHEDULED_STATUS
        timestamp = send_date
    return [
        RecipientStatus(job_id, address, code, text, timestamp, message.received_at)
        for address in message.addresses
    ]


def _echo(echo: Callable[[SandboxMessage], None], message: SandboxMessage) -> None:
    """Call the echo hook; its failure is reported on stderr, never to the client."""
    try:
        echo(message)
    except Exception:
        traceback.print_exc(file=sys.stderr)
