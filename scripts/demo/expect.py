"""What the demo expects each example DAG to send, and the table of what arrived."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from airflow_provider_ecall.client.privacy import mask_addresses
from scripts.demo.phones import (
    APPROVAL_DAG,
    APPROVAL_ON_CALL,
    APPROVER,
    APPROVER_USER,
    ONCALL,
    RECIPE_DAG,
    UNREACHABLE,
)

#: Recipient environment variables of the example DAGs and their placeholder defaults.
RECIPIENTS: Mapping[str, str] = {
    "ECALL_REPORT_RECIPIENTS": "+41790000001",
    "ECALL_ONCALL_SMS": "+41790000002",
    "ECALL_ONCALL_VOICE": "+41790000003",
    "ECALL_TEAM_LEAD": "+41790000004",
    "ECALL_FAX_RECIPIENTS": "+41440000001",
    "ECALL_ROSTER": "+41790000011;+41790000012;+41790000013",
}


@dataclass(frozen=True)
class Received:
    """One message the sandbox accepted (journal fields the demo needs)."""

    kind: str
    addresses: tuple[str, ...]
    message: str
    job_id: str | None
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Expected:
    """A message a DAG must cause: kind, one recipient and a check of its content."""

    dag_id: str
    label: str
    kind: str
    address: str
    check: Callable[[Received], bool]


def recipient(name: str) -> str:
    """The recipient the DAGs will use for one environment variable (first of a list)."""
    return os.environ.get(name, RECIPIENTS[name]).split(";")[0].strip()


def _contains(*parts: str) -> Callable[[Received], bool]:
    return lambda received: all(part in received.message for part in parts)


def _scheduled_fax(received: Received) -> bool:
    params = received.params
    return (
        "Items: 2545" in received.message
        and params.get("Subject", "").startswith("Stock report ")
        and params.get("HeaderId") == "Example AG"
        and "T07:00:00+0" in params.get("SendDate", "")
    )


def _fallback_fax(received: Received) -> bool:
    return "1284 orders" in received.message and "SMS of this report was not delivered" in (
        received.message
    )


def expectations(command_id: str | None = None) -> list[Expected]:
    """Every message the example DAGs must cause (sandbox mode).

    :param command_id: the MessageID of the allowed SMS command; its report run is expected.
    """
    return [*_first_four(), *_newer(command_id), *_recipe(), *_approval()]


def _first_four() -> list[Expected]:
    oncall, voice = recipient("ECALL_ONCALL_SMS"), recipient("ECALL_ONCALL_VOICE")
    roster = os.environ.get("ECALL_ROSTER", RECIPIENTS["ECALL_ROSTER"]).split(";")
    alerting = "ecall_oncall_alerting"
    return [
        Expected(
            "ecall_pipeline_report",
            "report with XCom figures",
            "sms",
            recipient("ECALL_REPORT_RECIPIENTS"),
            _contains("4812 rows loaded", "Rejected: 12", "manual__"),
        ),
        Expected(alerting, "shared notifier", "sms", oncall, _contains("task load_customers")),
        Expected(alerting, "shared notifier", "sms", oncall, _contains("task load_inventory")),
        Expected(alerting, "critical: SMS", "sms", oncall, _contains("CRITICAL", "settle_pay")),
        Expected(alerting, "critical: voice", "voice", voice, _contains("settle_payments")),
        Expected(
            alerting, "DAG-level callback", "sms", recipient("ECALL_TEAM_LEAD"), _contains(alerting)
        ),
        Expected(
            "ecall_fax_report",
            "fax for 07:00",
            "fax",
            recipient("ECALL_FAX_RECIPIENTS"),
            _scheduled_fax,
        ),
        *(
            Expected(
                "ecall_mapped_recipients",
                f"mapped #{n}",
                "sms",
                number.strip(),
                _contains("Shift handover", f"number {n} on"),
            )
            for n, number in enumerate(roster, 1)
        ),
    ]


def _newer(command_id: str | None) -> list[Expected]:
    """The three newer DAGs, as the demo's phones (``scripts.demo.phones``) make them go: the report
    SMS is never delivered, the engineer answers the call with ACK, one command is allowed.
    Nothing goes to the second person (``ECALL_ONCALL_SECOND``): it would be an extra."""
    fallback, ack = "ecall_delivery_fallback", "ecall_ack_escalation"
    return [
        Expected(fallback, "SMS, waits: not delivered", "sms", UNREACHABLE, _contains("1284")),
        Expected(fallback, "fax fallback", "fax", recipient("ECALL_FAX_RECIPIENTS"), _fallback_fax),
        Expected(
            "ecall_sms_commands",
            "run sms__<MessageID>",
            "sms",
            recipient("ECALL_REPORT_RECIPIENTS"),
            _contains("4812 rows loaded", f"Run sms__{command_id}"),
        ),
        Expected(ack, "page the on-call", "sms", ONCALL, _contains("Reply ACK to take it")),
        Expected(ack, "no ACK in time: call", "voice", ONCALL, _contains("Reply A C K")),
    ]


def _held(received: Received) -> bool:
    return "refresh_dashboard" in received.message and bool(received.params.get("SendDate"))


def _recipe() -> list[Expected]:
    """The on-call recipe in its quiet hours: the minor alert held, the urgent page at once,
    no ACK in time so a call, then the ACK: nobody else paged, and the failed wait's own
    alert folds into the held one (same storm key)."""
    recipe = RECIPE_DAG
    return [
        Expected(recipe, "minor: held (quiet hours)", "sms", ONCALL, _held),
        Expected(recipe, "critical: urgent, at once", "sms", ONCALL, _contains("URGENT settle")),
        Expected(recipe, "no ACK in time: call", "voice", ONCALL, _contains("settle_payments")),
    ]


def _signed_request(received: Received) -> bool:
    return "1 Approve" in received.message and received.params.get("Answer", "").endswith(
        "/approval"
    )


def _reminder(received: Received) -> bool:
    return received.message.startswith("Reminder 1:") and _signed_request(received)


def _approval() -> list[Expected]:
    """The request SMS (options numbered, a signed ``Answer`` URL), the reminder, the call,
    then, after the reply ``1``, the receiver's confirmation; no second reminder."""
    confirmed = f"Approve: {APPROVAL_DAG}/approve_deploy, by {APPROVER_USER}"
    called = _contains("An approval is waiting for your answer")
    return [
        Expected(APPROVAL_DAG, "request, 1 Approve/2 Reject", "sms", APPROVER, _signed_request),
        Expected(APPROVAL_DAG, "reminder after 10 s", "sms", APPROVER, _reminder),
        Expected(APPROVAL_DAG, "escalation call at 12 s", "voice", APPROVAL_ON_CALL, called),
        Expected(APPROVAL_DAG, "reply 1: confirmation", "sms", APPROVER, _contains(confirmed)),
    ]


def match(
    expected: Iterable[Expected], received: Iterable[Received]
) -> tuple[list[tuple[Expected, Received | None]], list[Received]]:
    """Pair every expectation with a distinct received message.

    :return: the pairs (``None`` where nothing matched) and the messages nobody expected.
    """
    left = list(received)
    pairs: list[tuple[Expected, Received | None]] = []
    for want in expected:
        found = next(
            (
                got
                for got in left
                if got.kind == want.kind and want.address in got.addresses and want.check(got)
            ),
            None,
        )
        if found is not None:
            left.remove(found)
        pairs.append((want, found))
    return pairs, left


def _short(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def table(pairs: list[tuple[Expected, Received | None]], extra: list[Received]) -> str:
    """The demo's result table: one row per expected (and per unexpected) message."""
    rows: list[tuple[str, ...]] = [("", "DAG", "expected", "kind", "to", "job id", "message")]
    for want, got in pairs:
        if got is None:
            rows.append(("MISSING", want.dag_id, want.label, want.kind, "", "", ""))
            continue
        rows.append(_row("ok", want.dag_id, want.label, got))
    rows.extend(_row("extra", "?", "(unexpected)", got) for got in extra)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def _row(status: str, dag_id: str, label: str, got: Received) -> tuple[str, ...]:
    return (
        status,
        dag_id,
        label,
        got.kind,
        mask_addresses(got.addresses),
        _short(got.job_id or "-", 14),
        _short(got.message, 44),
    )
