"""Every example flow runs offline through `lanner run` and ends as expected."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.integration.test_run_cli import env, run_json, sink  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("run_all", ROOT / "examples" / "run_all.py")
assert _spec is not None and _spec.loader is not None
run_all = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_all)

FLOWS = sorted((ROOT / "examples" / "flows").glob("*.yml"))


def test_every_example_has_an_expected_state() -> None:
    assert {f.stem for f in FLOWS} == set(run_all.EXPECTED)


@pytest.mark.parametrize("flow", FLOWS, ids=[f.stem for f in FLOWS])
def test_example_ends_as_expected(flow: Path, env: dict[str, str]) -> None:  # noqa: F811
    _, execution = run_json(flow, env)
    assert execution["state"]["current"] == run_all.EXPECTED[flow.stem]
