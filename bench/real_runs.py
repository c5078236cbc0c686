"""Do real Kestra flows that `lanner validate` accepts also RUN? (issue 9/11 follow-up)

    .venv/bin/python bench/real_runs.py valids=PATH blueprints=PATH [...] \
        [--timeout 60] [--jobs 2] [--only SUBSTRING] [--details] [--save FILE]

For each set (a folder of flows, as for bench/real_flows.py), the flows that
validate are first deployed to one temporary LANNER_HOME (so that a Subflow
or ForEachItem finds its child), then each is run with `lanner run FILE
--json` in its own process, with a timeout and no network beyond loopback.
Required inputs without a default get a simple value of their type. Each run
is put in one class, from its final state and its ERROR log lines:

- SUCCESS (WARNING counts as a success: the flow ran to its end);
- network: the flow reaches a host outside this machine (DNS, connect);
- service: it needs a service or tool this machine does not have (Docker,
  a database, a cloud API) — also refused connections on loopback;
- secret: it needs a secret or credential that is not set;
- needs trigger: it reads `trigger` (made to be started by a Flow, Webhook or
  S3 trigger), unset in a manual run, in Kestra as here;
- needs set-up: it calls flows the set does not hold, needs inputs or KV
  pairs its user provides;
- by design: it fails on purpose (a Fail task, an `exit 1`, Kestra's test
  flows for errors and retries), or pauses/waits for longer than the timeout;
- timeout: still running at the timeout, for any other reason;
- LANNER: anything else — a render error of an expression Kestra accepts, a
  crash, a task behaving differently from Kestra's documentation. These are
  the ones to read (`--details`).

The classes are decided from the message text (the patterns below); a class
is a hint for a reader, not a verdict. `--process-runner` runs script tasks
as local processes (the instance-level forced plugin default of
docs/tasks-scripts.md), as a user without Docker would.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lanner.errors import FlowValidationError, InputError
from lanner.model.validate import LoadedFlow, load_flow_files
from lanner.plugin import TaskRegistry

EXTEND_BLOCK = re.compile(r"(?ms)^extend:\n.*?(?=^[A-Za-z_]\w*:)")
LANNER = str(Path(sys.executable).with_name("lanner"))

# Checked in this order; the first that matches a run's error text decides.
CLASSES: list[tuple[str, re.Pattern[str]]] = [
    # Made to be started by a trigger (Flow, Webhook, S3...): `trigger` is unset in a manual run,
    # in Kestra as here.
    (
        "needs trigger",
        re.compile(r"Unable to find `trigger` used|used in the expression `[^`]*\btrigger\."),
    ),
    (
        "secret",
        re.compile(
            r"secret '[^']*' (?:is )?not (?:found|set)|SECRET_[A-Z0-9_]+ is not set|"
            r"Cannot find secret for key|"
            r"no secret|unknown secret|credentials?|api[ _-]?key|unauthori[sz]ed|"
            r"\b401\b|\b403\b|access denied|authentication|permission denied for",
            re.I,
        ),
    ),
    # Set-up a blueprint leaves to its user: the flows it calls, inputs, KV pairs.
    (
        "needs set-up",
        re.compile(
            r"cannot start subflow [^:]+: flow [^ ]+ not found|Invalid inputs|"
            r"kv\(\): the key '[^']+' does not exist"
        ),
    ),
    # A missing tool or engine first: their messages also say how to install them.
    ("service", re.compile(r"is not on PATH|needs a Docker engine", re.I)),
    (
        "network",
        re.compile(
            r"name or service not known|temporary failure in name resolution|"
            r"nodename nor servname|getaddrinfo|could not resolve|network is unreachable|"
            r"no address associated|failed to resolve|dns|"
            r"(?:ConnectError|ConnectTimeout|connection (?:error|timed out)).*"
            r"(?!127\.0\.0\.1|localhost)|pip install|No matching distribution|"
            r"Could not find a version|HTTPSConnection|ProxyError|"
            r"npm (?:ERR|error)|uv pip|unable to access 'https?://|"
            r"Failed to download extension",
            re.I,
        ),
    ),
    (
        "service",
        re.compile(
            r"docker|connection refused|could not connect|Errno 111|"
            r"no such host|command not found|No such file or directory: '(?!/tmp)|"
            r"not installed|ModuleNotFoundError|No module named|"
            r"is not supported here|server (?:closed|unavailable)|"
            r"kubernetes|OperationalError|is not on PATH|a server started\?",
            re.I,
        ),
    ),
    (
        "by design",
        re.compile(
            r"io\.kestra\.plugin\.core\.execution\.Fail|exit code [1-9]|exited with|"
            r"Fail task|failed on purpose|this (?:task|flow) (?:will )?fails?|"
            r"\bFAIL\b",
            re.I,
        ),
    ),
]


# Flows that fail in Kestra too when run alone with no set-up (read in Kestra's
# sources and tests): Kestra's own test flows for failures, and flows made to be
# started by another (a parent passing a file URI, a test passing given inputs).
ALONE_THEY_FAIL = {
    "all-flowable.yaml": "taskrun.value is set only inside loops, not in Switch cases",
    "disable-flowable.yaml": "taskrun.value is set only inside loops, not in Switch cases",
    "each-null.yaml": "ForEach refuses null values",
    "each-parallel-subflow-notfound.yml": "calls a flow that does not exist",
    "empty-variables.yml": "its test gives inputs that carry the keys it reads",
    "failed-first.yaml": "renders an undefined variable",
    "flow-with-outputs-failed.yml": "its outputs render an undefined variable",
    "for-each-item-failed.yaml": "its subflow fails",
    "for-each-item-outputs-subflow.yaml": "a ForEachItem subflow: a parent gives it a batch URI",
    "inputs.yaml": "reads an optional input left unset (absent, SPEC 1.3)",
    "kv.yaml": "its test sets the KV pair first",
    "pause-timeout.yaml": "a Pause that times out",
    "restart_last_failed.yaml": "fails its first attempt, for a restart",
    "restart_pause_last_failed.yaml": "fails its first attempt, for a restart",
    "resume-execution.yaml": "resumes an execution given as input",
    "retry-subflow.yaml": "its subflow fails, for retries",
    "sla-max-duration-fail.yaml": "an SLA made to be missed",
    "switch-impossible.yaml": "a Switch whose value renders nothing valid",
    "task-runif.yml": "a runIf on an undefined output",
    "variables-invalid.yaml": "renders an undefined input",
    "variables.yaml": "reads envs and globals the test configures",
    "waitfor-max-duration.yaml": "a WaitFor made to hit maxDuration",
    "waitfor-max-iterations.yaml": "a WaitFor made to hit maxIterations",
    "produce-to-rabbitmq.yaml": "a ForEachItem subflow: a parent gives it a batch URI",
    "trigger-subflow.yaml": "calls a flow (my_subflow) the blueprint does not include",
    "ansible-config-drift.yaml": "an inline file holds {{ ansible_user }}, rendered by Kestra too",
}


PROCESS_RUNNER = """pluginDefaults:
  - type: io.kestra.plugin.scripts
    forced: true
    values:
      taskRunner:
        type: io.kestra.plugin.core.runner.Process
"""


@dataclass
class Result:
    set_name: str
    file: str
    flow: str
    outcome: str
    state: str = ""
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def sample_input(decl: Any, tmp: Path) -> str | None:
    """A value for a required input without a default, as `--input` text."""
    kind = str(decl.type)
    if decl.prefill is not None:  # what Kestra's execution form fills in
        return decl.prefill if isinstance(decl.prefill, str) else json.dumps(decl.prefill)
    values = getattr(decl, "values", None) or getattr(decl, "options", None)
    if values:
        first = values[0]
        text = str(getattr(first, "value", first))
        return json.dumps([text]) if kind == "MULTISELECT" else text
    now = datetime.now(UTC)
    simple = {
        "STRING": "test",
        "SECRET": "test",
        "INT": "1",
        "FLOAT": "1.0",
        "BOOLEAN": "true",
        "BOOL": "true",
        "DATETIME": now.isoformat().replace("+00:00", "Z"),
        "DATE": now.date().isoformat(),
        "TIME": "12:00:00",
        "DURATION": "PT1S",
        "JSON": "{}",
        "YAML": "{}",
        "URI": "http://127.0.0.1:9/",
        "EMAIL": "someone@example.com",
        "ARRAY": "[]",
    }
    if kind == "FILE":
        path = tmp / f"input-{decl.id}.txt"
        path.write_text("a,b\n1,2\n")
        return str(path)
    return simple.get(kind)


def classify(file: str, state: str, text: str, timed_out: bool, flow_text: str) -> str:
    if timed_out:
        if re.search(r"core\.flow\.(?:Pause|WaitFor|LoopUntil)|RealtimeTrigger", flow_text):
            return "by design"
        return "timeout"
    if state in ("SUCCESS", "WARNING"):
        return "SUCCESS"
    if file in ALONE_THEY_FAIL:
        return "by design"
    for name, pattern in CLASSES:
        if pattern.search(text):
            return name
    if state == "KILLED" or "core.execution.Fail" in flow_text:
        return "by design"
    return "LANNER"


def error_lines(home: Path, execution_id: str) -> list[str]:
    from lanner.store import default_db_url, open_store

    store = open_store(default_db_url(home))
    try:
        records = [r for r in store.get_logs(execution_id) if r.level in ("ERROR", "WARN")]
        # A task's ERROR lines first: they say why the execution failed.
        records.sort(key=lambda r: (r.level != "ERROR", r.task_id is None))
        return [f"{r.task_id or '-'}: {r.message}" for r in records]
    finally:
        store.close()


def run_one(
    set_name: str, path: Path, loaded: LoadedFlow, home: Path, tmp: Path, timeout: float
) -> Result:
    flow = loaded.flow
    name = f"{flow.namespace}.{flow.id}"
    args = [LANNER, "run", str(path), "--json", "--flow", name]
    invented: list[str] = []
    for decl in flow.inputs or ():
        if decl.defaults is None and (decl.required or decl.prefill is not None):
            value = sample_input(decl, tmp)
            if value is not None:
                args += ["--input", f"{decl.id}={value}"]
                if decl.prefill is None:
                    invented.append(value)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_", "LANNER_"))}
    env["LANNER_HOME"] = str(home)
    started = time.monotonic()
    try:
        done = subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=timeout, cwd=tmp
        )
    except subprocess.TimeoutExpired:
        seconds = time.monotonic() - started
        return Result(
            set_name,
            path.name,
            name,
            classify(path.name, "", "", True, loaded.source),
            "RUNNING",
            seconds,
            ["timeout"],
        )
    seconds = time.monotonic() - started
    try:
        execution = json.loads(done.stdout)
    except ValueError:
        text = done.stderr.strip() or done.stdout.strip()
        errors = [line for line in text.splitlines() if line.strip()][-3:]
        outcome = classify(path.name, "", text, False, loaded.source)
        return Result(set_name, path.name, name, outcome, "NO EXECUTION", seconds, errors)
    state = execution["state"]["current"]
    errors = error_lines(home, execution["id"]) if state not in ("SUCCESS",) else []
    text = "\n".join(errors)
    if state == "FAILED" and any(f"'{v}'" in text for v in invented):
        # A value made up here for an input its user gives (a feed URL, a name).
        return Result(set_name, path.name, name, "needs set-up", state, seconds, errors)
    return Result(
        set_name,
        path.name,
        name,
        classify(path.name, state, text, False, loaded.source),
        state,
        seconds,
        errors,
    )


def run_set(
    name: str, folder: Path, registry: TaskRegistry, work: Path, args: argparse.Namespace
) -> list[Result]:
    home = work / name / "home"
    flows_dir = work / name / "flows"
    flows_dir.mkdir(parents=True)
    jobs: list[tuple[Path, LoadedFlow]] = []
    for path in sorted(folder.glob("*.y*ml")):
        copy = flows_dir / path.name
        copy.write_text(EXTEND_BLOCK.sub("", path.read_text()))
        try:
            loaded = load_flow_files(copy, registry, [])
        except (FlowValidationError, InputError):
            continue
        jobs += [(copy, one) for one in loaded]
    if args.process_runner:
        # docs/tasks-scripts.md's recipe for a machine without Docker.
        home.mkdir(parents=True)
        (home / "config.yml").write_text(PROCESS_RUNNER)
    # Deploy all of them first: a parent finds its subflows whatever the order.
    env = dict(os.environ, LANNER_HOME=str(home))
    subprocess.run(
        [LANNER, "flows", "deploy", *sorted({str(p) for p, _ in jobs})],
        env=env,
        capture_output=True,
        check=False,
    )
    if args.only:
        jobs = [(p, f) for p, f in jobs if args.only in p.name]

    def one(job: tuple[Path, LoadedFlow]) -> Result:
        path, loaded = job
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            result = run_one(name, path, loaded, home, Path(tmp), args.timeout)
        if args.progress:
            print(f"  {result.outcome:<9} {name}/{path.name} {result.state}", file=sys.stderr)
        return result

    with ThreadPoolExecutor(args.jobs) as pool:
        return list(pool.map(one, jobs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", metavar="NAME=PATH")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time")
    parser.add_argument(
        "--process-runner",
        action="store_true",
        help="force the Process task runner on every script task (no Docker here)",
    )
    parser.add_argument("--only", help="only the files whose name holds this text")
    parser.add_argument("--details", action="store_true", help="print each non-success")
    parser.add_argument("--progress", action="store_true", help="print each run as it ends")
    parser.add_argument("--save", type=Path, help="write every result as JSON to this file")
    args = parser.parse_args()
    registry = TaskRegistry.from_entry_points()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as work:
        for spec in args.sets:
            name, _, folder = spec.partition("=")
            results += run_set(name, Path(folder), registry, Path(work), args)
    order = [
        "SUCCESS",
        "network",
        "service",
        "secret",
        "needs trigger",
        "needs set-up",
        "by design",
        "timeout",
        "LANNER",
    ]
    for set_name in dict.fromkeys(r.set_name for r in results):
        counts = Counter(r.outcome for r in results if r.set_name == set_name)
        total = sum(counts.values())
        line = ", ".join(f"{k} {counts[k]}" for k in order if counts[k])
        print(f"{set_name}: {total} valid flows run: {line}")
    counts = Counter(r.outcome for r in results)
    print(f"all: {len(results)} run: " + ", ".join(f"{k} {counts[k]}" for k in order if counts[k]))
    if args.details:
        for r in results:
            if r.outcome != "SUCCESS":
                first = " ".join(r.errors[0].split())[:300] if r.errors else ""
                print(f"  {r.outcome:<9} {r.set_name}/{r.file} [{r.state}] {first}")
    if args.save:
        args.save.write_text(json.dumps([r.__dict__ for r in results], indent=1))


if __name__ == "__main__":
    main()
