"""Triggers (SPEC §1.1, §7): what starts an execution without a person asking.

Three trigger types are modelled with their Kestra names and legacy aliases:
Schedule (a cron expression), Flow (another flow's execution changed state)
and Webhook (an HTTP call). They are validated when the flow is loaded; the
runtime fires them. The pure helpers at the end decide whether a Flow
trigger listens to an upstream state (conditions are in
:mod:`lanner.model.conditions`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from lanner.model.brokers import (
    AMQP,
    BATCH_TRIGGERS,
    MQTT,
    NATS,
    REALTIME_ALIASES,
    REALTIME_TRIGGERS,
    REDIS,
    AmqpBatchProperties,
    AmqpRealtimeTrigger,
    MqttBatchProperties,
    MqttRealtimeTrigger,
    NatsBatchProperties,
    NatsRealtimeTrigger,
    RedisListBatchProperties,
    RedisListRealtimeTrigger,
)
from lanner.model.common import TASK_ID_RE, DurationLike, Model, Text
from lanner.model.conditions import (
    CONDITION_TYPES,
    TERMINATED_STATES,
    Condition,
    MultipleCondition,
    Not,
    Or,
    PublicHoliday,
    StateName,
    TimeWindow,
    date_condition_problem,
    known_type,
    label_map,
)
from lanner.model.conditions import condition_matches as condition_matches
from lanner.model.polltriggers import (
    HTTP_TRIGGER,
    HTTP_TRIGGER_ALIASES,
    JDBC_TRIGGERS,
    S3_TRIGGER,
    HttpTriggerProperties,
    JdbcTriggerProperties,
    S3TriggerProperties,
)
from lanner.model.unsupported import unsupported

__all__ = [
    "CONDITION_TYPES",
    "DEFAULT_FLOW_TRIGGER_STATES",
    "TRIGGER_TYPES",
    "Condition",
    "FlowTrigger",
    "PollingTrigger",
    "Schedule",
    "Trigger",
    "TriggerBase",
    "Webhook",
    "check_cron",
    "check_triggers",
    "condition_matches",
    "flow_trigger_states_match",
]

Path = tuple[str | int, ...]

_CORE = "io.kestra.plugin.core.trigger."
_LEGACY = "io.kestra.core.models.triggers.types."

# Kestra's cron nicknames (cron-utils `withSupportedNickname*`); croniter knows them too.
CRON_NICKNAMES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)

_FLOW_TRIGGER_REASONS = {
    "stopAfter": "a Flow trigger is never disabled by the executions it starts",
    "workerGroup": "worker groups are a Kestra Enterprise feature",
    "logToFile": "a Flow trigger writes no logs of its own",
    "allowConcurrent": "a Flow trigger starts one execution per matching upstream"
    " execution whatever runs already (`allowConcurrent: true`); limit runs with the"
    " flow's `concurrency`",
    "failOnTriggerError": "a Flow trigger has no evaluation of its own that can fail",
}

_SCHEDULE_REASONS = {
    "backfill": "the deprecated `backfill` property is not read; start a backfill with"
    " `lanner triggers backfill NAMESPACE FLOW TRIGGER --start ... --end ...`",
    "interval": "the deprecated `interval` is not read; give the schedule as a `cron` expression",
    "allowConcurrent": "a Schedule creates each date's execution whatever runs already"
    " (`allowConcurrent: true`); limit runs with the flow's `concurrency`",
    "failOnTriggerError": "a Schedule has no evaluation that can fail",
    "workerGroup": "worker groups are a Kestra Enterprise feature",
    "logToFile": "a Schedule writes no logs of its own",
}

_WEBHOOK_REASONS = {
    "stopAfter": "a Webhook keeps no trigger state to disable (as in Kestra, whose scheduler"
    " never evaluates it); disable it with `disabled: true`",
    "allowConcurrent": "each call starts one execution whatever runs already"
    " (`allowConcurrent: true`); limit runs with the flow's `concurrency`",
    "failOnTriggerError": "a Webhook has no evaluation that can fail: a call it cannot"
    " serve is answered with an error",
    "workerGroup": "worker groups are a Kestra Enterprise feature",
    "logToFile": "a Webhook writes no logs of its own",
}

DEFAULT_FLOW_TRIGGER_STATES: frozenset[str] = TERMINATED_STATES | {"PAUSED"}
"""What a Flow trigger listens to when `states` is not given (SPEC §7.1)."""


class LogLevel(StrEnum):
    ERROR = "ERROR"
    WARN = "WARN"
    INFO = "INFO"
    DEBUG = "DEBUG"
    TRACE = "TRACE"


class WorkerGroup(Model):
    key: Text | None = None
    fallback: Literal["FAIL", "WAIT", "CANCEL"] | None = None


class _Trigger(Model):
    """Properties every trigger has (Kestra's AbstractTrigger, 1.3)."""

    id: Annotated[str, Field(min_length=1, max_length=256)]
    type: str
    version: str | None = None
    description: Text | None = None
    conditions: list[Condition] | None = None
    disabled: bool = False
    workerGroup: WorkerGroup | None = None
    logLevel: LogLevel | None = None
    labels: Annotated[dict[str, Text] | None, BeforeValidator(label_map)] = None
    stopAfter: list[StateName] | None = None
    logToFile: bool = False
    failOnTriggerError: bool = False
    allowConcurrent: bool = False
    assets: Any = None

    @model_validator(mode="before")
    @classmethod
    def _old_log_level(cls, data: Any) -> Any:
        # `minLogLevel` is the pre-0.x name of `logLevel`.
        if isinstance(data, dict) and "minLogLevel" in data:
            if "logLevel" in data:
                raise ValueError("give logLevel or its old name minLogLevel, not both")
            data = {**data, "logLevel": data["minLogLevel"]}
            del data["minLogLevel"]
        return data

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not TASK_ID_RE.match(v):
            raise ValueError(
                f"'{v}' is not a valid trigger id: start with a letter or digit, "
                "then letters, digits, _ or -"
            )
        return v


class RecoverMissedSchedules(StrEnum):
    ALL = "ALL"
    LAST = "LAST"
    NONE = "NONE"


def check_cron(cron: str, with_seconds: bool = False) -> None:
    """Raise ValueError unless `cron` is a cron expression Kestra accepts.

    Five fields (minute hour day-of-month month day-of-week), or six with
    `withSeconds: true` where the seconds come first (cron-utils' order),
    or one of Kestra's nicknames such as `@daily`.
    """
    text = cron.strip()
    if text.lower() in CRON_NICKNAMES:
        return
    if text.startswith("@"):
        raise ValueError(
            f"unknown cron nickname '{text}' (use one of {', '.join(sorted(CRON_NICKNAMES))})"
        )
    fields = text.split()
    expected = 6 if with_seconds else 5
    if len(fields) != expected:
        hint = " (set withSeconds: true for a seconds field)" if len(fields) == 6 else ""
        raise ValueError(
            f"'{cron}' has {len(fields)} fields; a cron expression has {expected}"
            f"{' (seconds first)' if with_seconds else ''}{hint}"
        )
    from croniter import croniter  # imported here: it is slow to import and rarely needed

    if not croniter.is_valid(text, second_at_beginning=with_seconds):
        raise ValueError(f"'{cron}' is not a valid cron expression")


class Schedule(_Trigger):
    # Declared before `cron` so that the cron check can read it.
    withSeconds: bool = False
    cron: str
    timezone: str | None = None
    inputs: dict[str, Any] | None = None
    lateMaximumDelay: DurationLike | None = None
    backfill: dict[str, Any] | None = (
        None  # deprecated in Kestra: backfills are started from the UI
    )
    recoverMissedSchedules: RecoverMissedSchedules | None = None
    scheduleConditions: list[Condition] | None = None  # deprecated name of `conditions`
    interval: Any = None  # deprecated in Kestra, rejected below

    # Schedule triggers fire (runtime/triggers.py): what they do not implement is
    # rejected rather than ignored.
    _schedule_not_supported = unsupported(
        "workerGroup",
        "logToFile",
        "assets",
        "version",
        "backfill",
        "interval",
        "allowConcurrent",
        "failOnTriggerError",
        reasons=_SCHEDULE_REASONS,
    )

    @model_validator(mode="after")
    def _evaluable_conditions(self) -> Schedule:
        for name in ("conditions", "scheduleConditions"):
            for i, cond in enumerate(getattr(self, name) or ()):
                problem = date_condition_problem(cond, "a Schedule")
                if problem is not None:
                    raise ValueError(f"{name}[{i}]: {problem}")
        return self

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{v}' is not a time zone identifier such as Europe/Paris") from None
        return v

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str, info: ValidationInfo) -> str:
        check_cron(v, bool(info.data.get("withSeconds", False)))
        return v


# ---- Flow trigger preconditions (SPEC §7.3)


class UpstreamFlow(Model):
    namespace: str
    flowId: str | None = None
    states: list[StateName] | None = None
    labels: dict[str, Any] | None = None


class FilterField(StrEnum):
    FLOW_ID = "FLOW_ID"
    NAMESPACE = "NAMESPACE"
    STATE = "STATE"
    EXPRESSION = "EXPRESSION"


class FilterType(StrEnum):
    EQUAL_TO = "EQUAL_TO"
    NOT_EQUAL_TO = "NOT_EQUAL_TO"
    IN = "IN"
    NOT_IN = "NOT_IN"
    IS_TRUE = "IS_TRUE"
    IS_FALSE = "IS_FALSE"
    IS_NULL = "IS_NULL"
    IS_NOT_NULL = "IS_NOT_NULL"
    STARTS_WITH = "STARTS_WITH"
    ENDS_WITH = "ENDS_WITH"
    REGEX = "REGEX"
    CONTAINS = "CONTAINS"


_NEEDS_VALUE = {
    FilterType.EQUAL_TO,
    FilterType.NOT_EQUAL_TO,
    FilterType.STARTS_WITH,
    FilterType.ENDS_WITH,
    FilterType.REGEX,
    FilterType.CONTAINS,
}
_NEEDS_VALUES = {FilterType.IN, FilterType.NOT_IN}


class Filter(Model):
    field: FilterField
    type: FilterType
    value: Text | None = None
    values: list[Text] | None = None

    @model_validator(mode="after")
    def _operands(self) -> Filter:
        # Kestra's PreconditionFilterValidation: the operand each type needs.
        if self.type in _NEEDS_VALUE and self.value is None:
            raise ValueError(f"filter type {self.type} needs `value`")
        if self.type in _NEEDS_VALUES and not self.values:
            raise ValueError(f"filter type {self.type} needs `values`")
        if self.field is FilterField.EXPRESSION and self.value is None:
            raise ValueError("an EXPRESSION filter needs the expression in `value`")
        if self.type is FilterType.REGEX and self.value is not None:
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression '{self.value}': {exc}") from None
        return self


class ExecutionFilter(Model):
    id: Annotated[str, Field(min_length=1)]
    operand: Literal["AND", "OR"] = "AND"
    filters: Annotated[list[Filter], Field(min_length=1)]


class Preconditions(Model):
    id: str
    flows: list[UpstreamFlow] | None = None
    where: list[ExecutionFilter] | None = None
    timeWindow: TimeWindow = Field(default_factory=TimeWindow)
    resetOnSuccess: bool = True

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not TASK_ID_RE.match(v):
            raise ValueError(f"'{v}' is not a valid preconditions id (letters, digits, _ and -)")
        return v


class FlowTrigger(_Trigger):
    inputs: dict[str, Any] | None = None
    states: list[StateName] | None = None
    preconditions: Preconditions | None = None

    # Flow triggers fire now (the others only validate, until they fire too):
    # what they do not implement is rejected rather than ignored.
    _flow_trigger_not_supported = unsupported(
        "workerGroup",
        "logToFile",
        "assets",
        "version",
        "stopAfter",
        "allowConcurrent",
        "failOnTriggerError",
        reasons=_FLOW_TRIGGER_REASONS,
    )

    @field_validator("states")
    @classmethod
    def _no_created(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and "CREATED" in v:
            # SPEC §7.1: a Flow trigger reacts to state changes; CREATED is none.
            raise ValueError("a Flow trigger cannot listen to CREATED: it is not a state change")
        return v


class Webhook(_Trigger):
    key: Annotated[str, Field(min_length=1, max_length=256)]
    inputs: dict[str, Any] | None = None
    wait: bool = False
    returnOutputs: bool = False
    responseContentType: Literal["application/json", "text/plain"] | None = None

    # The endpoint serves a Webhook (api/webhook.py): what it does not implement is
    # rejected rather than ignored.
    _webhook_not_supported = unsupported(
        "workerGroup",
        "logToFile",
        "assets",
        "version",
        "stopAfter",
        "allowConcurrent",
        "failOnTriggerError",
        reasons=_WEBHOOK_REASONS,
    )

    @field_validator("key")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("key must not be blank")
        return v

    @model_validator(mode="after")
    def _no_multiple(self) -> Webhook:
        # Kestra's docs: webhook conditions are allowed, except MultipleCondition.
        if any(isinstance(c, MultipleCondition) for c in self.conditions or ()):
            raise ValueError("a Webhook trigger cannot use a MultipleCondition")
        return self


class _PollingTrigger(_Trigger):
    """A polling trigger's `conditions` are checked at each evaluation, before it polls
    (docs/triggers.md): against its date, as a Schedule's."""

    @model_validator(mode="after")
    def _evaluable_conditions(self) -> _PollingTrigger:
        for i, cond in enumerate(self.conditions or ()):
            problem = date_condition_problem(cond, "a polling trigger")
            if problem is not None:
                raise ValueError(f"conditions[{i}]: {problem}")
        return self


TriggerBase = _Trigger
"""The properties every trigger has: the base of a plugin's realtime trigger model."""
PollingTrigger = _PollingTrigger
"""The base of a plugin's polling trigger model (`lanner.triggers` entry points,
docs/triggers.md "Trigger types of plugins"); its own properties come first in the
bases, as the polling triggers below do, when it rejects common ones."""


# Polling triggers (runtime/polltrigger.py): their own properties first, so that
# what they reject (allowConcurrent, ...) wins over the common fields.
class S3Trigger(S3TriggerProperties, _PollingTrigger):
    """io.kestra.plugin.aws.s3.Trigger (docs/tasks-s3.md)."""


class JdbcTrigger(JdbcTriggerProperties, _PollingTrigger):
    """io.kestra.plugin.jdbc.<family>.Trigger (docs/tasks-jdbc.md)."""


class HttpTrigger(HttpTriggerProperties, _PollingTrigger):
    """io.kestra.plugin.core.http.Trigger (docs/triggers.md, "HTTP Trigger")."""


class AmqpTrigger(AmqpBatchProperties, _PollingTrigger):
    """io.kestra.plugin.amqp.Trigger (docs/tasks-brokers.md, "Batch triggers")."""


class RedisListTrigger(RedisListBatchProperties, _PollingTrigger):
    """io.kestra.plugin.redis.list.Trigger (docs/tasks-brokers.md, "Batch triggers")."""


class MqttTrigger(MqttBatchProperties, _PollingTrigger):
    """io.kestra.plugin.mqtt.Trigger (docs/tasks-brokers.md, "Batch triggers")."""


class NatsTrigger(NatsBatchProperties, _PollingTrigger):
    """io.kestra.plugin.nats.Trigger (docs/tasks-brokers.md, "Batch triggers")."""


TRIGGER_NAMES: dict[str, str] = {
    **{_CORE + n: _CORE + n for n in ("Schedule", "Flow", "Webhook")},
    **{_LEGACY + n: _CORE + n for n in ("Schedule", "Flow", "Webhook")},
    S3_TRIGGER: S3_TRIGGER,
    **{name: name for name in JDBC_TRIGGERS},
    HTTP_TRIGGER: HTTP_TRIGGER,
    **HTTP_TRIGGER_ALIASES,
    # Message brokers' batch and realtime triggers (model/brokers.py).
    **BATCH_TRIGGERS,
    **{name: name for name in REALTIME_TRIGGERS},
    **REALTIME_ALIASES,
}
"""Every accepted trigger type name -> the canonical one."""

_BY_CANONICAL: dict[str, type[_Trigger]] = {
    _CORE + "Schedule": Schedule,
    _CORE + "Flow": FlowTrigger,
    _CORE + "Webhook": Webhook,
    S3_TRIGGER: S3Trigger,
    **dict.fromkeys(JDBC_TRIGGERS, JdbcTrigger),
    HTTP_TRIGGER: HttpTrigger,
    AMQP + "Trigger": AmqpTrigger,
    REDIS + "list.Trigger": RedisListTrigger,
    MQTT + "Trigger": MqttTrigger,
    NATS + "Trigger": NatsTrigger,
}
_BY_CANONICAL_ANY: dict[str, type[Model]] = {**_BY_CANONICAL, **REALTIME_TRIGGERS}

TRIGGER_TYPES: dict[str, type[Model]] = {
    name: _BY_CANONICAL_ANY[canonical] for name, canonical in TRIGGER_NAMES.items()
}
"""Every trigger type name and alias -> its model (for 'did you mean' suggestions)."""


# One tag for the JDBC families; dotted, so that error locations leave it out.
_JDBC_TAG = "io.kestra.plugin.jdbc.Trigger"


# A trigger of a plugin type, validated by the flow loader against its plugin's model
# (model/validate.py): the union takes the instance as it is.
_PLUGIN_TAG = "plugin"


def _trigger_tag(value: Any) -> str | None:
    raw = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if not isinstance(raw, str):
        return None
    if not isinstance(value, dict) and raw not in TRIGGER_NAMES:
        return _PLUGIN_TAG
    canonical = TRIGGER_NAMES.get(raw, raw)
    return _JDBC_TAG if canonical in JDBC_TRIGGERS else canonical


def _plugin_instance(value: Any) -> Model:
    if not isinstance(value, Model):
        raise ValueError(f"unknown trigger type '{getattr(value, 'type', value)}'")
    return value


def plugin_trigger_placeholder(raw: Mapping[str, Any]) -> Model:
    """What stands for a plugin trigger that did not validate (its problems are
    reported by the loader): the flow is rejected anyway, its other rules still run."""
    tid = raw.get("id")
    return _Trigger.model_construct(id=tid if isinstance(tid, str) else "", type=str(raw["type"]))


_PluginTrigger = SkipJsonSchema[Annotated[Any, PlainValidator(_plugin_instance)]]


Trigger = Annotated[
    Annotated[Schedule, Tag(_CORE + "Schedule")]
    | Annotated[FlowTrigger, Tag(_CORE + "Flow")]
    | Annotated[Webhook, Tag(_CORE + "Webhook")]
    | Annotated[S3Trigger, Tag(S3_TRIGGER)]
    | Annotated[JdbcTrigger, Tag(_JDBC_TAG)]
    | Annotated[HttpTrigger, Tag(HTTP_TRIGGER)]
    | Annotated[AmqpTrigger, Tag(AMQP + "Trigger")]
    | Annotated[RedisListTrigger, Tag(REDIS + "list.Trigger")]
    | Annotated[MqttTrigger, Tag(MQTT + "Trigger")]
    | Annotated[NatsTrigger, Tag(NATS + "Trigger")]
    | Annotated[AmqpRealtimeTrigger, Tag("io.kestra.plugin.amqp.RealtimeTrigger")]
    | Annotated[RedisListRealtimeTrigger, Tag("io.kestra.plugin.redis.list.RealtimeTrigger")]
    | Annotated[MqttRealtimeTrigger, Tag("io.kestra.plugin.mqtt.RealtimeTrigger")]
    | Annotated[NatsRealtimeTrigger, Tag("io.kestra.plugin.nats.RealtimeTrigger")]
    | Annotated[_PluginTrigger, Tag(_PLUGIN_TAG)],
    Discriminator(_trigger_tag),
    BeforeValidator(lambda v: known_type(v, TRIGGER_NAMES, "trigger")),
]
"""A trigger of any type, as a pydantic field type; errors keep their locations."""


def canonical_trigger_type(trigger: Model) -> str:
    """The Kestra 1.x name of a trigger, whichever alias the flow used."""
    name = str(getattr(trigger, "type"))  # noqa: B009
    # A plugin's trigger: its model may say its canonical name (`canonical_type`).
    return TRIGGER_NAMES.get(name) or str(getattr(trigger, "canonical_type", name))


def check_triggers(triggers: Sequence[Model]) -> list[tuple[Path, str]]:
    """Flow-wide trigger rules (SPEC §1.4 rules 3 and 7), as (path in `triggers`, message).

    Trigger ids are unique among triggers; Flow trigger `preconditions.id`
    values are unique in the flow (they key the stored window).
    """
    problems: list[tuple[Path, str]] = []
    seen: dict[str, int] = {}
    seen_pre: dict[str, int] = {}
    for i, trigger in enumerate(triggers):
        tid = getattr(trigger, "id", None)
        if isinstance(tid, str):
            if tid in seen:
                problems.append(
                    ((i, "id"), f"Duplicate trigger id '{tid}' (also triggers[{seen[tid]}])")
                )
            else:
                seen[tid] = i
        if isinstance(trigger, FlowTrigger):
            for j, cond in enumerate(trigger.conditions or ()):
                problems.extend(_unevaluable(cond, (i, "conditions", j), nested=False))
        pre = getattr(trigger, "preconditions", None)
        if isinstance(pre, Preconditions):
            if pre.id in seen_pre:
                problems.append(
                    (
                        (i, "preconditions", "id"),
                        f"Duplicate preconditions id '{pre.id}' (also triggers[{seen_pre[pre.id]}])",
                    )
                )
            else:
                seen_pre[pre.id] = i
    return problems


def _unevaluable(cond: Model, path: Path, nested: bool) -> list[tuple[Path, str]]:
    """A Flow trigger's conditions that it cannot evaluate (rejected rather than
    taken as never met at run time): PublicHoliday (no holiday calendar is
    shipped) and a MultipleCondition inside Not or Or (a window has no
    meaning there)."""
    if isinstance(cond, PublicHoliday):
        return [(path, "'PublicHoliday' is not supported here: no holiday calendar is shipped")]
    if isinstance(cond, MultipleCondition):
        if nested:
            return [
                (
                    path,
                    "'MultipleCondition' is not supported here: nested in another condition it has no window",
                )
            ]
        return [
            p
            for key, inner in cond.conditions.items()
            for p in _unevaluable(inner, (*path, "conditions", key), nested=True)
        ]
    if isinstance(cond, Not | Or):
        return [
            p
            for k, inner in enumerate(cond.conditions)
            for p in _unevaluable(inner, (*path, "conditions", k), nested=True)
        ]
    return []


def flow_trigger_states_match(trigger: FlowTrigger, state: str) -> bool:
    """Whether a Flow trigger listens to an upstream execution now in `state` (SPEC §7.1).

    Default: every terminal state and PAUSED. CREATED never matches.
    """
    state = str(state)
    if state == "CREATED":
        return False
    states = DEFAULT_FLOW_TRIGGER_STATES if trigger.states is None else frozenset(trigger.states)
    return state in states


def upstream_labels_match(expected: Mapping[str, Any] | None, actual: Mapping[str, Any]) -> bool:
    """A precondition's `labels` match when each key is there with the same text value."""
    return all(k in actual and str(actual[k]) == str(v) for k, v in (expected or {}).items())
