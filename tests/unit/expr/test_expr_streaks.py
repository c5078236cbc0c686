"""Lanner's consecutiveFailures() and flowRecovered(): this execution's state and the
states of its flow's ended executions before it, as the runtime's lookup gives them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lanner.errors import LannerError
from lanner.expr import ExpressionEngine, Scope

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def render(template: str, state: str, before: list[str] | None) -> str:
    asked: list[tuple[str, str, str, int]] = []

    def history(namespace: str, flow_id: str, leave_out: str, limit: int) -> list[str]:
        asked.append((namespace, flow_id, leave_out, limit))
        return list(before or [])[:limit]

    variables = {
        "flow": {"namespace": "company.team", "id": "etl"},
        "execution": {"id": "E1", "state": state},
    }
    scope = Scope(variables, NOW, flow_history=None if before is None else history)
    out = ExpressionEngine().render(template, scope)
    assert all(a[:3] == ("company.team", "etl", "E1") for a in asked)
    return out


@pytest.mark.parametrize(
    ("state", "before", "expected"),
    [
        ("FAILED", [], "1"),
        ("FAILED", ["FAILED", "FAILED", "SUCCESS", "FAILED"], "3"),
        ("SUCCESS", ["FAILED"], "0"),
        ("KILLED", ["FAILED"], "0"),
    ],
)
def test_consecutive_failures(state: str, before: list[str], expected: str) -> None:
    assert render("{{ consecutiveFailures() }}", state, before) == expected


def test_consecutive_failures_with_states() -> None:
    template = "{{ consecutiveFailures(['FAILED', 'KILLED']) }}"
    assert render(template, "KILLED", ["FAILED", "SUCCESS"]) == "2"


@pytest.mark.parametrize(
    ("state", "before", "expected"),
    [
        ("SUCCESS", ["FAILED", "FAILED"], "true"),
        ("WARNING", ["FAILED"], "true"),
        ("SUCCESS", ["SUCCESS", "FAILED"], "false"),
        ("SUCCESS", [], "false"),
        ("FAILED", ["FAILED"], "false"),
    ],
)
def test_flow_recovered(state: str, before: list[str], expected: str) -> None:
    assert render("{{ flowRecovered() }}", state, before) == expected


def test_without_the_runtime_lookup_the_render_fails() -> None:
    with pytest.raises(LannerError, match="consecutiveFailures\\(\\) is not available here"):
        render("{{ consecutiveFailures() }}", "FAILED", None)
