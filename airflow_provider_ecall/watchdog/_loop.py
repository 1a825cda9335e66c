"""The watchdog's loop: read Airflow, open and close incidents, sweep, until SIGTERM.

Start-up checks what can be checked: eCall's credentials (a status query, which sends
nothing) and, when Airflow answers, its credentials; an Airflow that does not answer at
start is an incident, not a configuration error. Open incidents are taken over from eCall's
records (a restarted watchdog does not page again). A passing error of Airflow or eCall is
logged and retried on the next poll; a page that could not be sent is tried again then.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final, Literal

from airflow_provider_ecall.client.errors import EcallAuthError, EcallError
from airflow_provider_ecall.watchdog._airflow import (
    HEALTH_COMPONENTS,
    AirflowApi,
    AirflowRefused,
    AirflowUnreachable,
)
from airflow_provider_ecall.watchdog._config import WatchdogConfig, WatchdogConfigError
from airflow_provider_ecall.watchdog._incidents import (
    Action,
    IncidentBook,
    Reading,
    component_key,
    incident_job_id,
    incident_text,
    open_incidents_in,
)
from airflow_provider_ecall.watchdog._pager import Pager, lock, log
from airflow_provider_ecall.watchdog._sweeper import Outage, Sweeper

if TYPE_CHECKING:
    from airflow_provider_ecall.client.client import EcallClient

API_SERVER: Final = "api-server"
#: How far back a starting watchdog looks in eCall's records for incidents still open.
ADOPT_LOOKBACK: Final = timedelta(days=2)
#: The start of a dead-man's switch incident of a DAG that never succeeded.
NEVER: Final = datetime(2000, 1, 1, tzinfo=timezone.utc)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Watchdog:
    """One watchdog process.

    :param config: its checked settings.
    :param client: the eCall client built from ``config.ecall``.
    """

    def __init__(self, config: WatchdogConfig, client: EcallClient) -> None:
        self.config = config
        self.api = AirflowApi(config.airflow_url, config.airflow_username, config.airflow_password)
        self.pager = Pager(client)
        self.outage = Outage()
        self.book = IncidentBook(config.grace, config.escalate_after)
        self.sweeper = Sweeper(config, self.api, self.pager, self.outage)
        self.pending: list[Action] = []
        self.stop = threading.Event()

    def components(self) -> list[str]:
        """Every component watched."""
        return [API_SERVER, *HEALTH_COMPONENTS, *(f"dag:{d}" for d in self.config.deadman)]

    def check_start(self) -> None:
        """Check both sets of credentials where the peer answers.

        :raises WatchdogConfigError: eCall or Airflow refused them.
        """
        try:
            self.pager.client.get_status(job_id="afw-credential-check")
        except EcallAuthError:
            raise WatchdogConfigError(
                "ecall_connection", "eCall refused its login/password (HTTP 401)"
            ) from None
        except EcallError as exc:
            log.warning("eCall not reachable at start (%s): will retry", type(exc).__name__)
        try:
            self.api.health()
            if self.config.routes or self.config.deadman:
                self.api.call("/dags", limit=1)
        except AirflowRefused as exc:
            raise WatchdogConfigError(
                "airflow_username", f"Airflow refused airflow_username/airflow_password ({exc})"
            ) from None
        except AirflowUnreachable as exc:
            log.warning("Airflow not reachable at start (%s): watching for it", exc)

    def adopt_open_incidents(self) -> None:
        """Take over incidents this or another watchdog opened and nobody closed."""
        now = _now()
        try:
            found = self._open_in_ecall(now - ADOPT_LOOKBACK, now)
        except EcallError as exc:
            log.warning("open incidents not read from eCall (%s)", type(exc).__name__)
            return
        for component, (start, called) in found.items():
            log.warning("incident of %s (since %s) is still open: taken over", component, start)
            self.book.adopt(component, start, called=called, now=now)

    def _open_in_ecall(self, since: datetime, until: datetime) -> dict[str, tuple[datetime, bool]]:
        keys = {component_key(self.config.name, c): c for c in self.components()}
        records = self.pager.client.get_status(start_date=since, end_date=until)
        return open_incidents_in((r.job_id or "" for r in records), keys)

    def read(self, now: datetime) -> dict[str, Reading]:
        """One reading of every component; what cannot be read is unknown (None)."""
        found: dict[str, Reading] = {}
        try:
            found.update(self.api.health())
            found[API_SERVER] = Reading(True)
        except AirflowUnreachable as exc:
            found[API_SERVER] = Reading(False, None, f"api-server: {exc}")
            return found
        for dag_id, window in self.config.deadman.items():
            try:
                last = self.api.last_success(dag_id)
            except (AirflowUnreachable, AirflowRefused) as exc:
                log.warning("last run of DAG %s not read: %s", dag_id, exc)
                continue
            fresh = last is not None and now - last <= window
            seen = f"last success {last:%Y-%m-%d %H:%M} UTC" if last else "never succeeded"
            # The start every watchdog agrees on: when the switch tripped (or "never").
            tripped = last + window if last is not None else NEVER
            found[f"dag:{dag_id}"] = Reading(fresh, tripped, seen)
        return found

    def _opened_elsewhere(self, action: Action) -> bool:
        """For an open whose start is this watchdog's own reading: whether another watchdog
        (or this one before a restart) opened the incident already; if so, take it over."""
        if action.phase != "open" or action.anchored:
            return False
        now = _now()
        found = self._open_in_ecall(now - ADOPT_LOOKBACK, now).get(action.component)
        if found is None:
            return False
        log.warning("incident of %s was opened by another watchdog: taken over", action.component)
        self.book.adopt(action.component, found[0], called=found[1], now=now)
        return True

    def send(self, action: Action) -> None:
        """Send one incident page; keep it for the next poll if eCall fails."""
        kind: Literal["sms", "voice"] = "voice" if action.phase == "call" else "sms"
        job_id = incident_job_id(self.config.name, action.component, action.start, action.phase)
        text = incident_text(action, self.config.name)
        try:
            with lock(component_key(self.config.name, action.component)):
                if self._opened_elsewhere(action):
                    return
                self.pager.page(kind, self.config.to, text, job_id, locked=True)
            self.outage.answered(_now())
            log.warning("incident %s: %s", action.phase, text)
        except EcallError as exc:
            self.outage.failed(_now())
            self.pending.append(action)
            log.error("incident page %s NOT SENT (%s): trying again next poll", job_id, exc)

    def poll(self) -> None:
        """One round: read, page incidents, sweep."""
        now = _now()
        readings = self.read(now)
        actions, self.pending = [*self.pending, *self.book.observe(readings, now)], []
        for action in actions:
            self.send(action)
        if not self.config.routes or not readings[API_SERVER].healthy:
            return
        try:
            self.sweeper.sweep(now)
            self.outage.answered(now)
        except (AirflowUnreachable, AirflowRefused) as exc:
            log.warning("sweep skipped: Airflow said %s; next poll tries again", exc)
        except EcallError as exc:
            self.outage.failed(now)
            log.warning("sweep stopped: eCall said %s; next poll tries again", type(exc).__name__)

    def run(self) -> None:
        """Poll until :attr:`stop` is set (SIGTERM)."""
        self.adopt_open_incidents()
        log.info(
            "watching %s (%s) every %.0f s, grace %s",
            self.config.name,
            self.config.airflow_url,
            self.config.poll_interval,
            self.config.grace,
        )
        while not self.stop.is_set():
            try:
                self.poll()
            except Exception:  # one bad round must not end the watch
                log.exception("poll failed; next poll in %.0f s", self.config.poll_interval)
            self.stop.wait(self.config.poll_interval)
        self.api.close()
        log.info("stopped")
