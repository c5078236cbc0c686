"""The short way of `lanner run` (lanner.cli.launch): which command lines it takes,
and that it reads them as the full CLI (typer) would."""

from __future__ import annotations

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
