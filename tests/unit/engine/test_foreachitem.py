"""ForEachItem (docs/flowables.md): `<id>_split`, then one child execution per batch
from `<id>_items` (engine/foreachitem.py), then `<id>_merge`."""

from __future__ import annotations

import json

from lanner.engine.events import (
    Deliver,
    Kill,
    Restart,
    Start,
    StartSubflow,
    SubflowEnded,
    TaskResult,
    TimeoutDue,
)
from lanner.engine.foreachitem import child_id
from lanner.model.states import State
from tests.unit.engine.support import Driver

URIS = [f"kestra:///a/t/executions/E/tasks/each_split/R/in_{n}.txt" for n in range(3)]


def body(**props: object) -> str:
    extra = "".join(f"\n    {k}: {json.dumps(v)}" for k, v in props.items())
    return f"""
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "kestra:///a/t/in.txt"
    batch:
      rows: 2
    namespace: a
    flowId: child
    inputs:
      data: "{{{{ taskrun.items }}}}"
      n: "{{{{ taskrun.iteration }}}}"{extra}
"""


def split(props: dict[str, object] | None = None, uris: list[str] = URIS) -> Driver:
    d = Driver.of(body(**(props or {})))
    d.plan(Start())
    assert d.dispatched() == ["each_split"]
    d.plan(d.result("each_split", uris=uris))
    return d


def starts(d: Driver) -> list[StartSubflow]:
    return d.of_type(StartSubflow)


def end(d: Driver, cmd: StartSubflow, state: State, **outputs: object) -> None:
    d.plan(SubflowEnded(cmd.task_run_id, cmd.attempt, cmd.execution_id, state, outputs))


def test_one_child_per_batch_with_its_file_and_number() -> None:
    d = split()
    cmds = starts(d)
    assert [c.execution_id for c in cmds] == [child_id(u) for u in URIS]
    assert [dict(c.inputs) for c in cmds] == [
        {"data": u, "n": str(n)} for n, u in enumerate(URIS, 1)
    ]
    assert [c.batch for c in cmds] == [1, 2, 3]
    assert len({c.idempotency_key for c in cmds}) == 3
    assert {(c.namespace, c.flow_id) for c in cmds} == {("a", "child")}
    items = d.run("each_items")
    assert items.state is State.RUNNING
    assert items.outputs is not None
    assert items.outputs["iterations"] == {"CREATED": 3}
    assert items.outputs["numberOfBatches"] == 3


def test_the_merge_gets_every_child_outputs_in_batch_order() -> None:
    d = split()
    cmds = starts(d)
    for n in (2, 0, 1):  # the children end in any order
        end(d, cmds[n], State.SUCCESS, n=n)
        if n != 1:
            assert d.run("each_items").state is State.RUNNING
    items = d.run("each_items")
    assert items.state is State.SUCCESS
    assert items.outputs is not None
    assert items.outputs["iterations"] == {"SUCCESS": 3}
    assert [b["outputs"] for b in items.outputs["batches"]] == [{"n": 0}, {"n": 1}, {"n": 2}]
    merge = d.dispatch_of("each_merge")
    batches = merge.properties["batches"]
    batches = json.loads(batches) if isinstance(batches, str) else batches
    assert [b["executionId"] for b in batches] == [child_id(u) for u in URIS]
    d.plan(d.result("each_merge", subflowOutputs="kestra:///x.ion"))
    assert d.execution.state is State.SUCCESS


def test_a_failed_child_fails_the_task_once_all_ended() -> None:
    d = split()
    cmds = starts(d)
    end(d, cmds[0], State.FAILED)
    assert d.run("each_items").state is State.RUNNING  # the others still run
    end(d, cmds[1], State.SUCCESS)
    end(d, cmds[2], State.WARNING)
    assert d.run("each_items").state is State.FAILED
    assert d.run("each").state is State.FAILED
    assert "each_merge" not in d.dispatched()
    assert d.execution.state is State.FAILED


def test_without_transmit_failed_the_children_states_do_not_count() -> None:
    d = split({"transmitFailed": False})
    for cmd in starts(d):
        end(d, cmd, State.FAILED)
    items = d.run("each_items")
    assert items.state is State.SUCCESS
    assert items.outputs is not None
    assert items.outputs["iterations"] == {"FAILED": 3}


def test_without_wait_the_task_ends_once_the_children_are_created() -> None:
    d = split({"wait": False})
    assert len(starts(d)) == 3
    assert d.run("each_items").state is State.SUCCESS
    end(d, starts(d)[0], State.FAILED)  # heard of, ignored
    assert d.run("each_items").state is State.SUCCESS


def test_no_batch_no_child() -> None:
    d = split(uris=[])
    assert starts(d) == []
    items = d.run("each_items")
    assert items.state is State.SUCCESS
    assert items.outputs is not None
    assert items.outputs["numberOfBatches"] == 0


def test_a_repeated_end_counts_once() -> None:
    d = split()
    cmds = starts(d)
    end(d, cmds[0], State.SUCCESS)
    end(d, cmds[0], State.FAILED)
    items = d.run("each_items")
    assert items.outputs is not None
    assert items.outputs["iterations"] == {"SUCCESS": 1, "CREATED": 2}


def test_a_kill_kills_the_children_still_running() -> None:
    d = split()
    cmds = starts(d)
    end(d, cmds[0], State.SUCCESS)
    d.plan(Kill())
    assert d.run("each_items").state is State.KILLED
    killed = [c.execution_id for c in d.of_type(Deliver) if c.event == Kill()]
    assert killed == [cmds[1].execution_id, cmds[2].execution_id]


def test_a_child_that_cannot_start_fails_the_task_and_kills_the_others() -> None:
    d = split()
    cmds = starts(d)
    d.plan(TaskResult(cmds[1].task_run_id, 1, State.FAILED, error="flow a.child not found"))
    assert d.run("each_items").state is State.FAILED
    killed = {c.execution_id for c in d.of_type(Deliver) if c.event == Kill()}
    assert killed == {c.execution_id for c in cmds}


def test_a_restart_restarts_the_children_that_did_not_end_well() -> None:
    d = split()
    cmds = starts(d)
    end(d, cmds[0], State.SUCCESS, n=0)
    end(d, cmds[1], State.FAILED)
    end(d, cmds[2], State.KILLED)
    assert d.execution.state is State.FAILED
    d.plan(Restart())
    assert len(starts(d)) == 3  # no new child
    restarted = [c.execution_id for c in d.of_type(Deliver) if isinstance(c.event, Restart)]
    assert restarted == [cmds[1].execution_id, cmds[2].execution_id]
    items = d.run("each_items")
    assert items.state is State.RUNNING and len(items.attempts) == 2
    assert items.outputs is not None
    assert items.outputs["iterations"] == {"SUCCESS": 1, "CREATED": 2}
    # The restarted children name the attempt that started them.
    end(d, cmds[1], State.SUCCESS, n=1)
    end(d, cmds[2], State.SUCCESS, n=2)
    items = d.run("each_items")
    assert items.state is State.SUCCESS
    assert items.outputs is not None
    assert [b["outputs"] for b in items.outputs["batches"]] == [{"n": 0}, {"n": 1}, {"n": 2}]
    d.plan(d.result("each_merge", subflowOutputs="kestra:///x.ion"))
    assert d.execution.state is State.SUCCESS


def test_a_timeout_kills_the_children_still_running() -> None:
    d = split({"timeout": "PT5M"})
    cmds = starts(d)
    end(d, cmds[0], State.SUCCESS)
    [timer] = [t for t in d.timers() if isinstance(t.event, TimeoutDue)]
    d.plan(timer.event)
    assert d.run("each").state is State.FAILED
    assert d.run("each_items").state is State.KILLED
    killed = [c.execution_id for c in d.of_type(Deliver) if c.event == Kill()]
    assert killed == [cmds[1].execution_id, cmds[2].execution_id]
    assert d.execution.state is State.FAILED
