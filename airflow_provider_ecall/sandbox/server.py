"""``EcallSandbox``: a local simulator of the eCall HTTPS interface on a loopback port.

>>> with EcallSandbox() as sandbox:  # doctest: +SKIP
...     post(f"{sandbox.base_url}/Api/Sms", data={...})
...     assert sandbox.messages_of("sms")[0].addresses == ("+41791112233",)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timezone
from types import TracebackType

from airflow_provider_ecall.sandbox.delivery import DeliveryBehaviour, DeliveryProgress
from airflow_provider_ecall.sandbox.endpoints import SandboxApp, SandboxConfig
from airflow_provider_ecall.sandbox.faults import Fault
from airflow_provider_ecall.sandbox.handler import SandboxHTTPServer
from airflow_provider_ecall.sandbox.state import (
    InboundSms,
    SandboxMessage,
    SandboxRequest,
    SandboxState,
    new_id,
)

DEFAULT_USERNAME = "sandbox-user"
DEFAULT_PASSWORD = "sandbox-password"  # noqa: S105 - the sandbox's well-known test secret
#: The number replies go to, unless a test names another (a leased number of the account).
DEFAULT_LEASED_NUMBER = "+41790000000"


class EcallSandbox:
    """A local eCall simulator: accepts sends, answers status and cache queries, misbehaves
    on request.

    :param host: the address to bind (loopback by default).
    :param port: the port to bind, ``0`` for an ephemeral one.
    :param username: the only known ``UserName``.
    :param password: its ``Password``.
    :param journal: append one JSON line per accepted message to this file.
    :param max_addresses: most recipients per request (more: 400 / 11104).
    :param max_status_objects: most statuses per window query (more: 400 / 11701).
    :param credit: units available, one per recipient (``None``: unlimited; out: 403 / 11301).
    :param echo: called with every accepted message, e.g. to print it.
    :param delivery: how delivery statuses progress over time (delays, failing numbers, …);
        default :class:`~airflow_provider_ecall.sandbox.delivery.DeliveryBehaviour`'s.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        journal: str | os.PathLike[str] | None = None,
        max_addresses: int = 1000,
        max_status_objects: int = 1000,
        credit: int | None = None,
        echo: Callable[[SandboxMessage], None] | None = None,
        delivery: DeliveryBehaviour | None = None,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._state = SandboxState(credit=credit, journal=journal)
        self._progress = DeliveryProgress(delivery)
        config = SandboxConfig(username, password, max_addresses, max_status_objects)
        self._app = SandboxApp(config, self._state, echo, self._progress)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"EcallSandbox({where}, username={self.username!r})"

    def start(self) -> EcallSandbox:
        """Bind the port and serve in a daemon thread.

        :return: ``self``, started.
        :raises RuntimeError: it is already running.
        """
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        server = SandboxHTTPServer((self._host, self._requested_port), self._app)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"ecall-sandbox-{server.server_address[1]}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and the journal. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._state.close()

    def __enter__(self) -> EcallSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the sandbox is serving."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The bound port.

        :raises RuntimeError: the sandbox is not running.
        """
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """The address the sandbox binds."""
        return self._host

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (IPv6 hosts in brackets), without a trailing slash."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def username(self) -> str:
        """The accepted ``UserName``."""
        return self._app.config.username

    @property
    def password(self) -> str:
        """The accepted ``Password``."""
        return self._app.config.password

    @property
    def credit(self) -> int | None:
        """Units left (``None``: unlimited)."""
        return self._state.credit

    @property
    def messages(self) -> list[SandboxMessage]:
        """A copy of every accepted message, oldest first."""
        return self._state.messages

    @property
    def requests(self) -> list[SandboxRequest]:
        """A copy of every request answered (or dropped), oldest first."""
        return self._state.requests

    def messages_of(self, kind: str) -> list[SandboxMessage]:
        """The accepted messages of one kind.

        :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
        """
        return [message for message in self._state.messages if message.kind == kind]

    def inject(
        self,
        *,
        endpoint: str | None = None,
        status: int | None = None,
        result_code: int | None = None,
        result_text: str | None = None,
        delay: float = 0.0,
        drop: bool = False,
        body: bytes | str | None = None,
        content_type: str | None = None,
        accept: bool = False,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` requests to ``endpoint`` misbehave.

        Without ``accept`` a faulted send is not recorded; a fault with only a ``delay``
        answers normally, late. ``status`` alone answers an empty body with that status.

        :param endpoint: ``"sms"``, ``"fax"``, ``"voice"``, ``"state"``, ``"cache"``, or
            ``None`` for any endpoint.
        :param status: the HTTP status to answer (default 200).
        :param result_code: answer a proper ``<Result>`` with this code.
        :param result_text: its text (default: the code's name).
        :param delay: seconds to wait before answering.
        :param drop: close the connection without any answer.
        :param body: answer this raw body instead (str is sent as UTF-8).
        :param content_type: the raw body's content type (default: guessed HTML or XML).
        :param accept: validate and record the send first, then apply the fault
            ("accepted, but the answer was lost").
        :param times: how many requests get the fault.
        :raises ValueError: an unknown endpoint, ``times`` < 1, a negative delay.
        """
        raw = body.encode() if isinstance(body, str) else body
        fault = Fault(
            endpoint=endpoint.lower() if endpoint is not None else None,
            status=status,
            result_code=result_code,
            result_text=result_text,
            delay=delay,
            drop=drop,
            body=raw,
            content_type=content_type,
            accept=accept,
            times=times,
        )
        self._state.add_fault(fault)

    def clear_faults(self) -> None:
        """Forget every fault not yet used."""
        self._state.clear_faults()

    def reset(self) -> None:
        """Forget messages, statuses, requests, faults and inbound SMS."""
        self._state.reset()
        self._progress.reset()

    def now(self) -> datetime:
        """The sandbox's clock: the real time plus what :meth:`travel` added."""
        return self._app.now()

    def travel(self, seconds: float) -> datetime:
        """Move the sandbox's clock forward (sends are stamped, and deliveries progress, by
        it), e.g. to spread sends over hours in a test that lasts a second.

        :param seconds: how far, at least 0.
        :return: the sandbox's time now.
        """
        if not seconds >= 0:
            raise ValueError("the sandbox's clock only moves forward")
        self._app.clock_offset += seconds
        return self._app.now()

    @property
    def delivery(self) -> DeliveryBehaviour:
        """How delivery statuses progress now."""
        return self._progress.behaviour

    def configure_delivery(
        self,
        *,
        delay: float | None = None,
        failing: Iterable[str] | None = None,
        never: Iterable[str] | None = None,
        unanswered: Iterable[str] | None = None,
        unconfirmed: Iterable[str] | None = None,
    ) -> DeliveryBehaviour:
        """Change how deliveries progress; arguments left out keep their value.

        :param delay: seconds from acceptance to the final status (0: at once).
        :param failing: numbers whose delivery fails.
        :param never: numbers whose delivery never becomes final.
        :param unanswered: voice numbers nobody answers.
        :param unconfirmed: voice numbers that answer without confirming with ``#``.
        :return: the behaviour now in force.
        """
        given = {
            "delay": delay,
            "failing": failing,
            "never": never,
            "unanswered": unanswered,
            "unconfirmed": unconfirmed,
        }
        changes = {name: value for name, value in given.items() if value is not None}
        behaviour = replace(self._progress.behaviour, **changes)  # type: ignore[arg-type]
        self._progress.configure(behaviour)
        return behaviour

    def add_inbound(
        self,
        *,
        address_from: str,
        address_to: str,
        message: str,
        timestamp: datetime | None = None,
    ) -> str:
        """Put an SMS into the inbound cache (``Api/Cache/GetNextMessage`` serves it).

        :param address_from: the sender's number.
        :param address_to: the receiving (leased) number.
        :param message: the text.
        :param timestamp: when it arrived (aware; default now).
        :return: its ``MessageID``.
        """
        message_id = new_id()
        moment = timestamp if timestamp is not None else datetime.now(timezone.utc)
        self._state.add_inbound(InboundSms(message_id, address_from, address_to, message, moment))
        return message_id

    def answer(
        self,
        job_id: str,
        message: str,
        *,
        address_from: str | None = None,
        address_to: str = DEFAULT_LEASED_NUMBER,
        timestamp: datetime | None = None,
    ) -> str | int:
        """Reply to an accepted SMS as its recipient would, the way eCall passes it on.

        If the SMS named an ``Answer`` URL, eCall calls it (a GET in Windows-1252); otherwise
        the reply waits in the inbound cache.

        :param job_id: the SMS's ``JobID``.
        :param message: the reply's text.
        :param address_from: who replies (default the SMS's first recipient).
        :param address_to: the number replied to (the account's leased number).
        :param timestamp: when eCall received it (default now).
        :return: the callback's HTTP status, or the cached reply's ``MessageID``.
        :raises KeyError: no SMS with this JobID was accepted.
        """
        from airflow_provider_ecall.sandbox.callbacks import call_callback, reply_params

        sent = next((m for m in self.messages_of("sms") if m.job_id == job_id), None)
        if sent is None:
            raise KeyError(job_id)
        sender = address_from or sent.addresses[0]
        url = sent.params.get("Answer", "")
        if url.startswith(("http://", "https://")):
            params = reply_params(
                address_from=sender,
                address_to=address_to,
                message=message,
                timestamp=timestamp,
                job_id=job_id,
            )
            return call_callback(url, params)
        return self.add_inbound(
            address_from=sender, address_to=address_to, message=message, timestamp=timestamp
        )

    def notify_delivery(self, job_id: str) -> list[int]:
        """Send a job's current statuses to its ``NotificationAddress`` URL, one GET per
        recipient, as eCall's delivery notifications (Windows-1252, eCall's time format).

        :param job_id: the SMS's ``JobID``.
        :return: the HTTP status of each callback (empty when the SMS named no URL).
        :raises KeyError: no SMS with this JobID was accepted.
        """
        from airflow_provider_ecall.sandbox.callbacks import call_callback, delivery_params

        sent = next((m for m in self.messages_of("sms") if m.job_id == job_id), None)
        statuses = self._state.job_statuses(job_id)
        if sent is None or statuses is None:
            raise KeyError(job_id)
        urls = [
            url.strip()
            for url in sent.params.get("NotificationAddress", "").split(";")
            if url.strip().startswith(("http://", "https://"))
        ]
        return [
            call_callback(
                url,
                delivery_params(
                    number=status.address,
                    result_code=status.code,
                    result_text=status.text,
                    timestamp=status.timestamp,
                    job_id=job_id,
                ),
            )
            for url in urls
            for status in statuses
        ]

    def set_status(
        self, job_id: str, status_code: int, status_text: str, *, address: str | None = None
    ) -> None:
        """Change what ``Api/State`` reports for a job (e.g. 8 "Delivered"); the status then
        stays as set instead of progressing.

        :param job_id: the job's ``JobID``.
        :param status_code: the new status code.
        :param status_text: the new status text.
        :param address: only this recipient (as sent), ``None`` for all.
        :raises KeyError: the job or recipient is unknown.
        """
        self._state.set_status(job_id, status_code, status_text, address)
        self._progress.pin(job_id, address)
