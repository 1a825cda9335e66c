"""Quiet hours: a non-urgent alert raised inside the window is scheduled (``SendDate``) for
the window's end; ``urgent=True`` sends at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone

import pendulum
import pytest

from airflow_provider_ecall.notifications._policy import QuietHours, parse_quiet_hours
from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier, EcallVoiceNotifier
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import DAG
from tests.contexts import failure_context

pytestmark = pytest.mark.compat(feature="Alerts: quiet hours")

NUMBER = "+41791112233"


def window_around_now(zone: str) -> tuple[str, datetime]:
    """A quiet window from an hour ago to an hour from now (whole minutes) in ``zone``,
    and the moment it ends."""
    now = pendulum.now(zone)
    start, end = now.subtract(hours=1), now.add(hours=1).replace(second=0, microsecond=0)
    return f"{start:%H:%M}-{end:%H:%M}", end


def sent_date(sandbox: EcallSandbox) -> datetime | None:
    (sent,) = sandbox.messages
    value = sent.params.get("SendDate")
    return None if value is None else datetime.fromisoformat(value)


def test_an_alert_in_quiet_hours_is_scheduled_for_the_windows_end(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    window, end = window_around_now("UTC")
    dag = load_dag(
        f"""
        with DAG("quiet", schedule=None, start_date=START) as dag:
            @task(on_failure_callback=EcallSmsNotifier(address="{NUMBER}", quiet_hours="{window}"))
            def load():
                raise RuntimeError("nightly load failed")

            load()
        """
    )
    dag.test()
    assert sent_date(ecall_sandbox_connection) == end
    (sent,) = ecall_sandbox_connection.messages
    assert sent.params["SendDate"].endswith("+00:00")  # sent with its offset


def test_the_window_is_read_in_the_given_time_zone(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    window, end = window_around_now("Asia/Tokyo")
    notifier = EcallVoiceNotifier(
        address=NUMBER, quiet_hours=window, quiet_hours_timezone="Asia/Tokyo"
    )
    notifier(failure_context(DAG("quiet_tokyo", schedule=None), 0))
    found = sent_date(ecall_sandbox_connection)
    assert found == end
    assert found is not None
    assert found.utcoffset() == timedelta(hours=9)


def test_urgent_alerts_and_alerts_outside_the_window_go_at_once(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    window, _ = window_around_now("UTC")
    dag = DAG("urgent", schedule=None)
    EcallSmsNotifier(address=NUMBER, quiet_hours=window, urgent=True)(failure_context(dag, 0))
    assert sent_date(ecall_sandbox_connection) is None
    ecall_sandbox_connection.reset()
    later = pendulum.now("UTC").add(hours=2)
    elsewhere = f"{later:%H:%M}-{later.add(hours=1):%H:%M}"
    EcallSmsNotifier(address=NUMBER, quiet_hours=elsewhere)(failure_context(dag, 0))
    assert sent_date(ecall_sandbox_connection) is None


def test_a_storm_in_quiet_hours_is_one_scheduled_alert(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    window, end = window_around_now("UTC")
    dag = DAG("quiet_storm", schedule=None)
    notifier = EcallSmsNotifier(address=NUMBER, quiet_hours=window, dedup_key="{{ dag.dag_id }}")
    for index in range(3):
        notifier(failure_context(dag, index))
    assert sent_date(ecall_sandbox_connection) == end  # one message, scheduled


ZURICH = "Europe/Zurich"


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-11-27T23:30", "2026-11-28T07:00"),  # before midnight: tomorrow's end
        ("2026-11-28T03:00", "2026-11-28T07:00"),  # after midnight: today's end
        ("2026-11-28T07:00", None),  # the end itself is outside
        ("2026-11-28T21:59", None),
        ("2026-03-28T22:30", "2026-03-29T07:00"),  # the night clocks go forward
    ],
)
def test_release_of_a_window_across_midnight(local: str, expected: str | None) -> None:
    quiet = QuietHours(time(22, 0), time(7, 0), ZURICH)
    moment = pendulum.parse(local, tz=ZURICH)
    found = quiet.release(moment)  # type: ignore[arg-type]
    if expected is None:
        assert found is None
    else:
        assert found == pendulum.parse(expected, tz=ZURICH)
        assert found is not None
        assert found > moment  # type: ignore[operator]


def test_release_of_a_window_within_a_day() -> None:
    quiet = parse_quiet_hours("12:00-13:30", None)
    noon = datetime(2026, 11, 27, 12, 10, tzinfo=timezone.utc)
    assert quiet.release(noon) == datetime(2026, 11, 27, 13, 30, tzinfo=timezone.utc)
    assert quiet.release(noon.replace(hour=14)) is None


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"quiet_hours": "22-7"}, "quiet_hours"),
        ({"quiet_hours": "25:00-07:00"}, "quiet_hours"),
        ({"quiet_hours": "07:00-07:00"}, "quiet_hours"),
        (
            {"quiet_hours": "22:00-07:00", "quiet_hours_timezone": "Mars/Base"},
            "quiet_hours_timezone",
        ),
        ({"quiet_hours_timezone": "UTC"}, "quiet_hours_timezone"),
    ],
)
def test_bad_quiet_hours_fail_at_parse_naming_the_field(
    options: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        EcallSmsNotifier(address=NUMBER, **options)  # type: ignore[arg-type]
