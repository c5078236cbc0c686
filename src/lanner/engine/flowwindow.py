"""Time windows of a Flow trigger's `preconditions` and legacy MultipleCondition (SPEC §7.3).

A windowed condition is a set of named sub-conditions ("flows[0]",
"where:<id>", or the keys of a MultipleCondition) that different upstream
executions satisfy one by one. Which ones were satisfied, when, and with
which flow outputs, is kept between evaluations in a JSON document that the
runtime stores per trigger; this module only computes the next document.

The stored shape (version 1; dates are ISO-8601 strings)::

    {"version": 1,
     "windows": {"preconditions:<id>" | "multiple:<id>": {
         "type": "DURATION_WINDOW",
         "start": "...", "end": "...",          # absent for SLIDING_WINDOW
         "results": {"<sub-condition>": {"at": "...", "executionId": "...",
                                         "outputs": {...}}}}}}

Pure: `now` is an argument, nothing is read from a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from lanner.engine.variables import iso
from lanner.model.conditions import TimeWindowType

STATE_VERSION = 1
DEFAULT_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class WindowSpec:
    """One windowed condition of a trigger, with what the current upstream satisfies."""

    key: str  # "preconditions:<id>" or "multiple:<id>"
    type: TimeWindowType
    required: tuple[str, ...]  # every sub-condition name
    satisfied: frozenset[str]  # the ones the current upstream execution satisfies
    reset_on_success: bool = True
    window: timedelta | None = None
    advance: timedelta | None = None
    deadline: time | None = None
    start_time: time | None = None
    end_time: time | None = None


@dataclass(frozen=True)
class WindowOutcome:
    key: str
    complete: bool  # every sub-condition is satisfied within the window
    contributed: bool  # the current upstream satisfied at least one sub-condition
    state: Mapping[str, Any] | None  # the window to store (None: nothing to keep)
    reset_on_success: bool


def bounds(spec: WindowSpec, now: datetime) -> tuple[datetime, datetime] | None:
    """The fixed window that `now` opens, as Kestra computes it; None for a sliding window.

    DURATION_WINDOW is aligned the way Kestra aligns it: a window of a day or
    more starts at midnight, of an hour or more at the top of the hour, of
    N minutes (< 1 hour) at a multiple of N minutes; shorter ones start now.
    `windowAdvance` shifts the start. Daily windows are taken in `now`'s time
    zone (the runtime passes UTC).
    """
    if spec.type is TimeWindowType.SLIDING_WINDOW:
        return None
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if spec.type is TimeWindowType.DAILY_TIME_DEADLINE:
        assert spec.deadline is not None  # the model requires it
        return day, _at(day, spec.deadline)
    if spec.type is TimeWindowType.DAILY_TIME_WINDOW:
        assert spec.start_time is not None and spec.end_time is not None
        return _at(day, spec.start_time), _at(day, spec.end_time)
    window = spec.window or DEFAULT_WINDOW
    start = now.replace(microsecond=0)
    if window >= timedelta(days=1):
        start = start.replace(hour=0)
    if window >= timedelta(hours=1):
        start = start.replace(minute=0)
    minutes = int(window.total_seconds() // 60)
    if minutes > 0:
        block = minutes * (start.minute // minutes)
        start = start.replace(minute=0, second=0) + timedelta(minutes=block)
    if spec.advance is not None:
        start += spec.advance
    return start, start + window


def _at(day: datetime, moment: time) -> datetime:
    return day + timedelta(
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        microseconds=moment.microsecond,
    )


def _parse(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def advance(
    spec: WindowSpec,
    stored: Mapping[str, Any] | None,
    now: datetime,
    execution_id: str,
    outputs: Mapping[str, Any] | None,
) -> WindowOutcome:
    """Record what the current upstream satisfies in the window and say whether it is complete.

    A stored fixed window is kept while `start <= now < end`; otherwise a new
    one is computed from `now`. When `now` is outside even the new window
    (before a daily start time, after a deadline, before an advanced start)
    nothing is recorded. In a sliding window each result lives for `window`
    after the upstream execution that gave it.
    """
    results: dict[str, Any] = {}
    doc: dict[str, Any] = {"type": spec.type.value}
    span = bounds(spec, now)
    if span is None:
        horizon = now - (spec.window or DEFAULT_WINDOW)
        for name, entry in _results(stored):
            at = _parse(entry.get("at"))
            if at is not None and at > horizon:
                results[name] = entry
    else:
        start, end = span
        if stored is not None and stored.get("type") == spec.type.value:
            old_start, old_end = _parse(stored.get("start")), _parse(stored.get("end"))
            if old_start is not None and old_end is not None and old_start <= now < old_end:
                start, end = old_start, old_end
                results = dict(_results(stored))
        if not start <= now < end:
            return WindowOutcome(spec.key, False, False, None, spec.reset_on_success)
        doc["start"], doc["end"] = iso(start), iso(end)
    # A sub-condition removed from the trigger since the window was stored no longer counts.
    results = {name: entry for name, entry in results.items() if name in spec.required}
    contributed = False
    for name in spec.required:
        if name in spec.satisfied:
            contributed = True
            # An execution without flow outputs does not erase those of an earlier one.
            previous = results.get(name, {}).get("outputs")
            kept = outputs or (previous if isinstance(previous, Mapping) else None)
            results[name] = {
                "at": iso(now),
                "executionId": execution_id,
                "outputs": dict(kept or {}),
            }
    complete = all(name in results for name in spec.required)
    state = {**doc, "results": results} if results else None
    return WindowOutcome(spec.key, complete, contributed, state, spec.reset_on_success)


def _results(stored: Mapping[str, Any] | None) -> Iterable[tuple[str, Mapping[str, Any]]]:
    raw = stored.get("results") if stored is not None else None
    if not isinstance(raw, Mapping):
        return ()
    return [(str(k), v) for k, v in raw.items() if isinstance(v, Mapping)]


def stored_windows(state: Mapping[str, Any] | None) -> Mapping[str, Mapping[str, Any]]:
    """The windows of a stored trigger state; an unknown version counts as empty."""
    if not state or state.get("version") != STATE_VERSION:
        return {}
    windows = state.get("windows")
    if not isinstance(windows, Mapping):
        return {}
    return {str(k): v for k, v in windows.items() if isinstance(v, Mapping)}


def merged_outputs(outcomes: Sequence[WindowOutcome]) -> dict[str, Any]:
    """Deep-merge the flow outputs recorded in the windows, oldest first (later values win)."""
    entries: list[tuple[str, str, Mapping[str, Any]]] = []
    for outcome in outcomes:
        for name, entry in _results(outcome.state):
            outputs = entry.get("outputs")
            if isinstance(outputs, Mapping):
                entries.append((str(entry.get("at", "")), f"{outcome.key}/{name}", outputs))
    merged: dict[str, Any] = {}
    for _, _, outputs in sorted(entries, key=lambda e: (e[0], e[1])):
        merged = deep_merge(merged, outputs)
    return merged


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Maps merge key by key, recursively; any other value in `extra` replaces the one in `base`."""
    out: dict[str, Any] = dict(base)
    for key, value in extra.items():
        current = out.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            out[key] = deep_merge(current, value)
        else:
            out[key] = value
    return out
