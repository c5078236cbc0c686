"""The Schedule trigger's date math (docs/triggers.md), pure: `now` is always an argument.

:class:`CronClock` turns a Schedule's `cron`, `withSeconds` and `timezone`
into dates; :func:`plan` decides, at `now`, which dates fire and what the
next date to evaluate is, from `recoverMissedSchedules` and
`lateMaximumDelay`. The runtime (:mod:`lanner.runtime.triggers`) loads the
stored context, calls these, and commits the outcome in one transaction.

Cron fields are read as Kestra's cron-utils reads them: five fields, or six
with `withSeconds` where the seconds come FIRST (croniter's
``second_at_beginning``; by default croniter would read a sixth field as
trailing seconds). Across a daylight saving change, a wall time that does not
exist (spring forward) fires at the first instant after the gap, and one that
happens twice (fall back) fires once, at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lanner.model.triggers import RecoverMissedSchedules, Schedule

# How late a due date may be evaluated before it counts as missed: a running
# server evaluates every fraction of a second, so a date older than this was
# not evaluated on time (no server was up, or the store was down), and
# `recoverMissedSchedules` decides what happens to it.
MISSED_AFTER = timedelta(seconds=5)

# At most this many dates are fired in one evaluation (the rest the next one).
MAX_DATES = 100


def default_zone() -> tzinfo:
    """Kestra evaluates a Schedule without `timezone` in UTC (its plugin docs)."""
    return UTC


def _zone(name: str | None) -> tzinfo:
    if name is None:
        return default_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name}' is not a time zone identifier") from None


class CronClock:
    """The dates of one cron expression in one time zone."""

    def __init__(self, cron: str, *, with_seconds: bool = False, timezone: str | None = None):
        from croniter import croniter  # slow to import: only servers that schedule need it

        self._croniter = croniter
        self.cron = cron.strip()
        self.with_seconds = with_seconds
        self.zone = _zone(timezone)

    @classmethod
    def of(cls, trigger: Schedule) -> CronClock:
        return cls(trigger.cron, with_seconds=trigger.withSeconds, timezone=trigger.timezone)

    def _iter(self, start: datetime) -> object:
        return self._croniter(
            self.cron, start.astimezone(self.zone), second_at_beginning=self.with_seconds
        )

    def next_after(self, moment: datetime) -> datetime:
        """The first date strictly after `moment`."""
        it = self._iter(moment)
        date: datetime = it.get_next(datetime)  # type: ignore[attr-defined]
        if _repeated_wall_time(date):
            date = it.get_next(datetime)  # type: ignore[attr-defined]
        return self._normal(date)

    def previous_before(self, moment: datetime) -> datetime:
        """The last date strictly before `moment`."""
        it = self._iter(moment)
        date: datetime = it.get_prev(datetime)  # type: ignore[attr-defined]
        if _repeated_wall_time(date):
            date = it.get_prev(datetime)  # type: ignore[attr-defined]
        return self._normal(date)

    def _normal(self, date: datetime) -> datetime:
        # Through UTC: croniter may leave `fold` set on a date that is not ambiguous.
        return date.astimezone(UTC).astimezone(self.zone)

    def last_at_or_before(self, moment: datetime) -> datetime:
        return self.previous_before(moment + timedelta(microseconds=1))

    def dates(self, start: datetime, end: datetime, limit: int = 100_000) -> list[datetime]:
        """The dates in [start, end], in order (a backfill's dates)."""
        found: list[datetime] = []
        date = self.next_after(start - timedelta(microseconds=1))
        while date <= end and len(found) < limit:
            found.append(date)
            date = self.next_after(date)
        return found


def _repeated_wall_time(date: datetime) -> bool:
    """The second occurrence of a wall time that a fall-back change repeats."""
    first = date.replace(tzinfo=None).replace(tzinfo=date.tzinfo, fold=0)
    return first.astimezone(UTC) < date.astimezone(UTC)


@dataclass(frozen=True)
class Plan:
    """What one evaluation at `now` does."""

    fire: tuple[datetime, ...]  # the dates to create executions for, oldest first
    late: tuple[datetime, ...]  # due dates skipped by lateMaximumDelay
    dropped: tuple[datetime, ...]  # missed dates not recovered (recoverMissedSchedules)
    next_date: datetime  # the next date to evaluate


def plan(
    clock: CronClock,
    next_date: datetime,
    now: datetime,
    *,
    recover: RecoverMissedSchedules | None = None,
    late_maximum_delay: timedelta | None = None,
    missed_after: timedelta = MISSED_AFTER,
    limit: int = MAX_DATES,
) -> Plan:
    """The dates due at `now` from `next_date` on, after recovery and lateness rules.

    Due dates older than `missed_after` were missed (nobody evaluated them on
    time): ALL (Kestra's default) fires them all, LAST only the latest one at or
    before `now`, NONE none of them. Then a date later than `lateMaximumDelay`
    is skipped. At most `limit` dates fire at once; the next evaluation goes on.
    """
    if next_date > now:
        return Plan((), (), (), next_date)
    mode = recover or RecoverMissedSchedules.ALL
    missed = now - next_date > missed_after
    dropped: tuple[datetime, ...] = ()
    if missed and mode is not RecoverMissedSchedules.ALL:
        last = clock.last_at_or_before(now)
        due = [last] if mode is RecoverMissedSchedules.LAST and last >= next_date else []
        following = clock.next_after(now)
        # Only reported, never all listed: a yearlong outage of a per-second schedule.
        first_dropped = next_date if not due or due[0] != next_date else None
        dropped = (first_dropped,) if first_dropped is not None else ()
    else:
        due = []
        date = next_date
        while date <= now and len(due) < limit:
            due.append(date)
            date = clock.next_after(date)
        following = date
    late: list[datetime] = []
    fire: list[datetime] = []
    for date in due:
        if late_maximum_delay is not None and now - date > late_maximum_delay:
            late.append(date)
        else:
            fire.append(date)
    return Plan(tuple(fire), tuple(late), dropped, following)


def first_date(clock: CronClock, now: datetime) -> datetime:
    """A new schedule starts with the first date after `now` (Kestra: a new trigger id
    starts from the current date, never from the past)."""
    return clock.next_after(now)


def iso(date: datetime) -> str:
    """A date as Kestra writes a ZonedDateTime in JSON: ISO-8601 with its offset, `Z` for UTC."""
    text = date.isoformat(timespec="microseconds" if date.microsecond else "seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text
