"""Trigger conditions (SPEC §7.2): the models, and matching against an upstream execution.

A condition limits when a trigger fires. Each has a Kestra type name
(``io.kestra.plugin.core.condition.ExecutionStatus``) and older names that
still resolve: ``io.kestra.core.models.conditions.types.<Name>Condition``
and ``io.kestra.plugin.core.condition.<Name>Condition``.

Conditions are validated when the flow is loaded. :func:`condition_matches`
evaluates the ones that only look at an upstream execution, for the Flow
trigger; the time-based ones (DayWeek, TimeBetween, ...) and the windowed
MultipleCondition are evaluated by the trigger runtime.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag, field_validator, model_validator

from lanner.model.common import TASK_ID_RE, DurationLike, Model, Text, is_dynamic, is_label_key

# State names as plain strings: the model layer sits below the engine and does
# not import it (imports point inward), so the names are listed here again.
StateName = Literal[
    "CREATED",
    "SUBMITTED",
    "RUNNING",
    "PAUSED",
    "RESTARTED",
    "KILLING",
    "SUCCESS",
    "WARNING",
    "FAILED",
    "KILLED",
    "CANCELLED",
    "QUEUED",
    "RETRYING",
    "RETRIED",
    "SKIPPED",
    "BREAKPOINT",
    "RESUBMITTED",
]
TERMINATED_STATES: frozenset[str] = frozenset(
    {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED", "RESUBMITTED"}
)

_CORE = "io.kestra.plugin.core.condition."
_LEGACY = "io.kestra.core.models.conditions.types."


def label_map(value: Any) -> Any:
    """Kestra accepts labels as a map or as a list of {key, value}; keep a map.

    Keys follow Kestra's label rule; `system.` labels cannot be set by a
    trigger or matched by a condition (Kestra's NoSystemLabelValidation).
    """
    if value is None:
        return None
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for item in value:
            if not isinstance(item, dict) or set(item) != {"key", "value"}:
                raise ValueError("each label must be a {key, value} mapping")
            out[str(item["key"])] = item["value"]
        value = out
    if not isinstance(value, dict):
        raise ValueError("labels must be a map or a list of {key, value}")
    for key, val in value.items():
        if not is_label_key(str(key)):
            raise ValueError(f"label key '{key}' must start with a lower-case letter")
        if str(key).startswith("system."):
            raise ValueError(f"label key '{key}': system labels are not allowed here")
        if val is None or val == "":
            raise ValueError(f"label '{key}' needs a non-empty value")
    return {str(k): v for k, v in value.items()}


class _Condition(Model):
    type: str


class ExecutionStatus(_Condition):
    """True when the upstream state is in `in` (if given) and not in `notIn` (if given)."""

    in_: list[StateName] | None = Field(None, alias="in")
    notIn: list[StateName] | None = None


class ExecutionFlow(_Condition):
    namespace: str
    flowId: str


class NamespaceComparison(StrEnum):
    EQUALS = "EQUALS"
    PREFIX = "PREFIX"
    SUFFIX = "SUFFIX"


class ExecutionNamespace(_Condition):
    namespace: str
    comparison: NamespaceComparison | None = None
    # Shortcut for `comparison: PREFIX`, used only when `comparison` is unset (as in Kestra).
    prefix: bool = False


class Expression(_Condition):
    expression: Text


class ExecutionOutputs(_Condition):
    expression: Text


class ExecutionLabels(_Condition):
    labels: dict[str, Text]

    @field_validator("labels", mode="before")
    @classmethod
    def _check_labels(cls, v: Any) -> Any:
        return label_map(v)


class Not(_Condition):
    """True when none of `conditions` is true."""

    conditions: Annotated[list[Condition], Field(min_length=1)]


class Or(_Condition):
    """True when at least one of `conditions` is true."""

    conditions: Annotated[list[Condition], Field(min_length=1)]


class FlowCondition(_Condition):
    """Deprecated in Kestra (use ExecutionFlow); kept so old flows load."""

    namespace: str
    flowId: str


class FlowNamespaceCondition(_Condition):
    """Deprecated in Kestra (use ExecutionNamespace); kept so old flows load."""

    namespace: str
    prefix: bool = False


class HasRetryAttempt(_Condition):
    in_: list[StateName] | None = Field(None, alias="in")
    notIn: list[StateName] | None = None


# ---- Lanner's own: streaks of an upstream flow's terminal states (docs/triggers.md)

_LANNER = "io.lanner.condition."


def _failures() -> list[StateName]:
    return ["FAILED"]


def _successes() -> list[StateName]:
    return ["SUCCESS", "WARNING"]


class ConsecutiveFailures(_Condition):
    """True when the upstream execution is the `count`-th in a row of its flow to end in
    one of `states` (once per streak: the next ones in the streak do not match)."""

    count: int = Field(ge=1, le=100)
    states: list[StateName] = Field(default_factory=_failures, min_length=1)


class FlowRecovered(_Condition):
    """True when the upstream execution ends in one of `states` and the execution of its
    flow that ended before it ended in one of `failedStates` (once per recovery)."""

    states: list[StateName] = Field(default_factory=_successes, min_length=1)
    failedStates: list[StateName] = Field(default_factory=_failures, min_length=1)


STREAK_CONDITIONS = (ConsecutiveFailures, FlowRecovered)


# ---- time conditions: their `date` defaults to the trigger date, rendered at run time


class _DateCondition(_Condition):
    date: Text = "{{ trigger.date }}"


DAYS_OF_WEEK = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def _literal_or_dynamic(value: Any, allowed: tuple[str, ...], what: str) -> Any:
    if is_dynamic(value) or value in allowed:
        return value
    raise ValueError(f"{what} must be one of {', '.join(allowed)} or a {{{{ expression }}}}")


class DayWeek(_DateCondition):
    dayOfWeek: str

    @field_validator("dayOfWeek")
    @classmethod
    def _day(cls, v: str) -> str:
        return str(_literal_or_dynamic(v, DAYS_OF_WEEK, "dayOfWeek"))


class DayWeekInMonth(_DateCondition):
    dayOfWeek: str
    dayInMonth: str

    @field_validator("dayOfWeek")
    @classmethod
    def _day(cls, v: str) -> str:
        return str(_literal_or_dynamic(v, DAYS_OF_WEEK, "dayOfWeek"))

    @field_validator("dayInMonth")
    @classmethod
    def _which(cls, v: str) -> str:
        allowed = ("FIRST", "SECOND", "THIRD", "FOURTH", "LAST")
        return str(_literal_or_dynamic(v, allowed, "dayInMonth"))


def _zoned_datetime(value: str | None) -> str | None:
    """A ZonedDateTime in Kestra: ISO-8601 with an offset, or an expression."""
    if value is None or is_dynamic(value):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not an ISO-8601 date-time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"'{value}' needs a time zone offset, for example {value}Z")
    return value


_OFFSET_TIME_RE = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def _offset_time(value: str | None) -> str | None:
    """An OffsetTime in Kestra: `16:00:00+02:00`, or an expression."""
    if value is None or is_dynamic(value):
        return value
    if not _OFFSET_TIME_RE.match(value):
        raise ValueError(f"'{value}' is not a time with an offset, such as 16:00:00+02:00")
    time.fromisoformat(value.replace("Z", "+00:00"))
    return value


class DateTimeBetween(_DateCondition):
    after: str | None = None
    before: str | None = None

    @field_validator("after", "before")
    @classmethod
    def _zoned(cls, v: str | None) -> str | None:
        return _zoned_datetime(v)

    @model_validator(mode="after")
    def _bound(self) -> DateTimeBetween:
        if self.after is None and self.before is None:
            raise ValueError("give `after`, `before` or both")
        return self


class TimeBetween(_DateCondition):
    after: str | None = None
    before: str | None = None

    @field_validator("after", "before")
    @classmethod
    def _offset(cls, v: str | None) -> str | None:
        return _offset_time(v)

    @model_validator(mode="after")
    def _bound(self) -> TimeBetween:
        if self.after is None and self.before is None:
            raise ValueError("give `after`, `before` or both")
        return self


class Weekend(_DateCondition):
    pass


class PublicHoliday(_DateCondition):
    country: Text | None = None
    subDivision: Text | None = None


class TimeWindowType(StrEnum):
    DURATION_WINDOW = "DURATION_WINDOW"
    SLIDING_WINDOW = "SLIDING_WINDOW"
    DAILY_TIME_DEADLINE = "DAILY_TIME_DEADLINE"
    DAILY_TIME_WINDOW = "DAILY_TIME_WINDOW"


_LOCAL_TIME_RE = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


class TimeWindow(Model):
    """The period in which preconditions must all be met (Kestra's TimeWindow)."""

    type: TimeWindowType = TimeWindowType.DURATION_WINDOW
    window: DurationLike | None = None
    windowAdvance: DurationLike | None = None
    deadline: str | None = None
    startTime: str | None = None
    endTime: str | None = None

    @field_validator("deadline", "startTime", "endTime")
    @classmethod
    def _local_time(cls, v: str | None) -> str | None:
        if v is not None and not _LOCAL_TIME_RE.match(v):
            raise ValueError(f"'{v}' is not a time of day such as 09:00:00")
        return v

    @model_validator(mode="after")
    def _fields_for_type(self) -> TimeWindow:
        # Kestra's TimeWindowValidation: each type uses its own fields only.
        t = self.type
        if t is TimeWindowType.DAILY_TIME_DEADLINE and self.deadline is None:
            raise ValueError("DAILY_TIME_DEADLINE needs `deadline`")
        if t is TimeWindowType.DAILY_TIME_WINDOW and (
            self.startTime is None or self.endTime is None
        ):
            raise ValueError("DAILY_TIME_WINDOW needs `startTime` and `endTime`")
        if t is not TimeWindowType.DAILY_TIME_DEADLINE and self.deadline is not None:
            raise ValueError("`deadline` is only for DAILY_TIME_DEADLINE")
        if t is not TimeWindowType.DAILY_TIME_WINDOW and (self.startTime or self.endTime):
            raise ValueError("`startTime` and `endTime` are only for DAILY_TIME_WINDOW")
        daily = (TimeWindowType.DAILY_TIME_DEADLINE, TimeWindowType.DAILY_TIME_WINDOW)
        if t in daily and (self.window is not None or self.windowAdvance is not None):
            raise ValueError("`window` and `windowAdvance` are not used by daily windows")
        if t is TimeWindowType.SLIDING_WINDOW and self.windowAdvance is not None:
            raise ValueError("`windowAdvance` is only for DURATION_WINDOW")
        return self


class MultipleCondition(_Condition):
    """Deprecated in Kestra (use the Flow trigger's `preconditions`); kept so old flows load."""

    id: str
    conditions: Annotated[dict[str, Condition], Field(min_length=1)]
    timeWindow: TimeWindow | None = Field(None, validation_alias="sla")
    window: DurationLike | None = None
    windowAdvance: DurationLike | None = None
    resetOnSuccess: bool = True

    @model_validator(mode="before")
    @classmethod
    def _old_name(cls, data: Any) -> Any:
        # `sla` is the 0.x name of `timeWindow`.
        if isinstance(data, dict) and "timeWindow" in data:
            if "sla" in data:
                raise ValueError("give timeWindow or its old name sla, not both")
            data = {**data, "sla": data["timeWindow"]}
            del data["timeWindow"]
        return data

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not TASK_ID_RE.match(v):
            raise ValueError(f"'{v}' is not a valid id (letters, digits, _ and -)")
        return v


_CONDITION_CLASSES: dict[str, type[_Condition]] = {
    "ExecutionStatus": ExecutionStatus,
    "ExecutionFlow": ExecutionFlow,
    "ExecutionNamespace": ExecutionNamespace,
    "Expression": Expression,
    "ExecutionOutputs": ExecutionOutputs,
    "ExecutionLabels": ExecutionLabels,
    "Not": Not,
    "Or": Or,
    "HasRetryAttempt": HasRetryAttempt,
    "DayWeek": DayWeek,
    "DayWeekInMonth": DayWeekInMonth,
    "DateTimeBetween": DateTimeBetween,
    "TimeBetween": TimeBetween,
    "Weekend": Weekend,
    "PublicHoliday": PublicHoliday,
}


def _condition_names() -> dict[str, str]:
    """Every accepted type name -> the canonical one."""
    names: dict[str, str] = {}
    for short in _CONDITION_CLASSES:
        canonical = _CORE + short
        names[canonical] = canonical
        names[f"{_CORE}{short}Condition"] = canonical
        names[f"{_LEGACY}{short}Condition"] = canonical
    # Expression was VariableCondition before it was ExpressionCondition.
    names[_LEGACY + "VariableCondition"] = _CORE + "Expression"
    # Deprecated classes that keep their own names.
    for short in ("FlowCondition", "FlowNamespaceCondition"):
        names[_CORE + short] = _CORE + short
        names[_LEGACY + short] = _CORE + short
    names[_CORE + "MultipleCondition"] = _CORE + "MultipleCondition"
    names[_LEGACY + "MultipleCondition"] = _CORE + "MultipleCondition"
    for cls in STREAK_CONDITIONS:
        names[_LANNER + cls.__name__] = _LANNER + cls.__name__
    return names


CONDITION_NAMES: dict[str, str] = _condition_names()

_BY_CANONICAL: dict[str, type[_Condition]] = {
    **{_CORE + short: cls for short, cls in _CONDITION_CLASSES.items()},
    _CORE + "FlowCondition": FlowCondition,
    _CORE + "FlowNamespaceCondition": FlowNamespaceCondition,
    _CORE + "MultipleCondition": MultipleCondition,
    **{_LANNER + cls.__name__: cls for cls in STREAK_CONDITIONS},
}

CONDITION_TYPES: dict[str, type[Model]] = {
    name: _BY_CANONICAL[canonical] for name, canonical in CONDITION_NAMES.items()
}
"""Every condition type name and alias -> its model (for 'did you mean' suggestions)."""


def known_type(value: Any, names: Mapping[str, str], kind: str) -> Any:
    """Reject a missing or unknown `type` with a message that helps fix it.

    Runs before the union so that the error names the bad type, suggests the
    closest known name, and lists the canonical ones.
    """
    if not isinstance(value, dict):
        return value
    raw = value.get("type")
    if raw is None:
        raise ValueError(f"missing required property 'type' (the {kind} type)")
    if not isinstance(raw, str) or raw not in names:
        raise ValueError(unknown_type_message(raw, names, kind))
    return value


def unknown_type_message(raw: Any, names: Mapping[str, str], kind: str) -> str:
    """What to say of an unknown `type`: the closest known name, and the valid ones."""
    by_case = {n.lower(): n for n in names}
    close = [by_case[str(raw).lower()]] if str(raw).lower() in by_case else []
    close = close or difflib.get_close_matches(str(raw), list(names), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    valid = ", ".join(sorted(set(names.values())))
    return f"unknown {kind} type '{raw}'{hint} (valid types: {valid})"


def _condition_tag(value: Any) -> str | None:
    raw = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if not isinstance(raw, str):
        return None
    # An unknown name is returned as is so the error message names it.
    return CONDITION_NAMES.get(raw, raw)


Condition = Annotated[
    Annotated[ExecutionStatus, Tag(_CORE + "ExecutionStatus")]
    | Annotated[ExecutionFlow, Tag(_CORE + "ExecutionFlow")]
    | Annotated[ExecutionNamespace, Tag(_CORE + "ExecutionNamespace")]
    | Annotated[Expression, Tag(_CORE + "Expression")]
    | Annotated[ExecutionOutputs, Tag(_CORE + "ExecutionOutputs")]
    | Annotated[ExecutionLabels, Tag(_CORE + "ExecutionLabels")]
    | Annotated[Not, Tag(_CORE + "Not")]
    | Annotated[Or, Tag(_CORE + "Or")]
    | Annotated[HasRetryAttempt, Tag(_CORE + "HasRetryAttempt")]
    | Annotated[DayWeek, Tag(_CORE + "DayWeek")]
    | Annotated[DayWeekInMonth, Tag(_CORE + "DayWeekInMonth")]
    | Annotated[DateTimeBetween, Tag(_CORE + "DateTimeBetween")]
    | Annotated[TimeBetween, Tag(_CORE + "TimeBetween")]
    | Annotated[Weekend, Tag(_CORE + "Weekend")]
    | Annotated[PublicHoliday, Tag(_CORE + "PublicHoliday")]
    | Annotated[FlowCondition, Tag(_CORE + "FlowCondition")]
    | Annotated[FlowNamespaceCondition, Tag(_CORE + "FlowNamespaceCondition")]
    | Annotated[MultipleCondition, Tag(_CORE + "MultipleCondition")]
    | Annotated[ConsecutiveFailures, Tag(_LANNER + "ConsecutiveFailures")]
    | Annotated[FlowRecovered, Tag(_LANNER + "FlowRecovered")],
    Discriminator(_condition_tag),
    BeforeValidator(lambda v: known_type(v, CONDITION_NAMES, "condition")),
]
"""A condition of any type, as a pydantic field type; errors keep their locations."""

# Not, Or and MultipleCondition refer to `Condition`: their forward
# references resolve when they are first used (defer_build).


DATE_CONDITIONS = ("DayWeek", "DayWeekInMonth", "Weekend", "TimeBetween", "DateTimeBetween")
"""The conditions a Schedule, a polling or a realtime trigger evaluates against a date
(Kestra's "schedule conditions"); with Expression, Not and Or, all those triggers have."""


def date_condition_problem(condition: Model, trigger: str) -> str | None:
    """Why `trigger` ("a Schedule", "a polling trigger", ...) cannot evaluate `condition`,
    or None: those triggers have a date and no upstream execution."""
    if isinstance(condition, Not | Or):
        for inner in condition.conditions:
            problem = date_condition_problem(inner, trigger)
            if problem is not None:
                return problem
        return None
    name = type(condition).__name__
    if name in DATE_CONDITIONS or isinstance(condition, Expression):
        return None
    if isinstance(condition, PublicHoliday):
        return "'PublicHoliday' is not supported here: no holiday calendar is shipped"
    return (
        f"'{name}' is not supported here on {trigger}: it needs an upstream execution;"
        f" {trigger} evaluates {', '.join(DATE_CONDITIONS)}, Expression, Not and Or"
    )


def streak_conditions(conditions: Sequence[Model]) -> list[Model]:
    """The streak conditions among `conditions`, Not and Or walked."""
    found: list[Model] = []
    for condition in conditions:
        if isinstance(condition, STREAK_CONDITIONS):
            found.append(condition)
        elif isinstance(condition, Not | Or):
            found.extend(streak_conditions(condition.conditions))
    return found


def streak_holds(condition: Model, history: Sequence[str]) -> bool:
    """A streak condition against the terminal states of the upstream's flow, oldest
    first, the upstream's own last."""
    if not history:
        return False
    if isinstance(condition, ConsecutiveFailures):
        run = 0
        for state in reversed(history):
            if state not in condition.states:
                break
            run += 1
        return run == condition.count
    if isinstance(condition, FlowRecovered):
        return (
            len(history) >= 2
            and history[-1] in condition.states
            and history[-2] in condition.failedStates
        )
    raise TypeError(f"{getattr(condition, 'type', condition)!r} is not a streak condition")


def canonical_condition_type(condition: Model) -> str:
    """The Kestra 1.x name of a condition, whichever alias the flow used."""
    return CONDITION_NAMES[getattr(condition, "type")]  # noqa: B009


def condition_matches(
    condition: Model,
    upstream: Mapping[str, Any],
    render_truthy: Callable[[str], bool],
) -> bool:
    """Evaluate a condition against an upstream execution (Flow trigger, SPEC §7.2).

    `upstream` holds `namespace`, `flowId`, `state`, `labels` ({key: value})
    and `outputs`. `render_truthy` renders an expression in the upstream
    context and says whether the condition holds (for Expression: false only
    when blank or exactly `false`). Conditions that need a clock or a stored
    window (time conditions, MultipleCondition, HasRetryAttempt) raise
    TypeError: the trigger runtime evaluates those.
    """
    state = str(upstream.get("state", ""))
    namespace = str(upstream.get("namespace", ""))
    if isinstance(condition, ExecutionStatus):
        if condition.in_ is not None and state not in condition.in_:
            return False
        return not (condition.notIn is not None and state in condition.notIn)
    if isinstance(condition, ExecutionFlow | FlowCondition):
        return namespace == condition.namespace and upstream.get("flowId") == condition.flowId
    if isinstance(condition, ExecutionNamespace):
        comparison = condition.comparison or (
            NamespaceComparison.PREFIX if condition.prefix else NamespaceComparison.EQUALS
        )
        if comparison is NamespaceComparison.PREFIX:
            return namespace.startswith(condition.namespace)
        if comparison is NamespaceComparison.SUFFIX:
            return namespace.endswith(condition.namespace)
        return namespace == condition.namespace
    if isinstance(condition, FlowNamespaceCondition):
        if condition.prefix:
            return namespace.startswith(condition.namespace)
        return namespace == condition.namespace
    if isinstance(condition, Expression):
        return render_truthy(condition.expression)
    if isinstance(condition, ExecutionOutputs):
        # Kestra: false without evaluating when the upstream has no outputs.
        return bool(upstream.get("outputs")) and render_truthy(condition.expression)
    if isinstance(condition, ExecutionLabels):
        labels = upstream.get("labels") or {}
        return all(k in labels and str(labels[k]) == str(v) for k, v in condition.labels.items())
    if isinstance(condition, Not):
        return not any(condition_matches(c, upstream, render_truthy) for c in condition.conditions)
    if isinstance(condition, Or):
        return any(condition_matches(c, upstream, render_truthy) for c in condition.conditions)
    raise TypeError(
        f"{getattr(condition, 'type', condition)!r} is not evaluated against an upstream execution"
    )
