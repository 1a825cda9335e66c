"""``make demo``: run every example DAG in real Airflow and show what eCall received.

1. starts the local eCall sandbox (``EcallSandbox``, journal in ``.demo/sandbox-journal.jsonl``);
2. creates a throw-away ``AIRFLOW_HOME`` in ``.demo/airflow`` (SQLite, no Airflow examples,
   DAGs folder ``example_dags/``) and runs ``airflow db migrate`` once;
3. points the ``ecall_default`` connection at the sandbox (``AIRFLOW_CONN_ECALL_DEFAULT``) and
   runs each example DAG with ``airflow dags test`` — ``ecall_oncall_alerting`` fails its run
   on purpose, that is expected;
4. prints what the sandbox received (recipients masked) and exits non-zero when an expected
   message is missing or a DAG run ended unexpectedly.

Against the real eCall service (costs credit; messages really go out)::

    ECALL_DEMO_REAL=1 ECALL_USERNAME=... ECALL_PASSWORD=... ECALL_DEMO_TO=+41791234567 \
        [ECALL_DEMO_FAX_TO=+41441234567] [ECALL_BASE_URL=https://url.ecall.ch] make demo

Every SMS and call then goes to ``ECALL_DEMO_TO`` (or to the per-DAG variables
``ECALL_REPORT_RECIPIENTS``, ``ECALL_ONCALL_SMS``, ``ECALL_ONCALL_VOICE``, ``ECALL_TEAM_LEAD``,
``ECALL_ROSTER``); the fax DAG runs only with ``ECALL_DEMO_FAX_TO`` or
``ECALL_FAX_RECIPIENTS``. The password is handed to Airflow in the environment only.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from _demo_airflow import ROOT, Run, airflow_env, connection_json, dags_test, fresh_home, migrate
from _demo_expect import RECIPIENTS, Received, expectations, match, table

if TYPE_CHECKING:
    from airflow_provider_ecall.sandbox import EcallSandbox

#: The example DAGs and whether their run is meant to fail.
DAGS = {
    "ecall_pipeline_report": False,
    "ecall_oncall_alerting": True,
    "ecall_fax_report": False,
    "ecall_mapped_recipients": False,
}
DEMO_DIR = ROOT / ".demo"
JOURNAL = DEMO_DIR / "sandbox-journal.jsonl"


def real_settings() -> tuple[str, dict[str, str]] | None:
    """The connection and recipients for the real service, or None for the sandbox."""
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
    host = os.environ.get("ECALL_BASE_URL", "https://url.ecall.ch")
    return connection_json(host, username, password), recipients


def run_all(dag_ids: list[str], env: dict[str, str], home: Path) -> list[Run]:
    """``airflow dags test`` for each DAG, one after the other (SQLite has one writer)."""
    runs = []
    for dag_id in dag_ids:
        print(f"  {dag_id:<26} ", end="", flush=True)
        run = dags_test(dag_id, env, home)
        state = "failed" if run.failed else "success"
        note = "(expected)" if run.failed == DAGS[dag_id] else "<-- UNEXPECTED"
        print(f"{state:<8} {run.seconds:5.1f} s  {note}", flush=True)
        runs.append(run)
    return runs


def start_sandbox(stack: ExitStack) -> tuple[EcallSandbox, str]:
    """The in-process sandbox (stopped by ``stack``) and a connection pointing at it."""
    from airflow_provider_ecall.sandbox import EcallSandbox

    JOURNAL.unlink(missing_ok=True)
    sandbox = stack.enter_context(EcallSandbox(journal=JOURNAL))
    print(f"eCall sandbox on {sandbox.base_url} (journal: {JOURNAL.relative_to(ROOT)})")
    return sandbox, connection_json(sandbox.base_url, sandbox.username, sandbox.password)


def check_sandbox(sandbox: EcallSandbox) -> bool:
    """Print what the sandbox received; whether every expected message is there."""
    received = [
        Received(got.kind, got.addresses, got.message, got.job_id, got.params)
        for got in sandbox.messages
    ]
    pairs, extra = match(expectations(), received)
    print(f"\nThe sandbox received {len(received)} message(s):\n")
    print(table(pairs, extra))
    return all(got is not None for _, got in pairs)


def main() -> int:
    started = time.monotonic()
    real = real_settings()
    home = fresh_home(DEMO_DIR / "airflow")
    dag_ids = list(DAGS)
    with ExitStack() as stack:
        if real is None:
            sandbox, connection = start_sandbox(stack)
            env = airflow_env(home, connection, {})
        else:
            connection, recipients = real
            env = airflow_env(home, connection, recipients)
            print("REAL eCall service: messages go out and cost credit")
            if "ECALL_FAX_RECIPIENTS" not in recipients:
                dag_ids.remove("ecall_fax_report")
                print("ecall_fax_report skipped: set ECALL_DEMO_FAX_TO to include it")
        print(f"airflow db migrate in {home.relative_to(ROOT)} ...", flush=True)
        migrate(env, home)
        print("airflow dags test <dag_id>:", flush=True)
        runs = run_all(dag_ids, env, home)
        ok = all(run.failed == DAGS[run.dag_id] for run in runs)
        if real is None:
            ok = check_sandbox(sandbox) and ok
        else:
            print("\nSent through eCall: see the message log in the eCall portal.")
    where = home.relative_to(ROOT)
    print(f"\nLogs: {where}/demo-logs/<dag_id>.log (airflow dags test output)")
    print(f"      {where}/logs/ (task logs)")
    if real is None:
        print(f"      {JOURNAL.relative_to(ROOT)} (every message the sandbox accepted, in full)")
    print(f"\n{'OK' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
