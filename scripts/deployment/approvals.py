"""The approval scenarios of ``make e2e`` (issue 19): human-in-the-loop requests answered by
SMS reply, under the real api-server (its callback receiver records the answer), scheduler
(its timeout sweep), triggerer and Celery worker.

Each reply goes to the signed ``Answer`` URL the request SMS carried, as eCall calls it
(:meth:`EcallSandbox.answer`: a GET in Windows-1252).

- ``approval_unmapped``: while ``e2e_approval`` waits, a number nobody mapped replies ``1``:
  refused by SMS, nothing recorded, the request still waits.
- ``approval_mapped``: then a reminder reaches alice's number (``remind_every`` 10 s, sent by
  the api-server), and she replies ``1`` to it (its own ``Answer`` URL): the task succeeds,
  Airflow's HITL detail (REST) shows ``responded_by`` alice and ``Approve``; alice gets the
  confirmation, and no reminder after it.
- ``approval_late``: ``e2e_approval_late`` times out (5 s) and takes its default; a reply
  from bob's (mapped) number after that is refused by SMS and changes nothing.

Every message the ``approval`` sandbox accepted for a scenario is printed after the result
table (:func:`journal`).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_ecall.client.privacy import mask_addresses
from airflow_provider_ecall.sandbox import EcallSandbox, SandboxMessage
from scripts.deployment.components import Api, Deployment
from scripts.deployment.dags.e2e_numbers import APPROVERS, NUMBERS
from scripts.deployment.hearing import FINISHED_TI, ti_state
from scripts.deployment.scenarios import RUN_TIMEOUT, Verdict, wait_until

#: Whether the approval scenarios run (all but ``E2E_SKIP_APPROVALS=1``).
APPROVALS = os.environ.get("E2E_SKIP_APPROVALS") != "1"
APPROVAL_DAG, LATE_DAG = "e2e_approval", "e2e_approval_late"
DAG_IDS = (APPROVAL_DAG, LATE_DAG)
TASK = "approve"
#: The task waits here for its answer on Airflow 3.3.
WAITING = "awaiting_input"
#: How long an answer SMS (confirmation or refusal) may take after the reply's 200.
TOLD_WITHIN = 30.0
#: The late request's timeout is 5 s; the scheduler sweeps every 15 s.
TIMEOUT_WITHIN = 90.0
#: Seconds between the api-server's reminder scans (``[ecall] hitl_reminder_interval``).
REMINDER_SCAN = 2
#: ``e2e_approval`` reminds every 10 s: the first reminder comes within this, and after the
#: answer this long without one shows there is none.
REMINDER_WITHIN, QUIET_AFTER = 40.0, 10 + 3 * REMINDER_SCAN


def approval_settings(conn_id: str) -> dict[str, str]:
    """``[ecall]`` approval settings for every process: who may answer as whom, and the
    connection the receiver's confirmations go through."""
    responders = " ".join(f"{NUMBERS[who]}={user}" for who, user in APPROVERS.items())
    return {
        "AIRFLOW__ECALL__APPROVAL_RESPONDERS": responders,
        "AIRFLOW__ECALL__APPROVAL_CONN_ID": conn_id,
        "AIRFLOW__ECALL__HITL_REMINDER_INTERVAL": str(REMINDER_SCAN),
    }


def _flat(text: str, width: int = 320) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def journal(sandbox: EcallSandbox, numbers: list[str]) -> list[str]:
    """What the sandbox accepted for ``numbers``, one line per message (numbers masked, the
    signed URL shortened to its kind)."""
    lines = []
    for message in sandbox.messages:
        if not set(message.addresses) & set(numbers):
            continue
        answer = message.params.get("Answer", "")
        url = f"  [Answer …/{answer.rsplit('/', 1)[-1]}]" if answer else ""
        text = re.sub(r"https?://\S+", "<link>", message.message)
        lines.append(
            f"{message.kind} to {mask_addresses(message.addresses)} job {message.job_id}: "
            f"{_flat(text)!r}{url}"
        )
    return lines


def _to(sandbox: EcallSandbox, number: str) -> list[SandboxMessage]:
    return [message for message in sandbox.messages if number in message.addresses]


def _reminders(sandbox: EcallSandbox, number: str) -> list[SandboxMessage]:
    """The reminders ``number`` got (JobIDs ``hitl-<ti>-r<n>``)."""
    return [m for m in _to(sandbox, number) if re.search(r"-r\d+$", str(m.job_id))]


def _around_confirmation(sandbox: EcallSandbox, number: str) -> tuple[int, int]:
    """How many reminders ``number`` got before its confirmation SMS, and after it (all of
    them when there is no confirmation)."""
    told = [m.received_at for m in _to(sandbox, number) if str(m.job_id).startswith("hitl-ack-")]
    times = [m.received_at for m in _reminders(sandbox, number)]
    if not told:
        return 0, len(times)
    return sum(1 for t in times if t < told[0]), sum(1 for t in times if t >= told[0])


@dataclass
class Request:
    """A waiting request: its run and the request SMS the sandbox accepted."""

    run_id: str
    sms: SandboxMessage

    @property
    def answer_url(self) -> str:
        """The signed ``Answer`` URL the SMS carried."""
        return str(self.sms.params.get("Answer", ""))


class Approvals:
    """The approval scenarios against ``deployment``, on the ``approval`` sandbox.

    :param on_url: told each signed ``Answer`` URL seen (so the log check looks for it).
    """

    def __init__(
        self, deployment: Deployment, sandbox: EcallSandbox, on_url: Callable[[str], None]
    ) -> None:
        self.deployment = deployment
        self.sandbox = sandbox
        self.on_url = on_url
        self.journals: dict[str, list[str]] = {}

    def _request(self, api: Api, dag_id: str, number: str) -> Request | str:
        """Trigger ``dag_id``; once its task waits and its SMS is out, the request (or what
        went wrong)."""
        run_id = api.trigger(dag_id)

        def sent() -> bool:
            waiting = ti_state(api, dag_id, run_id, TASK) == WAITING
            return waiting and bool(_to(self.sandbox, number))

        if not wait_until(sent, RUN_TIMEOUT):
            state, count = ti_state(api, dag_id, run_id, TASK), len(_to(self.sandbox, number))
            return f"no request SMS while waiting (task {state}, {count} SMS)"
        request = Request(run_id, _to(self.sandbox, number)[0])
        base = f"{self.deployment.api_url}/ecall/callbacks/"
        if not (request.answer_url.startswith(base) and request.answer_url.endswith("/approval")):
            return f"the request SMS has no signed Answer URL ({request.answer_url[:40]!r})"
        self.on_url(request.answer_url)
        return request

    def _reply(
        self, request: Request, number: str, text: str, to: SandboxMessage | None = None
    ) -> tuple[int | str, str | None]:
        """``number`` replies ``text`` to the request's SMS (or to the SMS ``to``), eCall
        calling its ``Answer`` URL; the HTTP status and the SMS the receiver sent back (None
        if none within the limit)."""
        before = len(_to(self.sandbox, number))
        job_id = str((to or request.sms).job_id)
        status = self.sandbox.answer(job_id, text, address_from=number)
        told = wait_until(lambda: len(_to(self.sandbox, number)) > before, TOLD_WITHIN)
        return status, _to(self.sandbox, number)[-1].message if told else None

    def mapped_and_unmapped(self) -> list[Verdict]:
        """``approval_unmapped``, then ``approval_mapped``, on one run of ``e2e_approval``."""
        approver, stranger = NUMBERS["approver"], NUMBERS["approval_stranger"]
        try:
            return self._mapped_and_unmapped(approver, stranger)
        finally:
            name = "approval_unmapped + approval_mapped"
            self.journals[name] = journal(self.sandbox, [approver, stranger])

    def _mapped_and_unmapped(self, approver: str, stranger: str) -> list[Verdict]:
        api = Api(self.deployment)
        request = self._request(api, APPROVAL_DAG, approver)
        if isinstance(request, str):
            return [Verdict("approval_mapped", "-", request, False)]
        unmapped = self._unmapped(api, request, stranger)
        if not wait_until(lambda: bool(_reminders(self.sandbox, approver)), REMINDER_WITHIN):
            return [unmapped, Verdict("approval_mapped", "-", "no reminder while waiting", False)]
        reminder = _reminders(self.sandbox, approver)[0]
        self.on_url(str(reminder.params.get("Answer", "")))
        status, told = self._reply(request, approver, "1", to=reminder)
        wait_until(lambda: ti_state(api, APPROVAL_DAG, request.run_id, TASK) in FINISHED_TI, 60)
        time.sleep(QUIET_AFTER)
        answered, after = _around_confirmation(self.sandbox, approver)
        state = ti_state(api, APPROVAL_DAG, request.run_id, TASK)
        detail = _detail(api, APPROVAL_DAG, request.run_id)
        by, chosen = _responded_by(detail), detail.get("chosen_options")
        user = APPROVERS["approver"]
        ok = status == 200 and state == "success" and by == f"{user} ({user})"
        ok = ok and chosen == ["Approve"] and told == f"Approve: {APPROVAL_DAG}/{TASK}, by {user}"
        ok = ok and after == 0 and reminder.params.get("Answer", "").endswith("/approval")
        showed = (
            f"{answered} reminder(s) while waiting; reply '1' to reminder {reminder.job_id} from "
            f"{mask_addresses([approver])}: {status}; task {state}; hitlDetails responded_by "
            f"{by}, chosen {chosen}; told {told!r}; {after} reminder(s) in {QUIET_AFTER} s after"
        )
        expected = "reminder; success, responded_by alice, Approve; confirmed; no reminder after"
        return [unmapped, Verdict("approval_mapped", expected, showed, ok)]

    def _unmapped(self, api: Api, request: Request, stranger: str) -> Verdict:
        status, told = self._reply(request, stranger, "1")
        state = ti_state(api, APPROVAL_DAG, request.run_id, TASK)
        detail = _detail(api, APPROVAL_DAG, request.run_id)
        recorded = detail.get("responded_at") is not None or detail.get("chosen_options")
        ok = status == 200 and state == WAITING and not recorded
        ok = ok and told is not None and "may not answer approvals" in told
        showed = (
            f"reply '1' from {mask_addresses([stranger])}: {status}; told {told!r}; task still "
            f"{state}, hitlDetails responded_at {detail.get('responded_at')}"
        )
        expected = "refusal SMS; nothing recorded, still awaiting_input"
        return Verdict("approval_unmapped", expected, showed, ok)

    def late(self) -> Verdict:
        """``approval_late``: a reply from a mapped number after the request timed out."""
        number = NUMBERS["late_approver"]
        try:
            return self._late(number)
        finally:
            self.journals["approval_late"] = journal(self.sandbox, [number])

    def _late(self, number: str) -> Verdict:
        api = Api(self.deployment)
        request = self._request(api, LATE_DAG, number)
        if isinstance(request, str):
            return Verdict("approval_late", "-", request, False)

        def state() -> str | None:
            return ti_state(api, LATE_DAG, request.run_id, TASK)

        wait_until(lambda: state() in FINISHED_TI, TIMEOUT_WITHIN)
        timed_out, before = state(), _detail(api, LATE_DAG, request.run_id)
        status, told = self._reply(request, number, "1")
        after = _detail(api, LATE_DAG, request.run_id)
        same = {k: before.get(k) for k in ("responded_at", "chosen_options")} == {
            k: after.get(k) for k in ("responded_at", "chosen_options")
        }
        by, chosen = _responded_by(after), after.get("chosen_options")
        ok = timed_out == "success" and status == 200 and same and by is None
        ok = ok and chosen == ["Reject"] and told is not None and "timed out" in told
        showed = (
            f"timed out: task {timed_out}, default {before.get('chosen_options')}; then reply "
            f"'1' from {mask_addresses([number])}: {status}; told {told!r}; hitlDetails "
            f"unchanged: {same}, responded_by {by}"
        )
        expected = "default taken; late reply: refusal SMS, nothing recorded"
        return Verdict("approval_late", expected, showed, ok)


def _detail(api: Api, dag_id: str, run_id: str) -> dict[str, Any]:
    """Airflow's HITL detail of the run's ``approve`` task (``GET …/hitlDetails``)."""
    path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{TASK}/-1/hitlDetails"
    return dict(api.call("GET", path))


def _responded_by(detail: dict[str, Any]) -> str | None:
    user = detail.get("responded_by_user")
    return None if not user else f"{user.get('id')} ({user.get('name')})"
