"""What the delivery-wait benchmark records to say when eCall refused a query (11701).

Two halves, one per process:

- in the waiting process (``delivery_waiter.py``): when each wait joined its poller, and for
  each round of a shared poller when it was planned, how many waits it served, and each
  window query it made — the planner's estimate of the window's objects (planned windows;
  ``None`` for the fallback's split parts) and whether eCall refused it;
- in the benchmark process, beside the sandbox: each ``Api/State`` window query as eCall
  answered it — when, and which jobs the window held (the jobs are sent in order, so a
  window holds a run of consecutive ones).

**Steady state** begins at ``S``, the later of the last send and the last wait joining its
poller: from then on no job is sent and every job is waited for by a wait the poller knows.
A round is *steady* when its poller planned it (called its fetch) at or after ``S``; every
query of a round, the fallback's split parts included, belongs to it. Queries of rounds
planned before ``S`` are the *ramp*. One poller per wait has no shared rounds: its queries
are judged by when eCall answered them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TOO_MANY = 11701


# -- the waiting process ----------------------------------------------------------------------


@dataclass
class WaiterTrace:
    """The waiting process's record: joins, rounds and their window queries."""

    joins: int = 0
    last_join: float = 0.0
    rounds: list[dict[str, Any]] = field(default_factory=list)

    def joined(self) -> None:
        """A wait joined its poller (now)."""
        self.joins += 1
        self.last_join = time.time()

    def to_json(self) -> dict[str, Any]:
        """What the waiter prints for the benchmark."""
        return {"joins": self.joins, "last_join_epoch": self.last_join, "rounds": self.rounds}


def record_joins(trace: WaiterTrace) -> None:
    """Have every :class:`DeliveryPoller` of this process note each wait that joins it."""
    from airflow_provider_ecall.triggers import _poller

    join = _poller.DeliveryPoller.join

    def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
        trace.joined()
        return join(self, *args, **kwargs)

    _poller.DeliveryPoller.join = traced  # type: ignore[method-assign]


class _TracedClient:
    """A client that notes each window query of the round and whether eCall refused it."""

    def __init__(self, client: Any, queries: list[dict[str, Any]], estimates: Mapping[Any, float]):
        self._client = client
        self._queries = queries
        self._estimates = estimates

    def get_status(self, **query: Any) -> Any:
        from airflow_provider_ecall.client.errors import EcallRequestError
        from airflow_provider_ecall.client.planner import Window

        start, end = query.get("start_date"), query.get("end_date")
        if start is None:
            return self._client.get_status(**query)
        estimate = self._estimates.get(Window(start, end))
        entry: dict[str, Any] = {"start": start.timestamp(), "end": end.timestamp(),
                                 "estimate": estimate, "refused": False}  # fmt: skip
        self._queries.append(entry)
        try:
            records = self._client.get_status(**query)
        except EcallRequestError as exc:
            entry["refused"] = exc.result_code == TOO_MANY
            raise
        entry["objects"] = len(records)
        return records


def _known(wants: Sequence[Any]) -> int:
    """How many of the benchmark's jobs (``bench-00000``, … joining in order) the poller knew
    when it planned: one past the highest index among its wants (those that left before
    were known too)."""
    return 1 + max((int(w.job_id.rsplit("-", 1)[1]) for w in wants), default=-1)


def traced_planner_fetch(client_factory: Callable[[], Any], trace: WaiterTrace) -> Any:
    """The provider's fetch (:func:`client_fetch`: one client, one planner), with a planner
    that keeps the estimate of each window it tiles and a client that notes each query."""
    from airflow_provider_ecall.client.planner import Answer, QueryPlanner, Want

    class TracedPlanner(QueryPlanner):
        estimates: dict[Any, float] = {}  # replaced each round

        def _tile(self, *args: Any, **kwargs: Any) -> list[Any]:
            tiles = super()._tile(*args, **kwargs)
            self.estimates.update(tiles)
            return tiles

    planner = TracedPlanner()
    made: list[Any] = []

    def fetch(wants: Sequence[Want], now: datetime) -> Answer:
        if not made:
            made.append(client_factory())
        planner.estimates = {}
        queries: list[dict[str, Any]] = []
        record = {"epoch": time.time(), "joined": _known(wants), "wants": len(wants),
                  "queries": queries}  # fmt: skip
        trace.rounds.append(record)
        answer = planner.run(_TracedClient(made[0], queries, planner.estimates), wants, now)  # type: ignore[arg-type]
        record.update(windows=answer.windows, by_job=answer.by_job, refused=answer.refused)
        return answer

    return fetch


def traced_rounds(fetch: Callable[..., Any], trace: WaiterTrace) -> Callable[..., Any]:
    """Note when each round of ``fetch`` was planned (the halving side's rounds)."""

    def traced(wants: Sequence[Any], now: datetime) -> Any:
        trace.rounds.append({"epoch": time.time(), "joined": _known(wants), "wants": len(wants)})
        return fetch(wants, now)

    return traced


# -- the benchmark process --------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """One window query as eCall answered it.

    :param epoch: when.
    :param refused: answered 11701.
    :param jobs: how many jobs the window held (counted when refused, else 0).
    :param first: the index of the first of them (they are consecutive), -1 for none.
    """

    epoch: float
    refused: bool
    jobs: int
    first: int


def log_windows(sandbox: Any, job_index: Callable[[str], int]) -> list[Held]:
    """Note every window query ``sandbox`` answers (its ``Api/State`` route, wrapped)."""
    from airflow_provider_ecall.sandbox.params import parse_date

    app = sandbox._app
    answer = app._routes["state"]
    log: list[Held] = []

    def traced(params: dict[str, str]) -> Any:
        reply = answer(params)
        if params.get("StartDate"):
            jobs: list[int] = []
            if reply.result_code == TOO_MANY:  # what it held (counted only when refused)
                start, end = parse_date(params["StartDate"]), parse_date(params["EndDate"])
                held = app.state.window_statuses(start, end)
                jobs = sorted({job_index(s.job_id) for s in held})
            refused = reply.result_code == TOO_MANY
            log.append(Held(time.time(), refused, len(jobs), jobs[0] if jobs else -1))
        return reply

    app._routes["state"] = traced
    return log


@dataclass(frozen=True)
class Refusal:
    """One 11701 and what the poller knew when it planned the round.

    :param phase: ``"steady"`` or ``"ramp"`` (see the module's docstring).
    :param round: the shared poller's round (from 1), 0 for one poller per wait.
    :param planned_at: seconds from the first send to the round's planning.
    :param window: the window's start and end, seconds from the first send.
    :param estimate: the objects the planner thought it held (None: a split part, or no
        planner).
    :param held: the objects eCall held (one per job: one recipient each).
    :param joined: of which jobs the poller knew when it planned (their waits in the round);
    :param unjoined: sent before it planned, their waits not joined yet;
    :param later: sent after it planned.
    """

    phase: str
    round: int
    planned_at: float
    window: tuple[float, float] | None
    estimate: float | None
    held: int
    joined: int
    unjoined: int
    later: int


def steady_from(last_send: float, waiter: Mapping[str, Any]) -> float:
    """``S``: the later of the last send and the last wait joining (epoch seconds)."""
    return max(last_send, float(waiter["last_join_epoch"]))


def refusals(
    log: Sequence[Held], waiter: Mapping[str, Any], sends: Sequence[float]
) -> list[Refusal]:
    """Each 11701 of ``log``, placed in its round and phase (``sends``: each job's send
    time, by index)."""
    rounds = waiter["rounds"]
    steady = steady_from(sends[-1], waiter)
    found: list[Refusal] = []
    seen: dict[int, int] = {}  # round index -> refusals placed in it so far
    for held in (h for h in log if h.refused):
        index = _round_of(rounds, held.epoch)
        if index is None:
            found.append(_refusal(held, steady, sends, None, 0, None))
            continue
        nth = seen.get(index, 0)
        seen[index] = nth + 1
        mine = [q for q in rounds[index].get("queries", ()) if q["refused"]]
        found.append(_refusal(held, steady, sends, rounds[index], index + 1,
                              mine[nth] if nth < len(mine) else None))  # fmt: skip
    return found


def _round_of(rounds: Sequence[Mapping[str, Any]], epoch: float) -> int | None:
    index = None
    for n, made in enumerate(rounds):
        if made["epoch"] <= epoch:
            index = n
    return index


def _refusal(
    held: Held,
    steady: float,
    sends: Sequence[float],
    made: Mapping[str, Any] | None,
    number: int,
    query: Mapping[str, Any] | None,
) -> Refusal:
    planned = held.epoch if made is None else made["epoch"]
    jobs = range(held.first, held.first + held.jobs)
    joined = 0 if made is None else sum(1 for j in jobs if j < made["joined"])
    later = sum(1 for j in jobs if sends[j] > planned)
    window = None if query is None else (query["start"] - sends[0], query["end"] - sends[0])
    return Refusal(
        phase="steady" if planned >= steady else "ramp",
        round=number,
        planned_at=planned - sends[0],
        window=window,
        estimate=None if query is None else query["estimate"],
        held=held.jobs,
        joined=joined,
        unjoined=held.jobs - joined - later,
        later=later,
    )
