"""Airflow as the watchdog sees it: the health endpoint and the stable REST API (no Airflow
import; ``requests`` only).

- Airflow 3.x: health at ``/api/v2/monitor/health``, REST at ``/api/v2`` with a bearer token
  from ``POST /auth/token`` (the auth manager's login).
- Airflow 2.11: health at ``/health``, REST at ``/api/v1`` with HTTP basic auth (the
  ``basic_auth`` API backend).

The version is told by which health endpoint answers. Health needs no login; failures and
DAG runs do. Every call has a timeout; errors come out as :class:`AirflowUnreachable`
(retry later) or :class:`AirflowRefused` (credentials: a setting to fix).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from airflow_provider_ecall.watchdog._incidents import Reading

if TYPE_CHECKING:
    import requests

HEALTH_COMPONENTS: Final = ("metadatabase", "scheduler", "triggerer", "dag_processor")
_PAGE: Final = 100
#: The stable REST API's root per major version.
_REST: Final = {3: "/api/v2", 2: "/api/v1"}
_TIMEOUT: Final = (5.0, 20.0)


class AirflowUnreachable(Exception):
    """Airflow did not answer, or answered with an error that may pass."""


class AirflowRefused(Exception):
    """Airflow refused the watchdog's credentials (401/403)."""


@dataclass(frozen=True)
class FailedItem:
    """A failed task instance (``task_id`` set) or DAG run, as the REST API lists it."""

    dag_id: str
    run_id: str
    task_id: str | None
    map_index: str
    try_number: str
    end_date: datetime | None


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time from Airflow (``Z`` or an offset), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def readings(health: Mapping[str, object]) -> dict[str, Reading]:
    """The health endpoint's JSON as :class:`Reading` per component (same shape on 2.11 and 3.x).

    A component Airflow reports with status ``null`` (never deployed) reads None: unknown.
    """
    found: dict[str, Reading] = {}
    for name in HEALTH_COMPONENTS:
        part = health.get(name)
        if not isinstance(part, Mapping):
            continue
        status = part.get("status")
        beat = parse_time(part.get(f"latest_{name}_heartbeat"))
        detail = f"last heartbeat {beat:%H:%M:%S} UTC" if beat else f"{name} {status}"
        healthy = None if status is None else status == "healthy"
        found[name] = Reading(healthy, beat, detail)
    return found


class AirflowApi:
    """The few calls the watchdog makes.

    :param base_url: Airflow's api-server (3.x) or webserver (2.11) root URL.
    :param username: a user allowed to read DAGs, runs and task instances (or None).
    :param password: its password.
    """

    def __init__(self, base_url: str, username: str | None, password: str | None) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self._username = username
        self._password = password
        self._session = requests.Session()
        self.major: int | None = None  # 2 or 3, once a health endpoint answered
        self._token: str | None = None

    def _get(self, url: str, **params: str | int) -> requests.Response:
        import requests

        try:
            return self._session.get(url, params=params, timeout=_TIMEOUT)
        except requests.RequestException as exc:
            where = url.removeprefix(self.base_url) or "/"
            raise AirflowUnreachable(f"{type(exc).__name__} from {where}") from None

    def health(self) -> dict[str, Reading]:
        """Read the health endpoint; a 3.x path is tried first, then 2.11's ``/health``.

        :raises AirflowUnreachable: neither answered with JSON.
        """
        paths = {3: "/api/v2/monitor/health", 2: "/health"}
        order = [self.major] if self.major else [3, 2]
        last = "no answer"
        for major in order:
            answer = self._get(self.base_url + paths[major])
            if answer.status_code == 200:
                try:
                    body = answer.json()
                except ValueError:
                    body = None
                if isinstance(body, dict):
                    self.major = major
                    return readings(body)
            last = f"HTTP {answer.status_code} from {paths[major]}"
        raise AirflowUnreachable(last)

    def _login(self) -> None:
        import requests

        if self._username is None or self._password is None:
            raise AirflowRefused("no Airflow username/password is set")
        if self.major == 2:
            self._session.auth = (self._username, self._password)
            return
        url = f"{self.base_url}/auth/token"
        try:
            answer = self._session.post(
                url,
                json={"username": self._username, "password": self._password},
                timeout=_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise AirflowUnreachable(f"{type(exc).__name__} from {url}") from None
        if answer.status_code in (400, 401, 403, 404):
            raise AirflowRefused(f"HTTP {answer.status_code} from /auth/token")
        if answer.status_code >= 300:
            raise AirflowUnreachable(f"HTTP {answer.status_code} from /auth/token")
        self._token = str(answer.json().get("access_token", ""))
        self._session.headers["Authorization"] = f"Bearer {self._token}"

    def call(self, path: str, **params: str | int) -> dict[str, object]:
        """GET ``/api/v2{path}`` (``/api/v1`` on 2.11), logging in when needed.

        :raises AirflowRefused: the credentials are refused.
        :raises AirflowUnreachable: anything else that failed.
        """
        if self.major is None:
            self.health()
        if self._token is None and self._session.auth is None:
            self._login()
        url = f"{self.base_url}{_REST[self.major or 3]}{path}"
        answer = self._get(url, **params)
        if answer.status_code == 401 and self.major == 3:  # the token expired: once more
            self._login()
            answer = self._get(url, **params)
        if answer.status_code in (401, 403):
            raise AirflowRefused(f"HTTP {answer.status_code} from {path}")
        if answer.status_code != 200:
            raise AirflowUnreachable(f"HTTP {answer.status_code} from {path}")
        body = answer.json()
        if not isinstance(body, dict):
            raise AirflowUnreachable(f"no JSON object from {path}")
        return body

    def _pages(self, path: str, key: str, **params: str) -> Iterator[Mapping[str, object]]:
        offset = 0
        while True:
            body = self.call(path, limit=_PAGE, offset=offset, **params)
            items = body.get(key)
            if not isinstance(items, list):
                return
            yield from (i for i in items if isinstance(i, Mapping))
            offset += len(items)
            if len(items) < _PAGE:
                return

    def failures(self, since: datetime, until: datetime) -> list[FailedItem]:
        """Failed task instances and DAG runs that ended in ``[since, until]``."""
        window = {"end_date_gte": since.isoformat(), "end_date_lte": until.isoformat()}
        found = [
            FailedItem(
                str(ti.get("dag_id")),
                str(ti.get("dag_run_id")),
                str(ti.get("task_id")),
                str(ti.get("map_index", -1)),
                str(ti.get("try_number", "")),
                parse_time(ti.get("end_date")),
            )
            for ti in self._pages(
                "/dags/~/dagRuns/~/taskInstances", "task_instances", state="failed", **window
            )
        ]
        found += [
            FailedItem(
                str(r.get("dag_id")),
                str(r.get("dag_run_id")),
                None,
                "-1",
                "",
                parse_time(r.get("end_date")),
            )
            for r in self._pages("/dags/~/dagRuns", "dag_runs", state="failed", **window)
        ]
        return found

    def dag_tags(self) -> dict[str, tuple[str, ...]]:
        """``{dag_id: tags}`` of every DAG."""
        tags: dict[str, tuple[str, ...]] = {}
        for dag in self._pages("/dags", "dags"):
            names = [t.get("name") for t in dag.get("tags") or [] if isinstance(t, Mapping)]  # type: ignore[attr-defined]
            tags[str(dag.get("dag_id"))] = tuple(str(n) for n in names if n)
        return tags

    def last_success(self, dag_id: str) -> datetime | None:
        """When the DAG's latest successful run ended, or None (never)."""
        body = self.call(f"/dags/{dag_id}/dagRuns", state="success", order_by="-end_date", limit=1)
        runs = body.get("dag_runs")
        if isinstance(runs, list) and runs and isinstance(runs[0], Mapping):
            return parse_time(runs[0].get("end_date"))
        return None

    def close(self) -> None:
        """Release the HTTP session."""
        self._session.close()
