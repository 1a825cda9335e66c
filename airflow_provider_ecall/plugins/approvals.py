"""SMS replies that answer human-in-the-loop requests, recorded the way Airflow records an
answer from the UI or the REST API (Airflow 3.1+, in the api-server).

A reply reaches the receiver at ``…/ecall/callbacks/<token>/approval``: the ``Answer`` URL
:class:`~airflow_provider_ecall.notifications.hitl.EcallHITLNotifier` gave eCall, signed for
the request's JobID (or an account-wide token, the JobID or the request's short code then
naming the request). The rules, in order — each refusal is answered by SMS and nothing is
recorded:

1. the request: the signed JobID names it; otherwise the JobID eCall passes, or the short
   code in the text among the requests still waiting;
2. the sender: its number must be mapped to an Airflow user in ``[ecall]
   approval_responders`` (``NUMBER=USER_ID`` or ``NUMBER=USER_ID:NAME``): the mapping is the
   administrator's word that this phone speaks for that user;
3. the request must still wait: not answered, not timed out (Airflow wrote its default, or
   the task is no longer waiting), not superseded (a new try has a new task instance id);
4. the text must name options (``1``, ``2 3`` or an option's name);
5. Airflow's own ``PATCH …/hitlDetails`` route function records it, in this transaction: its
   ``assigned_users`` check (the auth manager's ``is_authorized_hitl_task``), its write-side
   checks, and on Airflow 3.3 its resume of the waiting task; ``responded_by`` is the user.

The responder then gets ``Approve: deploy/approve, by alice`` or ``Not recorded: …``
through ``[ecall] approval_conn_id``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_ecall.approvals.ids import request_of, short_code
from airflow_provider_ecall.approvals.texts import (
    ReplyUnreadable,
    confirmation,
    read_reply,
    refusal,
)
from airflow_provider_ecall.client.privacy import mask_address
from airflow_provider_ecall.plugins._store import CallbackRepeat
from airflow_provider_ecall.triggers.replies import normalize_number
from airflow_provider_ecall.utils import compat as _compat

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from airflow_provider_ecall.plugins._store import CallbackStore

log = logging.getLogger(__name__)

#: Task instance states in which a human-in-the-loop task waits for its answer.
WAITING: Final = ("deferred", "awaiting_input")
#: The longest a user id or name may be in the mapping.
_MAX_NAME: Final = 128


@dataclass(frozen=True)
class Responder:
    """The Airflow user a phone number answers as.

    :param user_id: the user's id as the auth manager knows it (``assigned_users`` ids).
    :param name: the user's name, shown as ``responded_by``.
    """

    user_id: str
    name: str


def read_responders(setting: str) -> dict[str, Responder]:
    """The ``[ecall] approval_responders`` mapping, by normalized number.

    :raises ValueError: an entry that is not ``NUMBER=USER_ID[:NAME]`` with an international
        number, or a number mapped twice (the message shows the number masked).
    """
    found: dict[str, Responder] = {}
    for entry in setting.replace(",", " ").split():
        number, equals, who = entry.partition("=")
        user_id, _, name = who.partition(":")
        key = normalize_number(number)
        if (
            not equals
            or not key.startswith("+")
            or not key[1:].isdigit()
            or not user_id
            or len(who) > _MAX_NAME
        ):
            raise ValueError(
                f"[ecall] approval_responders: {mask_address(number)!r} must be written "
                "NUMBER=USER_ID or NUMBER=USER_ID:NAME with an international number (+41…)"
            )
        if key in found:
            raise ValueError(f"[ecall] approval_responders: {mask_address(key)} is mapped twice")
        found[key] = Responder(user_id, name or user_id)
    return found


@dataclass(frozen=True)
class Outcome:
    """What became of one reply, and what the responder is told.

    :param recorded: the answer was recorded.
    :param text: the confirmation or refusal SMS.
    :param ti_id: the request's task instance id, when known.
    :param reason: for the log: why it was refused (never a number or the text).
    """

    recorded: bool
    text: str
    ti_id: str | None = None
    reason: str = field(default="", compare=False)


def _user(responder: Responder) -> Any:
    """An Airflow ``BaseUser`` for the mapped user (what Airflow's route function reads)."""

    class SmsResponder(_compat.BaseUser):
        def get_id(self) -> str:
            return responder.user_id

        def get_name(self) -> str:
            return responder.name

    return SmsResponder()


def _waiting_by_code(session: Session, text: str) -> str | None:
    """The one waiting request whose short code is a word of ``text``."""
    from sqlalchemy import select

    words = {w.upper() for w in text.replace(",", " ").split()}
    hitl, ti = _compat.HITLDetail, _compat.TaskInstance
    rows = session.execute(
        select(hitl.ti_id)
        .join(ti, ti.id == hitl.ti_id)
        .where(hitl.responded_at.is_(None))
        .where(ti.state.in_(WAITING))
    )
    matches = {str(row[0]) for row in rows if short_code(str(row[0])) in words}
    return matches.pop() if len(matches) == 1 else None


def _id_key(ti_id: str) -> object:
    """A task instance id as its column takes it: a UUID from 3.2, text on 3.1."""
    python_type = _compat.TaskInstance.id.type.python_type
    return uuid.UUID(ti_id) if python_type is uuid.UUID else ti_id


def _refused(reason: str, ti_id: str | None = None, what: str | None = None) -> Outcome:
    return Outcome(False, refusal(reason, what), ti_id, reason)


def _stale(detail: Any, state: str) -> str | None:
    """Why a request no longer takes answers, or None while it waits."""
    if detail.responded_at is not None:
        if detail.responded_by is None:
            return "this request timed out (its default answer was taken)"
        return "this request was already answered"
    if state not in WAITING:
        return "this request is no longer waiting (timed out or finished)"
    return None


def record_answer(
    session: Session,
    payload: Mapping[str, Any],
    signed_job_id: str | None,
    responders: Mapping[str, Responder],
) -> Outcome:
    """Check one reply against the rules (module docstring) and record it as a response.

    :param session: the callback's transaction.
    :param payload: the parsed reply (``message``, ``address_from``, ``job_id``).
    :param signed_job_id: the JobID the URL was signed for (None: an account-wide token).
    :param responders: the number mapping (:func:`read_responders`).
    """
    text = str(payload.get("message") or "")
    ti_id = request_of(signed_job_id or payload.get("job_id")) or _waiting_by_code(session, text)
    if ti_id is None:
        return _refused("no waiting request: reply to its SMS or include its ref code")
    responder = responders.get(normalize_number(str(payload.get("address_from") or "")))
    if responder is None:
        return _refused("this number may not answer approvals", ti_id)
    key = _id_key(ti_id)
    ti = session.get(_compat.TaskInstance, key)
    detail = None if ti is None else session.get(_compat.HITLDetail, key)
    # A new try has a new task instance id; from Airflow 3.4 (seen in 3.4.0b2) the old try's
    # row stays, archived: its working_set is NULL, the live try's is true.
    if ti is None or detail is None or getattr(ti, "working_set", True) is not True:
        return _refused("this request no longer exists (the task was cleared or re-run)", ti_id)
    what = f"{ti.dag_id}/{ti.task_id}"
    stale = _stale(detail, str(getattr(ti.state, "value", ti.state)))
    if stale:
        return _refused(stale, ti_id, what)
    try:
        chosen = read_reply(
            text, list(detail.options), multiple=bool(detail.multiple), code=short_code(ti_id)
        )
    except ReplyUnreadable as exc:
        return _refused(str(exc), ti_id, what)
    return _respond(session, ti, chosen, responder, what)


def _route_dependencies() -> dict[str, Any]:
    """What the route function's signature asks beyond the answer: from Airflow 3.4 (seen in
    3.4.0b2) a ``dag_bag``, which FastAPI would inject from the api-server's app state."""
    import inspect

    if "dag_bag" not in inspect.signature(_compat.update_hitl_detail).parameters:
        return {}
    return {"dag_bag": _compat.DBDagBag()}


def _respond(
    session: Session, ti: Any, chosen: tuple[str, ...], who: Responder, what: str
) -> Outcome:
    """Record through Airflow's ``update_hitl_detail`` route function, as the UI would."""
    from fastapi import HTTPException

    ti_id, where = str(ti.id), (ti.dag_id, ti.run_id, ti.task_id, ti.map_index)
    # The route loads the task instance with its request itself (3.1 finds no request on
    # one this session already holds without it).
    session.expunge_all()
    payload = _compat.UpdateHITLDetailPayload(chosen_options=list(chosen), params_input={})
    try:
        _compat.update_hitl_detail(
            dag_id=where[0],
            dag_run_id=where[1],
            task_id=where[2],
            update_hitl_detail_payload=payload,
            user=_user(who),
            session=session,
            map_index=where[3],
            **_route_dependencies(),
        )
    except HTTPException as exc:
        reasons = {
            403: f"{who.name} is not assigned to this request",
            409: "this request was already answered",
        }
        said = reasons.get(exc.status_code, "Airflow refused the answer")
        log.warning("eCall approval: Airflow answered %s (%s)", exc.status_code, exc.detail)
        return _refused(said, ti_id, what)
    session.flush()
    return Outcome(True, confirmation(chosen, what, who.name), ti_id, "")


def tell(conn_id: str, number: str, outcome: Outcome, key: str) -> None:
    """Send the confirmation or refusal to the responder; a failure is logged (the answer is
    recorded either way), by type only — its text may hold the number."""
    from airflow_provider_ecall.hooks.ecall import EcallHook

    try:
        EcallHook(ecall_conn_id=conn_id).send_sms(
            address=number, message=outcome.text, job_id=f"hitl-ack-{key[-40:]}", truncate=True
        )
    except Exception as exc:
        sort = type(exc).__name__
        log.error("eCall approval reply %s: the answer SMS was not sent (%s)", key, sort)


def take_reply(
    store: CallbackStore,
    payload: Mapping[str, Any],
    signed_job_id: str | None,
    responders: Mapping[str, Responder],
    conn_id: str,
) -> tuple[int, str]:
    """Take one approval reply once: record or refuse it, tell the responder; the HTTP
    status and body to answer eCall with (200 once taken, refused or not; 503 when the
    database write failed, so that eCall's retry is taken)."""
    key = str(payload["message_id"])
    try:
        outcome = store.once(
            key, lambda session: record_answer(session, payload, signed_job_id, responders)
        )
    except CallbackRepeat:
        return 200, "OK (repeat)"
    except Exception as exc:  # its text may hold the reply's number and message
        log.error("eCall approval reply %s: not taken (%s)", key, type(exc).__name__)
        return 503, "Not recorded"
    sender = str(payload.get("address_from") or "")
    log.info(
        "eCall approval reply %s from %s for request %s: %s",
        *(key, mask_address(sender), outcome.ti_id or "?"),
        "recorded" if outcome.recorded else f"refused ({outcome.reason})",
    )
    tell(conn_id, sender, outcome, key)
    return 200, "OK"
