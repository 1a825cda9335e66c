"""Delivery of sent jobs: per-recipient outcomes and a verdict. Plain Python, no Airflow
import.

- :class:`RecipientOutcome`: one recipient of one job, its number already masked, so a
  record can go to logs, XCom and trigger events as it is.
- :class:`DeliveryReport`: every recipient of the jobs a task waits for, and whether that
  wait is over (:meth:`DeliveryReport.verdict`).
- :data:`WINDOW_MARGIN`: how far eCall's clock may be from ours; the query planner
  (:mod:`airflow_provider_ecall.client.planner`) widens its windows by it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final, Literal

from airflow_provider_ecall.client.privacy import mask_address
from airflow_provider_ecall.client.statuses import FINAL_OUTCOMES, Outcome

if TYPE_CHECKING:
    from airflow_provider_ecall.client.responses import StatusRecord
    from airflow_provider_ecall.client.results import JsonValue

#: What a delivery wait waits for: every recipient delivered, or every recipient final.
Require = Literal["delivered", "final"]
Verdict = Literal["waiting", "delivered", "final", "failed"]
REQUIRE_VALUES: Final = ("delivered", "final")
#: A window starts this long before the earliest send time and ends this long after now, so
#: clocks that disagree a little do not hide a job.
WINDOW_MARGIN: Final = timedelta(minutes=10)


@dataclass(frozen=True)
class RecipientOutcome:
    """The latest status of one recipient of one job.

    :param job_id: the JobID.
    :param recipient: the recipient, masked (``+41******233``); ``#N`` when eCall named none.
    :param outcome: ``pending``, ``delivered``, ``failed`` or ``unknown``.
    :param status_code: eCall's ``StatusCode`` (None for a scheduled job).
    :param status_text: eCall's words for it.
    :param timestamp: eCall's ``TimeStamp`` as sent.
    """

    job_id: str
    recipient: str
    outcome: Outcome
    status_code: int | None
    status_text: str | None
    timestamp: str | None

    @classmethod
    def from_record(cls, job_id: str, index: int, record: StatusRecord) -> RecipientOutcome:
        """Build the outcome of one ``<Status>``, masking its address."""
        recipient = mask_address(record.address) if record.address else f"#{index + 1}"
        return cls(
            job_id,
            recipient,
            record.outcome,
            record.status_code,
            record.status_text,
            record.raw_timestamp,
        )

    def describe(self) -> str:
        """One line for an error or log: ``job af-1 to +41******233: failed (2 Error)``."""
        status = " ".join(str(p) for p in (self.status_code, self.status_text) if p is not None)
        return f"job {self.job_id} to {self.recipient}: {self.outcome} ({status or 'no status'})"

    def to_dict(self) -> dict[str, JsonValue]:
        """A JSON-safe dict (the recipient stays masked)."""
        return {
            "job_id": self.job_id,
            "recipient": self.recipient,
            "outcome": self.outcome,
            "status_code": self.status_code,
            "status_text": self.status_text,
            "timestamp": self.timestamp,
        }


@dataclass(frozen=True)
class DeliveryReport:
    """Every recipient of a set of jobs, as eCall last reported them.

    :param job_ids: the jobs waited for, in order.
    :param recipients: one outcome per recipient eCall reported.
    :param missing: jobs eCall reported nothing for (not known yet, or never sent).
    """

    job_ids: tuple[str, ...]
    recipients: tuple[RecipientOutcome, ...]
    missing: tuple[str, ...]

    @classmethod
    def build(
        cls, job_ids: Sequence[str], records_by_job: Mapping[str, Sequence[StatusRecord]]
    ) -> DeliveryReport:
        """Build a report from the records of each job (a job without records is missing)."""
        recipients: list[RecipientOutcome] = []
        missing: list[str] = []
        for job_id in job_ids:
            records = records_by_job.get(job_id, ())
            if not records:
                missing.append(job_id)
            recipients.extend(
                RecipientOutcome.from_record(job_id, index, record)
                for index, record in enumerate(_latest_per_address(records))
            )
        return cls(tuple(job_ids), tuple(recipients), tuple(missing))

    def of(self, outcome: Outcome) -> tuple[RecipientOutcome, ...]:
        """The recipients with one outcome."""
        return tuple(r for r in self.recipients if r.outcome == outcome)

    @property
    def final(self) -> bool:
        """Whether every job is known and every recipient is delivered or failed."""
        return not self.missing and all(r.outcome in FINAL_OUTCOMES for r in self.recipients)

    def verdict(self, require: Require) -> Verdict:
        """Whether the wait is over.

        :param require: ``"delivered"`` (every recipient delivered) or ``"final"`` (every
            recipient in a final state, delivered or not).
        :return: ``"waiting"`` until every recipient is final; then ``"delivered"`` when all
            were, else ``"failed"`` for ``require="delivered"`` and ``"final"`` for
            ``require="final"``.
        """
        if not self.final:
            return "waiting"
        if not self.of("failed"):
            return "delivered"
        return "failed" if require == "delivered" else "final"

    def summary(self) -> str:
        """Counts per outcome, e.g. ``"2 delivered, 1 failed, 1 job not found yet"``."""
        parts = [
            f"{len(self.of(name))} {name}"
            for name in ("delivered", "failed", "pending", "unknown")
            if self.of(name)
        ]
        if self.missing:
            parts.append(f"{len(self.missing)} job(s) without a status yet")
        return ", ".join(parts) or "nothing reported"

    def to_dict(self) -> dict[str, JsonValue]:
        """A JSON-safe dict for XCom and trigger events (numbers masked)."""
        return {
            "job_ids": list(self.job_ids),
            "recipients": [r.to_dict() for r in self.recipients],
            "missing": list(self.missing),
            "summary": self.summary(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> DeliveryReport:
        """Rebuild a report from :meth:`to_dict` (e.g. out of a trigger event)."""
        rows = data.get("recipients")
        recipients = tuple(
            RecipientOutcome(
                job_id=str(row["job_id"]),
                recipient=str(row["recipient"]),
                outcome=row["outcome"],
                status_code=row.get("status_code"),
                status_text=row.get("status_text"),
                timestamp=row.get("timestamp"),
            )
            for row in (rows if isinstance(rows, list) else [])
            if isinstance(row, dict)
        )
        return cls(_strings(data.get("job_ids")), recipients, _strings(data.get("missing")))


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def _latest_per_address(records: Sequence[StatusRecord]) -> list[StatusRecord]:
    """One record per recipient: the latest by timestamp when eCall lists a recipient twice."""
    if not records or any(r.address is None for r in records):
        return list(records)
    latest: dict[str, StatusRecord] = {}
    for record in records:
        key = record.address or ""
        known = latest.get(key)
        if known is None or _later(record, known):
            latest[key] = record
    return list(latest.values())


def _later(record: StatusRecord, than: StatusRecord) -> bool:
    if record.timestamp is None or than.timestamp is None:
        return True
    return record.timestamp >= than.timestamp
