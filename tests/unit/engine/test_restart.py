"""SPEC §2.2 (RESTARTED), §3.4 and §4.4: restart of a failed or killed execution."""

from __future__ import annotations

import pytest

from lanner.engine.events import Cancel, Kill, Restart, Start
from lanner.engine.execution import ROOT, Phase
from lanner.model.states import State
from tests.unit.engine.support import Driver, history, runs_of

FLOW = """
tasks:
  - id: a
    type: Log
    message: a
  - id: seq
    type: Sequential
    tasks:
      - id: s1
        type: Log
        message: s1
      - id: s2
        type: Fail
    finally:
      - id: local_finally
        type: Log
        message: local
  - id: c
    type: Log
    message: c
errors:
  - id: e
    type: Log
    message: "{{ error.taskId }}"
finally:
  - id: f
    type: Log
    message: f
afterExecution:
  - id: x
    type: Log
    message: "{{ execution.state }}"
"""


def failed_run() -> Driver:
    d = Driver.of(FLOW)
    d.plan(Start())
    for task_id in ("a", "s1"):
        d.plan(d.result(task_id))
    d.plan(d.result("s2", State.FAILED, error="boom"))
    for task_id in ("local_finally", "e", "f", "x"):
        d.plan(d.result(task_id))
    assert d.execution.state is State.FAILED
    assert d.execution.finalized_at is not None
    return d


def test_restart_failed_execution_runs_failed_task_again() -> None:
    d = failed_run()
    old_handlers = {d.run(t).id for t in ("local_finally", "e", "f", "x")}
    decision = d.plan(Restart())
    assert history(d.execution)[-3:] == ["FAILED", "RESTARTED", "RUNNING"]
    assert d.execution.terminal_at is None and d.execution.finalized_at is None
    assert d.execution.error is None
    assert decision.deleted == old_handlers
    s2 = d.run("s2")
    assert s2.state is State.SUBMITTED
    assert len(s2.attempts) == 2
    assert [h.state.value for h in s2.histories][-3:] == ["FAILED", "RESTARTED", "SUBMITTED"]
    assert d.run("seq").state is State.RUNNING
    assert [h.state.value for h in d.run("seq").histories][-2:] == ["RESTARTED", "RUNNING"]
    assert d.run("a").state is State.SUCCESS and len(d.run("a").attempts) == 1
    assert d.run("s1").state is State.SUCCESS


def test_restart_runs_handlers_again_under_new_ids() -> None:
    d = failed_run()
    old = {t: d.run(t).id for t in ("local_finally", "x")}
    d.plan(Restart())
    d.plan(d.result("s2"))
    assert d.run("local_finally").id != old["local_finally"]
    d.plan(d.result("local_finally"))
    d.plan(d.result("c"))
    d.plan(d.result("f"))
    assert d.execution.state is State.SUCCESS
    assert d.run("x").id != old["x"]
    assert d.run("x").generation == 1
    d.plan(d.result("x"))
    assert d.execution.finalized_at is not None
    assert runs_of(d.execution, "e") == []  # nothing failed this time
    seqs = sorted(r.seq for r in d.execution.task_runs.values())
    assert seqs == list(range(len(seqs)))


def test_restart_children_index_has_no_deleted_runs() -> None:
    d = failed_run()
    d.plan(Restart())
    ex = d.execution
    for ids in ex.children.values():
        assert all(i in ex.task_runs for i in ids)
    assert (ROOT, Phase.ERRORS) not in ex.children
    assert (ROOT, Phase.AFTER) not in ex.children


@pytest.mark.parametrize("state", ["SUCCESS", "WARNING", "RUNNING"])
def test_restart_of_non_failed_execution_is_ignored(state: str) -> None:
    d = Driver.of("""
        tasks:
          - id: a
            type: Log
            message: a
        """)
    d.plan(Start())
    if state != "RUNNING":
        d.plan(d.result("a", State(state)))
    before = d.execution
    decision = d.plan(Restart())
    assert d.execution.histories == before.histories
    assert decision.deleted == frozenset()


def test_restart_twice_equals_once() -> None:
    d = failed_run()
    once = d.plan(Restart(), Restart())
    assert history(d.execution).count("RESTARTED") == 1
    assert len(d.run("s2").attempts) == 2
    assert once.deleted


def test_restart_killed_execution() -> None:
    d = Driver.of(FLOW)
    d.plan(Start())
    d.plan(d.result("a"))
    d.plan(Kill())
    d.plan(d.result("x"))
    assert d.execution.state is State.KILLED
    d.plan(Restart())
    assert d.execution.state is State.RUNNING
    assert d.run("s1").state is State.SUBMITTED
    assert d.run("seq").state is State.RUNNING
    d.plan(d.result("s1"))
    d.plan(d.result("s2"))
    d.plan(d.result("local_finally"))
    d.plan(d.result("c"))
    d.plan(d.result("f"))
    assert d.execution.state is State.SUCCESS


def test_restart_after_failure_again_runs_errors_again() -> None:
    d = failed_run()
    d.plan(Restart())
    d.plan(d.result("s2", State.FAILED))
    d.plan(d.result("local_finally"))
    assert d.run("e").state is State.SUBMITTED
    assert d.run("e").generation == 1
    for t in ("e", "f", "x"):
        d.plan(d.result(t))
    assert d.execution.state is State.FAILED
    d.plan(Restart())
    assert history(d.execution).count("RESTARTED") == 2
    assert len(d.run("s2").attempts) == 3


def test_restart_loop_group_runs_again() -> None:
    d = Driver.of("""
        tasks:
          - id: loop
            type: ForEach
            values: ["x", "y", "z"]
            tasks:
              - id: body
                type: Log
                message: "{{ taskrun.value }}"
        """)
    d.plan(Start())
    d.plan(d.result_of(d.run("body", "x")))
    d.plan(d.result_of(d.run("body", "y"), State.FAILED))
    assert d.execution.state is State.FAILED
    d.plan(Restart())
    assert d.run("body", "y").state is State.SUBMITTED
    d.plan(d.result_of(d.run("body", "y")))
    d.plan(d.result_of(d.run("body", "z")))
    assert d.execution.state is State.SUCCESS


def test_restart_of_two_failed_root_tasks_stops_the_other_when_one_fails() -> None:
    """Both failed chains restart at once; when one fails again the root ends and the
    other, still going, takes the root's state (as in a flowable, §3.5)."""
    d = Driver.of("""
        tasks:
          - id: tolerant
            type: Sequential
            allowFailure: true
            tasks:
              - id: inner
                type: Fail
          - id: last
            type: Fail
        """)
    d.plan(Start())
    d.plan(d.result("inner", State.FAILED))
    d.plan(d.result("last", State.FAILED))
    assert d.execution.state is State.FAILED
    assert d.run("tolerant").state is State.WARNING
    d.plan(Restart())
    assert d.run("inner").state is State.SUBMITTED
    assert d.run("last").state is State.SUBMITTED
    d.plan(d.result("last", State.FAILED))
    assert d.execution.state is State.FAILED
    assert d.run("inner").state is State.FAILED
    assert d.run("tolerant").state is State.FAILED
    assert "inner" in d.cancelled()


def test_restart_before_after_execution_ended_cancels_its_job() -> None:
    d = Driver.of(FLOW)
    d.plan(Start())
    for task_id in ("a", "s1"):
        d.plan(d.result(task_id))
    d.plan(d.result("s2", State.FAILED))
    for task_id in ("local_finally", "e", "f"):
        d.plan(d.result(task_id))
    x = d.run("x")
    assert x.state is State.SUBMITTED and d.execution.finalized_at is None
    decision = d.plan(Restart())
    assert x.id in decision.deleted
    assert any(c.task_run_id == x.id for c in d.of_type(Cancel))
    d.plan(d.result_of(x))  # the cancelled job's late result: its task run is gone
    assert x.id not in d.execution.task_runs
    assert d.run("s2").state is State.SUBMITTED


def test_restart_gives_the_retry_policy_a_fresh_start() -> None:
    d = Driver.of("""
        tasks:
          - id: flaky
            type: Fail
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 2
        """)
    d.plan(Start())
    d.plan(d.result("flaky", State.FAILED))
    d.plan(d.timers()[-1].event)
    d.plan(d.result("flaky", State.FAILED))
    assert d.execution.state is State.FAILED
    d.plan(Restart())
    d.plan(d.result("flaky", State.FAILED))  # attempt 3, the first since the restart
    assert d.run("flaky").state is State.RETRYING
    d.plan(d.timers()[-1].event)
    d.plan(d.result("flaky", State.FAILED))
    assert d.run("flaky").state is State.FAILED
    assert len(d.run("flaky").attempts) == 4
