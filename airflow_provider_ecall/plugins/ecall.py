"""``EcallCallbackPlugin``: an Airflow 3 api-server plugin that receives eCall's callbacks.

Give eCall ``https://<airflow>/ecall/callbacks/<token>/reply`` as the SMS's ``Answer`` and
``…/<token>/delivery`` as its ``NotificationAddress``. Each accepted callback becomes one
asset event (``extra = {"from_callback": True, "payload": …}``) on the asset named by
``[ecall] callback_reply_asset`` (default ``ecall_callback_replies``) or
``[ecall] callback_delivery_asset`` (default ``ecall_delivery_reports``); DAGs scheduled on
those assets run as usual. Nothing is mounted until ``[ecall] callback_tokens`` holds a
token (32+ characters; several, space-separated, during a rotation).

A callback also resumes the deferred tasks it is news for. A delivery notification naming
a JobID resumes every task waiting for that job (``EcallDeliverySensor``, or a send
operator's ``wait_for_delivery``, deferrable): the task asks ``Api/State`` once and
finishes, or waits on — the callback is where the news usually arrives first, and the
status query stays the judge. A reply resumes every ``EcallReplySensor`` it matches, as
its trigger's own match would: replies sent to an ``Answer`` URL never reach the cache.

Answers: 404 for an unknown token or kind (compared in constant time), 414 over the size
cap, 400 for a malformed query, 200 once taken — recorded, or handed to a waiting task;
also for a repeat, which is not taken again — and 503 when nothing took it (no such asset
and no waiting task) or the database write fails (so a sender that retries can). The token
is never logged; api-server access-log lines for these paths show ``***`` instead, and no
query.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_ecall._compat import (
    AirflowPlugin,
    airflow_at_least,
    conf,
    mask_secret,
    record_asset_event,
    require_airflow,
    resume_deferred,
)
from airflow_provider_ecall.client.privacy import mask_address
from airflow_provider_ecall.plugins._callbacks import (
    MAX_QUERY_BYTES,
    CallbackRefused,
    RecentKeys,
    parse_callback,
    read_tokens,
    token_matches,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)

if not airflow_at_least("3.0") and conf.get("ecall", "callback_tokens", fallback=""):
    # Configured, but this Airflow has no api-server to mount it on: say so at plugin load.
    require_airflow("the eCall callback receiver (api-server plugins)", "3.0")

URL_PREFIX: Final = "/ecall"
_KINDS: Final = ("reply", "delivery")
Recorder = Callable[[str, dict[str, Any]], bool]
Waker = Callable[[dict[str, Any]], int]


@dataclass(frozen=True)
class ReceiverSettings:
    """What the receiver needs from ``[ecall]`` in Airflow's configuration.

    :param tokens: the accepted URL tokens.
    :param reply_asset: the asset replies are recorded on.
    :param delivery_asset: the asset delivery notifications are recorded on.
    """

    tokens: tuple[str, ...]
    reply_asset: str = "ecall_callback_replies"
    delivery_asset: str = "ecall_delivery_reports"

    @classmethod
    def from_airflow(cls) -> ReceiverSettings:
        """Read ``callback_tokens``, ``callback_reply_asset`` and ``callback_delivery_asset``."""
        tokens = read_tokens(conf.get("ecall", "callback_tokens", fallback="") or "")
        return cls(
            tokens,
            conf.get("ecall", "callback_reply_asset", fallback=cls.reply_asset),
            conf.get("ecall", "callback_delivery_asset", fallback=cls.delivery_asset),
        )


def _escaped_query(raw: bytes) -> str:
    """The raw query with every byte outside printable ASCII percent-escaped, so that bytes
    a sender did not escape are read as Windows-1252 too."""
    return "".join(chr(b) if 0x20 < b < 0x7F else f"%{b:02X}" for b in raw)


def hide_tokens(path: str) -> str:
    """A request path as logs may show it: no token, no query (it holds phone numbers)."""
    head, marker, rest = path.partition(f"{URL_PREFIX}/callbacks/")
    if not marker:
        return path
    kind = rest.split("?", 1)[0].split("/")[1:2]
    return f"{head}{marker}***/{kind[0] if kind else ''}"


class _HideTokens(logging.Filter):
    """Rewrites uvicorn access-log lines for the callback paths (args: client, method,
    path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], hide_tokens(args[2]), *args[3:])
        return True


def wake_waits(payload: dict[str, Any]) -> int:
    """Resume the deferred tasks a callback is news for; how many there were.

    A delivery notification goes to the delivery waits of its JobID (each asks ``Api/State``
    once, see :func:`~airflow_provider_ecall._delivery_wait.resume`); a reply goes to the
    reply waits it matches, as their own trigger's match would have.
    """
    if payload.get("kind") == "reply":
        from airflow_provider_ecall.triggers._inbound import REPLY_CLASSPATH, reply_callback_event

        return resume_deferred(
            REPLY_CLASSPATH, lambda kwargs: reply_callback_event(kwargs, payload)
        )
    from airflow_provider_ecall.triggers._delivery import CLASSPATH, callback_event

    job_id = payload.get("job_id")
    if not job_id:
        return 0
    return resume_deferred(CLASSPATH, lambda kwargs: callback_event(kwargs, str(job_id)))


def _woken(wake: Waker, kind: str, key: str, payload: dict[str, Any]) -> int:
    """Hand a callback to the waiting tasks; a failure is logged, not raised: a delivery
    wait keeps polling, a reply is still recorded for DAGs."""
    try:
        return wake(payload)
    except Exception:
        log.exception("eCall %s callback %s: waiting tasks not resumed", kind, key)
        return 0


class HiddenFromAccessLogs:
    """The receiver as mounted: an ASGI wrapper that shows access logs the hidden path.

    Airflow 3.3 logs requests with its own middleware, which reads the path and query from
    the ASGI scope after the answer; uvicorn's access log (Airflow 3.0-3.2) reads them from
    the same scope. So the scope Airflow passes in gets the hidden path (:func:`hide_tokens`)
    and no query, while the receiver is called with a copy that holds them as sent.

    :param app: the receiver (:func:`build_app`).
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Serve one ASGI connection."""
        path = scope.get("path")
        if scope.get("type") != "http" or not isinstance(path, str):
            await self.app(scope, receive, send)
            return
        as_sent = dict(scope)
        shown = hide_tokens(path)
        if shown != path:
            scope["path"], scope["raw_path"], scope["query_string"] = shown, shown.encode(), b""
        await self.app(as_sent, receive, send)


def build_app(settings: ReceiverSettings, record: Recorder, wake: Waker) -> FastAPI:
    """The receiver as a FastAPI app (mounted under :data:`URL_PREFIX` by Airflow).

    :param settings: tokens and asset names.
    :param record: writes one asset event; False when the asset does not exist.
    :param wake: resumes the tasks waiting for what a callback reports; how many.
    """
    from fastapi import FastAPI, Request
    from fastapi.responses import PlainTextResponse

    for token in settings.tokens:
        mask_secret(token)
    logging.getLogger("uvicorn.access").addFilter(_HideTokens())
    app = FastAPI(title="eCall callbacks", docs_url=None, redoc_url=None, openapi_url=None)
    seen = RecentKeys()

    def take(kind: str, payload: dict[str, Any]) -> PlainTextResponse:
        key = str(payload["message_id"])
        asset = settings.reply_asset if kind == "reply" else settings.delivery_asset
        try:
            recorded = record(asset, {"from_callback": True, "payload": payload})
        except Exception:
            log.exception("eCall %s callback %s: the asset event could not be written", kind, key)
            return PlainTextResponse("Not recorded", status_code=503)
        woken = _woken(wake, kind, key, payload)
        if not recorded and not woken:
            log.error(
                "eCall %s callback %s: no DAG declares asset %r, no task waits", kind, key, asset
            )
            return PlainTextResponse("Not recorded", status_code=503)
        seen.add(key)
        who = mask_address(str(payload.get("address_from") or payload.get("number") or ""))
        where = f"recorded on {asset!r}" if recorded else "not recorded (no such asset)"
        log.info(
            "eCall %s callback %s from %s %s; %d waiting task(s) resumed",
            kind,
            key,
            who,
            where,
            woken,
        )
        return PlainTextResponse("OK")

    def receive(token: str, kind: str, request: Request) -> PlainTextResponse:
        known = token_matches(token, settings.tokens)
        if not known or kind not in _KINDS:
            return PlainTextResponse("Not Found", status_code=404)
        raw = request.scope.get("query_string", b"")
        try:
            if len(raw) > MAX_QUERY_BYTES:
                raise CallbackRefused(414, f"the query is longer than {MAX_QUERY_BYTES} bytes")
            payload = parse_callback(kind, _escaped_query(raw))  # type: ignore[arg-type]
        except CallbackRefused as exc:
            log.info("eCall %s callback refused (%d): %s", kind, exc.status, exc.reason)
            return PlainTextResponse(exc.reason, status_code=exc.status)
        if str(payload["message_id"]) in seen:
            return PlainTextResponse("OK (repeat)")
        return take(kind, payload)

    # The annotations as objects: under postponed evaluation FastAPI would look the names
    # up in the module, where FastAPI is deliberately not imported.
    receive.__annotations__ = {
        "token": str,
        "kind": str,
        "request": Request,
        "return": PlainTextResponse,
    }
    app.get("/callbacks/{token}/{kind}")(receive)
    return app


@functools.cache
def fastapi_apps() -> list[dict[str, Any]]:
    """The plugin's apps: the receiver when tokens are configured, else none."""
    settings = ReceiverSettings.from_airflow()
    if not settings.tokens:
        return []
    return [
        {
            "app": HiddenFromAccessLogs(build_app(settings, record_asset_event, wake_waits)),
            "url_prefix": URL_PREFIX,
            "name": "eCall callbacks",
        }
    ]


class _Apps:
    """``fastapi_apps`` built on first read: only the api-server reads it, so other Airflow
    components loading plugins do not import FastAPI or read the settings."""

    def __get__(self, instance: object, owner: type) -> list[dict[str, Any]]:
        return fastapi_apps()


class EcallCallbackPlugin(AirflowPlugin):
    """Registers the eCall callback receiver with Airflow 3's api-server (entry point
    ``airflow.plugins``)."""

    name = "ecall_callbacks"
    fastapi_apps = _Apps()
