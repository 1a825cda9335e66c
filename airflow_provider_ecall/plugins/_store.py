"""The callback receiver's database work: remember a callback, record it, resume its waits —
in one transaction of Airflow's metadata database (api-server, Airflow 3.0+).

**De-duplication.** A callback's key (its normalized fields, see
:func:`~airflow_provider_ecall.plugins._callbacks.callback_key`) goes into the table
``ecall_callbacks_seen`` (primary key ``key``, an ``expires`` time) in the same transaction
as its asset event and the resumed tasks. A repeat — after a restart, on another api-server
replica, or at the same moment — fails on the primary key and changes nothing; a failed
write rolls the key back with it, so eCall's retry is taken. Expired keys are deleted by the
next callback.

The table is the provider's own, kept out of Airflow's schema on purpose: it is created on
the first callback (``CREATE TABLE`` if it does not exist, on SQLite and PostgreSQL alike),
holds no foreign key, and is not in Airflow's SQLAlchemy metadata, so ``airflow db migrate``
and its Alembic history never see it and ``airflow db reset`` leaves it (and its expiring
keys) alone. Airflow's own tables offer no unique key we could borrow without showing up in
the UI (variables, pools) or meaning something else (revoked tokens).

**Resuming.** Each trigger row's kwargs are decrypted once per api-server process and kept
by trigger id and by JobID (:class:`TriggerIndex`): a callback reads only the rows created
since the last one, then checks that the rows of its JobID still have a deferred task — its
cost does not grow with the number of waits. A row that does not decode (e.g. left by an
older provider version) is logged once and skipped; the others still resume.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final, TypeVar

from airflow_provider_ecall.utils import compat as _compat

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

TABLE_NAME: Final = "ecall_callbacks_seen"
EventFor = Callable[[Mapping[str, Any]], "dict[str, Any] | None"]
_BATCH: Final = 500
#: How far back, before the last look, new trigger rows are looked for: a row may commit
#: after one with a higher id, and SQLite may give a new row the id of a deleted one.
_MARGIN: Final = timedelta(seconds=60)
_PRUNE_SECONDS: Final = 600.0
_T = TypeVar("_T")


class CallbackRepeat(Exception):
    """The callback was taken before (its key is still remembered)."""


class NotTaken(Exception):
    """Nothing took the callback: no such asset and no waiting task."""


@dataclass(frozen=True)
class Taken:
    """What became of a callback.

    :param recorded: an asset event was written.
    :param woken: how many waiting tasks were resumed.
    """

    recorded: bool
    woken: int


def _seen_table() -> Table:
    from sqlalchemy import BigInteger, Column, Index, MetaData, String, Table

    table = Table(
        TABLE_NAME,
        MetaData(),
        Column("key", String(64), primary_key=True),
        Column("expires", BigInteger, nullable=False),
    )
    Index(f"idx_{TABLE_NAME}_expires", table.c.expires)
    return table


class TriggerIndex:
    """The decoded kwargs of one trigger class's rows, by trigger id and by a lookup key
    (a JobID), kept across callbacks so that a callback reads only what is new.

    Each lookup asks the database for rows created since the last one (``id`` above the
    highest seen, or created up to :data:`_MARGIN` before the last look: rows commit out of
    id order, and SQLite may give a new row the id of a deleted one) and decodes new ones
    once; then it checks which of the
    key's rows still have a deferred task. The whole class is re-listed (ids only) every
    :data:`_PRUNE_SECONDS`, to forget rows the triggerer has deleted.

    :param classpath: the trigger class path.
    :param keys_of: the lookup keys of a row's kwargs (None: every row is a candidate).
    """

    def __init__(
        self, classpath: str, keys_of: Callable[[Mapping[str, Any]], Iterable[str]] | None
    ) -> None:
        self.classpath = classpath
        self.keys_of = keys_of
        self._rows: dict[int, tuple[datetime, Mapping[str, Any] | None]] = {}
        self._by_key: dict[str, set[int]] = {}
        self._high = 0
        self._looked: datetime | None = None
        self._pruned = 0.0
        self._lock = threading.Lock()

    def waiting(self, session: Session, key: str | None) -> list[tuple[int, Mapping[str, Any]]]:
        """The decodable rows for ``key`` (all rows if None) a deferred task waits on.

        :param session: an open session of the metadata database.
        :param key: the lookup key, e.g. the JobID a delivery callback names.
        """
        with self._lock:
            self._refresh(session)
            ids = set(self._rows) if key is None else set(self._by_key.get(key, ()))
            if not ids:
                return []
            live = self._deferred(session, ids)
            found = []
            for trigger_id in sorted(ids):
                created, kwargs = self._rows[trigger_id]
                if live.get(trigger_id) != created:
                    self._forget(trigger_id)
                elif kwargs is not None:
                    found.append((trigger_id, kwargs))
            return found

    def _refresh(self, session: Session) -> None:
        from sqlalchemy import or_, select

        trigger = _compat.Trigger
        now = datetime.now(timezone.utc)
        query = select(trigger.id, trigger.created_date).where(trigger.classpath == self.classpath)
        if self._looked is not None:
            since = self._looked - _MARGIN
            query = query.where(or_(trigger.id > self._high, trigger.created_date > since))
        new = [
            int(row[0])
            for row in session.execute(query)
            if self._rows.get(int(row[0]), (None,))[0] != row[1]
        ]
        for start in range(0, len(new), _BATCH):
            chunk = new[start : start + _BATCH]
            for row in session.scalars(select(trigger).where(trigger.id.in_(chunk))):
                self._add(row)
        self._looked = now
        if time.monotonic() - self._pruned > _PRUNE_SECONDS:
            self._prune(session)

    def _add(self, row: Any) -> None:
        trigger_id = int(row.id)
        self._forget(trigger_id)
        kwargs = _decoded(row)
        self._rows[trigger_id] = (row.created_date, kwargs)
        self._high = max(self._high, trigger_id)
        if kwargs is not None and self.keys_of is not None:
            for key in self._keys(trigger_id, kwargs):
                self._by_key.setdefault(key, set()).add(trigger_id)

    def _keys(self, trigger_id: int, kwargs: Mapping[str, Any]) -> Iterable[str]:
        assert self.keys_of is not None
        try:
            return tuple(self.keys_of(kwargs))
        except Exception as exc:
            _skipped(trigger_id, self.classpath, exc)
            return ()

    def _forget(self, trigger_id: int) -> None:
        known = self._rows.pop(trigger_id, None)
        if known is None or known[1] is None or self.keys_of is None:
            return
        for key in self._keys(trigger_id, known[1]):
            self._by_key.get(key, set()).discard(trigger_id)

    def _deferred(self, session: Session, ids: set[int]) -> dict[int, datetime]:
        """Of ``ids``, the rows a deferred task still waits on, with their creation times."""
        from sqlalchemy import select

        trigger, ti = _compat.Trigger, _compat.TaskInstance
        live: dict[int, datetime] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), _BATCH):
            rows = session.execute(
                select(trigger.id, trigger.created_date)
                .join(ti, ti.trigger_id == trigger.id)
                .where(trigger.id.in_(ordered[start : start + _BATCH]))
                .where(ti.state == _compat.TaskInstanceState.DEFERRED)
            )
            live.update((int(row[0]), row[1]) for row in rows)
        return live

    def _prune(self, session: Session) -> None:
        from sqlalchemy import select

        trigger = _compat.Trigger
        present = set(
            session.scalars(select(trigger.id).where(trigger.classpath == self.classpath))
        )
        for trigger_id in set(self._rows) - present:
            self._forget(trigger_id)
        self._pruned = time.monotonic()


class TriggerKwargs:
    """The receiver's :class:`TriggerIndex` of each trigger class, made on first use."""

    def __init__(self) -> None:
        self._indexes: dict[str, TriggerIndex] = {}
        self._lock = threading.Lock()

    def index(
        self, classpath: str, keys_of: Callable[[Mapping[str, Any]], Iterable[str]] | None
    ) -> TriggerIndex:
        """The index of ``classpath`` (``keys_of`` is used when it is made)."""
        with self._lock:
            return self._indexes.setdefault(classpath, TriggerIndex(classpath, keys_of))


def _skipped(trigger_id: object, classpath: str, exc: Exception) -> None:
    log.warning(
        "eCall callback receiver: trigger %s (%s) does not decode (%s); it is skipped",
        *(trigger_id, classpath, type(exc).__name__),
    )


def _decoded(row: Any) -> Mapping[str, Any] | None:
    try:
        return dict(row.kwargs)
    except Exception as exc:  # a decrypt or deserialize error of any kind: skip this row
        _skipped(row.id, row.classpath, exc)
        return None


def resume_deferred(
    session: Session, index: TriggerIndex, key: str | None, event_for: EventFor
) -> int:
    """Fire an event for the waiting triggers of one class that want it; how many.

    Where ``event_for`` returns a payload for a trigger's kwargs, Airflow's own
    ``Trigger.submit_event`` resumes its task with it, as the triggerer would have (the
    api-server does the same for human-in-the-loop answers); the triggerer then drops the
    trigger. A trigger whose kwargs ``event_for`` cannot read is logged and skipped.

    :param session: the callback's transaction.
    :param index: the class's decoded rows.
    :param key: the lookup key of the rows to show ``event_for`` (None: all of them).
    :param event_for: the payload for a trigger's kwargs, or None to leave it waiting.
    """
    fired = 0
    for trigger_id, kwargs in index.waiting(session, key):
        try:
            payload = event_for(kwargs)
        except Exception as exc:
            _skipped(trigger_id, index.classpath, exc)
            continue
        if payload is not None:
            event = _compat.TriggerEvent(payload)  # type: ignore[no-untyped-call]
            _compat.Trigger.submit_event(trigger_id, event, session=session)
            fired += 1
    return fired


def _record(session: Session, asset_name: str, extra: dict[str, object]) -> bool:
    from sqlalchemy import select

    model = session.scalar(
        select(_compat.AssetModel).where(_compat.AssetModel.name == asset_name).limit(1)
    )
    if model is None:
        return False
    event = _compat.asset_manager.register_asset_change(asset=model, extra=extra, session=session)
    return event is not None


Waker = Callable[["Session", TriggerKwargs, Mapping[str, Any]], int]


class CallbackStore:
    """Takes callbacks into the metadata database, each exactly once.

    :param wake: resumes the waits a callback is news for (in the callback's transaction).
    :param remember_for: seconds a callback's key is kept.
    """

    def __init__(self, wake: Waker, remember_for: int) -> None:
        self.wake = wake
        self.remember_for = remember_for
        self.kwargs = TriggerKwargs()
        self._table = _seen_table()
        self._ready = False

    def _ensure_table(self) -> None:
        if self._ready:
            return
        with _compat.create_session() as session:
            bind = session.get_bind()
        try:
            self._table.create(bind, checkfirst=True)
        except Exception:  # another api-server created it at the same moment
            from sqlalchemy import inspect

            if not inspect(bind).has_table(TABLE_NAME):
                raise
        self._ready = True

    def once(self, key: str, work: Callable[[Session], _T]) -> _T:
        """Run ``work`` in one transaction with the callback's de-duplication row, unless
        the key is remembered: a repeat does nothing, a failure rolls both back.

        :param key: the callback's de-duplication key.
        :param work: what the callback does in the metadata database.
        :raises CallbackRepeat: the key is remembered: nothing was done.
        """
        from sqlalchemy import delete, insert
        from sqlalchemy.exc import IntegrityError

        self._ensure_table()
        now = int(time.time())
        with _compat.create_session() as session:
            session.execute(delete(self._table).where(self._table.c.expires < now))
            try:
                session.execute(
                    insert(self._table).values(key=key, expires=now + self.remember_for)
                )
                session.flush()
            except IntegrityError:
                raise CallbackRepeat(key) from None
            return work(session)

    def take(self, key: str, asset: str, payload: Mapping[str, Any]) -> Taken:
        """Record one callback on ``asset`` and resume its waits, unless taken before.

        :param key: the callback's de-duplication key.
        :param asset: the asset to record it on.
        :param payload: the parsed callback.
        :raises CallbackRepeat: the key is remembered: nothing was done.
        :raises NotTaken: no such asset and no waiting task: nothing was kept.
        """

        def record(session: Session) -> Taken:
            recorded = _record(session, asset, {"from_callback": True, "payload": dict(payload)})
            woken = self.wake(session, self.kwargs, payload)
            if not recorded and not woken:
                raise NotTaken(key)
            return Taken(recorded, woken)

        return self.once(key, record)
