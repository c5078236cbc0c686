"""Record real executions as golden files, and replay them through the planner alone.

A recording runs flows through the real runtime (executor and worker threads)
on a real SQLite store, with a :class:`Recorder` on the executor
(``Executor.recorder``): it sees every call the executor makes to the planner,
with the execution it passes, the events, and every value of the
``PlanContext``. A golden file holds, per execution, those calls and the rows
the store would write for the execution and its task runs after each
(``store/codec.py``: the canonical JSON, compared as text).

:func:`replay` gives the same calls to a fresh planner, with no store and no
clock, and returns the rows it gets; ``test_golden_replay.py`` compares them
byte for byte. Regenerate every file after a deliberate change of behaviour::

    .venv/bin/python -m tests.golden.recording          # all scenarios
    .venv/bin/python -m tests.golden.recording kill     # one
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lanner.config import Config
from lanner.engine.events import Decision, Event, Restart, Resume, TaskStarted
from lanner.engine.execution import Execution, evolve
from lanner.engine.flowindex import FlowIndex
from lanner.engine.flowtrigger import (
    TriggerCandidate,
    TriggerKey,
    TriggerOutcome,
    evaluate_flow_triggers,
)
from lanner.engine.planner import PlanContext, Planner
from lanner.expr import ExpressionEngine
from lanner.expr.scope import FlowHistory, KVLookup
from lanner.model.flow import PluginDefault
from lanner.model.states import State
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime import eventcodec
from lanner.runtime.kvreader import CycleHistory, CycleKV
from lanner.runtime.process import Process
from lanner.store import open_store
from lanner.store.base import EventRow, Store
from lanner.store.codec import (
    JsonMemo,
    dump_value,
    execution_from_row,
    execution_params,
    history_date,
    load_value,
    task_run_params,
)
from tests.support.http_sink import HttpSink

GOLDEN = Path(__file__).resolve().parent
ROOT = GOLDEN.parents[1]
EXAMPLES = ROOT / "examples" / "flows"
FLOWS = ROOT / "tests" / "integration" / "flows"
FORMAT = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The PlanContext fields a golden file holds. `secrets` and `on_secret` are the
# secret() lookup and the masking sink: the recorded flows use no secret, and a
# replay without them would fail on one. A new field must be recorded here.
# `kv` is a lookup; what it returned in the cycle is recorded as `kv_reads`.
# `flow_history` is the lookup of consecutiveFailures() and flowRecovered(): what it
# returned is recorded as `history_reads`.
RECORDED = {"now", "seed", "error_logs", "envs", "slots_taken", "kv", "flow_history"}
# `files` is the read() & co. reader of internal storage: no recorded flow reads a
# file, and a replay of one that did would fail on its missing reader.
NOT_RECORDED = {"secrets", "on_secret", "files"}


def rows(execution: Execution) -> dict[str, Any]:
    """The execution and its task runs as the store writes them (JSON columns as text)."""
    memo = JsonMemo()
    row = list(execution_params(execution, execution.version, memo))
    if row[_CHAIN:] == _FRESH:
        del row[_CHAIN:]  # a fresh execution's row as it was before migration 0005
    return {
        "execution": row,
        "task_runs": [list(task_run_params(t, memo)) for t in execution.ordered_task_runs()],
    }


def from_rows(doc: Mapping[str, Any]) -> Execution:
    row = list(doc["execution"])
    return execution_from_row(row + _FRESH[len(row) - _CHAIN :], doc["task_runs"])


# The chain columns (original_id, attempt_number, original_created_at, store migration
# 0005) end the row: left out when they hold a fresh execution's values, so the files
# recorded before them stay valid byte for byte.
_CHAIN = 20
_FRESH: list[Any] = [None, 1, None]


def _json(value: Any) -> Any:
    """`value` as the store gives it back: through its own JSON encoder."""
    return load_value(dump_value(value))


def dump_event(execution_id: str, event: Event) -> dict[str, Any]:
    new = eventcodec.encode(execution_id, event, _EPOCH)
    return {"kind": new.kind, "payload": _json(dict(new.payload))}


def load_event(execution_id: str, doc: Mapping[str, Any]) -> Event:
    return eventcodec.decode(EventRow(0, execution_id, doc["kind"], doc["payload"], _EPOCH))


# -- recording ---------------------------------------------------------------------------------
@dataclass
class _Pending:
    execution_id: str
    call: dict[str, Any]
    kv: KVLookup | None = None
    history: FlowHistory | None = None


@dataclass
class Recorder:
    """An `Executor.recorder`: keeps the planner calls of every execution, in order."""

    calls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Evaluations of Flow triggers (`effects.TriggerRecorder`), in order.
    triggers: list[dict[str, Any]] = field(default_factory=list)
    _last: dict[str, dict[str, Any]] = field(default_factory=dict)
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def planning(
        self,
        execution: Execution,
        events: Sequence[Event],
        context: PlanContext,
        start: bool = False,
    ) -> None:
        unknown = {f.name for f in fields(context)} - RECORDED - NOT_RECORDED
        if unknown:
            raise AssertionError(f"PlanContext fields the golden files miss: {sorted(unknown)}")
        given = rows(execution)
        call: dict[str, Any] = {"version": execution.version}
        with self._lock:
            last = self._last.get(execution.id)
        # The input is kept only where it is not the previous call's result (the
        # executor changed it, or a cycle was rolled back): replay chains the rest.
        if last is None or _without_version(last) != _without_version(given):
            call["input"] = given
        call["now"] = history_date(context.now)
        call["seed"] = context.seed
        if context.slots_taken is not None:
            call["slots_taken"] = context.slots_taken
        if context.error_logs:
            call["error_logs"] = _json(list(context.error_logs))
        if context.envs:
            call["envs"] = dict(context.envs)
        if start:
            call["start"] = True
        call["events"] = [dump_event(execution.id, e) for e in events]
        self._local.pending = _Pending(execution.id, call, context.kv, context.flow_history)

    def planned(self, decision: Decision) -> None:
        pending: _Pending = self._local.pending
        self._local.pending = None
        out = rows(decision.execution)
        if isinstance(pending.kv, CycleKV) and pending.kv.reads():
            pending.call["kv_reads"] = [
                [ns, key, _json(value)] for (ns, key), value in sorted(pending.kv.reads().items())
            ]
        if isinstance(pending.history, CycleHistory) and pending.history.reads():
            pending.call["history_reads"] = [
                [*question, states] for question, states in sorted(pending.history.reads().items())
            ]
        pending.call["output"] = out
        with self._lock:
            self.calls.setdefault(pending.execution_id, []).append(pending.call)
            self._last[pending.execution_id] = out

    def triggered(
        self,
        upstream: Execution,
        candidates: Sequence[TriggerCandidate],
        reads: Mapping[TriggerKey, Mapping[str, Any] | None],
        now: datetime,
        outcome: TriggerOutcome,
    ) -> None:
        call = {
            "upstream": rows(upstream),
            "now": history_date(now),
            "candidates": [[f"{c.flow.namespace}.{c.flow.id}", c.revision] for c in candidates],
            "reads": [[*key, _json(state)] for key, state in sorted(reads.items())],
            "outcome": _outcome(outcome),
        }
        with self._lock:
            self.triggers.append(call)


def _outcome(outcome: TriggerOutcome) -> dict[str, Any]:
    return {
        "executions": [rows(e) for e in outcome.executions],
        "state_updates": [[*key, _json(state)] for key, state in outcome.state_updates],
        "warnings": [list(w) for w in outcome.warnings],
    }


def _replayed_kv(reads: Sequence[Sequence[Any]]) -> KVLookup:
    """What the recorded cycle's kv() read; a pair it did not read is a replay error."""
    known = {(ns, key): value for ns, key, value in reads}

    def lookup(namespace: str, key: str) -> Any:
        if (namespace, key) not in known:
            raise AssertionError(f"the replay reads kv {namespace}/{key}, the recording did not")
        return known[(namespace, key)]

    return lookup


def _replayed_history(reads: Sequence[Sequence[Any]]) -> FlowHistory:
    """What the recorded cycle's streak functions read; another question is a replay error."""
    known = {tuple(read[:4]): list(read[4]) for read in reads}

    def lookup(namespace: str, flow_id: str, leave_out: str, limit: int) -> list[str]:
        question = (namespace, flow_id, leave_out, limit)
        if question not in known:
            raise AssertionError(f"the replay reads the history {question}, the recording did not")
        return list(known[question])

    return lookup


def _without_version(doc: Mapping[str, Any]) -> Any:
    execution = list(doc["execution"])
    execution[17] = None  # the version column: the executor bumps it between calls
    return execution, doc["task_runs"]


@dataclass
class Session:
    """One recording: a runtime on a throw-away SQLite store, with the recorder on."""

    runtime: Process
    store: Store
    recorder: Recorder
    registry: TaskRegistry
    defaults: list[dict[str, Any]]
    flows: dict[str, str] = field(default_factory=dict)
    roots: list[str] = field(default_factory=list)

    def deploy(self, path: Path, replace: Mapping[str, str] | None = None) -> Any:
        source = path.read_text()
        for old, new in (replace or {}).items():
            source = source.replace(old, new)
        defaults = [PluginDefault.model_validate(d) for d in self.defaults]
        flow = load_flow(source, self.registry, defaults=defaults)
        revision, _ = self.store.deploy_flow(flow.namespace, flow.id, source)
        self.flows[f"{flow.namespace}.{flow.id}"] = source
        return flow, revision

    def start(self, path: Path, inputs: Mapping[str, Any] | None = None) -> str:
        flow, revision = self.deploy(path)
        execution = self.runtime.create_execution(flow, revision, inputs or {})
        self.roots.append(execution.id)
        return execution.id

    def send(self, execution_id: str, event: Event, key: str) -> None:
        scope = self.runtime.scope
        if scope is not None:  # a finalized execution left this run's scope: back in
            scope.add([execution_id])
        self.store.add_event(eventcodec.encode(execution_id, event, datetime.now(UTC), key))
        self.runtime.workers.on_complete.set()

    def wait(self, execution_id: str, done: Callable[[Execution], bool]) -> Execution:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.runtime.error is not None:
                raise self.runtime.error
            execution = self.store.get_execution(execution_id)
            if execution is not None and done(execution):
                return execution
            time.sleep(0.02)
        raise AssertionError(f"execution {execution_id} did not get there in 60 s")

    def finish(self, execution_id: str) -> Execution:
        return self.wait(execution_id, lambda e: e.finalized_at is not None)


def _example(name: str) -> Callable[[Session], None]:
    def scenario(session: Session) -> None:
        session.finish(session.start(EXAMPLES / f"{name}.yml"))

    return scenario


def _subflow(session: Session) -> None:
    session.deploy(FLOWS / "child.yml")
    session.finish(session.start(FLOWS / "parent.yml"))
    # The child ends after the parent's own afterExecution began: wait for it too.
    for execution in session.store.list_executions(flow_id="child", limit=10):
        session.finish(execution.id)


def _pause_resume(session: Session) -> None:
    execution_id = session.start(FLOWS / "pause_me.yml")
    paused = session.wait(execution_id, lambda e: e.state is State.PAUSED)
    [target] = [r for r in paused.ordered_task_runs() if r.state is State.PAUSED]
    key = f"resume:{execution_id}:{target.id}:{len(paused.histories)}"
    session.send(execution_id, Resume({"reason": "golden"}, target.id), key)
    session.finish(execution_id)


KILLED = GOLDEN / "flows" / "kill_me.yml"


def _kill(session: Session) -> None:
    execution_id = session.start(KILLED)
    session.wait(
        execution_id,
        lambda e: any(
            r.task_id == "nap" and r.state is State.RUNNING for r in e.task_runs.values()
        ),
    )
    session.runtime.kill(execution_id)
    session.finish(execution_id)


def _restart(session: Session) -> None:
    execution_id = session.start(FLOWS / "flaky.yml")
    failed = session.finish(execution_id)
    assert failed.state is State.FAILED, failed.state
    session.send(execution_id, Restart(), f"restart:{execution_id}:{len(failed.histories)}")
    session.wait(
        execution_id,
        lambda e: len(e.histories) > len(failed.histories) and e.finalized_at is not None,
    )


def _concurrency(session: Session) -> None:
    # Limit 1, behaviour QUEUE: the second waits QUEUED, then a Dequeue starts it.
    first = session.start(FLOWS / "one_at_a_time.yml")
    second = session.start(FLOWS / "one_at_a_time.yml")
    session.finish(first)
    session.finish(second)


def _kv(session: Session) -> None:
    # kv() reads the store in the cycle: the recording keeps what it read.
    session.finish(session.start(GOLDEN / "flows" / "kv.yml"))


def _error_logs(session: Session) -> None:
    session.finish(session.start(FLOWS / "error_logs.yml"))


def _loop_until(session: Session) -> None:
    # Three iterations, each after a LoopDue timer; then a WaitFor that gives up.
    session.finish(session.start(FLOWS / "loop_until.yml"))
    session.finish(session.start(FLOWS / "wait_for_bounded.yml"))


def _dag(session: Session) -> None:
    session.finish(session.start(FLOWS / "dag.yml"))


def _foreachitem(session: Session) -> None:
    # Three batches, the second's child fails; a restart gives that batch a new child
    # (restartBehavior NEW_EXECUTION), which succeeds: its flow's next revision. (The
    # golden file keeps a flow's last source only; the Fail's condition is the worker's
    # to evaluate, so the planner replays the first revision's children alike.)
    child = GOLDEN / "flows" / "foreachitem_child.yml"
    session.deploy(child)
    with tempfile.TemporaryDirectory() as tmp:
        orders = Path(tmp) / "orders.txt"
        orders.write_text("o1\no2\no3\no4\no5\n")
        flow, revision = session.deploy(GOLDEN / "flows" / "foreachitem.yml")
        execution = session.runtime.create_execution(flow, revision, {"file": str(orders)})
    session.roots.append(execution.id)
    failed = session.finish(execution.id)
    assert failed.state is State.FAILED, failed.state
    _finish_children(session, "golden_batch")
    session.deploy(child, {"== 2": "== 0"})
    session.send(execution.id, Restart(), f"restart:{execution.id}:{len(failed.histories)}")
    session.wait(
        execution.id,
        lambda e: len(e.histories) > len(failed.histories) and e.finalized_at is not None,
    )
    _finish_children(session, "golden_batch")


def _streaks(session: Session) -> None:
    # One after the other, so that each reads the ones before it: failed twice in a
    # row (the second logs it), then recovered. The Flow triggers' streak conditions
    # fire once each: after the second failure, after the recovery.
    session.deploy(GOLDEN / "flows" / "streak_alerts.yml")
    for ok in (False, False, True):
        session.finish(session.start(GOLDEN / "flows" / "streaks.yml", {"ok": ok}))
    # The recording's runtime works on its own executions only (runtime/scope.py): the
    # triggered executions are created, not run; the evaluations are what the file keeps.
    alerts = session.store.list_executions(flow_id="golden_streak_alerts", limit=10)
    assert len(alerts) == 2, [a.state for a in alerts]


def _retry_new_execution(session: Session) -> None:
    # A retry with behavior CREATE_NEW_EXECUTION: RETRIED, RETRIED, FAILED.
    first = session.start(FLOWS / "retry_chain.yml")
    session.wait(
        first,
        lambda e: (
            len(
                [
                    x
                    for x in session.store.list_executions(flow_id="retry_chain", limit=10)
                    if x.finalized_at is not None
                ]
            )
            == 3
        ),
    )


def _finish_children(session: Session, flow_id: str) -> None:
    for execution in session.store.list_executions(flow_id=flow_id, limit=50):
        session.finish(execution.id)


SCENARIOS: dict[str, Callable[[Session], None]] = {
    # The seed flows (tests/support/seed.py), their Slack webhooks sent to a local sink.
    "seed_after_execution_errors": _example("after_execution_errors"),
    "seed_alerts_demo": _example("alerts_demo"),
    "seed_state_demo": _example("state_demo"),
    "retries": _example("retries"),
    "foreach": _example("foreach"),
    "flowables": _example("if_switch"),
    "sequential_handlers": _example("sequential"),
    "parallel": _example("parallel"),
    "allow_failure": _example("allow_failure"),
    "timeout": _example("sleep_and_timeout"),
    "outputs_and_variables": _example("outputs_and_variables"),
    "exit": _example("exit"),
    "subflow": _subflow,
    "pause_resume": _pause_resume,
    "kill": _kill,
    "restart": _restart,
    "concurrency_queue": _concurrency,
    "error_logs": _error_logs,
    "kv": _kv,
    "loop_until": _loop_until,
    "dag": _dag,
    "foreachitem": _foreachitem,
    "streaks": _streaks,
    "retry_new_execution": _retry_new_execution,
}


def record(name: str) -> dict[str, Any]:
    """Run scenario `name` for real and return its golden document."""
    registry = TaskRegistry.from_entry_points()
    with tempfile.TemporaryDirectory() as tmp, HttpSink() as sink:
        # Webhooks go to the sink; its address does not reach the planner's rows.
        defaults = [
            {
                "type": "io.kestra.plugin.slack",
                "forced": True,
                "values": {"url": f"{sink.url}/hook"},
            }
        ]
        config = Config.model_validate({"pluginDefaults": defaults, "worker": {"threads": 4}})
        store = open_store(f"sqlite://{Path(tmp) / 'lanner.db'}")
        runtime = Process(store, registry, config, alone=True)
        recorder = Recorder()
        runtime.executor.recorder = recorder
        runtime.executor.trigger_recorder = recorder
        session = Session(runtime, store, recorder, registry, defaults)
        runtime.start()
        try:
            SCENARIOS[name](session)
        finally:
            runtime.stop()
            store.close()
    executions = []
    for execution_id, calls in recorder.calls.items():
        first = from_rows(calls[0]["input"])
        executions.append(
            {
                "id": execution_id,
                "flow": f"{first.namespace}.{first.flow_id}",
                "revision": first.flow_revision,
                "calls": calls,
            }
        )
    return {
        "format": FORMAT,
        "scenario": name,
        "plugin_defaults": defaults,
        "flows": session.flows,
        "executions": executions,
        **({"triggers": recorder.triggers} if recorder.triggers else {}),
    }


# -- replay ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Replayed:
    execution_id: str
    call: int
    expected: dict[str, Any]
    got: dict[str, Any]


def replay(doc: Mapping[str, Any], registry: TaskRegistry) -> Iterator[Replayed]:
    """Give each recorded call to a fresh planner: no store, no clock, no thread."""
    if doc.get("format") != FORMAT:
        raise AssertionError(f"golden format {doc.get('format')!r}, expected {FORMAT}")
    defaults = [PluginDefault.model_validate(d) for d in doc["plugin_defaults"]]
    engine = ExpressionEngine()
    planners: dict[str, Planner] = {}
    for key, source in doc["flows"].items():
        planners[key] = Planner(FlowIndex(load_flow(source, registry, defaults=defaults)), engine)
    for recorded in doc["executions"]:
        planner = planners[recorded["flow"]]
        execution_id = recorded["id"]
        current: Execution | None = None
        for number, call in enumerate(recorded["calls"]):
            if "input" in call:
                execution = from_rows(call["input"])
            else:
                assert current is not None, f"{execution_id}: call {number} has no input"
                execution = evolve(current, version=call["version"])
            context = PlanContext(
                now=datetime.fromisoformat(call["now"]),
                seed=call["seed"],
                error_logs=call.get("error_logs", ()),
                envs=call.get("envs", {}),
                slots_taken=call.get("slots_taken"),
                kv=_replayed_kv(call.get("kv_reads", ())),
                flow_history=_replayed_history(call.get("history_reads", ())),
            )
            events = [load_event(execution_id, e) for e in call["events"]]
            # consume: as the executor calls it, the input given up to the planner.
            if call.get("start"):
                started = [e for e in events if isinstance(e, TaskStarted)]
                decision = planner.start(execution, started, context)
            else:
                decision = planner.plan(execution, events, context, consume=True)
            current = decision.execution
            yield Replayed(execution_id, number, call["output"], rows(current))


def replay_triggers(doc: Mapping[str, Any], registry: TaskRegistry) -> Iterator[Replayed]:
    """Give each recorded evaluation of Flow triggers to `evaluate_flow_triggers` alone,
    the stored trigger states it read (the streaks of ConsecutiveFailures and
    FlowRecovered, precondition windows) answered from the recording."""
    defaults = [PluginDefault.model_validate(d) for d in doc["plugin_defaults"]]
    engine = ExpressionEngine()
    flows = {
        key: load_flow(source, registry, defaults=defaults) for key, source in doc["flows"].items()
    }
    for number, call in enumerate(doc.get("triggers", ())):
        upstream = from_rows(call["upstream"])
        candidates = [
            TriggerCandidate(flows[key], revision) for key, revision in call["candidates"]
        ]
        lookup = _replayed_states(call["reads"])
        now = datetime.fromisoformat(call["now"])
        outcome = evaluate_flow_triggers(upstream, candidates, lookup, now, engine)
        yield Replayed(upstream.id, number, call["outcome"], _outcome(outcome))


def _replayed_states(reads: Sequence[Sequence[Any]]) -> Callable[[str, str, str], Any]:
    """The stored trigger states the recorded evaluation read; another is a replay error."""
    known = {(read[0], read[1], read[2]): read[3] for read in reads}

    def lookup(namespace: str, flow_id: str, trigger_id: str) -> Any:
        key = (namespace, flow_id, trigger_id)
        if key not in known:
            raise AssertionError(f"the replay reads the trigger state {key}, the recording did not")
        return known[key]

    return lookup


def path_of(name: str) -> Path:
    return GOLDEN / f"{name}.json"


def write(name: str, doc: Mapping[str, Any]) -> None:
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    path_of(name).write_text(text)


def main(argv: Sequence[str]) -> int:
    names = list(argv) or list(SCENARIOS)
    for name in names:
        if name not in SCENARIOS:
            print(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}", file=sys.stderr)
            return 2
    for name in names:
        doc = record(name)
        write(name, doc)
        calls = sum(len(e["calls"]) for e in doc["executions"])
        print(
            f"{path_of(name).relative_to(ROOT)}: {len(doc['executions'])} execution(s), {calls} call(s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
