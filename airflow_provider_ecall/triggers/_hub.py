"""One consumer of eCall's inbound cache per account and process: the :class:`InboundHub`.

The cache is one destructive queue per account: ``GetNextMessage`` shows its oldest message
and only ``DeleteMessage`` reveals the next. Every trigger of one connection in one process
(the asset watcher and any waiting tasks) subscribes to the same hub, which drains the
cache on their behalf:

1. get the oldest message; hand it to every subscriber;
2. wait until each one has dealt with it (the watcher: its event is out; a waiting task:
   matched it or not);
3. delete it only if somebody took it; otherwise leave it for another consumer and stop
   (the head blocks the queue; a warning says why);
4. repeat until the cache is empty, then sleep ``poll_interval``.

At-least-once: a crash between 1 and 3 leaves the message in the cache, to be handed out
again; the ``MessageID`` lets consumers drop a repeat. A message deleted by someone else
(another process, another tool) is detected and logged, never skipped silently.
Plain asyncio and the client: no Airflow here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final

from airflow_provider_ecall.client.errors import EcallError, EcallRequestError
from airflow_provider_ecall.triggers._timing import within
from airflow_provider_ecall.triggers.replies import InboundReply

if TYPE_CHECKING:
    from airflow_provider_ecall.client.client import EcallClient

log = logging.getLogger(__name__)

#: ``DeleteMessage`` for an id the cache no longer holds (someone else deleted it).
_ID_GONE: Final = frozenset({11501, 11502})
#: How long a subscriber may take to deal with one message before it counts as "not taken".
HANDOFF_TIMEOUT: Final = 60.0
#: Replies kept for waiting tasks that subscribe after a reply was drained.
RECENT_LIMIT: Final = 256
RECENT_AGE: Final = timedelta(hours=6)
_SEEN_LIMIT: Final = 4096


@dataclass(frozen=True)
class HubKey:
    """What makes two triggers share a hub: the connection and the leased number.

    :param conn_id: the Airflow connection id.
    :param mobile_number: ``MobileNumber`` of ``GetNextMessage``, None for the whole account.
    """

    conn_id: str
    mobile_number: str | None = None


@dataclass(eq=False)
class Handoff:
    """One message handed to one subscriber; it says :meth:`done` when finished with it."""

    reply: InboundReply
    replayed: bool = False
    _taken: asyncio.Future[bool] | None = None

    def done(self, taken: bool) -> None:
        """Report the outcome: ``taken`` when the subscriber used the message.

        :param taken: the watcher's event is out, or a waiting task matched it.
        """
        if self._taken is not None and not self._taken.done():
            self._taken.set_result(taken)


@dataclass(eq=False)
class Subscription:
    """A trigger's place at the hub.

    :param takes_all: the subscriber takes every message (the asset watcher).
    :param replay_since: hand over recently drained replies received since this moment.
    """

    takes_all: bool
    replay_since: datetime | None = None
    queue: asyncio.Queue[Handoff] = field(default_factory=asyncio.Queue)
    pending: set[Handoff] = field(default_factory=set)

    async def next(self) -> Handoff:
        """The next message for this subscriber (waits for the hub)."""
        return await self.queue.get()


ClientFactory = Callable[[], "EcallClient"]


class InboundHub:
    """The one drain of an account's inbound cache in this process and event loop.

    :param key: the connection and leased number.
    :param client_factory: builds the client (called once, on the first poll).
    :param poll_interval: seconds between polls of an empty cache.
    """

    def __init__(self, key: HubKey, client_factory: ClientFactory, poll_interval: float) -> None:
        self.key = key
        self.poll_interval = poll_interval
        self._client_factory = client_factory
        self._client: EcallClient | None = None
        self._subscribers: list[Subscription] = []
        self._task: asyncio.Task[None] | None = None
        self._recent: deque[InboundReply] = deque(maxlen=RECENT_LIMIT)
        self._deleted: OrderedDict[str, None] = OrderedDict()
        self._left_head: str | None = None
        self._declined: set[Subscription] = set()
        self._wake = asyncio.Event()

    # -- subscribers ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def subscribe(
        self, *, takes_all: bool, replay_since: datetime | None = None
    ) -> AsyncIterator[Subscription]:
        """Join the hub for the duration of a ``with`` block (starts the drain if needed).

        :param takes_all: the subscriber takes every message (an asset watcher).
        :param replay_since: first hand over the recently drained replies received since
            this moment (a waiting task whose reply may have come before it subscribed).
        """
        subscription = Subscription(takes_all, replay_since)
        if replay_since is not None:
            for reply in self._recent:
                if reply.timestamp is not None and reply.timestamp >= replay_since:
                    subscription.queue.put_nowait(Handoff(reply, replayed=True))
        self._subscribers.append(subscription)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        try:
            yield subscription
        finally:
            self._subscribers.remove(subscription)
            self._declined.discard(subscription)
            for handoff in list(subscription.pending):
                handoff.done(False)
            # The drain stops by itself once nobody listens, after finishing what is in
            # hand: a message a leaving waiter took is still deleted.
            self._wake.set()

    # -- the drain -----------------------------------------------------------------------------

    async def _run(self) -> None:
        delay = self.poll_interval
        while self._subscribers:
            self._wake.clear()
            try:
                await self.drain()
                delay = self.poll_interval
            except EcallError as exc:
                delay = min(max(delay * 2, self.poll_interval), 300.0)
                log.warning(
                    "eCall inbound cache (%s): %s; next try in %.0f s", self.key.conn_id, exc, delay
                )
            except Exception:
                # Not eCall's answer (a connection that cannot be read, a bug): keep the
                # subscribers waiting rather than silently stopping the drain.
                delay = min(max(delay * 2, self.poll_interval), 300.0)
                log.exception("eCall inbound cache (%s): the drain failed", self.key.conn_id)
            with contextlib.suppress(asyncio.TimeoutError):
                await within(self._wake.wait(), delay)

    async def _get_client(self) -> EcallClient:
        if self._client is None:
            # In a worker thread: reading the connection is a synchronous SDK call, which the
            # triggerer serves from another thread but refuses on the event loop's thread in
            # a task without a greenback portal (this hub's task has none).
            self._client = await asyncio.to_thread(self._client_factory)
        return self._client

    async def drain(self) -> int:
        """Drain the cache once: until it is empty or its oldest message is left in place.

        :return: how many messages were taken and deleted.
        :raises EcallError: a cache call failed (the message stays; the next poll retries).
        """
        client = await self._get_client()
        count = 0
        while self._subscribers:
            found = await asyncio.to_thread(
                client.get_next_inbound, mobile_number=self.key.mobile_number
            )
            if found is None:
                self._left_head = None
                return count
            reply = InboundReply.from_cache(found)
            self._notice_foreign_consumer(reply)
            targets: list[Subscription] = []
            if reply.message_id in self._deleted:
                taken = True  # handed out before; only its delete failed
            else:
                targets = self._targets(reply)
                if not targets:
                    return count  # left in place; every subscriber here declined it already
                taken = await self._hand_out(reply, targets)
            if not taken:
                self._leave(reply, targets)
                return count
            self._left_head = None
            self._declined.clear()
            await self._delete(client, reply)
            count += 1
        return count

    def _targets(self, reply: InboundReply) -> list[Subscription]:
        """Who gets a message: everyone, or for the head left in place, only newcomers."""
        if reply.message_id != self._left_head:
            self._declined.clear()
            return list(self._subscribers)
        return [s for s in self._subscribers if s not in self._declined]

    async def _hand_out(self, reply: InboundReply, targets: list[Subscription]) -> bool:
        loop = asyncio.get_running_loop()
        handoffs: list[Handoff] = []
        for subscription in targets:
            handoff = Handoff(reply, _taken=loop.create_future())
            subscription.pending.add(handoff)
            subscription.queue.put_nowait(handoff)
            handoffs.append(handoff)
        futures = [h._taken for h in handoffs if h._taken is not None]
        done, _ = (
            await asyncio.wait(futures, timeout=HANDOFF_TIMEOUT) if futures else (set(), set())
        )
        for subscription in self._subscribers:
            subscription.pending.difference_update(handoffs)
        return any(f.result() for f in done if not f.cancelled())

    async def _delete(self, client: EcallClient, reply: InboundReply) -> None:
        self._remember(reply)
        try:
            await asyncio.to_thread(client.delete_inbound, reply.message_id)
        except EcallRequestError as exc:
            if exc.result_code not in _ID_GONE:
                raise
            log.warning(
                "eCall inbound cache (%s): %s was deleted by another consumer before us; "
                "another process or tool drains this account's cache and may take replies "
                "meant for Airflow",
                self.key.conn_id,
                reply.describe(),
            )

    def _remember(self, reply: InboundReply) -> None:
        self._deleted[reply.message_id] = None
        while len(self._deleted) > _SEEN_LIMIT:
            self._deleted.popitem(last=False)
        self._recent.append(reply)
        horizon = datetime.now(timezone.utc) - RECENT_AGE
        while self._recent and (self._recent[0].timestamp or horizon) < horizon:
            self._recent.popleft()

    def _leave(self, reply: InboundReply, declined: list[Subscription]) -> None:
        if self._left_head != reply.message_id:
            log.warning(
                "eCall inbound cache (%s): %s is wanted by no subscriber here; left in the cache "
                "for another consumer. Replies behind it stay unseen until it is taken: run an "
                "asset watcher with EcallInboundSmsTrigger on this connection to drain every "
                "message.",
                self.key.conn_id,
                reply.describe(),
            )
        self._left_head = reply.message_id
        self._declined.update(declined)

    def _notice_foreign_consumer(self, reply: InboundReply) -> None:
        left = self._left_head
        if left is not None and left != reply.message_id and left not in self._deleted:
            log.warning(
                "eCall inbound cache (%s): message %s left in the cache is gone, deleted by "
                "another consumer of this account",
                self.key.conn_id,
                left,
            )
            self._left_head = None


_HUBS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[HubKey, InboundHub]] = (
    weakref.WeakKeyDictionary()
)


def hub_for(key: HubKey, client_factory: ClientFactory, poll_interval: float) -> InboundHub:
    """The hub of a connection in the running event loop, created on first use.

    The first subscriber's ``poll_interval`` sets the hub's; later ones share it.

    :param key: the connection and leased number.
    :param client_factory: builds the client on the first poll.
    :param poll_interval: seconds between polls of an empty cache.
    """
    hubs = _HUBS.setdefault(asyncio.get_running_loop(), {})
    hub = hubs.get(key)
    if hub is None:
        hub = hubs[key] = InboundHub(key, client_factory, poll_interval)
    return hub
