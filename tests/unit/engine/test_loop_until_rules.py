"""Order.UNTIL (engine/until.py): LoopUntil and its alias WaitFor, through the real planner."""

from __future__ import annotations

import itertools
from datetime import timedelta

from lanner.engine.events import Kill, LoopDue, Restart, Start
from lanner.model.states import State
from tests.unit.engine.support import Driver, failed, ok, order, run, runs_of

LOOP = "io.kestra.plugin.core.flow.LoopUntil"

COUNT_TO_FOUR = f"""
tasks:
  - id: loop
    type: {LOOP}
    condition: "{{{{ outputs.ret.value == '4' }}}}"
    checkFrequency:
      interval: PT10S
    tasks:
      - id: ret
        type: Return
        format: "{{{{ outputs.loop.iterationCount }}}}"
      - id: seen
        type: Return
        format: "{{{{ taskrun.iteration }}}}:{{{{ outputs.ret.value }}}}"
  - id: after
    type: Return
    format: "{{{{ outputs.loop.iterationCount }}}} {{{{ outputs.seen.value }}}}"
"""


def test_loops_until_the_condition_holds() -> None:
    sim = run(COUNT_TO_FOUR)
    assert sim.execution.state is State.SUCCESS
    assert order(sim) == ["loop"] + ["ret", "seen"] * 4 + ["after"]
    seen = [r.outputs["value"] for r in runs_of(sim.execution, "seen") if r.outputs]
    assert seen == ["1:1", "2:2", "3:3", "4:4"]
    assert [r.iteration for r in runs_of(sim.execution, "ret")] == [1, 2, 3, 4]
    [after] = runs_of(sim.execution, "after")
    # After the loop, a child's outputs are its last iteration's.
    assert after.outputs == {"value": "4 4:4"}
    [loop] = runs_of(sim.execution, "loop")
    assert loop.outputs == {"iterationCount": 4}


def test_iterations_wait_for_the_interval() -> None:
    sim = run(COUNT_TO_FOUR)
    starts = [r.start_date for r in runs_of(sim.execution, "ret")]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(timedelta(seconds=10) <= g < timedelta(seconds=11) for g in gaps), gaps


def test_wait_for_is_an_alias() -> None:
    sim = run(COUNT_TO_FOUR.replace(LOOP, "io.kestra.plugin.core.flow.WaitFor"))
    assert sim.execution.state is State.SUCCESS
    assert len(runs_of(sim.execution, "ret")) == 4


BOUNDED = f"""
tasks:
  - id: loop
    type: {LOOP}
    condition: "false"
    failOnMaxReached: FAIL
    checkFrequency:
      interval: PT1S
      maxIterations: 3
    tasks:
      - id: ret
        type: Return
        format: x
    errors:
      - id: on_error
        type: Log
        message: "{{{{ error.message }}}}"
"""


def test_max_iterations_ends_the_loop_in_success() -> None:
    sim = run(BOUNDED.replace("FAIL", "false"))
    assert sim.execution.state is State.SUCCESS
    assert len(runs_of(sim.execution, "ret")) == 3
    assert "Max iterations reached (3)" in sim.messages("loop")
    assert runs_of(sim.execution, "on_error") == []


def test_fail_on_max_reached_fails_and_runs_errors() -> None:
    sim = run(BOUNDED.replace("FAIL", "true"))
    assert sim.execution.state is State.FAILED
    assert [(r.task_id, r.state.value) for r in runs_of(sim.execution, "loop")] == [
        ("loop", "FAILED")
    ]
    assert sim.messages("on_error") == ["Max iterations reached (3)"]


def test_max_duration_bounds_the_loop() -> None:
    body = BOUNDED.replace("maxIterations: 3", "maxDuration: PT5S").replace("FAIL", "false")
    sim = run(body)
    assert sim.execution.state is State.SUCCESS
    # Iterations start 1 s apart; the one ending past 5 s is the last.
    assert 5 <= len(runs_of(sim.execution, "ret")) <= 7
    assert any(m.startswith("Max duration reached") for m in sim.messages("loop"))


def test_a_failed_child_ends_the_loop() -> None:
    outcomes = iter([ok(), failed("no")])  # one per iteration: each is a new task run
    sim = run(BOUNDED.replace("FAIL", "false"), forced={"ret": lambda _: next(outcomes)})
    assert sim.execution.state is State.FAILED
    assert [r.state.value for r in runs_of(sim.execution, "ret")] == ["SUCCESS", "FAILED"]
    assert sim.messages("on_error") == ["no"]


def test_condition_that_cannot_render_fails_the_loop() -> None:
    sim = run(BOUNDED.replace('"false"', '"{{ nope.missing }}"').replace("FAIL", "false"))
    assert sim.execution.state is State.FAILED
    assert len(runs_of(sim.execution, "ret")) == 1


def _between_iterations() -> tuple[Driver, LoopDue]:
    d = Driver.of(BOUNDED.replace("FAIL", "false"))
    d.plan(Start())
    d.plan(d.result("ret"))
    [timer] = d.timers()
    assert isinstance(timer.event, LoopDue)
    assert timer.at == d.now - timedelta(milliseconds=1) + timedelta(seconds=1)
    assert d.run("loop").state is State.RUNNING
    return d, timer.event


def test_the_next_iteration_is_a_timer_event() -> None:
    d, due = _between_iterations()
    assert due == LoopDue(d.run("loop").id, 1, 2)
    d.plan(due)
    assert [r.iteration for r in runs_of(d.execution, "ret")] == [1, 2]
    d.plan(due)  # delivered twice: once
    assert len(runs_of(d.execution, "ret")) == 2


def test_kill_between_iterations_ignores_the_late_timer() -> None:
    d, due = _between_iterations()
    d.plan(Kill())
    assert d.run("loop").state is State.KILLED
    d.plan(due)
    assert len(runs_of(d.execution, "ret")) == 1
    assert d.execution.state is State.KILLED


def test_restart_goes_on_in_the_iteration_that_failed() -> None:
    d, due = _between_iterations()
    d.plan(due)
    [_, second] = runs_of(d.execution, "ret")
    d.plan(d.result_of(second, State.FAILED))
    d.plan(d.result("on_error"))
    assert d.execution.state is State.FAILED
    d.plan(Restart())
    assert d.run("loop").outputs == {"iterationCount": 2}
    assert [r.iteration for r in runs_of(d.execution, "ret")] == [1, 2]
    assert runs_of(d.execution, "ret")[1].state is State.SUBMITTED


def test_a_loop_inside_a_for_each_loops_per_value() -> None:
    body = f"""
tasks:
  - id: each
    type: ForEach
    values: ["a", "b"]
    tasks:
      - id: loop
        type: {LOOP}
        condition: "{{{{ outputs.loop[taskrun.value].iterationCount == 2 }}}}"
        checkFrequency:
          interval: PT1S
        tasks:
          - id: ret
            type: Return
            format: "{{{{ parent.taskrun.value }}}}"
"""
    sim = run(body)
    assert sim.execution.state is State.SUCCESS
    assert sorted((r.value, r.outputs) for r in runs_of(sim.execution, "loop")) == [
        ("a", {"iterationCount": 2}),
        ("b", {"iterationCount": 2}),
    ]
    assert len(runs_of(sim.execution, "ret")) == 4
