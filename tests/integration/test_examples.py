"""Every example flow runs offline through `lanner run` and ends as expected; the
orders pipeline reads its CSV from a real file server on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_run_cli import env, run_json, sink  # noqa: F401 (fixtures)
from tests.support.cli import lanner
from tests.support.ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("run_all", ROOT / "examples" / "run_all.py")
assert _spec is not None and _spec.loader is not None
run_all = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_all)

FLOWS = sorted((ROOT / "examples" / "flows").glob("*.yml"))


def test_every_example_has_an_expected_state() -> None:
    assert {f.stem for f in FLOWS} == set(run_all.EXPECTED)


# Python script tasks share the virtual environments of the scripts' own tests.
VENVS = os.environ.get("LANNER_TEST_VENVS") or str(
    Path(tempfile.gettempdir()) / "lanner-test-venvs"
)


@pytest.fixture(scope="module")
def data_url() -> Iterator[str]:
    """examples/data/ served over HTTP on 127.0.0.1, as run_all.py serves it."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=ROOT / "examples" / "data",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize("flow", FLOWS, ids=[f.stem for f in FLOWS])
def test_example_ends_as_expected(
    flow: Path,
    env: dict[str, str],  # noqa: F811
    data_url: str,
) -> None:
    uses_data = flow.stem in ("orders_report", "working_directory")
    extra = ["--input", f"source={data_url}/orders.csv"] if uses_data else []
    _, execution = run_json(flow, {**env, "LANNER_VENVS": VENVS}, *extra)
    assert execution["state"]["current"] == run_all.EXPECTED[flow.stem]


def test_the_orders_pipeline_totals_the_csv_and_keeps_its_report(
    env: dict[str, str],  # noqa: F811
    data_url: str,
) -> None:
    env = {**env, "LANNER_VENVS": VENVS}
    flow = ROOT / "examples" / "flows" / "orders_report.yml"
    _, execution = run_json(flow, env, "--input", f"source={data_url}/orders.csv")
    assert execution["state"]["current"] == "SUCCESS"
    outputs = {r["taskId"]: r.get("outputs") or {} for r in execution["taskRunList"]}
    # The same totals as plain Python over the same CSV.
    totals: dict[str, float] = {}
    rows = (ROOT / "examples" / "data" / "orders.csv").read_text().splitlines()[1:]
    for row in rows:
        _, customer, amount, _ = row.split(",")
        totals[customer] = totals.get(customer, 0.0) + float(amount)
    assert outputs["totals"]["vars"] == {
        "orders": len(rows),
        "customers": len(totals),
        "top": max(totals, key=lambda c: totals[c]),
    }
    report_uri = outputs["totals"]["outputFiles"]["report.md"]
    report = lanner("executions", "files", execution["id"], "download", report_uri, env=env)
    assert report.returncode == 0, report.stderr
    lines = report.stdout.splitlines()
    assert lines[:2] == ["| customer | total |", "|---|---:|"]
    assert {line.split(" | ")[0].lstrip("| ") for line in lines[2:]} == set(totals)
