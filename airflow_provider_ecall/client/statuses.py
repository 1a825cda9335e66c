"""eCall's delivery status codes, mapped once to what a waiting task needs to know.

``Api/State`` answers one ``StatusCode`` per recipient (reference §5, older vendor docs, codes
"likely shared" between kinds). :data:`STATUS_TABLE` gives each code of the reference one of
four outcomes:

- ``pending``: not final yet; keep waiting.
- ``delivered``: final, the message reached the recipient.
- ``failed``: final, it did not (or, for a call, nobody confirmed it).
- ``unknown``: a code the table does not know; never treated as final.

Rows marked ``guess`` are this project's reading of a one-line vendor description; the
reasons are in ``docs/delivery.md``. Plain Python, no Airflow import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Outcome = Literal["pending", "delivered", "failed", "unknown"]
#: Outcomes after which a status no longer changes.
FINAL_OUTCOMES: Final = frozenset({"delivered", "failed"})
#: Fax transmissions in progress report codes in this range (reference: "progress 101–501").
FAX_PROGRESS: Final = range(101, 502)


@dataclass(frozen=True)
class StatusMeaning:
    """One row of the status table.

    :param code: eCall's ``StatusCode``.
    :param kinds: the message kinds the reference lists it for.
    :param name: the reference's words for it.
    :param outcome: what it means for a waiting task.
    :param guess: whether the outcome is this project's inference rather than stated.
    """

    code: int
    kinds: str
    name: str
    outcome: Outcome
    guess: bool = False


#: Every status code of the reference (section 5), in its order.
STATUS_TABLE: Final[tuple[StatusMeaning, ...]] = (
    StatusMeaning(0, "sms", "transmitting", "pending"),
    StatusMeaning(1, "sms", "transmitted", "pending", guess=True),
    StatusMeaning(2, "sms (shared)", "error", "failed"),
    StatusMeaning(3, "sms", "scheduled", "pending"),
    StatusMeaning(8, "sms", "delivered and confirmed", "delivered"),
    StatusMeaning(9, "sms", "waiting for delivery", "pending"),
    StatusMeaning(10, "sms", "delivered without confirmation", "delivered", guess=True),
    StatusMeaning(30, "voice", "sending", "pending"),
    StatusMeaning(31, "voice", "sent", "pending", guess=True),
    StatusMeaning(33, "voice", "played but not confirmed", "failed", guess=True),
    StatusMeaning(34, "voice", "played and confirmed with #", "delivered"),
    StatusMeaning(39, "voice", "retry stage", "pending"),
    StatusMeaning(41, "fax", "sent", "delivered"),
    StatusMeaning(42, "fax", "finished with error", "failed"),
)
_BY_CODE: Final = {row.code: row for row in STATUS_TABLE}
#: The fax progress range as a row (documented with the table).
FAX_PROGRESS_MEANING: Final = StatusMeaning(101, "fax", "transmission in progress", "pending", True)


def meaning_of(code: int | None) -> StatusMeaning | None:
    """The table row of a status code (the fax progress row for 101–501), None if unknown.

    :param code: a ``StatusCode``, or None when eCall gave none.
    """
    if code is None:
        return None
    meaning = _BY_CODE.get(code)
    if meaning is None and code in FAX_PROGRESS:
        return FAX_PROGRESS_MEANING
    return meaning


def outcome_of_code(code: int | None) -> Outcome:
    """``pending``, ``delivered`` or ``failed`` for a code of the table, else ``unknown``.

    :param code: a ``StatusCode``, or None.
    """
    meaning = meaning_of(code)
    return "unknown" if meaning is None else meaning.outcome
