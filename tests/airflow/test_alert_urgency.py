"""Urgency, quiet hours and storm control together, in real DAG runs (``dag.test()``).

- An urgent alert is never suppressed by a held (quiet-hours) or non-urgent alert of the
  same ``dedup_key``: urgent alerts have their own place in the storm identity (and are
  deduplicated among themselves).
- Inside quiet hours the alerts of one key collapse into ONE held alert for the whole
  window, whatever ``dedup_window`` says.

The policy's clock (``CLOCK``) is set by the tests: a night passes without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pendulum
import pytest

from airflow_provider_ecall.notifications._policy import CLOCK
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import DAG
from tests.airflow.test_alert_quiet_hours import window_around_now

#: On every release: the issue's scenario and the night (callbacks and contexts differ by
#: release); every combination runs in ``make test`` (the policy itself is the provider's).
COMPAT = pytest.mark.compat(feature="Alerts: urgency, quiet hours and storm control")

NUMBER = "+41791112233"
ZURICH = "Europe/Zurich"


class TestClock:
    """The alert policy's clock, set by hand."""

    __test__ = False

    def __init__(self) -> None:
        self.moment = pendulum.datetime(2026, 12, 4, 23, 10, tz=ZURICH)

    def set(self, local: str) -> None:
        """Move to ``local`` (ISO, Zurich time)."""
        self.moment = pendulum.parse(local, tz=ZURICH)  # type: ignore[assignment]

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> TestClock:
    test_clock = TestClock()
    monkeypatch.setattr(CLOCK, "now", test_clock.now)
    return test_clock


def accepted(sandbox: EcallSandbox) -> list[tuple[str, str | None]]:
    """What the sandbox accepted: (text, SendDate) per message, in order."""
    return [(m.message, m.params.get("SendDate")) for m in sandbox.messages]


#: The issue's set-up: a DAG-wide notifier (storm key, quiet hours) and a critical task
#: whose own notifier is urgent, with the same key. The minor task fails first.
MINOR_THEN_URGENT = """
minor = EcallSmsNotifier(
    address="{number}", message="MINOR {{{{ ti.task_id }}}}",
    dedup_key="{{{{ dag.dag_id }}}}", quiet_hours="{window}",
)
urgent = EcallSmsNotifier(
    address="{number}", message="URGENT {{{{ ti.task_id }}}}",
    dedup_key="{{{{ dag.dag_id }}}}", quiet_hours="{window}", urgent=True,
)
with DAG(
    "oncall", schedule=None, start_date=START, default_args={{"on_failure_callback": minor}}
) as dag:
    @task
    def report():
        raise RuntimeError("report failed")

    @task(on_failure_callback=urgent, trigger_rule="all_done")
    def billing():
        raise RuntimeError("billing failed")

    report() >> billing()
"""


@COMPAT
def test_an_urgent_alert_goes_out_after_a_held_alert_of_its_key(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    """The issue's scenario on the wall clock: MINOR held for the window's end, URGENT now."""
    window, end = window_around_now("UTC")
    dag = load_dag(MINOR_THEN_URGENT.format(number=NUMBER, window=window))
    dag.test()
    assert accepted(ecall_sandbox_connection) == [
        ("MINOR report", end.isoformat()),
        ("URGENT billing", None),
    ]


#: Two tasks failing under one DAG-wide notifier with the options under test.
TWO_FAILURES = """
shared = EcallSmsNotifier(address="{number}", message="{{{{ ti.task_id }}}}", {options})
with DAG(
    "combo", schedule=None, start_date=START, default_args={{"on_failure_callback": shared}}
) as dag:
    @task
    def first():
        raise RuntimeError("first failed")

    @task(trigger_rule="all_done")
    def second():
        raise RuntimeError("second failed")

    first() >> second()
"""

HELD = "2026-12-05T07:00:00+01:00"


@pytest.mark.parametrize("dedup", [False, True], ids=["no_key", "dedup_key"])
@pytest.mark.parametrize("quiet", [False, True], ids=["day", "quiet_hours"])
@pytest.mark.parametrize("urgent", [False, True], ids=["normal", "urgent"])
def test_every_combination_of_urgent_quiet_hours_and_dedup_key(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
    clock: TestClock,
    urgent: bool,
    quiet: bool,
    dedup: bool,
) -> None:
    """At 23:10 in Zurich, two tasks fail one after the other."""
    options = [f"urgent={urgent}"]
    if quiet:
        options.append(f'quiet_hours="22:00-07:00", quiet_hours_timezone="{ZURICH}"')
    if dedup:
        options.append('dedup_key="{{ dag.dag_id }}"')
    dag = load_dag(TWO_FAILURES.format(number=NUMBER, options=", ".join(options)))
    dag.test()
    send_date = HELD if quiet and not urgent else None
    expected = [("first", send_date)] if dedup else [("first", send_date), ("second", send_date)]
    assert accepted(ecall_sandbox_connection) == expected


#: A non-urgent and an urgent notifier of one key; ``order`` says which task fails first.
BOTH_KINDS = """
minor = EcallSmsNotifier(
    address="{number}", message="MINOR", dedup_key="ops", {quiet}
)
urgent = EcallSmsNotifier(
    address="{number}", message="URGENT", dedup_key="ops", urgent=True, {quiet}
)
with DAG("both", schedule=None, start_date=START) as dag:
    @task(on_failure_callback={first})
    def first():
        raise RuntimeError("first failed")

    @task(on_failure_callback={second}, trigger_rule="all_done")
    def second():
        raise RuntimeError("second failed")

    @task(on_failure_callback={third}, trigger_rule="all_done")
    def third():
        raise RuntimeError("third failed")

    first() >> second() >> third()
"""


@pytest.mark.parametrize("urgent_first", [False, True], ids=["minor_first", "urgent_first"])
@pytest.mark.parametrize("quiet", [False, True], ids=["day", "quiet_hours"])
def test_urgent_and_non_urgent_alerts_of_one_key_do_not_suppress_each_other(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
    clock: TestClock,
    quiet: bool,
    urgent_first: bool,
) -> None:
    """Each kind goes out once (the third alert repeats the first kind and is suppressed);
    the urgent one at once, the non-urgent one held in quiet hours."""
    order = ["urgent", "minor", "urgent"] if urgent_first else ["minor", "urgent", "minor"]
    quiet_option = f'quiet_hours="22:00-07:00", quiet_hours_timezone="{ZURICH}"' if quiet else ""
    dag = load_dag(
        BOTH_KINDS.format(
            number=NUMBER,
            quiet=quiet_option,
            first=order[0],
            second=order[1],
            third=order[2],
        )
    )
    dag.test()
    minor = ("MINOR", HELD if quiet else None)
    urgent = ("URGENT", None)
    expected = [urgent, minor] if urgent_first else [minor, urgent]
    assert accepted(ecall_sandbox_connection) == expected


ONE_FAILURE = """
notifier = EcallSmsNotifier(
    address="{number}", message="{{{{ run_id }}}}", dedup_key="{{{{ dag.dag_id }}}}",
    dedup_window=timedelta(minutes=30), quiet_hours="22:00-07:00",
    quiet_hours_timezone="{zone}",
)
with DAG("night", schedule=None, start_date=START) as dag:
    @task(on_failure_callback=notifier)
    def load():
        raise RuntimeError("the warehouse is down")

    load()
"""


@COMPAT
def test_a_night_of_failures_is_one_alert_held_for_the_end_of_the_quiet_hours(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox, clock: TestClock
) -> None:
    """A 30-minute dedup window and failures all night: one alert, held for 07:00; the
    morning's first failure after 07:00 goes at once, the next night holds one again."""
    dag = load_dag(ONE_FAILURE.format(number=NUMBER, zone=ZURICH))
    night = ["21:50", "22:05", "23:00", "01:00", "03:00", "06:59", "07:05", "07:20", "23:30"]
    days = ["04", "04", "04", "05", "05", "05", "05", "05", "05"]
    for day, moment in zip(days, night, strict=True):
        clock.set(f"2026-12-{day}T{moment}:00")
        dag.test()
    send_dates = [send_date for _, send_date in accepted(ecall_sandbox_connection)]
    assert send_dates == [
        None,  # 21:50: before the quiet hours, at once
        "2026-12-05T07:00:00+01:00",  # 22:05 to 06:59: one alert, held for 07:00
        None,  # 07:05: the day's first, at once (07:20 is in its dedup window)
        "2026-12-06T07:00:00+01:00",  # the next night's first, held
    ]


def test_a_dedup_key_that_fails_to_render_sends_the_alert_without_storm_control(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    """A broken storm key must not cost the alert: it goes out, alone, with an ERROR line."""
    from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier
    from tests.contexts import failure_context

    notifier = EcallSmsNotifier(address=NUMBER, dedup_key="{{ no_such_function() }}")
    notifier(failure_context(DAG("broken_key", schedule=None), 0))
    assert len(ecall_sandbox_connection.messages) == 1
