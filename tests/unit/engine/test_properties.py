"""Property tests: random flows from the building blocks, random task outcomes,
driven cycle by cycle through the real planner (the loop of `lanner.testing.simulate`)."""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lanner.engine.events import (
    Deliver,
    Dispatch,
    Event,
    Kill,
    Restart,
    Resubmitted,
    Resume,
    Start,
    StartSubflow,
    SubflowEnded,
    TaskResult,
    TaskStarted,
    Timer,
)
from lanner.engine.execution import ROOT, Execution, History, Phase, new_execution_id
from lanner.engine.flowindex import FlowIndex
from lanner.engine.planner import PlanContext, Planner
from lanner.expr import ExpressionEngine
from lanner.model.flow import Flow
from lanner.model.states import State, final_state
from lanner.model.validate import load_flow
from tests.unit.engine.support import SHORT, T0, registry

RUN_IF = ["true", "false", "{{ 1 == 1 }}", "{{ 1 == 2 }}"]
FALSE_RUN_IF = {"false", "{{ 1 == 2 }}"}


def _common(draw: st.DrawFn, task: dict[str, Any]) -> dict[str, Any]:
    if draw(st.integers(0, 3)) == 0:
        task["runIf"] = draw(st.sampled_from(RUN_IF))
    if draw(st.integers(0, 4)) == 0:
        task["allowFailure"] = True
    if draw(st.integers(0, 4)) == 0:
        task["retry"] = {
            "type": "constant",
            "interval": "PT1S",
            "maxAttempts": draw(st.integers(1, 3)),
        }
    return task


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Log", "Fail", "Return", "Pause", "Subflow"]))
    task: dict[str, Any] = {"type": SHORT[kind]}
    if kind == "Pause":  # the loop below resumes it when nothing else can happen
        if draw(st.booleans()):
            task["pauseDuration"] = "PT1S"
        task["behavior"] = draw(st.sampled_from(["RESUME", "WARN", "FAIL", "CANCEL"]))
    elif kind == "Subflow":  # the loop below answers StartSubflow with the child's end
        task.update(namespace="tests", flowId="child", wait=draw(st.booleans()))
        task["transmitFailed"] = draw(st.booleans())
    if kind == "Log":
        task["message"] = "{{ execution.state }} {{ taskrun.attemptsCount }}"
    elif kind == "Return":
        task["format"] = "{{ taskrun.value ?? 'none' }}"
    return _common(draw, task)


def _handlers(draw: st.DrawFn, task: dict[str, Any]) -> None:
    if draw(st.booleans()):
        task["errors"] = draw(st.lists(leaves(), min_size=1, max_size=2))
    if draw(st.booleans()):
        task["finally"] = draw(st.lists(leaves(), min_size=1, max_size=2))


def flowables(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        kind = draw(st.sampled_from(["Sequential", "Parallel", "If", "ForEach"]))
        body = draw(st.lists(children, min_size=1, max_size=3))
        task: dict[str, Any] = {"type": SHORT[kind]}
        if kind == "If":
            task["condition"] = draw(st.sampled_from(["true", "false"]))
            task["then"] = body
            if draw(st.booleans()):
                task["else"] = draw(st.lists(children, min_size=1, max_size=2))
        else:
            task["tasks"] = body
        if kind == "Parallel":
            task["concurrent"] = draw(st.integers(0, 2))
        if kind == "ForEach":
            task["values"] = draw(st.lists(st.sampled_from(["a", "b", "c"]), max_size=3))
            task["concurrencyLimit"] = draw(st.integers(0, 2))
            policy = draw(st.sampled_from([None, "CONTINUE", "CANCEL", "FAIL"]))
            if policy is not None:
                task["onChildFailure"] = policy
        _handlers(draw, task)
        return _common(draw, task)

    return build()


TASKS = st.recursive(leaves(), flowables, max_leaves=6)


def _assign_ids(node: Any, counter: itertools.count[int]) -> None:
    if isinstance(node, list):
        for item in node:
            _assign_ids(item, counter)
    elif isinstance(node, dict):
        if "type" in node:
            node["id"] = f"t{next(counter)}"
        for key in ("tasks", "errors", "finally", "then", "else", "afterExecution"):
            if key in node:
                _assign_ids(node[key], counter)


@st.composite
def flows(draw: st.DrawFn) -> dict[str, Any]:
    flow: dict[str, Any] = {
        "id": "prop",
        "namespace": "tests",
        "tasks": draw(st.lists(TASKS, min_size=1, max_size=4)),
    }
    _handlers(draw, flow)
    if draw(st.booleans()):
        flow["afterExecution"] = draw(st.lists(TASKS, min_size=1, max_size=2))
    if draw(st.integers(0, 4)) == 0:
        flow["retry"] = {"type": "constant", "interval": "PT2S", "maxAttempts": 2}
    _assign_ids(flow, itertools.count())
    return flow


@dataclass
class Trace:
    executions: list[Execution] = field(default_factory=list)
    final: Execution | None = None


def drive(
    flow: Flow, seed: int, kill_at: int | None, duplicate: bool, restart: bool = False
) -> Trace:
    """simulate()'s loop, with outcomes drawn from (seed, task run, attempt) and an optional
    Kill at one cycle. With `duplicate`, every batch is delivered twice, preceded by a
    stale copy of the previous batch."""
    planner = Planner(FlowIndex(flow), ExpressionEngine())
    now = T0
    execution = Execution(
        id=new_execution_id("prop"),
        namespace=flow.namespace,
        flow_id=flow.id,
        flow_revision=1,
        state=State.CREATED,
        histories=(History(State.CREATED, now),),
    )
    pending: list[Event] = [Start()]
    timers: list[tuple[Any, int, Event]] = []
    counter = itertools.count()
    trace = Trace()
    previous: list[Event] = []
    children: dict[str, StartSubflow] = {}
    for cycle in range(5_000):
        ended = execution.state in (State.FAILED, State.KILLED) and execution.finalized_at
        if not pending and restart and ended:
            restart = False  # once: the restarted run goes to its end
            kill_at = None  # a replayed Restart after a later Kill would restart again
            pending.append(Restart())
        user_acts = not timers or random.Random(f"{seed}:{cycle}").random() < 0.3
        if not pending and execution.state is State.PAUSED and user_acts:
            pending.extend(_resumes(execution))  # by task run, as the CLI does
        if not pending:
            if execution.finalized_at is not None or not timers:
                break
            at, _, event = heapq.heappop(timers)
            now = max(now, at)
            pending.append(event)
        events, pending = pending, []
        if cycle == kill_at:
            events.append(Kill())
        # duplicate mode: the previous batch again (stale), then this batch twice
        batch = [*previous, *events, *events] if duplicate else events
        previous = events
        context = PlanContext(now=now)
        decision = planner.plan(execution, batch, context)
        if not duplicate:  # the planner is pure: the same input gives the same decision
            assert planner.plan(execution, batch, context) == decision
        execution = decision.execution
        trace.executions.append(execution)
        for command in decision.commands:
            if isinstance(command, Timer):
                heapq.heappush(timers, (command.at, next(counter), command.event))
            elif isinstance(command, Dispatch):
                pending.extend(_outcome(seed, command))
            elif isinstance(command, StartSubflow):
                children[command.execution_id] = command
                pending.append(_child_end(seed, command))
            elif (
                isinstance(command, Deliver)
                and isinstance(command.event, Restart)
                and command.execution_id in children
            ):  # restartBehavior RETRY_FAILED: the restarted child ends again
                pending.append(_child_end(seed, children[command.execution_id], again=True))
        now += timedelta(milliseconds=1)
    trace.final = execution
    return trace


def _resumes(execution: Execution) -> list[Event]:
    runs = execution.ordered_task_runs()
    return [Resume({}, r.id) for r in runs if r.state is State.PAUSED]


def _child_end(seed: int, c: StartSubflow, *, again: bool = False) -> SubflowEnded:
    draw = random.Random(f"{seed}:{c.execution_id}:{again}").random()
    state = State.SUCCESS if draw < 0.5 else State.FAILED if draw < 0.8 else State.WARNING
    return SubflowEnded(c.task_run_id, c.attempt, c.execution_id, state, {"n": 1})


def _outcome(seed: int, d: Dispatch) -> list[Event]:
    rng = random.Random(f"{seed}:{d.task_run_id}:{d.attempt}")
    draw = rng.random()
    state = State.SUCCESS if draw < 0.6 else State.FAILED if draw < 0.9 else State.WARNING
    result = TaskResult(
        d.task_run_id, d.attempt, state, error="boom" if state is State.FAILED else None
    )
    if rng.random() < 0.2:  # the worker was lost once: the job ran again
        started = TaskStarted(d.task_run_id, d.attempt)
        return [started, Resubmitted(d.task_run_id, d.attempt), started, result]
    return [result]


def _walk(tasks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for t in tasks or ():
        out.append(t)
        for key in ("tasks", "errors", "finally", "then", "else"):
            out.extend(_walk(t.get(key)))
    return out


def check_invariants(spec: dict[str, Any], trace: Trace, killed: bool) -> None:
    final = trace.final
    assert final is not None
    # every execution finalizes, every task run ends
    assert final.state.terminated
    assert final.finalized_at is not None
    assert all(r.state.terminated for r in final.task_runs.values()), [
        (r.task_id, r.state) for r in final.task_runs.values() if not r.state.terminated
    ]
    # the state never changes once terminal; terminal_at is set once
    terminal = [e for e in trace.executions if e.state.terminated]
    assert terminal
    assert {e.state for e in terminal} == {final.state}
    assert {e.terminal_at for e in terminal} == {final.terminal_at}
    assert final.terminal_at is not None
    assert all(e.terminal_at is None for e in trace.executions if not e.state.terminated)
    # the state follows §3.5 over the root tasks (no Exit and no outputs here)
    main_runs = final.runs_of(None, Phase.MAIN)
    if killed:
        assert final.state is State.KILLED
    else:
        assert final.state is final_state([r.state for r in main_runs])
    # exactly one afterExecution task run per declared (enabled) afterExecution task
    after_ids = [t["id"] for t in spec.get("afterExecution", [])]
    assert [r.task_id for r in final.runs_of(None, Phase.AFTER)] == after_ids
    # runIf false ⇒ SKIPPED
    all_tasks = _walk(spec["tasks"]) + _walk(spec.get("errors")) + _walk(spec.get("finally"))
    all_tasks += _walk(spec.get("afterExecution"))
    by_id = {t["id"]: t for t in all_tasks}
    for r in final.task_runs.values():
        if by_id[r.task_id].get("runIf") in FALSE_RUN_IF:
            assert r.state in (State.SKIPPED, State.KILLED)
            assert not final.children.get((r.id, Phase.MAIN))
    # task-run ids unique, children index consistent
    indexed = [i for ids in final.children.values() for i in ids]
    assert len(indexed) == len(set(indexed)) == len(final.task_runs)
    assert sorted(r.seq for r in final.task_runs.values()) == list(range(len(final.task_runs)))
    assert all(
        (r.parent_id or ROOT, r.phase) in final.children
        and r.id in final.children[(r.parent_id or ROOT, r.phase)]
        for r in final.task_runs.values()
    )
    # a terminal task run's last attempt is terminal too
    for r in final.task_runs.values():
        if r.attempts:
            assert r.attempts[-1].state.terminated, (r.task_id, r.state, r.attempts[-1].state)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=flows(),
    seed=st.integers(0, 2**16),
    kill_at=st.one_of(st.none(), st.integers(1, 12)),
)
def test_planner_invariants_and_idempotent_events(
    spec: dict[str, Any], seed: int, kill_at: int | None
) -> None:
    flow = load_flow(yaml.safe_dump(spec, sort_keys=False), registry())
    once = drive(flow, seed, kill_at, duplicate=False)
    killed = kill_at is not None and any(
        e.state in (State.KILLING, State.KILLED) for e in once.executions
    )
    check_invariants(spec, once, killed)
    event(f"state={once.final.state.value if once.final else None}")
    event(f"task runs>{min(len(once.final.task_runs) // 5 * 5, 20) if once.final else 0}")
    if once.final and any(len(r.attempts) > 1 for r in once.final.task_runs.values()):
        event("retried")
    # applying every event batch twice equals applying it once
    twice = drive(flow, seed, kill_at, duplicate=True)
    assert twice.final == once.final
    assert twice.executions == once.executions


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=flows(),
    seed=st.integers(0, 2**16),
    kill_at=st.one_of(st.none(), st.integers(1, 12)),
)
def test_restart_invariants_and_idempotent_events(
    spec: dict[str, Any], seed: int, kill_at: int | None
) -> None:
    """A failed or killed execution, restarted once, ends again with consistent rows."""
    flow = load_flow(yaml.safe_dump(spec, sort_keys=False), registry())
    once = drive(flow, seed, kill_at, duplicate=False, restart=True)
    final = once.final
    assert final is not None and final.finalized_at is not None
    assert all(r.state.terminated for r in final.task_runs.values())
    restarted = sum(1 for h in final.histories if h.state is State.RESTARTED)
    event(f"restarted={restarted}")
    if restarted and final.state is not State.KILLED:
        assert final.state is final_state([r.state for r in final.runs_of(None, Phase.MAIN)])
    after_ids = [t["id"] for t in spec.get("afterExecution", [])]
    assert [r.task_id for r in final.runs_of(None, Phase.AFTER)] == after_ids
    indexed = [i for ids in final.children.values() for i in ids]
    assert len(indexed) == len(set(indexed)) == len(final.task_runs)
    assert sorted(r.seq for r in final.task_runs.values()) == list(range(len(final.task_runs)))
    twice = drive(flow, seed, kill_at, duplicate=True, restart=True)
    assert twice.final == once.final
