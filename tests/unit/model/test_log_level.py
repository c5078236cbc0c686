"""A task's `logLevel` keeps its lines at or above the level (Kestra's order)."""

from __future__ import annotations

import pytest

from lanner.model.loglevel import LEVELS, kept
from lanner.testing import simulate


@pytest.mark.parametrize("minimum", LEVELS)
def test_a_line_is_kept_at_or_above_the_level(minimum: str) -> None:
    at = LEVELS.index(minimum)
    assert [kept(level, minimum) for level in LEVELS] == [i >= at for i in range(len(LEVELS))]


def test_no_log_level_keeps_every_line() -> None:
    assert all(kept(level, None) for level in LEVELS)


def test_a_simulated_run_drops_the_lines_below_the_level_and_keeps_errors() -> None:
    flow = """
id: f
namespace: a
tasks:
  - id: w
    type: io.kestra.plugin.core.log.Log
    logLevel: ERROR
    level: WARN
    message: hidden
  - id: t
    type: io.kestra.plugin.core.log.Log
    logLevel: ERROR
    message: "{{ nope }}"
"""
    run = simulate(flow)
    assert run.states()[0] == ("w", "SUCCESS") and run.messages("w") == []
    assert run.messages("t") and all(line.level == "ERROR" for line in run.logs)
