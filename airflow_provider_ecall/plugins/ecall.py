"""``EcallCallbackPlugin``: an Airflow 3 api-server plugin that receives eCall's callbacks.

The provider builds the callback URLs of its sends itself (``answer=CALLBACK`` /
``notification_address=CALLBACK``, see :mod:`airflow_provider_ecall.plugins.signing`): each
is signed for one JobID and kind and expires (``[ecall] callback_signing_keys``). URLs set
by hand use an account-wide token instead, ``https://<airflow>/ecall/callbacks/<token>/reply``
and ``…/<token>/delivery`` (``[ecall] callback_tokens``): good for any job while the token
is configured. Each accepted callback becomes one
asset event (``extra = {"from_callback": True, "payload": …}``) on the asset named by
``[ecall] callback_reply_asset`` (default ``ecall_callback_replies``) or
``[ecall] callback_delivery_asset`` (default ``ecall_delivery_reports``); DAGs scheduled on
those assets run as usual. Nothing is mounted until a key or a token is configured (32+
characters each; several, space-separated, during a rotation); a setting that cannot be
read disables the receiver alone, with an error in the api-server's log.

A callback also resumes the deferred tasks it is news for. A delivery notification naming
a JobID resumes every task waiting for that job (``EcallDeliverySensor``, or a send
operator's ``wait_for_delivery``, deferrable): the task asks ``Api/State`` once and
finishes, or waits on — the callback is where the news usually arrives first, and the
status query stays the judge. A reply resumes every ``EcallReplySensor`` it matches, as
its trigger's own match would: replies sent to an ``Answer`` URL never reach the cache.

Answers: 404 for an unknown token or kind, or a signature no key made (compared in
constant time), 410 for an expired signed URL, 403 for a JobID other than the signed one,
414 over the size cap, 400 for a malformed query (naming the parameter), 200 once taken —
recorded, or handed to a waiting task; also for a repeat (de-duplicated in the metadata
database, see :mod:`~airflow_provider_ecall.plugins._store`), which is not taken again — and
503 when nothing took it (no such asset and no waiting task) or the database write fails
(so a sender that retries can; only the error's type is logged). Tokens and signatures are
never logged; api-server access-log lines for these paths show ``***`` instead, and no
query.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_ecall.client.privacy import mask_address
from airflow_provider_ecall.plugins._callbacks import (
    MAX_QUERY_BYTES,
    CallbackRefused,
    parse_callback,
    read_tokens,
    token_matches,
)
from airflow_provider_ecall.plugins._store import CallbackRepeat, CallbackStore, NotTaken
from airflow_provider_ecall.plugins.approvals import Responder, read_responders, take_reply
from airflow_provider_ecall.plugins.reminders import DEFAULT_INTERVAL, ReminderLoop, ReminderScanner
from airflow_provider_ecall.plugins.signing import (
    CallbackSigner,
    SignatureExpired,
    SignatureRefused,
    SignedCallback,
    read_keys,
)
from airflow_provider_ecall.utils.compat import (
    AirflowPlugin,
    airflow_at_least,
    conf,
    mask_secret,
    require_airflow,
)

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.orm import Session

    from airflow_provider_ecall.plugins._store import TriggerKwargs

log = logging.getLogger(__name__)

if not airflow_at_least("3.0") and (
    conf.get("ecall", "callback_tokens", fallback="")
    or conf.get("ecall", "callback_signing_keys", fallback="")
):
    # Configured, but this Airflow has no api-server to mount it on: say so at plugin load.
    require_airflow("the eCall callback receiver (api-server plugins)", "3.0")

#: Where Airflow's api-server mounts the receiver.
URL_PREFIX: Final = "/ecall"
_KINDS: Final = ("reply", "delivery", "approval")
_HOUR: Final = 3600


@dataclass(frozen=True)
class ReceiverSettings:
    """What the receiver needs from ``[ecall]`` in Airflow's configuration.

    :param tokens: the accepted account-wide URL tokens (hand-configured URLs).
    :param signing_keys: the keys of signed per-job URLs (the first signs).
    :param reply_asset: the asset replies are recorded on.
    :param delivery_asset: the asset delivery notifications are recorded on.
    :param repeat_window: seconds a callback is remembered as taken.
    :param responders: who may answer approvals by SMS, by number (``approval`` replies).
    :param approval_conn_id: the connection approval confirmations go through.
    :param reminder_interval: seconds between scans for approval reminders due.
    """

    tokens: tuple[str, ...] = field(repr=False)
    signing_keys: tuple[str, ...] = field(default=(), repr=False)
    reply_asset: str = "ecall_callback_replies"
    delivery_asset: str = "ecall_delivery_reports"
    repeat_window: int = 168 * _HOUR
    responders: Mapping[str, Responder] = field(default_factory=dict, repr=False)
    approval_conn_id: str = "ecall_default"
    reminder_interval: int = DEFAULT_INTERVAL

    @classmethod
    def from_airflow(cls) -> ReceiverSettings:
        """Read the receiver's ``[ecall]`` settings.

        :raises ValueError: a token or key too short, or a window not a whole number; the
            message names the setting, never a secret.
        """
        tokens = read_tokens(conf.get("ecall", "callback_tokens", fallback="") or "")
        keys = read_keys(conf.get("ecall", "callback_signing_keys", fallback="") or "")
        window = conf.get("ecall", "callback_repeat_window_hours", fallback="168") or "168"
        if not window.isdigit() or not window.isascii() or int(window) < 1:
            raise ValueError("[ecall] callback_repeat_window_hours must be a whole number >= 1")
        every = conf.get("ecall", "hitl_reminder_interval", fallback="") or str(DEFAULT_INTERVAL)
        if not every.isdigit() or not every.isascii() or int(every) < 1:
            raise ValueError("[ecall] hitl_reminder_interval must be a whole number >= 1")
        return cls(
            tokens,
            keys,
            conf.get("ecall", "callback_reply_asset", fallback=cls.reply_asset),
            conf.get("ecall", "callback_delivery_asset", fallback=cls.delivery_asset),
            int(window) * _HOUR,
            read_responders(conf.get("ecall", "approval_responders", fallback="") or ""),
            conf.get("ecall", "approval_conn_id", fallback=cls.approval_conn_id),
            int(every),
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


def wake_waits(session: Session, cache: TriggerKwargs, payload: Mapping[str, Any]) -> int:
    """Resume the deferred tasks a callback is news for, in its transaction; how many.

    A delivery notification goes to the delivery waits of its JobID (each asks ``Api/State``
    once, see :func:`~airflow_provider_ecall.delivery.wait.resume`), found by JobID; a
    reply goes to the reply waits it matches, as their own trigger's match would have.
    """
    from airflow_provider_ecall.plugins._store import resume_deferred

    if payload.get("kind") == "reply":
        from airflow_provider_ecall.triggers.inbound import REPLY_CLASSPATH, reply_callback_event

        replies = cache.index(REPLY_CLASSPATH, None)
        return resume_deferred(
            session, replies, None, lambda kwargs: reply_callback_event(kwargs, payload)
        )
    from airflow_provider_ecall.delivery.terms import TRIGGER_CLASSPATH, callback_event

    job_id = payload.get("job_id")
    if not job_id:
        return 0
    deliveries = cache.index(TRIGGER_CLASSPATH, _job_ids)
    return resume_deferred(
        session, deliveries, str(job_id), lambda kwargs: callback_event(kwargs, str(job_id))
    )


def _job_ids(kwargs: Mapping[str, Any]) -> list[str]:
    """The JobIDs a delivery trigger waits for (its ``job_ids`` kwarg)."""
    return [str(job) for job in kwargs.get("job_ids") or ()]


class HiddenFromAccessLogs:
    """The receiver's ASGI middleware that shows access logs the hidden path.

    Airflow 3.3 logs requests with its own middleware, which reads the path and query from
    the ASGI scope after the answer; uvicorn's access log (Airflow 3.0-3.2) reads them from
    the same scope. So the scope Airflow passes in gets the hidden path (:func:`hide_tokens`)
    and no query, while the receiver is called with a copy that holds them as sent.

    :param app: the receiver's inner ASGI app (Starlette passes it).
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


class _Gate:
    """Who may call back: an account-wide token (any job) or a signed URL (one job, one
    kind, until its expiry)."""

    def __init__(self, settings: ReceiverSettings) -> None:
        self.tokens = settings.tokens
        self.signer = CallbackSigner(settings.signing_keys)

    def job_for(self, token: str, kind: str) -> SignedCallback | None:
        """What a signed URL vouches for; None for an account-wide token.

        :raises SignatureRefused: neither a token nor a valid signature (404).
        :raises CallbackRefused: a valid signature past its expiry (410).
        """
        if token_matches(token, self.tokens):
            return None
        try:
            return self.signer.verify(token, kind, now=time.time())
        except SignatureExpired:
            raise CallbackRefused(410, "this signed callback URL has expired") from None


def _bound(payload: dict[str, Any], signed: SignedCallback | None) -> dict[str, Any]:
    """The payload of a signed URL's callback: about the signed job, or one of its batches.

    :raises CallbackRefused: the query names another JobID (403).
    """
    if signed is None:
        return payload
    named = payload.get("job_id")
    if named is None:
        return {**payload, "job_id": signed.job_id}
    if not signed.covers(str(named)):
        raise CallbackRefused(403, "JobID does not match the signed callback URL")
    return payload


def build_app(settings: ReceiverSettings, store: CallbackStore | None = None) -> FastAPI:
    """The receiver as a FastAPI app (mounted under :data:`URL_PREFIX` by Airflow).

    :param settings: tokens, keys and asset names.
    :param store: where callbacks are taken (default: the metadata database, waking
        :func:`wake_waits`).

    With approvals configured (responders and signing keys, Airflow 3.1+) the app's
    ``lifespan`` runs the approval reminders (``app.state.reminders``, a
    :class:`~airflow_provider_ecall.plugins.reminders.ReminderLoop`); Airflow's api-server
    enters the lifespan of every mounted FastAPI app.
    """
    from fastapi import FastAPI, Request
    from fastapi.responses import PlainTextResponse

    for secret in (*settings.tokens, *settings.signing_keys, *settings.responders):
        mask_secret(secret)
    logging.getLogger("uvicorn.access").addFilter(_HideTokens())
    taker = store or CallbackStore(wake_waits, settings.repeat_window)
    reminders = None
    if settings.responders and settings.signing_keys and airflow_at_least("3.1"):
        scanner = ReminderScanner(settings.signing_keys, taker)
        reminders = ReminderLoop(scanner, settings.reminder_interval)
    app = FastAPI(
        title="eCall callbacks",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=None if reminders is None else reminders.lifespan,
    )
    app.state.reminders = reminders
    gate = _Gate(settings)

    def take(kind: str, payload: dict[str, Any]) -> PlainTextResponse:
        key = str(payload["message_id"])
        asset = settings.reply_asset if kind == "reply" else settings.delivery_asset
        try:
            taken = taker.take(key, asset, payload)
        except CallbackRepeat:
            return PlainTextResponse("OK (repeat)")
        except NotTaken:
            log.error(
                "eCall %s callback %s: no DAG declares asset %r, no task waits", kind, key, asset
            )
            return PlainTextResponse("Not recorded", status_code=503)
        except Exception as exc:  # its text may hold the callback's numbers and message
            log.error("eCall %s callback %s: not taken (%s)", kind, key, type(exc).__name__)
            return PlainTextResponse("Not recorded", status_code=503)
        who = mask_address(str(payload.get("address_from") or payload.get("number") or ""))
        where = f"recorded on {asset!r}" if taken.recorded else "not recorded (no such asset)"
        log.info(
            "eCall %s callback %s from %s %s; %d waiting task(s) resumed",
            *(kind, key, who, where, taken.woken),
        )
        return PlainTextResponse("OK")

    def receive(token: str, kind: str, request: Request) -> PlainTextResponse:
        if kind not in _KINDS:
            return PlainTextResponse("Not Found", status_code=404)
        raw = request.scope.get("query_string", b"")
        try:
            signed = gate.job_for(token, kind)
            if len(raw) > MAX_QUERY_BYTES:
                raise CallbackRefused(414, f"the query is longer than {MAX_QUERY_BYTES} bytes")
            parsed = parse_callback(
                "reply" if kind == "approval" else kind,  # type: ignore[arg-type]
                _escaped_query(raw),
            )
            payload = _bound(parsed, signed)
        except SignatureRefused:
            return PlainTextResponse("Not Found", status_code=404)
        except CallbackRefused as exc:
            log.info("eCall %s callback refused (%d): %s", kind, exc.status, exc.reason)
            return PlainTextResponse(exc.reason, status_code=exc.status)
        if kind == "approval":
            status, body = take_reply(
                taker,
                payload,
                None if signed is None else signed.job_id,
                settings.responders,
                settings.approval_conn_id,
            )
            return PlainTextResponse(body, status_code=status)
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
    try:
        settings = ReceiverSettings.from_airflow()
    except ValueError as exc:
        # Only the receiver is off: the api-server (UI, execution API) keeps running.
        log.error("eCall callback receiver disabled: %s", exc)
        return []
    if not settings.tokens and not settings.signing_keys:
        return []
    app = build_app(settings)
    # As the app's own middleware, so that Airflow mounts a FastAPI app and enters its
    # lifespan (the approval reminders); the scope it rewrites is still Airflow's.
    app.add_middleware(HiddenFromAccessLogs)
    return [
        {
            "app": app,
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
