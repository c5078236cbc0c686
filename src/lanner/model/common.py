"""Building blocks shared by the flow, task, trigger and input models.

Kestra properties are dynamic: most may be given as a `{{ ... }}` expression
rendered at run time. Types here accept either a literal that is valid now
or a string holding an expression, which is checked when it is rendered.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from lanner.model.limits import MAX_DURATION_DAYS

FLOW_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
NAMESPACE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
TASK_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")
INPUT_ID_RE = re.compile(r"^[a-zA-Z0-9][.a-zA-Z0-9_-]*$")

_DURATION_RE = re.compile(
    r"^(?P<sign>[-+]?)P(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$",
    re.IGNORECASE,
)


_UNIT_SECONDS = {"days": 86_400.0, "hours": 3_600.0, "minutes": 60.0, "seconds": 1.0}


def is_label_key(key: str) -> bool:
    """Kestra's `^[\\p{Ll}][\\p{L}0-9._-]*$`: a lower-case letter, then letters, digits, . _ -."""
    return (
        bool(key)
        and key[0].islower()
        and all(c.isalpha() or c.isdigit() or c in "._-" for c in key)
    )


def is_dynamic(value: Any) -> bool:
    """True when a string holds a Pebble expression to render at run time."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration as Java's Duration.parse accepts it (PnDTnHnMn.nS)."""
    m = _DURATION_RE.match(text.strip())
    if not m or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise ValueError(f"'{text}' is not an ISO-8601 duration (for example PT5S, PT1M30S, P1D)")
    parts = {k: float(v.replace(",", ".")) for k, v in m.groupdict().items() if v and k != "sign"}
    seconds = sum(parts.get(unit, 0.0) * size for unit, size in _UNIT_SECONDS.items())
    # Checked before any arithmetic: a timedelta (or a date plus it) would overflow.
    if not seconds <= MAX_DURATION_DAYS * 86_400:
        raise ValueError(
            f"'{text.strip()[:40]}' is longer than the longest duration allowed, "
            f"P{MAX_DURATION_DAYS}D (limit, see docs/limits.md)"
        )
    delta = timedelta(seconds=seconds)
    return -delta if m.group("sign") == "-" else delta


def format_duration(delta: timedelta) -> str:
    """Java's Duration.toString() form, e.g. PT1M30S, PT0.25S."""
    total = delta.total_seconds()
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rem = divmod(total, 3600)
    minutes, seconds = divmod(rem, 60)
    out = "PT"
    if hours:
        out += f"{int(hours)}H"
    if minutes:
        out += f"{int(minutes)}M"
    if seconds or out == "PT":
        out += f"{seconds:g}S" if seconds != int(seconds) else f"{int(seconds)}S"
    return sign + out


def _check_duration(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError("expected an ISO-8601 duration string such as PT5S")
    if is_dynamic(value):
        return value
    parse_duration(value)
    return value


def _to_str(value: Any) -> Any:
    """Kestra coerces scalars given to string properties (runIf: true -> "true")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _dynamic_int(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected an integer")
    if isinstance(value, int) or is_dynamic(value):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueError("expected an integer or a {{ expression }}")


def _dynamic_bool(value: Any) -> Any:
    if isinstance(value, bool) or is_dynamic(value):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError("expected true, false or a {{ expression }}")


DurationLike = Annotated[str, BeforeValidator(_check_duration)]
"""An ISO-8601 duration, or an expression that renders to one."""


def _check_static_duration(value: Any) -> Any:
    if isinstance(value, str) and is_dynamic(value):
        raise ValueError(
            "expected an ISO-8601 duration such as PT5S (this property is not rendered)"
        )
    return _check_duration(value)


StaticDuration = Annotated[str, BeforeValidator(_check_static_duration)]
"""An ISO-8601 duration given literally (Kestra types it java.time.Duration: never rendered)."""

Text = Annotated[str, BeforeValidator(_to_str)]
"""A string property; plain scalars are accepted and kept as their text."""

DynamicInt = Annotated[int | str, AfterValidator(_dynamic_int)]
DynamicBool = Annotated[bool | str, AfterValidator(_dynamic_bool)]


class Model(BaseModel):
    """Base of every model read from a flow: strict about unknown keys, frozen."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        # Build each model's validator on first use: a run touches a few of the
        # many task, input and trigger models, and building them all at import
        # would dominate the start-up of `lanner run`.
        defer_build=True,
    )
