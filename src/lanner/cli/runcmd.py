"""`lanner run FLOW.yml`: the same runtime as the server, in one process."""

from __future__ import annotations

import functools
import gc
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lanner import cli
from lanner.cli.exitcodes import EXECUTION_FAILED, INTERRUPTED, OK
from lanner.cli.interrupts import RunSignals
from lanner.config import lanner_home, load_config
from lanner.engine.events import Decision
from lanner.engine.execution import Execution
from lanner.expr import taint
from lanner.logs import configure_plain
from lanner.model.flow import Flow
from lanner.model.states import State
from lanner.model.validate import load_flow_file
from lanner.plugin import TaskRegistry
from lanner.runtime.process import Process
from lanner.store import SQLiteStore, default_db_url, open_store
from lanner.store.base import LogRecord, Store

_FAILED = {State.FAILED, State.KILLED, State.CANCELLED}


class _Progress:
    """Each task run as it starts and ends, with its state and duration."""

    def __init__(self) -> None:
        self._seen: dict[str, State] = {}
        self._lock = threading.Lock()

    def __call__(self, execution: Execution, decision: Decision) -> None:
        with self._lock:
            for run in sorted(
                (execution.task_runs[i] for i in decision.changed if i in execution.task_runs),
                key=lambda r: r.seq,
            ):
                before = self._seen.get(run.id)
                if before is run.state:
                    continue
                self._seen[run.id] = run.state
                value = taint.mask(run.value) if run.value is not None else None
                label = run.task_id + (f"[{value}]" if value is not None else "")
                if run.state.terminated:
                    seconds = (run.histories[-1].date - run.histories[0].date).total_seconds()
                    print(
                        f"  {_mark(run.state)} {label:<32} {run.state.value:<9} {seconds * 1000:8.1f} ms",
                        flush=True,
                    )
                elif before in (None, State.CREATED) and run.state in (
                    State.SUBMITTED,
                    State.RUNNING,
                ):
                    print(f"  ▶ {label:<32} started", flush=True)


class _ScriptOutput:
    """The output lines of script tasks as they come, each prefixed by its task id."""

    _PREFIX = "io.kestra.plugin.scripts."

    def __init__(self, flow: Flow) -> None:
        self._ids = {t.id for t in flow.all_tasks() if t.type.startswith(self._PREFIX)}
        self._width = max((len(i) for i in self._ids), default=0)

    def __bool__(self) -> bool:
        return bool(self._ids)

    def __call__(self, record: LogRecord) -> None:
        if record.task_id in self._ids:
            print(f"    {record.task_id:>{self._width}} │ {record.message}", flush=True)


def _mark(state: State) -> str:
    return {State.SUCCESS: "✔", State.WARNING: "!", State.SKIPPED: "·"}.get(state, "✘")


def _follow_retries(
    runtime: Process, store: Store, final: Execution, signals: RunSignals, live: bool
) -> Execution:
    """A RETRIED execution handed its failure to the next of its chain (a retry with
    behavior CREATE_NEW_EXECUTION): `lanner run` waits for the chain's last one."""
    from lanner.engine.newexecutionretry import next_id

    while final.state is State.RETRIED:
        next_execution = next_id(final.id, final.attempt_number)
        if store.get_execution(next_execution) is None:
            break  # it could not be created: the RETRIED execution's logs say why
        signals.running(functools.partial(runtime.kill, next_execution))
        if live:
            print(f"Execution {final.id} RETRIED: the next is {next_execution}", flush=True)
        final = runtime.wait_finalized(next_execution)
    return final


def run_flow(
    flow_file: Path,
    inputs: Mapping[str, str],
    *,
    json_output: bool,
    db: str | None,
    config: Path | None,
    flow_id: str | None = None,
) -> int:
    # Ctrl-C and SIGTERM, from here to the exit (lanner.cli.interrupts): before
    # the execution exists they interrupt; then they kill it.
    signals = RunSignals()
    signals.install()
    with signals.starting():
        cfg = load_config(config)
        registry = TaskRegistry.from_entry_points()
        flow, source = load_flow_file(flow_file, registry, cfg.pluginDefaults, flow_id=flow_id)
        # Inputs are checked before anything is stored: bad inputs create nothing.
        from datetime import UTC, datetime

        from lanner.config import open_storage
        from lanner.engine.inputrender import input_renderer
        from lanner.model.inputvalues import parse_inputs
        from lanner.storage.inputfiles import InputFiles

        now = datetime.now(UTC)
        url = db or default_db_url(lanner_home())
        # The store opens here only for a declaration that reads kv() (a SELECT's values).
        opened: list[Store] = []

        def kv(namespace: str, key: str) -> Any:
            if not opened:
                opened.append(open_store(url))
            entry = opened[0].kv_get(namespace, key, now)
            return None if entry is None else entry.value

        render = input_renderer(flow.namespace, flow.id, flow.revision, now, kv=kv)
        storage = open_storage(cfg)
        check_files = InputFiles(storage, flow.namespace, flow.id, None)
        parse_inputs(flow.inputs or (), inputs, from_strings=True, render=render, files=check_files)
        store = opened[0] if opened else open_store(url)
        configure_plain()  # the runtime's warnings, as `lanner worker: ...` lines
        runtime = Process(store, registry, cfg, alone=True, storage=storage)
        if flow.triggers:
            names = ", ".join(t.id for t in flow.triggers)
            print(
                f"lanner run ignores the flow's triggers ({names}); deploy the flow to a server to use them.",
                file=sys.stderr,
            )
        revision, _ = store.deploy_flow(flow.namespace, flow.id, source)
    live = sys.stdout.isatty() and not json_output
    if live:
        runtime.executor.listeners.append(_Progress())
        scripts = _ScriptOutput(flow)
        if scripts:
            runtime.workers.on_log = scripts
    try:
        with signals.starting():
            runtime.start()
        if cli.gc_paused:  # paused by lanner.cli.launch for the start-up
            cli.gc_paused.clear()
            gc.enable()
        with signals.held():
            execution = runtime.create_execution(flow, revision, inputs)
            execution_id = execution.id
            signals.running(lambda: runtime.kill(execution_id))
        if live:
            print(
                f"Execution {execution.id} of {flow.namespace}.{flow.id} (revision {revision})",
                flush=True,
            )
        final = runtime.wait_finalized(execution.id)
        final = _follow_retries(runtime, store, final, signals, live)
        signals.ended()
        final = store.get_execution(final.id) or final
    finally:
        runtime.stop()
    if json_output:
        import json

        from lanner.cli.views import display_masker, execution_json

        sys.stdout.write(
            json.dumps(execution_json(final, display_masker(final, runtime.masker)), indent=2)
            + "\n"
        )
    else:
        print(f"Execution {final.id} ended {final.state.value} ({len(final.task_runs)} task runs)")
    # The process leaves with os._exit (cli/launch.py), which skips the checkpoint of
    # closing the store: a long WAL would be read again by every later process.
    if isinstance(store, SQLiteStore):
        store.checkpoint_long_wal()
    if signals.received:
        return INTERRUPTED
    return EXECUTION_FAILED if final.state in _FAILED else OK
