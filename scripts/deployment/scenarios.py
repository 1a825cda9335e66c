"""The scenarios of ``make e2e``: the fault each injects, the runs it starts, how it is judged.

Every scenario has its own sandbox (and connection ``ecall_<name>``), so its journal holds
only its own messages. A scenario passes on what its sandbox accepted, not on task states.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from airflow_provider_ecall.client.privacy import mask_addresses
from airflow_provider_ecall.sandbox import EcallSandbox
from scripts.deployment.components import Api
from scripts.deployment.dags.e2e_numbers import MAPPED, NUMBERS

RUN_TIMEOUT = 240.0


@dataclass(frozen=True)
class Verdict:
    """One row of the result table."""

    scenario: str
    expected: str
    showed: str
    ok: bool


def wait_until(check: Callable[[], bool], timeout: float) -> bool:
    """Poll ``check`` every half second; whether it held before ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


def requests_to(sandbox: EcallSandbox, endpoint: str) -> int:
    """How many requests the sandbox answered (or dropped) on ``endpoint``."""
    return sum(1 for request in sandbox.requests if request.endpoint == endpoint)


def journal_line(sandbox: EcallSandbox) -> str:
    """What the sandbox accepted, in one line (recipients masked)."""
    messages = sandbox.messages
    jobs = len({message.job_id for message in messages})
    to = ",".join(sorted({mask_addresses(message.addresses) for message in messages}))
    return (
        f"{len(messages)} msg ({jobs} job id), to {to or '-'}; "
        f"{requests_to(sandbox, 'sms')} Api/Sms, {requests_to(sandbox, 'state')} Api/State"
    )


def _tries(api: Api, dag_id: str, run_id: str) -> int:
    return max(int(ti["try_number"]) for ti in api.task_instances(dag_id, run_id))


def _states(api: Api, dag_id: str, run_id: str) -> set[str | None]:
    return {ti["state"] for ti in api.task_instances(dag_id, run_id)}


class Scenarios:
    """Arm faults, trigger runs and judge them; ``sandboxes`` by connection name."""

    def __init__(self, api: Api, sandboxes: Mapping[str, EcallSandbox]) -> None:
        self.api = api
        self.sandboxes = sandboxes
        self.runs: dict[str, str] = {}

    def start(self, name: str, dag_id: str) -> None:
        """Trigger ``dag_id`` for scenario ``name``."""
        self.runs[name] = self.api.trigger(dag_id)

    def arm_and_start(self) -> None:
        """Inject the faults of the concurrent scenarios and trigger their runs."""
        box = self.sandboxes
        box["lost_answer"].inject(endpoint="sms", accept=True, drop=True)
        box["error_window"].inject(endpoint="sms", status=500, times=2)
        box["exhausted"].inject(endpoint="sms", status=500, times=100)
        for name in ("lost_answer", "error_window", "exhausted", "rerun", "mapped"):
            self.start(name, f"e2e_{name}")
        self.start("dag_failure", "e2e_dag_failure")
        self.start("deadline", "e2e_deadline")

    def kill_worker_mid_send(self, kill: Callable[[], None]) -> str | None:
        """Start a long task; then a send whose answer is 60 s late; once eCall has the send,
        kill the worker (both tasks die with it).

        :return: None, or what went wrong.
        """
        self.start("zombie_alert", "e2e_zombie_alert")
        zombie = ("e2e_zombie_alert", self.runs["zombie_alert"])
        if not wait_until(lambda: _states(self.api, *zombie) == {"running"}, RUN_TIMEOUT):
            return "the long task never started"
        sandbox = self.sandboxes["worker_killed"]
        sandbox.inject(endpoint="sms", accept=True, delay=60)
        self.start("worker_killed", "e2e_worker_killed")
        if not wait_until(lambda: len(sandbox.messages) == 1, RUN_TIMEOUT):
            return "the send never reached the sandbox"
        kill()
        return None

    def _finished(self, name: str, dag_id: str) -> str:
        return self.api.wait_run(dag_id, self.runs[name], RUN_TIMEOUT)

    def judge_single_send(self, name: str, tries: int, state_asked: bool) -> Verdict:
        """Exactly one message, sent by a run that succeeded after ``tries`` tries (or more)."""
        dag_id, sandbox = f"e2e_{name}", self.sandboxes[name]
        state = self._finished(name, dag_id)
        took = _tries(self.api, dag_id, self.runs[name])
        asked = requests_to(sandbox, "state") > 0
        ok = state == "success" and len(sandbox.messages) == 1 and took >= tries
        ok = ok and (asked or not state_asked)
        expected = f"1 msg, success after >= {tries} tries" + (", Api/State" if state_asked else "")
        return Verdict(name, expected, f"{journal_line(sandbox)}; run {state}, {took} tries", ok)

    def judge_exhausted(self) -> Verdict:
        """No message through the broken endpoint; one alert through the on-call one."""
        state = self._finished("exhausted", "e2e_exhausted")
        alerts, broken = self.sandboxes["oncall"], self.sandboxes["exhausted"]
        wait_until(lambda: len(alerts.messages) >= 1, 60)
        ok = state == "failed" and not broken.messages and requests_to(broken, "sms") == 3
        ok = ok and len(alerts.messages) == 1 and "failed for good" in alerts.messages[0].message
        showed = f"task: {journal_line(broken)}; alert: {len(alerts.messages)} msg; run {state}"
        return Verdict("exhausted", "3 refused tries, 1 failure alert", showed, ok)

    def judge_callback(self, run: str, name: str, text: str, want_state: str) -> Verdict:
        """Exactly one alert in sandbox ``name`` containing ``text``; run ``run`` ended as
        ``want_state``."""
        sandbox = self.sandboxes[name]
        state = self._finished(run, f"e2e_{run}")
        wait_until(lambda: len(sandbox.messages) >= 1, 90)
        ok = state == want_state and len(sandbox.messages) == 1
        ok = ok and text in sandbox.messages[0].message
        showed = f"{journal_line(sandbox)}; run {state}"
        return Verdict(run, f"1 alert with '{text}'", showed, ok)

    def judge_rerun(self) -> Verdict:
        """Clear the finished send: a second message under a new job id."""
        dag_id, sandbox = "e2e_rerun", self.sandboxes["rerun"]
        run_id = self.runs["rerun"]
        first = self._finished("rerun", dag_id)
        self.api.clear(dag_id, run_id, ["send"])
        wait_until(lambda: _tries(self.api, dag_id, run_id) >= 2, 60)
        second = self._finished("rerun", dag_id)
        jobs = {message.job_id for message in sandbox.messages}
        ok = first == second == "success" and len(sandbox.messages) == 2 and len(jobs) == 2
        showed = f"{journal_line(sandbox)}; runs {first}, then {second}"
        return Verdict("rerun", "cleared: 2 msgs, 2 job ids", showed, ok)

    def judge_mapped(self) -> Verdict:
        """One message per map index, each to its own number."""
        sandbox = self.sandboxes["mapped"]
        state = self._finished("mapped", "e2e_mapped")
        got = sorted(address for message in sandbox.messages for address in message.addresses)
        jobs = {message.job_id for message in sandbox.messages}
        ok = state == "success" and got == sorted(MAPPED) and len(jobs) == len(MAPPED)
        showed = f"{journal_line(sandbox)}; run {state}"
        return Verdict("mapped", f"{len(MAPPED)} msgs, one per map index", showed, ok)


def safely(name: str, judge: Callable[[], Verdict]) -> Verdict:
    """Run one judge; an error (API down, a timeout) fails that scenario, not the others."""
    try:
        return judge()
    except Exception as exc:
        return Verdict(name, "(judge crashed)", f"{type(exc).__name__}: {exc}"[:200], False)


def safely_all(name: str, judge: Callable[[], list[Verdict]]) -> list[Verdict]:
    """Like :func:`safely`, for a judge of several scenarios."""
    try:
        return judge()
    except Exception as exc:
        return [Verdict(name, "(judge crashed)", f"{type(exc).__name__}: {exc}"[:200], False)]


def _secrets_in(path: Path, needles: list[str]) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return [needle for needle in needles if needle in text]


def judge_logs(paths: list[Path], secrets: list[str], dag_ids: list[str]) -> Verdict:
    """No component's log holds a secret (the password, the callback tokens) or any
    recipient's full number; and every DAG in ``dag_ids`` left a log to look at.
    """
    national = [re.sub(r"^\+41", "", number) for number in [*NUMBERS.values(), *MAPPED]]
    needles = [*secrets, *national]
    leaks = {str(path.name): found for path in paths if (found := _secrets_in(path, needles))}
    folders = {part for path in paths for part in path.parts if part.startswith("dag_id=")}
    unread = [dag_id for dag_id in dag_ids if f"dag_id={dag_id}" not in folders]
    showed = f"{len(paths)} log files of {len(folders)} DAGs, " + (
        "no secret, no full number"
        if not leaks
        else "LEAKS: " + "; ".join(f"{name}: {len(found)}" for name, found in leaks.items())
    )
    if unread:
        showed += f"; no log of {', '.join(unread)}"
    return Verdict("logs", "no secret, no full number", showed, not leaks and not unread)


def table(verdicts: list[Verdict]) -> str:
    """The result table, like the demo's."""
    rows = [("", "scenario", "expected", "the sandbox journal showed")]
    rows += [("ok" if v.ok else "FAILED", v.scenario, v.expected, v.showed) for v in verdicts]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)), row[3]]).rstrip()
        for row in rows
    ]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)
