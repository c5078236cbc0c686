"""Time conditions in a Flow trigger: DayWeek, DayWeekInMonth, Weekend, TimeBetween,
DateTimeBetween (SPEC §7.2 "time/day conditions"), and the date conditions every
trigger without an upstream execution evaluates (Schedule, polling and realtime
triggers, Webhook): those, Expression, Not and Or (:func:`date_condition_holds`).

Their `date` defaults to `{{ trigger.date }}`, the Schedule trigger's date. A
Flow trigger has none, so that default means the moment of the evaluation
(`now`, the upstream's state change); a `date` the flow sets is rendered in
the trigger's scope and read as an ISO-8601 date-time. PublicHoliday needs a
holiday calendar Lanner does not ship: it is reported as not evaluable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from lanner.expr.scope import is_truthy
from lanner.model.common import Model, is_dynamic
from lanner.model.conditions import (
    DAYS_OF_WEEK,
    DateTimeBetween,
    DayWeek,
    DayWeekInMonth,
    Expression,
    Not,
    Or,
    TimeBetween,
    Weekend,
)

TIME_CONDITIONS = (DayWeek, DayWeekInMonth, Weekend, TimeBetween, DateTimeBetween)
_DEFAULT_DATE = "{{ trigger.date }}"
_ORDINALS = ("FIRST", "SECOND", "THIRD", "FOURTH")


def time_condition_holds(condition: Model, render: Callable[[str], str], now: datetime) -> bool:
    """Whether a time condition holds; ValueError when a value does not parse."""
    date = _date(getattr(condition, "date", _DEFAULT_DATE), render, now)
    if isinstance(condition, Weekend):
        return date.weekday() >= 5
    if isinstance(condition, DayWeek):
        return _day(condition.dayOfWeek, render) == date.weekday()
    if isinstance(condition, DayWeekInMonth):
        if _day(condition.dayOfWeek, render) != date.weekday():
            return False
        which = _text(condition.dayInMonth, render)
        if which == "LAST":
            return (date + timedelta(days=7)).month != date.month
        if which not in _ORDINALS:
            raise ValueError(f"dayInMonth '{which}' is not one of FIRST..FOURTH or LAST")
        return (date.day - 1) // 7 == _ORDINALS.index(which)
    if isinstance(condition, DateTimeBetween):
        after = _opt(condition.after, render, _zoned)
        before = _opt(condition.before, render, _zoned)
        return (after is None or date > after) and (before is None or date < before)
    if isinstance(condition, TimeBetween):
        return _time_between(condition, render, date)
    raise TypeError(f"{type(condition).__name__} is not a time condition")


def date_condition_holds(condition: Model, render: Callable[[str], str], date: datetime) -> bool:
    """A condition of a trigger that has a date and no upstream execution: a time
    condition at `date` (its default `date`), an Expression rendered by `render`
    (Kestra's truthiness), Not and Or of those. ValueError when a value does not
    parse; TypeError for a condition that needs an upstream execution (the models
    reject those when the flow loads)."""
    if isinstance(condition, TIME_CONDITIONS):
        return time_condition_holds(condition, render, date)
    if isinstance(condition, Expression):
        return is_truthy(render(condition.expression))
    if isinstance(condition, Not):
        return not any(date_condition_holds(c, render, date) for c in condition.conditions)
    if isinstance(condition, Or):
        return any(date_condition_holds(c, render, date) for c in condition.conditions)
    raise TypeError(f"{getattr(condition, 'type', condition)} needs an upstream execution")


def _time_between(condition: TimeBetween, render: Callable[[str], str], date: datetime) -> bool:
    after = _opt(condition.after, render, _offset_time)
    before = _opt(condition.before, render, _offset_time)
    # Each bound is compared in its own offset, as Java's OffsetTime comparison does.
    if after is not None and not _clock(date, after) > after.replace(tzinfo=None):
        return False
    return before is None or _clock(date, before) < before.replace(tzinfo=None)


def _clock(date: datetime, bound: time) -> time:
    shifted = date.astimezone(bound.tzinfo) if bound.tzinfo is not None else date
    return shifted.time().replace(tzinfo=None)


def _date(text: str, render: Callable[[str], str], now: datetime) -> datetime:
    if text.strip() == _DEFAULT_DATE:
        return now
    return _zoned(render(text) if is_dynamic(text) else text)


def _zoned(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        raise ValueError(f"'{text}' needs a time zone offset")
    return value


def _offset_time(text: str) -> time:
    return time.fromisoformat(text.strip().replace("Z", "+00:00"))


def _text(value: str, render: Callable[[str], str]) -> str:
    return (render(value) if is_dynamic(value) else value).strip()


def _day(value: str, render: Callable[[str], str]) -> int:
    day = _text(value, render)
    if day not in DAYS_OF_WEEK:
        raise ValueError(f"dayOfWeek '{day}' is not one of {', '.join(DAYS_OF_WEEK)}")
    return DAYS_OF_WEEK.index(day)


def _opt(value: str | None, render: Callable[[str], str], parse: Callable[[str], Any]) -> Any:
    if value is None:
        return None
    return parse(_text(value, render))
