"""Order.DAG (engine/dag.py): the Dag flowable through the real planner."""

from __future__ import annotations

from lanner.engine.events import Restart, Start
from lanner.model.states import State
from tests.unit.engine.support import Driver, failed, order, run, runs_of

DAG = "io.kestra.plugin.core.flow.Dag"


def _entry(task_id: str, *depends: str, extra: str = "") -> str:
    text = f"""
      - task:
          id: {task_id}
          type: Log
          message: {task_id}{extra}"""
    if depends:
        text += f"\n        dependsOn: [{', '.join(depends)}]"
    return text


def diamond(concurrent: int = 0, extra: str = "") -> str:
    entries = "".join(
        [
            _entry("task5", "task4", "task3"),  # listed first: the edges decide, not the list
            _entry("task1"),
            _entry("task2", "task1"),
            _entry("task3", "task1"),
            _entry("task4", "task2"),
        ]
    )
    return f"""
tasks:
  - id: dag
    type: {DAG}
    concurrent: {concurrent}
    tasks:{entries}
    errors:
      - id: on_error
        type: Log
        message: "{{{{ error.taskId }}}}"
  - id: after
    type: Log
    message: after
{extra}"""


def _dispatched_now(d: Driver, before: int) -> list[str]:
    return sorted(d.dispatched()[before:])


def test_each_task_starts_once_its_dependencies_succeeded() -> None:
    d = Driver.of(diamond())
    d.plan(Start())
    assert d.dispatched() == ["task1"]
    n = len(d.dispatched())
    d.plan(d.result("task1"))
    assert _dispatched_now(d, n) == ["task2", "task3"]  # together: nothing orders them
    n = len(d.dispatched())
    d.plan(d.result("task3"))
    assert _dispatched_now(d, n) == []  # task5 also waits for task4
    d.plan(d.result("task2"))
    assert _dispatched_now(d, n) == ["task4"]
    n = len(d.dispatched())
    d.plan(d.result("task4"))
    assert _dispatched_now(d, n) == ["task5"]
    n = len(d.dispatched())
    d.plan(d.result("task5"))
    assert d.run("dag").state is State.SUCCESS
    assert _dispatched_now(d, n) == ["after"]


def test_concurrent_limits_the_tasks_running_at_once() -> None:
    d = Driver.of(diamond(concurrent=1))
    d.plan(Start())
    d.plan(d.result("task1"))
    assert d.dispatched() == ["task1", "task2"]  # task3 is ready too, but one at a time
    d.plan(d.result("task2"))
    assert d.dispatched()[-1] == "task3"


def test_a_failure_starts_no_dependent_and_runs_errors() -> None:
    sim = run(diamond(), forced={"task2": failed("boom")})
    assert sim.execution.state is State.FAILED
    started = {r.task_id for r in sim.execution.task_runs.values()}
    assert "task4" not in started and "task5" not in started
    assert sim.messages("on_error") == ["task2"]
    assert "after" not in started


def test_a_disabled_or_skipped_dependency_is_met() -> None:
    body = diamond().replace(
        "          message: task2", "          message: task2\n          disabled: true"
    )
    body = body.replace(
        "          message: task3", "          message: task3\n          runIf: 'false'"
    )
    sim = run(body)
    assert sim.execution.state is State.SUCCESS
    # task4 needs only the disabled task2: it starts at once, beside task1.
    assert order(sim) == ["dag", "task1", "task4", "task3", "task5", "after"]
    assert [r.state.value for r in runs_of(sim.execution, "task3")] == ["SKIPPED"]


def test_restart_runs_the_failed_task_then_its_dependents() -> None:
    d = Driver.of(diamond())
    d.plan(Start())
    d.plan(d.result("task1"))
    d.plan(d.result("task3"))
    d.plan(d.result("task2", State.FAILED, error="boom"))
    d.plan(d.result("on_error"))
    assert d.execution.state is State.FAILED
    d.plan(Restart())
    n = len(d.dispatched())
    assert d.dispatched()[-1] == "task2"  # again, as a new attempt
    d.plan(d.result("task2"))
    assert _dispatched_now(d, n) == ["task2", "task4"][1:]
    d.plan(d.result("task4"))
    d.plan(d.result("task5"))
    d.plan(d.result("after"))
    assert d.execution.state is State.SUCCESS
    assert len(d.run("task2").attempts) == 2
