"""The watchdog scenarios of ``make e2e`` (issue 17), run last: they stop Airflow components.

Two watchdogs (``ecall-watchdog``, as installed from the wheel) watch the deployment and send
through one sandbox (``ecall_watchdog``), whose journal judges every scenario:

1. eCall answers 503 to everything for ``OUTAGE`` seconds while two tasks fail, one whose
   notifier gives up during the outage and one without any callback: after eCall recovers,
   exactly one late alert per failure (the two sweepers agree through eCall's records);
2. the scheduler is SIGKILLed and the triggerer stopped: one incident SMS each, none more
   when a watchdog restarts mid-incident, one recovery SMS each once they are restarted.

Short settings keep it quick: polls every ``POLL`` s, ``GRACE`` s of grace, Airflow's health
thresholds ``HEALTH_THRESHOLD`` s (set in the deployment's configuration).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from datetime import datetime, timezone

from airflow_provider_ecall.sandbox import EcallSandbox
from scripts.deployment.components import API_USER, BIN, Api, Deployment
from scripts.deployment.dags.e2e_numbers import NUMBERS
from scripts.deployment.scenarios import Verdict, journal_line, wait_until
from scripts.deployment.services import Proc, Processes

DAG_IDS = ("e2e_wd_outage", "e2e_wd_bare")
#: Fails while eCall works: its notifier pages, the sweeper must not.
PAGED_DAG = "e2e_wd_paged"
OUTAGE = 120.0
POLL = 2
GRACE = 5
#: Longer than the notifier's retry budget (30 s): the notifier has its turn first.
SWEEP_GRACE = 40
HEALTH_THRESHOLD = 20


def health_settings() -> dict[str, str]:
    """Airflow's own thresholds for calling a scheduler or triggerer unhealthy (default 30 s)."""
    return {
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": str(HEALTH_THRESHOLD),
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(HEALTH_THRESHOLD),
    }


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _seconds(since: datetime, until: datetime | None) -> str:
    return "-" if until is None else f"{(until - since).total_seconds():.0f} s"


class WatchdogScenarios:
    """Start the watchdogs, inject the faults, judge the journal.

    :param step: prints one progress line.
    """

    def __init__(
        self,
        procs: Processes,
        deployment: Deployment,
        api: Api,
        sandbox: EcallSandbox,
        step: Callable[[str], None],
    ) -> None:
        self.procs = procs
        self.deployment = deployment
        self.api = api
        self.sandbox = sandbox
        self.step = step

    def _env(self) -> dict[str, str]:
        box = self.sandbox
        conn = {"host": box.base_url, "login": box.username, "password": box.password}
        route = {"dags": "e2e_wd_*", "to": NUMBERS["watchdog_team"], "dag_runs": False}
        settings = {
            "AIRFLOW_URL": self.deployment.api_url,
            "AIRFLOW_USERNAME": API_USER,
            "AIRFLOW_PASSWORD": self.deployment.api_password,
            "ECALL_CONNECTION": json.dumps(conn),
            "TO": NUMBERS["watchdog_oncall"],
            "NAME": "e2e",
            "POLL_INTERVAL": str(POLL),
            "GRACE": str(GRACE),
            "ROUTES": json.dumps([route]),
            "SWEEP_GRACE": str(SWEEP_GRACE),
            "SWEEP_LOOKBACK": "900",
        }
        return {
            "PATH": os.environ.get("PATH", ""),
            **{f"ECALL_WATCHDOG_{k}": v for k, v in settings.items()},
        }

    def _start(self, name: str) -> Proc:
        return self.procs.start(name, [str(BIN / "ecall-watchdog")], self._env())

    def _stop(self, proc: Proc) -> int:
        os.killpg(proc.popen.pid, signal.SIGTERM)
        return proc.popen.wait(30)

    def _about(self, words: str) -> list[datetime]:
        return [m.received_at for m in self.sandbox.messages if words in m.message]

    def run(self) -> list[Verdict]:
        """Both scenario groups, in order; one verdict per scenario."""
        self.api.wait_for_dags([*DAG_IDS, PAGED_DAG], 120)
        watchdogs = [self._start("watchdog-a"), self._start("watchdog-b")]
        time.sleep(3 * POLL)
        quiet = len(self.sandbox.messages)
        paged = self.api.trigger(PAGED_DAG)
        paged_state = self.api.wait_run(PAGED_DAG, paged, 120)
        wait_until(lambda: bool(self._about(f"task {PAGED_DAG}.load")), 60)
        verdicts = self._outage_and_sweep(watchdogs)
        notified = self._about(f"Airflow: task {PAGED_DAG}.load failed")
        swept = self._about(f"LATE ALERT: task {PAGED_DAG}.")
        ok = paged_state == "failed" and len(notified) == 1 and not swept
        showed = f"{len(notified)} notifier alert, {len(swept)} sweeper alert"
        verdicts.append(Verdict("wd_already_paged", "the notifier's 1 alert only", showed, ok))
        verdicts += self._components(watchdogs, quiet, len(notified))
        return verdicts

    def _outage_and_sweep(self, watchdogs: list[Proc]) -> list[Verdict]:
        box = self.sandbox
        box.inject(status=503, times=1_000_000)
        down = _now()
        runs = {dag_id: self.api.trigger(dag_id) for dag_id in DAG_IDS}
        self.step(f"eCall 503 for {OUTAGE:.0f} s; e2e_wd_outage and e2e_wd_bare triggered")
        states = {d: self.api.wait_run(d, r, OUTAGE) for d, r in runs.items()}
        time.sleep(max(0.0, OUTAGE - (_now() - down).total_seconds()))
        box.clear_faults()
        up = _now()
        self.step(f"eCall answers again; runs {states}")
        late = {d: f"LATE ALERT: task {d}." for d in DAG_IDS}
        wait_until(lambda: all(self._about(words) for words in late.values()), 60 + SWEEP_GRACE)
        time.sleep(3 * POLL)  # more sweeps by both watchdogs: still one alert each
        verdicts = []
        for dag_id, words in late.items():
            sent = self._about(words)
            text = next((m.message for m in box.messages if words in m.message), "")
            why = "eCall did not answer" in text
            ok = len(sent) == 1 and why and states[dag_id] == "failed"
            showed = (
                f"{len(sent)} alert, 'late because eCall did not answer': {why}; "
                f"{_seconds(down, sent[0] if sent else None)} after the failure, "
                f"{_seconds(up, sent[0] if sent else None)} after eCall recovered"
            )
            name = "wd_outage_notifier" if dag_id == "e2e_wd_outage" else "wd_no_callback"
            verdicts.append(Verdict(name, "exactly 1 late alert after eCall is back", showed, ok))
        tried = [
            "sweep stopped: eCall said" in w.log.read_text(encoding="utf-8", errors="replace")
            for w in watchdogs
        ]
        alerts = sum(len(self._about(words)) for words in late.values())
        ok = all(tried) and alerts == len(DAG_IDS)
        showed = f"both swept during the outage: {all(tried)}; {alerts} alerts for 2 failures"
        verdicts.append(Verdict("wd_two_sweepers", "1 alert per failure", showed, ok))
        return verdicts

    def _components(self, watchdogs: list[Proc], quiet: int, paged: int) -> list[Verdict]:
        """The scheduler and triggerer faults; then the whole journal.

        :param quiet: messages sent while everything was healthy (must be 0).
        :param paged: the notifier's alerts (``wd_already_paged``).
        """
        scheduler = next(p for p in self.procs.started if p.name == "scheduler")
        triggerer = next(p for p in self.procs.started if p.name == "triggerer")
        fault = _now()
        self.procs.kill(scheduler)
        self._stop(triggerer)
        self.step("scheduler SIGKILLed, triggerer stopped (SIGTERM)")
        down = {"scheduler": "scheduler DOWN", "triggerer": "triggerer DOWN"}
        wait_until(lambda: all(self._about(w) for w in down.values()), 3 * HEALTH_THRESHOLD + 60)
        self.step("incident SMS in; restarting watchdog-a mid-incident")
        self._stop(watchdogs[0])
        self._start("watchdog-a2")
        time.sleep(GRACE + 4 * POLL)
        repeated = {c: len(self._about(w)) for c, w in down.items()}
        restarted = _now()
        env = self.deployment.env
        self.procs.start("scheduler-2", [str(BIN / "airflow"), "scheduler"], env)
        self.procs.start("triggerer-2", [str(BIN / "airflow"), "triggerer"], env)
        self.step("scheduler and triggerer restarted; waiting for the recovery SMS")
        back = {"scheduler": "scheduler back up", "triggerer": "triggerer back up"}
        wait_until(lambda: all(self._about(w) for w in back.values()), 120)
        time.sleep(2 * POLL)
        verdicts = []
        for component in ("scheduler", "triggerer"):
            opened, closed = self._about(down[component]), self._about(back[component])
            ok = len(opened) == 1 and len(closed) == 1 and repeated[component] == 1
            showed = (
                f"{len(opened)} incident SMS {_seconds(fault, opened[0] if opened else None)} "
                f"after the fault, {repeated[component]} after the watchdog restart; "
                f"{len(closed)} recovery SMS {_seconds(restarted, closed[0] if closed else None)}"
                " after the restart"
            )
            verdicts.append(
                Verdict(f"wd_{component}", "1 incident SMS, 1 recovery SMS", showed, ok)
            )
        others = len(self.sandbox.messages) - quiet - paged - len(DAG_IDS) - 4
        quiet_ok = quiet == 0 and others == 0
        showed = f"{journal_line(self.sandbox)}; {quiet} while healthy, {others} unexpected"
        verdicts.append(Verdict("wd_journal", "nothing else paged", showed, quiet_ok))
        return verdicts
