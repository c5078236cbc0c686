"""uuid()/randomInt() are seeded from a stable digest (issue 7 §7): a cycle replayed
by another process renders the same values, whatever PYTHONHASHSEED it runs with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lanner.engine.planner import render_seed

ROOT = Path(__file__).resolve().parents[3]

# Plans the first cycle of a fixed execution and prints the rendered properties.
_SCRIPT = """
import json
from lanner.engine.events import Dispatch, Start
from lanner.engine.flowindex import FlowIndex
from lanner.engine.execution import Execution, History
from lanner.engine.planner import PlanContext, Planner
from lanner.model.states import State
from lanner.expr import ExpressionEngine
from tests.unit.engine.support import T0, load

flow = load('''
tasks:
  - id: draw
    type: Return
    format: "{{ uuid() }} {{ randomInt(0, 1000000000) }}"
''')
execution = Execution(
    id="fixedExecutionId0000001", namespace=flow.namespace, flow_id=flow.id,
    flow_revision=1, state=State.CREATED, histories=(History(State.CREATED, T0),),
)
planner = Planner(FlowIndex(flow), ExpressionEngine())
decision = planner.plan(execution, [Start()], PlanContext(now=T0, seed=42))
[dispatch] = [c for c in decision.commands if isinstance(c, Dispatch)]
print(json.dumps(dict(dispatch.properties)))
"""


def _plan_in_a_process(hash_seed: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, str] = json.loads(done.stdout)
    return result


def test_the_same_cycle_in_two_processes_renders_the_same_uuid_and_random_int() -> None:
    first = _plan_in_a_process("1")
    second = _plan_in_a_process("2")
    assert first == second
    uuid, number = first["format"].split()
    assert len(uuid) == 36 and 0 <= int(number) < 1_000_000_000


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((42, "run1", ""), (43, "run1", "")),  # another cycle
        ((42, "run1", ""), (42, "run2", "")),  # another task run
        ((42, "run1", ""), (42, "run1", "runIf")),  # another purpose
        ((42, "ab", "c"), (42, "a", "bc")),  # parts are separated, not concatenated
    ],
)
def test_render_seed_differs_with_each_part(
    a: tuple[int, str, str], b: tuple[int, str, str]
) -> None:
    assert render_seed(*a) != render_seed(*b)


def test_render_seed_is_a_32_bit_value() -> None:
    assert 0 <= render_seed(42, "run", "") <= 0xFFFFFFFF
