"""The Schedule trigger's date math (engine/schedule.py): cron with seconds first, time
zones and daylight saving, recoverMissedSchedules and lateMaximumDelay, at a given `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lanner.engine.schedule import MISSED_AFTER, CronClock, first_date, iso, plan
from lanner.model.triggers import RecoverMissedSchedules as Recover

T0 = datetime(2025, 1, 1, tzinfo=UTC)
S = timedelta(seconds=1)


def test_with_seconds_the_seconds_field_comes_first() -> None:
    # Kestra (cron-utils): "sec min hour dom mon dow". croniter alone would read the
    # sixth field as trailing seconds: "0 0 12 * * *" would then fire every hour.
    clock = CronClock("0 0 12 * * *", with_seconds=True)
    assert clock.next_after(T0) == datetime(2025, 1, 1, 12, tzinfo=UTC)
    assert clock.next_after(datetime(2025, 1, 1, 12, tzinfo=UTC)) == datetime(
        2025, 1, 2, 12, tzinfo=UTC
    )
    every5 = CronClock("*/5 * * * * *", with_seconds=True)
    assert every5.dates(T0, T0 + 12 * S) == [T0, T0 + 5 * S, T0 + 10 * S]


def test_five_fields_and_nicknames() -> None:
    assert CronClock("*/15 * * * *").next_after(T0) == T0 + timedelta(minutes=15)
    assert CronClock("@daily").next_after(T0) == T0 + timedelta(days=1)
    assert CronClock("@hourly").previous_before(T0) == T0 - timedelta(hours=1)


def test_the_time_zone_decides_the_wall_clock() -> None:
    paris = CronClock("0 9 * * *", timezone="Europe/Paris")
    date = paris.next_after(T0)
    assert iso(date) == "2025-01-01T09:00:00+01:00"
    assert date == datetime(2025, 1, 1, 8, tzinfo=UTC)
    assert iso(CronClock("0 9 * * *").next_after(T0)) == "2025-01-01T09:00:00Z"  # UTC default


def test_spring_forward_fires_after_the_gap_and_fall_back_fires_once() -> None:
    clock = CronClock("30 2 * * *", timezone="Europe/Paris")
    spring = clock.dates(datetime(2025, 3, 29, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    assert [iso(d) for d in spring] == [
        "2025-03-29T02:30:00+01:00",
        "2025-03-30T03:00:00+02:00",  # 02:30 does not exist that night
        "2025-03-31T02:30:00+02:00",
    ]
    autumn = clock.dates(datetime(2025, 10, 25, tzinfo=UTC), datetime(2025, 10, 28, tzinfo=UTC))
    assert [iso(d) for d in autumn] == [
        "2025-10-25T02:30:00+02:00",
        "2025-10-26T02:30:00+02:00",  # 02:30 happens twice: once only
        "2025-10-27T02:30:00+01:00",
    ]


def test_a_new_schedule_starts_after_now() -> None:
    clock = CronClock("*/2 * * * * *", with_seconds=True)
    assert first_date(clock, T0 + S) == T0 + 2 * S
    assert first_date(clock, T0) == T0 + 2 * S  # never the past, not even now


def test_nothing_is_due_before_the_next_date() -> None:
    clock = CronClock("*/2 * * * * *", with_seconds=True)
    decided = plan(clock, T0 + 2 * S, T0 + S)
    assert decided.fire == () and decided.next_date == T0 + 2 * S


def test_due_dates_fire_and_the_next_date_moves_past_now() -> None:
    clock = CronClock("*/2 * * * * *", with_seconds=True)
    decided = plan(clock, T0, T0 + 3 * S)
    assert decided.fire == (T0, T0 + 2 * S)
    assert decided.next_date == T0 + 4 * S


@pytest.mark.parametrize(
    ("mode", "fired"),
    [
        (None, list(range(0, 31, 2))),  # Kestra's default is ALL
        (Recover.ALL, list(range(0, 31, 2))),
        (Recover.LAST, [30]),
        (Recover.NONE, []),
    ],
)
def test_missed_dates_are_recovered_as_the_mode_says(
    mode: Recover | None, fired: list[int]
) -> None:
    clock = CronClock("*/2 * * * * *", with_seconds=True)
    now = T0 + 30 * S  # nobody evaluated for 30 s: a stopped server
    decided = plan(clock, T0, now, recover=mode)
    assert [int((d - T0).total_seconds()) for d in decided.fire] == fired
    assert decided.next_date == T0 + 32 * S


def test_a_date_just_due_is_not_missed_whatever_the_mode() -> None:
    clock = CronClock("*/2 * * * * *", with_seconds=True)
    now = T0 + MISSED_AFTER - S
    decided = plan(clock, T0, now, recover=Recover.NONE)
    assert decided.fire[0] == T0


def test_late_maximum_delay_skips_dates_that_are_too_late() -> None:
    clock = CronClock("*/2 * * * * *", with_seconds=True)
    decided = plan(clock, T0, T0 + 30 * S, late_maximum_delay=timedelta(seconds=5))
    assert decided.fire == (T0 + 26 * S, T0 + 28 * S, T0 + 30 * S)
    assert len(decided.late) == 13
    last = plan(clock, T0, T0 + 30 * S, recover=Recover.LAST, late_maximum_delay=timedelta(0))
    assert last.fire == (T0 + 30 * S,)


def test_at_most_limit_dates_fire_at_once_and_the_rest_follow() -> None:
    clock = CronClock("* * * * * *", with_seconds=True)
    now = T0 + 100 * S
    first = plan(clock, T0, now, limit=40)
    assert len(first.fire) == 40 and first.next_date == T0 + 40 * S
    second = plan(clock, first.next_date, now, limit=100)
    assert second.fire[0] == T0 + 40 * S and second.fire[-1] == now


def test_iso_writes_utc_as_z_and_keeps_offsets() -> None:
    assert iso(T0) == "2025-01-01T00:00:00Z"
    assert iso(T0 + timedelta(microseconds=5)) == "2025-01-01T00:00:00.000005Z"
