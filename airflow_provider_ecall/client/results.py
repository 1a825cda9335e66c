"""What a send returns: one :class:`BatchResult` per request, gathered in a :class:`SendResult`."""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_ecall.client.responses import StatusRecord

#: What ``to_dict()`` results hold: values JSON and Airflow's XCom can store.
JsonValue = str | int | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


@dataclass(frozen=True)
class BatchResult:
    """One request of a send.

    :param job_id: the JobID this request carried.
    :param recipients: how many recipients it carried.
    :param http_status: the HTTP status of the answer (None when skipped).
    :param result_code: eCall's result code (0 = accepted).
    :param result_text: eCall's words for it.
    :param existing: statuses found for this JobID before sending; when not empty the batch
        had already reached eCall and was not sent again.
    """

    job_id: str
    recipients: int
    http_status: int | None
    result_code: int
    result_text: str
    existing: tuple[StatusRecord, ...] = ()

    @property
    def skipped(self) -> bool:
        """Whether this batch was found at eCall already and not sent again."""
        return bool(self.existing)


@dataclass(frozen=True)
class SendResult:
    """The outcome of :meth:`EcallClient.send`: every batch, in order.

    :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
    :param endpoint: ``Api/Sms``, ``Api/Fax`` or ``Api/Voice``.
    :param batches: one entry per request.
    """

    kind: str
    endpoint: str
    batches: tuple[BatchResult, ...]

    @property
    def job_id(self) -> str:
        """The JobID of the first batch (the message's own JobID when there is one batch)."""
        return self.batches[0].job_id

    @property
    def job_ids(self) -> tuple[str, ...]:
        """Every batch's JobID."""
        return tuple(batch.job_id for batch in self.batches)

    @property
    def recipient_count(self) -> int:
        """Recipients over all batches."""
        return sum(batch.recipients for batch in self.batches)

    @property
    def sent_count(self) -> int:
        """Requests actually sent by this call (skipped batches excluded)."""
        return sum(1 for batch in self.batches if not batch.skipped)

    @property
    def skipped(self) -> bool:
        """Whether every batch had reached eCall before and nothing was sent now."""
        return all(batch.skipped for batch in self.batches)

    def to_dict(self) -> dict[str, JsonValue]:
        """A small JSON-safe summary (no recipients, no credentials), e.g. for XCom."""
        first = self.batches[0]
        return {
            "kind": self.kind,
            "endpoint": self.endpoint,
            "job_id": self.job_id,
            "job_ids": list(self.job_ids),
            "recipient_count": self.recipient_count,
            "requests": len(self.batches),
            "sent_requests": self.sent_count,
            "skipped": self.skipped,
            "result_code": first.result_code,
            "result_text": first.result_text,
        }
