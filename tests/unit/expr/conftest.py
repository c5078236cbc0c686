"""Shared fixtures for the expression tests: one engine, one sample scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from lanner.expr import ExpressionEngine, Scope

NOW = dt.datetime(2025, 1, 2, 10, 30, 15, 123456, tzinfo=dt.UTC)

VARIABLES: dict[str, Any] = {
    "flow": {"id": "hello", "namespace": "company.team"},
    "execution": {"id": "exec1", "state": "RUNNING", "startDate": "2025-01-02T10:00:00.123456Z"},
    "task": {"id": "t1", "type": "io.kestra.plugin.core.log.Log"},
    "outputs": {"first": {"value": "abc", "n": 3, "nothing": None, "items": [1, 2, 3]}},
    "inputs": {"name": "World", "count": 7, "flag": True, "empty": "", "blank": "  "},
    "vars": {"template": "{{ inputs.name }}", "nested": "{{ vars.template }}"},
    "labels": {"team": "data"},
    "xs": [3, 1, 2],
    "m": {"a": 1, "b": [1, 2]},
}


@pytest.fixture(scope="session")
def engine() -> ExpressionEngine:
    return ExpressionEngine()


@pytest.fixture
def scope() -> Scope:
    return Scope(variables=VARIABLES, now=NOW, seed=42, task_id=None)


@pytest.fixture
def render(engine: ExpressionEngine, scope: Scope) -> Callable[[str], str]:
    return lambda template: engine.render(template, scope)
