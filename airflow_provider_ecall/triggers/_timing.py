"""Waiting with a time limit, without losing a cancellation.

Before Python 3.12, :func:`asyncio.wait_for` turns a cancellation that arrives as the awaited
thing finishes into that thing's result (CPython issue gh-86296): a trigger the triggerer
cancels in that instant goes on waiting until its deadline, holding its poller or its reply
subscription. The triggers wait through :func:`within` instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["within"]

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float | None) -> T:
    """Await ``awaitable`` for at most ``seconds`` (``None``: no limit).

    :raises asyncio.TimeoutError: when time is up (the awaitable is cancelled).
    :raises asyncio.CancelledError: when the caller is cancelled, even in the instant the
        awaitable finishes (the awaitable is cancelled too).
    """
    if seconds is None:
        return await awaitable
    inner = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({inner}, timeout=seconds)
    except asyncio.CancelledError:
        inner.cancel()
        raise
    if not done:
        inner.cancel()
        raise asyncio.TimeoutError
    return inner.result()
