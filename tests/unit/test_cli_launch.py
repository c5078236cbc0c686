"""The short way of `lanner run` (lanner.cli.launch): which command lines it takes,
and that it reads them as the full CLI (typer) would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lanner.cli.runargs import RunArgs, parse_input_pairs, parse_run
from lanner.errors import InputValueError


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LANNER_DB", raising=False)
    monkeypatch.delenv("LANNER_CONFIG", raising=False)


def test_a_plain_run() -> None:
    assert parse_run(["run", "flow.yml"]) == RunArgs(Path("flow.yml"))


def test_every_option_in_both_spellings() -> None:
    args = parse_run(
        [
            "run",
            "--input",
            "a=1",
            "flow.yml",
            "-i",
            "b=2",
            "--input=c=3",
            "--json",
            "--db=sqlite:///x.db",
            "--config",
            "c.yml",
            "--debug",
        ]
    )
    assert args == RunArgs(
        Path("flow.yml"), ["a=1", "b=2", "c=3"], True, "sqlite:///x.db", Path("c.yml"), True
    )


def test_flow_option_in_both_spellings() -> None:
    for argv in (["run", "f.yml", "--flow", "second"], ["run", "--flow=second", "f.yml"]):
        args = parse_run(argv)
        assert args is not None and args.flow_id == "second"
    assert parse_run(["run", "f.yml", "--flow"]) is None  # typer says what is missing


def test_the_last_of_a_repeated_option_wins() -> None:
    args = parse_run(["run", "f.yml", "--db", "one", "--db", "two"])
    assert args is not None and args.db == "two"


def test_environment_variables_fill_unset_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANNER_DB", "sqlite:///env.db")
    monkeypatch.setenv("LANNER_CONFIG", "")  # empty: unset, as for click
    args = parse_run(["run", "f.yml"])
    assert args is not None and args.db == "sqlite:///env.db" and args.config is None
    args = parse_run(["run", "f.yml", "--db", "sqlite:///opt.db"])
    assert args is not None and args.db == "sqlite:///opt.db"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["validate", "f.yml"],
        ["run"],
        ["run", "--help"],
        ["run", "f.yml", "-h"],
        ["run", "a.yml", "b.yml"],
        ["run", "f.yml", "--unknown"],
        ["run", "f.yml", "--input"],
        ["run", "f.yml", "--db", "--json"],
        ["run", "f.yml", "-ia=1"],
        ["run", "f.yml", "--json=yes"],
        ["run", "-"],
        ["run", "--", "f.yml"],
    ],
)
def test_anything_else_goes_to_the_full_cli(argv: list[str]) -> None:
    assert parse_run(argv) is None


def test_input_pairs() -> None:
    assert parse_input_pairs(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(InputValueError, match="expected NAME=VALUE"):
        parse_input_pairs(["novalue"])
    with pytest.raises(InputValueError):
        parse_input_pairs(["=1"])


GC_PROBE = """
import gc
import os
import sys

seen = []
exit_ = os._exit


def leave(code):
    print(seen, gc.isenabled(), code, flush=True)
    exit_(code)


os._exit = leave
import lanner.runtime.process as process

start = process.Process.start


def recording(self):
    seen.append(gc.isenabled())  # as the runtime starts
    start(self)


process.Process.start = recording
sys.argv = ["lanner", "run", sys.argv[1]]
from lanner.cli.launch import main

main()
"""


def test_run_pauses_the_collector_for_its_start_up_only(tmp_path: Path) -> None:
    """`lanner run` starts with the cyclic collector off (docs/performance.md) and turns
    it on again once the runtime has started: a long run collects as usual."""
    flow = tmp_path / "one.yml"
    flow.write_text(
        "id: one\nnamespace: demo\ntasks:\n"
        "  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
    )
    env = {**os.environ, "LANNER_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", GC_PROBE, str(flow)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.stdout.strip().splitlines()[-1] == "[False] True 0", done.stderr
