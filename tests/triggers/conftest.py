"""Helpers for the trigger tests: run triggers as the triggerer does, against a sandbox."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any


class Runner:
    """Drives a trigger's ``run()`` like the triggerer: an ``async for`` that records each
    event and resumes the generator at once."""

    def __init__(self, stream: AsyncIterator[Any]) -> None:
        self.stream = stream
        self.events: list[Any] = []
        self._task: asyncio.Task[None] | None = None

    async def _pump(self) -> None:
        async for event in self.stream:
            self.events.append(event)

    async def __aenter__(self) -> Runner:
        self._task = asyncio.get_running_loop().create_task(self._pump())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._task is not None
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def wait_for(self, count: int, *, timeout: float = 10.0) -> list[Any]:
        """Wait until ``count`` events arrived (or the run ended); return them."""
        await settle(
            lambda: len(self.events) >= count or (self._task and self._task.done()), timeout=timeout
        )
        assert self._task is not None
        if self._task.done() and self._task.exception() is not None:
            raise self._task.exception()  # type: ignore[misc]
        return self.events


async def settle(predicate: Callable[[], object], *, timeout: float = 10.0) -> None:
    """Wait until ``predicate()`` is true, checking every 20 ms."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)
