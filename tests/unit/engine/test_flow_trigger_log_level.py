"""A Flow trigger's `logLevel` keeps only its log lines at or above it: its
warnings ("Failed to trigger flow ...") are WARN lines."""

from __future__ import annotations

import pytest

from tests.unit.engine.flowtrigger_support import FLOW_TRIGGER, evaluate, listener, upstream


def _unknown_input(log_level: str | None) -> str:
    level = f"\n  logLevel: {log_level}" if log_level else ""
    return f"""
- id: t
  type: {FLOW_TRIGGER}{level}
  inputs:
    nope: 1
"""


@pytest.mark.parametrize(("log_level", "shown"), [(None, 1), ("WARN", 1), ("ERROR", 0)])
def test_a_trigger_warning_is_kept_at_or_above_the_log_level(
    log_level: str | None, shown: int
) -> None:
    outcome = evaluate(upstream(), listener(_unknown_input(log_level)))
    assert outcome.executions == ()
    assert len(outcome.warnings) == shown
