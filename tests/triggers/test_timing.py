"""A trigger's time-limited wait ends when the trigger is cancelled, whatever the timing."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_ecall.triggers._timing import within


def test_a_cancellation_as_the_wait_finishes_is_not_lost() -> None:
    async def main() -> None:
        finished: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        waiting = asyncio.create_task(within(finished, 30))
        await asyncio.sleep(0)  # the wait is under way
        finished.set_result("a round")  # the awaited thing finishes...
        waiting.cancel()  # ...and the triggerer cancels the trigger in the same instant
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(main())


def test_a_cancelled_wait_cancels_what_it_awaited() -> None:
    async def main() -> None:
        never: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        waiting = asyncio.create_task(within(never, 30))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.sleep(0)
        assert never.cancelled()

    asyncio.run(main())


def test_time_up_raises_timeout_and_cancels_what_it_awaited() -> None:
    async def main() -> None:
        never: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        with pytest.raises(asyncio.TimeoutError):
            await within(never, 0.01)
        assert never.cancelled()

    asyncio.run(main())


def test_an_answer_in_time_is_returned() -> None:
    async def main() -> tuple[str, str]:
        ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(ready.set_result, "a round")
        return await within(ready, 30), await within(asyncio.sleep(0, "no limit"), None)

    assert asyncio.run(main()) == ("a round", "no limit")
