"""Whether an upstream execution satisfies a Flow trigger's conditions (SPEC §7.2, §7.3).

Plain conditions are decided by :func:`lanner.model.conditions.condition_matches`;
this module adds the expression rule of the `Expression` and
`ExecutionOutputs` conditions, time conditions (:mod:`lanner.engine.flowtime`),
HasRetryAttempt, the `preconditions` sub-conditions (`flows` entries and
`where` filters) and the legacy MultipleCondition, and turns the windowed
ones into :class:`~lanner.engine.flowwindow.WindowSpec` values.
Problems (an expression that does not render, a condition type a Flow
trigger cannot evaluate) never raise: they are collected as messages and the
condition counts as not satisfied.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from lanner.engine.execution import Execution
from lanner.engine.flowtime import TIME_CONDITIONS, time_condition_holds
from lanner.engine.flowwindow import WindowSpec
from lanner.errors import LannerError
from lanner.model.common import Model, is_dynamic, parse_duration
from lanner.model.conditions import (
    STREAK_CONDITIONS,
    HasRetryAttempt,
    MultipleCondition,
    Not,
    Or,
    PublicHoliday,
    TimeWindow,
    canonical_condition_type,
    condition_matches,
    streak_holds,
)
from lanner.model.triggers import (
    ExecutionFilter,
    Filter,
    FilterField,
    FilterType,
    Preconditions,
    UpstreamFlow,
    upstream_labels_match,
)

Render = Callable[[str], str]


class _NotEvaluable(Exception):
    """A condition type a Flow trigger cannot evaluate (its name is the message)."""


def expression_holds(rendered: str | None) -> bool:
    """The `Expression` condition's rule (SPEC §6.5): false only when blank or exactly `false`.

    Unlike `runIf`, "0" is true here.
    """
    if rendered is None:
        return False
    text = rendered.strip()
    return text not in ("", "false")


class Matcher:
    """Evaluates conditions against one upstream execution, rendering with one scope."""

    def __init__(self, upstream: Execution, render: Render, now: datetime) -> None:
        self.upstream = upstream
        self.render = render
        self.now = now
        self.problems: list[str] = []
        # The terminal states of the upstream's flow, oldest first, its own last (streak
        # conditions); None when the upstream has not ended.
        self.history: Sequence[str] | None = None
        self.facts: dict[str, Any] = {
            "namespace": upstream.namespace,
            "flowId": upstream.flow_id,
            "state": upstream.state.value,
            "labels": dict(upstream.labels),
            "outputs": dict(upstream.outputs or {}),
        }

    def _truthy(self, expression: str) -> bool:
        return expression_holds(self.render(expression))

    def condition(self, condition: Model, where: str) -> bool:
        """One condition of `conditions` (or of a MultipleCondition); False on any problem."""
        try:
            return self._holds(condition)
        except _NotEvaluable as exc:
            self.problems.append(
                f"{where}: a {exc} condition cannot be evaluated for a Flow trigger;"
                " the condition is taken as not met"
            )
        except LannerError as exc:
            self.problems.append(f"{where}: {exc.message}")
        except ValueError as exc:
            self.problems.append(f"{where}: {exc}")
        return False

    def _holds(self, condition: Model) -> bool:
        # Not and Or are walked here so that time conditions nested in them work too.
        if isinstance(condition, Not):
            return not any(self._holds(c) for c in condition.conditions)
        if isinstance(condition, Or):
            return any(self._holds(c) for c in condition.conditions)
        if isinstance(condition, TIME_CONDITIONS):
            return time_condition_holds(condition, self.render, self.now)
        if isinstance(condition, HasRetryAttempt):
            return self._retried(condition)
        if isinstance(condition, STREAK_CONDITIONS):
            return self.history is not None and streak_holds(condition, self.history)
        if isinstance(condition, PublicHoliday | MultipleCondition):
            # No holiday calendar is shipped; a window inside Not/Or has no meaning.
            raise _NotEvaluable(canonical_condition_type(condition).rsplit(".", 1)[-1])
        return condition_matches(condition, self.facts, self._truthy)

    def _retried(self, condition: HasRetryAttempt) -> bool:
        """Kestra's HasRetryAttempt: an attempt of a task run that was retried has a state in
        `in` (when given) and not in `notIn`."""
        for run in self.upstream.task_runs.values():
            if len(run.attempts) <= 1:
                continue
            for attempt in run.attempts:
                state = attempt.state.value
                if condition.in_ is not None and state not in condition.in_:
                    continue
                if condition.notIn is not None and state in condition.notIn:
                    continue
                return True
        return False

    # -- preconditions -------------------------------------------------------------

    def upstream_flow(self, entry: UpstreamFlow) -> bool:
        up = self.upstream
        if entry.namespace != up.namespace:
            return False
        if entry.flowId is not None and entry.flowId != up.flow_id:
            return False
        if entry.states is not None and up.state.value not in entry.states:
            return False
        return upstream_labels_match(entry.labels, up.labels)

    def execution_filter(self, group: ExecutionFilter, where: str) -> bool:
        results = [self._filter(f, f"{where}.filters[{i}]") for i, f in enumerate(group.filters)]
        return all(results) if group.operand == "AND" else any(results)

    def _filter(self, flt: Filter, where: str) -> bool:
        up = self.upstream
        value: str | None
        if flt.field is FilterField.FLOW_ID:
            value = up.flow_id
        elif flt.field is FilterField.NAMESPACE:
            value = up.namespace
        elif flt.field is FilterField.STATE:
            value = up.state.value
        else:
            if flt.type not in _EXPRESSION_TYPES:
                self.problems.append(
                    f"{where}: an EXPRESSION filter is tested with "
                    f"{', '.join(sorted(t.value for t in _EXPRESSION_TYPES))}, not {flt.type}"
                )
                return False
            try:
                value = self.render(flt.value or "")
            except LannerError as exc:
                self.problems.append(f"{where}: {exc.message}")
                return False
        return filter_matches(flt, value)


_EXPRESSION_TYPES = frozenset(
    {
        FilterType.IS_TRUE,
        FilterType.IS_FALSE,
        FilterType.IS_NULL,
        FilterType.IS_NOT_NULL,
        FilterType.IN,
        FilterType.NOT_IN,
    }
)


def filter_matches(flt: Filter, value: str | None) -> bool:
    """One `where` filter against the field's value (an EXPRESSION's rendered text)."""
    t = flt.type
    text = value or ""
    if t is FilterType.IS_NULL:
        return value is None or value == ""
    if t is FilterType.IS_NOT_NULL:
        return not (value is None or value == "")
    if t is FilterType.IS_TRUE:
        return expression_holds(value)
    if t is FilterType.IS_FALSE:
        return not expression_holds(value)
    if t is FilterType.IN:
        return text in (flt.values or ())
    if t is FilterType.NOT_IN:
        return text not in (flt.values or ())
    operand = flt.value or ""
    if t is FilterType.EQUAL_TO:
        return text == operand
    if t is FilterType.NOT_EQUAL_TO:
        return text != operand
    if t is FilterType.STARTS_WITH:
        return text.startswith(operand)
    if t is FilterType.ENDS_WITH:
        return text.endswith(operand)
    if t is FilterType.CONTAINS:
        return operand in text
    # REGEX: the whole value must match, as Java's String.matches.
    return re.fullmatch(operand, text) is not None


# -- windowed conditions -> WindowSpec ------------------------------------------------


def precondition_spec(pre: Preconditions, matcher: Matcher, where: str) -> WindowSpec | None:
    """The window of `preconditions`; None (with a problem noted) when its window is invalid."""
    required: list[str] = []
    satisfied: set[str] = set()
    for i, entry in enumerate(pre.flows or ()):
        name = f"flows[{i}]"
        required.append(name)
        if matcher.upstream_flow(entry):
            satisfied.add(name)
    for i, group in enumerate(pre.where or ()):
        name = f"where:{group.id}"
        required.append(name)
        if matcher.execution_filter(group, f"{where}.where[{i}]"):
            satisfied.add(name)
    return _spec(
        f"preconditions:{pre.id}",
        pre.timeWindow,
        None,
        None,
        tuple(required),
        satisfied,
        pre.resetOnSuccess,
        matcher,
        where,
    )


def multiple_spec(cond: MultipleCondition, matcher: Matcher, where: str) -> WindowSpec | None:
    """The window of a legacy MultipleCondition (its `conditions` are the sub-conditions)."""
    satisfied = {
        name
        for name, sub in cond.conditions.items()
        if matcher.condition(sub, f"{where}.conditions.{name}")
    }
    return _spec(
        f"multiple:{cond.id}",
        cond.timeWindow,
        cond.window,
        cond.windowAdvance,
        tuple(cond.conditions),
        satisfied,
        cond.resetOnSuccess,
        matcher,
        where,
    )


def _spec(
    key: str,
    tw: TimeWindow | None,
    window: str | None,
    advance: str | None,
    required: tuple[str, ...],
    satisfied: set[str],
    reset: bool,
    matcher: Matcher,
    where: str,
) -> WindowSpec | None:
    tw = tw or TimeWindow()
    try:
        return WindowSpec(
            key=key,
            type=tw.type,
            required=required,
            satisfied=frozenset(satisfied),
            reset_on_success=reset,
            window=_duration(tw.window or window, matcher.render),
            advance=_duration(tw.windowAdvance or advance, matcher.render, zero_ok=True),
            deadline=_time(tw.deadline),
            start_time=_time(tw.startTime),
            end_time=_time(tw.endTime),
        )
    except (LannerError, ValueError) as exc:
        message = exc.message if isinstance(exc, LannerError) else str(exc)
        matcher.problems.append(f"{where}.timeWindow: {message}")
        return None


def _duration(text: str | None, render: Render, *, zero_ok: bool = False) -> timedelta | None:
    if text is None:
        return None
    value = parse_duration(render(text) if is_dynamic(text) else text)
    if value < timedelta(0) or (value == timedelta(0) and not zero_ok):
        # An advance of P0D (no shift) is what Kestra's own flows write.
        what = "a duration of zero or more" if zero_ok else "a positive duration"
        raise ValueError(f"the window{' advance' if zero_ok else ''} must be {what}, not '{text}'")
    return value


def _time(text: str | None) -> time | None:
    return time.fromisoformat(text) if text is not None else None


def window_specs(
    trigger_pre: Preconditions | None,
    multiples: list[MultipleCondition],
    matcher: Matcher,
) -> tuple[list[WindowSpec], bool]:
    """Every window of a trigger; the flag is False when one of them could not be built."""
    specs: list[WindowSpec] = []
    ok = True
    if trigger_pre is not None:
        spec = precondition_spec(trigger_pre, matcher, "preconditions")
        ok = ok and spec is not None
        if spec is not None:
            specs.append(spec)
    for cond in multiples:
        spec = multiple_spec(cond, matcher, f"conditions[{cond.id}]")
        ok = ok and spec is not None
        if spec is not None:
            specs.append(spec)
    return specs, ok
