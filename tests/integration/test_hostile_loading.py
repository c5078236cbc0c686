"""Hostile flow files and inputs through the real `lanner` command: each is
refused with exit code 2 and a message that names the place, without a
traceback, without hanging and without growing past 300 MB (docs/limits.md)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

LANNER = str(Path(sys.executable).parent / "lanner")
MAX_RSS_KB = 300 * 1024
DEADLINE = 120.0  # a loaded 2-core machine; a hang is what this catches, not slowness

LOG = "io.kestra.plugin.core.log.Log"
HEAD = "id: hostile\nnamespace: company.team\n"
TASK = f"tasks:\n  - id: a\n    type: {LOG}\n    message: hi\n"


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    max_rss_kb: int


# Linux carries a parent's peak RSS into a child it forks and that child's exec
# (the old mm's high-water mark is kept in the process's rusage), so a `lanner`
# started straight from pytest would report pytest's own peak. A small launcher
# process starts it instead and writes the `lanner` process's own peak to a file.
_LAUNCHER = """
import os, subprocess, sys
report, command = sys.argv[1], sys.argv[2:]
child = subprocess.Popen(command)
_, status, usage = os.wait4(child.pid, 0)
with open(report, "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_bounded(args: list[str], env: dict[str, str], tmp_path: Path) -> Outcome:
    """Run `lanner` and measure that one process's peak RSS, through a launcher (above)."""
    out, err, report = tmp_path / "stdout", tmp_path / "stderr", tmp_path / "maxrss"
    report.unlink(missing_ok=True)
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(report), LANNER, *args],
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,  # a kill at the deadline takes `lanner` too
        )
    try:
        proc.wait(DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        pytest.fail(f"lanner {' '.join(args)[:200]} still running after {DEADLINE} s")
    return Outcome(
        proc.returncode,
        out.read_text(errors="replace"),
        err.read_text(errors="replace"),
        int(report.read_text()),
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LANNER_")}
    return {**clean, "LANNER_HOME": str(tmp_path / "home")}


def laughs() -> str:
    lines = ['  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        lines.append(f"  l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    lines = [HEAD.rstrip(), "tasks:"]
    indent = ""
    for i in range(depth):
        lines += [f"{indent}- id: s{i}", f"{indent}  type: io.kestra.plugin.core.flow.Sequential"]
        lines.append(f"{indent}  tasks:")
        indent += "  "
    lines += [f"{indent}- id: leaf", f"{indent}  type: {LOG}", f"{indent}  message: hi"]
    return "\n".join(lines) + "\n"


def huge_flow() -> str:
    """About 20 MB and 233,000 tasks."""
    task = f"  - id: t{{}}\n    type: {LOG}\n    message: some message for this task\n"
    return HEAD + "tasks:\n" + "".join(task.format(i) for i in range(233_000))


def many_tasks() -> str:
    """Under the size limit, over the task limit."""
    return (
        HEAD
        + "tasks:\n"
        + "".join(f"  - {{id: t{i}, type: {LOG}, message: m}}\n" for i in range(6000))
    )


# name -> (flow text, or a special path maker, the line the message must name)
FLOWS: dict[str, tuple[Callable[[], str], int | None, str]] = {
    "billion laughs": (lambda: HEAD + "variables:\n" + laughs() + TASK, None, "aliases"),
    "recursive alias": (lambda: HEAD + "variables:\n  a: &a [1, *a]\n" + TASK, 4, "holds it"),
    "sequential 450 deep": (lambda: nested(450), None, "levels deep"),
    "flow-style nesting": (
        lambda: HEAD + "variables:\n  x: " + "[" * 5000 + "]" * 5000 + "\n" + TASK,
        4,
        "",
    ),
    "giant timeout": (lambda: HEAD + TASK + "    timeout: PT99999999999999999999S\n", 7, "P36500D"),
    "giant sleep": (
        lambda: (
            HEAD
            + "tasks:\n  - id: s\n    type: io.kestra.plugin.core.flow.Sleep\n"
            + "    duration: P999999999999D\n"
        ),
        6,
        "P36500D",
    ),
    "giant retry maxInterval": (
        lambda: (
            HEAD
            + TASK
            + "    retry:\n      type: exponential\n      interval: PT1S\n"
            + "      maxInterval: PT99999999999999999999999S\n"
        ),
        10,
        "P36500D",
    ),
    "unclosed quote": (
        lambda: HEAD + f'tasks:\n  - id: a\n    type: {LOG}\n    message: "hi\n' + "\n" * 20,
        6,
        "quoted scalar",
    ),
    "broken template": (
        lambda: HEAD + TASK.replace("hi", "'{{ outputs.x. }}'"),
        6,
        "invalid expression",
    ),
    "6000 tasks": (many_tasks, None, "more than the 5000"),
}


@pytest.mark.parametrize("name", list(FLOWS))
def test_hostile_flow_is_refused_with_its_place(
    name: str, tmp_path: Path, env: dict[str, str]
) -> None:
    make, line, fragment = FLOWS[name]
    path = tmp_path / "hostile.yml"
    path.write_text(make(), encoding="utf-8")
    for command in (["validate"], ["run"], ["flows", "deploy"]):
        outcome = run_bounded([*command, str(path)], env, tmp_path)
        assert outcome.code == 2, (command, outcome.stderr[-2000:])
        assert "Traceback" not in outcome.stderr
        assert "internal error" not in outcome.stderr
        located = re.search(rf"{re.escape(str(path))}:(\d+):\d+: ", outcome.stderr)
        assert located, outcome.stderr[-2000:]
        if line is not None:
            assert int(located.group(1)) == line, outcome.stderr
        assert fragment in outcome.stderr
        assert outcome.max_rss_kb < MAX_RSS_KB, f"{command}: {outcome.max_rss_kb} KB"
    assert not (tmp_path / "home" / "lanner.db").exists()


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo", "directory", "20 MB flow"])
def test_hostile_flow_path_is_refused(kind: str, tmp_path: Path, env: dict[str, str]) -> None:
    if kind == "fifo":
        path = tmp_path / "flow.yml"
        os.mkfifo(path)
    elif kind == "directory":
        path = tmp_path / "flow.yml"
        path.mkdir()
    elif kind == "20 MB flow":
        path = tmp_path / "flow.yml"
        path.write_text(huge_flow(), encoding="utf-8")
        assert path.stat().st_size > 15_000_000
    else:
        path = Path(kind)
    for command in (["validate"], ["run"], ["flows", "deploy"]):
        outcome = run_bounded([*command, str(path)], env, tmp_path)
        assert outcome.code == 2, (command, outcome.stderr)
        first = outcome.stderr.splitlines()[0]
        if kind == "directory" and command[0] == "flows":
            # `flows deploy` takes folders: one without flow files is the error.
            assert "no .yml or .yaml flow file found" in first
            continue
        assert first.removeprefix("lanner: ").startswith(f"{path}: "), outcome.stderr
        assert "Traceback" not in outcome.stderr
        assert outcome.max_rss_kb < MAX_RSS_KB, f"{command}: {outcome.max_rss_kb} KB"
    assert not (tmp_path / "home" / "lanner.db").exists()


def test_largest_accepted_flow_stays_small(tmp_path: Path, env: dict[str, str]) -> None:
    """5000 tasks, the most a flow may have, validate well under the memory budget."""
    path = tmp_path / "big.yml"
    tasks = "".join(f"  - {{id: t{i}, type: {LOG}, message: m}}\n" for i in range(5000))
    path.write_text(HEAD + "tasks:\n" + tasks, encoding="utf-8")
    outcome = run_bounded(["validate", str(path)], env, tmp_path)
    assert outcome.code == 0, outcome.stderr
    assert outcome.max_rss_kb < MAX_RSS_KB


INPUT_FLOW = (
    HEAD
    + "inputs:\n  - id: data\n    type: JSON\n  - id: doc\n    type: YAML\n    required: false\n"
    + f"tasks:\n  - id: a\n    type: {LOG}\n    message: '{{{{ inputs.data }}}}'\n"
)


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        (["data=NaN"], "input 'data': NaN is not a JSON value"),
        (["data=[1, Infinity]"], "input 'data': Infinity is not a JSON value"),
        (["data=" + "[" * 30_000 + "]" * 30_000], "input 'data': JSON nested more than 100"),
        (["data={}", "doc=" + "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + laughs()], "input 'doc'"),
        (["data={}", "doc=&a [1, *a]"], "input 'doc': expected YAML text: alias *a"),
    ],
    ids=["NaN", "Infinity", "deep JSON", "YAML bomb", "recursive YAML"],
)
def test_hostile_inputs_are_refused_and_create_no_store(
    inputs: list[str], fragment: str, tmp_path: Path, env: dict[str, str]
) -> None:
    path = tmp_path / "inputs.yml"
    path.write_text(INPUT_FLOW, encoding="utf-8")
    args = ["run", str(path)]
    for pair in inputs:
        args += ["--input", pair]
    outcome = run_bounded(args, env, tmp_path)
    assert outcome.code == 2, outcome.stderr
    assert fragment in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert outcome.max_rss_kb < MAX_RSS_KB
    assert not (tmp_path / "home" / "lanner.db").exists()


# --- several flows in one file ----------------------------------------------------------------

TWO = (
    HEAD
    + TASK
    + "---\n"
    + "id: second\nnamespace: company.team\n"
    + "extend:\n  title: A Kestra blueprint\n  tags: [Getting Started]\n"
    + f"tasks:\n  - id: 1\n    type: {LOG}\n    message: second\n"
)


def test_several_flows_validate_deploy_and_run_one(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "two.yml"
    path.write_text(TWO, encoding="utf-8")
    outcome = run_bounded(["validate", str(path)], env, tmp_path)
    assert outcome.code == 0, outcome.stderr
    assert f"{path}:1: valid flow company.team.hostile (1 tasks)" in outcome.stdout
    assert f"{path}:7: valid flow company.team.second (1 tasks)" in outcome.stdout

    outcome = run_bounded(["run", str(path)], env, tmp_path)
    assert outcome.code == 2
    assert "holds 2 flows" in outcome.stderr and "--flow ID" in outcome.stderr
    assert not (tmp_path / "home" / "lanner.db").exists()

    outcome = run_bounded(["run", str(path), "--flow", "second", "--json"], env, tmp_path)
    assert outcome.code == 0, outcome.stderr
    execution = json.loads(outcome.stdout)
    assert execution["flowId"] == "second"
    assert [r["taskId"] for r in execution["taskRunList"]] == ["1"]

    outcome = run_bounded(["flows", "deploy", str(path)], env, tmp_path)
    assert outcome.code == 0, outcome.stderr
    outcome = run_bounded(["flows", "show", "company.team", "second"], env, tmp_path)
    assert outcome.stdout.startswith("---\nid: second\n")
    assert "id: hostile" not in outcome.stdout


def test_errors_of_several_flows_name_the_file_line_and_task(
    tmp_path: Path, env: dict[str, str]
) -> None:
    path = tmp_path / "two.yml"
    path.write_text(TWO.replace("message: second", "mesage: second"), encoding="utf-8")
    for command in (["validate"], ["flows", "deploy"]):
        outcome = run_bounded([*command, str(path)], env, tmp_path)
        assert outcome.code == 2
        assert f"{path}:16:5: tasks[0].mesage: task '1'" in outcome.stderr, outcome.stderr


def test_rendered_durations_out_of_range_fail_their_task_run(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """A duration known only after rendering: the task run FAILS naming the limit,
    the execution goes on (no executor error, no exit 3)."""
    path = tmp_path / "rendered.yml"
    path.write_text(
        HEAD
        + "tasks:\n"
        + "  - id: sleep\n    type: io.kestra.plugin.core.flow.Sleep\n"
        + "    duration: \"{{ 'P999999999999D' }}\"\n    allowFailure: true\n"
        + f"  - id: log\n    type: {LOG}\n    message: hi\n"
        + "    timeout: \"{{ 'PT99999999999999999999S' }}\"\n    allowFailure: true\n"
        + f"  - id: after\n    type: {LOG}\n    message: still running\n",
        encoding="utf-8",
    )
    outcome = run_bounded(["run", str(path), "--json"], env, tmp_path)
    assert outcome.code == 0, outcome.stderr
    execution = json.loads(outcome.stdout)
    states = {r["taskId"]: r["state"]["current"] for r in execution["taskRunList"]}
    assert states == {"sleep": "WARNING", "log": "WARNING", "after": "SUCCESS"}
    logs = run_bounded(["logs", execution["id"]], env, tmp_path).stdout
    assert "sleep: " in logs and "longest duration allowed, P36500D" in logs
    assert "log: timeout: 'PT99999999999999999999S' is longer than" in logs
