"""The sandbox's in-memory store: jobs, recipient statuses, inbound SMS, request log, journal.

Every method takes the store's single lock, so the HTTP handler threads and the test thread
see one consistent state. The optional journal gets one JSON line per accepted message; it
never contains the credentials (records are built without them).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import IO, Literal

from airflow_provider_ecall.sandbox.faults import Fault
from airflow_provider_ecall.sandbox.params import normalize_number

Kind = Literal["sms", "fax", "voice"]


@dataclass(frozen=True)
class SandboxMessage:
    """One send the sandbox accepted.

    :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
    :param addresses: the recipients, as sent (stripped).
    :param message: the message text.
    :param job_id: the client's ``JobID``, or ``None`` when it sent none.
    :param params: every other parameter under its canonical name, without the credentials.
    :param received_at: when the sandbox accepted it (aware, UTC).
    :param method: ``"GET"`` or ``"POST"``.
    """

    kind: Kind
    addresses: tuple[str, ...]
    message: str
    job_id: str | None
    params: dict[str, str]
    received_at: datetime
    method: str


@dataclass(frozen=True)
class SandboxRequest:
    """One request the sandbox answered (or dropped).

    :param endpoint: ``"sms"``, ``"fax"``, ``"voice"``, ``"state"``, ``"cache_get"``,
        ``"cache_delete"`` or ``"unknown"``.
    :param method: the HTTP method.
    :param params: the parameters under canonical names, without ``Password``.
    :param status: the HTTP status answered, ``None`` when the connection was dropped.
    :param result_code: the eCall result code in the answer, ``None`` when there was none.
    """

    endpoint: str
    method: str
    params: dict[str, str]
    status: int | None
    result_code: int | None


@dataclass(frozen=True)
class RecipientStatus:
    """The status of one recipient of one job, as ``Api/State`` reports it."""

    job_id: str
    address: str
    code: int
    text: str
    timestamp: datetime
    received_at: datetime


@dataclass(frozen=True)
class InboundSms:
    """One SMS waiting in the inbound cache."""

    message_id: str
    address_from: str
    address_to: str
    message: str
    timestamp: datetime


@dataclass
class _Data:
    messages: list[SandboxMessage] = field(default_factory=list)
    statuses: dict[str, list[RecipientStatus]] = field(default_factory=dict)
    inbound: dict[str, InboundSms] = field(default_factory=dict)
    requests: list[SandboxRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)


class SandboxState:
    """Thread-safe store behind one lock.

    :param credit: units left (one per recipient), ``None`` for unlimited.
    :param journal: a file to append one JSON line per accepted message, or ``None``.
    """

    def __init__(self, *, credit: int | None, journal: str | os.PathLike[str] | None) -> None:
        self._lock = threading.Lock()
        self._data = _Data()
        self._credit = credit
        self._journal_path = journal
        self._journal: IO[str] | None = None

    def accept(self, message: SandboxMessage, statuses: list[RecipientStatus]) -> bool:
        """Record an accepted send if the credit covers its recipients.

        :param message: the send.
        :param statuses: one initial status per recipient, all with the same job id.
        :return: ``False`` (nothing recorded) when the credit is exhausted.
        """
        with self._lock:
            cost = len(message.addresses)
            if self._credit is not None:
                if self._credit < cost:
                    return False
                self._credit -= cost
            self._data.messages.append(message)
            if statuses:
                self._data.statuses.setdefault(statuses[0].job_id, []).extend(statuses)
            self._write_journal(message, statuses[0].job_id if statuses else None)
            return True

    def _write_journal(self, message: SandboxMessage, job_id: str | None) -> None:
        if self._journal_path is None:
            return
        if self._journal is None:
            self._journal = open(self._journal_path, "a", encoding="utf-8")  # noqa: SIM115
        record = {
            "received_at": message.received_at.isoformat(),
            "kind": message.kind,
            "method": message.method,
            "job_id": job_id,
            "client_job_id": message.job_id,
            "addresses": list(message.addresses),
            "message": message.message,
            "params": message.params,
        }
        self._journal.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._journal.flush()

    def log_request(self, request: SandboxRequest) -> None:
        """Append one entry to the request log.

        :param request: the request and how it was answered.
        """
        with self._lock:
            self._data.requests.append(request)

    @property
    def messages(self) -> list[SandboxMessage]:
        """A copy of the accepted messages, oldest first."""
        with self._lock:
            return list(self._data.messages)

    @property
    def requests(self) -> list[SandboxRequest]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._data.requests)

    @property
    def credit(self) -> int | None:
        """Units left, ``None`` for unlimited."""
        with self._lock:
            return self._credit

    def job_statuses(self, job_id: str) -> list[RecipientStatus] | None:
        """Return the statuses of one job, ``None`` when the job is unknown.

        :param job_id: the job id (client-given or assigned).
        """
        with self._lock:
            statuses = self._data.statuses.get(job_id)
            return list(statuses) if statuses is not None else None

    def window_statuses(
        self, start: datetime | None, end: datetime | None
    ) -> list[RecipientStatus]:
        """Return every status whose job was received within ``[start, end]``.

        :param start: the earliest receive time, ``None`` for no lower bound.
        :param end: the latest receive time, ``None`` for no upper bound.
        """
        with self._lock:
            every = [item for items in self._data.statuses.values() for item in items]
        return [
            item
            for item in every
            if (start is None or item.received_at >= start)
            and (end is None or item.received_at <= end)
        ]

    def set_status(self, job_id: str, code: int, text: str, address: str | None) -> None:
        """Change the status of a job's recipients.

        :param job_id: the job id.
        :param code: the new status code.
        :param text: the new status text.
        :param address: only this recipient, ``None`` for all of them.
        :raises KeyError: the job (or the recipient) is unknown.
        """
        with self._lock:
            items = self._data.statuses[job_id]
            hits = [i for i, item in enumerate(items) if address in (None, item.address)]
            if not hits:
                raise KeyError(address)
            for index in hits:
                items[index] = replace(items[index], code=code, text=text)

    def add_inbound(self, sms: InboundSms) -> None:
        """Put an SMS into the inbound cache.

        :param sms: the message.
        """
        with self._lock:
            self._data.inbound[sms.message_id] = sms

    def next_inbound(self, mobile_number: str | None) -> InboundSms | None:
        """Return the oldest cached SMS (optionally to one number) without removing it.

        :param mobile_number: only messages whose ``AddressTo`` is this number.
        """
        wanted = normalize_number(mobile_number) if mobile_number else None
        with self._lock:
            for sms in self._data.inbound.values():
                if wanted is None or normalize_number(sms.address_to) == wanted:
                    return sms
        return None

    def delete_inbound(self, message_id: str) -> bool:
        """Remove a cached SMS.

        :param message_id: its id.
        :return: whether it was there.
        """
        with self._lock:
            return self._data.inbound.pop(message_id, None) is not None

    def add_fault(self, fault: Fault) -> None:
        """Queue a fault for upcoming requests.

        :param fault: the fault.
        """
        with self._lock:
            self._data.faults.append(fault)

    def take_fault(self, endpoint: str) -> Fault | None:
        """Consume one use of the first queued fault matching ``endpoint``.

        :param endpoint: the endpoint key of the request.
        :return: the fault, or ``None``.
        """
        with self._lock:
            for index, fault in enumerate(self._data.faults):
                if fault.matches(endpoint):
                    if fault.times <= 1:
                        del self._data.faults[index]
                    else:
                        self._data.faults[index] = replace(fault, times=fault.times - 1)
                    return fault
        return None

    def clear_faults(self) -> None:
        """Forget every queued fault."""
        with self._lock:
            self._data.faults.clear()

    def reset(self) -> None:
        """Forget messages, statuses, requests, faults and inbound SMS (credit stays)."""
        with self._lock:
            self._data = _Data()

    def close(self) -> None:
        """Close the journal file, if open."""
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None


def new_id() -> str:
    """Return a fresh 32-hex-character id (as eCall clients use for JobID)."""
    return uuid.uuid4().hex
