"""Reminders and escalation while a human-in-the-loop request waits, sent by the api-server.

Airflow calls a request's notifiers once; then the task waits with nothing of it running
(``awaiting_input`` on 3.3) or in Airflow's own trigger (3.1, 3.2), and eCall cannot cancel
a scheduled send. So the api-server, where the callback receiver runs and answers arrive,
sends them: the receiver's app starts one background task (its FastAPI ``lifespan``, which
Airflow's api-server enters for every mounted app) that scans every
``[ecall] hitl_reminder_interval`` seconds, when approvals are configured.

A scan looks at the requests not answered whose task still waits and that have a reminder
plan (the XCom :data:`~airflow_provider_ecall.approvals.plan.PLAN_KEY` the notifier pushed,
sealed; see :mod:`~airflow_provider_ecall.approvals.plan`). For each, the latest reminder due
(JobID ``…-r<n>``, an SMS with its own signed ``Answer`` URL, the short code and the
numbered options) and the voice escalation once due (``…-v1``) are sent, each once:

1. the send's JobID is claimed in the receiver's de-duplication table, in a transaction
   that lasts until the send is done: one api-server worker or replica wins, the others
   find the claim;
2. in that transaction the request's row is read again, locked ``FOR UPDATE`` on
   PostgreSQL (an answer arriving at that moment waits for the send): answered, timed out
   or no longer waiting → nothing is sent, ever again;
3. the send asks ``Api/State`` for the JobID first and sends only what eCall does not have.

A send that fails in passing rolls its claim back (the next scan tries again; ``Api/State``
then tells whether it went out); one eCall refuses keeps its claim and is logged. Logs name
JobIDs and counts, never a number.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_ecall.approvals.ids import request_job_id, request_of, short_code
from airflow_provider_ecall.approvals.plan import (
    PLAN_KEY,
    PlanUnreadable,
    ReminderPlan,
    open_plan,
)
from airflow_provider_ecall.plugins._store import CallbackRepeat
from airflow_provider_ecall.plugins.approvals import WAITING, _id_key
from airflow_provider_ecall.utils import compat as _compat

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from airflow_provider_ecall.plugins._store import CallbackStore

log = logging.getLogger(__name__)

#: The default seconds between scans (``[ecall] hitl_reminder_interval``).
DEFAULT_INTERVAL: Final = 30


@dataclass(frozen=True)
class Pending:
    """A waiting request with a reminder plan.

    :param ti_id: its task instance id.
    :param what: ``dag_id/task_id``, for the log.
    :param sealed: the sealed plan, as pushed.
    """

    ti_id: str
    what: str
    sealed: str


def _token(value: object) -> str | None:
    """The sealed plan in an XCom value: stored as JSON text, or decoded already."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str) and value.startswith('"'):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    return value if isinstance(value, str) and value else None


def pending_requests(session: Session) -> list[Pending]:
    """The requests not answered whose task waits, and that have a reminder plan."""
    from sqlalchemy import and_, select

    hitl, ti, xcom = _compat.HITLDetail, _compat.TaskInstance, _compat.XComModel
    rows = session.execute(
        select(hitl.ti_id, ti.dag_id, ti.task_id, xcom.value)
        .join(ti, ti.id == hitl.ti_id)
        .join(
            xcom,
            and_(
                xcom.dag_id == ti.dag_id,
                xcom.run_id == ti.run_id,
                xcom.task_id == ti.task_id,
                xcom.map_index == ti.map_index,
                xcom.key == PLAN_KEY,
            ),
        )
        .where(hitl.responded_at.is_(None))
        .where(ti.state.in_(WAITING))
    )
    found = []
    for ti_id, dag_id, task_id, value in rows:
        sealed = _token(value)
        if sealed is not None:
            found.append(Pending(str(ti_id), f"{dag_id}/{task_id}", sealed))
    return found


def still_waiting(session: Session, ti_id: str) -> bool:
    """Whether the request still waits, its row locked until the transaction ends (on
    databases that lock rows: PostgreSQL, MySQL)."""
    from sqlalchemy import select

    hitl, key = _compat.HITLDetail, _id_key(ti_id)
    # Only the request's row: its task instance is joined (an outer join), and PostgreSQL
    # refuses FOR UPDATE on the nullable side of one.
    detail = session.scalar(select(hitl).where(hitl.ti_id == key).with_for_update(of=hitl))
    if detail is None or detail.responded_at is not None:
        return False
    ti = session.get(_compat.TaskInstance, key)
    return ti is not None and str(getattr(ti.state, "value", ti.state)) in WAITING


def _send(plan: ReminderPlan, ti_id: str, send: str, job_id: str) -> int:
    """One reminder SMS (``r<n>``) or the escalation call (``v1``): how many of its
    requests went out (those eCall had already, by ``Api/State``, are not sent again).

    :raises EcallError: the send failed (``retryable`` says whether it may go out later).
    """
    from airflow_provider_ecall.approvals.ids import APPROVAL
    from airflow_provider_ecall.approvals.texts import (
        ApprovalRequest,
        escalation_text,
        reminder_text,
    )
    from airflow_provider_ecall.hooks.callback_urls import callback_urls_configured
    from airflow_provider_ecall.hooks.ecall import EcallHook

    hook, code = EcallHook(ecall_conn_id=plan.conn_id), short_code(ti_id)
    if send == "v1":
        result = hook.send_voice(
            address=list(plan.voice_to),
            message=escalation_text(plan.subject, code),
            job_id=job_id,
            skip_existing=True,
            truncate=True,
        )
    else:
        request = ApprovalRequest(plan.subject, None, plan.options, code, plan.link, plan.multiple)
        fields: dict[str, Any] = {
            "address": list(plan.sms_to),
            "message": reminder_text(request, int(send[1:]), max_pages=plan.max_pages),
            "job_id": job_id,
        }
        if callback_urls_configured():
            fields["answer"] = APPROVAL
        result = hook.send_sms(**fields, skip_existing=True, truncate=True)
    return sum(1 for batch in result.batches if not batch.skipped)


@dataclass(frozen=True)
class Sent:
    """What one scan did about one send.

    :param job_id: the send's JobID.
    :param outcome: ``"sent"``, ``"known"`` (eCall had the JobID: not sent again),
        ``"answered"`` (no longer waiting: not sent), ``"refused"`` (eCall refused it).
    """

    job_id: str
    outcome: str


class ReminderScanner:
    """Finds the reminders and escalations due and sends each once (module docstring).

    :param keys: the signing keys, which open the plans.
    :param store: the receiver's de-duplication table.
    :param clock: the time (Unix seconds) a scan runs at, unless it is given one.
    """

    def __init__(
        self,
        keys: Sequence[str],
        store: CallbackStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = tuple(keys)
        self.store = store
        self.clock = clock
        self._unreadable: set[str] = set()
        #: JobIDs this scanner knows are claimed (no database round trip for them again).
        self._claimed: set[str] = set()

    def scan(self, now: float | None = None) -> list[Sent]:
        """One pass: send what is due at ``now`` (default: the clock)."""
        at = self.clock() if now is None else now
        with _compat.create_session() as session:
            waiting = pending_requests(session)
        live = {request.ti_id for request in waiting}
        self._claimed = {job for job in self._claimed if request_of(job) in live}
        done = []
        for request in waiting:
            plan = self._open(request)
            if plan is None:
                continue
            for send in plan.due(at):
                outcome = self._once(request, plan, send)
                if outcome is not None:
                    done.append(outcome)
        return done

    def _open(self, request: Pending) -> ReminderPlan | None:
        try:
            return open_plan(request.sealed, self.keys)
        except PlanUnreadable as exc:
            if request.ti_id not in self._unreadable:  # said once per request
                self._unreadable.add(request.ti_id)
                log.warning("eCall approval reminders for %s: skipped (%s)", request.what, exc)
            return None

    def _once(self, request: Pending, plan: ReminderPlan, send: str) -> Sent | None:
        """Claim, check, send; None when another scan has the claim or the send must be
        tried again later."""
        job_id = request_job_id(request.ti_id, send)
        if job_id in self._claimed:
            return None

        def work(session: Session) -> Sent:
            if not still_waiting(session, request.ti_id):
                return Sent(job_id, "answered")
            return self._deliver(plan, request, send, job_id)

        try:
            done = self.store.once(f"remind-{job_id}", work)
        except CallbackRepeat:
            self._claimed.add(job_id)
            return None
        except Exception as exc:  # rolled back: the next scan tries again
            log.error(
                "eCall approval %s for %s: not sent now (%s)",
                job_id,
                request.what,
                type(exc).__name__,
            )
            return None
        self._claimed.add(job_id)
        if done.outcome != "answered":
            log.info("eCall approval %s for %s: %s", job_id, request.what, done.outcome)
        return done

    @staticmethod
    def _deliver(plan: ReminderPlan, request: Pending, send: str, job_id: str) -> Sent:
        from airflow_provider_ecall.client.errors import EcallError

        try:
            sent = _send(plan, request.ti_id, send, job_id)
        except EcallError as exc:
            if exc.retryable:
                raise
            log.error(
                "eCall approval %s for %s: refused (%s)", job_id, request.what, type(exc).__name__
            )
            return Sent(job_id, "refused")
        return Sent(job_id, "sent" if sent else "known")


class ReminderLoop:
    """The receiver app's background task: a scan every ``interval`` seconds, its work in
    a thread (database and HTTP calls block).

    :param scanner: what each pass runs.
    :param interval: seconds between the end of one pass and the next.
    """

    def __init__(self, scanner: ReminderScanner, interval: float) -> None:
        self.scanner = scanner
        self.interval = interval
        self.passes = 0

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.scanner.scan)
            except Exception as exc:  # the next pass tries again
                log.error("eCall approval reminders: a scan failed (%s)", type(exc).__name__)
            self.passes += 1
            await asyncio.sleep(self.interval)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[None]:
        """The app's lifespan: the loop runs while the api-server serves."""
        task = asyncio.create_task(self._run(), name="ecall-hitl-reminders")
        log.info("eCall approval reminders: scanning every %g s", self.interval)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
