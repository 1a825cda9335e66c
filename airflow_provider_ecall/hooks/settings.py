"""Reading an Airflow Connection into the settings of an ``EcallClient`` (no Airflow import).

Connection fields: ``login`` = UserName, ``password``, ``host`` = base URL (default
``https://url.ecall.ch``; a host without a scheme gets ``https://``), ``port`` (optional),
extras ``timeout``, ``default_callback``, ``batch_size`` and ``fallback_url`` (a second base
URL, used only when the first cannot be reached).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_ecall.client import validation as check
from airflow_provider_ecall.client.defaults import (
    DEFAULT_BASE_URL,
    DEFAULT_BATCH_SIZE,
    DEFAULT_TIMEOUT,
    Timeout,
)
from airflow_provider_ecall.client.errors import EcallValidationError

if TYPE_CHECKING:
    from airflow_provider_ecall.client.client import EcallClient

#: The client's own field names, as the connection form calls them.
CONNECTION_FIELD: Final = {"base_url": "host", "username": "login", "password": "password"}


class ConnectionLike(Protocol):
    """The parts of ``airflow.sdk.Connection`` read here."""

    conn_id: str
    host: str | None
    port: int | None
    login: str | None
    password: str | None

    @property
    def extra_dejson(self) -> dict[str, object]: ...


@dataclass(frozen=True)
class ConnectionSettings:
    """What an ``ecall`` connection says, checked.

    :param conn_id: the connection id (for error messages).
    :param base_url: the service root.
    :param username: vendor ``UserName``.
    :param password: vendor ``Password`` (left out of ``repr``).
    :param timeout: seconds, or ``(connect, read)`` seconds.
    :param default_callback: the SMS sender id used when a send names none.
    :param batch_size: recipients per request.
    :param fallback_url: a second base URL, tried only when no connection to the first
        could be made (refused, DNS, connect timeout).
    """

    conn_id: str
    base_url: str
    username: str
    password: str = field(repr=False)
    timeout: Timeout = DEFAULT_TIMEOUT
    default_callback: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    fallback_url: str | None = None


def _extra(extras: Mapping[str, object], name: str) -> object:
    """An extra by its plain name, or the old ``extra__ecall__name`` form; "" counts as unset."""
    for key in (name, f"extra__ecall__{name}"):
        value = extras.get(key)
        if value not in (None, ""):
            return value
    return None


def base_url(host: str | None, port: int | None) -> str:
    """The base URL from a connection's host and port.

    :param host: ``https://url.ecall.ch``, ``url.ecall.ch``, ``http://127.0.0.1:8080`` or None.
    :param port: a port to add when the host names none.
    """
    value = (host or "").strip() or DEFAULT_BASE_URL
    if "://" not in value:
        value = f"https://{value}"
    parts = urlsplit(value)
    if port and parts.hostname and parts.port is None:
        netloc = f"{parts.netloc}:{port}"
        value = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return value


def _timeout(value: object) -> Timeout:
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(str(value))
    except ValueError:
        seconds = 0.0
    if not 1 <= seconds <= 600:
        raise EcallValidationError("timeout", "must be a number of seconds from 1 to 600")
    return (min(DEFAULT_TIMEOUT[0], seconds), seconds)


def read_settings(conn: ConnectionLike) -> ConnectionSettings:
    """Check a connection and turn it into :class:`ConnectionSettings`.

    :raises EcallValidationError: a field is missing or malformed; the field is named as the
        connection form names it, with the connection id.
    """
    extras = conn.extra_dejson
    try:
        callback = _extra(extras, "default_callback")
        batch = _extra(extras, "batch_size")
        fallback = _extra(extras, "fallback_url")
        return ConnectionSettings(
            conn_id=conn.conn_id,
            base_url=base_url(conn.host, conn.port),
            username=conn.login or "",
            password=conn.password or "",
            timeout=_timeout(_extra(extras, "timeout")),
            default_callback=None
            if callback is None
            else check.sender("default_callback", callback),
            batch_size=(
                DEFAULT_BATCH_SIZE
                if batch is None
                else check.integer("batch_size", batch, low=1, high=100_000)
            ),
            fallback_url=None if fallback is None else base_url(str(fallback), None),
        )
    except EcallValidationError as exc:
        raise connection_error(conn.conn_id, exc) from exc


def client_for(settings: ConnectionSettings) -> EcallClient:
    """The :class:`~airflow_provider_ecall.client.client.EcallClient` of checked settings.

    :raises EcallValidationError: the client refuses them (a plain ``http://`` host that is
        not loopback).
    """
    from airflow_provider_ecall.client.client import EcallClient

    return EcallClient(
        settings.base_url,
        settings.username,
        settings.password,
        timeout=settings.timeout,
        batch_size=settings.batch_size,
        fallback_url=settings.fallback_url,
    )


def connection_error(conn_id: str, exc: EcallValidationError) -> EcallValidationError:
    """Rename a client error to the connection form's words: ``host`` for ``base_url``, …"""
    name = CONNECTION_FIELD.get(exc.field, exc.field)
    where = name if name in CONNECTION_FIELD.values() else f"extra {name}"
    return EcallValidationError(f"connection {conn_id!r} {where}", exc.rule)
