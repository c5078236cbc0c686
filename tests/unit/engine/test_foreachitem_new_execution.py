"""ForEachItem `restartBehavior: NEW_EXECUTION` (engine/foreachitem.py): a restart
starts a new child for each batch whose child did not end well, the next of that
batch's chain (its first child is the `originalId`, which may read the batch file)."""

from __future__ import annotations

from lanner.engine.events import Deliver, Kill, Restart, StartSubflow, SubflowEnded
from lanner.engine.execution import Execution, History
from lanner.engine.foreachitem import child_id
from lanner.engine.subflow import parent_notice
from lanner.model.states import State
from tests.unit.engine.support import T0, Driver
from tests.unit.engine.test_foreachitem import URIS, split, starts


def _end(d: Driver, cmd: StartSubflow, state: State, **outputs: object) -> None:
    """The end of `cmd`'s child as its parent hears it: under its chain's first id."""
    chain = cmd.original_id or cmd.execution_id
    d.plan(SubflowEnded(cmd.task_run_id, cmd.attempt, chain, state, outputs))


def _restarted() -> tuple[Driver, list[StartSubflow]]:
    d = split({"restartBehavior": "NEW_EXECUTION"})
    cmds = starts(d)
    _end(d, cmds[0], State.SUCCESS, n=0)
    _end(d, cmds[1], State.FAILED)
    _end(d, cmds[2], State.KILLED)
    assert d.execution.state is State.FAILED
    d.plan(Restart())
    return d, cmds


def test_a_restart_starts_a_new_child_for_each_batch_that_did_not_end_well() -> None:
    d, first = _restarted()
    again = starts(d)[3:]
    assert [c.batch for c in again] == [2, 3]
    assert [c.original_id for c in again] == [child_id(URIS[1]), child_id(URIS[2])]
    assert [c.attempt_number for c in again] == [2, 2]
    assert {c.execution_id for c in again}.isdisjoint({c.execution_id for c in first})
    assert [dict(c.inputs) for c in again] == [dict(c.inputs) for c in first[1:]]
    assert not [c for c in d.of_type(Deliver) if isinstance(c.event, Restart)]
    items = d.run("each_items")
    assert items.state is State.RUNNING and len(items.attempts) == 2
    assert items.outputs is not None
    assert [b["executionId"] for b in items.outputs["batches"]] == [
        first[0].execution_id,
        again[0].execution_id,
        again[1].execution_id,
    ]


def test_the_new_children_end_the_task_and_their_outputs_are_merged() -> None:
    d, _ = _restarted()
    again = starts(d)[3:]
    _end(d, again[0], State.SUCCESS, n=1)
    _end(d, again[1], State.SUCCESS, n=2)
    items = d.run("each_items")
    assert items.state is State.SUCCESS
    assert items.outputs is not None
    assert [b["outputs"] for b in items.outputs["batches"]] == [{"n": 0}, {"n": 1}, {"n": 2}]
    d.plan(d.result("each_merge", subflowOutputs="kestra:///x.ion"))
    assert d.execution.state is State.SUCCESS


def test_a_second_restart_starts_the_third_child_of_the_chain() -> None:
    d, _ = _restarted()
    again = starts(d)[3:]
    _end(d, again[0], State.SUCCESS, n=1)
    _end(d, again[1], State.FAILED)
    d.plan(Restart())
    [third] = starts(d)[5:]
    assert third.batch == 3 and third.attempt_number == 3
    assert third.original_id == child_id(URIS[2])
    assert third.execution_id not in {c.execution_id for c in starts(d)[:5]}


def test_a_kill_kills_the_new_child_not_the_first() -> None:
    d, first = _restarted()
    again = starts(d)[3:]
    d.plan(Kill())
    killed = [c.execution_id for c in d.of_type(Deliver) if c.event == Kill()]
    assert killed[-2:] == [again[0].execution_id, again[1].execution_id]
    assert first[1].execution_id not in killed[-2:]


def test_a_child_of_a_chain_tells_its_parent_under_the_chain_id() -> None:
    child = Execution(
        id="second",
        namespace="a",
        flow_id="child",
        flow_revision=1,
        state=State.SUCCESS,
        histories=(History(State.SUCCESS, T0),),
        parent_execution_id="parent",
        parent_task_run_id="run",
        parent_attempt=2,
        original_id="first",
        attempt_number=2,
    )
    notice = parent_notice(child)
    assert notice is not None and isinstance(notice.event, SubflowEnded)
    assert notice.event.execution_id == "first"
    assert notice.dedup_key.startswith("subflow-ended:second:")
