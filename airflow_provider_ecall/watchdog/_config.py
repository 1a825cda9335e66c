"""The watchdog's settings: environment variables ``ECALL_WATCHDOG_<NAME>`` and/or a JSON
file (``ECALL_WATCHDOG_CONFIG``; the environment wins), checked at start.

Every error names the setting and its rule (:class:`WatchdogConfigError`), and none quotes a
password. The eCall credentials take an Airflow connection's forms: its JSON
(``{"conn_type": "ecall", "host": …, "login": …, "password": …, "extra": {…}}``) or its URI
(``ecall://login:password@host:port?timeout=10``; a scheme inside the host is percent-encoded).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl, unquote, urlsplit

from airflow_provider_ecall.client import validation as check
from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.hooks.settings import ConnectionSettings, read_settings
from airflow_provider_ecall.watchdog._routing import Route, parse_routes

ENV_PREFIX: Final = "ECALL_WATCHDOG_"
SETTINGS: Final = (
    *("name", "airflow_url", "airflow_username", "airflow_password", "ecall_connection", "to"),
    *("poll_interval", "grace", "escalate_after", "routes", "sweep_grace", "sweep_lookback"),
    "deadman",
)


class WatchdogConfigError(ValueError):
    """A setting is missing or breaks its rule.

    :param setting: the setting's name (as a file key; the variable is ``ECALL_WATCHDOG_`` +
        its upper case).
    :param rule: what it must be.
    """

    def __init__(self, setting: str, rule: str) -> None:
        super().__init__(f"setting {setting} (env {ENV_PREFIX}{setting.upper()}): {rule}")
        self.setting = setting
        self.rule = rule


@dataclass(frozen=True)
class WatchdogConfig:
    """The checked settings (see docs/watchdog.md for each)."""

    name: str
    airflow_url: str
    airflow_username: str | None
    airflow_password: str | None = field(repr=False)
    ecall: ConnectionSettings
    to: tuple[str, ...]
    poll_interval: float = 30.0
    grace: timedelta = timedelta(minutes=2)
    escalate_after: timedelta | None = None
    routes: tuple[Route, ...] = ()
    sweep_grace: timedelta = timedelta(minutes=5)
    sweep_lookback: timedelta = timedelta(hours=6)
    deadman: Mapping[str, timedelta] = field(default_factory=dict)


@dataclass
class _Conn:
    """What :func:`read_settings` reads, from the watchdog's ``ecall_connection``."""

    conn_id: str
    host: str | None
    port: int | None
    login: str | None
    password: str | None = field(repr=False)
    extra_dejson: dict[str, object] = field(default_factory=dict)


def _connection(value: object) -> _Conn:
    name = "ecall_connection"
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            raise WatchdogConfigError(name, "is neither valid JSON nor an ecall:// URI") from None
    if isinstance(value, Mapping):
        extra = value.get("extra") or {}
        if isinstance(extra, str):
            try:
                extra = json.loads(extra)
            except ValueError:
                raise WatchdogConfigError(name, "its 'extra' is not valid JSON") from None
        port = value.get("port")
        return _Conn(
            name,
            _str(value.get("host")),
            int(port) if port else None,
            _str(value.get("login")),
            _str(value.get("password")),
            dict(extra) if isinstance(extra, Mapping) else {},
        )
    if isinstance(value, str) and "://" in value:
        parts = urlsplit(value)
        try:
            port = parts.port
        except ValueError:
            raise WatchdogConfigError(name, "its URI has a port that is not a number") from None
        return _Conn(
            name,
            unquote(parts.hostname or "") or None,
            port,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            dict(parse_qsl(parts.query)),
        )
    raise WatchdogConfigError(name, "must be an Airflow connection as JSON or an ecall:// URI")


def _str(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def _seconds(
    raw: Mapping[str, object], name: str, default: float | None, low: float = 1
) -> float | None:
    value = raw.get(name)
    if value in (None, ""):
        return default
    try:
        seconds = float(str(value))
    except ValueError:
        seconds = -1.0
    if not low <= seconds <= 7 * 86400:
        raise WatchdogConfigError(name, f"must be a number of seconds from {low:g} to 604800")
    return seconds


def _json(raw: Mapping[str, object], name: str, default: object) -> object:
    value = raw.get(name)
    if value in (None, ""):
        return default
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise WatchdogConfigError(name, f"is not valid JSON ({exc.msg})") from None
    return value


def _airflow_url(value: object) -> str:
    parts = urlsplit(str(value or ""))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WatchdogConfigError(
            "airflow_url", "must be the http(s) URL of Airflow's api-server (2.11: webserver)"
        )
    if parts.username or parts.password:
        raise WatchdogConfigError(
            "airflow_url", "must not carry credentials: set airflow_username/airflow_password"
        )
    return str(value).rstrip("/")


def _deadman(raw: Mapping[str, object]) -> dict[str, timedelta]:
    value = _json(raw, "deadman", {})
    if not isinstance(value, Mapping):
        raise WatchdogConfigError("deadman", 'must be a JSON object {"dag_id": seconds}')
    found: dict[str, timedelta] = {}
    for dag_id, seconds in value.items():
        number = _seconds({"deadman": seconds}, "deadman", None, low=60)
        found[str(dag_id)] = timedelta(seconds=number or 0)
    return found


def raw_settings(environ: Mapping[str, str]) -> dict[str, object]:
    """The settings as given: the JSON file's keys, overridden by the environment."""
    raw: dict[str, object] = {}
    path = environ.get(f"{ENV_PREFIX}CONFIG")
    if path:
        try:
            loaded = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise WatchdogConfigError(
                "config", f"cannot read {path}: {type(exc).__name__}"
            ) from None
        if not isinstance(loaded, dict):
            raise WatchdogConfigError("config", f"{path} must hold one JSON object")
        unknown = sorted(set(loaded) - set(SETTINGS))
        if unknown:
            raise WatchdogConfigError(
                unknown[0], f"is not a setting (known: {', '.join(SETTINGS)})"
            )
        raw.update(loaded)
    for name in SETTINGS:
        if f"{ENV_PREFIX}{name.upper()}" in environ:
            raw[name] = environ[f"{ENV_PREFIX}{name.upper()}"]
    return raw


def load_config(environ: Mapping[str, str] | None = None) -> WatchdogConfig:
    """Read and check every setting.

    :param environ: the environment (default ``os.environ``).
    :raises WatchdogConfigError: the first setting that is missing or wrong.
    """
    raw = raw_settings(os.environ if environ is None else environ)
    url = _airflow_url(raw.get("airflow_url"))
    try:
        ecall = read_settings(_connection(raw.get("ecall_connection")))
        to = tuple(
            check.recipient("to", a, names=True) for a in check.split_list("to", raw.get("to"))
        )
        routes = parse_routes(_json(raw, "routes", []))
    except EcallValidationError as exc:
        setting = (
            "ecall_connection"
            if exc.field.startswith("connection")
            else exc.field.split("[")[0].split(".")[0]
        )
        raise WatchdogConfigError(setting, f"{exc.field} {exc.rule}") from None
    if not ecall.password:
        raise WatchdogConfigError("ecall_connection", "has no password (the eCall Password)")
    if not ecall.username:
        raise WatchdogConfigError("ecall_connection", "has no login (the eCall UserName)")
    deadman = _deadman(raw)
    user, password = _str(raw.get("airflow_username")), _str(raw.get("airflow_password"))
    if (routes or deadman) and not (user and password):
        raise WatchdogConfigError(
            "airflow_username", "and airflow_password are needed to read failures and DAG runs"
        )
    escalate = _seconds(raw, "escalate_after", None, low=60)
    return WatchdogConfig(
        name=str(raw.get("name") or urlsplit(url).hostname),
        airflow_url=url,
        airflow_username=user,
        airflow_password=password,
        ecall=ecall,
        to=to,
        poll_interval=_seconds(raw, "poll_interval", 30.0) or 30.0,
        grace=timedelta(seconds=_seconds(raw, "grace", 120.0, low=0) or 0),
        escalate_after=None if escalate is None else timedelta(seconds=escalate),
        routes=routes,
        sweep_grace=timedelta(seconds=_seconds(raw, "sweep_grace", 300.0, low=0) or 0),
        sweep_lookback=timedelta(seconds=_seconds(raw, "sweep_lookback", 21600.0, low=60) or 60),
        deadman=deadman,
    )
