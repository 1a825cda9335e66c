"""``make demo``: run every example DAG in real Airflow and show what eCall received.

1. starts the local eCall sandbox (``EcallSandbox``, journal in ``.demo/sandbox-journal.jsonl``);
2. creates a throw-away ``AIRFLOW_HOME`` in ``.demo/airflow`` (SQLite, no Airflow examples,
   DAGs folder ``example_dags/``) and runs ``airflow db migrate`` once;
3. points the ``ecall_default`` connection at the sandbox (``AIRFLOW_CONN_ECALL_DEFAULT``) and
   runs each example DAG with ``airflow dags test`` — ``ecall_oncall_alerting`` fails its run
   on purpose, that is expected. The sandbox's phones (``scripts.demo.phones``) play their part: the
   report SMS of ``ecall_delivery_fallback`` is never delivered (so the report goes by fax),
   the on-call engineer answers ``ecall_ack_escalation``'s call with "ACK" (so nobody else is
   paged), and two SMS commands wait in the inbound cache for ``ecall_sms_commands``. That DAG
   runs on asset events, which need a triggerer and a scheduler ``airflow dags test`` does
   not have: ``scripts.demo.commands`` plays their part in-process. ``ecall_sms_approval``
   runs beside a real ``airflow api-server`` (its callback receiver and reminder scans):
   after the reminder and the escalation call, the approver answers the reminder with ``1``
   through its signed ``Answer`` URL (``scripts.demo.approval``);
4. prints what the sandbox received (recipients masked) and what became of the SMS the phones
   sent, and exits non-zero when an expected message is missing, an unexpected one went out,
   an SMS was not taken, or a DAG run ended unexpectedly.

Against the real eCall service (costs credit; messages really go out)::

    ECALL_DEMO_REAL=1 ECALL_USERNAME=... ECALL_PASSWORD=... ECALL_DEMO_TO=+41791234567 \
        [ECALL_DEMO_FAX_TO=+41441234567] [ECALL_BASE_URL=https://url.ecall.ch] make demo

Every SMS and call then goes to ``ECALL_DEMO_TO`` (or to the per-DAG variables
``ECALL_REPORT_RECIPIENTS``, ``ECALL_ONCALL_SMS``, ``ECALL_ONCALL_VOICE``, ``ECALL_TEAM_LEAD``,
``ECALL_ROSTER``); the fax DAG and the delivery fallback run only with ``ECALL_DEMO_FAX_TO`` or
``ECALL_FAX_RECIPIENTS``; the two DAGs that read replies do not run (see ``DAGS``). The
password is handed to Airflow in the environment only.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scripts.demo.airflow_runs import (
    ROOT,
    Run,
    airflow_env,
    commands_step,
    connection_json,
    dags_test,
    fresh_home,
    highlights,
    leaks,
    migrate,
)
from scripts.demo.approval import approval_step
from scripts.demo.expect import RECIPIENTS, Received, expectations, match, table
from scripts.demo.phones import (
    ACK_DAG,
    ANSWERED_DAGS,
    APPROVAL_DAG,
    APPROVAL_ON_CALL,
    APPROVER,
    COMMANDS_DAG,
    ONCALL,
    RECIPE_DAG,
    RECIPE_REPLY_NUMBER,
    UNREACHABLE,
    Phones,
)

if TYPE_CHECKING:
    from airflow_provider_ecall.sandbox import EcallSandbox


def quiet_window_around_now() -> str:
    """Quiet hours from an hour ago to an hour from now (Europe/Zurich, whole minutes)."""
    import pendulum

    now = pendulum.now("Europe/Zurich")
    return f"{now.subtract(hours=1):%H:%M}-{now.add(hours=1):%H:%M}"


@dataclass(frozen=True)
class DemoDag:
    """One example DAG in the demo.

    :param fails: its run is meant to fail.
    :param sandbox_env: extra environment against the sandbox (short waits, demo numbers).
    :param needs_fax: it may send a fax: against the real service only with a fax number.
    :param not_real: why it does not run against the real service (None: it does).
    :param shows: patterns of log lines worth showing under the run (first match of each).
    """

    dag_id: str
    fails: bool = False
    sandbox_env: Mapping[str, str] = field(default_factory=dict)
    needs_fax: bool = False
    not_real: str | None = None
    shows: tuple[str, ...] = ()


DAGS = (
    DemoDag("ecall_pipeline_report"),
    DemoDag("ecall_oncall_alerting", fails=True),
    DemoDag("ecall_fax_report", needs_fax=True),
    DemoDag("ecall_mapped_recipients"),
    DemoDag(
        "ecall_delivery_fallback",
        sandbox_env={"ECALL_REPORT_RECIPIENTS": UNREACHABLE, "ECALL_DELIVERY_POLL_SECONDS": "1"},
        needs_fax=True,
        shows=(
            r"Pausing task as DEFERRED",
            r"eCall delivery of \S+ [^\n\[]*",
            r"eCall delivery failed for [^\n]*",
        ),
    ),
    DemoDag(
        COMMANDS_DAG,
        sandbox_env={"ECALL_REPLY_POLL": "1", "ECALL_COMMAND_SENDERS": ONCALL},
        not_real="it would drain the account's inbound cache",
        shows=(
            r"The watcher's trigger drained \d+ SMS",
            r"Created asset-triggered run \S+ consuming \d+ asset event\(s\)",
            r"SMS \S+ from \S+: command refused",
        ),
    ),
    DemoDag(
        ACK_DAG,
        sandbox_env={"ECALL_ACK_TIMEOUT": "4", "ECALL_REPLY_POLL": "1"},
        not_real="it waits for an SMS reply to the account's number",
        shows=(r"no matching eCall reply within \S+", r"eCall reply \S+ from \S+ matched"),
    ),
    DemoDag(
        RECIPE_DAG,
        # Quiet hours around now, so the minor alert is held whenever the demo runs.
        sandbox_env={
            "ECALL_ACK_TIMEOUT": "4",
            "ECALL_REPLY_POLL": "1",
            "ECALL_REPLY_NUMBER": RECIPE_REPLY_NUMBER,
            "ECALL_QUIET_HOURS": quiet_window_around_now(),
        },
        not_real="it waits for an SMS reply to the account's number",
        shows=(
            r"eCall alert: quiet hours; scheduled for \S+",
            r"eCall sms alert sent: job \S+",
            r"no matching eCall reply within \S+",
            r"eCall reply \S+ from \S+ matched",
        ),
    ),
    DemoDag(
        APPROVAL_DAG,
        # A reminder after 10 s, the call after 12 s; the approver answers once called.
        sandbox_env={
            "ECALL_APPROVER": APPROVER,
            "ECALL_ON_CALL": APPROVAL_ON_CALL,
            "ECALL_APPROVAL_REMIND_SECONDS": "10",
            "ECALL_APPROVAL_ESCALATE_SECONDS": "12",
        },
        not_real="eCall would have to reach the api-server's callback receiver",
        shows=(
            r"EcallHITLNotifier: request \S+ \(ref \w+\) sent to \S+",
            r"DEMO: the reminder [^\n]*",
            r"DEMO: \S+ replied [^\n]*",
            r"DEMO: Airflow's hitlDetails[^\n]*",
        ),
    ),
)
BY_ID = {dag.dag_id: dag for dag in DAGS}
DEMO_DIR = ROOT / ".demo"
JOURNAL = DEMO_DIR / "sandbox-journal.jsonl"


def real_settings() -> tuple[str, dict[str, str]] | None:
    """The connection and the DAGs' environment (recipients) for the real service, or None
    for the sandbox."""
    if os.environ.get("ECALL_DEMO_REAL") != "1":
        return None
    username, password = os.environ.get("ECALL_USERNAME"), os.environ.get("ECALL_PASSWORD")
    to = os.environ.get("ECALL_DEMO_TO")
    if not (username and password and to):
        sys.exit(
            "ECALL_DEMO_REAL=1 needs ECALL_USERNAME, ECALL_PASSWORD and ECALL_DEMO_TO (your own "
            "number: the DAGs' placeholder numbers may belong to real people)"
        )
    recipients = {name: os.environ.get(name, to) for name in RECIPIENTS}
    fax = os.environ.get("ECALL_FAX_RECIPIENTS") or os.environ.get("ECALL_DEMO_FAX_TO")
    if fax:
        recipients["ECALL_FAX_RECIPIENTS"] = fax
    else:
        del recipients["ECALL_FAX_RECIPIENTS"]
    # The delivery fallback asks eCall every 60 s by default: a demo does not wait that long.
    recipients["ECALL_DELIVERY_POLL_SECONDS"] = os.environ.get("ECALL_DELIVERY_POLL_SECONDS", "10")
    host = os.environ.get("ECALL_BASE_URL", "https://url.ecall.ch")
    return connection_json(host, username, password), recipients


def dags_to_run(real: tuple[str, dict[str, str]] | None) -> list[DemoDag]:
    """Every DAG against the sandbox; against the real service, those that may run there."""
    if real is None:
        return list(DAGS)
    chosen = []
    for dag in DAGS:
        reason = dag.not_real
        if reason is None and dag.needs_fax and "ECALL_FAX_RECIPIENTS" not in real[1]:
            reason = "it may send a fax: set ECALL_DEMO_FAX_TO to include it"
        if reason is None:
            chosen.append(dag)
        else:
            print(f"{dag.dag_id} skipped: {reason}")
    return chosen


def run_all(dags: list[DemoDag], env: dict[str, str], home: Path, phones: Phones) -> list[Run]:
    """``airflow dags test`` for each DAG, one after the other (SQLite has one writer)."""
    runs = []
    for dag in dags:
        print(f"  {dag.dag_id:<26} ", end="", flush=True)
        run_env = env if phones.sandbox is None else {**env, **dag.sandbox_env}
        phones.before(dag.dag_id)
        if dag.dag_id == COMMANDS_DAG:
            run = commands_step(dag.dag_id, run_env, home, len(phones.of(COMMANDS_DAG)))
        elif dag.dag_id == APPROVAL_DAG and phones.sandbox is not None:
            run = approval_step(run_env, home, phones.sandbox)
        else:
            run = dags_test(dag.dag_id, run_env, home)
        state = "failed" if run.failed else "success"
        note = "(expected)" if run.failed == dag.fails else "<-- UNEXPECTED"
        print(f"{state:<8} {run.seconds:5.1f} s  {note}", flush=True)
        for line in highlights(run, dag.shows):
            print(f"{'':<30}{line.strip()}")
        runs.append(run)
    return runs


def start_sandbox(stack: ExitStack, phones: Phones) -> tuple[EcallSandbox, str]:
    """The in-process sandbox with the demo's phones (stopped by ``stack``) and a connection
    pointing at it."""
    from airflow_provider_ecall.sandbox import EcallSandbox

    JOURNAL.unlink(missing_ok=True)
    sandbox = stack.enter_context(EcallSandbox(journal=JOURNAL, echo=phones.echo))
    phones.attach(sandbox)
    print(f"eCall sandbox on {sandbox.base_url} (journal: {JOURNAL.relative_to(ROOT)})")
    return sandbox, connection_json(sandbox.base_url, sandbox.username, sandbox.password)


def check_sandbox(sandbox: EcallSandbox, phones: Phones, home: Path) -> bool:
    """Print what the sandbox received and what became of the phones' SMS; whether every
    expected message is there, nothing else went out and every SMS was dealt with."""
    received = [
        Received(got.kind, got.addresses, got.message, got.job_id, got.params)
        for got in sandbox.messages
    ]
    allowed = [sms for sms in phones.of(COMMANDS_DAG) if sms.sender == ONCALL]
    pairs, extra = match(expectations(allowed[0].message_id if allowed else None), received)
    print(f"\nThe sandbox received {len(received)} message(s):\n")
    print(table(pairs, extra))
    runs = _started_runs(home / "demo-logs" / f"{COMMANDS_DAG}.json")
    logs = [home / "demo-logs" / f"{dag_id}.log" for dag_id in ANSWERED_DAGS]
    outcomes = phones.outcomes(runs, set().union(*map(_matched_replies, logs)))
    print(f"\nThe phones sent {len(outcomes)} SMS to the account (its inbound cache):\n")
    for sms, outcome, ok in outcomes:
        print(f"{'ok' if ok else 'WRONG':<5} " + sms.row(outcome))
    return not extra and all(got is not None for _, got in pairs) and all(o[2] for o in outcomes)


def _matched_replies(log: Path) -> set[str]:
    """The message ids the reply waits of ``ecall_ack_escalation`` matched (from its log)."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return set(re.findall(r"eCall reply (\S+) from \S+ matched", text))


def _started_runs(result: Path) -> dict[str, str]:
    """The runs ``ecall_sms_commands`` started (run id -> state), from the step's result."""
    if not result.exists():
        return {}
    runs = json.loads(result.read_text(encoding="utf-8"))["runs"]
    return {run_id: state for dag_id, run_id, state in runs if dag_id != COMMANDS_DAG}


def _sandbox_secrets(sandbox: EcallSandbox, phones: Phones) -> list[str]:
    numbers = {number for message in sandbox.messages for number in message.addresses}
    return [sandbox.password, *numbers, *(sms.sender for sms in phones.inbound)]


def _real_secrets(settings: Mapping[str, str]) -> list[str]:
    numbers = {n.strip() for name in RECIPIENTS for n in settings.get(name, "").split(";")}
    return [os.environ.get("ECALL_PASSWORD", ""), *numbers]


def check_privacy(home: Path, secrets: list[str]) -> bool:
    """Whether no log of the demo holds a full number or the password (says which do)."""
    found = leaks(home, secrets)
    logs = sum(1 for p in home.rglob("*") if p.is_file() and p.suffix in {".log", ".json"})
    if found:
        print(f"\nLEAK: a full number or the password in {len(found)} of {logs} logs:")
        print("\n".join(f"  {where}" for where in found))
    else:
        print(f"\nNo full number and no password in the {logs} log files.")
    return not found


def main() -> int:
    started = time.monotonic()
    real = real_settings()
    home = fresh_home(DEMO_DIR / "airflow")
    phones = Phones()
    with ExitStack() as stack:
        if real is None:
            sandbox, connection = start_sandbox(stack, phones)
            env = airflow_env(home, connection, {})
        else:
            connection, recipients = real
            env = airflow_env(home, connection, recipients)
            print("REAL eCall service: messages go out and cost credit")
        dags = dags_to_run(real)
        print(f"airflow db migrate in {home.relative_to(ROOT)} ...", flush=True)
        migrate(env, home)
        print("airflow dags test <dag_id>:", flush=True)
        runs = run_all(dags, env, home, phones)
        ok = all(run.failed == BY_ID[run.dag_id].fails for run in runs)
        if real is None:
            ok = check_sandbox(sandbox, phones, home) and ok
            secrets = _sandbox_secrets(sandbox, phones)
        else:
            print("\nSent through eCall: see the message log in the eCall portal.")
            secrets = _real_secrets(real[1])
        ok = check_privacy(home, secrets) and ok
    where = home.relative_to(ROOT)
    print(f"\nLogs: {where}/demo-logs/<dag_id>.log (airflow dags test output, task logs included)")
    if real is None:
        print(f"      {JOURNAL.relative_to(ROOT)} (every message the sandbox accepted, in full)")
    print(f"\n{'OK' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
